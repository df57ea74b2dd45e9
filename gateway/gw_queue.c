/* gw_queue: the locked hand-off from nats.c threads and the sync pool to the
 * lws service thread. Producers append and wake the loop with
 * lws_cancel_service() only when the queue goes from empty to non-empty; the
 * lws thread takes the whole batch at once in EVENT_WAIT_CANCELLED. */
#include <stdlib.h>
#include <string.h>

#include "gw.h"

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static gw_event *g_head, *g_tail;

gw_event *gw_event_new(gw_event_type t)
{
    gw_event *e = calloc(1, sizeof *e);
    if (e) e->type = t;
    return e;
}

void gw_event_free(gw_event *e)
{
    if (!e) return;
    gw_buf_unref(e->buf);
    for (size_t i = 0; i < e->nbufs; i++)
        gw_buf_unref(e->bufs[i]);
    free(e->bufs);
    free(e->presence_json);
    free(e);
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
    pthread_mutex_unlock(&g_lock);
    if (was_empty && gw.ctx) lws_cancel_service(gw.ctx);
}

gw_event *gw_queue_take_all(void)
{
    pthread_mutex_lock(&g_lock);
    gw_event *e = g_head;
    g_head = g_tail = NULL;
    pthread_mutex_unlock(&g_lock);
    return e;
}
