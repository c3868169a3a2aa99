/* SPDX-License-Identifier: MIT */
/* Waiting for a newer content: a short spin, then a futex on the 32-bit
 * `seq32` word inside the map.  A sleeper sets the word's SLEEPERS bit with
 * a CAS and sleeps on the value with the bit; the writer's exchange of the
 * word clears the bit and tells it whether to wake anyone, so a write costs
 * no system call when nobody sleeps, and a killed sleeper costs at most the
 * next write one wake-up. */
#include "internal.h"

#include <errno.h>

/* How long to spin before sleeping.  A peer that answers within this sees
 * no wake-up cost; past it, sleeping costs a futex wake-up (tens of
 * microseconds) but no CPU.  The
 * spin yields the CPU as it goes, so two processes sharing one CPU do not
 * burn each other's time slice. */
#define SPIN_NS 20000
/* A peer may clear the SLEEPERS bit behind a sleeper's back, and then no
 * writer wakes it: every sleep is bounded by this, so such a wake-up is
 * late by at most this much, never lost. */
#define SLICE_MS 50
/* A read-only handle cannot set the bit: unless the map's mode makes
 * writers wake on every write, it looks again this often. */
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
  int r = mmf__check_size(m, false);
  if (r < 0)
    return r;
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
      mmf__os_yield();
    } else {
      mmf__cpu_relax();
    }
  }

  for (;;) {
    int wait_ms = m->readonly && !atomic_load(&m->wake_all) ? READONLY_SLICE_MS
                                                            : SLICE_MS;
    if (deadline >= 0) {
      int64_t left = deadline - mmf__os_now_ns();
      if (left <= 0)
        return -ETIMEDOUT;
      if (left < (int64_t)wait_ms * 1000000)
        wait_ms = (int)((left + 999999) / 1000000);
    }
    /* The word first, then the seq: a write after this load changes the
     * word, and the kernel then refuses to sleep on the old value. */
    uint32_t v = atomic_load_explicit(&h->seq32, memory_order_seq_cst);
    if ((seq = cur_seq(h)) > after_seq)
      goto done;
    if (!m->readonly && !(v & MMF__SEQ_SLEEPERS)) {
      uint32_t want = v | MMF__SEQ_SLEEPERS;
      if (!atomic_compare_exchange_strong_explicit(
              &h->seq32, &v, want, memory_order_seq_cst, memory_order_seq_cst))
        continue; /* it moved: look again */
      v = want;
    }
    (void)mmf__os_futex_wait(&h->seq32, v, wait_ms);
    /* Woken, timed out, interrupted by a signal or spuriously: look again,
     * so that nothing is lost. */
    if ((r = mmf__check_size(m, false)) < 0)
      return r;
    if ((seq = cur_seq(h)) > after_seq)
      goto done;
  }
done:
  if (ret_seq)
    *ret_seq = seq;
  return 0;
}
