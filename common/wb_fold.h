/* wb_fold: a board's state built from a snapshot plus ops, in any order.
 *
 * Every element (stroke, shape, text) keeps add_seq (the op that added it:
 * its base), the latest erase/restore that named it (vis_seq, vis_hidden)
 * and per field group the latest update naming it (upd); the board keeps the
 * latest clear (max_clear_seq). Visibility is derived, so applying the same
 * set of ops in any order, or twice, gives the state docs/protocol.md §4 defines for
 * applying them once in seq order. The gateway uses it to merge the worker's
 * snapshot with a replay from the stream; the worker's SQL follows the same
 * rules. Single-threaded per fold. */
#ifndef WB_FOLD_H
#define WB_FOLD_H

#include <stdbool.h>
#include <stdint.h>

#include "whiteboard.pb-c.h"
#include "wb_elem.h"
#include "wb_jw.h"
#include "wb_map.h"

/* The newest update of each field group of one element (docs/protocol.md §4). */
typedef struct wb_fupd {
    uint64_t seq[WB_G__COUNT];              /* 0: never updated */
    const Wb__V1__Update *val[WB_G__COUNT]; /* the update (or snapshot record) holding the value */
} wb_fupd;

/* One element. Its base is one of s, shape, text (all NULL: only named by an
 * erase/restore/update so far). */
typedef struct wb_fstroke {
    const Wb__V1__Stroke *s;
    const Wb__V1__Shape *shape;
    const Wb__V1__Text *text;
    uint64_t add_seq;
    uint64_t vis_seq;
    bool vis_hidden;
    wb_fupd *upd; /* malloc'd once an update names it */
} wb_fstroke;

typedef struct wb_fold {
    wb_map index; /* element id -> (slot + 1) cast to pointer */
    wb_fstroke *strokes;
    size_t n, cap;
    uint64_t max_clear_seq;
    uint64_t seq;             /* highest seq applied */
    ProtobufCMessage **owned; /* messages whose strokes we point into */
    size_t nowned, capowned;
} wb_fold;

void wb_fold_init(wb_fold *f);
/* Frees the fold and every message handed to it with wb_fold_own(). */
void wb_fold_free(wb_fold *f);
/* Takes ownership of an unpacked protobuf message (freed with
 * protobuf_c_message_free_unpacked). Returns 0 or -1. */
int wb_fold_own(wb_fold *f, ProtobufCMessage *msg);

/* Applies one op at seq. The op (and so its element) must outlive the fold:
 * hand it to wb_fold_own(). Returns 0 or -1 (out of memory). */
int wb_fold_apply(wb_fold *f, uint64_t seq, const Wb__V1__Op *op);
/* Merges one element record from a worker snapshot (the chunk must outlive
 * the fold: hand it to wb_fold_own()). */
int wb_fold_add_snap(wb_fold *f, const Wb__V1__SnapStroke *ss);
void wb_fold_clear_at(wb_fold *f, uint64_t seq);

bool wb_fold_visible(const wb_fold *f, const wb_fstroke *s);
/* Writes the visible elements as a JSON array, in drawing (add_seq) order,
 * with their current values (updates applied). */
void wb_fold_json_strokes(wb_fold *f, wb_jw *w);
/* Number of visible elements. */
size_t wb_fold_count_visible(const wb_fold *f);

#endif
