/* SPDX-License-Identifier: MIT */
/* Readers: copies of the published content (whole, or what was appended
 * since a content seen), and zero-copy read views.  A copy is kept only if
 * its slot's gen did not move meanwhile (slot.h); a handle that may write
 * and keeps being overtaken copies under the writers' lock instead. */
#include "internal.h"
#include "pin.h"
#include "slot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A handle whose views were overtaken this many times in a row pins the
 * map for its next one. */
#define VIEW_MISSES_PIN 2

/* Copies this large are worth more than one try each. */
#define BIG_COPY ((uint64_t)64 << 10)

/* Map the page tables of slot s up to len in one call, the first time this
 * handle reads that far (MADV_POPULATE_READ: a few per cent faster than
 * taking the read faults one page at a time).  Writers do not:
 * MADV_POPULATE_WRITE after fallocate was as fast as write faults at the median
 * but up to 10 times slower at times. */
static void populate_slow(struct mmf *m, unsigned s, uint64_t len) {
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

static inline void populate(struct mmf *m, unsigned s, uint64_t len) {
  if (len > atomic_load_explicit(&m->populated[s], memory_order_relaxed))
    populate_slow(m, s, len);
}

/* Is [0, len) of slot s backed by pages (no hole), so that touching it
 * through the mapping can neither fault in a new page nor SIGBUS on a
 * full store?  A length a peer wrote may cover pages no writer reserved.
 * What this handle reserved or once saw backed is trusted (one relaxed
 * load on the hot path); past it the kernel is asked (SEEK_HOLE). */
static bool slot_backed_slow(struct mmf *m, unsigned s, uint64_t len) {
  bool compact = mmf__compact(m);
  uint64_t off = mmf__slot_off(m, s), hole;
  if (mmf__os_first_hole(m->fd, off, &hole) < 0 || hole < off + len)
    return false;
  uint64_t have = hole - off < m->stride ? hole - off : m->stride;
  if (!compact)
    atomic_store_explicit(&m->backed[s], have, memory_order_relaxed);
  return true;
}

/* In a compact map every publication may punch the other slot: what was
 * seen backed before holds only until then, so the kernel is asked each
 * time (a copy costs far more than the lseek). */
static inline bool slot_backed(struct mmf *m, unsigned s, uint64_t len) {
  if (!mmf__compact(m) &&
      (len <= atomic_load_explicit(&m->backed[s], memory_order_relaxed) ||
       len <= atomic_load_explicit(&m->allocated[s], memory_order_relaxed)))
    return true;
  return slot_backed_slow(m, s, len);
}

/* Where a copy reads slot s from: the mapping where it is backed, else the
 * object through pread (holes read as zeros, never a fault, nothing
 * allocated). */
struct src {
  const uint8_t *p; /* NULL: pread from fd at off */
  int fd;
  uint64_t off;
  unsigned s;
  uint64_t gen; /* the slot's gen the copy is validated with */
  const _Atomic uint64_t *gen_now; /* where it may move meanwhile */
};

/* A copy overtaken stops at the next chunk: its bytes are thrown away
 * anyway, and a reader that starts again at once fits a writer's wait for
 * its pin (pin.c) rather than finishing a lost copy into it. */
#define COPY_CHUNK ((uint64_t)1 << 20)
/* fetch()'s "stopped: overtaken" (a copy function passes it on). */
#define OVERTAKEN 1

static int fetch_pread(const struct src *x, void *dst, uint64_t from,
                       uint64_t n) {
  size_t got;
  int r = mmf__os_pread(x->fd, dst, n, x->off + from, &got);
  if (r < 0)
    return r;
  if (got < n)
    memset((uint8_t *)dst + got, 0, n - got);
  return 0;
}

static inline int fetch_chunk(const struct src *x, uint8_t *dst, uint64_t from,
                              uint64_t n) {
  if (!x->p)
    return fetch_pread(x, dst, from, n);
  memcpy(dst, x->p + from, n);
  return 0;
}

static int fetch(const struct src *x, void *vdst, uint64_t from, uint64_t n) {
  uint8_t *dst = vdst;
  for (; n > COPY_CHUNK; n -= COPY_CHUNK) {
    int r = fetch_chunk(x, dst, from, COPY_CHUNK);
    if (r < 0)
      return r;
    if (atomic_load_explicit(x->gen_now, memory_order_relaxed) != x->gen)
      return OVERTAKEN;
    dst += COPY_CHUNK;
    from += COPY_CHUNK;
  }
  return fetch_chunk(x, dst, from, n);
}

static struct src slot_src(struct mmf *m, unsigned s, uint64_t gen,
                           uint64_t len) {
  struct src x = {.fd = m->fd,
                  .off = mmf__slot_off(m, s),
                  .s = s,
                  .gen = gen,
                  .gen_now = &m->hdr->slot[s].gen};
  if (slot_backed(m, s, len))
    x.p = mmf__slot_data(m, s);
  return x;
}

/* Copy the current content with `copy(ctx, src, len, seq)`, which returns 0,
 * or a negative code to stop with.  The copy is retried until whole. */
typedef int (*copy_fn)(void *ctx, const struct src *src, uint64_t len,
                       uint64_t seq);

static int copy_nothing(void *ctx, const struct src *src, uint64_t len,
                        uint64_t seq);

static int copy_since(void *ctx, const struct src *src, uint64_t len,
                      uint64_t seq);

/* Between tries past MMF__READ_TRIES, for a reader that cannot take the
 * writers' lock: yield at first, then sleep briefly (not while `pinned`:
 * writers wait for it then); -MMF_ESTUCK once the writers' lock timeout
 * has passed since the first call (*deadline 0), which only writers that
 * know no pins (older builds) or a peer that keeps writing can cause. */
static int backoff(unsigned tries, int64_t *deadline, bool pinned) {
  if (!*deadline)
    *deadline = mmf__os_now_ms() + MMF_WRITE_LOCK_TIMEOUT_MS;
  else if (mmf__os_now_ms() > *deadline)
    return -MMF_ESTUCK;
  if (pinned || tries < 64)
    mmf__os_yield();
  else
    mmf__os_sleep_us(100);
  return 0;
}

/* Pin the map (pin.c) once a reader that cannot lock has been overtaken
 * MMF__READ_TRIES times, or once in a copy of BIG_COPY bytes or more, until
 * the read returns; cancellation stays off while pinned, so that a
 * cancelled copy (pread is a cancellation point) cannot leave its pin. */
struct pin_scope {
  bool pinned;
  int cancel;
};

static void pin_scope_enter(struct mmf *m, struct pin_scope *p) {
  if (p->pinned)
    return;
  int c = mmf__os_cancel_off();
  if (mmf__pin(m) == 0) {
    p->pinned = true;
    p->cancel = c;
  } else {
    mmf__os_cancel_restore(c);
  }
}

static void pin_scope_leave(struct mmf *m, struct pin_scope *p) {
  if (!p->pinned)
    return;
  mmf__unpin(m);
  mmf__os_cancel_restore(p->cancel);
}

static int copy_tries(struct mmf *m, copy_fn copy, void *ctx,
                      struct pin_scope *pin) {
  int64_t deadline = 0;
  for (unsigned tries = 0;; tries++) {
    if (tries >= MMF__READ_TRIES && !m->readonly && (m->id || m->lost_id)) {
      /* Writers keep overtaking: wait for the current one, then copy with
       * the lock held, which no writer can disturb. */
      unsigned s;
      uint64_t g, len, seq;
      int c = mmf__os_cancel_off(); /* the copy may write(): see publish.c */
      int r = mmf__writers_lock(m);
      if (r == 0) {
        r = mmf__slot_published(m, true, &s, &g, &len, &seq);
        if (r == 0) {
          struct src x = slot_src(m, s, g, copy == copy_nothing ? 0 : len);
          r = copy(ctx, &x, len, seq);
          if (r == OVERTAKEN) /* a peer moved the gen of a locked slot */
            r = -MMF_ECORRUPT;
        }
        mmf__writers_unlock(m);
      }
      mmf__os_cancel_restore(c);
      return r;
    }
    unsigned s;
    uint64_t g, len, seq;
    int r = mmf__slot_published(m, false, &s, &g, &len, &seq);
    if (r == 0) {
      /* A follower copies only a tail: neither page tables for the whole
       * nor the large-copy escalation apply to it. */
      bool tail = copy == copy_since;
      struct src x = slot_src(m, s, g, copy == copy_nothing ? 0 : len);
      if (copy != copy_nothing && !tail && x.p)
        populate(m, s, len);
      int c = copy(ctx, &x, len, seq);
      if (c != OVERTAKEN && mmf__slot_unchanged(m, s, g))
        return c;
      /* A large copy overtaken is costly work lost: after two of them the
       * lock is cheaper than trying again (bounds a read's time). */
      if (!tail && len >= BIG_COPY && tries < MMF__READ_TRIES - 1)
        tries = tries < MMF__READ_TRIES / 2 ? MMF__READ_TRIES / 2
                                            : MMF__READ_TRIES - 1;
      /* One is enough to pin for a handle that cannot lock. */
      if (!tail && len >= BIG_COPY && (m->readonly || !(m->id || m->lost_id)))
        pin_scope_enter(m, pin);
    } else if (r != -EAGAIN) {
      return r;
    }
    if (tries < MMF__READ_TRIES) {
      mmf__cpu_relax();
      continue;
    }
    pin_scope_enter(m, pin);
    if ((r = backoff(tries, &deadline, pin->pinned)) < 0)
      return r;
  }
}

static int copy_content(struct mmf *m, copy_fn copy, void *ctx) {
  int r = mmf__check_size(m, false);
  if (r < 0)
    return r;
  struct pin_scope pin = {0};
  r = copy_tries(m, copy, ctx, &pin);
  pin_scope_leave(m, &pin);
  return r;
}

struct buf_ctx {
  uint8_t *buf;
  size_t cap;
  size_t len;
  uint64_t seq;
};

static int copy_to_buf(void *vctx, const struct src *src, uint64_t len,
                       uint64_t seq) {
  struct buf_ctx *c = vctx;
  c->len = len;
  c->seq = seq;
  if (len > c->cap)
    return -ENOBUFS;
  return len ? fetch(src, c->buf, 0, len) : 0;
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
  int r = copy_content(m, copy_to_buf, &c); /* checks the size */
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

static int copy_since(void *vctx, const struct src *src, uint64_t len,
                      uint64_t seq) {
  struct since_ctx *c = vctx;
  /* Which slot this is, for its chain: checked with its gen afterwards,
   * and counted only if written with that gen. */
  unsigned s = src->s;
  uint64_t chain = mmf__slot_chain(&c->m->hdr->slot[s], seq, src->gen);
  c->seq = seq;
  c->whole =
      !(chain <= c->seen_seq && c->seen_seq <= seq && c->seen_len <= len);
  uint64_t from = c->whole ? 0 : c->seen_len;
  c->len = len - from;
  if (c->len > c->cap)
    return -ENOBUFS;
  return c->len ? fetch(src, c->buf, from, c->len) : 0;
}

MMF_EXPORT int mmf_read_since(mmf_t *m, uint64_t seq, size_t len, void *buf,
                              size_t cap, size_t *ret_len, uint64_t *ret_seq) {
  if (!m || (!buf && cap))
    return -EINVAL;
  if (m->kind != MMF_KIND_MMF)
    return -MMF_ERAW;
  struct since_ctx c = {
      .m = m, .seen_seq = seq, .seen_len = len, .buf = buf, .cap = cap};
  int r = copy_content(m, copy_since, &c); /* checks the size */
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
  /* Room for what the content needs and some slack for a steady appender;
   * overtaken by a longer content, try again with its length and twice the
   * slack.  Never the capacity for its own sake: a map may be far larger
   * than what it holds. */
  size_t slack = 64u << 10;
  for (;;) {
    size_t room = cap;
    if (m->kind == MMF_KIND_MMF) {
      size_t extra = slack > cap / 8 + 4096 ? cap / 8 + 4096 : slack;
      room = extra > m->capacity - cap ? m->capacity : cap + extra;
    }
    void *buf = malloc(room ? room : 1);
    if (!buf)
      return -ENOMEM;
    /* Fresh pages one fault at a time cost more than the copy itself; the
     * slack is left untouched (never faulted in unless used). */
    if (cap >= (1u << 20))
      mmf__os_prefault(buf, cap);
    size_t len = 0;
    uint64_t seq = 0;
    int r = mmf_read(m, buf, room, &len, &seq);
    if (r == -ENOBUFS) {
      free(buf);
      cap = len;
      slack = slack > SIZE_MAX / 4 ? slack : slack * 2;
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

static int copy_nothing(void *ctx, const struct src *src, uint64_t len,
                        uint64_t seq) {
  (void)src;
  uint64_t *out = ctx;
  out[0] = len;
  out[1] = seq;
  return 0;
}

int mmf__content_peek(struct mmf *m, uint64_t *ret_len, uint64_t *ret_seq) {
  uint64_t out[2];
  int r = copy_content(m, copy_nothing, out);
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
  /* Views overtaken again and again: this one pins the map until its
   * mmf_read_end (a view outlives any lock, so writable handles too). */
  bool pin = atomic_load_explicit(&m->view_misses, memory_order_relaxed) >=
                 VIEW_MISSES_PIN &&
             mmf__pin(m) == 0;
  int64_t deadline = 0;
  for (unsigned tries = 0;; tries++) {
    unsigned s;
    uint64_t g, len, seq;
    if (tries >= MMF__READ_TRIES && !m->readonly && (m->id || m->lost_id)) {
      /* Overtaken again and again: look once with the lock held. */
      if ((r = mmf__writers_lock(m)) < 0)
        break;
      r = mmf__slot_published(m, true, &s, &g, &len, &seq);
      mmf__writers_unlock(m);
    } else {
      r = mmf__slot_published(m, false, &s, &g, &len, &seq);
    }
    if (r == -EAGAIN) {
      if (tries >= MMF__READ_TRIES && !pin)
        pin = mmf__pin(m) == 0;
      if (tries >= MMF__READ_TRIES && (r = backoff(tries, &deadline, pin)) < 0)
        break;
      mmf__cpu_relax();
      continue;
    }
    if (r < 0)
      break;
    /* A view trusts the length (mmf.h says so), but filling page tables
     * over holes would allocate them: only where backed. */
    if (slot_backed(m, s, len))
      populate(m, s, len);
    ret->data = mmf__slot_data(m, s);
    ret->len = len;
    ret->seq = seq;
    ret->priv_[0] = s | (pin ? 2u : 0u);
    ret->priv_[1] = g;
    return 0;
  }
  if (pin)
    mmf__unpin(m);
  return r;
}

/* A view's priv_[0]: its slot, | 2 when it pins the map. */
MMF_EXPORT int mmf_read_end(mmf_t *m, const struct mmf_read_view *v) {
  if (!m || !v || m->kind != MMF_KIND_MMF || v->priv_[0] > 3 ||
      v->data != mmf__slot_data(m, (unsigned)(v->priv_[0] & 1)))
    return -EINVAL;
  bool whole = mmf__slot_unchanged(m, (unsigned)(v->priv_[0] & 1), v->priv_[1]);
  if (v->priv_[0] & 2)
    mmf__unpin(m);
  if (atomic_load_explicit(&m->broken, memory_order_relaxed))
    return -MMF_ECORRUPT;
  unsigned misses = atomic_load_explicit(&m->view_misses, memory_order_relaxed);
  if (whole) {
    if (misses)
      atomic_store_explicit(&m->view_misses, 0, memory_order_relaxed);
    return 0;
  }
  if (misses < VIEW_MISSES_PIN)
    atomic_store_explicit(&m->view_misses, misses + 1, memory_order_relaxed);
  return -MMF_EOVERTAKEN;
}
