/* gw_main: the gateway process. Reads the configuration table, starts the
 * loop (gw_loop.c), NATS and the sync pool, runs the loop on the main thread,
 * and shuts down in order on SIGTERM/SIGINT:
 * /healthz turns 503, wait one grace period (the balancer notices), close
 * every client with 1001, drain NATS, exit 0. Owns the global gw_server. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

#include "gw.h"
#include "wb_config.h"
#include "wb_log.h"

gw_server gw;

static const wb_cfg_item g_cfg[] = {
    {"gateway-id", "WB_GATEWAY_ID", WB_CFG_STR, "gw-1", 0, 0, &gw.cfg.gateway_id,
     "instance name (welcome.gateway)"},
    {"bind", "WB_BIND", WB_CFG_STR, "127.0.0.1", 0, 0, &gw.cfg.bind,
     "listen address (0.0.0.0 in containers)"},
    {"port", "WB_PORT", WB_CFG_INT, "9001", 1, 65535, &gw.cfg.port, "HTTP/WebSocket port"},
    {"nats-url", "WB_NATS_URL", WB_CFG_STR, "nats://127.0.0.1:4222", 0, 0, &gw.cfg.nats_url,
     "NATS server URL(s), comma-separated"},
    {"nats-user", "WB_NATS_USER", WB_CFG_STR, "", 0, 0, &gw.cfg.nats_user,
     "NATS user (role gateway; empty: no credentials)"},
    {"nats-password-file", "WB_NATS_PASSWORD_FILE", WB_CFG_STR, "", 0, 0,
     &gw.cfg.nats_password_file, "file holding the NATS user's password"},
    {"static-dir", "WB_STATIC_DIR", WB_CFG_STR, "client/dist", 0, 0, &gw.cfg.static_dir,
     "built client"},
    {"max-frame", "WB_MAX_FRAME", WB_CFG_INT, "262144", 1024, 64 << 20, &gw.cfg.max_frame,
     "largest client frame (bytes); larger: close 1009"},
    {"rate", "WB_RATE", WB_CFG_INT, "200", 1, 1000000, &gw.cfg.rate, "client messages per second"},
    {"burst", "WB_BURST", WB_CFG_INT, "400", 1, 1000000, &gw.cfg.burst, "client message burst"},
    {"abuse-refusals", "WB_ABUSE_REFUSALS", WB_CFG_INT, "2000", 1, 100000000,
     &gw.cfg.abuse_refusals, "rate-limited messages within ~5 s that close with 1008"},
    {"byte-rate", "WB_BYTE_RATE", WB_CFG_INT, "2097152", 1024, 1LL << 32, &gw.cfg.byte_rate,
     "client frame bytes per second; over it: rate_limited"},
    {"byte-burst", "WB_BYTE_BURST", WB_CFG_INT, "8388608", 1024, 1LL << 34, &gw.cfg.byte_burst,
     "client frame bytes burst (at least max-frame)"},
    {"max-points", "WB_MAX_POINTS", WB_CFG_INT, "20000", 2, 20000, &gw.cfg.max_points,
     "numbers in one stroke's points (protocol maximum 20000)"},
    {"max-ids", "WB_MAX_IDS", WB_CFG_INT, "1000", 1, 10000, &gw.cfg.max_ids,
     "stroke ids in one erase/restore"},
    {"sendq-max", "WB_SENDQ_MAX", WB_CFG_INT, "8192", 16, 10000000, &gw.cfg.sendq_max,
     "queued messages per client before close 1013"},
    {"sendq-bytes", "WB_SENDQ_BYTES", WB_CFG_INT, "16777216", 65536, 1LL << 32, &gw.cfg.sendq_bytes,
     "queued bytes per client before close 1013"},
    {"replay-chunk-bytes", "WB_REPLAY_CHUNK_BYTES", WB_CFG_INT, "1048576", 4096, 1LL << 30,
     &gw.cfg.replay_chunk_bytes,
     "a resume's replay is read this much at a time, as the client reads"},
    {"idle-timeout-s", "WB_IDLE_TIMEOUT_S", WB_CFG_INT, "60", 2, 3600, &gw.cfg.idle_timeout_s,
     "a client that reads nothing for this long is closed (1013; unanswered pings too)"},
    {"ping-interval-s", "WB_PING_INTERVAL_S", WB_CFG_INT, "20", 1, 3600, &gw.cfg.ping_interval_s,
     "server ping after this long without traffic"},
    {"max-conns-per-ip", "WB_MAX_CONNS_PER_IP", WB_CFG_INT, "200", 1, 1000000,
     &gw.cfg.max_conns_per_ip, "WebSocket connections per client address (more: 429)"},
    {"write-pace-us", "WB_WRITE_PACE_US", WB_CFG_INT, "5000", 0, 1000000, &gw.cfg.write_pace_us,
     "a client written to less than this ago gets its next frames at most this much later, in "
     "one write (0: every loop turn)"},
    {"cursor-window-ms", "WB_CURSOR_WINDOW_MS", WB_CFG_INT, "50", 0, 1000, &gw.cfg.cursor_window_ms,
     "a client that has only cursors queued and was written to less than this ago waits; a "
     "newer cursor of a peer replaces the queued one meanwhile; then the next cursor goes as it "
     "comes, or the queued ones a window later (0: write-pace-us applies)"},
    {"trusted-proxies", "WB_TRUSTED_PROXIES", WB_CFG_STR, "127.0.0.1,::1", 0, 0,
     &gw.cfg.trusted_proxies, "peers whose X-Forwarded-For names the client (Traefik)"},
    {"api-max-inflight", "WB_API_MAX_INFLIGHT", WB_CFG_INT, "4", 1, 1024, &gw.cfg.api_max_inflight,
     "REST snapshots built at once (more: 503)"},
    {"shutdown-grace-ms", "WB_SHUTDOWN_GRACE_MS", WB_CFG_INT, "1500", 0, 60000,
     &gw.cfg.shutdown_grace_ms, "503 on /healthz this long before closing clients"},
    {"snapshot-timeout-ms", "WB_SNAPSHOT_TIMEOUT_MS", WB_CFG_INT, "5000", 100, 60000,
     &gw.cfg.snapshot_timeout_ms, "wait for the worker's snapshot"},
    {"sync-threads", "WB_SYNC_THREADS", WB_CFG_INT, "2", 1, 16, &gw.cfg.sync_threads,
     "threads for joins, snapshots and gap fills"},
    {"presence-interval-ms", "WB_PRESENCE_INTERVAL_MS", WB_CFG_INT, "1000", 100, 60000,
     &gw.cfg.presence_interval_ms, "presence heartbeat"},
    {"stream-max-age-s", "WB_STREAM_MAX_AGE_S", WB_CFG_INT, "0", 0, 1LL << 40,
     &gw.cfg.stream.max_age_s, "WB_OPS max age (0: keep); older ops: resume gets a snapshot"},
    {"stream-max-bytes", "WB_STREAM_MAX_BYTES", WB_CFG_INT, "0", 0, 1LL << 50,
     &gw.cfg.stream.max_bytes, "WB_OPS size limit, oldest ops dropped first (0: none)"},
    {"stream-max-msg-size", "WB_STREAM_MAX_MSG_SIZE", WB_CFG_INT, "524288", 1024, 64 << 20,
     &gw.cfg.stream.max_msg_size, "largest stored op (bytes)"},
    {"dedup-window-s", "WB_DEDUP_WINDOW_S", WB_CFG_INT, "600", 1, 1LL << 30,
     &gw.cfg.stream.dedup_window_s, "JetStream duplicate window for op ids"},
    {"commit-batch-min", "WB_COMMIT_BATCH_MIN", WB_CFG_INT, "8", 1, 1000000,
     &gw.cfg.commit_batch_min, "durable ops pending at a round: fewer go as plain publishes"},
    {"commit-batch-max", "WB_COMMIT_BATCH_MAX", WB_CFG_INT, "1000", 1, 1000,
     &gw.cfg.commit_batch_max, "durable ops per JetStream atomic batch (one fsync)"},
    {"commit-pending-bytes", "WB_COMMIT_PENDING_BYTES", WB_CFG_INT, "33554432", 65536, 1LL << 32,
     &gw.cfg.commit_pending_bytes, "durable ops waiting for a round, bytes; beyond: unavailable"},
    {"nats-evloop", "WB_NATS_EVLOOP", WB_CFG_INT, "0", 0, 1, &gw.cfg.nats_evloop,
     "1: the NATS socket on the gateway's libuv loop (nats.c adapter; unsafe across reconnects "
     "in nats.c 3.x, nats.c#1007); 0: nats.c's threads"},
    {"nats-send-asap", "WB_NATS_SEND_ASAP", WB_CFG_INT, "1", 0, 1, &gw.cfg.nats_send_asap,
     "1: a NATS publish is written to the socket at once (nats.c's flusher thread waits 1 ms "
     "for more before it writes: that wait is in every commit round)"},
    {"stream-replicas", "WB_STREAM_REPLICAS", WB_CFG_INT, "1", 1, 5, &gw.cfg.stream.replicas,
     "WB_OPS replicas (3 on a 3-node NATS cluster)"},
    {"view-secret-file", "WB_VIEW_SECRET_FILE", WB_CFG_STR, "", 0, 0, &gw.cfg.view_secret_file,
     "secret for view-only link ids (empty: shared through the WB_VIEWS bucket)"},
    {"log-level", "WB_LOG_LEVEL", WB_CFG_STR, "info", 0, 0, &gw.cfg.log_level,
     "debug|info|warn|error"},
};
#define NCFG (sizeof g_cfg / sizeof *g_cfg)

static gw_timer *g_shutdown_timer, *g_nats_timer;
static pthread_t g_stop_thread;
static bool g_stop_thread_started;
static int g_shutdown_phase; /* 0 running, 1 draining, 2 closing, 3 done */
static int64_t g_close_started;

