/* pmt-worker.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "pmt-deadline-private.h"
#include "pmt-enums.h"
#include "pmt-error.h"
#include "pmt-i18n-private.h"
#include "pmt-task-private.h"
#include "pmt-thread-state-private.h"
#include "pmt-worker-private.h"

/**
 * SECTION:pmt-worker
 * @title: PmtWorker
 * @short_description: One thread with its own queue
 *
 * |[<!-- language="C" -->
 * g_autoptr(PmtWorker) worker = pmt_worker_new ("saver");
 * g_autoptr(PmtTask) task = pmt_task_new (save_file, g_object_ref (file), g_object_unref);
 * g_autoptr(GError) error = NULL;
 *
 * if (!pmt_worker_push (worker, task, &error))   // PMT_ERROR_STOPPED once it stops
 *   g_warning ("%s", error->message);
 * pmt_worker_stop (worker);     // the running task finishes, the queued ones are cancelled
 * pmt_worker_join (worker, -1);
 * ]|
 *
 * A #PmtWorker owns one thread and a first-in, first-out queue of tasks:
 * pmt_worker_push() queues a task and the thread runs the tasks one after
 * the other.
 *
 * pmt_worker_stop() lets the running task finish and cancels the tasks
 * still queued (PyMultiTasking's `safe_stop`); pmt_worker_kill() also triggers
 * the cancellable of the running task.  Either way every task pushed ends
 * in a terminal state: none is dropped.  pmt_worker_join() waits for the
 * thread to exit.
 *
 * With #PmtWorker:idle-timeout set, the thread exits after idling that
 * long (PyMultiTasking's `workerAutoKill`); the worker stays usable and
 * the next pmt_worker_push() starts a new thread.
 *
 * The thread holds a reference on the worker while it runs: stop a worker
 * whose idle timeout is -1 to free it.  The thread is named after the
 * worker, as `top -H` and debuggers show.
 *
 * The workers of a #PmtPool take their tasks from the pool's queue
 * instead; the pool starts and ends them.
 *
 * Every method may be called from any thread.  The monitoring properties
 * change on the worker's thread and have no #GObject::notify, except
 * #PmtWorker:running.
 */

struct _PmtWorker
{
  GObject parent_instance;

  GMutex mutex;
  GCond cond;                /* pmt_worker_join() waits on it */
  GAsyncQueue *queue;        /* of PmtTask, and stop_marker */
  GThread *thread;           /* the newest thread, kept to detect self-joins */
  /* Set at creation for a worker of a pool, then read without the lock;
   * the owner (the pool) is kept until the thread exits. */
  const PmtWorkSource *source;
  GObject *owner;
  /* The tasks the thread runs, innermost last: a task waiting in a pool
   * runs others on the same thread. */
  GPtrArray *stack;
  char *name;
  gint64 idle_timeout;
  guint64 n_tasks_run;
  guint n_threads;           /* started and not yet returned */
  PmtWorkerState state;
  guint running : 1;
  guint killed : 1;
};

enum {
  PROP_0,
  PROP_NAME,
  PROP_STATE,
  PROP_CURRENT_TASK,
  PROP_CURRENT_PRIORITY,
  PROP_N_TASKS_RUN,
  PROP_IDLE_TIMEOUT,
  PROP_RUNNING,
  PROP_POOL,
  N_PROPS
};

enum {
  THREAD_STARTED,
  THREAD_STOPPED,
  N_SIGNALS
};

G_DEFINE_FINAL_TYPE (PmtWorker, pmt_worker, G_TYPE_OBJECT)

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];
static guint last_worker_serial;

/* Queued after the last task to make the thread exit. */
static int stop_marker;

static void
unref_queue_item (gpointer item)
{
  if (item != &stop_marker)
    g_object_unref (item);
}

static void
pmt_worker_constructed (GObject *object)
{
  PmtWorker *self = (PmtWorker *)object;

  G_OBJECT_CLASS (pmt_worker_parent_class)->constructed (object);

  if (self->name == NULL)
    self->name = g_strdup_printf ("pmt-worker-%u",
                                  __atomic_add_fetch (&last_worker_serial, 1, __ATOMIC_RELAXED));
}

