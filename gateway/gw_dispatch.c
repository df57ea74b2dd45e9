/* gw_dispatch: what the loop runs, by kind: each mailbox event goes to the
 * module that handles it, the periodic tick to every module with timeouts,
 * and the end of each turn flushes presence, the commit round and the
 * clients' writes. The loop (gw_loop.c) calls this only through
 * gw_dispatch_hooks, so calls go down from here and never back up into the
 * loop's users. Loop thread only. */
#include "gw.h"

static void on_event(gw_event *e)
{
    gw_board *b;
    switch (e->type) {
    case GW_EV_OP:
        gw_board_on_op(&e->u.op);
        break;
    case GW_EV_LIVE:
        if (e->u.live.buf && (b = gw_board_get(e->u.live.board, false)))
            gw_board_fanout_live(b, NULL, e->u.live.buf);
        break;
    case GW_EV_PRESENCE:
        if ((b = gw_board_get(e->u.presence.board, false))) gw_presence_remote(b, &e->u.presence);
        break;
    case GW_EV_PUBACK:
        gw_commit_on_puback(&e->u.puback);
        gw_ack_on_puback(&e->u.puback);
        break;
    case GW_EV_BATCH:
        gw_commit_on_batch(&e->u.batch);
        break;
    case GW_EV_OPID:
        gw_opid_on_claim(&e->u.opid);
        break;
    case GW_EV_OPID_DONE:
        gw_opid_on_done(&e->u.opid_done);
        break;
    case GW_EV_REPLAY:
        gw_board_on_replay(&e->u.replay);
        break;
    case GW_EV_REPUBLISH:
        gw_ack_on_republish(&e->u.republish);
        break;
    case GW_EV_JOIN:
        gw_board_on_join(&e->u.join);
        break;
    case GW_EV_API:
        gw_http_on_api(&e->u.api);
        break;
    case GW_EV_RESOLVED:
        gw_ws_on_resolved(&e->u.resolved);
        break;
    case GW_EV_FILL:
        gw_board_on_fill(&e->u.fill);
        break;
    case GW_EV_NATS:
        gw_commit_on_nats(e->u.nats.up);
        if (e->u.nats.up) gw_boards_resync_all();
        break;
    }
}

static void tick_board(gw_board *b, void *arg)
{
    gw_presence_tick(b, *(int64_t *)arg);
}

/* Once per presence interval: heartbeats, expiry, pending-ack and round
 * timeouts, stalled boards, keepalive. */
static void on_tick(int64_t now)
{
    gw_boards_foreach(tick_board, &now);
    gw_ack_tick(now);
    gw_opid_tick(now);
    gw_commit_tick(now);
    gw_boards_close_stalled(now);
    gw_ws_keepalive(now);
}

/* Presence lists go out at once, but at most every 250 ms per board (a board
 * that must wait says when); the turn's op-id questions go out as one
 * lookup; the durable ops this turn collected go out as
 * one round if the previous one is done; every client that got frames gets
 * them in one write, except those whose pace is not up yet (they say when). */
static int64_t on_turn_end(int64_t now)
{
    int64_t again_ms = gw_presence_flush();
    gw_opid_flush();
    gw_commit_flush();
    int64_t due = gw_ws_flush(now, gw.cfg.write_pace_us, gw.cfg.cursor_window_ms * 1000);
    if (again_ms > 0 && (!due || now + again_ms * 1000 < due)) due = now + again_ms * 1000;
    return due;
}

const gw_loop_hooks gw_dispatch_hooks = {
    .event = on_event,
    .tick = on_tick,
    .turn_end = on_turn_end,
};
