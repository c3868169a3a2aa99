/* SPDX-License-Identifier: MIT */
/* The CLI's argument parsing: the input is split at NUL bytes into argv and
 * parsed for every verb (nothing is run).  Operands must be argv's own
 * strings, in order, and no more than were given. */
#include "cli.h"
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096)
    return 0;
  char *buf = malloc(size + 1);
  memcpy(buf, data, size);
  buf[size] = '\0';
  char *argv[130];
  int argc = 0;
  argv[argc++] = "verb";
  for (size_t i = 0; i < size && argc < 128;) {
    argv[argc++] = buf + i;
    i += strlen(buf + i) + 1;
  }
  argv[argc] = NULL;
  /* Usage errors go to stderr: keep the fuzzer's output readable. */
  FILE *saved = stderr;
  stderr = fopen("/dev/null", "w");
  for (const struct verb *v = mmf_verbs; v->name; v++) {
    struct opts o;
    int r = opts_parse(v, argc, argv, &o);
    if (r == 0) {
      if (o.nargs < 0 || o.nargs > argc - 1)
        abort();
      /* --name-hex gives the first operand itself: a string of its own,
       * /dev/shm/NAME for a name, or the path itself when its bytes hold
       * a '/'. */
      int first = 0;
      if (o.hex_name) {
        if (o.nargs < 1 || o.args[0] != o.hex_name || !strchr(o.hex_name, '/'))
          abort();
        first = 1;
      }
      for (int i = first, j = 1; i < o.nargs; i++) {
        while (j < argc && argv[j] != o.args[i])
          j++;
        if (j++ == argc)
          abort(); /* not one of argv's strings, or out of order */
      }
      if ((o.given & ~v->options) != 0)
        abort();
      if ((o.given & OPT_SIZE) && o.size == 0)
        abort();
    }
    free(o.args);
    free(o.hex_name);
  }
  fclose(stderr);
  stderr = saved;
  free(buf);
  return 0;
}
