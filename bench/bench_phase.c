/* bench_phase: the phases of a wb-bench run and their timers: connect
 * (ramped) -> idle -> load (one timeline point a second) -> drain (until
 * everything arrived or --drain) -> done (report). Thread 0 runs the phases;
 * every service thread runs its own timer (start its share of the
 * connections, its drawers' send tick, stop at done). The signal handlers
 * only count `interrupted`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "wb_clock.h"

const char *const bench_phase_name[] = {"connect", "idle", "load", "drain", "done"};

/* Every ms of the load phase: this thread's drawers that have a send due
 * (and room in their --inflight window) write it. */
static void tick_cb(lws_sorted_usec_list_t *sul)
{
    if (B.run.phase != P_LOAD) {
        bench_me->tick_on = 0;
        return;
    }
    uint64_t now = (uint64_t)wb_mono_ns();
    for (int d = 0; d < B.run.n_drawers; d++) {
        conn *c = &B.run.conns[B.run.drawer_idx[d]];
        if (c->idx % (uint32_t)B.cfg.threads != (uint32_t)bench_me->idx) continue;
        if (c->state == C_WELCOMED && !c->want_write && c->wsi && bench_due(c, now)) bench_kick(c);
    }
    lws_sul_schedule(bench_me->ctx, 0, &bench_me->sul_tick, tick_cb, 1000);
}

/* Sum of one counter over the threads (read while they run: approximate). */
#define SUM_N(field)                                                                               \
    ({                                                                                             \
        uint64_t _s = 0;                                                                           \
        for (int _i = 0; _i < B.cfg.threads; _i++)                                                 \
            _s += (uint64_t)__atomic_load_n(&B.run.threads[_i].n.field, __ATOMIC_RELAXED);         \
        _s;                                                                                        \
    })

static void timeline_point(uint64_t now)
{
    if (B.s.tl_n >= B.s.tl_cap) return;
    tl_point *p = &B.s.timeline[B.s.tl_n++];
    p->t = bench_secs(now - B.run.t_load_start);
    static bench_hist h; /* thread 0 only */
    bh_reset(&h);
    for (int i = 0; i < B.cfg.threads; i++) {
        bench_sec *s = &B.run.threads[i].sec;
        pthread_mutex_lock(&s->lock);
        p->sent += s->sent;
        p->deliveries += s->deliv;
        p->cursor_deliveries += s->cur;
        p->acks += s->acks;
        bh_merge(&h, &s->h);
        s->sent = s->deliv = s->cur = s->acks = 0;
        bh_reset(&s->h);
        pthread_mutex_unlock(&s->lock);
    }
    p->p50 = bh_quantile(&h, 0.5);
    p->p99 = bh_quantile(&h, 0.99);
    p->max = h.max_ns;
    proc_sample s[MAX_PIDS + 1];
    bench_proc_all(s);
    for (int i = 0; i <= B.cfg.pid_n; i++) {
        p->rss_kb[i] = s[i].rss_kb;
        p->cpu_s[i] = s[i].cpu_s;
        if (s[i].rss_kb > B.s.rss_load_max[i]) B.s.rss_load_max[i] = s[i].rss_kb;
    }
    if (!B.cfg.quiet)
        fprintf(stderr,
                "[%5.1fs %s] sent %llu/s deliveries %llu/s cursors %llu/s p50 %.2fms p99 %.2fms "
                "conns %d closed %d\n",
                p->t, bench_phase_name[B.run.phase], (unsigned long long)p->sent,
                (unsigned long long)p->deliveries, (unsigned long long)p->cursor_deliveries,
                p->p50 / 1e6, p->p99 / 1e6, (int)(SUM_N(welcomed) - SUM_N(closed_n)),
                (int)SUM_N(closed_n));
}

