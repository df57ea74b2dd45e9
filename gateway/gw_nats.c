/* gw_nats: the gateway's NATS connections. Owns the main connection, the
 * bulk connection that carries atomic batches, the JetStream context and the
 * thread that (re)ensures the WB_OPS stream.
 *
 * Callbacks here run on nats.c threads: they decode the protobuf, serialise
 * the JSON frame ONCE per message for this whole gateway, and hand it to the
 * loop thread as a typed gw_event. Subscriptions are created and removed by the loop
 * thread (nats.c calls are thread-safe); no lws object is touched here. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw.h"
#include "wb_log.h"
#include "wb_subreap.h"
#include "wb_nats.h"
/* nats.c's libuv adapter defines its functions in the header: include it in
 * this one file only. */
#include <nats/adapters/libuv.h>

static natsConnection *g_nc;
static jsCtx *g_js;
static atomic_bool g_connected, g_stream_ok, g_stop;
static pthread_t g_ensure_thread;
static bool g_ensure_started;
static pthread_mutex_t g_ensure_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_ensure_cond = PTHREAD_COND_INITIALIZER;
static bool g_ensure_wanted = true;
static natsSubscription *g_batch_sub; /* answers to atomic batches: <inbox>.<batch id> */
static char g_batch_inbox[64];
/* Atomic batches go out on a second connection without SendAsap. With
 * SendAsap (the main connection) every publish is one write(2), and a batch of
 * 1,000 ops was 1,000 writes on the loop thread plus as many reads on the
 * server; here nats.c's flusher thread writes what a batch put in its buffer
 * in a few large writes (the buffer spills inline when full). A batch only
 * goes out when 8 or more ops are pending, i.e. under load, where the
 * flusher's wait of about 1 ms is small against the batch's own fsyncs.
 * NULL (NATS on the loop, SendAsap off, or it could not be made): batches go
 * out on the main connection. Created and destroyed by the starting/stopping
 * thread; used by the loop thread. */
static natsConnection *g_bulk;
static natsOptions *g_bulk_opts;
#define BULK_IO_BUF (256 * 1024)

natsConnection *gw_nats_conn(void)
{
    return g_nc;
}
jsCtx *gw_nats_js(void)
{
    return g_js;
}

bool gw_nats_ok(void)
{
    return g_nc && atomic_load(&g_connected) && atomic_load(&g_stream_ok) &&
           natsConnection_Status(g_nc) == NATS_CONN_STATUS_CONNECTED;
}

void gw_nats_want_ensure(void)
{
    pthread_mutex_lock(&g_ensure_lock);
    g_ensure_wanted = true;
    pthread_cond_signal(&g_ensure_cond);
    pthread_mutex_unlock(&g_ensure_lock);
}

static void push_state(int up)
{
    gw_event *e = gw_event_new(GW_EV_NATS);
    if (!e) return;
    e->u.nats.up = up;
    gw_queue_push(e);
}

static void on_connected(natsConnection *nc, void *closure)
{
    wb_info("nats connected");
    atomic_store(&g_connected, true);
    gw_nats_want_ensure();
}

static void on_disconnected(natsConnection *nc, void *closure)
{
    if (atomic_load(&g_stop)) return;
    wb_warn("nats disconnected");
    atomic_store(&g_connected, false);
    push_state(0);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    wb_info("nats reconnected");
    atomic_store(&g_connected, true);
    gw_nats_want_ensure();
}

/* Runs wb_nats_stream_ensure() until it succeeds, again after each reconnect. */
static void *ensure_main(void *arg)
{
    while (!atomic_load(&g_stop)) {
        pthread_mutex_lock(&g_ensure_lock);
        while (!g_ensure_wanted && !atomic_load(&g_stop))
            pthread_cond_wait(&g_ensure_cond, &g_ensure_lock);
        g_ensure_wanted = false;
        pthread_mutex_unlock(&g_ensure_lock);
        if (atomic_load(&g_stop)) break;
        while (!atomic_load(&g_stop)) {
            if (atomic_load(&g_connected) &&
                wb_nats_stream_ensure(g_nc, g_js, &gw.cfg.stream) == 0 &&
                gw_view_ensure(g_js, (int)gw.cfg.stream.replicas) == 0) {
                atomic_store(&g_stream_ok, true);
                push_state(1); /* resync boards: ops may have been missed */
                break;
            }
            atomic_store(&g_stream_ok, false);
            usleep(500 * 1000);
        }
    }
    return NULL;
}

