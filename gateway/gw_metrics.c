/* gw_metrics: the gateway's counters (atomics, any thread) and their
 * Prometheus text rendering for /metrics (loop thread) with common/wb_prom.
 * A leaf: it calls no other gateway module; gauges are passed in. */
#include <stdio.h>

#include "gw.h"
#include "wb_nats.h"

gw_metrics gw_m = {
    .pub_lat = {.name = "wb_gateway_publish_latency_seconds",
                .help = "Durable op publish to JetStream ack.",
                .nb = 15,
                .le = {0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1,
                       2.5, 5, 10}},
    .round_lat = {.name = "wb_gateway_commit_round_seconds",
                  .help = "A commit round of durable ops: published -> answered by JetStream.",
                  .nb = 15,
                  .le = {0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1,
                         2.5, 5, 10}},
};

void gw_metrics_observe_pub(int64_t us)
{
    wb_hist_observe(&gw_m.pub_lat, (double)us / 1e6);
}

void gw_metrics_observe_round(int64_t us)
{
    wb_hist_observe(&gw_m.round_lat, (double)us / 1e6);
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
    {"wb_gateway_ops_resent_late_total",
     "Ops resent after the dedup window, answered with the seq that stored them.", "counter",
     &gw_m.ops_resent_late},
    {"wb_gateway_closes_stalled_total", "Clients closed for not reading (stalled send queue).",
     "counter", &gw_m.closes_stalled},
    {"wb_gateway_ip_refused_total", "WebSocket upgrades refused by the per-IP cap.", "counter",
     &gw_m.ip_refused},
    {"wb_gateway_gap_fills_total", "Gaps in a board's feed filled from the stream.", "counter",
     &gw_m.gaps},
    {"wb_gateway_gap_fill_failures_total",
     "Gap fills that failed (NATS or JetStream unavailable); each is retried with backoff.",
     "counter", &gw_m.fill_failures},
    {"wb_gateway_cursors_coalesced_total",
     "Cursors not sent because a newer one of the same sender replaced them in a queue.", "counter",
     &gw_m.coalesced},
    {"wb_gateway_commit_rounds_total", "Publish rounds of durable ops (one in flight at a time).",
     "counter", &gw_m.commit_rounds},
    {"wb_gateway_commit_batches_total", "Rounds sent as one JetStream atomic batch (one fsync).",
     "counter", &gw_m.commit_batches},
    {"wb_gateway_commit_batched_ops_total", "Durable ops published inside atomic batches.",
     "counter", &gw_m.commit_batched_ops},
    {"wb_gateway_commit_round_timeouts_total",
     "Commit rounds JetStream did not answer within 4 s (their ops answered unavailable).",
     "counter", &gw_m.commit_round_timeouts},
    {"wb_gateway_commit_plain_ops_total", "Durable ops published one by one.", "counter",
     &gw_m.commit_plain_ops},
    {"wb_gateway_opid_lookups_total",
     "Op-id lookups sent (one batched direct get of WB_OPIDS per loop turn with durable ops).",
     "counter", &gw_m.opid_lookups},
    {"wb_gateway_opid_lookup_ops_total", "Durable ops asked about in op-id lookups.", "counter",
     &gw_m.opid_lookup_ops},
    {"wb_gateway_loop_wakes_total", "Times the mailbox woke the event loop.", "counter",
     &gw_m.loop_wakes},
    {"wb_gateway_loop_stalls_total",
     "Times the event loop did not run for 2 s (each logs the loop thread's stack).", "counter",
     &gw_m.loop_stalls},
};

void gw_metrics_render(wb_jw *w, size_t boards, bool nats_ok, bool draining)
{
    char labels[128], lab[64];
    snprintf(labels, sizeof labels, "gateway=\"%s\"", gw.cfg.gateway_id);
    wb_prom p;
    wb_prom_init(&p, w, labels);
    for (size_t i = 0; i < sizeof g_simple / sizeof *g_simple; i++) {
        wb_prom_family(&p, g_simple[i].name, g_simple[i].type, g_simple[i].help);
        wb_prom_u64(&p, g_simple[i].name, NULL, atomic_load(g_simple[i].v));
    }
    wb_prom_gauge(&p, "wb_gateway_boards", "Boards with local clients.", (int64_t)boards);
    wb_prom_gauge(&p, "wb_gateway_nats_connected",
                  "1 while NATS is connected and the stream is ready.", nats_ok);
    wb_prom_gauge(&p, "wb_gateway_draining", "1 while shutting down.", draining);
    wb_prom_family(&p, "wb_gateway_errors_total", "counter", "Error replies sent, by code.");
    for (int i = 1; i < WB_E__COUNT; i++) {
        snprintf(lab, sizeof lab, "code=\"%s\"", wb_errcode_name((wb_errcode)i));
        wb_prom_u64(&p, "wb_gateway_errors_total", lab, atomic_load(&gw_m.errors[i]));
    }
    wb_prom_family(&p, "wb_gateway_closes_total", "counter",
                   "Connections closed by the gateway, by code.");
    wb_prom_u64(&p, "wb_gateway_closes_total", "code=\"1008\"", atomic_load(&gw_m.closes_1008));
    wb_prom_u64(&p, "wb_gateway_closes_total", "code=\"1009\"", atomic_load(&gw_m.closes_1009));
    wb_prom_u64(&p, "wb_gateway_closes_total", "code=\"1013\"", atomic_load(&gw_m.closes_1013));
    wb_prom_hist(&p, &gw_m.pub_lat);
    wb_prom_hist(&p, &gw_m.round_lat);
}
