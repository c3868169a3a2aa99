/* SPDX-License-Identifier: MIT */
/* Values from the command line: sizes, counts, durations and modes.  Each
 * refuses anything it does not fully understand. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
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

/* A size: a number, possibly with a decimal fraction (six decimals at
 * most), then an optional
 * unit K, M, G or T (any case; 1024-based), with or without "B" or "iB":
 * 64K, 64k, 64KB, 64KiB, 1.5M, 4096, 4096B.  Rounded up to a whole byte;
 * zero, signs, overflow and anything else are refused. */
int parse_size(const char *s, uint64_t *ret) {
  if (!s || !isdigit((unsigned char)s[0]))
    return -1;
  const char *p = s;
  uint64_t whole = 0, frac = 0, scale = 1;
  for (; isdigit((unsigned char)*p); p++)
    if (__builtin_mul_overflow(whole, 10, &whole) ||
        __builtin_add_overflow(whole, (uint64_t)(*p - '0'), &whole))
      return -1;
  if (*p == '.') {
    p++;
    if (!isdigit((unsigned char)*p))
      return -1;
    for (; isdigit((unsigned char)*p); p++) {
      if (scale >= 1000000)
        return -1; /* six decimals at most: more than any unit needs */
      frac = frac * 10 + (uint64_t)(*p - '0');
      scale *= 10;
    }
  }
  unsigned shift = 0;
  const char *units = "KMGT";
  const char *u = *p ? strchr(units, toupper((unsigned char)*p)) : NULL;
  if (u) {
    shift = 10 * (unsigned)(u - units + 1);
    p++;
    if (toupper((unsigned char)p[0]) == 'I' &&
        toupper((unsigned char)p[1]) == 'B')
      p += 2;
    else if (toupper((unsigned char)p[0]) == 'B')
      p++;
  } else if (toupper((unsigned char)*p) == 'B') {
    p++;
  }
  if (*p)
    return -1;
  uint64_t v;
  if (whole > (UINT64_MAX >> shift))
    return -1;
  v = whole << shift;
  if (frac) {
    /* frac / scale of a unit, rounded up: frac < scale <= 10^6 and
     * shift <= 40, so frac << shift fits 64 bits. */
    uint64_t f = ((frac << shift) + scale - 1) / scale;
    if (__builtin_add_overflow(v, f, &v))
      return -1;
  }
  if (v == 0)
    return -1;
  *ret = v;
  return 0;
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
  int short_name; /* 0: none */
} options[] = {
    {"size", OPT_SIZE, true, 0},
    {"or-open", OPT_OR_OPEN, false, 0},
    {"raw", OPT_RAW, false, 0},
    {"mode", OPT_MODE, true, 0},
    {"append", OPT_APPEND, false, 0},
    {"separator", OPT_SEP, true, 0},
    {"wait", OPT_WAIT, false, 0},
    {"after", OPT_AFTER, true, 0},
    {"timeout", OPT_TIMEOUT, true, 0},
    {"offset", OPT_OFFSET, true, 0},
    {"length", OPT_LENGTH, true, 0},
    {"json", OPT_JSON, false, 'J'},
    {"bytes", OPT_BYTES, false, 'b'},
    {"force", OPT_FORCE, false, 'f'},
    {"name-hex", OPT_NAME_HEX, true, 0},
    {"follow", OPT_FOLLOW, false, 'f'},
    {"seq", OPT_SEQ, false, 0},
    {"output", OPT_OUTPUT, true, 'o'},
    {"noheadings", OPT_NOHEADINGS, false, 0},
    {"newline", OPT_NEWLINE, false, 'n'},
    {"export", OPT_EXPORT, false, 'e'},
    {"compact", OPT_COMPACT, false, 0},
};
#define NOPTIONS (sizeof options / sizeof *options)

/* A name given in hex (--name-hex): any bytes but NUL, which `list` may
 * show but a NAME operand cannot carry (spaces, control bytes, invalid
 * UTF-8, a leading dot).  A name without '/' becomes the path
 * /dev/shm/NAME, which addresses any object there; one with '/' is the
 * path of a file-backed map (as `info --json` encodes it), taken as it
 * is, so that it never reaches another object of the same base name.
 * Returns 0, -1 (not hex), or -2 (decoded, but no name: *ret_bad says
 * why). */
static int parse_hex_name(const char *a, char **ret, bool *ret_path,
                          const char **ret_bad) {
  static const char dir[] = "/dev/shm/", tmp[] = ".mmf-tmp-";
  size_t n = strlen(a);
  if (!n || n % 2 || n / 2 > 4095)
    return -1;
  char *path = malloc(sizeof dir + n / 2);
  if (!path)
    return -1;
  memcpy(path, dir, sizeof dir - 1);
  char *name = path + sizeof dir - 1;
  for (size_t i = 0; i < n / 2; i++) {
    unsigned v;
    if (!isxdigit((unsigned char)a[2 * i]) ||
        !isxdigit((unsigned char)a[2 * i + 1]) ||
        sscanf(a + 2 * i, "%2x", &v) != 1 || v == 0) {
      free(path);
      return -1;
    }
    name[i] = (char)v;
  }
  name[n / 2] = 0;
  *ret_path = strchr(name, '/') != NULL;
  const char *base = *ret_path ? strrchr(name, '/') + 1 : name;
  /* The library's name rules, told in terms of the bytes given. */
  *ret_bad = NULL;
  if (*ret_path && (!*base || !strcmp(base, ".") || !strcmp(base, "..")))
    *ret_bad = "contain '/', which no shared-memory name may, and as a "
               "path they name a folder, not a file";
  else if (strlen(base) > 255)
    *ret_bad = *ret_path ? "contain '/', which no shared-memory name may, "
                           "and as a path their last part is longer than "
                           "255 bytes"
                         : "are longer than 255 bytes";
  else if (!*ret_path && (!strcmp(name, ".") || !strcmp(name, "..")))
    *ret_bad = "are '.' or '..', a folder";
  else if (!*ret_path && !strncmp(name, tmp, sizeof tmp - 1))
    *ret_bad = "start with '.mmf-tmp-', the name mmf gives an object while "
               "it creates it: no map is named so";
  if (*ret_bad) {
    memmove(path, name, n / 2 + 1);
    *ret = path; /* for the message */
    return -2;
  }
  if (*ret_path)
    memmove(path, name, n / 2 + 1);
  *ret = path;
  return 0;
}

