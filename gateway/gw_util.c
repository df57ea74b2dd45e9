/* gw_util: random ids for every gateway module (any thread); the clocks are
 * common/wb_clock. A leaf: it calls no other gateway module. */
#include <stdlib.h>
#include <sys/random.h>

#include "gw.h"

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
