/* SPDX-License-Identifier: MIT */
/* Cross-process locks that survive their holder.
 *
 * A lock word holds the id of the handle that holds it.  Each handle keeps
 * the kernel's open-file-description lock on its id's byte of the object
 * (holders.c), which the kernel drops when the handle's descriptor closes
 * or its process dies, in any PID namespace and whatever /proc shows.  A
 * locker that finds the word taken asks the kernel (F_OFD_GETLK) whether
 * that byte is still held, only on the slow path: a handle that is gone is
 * taken over at once (MMF_LOCK_ABANDONED).  Ids are never reused while
 * held, so no pid or tid reuse can make a live holder look dead.  Sleepers
 * use a futex on the word, in slices, so that a holder that dies while they
 * sleep is noticed too. */
#include "internal.h"

#include <errno.h>
#include <pthread.h>

/* Longest sleep before asking again whether the holder lives. */
#define SLICE_MAX_MS 50
/* How long a lock handed to a woken sleeper waits for it: many times a
 * futex wake-up's latency (tens of microseconds); a sleeper that never
 * comes (killed) costs others this. */
#define HANDOFF_GRACE_NS 2000000

bool mmf__id_alive(struct mmf *m, uint32_t id) {
  if (id == m->id)
    return true; /* this handle: another thread of ours holds it */
  /* Only a write lock there counts: handles that may write hold theirs
   * with one, which a reader of the object cannot forge. */
  int r = mmf__os_range_probe(m->fd, MMF__ID_BASE + id, 1, true, NULL);
  /* A probe that fails says nothing: count the holder alive, as waiting
   * (bounded) is safer than breaking into a lock. */
  return r != 0;
}

int mmf__lock_acquire(struct mmf *m, _Atomic uint32_t *l, int timeout_ms,
                      bool same_handle_waits) {
  uint32_t me = m->id;
  if (!me && atomic_load(&m->lost_id)) {
    /* A forked child's copy of the handle: an id of its own first (under
     * holders.c's mutex, across open(): not to be cancelled there). */
    int c = mmf__os_cancel_off();
    int r = mmf__holders_rejoin(m);
    mmf__os_cancel_restore(c);
    if (r < 0)
      return r;
    me = m->id;
  }
  if (!me)
    return -EPERM;      /* a handle that only looks (mmf_info) holds no id */
  int64_t deadline = 0; /* set when first needed: not on the fast path */
  /* After sleeping we cannot know whether others sleep too: keep the
   * WAITERS bit when taking it, so our release wakes them. */
  uint32_t contended = 0;
  int slice = 1;
  int spins = 0;
  int64_t handoff_seen = 0;

  for (;;) {
    uint32_t v = 0;
    if (atomic_compare_exchange_strong_explicit(
            l, &v, me | contended, memory_order_acquire, memory_order_relaxed))
      return 0;
    uint32_t owner = v & MMF__ID_MASK;
    if (!(v & MMF__LOCK_HANDOFF) || owner)
      handoff_seen = 0; /* each mark gets its own grace */
    if (!owner && (v & MMF__LOCK_HANDOFF)) {
      /* Handed to a woken sleeper: ours if we slept, else theirs for a
       * moment (a peer could leave the mark: it expires). */
      int64_t now = contended ? 0 : mmf__os_now_ns();
      if (!contended && !handoff_seen)
        handoff_seen = now;
      if (contended || now - handoff_seen > HANDOFF_GRACE_NS) {
        /* A mark nobody came for (its sleeper is slow or died, or a peer
         * wrote it) is still a free lock: nobody held it. */
        if (atomic_compare_exchange_strong_explicit(
                l, &v, me | MMF__LOCK_WAITERS, memory_order_acquire,
                memory_order_relaxed))
          return 0;
        continue;
      }
      mmf__os_yield();
      continue;
    }
    if (owner == me && !same_handle_waits)
      return -EDEADLK;
    /* A short holder (a writer's copy) is usually gone within microseconds;
     * spin a little before asking the kernel and sleeping. */
    if (spins < 100) {
      spins++;
      if (spins % 16 == 0)
        mmf__os_yield();
      else
        mmf__cpu_relax();
      continue;
    }
    if (!owner || !mmf__id_alive(m, owner)) {
      /* Gone, or garbage a peer wrote (no handle holds that id). */
      uint32_t keep = v & MMF__LOCK_WAITERS;
      if (atomic_compare_exchange_strong_explicit(
              l, &v, me | keep, memory_order_acquire, memory_order_relaxed))
        return MMF_LOCK_ABANDONED;
      continue;
    }
    if (!(v & MMF__LOCK_WAITERS)) {
      uint32_t nv = v | MMF__LOCK_WAITERS;
      if (!atomic_compare_exchange_strong_explicit(
              l, &v, nv, memory_order_relaxed, memory_order_relaxed))
        continue;
      v = nv;
    }
    int wait_ms = slice;
    if (timeout_ms >= 0) {
      if (!deadline)
        deadline = mmf__os_now_ms() + timeout_ms;
      int64_t left = deadline - mmf__os_now_ms();
      if (left <= 0)
        return -ETIMEDOUT;
      if (left < wait_ms)
        wait_ms = (int)left;
    }
    (void)mmf__os_futex_wait(l, v, wait_ms);
    contended = MMF__LOCK_WAITERS;
    if (slice < SLICE_MAX_MS)
      slice = slice * 2 > SLICE_MAX_MS ? SLICE_MAX_MS : slice * 2;
  }
}

