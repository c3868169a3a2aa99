/* SPDX-License-Identifier: MIT */
/* mmf beside the physical limit and its peers, measured in one run.
 *
 *   bench [--quick] [--json FILE] [--plot FILE] [--mmf PATH]
 *
 * Every figure is the median of several repetitions, printed with its
 * min-max and its ratio to the limit (memcpy, raw spin or futex) and to the
 * best peer measured in the same run, because these machines are noisy. */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mmf.h"

extern char **environ;

static int reps = 5;
static bool quick;
static int only; /* 0: every section */
static const char *mmf_path = "build/src/cli/mmf";
static const char *iox_path; /* iox_pingpong, when iceoryx is measured */
static FILE *json;
static int json_n;

/* ---- timing and statistics ---- */

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

struct stat3 {
  double med, min, max;
};

static struct stat3 stats(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_d);
  return (struct stat3){v[n / 2], v[0], v[n - 1]};
}

static double pct(double *v, int n, double p) {
  qsort(v, (size_t)n, sizeof *v, cmp_d);
  int i = (int)(p * (n - 1));
  return v[i];
}

/* One line of the table, and one JSON record.  higher: larger is better. */
static void report(const char *section, const char *what, const char *unit,
                   struct stat3 s, bool higher, double limit, double peer,
                   const char *peer_name) {
  char rl[32] = "", rp[48] = "";
  if (limit > 0)
    snprintf(rl, sizeof rl, "%.2fx", higher ? s.med / limit : limit / s.med);
  if (peer > 0)
    snprintf(rp, sizeof rp, "%.2fx %s", higher ? s.med / peer : peer / s.med,
             peer_name);
  printf("  %-44s %10.3f %-5s [%8.3f - %8.3f]  %-7s %s\n", what, s.med, unit,
         s.min, s.max, rl, rp);
  fflush(stdout);
  if (json)
    fprintf(json,
            "%s\n  {\"section\":\"%s\",\"what\":\"%s\",\"unit\":\"%s\","
            "\"median\":%.6g,\"min\":%.6g,\"max\":%.6g,\"higher_is_better\":%s,"
            "\"vs_limit\":%.6g,\"vs_peer\":%.6g,\"peer\":\"%s\"}",
            json_n++ ? "," : "", section, what, unit, s.med, s.min, s.max,
            higher ? "true" : "false",
            limit > 0 ? (higher ? s.med / limit : limit / s.med) : 0,
            peer > 0 ? (higher ? s.med / peer : peer / s.med) : 0,
            peer_name ? peer_name : "");
}

static void section(const char *title) {
  printf("\n%s\n  %-44s %10s %-5s %-23s %-7s %s\n", title, "", "median", "",
         "[min - max]", "÷limit", "÷best peer");
}

static void die(const char *what, int r) {
  fprintf(stderr, "bench: %s: %s\n", what, r < 0 ? mmf_strerror(r) : "failed");
  exit(1);
}

static void *page_alloc(size_t n) {
  void *p =
      mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    die("mmap", 0);
  memset(p, 0x5a, n);
  return p;
}

static char bname[64];
static const char *mapname(const char *tag) {
  snprintf(bname, sizeof bname, "mmfbench-%s-%d", tag, (int)getpid());
  return bname;
}

/* ---- 1. steady state ---- */

/* Seconds per op of fn, over enough iterations to take ~50 ms. */
static double per_op(void (*fn)(void *, size_t), void *ctx, size_t size) {
  /* Warm: a long-lived process has touched its pages (both slots) before. */
  fn(ctx, size);
  fn(ctx, size);
  size_t iters = 1;
  for (;;) {
    double t = now();
    for (size_t i = 0; i < iters; i++)
      fn(ctx, size);
    double d = now() - t;
    if (d > (quick ? 0.01 : 0.05))
      return d / (double)iters;
    iters *= 4;
  }
}

static uint8_t *src_buf, *dst_buf;
static void op_memcpy(void *ctx, size_t n) {
  (void)ctx;
  memcpy(dst_buf, src_buf, n);
  __asm__ volatile("" ::: "memory");
}
static void op_write(void *ctx, size_t n) {
  mmf_write(ctx, src_buf, n);
}
static void op_read(void *ctx, size_t n) {
  size_t len;
  mmf_read(ctx, dst_buf, n, &len, NULL);
}
static void op_write_read(void *ctx, size_t n) {
  op_write(ctx, n);
  op_read(ctx, n);
}

static void steady(void) {
  section("1. steady state, one process holding the map");
  size_t sizes[] = {64, 4096, 1 << 20, 64 << 20};
  mmf_t *m;
  int r = mmf_create(mapname("steady"), 64 << 20, 0, 0, &m);
  if (r < 0)
    die("create", r);
  for (size_t k = 0; k < 4; k++) {
    size_t n = sizes[k];
    double mc[16], w[16], rd[16];
    for (int i = 0; i < reps; i++) {
      mc[i] = (double)n / per_op(op_memcpy, NULL, n) / 1e9;
      w[i] = (double)n / per_op(op_write, m, n) / 1e9;
      rd[i] = (double)n / per_op(op_read, m, n) / 1e9;
    }
    struct stat3 smc = stats(mc, reps);
    char what[64];
    snprintf(what, sizeof what, "memcpy %zu B (the limit)", n);
    report("steady", what, "GB/s", smc, true, 0, 0, NULL);
    snprintf(what, sizeof what, "mmf_write %zu B", n);
    report("steady", what, "GB/s", stats(w, reps), true, smc.med, 0, NULL);
    snprintf(what, sizeof what, "mmf_read %zu B", n);
    report("steady", what, "GB/s", stats(rd, reps), true, smc.med, 0, NULL);
  }
  double wr[16], mc[16];
  for (int i = 0; i < reps; i++) {
    wr[i] = per_op(op_write_read, m, 64) * 1e9;
    mc[i] = per_op(op_memcpy, NULL, 64) * 2e9;
  }
  struct stat3 smc = stats(mc, reps);
  report("steady", "mmf_write + mmf_read of 64 B", "ns", stats(wr, reps), false,
         smc.med, 0, NULL);
  mmf_close(m);
  mmf_remove(bname);
}

/* ---- 2. streams between two long-lived processes ---- */

#define STREAM (64u << 20)

static uint64_t sum64(const uint8_t *p, size_t n) {
  const uint64_t *q = (const uint64_t *)p;
  uint64_t s = 0;
  for (size_t i = 0; i < n / 8; i++)
    s += q[i];
  return s;
}

static int xfer_full(int fd, void *p, size_t n, bool wr) {
  uint8_t *b = p;
  while (n) {
    ssize_t k = wr ? write(fd, b, n) : read(fd, b, n);
    if (k <= 0) {
      if (k < 0 && errno == EINTR)
        continue;
      return -1;
    }
    b += k;
    n -= (size_t)k;
  }
  return 0;
}

/* GB/s of `count` 64 MiB messages over a pipe or socket pair, the reader
 * touching every byte. */
