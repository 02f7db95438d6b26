/* test-bad-input.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Every public function called with bad input: NULL, an object of the
 * wrong type, negative or absurd sizes and timeouts, objects in the wrong
 * state.  Each gives a critical (checked with g_test_expect_message())
 * or a GError, and the objects it was given stay usable: never a crash,
 * a hang or a corruption.
 *
 * The table at the end names the function each case is for.
 * `test-bad-input --list` prints those names, and
 * tests/introspection/check-bad-input.py fails when a function of the
 * GIR has no case here. */

#include <stdio.h>
#include <string.h>

#include <pmt.h>

#include "pmt-test-utils.h"

#define SAFETY_TIMEOUT_USEC PMT_TEST_SAFETY_TIMEOUT_USEC

/* An object of no Pmt class, passed where a Pmt object is expected, and
 * a Pmt object passed where a GCancellable is. */
static GObject *wrong;
static GObject *wrong_pmt;

/* The statement raises one critical of the library. */
#define CRITICAL(...)                                                   \
  G_STMT_START {                                                        \
    g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*");           \
    __VA_ARGS__;                                                        \
    g_test_assert_expected_messages ();                                 \
  } G_STMT_END

/* The statement, written with SELF, raises a critical with SELF NULL and with
 * SELF an object of the wrong type. */
#define BAD_SELF(Type, ...)                                             \
  G_STMT_START {                                                        \
    Type *SELF = NULL;                                                  \
    CRITICAL (__VA_ARGS__);                                             \
    SELF = (Type *) wrong;                                              \
    CRITICAL (__VA_ARGS__);                                             \
  } G_STMT_END

static PmtPool *
new_pool (void)
{
  return pmt_test_new_pool (NULL, 1);
}

static void
end_pool (PmtPool *pool)
{
  pmt_test_shutdown_pool (pool);
  g_object_unref (pool);
}

static PmtTask *
new_task (void)
{
  return pmt_task_new (pmt_test_count_func, NULL, NULL);
}

static PmtTask *
new_done_task (void)
{
  PmtTask *task = new_task ();

  pmt_task_run (task);
  return task;
}

/* For pmt_pool_map(): each task's item is its task-data. */
static void
return_item_func (PmtTask  *task,
                  gpointer  user_data)
{
  pmt_task_return_int (task, GPOINTER_TO_UINT (pmt_task_get_task_data (task)));
}

static const char * const true_argv[] = { "true", NULL };
static const char * const empty_argv[] = { NULL };

/* Version and errors {{{1 */

static void
case_check_version (void)
{
  g_assert_null (pmt_check_version (PMT_MAJOR_VERSION, PMT_MINOR_VERSION, PMT_MICRO_VERSION));
  g_assert_nonnull (pmt_check_version (G_MAXUINT, 0, 0));
  g_assert_nonnull (pmt_check_version (PMT_MAJOR_VERSION, G_MAXUINT, G_MAXUINT));
}

static void
case_versions (void)
{
  /* No input: the run-time version is the compiled one. */
  g_assert_cmpuint (pmt_get_major_version (), ==, PMT_MAJOR_VERSION);
  g_assert_cmpuint (pmt_get_minor_version (), ==, PMT_MINOR_VERSION);
  g_assert_cmpuint (pmt_get_micro_version (), ==, PMT_MICRO_VERSION);
}

static void
case_error_quark (void)
{
  g_assert_cmpstr (g_quark_to_string (pmt_error_quark ()), ==, "pmt-error-quark");
}

/* Tasks {{{1 */

static void
case_task_new (void)
{
  PmtTask *task = NULL;

  CRITICAL (task = pmt_task_new (NULL, NULL, NULL));
  g_assert_null (task);
}

static void
case_task_run (void)
{
  g_autoptr(PmtTask) task = new_done_task ();
  g_autoptr(PmtPool) pool = new_pool ();
  PmtTestGate gate;
  g_autoptr(PmtTask) held = NULL;
  g_autoptr(PmtTask) queued = new_task ();

  BAD_SELF (PmtTask, pmt_task_run (SELF));
  /* Twice, and one its pool will run. */
  CRITICAL (pmt_task_run (task));
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_SUCCEEDED);

  pmt_test_gate_init (&gate);
  held = pmt_pool_submit (pool, pmt_test_gate_func, &gate, NULL, NULL);
  pmt_test_gate_wait_started (&gate, 1);
  g_assert_true (pmt_pool_push (pool, queued, NULL));
  CRITICAL (pmt_task_run (queued));
  pmt_test_gate_open (&gate);
  pmt_test_assert_task_succeeded (queued);
  end_pool (g_steal_pointer (&pool));
  pmt_test_gate_clear (&gate);
}

static void
case_task_cancel (void)
{
  g_autoptr(PmtTask) task = new_done_task ();

  BAD_SELF (PmtTask, pmt_task_cancel (SELF));
  /* A finished task stays as it is. */
  pmt_task_cancel (task);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_SUCCEEDED);
}

static void
case_task_getters (void)
{
  g_autoptr(PmtTask) task = new_task ();

  BAD_SELF (PmtTask, g_assert_null (pmt_task_get_cancellable (SELF)));
  BAD_SELF (PmtTask, g_assert_cmpuint (pmt_task_get_id (SELF), ==, 0));
  BAD_SELF (PmtTask, g_assert_cmpint (pmt_task_get_state (SELF), ==, PMT_TASK_STATE_PENDING));
  BAD_SELF (PmtTask, g_assert_false (pmt_task_is_done (SELF)));
  BAD_SELF (PmtTask, g_assert_null (pmt_task_get_worker (SELF)));
  BAD_SELF (PmtTask, g_assert_cmpint (pmt_task_get_priority (SELF), ==, 0));
  BAD_SELF (PmtTask, g_assert_false (pmt_task_get_store_result (SELF)));
  BAD_SELF (PmtTask, g_assert_null (pmt_task_get_limiter (SELF)));
  BAD_SELF (PmtTask, g_assert_null (pmt_task_get_main_context (SELF)));
  BAD_SELF (PmtTask, g_assert_null (pmt_task_get_task_data (SELF)));
  BAD_SELF (PmtTask, g_assert_null (pmt_task_get_task_value (SELF)));
  BAD_SELF (PmtTask, g_assert_null (pmt_task_get_result (SELF)));
  BAD_SELF (PmtTask, g_assert_null (pmt_task_get_result_pointer (SELF)));
  BAD_SELF (PmtTask, g_assert_null (pmt_task_get_error (SELF)));
  BAD_SELF (PmtTask, g_assert_null (pmt_task_to_variant (SELF)));

  /* Before the task ran, there is no outcome to read. */
  g_assert_null (pmt_task_get_result (task));
  g_assert_null (pmt_task_get_error (task));
}

/* The options are set before submission: afterwards a critical, and the
 * value is kept. */
