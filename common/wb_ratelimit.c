/* wb_ratelimit: token bucket with an abuse meter. Owner's thread only. */
#include "wb_ratelimit.h"

#define WB_ABUSE_WINDOW_US 5000000

void wb_bucket_init(wb_bucket *b, double rate, double burst, int64_t now_us)
{
    b->rate = rate;
    b->burst = burst;
    b->tokens = burst;
    b->last_us = now_us;
    b->win_start_us = now_us;
    b->refused_cur = b->refused_prev = 0;
}

static void roll(wb_bucket *b, int64_t now_us)
{
    if (now_us - b->win_start_us >= 2 * WB_ABUSE_WINDOW_US) {
        b->refused_prev = 0;
        b->refused_cur = 0;
        b->win_start_us = now_us;
    } else if (now_us - b->win_start_us >= WB_ABUSE_WINDOW_US) {
        b->refused_prev = b->refused_cur;
        b->refused_cur = 0;
        b->win_start_us += WB_ABUSE_WINDOW_US;
    }
}

bool wb_bucket_take(wb_bucket *b, int64_t now_us)
{
    return wb_bucket_take_n(b, 1.0, now_us);
}

bool wb_bucket_take_n(wb_bucket *b, double n, int64_t now_us)
{
    if (now_us > b->last_us) {
        b->tokens += (double)(now_us - b->last_us) * b->rate / 1e6;
        if (b->tokens > b->burst) b->tokens = b->burst;
        b->last_us = now_us;
    }
    roll(b, now_us);
    if (b->tokens >= n) {
        b->tokens -= n;
        return true;
    }
    b->refused_cur++;
    return false;
}

uint32_t wb_bucket_refused(const wb_bucket *b, int64_t now_us, int64_t window_us)
{
    (void)window_us;
    int64_t into = now_us - b->win_start_us;
    if (into >= 2 * WB_ABUSE_WINDOW_US) return 0;
    if (into >= WB_ABUSE_WINDOW_US) return b->refused_cur;
    double w = 1.0 - (double)into / WB_ABUSE_WINDOW_US;
    return b->refused_cur + (uint32_t)(b->refused_prev * w);
}
