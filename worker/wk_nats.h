/* wk_nats: the worker's NATS connections and its durable pull consumer
 * `wb-worker` on stream WB_OPS (explicit ack), ensured idempotently.
 * A wk_nats is used by the thread that created it (nats.c itself is
 * thread-safe; the worker keeps one connection for persistence and one for
 * snapshots + consumer stats). */
#ifndef WK_NATS_H
#define WK_NATS_H

#include <nats/nats.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>

#define WK_CONSUMER "wb-worker"

typedef struct wk_nats {
    natsConnection *nc;
    jsCtx *js;
    _Atomic int *up; /* 1 while connected (set by callbacks), may be NULL */
} wk_nats;

/* Connects (retrying every 500 ms until *stop), with endless reconnects.
 * Returns 0, or -1 if stopped first or on a setup error. */
/* Reconnects of any worker connection so far (any thread). */
extern atomic_uint wk_nats_reconnects;

int wk_nats_open(wk_nats *n, const char *url, const char *name, _Atomic int *up,
                 volatile sig_atomic_t *stop);
void wk_nats_close(wk_nats *n);

/* Creates or updates the durable pull consumer (ack wait, max ack pending). */
int wk_nats_consumer_ensure(jsCtx *js, long long ack_wait_ms, long long max_ack_pending);

/* Binds a pull subscription to the durable consumer. */
int wk_nats_pull_subscribe(jsCtx *js, natsSubscription **sub);

/* Reads the consumer's info: ack floor stream seq, pending, ack pending. */
int wk_nats_consumer_state(jsCtx *js, uint64_t *ack_floor, int64_t *pending, int64_t *ack_pending);

#endif
