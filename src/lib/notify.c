/* SPDX-License-Identifier: MIT */
/* Waiting for a newer content: a short spin, then a futex on the 32-bit
 * `seq32` word inside the map.  Writers wake sleepers only when `waiters`
 * says someone sleeps, so a write costs no system call otherwise. */
#include "internal.h"

#include <errno.h>
#include <sched.h>

/* How long to spin before sleeping.  A peer that answers within this sees
 * no wake-up cost; past it, sleeping costs a ~50 us wake-up but no CPU.  The
 * spin yields the CPU as it goes, so two processes sharing one CPU do not
 * burn each other's time slice. */
#define SPIN_NS 20000
/* A read-only handle cannot count itself in `waiters`: unless the map's
 * writers wake on every write (MMF__HF_WAKE_ALL), it re-checks this often. */
#define READONLY_SLICE_MS 10

static inline uint64_t cur_seq(struct mmf__hdr *h) {
  return atomic_load_explicit(&h->state, memory_order_acquire) >> 1;
}

MMF_EXPORT int mmf_wait(mmf_t *m, uint64_t after_seq, int timeout_ms,
                        uint64_t *ret_seq) {
  if (!m)
    return -EINVAL;
  if (m->kind != MMF_KIND_MMF)
    return -MMF_ERAW;
  struct mmf__hdr *h = m->hdr;
  uint64_t seq = cur_seq(h);
  if (seq > after_seq || timeout_ms == 0) {
    if (seq <= after_seq)
      return -ETIMEDOUT;
    if (ret_seq)
      *ret_seq = seq;
    return 0;
  }
  int64_t start = mmf__os_now_ns();
  int64_t deadline =
      timeout_ms < 0 ? -1 : start + (int64_t)timeout_ms * 1000000;

  /* Spin: check often, yield the CPU every few rounds. */
  for (unsigned i = 1;; i++) {
    if ((seq = cur_seq(h)) > after_seq)
      goto done;
    if ((i & 15) == 0) {
      int64_t now = mmf__os_now_ns();
      if (now - start > SPIN_NS || (deadline >= 0 && now >= deadline))
        break;
      sched_yield();
    } else {
      mmf__cpu_relax();
    }
  }

  for (;;) {
    int wait_ms = -1;
    if (deadline >= 0) {
      int64_t left = deadline - mmf__os_now_ns();
      if (left <= 0)
        return -ETIMEDOUT;
      wait_ms = (int)((left + 999999) / 1000000);
    }
    if (m->readonly && !m->wake_all &&
        (wait_ms < 0 || wait_ms > READONLY_SLICE_MS))
      wait_ms = READONLY_SLICE_MS;
    if (!m->readonly)
      atomic_fetch_add_explicit(&h->waiters, 1, memory_order_seq_cst);
    uint32_t v = atomic_load_explicit(&h->seq32, memory_order_seq_cst);
    seq = cur_seq(h);
    if (seq <= after_seq)
      (void)mmf__os_futex_wait(&h->seq32, v, wait_ms);
    if (!m->readonly)
      atomic_fetch_sub_explicit(&h->waiters, 1, memory_order_relaxed);
    /* Woken, timed out, interrupted by a signal or spuriously: look again,
     * so that nothing is lost. */
    if ((seq = cur_seq(h)) > after_seq)
      goto done;
  }
done:
  if (ret_seq)
    *ret_seq = seq;
  return 0;
}
