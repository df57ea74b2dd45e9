/* wb-bench: load generator for any server speaking docs/protocol.md.
 *
 * One libwebsockets context, one service thread (this one), N client
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
 * report (stdout summary, --json FILE). */
#define _GNU_SOURCE
#include <getopt.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "bench_hist.h"
#include "bench_parse.h"
#include "bench_track.h"
#include "wb_clock.h"
#include "wb_log.h"

#define MAX_PIDS 8
#define MAX_CLOSE_CODES 32
#define MAX_FAIL_REASONS 8
#define NS 1000000000ull

/* ---------- configuration ---------- */

static struct {
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
} cfg = {
    .url = "ws://127.0.0.1:9001",
    .conns = 100,
    .boards = 10,
    .drawers = -1,
    .rate = 1,
    .cursor_rate = 0,
    .duration = 10,
    .idle = 2,
    .drain = 3,
    .connect_timeout = 60,
    .connect_rate = 1000,
    .connect_inflight = 200,
    .points = 8,
    .prefix = "bench",
    .subprotocol = "wb.v1",
    .lws_log = LLL_ERR,
    .evlib = "uv",
};

/* parsed URL */
static char u_host[256], u_hostport[300], u_path[512];
static int u_port, u_tls;

/* ---------- state ---------- */

enum { C_IDLE, C_CONNECTING, C_ESTAB, C_WELCOMED, C_CLOSED, C_FAILED };
enum { P_CONNECT, P_IDLE, P_LOAD, P_DRAIN, P_DONE };
static const char *phase_name[] = {"connect", "idle", "load", "drain", "done"};

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

typedef struct proc_sample {
    double cpu_s;
    long rss_kb;
} proc_sample;

typedef struct tl_point {
    double t;
    uint64_t sent, deliveries, cursor_deliveries, acks;
    uint64_t p50, p99, max;
    long rss_kb[MAX_PIDS + 1];
    double cpu_s[MAX_PIDS + 1];
} tl_point;

static struct lws_context *ctx;
static conn *conns;
static board *boards;
static uint32_t *drawer_idx;
static int n_drawers;
static char run_id[8];
static int phase;
static uint64_t t0, t_phase, t_load_start, t_load_end, t_drain_end, t_last_tick;
static volatile sig_atomic_t interrupted;

static int started, established, welcomed, failed, closed_n, closed_early;
static bt_stats st_ev, st_cur;
static bench_hist h_e2e, h_self, h_ack, h_cursor, h_connect, h_welcome, h_sec, h_lag;
static uint64_t load_deliveries, load_cur_deliveries, send_skipped, write_errors, bad_frames,
    foreign_ev, foreign_ack, cursor_unmapped, frames_rx, bytes_rx, msgs_rx;
static uint64_t sec_sent, sec_deliv, sec_cur, sec_acks;

static const char *msg_types[] = {"welcome", "snapshot", "ev",   "ack",   "draft",
                                  "cursor",  "presence", "pong", "error", "other"};
#define N_TYPES (sizeof msg_types / sizeof *msg_types)
static uint64_t type_count[N_TYPES];
static const char *err_codes[] = {"bad_json",     "bad_message", "too_large",
                                  "rate_limited", "unavailable", "other"};
#define N_ERRS (sizeof err_codes / sizeof *err_codes)
static uint64_t err_count[N_ERRS];
static struct {
    int code;
    uint64_t n;
} close_codes[MAX_CLOSE_CODES];
static int n_close_codes;
static struct {
    char why[120];
    uint64_t n;
} fail_reasons[MAX_FAIL_REASONS];
static int n_fail_reasons;

static proc_sample ps_base[MAX_PIDS + 1], ps_idle[MAX_PIDS + 1], ps_load0[MAX_PIDS + 1],
    ps_load1[MAX_PIDS + 1], ps_end[MAX_PIDS + 1];
static long rss_load_max[MAX_PIDS + 1];
static int idle_connected;
static tl_point *timeline;
static int tl_n, tl_cap;
static json_t *metrics_start, *metrics_load, *metrics_end;

/* client id (from welcome) -> conn index, open addressing */
static char **cid_key;
static uint32_t *cid_val, cid_mask;

static double secs(uint64_t ns)
{
    return (double)ns / 1e9;
}

/* ---------- small helpers ---------- */

static uint32_t hash_str(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static void cid_put(const char *s, size_t n, uint32_t v)
{
    for (uint32_t i = hash_str(s, n) & cid_mask;; i = (i + 1) & cid_mask) {
        if (!cid_key[i]) {
            cid_key[i] = strndup(s, n);
            cid_val[i] = v;
            return;
        }
        if (strlen(cid_key[i]) == n && !memcmp(cid_key[i], s, n)) {
            cid_val[i] = v;
            return;
        }
    }
}

static int cid_get(const char *s, size_t n, uint32_t *v)
{
    for (uint32_t i = hash_str(s, n) & cid_mask; cid_key[i]; i = (i + 1) & cid_mask)
        if (strlen(cid_key[i]) == n && !memcmp(cid_key[i], s, n)) {
            *v = cid_val[i];
            return 0;
        }
    return -1;
}

static void count_close(int code)
{
    for (int i = 0; i < n_close_codes; i++)
        if (close_codes[i].code == code) {
            close_codes[i].n++;
            return;
        }
    if (n_close_codes < MAX_CLOSE_CODES) {
        close_codes[n_close_codes].code = code;
        close_codes[n_close_codes++].n = 1;
    }
}

static void count_fail(const char *why)
{
    for (int i = 0; i < n_fail_reasons; i++)
        if (!strcmp(fail_reasons[i].why, why)) {
            fail_reasons[i].n++;
            return;
        }
    if (n_fail_reasons < MAX_FAIL_REASONS) {
        snprintf(fail_reasons[n_fail_reasons].why, sizeof fail_reasons[0].why, "%s", why);
        fail_reasons[n_fail_reasons++].n = 1;
    }
}

/* /proc/PID/stat utime+stime and /proc/PID/status VmRSS; pid 0 = self. */
static void proc_read(int pid, proc_sample *s)
{
    char path[64], buf[4096];
    s->cpu_s = -1;
    s->rss_kb = -1;
    snprintf(path, sizeof path, pid ? "/proc/%d/stat" : "/proc/self/stat", pid);
    FILE *f = fopen(path, "r");
    if (f) {
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = 0;
        fclose(f);
        char *p = strrchr(buf, ')');
        unsigned long ut, st;
        /* after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime
         * stime */
        if (p &&
            sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
            s->cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
    }
    snprintf(path, sizeof path, pid ? "/proc/%d/status" : "/proc/self/status", pid);
    f = fopen(path, "r");
    if (f) {
        while (fgets(buf, sizeof buf, f))
            if (!strncmp(buf, "VmRSS:", 6)) s->rss_kb = strtol(buf + 6, NULL, 10);
        fclose(f);
    }
}

/* Host-wide CPU from /proc/stat (busy and total jiffies, all cores) and the
 * 1-minute load average: on a shared machine they show how much of the
 * latency is other tenants. */
typedef struct host_sample {
    unsigned long long busy, total;
    double load1;
} host_sample;

static void host_read(host_sample *h)
{
    unsigned long long v[8] = {0};
    memset(h, 0, sizeof *h);
    FILE *f = fopen("/proc/stat", "r");
    if (f) {
        if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]) == 8) {
            for (int i = 0; i < 8; i++)
                h->total += v[i];
            h->busy = h->total - v[3] - v[4];
        }
        fclose(f);
    }
    f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &h->load1) != 1) h->load1 = -1;
        fclose(f);
    }
}

