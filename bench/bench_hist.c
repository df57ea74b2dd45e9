/* bench_hist: see bench_hist.h. */
#include "bench_hist.h"

#include <string.h>

void bh_reset(bench_hist *h)
{
    memset(h, 0, sizeof *h);
}

size_t bh_index(uint64_t ns)
{
    if (ns < BH_SUB) return (size_t)ns;
    if (ns > BH_MAX_NS) ns = BH_MAX_NS;
    unsigned e = 63u - (unsigned)__builtin_clzll(ns); /* e >= BH_SUB_BITS */
    unsigned shift = e - BH_SUB_BITS;
    size_t sub = (size_t)((ns >> shift) & (BH_SUB - 1));
    return (size_t)(shift + 1) * BH_SUB + sub;
}

uint64_t bh_bucket_lo(size_t i)
{
    if (i < BH_SUB) return i;
    unsigned shift = (unsigned)(i / BH_SUB) - 1;
    uint64_t sub = i % BH_SUB;
    return (BH_SUB + sub) << shift;
}

uint64_t bh_bucket_hi(size_t i)
{
    if (i < BH_SUB) return i;
    unsigned shift = (unsigned)(i / BH_SUB) - 1;
    return bh_bucket_lo(i) + (1ull << shift) - 1;
}

void bh_add(bench_hist *h, uint64_t ns)
{
    if (ns > BH_MAX_NS) {
        h->clamped++;
        ns = BH_MAX_NS;
    }
    if (h->count == 0 || ns < h->min_ns) h->min_ns = ns;
    if (ns > h->max_ns) h->max_ns = ns;
    h->count++;
    h->sum_ns += ns;
    h->b[bh_index(ns)]++;
}

void bh_merge(bench_hist *dst, const bench_hist *src)
{
    if (!src->count) return;
    if (dst->count == 0 || src->min_ns < dst->min_ns) dst->min_ns = src->min_ns;
    if (src->max_ns > dst->max_ns) dst->max_ns = src->max_ns;
    dst->count += src->count;
    dst->sum_ns += src->sum_ns;
    dst->clamped += src->clamped;
    for (size_t i = 0; i < BH_BUCKETS; i++)
        dst->b[i] += src->b[i];
}

uint64_t bh_quantile(const bench_hist *h, double q)
{
    if (!h->count) return 0;
    if (q <= 0) return h->min_ns;
    if (q >= 1) return h->max_ns;
    /* rank of the sample, 1-based: ceil(q * count) */
    double r = q * (double)h->count;
    uint64_t rank = (uint64_t)r;
    if ((double)rank < r) rank++;
    if (rank < 1) rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < BH_BUCKETS; i++) {
        seen += h->b[i];
        if (seen >= rank) {
            uint64_t v = bh_bucket_hi(i);
            if (v > h->max_ns) v = h->max_ns;
            if (v < h->min_ns) v = h->min_ns;
            return v;
        }
    }
    return h->max_ns;
}

double bh_mean(const bench_hist *h)
{
    return h->count ? (double)h->sum_ns / (double)h->count : 0.0;
}
