/* wb_codec: client JSON <-> wb.v1 protobuf <-> JSON out (see wb_codec.h).
 * Pure functions, any thread; owns nothing beyond what it returns. */
#include "wb_codec.h"

#include "wb_jget.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const g_errnames[WB_E__COUNT] = {
    "", "bad_json", "bad_message", "too_large", "rate_limited", "unavailable", "forbidden",
};

const char *wb_errcode_name(wb_errcode e)
{
    return (e > 0 && e < WB_E__COUNT) ? g_errnames[e] : "error";
}

const char *wb_kind_name(Wb__V1__Kind k)
{
    switch (k) {
    case WB__V1__KIND__KIND_STROKE:
        return "stroke";
    case WB__V1__KIND__KIND_ERASE:
        return "erase";
    case WB__V1__KIND__KIND_RESTORE:
        return "restore";
    case WB__V1__KIND__KIND_CLEAR:
        return "clear";
    case WB__V1__KIND__KIND_SHAPE:
        return "shape";
    case WB__V1__KIND__KIND_TEXT:
        return "text";
    case WB__V1__KIND__KIND_UPDATE:
        return "update";
    default:
        return "unknown";
    }
}

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        snprintf(err, errlen, __VA_ARGS__);                                                        \
        return WB_E_BAD_MESSAGE;                                                                   \
    } while (0)

static wb_errcode parse_stroke(const json_t *s, wb_cstroke *st, bool draft, char *err,
                               size_t errlen)
{
    if (!json_is_object(s)) FAIL("stroke must be an object");
    if (!wb_jget_id(json_object_get(s, "id"), st->id))
        FAIL("stroke.id must be 1..64 chars of [A-Za-z0-9_-]");
    const json_t *c = json_object_get(s, "color");
    if (c || !draft) {
        if (!wb_jget_color(c, &st->color)) FAIL("stroke.color must be \"#rrggbb\"");
    } else {
        st->color = 0x1e1e1e;
    }
    const json_t *w = json_object_get(s, "width");
    if (w || !draft) {
        if (!wb_jget_posfloat(w, WB_MAX_WIDTH, &st->width))
            FAIL("stroke.width must be a number in (0, 200]");
    } else {
        st->width = 4;
    }
    if (wb_jget_points(json_object_get(s, "points"), "stroke.points", &st->pts, &st->npts, err,
                       errlen) < 0)
        return WB_E_BAD_MESSAGE;
    return WB_E_NONE;
}

/* A draft carries one of stroke, shape, text, update; if a client sends
 * several, the first in that order counts (a stroke draft with any other
 * field is what it always was). */
static wb_errcode parse_draft(const json_t *obj, wb_cmsg *m, char *err, size_t errlen)
{
    const json_t *v;
    int rc;
    if ((v = json_object_get(obj, "stroke")) ||
        (!json_object_get(obj, "shape") && !json_object_get(obj, "text") &&
         !json_object_get(obj, "update"))) {
        m->draft = WB_D_STROKE;
        return parse_stroke(v, &m->stroke, true, err, errlen);
    }
    if ((v = json_object_get(obj, "shape"))) {
        m->draft = WB_D_SHAPE;
        rc = wb_shape_parse(v, &m->shape, err, errlen);
    } else if ((v = json_object_get(obj, "text"))) {
        m->draft = WB_D_TEXT;
        rc = wb_text_parse(v, &m->text, true, err, errlen);
    } else {
        v = json_object_get(obj, "update");
        m->draft = WB_D_UPDATE;
        if (!json_is_object(v)) FAIL("draft update must be an object {\"id\",\"set\"}");
        rc = wb_update_parse(json_object_get(v, "id"), json_object_get(v, "set"), &m->upd, true,
                             err, errlen);
    }
    return rc ? WB_E_BAD_MESSAGE : WB_E_NONE;
}

