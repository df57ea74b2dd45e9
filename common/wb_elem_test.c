/* Unit tests: shapes, texts and updates (docs/protocol.md §3 "Shapes and
 * texts", "Updates", §7): validation, client JSON -> protobuf -> ev/draft
 * JSON, the checks of protobuf from the wire, the frame path's caps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "wb_codec.h"
#include "wb_frame.h"

static wb_errcode parse(const char *text, wb_cmsg *m, char *err, size_t errlen)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (!j) fail_msg("test JSON does not load: %s: %s", text, je.text);
    wb_errcode e = wb_cmsg_parse(j, m, err, errlen);
    json_decref(j);
    return e;
}

/* A durable op through pack, unpack, check and the ev writer. */
static char *ev_of(const char *msg)
{
    wb_cmsg m;
    char err[160];
    wb_errcode e = parse(msg, &m, err, sizeof err);
    if (e) fail_msg("refused: %s: %s", msg, err);
    assert_true(wb_ctype_durable(m.type));
    uint8_t *data;
    size_t len;
    assert_int_equal(wb_op_pack(&m, "b1", "c1", "gw-1", 1, &data, &len), 0);
    wb_cmsg_clear(&m);
    Wb__V1__Op *op = wb__v1__op__unpack(NULL, len, data);
    free(data);
    assert_non_null(op);
    assert_int_equal(wb_op_check(op), 0);
    wb_jw w;
    wb_jw_init(&w, 0, 16);
    wb_jw_ev(&w, 9, op);
    wb_jw_char(&w, 0);
    char *out = strdup(wb_jw_text(&w));
    wb_jw_free(&w);
    wb__v1__op__free_unpacked(op, NULL);
    return out;
}

/* A draft through the Live pack, unpack and writer. */
static char *draft_of(const char *msg)
{
    wb_cmsg m;
    char err[160];
    wb_errcode e = parse(msg, &m, err, sizeof err);
    if (e) fail_msg("refused: %s: %s", msg, err);
    assert_int_equal(m.type, WB_C_DRAFT);
    uint8_t *data;
    size_t len;
    assert_int_equal(wb_live_pack(&m, "b1", "gw-1", "c1", "Ann", 1, &data, &len), 0);
    wb_cmsg_clear(&m);
    Wb__V1__Live *l = wb__v1__live__unpack(NULL, len, data);
    free(data);
    assert_non_null(l);
    wb_jw w;
    wb_jw_init(&w, 0, 16);
    assert_int_equal(wb_jw_live(&w, l), 0);
    wb_jw_char(&w, 0);
    char *out = strdup(wb_jw_text(&w));
    wb_jw_free(&w);
    wb__v1__live__free_unpacked(l, NULL);
    return out;
}

#define SHAPE(extra)                                                                               \
    "{\"t\":\"shape\",\"op\":\"o1\",\"shape\":{\"type\":\"shape\",\"id\":\"r1\",\"kind\":"         \
    "\"rect\","                                                                                    \
    "\"x1\":0,\"y1\":0,\"x2\":10,\"y2\":10,\"color\":\"#000000\",\"width\":2" extra "}}"
#define TEXT(body, extra)                                                                          \
    "{\"t\":\"text\",\"op\":\"o1\",\"text\":{\"type\":\"text\",\"id\":\"t1\",\"x\":0,\"y\":0,"     \
    "\"size\":12,\"color\":\"#000000\",\"text\":" body extra "}}"
#define UPDATE(set) "{\"t\":\"update\",\"op\":\"o1\",\"id\":\"e1\",\"set\":" set "}"

