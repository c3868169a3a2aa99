/* SPDX-License-Identifier: MIT */
/* What mmf prints on stdout (bytes, JSON, tables) and its progress line on
 * stderr. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

bool std_closed[3];

int write_out(const void *p, size_t len) {
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

int print_range(const char *verb, const char *name, mmf_t *m,
                const struct opts *o, const char *what) {
  uint64_t size = mmf_size(m);
  uint64_t off = (o->given & OPT_OFFSET) ? o->offset : 0;
  uint64_t len =
      (o->given & OPT_LENGTH) ? o->length : (off <= size ? size - off : 0);
  if (off > size && !(o->given & OPT_LENGTH))
    return fail(verb, name,
                "from offset %llu to the end: the %s is shorter, %llu bytes",
                (unsigned long long)off, what, (unsigned long long)size);
  if (off > size || len > size - off)
    return fail(verb, name,
                "reading %llu bytes from offset %llu passes the end of the "
                "%llu-byte %s",
                (unsigned long long)len, (unsigned long long)off,
                (unsigned long long)size, what);
  int r;
  const char *p = (const char *)mmf_data(m) + off;
  /* In pieces of 1 MiB: each write(2) copies its piece into a pipe,
   * whose reader then sees these bytes, not what the file holds later. */
  for (uint64_t done = 0, n; done < len; done += n) {
    n = len - done < (1u << 20) ? len - done : (1u << 20);
    if ((r = write_out(p + done, (size_t)n)) < 0)
      /* The kernel reads the mapping for write(): pages past a new end of
       * the object are EFAULT there, not SIGBUS. */
      return r == -EFAULT
                 ? fail(verb, name,
                        "the %s shrank while it was read (another process "
                        "truncated it); what was printed is incomplete",
                        what)
                 : fail(verb, name, "cannot write standard output: %s",
                        strerror(-r));
  }
  return EXIT_OK;
}

/* A JSON string; bytes that are not UTF-8 become U+FFFD. */
void json_string(FILE *f, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  fputc('"', f);
  while (*p) {
    size_t n = utf8_seq(p);
    if (!n) {
      fputs("\\ufffd", f);
      p++;
      continue;
    }
    if (n > 1) {
      fwrite(p, 1, n, f);
    } else if (*p == '"' || *p == '\\') {
      fprintf(f, "\\%c", *p);
    } else if (*p < 0x20 || *p == 0x7f) {
      fprintf(f, "\\u%04x", *p);
    } else {
      fputc(*p, f);
    }
    p += n;
  }
  fputc('"', f);
}

void print_info_json(FILE *f, const struct mmf_info *in,
                     const struct holders *h, const char *path) {
  char own[64], mt[32], ct[32];
  fputs("{\"name\":", f);
  json_string(f, in->name);
  /* Always: what --name-hex takes, for names a shell cannot pass; all of
   * a path, so that it reaches this object and not /dev/shm/NAME. */
  fputs(",\"name_hex\":\"", f);
  for (const unsigned char *p =
           (const unsigned char *)(path && strchr(path, '/') ? path : in->name);
       *p; p++)
    fprintf(f, "%02x", *p);
  fputc('"', f);
  /* One shape for every kind: null where a field does not apply or could
   * not be read. */
  bool mmf = in->kind == MMF_KIND_MMF && !in->error;
  fprintf(f, ",\"kind\":\"%s\"", kind_name(in));
  if (in->error)
    fputs(",\"capacity\":null,\"length\":null", f);
  else
    fprintf(f, ",\"capacity\":%zu,\"length\":%zu", in->capacity, in->length);
  if (mmf)
    fprintf(f, ",\"seq\":%llu", (unsigned long long)in->seq);
  else
    fputs(",\"seq\":null", f);
  fprintf(f, ",\"object_size\":%llu", (unsigned long long)in->object_size);
  fprintf(f, ",\"mode\":\"%04o\",\"owner\":", in->mode);
  json_string(f, owner_name(in->owner, own, sizeof own));
  fprintf(f, ",\"uid\":%u,\"gid\":%u", (unsigned)in->owner,
          (unsigned)in->group);
  fprintf(f, ",\"modified\":\"%s\",\"changed\":\"%s\"",
          iso_time(in->mtime_ns, mt, sizeof mt),
          iso_time(in->ctime_ns, ct, sizeof ct));
  if (mmf)
    fprintf(f, ",\"transient\":%s,\"holders\":%u,\"lock_pid\":%d",
            in->transient ? "true" : "false", in->holders, (int)in->lock_pid);
  else
    fputs(",\"transient\":null,\"holders\":null,\"lock_pid\":null", f);
  fprintf(f, ",\"orphaned\":%s",
          mmf ? (in->orphaned ? "true" : "false") : "null");
  if (h) {
    fputs(",\"holder_pids\":[", f);
    for (size_t i = 0; i < h->n; i++)
      fprintf(f, "%s%d", i ? "," : "", (int)h->pids[i]);
    fprintf(f, "],\"holders_hidden\":%u", h->hidden);
  } else {
    fputs(",\"holder_pids\":null,\"holders_hidden\":null", f);
  }
  fputs(",\"error\":", f);
  if (in->error)
    json_string(f, mmf_strerror(in->error));
  else
    fputs("null", f);
  fputc('}', f);
}

