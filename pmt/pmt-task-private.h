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
/* Runs the task in the calling thread on behalf of @worker (may be NULL):
 * limiter, function, callback, completion. */
PmtTaskClaim   _pmt_task_execute       (PmtTask    *self,
                                        PmtWorker  *worker);

G_END_DECLS
