#!/usr/bin/env bash
# Builds the Go-based tools (nats-server, nats CLI, Traefik) from the Go module
# proxy into .tools/bin, once per pinned version (scripts/versions.env).
# Idempotent and fast when cached: a stamp per tool and version in .tools/stamps.
#
# Traefik needs more than `go install` (see docs/operations.md, "Building Traefik"):
#  - its go.mod has replace lines, which `go install mod@ver` refuses, so it is
#    built from a throw-away wrapper module in .tools/traefik-build that repeats
#    them (relative replacement dirs rewritten to absolute module-cache paths);
#  - some modules it needs are refused by the proxy reachable here (403 "This
#    module version is not available"). Each of those is first pinned to a
#    version the proxy serves (TRAEFIK_PINS); the SDKs of ACME DNS providers that
#    have no servable version at all are cut out: the lego providers that import
#    them are replaced by generated stub packages (TRAEFIK_STUB_SDKS). A stubbed
#    provider returns an error if configured; nothing else in Traefik changes.
#    Pins and stubs apply ONLY when the upstream version cannot be downloaded, so
#    on a machine with the full proxy the build is plain upstream Traefik.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
. scripts/versions.env
TOOLS=${WB_TOOLS_DIR:-$ROOT/.tools}
BIN=$TOOLS/bin
mkdir -p "$BIN" "$TOOLS/stamps"
export GOBIN=$BIN GOFLAGS=-mod=mod GOTOOLCHAIN=local

have() { [ -x "$BIN/$1" ] && [ -f "$TOOLS/stamps/$1@$2" ]; }
stamp() { rm -f "$TOOLS/stamps/$1@"*; touch "$TOOLS/stamps/$1@$2"; }  # "$1@" only: "nats" must not match "nats-server"

if ! have nats-server "$NATS_SERVER_VERSION"; then
  echo "go-tools: building nats-server $NATS_SERVER_VERSION"
  go install "github.com/nats-io/nats-server/v2@$NATS_SERVER_VERSION"
  stamp nats-server "$NATS_SERVER_VERSION"
fi

if ! have nats "$NATS_CLI_VERSION"; then
  echo "go-tools: building nats CLI $NATS_CLI_VERSION"
  go install "github.com/nats-io/natscli/nats@$NATS_CLI_VERSION"
  stamp nats "$NATS_CLI_VERSION"
fi

# Module pins: "module=replacement@version", applied only when the version the
# build selects for <module> cannot be downloaded from the proxy.
TRAEFIK_PINS=(
  # Traefik's fork of go-http-auth (basic/digest auth middlewares) is refused:
  # use the upstream module it forks, same package API.
  "github.com/containous/go-http-auth=github.com/abbot/go-http-auth@v0.4.1-0.20220112235402-e1cee1c72f2f"
  # lego's huaweicloud provider wants v0.1.213; the proxy serves v0.1.207.
  "github.com/huaweicloud/huaweicloud-sdk-go-v3=github.com/huaweicloud/huaweicloud-sdk-go-v3@v0.1.207"
)
# SDK modules of ACME DNS providers (lego) with no version the proxy serves.
# A lego provider package importing one of them is replaced by a stub, but only
# if the SDK's selected version really cannot be downloaded.
TRAEFIK_STUB_SDKS=(
  github.com/go-acme/alidns-20150109/v5
  github.com/go-acme/esa-20240910/v3
  github.com/aziontech/azionapi-go-sdk
  github.com/dnsimple/dnsimple-go/v9
  github.com/akamai/AkamaiOPEN-edgegrid-golang/v13
  github.com/go-acme/tencentedgdeone
  github.com/go-acme/tencentclouddnspod
  github.com/nrdcg/oci-go-sdk/common/v1065
  github.com/nrdcg/oci-go-sdk/dns/v1065
  github.com/regfish/regfish-dnsapi-go
  github.com/sacloud/sacloud-sdk-go
  github.com/ucloud/ucloud-sdk-go
  github.com/yandex-cloud/go-sdk/services/dns
  github.com/yandex-cloud/go-sdk/v2
  github.com/huaweicloud/huaweicloud-sdk-go-v3
)

# modver MODULE: the version the wrapper build selects (empty if not required).
modver() { go list -m -e -f '{{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}' "$1" 2>/dev/null || true; }
# fetchable MODULE@VERSION: the proxy serves its zip.
fetchable() { go mod download "$1" >/dev/null 2>&1; }

