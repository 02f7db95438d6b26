/* pmt-task-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "pmt-pool.h"
#include "pmt-task.h"

G_BEGIN_DECLS

typedef enum
{
  PMT_TASK_CLAIM_OK,        /* the caller runs it now */
  PMT_TASK_CLAIM_CANCELLED, /* cancelled before it ran: skip it */
  PMT_TASK_CLAIM_STARTED,   /* somebody ran it already */
  PMT_TASK_CLAIM_QUEUED,    /* queued in a worker or pool, which runs it */
} PmtTaskClaim;

typedef enum
{
  PMT_TASK_ENQUEUE_OK,
  PMT_TASK_ENQUEUE_CANCELLED,
  PMT_TASK_ENQUEUE_NOT_PENDING,
} PmtTaskEnqueue;

/* A function with its data shared by many tasks (those of one
 * pmt_pool_map() call, or of one PmtThreaded): each task holds a
 * reference, and @notify runs once, when the last one lets go. */
typedef struct _PmtTaskClosure PmtTaskClosure;

PmtTaskClosure *_pmt_task_closure_new       (PmtTaskFunc     func,
                                             gpointer        user_data,
                                             GDestroyNotify  notify);
void            _pmt_task_closure_unref     (gpointer        closure);
/* A new task running @closure, with a reference on it. */
PmtTask        *_pmt_task_new_from_closure  (PmtTaskClosure *closure);
/* Makes @closure the callback of @task, with a reference on it. */
void            _pmt_task_set_closure_callback (PmtTask        *task,
                                                PmtTaskClosure *closure);

/* Something told when a task is done.  @fire runs with the task's lock
 * held, so it may take only leaf locks; after it ran, the waiter is no
 * longer registered on that task. */
typedef struct _PmtTaskWaiter PmtTaskWaiter;
struct _PmtTaskWaiter
{
  void (*fire) (PmtTaskWaiter *waiter,
                PmtTask       *task);
};

/* A waiter a thread blocks on; also fired by pools, to wake helpers. */
typedef struct
{
  PmtTaskWaiter base;
  GMutex mutex;
  GCond cond;
  gboolean fired;
} PmtSyncWaiter;

void           _pmt_sync_waiter_init     (PmtSyncWaiter *waiter);
void           _pmt_sync_waiter_clear    (PmtSyncWaiter *waiter);
void           _pmt_sync_waiter_fire     (PmtSyncWaiter *waiter);
/* Blocks until fired or @end_time (negative: none), then re-arms it.
 * Returns FALSE on timeout. */
gboolean       _pmt_sync_waiter_wait     (PmtSyncWaiter *waiter,
                                          gint64         end_time);

/* Registers @waiter unless the task is done already (FALSE then). */
gboolean       _pmt_task_add_waiter      (PmtTask       *self,
                                          PmtTaskWaiter *waiter);
void           _pmt_task_remove_waiter   (PmtTask       *self,
                                          PmtTaskWaiter *waiter);
/* Done for the caller: terminal and its waiters woken, or the caller is
 * the thread emitting #PmtTask::completed. */
gboolean       _pmt_task_is_done_for_caller (PmtTask    *self);

/* Calls @func (@data) in the finishing thread once the task is done and
 * its waiters woke, without locks held; FALSE (nothing registered) when
 * it is done already. */
gboolean       _pmt_task_add_done_notify (PmtTask       *self,
                                          GDestroyNotify func,
                                          gpointer       data);

/* PENDING → QUEUED, when a worker or a pool accepts the task.  A pool is
 * told when the task finishes (it holds a reference on itself while it has
 * unfinished tasks); its main context becomes the task's if the task has
 * none.  @priority (may be NULL) gets the task's priority, read under the
 * same lock. */
PmtTaskEnqueue _pmt_task_mark_queued     (PmtTask       *self,
                                          PmtPool       *pool,
                                          GMainContext  *pool_context,
                                          gint          *priority);
/* Back to PENDING, for a submission refused after all: the refused task
 * is left untouched. */
void           _pmt_task_unmark_queued   (PmtTask       *self);

/* Makes the calling thread the one that runs the task, on behalf of
 * @worker (may be NULL): QUEUED (or PENDING with @from_queue FALSE) →
 * RUNNING. */
PmtTaskClaim   _pmt_task_claim           (PmtTask       *self,
                                          PmtWorker     *worker,
                                          gboolean       from_queue);
/* Runs a task claimed by the calling thread: limiter, function, callback,
 * completion. */
void           _pmt_task_run_claimed     (PmtTask       *self);

G_END_DECLS
