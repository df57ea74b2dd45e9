/* bench_phase: the phases of a wb-bench run and their timers: connect
 * (ramped) -> idle -> load (one timeline point a second) -> drain (until
 * everything arrived or --drain) -> done (report). lws service thread; the
 * signal handlers only count `interrupted`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "wb_clock.h"

const char *const bench_phase_name[] = {"connect", "idle", "load", "drain", "done"};

void bench_tick_cb(lws_sorted_usec_list_t *sul)
{
    if (B.run.phase != P_LOAD) return;
    uint64_t now = (uint64_t)wb_mono_ns();
    for (int d = 0; d < B.run.n_drawers; d++) {
        conn *c = &B.run.conns[B.run.drawer_idx[d]];
        if (c->state == C_WELCOMED && !c->want_write && c->wsi && bench_due(c, now)) {
            c->want_write = 1;
            lws_callback_on_writable(c->wsi);
        }
    }
    lws_sul_schedule(B.run.ctx, 0, &B.run.sul_tick, bench_tick_cb, 1000);
}

static void timeline_point(uint64_t now)
{
    if (B.s.tl_n >= B.s.tl_cap) return;
    tl_point *p = &B.s.timeline[B.s.tl_n++];
    p->t = bench_secs(now - B.run.t_load_start);
    p->sent = B.n.sec_sent;
    p->deliveries = B.n.sec_deliv;
    p->cursor_deliveries = B.n.sec_cur;
    p->acks = B.n.sec_acks;
    p->p50 = bh_quantile(&B.n.h_sec, 0.5);
    p->p99 = bh_quantile(&B.n.h_sec, 0.99);
    p->max = B.n.h_sec.max_ns;
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
                p->p50 / 1e6, p->p99 / 1e6, B.n.welcomed - B.n.closed_n, B.n.closed_n);
    B.n.sec_sent = B.n.sec_deliv = B.n.sec_cur = B.n.sec_acks = 0;
    bh_reset(&B.n.h_sec);
}

static int all_arrived(void)
{
    /* received + nothing left: cheap check over totals (missing is only known at finish) */
    return B.n.st_ev.received + B.n.st_ev.dup >= B.n.st_ev.expected &&
           B.n.st_ev.acked >= B.n.st_ev.sent && B.n.st_cur.received >= B.n.st_cur.expected;
}

void bench_finish(void)
{
    for (int d = 0; d < B.run.n_drawers; d++) {
        bt_finish(&B.run.conns[B.run.drawer_idx[d]].strokes, &B.n.st_ev);
        bt_finish(&B.run.conns[B.run.drawer_idx[d]].cursors, &B.n.st_cur);
    }
    bench_report();
    fflush(stdout);
}

void bench_set_phase(int p, uint64_t now)
{
    B.run.phase = p;
    B.run.t_phase = now;
    if (!B.cfg.quiet)
        fprintf(stderr, "[bench] phase %s at %.2fs\n", bench_phase_name[p],
                bench_secs(now - B.run.t0));
    if (p == P_DONE) {
        bench_finish();
        /* With libuv, lws_service() runs the loop until the context is
         * destroyed (first stage here, second in main); poll: wake it. */
        if (!strcmp(B.cfg.evlib, "uv"))
            lws_context_destroy(B.run.ctx);
        else
            lws_cancel_service(B.run.ctx);
    }
}

void bench_phase_cb(lws_sorted_usec_list_t *sul)
{
    uint64_t now = (uint64_t)wb_mono_ns();
    if (B.run.interrupted && B.run.phase < P_DRAIN) {
        if (B.run.phase == P_LOAD) B.run.t_load_end = now;
        bench_set_phase(P_DRAIN, now);
    }
    switch (B.run.phase) {
    case P_CONNECT: {
        double el = bench_secs(now - B.run.t_phase);
        int allowed = (int)(el * B.cfg.connect_rate) + 1;
        while (B.n.started < B.cfg.conns && B.n.started < allowed &&
               B.n.started - (B.n.established + B.n.failed) < B.cfg.connect_inflight)
            bench_conn_start(&B.run.conns[B.n.started]);
        int settled = 0;
        for (int i = 0; i < B.n.started; i++)
            if (B.run.conns[i].state == C_WELCOMED || B.run.conns[i].state >= C_CLOSED) settled++;
        if ((B.n.started == B.cfg.conns && settled == B.cfg.conns) || el > B.cfg.connect_timeout) {
            if (!B.cfg.quiet)
                fprintf(stderr, "[bench] connected %d welcomed %d failed %d in %.2fs\n",
                        B.n.established, B.n.welcomed, B.n.failed, el);
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
            B.s.idle_connected = B.n.welcomed - B.n.closed_n;
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
            B.n.sec_sent = B.n.sec_deliv = B.n.sec_cur = B.n.sec_acks = 0;
            bh_reset(&B.n.h_sec);
            bench_set_phase(B.cfg.duration > 0 ? P_LOAD : P_DRAIN, now);
            if (B.run.phase == P_LOAD)
                lws_sul_schedule(B.run.ctx, 0, &B.run.sul_tick, bench_tick_cb, 1000);
            else
                B.run.t_load_end = now;
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
            return;
        }
        break;
    default:
        return;
    }
    lws_sul_schedule(B.run.ctx, 0, &B.run.sul_phase, bench_phase_cb,
                     B.run.phase == P_CONNECT ? 5000 : 20000);
}

void bench_on_signal(int sig)
{
    if (++B.run.interrupted >= 3) _exit(130);
}

void bench_lws_signal(void *loop, int sig)
{
    if (++B.run.interrupted >= 3) _exit(130);
}
