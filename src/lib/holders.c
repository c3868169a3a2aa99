/* SPDX-License-Identifier: MIT */
/* Who holds a map, as the kernel sees it.
 *
 * Each handle of an mmf map picks a random id and holds the kernel's
 * open-file-description lock on byte MMF__ID_BASE + id: a write lock if it
 * may write the map (only those hold lock words, and a mere reader of the
 * object cannot forge such a lock), a read lock if it is read-only.  A
 * handle that finds another one on its byte (a collision) picks again.  The
 * kernel drops the lock when the handle's descriptor closes or its process
 * dies, so the locked bytes are the live handles, in any PID namespace and
 * whatever /proc lets us see, with no limit on their number.
 *
 * A transient map (the sticky bit in its mode, which only its owner can
 * set) is removed once no handle holds it: by its last closer, and, when
 * holders die without closing, by a watcher process that sleeps in the
 * kernel (F_OFD_SETLKW, a write lock over all ids) until the last handle's
 * lock is gone.  That write lock also keeps late openers out: an opener that
 * cannot take its id's lock finds the map gone. */
#include "internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#define ID_RANGE ((uint64_t)MMF__ID_MASK) /* ids 1 .. MMF__ID_MASK */

/* ---- lives, and fork ----
 * A handle's id lock is held by an open file of its own that is never
 * mapped: a mapping, like a descriptor, keeps its open file, and a fork()
 * copies both.  The child closes every life at once (an atfork handler:
 * close is async-signal-safe), so a child that never touches mmf keeps no
 * dead parent's handle alive.  A child's copy of a handle gets an id of
 * its own when it first needs one (mmf__holders_rejoin). */
static pthread_mutex_t rejoin_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct mmf *reg_head;
static pthread_once_t reg_once = PTHREAD_ONCE_INIT;

static void reg_prepare(void) {
  pthread_mutex_lock(&rejoin_mu);
  pthread_mutex_lock(&reg_mu);
}

static void reg_parent(void) {
  pthread_mutex_unlock(&reg_mu);
  pthread_mutex_unlock(&rejoin_mu);
}

static void reg_child(void) {
  pid_t me = mmf__os_getpid();
  for (struct mmf *m = reg_head; m; m = m->reg_next) {
    if (m->life < 0 || m->life == m->fd)
      continue; /* none, or no other open file could be had (no /proc) */
    mmf__os_close(m->life);
    m->life = -1;
    if (atomic_load(&m->id)) {
      atomic_store(&m->id, 0);
      atomic_store(&m->lost_id, true);
    }
    atomic_store(&m->raw_locked, 0); /* free: the parent's, not ours */
    m->opener = me;
  }
  reg_parent();
}

static void reg_install(void) {
  mmf__os_atfork(reg_prepare, reg_parent, reg_child);
}

/* Every region below that holds reg_mu or rejoin_mu across a cancellation
 * point (open, close) defers cancellation: a thread cancelled there would
 * leave the mutex locked, and every later open, close and fork() waiting. */
int mmf__holders_life(struct mmf *m) {
  pthread_once(&reg_once, reg_install);
  int c = mmf__os_cancel_off();
  pthread_mutex_lock(&reg_mu);
  int r = 0;
  if (m->life < 0) {
    int fd;
    /* A private mapping's life may write where the file may be written:
     * its lock (mmf_lock) is a write lock. */
    bool w = !m->readonly;
    r = mmf__os_reopen(m->fd, w, -1, NULL, &fd);
    struct mmf__where wh;
    if (r == -ENOENT && mmf__where_open(m->name, &wh) == 0) {
      /* No /proc: by name, if it still names this object. */
      r = mmf__os_reopen(m->fd, w, wh.dirfd, wh.base, &fd);
      mmf__where_close(&wh);
    }
    if (r == 0 || (r != -EMFILE && r != -ENFILE && r != -ENOMEM)) {
      /* Neither (no /proc, the name gone or replaced, the mode changed
       * since the open): the handle's own descriptor, which a fork
       * shares, as mmf.h says. */
      m->life = r == 0 ? fd : m->fd;
      r = 0;
    }
  }
  if (r == 0 && !m->registered) {
    m->reg_prev = NULL;
    m->reg_next = reg_head;
    if (reg_head)
      reg_head->reg_prev = m;
    reg_head = m;
    m->registered = true;
  }
  pthread_mutex_unlock(&reg_mu);
  mmf__os_cancel_restore(c);
  return r;
}

