/* SPDX-License-Identifier: MIT */
/* One function per verb (help aside, which lives with the verb table);
 * each checks its operands and makes a few libmmf calls.  Messages name the
 * verb and the map and say what to do. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Progress is shown for writes larger than this, on a terminal. */
#define PROGRESS_MIN ((uint64_t)256 << 20)

/* Open NAME for any command: an mmf map, else a raw object or a file. */
static int open_any(const char *name, int flags, mmf_t **ret) {
  int r = mmf_open(name, flags, ret);
  if (r != -MMF_ENOTMMF)
    return r;
  if (strchr(name, '/'))
    return mmf_map_file(name, flags & MMF_READONLY, ret);
  return mmf_open(name, flags | MMF_RAW, ret);
}

/* open_any for verb v, saying why not: EXIT_OK with *ret, else the exit
 * status of the message given. */
static int open_map(const struct verb *v, const char *name, mmf_t **ret) {
  int r = open_any(name, 0, ret);
  return r < 0 ? fail_map(v, name, r) : EXIT_OK;
}

/* ---- new ---- */
int cmd_new(const struct verb *v, const struct opts *o) {
  if (!(o->given & OPT_SIZE))
    return usage_error(v, "give the capacity with --size SIZE");
  const char *name = o->args[0];
  if (o->size > MMF_CAPACITY_MAX)
    return usage_error(v, "size %llu is above the largest capacity, 16 TiB",
                       (unsigned long long)o->size);
  if ((o->given & OPT_COMPACT) && (o->given & OPT_RAW))
    return usage_error(v, "--compact is for mmf maps; a raw map has no slots");
  int flags = ((o->given & OPT_OR_OPEN) ? MMF_OPEN_EXISTING : 0) |
              ((o->given & OPT_RAW) ? MMF_RAW : 0) |
              ((o->given & OPT_COMPACT) ? MMF_COMPACT : 0);
  struct mmf_info in = {0};
  /* Creating costs nothing, writing does: say so now if the store cannot
   * hold what the map may come to hold. */
  uint64_t avail, need = mmf_footprint((size_t)o->size, flags);
  bool exists = mmf_info(name, &in) != -ENOENT;
  bool short_of_room =
      !exists && mmf_store_space(name, &avail, NULL) == 0 && need > avail;
  mmf_t *m;
  int r = mmf_create(name, (size_t)o->size, flags, o->mode, &m);
  char own[64];
  if (r == -MMF_EOWNER && (mmf_info(name, &in) == 0 || in.name[0]))
    return fail("new", name,
                "it exists and belongs to %s, in a folder where anyone may "
                "create files: it may have been planted to receive your data, "
                "so it was not opened; choose another name, or have %s (or "
                "root) remove it",
                owner_name(in.owner, own, sizeof own),
                owner_name(in.owner, own, sizeof own));
  if (r < 0)
    return fail_map(v, name, r);
  mmf_close(m);
  if (short_of_room) {
    char h1[32], h2[32];
    fail("new", name,
         "warning: the map may come to hold %s (%s), but only %s are free "
         "where it is: a write that needs more will fail%s",
         human_size(need, h1, sizeof h1),
         (flags & MMF_RAW)       ? "its capacity"
         : (flags & MMF_COMPACT) ? "one slot of its capacity at rest, two "
                                   "during a write"
                                 : "two slots of its capacity",
         human_size(avail, h2, sizeof h2),
         (flags & (MMF_RAW | MMF_COMPACT)) ? ""
                                           : " (--compact holds about one "
                                             "slot at rest)");
  }
  if (o->given & OPT_JSON) {
    /* What `info --json` says of it. */
    if ((r = mmf_info(name, &in)) < 0)
      return fail_code("new", name, r);
    print_info_json(stdout, &in, NULL, name);
    fputc('\n', stdout);
  }
  return EXIT_OK;
}

