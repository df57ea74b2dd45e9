/* wb_jw: JSON text writer (see wb_jw.h). No threads of its own. */
#include "wb_jw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void wb_jw_init(wb_jw *w, size_t head, size_t cap)
{
    memset(w, 0, sizeof *w);
    w->head = head;
    w->cap = cap ? cap : 256;
    w->buf = malloc(head + w->cap + 1);
    if (!w->buf) {
        w->oom = true;
        w->cap = 0;
    }
}

void wb_jw_free(wb_jw *w)
{
    free(w->buf);
    memset(w, 0, sizeof *w);
}

void wb_jw_reset(wb_jw *w)
{
    w->len = 0;
    w->oom = false;
}

char *wb_jw_take(wb_jw *w)
{
    char *b = w->buf;
    if (b) b[w->head + w->len] = 0;
    w->buf = NULL;
    w->cap = 0;
    return b;
}

static bool reserve(wb_jw *w, size_t n)
{
    if (w->oom) return false;
    if (w->len + n <= w->cap) return true;
    size_t cap = w->cap ? w->cap : 256;
    while (cap < w->len + n)
        cap *= 2;
    char *nb = realloc(w->buf, w->head + cap + 1);
    if (!nb) {
        w->oom = true;
        return false;
    }
    w->buf = nb;
    w->cap = cap;
    return true;
}

void wb_jw_raw(wb_jw *w, const char *s, size_t n)
{
    if (!reserve(w, n)) return;
    memcpy(w->buf + w->head + w->len, s, n);
    w->len += n;
}

void wb_jw_lit(wb_jw *w, const char *s)
{
    wb_jw_raw(w, s, strlen(s));
}

void wb_jw_char(wb_jw *w, char c)
{
    if (!reserve(w, 1)) return;
    w->buf[w->head + w->len++] = c;
}

void wb_jw_str(wb_jw *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (!reserve(w, n + 2)) return;
    wb_jw_char(w, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            run++;
            continue;
        }
        wb_jw_raw(w, s + i - run, run);
        run = 0;
        char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        if (c == '"' || c == '\\') {
            char q[2] = {'\\', (char)c};
            wb_jw_raw(w, q, 2);
        } else if (c == '\n')
            wb_jw_raw(w, "\\n", 2);
        else if (c == '\t')
            wb_jw_raw(w, "\\t", 2);
        else if (c == '\r')
            wb_jw_raw(w, "\\r", 2);
        else
            wb_jw_raw(w, e, 6);
    }
    wb_jw_raw(w, s + n - run, run);
    wb_jw_char(w, '"');
}

void wb_jw_cstr(wb_jw *w, const char *s)
{
    wb_jw_str(w, s, strlen(s));
}

void wb_jw_u64(wb_jw *w, uint64_t v)
{
    char tmp[24];
    int i = 24;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    wb_jw_raw(w, tmp + i, (size_t)(24 - i));
}

void wb_jw_i64(wb_jw *w, int64_t v)
{
    if (v < 0) {
        wb_jw_char(w, '-');
        wb_jw_u64(w, (uint64_t)0 - (uint64_t)v);
    } else
        wb_jw_u64(w, (uint64_t)v);
}

void wb_jw_tenths(wb_jw *w, int64_t t)
{
    uint64_t a = t < 0 ? (uint64_t)0 - (uint64_t)t : (uint64_t)t;
    if (t < 0) wb_jw_char(w, '-');
    wb_jw_u64(w, a / 10);
    if (a % 10) {
        char d[2] = {'.', (char)('0' + a % 10)};
        wb_jw_raw(w, d, 2);
    }
}

/* Writes d in the shortest "%g" form that reads back as the same value: as a
 * double, or (as_float) as the float it came from. Integers print plainly. */
static void write_shortest(wb_jw *w, double d, bool as_float)
{
    if (!isfinite(d)) {
        wb_jw_raw(w, "0", 1);
        return;
    }
    if (fabs(d) < 9e15 && d == (double)(int64_t)d) {
        wb_jw_i64(w, (int64_t)d);
        return;
    }
    char tmp[32];
    int maxprec = as_float ? 9 : 17;
    for (int prec = 1; prec <= maxprec; prec++) {
        int n = snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        bool same = as_float ? strtof(tmp, NULL) == (float)d : strtod(tmp, NULL) == d;
        if (same || prec == maxprec) {
            wb_jw_raw(w, tmp, (size_t)n);
            return;
        }
    }
}

void wb_jw_double(wb_jw *w, double d)
{
    write_shortest(w, d, false);
}

void wb_jw_float(wb_jw *w, float f)
{
    write_shortest(w, (double)f, true);
}
