/* SPDX-License-Identifier: MIT */
/*
 * mmf.h - named shared memory and memory-mapped files for Linux processes.
 *
 * This header is the whole public API of libmmf, and its manual: each
 * function's comment below is also its manual page (docs/mkman.py), in
 * kernel-doc's convention: a "name - summary" line, the description, one
 * "@param: ..." item per parameter, then "Returns:", "Errors:" (one code a
 * line), "Thread safety:" (attributes(7) terms) and "Notes:".  @param in the
 * text names a parameter.
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
 *    A NULL handle or a NULL required pointer gives -EINVAL.
 *  - Output parameters are named ret_* and are left untouched on failure
 *    (the one exception, -ENOBUFS, says so where it applies).
 *  - Failed calls change nothing: no map is created, written or removed.
 *  - A handle (mmf_t) may be used by several threads of one process at once,
 *    except that mmf_close() must be the last call on it.  A call that holds
 *    the writers' lock defers pthread_cancel() until it has let go (a
 *    zero-copy loan is the caller's: pthread_cleanup_push() an
 *    mmf_write_abort() between begin and commit); mmf_open(), mmf_create()
 *    and mmf_close() defer it for their whole run, and an mmf_lock()
 *    cancelled while it waits leaves the lock free.  Several processes
 *    may open the same map, each with its own handle.  Locks belong to the
 *    handle, not to a thread (see mmf_lock).  A child made by fork() gets
 *    a copy of its parent's handles that holds nothing: a child keeps no
 *    parent's handle (nor its locks) alive.  The child may use the copy: the
 *    first lock it takes (a write, mmf_lock) gives the copy an id of its
 *    own, and from then on it is a holder like any other; locks the parent
 *    held at the fork stay the parent's.  The child's mmf_close() only
 *    releases its copy.  (The handle's liveness is a second descriptor of
 *    its own, never mapped, which the child closes at the fork: each handle
 *    costs two descriptors.  Without /proc it is opened by the map's name;
 *    where that fails too, it is the handle's descriptor and a child shares
 *    the parent's hold until both have closed it; see docs/FORMAT.md.)
 *  - Whether a process holds a map or a lock is known from the kernel (an
 *    open-file-description lock per handle), so it holds across PID
 *    namespaces, other users and /proc mounted hidepid, with no limit on the
 *    number of holders; see docs/FORMAT.md.
 *  - Every file descriptor the library opens has O_CLOEXEC, so execve()
 *    drops it.  The library never prints, never exits and never installs
 *    signal handlers.
 *
 * Names: a name without '/' is a POSIX shared-memory object, /dev/shm/NAME
 * (the same object as shm_open("/NAME") or Python's SharedMemory(name=NAME)).
 * A valid name is 1-255 bytes of anything but '/' and NUL (spaces, quotes,
 * UTF-8 and control bytes included, as .NET's map names), except ".", ".."
 * and names that start with ".mmf-tmp-", which mmf keeps for the temporary
 * files of creation.  A name with '/' is a file path ("./data.mmf",
 * "/var/tmp/x"): the same kind of map, persisted on disk.  A path straight
 * in /dev/shm ("/dev/shm/NAME") is the shared-memory object NAME.
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
   * object of exactly capacity bytes; mmf_open opens any object so. */
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
 * negated, like errno values (r == -MMF_ETOOBIG, for example). */
enum {
  MMF_EBASE = 4000,
  MMF_ENAME = 4001,      /* not a valid map name or path */
  MMF_ENOTMMF = 4002,    /* the object has no mmf header (open it MMF_RAW) */
  MMF_EVERSION = 4003,   /* another format version (not 3), new features */
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
                            namespace, or /proc mounted hidepid) or the
                            lookup's bound was reached (mmf_holders) */
  uint64_t object_size;  /* bytes of the underlying object or file */
  uint64_t reserved_[6]; /* zero; later fields take this room (ABI) */
};

/*
 * mmf_create - create a map, or open it if it exists
 *
 * Creates the map @name with room for a content of @capacity bytes and
 * returns a handle to it in *@ret.  The map appears under its name only once
 * its header is complete, so an opener never sees it half-made.  Creating
 * never follows a symlink and never reuses an existing object unless
 * MMF_OPEN_EXISTING is given.  Creating allocates no memory for the
 * content: pages come as they are written.  A fresh mmf map holds an empty
 * content at seq 0.
 *
 * @name: a shared-memory name or a file path; see NAMES in libmmf(3) (or
 *   "Names" at the top of this header).
 * @capacity: mmf maps: the largest content, 1 to MMF_CAPACITY_MAX bytes;
 *   raw maps: the exact object size.  Ignored when an existing map is
 *   opened.
 * @flags: zero or more of, ORed together:
 *     MMF_OPEN_EXISTING  open the map if the name exists (create-or-open).
 *     MMF_RAW            no header: an object of exactly @capacity bytes,
 *                        every byte the caller's.
 *     MMF_TRANSIENT      the name is removed when the last handle of the
 *                        last process that holds the map is closed, or
 *                        those processes die; the helper mmf-watch, started
 *                        here, sleeps in the kernel until then.
 *     MMF_COMPACT        at rest the map holds one content's storage, not
 *                        two; writes and appends copy more (see
 *                        MMF_COMPACT).
 * @mode: permission bits, at most 0777; 0 means owner-only, 0600.  The mode
 *   is applied exactly: the umask does not narrow it.  A transient map's
 *   mode also carries the sticky bit, which only its owner can change.
 * @ret: receives the handle; the caller owns it and releases it with
 *   mmf_close().
 *
 * Returns: 0 on success, a negative error code on failure.
 *
 * Errors:
 *   -MMF_ENAME      @name is not a valid name or path.
 *   -EINVAL         @capacity is 0; @flags or @mode hold unknown bits;
 *                   @flags hold MMF_RAW with MMF_TRANSIENT or MMF_COMPACT.
 *   -MMF_ETOOBIG    @capacity is above MMF_CAPACITY_MAX.
 *   -EEXIST         the name exists (without MMF_OPEN_EXISTING).
 *   -ENOENT         a folder of the path is missing.
 *   -EACCES         the caller may not create in the folder.
 *   -ENOSPC         the file system is full.
 *   -MMF_EOWNER     (create-or-open) the existing object belongs to another
 *                   user and lies in a folder where anyone may create files
 *                   (/dev/shm, /tmp): it could have been planted to receive
 *                   the caller's data.
 *   -MMF_ENOWATCHER (MMF_TRANSIENT) the helper mmf-watch could not be
 *                   started.
 *   any error of mmf_open(), when an existing map is opened.
 *
 * Thread safety: MT-Safe.
 */
MMF_EXPORT int mmf_create(const char *name, size_t capacity, int flags,
                          unsigned mode, mmf_t **ret);

