/* wb_valid: docs/protocol.md §1 identifier and value checks. Pure, any thread. */
#include "wb_valid.h"

#include <stdio.h>
#include <string.h>

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

size_t wb_utf8_seq(const char *s, size_t n)
{
    if (!n) return 0;
    unsigned char c = (unsigned char)s[0];
    if (c < 0x80) return 1;
    size_t len = (c >= 0xc2 && c <= 0xdf)   ? 2
                 : (c >= 0xe0 && c <= 0xef) ? 3
                 : (c >= 0xf0 && c <= 0xf4) ? 4
                                            : 0;
    if (!len || len > n) return 0;
    for (size_t k = 1; k < len; k++)
        if (((unsigned char)s[k] & 0xc0) != 0x80) return 0;
    unsigned char c1 = (unsigned char)s[1];
    if (c == 0xe0 && c1 < 0xa0) return 0;  /* overlong */
    if (c == 0xed && c1 >= 0xa0) return 0; /* surrogate */
    if (c == 0xf0 && c1 < 0x90) return 0;  /* overlong */
    if (c == 0xf4 && c1 >= 0x90) return 0; /* above U+10FFFF */
    return len;
}

size_t wb_utf8_prefix(const char *s, size_t n, size_t max)
{
    size_t i = 0;
    while (i < n) {
        size_t k = wb_utf8_seq(s + i, n - i);
        if (!k || i + k > max) break;
        i += k;
    }
    return i;
}

size_t wb_utf8_copy(const char *s, size_t n, char *out, size_t outsz)
{
    size_t o = 0;
    if (!outsz) return 0;
    for (size_t i = 0; i < n;) {
        size_t k = wb_utf8_seq(s + i, n - i);
        if (!k) {
            if (o + 1 >= outsz) break;
            out[o++] = '?';
            i++;
            continue;
        }
        if (o + k >= outsz) break;
        memcpy(out + o, s + i, k);
        o += k;
        i += k;
    }
    out[o] = 0;
    return o;
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
        size_t n = wb_utf8_seq(in + i, len - i);
        if (n == 0 || o + n > WB_NAME_MAX) {
            i++;
            continue;
        }
        memcpy(out + o, in + i, n);
        o += n;
        i += n;
    }
    out[o] = 0;
    return o;
}
