/* gw_buf: reference-counted outgoing frames (see gw_buf.h for who owns the
 * counts). */
#include "gw_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    b->from[0] = 0;
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
    b->from[0] = 0;
    return b;
}

void gw_buf_set_cursor(gw_buf *b, const char *from)
{
    b->kind = GW_BUF_CURSOR;
    snprintf(b->from, sizeof b->from, "%s", from);
}

void gw_buf_unref(gw_buf *b)
{
    if (b && --b->refs == 0) free(b);
}
