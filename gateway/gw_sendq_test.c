/* Unit tests: reference-counted buffers, the send queue and the send policy
 * (newest presence, cursor coalescing, drop ephemeral at half, 1013 at the
 * bound, the exempt sync head). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gw_sendq.h"

static gw_buf *cursor(const char *from, int x)
{
    gw_buf *b = gw_buf_printf(GW_BUF_EPH, "{\"t\":\"cursor\",\"from\":\"%s\",\"x\":%d}", from, x);
    gw_buf_set_cursor(b, from);
    return b;
}

/* Offers b and drops the caller's reference. */
static gw_sendq_result offer(gw_sendq *q, gw_buf *b, const gw_sendq_limits *lim, gw_sendq_stats *st)
{
    gw_sendq_result r = gw_sendq_offer(q, b, lim, st);
    gw_buf_unref(b);
    return r;
}

static void test_ring(void **st)
{
    gw_sendq q = {0};
    gw_buf *ev = gw_buf_printf(GW_BUF_EV, "{\"t\":\"ev\",\"seq\":%d}", 1);
    gw_buf *eph = gw_buf_printf(GW_BUF_EPH, "{\"t\":\"draft\"}");
    assert_int_equal(ev->refs, 1);
    for (int i = 0; i < 100; i++)
        assert_int_equal(gw_sendq_push(&q, i % 3 ? eph : ev), 0);
    assert_int_equal(q.count, 100);
    assert_int_equal(ev->refs, 1 + 34);
    assert_int_equal(q.bytes, 34 * ev->len + 66 * eph->len);
    assert_int_equal(gw_sendq_drop_ephemeral(&q), 66);
    assert_int_equal(q.count, 34);
    assert_int_equal(eph->refs, 1);
    assert_int_equal(q.bytes, 34 * ev->len);
    /* FIFO order survives wrap-around. */
    for (int i = 0; i < 10; i++)
        gw_buf_unref(gw_sendq_pop(&q));
    gw_buf *x = gw_buf_printf(GW_BUF_CTL, "x");
    gw_sendq_push(&q, x);
    for (int i = 0; i < 24; i++)
        assert_ptr_equal(gw_sendq_pop(&q), ev), gw_buf_unref(ev);
    assert_ptr_equal(gw_sendq_pop(&q), x);
    gw_buf_unref(x);
    assert_null(gw_sendq_pop(&q));
    assert_int_equal(ev->refs, 1);
    assert_int_equal(q.bytes, 0);
    gw_sendq_free(&q);
    gw_buf_unref(ev);
    gw_buf_unref(eph);
    gw_buf_unref(x);
}

/* Under half the bound nothing is dropped; at half every ephemeral frame goes
 * (drafts and cursors) and new ones are refused; durable frames still queue;
 * at the bound the answer is FULL. */
static void test_policy_drop_then_full(void **state)
{
    gw_sendq q = {0};
    gw_sendq_limits lim = {16, 1 << 20};
    gw_sendq_stats st = {0, 0};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(offer(&q, gw_buf_printf(GW_BUF_EV, "{\"seq\":%d}", i), &lim, &st),
                         GW_SENDQ_QUEUED);
        assert_int_equal(offer(&q, gw_buf_printf(GW_BUF_EPH, "{\"t\":\"draft\"}"), &lim, &st),
                         GW_SENDQ_QUEUED);
    }
    assert_int_equal(q.count, 8);
    assert_int_equal(st.dropped, 0);
    /* 8 queued = half of 16: the next ephemeral frame is dropped, with the queued ones. */
    assert_int_equal(offer(&q, gw_buf_printf(GW_BUF_EPH, "{\"t\":\"draft\"}"), &lim, &st),
                     GW_SENDQ_DROPPED);
    assert_int_equal(st.dropped, 4 + 1);
    assert_int_equal(q.count, 4);
    for (size_t i = 0; i < q.count; i++)
        assert_int_equal(gw_sendq_peek(&q, i)->kind, GW_BUF_EV);
    /* Durable frames fill up to the bound, then FULL. */
    for (int i = 4; i < 16; i++)
        assert_int_equal(offer(&q, gw_buf_printf(GW_BUF_EV, "{\"seq\":%d}", i), &lim, &st),
                         GW_SENDQ_QUEUED);
    assert_int_equal(q.count, 16);
    assert_int_equal(offer(&q, gw_buf_printf(GW_BUF_EV, "{\"seq\":16}"), &lim, &st), GW_SENDQ_FULL);
    assert_int_equal(q.count, 16);
    gw_sendq_free(&q);
}