static int set_value(const struct verb *v, struct opts *o, unsigned bit,
                     const char *a) {
  switch (bit) {
  case OPT_SIZE:
    if (parse_size(a, &o->size) < 0)
      return usage_error(v,
                         "bad size '%s': give bytes, or a number with K, M, "
                         "G or T (1024-based; KB, KiB, k, 1.5M also), e.g. "
                         "64K",
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
  case OPT_OUTPUT:
    o->output = a; /* its columns are checked by the verb */
    return 0;
  case OPT_TIMEOUT:
    if (parse_seconds(a, &o->timeout_ms) < 0)
      return usage_error(v, "bad timeout '%s': give seconds, e.g. 2.5", a), -1;
    return 0;
  case OPT_NAME_HEX:
    if (o->hex_name)
      return usage_error(v, "give --name-hex once (one object at a time)"), -1;
    const char *bad;
    int r = parse_hex_name(a, &o->hex_name, &o->hex_path, &bad);
    if (r == -2) {
      char qn[QUOTED_MAX];
      usage_error(v, "bad --name-hex '%s': its bytes, %s, %s", a,
                  quote_name(o->hex_name, qn, sizeof qn), bad);
      free(o->hex_name);
      o->hex_name = NULL;
      return -1;
    }
    if (r < 0)
      return usage_error(v,
                         "bad --name-hex '%s': give the name's bytes in hex "
                         "(as 'mmf list --json' prints name_hex)",
                         a),
             -1;
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

/* getopt_long with the verb's own option table: options and operands in
 * any order, "--opt value" or "--opt=value", unambiguous prefixes, "--"
 * ends the options; "-h" and "--help" everywhere. */
int opts_parse(const struct verb *v, int argc, char **argv, struct opts *o) {
  memset(o, 0, sizeof *o);
  o->timeout_ms = -1;
  o->sep = "\n";
  o->args = calloc((size_t)argc + 2, sizeof *o->args);
  struct option *lo = calloc(NOPTIONS + 2, sizeof *lo);
  if (!o->args || !lo) {
    free(lo);
    fprintf(stderr, "mmf: out of memory\n");
    return -1;
  }
  char shorts[32] = "+:h";
  size_t n = 0;
  for (size_t k = 0; k < NOPTIONS; k++) {
    if (!(v->options & options[k].bit))
      continue;
    lo[n++] = (struct option){
        options[k].name, options[k].value ? required_argument : no_argument,
        NULL, 256 + (int)k};
    if (options[k].short_name) {
      size_t l = strlen(shorts);
      shorts[l] = (char)options[k].short_name;
      if (options[k].value)
        shorts[++l] = ':';
      shorts[l + 1] = 0;
    }
  }
  lo[n++] = (struct option){"help", no_argument, NULL, 'h'};
  /* "+": operands do not end the options here either; getopt_long is
   * called again after each operand, so that order does not matter but a
   * "-x" operand after "--" stays an operand. */
  opterr = 0;
  optind = 0; /* glibc: start over completely (also after an earlier parse) */
  int rc = 0;
  while (optind < argc) {
    int c = getopt_long(argc, argv, shorts, lo, NULL);
    if (c == -1) {
      if (optind < argc && strcmp(argv[optind - 1], "--") == 0) {
        while (optind < argc)
          o->args[o->nargs++] = argv[optind++];
        break;
      }
      if (optind < argc)
        o->args[o->nargs++] = argv[optind++];
      continue;
    }
    const char *bad = argv[optind - 1];
    if (c == 'h') {
      o->help = true;
    } else if (c == '?') {
      if (optopt >= 256)
        rc = usage_error(v, "option '--%s' takes no value",
                         options[optopt - 256].name);
      else if (optopt)
        rc = usage_error(v, "unknown option '-%c'", optopt);
      else
        rc = usage_error(v, "unknown or ambiguous option '%s'", bad);
      break;
    } else if (c == ':') {
      rc = usage_error(v, "option '%s' needs a value", bad);
      break;
    } else {
      size_t k = 0;
      if (c >= 256)
        k = (size_t)(c - 256);
      else
        for (; k < NOPTIONS &&
               !(options[k].short_name == c && (v->options & options[k].bit));
             k++)
          ;
      if (options[k].value && set_value(v, o, options[k].bit, optarg) < 0) {
        rc = -1;
        break;
      }
      o->given |= options[k].bit;
    }
  }
  free(lo);
  if (rc)
    return -1;
  /* --name-hex gives the first operand. */
  if (o->hex_name) {
    memmove(o->args + 1, o->args, (size_t)o->nargs * sizeof *o->args);
    o->args[0] = o->hex_name;
    o->nargs++;
  }
  return 0;
}
