/* SPDX-License-Identifier: MIT */
/* Appends that copy only what changed, and readers that follow them
 * (mmf_read_since): the cost, the content against a model through every
 * kind of write, killed appenders, storage without fallocate, and the
 * follower's guarantee. */
#include <fcntl.h>
#include <stdatomic.h>

#include "internal.h"
#include "util.h"

#define CAP (8u << 20)

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

/* A 100-byte append to a 32 MiB content costs what the bytes cost, not what
 * the content does (a whole copy is milliseconds). */
static void append_costs_what_is_appended(void **s) {
  (void)s;
  const char *n = tname("acost");
  mmf_t *m;
  size_t big = 32u << 20;
  assert_int_equal(mmf_create(n, big + (1u << 20), 0, 0, &m), 0);
  uint8_t *buf = malloc(big);
  memset(buf, 'x', big);
  assert_int_equal(mmf_write(m, buf, big), 0);
  char rec[100];
  memset(rec, 'a', sizeof rec);
  int64_t t[200];
  for (int i = 0; i < 200; i++) {
    int64_t t0 = now_ns();
    assert_int_equal(mmf_append(m, rec, sizeof rec, NULL, 0), 0);
    t[i] = now_ns() - t0;
  }
  qsort(t, 200, sizeof *t, cmp_i64);
  printf("# 100-byte appends to 32 MiB: median %.2f us, p90 %.2f us\n",
         (double)t[100] / 1e3, (double)t[180] / 1e3);
  /* The first two fill each slot; the median is far below a copy. */
  assert_true(t[100] < 200 * 1000);
  size_t len;
  uint8_t *all = malloc(big + 20000);
  assert_int_equal(mmf_read(m, all, big + 20000, &len, NULL), 0);
  assert_int_equal(len, big + 200 * sizeof rec);
  for (size_t i = 0; i < len; i++)
    if (all[i] != (i < big ? 'x' : 'a'))
      fail_msg("byte %zu is %c", i, all[i]);
  free(all);
  free(buf);
  mmf_close(m);
  mmf_remove(n);
}

/* Random writes of every kind, from two handles (one without fallocate,
 * writing zeros to reserve), checked against a model after each. */
static void content_matches_a_model(void **s) {
  (void)s;
  const char *n = tname("amodel");
  mmf_t *a, *b;
  assert_int_equal(mmf_create(n, 1 << 16, 0, 0, &a), 0);
  assert_int_equal(mmf_open(n, 0, &b), 0);
  atomic_store(&b->no_reserve, true); /* the zero-filling path */
  uint8_t model[1 << 16], got[1 << 16], data[4096];
  size_t mlen = 0;
  uint64_t seed = 42;
  for (int i = 0; i < 4000; i++) {
    if (i % 25 == 0) {
      /* A fresh handle knows of no reservation: it zero-fills from the
       * slot's start, past what an append keeps. */
      mmf_close(b);
      assert_int_equal(mmf_open(n, 0, &b), 0);
      atomic_store(&b->no_reserve, true);
    }
    mmf_t *m = (rnd(&seed) & 1) ? a : b;
    size_t dl = (size_t)(rnd(&seed) % 300);
    for (size_t k = 0; k < dl; k++)
      data[k] = (uint8_t)rnd(&seed);
    int op = (int)(rnd(&seed) % 10);
    int r;
    if (op < 6) { /* appends dominate: chains get long */
      if (mlen + 1 + dl > sizeof model) {
        r = mmf_write(m, data, dl);
        memcpy(model, data, dl);
        mlen = dl;
      } else {
        r = mmf_append(m, data, dl, "\n", 1);
        if (mlen)
          model[mlen++] = '\n';
        memcpy(model + mlen, data, dl);
        mlen += dl;
      }
    } else if (op == 6) {
      r = mmf_write(m, data, dl);
      memcpy(model, data, dl);
      mlen = dl;
    } else if (op == 7) {
      size_t off = mlen ? (size_t)(rnd(&seed) % (mlen + 10)) : 0;
      if (off + dl > sizeof model)
        off = 0;
      r = mmf_write_at(m, off, data, dl);
      if (off > mlen)
        memset(model + mlen, 0, off - mlen);
      memcpy(model + off, data, dl);
      if (off + dl > mlen)
        mlen = off + dl;
    } else if (op == 8) {
      struct mmf_write_loan w;
      assert_int_equal(mmf_write_begin(m, dl, &w), 0);
      memcpy(w.data, data, dl);
      r = mmf_write_commit(m, &w, dl);
      memcpy(model, data, dl);
      mlen = dl;
    } else {
      struct mmf_write_loan w;
      assert_int_equal(mmf_write_begin(m, dl, &w), 0);
      memset(w.data, 0xee, dl); /* scribbles that are never published */
      mmf_write_abort(m, &w);
      r = 0;
    }
    assert_int_equal(r, 0);
    size_t len;
    assert_int_equal(mmf_read(a, got, sizeof got, &len, NULL), 0);
    assert_int_equal(len, mlen);
    assert_memory_equal(got, model, mlen);
  }
  mmf_close(a);
  mmf_close(b);
  mmf_remove(n);
}

