/* SPDX-License-Identifier: MIT */
/* Contents to and from file descriptors: mmf_write_fd fills a write loan
 * from a descriptor, mmf_read_fd sends the published content to one.  The
 * kernel copies where it can (copy_file_range, sendfile, splice; a memfd
 * snapshot), so that no page of the map is faulted in here.  Into a file's
 * end a read goes through pread and a buffer, each piece checked before
 * it is written; elsewhere a snapshot a writer overtook is dropped and
 * made again, before anything is sent. */
#include "internal.h"
#include "slot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Bytes reserved and copied at a time, from FIRST_CHUNK (a small input
 * pays a small reservation) doubling to CHUNK: a stream costs the storage
 * of what it brings, not of what the loan could hold. */
#define CHUNK ((uint64_t)8 << 20)
#define FIRST_CHUNK ((uint64_t)256 << 10)
/* The buffer of descriptors the kernel cannot copy from (terminals). */
#define BUF ((size_t)256 << 10)

/* Stream at most `len` bytes of fd into slot s of m from `at` on (the
 * caller holds the slot open under the writers' lock, reserved up to
 * `at`), reserving storage ahead of the bytes a chunk at a time; what the
 * last chunk reserved and the stream did not fill is given back.
 * *ret_done: the bytes copied, fewer than len only at the end of fd. */
static int stream_in(struct mmf *m, int fd, unsigned s, uint64_t at,
                     uint64_t len, uint64_t *ret_done) {
  uint64_t off = mmf__slot_off(m, s), chunk = FIRST_CHUNK;
  /* From a regular file on another file system the kernel copies with
   * sendfile, which writes at a descriptor's offset: one of our own. */
  int own = -1;
  struct stat st;
  if (mmf__os_fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    (void)mmf__os_reopen(m->fd, true, -1, "", &own);
    /* Its size (0 for /proc's files) tells how much is likely to come. */
    int64_t pos;
    if (mmf__os_regular(fd, &pos) && st.st_size > pos) {
      uint64_t left = (uint64_t)(st.st_size - pos);
      chunk = left > CHUNK ? CHUNK : left < FIRST_CHUNK ? FIRST_CHUNK : left;
    }
  }
  int way = MMF__IN_RANGE, r = 0;
  uint64_t done = 0, reserved = at;
  /* [give_from, give_to): storage this stream allocated itself, which it
   * may give back.  Not what the slot held before, whatever it holds
   * (fallocated pages read as holes to SEEK_DATA): another handle may
   * trust pages it reserved there.  Under the writers' lock, the file's
   * allocated blocks grow only by what this stream allocates. */
  uint64_t give_from = 0, give_to = 0;
  /* Untouched (no memory) unless the kernel cannot copy from fd. */
  void *buf = malloc(BUF);
  if (!buf)
    r = -ENOMEM;
  while (r == 0 && done < len) {
    uint64_t n = len - done < chunk ? len - done : chunk;
    size_t got;
    if (at + done + n > reserved) {
      uint64_t a0 =
          atomic_load_explicit(&m->allocated[s], memory_order_relaxed);
      struct stat b0, b1;
      bool known = mmf__os_fstat(m->fd, &b0) == 0;
      if ((r = mmf__slot_reserve(m, s, at + done + n)) < 0)
        break;
      reserved = at + done + n;
      uint64_t a1 =
          atomic_load_explicit(&m->allocated[s], memory_order_relaxed);
      if (a1 > a0) {
        if (known && mmf__os_fstat(m->fd, &b1) == 0 &&
            (uint64_t)(b1.st_blocks - b0.st_blocks) * 512 == a1 - a0) {
          if (give_to != a0)
            give_from = a0;
          give_to = a1;
        } else {
          give_from = give_to = 0;
        }
      }
    }
    if ((r = mmf__os_copy_in(fd, m->fd, own, off + at + done, (size_t)n, buf,
                             BUF, &way, &got)) < 0)
      break;
    done += got;
    if (got < n)
      break; /* the end of fd */
    chunk = chunk * 2 > CHUNK ? CHUNK : chunk * 2;
  }
  mmf__os_close(own);
  free(buf);
  if (give_to > give_from)
    mmf__slot_give_back(m, s, at + done > give_from ? at + done : give_from,
                        give_to);
  *ret_done = done;
  return r;
}