/*
 * mmf_open - open a map by name
 *
 * Opens the map @name that this or another process made, and returns a
 * handle to it in *@ret.  Without MMF_READONLY, a map the caller may read
 * but not write is opened read-only: writes through the handle then fail
 * with -MMF_EREADONLY.  Only regular files are opened: a FIFO or a device
 * under the name is refused at once, never waited on.
 *
 * @name: a shared-memory name or a file path, as for mmf_create().
 * @flags: zero or more of, ORed together:
 *     MMF_READONLY  map read-only.
 *     MMF_RAW       open any object as raw bytes (an mmf map too, whose
 *                   header then is just bytes).
 * @ret: receives the handle; the caller owns it and releases it with
 *   mmf_close().
 *
 * Returns: 0 on success, a negative error code on failure.
 *
 * Errors:
 *   -MMF_ENAME     @name is not a valid name or path.
 *   -EINVAL        @flags hold unknown bits.
 *   -ENOENT        no such map.
 *   -EACCES        the caller may not read it.
 *   -ELOOP         the path is a symlink.
 *   -MMF_ENOTMMF   the object has no mmf header (open it with MMF_RAW).
 *   -MMF_EVERSION  the map has another format version.
 *   -MMF_ECORRUPT  the header is broken or does not fit the object.
 *   -MMF_ENOTREG   not a regular file (a FIFO, a device).
 *   -MMF_ESTUCK    every handle id was taken: another process holds locks
 *                  over the map's whole id range (see docs/SECURITY.md).
 *   -EFBIG         the map does not fit this address space (a capacity
 *                  above MMF_CAPACITY_MAX, made where size_t is wider).
 *   -ENOMEM        the mapping could not be made.
 *
 * Thread safety: MT-Safe.
 */
MMF_EXPORT int mmf_open(const char *name, int flags, mmf_t **ret);

/*
 * mmf_map_file - map an existing file whole, as raw bytes
 *
 * Maps the whole file at @path, read-write and shared unless @flags say
 * otherwise, and returns a handle to it in *@ret; mmf_data() and mmf_size()
 * give its bytes.  An empty file maps with mmf_size() 0 and mmf_data()
 * NULL.  Symlinks are followed.  Only regular files are mapped: a FIFO is
 * refused at once, never waited on.
 *
 * @path: the file.
 * @flags: zero or more of, ORed together:
 *     MMF_READONLY  map read-only.
 *     MMF_PRIVATE   map copy-on-write: changes stay in this process.
 *     MMF_POPULATE  fill the page tables now, in one call, instead of a
 *                   fault per few pages later; for a cached file that will
 *                   be read whole (it reads the whole file from disk if it
 *                   is not cached).
 * @ret: receives the handle; the caller owns it and releases it with
 *   mmf_close().
 *
 * Returns: 0 on success, a negative error code on failure.
 *
 * Errors:
 *   -EINVAL       @path is empty, or @flags hold unknown bits.
 *   -ENOENT       no such file.
 *   -EACCES       the caller may not open it so.
 *   -EISDIR       @path is a folder.
 *   -MMF_ENOTREG  not a regular file (a FIFO, a device such as /dev/null,
 *                 a socket).
 *   -EFBIG        the file is larger than the address space.
 *   -ENOMEM       the mapping could not be made.
 *
 * Thread safety: MT-Safe.
 */
MMF_EXPORT int mmf_map_file(const char *path, int flags, mmf_t **ret);

/*
 * mmf_close - release a handle
 *
 * Unmaps the map, closes the handle's descriptor and, if the handle held
 * the user lock (mmf_lock()) or a zero-copy loan, releases it; an open loan
 * publishes nothing.  For an MMF_TRANSIENT map, the last close of the last
 * live holder removes the name (a read-only handle that may not remove it
 * waits, at most 1 s, for mmf-watch to; with the watcher dead too, another
 * user's read-only last close leaves the name to the next opener or
 * mmf_list()).  A child made by fork() keeps neither the
 * map nor the handle's locks (see "fork()" above), unless its copy took a
 * lock of its own, which it keeps until it closes that copy.
 *
 * @m: the handle, or NULL (then nothing is done).
 *
 * Thread safety: MT-Safe, but mmf_close() must be the last call on @m: no
 *   other thread may be using the handle, or use it afterwards.
 */
MMF_EXPORT void mmf_close(mmf_t *m);

/*
 * mmf_remove - remove a map's name
 *
 * Removes the name @name.  Handles already open keep working until they are
 * closed; the memory is freed with the last of them.  A shared-memory name
 * is removed whatever the object holds; a path is removed only if the file
 * is an mmf map (other files are left alone).  A path straight in /dev/shm
 * is the shared-memory object of that name.
 *
 * @name: a shared-memory name or a file path, as for mmf_create().
 *
 * Returns: 0 on success, a negative error code on failure.
 *
 * Errors:
 *   -MMF_ENAME    @name is not a valid name or path.
 *   -ENOENT       no such map.
 *   -EACCES       the caller may not write in the folder.
 *   -EPERM        the folder is sticky (/dev/shm, /tmp) and the map is
 *                 another user's.
 *   -MMF_ENOTMMF  a path that is not an mmf map.
 *   -MMF_ENOTREG  not a regular file: a FIFO, a symlink or a folder is
 *                 never removed as a map.
 *
 * Thread safety: MT-Safe.
 */
MMF_EXPORT int mmf_remove(const char *name);

/*
 * mmf_write - replace the content
 *
 * Replaces the content of the map @m with exactly @len bytes of @data, any
 * byte values.  On an mmf map the new content is published as a whole,
 * with a seq one above the previous one: concurrent readers see either the
 * old or the new content, never a mix.  Writers exclude each other; a
 * writer killed mid-write leaves the previous content readable and the lock
 * free for the next writer.  On a raw map or a mapped file the bytes are
 * copied to offset 0, with no atomicity.
 *
 * @m: the handle.
 * @data: the bytes; may be NULL when @len is 0.
 * @len: their number, at most the map's capacity (raw maps and files: their
 *   size).
 *
 * Returns: 0 on success, a negative error code on failure.
 *
 * Errors:
 *   -MMF_ETOOBIG    @len exceeds the capacity; nothing is written.
 *   -MMF_EREADONLY  the handle is read-only.
 *   -ENOSPC         the backing store is full; the old content stays.
 *   -MMF_ESTUCK     another live writer held the writers' lock for
 *                   MMF_WRITE_LOCK_TIMEOUT_MS.
 *   -MMF_ECORRUPT   a peer shrank the object or wrote an impossible
 *                   header.
 *
 * Thread safety: MT-Safe.
 *
 * Notes: a shrunk object is noticed at most once per clock tick, so that
 *   writes make no system call; see docs/SECURITY.md for what remains
 *   unsafe.
 */
MMF_EXPORT int mmf_write(mmf_t *m, const void *data, size_t len);

/*
 * mmf_append - extend the content
 *
 * Adds @sep and then @data to the content of the mmf map @m (only @data
 * when the content is empty), and publishes the result as one new content,
 * with the guarantees of mmf_write().  When the current content was itself
 * an append or an mmf_write_at(), it copies only what changed since the
 * slot it fills last held a content (the bytes of the last change and of
 * this one): building a log by appends costs time proportional to what is
 * appended, not to its size.  Readers follow it with mmf_read_since().
 *
 * @m: the handle.
 * @data: the bytes to add; may be NULL when @len is 0.
 * @len: their number.
 * @sep: a separator put before @data when the content is not empty; may be
 *   NULL when @sep_len is 0.
 * @sep_len: its length.
 *
 * Returns: 0 on success, a negative error code on failure.
 *
 * Errors:
 *   -MMF_ERAW  @m is a raw map or a mapped file.
 *   any error of mmf_write().
 *
 * Thread safety: MT-Safe.
 */
MMF_EXPORT int mmf_append(mmf_t *m, const void *data, size_t len,
                          const void *sep, size_t sep_len);

