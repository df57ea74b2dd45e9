/* gw_ws: the WebSocket transport (loop thread only): the libwebsockets
 * protocol callback, upgrade checks, a client's life cycle (register, attach
 * to its board, join; detach), frame reassembly with the size limit (the
 * frame's meaning is gw_client.c's), the close handshake, and the writes:
 * one lws_write per writeable callback carrying everything queued for the
 * client (coalesced into one JSON array frame, up to 64 KiB). Plain HTTP
 * requests go to gw_http.c. The per-session gw_conn is lws-allocated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"
#include "wb_log.h"

#define COALESCE_MAX (64 * 1024)
/* lws keeps LWS_WRITE_CLOSE (4) out of its public enum ("handled by
 * lws_close_reason"), but lws_write() sends it as a close frame in 4.1 and
 * 4.3 alike; we need it to close gracefully without hanging up at once. */
#define GW_LWS_WRITE_CLOSE ((enum lws_write_protocol)4)

static const char *const g_palette[] = {"#e03131", "#2f9e44", "#1971c2", "#f08c00",
                                        "#9c36b5", "#0c8599", "#e8590c", "#5c940d",
                                        "#3b5bdb", "#c2255c", "#099268", "#6741d9"};

/* Parses "/ws/{board}" (or "/ws/{view}": a viewer, whose board is looked up
 * later) and the since/name arguments into c. Returns 0 or -1. */
static int parse_ws_uri(struct lws *wsi, gw_conn *c)
{
    char uri[256], arg[128];
    int n = lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI);
    if (n <= 4 || strncmp(uri, "/ws/", 4)) return -1;
    const char *b = uri + 4;
    size_t bl = strcspn(b, "?/");
    if (b[bl] == '/' || !wb_valid_id(b, bl)) return -1;
    memcpy(c->board_id, b, bl);
    c->board_id[bl] = 0;
    c->viewer = gw_view_is_view(b, bl);
    if (c->viewer) {
        memcpy(c->view_id, b, bl);
        c->view_id[bl] = 0;
        c->board_id[0] = 0;
    }
    c->has_since = false;
    const char *v = lws_get_urlarg_by_name(wsi, "since=", arg, sizeof arg);
    if (v) {
        char *end;
        unsigned long long s = strtoull(v, &end, 10);
        if (end == v || *end || *v == '-') return -1;
        c->has_since = true;
        c->since = s;
    }
    c->name[0] = 0;
    const char *nm = lws_get_urlarg_by_name(wsi, "name=", arg, sizeof arg);
    if (nm) wb_clean_name(nm, strlen(nm), c->name);
    return 0;
}

/* ---- per-IP connection cap (loop thread; owns g_ips: address -> count) ---- */

static wb_map g_ips;

/* Is peer one of the comma-separated trusted proxies? */
static bool trusted_peer(const char *peer)
{
    const char *p = gw.cfg.trusted_proxies;
    size_t n = strlen(peer);
    while (p && *p) {
        size_t k = strcspn(p, ",");
        if (k == n && !strncmp(p, peer, n)) return true;
        p += k;
        if (*p == ',') p++;
    }
    return false;
}

/* The client's address: the peer, or the last X-Forwarded-For entry when
 * the peer is a trusted proxy (Traefik appends the address it saw). */
static void client_ip(struct lws *wsi, char out[48])
{
    char raw[64] = "", xff[256];
    lws_get_peer_simple(wsi, raw, sizeof raw);
    /* lws reports IPv4 peers of a dual-stack socket as ::ffff:a.b.c.d */
    const char *peer = strncmp(raw, "::ffff:", 7) ? raw : raw + 7;
    snprintf(out, 48, "%.47s", peer);
    if (!trusted_peer(peer) || lws_hdr_copy(wsi, xff, sizeof xff, WSI_TOKEN_X_FORWARDED_FOR) <= 0)
        return;
    const char *last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    while (*last == ' ')
        last++;
    size_t k = strcspn(last, " ");
    if (k && k < 48) snprintf(out, 48, "%.*s", (int)k, last);
}

