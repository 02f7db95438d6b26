/* test-worker.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <pmt.h>

#include "pmt-test-utils.h"

#include <string.h>

#ifdef __linux__
# include <sys/prctl.h>
#endif

/* A bound on every wait that should end at once, so that a broken worker
 * fails the test instead of hanging it. */
#define SAFETY_TIMEOUT_USEC PMT_TEST_SAFETY_TIMEOUT_USEC

static void
return_thread_func (PmtTask  *task,
                    gpointer  user_data)
{
  pmt_task_return_pointer (task, g_thread_self (), NULL);
}

static void
stop_and_join (PmtWorker *worker)
{
  pmt_test_worker_stop_and_join (worker);
  g_assert_cmpint (pmt_worker_get_state (worker), ==, PMT_WORKER_STATE_STOPPED);
  g_assert_false (pmt_worker_is_running (worker));
}

/* Counts #PmtWorker:running notifications; lets the test wait for the
 * thread to exit without sleeping. */
typedef struct
{
  GMutex mutex;
  GCond cond;
  guint n_notifies;
} RunningWatch;

static void
running_notify_cb (GObject    *object,
                   GParamSpec *pspec,
                   gpointer    user_data)
{
  RunningWatch *watch = user_data;

  pmt_test_increment_uint (&watch->mutex, &watch->cond, &watch->n_notifies);
}

/* Waits until @worker has no thread and its handler has seen at least
 * @n_notifies notifications, so that it is done with @watch. */
static gboolean
running_watch_wait_exited (RunningWatch *watch,
                           PmtWorker    *worker,
                           guint         n_notifies,
                           gint64        timeout_usec)
{
  gint64 end_time = g_get_monotonic_time () + timeout_usec;
  gboolean exited;

  g_mutex_lock (&watch->mutex);
  while (watch->n_notifies < n_notifies || pmt_worker_is_running (worker))
    {
      if (!g_cond_wait_until (&watch->cond, &watch->mutex, end_time))
        break;
    }
  exited = watch->n_notifies >= n_notifies && !pmt_worker_is_running (worker);
  g_mutex_unlock (&watch->mutex);

  return exited;
}

/* ------------------------------------------------------------------ */

static void
test_push_runs_in_worker_thread (void)
{
  g_autoptr(PmtWorker) worker = pmt_worker_new ("pmt-t-thread");
  g_autoptr(PmtTask) first = pmt_task_new (return_thread_func, NULL, NULL);
  g_autoptr(PmtTask) second = pmt_task_new (return_thread_func, NULL, NULL);
  g_autoptr(PmtWorker) task_worker = NULL;
  g_autoptr(GError) error = NULL;
  guint64 n_tasks_run = 0;

  g_assert_null (pmt_task_get_worker (first));
  g_assert_false (pmt_worker_is_running (worker));

  g_assert_true (pmt_worker_push (worker, first, &error));
  g_assert_no_error (error);
  g_assert_true (pmt_worker_is_running (worker));
  pmt_test_assert_task_succeeded (first);

  /* Not the caller's thread. */
  g_assert_nonnull (pmt_task_get_result_pointer (first));
  g_assert_true (pmt_task_get_result_pointer (first) != g_thread_self ());

  g_assert_true (pmt_task_get_worker (first) == worker);
  g_object_get (first, "worker", &task_worker, NULL);
  g_assert_true (task_worker == worker);

  /* With no idle timeout, the same thread runs the next task. */
  g_assert_true (pmt_worker_push (worker, second, &error));
  g_assert_no_error (error);
  pmt_test_assert_task_succeeded (second);
  g_assert_true (pmt_task_get_result_pointer (second) == pmt_task_get_result_pointer (first));

  g_assert_cmpuint (pmt_worker_get_n_tasks_run (worker), ==, 2);
  g_object_get (worker, "n-tasks-run", &n_tasks_run, NULL);
  g_assert_cmpuint (n_tasks_run, ==, 2);

  stop_and_join (worker);
}

typedef struct
{
  GMutex mutex;
  GArray *order;     /* of guint: the task-data of each task, as it ran */
  GPtrArray *threads;
} Record;

static void
record_func (PmtTask  *task,
             gpointer  user_data)
{
  Record *record = user_data;
  guint index = GPOINTER_TO_UINT (pmt_task_get_task_data (task));

  g_mutex_lock (&record->mutex);
  g_array_append_val (record->order, index);
  g_ptr_array_add (record->threads, g_thread_self ());
  g_mutex_unlock (&record->mutex);
}

#define N_FIFO_TASKS 200

static void
test_push_fifo (void)
{
  g_autoptr(PmtWorker) worker = pmt_worker_new ("pmt-t-fifo");
  g_autoptr(PmtTask) blocker = NULL;
  g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;
  Record record;
  PmtTestGate gate;

  pmt_test_gate_init (&gate);
  g_mutex_init (&record.mutex);
  record.order = g_array_new (FALSE, FALSE, sizeof (guint));
  record.threads = g_ptr_array_new ();

  /* Hold the thread so that every task below really waits in the queue. */
  blocker = pmt_task_new (pmt_test_gate_func, &gate, NULL);
  g_assert_true (pmt_worker_push (worker, blocker, &error));
  g_assert_no_error (error);
  pmt_test_gate_wait_started (&gate, 1);

  for (guint i = 0; i < N_FIFO_TASKS; i++)
    {
      PmtTask *task = pmt_task_new (record_func, &record, NULL);

      pmt_task_set_task_data (task, GUINT_TO_POINTER (i), NULL);
      g_ptr_array_add (tasks, task);
      g_assert_true (pmt_worker_push (worker, task, &error));
      g_assert_no_error (error);
      g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_QUEUED);
    }

  pmt_test_gate_open (&gate);
  pmt_test_assert_task_succeeded (blocker);
  for (guint i = 0; i < tasks->len; i++)
    {
      pmt_test_assert_task_succeeded (tasks->pdata[i]);
      g_assert_true (pmt_task_get_worker (tasks->pdata[i]) == worker);
    }

  g_mutex_lock (&record.mutex);
  g_assert_cmpuint (record.order->len, ==, N_FIFO_TASKS);
  for (guint i = 0; i < record.order->len; i++)
    {
      g_assert_cmpuint (g_array_index (record.order, guint, i), ==, i);
      g_assert_true (record.threads->pdata[i] != g_thread_self ());
      g_assert_true (record.threads->pdata[i] == record.threads->pdata[0]);
    }
  g_mutex_unlock (&record.mutex);

  g_assert_cmpuint (pmt_worker_get_n_tasks_run (worker), ==, N_FIFO_TASKS + 1);

  stop_and_join (worker);

  g_array_unref (record.order);
  g_ptr_array_unref (record.threads);
  g_mutex_clear (&record.mutex);
  pmt_test_gate_clear (&gate);
}