static uint64_t hdr_u64(natsMsg *m, const char *key)
{
    const char *v = NULL;
    if (natsMsgHeader_Get(m, key, &v) != NATS_OK || !v) return 0;
    return strtoull(v, NULL, 10);
}

/* wb.rp.{board}: a stored op with its seq and the board's previous seq. */
static void on_rp_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    atomic_fetch_add(&gw_m.nats_msgs_in, 1);
    char board[WB_ID_MAX + 1];
    uint64_t seq = hdr_u64(msg, "Nats-Sequence");
    Wb__V1__Op *op = NULL;
    gw_event *e = NULL;
    if (wb_subj_board(natsMsg_GetSubject(msg), board) < 0 || !seq) goto done;
    op = wb__v1__op__unpack(NULL, (size_t)natsMsg_GetDataLength(msg),
                            (const uint8_t *)natsMsg_GetData(msg));
    bool bad = !op || wb_op_check(op) < 0;
    if (bad)
        wb_warn("undecodable op seq=%llu board=%s: filling it from the stream",
                (unsigned long long)seq, board);
    wb_jw w;
    wb_jw_init(&w, GW_BUF_HEAD, 256);
    if (op && wb_op_check(op) == 0) wb_jw_ev(&w, seq, op);
    if (!(e = gw_event_new(GW_EV_OP))) {
        wb_jw_free(&w);
        goto done;
    }
    snprintf(e->u.op.board, sizeof e->u.op.board, "%s", board);
    e->u.op.seq = seq;
    /* An op that does not decode here (e.g. damaged in transit around a
     * reconnect) is a gap ending at seq: the board fills (last, seq] from the
     * stream, where a stored op that really does not decode is skipped, so the
     * fill always ends and never loops. */
    e->u.op.prev = bad ? seq : hdr_u64(msg, "Nats-Last-Sequence");
    e->u.op.buf = w.len ? gw_buf_from_jw(&w, GW_BUF_EV, seq) : (wb_jw_free(&w), NULL);
    gw_queue_push(e);
done:
    if (op) wb__v1__op__free_unpacked(op, NULL);
    natsMsg_Destroy(msg);
}

static char *presence_fragment(const Wb__V1__Presence *p)
{
    wb_jw w;
    wb_jw_init(&w, 0, 128);
    for (size_t i = 0; i < p->n_clients; i++) {
        const Wb__V1__PresenceClient *c = p->clients[i];
        if (!c->id || !wb_valid_id(c->id, strlen(c->id))) continue;
        if (w.len) wb_jw_char(&w, ',');
        wb_jw_presence_client(&w, c->id, c->name ? c->name : "", c->color ? c->color : "#888888",
                              c->role);
    }
    if (w.oom) {
        wb_jw_free(&w);
        return NULL;
    }
    return wb_jw_take(&w);
}