static void test_parse_errors(void **st)
{
    const char *bad[] = {
        "{\"t\":\"shape\",\"op\":\"o1\",\"shape\":{\"type\":\"shape\",\"id\":\"r1\",\"kind\":"
        "\"triangle\",\"x1\":0,\"y1\":0,\"x2\":10,\"y2\":10,\"color\":\"#000000\",\"width\":2}}",
        "{\"t\":\"shape\",\"op\":\"o1\",\"shape\":{\"type\":\"text\",\"id\":\"r1\",\"kind\":"
        "\"rect\",\"x1\":0,\"y1\":0,\"x2\":10,\"y2\":10,\"color\":\"#000000\",\"width\":2}}",
        "{\"t\":\"shape\",\"op\":\"o1\",\"shape\":{\"type\":\"shape\",\"id\":\"r1\",\"kind\":"
        "\"rect\",\"x1\":0,\"y1\":0,\"x2\":10,\"color\":\"#000000\",\"width\":2}}",
        "{\"t\":\"shape\",\"op\":\"o1\",\"shape\":{\"type\":\"shape\",\"id\":\"r1\",\"kind\":"
        "\"rect\",\"x1\":0,\"y1\":0,\"x2\":10,\"y2\":2e7,\"color\":\"#000000\",\"width\":2}}",
        "{\"t\":\"shape\",\"op\":\"o1\",\"shape\":{\"type\":\"shape\",\"id\":\"r1\",\"kind\":"
        "\"rect\",\"x1\":0,\"y1\":0,\"x2\":10,\"y2\":10,\"color\":\"#000000\",\"width\":1e-50}}",
        SHAPE(",\"fill\":\"#12345\""),
        SHAPE(",\"fill\":7"),
        "{\"t\":\"shape\",\"op\":\"o1\",\"shape\":[]}",
        "{\"t\":\"shape\",\"shape\":{\"type\":\"shape\",\"id\":\"r1\",\"kind\":\"rect\",\"x1\":0,"
        "\"y1\":0,\"x2\":10,\"y2\":10,\"color\":\"#000000\",\"width\":2}}",
        TEXT("\"\"", ""),
        TEXT("7", ""),
        "{\"t\":\"text\",\"op\":\"o1\",\"text\":{\"type\":\"text\",\"id\":\"t1\",\"x\":0,\"y\":0,"
        "\"size\":0,\"color\":\"#000000\",\"text\":\"a\"}}",
        "{\"t\":\"text\",\"op\":\"o1\",\"text\":{\"type\":\"text\",\"id\":\"t1\",\"x\":0,\"y\":0,"
        "\"size\":1000.5,\"color\":\"#000000\",\"text\":\"a\"}}",
        "{\"t\":\"text\",\"op\":\"o1\",\"text\":{\"type\":\"text\",\"id\":\"t1\",\"y\":0,"
        "\"size\":10,\"color\":\"#000000\",\"text\":\"a\"}}",
        UPDATE("{}"),
        UPDATE("[]"),
        UPDATE("{\"x1\":1,\"y1\":1,\"x2\":1}"),
        UPDATE("{\"x\":1}"),
        UPDATE("{\"y\":1,\"color\":\"#000000\"}"),
        UPDATE("{\"colour\":\"#000000\"}"),
        UPDATE("{\"color\":\"#000000\",\"type\":\"shape\"}"),
        UPDATE("{\"points\":[1,2,3]}"),
        UPDATE("{\"points\":[]}"),
        UPDATE("{\"text\":\"\"}"),
        UPDATE("{\"size\":-1}"),
        UPDATE("{\"width\":201}"),
        UPDATE("{\"fill\":false}"),
        "{\"t\":\"update\",\"op\":\"o1\",\"id\":\"a b\",\"set\":{\"color\":\"#000000\"}}",
        "{\"t\":\"update\",\"op\":\"o1\",\"set\":{\"color\":\"#000000\"}}",
        "{\"t\":\"draft\",\"shape\":{\"type\":\"shape\",\"id\":\"r1\"},\"text\":{}}",
        "{\"t\":\"draft\",\"text\":\"hi\"}",
        "{\"t\":\"draft\",\"update\":{\"id\":\"e1\",\"set\":{\"x\":1}}}",
        "{\"t\":\"draft\",\"update\":[]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        wb_cmsg m;
        char err[160] = "";
        wb_errcode e = parse(bad[i], &m, err, sizeof err);
        if (e != WB_E_BAD_MESSAGE) fail_msg("accepted (%d): %s", e, bad[i]);
        assert_true(err[0]);
        if (strstr(bad[i], "\"op\":\"o1\"")) assert_string_equal(m.op, "o1");
        wb_cmsg_clear(&m);
    }
    /* 4097 bytes of text, and 4096 (two-byte characters) accepted. */
    char *big = malloc(5000), *msg = malloc(6000);
    for (int n = 4096; n <= 4097; n++) {
        memset(big, 'x', (size_t)n);
        big[n] = 0;
        if (n == 4096)
            for (int i = 0; i < n; i += 2)
                memcpy(big + i, "\xc3\xa9", 2);
        snprintf(msg, 6000, TEXT("\"%s\"", ""), big);
        wb_cmsg m;
        char err[160];
        assert_int_equal(parse(msg, &m, err, sizeof err), n == 4096 ? WB_E_NONE : WB_E_BAD_MESSAGE);
        if (n == 4096) assert_int_equal(m.text.len, 4096);
        wb_cmsg_clear(&m);
    }
    free(big);
    free(msg);
}

