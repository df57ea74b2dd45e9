/* wb-bench: load generator for any server speaking docs/protocol.md.
 *
 * --threads service threads (this one and T-1 more), each with its own
 * libwebsockets context and event loop and every T-th of the N client
 * connections over B boards. D connections draw: durable `stroke` ops at
 * --rate per second each and/or ephemeral `cursor` messages at
 * --cursor-rate; everyone receives. Each op id is "B<run>_<conn>_<counter>"
 * and each cursor carries its counter in x, so every receipt is matched to
 * its send time (CLOCK_MONOTONIC, same process) in the sender's ring
 * (bench_track.h) and counted once per receiving client.
 *
 * Latency is measured from the moment the message is written to the socket.
 * How late that write was against the drawer's schedule is a histogram of
 * its own (`send_lag`): if its p99 is more than a few ms the bench (or
 * server back-pressure) could not keep the offered rate and the latency
 * numbers understate the delay (coordinated omission). A drawer more than
 * 1 s behind schedule skips ahead and counts the skipped sends
 * (`send_skipped`).
 *
 * Phases: connect (ramped) -> idle (--idle s; RSS per idle connection) ->
 * load (--duration s) -> drain (--drain s, or until everything arrived) ->
 * report (stdout summary, --json FILE).
 *
 * This file: main (set-up, the service loop, tear-down); the modules are
 * listed in bench.h. Options: `wb-bench --help` (flags, WB_BENCH_* env). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"
#include "wb_clock.h"
#include "wb_log.h"

/* The run (bench.h says which thread owns what). */
bench B;
__thread bench_thread *bench_me;

static void quiet_signal(void *loop, int sig) {}

int bench_thread_ctx(bench_thread *t)
{
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = bench_protocols;
    info.fd_limit_per_thread = (unsigned)(B.cfg.conns / B.cfg.threads) + 128;
    info.timeout_secs = 30;
    info.connect_timeout_secs = 20;
    if (B.cfg.tls) info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    if (!strcmp(B.cfg.evlib, "uv")) {
        /* libuv (epoll): poll(2) over thousands of sockets on every wakeup
         * would make the bench, not the server, the bottleneck */
        info.options |= LWS_SERVER_OPTION_LIBUV;
        info.signal_cb = t->idx ? quiet_signal : bench_lws_signal; /* count a signal once */
    }
    t->ctx = lws_create_context(&info);
    if (!t->ctx && !strcmp(B.cfg.evlib, "uv") && !t->idx) {
        wb_warn(
            "bench: no libuv event loop in this libwebsockets (package libwebsockets-evlib-uv); "
            "falling back to poll(2), which costs O(connections) per wakeup");
        B.cfg.evlib = "poll";
        info.options &= ~(uint64_t)LWS_SERVER_OPTION_LIBUV;
        info.signal_cb = NULL;
        t->ctx = lws_create_context(&info);
    }
    if (!t->ctx) {
        wb_error("bench: lws_create_context failed (thread %d)", t->idx);
        return -1;
    }
    return 0;
}

/* One service thread's life: its loop runs until the run is done. */
static void service(bench_thread *t)
{
    bench_me = t;
    bench_thread_start();
    while (B.run.phase != P_DONE && B.run.interrupted < 3)
        if (lws_service(t->ctx, 0) < 0) break;
    if (B.run.phase != P_DONE) B.run.interrupted = 3; /* lws_service failed: stop everyone */
}

static void *thread_main(void *arg)
{
    bench_thread *t = arg;
    service(t);
    lws_context_destroy(t->ctx);
    t->ctx = NULL;
    return NULL;
}

static uint32_t ring_size(double rate)
{
    double want = rate * 30; /* 30 s of history per sender */
    if (want < 256) want = 256;
    if (want > 65536) want = 65536;
    return (uint32_t)want;
}

