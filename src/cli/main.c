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
 * each missing one /dev/null first, and note it (std_closed), so that a
 * closed stdin is not read as empty nor a closed stdout taken for one that
 * was written.  0 or -1 if that cannot be done. */
static int std_fds_open(void) {
  for (int fd = 0; fd <= 2; fd++) {
    if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
      continue;
    std_closed[fd] = true;
    int n = open("/dev/null", O_RDWR);
    if (n != fd) {
      if (n >= 0)
        close(n);
      return -1;
    }
  }
  return 0;
}

/* The verbs whose result is what they print: with stdout closed there is
 * nothing to do (the others act, and only their --json goes unprinted). */
static bool prints_result(const struct verb *v) {
  static const char *const names[] = {"read", "wait", "info",
                                      "list", "cat",  "help"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (!strcmp(v->name, names[i]))
      return true;
  return false;
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
    if (std_closed[STDOUT_FILENO]) {
      fprintf(stderr, "mmf: standard output is closed\n");
      return EXIT_FAIL;
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
  bool out_closed = std_closed[STDOUT_FILENO];
  /* Messages about stdout name the map (the first one) when there is one. */
  const char *what = NULL;
  if (opts_parse(v, argc - 1, argv + 1, &o) < 0) {
    rc = EXIT_USAGE;
  } else if (o.nargs < v->min_args && !o.help) {
    rc = usage_error(v, "too few operands");
  } else if (v->max_args >= 0 && o.nargs > v->max_args && !o.help) {
    rc = usage_error(v, "too many operands");
  } else if (out_closed && (o.help || prints_result(v))) {
    what = o.nargs && strcmp(v->name, "help") ? o.args[0] : NULL;
    rc =
        what
            ? fail(v->name, what, "standard output is closed")
            : (fprintf(stderr, "mmf: %s: standard output is closed\n", v->name),
               EXIT_FAIL);
  } else if (o.help) {
    verb_usage(stdout, v);
    rc = EXIT_OK;
  } else {
    what = o.nargs && strcmp(v->name, "help") ? o.args[0] : NULL;
    rc = v->run(v, &o);
    if (rc == EXIT_OK && out_closed && (o.given & OPT_JSON)) {
      fprintf(stderr,
              "mmf: %s: standard output is closed: the command was carried "
              "out, its --json result not printed\n",
              v->name);
      rc = EXIT_FAIL;
    }
  }
  if (fflush(stdout) != 0 && rc == EXIT_OK) {
    int e = errno;
    if (what)
      fail(v->name, what, "cannot write standard output: %s", strerror(e));
    else
      fprintf(stderr, "mmf: %s: cannot write standard output: %s\n", v->name,
              strerror(e));
    rc = EXIT_FAIL;
  }
  free(o.args);
  free(o.hex_name);
  return rc;
}
