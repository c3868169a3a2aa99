/* SPDX-License-Identifier: MIT */
/* The kernel boundary: the os-*.c files are the only ones in the library
 * that call the kernel.  Each returns 0 or a negative errno (or says what
 * else), and every descriptor they make is O_CLOEXEC.  One section per
 * file; none of them calls back into the rest of the library. */
#ifndef MMF_OS_H
#define MMF_OS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* ---- os-file.c: files, folders and names ---- */
int mmf__os_open_dir(const char *path, int *ret_fd);
/* Open a regular file without blocking (a FIFO planted under the name would
 * block an ordinary open): -MMF_ENOTREG if it is anything else, -EISDIR for
 * a folder. */
int mmf__os_open_at(int dirfd, const char *base, bool write, bool nofollow,
                    int *ret_fd);
/* A new open file of the object fd (its own locks, shared with nobody):
 * through /proc, else by `base` in dirfd (dirfd -1: none) if that still
 * names the same object. */
int mmf__os_reopen(int fd, bool write, int dirfd, const char *base,
                   int *ret_fd);
/* A new file (O_EXCL, never through a symlink), mode less the umask. */
int mmf__os_create_excl(int dirfd, const char *base, unsigned mode,
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
/* Names of the regular entries of a folder (malloc'd array of malloc'd
 * strings; free with mmf__os_free_names). */
int mmf__os_list_dir(const char *path, char ***ret_names, size_t *ret_n);
void mmf__os_free_names(char **names, size_t n);
int mmf__os_fstat(int fd, struct stat *ret);
int mmf__os_stat_at(int dirfd, const char *base, struct stat *ret);
/* Is dirfd a folder where others may create files next to ours (sticky and
 * writable by group or others, like /dev/shm and /tmp)? */
bool mmf__os_dir_shared(int dirfd);
/* Is the file described by st owned by the caller's effective user? */
bool mmf__os_owned_by_me(const struct stat *st);
int mmf__os_truncate(int fd, uint64_t size);
int mmf__os_fchmod(int fd, unsigned mode);
int mmf__os_fchown(int fd, uid_t uid, gid_t gid);
/* Allocate [off, off+len): -EOPNOTSUPP where the file system cannot.
 * reserve, release and zero_fill are never cancellation points: writers
 * call them with the writers' lock held (pthread_cancel stays pending). */
int mmf__os_reserve(int fd, uint64_t off, uint64_t len);
/* Bytes free to unprivileged users, and in all, on dirfd's file system. */
int mmf__os_space(int dirfd, uint64_t *ret_avail, uint64_t *ret_total);
/* Give back the storage of [off, off+len) (a hole reads as zeros):
 * -EOPNOTSUPP where the file system cannot. */
int mmf__os_release(int fd, uint64_t off, uint64_t len);
/* mmf__os_release() of every data extent of [off, off+len): the same result,
 * at a cost that follows the pages held, not the range. */
int mmf__os_release_data(int fd, uint64_t off, uint64_t len);
int mmf__os_pread(int fd, void *buf, size_t len, uint64_t off,
                  size_t *ret_done);
int mmf__os_pwrite_all(int fd, const void *buf, size_t len, uint64_t off);
/* Where the first hole at or after off begins (SEEK_HOLE; the end of the
 * file if there is none).  A page that was never written (nor, on tmpfs,
 * fallocated and then touched) is a hole. */
int mmf__os_first_hole(int fd, uint64_t off, uint64_t *ret_off);
/* Write zeros over [off, off+len): allocation where fallocate is missing. */
int mmf__os_zero_fill(int fd, uint64_t off, uint64_t len);
int mmf__os_write_all(int fd, const void *p, size_t len);
/* mmf__os_write_all(), saying how many bytes went out, also on failure. */
int mmf__os_write_counted(int fd, const void *p, size_t len, size_t *ret_wrote);
int mmf__os_fsync(int fd);
int mmf__os_unlink_at(int dirfd, const char *base);
/* Remove `base` in dirfd if it still names the object st describes (dev,
 * ino); 0 also when it names another one now. */
int mmf__os_unlink_if_same(int dirfd, const char *base, const struct stat *st);
int mmf__os_rename_at(int dirfd, const char *from, const char *to);
void mmf__os_close(int fd);

/* ---- os-map.c: mappings and their pages ---- */
/* The system's page size (sysconf), cached. */
uint64_t mmf__os_page_size(void);
/* Map fd's first len bytes, shared, or copy-on-write when `copy_on_write`
 * (MAP_PRIVATE). */
int mmf__os_map(int fd, size_t len, bool write, bool copy_on_write, void **ret);
void mmf__os_unmap(void *p, size_t len);
int mmf__os_msync(void *p, size_t len);
/* Fill the page tables of [p, p+len) at once, rather than a fault per page.
 * -EINVAL when the kernel cannot. */
int mmf__os_populate(void *p, size_t len, bool write);
/* Allocate the pages of private memory [p, p+len) at once (best effort). */
void mmf__os_prefault(void *p, size_t len);

/* ---- os-copy.c: copies the kernel makes between descriptors ---- */
/* How mmf__os_copy_in moves bytes in: tried in this order; the caller keeps
 * *way between calls, and once a way moved bytes (MMF__IN_WORKED) it is
 * the only one. */
enum {
  MMF__IN_RANGE = 0,    /* copy_file_range: same file system */
  MMF__IN_SENDFILE = 1, /* sendfile: a regular file into another one */
  MMF__IN_SPLICE = 2,   /* splice: a pipe */
  MMF__IN_READ = 3,     /* read() into buf, pwrite(): terminals, sockets */
  MMF__IN_WORKED = 4,
};
/* Copy at most len bytes from `from` (at its offset) into file `to` at
 * to_off, in the kernel when it can (sendfile through `to_own`, a
 * description of `to` of the caller's own, -1 if none, whose offset it
 * moves), else through buf (buf_len bytes).  Short only at the end of
 * `from`; files whose size reads 0 are read to their end. */
int mmf__os_copy_in(int from, int to, int to_own, uint64_t to_off, size_t len,
                    void *buf, size_t buf_len, int *way, size_t *ret_done);
/* One read(2) (retried on EINTR): *ret_got bytes, 0 at the end. */
int mmf__os_read(int fd, void *buf, size_t len, size_t *ret_got);
/* Copy len bytes of file `from` at from_off to `to` in the kernel: 0, or
 * -EXDEV/-EINVAL when the kernel cannot (then nothing was copied). */
int mmf__os_copy_out(int from, uint64_t from_off, int to, size_t len);
/* Is fd a regular file not opened O_APPEND, and where is its offset? */
bool mmf__os_regular(int fd, int64_t *ret_off);
/* Copy len bytes of file fd from `from` to `to` (ranges apart), in the
 * kernel where it can: no page of it is mapped in here. */
int mmf__os_copy_within(int fd, uint64_t from, uint64_t to, uint64_t len);
/* Is fd a regular file whose next write lands at or past its end
 * (O_APPEND, or an offset there)?  Its offset (*ret_pos, the end for
 * O_APPEND) and size (*ret_end). */
bool mmf__os_at_end(int fd, int64_t *ret_pos, int64_t *ret_end);
/* Undo writes made at or past a file's old end: cut it back to `end` and
 * move its offset to `pos`, if it is `made` bytes long, as the writes made
 * it; -MMF_EOVERTAKEN (nothing cut) if another writer changed its size. */
int mmf__os_cut_back(int fd, int64_t pos, int64_t end, int64_t made);
/* Start the disk's writing of [off, off+len) of fd, without waiting (a
 * hint: sync_file_range SYNC_FILE_RANGE_WRITE). */
void mmf__os_write_behind(int fd, int64_t off, uint64_t len);
/* A copy of `len` bytes of `from` at `off` in a new memfd (*ret_fd), made
 * by the kernel: no page is faulted in here.  -EXDEV where it cannot. */
int mmf__os_snapshot(int from, uint64_t off, size_t len, int *ret_fd);
/* Send the first `len` bytes of the regular file `from` to `to` (a pipe,
 * a socket, a device).  -EXDEV if `to` takes no sendfile (nothing sent). */
int mmf__os_send(int from, int to, size_t len);

/* ---- os-lock.c: open-file-description locks ---- */
/* Locks on [start, start+len): 0, or -EAGAIN when another open file holds
 * a conflicting one. */
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
/* How many one-byte OFD locks in [lo, hi] the kernel holds on the file
 * (dev, ino), from /proc/locks, which lists every open file's, whatever
 * its process, namespace or hidepid. */
int mmf__os_count_byte_locks(dev_t dev, ino_t ino, uint64_t lo, uint64_t hi,
                             unsigned *ret_count);

/* ---- os-proc.c: this process and the watcher ---- */
pid_t mmf__os_getpid(void);
/* How many fork()s this process has made since it first asked. */
unsigned long mmf__os_forks(void);
/* Start the watcher that removes `base` in dirfd once no handle holds the
 * object fd any more; returns once it runs on its own. */
int mmf__os_spawn_watcher(int fd, int dirfd, const char *base);

/* ---- os-wait.c: futexes, clocks, sleeping, random ids ---- */
/* Defer pthread_cancel while a shared lock is held across cancellation
 * points (read, fallocate, pwrite...): the old state, to restore. */
int mmf__os_cancel_off(void);
void mmf__os_cancel_restore(int old);
/* Sleep while *w == val, at most timeout_ms (-1: no limit); shared across
 * processes.  0 when woken or the word changed, -ETIMEDOUT, -EINTR. */
int mmf__os_futex_wait(_Atomic uint32_t *w, uint32_t val, int timeout_ms);
/* How many it woke, or a negative error. */
int mmf__os_futex_wake(_Atomic uint32_t *w, int n);
int64_t mmf__os_now_ns(void);
int64_t mmf__os_now_ms(void);
/* A clock that costs no system call, in ticks of a few ms. */
int64_t mmf__os_coarse_ms(void);
/* Give the CPU to another runnable thread, if any. */
void mmf__os_yield(void);
void mmf__os_sleep_us(int us);
void mmf__os_sleep_ms(int ms);
/* A random number, from the kernel where it can. */
uint32_t mmf__os_random32(void);

/* ---- os-events.c: futex_waitv, eventfd, a thread of the library's own ---- */
struct mmf__waiter {
  _Atomic uint32_t *word;
  uint32_t val;
  bool priv; /* a word in private memory (FUTEX_PRIVATE_FLAG) */
};
/* Sleep until one of the n words no longer holds its value, a wake-up, or
 * timeout_ms (-1: none).  The index woken, -EAGAIN (a word differed),
 * -ETIMEDOUT, -EINTR, -EFAULT, or -ENOSYS (no futex_waitv: Linux < 5.16).
 * n == 0 probes: -EINVAL where the call exists. */
int mmf__os_futex_waitv(const struct mmf__waiter *w, unsigned n,
                        int timeout_ms);
/* Wake every sleeper on a word of private memory. */
void mmf__os_futex_wake_private(_Atomic uint32_t *w);
/* A non-blocking, close-on-exec eventfd. */
int mmf__os_eventfd(int *ret_fd);
/* Make it readable / read it empty. */
void mmf__os_eventfd_signal(int fd);
void mmf__os_eventfd_drain(int fd);
/* Start fn(arg) in a detached thread that takes no signal. */
int mmf__os_thread_start(void *(*fn)(void *), void *arg);
/* Is fd_a / fd_b (-1: none) readable within timeout_ms (-1: no limit)?
 * A mask (1: a, 2: b), 0 on timeout, or -errno (-EINTR included). */
int mmf__os_poll_in(int fd_a, int fd_b, int timeout_ms);
/* pthread_atfork, once per process. */
void mmf__os_atfork(void (*prepare)(void), void (*parent)(void),
                    void (*child)(void));

#endif
