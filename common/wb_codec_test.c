/* Unit tests: validation, the JSON writer, and the client JSON -> protobuf
 * -> JSON codec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wb_codec.h"

static void test_valid_id(void **st)
{
    assert_true(wb_valid_id("abc_DEF-09", 10));
    assert_false(wb_valid_id("", 0));
    assert_false(wb_valid_id("a.b", 3));
    assert_false(wb_valid_id("a*", 2));
    assert_false(wb_valid_id("a>", 2));
    assert_false(wb_valid_id("a b", 3));
    assert_false(wb_valid_id("\xc3\xa9", 2));
    char long65[66];
    memset(long65, 'a', 65);
    long65[65] = 0;
    assert_true(wb_valid_id(long65, 64));
    assert_false(wb_valid_id(long65, 65));
}

static void test_color(void **st)
{
    uint32_t c;
    char out[8];
    assert_int_equal(wb_parse_color("#1E1e1e", 7, &c), 0);
    assert_int_equal(c, 0x1e1e1e);
    wb_format_color(c, out);
    assert_string_equal(out, "#1e1e1e");
    assert_int_equal(wb_parse_color("#12345", 6, &c), -1);
    assert_int_equal(wb_parse_color("123456 ", 7, &c), -1);
    assert_int_equal(wb_parse_color("#12345g", 7, &c), -1);
}

static void test_clean_name(void **st)
{
    char out[WB_NAME_MAX + 1];
    assert_int_equal(wb_clean_name("al\"i\\ce\n", 8, out), 5);
    assert_string_equal(out, "alice");
    assert_int_equal(wb_clean_name("J\xc3\xa9r\xff", 5, out), 4);
    assert_string_equal(out, "J\xc3\xa9r");
}

static void test_jw(void **st)
{
    wb_jw w;
    wb_jw_init(&w, 4, 2);
    wb_jw_cstr(&w, "a\"b\\c\n\x01");
    wb_jw_char(&w, ' ');
    wb_jw_tenths(&w, 105);
    wb_jw_char(&w, ' ');
    wb_jw_tenths(&w, -3);
    wb_jw_char(&w, ' ');
    wb_jw_tenths(&w, 40);
    wb_jw_char(&w, ' ');
    wb_jw_double(&w, 2.5);
    wb_jw_char(&w, ' ');
    wb_jw_double(&w, 0.1);
    wb_jw_char(&w, ' ');
    wb_jw_i64(&w, -42);
    wb_jw_char(&w, ' ');
    wb_jw_float(&w, 0.3f);
    wb_jw_char(&w, ' ');
    wb_jw_float(&w, 4.25f);
    wb_jw_char(&w, 0);
    assert_string_equal(wb_jw_text(&w),
                        "\"a\\\"b\\\\c\\n\\u0001\" 10.5 -0.3 4 2.5 0.1 -42 0.3 4.25");
    wb_jw_free(&w);
}

static wb_errcode parse(const char *text, wb_cmsg *m)
{
    char err[160];
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    assert_non_null(j);
    wb_errcode e = wb_cmsg_parse(j, m, err, sizeof err);
    json_decref(j);
    return e;
}

static void test_parse_errors(void **st)
{
    wb_cmsg m;
    const char *bad[] = {
        "{\"t\":\"stroke\",\"op\":\"o1\",\"stroke\":{\"id\":\"s1\",\"color\":\"red\",\"width\":4,"
        "\"points\":[1,2]}}",
        "{\"t\":\"stroke\",\"op\":\"o1\",\"stroke\":{\"id\":\"s.1\",\"color\":\"#000000\","
        "\"width\":4,\"points\":[1,2]}}",
        "{\"t\":\"stroke\",\"op\":\"o1\",\"stroke\":{\"id\":\"s1\",\"color\":\"#000000\",\"width\":"
        "0,\"points\":[1,2]}}",
        "{\"t\":\"stroke\",\"op\":\"o1\",\"stroke\":{\"id\":\"s1\",\"color\":\"#000000\",\"width\":"
        "201,\"points\":[1,2]}}",
        "{\"t\":\"stroke\",\"op\":\"o1\",\"stroke\":{\"id\":\"s1\",\"color\":\"#000000\",\"width\":"
        "4,\"points\":[1]}}",
        "{\"t\":\"stroke\",\"op\":\"o1\",\"stroke\":{\"id\":\"s1\",\"color\":\"#000000\",\"width\":"
        "4,\"points\":[1,2e7]}}",
        "{\"t\":\"stroke\",\"op\":\"o1\",\"stroke\":{\"id\":\"s1\",\"color\":\"#000000\",\"width\":"
        "4,\"points\":[1,\"2\"]}}",
        "{\"t\":\"stroke\",\"stroke\":{\"id\":\"s1\",\"color\":\"#000000\",\"width\":4,\"points\":["
        "1,2]}}",
        "{\"t\":\"erase\",\"op\":\"o1\",\"ids\":[]}",
        "{\"t\":\"erase\",\"op\":\"o1\",\"ids\":[\"a b\"]}",
        "{\"t\":\"cursor\",\"x\":1}",
        "{\"t\":\"nope\"}",
        "{\"x\":1}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(parse(bad[i], &m), WB_E_BAD_MESSAGE);
        wb_cmsg_clear(&m);
    }
    /* Too many points. */
    json_t *pts = json_array();
    for (int i = 0; i < WB_MAX_POINTS + 2; i++)
        json_array_append_new(pts, json_integer(i));
    json_t *o = json_pack("{s:s,s:s,s:{s:s,s:s,s:i,s:o}}", "t", "stroke", "op", "o1", "stroke",
                          "id", "s1", "color", "#000000", "width", 3, "points", pts);
    char err[160];
    assert_int_equal(wb_cmsg_parse(o, &m, err, sizeof err), WB_E_BAD_MESSAGE);
    assert_string_equal(m.op, "o1"); /* the error can name the op */
    wb_cmsg_clear(&m);
    json_decref(o);
    /* Not an object. */
    json_t *arr = json_array();
    assert_int_equal(wb_cmsg_parse(arr, &m, err, sizeof err), WB_E_BAD_JSON);
    json_decref(arr);
}

