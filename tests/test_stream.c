/* SPDX-License-Identifier: MIT */
/* Streams between maps and descriptors: mmf_read_fd straight into a file's
 * end (only bytes of one content ever land there, a failed or overtaken
 * copy is taken back), mmf_append_fd from pipes and files in bounded
 * memory, and mmf_write_fd giving back the storage it reserved and did
 * not fill.  Behaviour, never timing. */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "internal.h"
#include "util.h"

#define MiB ((size_t)1 << 20)

/* ---- mmf_read_fd into a file's end ---- */

#define BIG_LEN (4 * MiB)
#define SMALL_LEN ((size_t)64 << 10)
#define HEAD "head of the file\n"

struct flipper {
  const char *name;
  atomic_bool stop;
  atomic_uint writes;
  int err;
};

/* Alternates a big content (upper case) and a small one (lower case) as fast as
 * it can: copies of the big one are overtaken by the small one again and again,
 * which a file's end must never keep. */
static void *flip(void *arg) {
  struct flipper *p = arg;
  mmf_t *m;
  if ((p->err = mmf_open(p->name, 0, &m)) < 0)
    return NULL;
  for (unsigned i = 0; !atomic_load(&p->stop) && !p->err; i++) {
    /* Each content its own byte, so that a mix of two is told from one;
     * filled in place, so that the writer outruns a reader. */
    size_t len = i & 1 ? SMALL_LEN : BIG_LEN;
    struct mmf_write_loan w;
    if ((p->err = mmf_write_begin(m, len, &w)) < 0)
      break;
    memset(w.data, (i & 1 ? 'a' : 'A') + (int)(i / 2 % 26), len);
    p->err = mmf_write_commit(m, &w, len);
    atomic_fetch_add(&p->writes, 1);
  }
  mmf_close(m);
  return NULL;
}

/* Does fd hold HEAD, then `len` bytes of one content (with `exact`; else
 * at most one content's length), and nothing more? */
static bool head_then_one_content(int fd, size_t len, bool exact) {
  static uint8_t buf[2 * BIG_LEN + sizeof HEAD];
  ssize_t got = pread(fd, buf, sizeof buf, 0);
  size_t h = sizeof HEAD - 1;
  if (got < (ssize_t)h || memcmp(buf, HEAD, h) != 0)
    return false;
  size_t n = (size_t)got - h;
  for (size_t i = 0; i < n; i++)
    if (buf[h + i] != buf[h])
      return false;
  size_t whole = n == 0                           ? 0
                 : buf[h] >= 'A' && buf[h] <= 'Z' ? BIG_LEN + 1
                 : buf[h] >= 'a' && buf[h] <= 'z' ? SMALL_LEN
                                                  : SIZE_MAX;
  if (whole == SIZE_MAX)
    return false;
  return exact ? n == len && (n == 0 || n == whole || whole > SMALL_LEN)
               : n <= whole;
}

static int start_flipper(struct flipper *p, pthread_t *t, mmf_t **ret_m) {
  assert_int_equal(mmf_create(p->name, BIG_LEN, 0, 0600, ret_m), 0);
  assert_int_equal(mmf_write(*ret_m, "x", 0), 0);
  return pthread_create(t, NULL, flip, p);
}

static int open_with_head(const char *path, int extra) {
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | extra, 0600);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, HEAD, sizeof HEAD - 1), sizeof HEAD - 1);
  return fd;
}

/* Into a file's end (an offset at its end, and O_APPEND), with writers
 * overtaking: every call leaves the file's head as it was, then exactly
 * one whole content, and the offset past it. */