/* Resets every thread's per-second counts (start of the load phase). */
static void sec_reset_all(void)
{
    for (int i = 0; i < B.cfg.threads; i++) {
        bench_sec *s = &B.run.threads[i].sec;
        pthread_mutex_lock(&s->lock);
        s->sent = s->deliv = s->cur = s->acks = 0;
        bh_reset(&s->h);
        pthread_mutex_unlock(&s->lock);
    }
}

static int all_arrived(void)
{
    /* received + nothing left: cheap check over totals (missing is only known
     * at finish); read while the threads count, so approximate, which only
     * decides when the drain may end early */
    return SUM_N(st_ev.received) + SUM_N(st_ev.dup) >= SUM_N(st_ev.expected) &&
           SUM_N(st_ev.acked) >= SUM_N(st_ev.sent) &&
           SUM_N(st_cur.received) >= SUM_N(st_cur.expected);
}

static void merge_counts(bench_counts *d, const bench_counts *s)
{
    d->started += s->started;
    d->established += s->established;
    d->welcomed += s->welcomed;
    d->failed += s->failed;
    d->closed_n += s->closed_n;
    d->closed_early += s->closed_early;
    bt_stats_add(&d->st_ev, &s->st_ev);
    bt_stats_add(&d->st_cur, &s->st_cur);
    bench_hist *dh[] = {&d->h_e2e,     &d->h_self,    &d->h_ack, &d->h_cursor,
                        &d->h_connect, &d->h_welcome, &d->h_lag};
    const bench_hist *sh[] = {&s->h_e2e,     &s->h_self,    &s->h_ack, &s->h_cursor,
                              &s->h_connect, &s->h_welcome, &s->h_lag};
    for (size_t i = 0; i < sizeof dh / sizeof *dh; i++)
        bh_merge(dh[i], sh[i]);
    d->load_deliveries += s->load_deliveries;
    d->load_cur_deliveries += s->load_cur_deliveries;
    d->send_skipped += s->send_skipped;
    d->write_errors += s->write_errors;
    d->bad_frames += s->bad_frames;
    d->foreign_ev += s->foreign_ev;
    d->foreign_ack += s->foreign_ack;
    d->cursor_unmapped += s->cursor_unmapped;
    d->cursor_reordered += s->cursor_reordered;
    d->frames_rx += s->frames_rx;
    d->bytes_rx += s->bytes_rx;
    d->msgs_rx += s->msgs_rx;
    d->frames_tx += s->frames_tx;
    for (int i = 0; i < BENCH_N_TYPES; i++)
        d->type_count[i] += s->type_count[i];
    for (int i = 0; i < BENCH_N_ERRS; i++)
        d->err_count[i] += s->err_count[i];
    for (int i = 0; i < s->n_close_codes; i++) {
        int k = 0;
        while (k < d->n_close_codes && d->close_codes[k].code != s->close_codes[i].code)
            k++;
        if (k == d->n_close_codes) {
            if (k == MAX_CLOSE_CODES) continue;
            d->n_close_codes++;
            d->close_codes[k].code = s->close_codes[i].code;
            d->close_codes[k].n = 0;
        }
        d->close_codes[k].n += s->close_codes[i].n;
    }
    for (int i = 0; i < s->n_fail_reasons; i++) {
        int k = 0;
        while (k < d->n_fail_reasons && strcmp(d->fail_reasons[k].why, s->fail_reasons[i].why))
            k++;
        if (k == d->n_fail_reasons) {
            if (k == MAX_FAIL_REASONS) continue;
            d->n_fail_reasons++;
            memcpy(d->fail_reasons[k].why, s->fail_reasons[i].why, sizeof d->fail_reasons[k].why);
            d->fail_reasons[k].n = 0;
        }
        d->fail_reasons[k].n += s->fail_reasons[i].n;
    }
}

/* Every receiver connected to the end has each drawer's last cursor (the
 * threads have stopped). */