static intptr_t ip_count(const char *ip)
{
    return (intptr_t)wb_map_get(&g_ips, ip, strlen(ip));
}

static void ip_add(const char *ip, intptr_t d)
{
    if (!*ip) return;
    intptr_t n = ip_count(ip) + d;
    if (n > 0)
        wb_map_put(&g_ips, ip, strlen(ip), (void *)n);
    else
        wb_map_del(&g_ips, ip, strlen(ip));
}

/* Attaches the client to its board and starts its join. */
static void start_join(gw_conn *c)
{
    gw_board *b = gw_board_get(c->board_id, true);
    if (!b) {
        c->synced = true;
        gw_conn_send_error(c, WB_E_UNAVAILABLE, NULL, "cannot subscribe to the board; retry");
        gw_conn_close(c, 1013, "subscribe failed");
        return;
    }
    gw_board_attach(b, c);
    if (c->has_since)
        gw_sync_join(c->board_id, c->serial, true, c->since, 0);
    else
        gw_board_join_wait(b, c);
}

void gw_ws_on_resolved(const gw_ev_resolved *e)
{
    gw_conn *c = gw_conn_find(e->conn);
    if (!c || c->kind != GW_CONN_WS || c->closing || c->board) return;
    c->synced = true; /* let the error and the close frame out */
    if (atomic_load(&gw.draining)) {
        gw_conn_close(c, 1001, "gateway shutting down");
    } else if (e->not_found) {
        gw_conn_send_error(c, WB_E_FORBIDDEN, NULL, "unknown view link");
        gw_conn_close(c, 1008, "unknown view id");
    } else if (e->err) {
        gw_conn_send_error(c, WB_E_UNAVAILABLE, NULL, "cannot look the view link up; retry");
        gw_conn_close(c, 1013, "view lookup failed");
    } else {
        c->synced = false;
        snprintf(c->board_id, sizeof c->board_id, "%s", e->board);
        start_join(c);
    }
}

static void on_established(struct lws *wsi, gw_conn *c)
{
    c->kind = GW_CONN_WS;
    c->wsi = wsi;
    c->serial = ++gw.next_serial;
    gw_random_id(c->client_id, 11);
    unsigned h = 0;
    for (const char *p = c->client_id; *p; p++)
        h = h * 31 + (unsigned char)*p;
    snprintf(c->color, sizeof c->color, "%s",
             g_palette[h % (sizeof g_palette / sizeof *g_palette)]);
    if (!c->name[0]) snprintf(c->name, sizeof c->name, "guest-%.4s", c->client_id);
    c->joined_us = c->heard_us = wb_mono_us();
    client_ip(wsi, c->ip);
    ip_add(c->ip, 1);
    wb_frame_cfg fc = {
        .rate = (double)gw.cfg.rate,
        .burst = (double)gw.cfg.burst,
        .byte_rate = (double)gw.cfg.byte_rate,
        .byte_burst = (double)gw.cfg.byte_burst,
        .abuse_refusals = (uint32_t)gw.cfg.abuse_refusals,
        .max_points = (size_t)gw.cfg.max_points,
        .max_ids = (size_t)gw.cfg.max_ids,
    };
    wb_frame_init(&c->fin, &fc, c->joined_us);
    gw_conn_register(c);
    atomic_fetch_add(&gw_m.conns, 1);
    atomic_fetch_add(&gw_m.conns_total, 1);
    if (c->viewer && !gw_view_cached(c->view_id, c->board_id)) {
        gw_sync_resolve(c->view_id, c->serial); /* then gw_ws_on_resolved() */
        return;
    }
    start_join(c);
}

static void on_closed(gw_conn *c)
{
    if (c->kind != GW_CONN_WS || !c->serial) return;
    gw_conn_forget(c);
    gw_board_detach(c);
    gw_conn_unregister(c);
    ip_add(c->ip, -1);
    gw_sendq_free(&c->q);
    free(c->rx);
    c->rx = NULL;
    c->serial = 0;
    atomic_fetch_sub(&gw_m.conns, 1);
}