static void read_fd_into_a_files_end_keeps_one_content(void **s) {
  (void)s;
  struct flipper p = {.name = tname("st-end")};
  pthread_t t;
  mmf_t *m;
  assert_int_equal(start_flipper(&p, &t, &m), 0);
  char path[] = "/var/tmp/mmftest-end-XXXXXX";
  close(mkstemp(path));
  int bad = 0, r = 0, calls = 0;
  int64_t until = now_ns() + 2000000000ll;
  for (int k = 0; k < 2; k++) {
    int fd = open_with_head(path, k ? O_APPEND : 0);
    for (int i = 0; i < 400 && now_ns() < until && !bad && !r; i++, calls++) {
      size_t len = 0;
      assert_int_equal(ftruncate(fd, sizeof HEAD - 1), 0);
      assert_int_equal(lseek(fd, sizeof HEAD - 1, SEEK_SET), sizeof HEAD - 1);
      if ((r = mmf_read_fd(m, fd, &len, NULL)) < 0)
        break;
      bad = !head_then_one_content(fd, len, true) ||
            lseek(fd, 0, SEEK_CUR) != (off_t)(sizeof HEAD - 1 + len);
    }
    close(fd);
  }
  atomic_store(&p.stop, true);
  pthread_join(t, NULL);
  unlink(path);
  printf("# %d reads into a file's end beside %u writes\n", calls,
         atomic_load(&p.writes));
  mmf_close(m);
  mmf_remove(p.name);
  assert_int_equal(p.err, 0);
  assert_int_equal(r, 0);
  assert_int_equal(bad, 0);
}

/* Overtaken for sure: a one-shot timer whose handler publishes twice
 * through another handle while mmf_read_fd copies (the reader holds no
 * lock, so the writes cannot wait for it).  The two contents differ in
 * length and byte from each other and from the one being copied. */
static mmf_t *tick_m;
static unsigned tick_n;

static void tick(int sig) {
  (void)sig;
  static uint8_t buf[BIG_LEN];
  for (int k = 0; k < 2; k++) {
    unsigned i = ++tick_n;
    size_t len = i & 1 ? SMALL_LEN : BIG_LEN - i % 4096;
    memset(buf, (i & 1 ? 'a' : 'A') + (int)(i % 26), len);
    (void)mmf_write(tick_m, buf, len);
  }
}

/* Overtaken midway, with a content shorter or longer than the part
 * already written: the file holds its head, then exactly the content the
 * call returns, and nothing of the one it was copying. */
static void
an_overtaken_read_into_a_files_end_takes_back_what_it_wrote(void **s) {
  (void)s;
  const char *n = tname("st-tick");
  mmf_t *m, *r;
  assert_int_equal(mmf_create(n, BIG_LEN, 0, 0600, &m), 0);
  assert_int_equal(mmf_open(n, MMF_READONLY, &r), 0);
  tick_m = m;
  assert_true(signal(SIGALRM, tick) != SIG_ERR);
  char path[] = "/var/tmp/mmftest-tick-XXXXXX";
  close(mkstemp(path));
  int fd = open_with_head(path, 0);
  uint8_t *big = malloc(BIG_LEN);
  uint64_t seed = (uint64_t)now_ns();
  int bad = 0;
  for (int i = 0; i < 100 && !bad; i++) {
    memset(big, 'Z', BIG_LEN);
    assert_int_equal(mmf_write(m, big, BIG_LEN), 0);
    assert_int_equal(ftruncate(fd, sizeof HEAD - 1), 0);
    assert_int_equal(lseek(fd, sizeof HEAD - 1, SEEK_SET), sizeof HEAD - 1);
    struct itimerval it = {{0, 0}, {0, 50 + (long)(rnd(&seed) % 1500)}};
    assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
    size_t len = 0;
    int e;
    while ((e = mmf_read_fd(r, fd, &len, NULL)) == -EINTR)
      ;
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    assert_int_equal(e, 0);
    /* Not checked: a content the timer replaced mid-check (a mix
     * of two bytes would fail below all the same). */
    bad = !head_then_one_content(fd, len, false) ||
          lseek(fd, 0, SEEK_CUR) != (off_t)(sizeof HEAD - 1 + len);
    struct stat st;
    bad = bad || fstat(fd, &st) < 0 ||
          st.st_size != (off_t)(sizeof HEAD - 1 + len);
  }
  signal(SIGALRM, SIG_DFL);
  printf("# %u contents published by the timer\n", tick_n);
  close(fd);
  unlink(path);
  free(big);
  mmf_close(r);
  mmf_close(m);
  mmf_remove(n);
  assert_int_equal(bad, 0);
}

