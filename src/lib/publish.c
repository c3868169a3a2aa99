/* SPDX-License-Identifier: MIT */
/* Whole-content publication: writers and zero-copy write loans.
 *
 * Two slots; `state` names the published one and its seq.  A writer (under
 * the writers' lock) fills the other slot, marking it busy with an odd `gen`,
 * then publishes it with one store to `state`.  A reader copies the published
 * slot and keeps the copy only if that slot's `gen` did not change meanwhile
 * (a seqlock per slot).  A writer that dies mid-write leaves only the
 * unpublished slot half-made: the published content stays whole, and the
 * next writer takes the lock over and refills that slot.
 *
 * Readers are in read.c, copies to and from descriptors in fdio.c, the
 * slots' storage in reserve.c. */
#include "internal.h"
#include "pin.h"
#include "reserve.h"
#include "slot.h"

#include <errno.h>
#include <string.h>

/* No honest map gets near this many writes; a peer may claim it. */
#define SEQ_MAX ((uint64_t)1 << 62)

/* Store the published seq into the futex word; wake sleepers if one had
 * set the SLEEPERS bit, or always when some readers cannot set it. */
static void announce(struct mmf *m, uint64_t seq) {
  struct mmf__hdr *h = m->hdr;
  uint32_t old = atomic_exchange_explicit(
      &h->seq32, (uint32_t)seq & ~MMF__SEQ_SLEEPERS, memory_order_seq_cst);
  if ((old & MMF__SEQ_SLEEPERS) ||
      atomic_load_explicit(&m->wake_all, memory_order_relaxed))
    mmf__os_futex_wake(&h->seq32, 0x7fffffff);
}

int mmf__writers_lock(struct mmf *m) {
  struct mmf__hdr *h = m->hdr;
  int r = mmf__lock_acquire(m, &h->wlock, MMF_WRITE_LOCK_TIMEOUT_MS, true);
  if (r == -ETIMEDOUT)
    return -MMF_ESTUCK;
  if (r == MMF_LOCK_ABANDONED) {
    /* The dead writer may have published without updating the futex word
     * or waking the waiters: do both now. */
    uint64_t state = atomic_load_explicit(&h->state, memory_order_acquire);
    (void)atomic_exchange(&h->seq32,
                          (uint32_t)mmf__state_seq(state) & ~MMF__SEQ_SLEEPERS);
    mmf__os_futex_wake(&h->seq32, 0x7fffffff);
    r = 0;
  }
  return r;
}

void mmf__writers_unlock(struct mmf *m) {
  (void)mmf__lock_release(m, &m->hdr->wlock);
}

/* Mark slot s busy; returns the odd gen to close it with.  Its seq becomes
 * invalid at once, so that a reader that saw `state` name this slot before
 * cannot take what is written now for the old content, even if this write
 * is aborted. */
static uint64_t slot_open(struct mmf__slot *sl) {
  uint64_t g = atomic_load_explicit(&sl->gen, memory_order_relaxed);
  /* A dead writer may have left it odd: step to the next odd value. */
  uint64_t odd = (g | 1) + ((g & 1) ? 2 : 0);
  /* Release before as well: a reader that sees the odd gen or the invalid
   * seq also sees the `state` this writer read (the previous publication),
   * so it never mistakes this for corruption of the published slot. */
  atomic_thread_fence(memory_order_release);
  atomic_store_explicit(&sl->gen, odd, memory_order_relaxed);
  atomic_store_explicit(&sl->seq, MMF__SEQ_INVALID, memory_order_relaxed);
  atomic_thread_fence(memory_order_release);
  return odd;
}

/* Close slot s unpublished: its bytes are garbage nobody points to. */
static void slot_abort(struct mmf *m, unsigned s, uint64_t odd) {
  atomic_store_explicit(&m->hdr->slot[s].gen, odd + 1, memory_order_release);
}

/* Close slot s with content seq of len bytes, whose append chain starts at
 * `chain` and which differs from content seq - 1 only in [lo, hi), and
 * publish it.  The tag names the gen it is closed with: a later write into
 * the slot moves gen, and these words stop counting. */
