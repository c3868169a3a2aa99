/* SPDX-License-Identifier: MIT */
/* Liveness that the kernel vouches for: locks and holders across PID
 * namespaces, hidden /proc and other users; a thousand holders; header
 * bytes that peers write; waiters that die; locks owned by handles, not
 * threads (transient maps: test_transient.c).  Each case failed on format 1. */
#include "util.h"

#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "internal.h"

/* ---- running a role in a new PID namespace, or behind hidepid ---- */

static uid_t other_uid;
static gid_t other_gid;

enum where { NEW_PIDNS, HIDEPID_OTHER_USER };

struct role {
  enum where where;
  int (*fn)(const char *name);
  const char *name;
};

/* The child: a fresh /proc (of the new namespace, or with hidepid=2), and
 * for hidepid another user; 77 when the kernel refuses. */
static int run_role(void *arg) {
  struct role *r = arg;
  int flags = CLONE_NEWNS | (r->where == NEW_PIDNS ? CLONE_NEWPID : 0);
  if (unshare(flags) < 0)
    return 77;
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return 77;
  pid_t p = fork();
  if (p < 0)
    return 77;
  if (p > 0) {
    int st;
    if (waitpid(p, &st, 0) < 0 || !WIFEXITED(st))
      return 98;
    return WEXITSTATUS(st);
  }
  /* Another process in earnest: none of the test's descriptors, so none of
   * its handles (a fork shares them). */
  for (int fd = 3; fd < 1024; fd++)
    close(fd);
  const char *opts = r->where == NEW_PIDNS ? NULL : "hidepid=2";
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) <
      0)
    _exit(77);
  if (r->where == HIDEPID_OTHER_USER && become(other_uid, other_gid) < 0)
    _exit(77);
  int rc = r->fn(r->name);
  fflush(stdout);
  _exit(rc);
}

/* 0 passed, 77 skipped (with the reason printed), else the role's code. */
static int in_elsewhere(enum where where, int (*fn)(const char *),
                        const char *name) {
  if (geteuid() != 0) {
    printf("# skipped: namespaces and other users need root\n");
    return 77;
  }
  if (where == HIDEPID_OTHER_USER && other_user(&other_uid, &other_gid) < 0) {
    printf("# skipped: no second user could be made\n");
    return 77;
  }
  struct role r = {where, fn, name};
  int rc = reap(spawn(run_role, &r), 30000);
  if (rc == 77)
    printf("# skipped: the kernel refused a new %s\n",
           where == NEW_PIDNS ? "PID namespace" : "/proc mount");
  return rc;
}

#define ELSEWHERE(where, fn, name)                                             \
  do {                                                                         \
    int rc_ = in_elsewhere(where, fn, name);                                   \
    if (rc_ == 77)                                                             \
      skip();                                                                  \
    assert_int_equal(rc_, 0);                                                  \
  } while (0)

/* Roles run elsewhere against a map whose locks the test process holds. */
static int try_user_lock(const char *n) {
  mmf_t *m;
  if (mmf_open(n, 0, &m) < 0)
    return 10;
  /* The holder lives: the lock must not be taken over. */
  int r = mmf_lock(m, 300);
  mmf_close(m);
  return r == -ETIMEDOUT ? 0 : 11;
}

static int try_write(const char *n) {
  mmf_t *m;
  if (mmf_open(n, 0, &m) < 0)
    return 10;
  /* A live writer holds the writers' lock (for 400 ms): we must wait. */
  int64_t t0 = now_ns();
  int r = mmf_write(m, "elsewhere", 9);
  int64_t took = now_ns() - t0;
  mmf_close(m);
  if (r != 0)
    return 12;
  return took >= 250 * 1000000ll ? 0 : 13;
}

