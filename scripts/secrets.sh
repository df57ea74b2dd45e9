# Secrets of the native stack, sourced by scripts/env.sh: one random value
# per file under $WB_SECRETS_DIR (default $WB_RUN_DIR/secrets; directory
# 0700, files 0600), created on first use, never printed. Docker passes the
# same values as files or environment variables (docs/operations.md).
: "${WB_SECRETS_DIR:=$WB_RUN_DIR/secrets}"
export WB_SECRETS_DIR

# wb_secret_file NAME: prints the path of secret NAME, creating it if missing
# (concurrent first uses agree: the first file linked in place wins).
wb_secret_file() {
  local f="$WB_SECRETS_DIR/$1" t
  if [ ! -s "$f" ]; then
    mkdir -p "$WB_SECRETS_DIR" && chmod 700 "$WB_SECRETS_DIR"
    t=$(mktemp "$WB_SECRETS_DIR/.new.XXXXXX")
    LC_ALL=C tr -dc 'A-Za-z0-9' < /dev/urandom | head -c 32 > "$t" || true
    ln "$t" "$f" 2>/dev/null || true
    rm -f "$t"
  fi
  printf '%s\n' "$f"
}

# wb_pgpass_file: prints the path of a libpq password file (PGPASSFILE) for
# $WB_PG_USER on 127.0.0.1, written from secret pg-$WB_PG_USER.
wb_pgpass_file() {
  local pw f="$WB_SECRETS_DIR/pgpass"
  pw=$(cat "$(wb_secret_file "pg-$WB_PG_USER")")
  if [ ! -s "$f" ] || ! grep -qxF "127.0.0.1:*:*:$WB_PG_USER:$pw" "$f"; then
    (umask 077; printf '127.0.0.1:*:*:%s:%s\n' "$WB_PG_USER" "$pw" > "$f.$$" && mv "$f.$$" "$f")
  fi
  printf '%s\n' "$f"
}
