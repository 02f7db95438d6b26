/* test-completion-queue.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <pmt.h>

#include "pmt-test-utils.h"

/* A bound on every wait that should end quickly; reaching it is a failure. */
#define SAFETY_TIMEOUT_USEC PMT_TEST_SAFETY_TIMEOUT_USEC
#define SHORT_TIMEOUT_USEC  (50 * G_TIME_SPAN_MILLISECOND)

/* Blocks on the gate given as user data; a gate that stays shut fails
 * the test.  Returns the task-data as the result. */
static void
gated_func (PmtTask  *task,
            gpointer  user_data)
{
  pmt_test_gate_pass (user_data);
  pmt_task_return_int (task, GPOINTER_TO_INT (pmt_task_get_task_data (task)));
}

/* Returns its task-data as the result. */
static void
return_index_func (PmtTask  *task,
                   gpointer  user_data)
{
  pmt_task_return_int (task, GPOINTER_TO_INT (pmt_task_get_task_data (task)));
}

static void
fail_func (PmtTask  *task,
           gpointer  user_data)
{
  pmt_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "failed on purpose");
}

static PmtTask *
new_index_task (PmtTaskFunc func,
                gpointer    user_data,
                gint        index)
{
  PmtTask *task = pmt_task_new (func, user_data, NULL);

  pmt_task_set_task_data (task, GINT_TO_POINTER (index), NULL);

  return task;
}

static gint
task_index (PmtTask *task)
{
  return GPOINTER_TO_INT (pmt_task_get_task_data (task));
}

/* Takes the next task, which must come within the safety timeout, be done
 * and be @expected; drops it. */
static void
assert_next_is (PmtCompletionQueue *queue,
                PmtTask            *expected)
{
  g_autoptr(PmtTask) task = pmt_completion_queue_next (queue, SAFETY_TIMEOUT_USEC);

  g_assert_nonnull (task);
  g_assert_true (task == expected);
  /* Handed back only once done, its waiters woken. */
  g_assert_true (pmt_task_is_done (task));
  g_assert_true (pmt_task_wait (task, 0));
}

/* ------------------------------------------------------------------ */

/* Tasks finishing in an order of our choosing, each on its own worker and
 * held by its own gate: they come back in that order, not in the order
 * they were added. */
#define N_GATED 5

static void
test_order_gates (void)
{
  static const guint finish_order[N_GATED] = { 3, 1, 4, 0, 2 };
  g_autoptr(PmtCompletionQueue) queue = pmt_completion_queue_new ();
  PmtWorker *workers[N_GATED];
  PmtTask *tasks[N_GATED];
  PmtTestGate gates[N_GATED];

  for (guint i = 0; i < N_GATED; i++)
    {
      g_autoptr(GError) error = NULL;

      pmt_test_gate_init (&gates[i]);
      workers[i] = pmt_worker_new (NULL);
      tasks[i] = new_index_task (gated_func, &gates[i], i);
      pmt_completion_queue_add (queue, tasks[i]);
      g_assert_true (pmt_worker_push (workers[i], tasks[i], &error));
      g_assert_no_error (error);
    }
  g_assert_cmpuint (pmt_completion_queue_get_n_pending (queue), ==, N_GATED);

  /* Every task is running and none finished. */
  for (guint i = 0; i < N_GATED; i++)
    pmt_test_gate_wait_started (&gates[i], 1);
  g_assert_null (pmt_completion_queue_next (queue, 0));

  for (guint i = 0; i < N_GATED; i++)
    {
      guint index = finish_order[i];

      pmt_test_gate_open (&gates[index]);
      assert_next_is (queue, tasks[index]);
      g_assert_cmpint (g_value_get_int64 (pmt_task_get_result (tasks[index])), ==, index);
      g_assert_cmpuint (pmt_completion_queue_get_n_pending (queue), ==, N_GATED - i - 1);
    }
  g_assert_null (pmt_completion_queue_next (queue, -1));

  for (guint i = 0; i < N_GATED; i++)
    {
      pmt_test_worker_stop_and_join (workers[i]);
      g_object_unref (workers[i]);
      g_object_unref (tasks[i]);
      pmt_test_gate_clear (&gates[i]);
    }
}

/* One worker runs its tasks one after the other in the order they were
 * pushed: the queue hands them back in that order, whatever the order of
 * adding, successes and failures alike. */
