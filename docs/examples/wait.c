/* SPDX-License-Identifier: MIT */
/* Pages: mmf_wait */
/* A child process publishes a content; the parent sleeps until it
 * comes. */
#include <mmf.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
  const char *name = argc > 1 ? argv[1] : "example-wait";
  mmf_t *m;
  int e = mmf_create(name, 4096, MMF_TRANSIENT, 0600, &m);
  if (e < 0) {
    fprintf(stderr, "%s: %s\n", name, mmf_strerror(e));
    return EXIT_FAILURE;
  }
  pid_t child = fork();
  if (child == 0) {
    usleep(100 * 1000);
    _exit(mmf_write(m, "ready", 5) < 0);
  }
  uint64_t seq;
  e = mmf_wait(m, 0, 5000, &seq); /* the map is fresh: seq 0 */
  if (e < 0)
    fprintf(stderr, "wait: %s\n", mmf_strerror(e));
  else
    printf("woken at seq %llu\n", (unsigned long long)seq);
  waitpid(child, NULL, 0);
  mmf_close(m); /* transient: the name goes with the last handle */
  return e < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
