/* SPDX-License-Identifier: MIT */
/* One function per verb; each checks its operands and makes a few libmmf
 * calls.  Messages name the verb and the map and say what to do. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Progress is shown for writes larger than this, on a terminal. */
#define PROGRESS_MIN ((uint64_t)256 << 20)
/* A hint for the common failures, after the library's description. */
static const char *hint(int code) {
  switch (code) {
  case -ENOENT:
    return "no such map; create it with 'mmf new NAME --size SIZE'";
  case -EEXIST:
    return "a map of that name exists; add --or-open to open it, or 'mmf "
           "remove' it first";
  case -EACCES:
    return "permission denied; the map's mode or owner does not let you in";
  case -MMF_ENAME:
    return "not a valid map name: use 1-255 letters, digits, '.', '_' or "
           "'-' (not first '.' or '-'), or a path containing '/'";
  case -MMF_EREADONLY:
    return "you may read this map but not write it; nothing was written";
  case -MMF_ECORRUPT:
    return "the map's header is broken or does not fit the object (a peer "
           "may have truncated it); remove it and create it again";
  case -MMF_EVERSION:
    return "made by a newer mmf; use that version to read it";
  case -MMF_ESTUCK:
    return "another live process has held one of the map's locks for 5 "
           "seconds (it may be stuck); nothing was changed";
  case -ENOSPC:
    return "no space left for the content; nothing was written";
  default:
    return mmf_strerror(code);
  }
}

static int fail_code(const char *verb, const char *name, int code) {
  return fail(verb, name, "%s", hint(code));
}

/* Open NAME for any command: an mmf map, else a raw object or a file. */
static int open_any(const char *name, int flags, mmf_t **ret) {
  int r = mmf_open(name, flags, ret);
  if (r != -MMF_ENOTMMF)
    return r;
  if (strchr(name, '/'))
    return mmf_map_file(name, flags & MMF_READONLY, ret);
  return mmf_open(name, flags | MMF_RAW, ret);
}

static int write_out(const void *p, size_t len);

/* Write mapped bytes to standard output.  Into a pipe, vmsplice hands the
 * mapped pages to the pipe by reference (no copy here): only for mappings
 * nobody writes through, since the reader sees the pages as they are then. */
static int write_mapped(const void *p, size_t len) {
  struct stat st;
  if (fstat(STDOUT_FILENO, &st) == 0 && S_ISFIFO(st.st_mode)) {
    const char *b = p;
    while (len) {
      struct iovec iov = {(void *)b, len > (1u << 30) ? (1u << 30) : len};
      ssize_t n = vmsplice(STDOUT_FILENO, &iov, 1, 0);
      if (n < 0) {
        if (errno == EINTR)
          continue;
        if (errno == EINVAL || errno == ENOSYS)
          break; /* not here: write() what is left */
        return -errno;
      }
      b += n;
      len -= (size_t)n;
    }
    p = b;
  }
  return write_out(p, len);
}

