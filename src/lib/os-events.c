/* SPDX-License-Identifier: MIT */
/* The kernel calls of event-loop support: futex_waitv, eventfd, a thread
 * of the library's own, poll. */
#include "internal.h"

#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449 /* the same number on every architecture */
#endif
#ifndef FUTEX_32
#define FUTEX_32 2
#endif
#ifndef FUTEX_WAITV_MAX
#define FUTEX_WAITV_MAX 128
#endif

/* The kernel's struct futex_waitv (uapi, Linux 5.16), spelled out so that
 * older headers build too. */
struct kwaitv {
  uint64_t val;
  uint64_t uaddr;
  uint32_t flags;
  uint32_t reserved;
};

int mmf__os_futex_waitv(const struct mmf__waiter *w, unsigned n,
                        int timeout_ms) {
  if (n > FUTEX_WAITV_MAX)
    return -EINVAL;
  struct kwaitv kw[FUTEX_WAITV_MAX];
  for (unsigned i = 0; i < n; i++)
    kw[i] = (struct kwaitv){.val = w[i].val,
                            .uaddr = (uint64_t)(uintptr_t)w[i].word,
                            .flags = FUTEX_32 |
                                     (w[i].priv ? FUTEX_PRIVATE_FLAG : 0)};
  /* The timeout is absolute, on the clock named. */
  struct timespec ts, *tsp = NULL;
  if (timeout_ms >= 0) {
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000;
    }
    tsp = &ts;
  }
  long r = syscall(SYS_futex_waitv, n ? kw : NULL, n, 0, tsp, CLOCK_MONOTONIC);
  return r < 0 ? -errno : (int)r;
}

void mmf__os_futex_wake_private(_Atomic uint32_t *w) {
  (void)syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL,
                NULL, 0);
}

int mmf__os_eventfd(int *ret_fd) {
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0)
    return -errno;
  *ret_fd = fd;
  return 0;
}

void mmf__os_eventfd_signal(int fd) {
  uint64_t one = 1;
  /* Only fails when the counter is full, and then it is readable. */
  ssize_t r = write(fd, &one, sizeof one);
  (void)r;
}

void mmf__os_eventfd_drain(int fd) {
  uint64_t v;
  ssize_t r = read(fd, &v, sizeof v);
  (void)r;
}

int mmf__os_thread_start(void *(*fn)(void *), void *arg) {
  pthread_attr_t a;
  if (pthread_attr_init(&a) != 0)
    return -ENOMEM;
  pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
  /* It needs little stack: never reserve the default 8 MiB. */
  pthread_attr_setstacksize(&a, 256 << 10);
  /* The thread inherits the creator's mask: block everything meanwhile, so
   * that the process's signals go to its own threads. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_t t;
  int r = pthread_create(&t, &a, fn, arg);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&a);
  return -r;
}

int mmf__os_poll_in(int fd_a, int fd_b, int timeout_ms) {
  struct pollfd p[2] = {{.fd = fd_a, .events = POLLIN},
                        {.fd = fd_b, .events = POLLIN}};
  int r = poll(p, 2, timeout_ms);
  if (r < 0)
    return -errno;
  /* An error or hang-up on the caller's descriptor ends the wait too. */
  int mask = 0;
  if (fd_a >= 0 && p[0].revents)
    mask |= 1;
  if (fd_b >= 0 && p[1].revents)
    mask |= 2;
  return mask;
}

void mmf__os_atfork(void (*prepare)(void), void (*parent)(void),
                    void (*child)(void)) {
  (void)pthread_atfork(prepare, parent, child);
}
