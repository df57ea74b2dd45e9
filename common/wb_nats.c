/* wb_nats: subjects, the WB_OPS stream and shared connection options. Any thread. */
#include "wb_nats.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
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

static bool str_eq(const char *a, const char *b)
{
    return !strcmp(a ? a : "", b ? b : "");
}

/* The settings ensure_one() sets are already those of the stream. */
static bool same_config(const jsStreamConfig *have, const jsStreamConfig *want)
{
    if (have->SubjectsLen != want->SubjectsLen) return false;
    for (int i = 0; i < want->SubjectsLen; i++)
        if (!str_eq(have->Subjects[i], want->Subjects[i])) return false;
    const jsRePublish *hr = have->RePublish, *wr = want->RePublish;
    if (!hr != !wr) return false;
    if (wr && (!str_eq(hr->Source, wr->Source) || !str_eq(hr->Destination, wr->Destination)))
        return false;
    return have->Storage == want->Storage && have->Retention == want->Retention &&
           have->Discard == want->Discard && have->MaxAge == want->MaxAge &&
           have->MaxBytes == want->MaxBytes && have->MaxMsgSize == want->MaxMsgSize &&
           /* 0 asks for the server's default (2 minutes) */
           (have->Duplicates == want->Duplicates || want->Duplicates == 0) &&
           have->AllowDirect == want->AllowDirect && have->Replicas == want->Replicas &&
           have->DiscardNewPerSubject == want->DiscardNewPerSubject &&
           /* 0 and -1 both mean no limit; the server reports -1 */
           (have->MaxMsgsPerSubject > 0 ? have->MaxMsgsPerSubject : -1) ==
               (want->MaxMsgsPerSubject > 0 ? want->MaxMsgsPerSubject : -1);
}

/* Creates the stream, or updates it to cfg when it differs (an update
 * through nats.c 3.4, which does not know allow_atomic, would turn atomic
 * batch publish off). Returns 0 or -1 (logged). */
static int ensure_one(jsCtx *js, jsStreamConfig *cfg)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, js, cfg->Name, NULL, &jerr);
    if (s == NATS_NOT_FOUND) {
        s = js_AddStream(&si, js, cfg, NULL, &jerr);
        if (s == NATS_OK) wb_info("created stream %s", cfg->Name);
    } else if (s == NATS_OK && !same_config(si->Config, cfg)) {
        jsStreamInfo_Destroy(si);
        si = NULL;
        s = js_UpdateStream(&si, js, cfg, NULL, &jerr);
        if (s == NATS_OK) wb_info("updated stream %s", cfg->Name);
    }
    if (si) jsStreamInfo_Destroy(si);
    if (s != NATS_OK) {
        wb_error("ensure stream %s: %s (jetstream error %d: %s)", cfg->Name, natsStatus_GetText(s),
                 (int)jerr, nats_GetLastError(NULL));
        return -1;
    }
    return 0;
}

/* Turns on allow_atomic (atomic batch publish, nats-server >= 2.12) on
 * WB_OPS: nats.c 3.4 does not know the field, so the stream's config is read
 * and written back as JSON. Returns 0 or -1 (logged: durable ops then go one
 * by one, which is correct, only slower). */
static int allow_atomic(natsConnection *nc)
{
    natsMsg *r = NULL;
    json_t *info = NULL, *upd = NULL;
    char *body = NULL;
    int rc = -1;
    natsStatus s = natsConnection_RequestString(&r, nc, "$JS.API.STREAM.INFO." WB_STREAM, "", 3000);
    if (s != NATS_OK) goto out;
    info = json_loadb(natsMsg_GetData(r), (size_t)natsMsg_GetDataLength(r), 0, NULL);
    json_t *cfg = info ? json_object_get(info, "config") : NULL;
    if (!json_is_object(cfg)) goto out;
    if (json_is_true(json_object_get(cfg, "allow_atomic"))) {
        rc = 0;
        goto out;
    }
    json_object_set_new(cfg, "allow_atomic", json_true());
    if (!(body = json_dumps(cfg, JSON_COMPACT))) goto out;
    natsMsg_Destroy(r);
    r = NULL;
    s = natsConnection_RequestString(&r, nc, "$JS.API.STREAM.UPDATE." WB_STREAM, body, 3000);
    if (s != NATS_OK) goto out;
    upd = json_loadb(natsMsg_GetData(r), (size_t)natsMsg_GetDataLength(r), 0, NULL);
    json_t *ucfg = upd ? json_object_get(upd, "config") : NULL;
    if (json_is_true(json_object_get(ucfg, "allow_atomic"))) {
        wb_info("stream %s: atomic batch publish enabled", WB_STREAM);
        rc = 0;
    }
out:
    if (rc)
        wb_warn("stream %s: cannot enable atomic batch publish (%s): durable ops go one by one",
                WB_STREAM, s != NATS_OK ? natsStatus_GetText(s) : "refused");
    free(body);
    json_decref(info);
    json_decref(upd);
    natsMsg_Destroy(r);
    return rc;
}

int wb_nats_stream_ensure(natsConnection *nc, jsCtx *js, const wb_stream_limits *lim)
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
    /* Checked every time: a server upgraded to >= 2.12, or another program
     * that updated the stream with an older client, may have it off. */
    allow_atomic(nc);

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
    /* Without a write deadline nats.c's socket blocks: a server that stops
     * reading (hung, or cut off by a partition) blocks send() forever with
     * the connection lock held, so nats.c cannot even notice the stale
     * connection, and every thread that publishes (the gateway's loop) waits
     * on that lock. With it the write gives up, the socket is shut and
     * nats.c reconnects (nats.c#215, #272). A server that is alive drains a
     * socket buffer in far less than this. */
    if (s == NATS_OK) s = natsOptions_SetWriteDeadline(o, WB_NATS_WRITE_DEADLINE_MS);
    if (s == NATS_OK) s = natsOptions_SetPingInterval(o, 2000);
    if (s == NATS_OK) s = natsOptions_SetMaxPingsOut(o, 3);
    if (s != NATS_OK) {
        wb_error("nats options (url %s): %s", url, natsStatus_GetText(s));
        natsOptions_Destroy(o);
        return NULL;
    }
    return o;
}
