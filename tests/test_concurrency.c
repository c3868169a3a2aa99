/* SPDX-License-Identifier: MIT */
/* Many writers and readers on one map; writers killed mid-write. */
#include "util.h"

#include "internal.h"

#define CAP (64 * 1024)

struct hammer {
  const char *name;
  int seconds_ms;
  uint64_t seed;
};

/* Writers publish self-checking payloads of random sizes. */
static int writer(void *arg) {
  struct hammer *h = arg;
  mmf_t *m;
  if (mmf_open(h->name, 0, &m) < 0)
    return 10;
  uint8_t *buf = malloc(CAP);
  uint64_t seed = h->seed ^ (uint64_t)getpid() * 0x9e3779b97f4a7c15ull;
  int64_t end = now_ns() + (int64_t)h->seconds_ms * 1000000;
  unsigned n = 0;
  while (now_ns() < end) {
    size_t len = make_payload(buf, 24 + rnd(&seed) % (CAP - 24), n++, &seed);
    if (mmf_write(m, buf, len) < 0)
      return 11;
  }
  free(buf);
  mmf_close(m);
  return n > 10 ? 0 : 12;
}

/* Readers check every content they get: a torn read fails the test. */
static int reader(void *arg) {
  struct hammer *h = arg;
  mmf_t *m;
  if (mmf_open(h->name, 0, &m) < 0)
    return 20;
  uint8_t *buf = malloc(CAP);
  int64_t end = now_ns() + (int64_t)h->seconds_ms * 1000000;
  unsigned reads = 0;
  uint64_t last = 0;
  while (now_ns() < end) {
    size_t len;
    uint64_t seq;
    if (mmf_read(m, buf, CAP, &len, &seq) < 0)
      return 21;
    if (seq < last)
      return 22; /* went back in time */
    last = seq;
    if (seq && !check_payload(buf, len))
      return 23; /* torn */
    reads++;
  }
  free(buf);
  mmf_close(m);
  return reads > 10 ? 0 : 24;
}

static void hammer(void **s) {
  (void)s;
  struct hammer h = {.name = tname("hammer"), .seconds_ms = 1500, .seed = 42};
  mmf_t *m;
  assert_int_equal(mmf_create(h.name, CAP, 0, 0, &m), 0);
  pid_t kids[6];
  for (int i = 0; i < 3; i++)
    kids[i] = spawn(writer, &h);
  for (int i = 3; i < 6; i++)
    kids[i] = spawn(reader, &h);
  for (int i = 0; i < 6; i++)
    assert_int_equal(reap(kids[i], 20000), 0);
  size_t len;
  uint8_t *buf = malloc(CAP);
  assert_int_equal(mmf_read(m, buf, CAP, &len, NULL), 0);
  assert_true(check_payload(buf, len));
  free(buf);
  mmf_close(m);
  mmf_remove(h.name);
}

/* Large contents so that a kill lands inside the copy. */
#define BIG (4 << 20)

/* The writer says when it is writing, so a kill is not spent on start-up. */

static int big_writer(void *arg) {
  mmf_t *m;
  if (mmf_open(arg, 0, &m) < 0)
    return 10;
  /* Two ready payloads, so that nearly all the time is spent writing. */
  uint8_t *buf[2] = {malloc(BIG), malloc(BIG)};
  size_t len[2];
  uint64_t seed = (uint64_t)getpid();
  for (int i = 0; i < 2; i++)
    len[i] = make_payload(buf[i], BIG / 2 + rnd(&seed) % (BIG / 2), i, &seed);
  for (unsigned n = 0;; n++) {
    if (mmf_write(m, buf[n & 1], len[n & 1]) < 0)
      return 11;
    if (n == 0 && ready[1] >= 0 && write(ready[1], "r", 1) != 1)
      return 12;
  }
}

/* A map of BIG bytes holding one self-checking content of `len` bytes; the
 * buffer (BIG bytes) is the caller's to free. */
static mmf_t *big_map(const char *tag, size_t len, uint64_t seed,
                      const char **ret_name, uint8_t **ret_buf) {
  const char *n = tname(tag);
  mmf_t *m;
  assert_int_equal(mmf_create(n, BIG, 0, 0, &m), 0);
  uint8_t *buf = malloc(BIG);
  len = make_payload(buf, len, 0, &seed);
  assert_int_equal(mmf_write(m, buf, len), 0);
  *ret_name = n;
  *ret_buf = buf;
  return m;
}

