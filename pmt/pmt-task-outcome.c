/* pmt-task-outcome.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "pmt-enums.h"
#include "pmt-i18n-private.h"
#include "pmt-task-fields-private.h"
/* What a task's function reports (pmt_task_return_*()), and reading it
 * back once the task finished. */

/* The outcome may be reported once, while running; with the lock held. */
static gboolean
claim_return_locked (PmtTaskPrivate *priv)
{
  if (priv->state != PMT_TASK_STATE_RUNNING || priv->returned)
    return FALSE;

  priv->returned = TRUE;
  return TRUE;
}

/* Called without the lock. */
static void
report_bad_return (PmtTask    *self,
                   const char *func)
{
  /* Translators: %s is the name of the function called, %llu the task's id */
  g_critical (_("%s: task %llu is not running or has reported its outcome already; "
                "a task reports it once, from its function"),
              func, (unsigned long long) _pmt_task_get_priv (self)->id);
}

/**
 * pmt_task_return_value:
 * @self: a #PmtTask
 * @value: (nullable): the result; copied
 *
 * Reports success with @value as the result.  Only from the running task,
 * once.
 */
void
pmt_task_return_value (PmtTask      *self,
                       const GValue *value)
{
  PmtTaskPrivate *priv;

  g_return_if_fail (PMT_IS_TASK (self));
  g_return_if_fail (value == NULL || G_IS_VALUE (value));

  priv = _pmt_task_get_priv (self);
  g_mutex_lock (&priv->mutex);
  if (!claim_return_locked (priv))
    {
      g_mutex_unlock (&priv->mutex);
      report_bad_return (self, G_STRFUNC);
      return;
    }

  if (value != NULL)
    {
      g_value_init (&priv->result, G_VALUE_TYPE (value));
      g_value_copy (value, &priv->result);
    }
  g_mutex_unlock (&priv->mutex);
}

/**
 * pmt_task_return_pointer: (skip)
 * @self: a #PmtTask
 * @result: (nullable) (transfer full): the result
 * @result_destroy: (nullable): frees @result with the task
 *
 * Reports success with @result as the result, read back with
 * pmt_task_get_result_pointer().  Only from the running task, once.
 * Bindings report a result with pmt_task_return_value().
 */
void
pmt_task_return_pointer (PmtTask        *self,
                         gpointer        result,
                         GDestroyNotify  result_destroy)
{
  PmtTaskPrivate *priv;

  g_return_if_fail (PMT_IS_TASK (self));

  priv = _pmt_task_get_priv (self);
  g_mutex_lock (&priv->mutex);
  if (!claim_return_locked (priv))
    {
      g_mutex_unlock (&priv->mutex);
      report_bad_return (self, G_STRFUNC);
      if (result_destroy != NULL && result != NULL)
        result_destroy (result);
      return;
    }

  g_value_init (&priv->result, G_TYPE_POINTER);
  g_value_set_pointer (&priv->result, result);
  priv->result_notify = result_destroy;
  g_mutex_unlock (&priv->mutex);
}

/**
 * pmt_task_return_int:
 * @self: a #PmtTask
 * @result: the result
 *
 * Reports success with @result, held as a %G_TYPE_INT64 #GValue.  Only
 * from the running task, once.
 */
void
pmt_task_return_int (PmtTask *self,
                     gint64   result)
{
  GValue value = G_VALUE_INIT;

  g_return_if_fail (PMT_IS_TASK (self));

  g_value_init (&value, G_TYPE_INT64);
  g_value_set_int64 (&value, result);
  pmt_task_return_value (self, &value);
  g_value_unset (&value);
}

/**
 * pmt_task_return_boolean:
 * @self: a #PmtTask
 * @result: the result
 *
 * Reports success with @result, held as a %G_TYPE_BOOLEAN #GValue.  Only
 * from the running task, once.
 */
void
pmt_task_return_boolean (PmtTask  *self,
                         gboolean  result)
{
  GValue value = G_VALUE_INIT;

  g_return_if_fail (PMT_IS_TASK (self));

  g_value_init (&value, G_TYPE_BOOLEAN);
  g_value_set_boolean (&value, result);
  pmt_task_return_value (self, &value);
  g_value_unset (&value);
}

