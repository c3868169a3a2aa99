/* SPDX-License-Identifier: MIT */
/* Large maps: memory and storage that follow the bytes moved, never the
 * capacity.  Memory is measured as the max RSS of a forked child
 * (getrusage), storage as the object's allocated blocks (st_blocks):
 * behaviour, not timing. */
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/statvfs.h>

#include "internal.h"
#include "util.h"

#define MiB ((size_t)1 << 20)
#define GiB ((size_t)1 << 30)

/* AddressSanitizer keeps freed blocks (256 MiB by default) before reusing
 * them: memory that many allocations in a row hold on to there. */
#if defined(__SANITIZE_ADDRESS__)
#define QUARANTINE (256 * MiB)
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define QUARANTINE (256 * MiB)
#endif
#endif
#ifndef QUARANTINE
#define QUARANTINE 0
#endif

/* Max RSS of the calling process, in bytes. */
static size_t max_rss(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (size_t)ru.ru_maxrss * 1024;
}

/* Run fn(arg) in a child and give the child's max RSS growth over what it
 * inherited; fails the test if fn fails. */
static size_t rss_of(int (*fn)(void *), void *arg) {
  int p[2];
  assert_int_equal(pipe(p), 0);
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    size_t before = max_rss();
    int r = fn(arg);
    size_t grew = max_rss() - before;
    if (write(p[1], &grew, sizeof grew) != sizeof grew)
      _exit(98);
    _exit(r);
  }
  close(p[1]);
  size_t grew = 0;
  assert_int_equal(read(p[0], &grew, sizeof grew), sizeof grew);
  close(p[0]);
  assert_int_equal(reap(pid, 120000), 0);
  return grew;
}

static uint64_t blocks_of(mmf_t *m) {
  struct stat st;
  assert_int_equal(fstat(mmf_fd(m), &st), 0);
  return (uint64_t)st.st_blocks * 512;
}

/* ---- mmf_read_alloc under a steady appender ---- */

struct ra {
  const char *name;
};

static int read_allocs(void *arg) {
  struct ra *a = arg;
  mmf_t *m;
  if (mmf_open(a->name, MMF_READONLY, &m) < 0)
    return 1;
  for (int i = 0; i < 60; i++) {
    void *d;
    size_t len;
    if (mmf_read_alloc(m, &d, &len, NULL) < 0)
      return 2;
    free(d);
  }
  mmf_close(m);
  return 0;
}

/* Reading at most 32 MiB from a 2 GiB map that a writer keeps appending
 * to costs what the content does (its buffer, and the pages of both slots
 * mapped), never the capacity (it prefaulted 2 GiB). */
static void read_alloc_follows_the_content(void **s) {
  (void)s;
  const char *n = tname("lra");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 2 * GiB, 0, 0, &m), 0);
  uint8_t *rec = calloc(1, 4 * MiB);
  assert_int_equal(mmf_write(m, rec, 4 * MiB), 0);
  fflush(NULL);
  pid_t app = fork();
  if (app == 0) {
    /* Small appends, without end, until killed. */
    for (size_t total = 4 * MiB; total < 32 * MiB; total += 512)
      if (mmf_append(m, rec, 512, NULL, 0) < 0)
        _exit(1);
    _exit(0);
  }
  struct ra a = {n};
  size_t grew = rss_of(read_allocs, &a);
  kill(app, SIGKILL);
  reap(app, 10000);
  printf("# read_alloc of <= 32 MiB in a 2 GiB map under an appender: max "
         "RSS +%zu KiB\n",
         grew >> 10);
  assert_true(grew < 160 * MiB + QUARANTINE);
  free(rec);
  mmf_close(m);
  mmf_remove(n);
}

/* ---- a fresh handle's first append ---- */

/* A fresh handle's append allocates what it appends, not the content's
 * size: with the zero head of the content made sparse again (it reads the
 * same), an append from a new handle allocates a few pages, where one
 * that reserved the content (or the slot) would allocate 512 MiB. */
