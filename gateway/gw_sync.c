/* gw_sync: the pool of threads that do the gateway's blocking NATS work, so
 * the loop thread never waits on the network:
 *   JOIN  flush (the board subscription is live on the server), then either
 *         replay (since, E] from the stream, or build a snapshot as of E;
 *   API   a snapshot for GET /api/boards/{board} (or {view}), as of ?at=SEQ
 *         when asked: the worker's history snapshot as of min(SEQ, S),
 *         merged with a replay of (S, SEQ] from the stream;
 *   RESOLVE  a viewer's view id -> its board (the WB_VIEWS bucket);
 *   FILL  replay (from, to] to fill a gap in a board's live feed.
 * Snapshot = the worker's snapshot as of S (all ops <= S persisted) merged
 * with a replay of (S, E] from the stream (wb_fold), E read AFTER the
 * worker answered, so nothing falls between. Without a worker, and while the
 * stream still holds every op, the whole board is folded from the stream.
 * Owns its task queue; results go to the loop thread as typed gw_events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"
#include "gw_snap.h"
#include "wb_fold.h"
#include "wb_log.h"
#include "wb_subreap.h"
#include "wb_nats.h"

/* One task per kind, each with its own fields (loop thread builds, a pool
 * thread runs and frees). */
typedef enum {
    GW_TASK_JOIN = 1,
    GW_TASK_API,
    GW_TASK_FILL,
    GW_TASK_DUPCHECK,
    GW_TASK_RESOLVE,
    GW_TASK_REPLAY /* the next chunk of a paced replay */
} gw_task_type;

typedef struct gw_task_join {
    uint64_t conn; /* 0: the board's batch */
    bool has_since;
    uint64_t since;
    uint64_t gen;
} gw_task_join;

typedef struct gw_task_api {
    uint64_t conn;
    bool has_at; /* history: the board as of at */
    uint64_t at;
} gw_task_api;

typedef struct gw_task_resolve {
    uint64_t conn;
} gw_task_resolve;

typedef struct gw_task_fill {
    uint64_t from, to; /* to 0: the board's last seq */
} gw_task_fill;

typedef struct gw_task_replay {
    uint64_t conn, from;
} gw_task_replay;

typedef struct gw_task_dupcheck {
    char op_id[WB_ID_MAX + 1];
    uint64_t seq;
} gw_task_dupcheck;

typedef struct gw_task {
    struct gw_task *next;
    gw_task_type type;
    char board[WB_ID_MAX + 1];
    union {
        gw_task_join join;
        gw_task_api api;
        gw_task_fill fill;
        gw_task_dupcheck dupcheck;
        gw_task_resolve resolve;
        gw_task_replay replay;
    } u;
} gw_task;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static gw_task *g_head, *g_tail;
static bool g_stop;
static pthread_t g_threads[16];
static int g_nthreads;

