/* SPDX-License-Identifier: MIT */
/* The module's three-process example in C.  A creates the map and writes a
 * line; B and C each append a line under the map's lock (the module used a
 * named Mutex for this); A waits for both and prints the three lines.
 *   three_process a NAME    three_process b NAME    three_process c NAME */
#include <mmf.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int die(const char *who, const char *what, int r) {
  fprintf(stderr, "%s: %s: %s\n", who, what, mmf_strerror(r));
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 3 || strlen(argv[1]) != 1 || !strchr("abc", argv[1][0])) {
    fprintf(stderr, "usage: three_process a|b|c NAME\n");
    return 2;
  }
  char who[2] = {(char)(argv[1][0] - 'a' + 'A'), 0};
  const char *name = argv[2];
  mmf_t *m = NULL;
  int r;
  if (who[0] == 'A') {
    if ((r = mmf_create(name, 4096, 0, 0, &m)) < 0)
      return die(who, "create", r);
    if ((r = mmf_write(m, "Line from A", 11)) < 0)
      return die(who, "write", r);
    uint64_t seq;
    /* seq 1 is A's line; B's and C's appends make it 3. */
    if ((r = mmf_wait(m, 2, 30000, &seq)) < 0)
      return die(who, "wait", r);
    void *data;
    size_t len;
    if ((r = mmf_read_alloc(m, &data, &len, NULL)) < 0)
      return die(who, "read", r);
    printf("%.*s\n", (int)len, (char *)data);
    free(data);
    mmf_remove(name);
    mmf_close(m);
    return 0;
  }
  for (int i = 0; (r = mmf_open(name, 0, &m)) == -ENOENT && i < 3000; i++)
    usleep(10000);
  if (r < 0)
    return die(who, "open", r);
  if ((r = mmf_wait(m, 0, 30000, NULL)) < 0) /* A's line first */
    return die(who, "wait", r);
  if ((r = mmf_lock(m, 10000)) < 0)
    return die(who, "lock", r);
  char line[32];
  int n = snprintf(line, sizeof line, "Line from %s", who);
  r = mmf_append(m, line, (size_t)n, "\n", 1);
  mmf_unlock(m);
  if (r < 0)
    return die(who, "append", r);
  mmf_close(m);
  return 0;
}
