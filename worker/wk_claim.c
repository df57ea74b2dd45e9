/* wk_claim: op-id claims after each committed batch (see wk_claim.h).
 * Persistence thread only; owns nothing. */
#include "wk_claim.h"

#include <stdio.h>
#include <string.h>

#include "wb_nats.h"
#include "wb_valid.h"
#include "whiteboard.pb-c.h"

void wk_claim_publish(natsConnection *nc, natsMsg *const *msgs, const uint64_t *seqs, int from,
                      int to)
{
    for (int i = from; i < to; i++) {
        natsMsg *m = msgs[i];
        char board[WB_ID_MAX + 1], subj[160], val[24];
        if (!seqs[i] || wb_subj_board(natsMsg_GetSubject(m), board) < 0) continue;
        Wb__V1__Op *op = wb__v1__op__unpack(NULL, (size_t)natsMsg_GetDataLength(m),
                                            (const uint8_t *)natsMsg_GetData(m));
        if (!op) continue;
        if (op->op_id && wb_valid_id(op->op_id, strlen(op->op_id))) {
            wb_subj_opid(subj, sizeof subj, board, op->op_id);
            int n = snprintf(val, sizeof val, "%llu", (unsigned long long)seqs[i]);
            natsConnection_Publish(nc, subj, val, n);
        }
        wb__v1__op__free_unpacked(op, NULL);
    }
}
