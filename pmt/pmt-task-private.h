/* pmt-task-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "pmt-executor-private.h"
#include "pmt-task.h"
#include "pmt-waiter-private.h"

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

/* Registers @waiter, fired with @self as source once the task is done
 * for waiters, unless it is done already for the caller (FALSE then).
 * After it fired, the waiter is no longer registered. */
gboolean       _pmt_task_add_waiter      (PmtTask       *self,
                                          PmtWaiter     *waiter);
void           _pmt_task_remove_waiter   (PmtTask       *self,
                                          PmtWaiter     *waiter);
/* Done for the caller: terminal and its waiters woken, or the caller is
 * the thread emitting #PmtTask::completed. */
gboolean       _pmt_task_is_done_for_caller (PmtTask    *self);
/* Running in the calling thread, maybe in an outer frame of it (a nested
 * wait ran other work on top): waiting for it here would be forever. */
gboolean       _pmt_task_is_running_here (PmtTask       *self);

/* Calls @func (@data) in the finishing thread once the task is done and
 * its waiters woke, without locks held; FALSE (nothing registered) when
 * it is done already. */
gboolean       _pmt_task_add_done_notify (PmtTask       *self,
                                          GDestroyNotify func,
                                          gpointer       data);

/* PENDING → QUEUED, when a worker or an executor accepts the task.  An
 * executor is told when the task finishes (it holds a reference on
 * itself while it has unfinished tasks); its main context becomes the
 * task's if the task has none.  @priority (may be NULL) gets the task's
 * priority, read under the same lock. */
PmtTaskEnqueue _pmt_task_mark_queued     (PmtTask       *self,
                                          PmtExecutor   *executor,
                                          GMainContext  *context,
                                          gint          *priority);
/* Turns what _pmt_task_mark_queued() answered into a submission's
 * result: FALSE with %G_IO_ERROR_CANCELLED for a task cancelled before it
 * was submitted, FALSE with a critical naming @func for one submitted
 * already.  Call it with no lock held. */
gboolean       _pmt_task_check_enqueued  (PmtTask         *self,
                                          PmtTaskEnqueue   enqueued,
                                          const char      *func,
                                          GError         **error);
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
 * completion.  The caller holds a reference on the task. */
void           _pmt_task_run_claimed     (PmtTask       *self);
/* For a thread about to run a queued task inside a wait: takes the
 * task's limiter now, if it is free, for the run; FALSE when it is full
 * (the waiting task may hold it): running the task would block the wait. */
gboolean       _pmt_task_reserve_limiter (PmtTask       *self);

/* Ends a task that was accepted but will never run (its executor cannot
 * run it) with @error, which it takes: FAILED at once, like a cancel of a
 * queued task.  Does nothing to a task that started or ended. */
void           _pmt_task_fail_unstarted  (PmtTask       *self,
                                          GError        *error);

G_END_DECLS