static void test_roundtrip(void **st)
{
    wb_cmsg m;
    assert_int_equal(
        parse("{\"t\":\"stroke\",\"op\":\"o7Hc2\",\"extra\":1,\"stroke\":{\"id\":\"s9Kq1\","
              "\"color\":\"#1E1E1E\","
              "\"width\":4,\"by\":\"mallory\",\"points\":[10,10,20.04,15.05,-30.5,25,1e7,-1e7]}}",
              &m),
        WB_E_NONE);
    assert_int_equal(m.type, WB_C_STROKE);
    uint8_t *data;
    size_t len;
    assert_int_equal(wb_op_pack(&m, "board1", "c3Fz", "gw-1", 1234, &data, &len), 0);
    wb_cmsg_clear(&m);
    Wb__V1__Op *op = wb__v1__op__unpack(NULL, len, data);
    free(data);
    assert_non_null(op);
    assert_int_equal(wb_op_check(op), 0);
    wb_jw w;
    wb_jw_init(&w, 0, 16);
    wb_jw_ev(&w, 42, op);
    wb_jw_char(&w, 0);
    assert_string_equal(wb_jw_text(&w),
                        "{\"t\":\"ev\",\"seq\":42,\"op\":\"o7Hc2\",\"from\":\"c3Fz\",\"kind\":"
                        "\"stroke\",\"stroke\":"
                        "{\"id\":\"s9Kq1\",\"color\":\"#1e1e1e\",\"width\":4,\"points\":[10,10,20,"
                        "15.1,-30.5,25,10000000,-10000000],\"by\":\"c3Fz\"}}");
    wb_jw_free(&w);
    wb__v1__op__free_unpacked(op, NULL);

    assert_int_equal(parse("{\"t\":\"erase\",\"op\":\"e1\",\"ids\":[\"a\",\"b\"]}", &m), WB_E_NONE);
    assert_int_equal(wb_op_pack(&m, "board1", "c1", "gw-1", 1, &data, &len), 0);
    wb_cmsg_clear(&m);
    op = wb__v1__op__unpack(NULL, len, data);
    free(data);
    wb_jw_init(&w, 0, 16);
    wb_jw_ev(&w, 7, op);
    wb_jw_char(&w, 0);
    assert_string_equal(wb_jw_text(&w), "{\"t\":\"ev\",\"seq\":7,\"op\":\"e1\",\"from\":\"c1\","
                                        "\"kind\":\"erase\",\"ids\":[\"a\",\"b\"]}");
    wb_jw_free(&w);
    wb__v1__op__free_unpacked(op, NULL);
}

