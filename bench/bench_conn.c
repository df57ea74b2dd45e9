/* bench_conn: the client connections of wb-bench. Connects (libwebsockets
 * client), reassembles frames, matches every received ev, ack and cursor to
 * its send time in the sender's ring (bench_track.h), and sends each drawer's
 * strokes and cursors on its schedule. Runs on the service thread that owns
 * the connection (bench.h: connection i on thread i % threads); counts go to
 * that thread's bench_me->n. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "wb_clock.h"
#include "wb_log.h"

const char *const bench_msg_types[BENCH_N_TYPES] = {
    "welcome", "snapshot", "ev", "ack", "draft", "cursor", "presence", "pong", "error", "other"};
const char *const bench_err_codes[BENCH_N_ERRS] = {"bad_json",     "bad_message", "too_large",
                                                   "rate_limited", "unavailable", "other"};

/* This second's counts for the timeline (thread 0 takes them). */
static void sec_delivery(uint64_t lat, int cursor)
{
    bench_sec *s = &bench_me->sec;
    pthread_mutex_lock(&s->lock);
    bh_add(&s->h, lat);
    if (cursor)
        s->cur++;
    else
        s->deliv++;
    pthread_mutex_unlock(&s->lock);
}

static void sec_bump(uint64_t *n)
{
    pthread_mutex_lock(&bench_me->sec.lock);
    (*n)++;
    pthread_mutex_unlock(&bench_me->sec.lock);
}

static void count_close(int code)
{
    for (int i = 0; i < BN.n_close_codes; i++)
        if (BN.close_codes[i].code == code) {
            BN.close_codes[i].n++;
            return;
        }
    if (BN.n_close_codes < MAX_CLOSE_CODES) {
        BN.close_codes[BN.n_close_codes].code = code;
        BN.close_codes[BN.n_close_codes++].n = 1;
    }
}

static void count_fail(const char *why)
{
    for (int i = 0; i < BN.n_fail_reasons; i++)
        if (!strcmp(BN.fail_reasons[i].why, why)) {
            BN.fail_reasons[i].n++;
            return;
        }
    if (BN.n_fail_reasons < MAX_FAIL_REASONS) {
        snprintf(BN.fail_reasons[BN.n_fail_reasons].why, sizeof BN.fail_reasons[0].why, "%s", why);
        BN.fail_reasons[BN.n_fail_reasons++].n = 1;
    }
}

static void make_path(conn *c)
{
    char bname[96];
    snprintf(bname, sizeof bname, "%s-%s-%u", B.cfg.prefix, B.run.run_id, c->board);
    const char *b = strstr(B.cfg.path, "{board}");
    const char *q = strchr(B.cfg.path, '?');
    snprintf(c->path, sizeof c->path, "%.*s%s%s%s%cname=b%u", (int)(b - B.cfg.path), B.cfg.path,
             bname, b + 7, "", q ? '&' : '?', c->idx);
}

static int type_index(bp_str t)
{
    for (size_t i = 0; i + 1 < BENCH_N_TYPES; i++)
        if (bp_eq(t, bench_msg_types[i])) return (int)i;
    return (int)BENCH_N_TYPES - 1;
}

static void on_welcome(conn *c, const bp_msg *m, uint64_t now)
{
    if (c->state == C_WELCOMED) return;
    c->state = C_WELCOMED;
    c->was_welcomed = 1;
    __atomic_fetch_add(&BN.welcomed, 1, __ATOMIC_RELAXED);
    B.run.boards[c->board].alive++;
    bh_add(&BN.h_welcome, now - c->t_start);
    if (!m->client.n) return;
    pthread_rwlock_wrlock(&B.run.cids_lock);
    int r = wb_map_put(&B.run.cids, m->client.s, m->client.n, (void *)(uintptr_t)(c->idx + 1));
    pthread_rwlock_unlock(&B.run.cids_lock);
    if (r < 0) wb_warn("bench: out of memory for the client id map");
}

static void on_ev(conn *c, const bp_msg *m, uint64_t now)
{
    uint32_t s;
    uint64_t k, ts;
    if (!m->op.n || bp_parse_op(m->op, B.run.run_id, &s, &k) < 0 || s >= (uint32_t)B.cfg.conns ||
        !B.run.conns[s].drawer) {
        BN.foreign_ev++;
        return;
    }
    if (bt_recv(&B.run.conns[s].strokes, &BN.st_ev, k, c->member, &ts) != BT_NEW) return;
    uint64_t lat = now > ts ? now - ts : 0;
    if (s == c->idx) {
        bh_add(&BN.h_self, lat);
    } else {
        bh_add(&BN.h_e2e, lat);
    }
    sec_delivery(lat, 0);
    if (B.run.phase == P_LOAD) BN.load_deliveries++;
}

