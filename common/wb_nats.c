/* wb_nats: subjects, the WB_OPS stream and shared connection options. Any thread. */
#include "wb_nats.h"

#include <stdio.h>
#include <string.h>

#include "wb_log.h"
#include "wb_valid.h"

void wb_subj_ev(char *out, size_t n, const char *board)
{
    snprintf(out, n, "wb.board.%s.ev", board);
}
void wb_subj_live(char *out, size_t n, const char *board)
{
    snprintf(out, n, "wb.board.%s.live", board);
}
void wb_subj_rp(char *out, size_t n, const char *board)
{
    snprintf(out, n, "wb.rp.%s", board);
}

int wb_subj_board(const char *subj, char *out)
{
    const char *b, *e;
    if (!strncmp(subj, "wb.rp.", 6)) {
        b = subj + 6;
        e = b + strlen(b);
    } else if (!strncmp(subj, "wb.board.", 9)) {
        b = subj + 9;
        e = strchr(b, '.');
        if (!e) return -1;
    } else {
        return -1;
    }
    size_t n = (size_t)(e - b);
    if (!wb_valid_id(b, n)) return -1;
    memcpy(out, b, n);
    out[n] = 0;
    return 0;
}

int wb_nats_stream_ensure(jsCtx *js, long long max_age_sec, int replicas)
{
    jsStreamConfig cfg;
    jsRePublish rp;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    const char *subjects[] = {WB_SUBJ_EV_ALL};

    jsStreamConfig_Init(&cfg);
    cfg.Name = WB_STREAM;
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Retention = js_LimitsPolicy;
    cfg.Discard = js_DiscardOld;
    cfg.MaxAge = max_age_sec * 1000000000LL;
    cfg.Duplicates = (int64_t)WB_DUP_WINDOW_SEC * 1000000000LL;
    cfg.AllowDirect = true;
    cfg.Replicas = replicas;
    jsRePublish_Init(&rp);
    rp.Source = WB_SUBJ_EV_ALL;
    rp.Destination = "wb.rp.{{wildcard(1)}}";
    cfg.RePublish = &rp;

    natsStatus s = js_GetStreamInfo(&si, js, WB_STREAM, NULL, &jerr);
    if (s == NATS_NOT_FOUND) {
        s = js_AddStream(&si, js, &cfg, NULL, &jerr);
        if (s == NATS_OK) wb_info("created stream %s", WB_STREAM);
    } else if (s == NATS_OK) {
        jsStreamInfo_Destroy(si);
        si = NULL;
        s = js_UpdateStream(&si, js, &cfg, NULL, &jerr);
    }
    if (si) jsStreamInfo_Destroy(si);
    if (s != NATS_OK) {
        wb_error("ensure stream %s: %s (jetstream error %d: %s)", WB_STREAM, natsStatus_GetText(s),
                 (int)jerr, nats_GetLastError(NULL));
        return -1;
    }
    return 0;
}

/* "nats://a:1,nats://b:2" -> natsOptions_SetServers (SetURL takes one URL). */
static natsStatus set_servers(natsOptions *o, const char *urls)
{
    char buf[2048];
    const char *list[WB_NATS_MAX_SERVERS];
    int n = 0;
    if (strlen(urls) >= sizeof buf) return NATS_INVALID_ARG;
    snprintf(buf, sizeof buf, "%s", urls);
    for (char *save = NULL, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        if (n == WB_NATS_MAX_SERVERS) return NATS_INVALID_ARG;
        list[n++] = t;
    }
    if (n == 0) return NATS_INVALID_ARG;
    return natsOptions_SetServers(o, list, n);
}

natsOptions *wb_nats_options(const char *url, const char *name)
{
    natsOptions *o = NULL;
    natsStatus s = natsOptions_Create(&o);
    if (s == NATS_OK) s = set_servers(o, url);
    if (s == NATS_OK) s = natsOptions_SetName(o, name);
    if (s == NATS_OK) s = natsOptions_SetMaxReconnect(o, -1);
    if (s == NATS_OK) s = natsOptions_SetReconnectWait(o, 250);
    if (s == NATS_OK) s = natsOptions_SetReconnectJitter(o, 100, 100);
    if (s == NATS_OK) s = natsOptions_SetReconnectBufSize(o, 32 * 1024 * 1024);
    if (s == NATS_OK) s = natsOptions_SetTimeout(o, 2000);
    if (s == NATS_OK) s = natsOptions_SetPingInterval(o, 2000);
    if (s == NATS_OK) s = natsOptions_SetMaxPingsOut(o, 3);
    if (s != NATS_OK) {
        wb_error("nats options (url %s): %s", url, natsStatus_GetText(s));
        natsOptions_Destroy(o);
        return NULL;
    }
    return o;
}
