/* wk_http: the worker's tiny HTTP server on 127.0.0.1:port: GET /healthz
 * (200 "ok" while PostgreSQL and NATS are connected, else 503) and GET
 * /metrics (Prometheus text). One thread with a blocking accept loop; each
 * request is read, answered and closed (no keep-alive). The same thread
 * refreshes the consumer gauges every second through the `tick` hook. */
#ifndef WK_HTTP_H
#define WK_HTTP_H

#include <stdbool.h>

typedef struct wk_http wk_http;

typedef bool (*wk_health_fn)(void *arg, char *why, int cap);
typedef void (*wk_tick_fn)(void *arg);

/* Binds host:port and starts the thread. NULL on failure (logged). */
wk_http *wk_http_create(const char *host, int port, wk_health_fn health, wk_tick_fn tick,
                        void *arg);
void wk_http_destroy(wk_http *h);

#endif