static void slot_close_and_publish(struct mmf *m, unsigned s, uint64_t odd,
                                   uint64_t len, uint64_t seq, uint64_t chain,
                                   uint64_t lo, uint64_t hi) {
  struct mmf__hdr *h = m->hdr;
  struct mmf__slot *sl = &h->slot[s];
  /* MMF_COMPACT: what lies past the content (a loan committed shorter than
   * it stored, a killed writer's pages) is given back before it is
   * published, so that at rest the map holds the content only. */
  if (mmf__compact(m)) {
    uint64_t page = mmf__os_page_size();
    uint64_t end = (len + page - 1) & ~(page - 1);
    if (end < m->stride)
      (void)mmf__os_release_data(m->fd, mmf__slot_off(m, s) + end,
                                 m->stride - end);
  }
  atomic_store_explicit(&sl->len, len, memory_order_relaxed);
  atomic_store_explicit(&sl->seq, seq, memory_order_relaxed);
  atomic_store_explicit(&sl->chain, chain, memory_order_relaxed);
  atomic_store_explicit(&sl->delta_lo, lo, memory_order_relaxed);
  atomic_store_explicit(&sl->delta_hi, hi, memory_order_relaxed);
  atomic_store_explicit(&sl->tag, odd + 1, memory_order_relaxed);
  atomic_store_explicit(&sl->gen, odd + 1, memory_order_release);
  atomic_store_explicit(&h->state, seq << 1 | s, memory_order_release);
  announce(m, seq);
}

/* How a writer that starts from the current content (slot cur, `seq`,
 * `cur_len` bytes) fills slot s, which held content `prev_seq` of
 * `prev_len` bytes when it was opened.  If that is the content before the
 * current one and the current one says where it differs from it (its
 * delta, valid while its tag is its gen: under the lock nobody moves it),
 * s keeps every other byte: `keep` of its bytes stay, and only the delta
 * and the growth are copied.  Else everything is copied (keep 0).  A peer
 * that scribbles these words can make a wrong content, as with any of its
 * bytes; never a copy out of bounds. */
struct reuse {
  uint64_t keep;   /* bytes of s that stay where they are (and are backed) */
  uint64_t lo, hi; /* then copy [lo, hi) of cur, and [keep, cur_len) */
};

static struct reuse plan_reuse(struct mmf *m, unsigned cur, uint64_t seq,
                               uint64_t cur_len, uint64_t prev_seq,
                               uint64_t prev_len) {
  struct reuse u = {0, 0, 0};
  const struct mmf__slot *c = &m->hdr->slot[cur];
  if (seq == 0 || prev_seq != seq - 1 || prev_len > m->capacity)
    return u;
  uint64_t g = atomic_load_explicit(&c->gen, memory_order_relaxed);
  uint64_t lo = atomic_load_explicit(&c->delta_lo, memory_order_relaxed);
  uint64_t hi = atomic_load_explicit(&c->delta_hi, memory_order_relaxed);
  if (atomic_load_explicit(&c->tag, memory_order_relaxed) != g || lo > hi ||
      hi > m->capacity)
    return u;
  u.keep = prev_len < cur_len ? prev_len : cur_len;
  u.lo = lo < u.keep ? lo : u.keep;
  u.hi = hi < u.keep ? hi : u.keep;
  return u;
}

/* Copy [from, to) of cur into s, but for [skip_lo, skip_hi), which the
 * caller is about to overwrite. */
static void copy_range(uint8_t *dst, const uint8_t *src, uint64_t from,
                       uint64_t to, uint64_t skip_lo, uint64_t skip_hi) {
  if (skip_lo < skip_hi && skip_lo < to && skip_hi > from) {
    if (skip_lo > from)
      memcpy(dst + from, src + from, skip_lo - from);
    if (skip_hi < to)
      memcpy(dst + skip_hi, src + skip_hi, to - skip_hi);
    return;
  }
  if (to > from)
    memcpy(dst + from, src + from, to - from);
}

/* Make slot s hold the current content's first cur_len bytes, as planned,
 * but for [skip_lo, skip_hi), which the caller writes next. */
static void copy_current(struct mmf *m, unsigned s, unsigned cur,
                         uint64_t cur_len, const struct reuse *u,
                         uint64_t skip_lo, uint64_t skip_hi) {
  uint8_t *dst = mmf__slot_data(m, s);
  const uint8_t *src = mmf__slot_data(m, cur);
  copy_range(dst, src, u->lo, u->hi, skip_lo, skip_hi);
  copy_range(dst, src, u->keep, cur_len, skip_lo, skip_hi);
}