static void enqueue(gw_task *k)
{
    pthread_mutex_lock(&g_lock);
    if (g_tail)
        g_tail->next = k;
    else
        g_head = k;
    g_tail = k;
    pthread_cond_signal(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

static gw_task *task_new(gw_task_type t, const char *board)
{
    gw_task *k = calloc(1, sizeof *k);
    if (!k) {
        wb_error("out of memory queueing a sync task");
        return NULL;
    }
    k->type = t;
    snprintf(k->board, sizeof k->board, "%s", board);
    return k;
}

void gw_sync_join(const char *board, uint64_t conn, bool has_since, uint64_t since, uint64_t gen)
{
    gw_task *k = task_new(GW_TASK_JOIN, board);
    if (!k) return;
    k->u.join = (gw_task_join){conn, has_since, since, gen};
    enqueue(k);
}

void gw_sync_api(const char *id, uint64_t conn, bool has_at, uint64_t at)
{
    gw_task *k = task_new(GW_TASK_API, id);
    if (!k) return;
    k->u.api = (gw_task_api){conn, has_at, at};
    enqueue(k);
}

void gw_sync_resolve(const char *view, uint64_t conn)
{
    gw_task *k = task_new(GW_TASK_RESOLVE, view);
    if (!k) return;
    k->u.resolve.conn = conn;
    enqueue(k);
}

void gw_sync_fill(const char *board, uint64_t from, uint64_t to)
{
    gw_task *k = task_new(GW_TASK_FILL, board);
    if (!k) return;
    k->u.fill = (gw_task_fill){from, to};
    enqueue(k);
}

void gw_sync_replay(const char *board, uint64_t conn, uint64_t from)
{
    gw_task *k = task_new(GW_TASK_REPLAY, board);
    if (!k) return;
    k->u.replay = (gw_task_replay){conn, from};
    enqueue(k);
}

void gw_sync_dupcheck(const char *board, const char *op_id, uint64_t seq)
{
    gw_task *k = task_new(GW_TASK_DUPCHECK, board);
    if (!k) return;
    snprintf(k->u.dupcheck.op_id, sizeof k->u.dupcheck.op_id, "%s", op_id);
    k->u.dupcheck.seq = seq;
    enqueue(k);
}

/* Seq of the newest op of the board (0: none). Returns 0 or -1. */
static int board_last_seq(const char *board, uint64_t *out)
{
    char subj[128];
    natsMsg *m = NULL;
    jsErrCode jerr = 0;
    wb_subj_ev(subj, sizeof subj, board);
    natsStatus s = js_GetLastMsg(&m, gw_nats_js(), WB_STREAM, subj, NULL, &jerr);
    if (s == NATS_NOT_FOUND) {
        *out = 0;
        return 0;
    }
    if (s != NATS_OK) {
        wb_warn("last seq board=%s: %s (%d)", board, natsStatus_GetText(s), (int)jerr);
        return -1;
    }
    *out = natsMsg_GetSequence(m);
    natsMsg_Destroy(m);
    return 0;
}

static int stream_first_seq(uint64_t *first)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, gw_nats_js(), WB_STREAM, NULL, &jerr);
    if (s != NATS_OK) {
        wb_warn("stream info: %s (%d)", natsStatus_GetText(s), (int)jerr);
        return -1;
    }
    *first = si->State.FirstSeq;
    jsStreamInfo_Destroy(si);
    return 0;
}

typedef int (*replay_fn)(void *ctx, uint64_t seq, Wb__V1__Op *op); /* takes op */

/* Replays the board's ops with from < seq <= to, in order, through an
 * ordered consumer. Returns 0 or -1. */
static int replay(const char *board, uint64_t from, uint64_t to, replay_fn fn, void *ctx)
{
    if (to <= from) return 0;
    char subj[128];
    natsSubscription *sub = NULL;
    jsSubOptions so;
    jsErrCode jerr = 0;
    int rc = -1;
    wb_subj_ev(subj, sizeof subj, board);
    jsSubOptions_Init(&so);
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = from + 1;
    natsStatus s = js_SubscribeSync(&sub, gw_nats_js(), subj, NULL, &so, &jerr);
    if (s != NATS_OK) {
        wb_warn("replay board=%s: subscribe: %s (%d)", board, natsStatus_GetText(s), (int)jerr);
        return -1;
    }
    for (;;) {
        natsMsg *m = NULL;
        jsMsgMetaData *meta = NULL;
        s = natsSubscription_NextMsg(&m, sub, 3000);
        if (s != NATS_OK) {
            wb_warn("replay board=%s (%llu, %llu]: %s", board, (unsigned long long)from,
                    (unsigned long long)to, natsStatus_GetText(s));
            break;
        }
        if (natsMsg_GetMetaData(&meta, m) != NATS_OK) {
            natsMsg_Destroy(m);
            continue;
        }
        uint64_t seq = meta->Sequence.Stream;
        jsMsgMetaData_Destroy(meta);
        if (seq > to) {
            natsMsg_Destroy(m);
            rc = 0;
            break;
        }
        Wb__V1__Op *op = wb__v1__op__unpack(NULL, (size_t)natsMsg_GetDataLength(m),
                                            (const uint8_t *)natsMsg_GetData(m));
        natsMsg_Destroy(m);
        if (op && wb_op_check(op) == 0) {
            int r = fn(ctx, seq, op);
            if (r < 0) break;
            if (r > 0) { /* the consumer has enough */
                rc = 0;
                break;
            }
        } else if (op) {
            wb__v1__op__free_unpacked(op, NULL);
        }
        if (seq >= to) {
            rc = 0;
            break;
        }
    }
    wb_sub_retire(gw_nats_conn(), sub);
    return rc;
}

typedef struct bufs_ctx {
    gw_buf **v;
    size_t n, cap;
    size_t bytes, budget; /* budget 0: no limit */
    size_t max_items;     /* 0: no limit */
    bool stopped;         /* the chunk ended before the end of the replay */
} bufs_ctx;