wb_errcode wb_cmsg_parse(const json_t *obj, wb_cmsg *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    if (!json_is_object(obj)) {
        snprintf(err, errlen, "a message must be a JSON object");
        return WB_E_BAD_JSON;
    }
    const json_t *tv = json_object_get(obj, "t");
    if (!json_is_string(tv)) FAIL("missing \"t\"");
    const char *t = json_string_value(tv);
    /* Keep a readable op id for the error reply even if something else is wrong. */
    const json_t *opv = json_object_get(obj, "op");
    bool op_ok = wb_jget_id(opv, m->op);

    if (!strcmp(t, "stroke"))
        m->type = WB_C_STROKE;
    else if (!strcmp(t, "erase"))
        m->type = WB_C_ERASE;
    else if (!strcmp(t, "restore"))
        m->type = WB_C_RESTORE;
    else if (!strcmp(t, "clear"))
        m->type = WB_C_CLEAR;
    else if (!strcmp(t, "draft"))
        m->type = WB_C_DRAFT;
    else if (!strcmp(t, "cursor"))
        m->type = WB_C_CURSOR;
    else if (!strcmp(t, "ping"))
        m->type = WB_C_PING;
    else if (!strcmp(t, "viewport"))
        m->type = WB_C_VIEWPORT;
    else if (!strcmp(t, "shape"))
        m->type = WB_C_SHAPE;
    else if (!strcmp(t, "text"))
        m->type = WB_C_TEXT;
    else if (!strcmp(t, "update"))
        m->type = WB_C_UPDATE;
    else
        FAIL("unknown message type \"%.*s\"", (int)wb_utf8_prefix(t, json_string_length(tv), 32),
             t);

    if (wb_ctype_durable(m->type) && !op_ok) FAIL("op must be 1..64 chars of [A-Za-z0-9_-]");

    switch (m->type) {
    case WB_C_STROKE:
        return parse_stroke(json_object_get(obj, "stroke"), &m->stroke, false, err, errlen);
    case WB_C_DRAFT:
        return parse_draft(obj, m, err, errlen);
    case WB_C_SHAPE:
        return wb_shape_parse(json_object_get(obj, "shape"), &m->shape, err, errlen)
                   ? WB_E_BAD_MESSAGE
                   : WB_E_NONE;
    case WB_C_TEXT:
        return wb_text_parse(json_object_get(obj, "text"), &m->text, false, err, errlen)
                   ? WB_E_BAD_MESSAGE
                   : WB_E_NONE;
    case WB_C_UPDATE:
        return wb_update_parse(json_object_get(obj, "id"), json_object_get(obj, "set"), &m->upd,
                               false, err, errlen)
                   ? WB_E_BAD_MESSAGE
                   : WB_E_NONE;
    case WB_C_ERASE:
    case WB_C_RESTORE: {
        const json_t *ids = json_object_get(obj, "ids");
        if (!json_is_array(ids)) FAIL("ids must be an array of element ids");
        size_t n = json_array_size(ids);
        if (n < 1 || n > WB_MAX_IDS) FAIL("ids must hold 1..%d element ids", WB_MAX_IDS);
        m->ids = calloc(n, sizeof *m->ids);
        if (!m->ids) FAIL("out of memory");
        for (size_t i = 0; i < n; i++) {
            char id[WB_ID_MAX + 1];
            if (!wb_jget_id(json_array_get(ids, i), id))
                FAIL("ids[%zu] is not a valid element id", i);
            if (!(m->ids[i] = strdup(id))) FAIL("out of memory");
            m->nids = i + 1;
        }
        return WB_E_NONE;
    }
    case WB_C_CLEAR:
        return WB_E_NONE;
    case WB_C_CURSOR:
        if (!wb_jget_num(json_object_get(obj, "x"), &m->x) ||
            !wb_jget_num(json_object_get(obj, "y"), &m->y))
            FAIL("cursor x and y must be finite numbers within +-1e7");
        return WB_E_NONE;
    case WB_C_VIEWPORT: {
        if (!wb_jget_num(json_object_get(obj, "x"), &m->x) ||
            !wb_jget_num(json_object_get(obj, "y"), &m->y))
            FAIL("viewport x and y must be finite numbers within +-1e7");
        if (!wb_jget_num(json_object_get(obj, "scale"), &m->scale) || m->scale < WB_MIN_SCALE ||
            m->scale > WB_MAX_SCALE)
            FAIL("viewport scale must be a number within [%g, %g]", WB_MIN_SCALE, WB_MAX_SCALE);
        const json_t *lead = json_object_get(obj, "lead");
        if (lead && !json_is_boolean(lead)) FAIL("viewport lead must be true or false");
        m->lead = json_is_true(lead);
        return WB_E_NONE;
    }
    case WB_C_PING: {
        json_t *ts = json_object_get(obj, "ts");
        m->ts = ts ? json_incref(ts) : NULL;
        return WB_E_NONE;
    }
    }
    FAIL("unknown message type");
}