/* ---- write ---- */
/* Read all of standard input, refusing more than `limit` bytes. */
static int slurp_stdin(uint64_t limit, uint8_t **ret, size_t *ret_len,
                       bool *ret_too_big) {
  size_t cap = 1 << 16, len = 0;
  uint8_t *buf = malloc(cap);
  if (!buf)
    return -ENOMEM;
  *ret_too_big = false;
  for (;;) {
    if (len == cap) {
      if (len > limit) {
        *ret_too_big = true;
        break;
      }
      size_t ncap = cap * 2;
      uint8_t *nb = realloc(buf, ncap);
      if (!nb) {
        free(buf);
        return -ENOMEM;
      }
      buf = nb;
      cap = ncap;
    }
    ssize_t n = read(STDIN_FILENO, buf + len, cap - len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int e = -errno;
      free(buf);
      return e;
    }
    if (n == 0)
      break;
    len += (size_t)n;
    if (len > PROGRESS_MIN)
      progress("write", len, 0, false);
    if (len > limit) {
      *ret_too_big = true;
      break;
    }
  }
  if (len > PROGRESS_MIN)
    progress("write", len, 0, true);
  *ret = buf;
  *ret_len = len;
  return 0;
}

/* The status of a write (or an append) of standard input: EXIT_OK, or
 * after a message. */
static int stdin_written(const char *name, int r, uint64_t cap, bool append) {
  if (r == -MMF_ETOOBIG)
    return fail("write", name,
                append ? "appending standard input would pass the %llu-byte "
                         "capacity; nothing was written"
                       : "standard input holds more than the %llu-byte "
                         "capacity; nothing was written",
                (unsigned long long)cap);
  if (r == -MMF_ESTUCK || r == -MMF_EREADONLY || r == -MMF_ECORRUPT ||
      r == -ENOSPC || r == -MMF_ENAME)
    return fail_code("write", name, r);
  if (r < 0)
    return fail("write", name,
                "reading standard input: %s; nothing was written",
                mmf_strerror(r));
  return EXIT_OK;
}
/* Standard input, whatever it is (a file, a pipe, a terminal, a /proc
 * file), streamed by the library into the unpublished slot: memory bounded
 * by a constant, and nothing published unless all of it fits. */
static int write_stdin(mmf_t *m, const char *name, uint64_t cap,
                       size_t *ret_len, uint64_t *ret_seq) {
  struct stat in = {0};
  off_t pos;
  if (fstat(STDIN_FILENO, &in) == 0 && S_ISREG(in.st_mode) && in.st_size &&
      (pos = lseek(STDIN_FILENO, 0, SEEK_CUR)) >= 0 && in.st_size > pos &&
      (uint64_t)(in.st_size - pos) > cap)
    /* A file says its size (those that read 0, as in /proc, are read). */
    return fail("write", name,
                "%llu bytes do not fit the %llu-byte capacity; nothing was "
                "written",
                (unsigned long long)(in.st_size - pos),
                (unsigned long long)cap);
  uint64_t total = 0;
  if (S_ISREG(in.st_mode) && (pos = lseek(STDIN_FILENO, 0, SEEK_CUR)) >= 0 &&
      in.st_size > pos)
    total = (uint64_t)(in.st_size - pos);
  progress_begin("write", total);
  int r = mmf_write_fd_all_seq(m, STDIN_FILENO, ret_len, ret_seq);
  progress_end();
  return stdin_written(name, r, cap, false);
}

/* Standard input appended after SEP, streamed by the library into the
 * unpublished slot: memory bounded by a constant, and nothing published
 * unless all of it fits after the content. */
static int append_stdin(mmf_t *m, const char *name, const char *sep,
                        uint64_t cap, size_t *ret_len, uint64_t *ret_seq) {
  struct stat in = {0};
  off_t pos;
  uint64_t total = 0;
  if (fstat(STDIN_FILENO, &in) == 0 && S_ISREG(in.st_mode) &&
      (pos = lseek(STDIN_FILENO, 0, SEEK_CUR)) >= 0 && in.st_size > pos)
    total = (uint64_t)(in.st_size - pos);
  progress_begin("write", total);
  int r = mmf_append_fd_seq(m, STDIN_FILENO, SIZE_MAX, sep, strlen(sep),
                            ret_len, ret_seq);
  progress_end();
  return stdin_written(name, r, cap, true);
}

