/* wb_jw: a small append-only JSON writer into a growable buffer.
 *
 * Output of the hot path (ev, draft, cursor, presence, snapshot) is written
 * with it instead of building jansson trees: one pass, no per-value malloc.
 * The buffer may reserve `head` bytes in front of the text (libwebsockets
 * needs LWS_PRE bytes before a frame). Single-threaded per writer. */
#ifndef WB_JW_H
#define WB_JW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct wb_jw {
    char *buf;   /* owned; text starts at buf + head */
    size_t head; /* reserved bytes before the text */
    size_t len;  /* text length */
    size_t cap;  /* allocated bytes after head */
    bool oom;    /* an allocation failed: the text is truncated */
} wb_jw;

void wb_jw_init(wb_jw *w, size_t head, size_t cap);
void wb_jw_free(wb_jw *w);
/* Empties the text, keeps the allocation. */
void wb_jw_reset(wb_jw *w);
/* Hands the allocation to the caller (buf, with head bytes in front). */
char *wb_jw_take(wb_jw *w);
static inline const char *wb_jw_text(const wb_jw *w)
{
    return w->buf + w->head;
}

void wb_jw_raw(wb_jw *w, const char *s, size_t n);
void wb_jw_lit(wb_jw *w, const char *s); /* raw NUL-terminated */
void wb_jw_char(wb_jw *w, char c);
/* A JSON string with quotes, escaping as needed. */
void wb_jw_str(wb_jw *w, const char *s, size_t n);
void wb_jw_cstr(wb_jw *w, const char *s);
void wb_jw_u64(wb_jw *w, uint64_t v);
void wb_jw_i64(wb_jw *w, int64_t v);
/* A number given in tenths: 105 -> 10.5, -3 -> -0.3, 40 -> 4. */
void wb_jw_tenths(wb_jw *w, int64_t t);
/* A finite double, shortest form that round-trips ("%.17g" fallback). */
void wb_jw_double(wb_jw *w, double d);
/* A finite float, shortest form that round-trips as a float (0.3f -> 0.3). */
void wb_jw_float(wb_jw *w, float f);

#endif
