/* SPDX-License-Identifier: MIT */
/* MMF_COMPACT: a compact map at rest holds the published content only,
 * whatever was stored and abandoned in the other slot, and a handle honours
 * the compact bit even when it was set after the handle opened.  Each case
 * failed before its fix. */
#include "util.h"

#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "internal.h"
#include "slot.h"

#define BIG ((size_t)8 << 20)

/* Storage the object holds, in bytes. */
static uint64_t held(const char *name) {
  char p[512];
  snprintf(p, sizeof p, "/dev/shm/%s", name);
  struct stat st;
  assert_int_equal(stat(p, &st), 0);
  return (uint64_t)st.st_blocks * 512;
}

/* At most the header and `content` bytes, give or take a page. */
static void holds_about(const char *name, uint64_t content) {
  uint64_t h = held(name);
  if (h > content + 3 * 65536) {
    print_error("%s holds %llu bytes for a %llu-byte content\n", name,
                (unsigned long long)h, (unsigned long long)content);
    fail();
  }
}

static void aborted_loan_released(void **state) {
  (void)state;
  const char *name = tname("cpa");
  mmf_t *m;
  assert_int_equal(mmf_create(name, BIG, MMF_COMPACT, 0600, &m), 0);
  struct mmf_write_loan w;
  assert_int_equal(mmf_write_begin(m, BIG, &w), 0);
  memset(w.data, 'x', BIG);
  mmf_write_abort(m, &w);
  holds_about(name, 0);
  mmf_close(m);
  assert_int_equal(mmf_remove(name), 0);
}

static void short_commit_released(void **state) {
  (void)state;
  const char *name = tname("cps");
  mmf_t *m;
  assert_int_equal(mmf_create(name, BIG, MMF_COMPACT, 0600, &m), 0);
  struct mmf_write_loan w;
  assert_int_equal(mmf_write_begin(m, BIG, &w), 0);
  memset(w.data, 'y', BIG);
  assert_int_equal(mmf_write_commit(m, &w, 10), 0);
  /* Both slots written and unpublished once each since. */
  for (int i = 0; i < 4; i++)
    assert_int_equal(mmf_write(m, "small", 5), 0);
  holds_about(name, 5);
  mmf_close(m);
  assert_int_equal(mmf_remove(name), 0);
}

/* A review's case: at rest right after the short commit, not only after
 * later writes, the map holds the content, not what the loan stored. */
static void short_commit_released_at_once(void **state) {
  (void)state;
  const char *name = tname("cpq");
  mmf_t *m;
  assert_int_equal(mmf_create(name, BIG, MMF_COMPACT, 0600, &m), 0);
  struct mmf_write_loan w;
  assert_int_equal(mmf_write_begin(m, BIG, &w), 0);
  memset(w.data, 'y', BIG);
  assert_int_equal(mmf_write_commit(m, &w, 10), 0);
  holds_about(name, 10);
  mmf_close(m);
  assert_int_equal(mmf_remove(name), 0);
}

/* A writer killed with a full loan leaves its pages in the slot; the next
 * publication there gives them back, and a failed append does not keep
 * them meanwhile. */
static void killed_loan_released_by_next_write(void **state) {
  (void)state;
  const char *name = tname("cpk");
  mmf_t *m;
  assert_int_equal(mmf_create(name, BIG, MMF_COMPACT, 0600, &m), 0);
  assert_int_equal(mmf_write(m, "first", 5), 0);
  pid_t p = fork();
  assert_true(p >= 0);
  if (p == 0) {
    mmf_t *c;
    struct mmf_write_loan w;
    if (mmf_open(name, 0, &c) || mmf_write_begin(c, BIG, &w))
      _exit(1);
    memset(w.data, 'k', BIG);
    raise(SIGKILL);
  }
  int st;
  assert_int_equal(waitpid(p, &st, 0), p);
  assert_true(WIFSIGNALED(st));
  assert_true(held(name) >= BIG);
  /* Fits the capacity alone, not after the content: refused under the
   * lock, with the slot open. */
  char *big = calloc(1, BIG);
  assert_non_null(big);
  assert_int_equal(mmf_append(m, big, BIG, NULL, 0), -MMF_ETOOBIG);
  free(big);
  holds_about(name, 5);
  assert_int_equal(mmf_write(m, "small", 5), 0);
  assert_int_equal(mmf_write(m, "small", 5), 0);
  holds_about(name, 5);
  mmf_close(m);
  assert_int_equal(mmf_remove(name), 0);
}

