/* wb_jget: validated values out of client JSON (see wb_jget.h). Pure. */
#include "wb_jget.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool wb_jget_id(const json_t *v, char out[WB_ID_MAX + 1])
{
    if (!json_is_string(v)) return false;
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (!wb_valid_id(s, n)) return false;
    memcpy(out, s, n);
    out[n] = 0;
    return true;
}

bool wb_jget_num(const json_t *v, double *out)
{
    if (!json_is_number(v)) return false;
    double d = json_number_value(v);
    if (!isfinite(d) || d > WB_MAX_COORD || d < -WB_MAX_COORD) return false;
    *out = d;
    return true;
}

bool wb_jget_coord(const json_t *v, int32_t *t)
{
    double d;
    if (!wb_jget_num(v, &d)) return false;
    *t = (int32_t)llround(d * 10.0);
    return true;
}

bool wb_jget_color(const json_t *v, uint32_t *out)
{
    return json_is_string(v) &&
           wb_parse_color(json_string_value(v), json_string_length(v), out) == 0;
}

bool wb_jget_posfloat(const json_t *v, double max, float *out)
{
    double d = json_is_number(v) ? json_number_value(v) : NAN;
    /* Checked as the float it is stored as: 1e-50 would become 0. */
    if (!isfinite(d) || d <= 0 || d > max || (float)d <= 0.0f) return false;
    *out = (float)d;
    return true;
}

int wb_jget_points(const json_t *p, const char *what, int32_t **out, size_t *np, char *err,
                   size_t errlen)
{
    if (!json_is_array(p)) {
        snprintf(err, errlen, "%s must be an array", what);
        return -1;
    }
    size_t n = json_array_size(p);
    if (n < 2 || n > WB_MAX_POINTS || n % 2) {
        snprintf(err, errlen, "%s must hold 2..%d numbers (x,y pairs)", what, WB_MAX_POINTS);
        return -1;
    }
    int32_t *pts = malloc(n * sizeof *pts);
    if (!pts) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *out = pts; /* owned by the caller from here on, also on failure */
    *np = n;
    int32_t prev[2] = {0, 0};
    for (size_t i = 0; i < n; i++) {
        int32_t t;
        if (!wb_jget_coord(json_array_get(p, i), &t)) {
            snprintf(err, errlen, "%s[%zu] must be a finite number within +-1e7", what, i);
            return -1;
        }
        pts[i] = i < 2 ? t : t - prev[i & 1];
        prev[i & 1] = t;
    }
    return 0;
}

int wb_jget_text(const json_t *v, size_t min, size_t max, char **out, size_t *len)
{
    if (!json_is_string(v)) return -1;
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n < min || n > max) return -1;
    for (size_t i = 0; i < n;) { /* jansson checks UTF-8, but allows \u0000 */
        size_t k = wb_utf8_seq(s + i, n - i);
        if (!k || s[i] == 0) return -1;
        i += k;
    }
    char *c = malloc(n + 1);
    if (!c) return -1;
    memcpy(c, s, n);
    c[n] = 0;
    *out = c;
    *len = n;
    return 0;
}
