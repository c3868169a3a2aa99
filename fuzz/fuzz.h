/* SPDX-License-Identifier: MIT */
/* Every fuzz target defines this; replay.c calls it without libFuzzer. */
#ifndef MMF_FUZZ_H
#define MMF_FUZZ_H
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#endif
