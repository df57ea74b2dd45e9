/* gw_loop: the gateway's one event loop (loop thread = main thread). A libuv
 * loop (epoll) carries libwebsockets (LWS_SERVER_OPTION_LIBUV on a foreign
 * loop), the mailbox wake-up (one uv_async: producers only signal it on
 * empty -> non-empty, and uv coalesces signals), the timers and the signal
 * handlers. Owns the lws context and drains the mailbox each turn; what to do
 * with an event, a tick and the end of a turn is the hooks' (gw_dispatch.c),
 * so the loop depends on none of the modules above it. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "gw.h"
#include "wb_log.h"

struct gw_timer {
    uv_timer_t t;
    void (*fn)(void);
    struct gw_timer *next;
};

static uv_loop_t g_loop;
static uv_async_t g_async;
static uv_timer_t g_tick;
static uv_prepare_t g_prepare;
static bool g_created;
static gw_timer *g_timers;

static const gw_loop_hooks *g_hooks;
static uv_timer_t g_wake_timer;
static uv_timer_t g_beat_timer;

static void on_beat(uv_timer_t *t)
{
    gw_watchdog_beat();
}

/* Only wakes the loop: on_prepare runs the end of the turn then. */
static void on_wake_timer(uv_timer_t *t) {}

/* The whole mailbox, in order (what came meanwhile wakes the loop again). */
static void drain(void)
{
    gw_event *e = gw_queue_take_all();
    while (e) {
        gw_event *next = e->next;
        g_hooks->event(e);
        gw_event_free(e);
        e = next;
    }
}

static atomic_bool g_stop_requested;

static void on_async(uv_async_t *h)
{
    atomic_fetch_add(&gw_m.loop_wakes, 1);
    drain();
    if (atomic_load(&g_stop_requested)) uv_stop(&g_loop);
}

void gw_loop_stop_async(void)
{
    atomic_store(&g_stop_requested, true);
    uv_async_send(&g_async);
}

static void wake(void)
{
    uv_async_send(&g_async);
}

void gw_loop_wake(void)
{
    if (g_created) uv_async_send(&g_async);
}

static void on_tick(uv_timer_t *t)
{
    g_hooks->tick(wb_mono_us());
}

/* End of every loop turn (libuv's prepare phase: after the timers and the
 * I/O callbacks of the last turn, before the loop blocks in epoll_wait
 * again). When the hook says it must run again at some time even if no I/O
 * comes (a paced write, a presence list held back), g_wake_timer wakes the
 * loop then. */
static void on_prepare(uv_prepare_t *h)
{
    int64_t now = wb_mono_us();
    int64_t due = g_hooks->turn_end(now);
    if (!due) return;
    uint64_t ms = (uint64_t)(due > now ? (due - now + 999) / 1000 : 0);
    if (!uv_is_active((uv_handle_t *)&g_wake_timer) || uv_timer_get_due_in(&g_wake_timer) > ms)
        uv_timer_start(&g_wake_timer, on_wake_timer, ms, 0);
}

static void on_timer(uv_timer_t *t)
{
    gw_timer *g = (gw_timer *)t;
    g->fn();
}

gw_timer *gw_timer_create(void (*fn)(void))
{
    gw_timer *g = calloc(1, sizeof *g);
    if (!g) {
        wb_error("out of memory (timer)");
        return NULL;
    }
    uv_timer_init(&g_loop, &g->t);
    g->fn = fn;
    g->next = g_timers;
    g_timers = g;
    return g;
}

void gw_timer_start(gw_timer *t, int64_t delay_ms)
{
    if (t) uv_timer_start(&t->t, on_timer, (uint64_t)(delay_ms > 0 ? delay_ms : 0), 0);
}