static void
thread_name_func (PmtTask  *task,
                  gpointer  user_data)
{
#ifdef __linux__
  char name[17] = { 0 };

  g_assert_cmpint (prctl (PR_GET_NAME, name, 0, 0, 0), ==, 0);
  pmt_task_return_pointer (task, g_strdup (name), g_free);
#endif
}

static void
test_name_given (void)
{
  g_autoptr(PmtWorker) worker = pmt_worker_new ("pmt-t-named");
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;

  g_assert_cmpstr (pmt_worker_get_name (worker), ==, "pmt-t-named");
  g_object_get (worker, "name", &name, NULL);
  g_assert_cmpstr (name, ==, "pmt-t-named");

#ifdef __linux__
  task = pmt_task_new (thread_name_func, NULL, NULL);
  g_assert_true (pmt_worker_push (worker, task, &error));
  g_assert_no_error (error);
  pmt_test_assert_task_succeeded (task);
  g_assert_cmpstr (pmt_task_get_result_pointer (task), ==, "pmt-t-named");
#endif

  stop_and_join (worker);
  g_assert_cmpstr (pmt_worker_get_name (worker), ==, "pmt-t-named");
}

static void
test_name_generated (void)
{
  g_autoptr(PmtWorker) first = pmt_worker_new (NULL);
  g_autoptr(PmtWorker) second = g_object_new (PMT_TYPE_WORKER, NULL);
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(GError) error = NULL;
  const char *name;

  name = pmt_worker_get_name (first);
  g_assert_nonnull (name);
  g_assert_cmpstr (name, !=, "");
  g_assert_nonnull (pmt_worker_get_name (second));
  g_assert_cmpstr (pmt_worker_get_name (second), !=, "");
  g_assert_cmpstr (name, !=, pmt_worker_get_name (second));

#ifdef __linux__
  /* The thread carries the generated name too (threads names are at most
   * 15 bytes on Linux). */
  task = pmt_task_new (thread_name_func, NULL, NULL);
  g_assert_true (pmt_worker_push (first, task, &error));
  g_assert_no_error (error);
  pmt_test_assert_task_succeeded (task);
  if (strlen (name) <= 15)
    g_assert_cmpstr (pmt_task_get_result_pointer (task), ==, name);
#endif

  stop_and_join (first);
  stop_and_join (second);
}

static void
test_state_idle_busy (void)
{
  g_autoptr(PmtWorker) worker = pmt_worker_new ("pmt-t-busy");
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(PmtTask) current = NULL;
  g_autoptr(PmtTask) current_prop = NULL;
  g_autoptr(GError) error = NULL;
  RunningWatch watch = { 0, };
  PmtWorkerState state;
  gulong handler_id;
  gint priority = 0;
  PmtTestGate gate;

  pmt_test_gate_init (&gate);
  g_mutex_init (&watch.mutex);
  g_cond_init (&watch.cond);

  /* A fresh worker. */
  g_assert_cmpint (pmt_worker_get_state (worker), ==, PMT_WORKER_STATE_IDLE);
  g_assert_null (pmt_worker_dup_current_task (worker));
  g_assert_cmpint (pmt_worker_get_current_priority (worker), ==, 0);

  /* The thread exits as soon as it idles, which shows when the worker went
   * back to idle. */
  pmt_worker_set_idle_timeout (worker, 0);
  handler_id = g_signal_connect (worker, "notify::running",
                                 G_CALLBACK (running_notify_cb), &watch);

  task = pmt_task_new (pmt_test_gate_func, &gate, NULL);
  pmt_task_set_priority (task, 7);
  g_assert_true (pmt_worker_push (worker, task, &error));
  g_assert_no_error (error);
  pmt_test_gate_wait_started (&gate, 1);

  g_assert_cmpint (pmt_worker_get_state (worker), ==, PMT_WORKER_STATE_BUSY);
  g_object_get (worker, "state", &state, NULL);
  g_assert_cmpint (state, ==, PMT_WORKER_STATE_BUSY);
  current = pmt_worker_dup_current_task (worker);
  g_assert_true (current == task);
  g_assert_cmpint (pmt_worker_get_current_priority (worker), ==, 7);
  g_object_get (worker,
                "current-task", &current_prop,
                "current-priority", &priority,
                NULL);
  g_assert_true (current_prop == task);
  g_assert_cmpint (priority, ==, 7);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_RUNNING);

  pmt_test_gate_open (&gate);
  pmt_test_assert_task_succeeded (task);

  g_assert_true (running_watch_wait_exited (&watch, worker, 2, SAFETY_TIMEOUT_USEC));
  g_signal_handler_disconnect (worker, handler_id);

  g_assert_cmpint (pmt_worker_get_state (worker), ==, PMT_WORKER_STATE_IDLE);
  g_assert_null (pmt_worker_dup_current_task (worker));
  g_assert_cmpint (pmt_worker_get_current_priority (worker), ==, 0);
  g_clear_object (&current_prop);
  g_object_get (worker,
                "current-task", &current_prop,
                "current-priority", &priority,
                "state", &state,
                NULL);
  g_assert_null (current_prop);
  g_assert_cmpint (priority, ==, 0);
  g_assert_cmpint (state, ==, PMT_WORKER_STATE_IDLE);

  stop_and_join (worker);

  g_mutex_clear (&watch.mutex);
  g_cond_clear (&watch.cond);
  pmt_test_gate_clear (&gate);
}

static void
test_state_stopping_stopped (void)
{
  g_autoptr(PmtWorker) worker = pmt_worker_new ("pmt-t-stopping");
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(PmtTask) current = NULL;
  g_autoptr(GError) error = NULL;
  PmtTestGate gate;

  pmt_test_gate_init (&gate);

  task = pmt_task_new (pmt_test_gate_func, &gate, NULL);
  g_assert_true (pmt_worker_push (worker, task, &error));
  g_assert_no_error (error);
  pmt_test_gate_wait_started (&gate, 1);

  pmt_worker_stop (worker);
  g_assert_cmpint (pmt_worker_get_state (worker), ==, PMT_WORKER_STATE_STOPPING);
  g_assert_true (pmt_worker_is_running (worker));
  current = pmt_worker_dup_current_task (worker);
  g_assert_true (current == task);
  g_assert_false (pmt_worker_join (worker, 0));

  /* Stopping again changes nothing. */
  pmt_worker_stop (worker);
  g_assert_cmpint (pmt_worker_get_state (worker), ==, PMT_WORKER_STATE_STOPPING);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_RUNNING);

  pmt_test_gate_open (&gate);
  g_assert_true (pmt_worker_join (worker, -1));
  g_assert_cmpint (pmt_worker_get_state (worker), ==, PMT_WORKER_STATE_STOPPED);
  g_assert_false (pmt_worker_is_running (worker));
  g_assert_null (pmt_worker_dup_current_task (worker));
  g_assert_cmpint (pmt_worker_get_current_priority (worker), ==, 0);

  /* The running task was let finish. */
  pmt_test_assert_task_succeeded (task);
  g_assert_cmpuint (pmt_worker_get_n_tasks_run (worker), ==, 1);

  /* Joining a stopped worker succeeds at once, again and again. */
  g_assert_true (pmt_worker_join (worker, 0));
  g_assert_true (pmt_worker_join (worker, -1));

  pmt_test_gate_clear (&gate);
}

