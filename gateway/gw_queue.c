/* gw_queue: the mailbox from nats.c threads and the sync pool to the loop
 * thread, and the typed events it carries. Producers append under a lock and
 * wake the loop (the hook gw_loop.c sets) only when the queue goes from empty
 * to non-empty; the loop takes the whole batch at once (the pattern of h2o's
 * lib/common/multithread.c). A leaf: it calls nothing but the hook. */
#include <stddef.h>
#include <stdlib.h>

#include "gw.h"

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static gw_event *g_head, *g_tail;
static void (*g_wake)(void);

static size_t body_size(gw_event_type t)
{
    switch (t) {
    case GW_EV_OP:
        return sizeof(gw_ev_op);
    case GW_EV_LIVE:
        return sizeof(gw_ev_live);
    case GW_EV_PRESENCE:
        return sizeof(gw_ev_presence);
    case GW_EV_PUBACK:
        return sizeof(gw_ev_puback);
    case GW_EV_REPUBLISH:
        return sizeof(gw_ev_republish);
    case GW_EV_JOIN:
        return sizeof(gw_ev_join);
    case GW_EV_API:
        return sizeof(gw_ev_api);
    case GW_EV_FILL:
        return sizeof(gw_ev_fill);
    case GW_EV_NATS:
        return sizeof(gw_ev_nats);
    case GW_EV_BATCH:
        return sizeof(gw_ev_batch);
    case GW_EV_RESOLVED:
        return sizeof(gw_ev_resolved);
    case GW_EV_OPID:
        return sizeof(gw_ev_opid);
    case GW_EV_OPID_DONE:
        return sizeof(gw_ev_opid_done);
    case GW_EV_REPLAY:
        return sizeof(gw_ev_replay);
    }
    return sizeof(((gw_event *)0)->u);
}

gw_event *gw_event_new(gw_event_type t)
{
    gw_event *e = calloc(1, offsetof(gw_event, u) + body_size(t));
    if (e) e->type = t;
    return e;
}

static void unref_all(gw_buf **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        gw_buf_unref(v[i]);
    free(v);
}

void gw_event_free(gw_event *e)
{
    if (!e) return;
    switch (e->type) {
    case GW_EV_OP:
        gw_buf_unref(e->u.op.buf);
        break;
    case GW_EV_LIVE:
        gw_buf_unref(e->u.live.buf);
        break;
    case GW_EV_PRESENCE:
        free(e->u.presence.clients_json);
        break;
    case GW_EV_JOIN:
        gw_buf_unref(e->u.join.snapshot);
        unref_all(e->u.join.evs, e->u.join.nevs);
        break;
    case GW_EV_API:
        gw_buf_unref(e->u.api.body);
        break;
    case GW_EV_FILL:
        unref_all(e->u.fill.evs, e->u.fill.nevs);
        break;
    case GW_EV_REPLAY:
        unref_all(e->u.replay.evs, e->u.replay.nevs);
        break;
    case GW_EV_PUBACK:
    case GW_EV_REPUBLISH:
    case GW_EV_NATS:
    case GW_EV_BATCH:
    case GW_EV_RESOLVED:
    case GW_EV_OPID:
    case GW_EV_OPID_DONE:
        break;
    }
    free(e);
}

void gw_queue_set_wake(void (*wake)(void))
{
    pthread_mutex_lock(&g_lock);
    g_wake = wake;
    pthread_mutex_unlock(&g_lock);
}

void gw_queue_push(gw_event *e)
{
    e->next = NULL;
    pthread_mutex_lock(&g_lock);
    bool was_empty = g_head == NULL;
    if (g_tail)
        g_tail->next = e;
    else
        g_head = e;
    g_tail = e;
    void (*wake)(void) = g_wake;
    pthread_mutex_unlock(&g_lock);
    if (was_empty && wake) wake();
}

gw_event *gw_queue_take_all(void)
{
    pthread_mutex_lock(&g_lock);
    gw_event *e = g_head;
    g_head = g_tail = NULL;
    pthread_mutex_unlock(&g_lock);
    return e;
}
