/* SPDX-License-Identifier: MIT */
/* The test runner: see runner.h. */
#include "runner.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RUNNER_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define RUNNER_TSAN 1
#endif
#ifdef RUNNER_TSAN
#include <sanitizer/common_interface_defs.h>
#endif

const char *mmf_test_prefix(void) {
  const char *p = getenv("MMF_TEST_PREFIX");
  return p && *p && !strchr(p, '/') ? p : "mmftest";
}

/* ---- descriptors ---- */

#define MAX_FD 4096
struct fdset {
  unsigned char open[MAX_FD / 8];
  int n;
};

static void fds_now(struct fdset *s) {
  memset(s, 0, sizeof *s);
  DIR *d = opendir("/proc/self/fd");
  if (!d)
    return;
  int own = dirfd(d);
  struct dirent *de;
  while ((de = readdir(d))) {
    if (de->d_name[0] == '.')
      continue;
    int fd = atoi(de->d_name);
    if (fd == own || fd < 0 || fd >= MAX_FD)
      continue;
    s->open[fd / 8] |= (unsigned char)(1u << (fd % 8));
    s->n++;
  }
  closedir(d);
}

static bool fd_in(const struct fdset *s, int fd) {
  return s->open[fd / 8] & (1u << (fd % 8));
}

/* Prints each descriptor open in `after` and not in `before`: 1 if any. */
static int fd_leaks(const struct fdset *before, const struct fdset *after) {
  int leaked = 0;
  for (int fd = 0; fd < MAX_FD; fd++) {
    if (fd_in(after, fd) == fd_in(before, fd))
      continue;
    char p[64], target[256] = "?";
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    ssize_t k = readlink(p, target, sizeof target - 1);
    target[k > 0 ? k : 1] = '\0';
    printf("# fd %d %s by the case (%s)\n", fd,
           fd_in(after, fd) ? "left open" : "closed", target);
    leaked = 1;
  }
  return leaked;
}

/* ---- what a case leaves behind ---- */

/* 1 if `name` is PREFIX-...-PID-N (tname() in process `pid`), possibly
 * behind the library's temporary ".mmf-tmp-XXXXXXXX-". */
static int made_by(const char *name, pid_t pid) {
  const char *prefix = mmf_test_prefix();
  if (!strncmp(name, ".mmf-tmp-", 9) && strlen(name) > 18)
    name += 18;
  size_t pl = strlen(prefix);
  if (strncmp(name, prefix, pl) || name[pl] != '-')
    return 0;
  char mark[32];
  int ml = snprintf(mark, sizeof mark, "-%d-", (int)pid);
  for (const char *at = strstr(name + pl, mark); at;
       at = strstr(at + 1, mark)) {
    const char *t = at + ml;
    if (*t && strspn(t, "0123456789") == strlen(t))
      return 1;
  }
  return 0;
}

static void remove_shm_of(pid_t pid) {
  DIR *d = opendir("/dev/shm");
  if (!d)
    return;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (made_by(de->d_name, pid) && unlinkat(dirfd(d), de->d_name, 0) == 0)
      printf("# removed /dev/shm/%s\n", de->d_name);
  }
  closedir(d);
}

/* The entries /tmp/mmftest-* (the tests' files and folders). */
struct names {
  char **v;
  size_t n;
};

static void tmp_names(struct names *s) {
  s->v = NULL;
  s->n = 0;
  DIR *d = opendir("/tmp");
  if (!d)
    return;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (strncmp(de->d_name, "mmftest-", 8))
      continue;
    char **v = realloc(s->v, (s->n + 1) * sizeof *v);
    if (!v)
      break;
    s->v = v;
    s->v[s->n++] = strdup(de->d_name);
  }
  closedir(d);
}

static void names_free(struct names *s) {
  for (size_t i = 0; i < s->n; i++)
    free(s->v[i]);
  free(s->v);
}

