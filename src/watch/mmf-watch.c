/* SPDX-License-Identifier: MIT */
/* mmf-watch: removes a transient map's name once no handle holds the map.
 *
 * libmmf starts it when a transient map is created, with the object on fd 3,
 * its folder on fd 4 and the map's name as argv[1].  It forks the watcher
 * proper and exits at once (its parent, the library, reaps it and is told
 * whether the watcher started), so that the watcher is nobody's child.  The
 * watcher sleeps in the kernel until it can take a write lock over every
 * handle id (docs/FORMAT.md), that is until the last handle is closed or
 * its process has died, in any PID namespace; then, still holding that lock
 * so that nobody can join, it removes the name if it still names the same
 * object. */
#include "format.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 2 || !argv[1][0] || fcntl(3, F_GETFD) < 0 ||
      fcntl(4, F_GETFD) < 0)
    return EINVAL;
  /* Nothing of the creator's but the object and its folder. */
  if (syscall(SYS_close_range, 5u, ~0u, 0u) < 0)
    for (int fd = 5; fd < 1024; fd++)
      (void)close(fd);
  signal(SIGHUP, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  pid_t pid = fork();
  if (pid < 0)
    return errno;
  if (pid > 0)
    return 0;

  struct stat mine, now;
  if (fstat(3, &mine) < 0)
    return 1;
  struct flock fl = {.l_type = F_WRLCK,
                     .l_whence = SEEK_SET,
                     .l_start = (off_t)(MMF__ID_BASE + 1),
                     .l_len = (off_t)MMF__ID_MASK};
  while (fcntl(3, F_OFD_SETLKW, &fl) < 0)
    if (errno != EINTR)
      return 1;
  /* Last one out: the name goes, unless it names another object now (a
   * closer removed it and someone made a new map under the name). */
  if (fstatat(4, argv[1], &now, AT_SYMLINK_NOFOLLOW) == 0 &&
      now.st_dev == mine.st_dev && now.st_ino == mine.st_ino)
    (void)unlinkat(4, argv[1], 0);
  return 0;
}
