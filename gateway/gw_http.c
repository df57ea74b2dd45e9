/* gw_http: the gateway's plain HTTP routes (loop thread only):
 * /healthz, /metrics, /api/boards/{board}[?at=SEQ] (answered later, when
 * the sync pool has built the snapshot; {board} may be a view id), and the client's static files
 * with an SPA fallback to index.html. Owns nothing beyond the response being written. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gw.h"
#include "wb_log.h"

#define CHUNK (64 * 1024)

/* REST snapshots being built by the sync pool (bounded by api-max-inflight,
 * so a flood of them cannot occupy the pool that joins need). */
static long long g_api_inflight;

static const char g_placeholder[] =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>Whiteboard</title></head>"
    "<body><h1>Whiteboard gateway</h1><p>The client is not built yet (make "
    "client).</p></body></html>";

/* Writes a complete small response. Returns what the callback should return. */
static int respond(struct lws *wsi, unsigned int status, const char *ctype, const char *body,
                   size_t len, const char *cache)
{
    unsigned char hdr[LWS_PRE + 1024], *start = hdr + LWS_PRE, *p = start,
                                       *end = hdr + sizeof hdr - 1;
    if (lws_add_http_common_headers(wsi, status, ctype, len, &p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)cache, (int)strlen(cache), &p, end) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    unsigned char *b = malloc(LWS_PRE + len + 1);
    if (!b) return -1;
    memcpy(b + LWS_PRE, body, len);
    int w = lws_write(wsi, b + LWS_PRE, len, LWS_WRITE_HTTP_FINAL);
    free(b);
    if (w < (int)len) return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int respond_text(struct lws *wsi, unsigned int status, const char *text)
{
    return respond(wsi, status, "text/plain; charset=utf-8", text, strlen(text), "no-store");
}

static int respond_json_error(struct lws *wsi, unsigned int status, const char *code,
                              const char *msg)
{
    char body[256];
    int n = snprintf(body, sizeof body, "{\"error\":\"%s\",\"msg\":\"%s\"}", code, msg);
    return respond(wsi, status, "application/json", body, (size_t)n, "no-store");
}

static const char *mime_for(const char *path)
{
    static const struct {
        const char *ext, *mime;
    } m[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".json", "application/json"},
        {".webmanifest", "application/manifest+json"},
        {".woff2", "font/woff2"},
        {".map", "application/json"},
        {".txt", "text/plain; charset=utf-8"},
        {".wasm", "application/wasm"},
        {".jpg", "image/jpeg"},
        {".webp", "image/webp"},
    };
    const char *dot = strrchr(path, '.');
    if (dot)
        for (size_t i = 0; i < sizeof m / sizeof *m; i++)
            if (!strcmp(dot, m[i].ext)) return m[i].mime;
    return "application/octet-stream";
}

static int serve_file(struct lws *wsi, const char *file, const char *cache)
{
    unsigned char extra[256], *p = extra, *end = extra + sizeof extra - 1;
    if (lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)cache, (int)strlen(cache), &p, end))
        return -1;
    int n = lws_serve_http_file(wsi, file, mime_for(file), (const char *)extra, (int)(p - extra));
    if (n < 0 || (n > 0 && lws_http_transaction_completed(wsi))) return -1;
    return 0;
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int serve_static(struct lws *wsi, const char *path)
{
    char file[1024];
    const char *dir = gw.cfg.static_dir;
    if (strstr(path, "..") || strchr(path, '\\')) return respond_text(wsi, 400, "bad path\n");
    bool asset = !strncmp(path, "/assets/", 8);
    if (strcmp(path, "/") && strlen(path) < 700) {
        snprintf(file, sizeof file, "%s%s", dir, path);
        if (is_file(file))
            return serve_file(wsi, file,
                              asset ? "public, max-age=31536000, immutable" : "no-cache");
    }
    if (asset) return respond_text(wsi, 404, "not found\n");
    snprintf(file, sizeof file, "%s/index.html", dir);
    if (is_file(file)) return serve_file(wsi, file, "no-cache");
    return respond(wsi, 200, "text/html; charset=utf-8", g_placeholder, sizeof g_placeholder - 1,
                   "no-cache");
}