static void test_live(void **st)
{
    wb_cmsg m;
    assert_int_equal(parse("{\"t\":\"cursor\",\"x\":1.25,\"y\":-2}", &m), WB_E_NONE);
    uint8_t *data;
    size_t len;
    assert_int_equal(wb_live_pack(&m, "b", "gw-1", "c1", "Ann \"A\"", 5, &data, &len), 0);
    wb_cmsg_clear(&m);
    Wb__V1__Live *l = wb__v1__live__unpack(NULL, len, data);
    free(data);
    wb_jw w;
    wb_jw_init(&w, 0, 16);
    assert_int_equal(wb_jw_live(&w, l), 0);
    wb_jw_char(&w, 0);
    assert_string_equal(
        wb_jw_text(&w),
        "{\"t\":\"cursor\",\"x\":1.25,\"y\":-2,\"from\":\"c1\",\"name\":\"Ann \\\"A\\\"\"}");
    wb_jw_free(&w);
    wb__v1__live__free_unpacked(l, NULL);

    assert_int_equal(parse("{\"t\":\"draft\",\"stroke\":{\"id\":\"d1\",\"points\":[1,2]}}", &m),
                     WB_E_NONE);
    assert_int_equal(m.type, WB_C_DRAFT);
    wb_cmsg_clear(&m);
    assert_int_equal(parse("{\"t\":\"ping\",\"ts\":99.5}", &m), WB_E_NONE);
    assert_non_null(m.ts);
    wb_cmsg_clear(&m);
}

/* Section 7: viewport parsing, relay form, the lead flag and its bounds;
 * presence roles; the forbidden error code. */
static void test_viewport(void **st)
{
    wb_cmsg m;
    const char *good[] = {
        "{\"t\":\"viewport\",\"x\":-120.25,\"y\":40,\"scale\":1.5}",
        "{\"t\":\"viewport\",\"x\":0,\"y\":0,\"scale\":0.001,\"lead\":true}",
    };
    const char *want[] = {
        "{\"t\":\"viewport\",\"x\":-120.25,\"y\":40,\"scale\":1.5,\"from\":\"c1\",\"name\":\"n\"}",
        "{\"t\":\"viewport\",\"x\":0,\"y\":0,\"scale\":0.001,\"lead\":true,\"from\":\"c1\","
        "\"name\":\"n\"}",
    };
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(parse(good[i], &m), WB_E_NONE);
        assert_int_equal(m.type, WB_C_VIEWPORT);
        assert_false(wb_ctype_durable(m.type));
        uint8_t *data;
        size_t len;
        assert_int_equal(wb_live_pack(&m, "b", "gw-1", "c1", "n", 5, &data, &len), 0);
        wb_cmsg_clear(&m);
        Wb__V1__Live *l = wb__v1__live__unpack(NULL, len, data);
        free(data);
        assert_non_null(l);
        wb_jw w;
        wb_jw_init(&w, 0, 16);
        assert_int_equal(wb_jw_live(&w, l), 0);
        wb_jw_char(&w, 0);
        assert_string_equal(wb_jw_text(&w), want[i]);
        wb_jw_free(&w);
        wb__v1__live__free_unpacked(l, NULL);
    }
    const char *bad[] = {
        "{\"t\":\"viewport\",\"x\":1,\"y\":2}",
        "{\"t\":\"viewport\",\"x\":1,\"y\":2,\"scale\":0}",
        "{\"t\":\"viewport\",\"x\":1,\"y\":2,\"scale\":1001}",
        "{\"t\":\"viewport\",\"x\":1e8,\"y\":2,\"scale\":1}",
        "{\"t\":\"viewport\",\"x\":1,\"y\":\"2\",\"scale\":1}",
        "{\"t\":\"viewport\",\"x\":1,\"y\":2,\"scale\":1,\"lead\":1}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(parse(bad[i], &m), WB_E_BAD_MESSAGE);
        wb_cmsg_clear(&m);
    }
    assert_string_equal(wb_errcode_name(WB_E_FORBIDDEN), "forbidden");
    wb_jw w;
    wb_jw_init(&w, 0, 16);
    wb_jw_presence_client(&w, "c1", "n", "#112233", "viewer");
    wb_jw_char(&w, ',');
    wb_jw_presence_client(&w, "c2", "m", "#112233", NULL);
    wb_jw_char(&w, 0);
    assert_string_equal(wb_jw_text(&w),
                        "{\"id\":\"c1\",\"name\":\"n\",\"color\":\"#112233\",\"role\":\"viewer\"},"
                        "{\"id\":\"c2\",\"name\":\"m\",\"color\":\"#112233\",\"role\":\"editor\"}");
    wb_jw_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_id),     cmocka_unit_test(test_color),
        cmocka_unit_test(test_clean_name),   cmocka_unit_test(test_jw),
        cmocka_unit_test(test_parse_errors), cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_live),         cmocka_unit_test(test_viewport),
    };
    return cmocka_run_group_tests_name("codec", tests, NULL, NULL);
}
