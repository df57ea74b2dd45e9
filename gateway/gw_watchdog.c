/* gw_watchdog: notices a stalled loop thread and says where it is stuck.
 * The loop beats (gw_watchdog_beat, from a 100 ms timer); a watchdog thread
 * checks the beat every 250 ms. When the loop has not beaten for
 * STALL_MS it logs the stall once, counts it, and sends the loop thread a
 * signal whose handler writes the loop thread's stack to stderr (the log):
 * a loop stuck on a lock or a blocking call shows which one. The next beat
 * logs how long the stall lasted. */
#include <errno.h>
#include <execinfo.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gw.h"
#include "wb_log.h"

#define STALL_MS 2000
#define CHECK_MS 250
#define STACK_SIG SIGUSR2

static atomic_llong g_beat_us;    /* last beat (loop thread writes, watchdog reads) */
static atomic_llong g_stalled_us; /* start of the stall being reported, 0: none */
static atomic_bool g_stop;
static pthread_t g_loop_thread, g_thread;
static bool g_started;

/* Loop thread, in a signal handler: only async-signal-safe calls (write,
 * backtrace_symbols_fd; backtrace's unwinder was loaded at start). */
static void on_stack_sig(int sig)
{
    void *frames[64];
    static const char head[] = "gw_watchdog: the loop thread's stack:\n";
    ssize_t rc = write(STDERR_FILENO, head, sizeof head - 1);
    (void)rc;
    int n = backtrace(frames, 64);
    backtrace_symbols_fd(frames, n, STDERR_FILENO);
}

static void *watch_main(void *arg)
{
    while (!atomic_load(&g_stop)) {
        usleep(CHECK_MS * 1000);
        int64_t now = wb_mono_us(), beat = atomic_load(&g_beat_us);
        if (now - beat < STALL_MS * 1000LL || atomic_load(&g_stalled_us)) continue;
        atomic_store(&g_stalled_us, beat);
        atomic_fetch_add(&gw_m.loop_stalls, 1);
        wb_warn("the loop thread has not run for %lld ms", (long long)(now - beat) / 1000);
        pthread_kill(g_loop_thread, STACK_SIG);
    }
    return NULL;
}

void gw_watchdog_beat(void)
{
    int64_t now = wb_mono_us();
    atomic_store(&g_beat_us, now);
    int64_t since = atomic_exchange(&g_stalled_us, 0);
    if (since) wb_warn("the loop thread ran again after %lld ms", (long long)(now - since) / 1000);
}

int gw_watchdog_start(void)
{
    void *warm[1];
    backtrace(warm, 1); /* loads the unwinder now, not inside the handler */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stack_sig;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(STACK_SIG, &sa, NULL) != 0) {
        wb_syserr("sigaction");
        return -1;
    }
    g_loop_thread = pthread_self();
    atomic_store(&g_beat_us, wb_mono_us());
    int rc = pthread_create(&g_thread, NULL, watch_main, NULL);
    if (rc != 0) {
        errno = rc; /* pthread_create returns its error, errno is untouched */
        wb_syserr("pthread_create");
        return -1;
    }
    g_started = true;
    return 0;
}

void gw_watchdog_stop(void)
{
    if (!g_started) return;
    atomic_store(&g_stop, true);
    pthread_join(g_thread, NULL);
    g_started = false;
}
