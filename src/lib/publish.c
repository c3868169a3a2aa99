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
/* No honest map gets near this many writes; a peer may claim it. */
#define SEQ_MAX ((uint64_t)1 << 62)

static inline uint64_t state_seq(uint64_t st) {
  return st >> 1;
}
static inline unsigned state_slot(uint64_t st) {
  return (unsigned)(st & 1);
}

int mmf__check_size(struct mmf *m, bool always) {
  /* rdtsc was measured too: it traps in this VM and costs more. */
  int64_t now = mmf__os_coarse_ms();
  if (!always &&
      atomic_load_explicit(&m->size_checked, memory_order_relaxed) == now)
    return 0;
  struct stat st;
  int r = mmf__os_fstat(m->fd, &st);
  if (r < 0)
    return r;
  if ((uint64_t)st.st_size < m->map_len)
    return -MMF_ECORRUPT; /* a peer shrank it: touching the tail would fault */
  atomic_store_explicit(&m->size_checked, now, memory_order_relaxed);
  return 0;
}

/* Map the page tables of slot s up to len in one call, the first time this
 * handle reads that far (MADV_POPULATE_READ: ~5% faster than read faults
 * here).  Writers do not: MADV_POPULATE_WRITE after fallocate was as fast
 * as write faults at the median but up to 10 times slower at times. */
static void populate(struct mmf *m, unsigned s, uint64_t len) {
  if (m->no_populate || len <= m->populated[s])
    return;
  uint8_t *p = mmf__slot_data(m, s) + m->populated[s];
  int r = mmf__os_populate(p, len - m->populated[s], false);
  if (r == -EINVAL || r == -ENOSYS)
    m->no_populate = true;
  else if (r == 0)
    m->populated[s] = len;
}

/* ---- writers ---- */

static int wlock(struct mmf *m) {
  struct mmf__hdr *h = m->hdr;
  int r = mmf__lock_acquire(&h->wlock, MMF_WRITE_LOCK_TIMEOUT_MS);
  if (r == -ETIMEDOUT)
    return -MMF_ESTUCK;
  if (r == MMF_LOCK_ABANDONED) {
    /* The dead writer may have published without updating the futex word
     * or waking the waiters: do both now. */
    uint64_t st = atomic_load_explicit(&h->state, memory_order_acquire);
    atomic_store(&h->seq32, (uint32_t)state_seq(st));
    mmf__os_futex_wake(&h->seq32, 0x7fffffff);
    r = 0;
  }
  return r;
}

static void wunlock(struct mmf *m) {
  (void)mmf__lock_release(&m->hdr->wlock);
}

/* Make sure the first `len` bytes of slot `s` have pages behind them. */
static int reserve(struct mmf *m, unsigned s, uint64_t len) {
  if (m->no_reserve || len <= m->reserved[s])
    return 0;
  uint64_t off = MMF__HDR_SIZE + s * m->stride;
  uint64_t end = (len + MMF__PAGE - 1) & ~(uint64_t)(MMF__PAGE - 1);
  int r = mmf__os_reserve(m->fd, off + m->reserved[s], end - m->reserved[s]);
  if (r == -EOPNOTSUPP || r == -ENOSYS) {
    m->no_reserve = true;
    return 0;
  }
  if (r < 0)
    return r;
  m->reserved[s] = end;
  return 0;
}

/* Mark slot s busy; returns the odd gen to close it with. */
static uint64_t slot_open(struct mmf__slot *sl) {
  uint64_t g = atomic_load_explicit(&sl->gen, memory_order_relaxed);
  /* A dead writer may have left it odd: step to the next odd value. */
  uint64_t odd = (g | 1) + ((g & 1) ? 2 : 0);
  atomic_store_explicit(&sl->gen, odd, memory_order_relaxed);
  atomic_thread_fence(memory_order_release);
  return odd;
}

