/* SPDX-License-Identifier: MIT */
/* Process B of the two-process example: open map NAME (waiting for A to make
 * it), read A's JSON, pick out its Id, and answer.
 *   process_b [NAME] */
#include <mmf.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  const char *name = argc > 1 ? argv[1] : "Test";
  mmf_t *m = NULL;
  int r;
  for (int i = 0; (r = mmf_open(name, 0, &m)) == -ENOENT && i < 3000; i++)
    usleep(10000); /* A has not made it yet */
  if (r < 0) {
    fprintf(stderr, "B: cannot open %s: %s\n", name, mmf_strerror(r));
    return 1;
  }
  uint64_t seq;
  if ((r = mmf_wait(m, 0, 30000, &seq)) < 0) {
    fprintf(stderr, "B: nothing was written: %s\n", mmf_strerror(r));
    return 1;
  }
  void *data;
  size_t len;
  if ((r = mmf_read_alloc(m, &data, &len, NULL)) < 0) {
    fprintf(stderr, "B: cannot read: %s\n", mmf_strerror(r));
    return 1;
  }
  printf("B: read %zu bytes: %.*s\n", len, (int)len, (char *)data);
  const char *id = memmem(data, len, "\"Id\":", 5);
  long pid = id ? strtol(id + 5, NULL, 10) : -1;
  free(data);
  char answer[64];
  int alen = snprintf(answer, sizeof answer, "ok %ld", pid);
  if ((r = mmf_write(m, answer, (size_t)alen)) < 0) {
    fprintf(stderr, "B: cannot answer: %s\n", mmf_strerror(r));
    return 1;
  }
  printf("B: answered '%s'\n", answer);
  mmf_close(m);
  return 0;
}
