/* SPDX-License-Identifier: MIT */
/*
 * mmf.h - named shared memory and memory-mapped files for Linux processes.
 *
 * This header is the whole public API of libmmf, and its manual.
 *
 * A *map* is a shared-memory object (/dev/shm/NAME) or a file that several
 * processes map at once.  An *mmf map* carries a small header and holds one
 * *content*: a length-framed byte string that writers replace (mmf_write) or
 * extend (mmf_append) as a whole, and that readers copy (mmf_read) without
 * taking a lock.  A reader always gets one whole published content, never a
 * mix of two, and a writer killed at any instruction loses nothing: the
 * previous content stays readable and the next writer proceeds at once.  A
 * *raw map* (MMF_RAW) has no header: every byte is the caller's, for interop
 * with programs that know nothing of mmf.  mmf_map_file() maps any existing
 * file as raw bytes.
 *
 * Conventions, for every function below:
 *  - Functions returning int return 0 (or a documented positive value) on
 *    success and a negative code on failure: -errno, or one of the MMF_E*
 *    codes below (all above errno's range).  mmf_strerror() describes each.
 *  - Output parameters are named ret_* and are left untouched on failure.
 *  - Failed calls change nothing: no map is created, written or removed.
 *  - A handle (mmf_t) may be used by several threads of one process at once,
 *    except that mmf_close() must be the last call on it.  Several processes
 *    may open the same map, each with its own handle.  Locks belong to the
 *    handle, not to a thread (see mmf_lock).  A child made by fork() shares
 *    its parent's handles: the child may use them, and its mmf_close() only
 *    releases its copy (the parent keeps its locks and its hold); a parent
 *    that closes a handle after forking leaves the handle's locks to the
 *    child, and they are free once neither holds the handle (the next
 *    locker is told MMF_LOCK_ABANDONED).  The library's descriptors are
 *    O_CLOEXEC, so execve() drops them.
 *  - Whether a process holds a map or a lock is known from the kernel (an
 *    open-file-description lock per handle), so it holds across PID
 *    namespaces, other users and /proc mounted hidepid, with no limit on the
 *    number of holders; see docs/FORMAT.md.
 *  - Every file descriptor the library opens has O_CLOEXEC.  The library
 *    never prints, never exits and never installs signal handlers.
 *
 * Names: a name without '/' is a POSIX shared-memory object, /dev/shm/NAME
 * (the same object as shm_open("/NAME") or Python's SharedMemory(name=NAME)).
 * Valid names are 1-255 characters of letters, digits, '.', '_' and '-', not
 * starting with '.' or '-'.  A name with '/' is a file path ("./data.mmf",
 * "/var/tmp/x"): the same kind of map, persisted on disk.
 *
 * See docs/FORMAT.md for the on-memory format and the publication protocol,
 * and docs/SECURITY.md for what a hostile peer can and cannot do.
 */
#ifndef MMF_H
#define MMF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(MMF_BUILDING) && defined(__GNUC__)
#define MMF_EXPORT __attribute__((visibility("default")))
#else
#define MMF_EXPORT
#endif

/* MMF_VERSION_MAJOR, _MINOR, _PATCH and _STRING: the version of this header,
 * from meson.build (its one definition). */
#include <mmf_version.h>

/* One open map.  Opaque; made by mmf_create(), mmf_open() or mmf_map_file(),
 * released by mmf_close(). */
typedef struct mmf mmf_t;

/* Flags (combine with |). */
enum {
  /* mmf_create: open the map if the name exists (create-or-open). */
  MMF_OPEN_EXISTING = 1 << 0,
  /* No header: every byte is the caller's (interop).  mmf_create makes an
   * object of exactly `capacity` bytes; mmf_open opens any object so. */
  MMF_RAW = 1 << 1,
  /* mmf_open, mmf_map_file: map read-only. */
  MMF_READONLY = 1 << 2,
  /* mmf_map_file: copy-on-write; changes stay in this process. */
  MMF_PRIVATE = 1 << 3,
  /* mmf_create: the name is removed when the last handle of the last
   * process that holds the map is closed, or when those processes die
   * (within milliseconds: the helper mmf-watch, started by mmf_create,
   * sleeps in the kernel until then).  The object's mode carries the sticky
   * bit, which only its owner can change. */
  MMF_TRANSIENT = 1 << 4,
  /* mmf_map_file: fill the page tables now, in one call, instead of taking
   * a fault per few pages later; for a cached file that will be read whole
   * (it reads the whole file from disk if it is not cached). */
  MMF_POPULATE = 1 << 5,
};

