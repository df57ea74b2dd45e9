#!/usr/bin/env bash
# Local stand-ins for the official images, built ONLY for images that are neither present
# in the engine nor pullable (no registry answers). Prints nothing but progress on stderr;
# each image is rebuilt only when its inputs change (label wb.standin.input = their hash).
#   debian   Debian 13 (trixie) minbase from debootstrap, imported with `docker import`
#   nats     nats-server from $WB_TOOLS_DIR/bin (the native stack's pinned binary)
#   traefik  traefik from $WB_TOOLS_DIR/bin (the native stack's pinned binary)
#   postgres Debian 13's postgresql package, the official image's environment interface
#   node     Debian 13's nodejs + npm
# usage: build.sh NAME...   (names above; image tags come from scripts/docker/images.sh)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
. "$ROOT/scripts/versions.env"
TOOLS=${WB_TOOLS_DIR:-$ROOT/.tools}
say() { echo "stand-in: $*" >&2; }

: "${WB_STANDIN_DEBIAN:=wb-standin/debian:13}"
label() { docker image inspect -f '{{index .Config.Labels "wb.standin.input"}}' "$1" 2>/dev/null || true; }

build_debian() {
  local img=$WB_STANDIN_DEBIAN suite=trixie
  local key
  key=$(printf 'debian %s minbase v2' "$suite" | sha256sum | cut -c1-16)
  [ "$(label "$img")" = "$key" ] && return 0
  say "$img: debootstrap --variant=minbase $suite (about a minute)"
  local dir
  dir=$(mktemp -d /tmp/wb-debootstrap.XXXXXX)
  debootstrap --variant=minbase "$suite" "$dir" http://deb.debian.org/debian >"$dir.log" 2>&1 ||
    { tail -20 "$dir.log" >&2; rm -rf "$dir" "$dir.log"; return 1; }
  # The same apt sources and slimming as the official debian:*-slim image.
  rm -f "$dir/etc/apt/sources.list"
  cat >"$dir/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: http://deb.debian.org/debian
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  cat >"$dir/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  printf 'APT::Install-Recommends "false";\n' >"$dir/etc/apt/apt.conf.d/docker-no-recommends"
  rm -rf "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/* \
    "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* \
    "$dir"/var/log/* "$dir"/tmp/*
  find "$dir/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  tar --numeric-owner -C "$dir" -c . |
    docker import -c "LABEL wb.standin.input=$key" -c 'CMD ["bash"]' - "$img" >/dev/null
  rm -rf "$dir" "$dir.log"
}

# build_from NAME TAG DOCKERFILE [FILE...]: docker buildx build FROM the Debian stand-in,
# context = the Dockerfile's folder plus the given files.
build_from() {
  local name=$1 img=$2 df=$3
  shift 3
  local key ctx f
  key=$( (
    echo "$name $WB_STANDIN_DEBIAN $(label "$WB_STANDIN_DEBIAN")"
    cat "$HERE/$df"
    [ "$name" = postgres ] && cat "$HERE/postgres-entrypoint.sh"
    for f in "$@"; do sha256sum <"$f"; done
  ) | sha256sum | cut -c1-16)
  [ "$(label "$img")" = "$key" ] && return 0
  say "$img: building ($df)"
  ctx=$(mktemp -d /tmp/wb-standin.XXXXXX)
  cp "$HERE/$df" "$ctx/Dockerfile"
  [ "$name" = postgres ] && cp -p "$HERE/postgres-entrypoint.sh" "$ctx/"
  for f in "$@"; do cp "$f" "$ctx/"; done
  docker buildx build --load -q --build-arg "BASE_IMAGE=$WB_STANDIN_DEBIAN" \
    --label "wb.standin.input=$key" -t "$img" "$ctx" >/dev/null ||
    { rm -rf "$ctx"; say "$img: build failed"; return 1; }
  rm -rf "$ctx"
}

need_bin() {
  [ -x "$TOOLS/bin/$1" ] || { say "$TOOLS/bin/$1 missing: run make deps (scripts/go-tools.sh)"; return 1; }
  echo "$TOOLS/bin/$1"
}

# Debian first (the others build FROM it), then the rest in parallel (mostly apt downloads).
for name in "$@"; do
  case $name in
  nats) NATS_BIN=$(need_bin nats-server) ;;
  traefik) TRAEFIK_BIN=$(need_bin traefik) ;;
  esac
done
build_debian
pids=()
for name in "$@"; do
  case $name in
  debian) continue ;;
  nats) build_from nats "$WB_STANDIN_NATS" nats.Dockerfile "$NATS_BIN" & ;;
  traefik) build_from traefik "$WB_STANDIN_TRAEFIK" traefik.Dockerfile "$TRAEFIK_BIN" & ;;
  postgres) build_from postgres "$WB_STANDIN_POSTGRES" postgres.Dockerfile & ;;
  node) build_from node "$WB_STANDIN_NODE" node.Dockerfile & ;;
  *) say "unknown stand-in $name"; exit 2 ;;
  esac
  pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
# a stand-in rebuilt for new inputs leaves the one it replaced untagged: remove those
docker image prune -f --filter label=wb.standin.input >/dev/null || true
exit $rc
