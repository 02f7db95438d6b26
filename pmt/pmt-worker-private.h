/* pmt-worker-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "pmt-thread-state-private.h"
#include "pmt-worker.h"

G_BEGIN_DECLS

/* Where a worker owned by another object (a pool) takes its work from,
 * instead of its own queue.  The worker's thread runs its loop with
 * these, and so calls nothing of its owner but them; @owner is the object
 * given to _pmt_worker_new_for_source(), kept alive while the thread
 * runs. */
typedef struct
{
  /* In the worker's thread, first: @state is the thread's, for the
   * owner's fields in it. */
  void      (*thread_started) (gpointer        owner,
                               PmtWorker      *worker,
                               PmtThreadState *state);
  /* In the worker's thread: blocks until there is work and returns it,
   * or NULL when the worker must exit. */
  gpointer  (*next_work)      (gpointer        owner,
                               PmtWorker      *worker);
  /* In the worker's thread: runs what next_work() returned. */
  void      (*run_work)       (gpointer        owner,
                               PmtWorker      *worker,
                               gpointer        work);
  /* In the worker's thread, last, after next_work() returned NULL and
   * the worker's thread-stopped handlers ran: the owner accounts for the
   * exit now. */
  void      (*thread_stopped) (gpointer        owner,
                               PmtWorker      *worker);
  /* In any thread: wakes the worker's thread in next_work(), so that it
   * sees that the worker must stop. */
  void      (*wake)           (gpointer        owner);
} PmtWorkSource;

/* A worker whose thread, once started, runs the work of @source. */
PmtWorker *_pmt_worker_new_for_source (const PmtWorkSource *source,
                                       GObject             *owner,
                                       const char          *name);
gboolean   _pmt_worker_start          (PmtWorker   *self,
                                       GError     **error);
/* Runs a task its owner let it claim, keeping the worker's books. */
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