static host_sample host0, host1;

/* slot 0..pid_n-1 = the given pids, slot pid_n = the bench itself */
static void proc_all(proc_sample *s)
{
    for (int i = 0; i < cfg.pid_n; i++)
        proc_read(cfg.pid[i], &s[i]);
    proc_read(0, &s[cfg.pid_n]);
}

/* Blocking HTTP/1.0 GET of http://host:port/path (2 s timeout); returns a
 * malloc'd body or NULL. Used between phases only. */
static char *http_get(const char *url)
{
    char host[256], path[512] = "/";
    int port = 80;
    if (strncmp(url, "http://", 7)) return NULL;
    const char *h = url + 7, *slash = strchr(h, '/');
    size_t hl = slash ? (size_t)(slash - h) : strlen(h);
    if (hl >= sizeof host) return NULL;
    memcpy(host, h, hl);
    host[hl] = 0;
    if (slash) snprintf(path, sizeof path, "%s", slash);
    char *colon = strchr(host, ':');
    if (colon) {
        *colon = 0;
        port = atoi(colon + 1);
    }
    char ports[16];
    snprintf(ports, sizeof ports, "%d", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
    if (getaddrinfo(host, ports, &hints, &ai)) return NULL;
    int fd = socket(ai->ai_family, SOCK_STREAM, 0);
    struct timeval tv = {2, 0};
    if (fd < 0) {
        freeaddrinfo(ai);
        return NULL;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen)) {
        freeaddrinfo(ai);
        close(fd);
        return NULL;
    }
    freeaddrinfo(ai);
    char req[1024];
    int rl = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path, host);
    if (write(fd, req, (size_t)rl) != rl) {
        close(fd);
        return NULL;
    }
    size_t cap = 65536, len = 0;
    char *b = malloc(cap);
    for (;;) {
        if (len + 4096 > cap) {
            if (cap > (8u << 20)) break;
            cap *= 2;
            b = realloc(b, cap);
        }
        ssize_t r = read(fd, b + len, cap - len - 1);
        if (r <= 0) break;
        len += (size_t)r;
    }
    close(fd);
    b[len] = 0;
    char *body = strstr(b, "\r\n\r\n");
    if (!body) {
        free(b);
        return NULL;
    }
    memmove(b, body + 4, strlen(body + 4) + 1);
    return b;
}

