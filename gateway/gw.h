/* gw.h: the gateway's shared types and the functions its modules offer each
 * other, one section per module.
 *
 * Threads:
 *  - the loop thread (main; gw_loop.c) owns every gw_conn, gw_board, send
 *    queue and the boards / connections / pending-ack maps; all lws calls
 *    happen there;
 *  - nats.c threads (message delivery, publish-ack handler, connection
 *    events) never touch those: they decode, serialise to JSON once, and
 *    push a typed gw_event onto the mailbox (gw_queue.c), which wakes the
 *    loop only when it goes from empty to non-empty;
 *  - the sync pool (gw_sync.c) runs blocking NATS work (flush, last seq,
 *    snapshot request, stream replay) for joins, REST snapshots and gap
 *    fills, and hands results back through the same mailbox.
 *
 * Module calls go one way (no circle; checked by listing each file's calls):
 *   main -> loop, dispatch (hands its hooks to the loop), nats, sync, board, presence, conn;
 *     it also wires commit's and opid's answers to ack (callbacks, not calls back)
 *   loop -> queue, watchdog
 *   dispatch -> ws, http, board, ack, opid, commit, presence
 *   ws -> client, http, board, conn, sync, nats;  http -> board, conn, sync, nats, metrics
 *   client -> board, ack, opid, commit, conn, nats;  ack -> commit, sync, conn, metrics
 *   opid -> nats, queue
 *   board -> presence, sync, nats, conn;  presence -> conn, nats;  commit -> nats
 *   sync -> snap, nats, queue;  nats -> queue;  conn -> sendq -> buf
 *   ws, client, board, presence, sync, http, nats, main -> view (view-only links)
 *   leaves: queue, buf, snap, util (ids), metrics, view. */
#ifndef GW_H
#define GW_H

#include <libwebsockets.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "gw_sendq.h"
#include "wb_clock.h"
#include "gw_view.h"
#include "wb_codec.h"
#include "wb_frame.h"
#include "wb_map.h"
#include "wb_prom.h"
#include "wb_nats.h"
#include "wb_ratelimit.h"

/* ---- configuration (gw_main.c owns the table) ---- */
typedef struct gw_config {
    const char *gateway_id;
    const char *bind;
    long long port;
    const char *nats_url;
    const char *nats_user, *nats_password_file;
    const char *static_dir;
    long long max_frame;
    long long rate;
    long long burst;
    long long abuse_refusals;     /* refusals within ~5 s that close with 1008 */
    long long byte_rate;          /* client frame bytes per second */
    long long byte_burst;         /* client frame bytes burst (>= max_frame) */
    long long max_points;         /* numbers in one stroke */
    long long max_ids;            /* ids in one erase/restore */
    long long sendq_max;          /* queued messages per client before 1013 */
    long long sendq_bytes;        /* queued bytes per client before 1013 */
    long long replay_chunk_bytes; /* a resume's replay is read this much at a time */
    long long idle_timeout_s;     /* a client that does not read for this long is closed */
    long long ping_interval_s;    /* server pings on idle connections */
    long long max_conns_per_ip;   /* WebSocket connections per client address */
    long long write_pace_us;      /* a client written to less than this ago waits (batching) */
    long long cursor_window_ms;   /* the same for a client that has only cursors queued */
    const char *trusted_proxies;  /* peers whose X-Forwarded-For names the client */
    long long api_max_inflight;   /* REST snapshots being built at once */
    long long shutdown_grace_ms;
    long long snapshot_timeout_ms;
    long long sync_threads;
    long long presence_interval_ms;
    wb_stream_limits stream;        /* WB_OPS limits (the worker has the same settings) */
    long long commit_batch_min;     /* fewer pending ops: plain publishes */
    long long commit_batch_max;     /* ops per atomic batch (nats-server allows 1000) */
    long long commit_pending_bytes; /* ops waiting for a round, bytes */
    long long nats_evloop;          /* 1: the NATS socket on the gateway's loop */
    long long nats_send_asap;       /* 1: a publish is written at once (no flusher wait) */
    const char *view_secret_file;   /* "": the view-link secret comes from the WB_VIEWS bucket */
    const char *log_level;
} gw_config;

