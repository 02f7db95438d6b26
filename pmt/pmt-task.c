/* pmt-task.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "pmt-enums.h"
#include "pmt-error.h"
#include "pmt-i18n-private.h"
#include "pmt-limiter.h"
#include "pmt-main-context-private.h"
#include "pmt-task-fields-private.h"

/**
 * SECTION:pmt-task
 * @title: PmtTask
 * @short_description: A unit of work that is also an event
 *
 * |[<!-- language="C" -->
 * static void
 * add (PmtTask  *task,
 *      gpointer  user_data)
 * {
 *   const gint *pair = user_data;
 *
 *   pmt_task_return_int (task, pair[0] + pair[1]);   // the outcome, from inside
 * }
 *
 * static const gint pair[] = { 40, 2 };
 * g_autoptr(PmtTask) task = pmt_task_new (add, (gpointer) pair, NULL);
 * g_autoptr(GError) error = NULL;
 *
 * if (!pmt_pool_push (pool, task, &error))           // or pmt_worker_push(), pmt_task_run()
 *   g_error ("%s", error->message);
 * pmt_task_wait (task, -1);                          // any thread may wait
 * if (pmt_task_propagate_error (task, &error))
 *   g_print ("%" G_GINT64_FORMAT "\n", g_value_get_int64 (pmt_task_get_result (task)));
 * ]|
 *
 * A #PmtTask wraps a function to run on another thread.  It is also an
 * event (PyMultiTasking's `threading.Event`): any thread can wait for it with
 * pmt_task_wait(), pmt_task_wait_all(), pmt_task_wait_any() or, from a
 * main loop, pmt_task_wait_async().
 *
 * The function receives the task itself and reports its outcome from
 * inside, GTask-style, with pmt_task_return_value(),
 * pmt_task_return_pointer(), pmt_task_return_int(),
 * pmt_task_return_boolean(), pmt_task_return_error() or
 * pmt_task_return_new_error().  A function that reports nothing succeeds
 * with no result.
 *
 * A task goes through %PMT_TASK_STATE_PENDING, %PMT_TASK_STATE_QUEUED and
 * %PMT_TASK_STATE_RUNNING to exactly one terminal state:
 * %PMT_TASK_STATE_SUCCEEDED, %PMT_TASK_STATE_FAILED or
 * %PMT_TASK_STATE_CANCELLED.  When it gets there, in this order:
 * the callback set with pmt_task_set_callback() runs (only if the task
 * ran), the terminal state becomes visible, #PmtTask::completed is emitted
 * when it is emitted in the finishing thread, and then waiters wake.  When
 * the task has a #PmtTask:main-context, waiters wake first and
 * #PmtTask::completed follows from an idle source on that context.
 *
 * Cancellation is cooperative: pmt_task_cancel() ends a task that has not
 * started at once, and triggers the #GCancellable of a running one.
 * Threads are never killed.
 *
 * Every method may be called from any thread.
 */

enum {
  COMPLETED,
  N_SIGNALS
};

G_DEFINE_TYPE_WITH_PRIVATE (PmtTask, pmt_task, G_TYPE_OBJECT)

GParamSpec *_pmt_task_properties[PMT_TASK_N_PROPS];
static guint signals[N_SIGNALS];
static guint64 last_task_id;

static inline PmtTaskPrivate *
get_priv (PmtTask *self)
{
  return pmt_task_get_instance_private (self);
}

/* For the other files of the task. */
PmtTaskPrivate *
_pmt_task_get_priv (PmtTask *self)
{
  return get_priv (self);
}

PmtTaskExtra *
_pmt_task_ensure_extra_locked (PmtTaskPrivate *priv)
{
  if (priv->extra == NULL)
    g_atomic_pointer_set (&priv->extra, g_new0 (PmtTaskExtra, 1));

  return priv->extra;
}

/* The extras, for the running thread, without the lock. */
static inline PmtTaskExtra *
get_extra_unlocked (PmtTaskPrivate *priv)
{
  return g_atomic_pointer_get (&priv->extra);
}

static void
pmt_task_real_run (PmtTask *self)
{
  PmtTaskPrivate *priv = get_priv (self);

  /* Bindings can make a task without a function, with g_object_new(). */
  if (priv->func == NULL)
    {
      pmt_task_return_new_error (self, PMT_ERROR, PMT_ERROR_INVALID,
                                 _("The task has no function to run"));
      return;
    }

  priv->func (self, priv->func_data);
}