static void slot_close_and_publish(struct mmf *m, unsigned s, uint64_t odd,
                                   uint64_t len, uint64_t seq) {
  struct mmf__hdr *h = m->hdr;
  struct mmf__slot *sl = &h->slot[s];
  atomic_store_explicit(&sl->len, len, memory_order_relaxed);
  atomic_store_explicit(&sl->seq, seq, memory_order_relaxed);
  atomic_store_explicit(&sl->gen, odd + 1, memory_order_release);
  atomic_store_explicit(&h->state, seq << 1 | s, memory_order_release);
  /* Dekker with mmf_wait: the seq store, then the waiters load. */
  atomic_store_explicit(&h->seq32, (uint32_t)seq, memory_order_seq_cst);
  if (atomic_load_explicit(&h->waiters, memory_order_seq_cst) || m->wake_all)
    mmf__os_futex_wake(&h->seq32, 0x7fffffff);
}

static int writable_mmf(struct mmf *m) {
  if (m->kind != MMF_KIND_MMF)
    return -MMF_ERAW;
  if (m->readonly)
    return -MMF_EREADONLY;
  return 0;
}

static int write_raw(struct mmf *m, const void *data, size_t len) {
  if (m->readonly)
    return -MMF_EREADONLY;
  if (len > m->map_len)
    return -MMF_ETOOBIG;
  if (m->kind == MMF_KIND_RAW || !m->priv) {
    int r = mmf__check_size(m, false);
    if (r < 0)
      return r;
  }
  if (len)
    memcpy(m->base, data, len);
  return 0;
}

/* Fill the unpublished slot with prefix (the current content, or nothing),
 * sep and data, and publish it. */
static int publish(struct mmf *m, bool keep, const void *sep, size_t sep_len,
                   const void *data, size_t len) {
  int r = writable_mmf(m);
  if (r < 0)
    return r;
  if (len > m->capacity)
    return -MMF_ETOOBIG;
  if ((r = mmf__check_size(m, false)) < 0)
    return r;
  if ((r = wlock(m)) < 0)
    return r;
  struct mmf__hdr *h = m->hdr;
  uint64_t st = atomic_load_explicit(&h->state, memory_order_acquire);
  unsigned cur = state_slot(st), s = cur ^ 1;
  if (state_seq(st) >= SEQ_MAX) {
    wunlock(m);
    return -MMF_ECORRUPT;
  }
  uint64_t old_len = 0;
  if (keep) {
    /* We hold the lock: the published slot cannot change under us. */
    old_len = atomic_load_explicit(&h->slot[cur].len, memory_order_relaxed);
    if (old_len > m->capacity) {
      wunlock(m);
      return -MMF_ECORRUPT;
    }
    if (old_len == 0)
      sep_len = 0;
  } else {
    sep_len = 0;
  }
  uint64_t total = old_len + sep_len + len;
  if (sep_len + len < len || total > m->capacity) {
    wunlock(m);
    return -MMF_ETOOBIG;
  }
  if (total > m->reserved[s] && (r = reserve(m, s, total)) < 0) {
    wunlock(m);
    return r;
  }
  uint64_t odd = slot_open(&h->slot[s]);
  uint8_t *dst = mmf__slot_data(m, s);
  if (old_len)
    memcpy(dst, mmf__slot_data(m, cur), old_len);
  if (sep_len)
    memcpy(dst + old_len, sep, sep_len);
  if (len)
    memcpy(dst + old_len + sep_len, data, len);
  slot_close_and_publish(m, s, odd, total, state_seq(st) + 1);
  wunlock(m);
  return 0;
}

MMF_EXPORT int mmf_write(mmf_t *m, const void *data, size_t len) {
  if (!m || (!data && len))
    return -EINVAL;
  if (m->kind != MMF_KIND_MMF)
    return write_raw(m, data, len);
  return publish(m, false, NULL, 0, data, len);
}

MMF_EXPORT int mmf_append(mmf_t *m, const void *data, size_t len,
                          const void *sep, size_t sep_len) {
  if (!m || (!data && len) || (!sep && sep_len))
    return -EINVAL;
  return publish(m, true, sep, sep_len, data, len);
}

