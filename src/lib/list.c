/* SPDX-License-Identifier: MIT */
/* Listing and inspecting maps by name, without keeping them open. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t ts_ns(struct timespec ts) {
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Describe the object w->base, changing nothing: an orphaned transient map
 * is reported as such.  An object we may not open, or whose mmf header is
 * unsound, is still described from its inode, with `error` set. */
static int describe(const struct mmf__where *w, const char *name,
                    struct mmf_info *ret) {
  struct mmf_info in;
  memset(&in, 0, sizeof in);
  snprintf(in.name, sizeof in.name, "%s", w->base);
  struct stat st;
  int r = mmf__os_stat_at(w->dirfd, w->base, &st);
  if (r < 0)
    return r;
  if (!S_ISREG(st.st_mode))
    return -MMF_ENOTREG;
  in.kind = w->kind == MMF__NAME_PATH ? MMF_KIND_FILE : MMF_KIND_RAW;
  in.object_size = (uint64_t)st.st_size;
  in.capacity = in.length = (size_t)st.st_size;
  in.mode = st.st_mode & 07777;
  in.owner = st.st_uid;
  in.group = st.st_gid;
  in.mtime_ns = ts_ns(st.st_mtim);
  in.ctime_ns = ts_ns(st.st_ctim);

  struct mmf *m;
  r = mmf__open_at(w, name, 0, true, &m);
  if (r == -MMF_ENOTMMF) {
    *ret = in;
    return 0;
  }
  if (r < 0) {
    if (r == -MMF_ECORRUPT || r == -MMF_EVERSION)
      in.kind = MMF_KIND_MMF;
    in.capacity = in.length = 0;
    in.error = r;
    *ret = in;
    return r;
  }
  /* No lock of the map is waited for here: the holders and the lock's
   * owner come from the kernel's lock table, the content from one look
   * that reports a broken header at once. */
  struct mmf_stat s;
  r = mmf_stat(m, &s);
  mmf_close(m); /* a probe never joined the holders */
  in.kind = MMF_KIND_MMF;
  if (r < 0) {
    in.capacity = in.length = 0;
    in.error = r;
    *ret = in;
    return r;
  }
  in.capacity = s.capacity;
  in.length = s.length;
  in.seq = s.seq;
  in.transient = s.transient;
  in.holders = s.holders;
  in.lock_pid = s.lock_pid;
  /* A probe never joins, so nobody counted means nobody holds it: gone but
   * for its name, which removal is for. */
  in.orphaned = s.transient && s.holders == 0;
  *ret = in;
  return 0;
}

MMF_EXPORT int mmf_info(const char *name, struct mmf_info *ret) {
  if (!ret)
    return -EINVAL;
  struct mmf__where w;
  int r = mmf__where_open(name, &w);
  if (r < 0)
    return r;
  r = describe(&w, name, ret);
  mmf__where_close(&w);
  return r;
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const struct mmf_info *)a)->name,
                ((const struct mmf_info *)b)->name);
}

MMF_EXPORT int mmf_list(struct mmf_info **ret_list, size_t *ret_count) {
  if (!ret_list || !ret_count)
    return -EINVAL;
  char **names;
  size_t n;
  int r = mmf__os_list_dir(MMF__SHM_DIR, &names, &n);
  if (r < 0)
    return r;
  struct mmf_info *out = calloc(n ? n : 1, sizeof *out);
  if (!out) {
    mmf__os_free_names(names, n);
    return -ENOMEM;
  }
  struct mmf__where w = {.kind = MMF__NAME_SHM};
  if ((r = mmf__os_open_dir(MMF__SHM_DIR, &w.dirfd)) < 0) {
    free(out);
    mmf__os_free_names(names, n);
    return r;
  }
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (!strncmp(names[i], MMF__TMP_PREFIX, strlen(MMF__TMP_PREFIX)))
      continue; /* one being created (or a dead creator's, swept later) */
    if (strlen(names[i]) >= sizeof w.base)
      continue;
    strcpy(w.base, names[i]);
    r = describe(&w, names[i], &out[k]);
    if (r == 0 || out[k].error)
      k++;
    /* else: gone meanwhile, or not a regular file */
  }
  mmf__where_close(&w);
  mmf__os_free_names(names, n);
  qsort(out, k, sizeof *out, by_name);
  *ret_list = out;
  *ret_count = k;
  return 0;
}

MMF_EXPORT int mmf_holders(const char *name, pid_t *ret_pids, size_t cap,
                           size_t *ret_count, unsigned *ret_hidden) {
  if (!ret_count || (cap && !ret_pids))
    return -EINVAL;
  struct mmf__where w;
  int r = mmf__where_open(name, &w);
  if (r < 0)
    return r;
  struct mmf *m;
  r = mmf__open_at(&w, name, 0, true, &m);
  mmf__where_close(&w);
  if (r == -MMF_ENOTMMF)
    return -MMF_ERAW;
  if (r < 0)
    return r;
  size_t n;
  unsigned hidden;
  r = m->kind == MMF_KIND_MMF ? mmf__holder_pids(m, ret_pids, cap, &n, &hidden)
                              : -MMF_ERAW;
  mmf_close(m);
  if (r < 0)
    return r;
  *ret_count = n;
  if (ret_hidden)
    *ret_hidden = hidden;
  return 0;
}