static void publish_leaving(gw_board *b, void *arg)
{
    gw_presence_publish(b, true);
}

/* Stops the sync pool and NATS, then the loop. */
static void *stop_main(void *arg)
{
    gw_sync_stop();
    gw_nats_stop();
    gw_loop_stop_async();
    return NULL;
}

/* Loop mode: the first NATS connect failed; try again every 500 ms. */
static void nats_retry(void)
{
    int r = gw_nats_retry();
    if (r > 0) gw_timer_start(g_nats_timer, 500);
}

static void shutdown_step(void)
{
    if (g_shutdown_phase == 1) {
        wb_info("closing all clients with 1001");
        gw_conns_close_all(1001, "gateway shutting down");
        gw_boards_foreach(publish_leaving, NULL);
        g_shutdown_phase = 2;
        g_close_started = wb_mono_us();
    }
    if (g_shutdown_phase == 2) {
        if (atomic_load(&gw_m.conns) == 0 || wb_mono_us() - g_close_started > 3000000) {
            g_shutdown_phase = 3;
            atomic_store(&gw.stopping, true);
            gw_opid_stop(); /* here: its state is the loop thread's */
            /* NATS is drained while the loop still runs (with the NATS
             * socket on the loop, the drain needs it). */
            if (pthread_create(&g_stop_thread, NULL, stop_main, NULL) == 0) {
                g_stop_thread_started = true;
            } else {
                wb_syserr("pthread_create");
                gw_loop_stop();
            }
            return;
        }
    }
    gw_timer_start(g_shutdown_timer, 50);
}

