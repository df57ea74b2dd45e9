/* wk_migrate: lists, orders and applies migrations/NNNN_name.sql.
 * Main thread (worker start, `wb-worker migrate`). Owns the listing it
 * returns; borrows the PGconn. */
#include "wk_migrate.h"

#include <assert.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb_log.h"

/* pg_advisory_lock key of the migration runner (an arbitrary constant) */
#define WK_MIGRATE_LOCK "131230307739506"

int wk_migrate_parse_name(const char *file, int *version, char *name, size_t cap)
{
    size_t len = strlen(file), i = 0;
    while (i < len && file[i] >= '0' && file[i] <= '9')
        i++;
    if (i != 4 || len < 4 + 1 + 1 + 4 || file[4] != '_' || strcmp(file + len - 4, ".sql"))
        return -1;
    size_t nlen = len - 5 - 4;
    if (nlen == 0 || nlen >= cap) return -1;
    for (size_t k = 5; k < len - 4; k++) {
        char c = file[k];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return -1;
    }
    int v = atoi(file);
    if (v <= 0) return -1;
    *version = v;
    memcpy(name, file + 5, nlen);
    name[nlen] = 0;
    return 0;
}

static int cmp_version(const void *a, const void *b)
{
    const wk_migration *x = a, *y = b;
    return (x->version > y->version) - (x->version < y->version);
}

void wk_migrate_list_free(wk_migration_list *l)
{
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

int wk_migrate_list(const char *dir, wk_migration_list *out)
{
    out->v = NULL;
    out->n = 0;
    size_t cap = 0;
    DIR *d = opendir(dir);
    if (!d) {
        wb_syserr("migrations: opendir %s", dir);
        return -1;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        wk_migration m = {0};
        if (strlen(e->d_name) >= sizeof m.file) continue;
        if (wk_migrate_parse_name(e->d_name, &m.version, m.name, sizeof m.name) < 0) continue;
        snprintf(m.file, sizeof m.file, "%s", e->d_name);
        if (out->n == cap) {
            cap = cap ? 2 * cap : 16;
            wk_migration *v = realloc(out->v, cap * sizeof *v);
            if (!v) {
                wb_error("migrations: out of memory");
                goto err;
            }
            out->v = v;
        }
        out->v[out->n++] = m;
    }
    closedir(d);
    d = NULL;
    if (out->n) qsort(out->v, out->n, sizeof *out->v, cmp_version);
    for (size_t i = 1; i < out->n; i++)
        if (out->v[i].version == out->v[i - 1].version) {
            wb_error("migrations: %s and %s have the same version", out->v[i - 1].file,
                     out->v[i].file);
            goto err;
        }
    return 0;
err:
    if (d) closedir(d);
    wk_migrate_list_free(out);
    return -1;
}

void wk_migrate_checksum(const char *data, size_t len, char out[17])
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)data[i];
        h *= 0x100000001b3ULL;
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    if (!f) {
        wb_syserr("migrations: open %s", path);
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) < 0) goto err;
    long n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) < 0) goto err;
    buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) goto err;
    buf[n] = 0;
    *len = (size_t)n;
    fclose(f);
    return buf;
err:
    wb_syserr("migrations: read %s", path);
    free(buf);
    fclose(f);
    return NULL;
}

static bool exec_ok(PGconn *c, const char *sql, const char *what)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok) {
        char e[400];
        snprintf(e, sizeof e, "%s", PQresultErrorMessage(r));
        e[strcspn(e, "\n")] = 0;
        wb_error("migrations: %s: %s", what, e);
    }
    PQclear(r);
    return ok;
}

/* Looks version up in schema_migrations: 1 found (name/checksum copied), 0 not, -1 error. */
static int applied(PGconn *c, int version, char *name, size_t ncap, char *sum, size_t scap)
{
    char v[16];
    snprintf(v, sizeof v, "%d", version);
    const char *vals[] = {v};
    PGresult *r = PQexecParams(c, "SELECT name, checksum FROM schema_migrations WHERE version = $1",
                               1, NULL, vals, NULL, NULL, 0);
    int rc = -1;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        wb_error("migrations: read schema_migrations: %s", PQresultErrorMessage(r));
    } else if (PQntuples(r) == 0) {
        rc = 0;
    } else {
        snprintf(name, ncap, "%s", PQgetvalue(r, 0, 0));
        snprintf(sum, scap, "%s", PQgetvalue(r, 0, 1));
        rc = 1;
    }
    PQclear(r);
    return rc;
}