static void on_ack(conn *c, const bp_msg *m, uint64_t now)
{
    uint32_t s;
    uint64_t k, ts;
    if (!m->op.n || bp_parse_op(m->op, B.run.run_id, &s, &k) < 0 || s != c->idx || !c->drawer) {
        BN.foreign_ack++;
        return;
    }
    if (bt_ack(&c->strokes, &BN.st_ev, k, now, &ts) == BT_NEW) {
        bh_add(&BN.h_ack, now > ts ? now - ts : 0);
        sec_bump(&bench_me->sec.acks);
        c->own_acked++;
        if (B.cfg.inflight) c->ack_kick = 1; /* a window slot is free: bench_kick after the frame */
    }
}

static void on_cursor(conn *c, const bp_msg *m, uint64_t now)
{
    uint32_t s;
    uint64_t ts;
    uintptr_t v = 0;
    if (m->from.n) {
        pthread_rwlock_rdlock(&B.run.cids_lock);
        v = (uintptr_t)wb_map_get(&B.run.cids, m->from.s, m->from.n);
        pthread_rwlock_unlock(&B.run.cids_lock);
    }
    int mapped = v != 0;
    if (mapped) s = (uint32_t)(v - 1);
    if (!mapped && m->name.n > 1 && m->name.s[0] == 'b') { /* fall back on ?name=b<conn> */
        char tmp[16];
        size_t n = m->name.n - 1 < sizeof tmp - 1 ? m->name.n - 1 : sizeof tmp - 1;
        memcpy(tmp, m->name.s + 1, n);
        tmp[n] = 0;
        char *e;
        unsigned long num = strtoul(tmp, &e, 10);
        if (!*e && n) {
            s = (uint32_t)num;
            mapped = 1;
        }
    }
    if (!mapped || s >= (uint32_t)B.cfg.conns || !B.run.conns[s].drawer || !m->has_x || m->x < 0) {
        BN.cursor_unmapped++;
        return;
    }
    uint32_t sm = B.run.conns[s].member;
    if (c->cur_newest && sm < c->cur_newest_n) {
        if ((uint64_t)m->x + 1 < c->cur_newest[sm])
            BN.cursor_reordered++;
        else
            c->cur_newest[sm] = (uint64_t)m->x + 1;
    }
    if (bt_recv(&B.run.conns[s].cursors, &BN.st_cur, (uint64_t)m->x, c->member, &ts) != BT_NEW)
        return;
    bh_add(&BN.h_cursor, now > ts ? now - ts : 0);
    sec_delivery(now > ts ? now - ts : 0, 1);
    if (B.run.phase == P_LOAD) BN.load_cur_deliveries++;
}

static int on_msg(void *ud, const bp_msg *m)
{
    conn *c = ud;
    uint64_t now = (uint64_t)wb_mono_ns();
    int ti = type_index(m->t);
    BN.type_count[ti]++;
    BN.msgs_rx++;
    switch (ti) {
    case 0:
        on_welcome(c, m, now);
        break;
    case 2:
        on_ev(c, m, now);
        break;
    case 3:
        on_ack(c, m, now);
        break;
    case 5:
        on_cursor(c, m, now);
        break;
    case 8: {
        size_t e = 0;
        while (e + 1 < BENCH_N_ERRS && !bp_eq(m->code, bench_err_codes[e]))
            e++;
        BN.err_count[e]++;
        break;
    }
    default:
        break;
    }
    return 0;
}

static void on_frame(conn *c, const char *buf, size_t len)
{
    BN.frames_rx++;
    BN.bytes_rx += len;
    if (bp_parse_frame(buf, len, on_msg, c) < 0) BN.bad_frames++;
}

static void on_receive(conn *c, struct lws *wsi, const char *in, size_t len)
{
    int final = lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);
    if (!c->rx_len && final) {
        on_frame(c, in, len);
        return;
    }
    if (c->rx_len + len > c->rx_cap) {
        size_t cap = c->rx_cap ? c->rx_cap : 8192;
        while (cap < c->rx_len + len)
            cap *= 2;
        char *n = realloc(c->rx, cap);
        if (!n) {
            wb_error("bench: out of memory assembling a %zu-byte frame", c->rx_len + len);
            c->rx_len = 0;
            return;
        }
        c->rx = n;
        c->rx_cap = cap;
    }
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    if (final) {
        on_frame(c, c->rx, c->rx_len);
        c->rx_len = 0;
        if (c->rx_cap > (256u << 10)) { /* do not keep big snapshot buffers */
            free(c->rx);
            c->rx = NULL;
            c->rx_cap = 0;
        }
    }
}

