"""Scale-out on NATS: a 3-node JetStream cluster (WB_OPS with 3 replicas,
sync_interval always on every node), two gateways behind Traefik and two
workers sharing the durable consumer, all real processes (tests/wbstack.py).

Node nats-3 lives in its own network namespace (created here: `ip netns`, a
veth pair with private addresses 10.231.x.y/30 of our own); nats-1 and
nats-2 take their routes on the host end of that pair, so cutting the
namespace off (iptables DROP inside it) is a real network partition.

Each test runs scripts/drill.py's 200 clients drawing through Traefik while
something breaks, then checks: every acked op is in PostgreSQL exactly once,
no op reached a client twice, every client's board equals PostgreSQL's. The
pause clients saw (op sent -> ack, p50/p99/max) is printed, never asserted.
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import drill  # scripts/drill.py (pytest.ini pythonpath)
from wbstack import ROOT, Stack, StackError, http_get  # noqa: F401

pytestmark = [pytest.mark.timeout(600), pytest.mark.destructive, pytest.mark.slow]

CLIENTS = int(os.environ.get("WB_DRILL_CLIENTS", "200"))
BOARDS = int(os.environ.get("WB_DRILL_BOARDS", "20"))


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, check=check, timeout=20)


class Netns:
    """A network namespace with one veth pair to the host: host end .1, inside .2."""

    def __init__(self):
        tag = f"{os.getpid() % 10000}{random.randint(0, 99)}"
        self.name, self.host_if, self.ns_if = f"wbc{tag}", f"wbh{tag}", f"wbn{tag}"
        used = _ip("ip", "-4", "-o", "addr").stdout
        for _ in range(100):
            a, b = random.randint(0, 255), random.randint(0, 63) * 4
            if f"10.231.{a}.{b + 1}/" not in used:
                break
        self.host_ip, self.ns_ip = f"10.231.{a}.{b + 1}", f"10.231.{a}.{b + 2}"
        _ip("ip", "netns", "add", self.name)
        try:
            _ip("ip", "link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if)
            _ip("ip", "link", "set", self.ns_if, "netns", self.name)
            _ip("ip", "addr", "add", f"{self.host_ip}/30", "dev", self.host_if)
            _ip("ip", "link", "set", self.host_if, "up")
            self.exec("ip", "addr", "add", f"{self.ns_ip}/30", "dev", self.ns_if)
            self.exec("ip", "link", "set", self.ns_if, "up")
            self.exec("ip", "link", "set", "lo", "up")
        except subprocess.CalledProcessError:
            self.delete()
            raise

    def exec(self, *args: str) -> subprocess.CompletedProcess:
        return _ip("ip", "netns", "exec", self.name, *args)

    def prefix(self) -> list:
        return ["ip", "netns", "exec", self.name]

    def cut(self) -> None:
        """Drop every packet in and out of the namespace (connections hang, as in a real partition)."""
        self.exec("iptables", "-w", "-A", "INPUT", "-j", "DROP")
        self.exec("iptables", "-w", "-A", "OUTPUT", "-j", "DROP")

    def heal(self) -> None:
        self.exec("iptables", "-w", "-F")

    def delete(self) -> None:
        _ip("ip", "netns", "del", self.name, check=False)       # removes the veth pair too
        _ip("ip", "link", "del", self.host_if, check=False)


@pytest.fixture(scope="module")
def cluster():
    if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("iptables"):
        pytest.fail("test_cluster needs root, iproute2 and iptables (scripts/deps.sh installs them)")
    ns = Netns()
    st = None
    try:
        st = Stack.create(nats_nodes=3, gateways=2, workers=2, extra_env={
            "WB_NATS_HOST_3": ns.ns_ip,           # nats-3: clients, monitor and routes inside the namespace
            "WB_NATS_ROUTE_HOST_1": ns.host_ip,   # nats-1/2: routes on the host end of the veth pair
            "WB_NATS_ROUTE_HOST_2": ns.host_ip,
        })
        st.start_reaper()
        st.services["nats-3"].argv = ns.prefix() + st.services["nats-3"].argv
        st.start("nats-1", "nats-2", "nats-3", wait=False)
        for n in ("nats-1", "nats-2", "nats-3"):
            st.wait_ready(n)
        st.start(*st.order[3:])
        st.netns = ns
        yield st
    finally:
        if st is not None:
            orphans = st.stop_all()
            if os.environ.get("WB_TEST_KEEP") != "1":
                shutil.rmtree(st.run_dir, ignore_errors=True)
        ns.delete()
    assert not orphans, f"orphan processes after teardown: {orphans}"


@pytest.fixture(autouse=True)
def _restore(cluster):
    """Restart what a test stopped. The logs each service wrote during the test
    are printed at teardown (pytest shows them only when the test failed)."""
    offsets = cluster.log_offsets()
    yield
    try:
        cluster.ensure_up()
    finally:
        for n in cluster.order:
            print(f"--- {n} ---\n{cluster.log_since(n, offsets.get(n, 0), 40)}")


# --------------------------------------------------------------------------
# JetStream state from the nodes' monitoring endpoints


def _jsz(st, i: int, timeout: float = 2) -> dict | None:
    try:
        r = http_get(st.nats_node_monitor_url(i) + "/jsz?streams=true", timeout=timeout)
    except OSError:
        return None
    return json.loads(r.body) if r.status == 200 else None


def _stream(j: dict | None) -> dict | None:
    for acc in (j or {}).get("account_details") or []:
        for s in acc.get("stream_detail") or []:
            if s.get("name") == "WB_OPS":
                return s
    return None


def stream_leader(st, timeout: float = 60, not_: str | None = None) -> str:
    """Service name (nats-N) of the node leading WB_OPS, as the leader itself
    reports it; with not_, wait for a leader other than that node."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for i in (1, 2, 3):
            if f"nats-{i}" == not_:
                continue
            s = _stream(_jsz(st, i, timeout=1))
            if ((s or {}).get("cluster") or {}).get("leader") == f"wb-nats-{i}":
                return f"nats-{i}"
        time.sleep(0.2)
    raise AssertionError(f"no WB_OPS leader{' other than ' + not_ if not_ else ''} within {timeout}s")


