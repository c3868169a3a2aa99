/* SPDX-License-Identifier: MIT */
/* The slots' storage: pages allocated before a writer stores into them (so
 * that a full store is -ENOSPC, not a SIGBUS in memcpy), what each handle
 * remembers of them, and pages given back (compact maps, unused stream
 * reservations).  Callers hold the writers' lock and the slot open. */
#include "reserve.h"
#include "internal.h"
#include "slot.h"

#include <errno.h>

/* Allocate storage for the first `len` bytes at `off` (slot s, or the raw
 * object for s == 0 of a raw map) before storing into them, so that a full
 * file system is an -ENOSPC here and not a SIGBUS in memcpy: 0, or
 * -EOPNOTSUPP where the file system has no fallocate.  The first `written`
 * bytes hold what a writer stored there before (stored bytes have their
 * storage): only the rest is allocated, so that a fresh handle's append
 * costs what it appends, not the content's size. */
static int allocate_slow(struct mmf *m, unsigned s, uint64_t off, uint64_t len,
                         uint64_t written) {
  uint64_t done = atomic_load_explicit(&m->allocated[s], memory_order_relaxed);
  uint64_t page = mmf__os_page_size();
  written &= ~(page - 1);
  if (written > done && written <= len)
    done = written;
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
    atomic_store_explicit(&m->allocated[s], len, memory_order_relaxed);
  return r;
}

int mmf__allocate(struct mmf *m, unsigned s, uint64_t off, uint64_t len) {
  /* A range this handle already allocated costs one load. */
  if (len <= atomic_load_explicit(&m->allocated[s], memory_order_relaxed))
    return 0;
  return allocate_slow(m, s, off, len, 0);
}

/* allocate() whole pages of an unpublished slot; where there is no
 * fallocate, zeros are written instead, past its first `valid` bytes (which
 * a fast append keeps, and which being written are allocated): the rest
 * holds nothing anyone reads (the caller holds the writers' lock). */
int mmf__reserve_slow(struct mmf *m, unsigned s, uint64_t off, uint64_t end,
                      uint64_t valid) {
  int r = allocate_slow(m, s, off, end, valid);
  if (r == -EOPNOTSUPP) {
    uint64_t done =
        atomic_load_explicit(&m->allocated[s], memory_order_relaxed);
    if (done < valid)
      done = valid < end ? valid : end;
    r = mmf__os_zero_fill(m->fd, off + done, end - done);
    if (r == 0)
      atomic_store_explicit(&m->allocated[s], end, memory_order_relaxed);
  }
  return r;
}

/* MMF_COMPACT: give back the storage of slot s, which the caller holds
 * open (gen odd, seq invalid) under the writers' lock.  The whole slot, not
 * only its last length: an aborted loan, a write that failed after copying,
 * a loan committed shorter or a killed writer leave pages past it. */
void mmf__slot_punch(struct mmf *m, unsigned s) {
  (void)mmf__os_release_data(m->fd, mmf__slot_off(m, s), m->stride);
  atomic_store_explicit(&m->allocated[s], 0, memory_order_relaxed);
}

int mmf__slot_reserve(struct mmf *m, unsigned s, uint64_t len) {
  return mmf__reserve(m, s, mmf__slot_off(m, s),
                      len < m->capacity ? len : m->capacity);
}

void mmf__slot_give_back(struct mmf *m, unsigned s, uint64_t from,
                         uint64_t to) {
  uint64_t page = mmf__os_page_size();
  from = (from + page - 1) & ~(page - 1);
  if (from >= to ||
      mmf__os_release(m->fd, mmf__slot_off(m, s) + from, to - from) < 0)
    return;
  if (atomic_load_explicit(&m->allocated[s], memory_order_relaxed) > from)
    atomic_store_explicit(&m->allocated[s], from, memory_order_relaxed);
}
