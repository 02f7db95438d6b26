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
#include "pmt-task-private.h"
#include "pmt-worker.h"

/**
 * SECTION:pmt-task
 * @title: PmtTask
 * @short_description: A unit of work that is also an event
 *
 * A #PmtTask wraps a function to run on another thread.  It is also an
 * event (the seed's `threading.Event`): any thread can wait for it with
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

/* What most tasks never use, allocated on first use: a queued task stays
 * small (pools hold many). */
typedef struct
{
  PmtTaskCallback callback;
  gpointer callback_data;
  GDestroyNotify callback_notify;

  gpointer task_data;
  GDestroyNotify task_data_notify;

  PmtLimiter *limiter;
  GMainContext *main_context;
  GCancellable *cancellable;
  GSList *async_waiters;
  GSList *done_notifies;    /* of DoneNotify */
} PmtTaskExtra;

typedef struct
{
  GDestroyNotify func;
  gpointer data;
} DoneNotify;

typedef struct
{
  GMutex mutex;

  PmtTaskFunc func;
  gpointer func_data;
  GDestroyNotify func_notify;

  /* Written under the mutex; read without it (by the running thread, for
   * the options fixed before the task was queued) with an atomic load:
   * it appears at any time, when a wait or a cancellable needs it. */
  PmtTaskExtra *extra;

  GValue result;
  GDestroyNotify result_notify;
  GError *error;

  PmtWorker *worker;
  PmtExecutor *executor;    /* the pool that accepted it, until it is done;
                             * it keeps itself alive meanwhile */

  /* The thread running the task and then emitting #PmtTask::completed:
   * its function and callback can read the outcome before it is
   * published, and a handler may wait on the task without waiting for
   * itself. */
  GThread *active_thread;

  GSList *waiters;

  guint64 id;
  gint priority;
  guint state : 3;
  guint store_result : 1;
  guint returned : 1;
  guint started : 1;
  guint done : 1;
  guint cancel_requested : 1;
} PmtTaskPrivate;

enum {
  PROP_0,
  PROP_ID,
  PROP_STATE,
  PROP_PRIORITY,
  PROP_STORE_RESULT,
  PROP_LIMITER,
  PROP_WORKER,
  PROP_MAIN_CONTEXT,
  PROP_TASK_DATA,
  PROP_CANCELLABLE,
  N_PROPS
};

enum {
  COMPLETED,
  N_SIGNALS
};

G_DEFINE_TYPE_WITH_PRIVATE (PmtTask, pmt_task, G_TYPE_OBJECT)

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];
static guint64 last_task_id;

#define TERMINAL(state) ((state) >= PMT_TASK_STATE_SUCCEEDED)

static inline PmtTaskPrivate *
get_priv (PmtTask *self)
{
  return pmt_task_get_instance_private (self);
}

static PmtTaskExtra *
ensure_extra_locked (PmtTaskPrivate *priv)
{
  if (priv->extra == NULL)
    g_atomic_pointer_set (&priv->extra, g_new0 (PmtTaskExtra, 1));

  return priv->extra;
}

/* Reads a field of the extras, or NULL when there are none; with the
 * lock held. */