static int write_out(const void *p, size_t len) {
  const char *b = p;
  while (len) {
    ssize_t n = write(STDOUT_FILENO, b, len);
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

/* ---- new ---- */
static int cmd_new(const struct verb *v, const struct opts *o) {
  if (!(o->given & OPT_SIZE))
    return usage_error(v, "give the capacity with --size SIZE");
  const char *name = o->args[0];
  if (o->size > MMF_CAPACITY_MAX)
    return usage_error(v, "size %llu is above the largest capacity, 16 TiB",
                       (unsigned long long)o->size);
  int flags = ((o->given & OPT_OR_OPEN) ? MMF_OPEN_EXISTING : 0) |
              ((o->given & OPT_RAW) ? MMF_RAW : 0);
  mmf_t *m;
  int r = mmf_create(name, (size_t)o->size, flags, o->mode, &m);
  if (r == -MMF_ENAME)
    return usage_error(v, "'%s': %s", name, hint(r));
  if (r < 0)
    return fail_code("new", name, r);
  mmf_close(m);
  if (o->given & OPT_JSON) {
    /* What `info --json` says of it. */
    struct mmf_info in;
    if ((r = mmf_info(name, &in)) < 0)
      return fail_code("new", name, r);
    print_info_json(stdout, &in, NULL);
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

/* A regular file on stdin goes straight into the unpublished slot. */
static int write_file_stdin(mmf_t *m, const char *name, uint64_t size,
                            uint64_t cap) {
  if (size > cap)
    return fail("write", name,
                "%llu bytes do not fit the %llu-byte capacity; nothing was "
                "written",
                (unsigned long long)size, (unsigned long long)cap);
  /* The kernel copies the file into the map: no page of it is faulted in
   * here. */
  size_t done;
  int r = mmf_write_fd(m, STDIN_FILENO, (size_t)size, &done);
  if (r == -MMF_ETOOBIG || r == -MMF_ESTUCK || r == -MMF_EREADONLY ||
      r == -MMF_ECORRUPT || r == -ENOSPC || r == -MMF_ENAME)
    return fail_code("write", name, r);
  if (r < 0)
    return fail("write", name,
                "reading standard input: %s; nothing was written",
                mmf_strerror(r));
  if (size > PROGRESS_MIN)
    progress("write", done, size, true);
  return EXIT_OK;
}

/* write --json: {"name", "length" (bytes written), "seq" (the map's seq
 * just after: another writer may have published since; null for raw
 * maps)}. */
static void print_written_json(mmf_t *m, const char *name, uint64_t len) {
  struct mmf_stat st;
  fputs("{\"name\":", stdout);
  json_string(stdout, name);
  fprintf(stdout, ",\"length\":%llu,\"seq\":", (unsigned long long)len);
  if (mmf_stat(m, &st) == 0 && !st.raw)
    fprintf(stdout, "%llu}\n", (unsigned long long)st.seq);
  else
    fputs("null}\n", stdout);
}

static int cmd_write(const struct verb *v, const struct opts *o) {
  const char *name = o->args[0];
  bool append = o->given & OPT_APPEND;
  mmf_t *m;
  int r = open_any(name, 0, &m);
  if (r == -MMF_ENAME)
    return usage_error(v, "'%s': %s", name, hint(r));
  if (r < 0)
    return fail_code("write", name, r);
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
    return fail("write", name, "--append needs an mmf map; this one is raw");
  }
  uint8_t *data = NULL;
  size_t len = 0;
  bool owned = false;
  int rc = EXIT_OK;
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
    owned = true;
    for (int i = 1; i < o->nargs; i++) {
      size_t l = strlen(o->args[i]);
      memcpy(data + len, o->args[i], l);
      len += l;
      if (i + 1 < o->nargs)
        data[len++] = ' ';
    }
  } else {
    struct stat in;
    if (!append && !st.raw && fstat(STDIN_FILENO, &in) == 0 &&
        S_ISREG(in.st_mode)) {
      off_t pos = lseek(STDIN_FILENO, 0, SEEK_CUR);
      uint64_t size = (uint64_t)in.st_size - (pos > 0 ? (uint64_t)pos : 0);
      rc = write_file_stdin(m, name, size, st.capacity);
      if (rc == EXIT_OK && (o->given & OPT_JSON))
        print_written_json(m, name, size);
      mmf_close(m);
      return rc;
    }
    bool too_big;
    r = slurp_stdin(st.capacity, &data, &len, &too_big);
    if (r < 0) {
      mmf_close(m);
      return fail("write", name,
                  "reading standard input: %s; nothing was "
                  "written",
                  strerror(-r));
    }
    owned = true;
    if (too_big) {
      rc = fail("write", name,
                "standard input holds more than the %zu-byte capacity; "
                "nothing was written",
                st.capacity);
      goto out;
    }
  }
  if (append)
    r = mmf_append(m, data, len, o->sep, strlen(o->sep));
  else
    r = mmf_write(m, data, len);
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
    print_written_json(m, name, len);
  }
out:
  if (owned)
    free(data);
  mmf_close(m);
  return rc;
}

/* ---- read / wait ---- */

/* Wait as the options say; fills *ret_seq.  Returns an exit status. */
static int do_wait(const char *verb, const char *name, mmf_t *m,
                   const struct opts *o, uint64_t *ret_seq) {
  uint64_t after = o->after;
  if (!(o->given & OPT_AFTER)) {
    struct mmf_stat st;
    int r = mmf_stat(m, &st);
    if (r < 0)
      return fail_code(verb, name, r);
    after = st.seq;
  }
  int r = mmf_wait(m, after, o->timeout_ms, ret_seq);
  if (r == -ETIMEDOUT) {
    fail(verb, name, "no content newer than seq %llu within the timeout",
         (unsigned long long)after);
    return EXIT_TIMEOUT;
  }
  if (r == -MMF_ERAW)
    return fail(verb, name, "waiting needs an mmf map; this one is raw");
  if (r < 0)
    return fail_code(verb, name, r);
  return EXIT_OK;
}

/* Write bytes [off, off+len) of a raw map or file, as --offset/--length
 * say. */
static int write_range(const char *verb, const char *name, mmf_t *m,
                       const struct opts *o, const char *what,
                       bool by_reference) {
  uint64_t size = mmf_size(m);
  uint64_t off = (o->given & OPT_OFFSET) ? o->offset : 0;
  uint64_t len =
      (o->given & OPT_LENGTH) ? o->length : (off <= size ? size - off : 0);
  if (off > size || len > size - off)
    return fail(verb, name,
                "the range %llu+%llu passes the end of the %llu-byte %s",
                (unsigned long long)off, (unsigned long long)len,
                (unsigned long long)size, what);
  int r;
  const char *p = (const char *)mmf_data(m) + off;
  if (len && (r = by_reference ? write_mapped(p, len) : write_out(p, len)) < 0)
    return fail(verb, name, "writing standard output: %s", strerror(-r));
  return EXIT_OK;
}

/* mmf read --follow: the content, then each later one as it is published:
 * only the appended bytes when it extends the one printed, else all of it
 * (and a line on stderr, since appends before it may have been missed). */
static int follow(const char *name, mmf_t *m, const struct opts *o) {
  bool json = o->given & OPT_JSON;
  uint64_t seq = 0, len = 0;
  size_t cap = 1 << 16;
  uint8_t *buf = malloc(cap);
  if (!buf)
    return fail("read", name, "out of memory");
  int64_t deadline = -1;
  if (o->timeout_ms >= 0) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    deadline = ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + o->timeout_ms;
  }
  bool first = true;
  int rc = EXIT_OK;
  for (;;) {
    size_t got;
    uint64_t now;
    int r = mmf_read_since(m, seq, len, buf, cap, &got, &now);
    if (r == -ENOBUFS) {
      uint8_t *bigger = realloc(buf, got);
      if (!bigger) {
        rc = fail("read", name, "out of memory for %zu bytes", got);
        break;
      }
      buf = bigger;
      cap = got;
      continue;
    }
    if (r < 0) {
      rc = fail_code("read", name, r);
      break;
    }
    bool whole = r == MMF_READ_WHOLE || first;
    if (r == MMF_READ_WHOLE && !first) {
      char safe[1100];
      fprintf(stderr,
              "mmf: read %s: the content was replaced (seq %llu); printing "
              "it whole (anything appended just before may be missed)\n",
              printable(name, safe, sizeof safe), (unsigned long long)now);
    }
    len = whole ? got : len + got;
    if (now != seq || first) {
      if (json) {
        print_content_json(stdout, now, len, !whole, buf, got);
        fflush(stdout);
      } else if (got && (r = write_out(buf, got)) < 0) {
        rc = fail("read", name, "writing standard output: %s", strerror(-r));
        break;
      }
      if (o->given & OPT_SEQ)
        fprintf(stderr, "seq %llu\n", (unsigned long long)now);
    }
    seq = now;
    first = false;
    int wait_ms = -1;
    if (deadline >= 0) {
      struct timespec ts;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      int64_t left = deadline - (ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
      if (left <= 0)
        break; /* the time asked for is up: a normal end */
      wait_ms = (int)left;
    }
    r = mmf_wait(m, seq, wait_ms, NULL);
    if (r == -ETIMEDOUT)
      break;
    if (r < 0) {
      rc = fail_code("read", name, r);
      break;
    }
  }
  free(buf);
  return rc;
}

static int cmd_read(const struct verb *v, const struct opts *o) {
  const char *name = o->args[0];
  bool wait = o->given & OPT_WAIT;
  bool follows = o->given & OPT_FOLLOW;
  if ((o->given & OPT_AFTER) && !wait)
    return usage_error(v, "--after goes with --wait");
  if ((o->given & OPT_TIMEOUT) && !wait && !follows)
    return usage_error(v, "--timeout goes with --wait or --follow");
  if (wait && follows)
    return usage_error(v, "--wait and --follow do not go together");
  mmf_t *m;
  /* A handle that may write (where the caller may: otherwise it is opened
   * read-only all the same) takes its turn at the writers' lock when
   * writers keep overtaking a large read, and is woken at once: a
   * read-only one can only retry. */
  int r = open_any(name, 0, &m);
  if (r == -MMF_ENAME)
    return usage_error(v, "'%s': %s", name, hint(r));
  if (r < 0)
    return fail_code("read", name, r);
  int rc = EXIT_OK;
  struct mmf_stat st;
  if ((r = mmf_stat(m, &st)) < 0) {
    mmf_close(m);
    return fail_code("read", name, r);
  }
  if (!st.raw && (o->given & (OPT_OFFSET | OPT_LENGTH))) {
    mmf_close(m);
    return usage_error(v,
                       "--offset and --length are for raw maps; '%s' is "
                       "an mmf map",
                       name);
  }
  if (st.raw) {
    if (wait || follows || (o->given & (OPT_JSON | OPT_SEQ)))
      rc = fail("read", name,
                "--wait, --follow, --json and --seq need an mmf map; this "
                "one is raw");
    else
      rc = write_range("read", name, m, o, "map", false);
    mmf_close(m);
    return rc;
  }
  if (follows) {
    rc = follow(name, m, o);
    mmf_close(m);
    return rc;
  }
  if (wait && (rc = do_wait("read", name, m, o, NULL)) != EXIT_OK) {
    mmf_close(m);
    return rc;
  }
  if (o->given & (OPT_JSON | OPT_SEQ)) {
    /* The content and the seq it had, together. */
    void *data;
    size_t len;
    uint64_t seq;
    r = mmf_read_alloc(m, &data, &len, &seq);
    if (r < 0) {
      mmf_close(m);
      return fail_code("read", name, r);
    }
    if (o->given & OPT_JSON)
      print_content_json(stdout, seq, len, false, data, len);
    else if ((r = write_out(data, len)) < 0)
      rc = fail("read", name, "writing standard output: %s", strerror(-r));
    if (o->given & OPT_SEQ)
      fprintf(stderr, "seq %llu\n", (unsigned long long)seq);
    free(data);
    mmf_close(m);
    return rc;
  }
  if (isatty(STDOUT_FILENO)) {
    /* On a terminal, a content without a final newline gets one, so that
     * the prompt does not land on its last line.  Only there: a file or a
     * pipe gets the bytes exactly. */
    void *data;
    size_t len;
    r = mmf_read_alloc(m, &data, &len, NULL);
    if (r == 0) {
      r = write_out(data, len);
      if (r == 0 && len && ((char *)data)[len - 1] != '\n')
        r = write_out("\n", 1);
      free(data);
    }
  } else {
    /* Straight from the map to a file, or through a private copy to a
     * pipe: standard output always gets one whole content. */
    r = mmf_read_fd(m, STDOUT_FILENO, NULL, NULL);
  }
  if (r == -MMF_ESTUCK)
    rc = fail("read", name,
              "writers kept replacing the content faster than it could be "
              "copied whole, for 5 seconds (a reader that may not write the "
              "map cannot take its turn); nothing was printed");
  else if (r == -MMF_ECORRUPT)
    rc = fail_code("read", name, r);
  else if (r < 0)
    rc = fail("read", name, "writing standard output: %s", mmf_strerror(r));
  mmf_close(m);
  return rc;
}

static int cmd_wait(const struct verb *v, const struct opts *o) {
  const char *name = o->args[0];
  mmf_t *m;
  int r = mmf_open(name, 0, &m);
  if (r == -MMF_ENAME)
    return usage_error(v, "'%s': %s", name, hint(r));
  if (r == -MMF_ENOTMMF)
    return fail("wait", name, "waiting needs an mmf map; this one is raw");
  if (r < 0)
    return fail_code("wait", name, r);
  uint64_t seq = 0;
  int rc = do_wait("wait", name, m, o, &seq);
  if (rc == EXIT_OK && (o->given & OPT_JSON)) {
    fputs("{\"name\":", stdout);
    json_string(stdout, name);
    printf(",\"seq\":%llu}\n", (unsigned long long)seq);
  } else if (rc == EXIT_OK) {
    printf("%llu\n", (unsigned long long)seq);
  }
  mmf_close(m);
  return rc;
}

/* ---- save / remove ---- */
static int cmd_save(const struct verb *v, const struct opts *o) {
  const char *name = o->args[0], *file = o->args[1];
  mmf_t *m;
  int r = open_any(name, 0, &m);
  if (r == -MMF_ENAME)
    return usage_error(v, "'%s': %s", name, hint(r));
  if (r < 0)
    return fail_code("save", name, r);
  r = mmf_save(m, file);
  mmf_close(m);
  if (r < 0)
    return fail("save", name,
                "cannot save to '%s': %s; the file was not changed", file,
                mmf_strerror(r));
  if (o->given & OPT_JSON) {
    struct stat fst;
    fputs("{\"name\":", stdout);
    json_string(stdout, name);
    fputs(",\"file\":", stdout);
    json_string(stdout, file);
    if (stat(file, &fst) == 0)
      printf(",\"length\":%lld}\n", (long long)fst.st_size);
    else
      fputs(",\"length\":null}\n", stdout);
  }
  return EXIT_OK;
}

static int cmd_remove(const struct verb *v, const struct opts *o) {
  int rc = EXIT_OK;
  bool json = o->given & OPT_JSON;
  if (json)
    fputc('[', stdout);
  for (int i = 0; i < o->nargs; i++) {
    const char *name = o->args[i];
    int r = mmf_remove(name);
    if (json) {
      /* One object per name: {"name", "removed", "error"}. */
      fprintf(stdout, "%s{\"name\":", i ? "," : "");
      json_string(stdout, name);
      fprintf(stdout, ",\"removed\":%s,\"error\":", r == 0 ? "true" : "false");
      if (r == 0 || (r == -ENOENT && (o->given & OPT_FORCE)))
        fputs("null}", stdout);
      else {
        json_string(stdout, mmf_strerror(r));
        fputc('}', stdout);
      }
    }
    if (r == -ENOENT && (o->given & OPT_FORCE))
      continue; /* as rm -f: what is not there is removed */
    if (r == -MMF_ENAME)
      rc = usage_error(v, "'%s': %s", name, hint(r));
    else if (r == -MMF_ENOTMMF)
      rc = fail("remove", name,
                "not an mmf map; a file that mmf did not "
                "make is left alone (use rm)");
    else if (r < 0)
      rc = fail_code("remove", name, r);
  }
  if (json)
    fputs("]\n", stdout);
  return rc;
}

/* ---- info / list ---- */
static int cmd_info(const struct verb *v, const struct opts *o) {
  const char *name = o->args[0];
  struct mmf_info in;
  int r = mmf_info(name, &in);
  if (r == -MMF_ENAME)
    return usage_error(v, "'%s': %s", name, hint(r));
  if (r < 0)
    return fail_code("info", name, r);
  struct holders h, *hp = NULL;
  if (in.kind == MMF_KIND_MMF &&
      mmf_holders(name, h.pids, sizeof h.pids / sizeof *h.pids, &h.n,
                  &h.hidden) == 0)
    hp = &h;
  if (o->given & OPT_JSON) {
    print_info_json(stdout, &in, hp);
    fputc('\n', stdout);
  } else {
    print_info_table(stdout, &in, hp, o->given & OPT_BYTES);
  }
  return EXIT_OK;
}

static int cmd_list(const struct verb *v, const struct opts *o) {
  (void)v;
  struct mmf_info *list;
  size_t n;
  int r = mmf_list(&list, &n);
  if (r < 0)
    return fail("list", "/dev/shm", "%s", mmf_strerror(r));
  if (o->given & OPT_JSON) {
    fputc('[', stdout);
    for (size_t i = 0; i < n; i++) {
      if (i)
        fputc(',', stdout);
      print_info_json(stdout, &list[i], NULL);
    }
    fputs("]\n", stdout);
  } else {
    print_list_table(stdout, list, n, o->given & OPT_BYTES);
  }
  free(list);
  return EXIT_OK;
}

/* ---- cat ---- */
static int cmd_cat(const struct verb *v, const struct opts *o) {
  (void)v;
  const char *file = o->args[0];
  mmf_t *m;
  /* Whole files are read whole: one call maps them, not a fault per 64K. */
  int whole = (o->given & (OPT_OFFSET | OPT_LENGTH)) ? 0 : MMF_POPULATE;
  int r = mmf_map_file(file, MMF_READONLY | whole, &m);
  if (r < 0)
    return fail("cat", file, "%s", mmf_strerror(r));
  int rc = write_range("cat", file, m, o, "file", true);
  mmf_close(m);
  return rc;
}

/* ---- lock ---- */
/* ---- lock: the command's guard ---- */

/* Kill every descendant: as their subreaper we inherit the orphans of the
 * ones we kill, so repeat until none is left. */
static void kill_descendants(void) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
  for (;;) {
    FILE *f = fopen(path, "re");
    int pid, n = 0;
    while (f && fscanf(f, "%d", &pid) == 1) {
      kill(pid, SIGKILL);
      n++;
    }
    if (f)
      fclose(f);
    while (waitpid(-1, NULL, n ? 0 : WNOHANG) > 0)
      if (n)
        n--;
    if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
      return;
  }
}

