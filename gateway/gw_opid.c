/* gw_opid: "was this op id stored before?" asked before every durable op is
 * published. JetStream's own duplicate window (dedup-window-s) answers
 * resends for a while; after it, only stream WB_OPIDS knows (the worker
 * claims every op id it commits: "wb.opid.{board}.{op}" = the first seq).
 *
 * The questions of one loop turn go out together, as ONE batched direct get
 * (ADR-31 `multi_last`: the last message of each listed subject) of up to
 * LOOKUP_MAX subjects, at the end of the turn. nats-server answers with one
 * message per claimed op id, then an end-of-batch status (204, or 404 when
 * none was claimed). One request per turn instead of one per op: under load
 * that is one write and one round trip for dozens of ops, and at low load an
 * op waits for nothing more than before (its turn ends at once).
 *
 * Answers come on a nats.c thread and go to the loop as GW_EV_OPID (a claimed
 * op id) and GW_EV_OPID_DONE (the end of one lookup); the loop then answers
 * every op of that lookup through the callback given to gw_opid_start: with
 * the stored seq, or seq 0 (never claimed: commit it now), or an error.
 * Every function here runs on the loop thread (gw_opid_stop too: at the
 * start of the shutdown, before NATS stops), on_reply on a nats.c thread.
 * Owns the reply subscription, the ops asked this turn and the lookups in
 * flight.
 * Calls: nats, queue. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"
#include "wb_log.h"
#include "wb_subreap.h"

/* Subjects per request (nats-server answers at most 1024 per request). */
#define LOOKUP_MAX 256
/* Ops asked and not yet answered, at most (beyond: `unavailable` at once). */
#define WANT_MAX 65536
/* A lookup unanswered this long fails its ops (`unavailable`: they resend). */
#define LOOKUP_TIMEOUT_US (3 * 1000000LL)

/* One op asked about. */
typedef struct gw_opid_q {
    char board[WB_ID_MAX + 1];
    char op_id[WB_ID_MAX + 1];
    bool found; /* a claim came: already answered */
} gw_opid_q;

/* One request in flight: its ops, in the order they came. */
typedef struct gw_lookup {
    struct gw_lookup *next;
    uint64_t id;
    int64_t t0_us;
    size_t n;
    gw_opid_q q[];
} gw_lookup;

static natsSubscription *g_sub;
static char g_prefix[96]; /* the reply inbox; replies go to {prefix}.{lookup id} */
static gw_opid_q *g_want; /* asked this turn */
static size_t g_nwant, g_capwant, g_inflight_ops;
static gw_lookup *g_lookups; /* in flight, oldest first */
static uint64_t g_next_id;
static gw_opid_answer_fn g_answer;
static bool g_stopped; /* gw_opid_stop ran: every check is refused */

void gw_opid_start(gw_opid_answer_fn answer)
{
    g_answer = answer;
}

/* {prefix}.{id} -> id. Returns 0 or -1. */
static int parse_reply(const char *subj, uint64_t *id)
{
    size_t pl = strlen(g_prefix);
    if (strncmp(subj, g_prefix, pl) || subj[pl] != '.') return -1;
    char *end = NULL;
    *id = strtoull(subj + pl + 1, &end, 10);
    return end && !*end && *id ? 0 : -1;
}

/* "wb.opid.{board}.{op}" -> board, op. Returns 0 or -1. */
static int parse_claim(const char *subj, char board[WB_ID_MAX + 1], char op[WB_ID_MAX + 1])
{
    static const char pre[] = "wb.opid.";
    if (!subj || strncmp(subj, pre, sizeof pre - 1)) return -1;
    const char *b = subj + sizeof pre - 1, *dot = strchr(b, '.');
    if (!dot || !wb_valid_id(b, (size_t)(dot - b)) || !wb_valid_id(dot + 1, strlen(dot + 1)))
        return -1;
    memcpy(board, b, (size_t)(dot - b));
    board[dot - b] = 0;
    snprintf(op, WB_ID_MAX + 1, "%s", dot + 1);
    return 0;
}