/* Library error codes, all above errno's range.  Functions return them
 * negated, like errno values: `if (r == -MMF_ETOOBIG) ...`. */
enum {
  MMF_EBASE = 4000,
  MMF_ENAME = 4001,      /* not a valid map name or path */
  MMF_ENOTMMF = 4002,    /* the object has no mmf header (open it MMF_RAW) */
  MMF_EVERSION = 4003,   /* made by a newer mmf: format version unknown */
  MMF_ECORRUPT = 4004,   /* header broken or does not fit the object */
  MMF_ETOOBIG = 4005,    /* content larger than the map's capacity */
  MMF_ERAW = 4006,       /* needs an mmf map; this one is raw or a file */
  MMF_ESTUCK = 4007,     /* a live process holds a map lock too long */
  MMF_EHOLDERS = 4008,   /* (format 1 only; no longer returned) */
  MMF_EOVERTAKEN = 4009, /* mmf_read_end: a writer overtook the reader */
  MMF_EREADONLY = 4010,  /* the map is open read-only */
  MMF_ENOTREG = 4011,    /* not a regular file (a FIFO, a device...) */
  MMF_EOWNER = 4012,     /* create-or-open found another user's object */
  MMF_ENOWATCHER = 4013, /* mmf-watch, which removes transient maps, could
                            not be started */
  /* Codes are never renumbered; later releases add theirs above these. */
};

/* mmf_lock() returns this positive value when it got the lock from a holder
 * that died holding it: the lock is held, but what it guarded may be
 * half-done. */
#define MMF_LOCK_ABANDONED 1

/* Capacity limits of mmf_create(): 16 TiB, the format's limit; where
 * size_t is 32-bit, 1 GiB, so that both slots fit the address space.  A
 * larger map made elsewhere is refused there with -EFBIG. */
#if SIZE_MAX > 0xffffffffu
#define MMF_CAPACITY_MAX ((size_t)1 << 44)
#else
#define MMF_CAPACITY_MAX ((size_t)1 << 30)
#endif

/* Writers wait at most this long for another live writer before giving up
 * with -MMF_ESTUCK. */
#define MMF_WRITE_LOCK_TIMEOUT_MS 5000

/* Kinds reported by mmf_stat() and mmf_info(). */
enum mmf_kind {
  MMF_KIND_MMF = 0,  /* mmf map: header and framed content */
  MMF_KIND_RAW = 1,  /* shared-memory object without header */
  MMF_KIND_FILE = 2, /* a file mapped as raw bytes */
};

/* struct mmf_stat and struct mmf_info keep their size for the life of
 * soname 1: a later release puts new fields in reserved_, which is zero
 * until then.  The library fills every byte. */
struct mmf_stat {
  size_t capacity;       /* mmf: content capacity; raw/file: object size */
  size_t length;         /* mmf: current content length; raw/file: size */
  uint64_t seq;          /* mmf: seq of the current content; else 0 */
  int raw;               /* 1 for raw maps and mapped files */
  enum mmf_kind kind;    /* what the handle maps */
  int readonly;          /* 1 when the handle cannot write */
  int transient;         /* 1 for an MMF_TRANSIENT map */
  unsigned holders;      /* open handles of the map, any process (mmf maps) */
  pid_t lock_pid;        /* process holding the user lock: 0 if free, -1 if
                            held from a process not visible here (another PID
                            namespace, or /proc mounted hidepid) */
  uint64_t object_size;  /* bytes of the underlying object or file */
  uint64_t reserved_[6]; /* zero; later fields take this room (ABI) */
};

