/* gw_buf.h: reference-counted outgoing frames, built once and queued to
 * every client that gets them. Built on any thread; once handed to the loop
 * thread (through the mailbox) only the loop thread touches their counts. */
#ifndef GW_BUF_H
#define GW_BUF_H

#include <libwebsockets.h>
#include <stddef.h>
#include <stdint.h>

#include "wb_codec.h"
#include "wb_jw.h"

/* CTL: never dropped; EV: a durable op (dedup by seq); EPH: a draft, dropped
 * first under pressure, never coalesced; CURSOR: ephemeral, and a newer
 * cursor from the same sender replaces a queued older one; PRESENCE: a newer
 * list replaces a queued older one. */
enum { GW_BUF_CTL = 0, GW_BUF_EV = 1, GW_BUF_EPH = 2, GW_BUF_PRESENCE = 3, GW_BUF_CURSOR = 4 };
typedef struct gw_buf {
    uint32_t refs;
    uint8_t kind; /* GW_BUF_* */
    uint64_t seq; /* EV: its seq */
    size_t len;
    char from[WB_ID_MAX + 1]; /* CURSOR: the sender's client id */
    unsigned char data[];     /* LWS_PRE bytes, then len bytes of JSON, then NUL */
} gw_buf;

#define GW_BUF_HEAD (offsetof(gw_buf, data) + LWS_PRE)
static inline char *gw_buf_text(gw_buf *b)
{
    return (char *)b->data + LWS_PRE;
}
static inline int gw_buf_ephemeral(const gw_buf *b)
{
    return b->kind == GW_BUF_EPH || b->kind == GW_BUF_CURSOR;
}
/* Turns a writer initialised with wb_jw_init(w, GW_BUF_HEAD, ...) into a
 * buffer with one reference. NULL if the writer ran out of memory. */
gw_buf *gw_buf_from_jw(wb_jw *w, int kind, uint64_t seq);
gw_buf *gw_buf_printf(int kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Marks b as a cursor of sender from (coalescable). */
void gw_buf_set_cursor(gw_buf *b, const char *from);
static inline gw_buf *gw_buf_ref(gw_buf *b)
{
    b->refs++;
    return b;
}
void gw_buf_unref(gw_buf *b);

#endif
