/* gw_metrics: the gateway's counters (atomics, any thread) and their
 * Prometheus text rendering for /metrics (loop thread). A leaf: it calls no
 * other gateway module; gauges are passed in. */
#include <stdio.h>

#include "gw.h"
#include "wb_nats.h"

gw_metrics gw_m;

/* Publish -> ack latency buckets, in microseconds. */
static const long long g_bounds[] = {250,    500,     1000,    2000,    5000,
                                     10000,  20000,   50000,   100000,  250000,
                                     500000, 1000000, 2500000, 5000000, 10000000};
#define NB (sizeof g_bounds / sizeof *g_bounds)

void gw_metrics_observe_pub(int64_t us)
{
    size_t i = 0;
    while (i < NB && us > g_bounds[i])
        i++;
    atomic_fetch_add(&gw_m.pub_lat_buckets[i], 1);
    atomic_fetch_add(&gw_m.pub_lat_count, 1);
    atomic_fetch_add(&gw_m.pub_lat_sum_us, (unsigned long long)(us > 0 ? us : 0));
}

static void line(wb_jw *w, const char *name, const char *help, const char *type,
                 unsigned long long v)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf, "# HELP %s %s\n# TYPE %s %s\n%s{gateway=\"%s\"} %llu\n", name,
                     help, name, type, name, gw.cfg.gateway_id, v);
    wb_jw_raw(w, buf, (size_t)n);
}

/* The plain counters and gauges, one row each. */
static const struct {
    const char *name, *help, *type;
    atomic_ullong *v;
} g_simple[] = {
    {"wb_gateway_connections", "Open WebSocket connections.", "gauge", &gw_m.conns},
    {"wb_gateway_connections_total", "WebSocket connections accepted.", "counter",
     &gw_m.conns_total},
    {"wb_gateway_messages_in_total", "Client messages received.", "counter", &gw_m.msgs_in},
    {"wb_gateway_messages_out_total", "Messages sent to clients.", "counter", &gw_m.msgs_out},
    {"wb_gateway_frames_out_total", "WebSocket frames sent (coalesced).", "counter",
     &gw_m.frames_out},
    {"wb_gateway_bytes_out_total", "Payload bytes sent to clients.", "counter", &gw_m.bytes_out},
    {"wb_gateway_drops_total", "Ephemeral messages dropped for slow clients.", "counter",
     &gw_m.drops},
    {"wb_gateway_ops_published_total", "Durable ops published to JetStream.", "counter",
     &gw_m.ops_published},
    {"wb_gateway_ops_acked_total", "Durable ops acknowledged by JetStream.", "counter",
     &gw_m.ops_acked},
    {"wb_gateway_live_published_total", "Ephemeral messages published.", "counter",
     &gw_m.live_published},
    {"wb_gateway_nats_messages_in_total", "Messages received from NATS.", "counter",
     &gw_m.nats_msgs_in},
    {"wb_gateway_gap_fills_total", "Gaps in a board's feed filled from the stream.", "counter",
     &gw_m.gaps},
    {"wb_gateway_cursors_coalesced_total",
     "Cursors not sent because a newer one of the same sender replaced them in a queue.", "counter",
     &gw_m.coalesced},
    {"wb_gateway_commit_rounds_total", "Publish rounds of durable ops (one in flight at a time).",
     "counter", &gw_m.commit_rounds},
    {"wb_gateway_commit_batches_total", "Rounds sent as one JetStream atomic batch (one fsync).",
     "counter", &gw_m.commit_batches},
    {"wb_gateway_commit_batched_ops_total", "Durable ops published inside atomic batches.",
     "counter", &gw_m.commit_batched_ops},
    {"wb_gateway_commit_plain_ops_total", "Durable ops published one by one.", "counter",
     &gw_m.commit_plain_ops},
    {"wb_gateway_loop_wakes_total", "Times the mailbox woke the event loop.", "counter",
     &gw_m.loop_wakes},
};

void gw_metrics_render(wb_jw *w, size_t boards, bool nats_ok, bool draining)
{
    for (size_t i = 0; i < sizeof g_simple / sizeof *g_simple; i++)
        line(w, g_simple[i].name, g_simple[i].help, g_simple[i].type, atomic_load(g_simple[i].v));
    line(w, "wb_gateway_boards", "Boards with local clients.", "gauge", boards);
    line(w, "wb_gateway_nats_connected", "1 while NATS is connected and the stream is ready.",
         "gauge", nats_ok);
    line(w, "wb_gateway_draining", "1 while shutting down.", "gauge", draining);
    char buf[512];
    int n = snprintf(buf, sizeof buf,
                     "# HELP wb_gateway_errors_total Error replies sent, by code.\n# TYPE "
                     "wb_gateway_errors_total counter\n");
    wb_jw_raw(w, buf, (size_t)n);
    for (int i = 1; i < WB_E__COUNT; i++) {
        n = snprintf(buf, sizeof buf, "wb_gateway_errors_total{gateway=\"%s\",code=\"%s\"} %llu\n",
                     gw.cfg.gateway_id, wb_errcode_name((wb_errcode)i),
                     atomic_load(&gw_m.errors[i]));
        wb_jw_raw(w, buf, (size_t)n);
    }
    n = snprintf(buf, sizeof buf,
                 "# HELP wb_gateway_closes_total Connections closed by the gateway, by code.\n# "
                 "TYPE wb_gateway_closes_total counter\n"
                 "wb_gateway_closes_total{gateway=\"%s\",code=\"1008\"} "
                 "%llu\nwb_gateway_closes_total{gateway=\"%s\",code=\"1009\"} "
                 "%llu\nwb_gateway_closes_total{gateway=\"%s\",code=\"1013\"} %llu\n",
                 gw.cfg.gateway_id, atomic_load(&gw_m.closes_1008), gw.cfg.gateway_id,
                 atomic_load(&gw_m.closes_1009), gw.cfg.gateway_id, atomic_load(&gw_m.closes_1013));
    wb_jw_raw(w, buf, (size_t)n);
    n = snprintf(buf, sizeof buf,
                 "# HELP wb_gateway_publish_latency_seconds Durable op publish to JetStream "
                 "ack.\n# TYPE wb_gateway_publish_latency_seconds histogram\n");
    wb_jw_raw(w, buf, (size_t)n);
    unsigned long long cum = 0;
    for (size_t i = 0; i <= NB; i++) {
        cum += atomic_load(&gw_m.pub_lat_buckets[i]);
        if (i < NB)
            n = snprintf(
                buf, sizeof buf,
                "wb_gateway_publish_latency_seconds_bucket{gateway=\"%s\",le=\"%g\"} %llu\n",
                gw.cfg.gateway_id, (double)g_bounds[i] / 1e6, cum);
        else
            n = snprintf(
                buf, sizeof buf,
                "wb_gateway_publish_latency_seconds_bucket{gateway=\"%s\",le=\"+Inf\"} %llu\n",
                gw.cfg.gateway_id, cum);
        wb_jw_raw(w, buf, (size_t)n);
    }
    n = snprintf(buf, sizeof buf,
                 "wb_gateway_publish_latency_seconds_sum{gateway=\"%s\"} "
                 "%g\nwb_gateway_publish_latency_seconds_count{gateway=\"%s\"} %llu\n",
                 gw.cfg.gateway_id, (double)atomic_load(&gw_m.pub_lat_sum_us) / 1e6,
                 gw.cfg.gateway_id, atomic_load(&gw_m.pub_lat_count));
    wb_jw_raw(w, buf, (size_t)n);
}
