/* Unit tests: hostile input on the gateway's frame path (wb_frame) and the
 * validation edges under it (UTF-8, widths, huge numbers, error text). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wb_frame.h"

typedef struct sink_log {
    size_t msgs, errors;
    wb_errcode last_code;
    char last_op[WB_ID_MAX + 1];
    char last_msg[400];
    bool stop_after_first;
} sink_log;

static bool on_msg(void *ctx, const wb_cmsg *m)
{
    sink_log *l = ctx;
    l->msgs++;
    return !l->stop_after_first;
}

static void on_error(void *ctx, wb_errcode code, const char *op, const char *msg)
{
    sink_log *l = ctx;
    l->errors++;
    l->last_code = code;
    snprintf(l->last_op, sizeof l->last_op, "%s", op ? op : "");
    snprintf(l->last_msg, sizeof l->last_msg, "%s", msg);
}

static const wb_frame_cfg g_cfg = {
    .rate = 200,
    .burst = 400,
    .byte_rate = 1 << 20,
    .byte_burst = 4 << 20,
    .abuse_refusals = 2000,
    .max_points = 0,
    .max_ids = 1000,
};

static wb_frame_stats run(wb_frame_in *in, const char *text, sink_log *l, int64_t now)
{
    wb_frame_sink s = {on_msg, on_error, l};
    return wb_frame_handle(in, text, strlen(text), now, &s);
}

static bool valid_utf8(const char *s)
{
    size_t n = strlen(s);
    return wb_utf8_prefix(s, n, n) == n;
}

static void test_utf8(void **st)
{
    assert_int_equal(wb_utf8_seq("a", 1), 1);
    assert_int_equal(wb_utf8_seq("\xc3\xa9", 2), 2);
    assert_int_equal(wb_utf8_seq("\xe2\x82\xac", 3), 3);
    assert_int_equal(wb_utf8_seq("\xf0\x9f\x98\x80", 4), 4);
    assert_int_equal(wb_utf8_seq("\xf4\x8f\xbf\xbf", 4), 4); /* U+10FFFF */
    assert_int_equal(wb_utf8_seq("\xf4\x90\x80\x80", 4), 0); /* above U+10FFFF */
    for (unsigned c = 0xf5; c <= 0xff; c++) {
        char s[4] = {(char)c, '\x80', '\x80', '\x80'};
        assert_int_equal(wb_utf8_seq(s, 4), 0);
    }
    assert_int_equal(wb_utf8_seq("\xc0\x80", 2), 0);     /* overlong NUL */
    assert_int_equal(wb_utf8_seq("\xed\xa0\x80", 3), 0); /* surrogate */
    assert_int_equal(wb_utf8_seq("\x80", 1), 0);
    assert_int_equal(wb_utf8_seq("\xe2\x82", 2), 0); /* cut */
    /* A prefix never cuts a sequence. */
    assert_int_equal(wb_utf8_prefix("ab\xc3\xa9", 4, 3), 2);
    assert_int_equal(wb_utf8_prefix("ab\xc3\xa9", 4, 4), 4);
    char out[8];
    assert_int_equal(wb_utf8_copy("a\xff\xc3\xa9z", 5, out, sizeof out), 5);
    assert_string_equal(out, "a?\xc3\xa9z");
    assert_int_equal(wb_utf8_copy("abcde\xc3\xa9", 7, out, 7), 5); /* no half sequence */
}

static void test_clean_name_lead_bytes(void **st)
{
    char out[WB_NAME_MAX + 1];
    /* 0xF5-0xFF can never start UTF-8; followed by continuation bytes they
     * used to be copied as a 3-byte sequence. */
    for (unsigned c = 0xf5; c <= 0xff; c++) {
        char in[] = {'a', (char)c, '\x80', '\x80', 'b', 0};
        wb_clean_name(in, 5, out);
        assert_string_equal(out, "ab");
    }
    assert_int_equal(wb_clean_name("\xf0\x9f\x98\x80!", 5, out), 5);
    assert_string_equal(out, "\xf0\x9f\x98\x80!");
    /* A long name is cut at a sequence boundary. */
    char big[200];
    size_t k = 0;
    big[k++] = 'x';
    while (k + 2 < sizeof big) {
        big[k++] = '\xc3';
        big[k++] = '\xa9';
    }
    size_t n = wb_clean_name(big, k, out);
    assert_true(n <= WB_NAME_MAX);
    assert_true(valid_utf8(out));
}

static void test_width_underflow_refused(void **st)
{
    wb_frame_in in;
    sink_log l = {0};
    wb_frame_init(&in, &g_cfg, 1000000);
    run(&in,
        "{\"t\":\"stroke\",\"op\":\"o1\",\"stroke\":{\"id\":\"s1\",\"color\":\"#000000\","
        "\"width\":1e-50,\"points\":[1,2]}}",
        &l, 1000000);
    assert_int_equal(l.msgs, 0);
    assert_int_equal(l.errors, 1);
    assert_int_equal(l.last_code, WB_E_BAD_MESSAGE);
    assert_string_equal(l.last_op, "o1");
    /* The smallest width a float holds is still a width. */
    memset(&l, 0, sizeof l);
    run(&in,
        "{\"t\":\"stroke\",\"op\":\"o2\",\"stroke\":{\"id\":\"s1\",\"color\":\"#000000\","
        "\"width\":0.001,\"points\":[1,2]}}",
        &l, 1000000);
    assert_int_equal(l.msgs, 1);
    assert_int_equal(l.errors, 0);
}