/* The byte bound works like the message bound. */
static void test_policy_bytes(void **state)
{
    gw_sendq q = {0};
    gw_sendq_limits lim = {1000, 1000};
    gw_sendq_stats st = {0, 0};
    char big[301];
    memset(big, 'a', 300);
    big[300] = 0;
    assert_int_equal(offer(&q, gw_buf_printf(GW_BUF_EPH, "%s", big), &lim, &st), GW_SENDQ_QUEUED);
    assert_int_equal(offer(&q, gw_buf_printf(GW_BUF_EV, "%s", big), &lim, &st), GW_SENDQ_QUEUED);
    /* 600 bytes >= 500: ephemeral dropped. */
    assert_int_equal(offer(&q, gw_buf_printf(GW_BUF_EV, "%s", big), &lim, &st), GW_SENDQ_QUEUED);
    assert_int_equal(st.dropped, 1);
    assert_int_equal(q.bytes, 600);
    assert_int_equal(offer(&q, gw_buf_printf(GW_BUF_EV, "%s", big), &lim, &st), GW_SENDQ_QUEUED);
    assert_int_equal(q.bytes, 900);
    assert_int_equal(offer(&q, gw_buf_printf(GW_BUF_EV, "%s", big), &lim, &st), GW_SENDQ_QUEUED);
    assert_int_equal(offer(&q, gw_buf_printf(GW_BUF_EV, "x"), &lim, &st), GW_SENDQ_FULL);
    gw_sendq_free(&q);
}

/* The sync head (welcome + snapshot/replay) is exempt from both bounds. */
static void test_policy_sync_exempt(void **state)
{
    gw_sendq q = {0};
    gw_sendq_limits lim = {8, 1 << 20};
    gw_sendq_stats st = {0, 0};
    for (int i = 0; i < 100; i++) {
        gw_buf *b = gw_buf_printf(GW_BUF_EV, "{\"seq\":%d}", i);
        assert_int_equal(gw_sendq_push(&q, b), 0);
        gw_buf_unref(b);
    }
    gw_sendq_mark_sync(&q);
    assert_int_equal(offer(&q, cursor("a", 1), &lim, &st), GW_SENDQ_QUEUED);
    assert_int_equal(q.count, 101);
    /* Popping the head releases the exemption one by one. */
    for (int i = 0; i < 100; i++)
        gw_buf_unref(gw_sendq_pop(&q));
    assert_int_equal(q.sync_items, 0);
    assert_int_equal(q.sync_bytes, 0);
    assert_int_equal(q.count, 1);
    gw_sendq_free(&q);
}

/* A newer cursor of the same sender replaces the queued one and goes to the
 * tail; other senders' cursors and drafts stay; drafts are never coalesced. */
static void test_cursor_coalescing(void **state)
{
    gw_sendq q = {0};
    gw_sendq_limits lim = {1000, 1 << 20};
    gw_sendq_stats st = {0, 0};
    assert_int_equal(offer(&q, cursor("a", 1), &lim, &st), GW_SENDQ_QUEUED);
    assert_int_equal(offer(&q, cursor("b", 1), &lim, &st), GW_SENDQ_QUEUED);
    assert_int_equal(offer(&q, gw_buf_printf(GW_BUF_EPH, "draft-a-1"), &lim, &st), GW_SENDQ_QUEUED);
    assert_int_equal(offer(&q, gw_buf_printf(GW_BUF_EPH, "draft-a-2"), &lim, &st), GW_SENDQ_QUEUED);
    assert_int_equal(offer(&q, cursor("a", 2), &lim, &st), GW_SENDQ_QUEUED);
    assert_int_equal(offer(&q, cursor("a", 3), &lim, &st), GW_SENDQ_QUEUED);
    assert_int_equal(st.coalesced, 2);
    assert_int_equal(q.count, 4);
    assert_int_equal(q.cursors_queued, 2);
    const char *want[] = {"{\"t\":\"cursor\",\"from\":\"b\",\"x\":1}", "draft-a-1", "draft-a-2",
                          "{\"t\":\"cursor\",\"from\":\"a\",\"x\":3}"};
    size_t bytes = 0;
    for (int i = 0; i < 4; i++) {
        assert_string_equal(gw_buf_text(gw_sendq_peek(&q, i)), want[i]);
        bytes += strlen(want[i]);
    }
    assert_int_equal(q.bytes, bytes);
    /* Once sent, a cursor is not coalesced with the next one. */
    for (int i = 0; i < 4; i++)
        gw_buf_unref(gw_sendq_pop(&q));
    assert_int_equal(q.cursors_queued, 0);
    assert_int_equal(offer(&q, cursor("a", 4), &lim, &st), GW_SENDQ_QUEUED);
    assert_int_equal(st.coalesced, 2);
    gw_sendq_free(&q);
}