void print_written_json(FILE *f, const char *name, uint64_t len, bool raw,
                        uint64_t seq) {
  fputs("{\"name\":", f);
  json_string(f, name);
  fprintf(f, ",\"length\":%llu,\"seq\":", (unsigned long long)len);
  if (!raw)
    fprintf(f, "%llu}\n", (unsigned long long)seq);
  else
    fputs("null}\n", f);
}

void print_wait_json(FILE *f, const char *name, uint64_t seq) {
  fputs("{\"name\":", f);
  json_string(f, name);
  fprintf(f, ",\"seq\":%llu}\n", (unsigned long long)seq);
}

void print_saved_json(FILE *f, const char *name, const char *file) {
  struct stat fst;
  fputs("{\"name\":", f);
  json_string(f, name);
  fputs(",\"file\":", f);
  json_string(f, file);
  if (stat(file, &fst) == 0)
    fprintf(f, ",\"length\":%lld}\n", (long long)fst.st_size);
  else
    fputs(",\"length\":null}\n", f);
}

void print_removed_json(FILE *f, bool first, const char *name, int code,
                        bool force) {
  fprintf(f, "%s{\"name\":", first ? "" : ",");
  json_string(f, name);
  fprintf(f, ",\"removed\":%s,\"error\":", code == 0 ? "true" : "false");
  if (code == 0 || (code == -ENOENT && force)) {
    fputs("null}", f);
  } else {
    json_string(f, mmf_strerror(code));
    fputc('}', f);
  }
}

/* A progress line on a terminal, redrawn at most 4 times a second. */
void progress(const char *verb, uint64_t done, uint64_t total, bool last) {
  static struct timespec prev;
  if (!isatty(STDERR_FILENO))
    return;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  double dt = (double)(now.tv_sec - prev.tv_sec) +
              (double)(now.tv_nsec - prev.tv_nsec) / 1e9;
  if (!last && dt < 0.25)
    return;
  prev = now;
  if (total)
    fprintf(stderr, "\rmmf: %s: %llu / %llu MiB (%d%%)", verb,
            (unsigned long long)(done >> 20), (unsigned long long)(total >> 20),
            (int)(done * 100 / total));
  else
    fprintf(stderr, "\rmmf: %s: %llu MiB", verb,
            (unsigned long long)(done >> 20));
  if (last)
    fputc('\n', stderr);
  fflush(stderr);
}

static void base64(FILE *f, const uint8_t *p, size_t n) {
  static const char t[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16;
    if (i + 1 < n)
      v |= (uint32_t)p[i + 1] << 8;
    if (i + 2 < n)
      v |= p[i + 2];
    fputc(t[v >> 18 & 63], f);
    fputc(t[v >> 12 & 63], f);
    fputc(i + 1 < n ? t[v >> 6 & 63] : '=', f);
    fputc(i + 2 < n ? t[v & 63] : '=', f);
  }
}

/* A content object's members before its data. */
static void content_json_head(FILE *f, const char *name, uint64_t seq,
                              uint64_t length, bool appended) {
  fputc('{', f);
  if (name) {
    fputs("\"name\":", f);
    json_string(f, name);
    fputc(',', f);
  }
  fprintf(f, "\"seq\":%llu,\"length\":%llu,\"appended\":%s,",
          (unsigned long long)seq, (unsigned long long)length,
          appended ? "true" : "false");
}

