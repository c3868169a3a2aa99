/* SPDX-License-Identifier: MIT */
/* Pages: mmf_lock mmf_unlock mmf_data mmf_size */
/* Four processes add to a counter in a raw map, in place, under
 * the map's lock. */
#include <mmf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
  const char *name = argc > 1 ? argv[1] : "example-lock";
  mmf_t *m;
  int e = mmf_create(name, sizeof(long), MMF_RAW, 0600, &m);
  if (e < 0) {
    fprintf(stderr, "%s: %s\n", name, mmf_strerror(e));
    return EXIT_FAILURE;
  }
  for (int i = 0; i < 4; i++) {
    if (fork() == 0) {
      mmf_t *c; /* a handle of its own: the lock is the handle's */
      if (mmf_open(name, MMF_RAW, &c) < 0)
        _exit(1);
      for (int n = 0; n < 1000; n++) {
        if (mmf_lock(c, -1) < 0)
          _exit(1);
        long v;
        memcpy(&v, mmf_data(c), sizeof v);
        v++;
        memcpy(mmf_data(c), &v, sizeof v);
        mmf_unlock(c);
      }
      mmf_close(c);
      _exit(0);
    }
  }
  int bad = 0, status;
  while (wait(&status) > 0)
    bad |= !WIFEXITED(status) || WEXITSTATUS(status);
  long total;
  memcpy(&total, mmf_data(m), sizeof total);
  printf("%ld (%zu bytes)\n", total, mmf_size(m));
  mmf_close(m);
  mmf_remove(name);
  return bad || total != 4000 ? EXIT_FAILURE : EXIT_SUCCESS;
}
