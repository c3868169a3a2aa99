/* SPDX-License-Identifier: MIT */
/* Values from the command line: sizes, counts, durations and modes.  Each
 * refuses anything it does not fully understand. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
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

static const struct {
  const char *name;
  unsigned bit;
  bool value;
} options[] = {
    {"size", OPT_SIZE, true},       {"or-open", OPT_OR_OPEN, false},
    {"raw", OPT_RAW, false},        {"mode", OPT_MODE, true},
    {"append", OPT_APPEND, false},  {"separator", OPT_SEP, true},
    {"wait", OPT_WAIT, false},      {"after", OPT_AFTER, true},
    {"timeout", OPT_TIMEOUT, true}, {"offset", OPT_OFFSET, true},
    {"length", OPT_LENGTH, true},   {"json", OPT_JSON, false},
};

static int set_value(const struct verb *v, struct opts *o, unsigned bit,
                     const char *a) {
  switch (bit) {
  case OPT_SIZE:
    if (parse_size(a, &o->size) < 0)
      return usage_error(v,
                         "bad size '%s': give bytes or a number with K, "
                         "M, G or T (1024-based), e.g. 64K",
                         a),
             -1;
    return 0;
  case OPT_MODE:
    if (parse_mode(a, &o->mode) < 0)
      return usage_error(v,
                         "bad mode '%s': give octal bits such as 600 or "
                         "0640",
                         a),
             -1;
    return 0;
  case OPT_SEP:
    o->sep = a;
    return 0;
  case OPT_TIMEOUT:
    if (parse_seconds(a, &o->timeout_ms) < 0)
      return usage_error(v, "bad timeout '%s': give seconds, e.g. 2.5", a), -1;
    return 0;
  default: {
    uint64_t *dst = bit == OPT_AFTER    ? &o->after
                    : bit == OPT_OFFSET ? &o->offset
                                        : &o->length;
    if (parse_u64(a, dst) < 0)
      return usage_error(v, "bad number '%s': give a whole number", a), -1;
    return 0;
  }
  }
}

/* GNU style: options and operands in any order, "--opt value" or
 * "--opt=value", "--" ends the options; "-h" and "--help" everywhere. */
int opts_parse(const struct verb *v, int argc, char **argv, struct opts *o) {
  memset(o, 0, sizeof *o);
  o->timeout_ms = -1;
  o->sep = "\n";
  o->args = calloc((size_t)argc + 1, sizeof *o->args);
  if (!o->args) {
    fprintf(stderr, "mmf: out of memory\n");
    return -1;
  }
  bool dashdash = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (dashdash || a[0] != '-' || !a[1]) {
      o->args[o->nargs++] = argv[i];
      continue;
    }
    if (!strcmp(a, "--")) {
      dashdash = true;
      continue;
    }
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      o->help = true;
      continue;
    }
    if (a[1] != '-') {
      usage_error(v, "unknown option '%s'", a);
      return -1;
    }
    const char *eq = strchr(a + 2, '=');
    size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
    size_t k = 0;
    for (; k < sizeof options / sizeof *options; k++)
      if ((v->options & options[k].bit) && strlen(options[k].name) == len &&
          !strncmp(options[k].name, a + 2, len))
        break;
    if (k == sizeof options / sizeof *options) {
      usage_error(v, "unknown option '%.*s'", (int)(len + 2), a);
      return -1;
    }
    const char *val = NULL;
    if (options[k].value) {
      if (eq)
        val = eq + 1;
      else if (i + 1 < argc)
        val = argv[++i];
      else {
        usage_error(v, "option '%s' needs a value", a);
        return -1;
      }
      if (set_value(v, o, options[k].bit, val) < 0)
        return -1;
    } else if (eq) {
      usage_error(v, "option '--%s' takes no value", options[k].name);
      return -1;
    }
    o->given |= options[k].bit;
  }
  return 0;
}
