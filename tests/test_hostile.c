/* SPDX-License-Identifier: MIT */
/* Hostile and broken inputs: headers a peer scribbled on, objects shrunk
 * under us, garbage in lock and counter words, a full /dev/shm, other
 * users.  Each case checks its code and that nothing changed. */
#include "util.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>

#include "internal.h"

/* Make a good map holding "good", then let `poke` change its header bytes
 * through a raw handle. */
static const char *make_good(const char *tag) {
  const char *n = tname(tag);
  mmf_t *m;
  assert_int_equal(mmf_create(n, 4096, 0, 0644, &m), 0);
  assert_int_equal(mmf_write(m, "good", 4), 0);
  mmf_close(m);
  return n;
}

static struct mmf__hdr *raw_hdr(const char *n, mmf_t **ret) {
  assert_int_equal(mmf_open(n, MMF_RAW, ret), 0);
  return mmf_data(*ret);
}

static void assert_content(const char *n, const char *want) {
  mmf_t *m;
  assert_int_equal(mmf_open(n, 0, &m), 0);
  char buf[64];
  size_t len;
  assert_int_equal(mmf_read(m, buf, sizeof buf, &len, NULL), 0);
  assert_int_equal(len, strlen(want));
  assert_memory_equal(buf, want, len);
  mmf_close(m);
}

static void bad_headers(void **s) {
  (void)s;
  struct {
    const char *what;
    int expect;
  } cases[] = {{"version1", -MMF_EVERSION},  {"magic", -MMF_ENOTMMF},
               {"version", -MMF_EVERSION},   {"version0", -MMF_EVERSION},
               {"version4", -MMF_EVERSION},  {"feat_read", -MMF_EVERSION},
               {"hdr_size", -MMF_ECORRUPT},  {"capacity", -MMF_ECORRUPT},
               {"capacity0", -MMF_ECORRUPT}, {"stride", -MMF_ECORRUPT},
               {"huge", -MMF_ECORRUPT}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    const char *n = make_good("hdr");
    mmf_t *raw;
    struct mmf__hdr *h = raw_hdr(n, &raw);
    const char *w = cases[i].what;
    if (!strcmp(w, "magic"))
      h->magic[0] ^= 0xff;
    else if (!strcmp(w, "version"))
      h->version = 2; /* mmf 1.1: chains tied to seqs, not gens */
    else if (!strcmp(w, "version4"))
      h->version = 4;
    else if (!strcmp(w, "feat_read"))
      h->feat_read = 1u << 31; /* a feature of a later build */
    else if (!strcmp(w, "version1"))
      h->version = 1; /* a map of mmf 1.0: its lock words hold tids */
    else if (!strcmp(w, "version0"))
      h->version = 0;
    else if (!strcmp(w, "hdr_size"))
      h->hdr_size = 8192;
    else if (!strcmp(w, "capacity"))
      h->capacity = 1 << 20, h->stride = 1 << 20; /* larger than the object */
    else if (!strcmp(w, "capacity0"))
      h->capacity = 0;
    else if (!strcmp(w, "stride"))
      h->stride = 8192;
    else
      h->capacity = UINT64_MAX;
    uint8_t before[12288];
    memcpy(before, mmf_data(raw), sizeof before);
    mmf_t *m = NULL;
    int r = mmf_open(n, 0, &m);
    if (r != cases[i].expect)
      fail_msg("%s: got %d (%s), want %d", w, r, mmf_strerror(r),
               cases[i].expect);
    assert_null(m);
    struct mmf_info in;
    assert_int_equal(mmf_info(n, &in),
                     cases[i].expect == -MMF_ENOTMMF ? 0 : cases[i].expect);
    /* Nothing changed. */
    assert_memory_equal(before, mmf_data(raw), sizeof before);
    mmf_close(raw);
    mmf_remove(n);
  }
}