/* ---- a connection (lws per-session data; loop thread) ---- */
typedef struct gw_board gw_board;
typedef enum { GW_CONN_HTTP = 0, GW_CONN_WS = 1 } gw_conn_kind;
typedef struct gw_conn {
    gw_conn_kind kind;
    struct lws *wsi;
    uint64_t serial;
    char board_id[WB_ID_MAX + 1];  /* the real board ("" while a viewer's view id resolves) */
    bool viewer;                   /* joined by a view id: durable ops and drafts are forbidden */
    char view_id[GW_VIEW_LEN + 1]; /* a viewer's view id (what it is told the board is) */
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
    uint64_t last_seq;             /* highest ev seq queued to this client */
    gw_sendq q;                    /* all accounting in gw_sendq.c */
    uint8_t wlist;                 /* GW_WL_*: the write list it is on (gw_conn.c) */
    uint16_t wslot;                /* GW_WL_PACED: its slot on the pace wheel */
    struct gw_conn *dnext, *dprev; /* that list */
    wb_frame_in fin;               /* rate limits and caps of the frame path (wb_frame.c) */
    bool replaying;                /* a paced replay is still catching up: live evs wait for it */
    bool replay_inflight;          /* its next chunk is being read */
    int64_t progress_us;           /* last write, or when the queue became non-empty */
    int64_t wrote_us;              /* when its last frame was written (write pacing) */
    int64_t heard_us;              /* its last frame or pong (keepalive, gw_ws.c) */
    bool pinged;                   /* a ping went out since heard_us */
    bool ping_due;                 /* a ping waits for the next WRITEABLE callback */
    bool hangup;                   /* silent too long: the next WRITEABLE callback drops it */
    char ip[48];                   /* the client's address (per-IP cap) */
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

/* ---- a board with local clients (loop thread) ---- */
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
    uint64_t last_seq;        /* highest seq delivered to this gateway's clients */
    bool known;               /* last_seq is real (a join or an op set it), even if 0 */
    bool filling;             /* a gap fill is running or due again: hold live ops */
    int64_t fill_retry_at_ms; /* a failed fill runs again at this time (wb_mono_ms; 0: none) */
    int64_t fill_backoff_ms;  /* the wait before that retry; doubles per failure, 0 after success */
    gw_buf **held;
    size_t nheld, capheld;
    /* presence (gw_presence.c) */
    gw_remote *remotes;
    size_t nremotes;
    bool presence_dirty;      /* local clients need a new presence list */
    bool presence_pub;        /* other gateways need our list */
    int64_t presence_sent_us; /* local clients last got a list (wb_mono_us) */
    int64_t presence_pub_us;  /* our list was last published (wb_mono_us) */
    bool in_dirty;
    struct gw_board *dirty_next;
    /* Joins without since are batched per board: one snapshot serves every
     * client that attached before the sync task started. */
    uint64_t *waiting, *inflight;
    size_t nwaiting, capwaiting, ninflight;
    uint64_t join_gen;
    bool join_inflight;
};

/* ---- events handed to the loop thread (gw_queue.c), one struct per kind ---- */
typedef enum {
    GW_EV_OP = 1,    /* a stored op (JSON ev) from wb.rp.{board} */
    GW_EV_LIVE,      /* draft/cursor JSON from another gateway */
    GW_EV_PRESENCE,  /* another gateway's client list for a board */
    GW_EV_PUBACK,    /* JetStream answered a publish (or the dup check did) */
    GW_EV_REPUBLISH, /* an op id collided with another board's op: publish again */
    GW_EV_JOIN,      /* a join's welcome data + snapshot or replay */
    GW_EV_API,       /* a REST snapshot body */
    GW_EV_FILL,      /* ops that fill a board's gap */
    GW_EV_NATS,      /* connection state changed */
    GW_EV_BATCH,     /* JetStream answered an atomic batch */
    GW_EV_RESOLVED,  /* a viewer's view id was looked up */
    GW_EV_OPID,      /* an op-id lookup found a claim (gw_opid.c) */
    GW_EV_OPID_DONE, /* an op-id lookup ended (gw_opid.c) */
    GW_EV_REPLAY,    /* the next chunk of a client's paced replay */
} gw_event_type;