struct killed {
  const char *name;
  const char *path;
};

static int read_forever(void *arg) {
  struct killed *a = arg;
  mmf_t *m;
  if (mmf_open(a->name, MMF_READONLY, &m) < 0)
    return 1;
  for (;;) {
    int fd = open(a->path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0 || ftruncate(fd, sizeof HEAD - 1) < 0 ||
        mmf_read_fd(m, fd, NULL, NULL) < 0)
      return 2;
    close(fd);
  }
}

/* A reader killed midway leaves, past the file's old end, a prefix of one
 * content, never bytes of two. */
static void a_killed_reader_leaves_a_prefix_of_one_content(void **s) {
  (void)s;
  struct flipper p = {.name = tname("st-kill")};
  pthread_t t;
  mmf_t *m;
  assert_int_equal(start_flipper(&p, &t, &m), 0);
  char path[] = "/var/tmp/mmftest-kill-XXXXXX";
  close(mkstemp(path));
  uint64_t seed = (uint64_t)now_ns();
  int bad = 0;
  for (int i = 0; i < 40 && !bad; i++) {
    close(open_with_head(path, 0));
    struct killed a = {p.name, path};
    pid_t c = spawn(read_forever, &a);
    usleep(2000 + (useconds_t)(rnd(&seed) % 20000));
    kill(c, SIGKILL);
    assert_int_equal(reap(c, 10000), 128 + SIGKILL);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    bad = !head_then_one_content(fd, BIG_LEN, false);
    close(fd);
  }
  atomic_store(&p.stop, true);
  pthread_join(t, NULL);
  unlink(path);
  mmf_close(m);
  mmf_remove(p.name);
  assert_int_equal(p.err, 0);
  assert_int_equal(bad, 0);
}

static int read_past_the_limit(void *arg) {
  struct killed *a = arg;
  mmf_t *m;
  if (mmf_open(a->name, MMF_READONLY, &m) < 0)
    return 1;
  signal(SIGXFSZ, SIG_IGN);
  struct rlimit rl = {sizeof HEAD - 1 + MiB, sizeof HEAD - 1 + MiB};
  if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
    return 2;
  int fd = open(a->path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || lseek(fd, 0, SEEK_END) < 0)
    return 3;
  int r = mmf_read_fd(m, fd, NULL, NULL);
  /* Failed, and nothing of it stays: the file as it was, its offset where
   * it was. */
  if (r != -EFBIG)
    return 4;
  struct stat st;
  if (fstat(fd, &st) < 0 || st.st_size != sizeof HEAD - 1 ||
      lseek(fd, 0, SEEK_CUR) != sizeof HEAD - 1)
    return 5;
  return 0;
}

/* A copy into a file's end that fails midway (here: past `ulimit -f`)
 * takes back what it wrote. */
static void a_failed_read_into_a_files_end_leaves_it_as_it_was(void **s) {
  (void)s;
  const char *n = tname("st-fail");
  mmf_t *m;
  assert_int_equal(mmf_create(n, BIG_LEN, 0, 0600, &m), 0);
  uint8_t *big = malloc(BIG_LEN);
  memset(big, 'B', BIG_LEN);
  assert_int_equal(mmf_write(m, big, BIG_LEN), 0);
  free(big);
  char path[] = "/var/tmp/mmftest-fail-XXXXXX";
  close(mkstemp(path));
  close(open_with_head(path, 0));
  struct killed a = {n, path};
  assert_int_equal(reap(spawn(read_past_the_limit, &a), 30000), 0);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  assert_true(head_then_one_content(fd, 0, true));
  close(fd);
  unlink(path);
  mmf_close(m);
  mmf_remove(n);
}