int mmf__lock_release(struct mmf *m, _Atomic uint32_t *l) {
  uint32_t v = atomic_load_explicit(l, memory_order_relaxed);
  uint32_t next;
  for (;;) {
    if ((v & MMF__ID_MASK) != m->id || !m->id)
      return -EPERM;
    /* With sleepers, hand it to the one we wake: we may lock again at
     * once, long before it is running. */
    next = (v & MMF__LOCK_WAITERS) ? MMF__LOCK_HANDOFF : 0;
    if (atomic_compare_exchange_weak_explicit(l, &v, next, memory_order_release,
                                              memory_order_relaxed))
      break;
  }
  if (next && mmf__os_futex_wake(l, 1) <= 0) {
    /* Nobody slept after all: free it for anyone. */
    uint32_t h = MMF__LOCK_HANDOFF;
    (void)atomic_compare_exchange_strong_explicit(
        l, &h, 0, memory_order_release, memory_order_relaxed);
  }
  return 0;
}

bool mmf__lock_held_by(struct mmf *m, _Atomic uint32_t *l) {
  uint32_t v = atomic_load_explicit(l, memory_order_relaxed);
  return m->id && (v & MMF__ID_MASK) == m->id;
}

void mmf__lock_release_mine(struct mmf *m) {
  /* After a shrink, the header is not to be touched: the kernel still
   * drops this handle's locks when its descriptor closes.  Ours only: a
   * lock this handle does not hold is left alone.  A write still open on
   * it was never published; the next writer reuses its slot.  After a fork
   * the child may be the one holding it through the shared handle: then
   * the words are left to the kernel's liveness, and the next locker takes
   * them once no process holds the handle. */
  if (m->kind != MMF_KIND_MMF || m->readonly || !m->id ||
      m->opener != mmf__os_getpid() ||
      (m->life == m->fd && m->forks != mmf__os_forks()) ||
      mmf__check_size(m, true) < 0)
    return;
  (void)mmf__lock_release(m, &m->hdr->ulock);
  (void)mmf__lock_release(m, &m->hdr->wlock);
}

uint32_t mmf__lock_owner(struct mmf *m, _Atomic uint32_t *l) {
  uint32_t id = atomic_load_explicit(l, memory_order_acquire) & MMF__ID_MASK;
  return id && mmf__id_alive(m, id) ? id : 0;
}

