/* SPDX-License-Identifier: MIT */
/* mmf: find the verb, parse its options, run it. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

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
      size_t d = verb_distance(name, w->name);
      if (d < bd) {
        bd = d;
        best = w;
      }
    }
    char safe[1100];
    printable(name, safe, sizeof safe);
    if (best)
      fprintf(stderr, "mmf: no command '%s'; did you mean '%s'?\n", safe,
              best->name);
    else
      fprintf(stderr, "mmf: no command '%s'; 'mmf help' lists them\n", safe);
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
  free(o.hex_name);
  if (fflush(stdout) != 0 && rc == EXIT_OK) {
    fprintf(stderr, "mmf: %s: cannot write standard output\n", v->name);
    rc = EXIT_FAIL;
  }
  return rc;
}
