/* pmt-pool-wait.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "pmt-deadline-private.h"
#include "pmt-pool-private.h"
#include "pmt-task-private.h"

/* Counting finished work, the pool's side of the executor interface (the
 * one helping mechanism every wait in our threads goes through), and
 * pmt_pool_wait_completion(). */

#define POOL_FROM_EXECUTOR(e) ((PmtPool *) ((char *) (e) - G_STRUCT_OFFSET (PmtPool, executor)))

/* Counts finished work, of which @n_queued was still counted as queued
 * (tasks cancelled in the queue).  Wakes whoever waits for the counters,
 * and drops the reference the unfinished work held. */
void
_pmt_pool_count_finished (PmtPool *self,
                          guint    n_succeeded,
                          guint    n_failed,
                          guint    n_cancelled,
                          guint    n_queued)
{
  guint n = n_succeeded + n_failed + n_cancelled;
  guint mask = PMT_POOL_BIT (PMT_POOL_PROP_N_UNFINISHED);
  guint n_unfinished;

  if (n_queued > 0)
    {
      __atomic_sub_fetch (&self->n_queued, n_queued, __ATOMIC_SEQ_CST);
      mask |= PMT_POOL_BIT (PMT_POOL_PROP_N_QUEUED);
    }
  if (n_succeeded > 0)
    {
      __atomic_add_fetch (&self->n_succeeded, n_succeeded, __ATOMIC_SEQ_CST);
      mask |= PMT_POOL_BIT (PMT_POOL_PROP_N_SUCCEEDED);
    }
  if (n_failed > 0)
    {
      __atomic_add_fetch (&self->n_failed, n_failed, __ATOMIC_SEQ_CST);
      mask |= PMT_POOL_BIT (PMT_POOL_PROP_N_FAILED);
    }
  if (n_cancelled > 0)
    {
      __atomic_add_fetch (&self->n_cancelled, n_cancelled, __ATOMIC_SEQ_CST);
      mask |= PMT_POOL_BIT (PMT_POOL_PROP_N_CANCELLED);
    }
  n_unfinished = __atomic_sub_fetch (&self->n_unfinished, n, __ATOMIC_SEQ_CST);

  /* Whoever waits for the work to complete, or for the pool to stop,
   * waits for n-unfinished to reach n-parked (usually 0).  Pairs with
   * them raising n-parked before they test n-unfinished under the lock:
   * either they see our decrement, or we see their n-parked. */
  if (n_unfinished <= __atomic_load_n (&self->n_parked, __ATOMIC_SEQ_CST))
    {
      _pmt_pool_lock (self);
      _pmt_pool_fire_helpers_locked (self);
      _pmt_sync_waiters_fire (self->completion_waiters);
      _pmt_pool_check_stopped_locked (self, &mask);
      _pmt_pool_unlock (self);
    }

  _pmt_pool_notify (self, mask);

  if (n_unfinished == 0)
    {
      _pmt_pool_notify_settled (self);
      g_object_unref (self);
    }
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
      _pmt_pool_count_finished (self, 1, 0, 0, n_queued);
      break;

    case PMT_TASK_STATE_FAILED:
      _pmt_pool_count_finished (self, 0, 1, 0, n_queued);
      break;

    case PMT_TASK_STATE_CANCELLED:
    default:
      _pmt_pool_count_finished (self, 0, 0, 1, n_queued);
      break;
    }
}

/* The one helping mechanism: every wait in one of our threads ends up
 * here (see _pmt_wait_until()).  Runs the thread's local work first,
 * which nobody else can run, then the queue, until @done holds or
 * @deadline passes.  @waiter is fired by pushes, by the pool's counters
 * reaching a waited-for value, and by whatever the caller registered it
 * on.
 *
 * A task whose limiter is full is not run here: the task that waits may
 * hold it, and the acquisition would block this thread, and the wait,
 * for ever.  It is put aside, and becomes the thread's local work when
 * the wait is over: taken off the queue, it still counts as queued, and
 * runs (or is cancelled by a shutdown) like the rest of a chunk. */
static gboolean
pool_help_until (PmtExecutor     *executor,
                 PmtSyncWaiter   *waiter,
                 PmtWaitDoneFunc  done,
                 gpointer         data,
                 gint64           deadline)
{
  PmtPool *self = POOL_FROM_EXECUTOR (executor);
  PmtPoolThread *thread = _pmt_pool_get_thread (self);
  GPtrArray *put_aside = NULL;
  gboolean ret;

  g_assert (thread != NULL);

  _pmt_pool_lock (self);
  self->helpers = g_slist_prepend (self->helpers, waiter);

  for (;;)
    {
      guint mask = 0;
      gpointer item;

      if ((ret = done (data)))
        break;

      if ((item = _pmt_pool_local_pop (thread)) == NULL)
        item = _pmt_pool_take_locked (self, thread, &mask);
      _pmt_pool_unlock (self);
      _pmt_pool_notify (self, mask);

      if (item != NULL && !PMT_POOL_IS_JOB (item) && !_pmt_task_reserve_limiter (item))
        {
          if (put_aside == NULL)
            put_aside = g_ptr_array_new ();
          g_ptr_array_add (put_aside, item);
        }
      else if (item != NULL)
        {
          _pmt_pool_run_item (self, thread, item);
          /* Whatever waits may wait for these counters. */
          _pmt_pool_count_thread_jobs (self, thread);
        }
      else if (!_pmt_sync_waiter_wait (waiter, deadline))
        {
          _pmt_pool_lock (self);
          ret = done (data);
          break;
        }

      _pmt_pool_lock (self);
    }

  self->helpers = g_slist_remove (self->helpers, waiter);
  _pmt_pool_unlock (self);

  if (put_aside != NULL)
    {
      for (guint i = 0; i < put_aside->len; i++)
        _pmt_pool_local_push (thread, put_aside->pdata[i]);
      g_ptr_array_unref (put_aside);
    }

  return ret;
}

const PmtExecutorVTable _pmt_pool_executor_vtable = {
  pool_help_until,
  pool_task_finished,
};

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
  PmtPoolThread *thread;
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
  if ((thread = _pmt_pool_get_thread (self)) != NULL)
    {
      _pmt_pool_count_thread_jobs (self, thread);
      depth = _pmt_worker_get_depth (thread->worker) + thread->n_jobs - thread->n_parked;
      thread->n_parked += depth;
    }

  _pmt_sync_waiter_init (&waiter);

  _pmt_pool_lock (self);
  self->n_blocking += block ? 1 : 0;
  __atomic_add_fetch (&self->n_parked, depth, __ATOMIC_SEQ_CST);
  if (depth > 0)
    {
      _pmt_pool_fire_helpers_locked (self);
      _pmt_sync_waiters_fire (self->completion_waiters);
    }
  /* Our own threads hear of the counters as helpers. */
  if (thread == NULL)
    self->completion_waiters = g_slist_prepend (self->completion_waiters, &waiter);
  _pmt_pool_unlock (self);

  if (timeout_usec == 0)
    done = thread != NULL ? completion_done (self) : all_done (self);
  else
    done = _pmt_wait_until (&waiter, thread != NULL ? completion_done : all_done, self, deadline);

  _pmt_pool_lock (self);
  self->completion_waiters = g_slist_remove (self->completion_waiters, &waiter);
  __atomic_sub_fetch (&self->n_parked, depth, __ATOMIC_SEQ_CST);
  self->n_blocking -= block ? 1 : 0;
  _pmt_pool_unlock (self);

  _pmt_sync_waiter_clear (&waiter);
  if (thread != NULL)
    thread->n_parked -= depth;

  return done;
}
