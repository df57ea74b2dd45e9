/* gw_commit: group commit of durable ops. Ops wait in a pending list; at the
 * end of each loop turn, if no publish round is in flight, everything
 * pending (up to commit-batch-max) goes out as ONE round: fewer than
 * commit-batch-min ops as plain JetStream publishes (one fsync each on the
 * server), more as one JetStream atomic batch (ADR-50), which nats-server
 * 2.15 stores with one fsync for the whole batch under sync_interval: always
 * and acknowledges with its last seq and count (the batch's seqs are
 * contiguous, so every op keeps its own seq). No timer: a round grows with
 * the load while the previous one is on disk. One round in flight keeps a
 * client's ops in the order it sent them, also when a batch is refused
 * (a Nats-Msg-Id seen before, i.e. a resend, refuses the whole batch: its ops
 * are then published one by one, each answered with its own seq).
 * Loop thread only; owns the pending list and the round in flight. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"
#include "wb_log.h"

/* A round unanswered this long is failed: its ops are answered
 * `unavailable` and the clients resend them (same ids: JetStream's
 * duplicate window keeps a late store from being applied twice). The answer
 * is lost when the stream leader died or was cut off with the round in
 * flight; waiting longer only lengthens the pause clients see in a
 * failover. Above the plain publishes' MaxWait (gw_nats.c, 3 s), so a plain
 * publish is always answered (or timed out by nats.c) inside its round. */
#define ROUND_TIMEOUT_US (4 * 1000000LL)

typedef struct gw_round {
    bool active;
    bool batch; /* an atomic batch (else plain publishes) */
    char batch_id[GW_BATCH_ID_MAX + 1];
    gw_pub **ops;
    size_t n;
    size_t outstanding; /* plain publishes not answered yet */
    int64_t t0_us;
} gw_round;

static gw_pub **g_pending;
static size_t g_npending, g_cappending, g_pending_bytes;
static gw_round g_round;
static bool g_atomic_ok = true;
static uint64_t g_batch_counter;
static char g_batch_prefix[12];
static void (*g_on_result)(const gw_ev_puback *e);

void gw_commit_start(void (*on_result)(const gw_ev_puback *e))
{
    g_on_result = on_result;
    gw_random_id(g_batch_prefix, sizeof g_batch_prefix);
}

static void result(const gw_pub *p, uint64_t seq, int err)
{
    gw_ev_puback e;
    memset(&e, 0, sizeof e);
    snprintf(e.board, sizeof e.board, "%s", p->board);
    snprintf(e.op_id, sizeof e.op_id, "%s", p->op_id);
    e.seq = seq;
    e.err = err;
    if (g_on_result) g_on_result(&e);
}

static void round_clear(void)
{
    for (size_t i = 0; i < g_round.n; i++)
        free(g_round.ops[i]);
    free(g_round.ops);
    memset(&g_round, 0, sizeof g_round);
}

int gw_commit_op(const char *board, const char *op_id, bool republish, const uint8_t *data,
                 size_t len)
{
    if (!gw_nats_ok()) return WB_E_UNAVAILABLE;
    if (g_pending_bytes + len > (size_t)gw.cfg.commit_pending_bytes) {
        wb_warn("commit: %zu bytes pending: refusing op=%s", g_pending_bytes, op_id);
        return WB_E_UNAVAILABLE;
    }
    if (g_npending == g_cappending) {
        size_t nc = g_cappending ? g_cappending * 2 : 64;
        gw_pub **np = realloc(g_pending, nc * sizeof *np);
        if (!np) return WB_E_UNAVAILABLE;
        g_pending = np;
        g_cappending = nc;
    }
    gw_pub *p = malloc(sizeof *p + len);
    if (!p) return WB_E_UNAVAILABLE;
    snprintf(p->board, sizeof p->board, "%s", board);
    snprintf(p->op_id, sizeof p->op_id, "%s", op_id);
    p->republish = republish;
    p->answered = false;
    p->len = len;
    memcpy(p->data, data, len);
    g_pending[g_npending++] = p;
    g_pending_bytes += len;
    return 0;
}

/* Publishes the round's ops one by one (their answers come as PUBACKs). */
static void send_plain(void)
{
    g_round.batch = false;
    g_round.outstanding = 0;
    for (size_t i = 0; i < g_round.n; i++) {
        gw_pub *p = g_round.ops[i];
        int rc = gw_nats_publish_op(p);
        if (rc) {
            p->answered = true;
            result(p, 0, rc);
        } else
            g_round.outstanding++;
    }
    atomic_fetch_add(&gw_m.commit_plain_ops, g_round.outstanding);
    if (!g_round.outstanding) round_clear();
}

