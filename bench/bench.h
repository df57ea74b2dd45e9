/* bench: the state of one wb-bench run, shared by its modules:
 *   bench_config.c  options (the common config table), the target URL
 *   bench_conn.c    connections: connect, receive and match, send on schedule
 *   bench_phase.c   phases and timers (connect, idle, load, drain, done)
 *   bench_sample.c  process, host and worker-metrics samples
 *   bench_report.c  the stdout summary and the JSON report
 *   wb_bench.c      main: set-up, the service loop, tear-down
 * Threads: --threads service threads (main is thread 0), each with its own
 * libwebsockets context and event loop; connection i belongs to thread
 * i % threads and only that thread touches its lws state, its rx buffer and
 * (for a drawer) its send schedule and rings' send side. Each thread counts
 * into its own bench_thread.n (merged into B.n after the threads have
 * stopped). Shared while running: the phase (atomic, written by thread 0),
 * boards[].alive (atomic), the client id map (rwlock), the rings' receipt
 * bits (atomic, bench_track.h) and each thread's per-second counters (its
 * mutex; thread 0 reads them once a second). `interrupted` is also written
 * by the signal handlers. */
#ifndef BENCH_H
#define BENCH_H

#include <jansson.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "bench_hist.h"
#include "bench_parse.h"
#include "bench_track.h"
#include "wb_map.h"

#define MAX_PIDS 8
#define MAX_CLOSE_CODES 32
#define MAX_FAIL_REASONS 8
#define NS 1000000000ull

/* Options (bench_config.c), validated, and the parsed target URL. */
typedef struct bench_cfg {
    const char *url;
    int conns, boards, drawers;
    double rate, cursor_rate;
    int inflight; /* > 0: each drawer keeps this many strokes unacked (rate is the cap) */
    int batch;    /* > 1: up to this many due messages per frame, as one JSON array */
    double duration, idle, drain, connect_timeout;
    int connect_rate, connect_inflight;
    int points;
    const char *prefix, *json, *label, *subprotocol, *worker_metrics, *evlib;
    int pid_n;
    char *pid_name[MAX_PIDS];
    int pid[MAX_PIDS];
    int lws_log;
    int threads; /* service threads, each with its share of the connections */
    bool quiet;
    /* the URL: host, host:port, path template with {board} */
    char host[256], hostport[300], path[512];
    int port, tls;
} bench_cfg;

enum { C_IDLE, C_CONNECTING, C_ESTAB, C_WELCOMED, C_CLOSED, C_FAILED };
enum { P_CONNECT, P_IDLE, P_LOAD, P_DRAIN, P_DONE };

/* One client connection (bench_conn.c drives it). */
typedef struct conn {
    struct lws *wsi;
    uint32_t idx, board, member;
    uint8_t state, drawer, want_write;
    uint8_t ack_kick;                   /* an ack freed an --inflight slot during this frame */
    uint8_t was_welcomed, closed_early; /* for the end's books */
    uint64_t t_start;
    uint64_t next_stroke, next_cursor, stroke_ctr, cursor_ctr;
    uint64_t own_acked; /* --inflight: this drawer's strokes acked */
    char *rx;
    size_t rx_len, rx_cap;
    char path[160];
    bt_ring strokes, cursors;
    /* --cursor-rate: per drawer of its board (by member index), the newest
     * cursor counter received from it + 1 (0: none yet); this conn's thread */
    uint64_t *cur_newest;
    uint32_t cur_newest_n;
} conn;

typedef struct board {
    uint32_t members;       /* assigned */
    _Atomic uint32_t alive; /* welcomed and not closed (any thread) */
} board;

typedef struct bench_thread bench_thread;

/* The run: connections, boards, phase and its times (written by thread 0). */
typedef struct bench_run {
    conn *conns;
    board *boards;
    uint32_t *drawer_idx;
    int n_drawers;
    char run_id[8];
    _Atomic int phase;
    uint64_t t0, t_phase, t_load_start, t_load_end, t_drain_end, t_last_tick;
    volatile sig_atomic_t interrupted;
    wb_map cids; /* client id (from welcome) -> conn index + 1; under cids_lock */
    pthread_rwlock_t cids_lock;
    bench_thread *threads; /* cfg.threads of them; [0] is main */
} bench_run;

/* Message types and error codes counted (bench_conn.c; "other" last). */
#define BENCH_N_TYPES 10
#define BENCH_N_ERRS 6
extern const char *const bench_msg_types[BENCH_N_TYPES];
extern const char *const bench_err_codes[BENCH_N_ERRS];

