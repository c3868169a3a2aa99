/* SPDX-License-Identifier: MIT */
/* Pages: mmf_list mmf_info mmf_holders */
/* List the maps in /dev/shm as "mmf list" does, or describe one map
 * and the processes that hold it. */
#include <mmf.h>
#include <stdio.h>
#include <stdlib.h>

static const char *kind(enum mmf_kind k) {
  return k == MMF_KIND_MMF   ? "mmf"
         : k == MMF_KIND_RAW ? "raw"
                             : "file";
}

int main(int argc, char *argv[]) {
  int e;
  if (argc < 2) {
    struct mmf_info *list;
    size_t n;
    if ((e = mmf_list(&list, &n)) < 0) {
      fprintf(stderr, "list: %s\n", mmf_strerror(e));
      return EXIT_FAILURE;
    }
    for (size_t i = 0; i < n; i++)
      printf("%-24s %-4s %10zu %s\n", list[i].name,
             kind(list[i].kind), list[i].length,
             list[i].error ? mmf_strerror(list[i].error) : "");
    free(list);
    return EXIT_SUCCESS;
  }
  struct mmf_info in;
  if ((e = mmf_info(argv[1], &in)) < 0) {
    fprintf(stderr, "%s: %s\n", argv[1], mmf_strerror(e));
    return EXIT_FAILURE;
  }
  printf("%s: %s, %zu bytes at seq %llu, mode %03o\n", in.name,
         kind(in.kind), in.length, (unsigned long long)in.seq,
         in.mode);
  pid_t pids[16];
  size_t count;
  unsigned hidden;
  if (in.kind == MMF_KIND_MMF &&
      mmf_holders(argv[1], pids, 16, &count, &hidden) == 0) {
    for (size_t i = 0; i < count && i < 16; i++)
      printf("held by %d\n", (int)pids[i]);
    if (hidden)
      printf("and %u handles of processes not visible here\n",
             hidden);
  }
  return EXIT_SUCCESS;
}