/**
 * pmt_task_return_error:
 * @self: a #PmtTask
 * @error: (transfer full): the error
 *
 * Reports failure with @error, taking ownership of it.  A
 * %G_IO_ERROR_CANCELLED error ends the task %PMT_TASK_STATE_CANCELLED,
 * any other %PMT_TASK_STATE_FAILED.  Only from the running task, once.
 */
void
pmt_task_return_error (PmtTask *self,
                       GError  *error)
{
  PmtTaskPrivate *priv;

  g_return_if_fail (PMT_IS_TASK (self));
  g_return_if_fail (error != NULL);

  priv = _pmt_task_get_priv (self);
  g_mutex_lock (&priv->mutex);
  if (!claim_return_locked (priv))
    {
      g_mutex_unlock (&priv->mutex);
      report_bad_return (self, G_STRFUNC);
      g_error_free (error);
      return;
    }

  priv->error = error;
  g_mutex_unlock (&priv->mutex);
}

/**
 * pmt_task_return_new_error:
 * @self: a #PmtTask
 * @domain: a #GQuark
 * @code: an error code
 * @format: a printf()-style format
 * @...: arguments for @format
 *
 * Reports failure with a new #GError.  Only from the running task, once.
 */
void
pmt_task_return_new_error (PmtTask    *self,
                           GQuark      domain,
                           gint        code,
                           const char *format,
                           ...)
{
  GError *error;
  va_list args;

  g_return_if_fail (PMT_IS_TASK (self));
  g_return_if_fail (format != NULL);

  va_start (args, format);
  error = g_error_new_valist (domain, code, format, args);
  va_end (args);

  pmt_task_return_error (self, error);
}

/* Results are read without the lock once the task is terminal, since
 * nothing writes them after that, or by the thread that runs the task. */
static gboolean
outcome_readable (PmtTask *self)
{
  PmtTaskPrivate *priv = _pmt_task_get_priv (self);
  gboolean readable;

  g_mutex_lock (&priv->mutex);
  readable = PMT_TASK_TERMINAL (priv->state) || priv->active_thread == _pmt_thread_id ();
  g_mutex_unlock (&priv->mutex);

  return readable;
}

/**
 * pmt_task_get_result:
 * @self: a #PmtTask
 *
 * Gets the result of a task that succeeded with a value (PyMultiTasking's
 * `results`).  Results of pmt_task_return_pointer() come as a
 * %G_TYPE_POINTER value.
 *
 * Returns: (transfer none) (nullable): the result, or %NULL if the task
 *   has not finished, failed, reported no value or does not store it.
 *   The task's own function and callback can read it before the task
 *   finishes
 */
const GValue *
pmt_task_get_result (PmtTask *self)
{
  PmtTaskPrivate *priv;

  g_return_val_if_fail (PMT_IS_TASK (self), NULL);

  priv = _pmt_task_get_priv (self);
  if (!outcome_readable (self) || !G_IS_VALUE (&priv->result))
    return NULL;

  return &priv->result;
}

/**
 * pmt_task_get_result_pointer: (skip)
 * @self: a #PmtTask
 *
 * Gets the result of a task that reported it with
 * pmt_task_return_pointer().  Bindings read results with
 * pmt_task_get_result().
 *
 * Returns: (transfer none) (nullable): the result given to
 *   pmt_task_return_pointer(), or %NULL
 */
gpointer
pmt_task_get_result_pointer (PmtTask *self)
{
  const GValue *value;

  g_return_val_if_fail (PMT_IS_TASK (self), NULL);

  value = pmt_task_get_result (self);
  if (value == NULL || !G_VALUE_HOLDS_POINTER (value))
    return NULL;

  return g_value_get_pointer (value);
}

/**
 * pmt_task_get_error:
 * @self: a #PmtTask
 *
 * Gets the error of a finished task.  The task's own function and
 * callback can read it before the task finishes.
 *
 * Returns: (transfer none) (nullable): the error of a failed or cancelled
 *   task, kept until the task is finalized
 */
const GError *
pmt_task_get_error (PmtTask *self)
{
  g_return_val_if_fail (PMT_IS_TASK (self), NULL);

  if (!outcome_readable (self))
    return NULL;

  return _pmt_task_get_priv (self)->error;
}

