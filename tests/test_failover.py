"""Live failover through Traefik (scripts/drill.py on the test stack).

200 simulated clients over 20 boards draw continuously through Traefik (wss,
certificate verified against the stack's CA); gw-1 is taken down with
scripts/takedown.sh (SIGTERM and SIGKILL variants); clients reconnect through
Traefik with ?since= and re-send their unacked ops. Asserted: no acked op lost,
no op applied twice, every client converges on the persisted board
(PostgreSQL, via GET /api/boards/{board}). Timings are printed, not asserted.

Then gw-1 is brought back: Traefik must report it UP again and new connections
must balance across both gateways (welcome.gateway tells which).
"""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

import drill
from wbstack import ROOT, http_get

pytestmark = [pytest.mark.timeout(300), pytest.mark.destructive, pytest.mark.slow]

CLIENTS = int(os.environ.get("WB_DRILL_CLIENTS", "200"))
BOARDS = int(os.environ.get("WB_DRILL_BOARDS", "20"))


def _traefik_status(st, port: int) -> str | None:
    url = f"http://127.0.0.1:{st.ports['dashboard']}/api/http/services/gateways@file"
    try:
        r = http_get(url, timeout=2)
    except OSError:
        return None
    if r.status != 200:
        return None
    for u, s in (json.loads(r.body).get("serverStatus") or {}).items():
        if u.endswith(f":{port}"):
            return s
    return None


def _wait_traefik(st, port: int, want: str, timeout: float = 10) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if _traefik_status(st, port) == want:
            return time.monotonic() - t0
        time.sleep(0.1)
    raise AssertionError(f"Traefik never reported :{port} {want} (now {_traefik_status(st, port)})")


def _takedown(st, gw: str, mode: str) -> dict:
    """scripts/takedown.sh on the test stack (finds the gateway by its port)."""
    env = dict(st.env)
    r = subprocess.run(["bash", str(ROOT / "scripts" / "takedown.sh"), f"GW={gw}", f"MODE={mode}"],
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"takedown.sh failed:\n{r.stdout}\n{r.stderr}"
    return {"rc": r.returncode, "out": r.stdout.strip().splitlines()}


@pytest.mark.parametrize("mode", ["term", "kill"])
def test_failover_drill(wb_traefik, mode):
    st = wb_traefik
    if st.attached:
        pytest.skip("attach mode: cannot take a gateway down (use scripts/drill.py against your stack)")
    gw = "gw-1"
    port = st.ports[gw]
    _wait_traefik(st, st.ports["gw-1"], "UP")
    _wait_traefik(st, st.ports["gw-2"], "UP")
    cafile = str(Path(st.run_dir) / "tls" / "ca.pem")

    def take_down():
        svc = st.services[gw]
        svc.want_up = False   # the stack fixture must not count it as crashed
        info = _takedown(st, gw, mode)
        # the gateway the stack started is the process takedown.sh stopped
        info["exit_status"] = svc.proc.wait(30)
        return info

    def bring_back():
        (Path(st.run_dir) / f"{gw}.down").unlink(missing_ok=True)
        t0 = time.monotonic()
        st.start(gw)                       # tracked by the stack (no orphan at teardown)
        healthy = time.monotonic() - t0
        up = _wait_traefik(st, port, "UP")
        return {"healthy_s": round(healthy, 2), "traefik_up_s_after_healthy": round(up, 2)}

    import asyncio
    rep = asyncio.run(drill.run_drill(
        st.base_url, clients=CLIENTS, boards=BOARDS, rate=1.0, before=4.0, after=6.0,
        take_down=take_down, bring_back=bring_back, cafile=cafile, balance_probe=40))
    print(f"\nFAILOVER DRILL mode={mode}\n" + json.dumps(rep, indent=2))

    # the take-down itself: SIGTERM is a clean exit (0), SIGKILL is -9; no
    # sanitizer report in any log (checked after every test by the stack guard)
    assert rep["take_down"]["exit_status"] == (0 if mode == "term" else -9), rep["take_down"]
    # during the drill
    assert rep["gateways_at_start"].get("gw-1", 0) > 0 and rep["gateways_at_start"].get("gw-2", 0) > 0, rep
    assert rep["clients_dropped"] >= rep["gateways_at_start"]["gw-1"], "clients on gw-1 were not disconnected"
    assert rep["clients_reconnected"] >= rep["gateways_at_start"]["gw-1"], rep
    assert rep["gateways_after"].get("gw-1", 0) == 0 or mode == "none", rep["gateways_after"]
    assert rep["ops_acked"] > 0
    assert rep["ops_unacked_at_end"] == 0, "some ops were never acked"
    assert rep["acked_ops_lost"] == 0, "acked ops lost"
    assert rep["duplicate_strokes_in_final_board"] == 0, "an op was applied twice"
    assert rep["ops_delivered_twice"] == 0, "an op reached a client twice (two seqs or a replayed seq)"
    assert rep["protocol_problem_count"] == 0, rep["protocol_problems"]
    assert rep["clients_converged"] == CLIENTS, rep["clients_diverged"]
    # after the bring-back: Traefik balances new connections over both again
    bal = rep["balance_after"]
    assert set(bal) == {"gw-1", "gw-2"}, bal
    # round robin gives 50/50; the margin absorbs a health-check flap on a loaded machine
    assert min(bal.values()) >= 0.2 * sum(bal.values()), bal


def test_takedown_script_finds_gateway_by_port_and_bringback(wb_traefik):
    """takedown.sh MODE=kill / MODE=back on an unsupervised stack: the gateway is
    found by its port, Traefik marks it DOWN, bring-back starts it and Traefik
    marks it UP. (The bring-back started by the script is not tracked by the test
    stack, so it is killed again and restarted through the stack at the end.)"""
    st = wb_traefik
    if st.attached:
        pytest.skip("attach mode")
    port = st.ports["gw-2"]
    _wait_traefik(st, port, "UP")
    info = _takedown(st, "gw-2", "kill")
    st.services["gw-2"].want_up = False
    assert any("exited" in line for line in info["out"]), info
    _wait_traefik(st, port, "DOWN", timeout=5)
    # requests keep working through the other gateway meanwhile
    for _ in range(5):
        assert http_get(st.base_url + "/healthz").status == 200
    back = _takedown(st, "gw-2", "back")
    print("\n" + "\n".join(info["out"] + back["out"]))
    assert any("back" in line and "UP" in line for line in back["out"]), back
    # hand the gateway back to the stack fixture
    _takedown(st, "gw-2", "kill")
    (Path(st.run_dir) / "gw-2.down").unlink(missing_ok=True)
    st.start("gw-2")
    _wait_traefik(st, port, "UP")
