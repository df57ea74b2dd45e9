#!/usr/bin/env bash
# Brings a gateway taken down by scripts/takedown.sh back:
#   scripts/bringback.sh GW=gw-1     (= scripts/takedown.sh GW=gw-1 MODE=back)
exec bash "$(dirname "$0")/takedown.sh" "$@" MODE=back