void gw_commit_flush(void)
{
    if (g_round.active || !g_npending) return;
    size_t n = g_npending;
    if (n > (size_t)gw.cfg.commit_batch_max) n = (size_t)gw.cfg.commit_batch_max;
    gw_pub **ops = malloc(n * sizeof *ops);
    if (!ops) return; /* try again next turn */
    memcpy(ops, g_pending, n * sizeof *ops);
    memmove(g_pending, g_pending + n, (g_npending - n) * sizeof *g_pending);
    g_npending -= n;
    for (size_t i = 0; i < n; i++)
        g_pending_bytes -= ops[i]->len;
    g_round.active = true;
    g_round.ops = ops;
    g_round.n = n;
    g_round.t0_us = wb_mono_us();
    atomic_fetch_add(&gw_m.commit_rounds, 1);
    if (!gw_nats_ok()) {
        for (size_t i = 0; i < n; i++)
            result(ops[i], 0, WB_E_UNAVAILABLE);
        round_clear();
        return;
    }
    if (n < (size_t)gw.cfg.commit_batch_min || !g_atomic_ok) {
        send_plain();
        return;
    }
    g_round.batch = true;
    snprintf(g_round.batch_id, sizeof g_round.batch_id, "%s-%llu", g_batch_prefix,
             (unsigned long long)++g_batch_counter);
    if (gw_nats_publish_batch(g_round.batch_id, ops, n) != 0) {
        send_plain();
        return;
    }
    atomic_fetch_add(&gw_m.commit_batches, 1);
    atomic_fetch_add(&gw_m.commit_batched_ops, n);
}

void gw_commit_on_puback(const gw_ev_puback *e)
{
    if (e->check || !g_round.active || g_round.batch) return;
    /* Only an op of this round counts (a PUBACK of a round that timed out may
     * still come). Plain rounds are small, or rare: a scan is fine. */
    gw_pub *p = NULL;
    for (size_t i = 0; i < g_round.n && !p; i++) {
        gw_pub *q = g_round.ops[i];
        if (!q->answered && !strcmp(q->op_id, e->op_id) && !strcmp(q->board, e->board)) p = q;
    }
    if (!p) return;
    p->answered = true;
    if (g_round.outstanding && --g_round.outstanding == 0) {
        gw_metrics_observe_round(wb_mono_us() - g_round.t0_us);
        round_clear();
    }
}

void gw_commit_on_batch(const gw_ev_batch *e)
{
    if (!g_round.active || !g_round.batch || strcmp(e->batch_id, g_round.batch_id)) return;
    if (e->err_code == GW_JS_ERR_ATOMIC_DUPLICATE || e->err_code == GW_JS_ERR_ATOMIC_DISABLED) {
        /* A resend inside the batch, or the stream lost allow_atomic (an
         * older client updated it): publish the ops one by one. */
        if (e->err_code == GW_JS_ERR_ATOMIC_DISABLED) {
            wb_warn("commit: atomic publish is disabled on the stream; re-ensuring it");
            g_atomic_ok = false;
            gw_nats_want_ensure();
        }
        send_plain();
        return;
    }
    if (e->err || e->count != g_round.n || e->last_seq < e->count) {
        wb_warn("commit: batch %s failed (%s, count %u of %zu): the clients resend", e->batch_id,
                e->err ? e->err_text : "bad count", e->count, g_round.n);
        for (size_t i = 0; i < g_round.n; i++)
            result(g_round.ops[i], 0, WB_E_UNAVAILABLE);
        round_clear();
        return;
    }
    gw_metrics_observe_round(wb_mono_us() - g_round.t0_us);
    uint64_t first = e->last_seq - e->count + 1;
    for (size_t i = 0; i < g_round.n; i++)
        result(g_round.ops[i], first + i, 0);
    round_clear();
}

void gw_commit_on_nats(bool up)
{
    if (up) g_atomic_ok = true; /* the stream was (re)ensured with allow_atomic */
}

void gw_commit_tick(int64_t now_us)
{
    if (!g_round.active || now_us - g_round.t0_us < ROUND_TIMEOUT_US) return;
    wb_warn("commit: %s round of %zu ops unanswered for %lld s: the clients resend",
            g_round.batch ? "batch" : "plain", g_round.n, ROUND_TIMEOUT_US / 1000000);
    atomic_fetch_add(&gw_m.commit_round_timeouts, 1);
    for (size_t i = 0; i < g_round.n; i++)
        if (!g_round.ops[i]->answered) result(g_round.ops[i], 0, WB_E_UNAVAILABLE);
    round_clear();
}