int gw_http_request(struct lws *wsi, gw_conn *c, const char *path)
{
    if (!c) return -1;
    memset(c, 0, sizeof *c);
    c->kind = GW_CONN_HTTP;
    c->wsi = wsi;
    if (!strcmp(path, "/healthz")) {
        bool ok = gw_nats_ok() && !atomic_load(&gw.draining);
        return respond_text(wsi, ok ? 200 : 503,
                            ok ? "ok\n"
                               : (atomic_load(&gw.draining) ? "draining\n" : "nats unavailable\n"));
    }
    if (!strcmp(path, "/metrics")) {
        wb_jw w;
        wb_jw_init(&w, 0, 8192);
        gw_metrics_render(&w, gw_board_count(), gw_nats_ok(), atomic_load(&gw.draining));
        int rc = w.oom ? respond_text(wsi, 500, "out of memory\n")
                       : respond(wsi, 200, "text/plain; version=0.0.4", wb_jw_text(&w), w.len,
                                 "no-store");
        wb_jw_free(&w);
        return rc;
    }
    if (!strncmp(path, "/api/boards/", 12)) {
        const char *b = path + 12;
        if (!wb_valid_id(b, strlen(b)))
            return respond_json_error(wsi, 400, "bad_board", "invalid board id");
        if (!gw_nats_ok())
            return respond_json_error(wsi, 503, "unavailable", "NATS is unavailable");
        char arg[64];
        bool has_at = false;
        unsigned long long at = 0;
        const char *av = lws_get_urlarg_by_name(wsi, "at=", arg, sizeof arg);
        if (av) {
            char *end;
            errno = 0;
            at = strtoull(av, &end, 10);
            if (end == av || *end || errno || *av < '0' || *av > '9')
                return respond_json_error(wsi, 400, "bad_at", "at must be a seq (0 or more)");
            has_at = true;
        }
        if (g_api_inflight >= gw.cfg.api_max_inflight)
            return respond_json_error(wsi, 503, "unavailable", "too many snapshots at once; retry");
        g_api_inflight++;
        c->serial = ++gw.next_serial;
        c->http_wait = true;
        gw_conn_register(c);
        gw_sync_api(b, c->serial, has_at, at);
        return 0;
    }
    if (!strncmp(path, "/ws/", 4) || !strcmp(path, "/ws")) {
        const char *b = path + 4;
        if (strlen(path) <= 4 || !wb_valid_id(b, strlen(b)))
            return respond_text(wsi, 400, "bad board id\n");
        return respond_text(wsi, 400, "WebSocket upgrade required\n");
    }
    if (!strncmp(path, "/api/", 5))
        return respond_json_error(wsi, 404, "not_found", "no such endpoint");
    return serve_static(wsi, path);
}

void gw_http_on_api(const gw_ev_api *e)
{
    if (g_api_inflight > 0) g_api_inflight--;
    gw_conn *c = gw_conn_find(e->conn);
    if (!c || c->kind != GW_CONN_HTTP || !c->http_wait) return;
    c->http_wait = false;
    if (e->not_found) {
        c->http_status = 404;
        c->http_body =
            gw_buf_printf(GW_BUF_CTL, "{\"error\":\"not_found\",\"msg\":\"unknown view link\"}");
    } else if (e->err || !e->body) {
        c->http_status = 503;
        c->http_body = gw_buf_printf(
            GW_BUF_CTL, "{\"error\":\"unavailable\",\"msg\":\"snapshot unavailable; retry\"}");
    } else {
        c->http_status = 200;
        c->http_body = gw_buf_ref(e->body);
    }
    c->http_off = 0;
    lws_callback_on_writable(c->wsi);
}

int gw_http_writeable(struct lws *wsi, gw_conn *c)
{
    if (!c || c->kind != GW_CONN_HTTP || !c->http_body) return 0;
    gw_buf *b = c->http_body;
    if (!c->http_headers_sent) {
        unsigned char hdr[LWS_PRE + 512], *start = hdr + LWS_PRE, *p = start,
                                          *end = hdr + sizeof hdr - 1;
        if (lws_add_http_common_headers(wsi, (unsigned)c->http_status, "application/json", b->len,
                                        &p, end) ||
            lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                        (const unsigned char *)"no-store", 8, &p, end) ||
            lws_finalize_write_http_header(wsi, start, &p, end))
            return -1;
        c->http_headers_sent = true;
        lws_callback_on_writable(wsi);
        return 0;
    }
    size_t left = b->len - c->http_off, n = left < CHUNK ? left : CHUNK;
    bool last = n == left;
    /* The bytes before this chunk were sent already: they serve as LWS_PRE room. */
    unsigned char *at = b->data + LWS_PRE + c->http_off;
    if (lws_write(wsi, at, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)n) return -1;
    c->http_off += n;
    if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    gw_buf_unref(c->http_body);
    c->http_body = NULL;
    gw_conn_unregister(c);
    c->serial = 0;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}