#define EXTRA(priv, field) ((priv)->extra != NULL ? (priv)->extra->field : NULL)

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

  g_assert (priv->waiters == NULL);
  g_assert (EXTRA (priv, async_waiters) == NULL);

  release_closures (self);
  if (EXTRA (priv, task_data_notify) != NULL)
    priv->extra->task_data_notify (priv->extra->task_data);

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
    case PROP_ID:
      g_value_set_uint64 (value, pmt_task_get_id (self));
      break;

    case PROP_STATE:
      g_value_set_enum (value, pmt_task_get_state (self));
      break;

    case PROP_PRIORITY:
      g_value_set_int (value, pmt_task_get_priority (self));
      break;

    case PROP_STORE_RESULT:
      g_value_set_boolean (value, pmt_task_get_store_result (self));
      break;

    case PROP_LIMITER:
      g_value_set_object (value, pmt_task_get_limiter (self));
      break;

    case PROP_WORKER:
      g_value_set_object (value, pmt_task_get_worker (self));
      break;

    case PROP_MAIN_CONTEXT:
      g_value_set_boxed (value, pmt_task_get_main_context (self));
      break;

    case PROP_TASK_DATA:
      g_value_set_pointer (value, pmt_task_get_task_data (self));
      break;

    case PROP_CANCELLABLE:
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
    case PROP_PRIORITY:
      pmt_task_set_priority (self, g_value_get_int (value));
      break;

    case PROP_STORE_RESULT:
      pmt_task_set_store_result (self, g_value_get_boolean (value));
      break;

    case PROP_LIMITER:
      pmt_task_set_limiter (self, g_value_get_object (value));
      break;

    case PROP_MAIN_CONTEXT:
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
  properties[PROP_ID] =
    g_param_spec_uint64 ("id", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * PmtTask:state:
   *
   * Where the task is in its life.  It changes on other threads and has
   * no #GObject::notify; connect to #PmtTask::completed instead.
   */
  properties[PROP_STATE] =
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
  properties[PROP_PRIORITY] =
    g_param_spec_int ("priority", NULL, NULL,
                      G_MININT, G_MAXINT, G_PRIORITY_DEFAULT,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * PmtTask:store-result:
   *
   * Whether the task keeps its result after its callback ran (the seed's
   * `store_return`).  When %FALSE the result is handed to the callback
   * and then dropped; an error is always kept.
   */
  properties[PROP_STORE_RESULT] =
    g_param_spec_boolean ("store-result", NULL, NULL,
                          TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * PmtTask:limiter:
   *
   * A #PmtLimiter that the running thread acquires before the function
   * and releases after it, also when it fails (the seed's
   * `_task_semaphore`).  A cancelled task stops waiting for it.
   */
  properties[PROP_LIMITER] =
    g_param_spec_object ("limiter", NULL, NULL,
                         PMT_TYPE_LIMITER,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * PmtTask:worker:
   *
   * The worker that runs or ran the task, or %NULL.
   */
  properties[PROP_WORKER] =
    g_param_spec_object ("worker", NULL, NULL,
                         PMT_TYPE_WORKER,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * PmtTask:main-context:
   *
   * When set, #PmtTask::completed is emitted on this context, from an idle
   * source, and the function's and callback's data are released there.
   */
  properties[PROP_MAIN_CONTEXT] =
    g_param_spec_boxed ("main-context", NULL, NULL,
                        G_TYPE_MAIN_CONTEXT,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * PmtTask:task-data:
   *
   * Per-call data set with pmt_task_set_task_data().
   */
  properties[PROP_TASK_DATA] =
    g_param_spec_pointer ("task-data", NULL, NULL,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * PmtTask:cancellable:
   *
   * The #GCancellable that pmt_task_cancel() triggers.
   */
  properties[PROP_CANCELLABLE] =
    g_param_spec_object ("cancellable", NULL, NULL,
                         G_TYPE_CANCELLABLE,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

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

static void
return_async_waiters (PmtTask *self,
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
  gboolean dequeued;

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
  g_mutex_unlock (&priv->mutex);

  return_async_waiters (self, async_waiters);

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

  priv->active_thread = g_thread_self ();

  return EXTRA (priv, main_context) ? g_main_context_ref (priv->extra->main_context) : NULL;
}

static void
run_under_limiter (PmtTask      *self,
                   PmtTaskExtra *extra)
{
  PmtLimiter *limiter = extra != NULL ? extra->limiter : NULL;
  GError *error = NULL;

  if (limiter == NULL)
    {
      PMT_TASK_GET_CLASS (self)->run (self);
      return;
    }

  if (!pmt_limiter_acquire (limiter, -1, pmt_task_get_cancellable (self), &error))
    {
      pmt_task_return_error (self, error);
      return;
    }

  PMT_TASK_GET_CLASS (self)->run (self);
  pmt_limiter_release (limiter);
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
  if (TERMINAL (priv->state))
    {
      g_mutex_unlock (&priv->mutex);
      return PMT_TASK_CLAIM_CANCELLED;
    }
  priv->started = TRUE;
  priv->state = PMT_TASK_STATE_RUNNING;
  priv->active_thread = g_thread_self ();
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

  /* The limiter and the callback were fixed before the task was queued;
   * the extras themselves may appear meanwhile. */
  run_under_limiter (self, get_extra_unlocked (priv));

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
      if (EXTRA (priv, main_context) == NULL && context != NULL)
        ensure_extra_locked (priv)->main_context = g_main_context_ref (context);
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
      g_critical ("%s: task %" G_GUINT64_FORMAT " is queued in a worker or a pool, "
                  "which will run it", G_STRFUNC, get_priv (self)->id);
      break;

    case PMT_TASK_CLAIM_STARTED:
    default:
      g_critical ("%s: task %" G_GUINT64_FORMAT " has already run; a task runs at most once",
                  G_STRFUNC, get_priv (self)->id);
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
  if (!TERMINAL (priv->state) && !priv->cancel_requested)
    {
      priv->cancel_requested = TRUE;
      if (EXTRA (priv, cancellable) != NULL)
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
  if (ensure_extra_locked (priv)->cancellable == NULL)
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
 * Whether the task reached a terminal state: the seed's `Event.is_set()`.
 *
 * Returns: %TRUE when the task succeeded, failed or was cancelled
 */
gboolean
pmt_task_is_done (PmtTask *self)
{
  g_return_val_if_fail (PMT_IS_TASK (self), FALSE);

  return TERMINAL (pmt_task_get_state (self));
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

/* Options may change only while the task is PENDING: after that, a worker
 * reads them without the lock. */
static gboolean
check_pending_locked (PmtTask    *self,
                      const char *what)
{
  PmtTaskPrivate *priv = get_priv (self);

  if (priv->state == PMT_TASK_STATE_PENDING)
    return TRUE;

  g_mutex_unlock (&priv->mutex);
  g_critical ("pmt_task_set_%s: task %" G_GUINT64_FORMAT " was submitted already; "
              "its options cannot change any more", what, priv->id);
  return FALSE;
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

  return get_priv (self)->priority;
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

  priv = get_priv (self);
  g_mutex_lock (&priv->mutex);
  if (!check_pending_locked (self, "priority"))
    return;
  changed = priv->priority != priority;
  priv->priority = priority;
  g_mutex_unlock (&priv->mutex);

  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PRIORITY]);
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

  return get_priv (self)->store_result;
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

  priv = get_priv (self);
  store_result = !!store_result;
  g_mutex_lock (&priv->mutex);
  if (!check_pending_locked (self, "store_result"))
    return;
  changed = priv->store_result != (guint)store_result;
  priv->store_result = store_result;
  g_mutex_unlock (&priv->mutex);

  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STORE_RESULT]);
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

  priv = get_priv (self);
  g_mutex_lock (&priv->mutex);
  limiter = EXTRA (priv, limiter);
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

  priv = get_priv (self);
  g_mutex_lock (&priv->mutex);
  if (!check_pending_locked (self, "limiter"))
    return;
  changed = g_set_object (&ensure_extra_locked (priv)->limiter, limiter);
  g_mutex_unlock (&priv->mutex);

  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LIMITER]);
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

  priv = get_priv (self);
  g_mutex_lock (&priv->mutex);
  context = EXTRA (priv, main_context);
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

  priv = get_priv (self);
  g_mutex_lock (&priv->mutex);
  if (!check_pending_locked (self, "main_context"))
    return;
  old = ensure_extra_locked (priv)->main_context;
  priv->extra->main_context = context ? g_main_context_ref (context) : NULL;
  g_mutex_unlock (&priv->mutex);

  if (old != NULL)
    g_main_context_unref (old);
  if (old != context)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAIN_CONTEXT]);
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
 * function, with the result in the task and before any waiter wakes (the
 * seed's `callback_func`).  It does not run for a task cancelled before
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

  priv = get_priv (self);
  g_mutex_lock (&priv->mutex);
  if (!check_pending_locked (self, "callback"))
    return;
  ensure_extra_locked (priv);
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
 * pmt_task_get_task_data:
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

  priv = get_priv (self);
  g_mutex_lock (&priv->mutex);
  data = EXTRA (priv, task_data);
  g_mutex_unlock (&priv->mutex);

  return data;
}

/**
 * pmt_task_set_task_data:
 * @self: a #PmtTask
 * @task_data: (nullable): per-call data
 * @notify: (nullable): frees @task_data when it is replaced or the task
 *   is finalized
 *
 * Attaches per-call data to the task, as g_task_set_task_data() does.
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

  priv = get_priv (self);
  g_mutex_lock (&priv->mutex);
  ensure_extra_locked (priv);
  old_notify = priv->extra->task_data_notify;
  old_data = priv->extra->task_data;
  priv->extra->task_data = task_data;
  priv->extra->task_data_notify = notify;
  g_mutex_unlock (&priv->mutex);

  if (old_notify != NULL)
    old_notify (old_data);
}

/* Checks that the outcome may be reported now and takes the lock. */
static gboolean
begin_return (PmtTask    *self,
              const char *func)
{
  PmtTaskPrivate *priv = get_priv (self);

  g_mutex_lock (&priv->mutex);
  if (priv->state == PMT_TASK_STATE_RUNNING && !priv->returned)
    {
      priv->returned = TRUE;
      return TRUE;
    }
  g_mutex_unlock (&priv->mutex);

  g_critical ("%s: task %" G_GUINT64_FORMAT " is not running or has reported its outcome "
              "already; a task reports it once, from its function",
              func, priv->id);
  return FALSE;
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

  if (!begin_return (self, G_STRFUNC))
    return;

  priv = get_priv (self);
  if (value != NULL)
    {
      g_value_init (&priv->result, G_VALUE_TYPE (value));
      g_value_copy (value, &priv->result);
    }
  g_mutex_unlock (&priv->mutex);
}

/**
 * pmt_task_return_pointer:
 * @self: a #PmtTask
 * @result: (nullable) (transfer full): the result
 * @result_destroy: (nullable): frees @result with the task
 *
 * Reports success with @result as the result, read back with
 * pmt_task_get_result_pointer().  Only from the running task, once.
 */
void
pmt_task_return_pointer (PmtTask        *self,
                         gpointer        result,
                         GDestroyNotify  result_destroy)
{
  PmtTaskPrivate *priv;

  g_return_if_fail (PMT_IS_TASK (self));

  if (!begin_return (self, G_STRFUNC))
    {
      if (result_destroy != NULL && result != NULL)
        result_destroy (result);
      return;
    }

  priv = get_priv (self);
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

  if (!begin_return (self, G_STRFUNC))
    {
      g_error_free (error);
      return;
    }

  priv = get_priv (self);
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
  PmtTaskPrivate *priv = get_priv (self);
  gboolean readable;

  g_mutex_lock (&priv->mutex);
  readable = TERMINAL (priv->state) || priv->active_thread == g_thread_self ();
  g_mutex_unlock (&priv->mutex);

  return readable;
}

/**
 * pmt_task_get_result:
 * @self: a #PmtTask
 *
 * Gets the result of a task that succeeded with a value (the seed's
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

  priv = get_priv (self);
  if (!outcome_readable (self) || !G_IS_VALUE (&priv->result))
    return NULL;

  return &priv->result;
}

/**
 * pmt_task_get_result_pointer:
 * @self: a #PmtTask
 *
 * Gets the result of a task that reported it with
 * pmt_task_return_pointer().
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

  return get_priv (self)->error;
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

/* Whether a waiter may return; with the lock held.  The thread emitting
 * #PmtTask::completed counts as done, or a handler that waits on the task
 * would wait for itself. */
static gboolean
done_for_caller_locked (PmtTaskPrivate *priv)
{
  return priv->done || (TERMINAL (priv->state) && priv->active_thread == g_thread_self ());
}

/* A GCancellableSourceFunc: the cancellable comes first. */
static gboolean
wait_async_cancelled (GCancellable *cancellable,
                      gpointer      data)
{
  GTask *task = data;
  PmtTask *self = g_task_get_source_object (task);
  PmtTaskPrivate *priv = get_priv (self);
  GSList *link;

  g_mutex_lock (&priv->mutex);
  link = g_slist_find (EXTRA (priv, async_waiters), task);
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

  priv = get_priv (self);
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
      ensure_extra_locked (priv);
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
      ensure_extra_locked (priv)->done_notifies =
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
  done = done_for_caller_locked (priv);
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
  done = done_for_caller_locked (priv);
  g_mutex_unlock (&priv->mutex);

  return done;
}

gboolean
_pmt_task_is_running_here (PmtTask *self)
{
  PmtTaskPrivate *priv = get_priv (self);
  gboolean here;

  g_mutex_lock (&priv->mutex);
  here = priv->state == PMT_TASK_STATE_RUNNING && priv->active_thread == g_thread_self ();
  g_mutex_unlock (&priv->mutex);

  return here;
}
