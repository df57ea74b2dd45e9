/* wb_elem: shapes, texts and updates in JSON and protobuf (see wb_elem.h).
 * Pure functions, any thread; owns nothing beyond what it returns. */
#include "wb_elem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb_jget.h"

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        snprintf(err, errlen, __VA_ARGS__);                                                        \
        return -1;                                                                                 \
    } while (0)

static const char *const g_kinds[] = {"", "rect", "ellipse", "line", "arrow"};
#define NKINDS (sizeof g_kinds / sizeof g_kinds[0])

/* "type", if present, must name the element's type. */
static bool type_ok(const json_t *o, const char *want)
{
    const json_t *t = json_object_get(o, "type");
    return !t || (json_is_string(t) && !strcmp(json_string_value(t), want));
}

int wb_shape_parse(const json_t *o, wb_cshape *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    if (!json_is_object(o)) FAIL("shape must be an object");
    if (!type_ok(o, "shape")) FAIL("shape.type must be \"shape\"");
    if (!wb_jget_id(json_object_get(o, "id"), s->id))
        FAIL("shape.id must be 1..64 chars of [A-Za-z0-9_-]");
    const json_t *k = json_object_get(o, "kind");
    for (size_t i = 1; json_is_string(k) && i < NKINDS; i++)
        if (!strcmp(json_string_value(k), g_kinds[i])) s->kind = (Wb__V1__ShapeKind)i;
    if (!s->kind) FAIL("shape.kind must be \"rect\", \"ellipse\", \"line\" or \"arrow\"");
    if (!wb_jget_coord(json_object_get(o, "x1"), &s->x1) ||
        !wb_jget_coord(json_object_get(o, "y1"), &s->y1) ||
        !wb_jget_coord(json_object_get(o, "x2"), &s->x2) ||
        !wb_jget_coord(json_object_get(o, "y2"), &s->y2))
        FAIL("shape.x1, y1, x2, y2 must be finite numbers within +-1e7");
    if (!wb_jget_color(json_object_get(o, "color"), &s->color))
        FAIL("shape.color must be \"#rrggbb\"");
    if (!wb_jget_posfloat(json_object_get(o, "width"), WB_MAX_WIDTH, &s->width))
        FAIL("shape.width must be a number in (0, 200]");
    const json_t *f = json_object_get(o, "fill");
    if (f && !json_is_null(f)) {
        if (!wb_jget_color(f, &s->fill)) FAIL("shape.fill must be \"#rrggbb\" or absent");
        s->has_fill = true;
    }
    return 0;
}

int wb_text_parse(const json_t *o, wb_ctext *t, bool draft, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    if (!json_is_object(o)) FAIL("text must be an object");
    if (!type_ok(o, "text")) FAIL("text.type must be \"text\"");
    if (!wb_jget_id(json_object_get(o, "id"), t->id))
        FAIL("text.id must be 1..64 chars of [A-Za-z0-9_-]");
    if (!wb_jget_coord(json_object_get(o, "x"), &t->x) ||
        !wb_jget_coord(json_object_get(o, "y"), &t->y))
        FAIL("text.x and y must be finite numbers within +-1e7");
    if (!wb_jget_posfloat(json_object_get(o, "size"), WB_MAX_FONT, &t->size))
        FAIL("text.size must be a number in (0, 1000]");
    if (!wb_jget_color(json_object_get(o, "color"), &t->color))
        FAIL("text.color must be \"#rrggbb\"");
    if (wb_jget_text(json_object_get(o, "text"), draft ? 0 : 1, WB_MAX_TEXT, &t->text, &t->len))
        FAIL("text.text must be %d..%d bytes of UTF-8 without NUL", draft ? 0 : 1, WB_MAX_TEXT);
    return 0;
}

void wb_ctext_clear(wb_ctext *t)
{
    free(t->text);
    memset(t, 0, sizeof *t);
}

void wb_cupdate_clear(wb_cupdate *u)
{
    free(u->pts);
    free(u->text);
    memset(u, 0, sizeof *u);
}

/* The keys of each group, in wire order (docs/protocol.md §3 "Updates"). */
static const char *const g_keys[WB_G__COUNT][4] = {
    [WB_G_POINTS] = {"points"}, [WB_G_BOX] = {"x1", "y1", "x2", "y2"},
    [WB_G_POS] = {"x", "y"},    [WB_G_SIZE] = {"size"},
    [WB_G_TEXT] = {"text"},     [WB_G_COLOR] = {"color"},
    [WB_G_WIDTH] = {"width"},   [WB_G_FILL] = {"fill"},
};