/* An appender killed at random moments: the content stays a run of
 * consecutive records, and the next appender (which may take the fast
 * path) goes on from it. */
static int appender(void *arg) {
  mmf_t *m;
  if (mmf_open(arg, 0, &m) < 0)
    return 1;
  for (;;) {
    size_t len;
    char buf[64];
    /* The next record number: the content's last one plus one. */
    static uint8_t all[CAP];
    if (mmf_read(m, all, sizeof all, &len, NULL) < 0)
      return 2;
    unsigned next = 0;
    if (len) {
      size_t k = len;
      while (k && all[k - 1] != ' ')
        k--;
      next = (unsigned)strtoul((char *)all + k, NULL, 10) + 1;
    }
    int l = snprintf(buf, sizeof buf, "%u", next);
    if (mmf_append(m, buf, (size_t)l, " ", 1) < 0)
      return 3;
  }
}

static int records_are_consecutive(const uint8_t *p, size_t len,
                                   unsigned *ret_last) {
  unsigned want = 0;
  size_t i = 0;
  while (i < len) {
    char *end;
    unsigned v = (unsigned)strtoul((const char *)p + i, &end, 10);
    if (v != want || end == (const char *)p + i)
      return 0;
    i = (size_t)((const uint8_t *)end - p);
    if (i < len && p[i++] != ' ')
      return 0;
    want++;
  }
  *ret_last = want;
  return 1;
}

static void killed_appenders_lose_nothing(void **s) {
  (void)s;
  const char *n = tname("akill");
  mmf_t *m;
  assert_int_equal(mmf_create(n, CAP, 0, 0, &m), 0);
  static uint8_t all[CAP];
  uint64_t seed = 7;
  unsigned last = 0;
  for (int round = 0; round < 30; round++) {
    pid_t p = spawn(appender, (void *)n);
    struct timespec ts = {0, (long)(rnd(&seed) % 3000000)};
    nanosleep(&ts, NULL);
    kill(p, SIGKILL);
    waitpid(p, NULL, 0);
    /* This process appends next, after the killed one. */
    size_t len;
    assert_int_equal(mmf_read(m, all, sizeof all, &len, NULL), 0);
    unsigned count = 0;
    if (!records_are_consecutive(all, len, &count))
      fail_msg("round %d: broken records: ...%.40s", round,
               (char *)all + (len > 40 ? len - 40 : 0));
    char rec[32];
    int l = snprintf(rec, sizeof rec, "%u", count);
    assert_int_equal(mmf_append(m, rec, (size_t)l, " ", 1), 0);
    assert_int_equal(mmf_read(m, all, sizeof all, &len, NULL), 0);
    assert_true(records_are_consecutive(all, len, &last));
    assert_int_equal(last, count + 1);
  }
  printf("# %u records through 30 killed appenders\n", last);
  mmf_close(m);
  mmf_remove(n);
}

/* A follower gets every appended byte once, and the whole content when a
 * write replaced it. */
static void followers_get_each_byte_once(void **s) {
  (void)s;
  const char *n = tname("afollow");
  mmf_t *w, *r;
  assert_int_equal(mmf_create(n, 1 << 20, 0, 0, &w), 0);
  assert_int_equal(mmf_open(n, MMF_READONLY, &r), 0);
  uint8_t mine[1 << 20], buf[1 << 20];
  size_t have = 0, got;
  uint64_t seq = 0, now;
  /* A fresh map: nothing yet, as appended bytes of the empty content. */
  assert_int_equal(mmf_read_since(r, 0, 0, buf, sizeof buf, &got, &now), 0);
  assert_int_equal(got, 0);
  assert_int_equal(mmf_append(w, "one", 3, "\n", 1), 0);
  assert_int_equal(mmf_append(w, "two", 3, "\n", 1), 0);
  assert_int_equal(mmf_read_since(r, seq, have, buf, sizeof buf, &got, &now),
                   0);
  memcpy(mine + have, buf, got);
  have += got;
  seq = now;
  assert_int_equal(have, 7);
  assert_memory_equal(mine, "one\ntwo", 7);
  /* Nothing new: nothing. */
  assert_int_equal(mmf_read_since(r, seq, have, buf, sizeof buf, &got, &now),
                   0);
  assert_int_equal(got, 0);
  assert_int_equal(now, seq);
  /* Too small a buffer: the bytes needed. */
  assert_int_equal(mmf_append(w, "three", 5, "\n", 1), 0);
  assert_int_equal(mmf_read_since(r, seq, have, buf, 2, &got, &now), -ENOBUFS);
  assert_int_equal(got, 6);
  assert_int_equal(mmf_read_since(r, seq, have, buf, sizeof buf, &got, &now),
                   0);
  assert_memory_equal(buf, "\nthree", 6);
  have += got;
  seq = now;
  /* A write replaces it: the whole content, said so. */
  assert_int_equal(mmf_write(w, "new", 3), 0);
  assert_int_equal(mmf_append(w, "er", 2, NULL, 0), 0);
  assert_int_equal(mmf_read_since(r, seq, have, buf, sizeof buf, &got, &now),
                   MMF_READ_WHOLE);
  assert_int_equal(got, 5);
  assert_memory_equal(buf, "newer", 5);
  /* A seen length the content never had: whole, never out of bounds. */
  assert_int_equal(mmf_read_since(r, now, 1 << 30, buf, sizeof buf, &got, &now),
                   MMF_READ_WHOLE);
  /* A follower racing a writer: concatenated, exactly the final content. */
  assert_int_equal(mmf_write(w, NULL, 0), 0);
  assert_int_equal(mmf_read(r, buf, sizeof buf, &got, &seq), 0);
  have = 0;
  pid_t p = fork();
  if (p == 0) {
    for (int i = 0; i < 3000; i++) {
      char rec[16];
      int l = snprintf(rec, sizeof rec, "%d", i);
      if (mmf_append(w, rec, (size_t)l, ",", 1) < 0)
        _exit(1);
    }
    _exit(0);
  }
  int status;
  bool done = false;
  while (!done) {
    done = waitpid(p, &status, WNOHANG) == p;
    int rr = mmf_read_since(r, seq, have, buf, sizeof buf, &got, &now);
    assert_true(rr == 0 || rr == MMF_READ_WHOLE);
    assert_int_equal(rr, 0); /* only appends here: never whole */
    memcpy(mine + have, buf, got);
    have += got;
    seq = now;
  }
  assert_int_equal(WEXITSTATUS(status), 0);
  assert_int_equal(mmf_read(r, buf, sizeof buf, &got, NULL), 0);
  assert_int_equal(got, have);
  assert_memory_equal(mine, buf, have);
  mmf_close(w);
  mmf_close(r);
  mmf_remove(n);
}

