/* pmt-pool-jobs.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "pmt-main-context-private.h"
#include "pmt-pool-private.h"
#include "pmt-task-private.h"

/* Work that travels in batches: jobs, calls queued with
 * pmt_pool_execute() with no task object (the cheapest thing a pool
 * runs), and the chunks of pmt_pool_map(); and the local work of a
 * thread, where a batch waits for its turn.
 *
 * A worker takes the jobs that follow a job in the queue with it while
 * the queue holds several per worker (never more than its share, so no
 * worker sits on work another could run); they become its local work.
 * The jobs a thread ended are counted when it runs out of local work:
 * the counters are shared by every thread, and touching them once per job
 * would cost more than the jobs.  A nested wait counts them first, as it
 * waits for the counters. */
#define JOB_BATCH_MAX 16

static gboolean
job_notify_idle (gpointer data)
{
  PmtPoolJob *job = data;

  job->notify (job->user_data);
  g_free (job);

  return G_SOURCE_REMOVE;
}

/* Lets go of a job's data: on the pool's main context when it has one,
 * like the closures of tasks. */
static void
release_job (PmtPool    *self,
             PmtPoolJob *job)
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

/* A job taken off the queue was counted out of n-queued then.  A
 * shutdown ends the jobs it cancelled with @thread NULL. */
void
_pmt_pool_run_job (PmtPool       *self,
                   PmtPoolJob    *job,
                   PmtPoolThread *thread)
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
    _pmt_pool_count_finished (self, !cancelled, 0, cancelled, 0);
  else if (cancelled)
    thread->n_cancelled++;
  else
    thread->n_succeeded++;
}

void
_pmt_pool_drop_job (PmtPool    *self,
                    PmtPoolJob *job)
{
  release_job (self, job);
  _pmt_pool_count_finished (self, 0, 0, 1, 0);
}

/* Hands the jobs @thread ended to the pool's counters. */
void
_pmt_pool_count_thread_jobs (PmtPool       *self,
                             PmtPoolThread *thread)
{
  if (thread->n_succeeded + thread->n_cancelled == 0)
    return;

  _pmt_pool_count_finished (self, thread->n_succeeded, 0, thread->n_cancelled, 0);
  thread->n_succeeded = thread->n_cancelled = 0;
}

