/* gw_buf: reference-counted outgoing frames and the per-client send queue.
 * Buffers may be built on any thread, but once handed to the lws thread
 * (through the event queue) only the lws thread touches their counts. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"

gw_buf *gw_buf_from_jw(wb_jw *w, int kind, uint64_t seq)
{
    if (w->oom || !w->buf) {
        wb_jw_free(w);
        return NULL;
    }
    size_t len = w->len;
    gw_buf *b = (gw_buf *)wb_jw_take(w);
    b->refs = 1;
    b->kind = (uint8_t)kind;
    b->seq = seq;
    b->len = len;
    return b;
}

gw_buf *gw_buf_printf(int kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    gw_buf *b = malloc(GW_BUF_HEAD + (size_t)n + 1);
    if (!b) return NULL;
    va_start(ap, fmt);
    vsnprintf(gw_buf_text(b), (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->refs = 1;
    b->kind = (uint8_t)kind;
    b->seq = 0;
    b->len = (size_t)n;
    return b;
}

void gw_buf_unref(gw_buf *b)
{
    if (b && --b->refs == 0) free(b);
}

int gw_sendq_push(gw_sendq *q, gw_buf *b)
{
    if (q->count == q->cap) {
        size_t nc = q->cap ? q->cap * 2 : 8;
        gw_buf **ni = malloc(nc * sizeof *ni);
        if (!ni) return -1;
        for (size_t i = 0; i < q->count; i++)
            ni[i] = q->items[(q->head + i) % q->cap];
        free(q->items);
        q->items = ni;
        q->cap = nc;
        q->head = 0;
    }
    q->items[(q->head + q->count) % q->cap] = gw_buf_ref(b);
    q->count++;
    q->bytes += b->len;
    return 0;
}

gw_buf *gw_sendq_peek(gw_sendq *q, size_t i)
{
    return i < q->count ? q->items[(q->head + i) % q->cap] : NULL;
}

gw_buf *gw_sendq_pop(gw_sendq *q)
{
    if (!q->count) return NULL;
    gw_buf *b = q->items[q->head];
    q->head = (q->head + 1) % q->cap;
    q->count--;
    q->bytes -= b->len;
    return b;
}

size_t gw_sendq_drop_ephemeral(gw_sendq *q)
{
    return gw_sendq_drop_kind(q, GW_BUF_EPH);
}

size_t gw_sendq_drop_kind(gw_sendq *q, int kind)
{
    size_t kept = 0, dropped = 0, n = q->count;
    for (size_t i = 0; i < n; i++) {
        gw_buf *b = q->items[(q->head + i) % q->cap];
        if (b->kind == kind) {
            q->bytes -= b->len;
            gw_buf_unref(b);
            dropped++;
        } else {
            q->items[(q->head + kept) % q->cap] = b;
            kept++;
        }
    }
    q->count = kept;
    return dropped;
}

void gw_sendq_free(gw_sendq *q)
{
    gw_buf *b;
    while ((b = gw_sendq_pop(q)))
        gw_buf_unref(b);
    free(q->items);
    memset(q, 0, sizeof *q);
}