static void
case_task_setters (void)
{
  g_autoptr(PmtTask) task = new_done_task ();
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (1);
  g_auto(GValue) value = G_VALUE_INIT;

  BAD_SELF (PmtTask, pmt_task_set_priority (SELF, 1));
  BAD_SELF (PmtTask, pmt_task_set_store_result (SELF, FALSE));
  BAD_SELF (PmtTask, pmt_task_set_limiter (SELF, NULL));
  BAD_SELF (PmtTask, pmt_task_set_main_context (SELF, NULL));
  BAD_SELF (PmtTask, pmt_task_set_callback (SELF, NULL, NULL, NULL));
  BAD_SELF (PmtTask, pmt_task_set_task_data (SELF, NULL, NULL));
  BAD_SELF (PmtTask, pmt_task_set_task_value (SELF, NULL));

  {
    g_autoptr(PmtTask) fresh = new_task ();

    CRITICAL (pmt_task_set_limiter (fresh, (PmtLimiter *) wrong));
    g_assert_null (pmt_task_get_limiter (fresh));
    /* A GValue never initialized. */
    CRITICAL (pmt_task_set_task_value (fresh, &value));
    g_assert_null (pmt_task_get_task_value (fresh));
    /* Extreme priorities are priorities. */
    pmt_task_set_priority (fresh, G_MININT);
    g_assert_cmpint (pmt_task_get_priority (fresh), ==, G_MININT);
  }

  CRITICAL (pmt_task_set_priority (task, 5));
  g_assert_cmpint (pmt_task_get_priority (task), ==, 0);
  CRITICAL (pmt_task_set_limiter (task, limiter));
  g_assert_null (pmt_task_get_limiter (task));
}

/* Reporting an outcome from outside the running function. */
static void
case_task_return (void)
{
  g_autoptr(PmtTask) task = new_task ();
  g_autoptr(PmtTask) done = new_done_task ();
  g_auto(GValue) value = G_VALUE_INIT;
  GValue not_a_value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_INT);
  BAD_SELF (PmtTask, pmt_task_return_value (SELF, &value));
  BAD_SELF (PmtTask, pmt_task_return_pointer (SELF, NULL, NULL));
  BAD_SELF (PmtTask, pmt_task_return_int (SELF, 1));
  BAD_SELF (PmtTask, pmt_task_return_boolean (SELF, TRUE));
  {
    /* Refused by its checks, the call takes nothing. */
    g_autoptr(GError) kept = g_error_new_literal (PMT_ERROR, 0, "x");

    BAD_SELF (PmtTask, pmt_task_return_error (SELF, kept));
  }
  BAD_SELF (PmtTask, pmt_task_return_new_error (SELF, PMT_ERROR, 0, "x"));

  CRITICAL (pmt_task_return_value (task, &not_a_value));
  CRITICAL (pmt_task_return_error (task, NULL));
  CRITICAL (pmt_task_return_new_error (task, PMT_ERROR, 0, NULL));

  /* Not running: pending, then finished. */
  CRITICAL (pmt_task_return_int (task, 1));
  CRITICAL (pmt_task_return_value (done, &value));
  CRITICAL (pmt_task_return_pointer (done, g_strdup ("x"), g_free));
  CRITICAL (pmt_task_return_boolean (done, TRUE));
  CRITICAL (pmt_task_return_error (done, g_error_new_literal (PMT_ERROR, 0, "x")));
  CRITICAL (pmt_task_return_new_error (done, PMT_ERROR, 0, "%s", "x"));
  g_assert_cmpint (pmt_task_get_state (done), ==, PMT_TASK_STATE_SUCCEEDED);
  g_assert_null (pmt_task_get_error (done));
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_PENDING);
}

static void
case_task_propagate_error (void)
{
  g_autoptr(GError) error = NULL;
  gboolean ret = TRUE;

  BAD_SELF (PmtTask, ret = pmt_task_propagate_error (SELF, &error));
  g_assert_false (ret);
  g_assert_no_error (error);
}

static void
case_task_wait (void)
{
  g_autoptr(PmtTask) task = new_task ();

  BAD_SELF (PmtTask, g_assert_false (pmt_task_wait (SELF, -1)));
  /* A pending task nobody runs: a poll and a short wait time out, even
   * with absurd negative values meaning "forever" avoided. */
  g_assert_false (pmt_task_wait (task, 0));
  g_assert_false (pmt_task_wait (task, 1));
  pmt_task_cancel (task);
  g_assert_true (pmt_task_wait (task, G_MININT64));
  g_assert_true (pmt_task_wait (task, G_MAXINT64));
}

static void
case_task_wait_all (void)
{
  g_autoptr(PmtTask) task = new_done_task ();
  PmtTask *with_null[] = { task, NULL };
  PmtTask *with_wrong[] = { task, (PmtTask *) wrong };

  CRITICAL (g_assert_false (pmt_task_wait_all (NULL, 1, 0)));
  CRITICAL (g_assert_false (pmt_task_wait_all (with_null, 2, 0)));
  CRITICAL (g_assert_false (pmt_task_wait_all (with_wrong, 2, 0)));
  CRITICAL (g_assert_false (pmt_task_wait_all (with_null, G_MAXUINT, 0)));
  g_assert_true (pmt_task_wait_all (NULL, 0, -1));
  g_assert_true (pmt_task_wait_all (with_null, 1, G_MAXINT64));
}

static void
case_task_wait_any (void)
{
  g_autoptr(PmtTask) task = new_done_task ();
  PmtTask *with_null[] = { task, NULL };
  PmtTask *with_wrong[] = { task, (PmtTask *) wrong };

  CRITICAL (g_assert_cmpint (pmt_task_wait_any (NULL, 1, 0), ==, -1));
  CRITICAL (g_assert_cmpint (pmt_task_wait_any (with_null, 2, 0), ==, -1));
  CRITICAL (g_assert_cmpint (pmt_task_wait_any (with_wrong, 2, 0), ==, -1));
  CRITICAL (g_assert_cmpint (pmt_task_wait_any (with_null, G_MAXUINT, 0), ==, -1));
  /* Nothing to wait for: none is done, at once. */
  g_assert_cmpint (pmt_task_wait_any (NULL, 0, -1), ==, -1);
  g_assert_cmpint (pmt_task_wait_any (with_null, 1, G_MAXINT64), ==, 0);
}

static void
on_wait_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static void
case_task_wait_async (void)
{
  g_autoptr(PmtTask) task = new_done_task ();
  g_autoptr(GAsyncResult) result = NULL;

  BAD_SELF (PmtTask, pmt_task_wait_async (SELF, NULL, on_wait_done, &result));
  CRITICAL (pmt_task_wait_async (task, (GCancellable *) wrong_pmt, on_wait_done, &result));
  g_assert_null (result);
  /* No callback: allowed, nothing to tell. */
  pmt_task_wait_async (task, NULL, NULL, NULL);
  pmt_test_flush_context (NULL);
}

static void
case_task_wait_finish (void)
{
  g_autoptr(PmtTask) task = new_done_task ();
  g_autoptr(PmtTask) other = new_done_task ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GTask) foreign = g_task_new (wrong, NULL, NULL, NULL);
  g_autoptr(GError) error = NULL;

  pmt_task_wait_async (other, NULL, on_wait_done, &result);
  pmt_test_flush_context (NULL);
  g_assert_nonnull (result);

  BAD_SELF (PmtTask, g_assert_false (pmt_task_wait_finish (SELF, result, &error)));
  /* Another task's result, another source's, none. */
  CRITICAL (g_assert_false (pmt_task_wait_finish (task, result, &error)));
  CRITICAL (g_assert_false (pmt_task_wait_finish (task, G_ASYNC_RESULT (foreign), &error)));
  CRITICAL (g_assert_false (pmt_task_wait_finish (task, NULL, &error)));
  g_assert_no_error (error);
  g_assert_true (pmt_task_wait_finish (other, result, &error));
  g_task_return_boolean (foreign, TRUE);
}

