# Stand-in for the official postgres image (used only when no registry answers): Debian 13's
# PostgreSQL package with the environment interface docker-compose.yml uses (POSTGRES_USER,
# POSTGRES_PASSWORD, POSTGRES_DB, PGPORT, PGDATA; data under /var/lib/postgresql; pg_isready
# on PATH). Runs as the unprivileged user postgres from the start.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt,sharing=locked \
    apt-get update && apt-get install -y --no-install-recommends postgresql-common \
 && sed -ri 's/#(create_main_cluster) .*$/\1 = false/' /etc/postgresql-common/createcluster.conf \
 && apt-get install -y --no-install-recommends postgresql \
 && ln -s /usr/lib/postgresql/*/bin/* /usr/local/bin/ \
 && mkdir -p /var/run/postgresql /var/lib/postgresql \
 && chown postgres:postgres /var/run/postgresql /var/lib/postgresql
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PGDATA=/var/lib/postgresql/data
USER postgres
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["postgres"]