/* Does fd hold more (one byte is read to know)? 1, 0 or a negative code. */
static int has_more(int fd) {
  uint8_t extra;
  size_t got;
  int r = mmf__os_read(fd, &extra, 1, &got);
  return r < 0 ? r : got > 0;
}

/* Publish what fd holds, at most len bytes; with `whole`, fd must end
 * there (-MMF_ETOOBIG, nothing published, if it holds more). */
static int write_fd_locked(struct mmf *m, int fd, size_t len, bool whole,
                           size_t *ret_len, uint64_t *ret_seq) {
  struct mmf_write_loan w;
  int r = mmf__write_begin(m, len, 0, &w);
  if (r < 0)
    return r;
  uint64_t done = 0;
  r = stream_in(m, fd, (unsigned)(w.priv_[0] & 1), 0, len, &done);
  if (r == 0 && whole && done == len && (r = has_more(fd)) > 0)
    r = -MMF_ETOOBIG; /* full, and fd had more */
  if (r < 0) {
    mmf_write_abort(m, &w);
    return r;
  }
  if ((r = mmf__write_commit(m, &w, (size_t)done, ret_seq)) < 0)
    return r;
  if (ret_len)
    *ret_len = (size_t)done;
  return 0;
}

static int write_fd(struct mmf *m, int fd, size_t len, bool whole,
                    size_t *ret_len, uint64_t *ret_seq) {
  if (!m || fd < 0)
    return -EINVAL;
  if (m->kind != MMF_KIND_MMF)
    return -MMF_ERAW;
  /* read() with the writers' lock held: deferred, not cancelled there. */
  int c = mmf__os_cancel_off();
  int r = write_fd_locked(m, fd, len, whole, ret_len, ret_seq);
  mmf__os_cancel_restore(c);
  return r;
}

MMF_EXPORT int mmf_write_fd(mmf_t *m, int fd, size_t len, size_t *ret_len) {
  return write_fd(m, fd, len, false, ret_len, NULL);
}

MMF_EXPORT int mmf_write_fd_seq(mmf_t *m, int fd, size_t len, size_t *ret_len,
                                uint64_t *ret_seq) {
  return write_fd(m, fd, len, false, ret_len, ret_seq);
}

MMF_EXPORT int mmf_write_fd_all(mmf_t *m, int fd, size_t *ret_len) {
  return write_fd(m, fd, m ? m->capacity : 0, true, ret_len, NULL);
}

MMF_EXPORT int mmf_write_fd_all_seq(mmf_t *m, int fd, size_t *ret_len,
                                    uint64_t *ret_seq) {
  return write_fd(m, fd, m ? m->capacity : 0, true, ret_len, ret_seq);
}

/* mmf_append_fd: the bytes of fd after the separator, at most `len` and
 * only as many as fit (more: -MMF_ETOOBIG, nothing published). */
struct append_ctx {
  int fd;
  uint64_t len, done;
};

static int append_fill(void *vctx, struct mmf *m, unsigned s, uint64_t at,
                       uint64_t room, uint64_t *ret_got) {
  struct append_ctx *c = vctx;
  uint64_t want = c->len < room ? c->len : room;
  int r = stream_in(m, c->fd, s, at, want, &c->done);
  if (r == 0 && c->done == want && want < c->len && (r = has_more(c->fd)) > 0)
    r = -MMF_ETOOBIG;
  *ret_got = c->done;
  return r < 0 ? r : 0;
}