int gw_loop_create(const struct lws_protocols *protocols, const gw_loop_hooks *hooks)
{
    g_hooks = hooks;
    if (uv_loop_init(&g_loop) != 0) {
        wb_error("uv_loop_init failed");
        return -1;
    }
    uv_async_init(&g_loop, &g_async, on_async);
    uv_timer_init(&g_loop, &g_tick);
    uv_timer_init(&g_loop, &g_wake_timer);
    uv_timer_init(&g_loop, &g_beat_timer);
    uv_timer_start(&g_beat_timer, on_beat, 100, 100);
    uv_prepare_init(&g_loop, &g_prepare);
    uv_prepare_start(&g_prepare, on_prepare);
    g_created = true;
    gw_queue_set_wake(wake);

    void *foreign[1] = {&g_loop};
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = (int)gw.cfg.port;
    info.iface = gw.cfg.bind;
    info.protocols = protocols;
    info.gid = (gid_t)-1;
    info.uid = (uid_t)-1;
    /* plain HTTP/1.1 + WebSocket: no TLS, so no HTTP/2; lws on our uv loop */
    info.options = LWS_SERVER_OPTION_LIBUV;
    info.foreign_loops = foreign;
    info.max_http_header_pool = 1024;
    info.timeout_secs = 10;
    /* No lws validity timers (an all-zero policy: secs_since_valid_hangup 0
     * turns them off): lws keeps its timers in one sorted list and inserts
     * by walking it from the head, so with a validity timer per connection
     * every insert walked all of them (O(connections) per join, O(n^2) for
     * n joins). Idle pings and the hang-up are gw_ws_keepalive's, on g_tick. */
    static lws_retry_bo_t no_validity;
    memset(&no_validity, 0, sizeof no_validity);
    info.retry_and_idle_policy = &no_validity;
    gw.ctx = lws_create_context(&info);
    if (!gw.ctx) {
        wb_error("lws_create_context failed (port %lld in use? lws uv event lib missing?)",
                 gw.cfg.port);
        return -1;
    }
    uv_timer_start(&g_tick, on_tick, (uint64_t)gw.cfg.presence_interval_ms,
                   (uint64_t)gw.cfg.presence_interval_ms);
    return 0;
}

int gw_loop_run(void)
{
    uv_run(&g_loop, UV_RUN_DEFAULT);
    return 0;
}

void gw_loop_stop(void)
{
    uv_stop(&g_loop);
}

static void walk_close(uv_handle_t *h, void *arg)
{
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

void gw_loop_destroy(void)
{
    if (!g_created) return;
    gw_queue_set_wake(NULL);
    if (gw.ctx) lws_context_destroy(gw.ctx);
    gw.ctx = NULL;
    /* Let lws close its handles, then ours. */
    uv_run(&g_loop, UV_RUN_NOWAIT);
    uv_walk(&g_loop, walk_close, NULL);
    uv_run(&g_loop, UV_RUN_DEFAULT);
    while (g_timers) {
        gw_timer *n = g_timers->next;
        free(g_timers);
        g_timers = n;
    }
    if (uv_loop_close(&g_loop) != 0) wb_warn("uv loop closed with handles still open");
    g_created = false;
    gw_event *e = gw_queue_take_all();
    while (e) {
        gw_event *next = e->next;
        gw_event_free(e);
        e = next;
    }
}

uv_loop_t *gw_loop_uv(void)
{
    return &g_loop;
}

static void (*g_sigfn)(int);

static void on_signal(uv_signal_t *h, int signum)
{
    if (g_sigfn) g_sigfn(signum);
}

int gw_loop_on_signals(void (*fn)(int))
{
    static uv_signal_t sig[2];
    static const int nums[2] = {SIGTERM, SIGINT};
    g_sigfn = fn;
    for (int i = 0; i < 2; i++) {
        uv_signal_init(&g_loop, &sig[i]);
        if (uv_signal_start(&sig[i], on_signal, nums[i]) != 0) {
            wb_error("uv_signal_start(%d) failed", nums[i]);
            return -1;
        }
    }
    return 0;
}
