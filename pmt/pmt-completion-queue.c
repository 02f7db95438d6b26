/* pmt-completion-queue.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "pmt-completion-queue.h"
#include "pmt-deadline-private.h"
#include "pmt-executor-private.h"
#include "pmt-task-private.h"

/**
 * SECTION:pmt-completion-queue
 * @title: PmtCompletionQueue
 * @short_description: Tasks in the order they finish
 *
 * |[<!-- language="C" -->
 * g_autoptr(GPtrArray) tasks = pmt_pool_map (pool, resize, NULL, NULL, items, n_items, 0, &error);
 * g_autoptr(PmtCompletionQueue) done = pmt_pool_as_completed ((PmtTask **) tasks->pdata, tasks->len);
 * PmtTask *task;
 *
 * while ((task = pmt_completion_queue_next (done, -1)) != NULL)   // in the order they finish
 *   {
 *     g_print ("task %" G_GUINT64_FORMAT " finished\n", pmt_task_get_id (task));
 *     g_object_unref (task);
 *   }
 * ]|
 *
 * A #PmtCompletionQueue hands tasks back in the order they finish, like
 * PyMultiTasking's `Pool.as_completed()`.  Add tasks with
 * pmt_completion_queue_add() (or make one from an array with
 * pmt_pool_as_completed()), then call
 * pmt_completion_queue_next() until it returns %NULL.  It blocks on a
 * condition, never polls; in a thread of a pool, it runs the pool's queued
 * work while it waits, as every wait of Pmt does.
 *
 * Every method may be called from any thread.
 */

typedef struct
{
  PmtWaiter base;
  PmtCompletionQueue *queue;  /* not a reference: cleared on finalize */
  PmtTask *task;
} Entry;

struct _PmtCompletionQueue
{
  GObject parent_instance;

  GMutex mutex;
  GQueue done;        /* of PmtTask (references), in order of completion */
  GPtrArray *pending; /* of Entry, registered on unfinished tasks */
  GSList *waiters;    /* PmtSyncWaiter of threads in next() */
};

G_DEFINE_FINAL_TYPE (PmtCompletionQueue, pmt_completion_queue, G_TYPE_OBJECT)

/* Runs under the task's lock (a waiter's @fire): only our own lock, a leaf,
 * is taken here. */
static void
entry_fire (PmtWaiter *waiter,
            gpointer   task)
{
  Entry *entry = (Entry *)waiter;
  PmtCompletionQueue *self = entry->queue;
  gboolean ours;

  g_mutex_lock (&self->mutex);
  /* Not pending any more: the queue is being finalized and frees it. */
  ours = g_ptr_array_remove_fast (self->pending, entry);
  if (ours)
    {
      g_queue_push_tail (&self->done, entry->task);
      _pmt_sync_waiters_fire (self->waiters);
    }
  g_mutex_unlock (&self->mutex);

  if (ours)
    g_free (entry);
}

static void
pmt_completion_queue_finalize (GObject *object)
{
  PmtCompletionQueue *self = (PmtCompletionQueue *)object;

  /* Unregistered one by one without our lock: a task finishing meanwhile
   * fires under its own lock, which _pmt_task_remove_waiter() takes too. */
  for (;;)
    {
      Entry *entry = NULL;

      g_mutex_lock (&self->mutex);
      if (self->pending->len > 0)
        entry = g_ptr_array_steal_index_fast (self->pending, self->pending->len - 1);
      g_mutex_unlock (&self->mutex);

      if (entry == NULL)
        break;

      _pmt_task_remove_waiter (entry->task, &entry->base);
      g_object_unref (entry->task);
      g_free (entry);
    }

  g_queue_clear_full (&self->done, g_object_unref);
  g_ptr_array_unref (self->pending);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (pmt_completion_queue_parent_class)->finalize (object);
}

static void
pmt_completion_queue_class_init (PmtCompletionQueueClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = pmt_completion_queue_finalize;
}

static void
pmt_completion_queue_init (PmtCompletionQueue *self)
{
  g_mutex_init (&self->mutex);
  g_queue_init (&self->done);
  self->pending = g_ptr_array_new ();
}

/**
 * pmt_completion_queue_new:
 *
 * Creates an empty completion queue.
 *
 * Returns: (transfer full): a new #PmtCompletionQueue
 */