void mmf__holders_forget(struct mmf *m) {
  if (!m->registered)
    return;
  int c = mmf__os_cancel_off();
  pthread_mutex_lock(&reg_mu);
  if (m->reg_prev)
    m->reg_prev->reg_next = m->reg_next;
  else
    reg_head = m->reg_next;
  if (m->reg_next)
    m->reg_next->reg_prev = m->reg_prev;
  m->registered = false;
  if (m->life >= 0 && m->life != m->fd)
    mmf__os_close(m->life);
  m->life = -1;
  pthread_mutex_unlock(&reg_mu);
  mmf__os_cancel_restore(c);
}

int mmf__holders_rejoin(struct mmf *m) {
  int c = mmf__os_cancel_off();
  pthread_mutex_lock(&rejoin_mu);
  int r = 0;
  if (!atomic_load(&m->id))
    r = atomic_load(&m->lost_id) ? mmf__holders_join(m) : -EPERM;
  if (r == 0)
    atomic_store(&m->lost_id, false);
  pthread_mutex_unlock(&rejoin_mu);
  mmf__os_cancel_restore(c);
  return r;
}

int mmf__holders_join(struct mmf *m) {
  int r = mmf__holders_life(m);
  if (r < 0)
    return r;
  int fd = m->life;
  for (int tries = 0; tries < 64; tries++) {
    uint32_t id = mmf__os_random32() & MMF__ID_MASK;
    /* Not an id that a dead holder left in a lock word: we would find
     * ourselves holding, or be taken over as dead. */
    if (!id || (m->hdr && (id == (atomic_load(&m->hdr->wlock) & MMF__ID_MASK) ||
                           id == (atomic_load(&m->hdr->ulock) & MMF__ID_MASK))))
      continue;
    uint64_t byte = MMF__ID_BASE + id;
    /* A handle that may write holds its id with a write lock: exclusive,
     * so the kernel itself refuses a second holder of the id.  A read-only
     * handle can take only a read lock, and looks for company after. */
    r = mmf__os_range_lock(fd, m->readonly, byte, 1);
    struct mmf__held other;
    if (r == 0) {
      /* A read lock over many bytes is nobody's id (a reader of the object
       * placed it): no company. */
      if (!m->readonly ||
          (r = mmf__os_range_probe(fd, byte, 1, false, &other)) == 0 ||
          (r == 1 && other.len > 1 && !other.write)) {
        m->id = id;
        return 0;
      }
      (void)mmf__os_range_unlock(fd, byte, 1);
      if (r < 0)
        return r;
    } else if (r == -EAGAIN) {
      if ((r = mmf__os_range_probe(fd, byte, 1, false, &other)) < 0)
        return r;
      if (r == 0)
        continue; /* it went meanwhile: draw again */
    } else {
      return r;
    }
    /* Someone on our byte: another handle (draw again), or a write lock
     * over all ids, which only a remover takes. */
    if (other.len > 1 && other.write)
      return -ENOENT;
  }
  /* Every draw taken: someone holds locks over the whole range. */
  return -MMF_ESTUCK;
}

/* Would taking a write lock over every id succeed, i.e. is nobody there?
 * Taken (true) means `fd` now holds that lock. */
static bool claim_all(int fd) {
  return mmf__os_range_lock(fd, false, MMF__ID_BASE + 1, ID_RANGE) == 0;
}

static void unclaim_all(int fd) {
  (void)mmf__os_range_unlock(fd, MMF__ID_BASE + 1, ID_RANGE);
}

/* Remove the name of a transient map nobody holds; the caller holds the
 * write lock over the ids, so nobody can join meanwhile. */
static void remove_name(struct mmf *m) {
  struct mmf__where w;
  if (mmf__where_open(m->name, &w) < 0)
    return;
  (void)mmf__os_unlink_if_same(w.dirfd, w.base, &m->st);
  mmf__where_close(&w);
}