static int collect_ev(void *ctx, uint64_t seq, Wb__V1__Op *op)
{
    bufs_ctx *c = ctx;
    wb_jw w;
    wb_jw_init(&w, GW_BUF_HEAD, 256);
    wb_jw_ev(&w, seq, op);
    wb__v1__op__free_unpacked(op, NULL);
    gw_buf *b = gw_buf_from_jw(&w, GW_BUF_EV, seq);
    if (!b) return -1;
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 64;
        gw_buf **nv = realloc(c->v, nc * sizeof *nv);
        if (!nv) {
            gw_buf_unref(b);
            return -1;
        }
        c->v = nv;
        c->cap = nc;
    }
    c->v[c->n++] = b;
    c->bytes += b->len;
    if ((c->budget && c->bytes >= c->budget) || (c->max_items && c->n >= c->max_items)) {
        c->stopped = true;
        return 1;
    }
    return 0;
}

static int fold_op(void *ctx, uint64_t seq, Wb__V1__Op *op)
{
    return gw_snap_op(ctx, seq, op);
}

/* Asks a worker for the board's snapshot (as of at, if at > 0). Returns 1
 * if a worker answered (fold filled, *S set), 0 if no worker is there, -1 on
 * error. */
static int worker_snapshot(const char *board, uint64_t at, wb_fold *f, uint64_t *S)
{
    natsConnection *nc = gw_nats_conn();
    char inbox[128];
    natsInbox *ib = NULL;
    natsSubscription *sub = NULL;
    int rc = -1;
    if (natsInbox_Create(&ib) != NATS_OK) return -1;
    snprintf(inbox, sizeof inbox, "%s", (const char *)ib);
    natsInbox_Destroy(ib);
    if (natsConnection_SubscribeSync(&sub, nc, inbox) != NATS_OK) return -1;
    Wb__V1__SnapshotRequest req = WB__V1__SNAPSHOT_REQUEST__INIT;
    req.board = (char *)board;
    req.at = at;
    uint8_t buf[128];
    size_t n = wb__v1__snapshot_request__pack(&req, buf);
    natsStatus s = natsConnection_PublishRequest(nc, WB_SUBJ_SNAPSHOT, inbox, buf, (int)n);
    if (s != NATS_OK) goto out;
    for (uint32_t want = 0;; want++) {
        natsMsg *m = NULL;
        s = natsSubscription_NextMsg(&m, sub, gw.cfg.snapshot_timeout_ms);
        if ((s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS) && want == 0) {
            rc = 0;
            goto out;
        }
        if (s != NATS_OK) {
            wb_warn("snapshot board=%s: %s", board, natsStatus_GetText(s));
            goto out;
        }
        if (natsMsg_IsNoResponders(m)) {
            natsMsg_Destroy(m);
            rc = 0;
            goto out;
        }
        Wb__V1__SnapshotChunk *ch = wb__v1__snapshot_chunk__unpack(
            NULL, (size_t)natsMsg_GetDataLength(m), (const uint8_t *)natsMsg_GetData(m));
        natsMsg_Destroy(m);
        if (!ch) {
            wb_warn("snapshot board=%s: undecodable chunk", board);
            goto out;
        }
        if (at && ch->seq > at) { /* a worker that does not know `at` */
            wb_warn("snapshot board=%s: asked as of %llu, the worker answered %llu", board,
                    (unsigned long long)at, (unsigned long long)ch->seq);
            wb__v1__snapshot_chunk__free_unpacked(ch, NULL);
            goto out;
        }
        const char *why = NULL;
        int r = gw_snap_chunk(f, ch, want, S, &why);
        if (r < 0) {
            wb_warn("snapshot board=%s: chunk %u: %s", board, want, why);
            goto out;
        }
        if (r == 1) {
            rc = 1;
            goto out;
        }
    }
out:
    wb_sub_retire(gw_nats_conn(), sub);
    return rc;
}

/* Builds the board's visible state as of E (returned in *E) into f; with
 * at > 0, as of min(at, the board's last seq) (history). */