/* Every Prometheus sample whose name contains "lag", "persist" or "pending". */
static json_t *fetch_metrics(void)
{
    if (!cfg.worker_metrics) return NULL;
    char *body = http_get(cfg.worker_metrics);
    if (!body) return json_pack("{s:s}", "error", "fetch failed");
    json_t *o = json_object();
    for (char *line = strtok(body, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#') continue;
        char *sp = strrchr(line, ' ');
        if (!sp) continue;
        *sp = 0;
        if (strstr(line, "lag") || strstr(line, "persist") || strstr(line, "pending"))
            json_object_set_new(o, line, json_real(strtod(sp + 1, NULL)));
    }
    free(body);
    return o;
}

/* For each Prometheus histogram in both samples (a base with _count, _sum
 * and _bucket{le=...}): what was observed between them, as count, mean
 * and the bucket bounds holding the median and the 99th percentile. */
static json_t *hist_delta(json_t *a, json_t *b)
{
    json_t *out = json_object();
    const char *key;
    json_t *v;
    if (!a || !b) return out;
    json_object_foreach(b, key, v)
    {
        size_t kl = strlen(key);
        if (kl < 7 || strcmp(key + kl - 6, "_count")) continue;
        char base[256], k2[300];
        snprintf(base, sizeof base, "%.*s", (int)(kl - 6), key);
        double n = json_number_value(v) - json_number_value(json_object_get(a, key));
        snprintf(k2, sizeof k2, "%s_sum", base);
        double sum =
            json_number_value(json_object_get(b, k2)) - json_number_value(json_object_get(a, k2));
        if (n <= 0) continue;
        double le[64], cum[64];
        int nb = 0;
        snprintf(k2, sizeof k2, "%s_bucket{", base);
        const char *bk;
        json_t *bv;
        json_object_foreach(b, bk, bv)
        {
            const char *l = strstr(bk, "le=\"");
            if (strncmp(bk, k2, strlen(k2)) || !l || nb >= 64) continue;
            l += 4;
            double bound = strncmp(l, "+Inf", 4) ? strtod(l, NULL) : 1e300;
            double c = json_number_value(bv) - json_number_value(json_object_get(a, bk));
            int i = nb++;
            while (i > 0 && le[i - 1] > bound) { /* insertion sort by bound */
                le[i] = le[i - 1];
                cum[i] = cum[i - 1];
                i--;
            }
            le[i] = bound;
            cum[i] = c;
        }
        double q50 = -1, q99 = -1;
        for (int i = 0; i < nb; i++) { /* Prometheus buckets are cumulative */
            if (q50 < 0 && cum[i] >= 0.5 * n) q50 = le[i];
            if (q99 < 0 && cum[i] >= 0.99 * n) q99 = le[i];
        }
        json_object_set_new(out, base,
                            json_pack("{s:f,s:f,s:f,s:f}", "count", n, "mean_s", sum / n,
                                      "p50_le_s", q50 >= 1e300 ? -1 : q50, "p99_le_s",
                                      q99 >= 1e300 ? -1 : q99));
    }
    return out;
}

/* ---------- URL ---------- */

static int parse_url(const char *url)
{
    const char *p;
    if (!strncmp(url, "ws://", 5)) {
        u_tls = 0;
        p = url + 5;
        u_port = 80;
    } else if (!strncmp(url, "wss://", 6)) {
        u_tls = 1;
        p = url + 6;
        u_port = 443;
    } else {
        wb_error("bench: url %s: must start with ws:// or wss://", url);
        return -1;
    }
    const char *slash = strchr(p, '/');
    size_t hl = slash ? (size_t)(slash - p) : strlen(p);
    if (!hl || hl >= sizeof u_host) {
        wb_error("bench: url %s: bad host", url);
        return -1;
    }
    memcpy(u_host, p, hl);
    u_host[hl] = 0;
    snprintf(u_hostport, sizeof u_hostport, "%s", u_host);
    char *colon = strrchr(u_host, ':');
    if (colon) {
        *colon = 0;
        u_port = atoi(colon + 1);
        if (u_port <= 0 || u_port > 65535) {
            wb_error("bench: url %s: bad port", url);
            return -1;
        }
    }
    /* path template: "{board}" is replaced; without it "/ws/{board}" is appended */
    const char *path = slash ? slash : "";
    if (strstr(path, "{board}"))
        snprintf(u_path, sizeof u_path, "%s", path);
    else {
        size_t pl = strlen(path);
        while (pl && path[pl - 1] == '/')
            pl--;
        snprintf(u_path, sizeof u_path, "%.*s/ws/{board}", (int)pl, path);
    }
    return 0;
}

static void make_path(conn *c)
{
    char bname[96];
    snprintf(bname, sizeof bname, "%s-%s-%u", cfg.prefix, run_id, c->board);
    const char *b = strstr(u_path, "{board}");
    const char *q = strchr(u_path, '?');
    snprintf(c->path, sizeof c->path, "%.*s%s%s%s%cname=b%u", (int)(b - u_path), u_path, bname,
             b + 7, "", q ? '&' : '?', c->idx);
}

/* ---------- protocol ---------- */

static int type_index(bp_str t)
{
    for (size_t i = 0; i + 1 < N_TYPES; i++)
        if (bp_eq(t, msg_types[i])) return (int)i;
    return (int)N_TYPES - 1;
}

static void on_welcome(conn *c, const bp_msg *m, uint64_t now)
{
    if (c->state == C_WELCOMED) return;
    c->state = C_WELCOMED;
    welcomed++;
    boards[c->board].alive++;
    bh_add(&h_welcome, now - c->t_start);
    if (m->client.n) cid_put(m->client.s, m->client.n, c->idx);
}

static void on_ev(conn *c, const bp_msg *m, uint64_t now)
{
    uint32_t s;
    uint64_t k, ts;
    if (!m->op.n || bp_parse_op(m->op, run_id, &s, &k) < 0 || s >= (uint32_t)cfg.conns ||
        !conns[s].drawer) {
        foreign_ev++;
        return;
    }
    if (bt_recv(&conns[s].strokes, &st_ev, k, c->member, &ts) != BT_NEW) return;
    uint64_t lat = now > ts ? now - ts : 0;
    if (s == c->idx) {
        bh_add(&h_self, lat);
    } else {
        bh_add(&h_e2e, lat);
        bh_add(&h_sec, lat);
    }
    sec_deliv++;
    if (phase == P_LOAD) load_deliveries++;
}

static void on_ack(conn *c, const bp_msg *m, uint64_t now)
{
    uint32_t s;
    uint64_t k, ts;
    if (!m->op.n || bp_parse_op(m->op, run_id, &s, &k) < 0 || s != c->idx || !c->drawer) {
        foreign_ack++;
        return;
    }
    if (bt_ack(&c->strokes, &st_ev, k, now, &ts) == BT_NEW) {
        bh_add(&h_ack, now > ts ? now - ts : 0);
        sec_acks++;
        c->own_acked++;
        if (cfg.inflight && c->wsi && !c->want_write) {
            c->want_write = 1;
            lws_callback_on_writable(c->wsi);
        }
    }
}

static void on_cursor(conn *c, const bp_msg *m, uint64_t now)
{
    uint32_t s;
    uint64_t ts;
    int mapped = m->from.n && !cid_get(m->from.s, m->from.n, &s);
    if (!mapped && m->name.n > 1 && m->name.s[0] == 'b') { /* fall back on ?name=b<conn> */
        char tmp[16];
        size_t n = m->name.n - 1 < sizeof tmp - 1 ? m->name.n - 1 : sizeof tmp - 1;
        memcpy(tmp, m->name.s + 1, n);
        tmp[n] = 0;
        char *e;
        unsigned long v = strtoul(tmp, &e, 10);
        if (!*e && n) {
            s = (uint32_t)v;
            mapped = 1;
        }
    }
    if (!mapped || s >= (uint32_t)cfg.conns || !conns[s].drawer || !m->has_x || m->x < 0) {
        cursor_unmapped++;
        return;
    }
    if (bt_recv(&conns[s].cursors, &st_cur, (uint64_t)m->x, c->member, &ts) != BT_NEW) return;
    bh_add(&h_cursor, now > ts ? now - ts : 0);
    sec_cur++;
    if (phase == P_LOAD) load_cur_deliveries++;
}

static int on_msg(void *ud, const bp_msg *m)
{
    conn *c = ud;
    uint64_t now = (uint64_t)wb_mono_ns();
    int ti = type_index(m->t);
    type_count[ti]++;
    msgs_rx++;
    switch (ti) {
    case 0:
        on_welcome(c, m, now);
        break;
    case 2:
        on_ev(c, m, now);
        break;
    case 3:
        on_ack(c, m, now);
        break;
    case 5:
        on_cursor(c, m, now);
        break;
    case 8: {
        size_t e = 0;
        while (e + 1 < N_ERRS && !bp_eq(m->code, err_codes[e]))
            e++;
        err_count[e]++;
        break;
    }
    default:
        break;
    }
    return 0;
}

static void on_frame(conn *c, const char *buf, size_t len)
{
    frames_rx++;
    bytes_rx += len;
    if (bp_parse_frame(buf, len, on_msg, c) < 0) bad_frames++;
}

static void on_receive(conn *c, struct lws *wsi, const char *in, size_t len)
{
    int final = lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);
    if (!c->rx_len && final) {
        on_frame(c, in, len);
        return;
    }
    if (c->rx_len + len > c->rx_cap) {
        size_t cap = c->rx_cap ? c->rx_cap : 8192;
        while (cap < c->rx_len + len)
            cap *= 2;
        char *n = realloc(c->rx, cap);
        if (!n) {
            wb_error("bench: out of memory assembling a %zu-byte frame", c->rx_len + len);
            c->rx_len = 0;
            return;
        }
        c->rx = n;
        c->rx_cap = cap;
    }
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    if (final) {
        on_frame(c, c->rx, c->rx_len);
        c->rx_len = 0;
        if (c->rx_cap > (256u << 10)) { /* do not keep big snapshot buffers */
            free(c->rx);
            c->rx = NULL;
            c->rx_cap = 0;
        }
    }
}

static uint64_t period_ns(double rate)
{
    return rate > 0 ? (uint64_t)(1e9 / rate) : 0;
}

static int due(const conn *c, uint64_t now)
{
    return (cfg.rate > 0 && c->next_stroke <= now) ||
           (cfg.cursor_rate > 0 && c->next_cursor <= now);
}

static int on_writable(conn *c, struct lws *wsi)
{
    static unsigned char buf[LWS_PRE + 8192];
    c->want_write = 0;
    if (phase != P_LOAD || c->state != C_WELCOMED || !c->drawer) return 0;
    uint64_t now = (uint64_t)wb_mono_ns();
    int do_stroke = cfg.rate > 0 && c->next_stroke <= now;
    int do_cursor = cfg.cursor_rate > 0 && c->next_cursor <= now;
    if (cfg.inflight && c->stroke_ctr - c->own_acked >= (uint64_t)cfg.inflight) do_stroke = 0;
    if (do_stroke && do_cursor) {
        if (c->next_cursor < c->next_stroke)
            do_stroke = 0;
        else
            do_cursor = 0;
    }
    if (!do_stroke && !do_cursor) return 0;
    char *p = (char *)buf + LWS_PRE, *end = (char *)buf + sizeof buf;
    uint32_t alive = boards[c->board].alive;
    if (do_stroke) {
        uint64_t k = c->stroke_ctr++;
        bh_add(&h_lag, now - c->next_stroke);
        char op[80];
        bp_format_op(op, sizeof op, run_id, c->idx, k);
        p += snprintf(
            p, (size_t)(end - p),
            "{\"t\":\"stroke\",\"op\":\"%s\",\"stroke\":{\"id\":\"%s\",\"color\":\"#1e1e1e\","
            "\"width\":3,\"points\":[",
            op, op);
        for (int i = 0; i < cfg.points && end - p > 64; i++)
            p += snprintf(p, (size_t)(end - p), "%s%u,%u", i ? "," : "", (unsigned)(10 + i * 7),
                          (unsigned)(10 + (k % 500) + i * 3));
        p += snprintf(p, (size_t)(end - p), "]}}");
        bt_send(&c->strokes, &st_ev, k, now, alive);
        uint64_t per = period_ns(cfg.rate);
        c->next_stroke += per;
        if (now > c->next_stroke + NS) {
            send_skipped += (now - c->next_stroke) / per;
            c->next_stroke = now + per;
        }
    } else {
        uint64_t k = c->cursor_ctr++;
        bh_add(&h_lag, now - c->next_cursor);
        p += snprintf(p, (size_t)(end - p), "{\"t\":\"cursor\",\"x\":%llu,\"y\":%u}",
                      (unsigned long long)k, c->idx % 1000);
        bt_send(&c->cursors, &st_cur, k, now, alive ? alive - 1 : 0);
        uint64_t per = period_ns(cfg.cursor_rate);
        c->next_cursor += per;
        if (now > c->next_cursor + NS) {
            send_skipped += (now - c->next_cursor) / per;
            c->next_cursor = now + per;
        }
    }
    size_t len = (size_t)(p - ((char *)buf + LWS_PRE));
    if (lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_TEXT) < (int)len) {
        write_errors++;
        return -1;
    }
    sec_sent++;
    if (due(c, now) && !(cfg.inflight && !do_cursor &&
                         c->stroke_ctr - c->own_acked >= (uint64_t)cfg.inflight)) {
        c->want_write = 1;
        lws_callback_on_writable(wsi);
    }
    return 0;
}

