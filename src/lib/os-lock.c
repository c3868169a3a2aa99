/* SPDX-License-Identifier: MIT */
/* Open-file-description locks on byte ranges, and which processes hold
 * them (the "lock:" lines of /proc/PID/fdinfo). */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

static int ofd_fcntl(int fd, int cmd, short type, uint64_t start, uint64_t len,
                     struct flock *ret) {
  struct flock fl = {.l_type = type,
                     .l_whence = SEEK_SET,
                     .l_start = (off_t)start,
                     .l_len = (off_t)len};
  int r;
  do
    r = fcntl(fd, cmd, &fl);
  while (r < 0 && errno == EINTR && cmd == F_OFD_SETLKW);
  if (r < 0)
    return (errno == EACCES || errno == EAGAIN) ? -EAGAIN : -errno;
  if (ret)
    *ret = fl;
  return 0;
}

int mmf__os_range_lock(int fd, bool shared, uint64_t start, uint64_t len) {
  return ofd_fcntl(fd, F_OFD_SETLK, shared ? F_RDLCK : F_WRLCK, start, len,
                   NULL);
}

int mmf__os_range_lock_wait(int fd, bool shared, uint64_t start, uint64_t len) {
  return ofd_fcntl(fd, F_OFD_SETLKW, shared ? F_RDLCK : F_WRLCK, start, len,
                   NULL);
}

int mmf__os_range_unlock(int fd, uint64_t start, uint64_t len) {
  return ofd_fcntl(fd, F_OFD_SETLK, F_UNLCK, start, len, NULL);
}

int mmf__os_range_probe(int fd, uint64_t start, uint64_t len, bool writers_only,
                        struct mmf__held *ret) {
  /* A read lock asked about conflicts with write locks only. */
  struct flock fl = {.l_type = F_UNLCK};
  int r = ofd_fcntl(fd, F_OFD_GETLK, writers_only ? F_RDLCK : F_WRLCK, start,
                    len, &fl);
  if (r < 0)
    return r;
  if (fl.l_type == F_UNLCK)
    return 0;
  if (ret)
    *ret = (struct mmf__held){.start = (uint64_t)fl.l_start,
                              .len = (uint64_t)fl.l_len,
                              .write = fl.l_type == F_WRLCK};
  return 1;
}

/* Bounds on one owner lookup: a host with a million descriptors or a
 * /proc that answers slowly makes it give up (owners unknown), not hang. */
#define OWNERS_MAX_FILES (1u << 20)
#define OWNERS_MAX_NS (2 * 1000000000ll)

static int64_t mono_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Parse /proc/PID/fdinfo/FD: its "ino:" line (where the kernel prints one)
 * and its "lock:" lines, "lock:\t1: OFDLCK ADVISORY  READ -1 00:1a:3 START
 * END", which name the locked file by MAJOR:MINOR:INODE themselves.  Only
 * the kernel's own text is read: the descriptor's file is never touched
 * (a stat() of /proc/PID/fd/N would ask its file system, which may never
 * answer: a dead NFS server, a stuck FUSE daemon). */
static void fdinfo_locks(int fd, pid_t pid, dev_t dev, ino_t ino, uint64_t lo,
                         uint64_t hi, void (*fn)(void *, pid_t, uint64_t),
                         void *ctx) {
  FILE *f = fdopen(fd, "r");
  if (!f) {
    close(fd);
    return;
  }
  char line[512];
  while (fgets(line, sizeof line, f)) {
    unsigned long long in;
    if (sscanf(line, "ino: %llu", &in) == 1) {
      if ((ino_t)in != ino)
        break; /* another file: its locks are not ours */
      continue;
    }
    if (strncmp(line, "lock:", 5) || strstr(line, "->"))
      continue;
    unsigned maj, min;
    unsigned long long start;
    char *colon = strchr(line + 5, ':'); /* after the lock's number */
    if (!colon || sscanf(colon + 1, " %*s %*s %*s %*d %x:%x:%llu %llu", &maj,
                         &min, &in, &start) != 4)
      continue;
    if (makedev(maj, min) == dev && (ino_t)in == ino && start >= lo &&
        start <= hi)
      fn(ctx, pid, start);
  }
  fclose(f);
}

int mmf__os_lock_owners(dev_t dev, ino_t ino, uint64_t lo, uint64_t hi,
                        void (*fn)(void *ctx, pid_t pid, uint64_t start),
                        void *ctx) {
  DIR *proc = opendir("/proc");
  if (!proc)
    return -errno;
  int64_t deadline = mono_ns() + OWNERS_MAX_NS;
  unsigned files = 0;
  int r = 0;
  struct dirent *de;
  while (r == 0 && (de = readdir(proc))) {
    char *endp;
    long pid = strtol(de->d_name, &endp, 10);
    if (*endp || pid <= 0)
      continue;
    char path[384];
    snprintf(path, sizeof path, "/proc/%ld/fdinfo", pid);
    int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
      continue; /* gone, or not ours to look at */
    DIR *fds = fdopendir(dfd);
    if (!fds) {
      close(dfd);
      continue;
    }
    struct dirent *fe;
    while ((fe = readdir(fds))) {
      if (fe->d_name[0] == '.')
        continue;
      if (++files > OWNERS_MAX_FILES || mono_ns() > deadline) {
        r = -ETIMEDOUT;
        break;
      }
      int ifd = openat(dirfd(fds), fe->d_name, O_RDONLY | O_CLOEXEC);
      if (ifd >= 0)
        fdinfo_locks(ifd, (pid_t)pid, dev, ino, lo, hi, fn, ctx);
    }
    closedir(fds);
  }
  closedir(proc);
  return r;
}

int mmf__os_count_byte_locks(dev_t dev, ino_t ino, uint64_t lo, uint64_t hi,
                             unsigned *ret_count) {
  /* Open-file-description locks are listed whatever the reader's PID
   * namespace or hidepid (their pid is -1); the file is named by
   * MAJOR:MINOR:INODE, not by a process. */
  FILE *f = fopen("/proc/locks", "re");
  if (!f)
    return -errno;
  unsigned n = 0;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    /* "1: OFDLCK ADVISORY  READ -1 00:1b:23616 START END"; a "->" line is
     * a lock being waited for, not held.  Handles hold OFD locks only. */
    if (strstr(line, "->") || !strstr(line, " OFDLCK "))
      continue;
    unsigned maj, min;
    unsigned long long in, start;
    char end[32];
    if (sscanf(line, "%*d: %*s %*s %*s %*d %x:%x:%llu %llu %31s", &maj, &min,
               &in, &start, end) != 5)
      continue;
    if (makedev(maj, min) != dev || (ino_t)in != ino || start < lo ||
        start > hi || strtoull(end, NULL, 10) != start)
      continue;
    n++;
  }
  int r = ferror(f) ? -EIO : 0;
  fclose(f);
  if (r == 0)
    *ret_count = n;
  return r;
}