MMF_EXPORT int mmf_write_begin(mmf_t *m, size_t size, void **ret_ptr) {
  if (!m || !ret_ptr)
    return -EINVAL;
  int r = writable_mmf(m);
  if (r < 0)
    return r;
  if (size > m->capacity)
    return -MMF_ETOOBIG;
  if (m->writing)
    return -EBUSY;
  if ((r = mmf__check_size(m, false)) < 0)
    return r;
  if ((r = wlock(m)) < 0)
    return r;
  uint64_t st = atomic_load_explicit(&m->hdr->state, memory_order_acquire);
  unsigned s = state_slot(st) ^ 1;
  if (state_seq(st) >= SEQ_MAX) {
    wunlock(m);
    return -MMF_ECORRUPT;
  }
  if ((r = reserve(m, s, size)) < 0) {
    wunlock(m);
    return r;
  }
  m->wslot = s;
  m->wsize = size;
  m->wgen = slot_open(&m->hdr->slot[s]);
  m->writing = true;
  *ret_ptr = mmf__slot_data(m, s);
  return 0;
}

MMF_EXPORT int mmf_write_commit(mmf_t *m, size_t len) {
  if (!m || !m->writing || len > m->wsize)
    return -EINVAL;
  uint64_t st = atomic_load_explicit(&m->hdr->state, memory_order_acquire);
  slot_close_and_publish(m, m->wslot, m->wgen, len, state_seq(st) + 1);
  m->writing = false;
  wunlock(m);
  return 0;
}

MMF_EXPORT void mmf_write_abort(mmf_t *m) {
  if (!m || !m->writing)
    return;
  /* Close the slot unpublished; its bytes are garbage nobody points to. */
  atomic_store_explicit(&m->hdr->slot[m->wslot].gen, m->wgen + 1,
                        memory_order_release);
  m->writing = false;
  wunlock(m);
}

/* ---- readers ---- */

/* One look at the published slot: 0 and its coordinates, -EAGAIN when a
 * writer is in the way, or -MMF_ECORRUPT.  `stable`: the caller holds the
 * writers' lock, so nothing moves, and a busy or mismatched slot is what a
 * peer wrote, not a race. */
