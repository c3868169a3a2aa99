/* SPDX-License-Identifier: MIT */
/* Who holds a map: one entry (pid and process start time) per writable
 * handle, so that a transient map is removed when its last live holder lets
 * go, also when holders die without closing.  A pid whose start time differs
 * from the recorded one was reused by another process: that holder is dead. */
#include "internal.h"

#include <errno.h>

static bool entry_alive(struct mmf__holder *e) {
  uint32_t pid = atomic_load_explicit(&e->pid, memory_order_relaxed);
  if (!pid)
    return false;
  uint64_t start = mmf__os_task_start(pid);
  return start &&
         start == atomic_load_explicit(&e->start, memory_order_relaxed);
}

/* Clear dead entries; the caller holds hlock.  Returns the live count. */
static unsigned reap(struct mmf__hdr *h) {
  unsigned live = 0;
  for (unsigned i = 0; i < MMF__HOLDERS_MAX; i++) {
    struct mmf__holder *e = &h->holders[i];
    if (!atomic_load_explicit(&e->pid, memory_order_relaxed))
      continue;
    if (entry_alive(e)) {
      live++;
    } else {
      atomic_store_explicit(&e->start, 0, memory_order_relaxed);
      atomic_store_explicit(&e->pid, 0, memory_order_relaxed);
    }
  }
  return live;
}

static int take_hlock(struct mmf__hdr *h) {
  int r = mmf__lock_acquire(&h->hlock, MMF_WRITE_LOCK_TIMEOUT_MS);
  if (r == -ETIMEDOUT)
    return -MMF_ESTUCK;
  return r < 0 ? r : 0;
}

int mmf__holders_join(struct mmf *m) {
  struct mmf__hdr *h = m->hdr;
  int r = take_hlock(h);
  if (r < 0)
    return r;
  if (atomic_load_explicit(&h->removed, memory_order_relaxed)) {
    /* Its last holder is removing it: the name is as good as gone. */
    mmf__lock_release(&h->hlock);
    return -ENOENT;
  }
  (void)reap(h);
  r = -MMF_EHOLDERS;
  for (unsigned i = 0; i < MMF__HOLDERS_MAX; i++) {
    struct mmf__holder *e = &h->holders[i];
    if (atomic_load_explicit(&e->pid, memory_order_relaxed))
      continue;
    atomic_store_explicit(&e->start, mmf__os_pid_start(), memory_order_relaxed);
    atomic_store_explicit(&e->pid, mmf__os_pid(), memory_order_relaxed);
    m->holder_idx = (int)i;
    m->registered = true;
    r = 0;
    break;
  }
  mmf__lock_release(&h->hlock);
  return r;
}

void mmf__holders_leave(struct mmf *m) {
  struct mmf__hdr *h = m->hdr;
  if (!m->registered)
    return;
  m->registered = false;
  if (take_hlock(h) < 0)
    return;
  struct mmf__holder *e = &h->holders[m->holder_idx];
  if (atomic_load_explicit(&e->pid, memory_order_relaxed) == mmf__os_pid()) {
    atomic_store_explicit(&e->start, 0, memory_order_relaxed);
    atomic_store_explicit(&e->pid, 0, memory_order_relaxed);
  }
  if ((h->flags & MMF__HF_TRANSIENT) && reap(h) == 0) {
    atomic_store_explicit(&h->removed, 1, memory_order_relaxed);
    (void)mmf__remove_if_same(m);
  }
  mmf__lock_release(&h->hlock);
}

unsigned mmf__holders_count(struct mmf__hdr *h) {
  unsigned live = 0;
  for (unsigned i = 0; i < MMF__HOLDERS_MAX; i++)
    if (entry_alive(&h->holders[i]))
      live++;
  return live;
}

bool mmf__holders_reap_orphan(struct mmf *m) {
  struct mmf__hdr *h = m->hdr;
  if (m->readonly || !(h->flags & MMF__HF_TRANSIENT))
    return false;
  if (take_hlock(h) < 0)
    return false;
  bool remove = false;
  if (!atomic_load_explicit(&h->removed, memory_order_relaxed) &&
      reap(h) == 0) {
    atomic_store_explicit(&h->removed, 1, memory_order_relaxed);
    remove = true;
    (void)mmf__remove_if_same(m);
  }
  mmf__lock_release(&h->hlock);
  return remove;
}