static void on_reply(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    uint64_t id;
    gw_event *ev = NULL;
    const char *status = NULL, *claim = NULL;
    if (parse_reply(natsMsg_GetSubject(msg), &id) < 0) goto done;
    natsMsgHeader_Get(msg, "Status", &status);
    if (!status || !*status) {
        /* a claimed op id: its subject names it, its data is the seq */
        ev = gw_event_new(GW_EV_OPID);
        if (!ev) goto done;
        gw_ev_opid *e = &ev->u.opid;
        char val[24] = "";
        int n = natsMsg_GetDataLength(msg);
        natsMsgHeader_Get(msg, "Nats-Subject", &claim);
        if (parse_claim(claim, e->board, e->op_id) < 0 || n <= 0 || n >= (int)sizeof val) {
            wb_warn("op id lookup %llu: unreadable claim %s", (unsigned long long)id,
                    claim ? claim : "(no subject)");
            gw_event_free(ev);
            goto done;
        }
        memcpy(val, natsMsg_GetData(msg), (size_t)n);
        e->lookup = id;
        e->seq = strtoull(val, NULL, 10);
    } else {
        ev = gw_event_new(GW_EV_OPID_DONE);
        if (!ev) goto done;
        gw_ev_opid_done *e = &ev->u.opid_done;
        e->lookup = id;
        /* 204: end of the claims; 404: none claimed; no responders: no
         * WB_OPIDS yet (no worker ever ran), so nothing was claimed either */
        if (strcmp(status, "204") && strcmp(status, "404") && !natsMsg_IsNoResponders(msg)) {
            const char *desc = NULL;
            natsMsgHeader_Get(msg, "Description", &desc);
            wb_warn("op id lookup %llu: status %s %s", (unsigned long long)id, status,
                    desc ? desc : "");
            e->err = WB_E_UNAVAILABLE;
        }
    }
    gw_queue_push(ev);
done:
    natsMsg_Destroy(msg);
}

static int opid_sub(void)
{
    natsInbox *ib = NULL;
    char subj[128];
    if (natsInbox_Create(&ib) != NATS_OK) {
        wb_error("op id lookup: cannot create an inbox");
        return -1;
    }
    snprintf(g_prefix, sizeof g_prefix, "%s", (const char *)ib);
    natsInbox_Destroy(ib);
    snprintf(subj, sizeof subj, "%s.*", g_prefix);
    natsStatus s = natsConnection_Subscribe(&g_sub, gw_nats_conn(), subj, on_reply, NULL);
    if (s == NATS_OK) s = natsSubscription_SetPendingLimits(g_sub, 1 << 20, 64 << 20);
    if (s != NATS_OK) {
        wb_error("op id lookup: subscribe %s: %s", subj, natsStatus_GetText(s));
        natsSubscription_Destroy(g_sub);
        g_sub = NULL;
        return -1;
    }
    return 0;
}

int gw_opid_check(const char *board, const char *op_id)
{
    if (g_stopped || !gw_nats_ok() || (!g_sub && opid_sub() < 0)) return WB_E_UNAVAILABLE;
    if (g_nwant + g_inflight_ops >= WANT_MAX) {
        wb_warn("op id lookup: %zu ops waiting: refusing op=%s", g_nwant + g_inflight_ops, op_id);
        return WB_E_UNAVAILABLE;
    }
    if (g_nwant == g_capwant) {
        size_t nc = g_capwant ? g_capwant * 2 : 64;
        gw_opid_q *nw = realloc(g_want, nc * sizeof *nw);
        if (!nw) return WB_E_UNAVAILABLE;
        g_want = nw;
        g_capwant = nc;
    }
    gw_opid_q *q = &g_want[g_nwant++];
    snprintf(q->board, sizeof q->board, "%s", board);
    snprintf(q->op_id, sizeof q->op_id, "%s", op_id);
    q->found = false;
    return 0;
}

/* Answers every op of q[0..n) that no claim answered yet: seq 0 (err 0:
 * never claimed) or err. */
static void answer_rest(const gw_opid_q *q, size_t n, int err)
{
    for (size_t i = 0; i < n; i++)
        if (!q[i].found) g_answer(q[i].board, q[i].op_id, 0, err);
}

