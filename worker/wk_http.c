/* wk_http: /healthz and /metrics on a blocking socket.
 * Thread "http" (started here) owns the listening socket and runs the tick
 * hook about once per second (poll timeout). Requests are tiny and local, so
 * one at a time is enough; a request that has not fully arrived 2 s after
 * the connection was accepted is cut off. */
#include "wk_http.h"

#include <arpa/inet.h>
#include <assert.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "wb_clock.h"
#include "wb_log.h"
#include "wk_batch.h"
#include "wk_metrics.h"

struct wk_http {
    int fd;
    pthread_t tid;
    bool started;
    atomic_bool stop;
    wk_health_fn health;
    wk_tick_fn tick;
    void *arg;
    wk_buf body, out;
};

static void send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}

static void respond(wk_http *h, int fd, int code, const char *ctype, const char *body, size_t blen)
{
    wk_buf_reset(&h->out);
    const char *reason = code == 200   ? "OK"
                         : code == 404 ? "Not Found"
                         : code == 405 ? "Method Not Allowed"
                         : code == 503 ? "Service Unavailable"
                                       : "Bad Request";
    if (wk_buf_printf(&h->out,
                      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                      "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
                      code, reason, ctype, blen) < 0 ||
        wk_buf_append(&h->out, body, blen) < 0)
        return;
    send_all(fd, h->out.p, h->out.len);
}

/* The whole request must arrive within REQUEST_TIMEOUT_S (not each recv:
 * a client trickling one byte a second would hold the only HTTP thread). */
#define REQUEST_TIMEOUT_S 2.0

static void serve(wk_http *h, int fd)
{
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    char req[2048];
    size_t n = 0;
    double deadline = wb_mono_s() + REQUEST_TIMEOUT_S;
    while (n < sizeof req - 1) {
        int left_ms = (int)((deadline - wb_mono_s()) * 1000);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left_ms <= 0 || poll(&p, 1, left_ms) <= 0) break;
        ssize_t r = recv(fd, req + n, sizeof req - 1 - n, MSG_DONTWAIT);
        if (r <= 0) break;
        n += (size_t)r;
        req[n] = 0;
        if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n")) break;
    }
    req[n] = 0;
    char method[8] = "", path[256] = "";
    if (sscanf(req, "%7s %255s", method, path) != 2) {
        respond(h, fd, 400, "text/plain", "bad request\n", 12);
        return;
    }
    char *q = strchr(path, '?');
    if (q) *q = 0;
    bool head = !strcmp(method, "HEAD");
    if (strcmp(method, "GET") && !head) {
        respond(h, fd, 405, "text/plain", "method not allowed\n", 19);
        return;
    }
    wk_buf_reset(&h->body);
    if (!strcmp(path, "/healthz")) {
        char why[128] = "";
        bool ok = h->health(h->arg, why, sizeof why);
        if (ok)
            wk_buf_puts(&h->body, "ok\n");
        else
            wk_buf_printf(&h->body, "unavailable: %s\n", why);
        respond(h, fd, ok ? 200 : 503, "text/plain; charset=utf-8", h->body.p,
                head ? 0 : h->body.len);
    } else if (!strcmp(path, "/metrics")) {
        if (wk_metrics_render(&h->body) < 0) {
            respond(h, fd, 503, "text/plain", "oom\n", 4);
            return;
        }
        respond(h, fd, 200, "text/plain; version=0.0.4; charset=utf-8", h->body.p,
                head ? 0 : h->body.len);
    } else {
        respond(h, fd, 404, "text/plain", "not found\n", 10);
    }
}

static void *http_main(void *arg)
{
    wk_http *h = arg;
    double last_tick = 0;
    while (!atomic_load(&h->stop)) {
        double now = wb_mono_s();
        if (h->tick && now - last_tick >= 1.0) {
            last_tick = now;
            h->tick(h->arg);
        }
        struct pollfd p = {.fd = h->fd, .events = POLLIN};
        int r = poll(&p, 1, 200);
        if (r <= 0) continue;
        int c = accept(h->fd, NULL, NULL);
        if (c < 0) continue;
        serve(h, c);
        close(c);
    }
    return NULL;
}

wk_http *wk_http_create(const char *host, int port, wk_health_fn health, wk_tick_fn tick, void *arg)
{
    assert(health);
    wk_http *h = calloc(1, sizeof *h);
    if (!h) {
        wb_error("wk_http_create: out of memory");
        return NULL;
    }
    h->fd = -1;
    h->health = health;
    h->tick = tick;
    h->arg = arg;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        wb_error("http: bad listen address %s", host);
        goto err;
    }
    h->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (h->fd < 0) {
        wb_syserr("http: socket");
        goto err;
    }
    int one = 1;
    setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(h->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        wb_syserr("http: bind %s:%d", host, port);
        goto err;
    }
    if (listen(h->fd, 64) < 0) {
        wb_syserr("http: listen");
        goto err;
    }
    if (pthread_create(&h->tid, NULL, http_main, h)) {
        wb_error("http: pthread_create failed");
        goto err;
    }
    h->started = true;
    wb_info("http listening on %s:%d (/healthz, /metrics)", host, port);
    return h;
err:
    wk_http_destroy(h);
    return NULL;
}

void wk_http_destroy(wk_http *h)
{
    if (!h) return;
    atomic_store(&h->stop, true);
    if (h->started) pthread_join(h->tid, NULL);
    if (h->fd >= 0) close(h->fd);
    wk_buf_free(&h->body);
    wk_buf_free(&h->out);
    free(h);
}
