/* bench_config: wb-bench's options as one config table (common/wb_config:
 * --flag, WB_BENCH_* environment variable, default, bounds), checked
 * together, and the target URL parsed. Main thread, at start. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "wb_config.h"
#include "wb_log.h"
#include "wb_valid.h"

/* The table's destinations (wb_config types); copied into B.cfg once checked. */
static struct {
    const char *url, *prefix, *json, *label, *subprotocol, *worker_metrics, *evlib;
    long long conns, boards, drawers, inflight, batch, points, connect_rate, connect_inflight,
        lws_log, threads;
    double rate, cursor_rate, duration, idle, drain, connect_timeout;
    wb_cfg_list pids;
    bool quiet;
} o;

static const wb_cfg_item g_items[] = {
    {"url", "WB_BENCH_URL", WB_CFG_STR, "ws://127.0.0.1:9001", 0, 0, &o.url,
     "ws:// or wss:// (self-signed allowed); path <url path>/ws/{board} unless it has {board}"},
    {"conns", "WB_BENCH_CONNS", WB_CFG_INT, "100", 1, 200000, &o.conns, "connections"},
    {"boards", "WB_BENCH_BOARDS", WB_CFG_INT, "10", 1, 200000, &o.boards,
     "boards; connection i joins board i%B"},
    {"drawers", "WB_BENCH_DRAWERS", WB_CFG_INT, "-1", -1, 200000, &o.drawers,
     "connections that draw, spread over the boards (-1: one per board)"},
    {"rate", "WB_BENCH_RATE", WB_CFG_DOUBLE, "1", 0, 1000000, &o.rate,
     "stroke ops per second per drawer (0: none)"},
    {"cursor-rate", "WB_BENCH_CURSOR_RATE", WB_CFG_DOUBLE, "0", 0, 1000000, &o.cursor_rate,
     "cursor messages per second per drawer"},
    {"inflight", "WB_BENCH_INFLIGHT", WB_CFG_INT, "0", 0, 1000000, &o.inflight,
     "each drawer keeps at most this many strokes unacked (--rate caps; 0: off)"},
    {"batch", "WB_BENCH_BATCH", WB_CFG_INT, "1", 1, 1024, &o.batch,
     "a drawer sends up to this many due messages per frame, as one JSON array (1: one object "
     "per frame)"},
    {"points", "WB_BENCH_POINTS", WB_CFG_INT, "8", 1, 400, &o.points, "points per stroke"},
    {"duration", "WB_BENCH_DURATION", WB_CFG_DOUBLE, "10", 0, 86400, &o.duration,
     "load phase seconds"},
    {"idle", "WB_BENCH_IDLE", WB_CFG_DOUBLE, "2", 0, 86400, &o.idle,
     "idle seconds after connecting, before load"},
    {"drain", "WB_BENCH_DRAIN", WB_CFG_DOUBLE, "3", 0, 86400, &o.drain,
     "max seconds to wait for in-flight messages"},
    {"connect-rate", "WB_BENCH_CONNECT_RATE", WB_CFG_INT, "1000", 1, 1000000, &o.connect_rate,
     "new connections per second"},
    {"connect-inflight", "WB_BENCH_CONNECT_INFLIGHT", WB_CFG_INT, "200", 1, 1000000,
     &o.connect_inflight, "max handshakes in flight"},
    {"connect-timeout", "WB_BENCH_CONNECT_TIMEOUT", WB_CFG_DOUBLE, "60", 0, 86400,
     &o.connect_timeout, "give up connecting after this many seconds"},
    {"pid", "WB_BENCH_PID", WB_CFG_LIST, "", 0, 0, &o.pids,
     "NAME=PID: sample CPU and RSS of a server process (repeatable, max 8)"},
    {"worker-metrics", "WB_BENCH_WORKER_METRICS", WB_CFG_STR, "", 0, 0, &o.worker_metrics,
     "http://.../metrics of the worker (lag metrics recorded)"},
    {"prefix", "WB_BENCH_PREFIX", WB_CFG_STR, "bench", 0, 0, &o.prefix,
     "board id prefix (1..40 of [A-Za-z0-9_-]); boards are P-<run>-<b>"},
    {"subprotocol", "WB_BENCH_SUBPROTOCOL", WB_CFG_STR, "wb.v1", 0, 0, &o.subprotocol,
     "Sec-WebSocket-Protocol to offer (\"\": none)"},
    {"json", "WB_BENCH_JSON", WB_CFG_STR, "", 0, 0, &o.json, "write the full report as JSON"},
    {"label", "WB_BENCH_LABEL", WB_CFG_STR, "", 0, 0, &o.label, "label stored in the JSON"},
    {"threads", "WB_BENCH_THREADS", WB_CFG_INT, "1", 1, 64, &o.threads,
     "service threads, each with its own event loop and every T-th connection"},
    {"lws-log", "WB_BENCH_LWS_LOG", WB_CFG_INT, "1", 0, 65535, &o.lws_log,
     "libwebsockets log bitmask (1: errors)"},
    {"evlib", "WB_BENCH_EVLIB", WB_CFG_STR, "uv", 0, 0, &o.evlib,
     "event loop: uv (falls back to poll) or poll"},
    {"quiet", "WB_BENCH_QUIET", WB_CFG_BOOL, "false", 0, 0, &o.quiet,
     "no progress lines on stderr"},
};