/* SIGTERM / SIGINT, on the loop thread. */
static void on_signal(int sig)
{
    if (g_shutdown_phase) return;
    wb_info("signal %d: draining (healthz 503 for %lld ms, then close clients)", sig,
            gw.cfg.shutdown_grace_ms);
    atomic_store(&gw.draining, true);
    g_shutdown_phase = 1;
    gw_timer_start(g_shutdown_timer, gw.cfg.shutdown_grace_ms);
}

/* The most one send() to a client carries: a whole coalesced frame (64 KiB,
 * gw_ws.c) or HTTP chunk (64 KiB, gw_http.c) in one call; what the socket
 * does not take lws keeps and sends on POLLOUT. */
#define GW_TX_PACKET_MAX (256 * 1024)

static const struct lws_protocols g_protocols[] = {
    /* rx_buffer_size is per connection: keep it small (frames are reassembled).
     * tx_packet_size must be set: 0 makes lws cap every send() at
     * rx_buffer_size + LWS_PRE + 4 (1044 bytes) and buffer the rest, so a
     * 7 KB presence list cost 7 sends, each after its own POLLOUT round. */
    {"wb.v1", gw_ws_callback, sizeof(gw_conn), 1024, 0, NULL, GW_TX_PACKET_MAX},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lws_log(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    if (level & LLL_ERR)
        wb_error("lws: %.*s", (int)n, line);
    else if (level & LLL_WARN)
        wb_warn("lws: %.*s", (int)n, line);
    else
        wb_debug("lws: %.*s", (int)n, line);
}

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max > 1048576 ? 1048576 : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    int rc = 1;
    wb_log_init("gateway", getenv("WB_LOG_LEVEL"));
    int c = wb_config_load(g_cfg, NCFG, argc, argv, "wb-gateway");
    if (c) return c > 0 ? 0 : 2;
    if (!wb_valid_id(gw.cfg.gateway_id, strlen(gw.cfg.gateway_id))) {
        wb_error("config gateway-id=%s: must match [A-Za-z0-9_-]{1,64}", gw.cfg.gateway_id);
        return 2;
    }
    if (gw.cfg.byte_burst < gw.cfg.max_frame) {
        wb_error("config byte-burst=%lld is below max-frame=%lld: the largest frame could never "
                 "pass",
                 gw.cfg.byte_burst, gw.cfg.max_frame);
        return 2;
    }
    wb_log_init(gw.cfg.gateway_id, gw.cfg.log_level);
    wb_config_print(g_cfg, NCFG);
    wb_info("libraries: libwebsockets=%s nats.c=%s jansson=%s protobuf-c=%s",
            lws_get_library_version(), nats_GetVersion(), jansson_version_str(),
            protobuf_c_version());
    wb_nats_set_auth(gw.cfg.nats_user, gw.cfg.nats_password_file);
    raise_nofile();
    if (gw_view_init(gw.cfg.view_secret_file) < 0) return 2;
    signal(SIGPIPE, SIG_IGN);

    lws_set_log_level(LLL_ERR | LLL_WARN |
                          (!strcmp(gw.cfg.log_level, "debug") ? LLL_NOTICE | LLL_INFO : 0),
                      lws_log);
    gw_commit_start(gw_ack_on_puback);
    gw_opid_start(gw_ack_on_opid);
    if (gw_loop_create(g_protocols, &gw_dispatch_hooks) < 0) goto out;
    if (!(g_shutdown_timer = gw_timer_create(shutdown_step))) goto out;
    if (gw_loop_on_signals(on_signal) < 0) goto out;
    int nr = gw_nats_start(gw.cfg.nats_evloop ? gw_loop_uv() : NULL);
    if (nr < 0) goto out;
    if (nr > 0) {
        wb_warn("nats not reachable at %s yet; retrying", gw.cfg.nats_url);
        if (!(g_nats_timer = gw_timer_create(nats_retry))) goto out;
        gw_timer_start(g_nats_timer, 500);
    }
    if (gw_sync_start((int)gw.cfg.sync_threads) < 0) goto out;
    wb_info("listening on http://%s:%lld (static %s)", gw.cfg.bind, gw.cfg.port, gw.cfg.static_dir);
    if (gw_watchdog_start() < 0) goto out;
    gw_loop_run();
    rc = 0;
    wb_info("stopping");
out:
    gw_watchdog_stop(); /* first: what follows blocks the loop thread on purpose */
    if (g_stop_thread_started) pthread_join(g_stop_thread, NULL);
    gw_sync_stop();
    gw_nats_stop();
    gw_view_shutdown();
    gw_loop_destroy();
    wb_info("exit %d", rc);
    return rc;
}