/**
 * pmt_task_propagate_error:
 * @self: a #PmtTask
 * @error: return location for a #GError
 *
 * Copies the task's error, if any, into @error.
 *
 * Returns: %FALSE when the task failed or was cancelled, %TRUE otherwise
 */
gboolean
pmt_task_propagate_error (PmtTask  *self,
                          GError  **error)
{
  const GError *task_error;

  g_return_val_if_fail (PMT_IS_TASK (self), FALSE);

  task_error = pmt_task_get_error (self);
  if (task_error == NULL)
    return TRUE;

  g_propagate_error (error, g_error_copy (task_error));
  return FALSE;
}

/* The result as a variant, for the types that have a natural one. */
static GVariant *
value_to_variant (const GValue *value)
{
  GType type = G_VALUE_TYPE (value);

  switch (G_TYPE_FUNDAMENTAL (type))
    {
    case G_TYPE_BOOLEAN:
      return g_variant_new_boolean (g_value_get_boolean (value));
    case G_TYPE_INT:
      return g_variant_new_int32 (g_value_get_int (value));
    case G_TYPE_UINT:
      return g_variant_new_uint32 (g_value_get_uint (value));
    case G_TYPE_INT64:
      return g_variant_new_int64 (g_value_get_int64 (value));
    case G_TYPE_UINT64:
      return g_variant_new_uint64 (g_value_get_uint64 (value));
    case G_TYPE_DOUBLE:
      return g_variant_new_double (g_value_get_double (value));
    case G_TYPE_STRING:
      return g_variant_new_string (g_value_get_string (value) ? g_value_get_string (value) : "");
    case G_TYPE_VARIANT:
      return g_value_get_variant (value) ? g_variant_new_variant (g_value_get_variant (value))
                                         : NULL;
    default:
      break;
    }

  if (type == G_TYPE_BYTES && g_value_get_boxed (value) != NULL)
    return g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, g_value_get_boxed (value), TRUE);
  if (type == G_TYPE_STRV && g_value_get_boxed (value) != NULL)
    return g_variant_new_strv (g_value_get_boxed (value), -1);

  return NULL;
}

/**
 * pmt_task_to_variant:
 * @self: a #PmtTask
 *
 * Makes a snapshot of the task, to store or send elsewhere (a task that
 * is "serializable", as PyMultiTasking's is): a `a{sv}` dictionary with
 * `id` (`t`), `state` (`s`, the #PmtTaskState nick, such as
 * `"succeeded"`) and `priority` (`i`); once the task finished, `result`
 * (`v`) when it succeeded with a boolean, number, string, string array,
 * #GBytes or #GVariant result, and `error` (`(sis)`: domain, code,
 * message) when it failed or was cancelled.
 *
 * Returns: (transfer floating): the snapshot
 */
GVariant *
pmt_task_to_variant (PmtTask *self)
{
  g_autoptr(GEnumClass) states = NULL;
  GVariantBuilder builder;
  const GValue *result;
  const GError *error;
  GEnumValue *state;

  g_return_val_if_fail (PMT_IS_TASK (self), NULL);

  states = g_type_class_ref (PMT_TYPE_TASK_STATE);
  state = g_enum_get_value (states, pmt_task_get_state (self));

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "id", g_variant_new_uint64 (pmt_task_get_id (self)));
  g_variant_builder_add (&builder, "{sv}", "state", g_variant_new_string (state->value_nick));
  g_variant_builder_add (&builder, "{sv}", "priority",
                         g_variant_new_int32 (pmt_task_get_priority (self)));

  if (pmt_task_is_done (self) && (result = pmt_task_get_result (self)) != NULL)
    {
      GVariant *variant = value_to_variant (result);

      if (variant != NULL)
        g_variant_builder_add (&builder, "{sv}", "result", variant);
    }
  if (pmt_task_is_done (self) && (error = pmt_task_get_error (self)) != NULL)
    g_variant_builder_add (&builder, "{sv}", "error",
                           g_variant_new ("(sis)", g_quark_to_string (error->domain),
                                          error->code, error->message));

  return g_variant_builder_end (&builder);
}
