/* bench_track: per-sender bookkeeping of sent messages, so that every
 * receipt can be matched to its send time and counted exactly once.
 *
 * Each sender owns a ring of records indexed by its message counter (the
 * counter is carried in the op id, or in the cursor's x). A record holds the
 * send time, the number of receivers expected, an ack time and one bit per
 * board member (member index 0..members-1) so a second receipt at the same
 * client is a duplicate, not a delivery. Memory is allocated once per
 * sender; nothing is allocated per message. When a slot is reused (the ring
 * wrapped) or at the end (bt_finish), what never arrived is counted as
 * missing.
 *
 * Threads: a ring belongs to its sender's thread (bt_send, bt_ack,
 * bt_finish); bt_recv may run on any thread (receivers of one board can be
 * served by different threads): it sets the member's bit and counts the
 * receipt atomically, and counts into the caller's own bt_stats. */
#ifndef BENCH_TRACK_H
#define BENCH_TRACK_H

#include <stddef.h>
#include <stdint.h>

typedef struct bt_stats {
    uint64_t sent;     /* messages sent */
    uint64_t expected; /* deliveries expected: sum of receivers at send time */
    uint64_t received; /* first receipts (deliveries) */
    uint64_t dup;      /* second or later receipt by the same member */
    uint64_t missing;  /* expected but never received (counted at wrap/finish) */
    uint64_t unknown;  /* receipt of a counter not (or no longer) in the ring */
    uint64_t acked;    /* first acks */
    uint64_t ack_dup;  /* acks for an already acked message */
    uint64_t ack_unknown;
    uint64_t unacked; /* sent but never acked (counted at wrap/finish) */
} bt_stats;

typedef struct bt_rec {
    uint64_t counter;
    uint64_t t_send_ns; /* 0: slot empty */
    uint64_t t_ack_ns;  /* 0: not acked */
    uint32_t expected;
    uint32_t recv;
} bt_rec;

typedef struct bt_ring {
    bt_rec *recs;
    uint64_t *bits;   /* ring * words */
    uint32_t size;    /* power of two */
    uint32_t words;   /* 64-bit words per record bitmap */
    uint32_t members; /* bitmap width */
    int track_acks;   /* count unacked at wrap/finish */
} bt_ring;

/* size is rounded up to a power of two (minimum 16). Returns 0 or -1. */
int bt_ring_init(bt_ring *r, uint32_t size, uint32_t members, int track_acks);
void bt_ring_free(bt_ring *r);

/* Records a send; finalizes whatever the slot held before. */
void bt_send(bt_ring *r, bt_stats *st, uint64_t counter, uint64_t t_ns, uint32_t expected);

typedef enum { BT_NEW = 0, BT_DUP = 1, BT_UNKNOWN = 2 } bt_result;

/* Records a receipt of `counter` by board member `member`. On BT_NEW,
 * *t_send_ns is the send time. */
bt_result bt_recv(bt_ring *r, bt_stats *st, uint64_t counter, uint32_t member, uint64_t *t_send_ns);

/* Records an ack; on BT_NEW *t_send_ns is the send time. */
bt_result bt_ack(bt_ring *r, bt_stats *st, uint64_t counter, uint64_t t_ack_ns,
                 uint64_t *t_send_ns);

/* Finalizes every slot (missing / unacked); the ring is empty afterwards. */
void bt_finish(bt_ring *r, bt_stats *st);

void bt_stats_add(bt_stats *dst, const bt_stats *src);

#endif