/* What happened: counters and latency histograms. */
typedef struct bench_counts {
    int started, established, welcomed, failed, closed_n, closed_early;
    bt_stats st_ev, st_cur;
    bench_hist h_e2e, h_self, h_ack, h_cursor, h_connect, h_welcome, h_lag;
    uint64_t load_deliveries, load_cur_deliveries, send_skipped, write_errors, bad_frames,
        foreign_ev, foreign_ack, cursor_unmapped, frames_rx, bytes_rx, msgs_rx, frames_tx;
    /* A gateway may send only a peer's newest cursor (coalescing): what
     * must hold is that cursors of one sender never go back (reordered:
     * one older than one received before) and that every receiver ends
     * with each drawer's last cursor (newest_missing of newest_pairs,
     * counted at the end over the receivers still connected). */
    uint64_t cursor_reordered, cursor_newest_pairs, cursor_newest_missing;
    uint64_t type_count[BENCH_N_TYPES];
    uint64_t err_count[BENCH_N_ERRS];
    struct {
        int code;
        uint64_t n;
    } close_codes[MAX_CLOSE_CODES];
    int n_close_codes;
    struct {
        char why[120];
        uint64_t n;
    } fail_reasons[MAX_FAIL_REASONS];
    int n_fail_reasons;
} bench_counts;

/* This second's counts for the timeline: the thread adds under `lock`,
 * thread 0 takes and resets them once a second. */
typedef struct bench_sec {
    pthread_mutex_t lock;
    uint64_t sent, deliv, cur, acks;
    bench_hist h; /* e2e and cursor latency of this second */
} bench_sec;

/* One service thread: its lws context (and event loop), its connections
 * (i % threads == idx) and what it counted. */
struct bench_thread {
    int idx;
    pthread_t tid;
    struct lws_context *ctx;
    int next_conn; /* its next connection to start: idx + next_conn * threads */
    int tick_on;   /* the drawers' send tick runs */
    bench_counts n;
    bench_sec sec;
    lws_sorted_usec_list_t sul_tick, sul_run;
};

/* The calling service thread's own (NULL elsewhere). */
extern __thread bench_thread *bench_me;
#define BN (bench_me->n)

typedef struct proc_sample {
    double cpu_s;
    long rss_kb;
} proc_sample;

/* Host-wide CPU (busy and total jiffies, all cores) and the 1-minute load
 * average: on a shared machine they show how much is other tenants. */
typedef struct host_sample {
    unsigned long long busy, total;
    double load1;
} host_sample;

typedef struct tl_point {
    double t;
    uint64_t sent, deliveries, cursor_deliveries, acks;
    uint64_t p50, p99, max;
    long rss_kb[MAX_PIDS + 1];
    double cpu_s[MAX_PIDS + 1];
} tl_point;

/* Samples: per process (slot i < pid_n: --pid i; slot pid_n: the bench),
 * the host, the per-second timeline and the worker's metrics. */
typedef struct bench_samples {
    proc_sample ps_base[MAX_PIDS + 1], ps_idle[MAX_PIDS + 1], ps_load0[MAX_PIDS + 1],
        ps_load1[MAX_PIDS + 1], ps_end[MAX_PIDS + 1];
    long rss_load_max[MAX_PIDS + 1];
    int idle_connected;
    host_sample host0, host1;
    tl_point *timeline;
    int tl_n, tl_cap;
    json_t *metrics_start, *metrics_load, *metrics_end;
} bench_samples;

typedef struct bench {
    bench_cfg cfg;
    bench_run run;
    bench_counts n;
    bench_samples s;
} bench;

/* The one run (wb_bench.c). */
extern bench B;

static inline double bench_secs(uint64_t ns)
{
    return (double)ns / 1e9;
}

/* bench_config.c: options from flags, the environment (WB_BENCH_*) and
 * defaults. Returns 0, 1 after --help, or -1. */
int bench_config_load(int argc, char **argv);

/* wb_bench.c: creates the thread's lws context (0 or -1). */
int bench_thread_ctx(bench_thread *t);

/* bench_conn.c */
extern const struct lws_protocols bench_protocols[];
void bench_conn_start(conn *c);
uint64_t bench_period_ns(double rate);
/* Whether a drawer has a stroke or cursor due at now. */
int bench_due(const conn *c, uint64_t now);
/* Service thread of c: writes c's due messages now (one frame), or asks
 * for a writeable callback while lws still holds part of an earlier write. */
void bench_kick(conn *c);

/* bench_phase.c */
extern const char *const bench_phase_name[];
void bench_set_phase(int p, uint64_t now);
/* Starts the thread's own timers (thread 0 also runs the phases). */
void bench_thread_start(void);
/* After every thread has stopped: merges their counts into B.n, closes the
 * books (missing deliveries) and writes the report. */
void bench_finish(void);
void bench_on_signal(int sig);
void bench_lws_signal(void *loop, int sig);

/* bench_sample.c */
void bench_proc_all(proc_sample *s);
void bench_host_read(host_sample *h);
/* Every worker sample whose name has "lag", "persist" or "pending" (NULL without --worker-metrics).
 */
json_t *bench_fetch_metrics(void);
/* Per Prometheus histogram in both samples: count, mean, p50/p99 bucket bounds between them. */
json_t *bench_hist_delta(json_t *a, json_t *b);

/* bench_report.c */
void bench_report(void);

#endif
