/* gw.h: the gateway's shared types and the functions its modules offer each
 * other.
 *
 * Threads:
 *  - the lws service thread (main) owns every gw_conn, gw_board, send queue
 *    and the boards / connections / pending-ack maps; all lws calls happen
 *    there;
 *  - nats.c threads (message delivery pool, publish-ack handler, connection
 *    events) never touch those: they decode, serialise to JSON once, and
 *    push a gw_event onto the locked event queue, then lws_cancel_service();
 *  - the sync pool (gw_sync.c) runs blocking NATS work (flush, last seq,
 *    snapshot request, stream replay) for joins, REST snapshots and gap
 *    fills, and hands results back through the same event queue. */
#ifndef GW_H
#define GW_H

#include <libwebsockets.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "wb_codec.h"
#include "wb_map.h"
#include "wb_ratelimit.h"

/* ---- configuration (gw_main.c owns the table) ---- */
typedef struct gw_config {
    const char *gateway_id;
    const char *bind;
    long long port;
    const char *nats_url;
    const char *static_dir;
    long long max_frame;
    long long rate;
    long long burst;
    long long abuse_refusals; /* refusals within ~5 s that close with 1008 */
    long long sendq_max;      /* queued messages per client before 1013 */
    long long sendq_bytes;    /* queued bytes per client before 1013 */
    long long shutdown_grace_ms;
    long long snapshot_timeout_ms;
    long long sync_threads;
    long long presence_interval_ms;
    long long stream_max_age_s;
    const char *log_level;
} gw_config;

/* ---- reference-counted outgoing frame (lws thread after hand-off) ---- */
/* CTL: never dropped; EV: a durable op (dedup by seq); EPH: dropped first
 * under pressure; PRESENCE: a newer list replaces a queued older one. */
enum { GW_BUF_CTL = 0, GW_BUF_EV = 1, GW_BUF_EPH = 2, GW_BUF_PRESENCE = 3 };
typedef struct gw_buf {
    uint32_t refs;
    uint8_t kind; /* GW_BUF_*: ephemeral frames are dropped first */
    uint64_t seq; /* ev: its seq */
    size_t len;
    unsigned char data[]; /* LWS_PRE bytes, then len bytes of JSON, then NUL */
} gw_buf;

#define GW_BUF_HEAD (offsetof(gw_buf, data) + LWS_PRE)
static inline char *gw_buf_text(gw_buf *b)
{
    return (char *)b->data + LWS_PRE;
}
/* Turns a writer initialised with wb_jw_init(w, GW_BUF_HEAD, ...) into a
 * buffer with one reference. NULL if the writer ran out of memory. */
