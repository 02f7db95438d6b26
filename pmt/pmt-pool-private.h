/* pmt-pool-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "pmt-pool.h"
#include "pmt-task.h"
#include "pmt-worker.h"

G_BEGIN_DECLS

/* The loop of a pool worker's thread; returns when the worker exits. */
void      _pmt_pool_worker_main   (PmtPool    *self,
                                   PmtWorker  *worker);
/* Tells the pool that a task it accepted finished; @dequeued says whether
 * a worker of the pool took it off the queue. */
void      _pmt_pool_task_finished (PmtPool      *self,
                                   PmtTaskState  state,
                                   gboolean      dequeued);
/* Wakes the pool's idle workers, e.g. after one was asked to stop. */
void      _pmt_pool_wake_workers  (PmtPool    *self);
/* The pool whose worker thread calls, or NULL. */
PmtPool  *_pmt_pool_get_current   (void);
/* For a nested wait in one of the pool's threads: runs queued tasks of
 * the pool until one (@all FALSE) or all of @tasks are done, or until
 * @end_time (negative: none).  Returns the index of a done task (0 when
 * @all), or -1 on timeout. */
gint      _pmt_pool_help_wait     (PmtPool    *self,
                                   PmtTask   **tasks,
                                   guint       n_tasks,
                                   gboolean    all,
                                   gint64      end_time);

G_END_DECLS