void
_pmt_pool_batch_jobs_locked (PmtPool       *self,
                             PmtPoolThread *thread,
                             guint         *mask)
{
  guint share = _pmt_queue_length_unlocked (self->queue) / (2 * MAX (self->n_workers, 1));
  guint n = 0;

  while (n < MIN (share, JOB_BATCH_MAX - 1))
    {
      gpointer head = _pmt_queue_peek_unlocked (self->queue);

      if (head == NULL || !PMT_POOL_IS_JOB (head))
        break;
      _pmt_pool_local_push (thread, _pmt_queue_try_pop_unlocked (self->queue));
      n++;
    }

  if (n > 0)
    {
      __atomic_sub_fetch (&self->n_queued, n, __ATOMIC_SEQ_CST);
      *mask |= PMT_POOL_BIT (PMT_POOL_PROP_N_QUEUED);
    }
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
 * not started yet, queued or taken: their @func never runs.  So does a
 * pool left with no worker that cannot start a thread (see #PmtPool).
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
  PmtPoolJob *job;

  g_return_val_if_fail (PMT_IS_POOL (self), FALSE);
  g_return_val_if_fail (func != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  job = g_new (PmtPoolJob, 1);
  job->func = func;
  job->user_data = user_data;
  job->notify = notify;

  _pmt_pool_lock (self);
  accepted = _pmt_pool_accepting_locked (self, error);
  if (accepted)
    n_start = _pmt_pool_enqueue_locked (self, PMT_POOL_FROM_JOB (job), priority, 1, &mask);
  _pmt_pool_unlock (self);

  if (!accepted)
    {
      if (notify != NULL)
        notify (user_data);
      g_free (job);
      return FALSE;
    }

  _pmt_pool_notify (self, mask);
  _pmt_pool_start_workers (self, n_start);

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

/* Local work */

void
_pmt_pool_local_push (PmtPoolThread *thread,
                      gpointer       item)
{
  if (thread->local_length == thread->local_allocated)
    {
      guint allocated = MAX (2 * thread->local_allocated, 32);
      gpointer *local = g_new (gpointer, allocated);

      for (guint i = 0; i < thread->local_length; i++)
        local[i] = thread->local[(thread->local_head + i) % thread->local_allocated];
      g_free (thread->local);
      thread->local = local;
      thread->local_allocated = allocated;
      thread->local_head = 0;
    }

  thread->local[(thread->local_head + thread->local_length) % thread->local_allocated] = item;
  thread->local_length++;
}

/* The next local item: a task (a reference) or a tagged job.  A chunk at
 * the head gives its tasks one by one. */
gpointer
_pmt_pool_local_pop (PmtPoolThread *thread)
{
  gpointer item;

  if (thread->local_length == 0)
    return NULL;

  item = thread->local[thread->local_head];
  if (PMT_POOL_IS_CHUNK (item))
    {
      PmtPoolChunk *chunk = PMT_POOL_TO_CHUNK (item);

      item = chunk->tasks[chunk->next++];
      if (chunk->next < chunk->n_tasks)
        return item;
      g_free (chunk);
    }

  thread->local_head = (thread->local_head + 1) % thread->local_allocated;
  thread->local_length--;

  return item;
}

gpointer
_pmt_pool_take_locked (PmtPool       *self,
                       PmtPoolThread *thread,
                       guint         *mask)
{
  gpointer item = _pmt_pool_pop_locked (self, mask);
  PmtPoolChunk *chunk;

  if (item == NULL || !PMT_POOL_IS_CHUNK (item))
    return item;

  chunk = PMT_POOL_TO_CHUNK (item);
  item = chunk->tasks[chunk->next++];
  if (chunk->next < chunk->n_tasks)
    _pmt_pool_local_push (thread, PMT_POOL_FROM_CHUNK (chunk));
  else
    g_free (chunk);

  return item;
}

/* pmt_pool_map() */

/* Every task holds the closure: @notify runs once, when the last one
 * lets go of it. */
static GPtrArray *
new_map_tasks (gint            priority,
               PmtTaskFunc     func,
               gpointer        user_data,
               GDestroyNotify  notify,
               guint           n_items)
{
  GPtrArray *tasks = g_ptr_array_new_full (n_items, g_object_unref);
  PmtTaskClosure *closure = _pmt_task_closure_new (func, user_data, notify);

  for (guint i = 0; i < n_items; i++)
    {
      PmtTask *task = _pmt_task_new_from_closure (closure);

      if (priority != G_PRIORITY_DEFAULT)
        pmt_task_set_priority (task, priority);
      g_ptr_array_add (tasks, task);
    }
  _pmt_task_closure_unref (closure);

  return tasks;
}

/* Marks every task queued, or none; returns the failure of the first that
 * could not be, for _pmt_task_check_enqueued(), at @failed. */
static PmtTaskEnqueue
mark_all_queued_locked (PmtPool    *self,
                        GPtrArray  *tasks,
                        PmtTask   **failed)
{
  for (guint i = 0; i < tasks->len; i++)
    {
      PmtTaskEnqueue enqueued = _pmt_task_mark_queued (g_ptr_array_index (tasks, i),
                                                       &self->executor, self->main_context, NULL);

      if (enqueued == PMT_TASK_ENQUEUE_OK)
        continue;

      *failed = g_ptr_array_index (tasks, i);
      while (i-- > 0)
        _pmt_task_unmark_queued (g_ptr_array_index (tasks, i));
      return enqueued;
    }

  return PMT_TASK_ENQUEUE_OK;
}

/* Queues the tasks, all marked queued, in chunks of @chunk_size; returns
 * how many workers to start. */
static guint
push_chunks_locked (PmtPool   *self,
                    GPtrArray *tasks,
                    gint       priority,
                    guint      chunk_size,
                    guint     *mask)
{
  guint n_start = 0;

  for (guint first = 0; first < tasks->len; first += chunk_size)
    {
      guint n = MIN (chunk_size, tasks->len - first);
      PmtPoolChunk *chunk = g_malloc (sizeof (PmtPoolChunk) + n * sizeof (PmtTask *));

      chunk->n_tasks = n;
      chunk->next = 0;
      for (guint i = 0; i < n; i++)
        chunk->tasks[i] = g_object_ref (g_ptr_array_index (tasks, first + i));
      n_start += _pmt_pool_enqueue_locked (self, PMT_POOL_FROM_CHUNK (chunk), priority, n, mask);
    }

  return n_start;
}

/* Submits the tasks of one map() in chunks; all or none.  Takes @tasks
 * and returns them, or NULL. */
static GPtrArray *
submit_map (PmtPool     *self,
            GPtrArray   *tasks,
            gint         priority,
            guint        chunk_size,
            const char  *func,
            GError     **error)
{
  g_autoptr(GPtrArray) owned = tasks;
  PmtTaskEnqueue enqueued = PMT_TASK_ENQUEUE_OK;
  PmtTask *failed = NULL;
  guint mask = 0, n_start = 0;
  gboolean accepted;

  _pmt_pool_lock (self);
  if (chunk_size == 0)
    chunk_size = MAX (1, (tasks->len + self->max_workers - 1) / self->max_workers);
  accepted = _pmt_pool_accepting_locked (self, error);
  if (accepted)
    enqueued = mark_all_queued_locked (self, tasks, &failed);
  if (accepted && enqueued == PMT_TASK_ENQUEUE_OK)
    n_start = push_chunks_locked (self, tasks, priority, chunk_size, &mask);
  _pmt_pool_unlock (self);

  if (!accepted || !_pmt_task_check_enqueued (failed, enqueued, func, error))
    return NULL;

  _pmt_pool_notify (self, mask);
  _pmt_pool_start_workers (self, n_start);

  return g_steal_pointer (&owned);
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
 * through the queue: every item has its own task, result and error, and
 * a task waiting for another of its own chunk does not deadlock (its
 * thread runs the rest of the chunk while it waits).  Bindings, which
 * cannot hand over bare pointers, use pmt_pool_map_values().
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
  return pmt_pool_map_full (self, G_PRIORITY_DEFAULT, func, user_data, notify,
                            items, n_items, chunk_size, error);
}

/**
 * pmt_pool_map_full: (skip)
 * @self: a #PmtPool
 * @priority: the priority of the tasks; lower runs first
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
 * pmt_pool_map() with a priority for every task.  Bindings use
 * pmt_pool_map_values_full().
 *
 * Returns: (transfer container) (element-type PmtTask) (nullable): the
 *   tasks in the order of @items, or %NULL when refused
 */
GPtrArray *
pmt_pool_map_full (PmtPool         *self,
                   gint             priority,
                   PmtTaskFunc      func,
                   gpointer         user_data,
                   GDestroyNotify   notify,
                   gpointer        *items,
                   guint            n_items,
                   guint            chunk_size,
                   GError         **error)
{
  g_autoptr(GPtrArray) tasks = NULL;

  g_return_val_if_fail (PMT_IS_POOL (self), NULL);
  g_return_val_if_fail (func != NULL, NULL);
  g_return_val_if_fail (items != NULL || n_items == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  tasks = new_map_tasks (priority, func, user_data, notify, n_items);
  for (guint i = 0; i < n_items; i++)
    pmt_task_set_task_data (g_ptr_array_index (tasks, i), items[i], NULL);

  return submit_map (self, g_steal_pointer (&tasks), priority, chunk_size, G_STRFUNC, error);
}

/**
 * pmt_pool_map_values: (rename-to pmt_pool_map)
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
 * pmt_pool_map() for bindings: each task's item is a #GValue, copied,
 * which @func reads with pmt_task_get_task_value().
 *
 * Returns: (transfer container) (element-type PmtTask) (nullable): the
 *   tasks in the order of @items, or %NULL when refused (then nothing was
 *   submitted)
 */
GPtrArray *
pmt_pool_map_values (PmtPool         *self,
                     PmtTaskFunc      func,
                     gpointer         user_data,
                     GDestroyNotify   notify,
                     const GValue    *items,
                     guint            n_items,
                     guint            chunk_size,
                     GError         **error)
{
  return pmt_pool_map_values_full (self, G_PRIORITY_DEFAULT, func, user_data, notify,
                                   items, n_items, chunk_size, error);
}

/**
 * pmt_pool_map_values_full:
 * @self: a #PmtPool
 * @priority: the priority of the tasks; lower runs first
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
 * pmt_pool_map_values() with a priority for every task.
 *
 * Returns: (transfer container) (element-type PmtTask) (nullable): the
 *   tasks in the order of @items, or %NULL when refused
 */
GPtrArray *
pmt_pool_map_values_full (PmtPool         *self,
                          gint             priority,
                          PmtTaskFunc      func,
                          gpointer         user_data,
                          GDestroyNotify   notify,
                          const GValue    *items,
                          guint            n_items,
                          guint            chunk_size,
                          GError         **error)
{
  g_autoptr(GPtrArray) tasks = NULL;

  g_return_val_if_fail (PMT_IS_POOL (self), NULL);
  g_return_val_if_fail (func != NULL, NULL);
  g_return_val_if_fail (items != NULL || n_items == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  tasks = new_map_tasks (priority, func, user_data, notify, n_items);
  for (guint i = 0; i < n_items; i++)
    pmt_task_set_task_value (g_ptr_array_index (tasks, i), &items[i]);

  return submit_map (self, g_steal_pointer (&tasks), priority, chunk_size, G_STRFUNC, error);
}
