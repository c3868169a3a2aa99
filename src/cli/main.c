/* SPDX-License-Identifier: MIT */
/* mmf: find the verb, parse its options, run it. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Started with fd 0, 1 or 2 closed, the first file opened (a map) would
 * take its number, and a write to stdout or stderr would land in it: give
 * each missing one /dev/null first.  0 or -1 if that cannot be done. */
static int std_fds_open(void) {
  for (int fd = 0; fd <= 2; fd++) {
    if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
      continue;
    int n = open("/dev/null", O_RDWR);
    if (n != fd) {
      if (n >= 0)
        close(n);
      return -1;
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  signals_save();
  if (std_fds_open() < 0)
    return EXIT_FAIL; /* no stderr to say it on, perhaps */
  /* Past `ulimit -f`, a write into a file (a memfd snapshot too) fails with
   * EFBIG instead of killing us, so that we can go another way or say so. */
  signal(SIGXFSZ, SIG_IGN);
  if (argc < 2) {
    fprintf(stderr, "mmf: give a command; 'mmf help' lists them\n");
    return EXIT_USAGE;
  }
  const char *name = argv[1];
  if (!strcmp(name, "--version") || !strcmp(name, "-V")) {
    if (argc > 2) {
      fprintf(stderr,
              "mmf: %s takes nothing after it; 'mmf help' lists the "
              "commands\n",
              name);
      return EXIT_USAGE;
    }
    printf("mmf %s\n", mmf_version());
    return EXIT_OK;
  }
  if (!strcmp(name, "--help") || !strcmp(name, "-h"))
    name = "help";
  const struct verb *v = verb_find(name);
  if (!v)
    return verb_unknown(name);
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
