#!/bin/sh
# Renders a Traefik config template: every ${WB_NAME} placeholder is replaced by
# the value of that environment variable; an unset variable is an error.
# POSIX sh + sed only, so the same script runs natively (scripts/svc/traefik.sh)
# and inside the official Traefik image (docker-compose.yml).
# usage: render.sh TEMPLATE > OUTPUT
set -eu
tmpl=${1:?usage: render.sh TEMPLATE}
script=""
for name in $(grep -o '\${WB_[A-Z0-9_]*}' "$tmpl" | sort -u | sed 's/[${}]//g'); do
  eval "set +u; isset=\${$name+x}; val=\${$name-}; set -u"
  if [ -z "$isset" ]; then
    echo "render.sh: $name is not set (needed by $tmpl)" >&2
    exit 1
  fi
  esc=$(printf '%s' "$val" | sed 's/[\\|&]/\\&/g')
  script="$script s|\${$name}|$esc|g;"
done
sed "$script" "$tmpl"