static void
test_order_worker (void)
{
  static const guint push_order[] = { 6, 2, 7, 0, 5, 3, 1, 4 };
  g_autoptr(PmtCompletionQueue) queue = pmt_completion_queue_new ();
  g_autoptr(PmtWorker) worker = pmt_worker_new ("pmt-t-cq-order");
  g_autoptr(PmtTask) blocker = NULL;
  PmtTask *tasks[G_N_ELEMENTS (push_order)];
  PmtTestGate gate;

  pmt_test_gate_init (&gate);

  /* Hold the worker so that nothing finishes before every push. */
  blocker = new_index_task (gated_func, &gate, -1);
  g_assert_true (pmt_worker_push (worker, blocker, NULL));
  pmt_test_gate_wait_started (&gate, 1);

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      tasks[i] = new_index_task (i % 3 == 0 ? fail_func : return_index_func, NULL, i);
      pmt_completion_queue_add (queue, tasks[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (push_order); i++)
    g_assert_true (pmt_worker_push (worker, tasks[push_order[i]], NULL));

  g_assert_null (pmt_completion_queue_next (queue, 0));
  pmt_test_gate_open (&gate);

  for (guint i = 0; i < G_N_ELEMENTS (push_order); i++)
    {
      PmtTask *task = tasks[push_order[i]];

      assert_next_is (queue, task);
      if (push_order[i] % 3 == 0)
        {
          g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_FAILED);
          g_assert_error (pmt_task_get_error (task), G_IO_ERROR, G_IO_ERROR_FAILED);
        }
      else
        {
          g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_SUCCEEDED);
          g_assert_cmpint (g_value_get_int64 (pmt_task_get_result (task)), ==, push_order[i]);
        }
    }
  g_assert_cmpuint (pmt_completion_queue_get_n_pending (queue), ==, 0);
  g_assert_null (pmt_completion_queue_next (queue, -1));

  pmt_test_worker_stop_and_join (worker);
  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    g_object_unref (tasks[i]);
  pmt_test_gate_clear (&gate);
}

/* Tasks run with pmt_task_run() in the test thread, in a chosen order. */
static void
test_order_run (void)
{
  static const guint run_order[] = { 2, 0, 3, 1 };
  g_autoptr(PmtCompletionQueue) queue = pmt_completion_queue_new ();
  PmtTask *tasks[G_N_ELEMENTS (run_order)];

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      tasks[i] = new_index_task (return_index_func, NULL, i);
      pmt_completion_queue_add (queue, tasks[i]);
    }

  /* Two finish before the first next(), two after. */
  pmt_task_run (tasks[run_order[0]]);
  pmt_task_run (tasks[run_order[1]]);
  assert_next_is (queue, tasks[run_order[0]]);
  pmt_task_run (tasks[run_order[2]]);
  assert_next_is (queue, tasks[run_order[1]]);
  assert_next_is (queue, tasks[run_order[2]]);
  g_assert_null (pmt_completion_queue_next (queue, 0));
  pmt_task_run (tasks[run_order[3]]);
  assert_next_is (queue, tasks[run_order[3]]);
  g_assert_null (pmt_completion_queue_next (queue, -1));

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    g_object_unref (tasks[i]);
}

static void
test_next_zero (void)
{
  g_autoptr(PmtCompletionQueue) queue = pmt_completion_queue_new ();
  g_autoptr(PmtTask) task = new_index_task (return_index_func, NULL, 0);
  gint64 start;

  pmt_completion_queue_add (queue, task);

  start = g_get_monotonic_time ();
  g_assert_null (pmt_completion_queue_next (queue, 0));
  /* "At once": far below the safety timeout. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, SAFETY_TIMEOUT_USEC / 2);

  /* Still pending, and handed back once it finished. */
  g_assert_cmpuint (pmt_completion_queue_get_n_pending (queue), ==, 1);
  pmt_task_run (task);
  assert_next_is (queue, task);
}

static void
test_next_timeout (void)
{
  g_autoptr(PmtCompletionQueue) queue = pmt_completion_queue_new ();
  g_autoptr(PmtTask) task = new_index_task (return_index_func, NULL, 0);
  gint64 start;

  pmt_completion_queue_add (queue, task);

  start = g_get_monotonic_time ();
  g_assert_null (pmt_completion_queue_next (queue, SHORT_TIMEOUT_USEC));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, SHORT_TIMEOUT_USEC);
  g_assert_cmpuint (pmt_completion_queue_get_n_pending (queue), ==, 1);

  pmt_task_run (task);
  assert_next_is (queue, task);
}

