#!/usr/bin/env python3
"""Times 200-byte appends + fsync on the filesystem of FILE (bench/engine.sh).

  fsync_probe.py rate FILE OUT.json   fsync after fsync for 3 s; adds the rate and one
                                      fsync's p50/p99 to OUT's samples (fsyncs_per_s is
                                      their mean)
  fsync_probe.py probe FILE OUT.json  one fsync every 20 ms until SIGTERM, beside a
                                      running step; writes their count, p50, p99, max
                                      and how many took over 10 ms
"""
import json
import os
import signal
import sys
import time

APPEND = b"x" * 200


def timed_fsyncs(path, until, pause=0.0):
    """Latencies (ms) of append + fsync on path while until() is false."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    lat = []
    try:
        while not until():
            t = time.perf_counter()
            os.write(fd, APPEND)
            os.fsync(fd)
            lat.append((time.perf_counter() - t) * 1000)
            if pause:
                time.sleep(pause)
    finally:
        os.close(fd)
        os.unlink(path)
    return sorted(lat) or [0.0]


def pct(lat, q):
    return lat[min(len(lat) - 1, int(len(lat) * q))]


def rate(path, out):
    t0 = time.monotonic()
    lat = timed_fsyncs(path, lambda: time.monotonic() - t0 >= 3)
    r = len(lat) / (time.monotonic() - t0)
    try:
        fj = json.load(open(out))
    except (OSError, ValueError):
        fj = {}
    samples = fj.get("samples", []) + [r]
    json.dump({"fsyncs_per_s": sum(samples) / len(samples), "samples": samples, "append_bytes": len(APPEND),
               "p50_ms": fj.get("p50_ms", []) + [pct(lat, 0.5)], "p99_ms": fj.get("p99_ms", []) + [pct(lat, 0.99)]},
              open(out, "w"))
    print(f"    fsync rate: {r:.0f}/s (mean of {len(samples)}: {sum(samples) / len(samples):.0f}/s);"
          f" one fsync p50 {pct(lat, 0.5):.2f} ms, p99 {pct(lat, 0.99):.2f} ms")


def probe(path, out):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    lat = timed_fsyncs(path, lambda: bool(stop), pause=0.02)
    json.dump({"fsyncs": len(lat), "p50_ms": pct(lat, 0.5), "p99_ms": pct(lat, 0.99), "max_ms": lat[-1],
               "over_10ms": sum(x > 10 for x in lat)}, open(out, "w"))


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("rate", "probe"):
        sys.exit(__doc__)
    {"rate": rate, "probe": probe}[sys.argv[1]](sys.argv[2], sys.argv[3])
