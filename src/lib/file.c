/* SPDX-License-Identifier: MIT */
/* Existing files: mapping one whole, and saving a map's content to one. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

MMF_EXPORT int mmf_map_file(const char *path, int flags, mmf_t **ret) {
  if (!path || !path[0] || !ret ||
      (flags & ~(MMF_READONLY | MMF_PRIVATE | MMF_POPULATE)))
    return -EINVAL;
  struct mmf *m = mmf__handle_new();
  if (!m)
    return -ENOMEM;
  m->kind = MMF_KIND_FILE;
  m->readonly = flags & MMF_READONLY;
  m->copy_on_write = flags & MMF_PRIVATE;
  snprintf(m->name, sizeof m->name, "%s", path);
  /* A private mapping may be written even when the file may not. */
  int r = mmf__os_open_at(AT_FDCWD, path, !m->readonly && !m->copy_on_write,
                          false, &m->fd);
  if (r < 0)
    goto fail;
  if ((r = mmf__os_fstat(m->fd, &m->st)) < 0)
    goto fail;
  if (S_ISDIR(m->st.st_mode)) {
    r = -EISDIR;
    goto fail;
  }
  if (!S_ISREG(m->st.st_mode)) {
    r = -EINVAL;
    goto fail;
  }
  if ((uint64_t)m->st.st_size > SIZE_MAX / 2) {
    r = -EFBIG;
    goto fail;
  }
  m->map_len = (size_t)m->st.st_size;
  if ((r = mmf__os_map(m->fd, m->map_len, !m->readonly, m->copy_on_write,
                       (void **)&m->base)) < 0)
    goto fail;
  if (flags & MMF_POPULATE)
    (void)mmf__os_populate(m->base, m->map_len, false); /* a hint */
  *ret = m;
  return 0;
fail:
  mmf__holders_forget(m);
  mmf__handle_free(m);
  return r;
}

/* The bytes of m into the new file fd, in bounded memory: the kernel
 * copies from the map's file (a content overtaken meanwhile is cut off and
 * copied again: mmf_read_fd); a private mapping's own bytes from memory. */
static int save_into(struct mmf *m, int fd) {
  if (m->kind == MMF_KIND_MMF)
    return mmf__read_fd(m, fd, true, NULL, NULL);
  if (!m->copy_on_write) {
    int r = mmf__os_copy_out(m->fd, 0, fd, m->map_len);
    if (r != -EXDEV)
      return r;
  }
  return mmf__os_write_all(fd, m->base, m->map_len);
}

MMF_EXPORT int mmf_save(mmf_t *m, const char *path) {
  if (!m || !path || !path[0])
    return -EINVAL;
  int r = mmf__check_size(m, true);
  if (r < 0)
    return r;
  /* Resolve the folder and the file's own name. */
  char dir[4096];
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  if (!base[0])
    return -EISDIR;
  if (slash) {
    size_t dl = (size_t)(slash - path);
    if (dl >= sizeof dir)
      return -ENAMETOOLONG;
    memcpy(dir, path, dl ? dl : 1);
    dir[dl ? dl : 1] = '\0';
  } else {
    strcpy(dir, ".");
  }
  int dirfd;
  if ((r = mmf__os_open_dir(dir, &dirfd)) < 0)
    return r;
  /* What is there now: a regular file is replaced, keeping its mode and
   * owner; anything else (a device such as /dev/null, a FIFO, a symlink, a
   * folder) is refused, never replaced.  A new file gets the map's
   * permission bits, so an owner-only map is not saved readable by all. */
  struct stat old;
  bool exists = false;
  unsigned mode = 0600;
  r = mmf__os_stat_at(dirfd, base, &old);
  if (r == 0) {
    if (!S_ISREG(old.st_mode)) {
      r = S_ISDIR(old.st_mode) ? -EISDIR : -MMF_ENOTREG;
      goto out;
    }
    exists = true;
    mode = old.st_mode & 0777;
  } else if (r != -ENOENT) {
    goto out;
  } else {
    struct stat ms;
    if (mmf__os_fstat(m->fd, &ms) == 0)
      mode = ms.st_mode & 0666;
  }
  char tmp[300];
  int fd = -1;
  for (int tries = 0; tries < 100; tries++) {
    snprintf(tmp, sizeof tmp, ".%.200s.mmf-save-%u-%d", base,
             (unsigned)mmf__os_getpid(), tries);
    r = mmf__os_create_excl(dirfd, tmp, 0666, &fd);
    if (r != -EEXIST)
      break;
  }
  if (r < 0)
    goto out;
  r = mmf__os_fchmod(fd, mode);
  if (r == 0 && exists)
    (void)mmf__os_fchown(fd, old.st_uid, old.st_gid); /* where we may */
  if (r == 0)
    r = save_into(m, fd);
  if (r == 0)
    r = mmf__os_fsync(fd);
  mmf__os_close(fd);
  if (r == 0)
    r = mmf__os_rename_at(dirfd, tmp, base);
  if (r < 0)
    (void)mmf__os_unlink_at(dirfd, tmp);
out:
  mmf__os_close(dirfd);
  return r;
}