typedef struct
{
  PmtTask *task;
  gboolean *about_to_wait;  /* set by the test thread */
  GMutex *mutex;
  GCond *cond;
} Finisher;

/* Runs the task once the test thread is about to block in next(). */
static gpointer
finisher_thread (gpointer data)
{
  Finisher *finisher = data;

  g_mutex_lock (finisher->mutex);
  while (!*finisher->about_to_wait)
    g_cond_wait (finisher->cond, finisher->mutex);
  g_mutex_unlock (finisher->mutex);

  pmt_task_run (finisher->task);

  return NULL;
}

/* next (-1) blocks until a task finishes on another thread.  The other
 * thread starts running the task only once this one is on its way into
 * next(), so most rounds do block there; either way the task must come
 * back. */
static void
test_next_blocks (void)
{
  for (guint round = 0; round < 20; round++)
    {
      g_autoptr(PmtCompletionQueue) queue = pmt_completion_queue_new ();
      g_autoptr(PmtTask) other = new_index_task (return_index_func, NULL, 1);
      g_autoptr(PmtTask) task = new_index_task (return_index_func, NULL, 0);
      g_autoptr(PmtTask) next = NULL;
      gboolean about_to_wait = FALSE;
      GMutex mutex;
      GCond cond;
      Finisher finisher = { task, &about_to_wait, &mutex, &cond };
      GThread *thread;

      g_mutex_init (&mutex);
      g_cond_init (&cond);

      /* @other stays pending: next() must not return NULL just because
       * something is unfinished, nor return the unfinished one. */
      pmt_completion_queue_add (queue, other);
      pmt_completion_queue_add (queue, task);
      thread = g_thread_new ("pmt-t-finisher", finisher_thread, &finisher);

      g_mutex_lock (&mutex);
      about_to_wait = TRUE;
      g_cond_signal (&cond);
      g_mutex_unlock (&mutex);

      next = pmt_completion_queue_next (queue, -1);
      g_assert_true (next == task);
      g_assert_true (pmt_task_is_done (next));
      g_assert_cmpint (g_value_get_int64 (pmt_task_get_result (next)), ==, 0);
      g_thread_join (thread);

      g_assert_cmpuint (pmt_completion_queue_get_n_pending (queue), ==, 1);
      g_assert_false (pmt_task_is_done (other));
      pmt_task_cancel (other);
      assert_next_is (queue, other);

      g_mutex_clear (&mutex);
      g_cond_clear (&cond);
    }
}

/* With nothing pending, next() returns NULL at once whatever the
 * timeout, also once every added task was handed back. */
static void
test_next_nothing_pending (void)
{
  g_autoptr(PmtCompletionQueue) queue = pmt_completion_queue_new ();
  g_autoptr(PmtTask) task = new_index_task (return_index_func, NULL, 0);
  gint64 start = g_get_monotonic_time ();

  g_assert_cmpuint (pmt_completion_queue_get_n_pending (queue), ==, 0);
  g_assert_null (pmt_completion_queue_next (queue, -1));
  g_assert_null (pmt_completion_queue_next (queue, 0));
  g_assert_null (pmt_completion_queue_next (queue, 2 * SAFETY_TIMEOUT_USEC));
  g_assert_cmpint (g_get_monotonic_time () - start, <, SAFETY_TIMEOUT_USEC / 2);

  pmt_completion_queue_add (queue, task);
  pmt_task_run (task);
  assert_next_is (queue, task);

  start = g_get_monotonic_time ();
  g_assert_null (pmt_completion_queue_next (queue, -1));
  g_assert_null (pmt_completion_queue_next (queue, 2 * SAFETY_TIMEOUT_USEC));
  g_assert_cmpint (g_get_monotonic_time () - start, <, SAFETY_TIMEOUT_USEC / 2);
}