/* copy_current() through fill->copy (mmf_append_fd: in the kernel, so that
 * no page of either slot is mapped into the process). */
static int copy_current_by(struct mmf *m, unsigned s, unsigned cur,
                           uint64_t cur_len, const struct reuse *u,
                           const struct mmf__fill *fill) {
  uint64_t to = mmf__slot_off(m, s), from = mmf__slot_off(m, cur);
  int r = 0;
  if (u->hi > u->lo)
    r = fill->copy(m, from + u->lo, to + u->lo, u->hi - u->lo);
  if (r == 0 && cur_len > u->keep)
    r = fill->copy(m, from + u->keep, to + u->keep, cur_len - u->keep);
  return r;
}

/* MMF_COMPACT: after a publication, release the storage of slot `old`, the
 * one no longer published.  It is marked first as holding no content (its
 * seq invalid), so that no writer, of any release, takes its bytes for a
 * content an append could extend, and a reader copying it is told it was
 * overtaken.  A file system without hole punching keeps both contents. */
static void release_unpublished(struct mmf *m, unsigned old) {
  if (!mmf__compact(m))
    return;
  uint64_t odd = slot_open(&m->hdr->slot[old]);
  mmf__slot_punch(m, old);
  slot_abort(m, old, odd);
}

/* Close slot s unpublished after a failed or abandoned write: in a compact
 * map, what was stored there is given back too. */
static void abandon(struct mmf *m, unsigned s, uint64_t odd) {
  if (mmf__compact(m))
    mmf__slot_punch(m, s);
  slot_abort(m, s, odd);
}

static int writable_mmf(struct mmf *m) {
  if (m->kind != MMF_KIND_MMF)
    return -MMF_ERAW;
  if (m->readonly)
    return -MMF_EREADONLY;
  /* A newer build's map whose words this build would write wrong (and
   * begin_with_prev() looks again on every write). */
  if (m->foreign_writes)
    return -MMF_EVERSION;
  return 0;
}

static int write_raw(struct mmf *m, uint64_t off, const void *data,
                     size_t len) {
  if (m->readonly)
    return -MMF_EREADONLY;
  if (off > m->map_len || len > m->map_len - off)
    return -MMF_ETOOBIG;
  int r = mmf__check_size(m, false);
  if (r < 0)
    return r;
  if (m->copy_on_write) {
    if (len)
      memcpy(m->base + off, data, len);
    return 0;
  }
  /* The caller's bytes are what is there: allocate without touching them,
   * or, where the file system cannot, let write() allocate (and fail with
   * ENOSPC) instead of a store into a hole. */
  r = mmf__allocate(m, 0, 0, off + len);
  if (r == -EOPNOTSUPP)
    return mmf__os_pwrite_all(m->fd, data, len, off);
  if (r < 0)
    return r;
  if (len)
    memcpy(m->base + off, data, len);
  return 0;
}

/* Take the writers' lock and open the unpublished slot for `size` bytes:
 * *ret_s, *ret_odd and the state word it was opened under.  With
 * ret_prev_seq, also which content the slot held before (its seq, or
 * MMF__SEQ_INVALID when it held no whole one): under the lock, nobody else
 * has written it since. */
static int begin_with_prev(struct mmf *m, uint64_t size, unsigned *ret_s,
                           uint64_t *ret_odd, uint64_t *ret_state,
                           uint64_t *ret_prev_seq) {
  int r = mmf__check_size(m, false);
  if (r < 0)
    return r;
  if ((r = mmf__writers_lock(m)) < 0)
    return r;
  /* A write feature set after this handle opened (one load of a
   * read-mostly line, after the size check): stop at this write. */
  if (__atomic_load_n(&m->hdr->feat_write, __ATOMIC_RELAXED) & ~MMF__FW_KNOWN) {
    mmf__writers_unlock(m);
    return -MMF_EVERSION;
  }
  mmf__pin_wait(m); /* a reader's pinned copy first, within a bound */
  struct mmf__hdr *h = m->hdr;
  uint64_t state = atomic_load_explicit(&h->state, memory_order_acquire);
  unsigned s = mmf__state_slot(state) ^ 1;
  if (mmf__state_seq(state) >= SEQ_MAX) {
    mmf__writers_unlock(m);
    return -MMF_ECORRUPT;
  }
  if (ret_prev_seq) {
    uint64_t g = atomic_load_explicit(&h->slot[s].gen, memory_order_relaxed);
    *ret_prev_seq =
        (g & 1) ? MMF__SEQ_INVALID
                : atomic_load_explicit(&h->slot[s].seq, memory_order_relaxed);
  }
  /* In a compact map any writer may have released the slot since this
   * handle last reserved it; under the lock, nobody can now. */
  if (mmf__compact(m))
    atomic_store_explicit(&m->allocated[s], 0, memory_order_relaxed);
  uint64_t odd = slot_open(&h->slot[s]);
  if ((r = mmf__reserve(m, s, mmf__slot_off(m, s), size)) < 0) {
    abandon(m, s, odd);
    mmf__writers_unlock(m);
    return r;
  }
  *ret_s = s;
  *ret_odd = odd;
  *ret_state = state;
  return 0;
}

