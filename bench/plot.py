#!/usr/bin/env python3
"""Plots and a summary of a wb-bench results directory (bench/run.sh).

    plot.py RESULTS_DIR [--markdown docs/performance.md]

Reads every RESULTS_DIR/*.json written by `wb-bench --json` and writes
  latency_cdf.png   end-to-end latency CDF (and its tail) of each fan-out step
  fanout.png        deliveries/s achieved and p50/p99 against offered load
  scale.png         deliveries/s and p99 against connection count, and gateway
                    RSS per connection at idle
  summary.json      the numbers of the tables below
  summary.md        the tables; with --markdown they also replace the text
                    between the bench markers of that file.
Needs matplotlib only for the PNGs (the venv has it); without it the tables
are still written.
"""
import glob
import json
import os
import re
import sys

BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"


def load(d):
    runs = {}
    for f in sorted(glob.glob(os.path.join(d, "*.json"))):
        if os.path.basename(f) == "summary.json":
            continue
        try:
            with open(f) as fh:
                j = json.load(fh)
        except (OSError, ValueError) as e:
            print(f"plot.py: skipping {f}: {e}", file=sys.stderr)
            continue
        if j.get("tool") != "wb-bench":
            continue
        name = os.path.splitext(os.path.basename(f))[0]
        cmd = os.path.join(d, name + ".cmd")
        j["_cmd"] = open(cmd).read().strip() if os.path.exists(cmd) else ""
        runs[name] = j
    return runs


def num_key(name):
    m = re.search(r"(\d+)$", name)
    return int(m.group(1)) if m else 0


def gw_proc(j):
    p = j.get("processes", {})
    for k in ("gw1", "gw", "gateway"):
        if k in p:
            return p[k]
    return {}


def cpu_pct(p):
    v = p.get("cpu_util_load")
    return f"{100 * v:.0f}%" if isinstance(v, (int, float)) and v > 0 else "-"


def offered_deliveries(j):
    c = j["config"]
    members = c["conns"] / c["boards"]
    return j["throughput"]["offered_ops_per_s"] * members


def ms(v):
    if v is None:
        return "-"
    return f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def worker_lag(j):
    h = j.get("worker_histograms") or {}
    w = h.get("wb_worker_persist_lag_seconds")
    if not w:
        return "-"
    return f"{1e3 * w['mean_s']:.0f} / {1e3 * w['p99_le_s']:.0f}" if w["p99_le_s"] >= 0 else f"{1e3 * w['mean_s']:.0f} / -"


def host(j):
    h = j.get("host") or {}
    b = h.get("busy_fraction_load", -1)
    if b is None or b < 0:
        return "-"
    return f"{100 * b:.0f}% / {h.get('loadavg1_end', 0):.1f}"