/* n-pending counts what was added and not handed back, finished or not. */
static void
test_n_pending (void)
{
  g_autoptr(PmtCompletionQueue) queue = pmt_completion_queue_new ();
  PmtTask *tasks[4];

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      tasks[i] = new_index_task (return_index_func, NULL, i);
      pmt_completion_queue_add (queue, tasks[i]);
      g_assert_cmpuint (pmt_completion_queue_get_n_pending (queue), ==, i + 1);
    }

  pmt_task_run (tasks[1]);
  g_assert_cmpuint (pmt_completion_queue_get_n_pending (queue), ==, 4);
  pmt_task_cancel (tasks[3]);
  g_assert_cmpuint (pmt_completion_queue_get_n_pending (queue), ==, 4);

  assert_next_is (queue, tasks[1]);
  g_assert_cmpuint (pmt_completion_queue_get_n_pending (queue), ==, 3);
  assert_next_is (queue, tasks[3]);
  g_assert_cmpuint (pmt_completion_queue_get_n_pending (queue), ==, 2);
  g_assert_null (pmt_completion_queue_next (queue, 0));
  g_assert_cmpuint (pmt_completion_queue_get_n_pending (queue), ==, 2);

  pmt_task_run (tasks[0]);
  pmt_task_run (tasks[2]);
  assert_next_is (queue, tasks[0]);
  assert_next_is (queue, tasks[2]);
  g_assert_cmpuint (pmt_completion_queue_get_n_pending (queue), ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    g_object_unref (tasks[i]);
}

/* A task added after it finished (succeeded, failed or cancelled) is
 * there at once, ahead of any that finish later. */
static void
test_add_finished (void)
{
  g_autoptr(PmtCompletionQueue) queue = pmt_completion_queue_new ();
  g_autoptr(PmtTask) pending = new_index_task (return_index_func, NULL, 0);
  g_autoptr(PmtTask) succeeded = new_index_task (return_index_func, NULL, 1);
  g_autoptr(PmtTask) failed = new_index_task (fail_func, NULL, 2);
  g_autoptr(PmtTask) cancelled = new_index_task (return_index_func, NULL, 3);

  pmt_completion_queue_add (queue, pending);

  pmt_task_run (succeeded);
  pmt_completion_queue_add (queue, succeeded);
  g_assert_cmpuint (pmt_completion_queue_get_n_pending (queue), ==, 2);
  assert_next_is (queue, succeeded);

  pmt_task_run (failed);
  pmt_task_cancel (cancelled);
  pmt_completion_queue_add (queue, failed);
  pmt_completion_queue_add (queue, cancelled);
  pmt_task_run (pending);

  assert_next_is (queue, failed);
  g_assert_cmpint (pmt_task_get_state (failed), ==, PMT_TASK_STATE_FAILED);
  assert_next_is (queue, cancelled);
  g_assert_cmpint (pmt_task_get_state (cancelled), ==, PMT_TASK_STATE_CANCELLED);
  assert_next_is (queue, pending);
  g_assert_null (pmt_completion_queue_next (queue, -1));
}

/* A task cancelled while pending (never submitted, or waiting in a worker's
 * queue behind a running task) comes back, cancelled. */
static void
test_cancel_pending (void)
{
  g_autoptr(PmtCompletionQueue) queue = pmt_completion_queue_new ();
  g_autoptr(PmtWorker) worker = pmt_worker_new ("pmt-t-cq-cancel");
  g_autoptr(PmtTask) blocker = NULL;
  g_autoptr(PmtTask) unsubmitted = new_index_task (return_index_func, NULL, 0);
  g_autoptr(PmtTask) queued = new_index_task (return_index_func, NULL, 1);
  PmtTestGate gate;

  pmt_test_gate_init (&gate);
  blocker = new_index_task (gated_func, &gate, -1);
  g_assert_true (pmt_worker_push (worker, blocker, NULL));
  pmt_test_gate_wait_started (&gate, 1);
  g_assert_true (pmt_worker_push (worker, queued, NULL));

  pmt_completion_queue_add (queue, blocker);
  pmt_completion_queue_add (queue, unsubmitted);
  pmt_completion_queue_add (queue, queued);

  pmt_task_cancel (queued);
  assert_next_is (queue, queued);
  g_assert_cmpint (pmt_task_get_state (queued), ==, PMT_TASK_STATE_CANCELLED);

  pmt_task_cancel (unsubmitted);
  assert_next_is (queue, unsubmitted);
  g_assert_cmpint (pmt_task_get_state (unsubmitted), ==, PMT_TASK_STATE_CANCELLED);

  /* The blocker was running all along. */
  g_assert_cmpint (pmt_task_get_state (blocker), ==, PMT_TASK_STATE_RUNNING);
  g_assert_null (pmt_completion_queue_next (queue, 0));
  pmt_test_gate_open (&gate);
  assert_next_is (queue, blocker);
  g_assert_cmpint (pmt_task_get_state (blocker), ==, PMT_TASK_STATE_SUCCEEDED);

  pmt_test_worker_stop_and_join (worker);
  pmt_test_gate_clear (&gate);
}

