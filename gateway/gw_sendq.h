/* gw_sendq.h: one client's send queue and the send policy: every byte and
 * message count of a queue is kept here, and only here. Pure data structure
 * (no lws calls), owned by the loop thread through its gw_conn. */
#ifndef GW_SENDQ_H
#define GW_SENDQ_H

#include <stdbool.h>
#include <stddef.h>

#include "gw_buf.h"

typedef struct gw_sendq {
    gw_buf **items; /* ring of references */
    size_t cap, head, count, bytes;
    size_t sync_items, sync_bytes; /* welcome + snapshot/replay at the head: exempt from bounds */
    size_t presence_queued;        /* presence lists in the ring */
    size_t cursors_queued;         /* cursors in the ring */
    size_t ctl_queued;             /* acks, errors, pongs in the ring (see gw_ws_flush) */
} gw_sendq;

typedef struct gw_sendq_limits {
    size_t max_items, max_bytes; /* beyond: close 1013; beyond half: ephemerals dropped */
} gw_sendq_limits;

typedef enum {
    GW_SENDQ_QUEUED = 0,
    GW_SENDQ_DROPPED, /* an ephemeral frame under pressure: not queued */
    GW_SENDQ_FULL,    /* over the bound: the client must be closed with 1013 */
    GW_SENDQ_NOMEM,
} gw_sendq_result;

typedef struct gw_sendq_stats {
    size_t dropped;   /* ephemeral frames dropped under pressure */
    size_t coalesced; /* cursors replaced by a newer one of the same sender */
} gw_sendq_stats;

/* The send policy for one frame: a newer presence list replaces queued
 * ones; a newer cursor of the same sender replaces its queued one (the new
 * one goes to the tail, so each sender's frames keep their order); at half
 * the bound every ephemeral frame is dropped (and a new ephemeral one is not
 * queued); at the bound the answer is FULL. The sync head is exempt. Takes a
 * reference when QUEUED. */
gw_sendq_result gw_sendq_offer(gw_sendq *q, gw_buf *b, const gw_sendq_limits *lim,
                               gw_sendq_stats *st);
/* Appends without the policy (the sync head); takes a reference. */
int gw_sendq_push(gw_sendq *q, gw_buf *b);
/* Everything queued now is the sync head (exempt from the bounds). */
void gw_sendq_mark_sync(gw_sendq *q);
gw_buf *gw_sendq_pop(gw_sendq *q); /* caller owns the reference */
gw_buf *gw_sendq_peek(const gw_sendq *q, size_t i);
/* Drops every frame of the given kind; returns how many. */
size_t gw_sendq_drop_kind(gw_sendq *q, int kind);
/* Drops every ephemeral frame (drafts and cursors); returns how many. */
size_t gw_sendq_drop_ephemeral(gw_sendq *q);
void gw_sendq_free(gw_sendq *q);

#endif