static void conn_gone(conn *c, int was_welcomed)
{
    if (was_welcomed && boards[c->board].alive) boards[c->board].alive--;
    c->wsi = NULL;
    free(c->rx);
    c->rx = NULL;
    c->rx_cap = c->rx_len = 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    conn *c = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (c && (c->state == C_CONNECTING || c->state == C_ESTAB)) {
            c->state = C_FAILED;
            failed++;
            count_fail(in ? (const char *)in : "connection error");
            conn_gone(c, 0);
        }
        break;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (c && c->state == C_CONNECTING) {
            c->state = C_ESTAB;
            established++;
            bh_add(&h_connect, (uint64_t)wb_mono_ns() - c->t_start);
        }
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (c) on_receive(c, wsi, in, len);
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (c) return on_writable(c, wsi);
        break;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (phase != P_DONE) {
            const unsigned char *b = in;
            count_close(len >= 2 ? (b[0] << 8) | b[1] : 1005);
        }
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (c && c->state != C_CLOSED && c->state != C_FAILED) {
            int w = c->state == C_WELCOMED;
            c->state = C_CLOSED;
            closed_n++;
            if (phase != P_DONE) closed_early++;
            conn_gone(c, w);
        }
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {.name = "wb-bench", .callback = callback, .rx_buffer_size = 65536},
    {.name = NULL, .callback = NULL},
};

static void start_conn(conn *c)
{
    struct lws_client_connect_info i;
    memset(&i, 0, sizeof i);
    make_path(c);
    i.context = ctx;
    i.address = u_host;
    i.port = u_port;
    i.path = c->path;
    i.host = u_hostport;
    i.origin = u_hostport;
    i.protocol = cfg.subprotocol && *cfg.subprotocol ? cfg.subprotocol : NULL;
    i.local_protocol_name = "wb-bench";
    i.ietf_version_or_minus_one = -1;
    if (u_tls) {
        i.ssl_connection = LCCSCF_USE_SSL | LCCSCF_ALLOW_SELFSIGNED |
                           LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK | LCCSCF_ALLOW_EXPIRED |
                           LCCSCF_ALLOW_INSECURE;
        i.alpn = "http/1.1";
    }
    i.opaque_user_data = c;
    i.pwsi = &c->wsi;
    c->state = C_CONNECTING;
    c->t_start = (uint64_t)wb_mono_ns();
    started++;
    if (!lws_client_connect_via_info(&i) && c->state == C_CONNECTING) {
        c->state = C_FAILED;
        failed++;
        count_fail("lws_client_connect_via_info failed");
    }
}

/* ---------- phases and timers ---------- */

static void report(void);

static lws_sorted_usec_list_t sul_tick, sul_phase;

static void tick_cb(lws_sorted_usec_list_t *sul)
{
    if (phase != P_LOAD) return;
    uint64_t now = (uint64_t)wb_mono_ns();
    for (int d = 0; d < n_drawers; d++) {
        conn *c = &conns[drawer_idx[d]];
        if (c->state == C_WELCOMED && !c->want_write && c->wsi && due(c, now)) {
            c->want_write = 1;
            lws_callback_on_writable(c->wsi);
        }
    }
    lws_sul_schedule(ctx, 0, &sul_tick, tick_cb, 1000);
}

static void timeline_point(uint64_t now)
{
    if (tl_n >= tl_cap) return;
    tl_point *p = &timeline[tl_n++];
    p->t = secs(now - t_load_start);
    p->sent = sec_sent;
    p->deliveries = sec_deliv;
    p->cursor_deliveries = sec_cur;
    p->acks = sec_acks;
    p->p50 = bh_quantile(&h_sec, 0.5);
    p->p99 = bh_quantile(&h_sec, 0.99);
    p->max = h_sec.max_ns;
    proc_sample s[MAX_PIDS + 1];
    proc_all(s);
    for (int i = 0; i <= cfg.pid_n; i++) {
        p->rss_kb[i] = s[i].rss_kb;
        p->cpu_s[i] = s[i].cpu_s;
        if (s[i].rss_kb > rss_load_max[i]) rss_load_max[i] = s[i].rss_kb;
    }
    if (!cfg.quiet)
        fprintf(stderr,
                "[%5.1fs %s] sent %llu/s deliveries %llu/s cursors %llu/s p50 %.2fms p99 %.2fms "
                "conns %d closed %d\n",
                p->t, phase_name[phase], (unsigned long long)p->sent,
                (unsigned long long)p->deliveries, (unsigned long long)p->cursor_deliveries,
                p->p50 / 1e6, p->p99 / 1e6, welcomed - closed_n, closed_n);
    sec_sent = sec_deliv = sec_cur = sec_acks = 0;
    bh_reset(&h_sec);
}

static int all_arrived(void)
{
    /* received + nothing left: cheap check over totals (missing is only known at finish) */
    return st_ev.received + st_ev.dup >= st_ev.expected && st_ev.acked >= st_ev.sent &&
           st_cur.received >= st_cur.expected;
}

static void finish(void)
{
    for (int d = 0; d < n_drawers; d++) {
        bt_finish(&conns[drawer_idx[d]].strokes, &st_ev);
        bt_finish(&conns[drawer_idx[d]].cursors, &st_cur);
    }
    report();
    fflush(stdout);
}

static void set_phase(int p, uint64_t now)
{
    phase = p;
    t_phase = now;
    if (!cfg.quiet) fprintf(stderr, "[bench] phase %s at %.2fs\n", phase_name[p], secs(now - t0));
    if (p == P_DONE) {
        finish();
        /* With libuv, lws_service() runs the loop until the context is
         * destroyed (first stage here, second in main); poll: wake it. */
        if (!strcmp(cfg.evlib, "uv"))
            lws_context_destroy(ctx);
        else
            lws_cancel_service(ctx);
    }
}