/* wb.board.{board}.live: drafts, cursors, presence from other gateways. */
static void on_live_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    atomic_fetch_add(&gw_m.nats_msgs_in, 1);
    char board[WB_ID_MAX + 1];
    Wb__V1__Live *l = NULL;
    if (wb_subj_board(natsMsg_GetSubject(msg), board) < 0) goto done;
    l = wb__v1__live__unpack(NULL, (size_t)natsMsg_GetDataLength(msg),
                             (const uint8_t *)natsMsg_GetData(msg));
    if (!l || !l->gateway || !strcmp(l->gateway, gw.cfg.gateway_id)) goto done;
    if (strlen(l->gateway) > WB_ID_MAX) goto done;
    gw_event *e;
    if (l->body_case == WB__V1__LIVE__BODY_PRESENCE && l->presence) {
        if (!(e = gw_event_new(GW_EV_PRESENCE))) goto done;
        gw_ev_presence *p = &e->u.presence;
        p->clients_json = presence_fragment(l->presence);
        p->ttl_ms = l->presence->ttl_ms ? l->presence->ttl_ms : 3000;
        p->leaving = l->presence->leaving;
        snprintf(p->board, sizeof p->board, "%s", board);
        snprintf(p->gateway, sizeof p->gateway, "%s", l->gateway);
    } else {
        wb_jw w;
        wb_jw_init(&w, GW_BUF_HEAD, 256);
        if (wb_jw_live(&w, l) < 0) {
            wb_jw_free(&w);
            goto done;
        }
        if (!(e = gw_event_new(GW_EV_LIVE))) {
            wb_jw_free(&w);
            goto done;
        }
        e->u.live.buf = gw_buf_from_jw(&w, GW_BUF_EPH, 0);
        if (e->u.live.buf && l->body_case == WB__V1__LIVE__BODY_CURSOR)
            gw_buf_set_cursor(e->u.live.buf, l->from ? l->from : "");
        snprintf(e->u.live.board, sizeof e->u.live.board, "%s", board);
    }
    gw_queue_push(e);
done:
    if (l) wb__v1__live__free_unpacked(l, NULL);
    natsMsg_Destroy(msg);
}

/* JetStream answered (or failed) an async publish. The message is ours to
 * destroy (nats.c's contract for the ack handler). */
static void on_puback(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
    gw_event *ev = gw_event_new(GW_EV_PUBACK);
    if (!ev) {
        natsMsg_Destroy(msg);
        return;
    }
    gw_ev_puback *e = &ev->u.puback;
    const char *id = NULL, *colon;
    natsMsgHeader_Get(msg, "Nats-Msg-Id", &id);
    colon = id ? strchr(id, ':') : NULL; /* "{board}:{op}" */
    snprintf(e->op_id, sizeof e->op_id, "%s", colon ? colon + 1 : (id ? id : ""));
    if (wb_subj_board(natsMsg_GetSubject(msg), e->board) < 0) e->board[0] = 0;
    if (pa && !pae) {
        e->seq = pa->Sequence;
        e->dup = pa->Duplicate;
    } else {
        e->err = WB_E_UNAVAILABLE;
        if (pae)
            wb_warn("publish op=%s failed: %s", e->op_id,
                    pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err));
    }
    natsMsg_Destroy(msg);
    gw_queue_push(ev);
}

/* <inbox>.<batch id>: JetStream's answer to an atomic batch's commit. */
static void on_batch_ack(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    const char *subj = natsMsg_GetSubject(msg), *id = strrchr(subj, '.');
    gw_event *ev = id ? gw_event_new(GW_EV_BATCH) : NULL;
    json_t *j = NULL;
    if (!ev) goto done;
    gw_ev_batch *e = &ev->u.batch;
    snprintf(e->batch_id, sizeof e->batch_id, "%s", id + 1);
    j = json_loadb(natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg), 0, NULL);
    json_t *err = j ? json_object_get(j, "error") : NULL;
    if (!j || err) {
        e->err = true;
        e->err_code = (int)json_integer_value(json_object_get(err, "err_code"));
        const char *d = json_string_value(json_object_get(err, "description"));
        snprintf(e->err_text, sizeof e->err_text, "%s", d ? d : "bad answer");
    } else {
        e->last_seq = (uint64_t)json_integer_value(json_object_get(j, "seq"));
        e->count = (uint32_t)json_integer_value(json_object_get(j, "count"));
    }
    gw_queue_push(ev);
done:
    json_decref(j);
    natsMsg_Destroy(msg);
}

static natsOptions *g_opts;
static bool g_stopped;

