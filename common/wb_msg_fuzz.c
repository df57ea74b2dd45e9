/* libFuzzer target: the gateway's own client-frame path (wb_frame: limits,
 * JSON, array splitting, validation, one error per frame) and, for every
 * message it accepts, what the gateway does next: protobuf -> JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wb_frame.h"

static bool on_msg(void *ctx, const wb_cmsg *m)
{
    uint8_t *data = NULL;
    size_t len = 0;
    wb_jw w;
    wb_jw_init(&w, 16, 64);
    if (wb_ctype_durable(m->type) &&
        wb_op_pack(m, "board", "client", "gw-1", 1, &data, &len) == 0) {
        Wb__V1__Op *op = wb__v1__op__unpack(NULL, len, data);
        if (!op || wb_op_check(op) != 0) abort(); /* what we pack must be valid */
        wb_jw_ev(&w, 1, op);
        json_error_t je;
        json_t *back = json_loadb(wb_jw_text(&w), w.len, 0, &je);
        if (!back) abort(); /* what we write must be JSON */
        json_decref(back);
        wb__v1__op__free_unpacked(op, NULL);
    } else if ((m->type == WB_C_DRAFT || m->type == WB_C_CURSOR || m->type == WB_C_VIEWPORT) &&
               wb_live_pack(m, "board", "gw-1", "client", "name", 1, &data, &len) == 0) {
        Wb__V1__Live *l = wb__v1__live__unpack(NULL, len, data);
        if (!l || wb_jw_live(&w, l) != 0) abort();
        wb__v1__live__free_unpacked(l, NULL);
    }
    free(data);
    wb_jw_free(&w);
    return true;
}

static void on_error(void *ctx, wb_errcode code, const char *op, const char *msg)
{
    int *errors = ctx;
    size_t n = strlen(msg);
    /* An error message goes into a text frame: it must be UTF-8. */
    if (++*errors > 1 || code <= WB_E_NONE || code >= WB_E__COUNT ||
        wb_utf8_prefix(msg, n, n) != n || (op && *op && !wb_valid_id(op, strlen(op))))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const wb_frame_cfg cfg = {.rate = 200,
                                     .burst = 400,
                                     .byte_rate = 1 << 20,
                                     .byte_burst = 4 << 20,
                                     .abuse_refusals = 2000,
                                     .max_ids = 1000};
    wb_frame_in in;
    int errors = 0;
    wb_frame_init(&in, &cfg, 1000000);
    wb_frame_sink sink = {on_msg, on_error, &errors};
    wb_frame_handle(&in, (const char *)data, size, 1000000, &sink);
    return 0;
}
