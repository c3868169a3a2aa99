/* SPDX-License-Identifier: MIT */
/* Format 3's per-slot words: a write_at that copies only what the last
 * publication changed (the delta), words that count only for the gen they
 * were closed with (a killed appender's stamp, a peer's stale words), and
 * the feature words that make a build refuse what it would get wrong. */
#include <fcntl.h>
#include <stdatomic.h>

#include "internal.h"
#include "util.h"

static unsigned unpublished(mmf_t *m) {
  return (unsigned)(atomic_load(&m->hdr->state) & 1) ^ 1;
}

static uint8_t *slot_bytes(mmf_t *m, unsigned s) {
  return (uint8_t *)m->base + m->hdr_size + s * m->stride;
}

static void expect_content(mmf_t *m, const uint8_t *want, size_t want_len) {
  size_t len;
  uint8_t *got = malloc(want_len + 1);
  assert_int_equal(mmf_read(m, got, want_len + 1, &len, NULL), 0);
  assert_int_equal(len, want_len);
  assert_memory_equal(got, want, want_len);
  free(got);
}

/* After a write_at, the next one copies only the bytes the last one
 * changed: a byte planted in the unpublished slot outside that delta stays
 * (a whole copy would have overwritten it).  A whole write ends the reuse. */
static void write_at_copies_only_what_changed(void **s) {
  (void)s;
  const char *n = tname("dcopy");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 1 << 20, 0, 0, &m), 0);
  size_t len = 64 << 10;
  uint8_t *model = malloc(len);
  memset(model, 'x', len);
  assert_int_equal(mmf_write(m, model, len), 0);
  assert_int_equal(mmf_write_at(m, 100, "A", 1), 0); /* a whole copy */
  assert_int_equal(mmf_write_at(m, 200, "B", 1), 0); /* reuses */
  model[100] = 'A';
  model[200] = 'B';
  expect_content(m, model, len);
  slot_bytes(m, unpublished(m))[5000] = 'M';
  assert_int_equal(mmf_write_at(m, 300, "C", 1), 0);
  model[300] = 'C';
  model[5000] = 'M'; /* kept: only [200, 201) was copied */
  expect_content(m, model, len);
  /* A write past the end grows the content with zeros, and the growth is
   * part of the delta. */
  assert_int_equal(mmf_write_at(m, len + 10, "D", 1), 0);
  assert_int_equal(mmf_write_at(m, 400, "E", 1), 0);
  model = realloc(model, len + 11);
  memset(model + len, 0, 10);
  model[len + 10] = 'D';
  model[400] = 'E';
  expect_content(m, model, len + 11);
  /* A whole write says it differs everywhere: the next write_at copies it
   * all, planted bytes or not. */
  memset(model, 'y', len);
  assert_int_equal(mmf_write(m, model, len), 0);
  assert_int_equal(mmf_write_at(m, 1, "F", 1), 0);
  slot_bytes(m, unpublished(m))[7000] = 'M';
  assert_int_equal(mmf_write(m, model, len), 0);
  assert_int_equal(mmf_write_at(m, 2, "G", 1), 0);
  model[2] = 'G';
  expect_content(m, model, len);
  free(model);
  mmf_close(m);
  mmf_remove(n);
}

/* 200 write_at's of 8 bytes into a 32 MiB content, as a view's writes are:
 * each copies its own bytes and the last one's, not the content. */
static void write_at_costs_what_it_writes(void **s) {
  (void)s;
  const char *n = tname("dcost");
  mmf_t *m;
  size_t big = 32u << 20;
  assert_int_equal(mmf_create(n, big, 0, 0, &m), 0);
  uint8_t *buf = malloc(big);
  memset(buf, 'x', big);
  assert_int_equal(mmf_write(m, buf, big), 0);
  int64_t t0 = now_ns();
  for (uint64_t i = 0; i < 200; i++) {
    uint64_t v = i;
    size_t at = (size_t)(i * 163841) % (big - 8);
    assert_int_equal(mmf_write_at(m, at, &v, sizeof v), 0);
    memcpy(buf + at, &v, sizeof v);
  }
  printf("# 200 x 8-byte write_at into 32 MiB: %.2f ms (one copy of the "
         "content costs several)\n",
         (double)(now_ns() - t0) / 1e6);
  expect_content(m, buf, big);
  free(buf);
  mmf_close(m);
  mmf_remove(n);
}