/* Command tasks {{{1 */

static void
case_command_task_new (void)
{
  PmtCommandTask *command = NULL;
  PmtTask *task = NULL;

  CRITICAL (command = pmt_command_task_new (NULL));
  CRITICAL (command = pmt_command_task_new (empty_argv));
  CRITICAL (task = pmt_task_new_command (NULL));
  CRITICAL (task = pmt_task_new_command (empty_argv));
  g_assert_null (command);
  g_assert_null (task);
}

static void
case_command_task_options (void)
{
  g_autoptr(PmtCommandTask) command = pmt_command_task_new (true_argv);
  g_autoptr(PmtTask) plain = new_task ();
  g_autoptr(GBytes) bytes = g_bytes_new_static ("x", 1);

  BAD_SELF (PmtCommandTask, g_assert_null (pmt_command_task_get_argv (SELF)));
  BAD_SELF (PmtCommandTask, g_assert_null (pmt_command_task_get_cwd (SELF)));
  BAD_SELF (PmtCommandTask, pmt_command_task_set_cwd (SELF, "/"));
  BAD_SELF (PmtCommandTask, pmt_command_task_set_environ (SELF, NULL));
  BAD_SELF (PmtCommandTask, pmt_command_task_set_stdin_bytes (SELF, bytes));
  /* A task, but not a command. */
  CRITICAL (pmt_command_task_set_cwd ((PmtCommandTask *) plain, "/"));

  /* Options are fixed once it ran. */
  pmt_task_run (PMT_TASK (command));
  pmt_test_assert_task_succeeded (PMT_TASK (command));
  CRITICAL (pmt_command_task_set_cwd (command, "/nonexistent"));
  CRITICAL (pmt_command_task_set_environ (command, empty_argv));
  CRITICAL (pmt_command_task_set_stdin_bytes (command, bytes));
  g_assert_null (pmt_command_task_get_cwd (command));
}

/* A cwd that does not exist is a run-time failure, not a crash. */
static void
case_command_task_bad_cwd (void)
{
  g_autoptr(PmtCommandTask) command = pmt_command_task_new (true_argv);

  pmt_command_task_set_cwd (command, "/nonexistent/directory");
  pmt_task_run (PMT_TASK (command));
  g_assert_cmpint (pmt_task_get_state (PMT_TASK (command)), ==, PMT_TASK_STATE_FAILED);
  g_assert_nonnull (pmt_task_get_error (PMT_TASK (command)));
}

/* Limiters {{{1 */

static void
case_limiter_new (void)
{
  g_autoptr(PmtLimiter) zero = pmt_limiter_new (0);
  g_autoptr(PmtLimiter) huge = pmt_limiter_new (G_MAXUINT);

  /* Zero lets nobody in; the largest limit is a limit. */
  g_assert_false (pmt_limiter_try_acquire (zero));
  g_assert_true (pmt_limiter_try_acquire (huge));
  g_assert_cmpuint (pmt_limiter_get_available (huge), ==, G_MAXUINT - 1);
  pmt_limiter_release (huge);
}

static void
case_limiter_acquire (void)
{
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (1);
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) set = g_error_new_literal (PMT_ERROR, 0, "set");

  BAD_SELF (PmtLimiter, g_assert_false (pmt_limiter_acquire (SELF, 0, NULL, NULL)));
  CRITICAL (g_assert_false (pmt_limiter_acquire (limiter, 0, (GCancellable *) wrong_pmt, NULL)));
  CRITICAL (g_assert_false (pmt_limiter_acquire (limiter, 0, NULL, &set)));
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 1);

  /* Full: a poll and a short wait time out with PMT_ERROR_TIMED_OUT. */
  g_assert_true (pmt_limiter_acquire (limiter, G_MAXINT64, NULL, NULL));
  g_assert_false (pmt_limiter_acquire (limiter, 0, NULL, &error));
  g_assert_error (error, PMT_ERROR, PMT_ERROR_TIMED_OUT);
  g_clear_error (&error);
  g_assert_false (pmt_limiter_acquire (limiter, 1, NULL, &error));
  g_assert_error (error, PMT_ERROR, PMT_ERROR_TIMED_OUT);
  pmt_limiter_release (limiter);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (limiter), ==, 0);
}

static void
case_limiter_try_acquire (void)
{
  BAD_SELF (PmtLimiter, g_assert_false (pmt_limiter_try_acquire (SELF)));
}

static void
case_limiter_release (void)
{
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (2);

  BAD_SELF (PmtLimiter, pmt_limiter_release (SELF));
  /* More than was acquired. */
  CRITICAL (pmt_limiter_release (limiter));
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 2);
}

static void
on_acquired (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static void
case_limiter_acquire_async (void)
{
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (1);
  g_autoptr(GAsyncResult) result = NULL;

  BAD_SELF (PmtLimiter, pmt_limiter_acquire_async (SELF, NULL, on_acquired, &result));
  CRITICAL (pmt_limiter_acquire_async (limiter, (GCancellable *) wrong_pmt, on_acquired,
                                       &result));
  pmt_test_flush_context (NULL);
  g_assert_null (result);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 1);
}

static void
case_limiter_acquire_finish (void)
{
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (1);
  g_autoptr(PmtLimiter) other = pmt_limiter_new (1);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  pmt_limiter_acquire_async (other, NULL, on_acquired, &result);
  pmt_test_iterate_until (NULL, pmt_test_flag_is_set, &result, SAFETY_TIMEOUT_USEC);
  BAD_SELF (PmtLimiter, g_assert_false (pmt_limiter_acquire_finish (SELF, result, &error)));
  CRITICAL (g_assert_false (pmt_limiter_acquire_finish (limiter, result, &error)));
  CRITICAL (g_assert_false (pmt_limiter_acquire_finish (limiter, NULL, &error)));
  g_assert_no_error (error);
  g_assert_true (pmt_limiter_acquire_finish (other, result, &error));
  pmt_limiter_release (other);
}

static void
case_limiter_run (void)
{
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (1);
  gint n_runs = 0;

  BAD_SELF (PmtLimiter, g_assert_false (pmt_limiter_run (SELF, 0, NULL,
                                                         (PmtLimiterFunc) pmt_test_count_notify,
                                                         &n_runs, NULL)));
  CRITICAL (g_assert_false (pmt_limiter_run (limiter, 0, NULL, NULL, NULL, NULL)));
  g_assert_cmpint (n_runs, ==, 0);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 1);
}

static void
case_limiter_properties (void)
{
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (1);

  BAD_SELF (PmtLimiter, g_assert_cmpuint (pmt_limiter_get_limit (SELF), ==, 0));
  BAD_SELF (PmtLimiter, pmt_limiter_set_limit (SELF, 3));
  BAD_SELF (PmtLimiter, g_assert_cmpuint (pmt_limiter_get_available (SELF), ==, 0));
  BAD_SELF (PmtLimiter, g_assert_cmpuint (pmt_limiter_get_n_waiting (SELF), ==, 0));

  /* Lowered under the holders, then to the extremes. */
  g_assert_true (pmt_limiter_try_acquire (limiter));
  pmt_limiter_set_limit (limiter, 0);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 0);
  pmt_limiter_set_limit (limiter, G_MAXUINT);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, G_MAXUINT - 1);
  pmt_limiter_release (limiter);
}

