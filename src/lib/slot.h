/* SPDX-License-Identifier: MIT */
/* The two content slots as readers and writers see them: the published
 * state word, where each slot lies, and one look at the published slot.
 * Inline: these are on the path of every read and write (publish.c,
 * read.c, fdio.c). */
#ifndef MMF_SLOT_H
#define MMF_SLOT_H

#include "internal.h"

#include <errno.h>

/* Optimistic tries of a reader (a writer in the way, or a copy overtaken);
 * past them, a handle that may write waits for the writers' lock and
 * copies under it, and one that may not backs off between tries. */
#define MMF__READ_TRIES 8

static inline uint64_t mmf__state_seq(uint64_t state) {
  return state >> 1;
}

static inline unsigned mmf__state_slot(uint64_t state) {
  return (unsigned)(state & 1);
}

static inline uint64_t mmf__slot_off(struct mmf *m, unsigned s) {
  return m->hdr_size + s * m->stride;
}

/* Slot s's chain start, if its content (seq, closed with gen) was
 * published with one; else seq itself (a chain of its own).  Read within a
 * window that the caller validates with gen, or under the writers' lock. */
static inline uint64_t mmf__slot_chain(const struct mmf__slot *sl, uint64_t seq,
                                       uint64_t gen) {
  uint64_t c = atomic_load_explicit(&sl->chain, memory_order_relaxed);
  uint64_t tag = atomic_load_explicit(&sl->tag, memory_order_relaxed);
  return tag == gen && c <= seq ? c : seq;
}

/* One look at the published slot: 0 and its coordinates, -EAGAIN when a
 * writer is in the way, or -MMF_ECORRUPT.  A slot that `state` names is
 * never opened by an honest writer (writers fill the other one), so a busy
 * or mismatched slot while `state` stays the same is what a peer wrote, not
 * a race: reported at once.  `stable`: the caller holds the writers' lock,
 * so nothing can move at all. */
static inline int mmf__slot_published(struct mmf *m, bool stable,
                                      unsigned *ret_s, uint64_t *ret_gen,
                                      uint64_t *ret_len, uint64_t *ret_seq) {
  struct mmf__hdr *h = m->hdr;
  uint64_t state = atomic_load_explicit(&h->state, memory_order_acquire);
  unsigned s = mmf__state_slot(state);
  struct mmf__slot *sl = &h->slot[s];
  uint64_t g = atomic_load_explicit(&sl->gen, memory_order_acquire);
  uint64_t len = atomic_load_explicit(&sl->len, memory_order_relaxed);
  uint64_t seq = atomic_load_explicit(&sl->seq, memory_order_relaxed);
  atomic_thread_fence(memory_order_acquire);
  if ((g & 1) || atomic_load_explicit(&sl->gen, memory_order_relaxed) != g ||
      seq != mmf__state_seq(state)) {
    /* The fence orders the loads above before the reload: what failed the
     * check is then as old as, or older than, the state we compare. */
    atomic_thread_fence(memory_order_acquire);
    if (stable ||
        atomic_load_explicit(&h->state, memory_order_acquire) == state)
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

/* Is slot s still at gen g, i.e. was a copy made meanwhile whole? */
static inline bool mmf__slot_unchanged(struct mmf *m, unsigned s, uint64_t g) {
  atomic_thread_fence(memory_order_acquire);
  return atomic_load_explicit(&m->hdr->slot[s].gen, memory_order_relaxed) == g;
}

#endif