static int try_list(const char *n) {
  struct mmf_info *list;
  size_t cnt;
  if (mmf_list(&list, &cnt) < 0)
    return 10;
  free(list);
  struct mmf_info in;
  int r = mmf_info(n, &in);
  if (r < 0)
    return 14;
  /* We cannot see the holder's process: counted, but not named. */
  pid_t pids[4];
  size_t seen;
  unsigned hidden;
  if (mmf_holders(n, pids, 4, &seen, &hidden) < 0 || seen != 0 || hidden < 1) {
    printf("# holders seen %zu, hidden %u\n", seen, hidden);
    return 16;
  }
  if (in.holders < 1 || in.lock_pid != -1) {
    printf("# holders %u, lock_pid %d\n", in.holders, (int)in.lock_pid);
    return 15;
  }
  return 0;
}

/* Run in a new PID namespace (pid 1 there, root): a holder dies and a new
 * process gets its very pid (ns_last_pid); the lock is still taken over at
 * once, since nothing about it names a pid. */
static int pid_reuse(const char *n) {
  int p[2];
  if (pipe(p) < 0)
    return 10;
  pid_t a = fork();
  if (a == 0) {
    mmf_t *m;
    if (mmf_open(n, 0, &m) < 0 || mmf_lock(m, 0) != 0)
      _exit(1);
    if (write(p[1], "r", 1) != 1)
      _exit(2);
    pause();
    _exit(0);
  }
  char c;
  if (read(p[0], &c, 1) != 1)
    return 11;
  kill(a, SIGKILL);
  waitpid(a, NULL, 0);
  FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "w");
  if (!f)
    return 77;
  fprintf(f, "%d", (int)a - 1);
  fclose(f);
  pid_t b = fork();
  if (b == 0) {
    mmf_t *m;
    if (getpid() != a || mmf_open(n, 0, &m) < 0)
      _exit(1);
    if (write(p[1], "r", 1) != 1)
      _exit(2);
    pause();
    _exit(0);
  }
  if (read(p[0], &c, 1) != 1 || b != a) {
    kill(b, SIGKILL);
    return b != a ? 77 : 12;
  }
  mmf_t *m;
  int r = mmf_open(n, 0, &m);
  int64_t t0 = now_ns();
  if (r == 0)
    r = mmf_lock(m, 1000);
  int64_t took = now_ns() - t0;
  if (r >= 0)
    mmf_close(m);
  kill(b, SIGKILL);
  waitpid(b, NULL, 0);
  if (r != MMF_LOCK_ABANDONED)
    return 13;
  return took < 200 * 1000000ll ? 0 : 14;
}

static void a_reused_pid_is_not_the_dead_holder(void **s) {
  (void)s;
  const char *n = tname("reuse");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 64, 0, 0, &m), 0);
  mmf_close(m);
  ELSEWHERE(NEW_PIDNS, pid_reuse, n);
  mmf_remove(n);
}

struct held {
  mmf_t *m;
  int ms;
};

static void *hold_writers_lock(void *arg) {
  struct held *h = arg;
  struct mmf_write_loan w;
  if (mmf_write_begin(h->m, 5, &w) < 0)
    return (void *)1;
  say_ready();
  usleep((useconds_t)h->ms * 1000);
  memcpy(w.data, "owner", 5);
  return mmf_write_commit(h->m, &w, 5) < 0 ? (void *)1 : NULL;
}

static void locks_hold_across(enum where where) {
  const char *n = tname("ns");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 64, MMF_TRANSIENT, 0666, &m), 0);
  assert_int_equal(mmf_lock(m, 0), 0);
  ELSEWHERE(where, try_user_lock, n);
  ELSEWHERE(where, try_list, n);
  assert_true(shm_exists(n)); /* a live transient map stays */
  assert_int_equal(pipe(ready), 0);
  struct held h = {m, 400};
  pthread_t t;
  pthread_create(&t, NULL, hold_writers_lock, &h);
  await_ready();
  ELSEWHERE(where, try_write, n);
  void *res;
  pthread_join(t, &res);
  assert_null(res);
  char buf[16];
  size_t len;
  assert_int_equal(mmf_read(m, buf, sizeof buf, &len, NULL), 0);
  assert_int_equal(len, 9); /* ours first, then theirs: never a mix */
  assert_memory_equal(buf, "elsewhere", 9);
  assert_int_equal(mmf_unlock(m), 0);
  mmf_close(m);
  close(ready[0]);
  close(ready[1]);
}

