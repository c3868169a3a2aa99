/* SPDX-License-Identifier: MIT */
/* The SIZE parser: never crashes, and what it accepts is exactly the size
 * its grammar says (see mmf(1), SIZES). */
#include "cli.h"
#include "fuzz.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  memcpy(s, data, size);
  s[size] = '\0';
  uint64_t v = 0;
  if (parse_size(s, &v) == 0) {
    if (v == 0 || !isdigit((unsigned char)s[0]))
      abort();
    /* The grammar, checked another way: digits, optionally '.' and
     * digits, then nothing, "B", or one of K M G T (any case) followed by
     * nothing, "B" or "iB" (any case); the value rounded up. */
    const char *p = s;
    uint64_t whole = 0, frac = 0, scale = 1;
    while (isdigit((unsigned char)*p))
      whole = whole * 10 + (unsigned)(*p++ - '0');
    if (*p == '.') {
      p++;
      if (!isdigit((unsigned char)*p))
        abort();
      while (isdigit((unsigned char)*p)) {
        frac = frac * 10 + (unsigned)(*p++ - '0');
        scale *= 10;
      }
    }
    static const char units[] = "KMGT";
    unsigned sh = 0;
    const char *u = *p ? strchr(units, toupper((unsigned char)*p)) : NULL;
    if (u && *u) {
      sh = 10 * (unsigned)(u - units + 1);
      p++;
    }
    if (!strcasecmp(p, "iB") && sh)
      p += 2;
    else if (!strcasecmp(p, "B"))
      p += 1;
    if (*p)
      abort();
    /* Accepted: six decimals at most, and the value fits 64 bits. */
    if (scale > 1000000)
      abort();
    uint64_t want = (whole << sh) + ((frac << sh) + scale - 1) / scale;
    if (want != v)
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
