/* SPDX-License-Identifier: MIT */
/* Looking verbs up, their usage, and the one-line messages of the CLI. */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const struct verb *verb_find(const char *name) {
  for (const struct verb *v = mmf_verbs; v->name; v++)
    if (!strcmp(v->name, name))
      return v;
  return NULL;
}

void verb_usage(FILE *f, const struct verb *v) {
  fprintf(f, "usage: %s\n\n%s", v->usage, v->help);
}

int usage_error(const struct verb *v, const char *fmt, ...) {
  va_list ap;
  char msg[2048], safe[8200];
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  /* The message may quote what was typed: no control byte reaches the
   * terminal. */
  fprintf(stderr, "mmf: %s: %s (see 'mmf %s --help')\n", v ? v->name : "usage",
          printable(msg, safe, sizeof safe), v ? v->name : "help");
  return EXIT_USAGE;
}

int fail(const char *verb, const char *name, const char *fmt, ...) {
  va_list ap;
  char buf[1100], msg[2048], safe[8200];
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  /* What was typed (a file name, a command) may be quoted in the message:
   * no control byte reaches the terminal. */
  fprintf(stderr, "mmf: %s %s: %s\n", verb, printable(name, buf, sizeof buf),
          printable(msg, safe, sizeof safe));
  return EXIT_FAIL;
}

/* Levenshtein distance, for "did you mean". */
size_t verb_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 32 || lb > 32)
    return 99;
  size_t d[33][33];
  for (size_t i = 0; i <= la; i++)
    d[i][0] = i;
  for (size_t j = 0; j <= lb; j++)
    d[0][j] = j;
  for (size_t i = 1; i <= la; i++)
    for (size_t j = 1; j <= lb; j++) {
      size_t c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
      if (d[i - 1][j] + 1 < c)
        c = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < c)
        c = d[i][j - 1] + 1;
      d[i][j] = c;
    }
  return d[la][lb];
}