static void test_roundtrip(void **st)
{
    char *s =
        ev_of("{\"t\":\"shape\",\"op\":\"o1\",\"shape\":{\"type\":\"shape\",\"id\":\"r1\","
              "\"kind\":\"ellipse\",\"x1\":0.04,\"y1\":-10.06,\"x2\":1e7,\"y2\":-1e7,"
              "\"color\":\"#ABCDEF\",\"width\":0.3,\"fill\":\"#FFEC99\",\"by\":\"mallory\"}}");
    assert_string_equal(s, "{\"t\":\"ev\",\"seq\":9,\"op\":\"o1\",\"from\":\"c1\",\"kind\":"
                           "\"shape\",\"shape\":{\"type\":\"shape\",\"id\":\"r1\",\"kind\":"
                           "\"ellipse\",\"x1\":0,\"y1\":-10.1,\"x2\":10000000,\"y2\":-10000000,"
                           "\"color\":\"#abcdef\",\"width\":0.3,\"fill\":\"#ffec99\",\"by\":"
                           "\"c1\"}}");
    free(s);
    /* No "type" on input is accepted; no fill (or null) writes none. */
    s = ev_of("{\"t\":\"shape\",\"op\":\"o1\",\"shape\":{\"id\":\"a1\",\"kind\":\"arrow\",\"x1\":1,"
              "\"y1\":2,\"x2\":3,\"y2\":4,\"color\":\"#000000\",\"width\":200,\"fill\":null}}");
    assert_string_equal(s, "{\"t\":\"ev\",\"seq\":9,\"op\":\"o1\",\"from\":\"c1\",\"kind\":"
                           "\"shape\",\"shape\":{\"type\":\"shape\",\"id\":\"a1\",\"kind\":"
                           "\"arrow\",\"x1\":1,\"y1\":2,\"x2\":3,\"y2\":4,\"color\":\"#000000\","
                           "\"width\":200,\"by\":\"c1\"}}");
    free(s);
    s = ev_of(TEXT("\"Hi \\\"you\\\"\\nw\\u00f6rld\"", ",\"by\":\"x\""));
    assert_string_equal(s, "{\"t\":\"ev\",\"seq\":9,\"op\":\"o1\",\"from\":\"c1\",\"kind\":"
                           "\"text\",\"text\":{\"type\":\"text\",\"id\":\"t1\",\"x\":0,\"y\":0,"
                           "\"size\":12,\"color\":\"#000000\",\"text\":\"Hi \\\"you\\\"\\nw\xc3\xb6"
                           "rld\",\"by\":\"c1\"}}");
    free(s);
    /* Every group, written back in the order of §3 whatever the input order. */
    s = ev_of(UPDATE("{\"fill\":null,\"width\":3,\"color\":\"#E03131\",\"text\":\"t\",\"size\":"
                     "1.5,\"y\":2,\"x\":1.06,\"y2\":4,\"x2\":3,\"y1\":2,\"x1\":1,\"points\":[1,2,"
                     "3.04,4]}"));
    assert_string_equal(s, "{\"t\":\"ev\",\"seq\":9,\"op\":\"o1\",\"from\":\"c1\",\"kind\":"
                           "\"update\",\"id\":\"e1\",\"set\":{\"points\":[1,2,3,4],\"x1\":1,"
                           "\"y1\":2,\"x2\":3,\"y2\":4,\"x\":1.1,\"y\":2,\"size\":1.5,\"text\":"
                           "\"t\",\"color\":\"#e03131\",\"width\":3,\"fill\":null}}");
    free(s);
    s = ev_of(UPDATE("{\"fill\":\"#00FF00\"}"));
    assert_string_equal(s, "{\"t\":\"ev\",\"seq\":9,\"op\":\"o1\",\"from\":\"c1\",\"kind\":"
                           "\"update\",\"id\":\"e1\",\"set\":{\"fill\":\"#00ff00\"}}");
    free(s);
}

