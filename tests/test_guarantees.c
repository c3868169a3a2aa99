/* SPDX-License-Identifier: MIT */
/* Guarantees under threads, aborted writes, hostile headers, shrinking
 * peers and odd files: each case failed on format 1. */
#include "util.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "internal.h"

static mmf_t *shared_m;
static _Atomic int stop;
static _Atomic long bad, good;

/* A writer that publishes whole payloads, then opens a write, fills it with
 * garbage and aborts it: nobody may ever read the garbage. */
static void *abort_writer(void *arg) {
  (void)arg;
  uint8_t buf[512];
  uint64_t seed = 7;
  for (uint64_t i = 0; !atomic_load(&stop); i++) {
    size_t len = make_payload(buf, 64 + rnd(&seed) % 400, i, &seed);
    if (mmf_write(shared_m, buf, len) < 0)
      atomic_fetch_add(&bad, 1000);
    struct mmf_write_loan w;
    if (mmf_write_begin(shared_m, 512, &w) < 0)
      continue;
    memset(w.data, 0xee, 512);
    mmf_write_abort(shared_m, &w);
  }
  return NULL;
}

static void *checking_reader(void *arg) {
  bool zero_copy = arg != NULL;
  uint8_t buf[512];
  while (!atomic_load(&stop)) {
    if (zero_copy) {
      /* Each thread its own view of one shared handle. */
      struct mmf_read_view v;
      if (mmf_read_begin(shared_m, &v) < 0) {
        atomic_fetch_add(&bad, 1);
        continue;
      }
      int whole = v.seq == 0 || check_payload(v.data, v.len);
      if (mmf_read_end(shared_m, &v) == 0)
        atomic_fetch_add(whole ? &good : &bad, 1);
    } else {
      size_t len;
      uint64_t seq;
      if (mmf_read(shared_m, buf, sizeof buf, &len, &seq) < 0 ||
          (seq && !check_payload(buf, len)))
        atomic_fetch_add(&bad, 1);
      else
        atomic_fetch_add(&good, 1);
    }
  }
  return NULL;
}

static void run_threads(int copy_readers, int view_readers, int seconds) {
  const char *n = tname("thr");
  assert_int_equal(mmf_create(n, 512, 0, 0, &shared_m), 0);
  atomic_store(&stop, 0);
  atomic_store(&bad, 0);
  atomic_store(&good, 0);
  pthread_t t[9];
  int k = 0;
  pthread_create(&t[k++], NULL, abort_writer, NULL);
  for (int i = 0; i < copy_readers; i++)
    pthread_create(&t[k++], NULL, checking_reader, NULL);
  for (int i = 0; i < view_readers; i++)
    pthread_create(&t[k++], NULL, checking_reader, (void *)1);
  sleep((unsigned)seconds);
  atomic_store(&stop, 1);
  for (int i = 0; i < k; i++)
    pthread_join(t[i], NULL);
  printf("# %ld reads whole, %ld not\n", atomic_load(&good), atomic_load(&bad));
  assert_int_equal(atomic_load(&bad), 0);
  assert_true(atomic_load(&good) > 0);
  mmf_close(shared_m);
  mmf_remove(n);
}

static void aborted_writes_are_never_read(void **s) {
  (void)s;
  run_threads(2, 0, 2);
}

static void views_are_per_thread(void **s) {
  (void)s;
  run_threads(0, 2, 2);
}

/* ---- reads complete in bounded time ---- */

#define BIG (8u << 20)

