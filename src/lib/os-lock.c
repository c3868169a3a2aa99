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

/* Parse the "lock:" lines of /proc/PID/fdinfo/FD: "lock:\t1: OFDLCK
 * ADVISORY  READ -1 00:1a:3 START END". */
static void fdinfo_locks(const char *path, pid_t pid, uint64_t lo, uint64_t hi,
                         void (*fn)(void *, pid_t, uint64_t), void *ctx) {
  FILE *f = fopen(path, "re");
  if (!f)
    return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "lock:", 5))
      continue;
    char *end = line + strlen(line);
    while (end > line && (end[-1] == '\n' || end[-1] == ' '))
      *--end = '\0';
    /* The start is the second number from the end. */
    char *last = strrchr(line, ' ');
    if (!last)
      continue;
    *last = '\0';
    char *prev = strrchr(line, ' ');
    if (!prev)
      continue;
    uint64_t start = strtoull(prev + 1, NULL, 10);
    if (start >= lo && start <= hi)
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
  struct dirent *de;
  while ((de = readdir(proc))) {
    char *endp;
    long pid = strtol(de->d_name, &endp, 10);
    if (*endp || pid <= 0)
      continue;
    char path[384];
    snprintf(path, sizeof path, "/proc/%ld/fd", pid);
    DIR *fds = opendir(path);
    if (!fds)
      continue; /* gone, or not ours to look at */
    struct dirent *fe;
    while ((fe = readdir(fds))) {
      if (fe->d_name[0] == '.')
        continue;
      struct stat st;
      snprintf(path, sizeof path, "/proc/%ld/fd/%s", pid, fe->d_name);
      if (stat(path, &st) < 0 || st.st_dev != dev || st.st_ino != ino)
        continue;
      snprintf(path, sizeof path, "/proc/%ld/fdinfo/%s", pid, fe->d_name);
      fdinfo_locks(path, (pid_t)pid, lo, hi, fn, ctx);
    }
    closedir(fds);
  }
  closedir(proc);
  return 0;
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
