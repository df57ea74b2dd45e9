/* wk_db: a PostgreSQL connection with reconnect, database creation and the
 * wb_apply_batch() call. Used by the thread that owns the wk_db (one per
 * thread). Owns the PGconn. */
#include "wk_db.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb_log.h"

struct wk_db {
    char *url;
    char who[32];
    PGconn *conn;
    bool down_logged; /* an outage is logged once, not per attempt */
};

wk_db *wk_db_create(const char *url, const char *who)
{
    wk_db *db = calloc(1, sizeof *db);
    if (!db) goto err;
    db->url = strdup(url);
    if (!db->url) goto err;
    snprintf(db->who, sizeof db->who, "%s", who);
    return db;
err:
    wb_error("wk_db_create: out of memory");
    if (db) free(db);
    return NULL;
}

void wk_db_destroy(wk_db *db)
{
    if (!db) return;
    wk_db_disconnect(db);
    free(db->url);
    free(db);
}

void wk_db_disconnect(wk_db *db)
{
    if (db->conn) PQfinish(db->conn);
    db->conn = NULL;
}

bool wk_db_connected(wk_db *db)
{
    return db->conn && PQstatus(db->conn) == CONNECTION_OK;
}

PGconn *wk_db_conn(wk_db *db)
{
    return db->conn;
}

static void first_line(char *dst, size_t cap, const char *msg)
{
    snprintf(dst, cap, "%s", msg ? msg : "");
    dst[strcspn(dst, "\n")] = 0;
}

/* The URL's database does not exist: connect to "postgres" and create it.
 * Racing workers are fine (duplicate_database is ignored). */
static int create_database(wk_db *db)
{
    int rc = -1;
    PGconn *c = NULL;
    PGresult *r = NULL;
    char *ident = NULL;
    PQconninfoOption *opts = PQconninfoParse(db->url, NULL);
    const char *dbname = NULL;
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (!strcmp(o->keyword, "dbname") && o->val) dbname = o->val;
    if (!dbname) goto out;
    const char *kw[] = {"dbname", "dbname", NULL}, *val[] = {db->url, "postgres", NULL};
    c = PQconnectdbParams(kw, val, 1);
    if (PQstatus(c) != CONNECTION_OK) goto out;
    ident = PQescapeIdentifier(c, dbname, strlen(dbname));
    if (!ident) goto out;
    char sql[256];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", ident);
    r = PQexec(c, sql);
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (PQresultStatus(r) == PGRES_COMMAND_OK) {
        wb_info("created database %s", dbname);
        rc = 0;
    } else if (state && !strcmp(state, "42P04")) {
        rc = 0;
    } else {
        char e[256];
        first_line(e, sizeof e, PQerrorMessage(c));
        wb_error("%s: CREATE DATABASE %s: %s", db->who, dbname, e);
    }
out:
    if (r) PQclear(r);
    if (ident) PQfreemem(ident);
    if (c) PQfinish(c);
    if (opts) PQconninfoFree(opts);
    return rc;
}

int wk_db_connect(wk_db *db)
{
    if (wk_db_connected(db)) return 0;
    wk_db_disconnect(db);
    for (int attempt = 0; attempt < 2; attempt++) {
        /* Defaults first: anything the URL sets overrides them. A hung server
         * must not hang the worker (connect timeout, TCP keepalives). */
        const char *kw[] = {"connect_timeout",
                            "keepalives_idle",
                            "keepalives_interval",
                            "keepalives_count",
                            "application_name",
                            "dbname",
                            NULL};
        const char *val[] = {"5", "10", "3", "3", db->who, db->url, NULL};
        db->conn = PQconnectdbParams(kw, val, 1);
        if (PQstatus(db->conn) == CONNECTION_OK) break;
        char e[256];
        first_line(e, sizeof e, PQerrorMessage(db->conn));
        bool missing = strstr(e, "does not exist") && strstr(e, "database");
        wk_db_disconnect(db);
        if (attempt == 0 && missing && create_database(db) == 0) continue;
        if (!db->down_logged) wb_warn("%s: PostgreSQL connect failed: %s (retrying)", db->who, e);
        db->down_logged = true;
        return -1;
    }
    if (!db->conn) return -1;
    /* Quiet NOTICEs (e.g. "relation already exists, skipping"). */
    PQclear(PQexec(db->conn, "SET client_min_messages = warning"));
    if (db->down_logged) wb_info("%s: PostgreSQL connected", db->who);
    db->down_logged = false;
    return 0;
}