static void test_drafts(void **st)
{
    char *s = draft_of("{\"t\":\"draft\",\"shape\":{\"type\":\"shape\",\"id\":\"r1\",\"kind\":"
                       "\"line\",\"x1\":0,\"y1\":0,\"x2\":5,\"y2\":5,\"color\":\"#000000\","
                       "\"width\":1}}");
    assert_string_equal(s, "{\"t\":\"draft\",\"shape\":{\"type\":\"shape\",\"id\":\"r1\",\"kind\":"
                           "\"line\",\"x1\":0,\"y1\":0,\"x2\":5,\"y2\":5,\"color\":\"#000000\","
                           "\"width\":1,\"by\":\"c1\"},\"from\":\"c1\",\"name\":\"Ann\"}");
    free(s);
    s = draft_of("{\"t\":\"draft\",\"text\":{\"type\":\"text\",\"id\":\"t1\",\"x\":0,\"y\":0,"
                 "\"size\":12,\"color\":\"#000000\",\"text\":\"\"}}");
    assert_string_equal(s, "{\"t\":\"draft\",\"text\":{\"type\":\"text\",\"id\":\"t1\",\"x\":0,"
                           "\"y\":0,\"size\":12,\"color\":\"#000000\",\"text\":\"\",\"by\":\"c1\"},"
                           "\"from\":\"c1\",\"name\":\"Ann\"}");
    free(s);
    s = draft_of("{\"t\":\"draft\",\"update\":{\"id\":\"e1\",\"set\":{\"x\":1,\"y\":2}}}");
    assert_string_equal(s, "{\"t\":\"draft\",\"update\":{\"id\":\"e1\",\"set\":{\"x\":1,\"y\":2}},"
                           "\"from\":\"c1\",\"name\":\"Ann\"}");
    free(s);
    /* A stroke draft is what it was, whatever else the message holds. */
    s = draft_of("{\"t\":\"draft\",\"text\":\"x\",\"stroke\":{\"id\":\"d1\",\"points\":[1,2]}}");
    assert_string_equal(s, "{\"t\":\"draft\",\"stroke\":{\"id\":\"d1\",\"color\":\"#1e1e1e\","
                           "\"width\":4,\"points\":[1,2],\"by\":\"c1\"},\"from\":\"c1\",\"name\":"
                           "\"Ann\"}");
    free(s);
    /* A stroke draft is what it was. */
    s = draft_of("{\"t\":\"draft\",\"stroke\":{\"id\":\"d1\",\"points\":[1,2]}}");
    assert_string_equal(s, "{\"t\":\"draft\",\"stroke\":{\"id\":\"d1\",\"color\":\"#1e1e1e\","
                           "\"width\":4,\"points\":[1,2],\"by\":\"c1\"},\"from\":\"c1\",\"name\":"
                           "\"Ann\"}");
    free(s);
}

