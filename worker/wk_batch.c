/* wk_batch: builds wb_apply_batch() parameters from stream messages.
 * Persistence thread. Owns the per-column text buffers (reused across
 * batches) and nothing else; decoded Ops are freed before wk_batch_add returns. */
#include "wk_batch.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb_elem.h"
#include "wb_valid.h"
#include "whiteboard.pb-c.h"

/* ---- wk_buf ---- */

int wk_buf_reserve(wk_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

int wk_buf_append(wk_buf *b, const void *data, size_t n)
{
    if (wk_buf_reserve(b, n) < 0) return -1;
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = 0;
    return 0;
}

int wk_buf_puts(wk_buf *b, const char *s)
{
    return wk_buf_append(b, s, strlen(s));
}

int wk_buf_printf(wk_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || wk_buf_reserve(b, (size_t)n) < 0) return -1;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void wk_buf_reset(wk_buf *b)
{
    b->len = 0;
    if (b->p) b->p[0] = 0;
}

void wk_buf_free(wk_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* ---- validation ---- */

bool wk_valid_id(const char *s)
{
    return s && wb_valid_id(s, strlen(s));
}

bool wk_valid_utf8(const char *s, size_t max)
{
    if (!s) return true;
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (p[i]) {
        if (i >= max) return false;
        unsigned c = p[i];
        size_t n;
        unsigned min;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            n = 1;
            min = 0x80;
            c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            min = 0x800;
            c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            min = 0x10000;
            c &= 0x07;
        } else
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xC0) != 0x80) return false;
            c = (c << 6) | (p[i + k] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return false;
        i += n + 1;
    }
    return i <= max;
}

/* ---- points ---- */

int wk_points_pack(wk_buf *out, const int32_t *vals, size_t n)
{
    if (wk_buf_reserve(out, n * 5) < 0) return -1;
    uint8_t *p = (uint8_t *)out->p + out->len;
    for (size_t i = 0; i < n; i++) {
        uint32_t z = ((uint32_t)vals[i] << 1) ^ (uint32_t)(vals[i] >> 31);
        while (z >= 0x80) {
            *p++ = (uint8_t)(z | 0x80);
            z >>= 7;
        }
        *p++ = (uint8_t)z;
    }
    out->len = (size_t)((char *)p - out->p);
    out->p[out->len] = 0;
    return 0;
}

long wk_points_unpack(const uint8_t *p, size_t len, int32_t *vals, size_t cap)
{
    size_t i = 0, n = 0;
    while (i < len) {
        uint32_t z = 0;
        int shift = 0;
        for (;;) {
            if (i >= len || shift > 28) return -1;
            uint8_t c = p[i++];
            z |= (uint32_t)(c & 0x7F) << shift;
            if (!(c & 0x80)) break;
            shift += 7;
        }
        if (vals) {
            if (n >= cap) return -1;
            vals[n] = (int32_t)((z >> 1) ^ (~(z & 1) + 1));
        }
        n++;
    }
    return (long)n;
}

long wk_points_count(const uint8_t *p, size_t len)
{
    return wk_points_unpack(p, len, NULL, 0);
}

int wk_subject_board(const char *subject, char out[65])
{
    static const char pre[] = "wb.board.";
    if (!subject || strncmp(subject, pre, sizeof pre - 1)) return -1;
    const char *b = subject + sizeof pre - 1, *dot = strchr(b, '.');
    if (!dot || strcmp(dot, ".ev") || dot == b || dot - b > 64) return -1;
    memcpy(out, b, (size_t)(dot - b));
    out[dot - b] = 0;
    return wk_valid_id(out) ? 0 : -1;
}

/* ---- the batch ---- */

