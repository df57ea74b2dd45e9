/* wk_snap: the wb.snapshot responder.
 * Threads: cfg.threads snapshot threads ("snap-N"), each owning one queue
 * subscription (sync, NextMsg with a short timeout to see the stop flag) and
 * one PostgreSQL connection; strokes are streamed from PostgreSQL in
 * single-row mode and published chunk by chunk, so memory stays at about one
 * chunk per thread whatever the board size.
 * Consistency: S = the consumer's ack floor, read BEFORE the database, so
 * every op <= S is committed; the database may hold more (the gateway merges
 * the snapshot with a replay of (S, E], the fold is order-independent).
 * History (request.at > 0): the board as of min(at, S): strokes with
 * add_seq <= that seq, their visibility from the op log (wk_history). */
#include "wk_snap.h"

#include <arpa/inet.h>
#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wb_clock.h"
#include "wb_elem.h"
#include "wb_log.h"
#include "wb_subreap.h"
#include "wb_valid.h"
#include "whiteboard.pb-c.h"
#include "wk_batch.h"
#include "wk_db.h"
#include "wk_history.h"
#include "wk_metrics.h"
#include "wk_nats.h"

typedef struct snap_thread {
    wk_snap *owner;
    int index;
    pthread_t tid;
    bool started;
    natsSubscription *sub;
    wk_db *db;
    wk_buf out;
} snap_thread;

struct wk_snap {
    wk_snap_cfg cfg;
    atomic_bool stop;
    snap_thread *t;
};

/* One record of a chunk, in one allocation: the messages, then the id,
 * author, text and points. An element record uses st, sh or tx (its base);
 * an update record up and gs (one field group, docs/protocol.md §7). */
typedef struct snap_item {
    Wb__V1__SnapStroke ss;
    Wb__V1__Stroke st;
    Wb__V1__Shape sh;
    Wb__V1__Text tx;
    Wb__V1__Update up;
    Wb__V1__GroupSeqs gs;
} snap_item;

typedef struct chunk {
    snap_item **items;
    size_t n, cap, bytes;
    uint32_t index;
} chunk;

static uint64_t be64(const char *p)
{
    uint32_t hi, lo;
    memcpy(&hi, p, 4);
    memcpy(&lo, p + 4, 4);
    return ((uint64_t)ntohl(hi) << 32) | ntohl(lo);
}

static uint32_t be32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return ntohl(v);
}

static int32_t bei32(const char *p)
{
    return (int32_t)be32(p);
}

static float befloat(const char *p)
{
    uint32_t bits = be32(p);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static int16_t be16(const char *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return (int16_t)ntohs(v);
}

/* Column col of row 0 as int32 / float (0 when NULL). */
static int32_t col_i32(PGresult *r, int col)
{
    return PQgetisnull(r, 0, col) ? 0 : bei32(PQgetvalue(r, 0, col));
}

static float col_f32(PGresult *r, int col)
{
    return PQgetisnull(r, 0, col) ? 0 : befloat(PQgetvalue(r, 0, col));
}

static snap_item *item_alloc(size_t extra)
{
    snap_item *it = malloc(sizeof(snap_item) + extra);
    if (!it) return NULL;
    Wb__V1__SnapStroke ss = WB__V1__SNAP_STROKE__INIT;
    Wb__V1__Stroke st = WB__V1__STROKE__INIT;
    Wb__V1__Shape sh = WB__V1__SHAPE__INIT;
    Wb__V1__Text tx = WB__V1__TEXT__INIT;
    Wb__V1__Update up = WB__V1__UPDATE__INIT;
    Wb__V1__GroupSeqs gs = WB__V1__GROUP_SEQS__INIT;
    it->ss = ss;
    it->st = st;
    it->sh = sh;
    it->tx = tx;
    it->up = up;
    it->gs = gs;
    return it;
}

/* Copies column col of row 0 (text) to *dst, NUL-terminated; returns the
 * byte after it. */
static char *put_col(PGresult *r, int col, char *dst)
{
    int n = PQgetisnull(r, 0, col) ? 0 : PQgetlength(r, 0, col);
    memcpy(dst, PQgetvalue(r, 0, col), (size_t)n);
    dst[n] = 0;
    return dst + n + 1;
}

static void chunk_clear(chunk *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->items[i]);
    c->n = 0;
    c->bytes = 0;
}

