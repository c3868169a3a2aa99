/* SPDX-License-Identifier: MIT */
/* Event loops: a pollable descriptor per handle, and waiting on many maps.
 *
 * Each polled handle has an entry with an eventfd.  Entries live in groups
 * of up to 127; each group has one library thread, started with its first
 * entry and ended with its last, that sleeps in futex_waitv on the `seq32`
 * word of each entry's map plus a private control word.  It sets a word's
 * SLEEPERS bit before sleeping, exactly as mmf_wait does, so writers wake
 * it, and writers of maps that nobody polls or waits on pay nothing.  When
 * a map's seq passes what its entry acknowledged, the thread makes the
 * eventfd readable and stops watching that map until the next
 * acknowledgement: a slow consumer costs its writer one wake-up per
 * acknowledgement, not one per write.
 *
 * One mutex guards every entry; the thread holds it whenever it touches a
 * mapping, and never while it sleeps.  mmf_close() removes its entry under
 * it, so after that the thread never touches the mapping again. */
#include "events.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

/* futex_waitv takes 128 words: one is the group's control word. */
#define GROUP_MAX 127
#define GROUPS_MAX 256
/* As mmf_wait: a peer may clear the SLEEPERS bit, so sleeps are bounded;
 * a read-only handle cannot set it, and looks again more often. */
#define SLICE_MS 50
#define READONLY_SLICE_MS 10
/* mmf_wait_any spins this long before it sleeps. */
#define SPIN_NS 20000

struct entry {
  struct mmf *m;
  struct group *g;
  int efd;
  bool owned;   /* the handle's descriptor; else a waiter of mmf_wait_any */
  bool pending; /* efd made readable since the last acknowledgement */
  bool fresh;   /* look at it at once, whatever its word says */
  bool dead;    /* its map was shrunk by a peer: never touched again */
  uint64_t acked;
  uint32_t waited; /* the word's value when last looked at */
};

