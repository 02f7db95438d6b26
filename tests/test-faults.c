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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <pmt.h>

#include "pmt-test-utils.h"

#define SAFETY_TIMEOUT_USEC PMT_TEST_SAFETY_TIMEOUT_USEC
#define GUARD_USEC          (60 * G_USEC_PER_SEC)

typedef unsigned long (*FaultThreadsFunc) (int every_nth, long count);
typedef long (*FaultForkFunc) (long count);

/* PMT_TEST_SIZE=small (the valgrind setup sets it) runs the loops of the
 * tests a few times instead of many. */
static guint n_rounds = 500;
static guint n_race_rounds = 40;
static guint megabytes = 8;

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

#define N_PER_ROUND     1
#define N_PER_SUBMITTER (n_rounds * N_PER_ROUND)

/* Bursts of work, each waited for: the pool's workers leave between
 * them, so that many bursts find a pool with no worker. */
static gpointer
submit_many (gpointer data)
{
  Submitter *submitter = data;

  pmt_test_gate_wait_open (submitter->start);
  for (guint round = 0; round < n_rounds; round++)
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

/* Commands {{{1 */

static PmtTask *
run_command_in (PmtPool            *pool,
                const char * const *argv)
{
  g_autoptr(GError) error = NULL;
  PmtCommandTask *task = pmt_pool_submit_command (pool, 0, argv, &error);

  g_assert_no_error (error);
  g_assert_true (pmt_task_wait (PMT_TASK (task), GUARD_USEC / 2));

  return PMT_TASK (task);
}

/* fork() fails: the command task fails with the spawn error, leaves no
 * descriptor open, and the next command runs. */
static void
test_commands_fork_fails (void)
{
  static const char * const argv[] = { "true", NULL };
  g_autoptr(PmtPool) pool = NULL;
  g_autoptr(PmtTask) first = NULL;
  g_autoptr(PmtTask) failed = NULL;
  g_autoptr(PmtTask) later = NULL;
  guint n_fds;

  if (!have_shim (fault_fork))
    return;

  pool = pmt_test_new_pool (NULL, 1);
  /* GLib's child watch thread starts with the first child. */
  first = run_command_in (pool, argv);
  pmt_test_assert_task_succeeded (first);
  n_fds = pmt_test_count_open_fds ();

  fault_fork (1);
  failed = run_command_in (pool, argv);
  g_assert_cmpint (fault_fork (0), ==, 0);
  g_assert_cmpint (pmt_task_get_state (failed), ==, PMT_TASK_STATE_FAILED);
  g_assert_error (pmt_task_get_error (failed), G_SPAWN_ERROR, G_SPAWN_ERROR_FORK);
  g_assert_cmpuint (pmt_test_count_open_fds (), ==, n_fds);

  later = run_command_in (pool, argv);
  pmt_test_assert_task_succeeded (later);
  pmt_test_shutdown_pool (pool);
}

/* The child is killed from outside (SIGKILL, by us): the task fails with
 * PMT_ERROR_COMMAND_FAILED naming the signal.  The child tells its pid
 * through a FIFO, whose open blocks until it writes: no polling. */
static void
test_commands_killed_from_outside (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pmt-faults-XXXXXX", NULL);
  g_autofree char *fifo = g_build_filename (dir, "pid", NULL);
  g_autofree char *script = g_strdup_printf ("echo $$ > '%s'; exec sleep 600", fifo);
  const char *argv[] = { "sh", "-c", script, NULL };
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 1);
  g_autoptr(PmtCommandTask) task = NULL;
  g_autofree char *text = NULL;
  guint64 pid = 0;
  const GError *error;

  g_assert_nonnull (dir);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  task = pmt_pool_submit_command (pool, 0, argv, NULL);
  g_assert_true (g_file_get_contents (fifo, &text, NULL, NULL));
  g_assert_true (g_ascii_string_to_unsigned (g_strstrip (text), 10, 2, G_MAXINT, &pid, NULL));

  g_assert_cmpint (kill ((pid_t) pid, SIGKILL), ==, 0);
  g_assert_true (pmt_task_wait (PMT_TASK (task), SAFETY_TIMEOUT_USEC));
  g_assert_cmpint (pmt_task_get_state (PMT_TASK (task)), ==, PMT_TASK_STATE_FAILED);
  error = pmt_task_get_error (PMT_TASK (task));
  g_assert_error (error, PMT_ERROR, PMT_ERROR_COMMAND_FAILED);
  g_assert_nonnull (strstr (error->message, "9"));

  pmt_test_shutdown_pool (pool);
  g_assert_cmpint (g_unlink (fifo), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* A child writes megabytes to its standard output and its standard
 * error at once: no deadlock, the whole output is collected, and only
 * the tail of the errors is kept (it shows in a failure's message, which
 * stays short). */
static void
test_commands_megabytes_both_ways (void)
{
  g_autofree char *script =
    g_strdup_printf ("head -c %d /dev/zero | tr '\\0' o & "
                     "head -c %d /dev/zero | tr '\\0' e >&2; wait; exit $1",
                     megabytes << 20, megabytes << 20);
  const char *succeed[] = { "sh", "-c", script, "sh", "0", NULL };
  const char *fail[] = { "sh", "-c", script, "sh", "3", NULL };
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 2);
  g_autoptr(PmtTask) good = run_command_in (pool, succeed);
  g_autoptr(PmtTask) bad = run_command_in (pool, fail);
  GBytes *out;
  const GError *error;

  pmt_test_assert_task_succeeded (good);
  out = pmt_test_task_get_bytes (good);
  g_assert_cmpuint (g_bytes_get_size (out), ==, megabytes << 20);
  g_assert_cmpint (((const char *) g_bytes_get_data (out, NULL))[(megabytes << 20) - 1], ==, 'o');

  g_assert_cmpint (pmt_task_get_state (bad), ==, PMT_TASK_STATE_FAILED);
  error = pmt_task_get_error (bad);
  g_assert_error (error, PMT_ERROR, PMT_ERROR_COMMAND_FAILED);
  g_assert_cmpuint (strlen (error->message), <=, 8192);
  g_assert_nonnull (strstr (error->message, "eeee"));
  pmt_test_shutdown_pool (pool);
}

/* The child starts a grandchild that keeps its standard output open and
 * exits: the task ends with the child (it does not wait for the
 * grandchild's end of file), with everything the child wrote, and the
 * grandchild lives on, as pmt-command-task.c documents. */
static void
test_commands_grandchild_holds_stdout (void)
{
  const char *argv[] = { "sh", "-c", "sleep 600 & head -c 1048576 /dev/zero; echo; echo $!", NULL };
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 1);
  g_autoptr(PmtTask) task = run_command_in (pool, argv);
  g_autofree char *tail = NULL;
  GBytes *out;
  gsize size;
  const char *data;
  guint64 grandchild = 0;

  pmt_test_assert_task_succeeded (task);
  out = pmt_test_task_get_bytes (task);
  data = g_bytes_get_data (out, &size);
  g_assert_cmpuint (size, >, 1048577);
  for (gsize i = 0; i < 1048576; i++)
    if (data[i] != 0)
      g_assert_not_reached ();
  tail = g_strndup (data + 1048577, size - 1048577);
  g_assert_true (g_ascii_string_to_unsigned (g_strstrip (tail), 10, 2, G_MAXINT, &grandchild,
                                             NULL));
  g_assert_cmpint (kill ((pid_t) grandchild, 0), ==, 0);
  g_assert_cmpint (kill ((pid_t) grandchild, SIGKILL), ==, 0);
  pmt_test_shutdown_pool (pool);
}

