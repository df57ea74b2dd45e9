/* gw_ack: durable ops waiting for JetStream's answer. Remembers which
 * connections wait for each op ("board/op"), answers them with ack or
 * error, resolves op-id collisions across boards (a duplicate answer is
 * checked by the sync pool; a collision is published again as
 * "{board}:{op}"), and times out publishes unanswered for 10 s. Loop thread
 * only; owns the pending-ack map. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"
#include "wb_log.h"

#define ACK_TIMEOUT_US (10 * 1000000LL)

typedef struct gw_pending {
    uint64_t conns[4];
    size_t n;
    int64_t t0_us;
    uint8_t *data; /* the packed op, for a re-publish after an op-id collision */
    size_t len;
    bool republished;
} gw_pending;

static wb_map g_pending; /* "board/op" -> gw_pending* */

static void pending_free(gw_pending *p)
{
    if (!p) return;
    free(p->data);
    free(p);
}

static size_t make_key(char *key, const char *board, const char *op_id)
{
    return (size_t)snprintf(key, 2 * WB_ID_MAX + 2, "%s/%s", board, op_id);
}

void gw_ack_pending_add(const char *board, const char *op_id, uint64_t conn, const uint8_t *data,
                        size_t len)
{
    char key[2 * WB_ID_MAX + 2];
    size_t n = make_key(key, board, op_id);
    gw_pending *p = wb_map_get(&g_pending, key, n);
    if (!p) {
        if (!(p = calloc(1, sizeof *p))) return;
        p->t0_us = wb_mono_us();
        if ((p->data = malloc(len ? len : 1))) {
            memcpy(p->data, data, len);
            p->len = len;
        }
        if (wb_map_put(&g_pending, key, n, p) < 0) {
            pending_free(p);
            return;
        }
    }
    if (p->n < 4) p->conns[p->n++] = conn;
}

/* The op is stored with seq (err 0), or it is not (err): tell its clients. */
static void finish(const char *board, const char *op_id, uint64_t seq, int err)
{
    char key[2 * WB_ID_MAX + 2];
    size_t n = make_key(key, board, op_id);
    gw_pending *p = wb_map_del(&g_pending, key, n);
    if (!p) return;
    if (!err) {
        atomic_fetch_add(&gw_m.ops_acked, 1);
        gw_metrics_observe_pub(wb_mono_us() - p->t0_us);
    }
    gw_buf *ack = err ? NULL
                      : gw_buf_printf(GW_BUF_CTL, "{\"t\":\"ack\",\"op\":\"%s\",\"seq\":%llu}",
                                      op_id, (unsigned long long)seq);
    for (size_t i = 0; i < p->n; i++) {
        gw_conn *c = gw_conn_find(p->conns[i]);
        if (!c) continue;
        if (err)
            gw_conn_send_error(c, WB_E_UNAVAILABLE, op_id, "the op was not stored; resend it");
        else
            gw_conn_send(c, ack);
    }
    gw_buf_unref(ack);
    pending_free(p);
}

void gw_ack_on_puback(const gw_ev_puback *e)
{
    if (e->dup && !e->err) {
        char key[2 * WB_ID_MAX + 2];
        size_t n = make_key(key, e->board, e->op_id);
        gw_pending *p = wb_map_get(&g_pending, key, n);
        if (!p) return;
        if (!p->republished) {
            /* JetStream had this msg id: a resend of this board's op, or the
             * same op id used on another board? The sync pool looks. */
            gw_sync_dupcheck(e->board, e->op_id, e->seq);
            return;
        }
    }
    finish(e->board, e->op_id, e->seq, e->err);
}

void gw_ack_on_republish(const gw_ev_republish *e)
{
    char key[2 * WB_ID_MAX + 2];
    size_t n = make_key(key, e->board, e->op_id);
    gw_pending *p = wb_map_get(&g_pending, key, n);
    if (!p) return;
    p->republished = true;
    int rc = p->data ? gw_commit_op(e->board, e->op_id, true, p->data, p->len) : WB_E_UNAVAILABLE;
    if (rc) finish(e->board, e->op_id, 0, rc);
}

void gw_ack_fail(const char *board, const char *op_id, int err)
{
    finish(board, op_id, 0, err);
}

void gw_ack_on_opid(const char *board, const char *op_id, uint64_t seq, int err)
{
    char key[2 * WB_ID_MAX + 2];
    size_t n = make_key(key, board, op_id);
    gw_pending *p = wb_map_get(&g_pending, key, n);
    if (!p) return;
    if (err || seq) {
        if (seq) atomic_fetch_add(&gw_m.ops_resent_late, 1);
        finish(board, op_id, seq, err);
        return;
    }
    int rc = p->data ? gw_commit_op(board, op_id, false, p->data, p->len) : WB_E_UNAVAILABLE;
    if (rc) finish(board, op_id, 0, rc);
}

void gw_ack_tick(int64_t now_us)
{
    wb_map_iter it;
    wb_map_entry e;
    for (wb_map_iter_init(&it, &g_pending); wb_map_next(&it, &e);) {
        gw_pending *p = e.val;
        if (now_us - p->t0_us < ACK_TIMEOUT_US) continue;
        char key[2 * WB_ID_MAX + 2];
        snprintf(key, sizeof key, "%s", e.key);
        char *slash = strchr(key, '/');
        if (!slash) continue;
        *slash = 0;
        finish(key, slash + 1, 0, WB_E_UNAVAILABLE); /* removes this entry only (allowed) */
    }
}
