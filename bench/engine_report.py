#!/usr/bin/env python3
"""The engine targets of a bench/engine.sh results directory.

    engine_report.py RESULTS_DIR [--markdown docs/performance.md]

Reads RESULTS_DIR/<step>-<server>.json (wb-bench --json) and fsync.json,
prints the table, writes summary.json and summary.md, engine.png (needs
matplotlib; without it the tables are still written), and with --markdown
replaces the text between the engine markers of that file (appending them if
missing). Targets are printed next to the numbers, never asserted.
"""
import glob
import json
import os
import re
import sys

BEGIN = "<!-- engine:begin -->"
END = "<!-- engine:end -->"


def load(d):
    runs = {}
    for f in sorted(glob.glob(os.path.join(d, "*.json"))):
        m = re.match(r"(.+)-(gw|peer)\.json$", os.path.basename(f))
        if not m:
            continue
        try:
            runs[(m.group(1), m.group(2))] = json.load(open(f))
        except ValueError:
            print(f"engine_report: {f} is not JSON (the run failed?)", file=sys.stderr)
    return runs


def proc(r, srv):
    return (r.get("processes") or {}).get(srv) or {}


def fmt(v, nd=1, unit=""):
    if v is None:
        return "-"
    if isinstance(v, float) and abs(v) >= 1000:
        return f"{v:,.0f}{unit}"
    return f"{v:.{nd}f}{unit}" if isinstance(v, float) else f"{v}{unit}"