/* The child closes its standard output and error at once and goes on:
 * the task does not take the end of file for the child's end, and ends
 * with the child's status, with nothing collected. */
static void
test_commands_closes_its_pipes (void)
{
  const char *ok[] = { "sh", "-c", "exec >&- 2>&-; sleep 0.2; exit 0", NULL };
  const char *failing[] = { "sh", "-c", "exec >&- 2>&-; sleep 0.2; exit 2", NULL };
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 2);
  g_autoptr(PmtTask) good = run_command_in (pool, ok);
  g_autoptr(PmtTask) bad = run_command_in (pool, failing);

  pmt_test_assert_task_succeeded (good);
  g_assert_cmpuint (g_bytes_get_size (pmt_test_task_get_bytes (good)), ==, 0);
  g_assert_cmpint (pmt_task_get_state (bad), ==, PMT_TASK_STATE_FAILED);
  g_assert_error (pmt_task_get_error (bad), PMT_ERROR, PMT_ERROR_COMMAND_FAILED);
  g_assert_nonnull (strstr (pmt_task_get_error (bad)->message, "2"));
  pmt_test_shutdown_pool (pool);
}

/* Task functions that misbehave {{{1 */

typedef struct
{
  GMutex mutex;
  GPtrArray *workers;
} WorkerList;

