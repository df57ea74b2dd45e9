/* libFuzzer target: the client-message parser, end to end as the gateway
 * runs it: JSON frame -> message objects -> validation -> protobuf -> JSON. */
#include <stdint.h>
#include <stdlib.h>

#include "wb_codec.h"

static void one(const json_t *obj)
{
    wb_cmsg m;
    char err[160];
    if (wb_cmsg_parse(obj, &m, err, sizeof err) == WB_E_NONE) {
        uint8_t *data = NULL;
        size_t len = 0;
        wb_jw w;
        wb_jw_init(&w, 16, 64);
        if (wb_ctype_durable(m.type) &&
            wb_op_pack(&m, "board", "client", "gw-1", 1, &data, &len) == 0) {
            Wb__V1__Op *op = wb__v1__op__unpack(NULL, len, data);
            if (!op || wb_op_check(op) != 0) abort(); /* what we pack must be valid */
            wb_jw_ev(&w, 1, op);
            json_error_t je;
            json_t *back = json_loadb(wb_jw_text(&w), w.len, 0, &je);
            if (!back) abort(); /* what we write must be JSON */
            json_decref(back);
            wb__v1__op__free_unpacked(op, NULL);
        } else if ((m.type == WB_C_DRAFT || m.type == WB_C_CURSOR || m.type == WB_C_VIEWPORT) &&
                   wb_live_pack(&m, "board", "gw-1", "client", "name", 1, &data, &len) == 0) {
            Wb__V1__Live *l = wb__v1__live__unpack(NULL, len, data);
            if (!l || wb_jw_live(&w, l) != 0) abort();
            wb__v1__live__free_unpacked(l, NULL);
        }
        free(data);
        wb_jw_free(&w);
    }
    wb_cmsg_clear(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t je;
    json_t *root = json_loadb((const char *)data, size, 0, &je);
    if (!root) return 0;
    if (json_is_array(root)) {
        size_t i;
        json_t *v;
        json_array_foreach(root, i, v) one(v);
    } else {
        one(root);
    }
    json_decref(root);
    return 0;
}
