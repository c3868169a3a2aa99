/* SPDX-License-Identifier: MIT */
/* The kernel calls behind maps: opening and creating objects, sizes,
 * reservations, mappings, futexes and facts about tasks.  Every other file
 * goes through here, so that every fd is O_CLOEXEC and every error a
 * negative errno. */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/syscall.h>
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
  int fl = (write ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY;
  if (nofollow)
    fl |= O_NOFOLLOW;
  int fd = openat(dirfd, base, fl);
  if (fd < 0)
    return -errno;
  *ret_fd = fd;
  return 0;
}

int mmf__os_create_tmp(int dirfd, const char *base, int *ret_fd,
                       char ret_tmpname[static 300]) {
  int fd = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ret_tmpname[0] = '\0';
    *ret_fd = fd;
    return 0;
  }
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL &&
      errno != ENOENT)
    return -errno;
  /* No O_TMPFILE here: a hidden name that mmf_list skips. */
  for (int tries = 0; tries < 100; tries++) {
    snprintf(ret_tmpname, 300, ".mmf-tmp-%u-%08lx-%.200s", mmf__os_pid(),
             (unsigned long)(mmf__os_now_ns() ^ (tries * 2654435761u)) &
                 0xffffffffu,
             base);
    fd = openat(dirfd, ret_tmpname,
                O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) {
      *ret_fd = fd;
      return 0;
    }
    if (errno != EEXIST)
      return -errno;
  }
  return -EEXIST;
}

int mmf__os_link_tmp(int dirfd, int fd, const char *tmpname, const char *base) {
  if (tmpname[0]) {
    if (linkat(dirfd, tmpname, dirfd, base, 0) < 0)
      return -errno;
    (void)unlinkat(dirfd, tmpname, 0);
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

int mmf__os_flock(int fd, bool lock) {
  int r;
  do
    r = flock(fd, lock ? LOCK_EX : LOCK_UN);
  while (r < 0 && errno == EINTR);
  return r < 0 ? -errno : 0;
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

/* ---- tasks ---- */

/* Start time of /proc/<id>/stat (field 22), 0 if absent or a zombie. */
static uint64_t read_start(const char *path) {
  char buf[1024];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  /* comm may hold spaces and parentheses: parse after the last ')'. */
  char *p = strrchr(buf, ')');
  if (!p || p[1] != ' ')
    return 0;
  p += 2;
  char state = *p;
  if (state == 'Z' || state == 'X' || state == 'x')
    return 0;
  /* p is field 3; skip to field 22. */
  for (int field = 3; field < 22; field++) {
    p = strchr(p, ' ');
    if (!p)
      return 0;
    p++;
  }
  uint64_t v = strtoull(p, NULL, 10);
  return v ? v : 1; /* a task started at tick 0 is still alive */
}

uint64_t mmf__os_task_start(uint32_t tid) {
  if (tid == 0 || tid > MMF__LOCK_TID_MASK)
    return 0;
  /* /proc/<tid> resolves any thread id, not only a process's: absence is
   * death. */
  char path[64];
  snprintf(path, sizeof path, "/proc/%u/stat", tid);
  return read_start(path);
}

/* initial-exec: no __tls_get_addr call on the lock's fast path. */
static __thread uint32_t t_tid __attribute__((tls_model("initial-exec")));
static __thread uint64_t t_start __attribute__((tls_model("initial-exec")));
static uint32_t p_pid;
static uint64_t p_start;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* A forked child is a new task with a new id: forget the cached ones. */
static void forget_ids(void) {
  t_tid = 0;
  t_start = 0;
  __atomic_store_n(&p_pid, 0, __ATOMIC_RELAXED);
}
static void install_atfork(void) {
  pthread_atfork(NULL, NULL, forget_ids);
}

uint32_t mmf__os_tid(void) {
  if (!t_tid) {
    pthread_once(&atfork_once, install_atfork);
    t_tid = (uint32_t)syscall(SYS_gettid);
  }
  return t_tid;
}

uint64_t mmf__os_tid_start(void) {
  if (!t_start) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%u/stat", mmf__os_tid());
    t_start = read_start(path);
  }
  return t_start;
}

uint32_t mmf__os_pid(void) {
  uint32_t pid = __atomic_load_n(&p_pid, __ATOMIC_RELAXED);
  if (!pid) {
    pthread_once(&atfork_once, install_atfork);
    pid = (uint32_t)getpid();
    __atomic_store_n(&p_start, read_start("/proc/self/stat"), __ATOMIC_RELAXED);
    __atomic_store_n(&p_pid, pid, __ATOMIC_RELAXED);
  }
  return pid;
}

uint64_t mmf__os_pid_start(void) {
  (void)mmf__os_pid();
  return __atomic_load_n(&p_start, __ATOMIC_RELAXED);
}

void mmf__os_boot_id(uint8_t out[16]) {
  memset(out, 0, 16);
  char buf[64] = {0};
  int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  int j = 0;
  for (ssize_t i = 0; i < n && j < 32; i++) {
    char c = buf[i];
    int v = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                   : -1;
    if (v < 0)
      continue;
    out[j / 2] = (uint8_t)(out[j / 2] << 4 | v);
    j++;
  }
}

/* ---- futex ---- */

/* Shared (not FUTEX_PRIVATE_FLAG) so that it crosses processes.  Returns 0
 * when woken or the word changed, -ETIMEDOUT, or -EINTR. */
int mmf__os_futex_wait(_Atomic uint32_t *w, uint32_t val, int timeout_ms) {
  struct timespec ts, *tp = NULL;
  if (timeout_ms >= 0) {
    ts.tv_sec = timeout_ms / 1000;
    ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
    tp = &ts;
  }
  long r = syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT, val, tp, NULL, 0);
  if (r < 0) {
    if (errno == EAGAIN)
      return 0;
    return -errno;
  }
  return 0;
}

void mmf__os_futex_wake(_Atomic uint32_t *w, int n) {
  (void)syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE, n, NULL, NULL, 0);
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
  uintptr_t a = (uintptr_t)p & ~(uintptr_t)(MMF__PAGE - 1);
  len += (uintptr_t)p - a;
  if (madvise((void *)a, len,
              write ? MADV_POPULATE_WRITE : MADV_POPULATE_READ) < 0)
    return -errno;
  return 0;
}

void mmf__os_prefault(void *p, size_t len) {
  uintptr_t a = ((uintptr_t)p + MMF__PAGE - 1) & ~(uintptr_t)(MMF__PAGE - 1);
  uintptr_t end = ((uintptr_t)p + len) & ~(uintptr_t)(MMF__PAGE - 1);
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

/* An open-file-description lock on byte 0: released by the kernel when the
 * last descriptor of that open file closes, also when its process dies.
 * 0 taken, -EAGAIN held elsewhere. */
int mmf__os_ofd_lock(int fd, bool lock) {
  struct flock fl = {.l_type = lock ? F_WRLCK : F_UNLCK,
                     .l_whence = SEEK_SET,
                     .l_start = 0,
                     .l_len = 1};
  if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
    return 0;
  if (errno == EACCES)
    return -EAGAIN;
  return -errno;
}

void mmf__os_sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}