struct group {
  struct entry *e[GROUP_MAX];
  unsigned n;
  bool running;
  _Atomic uint32_t ctl; /* bumped to make the thread look again */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct group *groups[GROUPS_MAX];
static _Atomic unsigned registered; /* lets mmf_close skip the lock */
static bool fallback;               /* no futex_waitv: a thread per entry */
static bool probed;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* Tests set it to -1: then a lost wake-up is never made up for later. */
_Atomic int mmf__events_slice_ms = SLICE_MS;

void mmf__events_force_fallback(bool on) {
  fallback = on;
  probed = true;
}

static inline uint64_t cur_seq(struct mmf__hdr *h) {
  return atomic_load_explicit(&h->state, memory_order_acquire) >> 1;
}

static void poke(struct group *g) {
  atomic_fetch_add_explicit(&g->ctl, 1, memory_order_seq_cst);
  /* The fallback sleeps with the shared futex call, a key of its own. */
  if (fallback)
    mmf__os_futex_wake(&g->ctl, 0x7fffffff);
  else
    mmf__os_futex_wake_private(&g->ctl);
}

static void signal_entry(struct entry *e) {
  if (e->pending)
    return;
  e->pending = true;
  if (e->efd >= 0)
    mmf__os_eventfd_signal(e->efd);
}

/* Look at e's map (the caller holds the lock, or owns e alone): signal it
 * if its seq passed the acknowledged one; else fill *w to sleep on its
 * word.  True when *w was filled. */
static bool scan(struct entry *e, bool full, struct mmf__waiter *w,
                 int *slice_ms) {
  if (e->dead || e->pending)
    return false;
  struct mmf *m = e->m;
  if (mmf__check_size(m, false) < 0) {
    e->dead = true; /* readable for good: the acknowledgement says why */
    signal_entry(e);
    return false;
  }
  struct mmf__hdr *h = m->hdr;
  /* The word first, then the seq: a write after this load changes the
   * word, and the kernel then refuses to sleep on the old value. */
  uint32_t v = atomic_load_explicit(&h->seq32, memory_order_seq_cst);
  if (full || e->fresh || v != e->waited) {
    e->fresh = false;
    if (cur_seq(h) > e->acked) {
      signal_entry(e);
      return false;
    }
  }
  if (!m->readonly && !(v & MMF__SEQ_SLEEPERS)) {
    uint32_t seen = v, want = v | MMF__SEQ_SLEEPERS;
    /* On failure the word moved: sleeping on the old value returns at
     * once, and the next look sees the change. */
    v = atomic_compare_exchange_strong_explicit(
            &h->seq32, &v, want, memory_order_seq_cst, memory_order_seq_cst)
            ? want
            : seen;
  }
  if (m->readonly && !atomic_load_explicit(&m->wake_all, memory_order_relaxed))
    *slice_ms = READONLY_SLICE_MS;
  e->waited = v;
  *w = (struct mmf__waiter){.word = &h->seq32, .val = v};
  return true;
}

static void *watch(void *arg) {
  struct group *g = arg;
  struct mmf__waiter w[GROUP_MAX + 1];
  bool full = true;
  pthread_mutex_lock(&lock);
  for (;;) {
    if (g->n == 0) {
      g->running = false;
      break;
    }
    uint32_t ctl = atomic_load_explicit(&g->ctl, memory_order_seq_cst);
    int slice = atomic_load(&mmf__events_slice_ms);
    unsigned k = 0;
    for (unsigned i = 0; i < g->n; i++)
      if (scan(g->e[i], full, &w[k], &slice))
        k++;
    pthread_mutex_unlock(&lock);
    int r;
    if (!fallback) {
      w[k++] = (struct mmf__waiter){.word = &g->ctl, .val = ctl, .priv = true};
      r = mmf__os_futex_waitv(w, k, slice);
    } else if (k == 1) {
      /* One entry per group: mmf__events_forget wakes this word. */
      r = mmf__os_futex_wait(w[0].word, w[0].val, slice);
    } else {
      r = mmf__os_futex_wait(&g->ctl, ctl, slice);
    }
    /* A timeout looks at every map (a peer may have cleared the SLEEPERS
     * bit, or a read-only handle's writer woke nobody); anything else only
     * at those whose word moved. */
    full = r == -ETIMEDOUT || r == -EFAULT;
    pthread_mutex_lock(&lock);
  }
  pthread_mutex_unlock(&lock);
  return NULL;
}

/* A child made by fork() has none of the threads: it forgets every entry
 * (closing its copies of the descriptors), and starts afresh. */
static void fork_prepare(void) {
  pthread_mutex_lock(&lock);
}
static void fork_parent(void) {
  pthread_mutex_unlock(&lock);
}
static void fork_child(void) {
  for (unsigned gi = 0; gi < GROUPS_MAX && groups[gi]; gi++) {
    struct group *g = groups[gi];
    for (unsigned i = 0; i < g->n; i++) {
      struct entry *e = g->e[i];
      if (e->owned)
        mmf__os_close(e->efd);
      /* Not freed: the child of a threaded process may call only
       * async-signal-safe functions here, which free() is not.  The
       * entries stay behind in g->e (reachable) until add() reuses it. */
      /* A waiter's entries belong to its call, in a thread not copied. */
    }
    g->n = 0;
    g->running = false;
    atomic_store(&g->ctl, 0);
  }
  atomic_store(&registered, 0);
  pthread_mutex_unlock(&lock);
}
static void install_atfork(void) {
  mmf__os_atfork(fork_prepare, fork_parent, fork_child);
}

/* Add e (under the lock); its group's thread is started or poked. */
static int add(struct entry *e, struct group **ret_poke) {
  pthread_once(&atfork_once, install_atfork);
  if (!probed) {
    fallback = mmf__os_futex_waitv(NULL, 0, 0) == -ENOSYS;
    probed = true;
  }
  unsigned cap = fallback ? 1 : GROUP_MAX;
  struct group *g = NULL;
  unsigned gi = 0;
  for (; gi < GROUPS_MAX && groups[gi]; gi++)
    if (groups[gi]->n < cap) {
      g = groups[gi];
      break;
    }
  if (!g) {
    if (gi == GROUPS_MAX)
      return -EMFILE;
    if (!(g = groups[gi] = calloc(1, sizeof *g)))
      return -ENOMEM;
  }
  e->g = g;
  e->fresh = true;
  g->e[g->n++] = e;
  if (!g->running) {
    int r = mmf__os_thread_start(watch, g);
    if (r < 0) {
      g->n--;
      return r;
    }
    g->running = true;
    *ret_poke = NULL;
  } else {
    *ret_poke = g;
  }
  atomic_fetch_add(&registered, 1);
  return 0;
}

/* Remove e (under the lock); returns its group, to poke. */
static struct group *del(struct entry *e) {
  struct group *g = e->g;
  for (unsigned i = 0; i < g->n; i++)
    if (g->e[i] == e) {
      g->e[i] = g->e[--g->n];
      break;
    }
  atomic_fetch_sub(&registered, 1);
  return g;
}

static struct entry *find_owned(struct mmf *m) {
  for (unsigned gi = 0; gi < GROUPS_MAX && groups[gi]; gi++)
    for (unsigned i = 0; i < groups[gi]->n; i++)
      if (groups[gi]->e[i]->m == m && groups[gi]->e[i]->owned)
        return groups[gi]->e[i];
  return NULL;
}

MMF_EXPORT int mmf_event_fd(mmf_t *m) {
  if (!m)
    return -EINVAL;
  if (m->kind != MMF_KIND_MMF)
    return -MMF_ERAW;
  int r = mmf__check_size(m, false);
  if (r < 0)
    return r;
  pthread_mutex_lock(&lock);
  struct entry *e = find_owned(m);
  if (e) {
    r = e->efd;
    pthread_mutex_unlock(&lock);
    return r;
  }
  struct group *pk = NULL;
  if (!(e = calloc(1, sizeof *e))) {
    r = -ENOMEM;
  } else {
    *e = (struct entry){.m = m, .owned = true, .efd = -1};
    if ((r = mmf__os_eventfd(&e->efd)) == 0 && (r = add(e, &pk)) == 0)
      r = e->efd;
    if (r < 0) {
      if (e->efd >= 0)
        mmf__os_close(e->efd);
      free(e);
    }
  }
  pthread_mutex_unlock(&lock);
  if (pk)
    poke(pk);
  return r;
}

MMF_EXPORT int mmf_event_ack(mmf_t *m, uint64_t *ret_seq) {
  if (!m)
    return -EINVAL;
  if (m->kind != MMF_KIND_MMF)
    return -MMF_ERAW;
  pthread_mutex_lock(&lock);
  struct entry *e = find_owned(m);
  int r = e ? 0 : -EINVAL;
  if (e && (e->dead || (r = mmf__check_size(m, false)) < 0)) {
    e->dead = true;
    signal_entry(e);
    r = -MMF_ECORRUPT;
  }
  struct group *pk = NULL;
  uint64_t seq = 0;
  if (r == 0) {
    seq = cur_seq(m->hdr);
    e->acked = seq;
    if (e->pending) {
      /* The thread stopped watching it: make it look again. */
      mmf__os_eventfd_drain(e->efd);
      e->pending = false;
      e->fresh = true;
      pk = e->g;
    }
  }
  pthread_mutex_unlock(&lock);
  if (pk)
    poke(pk);
  if (r == 0 && ret_seq)
    *ret_seq = seq;
  return r;
}

void mmf__events_forget(struct mmf *m) {
  if (!atomic_load(&registered))
    return;
  pthread_mutex_lock(&lock);
  struct entry *e = find_owned(m);
  struct group *pk = e ? del(e) : NULL;
  bool wake_word = e && fallback && !e->dead;
  pthread_mutex_unlock(&lock);
  if (!e)
    return;
  mmf__os_close(e->efd);
  free(e);
  poke(pk);
  /* Without futex_waitv the thread sleeps on the map's own word. */
  if (wake_word && mmf__check_size(m, false) == 0)
    mmf__os_futex_wake(&m->hdr->seq32, 0x7fffffff);
}

/* ---- waiting on many maps ---- */

/* The first map (in order) past its seq: its index, or -1. */
static int first_newer(mmf_t *const *maps, const uint64_t *after, size_t n,
                       uint64_t *ret_seq) {
  for (size_t i = 0; i < n; i++) {
    uint64_t s = cur_seq(maps[i]->hdr);
    if (s > after[i]) {
      *ret_seq = s;
      return (int)i;
    }
  }
  return -1;
}

static int64_t left_ms(int64_t deadline_ns) {
  if (deadline_ns < 0)
    return -1;
  int64_t left = deadline_ns - mmf__os_now_ns();
  return left <= 0 ? 0 : (left + 999999) / 1000000;
}

/* In the calling thread: futex_waitv over the maps' words. */
static int wait_here(struct entry *es, size_t n, int64_t deadline) {
  struct mmf__waiter w[GROUP_MAX + 1];
  for (;;) {
    int slice = SLICE_MS;
    unsigned k = 0;
    for (size_t i = 0; i < n; i++) {
      if (scan(&es[i], true, &w[k], &slice))
        k++;
      if (es[i].pending)
        return es[i].dead ? -MMF_ECORRUPT : 0;
    }
    int64_t left = left_ms(deadline);
    if (left == 0)
      return -ETIMEDOUT;
    if (left > 0 && left < slice)
      slice = (int)left;
    int r = mmf__os_futex_waitv(w, k, slice);
    if (r == -ENOSYS)
      return r;
  }
}

/* Through the library's threads, which make one eventfd readable; the
 * caller polls it beside cancel_fd. */
static int wait_polled(struct entry *es, size_t n, int cancel_fd,
                       int64_t deadline) {
  int efd, r;
  if ((r = mmf__os_eventfd(&efd)) < 0)
    return r;
  struct group *pk[GROUPS_MAX];
  unsigned npk = 0;
  size_t added = 0;
  pthread_mutex_lock(&lock);
  for (; added < n; added++) {
    struct group *g = NULL;
    es[added].efd = efd;
    if ((r = add(&es[added], &g)) < 0)
      break;
    if (g && (npk == 0 || pk[npk - 1] != g) && npk < GROUPS_MAX)
      pk[npk++] = g;
  }
  pthread_mutex_unlock(&lock);
  for (unsigned i = 0; i < npk; i++)
    poke(pk[i]);
  while (r == 0) {
    int64_t left = left_ms(deadline);
    int p = mmf__os_poll_in(efd, cancel_fd, left > INT32_MAX ? -1 : (int)left);
    if (p == -EINTR)
      continue;
    if (p < 0) {
      r = p;
      break;
    }
    if (p & 1) {
      r = 1; /* a map moved: the caller looks which */
      break;
    }
    if (p & 2) {
      r = -ECANCELED;
      break;
    }
    if (p == 0) {
      r = -ETIMEDOUT;
      break;
    }
  }
  npk = 0;
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < added; i++) {
    struct group *g = del(&es[i]);
    if ((npk == 0 || pk[npk - 1] != g) && npk < GROUPS_MAX)
      pk[npk++] = g;
    if (es[i].dead && r == 1)
      r = -MMF_ECORRUPT;
  }
  pthread_mutex_unlock(&lock);
  for (unsigned i = 0; i < npk; i++)
    poke(pk[i]);
  mmf__os_close(efd);
  return r == 1 ? 0 : r;
}

