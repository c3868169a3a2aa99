/* SPDX-License-Identifier: MIT */
/* The verbs and modes that watch maps for new contents: mmf wait, read
 * --wait and read --follow, over one map or several (mmf_wait_any). */
#include "cli.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left before deadline (-1: none); 0 when it passed. */
static int left_ms(int64_t deadline) {
  if (deadline < 0)
    return -1;
  int64_t left = deadline - now_ms();
  return left <= 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

/* How often a wait looks whether its map's name still leads to it. */
#define RECHECK_MS 1000

enum { NAME_SAME, NAME_REPLACED, NAME_REMOVED };

/* Whether `name` still names the object m maps (same device and inode):
 * a map removed, or removed and made again, never wakes its waiters. */
static int name_state(const char *name, mmf_t *m) {
  char path[4200];
  struct stat now, held;
  snprintf(path, sizeof path, "%s%s", strchr(name, '/') ? "" : "/dev/shm/",
           name);
  if (fstat(mmf_fd(m), &held) < 0)
    return NAME_SAME;
  if (lstat(path, &now) < 0)
    return errno == ENOENT ? NAME_REMOVED : NAME_SAME;
  return now.st_dev == held.st_dev && now.st_ino == held.st_ino ? NAME_SAME
                                                                : NAME_REPLACED;
}

/* The slice of a wait: what is left of it (-1: no end), at most
 * RECHECK_MS. */
static int slice_ms(int left) {
  return left < 0 || left > RECHECK_MS ? RECHECK_MS : left;
}

static int gone_while_waiting(const char *verb, const char *name) {
  char qn[QUOTED_MAX];
  return fail(verb, name, "%s was removed (or replaced) while waiting",
              quote_name(name, qn, sizeof qn));
}

int wait_newer(const char *verb, const char *name, mmf_t *m,
               const struct opts *o, uint64_t *ret_seq) {
  uint64_t after = o->after;
  if (!(o->given & OPT_AFTER)) {
    struct mmf_stat st;
    int r = mmf_stat(m, &st);
    if (r < 0)
      return fail_code(verb, name, r);
    after = st.seq;
  }
  int64_t deadline = o->timeout_ms >= 0 ? now_ms() + o->timeout_ms : -1;
  int r;
  for (;;) {
    int left = left_ms(deadline);
    r = mmf_wait(m, after, slice_ms(left), ret_seq);
    if (r != -ETIMEDOUT || (left >= 0 && left <= RECHECK_MS))
      break;
    if (name_state(name, m) != NAME_SAME)
      return gone_while_waiting(verb, name);
  }
  if (r == -ETIMEDOUT) {
    fail(verb, name, "timed out after %g s: no content newer than seq %llu",
         o->timeout_ms / 1000.0, (unsigned long long)after);
    return EXIT_TIMEOUT;
  }
  if (r == -MMF_ERAW)
    return fail(verb, name, "waiting needs an mmf map; this one is raw");
  if (r < 0)
    return fail_code(verb, name, r);
  return EXIT_OK;
}

/* Open the mmf maps named by o->args[from..] into maps[from..]: EXIT_OK,
 * or the exit status of the message given (maps opened are closed). */
static int open_all(const struct verb *v, const struct opts *o, int from,
                    mmf_t **maps) {
  for (int i = from; i < o->nargs; i++) {
    int r = mmf_open(o->args[i], 0, &maps[i]);
    int rc = EXIT_OK;
    if (r == -MMF_ENOTMMF)
      rc = fail(v->name, o->args[i],
                "watching needs an mmf map; this one is raw");
    else if (r < 0)
      rc = fail_map(v, o->args[i], r);
    if (rc != EXIT_OK) {
      while (i-- > from)
        mmf_close(maps[i]);
      return rc;
    }
  }
  return EXIT_OK;
}

int cmd_wait(const struct verb *v, const struct opts *o) {
  int n = o->nargs;
  mmf_t **maps = calloc((size_t)n, sizeof *maps);
  uint64_t *after = calloc((size_t)n, sizeof *after);
  int rc = maps && after ? open_all(v, o, 0, maps)
                         : fail("wait", o->args[0], "out of memory");
  if (rc != EXIT_OK) {
    free(maps);
    free(after);
    return rc;
  }
  uint64_t seq = 0;
  size_t which = 0;
  if (n == 1) {
    rc = wait_newer("wait", o->args[0], maps[0], o, &seq);
  } else {
    for (int i = 0; i < n && rc == EXIT_OK; i++) {
      struct mmf_stat st;
      int r = mmf_stat(maps[i], &st);
      if (r < 0)
        rc = fail_code("wait", o->args[i], r);
      after[i] = (o->given & OPT_AFTER) ? o->after : st.seq;
    }
    int64_t deadline = o->timeout_ms >= 0 ? now_ms() + o->timeout_ms : -1;
    int r = 0;
    while (rc == EXIT_OK) {
      int left = left_ms(deadline);
      r = mmf_wait_any(maps, after, (size_t)n, -1, slice_ms(left), &which,
                       &seq);
      if (r != -ETIMEDOUT || (left >= 0 && left <= RECHECK_MS))
        break;
      for (int i = 0; i < n && rc == EXIT_OK; i++)
        if (name_state(o->args[i], maps[i]) != NAME_SAME)
          rc = gone_while_waiting("wait", o->args[i]);
    }
    if (rc != EXIT_OK) {
      /* said */
    } else if (r == -ETIMEDOUT) {
      fprintf(stderr,
              "mmf: wait: timed out after %g s: none of the %d maps "
              "changed\n",
              o->timeout_ms / 1000.0, n);
      rc = EXIT_TIMEOUT;
    } else if (r < 0) {
      rc = fail_code("wait", o->args[0], r);
    }
  }
  if (rc == EXIT_OK && (o->given & OPT_JSON)) {
    print_wait_json(stdout, o->args[which], seq);
  } else if (rc == EXIT_OK && n == 1) {
    printf("%llu\n", (unsigned long long)seq);
  } else if (rc == EXIT_OK) {
    char qn[QUOTED_MAX];
    printf("%s %llu\n", quote_name(o->args[which], qn, sizeof qn),
           (unsigned long long)seq);
  }
  for (int i = 0; i < n; i++)
    mmf_close(maps[i]);
  free(maps);
  free(after);
  return rc;
}

/* One followed map: what was printed of it. */
struct follow {
  const char *name;
  mmf_t *m;
  uint64_t seq, len;
  uint64_t hash; /* of the len bytes printed: tells a big tail from a new
                    content without keeping the bytes */
  bool first;
  bool cut; /* several maps: its last line printed was ended by us */
};

/* What follow_step() holds in memory at most: more goes through a
 * snapshot, a piece at a time. */
#define FOLLOW_CAP ((size_t)1 << 20)
#define HASH_START 0xcbf29ce484222325ull

/* FNV-1a: the same whatever the pieces it is fed in. */
static uint64_t hash_more(uint64_t h, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

/* The bytes of a content with "NAME: " before each line, a newline added
 * at the end (several maps share the output: lines must not mix). */
static int write_prefixed(struct follow *f, bool appended, const uint8_t *p,
                          size_t n) {
  char qn[QUOTED_MAX];
  quote_name(f->name, qn, sizeof qn);
  size_t i = 0;
  /* An append that ends the line we ended: that newline is printed. */
  if (appended && f->cut && n && p[0] == '\n')
    i = 1;
  f->cut = false;
  while (i < n) {
    const uint8_t *nl = memchr(p + i, '\n', n - i);
    size_t end = nl ? (size_t)(nl - p) + 1 : n;
    printf("%s: ", qn);
    if (fwrite(p + i, 1, end - i, stdout) != end - i)
      return -EIO;
    if (!nl) {
      putchar('\n');
      f->cut = true;
    }
    i = end;
  }
  return fflush(stdout) == 0 ? 0 : -errno;
}

static void print_seq(const struct follow *f, bool prefix, uint64_t seq) {
  char qn[QUOTED_MAX];
  if (prefix)
    fprintf(stderr, "%s: seq %llu\n", quote_name(f->name, qn, sizeof qn),
            (unsigned long long)seq);
  else
    fprintf(stderr, "seq %llu\n", (unsigned long long)seq);
}

/* Bytes [from, to) of the descriptor fd through buf (cap bytes), hashed
 * into *h and, if `print`, printed as follow_step() prints a piece. */
static int snap_pieces(struct follow *f, int fd, uint64_t from, uint64_t to,
                       uint8_t *buf, size_t cap, bool print, bool prefix,
                       bool appended, uint64_t *h) {
  while (from < to) {
    size_t n = to - from < cap ? (size_t)(to - from) : cap;
    ssize_t got = pread(fd, buf, n, (off_t)from);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      return got < 0 ? -errno : -EIO;
    *h = hash_more(*h, buf, (size_t)got);
    int r = 0;
    if (print)
      r = prefix ? write_prefixed(f, appended, buf, (size_t)got)
                 : write_out(buf, (size_t)got);
    if (r < 0)
      return r;
    appended = true;
    from += (uint64_t)got;
  }
  return 0;
}

/* What is new when it does not fit FOLLOW_CAP: a snapshot of the whole
 * content, of which only the tail is printed when its first f->len bytes
 * are what was printed (their hash): memory bounded whatever the sizes. */
static int follow_big(struct follow *f, bool prefix, bool json, uint8_t *buf,
                      size_t cap, bool *ret_whole, uint64_t *ret_seq,
                      uint64_t *ret_len) {
  int fd = memfd_create("mmf-follow", MFD_CLOEXEC);
  if (fd < 0)
    return -errno;
  size_t len;
  uint64_t seq, h = HASH_START;
  int r = mmf_read_fd(f->m, fd, &len, &seq);
  bool whole = true;
  if (r == 0 && !f->first && len >= f->len) {
    r = snap_pieces(f, fd, 0, f->len, buf, cap, false, prefix, false, &h);
    whole = h != f->hash;
  }
  uint64_t from = whole ? 0 : f->len;
  if (whole)
    h = HASH_START;
  if (r == 0 && json) {
    /* The hash first (a second pass), then the JSON a piece at a time. */
    r = snap_pieces(f, fd, from, len, buf, cap, false, prefix, !whole, &h);
    if (r == 0)
      r = print_range_json_fd(stdout, prefix ? f->name : NULL, seq, len, !whole,
                              fd, from);
  } else if (r == 0) {
    r = snap_pieces(f, fd, from, len, buf, cap, true, prefix, !whole, &h);
  }
  close(fd);
  if (r == 0) {
    f->hash = h;
    *ret_whole = whole;
    *ret_seq = seq;
    *ret_len = len;
  }
  return r;
}

/* Print what is new in f's map: EXIT_OK, or a status after a message. */
static int follow_step(struct follow *f, bool prefix, bool json, bool seqs,
                       uint8_t **buf, size_t *cap) {
  for (;;) {
    size_t got;
    uint64_t now;
    int r = mmf_read_since(f->m, f->seq, f->len, *buf, *cap, &got, &now);
    if (r == -ENOBUFS && got > FOLLOW_CAP) {
      bool whole = true;
      uint64_t len = 0;
      if (*cap < FOLLOW_CAP) {
        uint8_t *bigger = realloc(*buf, FOLLOW_CAP);
        if (!bigger)
          return fail("read", f->name, "out of memory for %zu bytes",
                      FOLLOW_CAP);
        *buf = bigger;
        *cap = FOLLOW_CAP;
      }
      bool was_first = f->first;
      r = follow_big(f, prefix, json, *buf, *cap, &whole, &now, &len);
      if (r == -EPIPE)
        return EXIT_READER_GONE;
      if (r < 0)
        return fail("read", f->name, "cannot print the content: %s",
                    mmf_strerror(r));
      if (whole && !was_first)
        fail("read", f->name,
             "the content was replaced (seq %llu); printed it whole "
             "(anything appended just before may be missed)",
             (unsigned long long)now);
      if (json)
        fflush(stdout);
      if (seqs)
        print_seq(f, prefix, now);
      f->len = len;
      f->seq = now;
      f->first = false;
      return EXIT_OK;
    }
    if (r == -ENOBUFS) {
      uint8_t *bigger = realloc(*buf, got);
      if (!bigger)
        return fail("read", f->name, "out of memory for %zu bytes", got);
      *buf = bigger;
      *cap = got;
      continue;
    }
    if (r < 0)
      return fail_code("read", f->name, r);
    bool whole = r == MMF_READ_WHOLE || f->first;
    if (r == MMF_READ_WHOLE && !f->first)
      fail("read", f->name,
           "the content was replaced (seq %llu); printing it whole "
           "(anything appended just before may be missed)",
           (unsigned long long)now);
    f->len = whole ? got : f->len + got;
    f->hash = hash_more(whole ? HASH_START : f->hash, *buf, got);
    if (now != f->seq || f->first) {
      if (json) {
        print_content_json(stdout, prefix ? f->name : NULL, now, f->len, !whole,
                           *buf, got);
        fflush(stdout);
      } else if (got && (r = prefix ? write_prefixed(f, !whole, *buf, got)
                                    : write_out(*buf, got)) < 0) {
        /* The reader has gone, with SIGPIPE ignored or blocked: end as
         * with it, quietly (as tail -f). */
        if (r == -EPIPE)
          return EXIT_READER_GONE;
        return fail("read", f->name, "cannot write standard output: %s",
                    strerror(-r));
      }
      if (seqs)
        print_seq(f, prefix, now);
    }
    f->seq = now;
    f->first = false;
    return EXIT_OK;
  }
}

/* Standard output as a cancel_fd for mmf_wait_any: a pipe or socket
 * polls an error or hang-up once its reader has gone.  Never a terminal or
 * a file: input or a write would end the wait. */
static int reader_watch_fd(void) {
  struct stat st;
  if (fstat(STDOUT_FILENO, &st) < 0 ||
      !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
    return -1;
  return STDOUT_FILENO;
}

/* After -ECANCELED: whether stdout's reader has gone (else stdout was
 * only readable, a FIFO opened for both or a socket the peer writes to). */
static bool reader_gone(void) {
  struct pollfd p = {.fd = STDOUT_FILENO, .events = 0};
  return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP));
}

/* f's name leads to another object, or to none: follow the new map from
 * its whole content (EXIT_OK), or say why not. */
static int follow_reopen(const struct verb *v, struct follow *f, int state) {
  char qn[QUOTED_MAX];
  quote_name(f->name, qn, sizeof qn);
  mmf_t *m = NULL;
  int r = state == NAME_REPLACED ? mmf_open(f->name, 0, &m) : -ENOENT;
  if (r == -ENOENT)
    return fail(v->name, f->name, "%s was removed; nothing more to follow", qn);
  if (r == -MMF_ENOTMMF)
    return fail(v->name, f->name,
                "%s was replaced by an object that is not an mmf map; "
                "nothing more to follow",
                qn);
  if (r < 0)
    return fail_map(v, f->name, r);
  fail(v->name, f->name, "%s was replaced; printing the new map's content", qn);
  mmf_close(f->m);
  *f = (struct follow){.name = f->name, .m = m, .first = true};
  return EXIT_OK;
}

/* The content of each map, then each later one as it is published: only
 * the appended bytes when it extends the one printed, else all of it (and
 * a line on stderr, since appends before it may have been missed). */
int read_follow(const struct verb *v, mmf_t *m, const struct opts *o) {
  int n = o->nargs;
  bool prefix = n > 1;
  struct follow *fs = calloc((size_t)n, sizeof *fs);
  mmf_t **maps = calloc((size_t)n, sizeof *maps);
  uint64_t *after = calloc((size_t)n, sizeof *after);
  size_t cap = 1 << 16;
  uint8_t *buf = malloc(cap);
  int rc = EXIT_OK, opened = 1;
  if (!fs || !maps || !after || !buf) {
    mmf_close(m);
    rc = fail("read", o->args[0], "out of memory");
    goto out;
  }
  maps[0] = m;
  if ((rc = open_all(v, o, 1, maps)) != EXIT_OK) {
    mmf_close(m);
    goto out;
  }
  opened = n;
  for (int i = 0; i < n; i++)
    fs[i] = (struct follow){.name = o->args[i], .m = maps[i], .first = true};
  int cancel_fd = reader_watch_fd();
  int64_t deadline = o->timeout_ms >= 0 ? now_ms() + o->timeout_ms : -1;
  int64_t checked = now_ms();
  for (;;) {
    for (int i = 0; i < n && rc == EXIT_OK; i++)
      rc = follow_step(&fs[i], prefix, o->given & OPT_JSON, o->given & OPT_SEQ,
                       &buf, &cap);
    if (rc != EXIT_OK)
      break;
    int wait_ms = left_ms(deadline);
    if (wait_ms == 0)
      break; /* the time asked for is up: a normal end */
    for (int i = 0; i < n; i++)
      after[i] = fs[i].seq;
    int r = cancel_fd < 0 && n == 1
                ? mmf_wait(fs[0].m, after[0], slice_ms(wait_ms), NULL)
                : mmf_wait_any(maps, after, (size_t)n, cancel_fd,
                               slice_ms(wait_ms), NULL, NULL);
    if (r == -ECANCELED) {
      if (reader_gone()) {
        rc = EXIT_READER_GONE; /* as tail -f, killed by SIGPIPE: quietly */
        break;
      }
      cancel_fd = -1; /* readable, not hung up: cannot tell, stop asking */
      continue;
    }
    if (r < 0 && r != -ETIMEDOUT) {
      rc = fail_code("read", o->args[0], r);
      break;
    }
    if (r == -ETIMEDOUT && wait_ms >= 0 && wait_ms <= RECHECK_MS)
      break;
    if (now_ms() - checked >= RECHECK_MS) {
      checked = now_ms();
      for (int i = 0; i < n && rc == EXIT_OK; i++) {
        int state = name_state(fs[i].name, fs[i].m);
        if (state != NAME_SAME &&
            (rc = follow_reopen(v, &fs[i], state)) == EXIT_OK)
          maps[i] = fs[i].m;
      }
      if (rc != EXIT_OK)
        break;
    }
  }
  for (int i = 0; i < opened; i++)
    mmf_close(maps[i]);
out:
  free(fs);
  free(maps);
  free(after);
  free(buf);
  return rc;
}