typedef struct gw_ev_op {
    char board[WB_ID_MAX + 1];
    uint64_t seq, prev; /* prev: the board's previous seq (Nats-Last-Sequence) */
    gw_buf *buf;        /* NULL: undecodable, only advances the seq */
} gw_ev_op;

typedef struct gw_ev_live {
    char board[WB_ID_MAX + 1];
    gw_buf *buf;
} gw_ev_live;

typedef struct gw_ev_presence {
    char board[WB_ID_MAX + 1];
    char gateway[WB_ID_MAX + 1];
    char *clients_json; /* owned */
    uint32_t ttl_ms;
    bool leaving;
} gw_ev_presence;

typedef struct gw_ev_puback {
    char board[WB_ID_MAX + 1];
    char op_id[WB_ID_MAX + 1];
    uint64_t seq;
    bool dup;   /* JetStream says it already had this msg id */
    bool check; /* from the duplicate check (gw_sync), not from a publish */
    int err;    /* 0 ok, else a wb_errcode */
} gw_ev_puback;

#define GW_BATCH_ID_MAX 40
#define GW_JS_ERR_ATOMIC_DISABLED 10174 /* "atomic publish is disabled" */
#define GW_JS_ERR_ATOMIC_DUPLICATE                                                                 \
    10201 /* "atomic publish batch contains duplicate message id"                                  \
           */
typedef struct gw_ev_batch {
    char batch_id[GW_BATCH_ID_MAX + 1];
    uint64_t last_seq; /* the batch's last seq; its ops have last_seq-count+1 .. last_seq */
    uint32_t count;
    bool err;
    int err_code; /* JetStream error_code, 0 if none */
    char err_text[96];
} gw_ev_batch;

typedef struct gw_ev_republish {
    char board[WB_ID_MAX + 1];
    char op_id[WB_ID_MAX + 1];
} gw_ev_republish;

typedef struct gw_ev_join {
    char board[WB_ID_MAX + 1];
    uint64_t conn; /* a join with since: that connection; 0: the board's batch */
    uint64_t gen;  /* the board's join generation (batched joins) */
    uint64_t seq;  /* E: the welcome seq */
    bool resumed;
    bool more;          /* the replay stopped at its chunk budget: paced, more follows */
    bool want_snapshot; /* since too old for the stream: join the board's snapshot */
    int err;
    gw_buf *snapshot;
    gw_buf **evs;
    size_t nevs;
} gw_ev_join;

typedef struct gw_ev_replay {
    char board[WB_ID_MAX + 1];
    uint64_t conn;
    uint64_t seq; /* E: the board's last seq when the chunk was read */
    bool more;    /* the chunk ended before E */
    int err;
    gw_buf **evs;
    size_t nevs;
} gw_ev_replay;

typedef struct gw_ev_api {
    uint64_t conn;
    int err;
    bool not_found; /* the id is a view id nobody handed out */
    gw_buf *body;
} gw_ev_api;

typedef struct gw_ev_resolved {
    uint64_t conn;
    char board[WB_ID_MAX + 1]; /* the view's board */
    int err;                   /* 0 ok, else a wb_errcode (lookup failed: retry) */
    bool not_found;            /* no such view id */
} gw_ev_resolved;

