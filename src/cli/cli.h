/* SPDX-License-Identifier: MIT */
/* The mmf command: shared declarations of its files. */
#ifndef MMF_CLI_H
#define MMF_CLI_H

#include "mmf.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_TIMEOUT = 3 };

/* The options of all verbs; each verb accepts some of them. */
enum {
  OPT_SIZE = 1 << 0,
  OPT_OR_OPEN = 1 << 1,
  OPT_RAW = 1 << 2,
  OPT_MODE = 1 << 3,
  OPT_APPEND = 1 << 4,
  OPT_SEP = 1 << 5,
  OPT_WAIT = 1 << 6,
  OPT_AFTER = 1 << 7,
  OPT_TIMEOUT = 1 << 8,
  OPT_OFFSET = 1 << 9,
  OPT_LENGTH = 1 << 10,
  OPT_JSON = 1 << 11,
  OPT_BYTES = 1 << 12,    /* exact byte counts in tables */
  OPT_FORCE = 1 << 13,    /* remove: a missing map is no error */
  OPT_NAME_HEX = 1 << 14, /* the name's bytes in hex, instead of NAME */
  OPT_FOLLOW = 1 << 15,   /* read: every later content, as tail -f */
  OPT_SEQ = 1 << 16,      /* read: the seq printed, on stderr */
};

struct opts {
  unsigned given; /* O_* bits seen */
  uint64_t size, after, offset, length;
  unsigned mode;
  int timeout_ms; /* -1: none */
  const char *sep;
  bool help;
  int nargs; /* operands, in order, after the options */
  char **args;
  char *hex_name; /* --name-hex, decoded (also args[0]) */
};

struct verb;
typedef int (*verb_fn)(const struct verb *v, const struct opts *o);

/* A verb: its name, options, operand counts, summary, usage and help. */
struct verb {
  const char *name;
  verb_fn run;
  unsigned options;
  int min_args, max_args; /* max -1: any number */
  const char *summary;
  const char *usage;
  const char *help;
};

extern const struct verb mmf_verbs[];
const struct verb *verb_find(const char *name);
/* Edit distance between two short words, for "did you mean". */
size_t verb_distance(const char *a, const char *b);
void verb_usage(FILE *f, const struct verb *v);
/* Report a usage error for verb v: one line, exit status 2. */
int usage_error(const struct verb *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Report a failure about `name` of verb `verb`: one line on stderr. */
int fail(const char *verb, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* args.c: parse argv (argv[0] is the verb) for verb v into *o.  Returns 0,
 * or -1 after reporting a usage error on stderr. */
int opts_parse(const struct verb *v, int argc, char **argv, struct opts *o);

/* args.c: command-line values.  Each returns 0 or -1 (bad value). */
int parse_size(const char *s, uint64_t *ret);
int parse_u64(const char *s, uint64_t *ret);
int parse_seconds(const char *s, int *ret_ms);
int parse_mode(const char *s, unsigned *ret);
/* "64 KiB": v in the largest 1024-based unit, one decimal when not whole. */
const char *human_size(uint64_t v, char *buf, size_t cap);

/* output.c */
void json_string(FILE *f, const char *s);
/* A content as JSON: {"seq":N,"length":N,"appended":B,"data":"..."}, with
 * "data_base64" instead when it is not UTF-8 text. */
void print_content_json(FILE *f, uint64_t seq, uint64_t length, bool appended,
                        const uint8_t *data, size_t len);
bool utf8_valid(const char *s);
/* Who holds a map (mmf_holders): for `info`; NULL where not asked. */
struct holders {
  pid_t pids[64];
  size_t n; /* may exceed the pids shown */
  unsigned hidden;
};
void print_info_json(FILE *f, const struct mmf_info *in,
                     const struct holders *h);
void print_info_table(FILE *f, const struct mmf_info *in,
                      const struct holders *h, bool bytes);
void print_list_table(FILE *f, const struct mmf_info *list, size_t n,
                      bool bytes);
/* A name made safe for a terminal: control and invalid bytes as \xNN. */
const char *printable(const char *s, char *buf, size_t cap);
void progress(const char *verb, uint64_t done, uint64_t total, bool last);

#endif
