/* wb_frame: the gateway's path for one complete client text frame: the
 * per-connection limits (messages and bytes per second), JSON parsing,
 * splitting an array frame into messages, validation (wb_cmsg_parse plus
 * the configured caps), and at most one error per frame. Valid messages go
 * to a sink the caller provides (the gateway publishes them; the fuzz
 * target packs and checks them). The connection's thread only. */
#ifndef WB_FRAME_H
#define WB_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wb_codec.h"
#include "wb_ratelimit.h"

/* Limits of one connection (set once; 0 in a cap means the protocol maximum). */
typedef struct wb_frame_cfg {
    double rate, burst;           /* messages per second, burst */
    double byte_rate, byte_burst; /* frame bytes per second, burst (>= the largest frame) */
    uint32_t abuse_refusals;      /* refusals within ~5 s that make the frame path say "abuse" */
    size_t max_points;            /* numbers in one stroke's points */
    size_t max_ids;               /* ids in one erase/restore */
} wb_frame_cfg;

/* Per-connection state of the frame path. Owned by the connection. */
typedef struct wb_frame_in {
    wb_frame_cfg cfg;
    wb_bucket msgs, bytes;
} wb_frame_in;

/* Where a frame's results go. msg returns false to stop the frame (the
 * connection started closing). error is called at most once per frame. */
typedef struct wb_frame_sink {
    bool (*msg)(void *ctx, const wb_cmsg *m);
    void (*error)(void *ctx, wb_errcode code, const char *op, const char *msg);
    void *ctx;
} wb_frame_sink;

/* What one frame did, for the caller's metrics. */
typedef struct wb_frame_stats {
    size_t msgs;    /* messages (or unparsable frames) counted */
    size_t refused; /* refused by a rate limit */
    size_t invalid; /* refused as bad_json / bad_message */
    bool abuse;     /* sustained rate-limit abuse: close the connection (1008) */
} wb_frame_stats;

void wb_frame_init(wb_frame_in *in, const wb_frame_cfg *cfg, int64_t now_us);

/* Handles one complete text frame buf[0..len). */
wb_frame_stats wb_frame_handle(wb_frame_in *in, const char *buf, size_t len, int64_t now_us,
                               const wb_frame_sink *sink);

#endif
