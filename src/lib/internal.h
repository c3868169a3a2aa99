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
#define MMF__PAGE 4096u

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
int mmf__os_open_at(int dirfd, const char *base, bool write, bool nofollow,
                    int *ret_fd);
/* An anonymous new file in dirfd (O_TMPFILE, or a hidden temporary name
 * that *ret_tmpname receives, "" for O_TMPFILE). */
int mmf__os_create_tmp(int dirfd, const char *base, int *ret_fd,
                       char ret_tmpname[static 300]);
/* Give the temporary file its name; fails with -EEXIST if it exists. */
int mmf__os_link_tmp(int dirfd, int fd, const char *tmpname, const char *base);
void mmf__os_drop_tmp(int dirfd, const char *tmpname);
/* A new file (O_EXCL, never through a symlink), mode less the umask. */
int mmf__os_create_excl(int dirfd, const char *base, unsigned mode,
                        int *ret_fd);
int mmf__os_fstat(int fd, struct stat *ret);
int mmf__os_stat_at(int dirfd, const char *base, struct stat *ret);
/* Names of the regular entries of a folder (malloc'd array of malloc'd
 * strings; free with mmf__os_free_names). */
int mmf__os_list_dir(const char *path, char ***ret_names, size_t *ret_n);
void mmf__os_free_names(char **names, size_t n);
int mmf__os_truncate(int fd, uint64_t size);
int mmf__os_fchmod(int fd, unsigned mode);
int mmf__os_reserve(int fd, uint64_t off, uint64_t len);
int mmf__os_map(int fd, size_t len, bool write, bool priv, void **ret);
void mmf__os_unmap(void *p, size_t len);
int mmf__os_msync(void *p, size_t len);
int mmf__os_unlink_at(int dirfd, const char *base);
int mmf__os_flock(int fd, bool lock);
void mmf__os_close(int fd);
int mmf__os_write_all(int fd, const void *p, size_t len);
/* Copy at most len bytes from `from` into file `to` at to_off, in the kernel
 * when it can, else with read() into `map` (the same bytes, mapped). */
int mmf__os_copy_in(int from, int to, uint64_t to_off, size_t len, uint8_t *map,
                    size_t *ret_done);
/* Copy len bytes of file `from` at from_off to `to` in the kernel: 0, or
 * -EXDEV/-EINVAL when the kernel cannot (then nothing was copied). */
int mmf__os_copy_out(int from, uint64_t from_off, int to, size_t len);
/* Is fd a regular file, and where is its offset? */
bool mmf__os_regular(int fd, int64_t *ret_off);
int mmf__os_cut(int fd, int64_t off);
/* Lock (or unlock) byte 0 of fd for this open file: 0, -EAGAIN if taken. */
int mmf__os_ofd_lock(int fd, bool lock);
void mmf__os_sleep_ms(int ms);
int mmf__os_fsync(int fd);
int mmf__os_rename_at(int dirfd, const char *from, const char *to);
/* Thread id and start time of the calling thread, cached per thread. */
uint32_t mmf__os_tid(void);
uint64_t mmf__os_tid_start(void);
/* Process id and its start time, cached per process. */
uint32_t mmf__os_pid(void);
uint64_t mmf__os_pid_start(void);
/* Start time (clock ticks after boot) of a live task, or 0 if the task does
 * not exist or is a zombie. */
uint64_t mmf__os_task_start(uint32_t tid);
/* The boot id (16 bytes). */
void mmf__os_boot_id(uint8_t out[16]);
int mmf__os_futex_wait(_Atomic uint32_t *w, uint32_t val, int timeout_ms);
void mmf__os_futex_wake(_Atomic uint32_t *w, int n);
int64_t mmf__os_now_ms(void);
/* A clock that costs no system call, in ticks of a few ms. */
int64_t mmf__os_coarse_ms(void);
/* Fill the page tables of [p, p+len) at once, rather than a fault per page.
 * -EINVAL when the kernel cannot. */