static int build_snapshot(const char *board, uint64_t at, wb_fold *f, uint64_t *E)
{
    uint64_t S = 0, first = 0;
    int w = worker_snapshot(board, at, f, &S);
    if (w < 0) return -1;
    if (w == 0) {
        /* No worker: fold from the stream, if it still holds everything. */
        if (stream_first_seq(&first) < 0) return -1;
        if (first > 1) {
            wb_warn("snapshot board=%s: no worker answered and the stream starts at %llu", board,
                    (unsigned long long)first);
            return -1;
        }
        S = 0;
    }
    if (board_last_seq(board, E) < 0) return -1;
    if (at && *E > at) *E = at;
    if (at) return replay(board, S, *E < S ? S : *E, fold_op, f);
    if (*E < S) *E = S;
    return replay(board, S, *E, fold_op, f);
}

/* A paced replay's chunk: the board's ops after `from` (up to `to`), read
 * with ONE batched direct get limited to the chunk's bytes and items, so
 * the gateway never holds more of the board than the chunk (an ordered
 * consumer would push the whole rest of the history into the subscription
 * first). Sets c->stopped when the chunk is full before `to`. Returns 0 or -1. */
static int replay_chunk(const char *board, uint64_t from, uint64_t to, bufs_ctx *c)
{
    if (to <= from) return 0;
    natsConnection *nc = gw_nats_conn();
    natsInbox *ib = NULL;
    natsSubscription *sub = NULL;
    char inbox[128], subj[128], req[256], api[96];
    int rc = -1;
    if (natsInbox_Create(&ib) != NATS_OK) return -1;
    snprintf(inbox, sizeof inbox, "%s", (const char *)ib);
    natsInbox_Destroy(ib);
    if (natsConnection_SubscribeSync(&sub, nc, inbox) != NATS_OK) return -1;
    wb_subj_ev(subj, sizeof subj, board);
    size_t items = c->max_items ? c->max_items : 10000;
    int n = snprintf(req, sizeof req,
                     "{\"seq\":%llu,\"next_by_subj\":\"%s\",\"batch\":%zu,\"max_bytes\":%zu}",
                     (unsigned long long)(from + 1), subj, items, c->budget);
    snprintf(api, sizeof api, "$JS.API.DIRECT.GET.%s", WB_STREAM);
    uint64_t last = from;
    size_t got = 0;
    if (natsConnection_PublishRequest(nc, api, inbox, req, n) != NATS_OK) goto out;
    for (;;) {
        natsMsg *m = NULL;
        natsStatus s = natsSubscription_NextMsg(&m, sub, 3000);
        if (s != NATS_OK) {
            wb_warn("replay board=%s after %llu: %s", board, (unsigned long long)from,
                    natsStatus_GetText(s));
            goto out;
        }
        const char *status = NULL, *seqh = NULL;
        natsMsgHeader_Get(m, "Status", &status);
        if (status && *status) { /* 204: end of batch; 404: nothing (more) */
            bool ok = !strcmp(status, "204") || !strcmp(status, "404");
            natsMsg_Destroy(m);
            if (!ok) {
                wb_warn("replay board=%s: direct get status %s", board, status);
                goto out;
            }
            break;
        }
        uint64_t seq = 0;
        if (natsMsgHeader_Get(m, "Nats-Sequence", &seqh) == NATS_OK && seqh)
            seq = strtoull(seqh, NULL, 10);
        if (!seq || seq <= last || seq > to) {
            natsMsg_Destroy(m);
            continue; /* past `to`: the next chunk (or live delivery) has it */
        }
        last = seq;
        got++;
        Wb__V1__Op *op = wb__v1__op__unpack(NULL, (size_t)natsMsg_GetDataLength(m),
                                            (const uint8_t *)natsMsg_GetData(m));
        natsMsg_Destroy(m);
        if (op && wb_op_check(op) == 0) {
            bool was = c->stopped;
            c->stopped = false;
            if (collect_ev(c, seq, op) < 0) goto out;
            c->stopped = was;
        } else if (op) {
            wb__v1__op__free_unpacked(op, NULL);
        }
    }
    /* A full chunk that has not reached `to`: more to read later. */
    c->stopped = got > 0 && last < to;
    rc = 0;
out:
    wb_sub_retire(gw_nats_conn(), sub);
    return rc;
}

