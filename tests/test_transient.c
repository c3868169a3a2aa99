/* SPDX-License-Identifier: MIT */
/* Transient maps: gone when their last holder closes, exits or is killed,
 * reaped when their holders die, and an orphan never revived. */
#include "util.h"

/* ---- gone by themselves ---- */

enum end { END_CLOSE, END_EXIT, END_KILL };

static int transient_holder(void *arg) {
  const char *n = arg;
  mmf_t *m;
  /* With no stdin, the map's folder gets fd 0: the watcher must still get
   * the folder, not the map. */
  close(0);
  if (mmf_create(n, 64, MMF_TRANSIENT, 0, &m) < 0)
    return 1;
  if (mmf_write(m, "old", 3) < 0)
    return 2;
  say_ready();
  pause();
  return 0;
}

static int transient_closer(void *arg) {
  const char *n = arg;
  mmf_t *m;
  if (mmf_create(n, 64, MMF_TRANSIENT, 0, &m) < 0)
    return 1;
  say_ready();
  usleep(100000);
  mmf_close(m);
  return 0;
}

/* ms until /dev/shm/n is gone, polling without any mmf call; -1 after 5 s */
static double gone_within(const char *n) {
  int64_t t0 = now_ns();
  while (shm_exists(n)) {
    if (now_ns() - t0 > 5000 * 1000000ll)
      return -1;
    usleep(1000);
  }
  return (double)(now_ns() - t0) / 1e6;
}

static void transient_goes_by_itself(enum end how) {
  const char *n = tname("gone");
  assert_int_equal(pipe(ready), 0);
  pid_t p =
      spawn(how == END_CLOSE ? transient_closer : transient_holder, (void *)n);
  await_ready();
  assert_true(shm_exists(n));
  if (how == END_KILL)
    kill(p, SIGKILL);
  else if (how == END_EXIT)
    kill(p, SIGTERM); /* dies without closing */
  double ms = gone_within(n);
  waitpid(p, NULL, 0);
  printf("# gone %.1f ms after its last holder %s\n", ms,
         how == END_CLOSE  ? "closed it"
         : how == END_EXIT ? "exited"
                           : "was killed");
  assert_true(ms >= 0 && ms < 1000);
  /* Never revived: the name is free for a new map. */
  mmf_t *m;
  assert_int_equal(mmf_open(n, 0, &m), -ENOENT);
  close(ready[0]);
  close(ready[1]);
}

static void transient_gone_after_close(void **s) {
  (void)s;
  transient_goes_by_itself(END_CLOSE);
}
static void transient_gone_after_exit(void **s) {
  (void)s;
  transient_goes_by_itself(END_EXIT);
}
static void transient_gone_after_kill(void **s) {
  (void)s;
  transient_goes_by_itself(END_KILL);
}

static void transient_vanishes_after_last_close(void **s) {
  (void)s;
  const char *n = tname("trans");
  mmf_t *a, *b;
  assert_int_equal(mmf_create(n, 64, MMF_TRANSIENT, 0, &a), 0);
  assert_int_equal(mmf_open(n, 0, &b), 0);
  struct mmf_stat st;
  assert_int_equal(mmf_stat(a, &st), 0);
  assert_int_equal(st.transient, 1);
  assert_int_equal(st.holders, 2);
  mmf_close(a);
  assert_true(shm_exists(n));
  mmf_close(b);
  assert_false(shm_exists(n));
  /* A plain map stays. */
  assert_int_equal(mmf_create(n, 64, 0, 0, &a), 0);
  mmf_close(a);
  assert_true(shm_exists(n));
  mmf_remove(n);
}

/* The name is gone when the last mmf_close returns: the closing handle's
 * mapping, which holds its open file too, is gone before it looks. */
static void transient_gone_when_close_returns(void **s) {
  (void)s;
  for (int i = 0; i < 100; i++) {
    const char *n = tname("ret");
    mmf_t *a, *b;
    assert_int_equal(mmf_create(n, 64, MMF_TRANSIENT, 0, &a), 0);
    assert_int_equal(mmf_open(n, 0, &b), 0);
    mmf_close(a);
    assert_true(shm_exists(n));
    mmf_close(b);
    assert_false(shm_exists(n));
  }
}

/* ---- holders that die ---- */

static int transient_opener(void *arg) {
  mmf_t *m;
  if (mmf_open(arg, 0, &m) < 0)
    return 10;
  say_ready();
  for (;;)
    pause();
}

static int transient_creator(void *arg) {
  mmf_t *m;
  if (mmf_create(arg, 64, MMF_TRANSIENT, 0, &m) < 0)
    return 10;
  say_ready();
  for (;;)
    pause();
}

