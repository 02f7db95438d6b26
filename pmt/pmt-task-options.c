/* pmt-task-options.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "pmt-i18n-private.h"
#include "pmt-limiter.h"
#include "pmt-task-fields-private.h"
/* The options of a task, settable until it is submitted: a worker reads
 * them without the lock afterwards. */

/* Options may change only while the task is PENDING: after that, a worker
 * reads them without the lock.  Called without the lock. */
static void
report_options_fixed (PmtTask    *self,
                      const char *func)
{
  /* Translators: %s is the name of the function called, %llu the task's id */
  g_critical (_("%s: task %llu was submitted already; its options cannot change any more"),
              func, (unsigned long long) _pmt_task_get_priv (self)->id);
}

/**
 * pmt_task_get_priority:
 * @self: a #PmtTask
 *
 * Gets #PmtTask:priority.
 *
 * Returns: the priority of the task; lower values run first
 */
gint
pmt_task_get_priority (PmtTask *self)
{
  g_return_val_if_fail (PMT_IS_TASK (self), 0);

  return _pmt_task_get_priv (self)->priority;
}

/**
 * pmt_task_set_priority:
 * @self: a #PmtTask
 * @priority: the new priority; lower values run first
 *
 * Sets the priority of the task in a queue.  Only before the task is
 * submitted.
 */
void
pmt_task_set_priority (PmtTask *self,
                       gint     priority)
{
  PmtTaskPrivate *priv;
  gboolean changed;

  g_return_if_fail (PMT_IS_TASK (self));

  priv = _pmt_task_get_priv (self);
  g_mutex_lock (&priv->mutex);
  if (priv->state != PMT_TASK_STATE_PENDING)
    {
      g_mutex_unlock (&priv->mutex);
      report_options_fixed (self, G_STRFUNC);
      return;
    }
  changed = priv->priority != priority;
  priv->priority = priority;
  g_mutex_unlock (&priv->mutex);

  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), _pmt_task_properties[PMT_TASK_PROP_PRIORITY]);
}

/**
 * pmt_task_get_store_result:
 * @self: a #PmtTask
 *
 * Gets #PmtTask:store-result.
 *
 * Returns: whether the task keeps its result once its callback ran
 */
gboolean
pmt_task_get_store_result (PmtTask *self)
{
  g_return_val_if_fail (PMT_IS_TASK (self), FALSE);

  return _pmt_task_get_priv (self)->store_result;
}

/**
 * pmt_task_set_store_result:
 * @self: a #PmtTask
 * @store_result: whether to keep the result
 *
 * Sets #PmtTask:store-result.  Only before the task is submitted.
 */
void
pmt_task_set_store_result (PmtTask  *self,
                           gboolean  store_result)
{
  PmtTaskPrivate *priv;
  gboolean changed;

  g_return_if_fail (PMT_IS_TASK (self));

  priv = _pmt_task_get_priv (self);
  store_result = !!store_result;
  g_mutex_lock (&priv->mutex);
  if (priv->state != PMT_TASK_STATE_PENDING)
    {
      g_mutex_unlock (&priv->mutex);
      report_options_fixed (self, G_STRFUNC);
      return;
    }
  changed = priv->store_result != (guint)store_result;
  priv->store_result = store_result;
  g_mutex_unlock (&priv->mutex);

  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), _pmt_task_properties[PMT_TASK_PROP_STORE_RESULT]);
}

/**
 * pmt_task_get_limiter:
 * @self: a #PmtTask
 *
 * Gets #PmtTask:limiter.
 *
 * Returns: (transfer none) (nullable): the limiter the task runs under
 */
PmtLimiter *
pmt_task_get_limiter (PmtTask *self)
{
  PmtTaskPrivate *priv;
  PmtLimiter *limiter;

  g_return_val_if_fail (PMT_IS_TASK (self), NULL);

  priv = _pmt_task_get_priv (self);
  g_mutex_lock (&priv->mutex);
  limiter = PMT_TASK_EXTRA (priv, limiter);
  g_mutex_unlock (&priv->mutex);

  return limiter;
}

/**
 * pmt_task_set_limiter:
 * @self: a #PmtTask
 * @limiter: (nullable): a #PmtLimiter
 *
 * Makes the task acquire @limiter in the thread that runs it, before its
 * function, and release it after.  Only before the task is submitted.
 */
