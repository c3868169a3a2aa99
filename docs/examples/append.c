/* SPDX-License-Identifier: MIT */
/* Pages: mmf_append_fd mmf_append_fd_seq */
/* Append whatever standard input holds (a file, a pipe, a terminal
 * until end of file) to a log as one more record, in memory bounded
 * by a constant however much it brings, and say what the log holds
 * now. */
#include <mmf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MAP < INPUT\n", argv[0]);
    return 2;
  }
  mmf_t *m;
  int e = mmf_create(argv[1], 64 << 20, MMF_TRANSIENT, 0600, &m);
  if (e < 0) {
    fprintf(stderr, "%s: %s\n", argv[1], mmf_strerror(e));
    return EXIT_FAILURE;
  }
  e = mmf_append(m, "first record", 12, NULL, 0);
  size_t len = 0;
  uint64_t seq = 0;
  /* Everything stdin holds, after a newline; all of it or nothing.
   */
  if (e == 0)
    e = mmf_append_fd_seq(m, STDIN_FILENO, SIZE_MAX, "\n", 1, &len,
                          &seq);
  if (e == -MMF_ETOOBIG)
    fprintf(stderr,
            "the input does not fit the log; nothing appended\n");
  else if (e < 0)
    fprintf(stderr, "stdin: %s\n", mmf_strerror(e));
  else
    printf("%zu bytes appended as seq %llu\n", len,
           (unsigned long long)seq);
  mmf_close(m);
  return e < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
