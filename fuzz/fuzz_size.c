/* SPDX-License-Identifier: MIT */
/* The SIZE parser: never crashes, accepts only a positive whole number with
 * a known suffix, and what it accepts is exactly that many bytes. */
#include "cli.h"
#include "fuzz.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  memcpy(s, data, size);
  s[size] = '\0';
  uint64_t v = 0;
  if (parse_size(s, &v) == 0) {
    if (v == 0 || !isdigit((unsigned char)s[0]))
      abort();
    /* digits, then the suffix */
    char *end;
    unsigned long long n = strtoull(s, &end, 10);
    static const char *const sfx[] = {"",    "B", "K",   "KiB", "k",  "M",
                                      "MiB", "G", "GiB", "T",   "TiB"};
    static const unsigned sh[] = {0, 0, 10, 10, 10, 20, 20, 30, 30, 40, 40};
    size_t i = 0;
    while (i < sizeof sfx / sizeof *sfx && strcmp(end, sfx[i]))
      i++;
    if (i == sizeof sfx / sizeof *sfx || (uint64_t)n << sh[i] != v ||
        ((uint64_t)n << sh[i]) >> sh[i] != n)
      abort();
  }
  int ms;
  (void)parse_seconds(s, &ms);
  unsigned mode;
  if (parse_mode(s, &mode) == 0 && (mode == 0 || mode > 0777))
    abort();
  free(s);
  return 0;
}
