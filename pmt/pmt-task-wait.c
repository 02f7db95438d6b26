/* pmt-task-wait.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "pmt-deadline-private.h"
#include "pmt-executor-private.h"
#include "pmt-i18n-private.h"
#include "pmt-task-fields-private.h"
#include "pmt-task-private.h"

/* The blocking waits on tasks.  Each registers one waiter on the tasks it
 * waits for and hands it to _pmt_wait_until(), which helps the calling
 * thread's pool meanwhile: a task waiting inside its pool runs the pool's
 * queued work, so the task it waits for gets to run even when it is the
 * only worker. */

typedef struct
{
  PmtTask **tasks;
  guint n_tasks;
  gboolean all;
  gint found;       /* the index of a done task; 0 for all */
} TasksWait;

static gboolean
tasks_done (gpointer data)
{
  TasksWait *wait = data;

  for (guint i = 0; i < wait->n_tasks; i++)
    {
      gboolean done = _pmt_task_is_done_for_caller (wait->tasks[i]);

      if (done && !wait->all)
        {
          wait->found = i;
          return TRUE;
        }
      if (!done && wait->all)
        return FALSE;
    }

  wait->found = wait->all ? 0 : -1;
  return wait->all;
}

/* A task running in the calling thread (maybe under the nested work of a
 * wait) cannot finish while that thread waits for it: waiting for it, or
 * for nothing else, is a programming error, not a deadlock to sit in. */
static gboolean
check_not_waiting_for_self (TasksWait  *wait,
                            const char *func)
{
  guint n_here = 0;
  PmtTask *here = NULL;

  for (guint i = 0; i < wait->n_tasks; i++)
    if (_pmt_task_is_running_here (wait->tasks[i]))
      {
        here = wait->tasks[i];
        n_here++;
      }

  if (n_here == 0 || (!wait->all && n_here < wait->n_tasks))
    return TRUE;

  /* Translators: %s is the name of the function called, %llu the task's id */
  g_critical (_("%s: task %llu cannot wait for itself: it runs in the calling thread "
                "and would wait forever"), func, (unsigned long long) pmt_task_get_id (here));
  return FALSE;
}

/* Returns the index of a done task (0 when @all), or -1 on timeout. */
static gint
wait_tasks (PmtTask    **tasks,
            guint        n_tasks,
            gboolean     all,
            gint64       timeout_usec,
            const char  *func)
{
  TasksWait wait = { tasks, n_tasks, all, -1 };
  PmtSyncWaiter waiter;
  guint n_registered = 0;
  gint64 deadline;
  gboolean done;

  if (tasks_done (&wait))
    return wait.found;
  if (timeout_usec == 0 || n_tasks == 0 || !check_not_waiting_for_self (&wait, func))
    return -1;

  deadline = _pmt_deadline_from_timeout (timeout_usec);

  /* Registered on the tasks not done yet; waiting for any, a done one
   * ends the registration: tasks_done() finds it at once. */
  _pmt_sync_waiter_init (&waiter);
  for (; n_registered < n_tasks; n_registered++)
    if (!_pmt_task_add_waiter (tasks[n_registered], &waiter.base) && !all)
      break;

  done = _pmt_wait_until (&waiter, tasks_done, &wait, deadline);

  for (guint i = 0; i < n_registered; i++)
    _pmt_task_remove_waiter (tasks[i], &waiter.base);
  _pmt_sync_waiter_clear (&waiter);

  return done ? wait.found : -1;
}

/**
 * pmt_task_wait:
 * @self: a #PmtTask
 * @timeout_usec: how long to wait in microseconds: negative waits
 *   forever, 0 only checks
 *
 * Blocks until the task reached a terminal state and its waiters were
 * woken, or until the timeout (PyMultiTasking's `Event.wait()`).  In a thread
 * of a pool, the thread runs the pool's queued work meanwhile.  A task
 * cannot wait for itself: that is a programming error.
 *
 * Returns: %TRUE if the task is done, %FALSE on timeout
 */
gboolean
pmt_task_wait (PmtTask *self,
               gint64   timeout_usec)
{
  g_return_val_if_fail (PMT_IS_TASK (self), FALSE);

  return wait_tasks (&self, 1, TRUE, timeout_usec, G_STRFUNC) == 0;
}

/**
 * pmt_task_wait_all:
 * @tasks: (array length=n_tasks): tasks
 * @n_tasks: the number of @tasks
 * @timeout_usec: how long to wait in all, in microseconds: negative waits
 *   forever, 0 only checks
 *
 * Waits until every task is done, or until the timeout; see
 * pmt_task_wait().
 *
 * Returns: %TRUE if all tasks are done
 */
