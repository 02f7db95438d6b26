/* test-pool-stress.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The stress program of the pool: PMT_STRESS_TASKS tasks (default
 * 1 000 000) with random priorities go into a pool of 4 workers from 4
 * submitter threads, each followed by a job (pmt_pool_execute_full()) of
 * the same priority, while 2 threads cancel random tasks already submitted
 * and 8 threads wait on a sample of them; a final shutdown cancels what is
 * left.  Then every task must be terminal in the state its outcome says,
 * have emitted #PmtTask::completed exactly once, every job must have run
 * at most once and let go of its data exactly once, every waiter must have
 * woken, and the pool's counters must add up. */

#include <stdlib.h>

#include <pmt.h>

#include "pmt-test-utils.h"

#define DEFAULT_N_TASKS   1000000
#define N_SUBMITTERS      4
#define N_CANCELLERS      2
#define N_WAITERS         8
#define MAX_WORKERS       4

/* Every FAIL_EVERY-th task fails on purpose. */
#define FAIL_EVERY        97
/* Every CHECK_CANCEL_EVERY-th task does a little work, then looks at its
 * cancellable (made on first use: not for every task) and ends cancelled
 * if it was triggered. */
#define CHECK_CANCEL_EVERY 16
#define WORK_ITERATIONS   2000
/* Each canceller cancels one task per CANCEL_EVERY submitted. */
#define CANCEL_EVERY      20
/* Waiters wait on one task in WAIT_EVERY. */
#define WAIT_EVERY        64
/* Submitters publish their progress every PUBLISH_EVERY tasks. */
#define PUBLISH_EVERY     256

/* Generous: only a lost wake-up gets there. */
#define SAFETY_TIMEOUT_USEC (120 * G_USEC_PER_SEC)

#define EXPECTED_RESULT(index) ((gint64) (index) * 2 + 1)

typedef struct
{
  guint n_tasks;
  PmtPool *pool;

  /* Slot i holds task i (a reference) once its submitter published it. */
  PmtTask **tasks;
  gint *n_runs;            /* atomic, per task */
  gint *saw_cancel;        /* atomic, per task: its function reported cancelled */
  gint *n_woken;           /* per task, written by its one waiter */
  gint *job_runs;          /* atomic, per job */
  gint *job_notifies;      /* atomic, per job */

  /* #PmtTask::completed emissions per task id, counted by an emission
   * hook: it sees tasks made by pmt_pool_submit_full() too, which may
   * finish before anyone could connect to them. */
  GMutex completed_mutex;
  GHashTable *n_completed; /* guint64 id → count */
  guint64 n_completed_total;

  /* Submitters' progress: tasks [first, first + published) of submitter s
   * are in @tasks.  Guarded by progress_mutex. */
  GMutex progress_mutex;
  GCond progress_cond;
  guint first[N_SUBMITTERS];
  guint count[N_SUBMITTERS];
  guint published[N_SUBMITTERS];
  guint total_published;
  gboolean submitters_done;

  gint last_started;       /* atomic: the index of the task started last */
  gint n_cancel_calls;     /* atomic */
  gint n_waits;            /* atomic */
  guint n_waiters_done;    /* guarded by progress_mutex */

  PmtTestFinalizeWatch pool_finalized;

  guint32 seeds[N_SUBMITTERS + N_CANCELLERS];
} Stress;

typedef struct
{
  Stress *stress;
  guint index;
} ThreadData;

static guint
count_completed (Stress  *stress,
                 PmtTask *task)
{
  guint n;

  g_mutex_lock (&stress->completed_mutex);
  n = GPOINTER_TO_UINT (g_hash_table_lookup (stress->n_completed,
                                             GSIZE_TO_POINTER (pmt_task_get_id (task))));
  g_mutex_unlock (&stress->completed_mutex);

  return n;
}

static gboolean
completed_hook (GSignalInvocationHint *ihint,
                guint                  n_param_values,
                const GValue          *param_values,
                gpointer               user_data)
{
  Stress *stress = user_data;
  PmtTask *task = g_value_get_object (&param_values[0]);
  gpointer key = GSIZE_TO_POINTER (pmt_task_get_id (task));
  guint n;

  g_mutex_lock (&stress->completed_mutex);
  n = GPOINTER_TO_UINT (g_hash_table_lookup (stress->n_completed, key));
  g_hash_table_insert (stress->n_completed, key, GUINT_TO_POINTER (n + 1));
  stress->n_completed_total++;
  g_mutex_unlock (&stress->completed_mutex);

  return TRUE;
}