/* next() hands over a reference of its own; the queue keeps none after
 * it, nor after it is freed. */
static void
test_references (void)
{
  PmtCompletionQueue *queue = pmt_completion_queue_new ();
  PmtTask *handed_back = new_index_task (return_index_func, NULL, 0);
  PmtTask *done_not_taken = new_index_task (return_index_func, NULL, 1);
  PmtTask *unfinished = new_index_task (return_index_func, NULL, 2);
  PmtTask *next;

  g_object_add_weak_pointer (G_OBJECT (handed_back), (gpointer *) &handed_back);
  g_object_add_weak_pointer (G_OBJECT (done_not_taken), (gpointer *) &done_not_taken);
  g_object_add_weak_pointer (G_OBJECT (unfinished), (gpointer *) &unfinished);

  pmt_completion_queue_add (queue, handed_back);
  pmt_completion_queue_add (queue, done_not_taken);
  pmt_completion_queue_add (queue, unfinished);

  /* The queue holds them: ours can go. */
  pmt_task_run (handed_back);
  g_object_unref (handed_back);
  g_assert_nonnull (handed_back);

  next = pmt_completion_queue_next (queue, 0);
  g_assert_true (next == handed_back);
  g_object_unref (next);
  g_assert_null (handed_back);

  pmt_task_run (done_not_taken);
  g_object_unref (done_not_taken);
  g_assert_nonnull (done_not_taken);
  g_object_unref (unfinished);
  g_assert_nonnull (unfinished);

  g_object_unref (queue);
  g_assert_null (done_not_taken);
  g_assert_null (unfinished);
}

/* ------------------------------------------------------------------ */

#define N_THREADS          8
#define N_TASKS_PER_THREAD 1000
#define N_TASKS            (N_THREADS * N_TASKS_PER_THREAD)

typedef struct
{
  PmtTask **tasks;   /* the tasks this thread runs */
  guint n_tasks;
} RunnerData;

static gpointer
runner_thread (gpointer data)
{
  RunnerData *runner = data;

  for (guint i = 0; i < runner->n_tasks; i++)
    pmt_task_run (runner->tasks[i]);

  return NULL;
}

/* 8 threads run 1000 tasks each while one consumer takes them: each comes
 * back exactly once, done. */
static void
test_threads_many (void)
{
  g_autoptr(PmtCompletionQueue) queue = pmt_completion_queue_new ();
  g_autofree PmtTask **tasks = g_new (PmtTask *, N_TASKS);
  g_autofree guint8 *seen = g_new0 (guint8, N_TASKS);
  GThread *threads[N_THREADS];
  RunnerData runners[N_THREADS];

  for (guint i = 0; i < N_TASKS; i++)
    {
      tasks[i] = new_index_task (i % 7 == 0 ? fail_func : return_index_func, NULL, i);
      pmt_completion_queue_add (queue, tasks[i]);
    }
  g_assert_cmpuint (pmt_completion_queue_get_n_pending (queue), ==, N_TASKS);

  for (guint t = 0; t < N_THREADS; t++)
    {
      runners[t].tasks = tasks + t * N_TASKS_PER_THREAD;
      runners[t].n_tasks = N_TASKS_PER_THREAD;
      threads[t] = g_thread_new ("pmt-t-runner", runner_thread, &runners[t]);
    }

  for (guint n = 0; n < N_TASKS; n++)
    {
      g_autoptr(PmtTask) task = pmt_completion_queue_next (queue, SAFETY_TIMEOUT_USEC);
      gint index;

      g_assert_nonnull (task);
      g_assert_true (pmt_task_is_done (task));
      index = task_index (task);
      g_assert_cmpint (index, >=, 0);
      g_assert_cmpint (index, <, N_TASKS);
      g_assert_true (tasks[index] == task);
      g_assert_cmpuint (seen[index], ==, 0);
      seen[index] = 1;
      if (index % 7 == 0)
        g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_FAILED);
      else
        g_assert_cmpint (g_value_get_int64 (pmt_task_get_result (task)), ==, index);
      g_assert_cmpuint (pmt_completion_queue_get_n_pending (queue), ==, N_TASKS - n - 1);
    }
  g_assert_null (pmt_completion_queue_next (queue, -1));

  for (guint t = 0; t < N_THREADS; t++)
    g_thread_join (threads[t]);
  for (guint i = 0; i < N_TASKS; i++)
    {
      g_assert_cmpuint (seen[i], ==, 1);
      g_object_unref (tasks[i]);
    }
}

