#!/usr/bin/env bash
# Runs Traefik (built by scripts/go-tools.sh into .tools/bin) in the foreground
# for the native stack: HTTPS + HTTP/3 on $WB_HTTPS_PORT (TCP and UDP), HTTP ->
# HTTPS redirect on $WB_HTTP_PORT, API/dashboard on 127.0.0.1:$WB_DASHBOARD_PORT,
# balancing gw-1..gw-$WB_GATEWAYS (WB_GW_URLS, from scripts/env.sh's ports). Static config rendered
# from traefik/traefik.template.yml into $WB_RUN_DIR/traefik/; the dynamic config
# is traefik/dynamic.yml itself (watched). Access log: $WB_RUN_DIR/traefik/access.log.
set -euo pipefail
. "$(dirname "$0")/../env.sh"
bash "$WB_ROOT/scripts/tls.sh" >&2
dir=$WB_RUN_DIR/traefik
mkdir -p "$dir"
: "${WB_TLS_CERT:=$WB_RUN_DIR/tls/cert.pem}"
: "${WB_TLS_KEY:=$WB_RUN_DIR/tls/key.pem}"
: "${WB_TRAEFIK_DYNAMIC:=$WB_ROOT/traefik/dynamic.yml}"
: "${WB_TRAEFIK_ACCESS_LOG:=$dir/access.log}"
: "${WB_TRAEFIK_LOG_LEVEL:=INFO}"
: "${WB_DASHBOARD_HOST:=127.0.0.1}"
: "${WB_HTTP3_ADVERTISED_PORT:=$WB_HTTPS_PORT}"
if [ -z "${WB_GW_URLS:-}" ]; then
  for ((i = 1; i <= WB_GATEWAYS; i++)); do WB_GW_URLS+="${WB_GW_URLS:+,}http://127.0.0.1:$(wb_gw_port $i)"; done
fi
export WB_TLS_CERT WB_TLS_KEY WB_TRAEFIK_DYNAMIC WB_TRAEFIK_ACCESS_LOG WB_TRAEFIK_LOG_LEVEL \
  WB_DASHBOARD_HOST WB_HTTP3_ADVERTISED_PORT WB_GW_URLS
sh "$WB_ROOT/traefik/render.sh" "$WB_ROOT/traefik/traefik.template.yml" > "$dir/traefik.yml.new"
mv "$dir/traefik.yml.new" "$dir/traefik.yml"
echo $$ > "$dir/traefik.pid"
exec "$WB_TOOLS_DIR/bin/traefik" --configFile="$dir/traefik.yml"
