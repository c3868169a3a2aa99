/* SPDX-License-Identifier: MIT */
/* The kernel calls behind maps: opening and creating objects, sizes,
 * reservations, mappings, futexes and facts about tasks.  Every other file
 * goes through here, so that every fd is O_CLOEXEC and every error a
 * negative errno. */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
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

#define TMP_PREFIX ".mmf-tmp-"

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
    snprintf(ret_tmpname, 300, TMP_PREFIX "%08x-%.200s", mmf__os_random32(),
             base);
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
    if (strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)))
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

int mmf__os_truncate(int fd, uint64_t size) {
  if (size > (uint64_t)INT64_MAX)
    return -EFBIG;
  return ftruncate(fd, (off_t)size) < 0 ? -errno : 0;
}

int mmf__os_fchmod(int fd, unsigned mode) {
  return fchmod(fd, (mode_t)mode) < 0 ? -errno : 0;
}

/* Allocate the pages a write is about to touch, so that a full file system
 * is an -ENOSPC here and not a SIGBUS in memcpy. */
int mmf__os_reserve(int fd, uint64_t off, uint64_t len) {
  if (len == 0)
    return 0;
  if (fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) < 0)
    return -errno;
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
  while (len) {
    size_t n = len > sizeof zeros ? sizeof zeros : (size_t)len;
    int r = mmf__os_pwrite_all(fd, zeros, n, off);
    if (r < 0)
      return r;
    off += n;
    len -= n;
  }
  return 0;
}

