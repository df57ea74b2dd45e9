/* Unit tests of wk_batch: points encoding, array-literal parameters, dead
 * letters, subject parsing, validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "whiteboard.pb-c.h"
#include "wk_batch.h"

static void test_points_roundtrip(void **state)
{
    (void)state;
    int32_t in[] = {0,    1,     -1,        63,         -64,       64,
                    1000, -1000, 100000000, -100000000, INT32_MAX, INT32_MIN};
    size_t n = sizeof in / sizeof *in;
    wk_buf b = {0};
    assert_int_equal(wk_points_pack(&b, in, n), 0);
    /* zig-zag: 0 -> 00, 1 -> 02, -1 -> 01, 63 -> 7e, -64 -> 7f, 64 -> 80 01 */
    const uint8_t *p = (const uint8_t *)b.p;
    assert_int_equal(p[0], 0x00);
    assert_int_equal(p[1], 0x02);
    assert_int_equal(p[2], 0x01);
    assert_int_equal(p[3], 0x7e);
    assert_int_equal(p[4], 0x7f);
    assert_int_equal(p[5], 0x80);
    assert_int_equal(p[6], 0x01);
    int32_t out[16];
    assert_int_equal(wk_points_count(p, b.len), (long)n);
    assert_int_equal(wk_points_unpack(p, b.len, out, 16), (long)n);
    assert_memory_equal(in, out, n * sizeof *in);
    /* too small an output, truncated and over-long varints are refused */
    assert_int_equal(wk_points_unpack(p, b.len, out, 3), -1);
    uint8_t trunc[] = {0x80};
    assert_int_equal(wk_points_count(trunc, 1), -1);
    uint8_t toolong[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    assert_int_equal(wk_points_count(toolong, sizeof toolong), -1);
    assert_int_equal(wk_points_count(NULL, 0), 0);
    wk_buf_free(&b);
}

static void test_validation(void **state)
{
    (void)state;
    assert_true(wk_valid_id("abc_DEF-09"));
    assert_false(wk_valid_id(""));
    assert_false(wk_valid_id("a.b"));
    assert_false(wk_valid_id(NULL));
    char long_id[70];
    memset(long_id, 'a', 65);
    long_id[65] = 0;
    assert_false(wk_valid_id(long_id));
    long_id[64] = 0;
    assert_true(wk_valid_id(long_id));
    assert_true(wk_valid_utf8("h\xc3\xa9llo \xe2\x82\xac", 64));
    assert_false(wk_valid_utf8("\xc3", 64));
    assert_false(wk_valid_utf8("\xc0\xaf", 64));     /* overlong */
    assert_false(wk_valid_utf8("\xed\xa0\x80", 64)); /* surrogate */
    assert_false(wk_valid_utf8("abcdef", 3));
    char b[65];
    assert_int_equal(wk_subject_board("wb.board.B1.ev", b), 0);
    assert_string_equal(b, "B1");
    assert_int_equal(wk_subject_board("wb.board.B1.live", b), -1);
    assert_int_equal(wk_subject_board("wb.board..ev", b), -1);
    assert_int_equal(wk_subject_board("wb.rp.B1", b), -1);
}

static size_t pack_op(const Wb__V1__Op *op, uint8_t *buf)
{
    return wb__v1__op__pack(op, buf);
}

