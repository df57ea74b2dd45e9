#!/usr/bin/env bash
# Makes `docker compose` with BuildKit work on this machine (idempotent, ~0.2 s when done):
#  1. Debian's docker.io (engine + CLI) and debootstrap (for the stand-in base image);
#  2. dockerd running (systemd if it runs the machine, otherwise started in the background,
#     log in /var/log/wb-dockerd.log);
#  3. the buildx and compose v2 CLI plugins, built from the Go module proxy at the versions
#     pinned in scripts/versions.env into $WB_TOOLS_DIR/bin, installed into
#     ~/.docker/cli-plugins (Debian 12 packages neither).
# Prints nothing when everything is already in place, unless DOCKER_TOOLS_VERBOSE=1.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
. scripts/versions.env
TOOLS=${WB_TOOLS_DIR:-$ROOT/.tools}
BIN=$TOOLS/bin
PLUGINS=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins
mkdir -p "$BIN" "$TOOLS/stamps" "$PLUGINS"
say() { echo "docker-tools: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# ---- 1. packages -------------------------------------------------------------------
want=()
for p in docker.io debootstrap; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || want+=("$p")
done
if [ ${#want[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "need root to apt-get install ${want[*]}"
  say "apt-get install ${want[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -q --no-install-recommends "${want[@]}" >/dev/null
fi

# ---- 2. the engine -----------------------------------------------------------------
if ! docker info >/dev/null 2>&1; then
  if [ -d /run/systemd/system ]; then
    say "systemctl start docker"
    systemctl start docker
  else
    say "starting dockerd (log /var/log/wb-dockerd.log)"
    setsid nohup dockerd >>/var/log/wb-dockerd.log 2>&1 </dev/null &
  fi
  for _ in $(seq 1 120); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || die "dockerd did not come up (see /var/log/wb-dockerd.log)"
fi

# ---- 3. CLI plugins from the Go module proxy -----------------------------------------
export GOFLAGS=-mod=mod GOTOOLCHAIN=${GOTOOLCHAIN:-auto}
command -v go >/dev/null || export PATH=/usr/local/go/bin:$PATH
have() { [ -x "$BIN/$1" ] && [ -f "$TOOLS/stamps/$1@$2" ]; }
stamp() { rm -f "$TOOLS/stamps/$1@"*; touch "$TOOLS/stamps/$1@$2"; }
install_plugin() { # install_plugin BIN_NAME PLUGIN_NAME
  cmp -s "$BIN/$1" "$PLUGINS/$2" || install -m 0755 "$BIN/$1" "$PLUGINS/$2"
}

if ! have docker-buildx "$BUILDX_VERSION"; then
  say "building buildx $BUILDX_VERSION (go install)"
  # The version string matters: compose refuses buildx older than 0.17 (and "v0.0.0").
  GOBIN=$BIN nice go install -ldflags "-s -w -X github.com/docker/buildx/version.Version=$BUILDX_VERSION" \
    "github.com/docker/buildx/cmd/buildx@$BUILDX_VERSION"
  mv -f "$BIN/buildx" "$BIN/docker-buildx"
  stamp docker-buildx "$BUILDX_VERSION"
fi
install_plugin docker-buildx docker-buildx

# Compose's go.mod has `exclude` lines, which `go install mod@version` refuses: build it
# from a throw-away wrapper module that requires compose at the pinned version and repeats
# them (exclusions only apply in the main module).
if ! have docker-compose "$COMPOSE_VERSION"; then
  say "building compose $COMPOSE_VERSION (wrapper module in $TOOLS/compose-build)"
  mod=github.com/docker/compose/${COMPOSE_VERSION%%.*}
  W=$TOOLS/compose-build
  rm -rf "$W" && mkdir -p "$W"
  (
    cd "$W"
    go mod init wb/compose-build >/dev/null 2>&1
    gomod=$(go mod download -json "$mod@$COMPOSE_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
    go mod edit -go="$(awk '/^go /{print $2; exit}' "$gomod")"
    awk '/^exclude \(/{f=1;next} f&&/^\)/{f=0} f&&NF&&!/^[ \t]*\/\//{print} /^exclude [^(]/{sub(/^exclude /,"");print}' "$gomod" |
      while read -r line; do go mod edit -exclude="$(echo "$line" | xargs | tr ' ' '@')"; done
    go get "$mod/cmd@$COMPOSE_VERSION" >/dev/null 2>&1 || go get "$mod/cmd@$COMPOSE_VERSION"
    nice go build -trimpath -o "$BIN/docker-compose" \
      -ldflags "-s -w -X $mod/internal.Version=$COMPOSE_VERSION" "$mod/cmd"
  )
  stamp docker-compose "$COMPOSE_VERSION"
fi
install_plugin docker-compose docker-compose

docker buildx version >/dev/null 2>&1 || die "docker buildx does not run (plugin in $PLUGINS)"
docker compose version >/dev/null 2>&1 || die "docker compose does not run (plugin in $PLUGINS)"
[ "${DOCKER_TOOLS_VERBOSE:-0}" = 1 ] && {
  docker version --format 'engine {{.Server.Version}} (API {{.Server.APIVersion}}), CLI {{.Client.Version}}'
  docker buildx version
  docker compose version
}
exit 0