static int on_receive(struct lws *wsi, gw_conn *c, const char *in, size_t len)
{
    size_t limit = (size_t)gw.cfg.max_frame;
    if (lws_is_first_fragment(wsi)) {
        c->rxlen = 0;
        c->rx_skip = false;
    }
    size_t remain = lws_remaining_packet_payload(wsi);
    if (c->rxlen + len + remain > limit) {
        atomic_fetch_add(&gw_m.closes_1009, 1);
        atomic_fetch_add(&gw_m.errors[WB_E_TOO_LARGE], 1);
        gw_conn_close(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "frame too large");
        return 0;
    }
    if (c->rxlen + len > c->rxcap) {
        size_t nc = c->rxcap ? c->rxcap : 4096;
        while (nc < c->rxlen + len)
            nc *= 2;
        unsigned char *nb = realloc(c->rx, nc + 1);
        if (!nb) return -1;
        c->rx = nb;
        c->rxcap = nc;
    }
    memcpy(c->rx + c->rxlen, in, len);
    c->rxlen += len;
    if (!lws_is_final_fragment(wsi) || remain) return 0;
    gw_client_frame(c, (const char *)c->rx, c->rxlen);
    c->rxlen = 0;
    if (c->rxcap > 8192) {
        free(c->rx);
        c->rx = NULL;
        c->rxcap = 0;
    }
    return 0;
}

/* Writes what is queued for c as one frame (one JSON array when several
 * messages wait, up to 64 KiB). Returns 0, or -1 if the connection broke. */
static int write_queued(struct lws *wsi, gw_conn *c)
{
    static unsigned char *scratch;
    static size_t scratch_cap;
    gw_buf *b0 = gw_sendq_peek(&c->q, 0);
    size_t n = 0;
    int wrote;
    if (c->q.count == 1 || b0->len >= COALESCE_MAX / 2) {
        b0 = gw_sendq_pop(&c->q);
        wrote = lws_write(wsi, b0->data + LWS_PRE, b0->len, LWS_WRITE_TEXT);
        n = 1;
        atomic_fetch_add(&gw_m.bytes_out, b0->len);
        if (wrote < (int)b0->len) {
            gw_buf_unref(b0);
            return -1;
        }
        gw_buf_unref(b0);
    } else {
        /* Coalesce waiting messages into one array frame. */
        size_t total = 1;
        for (size_t i = 0; i < c->q.count; i++) {
            gw_buf *b = gw_sendq_peek(&c->q, i);
            if (i && total + b->len + 2 > COALESCE_MAX) break;
            total += b->len + 1;
            n++;
        }
        if (scratch_cap < LWS_PRE + total + 1) {
            free(scratch);
            scratch_cap = LWS_PRE + total + 1 + COALESCE_MAX;
            scratch = malloc(scratch_cap);
            if (!scratch) {
                scratch_cap = 0;
                return -1;
            }
        }
        unsigned char *p = scratch + LWS_PRE;
        *p++ = '[';
        for (size_t i = 0; i < n; i++) {
            gw_buf *b = gw_sendq_pop(&c->q);
            if (i) *p++ = ',';
            memcpy(p, b->data + LWS_PRE, b->len);
            p += b->len;
            gw_buf_unref(b);
        }
        *p++ = ']';
        size_t flen = (size_t)(p - (scratch + LWS_PRE));
        wrote = lws_write(wsi, scratch + LWS_PRE, flen, LWS_WRITE_TEXT);
        atomic_fetch_add(&gw_m.bytes_out, flen);
        if (wrote < (int)flen) return -1;
    }
    atomic_fetch_add(&gw_m.msgs_out, n);
    atomic_fetch_add(&gw_m.frames_out, 1);
    c->progress_us = c->wrote_us = wb_mono_us();
    /* More than one frame's worth, or lws kept part of it: wait for POLLOUT. */
    if (c->q.count || lws_partial_buffered(wsi)) lws_callback_on_writable(wsi);
    gw_board_replay_more(c); /* the client reads: the next chunk of its replay */
    return 0;
}

