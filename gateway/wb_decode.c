/* wb-decode: reads one protobuf wb.v1.Op (or Live) on stdin and prints it as
 * one line of JSON. For observers: nats sub 'wb.board.*.ev' --translate wb-decode.
 * Single-threaded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb_codec.h"

int main(int argc, char **argv)
{
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len, stdin)) > 0) {
        len += n;
        if (len == cap) buf = realloc(buf, cap *= 2);
    }
    if (!buf) return 1;
    bool live = argc > 1 && !strcmp(argv[1], "--live");
    wb_jw w;
    wb_jw_init(&w, 0, 1024);
    int rc = 0;
    if (live) {
        Wb__V1__Live *l = wb__v1__live__unpack(NULL, len, buf);
        if (!l || wb_jw_live(&w, l) < 0) rc = 1;
        if (l) wb__v1__live__free_unpacked(l, NULL);
    } else {
        Wb__V1__Op *op = wb__v1__op__unpack(NULL, len, buf);
        if (!op) {
            rc = 1;
        } else {
            /* {"board":..,"op":..,"from":..,"kind":..,...,"time_ms":..,"gateway":..} */
            wb_jw_lit(&w, "{\"board\":");
            wb_jw_cstr(&w, op->board);
            wb_jw_lit(&w, ",\"time_ms\":");
            wb_jw_i64(&w, op->time_ms);
            wb_jw_lit(&w, ",\"gateway\":");
            wb_jw_cstr(&w, op->gateway);
            wb_jw_lit(&w, ",\"ev\":");
            wb_jw_ev(&w, 0, op);
            wb_jw_char(&w, '}');
            wb__v1__op__free_unpacked(op, NULL);
        }
    }
    if (rc) {
        fprintf(stdout, "{\"error\":\"not a wb.v1.%s message (%zu bytes)\"}\n",
                live ? "Live" : "Op", len);
    } else {
        fwrite(wb_jw_text(&w), 1, w.len, stdout);
        fputc('\n', stdout);
    }
    wb_jw_free(&w);
    free(buf);
    return rc;
}