/* ---- mmf_append_fd ---- */

static size_t max_rss(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (size_t)ru.ru_maxrss * 1024;
}

static uint64_t blocks_of(mmf_t *m) {
  struct stat st;
  assert_int_equal(fstat(mmf_fd(m), &st), 0);
  return (uint64_t)st.st_blocks * 512;
}

/* A child that writes `len` bytes of byte (i * 7) % 251 into fd. */
static pid_t feed(int fd, size_t len) {
  fflush(NULL);
  pid_t p = fork();
  if (p == 0) {
    static uint8_t buf[1 << 16];
    for (size_t done = 0; done < len;) {
      size_t n = len - done < sizeof buf ? len - done : sizeof buf;
      for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)((done + i) * 7 % 251);
      if (write(fd, buf, n) != (ssize_t)n)
        _exit(1);
      done += n;
    }
    _exit(0);
  }
  close(fd);
  return p;
}

static bool fed_bytes(const uint8_t *p, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (p[i] != (uint8_t)(i * 7 % 251))
      return false;
  return true;
}

struct app {
  const char *name;
  int fd;
  size_t len;
};

static int append_it(void *arg) {
  struct app *a = arg;
  mmf_t *m;
  if (mmf_open(a->name, 0, &m) < 0)
    return 1;
  size_t before = max_rss(), got = 0;
  uint64_t seq = 0;
  int r = mmf_append_fd_seq(m, a->fd, SIZE_MAX, "|", 1, &got, &seq);
  size_t grew = max_rss() - before;
  mmf_close(m);
  printf("# mmf_append_fd of %zu bytes: max RSS +%zu KiB\n", got, grew >> 10);
  return r < 0              ? 2
         : got != a->len    ? 3
         : seq != 3         ? 4
         : grew >= 64 * MiB ? 5
                            : 0;
}

/* 256 MiB from a pipe after a 256 MiB content: the content, the separator
 * and every byte, in memory bounded by a constant (the process neither
 * buffers the input nor maps the content it keeps). */
static void append_fd_from_a_pipe_in_bounded_memory(void **s) {
  (void)s;
  const char *n = tname("st-app");
  size_t big = 256 * MiB;
  mmf_t *m;
  assert_int_equal(mmf_create(n, 2 * big + 1, 0, 0600, &m), 0);
  int p[2];
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  pid_t f = feed(p[1], big);
  assert_int_equal(mmf_write_fd_all(m, p[0], NULL), 0);
  close(p[0]);
  assert_int_equal(reap(f, 60000), 0);
  assert_int_equal(mmf_append(m, "", 0, NULL, 0), 0); /* seq 2 */
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  f = feed(p[1], big);
  struct app a = {n, p[0], big};
  assert_int_equal(reap(spawn(append_it, &a), 60000), 0);
  close(p[0]);
  assert_int_equal(reap(f, 60000), 0);
  struct mmf_read_view v;
  assert_int_equal(mmf_read_begin(m, &v), 0);
  assert_int_equal(v.len, 2 * big + 1);
  assert_true(fed_bytes(v.data, big));
  assert_int_equal(((const uint8_t *)v.data)[big], '|');
  assert_true(fed_bytes((const uint8_t *)v.data + big + 1, big));
  assert_int_equal(mmf_read_end(m, &v), 0);
  mmf_close(m);
  mmf_remove(n);
}

/* What does not fit publishes nothing; `len` bounds what is read; an
 * empty content takes no separator; from a regular file at its offset. */
