/* Unit tests of wk_fold: the model of wb_apply_batch() equals the in-order
 * reference for any batching, commit order and redelivery. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wk_fold.h"

#define MAXOPS 600

typedef struct gen {
    wk_fop ops[MAXOPS];
    char opid[MAXOPS][16];
    char sid[MAXOPS][16];
    const char *ids[MAXOPS][4];
    char names[64][16];
    size_t n;
} gen;

static uint32_t rnd_state;
static uint32_t rnd(void)
{
    rnd_state = rnd_state * 1664525u + 1013904223u;
    return rnd_state >> 8;
}

/* Random ops over a small id space (so re-adds, erase-before-add, unknown ids happen). */
static void generate(gen *g, size_t n, uint32_t seed)
{
    rnd_state = seed;
    memset(g, 0, sizeof *g);
    for (int i = 0; i < 64; i++)
        snprintf(g->names[i], sizeof g->names[i], "s%d", i);
    g->n = n;
    for (size_t i = 0; i < n; i++) {
        wk_fop *op = &g->ops[i];
        snprintf(g->opid[i], sizeof g->opid[i], "o%zu", i);
        op->op_id = g->opid[i];
        op->seq = 10 + i * 2;
        uint32_t r = rnd() % 100;
        if (r < 45) {
            op->kind = 1;
            op->sid = g->names[rnd() % 40];
        } else if (r < 92) {
            op->kind = r < 70 ? 2 : 3;
            op->n_ids = 1 + rnd() % 3;
            for (size_t k = 0; k < op->n_ids; k++)
                g->ids[i][k] = g->names[rnd() % 48];
            op->ids = g->ids[i];
        } else {
            op->kind = 4;
        }
    }
}

static void shuffle(wk_fop *v, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = rnd() % i;
        wk_fop t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

static void assert_same(const char **a, size_t na, const char **b, size_t nb)
{
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++)
        assert_string_equal(a[i], b[i]);
}

static void test_in_order_single_batches(void **state)
{
    (void)state;
    static gen g;
    static const char *ref[MAXOPS], *got[MAXOPS];
    generate(&g, 300, 1);
    wk_fold f;
    wk_fold_init(&f);
    for (size_t i = 0; i < g.n; i++)
        assert_int_equal(wk_fold_apply_batch(&f, &g.ops[i], 1), 1);
    size_t nr = wk_fold_reference(g.ops, g.n, ref, MAXOPS);
    size_t ng = wk_fold_visible_ids(&f, got, MAXOPS);
    assert_same(ref, nr, got, ng);
    wk_fold_free(&f);
}

static void test_any_order_any_batching(void **state)
{
    (void)state;
    static gen g;
    static wk_fop perm[MAXOPS];
    static const char *ref[MAXOPS], *got[MAXOPS];
    for (uint32_t seed = 1; seed <= 200; seed++) {
        generate(&g, 50 + seed % 250, seed);
        size_t nr = wk_fold_reference(g.ops, g.n, ref, MAXOPS);
        memcpy(perm, g.ops, g.n * sizeof *perm);
        shuffle(perm, g.n);
        wk_fold f;
        wk_fold_init(&f);
        int logged = 0;
        for (size_t i = 0; i < g.n;) {
            size_t len = 1 + rnd() % 40;
            if (len > g.n - i) len = g.n - i;
            logged += wk_fold_apply_batch(&f, &perm[i], len);
            /* a redelivery of the same batch changes nothing */
            if (rnd() % 4 == 0) assert_int_equal(wk_fold_apply_batch(&f, &perm[i], len), 0);
            i += len;
        }
        assert_int_equal(logged, (int)g.n);
        size_t ng = wk_fold_visible_ids(&f, got, MAXOPS);
        assert_same(ref, nr, got, ng);
        wk_fold_free(&f);
    }
}

static void test_late_resend_ignored(void **state)
{
    (void)state;
    static const char *ids_a[] = {"a"};
    wk_fop ops[] = {
        {.seq = 1, .kind = 1, .op_id = "x1", .sid = "a"},
        {.seq = 2, .kind = 2, .op_id = "x2", .ids = ids_a, .n_ids = 1},
        {.seq = 3, .kind = 3, .op_id = "x3", .ids = ids_a, .n_ids = 1},
    };
    /* x2 resent after the dedup window at seq 9: it must not hide "a" again */
    wk_fop late = {.seq = 9, .kind = 2, .op_id = "x2", .ids = ids_a, .n_ids = 1};
    wk_fold f;
    wk_fold_init(&f);
    assert_int_equal(wk_fold_apply_batch(&f, ops, 3), 3);
    assert_int_equal(wk_fold_apply_batch(&f, &late, 1), 0);
    const char *got[4];
    assert_int_equal(wk_fold_visible_ids(&f, got, 4), 1);
    assert_string_equal(got[0], "a");
    wk_fold_free(&f);
}

static void test_erase_before_add_and_clear(void **state)
{
    (void)state;
    static const char *ids_b[] = {"b"}, *ids_ab[] = {"a", "b"};
    wk_fop ops[] = {
        {.seq = 1, .kind = 2, .op_id = "e0", .ids = ids_b, .n_ids = 1}, /* unknown: ignored */
        {.seq = 2, .kind = 1, .op_id = "s1", .sid = "a"},
        {.seq = 3, .kind = 1, .op_id = "s2", .sid = "b"},
        {.seq = 4, .kind = 4, .op_id = "c1"},
        {.seq = 5, .kind = 1, .op_id = "s3", .sid = "c"},
        {.seq = 6, .kind = 3, .op_id = "r1", .ids = ids_ab, .n_ids = 2},
        {.seq = 7, .kind = 1, .op_id = "s4", .sid = "a"}, /* re-add: ignored */
    };
    const char *ref[8], *got[8];
    size_t nr = wk_fold_reference(ops, 7, ref, 8);
    assert_int_equal(nr, 3);
    assert_string_equal(ref[0], "a");
    assert_string_equal(ref[1], "b");
    assert_string_equal(ref[2], "c");
    /* newest first, one op per batch: the worst commit order */
    wk_fold f;
    wk_fold_init(&f);
    for (int i = 6; i >= 0; i--)
        wk_fold_apply_batch(&f, &ops[i], 1);
    assert_same(ref, nr, got, wk_fold_visible_ids(&f, got, 8));
    wk_fold_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order_single_batches),
        cmocka_unit_test(test_any_order_any_batching),
        cmocka_unit_test(test_late_resend_ignored),
        cmocka_unit_test(test_erase_before_add_and_clear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