/* Protobuf from NATS may come from anyone: values outside the rules are refused. */
static void test_wire_checks(void **st)
{
    Wb__V1__Shape sh = WB__V1__SHAPE__INIT;
    sh.id = "r1";
    sh.kind = WB__V1__SHAPE_KIND__SHAPE_KIND_RECT;
    sh.width = 2;
    assert_int_equal(wb_shape_check(&sh), 0);
    sh.kind = 9;
    assert_int_equal(wb_shape_check(&sh), -1);
    sh.kind = WB__V1__SHAPE_KIND__SHAPE_KIND_UNSPECIFIED;
    assert_int_equal(wb_shape_check(&sh), -1);
    sh.kind = WB__V1__SHAPE_KIND__SHAPE_KIND_LINE;
    sh.width = NAN;
    assert_int_equal(wb_shape_check(&sh), -1);
    sh.width = 2;
    sh.x2 = 100000001;
    assert_int_equal(wb_shape_check(&sh), -1);
    sh.x2 = 0;
    sh.has_fill = true;
    sh.fill = 0x1000000;
    assert_int_equal(wb_shape_check(&sh), -1);
    sh.fill = 0xffffff;
    assert_int_equal(wb_shape_check(&sh), 0);
    sh.id = "a.b";
    assert_int_equal(wb_shape_check(&sh), -1);

    Wb__V1__Text tx = WB__V1__TEXT__INIT;
    tx.id = "t1";
    tx.size = 10;
    tx.text = "ok";
    assert_int_equal(wb_text_check(&tx, false), 0);
    tx.text = "bad \xff utf-8";
    assert_int_equal(wb_text_check(&tx, false), -1);
    tx.text = "";
    assert_int_equal(wb_text_check(&tx, false), -1);
    assert_int_equal(wb_text_check(&tx, true), 0);
    char *big = malloc(WB_MAX_TEXT + 2);
    memset(big, 'a', WB_MAX_TEXT + 1);
    big[WB_MAX_TEXT + 1] = 0;
    tx.text = big;
    assert_int_equal(wb_text_check(&tx, false), -1);
    big[WB_MAX_TEXT] = 0;
    assert_int_equal(wb_text_check(&tx, false), 0);
    free(big);
    tx.text = "a";
    tx.size = 0;
    assert_int_equal(wb_text_check(&tx, false), -1);

    Wb__V1__Update u = WB__V1__UPDATE__INIT;
    u.id = "e1";
    assert_int_equal(wb_update_check(&u, false), -1); /* no group */
    u.has_color = true;
    u.color = 0x123456;
    assert_int_equal(wb_update_check(&u, false), 0);
    u.has_points = true;
    int32_t pts[3] = {1, 2, 3};
    u.points = pts;
    u.n_points = 3;
    assert_int_equal(wb_update_check(&u, false), -1);
    u.n_points = 2;
    assert_int_equal(wb_update_check(&u, false), 0);
    u.has_width = true;
    u.width = INFINITY;
    assert_int_equal(wb_update_check(&u, false), -1);

    /* Through wb_op_check and wb_jw_live. */
    Wb__V1__Op op = WB__V1__OP__INIT;
    op.board = "b1";
    op.op_id = "o1";
    op.kind = WB__V1__KIND__KIND_UPDATE;
    assert_int_equal(wb_op_check(&op), -1); /* no update */
    op.kind = WB__V1__KIND__KIND_SHAPE;
    assert_int_equal(wb_op_check(&op), -1);
    op.kind = WB__V1__KIND__KIND_TEXT;
    assert_int_equal(wb_op_check(&op), -1);
    op.text = &tx;
    assert_int_equal(wb_op_check(&op), -1); /* size 0 */
    tx.size = 1000;
    assert_int_equal(wb_op_check(&op), 0);
    Wb__V1__Live l = WB__V1__LIVE__INIT;
    l.from = "c1";
    l.name = "n";
    l.body_case = WB__V1__LIVE__BODY_UPDATE;
    l.update = &u; /* width INFINITY */
    wb_jw w;
    wb_jw_init(&w, 0, 16);
    assert_int_equal(wb_jw_live(&w, &l), -1);
    wb_jw_free(&w);
}

static bool on_msg(void *ctx, const wb_cmsg *m)
{
    (*(int *)ctx)++;
    return true;
}

static wb_errcode g_last_error;

static void on_error(void *ctx, wb_errcode code, const char *op, const char *msg)
{
    g_last_error = code;
}

/* The configured points cap covers the points of an update and its draft,
 * and an update costs one message token like a stroke. */
static void test_frame_caps(void **st)
{
    wb_frame_cfg cfg = {.rate = 1,
                        .burst = 2,
                        .byte_rate = 1 << 20,
                        .byte_burst = 1 << 20,
                        .abuse_refusals = 100,
                        .max_points = 4,
                        .max_ids = 10};
    wb_frame_in in;
    wb_frame_init(&in, &cfg, 0);
    int ok = 0;
    wb_frame_sink sink = {on_msg, on_error, &ok};
    const char *f = UPDATE("{\"points\":[1,2,3,4,5,6]}");
    wb_frame_stats s = wb_frame_handle(&in, f, strlen(f), 0, &sink);
    assert_int_equal(s.invalid, 1);
    assert_int_equal(g_last_error, WB_E_BAD_MESSAGE);
    f = "{\"t\":\"draft\",\"update\":{\"id\":\"e1\",\"set\":{\"points\":[1,2,3,4,5,6]}}}";
    s = wb_frame_handle(&in, f, strlen(f), 0, &sink);
    assert_int_equal(s.invalid, 1);
    assert_int_equal(ok, 0);
    /* The bucket (burst 2) is empty now: the next update is rate limited. */
    f = UPDATE("{\"points\":[1,2]}");
    s = wb_frame_handle(&in, f, strlen(f), 0, &sink);
    assert_int_equal(s.refused, 1);
    assert_int_equal(g_last_error, WB_E_RATE_LIMITED);
    assert_int_equal(ok, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_errors), cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_drafts),       cmocka_unit_test(test_wire_checks),
        cmocka_unit_test(test_frame_caps),
    };
    return cmocka_run_group_tests_name("elements", tests, NULL, NULL);
}