/*
 * mmf_write_at - replace part of the content
 *
 * Replaces @len bytes of the content at @offset with @data, keeping the
 * rest; a content shorter than @offset + @len grows to that length, zeros
 * filling any gap.  On an mmf map the result is published as a whole, like
 * mmf_write(); writers that each patch their own bytes never undo each
 * other.  It costs what it writes and what the publication before it
 * changed, when that was an mmf_write_at() or an mmf_append() (the other
 * slot still holds the content before it): a run of patches costs their
 * bytes, whatever the content's size.  After any other publication (and
 * always in an MMF_COMPACT map) it copies the whole content.  On a raw map or a
 * mapped file the bytes are stored at @offset.
 *
 * @m: the handle.
 * @offset: where the bytes go, from the start of the content.
 * @data: the bytes; may be NULL when @len is 0.
 * @len: their number.
 *
 * Returns: 0 on success, a negative error code on failure.
 *
 * Errors:
 *   -MMF_ETOOBIG  @offset + @len exceeds the capacity (raw maps and files:
 *                 their size).
 *   any error of mmf_write().
 *
 * Thread safety: MT-Safe.
 */
MMF_EXPORT int mmf_write_at(mmf_t *m, size_t offset, const void *data,
                            size_t len);

/*
 * mmf_read - copy the current content
 *
 * Copies the current content of @m into @buf.  The copy is always one whole
 * published content.  Readers take no lock: under constant writing a read
 * retries, and after a few overtaken tries it waits once for the current
 * writer (a handle that may write), or pins the map (a read-only handle: a
 * read lock on a byte writers look at, which makes them wait for the copy,
 * each write at most about the time of a copy; see docs/FORMAT.md "Pins"),
 * so it completes.  From a raw map or a file it copies all mmf_size() bytes,
 * with seq 0.  A length a peer wrote over pages no writer reserved cannot
 * fault the copy: bytes the handle does not know backed are read with
 * pread(2) (holes read as zeros, nothing is allocated; see
 * docs/SECURITY.md).
 *
 * @m: the handle.
 * @buf: where the content goes; may be NULL when @cap is 0.
 * @cap: the size of @buf.
 * @ret_len: receives the content's length; may be NULL.
 * @ret_seq: receives the content's seq; may be NULL.
 *
 * Returns: 0 on success, a negative error code on failure.
 *
 * Errors:
 *   -ENOBUFS       @buf is too small: *@ret_len (if not NULL) receives the
 *                  size needed, and @buf may hold partial bytes.
 *   -MMF_ECORRUPT  a peer wrote an impossible length or shrank the object.
 *   -MMF_ESTUCK    writers kept the content out of reach for
 *                  MMF_WRITE_LOCK_TIMEOUT_MS: a handle that may write
 *                  waited that long for a live writer's lock, or a
 *                  read-only handle was overtaken on every try although it
 *                  pinned the map (writers of a build that knows no pins,
 *                  or a peer that keeps rewriting the slot).
 *
 * Thread safety: MT-Safe.
 */
MMF_EXPORT int mmf_read(mmf_t *m, void *buf, size_t cap, size_t *ret_len,
                        uint64_t *ret_seq);

/*
 * mmf_read_since - copy what was appended since a content the caller read
 *
 * Follows a log as it grows.  If the current content extends the one
 * given by @seq and @len (every publication after it was an
 * mmf_append()), copies only the bytes after its first @len into @buf and
 * returns 0: the caller's copy plus these is the current content.
 * Otherwise (mmf_write(), mmf_write_at() or a zero-copy commit replaced it,
 * a writer that keeps no chain published, @seq is not in the chain, or
 * @len is larger than the content) copies the whole current content and
 * returns MMF_READ_WHOLE.  It never returns a byte twice or skips one while
 * the chain of appends holds.  The atomicity is that of mmf_read().
 *
 * @m: the handle.
 * @seq: the seq of a content of this map the caller read (0 for none).
 * @len: the length of that content (0 for none).
 * @buf: where the bytes go; may be NULL when @cap is 0.
 * @cap: the size of @buf.
 * @ret_len: receives the number of bytes copied (with -ENOBUFS: the number
 *   needed); the content's new length is @len + *@ret_len, or *@ret_len
 *   after MMF_READ_WHOLE.  May be NULL.
 * @ret_seq: receives the current seq; may be NULL.
 *
 * Returns: 0 when only the appended bytes were copied, MMF_READ_WHOLE (2)
 * when the whole content was, a negative error code on failure.
 *
 * Errors:
 *   -MMF_ERAW  @m is a raw map or a mapped file.
 *   any error of mmf_read().
 *
 * Thread safety: MT-Safe.
 *
 * Notes: @seq and @len must be those of a content read from this handle's
 *   map: a wrong smaller @len, or a pair from another map (one removed and
 *   made again under the same name is another), gives wrong bytes.
 */
#define MMF_READ_WHOLE 2
MMF_EXPORT int mmf_read_since(mmf_t *m, uint64_t seq, size_t len, void *buf,
                              size_t cap, size_t *ret_len, uint64_t *ret_seq);

/*
 * mmf_read_alloc - copy the current content into a new buffer
 *
 * Like mmf_read(), into a buffer allocated with malloc(3) that the caller
 * releases with free(3).  An empty content gives a non-NULL buffer of
 * length 0.
 *
 * @m: the handle.
 * @ret_data: receives the buffer.
 * @ret_len: receives the content's length; may be NULL.
 * @ret_seq: receives the content's seq; may be NULL.
 *
 * Returns: 0 on success, a negative error code on failure.
 *
 * Errors:
 *   -ENOMEM  no memory for the buffer.
 *   any error of mmf_read() but -ENOBUFS.
 *
 * Thread safety: MT-Safe.
 */
MMF_EXPORT int mmf_read_alloc(mmf_t *m, void **ret_data, size_t *ret_len,
                              uint64_t *ret_seq);

/*
 * mmf_write_fd - publish bytes read from a file descriptor
 *
 * Publishes at most @len bytes read from @fd, from its current offset, as
 * the new content of the mmf map @m, with the guarantees of mmf_write().
 * From a regular file the kernel copies the bytes straight into the map's
 * unpublished slot (copy_file_range(2) on the same file system, sendfile(2)
 * from another one), without faulting the map's pages into this process;
 * from a pipe it moves them (splice(2)); other descriptors (terminals,
 * sockets) are read through a 256 KiB buffer.  Storage is reserved ahead of
 * the bytes that fill it, 256 KiB (or what a regular file holds) at first
 * and doubling up to 8 MiB at a time, and what was reserved and not filled
 * is given back before the content is published, so a stream costs the
 * storage of what it brings, not of @len, and the process's memory is
 * bounded by a constant.  If @fd ends before @len bytes, what was read is
 * published; files whose size reads 0 (/proc, /sys) are read to their end.
 * The writers' lock is held while @fd is read: a slow or idle producer (a
 * terminal, tail -f, a stalled pipe) keeps every other writer of the map
 * waiting, and after 5 s they fail with -MMF_ESTUCK; pthread_cancel(3)
 * does not end the call meanwhile (cancellation is off while the lock is
 * held).  Give such input through a buffer, or mmf_write(), when others
 * write the same map.
 *
 * @m: the handle.
 * @fd: the descriptor to read; the caller keeps owning it.
 * @len: the most bytes to read, at most the map's capacity.
 * @ret_len: receives the number of bytes published; may be NULL.
 *
 * Returns: 0 on success, a negative error code on failure.
 *
 * Errors:
 *   -MMF_ERAW  @m is a raw map or a mapped file.
 *   any error of mmf_write(), read(2), copy_file_range(2), sendfile(2) or
 *   splice(2); nothing is published then.
 *
 * Thread safety: MT-Safe.
 */