int cmd_write(const struct verb *v, const struct opts *o) {
  const char *name = o->args[0];
  bool append = o->given & OPT_APPEND;
  /* Read as empty, a closed stdin would wipe the content. */
  if (o->nargs == 1 && std_closed[STDIN_FILENO])
    return fail("write", name, "standard input is closed; nothing was written");
  mmf_t *m;
  int r, rc = open_map(v, name, &m);
  if (rc != EXIT_OK)
    return rc;
  struct mmf_stat st;
  if ((r = mmf_stat(m, &st)) < 0) {
    mmf_close(m);
    return fail_code("write", name, r);
  }
  if (st.readonly) {
    mmf_close(m);
    return fail_code("write", name, -MMF_EREADONLY);
  }
  if (append && st.raw) {
    mmf_close(m);
    return fail("write", name, "--append needs an mmf map; this one is raw");
  }
  uint8_t *data = NULL;
  size_t len = 0;
  if (o->nargs > 1) {
    /* The words joined by single spaces, exactly, no newline. */
    size_t total = 0;
    for (int i = 1; i < o->nargs; i++)
      total += strlen(o->args[i]) + 1;
    data = malloc(total);
    if (!data) {
      mmf_close(m);
      return fail_code("write", name, -ENOMEM);
    }
    for (int i = 1; i < o->nargs; i++) {
      size_t l = strlen(o->args[i]);
      memcpy(data + len, o->args[i], l);
      len += l;
      if (i + 1 < o->nargs)
        data[len++] = ' ';
    }
  } else {
    if (!st.raw) {
      uint64_t seq = 0;
      rc = append ? append_stdin(m, name, o->sep, st.capacity, &len, &seq)
                  : write_stdin(m, name, st.capacity, &len, &seq);
      if (rc == EXIT_OK && (o->given & OPT_JSON))
        print_written_json(stdout, name, len, false, seq);
      mmf_close(m);
      return rc;
    }
    /* A raw map: through a buffer of what stdin holds. */
    bool too_big;
    r = slurp_stdin(st.capacity, &data, &len, &too_big);
    if (r < 0) {
      mmf_close(m);
      return fail("write", name,
                  "reading standard input: %s; nothing was "
                  "written",
                  strerror(-r));
    }
    if (too_big) {
      rc = fail("write", name,
                "standard input holds more than the %zu-byte capacity; "
                "nothing was written",
                st.capacity);
      goto out;
    }
  }
  uint64_t seq = 0;
  if (append)
    r = mmf_append_seq(m, data, len, o->sep, strlen(o->sep), &seq);
  else
    r = mmf_write_seq(m, data, len, &seq);
  if (r == -MMF_ETOOBIG) {
    if (append)
      rc = fail("write", name,
                "appending %zu bytes would pass the %zu-byte capacity; "
                "nothing was written",
                len, st.capacity);
    else
      rc = fail("write", name,
                "%zu bytes do not fit the %zu-byte capacity; nothing was "
                "written",
                len, st.capacity);
  } else if (r < 0) {
    rc = fail_code("write", name, r);
  } else if (o->given & OPT_JSON) {
    print_written_json(stdout, name, len, st.raw, seq);
  }
out:
  free(data);
  mmf_close(m);
  return rc;
}

/* ---- read / wait ---- */

/* The content through a copy in memory; with a final newline added if
 * `newline` and it has none.  0 or a negative code. */