void wb_cmsg_clear(wb_cmsg *m)
{
    free(m->stroke.pts);
    wb_ctext_clear(&m->text);
    wb_cupdate_clear(&m->upd);
    for (size_t i = 0; i < m->nids; i++)
        free(m->ids[i]);
    free(m->ids);
    if (m->ts) json_decref(m->ts);
    memset(m, 0, sizeof *m);
}

static void stroke_view(const wb_cstroke *cs, Wb__V1__Stroke *s, const char *by)
{
    wb__v1__stroke__init(s);
    s->id = (char *)cs->id;
    s->color = cs->color;
    s->width = cs->width;
    s->points = (int32_t *)cs->pts;
    s->n_points = cs->npts;
    s->by = (char *)by;
}

static int pack_msg(const ProtobufCMessage *msg, uint8_t **out, size_t *outlen)
{
    size_t n = protobuf_c_message_get_packed_size(msg);
    *out = malloc(n ? n : 1);
    if (!*out) return -1;
    *outlen = protobuf_c_message_pack(msg, *out);
    return 0;
}

int wb_op_pack(const wb_cmsg *m, const char *board, const char *client_id, const char *gateway,
               int64_t time_ms, uint8_t **out, size_t *outlen)
{
    Wb__V1__Op op = WB__V1__OP__INIT;
    Wb__V1__Stroke st;
    Wb__V1__Shape sh;
    Wb__V1__Text tx;
    Wb__V1__Update up;
    op.board = (char *)board;
    op.op_id = (char *)m->op;
    op.client_id = (char *)client_id;
    op.gateway = (char *)gateway;
    op.time_ms = time_ms;
    switch (m->type) {
    case WB_C_STROKE:
        op.kind = WB__V1__KIND__KIND_STROKE;
        stroke_view(&m->stroke, &st, client_id);
        op.stroke = &st;
        break;
    case WB_C_ERASE:
        op.kind = WB__V1__KIND__KIND_ERASE;
        break;
    case WB_C_RESTORE:
        op.kind = WB__V1__KIND__KIND_RESTORE;
        break;
    case WB_C_CLEAR:
        op.kind = WB__V1__KIND__KIND_CLEAR;
        break;
    case WB_C_SHAPE:
        op.kind = WB__V1__KIND__KIND_SHAPE;
        wb_shape_view(&m->shape, &sh, client_id);
        op.shape = &sh;
        break;
    case WB_C_TEXT:
        op.kind = WB__V1__KIND__KIND_TEXT;
        wb_text_view(&m->text, &tx, client_id);
        op.text = &tx;
        break;
    case WB_C_UPDATE:
        op.kind = WB__V1__KIND__KIND_UPDATE;
        wb_update_view(&m->upd, &up);
        op.update = &up;
        break;
    default:
        return -1;
    }
    if (m->type == WB_C_ERASE || m->type == WB_C_RESTORE) {
        op.ids = m->ids;
        op.n_ids = m->nids;
    }
    return pack_msg(&op.base, out, outlen);
}

int wb_live_pack(const wb_cmsg *m, const char *board, const char *gateway, const char *client_id,
                 const char *name, int64_t time_ms, uint8_t **out, size_t *outlen)
{
    Wb__V1__Live l = WB__V1__LIVE__INIT;
    Wb__V1__Stroke st;
    Wb__V1__Shape sh;
    Wb__V1__Text tx;
    Wb__V1__Update up;
    Wb__V1__Cursor cur = WB__V1__CURSOR__INIT;
    Wb__V1__Viewport vp = WB__V1__VIEWPORT__INIT;
    l.board = (char *)board;
    l.gateway = (char *)gateway;
    l.from = (char *)client_id;
    l.name = (char *)name;
    l.time_ms = time_ms;
    if (m->type == WB_C_DRAFT && m->draft == WB_D_SHAPE) {
        wb_shape_view(&m->shape, &sh, client_id);
        l.body_case = WB__V1__LIVE__BODY_SHAPE;
        l.shape = &sh;
    } else if (m->type == WB_C_DRAFT && m->draft == WB_D_TEXT) {
        wb_text_view(&m->text, &tx, client_id);
        l.body_case = WB__V1__LIVE__BODY_TEXT;
        l.text = &tx;
    } else if (m->type == WB_C_DRAFT && m->draft == WB_D_UPDATE) {
        wb_update_view(&m->upd, &up);
        l.body_case = WB__V1__LIVE__BODY_UPDATE;
        l.update = &up;
    } else if (m->type == WB_C_DRAFT) {
        stroke_view(&m->stroke, &st, client_id);
        l.body_case = WB__V1__LIVE__BODY_DRAFT;
        l.draft = &st;
    } else if (m->type == WB_C_CURSOR) {
        cur.x = m->x;
        cur.y = m->y;
        l.body_case = WB__V1__LIVE__BODY_CURSOR;
        l.cursor = &cur;
    } else if (m->type == WB_C_VIEWPORT) {
        vp.x = m->x;
        vp.y = m->y;
        vp.scale = m->scale;
        vp.lead = m->lead;
        l.body_case = WB__V1__LIVE__BODY_VIEWPORT;
        l.viewport = &vp;
    } else {
        return -1;
    }
    return pack_msg(&l.base, out, outlen);
}

