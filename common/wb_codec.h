/* wb_codec: client JSON messages in, protobuf (wb.v1) on NATS, JSON out.
 *
 * Parsing uses jansson and validates every field docs/protocol.md §3 constrains;
 * output is written with wb_jw in one pass. Coordinates are carried as
 * integers in tenths, delta-coded (see proto/whiteboard.proto). Pure
 * functions, any thread. */
#ifndef WB_CODEC_H
#define WB_CODEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "whiteboard.pb-c.h"
#include "wb_elem.h"
#include "wb_jw.h"
#include "wb_valid.h"

typedef enum {
    WB_C_STROKE = 1,
    WB_C_ERASE,
    WB_C_RESTORE,
    WB_C_CLEAR,
    WB_C_DRAFT,
    WB_C_CURSOR,
    WB_C_PING,
    WB_C_VIEWPORT,
    WB_C_SHAPE, /* docs/protocol.md §3 "Shapes and texts" */
    WB_C_TEXT,
    WB_C_UPDATE, /* §3 "Updates" */
} wb_ctype;

/* What a WB_C_DRAFT carries. */
typedef enum {
    WB_D_STROKE = 0,
    WB_D_SHAPE,
    WB_D_TEXT,
    WB_D_UPDATE,
} wb_dkind;

/* Error codes (docs/protocol.md §3 "Errors"). */
typedef enum {
    WB_E_NONE = 0,
    WB_E_BAD_JSON,
    WB_E_BAD_MESSAGE,
    WB_E_TOO_LARGE,
    WB_E_RATE_LIMITED,
    WB_E_UNAVAILABLE,
    WB_E_FORBIDDEN, /* docs/protocol.md §9: a view-only connection sent a durable op or a draft */
    WB_E__COUNT
} wb_errcode;

const char *wb_errcode_name(wb_errcode e);

static inline bool wb_ctype_durable(wb_ctype t)
{
    return (t >= WB_C_STROKE && t <= WB_C_CLEAR) || (t >= WB_C_SHAPE && t <= WB_C_UPDATE);
}

typedef struct wb_cstroke {
    char id[WB_ID_MAX + 1];
    uint32_t color;
    float width;
    int32_t *pts; /* malloc'd, delta-coded tenths (protobuf form) */
    size_t npts;
} wb_cstroke;

/* One parsed client message. Owns its arrays; release with wb_cmsg_clear(). */
typedef struct wb_cmsg {
    wb_ctype type;
    char op[WB_ID_MAX + 1];
    wb_dkind draft;    /* DRAFT: which of stroke, shape, text, upd it carries */
    wb_cstroke stroke; /* STROKE, DRAFT of a stroke */
    wb_cshape shape;   /* SHAPE, DRAFT of a shape */
    wb_ctext text;     /* TEXT, DRAFT of a text */
    wb_cupdate upd;    /* UPDATE, DRAFT of an update */
    char **ids;        /* ERASE, RESTORE: malloc'd strings */
    size_t nids;
    double x, y;  /* CURSOR, VIEWPORT: relayed as sent (finite, within +-1e7) */
    double scale; /* VIEWPORT: zoom, within [WB_MIN_SCALE, WB_MAX_SCALE] */
    bool lead;    /* VIEWPORT: "follow me" (optional boolean, default false) */
    json_t *ts;   /* PING: the value to echo (a reference) */
} wb_cmsg;

/* Parses one message object. Returns WB_E_NONE, or WB_E_BAD_JSON (not an
 * object) / WB_E_BAD_MESSAGE with a short reason in err. On failure m->op
 * holds the op id if one could be read (for the error's "op" field). */
wb_errcode wb_cmsg_parse(const json_t *obj, wb_cmsg *m, char *err, size_t errlen);
void wb_cmsg_clear(wb_cmsg *m);

/* Builds the protobuf Op for a durable message and packs it. *out is
 * malloc'd. Returns 0 or -1 (out of memory). */
int wb_op_pack(const wb_cmsg *m, const char *board, const char *client_id, const char *gateway,
               int64_t time_ms, uint8_t **out, size_t *outlen);

/* Packs a Live message for a draft, cursor or viewport. */
int wb_live_pack(const wb_cmsg *m, const char *board, const char *gateway, const char *client_id,
                 const char *name, int64_t time_ms, uint8_t **out, size_t *outlen);

/* JSON writers. */
void wb_jw_stroke(wb_jw *w, const Wb__V1__Stroke *s);
/* {"t":"ev","seq":S,"op":..,"from":..,"kind":..,...} */
void wb_jw_ev(wb_jw *w, uint64_t seq, const Wb__V1__Op *op);
/* {"t":"draft",...}, {"t":"cursor",...} or {"t":"viewport",...} (not presence).
 * Returns -1 if the body is none of them or fails wb_live_check(). */
int wb_jw_live(wb_jw *w, const Wb__V1__Live *l);

const char *wb_kind_name(Wb__V1__Kind k);

/* One presence entry: {"id":..,"name":..,"color":..,"role":..}; role NULL or
 * empty: "editor". */
void wb_jw_presence_client(wb_jw *w, const char *id, const char *name, const char *color,
                           const char *role);

/* Checks an unpacked Op from the wire (it may come from any NATS publisher):
 * ids, kind, stroke shape. Returns 0 if usable. */
int wb_op_check(const Wb__V1__Op *op);
/* The same for the shape, text and update drafts of a Live (others: 0). */
int wb_live_check(const Wb__V1__Live *l);

#endif
