/* wb_frame: one client text frame -> limits, JSON, messages, one error at
 * most (see wb_frame.h). The connection's thread only; owns nothing beyond
 * the call except the wb_frame_in it is given. */
#include "wb_frame.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The frame's one error: the first refusal, and how many followed it. */
typedef struct frame_err {
    wb_errcode code;
    char op[WB_ID_MAX + 1];
    char msg[200];
    size_t count;
    size_t rate_limited;
} frame_err;

static void note(frame_err *fe, wb_errcode code, const char *op, const char *msg)
{
    if (code == WB_E_RATE_LIMITED) fe->rate_limited++;
    if (fe->count++) return;
    fe->code = code;
    snprintf(fe->op, sizeof fe->op, "%s", op ? op : "");
    wb_utf8_copy(msg, strlen(msg), fe->msg, sizeof fe->msg);
}

static void emit(const frame_err *fe, const wb_frame_sink *sink)
{
    if (!fe->count) return;
    if (fe->count == 1) {
        sink->error(sink->ctx, fe->code, fe->op, fe->msg);
        return;
    }
    char msg[300];
    snprintf(msg, sizeof msg, "%s (and %zu more messages of this frame refused)", fe->msg,
             fe->count - 1);
    /* Several ops refused by the rate limit: name none, so the client resends
     * every unacked op (naming only the first would strand the others). */
    const char *op = fe->rate_limited > 1 ? NULL : fe->op;
    sink->error(sink->ctx, fe->code, op, msg);
}

void wb_frame_init(wb_frame_in *in, const wb_frame_cfg *cfg, int64_t now_us)
{
    memset(in, 0, sizeof *in);
    in->cfg = *cfg;
    if (!in->cfg.max_points || in->cfg.max_points > WB_MAX_POINTS)
        in->cfg.max_points = WB_MAX_POINTS;
    if (!in->cfg.max_ids || in->cfg.max_ids > WB_MAX_IDS) in->cfg.max_ids = WB_MAX_IDS;
    wb_bucket_init(&in->msgs, cfg->rate, cfg->burst, now_us);
    wb_bucket_init(&in->bytes, cfg->byte_rate, cfg->byte_burst, now_us);
}

static bool abused(const wb_frame_in *in, int64_t now_us)
{
    uint32_t r = wb_bucket_refused(&in->msgs, now_us, 0) + wb_bucket_refused(&in->bytes, now_us, 0);
    return r > in->cfg.abuse_refusals;
}

/* Replaces NaN / Infinity tokens outside strings by null, so that a frame
 * that is JSON apart from them is answered with bad_message. NULL if there
 * were none (or out of memory). */
static char *denan(const char *s, size_t n, size_t *outn)
{
    char *o = malloc(n * 2 + 1);
    size_t k = 0;
    bool instr = false, changed = false;
    if (!o) return NULL;
    for (size_t i = 0; i < n; i++) {
        if (instr) {
            o[k++] = s[i];
            if (s[i] == '\\' && i + 1 < n)
                o[k++] = s[++i];
            else if (s[i] == '"')
                instr = false;
            continue;
        }
        if (s[i] == '"') instr = true;
        size_t skip = 0;
        if (i + 3 <= n && !strncmp(s + i, "NaN", 3))
            skip = 3;
        else if (i + 8 <= n && !strncmp(s + i, "Infinity", 8))
            skip = 8;
        else if (i + 9 <= n && !strncmp(s + i, "-Infinity", 9))
            skip = 9;
        if (skip) {
            memcpy(o + k, "null", 4);
            k += 4;
            i += skip - 1;
            changed = true;
            continue;
        }
        o[k++] = s[i];
    }
    if (!changed) {
        free(o);
        return NULL;
    }
    o[k] = 0;
    *outn = k;
    return o;
}

/* A frame that jansson refused: bad_message if it is JSON apart from numbers
 * that cannot be represented (NaN, Infinity, 1e400), else bad_json. */
static void unparsable(frame_err *fe, const char *buf, size_t len, const json_error_t *jerr)
{
    if (json_error_code(jerr) == json_error_numeric_overflow) {
        note(fe, WB_E_BAD_MESSAGE, NULL, "numbers must be finite (too large to represent)");
        return;
    }
    size_t n2;
    char *fixed = denan(buf, len, &n2);
    if (fixed) {
        json_error_t j2;
        json_t *r2 = json_loadb(fixed, n2, 0, &j2);
        free(fixed);
        if (r2 || json_error_code(&j2) == json_error_numeric_overflow) {
            json_decref(r2);
            note(fe, WB_E_BAD_MESSAGE, NULL, "numbers must be finite (NaN/Infinity)");
            return;
        }
    }
    char msg[200];
    snprintf(msg, sizeof msg, "not JSON: %s", jerr->text);
    note(fe, WB_E_BAD_JSON, NULL, msg);
}