static void
on_worker_started (PmtPool   *pool,
                   PmtWorker *worker,
                   gpointer   data)
{
  WorkerList *list = data;

  g_mutex_lock (&list->mutex);
  g_ptr_array_add (list->workers, g_object_ref (worker));
  g_mutex_unlock (&list->mutex);
}

/* Tasks that ignore their cancellation: a shutdown with a timeout still
 * returns, FALSE, and the stragglers can be counted and named: the
 * counters say how many, and the workers' current tasks which.  Once they
 * return, the pool stops with nothing lost. */
static void
test_tasks_shutdown_names_stragglers (void)
{
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 2);
  g_autoptr(GPtrArray) stubborn = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) queued = g_ptr_array_new_with_free_func (g_object_unref);
  WorkerList list = { { 0 }, g_ptr_array_new_with_free_func (g_object_unref) };
  guint n_named = 0;
  PmtTestGate gate;

  g_mutex_init (&list.mutex);
  g_signal_connect (pool, "worker-started", G_CALLBACK (on_worker_started), &list);
  pmt_test_gate_init (&gate);
  for (guint i = 0; i < 2; i++)
    g_ptr_array_add (stubborn, pmt_pool_submit (pool, pmt_test_gate_func, &gate, NULL, NULL));
  pmt_test_gate_wait_started (&gate, 2);
  for (guint i = 0; i < 3; i++)
    g_ptr_array_add (queued, pmt_pool_submit (pool, pmt_test_count_func, NULL, NULL, NULL));

  g_assert_false (pmt_pool_shutdown (pool, PMT_SHUTDOWN_CANCEL_RUNNING, 10 * 1000));
  g_assert_cmpint (pmt_pool_get_state (pool), ==, PMT_POOL_STATE_STOPPING);
  g_assert_cmpuint (pmt_pool_get_n_unfinished (pool), ==, 5);
  g_assert_cmpuint (pmt_pool_get_n_busy_workers (pool), ==, 2);
  g_mutex_lock (&list.mutex);
  for (guint i = 0; i < list.workers->len; i++)
    {
      g_autoptr(PmtTask) current = pmt_worker_dup_current_task (g_ptr_array_index (list.workers, i));

      if (current != NULL)
        {
          guint index;

          g_assert_true (g_ptr_array_find (stubborn, current, &index));
          n_named++;
        }
    }
  g_mutex_unlock (&list.mutex);
  g_assert_cmpuint (n_named, ==, 2);

  pmt_test_gate_open (&gate);
  g_assert_true (pmt_pool_shutdown (pool, PMT_SHUTDOWN_NONE, SAFETY_TIMEOUT_USEC));
  for (guint i = 0; i < queued->len; i++)
    pmt_test_assert_task_succeeded (g_ptr_array_index (queued, i));
  pmt_test_assert_pool_settled (pool);
  g_assert_cmpuint (pmt_pool_get_n_succeeded (pool), ==, 5);
  pmt_test_gate_clear (&gate);
  g_ptr_array_unref (list.workers);
  g_mutex_clear (&list.mutex);
}

static void
wait_on_itself_func (PmtTask  *task,
                     gpointer  user_data)
{
  gboolean *returned = user_data;

  /* Forever, on itself: it must come back, with FALSE. */
  *returned = !pmt_task_wait (task, -1);
}

/* A task that waits for itself, run directly, in a standalone worker and
 * in a pool: a critical and FALSE, never a deadlock. */
static void
test_tasks_wait_on_itself (void)
{
  for (guint where = 0; where < 3; where++)
    {
      g_autoptr(PmtTask) task = NULL;
      g_autoptr(PmtWorker) worker = NULL;
      g_autoptr(PmtPool) pool = NULL;
      gboolean returned = FALSE;

      task = pmt_task_new (wait_on_itself_func, &returned, NULL);
      g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*");
      if (where == 0)
        pmt_task_run (task);
      else if (where == 1)
        {
          worker = pmt_worker_new (NULL);
          g_assert_true (pmt_worker_push (worker, task, NULL));
        }
      else
        {
          pool = pmt_test_new_pool (NULL, 1);
          g_assert_true (pmt_pool_push (pool, task, NULL));
        }
      pmt_test_assert_task_succeeded (task);
      g_test_assert_expected_messages ();
      g_assert_true (returned);

      if (worker != NULL)
        pmt_test_worker_stop_and_join (worker);
      if (pool != NULL)
        pmt_test_shutdown_pool (pool);
    }
}

static void
drop_task_callback (PmtTask  *task,
                    gpointer  user_data)
{
  /* The test's only reference, handed to us. */
  g_object_unref (user_data);
}

