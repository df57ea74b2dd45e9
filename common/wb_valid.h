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
#define WB_MAX_IDS 10000 /* ids in one erase/restore */
#define WB_NAME_MAX 64   /* display name, bytes */

/* True iff s[0..len) matches ^[A-Za-z0-9_-]{1,64}$ (board ids, stroke ids, op ids). */
bool wb_valid_id(const char *s, size_t len);

/* Parses "#rrggbb" (either case) into 0xRRGGBB. Returns 0 or -1. */
int wb_parse_color(const char *s, size_t len, uint32_t *out);

/* Writes "#rrggbb" (lowercase) and a NUL into out[8]. */
void wb_format_color(uint32_t rgb, char out[8]);

/* Copies a display name keeping printable ASCII and valid UTF-8 sequences, at
 * most WB_NAME_MAX bytes, dropping control characters, quotes and backslashes.
 * Returns the length written (out has room for WB_NAME_MAX + 1). */
size_t wb_clean_name(const char *in, size_t len, char *out);

#endif
