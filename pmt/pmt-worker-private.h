/* pmt-worker-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "pmt-worker.h"

G_BEGIN_DECLS

PmtWorker *_pmt_worker_new_for_pool   (PmtPool     *pool,
                                       const char  *name);
gboolean   _pmt_worker_start          (PmtWorker   *self,
                                       GError     **error);
/* The worker whose thread calls, or NULL. */
PmtWorker *_pmt_worker_get_current    (void);
/* Runs a task its pool let it claim, keeping the worker's books. */
void       _pmt_worker_run_claimed    (PmtWorker   *self,
                                       PmtTask     *task);
/* How many tasks the worker's thread is running, nested waits included. */
guint      _pmt_worker_get_depth      (PmtWorker   *self);
/* Whether pmt_worker_stop() or pmt_worker_kill() was called. */
gboolean   _pmt_worker_is_stopping    (PmtWorker   *self);
/* Adds the tasks the worker runs (new references) to @tasks. */
void       _pmt_worker_collect_running (PmtWorker  *self,
                                        GPtrArray  *tasks);

G_END_DECLS