static int publish_chunk(snap_thread *t, const char *reply, const char *board, uint64_t seq,
                         chunk *c, bool last, uint64_t max_clear, const char *error)
{
    Wb__V1__SnapshotChunk m = WB__V1__SNAPSHOT_CHUNK__INIT;
    m.board = (char *)board;
    m.seq = seq;
    m.index = c->index++;
    m.last = last || error;
    m.n_strokes = error ? 0 : c->n;
    m.strokes = (Wb__V1__SnapStroke **)c->items;
    m.max_clear_seq = max_clear;
    if (error) m.error = (char *)error;
    size_t len = wb__v1__snapshot_chunk__get_packed_size(&m);
    wk_buf_reset(&t->out);
    if (wk_buf_reserve(&t->out, len) < 0) {
        wb_error("snapshot: out of memory for a %zu byte chunk", len);
        return -1;
    }
    wb__v1__snapshot_chunk__pack(&m, (uint8_t *)t->out.p);
    natsStatus s = natsConnection_Publish(t->owner->cfg.nc, reply, t->out.p, (int)len);
    atomic_fetch_add(&wk_m.snapshot_strokes, m.n_strokes);
    chunk_clear(c);
    if (s != NATS_OK) {
        wb_warn("snapshot %s: publish chunk: %s", board, natsStatus_GetText(s));
        return -1;
    }
    return 0;
}

/* The element columns of the snapshot queries (binary results). */
#define ELEM_COLS                                                                                  \
    "stroke_id, add_seq, color, width, points, author, vis_seq, vis_hidden, elem_kind, "           \
    "shape_kind, x1, y1, x2, y2, fill, x, y, size, body"
#define ELEM_COLS_HIST                                                                             \
    "stroke_id, add_seq, color, width, points, author, 0::bigint, false, elem_kind, "              \
    "shape_kind, x1, y1, x2, y2, fill, x, y, size, body"

/* Builds one element from a binary single-row result. NULL on malformed data. */
static snap_item *row_item(PGresult *r)
{
    /* 0 stroke_id, 1 add_seq, 2 color, 3 width, 4 points, 5 author, 6 vis_seq, 7 vis_hidden,
     * 8 elem_kind, 9 shape_kind, 10 x1, 11 y1, 12 x2, 13 y2, 14 fill, 15 x, 16 y, 17 size,
     * 18 body */
    int idlen = PQgetlength(r, 0, 0), alen = PQgetisnull(r, 0, 5) ? 0 : PQgetlength(r, 0, 5);
    int plen = PQgetisnull(r, 0, 4) ? 0 : PQgetlength(r, 0, 4);
    int blen = PQgetisnull(r, 0, 18) ? 0 : PQgetlength(r, 0, 18);
    int kind = PQgetisnull(r, 0, 8) ? 0 : be16(PQgetvalue(r, 0, 8));
    const uint8_t *pts = (const uint8_t *)PQgetvalue(r, 0, 4);
    long np = wk_points_count(pts, (size_t)plen);
    if (np < 0) return NULL;
    snap_item *it =
        item_alloc((size_t)np * sizeof(int32_t) + (size_t)idlen + (size_t)alen + (size_t)blen + 3);
    if (!it) return NULL;
    int32_t *vals = (int32_t *)(it + 1);
    char *id = (char *)(vals + np), *author = put_col(r, 0, id), *body = put_col(r, 5, author);
    put_col(r, 18, body);
    uint32_t color = PQgetisnull(r, 0, 2) ? 0 : be32(PQgetvalue(r, 0, 2));
    float width = col_f32(r, 3);
    if (kind == WB__V1__KIND__KIND_SHAPE) {
        it->sh.id = id;
        it->sh.by = author;
        it->sh.kind = (Wb__V1__ShapeKind)(PQgetisnull(r, 0, 9) ? 0 : be16(PQgetvalue(r, 0, 9)));
        it->sh.x1 = col_i32(r, 10);
        it->sh.y1 = col_i32(r, 11);
        it->sh.x2 = col_i32(r, 12);
        it->sh.y2 = col_i32(r, 13);
        it->sh.has_fill = !PQgetisnull(r, 0, 14);
        it->sh.fill = (uint32_t)col_i32(r, 14);
        it->sh.color = color;
        it->sh.width = width;
        it->ss.shape = &it->sh;
    } else if (kind == WB__V1__KIND__KIND_TEXT) {
        it->tx.id = id;
        it->tx.by = author;
        it->tx.x = col_i32(r, 15);
        it->tx.y = col_i32(r, 16);
        it->tx.size = col_f32(r, 17);
        it->tx.color = color;
        it->tx.text = body;
        it->ss.text = &it->tx;
    } else {
        wk_points_unpack(pts, (size_t)plen, vals, (size_t)np);
        it->st.id = id;
        it->st.by = author;
        it->st.n_points = (size_t)np;
        it->st.points = vals;
        it->st.color = color;
        it->st.width = width;
        it->ss.stroke = &it->st;
    }
    it->ss.add_seq = be64(PQgetvalue(r, 0, 1));
    it->ss.vis_seq = be64(PQgetvalue(r, 0, 6));
    it->ss.vis_hidden = PQgetvalue(r, 0, 7)[0] != 0;
    return it;
}

