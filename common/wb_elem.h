/* wb_elem: shapes, texts and updates (docs/protocol.md §3 "Shapes and
 * texts", "Updates"): client JSON in, protobuf views, JSON out, checks of
 * unpacked protobuf from NATS. Pure functions, any thread. */
#ifndef WB_ELEM_H
#define WB_ELEM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "whiteboard.pb-c.h"
#include "wb_jw.h"
#include "wb_valid.h"

/* Field groups of an update (docs/protocol.md §3 "Updates"), in wire order. */
typedef enum {
    WB_G_POINTS = 0,
    WB_G_BOX,
    WB_G_POS,
    WB_G_SIZE,
    WB_G_TEXT,
    WB_G_COLOR,
    WB_G_WIDTH,
    WB_G_FILL,
    WB_G__COUNT
} wb_group;

/* The groups that apply to each element type (bit 1 << wb_group). */
#define WB_GROUPS_STROKE ((1u << WB_G_POINTS) | (1u << WB_G_COLOR) | (1u << WB_G_WIDTH))
#define WB_GROUPS_SHAPE                                                                            \
    ((1u << WB_G_BOX) | (1u << WB_G_COLOR) | (1u << WB_G_WIDTH) | (1u << WB_G_FILL))
#define WB_GROUPS_TEXT                                                                             \
    ((1u << WB_G_POS) | (1u << WB_G_SIZE) | (1u << WB_G_TEXT) | (1u << WB_G_COLOR))

typedef struct wb_cshape {
    char id[WB_ID_MAX + 1];
    Wb__V1__ShapeKind kind;
    int32_t x1, y1, x2, y2; /* tenths */
    uint32_t color;
    float width;
    bool has_fill;
    uint32_t fill;
} wb_cshape;

typedef struct wb_ctext {
    char id[WB_ID_MAX + 1];
    int32_t x, y; /* tenths */
    float size;
    uint32_t color;
    char *text; /* malloc'd, NUL-terminated UTF-8 without NUL */
    size_t len;
} wb_ctext;

typedef struct wb_cupdate {
    char id[WB_ID_MAX + 1];
    unsigned groups; /* bit 1 << wb_group per group present */
    int32_t *pts;    /* points: malloc'd, delta-coded tenths */
    size_t npts;
    int32_t box[4]; /* x1, y1, x2, y2 in tenths */
    int32_t pos[2]; /* x, y in tenths */
    float size;
    char *text; /* malloc'd */
    size_t len;
    uint32_t color;
    float width;
    bool no_fill; /* fill group: null (remove) */
    uint32_t fill;
} wb_cupdate;

/* Parse one element object / update. Return 0, or -1 with a reason in err.
 * A draft text may be empty. The caller clears with the *_clear functions
 * (also after a failure). */
int wb_shape_parse(const json_t *o, wb_cshape *s, char *err, size_t errlen);
int wb_text_parse(const json_t *o, wb_ctext *t, bool draft, char *err, size_t errlen);
/* id: the element id; set: the SET object. */
int wb_update_parse(const json_t *id, const json_t *set, wb_cupdate *u, bool draft, char *err,
                    size_t errlen);
void wb_ctext_clear(wb_ctext *t);
void wb_cupdate_clear(wb_cupdate *u);

/* Protobuf views pointing into the parsed values (valid while they are). */
void wb_shape_view(const wb_cshape *c, Wb__V1__Shape *s, const char *by);
void wb_text_view(const wb_ctext *c, Wb__V1__Text *t, const char *by);
void wb_update_view(const wb_cupdate *c, Wb__V1__Update *u);

/* JSON writers: the element objects and an update's SET object (rounded
 * values, keys in the order of docs/protocol.md §3). */
void wb_jw_shape(wb_jw *w, const Wb__V1__Shape *s);
void wb_jw_textel(wb_jw *w, const Wb__V1__Text *t);
void wb_jw_set(wb_jw *w, const Wb__V1__Update *u);

/* The groups an unpacked Update carries (bit 1 << wb_group). */
unsigned wb_update_groups(const Wb__V1__Update *u);

/* Checks of unpacked protobuf from the wire (any NATS publisher): ids,
 * ranges, UTF-8. draft: a text may be empty. Return 0 if usable. */
int wb_shape_check(const Wb__V1__Shape *s);
int wb_text_check(const Wb__V1__Text *t, bool draft);
int wb_update_check(const Wb__V1__Update *u, bool draft);

#endif