MMF_EXPORT int mmf_write_fd(mmf_t *m, int fd, size_t len, size_t *ret_len);

/*
 * mmf_read_fd - write the current content to a file descriptor
 *
 * Writes the current content of the mmf map @m, whole, to @fd, from its
 * current offset on (which then moves past the content); only bytes of
 * one whole content ever reach @fd, and a regular file is never cut below
 * where it ended: its bytes past the content's end stay as they were.
 *
 * Into a regular file whose writes land at or past its end (a new or
 * emptied file, a shell's > FILE or >> FILE, an offset at or past the end)
 * the content is read from the map (pread(2)) and written 128 KiB at a time
 * through a buffer, each piece checked against the slot before it is
 * written: the time and memory of cat(1).  If a writer overtakes the copy
 * or the call fails, the file is first cut back to where it ended (only
 * the bytes this call's own writes added), then the copy is made again
 * (after three overtakes, through a snapshot as below); a failed call
 * leaves the file as it was.  If another process changed the file's size
 * meanwhile (a second appender to a shared log), nothing is cut: the call
 * returns -MMF_EOVERTAKEN (or its own error) and what it wrote stays, a
 * prefix of one content; and the kernel has no "truncate if the size is
 * still N", so an append landing between the size check and the cut is
 * cut too.  Give a file that others append to through a pipe (the
 * snapshot path) when that matters.  A caller killed midway leaves, past
 * the file's old end, a prefix of one content.
 *
 * Anywhere else (a pipe, a socket, a terminal, the middle of an existing
 * file), the kernel first copies the content into a snapshot (a memfd;
 * where it cannot, private memory), checks that no writer overtook it, and
 * only then writes it to @fd (copy_file_range(2) or sendfile(2); write(2)
 * from private memory).  If the call fails or the caller is killed
 * midway, @fd holds, from the offset on, a prefix of that one content
 * followed by what was there before, never bytes of two contents.  The
 * process's own memory (its RSS) stays bounded by a constant (a snapshot
 * that sendfile(2) cannot send goes through a 256 KiB buffer), except on
 * kernels without memfd_create(2), where the content is first copied into
 * private memory (mmf_read_alloc()).  The snapshot itself is the whole
 * content in shared memory (charged to the caller's memory cgroup,
 * counted in Shmem) from its copy until the call returns: such a call
 * costs the content's size in memory while it runs, because writing
 * straight from the map there could leave bytes of two contents if a
 * writer overtook the copy and the caller was killed before the copy was
 * made again.
 *
 * @m: the handle.
 * @fd: the descriptor to write; the caller keeps owning it.
 * @ret_len: receives the content's length; may be NULL.
 * @ret_seq: receives the content's seq; may be NULL.
 *
 * Returns: 0 on success, a negative error code on failure.
 *
 * Errors:
 *   -MMF_ERAW  @m is a raw map or a mapped file.
 *   -MMF_EOVERTAKEN  overtaken while writing at a file's end that another
 *                    writer changed meanwhile (not cut).
 *   any error of mmf_read(), memfd_create(2), pread(2), write(2),
 *   sendfile(2), copy_file_range(2) or ftruncate(2).
 *
 * Thread safety: MT-Safe.
 */
MMF_EXPORT int mmf_read_fd(mmf_t *m, int fd, size_t *ret_len,
                           uint64_t *ret_seq);

/*
 * mmf_save - save the content to a file, atomically
 *
 * Writes the content of @m (raw maps and files: all their bytes) to the
 * file at @path, atomically: the bytes go to a temporary file in the same
 * folder, which is synced and then renamed over @path, so a crash never
 * leaves a half-written file.  An mmf map's content is copied as
 * mmf_read_fd() copies into a file's end (128 KiB pieces, each checked
 * before it is written; a copy that a writer overtook is taken back and
 * made again), with the disk given each 8 MiB as soon as it is copied
 * (sync_file_range(2)), then fsync(2) makes it durable; raw maps and
 * files are copied by the kernel from the map's file.  The process's own
 * memory is bounded by a constant and no snapshot is made; the time is
 * that of cp followed by sync.  A new file gets the map's read and write
 * permission bits (an owner-only map is not saved readable by all); an
 * existing regular file is replaced keeping its mode and, where the caller
 * may, its owner.  Anything else at @path (a device such as /dev/null, a
 * FIFO, a symlink, a folder) is refused, never replaced.
 *
 * @m: the handle.
 * @path: the file to write.
 *
 * Returns: 0 on success, a negative error code on failure.
 *
 * Errors:
 *   -EINVAL        @path is empty.
 *   -EISDIR        @path is a folder, or ends with '/'.
 *   -MMF_ENOTREG   @path is not a regular file.
 *   -ENAMETOOLONG  the folder's path is too long.
 *   -ENOENT        the folder does not exist.
 *   -EACCES        the caller may not write in the folder.
 *   -ENOSPC        the file system is full.
 *   any error of mmf_read_fd().
 *
 * Thread safety: MT-Safe.
 */
MMF_EXPORT int mmf_save(mmf_t *m, const char *path);

/*
 * mmf_stat - describe an open map
 *
 * Fills *@ret with a description of the map held by @m (a struct
 * mmf_stat).  Also checks that the object still has the size the
 * handle mapped.
 *
 * @m: the handle.
 * @ret: receives the description.
 *
 * Returns: 0 on success, a negative error code on failure.
 *
 * Errors:
 *   -MMF_ECORRUPT  the object was shrunk, or its header holds an impossible
 *                  length.
 *
 * Thread safety: MT-Safe.
 */
MMF_EXPORT int mmf_stat(mmf_t *m, struct mmf_stat *ret);

/*
 * mmf_data, mmf_size - the bytes of a raw map or a mapped file
 *
 * mmf_data() returns the address of the mapped bytes of a raw map or a
 * mapped file, and mmf_size() their number.  For an mmf map, mmf_data() is
 * NULL and mmf_size() 0: use mmf_read() or the zero-copy calls.  The
 * pointer stays valid until mmf_close().
 *
 * @m: the handle.
 *
 * Returns: the address (NULL for an mmf map, an empty file or a NULL @m),
 * and the number of bytes (0 then).
 *
 * Thread safety: MT-Safe.
 */
MMF_EXPORT void *mmf_data(mmf_t *m);
MMF_EXPORT size_t mmf_size(mmf_t *m);

/*
 * mmf_fd - the handle's file descriptor
 *
 * Returns the descriptor of @m (close-on-exec), for fstat(2), or to let a
 * child process inherit the map by clearing FD_CLOEXEC before it execs.
 * The handle keeps owning it: never close it.  It carries no claim on the
 * map (the handle's liveness is on a descriptor of its own): a child that
 * inherits it can read and write the object, but keeps neither the handle
 * nor a transient map alive.
 *
 * @m: the handle.
 *
 * Returns: the descriptor, or -EINVAL when @m is NULL.
 *
 * Thread safety: MT-Safe.
 */
MMF_EXPORT int mmf_fd(mmf_t *m);