/* The configured caps beyond the protocol's maxima. Returns false (and notes
 * the error) if m exceeds them. */
static bool within_caps(const wb_frame_in *in, const wb_cmsg *m, frame_err *fe)
{
    char msg[120];
    if ((m->type == WB_C_STROKE || m->type == WB_C_DRAFT) && m->stroke.npts > in->cfg.max_points) {
        snprintf(msg, sizeof msg, "stroke.points must hold 2..%zu numbers", in->cfg.max_points);
        note(fe, WB_E_BAD_MESSAGE, m->op, msg);
        return false;
    }
    if ((m->type == WB_C_UPDATE || m->type == WB_C_DRAFT) && m->upd.npts > in->cfg.max_points) {
        snprintf(msg, sizeof msg, "update set.points must hold 2..%zu numbers", in->cfg.max_points);
        note(fe, WB_E_BAD_MESSAGE, m->op, msg);
        return false;
    }
    if ((m->type == WB_C_ERASE || m->type == WB_C_RESTORE) && m->nids > in->cfg.max_ids) {
        snprintf(msg, sizeof msg, "ids must hold 1..%zu element ids", in->cfg.max_ids);
        note(fe, WB_E_BAD_MESSAGE, m->op, msg);
        return false;
    }
    return true;
}

/* One message object of the frame. Returns false to stop the frame. */
static bool one(wb_frame_in *in, const json_t *obj, int64_t now_us, const wb_frame_sink *sink,
                frame_err *fe, wb_frame_stats *st)
{
    st->msgs++;
    if (!wb_bucket_take(&in->msgs, now_us)) {
        const json_t *op = json_object_get(obj, "op");
        bool named =
            json_is_string(op) && wb_valid_id(json_string_value(op), json_string_length(op));
        note(fe, WB_E_RATE_LIMITED, named ? json_string_value(op) : NULL,
             "rate limit exceeded: message dropped");
        st->refused++;
        return true;
    }
    wb_cmsg m;
    char err[160];
    wb_errcode e = wb_cmsg_parse(obj, &m, err, sizeof err);
    bool go = true;
    if (e) {
        note(fe, e, m.op, err);
        st->invalid++;
    } else if (!within_caps(in, &m, fe)) {
        st->invalid++;
    } else {
        go = sink->msg(sink->ctx, &m);
    }
    wb_cmsg_clear(&m);
    return go;
}

wb_frame_stats wb_frame_handle(wb_frame_in *in, const char *buf, size_t len, int64_t now_us,
                               const wb_frame_sink *sink)
{
    wb_frame_stats st = {0};
    frame_err fe = {0};
    if (!wb_bucket_take_n(&in->bytes, (double)len, now_us)) {
        st.msgs = 1;
        st.refused = 1;
        note(&fe, WB_E_RATE_LIMITED, NULL, "byte rate limit exceeded: frame dropped");
        goto out;
    }
    json_error_t jerr;
    json_t *root = json_loadb(buf, len, 0, &jerr);
    if (!root || !(json_is_object(root) || json_is_array(root))) {
        /* A frame that holds no message still costs a message token. */
        st.msgs = 1;
        if (!wb_bucket_take(&in->msgs, now_us)) {
            st.refused = 1;
            note(&fe, WB_E_RATE_LIMITED, NULL, "rate limit exceeded: frame dropped");
        } else {
            st.invalid = 1;
            if (!root)
                unparsable(&fe, buf, len, &jerr);
            else
                note(&fe, WB_E_BAD_JSON, NULL,
                     "a frame must hold a JSON object or an array of objects");
        }
        json_decref(root);
        goto out;
    }
    if (json_is_object(root)) {
        one(in, root, now_us, sink, &fe, &st);
    } else {
        size_t i;
        json_t *v;
        bool all_objects = json_array_size(root) > 0;
        json_array_foreach(root, i, v) if (!json_is_object(v)) all_objects = false;
        if (!all_objects) {
            /* Not an array of messages: one error for the whole frame. */
            st.msgs = 1;
            if (!wb_bucket_take(&in->msgs, now_us)) {
                st.refused = 1;
                note(&fe, WB_E_RATE_LIMITED, NULL, "rate limit exceeded: frame dropped");
            } else {
                st.invalid = 1;
                note(&fe, WB_E_BAD_JSON, NULL,
                     "a frame must hold a JSON object or an array of "
                     "one or more message objects");
            }
        } else {
            json_array_foreach(root, i, v) if (!one(in, v, now_us, sink, &fe, &st)) break;
        }
    }
    json_decref(root);
out:
    emit(&fe, sink);
    st.abuse = st.refused && abused(in, now_us);
    return st;
}