static int print_copy(mmf_t *m, bool newline) {
  void *data;
  size_t len;
  int r = mmf_read_alloc(m, &data, &len, NULL);
  if (r < 0)
    return r;
  r = write_out(data, len);
  if (r == 0 && newline && len && ((char *)data)[len - 1] != '\n')
    r = write_out("\n", 1);
  free(data);
  return r;
}

/* One whole content in a memfd of our own, which the kernel filled: what
 * is encoded or looked at goes through it a piece at a time, so memory
 * stays bounded whatever the content's size.  0 or a negative code. */
static int snapshot(mmf_t *m, int *ret_fd, size_t *ret_len, uint64_t *ret_seq) {
  int fd = memfd_create("mmf-read", MFD_CLOEXEC);
  if (fd < 0)
    return -errno;
  int r = mmf_read_fd(m, fd, ret_len, ret_seq);
  if (r < 0) {
    close(fd);
    return r;
  }
  *ret_fd = fd;
  return 0;
}

/* The snapshot's bytes to standard output, with a final newline if
 * `newline` and it has none.  0 or -errno. */
static int print_snapshot(int fd, size_t len, bool newline) {
  off_t off = 0;
  int r = 0;
  while (r == 0 && (size_t)off < len) {
    ssize_t n = sendfile(STDOUT_FILENO, fd, &off, len - (size_t)off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EINVAL || errno == ENOSYS)) {
      /* Not into this descriptor: through a small buffer. */
      char buf[1 << 16];
      ssize_t got = pread(fd, buf, sizeof buf, off);
      if (got <= 0)
        return got < 0 ? -errno : -EIO;
      r = write_out(buf, (size_t)got);
      off += got;
      continue;
    }
    if (n <= 0)
      return n < 0 ? -errno : -EIO;
  }
  char last;
  if (r == 0 && newline && len && pread(fd, &last, 1, (off_t)len - 1) == 1 &&
      last != '\n')
    r = write_out("\n", 1);
  return r;
}

int cmd_read(const struct verb *v, const struct opts *o) {
  const char *name = o->args[0];
  bool wait = o->given & OPT_WAIT;
  bool follows = o->given & OPT_FOLLOW;
  if ((o->given & OPT_AFTER) && !wait)
    return usage_error(v, "--after goes with --wait");
  if ((o->given & OPT_TIMEOUT) && !wait && !follows)
    return usage_error(v, "--timeout goes with --wait or --follow");
  if (wait && follows)
    return usage_error(v, "--wait and --follow do not go together");
  if (o->nargs > 1 && !follows)
    return usage_error(v, "several maps are read with --follow only");
  mmf_t *m;
  /* A handle that may write (where the caller may: otherwise it is opened
   * read-only all the same) takes its turn at the writers' lock when
   * writers keep overtaking a large read, and is woken at once: a
   * read-only one can only retry. */
  int r, rc = open_map(v, name, &m);
  if (rc != EXIT_OK)
    return rc;
  struct mmf_stat st;
  if ((r = mmf_stat(m, &st)) < 0) {
    mmf_close(m);
    return fail_code("read", name, r);
  }
  if (!st.raw && (o->given & (OPT_OFFSET | OPT_LENGTH))) {
    char qn[QUOTED_MAX];
    mmf_close(m);
    return usage_error(v,
                       "--offset and --length are for raw maps; %s is an "
                       "mmf map",
                       quote_name(name, qn, sizeof qn));
  }
  if (st.raw) {
    if (wait || follows || (o->given & (OPT_JSON | OPT_SEQ)))
      rc = fail("read", name,
                "--wait, --follow, --json and --seq need an mmf map; this "
                "one is raw");
    else
      rc = print_range("read", name, m, o, "map");
    mmf_close(m);
    return rc;
  }
  if (follows)
    return read_follow(v, m, o); /* closes m */
  if (wait && (rc = wait_newer("read", name, m, o, NULL)) != EXIT_OK) {
    mmf_close(m);
    return rc;
  }
  bool tty = isatty(STDOUT_FILENO);
  if (o->given & OPT_JSON || tty) {
    /* The content and the seq it had, together, from a snapshot: encoded
     * (or given its newline on a terminal, so that the prompt does not
     * land on its last line) a piece at a time. */
    int fd = -1;
    size_t len = 0;
    uint64_t seq = 0;
    r = snapshot(m, &fd, &len, &seq);
    if (r == 0) {
      if (o->given & OPT_JSON)
        r = print_content_json_fd(stdout, seq, fd, len);
      else
        r = print_snapshot(fd, len, true);
      close(fd);
      if (r == 0 && (o->given & OPT_SEQ))
        fprintf(stderr, "seq %llu\n", (unsigned long long)seq);
    }
    /* Past `ulimit -f` no snapshot can be made (EFBIG: SIGXFSZ is
     * ignored): a copy in memory goes instead. */
    if (r == -EFBIG && !(o->given & OPT_JSON))
      r = print_copy(m, true);
  } else {
    /* Straight from the map to a file, or through a kernel snapshot (a
     * memfd) to a pipe: standard output always gets one whole content. */
    uint64_t seq;
    struct stat out;
    bool file = fstat(STDOUT_FILENO, &out) == 0 && S_ISREG(out.st_mode);
    if (file)
      progress_begin("read", st.length);
    r = mmf_read_fd(m, STDOUT_FILENO, NULL, &seq);
    progress_end();
    if (r == -EFBIG && !file)
      r = print_copy(m, false);
    else if (r == 0 && (o->given & OPT_SEQ))
      fprintf(stderr, "seq %llu\n", (unsigned long long)seq);
  }
  if (r == -MMF_ESTUCK)
    rc = fail("read", name,
              "writers kept replacing the content faster than it could be "
              "copied whole, for 5 seconds (a reader that may not write the "
              "map cannot take its turn); nothing was printed");
  else if (r == -MMF_ECORRUPT)
    rc = fail_code("read", name, r);
  else if (r < 0)
    rc =
        fail("read", name, "cannot write standard output: %s", mmf_strerror(r));
  mmf_close(m);
  return rc;
}