/* The per-group seq field of gs for group g. */
static uint64_t *group_seq(Wb__V1__GroupSeqs *gs, int g)
{
    switch (g) {
    case WB_G_POINTS:
        return &gs->points;
    case WB_G_BOX:
        return &gs->box;
    case WB_G_POS:
        return &gs->pos;
    case WB_G_SIZE:
        return &gs->size;
    case WB_G_TEXT:
        return &gs->text;
    case WB_G_COLOR:
        return &gs->color;
    case WB_G_WIDTH:
        return &gs->width;
    default:
        return &gs->fill;
    }
}

#define UPD_COLS                                                                                   \
    "u.elem_id, u.grp, u.seq, u.points, u.x1, u.y1, u.x2, u.y2, u.x, u.y, u.size, u.body, "        \
    "u.color, u.width, u.fill"

/* One update record (one field group of element_updates) from a binary row. */
static snap_item *row_update(PGresult *r)
{
    /* 0 elem_id, 1 grp, 2 seq, 3 points, 4 x1, 5 y1, 6 x2, 7 y2, 8 x, 9 y, 10 size, 11 body,
     * 12 color, 13 width, 14 fill */
    int idlen = PQgetlength(r, 0, 0), blen = PQgetisnull(r, 0, 11) ? 0 : PQgetlength(r, 0, 11);
    int plen = PQgetisnull(r, 0, 3) ? 0 : PQgetlength(r, 0, 3);
    int g = be16(PQgetvalue(r, 0, 1));
    const uint8_t *pts = (const uint8_t *)PQgetvalue(r, 0, 3);
    long np = wk_points_count(pts, (size_t)plen);
    if (np < 0 || g < 0 || g >= WB_G__COUNT) return NULL;
    snap_item *it = item_alloc((size_t)np * sizeof(int32_t) + (size_t)idlen + (size_t)blen + 2);
    if (!it) return NULL;
    int32_t *vals = (int32_t *)(it + 1);
    char *id = (char *)(vals + np), *body = put_col(r, 0, id);
    put_col(r, 11, body);
    Wb__V1__Update *u = &it->up;
    u->id = id;
    switch (g) {
    case WB_G_POINTS:
        wk_points_unpack(pts, (size_t)plen, vals, (size_t)np);
        u->has_points = true;
        u->points = vals;
        u->n_points = (size_t)np;
        break;
    case WB_G_BOX:
        u->has_box = true;
        u->x1 = col_i32(r, 4);
        u->y1 = col_i32(r, 5);
        u->x2 = col_i32(r, 6);
        u->y2 = col_i32(r, 7);
        break;
    case WB_G_POS:
        u->has_pos = true;
        u->x = col_i32(r, 8);
        u->y = col_i32(r, 9);
        break;
    case WB_G_SIZE:
        u->has_size = true;
        u->size = col_f32(r, 10);
        break;
    case WB_G_TEXT:
        u->has_text = true;
        u->text = body;
        break;
    case WB_G_COLOR:
        u->has_color = true;
        u->color = (uint32_t)col_i32(r, 12);
        break;
    case WB_G_WIDTH:
        u->has_width = true;
        u->width = col_f32(r, 13);
        break;
    default:
        u->has_fill = true;
        u->no_fill = PQgetisnull(r, 0, 14);
        u->fill = (uint32_t)col_i32(r, 14);
        break;
    }
    *group_seq(&it->gs, g) = be64(PQgetvalue(r, 0, 2));
    it->ss.upd = u;
    it->ss.upd_seqs = &it->gs;
    return it;
}

/* One update record from the op log (history): the whole Update of the op,
 * with only group g's seq set (the fold takes only that group from it). */
