/* SPDX-License-Identifier: MIT */
/*
 * Pages: mmf_create mmf_open mmf_close mmf_remove mmf_write
 * mmf_write_at mmf_read mmf_read_alloc mmf_stat mmf_fd mmf_strerror
 * mmf_version
 */
/* Make a map, write a content and patch it, then read it back
 * through a second, read-only handle, as another process would. */
#include <mmf.h>
#include <stdio.h>
#include <stdlib.h>

static int fail(const char *what, int r) {
  fprintf(stderr, "%s: %s\n", what, mmf_strerror(r));
  return EXIT_FAILURE;
}

int main(int argc, char *argv[]) {
  const char *name = argc > 1 ? argv[1] : "example-hello";
  mmf_t *w, *r;
  int e = mmf_create(name, 4096, MMF_OPEN_EXISTING, 0600, &w);
  if (e < 0)
    return fail(name, e);
  if ((e = mmf_write(w, "hello, world", 12)) < 0 ||
      (e = mmf_write_at(w, 0, "H", 1)) < 0)
    return fail("write", e);

  if ((e = mmf_open(name, MMF_READONLY, &r)) < 0)
    return fail("open", e);
  char buf[64];
  size_t len;
  uint64_t seq;
  if ((e = mmf_read(r, buf, sizeof buf, &len, &seq)) < 0)
    return fail("read", e);
  printf("seq %llu: %.*s\n", (unsigned long long)seq, (int)len,
         buf);

  void *copy;
  if ((e = mmf_read_alloc(r, &copy, &len, NULL)) < 0)
    return fail("read_alloc", e);
  free(copy);
  struct mmf_stat st;
  if ((e = mmf_stat(r, &st)) < 0)
    return fail("stat", e);
  printf("%zu of %zu bytes, %u holders, fd %d, libmmf %s\n",
         st.length, st.capacity, st.holders, mmf_fd(r),
         mmf_version());

  mmf_close(r);
  mmf_close(w);
  return mmf_remove(name) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
