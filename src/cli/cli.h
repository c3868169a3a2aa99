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

/* A verb: its name, argument counts, one-line summary, usage and help. */
struct verb {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
  const char *usage;
  const char *help;
};

extern const struct verb mmf_verbs[];
const struct verb *verb_find(const char *name);
void verb_usage(FILE *f, const struct verb *v);
/* Report a usage error for verb v: one line, exit status 2. */
int usage_error(const struct verb *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Report a failure about `name` of verb `verb`: one line on stderr. */
int fail(const char *verb, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* args.c: command-line values.  Each returns 0 or -1 (bad value). */
int parse_size(const char *s, uint64_t *ret);
int parse_u64(const char *s, uint64_t *ret);
int parse_seconds(const char *s, int *ret_ms);
int parse_mode(const char *s, unsigned *ret);

/* output.c */
void json_string(FILE *f, const char *s);
bool utf8_valid(const char *s);
void print_info_json(FILE *f, const struct mmf_info *in);
void print_info_table(FILE *f, const struct mmf_info *in);
void print_list_table(FILE *f, const struct mmf_info *list, size_t n);
/* A name made safe for a terminal: control and invalid bytes as \xNN. */
const char *printable(const char *s, char *buf, size_t cap);
void progress(const char *verb, uint64_t done, uint64_t total, bool last);

#endif
