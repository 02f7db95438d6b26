/* pmt-task-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "pmt-task.h"

G_BEGIN_DECLS

typedef enum
{
  PMT_TASK_CLAIM_OK,        /* the caller runs it now */
  PMT_TASK_CLAIM_CANCELLED, /* cancelled before it ran: skip it */
  PMT_TASK_CLAIM_STARTED,   /* somebody ran it already */
} PmtTaskClaim;

typedef enum
{
  PMT_TASK_ENQUEUE_OK,
  PMT_TASK_ENQUEUE_CANCELLED,
  PMT_TASK_ENQUEUE_NOT_PENDING,
} PmtTaskEnqueue;

/* PENDING → QUEUED, when a worker or pool accepts the task. */
PmtTaskEnqueue _pmt_task_mark_queued   (PmtTask    *self);
/* Puts a task that _pmt_task_mark_queued() accepted back to PENDING, for
 * a submission refused after all: the refused task is left untouched. */
void           _pmt_task_unmark_queued (PmtTask    *self);
/* Makes the calling thread the one that runs the task, on behalf of
 * @worker (may be NULL): PENDING or QUEUED → RUNNING. */
PmtTaskClaim   _pmt_task_claim         (PmtTask    *self,
                                        PmtWorker  *worker);
/* Runs a task claimed by the calling thread: limiter, function, callback,
 * completion. */
void           _pmt_task_run_claimed   (PmtTask    *self);

G_END_DECLS
