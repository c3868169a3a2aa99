/* SPDX-License-Identifier: MIT */
/* Copies between a map's file and another descriptor made by the kernel
 * (copy_file_range, sendfile, memfd snapshots), with the facts about the
 * other descriptor they need. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <unistd.h>

/* Errors that say "not this way" rather than "this failed". */
static bool cannot(int e) {
  return e == EXDEV || e == EINVAL || e == ENOSYS || e == EOPNOTSUPP ||
         e == EBADF || e == ESPIPE;
}

int mmf__os_copy_in(int from, int to, int to_own, uint64_t to_off, size_t len,
                    void *buf, size_t buf_len, int *way, size_t *ret_done) {
  size_t done = 0;
  while (done < len) {
    int how = *way & ~MMF__IN_WORKED;
    ssize_t n;
    if (how == MMF__IN_RANGE) {
      loff_t o = (loff_t)(to_off + done);
      n = copy_file_range(from, NULL, to, &o, len - done, 0);
    } else if (how == MMF__IN_SENDFILE) {
      /* sendfile writes at the target's offset: a description of the
       * caller's own, so that nobody else's offset moves. */
      if (lseek(to_own, (off_t)(to_off + done), SEEK_SET) < 0)
        return -errno;
      n = sendfile(to_own, from, NULL, len - done);
    } else if (how == MMF__IN_SPLICE) {
      /* A pipe: its pages move into the file in the kernel. */
      loff_t o = (loff_t)(to_off + done);
      n = splice(from, NULL, to, &o, len - done, SPLICE_F_MOVE);
    } else {
      /* Through a buffer of ours and pwrite: the map's pages are never
       * faulted into this process (they would count in its memory). */
      size_t want = len - done < buf_len ? len - done : buf_len;
      n = read(from, buf, want);
      if (n > 0) {
        int r = mmf__os_pwrite_all(to, buf, (size_t)n, to_off + done);
        if (r < 0)
          return r;
      }
    }
    if (n < 0 && errno == EINTR)
      continue;
    /* A way the kernel refuses here, or one that ends at once (files whose
     * size reads 0, such as /proc's, may copy nothing in the kernel):
     * the next way, until read() itself says where the end is. */
    if (how != MMF__IN_READ && !(*way & MMF__IN_WORKED) &&
        ((n < 0 && cannot(errno)) || n == 0)) {
      *way = how == MMF__IN_RANGE && to_own >= 0 ? MMF__IN_SENDFILE
             : how < MMF__IN_SPLICE              ? MMF__IN_SPLICE
                                                 : MMF__IN_READ;
      continue;
    }
    if (n < 0)
      return -errno;
    if (n == 0)
      break;
    *way |= MMF__IN_WORKED;
    done += (size_t)n;
  }
  *ret_done = done;
  return 0;
}

int mmf__os_read(int fd, void *buf, size_t len, size_t *ret_got) {
  for (;;) {
    ssize_t n = read(fd, buf, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -errno;
    *ret_got = (size_t)n;
    return 0;
  }
}

int mmf__os_copy_out(int from, uint64_t from_off, int to, size_t len) {
  size_t done = 0;
  bool kernel = true; /* copy_file_range, else sendfile */
  while (done < len) {
    loff_t o = (loff_t)(from_off + done);
    ssize_t n = kernel ? copy_file_range(from, &o, to, NULL, len - done, 0)
                       : sendfile(to, from, &o, len - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      /* Another file system (tmpfs to a disk): sendfile writes a regular
       * file at its offset just the same. */
      if (done == 0 && kernel && cannot(errno)) {
        kernel = false;
        continue;
      }
      if (done == 0 && cannot(errno))
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

int mmf__os_copy_within(int fd, uint64_t from, uint64_t to, uint64_t len) {
  uint64_t done = 0;
  while (done < len) {
    loff_t i = (loff_t)(from + done), o = (loff_t)(to + done);
    ssize_t n = copy_file_range(fd, &i, fd, &o, len - done, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && done == 0 && cannot(errno))
      break; /* an older kernel: through a buffer */
    if (n < 0)
      return -errno;
    if (n == 0)
      return -EIO;
    done += (uint64_t)n;
  }
  if (done == len)
    return 0;
  static const size_t buf_len = 256u << 10;
  uint8_t *buf = malloc(buf_len);
  if (!buf)
    return -ENOMEM;
  int r = 0;
  while (r == 0 && done < len) {
    size_t want = len - done < buf_len ? (size_t)(len - done) : buf_len, got;
    if ((r = mmf__os_pread(fd, buf, want, from + done, &got)) < 0)
      break;
    if (got < want)
      memset(buf + got, 0, want - got);
    if ((r = mmf__os_pwrite_all(fd, buf, want, to + done)) == 0)
      done += want;
  }
  free(buf);
  return r;
}

bool mmf__os_at_end(int fd, int64_t *ret_pos, int64_t *ret_end) {
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
    return false;
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0)
    return false;
  off_t o = (fl & O_APPEND) ? st.st_size : lseek(fd, 0, SEEK_CUR);
  if (o < 0 || o < st.st_size)
    return false;
  *ret_pos = o;
  *ret_end = st.st_size;
  return true;
}

int mmf__os_cut_back(int fd, int64_t pos, int64_t end, int64_t made) {
  struct stat st;
  if (fstat(fd, &st) < 0)
    return -errno;
  /* Someone else wrote to the file meanwhile: what is past `end` is no
   * longer all ours to take back. */
  if (st.st_size != made)
    return -MMF_EOVERTAKEN;
  if (made != end && ftruncate(fd, end) < 0)
    return -errno;
  return lseek(fd, pos, SEEK_SET) < 0 ? -errno : 0;
}

void mmf__os_write_behind(int fd, int64_t off, uint64_t len) {
  (void)sync_file_range(fd, off, (off_t)len, SYNC_FILE_RANGE_WRITE);
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
    if (n < 0 && done == 0 && cannot(errno))
      break; /* an O_APPEND file, say: through a buffer */
    if (n < 0)
      return -errno;
    if (n == 0)
      return -EIO;
    done += (size_t)n;
  }
  if (done == len)
    return 0;
  static const size_t buf_len = 256u << 10;
  uint8_t *buf = malloc(buf_len);
  if (!buf)
    return -ENOMEM;
  int r = 0;
  while (r == 0 && done < len) {
    size_t want = len - done < buf_len ? len - done : buf_len, got;
    if ((r = mmf__os_pread(from, buf, want, done, &got)) < 0)
      break;
    if (got == 0)
      r = -EIO;
    else if ((r = mmf__os_write_all(to, buf, got)) == 0)
      done += got;
  }
  free(buf);
  return r;
}
