/* SPDX-License-Identifier: MIT */
/* The slots' storage (reserve.c), with the writers' inline fast path. */
#ifndef MMF_RESERVE_H
#define MMF_RESERVE_H

#include "internal.h"

/* Allocate the first `len` bytes at `off` (slot s, or the raw object for
 * s == 0 of a raw map): 0, -ENOSPC, or -EOPNOTSUPP where the file system
 * has no fallocate. */
int mmf__allocate(struct mmf *m, unsigned s, uint64_t off, uint64_t len);
/* mmf__reserve_after() past the hot path. */
int mmf__reserve_slow(struct mmf *m, unsigned s, uint64_t off, uint64_t end,
                      uint64_t valid);
/* Allocate the whole pages of [0, len) of the open slot s at `off`, whose
 * first `valid` bytes a writer keeps (they hold what a writer stored, so
 * they have their storage); without fallocate, the rest is zero-filled.
 * A range this handle already reserved costs one load. */
static inline int mmf__reserve_after(struct mmf *m, unsigned s, uint64_t off,
                                     uint64_t len, uint64_t valid) {
  uint64_t end = (len + m->hdr_size - 1) & ~(m->hdr_size - 1);
  if (end <= atomic_load_explicit(&m->allocated[s], memory_order_relaxed))
    return 0;
  return mmf__reserve_slow(m, s, off, end, valid);
}
static inline int mmf__reserve(struct mmf *m, unsigned s, uint64_t off,
                               uint64_t len) {
  return mmf__reserve_after(m, s, off, len, 0);
}
/* MMF_COMPACT: give back the whole of the open slot s. */
void mmf__slot_punch(struct mmf *m, unsigned s);

#endif
