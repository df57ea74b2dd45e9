/* wk_db: one PostgreSQL connection of the worker (libpq), with the batch
 * write and error classification. Each thread that talks to PostgreSQL owns
 * its own wk_db (persistence thread, each snapshot thread, `migrate`). */
#ifndef WK_DB_H
#define WK_DB_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "wk_batch.h"

typedef struct wk_db wk_db;

/* url: a libpq connection string or URI; who: a name for the logs. No I/O. */
wk_db *wk_db_create(const char *url, const char *who);
void wk_db_destroy(wk_db *db);

/* Connects if not connected (creating the database when it does not exist).
 * Returns 0 or -1 (logged once per outage, not per attempt). */
int wk_db_connect(wk_db *db);
void wk_db_disconnect(wk_db *db);
bool wk_db_connected(wk_db *db);
PGconn *wk_db_conn(wk_db *db);

typedef enum {
    WK_DB_OK = 0,
    WK_DB_RETRY, /* connection lost or transient (deadlock, shutdown): reconnect/retry later */
    WK_DB_DATA,  /* the statement itself was refused: retrying the same data will not help */
} wk_db_rc;

/* Classifies a failed result (or a NULL result) and disconnects if the
 * connection is unusable. Logs the error once. */
wk_db_rc wk_db_fail(wk_db *db, PGresult *res, const char *what);

/* Writes one batch with wb_apply_batch() (one statement, one transaction).
 * *logged = ops newly logged. */
wk_db_rc wk_db_apply(wk_db *db, wk_batch *b, int *logged);

/* Deletes placeholder rows no add can claim any more (migrations/0004):
 * every op up to floor is committed. *deleted = rows removed. */
wk_db_rc wk_db_prune(wk_db *db, unsigned long long floor, long *deleted);

#endif