static void fresh_append_allocates_what_it_appends(void **s) {
  (void)s;
  const char *n = tname("lapp");
  mmf_t *m;
  size_t big = 512 * MiB;
  assert_int_equal(mmf_create(n, GiB, 0, 0, &m), 0);
  uint8_t *zero = calloc(1, big);
  assert_int_equal(mmf_write(m, zero, big), 0);
  free(zero);
  assert_int_equal(mmf_append(m, "y", 1, NULL, 0), 0);
  mmf_close(m);
  /* Punch the zeros out of both slots: the content is unchanged. */
  assert_int_equal(mmf_open(n, 0, &m), 0);
  uint64_t align = m->hdr_size, stride = m->stride;
  for (unsigned sl = 0; sl < 2; sl++)
    assert_int_equal(
        fallocate(mmf_fd(m), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                  (off_t)(align + sl * stride), (off_t)(big - 4096)),
        0);
  mmf_close(m);
  char rec[100];
  memset(rec, 'a', sizeof rec);
  assert_int_equal(mmf_open(n, 0, &m), 0);
  uint64_t before = blocks_of(m);
  assert_int_equal(mmf_append(m, rec, sizeof rec, NULL, 0), 0);
  uint64_t grew = blocks_of(m) - before;
  mmf_close(m);
  printf("# fresh handle's 100-byte append to 512 MiB: %llu bytes allocated\n",
         (unsigned long long)grew);
  assert_true(grew <= 64 * 1024);
  /* And the content is whole. */
  assert_int_equal(mmf_open(n, MMF_READONLY, &m), 0);
  void *d;
  size_t len;
  assert_int_equal(mmf_read_alloc(m, &d, &len, NULL), 0);
  assert_int_equal(len, big + 1 + sizeof rec);
  const uint8_t *b = d;
  for (size_t i = 0; i < big; i += 4096)
    assert_int_equal(b[i], 0);
  assert_int_equal(b[big], 'y');
  assert_memory_equal(b + big + 1, rec, sizeof rec);
  free(d);
  mmf_close(m);
  mmf_remove(n);
}

/* ---- mmf_write_fd from a pipe, a disk file, /proc ---- */

struct wf {
  const char *name;
  int fd;
  size_t want;
};

static int write_from_fd(void *arg) {
  struct wf *a = arg;
  mmf_t *m;
  size_t len = 0;
  if (mmf_open(a->name, 0, &m) < 0)
    return 1;
  int r = mmf_write_fd_all(m, a->fd, &len);
  mmf_close(m);
  return r < 0 ? 2 : len == a->want ? 0 : 3;
}

/* 256 MiB through a pipe into a 1 GiB map: the writer's memory stays
 * bounded (it read the stream into a buffer, or faulted the slot), and the
 * map's storage is what the stream brought, not the capacity. */
static void write_fd_from_a_pipe(void **s) {
  (void)s;
  const char *n = tname("lpipe");
  mmf_t *m;
  size_t big = 256 * MiB;
  assert_int_equal(mmf_create(n, GiB, 0, 0, &m), 0);
  int p[2];
  assert_int_equal(pipe(p), 0);
  fflush(NULL);
  pid_t feeder = fork();
  if (feeder == 0) {
    close(p[0]);
    static uint8_t chunk[65536];
    for (size_t i = 0; i < sizeof chunk; i++)
      chunk[i] = (uint8_t)i;
    for (size_t done = 0; done < big; done += sizeof chunk)
      if (write(p[1], chunk, sizeof chunk) != (ssize_t)sizeof chunk)
        _exit(1);
    _exit(0);
  }
  close(p[1]);
  struct wf a = {n, p[0], big};
  size_t grew = rss_of(write_from_fd, &a);
  close(p[0]);
  assert_int_equal(reap(feeder, 60000), 0);
  uint64_t blocks = blocks_of(m);
  printf("# 256 MiB from a pipe into a 1 GiB map: max RSS +%zu KiB, %llu MiB "
         "allocated\n",
         grew >> 10, (unsigned long long)(blocks >> 20));
  /* The kernel moves the pipe's pages into the slot: the writer touches
   * none of them (a read() into the mapping would fault them all in). */
  assert_true(grew < 64 * MiB);
  assert_true(blocks < big + 32 * MiB);
  struct mmf_read_view v;
  assert_int_equal(mmf_read_begin(m, &v), 0);
  assert_int_equal(v.len, big);
  const uint8_t *b = v.data;
  for (size_t i = 0; i < big; i += 4099)
    assert_int_equal(b[i], (uint8_t)(i % 65536));
  assert_int_equal(mmf_read_end(m, &v), 0);
  mmf_close(m);
  mmf_remove(n);
}

