/* wk_fold: an in-memory model of what wb_apply_batch() (migrations/0002)
 * does to the database, and the in-order reference it must equal.
 *
 * wk_fold_apply_batch() follows the SQL rules exactly (ops log keyed by seq
 * with a unique op id, first add wins, newest erase/restore wins, clear as a
 * high-water mark), so the unit tests can check, without PostgreSQL, that
 * applying batches in any order, redelivered, gives the state of
 * wk_fold_reference() (docs/protocol.md §4 "Board state": ops applied once, in seq
 * order). One board per fold. Pure code, single-threaded; used by tests. */
#ifndef WK_FOLD_H
#define WK_FOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct wk_fop {
    uint64_t seq;
    int kind; /* 1 stroke, 2 erase, 3 restore, 4 clear (wb.v1.Kind) */
    const char *op_id;
    const char *sid;        /* stroke: its id */
    const char *const *ids; /* erase/restore */
    size_t n_ids;
} wk_fop;

typedef struct wk_fold_stroke {
    char id[65];
    uint64_t add_seq; /* 0: placeholder (the SQL's NULL) */
    uint64_t vis_seq;
    bool vis_hidden;
} wk_fold_stroke;

typedef struct wk_fold_log {
    char op_id[65];
    uint64_t seq;
} wk_fold_log;

typedef struct wk_fold {
    wk_fold_stroke *s;
    size_t n, cap;
    wk_fold_log *log;
    size_t nlog, caplog;
    uint64_t max_clear_seq;
} wk_fold;

void wk_fold_init(wk_fold *f);
void wk_fold_free(wk_fold *f);

/* One wb_apply_batch() call. Returns the number of ops newly logged, or -1 (OOM). */
int wk_fold_apply_batch(wk_fold *f, const wk_fop *ops, size_t n);

/* The SQL's wb_stroke_visible(). */
bool wk_fold_visible(const wk_fold_stroke *s, uint64_t max_clear_seq);

/* Visible stroke ids in add_seq order into out (at most cap). Returns the count. */
size_t wk_fold_visible_ids(const wk_fold *f, const char **out, size_t cap);

/* Reference: apply ops in seq order, each op id once (the lowest seq wins).
 * Visible ids in list order into out. Returns the count, or (size_t)-1 on OOM. */
size_t wk_fold_reference(const wk_fop *ops, size_t n, const char **out, size_t cap);

#endif
