/* SPDX-License-Identifier: MIT */
/* Large maps: memory and storage that follow the bytes moved, never the
 * capacity.  Memory is measured as the max RSS of a forked child
 * (getrusage), storage as the object's allocated blocks (st_blocks):
 * behaviour, not timing. */
#include <fcntl.h>
#include <sys/resource.h>

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

int main(void) {
  const struct CMUnitTest tests[] = {
      T(read_alloc_follows_the_content),
      T(fresh_append_allocates_what_it_appends),
  };
  return run_cases("large", tests, NULL, NULL);
}
