/* SPDX-License-Identifier: MIT */
/* Coordination: waiting for a change, the user lock. */
#include "util.h"

#include <sched.h>
#include <sys/resource.h>
#include <sys/time.h>

struct waitarg {
  const char *name;
  uint64_t after;
  int timeout_ms;
};

/* Exit 0 if woken with seq after+1 no sooner than 150 ms. */
static int waiter(void *arg) {
  struct waitarg *w = arg;
  mmf_t *m;
  if (mmf_open(w->name, 0, &m) < 0)
    return 10;
  say_ready();
  int64_t t0 = now_ns();
  uint64_t seq = 0;
  int r = mmf_wait(m, w->after, w->timeout_ms, &seq);
  int64_t took = now_ns() - t0;
  mmf_close(m);
  if (r != 0)
    return 11;
  if (seq != w->after + 1)
    return 12;
  if (took < 150 * 1000000ll)
    return 13; /* woke before the write */
  return 0;
}

/* Make map `tag`, start n children running fn (each waits for seq 1 and
 * says ready first), write once 200 ms after all are ready, and check that
 * each exits 0.  Returns the map, still open; its name is in *w. */
static mmf_t *wake_waiters(const char *tag, int (*fn)(void *), int n,
                           struct waitarg *w) {
  *w = (struct waitarg){.name = tname(tag), .after = 0, .timeout_ms = 5000};
  mmf_t *m;
  assert_int_equal(mmf_create(w->name, 64, 0, 0, &m), 0);
  assert_int_equal(pipe(ready), 0);
  pid_t kids[8];
  for (int i = 0; i < n; i++)
    kids[i] = spawn(fn, w);
  for (int i = 0; i < n; i++)
    await_ready();
  usleep(200000);
  assert_int_equal(mmf_write(m, "x", 1), 0);
  for (int i = 0; i < n; i++)
    assert_int_equal(reap(kids[i], 5000), 0);
  close(ready[0]);
  close(ready[1]);
  return m;
}

static void wait_wakes_after_write(void **s) {
  (void)s;
  struct waitarg w;
  mmf_t *m = wake_waiters("wait", waiter, 1, &w);
  /* Already newer: at once. */
  uint64_t seq;
  assert_int_equal(mmf_wait(m, 0, -1, &seq), 0);
  assert_int_equal(seq, 1);
  mmf_close(m);
  mmf_remove(w.name);
}

static void wait_times_out(void **s) {
  (void)s;
  const char *n = tname("wto");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 64, 0, 0, &m), 0);
  int64_t t0 = now_ns();
  assert_int_equal(mmf_wait(m, 0, 200, NULL), -ETIMEDOUT);
  int64_t took = now_ns() - t0;
  assert_true(took >= 195 * 1000000ll);
  assert_true(took < 1000 * 1000000ll);
  assert_int_equal(mmf_wait(m, 0, 0, NULL), -ETIMEDOUT);
  mmf_close(m);
  mmf_remove(n);
}

static int idle_waiter(void *arg) {
  mmf_t *m;
  if (mmf_open(arg, 0, &m) < 0)
    return 10;
  int r = mmf_wait(m, 0, 1200, NULL);
  mmf_close(m);
  return r == -ETIMEDOUT ? 0 : 11;
}

static void waiting_uses_no_cpu(void **s) {
  (void)s;
  const char *n = tname("idle");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 64, 0, 0, &m), 0);
  pid_t p = spawn(idle_waiter, (void *)n);
  int status;
  struct rusage ru;
  assert_int_equal(wait4(p, &status, 0, &ru), p);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  printf("# CPU used by a 1.2 s wait: %.4f s\n", cpu);
  assert_true(cpu < 0.05);
  mmf_close(m);
  mmf_remove(n);
}

static void many_waiters_all_wake(void **s) {
  (void)s;
  struct waitarg w;
  mmf_t *m = wake_waiters("many", waiter, 8, &w);
  mmf_close(m);
  mmf_remove(w.name);
}

static void on_alarm(int sig) {
  (void)sig;
}

/* Signals keep interrupting the wait; the wake-up must not be lost. */
static int signalled_waiter(void *arg) {
  struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART */
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval it = {{0, 5000}, {0, 5000}};
  setitimer(ITIMER_REAL, &it, NULL);
  return waiter(arg);
}

static void signals_do_not_lose_wakeups(void **s) {
  (void)s;
  struct waitarg w;
  mmf_t *m = wake_waiters("sig", signalled_waiter, 1, &w);
  mmf_close(m);
  mmf_remove(w.name);
}

