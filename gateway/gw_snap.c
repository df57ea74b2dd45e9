/* gw_snap: the snapshot merge (see gw_snap.h): worker chunks + replayed ops
 * into one wb_fold, and its JSON. No I/O; gw_sync.c does the NATS side. */
#include "gw_snap.h"

int gw_snap_chunk(wb_fold *f, Wb__V1__SnapshotChunk *ch, uint32_t want, uint64_t *S,
                  const char **err)
{
    if (ch->error && *ch->error) {
        *err = "the worker reported an error";
        wb__v1__snapshot_chunk__free_unpacked(ch, NULL);
        return -1;
    }
    if (ch->index != want) {
        *err = "chunk out of order";
        wb__v1__snapshot_chunk__free_unpacked(ch, NULL);
        return -1;
    }
    *S = ch->seq;
    wb_fold_clear_at(f, ch->max_clear_seq);
    for (size_t i = 0; i < ch->n_strokes; i++)
        if (wb_fold_add_snap(f, ch->strokes[i]) < 0) {
            *err = "out of memory";
            wb__v1__snapshot_chunk__free_unpacked(ch, NULL);
            return -1;
        }
    bool last = ch->last;
    if (wb_fold_own(f, &ch->base) < 0) {
        *err = "out of memory";
        wb__v1__snapshot_chunk__free_unpacked(ch, NULL);
        return -1;
    }
    return last ? 1 : 0;
}

int gw_snap_op(wb_fold *f, uint64_t seq, Wb__V1__Op *op)
{
    if (wb_fold_own(f, &op->base) < 0) {
        wb__v1__op__free_unpacked(op, NULL);
        return -1;
    }
    return wb_fold_apply(f, seq, op);
}

gw_buf *gw_snap_render(bool api, const char *board, wb_fold *f, uint64_t E)
{
    wb_jw w;
    wb_jw_init(&w, GW_BUF_HEAD, 4096);
    if (api) {
        wb_jw_lit(&w, "{\"board\":");
        wb_jw_cstr(&w, board);
        wb_jw_lit(&w, ",\"seq\":");
    } else {
        wb_jw_lit(&w, "{\"t\":\"snapshot\",\"seq\":");
    }
    wb_jw_u64(&w, E);
    wb_jw_lit(&w, ",\"strokes\":");
    wb_fold_json_strokes(f, &w);
    wb_jw_char(&w, '}');
    return gw_buf_from_jw(&w, GW_BUF_CTL, 0);
}
