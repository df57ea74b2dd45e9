/* Unit tests of wk_ackmeta: both ack subject forms, malformed subjects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wk_ackmeta.h"

static void test_v1(void **state)
{
    (void)state;
    wk_ackmeta m;
    memset(&m, 0xab, sizeof m);
    const char *s = "$JS.ACK.WB_OPS.wb-worker.2.12345.678.1700000000123456789.42";
    assert_int_equal(wk_ackmeta_parse(s, &m), 0);
    assert_int_equal(m.stream_len, 6);
    assert_memory_equal(m.stream, "WB_OPS", 6);
    assert_int_equal(m.consumer_len, 9);
    assert_memory_equal(m.consumer, "wb-worker", 9);
    assert_int_equal(m.delivered, 2);
    assert_int_equal(m.stream_seq, 12345);
    assert_int_equal(m.consumer_seq, 678);
    assert_int_equal(m.timestamp_ns, 1700000000123456789LL);
    assert_int_equal(m.pending, 42);
}

static void test_v2(void **state)
{
    (void)state;
    wk_ackmeta m;
    /* domain "_" (none), account hash, then the v1 fields, then a random token */
    const char *s = "$JS.ACK._.ACCHASH.WB_OPS.wb-worker.1.7.3.1700000000000000001.0.Xy9z";
    assert_int_equal(wk_ackmeta_parse(s, &m), 0);
    assert_memory_equal(m.stream, "WB_OPS", 6);
    assert_int_equal(m.stream_len, 6);
    assert_memory_equal(m.consumer, "wb-worker", 9);
    assert_int_equal(m.delivered, 1);
    assert_int_equal(m.stream_seq, 7);
    assert_int_equal(m.consumer_seq, 3);
    assert_int_equal(m.timestamp_ns, 1700000000000000001LL);
    assert_int_equal(m.pending, 0);

    /* exactly 11 tokens, with a domain */
    s = "$JS.ACK.hub.HASH.S.C.3.18446744073709551615.9.5.1";
    assert_int_equal(wk_ackmeta_parse(s, &m), 0);
    assert_int_equal(m.stream_len, 1);
    assert_memory_equal(m.stream, "S", 1);
    assert_int_equal(m.stream_seq, UINT64_MAX);
    assert_int_equal(m.delivered, 3);
}

static void test_malformed(void **state)
{
    (void)state;
    wk_ackmeta m;
    memset(&m, 0, sizeof m);
    m.stream_seq = 99;
    const char *bad[] = {
        "",
        "_INBOX.abc.def",
        "$JS.ACK.S.C.1.2.3.4",                      /* 8 tokens */
        "$JS.ACK.S.C.1.2.3.4.5.6",                  /* 10 tokens */
        "$JS.NAK.S.C.1.2.3.4.5",                    /* not ACK */
        "$js.ACK.S.C.1.2.3.4.5",                    /* case matters */
        "$JS.ACK.S.C.1.x.3.4.5",                    /* non-decimal seq */
        "$JS.ACK.S.C.1.-2.3.4.5",                   /* sign */
        "$JS.ACK.S.C.1.0.3.4.5",                    /* seq 0 */
        "$JS.ACK.S.C.1.18446744073709551616.3.4.5", /* overflow */
        "$JS.ACK.S.C.1.2.3.9223372036854775808.5",  /* ts beyond int64 */
        "$JS.ACK.S..1.2.3.4.5",                     /* empty token */
        "$JS.ACK.S.C.1.2.3.4.5.",                   /* trailing dot */
        "$JS.ACK._.H.S.C.1.2.3.4.",                 /* v2 with an empty pending */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (wk_ackmeta_parse(bad[i], &m) != -1) fail_msg("accepted %s", bad[i]);
    }
    assert_int_equal(m.stream_seq, 99); /* untouched on failure */
    assert_int_equal(wk_ackmeta_parse(NULL, &m), -1);
    assert_int_equal(wk_ackmeta_parse("$JS.ACK.S.C.1.2.3.4.5", NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1),
        cmocka_unit_test(test_v2),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