uint64_t bench_period_ns(double rate)
{
    return rate > 0 ? (uint64_t)(1e9 / rate) : 0;
}

/* A stroke is due and the --inflight window has room for it. */
static int stroke_due(const conn *c, uint64_t now)
{
    return B.cfg.rate > 0 && c->next_stroke <= now &&
           !(B.cfg.inflight && c->stroke_ctr - c->own_acked >= (uint64_t)B.cfg.inflight);
}

static int cursor_due(const conn *c, uint64_t now)
{
    return B.cfg.cursor_rate > 0 && c->next_cursor <= now;
}

int bench_due(const conn *c, uint64_t now)
{
    return stroke_due(c, now) || cursor_due(c, now);
}

/* Appends this drawer's next due message (a stroke op or a cursor, the
 * earlier-due first; strokes only while under --inflight) at p, which has
 * room for one. Returns its length, or 0 when nothing is due. */
static size_t put_due(conn *c, uint64_t now, char *p, char *end)
{
    char *p0 = p;
    int do_stroke = stroke_due(c, now), do_cursor = cursor_due(c, now);
    if (do_stroke && do_cursor) {
        if (c->next_cursor < c->next_stroke)
            do_stroke = 0;
        else
            do_cursor = 0;
    }
    if (!do_stroke && !do_cursor) return 0;
    uint32_t alive = B.run.boards[c->board].alive;
    if (do_stroke) {
        uint64_t k = c->stroke_ctr++;
        bh_add(&BN.h_lag, now - c->next_stroke);
        char op[80];
        bp_format_op(op, sizeof op, B.run.run_id, c->idx, k);
        p += snprintf(
            p, (size_t)(end - p),
            "{\"t\":\"stroke\",\"op\":\"%s\",\"stroke\":{\"id\":\"%s\",\"color\":\"#1e1e1e\","
            "\"width\":3,\"points\":[",
            op, op);
        for (int i = 0; i < B.cfg.points && end - p > 64; i++)
            p += snprintf(p, (size_t)(end - p), "%s%u,%u", i ? "," : "", (unsigned)(10 + i * 7),
                          (unsigned)(10 + (k % 500) + i * 3));
        p += snprintf(p, (size_t)(end - p), "]}}");
        bt_send(&c->strokes, &BN.st_ev, k, now, alive);
        uint64_t per = bench_period_ns(B.cfg.rate);
        c->next_stroke += per;
        if (now > c->next_stroke + NS) {
            BN.send_skipped += (now - c->next_stroke) / per;
            c->next_stroke = now + per;
        }
    } else {
        uint64_t k = c->cursor_ctr++;
        bh_add(&BN.h_lag, now - c->next_cursor);
        p += snprintf(p, (size_t)(end - p), "{\"t\":\"cursor\",\"x\":%llu,\"y\":%u}",
                      (unsigned long long)k, c->idx % 1000);
        bt_send(&c->cursors, &BN.st_cur, k, now, alive ? alive - 1 : 0);
        uint64_t per = bench_period_ns(B.cfg.cursor_rate);
        c->next_cursor += per;
        if (now > c->next_cursor + NS) {
            BN.send_skipped += (now - c->next_cursor) / per;
            c->next_cursor = now + per;
        }
    }
    sec_bump(&bench_me->sec.sent);
    return (size_t)(p - p0);
}

/* One frame per call (a writeable callback, or bench_kick): the next due message, or with --batch B
 * up to B due messages as one JSON array (the protocol lets a client batch,
 * as a client flushing its outbox once per animation frame does). */
static int on_writable(conn *c, struct lws *wsi)
{
    /* room for the array brackets and --batch messages of the largest stroke */
    enum { MSG_MAX = 160 + 400 * 24, BUF = 256 * 1024 };
    static __thread unsigned char buf[LWS_PRE + BUF];
    c->want_write = 0;
    if (B.run.phase != P_LOAD || c->state != C_WELCOMED || !c->drawer) return 0;
    uint64_t now = (uint64_t)wb_mono_ns();
    char *p = (char *)buf + LWS_PRE, *end = (char *)buf + sizeof buf - 1;
    int n = 0, max = B.cfg.batch > 1 ? B.cfg.batch : 1;
    if (max > 1) *p++ = '[';
    for (; n < max && end - p > MSG_MAX; n++) {
        if (n && max > 1) *p++ = ',';
        size_t k = put_due(c, now, p, end);
        if (!k) {
            if (n) p--; /* the comma */
            break;
        }
        p += k;
    }
    if (!n) return 0;
    if (max > 1) *p++ = ']';
    size_t len = (size_t)(p - ((char *)buf + LWS_PRE));
    if (lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_TEXT) < (int)len) {
        BN.write_errors++;
        return -1;
    }
    BN.frames_tx++;
    if (bench_due(c, now)) {
        c->want_write = 1;
        lws_callback_on_writable(wsi);
    }
    return 0;
}

