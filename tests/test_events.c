/* SPDX-License-Identifier: MIT */
/* Event loops: the pollable descriptor of a handle (its contract, no lost
 * wake-up over 100,000 publications, across a PID namespace, read-only
 * handles, close while polled, 128 maps and more, fork), mmf_wait_any
 * (which, timeout, cancel) and the seq of one's own write.  The suite runs
 * this file under ThreadSanitizer too. */
#include "util.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "events.h"

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MMF_TEST_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define MMF_TEST_TSAN 1
#endif

/* ThreadSanitizer cannot start threads in a child forked from a threaded
 * process: the tests whose children poll run in the plain builds. */
static void skip_under_tsan(void) {
#ifdef MMF_TEST_TSAN
  printf("# skipped: a forked child that starts threads, under TSan\n");
  skip();
#endif
}

static int readable(int fd, int timeout_ms) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  int r = poll(&p, 1, timeout_ms);
  return r > 0 && (p.revents & POLLIN);
}

static mmf_t *make(const char *tag, const char **ret_name) {
  const char *n = tname(tag);
  mmf_t *m;
  assert_int_equal(mmf_create(n, 4096, 0, 0600, &m), 0);
  if (ret_name)
    *ret_name = n;
  return m;
}

static void drop(mmf_t *m, const char *name) {
  mmf_close(m);
  mmf_remove(name);
}

/* ---- the seq of one's own write ---- */

static void every_publishing_call_reports_its_seq(void **s) {
  (void)s;
  const char *n;
  mmf_t *m = make("ev-seq", &n);
  uint64_t seq = 99;
  assert_int_equal(mmf_write_seq(m, "a", 1, &seq), 0);
  assert_int_equal(seq, 1);
  assert_int_equal(mmf_append_seq(m, "b", 1, ",", 1, &seq), 0);
  assert_int_equal(seq, 2);
  assert_int_equal(mmf_write_at_seq(m, 0, "c", 1, &seq), 0);
  assert_int_equal(seq, 3);
  struct mmf_write_loan w;
  assert_int_equal(mmf_write_begin(m, 4, &w), 0);
  memcpy(w.data, "loan", 4);
  assert_int_equal(mmf_write_commit_seq(m, &w, 4, &seq), 0);
  assert_int_equal(seq, 4);
  int p[2];
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  assert_int_equal(write(p[1], "piped", 5), 5);
  close(p[1]);
  size_t len;
  assert_int_equal(mmf_write_fd_seq(m, p[0], 100, &len, &seq), 0);
  close(p[0]);
  assert_int_equal(len, 5);
  assert_int_equal(seq, 5);
  assert_int_equal(mmf_write_seq(m, "x", 1, NULL), 0); /* NULL is fine */
  /* A failed call leaves it untouched. */
  seq = 77;
  char big[8192] = {0};
  assert_int_equal(mmf_write_seq(m, big, sizeof big, &seq), -MMF_ETOOBIG);
  assert_int_equal(seq, 77);
  assert_int_equal(mmf_write_commit_seq(m, &w, 1, &seq), -EINVAL);
  assert_int_equal(seq, 77);
  uint64_t now;
  assert_int_equal(mmf_wait(m, 0, 0, &now), 0);
  assert_int_equal(now, 6);
  drop(m, n);
  /* Raw maps publish no seq. */
  n = tname("ev-seqraw");
  assert_int_equal(mmf_create(n, 64, MMF_RAW, 0600, &m), 0);
  assert_int_equal(mmf_write_seq(m, "r", 1, &seq), 0);
  assert_int_equal(seq, 0);
  assert_int_equal(mmf_write_at_seq(m, 3, "r", 1, &seq), 0);
  assert_int_equal(seq, 0);
  drop(m, n);
}

#define SEQ_THREADS 4
#define SEQ_EACH 5000
static mmf_t *seq_m;
static uint64_t seqs[SEQ_THREADS][SEQ_EACH];

static void *write_and_note(void *arg) {
  int me = (int)(intptr_t)arg;
  for (int i = 0; i < SEQ_EACH; i++) {
    uint64_t seq = 0;
    if (mmf_write_seq(seq_m, &i, sizeof i, &seq) < 0)
      seq = 0;
    seqs[me][i] = seq;
  }
  return NULL;
}

