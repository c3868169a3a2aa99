/* SPDX-License-Identifier: MIT */
/* Text for people: UTF-8 checks, names quoted as a shell reads them,
 * terminal-safe text, and sizes.  The bottom of the CLI: it calls nothing
 * of the others. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

size_t utf8_seq(const unsigned char *p) {
  unsigned c = p[0];
  if (c < 0x80)
    return 1;
  size_t n;
  unsigned min;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
    min = 0x80;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    min = 0x800;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  unsigned cp = c & (0x7f >> n);
  for (size_t i = 1; i < n; i++) {
    if ((p[i] & 0xc0) != 0x80)
      return 0;
    cp = cp << 6 | (p[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return n;
}

bool utf8_valid(const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    size_t n = utf8_seq(p);
    if (!n)
      return false;
    p += n;
  }
  return true;
}

/* The length of the character at p that a terminal shows as itself, or 0
 * for a byte that needs an escape: ASCII controls, DEL, C1 controls
 * (U+0080-U+009F, which terminals obey) and bytes that are not UTF-8. */
static size_t shown_seq(const unsigned char *p) {
  size_t n = utf8_seq(p);
  if (n == 1 && (*p < 0x20 || *p == 0x7f))
    return 0;
  if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)
    return 0;
  return n;
}

const char *printable(const char *s, char *buf, size_t cap) {
  size_t o = 0;
  const unsigned char *p = (const unsigned char *)s;
  while (*p && o + 5 < cap) {
    size_t n = shown_seq(p);
    if (n && o + n < cap) {
      memcpy(buf + o, p, n);
      o += n;
      p += n;
    } else if (n) {
      break;
    } else {
      o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", *p++);
    }
  }
  buf[o] = '\0';
  return buf;
}

/* Bytes a shell takes as part of a word, unquoted. */
static bool shell_plain(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || strchr("%+,-./:=@_^", c);
}

/* An appender that never passes cap, counting what it could not write. */
struct out {
  char *buf;
  size_t cap, len;
};

static void put(struct out *o, const char *s, size_t n) {
  if (o->len + n < o->cap) {
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
  } else {
    o->cap = o->len + 1; /* full: nothing after this goes in */
  }
}

/* As ls(1) quotes (its "shell-escape" style): a name a shell reads back
 * as itself, on one line and without a byte a terminal would obey.  Plain
 * names stay bare; names with a single quote and nothing a double-quoted
 * word expands go in double quotes; the rest in single quotes, with each
 * single quote as \' and each control or non-UTF-8 byte as $'\n' or
 * $'\x01' between the quoted parts. */
const char *quote_name(const char *s, char *buf, size_t cap) {
  struct out o = {buf, cap, 0};
  const unsigned char *p = (const unsigned char *)s;
  bool plain = *p != '\0', squote = false, dq_ok = true;
  for (const unsigned char *q = p; *q;) {
    size_t n = shown_seq(q);
    if (!n) {
      plain = dq_ok = false;
      q++;
      continue;
    }
    if (n == 1 && !shell_plain(*q))
      plain = false;
    if (*q == '\'')
      squote = true;
    if (*q == '"' || *q == '$' || *q == '`' || *q == '\\' || *q == '!')
      dq_ok = false;
    q += n;
  }
  if (cap)
    buf[0] = '\0';
  if (!*p) {
    put(&o, "''", 2); /* the empty name, as a shell would type it */
    return buf;
  }
  if (plain) {
    put(&o, s, strlen(s));
    return buf;
  }
  if (squote && dq_ok) {
    put(&o, "\"", 1);
    put(&o, s, strlen(s));
    put(&o, "\"", 1);
    return buf;
  }
  enum { OUT, QUOTED, ESCAPED } in = OUT; /* outside, in '...', in $'...' */
  while (*p) {
    size_t n = shown_seq(p);
    if (n && *p != '\'') {
      if (in != QUOTED)
        put(&o, in == ESCAPED ? "''" : "'", in == ESCAPED ? 2 : 1);
      in = QUOTED;
      put(&o, (const char *)p, n);
      p += n;
      continue;
    }
    if (*p == '\'') {
      put(&o, in == OUT ? "\\'" : "'\\'", in == OUT ? 2 : 3);
      in = OUT;
    } else {
      static const char named[] = "\a\b\t\n\v\f\r", letter[] = "abtnvfr";
      const char *k = strchr(named, *p);
      char esc[8];
      int l = k ? snprintf(esc, sizeof esc, "\\%c", letter[k - named])
                : snprintf(esc, sizeof esc, "\\x%02x", *p);
      if (in != ESCAPED)
        put(&o, in == QUOTED ? "'$'" : "$'", in == QUOTED ? 3 : 2);
      in = ESCAPED;
      put(&o, esc, (size_t)l);
    }
    p++;
  }
  if (in != OUT)
    put(&o, "'", 1);
  return buf;
}

const char *human_size(uint64_t v, char *buf, size_t cap) {
  static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  unsigned i = 0;
  while (i + 1 < sizeof units / sizeof *units && v >> (10 * (i + 1)))
    i++;
  if (i == 0) {
    snprintf(buf, cap, "%llu B", (unsigned long long)v);
    return buf;
  }
  uint64_t unit = (uint64_t)1 << (10 * i);
  if (v % unit == 0) {
    snprintf(buf, cap, "%llu %s", (unsigned long long)(v / unit), units[i]);
    return buf;
  }
  /* One decimal, rounded down so that a figure never overstates (and
   * without overflow: v % unit < 2^60). */
  uint64_t tenths = v / unit * 10 + v % unit * 10 / unit;
  snprintf(buf, cap, "%llu.%llu %s", (unsigned long long)(tenths / 10),
           (unsigned long long)(tenths % 10), units[i]);
  return buf;
}