int main(int argc, char **argv)
{
    wb_log_init("bench", getenv("WB_LOG_LEVEL"));
    int rc = bench_config_load(argc, argv);
    if (rc) return rc > 0 ? 0 : 2; /* 1: --help */

    struct rlimit rl;
    if (!getrlimit(RLIMIT_NOFILE, &rl)) {
        rlim_t want = (rlim_t)B.cfg.conns + 256;
        if (rl.rlim_cur < want) {
            rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
            if (setrlimit(RLIMIT_NOFILE, &rl)) wb_syserr("bench: setrlimit NOFILE");
        }
        if (rl.rlim_cur < want)
            wb_warn("bench: open file limit %llu < %llu: raise ulimit -n",
                    (unsigned long long)rl.rlim_cur, (unsigned long long)want);
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, bench_on_signal);
    signal(SIGTERM, bench_on_signal);

    uint64_t seed = (uint64_t)wb_mono_ns() ^ ((uint64_t)getpid() << 32);
    srand((unsigned)seed);
    static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (int i = 0; i < 6; i++) {
        B.run.run_id[i] = al[seed % 36];
        seed = seed / 36 ^ (seed * 6364136223846793005ull + 1442695040888963407ull);
    }

    B.run.conns = calloc((size_t)B.cfg.conns, sizeof *B.run.conns);
    B.run.boards = calloc((size_t)B.cfg.boards, sizeof *B.run.boards);
    B.run.drawer_idx = calloc((size_t)B.cfg.drawers + 1, sizeof *B.run.drawer_idx);
    wb_map_init(&B.run.cids);
    B.s.tl_cap = (int)(B.cfg.duration + B.cfg.drain) + 8;
    B.s.timeline = calloc((size_t)B.s.tl_cap, sizeof *B.s.timeline);
    if (!B.run.conns || !B.run.boards || !B.run.drawer_idx || !B.s.timeline) {
        wb_error("bench: out of memory");
        return 1;
    }
    for (int i = 0; i < B.cfg.conns; i++) {
        B.run.conns[i].idx = (uint32_t)i;
        B.run.conns[i].board = (uint32_t)(i % B.cfg.boards);
        B.run.conns[i].member = (uint32_t)(i / B.cfg.boards);
        B.run.boards[B.run.conns[i].board].members++;
    }
    /* drawers are the first members of each board */
    uint32_t drawer_members = (uint32_t)((B.cfg.drawers + B.cfg.boards - 1) / B.cfg.boards);
    for (int i = 0; B.cfg.cursor_rate > 0 && i < B.cfg.conns; i++) {
        conn *c = &B.run.conns[i];
        c->cur_newest_n = drawer_members;
        if (!(c->cur_newest = calloc(drawer_members ? drawer_members : 1, sizeof *c->cur_newest))) {
            wb_error("bench: out of memory");
            return 1;
        }
    }
    for (int i = 0; i < B.cfg.drawers; i++) {
        conn *c = &B.run.conns[i];
        c->drawer = 1;
        B.run.drawer_idx[B.run.n_drawers++] = (uint32_t)i;
        uint32_t m = B.run.boards[c->board].members;
        if (bt_ring_init(&c->strokes, B.cfg.rate > 0 ? ring_size(B.cfg.rate) : 16, m, 1) < 0 ||
            bt_ring_init(&c->cursors, B.cfg.cursor_rate > 0 ? ring_size(B.cfg.cursor_rate) : 16, m,
                         0) < 0)
            return 1;
    }

    lws_set_log_level(B.cfg.lws_log, NULL);
    if (pthread_rwlock_init(&B.run.cids_lock, NULL)) {
        wb_error("bench: pthread_rwlock_init failed");
        return 1;
    }
    B.run.threads = calloc((size_t)B.cfg.threads, sizeof *B.run.threads);
    if (!B.run.threads) {
        wb_error("bench: out of memory");
        return 1;
    }
    for (int t = 0; t < B.cfg.threads; t++) {
        B.run.threads[t].idx = t;
        pthread_mutex_init(&B.run.threads[t].sec.lock, NULL);
        if (bench_thread_ctx(&B.run.threads[t]) < 0) return 1;
    }
    if (!B.cfg.quiet)
        fprintf(stderr,
                "[bench] run %s: %d conns over %d boards, %d drawers x %.1f strokes/s + %.1f "
                "cursors/s, %s%s\n",
                B.run.run_id, B.cfg.conns, B.cfg.boards, B.run.n_drawers, B.cfg.rate,
                B.cfg.cursor_rate, B.cfg.url, B.cfg.path);

    bench_proc_all(B.s.ps_base);
    B.run.t0 = (uint64_t)wb_mono_ns();
    bench_set_phase(P_CONNECT, B.run.t0);
    int started = 1;
    for (int t = 1; t < B.cfg.threads; t++, started++)
        if (pthread_create(&B.run.threads[t].tid, NULL, thread_main, &B.run.threads[t])) {
            wb_error("bench: pthread_create failed");
            B.run.interrupted = 3;
            break;
        }
    service(&B.run.threads[0]);
    B.run.phase = P_DONE; /* (if the loop failed) the other threads stop too */
    for (int t = 1; t < started; t++)
        pthread_join(B.run.threads[t].tid, NULL);
    lws_context_destroy(B.run.threads[0].ctx);
    bench_finish();
    for (int d = 0; d < B.run.n_drawers; d++) {
        bt_ring_free(&B.run.conns[B.run.drawer_idx[d]].strokes);
        bt_ring_free(&B.run.conns[B.run.drawer_idx[d]].cursors);
    }
    for (int i = 0; i < B.cfg.conns; i++) {
        free(B.run.conns[i].rx);
        free(B.run.conns[i].cur_newest);
    }
    int ok = B.n.welcomed > 0;
    wb_map_free(&B.run.cids);
    free(B.run.conns);
    free(B.run.boards);
    free(B.run.drawer_idx);
    free(B.run.threads);
    free(B.s.timeline);
    return ok ? 0 : 3; /* 3: not one connection got a welcome */
}