static void run_join(gw_task *k)
{
    const gw_task_join *t = &k->u.join;
    gw_event *ev = gw_event_new(GW_EV_JOIN);
    if (!ev) return;
    gw_ev_join *e = &ev->u.join;
    snprintf(e->board, sizeof e->board, "%s", k->board);
    e->conn = t->conn;
    e->gen = t->gen;
    e->err = WB_E_UNAVAILABLE;
    gw_view_register(k->board); /* so that the view id in the welcome resolves */
    if (natsConnection_FlushTimeout(gw_nats_conn(), 3000) != NATS_OK) goto out;
    if (t->has_since) {
        uint64_t E = 0, first = 0;
        if (board_last_seq(k->board, &E) < 0 || stream_first_seq(&first) < 0) goto out;
        if (t->since <= E && (t->since + 1 >= first || t->since >= E)) {
            /* Paced: one chunk now, the next when the client has read it. */
            bufs_ctx c = {.budget = (size_t)gw.cfg.replay_chunk_bytes,
                          .max_items = (size_t)gw.cfg.sendq_max / 2};
            if (replay_chunk(k->board, t->since, E, &c) == 0) {
                e->evs = c.v;
                e->nevs = c.n;
                e->seq = E;
                e->resumed = true;
                e->more = c.stopped;
                e->err = 0;
                goto out;
            }
            for (size_t i = 0; i < c.n; i++)
                gw_buf_unref(c.v[i]);
            free(c.v);
            goto out;
        }
        /* Cannot replay from there: the client joins the board's next
         * batched snapshot (one snapshot however many such clients). */
        e->err = 0;
        e->want_snapshot = true;
        goto out;
    }
    wb_fold f;
    wb_fold_init(&f);
    uint64_t E = 0;
    if (build_snapshot(k->board, 0, &f, &E) == 0) {
        e->snapshot = gw_snap_render(false, k->board, &f, E);
        e->seq = E;
        e->err = e->snapshot ? 0 : WB_E_UNAVAILABLE;
    }
    wb_fold_free(&f);
out:
    gw_queue_push(ev);
}

/* The next chunk of a paced replay: (from, E] up to the chunk budget. */
static void run_replay(gw_task *k)
{
    const gw_task_replay *t = &k->u.replay;
    gw_event *ev = gw_event_new(GW_EV_REPLAY);
    if (!ev) return;
    gw_ev_replay *e = &ev->u.replay;
    snprintf(e->board, sizeof e->board, "%s", k->board);
    e->conn = t->conn;
    e->err = WB_E_UNAVAILABLE;
    uint64_t E = 0, first = 0;
    if (board_last_seq(k->board, &E) < 0 || stream_first_seq(&first) < 0) goto out;
    if (t->from + 1 < first && t->from < E) {
        wb_warn("replay board=%s: ops after %llu are gone from the stream", k->board,
                (unsigned long long)t->from);
        goto out; /* closed; the client resumes and gets a snapshot */
    }
    bufs_ctx c = {.budget = (size_t)gw.cfg.replay_chunk_bytes,
                  .max_items = (size_t)gw.cfg.sendq_max / 2};
    if (replay_chunk(k->board, t->from, E, &c) == 0) {
        e->err = 0;
        e->more = c.stopped;
    }
    e->evs = c.v;
    e->nevs = c.n;
    e->seq = E;
out:
    gw_queue_push(ev);
}

static void run_api(gw_task *k)
{
    gw_event *ev = gw_event_new(GW_EV_API);
    if (!ev) return;
    gw_ev_api *e = &ev->u.api;
    const gw_task_api *t = &k->u.api;
    e->conn = t->conn;
    e->err = WB_E_UNAVAILABLE;
    wb_fold f;
    wb_fold_init(&f);
    uint64_t E = 0;
    /* A view id answers its board's snapshot under the view id's name. */
    char board[WB_ID_MAX + 1];
    snprintf(board, sizeof board, "%s", k->board);
    if (gw_view_is_view(k->board, strlen(k->board))) {
        int r = gw_view_resolve(k->board, board);
        if (r <= 0) {
            e->not_found = r == 0;
            goto out;
        }
    }
    if (t->has_at && t->at == 0) {
        E = 0; /* as of seq 0: nothing was drawn yet */
    } else if (build_snapshot(board, t->has_at ? t->at : 0, &f, &E) < 0) {
        goto out;
    }
    e->body = gw_snap_render(true, k->board, &f, E);
    e->err = e->body ? 0 : WB_E_UNAVAILABLE;
out:
    wb_fold_free(&f);
    gw_queue_push(ev);
}

static void run_resolve(gw_task *k)
{
    gw_event *ev = gw_event_new(GW_EV_RESOLVED);
    if (!ev) return;
    gw_ev_resolved *e = &ev->u.resolved;
    e->conn = k->u.resolve.conn;
    int r = gw_view_resolve(k->board, e->board);
    e->err = r < 0 ? WB_E_UNAVAILABLE : 0;
    e->not_found = r == 0;
    gw_queue_push(ev);
}

