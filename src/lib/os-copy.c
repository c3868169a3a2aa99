/* SPDX-License-Identifier: MIT */
/* Copies between a map's file and another descriptor made by the kernel
 * (copy_file_range, sendfile, memfd snapshots), with the facts about the
 * other descriptor they need. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <unistd.h>

int mmf__os_copy_in(int from, int to, uint64_t to_off, size_t len, uint8_t *map,
                    size_t *ret_done) {
  size_t done = 0;
  bool kernel = true;
  while (done < len) {
    ssize_t n;
    if (kernel) {
      loff_t o = (loff_t)(to_off + done);
      n = copy_file_range(from, NULL, to, &o, len - done, 0);
      if (n < 0 &&
          (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
           errno == EOPNOTSUPP || errno == EBADF) &&
          done == 0) {
        kernel = false; /* a pipe or a terminal: read it */
        continue;
      }
    } else {
      n = read(from, map + done, len - done);
    }
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

int mmf__os_copy_out(int from, uint64_t from_off, int to, size_t len) {
  size_t done = 0;
  while (done < len) {
    loff_t o = (loff_t)(from_off + done);
    ssize_t n = copy_file_range(from, &o, to, NULL, len - done, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (done == 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
                        errno == EOPNOTSUPP))
        return -EXDEV;
      return -errno;
    }
    if (n == 0)
      return -EIO;
    done += (size_t)n;
  }
  return 0;
}

bool mmf__os_regular(int fd, int64_t *ret_off) {
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
    return false;
  /* copy_file_range refuses O_APPEND targets (">>" in a shell). */
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || (fl & O_APPEND))
    return false;
  off_t o = lseek(fd, 0, SEEK_CUR);
  if (o < 0)
    return false;
  *ret_off = o;
  return true;
}

int mmf__os_snapshot(int from, uint64_t off, size_t len, int *ret_fd) {
  int fd = memfd_create("mmf-snapshot", MFD_CLOEXEC);
  if (fd < 0)
    return errno == ENOSYS || errno == EINVAL ? -EXDEV : -errno;
  size_t done = 0;
  while (done < len) {
    off_t o = (off_t)(off + done);
    ssize_t n = sendfile(fd, from, &o, len - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int e = n < 0 ? errno : EIO;
      close(fd);
      return done == 0 && (e == EINVAL || e == ENOSYS) ? -EXDEV : -e;
    }
    done += (size_t)n;
  }
  *ret_fd = fd;
  return 0;
}

int mmf__os_send(int from, int to, size_t len) {
  size_t done = 0;
  while (done < len) {
    off_t o = (off_t)done;
    ssize_t n = sendfile(to, from, &o, len - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && done == 0 && (errno == EINVAL || errno == ENOSYS))
      return -EXDEV;
    if (n < 0)
      return -errno;
    if (n == 0)
      return -EIO;
    done += (size_t)n;
  }
  return 0;
}
