/* SPDX-License-Identifier: MIT */
/* Values from the command line: sizes, counts, durations and modes.  Each
 * refuses anything it does not fully understand. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int parse_u64(const char *s, uint64_t *ret) {
  if (!s || !isdigit((unsigned char)s[0]))
    return -1;
  errno = 0;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end)
    return -1;
  *ret = v;
  return 0;
}

/* Bytes, or 1024-based K/KiB, M/MiB, G/GiB, T/TiB.  Zero, signs, fractions,
 * overflow and other suffixes are refused. */
int parse_size(const char *s, uint64_t *ret) {
  if (!s || !isdigit((unsigned char)s[0]))
    return -1;
  errno = 0;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno)
    return -1;
  static const struct {
    const char *suffix;
    unsigned shift;
  } units[] = {{"", 0},   {"B", 0},    {"K", 10}, {"KiB", 10},
               {"M", 20}, {"MiB", 20}, {"G", 30}, {"GiB", 30},
               {"T", 40}, {"TiB", 40}, {"k", 10}};
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (strcmp(end, units[i].suffix))
      continue;
    unsigned sh = units[i].shift;
    if (v == 0 || (sh && v > (UINT64_MAX >> sh)))
      return -1;
    *ret = (uint64_t)v << sh;
    return 0;
  }
  return -1;
}

/* Seconds, possibly fractional ("0.5"), at most a day; to milliseconds. */
int parse_seconds(const char *s, int *ret_ms) {
  if (!s || !(isdigit((unsigned char)s[0]) || s[0] == '.'))
    return -1;
  errno = 0;
  char *end;
  double v = strtod(s, &end);
  if (errno || *end || !isfinite(v) || v < 0 || v > 86400.0 * 24)
    return -1;
  *ret_ms = (int)ceil(v * 1000.0);
  return 0;
}

/* An octal mode such as 600 or 0640, at most 0777. */
int parse_mode(const char *s, unsigned *ret) {
  if (!s || !s[0] || strlen(s) > 4)
    return -1;
  unsigned v = 0;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '7')
      return -1;
    v = v * 8 + (unsigned)(*p - '0');
  }
  if (v > 0777 || v == 0)
    return -1;
  *ret = v;
  return 0;
}