void print_content_json(FILE *f, const char *name, uint64_t seq,
                        uint64_t length, bool appended, const uint8_t *data,
                        size_t len) {
  content_json_head(f, name, seq, length, appended);
  /* Text only if it is UTF-8 without NUL: JSON strings carry no NUL that
   * every reader handles. */
  bool text = memchr(data, 0, len) == NULL;
  if (text) {
    char *z = malloc(len + 1);
    if (!z)
      text = false;
    else {
      memcpy(z, data, len);
      z[len] = 0;
      if ((text = utf8_valid(z))) {
        fputs("\"data\":", f);
        json_string(f, z);
        fputs(",\"data_base64\":null", f);
      }
      free(z);
    }
  }
  if (!text) {
    fputs("\"data\":null,\"data_base64\":\"", f);
    base64(f, data, len);
    fputc('"', f);
  }
  fputs("}\n", f);
}

/* Bytes read from a descriptor at a time by print_content_json_fd: a
 * multiple of 3, so that the base64 of the pieces joins up. */
#define PIECE ((size_t)3 << 18)

static int pread_full(int fd, uint8_t *buf, size_t n, uint64_t off) {
  while (n) {
    ssize_t got = pread(fd, buf, n, (off_t)off);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0)
      return -errno;
    if (got == 0)
      return -EIO; /* the snapshot is ours: it cannot shrink */
    buf += got;
    off += (uint64_t)got;
    n -= (size_t)got;
  }
  return 0;
}

/* The length a UTF-8 sequence has from its first byte, or 0. */
static size_t utf8_lead(unsigned c) {
  return c < 0x80                 ? 1
         : c >= 0xc2 && c <= 0xdf ? 2
         : c >= 0xe0 && c <= 0xef ? 3
         : c >= 0xf0 && c <= 0xf4 ? 4
                                  : 0;
}

/* Whether fd's [from, len) is UTF-8 without NUL, decided over all of it: a
 * character cut by a piece's end is carried into the next.  buf: PIECE + 8
 * bytes.  0 or -errno. */
static int fd_is_text(int fd, uint64_t from, uint64_t len, uint8_t *buf,
                      bool *ret) {
  size_t carry = 0;
  *ret = false;
  for (uint64_t off = from; off < len;) {
    size_t n = len - off < PIECE ? (size_t)(len - off) : PIECE;
    int r = pread_full(fd, buf + carry, n, off);
    if (r < 0)
      return r;
    off += n;
    size_t have = carry + n, i = 0;
    buf[have] = 0; /* utf8_seq stops at it: never a continuation byte */
    if (memchr(buf + carry, 0, n))
      return 0;
    while (i < have) {
      size_t need = utf8_lead(buf[i]);
      if (need && i + need > have && off < len)
        break; /* cut: the rest comes with the next piece */
      if (!need || i + need > have || utf8_seq(buf + i) != need)
        return 0;
      i += need;
    }
    carry = have - i;
    memmove(buf, buf + i, carry);
  }
  *ret = carry == 0;
  return 0;
}

/* UTF-8 text as the inside of a JSON string, into out (6 * n bytes). */
static size_t json_escape(const uint8_t *p, size_t n, char *out) {
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    uint8_t c = p[i];
    if (c == '"' || c == '\\') {
      out[o++] = '\\';
      out[o++] = (char)c;
    } else if (c < 0x20 || c == 0x7f) {
      memcpy(out + o, "\\u00", 4);
      out[o + 4] = hex[c >> 4];
      out[o + 5] = hex[c & 15];
      o += 6;
    } else {
      out[o++] = (char)c;
    }
  }
  return o;
}

/* base64 of n bytes into out (4 * (n + 2) / 3 bytes). */
static size_t base64_into(const uint8_t *p, size_t n, char *out) {
  static const char t[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16;
    if (i + 1 < n)
      v |= (uint32_t)p[i + 1] << 8;
    if (i + 2 < n)
      v |= p[i + 2];
    out[o++] = t[v >> 18 & 63];
    out[o++] = t[v >> 12 & 63];
    out[o++] = i + 1 < n ? t[v >> 6 & 63] : '=';
    out[o++] = i + 2 < n ? t[v & 63] : '=';
  }
  return o;
}

