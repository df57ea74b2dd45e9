/* wk_nats: NATS connection set-up, the durable consumer of the worker and the
 * pull protocol on core NATS. Called from the thread owning the wk_nats; the
 * connection callbacks run on nats.c threads and only flip the atomic `up`
 * flag. Owns nc and js. */
#include "wk_nats.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wb_log.h"
#include "wb_subreap.h"
#include "wb_nats.h"

static void on_disconnected(natsConnection *nc, void *closure)
{
    _Atomic int *up = closure;
    if (up) atomic_store(up, 0);
    wb_warn("nats disconnected");
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    _Atomic int *up = closure;
    if (up) atomic_store(up, 1);
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
        wb_sub_reap_closed(n->nc);
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

/* Margin over the request's expiry before giving up on the server's 408. */
#define PULL_GRACE_MS 500
/* Room for the subject, ack reply and headers of one message. */
#define PULL_MSG_OVERHEAD 4096

/* 0: no "Status" header (a delivered message). Otherwise its code, with
 * "<code> <description>" in why. */
static int status_of(natsMsg *m, char *why, size_t cap)
{
    const char *st = NULL, *desc = NULL;
    if (natsMsgHeader_Get(m, "Status", &st) != NATS_OK || !st || !*st) return 0;
    if (natsMsgHeader_Get(m, "Description", &desc) != NATS_OK || !desc) desc = "";
    snprintf(why, cap, "%s %s", st, desc);
    int code = atoi(st);
    return code > 0 ? code : -1;
}

/* A status that just ends the pull request (nothing wrong). */
static bool status_ends_request(int code, const char *why)
{
    if (code == 404 || code == 408) return true; /* no messages / request expired */
    return code == 409 && (strstr(why, "Exceeds MaxBytes") || strstr(why, "Batch Completed"));
}

natsStatus wk_nats_ack(natsConnection *nc, natsMsg *m, const char *kind)
{
    const char *reply = natsMsg_GetReply(m);
    if (!reply || !*reply) return NATS_INVALID_ARG;
    return natsConnection_Publish(nc, reply, kind, (int)strlen(kind));
}

natsStatus wk_nats_pull(natsConnection *nc, int batch, long long max_bytes, long long wait_ms,
                        natsMsg **msgs, int *count, char *why, size_t why_cap)
{
    assert(batch > 0 && wait_ms > 0);
    *count = 0;
    why[0] = '\0';
    natsInbox *inbox = NULL;
    natsSubscription *sub = NULL;
    natsStatus s = natsInbox_Create(&inbox);
    if (s == NATS_OK) s = natsConnection_SubscribeSync(&sub, nc, inbox);
    /* The server bounds the delivery by batch and max_bytes. */
    if (s == NATS_OK) s = natsSubscription_SetPendingLimits(sub, -1, -1);
    if (s != NATS_OK) {
        snprintf(why, why_cap, "inbox subscription: %s", natsStatus_GetText(s));
        goto out;
    }
    /* max_bytes plus one maximal message: a message bigger than the budget
     * must still come (the server would refuse it with a 409 forever). */
    int64_t maxp = natsConnection_GetMaxPayload(nc);
    long long req_bytes = max_bytes + (maxp > 0 ? maxp : 0) + PULL_MSG_OVERHEAD;
    char body[128];
    int n = snprintf(body, sizeof body, "{\"batch\":%d,\"expires\":%lld,\"max_bytes\":%lld}", batch,
                     wait_ms * 1000000LL, req_bytes);
    s = natsConnection_PublishRequest(nc, "$JS.API.CONSUMER.MSG.NEXT." WB_STREAM "." WK_CONSUMER,
                                      inbox, body, n);
    if (s != NATS_OK) {
        snprintf(why, why_cap, "pull request: %s", natsStatus_GetText(s));
        goto out;
    }
    int64_t deadline = nats_Now() + wait_ms + PULL_GRACE_MS;
    while (*count < batch) {
        int64_t left = deadline - nats_Now();
        if (left <= 0) break; /* the server never closed the request */
        natsMsg *m = NULL;
        s = natsSubscription_NextMsg(&m, sub, left);
        if (s == NATS_TIMEOUT) {
            s = NATS_OK;
            break;
        }
        if (s != NATS_OK) {
            /* NATS_NO_RESPONDERS: the consumer does not exist (any more). */
            snprintf(why, why_cap, "next message: %s", natsStatus_GetText(s));
            break;
        }
        int code = status_of(m, why, why_cap);
        if (code == 100) { /* idle heartbeat (not asked for): keep waiting */
            natsMsg_Destroy(m);
            why[0] = '\0';
            continue;
        }
        if (code != 0) {
            natsMsg_Destroy(m);
            if (status_ends_request(code, why))
                why[0] = '\0';
            else
                s = NATS_ERR;
            break;
        }
        msgs[(*count)++] = m;
    }
out:
    if (sub) {
        /* Anything already queued is beyond this request: hand it back now
         * (what arrives after the unsubscribe is redelivered after the ack wait). */
        int queued = 0;
        natsMsg *m = NULL;
        if (natsSubscription_GetPending(sub, &queued, NULL) == NATS_OK)
            while (queued-- > 0 && natsSubscription_NextMsg(&m, sub, 0) == NATS_OK) {
                char tmp[8];
                if (status_of(m, tmp, sizeof tmp) == 0) wk_nats_ack(nc, m, "-NAK");
                natsMsg_Destroy(m);
            }
        wb_sub_retire(nc, sub);
    }
    natsInbox_Destroy(inbox);
    return s;
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
