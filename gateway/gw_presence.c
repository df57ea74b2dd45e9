/* gw_presence: who is on each board, across gateways. Publishes this
 * gateway's client list per board (on change and as a heartbeat), keeps the
 * other gateways' lists until their TTL passes, and sends local clients the
 * merged list at most every 250 ms per board. Loop thread only; owns the
 * list of boards whose presence changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"
#include "wb_log.h"

/* Presence changes are sent at once, not only on the tick, but a board's
 * clients get a new list at most this often, and the other gateways too. */
#define PRESENCE_MIN_GAP_US 250000

static gw_board *g_dirty; /* boards whose presence changed since the last flush */

void gw_presence_publish(gw_board *b, bool leaving)
{
    Wb__V1__Live l = WB__V1__LIVE__INIT;
    Wb__V1__Presence p = WB__V1__PRESENCE__INIT;
    Wb__V1__PresenceClient *items = calloc(b->nconns ? b->nconns : 1, sizeof *items);
    Wb__V1__PresenceClient **ptrs = calloc(b->nconns ? b->nconns : 1, sizeof *ptrs);
    if (!items || !ptrs) goto out;
    size_t n = 0;
    for (gw_conn *c = b->conns; c && !leaving; c = c->bnext) {
        if (!c->synced || c->closing) continue;
        wb__v1__presence_client__init(&items[n]);
        items[n].id = c->client_id;
        items[n].name = c->name;
        items[n].color = c->color;
        items[n].role = c->viewer ? "viewer" : "editor";
        ptrs[n] = &items[n];
        n++;
    }
    p.clients = ptrs;
    p.n_clients = n;
    p.ttl_ms = (uint32_t)(gw.cfg.presence_interval_ms * 3);
    p.leaving = leaving;
    l.board = b->id;
    l.gateway = (char *)gw.cfg.gateway_id;
    l.time_ms = wb_wall_ms();
    l.body_case = WB__V1__LIVE__BODY_PRESENCE;
    l.presence = &p;
    b->presence_pub = false; /* this list is the newest: a change waiting for its turn is in it */
    b->presence_pub_us = wb_mono_us();
    size_t len = wb__v1__live__get_packed_size(&l);
    uint8_t *buf = malloc(len ? len : 1);
    if (buf) {
        wb__v1__live__pack(&l, buf);
        gw_nats_publish_live(b->id, buf, len);
        free(buf);
    }
out:
    free(items);
    free(ptrs);
}

static void send_local(gw_board *b)
{
    wb_jw w;
    wb_jw_init(&w, GW_BUF_HEAD, 256);
    wb_jw_lit(&w, "{\"t\":\"presence\",\"clients\":[");
    bool first = true;
    for (gw_conn *c = b->conns; c; c = c->bnext) {
        if (!c->synced || c->closing) continue;
        if (!first) wb_jw_char(&w, ',');
        first = false;
        wb_jw_presence_client(&w, c->client_id, c->name, c->color, c->viewer ? "viewer" : "editor");
    }
    for (size_t i = 0; i < b->nremotes; i++) {
        if (!b->remotes[i].clients_json || !*b->remotes[i].clients_json) continue;
        if (!first) wb_jw_char(&w, ',');
        first = false;
        wb_jw_lit(&w, b->remotes[i].clients_json);
    }
    wb_jw_lit(&w, "]}");
    gw_buf *buf = gw_buf_from_jw(&w, GW_BUF_PRESENCE, 0);
    if (!buf) return;
    for (gw_conn *c = b->conns; c; c = c->bnext)
        if (c->synced) gw_conn_send(c, buf);
    gw_buf_unref(buf);
    b->presence_dirty = false;
}

static void mark_dirty(gw_board *b, bool publish)
{
    b->presence_dirty = true;
    if (publish) b->presence_pub = true;
    if (!b->in_dirty) {
        b->in_dirty = true;
        b->dirty_next = g_dirty;
        g_dirty = b;
    }
}

void gw_presence_changed(gw_board *b)
{
    mark_dirty(b, true);
}

void gw_presence_forget(gw_board *b)
{
    for (gw_board **pp = &g_dirty; *pp; pp = &(*pp)->dirty_next)
        if (*pp == b) {
            *pp = b->dirty_next;
            break;
        }
    for (size_t i = 0; i < b->nremotes; i++)
        free(b->remotes[i].clients_json);
    free(b->remotes);
    b->remotes = NULL;
    b->nremotes = 0;
}

void gw_presence_remote(gw_board *b, const gw_ev_presence *e)
{
    int64_t now = wb_mono_us();
    gw_remote *r = NULL;
    for (size_t i = 0; i < b->nremotes; i++)
        if (!strcmp(b->remotes[i].gateway, e->gateway)) r = &b->remotes[i];
    if (e->leaving) {
        if (r) {
            free(r->clients_json);
            *r = b->remotes[--b->nremotes];
            mark_dirty(b, false);
        }
        return;
    }
    if (!r) {
        gw_remote *nr = realloc(b->remotes, (b->nremotes + 1) * sizeof *nr);
        if (!nr) return;
        b->remotes = nr;
        r = &b->remotes[b->nremotes++];
        memset(r, 0, sizeof *r);
        snprintf(r->gateway, sizeof r->gateway, "%s", e->gateway);
        mark_dirty(b, false);
        gw_presence_publish(b, false); /* let the newcomer gateway see us at once */
    }
    const char *nj = e->clients_json ? e->clients_json : "";
    if (!r->clients_json || strcmp(r->clients_json, nj)) {
        free(r->clients_json);
        r->clients_json = strdup(nj);
        mark_dirty(b, false);
    }
    r->expires_us = now + (int64_t)e->ttl_ms * 1000;
}

void gw_presence_tick(gw_board *b, int64_t now_us)
{
    gw_presence_publish(b, false);
    for (size_t k = 0; k < b->nremotes;) {
        if (b->remotes[k].expires_us < now_us) {
            free(b->remotes[k].clients_json);
            b->remotes[k] = b->remotes[--b->nremotes];
            mark_dirty(b, false);
        } else {
            k++;
        }
    }
    if (b->presence_dirty) send_local(b);
}

/* A board's clients get a new list at most every 250 ms (joins and leaves in
 * between are coalesced), so a board that fills up with n clients costs O(n)
 * presence frames per client, not O(n^2). The list published to the other
 * gateways is held back the same way: a join storm is one publish per board
 * per 250 ms, not one per loop turn (each a list of every client). */
int64_t gw_presence_flush(void)
{
    int64_t now = wb_mono_us();
    gw_board *b = g_dirty, *later = NULL;
    g_dirty = NULL;
    while (b) {
        gw_board *next = b->dirty_next;
        if (b->presence_pub && now - b->presence_pub_us >= PRESENCE_MIN_GAP_US)
            gw_presence_publish(b, false);
        if (b->presence_dirty && now - b->presence_sent_us >= PRESENCE_MIN_GAP_US) {
            send_local(b);
            b->presence_sent_us = now;
        }
        if (b->presence_pub || b->presence_dirty) {
            b->dirty_next = later; /* stays on the list */
            later = b;
        } else {
            b->in_dirty = false;
            b->dirty_next = NULL;
        }
        b = next;
    }
    g_dirty = later;
    return later ? PRESENCE_MIN_GAP_US / 2000 : 0;
}
