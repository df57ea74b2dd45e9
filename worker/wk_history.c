/* wk_history: element visibility and updates as of a seq, folded from the op
 * log's erase/restore/clear/update ops (see wk_history.h). The caller's snapshot thread
 * owns the wk_history and the database connection. */
#include "wk_history.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb_log.h"
#include "whiteboard.pb-c.h"

void wk_history_init(wk_history *h)
{
    memset(h, 0, sizeof *h);
    wb_map_init(&h->vis);
    wb_map_init(&h->upd);
}

void wk_history_free(wk_history *h)
{
    for (size_t i = 0; i < h->vis.cap; i++)
        if (h->vis.slots[i].key) free(h->vis.slots[i].val);
    wb_map_free(&h->vis);
    for (size_t i = 0; i < h->upd.cap; i++)
        if (h->upd.slots[i].key) free(h->upd.slots[i].val);
    wb_map_free(&h->upd);
    for (size_t i = 0; i < h->nops; i++)
        wb__v1__op__free_unpacked(h->ops[i], NULL);
    free(h->ops);
    memset(h, 0, sizeof *h);
}

/* An update op, taken by h (also on failure): per group, the newest one
 * wins (ops come in seq order). */
static int apply_update(wk_history *h, uint64_t seq, Wb__V1__Op *op)
{
    const Wb__V1__Update *u = op->update;
    if (h->nops == h->capops) {
        size_t cap = h->capops ? 2 * h->capops : 16;
        Wb__V1__Op **v = realloc(h->ops, cap * sizeof *v);
        if (!v) {
            wb__v1__op__free_unpacked(op, NULL);
            return -1;
        }
        h->ops = v;
        h->capops = cap;
    }
    h->ops[h->nops++] = op;
    wk_hupd *e = wb_map_get(&h->upd, u->id, strlen(u->id));
    if (!e) {
        if (!(e = calloc(1, sizeof *e))) return -1;
        if (wb_map_put(&h->upd, u->id, strlen(u->id), e) < 0) {
            free(e);
            return -1;
        }
    }
    unsigned groups = wb_update_groups(u);
    for (int g = 0; g < WB_G__COUNT; g++)
        if (groups & (1u << g)) {
            e->seq[g] = seq;
            e->val[g] = u;
        }
    return 0;
}

const wk_vis *wk_history_get(const wk_history *h, const char *stroke_id)
{
    return wb_map_get(&h->vis, stroke_id, strlen(stroke_id));
}

char *wk_history_restored_after(const wk_history *h, uint64_t seq)
{
    size_t cap = 3;
    for (size_t i = 0; i < h->vis.cap; i++) {
        const wk_vis *v = h->vis.slots[i].val;
        if (h->vis.slots[i].key && !v->hidden && v->seq > seq) cap += h->vis.slots[i].klen + 1;
    }
    char *out = malloc(cap), *p = out;
    if (!out) return NULL;
    *p++ = '{';
    for (size_t i = 0; i < h->vis.cap; i++) {
        const wk_vis *v = h->vis.slots[i].val;
        if (!h->vis.slots[i].key || v->hidden || v->seq <= seq) continue;
        if (p > out + 1) *p++ = ',';
        memcpy(p, h->vis.slots[i].key, h->vis.slots[i].klen);
        p += h->vis.slots[i].klen;
    }
    *p++ = '}';
    *p = 0;
    return out;
}

static uint64_t be64(const char *p)
{
    uint32_t hi, lo;
    memcpy(&hi, p, 4);
    memcpy(&lo, p + 4, 4);
    return ((uint64_t)ntohl(hi) << 32) | ntohl(lo);
}

/* Ops come in seq order, so the last one naming a stroke wins. */
static int apply(wk_history *h, uint64_t seq, const Wb__V1__Op *op)
{
    bool hidden = op->kind == WB__V1__KIND__KIND_ERASE;
    for (size_t i = 0; i < op->n_ids; i++) {
        const char *id = op->ids[i];
        wk_vis *v = wb_map_get(&h->vis, id, strlen(id));
        if (!v) {
            if (!(v = malloc(sizeof *v))) return -1;
            if (wb_map_put(&h->vis, id, strlen(id), v) < 0) {
                free(v);
                return -1;
            }
        }
        v->seq = seq;
        v->hidden = hidden;
    }
    return 0;
}

const char *wk_history_load(wk_history *h, wk_db *db, const char *board, uint64_t at)
{
    char atbuf[24];
    snprintf(atbuf, sizeof atbuf, "%llu", (unsigned long long)at);
    const char *vals[] = {board, atbuf};
    PGresult *r = PQexecParams(wk_db_conn(db),
                               "SELECT seq, kind, payload FROM ops WHERE board = $1 AND seq <= $2 "
                               "AND kind <> 1 AND kind IN (2, 3, 4, 7) ORDER BY seq",
                               2, NULL, vals, NULL, NULL, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        wk_db_fail(db, r, "history ops query");
        PQclear(r);
        return "database unavailable";
    }
    const char *err = NULL;
    for (int i = 0, n = PQntuples(r); i < n && !err; i++) {
        uint64_t seq = be64(PQgetvalue(r, i, 0));
        uint16_t kbe;
        memcpy(&kbe, PQgetvalue(r, i, 1), 2);
        int kind = (int16_t)ntohs(kbe);
        if (kind == WB__V1__KIND__KIND_CLEAR) {
            if (seq > h->max_clear) h->max_clear = seq;
            continue;
        }
        Wb__V1__Op *op = wb__v1__op__unpack(NULL, (size_t)PQgetlength(r, i, 2),
                                            (const uint8_t *)PQgetvalue(r, i, 2));
        if (!op) {
            wb_warn("history board=%s: undecodable op at seq %llu (skipped)", board,
                    (unsigned long long)seq);
            continue;
        }
        if (op->kind == WB__V1__KIND__KIND_UPDATE && op->update &&
            wb_update_check(op->update, false) == 0) {
            if (apply_update(h, seq, op) < 0) err = "out of memory";
            continue; /* taken by h: it points into it */
        }
        if ((op->kind == WB__V1__KIND__KIND_ERASE || op->kind == WB__V1__KIND__KIND_RESTORE) &&
            apply(h, seq, op) < 0)
            err = "out of memory";
        wb__v1__op__free_unpacked(op, NULL);
    }
    PQclear(r);
    if (err) wb_error("history board=%s: %s", board, err);
    return err;
}