/* Completion queues {{{1 */

static void
case_completion_queue_new (void)
{
  g_autoptr(PmtCompletionQueue) queue = pmt_completion_queue_new ();

  /* No input; empty, it has nothing to give, even for ever. */
  g_assert_null (pmt_completion_queue_next (queue, -1));
}

static void
case_completion_queue_add (void)
{
  g_autoptr(PmtCompletionQueue) queue = pmt_completion_queue_new ();
  g_autoptr(PmtTask) task = new_done_task ();

  BAD_SELF (PmtCompletionQueue, pmt_completion_queue_add (SELF, task));
  CRITICAL (pmt_completion_queue_add (queue, NULL));
  CRITICAL (pmt_completion_queue_add (queue, (PmtTask *) wrong));
  g_assert_cmpuint (pmt_completion_queue_get_n_pending (queue), ==, 0);
}

static void
case_completion_queue_next (void)
{
  g_autoptr(PmtCompletionQueue) queue = pmt_completion_queue_new ();
  g_autoptr(PmtTask) task = new_task ();
  PmtTask *next = NULL;

  BAD_SELF (PmtCompletionQueue, g_assert_null (pmt_completion_queue_next (SELF, 0)));
  pmt_completion_queue_add (queue, task);
  g_assert_null (pmt_completion_queue_next (queue, 0));
  g_assert_null (pmt_completion_queue_next (queue, 1));
  pmt_task_cancel (task);
  next = pmt_completion_queue_next (queue, G_MAXINT64);
  g_assert_true (next == task);
  g_object_unref (next);
}

static void
case_completion_queue_get_n_pending (void)
{
  BAD_SELF (PmtCompletionQueue, g_assert_cmpuint (pmt_completion_queue_get_n_pending (SELF), ==, 0));
}

static void
case_pool_as_completed (void)
{
  g_autoptr(PmtCompletionQueue) empty = NULL;
  PmtCompletionQueue *queue = NULL;

  CRITICAL (queue = pmt_pool_as_completed (NULL, 3));
  g_assert_null (queue);
  empty = pmt_pool_as_completed (NULL, 0);
  g_assert_null (pmt_completion_queue_next (empty, -1));
}

/* Workers {{{1 */

static void
case_worker_new (void)
{
  g_autoptr(PmtWorker) worker = pmt_worker_new (NULL);
  g_autoptr(PmtWorker) named = pmt_worker_new ("");

  /* NULL makes a name; so does nothing else. */
  g_assert_nonnull (pmt_worker_get_name (worker));
  g_assert_cmpstr (pmt_worker_get_name (named), ==, "");
}

static void
case_worker_push (void)
{
  g_autoptr(PmtWorker) worker = pmt_worker_new (NULL);
  g_autoptr(PmtTask) task = new_task ();
  g_autoptr(PmtTask) done = new_done_task ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) set = g_error_new_literal (PMT_ERROR, 0, "set");

  BAD_SELF (PmtWorker, g_assert_false (pmt_worker_push (SELF, task, NULL)));
  CRITICAL (g_assert_false (pmt_worker_push (worker, NULL, NULL)));
  CRITICAL (g_assert_false (pmt_worker_push (worker, (PmtTask *) wrong, NULL)));
  CRITICAL (g_assert_false (pmt_worker_push (worker, task, &set)));
  /* A task that ran already. */
  CRITICAL (g_assert_false (pmt_worker_push (worker, done, &error)));
  g_assert_no_error (error);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_PENDING);

  /* Stopped: refused with an error, the task untouched. */
  pmt_test_worker_stop_and_join (worker);
  g_assert_false (pmt_worker_push (worker, task, &error));
  g_assert_error (error, PMT_ERROR, PMT_ERROR_STOPPED);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_PENDING);
}

static void
case_worker_stop_kill (void)
{
  g_autoptr(PmtWorker) worker = pmt_worker_new (NULL);

  BAD_SELF (PmtWorker, pmt_worker_stop (SELF));
  BAD_SELF (PmtWorker, pmt_worker_kill (SELF));
  /* Again and again, in any order. */
  pmt_worker_kill (worker);
  pmt_worker_stop (worker);
  pmt_worker_kill (worker);
  g_assert_true (pmt_worker_join (worker, 0));
}

static void
case_worker_join (void)
{
  g_autoptr(PmtWorker) worker = pmt_worker_new (NULL);

  BAD_SELF (PmtWorker, g_assert_false (pmt_worker_join (SELF, 0)));
  /* Not stopped: a poll and a short wait say so. */
  g_assert_false (pmt_worker_join (worker, 0));
  g_assert_false (pmt_worker_join (worker, 1));
  pmt_worker_stop (worker);
  g_assert_true (pmt_worker_join (worker, G_MAXINT64));
  g_assert_true (pmt_worker_join (worker, G_MININT64));
}

static void
case_worker_properties (void)
{
  g_autoptr(PmtWorker) worker = pmt_worker_new (NULL);

  BAD_SELF (PmtWorker, g_assert_null (pmt_worker_get_name (SELF)));
  BAD_SELF (PmtWorker, g_assert_cmpint (pmt_worker_get_state (SELF), ==, PMT_WORKER_STATE_STOPPED));
  BAD_SELF (PmtWorker, g_assert_null (pmt_worker_dup_current_task (SELF)));
  BAD_SELF (PmtWorker, g_assert_cmpint (pmt_worker_get_current_priority (SELF), ==, 0));
  BAD_SELF (PmtWorker, g_assert_cmpuint (pmt_worker_get_n_tasks_run (SELF), ==, 0));
  BAD_SELF (PmtWorker, g_assert_cmpint (pmt_worker_get_idle_timeout (SELF), ==, -1));
  BAD_SELF (PmtWorker, pmt_worker_set_idle_timeout (SELF, 1));
  BAD_SELF (PmtWorker, g_assert_false (pmt_worker_is_running (SELF)));
  BAD_SELF (PmtWorker, g_assert_null (pmt_worker_get_pool (SELF)));

  CRITICAL (pmt_worker_set_idle_timeout (worker, -2));
  CRITICAL (pmt_worker_set_idle_timeout (worker, G_MININT64));
  g_assert_cmpint (pmt_worker_get_idle_timeout (worker), ==, -1);
  pmt_worker_set_idle_timeout (worker, G_MAXINT64);
  g_assert_cmpint (pmt_worker_get_idle_timeout (worker), ==, G_MAXINT64);
}

/* Pools {{{1 */