/* Freeing the queue while other threads finish its tasks: some finish
 * before, some during, some after.  Nothing crashes, nothing leaks, and
 * no later completion touches the freed queue (which AddressSanitizer and
 * ThreadSanitizer would see). */
#define N_FREE_THREADS          4
#define N_FREE_TASKS_PER_THREAD 500

static void
test_free_with_pending (void)
{
  PmtCompletionQueue *queue = pmt_completion_queue_new ();
  PmtTask *tasks[N_FREE_THREADS * N_FREE_TASKS_PER_THREAD];
  GThread *threads[N_FREE_THREADS];
  RunnerData runners[N_FREE_THREADS];
  g_autoptr(PmtWorker) worker = pmt_worker_new ("pmt-t-cq-free");
  g_autoptr(PmtTask) blocker = NULL;
  g_autoptr(PmtTask) queued = new_index_task (return_index_func, NULL, -2);
  PmtTestGate gate;

  /* One task held running in a worker, one queued behind it. */
  pmt_test_gate_init (&gate);
  blocker = new_index_task (gated_func, &gate, -1);
  g_assert_true (pmt_worker_push (worker, blocker, NULL));
  pmt_test_gate_wait_started (&gate, 1);
  g_assert_true (pmt_worker_push (worker, queued, NULL));
  pmt_completion_queue_add (queue, blocker);
  pmt_completion_queue_add (queue, queued);

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      tasks[i] = new_index_task (return_index_func, NULL, i);
      pmt_completion_queue_add (queue, tasks[i]);
    }
  for (guint t = 0; t < N_FREE_THREADS; t++)
    {
      runners[t].tasks = tasks + t * N_FREE_TASKS_PER_THREAD;
      runners[t].n_tasks = N_FREE_TASKS_PER_THREAD;
      threads[t] = g_thread_new ("pmt-t-runner", runner_thread, &runners[t]);
    }

  /* Take a few, then drop the queue under the runners' feet. */
  for (guint n = 0; n < 10; n++)
    {
      g_autoptr(PmtTask) task = pmt_completion_queue_next (queue, SAFETY_TIMEOUT_USEC);

      g_assert_nonnull (task);
      g_assert_true (pmt_task_is_done (task));
    }
  g_object_unref (queue);

  for (guint t = 0; t < N_FREE_THREADS; t++)
    g_thread_join (threads[t]);

  pmt_test_gate_open (&gate);
  g_assert_true (pmt_task_wait (blocker, SAFETY_TIMEOUT_USEC));
  g_assert_true (pmt_task_wait (queued, SAFETY_TIMEOUT_USEC));
  g_assert_cmpint (pmt_task_get_state (queued), ==, PMT_TASK_STATE_SUCCEEDED);
  pmt_test_worker_stop_and_join (worker);

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      g_assert_cmpint (pmt_task_get_state (tasks[i]), ==, PMT_TASK_STATE_SUCCEEDED);
      g_object_unref (tasks[i]);
    }
  pmt_test_gate_clear (&gate);
}

/* pmt_pool_as_completed() makes a queue holding every task given, in the
 * order they finish; tasks need not belong to a pool. */
