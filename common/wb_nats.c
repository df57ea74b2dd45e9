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

void wb_subj_opid(char *out, size_t n, const char *board, const char *op)
{
    snprintf(out, n, "wb.opid.%s.%s", board, op);
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

/* Creates the stream, or updates it to cfg. Returns 0 or -1 (logged). */
static int ensure_one(jsCtx *js, jsStreamConfig *cfg)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, js, cfg->Name, NULL, &jerr);
    if (s == NATS_NOT_FOUND) {
        s = js_AddStream(&si, js, cfg, NULL, &jerr);
        if (s == NATS_OK) wb_info("created stream %s", cfg->Name);
    } else if (s == NATS_OK) {
        jsStreamInfo_Destroy(si);
        si = NULL;
        s = js_UpdateStream(&si, js, cfg, NULL, &jerr);
    }
    if (si) jsStreamInfo_Destroy(si);
    if (s != NATS_OK) {
        wb_error("ensure stream %s: %s (jetstream error %d: %s)", cfg->Name, natsStatus_GetText(s),
                 (int)jerr, nats_GetLastError(NULL));
        return -1;
    }
    return 0;
}

int wb_nats_stream_ensure(jsCtx *js, const wb_stream_limits *lim)
{
    jsStreamConfig cfg;
    jsRePublish rp;
    const char *subjects[] = {WB_SUBJ_EV_ALL};
    long long dedup = lim->dedup_window_s > 0 ? lim->dedup_window_s : WB_DUP_WINDOW_SEC;
    if (lim->max_age_s > 0 && dedup > lim->max_age_s) dedup = lim->max_age_s;

    jsStreamConfig_Init(&cfg);
    cfg.Name = WB_STREAM;
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Retention = js_LimitsPolicy;
    cfg.Discard = js_DiscardOld;
    cfg.MaxAge = lim->max_age_s * 1000000000LL;
    cfg.MaxBytes = lim->max_bytes > 0 ? lim->max_bytes : -1;
    cfg.MaxMsgSize = (int32_t)lim->max_msg_size;
    cfg.Duplicates = (int64_t)dedup * 1000000000LL;
    cfg.AllowDirect = true;
    cfg.Replicas = lim->replicas > 0 ? (int)lim->replicas : 1;
    jsRePublish_Init(&rp);
    rp.Source = WB_SUBJ_EV_ALL;
    rp.Destination = "wb.rp.{{wildcard(1)}}";
    cfg.RePublish = &rp;
    if (ensure_one(js, &cfg) < 0) return -1;

    /* One claim per board and op id, the first one kept forever: a resend
     * after the dedup window is answered with the seq that stored it. */
    const char *osubjects[] = {WB_SUBJ_OPID_ALL};
    jsStreamConfig_Init(&cfg);
    cfg.Name = WB_OPIDS_STREAM;
    cfg.Subjects = osubjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Retention = js_LimitsPolicy;
    cfg.Discard = js_DiscardNew;
    cfg.DiscardNewPerSubject = true;
    cfg.MaxMsgsPerSubject = 1;
    cfg.MaxMsgSize = 64;
    cfg.AllowDirect = true;
    cfg.Replicas = lim->replicas > 0 ? (int)lim->replicas : 1;
    return ensure_one(js, &cfg);
}

static const char *g_user, *g_password_file; /* set once at start (wb_nats_set_auth) */

void wb_nats_set_auth(const char *user, const char *password_file)
{
    g_user = user && *user ? user : NULL;
    g_password_file = password_file;
}

/* Reads the first line of the password file into out. Returns 0 or -1. */
static int read_password(char *out, size_t n)
{
    FILE *f = fopen(g_password_file ? g_password_file : "", "r");
    if (!f) {
        wb_syserr("nats password file %s", g_password_file ? g_password_file : "(none)");
        return -1;
    }
    if (!fgets(out, (int)n, f)) out[0] = 0;
    fclose(f);
    out[strcspn(out, "\r\n")] = 0;
    if (!out[0]) {
        wb_error("nats password file %s is empty", g_password_file);
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
    if (s == NATS_OK && g_user) {
        char pw[256];
        if (read_password(pw, sizeof pw) < 0) {
            natsOptions_Destroy(o);
            return NULL;
        }
        s = natsOptions_SetUserInfo(o, g_user, pw);
        memset(pw, 0, sizeof pw);
    }
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