enum {
    P_BOARD,
    P_SEQ,
    P_OP_ID,
    P_CLIENT,
    P_KIND,
    P_TIME_MS,
    P_PAYLOAD,
    S_BOARD,
    S_SEQ,
    S_ID,
    S_COLOR,
    S_WIDTH,
    S_POINTS,
    S_AUTHOR,
    V_BOARD,
    V_SEQ,
    V_ID,
    V_HIDDEN,
    D_SEQ,
    D_SUBJECT,
    D_PAYLOAD,
    D_REASON,
    E_BOARD, /* shape and text adds (migrations/0005_elements.sql) */
    E_SEQ,
    E_ID,
    E_KIND,
    E_SHAPE,
    E_X1,
    E_Y1,
    E_X2,
    E_Y2,
    E_FILL,
    E_X,
    E_Y,
    E_SIZE,
    E_BODY,
    E_COLOR,
    E_WIDTH,
    E_AUTHOR,
    U_BOARD, /* update field groups, one row per group */
    U_SEQ,
    U_ID,
    U_GRP,
    U_POINTS,
    U_X1,
    U_Y1,
    U_X2,
    U_Y2,
    U_X,
    U_Y,
    U_SIZE,
    U_BODY,
    U_COLOR,
    U_WIDTH,
    U_FILL,
    NCOLS
};
_Static_assert(NCOLS == WK_BATCH_NPARAMS, "one column per wb_apply_batch parameter");

struct wk_batch {
    wk_buf col[WK_BATCH_NPARAMS];
    size_t n[WK_BATCH_NPARAMS]; /* elements per column */
    size_t nops, ndead;
    wk_buf tmp; /* packed points scratch */
    bool sealed;
};

wk_batch *wk_batch_create(void)
{
    wk_batch *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    wk_batch_reset(b);
    return b;
}

void wk_batch_destroy(wk_batch *b)
{
    if (!b) return;
    for (int i = 0; i < WK_BATCH_NPARAMS; i++)
        wk_buf_free(&b->col[i]);
    wk_buf_free(&b->tmp);
    free(b);
}

void wk_batch_reset(wk_batch *b)
{
    for (int i = 0; i < WK_BATCH_NPARAMS; i++) {
        wk_buf_reset(&b->col[i]);
        b->n[i] = 0;
    }
    b->nops = b->ndead = 0;
    b->sealed = false;
}

size_t wk_batch_nops(const wk_batch *b)
{
    return b->nops;
}
size_t wk_batch_ndead(const wk_batch *b)
{
    return b->ndead;
}

/* Element separator: "{" before the first, "," after. */
static int sep(wk_batch *b, int c)
{
    assert(!b->sealed);
    return wk_buf_append(&b->col[c], b->n[c]++ ? "," : "{", 1);
}

static int put_text(wk_batch *b, int c, const char *s, size_t len)
{
    if (sep(b, c) < 0 || wk_buf_reserve(&b->col[c], 2 * len + 2) < 0) return -1;
    wk_buf *o = &b->col[c];
    o->p[o->len++] = '"';
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"' || s[i] == '\\') o->p[o->len++] = '\\';
        o->p[o->len++] = s[i];
    }
    o->p[o->len++] = '"';
    o->p[o->len] = 0;
    return 0;
}

static int put_str(wk_batch *b, int c, const char *s)
{
    return put_text(b, c, s ? s : "", s ? strlen(s) : 0);
}

static int put_bytea(wk_batch *b, int c, const void *data, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    if (sep(b, c) < 0 || wk_buf_reserve(&b->col[c], 2 * len + 6) < 0) return -1;
    wk_buf *o = &b->col[c];
    memcpy(o->p + o->len, "\"\\\\x", 4); /* "\\x  (backslash escaped inside the array literal) */
    o->len += 4;
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++) {
        o->p[o->len++] = hex[p[i] >> 4];
        o->p[o->len++] = hex[p[i] & 15];
    }
    o->p[o->len++] = '"';
    o->p[o->len] = 0;
    return 0;
}

