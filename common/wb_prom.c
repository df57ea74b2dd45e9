/* wb_prom: Prometheus text and histograms (see wb_prom.h). Histograms: any
 * thread observes; a wb_prom belongs to the rendering thread. */
#include "wb_prom.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

void wb_hist_init(wb_hist *h, const char *name, const char *help, const double *le, size_t nb)
{
    assert(nb <= WB_HIST_MAX_BUCKETS);
    memset(h, 0, sizeof *h);
    h->name = name;
    h->help = help;
    h->nb = nb;
    memcpy(h->le, le, nb * sizeof *le);
}

void wb_hist_observe(wb_hist *h, double v)
{
    size_t i = 0;
    while (i < h->nb && v > h->le[i])
        i++;
    atomic_fetch_add_explicit(&h->count[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->n, 1, memory_order_relaxed);
    if (v > 0) atomic_fetch_add_explicit(&h->sum_micro, (uint64_t)(v * 1e6), memory_order_relaxed);
}

void wb_prom_init(wb_prom *p, wb_jw *w, const char *labels)
{
    p->w = w;
    p->labels = labels && *labels ? labels : NULL;
}

void wb_prom_family(wb_prom *p, const char *name, const char *type, const char *help)
{
    wb_jw_lit(p->w, "# HELP ");
    wb_jw_lit(p->w, name);
    wb_jw_char(p->w, ' ');
    wb_jw_lit(p->w, help);
    wb_jw_lit(p->w, "\n# TYPE ");
    wb_jw_lit(p->w, name);
    wb_jw_char(p->w, ' ');
    wb_jw_lit(p->w, type);
    wb_jw_char(p->w, '\n');
}

/* "name{labels,extra} " */
static void sample_head(wb_prom *p, const char *name, const char *extra)
{
    wb_jw_lit(p->w, name);
    if (extra && !*extra) extra = NULL;
    if (p->labels || extra) {
        wb_jw_char(p->w, '{');
        if (p->labels) wb_jw_lit(p->w, p->labels);
        if (p->labels && extra) wb_jw_char(p->w, ',');
        if (extra) wb_jw_lit(p->w, extra);
        wb_jw_char(p->w, '}');
    }
    wb_jw_char(p->w, ' ');
}

void wb_prom_u64(wb_prom *p, const char *name, const char *extra, uint64_t v)
{
    sample_head(p, name, extra);
    wb_jw_u64(p->w, v);
    wb_jw_char(p->w, '\n');
}

void wb_prom_i64(wb_prom *p, const char *name, const char *extra, int64_t v)
{
    sample_head(p, name, extra);
    wb_jw_i64(p->w, v);
    wb_jw_char(p->w, '\n');
}

void wb_prom_counter(wb_prom *p, const char *name, const char *help, uint64_t v)
{
    wb_prom_family(p, name, "counter", help);
    wb_prom_u64(p, name, NULL, v);
}

void wb_prom_gauge(wb_prom *p, const char *name, const char *help, int64_t v)
{
    wb_prom_family(p, name, "gauge", help);
    wb_prom_i64(p, name, NULL, v);
}

void wb_prom_hist(wb_prom *p, wb_hist *h)
{
    char series[128], le[48];
    wb_prom_family(p, h->name, "histogram", h->help);
    snprintf(series, sizeof series, "%s_bucket", h->name);
    uint64_t cum = 0;
    for (size_t i = 0; i <= h->nb; i++) {
        cum += atomic_load_explicit(&h->count[i], memory_order_relaxed);
        if (i < h->nb)
            snprintf(le, sizeof le, "le=\"%g\"", h->le[i]);
        else
            snprintf(le, sizeof le, "le=\"+Inf\"");
        wb_prom_u64(p, series, le, cum);
    }
    snprintf(series, sizeof series, "%s_sum", h->name);
    sample_head(p, series, NULL);
    wb_jw_double(p->w, (double)atomic_load_explicit(&h->sum_micro, memory_order_relaxed) / 1e6);
    wb_jw_char(p->w, '\n');
    snprintf(series, sizeof series, "%s_count", h->name);
    wb_prom_u64(p, series, NULL, atomic_load_explicit(&h->n, memory_order_relaxed));
}