/* begin_with_prev() for a writer that does not reuse the slot's bytes. */
static int begin(struct mmf *m, uint64_t size, unsigned *ret_s,
                 uint64_t *ret_odd, uint64_t *ret_state) {
  return begin_with_prev(m, size, ret_s, ret_odd, ret_state, NULL);
}

/* Fill the unpublished slot with the current content (when `append`, else
 * nothing), sep and data, then what `fill` brings (if not NULL), and
 * publish it. */
static int publish(struct mmf *m, bool append, const void *sep, size_t sep_len,
                   const void *data, size_t len, const struct mmf__fill *fill,
                   uint64_t *ret_seq) {
  int r = writable_mmf(m);
  if (r < 0)
    return r;
  if (len > m->capacity || sep_len > m->capacity)
    return -MMF_ETOOBIG;
  if (!append)
    sep_len = 0;
  struct mmf__hdr *h = m->hdr;
  /* The old length is stable only under the lock; the size to reserve is
   * known after it.  Reserve for the worst case that fits. */
  unsigned s;
  uint64_t odd, state, prev_seq;
  if ((r = begin_with_prev(m, append ? 0 : len, &s, &odd, &state, &prev_seq)) <
      0)
    return r;
  unsigned cur = s ^ 1;
  uint64_t old_len = 0, seq = mmf__state_seq(state), chain = seq + 1;
  /* What of the current content the slot we fill holds already (an append
   * after an append or a write_at copies only what changed since the
   * content this slot holds). */
  struct reuse u = {0, 0, 0};
  if (append) {
    /* We hold the lock: the published slot cannot change under us. */
    old_len = atomic_load_explicit(&h->slot[cur].len, memory_order_relaxed);
    if (old_len > m->capacity) {
      abandon(m, s, odd);
      mmf__writers_unlock(m);
      return -MMF_ECORRUPT;
    }
    if (old_len == 0)
      sep_len = 0;
    chain = mmf__slot_chain(
        &h->slot[cur], seq,
        atomic_load_explicit(&h->slot[cur].gen, memory_order_relaxed));
    u = plan_reuse(m, cur, seq, old_len, prev_seq,
                   atomic_load_explicit(&h->slot[s].len, memory_order_relaxed));
  }
  uint64_t total;
  if (__builtin_add_overflow(old_len, (uint64_t)sep_len, &total) ||
      __builtin_add_overflow(total, (uint64_t)len, &total) ||
      total > m->capacity) {
    abandon(m, s, odd);
    mmf__writers_unlock(m);
    return -MMF_ETOOBIG;
  }
  if ((r = mmf__reserve_after(m, s, mmf__slot_off(m, s), total, u.keep)) < 0) {
    abandon(m, s, odd);
    mmf__writers_unlock(m);
    return r;
  }
  uint8_t *dst = mmf__slot_data(m, s);
  if (fill && fill->copy)
    r = copy_current_by(m, s, cur, old_len, &u, fill);
  else
    copy_current(m, s, cur, old_len, &u, 0, 0);
  if (r < 0) {
    abandon(m, s, odd);
    mmf__writers_unlock(m);
    return r;
  }
  if (sep_len)
    memcpy(dst + old_len, sep, sep_len);
  if (len)
    memcpy(dst + old_len + sep_len, data, len);
  if (fill) {
    uint64_t got = 0;
    if ((r = fill->fn(fill->ctx, m, s, total, m->capacity - total, &got)) < 0) {
      abandon(m, s, odd);
      mmf__writers_unlock(m);
      return r;
    }
    total += got;
  }
  slot_close_and_publish(m, s, odd, total, seq + 1, chain, old_len, total);
  release_unpublished(m, cur);
  mmf__writers_unlock(m);
  if (ret_seq)
    *ret_seq = seq + 1;
  return 0;
}

