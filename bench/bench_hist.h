/* bench_hist: an HDR-style log-bucket latency histogram in nanoseconds.
 *
 * Fixed storage (no allocation per sample): values below 2^BH_SUB_BITS ns
 * get their own bucket; above that every power of two is split into
 * 2^BH_SUB_BITS linear sub-buckets, so a reported percentile is within
 * 1/2^BH_SUB_BITS (~3%) of the true value. Values above BH_MAX_NS are
 * clamped (and counted in `clamped`). min, max, sum and count are exact. */
#ifndef BENCH_HIST_H
#define BENCH_HIST_H

#include <stddef.h>
#include <stdint.h>

#define BH_SUB_BITS 5
#define BH_SUB (1u << BH_SUB_BITS)
#define BH_MAX_BITS 40 /* 2^40 ns ~ 18 minutes */
#define BH_MAX_NS ((1ull << BH_MAX_BITS) - 1)
#define BH_BUCKETS ((BH_MAX_BITS - BH_SUB_BITS + 1) * BH_SUB)

typedef struct bench_hist {
    uint64_t count, sum_ns, min_ns, max_ns, clamped;
    uint64_t b[BH_BUCKETS];
} bench_hist;

void bh_reset(bench_hist *h);
void bh_add(bench_hist *h, uint64_t ns);
void bh_merge(bench_hist *dst, const bench_hist *src);
/* Bucket index of a value, and the [lo, hi] range of values in a bucket. */
size_t bh_index(uint64_t ns);
uint64_t bh_bucket_lo(size_t i);
uint64_t bh_bucket_hi(size_t i);
/* Value at quantile q in [0, 1] (0 -> min, 1 -> max); 0 when empty.
 * Reports the upper bound of the bucket holding the q-th sample, capped by max. */
uint64_t bh_quantile(const bench_hist *h, double q);
double bh_mean(const bench_hist *h);

#endif