static int put_raw(wk_batch *b, int c, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int put_raw(wk_batch *b, int c, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    assert(n > 0 && n < (int)sizeof tmp);
    if (sep(b, c) < 0) return -1;
    return wk_buf_append(&b->col[c], tmp, (size_t)n);
}

static wk_add_rc add_dead(wk_batch *b, uint64_t seq, const char *subject, const void *data,
                          size_t len, const char *reason)
{
    /* The subject may be anything the stream accepted: keep it only if printable UTF-8. */
    const char *subj = wk_valid_utf8(subject, 1024) ? subject : "?";
    if (put_raw(b, D_SEQ, "%llu", (unsigned long long)seq) < 0 || put_str(b, D_SUBJECT, subj) < 0 ||
        put_bytea(b, D_PAYLOAD, data, len) < 0 || put_str(b, D_REASON, reason) < 0)
        return WK_ADD_NOMEM;
    b->ndead++;
    return WK_ADD_DEAD;
}

/* Why op is not storable, or NULL. */
static const char *check_op(const Wb__V1__Op *op, const char *subj_board)
{
    if (op->board[0] && strcmp(op->board, subj_board)) return "board differs from subject";
    if (!wk_valid_id(op->op_id)) return "bad op_id";
    if (!wk_valid_utf8(op->client_id, 256) || !wk_valid_utf8(op->gateway, 256))
        return "bad client_id";
    switch (op->kind) {
    case WB__V1__KIND__KIND_STROKE: {
        const Wb__V1__Stroke *s = op->stroke;
        if (!s) return "stroke op without stroke";
        if (!wk_valid_id(s->id)) return "bad stroke id";
        if (!isfinite(s->width) || s->width < 0) return "bad width";
        if (s->color > 0xFFFFFF) return "bad color";
        if (!wk_valid_utf8(s->by, 256)) return "bad author";
        return NULL;
    }
    case WB__V1__KIND__KIND_ERASE:
    case WB__V1__KIND__KIND_RESTORE:
        for (size_t i = 0; i < op->n_ids; i++)
            if (!wk_valid_id(op->ids[i])) return "bad stroke id";
        return NULL;
    case WB__V1__KIND__KIND_CLEAR:
        return NULL;
    case WB__V1__KIND__KIND_SHAPE:
        if (wb_shape_check(op->shape) < 0) return "bad shape";
        return wk_valid_utf8(op->shape->by, 256) ? NULL : "bad author";
    case WB__V1__KIND__KIND_TEXT:
        if (wb_text_check(op->text, false) < 0) return "bad text";
        return wk_valid_utf8(op->text->by, 256) ? NULL : "bad author";
    case WB__V1__KIND__KIND_UPDATE:
        return wb_update_check(op->update, false) < 0 ? "bad update" : NULL;
    default:
        return "unknown kind";
    }
}

static int put_null(wk_batch *b, int c)
{
    return put_raw(b, c, "NULL");
}

static int put_int(wk_batch *b, int c, long long v)
{
    return put_raw(b, c, "%lld", v);
}

static int put_real(wk_batch *b, int c, float v)
{
    return put_raw(b, c, "%.9g", (double)v);
}

/* One shape or text add: a row of the e_* columns (the other type's NULL). */
static int add_elem(wk_batch *b, const char *board, uint64_t seq, const Wb__V1__Op *op)
{
    const Wb__V1__Shape *sh = op->kind == WB__V1__KIND__KIND_SHAPE ? op->shape : NULL;
    const Wb__V1__Text *tx = op->kind == WB__V1__KIND__KIND_TEXT ? op->text : NULL;
    if (put_str(b, E_BOARD, board) < 0 || put_raw(b, E_SEQ, "%llu", (unsigned long long)seq) < 0 ||
        put_str(b, E_ID, sh ? sh->id : tx->id) < 0 || put_int(b, E_KIND, (int)op->kind) < 0)
        return -1;
    if (sh) {
        if (put_int(b, E_SHAPE, sh->kind) < 0 || put_int(b, E_X1, sh->x1) < 0 ||
            put_int(b, E_Y1, sh->y1) < 0 || put_int(b, E_X2, sh->x2) < 0 ||
            put_int(b, E_Y2, sh->y2) < 0 ||
            (sh->has_fill ? put_int(b, E_FILL, sh->fill) : put_null(b, E_FILL)) < 0 ||
            put_null(b, E_X) < 0 || put_null(b, E_Y) < 0 || put_null(b, E_SIZE) < 0 ||
            put_null(b, E_BODY) < 0 || put_int(b, E_COLOR, sh->color) < 0 ||
            put_real(b, E_WIDTH, sh->width) < 0 || put_str(b, E_AUTHOR, sh->by) < 0)
            return -1;
        return 0;
    }
    if (put_null(b, E_SHAPE) < 0 || put_null(b, E_X1) < 0 || put_null(b, E_Y1) < 0 ||
        put_null(b, E_X2) < 0 || put_null(b, E_Y2) < 0 || put_null(b, E_FILL) < 0 ||
        put_int(b, E_X, tx->x) < 0 || put_int(b, E_Y, tx->y) < 0 ||
        put_real(b, E_SIZE, tx->size) < 0 || put_str(b, E_BODY, tx->text) < 0 ||
        put_int(b, E_COLOR, tx->color) < 0 || put_null(b, E_WIDTH) < 0 ||
        put_str(b, E_AUTHOR, tx->by) < 0)
        return -1;
    return 0;
}

/* One row of the u_* columns per field group of the update: the group's
 * values, NULL elsewhere. */
static int add_update(wk_batch *b, const char *board, uint64_t seq, const Wb__V1__Update *u)
{
    unsigned groups = wb_update_groups(u);
    for (int g = 0; g < WB_G__COUNT; g++) {
        if (!(groups & (1u << g))) continue;
        if (put_str(b, U_BOARD, board) < 0 ||
            put_raw(b, U_SEQ, "%llu", (unsigned long long)seq) < 0 || put_str(b, U_ID, u->id) < 0 ||
            put_int(b, U_GRP, g) < 0)
            return -1;
        int rc = 0;
        if (g == WB_G_POINTS) {
            wk_buf_reset(&b->tmp);
            rc |= wk_points_pack(&b->tmp, u->points, u->n_points);
            rc |= put_bytea(b, U_POINTS, b->tmp.p ? b->tmp.p : "", b->tmp.len);
        } else {
            rc |= put_null(b, U_POINTS);
        }
        bool box = g == WB_G_BOX, pos = g == WB_G_POS;
        rc |= box ? put_int(b, U_X1, u->x1) : put_null(b, U_X1);
        rc |= box ? put_int(b, U_Y1, u->y1) : put_null(b, U_Y1);
        rc |= box ? put_int(b, U_X2, u->x2) : put_null(b, U_X2);
        rc |= box ? put_int(b, U_Y2, u->y2) : put_null(b, U_Y2);
        rc |= pos ? put_int(b, U_X, u->x) : put_null(b, U_X);
        rc |= pos ? put_int(b, U_Y, u->y) : put_null(b, U_Y);
        rc |= g == WB_G_SIZE ? put_real(b, U_SIZE, u->size) : put_null(b, U_SIZE);
        rc |= g == WB_G_TEXT ? put_str(b, U_BODY, u->text) : put_null(b, U_BODY);
        rc |= g == WB_G_COLOR ? put_int(b, U_COLOR, u->color) : put_null(b, U_COLOR);
        rc |= g == WB_G_WIDTH ? put_real(b, U_WIDTH, u->width) : put_null(b, U_WIDTH);
        rc |= g == WB_G_FILL && !u->no_fill ? put_int(b, U_FILL, u->fill) : put_null(b, U_FILL);
        if (rc) return -1;
    }
    return 0;
}

wk_add_rc wk_batch_add(wk_batch *b, uint64_t seq, const char *subject, const void *data, size_t len,
                       int64_t *time_ms)
{
    assert(!b->sealed && seq > 0);
    char board[65];
    if (wk_subject_board(subject, board) < 0)
        return add_dead(b, seq, subject, data, len, "subject is not wb.board.{id}.ev");
    Wb__V1__Op *op = wb__v1__op__unpack(NULL, len, data);
    if (!op) return add_dead(b, seq, subject, data, len, "not a wb.v1.Op");
    wk_add_rc rc = WK_ADD_NOMEM;
    const char *why = check_op(op, board);
    if (why) {
        rc = add_dead(b, seq, subject, data, len, why);
        goto out;
    }
    /* Board and client ids are quoted text; ints and bools are bare. */
    if (put_str(b, P_BOARD, board) < 0 || put_raw(b, P_SEQ, "%llu", (unsigned long long)seq) < 0 ||
        put_str(b, P_OP_ID, op->op_id) < 0 || put_str(b, P_CLIENT, op->client_id) < 0 ||
        put_raw(b, P_KIND, "%d", (int)op->kind) < 0 ||
        put_raw(b, P_TIME_MS, "%lld", (long long)op->time_ms) < 0 ||
        put_bytea(b, P_PAYLOAD, data, len) < 0)
        goto out;
    if (op->kind == WB__V1__KIND__KIND_STROKE) {
        const Wb__V1__Stroke *s = op->stroke;
        wk_buf_reset(&b->tmp);
        if (wk_points_pack(&b->tmp, s->points, s->n_points) < 0 || put_str(b, S_BOARD, board) < 0 ||
            put_raw(b, S_SEQ, "%llu", (unsigned long long)seq) < 0 || put_str(b, S_ID, s->id) < 0 ||
            put_raw(b, S_COLOR, "%u", (unsigned)s->color) < 0 ||
            put_raw(b, S_WIDTH, "%.9g", (double)s->width) < 0 ||
            put_bytea(b, S_POINTS, b->tmp.p ? b->tmp.p : "", b->tmp.len) < 0 ||
            put_str(b, S_AUTHOR, s->by) < 0)
            goto out;
    } else if (op->kind == WB__V1__KIND__KIND_SHAPE || op->kind == WB__V1__KIND__KIND_TEXT) {
        if (add_elem(b, board, seq, op) < 0) goto out;
    } else if (op->kind == WB__V1__KIND__KIND_UPDATE) {
        if (add_update(b, board, seq, op->update) < 0) goto out;
    } else if (op->kind == WB__V1__KIND__KIND_ERASE || op->kind == WB__V1__KIND__KIND_RESTORE) {
        const char *hidden = op->kind == WB__V1__KIND__KIND_ERASE ? "t" : "f";
        for (size_t i = 0; i < op->n_ids; i++)
            if (put_str(b, V_BOARD, board) < 0 ||
                put_raw(b, V_SEQ, "%llu", (unsigned long long)seq) < 0 ||
                put_str(b, V_ID, op->ids[i]) < 0 || put_raw(b, V_HIDDEN, "%s", hidden) < 0)
                goto out;
    }
    if (time_ms) *time_ms = op->time_ms;
    b->nops++;
    rc = WK_ADD_OP;
out:
    wb__v1__op__free_unpacked(op, NULL);
    return rc;
}

wk_add_rc wk_batch_add_dead(wk_batch *b, uint64_t seq, const char *subject, const void *data,
                            size_t len, const char *reason)
{
    return add_dead(b, seq, subject, data, len, reason);
}

void wk_batch_params(wk_batch *b, const char *values[WK_BATCH_NPARAMS])
{
    for (int i = 0; i < WK_BATCH_NPARAMS; i++) {
        if (!b->sealed) {
            /* "{}" for an empty column, else close the brace. A failed append
             * leaves the column unterminated: PostgreSQL then refuses the batch. */
            (void)wk_buf_append(&b->col[i], b->n[i] ? "}" : "{}", b->n[i] ? 1 : 2);
        }
        values[i] = b->col[i].p ? b->col[i].p : "{}";
    }
    b->sealed = true;
}