/*
 * mmf_create - create a new map, or open it if it exists and the caller
 * asked for MMF_OPEN_EXISTING.
 *
 * name:     a shared-memory name or a file path (see "Names" above).
 * capacity: mmf maps: the largest content, 1..MMF_CAPACITY_MAX bytes; raw
 *           maps: the exact object size.  Ignored when an existing map is
 *           opened.
 * flags:    MMF_OPEN_EXISTING, MMF_RAW, MMF_TRANSIENT.
 * mode:     permission bits (at most 0777); 0 means owner-only, 0600.  The
 *           mode is applied exactly: the umask does not narrow it.
 * ret:      receives the handle; the caller owns it and releases it with
 *           mmf_close().
 *
 * The map appears under its name only once its header is complete, so an
 * opener never sees it half-made.  Creating never follows a symlink and never
 * reuses an existing object unless MMF_OPEN_EXISTING is given.  Creating
 * allocates no memory for the content: pages come as they are written.  A
 * fresh mmf map holds empty content at seq 0.
 *
 * Errors: -MMF_ENAME bad name; -EINVAL zero capacity, unknown flags or mode
 * bits, or MMF_RAW|MMF_TRANSIENT; -MMF_ETOOBIG capacity above
 * MMF_CAPACITY_MAX; -EEXIST the name exists (without MMF_OPEN_EXISTING);
 * -EACCES, -ENOSPC, -ENOENT (a folder of the path is missing);
 * -MMF_EOWNER (create-or-open) the existing object belongs to another user
 * and lies in a folder where anyone may create files (/dev/shm, /tmp): it
 * could have been planted to receive the caller's data; -MMF_ENOWATCHER
 * (MMF_TRANSIENT) the helper mmf-watch could not be started; or any error
 * of mmf_open() when an existing map is opened.
 */
MMF_EXPORT int mmf_create(const char *name, size_t capacity, int flags,
                          unsigned mode, mmf_t **ret);

/*
 * mmf_open - open, by name, a map that this or another process made.
 *
 * flags: MMF_READONLY maps read-only; MMF_RAW opens any object as raw bytes
 * (also an mmf map, whose header then is just bytes).  Without MMF_READONLY,
 * a map the caller may read but not write is opened read-only: writes then
 * fail with -MMF_EREADONLY.
 *
 * Errors: -MMF_ENAME bad name; -ENOENT no such map; -EACCES no permission to
 * read; -ELOOP the path is a symlink; -MMF_ENOTMMF the object has no mmf
 * header; -MMF_EVERSION a newer format; -MMF_ECORRUPT the header is broken or
 * does not fit the object; -MMF_ENOTREG not a regular file (a FIFO, a
 * device: refused at once, never waited on); -MMF_ESTUCK every handle id
 * was taken (another process holds locks over the map's whole id range:
 * see docs/SECURITY.md); -EINVAL unknown flags.
 */
MMF_EXPORT int mmf_open(const char *name, int flags, mmf_t **ret);

/*
 * mmf_map_file - map an existing file whole, as raw bytes.
 *
 * flags: MMF_READONLY maps read-only; MMF_PRIVATE maps copy-on-write (changes
 * stay in this process); MMF_POPULATE fills the page tables at once.  The
 * default is read-write and shared.  An empty
 * file maps with mmf_size() 0 and mmf_data() NULL.  Symlinks are followed.
 *
 * Errors: -ENOENT, -EACCES, -EISDIR, -EINVAL (unknown flags, or not a regular
 * file), -ENOMEM, -EFBIG (larger than the address space).
 */
MMF_EXPORT int mmf_map_file(const char *path, int flags, mmf_t **ret);

/*
 * mmf_close - release a handle: unmap, close the descriptor and, if this
 * handle held the user lock, release it.  For an MMF_TRANSIENT map, the last
 * close of the last live holder removes the name.  NULL is a no-op.
 */
MMF_EXPORT void mmf_close(mmf_t *m);

/*
 * mmf_remove - remove a map's name.  Handles already open keep working
 * until they are closed; the memory is freed with the last of them.  A
 * shared-memory name is removed whatever the object holds; a path is removed
 * only if the file is an mmf map (other files are left alone).
 *
 * A path straight in /dev/shm is the shared-memory object of that name.
 * Errors: -MMF_ENAME, -ENOENT, -EACCES, -EPERM, -MMF_ENOTMMF (a path that is
 * not an mmf map), -MMF_ENOTREG (not a regular file: a FIFO, a symlink, a
 * folder is never removed as a map).
 */
MMF_EXPORT int mmf_remove(const char *name);