static void phase_cb(lws_sorted_usec_list_t *sul)
{
    uint64_t now = (uint64_t)wb_mono_ns();
    if (interrupted && phase < P_DRAIN) {
        if (phase == P_LOAD) t_load_end = now;
        set_phase(P_DRAIN, now);
    }
    switch (phase) {
    case P_CONNECT: {
        double el = secs(now - t_phase);
        int allowed = (int)(el * cfg.connect_rate) + 1;
        while (started < cfg.conns && started < allowed &&
               started - (established + failed) < cfg.connect_inflight)
            start_conn(&conns[started]);
        int settled = 0;
        for (int i = 0; i < started; i++)
            if (conns[i].state == C_WELCOMED || conns[i].state >= C_CLOSED) settled++;
        if ((started == cfg.conns && settled == cfg.conns) || el > cfg.connect_timeout) {
            if (!cfg.quiet)
                fprintf(stderr, "[bench] connected %d welcomed %d failed %d in %.2fs\n",
                        established, welcomed, failed, el);
            set_phase(P_IDLE, now);
            if (cfg.duration <= 0) host_read(&host0);
        }
        break;
    }
    case P_IDLE:
        if (secs(now - t_phase) >= cfg.idle) {
            proc_all(ps_idle);
            if (cfg.duration <= 0) host_read(&host1); /* idle run: host load while idle */
            idle_connected = welcomed - closed_n;
            for (int d = 0; d < n_drawers; d++) { /* random phase so sends are spread */
                conn *c = &conns[drawer_idx[d]];
                uint64_t ps = period_ns(cfg.rate), pc = period_ns(cfg.cursor_rate);
                c->next_stroke = now + (ps ? (uint64_t)rand() % ps : 0);
                c->next_cursor = now + (pc ? (uint64_t)rand() % pc : 0);
            }
            t_load_start = t_last_tick = now;
            proc_all(ps_load0);
            if (cfg.duration > 0) host_read(&host0);
            metrics_start = fetch_metrics();
            for (int i = 0; i <= cfg.pid_n; i++)
                rss_load_max[i] = ps_load0[i].rss_kb;
            sec_sent = sec_deliv = sec_cur = sec_acks = 0;
            bh_reset(&h_sec);
            set_phase(cfg.duration > 0 ? P_LOAD : P_DRAIN, now);
            if (phase == P_LOAD)
                lws_sul_schedule(ctx, 0, &sul_tick, tick_cb, 1000);
            else
                t_load_end = now;
        }
        break;
    case P_LOAD:
        if (now - t_last_tick >= NS) {
            t_last_tick += NS;
            timeline_point(now);
        }
        if (secs(now - t_load_start) >= cfg.duration) {
            t_load_end = now;
            proc_all(ps_load1);
            host_read(&host1);
            metrics_load = fetch_metrics();
            set_phase(P_DRAIN, now);
        }
        break;
    case P_DRAIN:
        if (now - t_last_tick >= NS) {
            t_last_tick += NS;
            timeline_point(now);
        }
        if (secs(now - t_phase) >= cfg.drain || (all_arrived() && secs(now - t_phase) >= 0.5) ||
            interrupted > 1) {
            t_drain_end = now;
            if (!ps_load1[cfg.pid_n].rss_kb) proc_all(ps_load1);
            proc_all(ps_end);
            metrics_end = fetch_metrics();
            set_phase(P_DONE, now);
            return;
        }
        break;
    default:
        return;
    }
    lws_sul_schedule(ctx, 0, &sul_phase, phase_cb, phase == P_CONNECT ? 5000 : 20000);
}

static void on_signal(int sig)
{
    if (++interrupted >= 3) _exit(130);
}

static void lws_signal(void *loop, int sig)
{
    if (++interrupted >= 3) _exit(130);
}

/* ---------- report ---------- */

static json_t *hist_json(const bench_hist *h)
{
    json_t *b = json_array();
    for (size_t i = 0; i < BH_BUCKETS; i++)
        if (h->b[i])
            json_array_append_new(
                b, json_pack("[I,I]", (json_int_t)bh_bucket_hi(i), (json_int_t)h->b[i]));
    return json_pack("{s:I,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:I,s:o}", "count", (json_int_t)h->count,
                     "min_ms", h->min_ns / 1e6, "mean_ms", bh_mean(h) / 1e6, "p50_ms",
                     bh_quantile(h, 0.5) / 1e6, "p90_ms", bh_quantile(h, 0.9) / 1e6, "p99_ms",
                     bh_quantile(h, 0.99) / 1e6, "p999_ms", bh_quantile(h, 0.999) / 1e6, "max_ms",
                     h->max_ns / 1e6, "clamped", (json_int_t)h->clamped, "buckets_ns", b);
}

static json_t *stats_json(const bt_stats *s)
{
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "sent", (json_int_t)s->sent,
                     "expected_deliveries", (json_int_t)s->expected, "received",
                     (json_int_t)s->received, "duplicates", (json_int_t)s->dup, "missing",
                     (json_int_t)s->missing, "unknown", (json_int_t)s->unknown, "acked",
                     (json_int_t)s->acked, "ack_duplicates", (json_int_t)s->ack_dup, "ack_unknown",
                     (json_int_t)s->ack_unknown, "unacked", (json_int_t)s->unacked);
}

static const char *pid_label(int i)
{
    return i < cfg.pid_n ? cfg.pid_name[i] : "bench";
}