static Stress *stress_for_func;

static void
stress_func (PmtTask  *task,
             gpointer  user_data)
{
  Stress *stress = stress_for_func;
  guint index = GPOINTER_TO_UINT (user_data);

  g_atomic_int_inc (&stress->n_runs[index]);
  g_atomic_int_set (&stress->last_started, index);

  if (index % CHECK_CANCEL_EVERY == 0)
    {
      GError *error = NULL;
      volatile guint work = index;

      /* Long enough for a canceller to catch it running now and then. */
      for (guint i = 0; i < WORK_ITERATIONS; i++)
        work = work * 1103515245 + 12345;

      if (g_cancellable_set_error_if_cancelled (pmt_task_get_cancellable (task), &error))
        {
          g_atomic_int_set (&stress->saw_cancel[index], 1);
          pmt_task_return_error (task, error);
          return;
        }
    }

  if (index % FAIL_EVERY == 0)
    pmt_task_return_new_error (task, PMT_ERROR, PMT_ERROR_FAILED,
                               "task %u fails on purpose", index);
  else
    pmt_task_return_int (task, EXPECTED_RESULT (index));
}

static void
stress_job (gpointer user_data)
{
  g_atomic_int_inc (&stress_for_func->job_runs[GPOINTER_TO_UINT (user_data)]);
}

static void
stress_job_notify (gpointer user_data)
{
  g_atomic_int_inc (&stress_for_func->job_notifies[GPOINTER_TO_UINT (user_data)]);
}

static void
publish (Stress *stress,
         guint   submitter,
         guint   published)
{
  g_mutex_lock (&stress->progress_mutex);
  stress->total_published += published - stress->published[submitter];
  stress->published[submitter] = published;
  g_cond_broadcast (&stress->progress_cond);
  g_mutex_unlock (&stress->progress_mutex);
}

/* Half the submitters make their tasks with pmt_pool_submit_full(), half
 * push tasks of their own with pmt_pool_push(). */
static gpointer
submitter_thread (gpointer data)
{
  ThreadData *thread = data;
  Stress *stress = thread->stress;
  GRand *rand = g_rand_new_with_seed (stress->seeds[thread->index]);
  guint first = stress->first[thread->index];
  guint count = stress->count[thread->index];

  for (guint j = 0; j < count; j++)
    {
      guint index = first + j;
      gint priority = g_rand_int_range (rand, -10, 11);
      GError *error = NULL;
      PmtTask *task;

      if (thread->index % 2 == 0)
        {
          task = pmt_pool_submit_full (stress->pool, priority, stress_func,
                                       GUINT_TO_POINTER (index), NULL, &error);
          g_assert_no_error (error);
          g_assert_nonnull (task);
        }
      else
        {
          task = pmt_task_new (stress_func, GUINT_TO_POINTER (index), NULL);
          pmt_task_set_priority (task, priority);
          g_assert_true (pmt_pool_push (stress->pool, task, &error));
          g_assert_no_error (error);
        }
      g_assert_cmpint (pmt_task_get_priority (task), ==, priority);

      g_assert_true (pmt_pool_execute_full (stress->pool, priority, stress_job,
                                            GUINT_TO_POINTER (index), stress_job_notify,
                                            &error));
      g_assert_no_error (error);

      /* Written before publish() takes progress_mutex; readers take it
       * too and read only published slots. */
      stress->tasks[index] = task;

      if ((j + 1) % PUBLISH_EVERY == 0)
        publish (stress, thread->index, j + 1);
    }
  publish (stress, thread->index, count);

  g_rand_free (rand);

  return NULL;
}

static gboolean
owner_of (Stress *stress,
          guint   index,
          guint  *submitter)
{
  for (guint s = 0; s < N_SUBMITTERS; s++)
    {
      if (index >= stress->first[s] && index < stress->first[s] + stress->count[s])
        {
          *submitter = s;
          return TRUE;
        }
    }

  return FALSE;
}

