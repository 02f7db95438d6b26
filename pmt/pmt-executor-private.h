/* pmt-executor-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "pmt-task.h"
#include "pmt-thread-state-private.h"
#include "pmt-waiter-private.h"

G_BEGIN_DECLS

/* What the task layer needs from whatever runs tasks on its threads (a
 * pool), and nothing more: the pool implements it, the task layer calls
 * it, and so never reaches up into the pool.
 *
 * Every wait that can happen on an executor's thread goes through
 * _pmt_wait_until(): on such a thread it helps the executor, running its
 * queued work until the wait is over.  That is why a task waiting inside
 * its pool never deadlocks, whatever it waits with. */

typedef gboolean (*PmtWaitDoneFunc) (gpointer data);

typedef struct
{
  /* In one of the executor's threads: runs its queued work until @done
   * (@data) holds or @deadline passes, blocking on @waiter when there is
   * none.  The caller registered @waiter where progress is made; the
   * executor fires it too when it gets work.  @done is called with the
   * executor's lock held: it may take task and leaf locks only.  Returns
   * the last value of @done. */
  gboolean (*help_until)    (PmtExecutor     *self,
                             PmtSyncWaiter   *waiter,
                             PmtWaitDoneFunc  done,
                             gpointer         data,
                             gint64           deadline);
  /* A task the executor accepted reached @state; @dequeued tells whether
   * one of its threads took it off the queue (else it was cancelled
   * there). */
  void     (*task_finished) (PmtExecutor     *self,
                             PmtTaskState     state,
                             gboolean         dequeued);
} PmtExecutorVTable;

struct _PmtExecutor
{
  const PmtExecutorVTable *vtable;
};

/* The executor whose thread calls, or NULL. */
static inline PmtExecutor *
_pmt_executor_get_current (void)
{
  PmtThreadState *state = _pmt_thread_state_get ();

  return state != NULL ? state->executor : NULL;
}

/* Waits until @done (@data) holds or @deadline passes: helps the calling
 * thread's executor meanwhile, or blocks on @waiter, which the caller
 * registered where progress is made.  Returns the last value of @done. */
gboolean _pmt_wait_until (PmtSyncWaiter   *waiter,
                          PmtWaitDoneFunc  done,
                          gpointer         data,
                          gint64           deadline);

G_END_DECLS
