/* wb_valid: validation of the identifiers and values docs/protocol.md §1, §3 allow.
 * Pure functions, any thread. */
#ifndef WB_VALID_H
#define WB_VALID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WB_ID_MAX 64        /* board ids, stroke ids, op ids: 1..64 chars */
#define WB_MAX_POINTS 20000 /* numbers in a stroke's flat points array */
#define WB_MAX_COORD 1e7
#define WB_MIN_SCALE 1e-3 /* viewport zoom bounds (the client keeps within them) */
#define WB_MAX_SCALE 1e3
#define WB_MAX_WIDTH 200.0
#define WB_MAX_IDS 10000   /* ids in one erase/restore (the gateway's max-ids may be lower) */
#define WB_NAME_MAX 64     /* display name, bytes */
#define WB_MAX_TEXT 4096   /* a text element's text, bytes of UTF-8 */
#define WB_MAX_FONT 1000.0 /* a text element's font size, world units */

/* True iff s[0..len) matches ^[A-Za-z0-9_-]{1,64}$ (board ids, stroke ids, op ids). */
bool wb_valid_id(const char *s, size_t len);

/* Parses "#rrggbb" (either case) into 0xRRGGBB. Returns 0 or -1. */
int wb_parse_color(const char *s, size_t len, uint32_t *out);

/* Writes "#rrggbb" (lowercase) and a NUL into out[8]. */
void wb_format_color(uint32_t rgb, char out[8]);

/* Length (1..4) of the valid UTF-8 sequence at s[0..n), or 0 if s does not
 * start with one (stray continuation bytes, lead bytes 0xC0, 0xC1, 0xF5-0xFF,
 * overlong forms, surrogates, code points above U+10FFFF, a cut sequence). */
size_t wb_utf8_seq(const char *s, size_t n);

/* Length of the longest prefix of s[0..n) of at most max bytes that is valid
 * UTF-8 and does not cut a sequence (it stops at the first invalid byte). */
size_t wb_utf8_prefix(const char *s, size_t n, size_t max);

/* Copies at most outsz-1 bytes of s[0..n) into out (NUL-terminated), valid
 * UTF-8 only: each invalid byte becomes '?', a sequence that does not fit is
 * left out. Returns the length written. For error messages that quote input. */
size_t wb_utf8_copy(const char *s, size_t n, char *out, size_t outsz);

/* Copies a display name keeping printable ASCII and valid UTF-8 sequences, at
 * most WB_NAME_MAX bytes, dropping control characters, quotes and backslashes.
 * Returns the length written (out has room for WB_NAME_MAX + 1). */
size_t wb_clean_name(const char *in, size_t len, char *out);

#endif
