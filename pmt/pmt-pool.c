/* pmt-pool.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "pmt-command-task.h"
#include "pmt-deadline-private.h"
#include "pmt-enums.h"
#include "pmt-error.h"
#include "pmt-executor-private.h"
#include "pmt-i18n-private.h"
#include "pmt-main-context-private.h"
#include "pmt-pool-private.h"
#include "pmt-queue-private.h"
#include "pmt-task-private.h"
#include "pmt-thread-state-private.h"
#include "pmt-worker-private.h"

/**
 * SECTION:pmt-pool
 * @title: PmtPool
 * @short_description: Many workers, one priority queue
 *
 * A #PmtPool runs tasks on up to #PmtPool:max-workers threads, taking
 * them from one priority queue: lower #PmtTask:priority values run first,
 * equal priorities in submission order.  A push and a take cost O(log n).
 *
 * Workers start on demand while queued tasks outnumber idle workers;
 * #PmtPool:min-workers of them are started at once and kept (the seed's
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
 * deadlock.
 *
 * The monitoring properties (#PmtPool:n-queued and friends) emit
 * #GObject::notify after each change, without internal locks held: in
 * the thread that changed them, or, when the pool has a
 * #PmtPool:main-context, coalesced on that context (one emission per
 * property per main-loop iteration), which is what a GTK progress bar or
 * a GJS handler wants.  Read the property in the handler: GLib may fold
 * emissions from several threads together.
 *
 * Worker threads and unfinished tasks hold a reference on their pool: a
 * pool lives until it is shut down and released.  Every method may be
 * called from any thread.
 */

/* A run of items of one pmt_pool_map() call, taken by a worker at once.
 * Tagged in the queue by its lowest pointer bit. */
typedef struct
{
  guint n_tasks;
  PmtTask *tasks[];
} Chunk;

#define IS_CHUNK(job)   ((GPOINTER_TO_SIZE (job) & 3) == 1)
#define TO_CHUNK(job)   ((Chunk *)(GPOINTER_TO_SIZE (job) & ~(gsize)3))
#define FROM_CHUNK(c)   (GSIZE_TO_POINTER (GPOINTER_TO_SIZE (c) | 1))

/* A call queued by pmt_pool_execute(), with no task: the cheapest thing
 * a pool runs.  Tagged in the queue by its second pointer bit. */
typedef struct
{
  PmtJobFunc func;
  gpointer user_data;
  GDestroyNotify notify;
} Job;

#define IS_JOB(job)     ((GPOINTER_TO_SIZE (job) & 3) == 2)
#define TO_JOB(job)     ((Job *)(GPOINTER_TO_SIZE (job) & ~(gsize)3))
#define FROM_JOB(j)     (GSIZE_TO_POINTER (GPOINTER_TO_SIZE (j) | 2))

/* A worker takes the jobs that follow a job in the queue with it while
 * the queue holds several per worker (never more than its share, so no
 * worker sits on work another could run), and the tasks of a
 * pmt_pool_map() chunk together.  What it took and did not start is its
 * local work: it runs that before anything else, and so does a nested
 * wait in its thread, since no other thread can.
 *
 * The jobs a thread ended are counted at once when it runs out of local
 * work: the counters are shared by every thread, and touching them once
 * per job would cost more than the jobs.  A nested wait counts them first,
 * as it waits for the counters. */
#define JOB_BATCH_MAX 16

/* The pool's per-thread data (PmtThreadState.executor_data) of a thread
 * of its workers; on that thread's stack. */
typedef struct
{
  PmtWorker *worker;
  GQueue local;             /* tasks and tagged jobs, in order */
  guint n_succeeded;        /* jobs ended, not counted yet */
  guint n_cancelled;
  guint n_jobs;             /* jobs running in this thread, nested */
  guint n_parked;           /* own tasks parked by nested wait_completion() */
} PoolThread;

struct _PmtPool
{
  GObject parent_instance;
  PmtExecutor executor;     /* what the task layer sees of us */

  /* The queue's lock guards every field below but the name and the
   * atomic counters; no task lock is held when it is taken (tasks are
   * locked inside it). */
  PmtQueue *queue;
  GCond idle_cond;          /* shutdown() waits on it */
  GPtrArray *workers;
  GSList *helpers;          /* PmtSyncWaiter of own threads in nested waits */
  GSList *completion_waiters;  /* PmtSyncWaiter of others in wait_completion() */
  char *name;
  GError *init_error;       /* the name was in use: see pmt_pool_constructed() */
  GMainContext *main_context;

  gint64 idle_timeout;
  guint max_workers;
  guint min_workers;
  guint n_workers;          /* reserved, starting or running */
  guint n_starting;
  guint n_idle;
  guint n_busy;
  guint n_queued;           /* atomic */
  guint n_parked;           /* atomic: tasks of threads in a nested wait_completion() */
  guint n_blocking;
  guint worker_serial;
  guint64 n_submitted;

  /* Atomic, so that finishing tasks need no lock. */
  guint n_unfinished;
  guint64 n_succeeded;
  guint64 n_failed;
  guint64 n_cancelled;
  PmtPoolState state;
  gboolean cancel_queued;

  gint pending_notify;      /* property bits to emit on main_context */
};

enum {
  PROP_0,
  PROP_NAME,
  PROP_STATE,
  PROP_MAX_WORKERS,
  PROP_MIN_WORKERS,
  PROP_IDLE_TIMEOUT,
  PROP_MAIN_CONTEXT,
  PROP_N_WORKERS,
  PROP_N_BUSY_WORKERS,
  PROP_N_QUEUED,
  PROP_N_UNFINISHED,
  PROP_N_SUBMITTED,
  PROP_N_SUCCEEDED,
  PROP_N_FAILED,
  PROP_N_CANCELLED,
  N_PROPS
};

#define BIT(prop) (1u << (prop))

static void pmt_pool_initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (PmtPool, pmt_pool, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      pmt_pool_initable_iface_init))

#define POOL_FROM_EXECUTOR(e) ((PmtPool *) ((char *) (e) - G_STRUCT_OFFSET (PmtPool, executor)))

static GParamSpec *properties[N_PROPS];

static void     count_finished (PmtPool *self,
                                guint    n_succeeded,
                                guint    n_failed,
                                guint    n_cancelled,
                                guint    n_queued);

#define DEFAULT_IDLE_TIMEOUT (15 * G_USEC_PER_SEC)

/* The registry: name → weak reference, so it never keeps a pool alive and
 * a lookup never revives one being finalized. */
typedef struct
{
  GWeakRef ref;
  PmtPool *owner;
} RegistryEntry;

G_LOCK_DEFINE_STATIC (registry);
static GHashTable *registry;
static guint last_pool_serial;

static void
registry_entry_free (gpointer data)
{
  RegistryEntry *entry = data;

  g_weak_ref_clear (&entry->ref);
  g_free (entry);
}

static void start_workers (PmtPool *self,
                           guint    n_workers);

/* A pool leaves the registry when it stopped or is finalized, whichever
 * comes first: its name is free again for a new pool. */