static int big_republisher(void *arg) {
  mmf_t *m;
  if (mmf_open(arg, 0, &m) < 0)
    return 1;
  uint8_t *buf = malloc(BIG);
  uint64_t seed = 3;
  size_t len = make_payload(buf, BIG, 1, &seed);
  for (;;)
    if (mmf_write(m, buf, len) < 0)
      return 2;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void reads_are_bounded_under_constant_writing(void **s) {
  (void)s;
  const char *n = tname("bound");
  mmf_t *m;
  assert_int_equal(mmf_create(n, BIG, 0, 0, &m), 0);
  pid_t p = spawn(big_republisher, (void *)n);
  /* Past the writer's first write into each slot, which allocates and
   * faults in 8 MiB (~45 ms each here): the steady state is measured. */
  uint64_t first;
  int waited = mmf_wait(m, 2, 5000, &first);
  /* The caller's buffer is touched first: its page faults are not the
   * read's. */
  uint8_t *buf = malloc(BIG);
  memset(buf, 0xa5, BIG);
  double ms[64];
  int k = 0, torn = 0;
  int64_t end = now_ns() + 3000 * 1000000ll;
  while (waited == 0 && k < 64 && now_ns() < end) {
    size_t len;
    int64_t t0 = now_ns();
    int r = mmf_read(m, buf, BIG, &len, NULL);
    ms[k++] = (double)(now_ns() - t0) / 1e6;
    if (r != 0 || !check_payload(buf, len))
      torn++;
  }
  kill(p, SIGKILL);
  waitpid(p, NULL, 0);
  assert_int_equal(waited, 0);
  assert_int_equal(torn, 0);
  qsort(ms, (size_t)k, sizeof *ms, by_value);
  printf("# %d reads of 8 MiB under a writer: median %.1f ms, p90 %.1f ms, "
         "max %.1f ms\n",
         k, ms[k / 2], ms[k * 9 / 10], ms[k - 1]);
  /* The target is 100 ms: met here alone (median 0.7-2.5 ms; the max,
   * 50-91 ms in ten runs, is the handle's first read, whose first touch of
   * each slot's pages costs ~40 ms in this VM); a loaded machine or a
   * sanitizer gets room, while a starving read (seconds, before the fix)
   * still fails. */
  assert_true(ms[k - 1] < 250);
  free(buf);
  mmf_close(m);
  mmf_remove(n);
}

/* ---- corruption is reported at once ---- */

static void busy_published_slot_is_corruption(void **s) {
  (void)s;
  enum { N = 100 };
  char names[N][128];
  for (int i = 0; i < N; i++) {
    snprintf(names[i], sizeof names[i], "%s", tname("busy"));
    mmf_t *m;
    assert_int_equal(mmf_create(names[i], 64, 0, 0644, &m), 0);
    assert_int_equal(mmf_write(m, "x", 1), 0);
    /* The published slot marked busy for ever, as any peer could. */
    uint64_t st = atomic_load(&m->hdr->state);
    atomic_store(&m->hdr->slot[st & 1].gen, 7);
    mmf_close(m);
  }
  mmf_t *m;
  assert_int_equal(mmf_open(names[0], MMF_READONLY, &m), 0);
  char buf[8];
  size_t len;
  int64_t t0 = now_ns();
  assert_int_equal(mmf_read(m, buf, sizeof buf, &len, NULL), -MMF_ECORRUPT);
  assert_true(now_ns() - t0 < 50 * 1000000ll);
  mmf_close(m);
  t0 = now_ns();
  struct mmf_info *list;
  size_t cnt;
  assert_int_equal(mmf_list(&list, &cnt), 0);
  double took = (double)(now_ns() - t0) / 1e6;
  int seen = 0;
  char busy[160];
  size_t busy_len =
      (size_t)snprintf(busy, sizeof busy, "%s-busy-", mmf_test_prefix());
  for (size_t i = 0; i < cnt; i++)
    if (!strncmp(list[i].name, busy, busy_len) &&
        list[i].error == -MMF_ECORRUPT)
      seen++;
  free(list);
  printf("# listed %zu objects, %d hostile, in %.0f ms\n", cnt, seen, took);
  assert_true(seen >= N);
  assert_true(took < 1000);
  for (int i = 0; i < N; i++)
    mmf_remove(names[i]);
}

/* ---- a shrunk object is never touched again ---- */

static void after_a_shrink_every_call_is_safe(void **s) {
  (void)s;
  const char *n = tname("shr");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 1 << 20, 0, 0, &m), 0);
  assert_int_equal(mmf_write(m, "x", 1), 0);
  char p[256];
  snprintf(p, sizeof p, "/dev/shm/%s", n);
  assert_int_equal(truncate(p, 100), 0);
  usleep(20000); /* past the tick of the last size check */
  char buf[8];
  size_t len;
  assert_int_equal(mmf_read(m, buf, sizeof buf, &len, NULL), -MMF_ECORRUPT);
  /* Each of these touched the header before, and died of SIGBUS. */
  assert_int_equal(mmf_wait(m, 0, 10, NULL), -MMF_ECORRUPT);
  assert_int_equal(mmf_lock(m, 10), -MMF_ECORRUPT);
  assert_int_equal(mmf_unlock(m), -MMF_ECORRUPT);
  assert_int_equal(mmf_write(m, "y", 1), -MMF_ECORRUPT);
  struct mmf_read_view v;
  assert_int_equal(mmf_read_begin(m, &v), -MMF_ECORRUPT);
  struct mmf_write_loan w;
  assert_int_equal(mmf_write_begin(m, 1, &w), -MMF_ECORRUPT);
  void *d;
  assert_int_equal(mmf_read_alloc(m, &d, &len, NULL), -MMF_ECORRUPT);
  mmf_close(m);
  mmf_remove(n);
}