static void
test_as_completed (void)
{
  g_autoptr(PmtCompletionQueue) queue = NULL;
  g_autoptr(PmtCompletionQueue) empty = NULL;
  PmtTask *tasks[3];

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    tasks[i] = new_index_task (return_index_func, NULL, i);
  pmt_task_run (tasks[1]);

  queue = pmt_pool_as_completed (tasks, G_N_ELEMENTS (tasks));
  g_assert_true (PMT_IS_COMPLETION_QUEUE (queue));
  g_assert_cmpuint (pmt_completion_queue_get_n_pending (queue), ==, 3);

  assert_next_is (queue, tasks[1]);
  pmt_task_run (tasks[2]);
  pmt_task_run (tasks[0]);
  assert_next_is (queue, tasks[2]);
  assert_next_is (queue, tasks[0]);
  g_assert_null (pmt_completion_queue_next (queue, -1));

  empty = pmt_pool_as_completed (NULL, 0);
  g_assert_true (PMT_IS_COMPLETION_QUEUE (empty));
  g_assert_cmpuint (pmt_completion_queue_get_n_pending (empty), ==, 0);
  g_assert_null (pmt_completion_queue_next (empty, -1));

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    g_object_unref (tasks[i]);
}

static void
test_programming_errors (void)
{
  g_autoptr(PmtCompletionQueue) queue = pmt_completion_queue_new ();
  g_autoptr(PmtTask) task = new_index_task (return_index_func, NULL, 0);
  g_autoptr(GObject) not_a_task = g_object_new (G_TYPE_OBJECT, NULL);

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_COMPLETION_QUEUE*");
  pmt_completion_queue_add (NULL, task);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_TASK*");
  pmt_completion_queue_add (queue, NULL);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_TASK*");
  pmt_completion_queue_add (queue, (PmtTask *) not_a_task);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_COMPLETION_QUEUE*");
  g_assert_null (pmt_completion_queue_next (NULL, 0));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_COMPLETION_QUEUE*");
  g_assert_cmpuint (pmt_completion_queue_get_n_pending (NULL), ==, 0);
  g_test_assert_expected_messages ();

  /* None of it changed the queue. */
  g_assert_cmpuint (pmt_completion_queue_get_n_pending (queue), ==, 0);
  g_assert_null (pmt_completion_queue_next (queue, -1));
}

static void
test_next_huge_timeout (void)
{
  g_autoptr(PmtCompletionQueue) queue = pmt_completion_queue_new ();
  g_autoptr(PmtWorker) worker = pmt_worker_new ("test-huge");
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(PmtTask) next = NULL;
  g_autoptr(GError) error = NULL;
  PmtTestGate gate;
  GThread *thread;

  pmt_test_gate_init (&gate);
  task = pmt_task_new (pmt_test_gate_func, &gate, NULL);
  pmt_completion_queue_add (queue, task);
  g_assert_true (pmt_worker_push (worker, task, &error));
  g_assert_no_error (error);
  pmt_test_gate_wait_started (&gate, 1);

  thread = pmt_test_call_later ((GDestroyNotify) pmt_test_gate_open, &gate);
  next = pmt_completion_queue_next (queue, G_MAXINT64);
  g_thread_join (thread);
  g_assert_true (next == task);

  pmt_test_worker_stop_and_join (worker);
  pmt_test_gate_clear (&gate);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/pmt/completion-queue/order/gates", test_order_gates);
  g_test_add_func ("/pmt/completion-queue/order/worker", test_order_worker);
  g_test_add_func ("/pmt/completion-queue/order/run", test_order_run);
  g_test_add_func ("/pmt/completion-queue/next/zero", test_next_zero);
  g_test_add_func ("/pmt/completion-queue/next/timeout", test_next_timeout);
  g_test_add_func ("/pmt/completion-queue/next/blocks", test_next_blocks);
  g_test_add_func ("/pmt/completion-queue/next/nothing-pending", test_next_nothing_pending);
  g_test_add_func ("/pmt/completion-queue/n-pending", test_n_pending);
  g_test_add_func ("/pmt/completion-queue/add/finished", test_add_finished);
  g_test_add_func ("/pmt/completion-queue/cancel/pending", test_cancel_pending);
  g_test_add_func ("/pmt/completion-queue/references", test_references);
  g_test_add_func ("/pmt/completion-queue/threads/many", test_threads_many);
  g_test_add_func ("/pmt/completion-queue/free/with-pending", test_free_with_pending);
  g_test_add_func ("/pmt/completion-queue/as-completed", test_as_completed);
  g_test_add_func ("/pmt/completion-queue/programming-errors", test_programming_errors);

  pmt_test_add_guarded_func ("/pmt/completion-queue/next/huge-timeout",
                             test_next_huge_timeout, 60 * G_USEC_PER_SEC);

  return g_test_run ();
}
