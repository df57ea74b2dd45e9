#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian 12 machine, and does
# nothing (quickly) when it is already there: Debian packages, Go-built tools
# (nats-server, nats CLI, Traefik) in .tools/, the Python venv in .venv/, npm
# packages in client/node_modules, and the C build.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

APT_PKGS=(build-essential pkg-config clang libclang-rt-14-dev clang-format
  libwebsockets-dev libwebsockets-evlib-uv libuv1-dev libnats-dev libjansson-dev libprotobuf-c-dev libjemalloc-dev protobuf-c-compiler protobuf-compiler
  libpq-dev libcmocka-dev postgresql postgresql-contrib mkcert libnss3-tools openssl
  chromium gnuplot curl procps iproute2 iptables docker-compose supervisor)
want=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || want+=("$p")
done
if [ ${#want[@]} -gt 0 ]; then
  echo "deps: apt-get install ${want[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -q --no-install-recommends "${want[@]}"
fi

bash scripts/go-tools.sh

# Python venv with pinned test tools.
REQ=tests/requirements.txt
if [ ! -x .venv/bin/python ] || ! cmp -s "$REQ" .venv/.requirements.stamp; then
  echo "deps: python venv"
  python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r "$REQ"
  cp "$REQ" .venv/.requirements.stamp
fi

# npm packages for the client, from the committed lockfile.
if [ -f client/package-lock.json ]; then
  if [ ! -d client/node_modules ] || ! cmp -s client/package-lock.json client/node_modules/.package-lock.stamp; then
    echo "deps: npm ci (client)"
    (cd client && npm ci --no-audit --no-fund --loglevel=error)
    cp client/package-lock.json client/node_modules/.package-lock.stamp
  fi
fi