static int on_writeable(struct lws *wsi, gw_conn *c)
{
    if (c->hangup) return -1; /* silent too long (gw_ws_keepalive): lws closes it */
    if (c->ping_due && !c->closing) {
        unsigned char ping[LWS_PRE + 2] = {[LWS_PRE] = 'w', [LWS_PRE + 1] = 'b'};
        c->ping_due = false;
        if (lws_write(wsi, ping + LWS_PRE, 2, LWS_WRITE_PING) < 2) return -1;
        if (c->synced && c->q.count) lws_callback_on_writable(wsi);
        return 0;
    }
    if (c->closing) {
        /* Send the close frame ourselves and wait for the client's close
         * (lws then ends the connection): hanging up while the client is
         * still sending would reset the TCP connection and lose the code. */
        if (c->close_sent) return 0;
        gw_buf *err = gw_sendq_pop(&c->q); /* the errors queued before the close */
        if (err) {
            int w = lws_write(wsi, err->data + LWS_PRE, err->len, LWS_WRITE_TEXT);
            bool ok = w >= (int)err->len;
            gw_buf_unref(err);
            if (!ok) return -1;
            lws_callback_on_writable(wsi);
            return 0;
        }
        unsigned char frame[LWS_PRE + 2];
        frame[LWS_PRE] = (unsigned char)(c->close_code >> 8);
        frame[LWS_PRE + 1] = (unsigned char)(c->close_code & 0xff);
        c->close_sent = true;
        if (lws_write(wsi, frame + LWS_PRE, 2, GW_LWS_WRITE_CLOSE) < 0) return -1;
        lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_ACK, 3);
        return 0;
    }
    if (!c->synced || !c->q.count) return 0;
    /* A WRITEABLE callback means the socket takes data: no poll() first. */
    return write_queued(wsi, c);
}