/*
 * mmf_sync - flush a file-backed map to its disk
 *
 * Flushes the mapping of @m to its backing file (msync(2) with MS_SYNC).
 * On a shared-memory object it does nothing useful (there is no disk).  For
 * a file-backed map it writes every dirty page, header and both slots, in
 * no order the library controls.
 *
 * @m: the handle.
 *
 * Returns: 0 on success, a negative error code on failure.
 *
 * Errors:
 *   -EIO     the disk failed.
 *   -ENOMEM  the mapping is gone.
 *
 * Thread safety: MT-Safe.
 *
 * Notes: after a power cut, the content that survives is whole only if
 *   mmf_sync() returned after its publication and no write began after
 *   that.  Publications between syncs may be lost or, if the header reached
 *   the disk before its slot, show as a content of the right length with
 *   old bytes.
 */
MMF_EXPORT int mmf_sync(mmf_t *m);

/*
 * mmf_wait - wait for a newer content
 *
 * Waits until the seq of the content of @m is greater than @after_seq, and
 * returns at once if it already is.  The caller sleeps in the kernel on a
 * futex inside the map and is woken by the write that publishes the
 * content it waits for; any number of processes may wait on one map.  A
 * signal does not end the wait early or lose the wake-up.
 *
 * A handle opened read-only cannot announce itself to writers: on a map
 * whose mode lets group or others read but not write, writers therefore
 * wake every sleeper after each write; on other maps (a read-only handle of
 * its owner) it sleeps in slices of at most 10 ms and sees a change within
 * that.
 *
 * @m: the handle of an mmf map.
 * @after_seq: the seq the caller has seen (0 for a fresh map).
 * @timeout_ms: the most milliseconds to wait; -1 waits without limit, 0
 *   only checks.
 * @ret_seq: receives the seq found, greater than @after_seq; may be NULL.
 *
 * Returns: 0 when a newer content is there, a negative error code on
 * failure.
 *
 * Errors:
 *   -ETIMEDOUT     @timeout_ms passed with no newer content.
 *   -MMF_ERAW      @m is a raw map or a mapped file.
 *   -MMF_ECORRUPT  a peer shrank the object (checked before the wait and
 *                  after each wake-up).
 *
 * Thread safety: MT-Safe.
 */
MMF_EXPORT int mmf_wait(mmf_t *m, uint64_t after_seq, int timeout_ms,
                        uint64_t *ret_seq);

/*
 * mmf_lock, mmf_unlock - the map's user lock
 *
 * One lock per map, across processes, for callers that update a raw region
 * in place or make several calls one step.  It is independent of the
 * writers' internal exclusion.  mmf_lock() takes it, waiting at most
 * @timeout_ms; mmf_unlock() releases it.
 *
 * The holder is the handle: any thread may unlock what a handle holds, and
 * a second mmf_lock() through the same handle, from any thread, fails with
 * -EDEADLK rather than waiting.  Closing the handle releases its lock (and
 * only its own: closing another handle of the same map, in any thread,
 * does not).  A process that calls execve() loses its handles (O_CLOEXEC),
 * and the lock is taken over by the next locker.
 *
 * On an mmf map, mmf_lock() tells whether the previous holder's handle is
 * gone (closed, or its process died, in any PID namespace).  Raw maps and
 * mapped files have no header: their lock is the kernel's
 * open-file-description lock on the object's first byte, held by the
 * handle too.  The kernel releases it when the handle is closed or its
 * process dies, but cannot say that it did, and a waiter re-tries every few
 * milliseconds.  Other programs that open the object ignore this lock.
 *
 * @m: the handle.
 * @timeout_ms: (mmf_lock) the most milliseconds to wait; -1 waits without
 *   limit, 0 only tries.
 *
 * Returns: mmf_lock() returns 0 when it took a free lock, and
 * MMF_LOCK_ABANDONED (1) when the previous holder's handle is gone (mmf
 * maps only): the lock is held either way, but what it guarded may be
 * half-done.  mmf_unlock() returns 0.  Both return a negative error code on
 * failure.
 *
 * Errors:
 *   -ETIMEDOUT     (mmf_lock) @timeout_ms passed with the lock held by
 *                  another handle.
 *   -EDEADLK       (mmf_lock) this handle holds it already.
 *   -MMF_EREADONLY (mmf_lock) the handle is read-only, or is a file
 *                  mapped with MMF_PRIVATE that the caller may not write
 *                  (the kernel's lock it takes is a write lock; a private
 *                  mapping of a writable file can be locked).
 *   -MMF_ECORRUPT  the object was shrunk.
 *   -EPERM         (mmf_unlock) the lock is not held by this handle.
 *
 * Thread safety: MT-Safe.
 */
MMF_EXPORT int mmf_lock(mmf_t *m, int timeout_ms);
MMF_EXPORT int mmf_unlock(mmf_t *m);

/*
 * mmf_write_begin, mmf_write_commit, mmf_write_abort, mmf_read_begin,
 * mmf_read_end - publish and read in place, without a copy
 *
 * Same atomicity and crash guarantees as mmf_write() and mmf_read(); mmf
 * maps only.  The state of one operation lives in the caller's loan or
 * view, not in the handle, so any number of threads may each have their
 * own read in progress on one handle.
 *
 * mmf_write_begin() takes the writers' lock for the handle and lends room
 * for up to @size bytes in the slot that is not published (*@ret: data,
 * size).  Fill it, then mmf_write_commit() publishes its first @len bytes
 * and releases the lock, or mmf_write_abort() releases the lock and
 * publishes nothing.  The lock belongs to the handle: commit or abort may
 * come from another thread than begin; another begin on the same handle
 * (from another thread) waits until then.  Between begin and commit other
 * writers wait, so keep it short.  Closing the handle with a loan open
 * publishes nothing and frees the lock.
 *
 * mmf_read_begin() fills *@ret with the published content in place (data,
 * len, seq; no copy).  After looking at it, mmf_read_end() tells whether
 * what was seen stayed valid.  No lock is held between the two, but a
 * handle whose last two views were overtaken pins the map for the next
 * one (see mmf_read()): writers then wait for its mmf_read_end(), each at
 * most about the time of a copy of the content, so that a loop of views
 * gets through beside a writer that never pauses.  End every view that
 * mmf_read_begin() gave, once: a view never ended keeps its pin until the
 * handle closes (writers slowed, within that bound).  The view
 * trusts the length: a peer that may write can set one over pages nobody
 * reserved, and touching those faults (SIGBUS on a full store); copy with
 * mmf_read() where writers are not trusted.
 *
 * @m: the handle of an mmf map.
 * @size: (mmf_write_begin) the room asked for, at most the capacity.
 * @ret: (mmf_write_begin) receives the loan; (mmf_read_begin) receives the
 *   view.
 * @w: (mmf_write_commit, mmf_write_abort) a loan from mmf_write_begin() on
 *   @m.
 * @len: (mmf_write_commit) the bytes to publish, at most the loan's size.
 * @v: (mmf_read_end) a view from mmf_read_begin() on @m.
 *
 * Returns: 0 on success, a negative error code on failure.  mmf_read_end()
 * returns 0 when the bytes seen stayed valid, and -MMF_EOVERTAKEN when a
 * writer reused the slot meanwhile, so the bytes seen may be mixed: look
 * again.
 *
 * Errors:
 *   -EINVAL          (mmf_write_commit, mmf_write_abort) @w is not open on
 *                    @m (already committed, aborted, or never begun), or
 *                    @len is larger than its size; (mmf_read_end) @v was
 *                    not made by mmf_read_begin() on @m.
 *   -MMF_EOVERTAKEN  (mmf_read_end) a writer overtook the reader.
 *   -MMF_ERAW        @m is a raw map or a mapped file.
 *   any error of mmf_write() (writers) or mmf_read() (readers).
 *
 * Thread safety: MT-Safe.
 */