int mmf__os_populate(void *p, size_t len, bool write);
/* Allocate the pages of private memory [p, p+len) at once (best effort). */
void mmf__os_prefault(void *p, size_t len);
int64_t mmf__os_now_ns(void);

/* ---- lock.c: robust cross-process locks ------------------------------- */
/* 0 taken, MMF_LOCK_ABANDONED taken from a dead holder, -ETIMEDOUT,
 * -EDEADLK. timeout_ms -1: no limit. */
int mmf__lock_acquire(struct mmf__lock *l, int timeout_ms);
int mmf__lock_release(struct mmf__lock *l);
bool mmf__lock_held_by_me(const struct mmf__lock *l);
/* pid of the live holder, or 0. */
pid_t mmf__lock_holder(struct mmf__lock *l);

/* ---- the handle ---- */
struct mmf {
  int fd;
  enum mmf_kind kind;
  bool readonly;
  bool priv;
  bool registered; /* holds an entry in the holders table */
  bool no_reserve; /* the file system has no fallocate */
  bool writing;    /* between mmf_write_begin and commit/abort */
  bool raw_locked; /* raw map or file: this handle holds the lock */
  bool wake_all;   /* MMF__HF_WAKE_ALL, read once at open */
  uint8_t *base;   /* the whole mapping */
  size_t map_len;  /* bytes mapped */
  /* mmf maps: private copies of the header fields, checked at open. */
  struct mmf__hdr *hdr;
  uint64_t capacity;
  uint64_t stride;
  uint64_t reserved[2]; /* bytes of each slot known to be allocated */
  uint64_t
      populated[2]; /* bytes of each slot this handle has page tables for */
  bool no_populate; /* the kernel has no MADV_POPULATE_* */
  _Atomic int64_t size_checked; /* coarse clock of the last size check */
  /* zero-copy state */
  unsigned wslot;
  uint64_t wsize;
  uint64_t wgen;
  unsigned rslot;
  uint64_t rgen;
  int holder_idx;
  struct stat st; /* identity of the object, for transient removal */
  char name[4096];
};

static inline uint8_t *mmf__slot_data(const struct mmf *m, unsigned s) {
  return m->base + MMF__HDR_SIZE + (uint64_t)s * m->stride;
}

/* ---- format.c ---- */
uint64_t mmf__stride_for(uint64_t capacity);
uint64_t mmf__object_size_for(uint64_t capacity);
/* Fill a fresh header for a map of `capacity` bytes. */
void mmf__hdr_init(struct mmf__hdr *h, uint64_t capacity, uint32_t hflags);
/* Validate the header bytes `p` (object of `size` bytes); on success give
 * capacity and stride.  -MMF_ENOTMMF, -MMF_EVERSION, -MMF_ECORRUPT. */
int mmf__hdr_check(const void *p, uint64_t size, uint64_t *ret_capacity,
                   uint64_t *ret_stride);
/* Reset lock and holder state left by an earlier boot. */
void mmf__hdr_reset_boot(struct mmf__hdr *h, const uint8_t boot_id[16]);

/* ---- holders.c ---- */
int mmf__holders_join(struct mmf *m);
/* Leave; the last live holder of a transient map removes its name. */
void mmf__holders_leave(struct mmf *m);
unsigned mmf__holders_count(struct mmf__hdr *h);
/* Reap dead holders of a transient map found by mmf_list; true if it was
 * removed. */
bool mmf__holders_reap_orphan(struct mmf *m);

/* ---- publish.c ---- */
int mmf__content_peek(struct mmf *m, uint64_t *ret_len, uint64_t *ret_seq);
/* Check that the object still has the size the handle mapped:
 * -MMF_ECORRUPT if a peer shrank it.  `always` checks now; otherwise at most
 * once per coarse clock tick, so that hot paths make no system call. */
int mmf__check_size(struct mmf *m, bool always);

/* ---- map.c ---- */
int mmf__open_at(const struct mmf__where *w, const char *name, int flags,
                 bool probe, struct mmf **ret);
int mmf__remove_if_same(struct mmf *m);

#endif