build_traefik() {
  local t0 W dir lego_ver legodir line old new mod rep repver v p pkg n_stub=0
  t0=$(date +%s)
  W=$TOOLS/traefik-build
  rm -rf "$W"; mkdir -p "$W"; cd "$W"
  go mod init wb/traefik-build >/dev/null 2>&1
  go mod download -json "github.com/traefik/traefik/v3@$TRAEFIK_VERSION" > dl.json
  dir=$(python3 -c 'import json;print(json.load(open("dl.json"))["Dir"])')
  go mod edit -go="$(awk '/^go /{print $2; exit}' "$dir/go.mod")"
  go mod edit -require="github.com/traefik/traefik/v3@$TRAEFIK_VERSION"
  # Repeat the upstream replace and exclude lines; a relative replacement dir
  # (./pkg/config/dynamic/ext) is resolved against traefik's module-cache dir.
  awk '/^replace \(/{f=1;next} f&&/^\)/{f=0} f&&NF&&!/^[ \t]*\/\//{print} /^replace [^(]/{sub(/^replace /,"");print}' "$dir/go.mod" |
    while read -r line; do
      old=$(echo "$line" | awk -F'=>' '{print $1}' | xargs | tr ' ' '@')
      new=$(echo "$line" | awk -F'=>' '{print $2}' | xargs | tr ' ' '@')
      case $new in
        ./*|../*)
          if [ -d "$dir/$new" ]; then
            new=$(cd "$dir/$new" && pwd)
          elif [ "$old" = github.com/traefik/traefik/dynamic/ext ]; then
            # A nested module (own go.mod) is not part of traefik's module zip,
            # and the proxy does not serve it on its own. Upstream it is an
            # extension point of empty structs: recreate exactly that.
            mkdir -p "$W/ext"
            printf 'module github.com/traefik/traefik/dynamic/ext\n\ngo 1.24\n' > "$W/ext/go.mod"
            cat > "$W/ext/ext.go" <<'GO'
// Package ext recreates Traefik's dynamic-config extension point (upstream
// pkg/config/dynamic/ext, a nested module missing from the module zip).
package ext

// HTTP is a dynamic.HTTP extension.
type HTTP struct{}

// Router is a dynamic.Router extension.
type Router struct{}

// RouterIng is a RouterIng extension for ingress provider annotations.
type RouterIng struct{}

// ToRouter converts RouterIng to a Router.
func (r RouterIng) ToRouter() Router { return Router{} }
GO
            new=$W/ext
          else
            echo "go-tools: replacement dir $new of $old is missing from traefik's module zip" >&2
            exit 1
          fi ;;
      esac
      go mod edit -replace="$old=$new"
    done
  awk '/^exclude \(/{f=1;next} f&&/^\)/{f=0} f&&NF&&!/^[ \t]*\/\//{print} /^exclude [^(]/{sub(/^exclude /,"");print}' "$dir/go.mod" |
    while read -r line; do go mod edit -exclude="$(echo "$line" | xargs | tr ' ' '@')"; done
  printf '//go:build tools\n\npackage main\n\nimport _ "github.com/traefik/traefik/v3/cmd/traefik"\n' > tools.go

  # Pins: a refused module (or refused replacement) -> a version the proxy serves.
  for p in "${TRAEFIK_PINS[@]}"; do
    mod=${p%%=*}; rep=${p#*=}; repver=${rep##*@}; rep=${rep%@*}
    # Who points at <mod>? Either it is required directly, or it is the target
    # of an upstream replace (github.com/abbot/go-http-auth => containous fork).
    local src
    src=$(go mod edit -json | python3 -c '
import json,sys
m=sys.argv[1]; j=json.load(sys.stdin)
for r in j.get("Replace") or []:
    if r["New"]["Path"]==m: print(r["Old"]["Path"], r["New"].get("Version","")); break
' "$mod")
    if [ -n "$src" ]; then
      set -- $src
      if ! fetchable "$mod@$2"; then
        echo "go-tools: pin $1 => $rep@$repver ($mod@$2 is refused by the proxy)"
        if [ "$mod" = github.com/containous/go-http-auth ]; then
          # Traefik's fork adds one method to upstream: DigestAuth.RequireAuthStale
          # (the 401 challenge with stale=true). Local copy of upstream + that method.
          local up
          up=$(go mod download -json "$rep@$repver" | python3 -c 'import json,sys;print(json.load(sys.stdin)["Dir"])')
          cp -r "$up" "$W/go-http-auth"; chmod -R u+w "$W/go-http-auth"
          cat > "$W/go-http-auth/stale_wb.go" <<'GO'
package auth

import (
	"fmt"
	"net/http"
	"time"
)

// RequireAuthStale is RequireAuth with stale=true in the challenge (added by
// whiteboard's scripts/go-tools.sh, as in Traefik's containous fork).
func (da *DigestAuth) RequireAuthStale(w http.ResponseWriter, r *http.Request) {
	da.mutex.RLock()
	clientsLen := len(da.clients)
	da.mutex.RUnlock()

	if clientsLen > da.ClientCacheSize+da.ClientCacheTolerance {
		da.Purge(da.ClientCacheTolerance * 2)
	}
	nonce := RandomKey()

	da.mutex.Lock()
	da.clients[nonce] = &digestClient{nc: 0, lastSeen: time.Now().UnixNano()}
	da.mutex.Unlock()

	da.mutex.RLock()
	w.Header().Set(contentType, da.Headers.V().UnauthContentType)
	w.Header().Set(da.Headers.V().Authenticate,
		fmt.Sprintf(`Digest realm="%s", nonce="%s", opaque="%s", algorithm=MD5, qop="auth", stale=true`,
			da.Realm, nonce, da.Opaque))
	w.WriteHeader(da.Headers.V().UnauthCode)
	w.Write([]byte(da.Headers.V().UnauthResponse))
	da.mutex.RUnlock()
}
GO
          go mod edit -dropreplace="$1" -replace="$1=./go-http-auth"
        else
          go mod edit -dropreplace="$1" -replace="$1=$rep@$repver"
        fi
      fi
    else
      v=$(modver "$mod")
      if [ -n "$v" ] && ! fetchable "$mod@$v"; then
        echo "go-tools: pin $mod $v => $rep@$repver (refused by the proxy)"
        go mod edit -replace="$mod=$rep@$repver"
      fi
    fi
  done

  # Stubs: copy lego into the wrapper and replace the DNS providers whose SDK
  # cannot be downloaded (after pinning) by stub packages.
  lego_ver=$(modver github.com/go-acme/lego/v5)
  if [ -n "$lego_ver" ]; then
    local refused=()
    for mod in "${TRAEFIK_STUB_SDKS[@]}"; do
      v=$(modver "$mod")
      [ -n "$v" ] || continue
      fetchable "$mod@$v" || refused+=("$mod")
    done
    if [ ${#refused[@]} -gt 0 ]; then
      legodir=$(go mod download -json "github.com/go-acme/lego/v5@$lego_ver" | python3 -c 'import json,sys;print(json.load(sys.stdin)["Dir"])')
      cp -r "$legodir" "$W/lego"; chmod -R u+w "$W/lego"
      : > "$W/stubbed.txt"
      for mod in "${refused[@]}"; do
        grep -rlF "\"$mod" "$W/lego/providers/dns" --include='*.go' | grep -v '_test.go$' |
          sed -E "s#^$W/lego/providers/dns/([^/]+)/.*#\1#" | sort -u |
          while read -r p; do
            echo "$p $mod" >> "$W/stubbed.txt"
          done
      done
      awk '{print $1}' "$W/stubbed.txt" | sort -u | while read -r p; do
        pkg=$(grep -h -m1 '^package ' "$legodir/providers/dns/$p"/*.go | grep -v _test | head -1 | awk '{print $2}')
        rm -rf "$W/lego/providers/dns/$p"; mkdir -p "$W/lego/providers/dns/$p"
        cat > "$W/lego/providers/dns/$p/stub.go" <<GO
// Package $pkg is a stub generated by whiteboard's scripts/go-tools.sh: the
// SDK this ACME DNS provider needs cannot be downloaded from the Go module
// proxy on the build machine, so this Traefik binary cannot use it.
package $pkg

import (
	"context"
	"errors"
	"time"
)

var errStub = errors.New("lego DNS provider \"$p\" is not included in this Traefik build (its SDK was not downloadable)")

type Config struct{}

func NewDefaultConfig() *Config { return &Config{} }

type DNSProvider struct{}

func NewDNSProvider() (*DNSProvider, error)                  { return nil, errStub }
func NewDNSProviderConfig(*Config) (*DNSProvider, error)    { return nil, errStub }
func (*DNSProvider) Present(context.Context, string, string, string) error { return errStub }
func (*DNSProvider) CleanUp(context.Context, string, string, string) error { return errStub }
func (*DNSProvider) Timeout() (time.Duration, time.Duration) { return time.Minute, time.Second }
GO
      done
      echo "go-tools: stubbed lego DNS providers (SDK not downloadable): $(awk '{print $1}' "$W/stubbed.txt" | sort -u | tr '\n' ' ')"
      go mod edit -replace="github.com/go-acme/lego/v5=./lego"
    fi
  fi

  go mod tidy -e >/dev/null 2>&1 || true
  go build -trimpath -ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK_VERSION" \
    -o "$BIN/traefik.new" github.com/traefik/traefik/v3/cmd/traefik
  mv "$BIN/traefik.new" "$BIN/traefik"
  cd "$ROOT"
  echo "$TRAEFIK_VERSION built in $(( $(date +%s) - t0 ))s on $(date -u +%FT%TZ) ($(nproc) cores)" > "$TOOLS/stamps/build-time-traefik.txt"
  cat "$TOOLS/stamps/build-time-traefik.txt"
}

if ! have traefik "$TRAEFIK_VERSION"; then
  echo "go-tools: building traefik $TRAEFIK_VERSION (takes a few minutes the first time)"
  build_traefik
  stamp traefik "$TRAEFIK_VERSION"
fi
echo "go-tools: nats-server $NATS_SERVER_VERSION, nats $NATS_CLI_VERSION, traefik $TRAEFIK_VERSION in $BIN"
