/* SPDX-License-Identifier: MIT */
/* Internal declarations shared by the files of libmmf.  Nothing here is
 * exported; see include/mmf.h for the public API. */
#ifndef MMF_INTERNAL_H
#define MMF_INTERNAL_H

#include "config.h" /* first: it decides what mmf.h exports */
#include "format.h"
#include "mmf.h"
#include "os.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#define MMF__SHM_DIR "/dev/shm"
/* The prefix of the hidden names of objects being created (os-file.c):
 * never a map's name, and skipped by mmf_list. */
#define MMF__TMP_PREFIX ".mmf-tmp-"

static inline void mmf__cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/* ---- name.c: names and paths ---- */
enum mmf__name_kind { MMF__NAME_SHM = 1, MMF__NAME_PATH = 2 };
/* Classify `name`: MMF__NAME_SHM, MMF__NAME_PATH, or -MMF_ENAME. */
int mmf__name_classify(const char *name);

/* A resolved name: a directory fd and the last component within it. */
struct mmf__where {
  int dirfd;
  char base[256];
  int kind; /* enum mmf__name_kind */
};
/* Open the directory that holds `name`; release with mmf__where_close(). */
int mmf__where_open(const char *name, struct mmf__where *ret);
void mmf__where_close(struct mmf__where *w);

/* ---- lock.c: cross-process locks named by handle ids ------------------- */
/* Is the handle `id` alive, asked from handle m (the kernel's lock table)? */
bool mmf__id_alive(struct mmf *m, uint32_t id);
/* 0 taken, MMF_LOCK_ABANDONED taken from a dead holder, -ETIMEDOUT,
 * -EDEADLK (`same_handle_waits` false and m holds it). timeout_ms -1: no
 * limit.  With `same_handle_waits`, another thread of m holding it is
 * waited for. */
int mmf__lock_acquire(struct mmf *m, _Atomic uint32_t *l, int timeout_ms,
                      bool same_handle_waits);
/* 0, or -EPERM when m does not hold it. */
int mmf__lock_release(struct mmf *m, _Atomic uint32_t *l);
bool mmf__lock_held_by(struct mmf *m, _Atomic uint32_t *l);
/* Release the lock words m holds, when m is this process's own handle
 * (not inherited through fork()) and its object was not shrunk. */
void mmf__lock_release_mine(struct mmf *m);
/* The live holder's id, or 0 when free or its holder is gone. */
uint32_t mmf__lock_owner(struct mmf *m, _Atomic uint32_t *l);

/* ---- handle.c: the handle ---- */
struct mmf {
  int fd;
  int life; /* holds the id's lock; m->fd where no other could be opened */
  enum mmf_kind kind;
  bool readonly;
  bool foreign_writes;  /* feat_write has bits this build does not know */
  bool copy_on_write;   /* a file mapped MAP_PRIVATE (MMF_PRIVATE) */
  bool transient;       /* the object's mode has the sticky bit */
  _Atomic bool compact; /* MMF_COMPACT seen: release, trust no page cache */
  _Atomic uint32_t id;  /* mmf maps: this handle's id, 0 for a probe */
  _Atomic bool lost_id; /* a forked child's copy: its parent's id dropped */
  struct mmf *reg_prev, *reg_next; /* handles with a life, for fork */
  bool registered;
  pid_t opener;        /* the process that opened it (a fork shares the rest) */
  unsigned long forks; /* mmf__os_forks() when opened */
  /* Threads share a handle: what any of them may change is atomic. */
  _Atomic bool no_reserve; /* the file system has no fallocate */
  _Atomic int raw_locked;  /* raw map or file: lock.c RAW_FREE, _HELD... */
  _Atomic uint64_t allocated[2]; /* bytes of each slot known allocated */
  _Atomic uint64_t backed[2];    /* bytes of each slot seen without a hole */
  _Atomic bool broken;   /* a peer shrank the object: never touch it again */
  _Atomic bool wake_all; /* the mode lets someone read who may not write */
  uint8_t *base;         /* the whole mapping */
  size_t map_len;        /* bytes mapped */
  /* mmf maps: private copies of the header fields, checked at open. */
  struct mmf__hdr *hdr;
  uint64_t capacity;
  uint64_t stride;
  uint64_t hdr_size;             /* where slot 0 starts: the map's alignment */
  _Atomic uint64_t populated[2]; /* bytes of each slot with page tables */
  _Atomic bool no_populate;      /* the kernel has no MADV_POPULATE_* */
  _Atomic int64_t size_checked;  /* coarse clock of the last size check */
  /* pin.c: this handle's pins (its threads'), and its writers' view of
   * everyone's. */
  _Atomic unsigned pins;           /* under pin.c's mutex */
  _Atomic unsigned long pin_epoch; /* the fork the count belongs to */
  _Atomic unsigned view_misses;    /* read_end overtaken in a row */
  _Atomic bool pin_seen;           /* the last probe found a pin */
  _Atomic int64_t pin_checked;     /* size_checked at the last probe */
  _Atomic int64_t pin_free_until;  /* ns: no waiting for pins before */
  struct stat st;                  /* identity of the object */
  char name[4096];
};