struct mmf_write_loan {
  void *data;        /* where to write: room for size bytes */
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
  char name[256];        /* the object's name (any bytes but '/' and NUL) */
  enum mmf_kind kind;    /* MMF_KIND_MMF or MMF_KIND_RAW (or FILE for paths) */
  int error;             /* 0, or why the header could not be read */
  size_t capacity;       /* as in struct mmf_stat */
  size_t length;         /* as in struct mmf_stat */
  uint64_t seq;          /* as in struct mmf_stat */
  uint64_t object_size;  /* bytes of the object */
  unsigned mode;         /* permission bits */
  uid_t owner;           /* the object's owner */
  gid_t group;           /* the object's group */
  int64_t mtime_ns;      /* last change of the object, ns since the epoch */
  int64_t ctime_ns;      /* last change of its inode, ns since the epoch */
  int transient;         /* 1 for an MMF_TRANSIENT map */
  unsigned holders;      /* live holders (mmf maps) */
  pid_t lock_pid;        /* holder of the user lock: 0 if free, -1 if
                            hidden (as in struct mmf_stat) */
  int orphaned;          /* 1 for a transient map nobody holds any more: its
                            content is gone, its name not yet (since 1.1) */
  int reserved0_;        /* zero */
  uint64_t reserved_[5]; /* zero; later fields take this room (ABI) */
};

/*
 * mmf_info - describe a map by name
 *
 * Fills *@ret with a description of the map @name (a struct mmf_info)
 * without keeping it open.  A raw object is reported with kind
 * MMF_KIND_RAW, a path to a file without mmf header as MMF_KIND_FILE.  An
 * object that exists but could not be read as a map (the caller may not
 * open it, or its header is broken) is still described from its inode,
 * with capacity and length 0 and error set, and the call returns that
 * error: *@ret is filled then too.  An object that starts with mmf's magic
 * but whose header is broken has kind MMF_KIND_MMF.  Looking changes
 * nothing: a transient map whose holders have all died (its helper killed)
 * is reported with orphaned 1 and holders 0, and left for mmf_remove(),
 * mmf_create() or mmf-watch to remove; opening it fails with -ENOENT.
 *
 * @name: a shared-memory name or a file path, as for mmf_create().
 * @ret: receives the description.
 *
 * Returns: 0 on success, a negative error code on failure.
 *
 * Errors:
 *   -MMF_ENAME     @name is not a valid name or path.
 *   -ENOENT        no such map.
 *   -MMF_ENOTREG   not a regular file (a FIFO, a device).
 *   -EACCES        the caller may not read it (*@ret is filled).
 *   -MMF_ECORRUPT  the header is broken (*@ret is filled).
 *   -MMF_EVERSION  the map has another format version (*@ret is filled).
 *
 * Thread safety: MT-Safe.
 */
MMF_EXPORT int mmf_info(const char *name, struct mmf_info *ret);

/*
 * mmf_holders - which processes hold a map
 *
 * Finds the processes that hold the mmf map @name, as this PID namespace
 * sees them.  The handles are counted by the kernel (mmf_info()'s holders),
 * their pids found in /proc/PID/fdinfo (no foreign descriptor is stat()ed,
 * so a hung file system cannot hang the caller; at most 2 s or 2^20
 * descriptors are read).  A child made by fork() is
 * listed once its copy of a handle took a lock.
 *
 * @name: a shared-memory name or a file path, as for mmf_create().
 * @ret_pids: receives up to @cap distinct pids, ascending; may be NULL when
 *   @cap is 0.
 * @cap: the room in @ret_pids.
 * @ret_count: receives how many pids there are (it may exceed @cap).
 * @ret_hidden: receives how many of the map's handles belong to processes
 *   this namespace cannot see (another PID namespace, or /proc mounted
 *   hidepid); may be NULL.
 *
 * Returns: 0 on success, a negative error code on failure.
 *
 * Errors:
 *   -MMF_ERAW  the object is not an mmf map.
 *   -ETIMEDOUT the lookup's bound was reached (a host with very many
 *              descriptors, or a slow /proc).
 *   any error of mmf_open().
 *
 * Thread safety: MT-Safe.
 */
MMF_EXPORT int mmf_holders(const char *name, pid_t *ret_pids, size_t cap,
                           size_t *ret_count, unsigned *ret_hidden);

/*
 * mmf_list - describe every shared-memory object
 *
 * Describes every object in /dev/shm that the caller can see, sorted by
 * name, as mmf_info() does.  Objects whose header is broken, or that the
 * caller may not read, are listed with error set.  Transient maps whose
 * holders have all died are listed with orphaned 1, not removed.
 *
 * @ret_list: receives an array allocated with malloc(3); the caller
 *   releases it with free(3).
 * @ret_count: receives the number of entries.
 *
 * Returns: 0 on success, a negative error code on failure.
 *
 * Errors:
 *   -ENOMEM  no memory for the array.
 *   -EACCES  the caller may not read /dev/shm.
 *
 * Thread safety: MT-Safe.
 */
MMF_EXPORT int mmf_list(struct mmf_info **ret_list, size_t *ret_count);

/*
 * mmf_strerror - describe an error code
 *
 * Returns a text that says what @code means, for messages: strerror(3)'s
 * for an errno value, the library's own for its MMF_E* codes.
 *
 * @code: any code returned by this library, with or without its minus
 *   sign.
 *
 * Returns: a description; never NULL.  The string is static: the caller
 * neither frees nor changes it.
 *
 * Thread safety: MT-Safe, with a C library that has strerrordesc_np()
 *   (glibc 2.32 and later); with an older one, an errno value it does not
 *   know is described in strerror(3)'s buffer, which threads share.
 */
MMF_EXPORT const char *mmf_strerror(int code);

/*
 * mmf_version - the library's version
 *
 * Returns the version of the libmmf that the program runs with, which may
 * be newer than the header it was compiled against.
 *
 * Returns: the version of the library in use, "MAJOR.MINOR.PATCH" (static);
 * MMF_VERSION_STRING is that of the header compiled against.
 *
 * Thread safety: MT-Safe.
 */
MMF_EXPORT const char *mmf_version(void);

