/* test-faults.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Fault injection: the outside world fails (threads that cannot start,
 * children that cannot be forked or are killed from outside) and task
 * functions misbehave.  Whatever happens, every accepted task ends in one
 * terminal state, nothing hangs and nothing crashes.
 *
 * Thread and fork failures come from the LD_PRELOAD shims of
 * tests/faults/, which meson preloads; this program reaches their
 * controls with dlsym().  Run by hand without them, those tests skip. */

#include <dlfcn.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pmt.h>

#include "pmt-test-utils.h"

#define SAFETY_TIMEOUT_USEC PMT_TEST_SAFETY_TIMEOUT_USEC
#define GUARD_USEC          (60 * G_USEC_PER_SEC)

typedef unsigned long (*FaultThreadsFunc) (int every_nth, long count);
typedef long (*FaultForkFunc) (long count);

static FaultThreadsFunc fault_threads;
static FaultForkFunc fault_fork;

/* Finds the shims' controls.  A missing shim skips the test, or fails it
 * when PMT_TEST_REQUIRE_SHIMS says that the shims must be there (meson
 * sets it: a silently skipped fault test would prove nothing). */
static gboolean
have_shim (gpointer symbol)
{
  if (symbol != NULL)
    return TRUE;

  if (g_getenv ("PMT_TEST_REQUIRE_SHIMS") != NULL)
    g_test_fail_printf ("the fault shims of tests/faults/ are not preloaded");
  else
    g_test_skip ("needs LD_PRELOAD of the fault shims of tests/faults/");

  return FALSE;
}

/* Every call of pthread_create() fails from now on (@every_nth 1), or
 * every Nth; 0 stops the failures.  Returns how many failed so far. */
static unsigned long
fail_threads (int every_nth)
{
  return fault_threads (every_nth, -1);
}

static void
assert_failed_for_thread (PmtTask *task)
{
  const GError *error;

  g_assert_true (pmt_task_wait (task, SAFETY_TIMEOUT_USEC));
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_FAILED);
  error = pmt_task_get_error (task);
  g_assert_error (error, PMT_ERROR, PMT_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "thread"));
}

/* What happened to a job: the data of job_run() and job_notify(). */
typedef struct
{
  gint n_run;
  gint n_notified;
} JobCount;

static void
job_run (gpointer data)
{
  g_atomic_int_inc (&((JobCount *) data)->n_run);
}

static void
job_notify (gpointer data)
{
  g_atomic_int_inc (&((JobCount *) data)->n_notified);
}

/* Thread creation fails {{{1 */

/* A pool with no worker whose first thread cannot start: the task and
 * the job it was given must not wait in the queue for ever.  The task
 * fails with a PMT_ERROR, the job is dropped with its notify, and the
 * pool works again once threads can start. */
static void
test_threads_pool_without_workers (void)
{
  g_autoptr(PmtPool) pool = NULL;
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(PmtTask) later = NULL;
  JobCount job = { 0, 0 };
  gint n_runs = 0;
  unsigned long failed_before;

  if (!have_shim (fault_threads))
    return;

  pool = pmt_test_new_pool (NULL, 2);
  failed_before = fail_threads (1);

  task = pmt_pool_submit (pool, pmt_test_count_func, &n_runs, NULL, NULL);
  g_assert_nonnull (task);
  assert_failed_for_thread (task);
  g_assert_true (pmt_pool_execute (pool, job_run, &job, job_notify, NULL));
  g_assert_true (pmt_pool_wait_completion (pool, SAFETY_TIMEOUT_USEC, FALSE));

  g_assert_cmpuint (fail_threads (0), >, failed_before);
  g_assert_cmpint (g_atomic_int_get (&n_runs), ==, 0);
  g_assert_cmpint (g_atomic_int_get (&job.n_run), ==, 0);
  g_assert_cmpint (g_atomic_int_get (&job.n_notified), ==, 1);
  pmt_test_assert_pool_settled (pool);
  g_assert_cmpuint (pmt_pool_get_n_failed (pool), ==, 1);
  g_assert_cmpuint (pmt_pool_get_n_cancelled (pool), ==, 1);
  g_assert_cmpuint (pmt_pool_get_n_workers (pool), ==, 0);

  /* Threads start again: so does the pool. */
  later = pmt_pool_submit (pool, pmt_test_count_func, &n_runs, NULL, NULL);
  pmt_test_assert_task_succeeded (later);
  g_assert_cmpint (g_atomic_int_get (&n_runs), ==, 1);
  pmt_test_shutdown_pool (pool);
}

/* A pool whose extra workers cannot start runs everything on the
 * workers it has. */
