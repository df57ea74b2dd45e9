/* bench_sample: what wb-bench measures besides messages: CPU and RSS of
 * processes (/proc), host CPU and load, and the worker's Prometheus
 * metrics over plain HTTP (between phases only). lws service thread. */
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "bench.h"

/* /proc/PID/stat utime+stime and /proc/PID/status VmRSS; pid 0 = self. */
static void proc_read(int pid, proc_sample *s)
{
    char path[64], buf[4096];
    s->cpu_s = -1;
    s->rss_kb = -1;
    snprintf(path, sizeof path, pid ? "/proc/%d/stat" : "/proc/self/stat", pid);
    FILE *f = fopen(path, "r");
    if (f) {
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = 0;
        fclose(f);
        char *p = strrchr(buf, ')');
        unsigned long ut, st;
        /* after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime
         * stime */
        if (p &&
            sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
            s->cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
    }
    snprintf(path, sizeof path, pid ? "/proc/%d/status" : "/proc/self/status", pid);
    f = fopen(path, "r");
    if (f) {
        while (fgets(buf, sizeof buf, f))
            if (!strncmp(buf, "VmRSS:", 6)) s->rss_kb = strtol(buf + 6, NULL, 10);
        fclose(f);
    }
}

void bench_host_read(host_sample *h)
{
    unsigned long long v[8] = {0};
    memset(h, 0, sizeof *h);
    FILE *f = fopen("/proc/stat", "r");
    if (f) {
        if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]) == 8) {
            for (int i = 0; i < 8; i++)
                h->total += v[i];
            h->busy = h->total - v[3] - v[4];
        }
        fclose(f);
    }
    f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &h->load1) != 1) h->load1 = -1;
        fclose(f);
    }
}

/* slot 0..pid_n-1 = the given pids, slot pid_n = the bench itself */
void bench_proc_all(proc_sample *s)
{
    for (int i = 0; i < B.cfg.pid_n; i++)
        proc_read(B.cfg.pid[i], &s[i]);
    proc_read(0, &s[B.cfg.pid_n]);
}

/* Blocking HTTP/1.0 GET of http://host:port/path (2 s timeout); returns a
 * malloc'd body or NULL. Used between phases only. */
static char *http_get(const char *url)
{
    char host[256], path[512] = "/";
    int port = 80;
    if (strncmp(url, "http://", 7)) return NULL;
    const char *h = url + 7, *slash = strchr(h, '/');
    size_t hl = slash ? (size_t)(slash - h) : strlen(h);
    if (hl >= sizeof host) return NULL;
    memcpy(host, h, hl);
    host[hl] = 0;
    if (slash) snprintf(path, sizeof path, "%s", slash);
    char *colon = strchr(host, ':');
    if (colon) {
        *colon = 0;
        port = atoi(colon + 1);
    }
    char ports[16];
    snprintf(ports, sizeof ports, "%d", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
    if (getaddrinfo(host, ports, &hints, &ai)) return NULL;
    int fd = socket(ai->ai_family, SOCK_STREAM, 0);
    struct timeval tv = {2, 0};
    if (fd < 0) {
        freeaddrinfo(ai);
        return NULL;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen)) {
        freeaddrinfo(ai);
        close(fd);
        return NULL;
    }
    freeaddrinfo(ai);
    char req[1024];
    int rl = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path, host);
    if (write(fd, req, (size_t)rl) != rl) {
        close(fd);
        return NULL;
    }
    size_t cap = 65536, len = 0;
    char *b = malloc(cap);
    for (;;) {
        if (len + 4096 > cap) {
            if (cap > (8u << 20)) break;
            cap *= 2;
            b = realloc(b, cap);
        }
        ssize_t r = read(fd, b + len, cap - len - 1);
        if (r <= 0) break;
        len += (size_t)r;
    }
    close(fd);
    b[len] = 0;
    char *body = strstr(b, "\r\n\r\n");
    if (!body) {
        free(b);
        return NULL;
    }
    memmove(b, body + 4, strlen(body + 4) + 1);
    return b;
}

/* Every Prometheus sample whose name contains "lag", "persist" or "pending". */
json_t *bench_fetch_metrics(void)
{
    if (!B.cfg.worker_metrics) return NULL;
    char *body = http_get(B.cfg.worker_metrics);
    if (!body) return json_pack("{s:s}", "error", "fetch failed");
    json_t *o = json_object();
    for (char *line = strtok(body, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#') continue;
        char *sp = strrchr(line, ' ');
        if (!sp) continue;
        *sp = 0;
        if (strstr(line, "lag") || strstr(line, "persist") || strstr(line, "pending"))
            json_object_set_new(o, line, json_real(strtod(sp + 1, NULL)));
    }
    free(body);
    return o;
}

/* For each Prometheus histogram in both samples (a base with _count, _sum
 * and _bucket{le=...}): what was observed between them, as count, mean
 * and the bucket bounds holding the median and the 99th percentile. */
json_t *bench_hist_delta(json_t *a, json_t *b)
{
    json_t *out = json_object();
    const char *key;
    json_t *v;
    if (!a || !b) return out;
    json_object_foreach(b, key, v)
    {
        size_t kl = strlen(key);
        if (kl < 7 || strcmp(key + kl - 6, "_count")) continue;
        char base[256], k2[300];
        snprintf(base, sizeof base, "%.*s", (int)(kl - 6), key);
        double n = json_number_value(v) - json_number_value(json_object_get(a, key));
        snprintf(k2, sizeof k2, "%s_sum", base);
        double sum =
            json_number_value(json_object_get(b, k2)) - json_number_value(json_object_get(a, k2));
        if (n <= 0) continue;
        double le[64], cum[64];
        int nb = 0;
        snprintf(k2, sizeof k2, "%s_bucket{", base);
        const char *bk;
        json_t *bv;
        json_object_foreach(b, bk, bv)
        {
            const char *l = strstr(bk, "le=\"");
            if (strncmp(bk, k2, strlen(k2)) || !l || nb >= 64) continue;
            l += 4;
            double bound = strncmp(l, "+Inf", 4) ? strtod(l, NULL) : 1e300;
            double c = json_number_value(bv) - json_number_value(json_object_get(a, bk));
            int i = nb++;
            while (i > 0 && le[i - 1] > bound) { /* insertion sort by bound */
                le[i] = le[i - 1];
                cum[i] = cum[i - 1];
                i--;
            }
            le[i] = bound;
            cum[i] = c;
        }
        double q50 = -1, q99 = -1;
        for (int i = 0; i < nb; i++) { /* Prometheus buckets are cumulative */
            if (q50 < 0 && cum[i] >= 0.5 * n) q50 = le[i];
            if (q99 < 0 && cum[i] >= 0.99 * n) q99 = le[i];
        }
        json_object_set_new(out, base,
                            json_pack("{s:f,s:f,s:f,s:f}", "count", n, "mean_s", sum / n,
                                      "p50_le_s", q50 >= 1e300 ? -1 : q50, "p99_le_s",
                                      q99 >= 1e300 ? -1 : q99));
    }
    return out;
}
