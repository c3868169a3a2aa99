/* SPDX-License-Identifier: MIT */
/* Pages: mmf_append mmf_read_since */
/* A log built by appends, and a reader that follows it and copies
 * only what is new each time. */
#include <mmf.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char *argv[]) {
  const char *name = argc > 1 ? argv[1] : "example-log";
  mmf_t *m;
  int e = mmf_create(name, 1 << 20, MMF_TRANSIENT, 0600, &m);
  if (e < 0) {
    fprintf(stderr, "%s: %s\n", name, mmf_strerror(e));
    return EXIT_FAILURE;
  }
  char buf[4096];
  uint64_t seq = 0; /* what the follower has: nothing yet */
  size_t len = 0;
  const char *lines[] = {"one", "two", "three"};
  for (int i = 0; i < 3; i++) {
    if ((e = mmf_append(m, lines[i], 3 + (i == 2) * 2, "\n", 1)) <
        0)
      break;
    size_t got;
    e = mmf_read_since(m, seq, len, buf, sizeof buf, &got, &seq);
    if (e < 0)
      break;
    if (e ==
        MMF_READ_WHOLE) /* replaced, not extended: start over */
      len = 0;
    printf("+%zu bytes: %.*s\n", got, (int)got, buf);
    len += got;
  }
  if (e < 0)
    fprintf(stderr, "%s\n", mmf_strerror(e));
  mmf_close(m);
  return e < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