void wb_jw_stroke(wb_jw *w, const Wb__V1__Stroke *s)
{
    char col[8];
    wb_format_color(s->color, col);
    wb_jw_lit(w, "{\"id\":");
    wb_jw_cstr(w, s->id);
    wb_jw_lit(w, ",\"color\":\"");
    wb_jw_raw(w, col, 7);
    wb_jw_lit(w, "\",\"width\":");
    wb_jw_float(w, s->width);
    wb_jw_lit(w, ",\"points\":[");
    int64_t prev[2] = {0, 0};
    for (size_t i = 0; i < s->n_points; i++) {
        int64_t v = i < 2 ? s->points[i] : prev[i & 1] + s->points[i];
        prev[i & 1] = v;
        if (i) wb_jw_char(w, ',');
        wb_jw_tenths(w, v);
    }
    wb_jw_lit(w, "],\"by\":");
    wb_jw_cstr(w, s->by ? s->by : "");
    wb_jw_char(w, '}');
}

void wb_jw_ev(wb_jw *w, uint64_t seq, const Wb__V1__Op *op)
{
    wb_jw_lit(w, "{\"t\":\"ev\",\"seq\":");
    wb_jw_u64(w, seq);
    wb_jw_lit(w, ",\"op\":");
    wb_jw_cstr(w, op->op_id);
    wb_jw_lit(w, ",\"from\":");
    wb_jw_cstr(w, op->client_id);
    wb_jw_lit(w, ",\"kind\":\"");
    wb_jw_lit(w, wb_kind_name(op->kind));
    wb_jw_char(w, '"');
    if (op->kind == WB__V1__KIND__KIND_STROKE && op->stroke) {
        wb_jw_lit(w, ",\"stroke\":");
        wb_jw_stroke(w, op->stroke);
    } else if (op->kind == WB__V1__KIND__KIND_SHAPE && op->shape) {
        wb_jw_lit(w, ",\"shape\":");
        wb_jw_shape(w, op->shape);
    } else if (op->kind == WB__V1__KIND__KIND_TEXT && op->text) {
        wb_jw_lit(w, ",\"text\":");
        wb_jw_textel(w, op->text);
    } else if (op->kind == WB__V1__KIND__KIND_UPDATE && op->update) {
        wb_jw_lit(w, ",\"id\":");
        wb_jw_cstr(w, op->update->id);
        wb_jw_lit(w, ",\"set\":");
        wb_jw_set(w, op->update);
    } else if (op->kind == WB__V1__KIND__KIND_ERASE || op->kind == WB__V1__KIND__KIND_RESTORE) {
        wb_jw_lit(w, ",\"ids\":[");
        for (size_t i = 0; i < op->n_ids; i++) {
            if (i) wb_jw_char(w, ',');
            wb_jw_cstr(w, op->ids[i]);
        }
        wb_jw_char(w, ']');
    }
    wb_jw_char(w, '}');
}