int print_content_json_fd(FILE *f, uint64_t seq, int fd, uint64_t len) {
  return print_range_json_fd(f, NULL, seq, len, false, fd, 0);
}

int print_range_json_fd(FILE *f, const char *name, uint64_t seq, uint64_t len,
                        bool appended, int fd, uint64_t from) {
  uint8_t *buf = malloc(PIECE + 8);
  char *out = malloc(6 * PIECE);
  int r = buf && out ? 0 : -ENOMEM;
  bool text = false;
  if (r == 0)
    r = fd_is_text(fd, from, len, buf, &text);
  if (r == 0) {
    content_json_head(f, name, seq, len, appended);
    fputs(text ? "\"data\":\"" : "\"data\":null,\"data_base64\":\"", f);
  }
  for (uint64_t off = from; r == 0 && off < len;) {
    size_t n = len - off < PIECE ? (size_t)(len - off) : PIECE;
    if ((r = pread_full(fd, buf, n, off)) < 0)
      break;
    size_t o = text ? json_escape(buf, n, out) : base64_into(buf, n, out);
    if (fwrite(out, 1, o, f) != o)
      r = -errno;
    off += n;
  }
  if (r == 0)
    fputs(text ? "\",\"data_base64\":null}\n" : "\"}\n", f);
  if (r == 0 && fflush(f) == EOF)
    r = -errno;
  free(buf);
  free(out);
  return r;
}

/* The progress line of a copy the kernel does in one call: a thread
 * samples the bytes this process has written (wchar of /proc/self/io,
 * which copy_file_range, sendfile and write count) and redraws the line
 * every 250 ms once a second has passed; the line is cleared at the end.
 * Only when stderr is a terminal. */
static struct {
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  bool on, stop, drawn;
  const char *verb;
  uint64_t total, base;
  struct timespec start;
} prog = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static uint64_t written_so_far(void) {
  char buf[512];
  int fd = open("/proc/self/io", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    return 0;
  buf[n] = 0;
  const char *w = strstr(buf, "wchar: ");
  return w ? strtoull(w + 7, NULL, 10) : 0;
}

static void *progress_thread(void *arg) {
  (void)arg;
  pthread_mutex_lock(&prog.lock);
  while (!prog.stop) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_nsec += 250000000;
    if (t.tv_nsec >= 1000000000) {
      t.tv_sec++;
      t.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&prog.cond, &prog.lock, &t);
    if (prog.stop)
      break;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double s = (double)(now.tv_sec - prog.start.tv_sec) +
               (double)(now.tv_nsec - prog.start.tv_nsec) / 1e9;
    if (s < 1)
      continue;
    uint64_t done = written_so_far() - prog.base;
    if (prog.total && done > prog.total)
      done = prog.total;
    if (prog.total)
      fprintf(stderr, "\rmmf: %s: %llu / %llu MiB (%d%%), %.0f s\033[K",
              prog.verb, (unsigned long long)(done >> 20),
              (unsigned long long)(prog.total >> 20),
              (int)(done * 100 / prog.total), s);
    else if (done)
      fprintf(stderr, "\rmmf: %s: %llu MiB, %.0f s\033[K", prog.verb,
              (unsigned long long)(done >> 20), s);
    else
      fprintf(stderr, "\rmmf: %s: %.0f s\033[K", prog.verb, s);
    fflush(stderr);
    prog.drawn = true;
  }
  pthread_mutex_unlock(&prog.lock);
  return NULL;
}

void progress_begin(const char *verb, uint64_t total) {
  if (prog.on || !isatty(STDERR_FILENO))
    return;
  prog.verb = verb;
  prog.total = total;
  prog.stop = prog.drawn = false;
  prog.base = written_so_far();
  clock_gettime(CLOCK_MONOTONIC, &prog.start);
  prog.on = pthread_create(&prog.thread, NULL, progress_thread, NULL) == 0;
}

void progress_end(void) {
  if (!prog.on)
    return;
  pthread_mutex_lock(&prog.lock);
  prog.stop = true;
  pthread_cond_signal(&prog.cond);
  pthread_mutex_unlock(&prog.lock);
  pthread_join(prog.thread, NULL);
  prog.on = false;
  if (prog.drawn) {
    fputs("\r\033[K", stderr);
    fflush(stderr);
  }
}
