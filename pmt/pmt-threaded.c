/* pmt-threaded.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "pmt-enums.h"
#include "pmt-error.h"
#include "pmt-i18n-private.h"
#include "pmt-limiter.h"
#include "pmt-pool.h"
#include "pmt-task-private.h"
#include "pmt-threaded.h"
#include "pmt-worker.h"

/**
 * SECTION:pmt-threaded
 * @title: PmtThreaded
 * @short_description: The Threaded decorator
 *
 * |[<!-- language="C" -->
 * static void
 * resize (PmtTask  *task,
 *         gpointer  user_data)
 * {
 *   const char *path = pmt_task_get_task_data (task);   // this call's data
 *   // …
 * }
 *
 * g_autoptr(PmtThreaded) threaded = pmt_threaded_new (resize, NULL, NULL);
 * g_autoptr(PmtTask) task = NULL;
 * g_autoptr(GError) error = NULL;
 *
 * pmt_threaded_set_pool_name (threaded, "images");   // calls go to a shared pool
 * task = pmt_threaded_call (threaded, g_strdup (path), g_free, &error);   // returns at once
 * pmt_task_wait (task, -1);
 * ]|
 *
 * A #PmtThreaded wraps a function so that each call runs it on another
 * thread: pmt_threaded_call() returns a new #PmtTask at once, whose
 * #PmtTask:task-data is the call's data.  It is PyMultiTasking's `@Threaded`
 * decorator.  Where the calls run is #PmtThreaded:mode:
 *
 * - %PMT_THREADED_MODE_THREAD: a new worker thread per call, which ends
 *   after the task;
 * - %PMT_THREADED_MODE_DAEMON: one persistent worker, in call order;
 *   #PmtThreaded:worker lets several #PmtThreaded share a given worker,
 *   and if the worker stopped or was killed the next call starts a new one
 *   (PyMultiTasking's respawn);
 * - %PMT_THREADED_MODE_POOL: #PmtThreaded:pool if set; else the pool named
 *   #PmtThreaded:pool-name, found in the registry or created on first use
 *   (so #PmtThreaded objects with the same pool name share one pool); else
 *   a private pool made on the first call.  A pool made here is made again
 *   if it was shut down.
 *
 * Setting #PmtThreaded:worker, #PmtThreaded:pool or #PmtThreaded:pool-name
 * also sets the mode.  The tasks get #PmtThreaded:priority,
 * #PmtThreaded:store-result, #PmtThreaded:main-context and the callback of
 * pmt_threaded_set_callback(); workers and pools made here get the
 * `worker-*` and `pool-*` properties.
 *
 * A limiter composes both ways of PyMultiTasking's `@Limiter`:
 * non-blocking (each task acquires it in its worker, and the call returns
 * at once) or blocking
 * (the call acquires it in the caller's thread, blocking while it is
 * full, and the task releases it when it is done).
 *
 * Every method may be called from any thread.
 */

/* The function and the callback are shared by every task, through
 * PmtTaskClosure, so their data outlives the #PmtThreaded if tasks do. */

struct _PmtThreaded
{
  GObject parent_instance;

  GMutex mutex;
  PmtTaskClosure *func;
  PmtTaskClosure *callback;
  PmtThreadedMode mode;

  PmtWorker *worker;        /* the daemon worker */
  gboolean own_worker;
  PmtPool *pool;            /* the pool calls go to, when known */
  gboolean own_pool;        /* private: shut down with us */
  gboolean explicit_pool;
  char *pool_name;

  gint priority;
  gboolean store_result;
  PmtLimiter *limiter;
  gboolean limiter_blocking;
  GMainContext *main_context;

  guint pool_max_workers;
  guint pool_min_workers;
  gint64 pool_idle_timeout;
  gint64 worker_idle_timeout;
};