/* Random write_at's, appends and whole writes from two handles (one
 * without fallocate, zero-filling its reservations) and fresh handles,
 * against a model after each: reuse never loses or mixes a byte. */
static void write_at_matches_a_model(void **s) {
  (void)s;
  const char *n = tname("dmodel");
  enum { CAP = 1 << 15 };
  mmf_t *a, *b;
  assert_int_equal(mmf_create(n, CAP, 0, 0, &a), 0);
  assert_int_equal(mmf_open(n, 0, &b), 0);
  atomic_store(&b->no_reserve, true);
  static uint8_t model[CAP], got[CAP];
  uint8_t data[512];
  size_t mlen = 0;
  uint64_t seed = 7;
  for (int i = 0; i < 6000; i++) {
    if (i % 50 == 0) {
      mmf_close(b);
      assert_int_equal(mmf_open(n, 0, &b), 0);
      atomic_store(&b->no_reserve, (i / 50) & 1);
    }
    mmf_t *m = (rnd(&seed) & 1) ? a : b;
    size_t dl = (size_t)(rnd(&seed) % 200);
    for (size_t k = 0; k < dl; k++)
      data[k] = (uint8_t)rnd(&seed);
    unsigned op = (unsigned)(rnd(&seed) % 20);
    if (op == 0 || mlen + dl + 1 > CAP) {
      assert_int_equal(mmf_write(m, data, dl), 0);
      memcpy(model, data, dl);
      mlen = dl;
    } else if (op < 4) {
      assert_int_equal(mmf_append(m, data, dl, NULL, 0), 0);
      memcpy(model + mlen, data, dl);
      mlen += dl;
    } else {
      size_t off = (size_t)(rnd(&seed) % (mlen + 8));
      if (off + dl > CAP)
        off = 0;
      assert_int_equal(mmf_write_at(m, off, data, dl), 0);
      if (off > mlen)
        memset(model + mlen, 0, off - mlen);
      memcpy(model + off, data, dl);
      if (off + dl > mlen)
        mlen = off + dl;
    }
    size_t len;
    assert_int_equal(mmf_read(rnd(&seed) & 1 ? a : b, got, CAP, &len, NULL), 0);
    if (len != mlen || memcmp(got, model, mlen))
      fail_msg("step %d (op %u): content differs from the model", i, op);
  }
  mmf_close(b);
  mmf_close(a);
  mmf_remove(n);
}

/* The review's case against format 2: an appender killed after closing
 * its slot (seq N+1, chain words stamped) and before publishing; the next
 * writer publishes seq N+1 in that slot without rewriting the words (as an
 * older build did, or a peer).  Tied to seq, the stale words claimed an
 * append: a follower got a tail, the next append mixed two contents.  Tied
 * to the gen, they no longer count. */
