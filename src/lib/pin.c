/* SPDX-License-Identifier: MIT */
/* Pins: how a reader that cannot take the writers' lock (a read-only
 * handle, or a zero-copy view, which outlives any lock) makes writers wait
 * for the copy it is making, without write permission.  The reader holds
 * an open-file-description read lock on MMF__PIN_BYTE; a writer about to
 * open a slot probes that byte (at most once per coarse clock tick, on
 * every write while it saw a pin) and, when pinned, waits for it to go,
 * within a bound tied to the cost of copying the content, and never more
 * than half of its time overall: a hostile pinner slows writers, it cannot
 * stop them.  docs/FORMAT.md "Pins" is the protocol. */
#include "pin.h"
#include "internal.h"
#include "slot.h"

#include <errno.h>
#include <pthread.h>

/* One wait for a pin: PIN_MIN_NS plus what copying the content costs at
 * 500 MB/s (a copy over fresh pages, on a busy machine), at most PIN_MAX_NS,
 * far below the writers' lock timeout that other writers wait under. */
#define PIN_MIN_NS 1000000ll
#define PIN_NS_PER_BYTE 2
#define PIN_MAX_NS 1000000000ll
/* A sleep between probes: a reader's wake-up can be missed (the word does
 * not change when it unpins), so it costs at most this. */
#define PIN_SLICE_MS 1

/* The handles' pin counts change, and their lock with them, under pin_mu,
 * which fork() takes first (no child inherits it locked) and after which
 * every count a child inherited belongs to its parent's threads. */
static pthread_mutex_t pin_mu = PTHREAD_MUTEX_INITIALIZER;
static _Atomic unsigned long pin_epoch = 1;
static pthread_once_t pin_once = PTHREAD_ONCE_INIT;

static void pin_prepare(void) {
  pthread_mutex_lock(&pin_mu);
}

static void pin_parent(void) {
  pthread_mutex_unlock(&pin_mu);
}

static void pin_child(void) {
  atomic_fetch_add(&pin_epoch, 1);
  pthread_mutex_unlock(&pin_mu);
}

static void pin_install(void) {
  mmf__os_atfork(pin_prepare, pin_parent, pin_child);
}

/* The word writers sleep on while pinned: `state`'s first four bytes,
 * which do not change while the sleeper holds the writers' lock. */
static _Atomic uint32_t *pin_word(struct mmf *m) {
  return (_Atomic uint32_t *)(void *)&m->hdr->state;
}

/* Pins the calling thread holds, on any handle: a writer never waits for
 * a pin while it holds one itself (its own view cannot end meanwhile). */
static _Thread_local unsigned my_pins;

int mmf__pin(struct mmf *m) {
  pthread_once(&pin_once, pin_install);
  /* Its life first (outside pin_mu: it takes holders.c's mutex, which
   * fork() may take before ours); the child of a fork gets one of its own. */
  int r = mmf__holders_life(m);
  if (r < 0)
    return r;
  pthread_mutex_lock(&pin_mu);
  unsigned long epoch = atomic_load(&pin_epoch);
  if (atomic_load_explicit(&m->pin_epoch, memory_order_relaxed) != epoch) {
    /* A fork's child: the count was its parent's threads', and the lock
     * its parent's life's, which the child closed. */
    atomic_store_explicit(&m->pin_epoch, epoch, memory_order_relaxed);
    atomic_store_explicit(&m->pins, 0, memory_order_relaxed);
  }
  unsigned n = atomic_load_explicit(&m->pins, memory_order_relaxed);
  if (n == 0 && m->life >= 0)
    r = mmf__os_range_lock(m->life, true, MMF__PIN_BYTE, 1);
  if (r == 0) {
    atomic_store_explicit(&m->pins, n + 1, memory_order_relaxed);
    my_pins++;
  }
  pthread_mutex_unlock(&pin_mu);
  return r;
}

void mmf__unpin(struct mmf *m) {
  bool woke = false;
  if (my_pins)
    my_pins--;
  pthread_mutex_lock(&pin_mu);
  unsigned n = atomic_load_explicit(&m->pins, memory_order_relaxed);
  if (atomic_load_explicit(&m->pin_epoch, memory_order_relaxed) ==
          atomic_load(&pin_epoch) &&
      n > 0) {
    atomic_store_explicit(&m->pins, n - 1, memory_order_relaxed);
    if (n == 1 && m->life >= 0) {
      (void)mmf__os_range_unlock(m->life, MMF__PIN_BYTE, 1);
      woke = true;
    }
  }
  pthread_mutex_unlock(&pin_mu);
  /* A wake needs no write permission: the writer goes on at once. */
  if (woke)
    (void)mmf__os_futex_wake(pin_word(m), 0x7fffffff);
}

/* Is the map pinned: by a thread of this handle (its lock is invisible
 * from its own life), or by another open file? */
static bool pinned(struct mmf *m) {
  if (atomic_load_explicit(&m->pins, memory_order_relaxed) &&
      atomic_load_explicit(&m->pin_epoch, memory_order_relaxed) ==
          atomic_load(&pin_epoch))
    return true;
  return mmf__os_range_probe(mmf__probe_fd(m), MMF__PIN_BYTE, 1, false, NULL) ==
         1;
}

void mmf__pin_wait_slow(struct mmf *m) {
  if (my_pins)
    return; /* this thread's own view: waiting could only time out */
  int64_t t0 = mmf__os_now_ns();
  if (t0 < atomic_load_explicit(&m->pin_free_until, memory_order_relaxed))
    return; /* it waited lately: its turn to write */
  atomic_store_explicit(
      &m->pin_checked,
      atomic_load_explicit(&m->size_checked, memory_order_relaxed),
      memory_order_relaxed);
  if (!pinned(m)) {
    atomic_store_explicit(&m->pin_seen, false, memory_order_relaxed);
    return;
  }
  atomic_store_explicit(&m->pin_seen, true, memory_order_relaxed);
  /* What the pinner copies: the published content (the lock is held, so
   * nothing moves; a peer's length is only a bound, clamped). */
  uint64_t state = atomic_load_explicit(&m->hdr->state, memory_order_acquire);
  uint64_t len = atomic_load_explicit(&m->hdr->slot[mmf__state_slot(state)].len,
                                      memory_order_relaxed);
  if (len > m->capacity)
    len = m->capacity;
  int64_t bound = PIN_MIN_NS + (int64_t)len * PIN_NS_PER_BYTE;
  if (bound > PIN_MAX_NS)
    bound = PIN_MAX_NS;
  _Atomic uint32_t *w = pin_word(m);
  int64_t now = t0;
  for (;;) {
    uint32_t v = atomic_load_explicit(w, memory_order_relaxed);
    if (!pinned(m))
      break;
    now = mmf__os_now_ns();
    if (now - t0 >= bound)
      break;
    int r = mmf__os_futex_wait(w, v, PIN_SLICE_MS);
    if (r == 0 && atomic_load_explicit(w, memory_order_relaxed) != v)
      mmf__os_yield(); /* a peer keeps writing the word: no busy loop */
  }
  now = mmf__os_now_ns();
  /* As long again without waiting: pins take at most half its time. */
  atomic_store_explicit(&m->pin_free_until, now + (now - t0),
                        memory_order_relaxed);
}
