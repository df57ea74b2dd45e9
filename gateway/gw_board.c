/* gw_board: boards with local clients: membership, ordered delivery of
 * stored ops, gap fills and joins. Loop thread only; owns the boards map.
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
#include "wb_clock.h"
#include "wb_log.h"

/* A failed gap fill is retried after 100 ms, doubling up to 5 s: never a
 * busy loop while JetStream is unavailable, and quick once it is back. */
#define FILL_RETRY_MIN_MS 100
#define FILL_RETRY_MAX_MS 5000

static wb_map g_boards; /* id -> gw_board* */

size_t gw_board_count(void)
{
    return g_boards.count;
}

void gw_boards_foreach(void (*fn)(gw_board *b, void *arg), void *arg)
{
    wb_map_iter it;
    wb_map_entry e;
    for (wb_map_iter_init(&it, &g_boards); wb_map_next(&it, &e);)
        fn(e.val, arg);
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
    gw_presence_forget(b);
    wb_map_del(&g_boards, b->id, strlen(b->id));
    gw_nats_board_unsubscribe(b);
    for (size_t i = 0; i < b->nheld; i++)
        gw_buf_unref(b->held[i]);
    free(b->held);
    free(b->waiting);
    free(b->inflight);
    free(b);
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
        gw_presence_publish(b, true);
        board_destroy(b);
    } else if (c->synced) {
        gw_presence_changed(b);
    }
}

void gw_board_fanout_live(gw_board *b, gw_conn *from, gw_buf *buf)
{
    for (gw_conn *c = b->conns; c; c = c->bnext)
        if (c != from && c->synced) gw_conn_send(c, buf);
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
    b->fill_retry_at_ms = 0;
    atomic_fetch_add(&gw_m.gaps, 1);
    gw_sync_fill(b->id, b->last_seq, to);
}

/* ---- fill retries: one timer for every board ---- */

static gw_timer *g_fill_timer;
static int64_t g_fill_timer_at; /* when g_fill_timer fires (0: not armed) */

static void arm_fill_timer(int64_t at, int64_t now)
{
    if (g_fill_timer_at && g_fill_timer_at <= at) return;
    g_fill_timer_at = at;
    gw_timer_start(g_fill_timer, at - now);
}

/* Timer: starts the retries that are due, re-arms for the next one. */
static void fill_retry_due(void)
{
    int64_t now = wb_mono_ms(), next = 0;
    g_fill_timer_at = 0;
    wb_map_iter it;
    wb_map_entry e;
    for (wb_map_iter_init(&it, &g_boards); wb_map_next(&it, &e);) {
        gw_board *b = e.val;
        if (!b->fill_retry_at_ms) continue;
        if (b->fill_retry_at_ms <= now)
            start_fill(b, 0);
        else if (!next || b->fill_retry_at_ms < next)
            next = b->fill_retry_at_ms;
    }
    if (next) arm_fill_timer(next, now);
}

/* A fill failed: keep holding live ops, try again after the backoff. */
static void schedule_fill_retry(gw_board *b)
{
    b->fill_backoff_ms = b->fill_backoff_ms ? b->fill_backoff_ms * 2 : FILL_RETRY_MIN_MS;
    if (b->fill_backoff_ms > FILL_RETRY_MAX_MS) b->fill_backoff_ms = FILL_RETRY_MAX_MS;
    if (!g_fill_timer && !(g_fill_timer = gw_timer_create(fill_retry_due))) {
        start_fill(b, 0); /* no timer: retry at once rather than never */
        return;
    }
    int64_t now = wb_mono_ms();
    b->filling = true;
    b->fill_retry_at_ms = now + b->fill_backoff_ms;
    arm_fill_timer(b->fill_retry_at_ms, now);
}

/* One live op: deliver, drop as duplicate, or hold behind a gap. */
void gw_board_on_op(const gw_ev_op *e)
{
    gw_board *b = gw_board_get(e->board, false);
    if (!b) return;
    if (b->filling) {
        hold(b, e->buf, e->seq);
        return;
    }
    if (b->known && e->seq <= b->last_seq) return;
    if (b->known && e->prev > b->last_seq) {
        wb_info("gap on board=%s: have %llu, next op %llu follows %llu", b->id,
                (unsigned long long)b->last_seq, (unsigned long long)e->seq,
                (unsigned long long)e->prev);
        hold(b, e->buf, e->seq);
        start_fill(b, e->prev);
        return;
    }
    deliver(b, e->buf, e->seq);
}