static void append_fd_limits(void **s) {
  (void)s;
  const char *n = tname("st-lim");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 100, 0, 0600, &m), 0);
  char path[] = "/var/tmp/mmftest-app-XXXXXX";
  int fd = mkstemp(path);
  unlink(path);
  char text[200];
  for (int i = 0; i < 200; i++)
    text[i] = (char)('a' + i % 26);
  assert_int_equal(write(fd, text, 200), 200);
  assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
  size_t got = 7;
  uint64_t seq = 0;
  /* Empty: no separator; 60 bytes of the file. */
  assert_int_equal(mmf_append_fd_seq(m, fd, 60, "--", 2, &got, &seq), 0);
  assert_int_equal(got, 60);
  assert_int_equal(seq, 1);
  /* 40 more do not fit after "--": nothing. */
  got = 7;
  assert_int_equal(mmf_append_fd(m, fd, 40, "--", 2, &got), -MMF_ETOOBIG);
  assert_int_equal(got, 7);
  char buf[128];
  size_t len;
  assert_int_equal(mmf_read(m, buf, sizeof buf, &len, &seq), 0);
  assert_int_equal(len, 60);
  assert_int_equal(seq, 1);
  assert_memory_equal(buf, text, 60);
  /* Exactly what fits, from where the file's offset is (past the 40
   * bytes the refused call read), then a full map that takes nothing more
   * but an empty input. */
  assert_int_equal(lseek(fd, 100, SEEK_SET), 100);
  assert_int_equal(mmf_append_fd(m, fd, SIZE_MAX, "--", 2, &got), -MMF_ETOOBIG);
  assert_int_equal(lseek(fd, 100, SEEK_SET), 100);
  assert_int_equal(mmf_append_fd(m, fd, 38, "--", 2, &got), 0);
  assert_int_equal(got, 38);
  assert_int_equal(mmf_read(m, buf, sizeof buf, &len, NULL), 0);
  assert_int_equal(len, 100);
  assert_memory_equal(buf + 60, "--", 2);
  assert_memory_equal(buf + 62, text + 100, 38);
  /* An append as any other: a follower of the first 60 bytes gets the
   * tail only. */
  assert_int_equal(mmf_read_since(m, 1, 60, buf, sizeof buf, &len, &seq), 0);
  assert_int_equal(len, 40);
  assert_int_equal(seq, 2);
  assert_memory_equal(buf, "--", 2);
  assert_int_equal(lseek(fd, 200, SEEK_SET), 200);
  assert_int_equal(mmf_append_fd(m, fd, SIZE_MAX, NULL, 0, &got), 0);
  assert_int_equal(got, 0);
  assert_int_equal(mmf_append_fd(m, -1, 1, NULL, 0, &got), -EINVAL);
  close(fd);
  mmf_close(m);
  mmf_remove(n);
  mmf_t *raw;
  n = tname("st-raw");
  assert_int_equal(mmf_create(n, 100, MMF_RAW, 0600, &raw), 0);
  assert_int_equal(mmf_append_fd(raw, 0, 1, NULL, 0, NULL), -MMF_ERAW);
  mmf_close(raw);
  mmf_remove(n);
}

/* ---- storage a stream reserved and did not fill is given back ---- */

/* 100 bytes from a pipe cost a page or so of storage, not the chunk
 * reserved ahead of them (8 MiB before 1.2); pages another write filled
 * before (which its handle trusts) stay. */
static void a_short_stream_gives_back_its_reservation(void **s) {
  (void)s;
  const char *n = tname("st-give");
  mmf_t *m, *other;
  assert_int_equal(mmf_create(n, 64 * MiB, 0, 0600, &m), 0);
  uint64_t empty = blocks_of(m);
  int p[2];
  for (int k = 0; k < 2; k++) {
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    pid_t f = feed(p[1], 100);
    size_t got;
    if (k == 0)
      assert_int_equal(mmf_write_fd(m, p[0], 64 * MiB, &got), 0);
    else
      assert_int_equal(mmf_append_fd(m, p[0], SIZE_MAX, NULL, 0, &got), 0);
    close(p[0]);
    assert_int_equal(reap(f, 10000), 0);
    assert_int_equal(got, 100);
    printf("# %s of 100 bytes from a pipe: %llu KiB of storage\n",
           k ? "mmf_append_fd" : "mmf_write_fd",
           (unsigned long long)(blocks_of(m) - empty) >> 10);
    assert_true(blocks_of(m) - empty <= 3 * 4096);
  }
  /* Another handle fills 16 MiB of both slots; a short stream into either
   * slot then leaves those pages where they were. */
  assert_int_equal(mmf_open(n, 0, &other), 0);
  uint8_t *big = calloc(1, 16 * MiB);
  assert_int_equal(mmf_write(other, big, 16 * MiB), 0);
  assert_int_equal(mmf_write(other, big, 16 * MiB), 0);
  uint64_t full = blocks_of(m);
  assert_true(full >= 32 * MiB);
  for (int k = 0; k < 2; k++) {
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    pid_t f = feed(p[1], 100);
    assert_int_equal(mmf_write_fd(m, p[0], 64 * MiB, NULL), 0);
    close(p[0]);
    assert_int_equal(reap(f, 10000), 0);
    assert_int_equal(blocks_of(m), full);
  }
  assert_int_equal(mmf_write(other, big, 16 * MiB), 0);
  free(big);
  mmf_close(other);
  mmf_close(m);
  mmf_remove(n);
}