static void
clear_result (PmtTaskPrivate *priv)
{
  if (priv->result_notify != NULL)
    {
      GDestroyNotify notify = g_steal_pointer (&priv->result_notify);
      gpointer data = g_value_get_pointer (&priv->result);

      if (data != NULL)
        notify (data);
    }

  if (G_IS_VALUE (&priv->result))
    g_value_unset (&priv->result);
}

typedef struct
{
  GDestroyNotify func_notify;
  gpointer func_data;
  GDestroyNotify callback_notify;
  gpointer callback_data;
} Closures;

static void
steal_closures_locked (PmtTaskPrivate *priv,
                       Closures       *closures)
{
  closures->func_notify = g_steal_pointer (&priv->func_notify);
  closures->func_data = g_steal_pointer (&priv->func_data);
  if (priv->extra != NULL)
    {
      closures->callback_notify = g_steal_pointer (&priv->extra->callback_notify);
      closures->callback_data = g_steal_pointer (&priv->extra->callback_data);
      priv->extra->callback = NULL;
    }
  else
    {
      closures->callback_notify = NULL;
      closures->callback_data = NULL;
    }
}

static void
free_closures (Closures *closures)
{
  if (closures->func_notify != NULL)
    closures->func_notify (closures->func_data);
  if (closures->callback_notify != NULL)
    closures->callback_notify (closures->callback_data);
}

/* Drops the function and callback closures as soon as they cannot run
 * again, so bindings get their data back early and on the right thread. */
static void
release_closures (PmtTask *self)
{
  PmtTaskPrivate *priv = get_priv (self);
  Closures closures;

  g_mutex_lock (&priv->mutex);
  steal_closures_locked (priv, &closures);
  g_mutex_unlock (&priv->mutex);

  free_closures (&closures);
}

static void
pmt_task_finalize (GObject *object)
{
  PmtTask *self = (PmtTask *)object;
  PmtTaskPrivate *priv = get_priv (self);

  Closures closures;

  g_assert (priv->waiters == NULL);
  g_assert (PMT_TASK_EXTRA (priv, async_waiters) == NULL);

  /* Nobody else can reach a task being finalized: no lock. */
  steal_closures_locked (priv, &closures);
  free_closures (&closures);
  if (PMT_TASK_EXTRA (priv, task_data_notify) != NULL)
    priv->extra->task_data_notify (priv->extra->task_data);
  if (priv->extra != NULL && G_IS_VALUE (&priv->extra->task_value))
    g_value_unset (&priv->extra->task_value);

  clear_result (priv);
  g_clear_error (&priv->error);

  g_clear_object (&priv->worker);
  if (priv->extra != NULL)
    {
      g_clear_object (&priv->extra->limiter);
      g_clear_object (&priv->extra->cancellable);
      g_clear_pointer (&priv->extra->main_context, g_main_context_unref);
      g_clear_pointer (&priv->extra, g_free);
    }
  g_mutex_clear (&priv->mutex);

  G_OBJECT_CLASS (pmt_task_parent_class)->finalize (object);
}