/* The content an append keeps, copied by the kernel within the map's
 * file: a large content costs no memory of this process. */
static int copy_kept(struct mmf *m, uint64_t from, uint64_t to, uint64_t len) {
  return mmf__os_copy_within(m->fd, from, to, len);
}

static int append_fd(struct mmf *m, int fd, size_t len, const void *sep,
                     size_t sep_len, size_t *ret_len, uint64_t *ret_seq) {
  if (!m || fd < 0 || (!sep && sep_len))
    return -EINVAL;
  if (m->kind != MMF_KIND_MMF)
    return -MMF_ERAW;
  struct append_ctx c = {.fd = fd, .len = len};
  struct mmf__fill fill = {append_fill, &c, copy_kept};
  /* read() with the writers' lock held: deferred, not cancelled there. */
  int cs = mmf__os_cancel_off();
  int r = mmf__append_fill(m, sep, sep_len, &fill, ret_seq);
  mmf__os_cancel_restore(cs);
  if (r == 0 && ret_len)
    *ret_len = (size_t)c.done;
  return r;
}

MMF_EXPORT int mmf_append_fd(mmf_t *m, int fd, size_t len, const void *sep,
                             size_t sep_len, size_t *ret_len) {
  return append_fd(m, fd, len, sep, sep_len, ret_len, NULL);
}

MMF_EXPORT int mmf_append_fd_seq(mmf_t *m, int fd, size_t len, const void *sep,
                                 size_t sep_len, size_t *ret_len,
                                 uint64_t *ret_seq) {
  return append_fd(m, fd, len, sep, sep_len, ret_len, ret_seq);
}

/* Pieces of a copy into a file's end: as cat's, small enough to stay in
 * the cache between the read and the write. */
#define PIECE ((size_t)128 << 10)
/* Bytes a save hands to the disk at a time. */
#define WRITE_BEHIND ((uint64_t)8 << 20)
/* Copies into a file's end overtaken before the snapshot is made instead. */
#define END_TRIES 3

/* mmf_read_fd into a regular file whose writes land at or past its end
 * (`> file`, `>> file`, mmf_save's new file): straight from the slot,
 * PIECE bytes at a time through a buffer, each piece checked against the
 * slot's gen before it is written, so only bytes of one content ever reach
 * the file; memory and time are cat's.  Overtaken or failed, the file is
 * cut back to its old end (only bytes this call added), then the next
 * content is copied.  -EAGAIN after END_TRIES overtakes (nothing added). */
static int read_to_end(struct mmf *m, int fd, int64_t pos, int64_t end,
                       bool write_behind, size_t *ret_len, uint64_t *ret_seq) {
  /* Page-aligned: the kernel's copies to and from it run faster. */
  uint8_t *buf = aligned_alloc(4096, PIECE);
  if (!buf)
    return -ENOMEM;
  int r = -EAGAIN;
  for (unsigned tries = 0; tries < END_TRIES;) {
    unsigned s;
    uint64_t g, len, seq, done = 0;
    r = mmf__slot_published(m, false, &s, &g, &len, &seq);
    if (r == -EAGAIN) {
      tries++;
      mmf__cpu_relax();
      continue;
    }
    if (r < 0)
      break;
    uint64_t off = mmf__slot_off(m, s);
    bool whole = true;
    while (r == 0 && done < len) {
      size_t n = len - done < PIECE ? (size_t)(len - done) : PIECE, got;
      /* pread: a hole a peer's length covers reads as zeros, never a
       * fault (the object's size was checked by the caller). */
      if ((r = mmf__os_pread(m->fd, buf, n, off + done, &got)) < 0)
        break;
      if (got < n)
        memset(buf + got, 0, n - got);
      if (!mmf__slot_unchanged(m, s, g)) {
        whole = false;
        break;
      }
      size_t wrote;
      r = mmf__os_write_counted(fd, buf, n, &wrote);
      done += wrote;
      if (r < 0)
        break;
      /* For a save: the disk writes what was copied while the rest is
       * copied, so that the fsync after has little left to wait for. */
      if (write_behind && (done % WRITE_BEHIND == 0 || done == len))
        mmf__os_write_behind(
            fd, pos + (int64_t)(done - 1) / WRITE_BEHIND * WRITE_BEHIND,
            WRITE_BEHIND);
    }
    if (r == 0 && whole) {
      free(buf);
      if (ret_len)
        *ret_len = len;
      if (ret_seq)
        *ret_seq = seq;
      return 0;
    }
    /* What this call wrote, counted by its own writes (a failed one's part
     * included), never guessed from the file's size: another process may
     * be appending to the same file. */
    int64_t made =
        done ? (pos + (int64_t)done > end ? pos + (int64_t)done : end) : end;
    int c = mmf__os_cut_back(fd, pos, end, made);
    if (r < 0 || c < 0) {
      r = r < 0 ? r : c;
      break;
    }
    r = -EAGAIN;
    tries++;
  }
  free(buf);
  return r;
}

