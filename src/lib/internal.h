/* SPDX-License-Identifier: MIT */
/* Internal declarations shared by the files of libmmf.  Nothing here is
 * exported; see include/mmf.h for the public API. */
#ifndef MMF_INTERNAL_H
#define MMF_INTERNAL_H

#include "format.h"
#include "mmf.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#define MMF__SHM_DIR "/dev/shm"

static inline void mmf__cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/* ---- name.c: names and paths ---- */
enum mmf__name_kind { MMF__NAME_SHM = 1, MMF__NAME_PATH = 2 };
/* Classify `name`: MMF__NAME_SHM, MMF__NAME_PATH, or -MMF_ENAME. */
int mmf__name_classify(const char *name);

/* A resolved name: a directory fd and the last component within it. */
struct mmf__where {
  int dirfd;
  char base[256];
  int kind; /* enum mmf__name_kind */
};
/* Open the directory that holds `name`; release with mmf__where_close(). */
int mmf__where_open(const char *name, struct mmf__where *ret);
void mmf__where_close(struct mmf__where *w);

/* ---- os.c: the only file that calls the kernel for objects and maps ---- */
int mmf__os_open_dir(const char *path, int *ret_fd);
/* Open a regular file without blocking (a FIFO planted under the name would
 * block an ordinary open): -MMF_ENOTREG if it is anything else, -EISDIR for
 * a folder. */
int mmf__os_open_at(int dirfd, const char *base, bool write, bool nofollow,
                    int *ret_fd);
/* An anonymous new file in dirfd (O_TMPFILE, or a hidden temporary name
 * that *ret_tmpname receives, "" for O_TMPFILE).  A hidden name is locked
 * by its creator so that mmf__os_sweep_tmp() can tell leftovers of dead
 * creators. */
int mmf__os_create_tmp(int dirfd, const char *base, int *ret_fd,
                       char ret_tmpname[static 300]);
/* Remove hidden temporary files in dirfd whose creator is gone. */
void mmf__os_sweep_tmp(int dirfd);
/* Give the temporary file its name; fails with -EEXIST if it exists. */
int mmf__os_link_tmp(int dirfd, int fd, const char *tmpname, const char *base);
void mmf__os_drop_tmp(int dirfd, const char *tmpname);
/* A new file (O_EXCL, never through a symlink), mode less the umask. */
int mmf__os_create_excl(int dirfd, const char *base, unsigned mode,
                        int *ret_fd);
int mmf__os_fstat(int fd, struct stat *ret);
int mmf__os_stat_at(int dirfd, const char *base, struct stat *ret);
/* Is dirfd a folder where others may create files next to ours (sticky and
 * writable by group or others, like /dev/shm and /tmp)? */
bool mmf__os_dir_shared(int dirfd);
/* Names of the regular entries of a folder (malloc'd array of malloc'd
 * strings; free with mmf__os_free_names). */
int mmf__os_list_dir(const char *path, char ***ret_names, size_t *ret_n);
void mmf__os_free_names(char **names, size_t n);
int mmf__os_truncate(int fd, uint64_t size);
int mmf__os_fchmod(int fd, unsigned mode);
/* Allocate [off, off+len): -EOPNOTSUPP where the file system cannot. */
int mmf__os_reserve(int fd, uint64_t off, uint64_t len);
int mmf__os_pread(int fd, void *buf, size_t len, uint64_t off,
                  size_t *ret_done);
int mmf__os_pwrite_all(int fd, const void *buf, size_t len, uint64_t off);
/* Write zeros over [off, off+len): allocation where fallocate is missing. */
int mmf__os_zero_fill(int fd, uint64_t off, uint64_t len);
int mmf__os_map(int fd, size_t len, bool write, bool priv, void **ret);
void mmf__os_unmap(void *p, size_t len);
int mmf__os_msync(void *p, size_t len);
int mmf__os_unlink_at(int dirfd, const char *base);
void mmf__os_close(int fd);
int mmf__os_write_all(int fd, const void *p, size_t len);
/* Copy at most len bytes from `from` into file `to` at to_off, in the kernel
 * when it can, else with read() into `map` (the same bytes, mapped). */
int mmf__os_copy_in(int from, int to, uint64_t to_off, size_t len, uint8_t *map,
                    size_t *ret_done);
/* Copy len bytes of file `from` at from_off to `to` in the kernel: 0, or
 * -EXDEV/-EINVAL when the kernel cannot (then nothing was copied). */
