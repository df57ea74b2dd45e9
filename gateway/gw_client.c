/* gw_client: what a client's WebSocket frame means (loop thread only):
 * JSON parsing (an object or an array of objects), the rate limit, and the
 * action for each message: durable ops are packed and published (the ack
 * waits in gw_ack.c), drafts and cursors are relayed to the board's other
 * local clients and published for the other gateways, pings answered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"
#include "wb_log.h"

static void handle_msg(gw_conn *c, const json_t *obj)
{
    wb_cmsg m;
    char err[160];
    int64_t now = wb_mono_us();
    atomic_fetch_add(&gw_m.msgs_in, 1);
    if (!wb_bucket_take(&c->rl, now)) {
        /* Every refused durable op is named (the client must resend it);
         * refused ephemeral messages get at most a few errors a second. */
        const json_t *op = json_object_get(obj, "op");
        bool named =
            json_is_string(op) && wb_valid_id(json_string_value(op), json_string_length(op));
        if (named || true) { /* docs/protocol.md §6: every dropped message gets an error */
            c->rl_last_err_us = now;
            gw_conn_send_error(c, WB_E_RATE_LIMITED, named ? json_string_value(op) : NULL,
                               "rate limit exceeded: message dropped");
        }
        if (wb_bucket_refused(&c->rl, now, 0) > (uint32_t)gw.cfg.abuse_refusals)
            gw_conn_close(c, 1008, "sustained rate-limit abuse");
        return;
    }
    wb_errcode e = wb_cmsg_parse(obj, &m, err, sizeof err);
    if (e) {
        gw_conn_send_error(c, e, m.op, err);
        wb_cmsg_clear(&m);
        return;
    }
    if (c->viewer && (wb_ctype_durable(m.type) || m.type == WB_C_DRAFT)) {
        /* docs/protocol.md §9: checked before anything is published, so a
         * viewer's op or draft is never stored and never relayed. */
        gw_conn_send_error(c, WB_E_FORBIDDEN, m.op, "view-only link: drawing is not allowed");
        wb_cmsg_clear(&m);
        return;
    }
    switch (m.type) {
    case WB_C_PING: {
        char *ts = m.ts ? json_dumps(m.ts, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
        gw_buf *b = gw_buf_printf(GW_BUF_CTL, "{\"t\":\"pong\",\"ts\":%s}", ts ? ts : "null");
        free(ts);
        gw_conn_send(c, b);
        gw_buf_unref(b);
        break;
    }
    case WB_C_STROKE:
    case WB_C_ERASE:
    case WB_C_RESTORE:
    case WB_C_CLEAR: {
        uint8_t *data = NULL;
        size_t len = 0;
        int rc = WB_E_UNAVAILABLE;
        if (wb_op_pack(&m, c->board_id, c->client_id, gw.cfg.gateway_id, wb_wall_ms(), &data,
                       &len) == 0) {
            gw_ack_pending_add(c->board_id, m.op, c->serial, data, len);
            rc = gw_commit_op(c->board_id, m.op, false, data, len);
        }
        free(data);
        if (rc) {
            gw_conn_send_error(c, (wb_errcode)rc, m.op, "the op was not accepted; resend it later");
        }
        break;
    }
    case WB_C_DRAFT:
    case WB_C_CURSOR:
    case WB_C_VIEWPORT: { /* viewports are relayed like cursors (not coalesced with them) */
        uint8_t *data = NULL;
        size_t len = 0;
        if (!c->board || wb_live_pack(&m, c->board_id, gw.cfg.gateway_id, c->client_id, c->name,
                                      wb_wall_ms(), &data, &len) < 0)
            break;
        gw_nats_publish_live(c->board_id, data, len);
        Wb__V1__Live *l = wb__v1__live__unpack(NULL, len, data);
        free(data);
        if (!l) break;
        wb_jw w;
        wb_jw_init(&w, GW_BUF_HEAD, 256);
        wb_jw_live(&w, l);
        wb__v1__live__free_unpacked(l, NULL);
        gw_buf *b = gw_buf_from_jw(&w, GW_BUF_EPH, 0);
        if (b && m.type == WB_C_CURSOR) gw_buf_set_cursor(b, c->client_id);
        if (b) gw_board_fanout_live(c->board, c, b);
        gw_buf_unref(b);
        break;
    }
    }
    wb_cmsg_clear(&m);
}

/* Replaces NaN / Infinity tokens outside strings by null, so that a frame
 * that is JSON apart from them is answered with bad_message. */
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

void gw_client_frame(gw_conn *c, const char *buf, size_t len)
{
    json_error_t jerr;
    json_t *root = json_loadb(buf, len, 0, &jerr);
    if (!root) {
        size_t n2;
        char *fixed = denan(buf, len, &n2);
        if (fixed) {
            json_t *r2 = json_loadb(fixed, n2, 0, &jerr);
            free(fixed);
            if (r2) {
                json_decref(r2);
                atomic_fetch_add(&gw_m.msgs_in, 1);
                gw_conn_send_error(c, WB_E_BAD_MESSAGE, NULL,
                                   "numbers must be finite (NaN/Infinity)");
                return;
            }
        }
        atomic_fetch_add(&gw_m.msgs_in, 1);
        char msg[200];
        snprintf(msg, sizeof msg, "not JSON: %s", jerr.text);
        gw_conn_send_error(c, WB_E_BAD_JSON, NULL, msg);
        return;
    }
    if (json_is_object(root)) {
        handle_msg(c, root);
    } else if (json_is_array(root)) {
        size_t i;
        json_t *v;
        json_array_foreach(root, i, v)
        {
            if (c->closing) break;
            if (!json_is_object(v)) {
                atomic_fetch_add(&gw_m.msgs_in, 1);
                gw_conn_send_error(c, WB_E_BAD_JSON, NULL,
                                   "array elements must be message objects");
                continue;
            }
            handle_msg(c, v);
        }
    } else {
        atomic_fetch_add(&gw_m.msgs_in, 1);
        gw_conn_send_error(c, WB_E_BAD_JSON, NULL,
                           "a frame must hold a JSON object or an array of objects");
    }
    json_decref(root);
}