static void report(void)
{
    double load_s = t_load_end > t_load_start ? secs(t_load_end - t_load_start) : 0;
    double dps = load_s > 0 ? (double)load_deliveries / load_s : 0;
    double cps = load_s > 0 ? (double)load_cur_deliveries / load_s : 0;
    int connected = welcomed;

    json_t *procs = json_object();
    for (int i = 0; i <= cfg.pid_n; i++) {
        double rss_idle_per =
            idle_connected > 0 && ps_idle[i].rss_kb > 0 && ps_base[i].rss_kb > 0
                ? (double)(ps_idle[i].rss_kb - ps_base[i].rss_kb) * 1024.0 / idle_connected
                : 0;
        double rss_load_per =
            idle_connected > 0 && rss_load_max[i] > 0 && ps_base[i].rss_kb > 0
                ? (double)(rss_load_max[i] - ps_base[i].rss_kb) * 1024.0 / idle_connected
                : 0;
        double cpu_load = ps_load1[i].cpu_s >= 0 && ps_load0[i].cpu_s >= 0
                              ? ps_load1[i].cpu_s - ps_load0[i].cpu_s
                              : -1;
        double cpu_conn = ps_idle[i].cpu_s >= 0 && ps_base[i].cpu_s >= 0
                              ? ps_idle[i].cpu_s - ps_base[i].cpu_s
                              : -1;
        double cpu_total =
            ps_end[i].cpu_s >= 0 && ps_base[i].cpu_s >= 0 ? ps_end[i].cpu_s - ps_base[i].cpu_s : -1;
        json_object_set_new(
            procs, pid_label(i),
            json_pack("{s:i,s:I,s:I,s:I,s:I,s:f,s:f,s:f,s:f,s:f,s:f}", "pid",
                      i < cfg.pid_n ? cfg.pid[i] : (int)getpid(), "rss_base_kb",
                      (json_int_t)ps_base[i].rss_kb, "rss_idle_kb", (json_int_t)ps_idle[i].rss_kb,
                      "rss_load_max_kb", (json_int_t)rss_load_max[i], "rss_end_kb",
                      (json_int_t)ps_end[i].rss_kb, "rss_per_idle_conn_bytes", rss_idle_per,
                      "rss_per_conn_under_load_bytes", rss_load_per, "cpu_s_connect", cpu_conn,
                      "cpu_s_load", cpu_load, "cpu_util_load",
                      load_s > 0 && cpu_load >= 0 ? cpu_load / load_s : 0, "cpu_s_total",
                      cpu_total));
        printf("proc %-8s rss base %ld kB idle %ld kB (%.0f B/conn) load max %ld kB (%.0f B/conn); "
               "cpu connect %.2fs load %.2fs (%.0f%% of a core)\n",
               pid_label(i), ps_base[i].rss_kb, ps_idle[i].rss_kb, rss_idle_per, rss_load_max[i],
               rss_load_per, cpu_conn, cpu_load, load_s > 0 ? 100 * cpu_load / load_s : 0);
    }

    double host_busy = host1.total > host0.total
                           ? (double)(host1.busy - host0.busy) / (double)(host1.total - host0.total)
                           : -1;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    printf("host during %s: %ld cores, %.0f%% busy (all processes), load average %.2f -> %.2f\n",
           cfg.duration > 0 ? "load" : "idle", ncpu, 100 * host_busy, host0.load1, host1.load1);
    json_t *host = json_pack("{s:i,s:f,s:f,s:f}", "cores", (int)ncpu, "busy_fraction_load",
                             host_busy, "loadavg1_start", host0.load1, "loadavg1_end", host1.load1);
    json_t *types = json_object();
    for (size_t i = 0; i < N_TYPES; i++)
        json_object_set_new(types, msg_types[i], json_integer((json_int_t)type_count[i]));
    json_t *errs = json_object();
    for (size_t i = 0; i < N_ERRS; i++)
        json_object_set_new(errs, err_codes[i], json_integer((json_int_t)err_count[i]));
    json_t *closes = json_object();
    for (int i = 0; i < n_close_codes; i++) {
        char k[16];
        snprintf(k, sizeof k, "%d", close_codes[i].code);
        json_object_set_new(closes, k, json_integer((json_int_t)close_codes[i].n));
    }
    json_t *fails = json_object();
    for (int i = 0; i < n_fail_reasons; i++)
        json_object_set_new(fails, fail_reasons[i].why,
                            json_integer((json_int_t)fail_reasons[i].n));
    json_t *tl = json_array();
    for (int i = 0; i < tl_n; i++) {
        tl_point *p = &timeline[i];
        json_t *r = json_object(), *cpu = json_object();
        for (int k = 0; k <= cfg.pid_n; k++) {
            json_object_set_new(r, pid_label(k), json_integer(p->rss_kb[k]));
            json_object_set_new(cpu, pid_label(k), json_real(p->cpu_s[k]));
        }
        json_array_append_new(
            tl, json_pack("{s:f,s:I,s:I,s:I,s:I,s:f,s:f,s:f,s:o,s:o}", "t", p->t, "sent",
                          (json_int_t)p->sent, "deliveries", (json_int_t)p->deliveries,
                          "cursor_deliveries", (json_int_t)p->cursor_deliveries, "acks",
                          (json_int_t)p->acks, "p50_ms", p->p50 / 1e6, "p99_ms", p->p99 / 1e6,
                          "max_ms", p->max / 1e6, "rss_kb", r, "cpu_s", cpu));
    }
    json_t *root = json_pack(
        "{s:s,s:s,s:s,s:s,s:{s:i,s:i,s:i,s:f,s:f,s:f,s:f,s:f,s:i},"
        "s:{s:i,s:i,s:i,s:i,s:i,s:i,s:o,s:o,s:o},"
        "s:{s:f,s:f,s:f,s:f,s:I,s:I},"
        "s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,"
        "s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I},s:o,s:o,s:o,s:o,s:o}",
        "tool", "wb-bench", "evlib", cfg.evlib, "label", cfg.label ? cfg.label : "", "url", cfg.url,
        "config", "conns", cfg.conns, "boards", cfg.boards, "drawers", n_drawers, "rate", cfg.rate,
        "cursor_rate", cfg.cursor_rate, "duration_s", cfg.duration, "idle_s", cfg.idle, "drain_s",
        cfg.drain, "points", cfg.points, "connections", "started", started, "established",
        established, "welcomed", connected, "failed", failed, "closed_early", closed_early,
        "idle_connected", idle_connected, "close_codes", closes, "failures", fails, "connect_ms",
        hist_json(&h_connect), "throughput", "load_s", load_s, "deliveries_per_s", dps,
        "cursor_deliveries_per_s", cps, "offered_ops_per_s",
        load_s > 0 ? (double)st_ev.sent / load_s : 0, "send_skipped", (json_int_t)send_skipped,
        "write_errors", (json_int_t)write_errors, "latency_e2e", hist_json(&h_e2e), "latency_self",
        hist_json(&h_self), "latency_ack", hist_json(&h_ack), "latency_cursor",
        hist_json(&h_cursor), "send_lag", hist_json(&h_lag), "welcome_ms", hist_json(&h_welcome),
        "strokes", stats_json(&st_ev), "cursors", stats_json(&st_cur), "message_types", types,
        "errors", errs, "processes", procs, "timeline", tl, "rx", "frames", (json_int_t)frames_rx,
        "bytes", (json_int_t)bytes_rx, "messages", (json_int_t)msgs_rx, "bad_frames",
        (json_int_t)bad_frames, "foreign_ev", (json_int_t)foreign_ev, "foreign_ack",
        (json_int_t)foreign_ack, "cursor_unmapped", (json_int_t)cursor_unmapped, "ev_unknown",
        (json_int_t)st_ev.unknown, "cursor_unknown", (json_int_t)st_cur.unknown,
        "worker_metrics_load", metrics_load ? metrics_load : json_null(), "worker_metrics_end",
        metrics_end ? json_incref(metrics_end) : json_null(), "run", json_string(run_id),
        "worker_histograms", hist_delta(metrics_start, metrics_end), "host", host);
    if (!root) {
        wb_error("bench: building the JSON report failed");
        return;
    }

    printf("connections: %d started, %d established, %d welcomed, %d failed, %d closed early\n",
           started, established, connected, failed, closed_early);
    printf("connect: p50 %.2f ms p99 %.2f ms max %.2f ms (to welcome p50 %.2f ms p99 %.2f ms)\n",
           bh_quantile(&h_connect, .5) / 1e6, bh_quantile(&h_connect, .99) / 1e6,
           h_connect.max_ns / 1e6, bh_quantile(&h_welcome, .5) / 1e6,
           bh_quantile(&h_welcome, .99) / 1e6);
    printf("load: %.1fs, %llu strokes (%.1f/s), %llu cursors; deliveries %.0f/s, cursor deliveries "
           "%.0f/s, skipped sends %llu\n",
           load_s, (unsigned long long)st_ev.sent, load_s > 0 ? st_ev.sent / load_s : 0,
           (unsigned long long)st_cur.sent, dps, cps, (unsigned long long)send_skipped);
    const struct {
        const char *n;
        bench_hist *h;
    } hs[] = {{"e2e", &h_e2e},
              {"self", &h_self},
              {"ack", &h_ack},
              {"cursor", &h_cursor},
              {"sendlag", &h_lag}};
    for (size_t i = 0; i < sizeof hs / sizeof *hs; i++)
        printf("latency %-7s n=%llu p50 %.2f ms p99 %.2f ms p99.9 %.2f ms max %.2f ms\n", hs[i].n,
               (unsigned long long)hs[i].h->count, bh_quantile(hs[i].h, .5) / 1e6,
               bh_quantile(hs[i].h, .99) / 1e6, bh_quantile(hs[i].h, .999) / 1e6,
               hs[i].h->max_ns / 1e6);
    printf("strokes: sent %llu acked %llu unacked %llu; deliveries expected %llu received %llu "
           "duplicates %llu missing %llu unknown %llu\n",
           (unsigned long long)st_ev.sent, (unsigned long long)st_ev.acked,
           (unsigned long long)st_ev.unacked, (unsigned long long)st_ev.expected,
           (unsigned long long)st_ev.received, (unsigned long long)st_ev.dup,
           (unsigned long long)st_ev.missing, (unsigned long long)st_ev.unknown);
    printf("cursors: sent %llu expected %llu received %llu duplicates %llu missing %llu\n",
           (unsigned long long)st_cur.sent, (unsigned long long)st_cur.expected,
           (unsigned long long)st_cur.received, (unsigned long long)st_cur.dup,
           (unsigned long long)st_cur.missing);
    if (metrics_start && metrics_end) {
        json_t *hd = hist_delta(metrics_start, metrics_end);
        const char *k;
        json_t *v;
        json_object_foreach(hd, k, v)
            printf("worker %s: n=%.0f mean %.2f ms p50 <= %.1f ms p99 <= %.1f ms\n", k,
                   json_number_value(json_object_get(v, "count")),
                   1e3 * json_number_value(json_object_get(v, "mean_s")),
                   1e3 * json_number_value(json_object_get(v, "p50_le_s")),
                   1e3 * json_number_value(json_object_get(v, "p99_le_s")));
        json_decref(hd);
    }
    printf("errors:");
    for (size_t i = 0; i < N_ERRS; i++)
        printf(" %s=%llu", err_codes[i], (unsigned long long)err_count[i]);
    printf("; close codes:");
    for (int i = 0; i < n_close_codes; i++)
        printf(" %d=%llu", close_codes[i].code, (unsigned long long)close_codes[i].n);
    printf("; bad frames %llu\n", (unsigned long long)bad_frames);
    for (int i = 0; i < n_fail_reasons; i++)
        printf("connect failure x%llu: %s\n", (unsigned long long)fail_reasons[i].n,
               fail_reasons[i].why);
    if (cfg.json) {
        if (json_dump_file(root, cfg.json, JSON_INDENT(1) | JSON_PRESERVE_ORDER) < 0)
            wb_error("bench: cannot write %s", cfg.json);
        else if (!cfg.quiet)
            fprintf(stderr, "[bench] wrote %s\n", cfg.json);
    }
    json_decref(root);
    json_decref(metrics_start);
    json_decref(metrics_end);
    metrics_start = metrics_end = NULL;
}