static inline int look(struct mmf *m, bool stable, unsigned *ret_s,
                       uint64_t *ret_gen, uint64_t *ret_len,
                       uint64_t *ret_seq) {
  struct mmf__hdr *h = m->hdr;
  int busy = stable ? -MMF_ECORRUPT : -EAGAIN;
  uint64_t st = atomic_load_explicit(&h->state, memory_order_acquire);
  unsigned s = state_slot(st);
  struct mmf__slot *sl = &h->slot[s];
  uint64_t g = atomic_load_explicit(&sl->gen, memory_order_acquire);
  if (g & 1)
    return busy;
  uint64_t len = atomic_load_explicit(&sl->len, memory_order_relaxed);
  uint64_t seq = atomic_load_explicit(&sl->seq, memory_order_relaxed);
  atomic_thread_fence(memory_order_acquire);
  if (atomic_load_explicit(&sl->gen, memory_order_relaxed) != g ||
      seq != state_seq(st))
    return busy;
  if (len > m->capacity)
    return -MMF_ECORRUPT; /* stable and impossible: a peer wrote it */
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

static int snapshot(struct mmf *m, copy_fn copy, void *ctx) {
  int64_t deadline = 0;
  for (unsigned tries = 0;; tries++) {
    unsigned s;
    uint64_t g, len, seq;
    int r = look(m, false, &s, &g, &len, &seq);
    if (r == 0) {
      if (copy != copy_nothing)
        if (len > m->populated[s])
          populate(m, s, len);
      int c = copy(ctx, mmf__slot_data(m, s), len, seq);
      if (still(m, s, g))
        return c;
      continue;
    }
    if (r != -EAGAIN)
      return r;
    if (tries < READ_TRIES) {
      mmf__cpu_relax();
      continue;
    }
    if (!m->readonly) {
      /* Writers keep overtaking: wait for the current one, then copy with
       * the lock held, which no writer can disturb. */
      if ((r = wlock(m)) < 0)
        return r;
      r = look(m, true, &s, &g, &len, &seq);
      if (r == 0)
        r = copy(ctx, mmf__slot_data(m, s), len, seq);
      wunlock(m);
      return r;
    }
    /* A read-only handle cannot take the lock: back off, within a bound. */
    if (!deadline)
      deadline = mmf__os_now_ms() + MMF_WRITE_LOCK_TIMEOUT_MS;
    else if (mmf__os_now_ms() > deadline)
      return -MMF_ESTUCK;
    if (tries < 64)
      sched_yield();
    else
      nanosleep(&(struct timespec){.tv_nsec = 100000}, NULL);
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
  if (m->kind == MMF_KIND_RAW || !m->priv) {
    int r = mmf__check_size(m, false);
    if (r < 0)
      return r;
  }
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
  int r = mmf__check_size(m, false);
  if (r < 0)
    return r;
  struct buf_ctx c = {.buf = buf, .cap = cap};
  r = snapshot(m, copy_to_buf, &c);
  if (r == 0 || r == -ENOBUFS) {
    if (ret_len)
      *ret_len = c.len;
  }
  if (r == 0 && ret_seq)
    *ret_seq = c.seq;
  return r;
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
  for (;;) {
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
      /* It grew between the peek and the copy. */
      free(buf);
      cap = len;
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

MMF_EXPORT int mmf_read_begin(mmf_t *m, const void **ret_ptr, size_t *ret_len,
                              uint64_t *ret_seq) {
  if (!m || !ret_ptr)
    return -EINVAL;
  if (m->kind != MMF_KIND_MMF)
    return -MMF_ERAW;
  int64_t deadline = 0;
  for (unsigned tries = 0;; tries++) {
    unsigned s;
    uint64_t g, len, seq;
    int r = look(m, false, &s, &g, &len, &seq);
    if (r == -EAGAIN && tries >= READ_TRIES && !m->readonly) {
      /* Overtaken again and again: look once with the lock held. */
      if ((r = wlock(m)) < 0)
        return r;
      r = look(m, true, &s, &g, &len, &seq);
      wunlock(m);
    }
    if (r == -EAGAIN) {
      /* A read-only handle: only a peer that keeps the published slot busy
       * (it must not) can hold it here for long. */
      if (tries > 1000) {
        if (!deadline)
          deadline = mmf__os_now_ms() + MMF_WRITE_LOCK_TIMEOUT_MS;
        else if (mmf__os_now_ms() > deadline)
          return -MMF_ESTUCK;
        sched_yield();
      }
      mmf__cpu_relax();
      continue;
    }
    if (r < 0)
      return r;
    populate(m, s, len);
    m->rslot = s;
    m->rgen = g;
    *ret_ptr = mmf__slot_data(m, s);
    if (ret_len)
      *ret_len = len;
    if (ret_seq)
      *ret_seq = seq;
    return 0;
  }
}

MMF_EXPORT int mmf_read_end(mmf_t *m) {
  if (!m || m->kind != MMF_KIND_MMF)
    return -EINVAL;
  return still(m, m->rslot, m->rgen) ? 0 : -MMF_EOVERTAKEN;
}

/* ---- to and from file descriptors ---- */

MMF_EXPORT int mmf_write_fd(mmf_t *m, int fd, size_t len, size_t *ret_len) {
  if (!m || fd < 0)
    return -EINVAL;
  if (m->kind != MMF_KIND_MMF)
    return -MMF_ERAW;
  void *p;
  int r = mmf_write_begin(m, len, &p);
  if (r < 0)
    return r;
  size_t done = 0;
  r = mmf__os_copy_in(fd, m->fd, MMF__HDR_SIZE + m->wslot * m->stride, len, p,
                      &done);
  if (r < 0) {
    mmf_write_abort(m);
    return r;
  }
  if ((r = mmf_write_commit(m, done)) < 0)
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
      r = mmf__os_copy_out(m->fd, MMF__HDR_SIZE + s * m->stride, fd, len);
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
