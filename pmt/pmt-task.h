/* pmt-task.h
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
 * PmtTaskState:
 * @PMT_TASK_STATE_PENDING: created, not handed to a worker yet
 * @PMT_TASK_STATE_QUEUED: waiting in a worker's queue
 * @PMT_TASK_STATE_RUNNING: a thread is running it
 * @PMT_TASK_STATE_SUCCEEDED: finished without an error
 * @PMT_TASK_STATE_FAILED: finished with an error
 * @PMT_TASK_STATE_CANCELLED: cancelled before it ran, or its function
 *   reported %G_IO_ERROR_CANCELLED
 *
 * The life of a #PmtTask.  The last three states are terminal.
 */
typedef enum
{
  PMT_TASK_STATE_PENDING,
  PMT_TASK_STATE_QUEUED,
  PMT_TASK_STATE_RUNNING,
  PMT_TASK_STATE_SUCCEEDED,
  PMT_TASK_STATE_FAILED,
  PMT_TASK_STATE_CANCELLED,
} PmtTaskState;

/**
 * PMT_TYPE_TASK:
 *
 * The #GType of #PmtTask.
 */
#define PMT_TYPE_TASK (pmt_task_get_type ())

/**
 * PmtTask:
 *
 * A unit of work that is also an event.  All its fields are private.
 */

PMT_AVAILABLE_IN_ALL
G_DECLARE_DERIVABLE_TYPE (PmtTask, pmt_task, PMT, TASK, GObject)

/**
 * PmtTaskFunc:
 * @task: the task being run
 * @user_data: the data given with the function
 *
 * The work of a task.  It runs in the thread that runs the task and
 * reports its outcome with pmt_task_return_value() and friends; a function
 * that reports nothing succeeds with no result.
 */
typedef void (*PmtTaskFunc) (PmtTask  *task,
                             gpointer  user_data);

/**
 * PmtTaskCallback:
 * @task: the task that just ran
 * @user_data: the data given with the callback
 *
 * Called in the thread that ran the task, right after its function, with
 * the result or error already in @task and before any waiter wakes.
 */
typedef void (*PmtTaskCallback) (PmtTask  *task,
                                 gpointer  user_data);

/**
 * PmtTaskClass:
 * @parent_class: the parent class
 * @run: runs the work of the task in the calling thread; the default calls
 *   the function given to pmt_task_new()
 * @completed: class closure of the #PmtTask::completed signal
 *
 * The class of #PmtTask.  Subclasses override @run to do other work, and
 * report their outcome with the pmt_task_return_*() functions.
 */
struct _PmtTaskClass
{
  GObjectClass parent_class;

  void (*run)       (PmtTask *self);
  void (*completed) (PmtTask *self);

  /*< private >*/
  gpointer _reserved[8];
};

PMT_AVAILABLE_IN_ALL
PmtTask          *pmt_task_new               (PmtTaskFunc       func,
                                              gpointer          user_data,
                                              GDestroyNotify    notify) G_GNUC_WARN_UNUSED_RESULT;
PMT_AVAILABLE_IN_ALL
void              pmt_task_run               (PmtTask          *self);
PMT_AVAILABLE_IN_ALL
void              pmt_task_cancel            (PmtTask          *self);
PMT_AVAILABLE_IN_ALL
GCancellable     *pmt_task_get_cancellable   (PmtTask          *self);

PMT_AVAILABLE_IN_ALL
guint64           pmt_task_get_id            (PmtTask          *self);
PMT_AVAILABLE_IN_ALL
PmtTaskState      pmt_task_get_state         (PmtTask          *self);
PMT_AVAILABLE_IN_ALL
gboolean          pmt_task_is_done           (PmtTask          *self);
PMT_AVAILABLE_IN_ALL
PmtWorker        *pmt_task_get_worker        (PmtTask          *self);

PMT_AVAILABLE_IN_ALL
gint              pmt_task_get_priority      (PmtTask          *self);
PMT_AVAILABLE_IN_ALL
void              pmt_task_set_priority      (PmtTask          *self,
                                              gint              priority);
