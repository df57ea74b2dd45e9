/* wk_claim: op-id claims after each committed batch (see wk_claim.h).
 * Persistence thread only; owns nothing. */
#include "wk_claim.h"

#include <stdio.h>
#include <string.h>

#include "wb_nats.h"
#include "wb_valid.h"
#include "whiteboard.pb-c.h"

/* The op id of a stored message: its Nats-Msg-Id header ("{op}", or
 * "{board}:{op}" after a cross-board collision), else from the payload. */
static int op_id_of(natsMsg *m, char out[WB_ID_MAX + 1])
{
    const char *id = NULL;
    if (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) == NATS_OK && id) {
        const char *colon = strchr(id, ':');
        const char *op = colon ? colon + 1 : id;
        if (!wb_valid_id(op, strlen(op))) return -1;
        snprintf(out, WB_ID_MAX + 1, "%s", op);
        return 0;
    }
    Wb__V1__Op *o = wb__v1__op__unpack(NULL, (size_t)natsMsg_GetDataLength(m),
                                       (const uint8_t *)natsMsg_GetData(m));
    int rc = -1;
    if (o && o->op_id && wb_valid_id(o->op_id, strlen(o->op_id))) {
        snprintf(out, WB_ID_MAX + 1, "%s", o->op_id);
        rc = 0;
    }
    if (o) wb__v1__op__free_unpacked(o, NULL);
    return rc;
}

void wk_claim_publish(natsConnection *nc, natsMsg *const *msgs, const uint64_t *seqs, int from,
                      int to)
{
    for (int i = from; i < to; i++) {
        natsMsg *m = msgs[i];
        char board[WB_ID_MAX + 1], op[WB_ID_MAX + 1], subj[160], val[24];
        if (!seqs[i] || wb_subj_board(natsMsg_GetSubject(m), board) < 0 || op_id_of(m, op) < 0)
            continue;
        wb_subj_opid(subj, sizeof subj, board, op);
        int n = snprintf(val, sizeof val, "%llu", (unsigned long long)seqs[i]);
        natsConnection_Publish(nc, subj, val, n);
    }
}
