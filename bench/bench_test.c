/* Unit tests of wb-bench's own correctness: histogram percentiles, frame
 * parsing (object vs array frames, nested values, malformed input), op id
 * encoding, and the sent / received / duplicate / missing accounting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "bench_hist.h"
#include "bench_parse.h"
#include "bench_track.h"

/* ---------- histogram ---------- */

static void hist_buckets_cover_values(void **state)
{
    /* every value lands in a bucket whose [lo, hi] contains it; buckets are ordered */
    uint64_t vals[] = {0, 1, 31, 32, 33, 63, 64, 65, 100, 1000, 123456, 999999999, 1ull << 39};
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
        size_t b = bh_index(vals[i]);
        assert_true(b < BH_BUCKETS);
        assert_true(bh_bucket_lo(b) <= vals[i]);
        assert_true(vals[i] <= bh_bucket_hi(b));
    }
    for (size_t b = 1; b < BH_BUCKETS; b++)
        assert_int_equal(bh_bucket_lo(b), bh_bucket_hi(b - 1) + 1);
}

static void hist_percentiles(void **state)
{
    static bench_hist h;
    bh_reset(&h);
    assert_int_equal(bh_quantile(&h, 0.5), 0);
    /* 1..10000 microseconds, uniform */
    for (uint64_t v = 1; v <= 10000; v++)
        bh_add(&h, v * 1000);
    assert_int_equal(h.count, 10000);
    assert_int_equal(h.min_ns, 1000);
    assert_int_equal(h.max_ns, 10000000);
    double q[] = {0.5, 0.9, 0.99, 0.999};
    double want[] = {5000e3, 9000e3, 9900e3, 9990e3};
    for (int i = 0; i < 4; i++) {
        double got = (double)bh_quantile(&h, q[i]);
        assert_true(got >= want[i]);          /* upper bound of the bucket... */
        assert_true(got <= want[i] * 1.0313); /* ...within 1/32 */
    }
    assert_int_equal(bh_quantile(&h, 1.0), 10000000);
    assert_int_equal(bh_quantile(&h, 0.0), 1000);
    assert_true(bh_mean(&h) > 5000e3 && bh_mean(&h) < 5001e3);
}

static void hist_tail_and_merge(void **state)
{
    static bench_hist a, b;
    bh_reset(&a);
    bh_reset(&b);
    for (int i = 0; i < 999; i++)
        bh_add(&a, 1000000); /* 1 ms */
    bh_add(&b, 50000000);    /* one 50 ms outlier */
    bh_merge(&a, &b);
    assert_int_equal(a.count, 1000);
    assert_true(bh_quantile(&a, 0.99) <= 1000000 * 1.0313);
    assert_int_equal(bh_quantile(&a, 0.9995), 50000000); /* capped by the exact max */
    assert_int_equal(a.max_ns, 50000000);
    bh_add(&a, 1ull << 50); /* clamped, not lost */
    assert_int_equal(a.clamped, 1);
    assert_int_equal(a.count, 1001);
}

/* ---------- parsing ---------- */

typedef struct {
    int n;
    char t[8][16];
    char op[8][32];
    char from[8][16];
    double x[8];
    int64_t seq[8];
} seen;

static int collect(void *ud, const bp_msg *m)
{
    seen *s = ud;
    if (s->n < 8) {
        snprintf(s->t[s->n], sizeof s->t[0], "%.*s", (int)m->t.n, m->t.s);
        snprintf(s->op[s->n], sizeof s->op[0], "%.*s", (int)m->op.n, m->op.s);
        snprintf(s->from[s->n], sizeof s->from[0], "%.*s", (int)m->from.n, m->from.s);
        s->x[s->n] = m->has_x ? m->x : -1;
        s->seq[s->n] = m->has_seq ? m->seq : -1;
    }
    s->n++;
    return 0;
}

static const char EV[] =
    "{\"t\":\"ev\",\"seq\":42,\"op\":\"o7Hc2\",\"from\":\"c3Fz\",\"kind\":\"stroke\","
    "\"stroke\":{\"id\":\"s9Kq1\",\"op\":\"nested\",\"t\":\"no\",\"color\":\"#1e1e1e\",\"width\":4,"
    "\"points\":[10,10.5,-20,1e3,30,25],\"by\":\"c3Fz\"}}";

static void parse_object_frame(void **state)
{
    seen s = {0};
    assert_int_equal(bp_parse_frame(EV, strlen(EV), collect, &s), 1);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.t[0], "ev");
    assert_string_equal(s.op[0], "o7Hc2"); /* the top-level op, not the nested one */
    assert_string_equal(s.from[0], "c3Fz");
    assert_int_equal(s.seq[0], 42);
}

