/* wb_clock: the monotonic clock (intervals, timeouts, latencies) and the wall
 * clock (timestamps others read), in the units callers use. Any thread. */
#ifndef WB_CLOCK_H
#define WB_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC: never jumps, meaningful only as a difference. */
int64_t wb_mono_ns(void);
static inline int64_t wb_mono_us(void)
{
    return wb_mono_ns() / 1000;
}
static inline int64_t wb_mono_ms(void)
{
    return wb_mono_ns() / 1000000;
}
static inline double wb_mono_s(void)
{
    return (double)wb_mono_ns() / 1e9;
}

/* CLOCK_REALTIME in ms since the epoch (Op.time_ms, Live.time_ms). */
int64_t wb_wall_ms(void);

#endif