static int apply_one(PGconn *c, const char *dir, const wk_migration *m)
{
    char path[1024], sum[17], v[16];
    size_t len = 0;
    snprintf(path, sizeof path, "%s/%s", dir, m->file);
    char *sql = read_file(path, &len);
    if (!sql) return -1;
    wk_migrate_checksum(sql, len, sum);
    snprintf(v, sizeof v, "%d", m->version);
    int rc = -1;
    if (!exec_ok(c, "BEGIN", "BEGIN")) goto out;
    if (!exec_ok(c, sql, m->file)) goto rollback;
    const char *vals[] = {v, m->name, sum};
    PGresult *r = PQexecParams(c,
                               "INSERT INTO schema_migrations (version, name, checksum) "
                               "VALUES ($1, $2, $3)",
                               3, NULL, vals, NULL, NULL, 0);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) wb_error("migrations: record %s: %s", m->file, PQresultErrorMessage(r));
    PQclear(r);
    if (!ok) goto rollback;
    if (!exec_ok(c, "COMMIT", "COMMIT")) goto out;
    wb_info("migration applied: %s", m->file);
    rc = 0;
    goto out;
rollback:
    exec_ok(c, "ROLLBACK", "ROLLBACK");
out:
    free(sql);
    return rc;
}

int wk_migrate_run(PGconn *c, const char *dir)
{
    assert(c);
    wk_migration_list l;
    int n = 0;
    bool locked = false;
    if (wk_migrate_list(dir, &l) < 0) return -1;
    if (l.n == 0) {
        wb_error("migrations: no NNNN_name.sql file in %s", dir);
        goto err;
    }
    if (!exec_ok(c, "SELECT pg_advisory_lock(" WK_MIGRATE_LOCK ")", "advisory lock")) goto err;
    locked = true;
    if (!exec_ok(c,
                 "CREATE TABLE IF NOT EXISTS schema_migrations ("
                 " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
                 " applied_at timestamptz NOT NULL DEFAULT now())",
                 "create schema_migrations"))
        goto err;
    for (size_t i = 0; i < l.n; i++) {
        char name[128], sum[17];
        int a = applied(c, l.v[i].version, name, sizeof name, sum, sizeof sum);
        if (a < 0) goto err;
        if (a == 1) {
            if (strcmp(name, l.v[i].name))
                wb_warn("migration %04d recorded as %s but the file is %s", l.v[i].version, name,
                        l.v[i].file);
            char path[1024], now[17];
            size_t len = 0;
            snprintf(path, sizeof path, "%s/%s", dir, l.v[i].file);
            char *sql = read_file(path, &len);
            if (!sql) goto err;
            wk_migrate_checksum(sql, len, now);
            free(sql);
            if (strcmp(now, sum))
                wb_warn("migration %s changed after it was applied (forward-only: add a new file)",
                        l.v[i].file);
            continue;
        }
        if (apply_one(c, dir, &l.v[i]) < 0) goto err;
        n++;
    }
    /* Report drift: versions recorded but missing here (an older worker). */
    PGresult *r = PQexec(c, "SELECT max(version) FROM schema_migrations");
    if (PQresultStatus(r) == PGRES_TUPLES_OK && !PQgetisnull(r, 0, 0) &&
        atoi(PQgetvalue(r, 0, 0)) > l.v[l.n - 1].version)
        wb_warn("migrations: the database has version %s, newer than this worker's %d",
                PQgetvalue(r, 0, 0), l.v[l.n - 1].version);
    PQclear(r);
    exec_ok(c, "SELECT pg_advisory_unlock(" WK_MIGRATE_LOCK ")", "advisory unlock");
    wb_info("migrations: %d applied, %zu known, newest %s", n, l.n, l.v[l.n - 1].file);
    wk_migrate_list_free(&l);
    return n;
err:
    if (locked) exec_ok(c, "SELECT pg_advisory_unlock(" WK_MIGRATE_LOCK ")", "advisory unlock");
    wk_migrate_list_free(&l);
    return -1;
}