static int parse_url(const char *url)
{
    const char *p;
    if (!strncmp(url, "ws://", 5)) {
        B.cfg.tls = 0;
        p = url + 5;
        B.cfg.port = 80;
    } else if (!strncmp(url, "wss://", 6)) {
        B.cfg.tls = 1;
        p = url + 6;
        B.cfg.port = 443;
    } else {
        wb_error("bench: url %s: must start with ws:// or wss://", url);
        return -1;
    }
    const char *slash = strchr(p, '/');
    size_t hl = slash ? (size_t)(slash - p) : strlen(p);
    if (!hl || hl >= sizeof B.cfg.host) {
        wb_error("bench: url %s: bad host", url);
        return -1;
    }
    memcpy(B.cfg.host, p, hl);
    B.cfg.host[hl] = 0;
    snprintf(B.cfg.hostport, sizeof B.cfg.hostport, "%s", B.cfg.host);
    char *colon = strrchr(B.cfg.host, ':');
    if (colon) {
        *colon = 0;
        B.cfg.port = atoi(colon + 1);
        if (B.cfg.port <= 0 || B.cfg.port > 65535) {
            wb_error("bench: url %s: bad port", url);
            return -1;
        }
    }
    /* path template: "{board}" is replaced; without it "/ws/{board}" is appended */
    const char *path = slash ? slash : "";
    if (strstr(path, "{board}"))
        snprintf(B.cfg.path, sizeof B.cfg.path, "%s", path);
    else {
        size_t pl = strlen(path);
        while (pl && path[pl - 1] == '/')
            pl--;
        snprintf(B.cfg.path, sizeof B.cfg.path, "%.*s/ws/{board}", (int)pl, path);
    }
    return 0;
}

static int take_pids(void)
{
    if (o.pids.n > MAX_PIDS) {
        wb_error("bench: at most %d --pid", MAX_PIDS);
        return -1;
    }
    for (int i = 0; i < o.pids.n; i++) {
        const char *v = o.pids.v[i], *eq = strchr(v, '=');
        if (!eq || eq == v || atoi(eq + 1) <= 0) {
            wb_error("bench: --pid %s: wants NAME=PID", v);
            return -1;
        }
        B.cfg.pid_name[B.cfg.pid_n] = strndup(v, (size_t)(eq - v));
        if (!B.cfg.pid_name[B.cfg.pid_n]) return -1;
        B.cfg.pid[B.cfg.pid_n++] = atoi(eq + 1);
    }
    return 0;
}

int bench_config_load(int argc, char **argv)
{
    int rc = wb_config_load(g_items, sizeof g_items / sizeof *g_items, argc, argv, "wb-bench");
    if (rc) return rc;
    bench_cfg *c = &B.cfg;
    c->url = o.url;
    c->conns = (int)o.conns;
    c->boards = (int)o.boards;
    c->drawers = o.drawers < 0 ? c->boards : (int)o.drawers;
    c->rate = o.rate;
    c->cursor_rate = o.cursor_rate;
    c->inflight = (int)o.inflight;
    c->batch = (int)o.batch;
    c->duration = o.duration;
    c->idle = o.idle;
    c->drain = o.drain;
    c->connect_timeout = o.connect_timeout;
    c->connect_rate = (int)o.connect_rate;
    c->connect_inflight = (int)o.connect_inflight;
    c->points = (int)o.points;
    c->prefix = o.prefix;
    c->json = *o.json ? o.json : NULL;
    c->label = *o.label ? o.label : NULL;
    c->subprotocol = o.subprotocol;
    c->worker_metrics = *o.worker_metrics ? o.worker_metrics : NULL;
    c->evlib = o.evlib;
    c->lws_log = (int)o.lws_log;
    c->threads = (int)o.threads < c->conns ? (int)o.threads : c->conns;
    c->quiet = o.quiet;
    if (c->boards > c->conns || c->drawers > c->conns) {
        wb_error("bench: need boards <= conns and drawers <= conns");
        return -1;
    }
    if (strlen(c->prefix) > 40 || !wb_valid_id(c->prefix, strlen(c->prefix))) {
        wb_error("bench: --prefix must be 1..40 chars of [A-Za-z0-9_-]");
        return -1;
    }
    if (take_pids() < 0) return -1;
    return parse_url(c->url);
}
