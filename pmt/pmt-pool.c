/* pmt-pool.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "pmt-command-task.h"
#include "pmt-deadline-private.h"
#include "pmt-enums.h"
#include "pmt-error.h"
#include "pmt-i18n-private.h"
#include "pmt-pool-private.h"
#include "pmt-task-private.h"
#include "pmt-thread-state-private.h"

/**
 * SECTION:pmt-pool
 * @title: PmtPool
 * @short_description: Many workers, one priority queue
 *
 * |[<!-- language="C" -->
 * g_autoptr(GError) error = NULL;
 * g_autoptr(PmtPool) pool = pmt_pool_new ("downloads", 4, &error);   // 4 workers at most
 * g_autoptr(PmtTask) task = NULL;
 *
 * // A task: an object to wait for, with a result or an error.
 * task = pmt_pool_submit_full (pool, G_PRIORITY_HIGH, fetch, g_strdup (url), g_free, &error);
 * // A job: a plain call, cheaper, whose outcome travels through its data.
 * pmt_pool_execute (pool, append_to_log, g_strdup ("fetching"), g_free, &error);
 *
 * pmt_pool_join (pool, -1);   // waits for both, then shuts the pool down
 * ]|
 *
 * A #PmtPool runs tasks on up to #PmtPool:max-workers threads, taking
 * them from one priority queue: lower #PmtTask:priority values run first,
 * equal priorities in submission order.  A push and a take cost O(log n).
 *
 * Workers start on demand while queued tasks outnumber idle workers;
 * #PmtPool:min-workers of them are started at once and kept (PyMultiTasking's
 * `prepopulate`); the others exit after idling #PmtPool:idle-timeout.
 *
 * Every pool is in a process-wide registry by name:
 * pmt_pool_lookup(), pmt_pool_list_pools(), pmt_pool_join_all().  A pool
 * leaves it once it stopped (or is finalized): its name is free again.
 *
 * pmt_pool_wait_completion() waits for the work to end,
 * pmt_pool_shutdown() ends the pool, and pmt_pool_join() does both.  Every
 * task a pool accepted reaches a terminal state: a shut down pool cancels
 * what it will not run, and drops nothing.
 *
 * Work that needs no task object goes in as a job with
 * pmt_pool_execute(): a plain call, queued by the same priorities and
 * counted, waited for and cancelled by shutdowns like a task, at a
 * fraction of a task's cost.
 *
 * A task running in the pool may submit sub-tasks and wait for them with
 * pmt_task_wait(), pmt_task_wait_all(), pmt_task_wait_any(),
 * pmt_completion_queue_next() or pmt_pool_wait_completion(): while it
 * waits, its thread runs queued work of the pool (first what it took
 * off the queue itself and did not start, such as the rest of a
 * pmt_pool_map() chunk), so even a pool of one worker does not
 * deadlock.  It passes over a task whose #PmtTask:limiter is full (the
 * waiting task may hold it): that task runs in the same thread once the
 * wait is over.
 *
 * The monitoring properties (#PmtPool:n-queued and friends) emit
 * #GObject::notify after each change, coalesced and without internal
 * locks held: in a thread that changed them, or, when the pool has a
 * #PmtPool:main-context, from an idle source on that context (one
 * emission per property per main-loop iteration), which is what a GTK
 * progress bar or a GJS handler wants.  Read the property in the
 * handler: emissions from several threads are folded together.
 * Monitoring costs nothing while nobody listens; a handler connected
 * while the pool is busy is noticed within 256 changes, and always gets
 * the values the pool settles on.  Connect before submitting work to see
 * every change.
 *
 * When a worker's thread cannot start (g_thread_try_new() fails, as it
 * does at the process's thread limit), the pool goes on with the
 * workers it has, and a later submission tries again to grow.  A pool
 * left with no worker at all fails its queued tasks with
 * %PMT_ERROR_FAILED, whose message gives the reason, and cancels its
 * queued jobs (their notify runs): nothing stays queued for a thread that
 * may never come.  The pool stays usable.
 *
 * Worker threads and unfinished tasks hold a reference on their pool: a
 * pool lives until it is shut down and released.  Every method may be
 * called from any thread.
 */

/* The pool as an object, its submissions, its workers (how many, fed
 * from the queue: the scaling) and its shutdown.  The other concerns have
 * their own files: see pmt-pool-private.h. */

static void pmt_pool_initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (PmtPool, pmt_pool, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      pmt_pool_initable_iface_init))

#define DEFAULT_IDLE_TIMEOUT (15 * G_USEC_PER_SEC)

static GParamSpec *properties[PMT_POOL_N_PROPS];