static void
test_stop_unstarted (void)
{
  g_autoptr(PmtWorker) worker = pmt_worker_new ("pmt-t-unstarted");
  g_autoptr(PmtTask) task = pmt_task_new (pmt_test_count_func, NULL, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_false (pmt_worker_join (worker, 0));

  pmt_worker_stop (worker);
  g_assert_cmpint (pmt_worker_get_state (worker), ==, PMT_WORKER_STATE_STOPPED);
  g_assert_false (pmt_worker_is_running (worker));
  g_assert_true (pmt_worker_join (worker, 0));

  g_assert_false (pmt_worker_push (worker, task, &error));
  g_assert_error (error, PMT_ERROR, PMT_ERROR_STOPPED);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_PENDING);
  g_assert_false (pmt_worker_is_running (worker));
}

static void
test_push_refused_when_stopping (void)
{
  g_autoptr(PmtWorker) worker = pmt_worker_new ("pmt-t-refuse");
  g_autoptr(PmtWorker) other = pmt_worker_new ("pmt-t-other");
  g_autoptr(PmtTask) blocker = NULL;
  g_autoptr(PmtTask) refused = NULL;
  g_autoptr(PmtTask) late = NULL;
  g_autoptr(GError) error = NULL;
  gint n_runs = 0;
  gint n_completed = 0;
  PmtTestGate gate;

  pmt_test_gate_init (&gate);

  blocker = pmt_task_new (pmt_test_gate_func, &gate, NULL);
  g_assert_true (pmt_worker_push (worker, blocker, &error));
  g_assert_no_error (error);
  pmt_test_gate_wait_started (&gate, 1);

  pmt_worker_stop (worker);

  /* Stopping: refused, and the task is left as it was. */
  refused = pmt_task_new (pmt_test_count_func, &n_runs, NULL);
  g_signal_connect (refused, "completed", G_CALLBACK (pmt_test_count_completed_cb), &n_completed);
  g_assert_false (pmt_worker_push (worker, refused, &error));
  g_assert_error (error, PMT_ERROR, PMT_ERROR_STOPPED);
  g_clear_error (&error);
  g_assert_cmpint (pmt_task_get_state (refused), ==, PMT_TASK_STATE_PENDING);
  g_assert_null (pmt_task_get_worker (refused));
  g_assert_false (pmt_task_is_done (refused));

  pmt_test_gate_open (&gate);
  g_assert_true (pmt_worker_join (worker, SAFETY_TIMEOUT_USEC));

  /* Stopped: refused too. */
  late = pmt_task_new (pmt_test_count_func, &n_runs, NULL);
  g_assert_false (pmt_worker_push (worker, late, &error));
  g_assert_error (error, PMT_ERROR, PMT_ERROR_STOPPED);
  g_clear_error (&error);
  g_assert_cmpint (pmt_task_get_state (late), ==, PMT_TASK_STATE_PENDING);
  g_assert_false (pmt_worker_push (worker, refused, &error));
  g_assert_error (error, PMT_ERROR, PMT_ERROR_STOPPED);
  g_clear_error (&error);

  g_assert_cmpint (g_atomic_int_get (&n_runs), ==, 0);
  g_assert_cmpint (g_atomic_int_get (&n_completed), ==, 0);
  g_assert_cmpuint (pmt_worker_get_n_tasks_run (worker), ==, 1);

  /* Untouched means usable: another worker runs it. */
  g_assert_true (pmt_worker_push (other, refused, &error));
  g_assert_no_error (error);
  pmt_test_assert_task_succeeded (refused);
  g_assert_true (pmt_task_get_worker (refused) == other);
  g_assert_cmpint (g_atomic_int_get (&n_runs), ==, 1);
  g_assert_cmpint (g_atomic_int_get (&n_completed), ==, 1);
  g_assert_cmpuint (pmt_worker_get_n_tasks_run (other), ==, 1);

  stop_and_join (other);
  pmt_test_gate_clear (&gate);
}

static void
test_push_cancelled (void)
{
  g_autoptr(PmtWorker) worker = pmt_worker_new ("pmt-t-cancelled");
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(GError) error = NULL;
  gint n_runs = 0;

  task = pmt_task_new (pmt_test_count_func, &n_runs, NULL);
  pmt_task_cancel (task);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_CANCELLED);

  g_assert_false (pmt_worker_push (worker, task, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_CANCELLED);
  g_assert_null (pmt_task_get_worker (task));

  stop_and_join (worker);
  g_assert_cmpint (g_atomic_int_get (&n_runs), ==, 0);
  g_assert_cmpuint (pmt_worker_get_n_tasks_run (worker), ==, 0);
}