static int key_group(const char *key)
{
    for (int g = 0; g < WB_G__COUNT; g++)
        for (int k = 0; k < 4 && g_keys[g][k]; k++)
            if (!strcmp(key, g_keys[g][k])) return g;
    return -1;
}

int wb_update_parse(const json_t *id, const json_t *set, wb_cupdate *u, bool draft, char *err,
                    size_t errlen)
{
    memset(u, 0, sizeof *u);
    if (!wb_jget_id(id, u->id)) FAIL("update id must be 1..64 chars of [A-Za-z0-9_-]");
    if (!json_is_object(set)) FAIL("update set must be an object");
    const char *key;
    const json_t *v;
    unsigned seen[WB_G__COUNT] = {0};
    json_object_foreach((json_t *)set, key, v)
    {
        int g = key_group(key);
        if (g < 0)
            FAIL("update set has an unknown key \"%.*s\"",
                 (int)wb_utf8_prefix(key, strlen(key), 32), key);
        seen[g]++;
        u->groups |= 1u << g;
    }
    if (!u->groups) FAIL("update set must hold at least one field group");
    for (int g = 0; g < WB_G__COUNT; g++) {
        unsigned want = 0;
        while (want < 4 && g_keys[g][want])
            want++;
        if (seen[g] && seen[g] != want)
            FAIL("update set must hold %s%s%s%s%s%s%s together", g_keys[g][0], ", ", g_keys[g][1],
                 want > 2 ? ", " : "", want > 2 ? g_keys[g][2] : "", want > 2 ? ", " : "",
                 want > 2 ? g_keys[g][3] : "");
    }
    if (u->groups & (1u << WB_G_POINTS) &&
        wb_jget_points(json_object_get(set, "points"), "update set.points", &u->pts, &u->npts, err,
                       errlen) < 0)
        return -1;
    if (u->groups & (1u << WB_G_BOX))
        for (int k = 0; k < 4; k++)
            if (!wb_jget_coord(json_object_get(set, g_keys[WB_G_BOX][k]), &u->box[k]))
                FAIL("update set.x1, y1, x2, y2 must be finite numbers within +-1e7");
    if (u->groups & (1u << WB_G_POS))
        for (int k = 0; k < 2; k++)
            if (!wb_jget_coord(json_object_get(set, g_keys[WB_G_POS][k]), &u->pos[k]))
                FAIL("update set.x and y must be finite numbers within +-1e7");
    if (u->groups & (1u << WB_G_SIZE) &&
        !wb_jget_posfloat(json_object_get(set, "size"), WB_MAX_FONT, &u->size))
        FAIL("update set.size must be a number in (0, 1000]");
    if (u->groups & (1u << WB_G_TEXT) &&
        wb_jget_text(json_object_get(set, "text"), draft ? 0 : 1, WB_MAX_TEXT, &u->text, &u->len))
        FAIL("update set.text must be %d..%d bytes of UTF-8 without NUL", draft ? 0 : 1,
             WB_MAX_TEXT);
    if (u->groups & (1u << WB_G_COLOR) && !wb_jget_color(json_object_get(set, "color"), &u->color))
        FAIL("update set.color must be \"#rrggbb\"");
    if (u->groups & (1u << WB_G_WIDTH) &&
        !wb_jget_posfloat(json_object_get(set, "width"), WB_MAX_WIDTH, &u->width))
        FAIL("update set.width must be a number in (0, 200]");
    if (u->groups & (1u << WB_G_FILL)) {
        const json_t *f = json_object_get(set, "fill");
        if (json_is_null(f))
            u->no_fill = true;
        else if (!wb_jget_color(f, &u->fill))
            FAIL("update set.fill must be \"#rrggbb\" or null");
    }
    return 0;
}

void wb_shape_view(const wb_cshape *c, Wb__V1__Shape *s, const char *by)
{
    wb__v1__shape__init(s);
    s->id = (char *)c->id;
    s->kind = c->kind;
    s->x1 = c->x1;
    s->y1 = c->y1;
    s->x2 = c->x2;
    s->y2 = c->y2;
    s->color = c->color;
    s->width = c->width;
    s->has_fill = c->has_fill;
    s->fill = c->has_fill ? c->fill : 0;
    s->by = (char *)by;
}

void wb_text_view(const wb_ctext *c, Wb__V1__Text *t, const char *by)
{
    wb__v1__text__init(t);
    t->id = (char *)c->id;
    t->x = c->x;
    t->y = c->y;
    t->size = c->size;
    t->color = c->color;
    t->text = c->text ? c->text : "";
    t->by = (char *)by;
}

