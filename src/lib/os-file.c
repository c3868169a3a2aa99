/* SPDX-License-Identifier: MIT */
/* Files and folders: opening and creating objects without following
 * planted symlinks or blocking on FIFOs, hidden temporary names, sizes,
 * allocation, plain I/O, names.  Every fd O_CLOEXEC, every error a negative
 * errno. */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

int mmf__os_open_dir(const char *path, int *ret_fd) {
  int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  *ret_fd = fd;
  return 0;
}

int mmf__os_open_at(int dirfd, const char *base, bool write, bool nofollow,
                    int *ret_fd) {
  /* O_NONBLOCK: a FIFO would block the open until a writer came. */
  int fl = (write ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  if (nofollow)
    fl |= O_NOFOLLOW;
  int fd = openat(dirfd, base, fl);
  if (fd < 0) {
    if (errno == EISDIR || errno == ENXIO)
      return errno == EISDIR ? -EISDIR : -MMF_ENOTREG;
    return -errno;
  }
  struct stat st;
  if (fstat(fd, &st) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return S_ISDIR(st.st_mode) ? -EISDIR : -MMF_ENOTREG;
  }
  /* Back to blocking: on a regular file it only changes what copies see. */
  (void)fcntl(fd, F_SETFL, 0);
  *ret_fd = fd;
  return 0;
}

int mmf__os_reopen(int fd, bool write, int dirfd, const char *base,
                   int *ret_fd) {
  int fl = (write ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  char self[64];
  snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
  int nfd = open(self, fl);
  if (nfd < 0 && errno == ENOENT && dirfd >= 0) {
    /* No /proc (a chroot, a sandbox): by name, if it is still the same
     * object. */
    struct stat a, b;
    nfd = openat(dirfd, base, fl | O_NOFOLLOW);
    if (nfd >= 0 && (fstat(fd, &a) < 0 || fstat(nfd, &b) < 0 ||
                     a.st_dev != b.st_dev || a.st_ino != b.st_ino)) {
      close(nfd);
      errno = ENOENT;
      nfd = -1;
    }
  }
  if (nfd < 0)
    return -errno;
  *ret_fd = nfd;
  return 0;
}

int mmf__os_create_excl(int dirfd, const char *base, unsigned mode,
                        int *ret_fd) {
  int fd =
      openat(dirfd, base, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
             (mode_t)mode);
  if (fd < 0)
    return -errno;
  *ret_fd = fd;
  return 0;
}

int mmf__os_create_tmp(int dirfd, const char *base, int *ret_fd,
                       char ret_tmpname[static 300]) {
  /* An O_TMPFILE is named through /proc/self/fd: without /proc (a chroot,
   * a sandbox) take the hidden name at once. */
  int fd = access("/proc/self/fd", X_OK) == 0
               ? openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)
               : (errno = EOPNOTSUPP, -1);
  if (fd >= 0) {
    ret_tmpname[0] = '\0';
    *ret_fd = fd;
    return 0;
  }
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL &&
      errno != ENOENT)
    return -errno;
  /* No O_TMPFILE here: a hidden name that mmf_list skips, write-locked by
   * its creator for as long as it lives, so that a creator killed before it
   * could remove the name leaves something the next creator can sweep. */
  mmf__os_sweep_tmp(dirfd);
  for (int tries = 0; tries < 100; tries++) {
    snprintf(ret_tmpname, 300, MMF__TMP_PREFIX "%08x-%.200s",
             mmf__os_random32(), base);
    fd = openat(dirfd, ret_tmpname,
                O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) {
      (void)mmf__os_range_lock(fd, false, 0, 1);
      *ret_fd = fd;
      return 0;
    }
    if (errno != EEXIST)
      return -errno;
  }
  return -EEXIST;
}