/* Shrunk to nothing, the header is gone too: the first call after the
 * check must not read it (mmf_read_alloc peeked at it first). */
static void shrunk_to_zero(void **s) {
  (void)s;
  const char *n = tname("shr0");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 4096, 0, 0, &m), 0);
  assert_int_equal(mmf_write(m, "x", 1), 0);
  char p[256];
  snprintf(p, sizeof p, "/dev/shm/%s", n);
  assert_int_equal(truncate(p, 0), 0);
  usleep(20000);
  void *d;
  size_t len;
  assert_int_equal(mmf_read_alloc(m, &d, &len, NULL), -MMF_ECORRUPT);
  assert_int_equal(mmf_write(m, "y", 1), -MMF_ECORRUPT);
  mmf_close(m);
  mmf_remove(n);
}

/* In a child: a private mount namespace without /proc; 0, or 77 when the
 * kernel refuses. */
static int leave_proc(void) {
  if (unshare(CLONE_NEWNS) < 0 ||
      mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
      umount2("/proc", MNT_DETACH) < 0)
    return 77;
  return 0;
}

static int create_without_proc(void *arg) {
  if (leave_proc())
    return 77;
  mmf_t *m;
  int r = mmf_create(arg, 64, 0, 0, &m);
  if (r < 0) {
    printf("# create without /proc: %s\n", mmf_strerror(r));
    return 1;
  }
  r = mmf_write(m, "ok", 2);
  mmf_close(m);
  if (r != 0)
    return 2;
  return 0;
}

/* A transient map too: its watcher gets its own open file by name. */
static int create_transient_without_proc(void *arg) {
  if (leave_proc())
    return 77;
  mmf_t *m;
  int r;
  if ((r = mmf_create(arg, 64, MMF_TRANSIENT, 0, &m)) < 0) {
    printf("# transient without /proc: %s\n", mmf_strerror(r));
    return 3;
  }
  mmf_close(m);
  return shm_exists(arg) ? 4 : 0;
}

/* A chroot or a sandbox without /proc: O_TMPFILE cannot be named there
 * (it is linked through /proc/self/fd), so the hidden name is used. */