static void short_object_with_magic(void **s) {
  (void)s;
  const char *n = tname("short");
  char p[256];
  snprintf(p, sizeof p, "/dev/shm/%s", n);
  int fd = open(p, O_CREAT | O_EXCL | O_WRONLY, 0600);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, MMF__MAGIC "rest", 12), 12);
  close(fd);
  mmf_t *m;
  assert_int_equal(mmf_open(n, 0, &m), -MMF_ECORRUPT);
  assert_int_equal(mmf_open(n, MMF_RAW, &m), 0); /* asked for raw: fine */
  mmf_close(m);
  /* Objects of 0..7 bytes are simply not mmf maps. */
  assert_int_equal(truncate(p, 3), 0);
  assert_int_equal(mmf_open(n, 0, &m), -MMF_ENOTMMF);
  mmf_remove(n);
}

static void bad_slots(void **s) {
  (void)s;
  /* A length beyond the capacity in the published slot. */
  const char *n = make_good("slot");
  mmf_t *raw, *m;
  struct mmf__hdr *h = raw_hdr(n, &raw);
  uint64_t st = atomic_load(&h->state);
  atomic_store(&h->slot[st & 1].len, 1 << 20);
  assert_int_equal(mmf_open(n, 0, &m), 0);
  char buf[64];
  size_t len;
  assert_int_equal(mmf_read(m, buf, sizeof buf, &len, NULL), -MMF_ECORRUPT);
  struct mmf_stat sa;
  assert_int_equal(mmf_stat(m, &sa), -MMF_ECORRUPT);
  assert_int_equal(mmf_append(m, "x", 1, "", 0), -MMF_ECORRUPT);
  /* A whole write repairs it: the other slot is published. */
  assert_int_equal(mmf_write(m, "new", 3), 0);
  assert_int_equal(mmf_read(m, buf, sizeof buf, &len, NULL), 0);
  assert_int_equal(len, 3);
  /* A slot seq that never matches the state: read gives up cleanly. */
  st = atomic_load(&h->state);
  atomic_store(&h->slot[st & 1].seq, 12345);
  assert_int_equal(mmf_read(m, buf, sizeof buf, &len, NULL), -MMF_ECORRUPT);
  /* A published slot left busy (odd gen). */
  atomic_store(&h->slot[st & 1].seq, st >> 1);
  atomic_store(&h->slot[st & 1].gen, 7);
  assert_int_equal(mmf_read(m, buf, sizeof buf, &len, NULL), -MMF_ECORRUPT);
  /* An absurd seq: writes refuse to wrap it. */
  atomic_store(&h->state, UINT64_MAX);
  assert_int_equal(mmf_write(m, "x", 1), -MMF_ECORRUPT);
  mmf_close(m);
  mmf_close(raw);
  mmf_remove(n);
}

static void truncated_after_open(void **s) {
  (void)s;
  const char *n = make_good("trunc");
  mmf_t *m;
  assert_int_equal(mmf_open(n, 0, &m), 0);
  char p[256];
  snprintf(p, sizeof p, "/dev/shm/%s", n);
  assert_int_equal(truncate(p, 100), 0); /* a peer shrinks it */
  char buf[64];
  size_t len;
  assert_int_equal(mmf_read(m, buf, sizeof buf, &len, NULL), -MMF_ECORRUPT);
  assert_int_equal(mmf_write(m, "x", 1), -MMF_ECORRUPT);
  struct mmf_stat st;
  assert_int_equal(mmf_stat(m, &st), -MMF_ECORRUPT);
  assert_int_equal(mmf_save(m, "/tmp/mmftest-never-written"), -MMF_ECORRUPT);
  assert_int_equal(access("/tmp/mmftest-never-written", F_OK), -1);
  mmf_close(m);
  mmf_t *m2;
  assert_int_equal(mmf_open(n, 0, &m2), -MMF_ECORRUPT);
  mmf_remove(n);
}