/* Threads writing through one handle each get the seqs of their own
 * writes: all distinct, together exactly 1..N. */
static void the_seq_belongs_to_the_call(void **s) {
  (void)s;
  const char *n;
  seq_m = make("ev-seqthr", &n);
  pthread_t t[SEQ_THREADS];
  for (int i = 0; i < SEQ_THREADS; i++)
    pthread_create(&t[i], NULL, write_and_note, (void *)(intptr_t)i);
  for (int i = 0; i < SEQ_THREADS; i++)
    pthread_join(t[i], NULL);
  size_t total = SEQ_THREADS * SEQ_EACH;
  uint8_t *seen = calloc(total + 1, 1);
  for (int i = 0; i < SEQ_THREADS; i++)
    for (int k = 0; k < SEQ_EACH; k++) {
      uint64_t q = seqs[i][k];
      assert_true(q >= 1 && q <= total);
      assert_int_equal(seen[q], 0);
      seen[q] = 1;
      if (k)
        assert_true(q > seqs[i][k - 1]); /* a thread's own are in order */
    }
  free(seen);
  drop(seq_m, n);
}

/* ---- the descriptor's contract ---- */

static void the_descriptor_follows_acknowledgements(void **s) {
  (void)s;
  const char *n;
  mmf_t *m = make("ev-fd", &n);
  int fd = mmf_event_fd(m);
  assert_true(fd >= 0);
  assert_int_equal(mmf_event_fd(m), fd); /* the same one */
  assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
  assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
  assert_false(readable(fd, 50)); /* seq 0: nothing newer than 0 */
  uint64_t seq = 9;
  assert_int_equal(mmf_event_ack(m, &seq), 0);
  assert_int_equal(seq, 0);
  assert_int_equal(mmf_write(m, "1", 1), 0);
  assert_true(readable(fd, 2000));
  assert_true(readable(fd, 0)); /* stays readable until acknowledged */
  assert_int_equal(mmf_write(m, "2", 1), 0);
  assert_int_equal(mmf_event_ack(m, &seq), 0);
  assert_int_equal(seq, 2); /* both contents, acknowledged at once */
  assert_false(readable(fd, 50));
  assert_int_equal(mmf_event_ack(m, NULL), 0); /* again: harmless */
  assert_false(readable(fd, 20));
  assert_int_equal(mmf_write(m, "3", 1), 0);
  assert_true(readable(fd, 2000));
  assert_int_equal(mmf_event_ack(m, &seq), 0);
  assert_int_equal(seq, 3);
  assert_false(readable(fd, 20));
  drop(m, n);
}

static void a_map_with_content_polls_readable_at_once(void **s) {
  (void)s;
  const char *n;
  mmf_t *w = make("ev-first", &n), *m;
  assert_int_equal(mmf_write(w, "x", 1), 0);
  assert_int_equal(mmf_open(n, 0, &m), 0);
  int fd = mmf_event_fd(m);
  assert_true(fd >= 0);
  assert_true(readable(fd, 2000));
  uint64_t seq;
  assert_int_equal(mmf_event_ack(m, &seq), 0);
  assert_int_equal(seq, 1);
  assert_false(readable(fd, 20));
  mmf_close(m);
  drop(w, n);
}

static void errors_are_clear(void **s) {
  (void)s;
  const char *n;
  mmf_t *m = make("ev-err", &n), *raw;
  assert_int_equal(mmf_event_fd(NULL), -EINVAL);
  assert_int_equal(mmf_event_ack(NULL, NULL), -EINVAL);
  assert_int_equal(mmf_event_ack(m, NULL), -EINVAL); /* no descriptor yet */
  const char *rn = tname("ev-errraw");
  assert_int_equal(mmf_create(rn, 64, MMF_RAW, 0600, &raw), 0);
  assert_int_equal(mmf_event_fd(raw), -MMF_ERAW);
  uint64_t after = 0;
  size_t idx;
  assert_int_equal(mmf_wait_any(&raw, &after, 1, -1, 0, &idx, NULL), -MMF_ERAW);
  assert_int_equal(mmf_wait_any(&m, &after, 0, -1, 0, &idx, NULL), -EINVAL);
  assert_int_equal(mmf_wait_any(NULL, &after, 1, -1, 0, &idx, NULL), -EINVAL);
  mmf_t *none = NULL;
  assert_int_equal(mmf_wait_any(&none, &after, 1, -1, 0, &idx, NULL), -EINVAL);
  drop(raw, rn);
  drop(m, n);
}

