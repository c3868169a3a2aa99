/* SPDX-License-Identifier: MIT */
/* The on-memory format of an mmf map (version 3).  docs/FORMAT.md explains
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
#define MMF__VERSION 3u
#define MMF__HDR_SIZE 4096u
/* The largest capacity the format allows (MMF_CAPACITY_MAX on 64-bit). */
#define MMF__FORMAT_CAPACITY_MAX ((uint64_t)1 << 44)
/* The largest slot alignment a header may give (a page size). */
#define MMF__ALIGN_MAX (1u << 20)

enum {
  /* Informative copy of the creator's choice; the file mode's sticky bit,
   * which only the owner can change, is what decides. */
  MMF__HF_TRANSIENT = 1u << 0,
  /* MMF_COMPACT: writers release the slot they unpublish.  Only a cost
   * depends on it (what a peer sets here changes no content). */
  MMF__HF_COMPACT = 1u << 1,
};

/* Features: a build that gives a word of the format a new meaning sets a
 * bit, so that builds which do not know it refuse what they would get
 * wrong.  feat_read: every opener must know each bit set (else
 * MMF_EVERSION); feat_write: every writer must (else its writes fail with
 * MMF_EVERSION; reading stays possible). */
enum {
  /* Writers release the unpublished slot (MMF__HF_COMPACT). */
  MMF__FW_COMPACT = 1u << 0,
};
#define MMF__FR_KNOWN 0u
#define MMF__FW_KNOWN ((uint32_t)MMF__FW_COMPACT)

/* Handles are named by a random 30-bit id.  Each handle holds the kernel's
 * open-file-description read lock on byte MMF__ID_BASE + id of the object:
 * the kernel drops it when the handle's descriptor closes or its process
 * dies, in any PID namespace, so a lock word naming an id is live exactly
 * while that byte is locked.  The range lies far beyond any object size. */
#define MMF__ID_BASE ((uint64_t)1 << 62)
#define MMF__ID_MASK 0x3fffffffu

/* A lock word: 0 free, else the holder's handle id, with MMF__LOCK_WAITERS
 * set when someone may be sleeping on it.  MMF__LOCK_HANDOFF alone (no id):
 * released to a sleeper just woken, which others leave to it for a moment,
 * so that a writer that locks again and again cannot starve the sleepers. */
#define MMF__LOCK_WAITERS 0x80000000u
#define MMF__LOCK_HANDOFF 0x40000000u

/* The futex word's top bit: someone sleeps on it (set by the sleeper with a
 * CAS, cleared by the writer's exchange, which therefore knows to wake). */
#define MMF__SEQ_SLEEPERS 0x80000000u

/* A slot's seq while a writer fills it and after an abort: matches no
 * published seq, so a reader that looked at `state` earlier refuses it. */
#define MMF__SEQ_INVALID UINT64_MAX

/* One of the two content slots. `gen` is odd while a writer fills it. */
struct mmf__slot {
  _Atomic uint64_t gen;
  _Atomic uint64_t len;
  _Atomic uint64_t seq;
  /* The seq where this content's append chain starts: every content
   * published after it, up to this one, was an mmf_append of the one
   * before.  A content that is not an append starts its own (chain ==
   * seq).  Readers take what was appended since a content they saw. */
  _Atomic uint64_t chain;
  /* The bytes in which this content differs from the one published before
   * it: every byte below `len` outside [delta_lo, delta_hi) is that
   * content's, and the bytes past that content's end lie inside.  A writer
   * whose other slot still holds that content copies only these. */
  _Atomic uint64_t delta_lo;
  _Atomic uint64_t delta_hi;
  /* The even `gen` the slot was closed with when chain and delta were
   * written: they count only while `gen` still equals it.  Any write
   * into the slot moves `gen`, so words left by a writer killed after
   * closing, or by a peer, never count for a later content. */
  _Atomic uint64_t tag;
  uint64_t pad;
};
_Static_assert(sizeof(struct mmf__slot) == 64, "a slot's words are 64 bytes");

struct mmf__hdr {
  char magic[MMF__MAGIC_LEN]; /* 0: MMF__MAGIC, written last */
  uint32_t version;           /* 8 */
  uint32_t hdr_size;          /* 12: where slot 0 starts (= align) */
  uint64_t capacity;          /* 16: largest content */
  uint64_t stride;            /* 24: bytes between slots */
  uint32_t flags;             /* 32: MMF__HF_* (informative) */
  /* 36: the slots' alignment: the larger of 4096 and the creator's page
   * size (0 in maps made before it was recorded: 4096). */
  uint32_t align;
  int64_t created_ns;  /* 40 */
  uint32_t feat_read;  /* 48: MMF__FR_*: openers must know each bit */
  uint32_t feat_write; /* 52: MMF__FW_*: writers must know each bit */

  /* Publication: seq << 1 | slot of the published content. */
  alignas(64) _Atomic uint64_t state; /* 64 */
  /* Low 31 bits of seq, | MMF__SEQ_SLEEPERS: the futex word waiters
   * sleep on. */
  _Atomic uint32_t seq32; /* 72 */

  alignas(64) struct mmf__slot slot[2]; /* 128 */
  alignas(64) _Atomic uint32_t wlock;   /* 256: writers */
  alignas(64) _Atomic uint32_t ulock;   /* 320: mmf_lock */
};

_Static_assert(sizeof(struct mmf__hdr) <= MMF__HDR_SIZE, "header too big");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "lock-free 64-bit atomics");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "lock-free 32-bit atomics");

#endif