/* Someone else (the watcher) holds the write lock over the ids: the map is
 * being removed.  Wait, briefly, until its name is gone or names another
 * object, so that the caller sees the name free. */
static void await_removal(struct mmf *m) {
  struct mmf__where w;
  if (mmf__where_open(m->name, &w) < 0)
    return;
  for (int i = 0; i < 1000; i++) {
    struct stat now;
    if (mmf__os_stat_at(w.dirfd, w.base, &now) < 0 ||
        now.st_dev != m->st.st_dev || now.st_ino != m->st.st_ino)
      break;
    mmf__os_sleep_ms(1);
  }
  mmf__where_close(&w);
}

/* A transient map that nobody may hold any more, through `fd`: remove it
 * if nobody is there and `may_claim` (fd may take the write lock over the
 * ids), or wait for its removal if someone else (the watcher, a last
 * closer) holds that lock.  True when the map is gone or going; false when
 * someone holds it. */
static bool remove_unheld(struct mmf *m, int fd, bool may_claim) {
  if (may_claim && claim_all(fd)) {
    remove_name(m);
    unclaim_all(fd);
    return true;
  }
  /* A write lock over all ids is a remover's (the watcher's, a last
   * closer's): every handle's covers one byte. */
  struct mmf__held h;
  int r = mmf__os_range_probe(fd, MMF__ID_BASE + 1, ID_RANGE, false, &h);
  if (r == 1 && h.len > 1 && h.write) {
    await_removal(m);
    return true;
  }
  /* Nobody there but we may not remove it: gone all the same. */
  return r == 0;
}

void mmf__holders_leave(struct mmf *m) {
  /* The mapping holds the open file too: unmap first, so that closing the
   * descriptor drops the handle's locks there and then. */
  mmf__os_unmap(m->base, m->map_len);
  m->base = NULL;
  /* The id's lock belongs to the open file, which a forked child may
   * share: it is dropped by closing (the caller has unmapped, and a mapping
   * holds the open file too), never by F_UNLCK, so that it goes with the
   * last reference.  Only the opening process removes a transient
   * map, through an open file of its own: one that may write if the caller
   * may (a read-only handle of the owner), else a read-only one, which can
   * only see that nobody is left and wait for the watcher. */
  int fresh = -1;
  bool may_claim = false;
  if (m->id && m->transient && m->opener == mmf__os_getpid()) {
    struct mmf__where w;
    if (mmf__where_open(m->name, &w) == 0) {
      may_claim = mmf__os_reopen(m->fd, true, w.dirfd, w.base, &fresh) == 0;
      if (!may_claim)
        (void)mmf__os_reopen(m->fd, false, w.dirfd, w.base, &fresh);
      mmf__where_close(&w);
    }
  }
  mmf__holders_forget(m);
  mmf__os_close(m->fd);
  m->fd = -1;
  m->id = 0;
  if (fresh >= 0) {
    /* The last one out removes it; one that may not, sees nobody left
     * and waits for the watcher (woken by our close) to. */
    if (remove_unheld(m, fresh, may_claim) && !may_claim)
      await_removal(m);
    mmf__os_close(fresh);
  }
}

struct range {
  uint64_t lo, hi;
};

unsigned mmf__holders_count(struct mmf *m) {
  /* Every locked byte splits its range in two: 2k+1 probes for k holders.
   * Our own lock is invisible to our probes. */
  size_t cap = 64, n = 0;
  struct range *stack = malloc(cap * sizeof *stack);
  if (!stack)
    return 0;
  unsigned live = m->id ? 1 : 0;
  stack[n++] = (struct range){MMF__ID_BASE + 1, MMF__ID_BASE + ID_RANGE};
  while (n) {
    struct range r = stack[--n];
    struct mmf__held h;
    if (r.lo > r.hi)
      continue;
    int p;
    /* A failed probe (no memory for a lock record) is asked again rather
     * than read as "nobody". */
    for (int tries = 0;
         (p = mmf__os_range_probe(mmf__probe_fd(m), r.lo, r.hi - r.lo + 1,
                                  false, &h)) < 0 &&
         tries < 3;
         tries++)
      ;
    if (p != 1)
      continue;
    uint64_t at = h.start;
    if (h.len != 1 && !h.write) {
      /* A read lock over many ids is nobody's, and F_OFD_GETLK reports
       * the first conflicting lock: it would hide every id behind it.
       * Count them all from the kernel's table instead. */
      unsigned all;
      if (mmf__os_count_byte_locks(m->st.st_dev, m->st.st_ino, MMF__ID_BASE + 1,
                                   MMF__ID_BASE + ID_RANGE, &all) == 0) {
        free(stack);
        return all;
      }
    }
    if (at < r.lo || at > r.hi)
      continue; /* cannot be; do not loop on it */
    live++;
    if (n + 2 > cap) {
      struct range *bigger = realloc(stack, 2 * cap * sizeof *stack);
      if (!bigger)
        break;
      stack = bigger;
      cap *= 2;
    }
    stack[n++] = (struct range){r.lo, at - 1};
    stack[n++] = (struct range){at + 1, r.hi};
  }
  free(stack);
  return live;
}