static void garbage_in_lock_words(void **s) {
  (void)s;
  const char *n = make_good("garbage");
  mmf_t *raw, *m;
  struct mmf__hdr *h = raw_hdr(n, &raw);
  assert_int_equal(mmf_open(n, 0, &m), 0);
  /* A holder that does not exist: taken over at once. */
  uint32_t garbage[] = {0x3ffffffe, 0x40000000, 0xffffffff, 0x80000000};
  for (size_t i = 0; i < sizeof garbage / sizeof *garbage; i++) {
    atomic_store(&h->wlock, garbage[i]);
    int64_t t0 = now_ns();
    assert_int_equal(mmf_write(m, "again", 5), 0);
    assert_true(now_ns() - t0 < 100 * 1000000ll);
    atomic_store(&h->ulock, garbage[i]);
    /* 0x40000000 alone is the handoff mark (since format 2): a free lock left
     * to a woken sleeper, taken after its grace, with nobody to report. */
    assert_int_equal(mmf_lock(m, 1000),
                     garbage[i] == MMF__LOCK_HANDOFF ? 0 : MMF_LOCK_ABANDONED);
    assert_int_equal(mmf_unlock(m), 0);
  }
  /* Garbage in the futex word. */
  atomic_store(&h->seq32, 0xdeadbeef);
  assert_int_equal(mmf_write(m, "still", 5), 0);
  uint64_t seq;
  assert_int_equal(mmf_wait(m, 0, 100, &seq), 0);
  assert_int_equal(mmf_wait(m, seq, 100, NULL), -ETIMEDOUT);
  /* A live handle that never lets go: writes give up within 5 s. */
  mmf_t *other;
  assert_int_equal(mmf_open(n, 0, &other), 0);
  atomic_store(&h->wlock, other->id);
  int64_t t0 = now_ns();
  assert_int_equal(mmf_write(m, "stuck", 5), -MMF_ESTUCK);
  int64_t took = now_ns() - t0;
  printf("# write gave up after %.2f s\n", (double)took / 1e9);
  assert_true(took >= 4900 * 1000000ll && took < 6000 * 1000000ll);
  atomic_store(&h->wlock, 0);
  mmf_close(other);
  assert_content(n, "still");
  mmf_close(m);
  mmf_close(raw);
  mmf_remove(n);
}

/* In a private mount namespace, a 1 MiB tmpfs over /dev/shm. */
static int full_shm_child(void *arg) {
  (void)arg;
  if (unshare(CLONE_NEWNS) < 0)
    return 77;
  if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return 77;
  if (mount("tmpfs", "/dev/shm", "tmpfs", 0, "size=1m") < 0)
    return 77;
  mmf_t *m;
  if (mmf_create("full", 4 << 20, 0, 0, &m) < 0)
    return 10;
  static uint8_t big[4 << 20];
  memset(big, 'a', sizeof big);
  if (mmf_write(m, big, 256 << 10) < 0)
    return 11;
  int r = mmf_write(m, big, 2 << 20);
  if (r != -ENOSPC)
    return 12;
  size_t len;
  uint64_t seq;
  if (mmf_read(m, big, sizeof big, &len, &seq) < 0 || len != 256 << 10 ||
      seq != 1)
    return 13;
  mmf_close(m);
  return 0;
}

static void full_dev_shm(void **s) {
  (void)s;
  if (geteuid() != 0) {
    printf("# skipped: mounting a small /dev/shm needs root\n");
    skip();
  }
  int r = reap(spawn(full_shm_child, NULL), 20000);
  if (r == 77) {
    printf("# skipped: no private mount namespace here\n");
    skip();
  }
  assert_int_equal(r, 0);
}

/* ---- other users ---- */