/* ---- no lost wake-up ---- */

#define PUBS 100000

static int publish_many(void *arg) {
  const char *name = arg;
  mmf_t *m;
  if (mmf_open(name, 0, &m) < 0)
    return 2;
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < PUBS; i++) {
    if (mmf_write(m, &i, sizeof i) < 0)
      return 3;
    /* Bursts and pauses of all lengths, so that publications land at
     * every point of the poller's acknowledgement. */
    unsigned r = (unsigned)rnd(&x);
    if ((r & 7) == 0)
      for (unsigned k = r >> 20; k; k--)
        mmf__cpu_relax();
    if ((r & 1023) == 0)
      sched_yield();
  }
  mmf_close(m);
  return 0;
}

/* The poller acknowledges every time the descriptor is readable; whenever
 * the map holds more than it acknowledged, the descriptor must become
 * readable (a lost wake-up leaves it silent: the poll times out). */
static void no_wakeup_is_lost_over_100000_publications(void **s) {
  (void)s;
  const char *n;
  mmf_t *m = make("ev-lost", &n);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  int fd = mmf_event_fd(m);
  struct epoll_event ev = {.events = EPOLLIN};
  assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
  /* No bounded sleeps: a lost wake-up stays lost, and the poll says so. */
  mmf__events_slice_ms = -1;
  pid_t p = spawn(publish_many, (void *)n);
  uint64_t acked = 0;
  unsigned wakeups = 0;
  while (acked < PUBS) {
    int r = epoll_wait(ep, &ev, 1, 3000);
    if (r == 0) {
      uint64_t now;
      assert_int_equal(mmf_wait(m, 0, 0, &now), 0);
      fprintf(stderr, "lost: acknowledged %llu, the map holds %llu\n",
              (unsigned long long)acked, (unsigned long long)now);
      fail();
    }
    if (r < 0)
      continue;
    uint64_t seq;
    assert_int_equal(mmf_event_ack(m, &seq), 0);
    assert_true(seq > acked); /* readable only with something newer */
    acked = seq;
    wakeups++;
  }
  mmf__events_slice_ms = 50;
  assert_int_equal(reap(p, 60000), 0);
  assert_int_equal(acked, PUBS);
  assert_false(readable(fd, 20));
  printf("# %u wake-ups for %d publications\n", wakeups, PUBS);
  close(ep);
  drop(m, n);
}

/* ---- elsewhere: a PID namespace, a read-only handle ---- */