static void count_newest_cursors(void)
{
    for (int i = 0; i < B.cfg.conns; i++) {
        const conn *r = &B.run.conns[i];
        if (!r->cur_newest || !r->was_welcomed || r->closed_early) continue;
        for (int d = 0; d < B.run.n_drawers; d++) {
            const conn *s = &B.run.conns[B.run.drawer_idx[d]];
            if (s == r || s->board != r->board || !s->cursor_ctr || s->member >= r->cur_newest_n)
                continue;
            B.n.cursor_newest_pairs++;
            if (r->cur_newest[s->member] != s->cursor_ctr) B.n.cursor_newest_missing++;
        }
    }
}

void bench_finish(void)
{
    for (int t = 0; t < B.cfg.threads; t++) {
        bench_thread *th = &B.run.threads[t];
        /* books of the rings go to their sender's thread's counts */
        for (int d = 0; d < B.run.n_drawers; d++) {
            conn *c = &B.run.conns[B.run.drawer_idx[d]];
            if (c->idx % (uint32_t)B.cfg.threads != (uint32_t)t) continue;
            bt_finish(&c->strokes, &th->n.st_ev);
            bt_finish(&c->cursors, &th->n.st_cur);
        }
        merge_counts(&B.n, &th->n);
    }
    count_newest_cursors();
    bench_report();
    fflush(stdout);
}

void bench_set_phase(int p, uint64_t now)
{
    B.run.t_phase = now;
    B.run.phase = p; /* atomic: the other threads follow it */
    if (!B.cfg.quiet)
        fprintf(stderr, "[bench] phase %s at %.2fs\n", bench_phase_name[p],
                bench_secs(now - B.run.t0));
}

/* This thread's part, every few ms on every thread: start its share of the
 * connections (connect phase), run its drawers' send tick (load), and stop
 * its event loop when the run is done. Returns 0 once stopped. */
static int thread_step(uint64_t now)
{
    bench_thread *t = bench_me;
    int nt = B.cfg.threads;
    if (B.run.phase == P_DONE) {
        /* With libuv, lws_service() runs the loop until the context is
         * destroyed (first stage here, second when the thread ends); poll:
         * wake it. */
        if (!strcmp(B.cfg.evlib, "uv"))
            lws_context_destroy(t->ctx);
        else
            lws_cancel_service(t->ctx);
        return 0;
    }
    if (B.run.phase == P_CONNECT) {
        /* this thread's share of the rate and of the handshakes in flight */
        double el = bench_secs(now - B.run.t_phase);
        int allowed = (int)(el * B.cfg.connect_rate / nt) + 1;
        int inflight = B.cfg.connect_inflight / nt > 0 ? B.cfg.connect_inflight / nt : 1;
        for (;;) {
            int i = t->idx + t->next_conn * nt;
            if (i >= B.cfg.conns || t->next_conn >= allowed ||
                t->n.started - (t->n.established + t->n.failed) >= inflight)
                break;
            t->next_conn++;
            bench_conn_start(&B.run.conns[i]);
        }
    }
    if (B.run.phase == P_LOAD && !t->tick_on) {
        t->tick_on = 1;
        lws_sul_schedule(t->ctx, 0, &t->sul_tick, tick_cb, 1000);
    }
    return 1;
}

