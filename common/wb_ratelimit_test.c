/* Unit test: the token bucket and its abuse meter (wb_ratelimit). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "wb_ratelimit.h"

static void test_ratelimit(void **st)
{
    wb_bucket b;
    int64_t t = 1000000;
    wb_bucket_init(&b, 200, 400, t);
    int ok = 0;
    for (int i = 0; i < 1000; i++)
        ok += wb_bucket_take(&b, t);
    assert_int_equal(ok, 400); /* the burst */
    assert_int_equal(wb_bucket_refused(&b, t, 0), 600);
    t += 1000000; /* one second refills 200 */
    ok = 0;
    for (int i = 0; i < 1000; i++)
        ok += wb_bucket_take(&b, t);
    assert_int_equal(ok, 200);
    /* Steady 200/s is always allowed. */
    t += 3000000;
    wb_bucket_init(&b, 200, 400, t);
    ok = 0;
    for (int i = 0; i < 2000; i++)
        ok += wb_bucket_take(&b, t + i * 5000);
    assert_int_equal(ok, 2000);
    /* Refusals age out of the abuse window. */
    assert_int_equal(wb_bucket_refused(&b, t + 30000000, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ratelimit),
    };
    return cmocka_run_group_tests_name("ratelimit", tests, NULL, NULL);
}