/* A callback drops the last reference its caller had to the task: the
 * task completes, then is finalized, without a crash. */
static void
test_tasks_callback_drops_last_ref (void)
{
  g_autoptr(PmtWorker) worker = pmt_worker_new (NULL);
  PmtTestFinalizeWatch watch;
  gint n_completed = 0;
  PmtTask *task = pmt_task_new (pmt_test_count_func, NULL, NULL);

  pmt_task_set_callback (task, drop_task_callback, task, NULL);
  g_signal_connect (task, "completed", G_CALLBACK (pmt_test_count_completed_cb), &n_completed);
  pmt_test_finalize_watch_init (&watch, task);
  g_assert_true (pmt_worker_push (worker, task, NULL));
  g_assert_true (pmt_test_finalize_watch_wait (&watch, SAFETY_TIMEOUT_USEC));
  g_assert_cmpint (g_atomic_int_get (&n_completed), ==, 1);
  pmt_test_finalize_watch_clear (&watch);
  pmt_test_worker_stop_and_join (worker);
}

static void
drop_pool_on_completed (PmtTask  *task,
                        gpointer  user_data)
{
  g_object_unref (user_data);
}

/* The last reference to a pool goes while it has work running and
 * queued, once from the test and once from a #PmtTask::completed handler:
 * the work still ends, all of it, then the pool is finalized (its workers
 * exit at once when idle). */
static void
test_tasks_pool_released_while_busy (void)
{
  for (guint from_handler = 0; from_handler < 2; from_handler++)
    {
      g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);
      PmtPool *pool = pmt_test_new_pool (NULL, 2);
      PmtTestFinalizeWatch watch;
      PmtTestGate gate;
      gint n_runs = 0;

      pmt_pool_set_idle_timeout (pool, 0);
      pmt_test_finalize_watch_init (&watch, pool);
      pmt_test_gate_init (&gate);
      g_ptr_array_add (tasks, pmt_pool_submit (pool, pmt_test_gate_func, &gate, NULL, NULL));
      pmt_test_gate_wait_started (&gate, 1);
      for (guint i = 0; i < 20; i++)
        g_ptr_array_add (tasks, pmt_pool_submit (pool, pmt_test_count_func, &n_runs, NULL, NULL));

      if (from_handler)
        g_signal_connect (g_ptr_array_index (tasks, 0), "completed",
                          G_CALLBACK (drop_pool_on_completed), pool);
      else
        g_object_unref (pool);
      pmt_test_gate_open (&gate);

      for (guint i = 0; i < tasks->len; i++)
        pmt_test_assert_task_succeeded (g_ptr_array_index (tasks, i));
      g_assert_cmpint (g_atomic_int_get (&n_runs), ==, 20);
      g_assert_true (pmt_test_finalize_watch_wait (&watch, SAFETY_TIMEOUT_USEC));
      pmt_test_finalize_watch_clear (&watch);
      pmt_test_gate_clear (&gate);
    }
}

/* A worker of a pool is killed in the middle of a task: the task is
 * cancelled, the pool replaces the worker and runs what was queued. */
static void
test_tasks_pool_worker_killed (void)
{
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 1);
  g_autoptr(PmtTask) running = NULL;
  g_autoptr(GPtrArray) queued = g_ptr_array_new_with_free_func (g_object_unref);
  PmtTestGate gate;

  pmt_test_gate_init (&gate);
  running = pmt_pool_submit (pool, pmt_test_gate_cancellable_func, &gate, NULL, NULL);
  pmt_test_gate_wait_started (&gate, 1);
  for (guint i = 0; i < 5; i++)
    g_ptr_array_add (queued, pmt_pool_submit (pool, pmt_test_count_func, NULL, NULL, NULL));

  pmt_worker_kill (pmt_task_get_worker (running));
  pmt_test_assert_task_cancelled (running);
  for (guint i = 0; i < queued->len; i++)
    pmt_test_assert_task_succeeded (g_ptr_array_index (queued, i));
  pmt_test_shutdown_pool (pool);
  g_assert_cmpuint (pmt_pool_get_n_cancelled (pool), ==, 1);
  g_assert_cmpuint (pmt_pool_get_n_succeeded (pool), ==, 5);
  pmt_test_gate_clear (&gate);
}

#define N_RACE_TASKS  30

typedef struct
{
  PmtPool *pool;
  GPtrArray *tasks;         /* accepted, filled before the enders start */
  PmtTestGate *start;
  guint which;
} Ender;