static void locks_hold_across_pid_namespaces(void **s) {
  (void)s;
  locks_hold_across(NEW_PIDNS);
}

static void locks_hold_behind_hidepid(void **s) {
  (void)s;
  locks_hold_across(HIDEPID_OTHER_USER);
}

/* ---- a thousand holders ---- */

#define MANY 1000

static int many_holder(void *arg) {
  const char *n = arg;
  mmf_t *m;
  /* Half of them read-only: they hold the map too. */
  int flags = (getpid() & 1) ? MMF_READONLY : 0;
  if (mmf_open(n, flags, &m) < 0)
    return 1;
  say_ready();
  uint64_t seq;
  /* Long: the first holders wait while the rest are started, which under
   * a sanitizer and a loaded machine took over 30 s. */
  int r = mmf_wait(m, 0, 300000, &seq);
  mmf_close(m);
  if (r < 0)
    fprintf(stderr, "holder %d (%s): mmf_wait: %s\n", (int)getpid(),
            flags ? "read-only" : "read-write", mmf_strerror(r));
  return r == 0 && seq == 1 ? 0 : 2;
}

static void a_thousand_holders(void **s) {
  (void)s;
  struct rlimit rl;
  getrlimit(RLIMIT_NPROC, &rl);
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < MANY + 100) {
    printf("# skipped: RLIMIT_NPROC %lu is below %d\n",
           (unsigned long)rl.rlim_cur, MANY + 100);
    skip();
  }
  const char *n = tname("many");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 64, 0, 0644, &m), 0);
  assert_int_equal(pipe(ready), 0);
  static pid_t kids[MANY];
  for (int i = 0; i < MANY; i++) {
    kids[i] = spawn(many_holder, (void *)n);
    assert_true(kids[i] > 0);
  }
  for (int i = 0; i < MANY; i++)
    await_ready();
  int alive = 0, exits[4] = {0}, signals = 0, reaped = 0;
  for (int i = 0; i < MANY; i++) {
    int status;
    pid_t w = waitpid(kids[i], &status, WNOHANG);
    if (w == 0) {
      alive++;
      continue;
    }
    /* Gone already: say how, once, below. */
    reaped++;
    kids[i] = -1;
    if (WIFEXITED(status))
      exits[WEXITSTATUS(status) & 3]++;
    else
      signals++;
  }
  if (reaped)
    printf("# %d holders ended early: exit 1 (open) %d, exit 2 (wait) %d, "
           "other %d, signals %d\n",
           reaped, exits[1], exits[2], exits[0] + exits[3], signals);
  struct mmf_stat st;
  /* Counted again if it is off, with what each count said: under a heavy
   * load a count once came out short, and the log should say how. */
  for (int k = 0; k < 3; k++) {
    assert_int_equal(mmf_stat(m, &st), 0);
    printf("# holders: %u (%d of %d holder processes alive)\n", st.holders,
           alive, MANY);
    if (st.holders == MANY + 1)
      break;
    usleep(100000);
  }
  assert_int_equal(alive, MANY);
  assert_int_equal(st.holders, MANY + 1);
  /* Every one of them may also write. */
  mmf_t *w;
  assert_int_equal(mmf_open(n, 0, &w), 0);
  int64_t t0 = now_ns();
  assert_int_equal(mmf_write(w, "all", 3), 0);
  int bad = 0;
  for (int i = 0; i < MANY; i++)
    if (reap(kids[i], 30000) != 0)
      bad++;
  printf("# %d waiters woke by one write within %.0f ms\n", MANY - bad,
         (double)(now_ns() - t0) / 1e6);
  assert_int_equal(bad, 0);
  mmf_close(w);
  mmf_close(m);
  mmf_remove(n);
  close(ready[0]);
  close(ready[1]);
}

/* ---- bytes peers write ---- */