def wait_caught_up(st, timeout: float = 90) -> dict:
    """Every node stores the same WB_OPS (messages, last seq) and the leader
    reports both followers current."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        states = {i: _stream(_jsz(st, i)) for i in (1, 2, 3)}
        last = {i: (s or {}).get("state") for i, s in states.items()}
        if all(states.values()):
            seqs = {(s["state"]["messages"], s["state"]["last_seq"]) for s in states.values()}
            # only the leader knows whether its followers are current
            reps = [r for i, s in states.items() if (s.get("cluster") or {}).get("leader") == f"wb-nats-{i}"
                    for r in (s.get("cluster") or {}).get("replicas") or []]
            if len(seqs) == 1 and len(reps) >= 2 and all(r.get("current") for r in reps):
                return {i: s["state"]["last_seq"] for i, s in states.items()}
        time.sleep(0.5)
    raise AssertionError(f"nodes did not catch up within {timeout}s: {last}")


def make_leader(st, want: str, tries: int = 12) -> None:
    """Ask the WB_OPS leader to step down in favour of `want` (JetStream API
    $JS.API.STREAM.LEADER.STEPDOWN with a preferred placement), until it leads."""
    import nats

    async def step_down():
        nc = await nats.connect(servers=st.nats_url.split(","), connect_timeout=5)
        try:
            body = json.dumps({"placement": {"preferred": "wb-" + want}}).encode()
            r = await nc.request("$JS.API.STREAM.LEADER.STEPDOWN.WB_OPS", body, timeout=10)
            return json.loads(r.data)
        finally:
            await nc.close()

    answers = []
    for _ in range(tries):
        if stream_leader(st) == want:
            return
        answers.append(asyncio.run(step_down()))
        time.sleep(1.5)
    raise AssertionError(f"{want} never became the WB_OPS leader (now {stream_leader(st)}): {answers[-3:]}")


# --------------------------------------------------------------------------
# checks


def pg_duplicates(st) -> list:
    import psycopg
    with psycopg.connect(st.pg_url, connect_timeout=5) as c:
        return c.execute("SELECT board, op_id, count(*) FROM ops GROUP BY 1, 2 HAVING count(*) > 1").fetchall()


def run_drill(st, take_down, bring_back=None) -> dict:
    cafile = str(Path(st.run_dir) / "tls" / "ca.pem")
    return asyncio.run(drill.run_drill(
        st.base_url, clients=CLIENTS, boards=BOARDS, rate=1.0, before=4.0, after=8.0,
        take_down=take_down, bring_back=bring_back, cafile=cafile, balance_probe=0,
        settle_timeout=120.0))


def check(st, rep: dict, what: str) -> None:
    pauses = {k: rep[k] for k in ("ack_p50_ms", "ack_p99_ms", "ack_max_ms")}
    print(f"\nCLUSTER DRILL {what}: pause clients saw (op sent -> ack): {json.dumps(pauses)}\n"
          + json.dumps(rep, indent=2))
    assert rep["ops_acked"] > 0, rep
    assert rep["ops_unacked_at_end"] == 0, "some ops were never acked"
    assert rep["acked_ops_lost"] == 0, "acked ops lost"
    assert rep["duplicate_strokes_in_final_board"] == 0, "an op was applied twice"
    assert rep["ops_delivered_twice"] == 0, "an op reached a client twice"
    assert rep["protocol_problem_count"] == 0, rep["protocol_problems"]
    assert rep["clients_converged"] == CLIENTS, rep["clients_diverged"]
    assert pg_duplicates(st) == [], "an op is in PostgreSQL twice"


# --------------------------------------------------------------------------
# tests


@pytest.mark.parametrize("how", ["kill", "term"])
def test_stream_leader_down_under_200_clients(cluster, how):
    """kill -9 (or SIGTERM) the node leading WB_OPS mid-drawing; it comes back and catches up."""
    st = cluster
    wait_caught_up(st)
    leader = stream_leader(st)
    info = {}

    def take_down():
        t0 = time.monotonic()
        info["rc"] = st.kill(leader) if how == "kill" else st.terminate(leader)
        info["new_leader"] = stream_leader(st, not_=leader)
        info["new_leader_s"] = round(time.monotonic() - t0, 2)
        return info

    rep = run_drill(st, take_down)
    print(f"\n{how} {leader}: exit status {info['rc']}, WB_OPS led by {info['new_leader']} "
          f"{info['new_leader_s']} s later")
    assert info["new_leader"] != leader
    if how == "term":
        assert info["rc"] == 0, f"nats-server exited {info['rc']} on SIGTERM"
    check(st, rep, f"{how} of the WB_OPS leader {leader}")
    t0 = time.monotonic()
    st.start(leader)
    seqs = wait_caught_up(st)
    print(f"{leader} back and caught up {time.monotonic() - t0:.1f} s after its start: last seq {seqs}")


def test_partition_of_the_stream_leader(cluster):
    """nats-3 (in its own namespace) leads WB_OPS and is cut off mid-drawing, then healed."""
    st, ns = cluster, cluster.netns
    wait_caught_up(st)
    make_leader(st, "nats-3")
    info = {}

    def take_down():
        t0 = time.monotonic()
        ns.cut()
        info["new_leader"] = stream_leader(st, not_="nats-3")   # the majority side elects one
        info["new_leader_s"] = round(time.monotonic() - t0, 2)
        return info

    try:
        rep = run_drill(st, take_down)
    finally:
        ns.heal()
    print(f"\npartition of nats-3: majority elected {info.get('new_leader')} {info.get('new_leader_s')} s later")
    assert st.services["nats-3"].alive(), "nats-3 died during the partition"
    check(st, rep, "partition of the WB_OPS leader nats-3")
    t0 = time.monotonic()
    seqs = wait_caught_up(st)
    print(f"nats-3 healed and caught up in {time.monotonic() - t0:.1f} s: last seq {seqs}")


def _worker_persisted(st, name: str) -> float:
    r = http_get(st.worker_node_url(name) + "/metrics", timeout=3)
    for line in r.text.splitlines():
        if line.startswith("wb_worker_ops_persisted_total"):
            return float(line.split()[-1])
    return -1.0


def test_one_of_two_workers_killed_mid_batch(cluster):
    """Two workers share the durable consumer; kill -9 one while both persist batches."""
    st = cluster
    wait_caught_up(st)
    info = {}

    def take_down():
        info["worker-1 persisted before"] = _worker_persisted(st, "worker-1")
        info["worker-2 persisted before"] = _worker_persisted(st, "worker-2")
        info["rc"] = st.kill("worker-1")
        return info

    def bring_back():
        st.start("worker-1")
        return {"worker-1": "restarted"}

    rep = run_drill(st, take_down, bring_back)
    info["worker-2 persisted after"] = _worker_persisted(st, "worker-2")
    print(f"\nworkers: {info}")
    assert info["worker-1 persisted before"] > 0 and info["worker-2 persisted before"] > 0, \
        f"both workers must have been persisting: {info}"
    check(st, rep, "kill -9 of worker-1 (of two)")