/* A review's case: a read into a shared ">>" log that fails (EFBIG here,
 * ENOSPC in life) while another process appends lines to it: the failed
 * call took the file's size for what it had written and cut the other's
 * lines.  Each must survive. */
static void a_failed_read_keeps_what_another_appender_wrote(void **state) {
  (void)state;
  char path[] = "/tmp/mmftest-logXXXXXX";
  int init = mkstemp(path);
  assert_true(init >= 0);
  assert_int_equal(write(init, "HEAD\n", 5), 5);
  close(init);
  const char *n = tname("efcut");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 1 << 20, 0, 0, &m), 0);
  char *b = malloc(512 << 10);
  memset(b, 'c', 512 << 10);
  assert_int_equal(mmf_write(m, b, 512 << 10), 0);
  free(b);
  enum { LINES = 3000 };
  int go[2];
  assert_int_equal(pipe(go), 0);
  pid_t app = fork();
  assert_true(app >= 0);
  if (app == 0) {
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    char c;
    if (fd < 0 || read(go[0], &c, 1) != 1)
      _exit(1);
    for (int i = 0; i < LINES; i++) {
      char line[16];
      snprintf(line, sizeof line, "OTHER-%06d\n", i);
      if (write(fd, line, 13) != 13)
        _exit(2);
      if (i % 4 == 0)
        usleep(20);
    }
    _exit(0);
  }
  signal(SIGXFSZ, SIG_IGN);
  struct rlimit rl = {1, RLIM_INFINITY}; /* every write of ours: EFBIG */
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
  int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
  assert_true(fd >= 0);
  assert_int_equal(write(go[1], "g", 1), 1);
  int calls = 0, st;
  while (waitpid(app, &st, WNOHANG) != app) {
    int r = mmf_read_fd(m, fd, NULL, NULL);
    assert_true(r == -EFBIG || r == -MMF_EOVERTAKEN);
    calls++;
  }
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  rl.rlim_cur = RLIM_INFINITY;
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
  struct stat sb;
  assert_int_equal(fstat(fd, &sb), 0);
  printf("# %d failed reads beside %d appended lines\n", calls, LINES);
  assert_int_equal(sb.st_size, 5 + 13 * LINES);
  close(fd);
  unlink(path);
  close(go[0]);
  close(go[1]);
  mmf_close(m);
  mmf_remove(n);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      T(read_fd_into_a_files_end_keeps_one_content),
      T(an_overtaken_read_into_a_files_end_takes_back_what_it_wrote),
      T(a_killed_reader_leaves_a_prefix_of_one_content),
      T(a_failed_read_into_a_files_end_leaves_it_as_it_was),
      T(a_failed_read_keeps_what_another_appender_wrote),
      T(append_fd_from_a_pipe_in_bounded_memory),
      T(append_fd_limits),
      T(a_short_stream_gives_back_its_reservation),
  };
  return run_cases("stream", tests, NULL, NULL);
}