/* The publishing calls take the seq they publish as an out-parameter of
 * the caller's (NULL for the plain calls): per call, whatever other threads
 * of the handle do.  Raw maps and files publish no seq: 0. */
static int write_whole(struct mmf *m, const void *data, size_t len,
                       uint64_t *ret_seq) {
  if (!m || (!data && len))
    return -EINVAL;
  if (m->kind != MMF_KIND_MMF) {
    int r = write_raw(m, 0, data, len);
    if (r == 0 && ret_seq)
      *ret_seq = 0;
    return r;
  }
  /* No cancellation point is reached with the writers' lock held: the
   * kernel calls that would be one defer pthread_cancel (os.h). */
  return publish(m, false, NULL, 0, data, len, NULL, ret_seq);
}

MMF_EXPORT int mmf_write(mmf_t *m, const void *data, size_t len) {
  return write_whole(m, data, len, NULL);
}

MMF_EXPORT int mmf_write_seq(mmf_t *m, const void *data, size_t len,
                             uint64_t *ret_seq) {
  return write_whole(m, data, len, ret_seq);
}

static int append(struct mmf *m, const void *data, size_t len, const void *sep,
                  size_t sep_len, uint64_t *ret_seq) {
  if (!m || (!data && len) || (!sep && sep_len))
    return -EINVAL;
  return publish(m, true, sep, sep_len, data, len, NULL, ret_seq);
}

int mmf__append_fill(struct mmf *m, const void *sep, size_t sep_len,
                     const struct mmf__fill *fill, uint64_t *ret_seq) {
  if (!m || (!sep && sep_len) || !fill)
    return -EINVAL;
  return publish(m, true, sep, sep_len, NULL, 0, fill, ret_seq);
}

MMF_EXPORT int mmf_append(mmf_t *m, const void *data, size_t len,
                          const void *sep, size_t sep_len) {
  return append(m, data, len, sep, sep_len, NULL);
}

MMF_EXPORT int mmf_append_seq(mmf_t *m, const void *data, size_t len,
                              const void *sep, size_t sep_len,
                              uint64_t *ret_seq) {
  return append(m, data, len, sep, sep_len, ret_seq);
}

static int write_at(struct mmf *m, size_t offset, const void *data, size_t len,
                    uint64_t *ret_seq) {
  if (!m || (!data && len))
    return -EINVAL;
  if (m->kind != MMF_KIND_MMF) {
    int r = write_raw(m, offset, data, len);
    if (r == 0 && ret_seq)
      *ret_seq = 0;
    return r;
  }
  int r = writable_mmf(m);
  if (r < 0)
    return r;
  uint64_t end;
  if (__builtin_add_overflow((uint64_t)offset, (uint64_t)len, &end) ||
      end > m->capacity)
    return -MMF_ETOOBIG;
  unsigned s;
  uint64_t odd, state, prev_seq;
  if ((r = begin_with_prev(m, 0, &s, &odd, &state, &prev_seq)) < 0)
    return r;
  unsigned cur = s ^ 1;
  uint64_t seq = mmf__state_seq(state);
  /* We hold the lock: the published slot cannot change under us. */
  uint64_t old_len =
      atomic_load_explicit(&m->hdr->slot[cur].len, memory_order_relaxed);
  if (old_len > m->capacity) {
    abandon(m, s, odd);
    mmf__writers_unlock(m);
    return -MMF_ECORRUPT;
  }
  uint64_t total = end > old_len ? end : old_len;
  /* Steady write_at's (a view's writes) copy only what the last one
   * changed, not the content: see plan_reuse(). */
  struct reuse u = plan_reuse(
      m, cur, seq, old_len, prev_seq,
      atomic_load_explicit(&m->hdr->slot[s].len, memory_order_relaxed));
  if ((r = mmf__reserve_after(m, s, mmf__slot_off(m, s), total, u.keep)) < 0) {
    abandon(m, s, odd);
    mmf__writers_unlock(m);
    return r;
  }
  uint8_t *dst = mmf__slot_data(m, s);
  uint64_t lo = offset < old_len ? offset : old_len;
  /* What of the current content is kept (all of it, or the last change
   * and the growth), but for the bytes about to be replaced. */
  copy_current(m, s, cur, old_len, &u, offset, end);
  if (offset > old_len)
    memset(dst + old_len, 0, offset - old_len);
  if (len)
    memcpy(dst + offset, data, len);
  slot_close_and_publish(m, s, odd, total, seq + 1, seq + 1, lo, end);
  release_unpublished(m, cur);
  mmf__writers_unlock(m);
  if (ret_seq)
    *ret_seq = seq + 1;
  return 0;
}

