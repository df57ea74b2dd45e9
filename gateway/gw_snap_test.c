/* Unit tests: the gateway's snapshot merge (gw_snap.c). A worker snapshot as
 * of S (in chunks, possibly holding ops past S) merged with a replay of
 * (S, E] must equal the board folded from every op in seq order; chunks out
 * of order or with an error are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gw_snap.h"

#define NOPS_MAX 48
#define NIDS 8

typedef struct spec {
    Wb__V1__Kind kind;
    int ids[3];
    int nids;
} spec;

static uint32_t g_rng = 12345;
static uint32_t rnd(uint32_t n)
{
    g_rng = g_rng * 1103515245u + 12345u;
    return (g_rng >> 8) % n;
}

/* A packed Op for spec s (so unpacking gives a message the fold may own). */
static uint8_t *pack_op(const spec *s, size_t *len)
{
    Wb__V1__Op op = WB__V1__OP__INIT;
    Wb__V1__Stroke st = WB__V1__STROKE__INIT;
    char id[8], *ids[3], idbuf[3][8];
    int32_t pts[2] = {10, 20};
    op.board = "b";
    op.op_id = "o";
    op.client_id = "c";
    op.gateway = "g";
    op.kind = s->kind;
    if (s->kind == WB__V1__KIND__KIND_STROKE) {
        snprintf(id, sizeof id, "s%d", s->ids[0]);
        st.id = id;
        st.color = 0x112233;
        st.width = 2;
        st.n_points = 2;
        st.points = pts;
        st.by = "c";
        op.stroke = &st;
    } else if (s->kind != WB__V1__KIND__KIND_CLEAR) {
        for (int i = 0; i < s->nids; i++) {
            snprintf(idbuf[i], sizeof idbuf[i], "s%d", s->ids[i]);
            ids[i] = idbuf[i];
        }
        op.n_ids = (size_t)s->nids;
        op.ids = ids;
    }
    *len = wb__v1__op__get_packed_size(&op);
    uint8_t *buf = malloc(*len ? *len : 1);
    wb__v1__op__pack(&op, buf);
    return buf;
}

static Wb__V1__Op *make_op(const spec *s)
{
    size_t len;
    uint8_t *buf = pack_op(s, &len);
    Wb__V1__Op *op = wb__v1__op__unpack(NULL, len, buf);
    free(buf);
    assert_non_null(op);
    return op;
}

static void random_ops(spec *ops, int n)
{
    for (int i = 0; i < n; i++) {
        uint32_t k = rnd(10);
        memset(&ops[i], 0, sizeof ops[i]);
        if (k < 5) {
            ops[i].kind = WB__V1__KIND__KIND_STROKE;
            ops[i].ids[0] = (int)rnd(NIDS);
            ops[i].nids = 1;
        } else if (k < 9) {
            ops[i].kind = k < 7 ? WB__V1__KIND__KIND_ERASE : WB__V1__KIND__KIND_RESTORE;
            ops[i].nids = 1 + (int)rnd(3);
            for (int j = 0; j < ops[i].nids; j++)
                ops[i].ids[j] = (int)rnd(NIDS);
        } else {
            ops[i].kind = WB__V1__KIND__KIND_CLEAR;
        }
    }
}

static char *render(wb_fold *f, uint64_t E)
{
    gw_buf *b = gw_snap_render(false, "b", f, E);
    assert_non_null(b);
    char *s = strdup(gw_buf_text(b));
    gw_buf_unref(b);
    return s;
}

/* The board from every op 1..n in seq order. */
static char *reference(const spec *ops, int n)
{
    wb_fold f;
    wb_fold_init(&f);
    for (int i = 0; i < n; i++)
        assert_int_equal(gw_snap_op(&f, (uint64_t)i + 1, make_op(&ops[i])), 0);
    char *s = render(&f, (uint64_t)n);
    wb_fold_free(&f);
    return s;
}

/* What a worker sends: the fold of the ops in `in` (seq i+1 where in[i]),
 * as SnapStroke records in chunks of `per`, each chunk packed and unpacked. */
static int worker_chunks(const spec *ops, int n, const bool *in, uint64_t S, size_t per,
                         Wb__V1__SnapshotChunk **out)
{
    wb_fold w;
    wb_fold_init(&w);
    for (int i = 0; i < n; i++)
        if (in[i]) assert_int_equal(gw_snap_op(&w, (uint64_t)i + 1, make_op(&ops[i])), 0);
    int nch = 0;
    size_t i = 0;
    do {
        Wb__V1__SnapshotChunk ch = WB__V1__SNAPSHOT_CHUNK__INIT;
        Wb__V1__SnapStroke recs[NIDS], *ptrs[NIDS];
        size_t k = 0;
        for (; i < w.n && k < per; i++) {
            const wb_fstroke *fs = &w.strokes[i];
            if (!fs->s || !fs->add_seq) continue;
            wb__v1__snap_stroke__init(&recs[k]);
            recs[k].stroke = (Wb__V1__Stroke *)fs->s;
            recs[k].add_seq = fs->add_seq;
            recs[k].vis_seq = fs->vis_seq;
            recs[k].vis_hidden = fs->vis_hidden;
            ptrs[k] = &recs[k];
            k++;
        }
        ch.board = "b";
        ch.seq = S;
        ch.index = (uint32_t)nch;
        ch.last = i >= w.n;
        ch.strokes = ptrs;
        ch.n_strokes = k;
        ch.max_clear_seq = w.max_clear_seq;
        size_t len = wb__v1__snapshot_chunk__get_packed_size(&ch);
        uint8_t *buf = malloc(len ? len : 1);
        wb__v1__snapshot_chunk__pack(&ch, buf);
        out[nch++] = wb__v1__snapshot_chunk__unpack(NULL, len, buf);
        free(buf);
    } while (i < w.n);
    wb_fold_free(&w);
    return nch;
}