static void test_error_text_is_utf8(void **st)
{
    wb_frame_in in;
    sink_log l = {0};
    wb_frame_init(&in, &g_cfg, 1000000);
    /* 31 ASCII bytes, then a 2-byte sequence across the 32-byte cut. */
    char frame[200];
    snprintf(frame, sizeof frame, "{\"t\":\"%s\xc3\xa9zz\"}", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    run(&in, frame, &l, 1000000);
    assert_int_equal(l.errors, 1);
    assert_int_equal(l.last_code, WB_E_BAD_MESSAGE);
    assert_true(valid_utf8(l.last_msg));
    /* jansson's own error text quotes input: still valid UTF-8. */
    memset(&l, 0, sizeof l);
    run(&in, "{\"t\":\"ping\",\"x\":\xe2\x82\xac\xe2\x82}", &l, 1000000);
    assert_int_equal(l.errors, 1);
    assert_int_equal(l.last_code, WB_E_BAD_JSON);
    assert_true(valid_utf8(l.last_msg));
}

static void test_huge_numbers_bad_message(void **st)
{
    const char *frames[] = {
        "{\"t\":\"cursor\",\"x\":1e400,\"y\":0}",
        "{\"t\":\"cursor\",\"x\":-1e400,\"y\":0}",
        "{\"t\":\"stroke\",\"op\":\"o1\",\"stroke\":{\"id\":\"s1\",\"color\":\"#000000\","
        "\"width\":4,\"points\":[1,99999999999999999999999]}}",
        "{\"t\":\"cursor\",\"x\":NaN,\"y\":0}",
        "[{\"t\":\"cursor\",\"x\":Infinity,\"y\":1e999}]",
    };
    for (size_t i = 0; i < sizeof frames / sizeof *frames; i++) {
        wb_frame_in in;
        sink_log l = {0};
        wb_frame_init(&in, &g_cfg, 1000000);
        run(&in, frames[i], &l, 1000000);
        assert_int_equal(l.errors, 1);
        assert_int_equal(l.last_code, WB_E_BAD_MESSAGE);
        assert_int_equal(l.msgs, 0);
    }
}

static void test_one_error_per_frame(void **st)
{
    wb_frame_in in;
    sink_log l = {0};
    wb_frame_init(&in, &g_cfg, 1000000);
    /* [0,0,...,0]: 20,000 non-objects, one error, one token. */
    size_t n = 20000;
    char *f = malloc(2 * n + 2);
    size_t k = 0;
    f[k++] = '[';
    for (size_t i = 0; i < n; i++) {
        if (i) f[k++] = ',';
        f[k++] = '0';
    }
    f[k++] = ']';
    f[k] = 0;
    wb_frame_stats s = run(&in, f, &l, 1000000);
    free(f);
    assert_int_equal(l.errors, 1);
    assert_int_equal(l.last_code, WB_E_BAD_JSON);
    assert_int_equal(s.msgs, 1);
    assert_false(s.abuse);
    /* Three bad messages and a good one: one error naming the first, the good one served. */
    memset(&l, 0, sizeof l);
    run(&in,
        "[{\"t\":\"nope\",\"op\":\"a1\"},{\"t\":\"ping\",\"ts\":1},{\"t\":\"erase\",\"op\":"
        "\"a2\",\"ids\":[]},{\"t\":\"cursor\"}]",
        &l, 1000000);
    assert_int_equal(l.msgs, 1);
    assert_int_equal(l.errors, 1);
    assert_int_equal(l.last_code, WB_E_BAD_MESSAGE);
    assert_string_equal(l.last_op, "a1");
    assert_non_null(strstr(l.last_msg, "2 more"));
    /* An empty array is not a message either. */
    memset(&l, 0, sizeof l);
    run(&in, "[]", &l, 1000000);
    assert_int_equal(l.errors, 1);
}

static void test_bad_frames_cost_tokens(void **st)
{
    wb_frame_in in;
    sink_log l = {0};
    wb_frame_cfg cfg = g_cfg;
    cfg.abuse_refusals = 100;
    int64_t t = 1000000;
    wb_frame_init(&in, &cfg, t);
    size_t bad_json = 0, limited = 0;
    bool abuse = false;
    for (int i = 0; i < 600 && !abuse; i++) {
        memset(&l, 0, sizeof l);
        wb_frame_stats s = run(&in, "not json", &l, t);
        assert_int_equal(l.errors, 1);
        if (l.last_code == WB_E_BAD_JSON) bad_json++;
        if (l.last_code == WB_E_RATE_LIMITED) limited++;
        abuse = s.abuse;
    }
    assert_int_equal(bad_json, 400); /* the burst */
    assert_int_equal(limited, 101);  /* then refused, until abuse */
    assert_true(abuse);
    /* The good message after them is refused too: the tokens are gone. */
    memset(&l, 0, sizeof l);
    run(&in, "{\"t\":\"ping\"}", &l, t);
    assert_int_equal(l.msgs, 0);
    assert_int_equal(l.last_code, WB_E_RATE_LIMITED);
}

static void test_rate_limited_ops_named_once(void **st)
{
    wb_frame_in in;
    sink_log l = {0};
    wb_frame_cfg cfg = g_cfg;
    cfg.burst = 1;
    cfg.rate = 1;
    wb_frame_init(&in, &cfg, 1000000);
    run(&in, "[{\"t\":\"clear\",\"op\":\"c1\"},{\"t\":\"clear\",\"op\":\"c2\"}]", &l, 1000000);
    assert_int_equal(l.msgs, 1);
    assert_int_equal(l.errors, 1);
    assert_int_equal(l.last_code, WB_E_RATE_LIMITED);
    assert_string_equal(l.last_op, "c2"); /* the one refused op is named */
    memset(&l, 0, sizeof l);
    run(&in, "[{\"t\":\"clear\",\"op\":\"c3\"},{\"t\":\"clear\",\"op\":\"c4\"}]", &l, 1000000);
    assert_int_equal(l.msgs, 0);
    assert_int_equal(l.errors, 1);
    assert_string_equal(l.last_op, ""); /* several: none named, the client resends all */
}

static void test_byte_rate(void **st)
{
    wb_frame_in in;
    wb_frame_cfg cfg = g_cfg;
    cfg.byte_rate = 100000;
    cfg.byte_burst = 300000;
    int64_t t = 1000000;
    wb_frame_init(&in, &cfg, t);
    size_t n = 100000;
    char *f = malloc(n + 1);
    memset(f, ' ', n);
    memcpy(f, "{\"t\":\"ping\"}", 12);
    f[n] = 0;
    size_t served = 0, refused = 0;
    for (int i = 0; i < 10; i++) {
        sink_log l = {0};
        run(&in, f, &l, t);
        served += l.msgs;
        if (l.errors) {
            assert_int_equal(l.last_code, WB_E_RATE_LIMITED);
            refused++;
        }
    }
    assert_int_equal(served, 3); /* the byte burst */
    assert_int_equal(refused, 7);
    t += 1000000; /* one second: one more 100 kB frame */
    sink_log l = {0};
    run(&in, f, &l, t);
    assert_int_equal(l.msgs, 1);
    memset(&l, 0, sizeof l);
    run(&in, f, &l, t);
    assert_int_equal(l.msgs, 0);
    free(f);
}

static void test_caps(void **st)
{
    wb_frame_in in;
    wb_frame_cfg cfg = g_cfg;
    cfg.max_ids = 2;
    cfg.max_points = 4;
    wb_frame_init(&in, &cfg, 1000000);
    sink_log l = {0};
    run(&in, "{\"t\":\"erase\",\"op\":\"e1\",\"ids\":[\"a\",\"b\",\"c\"]}", &l, 1000000);
    assert_int_equal(l.msgs, 0);
    assert_int_equal(l.last_code, WB_E_BAD_MESSAGE);
    assert_string_equal(l.last_op, "e1");
    memset(&l, 0, sizeof l);
    run(&in,
        "{\"t\":\"stroke\",\"op\":\"o1\",\"stroke\":{\"id\":\"s1\",\"color\":\"#000000\","
        "\"width\":4,\"points\":[1,2,3,4,5,6]}}",
        &l, 1000000);
    assert_int_equal(l.msgs, 0);
    assert_int_equal(l.last_code, WB_E_BAD_MESSAGE);
    memset(&l, 0, sizeof l);
    run(&in, "{\"t\":\"erase\",\"op\":\"e2\",\"ids\":[\"a\",\"b\"]}", &l, 1000000);
    assert_int_equal(l.msgs, 1);
    assert_int_equal(l.errors, 0);
}

static void test_stop(void **st)
{
    wb_frame_in in;
    sink_log l = {.stop_after_first = true};
    wb_frame_init(&in, &g_cfg, 1000000);
    run(&in, "[{\"t\":\"ping\"},{\"t\":\"ping\"},{\"t\":\"ping\"}]", &l, 1000000);
    assert_int_equal(l.msgs, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_clean_name_lead_bytes),
        cmocka_unit_test(test_width_underflow_refused),
        cmocka_unit_test(test_error_text_is_utf8),
        cmocka_unit_test(test_huge_numbers_bad_message),
        cmocka_unit_test(test_one_error_per_frame),
        cmocka_unit_test(test_bad_frames_cost_tokens),
        cmocka_unit_test(test_rate_limited_ops_named_once),
        cmocka_unit_test(test_byte_rate),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_stop),
    };
    return cmocka_run_group_tests_name("frame", tests, NULL, NULL);
}