static void
test_threads_pool_keeps_its_workers (void)
{
  g_autoptr(PmtPool) pool = NULL;
  g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);
  PmtTestGate gate;
  g_autoptr(PmtTask) held = NULL;
  gint n_runs = 0;
  unsigned long failed_before;

  if (!have_shim (fault_threads))
    return;

  pool = pmt_test_new_pool (NULL, 4);
  pmt_test_gate_init (&gate);
  held = pmt_pool_submit (pool, pmt_test_gate_func, &gate, NULL, NULL);
  pmt_test_gate_wait_started (&gate, 1);
  failed_before = fail_threads (1);

  /* Queued work outnumbers idle workers: the pool tries to grow. */
  for (guint i = 0; i < 100; i++)
    g_ptr_array_add (tasks, pmt_pool_submit (pool, pmt_test_count_func, &n_runs, NULL, NULL));
  g_assert_cmpuint (fault_threads (1, -1), >, failed_before);
  pmt_test_gate_open (&gate);

  for (guint i = 0; i < tasks->len; i++)
    pmt_test_assert_task_succeeded (g_ptr_array_index (tasks, i));
  pmt_test_assert_task_succeeded (held);
  g_assert_cmpint (g_atomic_int_get (&n_runs), ==, 100);
  g_assert_cmpuint (pmt_pool_get_n_workers (pool), ==, 1);

  fail_threads (0);
  pmt_test_shutdown_pool (pool);
  pmt_test_gate_clear (&gate);
}

/* A standalone worker whose thread cannot start refuses the push with
 * the thread's error and leaves the task untouched, to push elsewhere. */
static void
test_threads_worker_push_refused (void)
{
  g_autoptr(PmtWorker) worker = pmt_worker_new (NULL);
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(GError) error = NULL;
  gint n_runs = 0;

  if (!have_shim (fault_threads))
    return;

  task = pmt_task_new (pmt_test_count_func, &n_runs, NULL);
  fail_threads (1);
  g_assert_false (pmt_worker_push (worker, task, &error));
  fail_threads (0);
  g_assert_error (error, G_THREAD_ERROR, G_THREAD_ERROR_AGAIN);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_PENDING);
  g_assert_false (pmt_worker_is_running (worker));
  g_assert_cmpint (pmt_worker_get_state (worker), ==, PMT_WORKER_STATE_IDLE);

  g_assert_true (pmt_worker_push (worker, task, NULL));
  pmt_test_assert_task_succeeded (task);
  g_assert_cmpint (g_atomic_int_get (&n_runs), ==, 1);
  pmt_test_worker_stop_and_join (worker);
}

/* Threaded calls that need a new thread fail with its error, return no
 * task, and leak nothing (the call data is released). */
static void
test_threads_threaded_call_refused (void)
{
  const PmtThreadedMode modes[] = { PMT_THREADED_MODE_THREAD, PMT_THREADED_MODE_DAEMON };

  if (!have_shim (fault_threads))
    return;

  for (guint i = 0; i < G_N_ELEMENTS (modes); i++)
    {
      g_autoptr(PmtThreaded) threaded = pmt_threaded_new (pmt_test_count_func, NULL, NULL);
      g_autoptr(PmtTask) task = NULL;
      g_autoptr(PmtTask) later = NULL;
      g_autoptr(GError) error = NULL;
      gint n_released = 0;

      pmt_threaded_set_mode (threaded, modes[i]);
      fail_threads (1);
      task = pmt_threaded_call (threaded, &n_released, pmt_test_count_notify, &error);
      fail_threads (0);
      g_assert_null (task);
      g_assert_error (error, G_THREAD_ERROR, G_THREAD_ERROR_AGAIN);
      g_assert_cmpint (n_released, ==, 1);

      later = pmt_threaded_call (threaded, NULL, NULL, NULL);
      pmt_test_assert_task_succeeded (later);
      if (modes[i] == PMT_THREADED_MODE_DAEMON)
        {
          g_autoptr(PmtWorker) worker = pmt_threaded_dup_worker (threaded);

          pmt_test_worker_stop_and_join (worker);
        }
    }
}

typedef struct
{
  PmtPool *pool;
  PmtTestGate *start;
  GPtrArray *tasks;         /* filled by the thread */
  JobCount jobs;
} Submitter;

#define N_ROUNDS        500
#define N_PER_ROUND     1
#define N_PER_SUBMITTER (N_ROUNDS * N_PER_ROUND)

/* Bursts of work, each waited for: the pool's workers leave between
 * them, so that many bursts find a pool with no worker. */