typedef struct gw_ev_fill {
    char board[WB_ID_MAX + 1];
    uint64_t to; /* the fill reached this seq */
    int err;
    gw_buf **evs;
    size_t nevs;
} gw_ev_fill;

typedef struct gw_ev_nats {
    bool up;
} gw_ev_nats;

/* One claimed op id of a lookup: stored before with seq. */
typedef struct gw_ev_opid {
    uint64_t lookup;
    char board[WB_ID_MAX + 1];
    char op_id[WB_ID_MAX + 1];
    uint64_t seq;
} gw_ev_opid;

/* A lookup ended: its ops without a claim were never stored (err 0). */
typedef struct gw_ev_opid_done {
    uint64_t lookup;
    int err; /* 0 ok, else a wb_errcode for every op of the lookup not claimed */
} gw_ev_opid_done;

typedef struct gw_event {
    struct gw_event *next;
    gw_event_type type;
    union {
        gw_ev_op op;
        gw_ev_live live;
        gw_ev_presence presence;
        gw_ev_puback puback;
        gw_ev_republish republish;
        gw_ev_join join;
        gw_ev_api api;
        gw_ev_fill fill;
        gw_ev_nats nats;
        gw_ev_batch batch;
        gw_ev_resolved resolved;
        gw_ev_opid opid;
        gw_ev_opid_done opid_done;
        gw_ev_replay replay;
    } u;
} gw_event;

/* Any thread: a zeroed event of that type (only its own body allocated). */
gw_event *gw_event_new(gw_event_type t);
void gw_event_free(gw_event *e);
/* Any thread: appends; calls the wake hook when the queue was empty. */
void gw_queue_push(gw_event *e);
/* Loop thread: takes the whole batch, in order. */
gw_event *gw_queue_take_all(void);
/* Loop thread, before any push: how producers wake the loop. */
void gw_queue_set_wake(void (*wake)(void));

/* ---- the loop (gw_loop.c): owns the lws context, drains the queue ---- */
/* What the loop runs (loop thread). The loop calls the modules above it
 * only through these, so it depends on none of them (gw_dispatch.c). */
typedef struct gw_loop_hooks {
    void (*event)(gw_event *e);   /* one mailbox event (the loop frees it after) */
    void (*tick)(int64_t now_us); /* every presence interval */
    /* The end of every loop turn, before it waits for I/O again: returns
     * when it must run again even if no I/O comes (us; 0: no need). */
    int64_t (*turn_end)(int64_t now_us);
} gw_loop_hooks;
int gw_loop_create(const struct lws_protocols *protocols, const gw_loop_hooks *hooks);
int gw_loop_run(void); /* until gw_loop_stop(); 0 or -1 */
void gw_loop_stop(void);
void gw_loop_destroy(void);
/* Loop thread: runs fn after delay_ms (one pending call per timer object). */
typedef struct gw_timer gw_timer;
gw_timer *gw_timer_create(void (*fn)(void));
void gw_timer_start(gw_timer *t, int64_t delay_ms);
/* Any thread: wakes the loop. */
void gw_loop_wake(void);
uv_loop_t *gw_loop_uv(void);
/* Loop thread: fn(signum) runs on the loop for SIGTERM and SIGINT. */
int gw_loop_on_signals(void (*fn)(int));
/* Any thread: makes gw_loop_run() return. */
void gw_loop_stop_async(void);

/* ---- the dispatcher (gw_dispatch.c): the loop's hooks ---- */
extern const gw_loop_hooks gw_dispatch_hooks;