static void parse_array_frame(void **state)
{
    const char *f =
        " [ {\"t\":\"ack\",\"op\":\"a1\",\"seq\":7},\n"
        "{\"from\":\"cQ\",\"x\":12345,\"y\":3.5,\"t\":\"cursor\",\"name\":\"b\\\"7\"},"
        "{\"t\":\"presence\",\"clients\":[{\"id\":\"a\",\"name\":\"x\",\"color\":\"#000000\"}]} ] ";
    seen s = {0};
    assert_int_equal(bp_parse_frame(f, strlen(f), collect, &s), 3);
    assert_string_equal(s.t[0], "ack");
    assert_string_equal(s.op[0], "a1");
    assert_int_equal(s.seq[0], 7);
    assert_string_equal(s.t[1], "cursor"); /* key order does not matter */
    assert_true(s.x[1] == 12345);
    assert_string_equal(s.from[1], "cQ");
    assert_string_equal(s.t[2], "presence");
    seen e = {0};
    assert_int_equal(bp_parse_frame("[]", 2, collect, &e), 0);
    assert_int_equal(e.n, 0);
}

static void parse_not_null_terminated(void **state)
{
    char buf[64];
    memset(buf, '9', sizeof buf);
    memcpy(buf, "{\"t\":\"cursor\",\"x\":12", 20); /* frame ends inside the number... */
    seen s = {0};
    assert_int_equal(bp_parse_frame(buf, 20, collect, &s), -1); /* ...so it is truncated */
    memcpy(buf, "{\"t\":\"cursor\",\"x\":12}", 21);
    assert_int_equal(bp_parse_frame(buf, 21, collect, &s), 1);
    assert_true(s.x[0] == 12); /* and the 9s after the frame were not read */
}

static void parse_rejects_bad_frames(void **state)
{
    const char *bad[] = {"",         "   ",           "42",          "\"str\"",         "[1,2]",
                         "{\"t\":}", "{\"t\":\"ev\"", "[{\"t\":1},", "{\"t\":\"a\"} x", "{'t':1}",
                         "[{}]]",    "{\"a\":[1,2}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        seen s = {0};
        assert_int_equal(bp_parse_frame(bad[i], strlen(bad[i]), collect, &s), -1);
    }
}

static void op_id_roundtrip(void **state)
{
    char buf[80];
    uint32_t a;
    uint64_t b;
    int n = bp_format_op(buf, sizeof buf, "r4nd0m", 1234, 9876543210ull);
    assert_string_equal(buf, "Br4nd0m_1234_9876543210");
    assert_true(n <= 64);
    bp_str s = {buf, (size_t)n};
    assert_int_equal(bp_parse_op(s, "r4nd0m", &a, &b), 0);
    assert_int_equal(a, 1234);
    assert_int_equal(b, 9876543210ull);
    assert_int_equal(bp_parse_op(s, "other1", &a, &b), -1); /* another run's op */
    bp_str t = {"Br4nd0m_12_", 11};
    assert_int_equal(bp_parse_op(t, "r4nd0m", &a, &b), -1);
    bp_str u = {"Br4nd0m_12_3x", 13};
    assert_int_equal(bp_parse_op(u, "r4nd0m", &a, &b), -1);
    bp_str v = {"o7Hc2", 5};
    assert_int_equal(bp_parse_op(v, "r4nd0m", &a, &b), -1);
}

/* ---------- accounting ---------- */

static void track_counts(void **state)
{
    bt_ring r;
    bt_stats st = {0};
    uint64_t ts = 0;
    assert_int_equal(bt_ring_init(&r, 100, 70, 1), 0); /* 70 members: two bitmap words */
    assert_int_equal(r.size, 128);
    /* 10 ops, each expected at all 70 members (the sender gets its own ev too) */
    for (uint64_t k = 0; k < 10; k++)
        bt_send(&r, &st, k, 1000 + k, 70);
    assert_int_equal(st.sent, 10);
    assert_int_equal(st.expected, 700);
    for (uint64_t k = 0; k < 10; k++)
        for (uint32_t m = 0; m < 70; m++)
            if (!(k == 3 && m == 65)) /* one delivery lost */
                assert_int_equal(bt_recv(&r, &st, k, m, &ts), BT_NEW);
    assert_int_equal(bt_recv(&r, &st, 5, 65, &ts), BT_DUP); /* a duplicate */
    assert_int_equal(bt_recv(&r, &st, 5, 0, &ts), BT_DUP);
    assert_int_equal(bt_recv(&r, &st, 99, 0, &ts), BT_UNKNOWN); /* never sent */
    assert_int_equal(bt_recv(&r, &st, 1, 70, &ts), BT_UNKNOWN); /* not a member */
    assert_int_equal(bt_recv(&r, &st, 7, 69, &ts), BT_DUP);
    assert_int_equal(bt_ack(&r, &st, 2, 5000, &ts), BT_NEW);
    assert_int_equal(ts, 1002);
    assert_int_equal(bt_ack(&r, &st, 2, 5001, &ts), BT_DUP);
    assert_int_equal(bt_ack(&r, &st, 42, 5001, &ts), BT_UNKNOWN);
    bt_finish(&r, &st);
    assert_int_equal(st.received, 699);
    assert_int_equal(st.dup, 3);
    assert_int_equal(st.unknown, 2);
    assert_int_equal(st.missing, 1);
    assert_int_equal(st.acked, 1);
    assert_int_equal(st.ack_dup, 1);
    assert_int_equal(st.ack_unknown, 1);
    assert_int_equal(st.unacked, 9);
    assert_int_equal(st.expected, st.received + st.missing); /* the books balance */
    bt_ring_free(&r);
}

