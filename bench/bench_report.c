/* bench_report: the end of a wb-bench run: a summary on stdout and, with
 * --json FILE, the full report (config, connections, throughput, latency
 * histograms, delivery accounting, processes, timeline, worker histograms).
 * lws service thread, once. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "wb_log.h"

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
    return i < B.cfg.pid_n ? B.cfg.pid_name[i] : "bench";
}

void bench_report(void)
{
    double load_s = B.run.t_load_end > B.run.t_load_start
                        ? bench_secs(B.run.t_load_end - B.run.t_load_start)
                        : 0;
    double dps = load_s > 0 ? (double)B.n.load_deliveries / load_s : 0;
    double cps = load_s > 0 ? (double)B.n.load_cur_deliveries / load_s : 0;
    int connected = B.n.welcomed;

    json_t *procs = json_object();
    for (int i = 0; i <= B.cfg.pid_n; i++) {
        double rss_idle_per =
            B.s.idle_connected > 0 && B.s.ps_idle[i].rss_kb > 0 && B.s.ps_base[i].rss_kb > 0
                ? (double)(B.s.ps_idle[i].rss_kb - B.s.ps_base[i].rss_kb) * 1024.0 /
                      B.s.idle_connected
                : 0;
        double rss_load_per =
            B.s.idle_connected > 0 && B.s.rss_load_max[i] > 0 && B.s.ps_base[i].rss_kb > 0
                ? (double)(B.s.rss_load_max[i] - B.s.ps_base[i].rss_kb) * 1024.0 /
                      B.s.idle_connected
                : 0;
        double cpu_load = B.s.ps_load1[i].cpu_s >= 0 && B.s.ps_load0[i].cpu_s >= 0
                              ? B.s.ps_load1[i].cpu_s - B.s.ps_load0[i].cpu_s
                              : -1;
        double cpu_conn = B.s.ps_idle[i].cpu_s >= 0 && B.s.ps_base[i].cpu_s >= 0
                              ? B.s.ps_idle[i].cpu_s - B.s.ps_base[i].cpu_s
                              : -1;
        double cpu_total = B.s.ps_end[i].cpu_s >= 0 && B.s.ps_base[i].cpu_s >= 0
                               ? B.s.ps_end[i].cpu_s - B.s.ps_base[i].cpu_s
                               : -1;
        json_object_set_new(
            procs, pid_label(i),
            json_pack(
                "{s:i,s:I,s:I,s:I,s:I,s:f,s:f,s:f,s:f,s:f,s:f}", "pid",
                i < B.cfg.pid_n ? B.cfg.pid[i] : (int)getpid(), "rss_base_kb",
                (json_int_t)B.s.ps_base[i].rss_kb, "rss_idle_kb", (json_int_t)B.s.ps_idle[i].rss_kb,
                "rss_load_max_kb", (json_int_t)B.s.rss_load_max[i], "rss_end_kb",
                (json_int_t)B.s.ps_end[i].rss_kb, "rss_per_idle_conn_bytes", rss_idle_per,
                "rss_per_conn_under_load_bytes", rss_load_per, "cpu_s_connect", cpu_conn,
                "cpu_s_load", cpu_load, "cpu_util_load",
                load_s > 0 && cpu_load >= 0 ? cpu_load / load_s : 0, "cpu_s_total", cpu_total));
        printf("proc %-8s rss base %ld kB idle %ld kB (%.0f B/conn) load max %ld kB (%.0f B/conn); "
               "cpu connect %.2fs load %.2fs (%.0f%% of a core)\n",
               pid_label(i), B.s.ps_base[i].rss_kb, B.s.ps_idle[i].rss_kb, rss_idle_per,
               B.s.rss_load_max[i], rss_load_per, cpu_conn, cpu_load,
               load_s > 0 ? 100 * cpu_load / load_s : 0);
    }

    double host_busy = B.s.host1.total > B.s.host0.total
                           ? (double)(B.s.host1.busy - B.s.host0.busy) /
                                 (double)(B.s.host1.total - B.s.host0.total)
                           : -1;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    printf("host during %s: %ld cores, %.0f%% busy (all processes), load average %.2f -> %.2f\n",
           B.cfg.duration > 0 ? "load" : "idle", ncpu, 100 * host_busy, B.s.host0.load1,
           B.s.host1.load1);
    json_t *host =
        json_pack("{s:i,s:f,s:f,s:f}", "cores", (int)ncpu, "busy_fraction_load", host_busy,
                  "loadavg1_start", B.s.host0.load1, "loadavg1_end", B.s.host1.load1);
    json_t *types = json_object();
    for (size_t i = 0; i < BENCH_N_TYPES; i++)
        json_object_set_new(types, bench_msg_types[i], json_integer((json_int_t)B.n.type_count[i]));
    json_t *errs = json_object();
    for (size_t i = 0; i < BENCH_N_ERRS; i++)
        json_object_set_new(errs, bench_err_codes[i], json_integer((json_int_t)B.n.err_count[i]));
    json_t *closes = json_object();
    for (int i = 0; i < B.n.n_close_codes; i++) {
        char k[16];
        snprintf(k, sizeof k, "%d", B.n.close_codes[i].code);
        json_object_set_new(closes, k, json_integer((json_int_t)B.n.close_codes[i].n));
    }
    json_t *fails = json_object();
    for (int i = 0; i < B.n.n_fail_reasons; i++)
        json_object_set_new(fails, B.n.fail_reasons[i].why,
                            json_integer((json_int_t)B.n.fail_reasons[i].n));
    json_t *tl = json_array();
    for (int i = 0; i < B.s.tl_n; i++) {
        tl_point *p = &B.s.timeline[i];
        json_t *r = json_object(), *cpu = json_object();
        for (int k = 0; k <= B.cfg.pid_n; k++) {
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
        "{s:s,s:s,s:s,s:s,s:{s:i,s:i,s:i,s:f,s:f,s:f,s:f,s:f,s:i,s:i,s:i},"
        "s:{s:i,s:i,s:i,s:i,s:i,s:i,s:o,s:o,s:o},"
        "s:{s:f,s:f,s:f,s:f,s:I,s:I},"
        "s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,"
        "s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I},s:o,s:o,s:o,s:o,s:o}",
        "tool", "wb-bench", "evlib", B.cfg.evlib, "label", B.cfg.label ? B.cfg.label : "", "url",
        B.cfg.url, "config", "conns", B.cfg.conns, "boards", B.cfg.boards, "drawers",
        B.run.n_drawers, "rate", B.cfg.rate, "cursor_rate", B.cfg.cursor_rate, "duration_s",
        B.cfg.duration, "idle_s", B.cfg.idle, "drain_s", B.cfg.drain, "points", B.cfg.points,
        "inflight", B.cfg.inflight, "batch", B.cfg.batch, "connections", "started", B.n.started,
        "established", B.n.established, "welcomed", connected, "failed", B.n.failed, "closed_early",
        B.n.closed_early, "idle_connected", B.s.idle_connected, "close_codes", closes, "failures",
        fails, "connect_ms", hist_json(&B.n.h_connect), "throughput", "load_s", load_s,
        "deliveries_per_s", dps, "cursor_deliveries_per_s", cps, "offered_ops_per_s",
        load_s > 0 ? (double)B.n.st_ev.sent / load_s : 0, "send_skipped",
        (json_int_t)B.n.send_skipped, "write_errors", (json_int_t)B.n.write_errors, "latency_e2e",
        hist_json(&B.n.h_e2e), "latency_self", hist_json(&B.n.h_self), "latency_ack",
        hist_json(&B.n.h_ack), "latency_cursor", hist_json(&B.n.h_cursor), "send_lag",
        hist_json(&B.n.h_lag), "welcome_ms", hist_json(&B.n.h_welcome), "strokes",
        stats_json(&B.n.st_ev), "cursors", stats_json(&B.n.st_cur), "message_types", types,
        "errors", errs, "processes", procs, "timeline", tl, "rx", "frames",
        (json_int_t)B.n.frames_rx, "bytes", (json_int_t)B.n.bytes_rx, "messages",
        (json_int_t)B.n.msgs_rx, "bad_frames", (json_int_t)B.n.bad_frames, "tx_frames",
        (json_int_t)B.n.frames_tx, "foreign_ev", (json_int_t)B.n.foreign_ev, "foreign_ack",
        (json_int_t)B.n.foreign_ack, "cursor_unmapped", (json_int_t)B.n.cursor_unmapped,
        "ev_unknown", (json_int_t)B.n.st_ev.unknown, "cursor_unknown",
        (json_int_t)B.n.st_cur.unknown, "worker_metrics_load",
        B.s.metrics_load ? B.s.metrics_load : json_null(), "worker_metrics_end",
        B.s.metrics_end ? json_incref(B.s.metrics_end) : json_null(), "run",
        json_string(B.run.run_id), "worker_histograms",
        bench_hist_delta(B.s.metrics_start, B.s.metrics_end), "host", host);
    if (!root) {
        wb_error("bench: building the JSON report failed");
        return;
    }
    json_object_set_new(root, "threads", json_integer(B.cfg.threads));
    json_object_set_new(root, "cursor_order",
                        json_pack("{s:I,s:I,s:I}", "reordered", (json_int_t)B.n.cursor_reordered,
                                  "newest_pairs", (json_int_t)B.n.cursor_newest_pairs,
                                  "newest_missing", (json_int_t)B.n.cursor_newest_missing));

    printf("connections: %d started, %d established, %d welcomed, %d failed, %d closed early\n",
           B.n.started, B.n.established, connected, B.n.failed, B.n.closed_early);
    printf("connect: p50 %.2f ms p99 %.2f ms max %.2f ms (to welcome p50 %.2f ms p99 %.2f ms)\n",
           bh_quantile(&B.n.h_connect, .5) / 1e6, bh_quantile(&B.n.h_connect, .99) / 1e6,
           B.n.h_connect.max_ns / 1e6, bh_quantile(&B.n.h_welcome, .5) / 1e6,
           bh_quantile(&B.n.h_welcome, .99) / 1e6);
    printf("load: %.1fs, %llu strokes (%.1f/s), %llu cursors; deliveries %.0f/s, cursor deliveries "
           "%.0f/s, skipped sends %llu; frames sent %llu (batch %d)\n",
           load_s, (unsigned long long)B.n.st_ev.sent, load_s > 0 ? B.n.st_ev.sent / load_s : 0,
           (unsigned long long)B.n.st_cur.sent, dps, cps, (unsigned long long)B.n.send_skipped,
           (unsigned long long)B.n.frames_tx, B.cfg.batch);
    const struct {
        const char *n;
        bench_hist *h;
    } hs[] = {{"e2e", &B.n.h_e2e},
              {"self", &B.n.h_self},
              {"ack", &B.n.h_ack},
              {"cursor", &B.n.h_cursor},
              {"sendlag", &B.n.h_lag}};
    for (size_t i = 0; i < sizeof hs / sizeof *hs; i++)
        printf("latency %-7s n=%llu p50 %.2f ms p99 %.2f ms p99.9 %.2f ms max %.2f ms\n", hs[i].n,
               (unsigned long long)hs[i].h->count, bh_quantile(hs[i].h, .5) / 1e6,
               bh_quantile(hs[i].h, .99) / 1e6, bh_quantile(hs[i].h, .999) / 1e6,
               hs[i].h->max_ns / 1e6);
    printf("strokes: sent %llu acked %llu unacked %llu; deliveries expected %llu received %llu "
           "duplicates %llu missing %llu unknown %llu\n",
           (unsigned long long)B.n.st_ev.sent, (unsigned long long)B.n.st_ev.acked,
           (unsigned long long)B.n.st_ev.unacked, (unsigned long long)B.n.st_ev.expected,
           (unsigned long long)B.n.st_ev.received, (unsigned long long)B.n.st_ev.dup,
           (unsigned long long)B.n.st_ev.missing, (unsigned long long)B.n.st_ev.unknown);
    printf("cursors: sent %llu expected %llu received %llu duplicates %llu missing %llu\n",
           (unsigned long long)B.n.st_cur.sent, (unsigned long long)B.n.st_cur.expected,
           (unsigned long long)B.n.st_cur.received, (unsigned long long)B.n.st_cur.dup,
           (unsigned long long)B.n.st_cur.missing);
    if (B.cfg.cursor_rate > 0)
        printf("cursors: newest of each drawer missing at %llu of %llu receivers-x-drawers; "
               "out of order %llu\n",
               (unsigned long long)B.n.cursor_newest_missing,
               (unsigned long long)B.n.cursor_newest_pairs,
               (unsigned long long)B.n.cursor_reordered);
    if (B.s.metrics_start && B.s.metrics_end) {
        json_t *hd = bench_hist_delta(B.s.metrics_start, B.s.metrics_end);
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
    for (size_t i = 0; i < BENCH_N_ERRS; i++)
        printf(" %s=%llu", bench_err_codes[i], (unsigned long long)B.n.err_count[i]);
    printf("; close codes:");
    for (int i = 0; i < B.n.n_close_codes; i++)
        printf(" %d=%llu", B.n.close_codes[i].code, (unsigned long long)B.n.close_codes[i].n);
    printf("; bad frames %llu\n", (unsigned long long)B.n.bad_frames);
    for (int i = 0; i < B.n.n_fail_reasons; i++)
        printf("connect failure x%llu: %s\n", (unsigned long long)B.n.fail_reasons[i].n,
               B.n.fail_reasons[i].why);
    if (B.cfg.json) {
        if (json_dump_file(root, B.cfg.json, JSON_INDENT(1) | JSON_PRESERVE_ORDER) < 0)
            wb_error("bench: cannot write %s", B.cfg.json);
        else if (!B.cfg.quiet)
            fprintf(stderr, "[bench] wrote %s\n", B.cfg.json);
    }
    json_decref(root);
    json_decref(B.s.metrics_start);
    json_decref(B.s.metrics_end);
    B.s.metrics_start = B.s.metrics_end = NULL;
}