/* Cancels published tasks, one per CANCEL_EVERY published, until the
 * submitters are done: random ones (mostly queued or done), and every
 * other time the one started last (sometimes still running). */
static gpointer
canceller_thread (gpointer data)
{
  ThreadData *thread = data;
  Stress *stress = thread->stress;
  GRand *rand = g_rand_new_with_seed (stress->seeds[N_SUBMITTERS + thread->index]);

  for (guint n = 1; ; n++)
    {
      guint submitter = g_rand_int_range (rand, 0, N_SUBMITTERS);
      PmtTask *task = NULL;
      gboolean done;

      g_mutex_lock (&stress->progress_mutex);
      while (stress->total_published < n * CANCEL_EVERY && !stress->submitters_done)
        g_cond_wait (&stress->progress_cond, &stress->progress_mutex);
      done = stress->submitters_done;
      if (!done && n % 2 == 0)
        {
          guint index = g_atomic_int_get (&stress->last_started);

          /* It may have started before its submitter published it. */
          if (owner_of (stress, index, &submitter) &&
              index < stress->first[submitter] + stress->published[submitter])
            task = stress->tasks[index];
        }
      else if (!done && stress->published[submitter] > 0)
        task = stress->tasks[stress->first[submitter] +
                             g_rand_int_range (rand, 0, stress->published[submitter])];
      g_mutex_unlock (&stress->progress_mutex);

      if (done)
        break;

      /* @tasks keeps its reference until the end. */
      if (task != NULL)
        {
          pmt_task_cancel (task);
          g_atomic_int_inc (&stress->n_cancel_calls);
        }
    }

  g_rand_free (rand);

  return NULL;
}

/* Waits, with pmt_task_wait (-1), on the tasks i with
 * i % (N_WAITERS * WAIT_EVERY) == index * WAIT_EVERY, once each is
 * published.  When it wakes, the task is done and has emitted
 * #PmtTask::completed (in the finishing thread, before waiters wake). */
static gpointer
waiter_thread (gpointer data)
{
  ThreadData *thread = data;
  Stress *stress = thread->stress;

  for (guint i = thread->index * WAIT_EVERY; i < stress->n_tasks; i += N_WAITERS * WAIT_EVERY)
    {
      PmtTask *task;
      guint submitter = 0;

      g_assert_true (owner_of (stress, i, &submitter));

      g_mutex_lock (&stress->progress_mutex);
      while (i >= stress->first[submitter] + stress->published[submitter])
        g_cond_wait (&stress->progress_cond, &stress->progress_mutex);
      task = stress->tasks[i];
      g_mutex_unlock (&stress->progress_mutex);

      g_assert_true (pmt_task_wait (task, -1));
      g_assert_true (pmt_task_is_done (task));
      g_assert_cmpuint (count_completed (stress, task), ==, 1);
      stress->n_woken[i]++;
      g_atomic_int_inc (&stress->n_waits);
    }

  pmt_test_increment_uint (&stress->progress_mutex, &stress->progress_cond,
                           &stress->n_waiters_done);

  return NULL;
}

static guint
get_n_tasks (void)
{
  const char *env = g_getenv ("PMT_STRESS_TASKS");
  guint64 n;

  if (env == NULL || *env == '\0')
    return DEFAULT_N_TASKS;

  if (!g_ascii_string_to_unsigned (env, 10, 1, G_MAXINT / 4, &n, NULL))
    g_error ("PMT_STRESS_TASKS=%s: expected a number of tasks from 1 to %d", env, G_MAXINT / 4);

  return n;
}

