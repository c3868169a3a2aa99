/* SPDX-License-Identifier: MIT */
/* Whole-content publication.
 *
 * Two slots; `state` names the published one and its seq.  A writer (under
 * the writers' lock) fills the other slot, marking it busy with an odd `gen`,
 * then publishes it with one store to `state`.  A reader copies the published
 * slot and keeps the copy only if that slot's `gen` did not change meanwhile
 * (a seqlock per slot).  A writer that dies mid-write leaves only the
 * unpublished slot half-made: the published content stays whole, and the
 * next writer takes the lock over and refills that slot. */
#include "internal.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Optimistic tries before a reader waits for the current writer. */
#define READ_TRIES 8
/* Copies this large are worth more than one try each. */
#define BIG_COPY ((uint64_t)64 << 10)
/* No honest map gets near this many writes; a peer may claim it. */
#define SEQ_MAX ((uint64_t)1 << 62)

static inline uint64_t state_seq(uint64_t st) {
  return st >> 1;
}
static inline unsigned state_slot(uint64_t st) {
  return (unsigned)(st & 1);
}

int mmf__check_size(struct mmf *m, bool always) {
  if (atomic_load_explicit(&m->broken, memory_order_relaxed))
    return -MMF_ECORRUPT;
  /* rdtsc was measured too: it traps in this VM and costs more. */
  int64_t now = mmf__os_coarse_ms();
  if (!always &&
      atomic_load_explicit(&m->size_checked, memory_order_relaxed) == now)
    return 0;
  struct stat st;
  int r = mmf__os_fstat(m->fd, &st);
  if (r < 0)
    return r;
  if ((uint64_t)st.st_size < m->map_len) {
    /* A peer shrank it: touching the tail would fault.  The handle never
     * touches the mapping again, mmf_close included. */
    atomic_store(&m->broken, true);
    return -MMF_ECORRUPT;
  }
  /* The mode may have changed (chmod): readers who cannot write must be
   * woken by every write. */
  bool ro_readers = ((st.st_mode & 040) && !(st.st_mode & 020)) ||
                    ((st.st_mode & 04) && !(st.st_mode & 02));
  atomic_store_explicit(&m->wake_all, ro_readers, memory_order_relaxed);
  atomic_store_explicit(&m->size_checked, now, memory_order_relaxed);
  return 0;
}

/* Map the page tables of slot s up to len in one call, the first time this
 * handle reads that far (MADV_POPULATE_READ: ~5% faster than read faults
 * here).  Writers do not: MADV_POPULATE_WRITE after fallocate was as fast
 * as write faults at the median but up to 10 times slower at times. */
static void populate(struct mmf *m, unsigned s, uint64_t len) {
  uint64_t done = atomic_load_explicit(&m->populated[s], memory_order_relaxed);
  if (len <= done ||
      atomic_load_explicit(&m->no_populate, memory_order_relaxed))
    return;
  uint8_t *p = mmf__slot_data(m, s) + done;
  int r = mmf__os_populate(p, len - done, false);
  if (r == -EINVAL || r == -ENOSYS)
    atomic_store_explicit(&m->no_populate, true, memory_order_relaxed);
  else if (r == 0)
    atomic_store_explicit(&m->populated[s], len, memory_order_relaxed);
}

/* ---- writers ---- */

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

static int wlock(struct mmf *m) {
  struct mmf__hdr *h = m->hdr;
  int r = mmf__lock_acquire(m, &h->wlock, MMF_WRITE_LOCK_TIMEOUT_MS, true);
  if (r == -ETIMEDOUT)
    return -MMF_ESTUCK;
  if (r == MMF_LOCK_ABANDONED) {
    /* The dead writer may have published without updating the futex word
     * or waking the waiters: do both now. */
    uint64_t st = atomic_load_explicit(&h->state, memory_order_acquire);
    (void)atomic_exchange(&h->seq32,
                          (uint32_t)state_seq(st) & ~MMF__SEQ_SLEEPERS);
    mmf__os_futex_wake(&h->seq32, 0x7fffffff);
    r = 0;
  }
  return r;
}

static void wunlock(struct mmf *m) {
  (void)mmf__lock_release(m, &m->hdr->wlock);
}

