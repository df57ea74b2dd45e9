/* wb_valid: docs/protocol.md §1 identifier and value checks. Pure, any thread. */
#include "wb_valid.h"

#include <stdio.h>

bool wb_valid_id(const char *s, size_t len)
{
    if (!s || len < 1 || len > WB_ID_MAX) return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int wb_parse_color(const char *s, size_t len, uint32_t *out)
{
    if (!s || len != 7 || s[0] != '#') return -1;
    uint32_t v = 0;
    for (int i = 1; i < 7; i++) {
        int h = hexval(s[i]);
        if (h < 0) return -1;
        v = (v << 4) | (uint32_t)h;
    }
    *out = v;
    return 0;
}

void wb_format_color(uint32_t rgb, char out[8])
{
    snprintf(out, 8, "#%06x", rgb & 0xffffffu);
}

size_t wb_clean_name(const char *in, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o < WB_NAME_MAX;) {
        unsigned char c = (unsigned char)in[i];
        if (c < 0x80) {
            if (c >= 0x20 && c != 0x7f && c != '"' && c != '\\') out[o++] = (char)c;
            i++;
            continue;
        }
        size_t n = (c >= 0xf0 && c <= 0xf4) ? 4 : (c >= 0xe0) ? 3 : (c >= 0xc2 && c < 0xe0) ? 2 : 0;
        if (n == 0 || i + n > len || o + n > WB_NAME_MAX) {
            i++;
            continue;
        }
        bool ok = true;
        for (size_t k = 1; k < n; k++)
            if (((unsigned char)in[i + k] & 0xc0) != 0x80) ok = false;
        if (ok && n == 3 && c == 0xe0 && (unsigned char)in[i + 1] < 0xa0) ok = false;
        if (ok && n == 3 && c == 0xed && (unsigned char)in[i + 1] >= 0xa0) ok = false;
        if (ok && n == 4 && c == 0xf0 && (unsigned char)in[i + 1] < 0x90) ok = false;
        if (ok && n == 4 && c == 0xf4 && (unsigned char)in[i + 1] >= 0x90) ok = false;
        if (!ok) {
            i++;
            continue;
        }
        for (size_t k = 0; k < n; k++)
            out[o++] = in[i + k];
        i += n;
    }
    out[o] = 0;
    return o;
}
