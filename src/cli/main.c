/* SPDX-License-Identifier: MIT */
/* mmf: the verb table's dispatcher, usage and error reporting. */
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
  fprintf(stderr, "mmf: %s: ", v ? v->name : "usage");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, " (see 'mmf %s --help')\n", v ? v->name : "help");
  return EXIT_USAGE;
}

int fail(const char *verb, const char *name, const char *fmt, ...) {
  va_list ap;
  char buf[1100];
  fprintf(stderr, "mmf: %s %s: ", verb, printable(name, buf, sizeof buf));
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return EXIT_FAIL;
}

/* Levenshtein distance, for "did you mean". */
static size_t distance(const char *a, const char *b) {
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

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "mmf: give a command; 'mmf help' lists them\n");
    return EXIT_USAGE;
  }
  const char *name = argv[1];
  if (!strcmp(name, "--version") || !strcmp(name, "-V")) {
    printf("mmf %s\n", mmf_version());
    return EXIT_OK;
  }
  if (!strcmp(name, "--help") || !strcmp(name, "-h"))
    name = "help";
  const struct verb *v = verb_find(name);
  if (!v) {
    const struct verb *best = NULL;
    size_t bd = 3;
    for (const struct verb *w = mmf_verbs; w->name; w++) {
      size_t d = distance(name, w->name);
      if (d < bd) {
        bd = d;
        best = w;
      }
    }
    if (best)
      fprintf(stderr, "mmf: no command '%s'; did you mean '%s'?\n", name,
              best->name);
    else
      fprintf(stderr, "mmf: no command '%s'; 'mmf help' lists them\n", name);
    return EXIT_USAGE;
  }
  struct opts o;
  int rc;
  if (opts_parse(v, argc - 1, argv + 1, &o) < 0) {
    rc = EXIT_USAGE;
  } else if (o.help) {
    verb_usage(stdout, v);
    rc = EXIT_OK;
  } else if (o.nargs < v->min_args ||
             (v->max_args >= 0 && o.nargs > v->max_args)) {
    rc = usage_error(v, "%s",
                     o.nargs < v->min_args ? "too few operands"
                                           : "too many operands");
  } else {
    rc = v->run(v, &o);
  }
  free(o.args);
  if (fflush(stdout) != 0 && rc == EXIT_OK) {
    fprintf(stderr, "mmf: %s: cannot write standard output\n", v->name);
    rc = EXIT_FAIL;
  }
  return rc;
}