static double stream_fd(bool sock, int count) {
  int fds[2], ackp[2];
  if (pipe(ackp) < 0)
    die("pipe", 0);
  if (sock)
    socketpair(AF_UNIX, SOCK_STREAM, 0, fds);
  else {
    if (pipe(fds) < 0)
      die("pipe", 0);
    fcntl(fds[0], F_SETPIPE_SZ, 1 << 20);
  }
  if (sock) {
    int sz = 4 << 20;
    setsockopt(fds[0], SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
  }
  pid_t p = fork();
  if (p == 0) {
    close(fds[1]);
    uint8_t *b = page_alloc(STREAM);
    volatile uint64_t s = 0;
    for (int i = 0; i < count; i++) {
      xfer_full(fds[0], b, STREAM, false);
      s += sum64(b, STREAM);
    }
    char ack = 1;
    if (write(ackp[1], &ack, 1) < 0)
      _exit(1);
    (void)s; /* the sums only keep the reads */
    _exit(0);
  }
  close(fds[0]);
  double t = now();
  for (int i = 0; i < count; i++)
    xfer_full(fds[1], src_buf, STREAM, true);
  char ack;
  if (read(ackp[0], &ack, 1) != 1)
    die("stream ack", 0);
  double d = now() - t;
  waitpid(p, NULL, 0);
  close(fds[1]);
  close(ackp[0]);
  close(ackp[1]);
  return (double)count * STREAM / d / 1e9;
}

/* The same over an mmf map: the writer publishes, the reader waits for
 * each seq, reads (copy or in place), touches every byte and answers with
 * the seq it consumed in a second map. */
static double stream_mmf(bool zero_copy, int count) {
  char data[64], ack[64];
  snprintf(data, sizeof data, "mmfbench-sd-%d", (int)getpid());
  snprintf(ack, sizeof ack, "mmfbench-sa-%d", (int)getpid());
  mmf_t *m, *a;
  if (mmf_create(data, STREAM, 0, 0, &m) < 0 ||
      mmf_create(ack, 64, 0, 0, &a) < 0)
    die("create", 0);
  /* Two contents more than counted: they fill both slots once, as a
   * long-lived writer and reader have (the first touch of shared pages is
   * what a one-shot transfer pays, section 3). */
  int total = count + 2;
  pid_t p = fork();
  if (p == 0) {
    uint8_t *b = zero_copy ? NULL : page_alloc(STREAM);
    volatile uint64_t s = 0;
    uint64_t seq = 0;
    for (int i = 0; i < total; i++) {
      mmf_wait(m, seq, -1, &seq);
      if (zero_copy) {
        struct mmf_read_view v;
        mmf_read_begin(m, &v);
        s += sum64(v.data, v.len);
        if (mmf_read_end(m, &v) < 0)
          _exit(3);
      } else {
        size_t len;
        mmf_read(m, b, STREAM, &len, NULL);
        s += sum64(b, len);
      }
      mmf_write(a, &seq, sizeof seq);
    }
    (void)s; /* the sums only keep the reads */
    _exit(0);
  }
  /* Zero-copy overlaps the two sides: the producer fills content i in the
   * free slot while the consumer still reads content i-1 in the other, and
   * publishes i once i-1 is consumed.  mmf_write copies and publishes in
   * one call, so there the producer waits for each content to be consumed
   * (a reader that fell behind would skip contents, not queue them). */
  double t = now();
  uint64_t acked = 0;
  for (int i = 0; i < total; i++) {
    if (i == 2) { /* the warm-up: contents 0 and 1 consumed */
      mmf_wait(a, 1, -1, &acked);
      t = now();
    }
    if (zero_copy) {
      if (i >= 2) /* content i-2, whose slot we fill, was consumed */
        mmf_wait(a, (uint64_t)i - 2, -1, &acked);
      struct mmf_write_loan w;
      mmf_write_begin(m, STREAM, &w);
      memcpy(w.data, src_buf, STREAM); /* the producer makes its data here */
      if (i >= 1) /* content i-1 was consumed: publishing i skips nothing */
        mmf_wait(a, (uint64_t)i - 1, -1, &acked);
      mmf_write_commit(m, &w, STREAM);
    } else {
      mmf_write(m, src_buf, STREAM);
      mmf_wait(a, (uint64_t)i, -1, &acked);
    }
  }
  mmf_wait(a, (uint64_t)total - 1, -1, &acked);
  double d = now() - t;
  waitpid(p, NULL, 0);
  mmf_close(m);
  mmf_close(a);
  mmf_remove(data);
  mmf_remove(ack);
  return (double)count * STREAM / d / 1e9;
}

static void streams(void) {
  section("2. a stream of 64 MiB contents between two long-lived processes");
  int count = quick ? 4 : 16;
  double mc[16], cp[16], zc[16], so[16], pi[16];
  for (int i = 0; i < reps; i++) {
    mc[i] = (double)STREAM / per_op(op_memcpy, NULL, STREAM) / 1e9;
    cp[i] = stream_mmf(false, count);
    zc[i] = stream_mmf(true, count);
    so[i] = stream_fd(true, count);
    pi[i] = stream_fd(false, count);
  }
  struct stat3 smc = stats(mc, reps), sso = stats(so, reps),
               spi = stats(pi, reps);
  double best = sso.med > spi.med ? sso.med : spi.med;
  const char *bn = sso.med > spi.med ? "unix socket" : "pipe";
  report("stream", "memcpy 64 MiB (one copy, the limit)", "GB/s", smc, true, 0,
         0, NULL);
  report("stream", "unix socket (4 MiB buffers)", "GB/s", sso, true, smc.med, 0,
         NULL);
  report("stream", "pipe (1 MiB buffer)", "GB/s", spi, true, smc.med, 0, NULL);
  report("stream", "mmf copy API (mmf_write/mmf_read)", "GB/s", stats(cp, reps),
         true, smc.med, best, bn);
  report("stream", "mmf zero-copy (write_begin/read_begin)", "GB/s",
         stats(zc, reps), true, smc.med, sso.med, "unix socket");
}

/* ---- 3 and 5. whole processes ---- */

/* Run argv with stdin from `in` and stdout to `out` (NULL: /dev/null);
 * returns its exit status. */
static int run(char *const argv[], const char *in, const char *out) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (in)
    posix_spawn_file_actions_addopen(&fa, 0, in, O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out ? out : "/dev/null",
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t p;
  if (posix_spawnp(&p, argv[0], &fa, NULL, argv, environ) != 0)
    return -1;
  posix_spawn_file_actions_destroy(&fa);
  int st;
  waitpid(p, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Run argv with its standard output into a pipe that we read and drop, as
 * a consumer of its output would. */
static int run_drain(char *const argv[]) {
  int p[2];
  if (pipe(p) < 0)
    return -1;
  fcntl(p[0], F_SETPIPE_SZ, 1 << 20);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, p[1], 1);
  posix_spawn_file_actions_addclose(&fa, p[0]);
  pid_t pid;
  if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0)
    return -1;
  posix_spawn_file_actions_destroy(&fa);
  close(p[1]);
  static uint8_t sink[1 << 20];
  while (read(p[0], sink, sizeof sink) > 0)
    ;
  close(p[0]);
  int st;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char self_path[4096];

static void oneshot(void) {
  section("3. one-shot transfer of 64 MiB between fresh processes");
  const char *src = "/dev/shm/mmfbench-src";
  int fd = open(src, O_CREAT | O_TRUNC | O_WRONLY, 0600);
  if (xfer_full(fd, src_buf, STREAM, true) < 0)
    die("source", 0);
  close(fd);
  char *mm = (char *)mmf_path;
  const char *n = mapname("oneshot");
  char nn[64];
  snprintf(nn, sizeof nn, "%s", n);
  double cli[16], capi[16], shm[16], py[16], cat[16];
  for (int i = 0; i < reps; i++) {
    /* a /dev/shm file: cp then cat */
    double t = now();
    run((char *[]){"cp", (char *)src, "/dev/shm/mmfbench-dst", NULL}, NULL,
        NULL);
    run((char *[]){"cat", "/dev/shm/mmfbench-dst", NULL}, NULL, NULL);
    shm[i] = STREAM / (now() - t) / 1e9;
    unlink("/dev/shm/mmfbench-dst");
    /* the mmf command */
    run((char *[]){mm, "new", nn, "--size", "64M", NULL}, NULL, NULL);
    t = now();
    if (run((char *[]){mm, "write", nn, NULL}, src, NULL) != 0)
      die("mmf write", 0);
    run((char *[]){mm, "read", nn, NULL}, NULL, NULL);
    cli[i] = STREAM / (now() - t) / 1e9;
    mmf_remove(nn);
    /* the C API in two fresh processes */
    t = now();
    run((char *[]){self_path, "--oneshot-write", nn, (char *)src, NULL}, NULL,
        NULL);
    run((char *[]){self_path, "--oneshot-read", nn, NULL}, NULL, NULL);
    capi[i] = STREAM / (now() - t) / 1e9;
    mmf_remove(nn);
    /* Python's SharedMemory */
    char code_w[512], code_r[512];
    snprintf(code_w, sizeof code_w,
             "from multiprocessing import shared_memory as s, "
             "resource_tracker as r\n"
             "d=open('%s','rb').read()\n"
             "m=s.SharedMemory(name='%s-py',create=True,size=len(d))\n"
             "m.buf[:len(d)]=d\nr.unregister(m._name,'shared_memory')\n"
             "m.close()\n",
             src, nn);
    snprintf(code_r, sizeof code_r,
             "from multiprocessing import shared_memory as s, "
             "resource_tracker as r\n"
             "m=s.SharedMemory(name='%s-py')\nd=bytes(m.buf)\n"
             "r.unregister(m._name,'shared_memory')\nm.close()\nm.unlink()\n",
             nn);
    t = now();
    run((char *[]){"python3", "-c", code_w, NULL}, NULL, NULL);
    run((char *[]){"python3", "-c", code_r, NULL}, NULL, NULL);
    py[i] = STREAM / (now() - t) / 1e9;
    /* the floor: cat alone */
    t = now();
    run((char *[]){"cat", (char *)src, NULL}, NULL, NULL);
    cat[i] = STREAM / (now() - t) / 1e9;
  }
  unlink(src);
  struct stat3 sshm = stats(shm, reps), spy = stats(py, reps);
  report("oneshot", "/dev/shm file (cp, then cat)", "GB/s", sshm, true, 0, 0,
         NULL);
  report("oneshot", "Python SharedMemory (2 python3 processes)", "GB/s", spy,
         true, 0, 0, NULL);
  report("oneshot", "mmf write < f, then mmf read", "GB/s", stats(cli, reps),
         true, 0, sshm.med, "/dev/shm file");
  report("oneshot", "  ... ratio to Python SharedMemory", "GB/s",
         stats(cli, reps), true, 0, spy.med, "python");
  report("oneshot", "C API (mmf_create+write, mmf_open+read)", "GB/s",
         stats(capi, reps), true, 0, sshm.med, "/dev/shm file");
  report("oneshot", "cat f alone (one process, for scale)", "GB/s",
         stats(cat, reps), true, 0, 0, NULL);
}

static int oneshot_write(const char *name, const char *src) {
  int fd = open(src, O_RDONLY);
  struct stat st;
  fstat(fd, &st);
  mmf_t *m;
  if (mmf_create(name, (size_t)st.st_size, 0, 0, &m) < 0)
    return 1;
  struct mmf_write_loan w;
  mmf_write_begin(m, (size_t)st.st_size, &w);
  xfer_full(fd, w.data, (size_t)st.st_size, false);
  mmf_write_commit(m, &w, (size_t)st.st_size);
  mmf_close(m);
  return 0;
}

static int oneshot_read(const char *name) {
  mmf_t *m;
  if (mmf_open(name, 0, &m) < 0)
    return 1;
  void *d;
  size_t len;
  if (mmf_read_alloc(m, &d, &len, NULL) < 0)
    return 1;
  volatile uint64_t s = sum64(d, len);
  (void)s;
  free(d);
  mmf_close(m);
  return 0;
}

static void whole_process(void) {
  section("5. reading 100 bytes as a whole process");
  const char *n = mapname("small");
  char nn[64];
  snprintf(nn, sizeof nn, "%s", n);
  mmf_t *m;
  mmf_create(nn, 100, 0, 0, &m);
  mmf_write(m, src_buf, 100);
  int fd = open("/dev/shm/mmfbench-100", O_CREAT | O_TRUNC | O_WRONLY, 0600);
  xfer_full(fd, src_buf, 100, true);
  close(fd);
  int n_runs = quick ? 20 : 200;
  double tr[512], tc[512], tt[512];
  for (int i = 0; i < n_runs; i++) {
    double t = now();
    run((char *[]){"true", NULL}, NULL, NULL);
    tt[i] = (now() - t) * 1e3;
    t = now();
    run((char *[]){"cat", "/dev/shm/mmfbench-100", NULL}, NULL, NULL);
    tc[i] = (now() - t) * 1e3;
    t = now();
    run((char *[]){(char *)mmf_path, "read", nn, NULL}, NULL, NULL);
    tr[i] = (now() - t) * 1e3;
  }
  struct stat3 st = stats(tt, n_runs), sc = stats(tc, n_runs);
  report("process", "/bin/true (the floor)", "ms", st, false, 0, 0, NULL);
  report("process", "cat of a 100-byte /dev/shm file", "ms", sc, false, st.med,
         0, NULL);
  report("process", "mmf read of a 100-byte content", "ms", stats(tr, n_runs),
         false, st.med, sc.med, "cat");
  unlink("/dev/shm/mmfbench-100");
  mmf_close(m);
  mmf_remove(nn);
}

/* ---- 4. ping-pong ---- */

struct shared_pp {
  _Atomic uint32_t word;
  _Atomic uint32_t pad[15];
};

static void pin(int cpu) {
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(cpu, &s);
  sched_setaffinity(0, sizeof s, &s);
}

static long futex(_Atomic uint32_t *w, int op, uint32_t v) {
  return syscall(SYS_futex, (uint32_t *)w, op, v, NULL, NULL, 0);
}

enum pp_kind { PP_SPIN, PP_FUTEX, PP_PIPE, PP_MMF };

/* Round-trip times in microseconds; n of them into out. */
static void pingpong(enum pp_kind k, int cpu_a, int cpu_b, int n, double *out) {
  struct shared_pp *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  int ab[2], ba[2];
  if (pipe(ab) < 0 || pipe(ba) < 0)
    die("pipe", 0);
  char nm[64];
  snprintf(nm, sizeof nm, "mmfbench-pp-%d", (int)getpid());
  mmf_t *m = NULL;
  if (k == PP_MMF && mmf_create(nm, 64, 0, 0, &m) < 0)
    die("create", 0);
  int warm = n / 10;
  pid_t p = fork();
  if (p == 0) {
    pin(cpu_b);
    uint64_t seq = 0;
    char c;
    for (int i = 0; i < n + warm; i++) {
      uint32_t want = 2 * (uint32_t)i + 1;
      switch (k) {
      case PP_SPIN:
        while (atomic_load(&sh->word) != want)
          ;
        atomic_store(&sh->word, want + 1);
        break;
      case PP_FUTEX:
        while (atomic_load(&sh->word) != want)
          futex(&sh->word, FUTEX_WAIT, want - 1);
        atomic_store(&sh->word, want + 1);
        futex(&sh->word, FUTEX_WAKE, 1);
        break;
      case PP_PIPE:
        if (read(ab[0], &c, 1) != 1 || write(ba[1], &c, 1) != 1)
          _exit(1);
        break;
      case PP_MMF:
        mmf_wait(m, seq, -1, &seq);
        mmf_write(m, &i, sizeof i);
        seq++;
        break;
      }
    }
    _exit(0);
  }
  pin(cpu_a);
  uint64_t seq = 0;
  for (int i = 0; i < n + warm; i++) {
    double t = now();
    uint32_t v = 2 * (uint32_t)i + 1;
    char c = 'x';
    switch (k) {
    case PP_SPIN:
      atomic_store(&sh->word, v);
      while (atomic_load(&sh->word) != v + 1)
        ;
      break;
    case PP_FUTEX:
      atomic_store(&sh->word, v);
      futex(&sh->word, FUTEX_WAKE, 1);
      while (atomic_load(&sh->word) != v + 1)
        futex(&sh->word, FUTEX_WAIT, v);
      break;
    case PP_PIPE:
      if (write(ab[1], &c, 1) != 1 || read(ba[0], &c, 1) != 1)
        die("pipe", 0);
      break;
    case PP_MMF:
      mmf_write(m, &i, sizeof i);
      seq++;
      mmf_wait(m, seq, -1, &seq);
      break;
    }
    if (i >= warm)
      out[i - warm] = (now() - t) * 1e6;
  }
  waitpid(p, NULL, 0);
  cpu_set_t all;
  CPU_ZERO(&all);
  for (int c = 0; c < CPU_SETSIZE; c++)
    CPU_SET(c, &all);
  sched_setaffinity(0, sizeof all, &all);
  munmap(sh, 4096);
  close(ab[0]);
  close(ab[1]);
  close(ba[0]);
  close(ba[1]);
  if (m) {
    mmf_close(m);
    mmf_remove(nm);
  }
}

static void pp_report(const char *what, enum pp_kind k, int a, int b,
                      double limit, double peer, const char *pn,
                      double *ret_p50) {
  int n = quick ? 2000 : 20000;
  double *v = malloc(sizeof *v * (size_t)n);
  double p50[16], p99[16];
  for (int i = 0; i < reps; i++) {
    pingpong(k, a, b, n, v);
    p50[i] = pct(v, n, 0.5);
    p99[i] = pct(v, n, 0.99);
  }
  free(v);
  char w[96];
  struct stat3 s50 = stats(p50, reps);
  snprintf(w, sizeof w, "%s p50", what);
  report("pingpong", w, "us", s50, false, limit, peer, pn);
  snprintf(w, sizeof w, "%s p99", what);
  report("pingpong", w, "us", stats(p99, reps), false, 0, 0, NULL);
  if (ret_p50)
    *ret_p50 = s50.med;
}

/* iceoryx's round trip: its two processes, pinned like ours; p50 and p99 in
 * microseconds, or -1. */
static int iox_round(bool wait, int cpu_a, int cpu_b, int n, double *p50,
                     double *p99) {
  char rounds[16], ca[8], cb[8], tag[32];
  static int k;
  snprintf(rounds, sizeof rounds, "%d", n);
  snprintf(ca, sizeof ca, "%d", cpu_a);
  snprintf(cb, sizeof cb, "%d", cpu_b);
  snprintf(tag, sizeof tag, "%d-%d", (int)getpid(), k++);
  char *mode = wait ? "wait" : "poll";
  char *pong[] = {(char *)iox_path, "pong", rounds, mode, cb, tag, NULL};
  char *ping[] = {(char *)iox_path, "ping", rounds, mode, ca, tag, NULL};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t q;
  if (posix_spawn(&q, iox_path, &fa, NULL, pong, environ) != 0)
    return -1;
  char out[] = "/tmp/mmfbench-iox-XXXXXX";
  int fd = mkstemp(out);
  close(fd);
  posix_spawn_file_actions_t fb;
  posix_spawn_file_actions_init(&fb);
  posix_spawn_file_actions_addopen(&fb, 1, out, O_WRONLY | O_TRUNC, 0);
  posix_spawn_file_actions_addopen(&fb, 2, "/dev/null", O_WRONLY, 0);
  pid_t p;
  int st = -1;
  if (posix_spawn(&p, iox_path, &fb, NULL, ping, environ) == 0)
    waitpid(p, &st, 0);
  waitpid(q, NULL, 0);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawn_file_actions_destroy(&fb);
  FILE *f = fopen(out, "r");
  int ok = f && fscanf(f, "%lf %lf", p50, p99) == 2;
  if (f)
    fclose(f);
  unlink(out);
  return ok && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static void iox_report(const char *what, bool wait, int a, int b,
                       double *ret_p50) {
  int n = quick ? 2000 : 20000;
  double p50[16], p99[16];
  for (int i = 0; i < reps; i++)
    if (iox_round(wait, a, b, n, &p50[i], &p99[i]) < 0) {
      printf("  %-44s (iceoryx did not run: is iox-roudi up?)\n", what);
      return;
    }
  char w[96];
  struct stat3 s50 = stats(p50, reps);
  snprintf(w, sizeof w, "%s p50", what);
  report("pingpong", w, "us", s50, false, 0, 0, NULL);
  snprintf(w, sizeof w, "%s p99", what);
  report("pingpong", w, "us", stats(p99, reps), false, 0, 0, NULL);
  *ret_p50 = s50.med;
}

static void pingpongs(void) {
  section("4. ping-pong round trip between two processes");
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  double spin = 0, fut = 0, pip = 0;
  if (ncpu >= 2) {
    pp_report("2 CPUs: raw spin on a shared atomic", PP_SPIN, 0, 1, 0, 0, NULL,
              &spin);
    pp_report("2 CPUs: raw futex", PP_FUTEX, 0, 1, 0, 0, NULL, &fut);
    pp_report("2 CPUs: pipe", PP_PIPE, 0, 1, 0, 0, NULL, &pip);
    double ipoll = 0, iwait = 0;
    if (iox_path) {
      iox_report("2 CPUs: iceoryx, polling", false, 0, 1, &ipoll);
      iox_report("2 CPUs: iceoryx, blocking wait (waitset)", true, 0, 1,
                 &iwait);
    }
    double best = fut < pip ? fut : pip;
    const char *bn = fut < pip ? "futex" : "pipe";
    if (ipoll > 0 && ipoll < best)
      best = ipoll, bn = "iceoryx polling";
    pp_report("2 CPUs: mmf_write + mmf_wait", PP_MMF, 0, 1, spin, best, bn,
              NULL);
  }
  pp_report("1 CPU: raw futex", PP_FUTEX, 0, 0, 0, 0, NULL, &fut);
  pp_report("1 CPU: pipe", PP_PIPE, 0, 0, 0, 0, NULL, &pip);
  pp_report("1 CPU: mmf_write + mmf_wait", PP_MMF, 0, 0, fut, pip, "pipe",
            NULL);
}

/* ---- 6. scanning a cached file ---- */

static void scan(void) {
  section("6. scanning a 1 GiB file in the page cache");
  size_t size = quick ? (256u << 20) : (1u << 30);
  const char *path = "/tmp/mmfbench-scan";
  int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
  for (size_t done = 0; done < size; done += STREAM)
    xfer_full(fd, src_buf, STREAM, true);
  close(fd);
  uint8_t *b = page_alloc(1 << 20);
  double rd[16], mp[16], ct[16], mc[16];
  for (int i = 0; i < reps; i++) {
    double t = now();
    fd = open(path, O_RDONLY);
    volatile uint64_t s = 0;
    ssize_t k;
    while ((k = read(fd, b, 1 << 20)) > 0)
      s += sum64(b, (size_t)k);
    close(fd);
    rd[i] = (double)size / (now() - t) / 1e9;
    t = now();
    mmf_t *m;
    if (mmf_map_file(path, MMF_READONLY | MMF_POPULATE, &m) < 0)
      die("map_file", 0);
    s += sum64(mmf_data(m), mmf_size(m));
    mmf_close(m);
    (void)s; /* the sums only keep the reads */
    mp[i] = (double)size / (now() - t) / 1e9;
    t = now();
    run_drain((char *[]){"cat", (char *)path, NULL});
    ct[i] = (double)size / (now() - t) / 1e9;
    t = now();
    run_drain((char *[]){(char *)mmf_path, "cat", (char *)path, NULL});
    mc[i] = (double)size / (now() - t) / 1e9;
  }
  unlink(path);
  struct stat3 srd = stats(rd, reps), sct = stats(ct, reps);
  report("scan", "read() 1 MiB + checksum", "GB/s", srd, true, 0, 0, NULL);
  report("scan", "mmf_map_file (MMF_POPULATE) + checksum", "GB/s",
         stats(mp, reps), true, 0, srd.med, "read()");
  report("scan", "cat f | reader", "GB/s", sct, true, 0, 0, NULL);
  report("scan", "mmf cat f | reader", "GB/s", stats(mc, reps), true, 0,
         sct.med, "cat");
}

/* ---- 7. creation cost ---- */

static long rss_kib(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long v = -1;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "VmRSS:", 6))
      v = atol(line + 6);
  if (f)
    fclose(f);
  return v;
}

static void creation(void) {
  section("7. creating a map");
  size_t sizes[] = {4096, (size_t)16 << 30};
  const char *names[] = {"4 KiB", "16 GiB"};
  for (int k = 0; k < 2; k++) {
    double t[64];
    int n = quick ? 10 : 50;
    long rss = 0;
    uint64_t blocks = 0;
    for (int i = 0; i < n; i++) {
      long r0 = rss_kib();
      double t0 = now();
      mmf_t *m;
      if (mmf_create(mapname("create"), sizes[k], 0, 0, &m) < 0)
        die("create", 0);
      t[i] = (now() - t0) * 1e6;
      rss = rss_kib() - r0;
      struct stat st;
      char p[128];
      snprintf(p, sizeof p, "/dev/shm/%s", bname);
      stat(p, &st);
      blocks = (uint64_t)st.st_blocks * 512;
      mmf_close(m);
      mmf_remove(bname);
    }
    char w[96];
    snprintf(w, sizeof w, "mmf_create %s: time", names[k]);
    report("create", w, "us", stats(t, n), false, 0, 0, NULL);
    printf("  %-44s %10ld KiB process RSS growth, %llu KiB in /dev/shm\n",
           "  ... memory", rss, (unsigned long long)blocks / 1024);
  }
}

/* ---- 8. appending to a log ---- */

/* A 100-byte append, and an 8-byte write_at, against the content's size:
 * each costs what the bytes cost (the slot it fills holds the content but
 * for the last change), where a whole write of the content costs what the
 * content does. */
static void appends(void) {
  section("8. a 100-byte append and an 8-byte write_at, against the "
          "content's size");
  size_t sizes[] = {64, 4096, 1 << 20, 64 << 20};
  const char *names[] = {"64 B", "4 KiB", "1 MiB", "64 MiB"};
  enum { N = 2000 };
  char rec[100];
  memset(rec, 'r', sizeof rec);
  for (int k = 0; k < 4; k++) {
    size_t n = sizes[k];
    mmf_t *m;
    int r = mmf_create(mapname("append"), n + N * sizeof rec + 4096, 0, 0, &m);
    if (r < 0)
      die("create", r);
    double ap[16], wr[16], pa[16];
    for (int i = 0; i < reps; i++) {
      if ((r = mmf_write(m, src_buf, n)) < 0)
        die("write", r);
      mmf_append(m, rec, sizeof rec, NULL, 0); /* both slots warm */
      mmf_append(m, rec, sizeof rec, NULL, 0);
      double t = now();
      for (int j = 0; j < N - 2; j++)
        mmf_append(m, rec, sizeof rec, NULL, 0);
      ap[i] = (now() - t) / (N - 2) * 1e6;
      /* Patches spread over the content, as a view's writes are. */
      mmf_write_at(m, 0, rec, 8);
      mmf_write_at(m, 8, rec, 8);
      t = now();
      for (int j = 0; j < N - 2; j++)
        mmf_write_at(m, (size_t)j * 4099 % (n - 8), rec, 8);
      pa[i] = (now() - t) / (N - 2) * 1e6;
      wr[i] = per_op(op_write, m, n) * 1e6;
    }
    struct stat3 sw = stats(wr, reps);
    char what[64];
    snprintf(what, sizeof what, "mmf_write of the whole %s", names[k]);
    report("append", what, "us", sw, false, 0, 0, NULL);
    snprintf(what, sizeof what, "mmf_append 100 B to %s", names[k]);
    report("append", what, "us", stats(ap, reps), false, sw.med, 0, NULL);
    snprintf(what, sizeof what, "mmf_write_at 8 B into %s", names[k]);
    report("append", what, "us", stats(pa, reps), false, sw.med, 0, NULL);
    mmf_close(m);
    mmf_remove(bname);
  }
}

/* ---- 10. large maps ---- */

/* Run argv (stdin from `in`, stdout to `out`, NULL: /dev/null) and give
 * its time in s and its max RSS in KiB.  Through this program re-executed
 * (--ru): a child made by vfork or fork is charged the RSS of the process
 * it came from (this one holds 128 MiB of buffers), a grandchild of a
 * fresh small process only its own. */
static double run_ru(char *const argv[], const char *in, const char *out,
                     long *ret_rss) {
  char rfile[] = "/tmp/mmfbench-ru-XXXXXX";
  int rfd = mkstemp(rfile);
  if (rfd < 0)
    die("mkstemp", 0);
  close(rfd);
  char *av[64] = {self_path, "--ru", rfile};
  int n = 3;
  for (int i = 0; argv[i] && n < 63; i++)
    av[n++] = argv[i];
  av[n] = NULL;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (in)
    posix_spawn_file_actions_addopen(&fa, 0, in, O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out ? out : "/dev/null",
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  double t = now();
  pid_t p;
  if (posix_spawn(&p, self_path, &fa, NULL, av, environ) != 0)
    die(argv[0], 0);
  posix_spawn_file_actions_destroy(&fa);
  int st;
  waitpid(p, &st, 0);
  t = now() - t;
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    die(argv[0], 0);
  FILE *f = fopen(rfile, "r");
  if (!f || fscanf(f, "%ld", ret_rss) != 1)
    die("rusage", 0);
  fclose(f);
  unlink(rfile);
  return t;
}

/* --ru FILE CMD...: run CMD, write its max RSS (KiB) into FILE, exit with
 * its status. */
static int ru_main(const char *file, char **argv) {
  pid_t p = fork();
  if (p == 0) {
    execvp(argv[0], argv);
    _exit(127);
  }
  int st;
  struct rusage ru;
  if (p < 0 || wait4(p, &st, 0, &ru) < 0)
    return 1;
  FILE *f = fopen(file, "w");
  if (!f)
    return 1;
  fprintf(f, "%ld\n", ru.ru_maxrss);
  fclose(f);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

/* One row: argv run reps times (after `before`, untimed); time and the
 * largest max RSS. */
struct lrow {
  double t[16];
  long rss;
};

static void large_row(struct lrow *r, int i, char *const argv[], const char *in,
                      const char *out) {
  long rss;
  r->t[i] = run_ru(argv, in, out, &rss);
  if (rss > r->rss)
    r->rss = rss;
}

static void large_report(const char *what, struct lrow *r, double peer,
                         const char *peer_name) {
  report("large", what, "s", stats(r->t, reps), false, 0, peer, peer_name);
  printf("  %-44s %10ld KiB max RSS\n", "", r->rss);
  if (json)
    fprintf(json,
            ",\n  {\"section\":\"large\",\"what\":\"%s: max RSS\","
            "\"unit\":\"KiB\",\"median\":%ld,\"min\":%ld,\"max\":%ld,"
            "\"higher_is_better\":false,\"vs_limit\":0,\"vs_peer\":0,"
            "\"peer\":\"\"}",
            what, r->rss, r->rss, r->rss);
}

/* The C API behind each command, in a process of its own (--large-*). */
static int large_api(const char *op, const char *name, const char *path) {
  mmf_t *m;
  int r;
  if (!strcmp(op, "write")) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || mmf_open(name, 0, &m) < 0)
      return 1;
    r = mmf_write_fd_all(m, fd, NULL);
    close(fd);
  } else if (!strcmp(op, "save")) {
    if (mmf_open(name, MMF_READONLY, &m) < 0)
      return 1;
    r = mmf_save(m, path);
  } else {
    if (mmf_open(name, MMF_READONLY, &m) < 0)
      return 1;
    r = mmf_read_fd(m, 1, NULL, NULL);
  }
  mmf_close(m);
  return r < 0;
}

static void large(void) {
  section("10. a 1 GiB content: write (and append) from a disk file, save, "
          "read to a file and as JSON");
  size_t big = (size_t)1 << 30;
  const char *disk = "/var/tmp/mmfbench-large-src";
  const char *out = "/var/tmp/mmfbench-large-out";
  const char *shm = "/dev/shm/mmfbench-large-cp";
  int fd = open(disk, O_CREAT | O_TRUNC | O_WRONLY, 0600);
  for (size_t done = 0; done < big; done += STREAM)
    if (xfer_full(fd, src_buf, STREAM, true) < 0)
      die("source", 0);
  fsync(fd);
  close(fd);
  char nn[64];
  snprintf(nn, sizeof nn, "%s", mapname("large"));
  char *mm = (char *)mmf_path;
  long rss;
  run_ru((char *[]){mm, "new", nn, "--size", "1025M", NULL}, NULL, NULL, &rss);
  struct lrow cp = {0}, cw = {0}, aw = {0}, ca = {0}, cps = {0}, cs = {0},
              as = {0}, cat = {0}, cr = {0}, ar = {0}, cj = {0};
  /* read --json streams its encoding: through sh, whose children's max RSS
   * wait4 reports with its own. */
  char json_cmd[256];
  snprintf(json_cmd, sizeof json_cmd, "'%s' read '%s' --json | wc -c", mm, nn);
  for (int i = 0; i < reps; i++) {
    large_row(&cp, i, (char *[]){"cp", (char *)disk, (char *)shm, NULL}, NULL,
              NULL);
    unlink(shm);
    /* An append streamed after an empty content: the same bytes. */
    run_ru((char *[]){mm, "write", nn, "", NULL}, NULL, NULL, &rss);
    large_row(&ca, i, (char *[]){mm, "write", nn, "--append", NULL}, disk,
              NULL);
    large_row(&cw, i, (char *[]){mm, "write", nn, NULL}, disk, NULL);
    large_row(&aw, i,
              (char *[]){self_path, "--large", "write", nn, (char *)disk, NULL},
              NULL, NULL);
    /* What a save is compared with: cp of the bytes, then sync of the
     * copy (a save is durable). */
    run_ru((char *[]){"cp", (char *)disk, (char *)shm, NULL}, NULL, NULL, &rss);
    double t = now();
    large_row(&cps, i, (char *[]){"cp", (char *)shm, (char *)out, NULL}, NULL,
              NULL);
    run_ru((char *[]){"sync", (char *)out, NULL}, NULL, NULL, &rss);
    cps.t[i] = now() - t;
    unlink(out);
    large_row(&cs, i, (char *[]){mm, "save", nn, (char *)out, NULL}, NULL,
              NULL);
    unlink(out);
    large_row(&as, i,
              (char *[]){self_path, "--large", "save", nn, (char *)out, NULL},
              NULL, NULL);
    unlink(out);
    large_row(&cat, i, (char *[]){"cat", (char *)shm, NULL}, NULL, out);
    unlink(out);
    unlink(shm);
    large_row(&cr, i, (char *[]){mm, "read", nn, NULL}, NULL, out);
    unlink(out);
    large_row(&ar, i, (char *[]){self_path, "--large", "read", nn, "", NULL},
              NULL, out);
    unlink(out);
    large_row(&cj, i, (char *[]){"sh", "-c", json_cmd, NULL}, NULL, NULL);
  }
  double pcp = stats(cp.t, reps).med, pcps = stats(cps.t, reps).med,
         pcat = stats(cat.t, reps).med;
  large_report("cp disk-file /dev/shm/x", &cp, 0, NULL);
  large_report("mmf write N < disk-file", &cw, pcp, "cp");
  large_report("mmf_write_fd_all (C API)", &aw, pcp, "cp");
  large_report("mmf write --append N < disk-file", &ca, pcp, "cp");
  large_report("cp /dev/shm/x file && sync file", &cps, 0, NULL);
  large_report("mmf save N file", &cs, pcps, "cp+sync");
  large_report("mmf_save (C API)", &as, pcps, "cp+sync");
  large_report("cat /dev/shm/x > file", &cat, 0, NULL);
  large_report("mmf read N > file", &cr, pcat, "cat");
  large_report("mmf_read_fd to a file (C API)", &ar, pcat, "cat");
  large_report("mmf read N --json | wc -c", &cj, stats(cr.t, reps).med, "read");
  /* A fresh handle's append to the 1 GiB content (after one append, which
   * copies the content once: a slot then holds all but the last append). */
  mmf_t *m;
  double ap[64];
  int n = quick ? 10 : 50;
  static const char rec[100];
  if (mmf_open(nn, 0, &m) < 0 || mmf_append(m, rec, sizeof rec, NULL, 0) < 0)
    die("append", 0);
  mmf_close(m);
  for (int i = 0; i < n; i++) {
    double t = now();
    if (mmf_open(nn, 0, &m) < 0 || mmf_append(m, rec, sizeof rec, NULL, 0) < 0)
      die("append", 0);
    mmf_close(m);
    ap[i] = (now() - t) * 1e6;
  }
  report("large", "open + 100-byte append + close, 1 GiB", "us", stats(ap, n),
         false, 0, 0, NULL);
  mmf_remove(nn);
  unlink(disk);
}

/* ---- throughput against payload size, for the plot ---- */

static void sweep(const char *plot) {
  FILE *f = fopen(plot, "w");
  if (!f)
    return;
  fprintf(f, "# bytes memcpy mmf_write+read unix_socket pipe (GB/s)\n");
  mmf_t *m;
  mmf_create(mapname("sweep"), 64 << 20, 0, 0, &m);
  for (size_t n = 64; n <= (64u << 20); n *= 4) {
    double mc = (double)n / per_op(op_memcpy, NULL, n) / 1e9;
    double wr = (double)n / per_op(op_write_read, m, n) / 1e9;
    /* one process writes n bytes and reads them back through the kernel */
    double so = 0, pi = 0;
    for (int s = 0; s < 2; s++) {
      int fds[2];
      if (s == 0)
        socketpair(AF_UNIX, SOCK_STREAM, 0, fds);
      else if (pipe(fds) < 0)
        continue;
      int sz = 4 << 20;
      if (s == 0) {
        setsockopt(fds[0], SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
        setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
      } else {
        fcntl(fds[0], F_SETPIPE_SZ, 1 << 20);
      }
      size_t chunk = n < (512u << 10) ? n : (512u << 10);
      size_t iters = n < 4096 ? 20000 : n < (1u << 20) ? 2000 : 8;
      double t = now();
      for (size_t i = 0; i < iters; i++)
        for (size_t d = 0; d < n; d += chunk) {
          xfer_full(fds[1], src_buf + d, chunk, true);
          xfer_full(fds[0], dst_buf + d, chunk, false);
        }
      double g = (double)n * (double)iters / (now() - t) / 1e9;
      if (s == 0)
        so = g;
      else
        pi = g;
      close(fds[0]);
      close(fds[1]);
    }
    fprintf(f, "%zu %.4f %.4f %.4f %.4f\n", n, mc, wr, so, pi);
  }
  mmf_close(m);
  mmf_remove(bname);
  fclose(f);
}

/* ---- 9. event loops ---- */

enum wk_kind { WK_FUTEX, WK_WAIT, WK_EPOLL };
static double wake_futex_p50;

struct wake_sh {
  _Atomic uint32_t word;  /* raw futex */
  _Atomic uint32_t armed; /* the receiver is about to sleep for round i */
  _Atomic double t0;      /* when the sender published round i */
};

/* One-way wake-up of a sleeping receiver on cpu_b by a publication on
 * cpu_a: n latencies in microseconds into out. */
static void wake_lat(enum wk_kind k, int n, double *out) {
  struct wake_sh *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  char nm[64];
  snprintf(nm, sizeof nm, "mmfbench-wake-%d", (int)getpid());
  mmf_t *m = NULL;
  if (k != WK_FUTEX && mmf_create(nm, 64, 0, 0, &m) < 0)
    die("create", 0);
  int res[2];
  if (pipe(res) < 0)
    die("pipe", 0);
  int warm = n / 10;
  pid_t p = fork();
  if (p == 0) {
    pin(1);
    mmf_t *r = NULL;
    int ep = -1;
    if (k != WK_FUTEX && mmf_open(nm, 0, &r) < 0)
      _exit(1);
    if (k == WK_EPOLL) {
      ep = epoll_create1(EPOLL_CLOEXEC);
      struct epoll_event ev = {.events = EPOLLIN};
      if (epoll_ctl(ep, EPOLL_CTL_ADD, mmf_event_fd(r), &ev) < 0)
        _exit(1);
    }
    uint64_t seq = 0;
    for (int i = 0; i < n + warm; i++) {
      struct epoll_event ev;
      atomic_store(&sh->armed, (uint32_t)i + 1);
      switch (k) {
      case WK_FUTEX:
        while (atomic_load(&sh->word) == (uint32_t)i)
          futex(&sh->word, FUTEX_WAIT, (uint32_t)i);
        break;
      case WK_WAIT:
        mmf_wait(r, seq, -1, &seq);
        break;
      case WK_EPOLL:
        while (epoll_wait(ep, &ev, 1, -1) != 1)
          ;
        mmf_event_ack(r, &seq);
        break;
      }
      double d = (now() - atomic_load(&sh->t0)) * 1e6;
      if (i >= warm && write(res[1], &d, sizeof d) != sizeof d)
        _exit(1);
    }
    _exit(0);
  }
  pin(0);
  mmf_t *w = m;
  if (k == WK_EPOLL) {
    /* The poller's first look: a content exists only after this. */
    usleep(20000);
  }
  for (int i = 0; i < n + warm; i++) {
    while (atomic_load(&sh->armed) != (uint32_t)i + 1)
      sched_yield();
    /* Let it fall asleep (past mmf_wait's spin). */
    usleep(200);
    atomic_store(&sh->t0, now());
    if (k == WK_FUTEX) {
      atomic_store(&sh->word, (uint32_t)i + 1);
      futex(&sh->word, FUTEX_WAKE, 1);
    } else {
      mmf_write(w, &i, sizeof i);
    }
  }
  for (int i = 0; i < n; i++)
    if (read(res[0], &out[i], sizeof out[i]) != sizeof out[i])
      die("result", 0);
  waitpid(p, NULL, 0);
  close(res[0]);
  close(res[1]);
  munmap(sh, 4096);
  if (m) {
    mmf_close(m);
    mmf_remove(nm);
  }
  cpu_set_t all;
  CPU_ZERO(&all);
  for (int c = 0; c < CPU_SETSIZE; c++)
    CPU_SET(c, &all);
  sched_setaffinity(0, sizeof all, &all);
}

static void wake_report(const char *what, enum wk_kind k, double limit) {
  int n = quick ? 300 : 2000;
  double *v = malloc(sizeof *v * (size_t)n);
  double p50[16], p99[16];
  for (int i = 0; i < reps; i++) {
    wake_lat(k, n, v);
    p50[i] = pct(v, n, 0.5);
    p99[i] = pct(v, n, 0.99);
  }
  free(v);
  char w[96];
  snprintf(w, sizeof w, "%s p50", what);
  report("events", w, "us", stats(p50, reps), false, limit, 0, NULL);
  snprintf(w, sizeof w, "%s p99", what);
  report("events", w, "us", stats(p99, reps), false, 0, 0, NULL);
  if (k == WK_FUTEX)
    wake_futex_p50 = stats(p50, reps).med;
}

/* A process polling the map `name` (acking each content or never) until
 * killed; returns its pid once its descriptor exists. */
static pid_t poller(const char *name, bool ack) {
  int ok[2];
  if (pipe(ok) < 0)
    die("pipe", 0);
  pid_t p = fork();
  if (p == 0) {
    mmf_t *m;
    if (mmf_open(name, 0, &m) < 0)
      _exit(1);
    int fd = mmf_event_fd(m);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    mmf_event_ack(m, NULL);
    if (write(ok[1], "r", 1) != 1)
      _exit(1);
    for (;;)
      if (epoll_wait(ep, &ev, 1, -1) == 1 && ack)
        mmf_event_ack(m, NULL);
      else if (!ack)
        pause();
  }
  char c;
  if (read(ok[0], &c, 1) != 1)
    die("poller", 0);
  close(ok[0]);
  close(ok[1]);
  return p;
}

static void events(void) {
  section("9. event loops: waking a sleeping reader on another CPU, one way");
  if (sysconf(_SC_NPROCESSORS_ONLN) >= 2) {
    wake_report("2 CPUs: raw futex wake-up", WK_FUTEX, 0);
    wake_report("2 CPUs: mmf_write -> mmf_wait", WK_WAIT, wake_futex_p50);
    wake_report("2 CPUs: mmf_write -> epoll_wait(mmf_event_fd)", WK_EPOLL,
                wake_futex_p50);
  }
  /* The writer's hot path: nobody polls, a poller whose descriptor is
   * readable (it never acknowledges), a poller acknowledging each one. */
  const char *nm = mapname("evhot");
  mmf_t *m;
  if (mmf_create(nm, 64, 0, 0, &m) < 0)
    die("create", 0);
  const char *what[] = {"64 B write+read, nobody polls",
                        "64 B write+read, a poller elsewhere (idle)",
                        "64 B write+read, a poller acking each content"};
  double base = 0;
  for (int c = 0; c < 3; c++) {
    pid_t p = c ? poller(nm, c == 2) : 0;
    double v[16];
    for (int i = 0; i < reps; i++)
      v[i] = per_op(op_write_read, m, 64) * 1e9;
    struct stat3 s = stats(v, reps);
    report("events", what[c], "ns", s, false, base, 0, NULL);
    if (!c)
      base = s.med;
    if (p) {
      kill(p, SIGKILL);
      waitpid(p, NULL, 0);
    }
  }
  mmf_close(m);
  mmf_remove(nm);
}

int main(int argc, char **argv) {
  const char *json_path = NULL, *plot = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--oneshot-write") && i + 2 < argc)
      return oneshot_write(argv[i + 1], argv[i + 2]);
    if (!strcmp(argv[i], "--oneshot-read") && i + 1 < argc)
      return oneshot_read(argv[i + 1]);
    if (!strcmp(argv[i], "--ru") && i + 2 < argc)
      return ru_main(argv[i + 1], argv + i + 2);
    if (!strcmp(argv[i], "--large") && i + 3 < argc)
      return large_api(argv[i + 1], argv[i + 2], argv[i + 3]);
    if (!strcmp(argv[i], "--quick"))
      quick = true, reps = 3;
    else if (!strcmp(argv[i], "--json") && i + 1 < argc)
      json_path = argv[++i];
    else if (!strcmp(argv[i], "--plot") && i + 1 < argc)
      plot = argv[++i];
    else if (!strcmp(argv[i], "--iceoryx") && i + 1 < argc)
      iox_path = argv[++i];
    else if (!strcmp(argv[i], "--only") && i + 1 < argc)
      only = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--mmf") && i + 1 < argc)
      mmf_path = argv[++i];
    else {
      fprintf(stderr, "usage: bench [--quick] [--only N] [--json FILE] "
                      "[--plot FILE] [--mmf PATH] [--iceoryx PATH]\n");
      return 2;
    }
  }
  if (readlink("/proc/self/exe", self_path, sizeof self_path - 1) < 0)
    die("readlink", 0);
  src_buf = page_alloc(64u << 20);
  dst_buf = page_alloc(64u << 20);
  for (size_t i = 0; i < (64u << 20); i++)
    src_buf[i] = (uint8_t)(i * 2654435761u >> 13);
  if (json_path) {
    json = fopen(json_path, "w");
    fprintf(json, "{\"machine\":{\"cpus\":%ld},\"results\":[",
            sysconf(_SC_NPROCESSORS_ONLN));
  }
  printf("mmf %s benchmark, %d repetitions each (median [min - max]); "
         "÷limit and ÷best peer: >1 is better\n",
         mmf_version(), reps);
  void (*sections[])(void) = {steady,        streams, oneshot,  pingpongs,
                              whole_process, scan,    creation, appends,
                              events,        large};
  for (int i = 0; i < 10; i++)
    if (!only || only == i + 1)
      sections[i]();
  if (plot)
    sweep(plot);
  if (json) {
    fprintf(json, "\n]}\n");
    fclose(json);
  }
  return 0;
}
