/* SPDX-License-Identifier: MIT */
/* iceoryx's side of the ping-pong benchmark, through its C binding: two
 * processes exchange 8-byte samples, one publisher and one subscriber each.
 * RouDi (iox-roudi) must run; script/bench starts and stops it.
 *
 *   iox_pingpong ping|pong ROUNDS poll|wait CPU TAG
 *
 * "ping" prints the round-trip p50 and p99 in microseconds. */
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "iceoryx_binding_c/publisher.h"
#include "iceoryx_binding_c/runtime.h"
#include "iceoryx_binding_c/subscriber.h"
#include "iceoryx_binding_c/wait_set.h"

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc != 6)
    return 2;
  bool ping = !strcmp(argv[1], "ping");
  int rounds = atoi(argv[2]);
  bool wait = !strcmp(argv[3], "wait");
  cpu_set_t cs;
  CPU_ZERO(&cs);
  CPU_SET(atoi(argv[4]), &cs);
  sched_setaffinity(0, sizeof cs, &cs);
  const char *tag = argv[5];

  char app[64];
  snprintf(app, sizeof app, "mmfbench-%s-%s", ping ? "ping" : "pong", tag);
  iox_runtime_init(app);
  iox_pub_options_t po;
  iox_pub_options_init(&po);
  po.historyCapacity = 1;
  iox_sub_options_t so;
  iox_sub_options_init(&so);
  so.queueCapacity = 16;
  so.historyRequest = 1;
  iox_pub_storage_t ps;
  iox_sub_storage_t ss;
  iox_pub_t pub =
      iox_pub_init(&ps, "mmfbench", tag, ping ? "ping" : "pong", &po);
  iox_sub_t sub =
      iox_sub_init(&ss, "mmfbench", tag, ping ? "pong" : "ping", &so);
  iox_ws_storage_t wss;
  iox_ws_t ws = NULL;
  if (wait) {
    ws = iox_ws_init(&wss);
    iox_ws_attach_subscriber_state(ws, sub, SubscriberState_HAS_DATA, 0, NULL);
  }
  /* Both sides must be connected before the clock starts. */
  while (!iox_pub_has_subscribers(pub))
    usleep(1000);
  usleep(200000);

  double *rtt = ping ? malloc(sizeof *rtt * (size_t)rounds) : NULL;
  for (int i = 0; i < rounds; i++) {
    double t = now_us();
    if (ping) {
      void *p;
      if (iox_pub_loan_chunk(pub, &p, sizeof(uint64_t)) !=
          AllocationResult_SUCCESS)
        return 1;
      *(uint64_t *)p = (uint64_t)i;
      iox_pub_publish_chunk(pub, p);
    }
    const void *got;
    for (;;) {
      if (iox_sub_take_chunk(sub, &got) == ChunkReceiveResult_SUCCESS)
        break;
      if (wait) {
        iox_notification_info_t events[1];
        uint64_t missed;
        iox_ws_wait(ws, events, 1, &missed);
      }
    }
    uint64_t v = *(const uint64_t *)got;
    iox_sub_release_chunk(sub, got);
    if (!ping) {
      void *p;
      if (iox_pub_loan_chunk(pub, &p, sizeof(uint64_t)) !=
          AllocationResult_SUCCESS)
        return 1;
      *(uint64_t *)p = v;
      iox_pub_publish_chunk(pub, p);
    } else {
      rtt[i] = now_us() - t;
    }
  }
  if (ping) {
    qsort(rtt, (size_t)rounds, sizeof *rtt, cmp);
    printf("%.4f %.4f\n", rtt[rounds / 2], rtt[(int)(0.99 * (rounds - 1))]);
  } else {
    usleep(200000); /* let ping take the last answer before we go */
  }
  if (ws)
    iox_ws_deinit(ws);
  iox_sub_deinit(sub);
  iox_pub_deinit(pub);
  iox_runtime_shutdown();
  return 0;
}
