/* wb_jget: reading validated values out of client JSON (jansson), shared by
 * the message codec (wb_codec.c) and the element codec (wb_elem.c).
 * Pure functions, any thread. */
#ifndef WB_JGET_H
#define WB_JGET_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wb_valid.h"

/* An id (docs/protocol.md §1) copied into out. False if v is not one. */
bool wb_jget_id(const json_t *v, char out[WB_ID_MAX + 1]);
/* A finite number within +-1e7. */
bool wb_jget_num(const json_t *v, double *out);
/* A finite number within +-1e7, rounded to tenths (docs/protocol.md §3). */
bool wb_jget_coord(const json_t *v, int32_t *t);
/* "#rrggbb" -> 0xRRGGBB. */
bool wb_jget_color(const json_t *v, uint32_t *out);
/* A number in (0, max] that is not 0 as a float (1e-50). */
bool wb_jget_posfloat(const json_t *v, double max, float *out);
/* A points array (2..WB_MAX_POINTS numbers, even count) as delta-coded tenths
 * in a malloc'd *out. Returns 0, or -1 with a reason in err (what names the
 * field, e.g. "stroke.points"). */
int wb_jget_points(const json_t *p, const char *what, int32_t **out, size_t *n, char *err,
                   size_t errlen);
/* A JSON string of min..max bytes of UTF-8 without NUL, copied into a malloc'd
 * NUL-terminated *out. Returns 0 or -1. */
int wb_jget_text(const json_t *v, size_t min, size_t max, char **out, size_t *len);

#endif