void mmf__os_sweep_tmp(int dirfd) {
  int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return;
  DIR *d = fdopendir(fd);
  if (!d) {
    close(fd);
    return;
  }
  struct dirent *de;
  while ((de = readdir(d))) {
    if (strncmp(de->d_name, MMF__TMP_PREFIX, strlen(MMF__TMP_PREFIX)))
      continue;
    int f = openat(dirfd, de->d_name,
                   O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    if (f < 0)
      continue;
    struct stat st;
    /* Unlocked: its creator is gone (the kernel dropped the lock). */
    if (fstat(f, &st) == 0 && S_ISREG(st.st_mode) &&
        mmf__os_range_lock(f, false, 0, 1) == 0)
      (void)unlinkat(dirfd, de->d_name, 0);
    close(f);
  }
  closedir(d);
}

int mmf__os_link_tmp(int dirfd, int fd, const char *tmpname, const char *base) {
  if (tmpname[0]) {
    if (linkat(dirfd, tmpname, dirfd, base, 0) < 0)
      return -errno;
    (void)unlinkat(dirfd, tmpname, 0);
    /* Byte 0 is a raw map's user lock: the creator's mark must go. */
    (void)mmf__os_range_unlock(fd, 0, 1);
    return 0;
  }
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  if (linkat(AT_FDCWD, proc, dirfd, base, AT_SYMLINK_FOLLOW) < 0)
    return -errno;
  return 0;
}

void mmf__os_drop_tmp(int dirfd, const char *tmpname) {
  if (tmpname[0])
    (void)unlinkat(dirfd, tmpname, 0);
}

int mmf__os_list_dir(const char *path, char ***ret_names, size_t *ret_n) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  DIR *d = fdopendir(fd);
  if (!d) {
    int e = errno;
    close(fd);
    return -e;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  int r = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
      continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 32;
      char **nn = realloc(names, cap * sizeof *names);
      if (!nn) {
        r = -ENOMEM;
        break;
      }
      names = nn;
    }
    if (!(names[n] = strdup(de->d_name))) {
      r = -ENOMEM;
      break;
    }
    n++;
  }
  closedir(d);
  if (r < 0) {
    mmf__os_free_names(names, n);
    return r;
  }
  *ret_names = names;
  *ret_n = n;
  return 0;
}

void mmf__os_free_names(char **names, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
}

int mmf__os_fstat(int fd, struct stat *ret) {
  return fstat(fd, ret) < 0 ? -errno : 0;
}

