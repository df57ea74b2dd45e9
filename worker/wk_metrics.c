/* wk_metrics: counters/histograms of the worker and their Prometheus text.
 * Any thread updates (atomics, relaxed order); the HTTP thread renders.
 * Owns the one global wk_m. */
#include "wk_metrics.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "wb_clock.h"

wk_metrics wk_m;

static const char *const g_err_names[WK_ERR__COUNT] = {"pg",     "pg_data",  "fetch",   "ack",
                                                       "decode", "snapshot", "consumer"};

void wk_metrics_init(void)
{
    static const double sizes[] = {1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500};
    static const double secs[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                  0.1,    0.25,  0.5,    1,     2.5,  5,     10};
    static const double lag[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                 0.5,   1,      2.5,   5,    10,    30,   60,  300};
    memset(&wk_m, 0, sizeof wk_m);
    atomic_store(&wk_m.consumer_pending, -1);
    atomic_store(&wk_m.consumer_ack_pending, -1);
    atomic_store(&wk_m.consumer_ack_floor, -1);
    wb_hist_init(&wk_m.batch_size, "wb_worker_batch_size", "Stream messages per fetched batch.",
                 sizes, sizeof sizes / sizeof *sizes);
    wb_hist_init(&wk_m.commit_seconds, "wb_worker_commit_seconds",
                 "Duration of one batch transaction (wb_apply_batch round trip).", secs,
                 sizeof secs / sizeof *secs);
    wb_hist_init(&wk_m.lag_seconds, "wb_worker_persist_lag_seconds",
                 "Op.time_ms (gateway accept) to commit in PostgreSQL, per op.", lag,
                 sizeof lag / sizeof *lag);
    wb_hist_init(&wk_m.stream_lag_seconds, "wb_worker_stream_lag_seconds",
                 "Stored in JetStream (the publisher's ack) to commit in PostgreSQL, per op.", lag,
                 sizeof lag / sizeof *lag);
    wb_hist_init(&wk_m.snapshot_seconds, "wb_worker_snapshot_seconds",
                 "Time to answer one wb.snapshot request.", secs, sizeof secs / sizeof *secs);
}

void wk_metric_err(wk_err_kind k)
{
    assert(k < WK_ERR__COUNT);
    atomic_fetch_add_explicit(&wk_m.errors[k], 1, memory_order_relaxed);
}

int wk_metrics_render(wk_buf *b)
{
    wb_jw w;
    wb_jw_init(&w, 0, 8192);
    wb_prom p;
    wb_prom_init(&p, &w, NULL);
    wb_prom_counter(&p, "wb_worker_ops_persisted_total", "Ops newly written to the ops log.",
                    atomic_load(&wk_m.ops_persisted));
    wb_prom_counter(&p, "wb_worker_ops_duplicate_total",
                    "Ops acked without a new row (redelivery or late resend of a logged op id).",
                    atomic_load(&wk_m.ops_duplicate));
    wb_prom_counter(&p, "wb_worker_msgs_acked_total", "Stream messages acked after commit.",
                    atomic_load(&wk_m.msgs_acked));
    wb_prom_counter(&p, "wb_worker_batches_total", "Batches committed.",
                    atomic_load(&wk_m.batches));
    wb_prom_counter(&p, "wb_worker_snapshots_total", "wb.snapshot requests answered.",
                    atomic_load(&wk_m.snapshots));
    wb_prom_counter(&p, "wb_worker_snapshot_strokes_total", "Strokes sent in snapshots.",
                    atomic_load(&wk_m.snapshot_strokes));
    wb_prom_gauge(&p, "wb_worker_consumer_pending",
                  "Stream messages not yet delivered to consumer wb-worker (lag; -1 unknown).",
                  atomic_load(&wk_m.consumer_pending));
    wb_prom_gauge(&p, "wb_worker_consumer_ack_pending",
                  "Delivered but unacked messages (-1 unknown).",
                  atomic_load(&wk_m.consumer_ack_pending));
    wb_prom_gauge(&p, "wb_worker_consumer_ack_floor", "Stream seq of the consumer's ack floor.",
                  atomic_load(&wk_m.consumer_ack_floor));
    wb_prom_gauge(&p, "wb_worker_pg_up", "1 while the persistence connection to PostgreSQL is up.",
                  atomic_load(&wk_m.pg_up));
    wb_prom_gauge(&p, "wb_worker_nats_up", "1 while the persistence NATS connection is up.",
                  atomic_load(&wk_m.nats_up));
    int64_t loop = atomic_load(&wk_m.loop_ms);
    wb_prom_gauge(&p, "wb_worker_loop_age_ms",
                  "Since the persistence loop last went round (a stall detector).",
                  loop ? wb_mono_ms() - loop : -1);
    wb_prom_family(&p, "wb_worker_errors_total", "counter", "Errors by kind.");
    for (int k = 0; k < WK_ERR__COUNT; k++) {
        char lab[64];
        snprintf(lab, sizeof lab, "kind=\"%s\"", g_err_names[k]);
        wb_prom_u64(&p, "wb_worker_errors_total", lab, atomic_load(&wk_m.errors[k]));
    }
    wb_prom_hist(&p, &wk_m.batch_size);
    wb_prom_hist(&p, &wk_m.commit_seconds);
    wb_prom_hist(&p, &wk_m.lag_seconds);
    wb_prom_hist(&p, &wk_m.stream_lag_seconds);
    wb_prom_hist(&p, &wk_m.snapshot_seconds);
    int rc = w.oom ? -1 : wk_buf_append(b, wb_jw_text(&w), w.len);
    wb_jw_free(&w);
    return rc;
}