/*
 * mmf_event_fd, mmf_event_ack - a descriptor to poll for a new content
 *
 * mmf_event_fd() gives a descriptor (since 1.1) that poll(2), epoll(7) and
 * select(2) report readable while the map holds a content newer than the
 * one last acknowledged with mmf_event_ack(); mmf maps only.  The first
 * call on a handle makes it (an eventfd, O_CLOEXEC and non-blocking); later
 * calls return the same one.  The handle owns it: never close it or read
 * it yourself; mmf_close() closes it, which also takes it out of any epoll
 * set.  Before the first acknowledgement the acknowledged seq is 0, so a
 * map that holds a content polls readable at once: call mmf_event_ack()
 * right after mmf_event_fd() for "from now on".
 *
 * mmf_event_ack() stores the current seq in *@ret_seq and makes the
 * descriptor unreadable until a newer content is published.  Read the
 * content after acknowledging (its seq is then *@ret_seq or newer), so
 * that nothing published meanwhile is missed.
 *
 * No wake-up is lost: a content published at any moment after an
 * acknowledgement makes the descriptor readable, until the next one.  It
 * stays readable until mmf_event_ack(), however many contents came
 * meanwhile (they count as one).  It works wherever mmf_wait() does:
 * another PID namespace sharing /dev/shm, another user with read
 * permission, a read-only handle, /proc mounted hidepid; with mmf_wait()'s
 * latency caveat for a read-only handle (a change seen within 10 ms).
 *
 * Cost: a library thread per 127 polled handles of the process (started
 * with the first, ended with the last; it takes no signal and has a 256 KiB
 * stack) sleeps in futex_waitv(2) on the maps' futex words and signals the
 * descriptors.  A writer pays a FUTEX_WAKE only while some descriptor waits
 * for its map's next content, at most once per acknowledgement; writers of
 * maps nobody polls pay nothing.  A wake-up costs the poller about what a
 * futex wake-up costs plus an eventfd write.  Where the kernel lacks
 * futex_waitv (before Linux 5.16) each polled handle gets a thread of its
 * own.  The thread holds no descriptor of the map: a transient map goes
 * when its handles do, polled or not.
 *
 * After fork(), the child has none of the threads and its copies of the
 * descriptors are closed (a child's epoll set loses them): a child that
 * polls calls mmf_event_fd() again for a descriptor of its own.
 *
 * @m: the handle of an mmf map.
 * @ret_seq: (mmf_event_ack) receives the seq acknowledged; may be NULL.
 *
 * Returns: mmf_event_fd() returns the descriptor (0 or more),
 * mmf_event_ack() returns 0; both a negative error code on failure.
 *
 * Errors:
 *   -MMF_ERAW      @m is a raw map or a mapped file.
 *   -MMF_ECORRUPT  a peer shrank the object (the descriptor then stays
 *                  readable for good).
 *   -EINVAL        (mmf_event_ack) @m has no descriptor: mmf_event_fd()
 *                  was not called.
 *   -EMFILE        (mmf_event_fd) no descriptor left, or more than 32512
 *                  polled handles (more than 256 on kernels without
 *                  futex_waitv(2), before 5.16, where each polled handle
 *                  takes a thread of its own).
 *   -ENOMEM        (mmf_event_fd) the thread could not be started.
 *
 * Thread safety: MT-Safe, but mmf_close() must come after every other
 *   thread's use of the handle and of its descriptor.
 */
MMF_EXPORT int mmf_event_fd(mmf_t *m);
MMF_EXPORT int mmf_event_ack(mmf_t *m, uint64_t *ret_seq);

/*
 * mmf_wait_any - wait for a newer content on any of several maps
 *
 * Waits (since 1.1) until any of the @n maps holds a content newer than
 * its entry of @after_seqs, and returns at once if one does already.  It
 * spins for about 20 us, then, without @cancel_fd and for up to 127 maps,
 * sleeps in futex_waitv(2) in the calling thread (a wake-up costs what
 * mmf_wait()'s does); with @cancel_fd, or more maps, the library's threads
 * (see mmf_event_fd()) watch the maps and the caller sleeps in poll(2),
 * which costs a second wake-up.  It needs no event descriptor and leaves
 * those of the maps untouched; it allocates a few dozen bytes per map for
 * the call.  A signal does not end the wait.
 *
 * @maps: @n handles of mmf maps.
 * @after_seqs: the seq the caller has seen of each map.
 * @n: how many maps, 1 to 32512.
 * @cancel_fd: -1, or a descriptor of the caller's (an eventfd, the read
 *   end of a pipe) whose becoming readable, or reporting an error or
 *   hang-up, ends the wait with -ECANCELED; the library never reads it.
 * @timeout_ms: the most milliseconds to wait; -1 waits without limit, 0
 *   only checks.
 * @ret_index: receives the index in @maps of the first map with a newer
 *   content; may be NULL.
 * @ret_seq: receives that map's seq; may be NULL.
 *
 * Returns: 0 when a map has a newer content, a negative error code on
 * failure.
 *
 * Errors:
 *   -ETIMEDOUT     @timeout_ms passed with no newer content.
 *   -ECANCELED     @cancel_fd became readable.
 *   -EINVAL        @maps or @after_seqs is NULL, a map is NULL, @n is 0 or
 *                  above 32512.
 *   -MMF_ERAW      a map is raw or a mapped file.
 *   -MMF_ECORRUPT  a peer shrank an object.
 *   -EMFILE        no descriptor left, or, on kernels without
 *                  futex_waitv(2) (before 5.16), where each watched map
 *                  takes a thread of its own, more than 256 maps watched
 *                  at once (this call's and the polled handles').
 *   -ENOMEM        no memory, or no thread could be started.
 *
 * Thread safety: MT-Safe.
 */
MMF_EXPORT int mmf_wait_any(mmf_t *const *maps, const uint64_t *after_seqs,
                            size_t n, int cancel_fd, int timeout_ms,
                            size_t *ret_index, uint64_t *ret_seq);

/*
 * mmf_write_seq, mmf_append_seq, mmf_write_at_seq, mmf_write_commit_seq,
 * mmf_write_fd_seq - publish and learn the seq published
 *
 * mmf_write(), mmf_append(), mmf_write_at(), mmf_write_commit() and
 * mmf_write_fd() (since 1.1), which also store the seq of the content this
 * very call published, so that "publish, then wait for the answer to it"
 * is mmf_write_seq(m, ..., &seq) then mmf_wait(m, seq, ...).  The seq
 * belongs to the call: other threads writing through the same handle at
 * the same time do not change it.  Same contract, errors and cost as the
 * calls they stand for; the plain calls cost nothing more for them.
 *
 * @m: the handle.
 * @data: the bytes to publish, as the plain call takes them.
 * @len: how many bytes, as the plain call takes it.
 * @sep: (mmf_append_seq) the separator, as mmf_append() takes it.
 * @sep_len: (mmf_append_seq) its length.
 * @offset: (mmf_write_at_seq) where the bytes go, as mmf_write_at().
 * @w: (mmf_write_commit_seq) the open loan.
 * @fd: (mmf_write_fd_seq) the descriptor read, as mmf_write_fd().
 * @ret_len: (mmf_write_fd_seq) receives the bytes published; may be NULL.
 * @ret_seq: receives the seq published (0 for a raw map or a file, which
 *   publish none); may be NULL; untouched on failure.
 *
 * Returns: 0 on success, a negative error code on failure.
 *
 * Errors:
 *   any error of the call it stands for.
 *
 * Thread safety: MT-Safe.
 */
MMF_EXPORT int mmf_write_seq(mmf_t *m, const void *data, size_t len,
                             uint64_t *ret_seq);
MMF_EXPORT int mmf_append_seq(mmf_t *m, const void *data, size_t len,
                              const void *sep, size_t sep_len,
                              uint64_t *ret_seq);
MMF_EXPORT int mmf_write_at_seq(mmf_t *m, size_t offset, const void *data,
                                size_t len, uint64_t *ret_seq);
MMF_EXPORT int mmf_write_commit_seq(mmf_t *m, struct mmf_write_loan *w,
                                    size_t len, uint64_t *ret_seq);