static void a_killed_appenders_stamp_never_counts(void **s) {
  (void)s;
  const char *n = tname("dstamp");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 4096, 0, 0, &m), 0);
  assert_int_equal(mmf_write(m, "AAAA", 4), 0);
  assert_int_equal(mmf_append(m, "bbbb", 4, NULL, 0), 0); /* seq 2 */
  unsigned y = unpublished(m);
  struct mmf__slot *sl = &m->hdr->slot[y];
  /* The killed appender: slot y opened, filled, closed as seq 3, an
   * append of seq 2 ("AAAAbbbbcccc"), never published. */
  uint64_t g = atomic_load(&sl->gen);
  atomic_store(&sl->gen, g + 1);
  memcpy(slot_bytes(m, y), "AAAAbbbbcccc", 12);
  atomic_store(&sl->len, 12);
  atomic_store(&sl->seq, 3);
  atomic_store(&sl->chain, 1);
  atomic_store(&sl->delta_lo, 8);
  atomic_store(&sl->delta_hi, 12);
  atomic_store(&sl->tag, g + 2);
  atomic_store(&sl->gen, g + 2);
  uint64_t stamp[4] = {atomic_load(&sl->chain), atomic_load(&sl->delta_lo),
                       atomic_load(&sl->delta_hi), atomic_load(&sl->tag)};
  /* The next writer takes slot y over and publishes seq 3 there, leaving
   * the words as the dead appender stamped them. */
  char z[20];
  memset(z, 'Z', sizeof z);
  assert_int_equal(mmf_write(m, z, sizeof z), 0);
  assert_int_equal(unpublished(m), y ^ 1);
  atomic_store(&sl->chain, stamp[0]);
  atomic_store(&sl->delta_lo, stamp[1]);
  atomic_store(&sl->delta_hi, stamp[2]);
  atomic_store(&sl->tag, stamp[3]);
  char buf[64];
  size_t got;
  uint64_t now;
  assert_int_equal(mmf_read_since(m, 2, 8, buf, sizeof buf, &got, &now),
                   MMF_READ_WHOLE);
  assert_int_equal(now, 3);
  assert_int_equal(got, 20);
  assert_memory_equal(buf, z, 20);
  /* Slot y^1 holds seq 2 = seq 3 - 1: the stale delta would have had the
   * append keep "AAAAbbbb" and copy only bytes 8..12. */
  assert_int_equal(mmf_append(m, "dddd", 4, NULL, 0), 0);
  assert_int_equal(mmf_read(m, buf, sizeof buf, &got, NULL), 0);
  assert_int_equal(got, 24);
  assert_memory_equal(buf, "ZZZZZZZZZZZZZZZZZZZZdddd", 24);
  assert_int_equal(mmf_write_at(m, 0, "e", 1), 0);
  assert_int_equal(mmf_read(m, buf, sizeof buf, &got, NULL), 0);
  assert_memory_equal(buf, "eZZZZZZZZZZZZZZZZZZZdddd", 24);
  mmf_close(m);
  mmf_remove(n);
}

/* A later build's features: one every opener must know refuses the open
 * (tested with the other header checks in test_hostile); one only writers
 * must know leaves reading as it was and refuses every kind of write. */
static void unknown_write_features_refuse_writes_only(void **s) {
  (void)s;
  const char *n = tname("dfeat");
  mmf_t *m, *peer;
  assert_int_equal(mmf_create(n, 4096, 0, 0, &m), 0);
  assert_int_equal(mmf_write(m, "kept", 4), 0);
  m->hdr->feat_write |= 1u << 30;
  assert_int_equal(mmf_open(n, 0, &peer), 0);
  char buf[8];
  size_t got;
  assert_int_equal(mmf_read(peer, buf, sizeof buf, &got, NULL), 0);
  assert_int_equal(got, 4);
  assert_int_equal(mmf_write(peer, "x", 1), -MMF_EVERSION);
  assert_int_equal(mmf_append(peer, "x", 1, NULL, 0), -MMF_EVERSION);
  assert_int_equal(mmf_write_at(peer, 0, "x", 1), -MMF_EVERSION);
  struct mmf_write_loan w;
  assert_int_equal(mmf_write_begin(peer, 1, &w), -MMF_EVERSION);
  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  assert_true(fd >= 0);
  size_t moved;
  assert_int_equal(mmf_write_fd(peer, fd, 0, &moved), -MMF_EVERSION);
  close(fd);
  assert_int_equal(mmf_read(peer, buf, sizeof buf, &got, NULL), 0);
  assert_memory_equal(buf, "kept", 4);
  mmf_close(peer);
  mmf_close(m);
  mmf_remove(n);
}

/* A compact map says so in feat_write: a build that does not know compact
 * maps' rules (releasing the other slot) does not write them. */
static void compact_maps_carry_their_feature(void **s) {
  (void)s;
  const char *n = tname("dcomp");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 4096, MMF_COMPACT, 0, &m), 0);
  assert_int_equal(m->hdr->feat_write, MMF__FW_COMPACT);
  assert_int_equal(m->hdr->feat_read, 0);
  assert_int_equal(m->hdr->version, 3);
  mmf_close(m);
  mmf_remove(n);
  assert_int_equal(mmf_create(n, 4096, 0, 0, &m), 0);
  assert_int_equal(m->hdr->feat_write, 0);
  mmf_close(m);
  mmf_remove(n);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      T(write_at_copies_only_what_changed),
      T(write_at_costs_what_it_writes),
      T(write_at_matches_a_model),
      T(a_killed_appenders_stamp_never_counts),
      T(unknown_write_features_refuse_writes_only),
      T(compact_maps_carry_their_feature),
  };
  return run_cases("delta", tests, NULL, NULL);
}