/* A disk file (another file system: copy_file_range says EXDEV) is copied
 * by the kernel, in bounded memory, into a map far larger than it. */
static void write_fd_from_a_disk_file(void **s) {
  (void)s;
  const char *n = tname("ldisk");
  char path[] = "/var/tmp/mmftest-large-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  unlink(path);
  size_t big = 256 * MiB;
  uint8_t *chunk = malloc(MiB);
  for (size_t i = 0; i < MiB; i++)
    chunk[i] = (uint8_t)(i * 7);
  for (size_t done = 0; done < big; done += MiB)
    assert_int_equal(write(fd, chunk, MiB), (ssize_t)MiB);
  assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
  mmf_t *m;
  assert_int_equal(mmf_create(n, GiB, 0, 0, &m), 0);
  struct wf a = {n, fd, big};
  size_t grew = rss_of(write_from_fd, &a);
  printf("# 256 MiB from a disk file into a 1 GiB map: max RSS +%zu KiB\n",
         grew >> 10);
  /* The kernel copies: no page of the content in this process. */
  assert_true(grew < 64 * MiB);
  struct mmf_read_view v;
  assert_int_equal(mmf_read_begin(m, &v), 0);
  assert_int_equal(v.len, big);
  const uint8_t *b = v.data;
  for (size_t i = 0; i < big; i += 4099)
    assert_int_equal(b[i], chunk[i % MiB]);
  assert_int_equal(mmf_read_end(m, &v), 0);
  /* More than the capacity: nothing is published. */
  mmf_t *small;
  const char *n2 = tname("ldisk2");
  assert_int_equal(mmf_create(n2, big - 1, 0, 0, &small), 0);
  assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
  size_t len = 7;
  assert_int_equal(mmf_write_fd_all(small, fd, &len), -MMF_ETOOBIG);
  assert_int_equal(len, 7);
  struct mmf_stat st;
  assert_int_equal(mmf_stat(small, &st), 0);
  assert_int_equal(st.seq, 0);
  assert_int_equal(st.length, 0);
  mmf_close(small);
  mmf_remove(n2);
  close(fd);
  free(chunk);
  mmf_close(m);
  mmf_remove(n);
}

/* Files whose size reads 0 are read to their end. */
static void write_fd_from_proc(void **s) {
  (void)s;
  const char *n = tname("lproc");
  mmf_t *m;
  assert_int_equal(mmf_create(n, MiB, 0, 0, &m), 0);
  char want[65536];
  int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
  assert_true(fd >= 0);
  ssize_t wn = read(fd, want, sizeof want);
  assert_true(wn > 0);
  assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
  size_t len = 0;
  assert_int_equal(mmf_write_fd_all(m, fd, &len), 0);
  close(fd);
  assert_int_equal(len, (size_t)wn);
  char got[65536];
  assert_int_equal(mmf_read(m, got, sizeof got, &len, NULL), 0);
  assert_memory_equal(got, want, (size_t)wn);
  fd = open("/proc/version", O_RDONLY | O_CLOEXEC);
  assert_true(fd >= 0);
  assert_int_equal(mmf_write_fd(m, fd, MiB, &len), 0);
  close(fd);
  assert_true(len > 10);
  assert_int_equal(mmf_read(m, got, sizeof got, &len, NULL), 0);
  assert_memory_equal(got, "Linux version", 13);
  mmf_close(m);
  mmf_remove(n);
}

/* ---- mmf_save and mmf_read_fd in bounded memory ---- */

struct sv {
  const char *name;
  const char *path;
  int fd;
};