static snap_item *hist_update(const Wb__V1__Update *src, int g, uint64_t seq)
{
    size_t idlen = strlen(src->id), tlen = src->text ? strlen(src->text) : 0;
    snap_item *it = item_alloc(src->n_points * sizeof(int32_t) + idlen + tlen + 2);
    if (!it) return NULL;
    int32_t *vals = (int32_t *)(it + 1);
    char *id = (char *)(vals + src->n_points), *text = id + idlen + 1;
    if (src->n_points) memcpy(vals, src->points, src->n_points * sizeof(int32_t));
    memcpy(id, src->id, idlen + 1);
    memcpy(text, src->text ? src->text : "", tlen + 1);
    it->up = *src;
    it->up.base.unknown_fields = NULL;
    it->up.base.n_unknown_fields = 0;
    it->up.id = id;
    it->up.text = text;
    it->up.points = vals;
    *group_seq(&it->gs, g) = seq;
    it->ss.upd = &it->up;
    it->ss.upd_seqs = &it->gs;
    return it;
}

/* Drains the rest of an in-flight single-row query (after an error). */
static void drain(PGconn *c)
{
    PGresult *r;
    while ((r = PQgetResult(c)))
        PQclear(r);
}

/* Appends one record to the chunk, publishing the chunk first when the
 * record would not fit. Takes it (freed on failure). Returns NULL or an
 * error text. */
static const char *chunk_add(snap_thread *t, const char *reply, const char *board, uint64_t seq,
                             size_t budget, chunk *c, snap_item *it, uint64_t max_clear)
{
    size_t sz = wb__v1__snap_stroke__get_packed_size(&it->ss) + 6;
    if (c->n && c->bytes + sz > budget &&
        publish_chunk(t, reply, board, seq, c, false, max_clear, NULL) < 0) {
        free(it);
        return "publish failed";
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 256;
        snap_item **v = realloc(c->items, cap * sizeof *v);
        if (!v) {
            free(it);
            return "out of memory";
        }
        c->items = v;
        c->cap = cap;
    }
    c->items[c->n++] = it;
    c->bytes += sz;
    return NULL;
}

/* The update records after the elements: from element_updates (the newest
 * value per element and field group, only those after the element's add),
 * or for history from the op log as of seq (wk_history). */
static const char *stream_updates(snap_thread *t, const char *reply, const char *board,
                                  uint64_t seq, size_t budget, chunk *c, uint64_t max_clear,
                                  const wk_history *hist)
{
    if (hist) {
        for (size_t i = 0; i < hist->upd.cap; i++) {
            const wk_hupd *h = hist->upd.slots[i].val;
            if (!hist->upd.slots[i].key) continue;
            for (int g = 0; g < WB_G__COUNT; g++) {
                if (!h->seq[g]) continue;
                snap_item *it = hist_update(h->val[g], g, h->seq[g]);
                if (!it) return "out of memory";
                const char *err = chunk_add(t, reply, board, seq, budget, c, it, max_clear);
                if (err) return err;
            }
        }
        return NULL;
    }
    PGconn *conn = wk_db_conn(t->db);
    const char *vals[] = {board};
    PGresult *r;
    if (!PQsendQueryParams(conn,
                           "SELECT " UPD_COLS " FROM element_updates u JOIN strokes s ON "
                           "s.board = u.board AND s.stroke_id = u.elem_id AND s.add_seq < u.seq "
                           "WHERE u.board = $1",
                           1, NULL, vals, NULL, NULL, 1) ||
        !PQsetSingleRowMode(conn)) {
        wk_db_fail(t->db, NULL, "snapshot updates query");
        drain(conn);
        return "database unavailable";
    }
    const char *err = NULL;
    while ((r = PQgetResult(conn))) {
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_SINGLE_TUPLE && !err) {
            snap_item *it = row_update(r);
            err = it ? chunk_add(t, reply, board, seq, budget, c, it, max_clear) : "bad update row";
        } else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK && !err) {
            wk_db_fail(t->db, r, "snapshot updates query");
            err = "database error";
        }
        PQclear(r);
    }
    return err;
}

/* Streams the board's strokes into chunks: the current board, or with hist
 * the board as of seq. exact (history only): nothing after seq will be
 * merged, so strokes hidden by a clear as of seq are left out (they cannot
 * come back in this answer); otherwise every added stroke is sent. Returns
 * NULL or an error text. */
