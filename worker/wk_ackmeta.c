/* wk_ackmeta: parser of JetStream ack reply subjects (see wk_ackmeta.h). */
#include "wk_ackmeta.h"

#include <string.h>

#define V1_TOKENS 9
#define V2_TOKENS 11 /* at least; the server may append more */

/* A token of the subject: [p, p + n). */
typedef struct tok {
    const char *p;
    size_t n;
} tok;

/* Decimal digits only, no sign, no overflow. Returns 0 or -1. */
static int parse_u64(tok t, uint64_t *out)
{
    if (t.n == 0 || t.n > 20) return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < t.n; i++) {
        char c = t.p[i];
        if (c < '0' || c > '9') return -1;
        uint64_t d = (uint64_t)(c - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int wk_ackmeta_parse(const char *subject, wk_ackmeta *m)
{
    if (!subject || !m) return -1;
    tok t[V2_TOKENS];
    size_t n = 0;
    const char *p = subject;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len == 0) return -1; /* empty token: not a valid subject */
        if (n < V2_TOKENS) t[n] = (tok){p, len};
        n++;
        if (!dot) break;
        p = dot + 1;
    }
    if (n != V1_TOKENS && n < V2_TOKENS) return -1;
    if (t[0].n != 3 || memcmp(t[0].p, "$JS", 3) || t[1].n != 3 || memcmp(t[1].p, "ACK", 3))
        return -1;
    size_t o = n == V1_TOKENS ? 2 : 4; /* v2: domain and account hash first */
    uint64_t ts = 0;
    wk_ackmeta r = {
        .stream = t[o].p, .stream_len = t[o].n, .consumer = t[o + 1].p, .consumer_len = t[o + 1].n};
    if (parse_u64(t[o + 2], &r.delivered) || parse_u64(t[o + 3], &r.stream_seq) ||
        parse_u64(t[o + 4], &r.consumer_seq) || parse_u64(t[o + 5], &ts) ||
        parse_u64(t[o + 6], &r.pending) || ts > INT64_MAX || r.stream_seq == 0)
        return -1;
    r.timestamp_ns = (int64_t)ts;
    *m = r;
    return 0;
}
