/* wb_prom: Prometheus text exposition (format 0.0.4) into a wb_jw buffer, and
 * the one fixed-bucket histogram type of the services.
 *
 * Histograms: any thread observes (relaxed atomics), one thread renders.
 * Rendering: single-threaded per wb_prom; every sample carries the writer's
 * constant labels (e.g. gateway="gw-1") before its own. */
#ifndef WB_PROM_H
#define WB_PROM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "wb_jw.h"

#define WB_HIST_MAX_BUCKETS 16

typedef struct wb_hist {
    const char *name, *help;
    size_t nb;
    double le[WB_HIST_MAX_BUCKETS];                  /* upper bounds, increasing; +Inf implicit */
    _Atomic uint64_t count[WB_HIST_MAX_BUCKETS + 1]; /* per bucket (not cumulative) */
    _Atomic uint64_t n;
    _Atomic uint64_t sum_micro; /* sum of observations x 1e6 (negative ones count as 0) */
} wb_hist;

/* Sets name, help and bounds (nb <= WB_HIST_MAX_BUCKETS); zeroes the counts. */
void wb_hist_init(wb_hist *h, const char *name, const char *help, const double *le, size_t nb);
void wb_hist_observe(wb_hist *h, double v);

typedef struct wb_prom {
    wb_jw *w;
    const char *labels; /* constant labels without braces, or NULL */
} wb_prom;

void wb_prom_init(wb_prom *p, wb_jw *w, const char *labels);
/* "# HELP name help" and "# TYPE name type". */
void wb_prom_family(wb_prom *p, const char *name, const char *type, const char *help);
/* One sample line; extra: the sample's own labels without braces, or NULL. */
void wb_prom_u64(wb_prom *p, const char *name, const char *extra, uint64_t v);
void wb_prom_i64(wb_prom *p, const char *name, const char *extra, int64_t v);
/* A family of one sample. */
void wb_prom_counter(wb_prom *p, const char *name, const char *help, uint64_t v);
void wb_prom_gauge(wb_prom *p, const char *name, const char *help, int64_t v);
/* A histogram family: cumulative _bucket{le=...} lines, _sum and _count. */
void wb_prom_hist(wb_prom *p, wb_hist *h);

#endif