static void peers_cannot_delete_or_block_the_name(void **s) {
  (void)s;
  const char *n = tname("peer");
  mmf_t *owner, *peer;
  assert_int_equal(mmf_create(n, 64, 0, 0666, &owner), 0);
  assert_int_equal(mmf_write(owner, "kept", 4), 0);
  assert_int_equal(mmf_open(n, MMF_RAW, &peer), 0);
  /* Everything in the header but the publication words and the magic and
   * sizes and alignment (which are checked): all ones. */
  uint8_t *h = mmf_data(peer);
  memset(h + 32, 0xff, 36 - 32); /* flags (transient) */
  memset(h + 40, 0xff, 48 - 40); /* created */
  /* 48..56: the feature words, which make builds refuse a map (as a wrong
   * magic does): what a peer writes there is a refusal, not a deletion. */
  memset(h + 56, 0xff, 64 - 56);
  memset(h + 76, 0xff, 128 - 76); /* version 1's waiters, removed */
  memset(h + 264, 0xff, 320 - 264);
  memset(h + 324, 0xff, 4096 - 324);
  mmf_close(peer);
  mmf_close(owner);
  assert_true(shm_exists(n)); /* not turned transient by a peer */
  mmf_t *m;
  assert_int_equal(mmf_open(n, 0, &m), 0); /* the name still works */
  char buf[8];
  size_t len;
  assert_int_equal(mmf_read(m, buf, sizeof buf, &len, NULL), 0);
  assert_int_equal(len, 4);
  struct mmf_stat st;
  assert_int_equal(mmf_stat(m, &st), 0);
  assert_int_equal(st.transient, 0);
  assert_int_equal(mmf_wait(m, 0, 100, NULL), 0);
  mmf_close(m);
  assert_int_equal(mmf_create(n, 64, 0, 0, &m), -EEXIST);
  assert_int_equal(mmf_remove(n), 0);
}

/* ---- waiting ---- */

static int sleeper(void *arg) {
  mmf_t *m;
  if (mmf_open(arg, 0, &m) < 0)
    return 1;
  say_ready();
  uint64_t seq;
  int r = mmf_wait(m, 0, 20000, &seq);
  mmf_close(m);
  return r == 0 ? 0 : 2;
}

static void killed_waiter_costs_one_wake(void **s) {
  (void)s;
  const char *n = tname("kw");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 64, 0, 0, &m), 0);
  assert_int_equal(pipe(ready), 0);
  pid_t p = spawn(sleeper, (void *)n);
  await_ready();
  /* Wait until it sleeps (the bit is set), then kill it. */
  for (int i = 0;
       i < 2000 && !(atomic_load(&m->hdr->seq32) & MMF__SEQ_SLEEPERS); i++)
    usleep(1000);
  assert_true(atomic_load(&m->hdr->seq32) & MMF__SEQ_SLEEPERS);
  kill(p, SIGKILL);
  waitpid(p, NULL, 0);
  assert_int_equal(mmf_write(m, "a", 1), 0); /* pays one wake */
  assert_false(atomic_load(&m->hdr->seq32) & MMF__SEQ_SLEEPERS);
  /* Later writes pay nothing: as fast as before anyone waited. */
  int64_t t0 = now_ns();
  for (int i = 0; i < 100000; i++)
    assert_int_equal(mmf_write(m, "b", 1), 0);
  double ns = (double)(now_ns() - t0) / 100000;
  printf("# 64-byte-class write after a killed waiter: %.0f ns\n", ns);
  assert_false(atomic_load(&m->hdr->seq32) & MMF__SEQ_SLEEPERS);
  mmf_close(m);
  mmf_remove(n);
  close(ready[0]);
  close(ready[1]);
}