static int save_it(void *arg) {
  struct sv *a = arg;
  mmf_t *m;
  if (mmf_open(a->name, MMF_READONLY, &m) < 0)
    return 1;
  int r = a->path ? mmf_save(m, a->path) : mmf_read_fd(m, a->fd, NULL, NULL);
  mmf_close(m);
  return r < 0 ? 2 : 0;
}

static uint64_t sum_fd(int fd, size_t *ret_len) {
  static uint8_t buf[1 << 16];
  uint64_t h = 0;
  size_t len = 0;
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    for (ssize_t i = 0; i < n; i++)
      h = h * 31 + buf[i];
    len += (size_t)n;
  }
  *ret_len = len;
  return h;
}

/* Saving 256 MiB to a disk file (another file system) and sending it into
 * a pipe and an O_APPEND file cost the process a constant, not the content
 * (mmf_save read it whole into memory). */
static void save_and_read_fd_in_bounded_memory(void **s) {
  (void)s;
  const char *n = tname("lsave");
  size_t big = 256 * MiB;
  mmf_t *m;
  assert_int_equal(mmf_create(n, GiB, 0, 0, &m), 0);
  struct mmf_write_loan w;
  assert_int_equal(mmf_write_begin(m, big, &w), 0);
  uint64_t want = 0;
  for (size_t i = 0; i < big; i++) {
    ((uint8_t *)w.data)[i] = (uint8_t)(i * 13 + (i >> 20));
    want = want * 31 + (uint8_t)(i * 13 + (i >> 20));
  }
  assert_int_equal(mmf_write_commit(m, &w, big), 0);
  char path[] = "/var/tmp/mmftest-save-XXXXXX";
  int tfd = mkstemp(path);
  assert_true(tfd >= 0);
  close(tfd);
  struct sv a = {n, path, -1};
  size_t grew = rss_of(save_it, &a);
  printf("# mmf_save of 256 MiB to a disk file: max RSS +%zu KiB\n",
         grew >> 10);
  assert_true(grew < 64 * MiB);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  assert_true(fd >= 0);
  size_t len;
  assert_true(sum_fd(fd, &len) == want);
  assert_int_equal(len, big);
  close(fd);
  /* Into an O_APPEND file (">>"), after what it held. */
  fd = open(path, O_WRONLY | O_APPEND | O_TRUNC | O_CLOEXEC);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "", 0), 0);
  struct sv b = {n, NULL, fd};
  grew = rss_of(save_it, &b);
  close(fd);
  printf("# mmf_read_fd of 256 MiB into an O_APPEND file: max RSS +%zu KiB\n",
         grew >> 10);
  assert_true(grew < 64 * MiB);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  assert_true(sum_fd(fd, &len) == want);
  assert_int_equal(len, big);
  close(fd);
  unlink(path);
  /* Into a pipe, read by another process. */
  int p[2];
  assert_int_equal(pipe(p), 0);
  fflush(NULL);
  pid_t rd = fork();
  if (rd == 0) {
    close(p[1]);
    size_t l;
    _exit(sum_fd(p[0], &l) == want && l == big ? 0 : 1);
  }
  close(p[0]);
  struct sv c = {n, NULL, p[1]};
  grew = rss_of(save_it, &c);
  close(p[1]);
  assert_int_equal(reap(rd, 60000), 0);
  printf("# mmf_read_fd of 256 MiB into a pipe: max RSS +%zu KiB\n",
         grew >> 10);
  assert_true(grew < 64 * MiB);
  mmf_close(m);
  mmf_remove(n);
}

/* ---- MMF_COMPACT ---- */

/* A compact map at rest holds one content's storage, not two; appends and
 * writes from a handle that does not release (a release before 1.1, made
 * here by clearing the handle's copy of the flag) keep the content right. */