static void
case_pool_new (void)
{
  g_autoptr(PmtPool) pool = NULL;
  g_autoptr(PmtPool) clash = NULL;
  g_autoptr(PmtPool) huge = NULL;
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) set = g_error_new_literal (PMT_ERROR, 0, "set");
  PmtPool *none = NULL;

  CRITICAL (none = pmt_pool_new (NULL, 1, &set));
  g_assert_null (none);

  /* A name in use is a run-time error. */
  pool = pmt_test_new_pool ("bad-input-pool", 1);
  clash = pmt_pool_new ("bad-input-pool", 1, &error);
  g_assert_error (error, PMT_ERROR, PMT_ERROR_NAME_IN_USE);
  g_assert_null (clash);

  /* No bound on workers: they start on demand, one here. */
  huge = pmt_test_new_pool (NULL, G_MAXUINT);
  task = pmt_pool_submit (huge, pmt_test_count_func, NULL, NULL, NULL);
  pmt_test_assert_task_succeeded (task);
  g_assert_cmpuint (pmt_pool_get_n_workers (huge), <=, 1);
  end_pool (g_steal_pointer (&huge));
  end_pool (g_steal_pointer (&pool));
}

static void
case_pool_new_for_context (void)
{
  g_autoptr(GError) set = g_error_new_literal (PMT_ERROR, 0, "set");
  g_autoptr(PmtPool) pool = NULL;
  PmtPool *none = NULL;

  CRITICAL (none = pmt_pool_new_for_context (NULL, 1, NULL, &set));
  g_assert_null (none);
  /* NULL is the calling thread's default context. */
  pool = pmt_pool_new_for_context (NULL, 1, NULL, NULL);
  g_assert_true (pmt_pool_get_main_context (pool) == g_main_context_ref_thread_default ());
  g_main_context_unref (pmt_pool_get_main_context (pool));
  end_pool (g_steal_pointer (&pool));
}

static void
case_pool_lookup (void)
{
  PmtPool *pool = NULL;

  CRITICAL (pool = pmt_pool_lookup (NULL));
  g_assert_null (pool);
  g_assert_null (pmt_pool_lookup (""));
  g_assert_null (pmt_pool_lookup ("no such pool"));
}

static void
case_pool_list_pools (void)
{
  /* No input: a new list each call. */
  GList *pools = pmt_pool_list_pools ();

  g_list_free_full (pools, g_object_unref);
}

static void
case_pool_join_all (void)
{
  g_assert_true (pmt_pool_join_all (0));
  g_assert_true (pmt_pool_join_all (G_MININT64));
  g_assert_true (pmt_pool_join_all (G_MAXINT64));
}

static void
case_pool_submit (void)
{
  g_autoptr(PmtPool) pool = new_pool ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PmtTask) refused = NULL;
  PmtTask *task = NULL;

  BAD_SELF (PmtPool, task = pmt_pool_submit (SELF, pmt_test_count_func, NULL, NULL, NULL));
  CRITICAL (task = pmt_pool_submit (pool, NULL, NULL, NULL, NULL));
  BAD_SELF (PmtPool, task = pmt_pool_submit_full (SELF, 0, pmt_test_count_func, NULL, NULL, NULL));
  CRITICAL (task = pmt_pool_submit_full (pool, G_MAXINT, NULL, NULL, NULL, NULL));
  g_assert_null (task);

  /* Stopped: refused with an error. */
  pmt_test_shutdown_pool (pool);
  refused = pmt_pool_submit_full (pool, G_MININT, pmt_test_count_func, NULL, NULL, &error);
  g_assert_error (error, PMT_ERROR, PMT_ERROR_STOPPED);
  g_assert_null (refused);
}

static void
case_pool_submit_command (void)
{
  g_autoptr(PmtPool) pool = new_pool ();
  PmtCommandTask *task = NULL;

  BAD_SELF (PmtPool, task = pmt_pool_submit_command (SELF, 0, true_argv, NULL));
  CRITICAL (task = pmt_pool_submit_command (pool, 0, NULL, NULL));
  CRITICAL (task = pmt_pool_submit_command (pool, 0, empty_argv, NULL));
  g_assert_null (task);
  end_pool (g_steal_pointer (&pool));
}

static void
case_pool_execute (void)
{
  g_autoptr(PmtPool) pool = new_pool ();
  g_autoptr(GError) error = NULL;
  gint n_notified = 0;

  BAD_SELF (PmtPool, g_assert_false (pmt_pool_execute (SELF, (PmtJobFunc) pmt_test_count_notify,
                                                       NULL, NULL, NULL)));
  CRITICAL (g_assert_false (pmt_pool_execute (pool, NULL, NULL, NULL, NULL)));
  BAD_SELF (PmtPool, g_assert_false (pmt_pool_execute_full (SELF, 0,
                                                            (PmtJobFunc) pmt_test_count_notify,
                                                            NULL, NULL, NULL)));
  CRITICAL (g_assert_false (pmt_pool_execute_full (pool, 0, NULL, NULL, NULL, NULL)));

  /* Refused by a stopped pool: the notify still runs, once. */
  pmt_test_shutdown_pool (pool);
  g_assert_false (pmt_pool_execute_full (pool, G_MAXINT, (PmtJobFunc) pmt_test_count_notify,
                                         &n_notified, pmt_test_count_notify, &error));
  g_assert_error (error, PMT_ERROR, PMT_ERROR_STOPPED);
  g_assert_cmpint (n_notified, ==, 1);
}

static void
case_pool_push (void)
{
  g_autoptr(PmtPool) pool = new_pool ();
  g_autoptr(PmtTask) task = new_task ();
  g_autoptr(PmtTask) done = new_done_task ();
  g_autoptr(GError) error = NULL;

  BAD_SELF (PmtPool, g_assert_false (pmt_pool_push (SELF, task, NULL)));
  CRITICAL (g_assert_false (pmt_pool_push (pool, NULL, NULL)));
  CRITICAL (g_assert_false (pmt_pool_push (pool, (PmtTask *) wrong, NULL)));
  CRITICAL (g_assert_false (pmt_pool_push (pool, done, NULL)));
  g_assert_true (pmt_pool_push (pool, task, NULL));
  /* Twice. */
  CRITICAL (g_assert_false (pmt_pool_push (pool, task, &error)));
  g_assert_no_error (error);
  pmt_test_assert_task_succeeded (task);
  end_pool (g_steal_pointer (&pool));
}

static void
case_pool_map (void)
{
  g_autoptr(PmtPool) pool = new_pool ();
  g_autoptr(GPtrArray) none = NULL;
  g_autoptr(GPtrArray) tasks = NULL;
  gpointer items[] = { GUINT_TO_POINTER (1), GUINT_TO_POINTER (2) };
  GPtrArray *bad = NULL;

  BAD_SELF (PmtPool, bad = pmt_pool_map (SELF, return_item_func, NULL, NULL, items, 2, 0,
                                         NULL));
  CRITICAL (bad = pmt_pool_map (pool, NULL, NULL, NULL, items, 2, 0, NULL));
  CRITICAL (bad = pmt_pool_map (pool, return_item_func, NULL, NULL, NULL, 2, 0, NULL));
  BAD_SELF (PmtPool, bad = pmt_pool_map_full (SELF, 0, return_item_func, NULL, NULL,
                                              items, 2, 0, NULL));
  CRITICAL (bad = pmt_pool_map_full (pool, 0, NULL, NULL, NULL, items, 2, 0, NULL));
  CRITICAL (bad = pmt_pool_map_full (pool, 0, return_item_func, NULL, NULL, NULL, 2, 0,
                                     NULL));
  g_assert_null (bad);

  /* No items; a chunk larger than everything. */
  none = pmt_pool_map (pool, return_item_func, NULL, NULL, NULL, 0, 0, NULL);
  g_assert_cmpuint (none->len, ==, 0);
  tasks = pmt_pool_map_full (pool, G_MININT, return_item_func, NULL, NULL, items, 2,
                             G_MAXUINT, NULL);
  g_assert_cmpuint (tasks->len, ==, 2);
  g_assert_true (pmt_task_wait_all ((PmtTask **) tasks->pdata, tasks->len, SAFETY_TIMEOUT_USEC));
  g_assert_cmpint (pmt_test_task_get_int (g_ptr_array_index (tasks, 1)), ==, 2);
  end_pool (g_steal_pointer (&pool));
}

