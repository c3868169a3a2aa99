/* SPDX-License-Identifier: MIT */
/* Every call that mmf.h calls thread-safe, from several threads on one
 * handle at once.  The suite runs this file again under ThreadSanitizer
 * (script/test), with tests/tsan.supp for the seqlock's copies. */
#include "util.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#define THREADS 4
#define CAP 4096

static mmf_t *shared_m, *shared_raw;
static const char *shared_name;
static _Atomic int stop;
static _Atomic long failures, ops;
static _Atomic int in_lock; /* holders of the user lock right now */

static void record_failure(int line, int r) {
  fprintf(stderr, "line %d: %d (%s)\n", line, r, mmf_strerror(r));
  atomic_fetch_add(&failures, 1);
}
#define CHECK(cond, r)                                                         \
  do {                                                                         \
    if (!(cond))                                                               \
      record_failure(__LINE__, (int)(r));                                      \
  } while (0)

static void one_round(int me, uint64_t *seed, uint8_t *buf) {
  int r;
  size_t len;
  uint64_t seq;
  switch (rnd(seed) % 12) {
  case 0: /* mmf_write */
    len = make_payload(buf, 24 + rnd(seed) % 1000, (uint64_t)me, seed);
    CHECK((r = mmf_write(shared_m, buf, len)) == 0, r);
    break;
  case 1: /* mmf_append: a whole payload only if the content was empty */
    r = mmf_append(shared_m, "+", 1, "", 0);
    CHECK(r == 0 || r == -MMF_ETOOBIG, r);
    break;
  case 2: /* mmf_read */
    r = mmf_read(shared_m, buf, CAP, &len, &seq);
    CHECK(r == 0, r);
    break;
  case 3: { /* mmf_read_alloc */
    void *d;
    CHECK((r = mmf_read_alloc(shared_m, &d, &len, &seq)) == 0, r);
    if (r == 0)
      free(d);
    break;
  }
  case 4: { /* zero-copy, each thread its own loan or view */
    struct mmf_write_loan w;
    if ((r = mmf_write_begin(shared_m, 100, &w)) == 0) {
      len = make_payload(w.data, 100, (uint64_t)me, seed);
      if (rnd(seed) & 1)
        CHECK((r = mmf_write_commit(shared_m, &w, len)) == 0, r);
      else
        mmf_write_abort(shared_m, &w);
    } else {
      record_failure(__LINE__, r);
    }
    struct mmf_read_view v;
    CHECK((r = mmf_read_begin(shared_m, &v)) == 0, r);
    if (r == 0)
      (void)mmf_read_end(shared_m, &v);
    break;
  }
  case 5: { /* mmf_stat */
    struct mmf_stat st;
    CHECK((r = mmf_stat(shared_m, &st)) == 0 && st.holders >= 1, r);
    break;
  }
  case 6: /* mmf_wait */
    r = mmf_wait(shared_m, UINT64_MAX - 1, 1, &seq);
    CHECK(r == -ETIMEDOUT, r);
    CHECK((r = mmf_wait(shared_m, 0, 0, &seq)) == 0 || r == -ETIMEDOUT, r);
    break;
  case 7: { /* the user lock, through a handle of this thread's own */
    mmf_t *h;
    if ((r = mmf_open(shared_name, 0, &h)) < 0) {
      record_failure(__LINE__, r);
      break;
    }
    r = mmf_lock(h, 2000);
    CHECK(r == 0, r);
    if (r == 0) {
      CHECK(atomic_fetch_add(&in_lock, 1) == 0, -1); /* alone inside */
      sched_yield();
      atomic_fetch_sub(&in_lock, 1);
      CHECK((r = mmf_unlock(h)) == 0, r);
    }
    mmf_close(h);
    break;
  }
  case 8: { /* mmf_write_fd and mmf_read_fd through a pipe */
    int p[2];
    if (pipe(p) < 0)
      break;
    len = make_payload(buf, 200, (uint64_t)me, seed);
    CHECK(write(p[1], buf, len) == (ssize_t)len, -1);
    close(p[1]);
    size_t got;
    CHECK((r = mmf_write_fd(shared_m, p[0], len, &got)) == 0 && got == len, r);
    close(p[0]);
    int fd = open("/dev/null", O_WRONLY);
    CHECK((r = mmf_read_fd(shared_m, fd, NULL, NULL)) == 0, r);
    close(fd);
    break;
  }
  case 9: { /* mmf_save */
    char path[128];
    snprintf(path, sizeof path, "/tmp/mmftest-thr-%d-%d", (int)getpid(), me);
    CHECK((r = mmf_save(shared_m, path)) == 0, r);
    unlink(path);
    break;
  }
  case 10: /* raw maps: their lock is the handle's, as are their bytes,
            * which the caller orders (here: one thread writes them) */
    CHECK(mmf_data(shared_raw) && mmf_size(shared_raw) == CAP, -1);
    if (me == 0) {
      CHECK((r = mmf_write(shared_raw, "raw", 3)) == 0, r);
      CHECK((r = mmf_read(shared_raw, buf, CAP, &len, NULL)) == 0, r);
    }
    r = mmf_lock(shared_raw, 0);
    if (r == 0) /* this handle's: one thread of it has it */
      CHECK((r = mmf_unlock(shared_raw)) == 0, r);
    else
      CHECK(r == -EDEADLK || r == -ETIMEDOUT, r);
    break;
  default: /* mmf_sync, mmf_strerror, mmf_version */
    CHECK((r = mmf_sync(shared_m)) == 0, r);
    CHECK(mmf_strerror(-MMF_ECORRUPT)[0] && mmf_version()[0], -1);
    break;
  }
  atomic_fetch_add(&ops, 1);
}