MMF_EXPORT int mmf_read_fd(mmf_t *m, int fd, size_t *ret_len,
                           uint64_t *ret_seq) {
  return mmf__read_fd(m, fd, false, ret_len, ret_seq);
}

int mmf__read_fd(struct mmf *m, int fd, bool write_behind, size_t *ret_len,
                 uint64_t *ret_seq) {
  if (!m || fd < 0)
    return -EINVAL;
  if (m->kind != MMF_KIND_MMF)
    return -MMF_ERAW;
  int r = mmf__check_size(m, false);
  if (r < 0)
    return r;
  int64_t pos, end;
  if (mmf__os_at_end(fd, &pos, &end)) {
    r = read_to_end(m, fd, pos, end, write_behind, ret_len, ret_seq);
    if (r != -EAGAIN)
      return r;
  }
  /* Anywhere else (a pipe, a terminal, the middle of a file), or
   * overtaken again and again: only a whole content checked beforehand
   * reaches fd.  The kernel snapshots the slot (a memfd filled from the
   * map's file: no page faulted in here), the slot's gen is checked, and
   * only then are the bytes sent.  A regular file is never cut: bytes past
   * the content's end stay as they were, and a caller killed midway leaves
   * a prefix of one content, never a mix of two. */
  bool regular = mmf__os_regular(fd, &(int64_t){0});
  for (unsigned tries = 0; tries < MMF__READ_TRIES; tries++) {
    unsigned s;
    uint64_t g, len, seq;
    r = mmf__slot_published(m, false, &s, &g, &len, &seq);
    if (r == -EAGAIN)
      continue;
    if (r < 0)
      return r;
    int snap;
    r = mmf__os_snapshot(m->fd, mmf__slot_off(m, s), len, &snap);
    if (r == -EXDEV)
      break;
    if (r < 0)
      return r;
    if (!mmf__slot_unchanged(m, s, g)) {
      mmf__os_close(snap);
      continue;
    }
    r = regular ? mmf__os_copy_out(snap, 0, fd, len) : -EXDEV;
    if (r == -EXDEV)
      r = mmf__os_send(snap, fd, len);
    mmf__os_close(snap);
    if (r == -EXDEV)
      break;
    if (r < 0)
      return r;
    if (ret_len)
      *ret_len = len;
    if (ret_seq)
      *ret_seq = seq;
    return 0;
  }
  void *data;
  size_t len;
  uint64_t seq;
  if ((r = mmf_read_alloc(m, &data, &len, &seq)) < 0)
    return r;
  r = mmf__os_write_all(fd, data, len);
  free(data);
  if (r < 0)
    return r;
  if (ret_len)
    *ret_len = len;
  if (ret_seq)
    *ret_seq = seq;
  return 0;
}
