# Stand-in for the official nats:*-alpine image (used only when no registry answers):
# the same nats-server binary the native stack runs ($WB_TOOLS_DIR/bin, scripts/go-tools.sh),
# with what docker-compose.yml relies on: /bin/sh, wget for the health check, /data.
# Runs as the unprivileged user nats (uid 10002).
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt,sharing=locked \
    apt-get update && apt-get install -y --no-install-recommends wget \
 && groupadd --system --gid 10002 nats \
 && useradd --system --uid 10002 --gid nats --home-dir /data --shell /usr/sbin/nologin nats \
 && mkdir -p /data && chown nats:nats /data
COPY nats-server /usr/local/bin/nats-server
USER nats:nats
EXPOSE 4222 6222 8222
ENTRYPOINT ["/usr/local/bin/nats-server"]
