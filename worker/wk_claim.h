/* wk_claim: after a batch commits, claims each op id on
 * "wb.opid.{board}.{op}" (stream WB_OPIDS keeps the first claim forever), so
 * a gateway can answer a resend that comes after JetStream's duplicate
 * window with the seq that stored the op instead of storing it again.
 * Persistence thread only. */
#ifndef WK_CLAIM_H
#define WK_CLAIM_H

#include <nats/nats.h>
#include <stdint.h>

/* Publishes the claims of messages msgs[from, to) (seqs[i] 0: skipped).
 * Fire and forget: a claim that already exists is refused by the stream,
 * which is what keeps the first seq. */
void wk_claim_publish(natsConnection *nc, natsMsg *const *msgs, const uint64_t *seqs, int from,
                      int to);

#endif