/* ---- the lock ---- */

/* Increment a counter kept as the content, 200 times, under the lock. */
static int incrementer(void *arg) {
  mmf_t *m;
  if (mmf_open(arg, 0, &m) < 0)
    return 10;
  for (int i = 0; i < 200; i++) {
    if (mmf_lock(m, 5000) != 0)
      return 11;
    uint64_t v = 0;
    size_t len;
    if (mmf_read(m, &v, sizeof v, &len, NULL) < 0)
      return 12;
    v++;
    sched_yield(); /* widen the window a lost update would need */
    if (mmf_write(m, &v, sizeof v) < 0)
      return 13;
    if (mmf_unlock(m) != 0)
      return 14;
  }
  mmf_close(m);
  return 0;
}

static void lock_excludes_across_processes(void **s) {
  (void)s;
  const char *n = tname("lock");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 64, 0, 0, &m), 0);
  uint64_t v = 0;
  assert_int_equal(mmf_write(m, &v, sizeof v), 0);
  pid_t kids[4];
  for (int i = 0; i < 4; i++)
    kids[i] = spawn(incrementer, (void *)n);
  for (int i = 0; i < 4; i++)
    assert_int_equal(reap(kids[i], 30000), 0);
  size_t len;
  assert_int_equal(mmf_read(m, &v, sizeof v, &len, NULL), 0);
  assert_int_equal(v, 800);
  mmf_close(m);
  mmf_remove(n);
}

/* Take the lock of map `name` (opened with `flags`), say so, hold it. */
static int hold_lock(const char *name, int flags) {
  mmf_t *m;
  if (mmf_open(name, flags, &m) < 0)
    return 10;
  if (mmf_lock(m, 1000) != 0)
    return 11;
  say_ready();
  for (;;)
    pause();
}
static int holder(void *arg) {
  return hold_lock(arg, 0);
}
static int raw_holder(void *arg) {
  return hold_lock(arg, MMF_RAW);
}

/* A process that kills `victim` after `usec`. */
static pid_t kill_later(pid_t victim, useconds_t usec) {
  pid_t k = fork();
  if (k == 0) {
    usleep(usec);
    kill(victim, SIGKILL);
    _exit(0);
  }
  return k;
}

static void lock_handed_over_when_holder_killed(void **s) {
  (void)s;
  const char *n = tname("abandon");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 64, 0, 0, &m), 0);
  assert_int_equal(pipe(ready), 0);
  pid_t p = spawn(holder, (void *)n);
  await_ready();
  struct mmf_stat st;
  assert_int_equal(mmf_stat(m, &st), 0);
  assert_int_equal(st.lock_pid, p);
  /* Held by a live process: times out. */
  int64_t t0 = now_ns();
  assert_int_equal(mmf_lock(m, 200), -ETIMEDOUT);
  int64_t took = now_ns() - t0;
  assert_true(took >= 195 * 1000000ll && took < 1000 * 1000000ll);
  /* Killed: the next locker gets it at once, and is told. */
  kill(p, SIGKILL);
  waitpid(p, NULL, 0);
  t0 = now_ns();
  assert_int_equal(mmf_lock(m, 5000), MMF_LOCK_ABANDONED);
  assert_true(now_ns() - t0 < 100 * 1000000ll);
  assert_int_equal(mmf_lock(m, 0), -EDEADLK);
  assert_int_equal(mmf_unlock(m), 0);
  assert_int_equal(mmf_unlock(m), -EPERM);
  assert_int_equal(mmf_lock(m, 0), 0);
  assert_int_equal(mmf_unlock(m), 0);
  close(ready[0]);
  close(ready[1]);
  mmf_close(m);
  mmf_remove(n);
}

static void sleeping_locker_wakes_when_holder_dies(void **s) {
  (void)s;
  const char *n = tname("abandon2");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 64, 0, 0, &m), 0);
  assert_int_equal(pipe(ready), 0);
  pid_t p = spawn(holder, (void *)n);
  await_ready();
  pid_t killer = kill_later(p, 300000);
  int64_t t0 = now_ns();
  assert_int_equal(mmf_lock(m, -1), MMF_LOCK_ABANDONED);
  int64_t took = now_ns() - t0;
  printf("# lock taken %.1f ms after the holder's kill\n",
         (double)(took - 300 * 1000000ll) / 1e6);
  assert_true(took < 600 * 1000000ll);
  assert_int_equal(mmf_unlock(m), 0);
  waitpid(killer, NULL, 0);
  waitpid(p, NULL, 0);
  close(ready[0]);
  close(ready[1]);
  mmf_close(m);
  mmf_remove(n);
}