static void create_works_without_proc(void **s) {
  (void)s;
  if (geteuid() != 0) {
    printf("# skipped: unmounting /proc needs root\n");
    skip();
  }
  const char *n = tname("noproc");
  int r = reap(spawn(create_without_proc, (void *)n), 10000);
  if (r == 77) {
    printf("# skipped: no private mount namespace here\n");
    skip();
  }
  assert_int_equal(r, 0);
  assert_true(shm_exists(n));
  assert_int_equal(mmf_remove(n), 0);
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN_BUILD 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define ASAN_BUILD 1
#endif

static void transient_create_works_without_proc(void **s) {
  (void)s;
#ifdef ASAN_BUILD
  printf("# skipped: the sanitized mmf-watch cannot start without /proc "
         "(ASan's runtime reads /proc/self/maps)\n");
  skip();
#endif
  if (geteuid() != 0) {
    printf("# skipped: unmounting /proc needs root\n");
    skip();
  }
  const char *n = tname("noproct");
  int r = reap(spawn(create_transient_without_proc, (void *)n), 10000);
  if (r == 77) {
    printf("# skipped: no private mount namespace here\n");
    skip();
  }
  assert_int_equal(r, 0);
  assert_false(shm_exists(n));
}

static void private_file_maps_check_the_size_too(void **s) {
  (void)s;
  char path[] = "/tmp/mmftest-privXXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(ftruncate(fd, 1 << 20), 0);
  mmf_t *m;
  assert_int_equal(mmf_map_file(path, MMF_PRIVATE, &m), 0);
  assert_int_equal(ftruncate(fd, 0), 0);
  close(fd);
  usleep(20000);
  uint8_t *buf = malloc(1 << 20);
  size_t len;
  assert_int_equal(mmf_read(m, buf, 1 << 20, &len, NULL), -MMF_ECORRUPT);
  free(buf);
  mmf_close(m);
  unlink(path);
}

/* ---- odd files ---- */

static void fifos_are_refused_at_once(void **s) {
  (void)s;
  const char *n = tname("fifo");
  char p[256];
  snprintf(p, sizeof p, "/dev/shm/%s", n);
  assert_int_equal(mkfifo(p, 0666), 0);
  mmf_t *m;
  int64_t t0 = now_ns();
  assert_int_equal(mmf_open(n, MMF_READONLY, &m), -MMF_ENOTREG);
  assert_int_equal(mmf_open(n, 0, &m), -MMF_ENOTREG);
  assert_int_equal(mmf_map_file(p, MMF_READONLY, &m), -MMF_ENOTREG);
  struct mmf_info in;
  assert_int_equal(mmf_info(n, &in), -MMF_ENOTREG);
  assert_int_equal(mmf_create(n, 64, MMF_OPEN_EXISTING, 0, &m), -MMF_ENOTREG);
  /* A path that names a FIFO is not removed as a map. */
  assert_int_equal(mmf_remove(p), -MMF_ENOTREG);
  assert_true(now_ns() - t0 < 100 * 1000000ll);
  assert_int_equal(unlink(p), 0);
}

static int full_child(void *arg) {
  (void)arg;
  if (unshare(CLONE_NEWNS) < 0 ||
      mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
      mount("tmpfs", "/dev/shm", "tmpfs", 0, "size=1m") < 0)
    return 77;
  mmf_t *raw, *m;
  /* A raw map larger than the store: the write is ENOSPC, not SIGBUS. */
  if (mmf_create("rawfull", 4 << 20, MMF_RAW, 0, &raw) < 0)
    return 1;
  uint8_t *buf = calloc(1, 4 << 20);
  memset(buf, 'r', 4 << 20);
  if (mmf_write(raw, buf, 4 << 20) != -ENOSPC)
    return 2;
  mmf_close(raw);
  mmf_remove("rawfull");
  /* An mmf map where fallocate is missing: zeros are written first. */
  if (mmf_create("full", 4 << 20, 0, 0, &m) < 0)
    return 3;
  atomic_store(&m->no_reserve, true);
  if (mmf_write(m, buf, 4 << 20) != -ENOSPC)
    return 4;
  if (mmf_write(m, "small", 5) != 0)
    return 5;
  char out[8];
  size_t len;
  if (mmf_read(m, out, sizeof out, &len, NULL) != 0 || len != 5)
    return 6;
  mmf_close(m);
  free(buf);
  return 0;
}

static void full_stores_are_enospc(void **s) {
  (void)s;
  if (geteuid() != 0) {
    printf("# skipped: mounting a small /dev/shm needs root\n");
    skip();
  }
  int r = reap(spawn(full_child, NULL), 20000);
  if (r == 77) {
    printf("# skipped: no private mount namespace here\n");
    skip();
  }
  assert_int_equal(r, 0);
}

static void read_fd_appends(void **s) {
  (void)s;
  const char *n = tname("app");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 64, 0, 0, &m), 0);
  assert_int_equal(mmf_write(m, "tail", 4), 0);
  char path[] = "/tmp/mmftest-appXXXXXX";
  int fd = mkstemp(path);
  assert_int_equal(write(fd, "head", 4), 4);
  close(fd);
  fd = open(path, O_WRONLY | O_APPEND); /* ">>" */
  assert_int_equal(mmf_read_fd(m, fd, NULL, NULL), 0);
  close(fd);
  char buf[16] = {0};
  fd = open(path, O_RDONLY);
  assert_int_equal(read(fd, buf, sizeof buf), 8);
  close(fd);
  assert_string_equal(buf, "headtail");
  unlink(path);
  mmf_close(m);
  mmf_remove(n);
}