/* Thread 0: the phases (every 5 ms while connecting, then every 20 ms). */
static void phase_step(uint64_t now)
{
    if (B.run.interrupted && B.run.phase < P_DRAIN) {
        if (B.run.phase == P_LOAD) B.run.t_load_end = now;
        bench_set_phase(P_DRAIN, now);
    }
    switch (B.run.phase) {
    case P_CONNECT: {
        double el = bench_secs(now - B.run.t_phase);
        int settled = 0;
        for (int i = 0; i < B.cfg.conns; i++) {
            int st = __atomic_load_n(&B.run.conns[i].state, __ATOMIC_RELAXED);
            if (st == C_WELCOMED || st >= C_CLOSED) settled++;
        }
        if (settled == B.cfg.conns || el > B.cfg.connect_timeout) {
            if (!B.cfg.quiet)
                fprintf(stderr, "[bench] connected %d welcomed %d failed %d in %.2fs\n",
                        (int)SUM_N(established), (int)SUM_N(welcomed), (int)SUM_N(failed), el);
            bench_set_phase(P_IDLE, now);
            if (B.cfg.duration <= 0) bench_host_read(&B.s.host0);
        }
        break;
    }
    case P_IDLE:
        if (bench_secs(now - B.run.t_phase) >= B.cfg.idle) {
            bench_proc_all(B.s.ps_idle);
            if (B.cfg.duration <= 0)
                bench_host_read(&B.s.host1); /* idle run: host load while idle */
            B.s.idle_connected = (int)(SUM_N(welcomed) - SUM_N(closed_n));
            for (int d = 0; d < B.run.n_drawers; d++) { /* random phase so sends are spread */
                conn *c = &B.run.conns[B.run.drawer_idx[d]];
                uint64_t ps = bench_period_ns(B.cfg.rate), pc = bench_period_ns(B.cfg.cursor_rate);
                c->next_stroke = now + (ps ? (uint64_t)rand() % ps : 0);
                c->next_cursor = now + (pc ? (uint64_t)rand() % pc : 0);
            }
            B.run.t_load_start = B.run.t_last_tick = now;
            bench_proc_all(B.s.ps_load0);
            if (B.cfg.duration > 0) bench_host_read(&B.s.host0);
            B.s.metrics_start = bench_fetch_metrics();
            for (int i = 0; i <= B.cfg.pid_n; i++)
                B.s.rss_load_max[i] = B.s.ps_load0[i].rss_kb;
            sec_reset_all();
            if (B.cfg.duration <= 0) B.run.t_load_end = now;
            bench_set_phase(B.cfg.duration > 0 ? P_LOAD : P_DRAIN, now);
        }
        break;
    case P_LOAD:
        if (now - B.run.t_last_tick >= NS) {
            B.run.t_last_tick += NS;
            timeline_point(now);
        }
        if (bench_secs(now - B.run.t_load_start) >= B.cfg.duration) {
            B.run.t_load_end = now;
            bench_proc_all(B.s.ps_load1);
            bench_host_read(&B.s.host1);
            B.s.metrics_load = bench_fetch_metrics();
            bench_set_phase(P_DRAIN, now);
        }
        break;
    case P_DRAIN:
        if (now - B.run.t_last_tick >= NS) {
            B.run.t_last_tick += NS;
            timeline_point(now);
        }
        if (bench_secs(now - B.run.t_phase) >= B.cfg.drain ||
            (all_arrived() && bench_secs(now - B.run.t_phase) >= 0.5) || B.run.interrupted > 1) {
            B.run.t_drain_end = now;
            if (!B.s.ps_load1[B.cfg.pid_n].rss_kb) bench_proc_all(B.s.ps_load1);
            bench_proc_all(B.s.ps_end);
            B.s.metrics_end = bench_fetch_metrics();
            bench_set_phase(P_DONE, now);
        }
        break;
    default:
        break;
    }
}

static void run_cb(lws_sorted_usec_list_t *sul)
{
    uint64_t now = (uint64_t)wb_mono_ns();
    if (bench_me->idx == 0) phase_step(now);
    if (!thread_step(now)) return;
    lws_sul_schedule(bench_me->ctx, 0, &bench_me->sul_run, run_cb,
                     B.run.phase == P_CONNECT ? 5000 : (bench_me->idx ? 10000 : 20000));
}

void bench_thread_start(void)
{
    lws_sul_schedule(bench_me->ctx, 0, &bench_me->sul_run, run_cb, 1);
}

void bench_on_signal(int sig)
{
    if (++B.run.interrupted >= 3) _exit(130);
}

void bench_lws_signal(void *loop, int sig)
{
    if (++B.run.interrupted >= 3) _exit(130);
}