def summarize(d):
    runs = load(d)
    fs, samples, p50s, p99s = None, [], [], []
    try:
        fj = json.load(open(os.path.join(d, "fsync.json")))
        fs, samples = fj["fsyncs_per_s"], fj.get("samples", [])
        p50s, p99s = fj.get("p50_ms", []), fj.get("p99_ms", [])
    except (OSError, ValueError, KeyError):
        pass
    out = {"fsyncs_per_s": fs, "fsync_samples": samples, "fsync_p50_ms": p50s, "fsync_p99_ms": p99s,
           "servers": {}}
    for srv in ("gw", "peer"):
        s = {}
        r = runs.get(("cursor", srv))
        if r:
            cpu = proc(r, srv).get("cpu_s_load")
            exp = r["cursors"]["expected_deliveries"]
            s["cursor"] = {
                "offered_deliveries_per_s": exp / max(r["throughput"]["load_s"], 1e-9),
                "deliveries_per_s": r["throughput"]["cursor_deliveries_per_s"],
                "cpu_s": cpu,
                "cpu_us_per_offered_delivery": cpu * 1e6 / exp if cpu is not None and exp else None,
                "deliveries_per_cpu_s": exp / cpu if cpu else None,
                "p50_ms": r["latency_cursor"]["p50_ms"], "p99_ms": r["latency_cursor"]["p99_ms"],
                "received": r["cursors"]["received"], "expected": exp,
                "welcomed": r["connections"]["welcomed"], "conns": r["config"]["conns"],
                "msgs_per_frame": r["rx"]["messages"] / max(r["rx"]["frames"], 1),
                "newest_pairs": (r.get("cursor_order") or {}).get("newest_pairs"),
                "newest_missing": (r.get("cursor_order") or {}).get("newest_missing"),
                "reordered": (r.get("cursor_order") or {}).get("reordered"),
            }
        sat = []
        for (name, sv), r in runs.items():
            m = re.match(r"saturate-r([\d.]+)$", name)
            if sv != srv or not m:
                continue
            sat.append({"rate": float(m.group(1)),
                        "offered_per_s": r["cursors"]["expected_deliveries"] / max(r["throughput"]["load_s"], 1e-9),
                        "deliveries_per_s": r["throughput"]["cursor_deliveries_per_s"],
                        "p99_ms": r["latency_cursor"]["p99_ms"],
                        "cpu_util": proc(r, srv).get("cpu_util_load"),
                        "bench_cpu_util": proc(r, "bench").get("cpu_util_load"),
                        "send_lag_p99_ms": r["send_lag"]["p99_ms"],
                        "msgs_per_frame": r["rx"]["messages"] / max(r["rx"]["frames"], 1),
                        "host_busy": (r.get("host") or {}).get("busy_fraction_load"),
                        "load1": (r.get("host") or {}).get("loadavg1_start")})
        if sat:
            sat.sort(key=lambda x: x["rate"])
            ok = [x for x in sat if x["p99_ms"] < 20]
            s["saturate"] = {"steps": sat,
                             "best_under_20ms": max(ok, key=lambda x: x["deliveries_per_s"]) if ok else None,
                             "max": max(sat, key=lambda x: x["deliveries_per_s"])}
        dur = []
        for (name, sv), r in sorted(runs.items()):
            if sv != srv or not re.match(r"durable(-\d+)?$", name):
                continue
            acked = r["strokes"]["acked"]
            ops = acked / max(r["throughput"]["load_s"], 1e-9)
            cpu = proc(r, srv).get("cpu_s_load")
            ncpu = proc(r, "nats").get("cpu_s_load")
            bcpu = proc(r, "bench").get("cpu_s_load")
            dur.append({
                "run": name, "client_batch": r["config"].get("batch", 1),
                "bench_cpu_us_per_acked_op": bcpu * 1e6 / acked if bcpu is not None and acked else None,
                "acked_ops_per_s": ops, "ops_per_fsync": ops / fs if fs else None,
                "cpu_us_per_acked_op": cpu * 1e6 / acked if cpu is not None and acked else None,
                "nats_cpu_us_per_acked_op": ncpu * 1e6 / acked if ncpu is not None and acked else None,
                "ack_p50_ms": r["latency_ack"]["p50_ms"], "ack_p99_ms": r["latency_ack"]["p99_ms"],
                "unacked": r["strokes"]["unacked"], "missing": r["strokes"]["missing"],
            })
        if dur:
            # the median run by acked ops/s (the lower middle of an even count)
            med = dict(sorted(dur, key=lambda x: x["acked_ops_per_s"])[(len(dur) - 1) // 2])
            med["runs"] = dur
            s["durable"] = med
        r = runs.get(("ack1k", srv))
        if r:
            s["ack1k"] = {"acked_ops_per_s": r["strokes"]["acked"] / max(r["throughput"]["load_s"], 1e-9),
                          "ack_p50_ms": r["latency_ack"]["p50_ms"], "ack_p99_ms": r["latency_ack"]["p99_ms"]}
            # what engine.sh saw of the disk and of the VM during that run
            for key, name in (("disk", f"ack1k-{srv}-disk.json"), ("host", f"ack1k-{srv}.host.json")):
                try:
                    s["ack1k"][key] = json.load(open(os.path.join(d, name)))
                except (OSError, ValueError):
                    pass
        r = runs.get(("idle", srv))
        if r:
            s["idle"] = {"conns": r["connections"]["idle_connected"],
                         "rss_per_idle_conn_bytes": proc(r, srv).get("rss_per_idle_conn_bytes")}
        if s:
            out["servers"][srv] = s
    return out


def table(sm):
    g, p = sm["servers"].get("gw", {}), sm["servers"].get("peer", {})

    def get(s, *path):
        for k in path:
            if not isinstance(s, dict) or s.get(k) is None:
                return None
            s = s[k]
        return s

    rows = []
    cg, cp = get(g, "cursor", "cpu_us_per_offered_delivery"), get(p, "cursor", "cpu_us_per_offered_delivery")
    ratio = f"{cg / cp:.2f} of the peer's" if cg and cp else "-"
    rows.append(("cursor fan-out: CPU per offered delivery (us)", fmt(cg, 2), fmt(cp, 2),
                 "<= 1/5 of the peer's", ratio))
    rows.append(("cursor fan-out: clients welcomed / messages per frame",
                 f"{fmt(get(g, 'cursor', 'welcomed'))} / {fmt(get(g, 'cursor', 'msgs_per_frame'), 2)}",
                 f"{fmt(get(p, 'cursor', 'welcomed'))} / {fmt(get(p, 'cursor', 'msgs_per_frame'), 2)}",
                 "", ""))
    def newest(s):
        c = get(s, "cursor")
        if not c or c.get("newest_pairs") is None:
            return "-"
        return (f"{c['received'] / max(c['expected'], 1) * 100:.0f}% / {c['newest_missing']} of "
                f"{c['newest_pairs']} / {c['reordered']}")
    rows.append(("cursor fan-out: cursors delivered / newest of each peer missing / out of order",
                 newest(g), newest(p), "every message, or the newest of each peer", ""))
    rows.append(("cursor fan-out: offered deliveries per CPU-second", fmt(get(g, "cursor", "deliveries_per_cpu_s")),
                 fmt(get(p, "cursor", "deliveries_per_cpu_s")), "", ""))
    rows.append(("cursor fan-out: p50 / p99 (ms)",
                 f"{fmt(get(g, 'cursor', 'p50_ms'))} / {fmt(get(g, 'cursor', 'p99_ms'))}",
                 f"{fmt(get(p, 'cursor', 'p50_ms'))} / {fmt(get(p, 'cursor', 'p99_ms'))}",
                 "p99 no worse than the peer's", ""))
    bg, bp = get(g, "saturate", "best_under_20ms"), get(p, "saturate", "best_under_20ms")
    mg, mp = get(g, "saturate", "max"), get(p, "saturate", "max")
    rows.append(("saturation, one core (cursor window off: every cursor sent): deliveries/s with p99 < 20 ms",
                 fmt(bg["deliveries_per_s"]) if bg else "-", fmt(bp["deliveries_per_s"]) if bp else "-",
                 ">= 600,000", ""))
    rows.append(("saturation, one core: highest deliveries/s (offered/s, p99 ms)",
                 f"{fmt(mg['deliveries_per_s'])} ({fmt(mg['offered_per_s'])}, {fmt(mg['p99_ms'])})" if mg else "-",
                 f"{fmt(mp['deliveries_per_s'])} ({fmt(mp['offered_per_s'])}, {fmt(mp['p99_ms'])})" if mp else "-",
                 "", ""))

    def load_gen(m):
        if not m:
            return "-"
        u = m.get("bench_cpu_util")
        return (f"{fmt(u * 100 if u is not None else None, 0)}% / {fmt(m.get('send_lag_p99_ms'))} ms"
                f" / {fmt(m.get('msgs_per_frame'), 1)}")
    rows.append(("saturation, highest step: wb-bench CPU (of its core) / send lag p99 / msgs per frame",
                 load_gen(mg), load_gen(mp), "", ""))
    fss = sm.get("fsync_samples") or []
    rng = f" ({fmt(min(fss))}-{fmt(max(fss))}, {len(fss)} samples)" if len(fss) > 1 else ""
    rows.append(("disk fsyncs/s (200-byte appends; mean of samples before each durable run and after)",
                 fmt(sm.get("fsyncs_per_s")) + rng, "same disk", "", ""))
    p50s, p99s = sm.get("fsync_p50_ms") or [], sm.get("fsync_p99_ms") or []
    if p99s:
        rows.append(("disk: one fsync p50 / p99 (ms; median of the samples / worst sample)",
                     f"{fmt(sorted(p50s)[len(p50s) // 2], 2)} / {fmt(max(p99s), 2)}", "same disk", "", ""))
    def spread(srv, key, nd=1):
        runs = (sm["servers"].get(srv, {}).get("durable") or {}).get("runs") or []
        v = [x[key] for x in runs if x.get(key) is not None]
        med = get(sm["servers"].get(srv, {}), "durable", key)
        if len(v) < 2:
            return fmt(med, nd)
        return f"{fmt(med, nd)} ({fmt(min(v), nd)}-{fmt(max(v), nd)}, {len(v)} runs)"
    rows.append((f"durable 64x64x16 in flight (client frames of up to {get(g, 'durable', 'client_batch') or 1} ops):"
                 " acked ops/s, median run (range)", spread("gw", "acked_ops_per_s"),
                 spread("peer", "acked_ops_per_s"), "", ""))
    rows.append(("durable: acked ops per disk fsync", spread("gw", "ops_per_fsync", 2),
                 spread("peer", "ops_per_fsync", 2), ">= 4", ""))
    rows.append(("durable: server CPU per acked op (us)", fmt(get(g, "durable", "cpu_us_per_acked_op")),
                 fmt(get(p, "durable", "cpu_us_per_acked_op")), "", ""))
    rows.append(("durable: nats-server CPU per acked op (us)",
                 fmt(get(g, "durable", "nats_cpu_us_per_acked_op")),
                 fmt(get(p, "durable", "nats_cpu_us_per_acked_op")), "", ""))
    rows.append(("durable: wb-bench CPU per acked op (us)",
                 fmt(get(g, "durable", "bench_cpu_us_per_acked_op")),
                 fmt(get(p, "durable", "bench_cpu_us_per_acked_op")), "", ""))
    rows.append(("durable: ack p50 / p99 (ms)",
                 f"{fmt(get(g, 'durable', 'ack_p50_ms'))} / {fmt(get(g, 'durable', 'ack_p99_ms'))}",
                 f"{fmt(get(p, 'durable', 'ack_p50_ms'))} / {fmt(get(p, 'durable', 'ack_p99_ms'))}", "", ""))
    rows.append(("1,000 ops/s: ack p50 / p99 (ms)",
                 f"{fmt(get(g, 'ack1k', 'ack_p50_ms'))} / {fmt(get(g, 'ack1k', 'ack_p99_ms'))}",
                 f"{fmt(get(p, 'ack1k', 'ack_p50_ms'))} / {fmt(get(p, 'ack1k', 'ack_p99_ms'))}",
                 "p99 < 10", ""))

    def disk(srv):
        dk = get(srv, "ack1k", "disk") or {}
        if not dk:
            return "-"
        return f"{dk['over_10ms']} of {dk['fsyncs']} / {fmt(dk['max_ms'])}"
    rows.append(("1,000 ops/s: the disk meanwhile (probe fsyncs over 10 ms / longest, ms)", disk(g), disk(p), "", ""))

    def host(srv):
        h = get(srv, "ack1k", "host") or {}
        return f"{h['busy'] * 100:.0f}% / {h['steal'] * 100:.1f}%" if h else "-"
    rows.append(("1,000 ops/s: the VM meanwhile (CPU busy / stolen by the hypervisor)", host(g), host(p), "", ""))
    ig, ip = get(g, "idle", "rss_per_idle_conn_bytes"), get(p, "idle", "rss_per_idle_conn_bytes")
    rows.append((f"RSS per idle connection ({get(g, 'idle', 'conns') or '-'} connections, KiB)",
                 fmt(ig / 1024 if ig else None, 2), fmt(ip / 1024 if ip else None, 2), "<= 4", ""))
    lines = ["| | this gateway | peer | target | |", "|---|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {t} | {x} |" for a, b, c, t, x in rows]
    return "\n".join(lines)


def plot(sm, d):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("engine_report: no matplotlib: engine.png not written", file=sys.stderr)
        return
    fig, ax = plt.subplots(1, 3, figsize=(15, 4.5))
    for srv, style in (("gw", "o-"), ("peer", "s--")):
        st = (sm["servers"].get(srv, {}).get("saturate") or {}).get("steps") or []
        if st:
            ax[0].plot([x["deliveries_per_s"] for x in st], [x["p99_ms"] for x in st], style, label=srv)
    ax[0].set_xlabel("deliveries/s (one core)")
    ax[0].set_ylabel("p99 ms")
    ax[0].set_title("saturation")
    ax[0].axhline(20, color="grey", lw=0.5)
    ax[0].legend()
    names, gv, pv = [], [], []
    for key, label in (("cursor", "CPU us/delivery"),):
        names.append(label)
        gv.append(sm["servers"].get("gw", {}).get(key, {}).get("cpu_us_per_offered_delivery") or 0)
        pv.append(sm["servers"].get("peer", {}).get(key, {}).get("cpu_us_per_offered_delivery") or 0)
    ax[1].bar([0], gv, 0.4, label="gw")
    ax[1].bar([0.4], pv, 0.4, label="peer")
    ax[1].set_xticks([0.2])
    ax[1].set_xticklabels(names)
    ax[1].set_title("cursor fan-out, 1,000 clients")
    ax[1].legend()
    dg = sm["servers"].get("gw", {}).get("durable", {}).get("ops_per_fsync") or 0
    dp = sm["servers"].get("peer", {}).get("durable", {}).get("ops_per_fsync") or 0
    ax[2].bar(["gw", "peer"], [dg, dp])
    ax[2].axhline(4, color="grey", lw=0.5)
    ax[2].set_title("durable: acked ops per disk fsync")
    fig.tight_layout()
    fig.savefig(os.path.join(d, "engine.png"), dpi=90)


def main():
    d = sys.argv[1]
    md = sys.argv[sys.argv.index("--markdown") + 1] if "--markdown" in sys.argv else None
    sm = summarize(d)
    json.dump(sm, open(os.path.join(d, "summary.json"), "w"), indent=1)
    t = table(sm)
    env = open(os.path.join(d, "env.txt")).read().strip() if os.path.exists(os.path.join(d, "env.txt")) else ""
    body = f"{t}\n\nMeasured by `bench/engine.sh` ({os.path.basename(d)}); {env.replace(chr(10), '; ')}."
    open(os.path.join(d, "summary.md"), "w").write(body + "\n")
    print(t)
    plot(sm, d)
    if md:
        text = open(md).read() if os.path.exists(md) else ""
        block = f"{BEGIN}\n{body}\n{END}"
        if BEGIN in text and END in text:
            text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
        else:
            text = text.rstrip("\n") + "\n\n## Gateway engine targets (bench/engine.sh)\n\n" + block + "\n"
        open(md, "w").write(text)


if __name__ == "__main__":
    main()
