/* SPDX-License-Identifier: MIT */
/* mmf lock's supervisor: runs the command in a guard process that shares
 * the locked handle, so that nothing the command started outlives the
 * lock, whatever happens to mmf. */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* Kill every descendant: as their subreaper we inherit the orphans of the
 * ones we kill, so repeat until none is left. */
static void kill_descendants(void) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
  for (;;) {
    FILE *f = fopen(path, "re");
    int pid, n = 0;
    while (f && fscanf(f, "%d", &pid) == 1) {
      kill(pid, SIGKILL);
      n++;
    }
    if (f)
      fclose(f);
    while (waitpid(-1, NULL, n ? 0 : WNOHANG) > 0)
      if (n)
        n--;
    if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
      return;
  }
}

/* In a child of mmf lock: run cmd; return its status for mmf to pass on.
 * We hold mmf's handle too (fork shares it), hence the lock.  Should mmf
 * die, the kernel tells us (PDEATHSIG), and we kill the command and what it
 * started, so nothing it runs outlives the lock. */
static int guard(const char *name, char **cmd, pid_t mmf_pid) {
  /* Both signals are taken with sigwaitinfo, never by a handler: none can
   * come between a check and a sleep. */
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, &old);
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  prctl(PR_SET_PDEATHSIG, SIGUSR1);
  if (getppid() != mmf_pid)
    return 126;
  pid_t c = fork();
  if (c < 0) {
    fail("lock", name, "cannot start the command: %s", strerror(errno));
    return 126;
  }
  if (c == 0) {
    signal(SIGINT, SIG_DFL);
    signal(SIGQUIT, SIG_DFL);
    sigprocmask(SIG_SETMASK, &old, NULL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    execvp(cmd[0], cmd);
    fail("lock", name, "cannot run '%s': %s", cmd[0], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }
  int status;
  while (waitpid(c, &status, WNOHANG) != c) {
    if (sigwaitinfo(&set, NULL) == SIGUSR1) {
      kill_descendants(); /* mmf died */
      return 137;
    }
  }
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

int run_guarded(const char *name, char **cmd) {
  fflush(NULL);
  pid_t parent = getpid();
  pid_t g = fork();
  if (g < 0)
    return fail("lock", name, "cannot start the command: %s", strerror(errno));
  if (g == 0)
    _exit(guard(name, cmd, parent));
  /* Keyboard interrupts go to the command; we wait for it either way. */
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  int status;
  while (waitpid(g, &status, 0) < 0 && errno == EINTR)
    ;
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}
