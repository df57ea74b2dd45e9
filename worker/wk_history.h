/* wk_history: the visibility of a board's elements and their updates as of a
 * seq, from the op log (erase/restore/clear/update ops <= seq), for history
 * snapshots. Owned by the
 * snapshot thread that builds it. */
#ifndef WK_HISTORY_H
#define WK_HISTORY_H

#include <stdbool.h>
#include <stdint.h>

#include "wb_elem.h"
#include "wb_map.h"
#include "whiteboard.pb-c.h"
#include "wk_db.h"

typedef struct wk_vis {
    uint64_t seq; /* the newest erase/restore <= at that named the stroke */
    bool hidden;
} wk_vis;

/* The newest update <= at of each field group of one element. */
typedef struct wk_hupd {
    uint64_t seq[WB_G__COUNT]; /* 0: none */
    const Wb__V1__Update *val[WB_G__COUNT];
} wk_hupd;

typedef struct wk_history {
    wb_map vis;         /* element id -> wk_vis* */
    wb_map upd;         /* element id -> wk_hupd* */
    uint64_t max_clear; /* the newest clear <= at (0: none) */
    Wb__V1__Op **ops;   /* the update ops wk_hupd points into (owned) */
    size_t nops, capops;
} wk_history;

void wk_history_init(wk_history *h);
/* Reads the board's erase/restore/clear ops with seq <= at. Returns NULL or
 * an error text (logged). */
const char *wk_history_load(wk_history *h, wk_db *db, const char *board, uint64_t at);
const wk_vis *wk_history_get(const wk_history *h, const char *stroke_id);
/* The ids shown again (latest erase/restore is a restore) after seq, as a
 * PostgreSQL text[] literal ("{a,b}"; ids need no quoting). malloc'd; NULL
 * when out of memory. */
char *wk_history_restored_after(const wk_history *h, uint64_t seq);
void wk_history_free(wk_history *h);

#endif