static void
pmt_worker_finalize (GObject *object)
{
  PmtWorker *self = (PmtWorker *)object;

  g_assert (!self->running);
  g_assert (self->stack->len == 0);

  g_clear_pointer (&self->queue, g_async_queue_unref);
  g_clear_pointer (&self->stack, g_ptr_array_unref);
  g_clear_object (&self->owner);
  g_clear_pointer (&self->thread, g_thread_unref);
  g_clear_pointer (&self->name, g_free);
  g_mutex_clear (&self->mutex);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (pmt_worker_parent_class)->finalize (object);
}

static void
pmt_worker_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  PmtWorker *self = PMT_WORKER (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, pmt_worker_get_name (self));
      break;

    case PROP_STATE:
      g_value_set_enum (value, pmt_worker_get_state (self));
      break;

    case PROP_CURRENT_TASK:
      g_value_take_object (value, pmt_worker_dup_current_task (self));
      break;

    case PROP_CURRENT_PRIORITY:
      g_value_set_int (value, pmt_worker_get_current_priority (self));
      break;

    case PROP_N_TASKS_RUN:
      g_value_set_uint64 (value, pmt_worker_get_n_tasks_run (self));
      break;

    case PROP_IDLE_TIMEOUT:
      g_value_set_int64 (value, pmt_worker_get_idle_timeout (self));
      break;

    case PROP_RUNNING:
      g_value_set_boolean (value, pmt_worker_is_running (self));
      break;

    case PROP_POOL:
      g_value_set_object (value, pmt_worker_get_pool (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pmt_worker_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  PmtWorker *self = PMT_WORKER (object);

  switch (prop_id)
    {
    case PROP_NAME:
      self->name = g_value_dup_string (value);
      break;

    case PROP_IDLE_TIMEOUT:
      pmt_worker_set_idle_timeout (self, g_value_get_int64 (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pmt_worker_class_init (PmtWorkerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = pmt_worker_constructed;
  object_class->finalize = pmt_worker_finalize;
  object_class->get_property = pmt_worker_get_property;
  object_class->set_property = pmt_worker_set_property;

  /**
   * PmtWorker:name:
   *
   * The name of the worker, given to its thread.  A unique one is made
   * when none is given.
   */
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * PmtWorker:state:
   *
   * Whether the worker is idle, busy, stopping or stopped.
   */
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       PMT_TYPE_WORKER_STATE, PMT_WORKER_STATE_IDLE,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * PmtWorker:current-task:
   *
   * The task the worker runs now, or %NULL.
   */
  properties[PROP_CURRENT_TASK] =
    g_param_spec_object ("current-task", NULL, NULL,
                         PMT_TYPE_TASK,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * PmtWorker:current-priority:
   *
   * The priority of the task the worker runs now, or 0 when idle.
   */
  properties[PROP_CURRENT_PRIORITY] =
    g_param_spec_int ("current-priority", NULL, NULL,
                      G_MININT, G_MAXINT, 0,
                      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * PmtWorker:n-tasks-run:
   *
   * How many tasks the worker ran; tasks cancelled before they started do
   * not count.  A task counts from the moment it starts, so a thread that
   * waited for a task sees it counted.
   */
  properties[PROP_N_TASKS_RUN] =
    g_param_spec_uint64 ("n-tasks-run", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * PmtWorker:idle-timeout:
   *
   * Microseconds after which an idle thread exits, or -1 to keep it.  The
   * worker stays usable: the next push starts a new thread.  A change
   * takes effect the next time the thread waits for a task.
   */
  properties[PROP_IDLE_TIMEOUT] =
    g_param_spec_int64 ("idle-timeout", NULL, NULL,
                        -1, G_MAXINT64, -1,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * PmtWorker:running:
   *
   * Whether the worker has a thread now.  Notified from the thread that
   * starts or ends it.
   */
  properties[PROP_RUNNING] =
    g_param_spec_boolean ("running", NULL, NULL,
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * PmtWorker:pool:
   *
   * The pool whose queue the worker takes its tasks from, or %NULL for a
   * standalone worker and for a pool worker whose thread has exited.
   */
  properties[PROP_POOL] =
    g_param_spec_object ("pool", NULL, NULL,
                         pmt_pool_get_type (),
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * PmtWorker::thread-started:
   * @self: the worker
   *
   * Emitted in the worker's thread when it starts, before it runs
   * anything, and again if it goes on after #PmtWorker::thread-stopped
   * because work came at the last moment.  A handler can set up what the
   * thread keeps for its tasks (thread-local state: Python's overrides
   * keep one interpreter thread state per worker this way).  It runs in
   * the worker's thread whatever #PmtPool:main-context says: not for JS
   * handlers.
   */
  signals[THREAD_STARTED] =
    g_signal_new ("thread-started",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  /**
   * PmtWorker::thread-stopped:
   * @self: the worker
   *
   * Emitted in the worker's thread when it is about to exit, after its
   * last task: before pmt_worker_join() returns, and before the pool of
   * a pool worker can stop.  It pairs with #PmtWorker::thread-started.
   */
  signals[THREAD_STOPPED] =
    g_signal_new ("thread-stopped",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
}

static void
pmt_worker_init (PmtWorker *self)
{
  g_mutex_init (&self->mutex);
  g_cond_init (&self->cond);
  self->queue = g_async_queue_new_full (unref_queue_item);
  self->stack = g_ptr_array_new ();
  self->idle_timeout = -1;
  self->state = PMT_WORKER_STATE_IDLE;
}

/**
 * pmt_worker_new:
 * @name: (nullable): the name of the worker and its thread
 *
 * Creates a worker.  Its thread starts with the first task pushed.
 *
 * Returns: (transfer full): a new #PmtWorker
 */
PmtWorker *
pmt_worker_new (const char *name)
{
  return g_object_new (PMT_TYPE_WORKER, "name", name, NULL);
}

/* Returns TRUE when the thread may exit: the queue is empty, and a push
 * from now on starts a new thread since it takes the same lock. */
static gboolean
leave_if_idle (PmtWorker *self)
{
  gboolean leave;

  g_mutex_lock (&self->mutex);
  leave = g_async_queue_length (self->queue) == 0;
  if (leave)
    self->running = FALSE;
  g_mutex_unlock (&self->mutex);

  if (leave)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);

  return leave;
}

static void
leave_stopped (PmtWorker *self)
{
  g_mutex_lock (&self->mutex);
  self->running = FALSE;
  self->state = PMT_WORKER_STATE_STOPPED;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->mutex);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
}

/* Puts @task on the running stack; returns whether the worker was killed. */
static gboolean
enter_task (PmtWorker *self,
            PmtTask   *task)
{
  gboolean killed;

  g_mutex_lock (&self->mutex);
  killed = self->killed;
  g_ptr_array_add (self->stack, task);
  if (self->state == PMT_WORKER_STATE_IDLE)
    self->state = PMT_WORKER_STATE_BUSY;
  g_mutex_unlock (&self->mutex);

  return killed;
}

static void
leave_task (PmtWorker *self)
{
  g_mutex_lock (&self->mutex);
  g_ptr_array_remove_index (self->stack, self->stack->len - 1);
  if (self->stack->len == 0 && self->state == PMT_WORKER_STATE_BUSY)
    self->state = PMT_WORKER_STATE_IDLE;
  g_mutex_unlock (&self->mutex);
}

static void
run_one (PmtWorker *self,
         PmtTask   *task)
{
  /* Taken off the queue after a kill: it counts as queued, so cancel it
   * rather than start it. */
  if (enter_task (self, task))
    pmt_task_cancel (task);
  else if (_pmt_task_claim (task, self, TRUE) == PMT_TASK_CLAIM_OK)
    {
      /* Counted once claimed, before it runs: its waiters wake inside
       * _pmt_task_run_claimed() and must see it counted. */
      __atomic_add_fetch (&self->n_tasks_run, 1, __ATOMIC_RELAXED);
      _pmt_task_run_claimed (task);
    }

  leave_task (self);
}

void
_pmt_worker_run_claimed (PmtWorker *self,
                         PmtTask   *task)
{
  if (enter_task (self, task))
    pmt_task_cancel (task);

  __atomic_add_fetch (&self->n_tasks_run, 1, __ATOMIC_RELAXED);
  _pmt_task_run_claimed (task);

  leave_task (self);
}

static void
run_standalone (PmtWorker *self)
{
  for (;;)
    {
      gint64 idle_timeout = pmt_worker_get_idle_timeout (self);
      gpointer item;

      /* Also for a timeout too long to add to the clock. */
      if (_pmt_deadline_from_timeout (idle_timeout) == PMT_DEADLINE_NEVER)
        item = g_async_queue_pop (self->queue);
      else
        item = g_async_queue_timeout_pop (self->queue, idle_timeout);

      if (item == &stop_marker)
        {
          g_signal_emit (self, signals[THREAD_STOPPED], 0);
          leave_stopped (self);
          break;
        }

      /* Idle long enough: told before it leaves, and told again that it
       * goes on if a push came meanwhile. */
      if (item == NULL)
        {
          g_signal_emit (self, signals[THREAD_STOPPED], 0);
          if (leave_if_idle (self))
            break;
          g_signal_emit (self, signals[THREAD_STARTED], 0);
          continue;
        }

      run_one (self, item);
      g_object_unref (item);
    }
}

/* The loop of a worker owned by a pool: its work comes from the source. */
static void
run_for_source (PmtWorker      *self,
                PmtThreadState *state)
{
  const PmtWorkSource *source = self->source;
  GObject *owner;
  gpointer work;

  source->thread_started (self->owner, self, state);
  g_signal_emit (self, signals[THREAD_STARTED], 0);
  while ((work = source->next_work (self->owner, self)) != NULL)
    source->run_work (self->owner, self, work);
  g_signal_emit (self, signals[THREAD_STOPPED], 0);
  source->thread_stopped (self->owner, self);

  /* Finished tasks keep their worker: it must not keep its owner. */
  g_mutex_lock (&self->mutex);
  owner = g_steal_pointer (&self->owner);
  g_mutex_unlock (&self->mutex);
  leave_stopped (self);
  g_object_unref (owner);
}

static gpointer
worker_thread (gpointer data)
{
  PmtWorker *self = data;
  PmtThreadState state = { self, NULL, NULL };

  _pmt_thread_state_set (&state);

  if (self->source != NULL)
    run_for_source (self, &state);
  else
    {
      g_signal_emit (self, signals[THREAD_STARTED], 0);
      run_standalone (self);
    }

  _pmt_thread_state_set (NULL);

  /* Joiners wait for this: nothing of the worker runs in this thread any
   * more. */
  g_mutex_lock (&self->mutex);
  self->n_threads--;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->mutex);
  g_object_unref (self);

  return NULL;
}

static gboolean
start_thread_locked (PmtWorker  *self,
                     GError    **error)
{
  GThread *thread;

  thread = g_thread_try_new (self->name, worker_thread, g_object_ref (self), error);
  if (thread == NULL)
    {
      g_object_unref (self);
      return FALSE;
    }

  g_clear_pointer (&self->thread, g_thread_unref);
  self->thread = thread;
  self->running = TRUE;
  self->n_threads++;

  return TRUE;
}

PmtWorker *
_pmt_worker_new_for_source (const PmtWorkSource *source,
                            GObject             *owner,
                            const char          *name)
{
  PmtWorker *self = pmt_worker_new (name);

  self->source = source;
  self->owner = g_object_ref (owner);

  return self;
}

gboolean
_pmt_worker_start (PmtWorker  *self,
                   GError    **error)
{
  gboolean started;

  g_mutex_lock (&self->mutex);
  started = start_thread_locked (self, error);
  g_mutex_unlock (&self->mutex);

  if (started)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);

  return started;
}

guint
_pmt_worker_get_depth (PmtWorker *self)
{
  guint depth;

  g_mutex_lock (&self->mutex);
  depth = self->stack->len;
  g_mutex_unlock (&self->mutex);

  return depth;
}

gboolean
_pmt_worker_is_stopping (PmtWorker *self)
{
  return pmt_worker_get_state (self) >= PMT_WORKER_STATE_STOPPING;
}

void
_pmt_worker_collect_running (PmtWorker *self,
                             GPtrArray *tasks)
{
  g_mutex_lock (&self->mutex);
  for (guint i = 0; i < self->stack->len; i++)
    g_ptr_array_add (tasks, g_object_ref (g_ptr_array_index (self->stack, i)));
  g_mutex_unlock (&self->mutex);
}

/* Queues @task, starting a thread if there is none.  The task was marked
 * queued by the caller. */
static gboolean
push_locked (PmtWorker  *self,
             PmtTask    *task,
             gboolean   *started,
             GError    **error)
{
  if (self->state >= PMT_WORKER_STATE_STOPPING)
    {
      g_set_error (error, PMT_ERROR, PMT_ERROR_STOPPED,
                   _("Worker “%s” is stopping and takes no more tasks"), self->name);
      return FALSE;
    }

  *started = !self->running;
  if (*started && !start_thread_locked (self, error))
    return FALSE;

  g_async_queue_push (self->queue, g_object_ref (task));

  return TRUE;
}

/**
 * pmt_worker_push:
 * @self: a #PmtWorker
 * @task: a pending #PmtTask
 * @error: return location for a #GError
 *
 * Queues @task; the worker runs its tasks one after the other, in the
 * order they were pushed.  @task must be %PMT_TASK_STATE_PENDING.
 *
 * A stopping or stopped worker refuses the task with %PMT_ERROR_STOPPED
 * and leaves it untouched; a task cancelled before it was pushed is
 * refused with %G_IO_ERROR_CANCELLED.  When the worker has no thread and
 * cannot start one (g_thread_try_new() fails), the task is refused with
 * that #GThreadError and left untouched too.
 *
 * Returns: %TRUE when the task was queued
 */
gboolean
pmt_worker_push (PmtWorker  *self,
                 PmtTask    *task,
                 GError    **error)
{
  gboolean pushed, started = FALSE;

  g_return_val_if_fail (PMT_IS_WORKER (self), FALSE);
  g_return_val_if_fail (PMT_IS_TASK (task), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->source != NULL)
    {
      /* Translators: the first %s is the name of the function called, the
       * second the worker's name */
      g_critical (_("%s: worker “%s” runs the work of its pool; push to the pool instead"),
                  G_STRFUNC, self->name);
      return FALSE;
    }

  if (!_pmt_task_check_enqueued (task, _pmt_task_mark_queued (task, NULL, NULL, NULL),
                                 G_STRFUNC, error))
    return FALSE;

  g_mutex_lock (&self->mutex);
  pushed = push_locked (self, task, &started, error);
  g_mutex_unlock (&self->mutex);

  if (!pushed)
    _pmt_task_unmark_queued (task);
  else if (started)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);

  return pushed;
}

/* Moves the worker to STOPPING and takes the queued tasks out.  Returns
 * the current task (a new reference) when @kill. */
static GList *
begin_stop (PmtWorker  *self,
            gboolean    kill,
            GPtrArray  *running)
{
  GList *queued = NULL;
  gpointer item;

  g_mutex_lock (&self->mutex);
  if (kill)
    {
      self->killed = TRUE;
      for (guint i = 0; i < self->stack->len; i++)
        g_ptr_array_add (running, g_object_ref (g_ptr_array_index (self->stack, i)));
    }

  if (self->state < PMT_WORKER_STATE_STOPPING)
    {
      while ((item = g_async_queue_try_pop (self->queue)) != NULL)
        queued = g_list_prepend (queued, item);

      if (self->running)
        {
          self->state = PMT_WORKER_STATE_STOPPING;
          g_async_queue_push (self->queue, &stop_marker);
        }
      else if (self->source != NULL)
        self->state = PMT_WORKER_STATE_STOPPING;
      else
        {
          self->state = PMT_WORKER_STATE_STOPPED;
          g_cond_broadcast (&self->cond);
        }
    }
  g_mutex_unlock (&self->mutex);

  return g_list_reverse (queued);
}

/* A pool worker waits for its pool's work: wake it to see it must stop. */
static void
wake_source (PmtWorker *self)
{
  g_autoptr(GObject) owner = NULL;

  g_mutex_lock (&self->mutex);
  g_set_object (&owner, self->owner);
  g_mutex_unlock (&self->mutex);

  if (owner != NULL)
    self->source->wake (owner);
}

static void
cancel_all (GList *tasks)
{
  for (GList *l = tasks; l != NULL; l = l->next)
    pmt_task_cancel (l->data);
  g_list_free_full (tasks, g_object_unref);
}

/**
 * pmt_worker_stop:
 * @self: a #PmtWorker
 *
 * Stops the worker: the task it runs now finishes, the tasks still queued
 * are cancelled (in the calling thread), and the thread exits.  Further
 * pushes are refused.  Does not wait: see pmt_worker_join().
 */
void
pmt_worker_stop (PmtWorker *self)
{
  g_return_if_fail (PMT_IS_WORKER (self));

  cancel_all (begin_stop (self, FALSE, NULL));
  wake_source (self);
}

/**
 * pmt_worker_kill:
 * @self: a #PmtWorker
 *
 * Like pmt_worker_stop(), and also cancels the task the worker runs now:
 * its #GCancellable is triggered.  The thread itself is never killed; it
 * exits when that task's function returns.
 */
void
pmt_worker_kill (PmtWorker *self)
{
  g_autoptr(GPtrArray) running = g_ptr_array_new_with_free_func (g_object_unref);

  g_return_if_fail (PMT_IS_WORKER (self));

  cancel_all (begin_stop (self, TRUE, running));
  for (guint i = 0; i < running->len; i++)
    pmt_task_cancel (g_ptr_array_index (running, i));
  wake_source (self);
}

/**
 * pmt_worker_join:
 * @self: a #PmtWorker
 * @timeout_usec: how long to wait in microseconds: negative waits
 *   forever, 0 only checks
 *
 * Waits until the worker stopped: pmt_worker_stop() or pmt_worker_kill()
 * was called, its thread has finished its last task, and no thread of it
 * runs any more (one that left when idle included): nothing of the worker
 * runs after this returns %TRUE.  Joining from the worker's own thread is
 * a programming error.
 *
 * Returns: %TRUE when the worker is stopped, %FALSE on timeout
 */
gboolean
pmt_worker_join (PmtWorker *self,
                 gint64     timeout_usec)
{
  gint64 deadline;
  gboolean stopped;

  g_return_val_if_fail (PMT_IS_WORKER (self), FALSE);

  deadline = _pmt_deadline_from_timeout (timeout_usec);

  g_mutex_lock (&self->mutex);
  if (self->running && self->thread == g_thread_self ())
    {
      g_mutex_unlock (&self->mutex);
      /* Translators: the first %s is the name of the function called, the
       * second the worker's name */
      g_critical (_("%s: worker “%s” cannot join itself"), G_STRFUNC, self->name);
      return FALSE;
    }
  while ((self->state != PMT_WORKER_STATE_STOPPED || self->n_threads > 0) && timeout_usec != 0)
    if (!_pmt_cond_wait_until (&self->cond, &self->mutex, deadline))
      break;
  stopped = self->state == PMT_WORKER_STATE_STOPPED && self->n_threads == 0;
  g_mutex_unlock (&self->mutex);

  return stopped;
}

/**
 * pmt_worker_get_name:
 * @self: a #PmtWorker
 *
 * Gets #PmtWorker:name.
 *
 * Returns: the name of the worker
 */
const char *
pmt_worker_get_name (PmtWorker *self)
{
  g_return_val_if_fail (PMT_IS_WORKER (self), NULL);

  return self->name;
}

/**
 * pmt_worker_get_state:
 * @self: a #PmtWorker
 *
 * Gets #PmtWorker:state.
 *
 * Returns: the state of the worker now
 */
PmtWorkerState
pmt_worker_get_state (PmtWorker *self)
{
  PmtWorkerState state;

  g_return_val_if_fail (PMT_IS_WORKER (self), PMT_WORKER_STATE_STOPPED);

  g_mutex_lock (&self->mutex);
  state = self->state;
  g_mutex_unlock (&self->mutex);

  return state;
}

/**
 * pmt_worker_dup_current_task:
 * @self: a #PmtWorker
 *
 * Gets the task the worker runs now.
 *
 * Returns: (transfer full) (nullable): the task the worker runs now
 */
PmtTask *
pmt_worker_dup_current_task (PmtWorker *self)
{
  PmtTask *task;

  g_return_val_if_fail (PMT_IS_WORKER (self), NULL);

  g_mutex_lock (&self->mutex);
  task = self->stack->len > 0 ? g_object_ref (g_ptr_array_index (self->stack, 0)) : NULL;
  g_mutex_unlock (&self->mutex);

  return task;
}

/**
 * pmt_worker_get_current_priority:
 * @self: a #PmtWorker
 *
 * Gets #PmtWorker:current-priority.
 *
 * Returns: the priority of the task the worker runs now, or 0 when idle
 */
gint
pmt_worker_get_current_priority (PmtWorker *self)
{
  g_autoptr(PmtTask) task = NULL;

  g_return_val_if_fail (PMT_IS_WORKER (self), 0);

  task = pmt_worker_dup_current_task (self);

  return task ? pmt_task_get_priority (task) : 0;
}

/**
 * pmt_worker_get_n_tasks_run:
 * @self: a #PmtWorker
 *
 * Gets #PmtWorker:n-tasks-run.
 *
 * Returns: how many tasks the worker ran
 */
guint64
pmt_worker_get_n_tasks_run (PmtWorker *self)
{
  g_return_val_if_fail (PMT_IS_WORKER (self), 0);

  return __atomic_load_n (&self->n_tasks_run, __ATOMIC_RELAXED);
}

/**
 * pmt_worker_get_idle_timeout:
 * @self: a #PmtWorker
 *
 * Gets #PmtWorker:idle-timeout.
 *
 * Returns: microseconds after which an idle thread exits, or -1
 */
gint64
pmt_worker_get_idle_timeout (PmtWorker *self)
{
  gint64 idle_timeout;

  g_return_val_if_fail (PMT_IS_WORKER (self), -1);

  g_mutex_lock (&self->mutex);
  idle_timeout = self->idle_timeout;
  g_mutex_unlock (&self->mutex);

  return idle_timeout;
}

/**
 * pmt_worker_set_idle_timeout:
 * @self: a #PmtWorker
 * @idle_timeout_usec: microseconds, or -1 to keep the thread
 *
 * Sets #PmtWorker:idle-timeout.
 */
void
pmt_worker_set_idle_timeout (PmtWorker *self,
                             gint64     idle_timeout_usec)
{
  gboolean changed;

  g_return_if_fail (PMT_IS_WORKER (self));
  g_return_if_fail (idle_timeout_usec >= -1);

  g_mutex_lock (&self->mutex);
  changed = self->idle_timeout != idle_timeout_usec;
  self->idle_timeout = idle_timeout_usec;
  g_mutex_unlock (&self->mutex);

  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IDLE_TIMEOUT]);
}

/**
 * pmt_worker_is_running:
 * @self: a #PmtWorker
 *
 * Gets #PmtWorker:running: whether the worker has a thread now.  An
 * idle worker whose thread exited after #PmtWorker:idle-timeout is not
 * running, yet takes tasks.
 *
 * Returns: whether the worker has a thread now
 */
gboolean
pmt_worker_is_running (PmtWorker *self)
{
  gboolean running;

  g_return_val_if_fail (PMT_IS_WORKER (self), FALSE);

  g_mutex_lock (&self->mutex);
  running = self->running;
  g_mutex_unlock (&self->mutex);

  return running;
}

/**
 * pmt_worker_get_pool:
 * @self: a #PmtWorker
 *
 * Gets #PmtWorker:pool: the pool whose queue the worker takes its tasks
 * from.  A pool worker lets go of its pool when its thread exits, since
 * the tasks it ran keep the worker alive: %NULL then.
 *
 * Returns: (transfer none) (nullable): the pool the worker belongs to
 */
PmtPool *
pmt_worker_get_pool (PmtWorker *self)
{
  PmtPool *pool;

  g_return_val_if_fail (PMT_IS_WORKER (self), NULL);

  g_mutex_lock (&self->mutex);
  pool = (PmtPool *) self->owner;
  g_mutex_unlock (&self->mutex);

  return pool;
}
