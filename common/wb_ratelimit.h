/* wb_ratelimit: token bucket (rate per second, burst), plus an abuse meter
 * that counts refusals in a sliding window. One owner thread per bucket. */
#ifndef WB_RATELIMIT_H
#define WB_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct wb_bucket {
    double tokens;
    double rate;  /* tokens per second */
    double burst; /* bucket size */
    int64_t last_us;
    /* refusals in the current and previous window, for "sustained abuse" */
    int64_t win_start_us;
    uint32_t refused_cur, refused_prev;
} wb_bucket;

void wb_bucket_init(wb_bucket *b, double rate, double burst, int64_t now_us);
/* Takes one token: true if allowed, false if the message must be refused. */
bool wb_bucket_take(wb_bucket *b, int64_t now_us);
/* Takes n tokens at once (a frame's bytes): true if allowed; a refusal
 * takes nothing and counts once. */
bool wb_bucket_take_n(wb_bucket *b, double n, int64_t now_us);
/* Refusals over roughly the last window_us (weighted sliding window). */
uint32_t wb_bucket_refused(const wb_bucket *b, int64_t now_us, int64_t window_us);

#endif
