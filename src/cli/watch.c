/* SPDX-License-Identifier: MIT */
/* The verbs and modes that watch maps for new contents: mmf wait, read
 * --wait and read --follow, over one map or several (mmf_wait_any). */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    int r = rc == EXIT_OK ? mmf_wait_any(maps, after, (size_t)n, -1,
                                         o->timeout_ms, &which, &seq)
                          : 0;
    if (r == -ETIMEDOUT) {
      fprintf(stderr,
              "mmf: wait: none of the %d maps changed within the timeout\n", n);
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
  bool first;
  bool cut; /* several maps: its last line printed was ended by us */
};

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

/* Print what is new in f's map: EXIT_OK, or a status after a message. */
static int follow_step(struct follow *f, bool prefix, bool json, bool seqs,
                       uint8_t **buf, size_t *cap) {
  for (;;) {
    size_t got;
    uint64_t now;
    int r = mmf_read_since(f->m, f->seq, f->len, *buf, *cap, &got, &now);
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
    if (now != f->seq || f->first) {
      if (json) {
        print_content_json(stdout, prefix ? f->name : NULL, now, f->len, !whole,
                           *buf, got);
        fflush(stdout);
      } else if (got && (r = prefix ? write_prefixed(f, !whole, *buf, got)
                                    : write_out(*buf, got)) < 0) {
        return fail("read", f->name, "writing standard output: %s",
                    strerror(-r));
      }
      if (seqs && prefix) {
        char qn[QUOTED_MAX];
        fprintf(stderr, "%s: seq %llu\n", quote_name(f->name, qn, sizeof qn),
                (unsigned long long)now);
      } else if (seqs) {
        fprintf(stderr, "seq %llu\n", (unsigned long long)now);
      }
    }
    f->seq = now;
    f->first = false;
    return EXIT_OK;
  }
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
  int rc = EXIT_OK;
  if (!fs || !maps || !after || !buf) {
    rc = fail("read", o->args[0], "out of memory");
    goto out;
  }
  maps[0] = m;
  if ((rc = open_all(v, o, 1, maps)) != EXIT_OK)
    goto out;
  for (int i = 0; i < n; i++)
    fs[i] = (struct follow){.name = o->args[i], .m = maps[i], .first = true};
  int64_t deadline = o->timeout_ms >= 0 ? now_ms() + o->timeout_ms : -1;
  for (;;) {
    for (int i = 0; i < n && rc == EXIT_OK; i++)
      rc = follow_step(&fs[i], prefix, o->given & OPT_JSON, o->given & OPT_SEQ,
                       &buf, &cap);
    if (rc != EXIT_OK)
      break;
    int wait_ms = left_ms(deadline);
    if (wait_ms == 0)
      break; /* the time asked for is up: a normal end */
    int r;
    if (n == 1) {
      r = mmf_wait(m, fs[0].seq, wait_ms, NULL);
    } else {
      for (int i = 0; i < n; i++)
        after[i] = fs[i].seq;
      r = mmf_wait_any(maps, after, (size_t)n, -1, wait_ms, NULL, NULL);
    }
    if (r == -ETIMEDOUT)
      break;
    if (r < 0) {
      rc = fail_code("read", o->args[0], r);
      break;
    }
  }
  for (int i = 1; i < n; i++)
    mmf_close(maps[i]);
out:
  free(fs);
  free(maps);
  free(after);
  free(buf);
  return rc;
}
