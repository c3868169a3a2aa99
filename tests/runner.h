/* SPDX-License-Identifier: MIT */
/* Runs each cmocka case in its own process, as wayland's tests/test-runner.c
 * does: a crash or a failed assertion loses only its own case, a case that
 * hangs is killed after MMF_TEST_TIMEOUT seconds (default 60), a case that
 * leaves a descriptor open fails, and whatever a failed case left in
 * /dev/shm (its names from tname()) and in /tmp (mmftest-*) is removed.
 * The output is TAP, one line per case.  A test file's main is one line:
 *
 *   return run_cases("name", tests, group_setup, group_teardown);
 *
 * Group setup and teardown run in each case's process, around that case.
 * A case that calls skip() after printing "# skipped: REASON" is reported
 * "ok N - case # SKIP REASON".  MMF_TEST_CASES="CASE..." runs only the
 * cases named. */
#ifndef MMF_TEST_RUNNER_H
#define MMF_TEST_RUNNER_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

int mmf_test_run(const char *group, const struct CMUnitTest *tests, size_t n,
                 CMFixtureFunction group_setup,
                 CMFixtureFunction group_teardown);

#define run_cases(group, tests, group_setup, group_teardown)                   \
  mmf_test_run(group, tests, sizeof(tests) / sizeof((tests)[0]), group_setup,  \
               group_teardown)

/* The first part of every name the tests make: $MMF_TEST_PREFIX, by
 * default "mmftest" (script/test gives each run its own). */
const char *mmf_test_prefix(void);

#endif
