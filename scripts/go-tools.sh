#!/usr/bin/env bash
# Builds the Go-based tools (nats-server, nats CLI, Traefik) from the Go module
# proxy into .tools/bin, once per pinned version. Idempotent and fast when cached.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/versions.env
TOOLS=${WB_TOOLS_DIR:-$PWD/.tools}
BIN=$TOOLS/bin
mkdir -p "$BIN" "$TOOLS/stamps"
export GOBIN=$BIN GOFLAGS=-mod=mod GOTOOLCHAIN=local

have() { [ -x "$BIN/$1" ] && [ -f "$TOOLS/stamps/$1-$2" ]; }
stamp() { rm -f "$TOOLS/stamps/$1-"*; touch "$TOOLS/stamps/$1-$2"; }

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

if ! have traefik "$TRAEFIK_VERSION"; then
  # Traefik's go.mod has replace directives, which `go install mod@ver` refuses:
  # build it from a throw-away wrapper module that repeats them.
  echo "go-tools: building traefik $TRAEFIK_VERSION (takes a few minutes the first time)"
  W=$TOOLS/traefik-build
  rm -rf "$W"; mkdir -p "$W"; cd "$W"
  go mod init wb/traefik-build >/dev/null 2>&1
  go mod download -json "github.com/traefik/traefik/v3@$TRAEFIK_VERSION" > dl.json
  dir=$(python3 -c 'import json,sys;print(json.load(open("dl.json"))["Dir"])')
  go mod edit -require="github.com/traefik/traefik/v3@$TRAEFIK_VERSION"
  # Repeat the upstream replace lines.
  awk '/^replace \(/{f=1;next} f&&/^\)/{f=0} f&&NF{print} /^replace [^(]/{sub(/^replace /,"");print}' "$dir/go.mod" |
    while read -r line; do
      old=$(echo "$line" | awk -F'=>' '{print $1}' | xargs | tr ' ' '@')
      new=$(echo "$line" | awk -F'=>' '{print $2}' | xargs | tr ' ' '@')
      go mod edit -replace="$old=$new"
    done
  printf 'package main\nimport _ "github.com/traefik/traefik/v3/cmd/traefik"\n' > tools.go
  go mod tidy >/dev/null 2>&1 || true
  go build -trimpath -ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK_VERSION" -o "$BIN/traefik" github.com/traefik/traefik/v3/cmd/traefik
  cd - >/dev/null
  stamp traefik "$TRAEFIK_VERSION"
fi
echo "go-tools: nats-server $NATS_SERVER_VERSION, nats $NATS_CLI_VERSION, traefik $TRAEFIK_VERSION in $BIN"
