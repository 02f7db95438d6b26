/* pmt-tour.c — the manual's first program: tasks, jobs, a limiter
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Counts the primes below 200 000 in 20 slices: as tasks, whose results
 * come back in the order they finish, and again as jobs, which add into
 * a shared counter; then one task under a limiter.  It exits non-zero
 * unless both ways give the right count (17 984).
 */

#include <pmt.h>

#define N_SLICES 20
#define SLICE    10000

static guint
count_primes (guint from, guint to)
{
  guint count = 0;

  for (guint n = MAX (from, 2); n < to; n++)
    {
      gboolean prime = TRUE;

      for (guint d = 2; d * d <= n && prime; d++)
        prime = n % d != 0;
      count += prime;
    }

  return count;
}

/* A PmtTaskFunc: runs on a worker; its item is its task-data. */
static void
count_slice (PmtTask  *task,
             gpointer  user_data)
{
  guint slice = GPOINTER_TO_UINT (pmt_task_get_task_data (task));
  GError *error = NULL;

  /* Long work checks its cancellable; a cancelled task reports it. */
  if (g_cancellable_set_error_if_cancelled (pmt_task_get_cancellable (task), &error))
    {
      pmt_task_return_error (task, error);
      return;
    }
  pmt_task_return_int (task, count_primes (slice * SLICE, (slice + 1) * SLICE));
}

/* A PmtJobFunc: no task, the outcome goes through the data. */
typedef struct
{
  guint slice;
  gint *total;
} Job;

static void
count_slice_job (gpointer user_data)
{
  Job *job = user_data;

  g_atomic_int_add (job->total, count_primes (job->slice * SLICE, (job->slice + 1) * SLICE));
}

int
main (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmtPool) pool = pmt_pool_new ("tour", 0, &error);   /* 0: one per CPU */
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (2);
  g_autoptr(GPtrArray) tasks = NULL;
  g_autoptr(PmtCompletionQueue) done = NULL;
  gpointer items[N_SLICES];
  gint64 by_tasks = 0;
  gint by_jobs = 0;
  PmtTask *task;

  if (pool == NULL)
    g_error ("%s", error->message);

  /* 1. Tasks: one per slice, results read as they finish. */
  for (guint i = 0; i < N_SLICES; i++)
    items[i] = GUINT_TO_POINTER (i);
  tasks = pmt_pool_map (pool, count_slice, NULL, NULL, items, N_SLICES, 0, &error);
  if (tasks == NULL)
    g_error ("%s", error->message);

  done = pmt_pool_as_completed ((PmtTask **) tasks->pdata, tasks->len);
  while ((task = pmt_completion_queue_next (done, -1)) != NULL)
    {
      g_autoptr(GError) task_error = NULL;

      if (pmt_task_propagate_error (task, &task_error))
        by_tasks += g_value_get_int64 (pmt_task_get_result (task));
      else
        g_printerr ("task %" G_GUINT64_FORMAT ": %s\n", pmt_task_get_id (task), task_error->message);
      g_object_unref (task);
    }

  /* 2. Jobs: the same work, with no task objects. */
  for (guint i = 0; i < N_SLICES; i++)
    {
      Job *job = g_new (Job, 1);

      job->slice = i;
      job->total = &by_jobs;
      if (!pmt_pool_execute (pool, count_slice_job, job, g_free, &error))
        g_error ("%s", error->message);   /* refused: g_free (job) ran already */
    }
  pmt_pool_wait_completion (pool, -1, FALSE);

  /* 3. A limiter (at most two holders) on a task: acquired in the
   *    worker, around the function. */
  task = pmt_task_new (count_slice, NULL, NULL);
  pmt_task_set_task_data (task, GUINT_TO_POINTER (0), NULL);
  pmt_task_set_limiter (task, limiter);
  pmt_task_set_priority (task, G_PRIORITY_HIGH);   /* lower values run first */
  if (!pmt_pool_push (pool, task, &error))
    g_error ("%s", error->message);
  pmt_task_wait (task, -1);
  g_print ("slice 0: %" G_GINT64_FORMAT " primes\n", g_value_get_int64 (pmt_task_get_result (task)));
  g_object_unref (task);

  pmt_pool_join (pool, -1);   /* wait for the work, then shut down */

  g_print ("primes below %u: %" G_GINT64_FORMAT " by tasks, %d by jobs\n",
           N_SLICES * SLICE, by_tasks, by_jobs);

  return by_tasks == by_jobs && by_jobs == 17984 ? 0 : 1;
}