def tables(runs):
    out, summary = [], {"idle": [], "fanout": [], "scale": [], "cursor": []}
    idle = sorted([n for n in runs if n.startswith("idle-")], key=num_key)
    if idle:
        out.append("#### Idle connections on one gateway\n")
        out.append("| connections | welcomed | gateway RSS before -> idle | RSS per idle connection | connect p50 / p99 (to welcome) | gateway CPU to connect |")
        out.append("|---:|---:|---|---:|---|---:|")
        for n in idle:
            j = runs[n]
            g = gw_proc(j)
            per = g.get("rss_per_idle_conn_bytes", 0)
            out.append(
                f"| {j['config']['conns']} | {j['connections']['welcomed']} | "
                f"{g.get('rss_base_kb', 0) / 1024:.1f} -> {g.get('rss_idle_kb', 0) / 1024:.1f} MiB | "
                f"{per / 1024:.1f} KiB | {ms(j['welcome_ms']['p50_ms'])} / {ms(j['welcome_ms']['p99_ms'])} ms | "
                f"{g.get('cpu_s_connect', 0):.2f} s |")
            summary["idle"].append({"run": n, "conns": j["config"]["conns"], "welcomed": j["connections"]["welcomed"],
                                    "rss_per_idle_conn_bytes": per, "cmd": j["_cmd"]})
        out.append("")
    for path in ("direct", "traefik"):
        names = sorted([n for n in runs if n.startswith(f"fanout-{path}-")], key=num_key)
        if not names:
            continue
        title = "one gateway, ws://" if path == "direct" else "through Traefik (wss://, two gateways)"
        out.append(f"#### Fan-out, 10 boards x 100 clients, 10 drawers per board: {title}\n")
        out.append("| strokes/s per drawer | ops/s | deliveries/s (offered) | e2e p50 / p99 / p99.9 / max ms | ack p50 / p99 ms | send lag p99 ms | missing / dup | gateway CPU | worker lag mean / p99 ms | host busy / load |")
        out.append("|---:|---:|---|---|---|---:|---|---:|---|---|")
        for n in names:
            j = runs[n]
            e, a, s, t = j["latency_e2e"], j["latency_ack"], j["strokes"], j["throughput"]
            g = gw_proc(j)
            if path == "traefik":
                procs = j.get("processes", {})
                gcpu = "+".join(cpu_pct(procs[k]) for k in ("gw1", "gw2", "traefik") if k in procs)
            else:
                gcpu = cpu_pct(g)
            out.append(
                f"| {j['config']['rate']:g} | {t['offered_ops_per_s']:.0f} | {t['deliveries_per_s']:.0f} ({offered_deliveries(j):.0f}) | "
                f"{ms(e['p50_ms'])} / {ms(e['p99_ms'])} / {ms(e['p999_ms'])} / {ms(e['max_ms'])} | "
                f"{ms(a['p50_ms'])} / {ms(a['p99_ms'])} | {ms(j['send_lag']['p99_ms'])} | {s['missing']} / {s['duplicates']} | {gcpu} | {worker_lag(j)} | {host(j)} |")
            summary["fanout"].append({"run": n, "path": path, "rate": j["config"]["rate"],
                                      "ops_per_s": t["offered_ops_per_s"], "deliveries_per_s": t["deliveries_per_s"],
                                      "p50_ms": e["p50_ms"], "p99_ms": e["p99_ms"], "p999_ms": e["p999_ms"],
                                      "max_ms": e["max_ms"], "ack_p99_ms": a["p99_ms"], "missing": s["missing"],
                                      "duplicates": s["duplicates"], "cmd": j["_cmd"]})
        out.append("")
    names = sorted([n for n in runs if n.startswith("scale-")], key=num_key)
    if names:
        out.append("#### Connection count at a fixed per-client load (100 clients per board, 10% draw 2 strokes/s)\n")
        out.append("| connections | ops/s | deliveries/s | e2e p50 / p99 / max ms | gateway CPU | gateway RSS under load | host busy / load |")
        out.append("|---:|---:|---:|---|---:|---:|---|")
        for n in names:
            j = runs[n]
            e, t, g = j["latency_e2e"], j["throughput"], gw_proc(j)
            out.append(f"| {j['config']['conns']} | {t['offered_ops_per_s']:.0f} | {t['deliveries_per_s']:.0f} | "
                       f"{ms(e['p50_ms'])} / {ms(e['p99_ms'])} / {ms(e['max_ms'])} | {cpu_pct(g)} | "
                       f"{g.get('rss_load_max_kb', 0) / 1024:.1f} MiB | {host(j)} |")
            summary["scale"].append({"run": n, "conns": j["config"]["conns"], "deliveries_per_s": t["deliveries_per_s"],
                                     "p99_ms": e["p99_ms"], "cmd": j["_cmd"]})
        out.append("")
    names = sorted([n for n in runs if n.startswith("cursor-")], key=num_key)
    if names:
        out.append("#### Ephemeral cursors, 10 boards x 100 clients, 10 drawers per board, one gateway\n")
        out.append("| cursors/s per drawer | cursor deliveries/s (offered) | p50 / p99 / p99.9 / max ms | send lag p99 ms | expected | missing / dup | gateway CPU | host busy / load |")
        out.append("|---:|---|---|---:|---:|---|---:|---|")
        for n in names:
            j = runs[n]
            c, s, g, t = j["latency_cursor"], j["cursors"], gw_proc(j), j["throughput"]
            c_off = j["config"]["cursor_rate"] * j["config"]["drawers"] * (j["config"]["conns"] / j["config"]["boards"] - 1)
            out.append(f"| {j['config']['cursor_rate']:g} | {t['cursor_deliveries_per_s']:.0f} ({c_off:.0f}) | {ms(c['p50_ms'])} / {ms(c['p99_ms'])} / "
                       f"{ms(c['p999_ms'])} / {ms(c['max_ms'])} | {ms(j['send_lag']['p99_ms'])} | {s['expected_deliveries']} | {s['missing']} / {s['duplicates']} | {cpu_pct(g)} | {host(j)} |")
            summary["cursor"].append({"run": n, "cursor_rate": j["config"]["cursor_rate"],
                                      "cursor_deliveries_per_s": t["cursor_deliveries_per_s"],
                                      "p50_ms": c["p50_ms"], "p99_ms": c["p99_ms"], "missing": s["missing"], "cmd": j["_cmd"]})
        out.append("")
    return "\n".join(out), summary


