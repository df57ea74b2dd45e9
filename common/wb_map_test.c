/* Unit test: the string map (wb_map). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "wb_map.h"

static void test_map(void **st)
{
    wb_map m;
    wb_map_init(&m);
    char k[32];
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(k, sizeof k, "key%d", i);
        assert_int_equal(wb_map_put(&m, k, (size_t)n, (void *)(intptr_t)(i + 1)), 0);
    }
    assert_int_equal(m.count, 5000);
    for (int i = 0; i < 5000; i += 2) {
        int n = snprintf(k, sizeof k, "key%d", i);
        assert_int_equal((intptr_t)wb_map_del(&m, k, (size_t)n), i + 1);
    }
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(k, sizeof k, "key%d", i);
        intptr_t v = (intptr_t)wb_map_get(&m, k, (size_t)n);
        assert_int_equal(v, i % 2 ? i + 1 : 0);
    }
    assert_int_equal(m.count, 2500);
    wb_map_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map),
    };
    return cmocka_run_group_tests_name("map", tests, NULL, NULL);
}