void wb_update_view(const wb_cupdate *c, Wb__V1__Update *u)
{
    wb__v1__update__init(u);
    u->id = (char *)c->id;
    unsigned g = c->groups;
    if (g & (1u << WB_G_POINTS)) {
        u->has_points = true;
        u->points = c->pts;
        u->n_points = c->npts;
    }
    if (g & (1u << WB_G_BOX)) {
        u->has_box = true;
        u->x1 = c->box[0];
        u->y1 = c->box[1];
        u->x2 = c->box[2];
        u->y2 = c->box[3];
    }
    if (g & (1u << WB_G_POS)) {
        u->has_pos = true;
        u->x = c->pos[0];
        u->y = c->pos[1];
    }
    if (g & (1u << WB_G_SIZE)) {
        u->has_size = true;
        u->size = c->size;
    }
    if (g & (1u << WB_G_TEXT)) {
        u->has_text = true;
        u->text = c->text ? c->text : "";
    }
    if (g & (1u << WB_G_COLOR)) {
        u->has_color = true;
        u->color = c->color;
    }
    if (g & (1u << WB_G_WIDTH)) {
        u->has_width = true;
        u->width = c->width;
    }
    if (g & (1u << WB_G_FILL)) {
        u->has_fill = true;
        u->no_fill = c->no_fill;
        u->fill = c->no_fill ? 0 : c->fill;
    }
}

static void jw_color(wb_jw *w, const char *key, uint32_t rgb)
{
    char col[8];
    wb_format_color(rgb, col);
    wb_jw_lit(w, key);
    wb_jw_char(w, '"');
    wb_jw_raw(w, col, 7);
    wb_jw_char(w, '"');
}

static void jw_tenths(wb_jw *w, const char *key, int64_t t)
{
    wb_jw_lit(w, key);
    wb_jw_tenths(w, t);
}

void wb_jw_shape(wb_jw *w, const Wb__V1__Shape *s)
{
    unsigned k = (unsigned)s->kind;
    wb_jw_lit(w, "{\"type\":\"shape\",\"id\":");
    wb_jw_cstr(w, s->id);
    wb_jw_lit(w, ",\"kind\":\"");
    wb_jw_lit(w, k > 0 && k < NKINDS ? g_kinds[k] : "rect");
    wb_jw_char(w, '"');
    jw_tenths(w, ",\"x1\":", s->x1);
    jw_tenths(w, ",\"y1\":", s->y1);
    jw_tenths(w, ",\"x2\":", s->x2);
    jw_tenths(w, ",\"y2\":", s->y2);
    jw_color(w, ",\"color\":", s->color);
    wb_jw_lit(w, ",\"width\":");
    wb_jw_float(w, s->width);
    if (s->has_fill) jw_color(w, ",\"fill\":", s->fill);
    wb_jw_lit(w, ",\"by\":");
    wb_jw_cstr(w, s->by ? s->by : "");
    wb_jw_char(w, '}');
}

void wb_jw_textel(wb_jw *w, const Wb__V1__Text *t)
{
    wb_jw_lit(w, "{\"type\":\"text\",\"id\":");
    wb_jw_cstr(w, t->id);
    jw_tenths(w, ",\"x\":", t->x);
    jw_tenths(w, ",\"y\":", t->y);
    wb_jw_lit(w, ",\"size\":");
    wb_jw_float(w, t->size);
    jw_color(w, ",\"color\":", t->color);
    wb_jw_lit(w, ",\"text\":");
    wb_jw_cstr(w, t->text ? t->text : "");
    wb_jw_lit(w, ",\"by\":");
    wb_jw_cstr(w, t->by ? t->by : "");
    wb_jw_char(w, '}');
}

unsigned wb_update_groups(const Wb__V1__Update *u)
{
    return (u->has_points ? 1u << WB_G_POINTS : 0) | (u->has_box ? 1u << WB_G_BOX : 0) |
           (u->has_pos ? 1u << WB_G_POS : 0) | (u->has_size ? 1u << WB_G_SIZE : 0) |
           (u->has_text ? 1u << WB_G_TEXT : 0) | (u->has_color ? 1u << WB_G_COLOR : 0) |
           (u->has_width ? 1u << WB_G_WIDTH : 0) | (u->has_fill ? 1u << WB_G_FILL : 0);
}

