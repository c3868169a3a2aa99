/* SPDX-License-Identifier: MIT */
/* The on-memory header: how big a map is, how a fresh header looks, and the
 * validation of header bytes that any process may have written. */
#include "internal.h"

#include <errno.h>
#include <string.h>

uint64_t mmf__stride_for(uint64_t capacity, uint64_t align) {
  /* Aligned slots: reservations, madvise and zero-copy pointers stay on
   * page boundaries, also on kernels with 16 or 64 KiB pages. */
  return (capacity + align - 1) & ~(align - 1);
}

uint64_t mmf__object_size_for(uint64_t capacity, uint64_t align) {
  return align + 2 * mmf__stride_for(capacity, align);
}

uint64_t mmf__align_here(void) {
  uint64_t page = mmf__os_page_size();
  return page > MMF__HDR_SIZE ? page : MMF__HDR_SIZE;
}

void mmf__hdr_init(struct mmf__hdr *h, uint64_t capacity, uint32_t hflags,
                   uint64_t align) {
  /* The object is fresh (all zero): set only what is not zero, magic last. */
  h->version = MMF__VERSION;
  h->hdr_size = (uint32_t)align;
  h->align = (uint32_t)align;
  h->capacity = capacity;
  h->stride = mmf__stride_for(capacity, align);
  h->flags = hflags;
  if (hflags & MMF__HF_COMPACT)
    h->feat_write = MMF__FW_COMPACT;
  h->created_ns = mmf__os_now_ns();
  atomic_store_explicit(&h->state, 0, memory_order_relaxed);
  /* Slot 0 holds the empty content at seq 0; slot 1 nothing yet. */
  atomic_store_explicit(&h->slot[1].seq, MMF__SEQ_INVALID,
                        memory_order_relaxed);
  atomic_thread_fence(memory_order_release);
  memcpy(h->magic, MMF__MAGIC, MMF__MAGIC_LEN);
}

int mmf__hdr_check(const void *p, uint64_t size, uint64_t *ret_capacity,
                   uint64_t *ret_stride, uint64_t *ret_hdr_size) {
  if (size < MMF__MAGIC_LEN || memcmp(p, MMF__MAGIC, MMF__MAGIC_LEN) != 0)
    return -MMF_ENOTMMF;
  if (size < MMF__HDR_SIZE)
    return -MMF_ECORRUPT;
  /* Copy the fixed fields once: a peer may change them while we look. */
  struct mmf__hdr h;
  memcpy(&h, p, offsetof(struct mmf__hdr, state));
  /* Version 1 kept thread ids in its lock words, version 2 tied append
   * chains to a seq; their maps must be made anew (mmf_strerror says so).
   * A feature this build does not know changes what some word means. */
  if (h.version != MMF__VERSION || (h.feat_read & ~MMF__FR_KNOWN))
    return -MMF_EVERSION;
  uint64_t align = h.align ? h.align : MMF__HDR_SIZE;
  if (align < MMF__HDR_SIZE || align > MMF__ALIGN_MAX ||
      (align & (align - 1)) || h.hdr_size != align)
    return -MMF_ECORRUPT;
  if (h.capacity == 0 || h.capacity > MMF__FORMAT_CAPACITY_MAX ||
      h.stride != mmf__stride_for(h.capacity, align))
    return -MMF_ECORRUPT;
  if (mmf__object_size_for(h.capacity, align) > size)
    return -MMF_ECORRUPT;
  *ret_capacity = h.capacity;
  *ret_stride = h.stride;
  *ret_hdr_size = align;
  return 0;
}