static void remove_tree(int at, const char *name) {
  if (unlinkat(at, name, 0) == 0 || (errno != EISDIR && errno != EPERM))
    return;
  int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (d) {
    struct dirent *de;
    while ((de = readdir(d)))
      if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
        remove_tree(dirfd(d), de->d_name);
    closedir(d);
  } else if (fd >= 0) {
    close(fd);
  }
  unlinkat(at, name, AT_REMOVEDIR);
}

/* Removes what is in /tmp now and was not in `before`. */
static void remove_new_tmp(const struct names *before) {
  struct names now;
  tmp_names(&now);
  int tmp = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  for (size_t i = 0; tmp >= 0 && i < now.n; i++) {
    bool old = false;
    for (size_t j = 0; j < before->n && !old; j++)
      old = before->v[j] && !strcmp(before->v[j], now.v[i]);
    if (!old && now.v[i]) {
      remove_tree(tmp, now.v[i]);
      printf("# removed /tmp/%s\n", now.v[i]);
    }
  }
  if (tmp >= 0)
    close(tmp);
  names_free(&now);
}

/* ---- one case ---- */

enum result { PASS, SKIP, FAIL };

static int case_timeout(void) {
  const char *t = getenv("MMF_TEST_TIMEOUT");
  int s = t ? atoi(t) : 0;
  return s > 0 ? s : 60;
}

/* In the child: the case, under cmocka, with stdout and stderr on `out`. */
static void run_child(const struct CMUnitTest *t, CMFixtureFunction gsetup,
                      CMFixtureFunction gteardown, int out) {
  setpgid(0, 0); /* the parent ends the case's processes with it */
  dup2(out, STDOUT_FILENO);
  dup2(out, STDERR_FILENO);
  close(out);
  setvbuf(stdout, NULL, _IONBF, 0);
  unsetenv("CMOCKA_MESSAGE_OUTPUT"); /* this runner reads the STDOUT form */
  cmocka_set_message_output(CM_OUTPUT_STDOUT);
#ifdef RUNNER_TSAN
  /* ThreadSanitizer starts its symbolizer (and keeps its pipes) the first
   * time it symbolizes: start it now, so that the count before includes
   * them and the check below still holds. */
  char buf[256];
  __sanitizer_symbolize_pc(__builtin_return_address(0), "%p %F %L", buf,
                           sizeof buf);
#endif
  struct fdset before, after;
  fds_now(&before);
  struct CMUnitTest one = *t;
  int failed = _cmocka_run_group_tests(t->name, &one, 1, gsetup, gteardown);
  fds_now(&after);
  if (failed)
    exit(1);
  if (fd_leaks(&before, &after)) {
    printf("# descriptors: %d before the case, %d after\n", before.n, after.n);
    exit(1);
  }
  /* exit(), not _exit(): LeakSanitizer checks the case's process. */
  exit(0);
}

/* Waits for the case's process at most `timeout` seconds; 1 if it timed
 * out (it is killed then). */
static int await_case(pid_t pid, int timeout, int *status) {
  struct timespec start, now, nap = {0, 2000000};
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR))
      return 0;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec >= timeout) {
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      waitpid(pid, status, 0);
      return 1;
    }
    nanosleep(&nap, NULL);
    if (nap.tv_nsec < 50000000)
      nap.tv_nsec *= 2;
  }
}

/* A line cmocka prints about the run itself (not about why it failed). */
static int cmocka_line(const char *l, bool *skipped) {
  static const char *own[] = {"[==========]", "[ RUN      ]", "[       OK ]",
                              "[  PASSED  ]", "[  FAILED  ]", "[  SKIPPED ]"};
  for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
    if (!strncmp(l, own[i], 12)) {
      if (i == 5)
        *skipped = true;
      return 1;
    }
  }
  unsigned k;
  char word[16];
  return sscanf(l, " %u %15s TEST(S)", &k, word) == 2 &&
         strstr(l, "TEST(S)") != NULL;
}

/* Copies the case's output as TAP comments; finds whether it skipped and
 * the reason it printed ("# skipped: REASON"). */