int mmf__os_copy_out(int from, uint64_t from_off, int to, size_t len);
/* Is fd a regular file not opened O_APPEND, and where is its offset? */
bool mmf__os_regular(int fd, int64_t *ret_off);
int mmf__os_cut(int fd, int64_t off);
/* Open-file-description locks on [start, start+len): 0, or -EAGAIN when
 * another open file holds a conflicting one. */
int mmf__os_range_lock(int fd, bool shared, uint64_t start, uint64_t len);
int mmf__os_range_lock_wait(int fd, bool shared, uint64_t start, uint64_t len);
int mmf__os_range_unlock(int fd, uint64_t start, uint64_t len);
/* A lock another open file holds, as F_OFD_GETLK reports it. */
struct mmf__held {
  uint64_t start, len;
  bool write;
};
/* Does another open file hold a lock in [start, start+len) (with
 * `writers_only`, a write lock)?  1 and which (ret may be NULL), 0 none,
 * or a negative error. */
int mmf__os_range_probe(int fd, uint64_t start, uint64_t len, bool writers_only,
                        struct mmf__held *ret);
/* Call fn for every lock in [lo, hi] that a process visible in this PID
 * namespace holds on the file (dev, ino), with its pid (from /proc). */
int mmf__os_lock_owners(dev_t dev, ino_t ino, uint64_t lo, uint64_t hi,
                        void (*fn)(void *ctx, pid_t pid, uint64_t start),
                        void *ctx);
/* Start the watcher that removes `base` in dirfd once no handle holds the
 * object fd any more; returns once it runs on its own. */
int mmf__os_spawn_watcher(int fd, int dirfd, const char *base);
uint32_t mmf__os_random32(void);
pid_t mmf__os_getpid(void);
/* How many fork()s this process has made since it first asked. */
unsigned long mmf__os_forks(void);
/* A new open file of the object fd (its own locks, shared with nobody):
 * through /proc, else by `base` in dirfd (dirfd -1: none) if that still
 * names the same object. */
int mmf__os_reopen(int fd, bool write, int dirfd, const char *base,
                   int *ret_fd);
/* Is the file described by st owned by the caller's effective user? */
bool mmf__os_owned_by_me(const struct stat *st);
void mmf__os_sleep_ms(int ms);
int mmf__os_fsync(int fd);
int mmf__os_rename_at(int dirfd, const char *from, const char *to);
int mmf__os_futex_wait(_Atomic uint32_t *w, uint32_t val, int timeout_ms);
/* How many it woke, or a negative error. */
int mmf__os_futex_wake(_Atomic uint32_t *w, int n);
int64_t mmf__os_now_ms(void);
/* A clock that costs no system call, in ticks of a few ms. */
int64_t mmf__os_coarse_ms(void);
/* A copy of `len` bytes of `from` at `off` in a new memfd (*ret_fd), made
 * by the kernel: no page is faulted in here.  -EXDEV where it cannot. */
int mmf__os_snapshot(int from, uint64_t off, size_t len, int *ret_fd);
/* Send the first `len` bytes of the regular file `from` to `to` (a pipe,
 * a socket, a device).  -EXDEV if `to` takes no sendfile (nothing sent). */
int mmf__os_send(int from, int to, size_t len);
int mmf__os_fchown(int fd, uid_t uid, gid_t gid);
/* The system's page size (sysconf), cached. */
uint64_t mmf__os_page_size(void);
/* Fill the page tables of [p, p+len) at once, rather than a fault per page.
 * -EINVAL when the kernel cannot. */
int mmf__os_populate(void *p, size_t len, bool write);
/* Allocate the pages of private memory [p, p+len) at once (best effort). */
void mmf__os_prefault(void *p, size_t len);
int64_t mmf__os_now_ns(void);

/* ---- lock.c: cross-process locks named by handle ids ------------------- */
/* Is the handle `id` alive, asked from handle m (the kernel's lock table)? */
bool mmf__id_alive(struct mmf *m, uint32_t id);
/* 0 taken, MMF_LOCK_ABANDONED taken from a dead holder, -ETIMEDOUT,
 * -EDEADLK (`same_handle_waits` false and m holds it). timeout_ms -1: no
 * limit.  With `same_handle_waits`, another thread of m holding it is
 * waited for. */
int mmf__lock_acquire(struct mmf *m, _Atomic uint32_t *l, int timeout_ms,
                      bool same_handle_waits);
/* 0, or -EPERM when m does not hold it. */
int mmf__lock_release(struct mmf *m, _Atomic uint32_t *l);
bool mmf__lock_held_by(struct mmf *m, _Atomic uint32_t *l);
/* The live holder's id, or 0 when free or its holder is gone. */
uint32_t mmf__lock_owner(struct mmf *m, _Atomic uint32_t *l);