/* Sends q[0..n) as one request. Returns the lookup, or NULL (nothing sent). */
static gw_lookup *send_lookup(const gw_opid_q *q, size_t n)
{
    gw_lookup *l = malloc(sizeof *l + n * sizeof *q);
    /* {"multi_last":["wb.opid.B.O",...]}: ids are [A-Za-z0-9_-], no escaping */
    size_t cap = 32 + n * (2 * WB_ID_MAX + 16), len = 0;
    char *body = malloc(cap);
    char subj[128], reply[128];
    if (!l || !body) goto fail;
    len = (size_t)snprintf(body, cap, "{\"multi_last\":[");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(body + len, cap - len, "%s\"wb.opid.%s.%s\"", i ? "," : "",
                                q[i].board, q[i].op_id);
    len += (size_t)snprintf(body + len, cap - len, "]}");
    l->id = ++g_next_id;
    l->t0_us = wb_mono_us();
    l->n = n;
    l->next = NULL;
    memcpy(l->q, q, n * sizeof *q);
    snprintf(subj, sizeof subj, "$JS.API.DIRECT.GET.%s", WB_OPIDS_STREAM);
    snprintf(reply, sizeof reply, "%s.%llu", g_prefix, (unsigned long long)l->id);
    natsStatus s = natsConnection_PublishRequest(gw_nats_conn(), subj, reply, body, (int)len);
    if (s != NATS_OK) {
        wb_warn("op id lookup of %zu ops: %s", n, natsStatus_GetText(s));
        goto fail;
    }
    free(body);
    return l;
fail:
    free(body);
    free(l);
    return NULL;
}

void gw_opid_flush(void)
{
    if (!g_nwant) return;
    gw_lookup **tail = &g_lookups;
    while (*tail)
        tail = &(*tail)->next;
    for (size_t off = 0; off < g_nwant;) {
        size_t n = g_nwant - off < LOOKUP_MAX ? g_nwant - off : LOOKUP_MAX;
        gw_lookup *l = g_sub ? send_lookup(g_want + off, n) : NULL;
        if (l) {
            *tail = l;
            tail = &l->next;
            g_inflight_ops += n;
            atomic_fetch_add(&gw_m.opid_lookups, 1);
            atomic_fetch_add(&gw_m.opid_lookup_ops, n);
        } else {
            answer_rest(g_want + off, n, WB_E_UNAVAILABLE);
        }
        off += n;
    }
    g_nwant = 0;
}

static gw_lookup *lookup_find(uint64_t id)
{
    gw_lookup *l = g_lookups;
    while (l && l->id != id)
        l = l->next;
    return l;
}

/* Unlinks and frees l (which is in the list). */
static void lookup_drop(gw_lookup *l)
{
    gw_lookup **pp = &g_lookups;
    while (*pp != l)
        pp = &(*pp)->next;
    *pp = l->next;
    g_inflight_ops -= l->n;
    free(l);
}

void gw_opid_on_claim(const gw_ev_opid *e)
{
    gw_lookup *l = lookup_find(e->lookup);
    if (!l) return; /* timed out already */
    bool asked = false;
    for (size_t i = 0; i < l->n; i++) {
        gw_opid_q *q = &l->q[i];
        if (q->found || strcmp(q->op_id, e->op_id) || strcmp(q->board, e->board)) continue;
        q->found = asked = true;
    }
    if (asked) g_answer(e->board, e->op_id, e->seq, 0);
}

void gw_opid_on_done(const gw_ev_opid_done *e)
{
    gw_lookup *l = lookup_find(e->lookup);
    if (!l) return;
    answer_rest(l->q, l->n, e->err);
    lookup_drop(l);
}

void gw_opid_tick(int64_t now_us)
{
    /* oldest first: stop at the first one still in time */
    while (g_lookups && now_us - g_lookups->t0_us >= LOOKUP_TIMEOUT_US) {
        gw_lookup *l = g_lookups;
        wb_warn("op id lookup %llu of %zu ops unanswered: the clients resend",
                (unsigned long long)l->id, l->n);
        answer_rest(l->q, l->n, WB_E_UNAVAILABLE);
        lookup_drop(l);
    }
}

void gw_opid_stop(void)
{
    if (g_stopped) return;
    g_stopped = true;
    if (g_sub) wb_sub_retire(gw_nats_conn(), g_sub);
    g_sub = NULL;
    /* what is still asked fails (`unavailable`: the client sends it again,
     * to another gateway); answers that come later find no lookup */
    if (g_nwant || g_lookups)
        wb_info("op id lookup: stopping with %zu ops asked and %zu in lookups: unavailable",
                g_nwant, g_inflight_ops);
    answer_rest(g_want, g_nwant, WB_E_UNAVAILABLE);
    g_nwant = 0;
    while (g_lookups) {
        answer_rest(g_lookups->q, g_lookups->n, WB_E_UNAVAILABLE);
        lookup_drop(g_lookups);
    }
    free(g_want);
    g_want = NULL;
    g_capwant = 0;
}