static void lock_is_independent_of_writers(void **s) {
  (void)s;
  const char *n = tname("indep");
  mmf_t *m, *m2;
  assert_int_equal(mmf_create(n, 64, 0, 0, &m), 0);
  assert_int_equal(mmf_open(n, 0, &m2), 0);
  assert_int_equal(mmf_lock(m, -1), 0);
  /* Another handle writes while the user lock is held. */
  assert_int_equal(mmf_write(m2, "free", 4), 0);
  mmf_close(m); /* closing releases the lock it held */
  assert_int_equal(mmf_lock(m2, 0), 0);
  assert_int_equal(mmf_unlock(m2), 0);
  mmf_close(m2);
  mmf_remove(n);
}

static void raw_maps_lock_too(void **s) {
  (void)s;
  const char *n = tname("rawlock");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 64, MMF_RAW, 0, &m), 0);
  assert_int_equal(mmf_unlock(m), -EPERM);
  assert_int_equal(pipe(ready), 0);
  pid_t p = spawn(raw_holder, (void *)n);
  await_ready();
  int64_t t0 = now_ns();
  assert_int_equal(mmf_lock(m, 200), -ETIMEDOUT);
  assert_true(now_ns() - t0 >= 195 * 1000000ll);
  /* Its holder dies: the kernel releases it, and a waiter gets it. */
  pid_t killer = kill_later(p, 100000);
  t0 = now_ns();
  assert_int_equal(mmf_lock(m, 5000), 0);
  assert_true(now_ns() - t0 < 1000 * 1000000ll);
  assert_int_equal(mmf_lock(m, 0), -EDEADLK);
  /* Another handle, even in this process, is another holder. */
  mmf_t *m2;
  assert_int_equal(mmf_open(n, MMF_RAW, &m2), 0);
  assert_int_equal(mmf_lock(m2, 0), -ETIMEDOUT);
  assert_int_equal(mmf_unlock(m), 0);
  assert_int_equal(mmf_lock(m2, 0), 0);
  mmf_close(m2); /* closing releases it */
  assert_int_equal(mmf_lock(m, 0), 0);
  assert_int_equal(mmf_unlock(m), 0);
  waitpid(killer, NULL, 0);
  waitpid(p, NULL, 0);
  close(ready[0]);
  close(ready[1]);
  mmf_close(m);
  mmf_remove(n);
}

static int relocker(void *arg) {
  mmf_t *m;
  if (mmf_open(arg, 0, &m) < 0)
    return 1;
  say_ready();
  for (;;) {
    if (mmf_lock(m, -1) < 0)
      return 2;
    int64_t t0 = now_ns();
    while (now_ns() - t0 < 200000) /* 0.2 ms of work under the lock */
      ;
    mmf_unlock(m); /* and at once again */
  }
}

/* A holder that releases and locks again at once does not starve others:
 * the lock is handed to the sleeper it wakes. */
static void a_relocking_holder_does_not_starve_others(void **s) {
  (void)s;
  const char *n = tname("fair");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 64, 0, 0, &m), 0);
  assert_int_equal(pipe(ready), 0);
  pid_t p = spawn(relocker, (void *)n);
  await_ready();
  double worst = 0;
  int fails = 0;
  for (int i = 0; i < 50; i++) {
    int64_t t0 = now_ns();
    int r = mmf_lock(m, 5000);
    double ms = (double)(now_ns() - t0) / 1e6;
    if (r < 0)
      fails++;
    else
      mmf_unlock(m);
    if (ms > worst)
      worst = ms;
    usleep(1000);
  }
  kill(p, SIGKILL);
  waitpid(p, NULL, 0);
  printf("# 50 locks against a relocking holder: worst wait %.1f ms\n", worst);
  assert_int_equal(fails, 0);
  assert_true(worst < 50); /* 99 ms without the handoff, 11 with */
  mmf_close(m);
  mmf_remove(n);
  close(ready[0]);
  close(ready[1]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      T(wait_wakes_after_write),
      T(wait_times_out),
      T(waiting_uses_no_cpu),
      T(many_waiters_all_wake),
      T(signals_do_not_lose_wakeups),
      T(lock_excludes_across_processes),
      T(lock_handed_over_when_holder_killed),
      T(sleeping_locker_wakes_when_holder_dies),
      T(lock_is_independent_of_writers),
      T(a_relocking_holder_does_not_starve_others),
      T(raw_maps_lock_too),
  };
  return run_cases("coord", tests, NULL, NULL);
}