enum {
  WORKER_STARTED,
  WORKER_STOPPED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* The counters, described once: they drive the pspecs, get_property()
 * and the getters.  Atomic ones are read without the lock. */
typedef struct
{
  guint prop;
  const char *name;
  gsize offset;
  gboolean wide;            /* guint64, not guint */
  gboolean atomic;
} Counter;

#define COUNTER(prop, name, field, wide, atomic) \
  { PMT_POOL_PROP_##prop, name, G_STRUCT_OFFSET (PmtPool, field), wide, atomic }

/**
 * PmtPool:n-workers:
 *
 * How many workers the pool has, starting ones included.
 */
/**
 * PmtPool:n-busy-workers:
 *
 * How many workers run a task or a job.
 */
/**
 * PmtPool:n-queued:
 *
 * How many accepted tasks and jobs wait to start (cancelled ones
 * excluded).
 */
/**
 * PmtPool:n-unfinished:
 *
 * How many accepted tasks and jobs have not reached a terminal state.
 */
/**
 * PmtPool:n-submitted:
 *
 * How many tasks and jobs the pool accepted.
 */
/**
 * PmtPool:n-succeeded:
 *
 * How many accepted tasks and jobs succeeded.
 */
/**
 * PmtPool:n-failed:
 *
 * How many accepted tasks failed.
 */
/**
 * PmtPool:n-cancelled:
 *
 * How many accepted tasks and jobs were cancelled.
 */
static const Counter counters[] = {
  COUNTER (N_WORKERS, "n-workers", n_workers, FALSE, FALSE),
  COUNTER (N_BUSY_WORKERS, "n-busy-workers", n_busy, FALSE, FALSE),
  COUNTER (N_QUEUED, "n-queued", n_queued, FALSE, TRUE),
  COUNTER (N_UNFINISHED, "n-unfinished", n_unfinished, FALSE, TRUE),
  COUNTER (N_SUBMITTED, "n-submitted", n_submitted, TRUE, FALSE),
  COUNTER (N_SUCCEEDED, "n-succeeded", n_succeeded, TRUE, TRUE),
  COUNTER (N_FAILED, "n-failed", n_failed, TRUE, TRUE),
  COUNTER (N_CANCELLED, "n-cancelled", n_cancelled, TRUE, TRUE),
};

#define FIRST_COUNTER PMT_POOL_PROP_N_WORKERS

static guint64
read_counter (PmtPool *self,
              guint    prop)
{
  const Counter *counter = &counters[prop - FIRST_COUNTER];
  gpointer field = G_STRUCT_MEMBER_P (self, counter->offset);
  guint64 value;

  if (counter->atomic)
    return counter->wide ? __atomic_load_n ((guint64 *) field, __ATOMIC_SEQ_CST)
                         : __atomic_load_n ((guint *) field, __ATOMIC_SEQ_CST);

  _pmt_pool_lock (self);
  value = counter->wide ? *(guint64 *) field : *(guint *) field;
  _pmt_pool_unlock (self);

  return value;
}

/* Threads */

void
_pmt_pool_fire_helpers_locked (PmtPool *self)
{
  _pmt_sync_waiters_fire (self->helpers);
}

PmtPoolThread *
_pmt_pool_get_thread (PmtPool *self)
{
  PmtThreadState *state = _pmt_thread_state_get ();

  if (state == NULL || state->executor != &self->executor)
    return NULL;

  return state->executor_data;
}

static gboolean
is_own_thread (PmtPool *self)
{
  return _pmt_pool_get_thread (self) != NULL;
}

/* Pops the head of the queue with the lock held: a job leaves n-queued
 * now, tasks when they are claimed. */
gpointer
_pmt_pool_pop_locked (PmtPool *self,
                      guint   *mask)
{
  gpointer item = _pmt_queue_try_pop_unlocked (self->queue);

  if (item != NULL && PMT_POOL_IS_JOB (item))
    {
      __atomic_sub_fetch (&self->n_queued, 1, __ATOMIC_SEQ_CST);
      *mask |= PMT_POOL_BIT (PMT_POOL_PROP_N_QUEUED);
    }

  return item;
}

/* Only tasks cancelled in the queue can be left to free: jobs are
 * unfinished until taken. */
static void
free_queued (gpointer item)
{
  g_assert (!PMT_POOL_IS_JOB (item));

  if (PMT_POOL_IS_CHUNK (item))
    {
      PmtPoolChunk *chunk = PMT_POOL_TO_CHUNK (item);

      for (guint i = chunk->next; i < chunk->n_tasks; i++)
        g_clear_object (&chunk->tasks[i]);
      g_free (chunk);
    }
  else
    g_object_unref (item);
}

/* Empties the queue into @tasks (references) and @jobs. */
static void
take_queued_locked (PmtPool   *self,
                    GPtrArray *tasks,
                    GPtrArray *jobs,
                    guint     *mask)
{
  gpointer item;

  while ((item = _pmt_pool_pop_locked (self, mask)) != NULL)
    {
      if (PMT_POOL_IS_CHUNK (item))
        {
          PmtPoolChunk *chunk = PMT_POOL_TO_CHUNK (item);

          for (guint i = chunk->next; i < chunk->n_tasks; i++)
            g_ptr_array_add (tasks, g_steal_pointer (&chunk->tasks[i]));
          free_queued (item);
        }
      else if (PMT_POOL_IS_JOB (item))
        g_ptr_array_add (jobs, PMT_POOL_TO_JOB (item));
      else
        g_ptr_array_add (tasks, item);
    }
}

void
_pmt_pool_check_stopped_locked (PmtPool *self,
                                guint   *mask)
{
  if (self->state != PMT_POOL_STATE_STOPPING || self->n_workers > 0 || self->n_leaving > 0 ||
      __atomic_load_n (&self->n_unfinished, __ATOMIC_SEQ_CST) > 0)
    return;

  self->state = PMT_POOL_STATE_STOPPED;
  *mask |= PMT_POOL_BIT (PMT_POOL_PROP_STATE);
  g_cond_broadcast (&self->idle_cond);
  _pmt_pool_unregister (self);
}

/* Scaling */

/* How many workers to start now, reserved in n_workers: enough for
 * min-workers, and one more while queued work outnumbers idle workers. */
static guint
reserve_workers_locked (PmtPool *self,
                        guint   *mask)
{
  guint min_workers = self->min_workers;
  guint n = 0;

  /* Properties are set before the name is taken: no thread for a pool
   * that may turn out unusable, whose workers nobody would stop. */
  if (!self->constructed || self->init_error != NULL)
    return 0;

  /* A stopping pool starts workers only for work still queued. */
  if (self->state >= PMT_POOL_STATE_STOPPING)
    min_workers = 0;

  while (self->n_workers < self->max_workers &&
         (self->n_workers < min_workers ||
          (n == 0 &&
           __atomic_load_n (&self->n_queued, __ATOMIC_SEQ_CST) > self->n_idle + self->n_starting)))
    {
      self->n_workers++;
      self->n_starting++;
      n++;
    }

  if (n > 0)
    *mask |= PMT_POOL_BIT (PMT_POOL_PROP_N_WORKERS);

  return n;
}

/* A worker decided to exit: it no longer counts as one, at once, so that
 * no other leaves in its place; but the pool is not stopped before its
 * thread is done (worker_left_locked()). */
static void
worker_leaving_locked (PmtPool   *self,
                       PmtWorker *worker,
                       guint     *mask)
{
  self->n_workers--;
  self->n_leaving++;
  g_ptr_array_remove_fast (self->workers, worker);
  *mask |= PMT_POOL_BIT (PMT_POOL_PROP_N_WORKERS);
}

static void
worker_left_locked (PmtPool *self,
                    guint   *mask)
{
  self->n_leaving--;
  _pmt_pool_check_stopped_locked (self, mask);
}

/* Makes @worker the runner of a queued @task.  Without the pool's lock:
 * claiming locks the task, and n-queued is atomic. */
static gboolean
claim (PmtPool   *self,
       PmtWorker *worker,
       PmtTask   *task)
{
  if (__atomic_load_n (&self->cancel_queued, __ATOMIC_SEQ_CST))
    {
      /* Taken off the queue before a shutdown cancelled the queue. */
      pmt_task_cancel (task);
      return FALSE;
    }

  /* Not OK: cancelled while queued, already counted then. */
  if (_pmt_task_claim (task, worker, TRUE) != PMT_TASK_CLAIM_OK)
    return FALSE;

  __atomic_sub_fetch (&self->n_queued, 1, __ATOMIC_SEQ_CST);
  _pmt_pool_notify (self, PMT_POOL_BIT (PMT_POOL_PROP_N_QUEUED));

  return TRUE;
}

void
_pmt_pool_run_item (PmtPool       *self,
                    PmtPoolThread *thread,
                    gpointer       item)
{
  if (PMT_POOL_IS_JOB (item))
    {
      _pmt_pool_run_job (self, PMT_POOL_TO_JOB (item), thread);
      return;
    }

  if (claim (self, thread->worker, item))
    _pmt_worker_run_claimed (thread->worker, item);
  g_object_unref (item);
}

/* Blocks until there is work for @thread and takes it; returns NULL when
 * the worker must exit instead (stopped, surplus, idle too long, or the
 * pool is stopping and has nothing left): source_thread_stopped()
 * accounts for that once its handlers ran. */
static gpointer
next_item_locked (PmtPool       *self,
                  PmtPoolThread *thread,
                  guint         *mask)
{
  gint64 deadline = PMT_DEADLINE_NEVER;
  gboolean counting = FALSE;

  for (;;)
    {
      gboolean above_min, timed_out;
      gpointer item;

      if (_pmt_worker_is_stopping (thread->worker) || self->n_workers > self->max_workers)
        break;
      if ((item = _pmt_pool_take_locked (self, thread, mask)) != NULL)
        return item;
      if (self->state >= PMT_POOL_STATE_STOPPING)
        break;

      above_min = self->n_workers > self->min_workers && self->idle_timeout >= 0;
      if (!above_min)
        counting = FALSE;
      else if (!counting)
        {
          deadline = _pmt_deadline_from_timeout (self->idle_timeout);
          counting = TRUE;
        }

      self->n_idle++;
      timed_out = !_pmt_queue_wait_unlocked (self->queue, counting ? deadline : PMT_DEADLINE_NEVER);
      self->n_idle--;

      /* Tested again now: others may have left while we slept. */
      if (timed_out && self->n_workers > self->min_workers &&
          _pmt_queue_length_unlocked (self->queue) == 0)
        break;
    }

  worker_leaving_locked (self, thread->worker, mask);
  return NULL;
}

/* The worker's side: PmtWorkSource, called in our workers' threads. */

static void
source_thread_started (gpointer        owner,
                       PmtWorker      *worker,
                       PmtThreadState *state)
{
  PmtPool *self = owner;
  PmtPoolThread *thread = g_new0 (PmtPoolThread, 1);

  thread->worker = worker;
  state->executor = &self->executor;
  state->executor_data = thread;

  _pmt_pool_lock (self);
  self->n_starting--;
  _pmt_pool_unlock (self);

  g_signal_emit (self, signals[WORKER_STARTED], 0, worker);
}

static void
thread_exit (PmtPool       *self,
             PmtPoolThread *thread)
{
  PmtThreadState *state = _pmt_thread_state_get ();

  g_assert (thread->local_length == 0);

  state->executor = NULL;
  state->executor_data = NULL;
  g_free (thread->local);
  g_free (thread);
}

static gpointer
source_next_work (gpointer   owner,
                  PmtWorker *worker)
{
  PmtPool *self = owner;
  PmtPoolThread *thread = _pmt_pool_get_thread (self);
  guint mask = 0;
  gpointer item;

  if ((item = _pmt_pool_local_pop (thread)) != NULL)
    return item;
  _pmt_pool_count_thread_jobs (self, thread);

  /* Busy from one item to the next without a change to announce. */
  _pmt_pool_lock (self);
  item = next_item_locked (self, thread, &mask);
  if (item != NULL && PMT_POOL_IS_JOB (item))
    _pmt_pool_batch_jobs_locked (self, thread, &mask);
  if ((item != NULL) != thread->busy)
    {
      thread->busy = item != NULL;
      self->n_busy += thread->busy ? 1 : -1;
      mask |= PMT_POOL_BIT (PMT_POOL_PROP_N_BUSY_WORKERS);
    }
  _pmt_pool_unlock (self);
  _pmt_pool_notify (self, mask);

  return item;
}

/* The worker's last call in its thread: handlers first, then the exit
 * counts, so that the pool stops only once they ran. */
static void
source_thread_stopped (gpointer   owner,
                       PmtWorker *worker)
{
  PmtPool *self = owner;
  PmtPoolThread *thread = _pmt_pool_get_thread (self);
  guint mask = 0, n_start;

  g_signal_emit (self, signals[WORKER_STOPPED], 0, worker);

  _pmt_pool_lock (self);
  worker_left_locked (self, &mask);
  n_start = reserve_workers_locked (self, &mask);
  _pmt_pool_unlock (self);
  _pmt_pool_notify (self, mask);

  thread_exit (self, thread);
  /* Replaces a worker stopped by hand while work waits. */
  _pmt_pool_start_workers (self, n_start);
}

static void
source_run_work (gpointer   owner,
                 PmtWorker *worker,
                 gpointer   work)
{
  PmtPool *self = owner;

  _pmt_pool_run_item (self, _pmt_pool_get_thread (self), work);
}

/* Wakes the idle workers, e.g. after one was asked to stop. */
static void
source_wake (gpointer owner)
{
  PmtPool *self = owner;

  _pmt_pool_lock (self);
  _pmt_queue_wake_all_unlocked (self->queue);
  _pmt_pool_fire_helpers_locked (self);
  _pmt_pool_unlock (self);
}

static const PmtWorkSource work_source = {
  source_thread_started,
  source_next_work,
  source_run_work,
  source_thread_stopped,
  source_wake,
};

/* A worker could not start, for @cause, and the pool has none left (or
 * starting) to run its queue: nothing would ever take what is queued.
 * The tasks fail with a PMT_ERROR saying why, the jobs are dropped
 * (their notify runs, they count as cancelled).  With a worker left, the
 * pool goes on with it instead, and a later submission tries again to
 * grow. */
static void
fail_queued_if_no_worker (PmtPool      *self,
                          const GError *cause)
{
  g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) jobs = g_ptr_array_new ();
  guint mask = 0;

  _pmt_pool_lock (self);
  if (self->n_workers == 0)
    take_queued_locked (self, tasks, jobs, &mask);
  _pmt_pool_unlock (self);
  _pmt_pool_notify (self, mask);

  for (guint i = 0; i < tasks->len; i++)
    _pmt_task_fail_unstarted (g_ptr_array_index (tasks, i),
                              g_error_new (PMT_ERROR, PMT_ERROR_FAILED,
                                           _("Pool “%s” could not start a thread to run the task: %s"),
                                           self->name, cause->message));
  for (guint i = 0; i < jobs->len; i++)
    _pmt_pool_drop_job (self, g_ptr_array_index (jobs, i));
}

void
_pmt_pool_start_workers (PmtPool *self,
                         guint    n_workers)
{
  for (guint i = 0; i < n_workers; i++)
    {
      g_autoptr(PmtWorker) worker = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *name = NULL;
      guint mask = 0;

      name = g_strdup_printf ("%s-%u", self->name,
                              __atomic_add_fetch (&self->worker_serial, 1, __ATOMIC_RELAXED));
      worker = _pmt_worker_new_for_source (&work_source, G_OBJECT (self), name);

      _pmt_pool_lock (self);
      g_ptr_array_add (self->workers, g_object_ref (worker));
      _pmt_pool_unlock (self);

      if (_pmt_worker_start (worker, &error))
        continue;

      g_debug ("Pool “%s” could not start a worker: %s", self->name, error->message);
      _pmt_pool_lock (self);
      self->n_starting--;
      worker_leaving_locked (self, worker, &mask);
      worker_left_locked (self, &mask);
      _pmt_pool_unlock (self);
      _pmt_pool_notify (self, mask);
      fail_queued_if_no_worker (self, error);
    }
}

/* The object */

static void
pmt_pool_finalize (GObject *object)
{
  PmtPool *self = (PmtPool *)object;
  gpointer job;

  _pmt_pool_unregister (self);

  /* Workers and unfinished tasks hold references: only tasks cancelled in
   * the queue can be left, already counted. */
  g_assert (self->n_workers == 0 && self->n_leaving == 0);
  g_assert (__atomic_load_n (&self->n_unfinished, __ATOMIC_SEQ_CST) == 0);
  while ((job = _pmt_queue_try_pop (self->queue)) != NULL)
    free_queued (job);

  _pmt_queue_free (self->queue);
  g_cond_clear (&self->idle_cond);
  g_ptr_array_unref (self->workers);
  g_clear_pointer (&self->main_context, g_main_context_unref);
  g_clear_pointer (&self->name, g_free);
  g_clear_error (&self->init_error);

  G_OBJECT_CLASS (pmt_pool_parent_class)->finalize (object);
}

static void
pmt_pool_get_property (GObject    *object,
                       guint       prop_id,
                       GValue     *value,
                       GParamSpec *pspec)
{
  PmtPool *self = PMT_POOL (object);

  if (prop_id >= FIRST_COUNTER && prop_id < PMT_POOL_N_PROPS)
    {
      if (counters[prop_id - FIRST_COUNTER].wide)
        g_value_set_uint64 (value, read_counter (self, prop_id));
      else
        g_value_set_uint (value, read_counter (self, prop_id));
      return;
    }

  switch (prop_id)
    {
    case PMT_POOL_PROP_NAME:
      g_value_set_string (value, self->name);
      break;

    case PMT_POOL_PROP_STATE:
      g_value_set_enum (value, pmt_pool_get_state (self));
      break;

    case PMT_POOL_PROP_MAX_WORKERS:
      g_value_set_uint (value, pmt_pool_get_max_workers (self));
      break;

    case PMT_POOL_PROP_MIN_WORKERS:
      g_value_set_uint (value, pmt_pool_get_min_workers (self));
      break;

    case PMT_POOL_PROP_IDLE_TIMEOUT:
      g_value_set_int64 (value, pmt_pool_get_idle_timeout (self));
      break;

    case PMT_POOL_PROP_MAIN_CONTEXT:
      g_value_set_boxed (value, pmt_pool_get_main_context (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pmt_pool_set_property (GObject      *object,
                       guint         prop_id,
                       const GValue *value,
                       GParamSpec   *pspec)
{
  PmtPool *self = PMT_POOL (object);

  switch (prop_id)
    {
    case PMT_POOL_PROP_NAME:
      self->name = g_value_dup_string (value);
      break;

    case PMT_POOL_PROP_MAX_WORKERS:
      pmt_pool_set_max_workers (self, g_value_get_uint (value));
      break;

    case PMT_POOL_PROP_MIN_WORKERS:
      pmt_pool_set_min_workers (self, g_value_get_uint (value));
      break;

    case PMT_POOL_PROP_IDLE_TIMEOUT:
      pmt_pool_set_idle_timeout (self, g_value_get_int64 (value));
      break;

    case PMT_POOL_PROP_MAIN_CONTEXT:
      pmt_pool_set_main_context (self, g_value_get_boxed (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

/* Registering here, not in pmt_pool_new(), gives a pool made from
 * properties (as every binding makes it) the same guarantees: a name in
 * the registry, or a clash reported, by GInitable and by every submission
 * (the pool takes no work). */
static void
pmt_pool_constructed (GObject *object)
{
  PmtPool *self = (PmtPool *)object;

  guint mask = 0, n_start;

  G_OBJECT_CLASS (pmt_pool_parent_class)->constructed (object);

  _pmt_pool_register (self, &self->init_error);

  /* The min-workers set among the properties start now. */
  _pmt_pool_lock (self);
  self->constructed = TRUE;
  n_start = reserve_workers_locked (self, &mask);
  _pmt_pool_unlock (self);
  _pmt_pool_notify (self, mask);
  _pmt_pool_start_workers (self, n_start);
}

static gboolean
pmt_pool_initable_init (GInitable     *initable,
                        GCancellable  *cancellable,
                        GError       **error)
{
  PmtPool *self = PMT_POOL (initable);

  if (self->init_error == NULL)
    return TRUE;

  g_propagate_error (error, g_error_copy (self->init_error));
  return FALSE;
}

static void
pmt_pool_initable_iface_init (GInitableIface *iface)
{
  iface->init = pmt_pool_initable_init;
}

static void
pmt_pool_class_init (PmtPoolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = pmt_pool_constructed;
  object_class->finalize = pmt_pool_finalize;
  object_class->get_property = pmt_pool_get_property;
  object_class->set_property = pmt_pool_set_property;

  /**
   * PmtPool:name:
   *
   * The name of the pool in the registry, unique in the process; one is
   * made when none is given.
   */
  properties[PMT_POOL_PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * PmtPool:state:
   *
   * Whether the pool has not run anything yet, runs, stops or stopped.
   */
  properties[PMT_POOL_PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       PMT_TYPE_POOL_STATE, PMT_POOL_STATE_INACTIVE,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * PmtPool:max-workers:
   *
   * The most workers the pool runs at once.  Changeable at any time:
   * surplus workers exit after their current task.
   */
  properties[PMT_POOL_PROP_MAX_WORKERS] =
    g_param_spec_uint ("max-workers", NULL, NULL,
                       1, G_MAXUINT, 1,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * PmtPool:min-workers:
   *
   * Workers started at once and kept even when idle (PyMultiTasking's
   * `prepopulate`), up to #PmtPool:max-workers.
   */
  properties[PMT_POOL_PROP_MIN_WORKERS] =
    g_param_spec_uint ("min-workers", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY |
                       G_PARAM_STATIC_STRINGS);

  /**
   * PmtPool:idle-timeout:
   *
   * Microseconds after which an idle worker above #PmtPool:min-workers
   * exits, or -1 to keep them.
   */
  properties[PMT_POOL_PROP_IDLE_TIMEOUT] =
    g_param_spec_int64 ("idle-timeout", NULL, NULL,
                        -1, G_MAXINT64, DEFAULT_IDLE_TIMEOUT,
                        G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS);

  /**
   * PmtPool:main-context:
   *
   * The #PmtTask:main-context given to tasks pushed without one, and the
   * context the monitoring properties notify on, coalesced.  Settable
   * only before the pool runs anything.
   */
  properties[PMT_POOL_PROP_MAIN_CONTEXT] =
    g_param_spec_boxed ("main-context", NULL, NULL,
                        G_TYPE_MAIN_CONTEXT,
                        G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS);

  for (guint i = 0; i < G_N_ELEMENTS (counters); i++)
    properties[counters[i].prop] =
      counters[i].wide
        ? g_param_spec_uint64 (counters[i].name, NULL, NULL, 0, G_MAXUINT64, 0,
                               G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)
        : g_param_spec_uint (counters[i].name, NULL, NULL, 0, G_MAXUINT, 0,
                             G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, PMT_POOL_N_PROPS, properties);
  _pmt_pool_class_init_notify (properties);

  /**
   * PmtPool::worker-started:
   * @self: the pool
   * @worker: the worker whose thread starts
   *
   * Emitted in a new worker's thread, before it takes any work: the place
   * for a per-thread initializer, as `ThreadPoolExecutor (initializer=…)`
   * has.  It runs in the worker's thread whatever #PmtPool:main-context
   * says: not for JS handlers.
   */
  signals[WORKER_STARTED] =
    g_signal_new ("worker-started",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, PMT_TYPE_WORKER);

  /**
   * PmtPool::worker-stopped:
   * @self: the pool
   * @worker: the worker whose thread exits
   *
   * Emitted in a worker's thread after its last work, before the pool
   * counts it gone: a pool has stopped only once these handlers ran.
   */
  signals[WORKER_STOPPED] =
    g_signal_new ("worker-stopped",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, PMT_TYPE_WORKER);
}

static void
pmt_pool_init (PmtPool *self)
{
  self->executor.vtable = &_pmt_pool_executor_vtable;
  self->queue = _pmt_queue_new ();
  g_cond_init (&self->idle_cond);
  self->workers = g_ptr_array_new_with_free_func (g_object_unref);
  self->max_workers = 1;
  self->idle_timeout = DEFAULT_IDLE_TIMEOUT;
  self->state = PMT_POOL_STATE_INACTIVE;
}

/**
 * pmt_pool_new:
 * @name: (nullable): a name unique in the process, or %NULL for a new
 *   one
 * @max_workers: the most workers at once, or 0 for the number of
 *   processors
 * @error: return location for a #GError
 *
 * Creates a pool and registers it under @name, which stays taken until
 * the pool stopped or is finalized.  A pool made with g_object_new() is
 * registered the same way; it is a #GInitable whose initialization fails
 * with %PMT_ERROR_NAME_IN_USE when its name was taken, and such a pool
 * refuses every submission with that error.
 *
 * Returns: (transfer full) (nullable): a new #PmtPool, or %NULL with
 *   %PMT_ERROR_NAME_IN_USE
 */
PmtPool *
pmt_pool_new (const char  *name,
              guint        max_workers,
              GError     **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (max_workers == 0)
    max_workers = MAX (g_get_num_processors (), 1);

  return g_initable_new (PMT_TYPE_POOL, NULL, error,
                         "name", name,
                         "max-workers", max_workers,
                         NULL);
}

/**
 * pmt_pool_new_for_context:
 * @name: (nullable): a name unique in the process, or %NULL for a new
 *   one
 * @max_workers: the most workers at once, or 0 for the number of
 *   processors
 * @context: (nullable): the #PmtPool:main-context, or %NULL for the
 *   calling thread's default main context
 * @error: return location for a #GError
 *
 * pmt_pool_new() with a #PmtPool:main-context: its tasks emit
 * #PmtTask::completed there, its monitoring properties notify there, and
 * the data bindings handed in is released there.  This is the pool GTK
 * applications and GJS scripts want: with %NULL, it delivers everything
 * to the thread that made it, as long as that thread runs its main loop.
 *
 * Returns: (transfer full) (nullable): a new #PmtPool, or %NULL with
 *   %PMT_ERROR_NAME_IN_USE
 */
PmtPool *
pmt_pool_new_for_context (const char    *name,
                          guint          max_workers,
                          GMainContext  *context,
                          GError       **error)
{
  g_autoptr(GMainContext) main_context = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  main_context = context != NULL ? g_main_context_ref (context)
                                 : g_main_context_ref_thread_default ();
  if (max_workers == 0)
    max_workers = MAX (g_get_num_processors (), 1);

  return g_initable_new (PMT_TYPE_POOL, NULL, error,
                         "name", name,
                         "max-workers", max_workers,
                         "main-context", main_context,
                         NULL);
}

/* Submitting */

gboolean
_pmt_pool_accepting_locked (PmtPool  *self,
                            GError  **error)
{
  if (self->init_error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->init_error));
      return FALSE;
    }

  if (self->state >= PMT_POOL_STATE_STOPPING)
    {
      g_set_error (error, PMT_ERROR, PMT_ERROR_STOPPED,
                   _("Pool “%s” is shutting down and takes no more tasks"), self->name);
      return FALSE;
    }

  if (self->n_blocking > 0 && !is_own_thread (self))
    {
      g_set_error (error, PMT_ERROR, PMT_ERROR_BLOCKED,
                   _("Pool “%s” takes no new tasks while it waits for its work to complete"),
                   self->name);
      return FALSE;
    }

  return TRUE;
}

guint
_pmt_pool_enqueue_locked (PmtPool  *self,
                          gpointer  item,
                          gint      priority,
                          guint     n_tasks,
                          guint    *mask)
{
  _pmt_queue_push_unlocked (self->queue, item, priority);

  self->n_submitted += n_tasks;
  __atomic_add_fetch (&self->n_queued, n_tasks, __ATOMIC_SEQ_CST);
  /* Unfinished work keeps its pool alive, through one reference. */
  if (__atomic_add_fetch (&self->n_unfinished, n_tasks, __ATOMIC_SEQ_CST) == n_tasks)
    g_object_ref (self);
  *mask |= PMT_POOL_BIT (PMT_POOL_PROP_N_SUBMITTED) | PMT_POOL_BIT (PMT_POOL_PROP_N_QUEUED) |
           PMT_POOL_BIT (PMT_POOL_PROP_N_UNFINISHED);

  if (self->state == PMT_POOL_STATE_INACTIVE)
    {
      self->state = PMT_POOL_STATE_ACTIVE;
      *mask |= PMT_POOL_BIT (PMT_POOL_PROP_STATE);
    }

  _pmt_pool_fire_helpers_locked (self);

  return reserve_workers_locked (self, mask);
}

/**
 * pmt_pool_push:
 * @self: a #PmtPool
 * @task: a pending #PmtTask
 * @error: return location for a #GError
 *
 * Queues @task by its #PmtTask:priority.  A pool that is shutting down
 * refuses it with %PMT_ERROR_STOPPED, one blocked by
 * pmt_pool_wait_completion() with %PMT_ERROR_BLOCKED (unless the caller
 * is a task of the pool); a refused task is left untouched.  A task
 * cancelled before it was pushed is refused with %G_IO_ERROR_CANCELLED;
 * pushing a task twice is a programming error.
 *
 * Returns: %TRUE when the pool accepted the task
 */
gboolean
pmt_pool_push (PmtPool  *self,
               PmtTask  *task,
               GError  **error)
{
  PmtTaskEnqueue enqueued = PMT_TASK_ENQUEUE_OK;
  guint mask = 0, n_start = 0;
  gboolean accepted;
  gint priority;

  g_return_val_if_fail (PMT_IS_POOL (self), FALSE);
  g_return_val_if_fail (PMT_IS_TASK (task), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  _pmt_pool_lock (self);
  accepted = _pmt_pool_accepting_locked (self, error);
  if (accepted)
    enqueued = _pmt_task_mark_queued (task, &self->executor, self->main_context, &priority);
  if (accepted && enqueued == PMT_TASK_ENQUEUE_OK)
    n_start = _pmt_pool_enqueue_locked (self, g_object_ref (task), priority, 1, &mask);
  _pmt_pool_unlock (self);

  if (!accepted || !_pmt_task_check_enqueued (task, enqueued, G_STRFUNC, error))
    return FALSE;

  _pmt_pool_notify (self, mask);
  _pmt_pool_start_workers (self, n_start);

  return TRUE;
}

/**
 * pmt_pool_submit_full:
 * @self: a #PmtPool
 * @priority: the priority of the task; lower runs first
 * @func: (scope notified) (closure user_data) (destroy notify): the work
 * @user_data: data for @func
 * @notify: (nullable): frees @user_data
 * @error: return location for a #GError
 *
 * Creates a task for @func with @priority and pushes it, as
 * pmt_pool_push() does.
 *
 * Returns: (transfer full) (nullable): the task, or %NULL when refused
 *   (then @notify has run)
 */
PmtTask *
pmt_pool_submit_full (PmtPool         *self,
                      gint             priority,
                      PmtTaskFunc      func,
                      gpointer         user_data,
                      GDestroyNotify   notify,
                      GError         **error)
{
  g_autoptr(PmtTask) task = NULL;

  g_return_val_if_fail (PMT_IS_POOL (self), NULL);
  g_return_val_if_fail (func != NULL, NULL);

  task = pmt_task_new (func, user_data, notify);
  if (priority != G_PRIORITY_DEFAULT)
    pmt_task_set_priority (task, priority);

  if (!pmt_pool_push (self, task, error))
    return NULL;

  return g_steal_pointer (&task);
}

/**
 * pmt_pool_submit:
 * @self: a #PmtPool
 * @func: (scope notified) (closure user_data) (destroy notify): the work
 * @user_data: data for @func
 * @notify: (nullable): frees @user_data
 * @error: return location for a #GError
 *
 * Creates a task for @func with the default priority and pushes it.
 *
 * Returns: (transfer full) (nullable): the task, or %NULL when refused
 *   (then @notify has run)
 */
PmtTask *
pmt_pool_submit (PmtPool         *self,
                 PmtTaskFunc      func,
                 gpointer         user_data,
                 GDestroyNotify   notify,
                 GError         **error)
{
  return pmt_pool_submit_full (self, G_PRIORITY_DEFAULT, func, user_data, notify, error);
}

/**
 * pmt_pool_submit_command:
 * @self: a #PmtPool
 * @priority: the priority of the task; lower runs first
 * @argv: (array zero-terminated=1): the command and its arguments
 * @error: return location for a #GError
 *
 * Creates a command task (see pmt_command_task_new()) with @priority and
 * pushes it, as pmt_pool_push() does.
 *
 * Returns: (transfer full) (nullable): the task, or %NULL when refused
 */
PmtCommandTask *
pmt_pool_submit_command (PmtPool             *self,
                         gint                 priority,
                         const char * const  *argv,
                         GError             **error)
{
  g_autoptr(PmtCommandTask) task = NULL;

  g_return_val_if_fail (PMT_IS_POOL (self), NULL);
  g_return_val_if_fail (argv != NULL && argv[0] != NULL, NULL);

  task = pmt_command_task_new (argv);
  pmt_task_set_priority (PMT_TASK (task), priority);

  if (!pmt_pool_push (self, PMT_TASK (task), error))
    return NULL;

  return g_steal_pointer (&task);
}

/* Ending */

/* Takes what shutdown() must cancel: the queued tasks and jobs, the
 * running tasks. */
static void
collect_for_shutdown_locked (PmtPool          *self,
                             PmtShutdownFlags  flags,
                             GPtrArray        *to_cancel,
                             GPtrArray        *jobs,
                             guint            *mask)
{
  if (flags & PMT_SHUTDOWN_CANCEL_QUEUED)
    {
      __atomic_store_n (&self->cancel_queued, TRUE, __ATOMIC_SEQ_CST);
      take_queued_locked (self, to_cancel, jobs, mask);
    }

  if (flags & PMT_SHUTDOWN_CANCEL_RUNNING)
    for (guint i = 0; i < self->workers->len; i++)
      _pmt_worker_collect_running (g_ptr_array_index (self->workers, i), to_cancel);
}

/**
 * pmt_pool_shutdown:
 * @self: a #PmtPool
 * @flags: what to cancel
 * @timeout_usec: how long to wait for the workers in microseconds:
 *   negative waits forever, 0 does not wait
 *
 * Shuts the pool down: it takes no more tasks
 * (%PMT_POOL_STATE_STOPPING), cancels what @flags say (in the calling
 * thread), lets its workers finish and waits for them to exit.  Without
 * %PMT_SHUTDOWN_CANCEL_QUEUED the queued tasks still run first.  Waiting
 * from one of the pool's own tasks would wait for itself: only a
 * @timeout_usec of 0 is allowed there.
 *
 * When it times out (tasks that ignore their cancellation, or that run
 * long), the pool goes on stopping and nothing is lost: the stragglers
 * end when their functions return.  #PmtPool:n-unfinished then says how
 * many tasks and jobs are left, #PmtPool:n-busy-workers how many workers
 * still run one, and the #PmtWorker:current-task of each worker (as
 * #PmtPool::worker-started handed them out) names the running ones.
 *
 * Returns: %TRUE when the pool stopped (%PMT_POOL_STATE_STOPPED): every
 *   task it accepted is done; %FALSE when it goes on stopping after the
 *   timeout
 */
gboolean
pmt_pool_shutdown (PmtPool          *self,
                   PmtShutdownFlags  flags,
                   gint64            timeout_usec)
{
  g_autoptr(GPtrArray) to_cancel = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) jobs = g_ptr_array_new ();
  gint64 deadline;
  guint mask = 0, n_start = 0;
  gboolean stopped;

  g_return_val_if_fail (PMT_IS_POOL (self), FALSE);
  g_return_val_if_fail (timeout_usec == 0 || !is_own_thread (self), FALSE);

  deadline = _pmt_deadline_from_timeout (timeout_usec);

  _pmt_pool_lock (self);
  if (self->state < PMT_POOL_STATE_STOPPING)
    {
      self->state = PMT_POOL_STATE_STOPPING;
      mask |= PMT_POOL_BIT (PMT_POOL_PROP_STATE);
    }
  collect_for_shutdown_locked (self, flags, to_cancel, jobs, &mask);
  n_start = reserve_workers_locked (self, &mask);
  _pmt_queue_wake_all_unlocked (self->queue);
  _pmt_pool_fire_helpers_locked (self);
  _pmt_pool_unlock (self);

  _pmt_pool_notify (self, mask);
  _pmt_pool_start_workers (self, n_start);
  for (guint i = 0; i < to_cancel->len; i++)
    pmt_task_cancel (g_ptr_array_index (to_cancel, i));
  for (guint i = 0; i < jobs->len; i++)
    _pmt_pool_run_job (self, g_ptr_array_index (jobs, i), NULL);

  mask = 0;
  _pmt_pool_lock (self);
  _pmt_pool_check_stopped_locked (self, &mask);
  while (self->state != PMT_POOL_STATE_STOPPED && timeout_usec != 0)
    if (!_pmt_cond_wait_until (&self->idle_cond, _pmt_queue_get_mutex (self->queue), deadline))
      break;
  stopped = self->state == PMT_POOL_STATE_STOPPED;
  _pmt_pool_unlock (self);

  _pmt_pool_notify (self, mask);
  if (stopped)
    _pmt_pool_notify_settled (self);

  return stopped;
}

/**
 * pmt_pool_join:
 * @self: a #PmtPool
 * @timeout_usec: how long to wait in all, in microseconds: negative
 *   waits forever, 0 only checks
 *
 * Waits for the work to complete, refusing new submissions from outside
 * meanwhile, then shuts the pool down with %PMT_SHUTDOWN_NONE, all within
 * @timeout_usec.
 *
 * Returns: %TRUE when the work completed and the pool stopped in time
 */
gboolean
pmt_pool_join (PmtPool *self,
               gint64   timeout_usec)
{
  gint64 deadline = _pmt_deadline_from_timeout (timeout_usec);
  gboolean completed;

  g_return_val_if_fail (PMT_IS_POOL (self), FALSE);

  completed = pmt_pool_wait_completion (self, timeout_usec, TRUE);

  return pmt_pool_shutdown (self, PMT_SHUTDOWN_NONE, _pmt_deadline_remaining (deadline)) &&
         completed;
}

/* Properties */

/**
 * pmt_pool_get_name:
 * @self: a #PmtPool
 *
 * Gets #PmtPool:name.
 *
 * Returns: the name of the pool
 */
const char *
pmt_pool_get_name (PmtPool *self)
{
  g_return_val_if_fail (PMT_IS_POOL (self), NULL);

  return self->name;
}

/**
 * pmt_pool_get_state:
 * @self: a #PmtPool
 *
 * Gets #PmtPool:state.
 *
 * Returns: the state of the pool
 */
PmtPoolState
pmt_pool_get_state (PmtPool *self)
{
  PmtPoolState value;

  g_return_val_if_fail (PMT_IS_POOL (self), PMT_POOL_STATE_STOPPED);

  _pmt_pool_lock (self);
  value = self->state;
  _pmt_pool_unlock (self);

  return value;
}

/**
 * pmt_pool_get_max_workers:
 * @self: a #PmtPool
 *
 * Gets #PmtPool:max-workers.
 *
 * Returns: the most workers the pool runs at once
 */
guint
pmt_pool_get_max_workers (PmtPool *self)
{
  guint value;

  g_return_val_if_fail (PMT_IS_POOL (self), 0);

  _pmt_pool_lock (self);
  value = self->max_workers;
  _pmt_pool_unlock (self);

  return value;
}

/**
 * pmt_pool_get_min_workers:
 * @self: a #PmtPool
 *
 * Gets #PmtPool:min-workers.
 *
 * Returns: how many workers the pool keeps
 */
guint
pmt_pool_get_min_workers (PmtPool *self)
{
  guint value;

  g_return_val_if_fail (PMT_IS_POOL (self), 0);

  _pmt_pool_lock (self);
  value = self->min_workers;
  _pmt_pool_unlock (self);

  return value;
}

/**
 * pmt_pool_get_idle_timeout:
 * @self: a #PmtPool
 *
 * Gets #PmtPool:idle-timeout.
 *
 * Returns: microseconds after which an idle worker above the minimum
 *   exits, or -1
 */
gint64
pmt_pool_get_idle_timeout (PmtPool *self)
{
  gint64 value;

  g_return_val_if_fail (PMT_IS_POOL (self), -1);

  _pmt_pool_lock (self);
  value = self->idle_timeout;
  _pmt_pool_unlock (self);

  return value;
}

/**
 * pmt_pool_get_n_workers:
 * @self: a #PmtPool
 *
 * Gets #PmtPool:n-workers.
 *
 * Returns: how many workers the pool has
 */
guint
pmt_pool_get_n_workers (PmtPool *self)
{
  g_return_val_if_fail (PMT_IS_POOL (self), 0);

  return read_counter (self, PMT_POOL_PROP_N_WORKERS);
}

/**
 * pmt_pool_get_n_busy_workers:
 * @self: a #PmtPool
 *
 * Gets #PmtPool:n-busy-workers.
 *
 * Returns: how many workers run a task or a job
 */
guint
pmt_pool_get_n_busy_workers (PmtPool *self)
{
  g_return_val_if_fail (PMT_IS_POOL (self), 0);

  return read_counter (self, PMT_POOL_PROP_N_BUSY_WORKERS);
}

/**
 * pmt_pool_get_n_queued:
 * @self: a #PmtPool
 *
 * Gets #PmtPool:n-queued.
 *
 * Returns: how many accepted tasks and jobs wait to start
 */
guint
pmt_pool_get_n_queued (PmtPool *self)
{
  g_return_val_if_fail (PMT_IS_POOL (self), 0);

  return read_counter (self, PMT_POOL_PROP_N_QUEUED);
}

/**
 * pmt_pool_get_n_unfinished:
 * @self: a #PmtPool
 *
 * Gets #PmtPool:n-unfinished.
 *
 * Returns: how many accepted tasks and jobs are not done
 */
guint
pmt_pool_get_n_unfinished (PmtPool *self)
{
  g_return_val_if_fail (PMT_IS_POOL (self), 0);

  return read_counter (self, PMT_POOL_PROP_N_UNFINISHED);
}

/**
 * pmt_pool_get_n_submitted:
 * @self: a #PmtPool
 *
 * Gets #PmtPool:n-submitted.
 *
 * Returns: how many tasks and jobs the pool accepted
 */
guint64
pmt_pool_get_n_submitted (PmtPool *self)
{
  g_return_val_if_fail (PMT_IS_POOL (self), 0);

  return read_counter (self, PMT_POOL_PROP_N_SUBMITTED);
}

/**
 * pmt_pool_get_n_succeeded:
 * @self: a #PmtPool
 *
 * Gets #PmtPool:n-succeeded.
 *
 * Returns: how many accepted tasks and jobs succeeded
 */
guint64
pmt_pool_get_n_succeeded (PmtPool *self)
{
  g_return_val_if_fail (PMT_IS_POOL (self), 0);

  return read_counter (self, PMT_POOL_PROP_N_SUCCEEDED);
}

/**
 * pmt_pool_get_n_failed:
 * @self: a #PmtPool
 *
 * Gets #PmtPool:n-failed.
 *
 * Returns: how many accepted tasks failed
 */
guint64
pmt_pool_get_n_failed (PmtPool *self)
{
  g_return_val_if_fail (PMT_IS_POOL (self), 0);

  return read_counter (self, PMT_POOL_PROP_N_FAILED);
}

/**
 * pmt_pool_get_n_cancelled:
 * @self: a #PmtPool
 *
 * Gets #PmtPool:n-cancelled.
 *
 * Returns: how many accepted tasks and jobs were cancelled
 */
guint64
pmt_pool_get_n_cancelled (PmtPool *self)
{
  g_return_val_if_fail (PMT_IS_POOL (self), 0);

  return read_counter (self, PMT_POOL_PROP_N_CANCELLED);
}

/**
 * pmt_pool_get_main_context:
 * @self: a #PmtPool
 *
 * Gets #PmtPool:main-context.
 *
 * Returns: (transfer none) (nullable): the pool's main context
 */
GMainContext *
pmt_pool_get_main_context (PmtPool *self)
{
  g_return_val_if_fail (PMT_IS_POOL (self), NULL);

  return self->main_context;
}

/**
 * pmt_pool_set_main_context:
 * @self: a #PmtPool
 * @context: (nullable): a #GMainContext
 *
 * Sets #PmtPool:main-context.  Only before the pool ran anything or
 * started a worker: it is read without locks afterwards.
 */
void
pmt_pool_set_main_context (PmtPool      *self,
                           GMainContext *context)
{
  GMainContext *old;
  gboolean allowed;

  g_return_if_fail (PMT_IS_POOL (self));

  _pmt_pool_lock (self);
  allowed = self->state == PMT_POOL_STATE_INACTIVE && self->n_workers == 0;
  old = self->main_context;
  if (allowed)
    self->main_context = context ? g_main_context_ref (context) : NULL;
  _pmt_pool_unlock (self);

  g_return_if_fail (allowed);

  if (old != NULL)
    g_main_context_unref (old);
  if (old != context)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PMT_POOL_PROP_MAIN_CONTEXT]);
}

/* Sets max-workers or min-workers: starts the workers now wanted, and
 * wakes the others, so that surplus ones exit. */
static void
set_worker_bound (PmtPool *self,
                  guint   *bound,
                  guint    value,
                  guint    prop)
{
  guint mask = 0, n_start;

  _pmt_pool_lock (self);
  if (*bound != value)
    mask |= PMT_POOL_BIT (prop);
  *bound = value;
  n_start = reserve_workers_locked (self, &mask);
  _pmt_queue_wake_all_unlocked (self->queue);
  _pmt_pool_unlock (self);

  _pmt_pool_notify (self, mask);
  _pmt_pool_start_workers (self, n_start);
}

/**
 * pmt_pool_set_max_workers:
 * @self: a #PmtPool
 * @max_workers: the most workers at once, or 0 for the number of
 *   processors
 *
 * Sets #PmtPool:max-workers, at any time: surplus workers exit after
 * their current task, and new ones start on demand.
 */
void
pmt_pool_set_max_workers (PmtPool *self,
                          guint    max_workers)
{
  g_return_if_fail (PMT_IS_POOL (self));

  if (max_workers == 0)
    max_workers = MAX (g_get_num_processors (), 1);

  set_worker_bound (self, &self->max_workers, max_workers, PMT_POOL_PROP_MAX_WORKERS);
}

/**
 * pmt_pool_set_min_workers:
 * @self: a #PmtPool
 * @min_workers: how many workers to keep
 *
 * Sets #PmtPool:min-workers and starts that many workers now (up to
 * #PmtPool:max-workers): PyMultiTasking's `prepopulate`.
 */
void
pmt_pool_set_min_workers (PmtPool *self,
                          guint    min_workers)
{
  g_return_if_fail (PMT_IS_POOL (self));

  set_worker_bound (self, &self->min_workers, min_workers, PMT_POOL_PROP_MIN_WORKERS);
}

/**
 * pmt_pool_set_idle_timeout:
 * @self: a #PmtPool
 * @idle_timeout_usec: microseconds, or -1 to keep idle workers
 *
 * Sets #PmtPool:idle-timeout.
 */
void
pmt_pool_set_idle_timeout (PmtPool *self,
                           gint64   idle_timeout_usec)
{
  gboolean changed;

  g_return_if_fail (PMT_IS_POOL (self));
  g_return_if_fail (idle_timeout_usec >= -1);

  _pmt_pool_lock (self);
  changed = self->idle_timeout != idle_timeout_usec;
  self->idle_timeout = idle_timeout_usec;
  _pmt_queue_wake_all_unlocked (self->queue);
  _pmt_pool_unlock (self);

  _pmt_pool_notify (self, changed ? PMT_POOL_BIT (PMT_POOL_PROP_IDLE_TIMEOUT) : 0);
}