static void run_fill(gw_task *k)
{
    gw_event *ev = gw_event_new(GW_EV_FILL);
    if (!ev) return;
    gw_ev_fill *e = &ev->u.fill;
    snprintf(e->board, sizeof e->board, "%s", k->board);
    e->err = WB_E_UNAVAILABLE;
    uint64_t to = k->u.fill.to;
    if (!to && board_last_seq(k->board, &to) < 0) goto out;
    bufs_ctx c = {0};
    if (replay(k->board, k->u.fill.from, to, collect_ev, &c) == 0) {
        e->err = 0;
        e->to = to;
    }
    e->evs = c.v;
    e->nevs = c.n;
out:
    gw_queue_push(ev);
}

/* JetStream de-duplicates by Nats-Msg-Id across the whole stream, but op ids
 * are only unique per board: if the stored message at seq belongs to another
 * board, ask the loop thread to publish again with "{board}:{op}"; else the
 * duplicate is this board's op and its seq is the answer. */
static void run_dupcheck(gw_task *k)
{
    const gw_task_dupcheck *t = &k->u.dupcheck;
    natsMsg *m = NULL;
    jsErrCode jerr = 0;
    char subj[128];
    gw_event *ev;
    wb_subj_ev(subj, sizeof subj, k->board);
    natsStatus s = js_GetMsg(&m, gw_nats_js(), WB_STREAM, t->seq, NULL, &jerr);
    if (s == NATS_OK && strcmp(natsMsg_GetSubject(m), subj) != 0) {
        wb_info("op id %s on board %s collides with an op of another board; publishing it again",
                t->op_id, k->board);
        if ((ev = gw_event_new(GW_EV_REPUBLISH))) {
            snprintf(ev->u.republish.board, sizeof ev->u.republish.board, "%s", k->board);
            snprintf(ev->u.republish.op_id, sizeof ev->u.republish.op_id, "%s", t->op_id);
        }
    } else if ((ev = gw_event_new(GW_EV_PUBACK))) {
        gw_ev_puback *e = &ev->u.puback;
        snprintf(e->board, sizeof e->board, "%s", k->board);
        snprintf(e->op_id, sizeof e->op_id, "%s", t->op_id);
        e->seq = t->seq;
        e->check = true;
        if (s != NATS_OK) {
            wb_warn("duplicate check op=%s seq=%llu: %s", t->op_id, (unsigned long long)t->seq,
                    natsStatus_GetText(s));
            e->err = WB_E_UNAVAILABLE;
        }
    }
    natsMsg_Destroy(m);
    if (ev) gw_queue_push(ev);
}

static void *sync_main(void *arg)
{
    for (;;) {
        pthread_mutex_lock(&g_lock);
        while (!g_head && !g_stop)
            pthread_cond_wait(&g_cond, &g_lock);
        if (g_stop) {
            pthread_mutex_unlock(&g_lock);
            return NULL;
        }
        gw_task *k = g_head;
        g_head = k->next;
        if (!g_head) g_tail = NULL;
        pthread_mutex_unlock(&g_lock);
        switch (k->type) {
        case GW_TASK_JOIN:
            run_join(k);
            break;
        case GW_TASK_API:
            run_api(k);
            break;
        case GW_TASK_FILL:
            run_fill(k);
            break;
        case GW_TASK_RESOLVE:
            run_resolve(k);
            break;
        case GW_TASK_DUPCHECK:
            run_dupcheck(k);
            break;
        case GW_TASK_REPLAY:
            run_replay(k);
            break;
        }
        free(k);
    }
}

int gw_sync_start(int threads)
{
    if (threads > 16) threads = 16;
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&g_threads[i], NULL, sync_main, NULL) != 0) {
            wb_syserr("pthread_create");
            return -1;
        }
        g_nthreads++;
    }
    return 0;
}

void gw_sync_stop(void)
{
    pthread_mutex_lock(&g_lock);
    g_stop = true;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
    for (int i = 0; i < g_nthreads; i++)
        pthread_join(g_threads[i], NULL);
    g_nthreads = 0;
    while (g_head) {
        gw_task *k = g_head;
        g_head = k->next;
        free(k);
    }
    g_tail = NULL;
}
