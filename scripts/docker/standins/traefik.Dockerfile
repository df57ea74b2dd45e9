# Stand-in for the official traefik image (used only when no registry answers): the same
# Traefik binary the native stack runs ($WB_TOOLS_DIR/bin, scripts/go-tools.sh) on Debian 13,
# with /bin/sh and sed for traefik/render.sh. Runs as nobody (docker-compose.yml sets the user).
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt,sharing=locked \
    apt-get update && apt-get install -y --no-install-recommends ca-certificates
COPY traefik /usr/local/bin/traefik
EXPOSE 80 443
ENTRYPOINT ["/usr/local/bin/traefik"]