enum {
  PROP_0,
  PROP_MODE,
  PROP_WORKER,
  PROP_POOL,
  PROP_POOL_NAME,
  PROP_PRIORITY,
  PROP_STORE_RESULT,
  PROP_LIMITER,
  PROP_LIMITER_BLOCKING,
  PROP_MAIN_CONTEXT,
  PROP_POOL_MAX_WORKERS,
  PROP_POOL_MIN_WORKERS,
  PROP_POOL_IDLE_TIMEOUT,
  PROP_WORKER_IDLE_TIMEOUT,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (PmtThreaded, pmt_threaded, G_TYPE_OBJECT)

static GParamSpec *properties[N_PROPS];
static guint last_worker_serial;

static void
pmt_threaded_finalize (GObject *object)
{
  PmtThreaded *self = (PmtThreaded *)object;

  /* What we made ends once its work is done: no task is cancelled. */
  if (self->own_pool && self->pool != NULL)
    pmt_pool_shutdown (self->pool, PMT_SHUTDOWN_NONE, 0);
  if (self->own_worker && self->worker != NULL)
    pmt_worker_set_idle_timeout (self->worker, 0);

  g_clear_pointer (&self->func, _pmt_task_closure_unref);
  g_clear_pointer (&self->callback, _pmt_task_closure_unref);
  g_clear_object (&self->worker);
  g_clear_object (&self->pool);
  g_clear_pointer (&self->pool_name, g_free);
  g_clear_object (&self->limiter);
  g_clear_pointer (&self->main_context, g_main_context_unref);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (pmt_threaded_parent_class)->finalize (object);
}

static void
pmt_threaded_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  PmtThreaded *self = PMT_THREADED (object);

  g_mutex_lock (&self->mutex);
  switch (prop_id)
    {
    case PROP_MODE:
      g_value_set_enum (value, self->mode);
      break;

    case PROP_WORKER:
      g_value_set_object (value, self->worker);
      break;

    case PROP_POOL:
      g_value_set_object (value, self->pool);
      break;

    case PROP_POOL_NAME:
      g_value_set_string (value, self->pool_name);
      break;

    case PROP_PRIORITY:
      g_value_set_int (value, self->priority);
      break;

    case PROP_STORE_RESULT:
      g_value_set_boolean (value, self->store_result);
      break;

    case PROP_LIMITER:
      g_value_set_object (value, self->limiter);
      break;

    case PROP_LIMITER_BLOCKING:
      g_value_set_boolean (value, self->limiter_blocking);
      break;

    case PROP_MAIN_CONTEXT:
      g_value_set_boxed (value, self->main_context);
      break;

    case PROP_POOL_MAX_WORKERS:
      g_value_set_uint (value, self->pool_max_workers);
      break;

    case PROP_POOL_MIN_WORKERS:
      g_value_set_uint (value, self->pool_min_workers);
      break;

    case PROP_POOL_IDLE_TIMEOUT:
      g_value_set_int64 (value, self->pool_idle_timeout);
      break;

    case PROP_WORKER_IDLE_TIMEOUT:
      g_value_set_int64 (value, self->worker_idle_timeout);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
  g_mutex_unlock (&self->mutex);
}

static void
pmt_threaded_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  PmtThreaded *self = PMT_THREADED (object);