static void peer_clearing_the_futex_word_delays_at_most_a_slice(void **s) {
  (void)s;
  const char *n = tname("pz");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 64, 0, 0, &m), 0);
  assert_int_equal(pipe(ready), 0);
  pid_t p = spawn(sleeper, (void *)n);
  await_ready();
  for (int i = 0;
       i < 2000 && !(atomic_load(&m->hdr->seq32) & MMF__SEQ_SLEEPERS); i++)
    usleep(1000);
  /* A peer stores 0: no writer will know that anyone sleeps. */
  atomic_store(&m->hdr->seq32, 0);
  int64_t t0 = now_ns();
  assert_int_equal(mmf_write(m, "x", 1), 0);
  assert_int_equal(reap(p, 5000), 0);
  double ms = (double)(now_ns() - t0) / 1e6;
  printf("# sleeper woke %.1f ms after the write\n", ms);
  assert_true(ms < 200);
  mmf_close(m);
  mmf_remove(n);
  close(ready[0]);
  close(ready[1]);
}

/* ---- locks belong to handles ---- */

static void closing_another_handle_keeps_the_lock(void **s) {
  (void)s;
  const char *n = tname("own");
  mmf_t *a, *b, *c;
  assert_int_equal(mmf_create(n, 64, 0, 0, &a), 0);
  assert_int_equal(mmf_lock(a, 0), 0);
  assert_int_equal(mmf_open(n, 0, &b), 0);
  mmf_close(b); /* same thread, another handle: not its lock */
  assert_int_equal(mmf_open(n, 0, &c), 0);
  assert_int_equal(mmf_lock(c, 100), -ETIMEDOUT);
  assert_int_equal(mmf_unlock(c), -EPERM);
  assert_int_equal(mmf_lock(a, 0), -EDEADLK);
  struct mmf_stat st;
  assert_int_equal(mmf_stat(c, &st), 0);
  assert_int_equal(st.lock_pid, getpid());
  pid_t pids[4];
  size_t np;
  unsigned hidden;
  assert_int_equal(mmf_holders(n, pids, 4, &np, &hidden), 0);
  assert_int_equal(np, 1); /* two handles, one process */
  assert_int_equal(pids[0], getpid());
  assert_int_equal(hidden, 0);
  assert_int_equal(mmf_unlock(a), 0);
  assert_int_equal(mmf_lock(c, 0), 0);
  mmf_close(c);
  mmf_close(a);
  mmf_remove(n);
}

static void *lock_in_thread(void *arg) {
  return (void *)(intptr_t)mmf_lock(arg, 0);
}

static void closing_the_locking_handle_elsewhere_frees_it(void **s) {
  (void)s;
  const char *n = tname("own2");
  mmf_t *a, *c;
  assert_int_equal(mmf_create(n, 64, 0, 0, &a), 0);
  assert_int_equal(mmf_open(n, 0, &c), 0);
  pthread_t t;
  void *res;
  pthread_create(&t, NULL, lock_in_thread, a);
  pthread_join(t, &res);
  assert_int_equal((intptr_t)res, 0);
  /* Another thread may unlock what the handle holds, or close it. */
  mmf_close(a);
  assert_int_equal(mmf_lock(c, 100), 0); /* released, not abandoned */
  mmf_close(c);
  mmf_remove(n);
}

struct loan_arg {
  mmf_t *m;
  struct mmf_write_loan w;
};

static void *commit_in_thread(void *arg) {
  struct loan_arg *a = arg;
  memcpy(a->w.data, "threads", 7);
  return (void *)(intptr_t)mmf_write_commit(a->m, &a->w, 7);
}

static void begin_and_commit_in_two_threads(void **s) {
  (void)s;
  const char *n = tname("bc");
  struct loan_arg a;
  assert_int_equal(mmf_create(n, 64, 0, 0, &a.m), 0);
  assert_int_equal(mmf_write_begin(a.m, 16, &a.w), 0);
  pthread_t t;
  void *res;
  pthread_create(&t, NULL, commit_in_thread, &a);
  pthread_join(t, &res);
  assert_int_equal((intptr_t)res, 0);
  /* The lock is free: the next write goes at once. */
  int64_t t0 = now_ns();
  assert_int_equal(mmf_write(a.m, "next", 4), 0);
  assert_true(now_ns() - t0 < 50 * 1000000ll);
  /* A loan committed twice, or never begun, is refused. */
  assert_int_equal(mmf_write_commit(a.m, &a.w, 1), -EINVAL);
  struct mmf_write_loan zero = {0};
  assert_int_equal(mmf_write_commit(a.m, &zero, 0), -EINVAL);
  char buf[8];
  size_t len;
  assert_int_equal(mmf_read(a.m, buf, sizeof buf, &len, NULL), 0);
  assert_memory_equal(buf, "next", 4);
  mmf_close(a.m);
  mmf_remove(n);
}