/* A peer's garbage in the chain words gives well-framed content, never a
 * crash or an out-of-bounds copy. */
static void hostile_chains_are_harmless(void **s) {
  (void)s;
  const char *n = tname("ahostile");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 4096, 0, 0, &m), 0);
  uint64_t seed = 5;
  uint8_t buf[8192];
  size_t got;
  uint64_t seq;
  for (int i = 0; i < 2000; i++) {
    assert_int_equal(
        mmf_append(m, "abc", 3, NULL, 0) == 0 || mmf_write(m, "x", 1) == 0, 1);
    atomic_store(&m->hdr->slot[rnd(&seed) & 1].chain, rnd(&seed));
    int r = mmf_read_since(m, rnd(&seed) % 100, (size_t)(rnd(&seed) % 5000),
                           buf, sizeof buf, &got, &seq);
    assert_true(r == 0 || r == MMF_READ_WHOLE);
    assert_true(got <= 4096);
  }
  mmf_close(m);
  mmf_remove(n);
}

/* A writer that keeps no chain (an older build) leaves the words as they
 * were: the chain then counts as broken, never as intact (a review's
 * reproduction: appends had mixed two contents, followers got a delta). */
static void writers_without_chains_break_them(void **s) {
  (void)s;
  const char *n = tname("askew");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 4096, 0, 0, &m), 0);
  assert_int_equal(mmf_write(m, "AAAA", 4), 0);
  assert_int_equal(mmf_append(m, "bbbb", 4, NULL, 0), 0);
  assert_int_equal(mmf_append(m, "cccc", 4, NULL, 0), 0); /* seq 3 */
  /* The old writer's write into the other slot: seq 4, chain words left as
   * they were there (from seq 2). */
  unsigned slot = (unsigned)(atomic_load(&m->hdr->state) & 1) ^ 1;
  uint64_t c = atomic_load(&m->hdr->slot[slot].chain);
  uint64_t cs = atomic_load(&m->hdr->slot[slot].tag);
  char z[20];
  memset(z, 'Z', sizeof z);
  assert_int_equal(mmf_write(m, z, sizeof z), 0);
  atomic_store(&m->hdr->slot[slot].chain, c);
  atomic_store(&m->hdr->slot[slot].tag, cs);
  char buf[64];
  size_t got;
  uint64_t now;
  assert_int_equal(mmf_read_since(m, 3, 12, buf, sizeof buf, &got, &now),
                   MMF_READ_WHOLE);
  assert_int_equal(got, 20);
  assert_int_equal(mmf_append(m, "dddd", 4, NULL, 0), 0);
  assert_int_equal(mmf_read(m, buf, sizeof buf, &got, NULL), 0);
  assert_int_equal(got, 24);
  assert_memory_equal(buf, "ZZZZZZZZZZZZZZZZZZZZdddd", 24);
  mmf_close(m);
  mmf_remove(n);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      T(append_costs_what_is_appended), T(content_matches_a_model),
      T(killed_appenders_lose_nothing), T(followers_get_each_byte_once),
      T(hostile_chains_are_harmless),   T(writers_without_chains_break_them),
  };
  return run_cases("append", tests, NULL, NULL);
}
