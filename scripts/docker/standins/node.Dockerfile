# Stand-in for the official node:*-trixie-slim image (used only when no registry answers):
# Debian 13's nodejs and npm packages.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt,sharing=locked \
    apt-get update && apt-get install -y --no-install-recommends nodejs npm ca-certificates
CMD ["node"]
