/* SPDX-License-Identifier: MIT */
/* Watch several maps from one thread and one epoll set, beside stdin:
 * print "NAME SEQ LENGTH" for each new content of any of them (the current
 * one first, if any), and exit when stdin closes.
 *   poll_maps NAME... */
#include <mmf.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: poll_maps NAME...\n");
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    perror("poll_maps: epoll_create1");
    return 1;
  }
  /* stdin is entry 0, map i is entry i (its index in argv). */
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev) < 0) {
    perror("poll_maps: stdin");
    return 1;
  }
  mmf_t **maps = calloc((size_t)argc, sizeof *maps);
  for (int i = 1; i < argc; i++) {
    int r = mmf_open(argv[i], MMF_READONLY, &maps[i]);
    int fd = r < 0 ? r : mmf_event_fd(maps[i]);
    if (fd < 0) {
      fprintf(stderr, "poll_maps: %s: %s\n", argv[i], mmf_strerror(fd));
      return 1;
    }
    /* Readable at once when the map holds any content, then after each
     * content newer than the one acknowledged. */
    ev = (struct epoll_event){.events = EPOLLIN, .data.u64 = (uint64_t)i};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
      perror("poll_maps: epoll_ctl");
      return 1;
    }
  }
  for (;;) {
    struct epoll_event got[16];
    int n = epoll_wait(ep, got, 16, -1);
    if (n < 0)
      continue; /* a signal */
    for (int k = 0; k < n; k++) {
      int i = (int)got[k].data.u64;
      if (i == 0) {
        char buf[256];
        if (read(0, buf, sizeof buf) <= 0)
          goto out; /* stdin closed */
        continue;
      }
      /* Acknowledge first, then read: a content published in between
       * makes the descriptor readable again, so none is missed. */
      uint64_t seq;
      void *data;
      size_t len;
      if (mmf_event_ack(maps[i], &seq) < 0 ||
          mmf_read_alloc(maps[i], &data, &len, &seq) < 0) {
        fprintf(stderr, "poll_maps: %s: cannot read\n", argv[i]);
        return 1;
      }
      free(data);
      printf("%s %llu %zu\n", argv[i], (unsigned long long)seq, len);
    }
  }
out:
  for (int i = 1; i < argc; i++)
    mmf_close(maps[i]); /* closes its descriptor too */
  free(maps);
  close(ep);
  return 0;
}