void wb_jw_set(wb_jw *w, const Wb__V1__Update *u)
{
    const char *sep = "{";
    if (u->has_points) {
        wb_jw_lit(w, sep);
        wb_jw_lit(w, "\"points\":[");
        int64_t prev[2] = {0, 0};
        for (size_t i = 0; i < u->n_points; i++) {
            int64_t v = i < 2 ? u->points[i] : prev[i & 1] + u->points[i];
            prev[i & 1] = v;
            if (i) wb_jw_char(w, ',');
            wb_jw_tenths(w, v);
        }
        wb_jw_char(w, ']');
        sep = ",";
    }
    if (u->has_box) {
        wb_jw_lit(w, sep);
        jw_tenths(w, "\"x1\":", u->x1);
        jw_tenths(w, ",\"y1\":", u->y1);
        jw_tenths(w, ",\"x2\":", u->x2);
        jw_tenths(w, ",\"y2\":", u->y2);
        sep = ",";
    }
    if (u->has_pos) {
        wb_jw_lit(w, sep);
        jw_tenths(w, "\"x\":", u->x);
        jw_tenths(w, ",\"y\":", u->y);
        sep = ",";
    }
    if (u->has_size) {
        wb_jw_lit(w, sep);
        wb_jw_lit(w, "\"size\":");
        wb_jw_float(w, u->size);
        sep = ",";
    }
    if (u->has_text) {
        wb_jw_lit(w, sep);
        wb_jw_lit(w, "\"text\":");
        wb_jw_cstr(w, u->text ? u->text : "");
        sep = ",";
    }
    if (u->has_color) {
        wb_jw_lit(w, sep);
        jw_color(w, "\"color\":", u->color);
        sep = ",";
    }
    if (u->has_width) {
        wb_jw_lit(w, sep);
        wb_jw_lit(w, "\"width\":");
        wb_jw_float(w, u->width);
        sep = ",";
    }
    if (u->has_fill) {
        wb_jw_lit(w, sep);
        if (u->no_fill)
            wb_jw_lit(w, "\"fill\":null");
        else
            jw_color(w, "\"fill\":", u->fill);
        sep = ",";
    }
    if (*sep == '{') wb_jw_char(w, '{');
    wb_jw_char(w, '}');
}

/* Checks of values from the wire. */
#define MAX_TENTHS ((int64_t)(WB_MAX_COORD * 10))

static bool id_ok(const char *s)
{
    return s && wb_valid_id(s, strlen(s));
}

static bool tenths_ok(int64_t t)
{
    return t >= -MAX_TENTHS && t <= MAX_TENTHS;
}

static bool posf_ok(float f, double max)
{
    return isfinite(f) && f > 0 && f <= max;
}

static bool text_ok(const char *s, bool draft)
{
    if (!s) return false;
    size_t n = strlen(s);
    return n >= (draft ? 0u : 1u) && n <= WB_MAX_TEXT && wb_utf8_prefix(s, n, n) == n;
}

int wb_shape_check(const Wb__V1__Shape *s)
{
    if (!s || !id_ok(s->id) || s->kind < 1 || (unsigned)s->kind >= NKINDS) return -1;
    if (!tenths_ok(s->x1) || !tenths_ok(s->y1) || !tenths_ok(s->x2) || !tenths_ok(s->y2)) return -1;
    if (s->color > 0xffffff || !posf_ok(s->width, WB_MAX_WIDTH)) return -1;
    if (s->has_fill && s->fill > 0xffffff) return -1;
    return 0;
}

int wb_text_check(const Wb__V1__Text *t, bool draft)
{
    if (!t || !id_ok(t->id) || !tenths_ok(t->x) || !tenths_ok(t->y)) return -1;
    if (!posf_ok(t->size, WB_MAX_FONT) || t->color > 0xffffff || !text_ok(t->text, draft))
        return -1;
    return 0;
}

int wb_update_check(const Wb__V1__Update *u, bool draft)
{
    if (!u || !id_ok(u->id) || !wb_update_groups(u)) return -1;
    if (u->has_points && (u->n_points < 2 || u->n_points > WB_MAX_POINTS || u->n_points % 2))
        return -1;
    if (u->has_box &&
        (!tenths_ok(u->x1) || !tenths_ok(u->y1) || !tenths_ok(u->x2) || !tenths_ok(u->y2)))
        return -1;
    if (u->has_pos && (!tenths_ok(u->x) || !tenths_ok(u->y))) return -1;
    if (u->has_size && !posf_ok(u->size, WB_MAX_FONT)) return -1;
    if (u->has_text && !text_ok(u->text, draft)) return -1;
    if (u->has_color && u->color > 0xffffff) return -1;
    if (u->has_width && !posf_ok(u->width, WB_MAX_WIDTH)) return -1;
    if (u->has_fill && !u->no_fill && u->fill > 0xffffff) return -1;
    return 0;
}