def cdf_points(h):
    b = h.get("buckets_ns") or []
    total = sum(c for _, c in b)
    xs, ys, seen = [], [], 0
    for hi, c in b:
        seen += c
        xs.append(hi / 1e6)
        ys.append(seen / total)
    return xs, ys


def plots(d, runs):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("plot.py: no matplotlib, no PNGs (use .venv/bin/python3)", file=sys.stderr)
        return
    fan = {p: sorted([n for n in runs if n.startswith(f"fanout-{p}-")], key=num_key) for p in ("direct", "traefik")}
    if fan["direct"] or fan["traefik"]:
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5))
        for p, style in (("direct", "-"), ("traefik", "--")):
            for n in fan[p]:
                h = runs[n]["latency_e2e"]
                if not h["count"]:
                    continue
                xs, ys = cdf_points(h)
                lab = f"{p} {runs[n]['config']['rate']:g}/s/drawer"
                ax1.plot(xs, ys, style, label=lab)
                ax2.plot(xs, [max(1 - y, 1e-6) for y in ys], style, label=lab)
        ax1.set_xscale("log"); ax1.set_xlabel("end-to-end latency (ms)"); ax1.set_ylabel("fraction of deliveries <= x")
        ax1.set_title("Latency CDF, fan-out 10 boards x 100 clients"); ax1.grid(True, which="both", alpha=.3)
        ax2.set_xscale("log"); ax2.set_yscale("log"); ax2.set_xlabel("end-to-end latency (ms)")
        ax2.set_ylabel("fraction of deliveries > x"); ax2.set_title("Tail (1 - CDF)"); ax2.grid(True, which="both", alpha=.3)
        ax2.legend(fontsize=7)
        fig.tight_layout(); fig.savefig(os.path.join(d, "latency_cdf.png"), dpi=110); plt.close(fig)

        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5))
        for p, m, col in (("direct", "o", "C0"), ("traefik", "s", "C1")):
            ns = fan[p]
            if not ns:
                continue
            off = [offered_deliveries(runs[n]) for n in ns]
            ach = [runs[n]["throughput"]["deliveries_per_s"] for n in ns]
            ax1.plot(off, ach, m + "-", color=col, label=p)
            ax2.plot(off, [runs[n]["latency_e2e"]["p50_ms"] for n in ns], m + ":", color=col, label=f"{p} p50")
            ax2.plot(off, [runs[n]["latency_e2e"]["p99_ms"] for n in ns], m + "-", color=col, label=f"{p} p99")
        lim = max([offered_deliveries(runs[n]) for p in fan for n in fan[p]] + [1])
        ax1.plot([0, lim], [0, lim], "k:", alpha=.4, label="achieved = offered")
        for ax in (ax1, ax2):
            ax.set_xscale("log"); ax.set_xlabel("offered deliveries/s (ops/s x 100 clients per board)"); ax.grid(True, which="both", alpha=.3); ax.legend(fontsize=8)
        ax1.set_yscale("log"); ax1.set_ylabel("deliveries/s received"); ax1.set_title("Throughput")
        ax2.set_yscale("log"); ax2.set_ylabel("latency (ms)"); ax2.set_title("End-to-end latency")
        ax2.axhline(50, color="r", alpha=.3)
        fig.tight_layout(); fig.savefig(os.path.join(d, "fanout.png"), dpi=110); plt.close(fig)

    scale = sorted([n for n in runs if n.startswith("scale-")], key=num_key)
    idle = sorted([n for n in runs if n.startswith("idle-")], key=num_key)
    if scale or idle:
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5))
        if scale:
            cs = [runs[n]["config"]["conns"] for n in scale]
            ax1.plot(cs, [runs[n]["throughput"]["deliveries_per_s"] for n in scale], "o-", color="C0", label="deliveries/s")
            ax1.set_xlabel("connections (100 per board, 10% draw 2/s)"); ax1.set_ylabel("deliveries/s", color="C0")
            ax1b = ax1.twinx()
            ax1b.plot(cs, [runs[n]["latency_e2e"]["p99_ms"] for n in scale], "s--", color="C3", label="p99")
            ax1b.set_ylabel("e2e p99 (ms)", color="C3")
            ax1.set_title("Throughput and p99 against connection count"); ax1.grid(True, alpha=.3)
        if idle:
            cs = [runs[n]["config"]["conns"] for n in idle]
            ax2.plot(cs, [gw_proc(runs[n]).get("rss_per_idle_conn_bytes", 0) / 1024 for n in idle], "o-", label="gateway RSS per idle connection")
            ax2.set_xlabel("idle connections on one gateway"); ax2.set_ylabel("KiB per connection")
            ax2b = ax2.twinx()
            ax2b.plot(cs, [gw_proc(runs[n]).get("rss_idle_kb", 0) / 1024 for n in idle], "s--", color="C2")
            ax2b.set_ylabel("gateway RSS (MiB)", color="C2")
            ax2.set_title("Gateway memory at idle"); ax2.grid(True, alpha=.3)
        fig.tight_layout(); fig.savefig(os.path.join(d, "scale.png"), dpi=110); plt.close(fig)


