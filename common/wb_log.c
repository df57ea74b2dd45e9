/* wb_log: logfmt lines on stderr (ts, level, svc, msg). Any thread. */
#include "wb_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char g_service[64] = "wb";
static wb_log_level g_min = WB_LOG_INFO;
static const char *const g_names[] = {"debug", "info", "warn", "error"};

void wb_log_init(const char *service, const char *level)
{
    if (service) snprintf(g_service, sizeof g_service, "%s", service);
    if (!level) return;
    for (int i = 0; i < 4; i++)
        if (strcasecmp(level, g_names[i]) == 0) g_min = (wb_log_level)i;
}

void wb_log(wb_log_level level, const char *fmt, ...)
{
    if (level < g_min) return;
    char line[2048];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    int n = snprintf(line, sizeof line,
                     "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s svc=%s msg=\"",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (long)(tv.tv_usec / 1000), g_names[level], g_service);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 2, fmt, ap);
    va_end(ap);
    if (m < 0) m = 0;
    n += m;
    if (n > (int)sizeof line - 2) n = (int)sizeof line - 2;
    line[n++] = '"';
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}