/* ---- the handle ---- */
struct mmf {
  int fd;
  enum mmf_kind kind;
  bool readonly;
  bool priv;
  bool transient;      /* the object's mode has the sticky bit */
  uint32_t id;         /* mmf maps: this handle's id, 0 for a probe */
  pid_t opener;        /* the process that opened it (a fork shares the rest) */
  unsigned long forks; /* mmf__os_forks() when opened */
  /* Threads share a handle: what any of them may change is atomic. */
  _Atomic bool no_reserve; /* the file system has no fallocate */
  _Atomic bool raw_locked; /* raw map or file: this handle holds the lock */
  _Atomic uint64_t reserved[2]; /* bytes of each slot known allocated */
  _Atomic bool broken;   /* a peer shrank the object: never touch it again */
  _Atomic bool wake_all; /* the mode lets someone read who may not write */
  uint8_t *base;         /* the whole mapping */
  size_t map_len;        /* bytes mapped */
  /* mmf maps: private copies of the header fields, checked at open. */
  struct mmf__hdr *hdr;
  uint64_t capacity;
  uint64_t stride;
  uint64_t hdr_size;             /* where slot 0 starts: the map's alignment */
  _Atomic uint64_t populated[2]; /* bytes of each slot with page tables */
  _Atomic bool no_populate;      /* the kernel has no MADV_POPULATE_* */
  _Atomic int64_t size_checked;  /* coarse clock of the last size check */
  struct stat st;                /* identity of the object */
  char name[4096];
};

static inline uint8_t *mmf__slot_data(const struct mmf *m, unsigned s) {
  return m->base + m->hdr_size + (uint64_t)s * m->stride;
}

/* ---- format.c ---- */
/* Slots are aligned to `align` (a power of two, 4096 at least): the
 * header takes the first `align` bytes, each slot a multiple of it. */
uint64_t mmf__stride_for(uint64_t capacity, uint64_t align);
uint64_t mmf__object_size_for(uint64_t capacity, uint64_t align);
/* The alignment of maps made here: the larger of 4096 and the page size. */
uint64_t mmf__align_here(void);
/* Fill a fresh header for a map of `capacity` bytes. */
void mmf__hdr_init(struct mmf__hdr *h, uint64_t capacity, uint32_t hflags,
                   uint64_t align);
/* Validate the header bytes `p` (object of `size` bytes); on success give
 * capacity, stride and where slot 0 starts.  -MMF_ENOTMMF, -MMF_EVERSION,
 * -MMF_ECORRUPT. */
int mmf__hdr_check(const void *p, uint64_t size, uint64_t *ret_capacity,
                   uint64_t *ret_stride, uint64_t *ret_hdr_size);

/* ---- holders.c ---- */
/* Give m an id and hold its byte; -ENOENT if the map is transient and its
 * last holder is gone (it is being removed, or an orphan, which is removed
 * when m may). */
int mmf__holders_join(struct mmf *m);
/* Leave; the last holder of a transient map removes its name. */
void mmf__holders_leave(struct mmf *m);
/* Live handles (the kernel's count, m's own included). */
unsigned mmf__holders_count(struct mmf *m);
/* A transient map that nobody holds: remove it (if allowed); true if it was
 * an orphan. */
bool mmf__holders_reap_orphan(struct mmf *m);
/* The process that holds handle `id`, as this PID namespace sees it: 0 for
 * no id, -1 when no process we can see holds it (another namespace, or
 * /proc hides it). */
pid_t mmf__holder_pid(struct mmf *m, uint32_t id);
/* The pids (ascending, distinct, at most cap) of the visible processes that
 * hold handles of m; how many pids, and how many handles no visible
 * process holds. */
int mmf__holder_pids(struct mmf *m, pid_t *pids, size_t cap, size_t *ret_count,
                     unsigned *ret_hidden);

/* ---- publish.c ---- */
int mmf__content_peek(struct mmf *m, uint64_t *ret_len, uint64_t *ret_seq);
/* Check that the object still has the size the handle mapped:
 * -MMF_ECORRUPT if a peer shrank it (and the handle never touches the map
 * again).  `always` checks now; otherwise at most once per coarse clock
 * tick, so that hot paths make no system call. */
int mmf__check_size(struct mmf *m, bool always);

/* ---- map.c ---- */
int mmf__open_at(const struct mmf__where *w, const char *name, int flags,
                 bool probe, struct mmf **ret);
/* Remove w's name if it still names the object (dev, ino). */
int mmf__remove_if_same(int dirfd, const char *base, const struct stat *st);

#endif