gboolean
pmt_task_wait_all (PmtTask **tasks,
                   guint     n_tasks,
                   gint64    timeout_usec)
{
  g_return_val_if_fail (tasks != NULL || n_tasks == 0, FALSE);
  g_return_val_if_fail (n_tasks <= G_MAXINT, FALSE);
  for (guint i = 0; i < n_tasks; i++)
    g_return_val_if_fail (PMT_IS_TASK (tasks[i]), FALSE);

  return wait_tasks (tasks, n_tasks, TRUE, timeout_usec, G_STRFUNC) == 0;
}

/**
 * pmt_task_wait_any:
 * @tasks: (array length=n_tasks): tasks
 * @n_tasks: the number of @tasks
 * @timeout_usec: how long to wait in microseconds: negative waits
 *   forever, 0 only checks
 *
 * Waits until one of the tasks is done, or until the timeout; see
 * pmt_task_wait().
 *
 * Returns: the index in @tasks of a task that is done, or -1 on timeout
 *   (or when @n_tasks is 0)
 */
gint
pmt_task_wait_any (PmtTask **tasks,
                   guint     n_tasks,
                   gint64    timeout_usec)
{
  g_return_val_if_fail (tasks != NULL || n_tasks == 0, -1);
  g_return_val_if_fail (n_tasks <= G_MAXINT, -1);
  for (guint i = 0; i < n_tasks; i++)
    g_return_val_if_fail (PMT_IS_TASK (tasks[i]), -1);

  return wait_tasks (tasks, n_tasks, FALSE, timeout_usec, G_STRFUNC);
}

/* A GCancellableSourceFunc: the cancellable comes first. */
static gboolean
wait_async_cancelled (GCancellable *cancellable,
                      gpointer      data)
{
  GTask *task = data;
  PmtTask *self = g_task_get_source_object (task);
  PmtTaskPrivate *priv = _pmt_task_get_priv (self);
  GSList *link;

  g_mutex_lock (&priv->mutex);
  link = g_slist_find (PMT_TASK_EXTRA (priv, async_waiters), task);
  if (link != NULL)
    priv->extra->async_waiters = g_slist_delete_link (priv->extra->async_waiters, link);
  g_mutex_unlock (&priv->mutex);

  /* Not found: the task finished meanwhile and returns the result. */
  if (link != NULL)
    {
      g_task_return_error_if_cancelled (task);
      g_object_unref (task);
    }

  return G_SOURCE_REMOVE;
}

/**
 * pmt_task_wait_async:
 * @self: a #PmtTask
 * @cancellable: (nullable): cancels the wait, not the task
 * @callback: (scope async): called when the task is done
 * @user_data: data for @callback
 *
 * Waits for the task without blocking: @callback runs on the thread-default
 * main context of the caller once the task reached a terminal state.
 * Finish with pmt_task_wait_finish().
 */
void
pmt_task_wait_async (PmtTask             *self,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  PmtTaskPrivate *priv;
  g_autoptr(GTask) task = NULL;
  gboolean done;

  g_return_if_fail (PMT_IS_TASK (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  priv = _pmt_task_get_priv (self);
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, pmt_task_wait_async);

  if (cancellable != NULL)
    {
      GSource *source = g_cancellable_source_new (cancellable);

      /* Attached to the caller's context: cancellation then touches the
       * waiter list on the caller's thread, never inside a signal handler
       * of the cancelling thread. */
      g_source_set_callback (source, G_SOURCE_FUNC (wait_async_cancelled), task, NULL);
      g_source_set_static_name (source, "[pmt] task wait cancelled");
      g_task_set_task_data (task, source, (GDestroyNotify)g_source_unref);
      g_source_attach (source, g_task_get_context (task));
    }

  g_mutex_lock (&priv->mutex);
  done = priv->done;
  if (!done)
    {
      _pmt_task_ensure_extra_locked (priv);
      priv->extra->async_waiters = g_slist_prepend (priv->extra->async_waiters,
                                                    g_object_ref (task));
    }
  g_mutex_unlock (&priv->mutex);

  if (!done)
    return;

  if (cancellable != NULL)
    g_source_destroy (g_task_get_task_data (task));
  if (priv->error != NULL)
    g_task_return_error (task, g_error_copy (priv->error));
  else
    g_task_return_boolean (task, TRUE);
}

/**
 * pmt_task_wait_finish:
 * @self: a #PmtTask
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes pmt_task_wait_async().
 *
 * Returns: %TRUE when the task succeeded; %FALSE with the task's error
 *   when it failed or was cancelled, or %G_IO_ERROR_CANCELLED when the
 *   wait was cancelled
 */
gboolean
pmt_task_wait_finish (PmtTask       *self,
                      GAsyncResult  *result,
                      GError       **error)
{
  g_return_val_if_fail (PMT_IS_TASK (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