gw_buf *gw_buf_from_jw(wb_jw *w, int kind, uint64_t seq);
gw_buf *gw_buf_printf(int kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline gw_buf *gw_buf_ref(gw_buf *b)
{
    b->refs++;
    return b;
}
void gw_buf_unref(gw_buf *b);

/* ---- per-client send queue (ring of buffer references) ---- */
typedef struct gw_sendq {
    gw_buf **items;
    size_t cap, head, count, bytes;
} gw_sendq;
int gw_sendq_push(gw_sendq *q, gw_buf *b); /* takes a reference */
gw_buf *gw_sendq_pop(gw_sendq *q);         /* caller owns the reference */
gw_buf *gw_sendq_peek(gw_sendq *q, size_t i);
/* Drops every ephemeral frame; returns how many. */
size_t gw_sendq_drop_ephemeral(gw_sendq *q);
/* Drops every frame of the given kind; returns how many. */
size_t gw_sendq_drop_kind(gw_sendq *q, int kind);
void gw_sendq_free(gw_sendq *q);

/* ---- a connection (lws per-session data; lws thread) ---- */
typedef struct gw_board gw_board;
typedef enum { GW_CONN_HTTP = 0, GW_CONN_WS = 1 } gw_conn_kind;
typedef struct gw_conn {
    gw_conn_kind kind;
    struct lws *wsi;
    uint64_t serial;
    char board_id[WB_ID_MAX + 1];
    gw_board *board;
    struct gw_conn *bnext, *bprev; /* board's list */
    char client_id[16];
    char name[WB_NAME_MAX + 1];
    char color[8];
    bool has_since;
    uint64_t since;
    bool synced; /* welcome sent; frames flow */
    bool closing;
    bool close_sent;
    int close_code;
    uint64_t last_seq; /* highest ev seq queued to this client */
    gw_sendq q;
    size_t presence_queued; /* presence lists waiting in q */
    size_t sync_items,
        sync_bytes; /* welcome + snapshot/replay at the head of q: exempt from the bounds */
    wb_bucket rl;
    int64_t rl_last_err_us;
    unsigned char *rx;
    size_t rxlen, rxcap;
    bool rx_skip;
    int64_t joined_us;
    /* HTTP: a deferred response (REST snapshot) */
    gw_buf *http_body;
    size_t http_off;
    int http_status;
    bool http_wait, http_headers_sent;
} gw_conn;

/* ---- a board with local clients (lws thread) ---- */
typedef struct gw_remote {
    char gateway[WB_ID_MAX + 1];
    char *clients_json; /* "{...},{...}" or "" */
    int64_t expires_us;
} gw_remote;

struct gw_board {
    char id[WB_ID_MAX + 1];
    gw_conn *conns;
    size_t nconns;
    natsSubscription *sub_rp, *sub_live;
    uint64_t last_seq; /* highest seq delivered to this gateway's clients */
    bool known;        /* last_seq is real (a join or an op set it), even if 0 */
    bool filling;      /* a gap fill is running: hold live ops */
    gw_buf **held;
    size_t nheld, capheld;
    gw_remote *remotes;
    size_t nremotes;
    bool presence_dirty; /* local clients need a new presence list */
    bool presence_pub;   /* other gateways need our list */
    int64_t presence_sent_us;
    bool in_dirty;
    struct gw_board *dirty_next;
    /* Joins without since are batched per board: one snapshot serves every
     * client that attached before the sync task started. */
    uint64_t *waiting, *inflight;
    size_t nwaiting, capwaiting, ninflight;
    uint64_t join_gen;
    bool join_inflight;
};

/* ---- events handed to the lws thread ---- */
typedef enum {
    GW_EV_OP = 1,    /* a stored op (JSON ev) from wb.rp.{board} */
    GW_EV_LIVE,      /* draft/cursor JSON from another gateway */
    GW_EV_PRESENCE,  /* another gateway's client list for a board */
    GW_EV_PUBACK,    /* JetStream answered a publish */
    GW_EV_JOIN,      /* a join's welcome data + snapshot or replay */
    GW_EV_API,       /* a REST snapshot body */
    GW_EV_FILL,      /* ops that fill a board's gap */
    GW_EV_NATS,      /* connection state changed */
    GW_EV_REPUBLISH, /* an op id collided with another board's op: publish again */
} gw_event_type;

typedef struct gw_event {
    struct gw_event *next;
    gw_event_type type;
    char board[WB_ID_MAX + 1];
    uint64_t seq, last_seq;
    gw_buf *buf;
    gw_buf **bufs;
    size_t nbufs;
    char gateway[WB_ID_MAX + 1];
    char *presence_json;
    uint32_t ttl_ms;
    bool leaving;
    char op_id[WB_ID_MAX + 1];
    int err;       /* 0 ok, else a wb_errcode */
    uint64_t conn; /* target connection serial */
    bool resumed;
    bool dup;       /* PUBACK: JetStream says it already had this msg id */
    int nats_state; /* 1 connected, 0 disconnected */
} gw_event;

gw_event *gw_event_new(gw_event_type t);
void gw_event_free(gw_event *e);
/* Any thread: appends and wakes the lws thread when the queue was empty. */
void gw_queue_push(gw_event *e);
/* lws thread: takes the whole batch, in order. */
gw_event *gw_queue_take_all(void);

/* ---- blocking work for the sync pool (gw_sync.c) ---- */
typedef enum { GW_TASK_JOIN = 1, GW_TASK_API, GW_TASK_FILL, GW_TASK_DUPCHECK } gw_task_type;
int gw_sync_start(int threads);
void gw_sync_stop(void);
/* lws thread: checks whether seq holds this board's op (see GW_EV_REPUBLISH). */
void gw_sync_submit_dupcheck(const char *board, const char *op_id, uint64_t seq);
/* lws thread: queues a task. since < 0: no since. */
void gw_sync_submit(gw_task_type t, const char *board, uint64_t conn, bool has_since,
                    uint64_t since, uint64_t from, uint64_t to);

/* ---- NATS (gw_nats.c) ---- */
int gw_nats_start(void);
void gw_nats_stop(void);
bool gw_nats_ok(void);
natsConnection *gw_nats_conn(void);
jsCtx *gw_nats_js(void);
int gw_nats_board_subscribe(gw_board *b);
void gw_nats_board_unsubscribe(gw_board *b);
/* Publishes a durable op asynchronously; the answer comes as GW_EV_PUBACK.
 * Returns 0, or a wb_errcode to send the client now. */
int gw_nats_publish_op(const char *board, const char *op_id, const uint8_t *data, size_t len);
/* The same with Nats-Msg-Id "{board}:{op}" (after an op id collided across boards). */
int gw_nats_republish_op(const char *board, const char *op_id, const uint8_t *data, size_t len);
void gw_nats_publish_live(const char *board, const uint8_t *data, size_t len);

/* ---- boards and clients (gw_board.c) ---- */
gw_board *gw_board_get(const char *id, bool create);
void gw_board_attach(gw_board *b, gw_conn *c);
void gw_board_detach(gw_conn *c);
/* Queues a join without since for the board's next batched snapshot. */
void gw_board_join_wait(gw_board *b, gw_conn *c);
/* Queue a frame to one client (takes no reference from the caller). */
void gw_conn_send(gw_conn *c, gw_buf *b);
void gw_conn_send_error(gw_conn *c, wb_errcode code, const char *op, const char *msg);
void gw_conn_close(gw_conn *c, int code, const char *why);
gw_conn *gw_conn_find(uint64_t serial);
void gw_conn_register(gw_conn *c);
void gw_conn_unregister(gw_conn *c);
void gw_board_handle_event(gw_event *e);
void gw_board_tick(int64_t now_us);
void gw_board_fanout_local_live(gw_board *b, gw_conn *from, gw_buf *buf);
/* Remembers who waits for an op's ack; keeps a copy of the payload. */
void gw_board_pending_add(const char *board, const char *op_id, uint64_t conn, const uint8_t *data,
                          size_t len);
void gw_boards_close_all(int code, const char *why);
void gw_boards_resync_all(void);
void gw_boards_flush_presence(void);
size_t gw_board_count(void);

/* ---- websocket + http (gw_ws.c, gw_http.c) ---- */
int gw_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len);
int gw_http_request(struct lws *wsi, gw_conn *c, const char *path);
int gw_http_writeable(struct lws *wsi, gw_conn *c);
void gw_http_api_done(gw_event *e);

/* ---- metrics (gw_metrics.c) ---- */
typedef struct gw_metrics {
    atomic_ullong conns, conns_total, msgs_in, msgs_out, frames_out, bytes_out, drops,
        ops_published, ops_acked, live_published, nats_msgs_in, gaps, closes_1008, closes_1009,
        closes_1013;
    atomic_ullong errors[WB_E__COUNT];
    atomic_ullong pub_lat_buckets[16]; /* publish -> ack latency histogram */
    atomic_ullong pub_lat_count, pub_lat_sum_us;
} gw_metrics;
extern gw_metrics gw_m;
void gw_metrics_observe_pub(int64_t us);
/* Writes the Prometheus text into w. */
void gw_metrics_render(wb_jw *w);

/* ---- process-wide state (gw_main.c) ---- */
typedef struct gw_server {
    gw_config cfg;
    struct lws_context *ctx;
    atomic_bool draining;
    atomic_bool stopping;
    uint64_t next_serial;
} gw_server;
extern gw_server gw;

int64_t gw_now_us(void);
int64_t gw_wall_ms(void);
void gw_random_id(char *out, size_t n); /* n-1 chars of base64url + NUL */

#endif