wk_db_rc wk_db_fail(wk_db *db, PGresult *res, const char *what)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    char e[300];
    first_line(e, sizeof e, res ? PQresultErrorMessage(res) : NULL);
    if (!e[0] && db->conn) first_line(e, sizeof e, PQerrorMessage(db->conn));
    bool conn_bad = !db->conn || PQstatus(db->conn) != CONNECTION_OK;
    wk_db_rc rc;
    if (conn_bad || !state) {
        rc = WK_DB_RETRY;
    } else if (!strncmp(state, "08", 2) || !strncmp(state, "40", 2) || !strncmp(state, "53", 2) ||
               !strncmp(state, "57", 2) || !strncmp(state, "58", 2) || !strcmp(state, "55P03")) {
        /* connection, transaction rollback (deadlock, serialization), resources,
         * operator intervention (shutdown), system error, lock timeout */
        rc = WK_DB_RETRY;
    } else {
        rc = WK_DB_DATA;
    }
    wb_warn("%s: %s failed: sqlstate=%s %s%s", db->who, what, state ? state : "-", e,
            rc == WK_DB_RETRY ? " (will retry)" : "");
    if (conn_bad || (state && (!strncmp(state, "08", 2) || !strncmp(state, "57", 2))))
        wk_db_disconnect(db);
    return rc;
}

wk_db_rc wk_db_apply(wk_db *db, wk_batch *b, int *logged)
{
    static const char sql[] =
        "SELECT wb_apply_batch($1::text[], $2::bigint[], $3::text[], $4::text[], $5::smallint[], "
        "$6::bigint[], $7::bytea[], $8::text[], $9::bigint[], $10::text[], $11::integer[], "
        "$12::real[], $13::bytea[], $14::text[], $15::text[], $16::bigint[], $17::text[], "
        "$18::boolean[], $19::bigint[], $20::text[], $21::bytea[], $22::text[], "
        /* shape and text adds (migrations/0005_elements.sql) */
        "$23::text[], $24::bigint[], $25::text[], $26::smallint[], $27::smallint[], "
        "$28::integer[], $29::integer[], $30::integer[], $31::integer[], $32::integer[], "
        "$33::integer[], $34::integer[], $35::real[], $36::text[], $37::integer[], $38::real[], "
        "$39::text[], "
        /* update field groups */
        "$40::text[], $41::bigint[], $42::text[], $43::smallint[], $44::bytea[], $45::integer[], "
        "$46::integer[], $47::integer[], $48::integer[], $49::integer[], $50::integer[], "
        "$51::real[], $52::text[], $53::integer[], $54::real[], $55::integer[])";
    assert(logged);
    *logged = 0;
    if (!wk_db_connected(db)) return WK_DB_RETRY;
    const char *values[WK_BATCH_NPARAMS];
    wk_batch_params(b, values);
    PGresult *r = PQexecParams(db->conn, sql, WK_BATCH_NPARAMS, NULL, values, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        wk_db_rc rc = wk_db_fail(db, r, "wb_apply_batch");
        PQclear(r);
        return rc;
    }
    if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) *logged = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return WK_DB_OK;
}

wk_db_rc wk_db_prune(wk_db *db, unsigned long long floor, long *deleted)
{
    char v[24];
    const char *values[1] = {v};
    snprintf(v, sizeof v, "%llu", floor);
    *deleted = 0;
    PGresult *r = PQexecParams(wk_db_conn(db), "SELECT wb_prune_placeholders($1::bigint)", 1, NULL,
                               values, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) return wk_db_fail(db, r, "wb_prune_placeholders");
    *deleted = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return WK_DB_OK;
}