static void test_merge_equals_sequential(void **state)
{
    for (int iter = 0; iter < 400; iter++) {
        spec ops[NOPS_MAX];
        int n = 1 + (int)rnd(NOPS_MAX);
        random_ops(ops, n);
        char *want = reference(ops, n);
        uint64_t S = rnd((uint32_t)n + 1); /* 0..n */
        bool in[NOPS_MAX];
        bool past = rnd(2); /* the worker already has some ops past S */
        for (int i = 0; i < n; i++)
            in[i] = (uint64_t)i + 1 <= S || (past && rnd(2));
        Wb__V1__SnapshotChunk *chunks[NIDS + 2];
        int nch = worker_chunks(ops, n, in, S, 1 + rnd(4), chunks);
        wb_fold f;
        wb_fold_init(&f);
        uint64_t gotS = 0;
        const char *err = NULL;
        for (int c = 0; c < nch; c++)
            assert_int_equal(gw_snap_chunk(&f, chunks[c], (uint32_t)c, &gotS, &err),
                             c + 1 == nch ? 1 : 0);
        assert_int_equal(gotS, S);
        for (int i = (int)S; i < n; i++) /* replay (S, E]: seq i+1 */
            assert_int_equal(gw_snap_op(&f, (uint64_t)i + 1, make_op(&ops[i])), 0);
        char *got = render(&f, (uint64_t)n);
        if (strcmp(got, want))
            fail_msg("iter %d n=%d S=%llu past=%d:\n got  %s\n want %s", iter, n,
                     (unsigned long long)S, past, got, want);
        free(got);
        free(want);
        wb_fold_free(&f);
    }
}

static void test_chunk_refusals(void **state)
{
    spec ops[4] = {{WB__V1__KIND__KIND_STROKE, {1}, 1},
                   {WB__V1__KIND__KIND_STROKE, {2}, 1},
                   {WB__V1__KIND__KIND_STROKE, {3}, 1},
                   {WB__V1__KIND__KIND_ERASE, {2}, 1}};
    bool in[4] = {true, true, true, true};
    Wb__V1__SnapshotChunk *chunks[8];
    int nch = worker_chunks(ops, 4, in, 4, 1, chunks);
    assert_int_equal(nch, 3);
    wb_fold f;
    wb_fold_init(&f);
    uint64_t S = 0;
    const char *err = NULL;
    assert_int_equal(gw_snap_chunk(&f, chunks[0], 0, &S, &err), 0);
    /* chunk 2 where 1 was expected: refused (and freed) */
    assert_int_equal(gw_snap_chunk(&f, chunks[2], 1, &S, &err), -1);
    assert_string_equal(err, "chunk out of order");
    wb__v1__snapshot_chunk__free_unpacked(chunks[1], NULL);
    /* a chunk with the worker's error */
    Wb__V1__SnapshotChunk e = WB__V1__SNAPSHOT_CHUNK__INIT;
    e.error = "db down";
    e.board = "b";
    size_t len = wb__v1__snapshot_chunk__get_packed_size(&e);
    uint8_t buf[64];
    wb__v1__snapshot_chunk__pack(&e, buf);
    err = NULL;
    assert_int_equal(gw_snap_chunk(&f, wb__v1__snapshot_chunk__unpack(NULL, len, buf), 1, &S, &err),
                     -1);
    assert_string_equal(err, "the worker reported an error");
    wb_fold_free(&f);
}

/* The REST body and the WebSocket message carry the same strokes. */
static void test_render_forms(void **state)
{
    spec ops[2] = {{WB__V1__KIND__KIND_STROKE, {1}, 1}, {WB__V1__KIND__KIND_STROKE, {2}, 1}};
    wb_fold f;
    wb_fold_init(&f);
    for (int i = 0; i < 2; i++)
        assert_int_equal(gw_snap_op(&f, (uint64_t)i + 1, make_op(&ops[i])), 0);
    gw_buf *ws = gw_snap_render(false, "b", &f, 2), *api = gw_snap_render(true, "b", &f, 2);
    assert_non_null(strstr(gw_buf_text(ws), "{\"t\":\"snapshot\",\"seq\":2,\"strokes\":["));
    assert_non_null(strstr(gw_buf_text(api), "{\"board\":\"b\",\"seq\":2,\"strokes\":["));
    assert_string_equal(strstr(gw_buf_text(ws), "\"strokes\""),
                        strstr(gw_buf_text(api), "\"strokes\""));
    assert_true(strstr(gw_buf_text(ws), "\"s1\"") < strstr(gw_buf_text(ws), "\"s2\""));
    gw_buf_unref(ws);
    gw_buf_unref(api);
    wb_fold_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_equals_sequential),
        cmocka_unit_test(test_chunk_refusals),
        cmocka_unit_test(test_render_forms),
    };
    return cmocka_run_group_tests_name("snapshot merge", tests, NULL, NULL);
}
