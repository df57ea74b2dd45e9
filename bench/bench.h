/* bench: the state of one wb-bench run, shared by its modules:
 *   bench_config.c  options (the common config table), the target URL
 *   bench_conn.c    connections: connect, receive and match, send on schedule
 *   bench_phase.c   phases and timers (connect, idle, load, drain, done)
 *   bench_sample.c  process, host and worker-metrics samples
 *   bench_report.c  the stdout summary and the JSON report
 *   wb_bench.c      main: set-up, the service loop, tear-down
 * Thread: everything here belongs to the one libwebsockets service thread
 * (main), except `interrupted`, which the signal handlers also write. */
#ifndef BENCH_H
#define BENCH_H

#include <jansson.h>
#include <libwebsockets.h>
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
    double duration, idle, drain, connect_timeout;
    int connect_rate, connect_inflight;
    int points;
    const char *prefix, *json, *label, *subprotocol, *worker_metrics, *evlib;
    int pid_n;
    char *pid_name[MAX_PIDS];
    int pid[MAX_PIDS];
    int lws_log;
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
    uint64_t t_start;
    uint64_t next_stroke, next_cursor, stroke_ctr, cursor_ctr;
    uint64_t own_acked; /* --inflight: this drawer's strokes acked */
    char *rx;
    size_t rx_len, rx_cap;
    char path[160];
    bt_ring strokes, cursors;
} conn;

typedef struct board {
    uint32_t members; /* assigned */
    uint32_t alive;   /* welcomed and not closed */
} board;

/* The run: connections, boards, phase and its times. */
typedef struct bench_run {
    struct lws_context *ctx;
    conn *conns;
    board *boards;
    uint32_t *drawer_idx;
    int n_drawers;
    char run_id[8];
    int phase;
    uint64_t t0, t_phase, t_load_start, t_load_end, t_drain_end, t_last_tick;
    volatile sig_atomic_t interrupted;
    wb_map cids; /* client id (from welcome) -> conn index + 1 */
    lws_sorted_usec_list_t sul_tick, sul_phase;
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
    bench_hist h_e2e, h_self, h_ack, h_cursor, h_connect, h_welcome, h_sec, h_lag;
    uint64_t load_deliveries, load_cur_deliveries, send_skipped, write_errors, bad_frames,
        foreign_ev, foreign_ack, cursor_unmapped, frames_rx, bytes_rx, msgs_rx;
    uint64_t sec_sent, sec_deliv, sec_cur, sec_acks; /* this second, for the timeline */
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

/* bench_conn.c */
extern const struct lws_protocols bench_protocols[];
void bench_conn_start(conn *c);
uint64_t bench_period_ns(double rate);
/* Whether a drawer has a stroke or cursor due at now. */
int bench_due(const conn *c, uint64_t now);

/* bench_phase.c */
extern const char *const bench_phase_name[];
void bench_set_phase(int p, uint64_t now);
void bench_phase_cb(lws_sorted_usec_list_t *sul);
void bench_tick_cb(lws_sorted_usec_list_t *sul);
/* Closes the books (missing deliveries) and writes the report. */
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