void
pmt_task_set_limiter (PmtTask    *self,
                      PmtLimiter *limiter)
{
  PmtTaskPrivate *priv;
  gboolean changed;

  g_return_if_fail (PMT_IS_TASK (self));
  g_return_if_fail (limiter == NULL || PMT_IS_LIMITER (limiter));

  priv = _pmt_task_get_priv (self);
  g_mutex_lock (&priv->mutex);
  if (priv->state != PMT_TASK_STATE_PENDING)
    {
      g_mutex_unlock (&priv->mutex);
      report_options_fixed (self, G_STRFUNC);
      return;
    }
  changed = g_set_object (&_pmt_task_ensure_extra_locked (priv)->limiter, limiter);
  g_mutex_unlock (&priv->mutex);

  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), _pmt_task_properties[PMT_TASK_PROP_LIMITER]);
}

/**
 * pmt_task_get_main_context:
 * @self: a #PmtTask
 *
 * Gets #PmtTask:main-context.
 *
 * Returns: (transfer none) (nullable): the context #PmtTask::completed is
 *   emitted on, or %NULL for the finishing thread
 */
GMainContext *
pmt_task_get_main_context (PmtTask *self)
{
  PmtTaskPrivate *priv;
  GMainContext *context;

  g_return_val_if_fail (PMT_IS_TASK (self), NULL);

  priv = _pmt_task_get_priv (self);
  g_mutex_lock (&priv->mutex);
  context = PMT_TASK_EXTRA (priv, main_context);
  g_mutex_unlock (&priv->mutex);

  return context;
}

/**
 * pmt_task_set_main_context:
 * @self: a #PmtTask
 * @context: (nullable): a #GMainContext
 *
 * Makes #PmtTask::completed be emitted on @context, from an idle source,
 * instead of in the thread that finished the task; the function's and
 * callback's data are released there too.  GTK and GJS code use this.
 * Only before the task is submitted.
 */
void
pmt_task_set_main_context (PmtTask      *self,
                           GMainContext *context)
{
  PmtTaskPrivate *priv;
  GMainContext *old;

  g_return_if_fail (PMT_IS_TASK (self));

  priv = _pmt_task_get_priv (self);
  g_mutex_lock (&priv->mutex);
  if (priv->state != PMT_TASK_STATE_PENDING)
    {
      g_mutex_unlock (&priv->mutex);
      report_options_fixed (self, G_STRFUNC);
      return;
    }
  old = _pmt_task_ensure_extra_locked (priv)->main_context;
  priv->extra->main_context = context ? g_main_context_ref (context) : NULL;
  g_mutex_unlock (&priv->mutex);

  if (old != NULL)
    g_main_context_unref (old);
  if (old != context)
    g_object_notify_by_pspec (G_OBJECT (self), _pmt_task_properties[PMT_TASK_PROP_MAIN_CONTEXT]);
}

/**
 * pmt_task_set_callback:
 * @self: a #PmtTask
 * @callback: (scope notified) (closure user_data) (destroy notify) (nullable):
 *   the callback
 * @user_data: data for @callback
 * @notify: (nullable): frees @user_data
 *
 * Sets a function to run in the thread that ran the task, right after its
 * function, with the result in the task and before any waiter wakes
 * (PyMultiTasking's `callback_func`).  It does not run for a task cancelled before
 * it started.  Only before the task is submitted.
 */
void
pmt_task_set_callback (PmtTask         *self,
                       PmtTaskCallback  callback,
                       gpointer         user_data,
                       GDestroyNotify   notify)
{
  PmtTaskPrivate *priv;
  GDestroyNotify old_notify;
  gpointer old_data;

  g_return_if_fail (PMT_IS_TASK (self));

  priv = _pmt_task_get_priv (self);
  g_mutex_lock (&priv->mutex);
  if (priv->state != PMT_TASK_STATE_PENDING)
    {
      g_mutex_unlock (&priv->mutex);
      report_options_fixed (self, G_STRFUNC);
      return;
    }
  _pmt_task_ensure_extra_locked (priv);
  old_notify = priv->extra->callback_notify;
  old_data = priv->extra->callback_data;
  priv->extra->callback = callback;
  priv->extra->callback_data = user_data;
  priv->extra->callback_notify = notify;
  g_mutex_unlock (&priv->mutex);

  if (old_notify != NULL)
    old_notify (old_data);
}