/* The connection exists: JetStream context, the batch-answer subscription,
 * the thread that ensures the stream. */
static int after_connect(void)
{
    jsOptions jo;
    natsStatus s;
    jsOptions_Init(&jo);
    jo.Wait = 3000;
    jo.PublishAsync.MaxPending = 1 << 20;
    jo.PublishAsync.StallWait = 5;
    jo.PublishAsync.AckHandler = on_puback;
    s = natsConnection_JetStream(&g_js, g_nc, &jo);
    if (s != NATS_OK) goto err;
    natsInbox *ib = NULL;
    char subj[80];
    s = natsInbox_Create(&ib);
    if (s != NATS_OK) goto err;
    snprintf(g_batch_inbox, sizeof g_batch_inbox, "%s", (const char *)ib);
    natsInbox_Destroy(ib);
    snprintf(subj, sizeof subj, "%s.*", g_batch_inbox);
    s = natsConnection_Subscribe(&g_batch_sub, g_nc, subj, on_batch_ack, NULL);
    if (s == NATS_OK) s = natsSubscription_SetPendingLimits(g_batch_sub, -1, -1);
    if (s != NATS_OK) goto err;
    if (pthread_create(&g_ensure_thread, NULL, ensure_main, NULL) != 0) {
        wb_syserr("pthread_create");
        return -1;
    }
    g_ensure_started = true;
    return 0;
err:
    wb_error("nats start: %s (%s)", natsStatus_GetText(s), nats_GetLastError(NULL));
    return -1;
}

/* The bulk connection: the main one's options without SendAsap. Its failure
 * is not the gateway's: batches then use the main connection. */
static void bulk_start(void)
{
    char name[160];
    snprintf(name, sizeof name, "wb-gateway %s bulk", gw.cfg.gateway_id);
    natsOptions *o = wb_nats_options(gw.cfg.nats_url, name);
    natsStatus s = o ? NATS_OK : NATS_NO_MEMORY;
    if (s == NATS_OK) s = natsOptions_SetIOBufSize(o, BULK_IO_BUF);
    if (s == NATS_OK) s = natsOptions_SetRetryOnFailedConnect(o, true, NULL, NULL);
    if (s == NATS_OK) s = natsConnection_Connect(&g_bulk, o);
    if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
        wb_warn("nats bulk connection: %s: atomic batches use the main connection",
                natsStatus_GetText(s));
        natsConnection_Destroy(g_bulk);
        natsOptions_Destroy(o);
        g_bulk = NULL;
        return;
    }
    g_bulk_opts = o;
}

/* The connection a batch goes out on: the bulk one while it is connected. */
static natsConnection *batch_conn(void)
{
    if (g_bulk && natsConnection_Status(g_bulk) == NATS_CONN_STATUS_CONNECTED) return g_bulk;
    return g_nc;
}

int gw_nats_retry(void)
{
    natsConnection *nc = NULL;
    natsStatus s = natsConnection_Connect(&nc, g_opts);
    if (s != NATS_OK) {
        natsConnection_Destroy(nc);
        return 1;
    }
    g_nc = nc;
    on_connected(g_nc, NULL);
    return after_connect() < 0 ? -1 : 0;
}