static gpointer
submit_many (gpointer data)
{
  Submitter *submitter = data;

  pmt_test_gate_wait_open (submitter->start);
  for (guint round = 0; round < N_ROUNDS; round++)
    {
      for (guint i = 0; i < N_PER_ROUND; i++)
        {
          g_ptr_array_add (submitter->tasks,
                           pmt_pool_submit (submitter->pool, pmt_test_count_func, NULL, NULL,
                                            NULL));
          g_assert_true (pmt_pool_execute (submitter->pool, job_run, &submitter->jobs,
                                           job_notify, NULL));
        }
      g_assert_true (pmt_pool_wait_completion (submitter->pool, SAFETY_TIMEOUT_USEC, FALSE));
    }

  return NULL;
}

/* Every third thread fails to start while workers come and go (no idle
 * time: a worker exits as soon as the queue is empty): every task ends
 * succeeded or failed with the thread's PMT_ERROR, every job's notify
 * runs once, and the counters add up. */
static void
test_threads_every_third (void)
{
  g_autoptr(PmtPool) pool = NULL;
  Submitter submitters[2];
  GThread *threads[G_N_ELEMENTS (submitters)];
  PmtTestGate start;
  guint64 n_failed = 0, n_jobs_cancelled;
  unsigned long failed_before;

  if (!have_shim (fault_threads))
    return;

  pool = pmt_test_new_pool (NULL, 4);
  pmt_pool_set_idle_timeout (pool, 0);
  pmt_test_gate_init (&start);

  /* Our own threads start before the failures do. */
  for (guint i = 0; i < G_N_ELEMENTS (submitters); i++)
    {
      submitters[i] = (Submitter) { pool, &start, g_ptr_array_new_with_free_func (g_object_unref),
                                    { 0, 0 } };
      threads[i] = g_thread_new ("submitter", submit_many, &submitters[i]);
    }
  failed_before = fail_threads (3);
  pmt_test_gate_open (&start);
  for (guint i = 0; i < G_N_ELEMENTS (submitters); i++)
    g_thread_join (threads[i]);
  pmt_test_gate_clear (&start);
  g_assert_true (pmt_pool_wait_completion (pool, SAFETY_TIMEOUT_USEC, FALSE));
  g_assert_cmpuint (fail_threads (0), >, failed_before);

  for (guint i = 0; i < G_N_ELEMENTS (submitters); i++)
    {
      for (guint j = 0; j < submitters[i].tasks->len; j++)
        {
          PmtTask *task = g_ptr_array_index (submitters[i].tasks, j);

          g_assert_true (pmt_task_is_done (task));
          if (pmt_task_get_state (task) == PMT_TASK_STATE_FAILED)
            {
              assert_failed_for_thread (task);
              n_failed++;
            }
          else
            g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_SUCCEEDED);
        }
      g_assert_cmpint (submitters[i].jobs.n_notified, ==, N_PER_SUBMITTER);
      g_assert_cmpint (submitters[i].jobs.n_run, <=, N_PER_SUBMITTER);
      g_ptr_array_unref (submitters[i].tasks);
    }

  pmt_test_assert_pool_settled (pool);
  g_assert_cmpuint (pmt_pool_get_n_failed (pool), ==, n_failed);
  n_jobs_cancelled = pmt_pool_get_n_cancelled (pool);
  g_assert_cmpuint (n_jobs_cancelled, ==,
                    2 * N_PER_SUBMITTER - submitters[0].jobs.n_run - submitters[1].jobs.n_run);
  g_test_message ("%" G_GUINT64_FORMAT " tasks failed, %" G_GUINT64_FORMAT " jobs dropped",
                  n_failed, n_jobs_cancelled);
  pmt_test_shutdown_pool (pool);
}

/* }}} */

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  fault_threads = (FaultThreadsFunc) dlsym (RTLD_DEFAULT, "pmt_fault_pthread_create");
  fault_fork = (FaultForkFunc) dlsym (RTLD_DEFAULT, "pmt_fault_fork");

  pmt_test_add_guarded_func ("/pmt/faults/threads/pool-without-workers",
                             test_threads_pool_without_workers, GUARD_USEC);
  pmt_test_add_guarded_func ("/pmt/faults/threads/pool-keeps-its-workers",
                             test_threads_pool_keeps_its_workers, GUARD_USEC);
  pmt_test_add_guarded_func ("/pmt/faults/threads/worker-push-refused",
                             test_threads_worker_push_refused, GUARD_USEC);
  pmt_test_add_guarded_func ("/pmt/faults/threads/threaded-call-refused",
                             test_threads_threaded_call_refused, GUARD_USEC);
  pmt_test_add_guarded_func ("/pmt/faults/threads/every-third",
                             test_threads_every_third, GUARD_USEC);

  return g_test_run ();
}
