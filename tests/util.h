/* SPDX-License-Identifier: MIT */
/* Helpers for the cmocka tests: unique names, child processes, fd checks. */
#ifndef MMF_TEST_UTIL_H
#define MMF_TEST_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mmf.h"
#include "runner.h"

/* A name no other test or run uses: the run's prefix, a tag, the pid and a
 * counter (the runner removes PREFIX-*-PID-* after each case). */
static inline const char *tname(const char *tag) {
  static char buf[8][128];
  static unsigned n;
  char *b = buf[n % 8];
  snprintf(b, sizeof buf[0], "%s-%s-%d-%u", mmf_test_prefix(), tag,
           (int)getpid(), n++);
  return b;
}

static inline int shm_exists(const char *name) {
  char p[512];
  snprintf(p, sizeof p, "/dev/shm/%s", name);
  return access(p, F_OK) == 0;
}

/* The runner checks every case for leaked descriptors, in the case's own
 * process. */
#define T(fn) cmocka_unit_test(fn)

/* A pipe on which children say "ready": pipe(ready) before using it. */
static int ready[2] __attribute__((unused)) = {-1, -1};
static inline void say_ready(void) {
  char c = 'r';
  if (write(ready[1], &c, 1) != 1)
    _exit(99);
}
static inline void await_ready(void) {
  char c;
  assert_int_equal(read(ready[0], &c, 1), 1);
}

/* The second user of the cross-user tests, $MMF_TEST_USER or "mmftest",
 * made with useradd when missing (script/test removes the one its run made):
 * 0 and its ids, or -1. */
static inline int other_user(uid_t *ret_uid, gid_t *ret_gid) {
  const char *name = getenv("MMF_TEST_USER");
  if (!name || !*name ||
      strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-_") != strlen(name))
    name = "mmftest";
  struct passwd *pw = getpwnam(name);
  if (!pw && geteuid() == 0) {
    char cmd[256];
    snprintf(cmd, sizeof cmd,
             "useradd --system --no-create-home --shell /usr/sbin/nologin "
             "%s >/dev/null 2>&1",
             name);
    if (system(cmd) != 0)
      return -1;
    pw = getpwnam(name);
  }
  if (!pw)
    return -1;
  *ret_uid = pw->pw_uid;
  *ret_gid = pw->pw_gid;
  return 0;
}

/* Become that user for good (in a child): 0 or -1. */
static inline int become(uid_t uid, gid_t gid) {
  return setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0 ? -1 : 0;
}

/* Run fn(arg) in a child; returns its pid. */
static inline pid_t spawn(int (*fn)(void *), void *arg) {
  fflush(NULL);
  pid_t p = fork();
  if (p == 0)
    _exit(fn(arg));
  return p;
}

/* Wait for a child, at most timeout_ms; its exit status, or -1 (killed
 * after the timeout) or 128+signal. */
static inline int reap(pid_t p, int timeout_ms) {
  int status;
  for (int waited = 0;; waited++) {
    pid_t r = waitpid(p, &status, WNOHANG);
    if (r == p)
      break;
    if (waited >= timeout_ms) {
      kill(p, SIGKILL);
      waitpid(p, &status, 0);
      return -1;
    }
    usleep(1000);
  }
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

static inline int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* xorshift, for payloads */
static inline uint64_t rnd(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

/* A self-checking payload: [len][seqish][checksum][bytes...]. */
static inline uint64_t fnv(const uint8_t *p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 1099511628211ull;
  return h;
}
static inline size_t make_payload(uint8_t *buf, size_t len, uint64_t tag,
                                  uint64_t *seed) {
  if (len < 24)
    len = 24;
  uint64_t len64 = len; /* 8 bytes whatever size_t is */
  memcpy(buf, &len64, 8);
  memcpy(buf + 8, &tag, 8);
  for (size_t i = 24; i < len; i++)
    buf[i] = (uint8_t)rnd(seed);
  uint64_t h = fnv(buf + 24, len - 24) ^ tag;
  memcpy(buf + 16, &h, 8);
  return len;
}
/* 1 if buf[0..len) is a whole payload. */
static inline int check_payload(const uint8_t *buf, size_t len) {
  if (len < 24)
    return 0;
  uint64_t l, tag, h;
  memcpy(&l, buf, 8);
  memcpy(&tag, buf + 8, 8);
  memcpy(&h, buf + 16, 8);
  return l == len && h == (fnv(buf + 24, len - 24) ^ tag);
}

#endif