static void
case_pool_map_values (void)
{
  g_autoptr(PmtPool) pool = new_pool ();
  g_autoptr(GPtrArray) none = NULL;
  GValue values[1] = { G_VALUE_INIT };
  GPtrArray *bad = NULL;

  g_value_init (&values[0], G_TYPE_INT);
  BAD_SELF (PmtPool, bad = pmt_pool_map_values (SELF, pmt_test_count_func, NULL, NULL, values, 1,
                                                0, NULL));
  CRITICAL (bad = pmt_pool_map_values (pool, NULL, NULL, NULL, values, 1, 0, NULL));
  CRITICAL (bad = pmt_pool_map_values (pool, pmt_test_count_func, NULL, NULL, NULL, 1, 0, NULL));
  BAD_SELF (PmtPool, bad = pmt_pool_map_values_full (SELF, 0, pmt_test_count_func, NULL, NULL,
                                                     values, 1, 0, NULL));
  CRITICAL (bad = pmt_pool_map_values_full (pool, 0, NULL, NULL, NULL, values, 1, 0, NULL));
  CRITICAL (bad = pmt_pool_map_values_full (pool, 0, pmt_test_count_func, NULL, NULL, NULL, 1, 0,
                                            NULL));
  g_assert_null (bad);
  none = pmt_pool_map_values_full (pool, G_MAXINT, pmt_test_count_func, NULL, NULL, NULL, 0,
                                   G_MAXUINT, NULL);
  g_assert_cmpuint (none->len, ==, 0);
  end_pool (g_steal_pointer (&pool));
}

static void
case_pool_wait_completion (void)
{
  g_autoptr(PmtPool) pool = new_pool ();
  PmtTestGate gate;
  g_autoptr(PmtTask) held = NULL;

  BAD_SELF (PmtPool, g_assert_false (pmt_pool_wait_completion (SELF, 0, FALSE)));
  g_assert_true (pmt_pool_wait_completion (pool, G_MININT64, TRUE));

  /* Busy: a poll and a short wait time out, and a blocking one lets
   * submissions in again once it returned. */
  pmt_test_gate_init (&gate);
  held = pmt_pool_submit (pool, pmt_test_gate_func, &gate, NULL, NULL);
  g_assert_false (pmt_pool_wait_completion (pool, 0, TRUE));
  g_assert_false (pmt_pool_wait_completion (pool, 1, TRUE));
  pmt_test_gate_open (&gate);
  g_assert_true (pmt_pool_wait_completion (pool, G_MAXINT64, FALSE));
  end_pool (g_steal_pointer (&pool));
  pmt_test_gate_clear (&gate);
}

static void
case_pool_shutdown (void)
{
  g_autoptr(PmtPool) pool = new_pool ();

  BAD_SELF (PmtPool, g_assert_false (pmt_pool_shutdown (SELF, PMT_SHUTDOWN_NONE, 0)));
  /* Flags the library does not know are ignored; twice is harmless. */
  g_assert_true (pmt_pool_shutdown (pool, 0xff, G_MININT64));
  g_assert_true (pmt_pool_shutdown (pool, PMT_SHUTDOWN_NONE, 0));
  g_assert_cmpint (pmt_pool_get_state (pool), ==, PMT_POOL_STATE_STOPPED);
}

static void
case_pool_join (void)
{
  g_autoptr(PmtPool) pool = new_pool ();

  BAD_SELF (PmtPool, g_assert_false (pmt_pool_join (SELF, 0)));
  g_assert_true (pmt_pool_join (pool, G_MAXINT64));
  g_assert_true (pmt_pool_join (pool, 0));
}

static void
case_pool_properties (void)
{
  g_autoptr(PmtPool) pool = new_pool ();
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(PmtTask) task = NULL;

  BAD_SELF (PmtPool, g_assert_null (pmt_pool_get_name (SELF)));
  BAD_SELF (PmtPool, g_assert_cmpint (pmt_pool_get_state (SELF), ==, PMT_POOL_STATE_STOPPED));
  BAD_SELF (PmtPool, g_assert_cmpuint (pmt_pool_get_max_workers (SELF), ==, 0));
  BAD_SELF (PmtPool, pmt_pool_set_max_workers (SELF, 1));
  BAD_SELF (PmtPool, g_assert_cmpuint (pmt_pool_get_min_workers (SELF), ==, 0));
  BAD_SELF (PmtPool, pmt_pool_set_min_workers (SELF, 1));
  BAD_SELF (PmtPool, g_assert_cmpint (pmt_pool_get_idle_timeout (SELF), ==, -1));
  BAD_SELF (PmtPool, pmt_pool_set_idle_timeout (SELF, 1));
  BAD_SELF (PmtPool, g_assert_null (pmt_pool_get_main_context (SELF)));
  BAD_SELF (PmtPool, pmt_pool_set_main_context (SELF, NULL));
  BAD_SELF (PmtPool, g_assert_cmpuint (pmt_pool_get_n_workers (SELF), ==, 0));
  BAD_SELF (PmtPool, g_assert_cmpuint (pmt_pool_get_n_busy_workers (SELF), ==, 0));
  BAD_SELF (PmtPool, g_assert_cmpuint (pmt_pool_get_n_queued (SELF), ==, 0));
  BAD_SELF (PmtPool, g_assert_cmpuint (pmt_pool_get_n_unfinished (SELF), ==, 0));
  BAD_SELF (PmtPool, g_assert_cmpuint (pmt_pool_get_n_submitted (SELF), ==, 0));
  BAD_SELF (PmtPool, g_assert_cmpuint (pmt_pool_get_n_succeeded (SELF), ==, 0));
  BAD_SELF (PmtPool, g_assert_cmpuint (pmt_pool_get_n_failed (SELF), ==, 0));
  BAD_SELF (PmtPool, g_assert_cmpuint (pmt_pool_get_n_cancelled (SELF), ==, 0));

  CRITICAL (pmt_pool_set_idle_timeout (pool, -2));
  CRITICAL (pmt_pool_set_idle_timeout (pool, G_MININT64));
  pmt_pool_set_idle_timeout (pool, G_MAXINT64);
  g_assert_cmpint (pmt_pool_get_idle_timeout (pool), ==, G_MAXINT64);
  /* 0 workers means one per processor; more minimum than maximum keeps
   * the maximum. */
  pmt_pool_set_max_workers (pool, 0);
  g_assert_cmpuint (pmt_pool_get_max_workers (pool), >=, 1);
  pmt_pool_set_max_workers (pool, 1);
  pmt_pool_set_min_workers (pool, G_MAXUINT);
  task = pmt_pool_submit (pool, pmt_test_count_func, NULL, NULL, NULL);
  pmt_test_assert_task_succeeded (task);
  g_assert_cmpuint (pmt_pool_get_n_workers (pool), <=, 1);
  /* The main context is fixed once the pool is active. */
  CRITICAL (pmt_pool_set_main_context (pool, context));
  g_assert_null (pmt_pool_get_main_context (pool));
  pmt_pool_set_min_workers (pool, 0);
  end_pool (g_steal_pointer (&pool));
}

