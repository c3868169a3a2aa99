/* SPDX-License-Identifier: MIT */
/* This process and others: the pid, a count of fork()s, and starting the
 * watcher of transient maps. */
#include "internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Is `path` a regular file we may execute? */
static bool executable_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Where mmf-watch is: $MMF_WATCHER; else, when this code runs from a
 * loaded libmmf.so, beside it or in the libexec folder relative to it
 * (a module folder, the build tree, a prefix moved after installation);
 * else the path it was installed to.  Never a search of $PATH. */
static const char *watcher_path(char buf[static PATH_MAX]) {
  const char *env = secure_getenv("MMF_WATCHER");
  if (env && env[0])
    return env;
  Dl_info info;
  const char *lib = NULL;
  if (dladdr((void *)mmf__os_spawn_watcher, &info) && info.dli_fname)
    lib = info.dli_fname;
  const char *slash = lib ? strrchr(lib, '/') : NULL;
  /* Only a shared library: the static one is part of a program (the CLI),
   * whose folder says nothing of where the watcher is. */
  if (slash && !strncmp(slash + 1, "libmmf.so", 9)) {
    static const char *const from_lib[] = {"mmf-watch", MMF_WATCHER_FROM_LIB,
                                           "../libexec/mmf-watch"};
    int dlen = (int)(slash - lib);
    for (size_t i = 0; i < sizeof from_lib / sizeof *from_lib; i++) {
      int n = snprintf(buf, PATH_MAX, "%.*s/%s", dlen, lib, from_lib[i]);
      if (n > 0 && n < PATH_MAX && executable_file(buf))
        return buf;
    }
  }
  return MMF_WATCHER_PATH;
}

int mmf__os_spawn_watcher(int fd, int dirfd, const char *base) {
  char found[PATH_MAX];
  const char *path = watcher_path(found);
  /* An open file of its own: sharing ours would keep our locks alive in
   * it, and make its write lock a conversion of ours.  Both descriptors sit
   * above the numbers they go to, so that dup2 onto 3 cannot overwrite the
   * folder's on its way to 4. */
  int obj = -1;
  int r = mmf__os_reopen(fd, true, dirfd, base, &obj);
  int own = r < 0 ? -1 : fcntl(obj, F_DUPFD_CLOEXEC, 10);
  int dir = r < 0 ? -1 : fcntl(dirfd, F_DUPFD_CLOEXEC, 10);
  if (r == 0 && (own < 0 || dir < 0))
    r = -errno;
  mmf__os_close(obj);
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  bool fa_made = false, at_made = false;
  if (r == 0 && !(fa_made = posix_spawn_file_actions_init(&fa) == 0))
    r = -ENOMEM;
  if (r == 0 && !(at_made = posix_spawnattr_init(&at) == 0))
    r = -ENOMEM;
  /* fd 3: the object, 4: its folder; the rest of ours stays behind (the
   * watcher closes all others at once). */
  if (!r && (posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDWR, 0) ||
             posix_spawn_file_actions_adddup2(&fa, 0, 1) ||
             posix_spawn_file_actions_adddup2(&fa, 0, 2) ||
             posix_spawn_file_actions_adddup2(&fa, own, 3) ||
             posix_spawn_file_actions_adddup2(&fa, dir, 4)))
    r = -ENOMEM;
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  /* Its own session (a terminal's ^C does not reach it), default signal
   * dispositions and no blocked signals whatever the caller has. */
  if (!r && (posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID |
                                               POSIX_SPAWN_SETSIGMASK |
                                               POSIX_SPAWN_SETSIGDEF) ||
             posix_spawnattr_setsigmask(&at, &none) ||
             posix_spawnattr_setsigdefault(&at, &all)))
    r = -ENOMEM;
  pid_t pid = 0;
  if (!r) {
    char *const argv[] = {(char *)"mmf-watch", (char *)base, NULL};
    char *const envp[] = {NULL};
    int e = posix_spawn(&pid, path, &fa, &at, argv, envp);
    if (e)
      r = -e;
  }
  if (fa_made)
    posix_spawn_file_actions_destroy(&fa);
  if (at_made)
    posix_spawnattr_destroy(&at);
  mmf__os_close(own);
  mmf__os_close(dir);
  if (r < 0)
    return r;
  /* It forks the real watcher and exits at once, reporting whether the
   * watcher started: 0, or the errno it failed with. */
  int status;
  pid_t w;
  do
    w = waitpid(pid, &status, 0);
  while (w < 0 && errno == EINTR);
  if (w < 0)
    return errno == ECHILD ? 0 : -errno; /* the caller reaps children */
  if (!WIFEXITED(status))
    return -ECHILD;
  return WEXITSTATUS(status) ? -WEXITSTATUS(status) : 0;
}

/* fork() calls made since the library was first used, counted by an
 * atfork handler: a handle open across a fork is shared with the child. */
static _Atomic unsigned long forks;

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void count_fork(void) {
  atomic_fetch_add_explicit(&forks, 1, memory_order_relaxed);
}

static void install_atfork(void) {
  (void)pthread_atfork(NULL, count_fork, count_fork);
}

unsigned long mmf__os_forks(void) {
  pthread_once(&atfork_once, install_atfork);
  return atomic_load_explicit(&forks, memory_order_relaxed);
}

pid_t mmf__os_getpid(void) {
  return getpid();
}