int wb_jw_live(wb_jw *w, const Wb__V1__Live *l)
{
    if (wb_live_check(l) < 0) return -1; /* any NATS publisher: check before writing */
    if (l->body_case == WB__V1__LIVE__BODY_DRAFT && l->draft) {
        wb_jw_lit(w, "{\"t\":\"draft\",\"stroke\":");
        wb_jw_stroke(w, l->draft);
    } else if (l->body_case == WB__V1__LIVE__BODY_SHAPE && l->shape) {
        wb_jw_lit(w, "{\"t\":\"draft\",\"shape\":");
        wb_jw_shape(w, l->shape);
    } else if (l->body_case == WB__V1__LIVE__BODY_TEXT && l->text) {
        wb_jw_lit(w, "{\"t\":\"draft\",\"text\":");
        wb_jw_textel(w, l->text);
    } else if (l->body_case == WB__V1__LIVE__BODY_UPDATE && l->update) {
        wb_jw_lit(w, "{\"t\":\"draft\",\"update\":{\"id\":");
        wb_jw_cstr(w, l->update->id);
        wb_jw_lit(w, ",\"set\":");
        wb_jw_set(w, l->update);
        wb_jw_char(w, '}');
    } else if (l->body_case == WB__V1__LIVE__BODY_CURSOR && l->cursor) {
        wb_jw_lit(w, "{\"t\":\"cursor\",\"x\":");
        wb_jw_double(w, l->cursor->x);
        wb_jw_lit(w, ",\"y\":");
        wb_jw_double(w, l->cursor->y);
    } else if (l->body_case == WB__V1__LIVE__BODY_VIEWPORT && l->viewport) {
        wb_jw_lit(w, "{\"t\":\"viewport\",\"x\":");
        wb_jw_double(w, l->viewport->x);
        wb_jw_lit(w, ",\"y\":");
        wb_jw_double(w, l->viewport->y);
        wb_jw_lit(w, ",\"scale\":");
        wb_jw_double(w, l->viewport->scale);
        if (l->viewport->lead) wb_jw_lit(w, ",\"lead\":true");
    } else {
        return -1;
    }
    wb_jw_lit(w, ",\"from\":");
    wb_jw_cstr(w, l->from);
    wb_jw_lit(w, ",\"name\":");
    wb_jw_cstr(w, l->name);
    wb_jw_char(w, '}');
    return 0;
}

void wb_jw_presence_client(wb_jw *w, const char *id, const char *name, const char *color,
                           const char *role)
{
    wb_jw_lit(w, "{\"id\":");
    wb_jw_cstr(w, id);
    wb_jw_lit(w, ",\"name\":");
    wb_jw_cstr(w, name);
    wb_jw_lit(w, ",\"color\":");
    wb_jw_cstr(w, color);
    wb_jw_lit(w, ",\"role\":");
    wb_jw_lit(w, role && !strcmp(role, "viewer") ? "\"viewer\"" : "\"editor\"");
    wb_jw_char(w, '}');
}

static bool str_id_ok(const char *s)
{
    return s && wb_valid_id(s, strlen(s));
}

int wb_op_check(const Wb__V1__Op *op)
{
    if (!str_id_ok(op->board) || !str_id_ok(op->op_id)) return -1;
    switch (op->kind) {
    case WB__V1__KIND__KIND_STROKE:
        if (!op->stroke || !str_id_ok(op->stroke->id) || op->stroke->n_points < 2 ||
            op->stroke->n_points > WB_MAX_POINTS || op->stroke->n_points % 2)
            return -1;
        return 0;
    case WB__V1__KIND__KIND_ERASE:
    case WB__V1__KIND__KIND_RESTORE:
        for (size_t i = 0; i < op->n_ids; i++)
            if (!str_id_ok(op->ids[i])) return -1;
        return 0;
    case WB__V1__KIND__KIND_CLEAR:
        return 0;
    case WB__V1__KIND__KIND_SHAPE:
        return wb_shape_check(op->shape);
    case WB__V1__KIND__KIND_TEXT:
        return wb_text_check(op->text, false);
    case WB__V1__KIND__KIND_UPDATE:
        return wb_update_check(op->update, false);
    default:
        return -1;
    }
}

int wb_live_check(const Wb__V1__Live *l)
{
    switch (l->body_case) {
    case WB__V1__LIVE__BODY_SHAPE:
        return wb_shape_check(l->shape);
    case WB__V1__LIVE__BODY_TEXT:
        return wb_text_check(l->text, true);
    case WB__V1__LIVE__BODY_UPDATE:
        return wb_update_check(l->update, true);
    default:
        return 0;
    }
}
