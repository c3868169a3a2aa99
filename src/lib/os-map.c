/* SPDX-License-Identifier: MIT */
/* Mappings and their pages: mmap, msync, and filling page tables ahead of
 * the copies that would otherwise fault one page at a time. */
#include "internal.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

uint64_t mmf__os_page_size(void) {
  static _Atomic uint64_t cached;
  uint64_t v = atomic_load_explicit(&cached, memory_order_relaxed);
  if (!v) {
    long p = sysconf(_SC_PAGESIZE);
    v = p > 0 ? (uint64_t)p : 4096;
    atomic_store_explicit(&cached, v, memory_order_relaxed);
  }
  return v;
}

int mmf__os_map(int fd, size_t len, bool write, bool copy_on_write,
                void **ret) {
  if (len == 0) {
    *ret = NULL;
    return 0;
  }
  int prot = PROT_READ | (write ? PROT_WRITE : 0);
  void *p =
      mmap(NULL, len, prot, copy_on_write ? MAP_PRIVATE : MAP_SHARED, fd, 0);
  if (p == MAP_FAILED)
    return -errno;
  *ret = p;
  return 0;
}

void mmf__os_unmap(void *p, size_t len) {
  if (p && len)
    (void)munmap(p, len);
}

int mmf__os_msync(void *p, size_t len) {
  if (!p || !len)
    return 0;
  return msync(p, len, MS_SYNC) < 0 ? -errno : 0;
}

int mmf__os_populate(void *p, size_t len, bool write) {
  if (!len)
    return 0;
  /* madvise wants a page-aligned start. */
  uintptr_t page = (uintptr_t)mmf__os_page_size();
  uintptr_t a = (uintptr_t)p & ~(page - 1);
  len += (uintptr_t)p - a;
  if (madvise((void *)a, len,
              write ? MADV_POPULATE_WRITE : MADV_POPULATE_READ) < 0)
    return -errno;
  return 0;
}

void mmf__os_prefault(void *p, size_t len) {
  uintptr_t page = (uintptr_t)mmf__os_page_size();
  uintptr_t a = ((uintptr_t)p + page - 1) & ~(page - 1);
  uintptr_t end = ((uintptr_t)p + len) & ~(page - 1);
  if (end > a)
    (void)madvise((void *)a, end - a, MADV_POPULATE_WRITE);
}
