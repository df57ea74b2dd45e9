#!/usr/bin/env bash
# Checks that the C code compiles against Debian 13 (trixie)'s libwebsockets
# (4.3) and nats.c (3.10) headers, the versions the Docker images build with,
# while this machine runs Debian 12 (lws 4.1.6, nats.c 3.4.1).
#
# How: a project-local apt configuration under .tools/apt-trixie (own
# sources.list for trixie on the same Debian mirror as the system, own lists,
# cache and an empty dpkg status; the system's sources and state are never
# touched) -> `apt-get download libwebsockets-dev libnats-dev` -> `dpkg-deb -x`
# -> `cc -fsyntax-only` with the project's warning flags (-Werror) on every
# gateway/*.c, worker/*.c and common/*.c, trixie's headers first on the path.
# Also prints the runtime library packages trixie would need.
#
# Fails loudly (exit 1, with the reason) when anything is impossible, e.g. the
# mirror cannot be reached: never a silent pass. Idempotent: the package lists
# are refreshed at most once a day, the .debs are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS=${WB_TOOLS_DIR:-$ROOT/.tools}
A=$TOOLS/apt-trixie
PKGS=(libwebsockets-dev libnats-dev)

die() { echo "check-trixie-headers: FAIL: $*" >&2; exit 1; }

mkdir -p "$A"/etc/sources.list.d "$A"/etc/preferences.d "$A"/state/lists/partial \
  "$A"/cache/archives/partial "$A"/debs
# The system's Debian mirror (deb822 or one-line format), else deb.debian.org.
mirror=$(grep -hoE '^URIs:[[:space:]]*\S+' /etc/apt/sources.list.d/*.sources 2>/dev/null |
  awk '{print $2}' | grep -v security | head -1 || true)
[ -n "$mirror" ] || mirror=$(grep -hoE '^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?\S+' /etc/apt/sources.list 2>/dev/null |
  awk '{print $NF}' | grep -v security | head -1 || true)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
mirror=${WB_TRIXIE_MIRROR:-$mirror}     # override (tests use a dead one to prove the check fails loudly)
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
echo "deb [signed-by=$keyring] $mirror trixie main" > "$A/etc/sources.list"
: > "$A/state/status"
cat > "$A/apt.conf" <<CONF
Dir::Etc::SourceList "$A/etc/sources.list";
Dir::Etc::SourceParts "$A/etc/sources.list.d";
Dir::Etc::Preferences "$A/etc/preferences";
Dir::Etc::PreferencesParts "$A/etc/preferences.d";
Dir::State "$A/state";
Dir::State::Lists "$A/state/lists";
Dir::State::status "$A/state/status";
Dir::Cache "$A/cache";
Dir::Cache::archives "$A/cache/archives";
APT::Architecture "$(dpkg --print-architecture)";
Acquire::Languages "none";
// The project dir may not be traversable by the _apt sandbox user (a clone
// under a 0700 temp dir): these downloads are only unpacked, never installed.
APT::Sandbox::User "root";
CONF
export APT_CONFIG=$A/apt.conf

stamp=$A/state/updated
if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440 2>/dev/null)" ] || ! ls "$A"/state/lists/*Packages* >/dev/null 2>&1; then
  echo "check-trixie-headers: apt-get update (trixie lists from $mirror, project-local)"
  apt-get -q update > "$A/update.log" 2>&1 || { cat "$A/update.log" >&2; die "apt-get update for trixie failed (see above)"; }
  grep -qiE '^(W|E):.*trixie' "$A/update.log" && { cat "$A/update.log" >&2; die "apt-get update reported problems for trixie"; }
  touch "$stamp"
fi

for p in "${PKGS[@]}"; do
  v=$(apt-cache policy "$p" | awk '/Candidate:/{print $2}')
  [ -n "$v" ] && [ "$v" != "(none)" ] || die "trixie has no candidate for $p"
  f=$(ls "$A/debs/${p}_"*.deb 2>/dev/null | grep -F "_${v/:/%3a}_" | head -1 || true)
  if [ -z "$f" ]; then
    (cd "$A/debs" && apt-get -q download "$p=$v") > "$A/download.log" 2>&1 ||
      { cat "$A/download.log" >&2; die "apt-get download $p=$v failed"; }
  fi
done

inc=$A/root
rm -rf "$inc"; mkdir -p "$inc"
for p in "${PKGS[@]}"; do
  v=$(apt-cache policy "$p" | awk '/Candidate:/{print $2}')
  f=$(ls "$A/debs/${p}_"*.deb | grep -F "_${v/:/%3a}_" | head -1)
  dpkg-deb -x "$f" "$inc"
  echo "check-trixie-headers: $p $v ($(basename "$f"))"
done
[ -f "$inc/usr/include/libwebsockets.h" ] || die "libwebsockets.h not in trixie's libwebsockets-dev"
[ -f "$inc/usr/include/nats/nats.h" ] || die "nats/nats.h not in trixie's libnats-dev"
lws_ver=$(grep -hoE 'LWS_LIBRARY_VERSION "[^"]+"' "$inc/usr/include/lws_config.h" | cut -d'"' -f2 || true)
nats_ver=$(grep -hoE 'NATS_VERSION_STRING +"[^"]+"' "$inc/usr/include/nats/nats.h" "$inc/usr/include/nats/"*.h 2>/dev/null | head -1 | cut -d'"' -f2 || true)
echo "check-trixie-headers: headers: libwebsockets ${lws_ver:-?}, nats.c ${nats_ver:-?}"

# runtime libraries the images need (for the Dockerfiles' runtime stage)
echo "check-trixie-headers: runtime deps: $(for p in "${PKGS[@]}"; do apt-cache depends "$p" | awk '/Depends: lib(websockets|nats)[0-9]/{print $2}'; done | sort -u | tr '\n' ' ')"

# generated protobuf header (from proto/, same as the build)
[ -f build/gen/whiteboard.pb-c.h ] || make -s build/gen/whiteboard.pb-c.h >/dev/null

CFLAGS=(-std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -pthread -fsyntax-only
  -I"$inc/usr/include" -I"$ROOT/common" -I"$ROOT/build/gen" -I/usr/include/postgresql)
# the other libraries' flags from this machine (unchanged between the versions we care about)
read -r -a other <<< "$(pkg-config --cflags jansson libprotobuf-c libpq 2>/dev/null || true)"
files=$(ls gateway/*.c worker/*.c common/*.c 2>/dev/null | grep -vE '_fuzz\.c$' || true)
[ -n "$files" ] || die "no C sources found"
n=0 bad=0
for f in $files; do
  n=$((n + 1))
  if ! cc "${CFLAGS[@]}" "${other[@]}" "$f" 2> "$A/cc.err"; then
    bad=$((bad + 1)); echo "--- $f"; cat "$A/cc.err"
  fi
done
# prove the trixie headers were the ones used (not the system's)
for h in libwebsockets.h nats/nats.h; do
  echo "#include <$h>" | cc -E -I"$inc/usr/include" -x c - > "$A/pp.out" 2>/dev/null || true
  grep -qF "\"$inc/usr/include/$h\"" "$A/pp.out" || die "the compiler did not pick trixie's $h"
done
[ "$bad" = 0 ] || die "$bad of $n C files do not compile against trixie's headers"
echo "check-trixie-headers: OK: $n C files compile (-fsyntax-only -Werror) against trixie's libwebsockets ${lws_ver:-?} and nats.c ${nats_ver:-?} headers"
