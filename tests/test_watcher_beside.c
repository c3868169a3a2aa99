/* SPDX-License-Identifier: MIT */
/* The shared library finds its helper mmf-watch beside itself (a module
 * folder, the build tree), with no MMF_WATCHER: a transient map can be
 * made, and its watcher removes it. */
#include "util.h"

static const char *installed; /* the configured path: argv[1] */

static void finds_watcher_beside_library(void **s) {
  (void)s;
  unsetenv("MMF_WATCHER");
  if (access(installed, F_OK) == 0)
    skip(); /* an installed watcher would be found anyway */
  const char *n = tname("beside");
  /* A creator that dies holding it leaves its removal to the watcher. */
  pid_t p = fork();
  assert_true(p >= 0);
  if (p == 0) {
    mmf_t *m;
    _exit(mmf_create(n, 64, MMF_TRANSIENT, 0600, &m) == 0 ? 0 : 1);
  }
  int st;
  assert_int_equal(waitpid(p, &st, 0), p);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0); /* 1: no watcher found */
  for (int i = 0; i < 2000 && shm_exists(n); i++)
    usleep(1000);
  assert_false(shm_exists(n));
}

int main(int argc, char **argv) {
  installed = argc > 1 ? argv[1] : "/usr/local/libexec/mmf-watch";
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(finds_watcher_beside_library),
  };
  return run_cases("watcher_beside", tests, NULL, NULL);
}
