/* gw_sendq: one client's send queue and the send policy (drop ephemeral
 * frames at half the bound, 1013 at the bound, newest presence list and
 * newest cursor per sender only). All of a queue's accounting lives here. */
#include "gw_sendq.h"

#include <stdlib.h>
#include <string.h>

/* How far back from the tail a queued cursor of the same sender is looked
 * for: bounds the cost of a push on a long queue. */
#define CURSOR_LOOKBACK 64

static gw_buf **slot(const gw_sendq *q, size_t i)
{
    return &q->items[(q->head + i) % q->cap];
}

static void account_out(gw_sendq *q, const gw_buf *b)
{
    q->bytes -= b->len;
    if (b->kind == GW_BUF_PRESENCE && q->presence_queued) q->presence_queued--;
    if (b->kind == GW_BUF_CURSOR && q->cursors_queued) q->cursors_queued--;
    if (b->kind == GW_BUF_CTL && q->ctl_queued) q->ctl_queued--;
}

int gw_sendq_push(gw_sendq *q, gw_buf *b)
{
    if (q->count == q->cap) {
        size_t nc = q->cap ? q->cap * 2 : 8;
        gw_buf **ni = malloc(nc * sizeof *ni);
        if (!ni) return -1;
        for (size_t i = 0; i < q->count; i++)
            ni[i] = *slot(q, i);
        free(q->items);
        q->items = ni;
        q->cap = nc;
        q->head = 0;
    }
    *slot(q, q->count) = gw_buf_ref(b);
    q->count++;
    q->bytes += b->len;
    if (b->kind == GW_BUF_PRESENCE) q->presence_queued++;
    if (b->kind == GW_BUF_CURSOR) q->cursors_queued++;
    if (b->kind == GW_BUF_CTL) q->ctl_queued++;
    return 0;
}

void gw_sendq_mark_sync(gw_sendq *q)
{
    q->sync_items = q->count;
    q->sync_bytes = q->bytes;
}

gw_buf *gw_sendq_peek(const gw_sendq *q, size_t i)
{
    return i < q->count ? *slot(q, i) : NULL;
}

gw_buf *gw_sendq_pop(gw_sendq *q)
{
    if (!q->count) return NULL;
    gw_buf *b = q->items[q->head];
    q->head = (q->head + 1) % q->cap;
    q->count--;
    account_out(q, b);
    if (q->sync_items) {
        q->sync_items--;
        q->sync_bytes -= b->len;
    }
    return b;
}

/* Removes the frames for which drop() says so, outside the sync head. */
static size_t drop_if(gw_sendq *q, int kind, bool ephemeral)
{
    size_t kept = q->sync_items, dropped = 0, n = q->count;
    for (size_t i = q->sync_items; i < n; i++) {
        gw_buf *b = *slot(q, i);
        if (ephemeral ? gw_buf_ephemeral(b) : b->kind == kind) {
            account_out(q, b);
            gw_buf_unref(b);
            dropped++;
        } else {
            *slot(q, kept) = b;
            kept++;
        }
    }
    q->count = kept;
    return dropped;
}

size_t gw_sendq_drop_kind(gw_sendq *q, int kind)
{
    return drop_if(q, kind, false);
}

size_t gw_sendq_drop_ephemeral(gw_sendq *q)
{
    return drop_if(q, 0, true);
}

/* Removes a queued cursor of the same sender near the tail; 1 if one was. */
static int drop_older_cursor(gw_sendq *q, const gw_buf *b)
{
    size_t lo = q->count > CURSOR_LOOKBACK ? q->count - CURSOR_LOOKBACK : 0;
    if (lo < q->sync_items) lo = q->sync_items;
    for (size_t i = q->count; i-- > lo;) {
        gw_buf *o = *slot(q, i);
        if (o->kind != GW_BUF_CURSOR || strcmp(o->from, b->from)) continue;
        for (size_t k = i; k + 1 < q->count; k++)
            *slot(q, k) = *slot(q, k + 1);
        q->count--;
        account_out(q, o);
        gw_buf_unref(o);
        return 1;
    }
    return 0;
}

gw_sendq_result gw_sendq_offer(gw_sendq *q, gw_buf *b, const gw_sendq_limits *lim,
                               gw_sendq_stats *st)
{
    if (b->kind == GW_BUF_PRESENCE && q->presence_queued) gw_sendq_drop_kind(q, GW_BUF_PRESENCE);
    if (b->kind == GW_BUF_CURSOR && q->cursors_queued && drop_older_cursor(q, b)) st->coalesced++;
    size_t count = q->count - q->sync_items, bytes = q->bytes - q->sync_bytes;
    if (count >= lim->max_items / 2 || bytes >= lim->max_bytes / 2) {
        /* Under pressure: ephemeral frames go first. */
        st->dropped += gw_sendq_drop_ephemeral(q);
        if (gw_buf_ephemeral(b)) {
            st->dropped++;
            return GW_SENDQ_DROPPED;
        }
        count = q->count - q->sync_items;
        bytes = q->bytes - q->sync_bytes;
    }
    if (count >= lim->max_items || bytes >= lim->max_bytes) return GW_SENDQ_FULL;
    return gw_sendq_push(q, b) == 0 ? GW_SENDQ_QUEUED : GW_SENDQ_NOMEM;
}

void gw_sendq_free(gw_sendq *q)
{
    gw_buf *b;
    while ((b = gw_sendq_pop(q)))
        gw_buf_unref(b);
    free(q->items);
    memset(q, 0, sizeof *q);
}