/* ---- a reader of the object cannot forge liveness ---- */

static int dies_holding_the_writers_lock(void *arg) {
  mmf_t *m;
  struct mmf_write_loan w;
  if (mmf_open(arg, 0, &m) < 0 || mmf_write_begin(m, 8, &w) < 0)
    return 1;
  say_ready();
  pause();
  return 0;
}

static void a_reader_cannot_keep_a_dead_writer_alive(void **s) {
  (void)s;
  const char *n = tname("forge");
  mmf_t *m;
  assert_int_equal(mmf_create(n, 64, 0, 0644, &m), 0);
  assert_int_equal(pipe(ready), 0);
  pid_t p = spawn(dies_holding_the_writers_lock, (void *)n);
  await_ready();
  kill(p, SIGKILL);
  waitpid(p, NULL, 0);
  /* Anyone who may read the object can lock bytes of it: here, the dead
   * writer's id, read from the lock word. */
  char path[256];
  snprintf(path, sizeof path, "/dev/shm/%s", n);
  int fd = open(path, O_RDONLY);
  uint32_t dead = atomic_load(&m->hdr->wlock) & MMF__ID_MASK;
  assert_true(dead != 0);
  struct flock fl = {.l_type = F_RDLCK,
                     .l_whence = SEEK_SET,
                     .l_start = (off_t)(MMF__ID_BASE + dead),
                     .l_len = 1};
  assert_int_equal(fcntl(fd, F_OFD_SETLK, &fl), 0);
  int64_t t0 = now_ns();
  assert_int_equal(mmf_write(m, "taken", 5), 0); /* not MMF_ESTUCK */
  printf("# a dead writer's lock, read-locked by a reader, taken over in "
         "%.2f ms\n",
         (double)(now_ns() - t0) / 1e6);
  assert_true(now_ns() - t0 < 500 * 1000000ll);
  close(fd);
  mmf_close(m);
  mmf_remove(n);
  close(ready[0]);
  close(ready[1]);
}

static int close_in_child(void *arg) {
  mmf_close(arg); /* the parent's handle, shared by the fork */
  return 0;
}

static void a_forked_child_closing_keeps_the_parents_locks(void **s) {
  (void)s;
  const char *n = tname("fork");
  mmf_t *m, *other;
  assert_int_equal(mmf_create(n, 64, MMF_TRANSIENT, 0, &m), 0);
  assert_int_equal(mmf_lock(m, 0), 0);
  assert_int_equal(reap(spawn(close_in_child, m), 5000), 0);
  assert_true(shm_exists(n));
  assert_int_equal(mmf_open(n, 0, &other), 0);
  assert_int_equal(mmf_lock(other, 100), -ETIMEDOUT);
  struct mmf_stat st;
  assert_int_equal(mmf_stat(other, &st), 0);
  assert_int_equal(st.holders, 2);
  mmf_close(other);
  mmf_close(m);
  assert_false(shm_exists(n)); /* the last close of its opener */
}

/* The child holds the lock through the handle it shares with its parent:
 * the parent's close must not free it. */
static int lock_shared_and_hold(void *arg) {
  mmf_t *m = arg;
  struct mmf_write_loan w;
  if (mmf_lock(m, 0) != 0 || mmf_write_begin(m, 8, &w) != 0)
    return 1;
  say_ready();
  pause();
  return 0;
}

