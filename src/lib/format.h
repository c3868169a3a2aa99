/* SPDX-License-Identifier: MIT */
/* The on-memory format of an mmf map (version 1).  docs/FORMAT.md explains
 * each field and the publication protocol.  Every field may have been
 * written by another process: nothing here is trusted without a check. */
#ifndef MMF_FORMAT_H
#define MMF_FORMAT_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#define MMF__MAGIC                                                             \
  "MMF\x1a"                                                                    \
  "map\0"
#define MMF__MAGIC_LEN 8
#define MMF__VERSION 1u
#define MMF__HDR_SIZE 4096u
#define MMF__HOLDERS_MAX 64u

enum {
  MMF__HF_TRANSIENT = 1u << 0,
  /* Its mode lets someone read who may not write: such readers cannot count
   * themselves in `waiters`, so writers wake sleepers after every write. */
  MMF__HF_WAKE_ALL = 1u << 1,
};

/* A cross-process lock (lock.c).  `word` is 0 when free, else the holder's
 * thread id, with MMF__LOCK_WAITERS set when someone may be sleeping. */
struct mmf__lock {
  _Atomic uint32_t word;
  _Atomic uint32_t owner_tid; /* the tid the fields below describe */
  _Atomic uint32_t owner_pid; /* its process, for reports */
  uint32_t pad;
  _Atomic uint64_t owner_start; /* its start time, against tid reuse */
};
#define MMF__LOCK_WAITERS 0x80000000u
#define MMF__LOCK_TID_MASK 0x3fffffffu

/* One of the two content slots. `gen` is odd while a writer fills it. */
struct mmf__slot {
  _Atomic uint64_t gen;
  _Atomic uint64_t len;
  _Atomic uint64_t seq;
  uint64_t pad[5];
};

struct mmf__holder {
  _Atomic uint32_t pid;
  uint32_t pad;
  _Atomic uint64_t start;
};

struct mmf__hdr {
  char magic[MMF__MAGIC_LEN]; /* 0: MMF__MAGIC, written last */
  uint32_t version;           /* 8 */
  uint32_t hdr_size;          /* 12: MMF__HDR_SIZE */
  uint64_t capacity;          /* 16: largest content */
  uint64_t stride;            /* 24: bytes between slots */
  uint32_t flags;             /* 32: MMF__HF_* */
  uint32_t pad0;
  uint8_t boot_id[16]; /* 40: boot that last used the locks */
  int64_t created_ns;  /* 56 */

  /* Publication: seq << 1 | slot of the published content. */
  alignas(64) _Atomic uint64_t state; /* 64 */
  _Atomic uint32_t seq32;             /* low 32 bits of seq: the futex word */
  _Atomic uint32_t waiters;           /* processes sleeping on seq32 */
  _Atomic uint32_t removed;           /* transient map: its name is gone */

  alignas(64) struct mmf__slot slot[2]; /* 128 */
  alignas(64) struct mmf__lock wlock;   /* 256: writers */
  alignas(64) struct mmf__lock ulock;   /* 320: mmf_lock */
  alignas(64) struct mmf__lock hlock;   /* 384: holders table */
  alignas(64) struct mmf__holder holders[MMF__HOLDERS_MAX]; /* 448 */
};

_Static_assert(sizeof(struct mmf__hdr) <= MMF__HDR_SIZE, "header too big");
_Static_assert(sizeof(_Atomic uint64_t) == 8, "lock-free 64-bit atomics");

#endif