static void relay(const char *name, int out, bool *skipped, char *reason,
                  size_t reason_size) {
  *skipped = false;
  lseek(out, 0, SEEK_SET);
  FILE *f = fdopen(dup(out), "r");
  if (!f)
    return;
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  while ((len = getline(&line, &cap, f)) >= 0) {
    if (len > 0 && line[len - 1] == '\n')
      line[--len] = '\0';
    if (cmocka_line(line, skipped))
      continue;
    if (name) /* a heading, for a case that says something */
      printf("# %s:\n", name);
    name = NULL;
    if (!strncmp(line, "# skipped: ", 11))
      snprintf(reason, reason_size, "%s", line + 11);
    printf(line[0] == '#' ? "%s\n" : "# %s\n", line);
  }
  free(line);
  fclose(f);
}

static enum result run_case(size_t number, const struct CMUnitTest *t,
                            CMFixtureFunction gsetup,
                            CMFixtureFunction gteardown) {
  int out = memfd_create("mmf-test-case", MFD_CLOEXEC);
  if (out < 0) {
    printf("not ok %zu - %s\n# memfd_create: %s\n", number, t->name,
           strerror(errno));
    return FAIL;
  }
  struct names tmp_before;
  tmp_names(&tmp_before);
  int timeout = case_timeout();
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0)
    run_child(t, gsetup, gteardown, out);
  if (pid < 0) {
    printf("not ok %zu - %s\n# fork: %s\n", number, t->name, strerror(errno));
    close(out);
    names_free(&tmp_before);
    return FAIL;
  }
  setpgid(pid, pid);
  int status = 0;
  int timed_out = await_case(pid, timeout, &status);
  kill(-pid, SIGKILL); /* whatever the case started and left running */

  bool skipped;
  char reason[256] = "";
  relay(t->name, out, &skipped, reason, sizeof reason);
  close(out);

  enum result res = FAIL;
  char why[128] = "";
  if (timed_out)
    snprintf(why, sizeof why, "timed out after %d s (MMF_TEST_TIMEOUT)",
             timeout);
  else if (WIFSIGNALED(status))
    snprintf(why, sizeof why, "crashed: signal %d (%s)", WTERMSIG(status),
             strsignal(WTERMSIG(status)));
  else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
    snprintf(why, sizeof why, "exited with status %d", WEXITSTATUS(status));
  else
    res = skipped ? SKIP : PASS;

  remove_shm_of(pid);
  if (res == FAIL)
    remove_new_tmp(&tmp_before);
  names_free(&tmp_before);

  if (res == PASS)
    printf("ok %zu - %s\n", number, t->name);
  else if (res == SKIP)
    printf("ok %zu - %s # SKIP %s\n", number, t->name,
           reason[0] ? reason : "skipped by the case");
  else
    printf("not ok %zu - %s\n# %s\n", number, t->name, why);
  fflush(stdout);
  return res;
}

/* 1 if `name` is among $MMF_TEST_CASES (names split by spaces), or that is
 * unset. */
static int selected(const char *name) {
  const char *only = getenv("MMF_TEST_CASES");
  if (!only || !*only)
    return 1;
  size_t n = strlen(name);
  for (const char *at = only; (at = strstr(at, name)); at += n)
    if ((at == only || at[-1] == ' ') && (at[n] == '\0' || at[n] == ' '))
      return 1;
  return 0;
}

int mmf_test_run(const char *group, const struct CMUnitTest *tests, size_t n,
                 CMFixtureFunction group_setup,
                 CMFixtureFunction group_teardown) {
  /* Children are waited for here: an inherited SIG_IGN would reap them. */
  signal(SIGCHLD, SIG_DFL);
  size_t planned = 0;
  for (size_t i = 0; i < n; i++)
    planned += selected(tests[i].name);
  printf("1..%zu\n", planned);
  size_t number = 0, failed = 0, skipped = 0;
  for (size_t i = 0; i < n; i++) {
    if (!selected(tests[i].name))
      continue;
    enum result r = run_case(++number, &tests[i], group_setup, group_teardown);
    failed += r == FAIL;
    skipped += r == SKIP;
  }
  printf("# %s: %zu passed, %zu skipped, %zu failed\n", group,
         number - failed - skipped, skipped, failed);
  return failed ? 1 : 0;
}