static void track_wraparound(void **state)
{
    bt_ring r;
    bt_stats st = {0};
    uint64_t ts;
    assert_int_equal(bt_ring_init(&r, 16, 3, 0), 0);
    for (uint64_t k = 0; k < 16; k++)
        bt_send(&r, &st, k, 10 + k, 2);
    assert_int_equal(bt_recv(&r, &st, 0, 1, &ts), BT_NEW);
    assert_int_equal(ts, 10);
    bt_send(&r, &st, 16, 99, 2); /* reuses slot 0: its one missing receipt is counted now */
    assert_int_equal(st.missing, 1);
    assert_int_equal(bt_recv(&r, &st, 0, 2, &ts), BT_UNKNOWN); /* too late for the ring */
    assert_int_equal(bt_recv(&r, &st, 16, 1, &ts), BT_NEW);    /* bitmap was cleared */
    assert_int_equal(ts, 99);
    bt_finish(&r, &st);
    assert_int_equal(st.sent, 17);
    assert_int_equal(st.expected, 34);
    assert_int_equal(st.received, 2);
    assert_int_equal(st.missing, 32);
    assert_int_equal(st.unacked, 0); /* acks not tracked for cursors */
    bt_finish(&r, &st);              /* idempotent */
    assert_int_equal(st.missing, 32);
    bt_stats sum = {0};
    bt_stats_add(&sum, &st);
    bt_stats_add(&sum, &st);
    assert_int_equal(sum.missing, 64);
    bt_ring_free(&r);
}

/* Receivers of one board on different threads (wb-bench --threads): every
 * thread receives every message at every member; exactly one receipt per
 * (message, member) is new, the others are duplicates, and nothing is lost. */
#define MT_THREADS 4
#define MT_MSGS 200
#define MT_MEMBERS 130
static bt_ring mt_ring;
static bt_stats mt_st[MT_THREADS];

static void *mt_recv(void *arg)
{
    bt_stats *st = arg;
    uint64_t ts;
    for (uint64_t k = 0; k < MT_MSGS; k++)
        for (uint32_t m = 0; m < MT_MEMBERS; m++)
            bt_recv(&mt_ring, st, k, m, &ts);
    return NULL;
}

static void track_threads(void **state)
{
    bt_stats st = {0};
    assert_int_equal(bt_ring_init(&mt_ring, MT_MSGS, MT_MEMBERS, 0), 0);
    for (uint64_t k = 0; k < MT_MSGS; k++)
        bt_send(&mt_ring, &st, k, 1 + k, MT_MEMBERS);
    pthread_t t[MT_THREADS];
    for (int i = 0; i < MT_THREADS; i++) {
        memset(&mt_st[i], 0, sizeof mt_st[i]);
        assert_int_equal(pthread_create(&t[i], NULL, mt_recv, &mt_st[i]), 0);
    }
    for (int i = 0; i < MT_THREADS; i++) {
        pthread_join(t[i], NULL);
        bt_stats_add(&st, &mt_st[i]);
    }
    bt_finish(&mt_ring, &st);
    assert_int_equal(st.received, (uint64_t)MT_MSGS * MT_MEMBERS);
    assert_int_equal(st.dup, (uint64_t)MT_MSGS * MT_MEMBERS * (MT_THREADS - 1));
    assert_int_equal(st.missing, 0);
    bt_ring_free(&mt_ring);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hist_buckets_cover_values),
        cmocka_unit_test(hist_percentiles),
        cmocka_unit_test(hist_tail_and_merge),
        cmocka_unit_test(parse_object_frame),
        cmocka_unit_test(parse_array_frame),
        cmocka_unit_test(parse_not_null_terminated),
        cmocka_unit_test(parse_rejects_bad_frames),
        cmocka_unit_test(op_id_roundtrip),
        cmocka_unit_test(track_counts),
        cmocka_unit_test(track_wraparound),
        cmocka_unit_test(track_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