int gw_nats_start(uv_loop_t *loop)
{
    char name[128];
    snprintf(name, sizeof name, "wb-gateway %s", gw.cfg.gateway_id);
    natsOptions *o = wb_nats_options(gw.cfg.nats_url, name);
    natsStatus s;
    if (!o) return -1;
    g_opts = o;
    nats_SetMessageDeliveryPoolSize(1);
    s = natsOptions_UseGlobalMessageDelivery(o, true);
    if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(o, on_disconnected, NULL);
    if (s == NATS_OK) s = natsOptions_SetReconnectedCB(o, on_reconnected, NULL);
    if (s == NATS_OK && gw.cfg.nats_send_asap) s = natsOptions_SetSendAsap(o, true);
    if (s != NATS_OK) goto err;
    wb_info("nats connecting to %s", gw.cfg.nats_url);
    if (loop) {
        /* The NATS socket on the gateway's loop: reads, parsing and writes
         * happen on the loop thread (no reader or flusher thread, no futex
         * per publish). The first attach must happen on the loop thread, so
         * a failed first connect is retried by the caller (gw_nats_retry),
         * not by nats.c's own thread. */
        natsLibuv_Init();
        natsLibuv_SetThreadLocalLoop(loop);
        s = natsOptions_SetEventLoop(o, loop, natsLibuv_Attach, natsLibuv_Read, natsLibuv_Write,
                                     natsLibuv_Detach);
        if (s != NATS_OK) goto err;
        return gw_nats_retry();
    }
    s = natsOptions_SetRetryOnFailedConnect(o, true, on_connected, NULL);
    if (s != NATS_OK) goto err;
    s = natsConnection_Connect(&g_nc, o);
    if (s == NATS_OK)
        on_connected(g_nc, NULL);
    else if (s != NATS_NOT_YET_CONNECTED)
        goto err;
    if (gw.cfg.nats_send_asap) bulk_start();
    return after_connect();
err:
    wb_error("nats start: %s (%s)", natsStatus_GetText(s), nats_GetLastError(NULL));
    return -1;
}

void gw_nats_stop(void)
{
    if (g_stopped) return;
    g_stopped = true;
    atomic_store(&g_stop, true);
    gw_nats_want_ensure();
    if (g_ensure_started) pthread_join(g_ensure_thread, NULL);
    if (g_js) {
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MaxWait = 2000;
        js_PublishAsyncComplete(g_js, &po);
    }
    if (g_bulk) {
        /* A batch still in its buffer is lost with its round: its clients
         * resend (the same ids) to the gateway they reconnect to. */
        natsConnection_Close(g_bulk);
        natsConnection_Destroy(g_bulk);
        natsOptions_Destroy(g_bulk_opts);
        g_bulk = NULL;
        g_bulk_opts = NULL;
    }
    if (g_nc && natsConnection_Status(g_nc) == NATS_CONN_STATUS_CONNECTED)
        natsConnection_DrainTimeout(g_nc, 2000);
    if (g_nc) {
        for (int i = 0; i < 40 && natsConnection_Status(g_nc) == NATS_CONN_STATUS_DRAINING_SUBS;
             i++)
            usleep(50 * 1000);
        natsConnection_Close(g_nc);
        wb_sub_reap_closed(g_nc);
    }
    natsSubscription_Destroy(g_batch_sub);
    g_batch_sub = NULL;
    jsCtx_Destroy(g_js);
    natsConnection_Destroy(g_nc);
    wb_sub_reaper_stop();
    natsOptions_Destroy(g_opts);
    g_opts = NULL;
    g_js = NULL;
    g_nc = NULL;
}

int gw_nats_board_subscribe(gw_board *b)
{
    char subj[128];
    natsStatus s;
    wb_subj_rp(subj, sizeof subj, b->id);
    s = natsConnection_Subscribe(&b->sub_rp, g_nc, subj, on_rp_msg, NULL);
    if (s == NATS_OK) s = natsSubscription_SetPendingLimits(b->sub_rp, 1 << 20, 256 << 20);
    if (s != NATS_OK) goto err;
    wb_subj_live(subj, sizeof subj, b->id);
    s = natsConnection_Subscribe(&b->sub_live, g_nc, subj, on_live_msg, NULL);
    if (s == NATS_OK) s = natsSubscription_SetPendingLimits(b->sub_live, 1 << 16, 64 << 20);
    if (s != NATS_OK) goto err;
    return 0;
err:
    wb_error("subscribe board=%s: %s", b->id, natsStatus_GetText(s));
    gw_nats_board_unsubscribe(b);
    return -1;
}

/* Destroys a subscription of g_nc: after a flush while the connection runs
 * (wb_subreap.h: nats.c 3.4.1 read-loop race), at once after it is gone. */
