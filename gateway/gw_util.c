/* gw_util: clocks and random ids for every gateway module (any thread). A
 * leaf: it calls no other gateway module. */
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

#include "gw.h"

int64_t gw_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t gw_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void gw_random_id(char *out, size_t n)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char r[64];
    if (n > sizeof r) n = sizeof r;
    if (getrandom(r, n, 0) != (ssize_t)n)
        for (size_t i = 0; i < n; i++)
            r[i] = (unsigned char)rand();
    for (size_t i = 0; i + 1 < n; i++)
        out[i] = a[r[i] & 63];
    out[n - 1] = 0;
}