/* Is m a compact map?  The header's bit is read on every call (a handle
 * that opened before a peer set it must not trust what it remembers of the
 * slots' pages), and once seen it stays set for the handle: a peer that
 * clears it does not make this handle trust pages others punched. */
static inline bool mmf__compact(struct mmf *m) {
  if (atomic_load_explicit(&m->compact, memory_order_relaxed))
    return true;
  if (!(__atomic_load_n(&m->hdr->flags, __ATOMIC_RELAXED) & MMF__HF_COMPACT))
    return false;
  atomic_store_explicit(&m->compact, true, memory_order_relaxed);
  return true;
}

struct mmf *mmf__handle_new(void);
/* Unmap, close (which drops every kernel lock of the handle) and free; the
 * caller has first let go of its life (mmf__holders_forget). */
void mmf__handle_free(struct mmf *m);
int mmf__check_size_at(struct mmf *m, int64_t now);

/* Check that the object still has the size the handle mapped:
 * -MMF_ECORRUPT if a peer shrank it (and the handle never touches the map
 * again).  `always` checks now; otherwise at most once per tick of the
 * coarse clock, so that hot paths make no system call: a cycle counter
 * would be finer, but traps and costs more in some virtual machines. */
static inline int mmf__check_size(struct mmf *m, bool always) {
  if (atomic_load_explicit(&m->broken, memory_order_relaxed))
    return -MMF_ECORRUPT;
  int64_t now = mmf__os_coarse_ms();
  if (!always &&
      atomic_load_explicit(&m->size_checked, memory_order_relaxed) == now)
    return 0;
  return mmf__check_size_at(m, now);
}

static inline uint8_t *mmf__slot_data(const struct mmf *m, unsigned s) {
  return m->base + m->hdr_size + (uint64_t)s * m->stride;
}

/* ---- format.c ---- */
/* Slots are aligned to `align` (a power of two, 4096 at least): the
 * header takes the first `align` bytes, each slot a multiple of it. */
uint64_t mmf__stride_for(uint64_t capacity, uint64_t align);
uint64_t mmf__object_size_for(uint64_t capacity, uint64_t align);
/* The alignment of maps made here: the larger of 4096 and the page size. */
uint64_t mmf__align_here(void);
/* Fill a fresh header for a map of `capacity` bytes. */
void mmf__hdr_init(struct mmf__hdr *h, uint64_t capacity, uint32_t hflags,
                   uint64_t align);
/* Validate the header bytes `p` (object of `size` bytes); on success give
 * capacity, stride and where slot 0 starts.  -MMF_ENOTMMF, -MMF_EVERSION,
 * -MMF_ECORRUPT. */
int mmf__hdr_check(const void *p, uint64_t size, uint64_t *ret_capacity,
                   uint64_t *ret_stride, uint64_t *ret_hdr_size);

/* ---- holders.c ---- */
/* Give m an id and hold its byte; -ENOENT if the map is transient and its
 * last holder is gone (it is being removed, or an orphan, which is removed
 * when m may). */
int mmf__holders_join(struct mmf *m);
/* Leave (the caller has released its lock words): unmap and close; the last
 * holder of a transient map removes its name. */
void mmf__holders_leave(struct mmf *m);
/* The handle's life: the unmapped open file of its own that holds its
 * id's lock (and a raw map's lock), which a fork()ed child closes at once
 * (an atfork handler), so that no child keeps a dead handle alive.  Open
 * it if m has none: 0 or a negative error. */
