/* wk_snap: answers wb.snapshot requests (queue group wb-workers) from
 * PostgreSQL with SnapshotChunk messages. Runs its own threads, each with its
 * own queue subscription and PostgreSQL connection, on a NATS connection that
 * is not the persistence one, so snapshots never stall persistence. */
#ifndef WK_SNAP_H
#define WK_SNAP_H

#include <nats/nats.h>
#include <stddef.h>

typedef struct wk_snap wk_snap;

typedef struct wk_snap_cfg {
    const char *pg_url;
    natsConnection *nc; /* borrowed: the snapshot connection */
    jsCtx *js;          /* borrowed: for the consumer's ack floor */
    int threads;
    size_t chunk_bytes;     /* default chunk budget */
    size_t max_chunk_bytes; /* cap for a request's max_chunk_bytes */
} wk_snap_cfg;

/* Subscribes and starts the threads. NULL on failure (logged). */
wk_snap *wk_snap_create(const wk_snap_cfg *cfg);
/* Stops the threads (each finishes the request in hand), unsubscribes, frees. */
void wk_snap_destroy(wk_snap *s);

#endif