static const char *stream_board(snap_thread *t, const char *reply, const char *board, uint64_t seq,
                                size_t budget, chunk *c, uint64_t *max_clear,
                                const wk_history *hist, bool exact)
{
    PGconn *conn = wk_db_conn(t->db);
    char seqbuf[24], clearbuf[24];
    char *restored = NULL;
    snprintf(seqbuf, sizeof seqbuf, "%llu", (unsigned long long)seq);
    const char *vals[] = {board, seqbuf, clearbuf, NULL};
    int nvals = hist ? 2 : 1;
    PGresult *r;
    *max_clear = 0;
    if (hist) {
        *max_clear = hist->max_clear;
    } else {
        r = PQexecParams(conn, "SELECT max_clear_seq FROM boards WHERE id = $1", 1, NULL, vals,
                         NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            wk_db_fail(t->db, r, "snapshot boards query");
            PQclear(r);
            return "database unavailable";
        }
        if (PQntuples(r) == 1) *max_clear = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
    }
    const char *sql = hist ? "SELECT " ELEM_COLS_HIST " FROM strokes WHERE board = $1 AND "
                             "add_seq IS NOT NULL AND add_seq <= $2 ORDER BY add_seq"
                           : "SELECT " ELEM_COLS " FROM strokes WHERE board = $1 AND add_seq IS "
                             "NOT NULL ORDER BY add_seq";
    if (hist && exact && hist->max_clear) {
        /* Before the last clear only what a later restore showed again. */
        snprintf(clearbuf, sizeof clearbuf, "%llu", (unsigned long long)hist->max_clear);
        if (!(restored = wk_history_restored_after(hist, hist->max_clear))) return "out of memory";
        vals[3] = restored;
        nvals = 4;
        sql =
            "SELECT " ELEM_COLS_HIST " FROM strokes WHERE board = $1 AND add_seq IS NOT NULL "
            "AND add_seq <= $2 AND (add_seq > $3 OR stroke_id = ANY($4::text[])) ORDER BY add_seq";
    }
    int sent = PQsendQueryParams(conn, sql, nvals, NULL, vals, NULL, NULL, 1);
    free(restored);
    if (!sent || !PQsetSingleRowMode(conn)) {
        wk_db_fail(t->db, NULL, "snapshot strokes query");
        drain(conn);
        return "database unavailable";
    }
    const char *err = NULL;
    while ((r = PQgetResult(conn))) {
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_SINGLE_TUPLE && !err) {
            snap_item *it = row_item(r);
            if (!it) {
                err = "bad stroke row";
            } else {
                const char *id = it->ss.stroke ? it->st.id : it->ss.shape ? it->sh.id : it->tx.id;
                const wk_vis *hv = hist ? wk_history_get(hist, id) : NULL;
                if (hv) {
                    it->ss.vis_seq = hv->seq;
                    it->ss.vis_hidden = hv->hidden;
                }
                err = chunk_add(t, reply, board, seq, budget, c, it, *max_clear);
            }
        } else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK && !err) {
            wk_db_fail(t->db, r, "snapshot strokes query");
            err = "database error";
        }
        PQclear(r);
    }
    if (!err) err = stream_updates(t, reply, board, seq, budget, c, *max_clear, hist);
    return err;
}

