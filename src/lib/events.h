/* SPDX-License-Identifier: MIT */
/* Internals of event-loop support (events.c): the pollable descriptor of
 * a handle and waiting on many maps.  Its kernel calls are in os-events.c
 * (os.h). */
#ifndef MMF_EVENTS_H
#define MMF_EVENTS_H

#include "internal.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* ---- events.c ---- */
/* mmf_close's part: forget m's descriptor, close it, and make sure the
 * watching thread no longer looks at m's mapping.  Free when nothing was
 * ever polled. */
void mmf__events_forget(struct mmf *m);
/* Tests: behave as where futex_waitv is missing (a thread per descriptor).
 * Only before the first descriptor is made. */
void mmf__events_force_fallback(bool on);
/* The watching thread's longest sleep: SLICE_MS, or -1 in tests. */
extern _Atomic int mmf__events_slice_ms;

#endif