static void
test_push_twice (void)
{
  g_autoptr(PmtWorker) worker = pmt_worker_new ("pmt-t-twice");
  g_autoptr(PmtWorker) other = pmt_worker_new ("pmt-t-twice2");
  g_autoptr(PmtTask) blocker = NULL;
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(GError) error = NULL;
  gint n_runs = 0;
  PmtTestGate gate;

  pmt_test_gate_init (&gate);

  blocker = pmt_task_new (pmt_test_gate_func, &gate, NULL);
  g_assert_true (pmt_worker_push (worker, blocker, &error));
  g_assert_no_error (error);
  pmt_test_gate_wait_started (&gate, 1);

  task = pmt_task_new (pmt_test_count_func, &n_runs, NULL);
  g_assert_true (pmt_worker_push (worker, task, &error));
  g_assert_no_error (error);

  /* Queued: neither this worker nor another one takes it again. */
  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*submitted already*");
  g_assert_false (pmt_worker_push (worker, task, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*submitted already*");
  g_assert_false (pmt_worker_push (other, task, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_QUEUED);

  pmt_test_gate_open (&gate);
  pmt_test_assert_task_succeeded (task);

  /* Finished: refused as well. */
  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*submitted already*");
  g_assert_false (pmt_worker_push (worker, task, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);

  stop_and_join (worker);
  stop_and_join (other);

  /* It ran once. */
  g_assert_cmpint (g_atomic_int_get (&n_runs), ==, 1);
  g_assert_cmpuint (pmt_worker_get_n_tasks_run (worker), ==, 2);
  g_assert_cmpuint (pmt_worker_get_n_tasks_run (other), ==, 0);

  pmt_test_gate_clear (&gate);
}

static gpointer
waiter_thread (gpointer data)
{
  PmtTask *task = data;

  return GINT_TO_POINTER (pmt_task_wait (task, SAFETY_TIMEOUT_USEC));
}

#define N_QUEUED 16

/* Pushes a gated task (@func on @gate), then N_QUEUED counting tasks
 * behind it, each with a thread waiting on it. */
typedef struct
{
  PmtWorker *worker;
  PmtTask *running;
  gint running_completed;
  PmtTask *queued[N_QUEUED];
  gint queued_completed[N_QUEUED];
  GThread *waiters[N_QUEUED];
  gint n_runs;
  PmtTestGate gate;
} StopFixture;

static void
stop_fixture_setup (StopFixture *fixture,
                    const char  *name,
                    PmtTaskFunc  func)
{
  GError *error = NULL;

  memset (fixture, 0, sizeof *fixture);
  pmt_test_gate_init (&fixture->gate);
  fixture->worker = pmt_worker_new (name);

  fixture->running = pmt_task_new (func, &fixture->gate, NULL);
  g_signal_connect (fixture->running, "completed",
                    G_CALLBACK (pmt_test_count_completed_cb), &fixture->running_completed);
  g_assert_true (pmt_worker_push (fixture->worker, fixture->running, &error));
  g_assert_no_error (error);
  pmt_test_gate_wait_started (&fixture->gate, 1);

  for (guint i = 0; i < N_QUEUED; i++)
    {
      fixture->queued[i] = pmt_task_new (pmt_test_count_func, &fixture->n_runs, NULL);
      g_signal_connect (fixture->queued[i], "completed",
                        G_CALLBACK (pmt_test_count_completed_cb), &fixture->queued_completed[i]);
      g_assert_true (pmt_worker_push (fixture->worker, fixture->queued[i], &error));
      g_assert_no_error (error);
      fixture->waiters[i] = g_thread_new ("pmt-t-waiter", waiter_thread, fixture->queued[i]);
    }
}

/* Every queued task ended CANCELLED without running, woke its waiter and
 * emitted completed exactly once. */
static void
stop_fixture_check_queued_cancelled (StopFixture *fixture)
{
  for (guint i = 0; i < N_QUEUED; i++)
    {
      g_assert_true (g_thread_join (fixture->waiters[i]));
      pmt_test_assert_task_cancelled (fixture->queued[i]);
      g_assert_cmpint (g_atomic_int_get (&fixture->queued_completed[i]), ==, 1);
    }
  g_assert_cmpint (g_atomic_int_get (&fixture->n_runs), ==, 0);
  g_assert_cmpint (g_atomic_int_get (&fixture->running_completed), ==, 1);
  g_assert_cmpuint (pmt_worker_get_n_tasks_run (fixture->worker), ==, 1);
}

static void
stop_fixture_teardown (StopFixture *fixture)
{
  for (guint i = 0; i < N_QUEUED; i++)
    g_object_unref (fixture->queued[i]);
  g_object_unref (fixture->running);
  g_object_unref (fixture->worker);
  pmt_test_gate_clear (&fixture->gate);
}

static void
test_stop_cancels_queued (void)
{
  StopFixture fixture;

  stop_fixture_setup (&fixture, "pmt-t-stop", pmt_test_gate_func);

  pmt_worker_stop (fixture.worker);

  /* Cancelled by the stopping thread, before stop returns. */
  for (guint i = 0; i < N_QUEUED; i++)
    g_assert_cmpint (pmt_task_get_state (fixture.queued[i]), ==, PMT_TASK_STATE_CANCELLED);

  /* The current task was not cancelled: it runs on and finishes. */
  g_assert_cmpint (pmt_task_get_state (fixture.running), ==, PMT_TASK_STATE_RUNNING);
  g_assert_false (g_cancellable_is_cancelled (pmt_task_get_cancellable (fixture.running)));
  g_assert_cmpint (pmt_worker_get_state (fixture.worker), ==, PMT_WORKER_STATE_STOPPING);

  pmt_test_gate_open (&fixture.gate);
  g_assert_true (pmt_worker_join (fixture.worker, -1));
  g_assert_cmpint (pmt_worker_get_state (fixture.worker), ==, PMT_WORKER_STATE_STOPPED);
  g_assert_false (pmt_worker_is_running (fixture.worker));

  pmt_test_assert_task_succeeded (fixture.running);
  stop_fixture_check_queued_cancelled (&fixture);

  stop_fixture_teardown (&fixture);
}

static void
test_kill_cancels_running (void)
{
  StopFixture fixture;

  stop_fixture_setup (&fixture, "pmt-t-kill", pmt_test_gate_cancellable_func);

  /* The gate stays closed: only the cancellable can end the function. */
  pmt_worker_kill (fixture.worker);
  g_assert_true (pmt_worker_join (fixture.worker, SAFETY_TIMEOUT_USEC));
  g_assert_cmpint (pmt_worker_get_state (fixture.worker), ==, PMT_WORKER_STATE_STOPPED);
  g_assert_false (pmt_worker_is_running (fixture.worker));

  pmt_test_assert_task_cancelled (fixture.running);
  g_assert_true (pmt_task_get_worker (fixture.running) == fixture.worker);
  stop_fixture_check_queued_cancelled (&fixture);

  stop_fixture_teardown (&fixture);
}

static void
test_kill_after_stop (void)
{
  StopFixture fixture;

  stop_fixture_setup (&fixture, "pmt-t-stopkill", pmt_test_gate_cancellable_func);

  pmt_worker_stop (fixture.worker);
  g_assert_false (g_cancellable_is_cancelled (pmt_task_get_cancellable (fixture.running)));
  g_assert_false (pmt_worker_join (fixture.worker, 0));

  /* A stopping worker can still be killed: the current task is cancelled. */
  pmt_worker_kill (fixture.worker);
  g_assert_true (pmt_worker_join (fixture.worker, SAFETY_TIMEOUT_USEC));

  pmt_test_assert_task_cancelled (fixture.running);
  stop_fixture_check_queued_cancelled (&fixture);

  stop_fixture_teardown (&fixture);
}

static void
test_join_timeout (void)
{
  g_autoptr(PmtWorker) worker = pmt_worker_new ("pmt-t-join");
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;
  PmtTestGate gate;

  pmt_test_gate_init (&gate);

  task = pmt_task_new (pmt_test_gate_func, &gate, NULL);
  g_assert_true (pmt_worker_push (worker, task, &error));
  g_assert_no_error (error);
  pmt_test_gate_wait_started (&gate, 1);

  /* Running, not stopping: a join can only time out. */
  g_assert_false (pmt_worker_join (worker, 0));

  start = g_get_monotonic_time ();
  g_assert_false (pmt_worker_join (worker, 50 * 1000));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 50 * 1000);

  /* Stopping, while the task still blocks. */
  pmt_worker_stop (worker);
  g_assert_false (pmt_worker_join (worker, 0));
  start = g_get_monotonic_time ();
  g_assert_false (pmt_worker_join (worker, 50 * 1000));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 50 * 1000);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_RUNNING);

  pmt_test_gate_open (&gate);
  g_assert_true (pmt_worker_join (worker, -1));
  pmt_test_assert_task_succeeded (task);

  pmt_test_gate_clear (&gate);
}

static void
test_join_idle_worker (void)
{
  g_autoptr(PmtWorker) worker = pmt_worker_new ("pmt-t-joinidle");
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(GError) error = NULL;
  gint n_runs = 0;

  task = pmt_task_new (pmt_test_count_func, &n_runs, NULL);
  g_assert_true (pmt_worker_push (worker, task, &error));
  g_assert_no_error (error);
  pmt_test_assert_task_succeeded (task);

  /* Idle but not stopped: join does not mean "queue drained". */
  g_assert_false (pmt_worker_join (worker, 0));
  g_assert_false (pmt_worker_join (worker, 20 * 1000));

  stop_and_join (worker);
  g_assert_cmpint (g_atomic_int_get (&n_runs), ==, 1);
}

/* A thread that left when idle may still be on its way out (here: in a
 * handler of notify::running) when the worker is stopped; join waits for
 * it, so nothing of the worker runs after join returns. */
typedef struct
{
  PmtTestGate gate;
  GThread *test_thread;
  gboolean returned;
} LeavingThread;

static void
hold_leaving_thread_cb (GObject    *object,
                        GParamSpec *pspec,
                        gpointer    user_data)
{
  LeavingThread *leaving = user_data;

  /* Only the leaving thread is held: the test's own thread may emit
   * notify::running too (for the start), and may read FALSE already if
   * the worker was quick. */
  if (g_thread_self () == leaving->test_thread || pmt_worker_is_running (PMT_WORKER (object)))
    return;
  pmt_test_gate_pass (&leaving->gate);
  g_atomic_int_set (&leaving->returned, TRUE);
}

static void
test_join_waits_for_leaving_thread (void)
{
  g_autoptr(PmtWorker) worker = pmt_worker_new ("pmt-t-joinleave");
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(GError) error = NULL;
  LeavingThread leaving = { 0 };
  gint n_runs = 0;

  pmt_test_gate_init (&leaving.gate);
  leaving.test_thread = g_thread_self ();
  pmt_worker_set_idle_timeout (worker, 0);
  g_signal_connect (worker, "notify::running", G_CALLBACK (hold_leaving_thread_cb), &leaving);

  task = pmt_task_new (pmt_test_count_func, &n_runs, NULL);
  g_assert_true (pmt_worker_push (worker, task, &error));
  g_assert_no_error (error);
  pmt_test_gate_wait_started (&leaving.gate, 1);
  g_assert_false (pmt_worker_is_running (worker));

  pmt_worker_stop (worker);
  g_assert_cmpint (pmt_worker_get_state (worker), ==, PMT_WORKER_STATE_STOPPED);
  g_assert_false (pmt_worker_join (worker, 0));
  g_assert_false (pmt_worker_join (worker, 20 * 1000));

  pmt_test_gate_open (&leaving.gate);
  g_assert_true (pmt_worker_join (worker, -1));
  g_assert_true (g_atomic_int_get (&leaving.returned));
  g_assert_cmpint (g_atomic_int_get (&n_runs), ==, 1);

  pmt_test_gate_clear (&leaving.gate);
}

static void
join_self_func (PmtTask  *task,
                gpointer  user_data)
{
  pmt_task_return_boolean (task, pmt_worker_join (pmt_task_get_worker (task), -1));
}

static void
test_join_self (void)
{
  g_autoptr(PmtWorker) worker = pmt_worker_new ("pmt-t-joinself");
  g_autoptr(PmtTask) task = pmt_task_new (join_self_func, NULL, NULL);
  g_autoptr(GError) error = NULL;
  const GValue *result;

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*cannot join itself*");
  g_assert_true (pmt_worker_push (worker, task, &error));
  g_assert_no_error (error);

  /* It returns (FALSE) instead of deadlocking. */
  pmt_test_assert_task_succeeded (task);
  g_test_assert_expected_messages ();

  result = pmt_task_get_result (task);
  g_assert_nonnull (result);
  g_assert_true (G_VALUE_HOLDS_BOOLEAN (result));
  g_assert_false (g_value_get_boolean (result));

  g_assert_cmpint (pmt_worker_get_state (worker), !=, PMT_WORKER_STATE_STOPPED);
  stop_and_join (worker);
}

static void
test_idle_timeout_exits (void)
{
  g_autoptr(PmtWorker) worker = pmt_worker_new ("pmt-t-idle");
  g_autoptr(PmtTask) first = NULL;
  g_autoptr(PmtTask) second = NULL;
  g_autoptr(GError) error = NULL;
  RunningWatch watch = { 0, };
  gint64 idle_timeout = 0;
  gboolean running = TRUE;
  gulong handler_id;
  gint n_runs = 0;

  g_mutex_init (&watch.mutex);
  g_cond_init (&watch.cond);

  g_assert_cmpint (pmt_worker_get_idle_timeout (worker), ==, -1);
  g_object_set (worker, "idle-timeout", (gint64) 20 * 1000, NULL);
  g_assert_cmpint (pmt_worker_get_idle_timeout (worker), ==, 20 * 1000);
  g_object_get (worker, "idle-timeout", &idle_timeout, NULL);
  g_assert_cmpint (idle_timeout, ==, 20 * 1000);

  handler_id = g_signal_connect (worker, "notify::running",
                                 G_CALLBACK (running_notify_cb), &watch);

  first = pmt_task_new (pmt_test_count_func, &n_runs, NULL);
  g_assert_true (pmt_worker_push (worker, first, &error));
  g_assert_no_error (error);
  pmt_test_assert_task_succeeded (first);

  /* Started, then exited on its own: two notifications. */
  g_assert_true (running_watch_wait_exited (&watch, worker, 2, SAFETY_TIMEOUT_USEC));
  g_assert_false (pmt_worker_is_running (worker));
  g_object_get (worker, "running", &running, NULL);
  g_assert_false (running);
  g_assert_cmpint (pmt_worker_get_state (worker), ==, PMT_WORKER_STATE_IDLE);
  g_assert_null (pmt_worker_dup_current_task (worker));

  /* Still usable: a push starts a new thread. */
  second = pmt_task_new (pmt_test_count_func, &n_runs, NULL);
  g_assert_true (pmt_worker_push (worker, second, &error));
  g_assert_no_error (error);
  pmt_test_assert_task_succeeded (second);
  g_assert_true (pmt_task_get_worker (second) == worker);
  g_assert_cmpint (g_atomic_int_get (&n_runs), ==, 2);
  g_assert_cmpuint (pmt_worker_get_n_tasks_run (worker), ==, 2);

  g_assert_true (running_watch_wait_exited (&watch, worker, 4, SAFETY_TIMEOUT_USEC));
  g_assert_cmpint (pmt_worker_get_state (worker), ==, PMT_WORKER_STATE_IDLE);
  g_signal_handler_disconnect (worker, handler_id);

  g_mutex_lock (&watch.mutex);
  g_assert_cmpuint (watch.n_notifies, ==, 4);
  g_mutex_unlock (&watch.mutex);

  /* A worker without a thread stops at once. */
  stop_and_join (worker);

  g_mutex_clear (&watch.mutex);
  g_cond_clear (&watch.cond);
}

static void
test_idle_timeout_never (void)
{
  g_autoptr(PmtWorker) worker = pmt_worker_new ("pmt-t-noidle");
  g_autoptr(PmtTask) first = NULL;
  g_autoptr(PmtTask) second = NULL;
  g_autoptr(GError) error = NULL;
  RunningWatch watch = { 0, };
  gulong handler_id;

  g_mutex_init (&watch.mutex);
  g_cond_init (&watch.cond);

  /* Set it from a short timeout back to -1 to exercise the setter. */
  pmt_worker_set_idle_timeout (worker, 20 * 1000);
  pmt_worker_set_idle_timeout (worker, -1);
  g_assert_cmpint (pmt_worker_get_idle_timeout (worker), ==, -1);

  handler_id = g_signal_connect (worker, "notify::running",
                                 G_CALLBACK (running_notify_cb), &watch);

  first = pmt_task_new (return_thread_func, NULL, NULL);
  g_assert_true (pmt_worker_push (worker, first, &error));
  g_assert_no_error (error);
  pmt_test_assert_task_succeeded (first);

  /* Ten times the timeout of the test above goes by without an exit. */
  g_assert_false (running_watch_wait_exited (&watch, worker, 2, 200 * 1000));
  g_assert_true (pmt_worker_is_running (worker));
  g_signal_handler_disconnect (worker, handler_id);

  g_mutex_lock (&watch.mutex);
  g_assert_cmpuint (watch.n_notifies, ==, 1);
  g_mutex_unlock (&watch.mutex);

  /* And the same thread serves the next task. */
  second = pmt_task_new (return_thread_func, NULL, NULL);
  g_assert_true (pmt_worker_push (worker, second, &error));
  g_assert_no_error (error);
  pmt_test_assert_task_succeeded (second);
  g_assert_true (pmt_task_get_result_pointer (second) == pmt_task_get_result_pointer (first));

  stop_and_join (worker);

  g_mutex_clear (&watch.mutex);
  g_cond_clear (&watch.cond);
}

#define N_SUBMITTERS 8
#define N_TASKS_PER_SUBMITTER 10000
#define N_WORKERS 4

typedef struct
{
  PmtWorker **workers;
  PmtTask **tasks;       /* this submitter's slice */
  guint first_index;
} Submitter;

static gpointer
submitter_thread (gpointer data)
{
  Submitter *submitter = data;

  for (guint i = 0; i < N_TASKS_PER_SUBMITTER; i++)
    {
      guint index = submitter->first_index + i;
      PmtTask *task = pmt_task_new (pmt_test_return_index_func, GUINT_TO_POINTER (index), NULL);
      GError *error = NULL;

      submitter->tasks[i] = task;
      g_assert_true (pmt_worker_push (submitter->workers[index % N_WORKERS], task, &error));
      g_assert_no_error (error);
    }

  return NULL;
}

static void
test_threads_many_submitters (void)
{
  PmtWorker *workers[N_WORKERS];
  PmtTask **tasks = g_new0 (PmtTask *, N_SUBMITTERS * N_TASKS_PER_SUBMITTER);
  Submitter submitters[N_SUBMITTERS];
  GThread *threads[N_SUBMITTERS];
  guint64 total = 0;

  for (guint i = 0; i < N_WORKERS; i++)
    workers[i] = pmt_worker_new (NULL);

  for (guint i = 0; i < N_SUBMITTERS; i++)
    {
      submitters[i].workers = workers;
      submitters[i].first_index = i * N_TASKS_PER_SUBMITTER;
      submitters[i].tasks = tasks + submitters[i].first_index;
      threads[i] = g_thread_new ("pmt-t-submit", submitter_thread, &submitters[i]);
    }

  for (guint i = 0; i < N_SUBMITTERS; i++)
    g_thread_join (threads[i]);

  for (guint i = 0; i < N_SUBMITTERS * N_TASKS_PER_SUBMITTER; i++)
    {
      const GValue *result;

      g_assert_true (pmt_task_wait (tasks[i], 60 * G_USEC_PER_SEC));
      g_assert_cmpint (pmt_task_get_state (tasks[i]), ==, PMT_TASK_STATE_SUCCEEDED);
      g_assert_true (pmt_task_get_worker (tasks[i]) == workers[i % N_WORKERS]);
      result = pmt_task_get_result (tasks[i]);
      g_assert_nonnull (result);
      g_assert_true (G_VALUE_HOLDS_INT64 (result));
      g_assert_cmpint (g_value_get_int64 (result), ==, i);
    }

  for (guint i = 0; i < N_WORKERS; i++)
    {
      guint64 n_tasks_run = pmt_worker_get_n_tasks_run (workers[i]);

      g_assert_cmpuint (n_tasks_run, ==, N_SUBMITTERS * N_TASKS_PER_SUBMITTER / N_WORKERS);
      total += n_tasks_run;
    }
  g_assert_cmpuint (total, ==, N_SUBMITTERS * N_TASKS_PER_SUBMITTER);

  for (guint i = 0; i < N_WORKERS; i++)
    {
      stop_and_join (workers[i]);
      g_object_unref (workers[i]);
    }
  for (guint i = 0; i < N_SUBMITTERS * N_TASKS_PER_SUBMITTER; i++)
    g_object_unref (tasks[i]);
  g_free (tasks);
}

#define N_RACERS 4
#define N_RACE_START 100           /* accepted pushes before the stop */
#define N_RACE_MAX_ACCEPTED 20000  /* per racer, to bound memory */
#define N_RACE_REFUSED 10          /* refusals each racer collects */

typedef struct
{
  GMutex mutex;
  GCond cond;
  guint n_accepted;
  gboolean stopped;
  gint n_runs;
} RaceShared;

typedef struct
{
  RaceShared *shared;
  PmtWorker *worker;
  GPtrArray *accepted;
  GPtrArray *refused;
} Racer;

static void
race_completed_cb (PmtTask  *task,
                   gpointer  user_data)
{
  g_atomic_int_inc ((gint *) pmt_task_get_task_data (task));
}

static gpointer
racer_thread (gpointer data)
{
  Racer *racer = data;
  RaceShared *shared = racer->shared;

  while (racer->refused->len < N_RACE_REFUSED)
    {
      PmtTask *task = pmt_task_new (pmt_test_count_func, &shared->n_runs, NULL);
      GError *error = NULL;

      pmt_task_set_task_data (task, g_new0 (gint, 1), g_free);
      g_signal_connect (task, "completed", G_CALLBACK (race_completed_cb), NULL);

      if (pmt_worker_push (racer->worker, task, &error))
        {
          g_assert_no_error (error);
          /* Once refused, always refused. */
          g_assert_cmpuint (racer->refused->len, ==, 0);
          g_ptr_array_add (racer->accepted, task);

          g_mutex_lock (&shared->mutex);
          shared->n_accepted++;
          g_cond_broadcast (&shared->cond);
          /* Enough: wait for the stop rather than pile up tasks. */
          if (racer->accepted->len >= N_RACE_MAX_ACCEPTED)
            {
              while (!shared->stopped)
                g_cond_wait (&shared->cond, &shared->mutex);
            }
          g_mutex_unlock (&shared->mutex);
        }
      else
        {
          g_assert_error (error, PMT_ERROR, PMT_ERROR_STOPPED);
          g_clear_error (&error);
          g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_PENDING);
          g_ptr_array_add (racer->refused, task);
        }
    }

  return NULL;
}