def main():
    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if args else 2
    d = args[0]
    md_file = args[args.index("--markdown") + 1] if "--markdown" in args else None
    runs = load(d)
    if not runs:
        print(f"plot.py: no wb-bench JSON in {d}", file=sys.stderr)
        return 1
    text, summary = tables(runs)
    first = next(iter(runs.values()))
    head = (f"Results of `bench/run.sh` in `{os.path.relpath(d, os.path.dirname(md_file)) if md_file else d}` "
            f"(bench event loop: {first.get('evlib', '?')}). Every row's exact command line is in "
            f"the matching `.cmd` file there; plots: `latency_cdf.png`, `fanout.png`, `scale.png`.\n\n")
    envf = os.path.join(d, "env.txt")
    if os.path.exists(envf):
        head += "Measured: " + "; ".join(l.strip() for l in open(envf) if l.strip()) + ".\n\n"
    with open(os.path.join(d, "summary.md"), "w") as fh:
        fh.write(head + text + "\n")
    with open(os.path.join(d, "summary.json"), "w") as fh:
        json.dump(summary, fh, indent=1)
    plots(d, runs)
    print(text)
    if md_file:
        cur = open(md_file).read() if os.path.exists(md_file) else ""
        block = f"{BEGIN}\n{head}{text}\n{END}"
        if BEGIN in cur and END in cur:
            cur = cur[:cur.index(BEGIN)] + block + cur[cur.index(END) + len(END):]
        else:
            cur = cur.rstrip("\n") + "\n\n## Latest `make bench` results\n\n" + block + "\n"
        with open(md_file, "w") as fh:
            fh.write(cur)
        print(f"plot.py: tables written into {md_file}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
