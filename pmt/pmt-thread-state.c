/* pmt-thread-state.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "pmt-thread-state-private.h"

/* Compiler thread-locals, not GPrivate: tasks look these up several times
 * each, and a GPrivate lookup (pthread_getspecific() behind a call) cost
 * more than some of the work around it. */
static PMT_THREAD_LOCAL PmtThreadState *thread_state;
static PMT_THREAD_LOCAL char thread_marker;

PmtThreadState *
_pmt_thread_state_get (void)
{
  return thread_state;
}

void
_pmt_thread_state_set (PmtThreadState *state)
{
  thread_state = state;
}

gconstpointer
_pmt_thread_id (void)
{
  return &thread_marker;
}
