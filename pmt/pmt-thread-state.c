/* pmt-thread-state.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "pmt-thread-state-private.h"

static GPrivate thread_state;

PmtThreadState *
_pmt_thread_state_get (void)
{
  return g_private_get (&thread_state);
}

void
_pmt_thread_state_set (PmtThreadState *state)
{
  g_private_set (&thread_state, state);
}