/* Allocate storage for the first `len` bytes at `off` (slot s, or the raw
 * object for s == 0 of a raw map) before storing into them, so that a full
 * file system is an -ENOSPC here and not a SIGBUS in memcpy: 0, or
 * -EOPNOTSUPP where the file system has no fallocate. */
static int allocate(struct mmf *m, unsigned s, uint64_t off, uint64_t len) {
  uint64_t done = atomic_load_explicit(&m->reserved[s], memory_order_relaxed);
  if (len <= done)
    return 0;
  if (atomic_load_explicit(&m->no_reserve, memory_order_relaxed))
    return -EOPNOTSUPP;
  /* Two threads of one handle may both allocate: harmless. */
  int r = mmf__os_reserve(m->fd, off + done, len - done);
  if (r == -EOPNOTSUPP || r == -ENOSYS) {
    atomic_store_explicit(&m->no_reserve, true, memory_order_relaxed);
    return -EOPNOTSUPP;
  }
  if (r == 0)
    atomic_store_explicit(&m->reserved[s], len, memory_order_relaxed);
  return r;
}

/* allocate() whole pages of an unpublished slot; where there is no
 * fallocate, zeros are written instead, past its first `keep` bytes (which
 * a fast append keeps, and which being written are allocated): the rest
 * holds nothing anyone reads (the caller holds the writers' lock). */
static int reserve_keep(struct mmf *m, unsigned s, uint64_t off, uint64_t len,
                        uint64_t keep) {
  uint64_t end = (len + m->hdr_size - 1) & ~(m->hdr_size - 1);
  int r = allocate(m, s, off, end);
  if (r == -EOPNOTSUPP) {
    uint64_t done = atomic_load_explicit(&m->reserved[s], memory_order_relaxed);
    if (done < keep)
      done = keep < end ? keep : end;
    r = mmf__os_zero_fill(m->fd, off + done, end - done);
    if (r == 0)
      atomic_store_explicit(&m->reserved[s], end, memory_order_relaxed);
  }
  return r;
}

static int reserve(struct mmf *m, unsigned s, uint64_t off, uint64_t len) {
  return reserve_keep(m, s, off, len, 0);
}