static void append_lengths_that_wrap(void **s) {
  (void)s;
  const char *n = tname("wrap");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 64, 0, 0, &m), 0);
  assert_int_equal(mmf_write(m, "x", 1), 0);
  char d[16] = "data";
  assert_int_equal(mmf_append(m, d, 4, d, SIZE_MAX - 2), -MMF_ETOOBIG);
  assert_int_equal(mmf_append(m, d, SIZE_MAX - 2, d, 4), -MMF_ETOOBIG);
  char buf[8];
  size_t len;
  assert_int_equal(mmf_read(m, buf, sizeof buf, &len, NULL), 0);
  assert_int_equal(len, 1);
  mmf_close(m);
  mmf_remove(n);
}

static int hold_tmp_lock(void *arg) {
  int dirfd = open(arg, O_PATH | O_DIRECTORY);
  int fd = openat(dirfd, ".mmf-tmp-alive-x", O_CREAT | O_RDWR, 0600);
  if (fd < 0 || mmf__os_range_lock(fd, false, 0, 1) < 0)
    return 1;
  char c = 'r';
  if (write(1, &c, 0) < 0)
    return 2;
  pause();
  return 0;
}

static void leftovers_of_dead_creators_are_swept(void **s) {
  (void)s;
  char dir[] = "/tmp/mmftest-sweepXXXXXX";
  assert_non_null(mkdtemp(dir));
  char p[256];
  snprintf(p, sizeof p, "%s/.mmf-tmp-dead-x", dir);
  close(open(p, O_CREAT | O_RDWR, 0600)); /* its creator died */
  pid_t a = spawn(hold_tmp_lock, dir);    /* this one's lives */
  snprintf(p, sizeof p, "%s/.mmf-tmp-alive-x", dir);
  for (int i = 0; i < 1000 && access(p, F_OK); i++)
    usleep(1000);
  usleep(20000);
  int dirfd = open(dir, O_PATH | O_DIRECTORY);
  mmf__os_sweep_tmp(dirfd);
  close(dirfd);
  assert_int_equal(access(p, F_OK), 0);
  snprintf(p, sizeof p, "%s/.mmf-tmp-dead-x", dir);
  assert_int_equal(access(p, F_OK), -1);
  kill(a, SIGKILL);
  waitpid(a, NULL, 0);
  snprintf(p, sizeof p, "rm -rf %s", dir);
  assert_int_equal(system(p), 0);
}

static void or_open_refuses_a_planted_object(void **s) {
  (void)s;
  if (geteuid() != 0) {
    printf("# skipped: planting another user's file needs root\n");
    skip();
  }
  char path[] = "/tmp/mmftest-plantXXXXXX";
  close(mkstemp(path));
  unlink(path);
  mmf_t *m;
  assert_int_equal(mmf_create(path, 64, 0, 0666, &m), 0);
  mmf_close(m);
  assert_int_equal(chown(path, 65534, 65534), 0); /* "nobody" planted it */
  assert_int_equal(mmf_create(path, 64, MMF_OPEN_EXISTING, 0, &m), -MMF_EOWNER);
  assert_int_equal(mmf_open(path, 0, &m), 0); /* opening by name still works */
  mmf_close(m);
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      T(aborted_writes_are_never_read),
      T(views_are_per_thread),
      T(reads_are_bounded_under_constant_writing),
      T(busy_published_slot_is_corruption),
      T(after_a_shrink_every_call_is_safe),
      T(shrunk_to_zero),
      T(create_works_without_proc),
      T(transient_create_works_without_proc),
      T(private_file_maps_check_the_size_too),
      T(fifos_are_refused_at_once),
      T(full_stores_are_enospc),
      T(read_fd_appends),
      T(append_lengths_that_wrap),
      T(leftovers_of_dead_creators_are_swept),
      T(or_open_refuses_a_planted_object),
  };
  return run_cases("guarantees", tests, NULL, NULL);
}