static void too_big_fd_released(void **state) {
  (void)state;
  const char *name = tname("cpf");
  char path[256];
  snprintf(path, sizeof path, "/tmp/%s", name);
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  assert_true(fd >= 0);
  assert_int_equal(unlink(path), 0);
  /* More than the capacity: the write copies a whole capacity, then fails. */
  char *buf = malloc(BIG + 4096);
  assert_non_null(buf);
  memset(buf, 'z', BIG + 4096);
  assert_int_equal(write(fd, buf, BIG + 4096), (ssize_t)(BIG + 4096));
  free(buf);
  assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
  mmf_t *m;
  assert_int_equal(mmf_create(name, BIG, MMF_COMPACT, 0600, &m), 0);
  size_t len;
  assert_int_equal(mmf_write_fd_all(m, fd, &len), -MMF_ETOOBIG);
  close(fd);
  holds_about(name, 0);
  mmf_close(m);
  assert_int_equal(mmf_remove(name), 0);
}

/* A handle that opened before the compact bit was set (a peer set it, or
 * the map is shared with a handle of an older release that ignores it)
 * reads the bit on each write: it releases, and never trusts the pages it
 * reserved before others punched them. */
static void bit_set_after_open(void **state) {
  (void)state;
  const char *name = tname("cpb");
  mmf_t *a, *b;
  assert_int_equal(mmf_create(name, BIG, 0, 0600, &a), 0);
  char *buf = malloc(BIG);
  assert_non_null(buf);
  memset(buf, 'a', BIG);
  /* Both slots reserved and remembered by a. */
  assert_int_equal(mmf_write(a, buf, BIG), 0);
  assert_int_equal(mmf_write(a, buf, BIG), 0);
  __atomic_or_fetch(&a->hdr->flags, MMF__HF_COMPACT, __ATOMIC_SEQ_CST);
  assert_int_equal(mmf_open(name, 0, &b), 0);
  assert_int_equal(mmf_write(b, buf, BIG), 0); /* punches a slot a reserved */
  holds_about(name, BIG);
  assert_int_equal(mmf_write(a, buf, BIG), 0);
  holds_about(name, BIG);
  /* It reserved what b had punched, rather than trusting its memory. */
  unsigned pub = mmf__state_slot(atomic_load(&a->hdr->state));
  assert_true(atomic_load(&a->allocated[pub]) >= BIG);
  assert_int_equal(atomic_load(&a->allocated[pub ^ 1]), 0);
  free(buf);
  mmf_close(b);
  mmf_close(a);
  assert_int_equal(mmf_remove(name), 0);
}

/* A reader of a compact map does not trust what it once saw backed: the
 * slot has been punched since.  A length a peer wrote over the punched
 * pages is read with pread (zeros, nothing allocated), not through the
 * mapping, which would fault the pages back in (or SIGBUS on a full store). */
static void reader_forgets_backed(void **state) {
  (void)state;
  const char *name = tname("cpr");
  mmf_t *w, *r;
  assert_int_equal(mmf_create(name, BIG, MMF_COMPACT, 0600, &w), 0);
  assert_int_equal(mmf_open(name, MMF_READONLY, &r), 0);
  char *buf = malloc(BIG);
  assert_non_null(buf);
  memset(buf, 'b', BIG);
  assert_int_equal(mmf_write(w, buf, BIG), 0);
  size_t len;
  assert_int_equal(mmf_read(r, buf, BIG, &len, NULL), 0);
  assert_int_equal(len, BIG);
  /* The big content's slot is written small again, and punched past it. */
  assert_int_equal(mmf_write(w, "x", 1), 0);
  assert_int_equal(mmf_write(w, "y", 1), 0);
  unsigned s = mmf__state_slot(atomic_load(&w->hdr->state));
  holds_about(name, 1);
  /* A peer claims the published slot is capacity long. */
  atomic_store(&w->hdr->slot[s].len, (uint64_t)BIG);
  assert_int_equal(mmf_read(r, buf, BIG, &len, NULL), 0);
  assert_int_equal(len, BIG);
  assert_int_equal(buf[0], 'y');
  assert_int_equal(buf[BIG - 1], 0);
  holds_about(name, 1);
  free(buf);
  mmf_close(r);
  mmf_close(w);
  assert_int_equal(mmf_remove(name), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      T(aborted_loan_released),
      T(short_commit_released),
      T(too_big_fd_released),
      T(bit_set_after_open),
      T(reader_forgets_backed),
      T(short_commit_released_at_once),
      T(killed_loan_released_by_next_write),
  };
  return run_cases("compact", tests, NULL, NULL);
}
