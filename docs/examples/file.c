/* SPDX-License-Identifier: MIT */
/* Pages: mmf_map_file mmf_write_fd mmf_read_fd mmf_save mmf_sync */
/* Count the lines of a file through a mapping, publish the file in
 * a map with the kernel's copy, save the map to another file, and
 * mark that copy in place. */
#include <errno.h>
#include <fcntl.h>
#include <mmf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(const char *what, int r) {
  fprintf(stderr, "%s: %s\n", what, mmf_strerror(r));
  return EXIT_FAILURE;
}

int main(int argc, char *argv[]) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s FILE MAP COPY\n", argv[0]);
    return 2;
  }
  mmf_t *f, *m;
  int e = mmf_map_file(argv[1], MMF_READONLY, &f);
  if (e < 0)
    return fail(argv[1], e);
  size_t lines = 0;
  const char *p =
      mmf_data(f); /* NULL for an empty file, with size 0 */
  for (size_t i = 0; i < mmf_size(f); i++)
    lines += p[i] == '\n';
  size_t size = mmf_size(f);
  mmf_close(f);

  if ((e = mmf_create(argv[2], size ? size : 1, MMF_TRANSIENT, 0600,
                      &m)) < 0)
    return fail(argv[2], e);
  int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
  size_t moved;
  if (fd < 0 || (e = mmf_write_fd(m, fd, size, &moved)) < 0)
    return fail("write_fd", fd < 0 ? -errno : e);
  close(fd);
  if ((e = mmf_save(m, argv[3])) < 0) /* whole, or not at all */
    return fail(argv[3], e);
  /* The content to a descriptor (a pipe or terminal, if stdout is).
   */
  if ((e = mmf_read_fd(m, STDOUT_FILENO, NULL, NULL)) < 0)
    return fail("read_fd", e);
  mmf_close(m);

  if ((e = mmf_map_file(argv[3], 0, &f)) < 0)
    return fail(argv[3], e);
  if (mmf_size(f))
    memset(mmf_data(f), '#', 1);
  if ((e = mmf_sync(f)) < 0) /* on disk before we say so */
    return fail("sync", e);
  mmf_close(f);
  fprintf(stderr, "%zu lines, %zu bytes moved\n", lines, moved);
  return EXIT_SUCCESS;
}