int mmf__os_stat_at(int dirfd, const char *base, struct stat *ret) {
  return fstatat(dirfd, base, ret, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

bool mmf__os_dir_shared(int dirfd) {
  struct stat st;
  if (fstat(dirfd, &st) < 0)
    return false;
  return (st.st_mode & S_ISVTX) && (st.st_mode & (S_IWGRP | S_IWOTH));
}

bool mmf__os_owned_by_me(const struct stat *st) {
  return st->st_uid == geteuid();
}

int mmf__os_truncate(int fd, uint64_t size) {
  if (size > (uint64_t)INT64_MAX)
    return -EFBIG;
  return ftruncate(fd, (off_t)size) < 0 ? -errno : 0;
}

int mmf__os_fchmod(int fd, unsigned mode) {
  return fchmod(fd, (mode_t)mode) < 0 ? -errno : 0;
}

int mmf__os_fchown(int fd, uid_t uid, gid_t gid) {
  return fchown(fd, uid, gid) < 0 ? -errno : 0;
}

/* Allocate the pages a write is about to touch, so that a full file system
 * is an -ENOSPC here and not a SIGBUS in memcpy. */
/* fallocate and pwrite are cancellation points, and writers call these
 * with the writers' lock held: pthread_cancel is deferred across them. */
static int fallocate_nocancel(int fd, int mode, uint64_t off, uint64_t len) {
  int c = mmf__os_cancel_off();
  int r = fallocate(fd, mode, (off_t)off, (off_t)len) < 0 ? -errno : 0;
  mmf__os_cancel_restore(c);
  return r;
}

int mmf__os_reserve(int fd, uint64_t off, uint64_t len) {
  if (len == 0)
    return 0;
  return fallocate_nocancel(fd, FALLOC_FL_KEEP_SIZE, off, len);
}

int mmf__os_space(int dirfd, uint64_t *ret_avail, uint64_t *ret_total) {
  struct statvfs sv;
  if (fstatvfs(dirfd, &sv) < 0)
    return -errno;
  *ret_avail = (uint64_t)sv.f_bavail * sv.f_frsize;
  *ret_total = (uint64_t)sv.f_blocks * sv.f_frsize;
  return 0;
}

int mmf__os_release(int fd, uint64_t off, uint64_t len) {
  if (len == 0)
    return 0;
  return fallocate_nocancel(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off,
                            len);
}

int mmf__os_release_data(int fd, uint64_t off, uint64_t len) {
  /* Punching a huge range that is mostly holes costs the kernel a walk of
   * every mapper's page tables over all of it: punch only what SEEK_DATA
   * finds, so that the cost follows the pages held. */
  uint64_t end = off + len;
  while (off < end) {
    off_t d = lseek(fd, (off_t)off, SEEK_DATA);
    if (d < 0)
      return errno == ENXIO ? 0 : mmf__os_release(fd, off, end - off);
    if ((uint64_t)d >= end)
      return 0;
    off_t h = lseek(fd, d, SEEK_HOLE);
    uint64_t stop = h < 0 || (uint64_t)h > end ? end : (uint64_t)h;
    int r = mmf__os_release(fd, (uint64_t)d, stop - (uint64_t)d);
    if (r < 0)
      return r;
    off = stop;
  }
  return 0;
}

int mmf__os_pread(int fd, void *buf, size_t len, uint64_t off,
                  size_t *ret_done) {
  size_t done = 0;
  while (done < len) {
    ssize_t n =
        pread(fd, (uint8_t *)buf + done, len - done, (off_t)(off + done));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    if (n == 0)
      break;
    done += (size_t)n;
  }
  *ret_done = done;
  return 0;
}

int mmf__os_first_hole(int fd, uint64_t off, uint64_t *ret_off) {
  off_t h = lseek(fd, (off_t)off, SEEK_HOLE);
  if (h < 0)
    return -errno;
  *ret_off = (uint64_t)h;
  return 0;
}

int mmf__os_pwrite_all(int fd, const void *buf, size_t len, uint64_t off) {
  size_t done = 0;
  while (done < len) {
    size_t chunk = len - done > (1u << 30) ? (1u << 30) : len - done;
    ssize_t n =
        pwrite(fd, (const uint8_t *)buf + done, chunk, (off_t)(off + done));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    done += (size_t)n;
  }
  return 0;
}

int mmf__os_zero_fill(int fd, uint64_t off, uint64_t len) {
  static const uint8_t zeros[65536];
  int c = mmf__os_cancel_off(); /* as fallocate_nocancel */
  int r = 0;
  while (len && r == 0) {
    size_t n = len > sizeof zeros ? sizeof zeros : (size_t)len;
    r = mmf__os_pwrite_all(fd, zeros, n, off);
    off += n;
    len -= n;
  }
  mmf__os_cancel_restore(c);
  return r;
}

int mmf__os_write_counted(int fd, const void *p, size_t len,
                          size_t *ret_wrote) {
  const uint8_t *b = p;
  size_t wrote = 0;
  int r = 0;
  while (wrote < len) {
    size_t k = len - wrote;
    ssize_t n = write(fd, b + wrote, k > (1u << 30) ? (1u << 30) : k);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      r = -errno;
      break;
    }
    wrote += (size_t)n;
  }
  if (ret_wrote)
    *ret_wrote = wrote;
  return r;
}

int mmf__os_write_all(int fd, const void *p, size_t len) {
  return mmf__os_write_counted(fd, p, len, NULL);
}

int mmf__os_fsync(int fd) {
  return fsync(fd) < 0 ? -errno : 0;
}

int mmf__os_unlink_at(int dirfd, const char *base) {
  return unlinkat(dirfd, base, 0) < 0 ? -errno : 0;
}

int mmf__os_unlink_if_same(int dirfd, const char *base, const struct stat *st) {
  struct stat now;
  if (fstatat(dirfd, base, &now, AT_SYMLINK_NOFOLLOW) < 0)
    return -errno;
  if (now.st_dev != st->st_dev || now.st_ino != st->st_ino)
    return 0;
  return unlinkat(dirfd, base, 0) < 0 ? -errno : 0;
}

int mmf__os_rename_at(int dirfd, const char *from, const char *to) {
  return renameat(dirfd, from, dirfd, to) < 0 ? -errno : 0;
}

void mmf__os_close(int fd) {
  if (fd >= 0)
    (void)close(fd);
}