MMF_EXPORT int mmf_write_at(mmf_t *m, size_t offset, const void *data,
                            size_t len) {
  return write_at(m, offset, data, len, NULL);
}

MMF_EXPORT int mmf_write_at_seq(mmf_t *m, size_t offset, const void *data,
                                size_t len, uint64_t *ret_seq) {
  return write_at(m, offset, data, len, ret_seq);
}

/* A loan's private words: the slot | 2 (so that a zeroed loan is not
 * one), and the odd gen it was opened with. */
int mmf__write_begin(struct mmf *m, size_t size, size_t reserve_now,
                     struct mmf_write_loan *ret) {
  if (!m || !ret)
    return -EINVAL;
  int r = writable_mmf(m);
  if (r < 0)
    return r;
  if (size > m->capacity)
    return -MMF_ETOOBIG;
  unsigned s;
  uint64_t odd, state;
  r = begin(m, reserve_now < size ? reserve_now : size, &s, &odd, &state);
  if (r < 0)
    return r;
  ret->data = mmf__slot_data(m, s);
  ret->size = size;
  ret->priv_[0] = s | 2;
  ret->priv_[1] = odd;
  return 0;
}

MMF_EXPORT int mmf_write_begin(mmf_t *m, size_t size,
                               struct mmf_write_loan *ret) {
  return mmf__write_begin(m, size, size, ret);
}

/* Is w a loan of m that is still open? */
static bool loan_ok(struct mmf *m, const struct mmf_write_loan *w) {
  if (m->kind != MMF_KIND_MMF || m->readonly || (w->priv_[0] & ~1ull) != 2 ||
      !(w->priv_[1] & 1) || !mmf__lock_held_by(m, &m->hdr->wlock))
    return false;
  unsigned s = (unsigned)(w->priv_[0] & 1);
  return w->data == mmf__slot_data(m, s) &&
         atomic_load_explicit(&m->hdr->slot[s].gen, memory_order_relaxed) ==
             w->priv_[1];
}

int mmf__write_commit(struct mmf *m, struct mmf_write_loan *w, size_t len,
                      uint64_t *ret_seq) {
  if (!m || !w || len > w->size)
    return -EINVAL;
  int r = mmf__check_size(m, false);
  if (r < 0)
    return r;
  if (!loan_ok(m, w))
    return -EINVAL;
  unsigned s = (unsigned)(w->priv_[0] & 1);
  uint64_t state = atomic_load_explicit(&m->hdr->state, memory_order_acquire);
  slot_close_and_publish(m, s, w->priv_[1], len, mmf__state_seq(state) + 1,
                         mmf__state_seq(state) + 1, 0, len);
  release_unpublished(m, s ^ 1);
  w->priv_[0] = w->priv_[1] = 0;
  mmf__writers_unlock(m);
  if (ret_seq)
    *ret_seq = mmf__state_seq(state) + 1;
  return 0;
}

MMF_EXPORT int mmf_write_commit(mmf_t *m, struct mmf_write_loan *w,
                                size_t len) {
  return mmf__write_commit(m, w, len, NULL);
}

MMF_EXPORT int mmf_write_commit_seq(mmf_t *m, struct mmf_write_loan *w,
                                    size_t len, uint64_t *ret_seq) {
  return mmf__write_commit(m, w, len, ret_seq);
}

MMF_EXPORT void mmf_write_abort(mmf_t *m, struct mmf_write_loan *w) {
  if (!m || !w || mmf__check_size(m, false) < 0 || !loan_ok(m, w))
    return;
  abandon(m, (unsigned)(w->priv_[0] & 1), w->priv_[1]);
  w->priv_[0] = w->priv_[1] = 0;
  mmf__writers_unlock(m);
}