static void *worker(void *arg) {
  int me = (int)(intptr_t)arg;
  uint64_t seed = 0x9e3779b97f4a7c15ull * (uint64_t)(me + 1);
  uint8_t *buf = malloc(CAP);
  while (!atomic_load(&stop))
    one_round(me, &seed, buf);
  free(buf);
  return NULL;
}

static void every_call_from_threads_at_once(void **s) {
  (void)s;
  shared_name = tname("thr");
  char raw[128];
  snprintf(raw, sizeof raw, "%s-raw", shared_name);
  assert_int_equal(mmf_create(shared_name, CAP, 0, 0, &shared_m), 0);
  assert_int_equal(mmf_create(raw, CAP, MMF_RAW, 0, &shared_raw), 0);
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++)
    pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
  sleep(2);
  atomic_store(&stop, 1);
  for (int i = 0; i < THREADS; i++)
    pthread_join(t[i], NULL);
  printf("# %ld calls from %d threads, %ld failures\n", atomic_load(&ops),
         THREADS, atomic_load(&failures));
  assert_int_equal(atomic_load(&failures), 0);
  mmf_close(shared_raw);
  mmf_close(shared_m);
  mmf_remove(raw);
  mmf_remove(shared_name);
}

/* A thread with a cancel pending reaches no cancellation point while it
 * holds the writers' lock: each call completes (it would be cancelled in
 * fallocate with the lock held otherwise), and the lock is free after. */
struct pending_arg {
  mmf_t *m, *compact;
  int r[6];
};

static void *write_with_cancel_pending(void *arg) {
  struct pending_arg *a = arg;
  static uint8_t big[20000];
  for (size_t i = 0; i < 6; i++)
    a->r[i] = 1;
  (void)pthread_cancel(pthread_self()); /* deferred: acts at a point */
  /* Each reserves pages no write reserved before (fallocate). */
  a->r[0] = mmf_write(a->m, big, sizeof big);
  a->r[1] = mmf_append(a->m, big, sizeof big, NULL, 0);
  a->r[2] = mmf_write_at(a->m, 50000, big, 10000);
  struct mmf_write_loan w;
  a->r[3] = mmf_write_begin(a->m, 65536, &w);
  a->r[4] = a->r[3] ? a->r[3] : mmf_write_commit(a->m, &w, 65536);
  /* A compact map punches out the slot it unpublished. */
  a->r[5] = mmf_write(a->compact, big, sizeof big) ||
            mmf_write(a->compact, big, sizeof big);
  return NULL; /* never at a cancellation point: returns normally */
}

static void a_pending_cancel_leaves_no_writers_lock(void **s) {
  (void)s;
  const char *n = tname("thr-cancel");
  char nc[128];
  snprintf(nc, sizeof nc, "%s-compact", n);
  mmf_t *m, *other, *compact;
  assert_int_equal(mmf_create(n, 65536, 0, 0600, &m), 0);
  assert_int_equal(mmf_open(n, 0, &other), 0);
  assert_int_equal(mmf_create(nc, 65536, MMF_COMPACT, 0600, &compact), 0);
  struct pending_arg a = {.m = m, .compact = compact};
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, write_with_cancel_pending, &a), 0);
  void *res;
  assert_int_equal(pthread_join(t, &res), 0);
  assert_true(res != PTHREAD_CANCELED);
  for (size_t i = 0; i < 6; i++)
    assert_int_equal(a.r[i], 0);
  assert_int_equal(mmf_write(other, "after", 5), 0);
  assert_int_equal(mmf_write(m, "same handle", 11), 0);
  assert_int_equal(mmf_write(compact, "compact", 7), 0);
  mmf_close(compact);
  mmf_close(other);
  mmf_close(m);
  mmf_remove(nc);
  mmf_remove(n);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      T(every_call_from_threads_at_once),
      T(a_pending_cancel_leaves_no_writers_lock),
  };
  return run_cases("threads", tests, NULL, NULL);
}
