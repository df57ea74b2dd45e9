/* gw_opid: "was this op id stored before?" asked before every durable op is
 * published. JetStream's own duplicate window (dedup-window-s) answers
 * resends for a while; after it, only stream WB_OPIDS knows (the worker
 * claims every op id it commits: "wb.opid.{board}.{op}" = the first seq).
 * The question is an asynchronous direct get of that subject; the answer
 * comes on a nats.c thread and goes to the lws thread as GW_EV_OPID, where
 * gw_ack.c either acks the op with the stored seq or commits it.
 * gw_opid_check: loop thread (the reply subscription is made on first use,
 * once NATS is connected); gw_opid_stop: the stopping thread, before NATS
 * stops; on_reply: a nats.c thread. Owns
 * the reply subscription. Calls: nats, queue. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"
#include "wb_log.h"
#include "wb_subreap.h"

static natsSubscription *g_sub;
static char g_prefix[96]; /* the reply inbox; replies go to {prefix}.{board}.{op} */

/* {prefix}.{board}.{op} -> board, op. Returns 0 or -1. */
static int parse_reply(const char *subj, char board[WB_ID_MAX + 1], char op[WB_ID_MAX + 1])
{
    size_t pl = strlen(g_prefix);
    if (strncmp(subj, g_prefix, pl) || subj[pl] != '.') return -1;
    const char *b = subj + pl + 1, *dot = strchr(b, '.');
    if (!dot || !wb_valid_id(b, (size_t)(dot - b)) || !wb_valid_id(dot + 1, strlen(dot + 1)))
        return -1;
    memcpy(board, b, (size_t)(dot - b));
    board[dot - b] = 0;
    snprintf(op, WB_ID_MAX + 1, "%s", dot + 1);
    return 0;
}

static void on_reply(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    gw_event *ev = gw_event_new(GW_EV_OPID);
    gw_ev_opid *e = ev ? &ev->u.opid : NULL;
    if (!e || parse_reply(natsMsg_GetSubject(msg), e->board, e->op_id) < 0) {
        gw_event_free(ev);
        natsMsg_Destroy(msg);
        return;
    }
    const char *status = NULL;
    natsMsgHeader_Get(msg, "Status", &status);
    if (natsMsg_IsNoResponders(msg) || (status && !strcmp(status, "404"))) {
        e->seq = 0; /* never claimed (or no WB_OPIDS yet): publish it */
    } else if (status && *status) {
        e->err = WB_E_UNAVAILABLE;
        wb_warn("op id lookup board=%s op=%s: status %s", e->board, e->op_id, status);
    } else {
        char val[24] = "";
        int n = natsMsg_GetDataLength(msg);
        if (n > 0 && n < (int)sizeof val) memcpy(val, natsMsg_GetData(msg), (size_t)n);
        e->seq = strtoull(val, NULL, 10);
    }
    gw_queue_push(ev);
    natsMsg_Destroy(msg);
}

static int opid_start(void)
{
    natsInbox *ib = NULL;
    char subj[128];
    if (natsInbox_Create(&ib) != NATS_OK) {
        wb_error("op id lookup: cannot create an inbox");
        return -1;
    }
    snprintf(g_prefix, sizeof g_prefix, "%s", (const char *)ib);
    natsInbox_Destroy(ib);
    snprintf(subj, sizeof subj, "%s.*.*", g_prefix);
    natsStatus s = natsConnection_Subscribe(&g_sub, gw_nats_conn(), subj, on_reply, NULL);
    if (s == NATS_OK) s = natsSubscription_SetPendingLimits(g_sub, 1 << 20, 64 << 20);
    if (s != NATS_OK) {
        wb_error("op id lookup: subscribe %s: %s", subj, natsStatus_GetText(s));
        return -1;
    }
    return 0;
}

void gw_opid_stop(void)
{
    if (!g_sub) return;
    wb_sub_retire(gw_nats_conn(), g_sub);
    g_sub = NULL;
}

int gw_opid_check(const char *board, const char *op_id)
{
    if (!gw_nats_ok() || (!g_sub && opid_start() < 0)) return WB_E_UNAVAILABLE;
    char subj[256], reply[256];
    snprintf(subj, sizeof subj, "$JS.API.DIRECT.GET.%s.wb.opid.%s.%s", WB_OPIDS_STREAM, board,
             op_id);
    snprintf(reply, sizeof reply, "%s.%s.%s", g_prefix, board, op_id);
    natsStatus s = natsConnection_PublishRequest(gw_nats_conn(), subj, reply, NULL, 0);
    if (s != NATS_OK) {
        wb_warn("op id lookup board=%s op=%s: %s", board, op_id, natsStatus_GetText(s));
        return WB_E_UNAVAILABLE;
    }
    return 0;
}