static void handle(snap_thread *t, natsMsg *msg)
{
    wk_snap *s = t->owner;
    double t0 = wb_mono_s();
    const char *reply = natsMsg_GetReply(msg);
    chunk c = {0};
    char board[65] = "";
    uint64_t seq = 0, max_clear = 0;
    const char *err = NULL;
    Wb__V1__SnapshotRequest *req = NULL;
    if (!reply || !*reply) return; /* nobody to answer */
    req = wb__v1__snapshot_request__unpack(NULL, (size_t)natsMsg_GetDataLength(msg),
                                           (const uint8_t *)natsMsg_GetData(msg));
    if (!req || !wb_valid_id(req->board, strlen(req->board))) {
        err = "bad request";
        goto out;
    }
    snprintf(board, sizeof board, "%s", req->board);
    size_t budget = s->cfg.chunk_bytes;
    if (req->max_chunk_bytes) {
        budget = req->max_chunk_bytes;
        if (budget > s->cfg.max_chunk_bytes) budget = s->cfg.max_chunk_bytes;
        if (budget < 4096) budget = 4096;
    }
    budget -= 256; /* chunk header: board, seq, index, flags */
    /* S first: everything <= S is committed before we read. */
    /* A try fails slowly when JetStream is busy (the API timeout) and at once
     * when the consumer does not exist yet (a worker just started: its pull
     * loop creates it): back off 100, 200, 400, 800 ms between tries. */
    int tries = 0;
    while (wk_nats_consumer_state(s->cfg.js, &seq, NULL, NULL) < 0 && ++tries < 5)
        nanosleep(&(struct timespec){0, (100L << (tries - 1)) * 1000000L}, NULL);
    if (tries == 5) {
        wk_metric_err(WK_ERR_CONSUMER);
        err = "consumer state unavailable";
        goto out;
    }
    if (wk_db_connect(t->db) < 0) {
        err = "database unavailable";
        goto out;
    }
    if (req->at && req->at < seq) seq = req->at; /* history: as of at (<= the ack floor) */
    for (int attempt = 0; attempt < 2; attempt++) {
        wk_history h;
        wk_history_init(&h);
        err = req->at ? wk_history_load(&h, t->db, board, seq) : NULL;
        if (!err)
            err = stream_board(t, reply, board, seq, budget, &c, &max_clear, req->at ? &h : NULL,
                               seq == req->at);
        wk_history_free(&h);
        /* A stale connection (PostgreSQL restarted since the last request):
         * if nothing was sent yet, try once more on a fresh one. */
        if (!err || c.index != 0 || wk_db_connected(t->db) || wk_db_connect(t->db) < 0) break;
        chunk_clear(&c);
    }
    if (!err && publish_chunk(t, reply, board, seq, &c, true, max_clear, NULL) < 0)
        err = "publish failed";
out:
    if (err) {
        wk_metric_err(WK_ERR_SNAPSHOT);
        wb_warn("snapshot board=%s: %s", board[0] ? board : "?", err);
        chunk_clear(&c);
        publish_chunk(t, reply, board, seq, &c, true, max_clear, err);
    } else {
        atomic_fetch_add(&wk_m.snapshots, 1);
        wb_debug("snapshot board=%s seq=%llu chunks=%u", board, (unsigned long long)seq, c.index);
    }
    chunk_clear(&c);
    free(c.items);
    if (req) wb__v1__snapshot_request__free_unpacked(req, NULL);
    wb_hist_observe(&wk_m.snapshot_seconds, wb_mono_s() - t0);
}

static void *snap_main(void *arg)
{
    snap_thread *t = arg;
    while (!atomic_load(&t->owner->stop)) {
        natsMsg *msg = NULL;
        natsStatus s = natsSubscription_NextMsg(&msg, t->sub, 250);
        if (s == NATS_TIMEOUT) continue;
        if (s != NATS_OK) {
            /* Closed connection or slow consumer: keep serving. */
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        handle(t, msg);
        natsMsg_Destroy(msg);
    }
    return NULL;
}

wk_snap *wk_snap_create(const wk_snap_cfg *cfg)
{
    assert(cfg->threads > 0 && cfg->nc && cfg->js);
    wk_snap *s = calloc(1, sizeof *s);
    if (!s) goto nomem;
    s->cfg = *cfg;
    s->t = calloc((size_t)cfg->threads, sizeof *s->t);
    if (!s->t) goto nomem;
    for (int i = 0; i < cfg->threads; i++) {
        snap_thread *t = &s->t[i];
        char who[32];
        t->owner = s;
        t->index = i;
        snprintf(who, sizeof who, "snap-%d", i);
        t->db = wk_db_create(cfg->pg_url, who);
        if (!t->db) goto err;
        natsStatus st =
            natsConnection_QueueSubscribeSync(&t->sub, cfg->nc, "wb.snapshot", "wb-workers");
        if (st == NATS_OK) st = natsSubscription_SetPendingLimits(t->sub, 1000, 64 * 1024 * 1024);
        if (st != NATS_OK) {
            wb_error("snapshot subscribe: %s", natsStatus_GetText(st));
            goto err;
        }
        if (pthread_create(&t->tid, NULL, snap_main, t)) {
            wb_syserr("pthread_create");
            goto err;
        }
        t->started = true;
    }
    natsConnection_Flush(cfg->nc);
    return s;
nomem:
    wb_error("wk_snap_create: out of memory");
err:
    wk_snap_destroy(s);
    return NULL;
}

void wk_snap_destroy(wk_snap *s)
{
    if (!s) return;
    atomic_store(&s->stop, true);
    for (int i = 0; s->t && i < s->cfg.threads; i++) {
        snap_thread *t = &s->t[i];
        if (t->started) pthread_join(t->tid, NULL);
        if (t->sub) {
            wb_sub_retire(s->cfg.nc, t->sub);
        }
        wk_db_destroy(t->db);
        wk_buf_free(&t->out);
    }
    free(s->t);
    free(s);
}