/* ---- the user lock ---- */

/* Raw maps and files have no header to keep a lock word in: their lock is
 * the kernel's open-file-description lock on byte 0.  It dies with its
 * holder too, but the next locker cannot be told, and a waiter re-tries in
 * growing sleeps of at most 50 ms.
 *
 * The kernel lock belongs to the handle's open file, which all its threads
 * share: the handle's state says which thread may take or drop it.  Only
 * HELD may be unlocked, and only FREE may start locking, so a thread
 * waiting in raw_lock neither counts as the holder nor lets another thread
 * of the handle "take" the lock alongside. */
enum { RAW_FREE, RAW_WAITING, RAW_HELD, RAW_RELEASING };

static void raw_cancelled(void *arg) {
  atomic_store(&((struct mmf *)arg)->raw_locked, RAW_FREE);
}

static int raw_wait(struct mmf *m, int timeout_ms) {
  int64_t deadline = timeout_ms < 0 ? -1 : mmf__os_now_ms() + timeout_ms;
  for (int slice = 1;; slice = slice < SLICE_MAX_MS ? slice * 2 : slice) {
    int r = mmf__os_range_lock(m->life, false, 0, 1);
    if (r == 0)
      return 0;
    if (r == -EBADF && m->copy_on_write)
      return -MMF_EREADONLY; /* a private mapping of a file we may not write */
    int wait = slice;
    if (r == -EAGAIN && deadline >= 0) {
      int64_t left = deadline - mmf__os_now_ms();
      if (left <= 0)
        r = -ETIMEDOUT;
      else if (left < wait)
        wait = (int)left;
    }
    if (r != -EAGAIN)
      return r;
    mmf__os_sleep_ms(wait); /* a cancellation point: see raw_cancelled */
  }
}

static int raw_lock(struct mmf *m, int timeout_ms) {
  if (m->readonly)
    return -MMF_EREADONLY;
  for (;;) {
    int v = RAW_FREE;
    if (atomic_compare_exchange_strong(&m->raw_locked, &v, RAW_WAITING))
      break;
    if (v != RAW_RELEASING)
      return -EDEADLK; /* held, or being taken, through this handle */
    mmf__os_yield();   /* another thread is letting go */
  }
  /* From WAITING on, a cancel must put the state back: the handler covers
   * every cancellation point up to the last store. */
  int r;
  pthread_cleanup_push(raw_cancelled, m);
  /* On the handle's life, which a forked child does not keep. */
  r = mmf__holders_life(m);
  if (r == 0)
    r = raw_wait(m, timeout_ms);
  pthread_cleanup_pop(0);
  atomic_store(&m->raw_locked, r == 0 ? RAW_HELD : RAW_FREE);
  return r;
}

MMF_EXPORT int mmf_lock(mmf_t *m, int timeout_ms) {
  if (!m)
    return -EINVAL;
  if (m->kind != MMF_KIND_MMF)
    return raw_lock(m, timeout_ms);
  if (m->readonly)
    return -MMF_EREADONLY;
  int r = mmf__check_size(m, false);
  if (r < 0)
    return r;
  return mmf__lock_acquire(m, &m->hdr->ulock, timeout_ms, false);
}

MMF_EXPORT int mmf_unlock(mmf_t *m) {
  if (!m)
    return -EINVAL;
  if (m->kind != MMF_KIND_MMF) {
    int v = RAW_HELD;
    if (!atomic_compare_exchange_strong(&m->raw_locked, &v, RAW_RELEASING))
      return -EPERM; /* not held (a thread may still be waiting for it) */
    int r = mmf__os_range_unlock(mmf__probe_fd(m), 0, 1);
    atomic_store(&m->raw_locked, RAW_FREE);
    return r;
  }
  if (m->readonly)
    return -EPERM;
  int r = mmf__check_size(m, false);
  if (r < 0)
    return r;
  return mmf__lock_release(m, &m->hdr->ulock);
}
