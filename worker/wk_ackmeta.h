/* wk_ackmeta: parses a JetStream message's ack reply subject ($JS.ACK...) into
 * its delivery metadata. Pure functions, any thread. */
#ifndef WK_ACKMETA_H
#define WK_ACKMETA_H

#include <stddef.h>
#include <stdint.h>

typedef struct wk_ackmeta {
    const char *stream, *consumer; /* views into the subject (not terminated) */
    size_t stream_len, consumer_len;
    uint64_t delivered;    /* delivery count, 1 on the first delivery */
    uint64_t stream_seq;   /* sequence in the stream */
    uint64_t consumer_seq; /* delivery sequence of the consumer */
    int64_t timestamp_ns;  /* store time, ns since the epoch */
    uint64_t pending;      /* messages left for the consumer after this one */
} wk_ackmeta;

/* Fills *m from `subject`, either form:
 *   v1: $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>
 *   v2: $JS.ACK.<domain>.<acchash>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>
 *       .<ts>.<pending>[.<more tokens>]
 * Returns 0, or -1 (NULL, not an ack subject, a missing or non-decimal field,
 * a zero stream sequence). Does not log: the caller knows the message. */
int wk_ackmeta_parse(const char *subject, wk_ackmeta *m);

#endif