static gpointer
end_pool_thread (gpointer data)
{
  Ender *ender = data;
  const PmtShutdownFlags flags[] = {
    PMT_SHUTDOWN_NONE, PMT_SHUTDOWN_CANCEL_QUEUED, PMT_SHUTDOWN_CANCEL_RUNNING,
    PMT_SHUTDOWN_CANCEL_QUEUED | PMT_SHUTDOWN_CANCEL_RUNNING,
  };

  pmt_test_gate_wait_open (ender->start);
  if (ender->which < G_N_ELEMENTS (flags))
    pmt_pool_shutdown (ender->pool, flags[ender->which], ender->which % 2 ? 0 : 1000);
  else
    {
      /* Stops and kills the workers of whatever runs. */
      for (guint i = 0; i < ender->tasks->len; i++)
        {
          PmtWorker *worker = pmt_task_get_worker (g_ptr_array_index (ender->tasks, i));

          if (worker == NULL)
            continue;
          if (i % 2)
            pmt_worker_kill (worker);
          else
            pmt_worker_stop (worker);
        }
    }

  return NULL;
}

/* Shutdowns with every flag, worker stops and kills, from six threads
 * at once, on a busy pool: every task ends in one terminal state, the
 * pool stops, the counters add up. */
static void
test_tasks_racing_ends (void)
{
  for (guint round = 0; round < n_race_rounds; round++)
    {
      g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 3);
      g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);
      GThread *threads[6];
      Ender enders[G_N_ELEMENTS (threads)];
      PmtTestGate start;

      pmt_test_gate_init (&start);
      for (guint i = 0; i < N_RACE_TASKS; i++)
        g_ptr_array_add (tasks, pmt_pool_submit (pool, pmt_test_count_func, NULL, NULL, NULL));
      for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
        {
          enders[i] = (Ender) { pool, tasks, &start, i };
          threads[i] = g_thread_new ("ender", end_pool_thread, &enders[i]);
        }
      pmt_test_gate_open (&start);
      for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
        g_thread_join (threads[i]);

      g_assert_true (pmt_pool_shutdown (pool, PMT_SHUTDOWN_NONE, SAFETY_TIMEOUT_USEC));
      for (guint i = 0; i < tasks->len; i++)
        g_assert_true (pmt_task_is_done (g_ptr_array_index (tasks, i)));
      pmt_test_assert_pool_settled (pool);
      g_assert_cmpuint (pmt_pool_get_n_submitted (pool), ==, N_RACE_TASKS);
      pmt_test_gate_clear (&start);
    }
}

/* }}} */

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  if (g_strcmp0 (g_getenv ("PMT_TEST_SIZE"), "small") == 0)
    {
      n_rounds = 50;
      n_race_rounds = 5;
      megabytes = 1;
    }

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

  pmt_test_add_guarded_func ("/pmt/faults/commands/fork-fails",
                             test_commands_fork_fails, GUARD_USEC);
  pmt_test_add_guarded_func ("/pmt/faults/commands/killed-from-outside",
                             test_commands_killed_from_outside, GUARD_USEC);
  pmt_test_add_guarded_func ("/pmt/faults/commands/megabytes-both-ways",
                             test_commands_megabytes_both_ways, GUARD_USEC);
  pmt_test_add_guarded_func ("/pmt/faults/commands/grandchild-holds-stdout",
                             test_commands_grandchild_holds_stdout, GUARD_USEC);

  pmt_test_add_guarded_func ("/pmt/faults/commands/closes-its-pipes",
                             test_commands_closes_its_pipes, GUARD_USEC);
  pmt_test_add_guarded_func ("/pmt/faults/tasks/shutdown-names-stragglers",
                             test_tasks_shutdown_names_stragglers, GUARD_USEC);
  pmt_test_add_guarded_func ("/pmt/faults/tasks/wait-on-itself",
                             test_tasks_wait_on_itself, GUARD_USEC);
  pmt_test_add_guarded_func ("/pmt/faults/tasks/callback-drops-last-ref",
                             test_tasks_callback_drops_last_ref, GUARD_USEC);
  pmt_test_add_guarded_func ("/pmt/faults/tasks/pool-released-while-busy",
                             test_tasks_pool_released_while_busy, GUARD_USEC);
  pmt_test_add_guarded_func ("/pmt/faults/tasks/pool-worker-killed",
                             test_tasks_pool_worker_killed, GUARD_USEC);
  pmt_test_add_guarded_func ("/pmt/faults/tasks/racing-ends",
                             test_tasks_racing_ends, GUARD_USEC);

  return g_test_run ();
}