/* ---- blocking work for the sync pool (gw_sync.c) ---- */
int gw_sync_start(int threads);
void gw_sync_stop(void);
/* Loop thread: queue one task each. */
void gw_sync_join(const char *board, uint64_t conn, bool has_since, uint64_t since, uint64_t gen);
/* id: a board or a view id; has_at: the board as of at (history). */
void gw_sync_api(const char *id, uint64_t conn, bool has_at, uint64_t at);
/* A viewer's view id -> its board (answer: GW_EV_RESOLVED). */
void gw_sync_resolve(const char *view, uint64_t conn);
void gw_sync_fill(const char *board, uint64_t from, uint64_t to);
/* The next chunk of a paced replay for conn: the board's ops after from. */
void gw_sync_replay(const char *board, uint64_t conn, uint64_t from);
/* Checks whether seq holds this board's op (see GW_EV_REPUBLISH). */
void gw_sync_dupcheck(const char *board, const char *op_id, uint64_t seq);

/* ---- group commit of durable ops (gw_commit.c; loop thread) ---- */
/* An op waiting to be published (owned by gw_commit.c). */
typedef struct gw_pub {
    char board[WB_ID_MAX + 1];
    char op_id[WB_ID_MAX + 1];
    bool republish; /* Nats-Msg-Id "{board}:{op}" (an op id collided across boards) */
    bool answered;  /* in a plain round: its PUBACK came */
    size_t len;
    uint8_t data[];
} gw_pub;
/* on_result gets every op's answer (seq, or err). */
void gw_commit_start(void (*on_result)(const gw_ev_puback *e));
/* Queues a durable op for the next round. Returns 0, or a wb_errcode to send the client now. */
int gw_commit_op(const char *board, const char *op_id, bool republish, const uint8_t *data,
                 size_t len);
/* End of a loop turn: sends a round if none is in flight. */
void gw_commit_flush(void);
void gw_commit_on_puback(const gw_ev_puback *e);
void gw_commit_on_batch(const gw_ev_batch *e);
void gw_commit_on_nats(bool up);
void gw_commit_tick(int64_t now_us);

/* ---- NATS (gw_nats.c) ---- */
/* loop: the gateway's uv loop to put the NATS socket on (NULL: nats.c's own
 * threads). Returns 0, -1 on error, or 1: not connected yet (loop mode:
 * call gw_nats_retry() later, on the loop thread, until it returns 0). */
int gw_nats_start(uv_loop_t *loop);
int gw_nats_retry(void);
/* Any thread; idempotent. In loop mode the loop must still run. */
void gw_nats_stop(void);
bool gw_nats_ok(void);
natsConnection *gw_nats_conn(void);
jsCtx *gw_nats_js(void);
int gw_nats_board_subscribe(gw_board *b);
void gw_nats_board_unsubscribe(gw_board *b);
/* Publishes a durable op asynchronously; the answer comes as GW_EV_PUBACK.
 * Returns 0, or a wb_errcode. */
int gw_nats_publish_op(const gw_pub *p);
/* Publishes ops as one JetStream atomic batch; the answer comes as
 * GW_EV_BATCH. Returns 0 or -1 (nothing committed). */
int gw_nats_publish_batch(const char *batch_id, gw_pub *const *ops, size_t n);
/* Asks the ensure thread to ensure the stream again. */
void gw_nats_want_ensure(void);
void gw_nats_publish_live(const char *board, const uint8_t *data, size_t len);

/* ---- connections: registry and send policy (gw_conn.c; loop thread) ---- */
gw_conn *gw_conn_find(uint64_t serial);
void gw_conn_register(gw_conn *c);
void gw_conn_unregister(gw_conn *c);
/* Queue a frame to one client (takes no reference from the caller). */
void gw_conn_send(gw_conn *c, gw_buf *b);
void gw_conn_send_error(gw_conn *c, wb_errcode code, const char *op, const char *msg);
void gw_conn_close(gw_conn *c, int code, const char *why);
/* A join finished: welcome, then the snapshot or replay (exempt from the
 * bounds), then whatever was queued meanwhile. seq: the welcome's seq. */
void gw_conn_start(gw_conn *c, gw_buf *welcome, gw_buf *snapshot, gw_buf **evs, size_t nevs,
                   uint64_t seq, bool resumed, bool more);
