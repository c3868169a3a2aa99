/* SPDX-License-Identifier: MIT */
/* Pins (pin.c): a reader's copy that writers wait for, within a bound.
 * Apart from internal.h so that the writers' inline probe does not tie the
 * handle's declarations to pin.c. */
#ifndef MMF_PIN_H
#define MMF_PIN_H

#include "internal.h"

/* The byte a pinning reader read-locks: just below the id range, so that
 * neither ids nor a remover's lock over them ever cover it. */
#define MMF__PIN_BYTE (MMF__ID_BASE - 1)
/* Pin the map for the copy the caller is about to make (counted: each
 * mmf__pin() is undone by one mmf__unpin()): 0 or a negative error. */
int mmf__pin(struct mmf *m);
void mmf__unpin(struct mmf *m);
void mmf__pin_wait_slow(struct mmf *m);
/* A writer about to open a slot, under the writers' lock, after its size
 * check: wait, within a bound, while a reader pins the map.  No system
 * call, nor a clock read, unless a pin was seen or the size check's tick
 * of the coarse clock moved since the last probe. */
static inline void mmf__pin_wait(struct mmf *m) {
  if (!atomic_load_explicit(&m->pin_seen, memory_order_relaxed) &&
      !atomic_load_explicit(&m->pins, memory_order_relaxed) &&
      atomic_load_explicit(&m->pin_checked, memory_order_relaxed) ==
          atomic_load_explicit(&m->size_checked, memory_order_relaxed))
    return;
  mmf__pin_wait_slow(m);
}

#endif