/* Threaded {{{1 */

static void
case_threaded_new (void)
{
  PmtThreaded *threaded = NULL;

  CRITICAL (threaded = pmt_threaded_new (NULL, NULL, NULL));
  g_assert_null (threaded);
}

static void
case_threaded_call (void)
{
  g_autoptr(PmtThreaded) threaded = pmt_threaded_new (pmt_test_count_func, NULL, NULL);
  g_autoptr(PmtThreaded) bare = g_object_new (PMT_TYPE_THREADED, NULL);
  g_autoptr(GError) set = g_error_new_literal (PMT_ERROR, 0, "set");
  GValue not_a_value = G_VALUE_INIT;
  PmtTask *task = NULL;

  BAD_SELF (PmtThreaded, task = pmt_threaded_call (SELF, NULL, NULL, NULL));
  CRITICAL (task = pmt_threaded_call (threaded, NULL, NULL, &set));
  CRITICAL (task = pmt_threaded_call (bare, NULL, NULL, NULL));
  BAD_SELF (PmtThreaded, task = pmt_threaded_call_value (SELF, NULL, NULL));
  CRITICAL (task = pmt_threaded_call_value (threaded, &not_a_value, NULL));
  CRITICAL (task = pmt_threaded_call_value (threaded, NULL, &set));
  g_assert_null (task);
}

static void
case_threaded_properties (void)
{
  g_autoptr(PmtThreaded) threaded = pmt_threaded_new (pmt_test_count_func, NULL, NULL);
  g_autoptr(PmtPool) pool = new_pool ();
  g_autoptr(PmtWorker) pool_worker = NULL;
  g_autoptr(PmtTask) task = NULL;
  PmtTestGate gate;

  BAD_SELF (PmtThreaded, g_assert_cmpint (pmt_threaded_get_mode (SELF), ==, PMT_THREADED_MODE_THREAD));
  BAD_SELF (PmtThreaded, pmt_threaded_set_mode (SELF, PMT_THREADED_MODE_POOL));
  BAD_SELF (PmtThreaded, g_assert_null (pmt_threaded_dup_worker (SELF)));
  BAD_SELF (PmtThreaded, pmt_threaded_set_worker (SELF, NULL));
  BAD_SELF (PmtThreaded, g_assert_null (pmt_threaded_dup_pool (SELF)));
  BAD_SELF (PmtThreaded, pmt_threaded_set_pool (SELF, NULL));
  BAD_SELF (PmtThreaded, g_assert_null (pmt_threaded_get_pool_name (SELF)));
  BAD_SELF (PmtThreaded, pmt_threaded_set_pool_name (SELF, "x"));
  BAD_SELF (PmtThreaded, g_assert_cmpint (pmt_threaded_get_priority (SELF), ==, 0));
  BAD_SELF (PmtThreaded, pmt_threaded_set_priority (SELF, 1));
  BAD_SELF (PmtThreaded, g_assert_false (pmt_threaded_get_store_result (SELF)));
  BAD_SELF (PmtThreaded, pmt_threaded_set_store_result (SELF, FALSE));
  BAD_SELF (PmtThreaded, g_assert_null (pmt_threaded_get_limiter (SELF)));
  BAD_SELF (PmtThreaded, g_assert_false (pmt_threaded_get_limiter_blocking (SELF)));
  BAD_SELF (PmtThreaded, pmt_threaded_set_limiter (SELF, NULL, FALSE));
  BAD_SELF (PmtThreaded, pmt_threaded_set_callback (SELF, NULL, NULL, NULL));
  BAD_SELF (PmtThreaded, g_assert_null (pmt_threaded_get_main_context (SELF)));
  BAD_SELF (PmtThreaded, pmt_threaded_set_main_context (SELF, NULL));

  CRITICAL (pmt_threaded_set_worker (threaded, (PmtWorker *) wrong));
  CRITICAL (pmt_threaded_set_pool (threaded, (PmtPool *) wrong));
  CRITICAL (pmt_threaded_set_limiter (threaded, (PmtLimiter *) wrong, TRUE));
  g_assert_null (pmt_threaded_get_limiter (threaded));

  /* A worker of a pool is not the Threaded's to drive. */
  pmt_test_gate_init (&gate);
  task = pmt_pool_submit (pool, pmt_test_gate_func, &gate, NULL, NULL);
  pmt_test_gate_wait_started (&gate, 1);
  pool_worker = g_object_ref (pmt_task_get_worker (task));
  CRITICAL (pmt_threaded_set_worker (threaded, pool_worker));
  pmt_test_gate_open (&gate);
  end_pool (g_steal_pointer (&pool));
  pmt_test_gate_clear (&gate);
  {
    g_autoptr(PmtWorker) worker = pmt_threaded_dup_worker (threaded);

    g_assert_null (worker);
  }
}

/* The table {{{1 */

typedef struct
{
  const char *function;
  GTestFunc test;
} Case;