bool mmf__holders_reap_orphan(struct mmf *m) {
  return m->transient && !m->id && remove_unheld(m, m->fd, !m->readonly);
}

struct find_id {
  uint64_t byte;
  pid_t pid;
};

static void match_id(void *ctx, pid_t pid, uint64_t start) {
  struct find_id *f = ctx;
  if (start == f->byte && (!f->pid || pid < f->pid))
    f->pid = pid; /* a forked child shares the handle: the parent first */
}

pid_t mmf__holder_pid(struct mmf *m, uint32_t id) {
  if (!id)
    return 0;
  if (id == m->id)
    return mmf__os_getpid();
  struct find_id f = {.byte = MMF__ID_BASE + id};
  if (mmf__os_lock_owners(m->st.st_dev, m->st.st_ino, f.byte, f.byte, match_id,
                          &f) < 0 ||
      !f.pid)
    return -1;
  return f.pid;
}

/* Every (pid, id byte) that holds a handle's lock. */
struct id_owners {
  struct {
    pid_t pid;
    uint64_t byte;
  } * v;
  size_t n, cap;
  bool nomem;
};

static void add_id_owner(void *ctx, pid_t pid, uint64_t start) {
  struct id_owners *s = ctx;
  if (s->n == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 64;
    void *bigger = realloc(s->v, cap * sizeof *s->v);
    if (!bigger) {
      s->nomem = true;
      return;
    }
    s->v = bigger;
    s->cap = cap;
  }
  s->v[s->n].pid = pid;
  s->v[s->n].byte = start;
  s->n++;
}

static int by_pid(const void *a, const void *b) {
  pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
  return (x > y) - (x < y);
}

int mmf__holder_pids(struct mmf *m, pid_t *pids, size_t cap, size_t *ret_count,
                     unsigned *ret_hidden) {
  struct id_owners s = {0};
  int r = mmf__os_lock_owners(m->st.st_dev, m->st.st_ino, MMF__ID_BASE + 1,
                              MMF__ID_BASE + ID_RANGE, add_id_owner, &s);
  if (r == 0 && s.nomem)
    r = -ENOMEM;
  pid_t *all = r == 0 ? malloc((s.n ? s.n : 1) * sizeof *all) : NULL;
  if (r == 0 && !all)
    r = -ENOMEM;
  if (r < 0) {
    free(s.v);
    return r;
  }
  /* Handles seen: distinct bytes (a fork shows one handle twice). */
  size_t handles = 0;
  for (size_t i = 0; i < s.n; i++) {
    bool dup = false;
    for (size_t j = 0; j < i && !dup; j++)
      dup = s.v[j].byte == s.v[i].byte;
    handles += !dup;
    all[i] = s.v[i].pid;
  }
  qsort(all, s.n, sizeof *all, by_pid);
  size_t n = 0;
  for (size_t i = 0; i < s.n; i++)
    if (!n || all[n - 1] != all[i])
      all[n++] = all[i];
  for (size_t i = 0; i < n && i < cap; i++)
    pids[i] = all[i];
  unsigned total = mmf__holders_count(m);
  *ret_count = n;
  *ret_hidden = total > handles ? total - (unsigned)handles : 0;
  free(all);
  free(s.v);
  return 0;
}
