/* SPDX-License-Identifier: MIT */
/* Pages: mmf_event_fd mmf_event_ack mmf_wait_any mmf_write_seq
 * mmf_append_seq mmf_write_at_seq mmf_write_commit_seq
 * mmf_write_fd_seq */
/* An event loop over a map: a child publishes and learns the seq
 * it published; the parent polls the map's descriptor beside what
 * else it watches, then waits on two maps at once. */
#include <mmf.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
  const char *name = argc > 1 ? argv[1] : "example-events";
  mmf_t *m;
  int e = mmf_create(name, 4096, MMF_TRANSIENT, 0600, &m);
  if (e < 0) {
    fprintf(stderr, "%s: %s\n", name, mmf_strerror(e));
    return EXIT_FAILURE;
  }
  int fd = mmf_event_fd(m);
  uint64_t seq;
  if (fd < 0 || mmf_event_ack(m, &seq) < 0) /* from now on */
    return EXIT_FAILURE;
  pid_t child = fork();
  if (child == 0) {
    usleep(100 * 1000);
    uint64_t mine;
    if (mmf_write_seq(m, "ready", 5, &mine) < 0)
      _exit(1);
    printf("child published seq %llu\n", (unsigned long long)mine);
    _exit(0);
  }
  /* The map's descriptor beside stdin: any poll or epoll loop. */
  struct pollfd p[2] = {{.fd = fd, .events = POLLIN},
                        {.fd = STDIN_FILENO, .events = 0}};
  if (poll(p, 2, 5000) > 0 && (p[0].revents & POLLIN)) {
    mmf_event_ack(m, &seq); /* acknowledge, then read */
    char buf[64];
    size_t len;
    if (mmf_read(m, buf, sizeof buf, &len, &seq) == 0)
      printf("readable: seq %llu, %zu bytes\n",
             (unsigned long long)seq, len);
  }
  waitpid(child, NULL, 0);
  /* Or wait in place for whichever of several maps changes first.
   */
  mmf_t *maps[2] = {m, m};
  uint64_t after[2] = {seq, 0};
  size_t which;
  e = mmf_wait_any(maps, after, 2, -1, 1000, &which, &seq);
  if (e == 0)
    printf("map %zu is at seq %llu\n", which,
           (unsigned long long)seq);
  mmf_close(m);
  return e == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