/*
 * mmf_write - replace the content with exactly `len` bytes of `data` (any
 * byte values; `data` may be NULL when len is 0).
 *
 * mmf maps: the new content is published as a whole with seq one above the
 * previous one; concurrent readers see either the old or the new content.
 * Writers exclude each other; a writer killed mid-write leaves the previous
 * content readable and the lock free for the next writer.  Raw maps and
 * files: the bytes are copied to offset 0, with no atomicity.
 *
 * Errors: -MMF_ETOOBIG len exceeds the capacity (nothing is written);
 * -MMF_EREADONLY; -ENOSPC the backing store is full (the old content stays);
 * -MMF_ESTUCK another live writer held the lock for
 * MMF_WRITE_LOCK_TIMEOUT_MS; -MMF_ECORRUPT the object was shrunk by a peer
 * (checked at most once per clock tick, so that writes make no system call:
 * see docs/SECURITY.md for what remains unsafe).
 */
MMF_EXPORT int mmf_write(mmf_t *m, const void *data, size_t len);

/*
 * mmf_append - add `sep` (sep_len bytes) and then `data` to the content, or
 * only `data` when the content is empty, and publish the result as one new
 * content.  mmf maps only.  It copies only what changed since the slot it
 * fills last held a content (the appended bytes of the last append and of
 * this one) when the current content was itself an append: building a log
 * by appends costs time proportional to what is appended, not to its
 * size.  Readers follow it with mmf_read_since().
 *
 * Errors: those of mmf_write(); -MMF_ERAW on a raw map or file.
 */
MMF_EXPORT int mmf_append(mmf_t *m, const void *data, size_t len,
                          const void *sep, size_t sep_len);

/*
 * mmf_write_at - replace `len` bytes of the content at `offset` with `data`,
 * keeping the rest; a content shorter than offset + len grows to that
 * length, zeros filling any gap.  mmf maps: the result is published as a
 * whole, like mmf_write(), in time proportional to the content's length;
 * writers that each patch their own bytes never undo each other.  Raw maps
 * and files: the bytes are stored at `offset`.
 * Errors: those of mmf_write(); -MMF_ETOOBIG offset + len exceeds the
 * capacity (raw maps and files: their size).
 */
MMF_EXPORT int mmf_write_at(mmf_t *m, size_t offset, const void *data,
                            size_t len);

/*
 * mmf_read - copy the current content into buf (cap bytes).
 *
 * On success *ret_len is its length and *ret_seq (either may be NULL) its
 * seq.  The copy is always one whole published content.  Readers take no
 * lock: under constant writing a read retries, and after a few overtaken
 * tries it waits once for the current writer, so it always completes.  Raw
 * maps and files: all mmf_size() bytes, seq 0.
 *
 * Errors: -ENOBUFS buf is too small: *ret_len (if not NULL) is set to the
 * size needed and buf may hold partial bytes; -MMF_ECORRUPT a peer wrote an
 * impossible length or shrank the object; -MMF_ESTUCK (read-only handles)
 * writers overtook every try for MMF_WRITE_LOCK_TIMEOUT_MS.
 */
MMF_EXPORT int mmf_read(mmf_t *m, void *buf, size_t cap, size_t *ret_len,
                        uint64_t *ret_seq);

/*
 * mmf_read_since - what was appended since a content the caller read: for
 * following a log as it grows.  `seq` and `len` are the seq and length of
 * a content of this map the caller read (0, 0 for none).
 *
 * If the current content extends that one (every publication after it was
 * an mmf_append()), copies only the bytes after its first `len` into buf
 * and returns 0: the caller's copy plus these is the current content.
 * Otherwise (a write, mmf_write_at() or a zero-copy commit replaced it, a
 * writer that keeps no chain published, seq is not in the chain, or len is
 * larger than the content) copies the whole current content and returns
 * MMF_READ_WHOLE.  seq and len must be those of a content read from this
 * handle's map: a wrong smaller len, or a pair from another map (one removed
 * and made again under the same name is another), gives wrong bytes.  *ret_len
 * receives the bytes copied (the bytes needed, with -ENOBUFS), *ret_seq the
 * current seq; the new length is len + *ret_len, or *ret_len after
 * MMF_READ_WHOLE.  It never returns a byte twice or skips one while the chain
 * of appends holds.  Same atomicity and errors as mmf_read(); -MMF_ERAW for raw
 * maps and files.
 */