MMF_EXPORT int mmf_write_fd_seq(mmf_t *m, int fd, size_t len, size_t *ret_len,
                                uint64_t *ret_seq);

/*
 * Large maps (libmmf 1.1): calls whose memory and time follow the bytes
 * moved, never the capacity.
 */

/* Creation flag (mmf_create; combines with the flags above). */
enum {
  /*
   * MMF_COMPACT - a map that at rest holds about one content's worth of
   * memory, not two.  An mmf map keeps two slots so that a reader always
   * has a whole content while a writer fills the other one; normally both
   * keep their pages, so a map that held a content of N bytes in each slot
   * holds 2N of memory (a shared-memory object's pages are RAM).  Under
   * MMF_COMPACT every publication gives back the storage of the slot it
   * unpublishes (fallocate PUNCH_HOLE), so at rest the map holds the
   * published content only; during a write it holds both, as any map.
   *
   * What it costs: each write pays fresh pages again (about 2.5 us per
   * 4 KiB page faulted in, several times a copy of a warm page, plus the
   * release itself), and an mmf_append() copies the whole content, not
   * only what was appended, since the other slot no longer holds the
   * previous one.  A reader still copying the content just unpublished
   * (one that a writer overtook) faults zero pages back in until it
   * retries; on a full store that fault is a SIGBUS (docs/SECURITY.md).
   * The choice is recorded in the header, so every handle in any process
   * honours it (each reads it on every call); builds that do not know it
   * cannot write the map (a write feature of the format, docs/FORMAT.md).
   * Not with MMF_RAW (-EINVAL).
   */
  MMF_COMPACT = 1 << 6,
};

/*
 * mmf_write_fd_all, mmf_write_fd_all_seq - publish everything a file
 * descriptor holds
 *
 * Publishes what @fd holds, from its current offset to its end, as the new
 * content of the mmf map @m: mmf_write_fd() with the map's capacity as
 * its length, except that a descriptor holding more than the capacity
 * publishes nothing (one byte past the capacity is read from it to know).
 * What the command mmf write NAME < INPUT needs, whatever INPUT is: a
 * disk file, a pipe, a terminal (to its end of file), a /proc file; memory
 * bounded by a constant.  mmf_write_fd_all_seq() also stores the seq it
 * published, as mmf_write_fd_seq() does.
 *
 * @m: the handle.
 * @fd: the descriptor to read; the caller keeps owning it.
 * @ret_len: receives the number of bytes published; may be NULL.
 * @ret_seq: (mmf_write_fd_all_seq) receives the seq published; may be
 *   NULL; untouched on failure.
 *
 * Returns: 0 on success, a negative error code on failure.
 *
 * Errors:
 *   -MMF_ETOOBIG  @fd holds more than the capacity; nothing is published.
 *   any error of mmf_write_fd().
 *
 * Thread safety: MT-Safe.
 */
MMF_EXPORT int mmf_write_fd_all(mmf_t *m, int fd, size_t *ret_len);
MMF_EXPORT int mmf_write_fd_all_seq(mmf_t *m, int fd, size_t *ret_len,
                                    uint64_t *ret_seq);

/*
 * mmf_append_fd, mmf_append_fd_seq - extend the content with bytes read
 * from a file descriptor
 *
 * Adds @sep (only when the content is not empty) and then at most @len
 * bytes read from @fd, from its current offset, to the content of the
 * mmf map @m, and publishes the result as one new content (since 1.2):
 * mmf_append() whose data comes from @fd, streamed as mmf_write_fd() streams it
 * (copy_file_range(2), sendfile(2), splice(2), else a 256 KiB buffer,
 * storage reserved a piece at a time and what was not filled given back),
 * so that the process's memory is bounded by a constant whatever @fd
 * brings, and the time follows the bytes appended as mmf_append()'s does.
 * Readers see the old content or the new one, never a part.  If the bytes
 * read, at most @len, do not fit the capacity after the content and @sep
 * (one byte past the room is read to know), nothing is published and
 * -MMF_ETOOBIG is returned; the bytes read from @fd are gone then.  Give
 * SIZE_MAX as @len to append everything @fd holds (what mmf write NAME
 * --append < INPUT does).  mmf_append_fd_seq() also stores the seq it
 * published, as mmf_append_seq() does.
 *
 * @m: the handle.
 * @fd: the descriptor to read; the caller keeps owning it.
 * @len: the most bytes to read from @fd.
 * @sep: a separator put before the bytes when the content is not empty
 *   (also when @fd brings none); may be NULL when @sep_len is 0.
 * @sep_len: its length.
 * @ret_len: receives the number of bytes appended from @fd (@sep not
 *   counted); may be NULL.
 * @ret_seq: (mmf_append_fd_seq) receives the seq published; may be NULL;
 *   untouched on failure.
 *
 * Returns: 0 on success, a negative error code on failure.
 *
 * Errors:
 *   -MMF_ERAW     @m is a raw map or a mapped file.
 *   -MMF_ETOOBIG  what was read does not fit; nothing is published.
 *   any error of mmf_append() or mmf_write_fd(); nothing is published
 *   then.
 *
 * Thread safety: MT-Safe.
 */
MMF_EXPORT int mmf_append_fd(mmf_t *m, int fd, size_t len, const void *sep,
                             size_t sep_len, size_t *ret_len);
MMF_EXPORT int mmf_append_fd_seq(mmf_t *m, int fd, size_t len, const void *sep,
                                 size_t sep_len, size_t *ret_len,
                                 uint64_t *ret_seq);

/*
 * mmf_footprint - the most storage a map of a capacity holds
 *
 * The bytes of storage a map made with mmf_create(name, @capacity, @flags)
 * holds at most: its header and two slots of @capacity bytes (a writer
 * fills one while readers copy the other), or under MMF_COMPACT the header
 * and one slot (what it holds at rest; during a write it holds both), or a
 * raw map's @capacity.  Creating costs nothing: pages come as they are
 * written, and a shared-memory object's pages are memory.  Compare it with
 * mmf_store_space() to warn before creating a map that cannot fit.
 *
 * @capacity: the capacity that mmf_create() would be given.
 * @flags: the flags that mmf_create() would be given.
 *
 * Returns: the number of bytes.
 *
 * Thread safety: MT-Safe.
 */
MMF_EXPORT uint64_t mmf_footprint(size_t capacity, int flags);

/*
 * mmf_store_space - the free space of the store that holds a map
 *
 * The bytes free to unprivileged users in the store that holds, or would
 * hold, @name (statvfs(3)): /dev/shm for a shared-memory name, the file
 * system of the path's folder for a path.  A map whose mmf_footprint()
 * exceeds it can still be created, but a write that needs more than the
 * store has then fails with -ENOSPC.
 *
 * @name: a shared-memory name or a file path (the map need not exist).
 * @ret_avail: receives the free bytes.
 * @ret_total: receives the store's size in bytes; may be NULL.
 *
 * Returns: 0 on success, a negative error code on failure.
 *
 * Errors:
 *   -EINVAL     @ret_avail is NULL.
 *   -MMF_ENAME  @name is not a valid name or path.
 *   -ENOENT     the path's folder does not exist.
 *   -EACCES     the caller may not look into the folder.
 *
 * Thread safety: MT-Safe.
 */
MMF_EXPORT int mmf_store_space(const char *name, uint64_t *ret_avail,
                               uint64_t *ret_total);

#ifdef __cplusplus
}
#endif
#endif /* MMF_H */
