/* SPDX-License-Identifier: MIT */
/* What a map costs its store, and what the store has left: so that a
 * caller can tell, before creating a map, whether its capacity fits. */
#include "internal.h"

#include <errno.h>

MMF_EXPORT uint64_t mmf_footprint(size_t capacity, int flags) {
  if (flags & MMF_RAW)
    return capacity;
  uint64_t align = mmf__align_here();
  if (flags & MMF_COMPACT)
    return align + mmf__stride_for(capacity, align);
  return mmf__object_size_for(capacity, align);
}

MMF_EXPORT int mmf_store_space(const char *name, uint64_t *ret_avail,
                               uint64_t *ret_total) {
  if (!ret_avail)
    return -EINVAL;
  struct mmf__where w;
  int r = mmf__where_open(name, &w);
  if (r < 0)
    return r;
  uint64_t avail, total;
  r = mmf__os_space(w.dirfd, &avail, &total);
  mmf__where_close(&w);
  if (r < 0)
    return r;
  *ret_avail = avail;
  if (ret_total)
    *ret_total = total;
  return 0;
}