PMT_AVAILABLE_IN_ALL
gboolean          pmt_task_get_store_result  (PmtTask          *self);
PMT_AVAILABLE_IN_ALL
void              pmt_task_set_store_result  (PmtTask          *self,
                                              gboolean          store_result);
PMT_AVAILABLE_IN_ALL
PmtLimiter       *pmt_task_get_limiter       (PmtTask          *self);
PMT_AVAILABLE_IN_ALL
void              pmt_task_set_limiter       (PmtTask          *self,
                                              PmtLimiter       *limiter);
PMT_AVAILABLE_IN_ALL
GMainContext     *pmt_task_get_main_context  (PmtTask          *self);
PMT_AVAILABLE_IN_ALL
void              pmt_task_set_main_context  (PmtTask          *self,
                                              GMainContext     *context);
PMT_AVAILABLE_IN_ALL
void              pmt_task_set_callback      (PmtTask          *self,
                                              PmtTaskCallback   callback,
                                              gpointer          user_data,
                                              GDestroyNotify    notify);
PMT_AVAILABLE_IN_ALL
gpointer          pmt_task_get_task_data     (PmtTask          *self);
PMT_AVAILABLE_IN_ALL
void              pmt_task_set_task_data     (PmtTask          *self,
                                              gpointer          task_data,
                                              GDestroyNotify    notify);
PMT_AVAILABLE_IN_ALL
GVariant         *pmt_task_to_variant        (PmtTask          *self);
PMT_AVAILABLE_IN_ALL
const GValue     *pmt_task_get_task_value    (PmtTask          *self);
PMT_AVAILABLE_IN_ALL
void              pmt_task_set_task_value    (PmtTask          *self,
                                              const GValue     *value);

PMT_AVAILABLE_IN_ALL
void              pmt_task_return_value      (PmtTask          *self,
                                              const GValue     *value);
PMT_AVAILABLE_IN_ALL
void              pmt_task_return_pointer    (PmtTask          *self,
                                              gpointer          result,
                                              GDestroyNotify    result_destroy);
PMT_AVAILABLE_IN_ALL
void              pmt_task_return_int        (PmtTask          *self,
                                              gint64            result);
PMT_AVAILABLE_IN_ALL
void              pmt_task_return_boolean    (PmtTask          *self,
                                              gboolean          result);
PMT_AVAILABLE_IN_ALL
void              pmt_task_return_error      (PmtTask          *self,
                                              GError           *error);
PMT_AVAILABLE_IN_ALL
void              pmt_task_return_new_error  (PmtTask          *self,
                                              GQuark            domain,
                                              gint              code,
                                              const char       *format,
                                              ...) G_GNUC_PRINTF (4, 5);

PMT_AVAILABLE_IN_ALL
const GValue     *pmt_task_get_result        (PmtTask          *self);
PMT_AVAILABLE_IN_ALL
gpointer          pmt_task_get_result_pointer (PmtTask         *self);
PMT_AVAILABLE_IN_ALL
const GError     *pmt_task_get_error         (PmtTask          *self);
PMT_AVAILABLE_IN_ALL
gboolean          pmt_task_propagate_error   (PmtTask          *self,
                                              GError          **error);

PMT_AVAILABLE_IN_ALL
gboolean          pmt_task_wait              (PmtTask          *self,
                                              gint64            timeout_usec);
PMT_AVAILABLE_IN_ALL
void              pmt_task_wait_async        (PmtTask          *self,
                                              GCancellable     *cancellable,
                                              GAsyncReadyCallback callback,
                                              gpointer          user_data);
PMT_AVAILABLE_IN_ALL
gboolean          pmt_task_wait_finish       (PmtTask          *self,
                                              GAsyncResult     *result,
                                              GError          **error);
PMT_AVAILABLE_IN_ALL
gboolean          pmt_task_wait_all          (PmtTask         **tasks,
                                              guint             n_tasks,
                                              gint64            timeout_usec);
PMT_AVAILABLE_IN_ALL
gint              pmt_task_wait_any          (PmtTask         **tasks,
                                              guint             n_tasks,
                                              gint64            timeout_usec);

G_END_DECLS
