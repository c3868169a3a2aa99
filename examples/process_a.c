/* SPDX-License-Identifier: MIT */
/* Process A of the two-process example: create map NAME sized to a JSON
 * description of this process, write it, wait for B's answer, remove it.
 *   process_a [NAME]        (then run process_b [NAME] elsewhere) */
#include <mmf.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  const char *name = argc > 1 ? argv[1] : "Test";
  char comm[64] = "?";
  FILE *f = fopen("/proc/self/comm", "r");
  if (f) {
    if (fgets(comm, sizeof comm, f))
      comm[strcspn(comm, "\n")] = '\0';
    fclose(f);
  }
  char json[256];
  int len = snprintf(json, sizeof json, "{\"Name\":\"%s\",\"Id\":%d}", comm,
                     (int)getpid());
  mmf_t *m;
  int r = mmf_create(name, (size_t)len, 0, 0, &m);
  if (r < 0) {
    fprintf(stderr, "A: cannot create %s: %s\n", name, mmf_strerror(r));
    return 1;
  }
  if ((r = mmf_write(m, json, (size_t)len)) < 0) {
    fprintf(stderr, "A: cannot write %s: %s\n", name, mmf_strerror(r));
    return 1;
  }
  printf("A: wrote %s\n", json);
  fflush(stdout);
  uint64_t seq;
  if ((r = mmf_wait(m, 1, 30000, &seq)) < 0) {
    fprintf(stderr, "A: no answer: %s\n", mmf_strerror(r));
    mmf_remove(name);
    return 1;
  }
  char answer[256];
  size_t alen;
  if ((r = mmf_read(m, answer, sizeof answer - 1, &alen, NULL)) < 0) {
    fprintf(stderr, "A: cannot read: %s\n", mmf_strerror(r));
    return 1;
  }
  answer[alen] = '\0';
  printf("A: B answered at seq %llu: %s\n", (unsigned long long)seq, answer);
  mmf_remove(name);
  mmf_close(m);
  return 0;
}