void bench_kick(conn *c)
{
    if (!c->wsi || c->state != C_WELCOMED) return;
    /* A write that lws could not finish waits for POLLOUT; otherwise write
     * now: asking for a writeable callback costs libuv two epoll_ctl calls
     * (its poll handle leaves epoll and comes back), more than the write. */
    if (lws_partial_buffered(c->wsi)) {
        c->want_write = 1;
        lws_callback_on_writable(c->wsi);
    } else if (on_writable(c, c->wsi) < 0) {
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
}

static void conn_gone(conn *c, int was_welcomed)
{
    if (was_welcomed && B.run.boards[c->board].alive) B.run.boards[c->board].alive--;
    c->wsi = NULL;
    free(c->rx);
    c->rx = NULL;
    c->rx_cap = c->rx_len = 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    conn *c = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (c && (c->state == C_CONNECTING || c->state == C_ESTAB)) {
            c->state = C_FAILED;
            __atomic_fetch_add(&BN.failed, 1, __ATOMIC_RELAXED);
            count_fail(in ? (const char *)in : "connection error");
            conn_gone(c, 0);
        }
        break;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (c && c->state == C_CONNECTING) {
            c->state = C_ESTAB;
            __atomic_fetch_add(&BN.established, 1, __ATOMIC_RELAXED);
            bh_add(&BN.h_connect, (uint64_t)wb_mono_ns() - c->t_start);
        }
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (!c) break;
        on_receive(c, wsi, in, len);
        if (c->ack_kick) {
            c->ack_kick = 0;
            if (!c->want_write) bench_kick(c);
        }
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (c) return on_writable(c, wsi);
        break;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (B.run.phase != P_DONE) {
            const unsigned char *b = in;
            count_close(len >= 2 ? (b[0] << 8) | b[1] : 1005);
        }
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (c && c->state != C_CLOSED && c->state != C_FAILED) {
            int w = c->state == C_WELCOMED;
            c->state = C_CLOSED;
            __atomic_fetch_add(&BN.closed_n, 1, __ATOMIC_RELAXED);
            if (B.run.phase != P_DONE) {
                BN.closed_early++;
                c->closed_early = 1;
            }
            conn_gone(c, w);
        }
        break;
    default:
        break;
    }
    return 0;
}

const struct lws_protocols bench_protocols[] = {
    {.name = "wb-bench", .callback = callback, .rx_buffer_size = 65536},
    {.name = NULL, .callback = NULL},
};

void bench_conn_start(conn *c)
{
    struct lws_client_connect_info i;
    memset(&i, 0, sizeof i);
    make_path(c);
    i.context = bench_me->ctx;
    i.address = B.cfg.host;
    i.port = B.cfg.port;
    i.path = c->path;
    i.host = B.cfg.hostport;
    i.origin = B.cfg.hostport;
    i.protocol = B.cfg.subprotocol && *B.cfg.subprotocol ? B.cfg.subprotocol : NULL;
    i.local_protocol_name = "wb-bench";
    i.ietf_version_or_minus_one = -1;
    if (B.cfg.tls) {
        i.ssl_connection = LCCSCF_USE_SSL | LCCSCF_ALLOW_SELFSIGNED |
                           LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK | LCCSCF_ALLOW_EXPIRED |
                           LCCSCF_ALLOW_INSECURE;
        i.alpn = "http/1.1";
    }
    i.opaque_user_data = c;
    i.pwsi = &c->wsi;
    c->state = C_CONNECTING;
    c->t_start = (uint64_t)wb_mono_ns();
    __atomic_fetch_add(&BN.started, 1, __ATOMIC_RELAXED);
    if (!lws_client_connect_via_info(&i) && c->state == C_CONNECTING) {
        c->state = C_FAILED;
        __atomic_fetch_add(&BN.failed, 1, __ATOMIC_RELAXED);
        count_fail("lws_client_connect_via_info failed");
    }
}
