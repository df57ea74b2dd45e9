/* wk_metrics: the worker's Prometheus counters, gauges and histograms.
 *
 * Process-wide, lock-free (C11 atomics): any thread updates, the HTTP thread
 * renders (common/wb_prom). Histograms have fixed buckets chosen for this
 * workload. */
#ifndef WK_METRICS_H
#define WK_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "wb_prom.h"
#include "wk_batch.h"

typedef enum {
    WK_ERR_PG = 0,   /* a batch write failed (connection or statement) */
    WK_ERR_PG_DATA,  /* PostgreSQL refused the data (batch split, op dead-lettered) */
    WK_ERR_FETCH,    /* a pull failed (not an empty one: no responders, 409, ...) */
    WK_ERR_ACK,      /* natsMsg_Ack failed */
    WK_ERR_DECODE,   /* a stream message was not a valid Op (dead-lettered) */
    WK_ERR_SNAPSHOT, /* a snapshot request failed */
    WK_ERR_CONSUMER, /* consumer info / ensure failed */
    WK_ERR__COUNT
} wk_err_kind;

typedef struct wk_metrics {
    _Atomic uint64_t ops_persisted; /* ops newly logged */
    _Atomic uint64_t ops_duplicate; /* acked again without a new row (redelivery, late resend) */
    _Atomic uint64_t msgs_acked;
    _Atomic uint64_t batches;
    _Atomic uint64_t snapshots;
    _Atomic uint64_t snapshot_strokes;
    _Atomic uint64_t errors[WK_ERR__COUNT];
    _Atomic int64_t consumer_pending; /* -1: unknown */
    _Atomic int64_t consumer_ack_pending;
    _Atomic int64_t consumer_ack_floor;
    _Atomic int pg_up, nats_up, snap_nats_up;
    _Atomic int64_t loop_ms;    /* monotonic ms of the persistence loop's last turn */
    wb_hist batch_size;         /* messages per fetched batch */
    wb_hist commit_seconds;     /* wb_apply_batch round trip (one transaction) */
    wb_hist lag_seconds;        /* Op.time_ms (gateway accept) -> commit */
    wb_hist stream_lag_seconds; /* stored in JetStream (= publish ack) -> commit */
    wb_hist snapshot_seconds;
} wk_metrics;

extern wk_metrics wk_m;

void wk_metrics_init(void);
void wk_metric_err(wk_err_kind k);
/* Appends the Prometheus text exposition to buf. Returns 0 or -1 (OOM). */
int wk_metrics_render(wk_buf *buf);

#endif