/* In a child of mmf lock: run cmd; return its status for mmf to pass on.
 * We hold mmf's handle too (fork shares it), hence the lock.  Should mmf
 * die, the kernel tells us (PDEATHSIG), and we kill the command and what it
 * started, so nothing it runs outlives the lock. */
static int guard(const char *name, char **cmd, pid_t mmf_pid) {
  /* Both signals are taken with sigwaitinfo, never by a handler: none can
   * come between a check and a sleep. */
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, &old);
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  prctl(PR_SET_PDEATHSIG, SIGUSR1);
  if (getppid() != mmf_pid)
    return 126;
  pid_t c = fork();
  if (c < 0) {
    fail("lock", name, "cannot start the command: %s", strerror(errno));
    return 126;
  }
  if (c == 0) {
    signal(SIGINT, SIG_DFL);
    signal(SIGQUIT, SIG_DFL);
    sigprocmask(SIG_SETMASK, &old, NULL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    execvp(cmd[0], cmd);
    fail("lock", name, "cannot run '%s': %s", cmd[0], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }
  int status;
  while (waitpid(c, &status, WNOHANG) != c) {
    if (sigwaitinfo(&set, NULL) == SIGUSR1) {
      kill_descendants(); /* mmf died */
      return 137;
    }
  }
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

static int cmd_lock(const struct verb *v, const struct opts *o) {
  const char *name = o->args[0];
  char **cmd = o->args + 1;
  mmf_t *m;
  int r = open_any(name, 0, &m);
  if (r == -MMF_ENAME)
    return usage_error(v, "'%s': %s", name, hint(r));
  if (r < 0)
    return fail_code("lock", name, r);
  r = mmf_lock(m, o->timeout_ms);
  if (r == -ETIMEDOUT) {
    mmf_close(m);
    fail("lock", name, "the lock stayed held for the whole timeout");
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
  /* The command runs under a guard: a child that shares our handle (so
   * the lock stays held while it lives, whatever happens to us) and, if we
   * die, kills the command and everything it started before letting go. */
  fflush(NULL);
  pid_t parent = getpid();
  pid_t g = fork();
  if (g < 0) {
    int e = errno;
    mmf_close(m);
    return fail("lock", name, "cannot start the command: %s", strerror(e));
  }
  if (g == 0)
    _exit(guard(name, cmd, parent));
  /* Keyboard interrupts go to the command; we wait for it either way. */
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  int status;
  while (waitpid(g, &status, 0) < 0 && errno == EINTR)
    ;
  mmf_unlock(m);
  mmf_close(m);
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

/* ---- help ---- */
static int cmd_help(const struct verb *v, const struct opts *o) {
  if (o->nargs == 0) {
    printf("mmf %s - named shared memory and memory-mapped files\n\n"
           "usage: mmf COMMAND [OPTIONS] [ARGS]\n\ncommands:\n",
           mmf_version());
    for (const struct verb *w = mmf_verbs; w->name; w++)
      printf("  %-7s %s\n", w->name, w->summary);
    printf("\nNAME is a map in /dev/shm, or a file path when it contains "
           "'/'.\n'mmf COMMAND --help' tells more; see also mmf(1).\n");
    return EXIT_OK;
  }
  const struct verb *w = verb_find(o->args[0]);
  if (!w)
    return usage_error(v, "no command '%s'; 'mmf help' lists them", o->args[0]);
  verb_usage(stdout, w);
  return EXIT_OK;
}

const struct verb mmf_verbs[] = {
    {"new", cmd_new, OPT_SIZE | OPT_OR_OPEN | OPT_RAW | OPT_MODE | OPT_JSON, 1,
     1, "create a map of a given capacity",
     "mmf new NAME --size SIZE [--or-open] [--raw] [--mode MODE]",
     "Create the map NAME with room for SIZE bytes of content (bytes, or\n"
     "1024-based K, M, G, T: 4096, 64K, 1M, 2G).  The map is owner-only\n"
     "unless --mode gives octal bits.  --or-open opens it if it exists;\n"
     "--raw makes a header-less object of exactly SIZE bytes.\n\n"
     "example:\n  mmf new Test --size 64K\n"},
    {"write", cmd_write, OPT_APPEND | OPT_SEP | OPT_JSON, 1, -1,
     "replace (or append to) a map's content",
     "mmf write NAME [TEXT...] [--append] [--separator SEP]",
     "Write TEXT (the words joined by single spaces, no newline added), or\n"
     "standard input byte for byte, as the map's whole new content.  Readers\n"
     "see the old or the new content, never a mix.  --append adds SEP\n"
     "(default a newline) and then the text.\n\n"
     "examples:\n  mmf write Test hello world\n"
     "  ps -o pid,comm | mmf write Test\n"
     "  mmf write Test --append 'one more line'\n"},
    {"read", cmd_read,
     OPT_WAIT | OPT_AFTER | OPT_TIMEOUT | OPT_OFFSET | OPT_LENGTH |
         OPT_NAME_HEX | OPT_FOLLOW | OPT_JSON | OPT_SEQ,
     1, 1, "print a map's content",
     "mmf read NAME [--wait [--after SEQ]] [--timeout SECONDS] [--json] "
     "[--seq]\n"
     "       mmf read NAME --follow [--timeout SECONDS] [--json] [--seq]\n"
     "       mmf read RAWNAME [--offset N] [--length N]",
     "Write the content to standard output exactly as stored (on a terminal,\n"
     "with a newline after it if it has none).  --wait first\n"
     "waits for a content newer than SEQ (default: the current one); exit 3\n"
     "when --timeout passes.  For raw maps, --offset and --length pick a\n"
     "byte range.  --follow (-f) prints the content, then every later one\n"
     "as it is published, like tail -f: only the appended bytes when it\n"
     "extends the last one printed, the whole content otherwise (said on\n"
     "stderr); --timeout ends it (exit 0).  --json prints one object per\n"
     "content: seq, length, appended, and data (or data_base64).  --seq\n"
     "prints 'seq N' on stderr for each content printed, so that\n"
     "'--wait --after N' loops chain exactly.\n\n"
     "examples:\n  mmf read Test | jq .\n  mmf read Test --wait --timeout "
     "10\n  mmf read Log --follow\n"},
    {"wait", cmd_wait, OPT_AFTER | OPT_TIMEOUT | OPT_JSON, 1, 1,
     "wait for a newer content and print its seq",
     "mmf wait NAME [--after SEQ] [--timeout SECONDS]",
     "Sleep until the map's content is newer than SEQ (default: the current\n"
     "one), then print the new seq.  Uses no CPU while waiting; exit 3 when\n"
     "--timeout passes.\n\nexample:\n  mmf wait Test --timeout 5\n"},
    {"lock", cmd_lock, OPT_TIMEOUT, 2, -1,
     "run a command holding the map's lock",
     "mmf lock NAME [--timeout SECONDS] -- COMMAND [ARG...]",
     "Take the map's lock, run COMMAND, release the lock and exit with the\n"
     "command's status (3 when --timeout passes first).  If mmf dies, the\n"
     "command and everything it started are killed before the lock is let\n"
     "go, and the next locker is told the holder died.\n\n"
     "example:\n  mmf lock Test -- mmf write Test --append \"B was here\"\n"},
    {"save", cmd_save, OPT_JSON, 2, 2, "save a map's content to a file",
     "mmf save NAME FILE",
     "Write the content to FILE atomically (a temporary file renamed into\n"
     "place).\n\nexample:\n  mmf save Test test.json\n"},
    {"remove", cmd_remove, OPT_FORCE | OPT_NAME_HEX | OPT_JSON, 1, -1,
     "remove maps",
     "mmf remove [-f] NAME...\n       mmf remove [-f] --name-hex HEX",
     "Remove each map's name.  Processes that have it open keep using it\n"
     "until they close it.  A path is removed only if it is an mmf map.\n"
     "-f (--force): a map that does not exist is no error.  --name-hex\n"
     "names an object by its bytes in hex (as 'mmf list --json' prints\n"
     "name_hex), for names with spaces, control bytes or a leading dot.\n\n"
     "example:\n  mmf remove Test\n"},
    {"info", cmd_info, OPT_JSON | OPT_BYTES | OPT_NAME_HEX, 1, 1,
     "describe a map",
     "mmf info NAME [--json] [--bytes]\n"
     "       mmf info --name-hex HEX [--json] [--bytes]",
     "Show the map's kind, capacity, length, seq, mode, owner, times, its\n"
     "holders (open handles, and the pids of those this PID namespace can\n"
     "see) and its lock holder.  Sizes read 64 KiB; --bytes gives exact\n"
     "byte counts.  --name-hex names the object by its bytes in hex.\n\n"
     "example:\n  mmf info Test --json\n"},
    {"list", cmd_list, OPT_JSON | OPT_BYTES, 0, 0, "list the maps in /dev/shm",
     "mmf list [--json] [--bytes]",
     "List every object in /dev/shm you can see: mmf maps, and objects of\n"
     "other programs as raw.  Transient maps nobody holds any more are\n"
     "removed.\n\nexample:\n  mmf list --json | jq '.[].name'\n"},
    {"cat", cmd_cat, OPT_OFFSET | OPT_LENGTH, 1, 1,
     "print a file (or a range of it) through a mapping",
     "mmf cat FILE [--offset N] [--length N]",
     "Map FILE read-only and write its bytes, or LENGTH bytes from OFFSET,\n"
     "to standard output.\n\nexample:\n  mmf cat big.bin --offset 4096 "
     "--length 16\n"},
    {"help", cmd_help, 0, 0, 1, "show help for mmf or a command",
     "mmf help [COMMAND]",
     "List the commands, or show one command's help.\n\nexample:\n  mmf help "
     "write\n"},
    {0}};
