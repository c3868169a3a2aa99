/* SPDX-License-Identifier: MIT */
/* Opening a map whose bytes are arbitrary: every field a peer could have
 * written.  The first input byte picks how the rest is used: as the whole
 * object, or laid over a valid map (capacity 64) so that the checks after
 * the header's are reached too.  Every operation must return a code, never
 * crash, hang or read outside the mapping. */
#include "fuzz.h"
#include "internal.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OBJ (MMF__HDR_SIZE + 2 * 4096)

static char name[64];
static char path[128];

/* Lock words name handle ids; none is held while the input is opened, so
 * every lock word in it is taken over at once.  Nothing to tame. */
static void tame(struct mmf__hdr *h) {
  (void)h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!name[0]) {
    snprintf(name, sizeof name, "mmffuzz-%d", (int)getpid());
    snprintf(path, sizeof path, "/dev/shm/%s", name);
  }
  if (size < 1 || size > OBJ + 1)
    return 0;
  uint8_t *obj = calloc(1, OBJ);
  size_t len;
  if (data[0] & 1) {
    struct mmf__hdr *h = (struct mmf__hdr *)obj;
    mmf__hdr_init(h, 64, data[0] & 2 ? MMF__HF_TRANSIENT : 0, MMF__HDR_SIZE);
    for (size_t i = 1; i < size; i++)
      obj[i - 1] ^= data[i];
    tame(h);
    len = OBJ;
  } else {
    memcpy(obj, data + 1, size - 1);
    len = size - 1;
    if (len >= sizeof(struct mmf__hdr))
      tame((struct mmf__hdr *)obj);
  }
  int fd = open(path, O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    abort();
  if (write(fd, obj, len) != (ssize_t)len)
    abort();
  close(fd);
  free(obj);

  mmf_t *m;
  if (mmf_open(name, 0, &m) == 0) {
    /* A peer may have written any capacity that fits the object; nothing
     * read may pass the one the handle accepted. */
    struct mmf_stat st;
    size_t cap = (OBJ - MMF__HDR_SIZE) / 2;
    if (mmf_stat(m, &st) == 0)
      cap = st.capacity;
    uint8_t *buf = malloc(cap + 1);
    size_t got;
    uint64_t seq;
    int r = mmf_read(m, buf, cap + 1, &got, &seq);
    if (r == 0 && got > cap)
      abort();
    free(buf);
    void *all;
    if (mmf_read_alloc(m, &all, &got, &seq) == 0) {
      if (got > cap)
        abort();
      free(all);
    }
    struct mmf_read_view v;
    if (mmf_read_begin(m, &v) == 0) {
      got = v.len;
      if (got > cap)
        abort();
      /* Touch every byte it points at: all must be inside the mapping. */
      uint8_t sum = 0;
      for (size_t i = 0; i < got; i++)
        sum ^= ((const volatile uint8_t *)v.data)[i];
      if (mmf_read_end(m, &v) == 0 && got == 5 && sum == 0xff)
        (void)sum; /* keeps the loads */
    }
    (void)mmf_wait(m, 0, 0, &seq);
    (void)mmf_append(m, "x", 1, ",", 1);
    (void)mmf_write(m, "hello", 5);
    if (mmf_lock(m, 0) >= 0)
      (void)mmf_unlock(m);
    mmf_close(m);
  }
  struct mmf_info in;
  (void)mmf_info(name, &in);
  if (mmf_open(name, MMF_RAW, &m) == 0)
    mmf_close(m);
  unlink(path);
  return 0;
}
