/* gw_conn: the connection registry (serial -> gw_conn) and the glue between
 * a connection and its send queue: the policy itself is gw_sendq.c; this
 * applies its answers (drop counters, close 1013) and lists the connections
 * that got frames this turn (gw_ws.c writes each once at the end of the
 * turn) and those whose write waits for its pace (the pace wheel). Loop
 * thread only; owns the serial map, that list and the wheel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"
#include "wb_log.h"

static wb_map g_conns;   /* serial -> gw_conn* */
static gw_conn *g_dirty; /* connections with frames to write this turn */

/* Connections whose write waits for its pace, by due time: 1 ms slots, so a
 * turn touches only the writes that are due, however many wait (a cursor
 * window keeps most clients of a busy board waiting). A wait is at most 1 s
 * (the config bounds), shorter than the wheel. */
#define PACE_SLOTS 1024
static gw_conn *g_paced[PACE_SLOTS];
static size_t g_paced_n;   /* connections on the wheel */
static int64_t g_paced_ms; /* every slot due before this ms has been taken */

static gw_conn **list_head(gw_conn *c)
{
    return c->wlist == GW_WL_PACED ? &g_paced[c->wslot] : &g_dirty;
}

static void link_into(gw_conn **head, gw_conn *c)
{
    c->dprev = NULL;
    c->dnext = *head;
    if (*head) (*head)->dprev = c;
    *head = c;
}

static void unlink_from_list(gw_conn *c)
{
    if (c->wlist == GW_WL_NONE) return;
    if (c->dprev)
        c->dprev->dnext = c->dnext;
    else
        *list_head(c) = c->dnext;
    if (c->dnext) c->dnext->dprev = c->dprev;
    if (c->wlist == GW_WL_PACED) g_paced_n--;
    c->wlist = GW_WL_NONE;
    c->dnext = c->dprev = NULL;
}

static void mark_dirty(gw_conn *c)
{
    if (c->wlist == GW_WL_DIRTY) return;
    unlink_from_list(c); /* off the wheel: the wait is decided again */
    c->wlist = GW_WL_DIRTY;
    link_into(&g_dirty, c);
}

void gw_conn_forget(gw_conn *c)
{
    unlink_from_list(c);
}

void gw_conn_defer(gw_conn *c, int64_t due_us)
{
    int64_t ms = (due_us + 999) / 1000;
    if (ms < g_paced_ms) ms = g_paced_ms;
    c->wlist = GW_WL_PACED;
    c->wslot = (uint16_t)(ms % PACE_SLOTS);
    link_into(&g_paced[c->wslot], c);
    g_paced_n++;
}

/* Moves the wheel's slots due by now_ms onto the dirty list. */
static void take_due(int64_t now_ms)
{
    if (!g_paced_n) {
        g_paced_ms = now_ms + 1;
        return;
    }
    int64_t n = now_ms - g_paced_ms + 1;
    if (n > PACE_SLOTS) n = PACE_SLOTS;
    for (int64_t i = 0; i < n; i++) {
        gw_conn **slot = &g_paced[(g_paced_ms + i) % PACE_SLOTS];
        while (*slot)
            mark_dirty(*slot);
    }
    if (now_ms + 1 > g_paced_ms) g_paced_ms = now_ms + 1;
}

gw_conn *gw_conns_take_dirty(int64_t now_us)
{
    take_due(now_us / 1000);
    gw_conn *h = g_dirty;
    g_dirty = NULL;
    return h;
}

int64_t gw_conns_next_due(void)
{
    if (!g_paced_n) return 0;
    for (int64_t i = 0; i < PACE_SLOTS; i++)
        if (g_paced[(g_paced_ms + i) % PACE_SLOTS]) return (g_paced_ms + i) * 1000;
    return 0;
}

static void serial_key(uint64_t s, char *k, size_t *n)
{
    *n = (size_t)snprintf(k, 24, "%llx", (unsigned long long)s);
}

void gw_conn_register(gw_conn *c)
{
    char k[24];
    size_t n;
    serial_key(c->serial, k, &n);
    wb_map_put(&g_conns, k, n, c);
}

void gw_conn_unregister(gw_conn *c)
{
    char k[24];
    size_t n;
    serial_key(c->serial, k, &n);
    wb_map_del(&g_conns, k, n);
}

gw_conn *gw_conn_find(uint64_t serial)
{
    char k[24];
    size_t n;
    serial_key(serial, k, &n);
    return wb_map_get(&g_conns, k, n);
}

void gw_conn_close(gw_conn *c, int code, const char *why)
{
    if (c->closing) return;
    c->closing = true;
    c->close_code = code;
    if (code == 1008) atomic_fetch_add(&gw_m.closes_1008, 1);
    if (code == 1013) atomic_fetch_add(&gw_m.closes_1013, 1);
    /* Nothing more goes out but the errors already queued (the reason for
     * the close, e.g. rate_limited) and then the close frame. */
    gw_sendq old = c->q;
    memset(&c->q, 0, sizeof c->q);
    gw_buf *x;
    while ((x = gw_sendq_pop(&old))) {
        if (x->kind == GW_BUF_CTL && c->q.count < 4 &&
            !strncmp(gw_buf_text(x), "{\"t\":\"error\"", 12))
            gw_sendq_push(&c->q, x);
        gw_buf_unref(x);
    }
    gw_sendq_free(&old);
    c->replaying = false;
    /* A client that does not read never lets the close frame out: hang up
     * after a while instead of keeping the connection. */
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, 5);
    wb_info("closing client=%s board=%s code=%d (%s)", c->client_id, c->board_id, code, why);
    lws_callback_on_writable(c->wsi);
}