#define MMF_READ_WHOLE 2
MMF_EXPORT int mmf_read_since(mmf_t *m, uint64_t seq, size_t len, void *buf,
                              size_t cap, size_t *ret_len, uint64_t *ret_seq);

/*
 * mmf_read_alloc - like mmf_read(), into a buffer allocated with malloc()
 * that the caller releases with free().  An empty content gives a non-NULL
 * buffer of length 0.  Errors: those of mmf_read() but -ENOBUFS; -ENOMEM.
 */
MMF_EXPORT int mmf_read_alloc(mmf_t *m, void **ret_data, size_t *ret_len,
                              uint64_t *ret_seq);

/*
 * mmf_write_fd - publish at most `len` bytes read from `fd` (from its current
 * offset) as the new content, with the guarantees of mmf_write().  From a
 * regular file the kernel copies the bytes straight into the map's
 * unpublished slot (copy_file_range), without faulting the map's pages into
 * this process; other descriptors are read into it.  If fd ends before len
 * bytes, what was read is published.  *ret_len (may be NULL) receives the
 * number of bytes published.
 *
 * Errors: those of mmf_write(); -MMF_ERAW on a raw map or file; errors of
 * read(2) or copy_file_range(2) (nothing is published then).
 */
MMF_EXPORT int mmf_write_fd(mmf_t *m, int fd, size_t len, size_t *ret_len);

/*
 * mmf_read_fd - write the current content, whole, to `fd`.  To a regular
 * file the kernel copies it from the map (copy_file_range), starting at the
 * file's current offset; if a writer overtook the copy, the file is cut back
 * and the copy made again, so the file ends up holding one whole content.
 * To anything else (a pipe, a terminal) the content is first copied into
 * private memory, because bytes written there cannot be taken back.
 * *ret_len and *ret_seq (may be NULL) receive its length and seq.
 *
 * Errors: those of mmf_read(); -MMF_ERAW on a raw map or file; errors of
 * write(2), copy_file_range(2) or ftruncate(2).
 */
MMF_EXPORT int mmf_read_fd(mmf_t *m, int fd, size_t *ret_len,
                           uint64_t *ret_seq);

/*
 * mmf_save - write the content (raw maps and files: all bytes) to the file
 * at `path`, atomically: the bytes go to a temporary file in the same folder
 * which is then renamed over `path`, so a crash never leaves a half-written
 * file.  The file gets mode 0666 less the umask, like any new file.
 *
 * Errors: those of mmf_read_alloc(); -ENOENT, -EACCES, -ENOSPC, -EISDIR from
 * the file system.
 */
MMF_EXPORT int mmf_save(mmf_t *m, const char *path);

/*
 * mmf_stat - describe the map held by `m` (see struct mmf_stat).  Also checks
 * that the object still has the size the handle mapped.
 *
 * Errors: -MMF_ECORRUPT the object was shrunk, or its header holds an
 * impossible length.
 */
MMF_EXPORT int mmf_stat(mmf_t *m, struct mmf_stat *ret);

/*
 * mmf_data, mmf_size - the mapped bytes of a raw map or a mapped file, and
 * their number.  For an mmf map, mmf_data() is NULL and mmf_size() 0 (use
 * mmf_read or the zero-copy calls).  The pointer is valid until mmf_close().
 */
MMF_EXPORT void *mmf_data(mmf_t *m);
MMF_EXPORT size_t mmf_size(mmf_t *m);

/*
 * mmf_fd - the handle's file descriptor (close-on-exec), for fstat(), or to
 * let a child process inherit the map by clearing FD_CLOEXEC before it
 * execs.  The handle keeps owning it: never close it.  A child that
 * inherits it shares the handle's claim on the map: a transient map stays
 * until the child, too, has closed it or exited.  -EINVAL for NULL.
 */
MMF_EXPORT int mmf_fd(mmf_t *m);

/*
 * mmf_sync - flush the mapping to its backing file (msync MS_SYNC).  On a
 * shared-memory object it does nothing useful (there is no disk).  For a
 * file-backed map it writes every dirty page, header and both slots, in no
 * order the library controls: after a power cut, the content that
 * survives is whole only if mmf_sync returned after its publication and no
 * write began after that.  Publications between syncs may be lost or, if
 * the header reached the disk before its slot, show as a content of the
 * right length with old bytes.  Errors: -EIO, -ENOMEM.
 */
