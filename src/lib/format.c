/* SPDX-License-Identifier: MIT */
/* The on-memory header: how big a map is, how a fresh header looks, and the
 * validation of header bytes that any process may have written. */
#include "internal.h"

#include <errno.h>
#include <string.h>

uint64_t mmf__stride_for(uint64_t capacity) {
  /* Page-aligned slots: reservations and zero-copy pointers stay aligned. */
  return (capacity + MMF__PAGE - 1) & ~(uint64_t)(MMF__PAGE - 1);
}

uint64_t mmf__object_size_for(uint64_t capacity) {
  return MMF__HDR_SIZE + 2 * mmf__stride_for(capacity);
}

void mmf__hdr_init(struct mmf__hdr *h, uint64_t capacity, uint32_t hflags) {
  /* The object is fresh (all zero): set only what is not zero, magic last. */
  h->version = MMF__VERSION;
  h->hdr_size = MMF__HDR_SIZE;
  h->capacity = capacity;
  h->stride = mmf__stride_for(capacity);
  h->flags = hflags;
  h->created_ns = mmf__os_now_ns();
  atomic_store_explicit(&h->state, 0, memory_order_relaxed);
  /* Slot 0 holds the empty content at seq 0; slot 1 nothing yet. */
  atomic_store_explicit(&h->slot[1].seq, MMF__SEQ_INVALID,
                        memory_order_relaxed);
  atomic_thread_fence(memory_order_release);
  memcpy(h->magic, MMF__MAGIC, MMF__MAGIC_LEN);
}

int mmf__hdr_check(const void *p, uint64_t size, uint64_t *ret_capacity,
                   uint64_t *ret_stride) {
  if (size < MMF__MAGIC_LEN || memcmp(p, MMF__MAGIC, MMF__MAGIC_LEN) != 0)
    return -MMF_ENOTMMF;
  if (size < MMF__HDR_SIZE)
    return -MMF_ECORRUPT;
  /* Copy the fixed fields once: a peer may change them while we look. */
  struct mmf__hdr h;
  memcpy(&h, p, offsetof(struct mmf__hdr, state));
  /* Version 1 kept thread ids in its lock words; its maps must be made
   * anew (mmf_strerror says so). */
  if (h.version != MMF__VERSION)
    return -MMF_EVERSION;
  if (h.hdr_size != MMF__HDR_SIZE)
    return -MMF_ECORRUPT;
  if (h.capacity == 0 || h.capacity > MMF_CAPACITY_MAX ||
      h.stride != mmf__stride_for(h.capacity))
    return -MMF_ECORRUPT;
  if (mmf__object_size_for(h.capacity) > size)
    return -MMF_ECORRUPT;
  *ret_capacity = h.capacity;
  *ret_stride = h.stride;
  return 0;
}
