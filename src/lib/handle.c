/* SPDX-License-Identifier: MIT */
/* The handle itself: making and freeing one, and the check that its object
 * still has the size it mapped, which every call that touches a mapping
 * makes first. */
#include "internal.h"

#include <stdlib.h>

struct mmf *mmf__handle_new(void) {
  struct mmf *m = calloc(1, sizeof *m);
  if (m)
    m->fd = m->life = -1;
  return m;
}

void mmf__handle_free(struct mmf *m) {
  mmf__os_unmap(m->base, m->map_len);
  mmf__os_close(m->fd); /* drops every kernel lock of the handle */
  free(m);
}

int mmf__check_size_at(struct mmf *m, int64_t now) {
  struct stat st;
  int r = mmf__os_fstat(m->fd, &st);
  if (r < 0)
    return r;
  if ((uint64_t)st.st_size < m->map_len) {
    /* A peer shrank it: touching the tail would fault.  The handle never
     * touches the mapping again, mmf_close included. */
    atomic_store(&m->broken, true);
    return -MMF_ECORRUPT;
  }
  /* The mode may have changed (chmod): readers who cannot write must be
   * woken by every write. */
  bool ro_readers = ((st.st_mode & 040) && !(st.st_mode & 020)) ||
                    ((st.st_mode & 04) && !(st.st_mode & 02));
  atomic_store_explicit(&m->wake_all, ro_readers, memory_order_relaxed);
  atomic_store_explicit(&m->size_checked, now, memory_order_relaxed);
  return 0;
}