MMF_EXPORT int mmf_sync(mmf_t *m);

/*
 * mmf_wait - wait until the content's seq is greater than after_seq (at once
 * if it already is) and store it in *ret_seq (may be NULL).
 *
 * timeout_ms: -1 waits without limit; 0 only checks.  The caller sleeps in
 * the kernel on a futex inside the map and is woken by the write that
 * publishes the content it waits for; any number of processes may wait on
 * one map.  A signal does not end the wait early or lose the wake-up.  A
 * handle opened read-only cannot announce itself to writers: on a map whose
 * mode lets group or others read but not write, writers therefore wake every
 * sleeper after each write; on other maps (a read-only handle of its owner)
 * it sleeps in slices of at most 10 ms and sees a change within that.
 *
 * Errors: -ETIMEDOUT the time passed; -MMF_ERAW on a raw map or file.
 */
MMF_EXPORT int mmf_wait(mmf_t *m, uint64_t after_seq, int timeout_ms,
                        uint64_t *ret_seq);

/*
 * mmf_lock, mmf_unlock - the map's user lock: one per map, across processes,
 * for callers that update a raw region in place or make several calls one
 * step.  It is independent of the writers' internal exclusion.
 *
 * mmf maps: mmf_lock returns 0 when it took a free lock and
 * MMF_LOCK_ABANDONED (1) when the previous holder's handle is gone (closed,
 * or its process died, in any PID namespace): the lock is held either way.
 * The holder is the *handle*: any thread may unlock what a handle holds,
 * and a second mmf_lock through the same handle, from any thread, fails
 * with -EDEADLK rather than waiting.  Closing the handle releases its lock
 * (and only its own: closing another handle of the same map, in any
 * thread, does not).  A process that calls execve() loses its handles
 * (O_CLOEXEC), and the lock is taken over by the next locker.
 *
 * Raw maps and mapped files have no header: their lock is the kernel's
 * open-file-description lock on the object's first byte, held by the handle
 * too.  The kernel releases it when the handle is closed or its process dies,
 * but cannot say that it did: mmf_lock then returns 0, never
 * MMF_LOCK_ABANDONED, and a waiter re-tries every few milliseconds.  Other
 * programs that open the object ignore this lock.
 *
 * timeout_ms: -1 without limit.
 *
 * Errors (mmf_lock): -ETIMEDOUT; -EDEADLK this handle holds it already;
 * -MMF_EREADONLY; -MMF_ECORRUPT the object was shrunk.  (mmf_unlock): -EPERM
 * not held by this handle.
 */
MMF_EXPORT int mmf_lock(mmf_t *m, int timeout_ms);
MMF_EXPORT int mmf_unlock(mmf_t *m);

/*
 * Zero-copy publication and reading.  Same atomicity and crash guarantees as
 * mmf_write()/mmf_read(); mmf maps only.  The state of one operation lives
 * in the caller's loan or view, not in the handle, so any number of threads
 * may each have their own read in progress on one handle.
 *
 * mmf_write_begin takes the writers' lock for the handle and lends room
 * for up to `size` bytes in the slot that is not published (w->data,
 * w->size).  Fill it, then mmf_write_commit publishes its first `len` bytes
 * (len <= size) and releases the lock, or mmf_write_abort releases the lock
 * and publishes nothing.  The lock belongs to the handle: commit or abort
 * may come from another thread than begin; another begin on the same handle
 * (from another thread) waits until then.  Between begin and commit other
 * writers wait, so keep it short.  Closing the handle with a loan open
 * publishes nothing and frees the lock.
 *
 * mmf_read_begin fills *ret with the published content in place (v->data,
 * v->len, v->seq; no copy).  After looking at it, mmf_read_end tells
 * whether what was seen stayed valid: 0 yes; -MMF_EOVERTAKEN a writer
 * reused the slot meanwhile, so the bytes seen may be mixed: look again.
 * Nothing is held between the two.
 *
 * Errors: those of mmf_write()/mmf_read(); -EINVAL (commit, abort) a loan
 * that is not open on this handle (already committed, aborted, or never
 * begun), or len > size; (read_end) a view not made by read_begin on m.
 */
