/* Unit test: the string map (wb_map) and its iterator contract. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

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

/* Every entry is returned once, also while the caller removes the entry
 * just returned (by wb_map_iter_del or by wb_map_del with its key). */
static void test_iter_with_removal(void **st)
{
    char k[32];
    for (int n = 0; n < 400; n += (n < 40 ? 1 : 17)) {
        for (int mode = 0; mode < 3; mode++) { /* 0: keep all, 1: iter_del odd, 2: map_del all */
            wb_map m;
            wb_map_init(&m);
            unsigned char *seen = calloc((size_t)n + 1, 1);
            assert_non_null(seen);
            for (int i = 0; i < n; i++) {
                int kl = snprintf(k, sizeof k, "k%d", i * 7919);
                assert_int_equal(wb_map_put(&m, k, (size_t)kl, (void *)(intptr_t)(i + 1)), 0);
            }
            wb_map_iter it;
            wb_map_entry e;
            int visits = 0;
            for (wb_map_iter_init(&it, &m); wb_map_next(&it, &e);) {
                int i = (int)(intptr_t)e.val - 1;
                assert_true(i >= 0 && i < n);
                assert_int_equal(seen[i], 0);
                seen[i] = 1;
                visits++;
                if (mode == 1 && i % 2) assert_int_equal((intptr_t)wb_map_iter_del(&it), i + 1);
                if (mode == 2) assert_int_equal((intptr_t)wb_map_del(&m, e.key, e.klen), i + 1);
            }
            assert_int_equal(visits, n);
            assert_int_equal(m.count, mode == 0 ? n : mode == 1 ? n - n / 2 : 0);
            for (int i = 0; i < n; i++) {
                int kl = snprintf(k, sizeof k, "k%d", i * 7919);
                bool kept = mode == 0 || (mode == 1 && i % 2 == 0);
                assert_int_equal((intptr_t)wb_map_get(&m, k, (size_t)kl), kept ? i + 1 : 0);
            }
            free(seen);
            wb_map_free(&m);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map),
        cmocka_unit_test(test_iter_with_removal),
    };
    return cmocka_run_group_tests_name("map", tests, NULL, NULL);
}