int64_t gw_ws_flush(int64_t now, int64_t pace_us, int64_t cursor_pace_us)
{
    gw_conn *c = gw_conns_take_dirty(now), *next;
    for (; c; c = next) {
        next = c->dnext;
        c->wlist = GW_WL_NONE;
        c->dnext = c->dprev = NULL;
        if (c->closing || !c->synced || !c->q.count) continue;
        /* Written to a moment ago: what came since waits a little and goes
         * out with what follows in one write (a send costs the same for one
         * message as for fifty). A client that gets a frame now and then is
         * written at once. Cursors alone wait longer (the cursor window):
         * meanwhile a peer's newer cursor replaces its queued one
         * (gw_sendq_offer), so a client gets at most one position per peer
         * per window, and anything else queued ends the wait. When the
         * window is over, the next cursor to come is written the moment it
         * comes, with what is queued, rather than the queued positions at
         * the window's end: the client gets a position that is fresh, not
         * one up to a sender's cursor interval old. Only if none comes within
         * another window does the queued one go (a sender that stopped
         * moving: its last position always arrives). An answer to the client
         * itself (an ack, an error, a pong) does not wait: the client is
         * waiting for it, and it comes at most once per op. */
        int64_t pace = pace_us;
        bool cursor_window = c->q.count == c->q.cursors_queued && cursor_pace_us > pace;
        if (cursor_window) pace = cursor_pace_us;
        if (c->q.ctl_queued) pace = 0;
        if (pace && now - c->wrote_us < pace) {
            gw_conn_defer(c, c->wrote_us + (cursor_window ? 2 * pace : pace));
            continue;
        }
        /* lws still holds part of an earlier write: the rest waits for
         * POLLOUT (the WRITEABLE callback writes then). */
        if (lws_partial_buffered(c->wsi)) {
            lws_callback_on_writable(c->wsi);
            continue;
        }
        if (write_queued(c->wsi, c) < 0)
            lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
    return gw_conns_next_due();
}

/* ---- keepalive (loop thread): pings and the hang-up of silent clients ----
 * Our own, not lws's validity timers: those are one per connection in lws's
 * single sorted timer list, which lws inserts into by walking it (see
 * gw_loop.c). One pass over the boards' clients per tick instead. */

static void keepalive_board(gw_board *b, void *arg)
{
    int64_t now = *(int64_t *)arg, ping_us = gw.cfg.ping_interval_s * 1000000LL,
            hup_us = ping_us + gw.cfg.idle_timeout_s * 1000000LL;
    for (gw_conn *c = b->conns; c; c = c->bnext) {
        if (c->closing || c->hangup) continue;
        int64_t silent = now - c->heard_us;
        if (silent >= hup_us) {
            wb_info("hanging up client=%s board=%s: silent for %lld s", c->client_id, c->board_id,
                    (long long)(silent / 1000000));
            c->hangup = true;
            lws_callback_on_writable(c->wsi);
        } else if (silent >= ping_us && !c->pinged) {
            c->pinged = c->ping_due = true;
            lws_callback_on_writable(c->wsi);
        }
    }
}

void gw_ws_keepalive(int64_t now_us)
{
    gw_boards_foreach(keepalive_board, &now_us);
}

/* Answers a refused upgrade with a plain HTTP/1.1 status (lws would say
 * HTTP/1.0 here, which WebSocket clients reject as malformed). */
static int refuse_upgrade(struct lws *wsi, const char *status, const char *body)
{
    char buf[LWS_PRE + 512];
    int n = snprintf(buf + LWS_PRE, sizeof buf - LWS_PRE,
                     "HTTP/1.1 %s\r\ncontent-type: text/plain\r\ncontent-length: %zu\r\n"
                     "connection: close\r\n\r\n%s",
                     status, strlen(body), body);
    lws_write(wsi, (unsigned char *)buf + LWS_PRE, (size_t)n, LWS_WRITE_HTTP_HEADERS);
    return -1;
}

int gw_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    gw_conn *c = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return gw_http_request(wsi, c, (const char *)in);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return gw_http_writeable(wsi, c);
    case LWS_CALLBACK_CLOSED_HTTP:
        if (c && c->kind == GW_CONN_HTTP && c->serial) {
            gw_conn_unregister(c);
            gw_buf_unref(c->http_body);
            c->http_body = NULL;
            c->serial = 0;
        }
        return 0;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: {
        gw_conn tmp;
        memset(&tmp, 0, sizeof tmp);
        if (strcmp((const char *)in, "websocket") || parse_ws_uri(wsi, &tmp) < 0) {
            return refuse_upgrade(wsi, "400 Bad Request", "bad board id or WebSocket path\n");
        }
        if (atomic_load(&gw.draining)) {
            return refuse_upgrade(wsi, "503 Service Unavailable", "gateway shutting down\n");
        }
        if (!gw_nats_ok()) {
            return refuse_upgrade(wsi, "503 Service Unavailable", "NATS unavailable; retry\n");
        }
        char ip[48];
        client_ip(wsi, ip);
        if (ip_count(ip) >= gw.cfg.max_conns_per_ip) {
            atomic_fetch_add(&gw_m.ip_refused, 1);
            return refuse_upgrade(wsi, "429 Too Many Requests",
                                  "too many connections from this address\n");
        }
        return 0;
    }
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        if (!c) return 0;
        memset(c, 0, sizeof *c);
        return parse_ws_uri(wsi, c) < 0 ? 1 : 0;
    case LWS_CALLBACK_ESTABLISHED:
        on_established(wsi, c);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        c->heard_us = wb_mono_us();
        c->pinged = false;
        if (c->closing) return 0; /* closing: discard until the client's close */
        return on_receive(wsi, c, (const char *)in, len);
    case LWS_CALLBACK_RECEIVE_PONG:
        c->heard_us = wb_mono_us();
        c->pinged = false;
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return on_writeable(wsi, c);
    case LWS_CALLBACK_CLOSED:
        on_closed(c);
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}