static void
pmt_task_get_property (GObject    *object,
                       guint       prop_id,
                       GValue     *value,
                       GParamSpec *pspec)
{
  PmtTask *self = PMT_TASK (object);

  switch (prop_id)
    {
    case PMT_TASK_PROP_ID:
      g_value_set_uint64 (value, pmt_task_get_id (self));
      break;

    case PMT_TASK_PROP_STATE:
      g_value_set_enum (value, pmt_task_get_state (self));
      break;

    case PMT_TASK_PROP_PRIORITY:
      g_value_set_int (value, pmt_task_get_priority (self));
      break;

    case PMT_TASK_PROP_STORE_RESULT:
      g_value_set_boolean (value, pmt_task_get_store_result (self));
      break;

    case PMT_TASK_PROP_LIMITER:
      g_value_set_object (value, pmt_task_get_limiter (self));
      break;

    case PMT_TASK_PROP_WORKER:
      g_value_set_object (value, pmt_task_get_worker (self));
      break;

    case PMT_TASK_PROP_MAIN_CONTEXT:
      g_value_set_boxed (value, pmt_task_get_main_context (self));
      break;

    case PMT_TASK_PROP_TASK_DATA:
      g_value_set_pointer (value, pmt_task_get_task_data (self));
      break;

    case PMT_TASK_PROP_CANCELLABLE:
      g_value_set_object (value, pmt_task_get_cancellable (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pmt_task_set_property (GObject      *object,
                       guint         prop_id,
                       const GValue *value,
                       GParamSpec   *pspec)
{
  PmtTask *self = PMT_TASK (object);

  switch (prop_id)
    {
    case PMT_TASK_PROP_PRIORITY:
      pmt_task_set_priority (self, g_value_get_int (value));
      break;

    case PMT_TASK_PROP_STORE_RESULT:
      pmt_task_set_store_result (self, g_value_get_boolean (value));
      break;

    case PMT_TASK_PROP_LIMITER:
      pmt_task_set_limiter (self, g_value_get_object (value));
      break;

    case PMT_TASK_PROP_MAIN_CONTEXT:
      pmt_task_set_main_context (self, g_value_get_boxed (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pmt_task_class_init (PmtTaskClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = pmt_task_finalize;
  object_class->get_property = pmt_task_get_property;
  object_class->set_property = pmt_task_set_property;

  klass->run = pmt_task_real_run;

  /* GLib's error quarks are made on first use through a lazy static that
   * is not thread-safe; make the ones tasks report from workers now,
   * while class initialisation is serialised. */
  (void)G_IO_ERROR;
  (void)PMT_ERROR;

  /**
   * PmtTask:id:
   *
   * A number unique to this task in the process, in order of creation.
   */
  _pmt_task_properties[PMT_TASK_PROP_ID] =
    g_param_spec_uint64 ("id", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * PmtTask:state:
   *
   * Where the task is in its life.  It changes on other threads and has
   * no #GObject::notify; connect to #PmtTask::completed instead.
   */
  _pmt_task_properties[PMT_TASK_PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       PMT_TYPE_TASK_STATE, PMT_TASK_STATE_PENDING,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * PmtTask:priority:
   *
   * The priority of the task in a queue: lower values run first, like
   * %G_PRIORITY_DEFAULT and friends; equal priorities run in submission
   * order.  Settable until the task is submitted.
   */
  _pmt_task_properties[PMT_TASK_PROP_PRIORITY] =
    g_param_spec_int ("priority", NULL, NULL,
                      G_MININT, G_MAXINT, G_PRIORITY_DEFAULT,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * PmtTask:store-result:
   *
   * Whether the task keeps its result after its callback ran (PyMultiTasking's
   * `store_return`).  When %FALSE the result is handed to the callback
   * and then dropped; an error is always kept.
   */
  _pmt_task_properties[PMT_TASK_PROP_STORE_RESULT] =
    g_param_spec_boolean ("store-result", NULL, NULL,
                          TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * PmtTask:limiter:
   *
   * A #PmtLimiter that the running thread acquires before the function
   * and releases after it, also when it fails (PyMultiTasking's
   * `_task_semaphore`).  A cancelled task stops waiting for it.
   */
  _pmt_task_properties[PMT_TASK_PROP_LIMITER] =
    g_param_spec_object ("limiter", NULL, NULL,
                         PMT_TYPE_LIMITER,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * PmtTask:worker:
   *
   * The worker that runs or ran the task, or %NULL.
   */
  _pmt_task_properties[PMT_TASK_PROP_WORKER] =
    g_param_spec_object ("worker", NULL, NULL,
                         pmt_worker_get_type (),
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * PmtTask:main-context:
   *
   * When set, #PmtTask::completed is emitted on this context, from an idle
   * source, and the function's and callback's data are released there.
   */
  _pmt_task_properties[PMT_TASK_PROP_MAIN_CONTEXT] =
    g_param_spec_boxed ("main-context", NULL, NULL,
                        G_TYPE_MAIN_CONTEXT,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * PmtTask:task-data: (skip)
   *
   * Per-call data set with pmt_task_set_task_data().  Bindings use
   * pmt_task_get_task_value() instead.
   */
  _pmt_task_properties[PMT_TASK_PROP_TASK_DATA] =
    g_param_spec_pointer ("task-data", NULL, NULL,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * PmtTask:cancellable:
   *
   * The #GCancellable that pmt_task_cancel() triggers.
   */
  _pmt_task_properties[PMT_TASK_PROP_CANCELLABLE] =
    g_param_spec_object ("cancellable", NULL, NULL,
                         G_TYPE_CANCELLABLE,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, PMT_TASK_N_PROPS, _pmt_task_properties);

  /**
   * PmtTask::completed:
   * @self: the task
   *
   * Emitted exactly once, when the task reached its terminal state and
   * its result is visible: in the thread that finished the task, or on
   * #PmtTask:main-context when that is set.
   */
  signals[COMPLETED] =
    g_signal_new ("completed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  G_STRUCT_OFFSET (PmtTaskClass, completed),
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 0);
}

static void
pmt_task_init (PmtTask *self)
{
  PmtTaskPrivate *priv = get_priv (self);

  g_mutex_init (&priv->mutex);
  priv->id = __atomic_add_fetch (&last_task_id, 1, __ATOMIC_RELAXED);
  priv->priority = G_PRIORITY_DEFAULT;
  priv->store_result = TRUE;
  priv->state = PMT_TASK_STATE_PENDING;
}

/**
 * pmt_task_new:
 * @func: (scope notified) (closure user_data) (destroy notify): the work
 * @user_data: data for @func
 * @notify: (nullable): frees @user_data once @func cannot run any more
 *
 * Creates a task that runs @func when a worker, a pool or pmt_task_run()
 * runs it.
 *
 * Returns: (transfer full): a new #PmtTask
 */
PmtTask *
pmt_task_new (PmtTaskFunc    func,
              gpointer       user_data,
              GDestroyNotify notify)
{
  PmtTask *self;
  PmtTaskPrivate *priv;

  g_return_val_if_fail (func != NULL, NULL);

  self = g_object_new (PMT_TYPE_TASK, NULL);
  priv = get_priv (self);
  priv->func = func;
  priv->func_data = user_data;
  priv->func_notify = notify;

  return self;
}

void
_pmt_task_return_async_waiters (PmtTask *self,
                      GSList  *async_waiters)
{
  PmtTaskPrivate *priv = get_priv (self);

  for (GSList *l = async_waiters; l != NULL; l = l->next)
    {
      GTask *task = l->data;
      GSource *cancel_source = g_task_get_task_data (task);

      if (cancel_source != NULL)
        g_source_destroy (cancel_source);
      if (priv->error != NULL)
        g_task_return_error (task, g_error_copy (priv->error));
      else
        g_task_return_boolean (task, TRUE);
      g_object_unref (task);
    }
  g_slist_free (async_waiters);
}

static gboolean
emit_completed_idle (gpointer data)
{
  PmtTask *self = data;

  g_signal_emit (self, signals[COMPLETED], 0);
  release_closures (self);

  return G_SOURCE_REMOVE;
}

static void
emit_completed_on (PmtTask      *self,
                   GMainContext *context)
{
  _pmt_main_context_add_idle (context, "[pmt] task completed",
                              emit_completed_idle, g_object_ref (self), g_object_unref);
}

/* Called once per task, by the thread that made its state terminal,
 * which holds a reference: a #PmtTask::completed handler may drop the
 * caller's.  One
 * locked section wakes the waiters and takes what must be released or
 * told afterwards; the pool is told last, so that once
 * pmt_pool_wait_completion() returns, the tasks it covered have emitted
 * #PmtTask::completed (in the finishing thread) and woken their waiters. */
static void
pmt_task_finish (PmtTask      *self,
                 GMainContext *context)
{
  PmtTaskPrivate *priv = get_priv (self);
  Closures closures = { 0 };
  GSList *async_waiters, *done_notifies;
  PmtTaskState state;
  PmtExecutor *executor;
  gboolean dequeued, reserved;

  if (context == NULL)
    g_signal_emit (self, signals[COMPLETED], 0);

  g_mutex_lock (&priv->mutex);
  priv->done = TRUE;
  priv->active_thread = NULL;
  /* Fired under our lock: their owners take it to unregister them, so a
   * waiter cannot vanish while we touch it. */
  for (GSList *l = priv->waiters; l != NULL; l = l->next)
    {
      PmtWaiter *waiter = l->data;

      waiter->fire (waiter, self);
    }
  g_clear_pointer (&priv->waiters, g_slist_free);
  async_waiters = priv->extra ? g_steal_pointer (&priv->extra->async_waiters) : NULL;
  done_notifies = priv->extra ? g_steal_pointer (&priv->extra->done_notifies) : NULL;
  if (context == NULL)
    steal_closures_locked (priv, &closures);
  executor = g_steal_pointer (&priv->executor);
  state = priv->state;
  dequeued = priv->worker != NULL;
  reserved = priv->limiter_reserved;
  priv->limiter_reserved = FALSE;
  g_mutex_unlock (&priv->mutex);

  /* Taken for a run that never came (cancelled first). */
  if (reserved)
    pmt_limiter_release (priv->extra->limiter);

  _pmt_task_return_async_waiters (self, async_waiters);

  if (context != NULL)
    {
      emit_completed_on (self, context);
      g_main_context_unref (context);
    }
  else
    free_closures (&closures);

  done_notifies = g_slist_reverse (done_notifies);
  for (GSList *l = done_notifies; l != NULL; l = l->next)
    {
      DoneNotify *notify = l->data;

      notify->func (notify->data);
    }
  g_slist_free_full (done_notifies, g_free);

  if (executor != NULL)
    executor->vtable->task_finished (executor, state, dequeued);
}

static GError *
new_cancelled_error (void)
{
  return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, _("The task was cancelled"));
}

/* Sets the terminal state from the outcome; called with the lock held.
 * Returns the context to emit #PmtTask::completed on, if any. */
static GMainContext *
set_terminal_locked (PmtTask *self)
{
  PmtTaskPrivate *priv = get_priv (self);

  if (priv->error == NULL)
    priv->state = PMT_TASK_STATE_SUCCEEDED;
  else if (g_error_matches (priv->error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    priv->state = PMT_TASK_STATE_CANCELLED;
  else
    priv->state = PMT_TASK_STATE_FAILED;

  priv->active_thread = _pmt_thread_id ();

  return PMT_TASK_EXTRA (priv, main_context) ? g_main_context_ref (priv->extra->main_context) : NULL;
}

/* @reserved: the limiter was taken for this run already. */
static void
run_under_limiter (PmtTask      *self,
                   PmtTaskExtra *extra,
                   gboolean      reserved)
{
  PmtLimiter *limiter = extra != NULL ? extra->limiter : NULL;
  GError *error = NULL;

  if (limiter == NULL)
    {
      PMT_TASK_GET_CLASS (self)->run (self);
      return;
    }

  if (!reserved &&
      !pmt_limiter_acquire (limiter, -1, pmt_task_get_cancellable (self), &error))
    {
      pmt_task_return_error (self, error);
      return;
    }

  PMT_TASK_GET_CLASS (self)->run (self);
  pmt_limiter_release (limiter);
}

gboolean
_pmt_task_reserve_limiter (PmtTask *self)
{
  PmtTaskPrivate *priv = get_priv (self);
  PmtLimiter *limiter;
  gboolean queued, keep;

  /* The limiter is fixed once the task is queued, and the task keeps it:
   * it can be used without the lock. */
  g_mutex_lock (&priv->mutex);
  limiter = PMT_TASK_EXTRA (priv, limiter);
  queued = priv->state == PMT_TASK_STATE_QUEUED && !priv->limiter_reserved;
  g_mutex_unlock (&priv->mutex);

  if (limiter == NULL || !queued)
    return TRUE;
  if (!pmt_limiter_try_acquire (limiter))
    return FALSE;

  /* Cancelled meanwhile, it will not run: the permit goes back. */
  g_mutex_lock (&priv->mutex);
  keep = priv->state == PMT_TASK_STATE_QUEUED;
  if (keep)
    priv->limiter_reserved = TRUE;
  g_mutex_unlock (&priv->mutex);
  if (!keep)
    pmt_limiter_release (limiter);

  return TRUE;
}

PmtTaskClaim
_pmt_task_claim (PmtTask   *self,
                 PmtWorker *worker,
                 gboolean   from_queue)
{
  PmtTaskPrivate *priv = get_priv (self);

  g_mutex_lock (&priv->mutex);
  if (!from_queue && priv->state == PMT_TASK_STATE_QUEUED)
    {
      g_mutex_unlock (&priv->mutex);
      return PMT_TASK_CLAIM_QUEUED;
    }
  if (priv->started)
    {
      g_mutex_unlock (&priv->mutex);
      return PMT_TASK_CLAIM_STARTED;
    }
  if (PMT_TASK_TERMINAL (priv->state))
    {
      g_mutex_unlock (&priv->mutex);
      return PMT_TASK_CLAIM_CANCELLED;
    }
  priv->started = TRUE;
  priv->state = PMT_TASK_STATE_RUNNING;
  priv->active_thread = _pmt_thread_id ();
  if (worker != NULL)
    g_set_object (&priv->worker, worker);
  g_mutex_unlock (&priv->mutex);

  return PMT_TASK_CLAIM_OK;
}

void
_pmt_task_run_claimed (PmtTask *self)
{
  PmtTaskPrivate *priv = get_priv (self);
  PmtTaskExtra *extra;
  GMainContext *context;
  gboolean reserved;

  g_mutex_lock (&priv->mutex);
  reserved = priv->limiter_reserved;
  priv->limiter_reserved = FALSE;
  g_mutex_unlock (&priv->mutex);

  /* The limiter and the callback were fixed before the task was queued;
   * the extras themselves may appear meanwhile. */
  run_under_limiter (self, get_extra_unlocked (priv), reserved);

  extra = get_extra_unlocked (priv);
  if (extra != NULL && extra->callback != NULL)
    extra->callback (self, extra->callback_data);

  g_mutex_lock (&priv->mutex);
  priv->returned = TRUE;
  if (!priv->store_result)
    clear_result (priv);
  context = set_terminal_locked (self);
  g_mutex_unlock (&priv->mutex);

  pmt_task_finish (self, context);
}

PmtTaskEnqueue
_pmt_task_mark_queued (PmtTask      *self,
                       PmtExecutor  *executor,
                       GMainContext *context,
                       gint         *priority)
{
  PmtTaskPrivate *priv = get_priv (self);
  PmtTaskEnqueue ret;

  g_mutex_lock (&priv->mutex);
  if (priority != NULL)
    *priority = priv->priority;
  if (priv->state == PMT_TASK_STATE_PENDING)
    {
      priv->state = PMT_TASK_STATE_QUEUED;
      priv->executor = executor;
      if (PMT_TASK_EXTRA (priv, main_context) == NULL && context != NULL)
        _pmt_task_ensure_extra_locked (priv)->main_context = g_main_context_ref (context);
      ret = PMT_TASK_ENQUEUE_OK;
    }
  else if (priv->state == PMT_TASK_STATE_CANCELLED && !priv->started)
    ret = PMT_TASK_ENQUEUE_CANCELLED;
  else
    ret = PMT_TASK_ENQUEUE_NOT_PENDING;
  g_mutex_unlock (&priv->mutex);

  return ret;
}

void
_pmt_task_unmark_queued (PmtTask *self)
{
  PmtTaskPrivate *priv = get_priv (self);

  g_mutex_lock (&priv->mutex);
  if (priv->state == PMT_TASK_STATE_QUEUED)
    priv->state = PMT_TASK_STATE_PENDING;
  priv->executor = NULL;
  g_mutex_unlock (&priv->mutex);
}

gboolean
_pmt_task_check_enqueued (PmtTask         *self,
                          PmtTaskEnqueue   enqueued,
                          const char      *func,
                          GError         **error)
{
  switch (enqueued)
    {
    case PMT_TASK_ENQUEUE_OK:
      return TRUE;

    case PMT_TASK_ENQUEUE_CANCELLED:
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("The task was cancelled"));
      return FALSE;

    case PMT_TASK_ENQUEUE_NOT_PENDING:
    default:
      /* Translators: %s is the name of the function called, %llu the task's id */
      g_critical (_("%s: task %llu was submitted already"),
                  func, (unsigned long long) get_priv (self)->id);
      return FALSE;
    }
}

/**
 * pmt_task_run:
 * @self: a #PmtTask
 *
 * Runs the task synchronously in the calling thread: acquires its
 * limiter, calls its function and its callback, and completes it.  A task
 * runs at most once: running it again, or running a task queued in a
 * worker or a pool (which will run it), is a programming error.  A task
 * that was cancelled before it ran is left as it is.
 */
void
pmt_task_run (PmtTask *self)
{
  g_return_if_fail (PMT_IS_TASK (self));

  switch (_pmt_task_claim (self, NULL, FALSE))
    {
    case PMT_TASK_CLAIM_OK:
      /* A #PmtTask::completed handler may drop the caller's reference. */
      g_object_ref (self);
      _pmt_task_run_claimed (self);
      g_object_unref (self);
      break;

    case PMT_TASK_CLAIM_CANCELLED:
      break;

    case PMT_TASK_CLAIM_QUEUED:
      /* Translators: %s is the name of the function called, %llu the task's id */
      g_critical (_("%s: task %llu is queued in a worker or a pool, which will run it"),
                  G_STRFUNC, (unsigned long long) get_priv (self)->id);
      break;

    case PMT_TASK_CLAIM_STARTED:
    default:
      /* Translators: %s is the name of the function called, %llu the task's id */
      g_critical (_("%s: task %llu has already run; a task runs at most once"),
                  G_STRFUNC, (unsigned long long) get_priv (self)->id);
    }
}

/**
 * pmt_task_cancel:
 * @self: a #PmtTask
 *
 * Cancels the task.  A task that has not started yet becomes
 * %PMT_TASK_STATE_CANCELLED at once, in the calling thread: it will never
 * run, its waiters wake and #PmtTask::completed is emitted.  A running
 * task has its #GCancellable triggered; if its function honours it and
 * reports %G_IO_ERROR_CANCELLED, the task ends cancelled.  A finished task
 * is left as it is.
 */
void
pmt_task_cancel (PmtTask *self)
{
  PmtTaskPrivate *priv;
  GCancellable *cancellable = NULL;
  GMainContext *context = NULL;
  gboolean finish = FALSE;

  g_return_if_fail (PMT_IS_TASK (self));

  priv = get_priv (self);

  g_mutex_lock (&priv->mutex);
  if (!PMT_TASK_TERMINAL (priv->state) && !priv->cancel_requested)
    {
      priv->cancel_requested = TRUE;
      if (PMT_TASK_EXTRA (priv, cancellable) != NULL)
        cancellable = g_object_ref (priv->extra->cancellable);
      if (!priv->started)
        {
          priv->error = new_cancelled_error ();
          context = set_terminal_locked (self);
          finish = TRUE;
        }
    }
  g_mutex_unlock (&priv->mutex);

  if (cancellable != NULL)
    {
      g_cancellable_cancel (cancellable);
      g_object_unref (cancellable);
    }

  if (finish)
    {
      /* A #PmtTask::completed handler may drop the caller's reference. */
      g_object_ref (self);
      pmt_task_finish (self, context);
      g_object_unref (self);
    }
}

void
_pmt_task_fail_unstarted (PmtTask *self,
                          GError  *error)
{
  PmtTaskPrivate *priv = get_priv (self);
  GMainContext *context = NULL;
  gboolean finish = FALSE;

  g_mutex_lock (&priv->mutex);
  if (!PMT_TASK_TERMINAL (priv->state) && !priv->started)
    {
      priv->error = g_steal_pointer (&error);
      context = set_terminal_locked (self);
      finish = TRUE;
    }
  g_mutex_unlock (&priv->mutex);

  g_clear_error (&error);
  if (finish)
    {
      /* A #PmtTask::completed handler may drop the caller's reference. */
      g_object_ref (self);
      pmt_task_finish (self, context);
      g_object_unref (self);
    }
}

/**
 * pmt_task_get_cancellable:
 * @self: a #PmtTask
 *
 * Gets the cancellable that pmt_task_cancel() triggers.  A task function
 * passes it to blocking calls, or checks it, to honour cancellation.  It
 * is created on first use, already cancelled if the task was.
 *
 * Returns: (transfer none): the task's #GCancellable
 */
GCancellable *
pmt_task_get_cancellable (PmtTask *self)
{
  PmtTaskPrivate *priv;
  GCancellable *cancellable;
  gboolean cancel;

  g_return_val_if_fail (PMT_IS_TASK (self), NULL);

  priv = get_priv (self);

  g_mutex_lock (&priv->mutex);
  if (_pmt_task_ensure_extra_locked (priv)->cancellable == NULL)
    priv->extra->cancellable = g_cancellable_new ();
  cancellable = priv->extra->cancellable;
  cancel = priv->cancel_requested;
  g_mutex_unlock (&priv->mutex);

  /* Outside the lock: cancelling runs handlers, which may call us. */
  if (cancel)
    g_cancellable_cancel (cancellable);

  return cancellable;
}

/**
 * pmt_task_get_id:
 * @self: a #PmtTask
 *
 * Gets #PmtTask:id, a cheap number unique in the process.
 *
 * Returns: the unique number of the task
 */
guint64
pmt_task_get_id (PmtTask *self)
{
  g_return_val_if_fail (PMT_IS_TASK (self), 0);

  return get_priv (self)->id;
}

/**
 * pmt_task_get_state:
 * @self: a #PmtTask
 *
 * Gets the state of the task.  It may change right after the call on
 * another thread, except once it is terminal.
 *
 * Returns: the state of the task now
 */
PmtTaskState
pmt_task_get_state (PmtTask *self)
{
  PmtTaskPrivate *priv;
  PmtTaskState state;

  g_return_val_if_fail (PMT_IS_TASK (self), PMT_TASK_STATE_PENDING);

  priv = get_priv (self);
  g_mutex_lock (&priv->mutex);
  state = priv->state;
  g_mutex_unlock (&priv->mutex);

  return state;
}

/**
 * pmt_task_is_done:
 * @self: a #PmtTask
 *
 * Whether the task reached a terminal state: PyMultiTasking's `Event.is_set()`.
 *
 * Returns: %TRUE when the task succeeded, failed or was cancelled
 */
gboolean
pmt_task_is_done (PmtTask *self)
{
  g_return_val_if_fail (PMT_IS_TASK (self), FALSE);

  return PMT_TASK_TERMINAL (pmt_task_get_state (self));
}

/**
 * pmt_task_get_worker:
 * @self: a #PmtTask
 *
 * Gets #PmtTask:worker.
 *
 * Returns: (transfer none) (nullable): the worker that runs or ran the
 *   task
 */
PmtWorker *
pmt_task_get_worker (PmtTask *self)
{
  PmtTaskPrivate *priv;
  PmtWorker *worker;

  g_return_val_if_fail (PMT_IS_TASK (self), NULL);

  priv = get_priv (self);
  g_mutex_lock (&priv->mutex);
  worker = priv->worker;
  g_mutex_unlock (&priv->mutex);

  return worker;
}

/* Whether a waiter may return; with the lock held.  The thread emitting
 * #PmtTask::completed counts as done, or a handler that waits on the task
 * would wait for itself. */
gboolean
_pmt_task_done_for_caller_locked (PmtTaskPrivate *priv)
{
  return priv->done || (PMT_TASK_TERMINAL (priv->state) && priv->active_thread == _pmt_thread_id ());
}

gboolean
_pmt_task_add_done_notify (PmtTask        *self,
                           GDestroyNotify  func,
                           gpointer        data)
{
  PmtTaskPrivate *priv = get_priv (self);
  DoneNotify *notify;
  gboolean done;

  g_mutex_lock (&priv->mutex);
  done = priv->done;
  if (!done)
    {
      notify = g_new (DoneNotify, 1);
      notify->func = func;
      notify->data = data;
      _pmt_task_ensure_extra_locked (priv)->done_notifies =
        g_slist_prepend (priv->extra->done_notifies, notify);
    }
  g_mutex_unlock (&priv->mutex);

  return !done;
}

gboolean
_pmt_task_add_waiter (PmtTask   *self,
                      PmtWaiter *waiter)
{
  PmtTaskPrivate *priv = get_priv (self);
  gboolean done;

  g_mutex_lock (&priv->mutex);
  done = _pmt_task_done_for_caller_locked (priv);
  if (!done)
    priv->waiters = g_slist_prepend (priv->waiters, waiter);
  g_mutex_unlock (&priv->mutex);

  return !done;
}

void
_pmt_task_remove_waiter (PmtTask   *self,
                         PmtWaiter *waiter)
{
  PmtTaskPrivate *priv = get_priv (self);

  g_mutex_lock (&priv->mutex);
  priv->waiters = g_slist_remove (priv->waiters, waiter);
  g_mutex_unlock (&priv->mutex);
}

gboolean
_pmt_task_is_done_for_caller (PmtTask *self)
{
  PmtTaskPrivate *priv = get_priv (self);
  gboolean done;

  g_mutex_lock (&priv->mutex);
  done = _pmt_task_done_for_caller_locked (priv);
  g_mutex_unlock (&priv->mutex);

  return done;
}

gboolean
_pmt_task_is_running_here (PmtTask *self)
{
  PmtTaskPrivate *priv = get_priv (self);
  gboolean here;

  g_mutex_lock (&priv->mutex);
  here = priv->state == PMT_TASK_STATE_RUNNING && priv->active_thread == _pmt_thread_id ();
  g_mutex_unlock (&priv->mutex);

  return here;
}