static void compact_holds_one_content(void **s) {
  (void)s;
  const char *n = tname("lcomp");
  size_t big = 128 * MiB;
  mmf_t *m, *plain;
  assert_int_equal(mmf_create(n, GiB, MMF_COMPACT, 0, &m), 0);
  assert_int_equal(
      mmf_create(tname("lcompx"), 4096, MMF_RAW | MMF_COMPACT, 0, &plain),
      -EINVAL);
  uint8_t *buf = malloc(big);
  memset(buf, 'a', big);
  assert_int_equal(mmf_write(m, buf, big), 0);
  memset(buf, 'b', big);
  assert_int_equal(mmf_write(m, buf, big), 0);
  uint64_t held = blocks_of(m);
  printf("# compact map after two 128 MiB writes: %llu MiB allocated\n",
         (unsigned long long)(held >> 20));
  assert_true(held < big + 8 * MiB);
  /* Appends from it and from a handle that keeps both slots. */
  assert_int_equal(mmf_open(n, 0, &plain), 0);
  assert_true(plain->compact);
  plain->compact = false;
  size_t want = big;
  for (int i = 0; i < 6; i++) {
    mmf_t *h = i % 2 ? plain : m;
    assert_int_equal(mmf_append(h, "xyz", 3, NULL, 0), 0);
    want += 3;
  }
  void *d;
  size_t len;
  assert_int_equal(mmf_read_alloc(m, &d, &len, NULL), 0);
  assert_int_equal(len, want);
  const uint8_t *b = d;
  for (size_t i = 0; i < big; i += 4096)
    assert_int_equal(b[i], 'b');
  for (size_t i = big; i < want; i++)
    assert_int_equal(b[i], "xyz"[(i - big) % 3]);
  free(d);
  /* The last append was compact's: one content again. */
  assert_int_equal(mmf_append(m, "xyz", 3, NULL, 0), 0);
  assert_true(blocks_of(m) < big + 8 * MiB);
  /* A plain map keeps both. */
  const char *n2 = tname("lcomp2");
  mmf_t *two;
  assert_int_equal(mmf_create(n2, GiB, 0, 0, &two), 0);
  assert_int_equal(mmf_write(two, buf, big), 0);
  assert_int_equal(mmf_write(two, buf, big), 0);
  assert_true(blocks_of(two) >= 2 * big);
  mmf_close(two);
  mmf_remove(n2);
  free(buf);
  mmf_close(plain);
  mmf_close(m);
  mmf_remove(n);
}

/* ---- will it fit ---- */

static void store_space_says_what_fits(void **s) {
  (void)s;
  uint64_t avail = 0, total = 0;
  assert_int_equal(mmf_store_space("some-name", &avail, &total), 0);
  struct statvfs sv;
  assert_int_equal(statvfs("/dev/shm", &sv), 0);
  assert_int_equal(total, (uint64_t)sv.f_blocks * sv.f_frsize);
  assert_true(avail <= total && avail > 0);
  assert_int_equal(mmf_store_space("/var/tmp/x.mmf", &avail, NULL), 0);
  assert_int_equal(statvfs("/var/tmp", &sv), 0);
  assert_true(avail <= (uint64_t)sv.f_blocks * sv.f_frsize);
  assert_int_equal(mmf_store_space("/no/such/folder/x", &avail, NULL), -ENOENT);
  assert_int_equal(mmf_store_space("bad/", &avail, NULL) < 0, 1);
  /* A terabyte does not fit this store; both slots count. */
  assert_true(mmf_footprint((size_t)1 << 40, 0) > total);
  assert_int_equal(mmf_footprint(MiB, 0), 4096 + 2 * MiB);
  assert_int_equal(mmf_footprint(MiB, MMF_COMPACT), 4096 + MiB);
  assert_int_equal(mmf_footprint(100, MMF_RAW), 100);
  assert_int_equal(mmf_footprint(1, 0), 3 * 4096);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      T(read_alloc_follows_the_content),
      T(fresh_append_allocates_what_it_appends),
      T(write_fd_from_a_pipe),
      T(write_fd_from_a_disk_file),
      T(write_fd_from_proc),
      T(save_and_read_fd_in_bounded_memory),
      T(compact_holds_one_content),
      T(store_space_says_what_fits),
  };
  return run_cases("large", tests, NULL, NULL);
}
