/* pmt-limiter.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "pmt-deadline-private.h"
#include "pmt-error.h"
#include "pmt-i18n-private.h"
#include "pmt-limiter.h"

/**
 * SECTION:pmt-limiter
 * @title: PmtLimiter
 * @short_description: How many at once
 *
 * |[<!-- language="C" -->
 * g_autoptr(PmtLimiter) limiter = pmt_limiter_new (2);   // two holders at a time
 * g_autoptr(GError) error = NULL;
 *
 * // Blocking: this thread runs write_line() while it holds the limiter.
 * if (!pmt_limiter_run (limiter, -1, NULL, write_line, line, &error))
 *   g_warning ("%s", error->message);
 *
 * // Non-blocking: the task acquires it in its worker, around its function.
 * pmt_task_set_limiter (task, limiter);
 * pmt_pool_push (pool, task, &error);
 * ]|
 *
 * A #PmtLimiter is a counting semaphore: at most #PmtLimiter:limit holders
 * at a time.  Waiters are served first come, first served: a thread that
 * started waiting first gets the limiter first, and a newcomer never
 * overtakes a waiter even when the limiter is free at that instant.
 *
 * PyMultiTasking's `@Limiter(n)` is pmt_limiter_run() (blocking: the
 * caller runs its function under the limiter) or #PmtTask:limiter
 * (non-blocking: the task acquires it in its worker).
 *
 * #PmtLimiter:limit may change at any time: raising it wakes waiters,
 * lowering it never takes the limiter from a holder; newcomers then wait
 * until enough holders released it.
 *
 * Every method may be called from any thread.  #GObject::notify for
 * #PmtLimiter:available and #PmtLimiter:n-waiting is emitted in the thread
 * that changed them, after the change and without internal locks held.
 */

typedef struct
{
  PmtLimiter *limiter;
  GCond cond;           /* synchronous waiters block on it */
  GTask *task;          /* asynchronous waiters are returned through it */
  GSource *cancel_source;
  gboolean granted;
} Waiter;

struct _PmtLimiter
{
  GObject parent_instance;

  GMutex mutex;
  GQueue waiters;       /* of Waiter, first come first */
  guint limit;
  guint held;
};

enum {
  PROP_0,
  PROP_LIMIT,
  PROP_AVAILABLE,
  PROP_N_WAITING,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (PmtLimiter, pmt_limiter, G_TYPE_OBJECT)

static GParamSpec *properties[N_PROPS];

static void
pmt_limiter_finalize (GObject *object)
{
  PmtLimiter *self = (PmtLimiter *)object;

  /* Waiters hold a reference: none can be left. */
  g_assert (g_queue_is_empty (&self->waiters));
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (pmt_limiter_parent_class)->finalize (object);
}

static void
pmt_limiter_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  PmtLimiter *self = PMT_LIMITER (object);