/* ---- save / remove ---- */
int cmd_save(const struct verb *v, const struct opts *o) {
  const char *name = o->args[0], *file = o->args[1];
  if (!file[0])
    return usage_error(v, "FILE is empty: give the path of the file to save "
                          "to");
  mmf_t *m;
  int rc = open_map(v, name, &m);
  if (rc != EXIT_OK)
    return rc;
  struct mmf_stat st;
  progress_begin("save", mmf_stat(m, &st) == 0 ? st.length : 0);
  int r = mmf_save(m, file);
  progress_end();
  mmf_close(m);
  char qf[QUOTED_MAX];
  if (r == -MMF_ENOTREG)
    return fail("save", name,
                "cannot save to %s: it is not a regular file (a device, FIFO "
                "or socket), which a save would replace; give a file path; "
                "nothing was changed",
                quote_name(file, qf, sizeof qf));
  if (r < 0)
    return fail("save", name, "cannot save to %s: %s; the file was not changed",
                quote_name(file, qf, sizeof qf), mmf_strerror(r));
  if (o->given & OPT_JSON)
    print_saved_json(stdout, name, file);
  return EXIT_OK;
}

int cmd_remove(const struct verb *v, const struct opts *o) {
  int rc = EXIT_OK;
  bool json = o->given & OPT_JSON;
  if (json)
    fputc('[', stdout);
  for (int i = 0; i < o->nargs; i++) {
    const char *name = o->args[i];
    int r = mmf_remove(name);
    bool force = o->given & OPT_FORCE;
    if (json)
      print_removed_json(stdout, i == 0, name, r, force);
    if (r == -ENOENT && force)
      continue; /* as rm -f: what is not there is removed */
    struct mmf_info in = {0};
    char own[64];
    if (r == -MMF_ENOTMMF)
      rc = fail("remove", name,
                "not an mmf map; a file that mmf did not "
                "make is left alone (use rm)");
    else if (r == -ENOENT)
      rc = fail("remove", name,
                "no such map: nothing to remove ('mmf list' shows the maps "
                "there are; -f makes this no error)");
    else if (r == -EPERM && (mmf_info(name, &in) == 0 || in.name[0]))
      rc = fail("remove", name,
                "only its owner (%s) or root may remove it: the folder is "
                "sticky, as /dev/shm and /tmp are; nothing was removed",
                owner_name(in.owner, own, sizeof own));
    else if (r < 0)
      rc = fail_map(v, name, r);
  }
  if (json)
    fputs("]\n", stdout);
  return rc;
}

