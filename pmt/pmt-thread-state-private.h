/* pmt-thread-state-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _PmtExecutor PmtExecutor;

/* All that Pmt keeps per thread, in one place: set by the thread a worker
 * runs, for its lifetime (it lives on that thread's stack); other threads
 * have none.  Each layer owns its fields and reads only those. */
typedef struct
{
  /* The worker whose thread this is (a PmtWorker, not a reference). */
  gpointer worker;
  /* The executor this thread runs work for, and its per-thread data:
   * set by the executor (a pool) for the threads of its workers. */
  PmtExecutor *executor;
  gpointer executor_data;
} PmtThreadState;

/* The calling thread's state, or NULL. */
PmtThreadState *_pmt_thread_state_get (void);
/* Makes @state (may be NULL) the calling thread's. */
void            _pmt_thread_state_set (PmtThreadState *state);

G_END_DECLS