  switch (prop_id)
    {
    case PROP_LIMIT:
      g_value_set_uint (value, pmt_limiter_get_limit (self));
      break;

    case PROP_AVAILABLE:
      g_value_set_uint (value, pmt_limiter_get_available (self));
      break;

    case PROP_N_WAITING:
      g_value_set_uint (value, pmt_limiter_get_n_waiting (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pmt_limiter_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  PmtLimiter *self = PMT_LIMITER (object);

  switch (prop_id)
    {
    case PROP_LIMIT:
      pmt_limiter_set_limit (self, g_value_get_uint (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pmt_limiter_class_init (PmtLimiterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = pmt_limiter_finalize;
  object_class->get_property = pmt_limiter_get_property;
  object_class->set_property = pmt_limiter_set_property;

  /**
   * PmtLimiter:limit:
   *
   * How many may hold the limiter at once.  Raising it wakes waiters;
   * lowering it does not take the limiter from its holders.
   */
  properties[PROP_LIMIT] =
    g_param_spec_uint ("limit", NULL, NULL,
                       0, G_MAXUINT, 1,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * PmtLimiter:available:
   *
   * How many more could acquire the limiter now: the limit less the
   * holders, or 0.
   */
  properties[PROP_AVAILABLE] =
    g_param_spec_uint ("available", NULL, NULL,
                       0, G_MAXUINT, 1,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * PmtLimiter:n-waiting:
   *
   * How many are waiting to acquire the limiter.
   */
  properties[PROP_N_WAITING] =
    g_param_spec_uint ("n-waiting", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
pmt_limiter_init (PmtLimiter *self)
{
  g_mutex_init (&self->mutex);
  g_queue_init (&self->waiters);
  self->limit = 1;
}

/**
 * pmt_limiter_new:
 * @limit: how many may hold the limiter at once; 0 lets nobody in until
 *   the limit is raised
 *
 * Creates a limiter that lets at most @limit hold it at once.
 *
 * Returns: (transfer full): a new #PmtLimiter
 */
PmtLimiter *
pmt_limiter_new (guint limit)
{
  return g_object_new (PMT_TYPE_LIMITER, "limit", limit, NULL);
}

static void
notify_counts (PmtLimiter *self,
               gboolean    waiting_changed)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AVAILABLE]);
  if (waiting_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_WAITING]);
}

/* Hands the limiter to waiters, in order, while there is room.  Returns
 * the asynchronous waiters granted, to be completed without the lock. */
static GSList *
grant_waiters_locked (PmtLimiter *self)
{
  GSList *granted_async = NULL;

  while (self->held < self->limit && !g_queue_is_empty (&self->waiters))
    {
      Waiter *waiter = g_queue_pop_head (&self->waiters);

      self->held++;
      waiter->granted = TRUE;
      if (waiter->task != NULL)
        granted_async = g_slist_prepend (granted_async, waiter);
      else
        g_cond_signal (&waiter->cond);
    }

  return g_slist_reverse (granted_async);
}

static void
complete_async_waiters (GSList *granted_async)
{
  for (GSList *l = granted_async; l != NULL; l = l->next)
    {
      Waiter *waiter = l->data;
      GTask *task = waiter->task;

      if (waiter->cancel_source != NULL)
        g_source_destroy (waiter->cancel_source);
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
    }
  g_slist_free (granted_async);
}

static gboolean
acquire_fast_locked (PmtLimiter *self)
{
  if (self->held < self->limit && g_queue_is_empty (&self->waiters))
    {
      self->held++;
      return TRUE;
    }

  return FALSE;
}

static void
waiter_cancelled (GCancellable *cancellable,
                  Waiter       *waiter)
{
  PmtLimiter *self = waiter->limiter;

  /* Signalled under the lock so the waiter re-checks its cancellable. */
  g_mutex_lock (&self->mutex);
  g_cond_signal (&waiter->cond);
  g_mutex_unlock (&self->mutex);
}

/* Blocks as waiter; with the lock held on entry and on return. */
static gboolean
wait_locked (PmtLimiter   *self,
             Waiter       *waiter,
             gint64        deadline,
             GCancellable *cancellable)
{
  while (!waiter->granted)
    {
      if (g_cancellable_is_cancelled (cancellable))
        return FALSE;
      if (!_pmt_cond_wait_until (&waiter->cond, &self->mutex, deadline))
        return waiter->granted;
    }

  return TRUE;
}

/**
 * pmt_limiter_acquire:
 * @self: a #PmtLimiter
 * @timeout_usec: how long to wait in microseconds: negative waits
 *   forever, 0 only tries
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Acquires the limiter, blocking while it is full or while others wait
 * before us.  Release it with pmt_limiter_release().
 *
 * Returns: %TRUE when acquired; %FALSE with %PMT_ERROR_TIMED_OUT or
 *   %G_IO_ERROR_CANCELLED
 */
gboolean
pmt_limiter_acquire (PmtLimiter    *self,
                     gint64         timeout_usec,
                     GCancellable  *cancellable,
                     GError       **error)
{
  Waiter waiter = { 0 };
  gulong handler = 0;
  gint64 deadline;
  gboolean granted;

  g_return_val_if_fail (PMT_IS_LIMITER (self), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  deadline = _pmt_deadline_from_timeout (timeout_usec);

  g_mutex_lock (&self->mutex);
  if (acquire_fast_locked (self))
    {
      g_mutex_unlock (&self->mutex);
      notify_counts (self, FALSE);
      return TRUE;
    }
  if (timeout_usec == 0)
    {
      g_mutex_unlock (&self->mutex);
      g_set_error_literal (error, PMT_ERROR, PMT_ERROR_TIMED_OUT,
                           _("The limiter is full"));
      return FALSE;
    }

  waiter.limiter = self;
  g_cond_init (&waiter.cond);
  g_queue_push_tail (&self->waiters, &waiter);
  g_mutex_unlock (&self->mutex);
  notify_counts (self, TRUE);

  /* Connected without our lock: g_cancellable_connect() runs the handler
   * at once when already cancelled, and the handler takes the lock. */
  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (waiter_cancelled), &waiter, NULL);

  g_mutex_lock (&self->mutex);
  granted = wait_locked (self, &waiter, deadline, cancellable);
  if (!granted)
    g_queue_remove (&self->waiters, &waiter);
  g_mutex_unlock (&self->mutex);

  /* Disconnecting waits for a running handler, so only without the lock. */
  g_cancellable_disconnect (cancellable, handler);
  g_cond_clear (&waiter.cond);

  if (!granted)
    {
      notify_counts (self, TRUE);
      if (!g_cancellable_set_error_if_cancelled (cancellable, error))
        g_set_error_literal (error, PMT_ERROR, PMT_ERROR_TIMED_OUT,
                             _("Timed out waiting for the limiter"));
    }

  return granted;
}

/**
 * pmt_limiter_try_acquire:
 * @self: a #PmtLimiter
 *
 * Acquires the limiter if that is possible without waiting: it has room
 * and nobody waits for it.
 *
 * Returns: %TRUE when acquired
 */
gboolean
pmt_limiter_try_acquire (PmtLimiter *self)
{
  gboolean acquired;

  g_return_val_if_fail (PMT_IS_LIMITER (self), FALSE);

  g_mutex_lock (&self->mutex);
  acquired = acquire_fast_locked (self);
  g_mutex_unlock (&self->mutex);

  if (acquired)
    notify_counts (self, FALSE);

  return acquired;
}

/**
 * pmt_limiter_release:
 * @self: a #PmtLimiter
 *
 * Releases the limiter once, handing it to the first waiter, if any.
 * Releasing more often than it was acquired is a programming error.
 */
void
pmt_limiter_release (PmtLimiter *self)
{
  GSList *granted_async;
  guint n_waiting_before, n_waiting_after;

  g_return_if_fail (PMT_IS_LIMITER (self));

  g_mutex_lock (&self->mutex);
  if (self->held == 0)
    {
      g_mutex_unlock (&self->mutex);
      /* Translators: %s is the name of the function called, %p the limiter */
      g_critical (_("%s: limiter %p released more often than it was acquired"),
                  G_STRFUNC, self);
      return;
    }
  self->held--;
  n_waiting_before = self->waiters.length;
  granted_async = grant_waiters_locked (self);
  n_waiting_after = self->waiters.length;
  g_mutex_unlock (&self->mutex);

  complete_async_waiters (granted_async);
  notify_counts (self, n_waiting_before != n_waiting_after);
}

static void
async_waiter_free (Waiter *waiter)
{
  if (waiter->cancel_source != NULL)
    {
      g_source_destroy (waiter->cancel_source);
      g_source_unref (waiter->cancel_source);
    }
  g_free (waiter);
}

/* A GCancellableSourceFunc: the cancellable comes first. */
static gboolean
acquire_async_cancelled (GCancellable *cancellable,
                         gpointer      data)
{
  Waiter *waiter = data;
  GTask *task = waiter->task;
  PmtLimiter *self = g_task_get_source_object (task);
  gboolean removed;

  g_mutex_lock (&self->mutex);
  removed = !waiter->granted && g_queue_remove (&self->waiters, waiter);
  g_mutex_unlock (&self->mutex);

  /* Not removed: granted meanwhile; the granting thread completes it. */
  if (removed)
    {
      notify_counts (self, TRUE);
      g_task_return_error_if_cancelled (task);
      g_object_unref (task);
    }

  return G_SOURCE_REMOVE;
}

/**
 * pmt_limiter_acquire_async:
 * @self: a #PmtLimiter
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when acquired or cancelled
 * @user_data: data for @callback
 *
 * Acquires the limiter without blocking: @callback runs on the caller's
 * thread-default main context when it is acquired.  Waits in the same
 * first-come, first-served line as pmt_limiter_acquire().  Finish with
 * pmt_limiter_acquire_finish().
 *
 * Cancelling @cancellable while waiting ends the call with
 * %G_IO_ERROR_CANCELLED.  If the limiter was handed over before the
 * cancellation took effect, the call succeeds anyway, as
 * pmt_limiter_acquire() does, and the caller must release the limiter.
 */
void
pmt_limiter_acquire_async (PmtLimiter          *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Waiter *waiter;
  gboolean acquired;

  g_return_if_fail (PMT_IS_LIMITER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, pmt_limiter_acquire_async);
  /* Once granted, the limiter is the caller's: a cancellation after that
   * must not turn the result into an error, or nobody would release it. */
  g_task_set_check_cancellable (task, FALSE);

  if (g_task_return_error_if_cancelled (task))
    return;

  waiter = g_new0 (Waiter, 1);
  waiter->limiter = self;
  waiter->task = task;
  g_task_set_task_data (task, waiter, (GDestroyNotify)async_waiter_free);

  if (cancellable != NULL)
    {
      waiter->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (waiter->cancel_source, G_SOURCE_FUNC (acquire_async_cancelled),
                             waiter, NULL);
      g_source_set_static_name (waiter->cancel_source, "[pmt] limiter acquire cancelled");
    }

  g_mutex_lock (&self->mutex);
  acquired = acquire_fast_locked (self);
  if (!acquired)
    {
      g_queue_push_tail (&self->waiters, waiter);
      g_object_ref (task);
      /* Attached under the lock, so a grant that destroys it cannot come
       * before it is attached. */
      if (waiter->cancel_source != NULL)
        g_source_attach (waiter->cancel_source, g_task_get_context (task));
    }
  g_mutex_unlock (&self->mutex);

  notify_counts (self, !acquired);

  if (acquired)
    g_task_return_boolean (task, TRUE);
}

/**
 * pmt_limiter_acquire_finish:
 * @self: a #PmtLimiter
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes pmt_limiter_acquire_async().  When it returns %TRUE the caller
 * holds the limiter and must release it.
 *
 * Returns: %TRUE when acquired; %FALSE with %G_IO_ERROR_CANCELLED
 */
gboolean
pmt_limiter_acquire_finish (PmtLimiter    *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (PMT_IS_LIMITER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * pmt_limiter_run:
 * @self: a #PmtLimiter
 * @timeout_usec: how long to wait for the limiter in microseconds:
 *   negative waits forever, 0 only tries
 * @cancellable: (nullable): a #GCancellable
 * @func: (scope call) (closure user_data): the function to run
 * @user_data: data for @func
 * @error: return location for a #GError
 *
 * Runs @func in the calling thread while holding the limiter: PyMultiTasking's
 * blocking `@Limiter(n)`.  The limiter is released when @func returns.
 *
 * Returns: %TRUE when @func ran; %FALSE with the error of
 *   pmt_limiter_acquire() when the limiter could not be acquired
 */
gboolean
pmt_limiter_run (PmtLimiter      *self,
                 gint64           timeout_usec,
                 GCancellable    *cancellable,
                 PmtLimiterFunc   func,
                 gpointer         user_data,
                 GError         **error)
{
  g_return_val_if_fail (PMT_IS_LIMITER (self), FALSE);
  g_return_val_if_fail (func != NULL, FALSE);

  if (!pmt_limiter_acquire (self, timeout_usec, cancellable, error))
    return FALSE;

  func (user_data);
  pmt_limiter_release (self);

  return TRUE;
}

/**
 * pmt_limiter_get_limit:
 * @self: a #PmtLimiter
 *
 * Gets #PmtLimiter:limit.
 *
 * Returns: how many may hold the limiter at once
 */
guint
pmt_limiter_get_limit (PmtLimiter *self)
{
  guint limit;

  g_return_val_if_fail (PMT_IS_LIMITER (self), 0);

  g_mutex_lock (&self->mutex);
  limit = self->limit;
  g_mutex_unlock (&self->mutex);

  return limit;
}

/**
 * pmt_limiter_set_limit:
 * @self: a #PmtLimiter
 * @limit: the new limit
 *
 * Changes how many may hold the limiter at once.  Raising it wakes as
 * many waiters as there is new room for, in order; lowering it never
 * takes the limiter from a holder.
 */
void
pmt_limiter_set_limit (PmtLimiter *self,
                       guint       limit)
{
  GSList *granted_async;
  guint n_waiting_before, n_waiting_after;
  gboolean changed;

  g_return_if_fail (PMT_IS_LIMITER (self));

  g_mutex_lock (&self->mutex);
  changed = self->limit != limit;
  self->limit = limit;
  n_waiting_before = self->waiters.length;
  granted_async = grant_waiters_locked (self);
  n_waiting_after = self->waiters.length;
  g_mutex_unlock (&self->mutex);

  complete_async_waiters (granted_async);

  if (changed)
    {
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LIMIT]);
      notify_counts (self, n_waiting_before != n_waiting_after);
    }
}

/**
 * pmt_limiter_get_available:
 * @self: a #PmtLimiter
 *
 * Gets how many more could acquire the limiter now, without waiting.
 *
 * Returns: how many more could hold the limiter now
 */
guint
pmt_limiter_get_available (PmtLimiter *self)
{
  guint available;

  g_return_val_if_fail (PMT_IS_LIMITER (self), 0);

  g_mutex_lock (&self->mutex);
  available = self->held < self->limit ? self->limit - self->held : 0;
  g_mutex_unlock (&self->mutex);

  return available;
}

/**
 * pmt_limiter_get_n_waiting:
 * @self: a #PmtLimiter
 *
 * Gets how many are waiting in line for the limiter.
 *
 * Returns: how many threads and asynchronous calls wait for the limiter
 */
guint
pmt_limiter_get_n_waiting (PmtLimiter *self)
{
  guint n_waiting;

  g_return_val_if_fail (PMT_IS_LIMITER (self), 0);

  g_mutex_lock (&self->mutex);
  n_waiting = self->waiters.length;
  g_mutex_unlock (&self->mutex);

  return n_waiting;
}