static uid_t other_uid;
static gid_t other_gid;

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int as_other_user(void *arg) {
  const char *n = arg;
  if (become(other_uid, other_gid) < 0)
    return 90;
  mmf_t *m;
  int r = mmf_open(n, 0, &m);
  if (n[strlen(n) - 1] == 'p') /* the private map */
    return r == -EACCES ? 0 : 20;
  if (r < 0)
    return 21;
  struct mmf_stat st;
  if (mmf_stat(m, &st) < 0 || !st.readonly)
    return 22;
  char buf[64];
  size_t len;
  if (mmf_read(m, buf, sizeof buf, &len, NULL) < 0 || len != 4)
    return 23;
  uint64_t seq;
  if (mmf_wait(m, 0, 100, &seq) != 0 || seq != 1)
    return 24;
  if (mmf_wait(m, 1, 50, NULL) != -ETIMEDOUT)
    return 25;
  if (mmf_write(m, "evil", 4) != -MMF_EREADONLY)
    return 26;
  if (mmf_append(m, "evil", 4, "", 0) != -MMF_EREADONLY)
    return 27;
  if (mmf_lock(m, 0) != -MMF_EREADONLY)
    return 28;
  struct mmf_info in;
  if (mmf_info(n, &in) < 0 || in.length != 4)
    return 29;
  mmf_close(m);
  /* Create-or-open refuses another user's object in /dev/shm, where anyone
   * could have planted it; nothing is created over it either. */
  if (mmf_create(n, 10, MMF_OPEN_EXISTING, 0, &m) != -MMF_EOWNER)
    return 30;
  if (mmf_create(n, 10, 0, 0, &m) != -EEXIST)
    return 32;
  if (mmf_remove(n) != -EACCES && mmf_remove(n) != -EPERM)
    return 31;
  return 0;
}

static void other_users(void **s) {
  (void)s;
  if (geteuid() != 0 || other_user(&other_uid, &other_gid) < 0) {
    printf("# skipped: cross-user tests need root to switch users\n");
    skip();
  }
  char shared[128], priv[128];
  snprintf(shared, sizeof shared, "%s", tname("perm"));
  snprintf(priv, sizeof priv, "%s-p", tname("perm"));
  mmf_t *a, *b;
  assert_int_equal(mmf_create(shared, 64, 0, 0644, &a), 0);
  assert_int_equal(mmf_write(a, "mine", 4), 0);
  assert_int_equal(mmf_create(priv, 64, 0, 0, &b), 0); /* owner-only */
  assert_int_equal(reap(spawn(as_other_user, shared), 10000), 0);
  assert_int_equal(reap(spawn(as_other_user, priv), 10000), 0);
  assert_content(shared, "mine");
  mmf_close(a);
  mmf_close(b);
  mmf_remove(shared);
  mmf_remove(priv);
}

/* A read-only waiter (another user) on a map others may only read: woken by
 * the write, not by a 10 ms re-check. */
static int times[2];
static int ro_waiter(void *arg) {
  if (become(other_uid, other_gid) < 0)
    return 90;
  mmf_t *m;
  if (mmf_open(arg, 0, &m) < 0)
    return 91;
  struct mmf_stat st;
  if (mmf_stat(m, &st) < 0 || !st.readonly)
    return 92;
  for (uint64_t k = 1; k <= 5; k++) {
    if (mmf_wait(m, k, 5000, NULL) != 0)
      return 93;
    int64_t t = now_ns();
    if (write(times[1], &t, sizeof t) != sizeof t)
      return 94;
  }
  mmf_close(m);
  return 0;
}

static void read_only_waiter_wakes_at_once(void **s) {
  (void)s;
  if (geteuid() != 0 || other_user(&other_uid, &other_gid) < 0) {
    printf("# skipped: cross-user tests need root to switch users\n");
    skip();
  }
  char n[128];
  snprintf(n, sizeof n, "%s", tname("rowait"));
  mmf_t *m;
  assert_int_equal(mmf_create(n, 64, 0, 0644, &m), 0);
  assert_int_equal(mmf_write(m, "1", 1), 0);
  assert_int_equal(pipe(times), 0);
  pid_t p = spawn(ro_waiter, n);
  double d[5];
  for (int k = 0; k < 5; k++) {
    /* Not a whole number of 10 ms re-checks after the last wake-up. */
    usleep(100000 + (useconds_t)(k * 2777 % 9000));
    int64_t t0 = now_ns();
    assert_int_equal(mmf_write(m, "x", 1), 0);
    int64_t t1;
    assert_int_equal(read(times[0], &t1, sizeof t1), sizeof t1);
    d[k] = (double)(t1 - t0) / 1e6;
  }
  assert_int_equal(reap(p, 5000), 0);
  qsort(d, 5, sizeof *d, cmp_double);
  printf(
      "# read-only waiter woke %.3f ms (median) after the write (%.3f..%.3f)\n",
      d[2], d[0], d[4]);
  assert_true(d[2] < 0.5);
  close(times[0]);
  close(times[1]);
  mmf_close(m);
  mmf_remove(n);
}

