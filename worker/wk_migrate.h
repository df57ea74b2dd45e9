/* wk_migrate: forward-only SQL migrations (migrations/NNNN_name.sql), applied
 * in version order under a PostgreSQL advisory lock, each in its own
 * transaction, recorded in schema_migrations(version, name, checksum).
 * Runs on the main thread at start and for `wb-worker migrate`.
 * The file listing/parsing part is pure and unit-tested (migrate_test.c). */
#ifndef WK_MIGRATE_H
#define WK_MIGRATE_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

typedef struct wk_migration {
    int version;
    char name[128]; /* file name without "NNNN_" and ".sql" */
    char file[160]; /* file name */
} wk_migration;

typedef struct wk_migration_list {
    wk_migration *v;
    size_t n;
} wk_migration_list;

/* "0001_init.sql" -> version 1, name "init". Returns 0, or -1 when the file
 * is not a migration (other files in the directory are ignored). */
int wk_migrate_parse_name(const char *file, int *version, char *name, size_t cap);

/* Lists dir's migrations sorted by version. Two files with one version is an
 * error. Returns 0 or -1; free with wk_migrate_list_free. */
int wk_migrate_list(const char *dir, wk_migration_list *out);
void wk_migrate_list_free(wk_migration_list *l);

/* FNV-1a 64 of the file content, as 16 hex digits (recorded, compared). */
void wk_migrate_checksum(const char *data, size_t len, char out[17]);

/* Applies the pending migrations of dir on c. Returns the number applied,
 * or -1. */
int wk_migrate_run(PGconn *c, const char *dir);

#endif
