/* bench_track: see bench_track.h. */
#include "bench_track.h"

#include <stdlib.h>
#include <string.h>

#include "wb_log.h"

int bt_ring_init(bt_ring *r, uint32_t size, uint32_t members, int track_acks)
{
    memset(r, 0, sizeof *r);
    uint32_t s = 16;
    while (s < size && s < (1u << 30))
        s <<= 1;
    r->size = s;
    r->members = members ? members : 1;
    r->words = (r->members + 63) / 64;
    r->track_acks = track_acks;
    r->recs = calloc(s, sizeof *r->recs);
    r->bits = calloc((size_t)s * r->words, sizeof *r->bits);
    if (!r->recs || !r->bits) {
        wb_error("bench: out of memory for a %u-slot ring", s);
        bt_ring_free(r);
        return -1;
    }
    return 0;
}

void bt_ring_free(bt_ring *r)
{
    free(r->recs);
    free(r->bits);
    r->recs = NULL;
    r->bits = NULL;
}

static void finalize(bt_ring *r, bt_stats *st, bt_rec *rec)
{
    if (!rec->t_send_ns) return;
    uint32_t recv = __atomic_load_n(&rec->recv, __ATOMIC_RELAXED);
    if (recv < rec->expected) st->missing += rec->expected - recv;
    if (r->track_acks && !rec->t_ack_ns) st->unacked++;
    rec->t_send_ns = 0;
}

void bt_send(bt_ring *r, bt_stats *st, uint64_t counter, uint64_t t_ns, uint32_t expected)
{
    size_t i = counter & (r->size - 1);
    bt_rec *rec = &r->recs[i];
    finalize(r, st, rec);
    rec->counter = counter;
    rec->t_send_ns = t_ns ? t_ns : 1;
    rec->t_ack_ns = 0;
    rec->expected = expected;
    rec->recv = 0;
    memset(&r->bits[i * r->words], 0, r->words * sizeof *r->bits);
    st->sent++;
    st->expected += expected;
}

static bt_rec *lookup(bt_ring *r, uint64_t counter)
{
    bt_rec *rec = &r->recs[counter & (r->size - 1)];
    return rec->t_send_ns && rec->counter == counter ? rec : NULL;
}

bt_result bt_recv(bt_ring *r, bt_stats *st, uint64_t counter, uint32_t member, uint64_t *t_send_ns)
{
    bt_rec *rec = lookup(r, counter);
    if (!rec || member >= r->members) {
        st->unknown++;
        return BT_UNKNOWN;
    }
    uint64_t *w = &r->bits[(size_t)(counter & (r->size - 1)) * r->words + member / 64];
    uint64_t bit = 1ull << (member % 64);
    /* atomic: the members of a board may be served by different threads */
    if (__atomic_fetch_or(w, bit, __ATOMIC_RELAXED) & bit) {
        st->dup++;
        return BT_DUP;
    }
    __atomic_fetch_add(&rec->recv, 1, __ATOMIC_RELAXED);
    st->received++;
    if (t_send_ns) *t_send_ns = rec->t_send_ns;
    return BT_NEW;
}

bt_result bt_ack(bt_ring *r, bt_stats *st, uint64_t counter, uint64_t t_ack_ns, uint64_t *t_send_ns)
{
    bt_rec *rec = lookup(r, counter);
    if (!rec) {
        st->ack_unknown++;
        return BT_UNKNOWN;
    }
    if (rec->t_ack_ns) {
        st->ack_dup++;
        return BT_DUP;
    }
    rec->t_ack_ns = t_ack_ns ? t_ack_ns : 1;
    st->acked++;
    if (t_send_ns) *t_send_ns = rec->t_send_ns;
    return BT_NEW;
}

void bt_finish(bt_ring *r, bt_stats *st)
{
    if (!r->recs) return;
    for (uint32_t i = 0; i < r->size; i++)
        finalize(r, st, &r->recs[i]);
}

void bt_stats_add(bt_stats *d, const bt_stats *s)
{
    d->sent += s->sent;
    d->expected += s->expected;
    d->received += s->received;
    d->dup += s->dup;
    d->missing += s->missing;
    d->unknown += s->unknown;
    d->acked += s->acked;
    d->ack_dup += s->ack_dup;
    d->ack_unknown += s->ack_unknown;
    d->unacked += s->unacked;
}