static const char *ns_name;
static int poll_in_new_pidns(void *arg) {
  (void)arg;
  if (unshare(CLONE_NEWPID) < 0)
    return 77;
  pid_t p = fork();
  if (p < 0)
    return 77;
  if (p > 0) {
    int st;
    waitpid(p, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 98;
  }
  if (getpid() != 1)
    _exit(97);
  mmf_t *m;
  if (mmf_open(ns_name, MMF_READONLY, &m) < 0)
    _exit(2);
  int fd = mmf_event_fd(m);
  uint64_t seq;
  if (fd < 0 || mmf_event_ack(m, &seq) < 0 || seq != 0)
    _exit(3);
  say_ready();
  if (!readable(fd, 10000))
    _exit(4);
  if (mmf_event_ack(m, &seq) < 0 || seq != 1)
    _exit(5);
  mmf_close(m);
  _exit(0);
}

static void polls_across_a_pid_namespace(void **s) {
  (void)s;
  skip_under_tsan();
  if (geteuid() != 0) {
    printf("# skipped: a PID namespace needs root\n");
    skip();
  }
  const char *n;
  mmf_t *m = make("ev-ns", &n);
  ns_name = n;
  assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
  pid_t p = spawn(poll_in_new_pidns, NULL);
  await_ready();
  assert_int_equal(mmf_write(m, "hello", 5), 0);
  int rc = reap(p, 20000);
  close(ready[0]);
  close(ready[1]);
  drop(m, n);
  if (rc == 77) {
    printf("# skipped: the kernel refused a new PID namespace\n");
    skip();
  }
  assert_int_equal(rc, 0);
}

static void read_only(unsigned mode) {
  const char *n = tname("ev-ro");
  mmf_t *w, *m;
  assert_int_equal(mmf_create(n, 4096, 0, mode, &w), 0);
  assert_int_equal(mmf_open(n, MMF_READONLY, &m), 0);
  int fd = mmf_event_fd(m);
  assert_true(fd >= 0);
  for (int i = 1; i <= 20; i++) {
    assert_int_equal(mmf_write(w, "x", 1), 0);
    assert_true(readable(fd, 2000));
    uint64_t seq;
    assert_int_equal(mmf_event_ack(m, &seq), 0);
    assert_int_equal(seq, (uint64_t)i);
    assert_false(readable(fd, 0));
  }
  mmf_close(m);
  drop(w, n);
}

/* A read-only handle cannot set the sleepers bit: woken by every write
 * where the mode lets readers in who cannot write, within 10 ms else. */
static void a_read_only_handle_polls(void **s) {
  (void)s;
  read_only(0600);
  read_only(0644);
}

/* ---- lifetime ---- */

static _Atomic int stop_writing;
static void *write_forever(void *arg) {
  mmf_t *m = arg;
  int i = 0;
  while (!atomic_load(&stop_writing)) {
    mmf_write(m, &i, sizeof i);
    i++;
    if ((i & 63) == 0)
      sched_yield();
  }
  return NULL;
}

/* Handles closed while their descriptors are polled and their map written:
 * the library's thread never touches a closed handle's mapping (ASan and a
 * plain SIGSEGV would say so), and each close closes its descriptor. */
static void closing_while_polled_is_safe(void **s) {
  (void)s;
  const char *n;
  mmf_t *w = make("ev-close", &n);
  atomic_store(&stop_writing, 0);
  pthread_t t;
  pthread_create(&t, NULL, write_forever, w);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  for (int round = 0; round < 300; round++) {
    mmf_t *m[3];
    for (int k = 0; k < 3; k++) {
      assert_int_equal(mmf_open(n, k == 2 ? MMF_READONLY : 0, &m[k]), 0);
      int fd = mmf_event_fd(m[k]);
      assert_true(fd >= 0);
      struct epoll_event ev = {.events = EPOLLIN};
      assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
    }
    if (round & 1)
      assert_true(readable(mmf_event_fd(m[0]), 2000));
    if (round % 3 == 0)
      (void)mmf_event_ack(m[1], NULL);
    int fd0 = mmf_event_fd(m[0]);
    for (int k = 0; k < 3; k++)
      mmf_close(m[k]);
    /* Closed, so gone from the epoll set too. */
    assert_int_equal(fcntl(fd0, F_GETFD), -1);
  }
  atomic_store(&stop_writing, 1);
  pthread_join(t, NULL);
  struct epoll_event ev;
  assert_int_equal(epoll_wait(ep, &ev, 1, 0), 0);
  close(ep);
  drop(w, n);
}

/* Polling keeps no transient map alive: it goes with its last handle. */
static void polling_keeps_no_transient_map_alive(void **s) {
  (void)s;
  const char *n = tname("ev-tr");
  mmf_t *m, *o;
  assert_int_equal(mmf_create(n, 4096, MMF_TRANSIENT, 0600, &m), 0);
  assert_int_equal(mmf_open(n, 0, &o), 0);
  assert_true(mmf_event_fd(m) >= 0);
  assert_true(mmf_event_fd(o) >= 0);
  assert_int_equal(mmf_write(m, "x", 1), 0);
  assert_true(readable(mmf_event_fd(o), 2000));
  mmf_close(o);
  assert_true(shm_exists(n));
  mmf_close(m);
  assert_false(shm_exists(n));
}

/* ---- many maps ---- */

#define MANY 300 /* more than two groups of 127 */

static void hundreds_of_maps_in_one_epoll_set(void **s) {
  (void)s;
  static mmf_t *m[MANY];
  static const char *names[MANY];
  static char nbuf[MANY][128];
  int ep = epoll_create1(EPOLL_CLOEXEC);
  for (int i = 0; i < MANY; i++) {
    snprintf(nbuf[i], sizeof nbuf[i], "%s", tname("ev-many"));
    names[i] = nbuf[i];
    assert_int_equal(mmf_create(names[i], 64, 0, 0600, &m[i]), 0);
    int fd = mmf_event_fd(m[i]);
    assert_true(fd >= 0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
  }
  uint64_t x = 12345;
  for (int round = 0; round < 20; round++) {
    /* A few maps written: exactly those poll readable. */
    int want[5];
    for (int k = 0; k < 5; k++) {
      want[k] = (int)(rnd(&x) % MANY);
      assert_int_equal(mmf_write(m[want[k]], "x", 1), 0);
    }
    int got = 0;
    uint8_t hit[MANY] = {0};
    int64_t until = now_ns() + 5000000000ll;
    for (;;) {
      int all = 1;
      for (int k = 0; k < 5; k++)
        all &= hit[want[k]];
      if (all || now_ns() > until)
        break;
      struct epoll_event ev[16];
      int r = epoll_wait(ep, ev, 16, 100);
      for (int j = 0; j < r; j++) {
        int i = (int)ev[j].data.u32;
        int expected = 0;
        for (int k = 0; k < 5; k++)
          expected |= want[k] == i;
        assert_true(expected);
        assert_int_equal(mmf_event_ack(m[i], NULL), 0);
        if (!hit[i])
          got++;
        hit[i] = 1;
      }
    }
    for (int k = 0; k < 5; k++)
      assert_true(hit[want[k]]);
    struct epoll_event ev;
    assert_int_equal(epoll_wait(ep, &ev, 1, 20), 0);
  }
  for (int i = 0; i < MANY; i++)
    drop(m[i], names[i]);
  close(ep);
}

/* ---- mmf_wait_any ---- */

struct later {
  mmf_t *m;
  int fd; /* or an eventfd to signal */
  int ms;
};
static void *write_later(void *arg) {
  struct later *l = arg;
  usleep((useconds_t)l->ms * 1000);
  if (l->m)
    mmf_write(l->m, "x", 1);
  else
    eventfd_write(l->fd, 1);
  return NULL;
}

static void wait_any(size_t count, bool with_cancel) {
  mmf_t **m = calloc(count, sizeof *m);
  uint64_t *after = calloc(count, sizeof *after);
  char(*names)[128] = calloc(count, 128);
  for (size_t i = 0; i < count; i++) {
    snprintf(names[i], 128, "%s", tname("ev-any"));
    assert_int_equal(mmf_create(names[i], 64, 0, 0600, &m[i]), 0);
  }
  int cfd = eventfd(0, EFD_CLOEXEC);
  int cancel = with_cancel ? cfd : -1;
  size_t idx = 999;
  uint64_t seq = 999;
  /* Nothing newer: the timeout. */
  int64_t t0 = now_ns();
  assert_int_equal(mmf_wait_any(m, after, count, cancel, 100, &idx, &seq),
                   -ETIMEDOUT);
  int64_t took = (now_ns() - t0) / 1000000;
  assert_true(took >= 95 && took < 2000);
  assert_int_equal(idx, 999);
  assert_int_equal(mmf_wait_any(m, after, count, cancel, 0, &idx, &seq),
                   -ETIMEDOUT);
  /* One written while waiting: that one, with its seq. */
  size_t which = count * 2 / 3;
  struct later l = {.m = m[which], .ms = 30};
  pthread_t t;
  pthread_create(&t, NULL, write_later, &l);
  assert_int_equal(mmf_wait_any(m, after, count, cancel, 10000, &idx, &seq), 0);
  pthread_join(t, NULL);
  assert_int_equal(idx, which);
  assert_int_equal(seq, 1);
  /* Already newer: at once; the first in the array wins. */
  assert_int_equal(mmf_write(m[count - 1], "y", 1), 0);
  assert_int_equal(mmf_wait_any(m, after, count, cancel, 0, &idx, &seq), 0);
  assert_int_equal(idx, which);
  after[which] = 1;
  assert_int_equal(mmf_wait_any(m, after, count, cancel, -1, &idx, &seq), 0);
  assert_int_equal(idx, count - 1);
  after[count - 1] = seq;
  if (with_cancel) {
    /* The caller's descriptor ends it, and is not read. */
    struct later c = {.fd = cfd, .ms = 30};
    pthread_create(&t, NULL, write_later, &c);
    t0 = now_ns();
    assert_int_equal(mmf_wait_any(m, after, count, cancel, 10000, &idx, &seq),
                     -ECANCELED);
    pthread_join(t, NULL);
    assert_true((now_ns() - t0) / 1000000 < 5000);
    assert_int_equal(mmf_wait_any(m, after, count, cancel, -1, &idx, &seq),
                     -ECANCELED);
    eventfd_t v;
    assert_int_equal(eventfd_read(cfd, &v), 0);
    /* A pipe's writer closing: hang-up ends it too. */
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    close(p[1]);
    assert_int_equal(mmf_wait_any(m, after, count, p[0], -1, &idx, &seq),
                     -ECANCELED);
    close(p[0]);
  }
  close(cfd);
  for (size_t i = 0; i < count; i++)
    drop(m[i], names[i]);
  free(names);
  free(after);
  free(m);
}

static void wait_any_without_cancel(void **s) {
  (void)s;
  wait_any(1, false);
  wait_any(128, false);
  wait_any(200, false);
}

static void wait_any_cancel_and_timeout(void **s) {
  (void)s;
  wait_any(1, true);
  wait_any(128, true);
}

/* The event descriptors of the maps are left alone by mmf_wait_any. */
static void wait_any_leaves_descriptors_alone(void **s) {
  (void)s;
  const char *n;
  mmf_t *m = make("ev-anyfd", &n);
  int fd = mmf_event_fd(m);
  assert_int_equal(mmf_write(m, "x", 1), 0);
  uint64_t after = 0, seq;
  size_t idx;
  int c = eventfd(0, EFD_CLOEXEC);
  assert_int_equal(mmf_wait_any(&m, &after, 1, c, -1, &idx, &seq), 0);
  after = 1;
  assert_int_equal(mmf_wait_any(&m, &after, 1, c, 30, &idx, &seq), -ETIMEDOUT);
  close(c);
  assert_true(readable(fd, 2000));
  drop(m, n);
}

/* ---- fork ---- */

static mmf_t *fork_m;
static int poll_in_child(void *arg) {
  int old = (int)(intptr_t)arg;
  /* The inherited copy is closed in the child; a new one works. */
  if (fcntl(old, F_GETFD) != -1)
    return 2;
  int fd = mmf_event_fd(fork_m);
  if (fd < 0)
    return 3;
  if (mmf_event_ack(fork_m, NULL) < 0)
    return 4;
  say_ready();
  if (!readable(fd, 10000))
    return 5;
  mmf_close(fork_m);
  return 0;
}

static void a_forked_child_polls_with_a_new_descriptor(void **s) {
  (void)s;
  skip_under_tsan();
  const char *n;
  fork_m = make("ev-fork", &n);
  int fd = mmf_event_fd(fork_m);
  assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
  pid_t p = spawn(poll_in_child, (void *)(intptr_t)fd);
  await_ready();
  assert_int_equal(mmf_write(fork_m, "x", 1), 0);
  assert_int_equal(reap(p, 20000), 0);
  /* The parent's still works. */
  assert_true(readable(fd, 2000));
  close(ready[0]);
  close(ready[1]);
  drop(fork_m, n);
}

/* ---- without futex_waitv ---- */

static int fallback_role(void *arg) {
  (void)arg;
  mmf__events_force_fallback(true);
  const char *n = tname("ev-fb");
  mmf_t *m[4];
  int fds[4];
  if (mmf_create(n, 64, 0, 0600, &m[0]) < 0)
    return 2;
  for (int k = 1; k < 4; k++)
    if (mmf_open(n, k == 3 ? MMF_READONLY : 0, &m[k]) < 0)
      return 3;
  for (int k = 0; k < 4; k++)
    if ((fds[k] = mmf_event_fd(m[k])) < 0)
      return 4;
  for (int i = 1; i <= 50; i++) {
    if (mmf_write(m[0], "x", 1) < 0)
      return 5;
    for (int k = 0; k < 4; k++) {
      uint64_t seq;
      if (!readable(fds[k], 2000))
        return 6;
      if (mmf_event_ack(m[k], &seq) < 0 || seq != (uint64_t)i)
        return 7;
    }
  }
  uint64_t after[4] = {50, 50, 50, 50};
  size_t idx;
  int c = eventfd(0, EFD_CLOEXEC);
  if (mmf_wait_any(m, after, 4, c, 50, &idx, NULL) != -ETIMEDOUT)
    return 8;
  close(c);
  for (int k = 3; k >= 0; k--)
    mmf_close(m[k]);
  mmf_remove(n);
  return 0;
}

static void works_without_futex_waitv(void **s) {
  (void)s;
  skip_under_tsan();
  assert_int_equal(reap(spawn(fallback_role, NULL), 60000), 0);
}

/* ---- the example ---- */

static void the_poll_maps_example(void **s) {
  (void)s;
  const char *ex = getenv("POLL_MAPS");
  if (!ex) {
    printf("# skipped: POLL_MAPS names no example\n");
    skip();
  }
  const char *na, *nb;
  mmf_t *a = make("ev-exa", &na), *b = make("ev-exb", &nb);
  assert_int_equal(mmf_write(a, "hello", 5), 0);
  int in[2], out[2];
  assert_int_equal(pipe2(in, O_CLOEXEC), 0);
  assert_int_equal(pipe2(out, O_CLOEXEC), 0);
  fflush(NULL);
  pid_t p = fork();
  if (p == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    execl(ex, ex, na, nb, (char *)NULL);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  FILE *f = fdopen(out[0], "r");
  char line[512], want[512];
  /* The current content at once, then each new one. */
  assert_non_null(fgets(line, sizeof line, f));
  snprintf(want, sizeof want, "%s 1 5\n", na);
  assert_string_equal(line, want);
  assert_int_equal(mmf_write(b, "abc", 3), 0);
  assert_non_null(fgets(line, sizeof line, f));
  snprintf(want, sizeof want, "%s 1 3\n", nb);
  assert_string_equal(line, want);
  assert_int_equal(mmf_write(a, "hi", 2), 0);
  assert_non_null(fgets(line, sizeof line, f));
  snprintf(want, sizeof want, "%s 2 2\n", na);
  assert_string_equal(line, want);
  close(in[1]); /* stdin closes: it ends */
  assert_int_equal(reap(p, 10000), 0);
  assert_null(fgets(line, sizeof line, f));
  fclose(f);
  drop(a, na);
  drop(b, nb);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      T(every_publishing_call_reports_its_seq),
      T(the_seq_belongs_to_the_call),
      T(the_descriptor_follows_acknowledgements),
      T(a_map_with_content_polls_readable_at_once),
      T(errors_are_clear),
      T(no_wakeup_is_lost_over_100000_publications),
      T(polls_across_a_pid_namespace),
      T(a_read_only_handle_polls),
      T(closing_while_polled_is_safe),
      T(polling_keeps_no_transient_map_alive),
      T(hundreds_of_maps_in_one_epoll_set),
      T(wait_any_without_cancel),
      T(wait_any_cancel_and_timeout),
      T(wait_any_leaves_descriptors_alone),
      T(a_forked_child_polls_with_a_new_descriptor),
      T(works_without_futex_waitv),
      T(the_poll_maps_example),
  };
  return run_cases("events", tests, NULL, NULL);
}