/* A cursor in the exempt sync head is never replaced. */
static void test_cursor_not_from_sync_head(void **state)
{
    gw_sendq q = {0};
    gw_sendq_limits lim = {1000, 1 << 20};
    gw_sendq_stats st = {0, 0};
    gw_buf *c1 = cursor("a", 1);
    gw_sendq_push(&q, c1);
    gw_buf_unref(c1);
    gw_sendq_mark_sync(&q);
    assert_int_equal(offer(&q, cursor("a", 2), &lim, &st), GW_SENDQ_QUEUED);
    assert_int_equal(st.coalesced, 0);
    assert_int_equal(q.count, 2);
    gw_sendq_free(&q);
}

/* Only the newest presence list waits. */
static void test_presence_newest(void **state)
{
    gw_sendq q = {0};
    gw_sendq_limits lim = {1000, 1 << 20};
    gw_sendq_stats st = {0, 0};
    offer(&q, gw_buf_printf(GW_BUF_PRESENCE, "p1"), &lim, &st);
    offer(&q, gw_buf_printf(GW_BUF_EV, "e1"), &lim, &st);
    offer(&q, gw_buf_printf(GW_BUF_PRESENCE, "p2"), &lim, &st);
    assert_int_equal(q.count, 2);
    assert_int_equal(q.presence_queued, 1);
    assert_string_equal(gw_buf_text(gw_sendq_peek(&q, 0)), "e1");
    assert_string_equal(gw_buf_text(gw_sendq_peek(&q, 1)), "p2");
    gw_sendq_free(&q);
}

/* Answers to the client (acks, errors) are counted while queued, also when
 * they leave through a drop or a close's rebuild: the flush writes a queue
 * holding one at once, without waiting for the pace. */
static void test_ctl_counted(void **state)
{
    gw_sendq q = {0};
    gw_sendq_limits lim = {1000, 1 << 20};
    gw_sendq_stats st = {0, 0};
    offer(&q, gw_buf_printf(GW_BUF_EV, "e1"), &lim, &st);
    assert_int_equal(q.ctl_queued, 0);
    offer(&q, gw_buf_printf(GW_BUF_CTL, "ack1"), &lim, &st);
    offer(&q, cursor("a", 1), &lim, &st);
    offer(&q, gw_buf_printf(GW_BUF_CTL, "ack2"), &lim, &st);
    assert_int_equal(q.ctl_queued, 2);
    gw_buf_unref(gw_sendq_pop(&q)); /* e1 */
    assert_int_equal(q.ctl_queued, 2);
    gw_buf_unref(gw_sendq_pop(&q)); /* ack1 */
    assert_int_equal(q.ctl_queued, 1);
    assert_int_equal(gw_sendq_drop_kind(&q, GW_BUF_CTL), 1);
    assert_int_equal(q.ctl_queued, 0);
    assert_int_equal(q.count, 1);
    gw_sendq_free(&q);
    assert_int_equal(q.ctl_queued, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ring),
        cmocka_unit_test(test_policy_drop_then_full),
        cmocka_unit_test(test_policy_bytes),
        cmocka_unit_test(test_policy_sync_exempt),
        cmocka_unit_test(test_cursor_coalescing),
        cmocka_unit_test(test_cursor_not_from_sync_head),
        cmocka_unit_test(test_presence_newest),
        cmocka_unit_test(test_ctl_counted),
    };
    return cmocka_run_group_tests_name("sendq", tests, NULL, NULL);
}
