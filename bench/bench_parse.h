/* bench_parse: a fast, allocation-free scanner for server frames.
 *
 * A frame is one JSON object or a JSON array of objects (docs/protocol.md §3).
 * For each message object it extracts the top-level fields the benchmark
 * needs and skips everything else (nested stroke objects, point arrays)
 * without building a tree. String values are raw slices into the frame
 * (escapes are not decoded: the ids we look at never contain any). The
 * buffer need not be NUL-terminated. */
#ifndef BENCH_PARSE_H
#define BENCH_PARSE_H

#include <stddef.h>
#include <stdint.h>

typedef struct bp_str {
    const char *s;
    size_t n;
} bp_str;

typedef struct bp_msg {
    bp_str t, op, from, code, client, name, kind;
    double x;
    int64_t seq;
    unsigned has_x : 1, has_seq : 1;
} bp_msg;

/* Called once per message object, in frame order; a non-zero return stops
 * the scan (bp_parse_frame then returns -2). */
typedef int (*bp_cb)(void *ud, const bp_msg *m);

/* Returns the number of message objects, or -1 if the frame is not valid
 * JSON of the allowed shape (messages before the error were delivered). */
int bp_parse_frame(const char *buf, size_t len, bp_cb cb, void *ud);

/* True if s equals the NUL-terminated literal lit. */
int bp_eq(bp_str s, const char *lit);

/* Parses an op id "B<run>_<a>_<b>" made by bp_format_op: returns 0 and the
 * two numbers if it carries this run id, -1 otherwise. */
int bp_parse_op(bp_str op, const char *run, uint32_t *a, uint64_t *b);
/* Writes "B<run>_<a>_<b>" into out (size cap); returns its length. */
int bp_format_op(char *out, size_t cap, const char *run, uint32_t a, uint64_t b);

#endif
