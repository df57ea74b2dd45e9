/* gw_client: what a client's WebSocket frame means (loop thread only):
 * the shared frame path (common/wb_frame.c: limits, JSON, validation, one
 * error per frame) and the action for each valid message: durable ops are packed and published (the
 * ack waits in gw_ack.c), drafts and cursors are relayed to the board's other local clients and
 * published for the other gateways, pings answered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"
#include "wb_log.h"

/* One valid client message (wb_frame's sink). Returns false once the
 * connection is closing, to stop the rest of its frame. */
static bool handle_msg(void *ctx, const wb_cmsg *mp)
{
    gw_conn *c = ctx;
    const wb_cmsg m = *mp; /* a shallow view: wb_frame owns and clears it */
    if (c->viewer && (wb_ctype_durable(m.type) || m.type == WB_C_DRAFT)) {
        /* docs/protocol.md §9: checked before anything is published, so a
         * viewer's op or draft is never stored and never relayed. */
        gw_conn_send_error(c, WB_E_FORBIDDEN, m.op, "view-only link: drawing is not allowed");
        return !c->closing;
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
    case WB_C_CLEAR:
    case WB_C_SHAPE:
    case WB_C_TEXT:
    case WB_C_UPDATE: {
        uint8_t *data = NULL;
        size_t len = 0;
        int rc = WB_E_UNAVAILABLE;
        if (wb_op_pack(&m, c->board_id, c->client_id, gw.cfg.gateway_id, wb_wall_ms(), &data,
                       &len) == 0) {
            gw_ack_pending_add(c->board_id, m.op, c->serial, data, len);
            /* Stored before (a resend after the dedup window)? Then committed (gw_ack.c). */
            rc = gw_opid_check(c->board_id, m.op);
            if (rc) gw_ack_fail(c->board_id, m.op, rc);
        } else {
            gw_conn_send_error(c, (wb_errcode)rc, m.op, "the op was not accepted; resend it later");
        }
        free(data);
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
    return !c->closing;
}

static void frame_error(void *ctx, wb_errcode code, const char *op, const char *msg)
{
    gw_conn_send_error(ctx, code, op, msg);
}

/* One complete frame through the shared frame path (common/wb_frame.c:
 * message and byte rate limits, parsing, caps, one error per frame);
 * sustained rate-limit abuse closes with 1008. */
void gw_client_frame(gw_conn *c, const char *buf, size_t len)
{
    wb_frame_sink sink = {handle_msg, frame_error, c};
    wb_frame_stats st = wb_frame_handle(&c->fin, buf, len, wb_mono_us(), &sink);
    atomic_fetch_add(&gw_m.msgs_in, st.msgs);
    if (st.abuse) gw_conn_close(c, 1008, "sustained rate-limit abuse");
}