/* ---------- main ---------- */

static void usage(const char *prog)
{
    printf(
        "usage: %s [options]\n"
        "  --url URL              ws://host:port or wss://host:port (self-signed allowed); the\n"
        "                         path is <url path>/ws/{board} unless the URL contains {board}\n"
        "                         (default %s)\n"
        "  --conns N              connections (default %d)\n"
        "  --boards B             boards; connection i joins board i%%B (default %d)\n"
        "  --drawers D            connections that draw, spread over the boards (default: B)\n"
        "  --rate R               stroke ops per second per drawer (default %.0f; 0 = none)\n"
        "  --cursor-rate C        cursor messages per second per drawer (default 0)\n"
        "  --inflight N           each drawer keeps at most N strokes unacked (--rate caps)\n"
        "  --points P             points per stroke (default %d)\n"
        "  --duration S           load phase seconds (default %.0f)\n"
        "  --idle S               idle seconds after connecting, before load (default %.0f)\n"
        "  --drain S              max seconds to wait for in-flight messages (default %.0f)\n"
        "  --connect-rate N       new connections per second (default %d)\n"
        "  --connect-inflight N   max handshakes in flight (default %d)\n"
        "  --connect-timeout S    give up connecting after S seconds (default %.0f)\n"
        "  --pid NAME=PID         sample CPU and RSS of a server process (repeatable, max %d)\n"
        "  --worker-metrics URL   http://.../metrics of the worker (lag metrics recorded)\n"
        "  --prefix P             board id prefix (default %s); boards are P-<run>-<b>\n"
        "  --subprotocol S        Sec-WebSocket-Protocol to offer (default wb.v1; \"\" = none)\n"
        "  --json FILE            write the full report as JSON\n"
        "  --label TEXT           label stored in the JSON\n"
        "  --lws-log N            libwebsockets log bitmask (default %d = errors)\n"
        "  --evlib uv|poll        event loop (default uv, falls back to poll)\n"
        "  --quiet                no progress lines on stderr\n",
        prog, cfg.url, cfg.conns, cfg.boards, cfg.rate, cfg.points, cfg.duration, cfg.idle,
        cfg.drain, cfg.connect_rate, cfg.connect_inflight, cfg.connect_timeout, MAX_PIDS,
        cfg.prefix, LLL_ERR);
}

