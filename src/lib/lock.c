/* SPDX-License-Identifier: MIT */
/* Cross-process locks that survive their holder.
 *
 * The lock word holds the holder's thread id.  A locker that finds it taken
 * checks that the holder still lives (its /proc entry, its start time against
 * tid reuse, zombies count as dead); a dead or non-existent holder is taken
 * over at once and the caller is told (MMF_LOCK_ABANDONED).  Sleepers use a
 * futex on the word, in slices, so that a holder that dies while they sleep
 * is noticed too.  We do not use pthread robust mutexes: garbage written
 * into one by a peer can make glibc wait forever or fail, and their owner
 * ids mean nothing after a reboot; this word is checked on every contended
 * acquisition. */
#include "internal.h"

#include <errno.h>
#include <sched.h>

/* Longest sleep before re-checking that the holder lives. */
#define SLICE_MAX_MS 50

static void set_owner(struct mmf__lock *l, uint32_t tid) {
  uint64_t start = mmf__os_tid_start();
  /* A thread that takes the lock again and again has written these once. */
  if (atomic_load_explicit(&l->owner_tid, memory_order_relaxed) == tid &&
      atomic_load_explicit(&l->owner_start, memory_order_relaxed) == start)
    return;
  atomic_store_explicit(&l->owner_tid, 0, memory_order_relaxed);
  atomic_store_explicit(&l->owner_start, start, memory_order_relaxed);
  atomic_store_explicit(&l->owner_pid, mmf__os_pid(), memory_order_relaxed);
  atomic_store_explicit(&l->owner_tid, tid, memory_order_release);
}

/* Does the task that holds `word` still live? */
static bool holder_alive(struct mmf__lock *l, uint32_t tid) {
  uint64_t start = mmf__os_task_start(tid);
  if (!start)
    return false;
  /* The side fields describe `tid` only once its owner wrote them; until
   * then the holder just took the lock and is alive. */
  if (atomic_load_explicit(&l->owner_tid, memory_order_acquire) == tid) {
    uint64_t want = atomic_load_explicit(&l->owner_start, memory_order_relaxed);
    if (want && want != start)
      return false; /* the tid was reused by another task */
  }
  return true;
}

int mmf__lock_acquire(struct mmf__lock *l, int timeout_ms) {
  uint32_t me = mmf__os_tid();
  int64_t deadline = 0; /* set when first needed: not on the fast path */
  /* After sleeping we cannot know whether others sleep too: keep the
   * WAITERS bit when taking it, so our release wakes them. */
  uint32_t contended = 0;
  int slice = 1;
  int spins = 0;

  for (;;) {
    uint32_t v = 0;
    if (atomic_compare_exchange_strong_explicit(&l->word, &v, me | contended,
                                                memory_order_acquire,
                                                memory_order_relaxed)) {
      set_owner(l, me);
      return 0;
    }
    uint32_t owner = v & MMF__LOCK_TID_MASK;
    if (owner == me)
      return -EDEADLK;
    /* A short holder (a writer's copy) is usually gone within microseconds;
     * spin a little before paying for /proc and a futex. */
    if (spins < 100) {
      spins++;
      if (spins % 16 == 0)
        sched_yield();
      else
        mmf__cpu_relax();
      continue;
    }
    if (!holder_alive(l, owner)) {
      uint32_t keep = v & MMF__LOCK_WAITERS;
      if (atomic_compare_exchange_strong_explicit(&l->word, &v, me | keep,
                                                  memory_order_acquire,
                                                  memory_order_relaxed)) {
        set_owner(l, me);
        return MMF_LOCK_ABANDONED;
      }
      continue;
    }
    if (!(v & MMF__LOCK_WAITERS)) {
      uint32_t nv = v | MMF__LOCK_WAITERS;
      if (!atomic_compare_exchange_strong_explicit(
              &l->word, &v, nv, memory_order_relaxed, memory_order_relaxed))
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
    (void)mmf__os_futex_wait(&l->word, v, wait_ms);
    contended = MMF__LOCK_WAITERS;
    if (slice < SLICE_MAX_MS)
      slice = slice * 2 > SLICE_MAX_MS ? SLICE_MAX_MS : slice * 2;
  }
}

int mmf__lock_release(struct mmf__lock *l) {
  uint32_t me = mmf__os_tid();
  uint32_t v = atomic_load_explicit(&l->word, memory_order_relaxed);
  for (;;) {
    if ((v & MMF__LOCK_TID_MASK) != me)
      return -EPERM;
    if (atomic_compare_exchange_weak_explicit(
            &l->word, &v, 0, memory_order_release, memory_order_relaxed))
      break;
  }
  if (v & MMF__LOCK_WAITERS)
    mmf__os_futex_wake(&l->word, 1);
  return 0;
}

bool mmf__lock_held_by_me(const struct mmf__lock *l) {
  uint32_t v = atomic_load_explicit(&l->word, memory_order_relaxed);
  return (v & MMF__LOCK_TID_MASK) == mmf__os_tid();
}

pid_t mmf__lock_holder(struct mmf__lock *l) {
  uint32_t v = atomic_load_explicit(&l->word, memory_order_acquire);
  uint32_t tid = v & MMF__LOCK_TID_MASK;
  if (!tid || !holder_alive(l, tid))
    return 0;
  uint32_t pid = atomic_load_explicit(&l->owner_pid, memory_order_relaxed);
  if (atomic_load_explicit(&l->owner_tid, memory_order_relaxed) != tid)
    pid = tid;
  return (pid_t)pid;
}

/* ---- the user lock ---- */

/* Raw maps and files have no header to keep a lock word in: their lock is
 * the kernel's open-file-description lock on byte 0.  It dies with its
 * holder too, but the next locker cannot be told, and a waiter re-tries in
 * growing sleeps of at most 50 ms. */
static int raw_lock(struct mmf *m, int timeout_ms) {
  if (m->raw_locked)
    return -EDEADLK;
  if (m->readonly)
    return -MMF_EREADONLY;
  int64_t deadline = timeout_ms < 0 ? -1 : mmf__os_now_ms() + timeout_ms;
  for (int slice = 1;; slice = slice < SLICE_MAX_MS ? slice * 2 : slice) {
    int r = mmf__os_ofd_lock(m->fd, true);
    if (r == 0) {
      m->raw_locked = true;
      return 0;
    }
    if (r != -EAGAIN)
      return r;
    int wait = slice;
    if (deadline >= 0) {
      int64_t left = deadline - mmf__os_now_ms();
      if (left <= 0)
        return -ETIMEDOUT;
      if (left < wait)
        wait = (int)left;
    }
    mmf__os_sleep_ms(wait);
  }
}

MMF_EXPORT int mmf_lock(mmf_t *m, int timeout_ms) {
  if (!m)
    return -EINVAL;
  if (m->kind != MMF_KIND_MMF)
    return raw_lock(m, timeout_ms);
  if (m->readonly)
    return -MMF_EREADONLY;
  return mmf__lock_acquire(&m->hdr->ulock, timeout_ms);
}

MMF_EXPORT int mmf_unlock(mmf_t *m) {
  if (!m)
    return -EINVAL;
  if (m->kind != MMF_KIND_MMF) {
    if (!m->raw_locked)
      return -EPERM;
    m->raw_locked = false;
    return mmf__os_ofd_lock(m->fd, false);
  }
  if (m->readonly)
    return -EPERM;
  return mmf__lock_release(&m->hdr->ulock);
}