/* 0 if this process can make and map a shared object of `len` bytes, else
 * the errno (an address-space limit, a file-size limit, a 32-bit process). */
static int os_maps(size_t len) {
  signal(SIGXFSZ, SIG_IGN);
  int fd = memfd_create("mmftest-probe", MFD_CLOEXEC);
  if (fd < 0)
    return errno;
  int err = 0;
  void *p = MAP_FAILED;
  if (ftruncate(fd, (off_t)len) < 0 ||
      (p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) ==
          MAP_FAILED)
    err = errno;
  if (p != MAP_FAILED)
    munmap(p, len);
  close(fd);
  return err;
}

/* The largest capacity is created (sparse) and works; where it cannot be,
 * the system must refuse a plain mapping of its two slots too. */
static void largest_capacity(void **s) {
  (void)s;
  const char *n = tname("max");
  mmf_t *m;
  int r = mmf_create(n, MMF_CAPACITY_MAX, 0, 0, &m);
  if (r == -ENOMEM || r == -EFBIG) {
    /* Two slots at least: a system that maps those maps the header too. */
    int err = os_maps(2 * (size_t)MMF_CAPACITY_MAX);
    printf("# a %zu-byte map: %s; a plain mapping of its slots: %s\n",
           (size_t)MMF_CAPACITY_MAX, mmf_strerror(r),
           err ? strerror(err) : "mapped");
    assert_int_not_equal(err, 0);
    printf("# skipped: a %zu-byte map cannot be mapped here (%s)\n",
           (size_t)MMF_CAPACITY_MAX, strerror(err));
    skip();
  }
  assert_int_equal(r, 0);
  assert_int_equal(mmf_write(m, "tiny", 4), 0);
  mmf_close(m);
  mmf_remove(n);
}

static void limits(void **s) {
  (void)s;
  const char *n = tname("max");
  mmf_t *m;
  assert_int_equal(mmf_create(n, MMF_CAPACITY_MAX + 1, 0, 0, &m), -MMF_ETOOBIG);
  assert_int_equal(mmf_create(n, SIZE_MAX, MMF_RAW, 0, &m), -MMF_ETOOBIG);
  assert_int_equal(mmf_create(n, 1, 0, 0, &m), 0);
  assert_int_equal(mmf_write(m, "ab", 2), -MMF_ETOOBIG);
  assert_int_equal(mmf_write(m, "a", 1), 0);
  mmf_close(m);
  mmf_remove(n);
  /* Names: at and past 255, with "..". */
  char name[300];
  memset(name, 'n', 255);
  name[255] = '\0';
  assert_int_equal(mmf_create(name, 10, 0, 0, &m), 0);
  mmf_close(m);
  assert_int_equal(mmf_remove(name), 0);
  name[255] = 'n';
  name[256] = '\0';
  assert_int_equal(mmf_create(name, 10, 0, 0, &m), -MMF_ENAME);
  assert_int_equal(mmf_create("..", 10, 0, 0, &m), -MMF_ENAME);
  assert_int_equal(mmf_create("a..b", 10, 0, 0, &m), 0); /* just a name */
  mmf_close(m);
  mmf_remove("a..b");
  assert_int_equal(mmf_create("/tmp/..", 10, 0, 0, &m), -MMF_ENAME);
  assert_int_equal(mmf_open("/tmp/../tmp/mmftest-none", 0, &m), -ENOENT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      T(bad_headers),
      T(short_object_with_magic),
      T(bad_slots),
      T(truncated_after_open),
      T(garbage_in_lock_words),
      T(full_dev_shm),
      T(other_users),
      T(read_only_waiter_wakes_at_once),
      T(largest_capacity),
      T(limits),
  };
  return run_cases("hostile", tests, NULL, NULL);
}
