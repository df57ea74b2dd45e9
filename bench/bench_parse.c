/* bench_parse: see bench_parse.h. */
#include "bench_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

typedef struct {
    const char *p, *end;
} cur;

static void ws(cur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

/* At '"': returns the body slice and moves past the closing quote. */
static int str(cur *c, bp_str *out)
{
    if (c->p >= c->end || *c->p != '"') return -1;
    const char *s = ++c->p;
    while (c->p < c->end) {
        char ch = *c->p;
        if (ch == '"') {
            out->s = s;
            out->n = (size_t)(c->p - s);
            c->p++;
            return 0;
        }
        if (ch == '\\') {
            c->p += 2;
            continue;
        }
        if ((unsigned char)ch < 0x20) return -1;
        c->p++;
    }
    return -1;
}

static int num(cur *c, double *out)
{
    const char *s = c->p;
    while (c->p < c->end && (strchr("0123456789+-.eE", *c->p) != NULL) && *c->p)
        c->p++;
    size_t n = (size_t)(c->p - s);
    if (n == 0 || n > 63) return -1;
    char tmp[64];
    memcpy(tmp, s, n);
    tmp[n] = 0;
    char *e;
    double v = strtod(tmp, &e);
    if (*e) return -1;
    if (out) *out = v;
    return 0;
}

static int lit(cur *c, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n)) return -1;
    c->p += n;
    return 0;
}

static int skip(cur *c, int depth)
{
    if (depth > MAX_DEPTH) return -1;
    ws(c);
    if (c->p >= c->end) return -1;
    bp_str s;
    switch (*c->p) {
    case '"':
        return str(c, &s);
    case '{':
        c->p++;
        ws(c);
        if (c->p < c->end && *c->p == '}') {
            c->p++;
            return 0;
        }
        for (;;) {
            ws(c);
            if (str(c, &s) < 0) return -1;
            ws(c);
            if (c->p >= c->end || *c->p != ':') return -1;
            c->p++;
            if (skip(c, depth + 1) < 0) return -1;
            ws(c);
            if (c->p >= c->end) return -1;
            if (*c->p == ',') {
                c->p++;
                continue;
            }
            if (*c->p == '}') {
                c->p++;
                return 0;
            }
            return -1;
        }
    case '[':
        c->p++;
        ws(c);
        if (c->p < c->end && *c->p == ']') {
            c->p++;
            return 0;
        }
        for (;;) {
            if (skip(c, depth + 1) < 0) return -1;
            ws(c);
            if (c->p >= c->end) return -1;
            if (*c->p == ',') {
                c->p++;
                continue;
            }
            if (*c->p == ']') {
                c->p++;
                return 0;
            }
            return -1;
        }
    case 't':
        return lit(c, "true");
    case 'f':
        return lit(c, "false");
    case 'n':
        return lit(c, "null");
    default:
        return num(c, NULL);
    }
}

int bp_eq(bp_str s, const char *l)
{
    size_t n = strlen(l);
    return s.n == n && memcmp(s.s, l, n) == 0;
}

/* One message object at '{'. */
static int message(cur *c, bp_msg *m)
{
    memset(m, 0, sizeof *m);
    if (c->p >= c->end || *c->p != '{') return -1;
    c->p++;
    ws(c);
    if (c->p < c->end && *c->p == '}') {
        c->p++;
        return 0;
    }
    for (;;) {
        bp_str k;
        ws(c);
        if (str(c, &k) < 0) return -1;
        ws(c);
        if (c->p >= c->end || *c->p != ':') return -1;
        c->p++;
        ws(c);
        if (c->p >= c->end) return -1;
        bp_str *dst = NULL;
        if (k.n == 1 && k.s[0] == 't')
            dst = &m->t;
        else if (bp_eq(k, "op"))
            dst = &m->op;
        else if (bp_eq(k, "from"))
            dst = &m->from;
        else if (bp_eq(k, "code"))
            dst = &m->code;
        else if (bp_eq(k, "client"))
            dst = &m->client;
        else if (bp_eq(k, "name"))
            dst = &m->name;
        else if (bp_eq(k, "kind"))
            dst = &m->kind;
        if (dst && *c->p == '"') {
            if (str(c, dst) < 0) return -1;
        } else if ((bp_eq(k, "x") || bp_eq(k, "seq")) && *c->p != '"' && *c->p != '{' &&
                   *c->p != '[' && *c->p != 't' && *c->p != 'f' && *c->p != 'n') {
            double v;
            if (num(c, &v) < 0) return -1;
            if (k.s[0] == 'x') {
                m->x = v;
                m->has_x = 1;
            } else {
                m->seq = (int64_t)v;
                m->has_seq = 1;
            }
        } else if (skip(c, 1) < 0) {
            return -1;
        }
        ws(c);
        if (c->p >= c->end) return -1;
        if (*c->p == ',') {
            c->p++;
            continue;
        }
        if (*c->p == '}') {
            c->p++;
            return 0;
        }
        return -1;
    }
}

int bp_parse_frame(const char *buf, size_t len, bp_cb cb, void *ud)
{
    cur c = {buf, buf + len};
    bp_msg m;
    int count = 0;
    ws(&c);
    if (c.p >= c.end) return -1;
    if (*c.p == '{') {
        if (message(&c, &m) < 0) return -1;
        ws(&c);
        if (c.p != c.end) return -1;
        if (cb && cb(ud, &m)) return -2;
        return 1;
    }
    if (*c.p != '[') return -1;
    c.p++;
    ws(&c);
    if (c.p < c.end && *c.p == ']') {
        c.p++;
        ws(&c);
        return c.p == c.end ? 0 : -1;
    }
    for (;;) {
        ws(&c);
        if (message(&c, &m) < 0) return -1;
        count++;
        if (cb && cb(ud, &m)) return -2;
        ws(&c);
        if (c.p >= c.end) return -1;
        if (*c.p == ',') {
            c.p++;
            continue;
        }
        if (*c.p == ']') {
            c.p++;
            break;
        }
        return -1;
    }
    ws(&c);
    return c.p == c.end ? count : -1;
}

static int parse_u64(const char **p, const char *end, uint64_t *out)
{
    uint64_t v = 0;
    const char *s = *p;
    while (*p < end && **p >= '0' && **p <= '9') {
        if (v > (UINT64_MAX - 9) / 10) return -1;
        v = v * 10 + (uint64_t)(**p - '0');
        (*p)++;
    }
    if (*p == s) return -1;
    *out = v;
    return 0;
}

int bp_parse_op(bp_str op, const char *run, uint32_t *a, uint64_t *b)
{
    size_t rn = strlen(run);
    const char *p = op.s, *end = op.s + op.n;
    if (op.n < rn + 4 || p[0] != 'B' || memcmp(p + 1, run, rn) || p[1 + rn] != '_') return -1;
    p += rn + 2;
    uint64_t va, vb;
    if (parse_u64(&p, end, &va) < 0 || va > UINT32_MAX) return -1;
    if (p >= end || *p != '_') return -1;
    p++;
    if (parse_u64(&p, end, &vb) < 0 || p != end) return -1;
    *a = (uint32_t)va;
    *b = vb;
    return 0;
}

int bp_format_op(char *out, size_t cap, const char *run, uint32_t a, uint64_t b)
{
    return snprintf(out, cap, "B%s_%u_%llu", run, a, (unsigned long long)b);
}