/* ---- cat ---- */
/* A file whose size reads 0 (/proc, /sys) may hold bytes all the same:
 * read to its end. */
static int cat_unsized(const char *file) {
  int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    return fail("cat", file, "%s", strerror(errno));
  char buf[1 << 16];
  int rc = EXIT_OK;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      rc = fail("cat", file, "%s", strerror(errno));
      break;
    }
    if (n == 0)
      break;
    int r = write_out(buf, (size_t)n);
    if (r < 0) {
      rc = fail("cat", file, "cannot write standard output: %s", strerror(-r));
      break;
    }
  }
  close(fd);
  return rc;
}

int cmd_cat(const struct verb *v, const struct opts *o) {
  (void)v;
  const char *file = o->args[0];
  mmf_t *m;
  bool range = o->given & (OPT_OFFSET | OPT_LENGTH);
  /* Whole files are read whole: one call maps them, not a fault per 64K. */
  int r = mmf_map_file(file, MMF_READONLY | (range ? 0 : MMF_POPULATE), &m);
  if (r < 0)
    return fail("cat", file, "%s", mmf_strerror(r));
  if (!range && mmf_size(m) == 0) {
    mmf_close(m);
    return cat_unsized(file);
  }
  /* Copied into the pipe or file as it runs (not handed by reference):
   * the output is the file as it was when cat ran. */
  progress_begin("cat", mmf_size(m));
  int rc = print_range("cat", file, m, o, "file");
  progress_end();
  mmf_close(m);
  return rc;
}

/* ---- lock ---- */
int cmd_lock(const struct verb *v, const struct opts *o) {
  const char *name = o->args[0];
  mmf_t *m;
  int rc = open_map(v, name, &m);
  if (rc != EXIT_OK)
    return rc;
  int r = mmf_lock(m, o->timeout_ms);
  if (r == -ETIMEDOUT) {
    mmf_close(m);
    struct mmf_info in;
    pid_t holder = mmf_info(name, &in) == 0 ? in.lock_pid : 0;
    if (holder > 0)
      fail("lock", name,
           "timed out after %g s: pid %d holds the lock; wait longer, or "
           "see what it does (ps -p %d)",
           o->timeout_ms / 1000.0, (int)holder, (int)holder);
    else if (holder < 0)
      fail("lock", name,
           "timed out after %g s: a process not visible here (another PID "
           "namespace, or hidden by /proc) holds the lock",
           o->timeout_ms / 1000.0);
    else
      fail("lock", name,
           "timed out after %g s: the lock stayed held (it is free now)",
           o->timeout_ms / 1000.0);
    return EXIT_TIMEOUT;
  }
  if (r == -MMF_EREADONLY) {
    mmf_close(m);
    return fail("lock", name, "you may read this map but not lock it");
  }
  if (r < 0) {
    mmf_close(m);
    return fail_code("lock", name, r);
  }
  if (r == MMF_LOCK_ABANDONED)
    fail("lock", name,
         "the previous holder died holding the lock; what it guarded may be "
         "half-done");
  /* The command runs under a guard that shares our handle: the lock stays
   * held while it lives, whatever happens to us. */
  rc = run_guarded(name, o->args + 1);
  mmf_unlock(m);
  mmf_close(m);
  return rc;
}