int mmf__holders_life(struct mmf *m);
/* Close m's life (before its descriptor closes). */
void mmf__holders_forget(struct mmf *m);
/* A child's copy of a handle lost its parent's id at the fork: give it
 * one of its own.  0, or -EPERM for a handle that never had one. */
int mmf__holders_rejoin(struct mmf *m);
/* Where m asks about others' locks: its own are invisible from there. */
static inline int mmf__probe_fd(const struct mmf *m) {
  return m->life >= 0 ? m->life : m->fd;
}
/* Live handles (the kernel's count, m's own included). */
unsigned mmf__holders_count(struct mmf *m);
/* A transient map that nobody holds: remove it (if allowed); true if it was
 * an orphan. */
bool mmf__holders_reap_orphan(struct mmf *m);
/* The process that holds handle `id`, as this PID namespace sees it: 0 for
 * no id, -1 when no process we can see holds it (another namespace, or
 * /proc hides it). */
pid_t mmf__holder_pid(struct mmf *m, uint32_t id);
/* The pids (ascending, distinct, at most cap) of the visible processes that
 * hold handles of m; how many pids, and how many handles no visible
 * process holds. */
int mmf__holder_pids(struct mmf *m, pid_t *pids, size_t cap, size_t *ret_count,
                     unsigned *ret_hidden);

/* ---- publish.c: writers ---- */
/* The writers' lock (recovering after a dead writer): 0, -MMF_ESTUCK. */
int mmf__writers_lock(struct mmf *m);
void mmf__writers_unlock(struct mmf *m);
/* mmf_write_commit(), which also stores the seq it published in *ret_seq
 * (may be NULL). */
int mmf__write_commit(struct mmf *m, struct mmf_write_loan *w, size_t len,
                      uint64_t *ret_seq);
/* mmf_write_begin() that allocates only the loan's first `reserve_now`
 * bytes: the caller reserves the rest with mmf__slot_reserve() before it
 * stores there (a stream of unknown length costs what it brings). */
int mmf__write_begin(struct mmf *m, size_t size, size_t reserve_now,
                     struct mmf_write_loan *ret);
/* Allocate the first `len` bytes of slot s, which the caller holds open
 * (a full store: -ENOSPC). */
int mmf__slot_reserve(struct mmf *m, unsigned s, uint64_t len);
/* Give back the storage of [from, to) of slot s (from rounded up to a
 * page), which the caller holds open and reserved but did not fill: only
 * what it allocated itself (another handle may trust pages it reserved
 * earlier, and fallocated pages read as holes to SEEK_DATA). */
void mmf__slot_give_back(struct mmf *m, unsigned s, uint64_t from, uint64_t to);
/* Bytes an append brings from elsewhere (mmf_append_fd): fn stores at most
 * `room` bytes at `at` in slot s (held open under the writers' lock,
 * reserved up to `at`; it reserves the rest with mmf__slot_reserve()),
 * and says how many in *ret_got; a negative code abandons the append. */
struct mmf__fill {
  int (*fn)(void *ctx, struct mmf *m, unsigned s, uint64_t at, uint64_t room,
            uint64_t *ret_got);
  void *ctx;
  /* If not NULL, copies the kept content (len bytes at `from` of the map's
   * file to `to`) instead of memcpy, which maps the pages in. */
  int (*copy)(struct mmf *m, uint64_t from, uint64_t to, uint64_t len);
};
/* mmf_append_seq() whose data `fill` brings, after the separator. */
int mmf__append_fill(struct mmf *m, const void *sep, size_t sep_len,
                     const struct mmf__fill *fill, uint64_t *ret_seq);

/* ---- fdio.c ---- */
/* mmf_read_fd(); with `write_behind`, into a file's end the disk is given
 * each piece as it is copied (mmf_save, which then fsyncs). */
int mmf__read_fd(struct mmf *m, int fd, bool write_behind, size_t *ret_len,
                 uint64_t *ret_seq);

/* ---- read.c: readers ---- */
/* The current content's length and seq, without copying it. */
int mmf__content_peek(struct mmf *m, uint64_t *ret_len, uint64_t *ret_seq);

/* pin.c (readers that make writers wait, docs/FORMAT.md "Pins"): pin.h;
 * reserve.c (the slots' storage): reserve.h. */

/* ---- map.c ---- */
int mmf__open_at(const struct mmf__where *w, const char *name, int flags,
                 bool probe, struct mmf **ret);

#endif