static void sub_dispose(natsSubscription *sub)
{
    if (!sub) return;
    if (g_nc)
        wb_sub_retire(g_nc, sub);
    else
        natsSubscription_Destroy(sub);
}

void gw_nats_board_unsubscribe(gw_board *b)
{
    sub_dispose(b->sub_rp);
    sub_dispose(b->sub_live);
    b->sub_rp = b->sub_live = NULL;
}

static void msg_id(const gw_pub *p, char *out, size_t n)
{
    if (p->republish)
        snprintf(out, n, "%s:%s", p->board, p->op_id);
    else
        snprintf(out, n, "%s", p->op_id);
}

int gw_nats_publish_op(const gw_pub *p)
{
    if (!gw_nats_ok()) return WB_E_UNAVAILABLE;
    char subj[128], msgid[2 * WB_ID_MAX + 2];
    natsMsg *m = NULL;
    jsPubOptions po;
    wb_subj_ev(subj, sizeof subj, p->board);
    msg_id(p, msgid, sizeof msgid);
    natsStatus s = natsMsg_Create(&m, subj, NULL, (const char *)p->data, (int)p->len);
    if (s == NATS_OK) s = natsMsgHeader_Set(m, "Nats-Msg-Id", msgid);
    if (s == NATS_OK) {
        jsPubOptions_Init(&po);
        po.MaxWait = 3000; /* below gw_commit's round timeout */
        s = js_PublishMsgAsync(g_js, &m, &po);
    }
    natsMsg_Destroy(m);
    if (s != NATS_OK) {
        wb_warn("publish op=%s board=%s: %s", p->op_id, p->board, natsStatus_GetText(s));
        return WB_E_UNAVAILABLE;
    }
    atomic_fetch_add(&gw_m.ops_published, 1);
    return 0;
}

int gw_nats_publish_batch(const char *batch_id, gw_pub *const *ops, size_t n)
{
    if (!gw_nats_ok()) return -1;
    char subj[128], msgid[2 * WB_ID_MAX + 2], reply[128], bseq[24];
    natsStatus s = NATS_OK;
    natsConnection *nc = batch_conn();
    snprintf(reply, sizeof reply, "%s.%s", g_batch_inbox, batch_id);
    for (size_t i = 0; i < n && s == NATS_OK; i++) {
        const gw_pub *p = ops[i];
        bool last = i + 1 == n;
        natsMsg *m = NULL;
        wb_subj_ev(subj, sizeof subj, p->board);
        msg_id(p, msgid, sizeof msgid);
        snprintf(bseq, sizeof bseq, "%zu", i + 1);
        s = natsMsg_Create(&m, subj, last ? reply : NULL, (const char *)p->data, (int)p->len);
        if (s == NATS_OK) s = natsMsgHeader_Set(m, "Nats-Msg-Id", msgid);
        if (s == NATS_OK) s = natsMsgHeader_Set(m, "Nats-Batch-Id", batch_id);
        if (s == NATS_OK) s = natsMsgHeader_Set(m, "Nats-Batch-Sequence", bseq);
        if (s == NATS_OK && last) s = natsMsgHeader_Set(m, "Nats-Batch-Commit", "1");
        if (s == NATS_OK) s = natsConnection_PublishMsg(nc, m);
        natsMsg_Destroy(m);
    }
    if (s != NATS_OK) {
        /* Without its commit the batch is abandoned by the server: nothing stored. */
        wb_warn("publish batch %s (%zu ops): %s", batch_id, n, natsStatus_GetText(s));
        return -1;
    }
    atomic_fetch_add(&gw_m.ops_published, n);
    return 0;
}

void gw_nats_publish_live(const char *board, const uint8_t *data, size_t len)
{
    if (!g_nc || !atomic_load(&g_connected)) return;
    char subj[128];
    wb_subj_live(subj, sizeof subj, board);
    if (natsConnection_Publish(g_nc, subj, data, (int)len) == NATS_OK)
        atomic_fetch_add(&gw_m.live_published, 1);
}