/* The next chunk of a paced replay: queued exempt like the first one. */
void gw_conn_replay_chunk(gw_conn *c, gw_buf **evs, size_t nevs);
/* Closes every WebSocket client with code. */
void gw_conns_close_all(int code, const char *why);
/* The write lists: a connection with frames to write is on the dirty list
 * (written at the end of this turn) or, if its write must wait for its
 * pace, on the pace wheel until it is due. */
enum { GW_WL_NONE = 0, GW_WL_DIRTY, GW_WL_PACED };
/* The connections that got frames this turn and those whose wait ended by
 * now_us, linked by dnext. The caller walks the list and, for each, reads
 * dnext first, then sets wlist = GW_WL_NONE and clears the links. */
gw_conn *gw_conns_take_dirty(int64_t now_us);
/* The connection goes away: off whichever write list it is on. */
void gw_conn_forget(gw_conn *c);
/* Its write waits until due_us (new frames meanwhile put it back on the
 * dirty list, so the wait is decided again). c is on no write list. */
void gw_conn_defer(gw_conn *c, int64_t due_us);
/* When the first waiting write is due (us), or 0 if none waits. */
int64_t gw_conns_next_due(void);

/* ---- presence (gw_presence.c; loop thread) ---- */
/* Local membership changed: tell the other gateways and the local clients. */
void gw_presence_changed(gw_board *b);
void gw_presence_publish(gw_board *b, bool leaving);
void gw_presence_remote(gw_board *b, const gw_ev_presence *e);
void gw_presence_tick(gw_board *b, int64_t now_us);
/* Sends the changed presence lists (at most one per board every 250 ms).
 * Returns in how many ms it wants to be called again (0: not needed). */
int64_t gw_presence_flush(void);
/* The board goes away: forget it. */
void gw_presence_forget(gw_board *b);

/* ---- boards: membership, ordering, gap fills, joins (gw_board.c; loop thread) ---- */
gw_board *gw_board_get(const char *id, bool create);
void gw_board_attach(gw_board *b, gw_conn *c);
void gw_board_detach(gw_conn *c);
/* Queues a join without since for the board's next batched snapshot. */
void gw_board_join_wait(gw_board *b, gw_conn *c);
void gw_board_fanout_live(gw_board *b, gw_conn *from, gw_buf *buf);
void gw_board_on_op(const gw_ev_op *e);
void gw_board_on_join(const gw_ev_join *e);
void gw_board_on_fill(const gw_ev_fill *e);
void gw_board_on_replay(const gw_ev_replay *e);
/* After a write: asks for the next chunk of c's paced replay once the client
 * has read most of the last one. */
void gw_board_replay_more(gw_conn *c);
/* Once a tick: closes clients whose queued frames have not moved for
 * idle-timeout-s (1013). */
void gw_boards_close_stalled(int64_t now_us);
/* After a NATS (re)connect: fetch whatever each board missed. */
void gw_boards_resync_all(void);
/* fn may destroy the board it is given, and create or destroy no other (wb_map_iter). */
void gw_boards_foreach(void (*fn)(gw_board *b, void *arg), void *arg);
size_t gw_board_count(void);

/* ---- pending publish acks (gw_ack.c; loop thread) ---- */
/* Remembers who waits for an op's ack; keeps a copy of the payload. */
void gw_ack_pending_add(const char *board, const char *op_id, uint64_t conn, const uint8_t *data,
                        size_t len);
void gw_ack_on_puback(const gw_ev_puback *e);
void gw_ack_on_republish(const gw_ev_republish *e);
/* Publishes unanswered for 10 s: tell the clients to resend. */
void gw_ack_tick(int64_t now_us);
/* The op-id lookup answered: seq > 0: ack with the stored seq; 0: commit the
 * op now; err: tell its clients. */
void gw_ack_on_opid(const char *board, const char *op_id, uint64_t seq, int err);
/* The op could not even be sent: its clients get the error now and the
 * pending entry goes (no second error 10 s later). */