MMF_EXPORT int mmf_wait_any(mmf_t *const *maps, const uint64_t *after_seqs,
                            size_t n, int cancel_fd, int timeout_ms,
                            size_t *ret_index, uint64_t *ret_seq) {
  if (!maps || !after_seqs || n == 0 || n > (size_t)GROUPS_MAX * GROUP_MAX)
    return -EINVAL;
  for (size_t i = 0; i < n; i++) {
    if (!maps[i])
      return -EINVAL;
    if (maps[i]->kind != MMF_KIND_MMF)
      return -MMF_ERAW;
    int r = mmf__check_size(maps[i], false);
    if (r < 0)
      return r;
  }
  int64_t start = mmf__os_now_ns();
  int64_t deadline =
      timeout_ms < 0 ? -1 : start + (int64_t)timeout_ms * 1000000;
  uint64_t seq;
  int idx = first_newer(maps, after_seqs, n, &seq);
  /* A short spin first: a peer that answers within it costs no wake-up. */
  for (unsigned i = 1; idx < 0 && timeout_ms != 0; i++) {
    if (cancel_fd >= 0 && (i & 255) == 0 &&
        mmf__os_poll_in(cancel_fd, -1, 0) > 0)
      return -ECANCELED;
    if ((i & 15) == 0) {
      int64_t now = mmf__os_now_ns();
      if (now - start > SPIN_NS || (deadline >= 0 && now >= deadline))
        break;
      sched_yield();
    } else {
      mmf__cpu_relax();
    }
    idx = first_newer(maps, after_seqs, n, &seq);
  }
  if (idx < 0 && cancel_fd >= 0 && mmf__os_poll_in(cancel_fd, -1, 0) > 0)
    return -ECANCELED;
  while (idx < 0) {
    if (timeout_ms == 0 || left_ms(deadline) == 0)
      return -ETIMEDOUT;
    struct entry *es = calloc(n, sizeof *es);
    if (!es)
      return -ENOMEM;
    for (size_t i = 0; i < n; i++)
      es[i] = (struct entry){.m = maps[i], .acked = after_seqs[i], .efd = -1};
    int r = -ENOSYS;
    if (cancel_fd < 0 && n <= GROUP_MAX && !fallback)
      r = wait_here(es, n, deadline);
    if (r == -ENOSYS)
      r = wait_polled(es, n, cancel_fd, deadline);
    free(es);
    if (r < 0)
      return r;
    /* A peer may have moved a seq back meanwhile: look, and wait again. */
    idx = first_newer(maps, after_seqs, n, &seq);
  }
  if (ret_index)
    *ret_index = (size_t)idx;
  if (ret_seq)
    *ret_seq = seq;
  return 0;
}