PmtCompletionQueue *
pmt_completion_queue_new (void)
{
  return g_object_new (PMT_TYPE_COMPLETION_QUEUE, NULL);
}

/**
 * pmt_completion_queue_add:
 * @self: a #PmtCompletionQueue
 * @task: a #PmtTask, in any state
 *
 * Adds @task; pmt_completion_queue_next() hands it back once it is done,
 * at once if it is done already.
 */
void
pmt_completion_queue_add (PmtCompletionQueue *self,
                          PmtTask            *task)
{
  Entry *entry;

  g_return_if_fail (PMT_IS_COMPLETION_QUEUE (self));
  g_return_if_fail (PMT_IS_TASK (task));

  entry = g_new0 (Entry, 1);
  entry->base.fire = entry_fire;
  entry->queue = self;
  entry->task = g_object_ref (task);

  /* Pending before it is registered: it may fire at once. */
  g_mutex_lock (&self->mutex);
  g_ptr_array_add (self->pending, entry);
  g_mutex_unlock (&self->mutex);

  if (!_pmt_task_add_waiter (task, &entry->base))
    entry_fire (&entry->base, task);
}

/**
 * pmt_completion_queue_next:
 * @self: a #PmtCompletionQueue
 * @timeout_usec: how long to wait in microseconds: negative waits
 *   forever, 0 only checks
 *
 * Takes the task that finished first among those not handed back yet,
 * waiting for one if none has finished.
 *
 * Returns: (transfer full) (nullable): a finished task, or %NULL on
 *   timeout or when no task is left
 */
/* A PmtWaitDoneFunc: next() can return. */
static gboolean
has_task_or_none_left (gpointer data)
{
  PmtCompletionQueue *self = data;
  gboolean ready;

  g_mutex_lock (&self->mutex);
  ready = !g_queue_is_empty (&self->done) || self->pending->len == 0;
  g_mutex_unlock (&self->mutex);

  return ready;
}

PmtTask *
pmt_completion_queue_next (PmtCompletionQueue *self,
                           gint64              timeout_usec)
{
  PmtSyncWaiter waiter;
  gint64 deadline;
  PmtTask *task;

  g_return_val_if_fail (PMT_IS_COMPLETION_QUEUE (self), NULL);

  deadline = _pmt_deadline_from_timeout (timeout_usec);
  _pmt_sync_waiter_init (&waiter);

  g_mutex_lock (&self->mutex);
  self->waiters = g_slist_prepend (self->waiters, &waiter);
  /* Another thread may take the task we woke for: wait again then. */
  while ((task = g_queue_pop_head (&self->done)) == NULL && self->pending->len > 0 &&
         timeout_usec != 0)
    {
      gboolean ready;

      g_mutex_unlock (&self->mutex);
      ready = _pmt_wait_until (&waiter, has_task_or_none_left, self, deadline);
      g_mutex_lock (&self->mutex);

      if (!ready)
        {
          task = g_queue_pop_head (&self->done);
          break;
        }
    }
  self->waiters = g_slist_remove (self->waiters, &waiter);
  g_mutex_unlock (&self->mutex);

  _pmt_sync_waiter_clear (&waiter);

  return task;
}

/**
 * pmt_completion_queue_get_n_pending:
 * @self: a #PmtCompletionQueue
 *
 * Gets how many tasks were added and not handed back yet, finished or
 * not.
 *
 * Returns: the number of tasks still to come from
 *   pmt_completion_queue_next()
 */
guint
pmt_completion_queue_get_n_pending (PmtCompletionQueue *self)
{
  guint n_pending;

  g_return_val_if_fail (PMT_IS_COMPLETION_QUEUE (self), 0);

  g_mutex_lock (&self->mutex);
  n_pending = self->pending->len + self->done.length;
  g_mutex_unlock (&self->mutex);

  return n_pending;
}

/**
 * pmt_pool_as_completed:
 * @tasks: (array length=n_tasks): tasks, from any pool or worker
 * @n_tasks: the number of @tasks
 *
 * Makes a completion queue holding @tasks, to take them in the order
 * they finish: PyMultiTasking's `Pool.as_completed()`.
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
