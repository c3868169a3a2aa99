/* SPDX-License-Identifier: MIT */
/* Stress with crashes: W writers and R readers on one map for a given time,
 * contents of random sizes that check themselves (length, tag, checksum),
 * while the parent SIGKILLs random writers and starts new ones.  Reports
 * operations, kills, reads checked, torn and stale reads (must be 0), the
 * longest write (which includes any wait for a killed writer's lock) and
 * whether the final content is whole.
 *
 *   stress [--seconds N] [--writers W] [--readers R] [--capacity BYTES]
 *
 * Exit 0 when no read was torn or stale and the final content is whole. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mmf.h"

struct stats {
  _Atomic int stop;
  _Atomic uint64_t writes, reads, torn, stale, errors;
  _Atomic int64_t longest_write_ns;
};

static struct stats *S;
static char name[64];
static size_t capacity = 256 << 10;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t rnd(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

static uint64_t fnv(const uint8_t *p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

/* [len 8][tag 8][fnv(bytes) ^ tag 8][bytes] */
static size_t make(uint8_t *b, size_t len, uint64_t tag, uint64_t *seed) {
  if (len < 24)
    len = 24;
  uint64_t len64 = len; /* 8 bytes whatever size_t is */
  memcpy(b, &len64, 8);
  memcpy(b + 8, &tag, 8);
  uint64_t fill = rnd(seed);
  for (size_t i = 24; i < len; i++)
    b[i] = (uint8_t)(fill >> ((i & 7) * 8)) ^ (uint8_t)i;
  uint64_t h = fnv(b + 24, len - 24) ^ tag;
  memcpy(b + 16, &h, 8);
  return len;
}

static int whole(const uint8_t *b, size_t len) {
  uint64_t l, tag, h;
  if (len < 24)
    return 0;
  memcpy(&l, b, 8);
  memcpy(&tag, b + 8, 8);
  memcpy(&h, b + 16, 8);
  return l == len && h == (fnv(b + 24, len - 24) ^ tag);
}

static void max_store(_Atomic int64_t *a, int64_t v) {
  int64_t cur = atomic_load(a);
  while (v > cur && !atomic_compare_exchange_weak(a, &cur, v))
    ;
}

static int writer(void) {
  mmf_t *m;
  if (mmf_open(name, 0, &m) < 0)
    return 1;
  uint8_t *b = malloc(capacity);
  uint64_t seed = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull | 1;
  for (uint64_t n = 0; !atomic_load(&S->stop); n++) {
    size_t len = make(b, 24 + rnd(&seed) % (capacity - 23), n, &seed);
    int64_t t0 = now_ns();
    int r = mmf_write(m, b, len);
    max_store(&S->longest_write_ns, now_ns() - t0);
    if (r < 0) {
      atomic_fetch_add(&S->errors, 1);
      fprintf(stderr, "stress: write: %s\n", mmf_strerror(r));
    } else {
      atomic_fetch_add(&S->writes, 1);
    }
  }
  return 0;
}

static int reader(void) {
  mmf_t *m;
  if (mmf_open(name, 0, &m) < 0)
    return 1;
  uint8_t *b = malloc(capacity);
  uint64_t last = 0;
  while (!atomic_load(&S->stop)) {
    size_t len;
    uint64_t seq;
    int r = mmf_read(m, b, capacity, &len, &seq);
    if (r < 0) {
      atomic_fetch_add(&S->errors, 1);
      fprintf(stderr, "stress: read: %s\n", mmf_strerror(r));
      continue;
    }
    atomic_fetch_add(&S->reads, 1);
    if (seq < last)
      atomic_fetch_add(&S->stale, 1);
    last = seq;
    if (!whole(b, len))
      atomic_fetch_add(&S->torn, 1);
  }
  mmf_close(m);
  free(b);
  return 0;
}

static pid_t start(int (*fn)(void)) {
  pid_t p = fork();
  if (p == 0)
    _exit(fn());
  return p;
}

int main(int argc, char **argv) {
  double seconds = 10;
  int nw = 3, nr = 3;
  static const struct option opts[] = {{"seconds", required_argument, 0, 's'},
                                       {"writers", required_argument, 0, 'w'},
                                       {"readers", required_argument, 0, 'r'},
                                       {"capacity", required_argument, 0, 'c'},
                                       {0}};
  int c;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    if (c == 's')
      seconds = atof(optarg);
    else if (c == 'w')
      nw = atoi(optarg);
    else if (c == 'r')
      nr = atoi(optarg);
    else if (c == 'c')
      capacity = (size_t)strtoull(optarg, NULL, 10);
    else
      return 2;
  }
  if (nw < 1 || nw > 32 || nr < 1 || nr > 32 || capacity < 64 || seconds <= 0)
    return 2;
  S = mmap(NULL, sizeof *S, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
           -1, 0);
  snprintf(name, sizeof name, "mmftest-stress-%d", (int)getpid());
  mmf_t *m;
  int r = mmf_create(name, capacity, 0, 0, &m);
  if (r < 0) {
    fprintf(stderr, "stress: create %s: %s\n", name, mmf_strerror(r));
    return 1;
  }
  uint8_t *b = malloc(capacity);
  uint64_t seed = 1;
  mmf_write(m, b, make(b, 100, 0, &seed));

  pid_t w[32], rd[32];
  for (int i = 0; i < nw; i++)
    w[i] = start(writer);
  for (int i = 0; i < nr; i++)
    rd[i] = start(reader);
  uint64_t kills = 0;
  int64_t end = now_ns() + (int64_t)(seconds * 1e9);
  while (now_ns() < end) {
    usleep(5000 + (useconds_t)(rnd(&seed) % 45000));
    int i = (int)(rnd(&seed) % (uint64_t)nw);
    kill(w[i], SIGKILL);
    waitpid(w[i], NULL, 0);
    kills++;
    w[i] = start(writer);
  }
  atomic_store(&S->stop, 1);
  int bad_exit = 0;
  for (int i = 0; i < nw; i++) {
    int st;
    waitpid(w[i], &st, 0);
    bad_exit |= !WIFEXITED(st) || WEXITSTATUS(st);
  }
  for (int i = 0; i < nr; i++) {
    int st;
    waitpid(rd[i], &st, 0);
    bad_exit |= !WIFEXITED(st) || WEXITSTATUS(st);
  }
  size_t len;
  uint64_t seq;
  r = mmf_read(m, b, capacity, &len, &seq);
  int final_ok = r == 0 && whole(b, len);
  mmf_close(m);
  mmf_remove(name);
  free(b);

  printf("stress: %.0f s, %d writers, %d readers, capacity %zu bytes\n",
         seconds, nw, nr, capacity);
  printf("  writes done        %llu\n", (unsigned long long)S->writes);
  printf("  writers killed     %llu\n", (unsigned long long)kills);
  printf("  reads checked      %llu\n", (unsigned long long)S->reads);
  printf("  torn reads         %llu\n", (unsigned long long)S->torn);
  printf("  stale reads        %llu\n", (unsigned long long)S->stale);
  printf("  errors             %llu\n", (unsigned long long)S->errors);
  printf("  longest write      %.3f ms (includes waiting for a killed "
         "writer's lock)\n",
         (double)S->longest_write_ns / 1e6);
  printf("  final content      %s (seq %llu)\n", final_ok ? "whole" : "BROKEN",
         (unsigned long long)seq);
  int ok = final_ok && !S->torn && !S->stale && !S->errors && !bad_exit &&
           S->reads > 0 && S->writes > 0;
  printf("stress: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