/**
 * pmt_task_get_task_data: (skip)
 * @self: a #PmtTask
 *
 * Gets the data set with pmt_task_set_task_data().
 *
 * Returns: (transfer none) (nullable): the data set with
 *   pmt_task_set_task_data()
 */
gpointer
pmt_task_get_task_data (PmtTask *self)
{
  PmtTaskPrivate *priv;
  gpointer data;

  g_return_val_if_fail (PMT_IS_TASK (self), NULL);

  priv = _pmt_task_get_priv (self);
  g_mutex_lock (&priv->mutex);
  data = PMT_TASK_EXTRA (priv, task_data);
  g_mutex_unlock (&priv->mutex);

  return data;
}

/**
 * pmt_task_set_task_data: (skip)
 * @self: a #PmtTask
 * @task_data: (nullable): per-call data
 * @notify: (nullable): frees @task_data when it is replaced or the task
 *   is finalized
 *
 * Attaches per-call data to the task, as g_task_set_task_data() does.
 * Bindings, which cannot hand over a bare pointer and its destroy
 * notify, use pmt_task_set_task_value() instead.
 */
void
pmt_task_set_task_data (PmtTask        *self,
                        gpointer        task_data,
                        GDestroyNotify  notify)
{
  PmtTaskPrivate *priv;
  GDestroyNotify old_notify;
  gpointer old_data;

  g_return_if_fail (PMT_IS_TASK (self));

  priv = _pmt_task_get_priv (self);
  g_mutex_lock (&priv->mutex);
  _pmt_task_ensure_extra_locked (priv);
  old_notify = priv->extra->task_data_notify;
  old_data = priv->extra->task_data;
  priv->extra->task_data = task_data;
  priv->extra->task_data_notify = notify;
  g_mutex_unlock (&priv->mutex);

  if (old_notify != NULL)
    old_notify (old_data);
}

/**
 * pmt_task_set_task_value:
 * @self: a #PmtTask
 * @value: (nullable): per-call data, copied; %NULL clears it
 *
 * Attaches per-call data to the task as a #GValue: the form of
 * pmt_task_set_task_data() for bindings (a Python object, a JS value, a
 * string, an object…).  The task's function reads it back with
 * pmt_task_get_task_value().  Only before the task is submitted: the
 * running thread reads it without a lock.  The value is released with the
 * task.
 */
void
pmt_task_set_task_value (PmtTask      *self,
                         const GValue *value)
{
  PmtTaskPrivate *priv;
  GValue old = G_VALUE_INIT;

  g_return_if_fail (PMT_IS_TASK (self));
  g_return_if_fail (value == NULL || G_IS_VALUE (value));

  priv = _pmt_task_get_priv (self);
  g_mutex_lock (&priv->mutex);
  if (priv->state != PMT_TASK_STATE_PENDING)
    {
      g_mutex_unlock (&priv->mutex);
      report_options_fixed (self, G_STRFUNC);
      return;
    }
  /* Moved out (a GValue may be moved bitwise), to be unset unlocked. */
  old = _pmt_task_ensure_extra_locked (priv)->task_value;
  memset (&priv->extra->task_value, 0, sizeof (GValue));
  if (value != NULL)
    {
      g_value_init (&priv->extra->task_value, G_VALUE_TYPE (value));
      g_value_copy (value, &priv->extra->task_value);
    }
  g_mutex_unlock (&priv->mutex);

  /* Outside the lock: unsetting may run a binding's code. */
  if (G_IS_VALUE (&old))
    g_value_unset (&old);
}

/**
 * pmt_task_get_task_value:
 * @self: a #PmtTask
 *
 * Gets the per-call data set with pmt_task_set_task_value(), by
 * pmt_pool_map_values() or by pmt_threaded_call_value().
 *
 * Returns: (transfer none) (nullable): the task's value, or %NULL when it
 *   has none
 */
const GValue *
pmt_task_get_task_value (PmtTask *self)
{
  PmtTaskPrivate *priv;
  const GValue *value = NULL;

  g_return_val_if_fail (PMT_IS_TASK (self), NULL);

  priv = _pmt_task_get_priv (self);
  g_mutex_lock (&priv->mutex);
  if (priv->extra != NULL && G_IS_VALUE (&priv->extra->task_value))
    value = &priv->extra->task_value;
  g_mutex_unlock (&priv->mutex);

  return value;
}
