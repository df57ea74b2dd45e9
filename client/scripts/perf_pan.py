#!/usr/bin/env python3
"""Frame time while panning/zooming a 20,000-stroke board in headless Chromium.

Self-contained: the built client (client/dist) is served to the page through
Playwright request routing, and the WebSocket is answered by Playwright's
route_web_socket with a welcome + a snapshot of N synthetic strokes, so the
real client code path (snapshot -> board state -> tile layer) is measured
without a running stack. With --url BOARD_URL it measures a real board instead
(fill it first, e.g. with the bench tool).

    .venv/bin/python client/scripts/perf_pan.py [--strokes 20000] [--points 24] [--url URL]

Prints JSON: per scenario, the client's render time per frame (ms, from
window.__wb.frameTimes()) and the rAF frame intervals (ms) while panning.
"""
from __future__ import annotations

import argparse
import json
import mimetypes
import random
import statistics
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

DIST = Path(__file__).resolve().parent.parent / "dist"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
ORIGIN = "http://wb-perf.local"


def synth(n: int, pts: int, seed: int = 7, w: float = 12000, h: float = 8000) -> list[dict]:
    rnd = random.Random(seed)
    colors = ["#1e1e1e", "#e03131", "#f08c00", "#2f9e44", "#1971c2", "#7048e8"]
    out = []
    for i in range(n):
        x, y = rnd.uniform(0, w), rnd.uniform(0, h)
        a = rnd.uniform(0, 6.283)
        p = []
        for _ in range(pts):
            a += rnd.uniform(-0.6, 0.6)
            x += 6 * __import__("math").cos(a)
            y += 6 * __import__("math").sin(a)
            p += [round(x, 1), round(y, 1)]
        out.append({"id": f"s{i}", "color": rnd.choice(colors), "width": rnd.choice([2, 4, 8]), "points": p, "by": "perf"})
    return out


def stats(xs: list[float]) -> dict:
    if not xs:
        return {}
    s = sorted(xs)
    q = lambda f: s[min(len(s) - 1, int(f * len(s)))]  # noqa: E731
    return {"n": len(s), "mean": round(statistics.fmean(s), 2), "p50": round(q(0.5), 2),
            "p95": round(q(0.95), 2), "p99": round(q(0.99), 2), "max": round(s[-1], 2)}


RAF_JS = """() => { window.__perf = []; let last = 0; const f = (t) => { if (last) window.__perf.push(t - last); last = t;
  if (!window.__perfStop) requestAnimationFrame(f); }; window.__perfStop = false; requestAnimationFrame(f); }"""


def scenario(page, name: str, action) -> dict:
    page.evaluate("() => window.__wb.frameTimes().length")  # warm
    before = page.evaluate("() => window.__wb.frameTimes().length")
    page.evaluate(RAF_JS)
    t0 = time.monotonic()
    action()
    dur = time.monotonic() - t0
    page.evaluate("() => { window.__perfStop = true; }")
    raf = page.evaluate("() => window.__perf")
    ft = page.evaluate("() => window.__wb.frameTimes()")[before:]
    return {"scenario": name, "seconds": round(dur, 2), "render_ms": stats(ft), "raf_interval_ms": stats(raf[1:])}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--strokes", type=int, default=20000)
    ap.add_argument("--points", type=int, default=24)
    ap.add_argument("--url", help="a real board URL instead of the synthetic one")
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=800)
    ap.add_argument("--shot", help="save a screenshot of the zoomed-out board to this PNG")
    a = ap.parse_args()

    with sync_playwright() as p:
        br = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS + ["--ignore-certificate-errors"])
        ctx = br.new_context(viewport={"width": a.width, "height": a.height}, ignore_https_errors=True)
        page = ctx.new_page()
        url = a.url
        load_s = None
        if not url:
            if not (DIST / "index.html").exists():
                raise SystemExit("client/dist missing: run `npm run build` in client/ first")
            strokes = synth(a.strokes, a.points)
            snapshot = json.dumps({"t": "snapshot", "seq": len(strokes), "strokes": strokes})

            def serve(route):
                path = route.request.url[len(ORIGIN):].split("?")[0]
                f = DIST / path.lstrip("/")
                if not f.is_file():
                    f = DIST / "index.html"
                route.fulfill(status=200, body=f.read_bytes(),
                              content_type=mimetypes.guess_type(str(f))[0] or "application/octet-stream")

            def ws(route):
                route.send(json.dumps({"t": "welcome", "board": "perf", "client": "me", "gateway": "perf",
                                       "seq": len(strokes), "resumed": False}))
                route.send(snapshot)
                route.on_message(lambda m: route.send(json.dumps({"t": "pong", "ts": json.loads(m)["ts"]}))
                                 if '"ping"' in m else None)

            page.route(ORIGIN + "/**", serve)
            page.route_web_socket("**/ws/**", ws)
            url = ORIGIN + "/b/perfboard"
        t0 = time.monotonic()
        page.goto(url)
        page.wait_for_function("(n) => window.__wb && window.__wb.strokeCount >= n", arg=min(a.strokes, 1) if a.url else a.strokes,
                               timeout=120_000)
        load_s = round(time.monotonic() - t0, 2)
        page.wait_for_timeout(500)
        cx, cy = a.width / 2, a.height / 2
        page.mouse.move(cx, cy)
        results = {"strokes": page.evaluate("window.__wb.strokeCount"), "viewport": [a.width, a.height],
                   "load_to_state_s": load_s, "scenarios": []}

        def pan(dx, dy, n):
            for _ in range(n):
                page.mouse.wheel(dx, dy)
                page.wait_for_timeout(16)

        def zoom_to(scale_steps, direction):
            page.keyboard.down("Control")
            for _ in range(scale_steps):
                page.mouse.wheel(0, direction * 10)
                page.wait_for_timeout(16)
            page.keyboard.up("Control")

        results["scenarios"].append(scenario(page, "pan 100% (first pass, tiles rendered on demand)", lambda: pan(25, 12, 120)))
        results["scenarios"].append(scenario(page, "pan 100% (back over cached tiles)", lambda: pan(-25, -12, 120)))
        results["scenarios"].append(scenario(page, "zoom out to ~13% (ctrl+wheel)", lambda: zoom_to(20, 1)))
        page.wait_for_timeout(1500)
        results["view_after_zoom"] = page.evaluate("window.__wb.view")
        if a.shot:
            page.screenshot(path=a.shot)
        results["scenarios"].append(scenario(page, "pan zoomed out, whole board visible", lambda: pan(30, 20, 120)))
        results["scenarios"].append(scenario(page, "zoom back in (ctrl+wheel)", lambda: zoom_to(20, -1)))
        print(json.dumps(results, indent=2))
        for sc in results["scenarios"]:
            r, f = sc["render_ms"], sc["raf_interval_ms"]
            print(f"# {sc['scenario']}: render p50 {r.get('p50')} p95 {r.get('p95')} max {r.get('max')} ms; "
                  f"frame interval p50 {f.get('p50')} p95 {f.get('p95')} max {f.get('max')} ms")
        br.close()


if __name__ == "__main__":
    main()
