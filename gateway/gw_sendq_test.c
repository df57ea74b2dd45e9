/* Unit tests: the gateway's reference-counted buffers and send queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "gw.h"

gw_server gw;

static void test_sendq(void **st)
{
    gw_sendq q = {0};
    gw_buf *ev = gw_buf_printf(GW_BUF_EV, "{\"t\":\"ev\",\"seq\":%d}", 1);
    gw_buf *eph = gw_buf_printf(GW_BUF_EPH, "{\"t\":\"cursor\"}");
    assert_int_equal(ev->refs, 1);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(gw_sendq_push(&q, i % 3 ? eph : ev), 0);
    }
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
    gw_sendq_free(&q);
    gw_buf_unref(ev);
    gw_buf_unref(eph);
    gw_buf_unref(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_sendq)};
    return cmocka_run_group_tests_name("sendq", tests, NULL, NULL);
}
