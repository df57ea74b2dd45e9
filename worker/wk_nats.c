/* wk_nats: NATS connection set-up and the durable consumer of the worker.
 * Called from the thread owning the wk_nats; the connection callbacks run on
 * nats.c threads and only flip the atomic `up` flag. Owns nc and js. */
#include "wk_nats.h"

#include <assert.h>
#include <string.h>
#include <unistd.h>

#include "wb_log.h"
#include "wb_nats.h"

static void on_disconnected(natsConnection *nc, void *closure)
{
    _Atomic int *up = closure;
    if (up) atomic_store(up, 0);
    wb_warn("nats disconnected");
}

atomic_uint wk_nats_reconnects;

static void on_reconnected(natsConnection *nc, void *closure)
{
    _Atomic int *up = closure;
    if (up) atomic_store(up, 1);
    atomic_fetch_add(&wk_nats_reconnects, 1);
    wb_info("nats reconnected");
}

int wk_nats_open(wk_nats *n, const char *url, const char *name, _Atomic int *up,
                 volatile sig_atomic_t *stop)
{
    memset(n, 0, sizeof *n);
    n->up = up;
    natsOptions *o = wb_nats_options(url, name);
    if (!o) return -1;
    natsStatus s = natsOptions_SetDisconnectedCB(o, on_disconnected, up);
    if (s == NATS_OK) s = natsOptions_SetReconnectedCB(o, on_reconnected, up);
    /* Big enough for a snapshot chunk (the server's max_payload is 4 MB). */
    if (s != NATS_OK) {
        wb_error("nats options: %s", natsStatus_GetText(s));
        goto err;
    }
    bool logged = false;
    for (;;) {
        s = natsConnection_Connect(&n->nc, o);
        if (s == NATS_OK) break;
        if (!logged) wb_warn("nats connect %s: %s (retrying)", url, natsStatus_GetText(s));
        logged = true;
        if (stop && *stop) goto err;
        usleep(500 * 1000);
        if (stop && *stop) goto err;
    }
    if (up) atomic_store(up, 1);
    s = natsConnection_JetStream(&n->js, n->nc, NULL);
    if (s != NATS_OK) {
        wb_error("nats jetstream context: %s", natsStatus_GetText(s));
        goto err;
    }
    natsOptions_Destroy(o);
    wb_info("nats connected to %s as %s", url, name);
    return 0;
err:
    natsOptions_Destroy(o);
    wk_nats_close(n);
    return -1;
}

void wk_nats_close(wk_nats *n)
{
    if (n->js) jsCtx_Destroy(n->js);
    if (n->nc) {
        natsConnection_Close(n->nc);
        natsConnection_Destroy(n->nc);
    }
    if (n->up) atomic_store(n->up, 0);
    n->js = NULL;
    n->nc = NULL;
}

static void consumer_config(jsConsumerConfig *cc, long long ack_wait_ms, long long max_ack_pending)
{
    jsConsumerConfig_Init(cc);
    cc->Durable = WK_CONSUMER;
    cc->Description = "whiteboard persistence worker: ops -> PostgreSQL";
    cc->AckPolicy = js_AckExplicit;
    cc->DeliverPolicy = js_DeliverAll;
    cc->AckWait = ack_wait_ms * 1000000LL;
    cc->MaxAckPending = max_ack_pending;
    cc->MaxWaiting = 512;
    cc->MaxDeliver = -1;
}

int wk_nats_consumer_ensure(jsCtx *js, long long ack_wait_ms, long long max_ack_pending)
{
    jsConsumerConfig cc;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    consumer_config(&cc, ack_wait_ms, max_ack_pending);
    natsStatus s = js_GetConsumerInfo(&ci, js, WB_STREAM, WK_CONSUMER, NULL, &jerr);
    if (s == NATS_NOT_FOUND) {
        jerr = 0;
        s = js_AddConsumer(&ci, js, WB_STREAM, &cc, NULL, &jerr);
        if (s == NATS_OK) wb_info("created consumer %s on %s", WK_CONSUMER, WB_STREAM);
    } else if (s == NATS_OK) {
        bool same = ci->Config && ci->Config->AckWait == cc.AckWait &&
                    ci->Config->MaxAckPending == cc.MaxAckPending;
        jsConsumerInfo_Destroy(ci);
        ci = NULL;
        if (!same) {
            s = js_UpdateConsumer(&ci, js, WB_STREAM, &cc, NULL, &jerr);
            if (s == NATS_OK) wb_info("updated consumer %s", WK_CONSUMER);
        }
    }
    if (ci) jsConsumerInfo_Destroy(ci);
    if (s != NATS_OK) {
        wb_error("ensure consumer %s: %s (jetstream error %d: %s)", WK_CONSUMER,
                 natsStatus_GetText(s), (int)jerr, nats_GetLastError(NULL));
        return -1;
    }
    return 0;
}

int wk_nats_pull_subscribe(jsCtx *js, natsSubscription **sub)
{
    jsSubOptions so;
    jsErrCode jerr = 0;
    jsSubOptions_Init(&so);
    so.Stream = WB_STREAM;
    so.Consumer = WK_CONSUMER;
    so.ManualAck = true;
    natsStatus s = js_PullSubscribe(sub, js, WB_SUBJ_EV_ALL, WK_CONSUMER, NULL, &so, &jerr);
    if (s != NATS_OK) {
        wb_error("pull subscribe %s: %s (jetstream error %d: %s)", WK_CONSUMER,
                 natsStatus_GetText(s), (int)jerr, nats_GetLastError(NULL));
        *sub = NULL;
        return -1;
    }
    return 0;
}

int wk_nats_consumer_state(jsCtx *js, uint64_t *ack_floor, int64_t *pending, int64_t *ack_pending)
{
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetConsumerInfo(&ci, js, WB_STREAM, WK_CONSUMER, NULL, &jerr);
    if (s != NATS_OK) return -1;
    if (ack_floor) *ack_floor = ci->AckFloor.Stream;
    if (pending) *pending = (int64_t)ci->NumPending;
    if (ack_pending) *ack_pending = ci->NumAckPending;
    jsConsumerInfo_Destroy(ci);
    return 0;
}
