/* Unit tests: board-state folding (order independence, idempotency),
 * the string map and the rate limiter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wb_fold.h"
#include "wb_map.h"
#include "wb_ratelimit.h"

typedef struct op_spec {
    uint64_t seq;
    Wb__V1__Kind kind;
    const char *ids[3];
} op_spec;

static Wb__V1__Op *make_op(const op_spec *s)
{
    Wb__V1__Op *op = calloc(1, sizeof *op);
    wb__v1__op__init(op);
    op->kind = s->kind;
    if (s->kind == WB__V1__KIND__KIND_STROKE) {
        op->stroke = calloc(1, sizeof *op->stroke);
        wb__v1__stroke__init(op->stroke);
        op->stroke->id = strdup(s->ids[0]);
        op->stroke->n_points = 2;
        op->stroke->points = calloc(2, sizeof(int32_t));
        op->stroke->by = strdup("c");
    } else {
        size_t n = 0;
        while (n < 3 && s->ids[n])
            n++;
        op->n_ids = n;
        op->ids = calloc(n ? n : 1, sizeof *op->ids);
        for (size_t i = 0; i < n; i++)
            op->ids[i] = strdup(s->ids[i]);
    }
    op->board = strdup("b");
    op->op_id = strdup("o");
    op->client_id = strdup("c");
    op->gateway = strdup("g");
    return op;
}

/* Folds ops in the given order and returns visible ids joined by ','. */
static void fold_order(const op_spec *ops, size_t n, const size_t *order, char *out, size_t outn)
{
    wb_fold f;
    wb_fold_init(&f);
    for (size_t i = 0; i < n; i++) {
        Wb__V1__Op *op = make_op(&ops[order[i]]);
        wb_fold_own(&f, &op->base);
        assert_int_equal(wb_fold_apply(&f, ops[order[i]].seq, op), 0);
    }
    wb_jw w;
    wb_jw_init(&w, 0, 64);
    wb_fold_json_strokes(&f, &w);
    wb_jw_char(&w, 0);
    out[0] = 0;
    /* extract ids */
    const char *p = wb_jw_text(&w), *end = p + w.len;
    size_t o = 0;
    while (p < end && (p = strstr(p, "\"id\":\""))) {
        p += 6;
        while (*p != '"' && o + 2 < outn)
            out[o++] = *p++;
        out[o++] = ',';
    }
    out[o] = 0;
    wb_jw_free(&w);
    wb_fold_free(&f);
}

static void test_fold_semantics(void **st)
{
    const op_spec ops[] = {
        {1, WB__V1__KIND__KIND_STROKE, {"a"}},       {2, WB__V1__KIND__KIND_STROKE, {"b"}},
        {3, WB__V1__KIND__KIND_ERASE, {"a"}},        {4, WB__V1__KIND__KIND_STROKE, {"c"}},
        {5, WB__V1__KIND__KIND_CLEAR, {NULL}},       {6, WB__V1__KIND__KIND_STROKE, {"d"}},
        {7, WB__V1__KIND__KIND_RESTORE, {"a", "c"}}, {8, WB__V1__KIND__KIND_STROKE, {"a"}},
        {9, WB__V1__KIND__KIND_ERASE, {"zz"}},       {10, WB__V1__KIND__KIND_STROKE, {"zz"}},
    };
    size_t n = sizeof ops / sizeof *ops;
    char ref[128], got[128];
    size_t order[16];
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    fold_order(ops, n, order, ref, sizeof ref);
    /* In order: a,b added; a erased; c; clear hides a,b,c; d; restore a,c
     * (kept places); re-adding a does nothing; erase of unknown zz ignored,
     * then zz added and visible. */
    assert_string_equal(ref, "a,c,d,zz,");
    /* Any order, and every op twice, gives the same state. */
    unsigned seed = 12345;
    for (int round = 0; round < 200; round++) {
        for (size_t i = n - 1; i > 0; i--) {
            seed = seed * 1103515245 + 12345;
            size_t j = (seed >> 8) % (i + 1);
            size_t t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        fold_order(ops, n, order, got, sizeof got);
        assert_string_equal(got, ref);
    }
    size_t twice[20];
    for (size_t i = 0; i < n; i++)
        twice[i] = twice[n + i] = (n - 1 - i);
    op_spec dbl[20];
    for (size_t i = 0; i < 2 * n; i++)
        dbl[i] = ops[twice[i]];
    size_t ord2[20];
    for (size_t i = 0; i < 2 * n; i++)
        ord2[i] = i;
    fold_order(dbl, 2 * n, ord2, got, sizeof got);
    assert_string_equal(got, ref);
}

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
        cmocka_unit_test(test_fold_semantics),
        cmocka_unit_test(test_map),
        cmocka_unit_test(test_ratelimit),
    };
    return cmocka_run_group_tests_name("fold_map_ratelimit", tests, NULL, NULL);
}