static void a_parents_close_keeps_its_forked_childs_locks(void **s) {
  (void)s;
  const char *n = tname("pfork");
  mmf_t *m, *other;
  assert_int_equal(mmf_create(n, 64, 0, 0, &m), 0);
  assert_int_equal(pipe(ready), 0);
  pid_t p = spawn(lock_shared_and_hold, m);
  await_ready();
  uint32_t id = m->id;
  mmf_close(m); /* the child still has the handle, and its locks */
  assert_int_equal(mmf_open(n, 0, &other), 0);
  assert_int_equal(mmf_lock(other, 200), -ETIMEDOUT);
  /* The child's copy of the handle holds them with an id of its own. */
  uint32_t held = atomic_load(&other->hdr->wlock) & MMF__ID_MASK;
  assert_true(held != 0 && held != id);
  /* The child gone, the handle is gone: both locks are taken over. */
  kill(p, SIGKILL);
  waitpid(p, NULL, 0);
  assert_int_equal(mmf_lock(other, 1000), MMF_LOCK_ABANDONED);
  int64_t t0 = now_ns();
  assert_int_equal(mmf_write(other, "next", 4), 0);
  assert_true(now_ns() - t0 < 200 * 1000000ll);
  mmf_close(other);
  mmf_remove(n);
  close(ready[0]);
  close(ready[1]);
}

/* A reader that read-locks the whole id range: read-only opens still work,
 * opens that would write get a clear MMF_ESTUCK, never "no such map". */
static void a_readers_range_lock_is_no_removal(void **s) {
  (void)s;
  const char *n = tname("rlock");
  char path[256];
  snprintf(path, sizeof path, "/dev/shm/%s", n);
  mmf_t *m;
  assert_int_equal(mmf_create(n, 64, 0, 0644, &m), 0);
  mmf_close(m);
  int fd = open(path, O_RDONLY);
  struct flock fl = {.l_type = F_RDLCK,
                     .l_whence = SEEK_SET,
                     .l_start = (off_t)(MMF__ID_BASE + 1),
                     .l_len = MMF__ID_MASK};
  assert_int_equal(fcntl(fd, F_OFD_SETLK, &fl), 0);
  assert_int_equal(mmf_open(n, MMF_READONLY, &m), 0);
  mmf_close(m);
  assert_int_equal(mmf_open(n, 0, &m), -MMF_ESTUCK);
  close(fd);
  assert_int_equal(mmf_open(n, 0, &m), 0);
  mmf_close(m);
  mmf_remove(n);
}

static void version_1_maps_are_refused_clearly(void **s) {
  (void)s;
  const char *n = tname("v1");
  mmf_t *m, *raw;
  assert_int_equal(mmf_create(n, 64, 0, 0, &m), 0);
  mmf_close(m);
  assert_int_equal(mmf_open(n, MMF_RAW, &raw), 0);
  ((struct mmf__hdr *)mmf_data(raw))->version = 1;
  mmf_close(raw);
  assert_int_equal(mmf_open(n, 0, &m), -MMF_EVERSION);
  assert_non_null(strstr(mmf_strerror(-MMF_EVERSION), "create it again"));
  assert_int_equal(mmf_remove(n), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      T(locks_hold_across_pid_namespaces),
      T(locks_hold_behind_hidepid),
      T(a_reused_pid_is_not_the_dead_holder),
      T(a_thousand_holders),
      T(peers_cannot_delete_or_block_the_name),
      T(killed_waiter_costs_one_wake),
      T(peer_clearing_the_futex_word_delays_at_most_a_slice),
      T(closing_another_handle_keeps_the_lock),
      T(closing_the_locking_handle_elsewhere_frees_it),
      T(begin_and_commit_in_two_threads),
      T(a_reader_cannot_keep_a_dead_writer_alive),
      T(a_forked_child_closing_keeps_the_parents_locks),
      T(a_parents_close_keeps_its_forked_childs_locks),
      T(a_readers_range_lock_is_no_removal),
      T(version_1_maps_are_refused_clearly),
  };
  return run_cases("liveness", tests, NULL, NULL);
}
