/* SPDX-License-Identifier: MIT */
/* Pages: mmf_write_fd_all mmf_write_fd_all_seq mmf_footprint
 * mmf_store_space */
/* Publish whatever standard input holds (a file, a pipe, a terminal
 * until end of file) in a compact map, in memory bounded by a
 * constant, and say how much was published; warn first if the map
 * could not fit its store. */
#include <mmf.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MAP < INPUT\n", argv[0]);
    return 2;
  }
  size_t cap = 64 << 20;
  int flags = MMF_TRANSIENT | MMF_COMPACT;
  uint64_t avail, need = mmf_footprint(cap, flags);
  if (mmf_store_space(argv[1], &avail, NULL) == 0 && need > avail)
    fprintf(stderr,
            "warning: %llu bytes free, the map may need %llu\n",
            (unsigned long long)avail, (unsigned long long)need);
  mmf_t *m;
  int e = mmf_create(argv[1], cap, flags, 0600, &m);
  if (e < 0) {
    fprintf(stderr, "%s: %s\n", argv[1], mmf_strerror(e));
    return EXIT_FAILURE;
  }
  size_t len;
  uint64_t seq;
  e = mmf_write_fd_all_seq(m, STDIN_FILENO, &len, &seq);
  if (e == -MMF_ETOOBIG)
    fprintf(stderr,
            "the input does not fit 64 MiB; nothing published\n");
  else if (e < 0)
    fprintf(stderr, "stdin: %s\n", mmf_strerror(e));
  else
    printf("%zu bytes published as seq %llu\n", len,
           (unsigned long long)seq);
  mmf_close(m);
  return e < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
