/* wb_subreap: retiring NATS subscriptions safely while their connection runs.
 *
 * nats.c before 3.6 (Debian 12 ships 3.4.1) has a race (nats.c issue #637,
 * fixed upstream by commit 0a7dd28): the read loop looks a subscription up
 * under the connection's lock, drops the lock and then locks the
 * subscription's own mutex. A natsSubscription_Destroy in that window frees
 * the subscription under the read loop, which then locks freed memory (seen
 * as a SEGV in pthread_mutex_trylock on a nats.c thread, or glibc's
 * "e != ESRCH || !robust" assertion). Unsubscribing alone is safe: the
 * caller's reference keeps the memory alive. So a subscription is
 * unsubscribed at once and destroyed only after a flush (PING/PONG) on its
 * connection has returned: the read loop handles messages in order, so once
 * it has read the PONG it has finished with every message that could still
 * have named the subscription.
 *
 * Thread: any. A reaper thread (started on first use) does the flushes, so a
 * caller on an event loop never blocks. */
#ifndef WB_SUBREAP_H
#define WB_SUBREAP_H

#include <nats/nats.h>

/* Unsubscribes sub (NULL: nothing) and hands it to the reaper, which
 * destroys it after a successful flush on nc. Takes ownership of sub. */
void wb_sub_retire(natsConnection *nc, natsSubscription *sub);

/* Destroys every retired subscription of nc at once. Call it after
 * natsConnection_Close(nc) (no read loop left) and before
 * natsConnection_Destroy(nc); waits for a flush the reaper has under way. */
void wb_sub_reap_closed(natsConnection *nc);

/* Stops the reaper thread (if it runs), destroying what is left; every
 * connection named by a retired subscription must be closed by then.
 * Call once at exit, before nats_Close(). */
void wb_sub_reaper_stop(void);

#endif
