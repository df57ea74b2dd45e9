"""Docker deployment checks that run without a Docker engine.

- docker-compose.yml validates (`docker compose config -q`; the compose v2 plugin comes
  from scripts/docker/tools.sh, like `make docker-up`);
- it mirrors the native stack: the same services as `make run` (`scripts/supervise.sh names`), the same
  WB_* names and defaults as scripts/env.sh, the same ports, Traefik pinned to
  scripts/versions.env's version, NATS to the native nats-server version;
  healthchecks, restart policies, depends_on service_healthy everywhere; only
  Traefik publishes ports (80, 443/tcp, 443/udp, dashboard on 127.0.0.1);
- NATS authentication as natively: the containers' config takes the authorization block
  of scripts/svc/nats.sh (a Docker secret made by scripts/docker/secrets.sh), gateways and
  worker log in with WB_NATS_USER/WB_NATS_PASSWORD_FILE, cluster routes authenticate;
- the Traefik static template renders for Docker (same traefik/ files);
- Dockerfiles: a lint of our own (hadolint is not in Debian): pinned base
  images, Debian 13 (trixie), multi-stage, non-root USER, HEALTHCHECK, apt and
  npm cache mounts, --no-install-recommends;
- the C code compiles against Debian 13's libwebsockets and nats.c headers
  (scripts/check-trixie-headers.sh downloads them with a project-local apt
  config); a dead mirror makes that check fail loudly, never pass silently.

No test here is skipped: a missing tool is a failure with the install hint.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
SYS_PY = "/usr/bin/python3"      # Debian's python3 has PyYAML (a docker-compose dependency)

SERVICES = {"nats": "nats", "postgres": "postgres", "worker": "worker",
            "gateway-1": "gw-1", "gateway-2": "gw-2", "traefik": "traefik"}   # compose -> make run
ONE_SHOT = {"volumes-init"}        # runs once as root before nats/traefik, then exits
# Settings only the Docker deployment has (README "Running with Docker").
DOCKER_ONLY_VARS = {"WB_PG_PASSWORD", "WB_PUBLISH_ADDR", "WB_DOCKER_HTTP_PORT", "WB_DOCKER_HTTPS_PORT",
                    "WB_DOCKER_PROJECT", "WB_DOCKER_IMAGE_PREFIX", "WB_DOCKER_NATS_ROUTES",
                    "WB_DOCKER_NATS_URL", "WB_DOCKER_STREAM_REPLICAS", "WB_DOCKER_TLS_DIR", "WB_DOCKER_SECRETS_DIR",
                    "WB_DOCKER_CA_FILE", "WB_DEBIAN_IMAGE", "WB_NODE_IMAGE", "WB_NATS_IMAGE",
                    "WB_POSTGRES_IMAGE", "WB_TRAEFIK_IMAGE", "WB_DOMAIN", "WB_ACME_EMAIL", "WB_ACME_CA_SERVER"}


def _clean_env() -> dict:
    """The environment without any WB_* variable, so defaults apply."""
    return {k: v for k, v in os.environ.items() if not k.startswith("WB_")}


_TOOLS_OK: list = []


def _compose_bin() -> list:
    """`docker compose` (v2 plugin), installed by scripts/docker/tools.sh if missing."""
    if not _TOOLS_OK:
        r = subprocess.run(["bash", str(ROOT / "scripts" / "docker" / "tools.sh")], capture_output=True, text=True)
        if r.returncode != 0:
            pytest.fail(f"scripts/docker/tools.sh failed:\n{r.stdout}\n{r.stderr}")
        _TOOLS_OK.append(True)
    return ["docker", "compose"]


def _yaml_to_json(text: str):
    r = subprocess.run([SYS_PY, "-c", "import sys,json,yaml; print(json.dumps(yaml.safe_load(sys.stdin)))"],
                       input=text, capture_output=True, text=True)
    assert r.returncode == 0, f"YAML parse failed (needs python3-yaml): {r.stderr}"
    return json.loads(r.stdout)


@pytest.fixture(scope="module")
def env_defaults() -> dict:
    """Every WB_* default of scripts/env.sh (sourced in a clean environment)."""
    r = subprocess.run(["bash", "-c", f". {ROOT}/scripts/env.sh; env"], env=_clean_env(),
                       capture_output=True, text=True, check=True)
    d = dict(line.split("=", 1) for line in r.stdout.splitlines() if line.startswith("WB_") and "=" in line)
    # paths are host-specific; ports and names are what must agree
    return d


@pytest.fixture(scope="module")
def versions() -> dict:
    out = {}
    for line in (ROOT / "scripts" / "versions.env").read_text().splitlines():
        m = re.match(r"^([A-Z_]+)=(\S+)", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


@pytest.fixture(scope="module")
def compose() -> dict:
    """docker-compose config (interpolated with the defaults), as a dict."""
    r = subprocess.run([*_compose_bin(), "-f", str(COMPOSE), "config", "--format", "json"], env=_clean_env(),
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_compose_config_validates_offline():
    r = subprocess.run([*_compose_bin(), "-f", str(COMPOSE), "config", "-q"], env=_clean_env(),
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == "", f"warnings: {r.stderr}"


def test_services_mirror_procfile(compose):
    # the services `make run` supervises with the default settings (scripts/supervise.sh)
    r = subprocess.run(["bash", str(ROOT / "scripts" / "supervise.sh"), "names"], env=_clean_env(),
                       capture_output=True, text=True, check=True)
    procfile = set(r.stdout.split())
    assert set(compose["services"]) == set(SERVICES) | ONE_SHOT, compose["services"].keys()
    assert {SERVICES[s] for s in compose["services"] if s not in ONE_SHOT} == procfile


def test_every_service_has_healthcheck_restart_and_healthy_deps(compose):
    for name, svc in compose["services"].items():
        if name in ONE_SHOT:
            assert svc.get("restart", "no") == "no", f"{name}: a one-shot must not restart"
            continue
        hc = svc.get("healthcheck")
        assert hc and hc.get("test") and not hc.get("disable"), f"{name}: no healthcheck"
        assert svc.get("restart") in ("unless-stopped", "always", "on-failure"), f"{name}: restart policy"
        for dep, cond in (svc.get("depends_on") or {}).items():
            want = "service_completed_successfully" if dep in ONE_SHOT else "service_healthy"
            assert cond.get("condition") == want, f"{name} -> {dep}: {cond}"
    deps = {n: set(s.get("depends_on") or {}) for n, s in compose["services"].items()}
    assert deps["gateway-1"] >= {"nats"} and deps["gateway-2"] >= {"nats"}
    assert deps["worker"] >= {"nats", "postgres"}
    assert deps["traefik"] >= {"gateway-1", "gateway-2"}


def test_only_traefik_publishes_ports(compose, env_defaults):
    for name, svc in compose["services"].items():
        if name != "traefik":
            assert not svc.get("ports"), f"{name} publishes ports: {svc.get('ports')}"
    ports = compose["services"]["traefik"]["ports"]
    norm = set()
    for p in ports:
        if isinstance(p, dict):        # long syntax
            norm.add((p.get("host_ip", ""), str(p["published"]), str(p["target"]), p.get("protocol", "tcp")))
        else:
            m = re.match(r"^(?:([\d.]+):)?(\d+):(\d+)(?:/(tcp|udp))?$", p)
            assert m, p
            norm.add((m.group(1) or "", m.group(2), m.group(3), m.group(4) or "tcp"))
    dash = env_defaults["WB_DASHBOARD_PORT"]
    assert norm == {("", "80", "80", "tcp"), ("", "443", "443", "tcp"), ("", "443", "443", "udp"),
                    ("127.0.0.1", dash, dash, "tcp")}, norm


def test_images_pinned_to_native_versions(compose, versions):
    img = {n: s.get("image", "") for n, s in compose["services"].items()}
    assert img["traefik"] == f"traefik:{versions['TRAEFIK_VERSION']}"
    assert img["nats"].startswith(f"nats:{versions['NATS_SERVER_VERSION'].lstrip('v')}")
    m = re.match(r"^postgres:(\d+)(\.\d+)?", img["postgres"])
    assert m and int(m.group(1)) >= 18, img["postgres"]       # newest stable major when written
    assert compose["services"]["gateway-1"]["image"] == compose["services"]["gateway-2"]["image"]
    assert compose["services"]["gateway-1"]["build"]["dockerfile"] == "gateway/Dockerfile"
    assert "build" not in compose["services"]["gateway-2"]      # runs the image gateway-1 builds
    assert compose["services"]["worker"]["build"]["dockerfile"] == "worker/Dockerfile"


def test_env_names_and_defaults_agree_with_env_sh(compose, env_defaults):
    text = COMPOSE.read_text()
    # program options and their defaults (the config tables of wb-gateway / wb-worker)
    prog_defaults: dict = {}
    for f in ("gateway/gw_main.c", "worker/wk_main.c"):
        p = ROOT / f
        if p.exists():
            for n, dflt in re.findall(r'"(WB_[A-Z0-9_]+)",\s*WB_CFG_\w+,\s*"([^"]*)"', p.read_text()):
                prog_defaults.setdefault(n, dflt)
    # 1. every ${WB_X:-default} in the file uses env.sh's default (or the program's own)
    for name, default in re.findall(r"\$\{(WB_[A-Z0-9_]+):-([^}]*)\}", text):
        if name in DOCKER_ONLY_VARS:
            continue
        want = env_defaults.get(name, prog_defaults.get(name))
        assert want is not None, f"{name} is neither in scripts/env.sh nor a gateway/worker option"
        assert default == want, f"{name}: compose default {default!r} != native default {want!r}"
    # 2. every WB_* name in the file is known: env.sh, a program's own option
    #    (wb-gateway/wb-worker --help), the Traefik templates, or docker-only
    known = set(env_defaults) | DOCKER_ONLY_VARS
    for f in ("gateway/gw_main.c", "worker/wk_main.c"):
        p = ROOT / f
        if p.exists():
            known |= set(re.findall(r'"(WB_[A-Z0-9_]+)"', p.read_text()))
    for f in ("traefik/traefik.template.yml", "traefik/acme.template.yml", "traefik/dynamic.yml",
              "scripts/svc/traefik.sh"):
        known |= set(re.findall(r"(WB_[A-Z0-9_]+)", (ROOT / f).read_text()))
    code = "\n".join(line.split(" #", 1)[0] for line in text.splitlines() if not line.lstrip().startswith("#"))
    used = set(re.findall(r"(WB_[A-Z0-9_]+)", code))
    assert used <= known, f"unknown WB_* names in docker-compose.yml: {sorted(used - known)}"
    # 3. the services listen where the native stack does
    s = compose["services"]
    e = lambda n: s[n]["environment"]  # noqa: E731
    assert e("gateway-1")["WB_GATEWAY_ID"] == "gw-1" and e("gateway-2")["WB_GATEWAY_ID"] == "gw-2"
    assert str(e("gateway-1")["WB_PORT"]) == env_defaults["WB_GW1_PORT"]
    assert str(e("gateway-2")["WB_PORT"]) == env_defaults["WB_GW2_PORT"]
    assert str(e("worker")["WB_WORKER_PORT"]) == env_defaults["WB_WORKER_PORT"]
    assert str(e("postgres")["PGPORT"]) == env_defaults["WB_PG_PORT"]
    assert e("postgres")["POSTGRES_DB"] == env_defaults["WB_PG_DB"]
    assert e("postgres")["POSTGRES_USER"] == env_defaults["WB_PG_USER"]
    nats_port = env_defaults["WB_NATS_PORT"]
    for n in ("gateway-1", "gateway-2", "worker"):
        assert e(n)["WB_NATS_URL"] == f"nats://nats:{nats_port}"
    assert f"listen: 0.0.0.0:{nats_port}" in " ".join(s["nats"]["command"])
    assert f"http: 0.0.0.0:{env_defaults['WB_NATS_MONITOR_PORT']}" in " ".join(s["nats"]["command"])
    assert "sync_interval: always" in " ".join(s["nats"]["command"])
    assert f"@postgres:{env_defaults['WB_PG_PORT']}/{env_defaults['WB_PG_DB']}" in e("worker")["WB_PG_URL"]
    t = e("traefik")
    assert t["WB_GW1_URL"] == f"http://gateway-1:{env_defaults['WB_GW1_PORT']}"
    assert t["WB_GW2_URL"] == f"http://gateway-2:{env_defaults['WB_GW2_PORT']}"
    # 4. the healthchecks probe the ports the services listen on
    assert env_defaults["WB_GW1_PORT"] in " ".join(s["gateway-1"]["healthcheck"]["test"])
    assert env_defaults["WB_GW2_PORT"] in " ".join(s["gateway-2"]["healthcheck"]["test"])
    assert env_defaults["WB_WORKER_PORT"] in " ".join(s["worker"]["healthcheck"]["test"])
    # 5. volumes for the durable services
    vols = {n: " ".join(str(v) for v in s[n].get("volumes", [])) for n in ("nats", "postgres")}
    assert "nats-data" in vols["nats"] and "pg-data" in vols["postgres"]


def test_traefik_template_renders_for_docker_and_native(compose, env_defaults, tmp_path):
    """The same traefik/ files serve both: render the static template with the
    compose environment and with the native one; no placeholder is left."""
    t_env = {k: str(v) for k, v in compose["services"]["traefik"]["environment"].items()}
    r = subprocess.run(["sh", str(ROOT / "traefik" / "render.sh"), str(ROOT / "traefik" / "traefik.template.yml")],
                       env={**_clean_env(), **t_env}, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "${" not in r.stdout
    cfg = _yaml_to_json(r.stdout)
    ep = cfg["entryPoints"]
    assert ep["websecure"]["address"] == ":443" and "http3" in ep["websecure"]
    assert ep["web"]["address"] == ":80"
    assert ep["web"]["http"]["redirections"]["entryPoint"]["to"] == "websecure"
    assert ep["traefik"]["address"] == f"0.0.0.0:{env_defaults['WB_DASHBOARD_PORT']}"
    assert cfg["providers"]["file"]["filename"] == "/etc/whiteboard/traefik/dynamic.yml"
    assert cfg["accessLog"]["format"] == "json"
    # a missing variable is an error, not an empty address
    bad = {k: v for k, v in t_env.items() if k != "WB_HTTPS_PORT"}
    r2 = subprocess.run(["sh", str(ROOT / "traefik" / "render.sh"), str(ROOT / "traefik" / "traefik.template.yml")],
                        env={**_clean_env(), **bad}, capture_output=True, text=True)
    assert r2.returncode != 0 and "WB_HTTPS_PORT" in r2.stderr


def test_publish_address_and_ports_from_env():
    """WB_PUBLISH_ADDR / WB_DOCKER_HTTPS_PORT / WB_DOCKER_HTTP_PORT move what Traefik
    publishes; inside the container it listens on the same ports (redirects and Alt-Svc
    name the published port)."""
    env = {**_clean_env(), "WB_PUBLISH_ADDR": "127.0.0.1", "WB_DOCKER_HTTPS_PORT": "40443",
           "WB_DOCKER_HTTP_PORT": "40080"}
    r = subprocess.run([*_compose_bin(), "-f", str(COMPOSE), "config", "--format", "json"], env=env,
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    t = json.loads(r.stdout)["services"]["traefik"]
    got = {(p.get("host_ip", ""), str(p["published"]), str(p["target"]), p["protocol"]) for p in t["ports"]}
    assert {("127.0.0.1", "40443", "40443", "tcp"), ("127.0.0.1", "40443", "40443", "udp"),
            ("127.0.0.1", "40080", "40080", "tcp")} <= got, got
    assert t["environment"]["WB_HTTPS_PORT"] == "40443" and t["environment"]["WB_HTTP3_ADVERTISED_PORT"] == "40443"
    assert t["environment"]["WB_HTTP_PORT"] == "40080"


def test_cluster_profile_three_nats_nodes():
    """Profile cluster (make docker-up NATS_CLUSTER=1): nats, nats-2, nats-3 with routes to
    each other, same JetStream settings, clients given all three URLs."""
    routes = "nats://nats:6222,nats://nats-2:6222,nats://nats-3:6222"
    urls = "nats://nats:4222,nats://nats-2:4222,nats://nats-3:4222"
    env = {**_clean_env(), "COMPOSE_PROFILES": "cluster", "WB_DOCKER_NATS_ROUTES": routes,
           "WB_DOCKER_NATS_URL": urls, "WB_DOCKER_STREAM_REPLICAS": "3"}
    r = subprocess.run([*_compose_bin(), "-f", str(COMPOSE), "config", "--format", "json"], env=env,
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)["services"]
    assert {"nats", "nats-2", "nats-3"} <= set(s)
    names = set()
    for n in ("nats", "nats-2", "nats-3"):
        cmd = " ".join(s[n]["command"])
        assert routes in cmd and "sync_interval: always" in cmd and "listen: 0.0.0.0:6222" in cmd
        names.add(s[n]["environment"]["NATS_SERVER_NAME"])
        assert s[n]["healthcheck"]["test"]
    assert len(names) == 3
    for n in ("gateway-1", "gateway-2", "worker"):
        assert s[n]["environment"]["WB_NATS_URL"] == urls
        assert s[n]["environment"]["WB_STREAM_REPLICAS"] == "3"
    for n in ("nats", "nats-2", "nats-3"):
        cmd = " ".join(s[n]["command"])
        # every node has the users and the routes authenticate (user route, secret nats_route)
        assert "cat /run/secrets/nats_auth" in cmd, cmd
        assert "authorization { user: route" in cmd and "/run/secrets/nats_route" in cmd, cmd
        assert "nats://route:" in cmd, cmd
        assert {x["source"] for x in s[n]["secrets"]} >= {"nats_auth", "nats_route"}


NATS_ROLES = {"gateway-1": "gateway", "gateway-2": "gateway", "worker": "worker"}


def test_nats_auth_in_compose(compose):
    """No anonymous NATS in compose: every node appends the authorization block (secret
    nats_auth), gateways and worker log in as their role with a password file (a Docker
    secret, not a variable), every secret is a file under WB_DOCKER_SECRETS_DIR."""
    s = compose["services"]
    cmd = " ".join(s["nats"]["command"])
    assert "cat /run/secrets/nats_auth >> /tmp/nats.conf" in cmd, cmd
    assert "umask 077" in cmd
    assert {x["source"] for x in s["nats"]["secrets"]} == {"nats_auth", "nats_route"}
    for n, role in NATS_ROLES.items():
        e = s[n]["environment"]
        assert e["WB_NATS_USER"] == role, (n, e)
        assert e["WB_NATS_PASSWORD_FILE"] == f"/run/secrets/nats_{role}", (n, e)
        assert [x["source"] for x in s[n]["secrets"]] == [f"nats_{role}"], (n, s[n]["secrets"])
        assert "@" not in e["WB_NATS_URL"], "credentials in a URL"
        assert not any("PASSWORD" in k and k != "WB_NATS_PASSWORD_FILE" for k in e), e
    for n in ("postgres", "traefik", "volumes-init"):
        assert not any(x["source"].startswith("nats_") for x in s[n].get("secrets") or []), n
    for name in ("nats_auth", "nats_route", "nats_gateway", "nats_worker"):
        f = compose["secrets"][name]["file"]
        assert "/.run/docker/whiteboard.secrets/" in f, f
    text = COMPOSE.read_text()
    # one table of permissions: the compose file holds none of its own
    assert "permissions: {" not in text and "wb.rp" not in text


@pytest.mark.timeout(60)
def test_docker_secrets_from_native_table(tmp_path):
    """scripts/docker/secrets.sh writes the block `scripts/svc/nats.sh authorization` prints
    (users gateway, worker, observer, admin; nobody publishes wb.rp.>) with the passwords of
    its own files, readable only by the container user that needs each; it prints nothing,
    keeps passwords on a second run, and the real nats-server accepts the block."""
    sec = tmp_path / "sec"
    env = {**_clean_env(), "WB_RUN_DIR": str(tmp_path), "WB_DOCKER_SECRETS_DIR": str(sec)}
    r = subprocess.run(["bash", str(ROOT / "scripts" / "docker" / "secrets.sh")], env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "" and r.stderr == ""
    conf = (sec / "nats-auth.conf").read_text()
    pws = {u: (sec / f"nats-{u}").read_text().strip() for u in ("gateway", "worker", "observer", "admin", "route")}
    assert all(len(p) == 32 for p in pws.values()), "passwords"
    for u in ("gateway", "worker", "observer", "admin"):
        assert f'{{user: {u}, password: "{pws[u]}"' in conf, u
    assert pws["route"] not in conf
    assert conf.count('deny: ["wb.rp.>"') + conf.count('deny: ["wb.rp.>",') >= 3
    # the same table as the native server's config (scripts/svc/nats.sh is the one source)
    native = subprocess.run(["bash", str(ROOT / "scripts" / "svc" / "nats.sh"), "authorization"],
                            env={**env, "WB_SECRETS_DIR": str(sec)}, capture_output=True, text=True, check=True).stdout
    assert native == conf
    modes = {f.name: (f.stat().st_mode & 0o777, f.stat().st_gid) for f in sec.iterdir()}
    assert modes["nats-auth.conf"] == (0o640, 10002) and modes["nats-route"] == (0o640, 10002), modes
    assert modes["nats-gateway"] == (0o640, 10001) and modes["nats-worker"] == (0o640, 10001), modes
    assert modes["nats-admin"][0] == 0o600 and modes["nats-observer"][0] == 0o600, modes
    assert sec.stat().st_mode & 0o077 == 0
    r2 = subprocess.run(["bash", str(ROOT / "scripts" / "docker" / "secrets.sh")], env=env,
                        capture_output=True, text=True)
    assert r2.returncode == 0 and (sec / "nats-auth.conf").read_text() == conf
    server = ROOT / ".tools" / "bin" / "nats-server"
    assert server.exists(), "nats-server missing: make deps"
    cfg = tmp_path / "nats.conf"
    cfg.write_text("listen: 127.0.0.1:4222\n" + conf)
    t = subprocess.run([str(server), "-t", "-c", str(cfg)], capture_output=True, text=True, timeout=30)
    assert t.returncode == 0, t.stdout + t.stderr


@pytest.mark.timeout(60)
def test_acme_resolver_accepted_by_traefik(tmp_path):
    """Production: WB_DOMAIN + WB_ACME_EMAIL switch on a Let's Encrypt resolver. The real
    Traefik (the pinned binary) loads the static config with traefik/acme.template.yml
    appended, as the compose entrypoint does, and the dynamic config asks the resolver
    for WB_DOMAIN on the whiteboard router. The CA URL is a closed local port: nothing
    leaves this machine (a real certificate needs a public DNS name and port 443)."""
    traefik = ROOT / ".tools" / "bin" / "traefik"
    assert traefik.exists(), "Traefik binary missing: make deps"
    from wbstack import free_port, http_get
    https, http_port, dash = free_port(udp_too=True), free_port(), free_port()
    (tmp_path / "tls").mkdir()
    r = subprocess.run(["bash", str(ROOT / "scripts" / "tls.sh")], env={**_clean_env(), "WB_RUN_DIR": str(tmp_path),
                       "WB_TLS_OPENSSL": "1"}, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    env = {**_clean_env(), "WB_HTTP_PORT": str(http_port), "WB_HTTPS_PORT": str(https),
           "WB_HTTP3_ADVERTISED_PORT": str(https), "WB_DASHBOARD_HOST": "127.0.0.1", "WB_DASHBOARD_PORT": str(dash),
           "WB_GW1_URL": "http://127.0.0.1:9", "WB_GW2_URL": "http://127.0.0.1:9",
           "WB_TLS_CERT": str(tmp_path / "tls" / "cert.pem"), "WB_TLS_KEY": str(tmp_path / "tls" / "key.pem"),
           "WB_TRAEFIK_DYNAMIC": str(ROOT / "traefik" / "dynamic.yml"), "WB_TRAEFIK_ACCESS_LOG": "",
           "WB_TRAEFIK_LOG_LEVEL": "INFO", "WB_DOMAIN": "board.example.org", "WB_ACME_EMAIL": "ops@example.org",
           "WB_ACME_CA_SERVER": "https://127.0.0.1:9/directory", "WB_ACME_STORAGE": str(tmp_path / "acme.json")}
    cfg = tmp_path / "traefik.yml"
    text = ""
    for t in ("traefik.template.yml", "acme.template.yml"):
        r = subprocess.run(["sh", str(ROOT / "traefik" / "render.sh"), str(ROOT / "traefik" / t)], env=env,
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        text += r.stdout
    cfg.write_text(text)
    acme = _yaml_to_json(text)["certificatesResolvers"]["le"]["acme"]
    assert acme["email"] == "ops@example.org" and "tlsChallenge" in acme
    log = open(tmp_path / "traefik.log", "w")
    p = subprocess.Popen([str(traefik), f"--configFile={cfg}"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        import time
        deadline = time.monotonic() + 40
        router = None
        while time.monotonic() < deadline and p.poll() is None:
            try:
                rr = http_get(f"http://127.0.0.1:{dash}/api/http/routers/whiteboard@file", timeout=2)
                if rr.status == 200:
                    router = json.loads(rr.body)
                    break
            except OSError:
                pass
            time.sleep(0.3)
        assert router is not None, f"Traefik did not serve its API:\n{(tmp_path / 'traefik.log').read_text()[-3000:]}"
        assert router["tls"]["certResolver"] == "le", router
        assert router["tls"]["domains"][0]["main"] == "board.example.org", router
        assert router.get("status") == "enabled", router
    finally:
        p.terminate()
        p.wait(10)
        log.close()


# --------------------------------------------------------------------------
# Dockerfiles: our own lint

def _stages(dockerfile: Path):
    text = dockerfile.read_text()
    args = dict(re.findall(r"^ARG\s+([A-Z_]+)=(\S+)", text, re.M))
    froms = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, re.M | re.I)
    resolved = []
    for image, alias in froms:
        m = re.fullmatch(r"\$\{?([A-Z_]+)\}?", image)
        resolved.append((args.get(m.group(1), image) if m else image, alias))
    return text, resolved


@pytest.mark.parametrize("df", ["gateway/Dockerfile", "worker/Dockerfile"])
def test_dockerfile_lint(df):
    path = ROOT / df
    text, stages = _stages(path)
    assert len(stages) >= 2, "not multi-stage"
    aliases = {a for _, a in stages if a}
    for image, alias in stages:
        if image in aliases:
            continue
        name, _, tag = image.partition(":")
        assert tag and tag != "latest" and re.search(r"\d", tag), f"{df}: base image {image!r} is not pinned"
        assert "@" not in name
    debs = [img for img, _ in stages if img.startswith("debian:")]
    assert debs and all(re.match(r"debian:(13(\.\d+)?|trixie)", i) for i in debs), debs
    if df.startswith("gateway"):
        nodes = [img for img, _ in stages if img.startswith("node:")]
        assert nodes and all("trixie" in i for i in nodes), nodes
        assert "npm ci" in text and "target=/root/.npm" in text
        assert "client/dist" in text
    # final stage: non-root user, healthcheck, entrypoint
    final = text[text.rindex("\nFROM "):]
    users = re.findall(r"^USER\s+(\S+)", final, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0"), f"{df}: final stage runs as root"
    assert re.search(r"^HEALTHCHECK\s+.*CMD", final, re.M | re.S), f"{df}: no HEALTHCHECK"
    assert re.search(r"^ENTRYPOINT\s+\[", final, re.M), f"{df}: ENTRYPOINT not in exec form"
    # apt hygiene and caching
    for m in re.finditer(r"apt-get install[^\n]*", text):
        assert "--no-install-recommends" in m.group(0), m.group(0)
    assert "target=/var/cache/apt" in text and "target=/var/lib/apt" in text
    assert not re.search(r"^ADD\s+https?://", text, re.M)
    assert "-dev" not in final.split("apt-get install", 1)[-1].split("\n")[0], "dev packages in runtime"


def test_dockerignore_keeps_context_small():
    lines = {x.strip() for x in (ROOT / ".dockerignore").read_text().splitlines()}
    for p in (".git", ".tools", ".venv", ".run", "build", "client/node_modules", "client/dist"):
        assert p in lines, p


# --------------------------------------------------------------------------
# Debian 13 headers

@pytest.mark.timeout(300)
def test_code_compiles_against_trixie_headers():
    r = subprocess.run(["bash", str(ROOT / "scripts" / "check-trixie-headers.sh")], capture_output=True,
                       text=True, cwd=ROOT, timeout=280)
    print(r.stdout[-3000:])
    assert r.returncode == 0, f"check-trixie-headers.sh failed:\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}"
    assert "OK:" in r.stdout
    m = re.search(r"libwebsockets-dev (\S+)", r.stdout)
    assert m and m.group(1).startswith("4.3"), r.stdout
    m = re.search(r"libnats-dev (\S+)", r.stdout)
    assert m and m.group(1).startswith("3.10"), r.stdout


@pytest.mark.timeout(120)
def test_trixie_header_check_fails_loudly_without_mirror():
    with tempfile.TemporaryDirectory(prefix="wb-apt-") as d:
        env = {**os.environ, "WB_TOOLS_DIR": d, "WB_TRIXIE_MIRROR": "http://127.0.0.1:9/debian"}
        r = subprocess.run(["bash", str(ROOT / "scripts" / "check-trixie-headers.sh")], capture_output=True,
                           text=True, cwd=ROOT, env=env, timeout=110)
    assert r.returncode != 0, "the check passed without being able to download anything"
    assert "FAIL" in r.stderr, r.stderr[-2000:]