static void transient_reaped_after_holders_killed(void **s) {
  (void)s;
  const char *n = tname("transk");
  assert_int_equal(pipe(ready), 0);
  pid_t a = spawn(transient_creator, (void *)n);
  await_ready();
  pid_t b = spawn(transient_opener, (void *)n);
  await_ready();
  struct mmf_info in;
  assert_int_equal(mmf_info(n, &in), 0);
  assert_int_equal(in.holders, 2);
  /* One killed: a live holder remains, so the map stays. */
  kill(a, SIGKILL);
  waitpid(a, NULL, 0);
  struct mmf_info *list;
  size_t cnt;
  assert_int_equal(mmf_list(&list, &cnt), 0);
  free(list);
  assert_true(shm_exists(n));
  assert_int_equal(mmf_info(n, &in), 0);
  assert_int_equal(in.holders, 1);
  /* Both killed (b left a zombie for a while): the watcher removes it. */
  kill(b, SIGKILL);
  for (int i = 0; i < 2000 && shm_exists(n); i++)
    usleep(1000);
  assert_false(shm_exists(n));
  waitpid(b, NULL, 0);
  close(ready[0]);
  close(ready[1]);
}

static void transient_orphan_does_not_block_create(void **s) {
  (void)s;
  const char *n = tname("transo");
  assert_int_equal(pipe(ready), 0);
  pid_t a = spawn(transient_creator, (void *)n);
  await_ready();
  mmf_t *m;
  /* While its holder lives, the name is taken. */
  assert_int_equal(mmf_create(n, 64, MMF_TRANSIENT, 0, &m), -EEXIST);
  kill(a, SIGKILL);
  waitpid(a, NULL, 0);
  /* The name goes by itself, or the next create reaps it: either way the
   * create makes a new map. */
  assert_int_equal(mmf_create(n, 128, MMF_TRANSIENT, 0, &m), 0);
  struct mmf_stat st;
  assert_int_equal(mmf_stat(m, &st), 0);
  assert_int_equal(st.capacity, 128); /* a new map, not the orphan */
  mmf_close(m);
  assert_false(shm_exists(n));
  close(ready[0]);
  close(ready[1]);
}

static void transient_reaped_by_next_close(void **s) {
  (void)s;
  const char *n = tname("transc");
  assert_int_equal(pipe(ready), 0);
  pid_t a = spawn(transient_creator, (void *)n);
  await_ready();
  mmf_t *m;
  assert_int_equal(mmf_open(n, 0, &m), 0);
  kill(a, SIGKILL);
  waitpid(a, NULL, 0);
  assert_true(shm_exists(n));
  mmf_close(m); /* the last live holder: the dead one is reaped */
  assert_false(shm_exists(n));
  close(ready[0]);
  close(ready[1]);
}

/* ---- orphans ---- */

/* The watcher was killed too: an orphan is never reopened with its old
 * content; a look reports it, changing nothing, and remove removes it. */
static void transient_orphan_never_revived(void **s) {
  (void)s;
  const char *n = tname("orph");
  char path[256];
  snprintf(path, sizeof path, "/dev/shm/%s", n);
  /* A transient map as its creator would leave it with no watcher: the
   * sticky bit, no holder. */
  mmf_t *m;
  assert_int_equal(mmf_create(n, 64, 0, 0600, &m), 0);
  assert_int_equal(mmf_write(m, "old", 3), 0);
  mmf_close(m);
  assert_int_equal(chmod(path, 01600), 0);
  assert_int_equal(mmf_open(n, 0, &m), -ENOENT);
  assert_false(shm_exists(n));
  /* Read-only openers do not revive it either. */
  assert_int_equal(mmf_create(n, 64, 0, 0600, &m), 0);
  mmf_close(m);
  assert_int_equal(chmod(path, 01600), 0);
  assert_int_equal(mmf_open(n, MMF_READONLY, &m), -ENOENT);
  struct mmf_info *list, in;
  size_t cnt, seen = 0;
  assert_int_equal(mmf_list(&list, &cnt), 0);
  for (size_t i = 0; i < cnt; i++)
    if (!strcmp(list[i].name, n)) {
      seen++;
      assert_int_equal(list[i].orphaned, 1);
      assert_int_equal(list[i].holders, 0);
    }
  free(list);
  assert_int_equal(seen, 1);
  assert_int_equal(mmf_info(n, &in), 0);
  assert_int_equal(in.orphaned, 1);
  assert_true(shm_exists(n)); /* looking removed nothing */
  assert_int_equal(mmf_remove(n), 0);
  assert_false(shm_exists(n));
}

/* Raw bytes of an orphan are its content too: not revived either. */
static void an_orphan_is_not_revived_raw(void **s) {
  (void)s;
  const char *n = tname("orphraw");
  char path[256];
  snprintf(path, sizeof path, "/dev/shm/%s", n);
  mmf_t *m;
  assert_int_equal(mmf_create(n, 64, 0, 0600, &m), 0);
  assert_int_equal(mmf_write(m, "secret", 6), 0);
  mmf_close(m);
  assert_int_equal(chmod(path, 01600), 0); /* transient, nobody holds it */
  assert_int_equal(mmf_open(n, MMF_RAW, &m), -ENOENT);
  assert_false(shm_exists(n));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      T(transient_gone_after_close),
      T(transient_gone_after_exit),
      T(transient_gone_after_kill),
      T(transient_vanishes_after_last_close),
      T(transient_gone_when_close_returns),
      T(transient_reaped_after_holders_killed),
      T(transient_reaped_by_next_close),
      T(transient_orphan_does_not_block_create),
      T(transient_orphan_never_revived),
      T(an_orphan_is_not_revived_raw),
  };
  return run_cases("transient", tests, NULL, NULL);
}
