/* SPDX-License-Identifier: MIT */
/* Waiting and time: futexes shared across processes, clocks, sleeping
 * and yielding the CPU; random ids (the clock stands in for missing
 * entropy). */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* FUTEX_WAIT with a relative timeout.  Where time_t is 64-bit on a 32-bit
 * ABI, the old call takes a 32-bit timespec: use futex_time64, or, on a
 * kernel without it, hand the old call the layout it reads. */
static long futex_wait_call(uint32_t *w, uint32_t val,
                            const struct timespec *ts) {
#if defined(SYS_futex_time64) && ULONG_MAX == 0xffffffffUL
  if (sizeof ts->tv_sec == 8) {
    long r = syscall(SYS_futex_time64, w, FUTEX_WAIT, val, ts, NULL, 0);
    if (r == 0 || errno != ENOSYS)
      return r;
    if (!ts)
      return syscall(SYS_futex, w, FUTEX_WAIT, val, NULL, NULL, 0);
    struct {
      long tv_sec, tv_nsec;
    } old = {(long)ts->tv_sec, ts->tv_nsec};
    return syscall(SYS_futex, w, FUTEX_WAIT, val, &old, NULL, 0);
  }
#endif
  return syscall(SYS_futex, w, FUTEX_WAIT, val, ts, NULL, 0);
}

/* Shared (not FUTEX_PRIVATE_FLAG) so that it crosses processes.  Returns 0
 * when woken or the word changed, -ETIMEDOUT, or -EINTR. */
int mmf__os_futex_wait(_Atomic uint32_t *w, uint32_t val, int timeout_ms) {
  struct timespec ts, *tp = NULL;
  if (timeout_ms >= 0) {
    ts.tv_sec = timeout_ms / 1000;
    ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
    tp = &ts;
  }
  long r = futex_wait_call((uint32_t *)w, val, tp);
  if (r < 0) {
    if (errno == EAGAIN)
      return 0;
    return -errno;
  }
  return 0;
}

int mmf__os_futex_wake(_Atomic uint32_t *w, int n) {
  long r = syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE, n, NULL, NULL, 0);
  return r < 0 ? -errno : (int)r;
}

int64_t mmf__os_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t mmf__os_now_ms(void) {
  return mmf__os_now_ns() / 1000000;
}

int64_t mmf__os_coarse_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void mmf__os_yield(void) {
  (void)sched_yield();
}

void mmf__os_sleep_us(int us) {
  struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

void mmf__os_sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

uint32_t mmf__os_random32(void) {
  uint32_t v;
  if (getrandom(&v, sizeof v, GRND_NONBLOCK) == (ssize_t)sizeof v)
    return v;
  /* No entropy yet (early boot): the clock and the pid differ enough. */
  return (uint32_t)(mmf__os_now_ns() * 2654435761u) ^ (uint32_t)getpid();
}

int mmf__os_cancel_off(void) {
  int old = PTHREAD_CANCEL_ENABLE;
  (void)pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
  return old;
}

void mmf__os_cancel_restore(int old) {
  (void)pthread_setcancelstate(old, NULL);
}