static void
test_stress (void)
{
  Stress stress = { 0, };
  ThreadData submitter_data[N_SUBMITTERS];
  ThreadData canceller_data[N_CANCELLERS];
  ThreadData waiter_data[N_WAITERS];
  GThread *submitters[N_SUBMITTERS];
  GThread *cancellers[N_CANCELLERS];
  GThread *waiters[N_WAITERS];
  g_autoptr(GError) error = NULL;
  guint64 n_by_state[PMT_TASK_STATE_CANCELLED + 1] = { 0, };
  guint64 n_submitted, n_succeeded, n_failed, n_cancelled;
  guint n_waited = 0, n_started_then_cancelled = 0;
  guint64 n_jobs_run = 0;
  guint n_waiters_done;
  g_autoptr(PmtPool) lookup = NULL;
  gint64 start, submitted_time, shutdown_time;
  guint64 *ids;
  gpointer task_class;
  gulong hook_id;
  guint signal_id;

  stress.n_tasks = get_n_tasks ();
  stress.tasks = g_new0 (PmtTask *, stress.n_tasks);
  stress.n_runs = g_new0 (gint, stress.n_tasks);
  stress.saw_cancel = g_new0 (gint, stress.n_tasks);
  stress.n_woken = g_new0 (gint, stress.n_tasks);
  stress.job_runs = g_new0 (gint, stress.n_tasks);
  stress.job_notifies = g_new0 (gint, stress.n_tasks);
  ids = g_new0 (guint64, stress.n_tasks);
  g_mutex_init (&stress.completed_mutex);
  stress.n_completed = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_mutex_init (&stress.progress_mutex);
  g_cond_init (&stress.progress_cond);
  for (guint i = 0; i < G_N_ELEMENTS (stress.seeds); i++)
    stress.seeds[i] = g_test_rand_int ();
  for (guint s = 0; s < N_SUBMITTERS; s++)
    {
      stress.first[s] = (guint64) stress.n_tasks * s / N_SUBMITTERS;
      stress.count[s] = (guint64) stress.n_tasks * (s + 1) / N_SUBMITTERS - stress.first[s];
    }
  stress_for_func = &stress;

  task_class = g_type_class_ref (PMT_TYPE_TASK);
  signal_id = g_signal_lookup ("completed", PMT_TYPE_TASK);
  g_assert_cmpuint (signal_id, !=, 0);
  hook_id = g_signal_add_emission_hook (signal_id, 0, completed_hook, &stress, NULL);

  stress.pool = pmt_pool_new ("pmt-stress", MAX_WORKERS, &error);
  g_assert_no_error (error);
  g_assert_nonnull (stress.pool);
  pmt_test_finalize_watch_init (&stress.pool_finalized, stress.pool);

  g_test_message ("%u tasks and as many jobs, %d submitters, %d cancellers, %d waiters, %d workers",
                  stress.n_tasks, N_SUBMITTERS, N_CANCELLERS, N_WAITERS, MAX_WORKERS);

  start = g_get_monotonic_time ();

  for (guint i = 0; i < N_WAITERS; i++)
    {
      waiter_data[i] = (ThreadData) { &stress, i };
      waiters[i] = g_thread_new ("pmt-t-waiter", waiter_thread, &waiter_data[i]);
    }
  for (guint i = 0; i < N_CANCELLERS; i++)
    {
      canceller_data[i] = (ThreadData) { &stress, i };
      cancellers[i] = g_thread_new ("pmt-t-canceller", canceller_thread, &canceller_data[i]);
    }
  for (guint i = 0; i < N_SUBMITTERS; i++)
    {
      submitter_data[i] = (ThreadData) { &stress, i };
      submitters[i] = g_thread_new ("pmt-t-submitter", submitter_thread, &submitter_data[i]);
    }

  for (guint i = 0; i < N_SUBMITTERS; i++)
    g_thread_join (submitters[i]);
  pmt_test_set_flag (&stress.progress_mutex, &stress.progress_cond, &stress.submitters_done);
  for (guint i = 0; i < N_CANCELLERS; i++)
    g_thread_join (cancellers[i]);

  submitted_time = g_get_monotonic_time ();
  g_test_message ("submitted in %.2f s; %u queued, %u unfinished, %d cancel calls",
                  (submitted_time - start) / (gdouble) G_USEC_PER_SEC,
                  pmt_pool_get_n_queued (stress.pool), pmt_pool_get_n_unfinished (stress.pool),
                  g_atomic_int_get (&stress.n_cancel_calls));

  g_assert_true (pmt_pool_shutdown (stress.pool, PMT_SHUTDOWN_CANCEL_QUEUED, -1));
  shutdown_time = g_get_monotonic_time ();

  /* Exact once shutdown returned TRUE. */
  g_assert_cmpint (pmt_pool_get_state (stress.pool), ==, PMT_POOL_STATE_STOPPED);
  n_submitted = pmt_pool_get_n_submitted (stress.pool);
  n_succeeded = pmt_pool_get_n_succeeded (stress.pool);
  n_failed = pmt_pool_get_n_failed (stress.pool);
  n_cancelled = pmt_pool_get_n_cancelled (stress.pool);
  g_assert_cmpuint (pmt_pool_get_n_queued (stress.pool), ==, 0);
  g_assert_cmpuint (pmt_pool_get_n_unfinished (stress.pool), ==, 0);
  g_assert_cmpuint (pmt_pool_get_n_workers (stress.pool), ==, 0);
  g_assert_cmpuint (pmt_pool_get_n_busy_workers (stress.pool), ==, 0);

  /* A stopped pool has left the registry. */
  g_clear_object (&stress.pool);
  lookup = pmt_pool_lookup ("pmt-stress");
  g_assert_null (lookup);

  /* Every waiter woke: bounded, so that a lost wake-up fails instead of
   * hanging. */
  n_waiters_done = pmt_test_wait_uint (&stress.progress_mutex, &stress.progress_cond,
                                       &stress.n_waiters_done, N_WAITERS, SAFETY_TIMEOUT_USEC);
  if (n_waiters_done < N_WAITERS)
    g_error ("only %u of %d waiters woke for all their tasks", n_waiters_done, N_WAITERS);
  for (guint i = 0; i < N_WAITERS; i++)
    g_thread_join (waiters[i]);

  /* Every task: terminal, in the state its outcome says, completed once. */
  g_assert_cmpuint (g_hash_table_size (stress.n_completed), ==, stress.n_tasks);
  g_assert_cmpuint (stress.n_completed_total, ==, stress.n_tasks);
  for (guint i = 0; i < stress.n_tasks; i++)
    {
      PmtTask *task = stress.tasks[i];
      PmtTaskState state;
      gint n_runs = g_atomic_int_get (&stress.n_runs[i]);

      g_assert_nonnull (task);
      ids[i] = pmt_task_get_id (task);
      state = pmt_task_get_state (task);
      g_assert_true (pmt_task_is_done (task));
      g_assert_true (pmt_task_wait (task, 0));
      g_assert_cmpint (state, >=, PMT_TASK_STATE_SUCCEEDED);
      g_assert_cmpint (state, <=, PMT_TASK_STATE_CANCELLED);
      n_by_state[state]++;

      if (count_completed (&stress, task) != 1)
        g_error ("task %u (%s) emitted completed %u times", i,
                 g_enum_to_string (PMT_TYPE_TASK_STATE, state), count_completed (&stress, task));
      g_assert_cmpint (n_runs, <=, 1);

      switch (state)
        {
        case PMT_TASK_STATE_SUCCEEDED:
          g_assert_cmpint (n_runs, ==, 1);
          g_assert_cmpuint (i % FAIL_EVERY, !=, 0);
          g_assert_no_error (pmt_task_get_error (task));
          g_assert_nonnull (pmt_task_get_result (task));
          g_assert_true (G_VALUE_HOLDS_INT64 (pmt_task_get_result (task)));
          g_assert_cmpint (g_value_get_int64 (pmt_task_get_result (task)), ==, EXPECTED_RESULT (i));
          break;

        case PMT_TASK_STATE_FAILED:
          g_assert_cmpint (n_runs, ==, 1);
          g_assert_cmpuint (i % FAIL_EVERY, ==, 0);
          g_assert_error (pmt_task_get_error (task), PMT_ERROR, PMT_ERROR_FAILED);
          g_assert_null (pmt_task_get_result (task));
          break;

        case PMT_TASK_STATE_CANCELLED:
          g_assert_error (pmt_task_get_error (task), G_IO_ERROR, G_IO_ERROR_CANCELLED);
          g_assert_null (pmt_task_get_result (task));
          /* Either it never ran, or it ran and honoured its cancellable. */
          if (n_runs == 1)
            {
              g_assert_cmpint (g_atomic_int_get (&stress.saw_cancel[i]), ==, 1);
              n_started_then_cancelled++;
            }
          break;

        case PMT_TASK_STATE_PENDING:
        case PMT_TASK_STATE_QUEUED:
        case PMT_TASK_STATE_RUNNING:
        default:
          g_assert_not_reached ();
        }

      if (i % WAIT_EVERY == 0)
        {
          g_assert_cmpint (stress.n_woken[i], ==, 1);
          n_waited++;
        }
      else
        g_assert_cmpint (stress.n_woken[i], ==, 0);
    }
  g_assert_cmpint (g_atomic_int_get (&stress.n_waits), ==, n_waited);

  /* Every job: run at most once, its data let go of exactly once. */
  for (guint i = 0; i < stress.n_tasks; i++)
    {
      g_assert_cmpint (g_atomic_int_get (&stress.job_runs[i]), <=, 1);
      g_assert_cmpint (g_atomic_int_get (&stress.job_notifies[i]), ==, 1);
      n_jobs_run += g_atomic_int_get (&stress.job_runs[i]);
    }

  /* The pool's counters against the tasks and jobs themselves: a job
   * succeeds when it ran, and is cancelled when it did not. */
  g_assert_cmpuint (n_submitted, ==, 2 * (guint64) stress.n_tasks);
  g_assert_cmpuint (n_succeeded + n_failed + n_cancelled, ==, n_submitted);
  g_assert_cmpuint (n_succeeded, ==, n_by_state[PMT_TASK_STATE_SUCCEEDED] + n_jobs_run);
  g_assert_cmpuint (n_failed, ==, n_by_state[PMT_TASK_STATE_FAILED]);
  g_assert_cmpuint (n_cancelled, ==,
                    n_by_state[PMT_TASK_STATE_CANCELLED] + (stress.n_tasks - n_jobs_run));

  g_test_message ("%" G_GUINT64_FORMAT " succeeded, %" G_GUINT64_FORMAT " failed, %"
                  G_GUINT64_FORMAT " cancelled (%u while running); %" G_GUINT64_FORMAT
                  " of %u jobs ran; %u waits",
                  n_succeeded, n_failed, n_cancelled, n_started_then_cancelled, n_jobs_run,
                  stress.n_tasks, n_waited);
  g_test_message ("time: %.2f s in all (submitting %.2f s, shutdown %.2f s, checks %.2f s)",
                  (g_get_monotonic_time () - start) / (gdouble) G_USEC_PER_SEC,
                  (submitted_time - start) / (gdouble) G_USEC_PER_SEC,
                  (shutdown_time - submitted_time) / (gdouble) G_USEC_PER_SEC,
                  (g_get_monotonic_time () - shutdown_time) / (gdouble) G_USEC_PER_SEC);

  /* The tasks go: the pool must get finalized (finished tasks may keep
   * their worker, and so the pool, alive until then), and nothing emits
   * #PmtTask::completed any more. */
  for (guint i = 0; i < stress.n_tasks; i++)
    g_object_unref (stress.tasks[i]);
  g_assert_true (pmt_test_finalize_watch_wait (&stress.pool_finalized, SAFETY_TIMEOUT_USEC));

  g_signal_remove_emission_hook (signal_id, hook_id);
  g_type_class_unref (task_class);

  g_mutex_lock (&stress.completed_mutex);
  g_assert_cmpuint (stress.n_completed_total, ==, stress.n_tasks);
  g_assert_cmpuint (g_hash_table_size (stress.n_completed), ==, stress.n_tasks);
  for (guint i = 0; i < stress.n_tasks; i++)
    g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (stress.n_completed,
                                                             GSIZE_TO_POINTER (ids[i]))), ==, 1);
  g_mutex_unlock (&stress.completed_mutex);

  g_free (ids);
  g_free (stress.tasks);
  g_free (stress.n_runs);
  g_free (stress.saw_cancel);
  g_free (stress.n_woken);
  g_free (stress.job_runs);
  g_free (stress.job_notifies);
  g_hash_table_unref (stress.n_completed);
  g_mutex_clear (&stress.completed_mutex);
  g_mutex_clear (&stress.progress_mutex);
  g_cond_clear (&stress.progress_cond);
  pmt_test_finalize_watch_clear (&stress.pool_finalized);
  stress_for_func = NULL;
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/pmt/pool/stress", test_stress);

  return g_test_run ();
}
