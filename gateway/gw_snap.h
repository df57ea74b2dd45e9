/* gw_snap.h: the snapshot merge (pure; whichever thread owns the fold): a
 * worker's snapshot chunks as of S, then a replay of the stream's ops
 * (S, E], folded into one board state (wb_fold), rendered once as JSON. */
#ifndef GW_SNAP_H
#define GW_SNAP_H

#include <stdint.h>

#include "gw_buf.h"
#include "wb_fold.h"

/* Merges chunk number want (0, 1, ...) of a worker's snapshot into f and
 * takes ownership of ch (also on error). *S gets the snapshot's seq.
 * Returns 1 for the last chunk, 0 if more follow, -1 if the chunk is out of
 * order or the worker reported an error (err: a reason, for the log). */
int gw_snap_chunk(wb_fold *f, Wb__V1__SnapshotChunk *ch, uint32_t want, uint64_t *S,
                  const char **err);
/* Folds one replayed op at seq; takes ownership of op. Returns 0 or -1. */
int gw_snap_op(wb_fold *f, uint64_t seq, Wb__V1__Op *op);
/* The snapshot message as of E: {"t":"snapshot",...} (api: false) or the
 * REST body {"board":...,"seq":...,"strokes":[...]} (api: true). */
gw_buf *gw_snap_render(bool api, const char *board, wb_fold *f, uint64_t E);

#endif