static void killed_writers_lose_nothing(void **s) {
  (void)s;
  const char *n;
  uint8_t *buf;
  mmf_t *m = big_map("kill", 1000, 7, &n, &buf);
  uint64_t seed = 7;
  size_t len;
  int64_t worst = 0;
  int mid_write = 0;
  assert_int_equal(pipe(ready), 0);
  for (int round = 0; round < 40; round++) {
    pid_t p = spawn(big_writer, (void *)n);
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    usleep(500 + (useconds_t)(rnd(&seed) % 5000));
    kill(p, SIGKILL);
    usleep(1000);
    /* Did the kill land while it held the writers' lock? */
    if (atomic_load(&m->hdr->wlock))
      mid_write++;
    /* Half the time the dead writer is still a zombie when we go on. */
    if (round % 2)
      waitpid(p, NULL, 0);
    uint64_t seq;
    assert_int_equal(mmf_read(m, buf, BIG, &len, &seq), 0);
    assert_true(check_payload(buf, len));
    /* The next writer goes on at once. */
    int64_t t0 = now_ns();
    len = make_payload(buf, 5000, round, &seed);
    assert_int_equal(mmf_write(m, buf, len), 0);
    int64_t took = now_ns() - t0;
    if (took > worst)
      worst = took;
    uint64_t seq2;
    assert_int_equal(mmf_read(m, buf, BIG, &len, &seq2), 0);
    assert_int_equal(seq2, seq + 1);
    assert_int_equal(len, 5000);
    assert_true(check_payload(buf, len));
    if (!(round % 2))
      waitpid(p, NULL, 0);
  }
  printf("# kills inside a write: %d of 40; longest write after a kill: "
         "%.3f ms\n",
         mid_write, (double)worst / 1e6);
  assert_true(mid_write >= 10);
  assert_true(worst < 500 * 1000000ll);
  close(ready[0]);
  close(ready[1]);
  ready[0] = ready[1] = -1;
  free(buf);
  mmf_close(m);
  mmf_remove(n);
}

/* Two writers that keep writing big contents until stopped. */
static void start_writers(const char *n, pid_t w[2]) {
  w[0] = spawn(big_writer, (void *)n);
  w[1] = spawn(big_writer, (void *)n);
}
static void stop_writers(pid_t w[2]) {
  for (int i = 0; i < 2; i++) {
    kill(w[i], SIGKILL);
    waitpid(w[i], NULL, 0);
  }
}

static int slow_reader(void *arg) {
  mmf_t *m;
  if (mmf_open(arg, 0, &m) < 0)
    return 10;
  uint8_t *buf = malloc(BIG);
  for (int i = 0; i < 20; i++) {
    size_t len;
    if (mmf_read(m, buf, BIG, &len, NULL) < 0 || !check_payload(buf, len))
      return 11;
  }
  free(buf);
  mmf_close(m);
  return 0;
}

static void reads_complete_under_constant_writing(void **s) {
  (void)s;
  const char *n;
  uint8_t *buf;
  mmf_t *m = big_map("busy", BIG, 3, &n, &buf);
  pid_t w[2];
  start_writers(n, w);
  assert_int_equal(reap(spawn(slow_reader, (void *)n), 30000), 0);
  stop_writers(w);
  free(buf);
  mmf_close(m);
  mmf_remove(n);
}

/* mmf_read_fd to a file while writers overtake it: the file must end up
 * holding one whole content every time. */
static void read_fd_under_writers(void **s) {
  (void)s;
  const char *n;
  uint8_t *buf;
  mmf_t *m = big_map("readfd", BIG, 5, &n, &buf);
  pid_t w[2];
  start_writers(n, w);
  char path[] = "/tmp/mmftest-readfd-XXXXXX";
  int fd = mkstemp(path);
  for (int i = 0; i < 20; i++) {
    assert_int_equal(ftruncate(fd, 0), 0);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    size_t got;
    assert_int_equal(mmf_read_fd(m, fd, &got, NULL), 0);
    struct stat st;
    fstat(fd, &st);
    assert_int_equal((size_t)st.st_size, got);
    assert_int_equal(pread(fd, buf, got, 0), (ssize_t)got);
    assert_true(check_payload(buf, got));
  }
  stop_writers(w);
  close(fd);
  unlink(path);
  free(buf);
  mmf_close(m);
  mmf_remove(n);
}

/* The same into a pipe, where the kernel makes the snapshot (a memfd):
 * what comes out is one whole content every time. */
static void read_fd_into_a_pipe_under_writers(void **s) {
  (void)s;
  const char *n;
  uint8_t *buf;
  mmf_t *m = big_map("readpipe", BIG, 6, &n, &buf);
  pid_t w[2];
  start_writers(n, w);
  for (int i = 0; i < 20; i++) {
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t r = fork();
    if (r == 0) {
      close(p[0]);
      _exit(mmf_read_fd(m, p[1], NULL, NULL) == 0 ? 0 : 1);
    }
    close(p[1]);
    size_t got = 0;
    ssize_t k;
    while ((k = read(p[0], buf + got, BIG - got)) > 0)
      got += (size_t)k;
    close(p[0]);
    assert_int_equal(reap(r, 30000), 0);
    assert_true(check_payload(buf, got));
  }
  stop_writers(w);
  free(buf);
  mmf_close(m);
  mmf_remove(n);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      T(hammer),
      T(killed_writers_lose_nothing),
      T(reads_complete_under_constant_writing),
      T(read_fd_under_writers),
      T(read_fd_into_a_pipe_under_writers),
  };
  return run_cases("concurrency", tests, NULL, NULL);
}