static const Case cases[] = {
  { "pmt_check_version", case_check_version },
  { "pmt_get_major_version", case_versions },
  { "pmt_get_minor_version", case_versions },
  { "pmt_get_micro_version", case_versions },
  { "pmt_error_quark", case_error_quark },

  { "pmt_task_new", case_task_new },
  { "pmt_task_run", case_task_run },
  { "pmt_task_cancel", case_task_cancel },
  { "pmt_task_get_cancellable", case_task_getters },
  { "pmt_task_get_id", case_task_getters },
  { "pmt_task_get_state", case_task_getters },
  { "pmt_task_is_done", case_task_getters },
  { "pmt_task_get_worker", case_task_getters },
  { "pmt_task_get_priority", case_task_getters },
  { "pmt_task_get_store_result", case_task_getters },
  { "pmt_task_get_limiter", case_task_getters },
  { "pmt_task_get_main_context", case_task_getters },
  { "pmt_task_get_task_data", case_task_getters },
  { "pmt_task_get_task_value", case_task_getters },
  { "pmt_task_get_result", case_task_getters },
  { "pmt_task_get_result_pointer", case_task_getters },
  { "pmt_task_get_error", case_task_getters },
  { "pmt_task_to_variant", case_task_getters },
  { "pmt_task_set_priority", case_task_setters },
  { "pmt_task_set_store_result", case_task_setters },
  { "pmt_task_set_limiter", case_task_setters },
  { "pmt_task_set_main_context", case_task_setters },
  { "pmt_task_set_callback", case_task_setters },
  { "pmt_task_set_task_data", case_task_setters },
  { "pmt_task_set_task_value", case_task_setters },
  { "pmt_task_return_value", case_task_return },
  { "pmt_task_return_pointer", case_task_return },
  { "pmt_task_return_int", case_task_return },
  { "pmt_task_return_boolean", case_task_return },
  { "pmt_task_return_error", case_task_return },
  { "pmt_task_return_new_error", case_task_return },
  { "pmt_task_propagate_error", case_task_propagate_error },
  { "pmt_task_wait", case_task_wait },
  { "pmt_task_wait_all", case_task_wait_all },
  { "pmt_task_wait_any", case_task_wait_any },
  { "pmt_task_wait_async", case_task_wait_async },
  { "pmt_task_wait_finish", case_task_wait_finish },

  { "pmt_command_task_new", case_command_task_new },
  { "pmt_task_new_command", case_command_task_new },
  { "pmt_command_task_get_argv", case_command_task_options },
  { "pmt_command_task_get_cwd", case_command_task_options },
  { "pmt_command_task_set_cwd", case_command_task_bad_cwd },
  { "pmt_command_task_set_environ", case_command_task_options },
  { "pmt_command_task_set_stdin_bytes", case_command_task_options },

  { "pmt_limiter_new", case_limiter_new },
  { "pmt_limiter_acquire", case_limiter_acquire },
  { "pmt_limiter_try_acquire", case_limiter_try_acquire },
  { "pmt_limiter_release", case_limiter_release },
  { "pmt_limiter_acquire_async", case_limiter_acquire_async },
  { "pmt_limiter_acquire_finish", case_limiter_acquire_finish },
  { "pmt_limiter_run", case_limiter_run },
  { "pmt_limiter_get_limit", case_limiter_properties },
  { "pmt_limiter_set_limit", case_limiter_properties },
  { "pmt_limiter_get_available", case_limiter_properties },
  { "pmt_limiter_get_n_waiting", case_limiter_properties },

  { "pmt_completion_queue_new", case_completion_queue_new },
  { "pmt_completion_queue_add", case_completion_queue_add },
  { "pmt_completion_queue_next", case_completion_queue_next },
  { "pmt_completion_queue_get_n_pending", case_completion_queue_get_n_pending },
  { "pmt_pool_as_completed", case_pool_as_completed },

  { "pmt_worker_new", case_worker_new },
  { "pmt_worker_push", case_worker_push },
  { "pmt_worker_stop", case_worker_stop_kill },
  { "pmt_worker_kill", case_worker_stop_kill },
  { "pmt_worker_join", case_worker_join },
  { "pmt_worker_get_name", case_worker_properties },
  { "pmt_worker_get_state", case_worker_properties },
  { "pmt_worker_dup_current_task", case_worker_properties },
  { "pmt_worker_get_current_priority", case_worker_properties },
  { "pmt_worker_get_n_tasks_run", case_worker_properties },
  { "pmt_worker_get_idle_timeout", case_worker_properties },
  { "pmt_worker_set_idle_timeout", case_worker_properties },
  { "pmt_worker_is_running", case_worker_properties },
  { "pmt_worker_get_pool", case_worker_properties },

  { "pmt_pool_new", case_pool_new },
  { "pmt_pool_new_for_context", case_pool_new_for_context },
  { "pmt_pool_lookup", case_pool_lookup },
  { "pmt_pool_list_pools", case_pool_list_pools },
  { "pmt_pool_join_all", case_pool_join_all },
  { "pmt_pool_submit", case_pool_submit },
  { "pmt_pool_submit_full", case_pool_submit },
  { "pmt_pool_submit_command", case_pool_submit_command },
  { "pmt_pool_execute", case_pool_execute },
  { "pmt_pool_execute_full", case_pool_execute },
  { "pmt_pool_push", case_pool_push },
  { "pmt_pool_map", case_pool_map },
  { "pmt_pool_map_full", case_pool_map },
  { "pmt_pool_map_values", case_pool_map_values },
  { "pmt_pool_map_values_full", case_pool_map_values },
  { "pmt_pool_wait_completion", case_pool_wait_completion },
  { "pmt_pool_shutdown", case_pool_shutdown },
  { "pmt_pool_join", case_pool_join },
  { "pmt_pool_get_name", case_pool_properties },
  { "pmt_pool_get_state", case_pool_properties },
  { "pmt_pool_get_max_workers", case_pool_properties },
  { "pmt_pool_set_max_workers", case_pool_properties },
  { "pmt_pool_get_min_workers", case_pool_properties },
  { "pmt_pool_set_min_workers", case_pool_properties },
  { "pmt_pool_get_idle_timeout", case_pool_properties },
  { "pmt_pool_set_idle_timeout", case_pool_properties },
  { "pmt_pool_get_main_context", case_pool_properties },
  { "pmt_pool_set_main_context", case_pool_properties },
  { "pmt_pool_get_n_workers", case_pool_properties },
  { "pmt_pool_get_n_busy_workers", case_pool_properties },
  { "pmt_pool_get_n_queued", case_pool_properties },
  { "pmt_pool_get_n_unfinished", case_pool_properties },
  { "pmt_pool_get_n_submitted", case_pool_properties },
  { "pmt_pool_get_n_succeeded", case_pool_properties },
  { "pmt_pool_get_n_failed", case_pool_properties },
  { "pmt_pool_get_n_cancelled", case_pool_properties },

  { "pmt_threaded_new", case_threaded_new },
  { "pmt_threaded_call", case_threaded_call },
  { "pmt_threaded_call_value", case_threaded_call },
  { "pmt_threaded_get_mode", case_threaded_properties },
  { "pmt_threaded_set_mode", case_threaded_properties },
  { "pmt_threaded_dup_worker", case_threaded_properties },
  { "pmt_threaded_set_worker", case_threaded_properties },
  { "pmt_threaded_dup_pool", case_threaded_properties },
  { "pmt_threaded_set_pool", case_threaded_properties },
  { "pmt_threaded_get_pool_name", case_threaded_properties },
  { "pmt_threaded_set_pool_name", case_threaded_properties },
  { "pmt_threaded_get_priority", case_threaded_properties },
  { "pmt_threaded_set_priority", case_threaded_properties },
  { "pmt_threaded_get_store_result", case_threaded_properties },
  { "pmt_threaded_set_store_result", case_threaded_properties },
  { "pmt_threaded_get_limiter", case_threaded_properties },
  { "pmt_threaded_get_limiter_blocking", case_threaded_properties },
  { "pmt_threaded_set_limiter", case_threaded_properties },
  { "pmt_threaded_set_callback", case_threaded_properties },
  { "pmt_threaded_get_main_context", case_threaded_properties },
  { "pmt_threaded_set_main_context", case_threaded_properties },
};

/* }}} */

int
main (int   argc,
      char *argv[])
{
  GHashTable *added;

  if (argc == 2 && strcmp (argv[1], "--list") == 0)
    {
      for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
        printf ("%s\n", cases[i].function);
      return 0;
    }

  g_test_init (&argc, &argv, NULL);

  wrong = g_object_new (G_TYPE_OBJECT, NULL);
  wrong_pmt = G_OBJECT (pmt_limiter_new (1));

  /* A case that covers several functions runs once, under the name of
   * the first. */
  added = g_hash_table_new (NULL, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = NULL;

      if (!g_hash_table_add (added, cases[i].test))
        continue;
      path = g_strdup_printf ("/pmt/bad-input/%s", cases[i].function);
      pmt_test_add_guarded_func (path, cases[i].test, 60 * G_USEC_PER_SEC);
    }
  g_hash_table_unref (added);

  return g_test_run ();
}
