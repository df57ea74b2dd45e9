/* wk_metrics: counters/histograms of the worker and their Prometheus text.
 * Any thread updates (atomics, relaxed order); the HTTP thread renders.
 * Owns the one global wk_m. */
#include "wk_metrics.h"

#include <assert.h>
#include <string.h>

#include "wb_clock.h"

wk_metrics wk_m;

static const char *const g_err_names[WK_ERR__COUNT] = {"pg",     "pg_data",  "fetch",   "ack",
                                                       "decode", "snapshot", "consumer"};

static void hist_init(wk_hist *h, const char *name, const char *help, const double *le, size_t nb)
{
    assert(nb <= WK_HIST_MAX_BUCKETS);
    h->name = name;
    h->help = help;
    h->nb = nb;
    memcpy(h->le, le, nb * sizeof *le);
}

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
    hist_init(&wk_m.batch_size, "wb_worker_batch_size", "Stream messages per fetched batch.", sizes,
              sizeof sizes / sizeof *sizes);
    hist_init(&wk_m.commit_seconds, "wb_worker_commit_seconds",
              "Duration of one batch transaction (wb_apply_batch round trip).", secs,
              sizeof secs / sizeof *secs);
    hist_init(&wk_m.lag_seconds, "wb_worker_persist_lag_seconds",
              "Op.time_ms (gateway accept) to commit in PostgreSQL, per op.", lag,
              sizeof lag / sizeof *lag);
    hist_init(&wk_m.stream_lag_seconds, "wb_worker_stream_lag_seconds",
              "Stored in JetStream (the publisher's ack) to commit in PostgreSQL, per op.", lag,
              sizeof lag / sizeof *lag);
    hist_init(&wk_m.snapshot_seconds, "wb_worker_snapshot_seconds",
              "Time to answer one wb.snapshot request.", secs, sizeof secs / sizeof *secs);
}

void wk_hist_observe(wk_hist *h, double v)
{
    size_t i = 0;
    while (i < h->nb && v > h->le[i])
        i++;
    atomic_fetch_add_explicit(&h->count[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->n, 1, memory_order_relaxed);
    if (v > 0) atomic_fetch_add_explicit(&h->sum_micro, (uint64_t)(v * 1e6), memory_order_relaxed);
}

void wk_metric_err(wk_err_kind k)
{
    assert(k < WK_ERR__COUNT);
    atomic_fetch_add_explicit(&wk_m.errors[k], 1, memory_order_relaxed);
}

static int render_hist(wk_buf *b, wk_hist *h)
{
    if (wk_buf_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", h->name, h->help, h->name) < 0)
        return -1;
    uint64_t cum = 0;
    for (size_t i = 0; i <= h->nb; i++) {
        cum += atomic_load(&h->count[i]);
        int rc = i < h->nb ? wk_buf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", h->name, h->le[i],
                                           (unsigned long long)cum)
                           : wk_buf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", h->name,
                                           (unsigned long long)cum);
        if (rc < 0) return -1;
    }
    return wk_buf_printf(b, "%s_sum %.6f\n%s_count %llu\n", h->name,
                         (double)atomic_load(&h->sum_micro) / 1e6, h->name,
                         (unsigned long long)atomic_load(&h->n));
}

#define COUNTER(b, name, help, v)                                                                  \
    wk_buf_printf(b, "# HELP " name " " help "\n# TYPE " name " counter\n" name " %llu\n",         \
                  (unsigned long long)(v))
#define GAUGE(b, name, help, v)                                                                    \
    wk_buf_printf(b, "# HELP " name " " help "\n# TYPE " name " gauge\n" name " %lld\n",           \
                  (long long)(v))

int wk_metrics_render(wk_buf *b)
{
    if (COUNTER(b, "wb_worker_ops_persisted_total", "Ops newly written to the ops log.",
                atomic_load(&wk_m.ops_persisted)) < 0 ||
        COUNTER(b, "wb_worker_ops_duplicate_total",
                "Ops acked without a new row (redelivery or late resend of a logged op id).",
                atomic_load(&wk_m.ops_duplicate)) < 0 ||
        COUNTER(b, "wb_worker_msgs_acked_total", "Stream messages acked after commit.",
                atomic_load(&wk_m.msgs_acked)) < 0 ||
        COUNTER(b, "wb_worker_batches_total", "Batches committed.", atomic_load(&wk_m.batches)) <
            0 ||
        COUNTER(b, "wb_worker_snapshots_total", "wb.snapshot requests answered.",
                atomic_load(&wk_m.snapshots)) < 0 ||
        COUNTER(b, "wb_worker_snapshot_strokes_total", "Strokes sent in snapshots.",
                atomic_load(&wk_m.snapshot_strokes)) < 0 ||
        GAUGE(b, "wb_worker_consumer_pending",
              "Stream messages not yet delivered to consumer wb-worker (lag; -1 unknown).",
              atomic_load(&wk_m.consumer_pending)) < 0 ||
        GAUGE(b, "wb_worker_consumer_ack_pending", "Delivered but unacked messages (-1 unknown).",
              atomic_load(&wk_m.consumer_ack_pending)) < 0 ||
        GAUGE(b, "wb_worker_consumer_ack_floor", "Stream seq of the consumer's ack floor.",
              atomic_load(&wk_m.consumer_ack_floor)) < 0 ||
        GAUGE(b, "wb_worker_pg_up", "1 while the persistence connection to PostgreSQL is up.",
              atomic_load(&wk_m.pg_up)) < 0 ||
        GAUGE(b, "wb_worker_nats_up", "1 while the persistence NATS connection is up.",
              atomic_load(&wk_m.nats_up)) < 0 ||
        GAUGE(b, "wb_worker_loop_age_ms",
              "Since the persistence loop last went round (a stall detector).",
              atomic_load(&wk_m.loop_ms) ? wb_mono_ms() - atomic_load(&wk_m.loop_ms) : -1) < 0)
        return -1;
    if (wk_buf_printf(b, "# HELP wb_worker_errors_total Errors by kind.\n"
                         "# TYPE wb_worker_errors_total counter\n") < 0)
        return -1;
    for (int k = 0; k < WK_ERR__COUNT; k++)
        if (wk_buf_printf(b, "wb_worker_errors_total{kind=\"%s\"} %llu\n", g_err_names[k],
                          (unsigned long long)atomic_load(&wk_m.errors[k])) < 0)
            return -1;
    if (render_hist(b, &wk_m.batch_size) < 0 || render_hist(b, &wk_m.commit_seconds) < 0 ||
        render_hist(b, &wk_m.lag_seconds) < 0 || render_hist(b, &wk_m.stream_lag_seconds) < 0 ||
        render_hist(b, &wk_m.snapshot_seconds) < 0)
        return -1;
    return 0;
}