void gw_ack_fail(const char *board, const char *op_id, int err);

/* ---- op ids stored before the dedup window (gw_opid.c; loop thread) ---- */
/* answer gets every op asked: seq > 0 (stored before), 0 (never), or err. */
typedef void (*gw_opid_answer_fn)(const char *board, const char *op_id, uint64_t seq, int err);
void gw_opid_start(gw_opid_answer_fn answer);
/* Asks whether the op id was stored before; the question goes out at the end
 * of the turn (gw_opid_flush), with the turn's others. Returns 0, or a
 * wb_errcode to send the client now. */
int gw_opid_check(const char *board, const char *op_id);
void gw_opid_flush(void);
void gw_opid_on_claim(const gw_ev_opid *e);
void gw_opid_on_done(const gw_ev_opid_done *e);
void gw_opid_tick(int64_t now_us);
void gw_opid_stop(void);

/* ---- client messages: parse and act (gw_client.c; loop thread) ---- */
void gw_client_frame(gw_conn *c, const char *buf, size_t len);

/* ---- transports (gw_ws.c, gw_http.c; loop thread) ---- */
int gw_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len);
/* End of a loop turn: one write per connection that got frames this turn
 * or whose wait ended, except those written to less than their pace before
 * now (pace_us; cursor_pace_us if only cursors are queued): those wait on
 * the pace wheel. Returns the earliest time one of those is due, or 0. */
int64_t gw_ws_flush(int64_t now, int64_t pace_us, int64_t cursor_pace_us);
/* Once per tick: a client on a board heard nothing from for ping-interval-s
 * gets a ping; one silent for idle-timeout-s more is hung up. */
void gw_ws_keepalive(int64_t now_us);
/* A viewer's view id was looked up: join its board, or refuse. */
void gw_ws_on_resolved(const gw_ev_resolved *e);
int gw_http_request(struct lws *wsi, gw_conn *c, const char *path);
int gw_http_writeable(struct lws *wsi, gw_conn *c);
void gw_http_on_api(const gw_ev_api *e);

/* ---- the loop's watchdog (gw_watchdog.c): a leaf ---- */
/* Loop thread, just before gw_loop_run: the watchdog watches this thread. */
int gw_watchdog_start(void);
/* Loop thread, from a timer: the loop is running. */
void gw_watchdog_beat(void);
/* Main thread, after gw_loop_run returned (or start failed); idempotent. */
void gw_watchdog_stop(void);

/* ---- metrics (gw_metrics.c): a leaf ---- */
typedef struct gw_metrics {
    atomic_ullong conns, conns_total, msgs_in, msgs_out, frames_out, bytes_out, drops, coalesced,
        ops_published, ops_acked, live_published, nats_msgs_in, gaps, closes_1008, closes_1009,
        closes_1013, loop_wakes, commit_rounds, commit_batches, commit_batched_ops,
        commit_plain_ops, opid_lookups, opid_lookup_ops, ops_resent_late, closes_stalled,
        ip_refused, fill_failures, loop_stalls, commit_round_timeouts;
    atomic_ullong errors[WB_E__COUNT];
    wb_hist pub_lat;   /* publish -> ack latency, seconds */
    wb_hist round_lat; /* a commit round: sent -> answered, seconds */
} gw_metrics;
extern gw_metrics gw_m;
void gw_metrics_observe_pub(int64_t us);
void gw_metrics_observe_round(int64_t us);
/* Writes the Prometheus text into w. */
void gw_metrics_render(wb_jw *w, size_t boards, bool nats_ok, bool draining);

/* ---- process-wide state (gw_main.c) ---- */
typedef struct gw_server {
    gw_config cfg;
    struct lws_context *ctx;
    atomic_bool draining;
    atomic_bool stopping;
    uint64_t next_serial;
} gw_server;
extern gw_server gw;

void gw_random_id(char *out, size_t n); /* n-1 chars of base64url + NUL */

#endif