static int parse_args(int argc, char **argv)
{
    static const struct option opts[] = {{"url", 1, 0, 'u'},
                                         {"conns", 1, 0, 'n'},
                                         {"boards", 1, 0, 'b'},
                                         {"drawers", 1, 0, 'd'},
                                         {"rate", 1, 0, 'r'},
                                         {"cursor-rate", 1, 0, 'c'},
                                         {"inflight", 1, 0, 'N'},
                                         {"points", 1, 0, 'P'},
                                         {"duration", 1, 0, 't'},
                                         {"idle", 1, 0, 'i'},
                                         {"drain", 1, 0, 'D'},
                                         {"connect-rate", 1, 0, 'R'},
                                         {"connect-inflight", 1, 0, 'F'},
                                         {"connect-timeout", 1, 0, 'T'},
                                         {"pid", 1, 0, 'p'},
                                         {"worker-metrics", 1, 0, 'w'},
                                         {"prefix", 1, 0, 'x'},
                                         {"subprotocol", 1, 0, 's'},
                                         {"json", 1, 0, 'j'},
                                         {"label", 1, 0, 'l'},
                                         {"lws-log", 1, 0, 'L'},
                                         {"quiet", 0, 0, 'q'},
                                         {"evlib", 1, 0, 'e'},
                                         {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 'u':
            cfg.url = optarg;
            break;
        case 'n':
            cfg.conns = atoi(optarg);
            break;
        case 'b':
            cfg.boards = atoi(optarg);
            break;
        case 'd':
            cfg.drawers = atoi(optarg);
            break;
        case 'r':
            cfg.rate = atof(optarg);
            break;
        case 'c':
            cfg.cursor_rate = atof(optarg);
            break;
        case 'N':
            cfg.inflight = atoi(optarg);
            break;
        case 'P':
            cfg.points = atoi(optarg);
            break;
        case 't':
            cfg.duration = atof(optarg);
            break;
        case 'i':
            cfg.idle = atof(optarg);
            break;
        case 'D':
            cfg.drain = atof(optarg);
            break;
        case 'R':
            cfg.connect_rate = atoi(optarg);
            break;
        case 'F':
            cfg.connect_inflight = atoi(optarg);
            break;
        case 'T':
            cfg.connect_timeout = atof(optarg);
            break;
        case 'p': {
            char *eq = strchr(optarg, '=');
            if (!eq || cfg.pid_n >= MAX_PIDS || atoi(eq + 1) <= 0) {
                wb_error("bench: --pid wants NAME=PID (max %d)", MAX_PIDS);
                return -1;
            }
            cfg.pid_name[cfg.pid_n] = strndup(optarg, (size_t)(eq - optarg));
            cfg.pid[cfg.pid_n++] = atoi(eq + 1);
            break;
        }
        case 'w':
            cfg.worker_metrics = optarg;
            break;
        case 'x':
            cfg.prefix = optarg;
            break;
        case 's':
            cfg.subprotocol = optarg;
            break;
        case 'j':
            cfg.json = optarg;
            break;
        case 'l':
            cfg.label = optarg;
            break;
        case 'L':
            cfg.lws_log = atoi(optarg);
            break;
        case 'q':
            cfg.quiet = true;
            break;
        case 'e':
            cfg.evlib = optarg;
            break;
        case 'h':
            usage(argv[0]);
            exit(0);
        default:
            return -1;
        }
    }
    if (optind < argc) {
        wb_error("bench: unexpected argument %s (try --help)", argv[optind]);
        return -1;
    }
    if (cfg.drawers < 0) cfg.drawers = cfg.boards;
    if (cfg.conns < 1 || cfg.conns > 200000 || cfg.boards < 1 || cfg.boards > cfg.conns ||
        cfg.drawers > cfg.conns || cfg.rate < 0 || cfg.cursor_rate < 0 || cfg.duration < 0 ||
        cfg.points < 1 || cfg.points > 400 || cfg.connect_rate < 1 || cfg.connect_inflight < 1) {
        wb_error("bench: bad option values (need 1 <= boards <= conns, drawers <= conns, "
                 "rates >= 0, 1 <= points <= 400)");
        return -1;
    }
    for (const char *p = cfg.prefix; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_') ||
            strlen(cfg.prefix) > 40) {
            wb_error("bench: --prefix must be 1..40 chars of [A-Za-z0-9_-]");
            return -1;
        }
    return parse_url(cfg.url);
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
    if (parse_args(argc, argv) < 0) return 2;

    struct rlimit rl;
    if (!getrlimit(RLIMIT_NOFILE, &rl)) {
        rlim_t want = (rlim_t)cfg.conns + 256;
        if (rl.rlim_cur < want) {
            rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
            if (setrlimit(RLIMIT_NOFILE, &rl)) wb_syserr("bench: setrlimit NOFILE");
        }
        if (rl.rlim_cur < want)
            wb_warn("bench: open file limit %llu < %llu: raise ulimit -n",
                    (unsigned long long)rl.rlim_cur, (unsigned long long)want);
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    uint64_t seed = (uint64_t)wb_mono_ns() ^ ((uint64_t)getpid() << 32);
    srand((unsigned)seed);
    static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (int i = 0; i < 6; i++) {
        run_id[i] = al[seed % 36];
        seed = seed / 36 ^ (seed * 6364136223846793005ull + 1442695040888963407ull);
    }

    conns = calloc((size_t)cfg.conns, sizeof *conns);
    boards = calloc((size_t)cfg.boards, sizeof *boards);
    drawer_idx = calloc((size_t)cfg.drawers + 1, sizeof *drawer_idx);
    uint32_t hs = 16;
    while (hs < (uint32_t)cfg.conns * 2)
        hs <<= 1;
    cid_key = calloc(hs, sizeof *cid_key);
    cid_val = calloc(hs, sizeof *cid_val);
    cid_mask = hs - 1;
    tl_cap = (int)(cfg.duration + cfg.drain) + 8;
    timeline = calloc((size_t)tl_cap, sizeof *timeline);
    if (!conns || !boards || !drawer_idx || !cid_key || !cid_val || !timeline) {
        wb_error("bench: out of memory");
        return 1;
    }
    for (int i = 0; i < cfg.conns; i++) {
        conns[i].idx = (uint32_t)i;
        conns[i].board = (uint32_t)(i % cfg.boards);
        conns[i].member = (uint32_t)(i / cfg.boards);
        boards[conns[i].board].members++;
    }
    for (int i = 0; i < cfg.drawers; i++) {
        conn *c = &conns[i];
        c->drawer = 1;
        drawer_idx[n_drawers++] = (uint32_t)i;
        uint32_t m = boards[c->board].members;
        if (bt_ring_init(&c->strokes, cfg.rate > 0 ? ring_size(cfg.rate) : 16, m, 1) < 0 ||
            bt_ring_init(&c->cursors, cfg.cursor_rate > 0 ? ring_size(cfg.cursor_rate) : 16, m, 0) <
                0)
            return 1;
    }

    lws_set_log_level(cfg.lws_log, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.fd_limit_per_thread = (unsigned)cfg.conns + 128;
    info.timeout_secs = 30;
    info.connect_timeout_secs = 20;
    if (u_tls) info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    if (!strcmp(cfg.evlib, "uv")) {
        /* libuv (epoll): poll(2) over thousands of sockets on every wakeup
         * would make the bench, not the server, the bottleneck */
        info.options |= LWS_SERVER_OPTION_LIBUV;
        info.signal_cb = lws_signal;
    }
    ctx = lws_create_context(&info);
    if (!ctx && !strcmp(cfg.evlib, "uv")) {
        wb_warn(
            "bench: no libuv event loop in this libwebsockets (package libwebsockets-evlib-uv); "
            "falling back to poll(2), which costs O(connections) per wakeup");
        cfg.evlib = "poll";
        info.options &= ~(uint64_t)LWS_SERVER_OPTION_LIBUV;
        info.signal_cb = NULL;
        ctx = lws_create_context(&info);
    }
    if (!ctx) {
        wb_error("bench: lws_create_context failed");
        return 1;
    }
    if (!cfg.quiet)
        fprintf(stderr,
                "[bench] run %s: %d conns over %d boards, %d drawers x %.1f strokes/s + %.1f "
                "cursors/s, %s%s\n",
                run_id, cfg.conns, cfg.boards, n_drawers, cfg.rate, cfg.cursor_rate, cfg.url,
                u_path);

    proc_all(ps_base);
    t0 = (uint64_t)wb_mono_ns();
    set_phase(P_CONNECT, t0);
    lws_sul_schedule(ctx, 0, &sul_phase, phase_cb, 1);
    while (phase != P_DONE && interrupted < 3)
        if (lws_service(ctx, 0) < 0) break;

    if (phase != P_DONE) finish(); /* lws_service failed */
    lws_context_destroy(ctx);
    for (int d = 0; d < n_drawers; d++) {
        bt_ring_free(&conns[drawer_idx[d]].strokes);
        bt_ring_free(&conns[drawer_idx[d]].cursors);
    }
    for (uint32_t i = 0; i <= cid_mask; i++)
        free(cid_key[i]);
    for (int i = 0; i < cfg.conns; i++)
        free(conns[i].rx);
    int ok = welcomed > 0;
    free(cid_key);
    free(cid_val);
    free(conns);
    free(boards);
    free(drawer_idx);
    free(timeline);
    return ok ? 0 : 3; /* 3: not one connection got a welcome */
}