  switch (prop_id)
    {
    case PROP_MODE:
      pmt_threaded_set_mode (self, g_value_get_enum (value));
      break;

    case PROP_WORKER:
      pmt_threaded_set_worker (self, g_value_get_object (value));
      break;

    case PROP_POOL:
      pmt_threaded_set_pool (self, g_value_get_object (value));
      break;

    case PROP_POOL_NAME:
      pmt_threaded_set_pool_name (self, g_value_get_string (value));
      break;

    case PROP_PRIORITY:
      pmt_threaded_set_priority (self, g_value_get_int (value));
      break;

    case PROP_STORE_RESULT:
      pmt_threaded_set_store_result (self, g_value_get_boolean (value));
      break;

    case PROP_LIMITER:
      pmt_threaded_set_limiter (self, g_value_get_object (value), self->limiter_blocking);
      break;

    case PROP_LIMITER_BLOCKING:
      g_mutex_lock (&self->mutex);
      self->limiter_blocking = g_value_get_boolean (value);
      g_mutex_unlock (&self->mutex);
      break;

    case PROP_MAIN_CONTEXT:
      pmt_threaded_set_main_context (self, g_value_get_boxed (value));
      break;

    case PROP_POOL_MAX_WORKERS:
      g_mutex_lock (&self->mutex);
      self->pool_max_workers = g_value_get_uint (value);
      g_mutex_unlock (&self->mutex);
      break;

    case PROP_POOL_MIN_WORKERS:
      g_mutex_lock (&self->mutex);
      self->pool_min_workers = g_value_get_uint (value);
      g_mutex_unlock (&self->mutex);
      break;

    case PROP_POOL_IDLE_TIMEOUT:
      g_mutex_lock (&self->mutex);
      self->pool_idle_timeout = g_value_get_int64 (value);
      g_mutex_unlock (&self->mutex);
      break;

    case PROP_WORKER_IDLE_TIMEOUT:
      g_mutex_lock (&self->mutex);
      self->worker_idle_timeout = g_value_get_int64 (value);
      g_mutex_unlock (&self->mutex);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pmt_threaded_class_init (PmtThreadedClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = pmt_threaded_finalize;
  object_class->get_property = pmt_threaded_get_property;
  object_class->set_property = pmt_threaded_set_property;

  /**
   * PmtThreaded:mode:
   *
   * Where the calls run.
   */
  properties[PROP_MODE] =
    g_param_spec_enum ("mode", NULL, NULL,
                       PMT_TYPE_THREADED_MODE, PMT_THREADED_MODE_THREAD,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * PmtThreaded:worker:
   *
   * The persistent worker of %PMT_THREADED_MODE_DAEMON; setting it (to
   * share one worker between several #PmtThreaded) sets that mode.
   */
  properties[PROP_WORKER] =
    g_param_spec_object ("worker", NULL, NULL,
                         PMT_TYPE_WORKER,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * PmtThreaded:pool:
   *
   * The pool calls go to; setting it sets %PMT_THREADED_MODE_POOL.
   */
  properties[PROP_POOL] =
    g_param_spec_object ("pool", NULL, NULL,
                         PMT_TYPE_POOL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * PmtThreaded:pool-name:
   *
   * The name of a shared pool, found in the registry or created on first
   * use; setting it sets %PMT_THREADED_MODE_POOL.
   */
  properties[PROP_POOL_NAME] =
    g_param_spec_string ("pool-name", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * PmtThreaded:priority:
   *
   * The #PmtTask:priority of the tasks.
   */
  properties[PROP_PRIORITY] =
    g_param_spec_int ("priority", NULL, NULL,
                      G_MININT, G_MAXINT, G_PRIORITY_DEFAULT,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * PmtThreaded:store-result:
   *
   * The #PmtTask:store-result of the tasks.
   */
  properties[PROP_STORE_RESULT] =
    g_param_spec_boolean ("store-result", NULL, NULL,
                          TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * PmtThreaded:limiter:
   *
   * A limiter for the calls: see pmt_threaded_set_limiter().
   */
  properties[PROP_LIMITER] =
    g_param_spec_object ("limiter", NULL, NULL,
                         PMT_TYPE_LIMITER,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * PmtThreaded:limiter-blocking:
   *
   * Whether calls acquire #PmtThreaded:limiter in the caller's thread
   * (blocking) rather than in the worker.
   */
  properties[PROP_LIMITER_BLOCKING] =
    g_param_spec_boolean ("limiter-blocking", NULL, NULL,
                          FALSE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * PmtThreaded:main-context:
   *
   * The #PmtTask:main-context of the tasks.
   */
  properties[PROP_MAIN_CONTEXT] =
    g_param_spec_boxed ("main-context", NULL, NULL,
                        G_TYPE_MAIN_CONTEXT,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * PmtThreaded:pool-max-workers:
   *
   * #PmtPool:max-workers of a pool made here; 0 for the number of
   * processors.
   */
  properties[PROP_POOL_MAX_WORKERS] =
    g_param_spec_uint ("pool-max-workers", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * PmtThreaded:pool-min-workers:
   *
   * #PmtPool:min-workers of a pool made here.
   */
  properties[PROP_POOL_MIN_WORKERS] =
    g_param_spec_uint ("pool-min-workers", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * PmtThreaded:pool-idle-timeout:
   *
   * #PmtPool:idle-timeout of a pool made here.
   */
  properties[PROP_POOL_IDLE_TIMEOUT] =
    g_param_spec_int64 ("pool-idle-timeout", NULL, NULL,
                        -1, G_MAXINT64, 15 * G_USEC_PER_SEC,
                        G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * PmtThreaded:worker-idle-timeout:
   *
   * #PmtWorker:idle-timeout of the daemon worker made here.
   */
  properties[PROP_WORKER_IDLE_TIMEOUT] =
    g_param_spec_int64 ("worker-idle-timeout", NULL, NULL,
                        -1, G_MAXINT64, -1,
                        G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
pmt_threaded_init (PmtThreaded *self)
{
  g_mutex_init (&self->mutex);
  self->priority = G_PRIORITY_DEFAULT;
  self->store_result = TRUE;
  self->pool_idle_timeout = 15 * G_USEC_PER_SEC;
  self->worker_idle_timeout = -1;
}

/**
 * pmt_threaded_new:
 * @func: (scope notified) (closure user_data) (destroy notify): the function
 *   each call runs
 * @user_data: data for @func
 * @notify: (nullable): frees @user_data once neither this object nor any of
 *   its tasks needs it
 *
 * Wraps @func: each pmt_threaded_call() runs it in a new task.
 *
 * Returns: (transfer full): a new #PmtThreaded
 */
PmtThreaded *
pmt_threaded_new (PmtTaskFunc    func,
                  gpointer       user_data,
                  GDestroyNotify notify)
{
  PmtThreaded *self;

  g_return_val_if_fail (func != NULL, NULL);

  self = g_object_new (PMT_TYPE_THREADED, NULL);
  self->func = _pmt_task_closure_new (func, user_data, notify);

  return self;
}

static PmtWorker *
new_worker (gint64 idle_timeout)
{
  g_autofree char *name = g_strdup_printf ("pmt-threaded-%u",
                                           __atomic_add_fetch (&last_worker_serial, 1,
                                                               __ATOMIC_RELAXED));

  return g_object_new (PMT_TYPE_WORKER, "name", name, "idle-timeout", idle_timeout, NULL);
}

/* The daemon worker, replaced when it stopped: PyMultiTasking's respawn. */
static PmtWorker *
dup_daemon_worker (PmtThreaded *self)
{
  PmtWorker *worker;

  g_mutex_lock (&self->mutex);
  if (self->worker == NULL || pmt_worker_get_state (self->worker) >= PMT_WORKER_STATE_STOPPING)
    {
      g_clear_object (&self->worker);
      self->worker = new_worker (self->worker_idle_timeout);
      self->own_worker = TRUE;
    }
  worker = g_object_ref (self->worker);
  g_mutex_unlock (&self->mutex);

  return worker;
}

static PmtPool *
new_pool_locked (PmtThreaded  *self,
                 const char   *name,
                 GError      **error)
{
  guint max_workers = self->pool_max_workers;

  /* Configured at construction: a named pool is in the registry, where
   * other threads find and use it, once it is constructed. */
  return g_initable_new (PMT_TYPE_POOL, NULL, error,
                         "name", name,
                         "max-workers", max_workers > 0 ? max_workers : MAX (g_get_num_processors (), 1),
                         "main-context", self->main_context,
                         "idle-timeout", self->pool_idle_timeout,
                         "min-workers", self->pool_min_workers,
                         NULL);
}

/* The named pool: the registry's, or a new one; a lost race for the name
 * means another thread made it meanwhile. */
static PmtPool *
find_named_pool_locked (PmtThreaded  *self,
                        GError      **error)
{
  for (;;)
    {
      g_autoptr(GError) local_error = NULL;
      PmtPool *pool;

      if ((pool = pmt_pool_lookup (self->pool_name)) != NULL)
        return pool;
      if ((pool = new_pool_locked (self, self->pool_name, &local_error)) != NULL)
        return pool;
      if (!g_error_matches (local_error, PMT_ERROR, PMT_ERROR_NAME_IN_USE))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
    }
}

static PmtPool *
dup_pool (PmtThreaded  *self,
          GError      **error)
{
  PmtPool *pool = NULL;

  g_mutex_lock (&self->mutex);
  if (self->pool != NULL &&
      (self->explicit_pool || pmt_pool_get_state (self->pool) < PMT_POOL_STATE_STOPPING))
    pool = g_object_ref (self->pool);
  else
    {
      g_clear_object (&self->pool);
      if (self->pool_name != NULL)
        self->pool = find_named_pool_locked (self, error);
      else
        {
          self->pool = new_pool_locked (self, NULL, error);
          self->own_pool = TRUE;
        }
      pool = self->pool ? g_object_ref (self->pool) : NULL;
    }
  g_mutex_unlock (&self->mutex);

  return pool;
}

static gboolean
submit (PmtThreaded      *self,
        PmtThreadedMode   mode,
        PmtTask          *task,
        GError          **error)
{
  g_autoptr(PmtWorker) worker = NULL;
  g_autoptr(PmtPool) pool = NULL;

  switch (mode)
    {
    case PMT_THREADED_MODE_POOL:
      pool = dup_pool (self, error);
      return pool != NULL && pmt_pool_push (pool, task, error);

    case PMT_THREADED_MODE_DAEMON:
      worker = dup_daemon_worker (self);
      return pmt_worker_push (worker, task, error);

    case PMT_THREADED_MODE_THREAD:
    default:
      /* The thread ends once its only task is done. */
      worker = new_worker (0);
      return pmt_worker_push (worker, task, error);
    }
}

static void
release_limiter (gpointer data)
{
  PmtLimiter *limiter = data;

  pmt_limiter_release (limiter);
  g_object_unref (limiter);
}

/* A new task for one call, with the options of @self; how to start it
 * goes to @mode and @blocking_limiter (a new reference, or NULL).  NULL
 * with a critical for a PmtThreaded without a function, as bindings can
 * make one with g_object_new(). */
static PmtTask *
new_call_task (PmtThreaded      *self,
               const char       *func,
               PmtThreadedMode  *mode,
               PmtLimiter      **blocking_limiter)
{
  PmtTask *task;

  if (self->func == NULL)
    {
      /* Translators: %s is the name of the function called */
      g_critical (_("%s: this PmtThreaded has no function to call; make it with "
                    "pmt_threaded_new()"), func);
      return NULL;
    }

  task = _pmt_task_new_from_closure (self->func);
  *blocking_limiter = NULL;

  g_mutex_lock (&self->mutex);
  *mode = self->mode;
  pmt_task_set_priority (task, self->priority);
  pmt_task_set_store_result (task, self->store_result);
  pmt_task_set_main_context (task, self->main_context);
  if (self->callback != NULL)
    _pmt_task_set_closure_callback (task, self->callback);
  if (self->limiter != NULL && self->limiter_blocking)
    *blocking_limiter = g_object_ref (self->limiter);
  else if (self->limiter != NULL)
    pmt_task_set_limiter (task, self->limiter);
  g_mutex_unlock (&self->mutex);

  return task;
}

/* Acquires a blocking limiter, then submits @task; takes both. */
static PmtTask *
start_call (PmtThreaded      *self,
            PmtTask          *task,
            PmtThreadedMode   mode,
            PmtLimiter       *blocking_limiter,
            GError          **error)
{
  g_autoptr(PmtTask) owned = task;
  g_autoptr(PmtLimiter) limiter = blocking_limiter;

  if (limiter != NULL && !pmt_limiter_acquire (limiter, -1, NULL, error))
    return NULL;

  if (!submit (self, mode, task, error))
    {
      if (limiter != NULL)
        pmt_limiter_release (limiter);
      return NULL;
    }

  /* Held until the task is done, whatever its end.  A task done already
   * did not take the notify: release it now, with the reference the
   * notify would have dropped. */
  if (limiter != NULL)
    {
      PmtLimiter *held = g_object_ref (limiter);

      if (!_pmt_task_add_done_notify (task, release_limiter, held))
        release_limiter (held);
    }

  return g_steal_pointer (&owned);
}

/**
 * pmt_threaded_call: (skip)
 * @self: a #PmtThreaded
 * @call_data: (nullable): data for this call, the task's
 *   #PmtTask:task-data
 * @call_data_notify: (nullable): frees @call_data with the task
 * @error: return location for a #GError
 *
 * Runs the function in a new task, where #PmtThreaded:mode says, and
 * returns at once, unless a blocking limiter is full: then it waits for
 * it first.  Bindings use pmt_threaded_call_value().
 *
 * Returns: (transfer full) (nullable): the task, or %NULL when the worker
 *   or pool refused it (then @call_data_notify has run)
 */
PmtTask *
pmt_threaded_call (PmtThreaded     *self,
                   gpointer         call_data,
                   GDestroyNotify   call_data_notify,
                   GError         **error)
{
  PmtLimiter *blocking_limiter;
  PmtThreadedMode mode;
  PmtTask *task;

  g_return_val_if_fail (PMT_IS_THREADED (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if ((task = new_call_task (self, G_STRFUNC, &mode, &blocking_limiter)) == NULL)
    return NULL;
  pmt_task_set_task_data (task, call_data, call_data_notify);

  return start_call (self, task, mode, blocking_limiter, error);
}

/**
 * pmt_threaded_call_value:
 * @self: a #PmtThreaded
 * @call_value: (nullable): data for this call, copied as the task's
 *   value (pmt_task_get_task_value())
 * @error: return location for a #GError
 *
 * pmt_threaded_call() for bindings: the call's data is a #GValue, which
 * the function reads with pmt_task_get_task_value().
 *
 * Returns: (transfer full) (nullable): the task, or %NULL when the worker
 *   or pool refused it
 */
PmtTask *
pmt_threaded_call_value (PmtThreaded   *self,
                         const GValue  *call_value,
                         GError       **error)
{
  PmtLimiter *blocking_limiter;
  PmtThreadedMode mode;
  PmtTask *task;

  g_return_val_if_fail (PMT_IS_THREADED (self), NULL);
  g_return_val_if_fail (call_value == NULL || G_IS_VALUE (call_value), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if ((task = new_call_task (self, G_STRFUNC, &mode, &blocking_limiter)) == NULL)
    return NULL;
  pmt_task_set_task_value (task, call_value);

  return start_call (self, task, mode, blocking_limiter, error);
}

/**
 * pmt_threaded_get_mode:
 * @self: a #PmtThreaded
 *
 * Gets #PmtThreaded:mode.
 *
 * Returns: where the calls run
 */
PmtThreadedMode
pmt_threaded_get_mode (PmtThreaded *self)
{
  PmtThreadedMode mode;

  g_return_val_if_fail (PMT_IS_THREADED (self), PMT_THREADED_MODE_THREAD);

  g_mutex_lock (&self->mutex);
  mode = self->mode;
  g_mutex_unlock (&self->mutex);

  return mode;
}

static void
set_mode_locked (PmtThreaded     *self,
                 PmtThreadedMode  mode,
                 guint           *n_changes)
{
  if (self->mode != mode)
    {
      self->mode = mode;
      (*n_changes)++;
    }
}

/**
 * pmt_threaded_set_mode:
 * @self: a #PmtThreaded
 * @mode: where the calls run
 *
 * Sets #PmtThreaded:mode.
 */
void
pmt_threaded_set_mode (PmtThreaded     *self,
                       PmtThreadedMode  mode)
{
  guint n_changes = 0;

  g_return_if_fail (PMT_IS_THREADED (self));

  g_mutex_lock (&self->mutex);
  set_mode_locked (self, mode, &n_changes);
  g_mutex_unlock (&self->mutex);

  if (n_changes > 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODE]);
}

/**
 * pmt_threaded_dup_worker:
 * @self: a #PmtThreaded
 *
 * Gets #PmtThreaded:worker.
 *
 * Returns: (transfer full) (nullable): the daemon worker, if there is one
 *   yet
 */
PmtWorker *
pmt_threaded_dup_worker (PmtThreaded *self)
{
  PmtWorker *worker;

  g_return_val_if_fail (PMT_IS_THREADED (self), NULL);

  g_mutex_lock (&self->mutex);
  worker = self->worker ? g_object_ref (self->worker) : NULL;
  g_mutex_unlock (&self->mutex);

  return worker;
}

/**
 * pmt_threaded_set_worker:
 * @self: a #PmtThreaded
 * @worker: (nullable): a standalone #PmtWorker to share
 *
 * Makes the calls go to @worker, in %PMT_THREADED_MODE_DAEMON.
 */
void
pmt_threaded_set_worker (PmtThreaded *self,
                         PmtWorker   *worker)
{
  guint n_changes = 0;

  g_return_if_fail (PMT_IS_THREADED (self));
  g_return_if_fail (worker == NULL || PMT_IS_WORKER (worker));
  g_return_if_fail (worker == NULL || pmt_worker_get_pool (worker) == NULL);

  g_mutex_lock (&self->mutex);
  g_set_object (&self->worker, worker);
  self->own_worker = FALSE;
  if (worker != NULL)
    set_mode_locked (self, PMT_THREADED_MODE_DAEMON, &n_changes);
  g_mutex_unlock (&self->mutex);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WORKER]);
  if (n_changes > 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODE]);
}

/**
 * pmt_threaded_dup_pool:
 * @self: a #PmtThreaded
 *
 * Gets #PmtThreaded:pool: the pool calls go to, once known.
 *
 * Returns: (transfer full) (nullable): the pool
 */
PmtPool *
pmt_threaded_dup_pool (PmtThreaded *self)
{
  PmtPool *pool;

  g_return_val_if_fail (PMT_IS_THREADED (self), NULL);

  g_mutex_lock (&self->mutex);
  pool = self->pool ? g_object_ref (self->pool) : NULL;
  g_mutex_unlock (&self->mutex);

  return pool;
}

/**
 * pmt_threaded_set_pool:
 * @self: a #PmtThreaded
 * @pool: (nullable): an existing pool
 *
 * Makes the calls go to @pool, in %PMT_THREADED_MODE_POOL.
 */
void
pmt_threaded_set_pool (PmtThreaded *self,
                       PmtPool     *pool)
{
  guint n_changes = 0;

  g_return_if_fail (PMT_IS_THREADED (self));
  g_return_if_fail (pool == NULL || PMT_IS_POOL (pool));

  g_mutex_lock (&self->mutex);
  g_set_object (&self->pool, pool);
  self->explicit_pool = pool != NULL;
  self->own_pool = FALSE;
  if (pool != NULL)
    set_mode_locked (self, PMT_THREADED_MODE_POOL, &n_changes);
  g_mutex_unlock (&self->mutex);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_POOL]);
  if (n_changes > 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODE]);
}

/**
 * pmt_threaded_get_pool_name:
 * @self: a #PmtThreaded
 *
 * Gets #PmtThreaded:pool-name.
 *
 * Returns: (nullable): the name of the shared pool
 */
const char *
pmt_threaded_get_pool_name (PmtThreaded *self)
{
  g_return_val_if_fail (PMT_IS_THREADED (self), NULL);

  return self->pool_name;
}

/**
 * pmt_threaded_set_pool_name:
 * @self: a #PmtThreaded
 * @pool_name: (nullable): the name of a shared pool
 *
 * Makes the calls go to the pool named @pool_name, in
 * %PMT_THREADED_MODE_POOL: found in the registry, or created with the
 * `pool-*` properties on first use.  Set it before the first call.
 */
void
pmt_threaded_set_pool_name (PmtThreaded *self,
                            const char  *pool_name)
{
  guint n_changes = 0;

  g_return_if_fail (PMT_IS_THREADED (self));

  g_mutex_lock (&self->mutex);
  g_free (self->pool_name);
  self->pool_name = g_strdup (pool_name);
  if (!self->explicit_pool)
    g_clear_object (&self->pool);
  if (pool_name != NULL)
    set_mode_locked (self, PMT_THREADED_MODE_POOL, &n_changes);
  g_mutex_unlock (&self->mutex);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_POOL_NAME]);
  if (n_changes > 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODE]);
}

/**
 * pmt_threaded_get_priority:
 * @self: a #PmtThreaded
 *
 * Gets #PmtThreaded:priority.
 *
 * Returns: the priority of the tasks
 */
gint
pmt_threaded_get_priority (PmtThreaded *self)
{
  g_return_val_if_fail (PMT_IS_THREADED (self), 0);

  return self->priority;
}

/**
 * pmt_threaded_set_priority:
 * @self: a #PmtThreaded
 * @priority: the priority of the tasks; lower runs first
 *
 * Sets #PmtThreaded:priority.
 */
void
pmt_threaded_set_priority (PmtThreaded *self,
                           gint         priority)
{
  g_return_if_fail (PMT_IS_THREADED (self));

  g_mutex_lock (&self->mutex);
  self->priority = priority;
  g_mutex_unlock (&self->mutex);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PRIORITY]);
}

/**
 * pmt_threaded_get_store_result:
 * @self: a #PmtThreaded
 *
 * Gets #PmtThreaded:store-result.
 *
 * Returns: whether the tasks keep their results
 */
gboolean
pmt_threaded_get_store_result (PmtThreaded *self)
{
  g_return_val_if_fail (PMT_IS_THREADED (self), FALSE);

  return self->store_result;
}

/**
 * pmt_threaded_set_store_result:
 * @self: a #PmtThreaded
 * @store_result: whether the tasks keep their results
 *
 * Sets #PmtThreaded:store-result (PyMultiTasking's `_task_store_return`).
 */
void
pmt_threaded_set_store_result (PmtThreaded *self,
                               gboolean     store_result)
{
  g_return_if_fail (PMT_IS_THREADED (self));

  g_mutex_lock (&self->mutex);
  self->store_result = !!store_result;
  g_mutex_unlock (&self->mutex);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STORE_RESULT]);
}

/**
 * pmt_threaded_get_limiter:
 * @self: a #PmtThreaded
 *
 * Gets #PmtThreaded:limiter.
 *
 * Returns: (transfer none) (nullable): the limiter of the calls
 */
PmtLimiter *
pmt_threaded_get_limiter (PmtThreaded *self)
{
  g_return_val_if_fail (PMT_IS_THREADED (self), NULL);

  return self->limiter;
}

/**
 * pmt_threaded_get_limiter_blocking:
 * @self: a #PmtThreaded
 *
 * Gets #PmtThreaded:limiter-blocking.
 *
 * Returns: whether calls acquire the limiter in the caller's thread
 */
gboolean
pmt_threaded_get_limiter_blocking (PmtThreaded *self)
{
  g_return_val_if_fail (PMT_IS_THREADED (self), FALSE);

  return self->limiter_blocking;
}

/**
 * pmt_threaded_set_limiter:
 * @self: a #PmtThreaded
 * @limiter: (nullable): a #PmtLimiter
 * @blocking: %TRUE to acquire it in the calling thread, %FALSE to let
 *   each task acquire it in its worker
 *
 * Limits how many calls run at once.  Blocking (PyMultiTasking's
 * `@Limiter(n)` over `@Threaded`): pmt_threaded_call() waits for the
 * limiter, and the task releases it when done.  Non-blocking (PyMultiTasking's
 * `blocking=False`): the call returns at once and the task waits for the
 * limiter in its worker.
 */
void
pmt_threaded_set_limiter (PmtThreaded *self,
                          PmtLimiter  *limiter,
                          gboolean     blocking)
{
  g_return_if_fail (PMT_IS_THREADED (self));
  g_return_if_fail (limiter == NULL || PMT_IS_LIMITER (limiter));

  g_mutex_lock (&self->mutex);
  g_set_object (&self->limiter, limiter);
  self->limiter_blocking = !!blocking;
  g_mutex_unlock (&self->mutex);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LIMITER]);
}

/**
 * pmt_threaded_set_callback:
 * @self: a #PmtThreaded
 * @callback: (scope notified) (closure user_data) (destroy notify) (nullable):
 *   the callback of every task
 * @user_data: data for @callback
 * @notify: (nullable): frees @user_data once no task needs it
 *
 * Sets the callback each task runs after the function (PyMultiTasking's
 * `callback_func`): see pmt_task_set_callback().
 */
void
pmt_threaded_set_callback (PmtThreaded     *self,
                           PmtTaskCallback  callback,
                           gpointer         user_data,
                           GDestroyNotify   notify)
{
  PmtTaskClosure *old;

  g_return_if_fail (PMT_IS_THREADED (self));

  g_mutex_lock (&self->mutex);
  old = self->callback;
  self->callback = callback ? _pmt_task_closure_new ((PmtTaskFunc)callback, user_data, notify) : NULL;
  g_mutex_unlock (&self->mutex);

  if (old != NULL)
    _pmt_task_closure_unref (old);
  if (callback == NULL && notify != NULL)
    notify (user_data);
}

/**
 * pmt_threaded_get_main_context:
 * @self: a #PmtThreaded
 *
 * Gets #PmtThreaded:main-context.
 *
 * Returns: (transfer none) (nullable): the main context of the tasks
 */
GMainContext *
pmt_threaded_get_main_context (PmtThreaded *self)
{
  g_return_val_if_fail (PMT_IS_THREADED (self), NULL);

  return self->main_context;
}

/**
 * pmt_threaded_set_main_context:
 * @self: a #PmtThreaded
 * @context: (nullable): a #GMainContext
 *
 * Sets #PmtThreaded:main-context: the tasks emit #PmtTask::completed
 * there.
 */
void
pmt_threaded_set_main_context (PmtThreaded  *self,
                               GMainContext *context)
{
  GMainContext *old;

  g_return_if_fail (PMT_IS_THREADED (self));

  g_mutex_lock (&self->mutex);
  old = self->main_context;
  self->main_context = context ? g_main_context_ref (context) : NULL;
  g_mutex_unlock (&self->mutex);

  if (old != NULL)
    g_main_context_unref (old);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAIN_CONTEXT]);
}