static void
test_stop_races_with_push (void)
{
  g_autoptr(PmtWorker) worker = pmt_worker_new ("pmt-t-race");
  RaceShared shared = { 0, };
  Racer racers[N_RACERS];
  GThread *threads[N_RACERS];
  guint n_accepted_before_stop;
  guint n_accepted = 0, n_succeeded = 0, n_cancelled = 0;

  g_mutex_init (&shared.mutex);
  g_cond_init (&shared.cond);

  for (guint i = 0; i < N_RACERS; i++)
    {
      racers[i].shared = &shared;
      racers[i].worker = worker;
      racers[i].accepted = g_ptr_array_new_with_free_func (g_object_unref);
      racers[i].refused = g_ptr_array_new_with_free_func (g_object_unref);
      threads[i] = g_thread_new ("pmt-t-racer", racer_thread, &racers[i]);
    }

  /* Stop while the racers are pushing. */
  n_accepted_before_stop = pmt_test_wait_uint (&shared.mutex, &shared.cond, &shared.n_accepted,
                                               N_RACE_START, SAFETY_TIMEOUT_USEC);
  g_assert_cmpuint (n_accepted_before_stop, >=, N_RACE_START);

  pmt_worker_stop (worker);

  pmt_test_set_flag (&shared.mutex, &shared.cond, &shared.stopped);

  for (guint i = 0; i < N_RACERS; i++)
    g_thread_join (threads[i]);

  g_assert_true (pmt_worker_join (worker, SAFETY_TIMEOUT_USEC));

  for (guint i = 0; i < N_RACERS; i++)
    {
      for (guint j = 0; j < racers[i].accepted->len; j++)
        {
          PmtTask *task = racers[i].accepted->pdata[j];

          g_assert_true (pmt_task_wait (task, SAFETY_TIMEOUT_USEC));
          switch (pmt_task_get_state (task))
            {
            case PMT_TASK_STATE_SUCCEEDED:
              n_succeeded++;
              break;
            case PMT_TASK_STATE_CANCELLED:
              n_cancelled++;
              break;
            default:
              g_assert_not_reached ();
            }
          g_assert_cmpint (g_atomic_int_get ((gint *) pmt_task_get_task_data (task)), ==, 1);
        }
      n_accepted += racers[i].accepted->len;

      g_assert_cmpuint (racers[i].refused->len, ==, N_RACE_REFUSED);
      for (guint j = 0; j < racers[i].refused->len; j++)
        {
          PmtTask *task = racers[i].refused->pdata[j];

          g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_PENDING);
          g_assert_cmpint (g_atomic_int_get ((gint *) pmt_task_get_task_data (task)), ==, 0);
        }
    }

  g_assert_cmpuint (n_accepted, ==, shared.n_accepted);
  g_assert_cmpuint (n_succeeded + n_cancelled, ==, n_accepted);
  g_assert_cmpuint (n_succeeded, ==, g_atomic_int_get (&shared.n_runs));
  g_assert_cmpuint (n_succeeded, ==, pmt_worker_get_n_tasks_run (worker));

  for (guint i = 0; i < N_RACERS; i++)
    {
      g_ptr_array_unref (racers[i].accepted);
      g_ptr_array_unref (racers[i].refused);
    }
  g_mutex_clear (&shared.mutex);
  g_cond_clear (&shared.cond);
}