static void
unregister_pool (PmtPool *self)
{
  G_LOCK (registry);
  if (registry != NULL)
    {
      RegistryEntry *entry = g_hash_table_lookup (registry, self->name);

      if (entry != NULL && entry->owner == self)
        g_hash_table_remove (registry, self->name);
    }
  G_UNLOCK (registry);
}

/* Notifies, coalesced on the main context if there is one. */
static gboolean
emit_pending_notify (gpointer data)
{
  PmtPool *self = data;
  guint mask = (guint)g_atomic_int_and (&self->pending_notify, 0);

  g_object_freeze_notify (G_OBJECT (self));
  for (guint prop = 1; prop < N_PROPS; prop++)
    if (mask & BIT (prop))
      g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
  g_object_thaw_notify (G_OBJECT (self));

  return G_SOURCE_REMOVE;
}

static void
notify_props (PmtPool *self,
              guint    mask)
{
  if (mask == 0)
    return;

  if (self->main_context != NULL)
    {
      if (g_atomic_int_or (&self->pending_notify, mask) == 0)
        _pmt_main_context_add_idle (self->main_context, "[pmt] pool notify",
                                    emit_pending_notify, g_object_ref (self), g_object_unref);
      return;
    }

  /* Cheap without handlers: GObject tests a flag and returns. */
  for (guint prop = 1; prop < N_PROPS; prop++)
    if (mask & BIT (prop))
      g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static void
lock (PmtPool *self)
{
  _pmt_queue_lock (self->queue);
}

static void
unlock (PmtPool *self)
{
  _pmt_queue_unlock (self->queue);
}

/* Wakes threads helping in nested waits, so they look at the queue and
 * their condition again. */
static void
fire_helpers_locked (PmtPool *self)
{
  _pmt_sync_waiters_fire (self->helpers);
}

/* This thread's pool data, if it is a thread of one of our workers. */
static PoolThread *
get_pool_thread (PmtPool *self)
{
  PmtThreadState *state = _pmt_thread_state_get ();

  if (state == NULL || state->executor != &self->executor)
    return NULL;

  return state->executor_data;
}

static gboolean
is_own_thread (PmtPool *self)
{
  return get_pool_thread (self) != NULL;
}

static gboolean
job_notify_idle (gpointer data)
{
  Job *job = data;

  job->notify (job->user_data);
  g_free (job);

  return G_SOURCE_REMOVE;
}

/* Lets go of a job's data: on the pool's main context when it has one,
 * like the closures of tasks. */
static void
release_job (PmtPool *self,
             Job     *job)
{
  if (job->notify != NULL && self->main_context != NULL)
    {
      _pmt_main_context_add_idle (self->main_context, "[pmt] job notify",
                                  job_notify_idle, job, NULL);
      return;
    }

  if (job->notify != NULL)
    job->notify (job->user_data);
  g_free (job);
}

/* Ends a job taken off the queue (and counted out of n-queued then),
 * running it unless the queue was cancelled meanwhile.  Counts it in
 * @thread, for count_thread_jobs(), or at once when @thread is NULL
 * (a shutdown ending jobs it cancelled). */
static void
run_pool_job (PmtPool    *self,
              Job        *job,
              PoolThread *thread)
{
  gboolean cancelled = __atomic_load_n (&self->cancel_queued, __ATOMIC_SEQ_CST);

  if (!cancelled)
    {
      /* Counted so that a wait_completion() inside does not wait for it. */
      if (thread != NULL)
        thread->n_jobs++;
      job->func (job->user_data);
      if (thread != NULL)
        thread->n_jobs--;
    }
  release_job (self, job);

  if (thread == NULL)
    count_finished (self, !cancelled, 0, cancelled, 0);
  else if (cancelled)
    thread->n_cancelled++;
  else
    thread->n_succeeded++;
}

/* Hands the jobs @thread ended to the pool's counters. */
static void
count_thread_jobs (PmtPool    *self,
                   PoolThread *thread)
{
  if (thread->n_succeeded + thread->n_cancelled == 0)
    return;

  count_finished (self, thread->n_succeeded, 0, thread->n_cancelled, 0);
  thread->n_succeeded = thread->n_cancelled = 0;
}

/* Pops the head of the queue with the lock held: a job leaves n-queued
 * now, tasks when they are claimed. */
static gpointer
pop_locked (PmtPool *self,
            guint   *mask)
{
  gpointer job = _pmt_queue_try_pop_unlocked (self->queue);

  if (job != NULL && IS_JOB (job))
    {
      __atomic_sub_fetch (&self->n_queued, 1, __ATOMIC_SEQ_CST);
      *mask |= BIT (PROP_N_QUEUED);
    }

  return job;
}

/* Takes the head of the queue for @thread to run, with the lock held.
 * The tasks of a chunk after its first become the thread's local work. */
static gpointer
take_locked (PmtPool    *self,
             PoolThread *thread,
             guint      *mask)
{
  gpointer job = pop_locked (self, mask);
  Chunk *chunk;

  if (job == NULL || !IS_CHUNK (job))
    return job;

  chunk = TO_CHUNK (job);
  job = chunk->tasks[0];
  for (guint i = 1; i < chunk->n_tasks; i++)
    g_queue_push_tail (&thread->local, chunk->tasks[i]);
  g_free (chunk);

  return job;
}

/* Only tasks cancelled in the queue can be left to free: jobs are
 * unfinished until taken. */
static void
free_job (gpointer job)
{
  g_assert (!IS_JOB (job));

  if (IS_CHUNK (job))
    {
      Chunk *chunk = TO_CHUNK (job);

      for (guint i = 0; i < chunk->n_tasks; i++)
        g_clear_object (&chunk->tasks[i]);
      g_free (chunk);
    }
  else
    g_object_unref (job);
}

/* STOPPING → STOPPED once no worker and no unfinished task is left. */
static void
check_stopped_locked (PmtPool *self,
                      guint   *mask)
{
  if (self->state != PMT_POOL_STATE_STOPPING || self->n_workers > 0 ||
      __atomic_load_n (&self->n_unfinished, __ATOMIC_SEQ_CST) > 0)
    return;

  self->state = PMT_POOL_STATE_STOPPED;
  *mask |= BIT (PROP_STATE);
  g_cond_broadcast (&self->idle_cond);
  unregister_pool (self);
}

/* How many workers to start now, reserved in n_workers: enough for
 * min-workers, and one more while queued tasks outnumber idle workers. */
static guint
reserve_workers_locked (PmtPool *self,
                        guint   *mask)
{
  guint min_workers = self->min_workers;
  guint n = 0;

  /* A stopping pool starts workers only for tasks still queued. */
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
    *mask |= BIT (PROP_N_WORKERS);

  return n;
}

static void
worker_exit_locked (PmtPool   *self,
                    PmtWorker *worker,
                    guint     *mask)
{
  self->n_workers--;
  g_ptr_array_remove_fast (self->workers, worker);
  *mask |= BIT (PROP_N_WORKERS);
  check_stopped_locked (self, mask);
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
  notify_props (self, BIT (PROP_N_QUEUED));

  return TRUE;
}

/* Runs what @thread took: a task (a reference, which this drops) or a
 * tagged job. */
static void
run_item (PmtPool    *self,
          PoolThread *thread,
          gpointer    item)
{
  if (IS_JOB (item))
    {
      run_pool_job (self, TO_JOB (item), thread);
      return;
    }

  if (claim (self, thread->worker, item))
    _pmt_worker_run_claimed (thread->worker, item);
  g_object_unref (item);
}

/* With the lock held, after @thread took a job: takes the jobs that
 * follow it in the queue, up to a fair share, into its local work. */
static void
batch_jobs_locked (PmtPool    *self,
                   PoolThread *thread,
                   guint      *mask)
{
  guint share = _pmt_queue_length_unlocked (self->queue) / (2 * MAX (self->n_workers, 1));
  guint n = 0;

  while (n < MIN (share, JOB_BATCH_MAX - 1))
    {
      gpointer head = _pmt_queue_peek_unlocked (self->queue);

      if (head == NULL || !IS_JOB (head))
        break;
      g_queue_push_tail (&thread->local, _pmt_queue_try_pop_unlocked (self->queue));
      n++;
    }

  if (n > 0)
    {
      __atomic_sub_fetch (&self->n_queued, n, __ATOMIC_SEQ_CST);
      *mask |= BIT (PROP_N_QUEUED);
    }
}

/* Blocks until there is work for @thread and takes it; returns NULL when
 * the worker must exit instead (stopped, surplus, idle too long, or the
 * pool is stopping and has nothing left), having accounted for its
 * exit. */
static gpointer
next_item_locked (PmtPool    *self,
                  PoolThread *thread,
                  guint      *mask)
{
  gint64 deadline = PMT_DEADLINE_NEVER;
  gboolean counting = FALSE;

  for (;;)
    {
      gboolean above_min, timed_out;
      gpointer item;

      if (_pmt_worker_is_stopping (thread->worker) || self->n_workers > self->max_workers)
        break;
      if ((item = take_locked (self, thread, mask)) != NULL)
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

  worker_exit_locked (self, thread->worker, mask);
  return NULL;
}

void
_pmt_pool_worker_main (PmtPool   *self,
                       PmtWorker *worker)
{
  PoolThread thread = { worker, G_QUEUE_INIT, 0, 0, 0, 0 };
  PmtThreadState *state = _pmt_thread_state_get ();
  guint mask = 0;

  lock (self);
  self->n_starting--;
  unlock (self);

  state->executor = &self->executor;
  state->executor_data = &thread;

  for (gboolean was_busy = FALSE;;)
    {
      guint n_start = 0;
      gpointer item;

      if ((item = g_queue_pop_head (&thread.local)) != NULL)
        {
          run_item (self, &thread, item);
          continue;
        }
      count_thread_jobs (self, &thread);

      /* Busy from one item to the next without a change to announce. */
      lock (self);
      item = next_item_locked (self, &thread, &mask);
      if (item != NULL && IS_JOB (item))
        batch_jobs_locked (self, &thread, &mask);
      if ((item != NULL) != was_busy)
        {
          self->n_busy += item != NULL ? 1 : -1;
          mask |= BIT (PROP_N_BUSY_WORKERS);
        }
      if (item == NULL)
        n_start = reserve_workers_locked (self, &mask);
      unlock (self);
      notify_props (self, mask);
      mask = 0;

      if (item == NULL)
        {
          state->executor = NULL;
          state->executor_data = NULL;
          /* Replaces a worker stopped by hand while tasks wait. */
          start_workers (self, n_start);
          return;
        }

      run_item (self, &thread, item);
      was_busy = TRUE;
    }
}

static void
start_workers (PmtPool *self,
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
      worker = _pmt_worker_new_for_pool (self, name);

      lock (self);
      g_ptr_array_add (self->workers, g_object_ref (worker));
      unlock (self);

      if (_pmt_worker_start (worker, &error))
        continue;

      g_warning ("Pool “%s” could not start a worker: %s", self->name, error->message);
      lock (self);
      self->n_starting--;
      worker_exit_locked (self, worker, &mask);
      unlock (self);
      notify_props (self, mask);
    }
}

void
_pmt_pool_wake_workers (PmtPool *self)
{
  lock (self);
  _pmt_queue_wake_all_unlocked (self->queue);
  fire_helpers_locked (self);
  unlock (self);
}

/* Counts finished work, of which @n_queued was still counted as queued
 * (tasks cancelled in the queue).  Wakes whoever waits for the counters,
 * and drops the reference the unfinished work held. */
static void
count_finished (PmtPool *self,
                guint    n_succeeded,
                guint    n_failed,
                guint    n_cancelled,
                guint    n_queued)
{
  guint n = n_succeeded + n_failed + n_cancelled;
  guint mask = BIT (PROP_N_UNFINISHED);
  guint n_unfinished;

  if (n_queued > 0)
    {
      __atomic_sub_fetch (&self->n_queued, n_queued, __ATOMIC_SEQ_CST);
      mask |= BIT (PROP_N_QUEUED);
    }
  if (n_succeeded > 0)
    {
      __atomic_add_fetch (&self->n_succeeded, n_succeeded, __ATOMIC_SEQ_CST);
      mask |= BIT (PROP_N_SUCCEEDED);
    }
  if (n_failed > 0)
    {
      __atomic_add_fetch (&self->n_failed, n_failed, __ATOMIC_SEQ_CST);
      mask |= BIT (PROP_N_FAILED);
    }
  if (n_cancelled > 0)
    {
      __atomic_add_fetch (&self->n_cancelled, n_cancelled, __ATOMIC_SEQ_CST);
      mask |= BIT (PROP_N_CANCELLED);
    }
  n_unfinished = __atomic_sub_fetch (&self->n_unfinished, n, __ATOMIC_SEQ_CST);

  /* Whoever waits for the work to complete, or for the pool to stop,
   * waits for n-unfinished to reach n-parked (usually 0).  Pairs with
   * them raising n-parked before they test n-unfinished under the lock:
   * either they see our decrement, or we see their n-parked. */
  if (n_unfinished <= __atomic_load_n (&self->n_parked, __ATOMIC_SEQ_CST))
    {
      lock (self);
      fire_helpers_locked (self);
      _pmt_sync_waiters_fire (self->completion_waiters);
      check_stopped_locked (self, &mask);
      unlock (self);
    }

  notify_props (self, mask);

  if (n_unfinished == 0)
    g_object_unref (self);
}

static void
pool_task_finished (PmtExecutor  *executor,
                    PmtTaskState  state,
                    gboolean      dequeued)
{
  PmtPool *self = POOL_FROM_EXECUTOR (executor);
  /* Cancelled in the queue: it leaves n-queued only now. */
  guint n_queued = dequeued ? 0 : 1;

  switch (state)
    {
    case PMT_TASK_STATE_SUCCEEDED:
      count_finished (self, 1, 0, 0, n_queued);
      break;

    case PMT_TASK_STATE_FAILED:
      count_finished (self, 0, 1, 0, n_queued);
      break;

    case PMT_TASK_STATE_CANCELLED:
    default:
      count_finished (self, 0, 0, 1, n_queued);
      break;
    }
}

/* The one helping mechanism: every wait in one of our threads ends up
 * here (see _pmt_wait_until()).  Runs the thread's local work first,
 * which nobody else can run, then the queue, until @done holds or
 * @deadline passes.  @waiter is fired by pushes, by the pool's counters
 * reaching a waited-for value, and by whatever the caller registered it
 * on. */
static gboolean
pool_help_until (PmtExecutor     *executor,
                 PmtSyncWaiter   *waiter,
                 PmtWaitDoneFunc  done,
                 gpointer         data,
                 gint64           deadline)
{
  PmtPool *self = POOL_FROM_EXECUTOR (executor);
  PoolThread *thread = get_pool_thread (self);
  gboolean ret;

  g_assert (thread != NULL);

  lock (self);
  self->helpers = g_slist_prepend (self->helpers, waiter);

  for (;;)
    {
      guint mask = 0;
      gpointer item;

      if ((ret = done (data)))
        break;

      if ((item = g_queue_pop_head (&thread->local)) == NULL)
        item = take_locked (self, thread, &mask);
      unlock (self);
      notify_props (self, mask);

      if (item != NULL)
        {
          run_item (self, thread, item);
          /* Whatever waits may wait for these counters. */
          count_thread_jobs (self, thread);
        }
      else if (!_pmt_sync_waiter_wait (waiter, deadline))
        {
          lock (self);
          ret = done (data);
          break;
        }

      lock (self);
    }

  self->helpers = g_slist_remove (self->helpers, waiter);
  unlock (self);

  return ret;
}

static const PmtExecutorVTable pool_executor_vtable = {
  pool_help_until,
  pool_task_finished,
};

static void
pmt_pool_finalize (GObject *object)
{
  PmtPool *self = (PmtPool *)object;
  gpointer job;

  unregister_pool (self);

  /* Workers and unfinished tasks hold references: only tasks cancelled in
   * the queue can be left, already counted. */
  g_assert (self->n_workers == 0);
  g_assert (__atomic_load_n (&self->n_unfinished, __ATOMIC_SEQ_CST) == 0);
  while ((job = _pmt_queue_try_pop (self->queue)) != NULL)
    free_job (job);

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

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;

    case PROP_STATE:
      g_value_set_enum (value, pmt_pool_get_state (self));
      break;

    case PROP_MAX_WORKERS:
      g_value_set_uint (value, pmt_pool_get_max_workers (self));
      break;

    case PROP_MIN_WORKERS:
      g_value_set_uint (value, pmt_pool_get_min_workers (self));
      break;

    case PROP_IDLE_TIMEOUT:
      g_value_set_int64 (value, pmt_pool_get_idle_timeout (self));
      break;

    case PROP_MAIN_CONTEXT:
      g_value_set_boxed (value, pmt_pool_get_main_context (self));
      break;

    case PROP_N_WORKERS:
      g_value_set_uint (value, pmt_pool_get_n_workers (self));
      break;

    case PROP_N_BUSY_WORKERS:
      g_value_set_uint (value, pmt_pool_get_n_busy_workers (self));
      break;

    case PROP_N_QUEUED:
      g_value_set_uint (value, pmt_pool_get_n_queued (self));
      break;

    case PROP_N_UNFINISHED:
      g_value_set_uint (value, pmt_pool_get_n_unfinished (self));
      break;

    case PROP_N_SUBMITTED:
      g_value_set_uint64 (value, pmt_pool_get_n_submitted (self));
      break;

    case PROP_N_SUCCEEDED:
      g_value_set_uint64 (value, pmt_pool_get_n_succeeded (self));
      break;

    case PROP_N_FAILED:
      g_value_set_uint64 (value, pmt_pool_get_n_failed (self));
      break;

    case PROP_N_CANCELLED:
      g_value_set_uint64 (value, pmt_pool_get_n_cancelled (self));
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
    case PROP_NAME:
      self->name = g_value_dup_string (value);
      break;

    case PROP_MAX_WORKERS:
      pmt_pool_set_max_workers (self, g_value_get_uint (value));
      break;

    case PROP_MIN_WORKERS:
      pmt_pool_set_min_workers (self, g_value_get_uint (value));
      break;

    case PROP_IDLE_TIMEOUT:
      pmt_pool_set_idle_timeout (self, g_value_get_int64 (value));
      break;

    case PROP_MAIN_CONTEXT:
      pmt_pool_set_main_context (self, g_value_get_boxed (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static gboolean register_pool (PmtPool  *self,
                               GError  **error);

/* Registering here, not in pmt_pool_new(), gives a pool made from
 * properties (as every binding makes it) the same guarantees: a name in
 * the registry, or a clash reported, by GInitable and by every submission
 * (the pool takes no work). */
static void
pmt_pool_constructed (GObject *object)
{
  PmtPool *self = (PmtPool *)object;

  G_OBJECT_CLASS (pmt_pool_parent_class)->constructed (object);

  if (self->name != NULL)
    {
      register_pool (self, &self->init_error);
      return;
    }

  /* Generated names may collide with names users chose: make another. */
  do
    {
      g_free (self->name);
      self->name = g_strdup_printf ("pmt-pool-%u",
                                    __atomic_add_fetch (&last_pool_serial, 1, __ATOMIC_RELAXED));
    }
  while (!register_pool (self, NULL));
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

static GParamSpec *
counter_pspec (const char *name,
               gboolean    wide)
{
  if (wide)
    return g_param_spec_uint64 (name, NULL, NULL, 0, G_MAXUINT64, 0,
                                G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  return g_param_spec_uint (name, NULL, NULL, 0, G_MAXUINT, 0,
                            G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
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
   * The name of the pool in the registry, unique in the process.
   */
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * PmtPool:state:
   *
   * Whether the pool has not run anything yet, runs, stops or stopped.
   */
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       PMT_TYPE_POOL_STATE, PMT_POOL_STATE_INACTIVE,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * PmtPool:max-workers:
   *
   * The most workers the pool runs at once.  Changeable at any time:
   * surplus workers exit after their current task.
   */
  properties[PROP_MAX_WORKERS] =
    g_param_spec_uint ("max-workers", NULL, NULL,
                       1, G_MAXUINT, 1,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * PmtPool:min-workers:
   *
   * Workers started at once and kept even when idle (the seed's
   * `prepopulate`), up to #PmtPool:max-workers.
   */
  properties[PROP_MIN_WORKERS] =
    g_param_spec_uint ("min-workers", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * PmtPool:idle-timeout:
   *
   * Microseconds after which an idle worker above #PmtPool:min-workers
   * exits, or -1 to keep them.
   */
  properties[PROP_IDLE_TIMEOUT] =
    g_param_spec_int64 ("idle-timeout", NULL, NULL,
                        -1, G_MAXINT64, DEFAULT_IDLE_TIMEOUT,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * PmtPool:main-context:
   *
   * The #PmtTask:main-context given to tasks pushed without one, and the
   * context the monitoring properties notify on, coalesced.  Settable
   * only before the pool runs anything.
   */
  properties[PROP_MAIN_CONTEXT] =
    g_param_spec_boxed ("main-context", NULL, NULL,
                        G_TYPE_MAIN_CONTEXT,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * PmtPool:n-workers:
   *
   * How many workers the pool has, starting ones included.
   */
  properties[PROP_N_WORKERS] = counter_pspec ("n-workers", FALSE);

  /**
   * PmtPool:n-busy-workers:
   *
   * How many workers run a task.
   */
  properties[PROP_N_BUSY_WORKERS] = counter_pspec ("n-busy-workers", FALSE);

  /**
   * PmtPool:n-queued:
   *
   * How many accepted tasks wait to start (cancelled ones excluded).
   */
  properties[PROP_N_QUEUED] = counter_pspec ("n-queued", FALSE);

  /**
   * PmtPool:n-unfinished:
   *
   * How many accepted tasks have not reached a terminal state.
   */
  properties[PROP_N_UNFINISHED] = counter_pspec ("n-unfinished", FALSE);

  /**
   * PmtPool:n-submitted:
   *
   * How many tasks the pool accepted.
   */
  properties[PROP_N_SUBMITTED] = counter_pspec ("n-submitted", TRUE);

  /**
   * PmtPool:n-succeeded:
   *
   * How many accepted tasks succeeded.
   */
  properties[PROP_N_SUCCEEDED] = counter_pspec ("n-succeeded", TRUE);

  /**
   * PmtPool:n-failed:
   *
   * How many accepted tasks failed.
   */
  properties[PROP_N_FAILED] = counter_pspec ("n-failed", TRUE);

  /**
   * PmtPool:n-cancelled:
   *
   * How many accepted tasks were cancelled.
   */
  properties[PROP_N_CANCELLED] = counter_pspec ("n-cancelled", TRUE);

  g_object_class_install_properties (object_class, N_PROPS, properties);

}

static void
pmt_pool_init (PmtPool *self)
{
  self->executor.vtable = &pool_executor_vtable;
  self->queue = _pmt_queue_new ();
  g_cond_init (&self->idle_cond);
  self->workers = g_ptr_array_new_with_free_func (g_object_unref);
  self->max_workers = 1;
  self->idle_timeout = DEFAULT_IDLE_TIMEOUT;
  self->state = PMT_POOL_STATE_INACTIVE;
}

/* Takes the pool's name in the registry, unless a live pool has it. */
static gboolean
register_pool (PmtPool  *self,
               GError  **error)
{
  RegistryEntry *entry;
  PmtPool *other;

  G_LOCK (registry);
  if (registry == NULL)
    registry = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, registry_entry_free);

  entry = g_hash_table_lookup (registry, self->name);
  other = entry != NULL ? g_weak_ref_get (&entry->ref) : NULL;
  if (other == NULL)
    {
      entry = g_new0 (RegistryEntry, 1);
      g_weak_ref_init (&entry->ref, self);
      entry->owner = self;
      g_hash_table_replace (registry, g_strdup (self->name), entry);
    }
  G_UNLOCK (registry);

  if (other == NULL)
    return TRUE;

  g_object_unref (other);
  g_set_error (error, PMT_ERROR, PMT_ERROR_NAME_IN_USE,
               _("A pool named “%s” exists already"), self->name);
  return FALSE;
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
 * pmt_pool_lookup:
 * @name: a pool name
 *
 * Finds a pool by name: the seed's `get_pool_by_name`.
 *
 * Returns: (transfer full) (nullable): the pool, or %NULL
 */
PmtPool *
pmt_pool_lookup (const char *name)
{
  PmtPool *pool = NULL;

  g_return_val_if_fail (name != NULL, NULL);

  G_LOCK (registry);
  if (registry != NULL)
    {
      RegistryEntry *entry = g_hash_table_lookup (registry, name);

      if (entry != NULL)
        pool = g_weak_ref_get (&entry->ref);
    }
  G_UNLOCK (registry);

  return pool;
}

static gint
compare_pool_names (gconstpointer a,
                    gconstpointer b)
{
  return g_strcmp0 (((PmtPool *)a)->name, ((PmtPool *)b)->name);
}

/**
 * pmt_pool_list_pools:
 *
 * Lists the registered pools (the seed's `get_pools`), by name.
 *
 * Returns: (transfer full) (element-type PmtPool): the pools; free with
 *   `g_list_free_full (pools, g_object_unref)`
 */
GList *
pmt_pool_list_pools (void)
{
  GHashTableIter iter;
  RegistryEntry *entry;
  GList *pools = NULL;

  G_LOCK (registry);
  if (registry != NULL)
    {
      g_hash_table_iter_init (&iter, registry);
      while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&entry))
        {
          PmtPool *pool = g_weak_ref_get (&entry->ref);

          if (pool != NULL)
            pools = g_list_prepend (pools, pool);
        }
    }
  G_UNLOCK (registry);

  return g_list_sort (pools, compare_pool_names);
}

/**
 * pmt_pool_join_all:
 * @timeout_usec: how long to wait in all, in microseconds: negative
 *   waits forever, 0 only checks
 *
 * Joins every registered pool (the seed's `join_pools`): see
 * pmt_pool_join().
 *
 * Returns: %TRUE when every pool completed its work and stopped in time
 */
gboolean
pmt_pool_join_all (gint64 timeout_usec)
{
  gint64 deadline = _pmt_deadline_from_timeout (timeout_usec);
  GList *pools = pmt_pool_list_pools ();
  gboolean ok = TRUE;

  for (GList *l = pools; l != NULL; l = l->next)
    ok &= pmt_pool_join (l->data, _pmt_deadline_remaining (deadline));
  g_list_free_full (pools, g_object_unref);

  return ok;
}

static gboolean
accepting_locked (PmtPool  *self,
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

/* Counts @n_tasks accepted tasks; the caller queued them. */
static void
count_accepted_locked (PmtPool *self,
                       guint    n_tasks,
                       guint   *mask)
{
  self->n_submitted += n_tasks;
  __atomic_add_fetch (&self->n_queued, n_tasks, __ATOMIC_SEQ_CST);
  /* Unfinished tasks keep their pool alive, through one reference. */
  if (__atomic_add_fetch (&self->n_unfinished, n_tasks, __ATOMIC_SEQ_CST) == n_tasks)
    g_object_ref (self);
  *mask |= BIT (PROP_N_SUBMITTED) | BIT (PROP_N_QUEUED) | BIT (PROP_N_UNFINISHED);

  if (self->state == PMT_POOL_STATE_INACTIVE)
    {
      self->state = PMT_POOL_STATE_ACTIVE;
      *mask |= BIT (PROP_STATE);
    }

  fire_helpers_locked (self);
}

static gboolean
mark_queued_locked (PmtPool  *self,
                    PmtTask  *task,
                    gint     *priority,
                    GError  **error)
{
  switch (_pmt_task_mark_queued (task, &self->executor, self->main_context, priority))
    {
    case PMT_TASK_ENQUEUE_OK:
      return TRUE;

    case PMT_TASK_ENQUEUE_CANCELLED:
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("The task was cancelled"));
      return FALSE;

    case PMT_TASK_ENQUEUE_NOT_PENDING:
    default:
      g_critical ("pmt_pool_push: task %" G_GUINT64_FORMAT " was submitted already",
                  pmt_task_get_id (task));
      return FALSE;
    }
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
  guint mask = 0, n_start = 0;
  gboolean accepted;
  gint priority;

  g_return_val_if_fail (PMT_IS_POOL (self), FALSE);
  g_return_val_if_fail (PMT_IS_TASK (task), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  lock (self);
  accepted = accepting_locked (self, error) && mark_queued_locked (self, task, &priority, error);
  if (accepted)
    {
      _pmt_queue_push_unlocked (self->queue, g_object_ref (task), priority);
      count_accepted_locked (self, 1, &mask);
      n_start = reserve_workers_locked (self, &mask);
    }
  unlock (self);

  notify_props (self, mask);
  start_workers (self, n_start);

  return accepted;
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
 * pmt_pool_execute_full:
 * @self: a #PmtPool
 * @priority: the priority of the job; lower runs first
 * @func: (scope notified) (closure user_data) (destroy notify): the work
 * @user_data: data for @func
 * @notify: (nullable): frees @user_data
 * @error: return location for a #GError
 *
 * Queues a job: a call of @func with no #PmtTask, the pool's counterpart
 * of g_thread_pool_push().  Use it for work whose outcome travels through
 * @user_data, when nobody waits for that one call.  Without a task object
 * to make, hand to a worker and release, a job costs a fraction of what a
 * task costs (tests/bench/bench-pool.c measures both).
 *
 * A job takes its turn in the queue by @priority, among the tasks, and
 * counts like a task in the monitoring properties: it succeeds once
 * @func returns.  pmt_pool_wait_completion() waits for it, and nested
 * waits run it.  A running job cannot be cancelled, and its worker
 * reports no #PmtWorker:current-task.
 *
 * While many jobs wait, a worker may take several that follow each other
 * in the queue at once (never more than its share), and runs them in
 * order: a job leaves #PmtPool:n-queued when a worker takes it, and the
 * counters of finished work take a worker's jobs together when it is done
 * with them.  A shutdown with %PMT_SHUTDOWN_CANCEL_QUEUED cancels the jobs
 * not started yet, queued or taken: their @func never runs.
 *
 * @notify runs once, after @func or instead of it, on the pool's
 * #PmtPool:main-context when it has one; when the job is refused, it runs
 * before this returns %FALSE.
 *
 * Returns: %TRUE when the pool accepted the job
 */
gboolean
pmt_pool_execute_full (PmtPool         *self,
                       gint             priority,
                       PmtJobFunc       func,
                       gpointer         user_data,
                       GDestroyNotify   notify,
                       GError         **error)
{
  guint mask = 0, n_start = 0;
  gboolean accepted;
  Job *job;

  g_return_val_if_fail (PMT_IS_POOL (self), FALSE);
  g_return_val_if_fail (func != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  job = g_new (Job, 1);
  job->func = func;
  job->user_data = user_data;
  job->notify = notify;

  lock (self);
  accepted = accepting_locked (self, error);
  if (accepted)
    {
      _pmt_queue_push_unlocked (self->queue, FROM_JOB (job), priority);
      count_accepted_locked (self, 1, &mask);
      n_start = reserve_workers_locked (self, &mask);
    }
  unlock (self);

  if (!accepted)
    {
      if (notify != NULL)
        notify (user_data);
      g_free (job);
      return FALSE;
    }

  notify_props (self, mask);
  start_workers (self, n_start);

  return TRUE;
}

/**
 * pmt_pool_execute:
 * @self: a #PmtPool
 * @func: (scope notified) (closure user_data) (destroy notify): the work
 * @user_data: data for @func
 * @notify: (nullable): frees @user_data
 * @error: return location for a #GError
 *
 * Queues a job with the default priority; see pmt_pool_execute_full().
 *
 * Returns: %TRUE when the pool accepted the job
 */
gboolean
pmt_pool_execute (PmtPool         *self,
                  PmtJobFunc       func,
                  gpointer         user_data,
                  GDestroyNotify   notify,
                  GError         **error)
{
  return pmt_pool_execute_full (self, G_PRIORITY_DEFAULT, func, user_data, notify, error);
}

/**
 * pmt_pool_submit_command:
 * @self: a #PmtPool
 * @priority: the priority of the task; lower runs first
 * @argv: (array zero-terminated=1): the command and its arguments
 * @error: return location for a #GError
 *
 * Creates a command task (see pmt_task_new_command()) with @priority and
 * pushes it, as pmt_pool_push() does.
 *
 * Returns: (transfer full) (nullable) (type PmtCommandTask): the task, or
 *   %NULL when refused
 */
PmtTask *
pmt_pool_submit_command (PmtPool             *self,
                         gint                 priority,
                         const char * const  *argv,
                         GError             **error)
{
  g_autoptr(PmtTask) task = NULL;

  g_return_val_if_fail (PMT_IS_POOL (self), NULL);
  g_return_val_if_fail (argv != NULL && argv[0] != NULL, NULL);

  task = pmt_task_new_command (argv);
  pmt_task_set_priority (task, priority);

  if (!pmt_pool_push (self, task, error))
    return NULL;

  return g_steal_pointer (&task);
}

/* Every task holds the closure: @notify runs once, when the last one
 * lets go of it. */
static GPtrArray *
new_map_tasks (PmtTaskFunc     func,
               gpointer        user_data,
               GDestroyNotify  notify,
               gpointer       *items,
               guint           n_items)
{
  GPtrArray *tasks = g_ptr_array_new_full (n_items, g_object_unref);
  PmtTaskClosure *closure = _pmt_task_closure_new (func, user_data, notify);

  for (guint i = 0; i < n_items; i++)
    {
      PmtTask *task = _pmt_task_new_from_closure (closure);

      pmt_task_set_task_data (task, items[i], NULL);
      g_ptr_array_add (tasks, task);
    }
  _pmt_task_closure_unref (closure);

  return tasks;
}

/* Queues the tasks in chunks of @chunk_size; all or none. */
static gboolean
push_chunks_locked (PmtPool    *self,
                    GPtrArray  *tasks,
                    guint       chunk_size,
                    GError    **error)
{
  for (guint i = 0; i < tasks->len; i++)
    if (!mark_queued_locked (self, g_ptr_array_index (tasks, i), NULL, error))
      {
        while (i-- > 0)
          _pmt_task_unmark_queued (g_ptr_array_index (tasks, i));
        return FALSE;
      }

  for (guint first = 0; first < tasks->len; first += chunk_size)
    {
      guint n = MIN (chunk_size, tasks->len - first);
      Chunk *chunk = g_malloc (sizeof (Chunk) + n * sizeof (PmtTask *));

      chunk->n_tasks = n;
      for (guint i = 0; i < n; i++)
        chunk->tasks[i] = g_object_ref (g_ptr_array_index (tasks, first + i));
      _pmt_queue_push_unlocked (self->queue, FROM_CHUNK (chunk), G_PRIORITY_DEFAULT);
    }

  return TRUE;
}

/**
 * pmt_pool_map: (skip)
 * @self: a #PmtPool
 * @func: (scope notified) (closure user_data) (destroy notify): the work,
 *   called once per item
 * @user_data: data for @func
 * @notify: (nullable): frees @user_data once every task let go of @func
 * @items: (array length=n_items): the items
 * @n_items: the number of @items
 * @chunk_size: how many items a worker takes from the queue at once, or
 *   0 to spread them evenly over #PmtPool:max-workers
 * @error: return location for a #GError
 *
 * Submits one task per item, with the default priority; each task's
 * #PmtTask:task-data is its item, for @func to read with
 * pmt_task_get_task_data().  Chunks only change how the items travel
 * through the queue: every item has its own task, result and error.
 * Bindings, which cannot hand over raw pointers, map their own items with
 * pmt_pool_submit().
 *
 * Returns: (transfer container) (element-type PmtTask) (nullable): the
 *   tasks in the order of @items, or %NULL when refused (then nothing was
 *   submitted)
 */
GPtrArray *
pmt_pool_map (PmtPool         *self,
              PmtTaskFunc      func,
              gpointer         user_data,
              GDestroyNotify   notify,
              gpointer        *items,
              guint            n_items,
              guint            chunk_size,
              GError         **error)
{
  g_autoptr(GPtrArray) tasks = NULL;
  guint mask = 0, n_start = 0;
  gboolean accepted;

  g_return_val_if_fail (PMT_IS_POOL (self), NULL);
  g_return_val_if_fail (func != NULL, NULL);
  g_return_val_if_fail (items != NULL || n_items == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  tasks = new_map_tasks (func, user_data, notify, items, n_items);

  lock (self);
  if (chunk_size == 0)
    chunk_size = MAX (1, (n_items + self->max_workers - 1) / self->max_workers);
  accepted = accepting_locked (self, error) && push_chunks_locked (self, tasks, chunk_size, error);
  if (accepted && n_items > 0)
    {
      count_accepted_locked (self, n_items, &mask);
      n_start = reserve_workers_locked (self, &mask);
      /* One more each while chunks outnumber idle workers. */
      while (n_start < (n_items + chunk_size - 1) / chunk_size &&
             self->n_workers < self->max_workers)
        {
          self->n_workers++;
          self->n_starting++;
          n_start++;
        }
    }
  unlock (self);

  notify_props (self, mask);
  start_workers (self, n_start);

  return accepted ? g_steal_pointer (&tasks) : NULL;
}

/**
 * pmt_pool_as_completed:
 * @tasks: (array length=n_tasks): tasks, from any pool or worker
 * @n_tasks: the number of @tasks
 *
 * Makes a completion queue holding @tasks, to take them in the order
 * they finish: the seed's `Pool.as_completed()`.
 *
 * Returns: (transfer full): a new #PmtCompletionQueue
 */
PmtCompletionQueue *
pmt_pool_as_completed (PmtTask **tasks,
                       guint     n_tasks)
{
  PmtCompletionQueue *queue;

  g_return_val_if_fail (tasks != NULL || n_tasks == 0, NULL);

  queue = pmt_completion_queue_new ();
  for (guint i = 0; i < n_tasks; i++)
    pmt_completion_queue_add (queue, tasks[i]);

  return queue;
}

/* PmtWaitDoneFuncs, called with whatever lock: they read atomics only. */
static gboolean
completion_done (gpointer data)
{
  PmtPool *self = data;

  return __atomic_load_n (&self->n_unfinished, __ATOMIC_SEQ_CST) <=
         __atomic_load_n (&self->n_parked, __ATOMIC_SEQ_CST);
}

/* Outside the pool, nothing is left out: the tasks parked in nested waits
 * end as soon as those waits are over, and count then. */
static gboolean
all_done (gpointer data)
{
  PmtPool *self = data;

  return __atomic_load_n (&self->n_unfinished, __ATOMIC_SEQ_CST) == 0;
}

/**
 * pmt_pool_wait_completion:
 * @self: a #PmtPool
 * @timeout_usec: how long to wait in microseconds: negative waits
 *   forever, 0 only checks
 * @block: whether to refuse submissions from outside the pool meanwhile
 *
 * Waits until every task and job the pool accepted is done.  With @block,
 * other threads' submissions are refused with %PMT_ERROR_BLOCKED while it
 * waits; tasks running in the pool may still submit sub-tasks, and the
 * wait covers them.  Called from one of the pool's tasks or jobs, it runs
 * queued ones meanwhile, and waits for all but those that wait in
 * pmt_pool_wait_completion() themselves (its own among them): they end
 * once their waits are over.
 *
 * Returns: %TRUE when the work completed, %FALSE on timeout
 */
gboolean
pmt_pool_wait_completion (PmtPool  *self,
                          gint64    timeout_usec,
                          gboolean  block)
{
  PoolThread *thread;
  PmtSyncWaiter waiter;
  gint64 deadline;
  guint depth = 0;
  gboolean done;

  g_return_val_if_fail (PMT_IS_POOL (self), FALSE);

  deadline = _pmt_deadline_from_timeout (timeout_usec);

  /* This thread's own tasks and jobs cannot finish while it waits here:
   * they are parked, counted out of what the wait waits for; those an
   * outer wait of the same thread parked already count once.  Jobs it
   * ended are unfinished until counted. */
  if ((thread = get_pool_thread (self)) != NULL)
    {
      count_thread_jobs (self, thread);
      depth = _pmt_worker_get_depth (thread->worker) + thread->n_jobs - thread->n_parked;
      thread->n_parked += depth;
    }

  _pmt_sync_waiter_init (&waiter);

  lock (self);
  self->n_blocking += block ? 1 : 0;
  __atomic_add_fetch (&self->n_parked, depth, __ATOMIC_SEQ_CST);
  if (depth > 0)
    {
      fire_helpers_locked (self);
      _pmt_sync_waiters_fire (self->completion_waiters);
    }
  /* Our own threads hear of the counters as helpers. */
  if (thread == NULL)
    self->completion_waiters = g_slist_prepend (self->completion_waiters, &waiter);
  unlock (self);

  if (timeout_usec == 0)
    done = thread != NULL ? completion_done (self) : all_done (self);
  else
    done = _pmt_wait_until (&waiter, thread != NULL ? completion_done : all_done, self, deadline);

  lock (self);
  self->completion_waiters = g_slist_remove (self->completion_waiters, &waiter);
  __atomic_sub_fetch (&self->n_parked, depth, __ATOMIC_SEQ_CST);
  self->n_blocking -= block ? 1 : 0;
  unlock (self);

  _pmt_sync_waiter_clear (&waiter);
  if (thread != NULL)
    thread->n_parked -= depth;

  return done;
}

/* Takes what shutdown() must cancel: the queued tasks and jobs, the
 * running tasks. */
static void
collect_for_shutdown_locked (PmtPool          *self,
                             PmtShutdownFlags  flags,
                             GPtrArray        *to_cancel,
                             GPtrArray        *jobs,
                             guint            *mask)
{
  gpointer job;

  if (flags & PMT_SHUTDOWN_CANCEL_QUEUED)
    {
      __atomic_store_n (&self->cancel_queued, TRUE, __ATOMIC_SEQ_CST);
      while ((job = pop_locked (self, mask)) != NULL)
        {
          if (IS_CHUNK (job))
            {
              Chunk *chunk = TO_CHUNK (job);

              for (guint i = 0; i < chunk->n_tasks; i++)
                g_ptr_array_add (to_cancel, g_steal_pointer (&chunk->tasks[i]));
              free_job (job);
            }
          else if (IS_JOB (job))
            g_ptr_array_add (jobs, TO_JOB (job));
          else
            g_ptr_array_add (to_cancel, job);
        }
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

  lock (self);
  if (self->state < PMT_POOL_STATE_STOPPING)
    {
      self->state = PMT_POOL_STATE_STOPPING;
      mask |= BIT (PROP_STATE);
    }
  collect_for_shutdown_locked (self, flags, to_cancel, jobs, &mask);
  n_start = reserve_workers_locked (self, &mask);
  _pmt_queue_wake_all_unlocked (self->queue);
  fire_helpers_locked (self);
  unlock (self);

  notify_props (self, mask);
  start_workers (self, n_start);
  for (guint i = 0; i < to_cancel->len; i++)
    pmt_task_cancel (g_ptr_array_index (to_cancel, i));
  for (guint i = 0; i < jobs->len; i++)
    run_pool_job (self, g_ptr_array_index (jobs, i), NULL);

  mask = 0;
  lock (self);
  check_stopped_locked (self, &mask);
  while (self->state != PMT_POOL_STATE_STOPPED && timeout_usec != 0)
    if (!_pmt_cond_wait_until (&self->idle_cond, _pmt_queue_get_mutex (self->queue), deadline))
      break;
  stopped = self->state == PMT_POOL_STATE_STOPPED;
  unlock (self);

  notify_props (self, mask);

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

#define DEFINE_LOCKED_GETTER(type, field, fallback)                       \
  type                                                                    \
  pmt_pool_get_##field (PmtPool *self)                                    \
  {                                                                       \
    type value;                                                           \
                                                                          \
    g_return_val_if_fail (PMT_IS_POOL (self), fallback);                  \
                                                                          \
    lock (self);                                                          \
    value = self->field;                                                  \
    unlock (self);                                                        \
                                                                          \
    return value;                                                         \
  }

#define DEFINE_ATOMIC_GETTER(type, field)                                 \
  type                                                                    \
  pmt_pool_get_##field (PmtPool *self)                                    \
  {                                                                       \
    g_return_val_if_fail (PMT_IS_POOL (self), 0);                         \
                                                                          \
    return __atomic_load_n (&self->field, __ATOMIC_SEQ_CST);              \
  }

/**
 * pmt_pool_get_state:
 * @self: a #PmtPool
 *
 * Gets #PmtPool:state.
 *
 * Returns: the state of the pool
 */
DEFINE_LOCKED_GETTER (PmtPoolState, state, PMT_POOL_STATE_STOPPED)

/**
 * pmt_pool_get_max_workers:
 * @self: a #PmtPool
 *
 * Gets #PmtPool:max-workers.
 *
 * Returns: the most workers the pool runs at once
 */
DEFINE_LOCKED_GETTER (guint, max_workers, 0)

/**
 * pmt_pool_get_min_workers:
 * @self: a #PmtPool
 *
 * Gets #PmtPool:min-workers.
 *
 * Returns: how many workers the pool keeps
 */
DEFINE_LOCKED_GETTER (guint, min_workers, 0)

/**
 * pmt_pool_get_idle_timeout:
 * @self: a #PmtPool
 *
 * Gets #PmtPool:idle-timeout.
 *
 * Returns: microseconds after which an idle worker above the minimum
 *   exits, or -1
 */
DEFINE_LOCKED_GETTER (gint64, idle_timeout, -1)

/**
 * pmt_pool_get_n_workers:
 * @self: a #PmtPool
 *
 * Gets #PmtPool:n-workers.
 *
 * Returns: how many workers the pool has
 */
DEFINE_LOCKED_GETTER (guint, n_workers, 0)

/**
 * pmt_pool_get_n_queued:
 * @self: a #PmtPool
 *
 * Gets #PmtPool:n-queued.
 *
 * Returns: how many accepted tasks wait to start
 */
DEFINE_ATOMIC_GETTER (guint, n_queued)

/**
 * pmt_pool_get_n_unfinished:
 * @self: a #PmtPool
 *
 * Gets #PmtPool:n-unfinished.
 *
 * Returns: how many accepted tasks are not done
 */
DEFINE_ATOMIC_GETTER (guint, n_unfinished)

/**
 * pmt_pool_get_n_submitted:
 * @self: a #PmtPool
 *
 * Gets #PmtPool:n-submitted.
 *
 * Returns: how many tasks the pool accepted
 */
DEFINE_LOCKED_GETTER (guint64, n_submitted, 0)

/**
 * pmt_pool_get_n_succeeded:
 * @self: a #PmtPool
 *
 * Gets #PmtPool:n-succeeded.
 *
 * Returns: how many accepted tasks succeeded
 */
DEFINE_ATOMIC_GETTER (guint64, n_succeeded)

/**
 * pmt_pool_get_n_failed:
 * @self: a #PmtPool
 *
 * Gets #PmtPool:n-failed.
 *
 * Returns: how many accepted tasks failed
 */
DEFINE_ATOMIC_GETTER (guint64, n_failed)

/**
 * pmt_pool_get_n_cancelled:
 * @self: a #PmtPool
 *
 * Gets #PmtPool:n-cancelled.
 *
 * Returns: how many accepted tasks were cancelled
 */
DEFINE_ATOMIC_GETTER (guint64, n_cancelled)

/**
 * pmt_pool_get_n_busy_workers:
 * @self: a #PmtPool
 *
 * Gets #PmtPool:n-busy-workers.
 *
 * Returns: how many workers run a task
 */
guint
pmt_pool_get_n_busy_workers (PmtPool *self)
{
  guint n_busy;

  g_return_val_if_fail (PMT_IS_POOL (self), 0);

  lock (self);
  n_busy = self->n_busy;
  unlock (self);

  return n_busy;
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

  lock (self);
  allowed = self->state == PMT_POOL_STATE_INACTIVE && self->n_workers == 0;
  old = self->main_context;
  if (allowed)
    self->main_context = context ? g_main_context_ref (context) : NULL;
  unlock (self);

  g_return_if_fail (allowed);

  if (old != NULL)
    g_main_context_unref (old);
  if (old != context)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAIN_CONTEXT]);
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

  lock (self);
  if (*bound != value)
    mask |= BIT (prop);
  *bound = value;
  n_start = reserve_workers_locked (self, &mask);
  _pmt_queue_wake_all_unlocked (self->queue);
  unlock (self);

  notify_props (self, mask);
  start_workers (self, n_start);
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

  set_worker_bound (self, &self->max_workers, max_workers, PROP_MAX_WORKERS);
}

/**
 * pmt_pool_set_min_workers:
 * @self: a #PmtPool
 * @min_workers: how many workers to keep
 *
 * Sets #PmtPool:min-workers and starts that many workers now (up to
 * #PmtPool:max-workers): the seed's `prepopulate`.
 */
void
pmt_pool_set_min_workers (PmtPool *self,
                          guint    min_workers)
{
  g_return_if_fail (PMT_IS_POOL (self));

  set_worker_bound (self, &self->min_workers, min_workers, PROP_MIN_WORKERS);
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

  lock (self);
  changed = self->idle_timeout != idle_timeout_usec;
  self->idle_timeout = idle_timeout_usec;
  _pmt_queue_wake_all_unlocked (self->queue);
  unlock (self);

  notify_props (self, changed ? BIT (PROP_IDLE_TIMEOUT) : 0);
}
