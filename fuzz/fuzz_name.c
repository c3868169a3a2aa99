/* SPDX-License-Identifier: MIT */
/* The name rules: whatever the bytes, a name is classified without a crash,
 * and what is accepted as a shared-memory name obeys the documented rules. */
#include "fuzz.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  memcpy(s, data, size);
  s[size] = '\0';
  int k = mmf__name_classify(s);
  size_t n = strlen(s);
  static const char dir[] = "/dev/shm/";
  if (k == MMF__NAME_SHM && !strncmp(s, dir, sizeof dir - 1)) {
    /* A path straight in /dev/shm: any name there but "", ".", "..". */
    const char *b = s + sizeof dir - 1;
    if (!b[0] || strchr(b, '/') || !strcmp(b, ".") || !strcmp(b, "..") ||
        strlen(b) > 255)
      abort();
  } else if (k == MMF__NAME_SHM) {
    if (n < 1 || n > 255 || s[0] == '.' || s[0] == '-' || strchr(s, '/'))
      abort();
    for (size_t i = 0; i < n; i++)
      if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "0123456789._-",
                  s[i]))
        abort();
  } else if (k == MMF__NAME_PATH) {
    if (!strchr(s, '/') || s[n - 1] == '/')
      abort();
  } else if (k != -MMF_ENAME) {
    abort();
  }
  free(s);
  return 0;
}
