/* wb_subreap: NATS subscriptions unsubscribed now and destroyed once the
 * read loop is provably past them (see wb_subreap.h for the nats.c race). */
#include "wb_subreap.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wb_log.h"

/* How long one flush may take before the reaper tries again later. */
#define REAP_FLUSH_MS 2000
/* How long the reaper sleeps when there is nothing it can do. */
#define REAP_IDLE_MS 1000

/* One retired subscription. Owned by the graveyard list. */
typedef struct retired {
    struct retired *next;
    natsConnection *nc;
    natsSubscription *sub;
} retired;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static retired *g_list;    /* {g_lock} waiting to be destroyed */
static bool g_busy;        /* {g_lock} the reaper is flushing a batch taken from g_list */
static bool g_started;     /* {g_lock} the reaper thread exists */
static bool g_stop;        /* {g_lock} the reaper must exit */
static pthread_t g_thread; /* {g_lock} */

static void destroy_all(retired *r)
{
    while (r) {
        retired *next = r->next;
        natsSubscription_Destroy(r->sub);
        free(r);
        r = next;
    }
}

/* Reaper thread: takes the whole list, flushes each connection once, and
 * destroys the subscriptions of the connections whose flush returned; the
 * rest go back on the list for the next round. */
static void *reaper_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&g_lock);
    while (!g_stop) {
        if (!g_list) {
            pthread_cond_wait(&g_cond, &g_lock);
            continue;
        }
        retired *batch = g_list;
        g_list = NULL;
        g_busy = true;
        pthread_mutex_unlock(&g_lock);

        retired *done = NULL, *keep = NULL;
        while (batch) {
            /* One flush per connection: split off this connection's entries. */
            natsConnection *nc = batch->nc;
            retired *mine = NULL, *rest = NULL;
            for (retired *r = batch, *next; r; r = next) {
                next = r->next;
                retired **to = r->nc == nc ? &mine : &rest;
                r->next = *to;
                *to = r;
            }
            batch = rest;
            retired **to =
                natsConnection_FlushTimeout(nc, REAP_FLUSH_MS) == NATS_OK ? &done : &keep;
            while (mine) {
                retired *next = mine->next;
                mine->next = *to;
                *to = mine;
                mine = next;
            }
        }
        destroy_all(done);

        pthread_mutex_lock(&g_lock);
        g_busy = false;
        pthread_cond_broadcast(&g_cond);
        if (keep) {
            retired *tail = keep;
            while (tail->next)
                tail = tail->next;
            tail->next = g_list;
            g_list = keep;
            if (!g_stop) {
                /* Not connected now: try again a little later. */
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += REAP_IDLE_MS / 1000;
                pthread_cond_timedwait(&g_cond, &g_lock, &ts);
            }
        }
    }
    pthread_mutex_unlock(&g_lock);
    return NULL;
}

void wb_sub_retire(natsConnection *nc, natsSubscription *sub)
{
    if (!sub) return;
    natsSubscription_Unsubscribe(sub);
    retired *r = malloc(sizeof *r);
    pthread_mutex_lock(&g_lock);
    if (!g_started && !g_stop) {
        int rc = pthread_create(&g_thread, NULL, reaper_main, NULL);
        if (rc == 0)
            g_started = true;
        else
            wb_error("pthread_create (subscription reaper): %s", strerror(rc));
    }
    if (!r || !g_started) {
        /* Out of memory or no thread: keeping the subscription alive forever
         * is safe; destroying it now is not. */
        pthread_mutex_unlock(&g_lock);
        if (!r) wb_error("out of memory: retired subscription kept");
        free(r);
        return;
    }
    r->nc = nc;
    r->sub = sub;
    r->next = g_list;
    g_list = r;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

void wb_sub_reap_closed(natsConnection *nc)
{
    pthread_mutex_lock(&g_lock);
    while (g_busy)
        pthread_cond_wait(&g_cond, &g_lock);
    retired *mine = NULL, **pp = &g_list;
    while (*pp) {
        retired *r = *pp;
        if (r->nc == nc) {
            *pp = r->next;
            r->next = mine;
            mine = r;
        } else {
            pp = &r->next;
        }
    }
    pthread_mutex_unlock(&g_lock);
    destroy_all(mine);
}

void wb_sub_reaper_stop(void)
{
    pthread_mutex_lock(&g_lock);
    g_stop = true;
    bool started = g_started;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
    if (started) pthread_join(g_thread, NULL);
    pthread_mutex_lock(&g_lock);
    retired *left = g_list;
    g_list = NULL;
    g_started = false;
    pthread_mutex_unlock(&g_lock);
    destroy_all(left);
}