void gw_board_on_fill(const gw_ev_fill *e)
{
    gw_board *b = gw_board_get(e->board, false);
    if (!b) return;
    b->filling = false;
    for (size_t i = 0; i < e->nevs; i++)
        if (e->evs[i]->seq > b->last_seq) deliver(b, e->evs[i], e->evs[i]->seq);
    if (e->err == 0 && e->to > b->last_seq) b->last_seq = e->to;
    if (e->err) {
        atomic_fetch_add(&gw_m.fill_failures, 1);
        schedule_fill_retry(b);
        wb_warn("gap fill failed on board=%s; retrying in %lld ms", b->id,
                (long long)b->fill_backoff_ms);
        return;
    }
    b->fill_backoff_ms = 0;
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

void gw_boards_resync_all(void)
{
    wb_map_iter it;
    wb_map_entry e;
    for (wb_map_iter_init(&it, &g_boards); wb_map_next(&it, &e);) {
        gw_board *b = e.val;
        /* A retry waiting out its backoff runs now: NATS is back. */
        if (b->known && (!b->filling || b->fill_retry_at_ms)) start_fill(b, 0);
        gw_presence_publish(b, false);
    }
}

/* ---- joins ---- */

static void submit_board_join(gw_board *b)
{
    free(b->inflight);
    b->inflight = b->waiting;
    b->ninflight = b->nwaiting;
    b->waiting = NULL;
    b->nwaiting = b->capwaiting = 0;
    b->join_inflight = true;
    b->join_gen++;
    gw_sync_join(b->id, 0, false, 0, b->join_gen);
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

/* A join finished for c: welcome, then the snapshot or replay, then what was
 * queued meanwhile (live ops deduplicated by seq). */
static void serve_join(gw_conn *c, const gw_ev_join *e)
{
    if (e->err) {
        /* welcome is always the first message (docs/protocol.md §3): a join
         * that fails before it is only a close, its reason in the close frame. */
        c->synced = true;
        lws_callback_on_writable(c->wsi);
        gw_conn_close(c, 1013, "the board could not be loaded; retry");
        return;
    }
    /* docs/protocol.md §9: a viewer is told its view id as the board, never
     * the board id; an editor gets the view id (one per batch, computed once). */
    static char last_board[WB_ID_MAX + 1], last_view[GW_VIEW_LEN + 1];
    char view[GW_VIEW_LEN + 1] = "";
    if (!c->viewer) {
        if (strcmp(last_board, c->board_id) || !last_view[0]) {
            gw_view_id(c->board_id, last_view);
            snprintf(last_board, sizeof last_board, "%s", c->board_id);
        }
        memcpy(view, last_view, sizeof view);
    }
    gw_buf *wel = gw_buf_printf(
        GW_BUF_CTL,
        "{\"t\":\"welcome\",\"board\":\"%s\",\"client\":\"%s\",\"gateway\":\"%s\","
        "\"seq\":%llu,\"resumed\":%s,\"role\":\"%s\"%s%s%s}",
        c->viewer ? c->view_id : c->board_id, c->client_id, gw.cfg.gateway_id,
        (unsigned long long)e->seq, e->resumed ? "true" : "false", c->viewer ? "viewer" : "editor",
        view[0] ? ",\"view\":\"" : "", view, view[0] ? "\"" : "");
    gw_conn_start(c, wel, e->snapshot, e->evs, e->nevs, e->seq, e->resumed, e->more);
    gw_buf_unref(wel);
    gw_board *b = c->board;
    if (b && !b->known && !b->filling) {
        /* The board learns its position from the first join. */
        b->last_seq = e->seq;
        b->known = true;
    }
    if (b) gw_presence_changed(b);
}

void gw_board_on_join(const gw_ev_join *e)
{
    if (e->conn) {
        gw_conn *c = gw_conn_find(e->conn);
        if (!c || c->closing || c->synced) return;
        if (e->want_snapshot && c->board)
            gw_board_join_wait(c->board, c);
        else
            serve_join(c, e);
        return;
    }
    gw_board *b = gw_board_get(e->board, false);
    if (!b || !b->join_inflight || e->gen != b->join_gen) return; /* a stale board's task */
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

/* ---- paced replays and clients that do not read ---- */

void gw_board_on_replay(const gw_ev_replay *e)
{
    gw_conn *c = gw_conn_find(e->conn);
    if (!c || c->closing || !c->replaying) return;
    c->replay_inflight = false;
    if (e->err) {
        gw_conn_close(c, 1013, "replay failed; resume again");
        return;
    }
    gw_conn_replay_chunk(c, e->evs, e->nevs);
    if (c->closing) return;
    if (!e->more) {
        if (c->last_seq < e->seq) c->last_seq = e->seq;
        /* Live ops delivered to the board meanwhile were not queued for this
         * client: one more round if the board is ahead. */
        if (!c->board || !c->board->known || c->last_seq >= c->board->last_seq)
            c->replaying = false;
    }
    gw_board_replay_more(c);
}

void gw_board_replay_more(gw_conn *c)
{
    if (!c->replaying || c->replay_inflight || c->closing) return;
    if ((long long)c->q.bytes > gw.cfg.replay_chunk_bytes / 2 ||
        (long long)c->q.count > gw.cfg.sendq_max / 4)
        return;
    c->replay_inflight = true;
    gw_sync_replay(c->board_id, c->serial, c->last_seq);
}

static void close_stalled(gw_board *b, void *arg)
{
    int64_t now_us = *(int64_t *)arg, limit = gw.cfg.idle_timeout_s * 1000000LL;
    for (gw_conn *c = b->conns; c; c = c->bnext) {
        if (!c->synced || c->closing || !c->q.count || now_us - c->progress_us < limit) continue;
        atomic_fetch_add(&gw_m.closes_stalled, 1);
        gw_conn_close(c, 1013, "client does not read");
    }
}

void gw_boards_close_stalled(int64_t now_us)
{
    gw_boards_foreach(close_stalled, &now_us);
}