int mmf__os_map(int fd, size_t len, bool write, bool priv, void **ret) {
  if (len == 0) {
    *ret = NULL;
    return 0;
  }
  int prot = PROT_READ | (write ? PROT_WRITE : 0);
  void *p = mmap(NULL, len, prot, priv ? MAP_PRIVATE : MAP_SHARED, fd, 0);
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

int mmf__os_unlink_at(int dirfd, const char *base) {
  return unlinkat(dirfd, base, 0) < 0 ? -errno : 0;
}

void mmf__os_close(int fd) {
  if (fd >= 0)
    (void)close(fd);
}

int mmf__os_write_all(int fd, const void *p, size_t len) {
  const uint8_t *b = p;
  while (len) {
    ssize_t n = write(fd, b, len > (1u << 30) ? (1u << 30) : len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    b += n;
    len -= (size_t)n;
  }
  return 0;
}

int mmf__os_fsync(int fd) {
  return fsync(fd) < 0 ? -errno : 0;
}

int mmf__os_rename_at(int dirfd, const char *from, const char *to) {
  return renameat(dirfd, from, dirfd, to) < 0 ? -errno : 0;
}

uint32_t mmf__os_random32(void) {
  uint32_t v;
  if (getrandom(&v, sizeof v, GRND_NONBLOCK) == (ssize_t)sizeof v)
    return v;
  /* No entropy yet (early boot): the clock and the pid differ enough. */
  return (uint32_t)(mmf__os_now_ns() * 2654435761u) ^ (uint32_t)getpid();
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

/* fork() calls made since the library was first used, counted by an
 * atfork handler: a handle open across a fork is shared with the child. */
static _Atomic unsigned long forks;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static void count_fork(void) {
  atomic_fetch_add_explicit(&forks, 1, memory_order_relaxed);
}
static void install_atfork(void) {
  (void)pthread_atfork(NULL, count_fork, count_fork);
}

unsigned long mmf__os_forks(void) {
  pthread_once(&atfork_once, install_atfork);
  return atomic_load_explicit(&forks, memory_order_relaxed);
}

pid_t mmf__os_getpid(void) {
  return getpid();
}

bool mmf__os_owned_by_me(const struct stat *st) {
  return st->st_uid == geteuid();
}

/* ---- open-file-description locks ---- */

static int ofd(int fd, int cmd, short type, uint64_t start, uint64_t len,
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
  return ofd(fd, F_OFD_SETLK, shared ? F_RDLCK : F_WRLCK, start, len, NULL);
}

int mmf__os_range_lock_wait(int fd, bool shared, uint64_t start, uint64_t len) {
  return ofd(fd, F_OFD_SETLKW, shared ? F_RDLCK : F_WRLCK, start, len, NULL);
}

int mmf__os_range_unlock(int fd, uint64_t start, uint64_t len) {
  return ofd(fd, F_OFD_SETLK, F_UNLCK, start, len, NULL);
}

int mmf__os_range_probe(int fd, uint64_t start, uint64_t len, bool writers_only,
                        struct mmf__held *ret) {
  /* A read lock asked about conflicts with write locks only. */
  struct flock fl;
  int r =
      ofd(fd, F_OFD_GETLK, writers_only ? F_RDLCK : F_WRLCK, start, len, &fl);
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

/* ---- the watcher of transient maps ---- */

#ifndef MMF_WATCHER_PATH
#define MMF_WATCHER_PATH "/usr/local/libexec/mmf-watch"
#endif

int mmf__os_spawn_watcher(int fd, int dirfd, const char *base) {
  const char *path = secure_getenv("MMF_WATCHER");
  if (!path || !path[0])
    path = MMF_WATCHER_PATH;
  /* An open file of its own: sharing ours would keep our locks alive in
   * it, and make its write lock a conversion of ours.  Both descriptors sit
   * above the numbers they go to, so that dup2 onto 3 cannot overwrite the
   * folder's on its way to 4. */
  int obj = -1;
  int r = mmf__os_reopen(fd, true, dirfd, base, &obj);
  int own = r < 0 ? -1 : fcntl(obj, F_DUPFD_CLOEXEC, 10);
  int dir = r < 0 ? -1 : fcntl(dirfd, F_DUPFD_CLOEXEC, 10);
  if (r == 0 && (own < 0 || dir < 0))
    r = -errno;
  mmf__os_close(obj);
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  bool fa_made = false, at_made = false;
  if (r == 0 && !(fa_made = posix_spawn_file_actions_init(&fa) == 0))
    r = -ENOMEM;
  if (r == 0 && !(at_made = posix_spawnattr_init(&at) == 0))
    r = -ENOMEM;
  /* fd 3: the object, 4: its folder; the rest of ours stays behind (the
   * watcher closes all others at once). */
  if (!r && (posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDWR, 0) ||
             posix_spawn_file_actions_adddup2(&fa, 0, 1) ||
             posix_spawn_file_actions_adddup2(&fa, 0, 2) ||
             posix_spawn_file_actions_adddup2(&fa, own, 3) ||
             posix_spawn_file_actions_adddup2(&fa, dir, 4)))
    r = -ENOMEM;
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  /* Its own session (a terminal's ^C does not reach it), default signal
   * dispositions and no blocked signals whatever the caller has. */
  if (!r && (posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID |
                                               POSIX_SPAWN_SETSIGMASK |
                                               POSIX_SPAWN_SETSIGDEF) ||
             posix_spawnattr_setsigmask(&at, &none) ||
             posix_spawnattr_setsigdefault(&at, &all)))
    r = -ENOMEM;
  pid_t pid = 0;
  if (!r) {
    char *const argv[] = {(char *)"mmf-watch", (char *)base, NULL};
    char *const envp[] = {NULL};
    int e = posix_spawn(&pid, path, &fa, &at, argv, envp);
    if (e)
      r = -e;
  }
  if (fa_made)
    posix_spawn_file_actions_destroy(&fa);
  if (at_made)
    posix_spawnattr_destroy(&at);
  mmf__os_close(own);
  mmf__os_close(dir);
  if (r < 0)
    return r;
  /* It forks the real watcher and exits at once, reporting whether the
   * watcher started: 0, or the errno it failed with. */
  int status;
  pid_t w;
  do
    w = waitpid(pid, &status, 0);
  while (w < 0 && errno == EINTR);
  if (w < 0)
    return errno == ECHILD ? 0 : -errno; /* the caller reaps children */
  if (!WIFEXITED(status))
    return -ECHILD;
  return WEXITSTATUS(status) ? -WEXITSTATUS(status) : 0;
}

/* ---- futex ---- */

/* FUTEX_WAIT with a relative timeout.  Where time_t is 64-bit on a 32-bit
 * ABI, the old call takes a 32-bit timespec: use futex_time64, or, on a
 * kernel without it, hand the old call the layout it reads. */
static long futex_wait_call(uint32_t *w, uint32_t val,
                            const struct timespec *ts) {
#if defined(SYS_futex_time64) && ULONG_MAX == 0xffffffffUL
  if (sizeof ts->tv_sec == 8) {
    long r = syscall(SYS_futex_time64, w, FUTEX_WAIT, val, ts, NULL, 0);
    if (r == 0 || errno != ENOSYS)
      return r;
    if (!ts)
      return syscall(SYS_futex, w, FUTEX_WAIT, val, NULL, NULL, 0);
    struct {
      long tv_sec, tv_nsec;
    } old = {(long)ts->tv_sec, ts->tv_nsec};
    return syscall(SYS_futex, w, FUTEX_WAIT, val, &old, NULL, 0);
  }
#endif
  return syscall(SYS_futex, w, FUTEX_WAIT, val, ts, NULL, 0);
}

/* Shared (not FUTEX_PRIVATE_FLAG) so that it crosses processes.  Returns 0
 * when woken or the word changed, -ETIMEDOUT, or -EINTR. */
int mmf__os_futex_wait(_Atomic uint32_t *w, uint32_t val, int timeout_ms) {
  struct timespec ts, *tp = NULL;
  if (timeout_ms >= 0) {
    ts.tv_sec = timeout_ms / 1000;
    ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
    tp = &ts;
  }
  long r = futex_wait_call((uint32_t *)w, val, tp);
  if (r < 0) {
    if (errno == EAGAIN)
      return 0;
    return -errno;
  }
  return 0;
}

int mmf__os_futex_wake(_Atomic uint32_t *w, int n) {
  long r = syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE, n, NULL, NULL, 0);
  return r < 0 ? -errno : (int)r;
}

int64_t mmf__os_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t mmf__os_now_ms(void) {
  return mmf__os_now_ns() / 1000000;
}

int64_t mmf__os_coarse_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

int mmf__os_cut(int fd, int64_t off) {
  if (ftruncate(fd, off) < 0 || lseek(fd, off, SEEK_SET) < 0)
    return -errno;
  return 0;
}

void mmf__os_sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

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

int mmf__os_fchown(int fd, uid_t uid, gid_t gid) {
  return fchown(fd, uid, gid) < 0 ? -errno : 0;
}
