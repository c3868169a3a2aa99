/* SPDX-License-Identifier: MIT */
/*
 * Pages: mmf_write_begin mmf_write_commit mmf_write_abort
 * mmf_read_begin mmf_read_end
 */
/* Format a content straight into the map, and look at it in place.
 */
#include <errno.h>
#include <mmf.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
  const char *name = argc > 1 ? argv[1] : "example-zerocopy";
  mmf_t *m;
  int e = mmf_create(name, 4096, MMF_TRANSIENT, 0600, &m);
  if (e < 0) {
    fprintf(stderr, "%s: %s\n", name, mmf_strerror(e));
    return EXIT_FAILURE;
  }
  struct mmf_write_loan w;
  if ((e = mmf_write_begin(m, 64, &w)) < 0)
    goto out;
  int n = snprintf(w.data, w.size, "{\"pid\":%d}", (int)getpid());
  if (n < 0 || (size_t)n >= w.size) {
    mmf_write_abort(m, &w); /* publishes nothing */
    e = -ENOBUFS;
    goto out;
  }
  if ((e = mmf_write_commit(m, &w, (size_t)n)) < 0)
    goto out;

  struct mmf_read_view v;
  do { /* look again if a writer reused the bytes meanwhile */
    if ((e = mmf_read_begin(m, &v)) < 0)
      goto out;
    printf("seq %llu: %.*s\n", (unsigned long long)v.seq,
           (int)v.len, (const char *)v.data);
  } while ((e = mmf_read_end(m, &v)) == -MMF_EOVERTAKEN);
out:
  if (e < 0)
    fprintf(stderr, "%s\n", mmf_strerror(e));
  mmf_close(m);
  return e < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
