/* pmt-worker.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (PMT_INSIDE) && !defined (PMT_COMPILATION)
# error "Only <pmt.h> can be included directly."
#endif

#include <gio/gio.h>

#include "pmt-types.h"
#include "pmt-version-macros.h"

G_BEGIN_DECLS

/**
 * PmtWorkerState:
 * @PMT_WORKER_STATE_IDLE: ready for tasks, none running
 * @PMT_WORKER_STATE_BUSY: running a task
 * @PMT_WORKER_STATE_STOPPING: asked to stop, still finishing its task
 * @PMT_WORKER_STATE_STOPPED: stopped; its thread has exited
 *
 * The life of a #PmtWorker.
 */
typedef enum
{
  PMT_WORKER_STATE_IDLE,
  PMT_WORKER_STATE_BUSY,
  PMT_WORKER_STATE_STOPPING,
  PMT_WORKER_STATE_STOPPED,
} PmtWorkerState;

/**
 * PMT_TYPE_WORKER:
 *
 * The #GType of #PmtWorker.
 */
#define PMT_TYPE_WORKER (pmt_worker_get_type ())

/**
 * PmtWorker:
 *
 * One thread with its own queue of tasks.  All its fields are private.
 */

PMT_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (PmtWorker, pmt_worker, PMT, WORKER, GObject)

PMT_AVAILABLE_IN_ALL
PmtWorker      *pmt_worker_new                 (const char  *name) G_GNUC_WARN_UNUSED_RESULT;
PMT_AVAILABLE_IN_ALL
gboolean        pmt_worker_push                (PmtWorker   *self,
                                                PmtTask     *task,
                                                GError     **error);
PMT_AVAILABLE_IN_ALL
void            pmt_worker_stop                (PmtWorker   *self);
PMT_AVAILABLE_IN_ALL
void            pmt_worker_kill                (PmtWorker   *self);
PMT_AVAILABLE_IN_ALL
gboolean        pmt_worker_join                (PmtWorker   *self,
                                                gint64       timeout_usec);

PMT_AVAILABLE_IN_ALL
const char     *pmt_worker_get_name            (PmtWorker   *self);
PMT_AVAILABLE_IN_ALL
PmtWorkerState  pmt_worker_get_state           (PmtWorker   *self);
PMT_AVAILABLE_IN_ALL
PmtTask        *pmt_worker_dup_current_task    (PmtWorker   *self) G_GNUC_WARN_UNUSED_RESULT;
PMT_AVAILABLE_IN_ALL
gint            pmt_worker_get_current_priority (PmtWorker  *self);
PMT_AVAILABLE_IN_ALL
guint64         pmt_worker_get_n_tasks_run     (PmtWorker   *self);
PMT_AVAILABLE_IN_ALL
gint64          pmt_worker_get_idle_timeout    (PmtWorker   *self);
PMT_AVAILABLE_IN_ALL
void            pmt_worker_set_idle_timeout    (PmtWorker   *self,
                                                gint64       idle_timeout_usec);
PMT_AVAILABLE_IN_ALL
gboolean        pmt_worker_is_running          (PmtWorker   *self);
PMT_AVAILABLE_IN_ALL
PmtPool        *pmt_worker_get_pool            (PmtWorker   *self);

G_END_DECLS
