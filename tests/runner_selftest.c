/* SPDX-License-Identifier: MIT */
/* Cases that misbehave on purpose, for runner_check.py: the runner must report
 * each one alone and clean up after it. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runner.h"

static char left_name[128];

static void passes(void **s) {
  (void)s;
  assert_int_equal(1 + 1, 2);
}
static void fails(void **s) {
  (void)s;
  assert_int_equal(1 + 1, 3);
}
static void aborts(void **s) {
  (void)s;
  abort();
}
static void segfaults(void **s) {
  (void)s;
  raise(SIGSEGV);
}
static void hangs(void **s) {
  (void)s;
  for (;;)
    pause();
}
static void leaks_an_fd(void **s) {
  (void)s;
  assert_true(open("/dev/null", O_RDONLY | O_CLOEXEC) >= 0);
}
static void skips(void **s) {
  (void)s;
  printf("# skipped: a reason given by the case\n");
  skip();
}
/* Leaves a shm object named as tname() names them, and a /tmp file, then
 * fails: the runner removes both. */
static void leaves_a_map_and_fails(void **s) {
  (void)s;
  snprintf(left_name, sizeof left_name, "%s-left-%d-0", mmf_test_prefix(),
           (int)getpid());
  int fd = shm_open(left_name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
  assert_true(fd >= 0);
  close(fd);
  char path[] = "/tmp/mmftest-runner-XXXXXX";
  fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  printf("# made /dev/shm/%s and %s\n", left_name, path);
  fail();
}
static void passes_after_all(void **s) {
  (void)s;
  assert_true(1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(passes),
      cmocka_unit_test(fails),
      cmocka_unit_test(aborts),
      cmocka_unit_test(segfaults),
      cmocka_unit_test(hangs),
      cmocka_unit_test(leaks_an_fd),
      cmocka_unit_test(skips),
      cmocka_unit_test(leaves_a_map_and_fails),
      cmocka_unit_test(passes_after_all),
  };
  return run_cases("selftest", tests, NULL, NULL);
}
