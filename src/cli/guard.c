/* SPDX-License-Identifier: MIT */
/* mmf lock's supervisor: runs the command in a guard process that shares
 * the locked handle, so that nothing the command started outlives the lock
 * when mmf dies or is asked to end.  A command that exits by itself leaves
 * its background jobs running, as under flock(1). */
#include "cli.h"

#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The signals mmf or its guard change, and what mmf was given for them. */
static const int changed[] = {SIGINT,  SIGQUIT, SIGTERM, SIGHUP,
                              SIGCHLD, SIGUSR1, SIGXFSZ};
#define NCHANGED (sizeof changed / sizeof *changed)
static struct sigaction inherited[NCHANGED];
static sigset_t inherited_mask;

void signals_save(void) {
  sigprocmask(SIG_SETMASK, NULL, &inherited_mask);
  for (size_t i = 0; i < NCHANGED; i++)
    sigaction(changed[i], NULL, &inherited[i]);
}

/* For the command: what mmf was started with (an inherited SIG_IGN of
 * SIGINT stays ignored, as a shell's background job expects). */
static void signals_restore(void) {
  for (size_t i = 0; i < NCHANGED; i++)
    sigaction(changed[i], &inherited[i], NULL);
  sigprocmask(SIG_SETMASK, &inherited_mask, NULL);
}

/* The signals mmf and the guard take with sigwaitinfo, blocked (never a
 * handler: none can come between a check and a sleep). */
static void waited_set(sigset_t *set) {
  sigemptyset(set);
  sigaddset(set, SIGCHLD);
  sigaddset(set, SIGTERM);
  sigaddset(set, SIGHUP);
  sigaddset(set, SIGINT);
  sigaddset(set, SIGQUIT);
}

/* A request to end that the command should hear too: TERM, HUP, INT sent
 * by a process.  The terminal's (si_code SI_KERNEL: ^C, a hangup) reaches
 * the whole foreground group, the command included, already; QUIT only
 * comes from there. */
static bool to_forward(int sig, const siginfo_t *si) {
  return (sig == SIGTERM || sig == SIGHUP || sig == SIGINT) &&
         si->si_code != SI_KERNEL;
}

/* Kill the command (c, unless reaped: 0) and every descendant: as their
 * subreaper we inherit the orphans of the ones we kill, so repeat until
 * none is left. */
static void kill_descendants(pid_t c) {
  if (c > 0)
    kill(c, SIGKILL);
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
  for (;;) {
    FILE *f = fopen(path, "re");
    if (!f) {
      /* No /proc: the orphans cannot be named, only waited for (the lock
       * stays held meanwhile), asleep in waitpid. */
      while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
        ;
      return;
    }
    int pid, n = 0;
    while (fscanf(f, "%d", &pid) == 1) {
      kill(pid, SIGKILL);
      n++;
    }
    fclose(f);
    while (waitpid(-1, NULL, n ? 0 : WNOHANG) > 0)
      if (n)
        n--;
    if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
      return;
  }
}

static int exit_status(int status) {
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

/* In a child of mmf lock: run cmd; return its status for mmf to pass on.
 * We hold mmf's handle too, its life included (fork_sharing_the_handle),
 * hence the lock.  Should mmf
 * die, the kernel tells us (PDEATHSIG), and we kill the command and what it
 * started, so nothing it runs outlives the lock.  Asked to end (TERM, HUP,
 * INT), we pass it on if the terminal did not send it to the command too,
 * and once the command is gone kill what it left. */
static int guard(const char *name, char **cmd, pid_t mmf_pid) {
  sigset_t set;
  waited_set(&set);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, NULL);
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  prctl(PR_SET_PDEATHSIG, SIGUSR1);
  if (getppid() != mmf_pid)
    return 137; /* mmf is already gone */
  pid_t self = getpid();
  pid_t c = fork();
  if (c < 0) {
    fail("lock", name, "cannot start the command: %s", strerror(errno));
    return 126;
  }
  if (c == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != self)
      _exit(137);
    signals_restore();
    execvp(cmd[0], cmd);
    int e = errno;
    char qc[QUOTED_MAX];
    fail("lock", name, "cannot run %s: %s", quote_name(cmd[0], qc, sizeof qc),
         strerror(e));
    _exit(e == ENOENT ? 127 : 126);
  }
  int status;
  bool asked_to_end = false;
  sigset_t forwarded;
  sigemptyset(&forwarded);
  for (pid_t w; (w = waitpid(c, &status, WNOHANG)) != c;) {
    if (w < 0 && errno == ECHILD)
      return 126; /* reaped by someone else: cannot happen */
    siginfo_t si;
    int sig = sigwaitinfo(&set, &si);
    if (sig == SIGUSR1) {
      kill_descendants(c); /* mmf died */
      return 137;
    }
    if (sig == SIGTERM || sig == SIGHUP || sig == SIGINT)
      asked_to_end = true;
    if (sig > 0 && to_forward(sig, &si)) {
      /* Once each: a signal to the process group reaches the command, mmf
       * and us at once, and mmf passes its copy on to us. */
      if (!sigismember(&forwarded, sig))
        kill(c, sig);
      sigaddset(&forwarded, sig);
    }
  }
  if (asked_to_end)
    kill_descendants(0);
  return exit_status(status);
}

/* fork() without the library's atfork handlers: the guard shares mmf's
 * handle, its life included (a fork()ed child's copy gives it up, so that a
 * pre-forked worker keeps no writer alive), and so holds the lock while it
 * lives, after mmf too: what the command left running is killed, or where
 * it cannot be named (no /proc) waited for, before the lock goes.  mmf is
 * single-threaded here, so no other thread holds a lock the handlers would
 * have taken. */
static pid_t fork_sharing_the_handle(void) {
#ifdef SYS_clone3
  struct clone_args args = {.exit_signal = SIGCHLD};
  long r = syscall(SYS_clone3, &args, sizeof args);
  if (r >= 0 || errno != ENOSYS)
    return (pid_t)r;
#endif
    /* Every argument but the flags 0: their order differs between
     * architectures, but not for these. */
#if defined(__s390__) || defined(__CRIS__)
  return (pid_t)syscall(SYS_clone, 0, SIGCHLD, 0, 0, 0);
#else
  return (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
#endif
}

int run_guarded(const char *name, char **cmd) {
  fflush(NULL);
  /* Blocked before the fork, so that the guard never misses one; SIGCHLD
   * at its default (an inherited SIG_IGN would reap our children for us and
   * never tell). */
  sigset_t set, old;
  waited_set(&set);
  sigprocmask(SIG_BLOCK, &set, &old);
  signal(SIGCHLD, SIG_DFL);
  pid_t parent = getpid();
  pid_t g = fork_sharing_the_handle();
  if (g < 0) {
    int e = errno;
    sigprocmask(SIG_SETMASK, &old, NULL);
    return fail("lock", name, "cannot start the command: %s", strerror(e));
  }
  if (g == 0)
    _exit(guard(name, cmd, parent));
  /* The terminal's ^C and ^\ reach the command itself: we only wait for it.
   * A TERM, HUP or INT sent to us goes on to the guard, which passes it to
   * the command; we end when the guard does. */
  int status;
  for (pid_t w; (w = waitpid(g, &status, WNOHANG)) != g;) {
    if (w < 0 && errno == ECHILD)
      return 126; /* reaped by someone else: cannot happen */
    siginfo_t si;
    int sig = sigwaitinfo(&set, &si);
    if (sig > 0 && to_forward(sig, &si))
      kill(g, sig);
  }
  return exit_status(status);
}