static void
test_programming_errors (void)
{
  g_autoptr(PmtWorker) worker = pmt_worker_new ("pmt-t-errors");
  g_autoptr(PmtTask) task = pmt_task_new (pmt_test_count_func, NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PmtTask) current = NULL;

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_WORKER*");
  g_assert_false (pmt_worker_push (NULL, task, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_PENDING);

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_TASK*");
  g_assert_false (pmt_worker_push (worker, NULL, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_false (pmt_worker_is_running (worker));

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_WORKER*");
  pmt_worker_stop (NULL);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_WORKER*");
  pmt_worker_kill (NULL);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_WORKER*");
  g_assert_false (pmt_worker_join (NULL, 0));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_WORKER*");
  g_assert_null (pmt_worker_get_name (NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_WORKER*");
  g_assert_cmpint (pmt_worker_get_state (NULL), ==, PMT_WORKER_STATE_STOPPED);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_WORKER*");
  current = pmt_worker_dup_current_task (NULL);
  g_test_assert_expected_messages ();
  g_assert_null (current);

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_WORKER*");
  g_assert_cmpint (pmt_worker_get_current_priority (NULL), ==, 0);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_WORKER*");
  g_assert_cmpuint (pmt_worker_get_n_tasks_run (NULL), ==, 0);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_WORKER*");
  g_assert_cmpint (pmt_worker_get_idle_timeout (NULL), ==, -1);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_WORKER*");
  pmt_worker_set_idle_timeout (NULL, -1);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*idle_timeout_usec >= -1*");
  pmt_worker_set_idle_timeout (worker, -2);
  g_test_assert_expected_messages ();
  g_assert_cmpint (pmt_worker_get_idle_timeout (worker), ==, -1);

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_WORKER*");
  g_assert_false (pmt_worker_is_running (NULL));
  g_test_assert_expected_messages ();

  /* None of this hurt the worker. */
  g_assert_true (pmt_worker_push (worker, task, &error));
  g_assert_no_error (error);
  pmt_test_assert_task_succeeded (task);

  stop_and_join (worker);
}

/* G_MAXINT64 must not overflow into "already expired", as a join or as
 * the idle timeout the thread waits with. */
static void
test_huge_timeouts (void)
{
  g_autoptr(PmtWorker) worker = g_object_new (PMT_TYPE_WORKER, "idle-timeout", G_MAXINT64, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PmtTask) task = NULL;
  PmtTestGate gate;
  GThread *thread;

  pmt_test_gate_init (&gate);
  task = pmt_task_new (pmt_test_gate_func, &gate, NULL);
  g_assert_true (pmt_worker_push (worker, task, &error));
  g_assert_no_error (error);
  pmt_test_gate_wait_started (&gate, 1);
  thread = pmt_test_call_later ((GDestroyNotify) pmt_test_gate_open, &gate);
  g_assert_true (pmt_task_wait (task, G_MAXINT64));
  g_thread_join (thread);

  /* Idle now, waiting with the huge idle timeout: it must stay. */
  g_assert_true (pmt_worker_is_running (worker));
  thread = pmt_test_call_later ((GDestroyNotify) pmt_worker_stop, worker);
  g_assert_true (pmt_worker_join (worker, G_MAXINT64));
  g_thread_join (thread);
  g_assert_cmpint (pmt_worker_get_state (worker), ==, PMT_WORKER_STATE_STOPPED);
  pmt_test_gate_clear (&gate);
}

typedef struct
{
  GMutex mutex;
  GCond cond;
  gpointer thread;          /* the thread between started and stopped */
  guint n_started;
  guint n_stopped;
  gint n_wrong;
} ThreadSignals;

static void
on_thread_started (PmtWorker *worker,
                   gpointer   user_data)
{
  ThreadSignals *signals = user_data;

  g_mutex_lock (&signals->mutex);
  if (signals->thread != NULL)
    signals->n_wrong++;
  signals->thread = g_thread_self ();
  signals->n_started++;
  g_mutex_unlock (&signals->mutex);
}

static void
on_thread_stopped (PmtWorker *worker,
                   gpointer   user_data)
{
  ThreadSignals *signals = user_data;

  g_mutex_lock (&signals->mutex);
  if (signals->thread != g_thread_self ())
    signals->n_wrong++;
  signals->thread = NULL;
  signals->n_stopped++;
  g_cond_broadcast (&signals->cond);
  g_mutex_unlock (&signals->mutex);
}

/* thread-started and thread-stopped pair up in the worker's thread, also
 * across an idle exit, and thread-stopped comes before join returns. */
static void
test_thread_signals (void)
{
  g_autoptr(PmtWorker) worker = pmt_worker_new ("test-thread-signals");
  ThreadSignals signals = { 0 };
  g_autoptr(GError) error = NULL;

  g_mutex_init (&signals.mutex);
  g_cond_init (&signals.cond);
  g_signal_connect (worker, "thread-started", G_CALLBACK (on_thread_started), &signals);
  g_signal_connect (worker, "thread-stopped", G_CALLBACK (on_thread_stopped), &signals);

  /* The first thread leaves when idle; the second stays until stopped. */
  for (guint round = 0; round < 2; round++)
    {
      g_autoptr(PmtTask) task = pmt_task_new (pmt_test_count_func, NULL, NULL);

      pmt_worker_set_idle_timeout (worker, round == 0 ? 0 : -1);
      g_assert_true (pmt_worker_push (worker, task, &error));
      g_assert_no_error (error);
      g_assert_true (pmt_task_wait (task, SAFETY_TIMEOUT_USEC));
      if (round == 0)
        pmt_test_wait_uint (&signals.mutex, &signals.cond, &signals.n_stopped, 1,
                            SAFETY_TIMEOUT_USEC);
    }

  pmt_test_worker_stop_and_join (worker);
  g_assert_cmpuint (signals.n_started, ==, 2);
  g_assert_cmpuint (signals.n_stopped, ==, 2);
  g_assert_null (signals.thread);
  g_assert_cmpint (signals.n_wrong, ==, 0);
  g_cond_clear (&signals.cond);
  g_mutex_clear (&signals.mutex);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/pmt/worker/push/runs-in-worker-thread", test_push_runs_in_worker_thread);
  g_test_add_func ("/pmt/worker/push/fifo", test_push_fifo);
  g_test_add_func ("/pmt/worker/push/refused-when-stopping", test_push_refused_when_stopping);
  g_test_add_func ("/pmt/worker/push/cancelled", test_push_cancelled);
  g_test_add_func ("/pmt/worker/push/twice", test_push_twice);
  g_test_add_func ("/pmt/worker/name/given", test_name_given);
  g_test_add_func ("/pmt/worker/name/generated", test_name_generated);
  g_test_add_func ("/pmt/worker/state/idle-busy", test_state_idle_busy);
  g_test_add_func ("/pmt/worker/state/stopping-stopped", test_state_stopping_stopped);
  g_test_add_func ("/pmt/worker/stop/unstarted", test_stop_unstarted);
  g_test_add_func ("/pmt/worker/stop/cancels-queued", test_stop_cancels_queued);
  g_test_add_func ("/pmt/worker/stop/races-with-push", test_stop_races_with_push);
  g_test_add_func ("/pmt/worker/kill/cancels-running", test_kill_cancels_running);
  g_test_add_func ("/pmt/worker/kill/after-stop", test_kill_after_stop);
  g_test_add_func ("/pmt/worker/join/timeout", test_join_timeout);
  g_test_add_func ("/pmt/worker/join/idle-worker", test_join_idle_worker);
  g_test_add_func ("/pmt/worker/join/leaving-thread", test_join_waits_for_leaving_thread);
  g_test_add_func ("/pmt/worker/join/self", test_join_self);
  g_test_add_func ("/pmt/worker/idle-timeout/exits", test_idle_timeout_exits);
  g_test_add_func ("/pmt/worker/idle-timeout/never", test_idle_timeout_never);
  g_test_add_func ("/pmt/worker/threads/many-submitters", test_threads_many_submitters);
  g_test_add_func ("/pmt/worker/programming-errors", test_programming_errors);

  pmt_test_add_guarded_func ("/pmt/worker/timeout/huge", test_huge_timeouts,
                             60 * G_USEC_PER_SEC);

  pmt_test_add_guarded_func ("/pmt/worker/thread-signals", test_thread_signals,
                             60 * G_USEC_PER_SEC);

  return g_test_run ();
}
