/* SPDX-License-Identifier: MIT */
/* The name rules: whatever the bytes, a name is classified without a crash,
 * and a name is a shared-memory name exactly when the documented rules say. */
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
  if (k == MMF__NAME_SHM) {
    /* A plain name, or a path straight in /dev/shm: any bytes but '/',
     * except "", ".", ".." and the hidden temporary names. */
    const char *b = strncmp(s, dir, sizeof dir - 1) ? s : s + sizeof dir - 1;
    if (!b[0] || strchr(b, '/') || !strcmp(b, ".") || !strcmp(b, "..") ||
        strlen(b) > 255 ||
        !strncmp(b, MMF__TMP_PREFIX, strlen(MMF__TMP_PREFIX)))
      abort();
  } else if (k == MMF__NAME_PATH) {
    if (!strchr(s, '/') || s[n - 1] == '/')
      abort();
  } else if (k != -MMF_ENAME) {
    abort();
  } else if (n && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..") &&
             n <= 255 && strncmp(s, MMF__TMP_PREFIX, strlen(MMF__TMP_PREFIX))) {
    abort(); /* a name .NET takes, refused */
  }
  free(s);
  return 0;
}