static inline uint64_t slot_off(struct mmf *m, unsigned s) {
  return m->hdr_size + s * m->stride;
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

/* Slot s's chain start, if its content (seq) was published with one; else
 * seq itself (a chain of its own). */
static inline uint64_t slot_chain(const struct mmf__slot *sl, uint64_t seq) {
  uint64_t c = atomic_load_explicit(&sl->chain, memory_order_relaxed);
  uint64_t cs = atomic_load_explicit(&sl->chain_seq, memory_order_relaxed);
  return cs == seq && c <= seq ? c : seq;
}

static void slot_close_and_publish(struct mmf *m, unsigned s, uint64_t odd,
                                   uint64_t len, uint64_t seq, uint64_t chain) {
  struct mmf__hdr *h = m->hdr;
  struct mmf__slot *sl = &h->slot[s];
  atomic_store_explicit(&sl->len, len, memory_order_relaxed);
  atomic_store_explicit(&sl->seq, seq, memory_order_relaxed);
  atomic_store_explicit(&sl->chain, chain, memory_order_relaxed);
  atomic_store_explicit(&sl->chain_seq, seq, memory_order_relaxed);
  atomic_store_explicit(&sl->gen, odd + 1, memory_order_release);
  atomic_store_explicit(&h->state, seq << 1 | s, memory_order_release);
  announce(m, seq);
}

static int writable_mmf(struct mmf *m) {
  if (m->kind != MMF_KIND_MMF)
    return -MMF_ERAW;
  if (m->readonly)
    return -MMF_EREADONLY;
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
  if (m->priv) {
    if (len)
      memcpy(m->base + off, data, len);
    return 0;
  }
  /* The caller's bytes are what is there: allocate without touching them,
   * or, where the file system cannot, let write() allocate (and fail with
   * ENOSPC) instead of a store into a hole. */
  r = allocate(m, 0, 0, off + len);
  if (r == -EOPNOTSUPP)
    return mmf__os_pwrite_all(m->fd, data, len, off);
  if (r < 0)
    return r;
  if (len)
    memcpy(m->base + off, data, len);
  return 0;
}

/* Take the writers' lock and open the unpublished slot for `size` bytes:
 * *ret_s, *ret_odd and the seq to publish. */
/* begin(), also telling which content the slot held before it was opened
 * (*ret_prev_seq: its seq, or MMF__SEQ_INVALID when it held no whole one):
 * under the lock, nobody else has written it since. */
static int begin_keep(struct mmf *m, uint64_t size, unsigned *ret_s,
                      uint64_t *ret_odd, uint64_t *ret_st,
                      uint64_t *ret_prev_seq) {
  int r = mmf__check_size(m, false);
  if (r < 0)
    return r;
  if ((r = wlock(m)) < 0)
    return r;
  struct mmf__hdr *h = m->hdr;
  uint64_t st = atomic_load_explicit(&h->state, memory_order_acquire);
  unsigned s = state_slot(st) ^ 1;
  if (state_seq(st) >= SEQ_MAX) {
    wunlock(m);
    return -MMF_ECORRUPT;
  }
  if (ret_prev_seq) {
    uint64_t g = atomic_load_explicit(&h->slot[s].gen, memory_order_relaxed);
    *ret_prev_seq =
        (g & 1) ? MMF__SEQ_INVALID
                : atomic_load_explicit(&h->slot[s].seq, memory_order_relaxed);
  }
  uint64_t odd = slot_open(&h->slot[s]);
  if ((r = reserve(m, s, slot_off(m, s), size)) < 0) {
    slot_abort(m, s, odd);
    wunlock(m);
    return r;
  }
  *ret_s = s;
  *ret_odd = odd;
  *ret_st = st;
  return 0;
}

static int begin(struct mmf *m, uint64_t size, unsigned *ret_s,
                 uint64_t *ret_odd, uint64_t *ret_st) {
  return begin_keep(m, size, ret_s, ret_odd, ret_st, NULL);
}

/* Fill the unpublished slot with prefix (the current content, or nothing),
 * sep and data, and publish it. */
static int publish(struct mmf *m, bool keep, const void *sep, size_t sep_len,
                   const void *data, size_t len) {
  int r = writable_mmf(m);
  if (r < 0)
    return r;
  if (len > m->capacity || sep_len > m->capacity)
    return -MMF_ETOOBIG;
  if (!keep)
    sep_len = 0;
  struct mmf__hdr *h = m->hdr;
  /* The old length is stable only under the lock; the size to reserve is
   * known after it.  Reserve for the worst case that fits. */
  unsigned s;
  uint64_t odd, st, prev_seq;
  if ((r = begin_keep(m, keep ? 0 : len, &s, &odd, &st, &prev_seq)) < 0)
    return r;
  unsigned cur = s ^ 1;
  uint64_t old_len = 0, seq = state_seq(st), chain = seq + 1;
  /* How much of the current content the slot we fill holds already: an
   * append whose predecessor was an append of what this slot holds only
   * needs the last append's bytes (`have` is then the slot's length). */
  uint64_t have = 0;
  if (keep) {
    /* We hold the lock: the published slot cannot change under us. */
    old_len = atomic_load_explicit(&h->slot[cur].len, memory_order_relaxed);
    if (old_len > m->capacity) {
      slot_abort(m, s, odd);
      wunlock(m);
      return -MMF_ECORRUPT;
    }
    if (old_len == 0)
      sep_len = 0;
    uint64_t cur_chain = slot_chain(&h->slot[cur], seq);
    chain = cur_chain;
    uint64_t prev_len =
        atomic_load_explicit(&h->slot[s].len, memory_order_relaxed);
    if (seq > 0 && prev_seq == seq - 1 && cur_chain < seq &&
        prev_len <= old_len)
      have = prev_len;
  }
  uint64_t total;
  if (__builtin_add_overflow(old_len, (uint64_t)sep_len, &total) ||
      __builtin_add_overflow(total, (uint64_t)len, &total) ||
      total > m->capacity) {
    slot_abort(m, s, odd);
    wunlock(m);
    return -MMF_ETOOBIG;
  }
  if ((r = reserve_keep(m, s, slot_off(m, s), total, have)) < 0) {
    slot_abort(m, s, odd);
    wunlock(m);
    return r;
  }
  uint8_t *dst = mmf__slot_data(m, s);
  if (old_len > have)
    memcpy(dst + have, mmf__slot_data(m, cur) + have, old_len - have);
  if (sep_len)
    memcpy(dst + old_len, sep, sep_len);
  if (len)
    memcpy(dst + old_len + sep_len, data, len);
  slot_close_and_publish(m, s, odd, total, seq + 1, chain);
  wunlock(m);
  return 0;
}

MMF_EXPORT int mmf_write(mmf_t *m, const void *data, size_t len) {
  if (!m || (!data && len))
    return -EINVAL;
  if (m->kind != MMF_KIND_MMF)
    return write_raw(m, 0, data, len);
  return publish(m, false, NULL, 0, data, len);
}

MMF_EXPORT int mmf_append(mmf_t *m, const void *data, size_t len,
                          const void *sep, size_t sep_len) {
  if (!m || (!data && len) || (!sep && sep_len))
    return -EINVAL;
  return publish(m, true, sep, sep_len, data, len);
}

MMF_EXPORT int mmf_write_at(mmf_t *m, size_t offset, const void *data,
                            size_t len) {
  if (!m || (!data && len))
    return -EINVAL;
  if (m->kind != MMF_KIND_MMF)
    return write_raw(m, offset, data, len);
  int r = writable_mmf(m);
  if (r < 0)
    return r;
  uint64_t end;
  if (__builtin_add_overflow((uint64_t)offset, (uint64_t)len, &end) ||
      end > m->capacity)
    return -MMF_ETOOBIG;
  unsigned s;
  uint64_t odd, st;
  if ((r = begin(m, 0, &s, &odd, &st)) < 0)
    return r;
  unsigned cur = s ^ 1;
  /* We hold the lock: the published slot cannot change under us. */
  uint64_t old_len =
      atomic_load_explicit(&m->hdr->slot[cur].len, memory_order_relaxed);
  if (old_len > m->capacity) {
    slot_abort(m, s, odd);
    wunlock(m);
    return -MMF_ECORRUPT;
  }
  uint64_t total = end > old_len ? end : old_len;
  if ((r = reserve(m, s, slot_off(m, s), total)) < 0) {
    slot_abort(m, s, odd);
    wunlock(m);
    return r;
  }
  uint8_t *dst = mmf__slot_data(m, s);
  const uint8_t *src = mmf__slot_data(m, cur);
  uint64_t head = offset < old_len ? offset : old_len;
  memcpy(dst, src, head);
  if (offset > old_len)
    memset(dst + old_len, 0, offset - old_len);
  if (len)
    memcpy(dst + offset, data, len);
  if (end < old_len)
    memcpy(dst + end, src + end, old_len - end);
  slot_close_and_publish(m, s, odd, total, state_seq(st) + 1,
                         state_seq(st) + 1);
  wunlock(m);
  return 0;
}

/* A loan's private words: the slot | 2 (so that a zeroed loan is not
 * one), and the odd gen it was opened with. */
MMF_EXPORT int mmf_write_begin(mmf_t *m, size_t size,
                               struct mmf_write_loan *ret) {
  if (!m || !ret)
    return -EINVAL;
  int r = writable_mmf(m);
  if (r < 0)
    return r;
  if (size > m->capacity)
    return -MMF_ETOOBIG;
  unsigned s;
  uint64_t odd, st;
  if ((r = begin(m, size, &s, &odd, &st)) < 0)
    return r;
  ret->data = mmf__slot_data(m, s);
  ret->size = size;
  ret->priv_[0] = s | 2;
  ret->priv_[1] = odd;
  return 0;
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

MMF_EXPORT int mmf_write_commit(mmf_t *m, struct mmf_write_loan *w,
                                size_t len) {
  if (!m || !w || len > w->size)
    return -EINVAL;
  int r = mmf__check_size(m, false);
  if (r < 0)
    return r;
  if (!loan_ok(m, w))
    return -EINVAL;
  unsigned s = (unsigned)(w->priv_[0] & 1);
  uint64_t st = atomic_load_explicit(&m->hdr->state, memory_order_acquire);
  slot_close_and_publish(m, s, w->priv_[1], len, state_seq(st) + 1,
                         state_seq(st) + 1);
  w->priv_[0] = w->priv_[1] = 0;
  wunlock(m);
  return 0;
}

MMF_EXPORT void mmf_write_abort(mmf_t *m, struct mmf_write_loan *w) {
  if (!m || !w || mmf__check_size(m, false) < 0 || !loan_ok(m, w))
    return;
  slot_abort(m, (unsigned)(w->priv_[0] & 1), w->priv_[1]);
  w->priv_[0] = w->priv_[1] = 0;
  wunlock(m);
}

/* ---- readers ---- */

/* One look at the published slot: 0 and its coordinates, -EAGAIN when a
 * writer is in the way, or -MMF_ECORRUPT.  A slot that `state` names is
 * never opened by an honest writer (writers fill the other one), so a busy
 * or mismatched slot while `state` stays the same is what a peer wrote, not
 * a race: reported at once.  `stable`: the caller holds the writers' lock,
 * so nothing can move at all. */
static inline int look(struct mmf *m, bool stable, unsigned *ret_s,
                       uint64_t *ret_gen, uint64_t *ret_len,
                       uint64_t *ret_seq) {
  struct mmf__hdr *h = m->hdr;
  uint64_t st = atomic_load_explicit(&h->state, memory_order_acquire);
  unsigned s = state_slot(st);
  struct mmf__slot *sl = &h->slot[s];
  uint64_t g = atomic_load_explicit(&sl->gen, memory_order_acquire);
  uint64_t len = atomic_load_explicit(&sl->len, memory_order_relaxed);
  uint64_t seq = atomic_load_explicit(&sl->seq, memory_order_relaxed);
  atomic_thread_fence(memory_order_acquire);
  if ((g & 1) || atomic_load_explicit(&sl->gen, memory_order_relaxed) != g ||
      seq != state_seq(st)) {
    /* The fence orders the loads above before the reload: what failed the
     * check is then as old as, or older than, the state we compare. */
    atomic_thread_fence(memory_order_acquire);
    if (stable || atomic_load_explicit(&h->state, memory_order_acquire) == st)
      return -MMF_ECORRUPT;
    return -EAGAIN;
  }
  if (len > m->capacity)
    return -MMF_ECORRUPT; /* closed and published, yet impossible */
  *ret_s = s;
  *ret_gen = g;
  *ret_len = len;
  *ret_seq = seq;
  return 0;
}

static bool still(struct mmf *m, unsigned s, uint64_t g) {
  atomic_thread_fence(memory_order_acquire);
  return atomic_load_explicit(&m->hdr->slot[s].gen, memory_order_relaxed) == g;
}

/* Copy the current content with `copy(ctx, src, len, seq)`, which returns 0,
 * or a negative code to stop with.  The copy is retried until whole. */
typedef int (*copy_fn)(void *ctx, const uint8_t *src, uint64_t len,
                       uint64_t seq);

static int copy_nothing(void *ctx, const uint8_t *src, uint64_t len,
                        uint64_t seq);
static int copy_since(void *ctx, const uint8_t *src, uint64_t len,
                      uint64_t seq);

/* After this many failed tries (a writer in the way, or a copy overtaken),
 * a handle that may write waits for the writers' lock and copies under it;
 * a read-only one backs off. */
static int backoff(struct mmf *m, unsigned tries, int64_t *deadline) {
  (void)m;
  if (!*deadline)
    *deadline = mmf__os_now_ms() + MMF_WRITE_LOCK_TIMEOUT_MS;
  else if (mmf__os_now_ms() > *deadline)
    return -MMF_ESTUCK;
  if (tries < 64)
    sched_yield();
  else
    nanosleep(&(struct timespec){.tv_nsec = 100000}, NULL);
  return 0;
}

static int snapshot(struct mmf *m, copy_fn copy, void *ctx) {
  int64_t deadline = 0;
  int r0 = mmf__check_size(m, false);
  if (r0 < 0)
    return r0;
  for (unsigned tries = 0;; tries++) {
    if (tries >= READ_TRIES && !m->readonly && m->id) {
      /* Writers keep overtaking: wait for the current one, then copy with
       * the lock held, which no writer can disturb. */
      unsigned s;
      uint64_t g, len, seq;
      int r = wlock(m);
      if (r < 0)
        return r;
      r = look(m, true, &s, &g, &len, &seq);
      if (r == 0)
        r = copy(ctx, mmf__slot_data(m, s), len, seq);
      wunlock(m);
      return r;
    }
    unsigned s;
    uint64_t g, len, seq;
    int r = look(m, false, &s, &g, &len, &seq);
    if (r == 0) {
      /* A follower copies only a tail: neither page tables for the whole
       * nor the large-copy escalation apply to it. */
      bool tail = copy == copy_since;
      if (copy != copy_nothing && !tail)
        populate(m, s, len);
      int c = copy(ctx, mmf__slot_data(m, s), len, seq);
      if (still(m, s, g))
        return c;
      /* A large copy overtaken is costly work lost: after two of them the
       * lock is cheaper than trying again (bounds a read's time). */
      if (!tail && len >= BIG_COPY && tries < READ_TRIES - 1)
        tries = tries < READ_TRIES / 2 ? READ_TRIES / 2 : READ_TRIES - 1;
    } else if (r != -EAGAIN) {
      return r;
    }
    if (tries < READ_TRIES) {
      mmf__cpu_relax();
      continue;
    }
    if ((r = backoff(m, tries, &deadline)) < 0)
      return r;
  }
}

struct buf_ctx {
  uint8_t *buf;
  size_t cap;
  size_t len;
  uint64_t seq;
};

static int copy_to_buf(void *vctx, const uint8_t *src, uint64_t len,
                       uint64_t seq) {
  struct buf_ctx *c = vctx;
  c->len = len;
  c->seq = seq;
  if (len > c->cap)
    return -ENOBUFS;
  if (len)
    memcpy(c->buf, src, len);
  return 0;
}

static int read_raw(struct mmf *m, void *buf, size_t cap, size_t *ret_len,
                    uint64_t *ret_seq) {
  /* Also for private maps: pages not yet copied still map the file. */
  int r = mmf__check_size(m, false);
  if (r < 0)
    return r;
  if (cap < m->map_len) {
    if (ret_len)
      *ret_len = m->map_len;
    return -ENOBUFS;
  }
  if (m->map_len)
    memcpy(buf, m->base, m->map_len);
  if (ret_len)
    *ret_len = m->map_len;
  if (ret_seq)
    *ret_seq = 0;
  return 0;
}

MMF_EXPORT int mmf_read(mmf_t *m, void *buf, size_t cap, size_t *ret_len,
                        uint64_t *ret_seq) {
  if (!m || (!buf && cap))
    return -EINVAL;
  if (m->kind != MMF_KIND_MMF)
    return read_raw(m, buf, cap, ret_len, ret_seq);
  struct buf_ctx c = {.buf = buf, .cap = cap};
  int r = snapshot(m, copy_to_buf, &c); /* checks the size */
  if (r == 0 || r == -ENOBUFS) {
    if (ret_len)
      *ret_len = c.len;
  }
  if (r == 0 && ret_seq)
    *ret_seq = c.seq;
  return r;
}

/* mmf_read_since: the current content from `from` on, if it extends the
 * content seen (whole otherwise). */
struct since_ctx {
  struct mmf *m;
  uint64_t seen_seq, seen_len;
  uint8_t *buf;
  size_t cap;
  size_t len;
  uint64_t seq;
  bool whole;
};

static int copy_since(void *vctx, const uint8_t *src, uint64_t len,
                      uint64_t seq) {
  struct since_ctx *c = vctx;
  /* Which slot this is, for its chain: checked with its gen afterwards. */
  unsigned s = src == mmf__slot_data(c->m, 1);
  uint64_t chain = slot_chain(&c->m->hdr->slot[s], seq);
  c->seq = seq;
  c->whole =
      !(chain <= c->seen_seq && c->seen_seq <= seq && c->seen_len <= len);
  uint64_t from = c->whole ? 0 : c->seen_len;
  c->len = len - from;
  if (c->len > c->cap)
    return -ENOBUFS;
  if (c->len)
    memcpy(c->buf, src + from, c->len);
  return 0;
}

MMF_EXPORT int mmf_read_since(mmf_t *m, uint64_t seq, size_t len, void *buf,
                              size_t cap, size_t *ret_len, uint64_t *ret_seq) {
  if (!m || (!buf && cap))
    return -EINVAL;
  if (m->kind != MMF_KIND_MMF)
    return -MMF_ERAW;
  struct since_ctx c = {
      .m = m, .seen_seq = seq, .seen_len = len, .buf = buf, .cap = cap};
  int r = snapshot(m, copy_since, &c); /* checks the size */
  if ((r == 0 || r == -ENOBUFS) && ret_len)
    *ret_len = c.len;
  if (r == 0 && ret_seq)
    *ret_seq = c.seq;
  return r == 0 && c.whole ? MMF_READ_WHOLE : r;
}

MMF_EXPORT int mmf_read_alloc(mmf_t *m, void **ret_data, size_t *ret_len,
                              uint64_t *ret_seq) {
  if (!m || !ret_data)
    return -EINVAL;
  size_t cap = 0;
  if (m->kind == MMF_KIND_MMF) {
    uint64_t len, seq;
    int r = mmf__content_peek(m, &len, &seq);
    if (r < 0)
      return r;
    cap = len;
  } else {
    cap = m->map_len;
  }
  for (unsigned rounds = 0;;) {
    void *buf = malloc(cap ? cap : 1);
    if (!buf)
      return -ENOMEM;
    /* Fresh pages one fault at a time cost more than the copy itself. */
    if (cap >= (1u << 20))
      mmf__os_prefault(buf, cap);
    size_t len = 0;
    uint64_t seq = 0;
    int r = mmf_read(m, buf, cap, &len, &seq);
    if (r == -ENOBUFS) {
      /* It grew between the peek and the copy; after a few rounds, room
       * for anything. */
      free(buf);
      cap = ++rounds < 3 ? len : m->capacity;
      continue;
    }
    if (r < 0) {
      free(buf);
      return r;
    }
    *ret_data = buf;
    if (ret_len)
      *ret_len = len;
    if (ret_seq)
      *ret_seq = seq;
    return 0;
  }
}

static int copy_nothing(void *ctx, const uint8_t *src, uint64_t len,
                        uint64_t seq) {
  (void)src;
  uint64_t *out = ctx;
  out[0] = len;
  out[1] = seq;
  return 0;
}

int mmf__content_peek(struct mmf *m, uint64_t *ret_len, uint64_t *ret_seq) {
  uint64_t out[2];
  int r = snapshot(m, copy_nothing, out);
  if (r < 0)
    return r;
  *ret_len = out[0];
  *ret_seq = out[1];
  return 0;
}

MMF_EXPORT int mmf_read_begin(mmf_t *m, struct mmf_read_view *ret) {
  if (!m || !ret)
    return -EINVAL;
  if (m->kind != MMF_KIND_MMF)
    return -MMF_ERAW;
  int r = mmf__check_size(m, false);
  if (r < 0)
    return r;
  int64_t deadline = 0;
  for (unsigned tries = 0;; tries++) {
    unsigned s;
    uint64_t g, len, seq;
    if (tries >= READ_TRIES && !m->readonly && m->id) {
      /* Overtaken again and again: look once with the lock held. */
      if ((r = wlock(m)) < 0)
        return r;
      r = look(m, true, &s, &g, &len, &seq);
      wunlock(m);
    } else {
      r = look(m, false, &s, &g, &len, &seq);
    }
    if (r == -EAGAIN) {
      if (tries >= READ_TRIES && (r = backoff(m, tries, &deadline)) < 0)
        return r;
      mmf__cpu_relax();
      continue;
    }
    if (r < 0)
      return r;
    populate(m, s, len);
    ret->data = mmf__slot_data(m, s);
    ret->len = len;
    ret->seq = seq;
    ret->priv_[0] = s;
    ret->priv_[1] = g;
    return 0;
  }
}

MMF_EXPORT int mmf_read_end(mmf_t *m, const struct mmf_read_view *v) {
  if (!m || !v || m->kind != MMF_KIND_MMF || v->priv_[0] > 1 ||
      v->data != mmf__slot_data(m, (unsigned)v->priv_[0]))
    return -EINVAL;
  if (atomic_load_explicit(&m->broken, memory_order_relaxed))
    return -MMF_ECORRUPT;
  return still(m, (unsigned)v->priv_[0], v->priv_[1]) ? 0 : -MMF_EOVERTAKEN;
}

/* ---- to and from file descriptors ---- */

MMF_EXPORT int mmf_write_fd(mmf_t *m, int fd, size_t len, size_t *ret_len) {
  if (!m || fd < 0)
    return -EINVAL;
  if (m->kind != MMF_KIND_MMF)
    return -MMF_ERAW;
  struct mmf_write_loan w;
  int r = mmf_write_begin(m, len, &w);
  if (r < 0)
    return r;
  size_t done = 0;
  r = mmf__os_copy_in(fd, m->fd, slot_off(m, (unsigned)(w.priv_[0] & 1)), len,
                      w.data, &done);
  if (r < 0) {
    mmf_write_abort(m, &w);
    return r;
  }
  if ((r = mmf_write_commit(m, &w, done)) < 0)
    return r;
  if (ret_len)
    *ret_len = done;
  return 0;
}

MMF_EXPORT int mmf_read_fd(mmf_t *m, int fd, size_t *ret_len,
                           uint64_t *ret_seq) {
  if (!m || fd < 0)
    return -EINVAL;
  if (m->kind != MMF_KIND_MMF)
    return -MMF_ERAW;
  int r = mmf__check_size(m, false);
  if (r < 0)
    return r;
  int64_t start;
  if (mmf__os_regular(fd, &start)) {
    /* The kernel copies from the map's file; if a writer overtook the
     * copy, cut the file back and copy again. */
    for (unsigned tries = 0; tries < READ_TRIES; tries++) {
      unsigned s;
      uint64_t g, len, seq;
      r = look(m, false, &s, &g, &len, &seq);
      if (r == -EAGAIN)
        continue;
      if (r < 0)
        return r;
      r = mmf__os_copy_out(m->fd, slot_off(m, s), fd, len);
      if (r == -EXDEV)
        break; /* not in the kernel here: copy through memory */
      if (r < 0)
        return r;
      if (still(m, s, g)) {
        if (ret_len)
          *ret_len = len;
        if (ret_seq)
          *ret_seq = seq;
        return 0;
      }
      if ((r = mmf__os_cut(fd, start)) < 0)
        return r;
    }
  }
  /* Into a pipe, a terminal, /dev/null: a snapshot the kernel makes (a
   * memfd filled from the map's file: no page faulted in here, which on
   * some machines costs more than the copy), checked whole, then sent. */
  for (unsigned tries = 0; tries < READ_TRIES; tries++) {
    unsigned s;
    uint64_t g, len, seq;
    r = look(m, false, &s, &g, &len, &seq);
    if (r == -EAGAIN)
      continue;
    if (r < 0)
      return r;
    int snap;
    r = mmf__os_snapshot(m->fd, slot_off(m, s), len, &snap);
    if (r == -EXDEV)
      break;
    if (r < 0)
      return r;
    if (!still(m, s, g)) {
      mmf__os_close(snap);
      continue;
    }
    r = mmf__os_send(snap, fd, len);
    mmf__os_close(snap);
    if (r == -EXDEV)
      break;
    if (r < 0)
      return r;
    if (ret_len)
      *ret_len = len;
    if (ret_seq)
      *ret_seq = seq;
    return 0;
  }
  void *data;
  size_t len;
  uint64_t seq;
  if ((r = mmf_read_alloc(m, &data, &len, &seq)) < 0)
    return r;
  r = mmf__os_write_all(fd, data, len);
  free(data);
  if (r < 0)
    return r;
  if (ret_len)
    *ret_len = len;
  if (ret_seq)
    *ret_seq = seq;
  return 0;
}
