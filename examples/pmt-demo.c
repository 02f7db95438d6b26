/* pmt-demo.c — tasks on workers, under a limiter, with a callback
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Runs prime-counting tasks on three workers while a limiter lets at most
 * two of them compute at once.  Each task's callback reports from its
 * worker's thread; #PmtTask::completed is delivered on the main loop.  One
 * task fails on purpose and one is cancelled before it runs: every task
 * still ends in exactly one terminal state.
 */

#include <pmt.h>

#define N_WORKERS 3
#define N_TASKS   8
#define LIMIT     2

static gint inside;
static gint max_inside;
static guint n_completed;

static guint
count_primes (guint below)
{
  guint count = 0;

  for (guint n = 2; n < below; n++)
    {
      gboolean prime = TRUE;

      for (guint d = 2; d * d <= n && prime; d++)
        prime = n % d != 0;
      count += prime;
    }

  return count;
}

static void
track_max (gint now)
{
  gint seen = g_atomic_int_get (&max_inside);

  while (now > seen && !g_atomic_int_compare_and_exchange (&max_inside, seen, now))
    seen = g_atomic_int_get (&max_inside);
}

static void
prime_task (PmtTask  *task,
            gpointer  user_data)
{
  guint below = GPOINTER_TO_UINT (user_data);
  guint count;

  track_max (g_atomic_int_add (&inside, 1) + 1);

  if (below == 0)
    {
      g_atomic_int_add (&inside, -1);
      pmt_task_return_new_error (task, PMT_ERROR, PMT_ERROR_FAILED,
                                 "cannot count primes below 0");
      return;
    }

  count = count_primes (below);
  g_atomic_int_add (&inside, -1);
  pmt_task_return_int (task, count);
}

static void
report (PmtTask  *task,
        gpointer  user_data)
{
  const GValue *result = pmt_task_get_result (task);
  const char *worker = pmt_worker_get_name (pmt_task_get_worker (task));

  /* The callback runs in the worker's thread, right after the function
   * and before any waiter wakes, with the outcome already in the task. */
  if (result != NULL)
    g_print ("  [%s] task %" G_GUINT64_FORMAT " counted %" G_GINT64_FORMAT " primes\n",
             worker, pmt_task_get_id (task), g_value_get_int64 (result));
  else
    g_print ("  [%s] task %" G_GUINT64_FORMAT " failed: %s\n",
             worker, pmt_task_get_id (task), pmt_task_get_error (task)->message);
}

static void
on_completed (PmtTask   *task,
              GMainLoop *loop)
{
  const GError *error = pmt_task_get_error (task);

  if (error != NULL)
    g_print ("  main loop: task %" G_GUINT64_FORMAT " %s: %s\n", pmt_task_get_id (task),
             pmt_task_get_state (task) == PMT_TASK_STATE_CANCELLED ? "cancelled" : "failed",
             error->message);
  else
    g_print ("  main loop: task %" G_GUINT64_FORMAT " succeeded: %" G_GINT64_FORMAT " primes\n",
             pmt_task_get_id (task), g_value_get_int64 (pmt_task_get_result (task)));

  if (++n_completed == N_TASKS)
    g_main_loop_quit (loop);
}

int
main (void)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (LIMIT);
  PmtWorker *workers[N_WORKERS];
  PmtTask *tasks[N_TASKS];
  guint counts[N_TASKS] = { 0 };

  g_print ("Pmt %s demo: %d tasks on %d workers, at most %d computing at once\n",
           PMT_VERSION_S, N_TASKS, N_WORKERS, LIMIT);

  for (guint i = 0; i < N_WORKERS; i++)
    {
      g_autofree char *name = g_strdup_printf ("demo-worker-%u", i + 1);
      workers[i] = pmt_worker_new (name);
    }

  for (guint i = 0; i < N_TASKS; i++)
    {
      /* Task 5 fails on purpose (0), the others count primes. */
      guint below = i == 5 ? 0 : 20000 + 15000 * i;

      tasks[i] = pmt_task_new (prime_task, GUINT_TO_POINTER (below), NULL);
      pmt_task_set_limiter (tasks[i], limiter);
      pmt_task_set_callback (tasks[i], report, NULL, NULL);
      pmt_task_set_main_context (tasks[i], g_main_context_default ());
      g_signal_connect (tasks[i], "completed", G_CALLBACK (on_completed), loop);
    }

  /* Cancelled before it is pushed: it never runs, yet completes. */
  pmt_task_cancel (tasks[N_TASKS - 1]);

  for (guint i = 0; i < N_TASKS - 1; i++)
    {
      g_autoptr(GError) error = NULL;

      if (!pmt_worker_push (workers[i % N_WORKERS], tasks[i], &error))
        g_printerr ("push refused: %s\n", error->message);
    }

  g_main_loop_run (loop);

  if (!pmt_task_wait_all (tasks, N_TASKS, 60 * G_USEC_PER_SEC))
    g_error ("tasks did not finish");

  g_print ("Summary:\n");
  for (guint i = 0; i < N_TASKS; i++)
    {
      GEnumClass *states = g_type_class_ref (PMT_TYPE_TASK_STATE);
      const GValue *result = pmt_task_get_result (tasks[i]);

      if (result != NULL)
        counts[i] = g_value_get_int64 (result);
      g_print ("  task %" G_GUINT64_FORMAT ": %-9s %u\n", pmt_task_get_id (tasks[i]),
               g_enum_get_value (states, pmt_task_get_state (tasks[i]))->value_nick, counts[i]);
      g_type_class_unref (states);
    }
  g_print ("Most tasks computing at once: %d (limit %d)\n", g_atomic_int_get (&max_inside), LIMIT);

  for (guint i = 0; i < N_WORKERS; i++)
    {
      pmt_worker_stop (workers[i]);
      pmt_worker_join (workers[i], -1);
      g_print ("  %s ran %" G_GUINT64_FORMAT " tasks\n",
               pmt_worker_get_name (workers[i]), pmt_worker_get_n_tasks_run (workers[i]));
      g_object_unref (workers[i]);
    }
  for (guint i = 0; i < N_TASKS; i++)
    g_object_unref (tasks[i]);

  return g_atomic_int_get (&max_inside) <= LIMIT ? 0 : 1;
}
