/* gw_board: boards with local clients, fan-out, ordering, presence and the
 * pending publish acks. lws service thread only; owns the boards map, the
 * connection-serial map and the pending-ack map.
 *
 * Ordering: stored ops reach a board through wb.rp.{board} with their stream
 * seq and the board's previous seq (Nats-Last-Sequence). A board delivers
 * seq N only after the op it names as previous; a missing op (a NATS
 * reconnect, a slow-consumer drop) starts a gap fill from the stream while
 * later ops are held. Each op's JSON is built once (on the NATS thread) and
 * the same buffer is queued to every client. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"
#include "wb_log.h"

static wb_map g_boards;   /* id -> gw_board* */
static wb_map g_conns;    /* serial -> gw_conn* */
static wb_map g_pending;  /* "board/op" -> gw_pending* */
static gw_board *g_dirty; /* boards whose presence changed since the last flush */

typedef struct gw_pending {
    uint64_t conns[4];
    size_t n;
    int64_t t0_us;
    uint8_t *data; /* the packed op, for a re-publish after an op-id collision */
    size_t len;
    bool republished;
} gw_pending;

static void pending_free(gw_pending *p)
{
    if (!p) return;
    free(p->data);
    free(p);
}

size_t gw_board_count(void)
{
    return g_boards.count;
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

gw_board *gw_board_get(const char *id, bool create)
{
    size_t len = strlen(id);
    gw_board *b = wb_map_get(&g_boards, id, len);
    if (b || !create) return b;
    if (!(b = calloc(1, sizeof *b))) {
        wb_error("out of memory (board)");
        return NULL;
    }
    snprintf(b->id, sizeof b->id, "%s", id);
    if (gw_nats_board_subscribe(b) < 0 || wb_map_put(&g_boards, id, len, b) < 0) {
        gw_nats_board_unsubscribe(b);
        free(b);
        return NULL;
    }
    return b;
}

static void board_destroy(gw_board *b)
{
    for (gw_board **pp = &g_dirty; *pp; pp = &(*pp)->dirty_next)
        if (*pp == b) {
            *pp = b->dirty_next;
            break;
        }
    wb_map_del(&g_boards, b->id, strlen(b->id));
    gw_nats_board_unsubscribe(b);
    for (size_t i = 0; i < b->nheld; i++)
        gw_buf_unref(b->held[i]);
    free(b->held);
    for (size_t i = 0; i < b->nremotes; i++)
        free(b->remotes[i].clients_json);
    free(b->remotes);
    free(b->waiting);
    free(b->inflight);
    free(b);
}

/* ---- sending ---- */

void gw_conn_close(gw_conn *c, int code, const char *why)
{
    if (c->closing) return;
    c->closing = true;
    c->close_code = code;
    if (code == 1008) atomic_fetch_add(&gw_m.closes_1008, 1);
    if (code == 1013) atomic_fetch_add(&gw_m.closes_1013, 1);
    gw_sendq_free(&c->q); /* nothing more goes out but the close frame */
    c->sync_items = c->sync_bytes = 0;
    wb_info("closing client=%s board=%s code=%d (%s)", c->client_id, c->board_id, code, why);
    lws_callback_on_writable(c->wsi);
}

void gw_conn_send(gw_conn *c, gw_buf *b)
{
    if (!b || c->closing) return;
    if (b->kind == GW_BUF_EV) {
        if (c->synced) {
            if (b->seq <= c->last_seq) return; /* already sent (replay/live overlap) */
            c->last_seq = b->seq;
        }
    }
    gw_sendq *q = &c->q;
    if (b->kind == GW_BUF_PRESENCE && c->presence_queued) {
        /* Only the newest list matters. */
        gw_sendq_drop_kind(q, GW_BUF_PRESENCE);
        c->presence_queued = 0;
    }
    long long soft = gw.cfg.sendq_max / 2;
    long long count = (long long)(q->count - c->sync_items),
              bytes = (long long)(q->bytes - c->sync_bytes);
    if (count >= soft || bytes >= gw.cfg.sendq_bytes / 2) {
        /* Under pressure: ephemeral frames go first. */
        size_t d = gw_sendq_drop_ephemeral(q);
        if (b->kind == GW_BUF_EPH) d++;
        if (d) atomic_fetch_add(&gw_m.drops, d);
        if (b->kind == GW_BUF_EPH) return;
    }
    if (count >= gw.cfg.sendq_max || bytes >= gw.cfg.sendq_bytes) {
        gw_conn_close(c, 1013, "client too slow: send queue full");
        return;
    }
    if (gw_sendq_push(q, b) < 0) {
        gw_conn_close(c, 1011, "out of memory");
        return;
    }
    if (b->kind == GW_BUF_PRESENCE) c->presence_queued++;
    if (c->synced) lws_callback_on_writable(c->wsi);
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

/* ---- presence ---- */

static void presence_publish(gw_board *b, bool leaving)
{
    Wb__V1__Live l = WB__V1__LIVE__INIT;
    Wb__V1__Presence p = WB__V1__PRESENCE__INIT;
    Wb__V1__PresenceClient *items = calloc(b->nconns ? b->nconns : 1, sizeof *items);
    Wb__V1__PresenceClient **ptrs = calloc(b->nconns ? b->nconns : 1, sizeof *ptrs);
    if (!items || !ptrs) goto out;
    size_t n = 0;
    for (gw_conn *c = b->conns; c && !leaving; c = c->bnext) {
        if (!c->synced || c->closing) continue;
        wb__v1__presence_client__init(&items[n]);
        items[n].id = c->client_id;
        items[n].name = c->name;
        items[n].color = c->color;
        ptrs[n] = &items[n];
        n++;
    }
    p.clients = ptrs;
    p.n_clients = n;
    p.ttl_ms = (uint32_t)(gw.cfg.presence_interval_ms * 3);
    p.leaving = leaving;
    l.board = b->id;
    l.gateway = (char *)gw.cfg.gateway_id;
    l.time_ms = gw_wall_ms();
    l.body_case = WB__V1__LIVE__BODY_PRESENCE;
    l.presence = &p;
    size_t len = wb__v1__live__get_packed_size(&l);
    uint8_t *buf = malloc(len ? len : 1);
    if (buf) {
        wb__v1__live__pack(&l, buf);
        gw_nats_publish_live(b->id, buf, len);
        free(buf);
    }
out:
    free(items);
    free(ptrs);
}

static void presence_send_local(gw_board *b)
{
    wb_jw w;
    wb_jw_init(&w, GW_BUF_HEAD, 256);
    wb_jw_lit(&w, "{\"t\":\"presence\",\"clients\":[");
    bool first = true;
    for (gw_conn *c = b->conns; c; c = c->bnext) {
        if (!c->synced || c->closing) continue;
        if (!first) wb_jw_char(&w, ',');
        first = false;
        wb_jw_presence_client(&w, c->client_id, c->name, c->color);
    }
    for (size_t i = 0; i < b->nremotes; i++) {
        if (!b->remotes[i].clients_json || !*b->remotes[i].clients_json) continue;
        if (!first) wb_jw_char(&w, ',');
        first = false;
        wb_jw_lit(&w, b->remotes[i].clients_json);
    }
    wb_jw_lit(&w, "]}");
    gw_buf *buf = gw_buf_from_jw(&w, GW_BUF_PRESENCE, 0);
    if (!buf) return;
    for (gw_conn *c = b->conns; c; c = c->bnext)
        if (c->synced) gw_conn_send(c, buf);
    gw_buf_unref(buf);
    b->presence_dirty = false;
}

static void mark_dirty(gw_board *b, bool publish)
{
    b->presence_dirty = true;
    if (publish) b->presence_pub = true;
    if (!b->in_dirty) {
        b->in_dirty = true;
        b->dirty_next = g_dirty;
        g_dirty = b;
    }
}

/* Local membership changed: tell the other gateways and the local clients,
 * once per event batch however many clients joined or left. */
static void presence_changed(gw_board *b)
{
    mark_dirty(b, true);
}

static void handle_presence(gw_board *b, gw_event *e)
{
    int64_t now = gw_now_us();
    gw_remote *r = NULL;
    for (size_t i = 0; i < b->nremotes; i++)
        if (!strcmp(b->remotes[i].gateway, e->gateway)) r = &b->remotes[i];
    if (e->leaving) {
        if (r) {
            free(r->clients_json);
            *r = b->remotes[--b->nremotes];
            mark_dirty(b, false);
        }
        return;
    }
    if (!r) {
        gw_remote *nr = realloc(b->remotes, (b->nremotes + 1) * sizeof *nr);
        if (!nr) return;
        b->remotes = nr;
        r = &b->remotes[b->nremotes++];
        memset(r, 0, sizeof *r);
        snprintf(r->gateway, sizeof r->gateway, "%s", e->gateway);
        mark_dirty(b, false);
        presence_publish(b, false); /* let the newcomer gateway see us at once */
    }
    const char *nj = e->presence_json ? e->presence_json : "";
    if (!r->clients_json || strcmp(r->clients_json, nj)) {
        free(r->clients_json);
        r->clients_json = strdup(nj);
        mark_dirty(b, false);
    }
    r->expires_us = now + (int64_t)e->ttl_ms * 1000;
}

/* ---- membership ---- */

void gw_board_attach(gw_board *b, gw_conn *c)
{
    c->board = b;
    c->bprev = NULL;
    c->bnext = b->conns;
    if (b->conns) b->conns->bprev = c;
    b->conns = c;
    b->nconns++;
}

void gw_board_detach(gw_conn *c)
{
    gw_board *b = c->board;
    if (!b) return;
    if (c->bprev)
        c->bprev->bnext = c->bnext;
    else
        b->conns = c->bnext;
    if (c->bnext) c->bnext->bprev = c->bprev;
    c->board = NULL;
    b->nconns--;
    if (!b->nconns) {
        presence_publish(b, true);
        board_destroy(b);
    } else if (c->synced) {
        presence_changed(b);
    }
}

/* ---- ordered delivery ---- */

static void deliver(gw_board *b, gw_buf *buf, uint64_t seq)
{
    b->last_seq = seq;
    b->known = true;
    if (!buf) return;
    for (gw_conn *c = b->conns; c; c = c->bnext)
        gw_conn_send(c, buf);
}

static void hold(gw_board *b, gw_buf *buf, uint64_t seq)
{
    if (!buf) {
        buf = gw_buf_printf(GW_BUF_EV, " "); /* placeholder keeps the seq moving */
        if (!buf) return;
        buf->len = 0;
    } else {
        gw_buf_ref(buf);
    }
    buf->seq = seq;
    if (b->nheld == b->capheld) {
        size_t nc = b->capheld ? b->capheld * 2 : 16;
        gw_buf **nh = realloc(b->held, nc * sizeof *nh);
        if (!nh) {
            gw_buf_unref(buf);
            return;
        }
        b->held = nh;
        b->capheld = nc;
    }
    size_t i = b->nheld;
    while (i > 0 && b->held[i - 1]->seq > seq) {
        b->held[i] = b->held[i - 1];
        i--;
    }
    b->held[i] = buf;
    b->nheld++;
}

static void start_fill(gw_board *b, uint64_t to)
{
    b->filling = true;
    atomic_fetch_add(&gw_m.gaps, 1);
    gw_sync_submit(GW_TASK_FILL, b->id, 0, false, 0, b->last_seq, to);
}

/* One live op: deliver, drop as duplicate, or hold behind a gap. */
static void board_op(gw_board *b, gw_buf *buf, uint64_t seq, uint64_t prev)
{
    if (b->filling) {
        hold(b, buf, seq);
        return;
    }
    if (b->known && seq <= b->last_seq) return;
    if (b->known && prev > b->last_seq) {
        wb_info("gap on board=%s: have %llu, next op %llu follows %llu", b->id,
                (unsigned long long)b->last_seq, (unsigned long long)seq, (unsigned long long)prev);
        hold(b, buf, seq);
        start_fill(b, prev);
        return;
    }
    deliver(b, buf, seq);
}

static void handle_fill(gw_board *b, gw_event *e)
{
    b->filling = false;
    for (size_t i = 0; i < e->nbufs; i++)
        if (e->bufs[i]->seq > b->last_seq) deliver(b, e->bufs[i], e->bufs[i]->seq);
    if (e->err == 0 && e->last_seq > b->last_seq) b->last_seq = e->last_seq;
    if (e->err) {
        wb_warn("gap fill failed on board=%s; retrying", b->id);
        start_fill(b, 0);
        return;
    }
    /* Release held ops: they are in seq order; each one's prev is unknown
     * now, but the fill reached at least up to the first of them. */
    size_t n = b->nheld;
    gw_buf **held = b->held;
    b->held = NULL;
    b->nheld = b->capheld = 0;
    for (size_t i = 0; i < n; i++) {
        gw_buf *h = held[i];
        if (h->seq > b->last_seq) deliver(b, h->len ? h : NULL, h->seq);
        gw_buf_unref(h);
    }
    free(held);
}

/* A join finished: welcome, then the snapshot or replay, then what was
 * queued meanwhile (live ops deduplicated by seq). */
static void submit_board_join(gw_board *b)
{
    free(b->inflight);
    b->inflight = b->waiting;
    b->ninflight = b->nwaiting;
    b->waiting = NULL;
    b->nwaiting = b->capwaiting = 0;
    b->join_inflight = true;
    b->join_gen++;
    gw_sync_submit(GW_TASK_JOIN, b->id, 0, false, 0, 0, b->join_gen);
}

void gw_board_join_wait(gw_board *b, gw_conn *c)
{
    if (b->nwaiting == b->capwaiting) {
        size_t nc = b->capwaiting ? b->capwaiting * 2 : 8;
        uint64_t *nw = realloc(b->waiting, nc * sizeof *nw);
        if (!nw) {
            c->synced = true;
            gw_conn_close(c, 1011, "out of memory");
            return;
        }
        b->waiting = nw;
        b->capwaiting = nc;
    }
    b->waiting[b->nwaiting++] = c->serial;
    if (!b->join_inflight) submit_board_join(b);
}

static void serve_join(gw_conn *c, gw_event *e);

/* A join task finished: for one client (since), or for a board's batch. */
static void handle_join(gw_event *e)
{
    if (e->conn) {
        gw_conn *c = gw_conn_find(e->conn);
        if (c && !c->closing && !c->synced) serve_join(c, e);
        return;
    }
    gw_board *b = gw_board_get(e->board, false);
    if (!b || !b->join_inflight || e->last_seq != b->join_gen) return; /* a stale board's task */
    uint64_t *batch = b->inflight;
    size_t n = b->ninflight;
    b->inflight = NULL;
    b->ninflight = 0;
    b->join_inflight = false;
    if (b->nwaiting) submit_board_join(b);
    for (size_t i = 0; i < n; i++) {
        gw_conn *c = gw_conn_find(batch[i]);
        if (c && !c->closing && !c->synced) serve_join(c, e);
    }
    free(batch);
}

static void serve_join(gw_conn *c, gw_event *e)
{
    if (e->err) {
        gw_conn_send_error(c, WB_E_UNAVAILABLE, NULL, "the board could not be loaded; retry");
        c->synced = true;
        lws_callback_on_writable(c->wsi);
        gw_conn_close(c, 1013, "join failed");
        return;
    }
    gw_board *b = c->board;
    gw_sendq old = c->q;
    memset(&c->q, 0, sizeof c->q);
    gw_buf *wel =
        gw_buf_printf(GW_BUF_CTL,
                      "{\"t\":\"welcome\",\"board\":\"%s\",\"client\":\"%s\",\"gateway\":\"%s\","
                      "\"seq\":%llu,\"resumed\":%s}",
                      c->board_id, c->client_id, gw.cfg.gateway_id, (unsigned long long)e->seq,
                      e->resumed ? "true" : "false");
    c->synced = true;
    /* What the client asked for (welcome, snapshot or replay) is exempt from
     * the send-queue bounds: a long replay must not close it with 1013. */
    bool ok = wel && gw_sendq_push(&c->q, wel) == 0;
    gw_buf_unref(wel);
    if (ok && e->buf) ok = gw_sendq_push(&c->q, e->buf) == 0;
    c->last_seq = e->resumed ? c->since : e->seq;
    for (size_t i = 0; ok && i < e->nbufs; i++) {
        if (e->bufs[i]->seq <= c->last_seq) continue;
        c->last_seq = e->bufs[i]->seq;
        ok = gw_sendq_push(&c->q, e->bufs[i]) == 0;
    }
    if (!ok) {
        gw_sendq_free(&old);
        gw_conn_close(c, 1011, "out of memory");
        return;
    }
    c->sync_items = c->q.count;
    c->sync_bytes = c->q.bytes;
    if (c->last_seq < e->seq) c->last_seq = e->seq;
    gw_buf *x;
    while ((x = gw_sendq_pop(&old))) {
        gw_conn_send(c, x);
        gw_buf_unref(x);
    }
    gw_sendq_free(&old);
    if (b && !b->known && !b->filling) {
        /* The board learns its position from the first join. */
        b->last_seq = e->seq;
        b->known = true;
    }
    if (b) presence_changed(b);
    lws_callback_on_writable(c->wsi);
}

void gw_board_pending_add(const char *board, const char *op_id, uint64_t conn, const uint8_t *data,
                          size_t len)
{
    char key[2 * WB_ID_MAX + 2];
    size_t n = (size_t)snprintf(key, sizeof key, "%s/%s", board, op_id);
    gw_pending *p = wb_map_get(&g_pending, key, n);
    if (!p) {
        if (!(p = calloc(1, sizeof *p))) return;
        p->t0_us = gw_now_us();
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

static void handle_puback(gw_event *e)
{
    char key[2 * WB_ID_MAX + 2];
    size_t n = (size_t)snprintf(key, sizeof key, "%s/%s", e->board, e->op_id);
    if (e->type == GW_EV_REPUBLISH || (e->dup && !e->err)) {
        gw_pending *q = wb_map_get(&g_pending, key, n);
        if (!q) return;
        if (e->type == GW_EV_PUBACK && !q->republished) {
            /* JetStream had this msg id: a resend of this board's op, or the
             * same op id used on another board? The sync pool looks. */
            gw_sync_submit_dupcheck(e->board, e->op_id, e->seq);
            return;
        }
        if (e->type == GW_EV_REPUBLISH) {
            q->republished = true;
            int rc = q->data ? gw_nats_republish_op(e->board, e->op_id, q->data, q->len)
                             : WB_E_UNAVAILABLE;
            if (rc == 0) return;
            e->err = rc; /* fall through: tell the clients */
        }
    }
    gw_pending *p = wb_map_del(&g_pending, key, n);
    if (!p) return;
    if (!e->err) {
        atomic_fetch_add(&gw_m.ops_acked, 1);
        gw_metrics_observe_pub(gw_now_us() - p->t0_us);
    }
    for (size_t i = 0; i < p->n; i++) {
        gw_conn *c = gw_conn_find(p->conns[i]);
        if (!c) continue;
        if (e->err) {
            gw_conn_send_error(c, WB_E_UNAVAILABLE, e->op_id, "the op was not stored; resend it");
        } else {
            gw_buf *b = gw_buf_printf(GW_BUF_CTL, "{\"t\":\"ack\",\"op\":\"%s\",\"seq\":%llu}",
                                      e->op_id, (unsigned long long)e->seq);
            gw_conn_send(c, b);
            gw_buf_unref(b);
        }
    }
    pending_free(p);
}

void gw_board_fanout_local_live(gw_board *b, gw_conn *from, gw_buf *buf)
{
    for (gw_conn *c = b->conns; c; c = c->bnext)
        if (c != from && c->synced) gw_conn_send(c, buf);
}

void gw_board_handle_event(gw_event *e)
{
    gw_board *b;
    switch (e->type) {
    case GW_EV_OP:
        if ((b = gw_board_get(e->board, false))) board_op(b, e->buf, e->seq, e->last_seq);
        break;
    case GW_EV_LIVE:
        if ((b = gw_board_get(e->board, false)) && e->buf)
            for (gw_conn *c = b->conns; c; c = c->bnext)
                if (c->synced) gw_conn_send(c, e->buf);
        break;
    case GW_EV_PRESENCE:
        if ((b = gw_board_get(e->board, false))) handle_presence(b, e);
        break;
    case GW_EV_PUBACK:
    case GW_EV_REPUBLISH:
        handle_puback(e);
        break;
    case GW_EV_JOIN:
        handle_join(e);
        break;
    case GW_EV_API:
        gw_http_api_done(e);
        break;
    case GW_EV_FILL:
        if ((b = gw_board_get(e->board, false))) handle_fill(b, e);
        break;
    case GW_EV_NATS:
        if (e->nats_state) gw_boards_resync_all();
        break;
    }
}

/* After a NATS (re)connect: fetch whatever each board missed. */
void gw_boards_resync_all(void)
{
    for (size_t i = 0; i < g_boards.cap; i++) {
        gw_board *b = g_boards.slots[i].key ? g_boards.slots[i].val : NULL;
        if (b && b->known && !b->filling) start_fill(b, 0);
        if (b) presence_publish(b, false);
    }
}

/* Once per presence interval: heartbeats, expiry, pending-ack timeouts. */
void gw_board_tick(int64_t now_us)
{
    for (size_t i = 0; i < g_boards.cap; i++) {
        gw_board *b = g_boards.slots[i].key ? g_boards.slots[i].val : NULL;
        if (!b) continue;
        presence_publish(b, false);
        for (size_t k = 0; k < b->nremotes;) {
            if (b->remotes[k].expires_us < now_us) {
                free(b->remotes[k].clients_json);
                b->remotes[k] = b->remotes[--b->nremotes];
                mark_dirty(b, false);
            } else {
                k++;
            }
        }
        if (b->presence_dirty) presence_send_local(b);
    }
    /* Publishes unanswered for 10 s: tell the clients to resend. */
    for (size_t i = 0; i < g_pending.cap; i++) {
        if (!g_pending.slots[i].key) continue;
        gw_pending *p = g_pending.slots[i].val;
        if (now_us - p->t0_us < 10 * 1000000LL) continue;
        char key[2 * WB_ID_MAX + 2];
        snprintf(key, sizeof key, "%s", g_pending.slots[i].key);
        char *slash = strchr(key, '/');
        gw_event ev = {.type = GW_EV_PUBACK, .err = WB_E_UNAVAILABLE};
        if (slash) {
            *slash = 0;
            memcpy(ev.board, key, strnlen(key, WB_ID_MAX));
            memcpy(ev.op_id, slash + 1, strnlen(slash + 1, WB_ID_MAX));
            handle_puback(&ev);
            i = (size_t)-1; /* the table changed: rescan */
        }
    }
}

/* Presence changes are sent at once, not only on the tick. */
#define PRESENCE_MIN_GAP_US 250000

static lws_sorted_usec_list_t g_presence_sul;
static bool g_presence_sul_armed;

static void presence_timer(lws_sorted_usec_list_t *sul)
{
    g_presence_sul_armed = false;
    gw_boards_flush_presence();
}

/* Sends the changed presence lists. A board's clients get a new list at most
 * every 250 ms (joins and leaves in between are coalesced), so a board that
 * fills up with n clients costs O(n) presence frames per client, not O(n^2). */
void gw_boards_flush_presence(void)
{
    int64_t now = gw_now_us();
    gw_board *b = g_dirty, *later = NULL;
    g_dirty = NULL;
    while (b) {
        gw_board *next = b->dirty_next;
        if (b->presence_pub) presence_publish(b, false);
        b->presence_pub = false;
        if (b->presence_dirty && now - b->presence_sent_us < PRESENCE_MIN_GAP_US) {
            b->dirty_next = later; /* stays on the list */
            later = b;
        } else {
            b->in_dirty = false;
            b->dirty_next = NULL;
            if (b->presence_dirty) {
                presence_send_local(b);
                b->presence_sent_us = now;
            }
        }
        b = next;
    }
    g_dirty = later;
    if (later && !g_presence_sul_armed && gw.ctx) {
        g_presence_sul_armed = true;
        lws_sul_schedule(gw.ctx, 0, &g_presence_sul, presence_timer, PRESENCE_MIN_GAP_US / 2);
    }
}

void gw_boards_close_all(int code, const char *why)
{
    for (size_t i = 0; i < g_conns.cap; i++) {
        gw_conn *c = g_conns.slots[i].key ? g_conns.slots[i].val : NULL;
        if (c && c->kind == GW_CONN_WS) {
            c->synced = true;
            gw_conn_close(c, code, why);
        }
    }
    for (size_t i = 0; i < g_boards.cap; i++) {
        gw_board *b = g_boards.slots[i].key ? g_boards.slots[i].val : NULL;
        if (b) presence_publish(b, true);
    }
}