static void test_params(void **state)
{
    (void)state;
    wk_batch *b = wk_batch_create();
    assert_non_null(b);
    uint8_t buf[512];
    int64_t t = 0;

    Wb__V1__Stroke st = WB__V1__STROKE__INIT;
    int32_t pts[] = {10, 20, -1, 64};
    st.id = "s1";
    st.color = 0x1e1e1e;
    st.width = 4.5f;
    st.n_points = 4;
    st.points = pts;
    st.by = "c\"q\\";
    Wb__V1__Op op = WB__V1__OP__INIT;
    op.board = "B1";
    op.op_id = "o1";
    op.client_id = "c\"q\\";
    op.kind = WB__V1__KIND__KIND_STROKE;
    op.stroke = &st;
    op.time_ms = 1700000000123;
    size_t n = pack_op(&op, buf);
    assert_int_equal(wk_batch_add(b, 7, "wb.board.B1.ev", buf, n, &t), WK_ADD_OP);
    assert_int_equal(t, 1700000000123);

    char *ids[] = {"s1", "s9"};
    Wb__V1__Op er = WB__V1__OP__INIT;
    er.board = ""; /* empty: the subject's board is used */
    er.op_id = "o2";
    er.client_id = "c2";
    er.kind = WB__V1__KIND__KIND_ERASE;
    er.n_ids = 2;
    er.ids = ids;
    n = pack_op(&er, buf);
    assert_int_equal(wk_batch_add(b, 8, "wb.board.B1.ev", buf, n, &t), WK_ADD_OP);

    /* not protobuf, wrong subject, board mismatch, bad op id, stroke without stroke */
    assert_int_equal(wk_batch_add(b, 9, "wb.board.B1.ev", "\xff\xff", 2, &t), WK_ADD_DEAD);
    assert_int_equal(wk_batch_add(b, 10, "wb.other", buf, n, &t), WK_ADD_DEAD);
    er.board = "B2";
    n = pack_op(&er, buf);
    assert_int_equal(wk_batch_add(b, 11, "wb.board.B1.ev", buf, n, &t), WK_ADD_DEAD);
    er.board = "B1";
    er.op_id = "bad id";
    n = pack_op(&er, buf);
    assert_int_equal(wk_batch_add(b, 12, "wb.board.B1.ev", buf, n, &t), WK_ADD_DEAD);
    Wb__V1__Op ns = WB__V1__OP__INIT;
    ns.op_id = "o3";
    ns.kind = WB__V1__KIND__KIND_STROKE;
    n = pack_op(&ns, buf);
    assert_int_equal(wk_batch_add(b, 13, "wb.board.B1.ev", buf, n, &t), WK_ADD_DEAD);

    assert_int_equal(wk_batch_nops(b), 2);
    assert_int_equal(wk_batch_ndead(b), 5);
    const char *v[WK_BATCH_NPARAMS];
    wk_batch_params(b, v);
    assert_string_equal(v[0], "{\"B1\",\"B1\"}");         /* board */
    assert_string_equal(v[1], "{7,8}");                   /* seq */
    assert_string_equal(v[2], "{\"o1\",\"o2\"}");         /* op id */
    assert_string_equal(v[3], "{\"c\\\"q\\\\\",\"c2\"}"); /* client id, escaped */
    assert_string_equal(v[4], "{1,2}");                   /* kind */
    assert_string_equal(v[5], "{1700000000123,0}");
    assert_true(!strncmp(v[6], "{\"\\\\x", 5)); /* payload as bytea hex */
    assert_string_equal(v[7], "{\"B1\"}");
    assert_string_equal(v[8], "{7}");
    assert_string_equal(v[9], "{\"s1\"}");
    assert_string_equal(v[10], "{1973790}");
    assert_string_equal(v[11], "{4.5}");
    assert_string_equal(v[12], "{\"\\\\x1428018001\"}"); /* 10 20 -1 64 zig-zag */
    assert_string_equal(v[14], "{\"B1\",\"B1\"}");
    assert_string_equal(v[15], "{8,8}");
    assert_string_equal(v[16], "{\"s1\",\"s9\"}");
    assert_string_equal(v[17], "{t,t}");
    assert_string_equal(v[18], "{9,10,11,12,13}");
    /* params again (a retry) gives the same text */
    const char *v2[WK_BATCH_NPARAMS];
    wk_batch_params(b, v2);
    for (int i = 0; i < WK_BATCH_NPARAMS; i++)
        assert_string_equal(v[i], v2[i]);

    wk_batch_reset(b);
    wk_batch_params(b, v);
    for (int i = 0; i < WK_BATCH_NPARAMS; i++)
        assert_string_equal(v[i], "{}");
    wk_batch_destroy(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_points_roundtrip),
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