struct mmf_write_loan {
  void *data;        /* where to write: room for `size` bytes */
  size_t size;       /* as asked of mmf_write_begin */
  uint64_t priv_[2]; /* the library's; do not touch */
};
struct mmf_read_view {
  const void *data;  /* the content, in place */
  size_t len;        /* its length */
  uint64_t seq;      /* its seq */
  uint64_t priv_[2]; /* the library's; do not touch */
};
MMF_EXPORT int mmf_write_begin(mmf_t *m, size_t size,
                               struct mmf_write_loan *ret);
MMF_EXPORT int mmf_write_commit(mmf_t *m, struct mmf_write_loan *w, size_t len);
MMF_EXPORT void mmf_write_abort(mmf_t *m, struct mmf_write_loan *w);
MMF_EXPORT int mmf_read_begin(mmf_t *m, struct mmf_read_view *ret);
MMF_EXPORT int mmf_read_end(mmf_t *m, const struct mmf_read_view *v);

/* What mmf_info() and mmf_list() report about one object. */
struct mmf_info {
  char name[256];     /* the object's name (any bytes but '/' and NUL) */
  enum mmf_kind kind; /* MMF_KIND_MMF or MMF_KIND_RAW (or FILE for paths) */
  int error;          /* 0, or why the header could not be read */
  size_t capacity;    /* as in struct mmf_stat */
  size_t length;
  uint64_t seq;
  uint64_t object_size; /* bytes of the object */
  unsigned mode;        /* permission bits */
  uid_t owner;
  gid_t group;
  int64_t mtime_ns; /* last change of the object, ns since the epoch */
  int64_t ctime_ns;
  int transient;
  unsigned holders;      /* live holders (mmf maps) */
  pid_t lock_pid;        /* holder of the user lock, 0 if free */
  uint64_t reserved_[6]; /* zero; later fields take this room (ABI) */
};

/*
 * mmf_info - describe the map `name` without keeping it open.  A raw object
 * is reported with kind MMF_KIND_RAW; a path to a file without mmf header as
 * MMF_KIND_FILE.  An object that starts with mmf's magic but whose header is
 * broken is reported with kind MMF_KIND_MMF and `error` set, and the call
 * returns that error.
 *
 * Errors: -MMF_ENAME, -ENOENT, -EACCES, -MMF_ECORRUPT, -MMF_EVERSION.
 */
MMF_EXPORT int mmf_info(const char *name, struct mmf_info *ret);

/*
 * mmf_holders - which processes hold the mmf map `name`, as this PID
 * namespace sees them: up to `cap` distinct pids, ascending, into ret_pids
 * (may be NULL when cap is 0); *ret_count receives how many there are (it
 * may exceed cap), and *ret_hidden (may be NULL) how many of the map's
 * handles belong to processes this namespace cannot see (another PID
 * namespace, or /proc mounted hidepid).  The handles are counted by the
 * kernel (mmf_info's `holders`), their pids found the way lsof finds them.
 * A child made by fork() that shares a handle is listed with its parent.
 *
 * Errors: those of mmf_info(); -MMF_ERAW the object is not an mmf map.
 */
MMF_EXPORT int mmf_holders(const char *name, pid_t *ret_pids, size_t cap,
                           size_t *ret_count, unsigned *ret_hidden);

/*
 * mmf_list - describe every object in /dev/shm that the caller can see,
 * sorted by name.  *ret_list is an array of *ret_count entries allocated with
 * malloc(); free() it.  Objects whose header is broken are listed with
 * `error` set.  Transient maps whose holders have all died are removed (and
 * not listed).  Errors: -ENOMEM, -EACCES.
 */
MMF_EXPORT int mmf_list(struct mmf_info **ret_list, size_t *ret_count);

/*
 * mmf_strerror - a description of any code returned by this library (with or
 * without its minus sign).  Never NULL; the string is static.
 */
MMF_EXPORT const char *mmf_strerror(int code);

/* mmf_version - the library's version, "MAJOR.MINOR.PATCH". */
MMF_EXPORT const char *mmf_version(void);

#ifdef __cplusplus
}
#endif
#endif /* MMF_H */
