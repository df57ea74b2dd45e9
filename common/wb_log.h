/* wb_log: one-line structured (logfmt) logging shared by every program.
 *
 * Error convention for the whole project: a function that can fail returns
 * 0 on success and -1 on failure (or NULL for a pointer), and logs the
 * failure ONCE, where it happened, with strerror(errno) for system calls.
 * Callers only add context if they have something new to say.
 *
 * Thread-safe: each line is written with a single write(2) to stderr. */
#ifndef WB_LOG_H
#define WB_LOG_H

#include <errno.h>
#include <string.h>

typedef enum { WB_LOG_DEBUG = 0, WB_LOG_INFO, WB_LOG_WARN, WB_LOG_ERROR } wb_log_level;

/* Sets the service name printed on every line (e.g. "gw-1", "worker") and the
 * minimum level ("debug", "info", "warn", "error"; NULL keeps "info"). */
void wb_log_init(const char *service, const char *level);

void wb_log(wb_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define wb_debug(...) wb_log(WB_LOG_DEBUG, __VA_ARGS__)
#define wb_info(...) wb_log(WB_LOG_INFO, __VA_ARGS__)
#define wb_warn(...) wb_log(WB_LOG_WARN, __VA_ARGS__)
#define wb_error(...) wb_log(WB_LOG_ERROR, __VA_ARGS__)
/* Logs a failed system call with errno's text: wb_syserr("open %s", path). */
#define wb_syserr(fmt, ...) wb_log(WB_LOG_ERROR, fmt ": %s", ##__VA_ARGS__, strerror(errno))

#endif