void gw_conn_send(gw_conn *c, gw_buf *b)
{
    if (!b || c->closing) return;
    if (b->kind == GW_BUF_EV && c->replaying) return; /* its paced replay brings it */
    if (b->kind == GW_BUF_EV && c->synced) {
        if (b->seq <= c->last_seq) return; /* already sent (replay/live overlap) */
        c->last_seq = b->seq;
    }
    gw_sendq_limits lim = {(size_t)gw.cfg.sendq_max, (size_t)gw.cfg.sendq_bytes};
    gw_sendq_stats st = {0, 0};
    gw_sendq_result r = gw_sendq_offer(&c->q, b, &lim, &st);
    if (st.dropped) atomic_fetch_add(&gw_m.drops, st.dropped);
    if (st.coalesced) atomic_fetch_add(&gw_m.coalesced, st.coalesced);
    switch (r) {
    case GW_SENDQ_QUEUED:
        if (c->q.count == 1) c->progress_us = wb_mono_us();
        if (c->synced) mark_dirty(c); /* written once at the end of this loop turn */
        break;
    case GW_SENDQ_DROPPED:
        break;
    case GW_SENDQ_FULL:
        gw_conn_close(c, 1013, "client too slow: send queue full");
        break;
    case GW_SENDQ_NOMEM:
        gw_conn_close(c, 1011, "out of memory");
        break;
    }
}

void gw_conn_send_error(gw_conn *c, wb_errcode code, const char *op, const char *msg)
{
    wb_jw w;
    atomic_fetch_add(&gw_m.errors[code < WB_E__COUNT ? code : 0], 1);
    wb_jw_init(&w, GW_BUF_HEAD, 128);
    wb_jw_lit(&w, "{\"t\":\"error\",\"code\":\"");
    wb_jw_lit(&w, wb_errcode_name(code));
    wb_jw_lit(&w, "\",\"msg\":");
    wb_jw_cstr(&w, msg);
    if (op && *op) {
        wb_jw_lit(&w, ",\"op\":");
        wb_jw_cstr(&w, op);
    }
    wb_jw_char(&w, '}');
    gw_buf *b = gw_buf_from_jw(&w, GW_BUF_CTL, 0);
    gw_conn_send(c, b);
    gw_buf_unref(b);
}

void gw_conn_start(gw_conn *c, gw_buf *welcome, gw_buf *snapshot, gw_buf **evs, size_t nevs,
                   uint64_t seq, bool resumed, bool more)
{
    gw_sendq old = c->q;
    memset(&c->q, 0, sizeof c->q);
    c->synced = true;
    /* What the client asked for (welcome, snapshot or replay) is exempt from
     * the send-queue bounds: a long replay must not close it with 1013. */
    bool ok = welcome && gw_sendq_push(&c->q, welcome) == 0;
    if (ok && snapshot) ok = gw_sendq_push(&c->q, snapshot) == 0;
    c->last_seq = resumed ? c->since : seq;
    for (size_t i = 0; ok && i < nevs; i++) {
        if (evs[i]->seq <= c->last_seq) continue;
        c->last_seq = evs[i]->seq;
        ok = gw_sendq_push(&c->q, evs[i]) == 0;
    }
    if (!ok) {
        gw_sendq_free(&old);
        gw_conn_close(c, 1011, "out of memory");
        return;
    }
    gw_sendq_mark_sync(&c->q);
    /* A paced replay goes on from last_seq; live evs wait for it. */
    c->replaying = more;
    if (!more && c->last_seq < seq) c->last_seq = seq;
    c->progress_us = wb_mono_us();
    /* What was queued while the join ran follows (evs deduplicated by seq). */
    gw_buf *x;
    while ((x = gw_sendq_pop(&old))) {
        gw_conn_send(c, x);
        gw_buf_unref(x);
    }
    gw_sendq_free(&old);
    mark_dirty(c);
}

void gw_conn_replay_chunk(gw_conn *c, gw_buf **evs, size_t nevs)
{
    for (size_t i = 0; i < nevs; i++) {
        if (evs[i]->seq <= c->last_seq) continue;
        if (gw_sendq_push(&c->q, evs[i]) < 0) {
            gw_conn_close(c, 1011, "out of memory");
            return;
        }
        c->last_seq = evs[i]->seq;
    }
    /* Exempt like the first chunk: bounded by replay-chunk-bytes. */
    gw_sendq_mark_sync(&c->q);
    mark_dirty(c);
}

void gw_conns_close_all(int code, const char *why)
{
    wb_map_iter it;
    wb_map_entry e;
    for (wb_map_iter_init(&it, &g_conns); wb_map_next(&it, &e);) {
        gw_conn *c = e.val;
        if (c->kind == GW_CONN_WS) {
            c->synced = true;
            gw_conn_close(c, code, why);
        }
    }
}
