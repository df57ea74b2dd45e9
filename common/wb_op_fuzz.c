/* libFuzzer target: the protobuf decoder for ops, snapshot chunks and live
 * messages from NATS (any publisher can send anything), the JSON writer and
 * the fold. */
#include <stdint.h>
#include <stdlib.h>

#include "wb_codec.h"
#include "wb_fold.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wb_jw w;
    wb_jw_init(&w, 0, 64);
    Wb__V1__Op *op = wb__v1__op__unpack(NULL, size, data);
    if (op && wb_op_check(op) == 0) {
        wb_jw_ev(&w, 1, op);
        wb_fold f;
        wb_fold_init(&f);
        wb_fold_apply(&f, 2, op);
        wb_fold_json_strokes(&f, &w);
        wb_fold_free(&f);
    }
    if (op) wb__v1__op__free_unpacked(op, NULL);
    /* A worker's snapshot chunk (element records, update records) merged. */
    Wb__V1__SnapshotChunk *ch = wb__v1__snapshot_chunk__unpack(NULL, size, data);
    if (ch) {
        wb_fold f;
        wb_fold_init(&f);
        for (size_t i = 0; i < ch->n_strokes; i++)
            wb_fold_add_snap(&f, ch->strokes[i]);
        wb_fold_json_strokes(&f, &w);
        wb_fold_free(&f);
        wb__v1__snapshot_chunk__free_unpacked(ch, NULL);
    }
    Wb__V1__Live *l = wb__v1__live__unpack(NULL, size, data);
    if (l) {
        wb_jw_live(&w, l);
        wb__v1__live__free_unpacked(l, NULL);
    }
    wb_jw_free(&w);
    return 0;
}
