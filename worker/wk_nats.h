/* wk_nats: the worker's NATS connections and its durable pull consumer
 * `wb-worker` on stream WB_OPS (explicit ack), ensured idempotently, pulled
 * with the JetStream pull protocol on core NATS.
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
int wk_nats_open(wk_nats *n, const char *url, const char *name, _Atomic int *up,
                 volatile sig_atomic_t *stop);
void wk_nats_close(wk_nats *n);

/* Creates or updates the durable pull consumer (ack wait, max ack pending). */
int wk_nats_consumer_ensure(jsCtx *js, long long ack_wait_ms, long long max_ack_pending);

/* One pull of the durable consumer on core NATS (no nats.c JetStream
 * subscription): subscribes a fresh inbox, publishes
 * {"batch":batch,"expires":wait_ms,"max_bytes":...} to
 * $JS.API.CONSUMER.MSG.NEXT.WB_OPS.wb-worker with that reply, then collects
 * messages until `batch` of them, a status message (404 no messages, 408
 * expired, 409 max bytes / batch completed: the request is done) or wait_ms
 * plus a margin. Stores at most `batch` messages in msgs (caller-owned, at
 * least `batch` entries; the caller destroys them and acks them with
 * wk_nats_ack); whatever else is already queued is nak'ed, later arrivals are
 * redelivered after the ack wait. max_bytes is the byte budget (one message
 * above it still comes). Returns NATS_OK (*count may be 0), or the failure
 * with `why` filled (no responders: the consumer is missing; a 409 such as
 * "Consumer Deleted"; the request could not be sent); messages collected
 * before it are still in msgs. Logs nothing: the loop rate-limits. */
natsStatus wk_nats_pull(natsConnection *nc, int batch, long long max_bytes, long long wait_ms,
                        natsMsg **msgs, int *count, char *why, size_t why_cap);

/* Acks a pulled message by publishing `kind` ("+ACK", "-NAK", "+WPI") to its
 * reply subject (natsMsg_Ack needs a JetStream subscription). Returns the
 * publish status (NATS_INVALID_ARG: no reply subject). */
natsStatus wk_nats_ack(natsConnection *nc, natsMsg *m, const char *kind);

/* Reads the consumer's info: ack floor stream seq, pending, ack pending. */
int wk_nats_consumer_state(jsCtx *js, uint64_t *ack_floor, int64_t *pending, int64_t *ack_pending);

#endif
