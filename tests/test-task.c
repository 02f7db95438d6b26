/* test-task.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>
#include <string.h>

#include <pmt.h>

#include "pmt-test-utils.h"

/* A bound on every wait that should end quickly; reaching it is a failure. */
#define SAFETY_TIMEOUT_USEC PMT_TEST_SAFETY_TIMEOUT_USEC
#define SHORT_TIMEOUT_USEC  (50 * G_TIME_SPAN_MILLISECOND)

static gpointer
run_thread_func (gpointer data)
{
  PmtTask *task = data;

  pmt_task_run (task);
  g_object_unref (task);

  return NULL;
}

/* Runs @task with pmt_task_run() on a new thread; join the result. */
static GThread *
run_in_thread (PmtTask *task)
{
  return g_thread_new ("test-task-run", run_thread_func, g_object_ref (task));
}

static void
empty_func (PmtTask  *task,
            gpointer  user_data)
{
}

static void
return_int_func (PmtTask  *task,
                 gpointer  user_data)
{
  pmt_task_return_int (task, *(gint64 *)user_data);
}

static void
return_string_func (PmtTask  *task,
                    gpointer  user_data)
{
  g_auto(GValue) value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_STRING);
  g_value_set_string (&value, user_data);
  pmt_task_return_value (task, &value);
}

static void
return_not_found_func (PmtTask  *task,
                       gpointer  user_data)
{
  pmt_task_return_error (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                                                    "no such thing"));
}

/* Results {{{1 */

static void
test_result_value (void)
{
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_strdup ("forty-two");
  const GValue *result;

  task = pmt_task_new (return_string_func, text, NULL);
  g_assert_null (pmt_task_get_result (task));

  pmt_task_run (task);

  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_SUCCEEDED);
  g_assert_true (pmt_task_is_done (task));
  result = pmt_task_get_result (task);
  g_assert_nonnull (result);
  g_assert_true (G_VALUE_HOLDS_STRING (result));
  g_assert_cmpstr (g_value_get_string (result), ==, "forty-two");
  /* The value was copied, not borrowed from the function's frame. */
  g_assert_true (g_value_get_string (result) != text);
  g_assert_true (pmt_task_get_result (task) == result);
  g_assert_null (pmt_task_get_result_pointer (task));
  g_assert_null (pmt_task_get_error (task));
  g_assert_true (pmt_task_propagate_error (task, &error));
  g_assert_no_error (error);
}

typedef struct
{
  gint *n_freed;
  gint  value;
} PointerResult;

static void
pointer_result_free (gpointer data)
{
  PointerResult *result = data;

  g_atomic_int_inc (result->n_freed);
  g_free (result);
}

static void
return_pointer_func (PmtTask  *task,
                     gpointer  user_data)
{
  PointerResult *result = g_new0 (PointerResult, 1);

  result->n_freed = user_data;
  result->value = 7;
  pmt_task_return_pointer (task, result, pointer_result_free);
}

static void
test_result_pointer (void)
{
  PmtTask *task;
  PointerResult *result;
  gint n_freed = 0;

  task = pmt_task_new (return_pointer_func, &n_freed, NULL);
  g_assert_null (pmt_task_get_result_pointer (task));
  g_object_add_weak_pointer (G_OBJECT (task), (gpointer *)&task);

  pmt_task_run (task);

  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_SUCCEEDED);
  result = pmt_task_get_result_pointer (task);
  g_assert_nonnull (result);
  g_assert_cmpint (result->value, ==, 7);
  g_assert_true (G_VALUE_HOLDS_POINTER (pmt_task_get_result (task)));
  g_assert_true (g_value_get_pointer (pmt_task_get_result (task)) == result);
  g_assert_true (pmt_task_wait (task, 0));
  g_assert_true (pmt_task_get_result_pointer (task) == result);
  g_assert_cmpint (g_atomic_int_get (&n_freed), ==, 0);

  g_object_unref (task);
  g_assert_null (task);
  g_assert_cmpint (g_atomic_int_get (&n_freed), ==, 1);
}

static void
test_result_int (void)
{
  const gint64 values[] = { G_GINT64_CONSTANT (1) << 40 | 5, -3, G_MININT64, G_MAXINT64 };

  for (gsize i = 0; i < G_N_ELEMENTS (values); i++)
    {
      g_autoptr(PmtTask) task = NULL;
      gint64 value = values[i];
      const GValue *result;

      task = pmt_task_new (return_int_func, &value, NULL);
      pmt_task_run (task);

      g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_SUCCEEDED);
      result = pmt_task_get_result (task);
      g_assert_nonnull (result);
      g_assert_cmpstr (G_VALUE_TYPE_NAME (result), ==, "gint64");
      g_assert_true (G_VALUE_HOLDS_INT64 (result));
      g_assert_cmpint (g_value_get_int64 (result), ==, values[i]);
      g_assert_null (pmt_task_get_result_pointer (task));
    }
}

static void
return_boolean_func (PmtTask  *task,
                     gpointer  user_data)
{
  pmt_task_return_boolean (task, GPOINTER_TO_INT (user_data));
}

static void
test_result_boolean (void)
{
  for (gint b = 0; b <= 1; b++)
    {
      g_autoptr(PmtTask) task = NULL;
      const GValue *result;

      task = pmt_task_new (return_boolean_func, GINT_TO_POINTER (b), NULL);
      pmt_task_run (task);

      g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_SUCCEEDED);
      result = pmt_task_get_result (task);
      g_assert_nonnull (result);
      g_assert_true (G_VALUE_HOLDS_BOOLEAN (result));
      g_assert_cmpint (g_value_get_boolean (result), ==, b);
    }
}

static void
test_result_none (void)
{
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(GError) error = NULL;
  gint n_ran = 0;

  task = pmt_task_new (pmt_test_count_func, &n_ran, NULL);
  pmt_task_run (task);

  g_assert_cmpint (n_ran, ==, 1);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_SUCCEEDED);
  g_assert_true (pmt_task_is_done (task));
  g_assert_null (pmt_task_get_result (task));
  g_assert_null (pmt_task_get_result_pointer (task));
  g_assert_null (pmt_task_get_error (task));
  g_assert_true (pmt_task_propagate_error (task, &error));
  g_assert_no_error (error);
}

typedef struct
{
  gboolean result_visible;
  gboolean error_visible;
  gboolean other_thread_saw_result;
} PeekData;

typedef struct
{
  PmtTask  *task;
  gboolean  saw_result;
  gboolean  saw_error;
} PeekThreadData;

static gpointer
peek_thread (gpointer user_data)
{
  PeekThreadData *peek = user_data;

  peek->saw_result = pmt_task_get_result (peek->task) != NULL;
  peek->saw_error = pmt_task_get_error (peek->task) != NULL;

  return NULL;
}

/* Reads the outcome back from inside the function, before it completed:
 * the running thread may, nobody else. */
static void
return_then_peek_func (PmtTask  *task,
                       gpointer  user_data)
{
  PeekData *data = user_data;
  PeekThreadData peek = { task, FALSE, FALSE };

  pmt_task_return_int (task, 1);
  data->result_visible = pmt_task_get_result (task) != NULL &&
                         g_value_get_int64 (pmt_task_get_result (task)) == 1;
  data->error_visible = pmt_task_get_error (task) != NULL;
  g_thread_join (g_thread_new ("test-task-peek", peek_thread, &peek));
  data->other_thread_saw_result = peek.saw_result || peek.saw_error;
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_RUNNING);
  g_assert_false (pmt_task_is_done (task));
}

static void
test_result_published_on_completion (void)
{
  g_autoptr(PmtTask) task = NULL;
  PeekData data = { 0 };

  task = pmt_task_new (return_then_peek_func, &data, NULL);
  g_assert_null (pmt_task_get_result (task));
  g_assert_null (pmt_task_get_result_pointer (task));
  g_assert_null (pmt_task_get_error (task));

  pmt_task_run (task);

  g_assert_true (data.result_visible);
  g_assert_false (data.error_visible);
  g_assert_false (data.other_thread_saw_result);
  g_assert_nonnull (pmt_task_get_result (task));
  g_assert_cmpint (g_value_get_int64 (pmt_task_get_result (task)), ==, 1);
}

/* Errors {{{1 */

static void
test_error_return_error (void)
{
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(GError) copy = NULL;
  g_autoptr(GError) copy2 = NULL;
  const GError *error;
  GThread *thread;

  task = pmt_task_new (return_not_found_func, NULL, NULL);
  thread = run_in_thread (task);
  g_assert_true (pmt_task_wait (task, SAFETY_TIMEOUT_USEC));
  g_thread_join (thread);

  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_FAILED);
  g_assert_true (pmt_task_is_done (task));
  g_assert_null (pmt_task_get_result (task));
  g_assert_null (pmt_task_get_result_pointer (task));

  error = pmt_task_get_error (task);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "no such thing");

  /* propagate_error hands out copies and keeps the original. */
  g_assert_false (pmt_task_propagate_error (task, &copy));
  g_assert_error (copy, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpstr (copy->message, ==, "no such thing");
  g_assert_true (copy != error);
  g_assert_false (pmt_task_propagate_error (task, &copy2));
  g_assert_error (copy2, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_true (copy2 != copy);
  g_assert_false (pmt_task_propagate_error (task, NULL));

  /* Still the same error, still there. */
  g_assert_true (pmt_task_get_error (task) == error);
  g_assert_error (pmt_task_get_error (task), G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

static void
return_new_error_func (PmtTask  *task,
                       gpointer  user_data)
{
  pmt_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED,
                             "failed %d times on %s", 3, "Tuesday");
}

static void
test_error_return_new_error (void)
{
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(GError) error = NULL;

  task = pmt_task_new (return_new_error_func, NULL, NULL);
  pmt_task_run (task);

  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_FAILED);
  g_assert_error (pmt_task_get_error (task), G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_cmpstr (pmt_task_get_error (task)->message, ==, "failed 3 times on Tuesday");
  g_assert_false (pmt_task_propagate_error (task, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "failed 3 times on Tuesday");
  g_assert_null (pmt_task_get_result (task));
}

static void
return_error_code_func (PmtTask  *task,
                        gpointer  user_data)
{
  GQuark domain = GPOINTER_TO_UINT (user_data);

  pmt_task_return_new_error (task, domain, G_IO_ERROR_CANCELLED, "stopped");
}

static void
test_error_cancelled (void)
{
  g_autoptr(PmtTask) cancelled = NULL;
  g_autoptr(PmtTask) other = NULL;

  cancelled = pmt_task_new (return_error_code_func, GUINT_TO_POINTER (G_IO_ERROR), NULL);
  pmt_task_run (cancelled);
  g_assert_cmpint (pmt_task_get_state (cancelled), ==, PMT_TASK_STATE_CANCELLED);
  g_assert_true (pmt_task_is_done (cancelled));
  g_assert_error (pmt_task_get_error (cancelled), G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (pmt_task_get_error (cancelled)->message, ==, "stopped");

  /* The same code in another domain is an ordinary failure. */
  other = pmt_task_new (return_error_code_func, GUINT_TO_POINTER (G_FILE_ERROR), NULL);
  pmt_task_run (other);
  g_assert_cmpint (pmt_task_get_state (other), ==, PMT_TASK_STATE_FAILED);
  g_assert_error (pmt_task_get_error (other), G_FILE_ERROR, G_IO_ERROR_CANCELLED);
}

/* store-result {{{1 */

typedef struct
{
  gint64   value;
  gint     n_freed;
  gboolean callback_saw_int;
  gboolean callback_saw_pointer;
  gboolean callback_saw_error;
  gint     pointer_freed_in_callback;
} StoreData;

static void
store_callback (PmtTask  *task,
                gpointer  user_data)
{
  StoreData *data = user_data;
  const GValue *result = pmt_task_get_result (task);

  data->callback_saw_int = result != NULL &&
                           G_VALUE_HOLDS_INT64 (result) &&
                           g_value_get_int64 (result) == data->value;
  data->callback_saw_pointer = pmt_task_get_result_pointer (task) != NULL;
  data->pointer_freed_in_callback = g_atomic_int_get (&data->n_freed);
  data->callback_saw_error = g_error_matches (pmt_task_get_error (task),
                                              G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

static void
test_store_result_disabled (void)
{
  g_autoptr(PmtTask) int_task = NULL;
  g_autoptr(PmtTask) pointer_task = NULL;
  g_autoptr(PmtTask) error_task = NULL;
  StoreData int_data = { .value = 1234 };
  StoreData pointer_data = { 0 };
  StoreData error_data = { 0 };

  int_task = pmt_task_new (return_int_func, &int_data.value, NULL);
  g_assert_true (pmt_task_get_store_result (int_task));
  pmt_task_set_store_result (int_task, FALSE);
  g_assert_false (pmt_task_get_store_result (int_task));
  pmt_task_set_callback (int_task, store_callback, &int_data, NULL);
  pmt_task_run (int_task);

  g_assert_true (int_data.callback_saw_int);
  g_assert_cmpint (pmt_task_get_state (int_task), ==, PMT_TASK_STATE_SUCCEEDED);
  g_assert_null (pmt_task_get_result (int_task));

  /* A pointer result is freed once the callback saw it, not at finalize. */
  pointer_task = pmt_task_new (return_pointer_func, &pointer_data.n_freed, NULL);
  g_object_set (pointer_task, "store-result", FALSE, NULL);
  pmt_task_set_callback (pointer_task, store_callback, &pointer_data, NULL);
  pmt_task_run (pointer_task);

  g_assert_true (pointer_data.callback_saw_pointer);
  g_assert_cmpint (pointer_data.pointer_freed_in_callback, ==, 0);
  g_assert_cmpint (g_atomic_int_get (&pointer_data.n_freed), ==, 1);
  g_assert_null (pmt_task_get_result (pointer_task));
  g_assert_null (pmt_task_get_result_pointer (pointer_task));
  g_clear_object (&pointer_task);
  g_assert_cmpint (g_atomic_int_get (&pointer_data.n_freed), ==, 1);

  /* Errors are always kept. */
  error_task = pmt_task_new (return_not_found_func, NULL, NULL);
  pmt_task_set_store_result (error_task, FALSE);
  pmt_task_set_callback (error_task, store_callback, &error_data, NULL);
  pmt_task_run (error_task);

  g_assert_true (error_data.callback_saw_error);
  g_assert_cmpint (pmt_task_get_state (error_task), ==, PMT_TASK_STATE_FAILED);
  g_assert_error (pmt_task_get_error (error_task), G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_false (pmt_task_propagate_error (error_task, NULL));
}

/* Callback {{{1 */

typedef struct
{
  PmtTask    *task;
  PmtTestGate started;
  PmtTestGate release;
  PmtTestGate waiter_ready;
  GThread    *function_thread;
  GThread    *callback_thread;
  gint        function_done;
  gint        callback_done;
  gint        n_completed;
  gint        completed_saw_callback;
  gint        waiter_saw_callback;
  gint        waiter_saw_completed;
  gboolean    callback_saw_function;
  gboolean    callback_saw_result;
  gboolean    callback_saw_done;
  gboolean    poller_saw_done;
  gboolean    poller_saw_result;
  gint        poller_any;
} OrderData;

static void
order_func (PmtTask  *task,
            gpointer  user_data)
{
  OrderData *data = user_data;

  data->function_thread = g_thread_self ();
  pmt_test_gate_open (&data->started);
  pmt_test_gate_wait_open (&data->release);
  pmt_task_return_int (task, 5);
  g_atomic_int_set (&data->function_done, 1);
}

static gpointer
order_poller_thread (gpointer user_data)
{
  OrderData *data = user_data;

  data->poller_saw_done = pmt_task_wait (data->task, 0);
  data->poller_saw_result = pmt_task_get_result (data->task) != NULL;
  data->poller_any = pmt_task_wait_any (&data->task, 1, 0);

  return NULL;
}

static void
order_callback (PmtTask  *task,
                gpointer  user_data)
{
  OrderData *data = user_data;
  const GValue *result;

  data->callback_thread = g_thread_self ();
  data->callback_saw_function = g_atomic_int_get (&data->function_done);
  result = pmt_task_get_result (task);
  data->callback_saw_result = result != NULL && g_value_get_int64 (result) == 5;
  data->callback_saw_done = pmt_task_is_done (task);

  /* Another thread must not see the task done while its callback runs. */
  g_thread_join (g_thread_new ("test-task-poller", order_poller_thread, data));

  g_atomic_int_set (&data->callback_done, 1);
}

static void
order_completed_cb (PmtTask  *task,
                    gpointer  user_data)
{
  OrderData *data = user_data;

  g_assert_true (pmt_task_is_done (task));
  g_atomic_int_set (&data->completed_saw_callback, g_atomic_int_get (&data->callback_done));
  g_atomic_int_inc (&data->n_completed);
}

static gpointer
order_waiter_thread (gpointer user_data)
{
  OrderData *data = user_data;
  gboolean done;

  pmt_test_gate_open (&data->waiter_ready);
  done = pmt_task_wait (data->task, SAFETY_TIMEOUT_USEC);
  g_assert_true (done);
  g_atomic_int_set (&data->waiter_saw_callback, g_atomic_int_get (&data->callback_done));
  g_atomic_int_set (&data->waiter_saw_completed, g_atomic_int_get (&data->n_completed));

  return NULL;
}

static void
test_callback_order (void)
{
  g_autoptr(PmtTask) task = NULL;
  OrderData data = { 0 };
  GThread *runner, *waiter;

  pmt_test_gate_init (&data.started);
  pmt_test_gate_init (&data.release);
  pmt_test_gate_init (&data.waiter_ready);

  task = data.task = pmt_task_new (order_func, &data, NULL);
  pmt_task_set_callback (task, order_callback, &data, NULL);
  g_signal_connect (task, "completed", G_CALLBACK (order_completed_cb), &data);

  runner = run_in_thread (task);
  pmt_test_gate_wait_open (&data.started);
  waiter = g_thread_new ("test-task-waiter", order_waiter_thread, &data);
  pmt_test_gate_wait_open (&data.waiter_ready);
  pmt_test_gate_open (&data.release);

  g_thread_join (waiter);
  g_thread_join (runner);

  g_assert_true (data.callback_thread == data.function_thread);
  g_assert_true (data.callback_saw_function);
  g_assert_true (data.callback_saw_result);
  g_assert_false (data.callback_saw_done);
  g_assert_false (data.poller_saw_done);
  g_assert_false (data.poller_saw_result);
  g_assert_cmpint (data.poller_any, ==, -1);
  g_assert_cmpint (data.completed_saw_callback, ==, 1);
  g_assert_cmpint (data.waiter_saw_callback, ==, 1);
  /* Finishing-thread mode: completed is emitted before waiters wake. */
  g_assert_cmpint (data.waiter_saw_completed, ==, 1);
  g_assert_cmpint (data.n_completed, ==, 1);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_SUCCEEDED);

  pmt_test_gate_clear (&data.started);
  pmt_test_gate_clear (&data.release);
  pmt_test_gate_clear (&data.waiter_ready);
}

static void
count_callback (PmtTask  *task,
                gpointer  user_data)
{
  g_atomic_int_inc ((gint *)user_data);
}

typedef struct
{
  gint n_called;
  gint n_freed;
} CallbackCounts;

static void
counts_callback (PmtTask  *task,
                 gpointer  user_data)
{
  CallbackCounts *counts = user_data;

  counts->n_called++;
}

static void
counts_free (gpointer user_data)
{
  CallbackCounts *counts = user_data;

  counts->n_freed++;
}

static void
test_callback_notify (void)
{
  PmtTask *task;
  CallbackCounts old = { 0 }, current = { 0 };
  gint n_func_freed = 0;

  task = pmt_task_new (empty_func, &n_func_freed, pmt_test_count_notify);
  pmt_task_set_callback (task, counts_callback, &old, counts_free);
  /* Replacing the callback frees the old data at once. */
  pmt_task_set_callback (task, counts_callback, &current, counts_free);
  g_assert_cmpint (old.n_freed, ==, 1);
  g_assert_cmpint (current.n_freed, ==, 0);

  pmt_task_run (task);
  g_assert_cmpint (old.n_called, ==, 0);
  g_assert_cmpint (current.n_called, ==, 1);
  g_object_unref (task);

  /* Everything freed exactly once by the time the task is gone. */
  g_assert_cmpint (old.n_freed, ==, 1);
  g_assert_cmpint (current.n_freed, ==, 1);
  g_assert_cmpint (n_func_freed, ==, 1);
}

/* completed {{{1 */

typedef struct
{
  gint         n_completed;
  GThread     *thread;
  GMainContext *context;
  gboolean     owned_context;
  gboolean     in_source;
  gboolean     done_in_handler;
  gboolean     wait_in_handler;
} CompletedData;

static void
completed_record_cb (PmtTask  *task,
                     gpointer  user_data)
{
  CompletedData *data = user_data;

  data->thread = g_thread_self ();
  if (data->context != NULL)
    data->owned_context = g_main_context_is_owner (data->context);
  data->in_source = g_main_current_source () != NULL;
  data->done_in_handler = pmt_task_is_done (task);
  data->wait_in_handler = pmt_task_wait (task, 0);
  g_atomic_int_inc (&data->n_completed);
}

static void
test_completed_finishing_thread (void)
{
  g_autoptr(PmtTask) here = NULL;
  g_autoptr(PmtTask) there = NULL;
  CompletedData here_data = { 0 };
  CompletedData there_data = { 0 };
  GThread *runner;

  /* Run here: emitted in this thread, synchronously. */
  here = pmt_task_new (empty_func, NULL, NULL);
  g_signal_connect (here, "completed", G_CALLBACK (completed_record_cb), &here_data);
  pmt_task_run (here);
  g_assert_cmpint (here_data.n_completed, ==, 1);
  g_assert_true (here_data.thread == g_thread_self ());
  g_assert_true (here_data.done_in_handler);
  g_assert_true (here_data.wait_in_handler);

  /* Run on another thread: emitted there. */
  there = pmt_task_new (empty_func, NULL, NULL);
  g_signal_connect (there, "completed", G_CALLBACK (completed_record_cb), &there_data);
  runner = run_in_thread (there);
  g_assert_true (pmt_task_wait (there, SAFETY_TIMEOUT_USEC));
  /* Waiters wake after the emission. */
  g_assert_cmpint (g_atomic_int_get (&there_data.n_completed), ==, 1);
  g_assert_true (there_data.thread == runner);
  g_assert_true (there_data.done_in_handler);
  g_thread_join (runner);

  g_assert_true (pmt_task_wait (there, 0));
  g_assert_cmpint (g_atomic_int_get (&there_data.n_completed), ==, 1);
  g_assert_cmpint (here_data.n_completed, ==, 1);
}

static void
test_completed_main_context (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(PmtTask) here = NULL;
  CompletedData data = { 0 };
  CompletedData here_data = { 0 };
  GThread *runner;

  data.context = context;
  task = pmt_task_new (empty_func, NULL, NULL);
  pmt_task_set_main_context (task, context);
  g_assert_true (pmt_task_get_main_context (task) == context);
  g_signal_connect (task, "completed", G_CALLBACK (completed_record_cb), &data);

  runner = run_in_thread (task);
  g_assert_true (pmt_task_wait (task, SAFETY_TIMEOUT_USEC));
  g_thread_join (runner);

  /* Nobody iterated the context yet: the waiters woke, completed waits. */
  g_assert_true (pmt_task_is_done (task));
  g_assert_cmpint (g_atomic_int_get (&data.n_completed), ==, 0);

  pmt_test_iterate_until_int (context, &data.n_completed, 1);
  g_assert_cmpint (data.n_completed, ==, 1);
  g_assert_true (data.thread == g_thread_self ());
  g_assert_true (data.owned_context);
  g_assert_true (data.in_source);
  g_assert_true (data.done_in_handler);
  g_assert_true (data.wait_in_handler);

  /* Exactly once, however long the context is iterated. */
  for (guint i = 0; i < 5; i++)
    g_main_context_iteration (context, FALSE);
  g_assert_cmpint (data.n_completed, ==, 1);

  /* pmt_task_run() right here, without iterating: still deferred. */
  here_data.context = context;
  here = pmt_task_new (empty_func, NULL, NULL);
  g_object_set (here, "main-context", context, NULL);
  g_signal_connect (here, "completed", G_CALLBACK (completed_record_cb), &here_data);
  pmt_task_run (here);
  g_assert_true (pmt_task_is_done (here));
  g_assert_cmpint (here_data.n_completed, ==, 0);
  pmt_test_iterate_until_int (context, &here_data.n_completed, 1);
  g_assert_true (here_data.in_source);
  for (guint i = 0; i < 5; i++)
    g_main_context_iteration (context, FALSE);
  g_assert_cmpint (here_data.n_completed, ==, 1);
}

typedef struct
{
  GMainContext *context;
  gint          n_completed;
  GThread      *loop_thread;
  GThread      *handler_thread;
  gint          quit;
} LoopThreadData;

static void
loop_completed_cb (PmtTask  *task,
                   gpointer  user_data)
{
  LoopThreadData *data = user_data;

  data->handler_thread = g_thread_self ();
  g_atomic_int_inc (&data->n_completed);
}

static gpointer
loop_thread_func (gpointer user_data)
{
  LoopThreadData *data = user_data;

  g_main_context_push_thread_default (data->context);
  while (!g_atomic_int_get (&data->quit))
    g_main_context_iteration (data->context, TRUE);
  g_main_context_pop_thread_default (data->context);

  return NULL;
}

static gboolean
quit_loop_cb (gpointer user_data)
{
  LoopThreadData *data = user_data;

  g_atomic_int_set (&data->quit, 1);
  return G_SOURCE_REMOVE;
}

static void
completed_quit_cb (PmtTask  *task,
                   gpointer  user_data)
{
  /* Runs after loop_completed_cb: asks the loop thread to stop. */
  quit_loop_cb (user_data);
}

/* Emitted on a context iterated by a third thread, neither the runner nor
 * the test thread. */
static void
test_completed_main_context_thread (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(PmtTask) task = NULL;
  LoopThreadData data = { 0 };
  GThread *runner;

  data.context = context;
  task = pmt_task_new (empty_func, NULL, NULL);
  pmt_task_set_main_context (task, context);
  g_signal_connect (task, "completed", G_CALLBACK (loop_completed_cb), &data);
  g_signal_connect_after (task, "completed", G_CALLBACK (completed_quit_cb), &data);

  data.loop_thread = g_thread_new ("test-task-loop", loop_thread_func, &data);
  runner = run_in_thread (task);
  /* Extra references keep the GThreads comparable after the joins. */
  g_thread_ref (runner);
  g_thread_ref (data.loop_thread);
  g_thread_join (runner);
  g_thread_join (data.loop_thread);

  g_assert_cmpint (data.n_completed, ==, 1);
  g_assert_true (data.handler_thread == data.loop_thread);
  g_assert_true (data.handler_thread != runner);
  g_assert_true (data.handler_thread != g_thread_self ());
  g_thread_unref (runner);
  g_thread_unref (data.loop_thread);
}

static void
test_completed_cancelled_pending (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(PmtTask) ctx_task = NULL;
  CompletedData data = { 0 };
  CompletedData ctx_data = { 0 };
  gint n_ran = 0;

  /* Finishing-thread mode: the cancelling thread emits it. */
  task = pmt_task_new (pmt_test_count_func, &n_ran, NULL);
  g_signal_connect (task, "completed", G_CALLBACK (completed_record_cb), &data);
  pmt_task_cancel (task);
  g_assert_cmpint (data.n_completed, ==, 1);
  g_assert_true (data.thread == g_thread_self ());
  g_assert_true (data.done_in_handler);
  pmt_task_cancel (task);
  pmt_task_run (task);
  g_assert_cmpint (data.n_completed, ==, 1);
  g_assert_cmpint (n_ran, ==, 0);

  /* main-context mode: deferred to the context. */
  ctx_data.context = context;
  ctx_task = pmt_task_new (pmt_test_count_func, &n_ran, NULL);
  pmt_task_set_main_context (ctx_task, context);
  g_signal_connect (ctx_task, "completed", G_CALLBACK (completed_record_cb), &ctx_data);
  pmt_task_cancel (ctx_task);
  g_assert_cmpint (pmt_task_get_state (ctx_task), ==, PMT_TASK_STATE_CANCELLED);
  g_assert_true (pmt_task_wait (ctx_task, 0));
  g_assert_cmpint (ctx_data.n_completed, ==, 0);
  pmt_test_iterate_until_int (context, &ctx_data.n_completed, 1);
  for (guint i = 0; i < 5; i++)
    g_main_context_iteration (context, FALSE);
  g_assert_cmpint (ctx_data.n_completed, ==, 1);
  g_assert_true (ctx_data.in_source);
  g_assert_cmpint (n_ran, ==, 0);
}

typedef struct
{
  gboolean wait_result;
  gboolean wait_all_result;
  gint     wait_any_result;
  gint     n_completed;
} SelfWaitData;

static void
self_wait_completed_cb (PmtTask  *task,
                        gpointer  user_data)
{
  SelfWaitData *data = user_data;

  data->wait_result = pmt_task_wait (task, -1);
  data->wait_all_result = pmt_task_wait_all (&task, 1, -1);
  data->wait_any_result = pmt_task_wait_any (&task, 1, -1);
  g_atomic_int_inc (&data->n_completed);
}

static gpointer
cancel_thread_func (gpointer data)
{
  pmt_task_cancel (data);
  return NULL;
}

static void
test_completed_wait_in_handler (void)
{
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(PmtTask) cancelled = NULL;
  SelfWaitData data = { 0 };
  SelfWaitData cancelled_data = { 0 };
  GThread *runner;

  task = pmt_task_new (empty_func, NULL, NULL);
  g_signal_connect (task, "completed", G_CALLBACK (self_wait_completed_cb), &data);
  runner = run_in_thread (task);
  /* A deadlocked handler never lets waiters wake. */
  g_assert_true (pmt_task_wait (task, SAFETY_TIMEOUT_USEC));
  g_thread_join (runner);

  g_assert_cmpint (data.n_completed, ==, 1);
  g_assert_true (data.wait_result);
  g_assert_true (data.wait_all_result);
  g_assert_cmpint (data.wait_any_result, ==, 0);

  /* Same for the thread that cancels a pending task. */
  cancelled = pmt_task_new (empty_func, NULL, NULL);
  g_signal_connect (cancelled, "completed", G_CALLBACK (self_wait_completed_cb), &cancelled_data);
  runner = g_thread_new ("test-task-cancel", cancel_thread_func, cancelled);
  g_assert_true (pmt_task_wait (cancelled, SAFETY_TIMEOUT_USEC));
  g_thread_join (runner);
  g_assert_cmpint (cancelled_data.n_completed, ==, 1);
  g_assert_true (cancelled_data.wait_result);
  g_assert_true (cancelled_data.wait_all_result);
  g_assert_cmpint (cancelled_data.wait_any_result, ==, 0);
}

/* Waiting {{{1 */

typedef struct
{
  PmtTestGate started;
  PmtTestGate release;
  gint64      value;
} GatedData;

static void
gated_data_init (GatedData *data)
{
  pmt_test_gate_init (&data->started);
  pmt_test_gate_init (&data->release);
  data->value = 0;
}

static void
gated_data_clear (GatedData *data)
{
  pmt_test_gate_clear (&data->started);
  pmt_test_gate_clear (&data->release);
}

/* Signals that it started, then returns its value once released. */
static void
gated_func (PmtTask  *task,
            gpointer  user_data)
{
  GatedData *data = user_data;

  pmt_test_gate_open (&data->started);
  pmt_test_gate_wait_open (&data->release);
  pmt_task_return_int (task, data->value);
}

static void
test_wait_poll (void)
{
  g_autoptr(PmtTask) task = NULL;
  GatedData data;
  GThread *runner;
  gint64 start;

  gated_data_init (&data);
  task = pmt_task_new (gated_func, &data, NULL);

  /* Pending. */
  start = g_get_monotonic_time ();
  g_assert_false (pmt_task_wait (task, 0));
  g_assert_cmpint (g_get_monotonic_time () - start, <, SAFETY_TIMEOUT_USEC / 2);
  g_assert_false (pmt_task_is_done (task));

  /* Running. */
  runner = run_in_thread (task);
  pmt_test_gate_wait_open (&data.started);
  g_assert_false (pmt_task_wait (task, 0));
  g_assert_false (pmt_task_is_done (task));
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_RUNNING);

  pmt_test_gate_open (&data.release);
  g_thread_join (runner);
  g_assert_true (pmt_task_wait (task, 0));
  g_assert_true (pmt_task_is_done (task));

  gated_data_clear (&data);
}

static void
test_wait_timeout (void)
{
  g_autoptr(PmtTask) task = NULL;
  GatedData data;
  GThread *runner;
  gint64 start, elapsed;

  gated_data_init (&data);
  task = pmt_task_new (gated_func, &data, NULL);

  start = g_get_monotonic_time ();
  g_assert_false (pmt_task_wait (task, SHORT_TIMEOUT_USEC));
  elapsed = g_get_monotonic_time () - start;
  g_assert_cmpint (elapsed, >=, SHORT_TIMEOUT_USEC);

  runner = run_in_thread (task);
  pmt_test_gate_wait_open (&data.started);
  start = g_get_monotonic_time ();
  g_assert_false (pmt_task_wait (task, SHORT_TIMEOUT_USEC));
  elapsed = g_get_monotonic_time () - start;
  g_assert_cmpint (elapsed, >=, SHORT_TIMEOUT_USEC);
  g_assert_false (pmt_task_is_done (task));

  pmt_test_gate_open (&data.release);
  g_assert_true (pmt_task_wait (task, SAFETY_TIMEOUT_USEC));
  g_thread_join (runner);

  gated_data_clear (&data);
}

typedef enum
{
  WAIT_ONE,
  WAIT_ALL,
  WAIT_ANY,
} WaitKind;

/* A wait without a timeout, run on its own thread so that a wait that
 * never returns fails the test at the safety timeout instead of hanging. */
typedef struct
{
  PmtTask   **tasks;
  guint       n_tasks;
  WaitKind    kind;
  gint        result;
  PmtTestGate waiting;
  PmtTestGate returned;
  GThread    *thread;
} BlockingWait;

static gpointer
blocking_wait_thread (gpointer user_data)
{
  BlockingWait *wait = user_data;

  pmt_test_gate_open (&wait->waiting);
  switch (wait->kind)
    {
    case WAIT_ONE:
      wait->result = pmt_task_wait (wait->tasks[0], -1);
      break;

    case WAIT_ALL:
      wait->result = pmt_task_wait_all (wait->tasks, wait->n_tasks, -1);
      break;

    case WAIT_ANY:
      wait->result = pmt_task_wait_any (wait->tasks, wait->n_tasks, -1);
      break;

    default:
      g_assert_not_reached ();
    }
  pmt_test_gate_open (&wait->returned);

  return NULL;
}

/* Starts waiting forever on @tasks and returns once the thread is about
 * to block. */
static void
blocking_wait_start (BlockingWait  *wait,
                     WaitKind       kind,
                     PmtTask      **tasks,
                     guint          n_tasks)
{
  wait->tasks = tasks;
  wait->n_tasks = n_tasks;
  wait->kind = kind;
  wait->result = -2;
  pmt_test_gate_init (&wait->waiting);
  pmt_test_gate_init (&wait->returned);
  wait->thread = g_thread_new ("test-task-wait-forever", blocking_wait_thread, wait);
  pmt_test_gate_wait_open (&wait->waiting);
}

static gboolean
blocking_wait_has_returned (BlockingWait *wait)
{
  gboolean returned;

  g_mutex_lock (&wait->returned.mutex);
  returned = wait->returned.open;
  g_mutex_unlock (&wait->returned.mutex);

  return returned;
}

/* Waits, bounded, for the forever-wait to return and gives its result. */
static gint
blocking_wait_finish (BlockingWait *wait)
{
  pmt_test_gate_wait_open (&wait->returned);
  g_thread_join (wait->thread);
  pmt_test_gate_clear (&wait->waiting);
  pmt_test_gate_clear (&wait->returned);

  return wait->result;
}

static void
test_wait_forever (void)
{
  g_autoptr(PmtTask) task = NULL;
  BlockingWait wait;
  GatedData data;
  GThread *runner;

  gated_data_init (&data);
  data.value = 17;
  task = pmt_task_new (gated_func, &data, NULL);
  runner = run_in_thread (task);
  pmt_test_gate_wait_open (&data.started);

  blocking_wait_start (&wait, WAIT_ONE, &task, 1);
  /* The task cannot finish before we release it: the wait is blocked. */
  g_assert_false (blocking_wait_has_returned (&wait));
  pmt_test_gate_open (&data.release);
  g_assert_cmpint (blocking_wait_finish (&wait), ==, TRUE);

  g_assert_true (pmt_task_is_done (task));
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_SUCCEEDED);
  g_assert_cmpint (g_value_get_int64 (pmt_task_get_result (task)), ==, 17);
  g_assert_true (pmt_task_wait (task, -1));
  g_thread_join (runner);

  gated_data_clear (&data);
}

static void
test_wait_is_done (void)
{
  g_autoptr(PmtTask) succeeded = NULL;
  g_autoptr(PmtTask) failed = NULL;
  g_autoptr(PmtTask) cancelled = NULL;

  succeeded = pmt_task_new (empty_func, NULL, NULL);
  failed = pmt_task_new (return_not_found_func, NULL, NULL);
  cancelled = pmt_task_new (empty_func, NULL, NULL);
  g_assert_false (pmt_task_is_done (succeeded));
  g_assert_false (pmt_task_is_done (failed));
  g_assert_false (pmt_task_is_done (cancelled));

  pmt_task_run (succeeded);
  pmt_task_run (failed);
  pmt_task_cancel (cancelled);

  g_assert_true (pmt_task_is_done (succeeded));
  g_assert_true (pmt_task_is_done (failed));
  g_assert_true (pmt_task_is_done (cancelled));
  g_assert_true (pmt_task_wait (succeeded, 0));
  g_assert_true (pmt_task_wait (failed, 0));
  g_assert_true (pmt_task_wait (cancelled, 0));
}

/* wait_async {{{1 */

typedef struct
{
  GThread  *thread;
  gint      n_called;
  gboolean  result;
  GError   *error;
} AsyncData;

static void
wait_async_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  AsyncData *data = user_data;

  data->thread = g_thread_self ();
  data->result = pmt_task_wait_finish (PMT_TASK (source), result, &data->error);
  g_atomic_int_inc (&data->n_called);
}

static void
test_wait_async_success (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(PmtTask) task = NULL;
  AsyncData async = { 0 };
  GatedData data;
  GThread *runner;

  gated_data_init (&data);
  data.value = 3;
  g_main_context_push_thread_default (context);

  task = pmt_task_new (gated_func, &data, NULL);
  pmt_task_wait_async (task, NULL, wait_async_cb, &async);
  runner = run_in_thread (task);
  pmt_test_gate_wait_open (&data.started);

  /* The task is running: nothing to deliver yet. */
  while (g_main_context_iteration (context, FALSE));
  g_assert_cmpint (async.n_called, ==, 0);

  pmt_test_gate_open (&data.release);
  g_thread_join (runner);
  /* Finished on the runner, delivered only by iterating our context. */
  g_assert_cmpint (g_atomic_int_get (&async.n_called), ==, 0);

  pmt_test_iterate_until_int (context, &async.n_called, 1);
  g_assert_true (async.thread == g_thread_self ());
  g_assert_true (async.result);
  g_assert_no_error (async.error);
  g_assert_cmpint (g_value_get_int64 (pmt_task_get_result (task)), ==, 3);

  g_main_context_pop_thread_default (context);
  gated_data_clear (&data);
}

static void
test_wait_async_error (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(PmtTask) task = NULL;
  AsyncData async = { 0 };
  GThread *runner;

  g_main_context_push_thread_default (context);

  task = pmt_task_new (return_not_found_func, NULL, NULL);
  pmt_task_wait_async (task, NULL, wait_async_cb, &async);
  runner = run_in_thread (task);
  g_thread_join (runner);

  pmt_test_iterate_until_int (context, &async.n_called, 1);
  g_assert_true (async.thread == g_thread_self ());
  g_assert_false (async.result);
  g_assert_error (async.error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpstr (async.error->message, ==, "no such thing");
  /* A copy: the task keeps its own error. */
  g_assert_true (async.error != pmt_task_get_error (task));
  g_assert_error (pmt_task_get_error (task), G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&async.error);

  g_main_context_pop_thread_default (context);
}

static void
test_wait_async_task_cancelled (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(PmtTask) task = NULL;
  AsyncData async = { 0 };
  gint n_ran = 0;

  g_main_context_push_thread_default (context);

  task = pmt_task_new (pmt_test_count_func, &n_ran, NULL);
  pmt_task_wait_async (task, NULL, wait_async_cb, &async);
  pmt_task_cancel (task);

  pmt_test_iterate_until_int (context, &async.n_called, 1);
  g_assert_false (async.result);
  g_assert_error (async.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&async.error);
  g_assert_cmpint (n_ran, ==, 0);

  g_main_context_pop_thread_default (context);
}

static void
test_wait_async_cancel_wait (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(PmtTask) task = NULL;
  AsyncData async = { 0 };
  AsyncData again = { 0 };
  gint n_ran = 0;

  g_main_context_push_thread_default (context);

  task = pmt_task_new (pmt_test_count_func, &n_ran, NULL);
  pmt_task_wait_async (task, cancellable, wait_async_cb, &async);
  while (g_main_context_iteration (context, FALSE));
  g_assert_cmpint (async.n_called, ==, 0);

  g_cancellable_cancel (cancellable);
  pmt_test_iterate_until_int (context, &async.n_called, 1);
  g_assert_true (async.thread == g_thread_self ());
  g_assert_false (async.result);
  g_assert_error (async.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&async.error);

  /* Only the wait was cancelled, not the task. */
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_PENDING);
  g_assert_false (g_cancellable_is_cancelled (pmt_task_get_cancellable (task)));

  /* A new wait still works, and the cancelled one is not called twice. */
  pmt_task_wait_async (task, NULL, wait_async_cb, &again);
  pmt_task_run (task);
  pmt_test_iterate_until_int (context, &again.n_called, 1);
  g_assert_true (again.result);
  g_assert_no_error (again.error);
  g_assert_cmpint (n_ran, ==, 1);
  while (g_main_context_iteration (context, FALSE));
  g_assert_cmpint (async.n_called, ==, 1);
  g_assert_cmpint (again.n_called, ==, 1);

  g_main_context_pop_thread_default (context);
}

static void
test_wait_async_already_done (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(PmtTask) failed = NULL;
  AsyncData async = { 0 };
  AsyncData failed_async = { 0 };

  g_main_context_push_thread_default (context);

  task = pmt_task_new (empty_func, NULL, NULL);
  pmt_task_run (task);
  pmt_task_wait_async (task, NULL, wait_async_cb, &async);
  pmt_test_iterate_until_int (context, &async.n_called, 1);
  g_assert_true (async.thread == g_thread_self ());
  g_assert_true (async.result);
  g_assert_no_error (async.error);

  failed = pmt_task_new (return_not_found_func, NULL, NULL);
  pmt_task_run (failed);
  pmt_task_wait_async (failed, NULL, wait_async_cb, &failed_async);
  pmt_test_iterate_until_int (context, &failed_async.n_called, 1);
  g_assert_false (failed_async.result);
  g_assert_error (failed_async.error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&failed_async.error);

  while (g_main_context_iteration (context, FALSE));
  g_assert_cmpint (async.n_called, ==, 1);
  g_assert_cmpint (failed_async.n_called, ==, 1);

  g_main_context_pop_thread_default (context);
}

/* wait_all, wait_any {{{1 */

static void
test_wait_all (void)
{
  PmtTask *tasks[3];
  BlockingWait wait;
  GatedData data;
  GThread *runner;
  gint64 start;

  gated_data_init (&data);
  tasks[0] = pmt_task_new (empty_func, NULL, NULL);
  tasks[1] = pmt_task_new (gated_func, &data, NULL);
  tasks[2] = pmt_task_new (empty_func, NULL, NULL);
  pmt_task_run (tasks[0]);
  pmt_task_run (tasks[2]);

  g_assert_true (pmt_task_wait_all (tasks, 0, 0));
  g_assert_true (pmt_task_wait_all (NULL, 0, -1));
  g_assert_true (pmt_task_wait_all (tasks, 1, 0));
  g_assert_false (pmt_task_wait_all (tasks, 3, 0));

  start = g_get_monotonic_time ();
  g_assert_false (pmt_task_wait_all (tasks, 3, SHORT_TIMEOUT_USEC));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, SHORT_TIMEOUT_USEC);

  runner = run_in_thread (tasks[1]);
  pmt_test_gate_wait_open (&data.started);
  g_assert_false (pmt_task_wait_all (tasks, 3, 0));
  start = g_get_monotonic_time ();
  g_assert_false (pmt_task_wait_all (tasks, 3, SHORT_TIMEOUT_USEC));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, SHORT_TIMEOUT_USEC);

  blocking_wait_start (&wait, WAIT_ALL, tasks, 3);
  g_assert_false (blocking_wait_has_returned (&wait));
  pmt_test_gate_open (&data.release);
  g_assert_cmpint (blocking_wait_finish (&wait), ==, TRUE);
  for (guint i = 0; i < 3; i++)
    g_assert_true (pmt_task_is_done (tasks[i]));
  g_assert_true (pmt_task_wait_all (tasks, 3, 0));
  g_thread_join (runner);

  for (guint i = 0; i < 3; i++)
    g_object_unref (tasks[i]);
  gated_data_clear (&data);
}

static void
test_wait_any (void)
{
  PmtTask *tasks[3];
  BlockingWait wait;
  GatedData data;
  GThread *runner;
  gint64 start;
  gint index;

  gated_data_init (&data);
  tasks[0] = pmt_task_new (empty_func, NULL, NULL);
  tasks[1] = pmt_task_new (gated_func, &data, NULL);
  tasks[2] = pmt_task_new (empty_func, NULL, NULL);

  g_assert_cmpint (pmt_task_wait_any (tasks, 0, -1), ==, -1);
  g_assert_cmpint (pmt_task_wait_any (tasks, 3, 0), ==, -1);
  start = g_get_monotonic_time ();
  g_assert_cmpint (pmt_task_wait_any (tasks, 3, SHORT_TIMEOUT_USEC), ==, -1);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, SHORT_TIMEOUT_USEC);

  /* One running, none done. */
  runner = run_in_thread (tasks[1]);
  pmt_test_gate_wait_open (&data.started);
  g_assert_cmpint (pmt_task_wait_any (tasks, 3, 0), ==, -1);
  start = g_get_monotonic_time ();
  g_assert_cmpint (pmt_task_wait_any (tasks, 3, SHORT_TIMEOUT_USEC), ==, -1);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, SHORT_TIMEOUT_USEC);

  /* Blocks until the running one finishes, and names it. */
  blocking_wait_start (&wait, WAIT_ANY, tasks, 3);
  g_assert_false (blocking_wait_has_returned (&wait));
  pmt_test_gate_open (&data.release);
  g_assert_cmpint (blocking_wait_finish (&wait), ==, 1);
  g_thread_join (runner);
  g_assert_cmpint (pmt_task_wait_any (tasks, 3, 0), ==, 1);
  g_assert_cmpint (pmt_task_wait_any (tasks, 1, 0), ==, -1);

  pmt_task_cancel (tasks[0]);
  index = pmt_task_wait_any (tasks, 3, SHORT_TIMEOUT_USEC);
  g_assert_true (index == 0 || index == 1);
  g_assert_cmpint (pmt_task_wait_any (&tasks[2], 1, 0), ==, -1);
  pmt_task_run (tasks[2]);
  g_assert_cmpint (pmt_task_wait_any (&tasks[2], 1, -1), ==, 0);

  for (guint i = 0; i < 3; i++)
    g_object_unref (tasks[i]);
  gated_data_clear (&data);
}

/* Cancellation {{{1 */

typedef struct
{
  PmtTask    *task;
  PmtTestGate waiting;
  gint        n_ran;
  gint        n_callback;
  gint        n_completed;
  gint        n_func_freed;
  gboolean    waiter_result;
  gint        waiter_saw_state;
} CancelData;

static void
cancel_data_func (PmtTask  *task,
                  gpointer  user_data)
{
  CancelData *data = user_data;

  g_atomic_int_inc (&data->n_ran);
}

static void
cancel_data_free (gpointer user_data)
{
  CancelData *data = user_data;

  g_atomic_int_inc (&data->n_func_freed);
}

static gpointer
cancel_waiter_thread (gpointer user_data)
{
  CancelData *data = user_data;

  pmt_test_gate_open (&data->waiting);
  data->waiter_result = pmt_task_wait (data->task, SAFETY_TIMEOUT_USEC);
  data->waiter_saw_state = pmt_task_get_state (data->task);

  return NULL;
}

static void
test_cancel_pending (void)
{
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(PmtTask) done = NULL;
  CancelData data = { 0 };
  GCancellable *cancellable;
  GThread *waiter;

  pmt_test_gate_init (&data.waiting);
  data.task = task = pmt_task_new (cancel_data_func, &data, cancel_data_free);
  pmt_task_set_callback (task, count_callback, &data.n_callback, NULL);
  g_signal_connect (task, "completed", G_CALLBACK (pmt_test_count_completed_cb), &data.n_completed);
  cancellable = pmt_task_get_cancellable (task);
  g_assert_false (g_cancellable_is_cancelled (cancellable));

  waiter = g_thread_new ("test-task-waiter", cancel_waiter_thread, &data);
  pmt_test_gate_wait_open (&data.waiting);

  pmt_task_cancel (task);

  /* At once, in this thread; the function can never run any more. */
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_CANCELLED);
  g_assert_true (pmt_task_is_done (task));
  g_assert_true (pmt_task_wait (task, 0));
  g_assert_cmpint (data.n_completed, ==, 1);
  g_assert_error (pmt_task_get_error (task), G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (pmt_task_propagate_error (task, NULL));
  g_assert_true (g_cancellable_is_cancelled (cancellable));
  g_assert_true (pmt_task_get_cancellable (task) == cancellable);
  g_assert_null (pmt_task_get_result (task));
  g_assert_cmpint (data.n_func_freed, ==, 1);

  g_thread_join (waiter);
  g_assert_true (data.waiter_result);
  g_assert_cmpint (data.waiter_saw_state, ==, PMT_TASK_STATE_CANCELLED);

  /* It never runs; running it is not an error, only a no-op. */
  pmt_task_run (task);
  pmt_task_cancel (task);
  g_assert_cmpint (data.n_ran, ==, 0);
  g_assert_cmpint (data.n_callback, ==, 0);
  g_assert_cmpint (data.n_completed, ==, 1);
  g_assert_cmpint (data.n_func_freed, ==, 1);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_CANCELLED);

  /* A cancellable asked for after the cancellation comes cancelled. */
  done = pmt_task_new (empty_func, NULL, NULL);
  pmt_task_cancel (done);
  g_assert_true (g_cancellable_is_cancelled (pmt_task_get_cancellable (done)));

  pmt_test_gate_clear (&data.waiting);
}

static void
test_cancel_finished (void)
{
  g_autoptr(PmtTask) task = NULL;
  gint n_completed = 0;
  gint64 value = 8;

  task = pmt_task_new (return_int_func, &value, NULL);
  g_signal_connect (task, "completed", G_CALLBACK (pmt_test_count_completed_cb), &n_completed);
  pmt_task_run (task);
  pmt_task_cancel (task);

  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_SUCCEEDED);
  g_assert_null (pmt_task_get_error (task));
  g_assert_cmpint (g_value_get_int64 (pmt_task_get_result (task)), ==, 8);
  g_assert_cmpint (n_completed, ==, 1);
}

typedef struct
{
  GMutex      mutex;
  GCond       cond;
  gboolean    cancelled;
  PmtTestGate started;
  PmtTestGate release;
  gint        n_callback;
} BlockData;

static void
block_cancelled_cb (GCancellable *cancellable,
                    gpointer      user_data)
{
  BlockData *data = user_data;

  pmt_test_set_flag (&data->mutex, &data->cond, &data->cancelled);
}

/* Blocks until its task is cancelled, then reports it. */
static void
honour_cancel_func (PmtTask  *task,
                    gpointer  user_data)
{
  BlockData *data = user_data;
  GCancellable *cancellable = pmt_task_get_cancellable (task);
  gint64 end_time = g_get_monotonic_time () + SAFETY_TIMEOUT_USEC;
  GError *error = NULL;
  gulong id;

  id = g_cancellable_connect (cancellable, G_CALLBACK (block_cancelled_cb), data, NULL);
  pmt_test_gate_open (&data->started);

  g_mutex_lock (&data->mutex);
  while (!data->cancelled)
    if (!g_cond_wait_until (&data->cond, &data->mutex, end_time))
      break;
  g_mutex_unlock (&data->mutex);
  g_cancellable_disconnect (cancellable, id);

  if (g_cancellable_set_error_if_cancelled (cancellable, &error))
    pmt_task_return_error (task, error);
  else
    pmt_task_return_boolean (task, TRUE);
}

static void
block_data_init (BlockData *data)
{
  memset (data, 0, sizeof *data);
  g_mutex_init (&data->mutex);
  g_cond_init (&data->cond);
  pmt_test_gate_init (&data->started);
  pmt_test_gate_init (&data->release);
}

static void
block_data_clear (BlockData *data)
{
  g_mutex_clear (&data->mutex);
  g_cond_clear (&data->cond);
  pmt_test_gate_clear (&data->started);
  pmt_test_gate_clear (&data->release);
}

static void
test_cancel_running (void)
{
  g_autoptr(PmtTask) task = NULL;
  BlockData data;
  GThread *runner;
  gint n_completed = 0;

  block_data_init (&data);
  task = pmt_task_new (honour_cancel_func, &data, NULL);
  pmt_task_set_callback (task, count_callback, &data.n_callback, NULL);
  g_signal_connect (task, "completed", G_CALLBACK (pmt_test_count_completed_cb), &n_completed);
  runner = run_in_thread (task);
  pmt_test_gate_wait_open (&data.started);

  pmt_task_cancel (task);
  /* A running task is not ended by cancel itself... */
  g_assert_true (g_cancellable_is_cancelled (pmt_task_get_cancellable (task)));

  /* ...but by its function honouring the cancellable. */
  g_assert_true (pmt_task_wait (task, SAFETY_TIMEOUT_USEC));
  g_thread_join (runner);
  g_assert_true (data.cancelled);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_CANCELLED);
  g_assert_error (pmt_task_get_error (task), G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (pmt_task_get_result (task));
  /* The task ran, so its callback ran too. */
  g_assert_cmpint (data.n_callback, ==, 1);
  g_assert_cmpint (n_completed, ==, 1);

  block_data_clear (&data);
}

static void
fd_cancel_func (PmtTask  *task,
                gpointer  user_data)
{
  BlockData *data = user_data;
  GCancellable *cancellable = pmt_task_get_cancellable (task);
  GPollFD pollfd;
  GError *error = NULL;

  g_assert_true (g_cancellable_make_pollfd (cancellable, &pollfd));
  pmt_test_gate_open (&data->started);
  g_assert_cmpint (g_poll (&pollfd, 1, SAFETY_TIMEOUT_USEC / 1000), ==, 1);
  g_cancellable_release_fd (cancellable);

  g_assert_true (g_cancellable_set_error_if_cancelled (cancellable, &error));
  pmt_task_return_error (task, error);
}

static void
test_cancel_running_pollfd (void)
{
  g_autoptr(PmtTask) task = NULL;
  BlockData data;
  GThread *runner;

  block_data_init (&data);
  task = pmt_task_new (fd_cancel_func, &data, NULL);
  runner = run_in_thread (task);
  pmt_test_gate_wait_open (&data.started);

  pmt_task_cancel (task);
  g_assert_true (pmt_task_wait (task, SAFETY_TIMEOUT_USEC));
  g_thread_join (runner);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_CANCELLED);
  g_assert_error (pmt_task_get_error (task), G_IO_ERROR, G_IO_ERROR_CANCELLED);

  block_data_clear (&data);
}

/* Ignores cancellation and succeeds once released. */
static void
ignore_cancel_func (PmtTask  *task,
                    gpointer  user_data)
{
  BlockData *data = user_data;

  pmt_test_gate_open (&data->started);
  pmt_test_gate_wait_open (&data->release);
  pmt_task_return_int (task, 21);
}

static void
test_cancel_running_ignored (void)
{
  g_autoptr(PmtTask) task = NULL;
  BlockData data;
  GThread *runner;

  block_data_init (&data);
  task = pmt_task_new (ignore_cancel_func, &data, NULL);
  runner = run_in_thread (task);
  pmt_test_gate_wait_open (&data.started);

  pmt_task_cancel (task);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_RUNNING);
  g_assert_false (pmt_task_wait (task, 0));
  g_assert_true (g_cancellable_is_cancelled (pmt_task_get_cancellable (task)));

  pmt_test_gate_open (&data.release);
  g_assert_true (pmt_task_wait (task, SAFETY_TIMEOUT_USEC));
  g_thread_join (runner);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_SUCCEEDED);
  g_assert_null (pmt_task_get_error (task));
  g_assert_cmpint (g_value_get_int64 (pmt_task_get_result (task)), ==, 21);

  block_data_clear (&data);
}

/* Limiter {{{1 */

typedef struct
{
  PmtLimiter *limiter;
  guint       available_inside;
  gboolean    try_acquire_inside;
  gint        n_ran;
  gboolean    fail;
} LimiterData;

static void
limiter_func (PmtTask  *task,
              gpointer  user_data)
{
  LimiterData *data = user_data;

  g_atomic_int_inc (&data->n_ran);
  data->available_inside = pmt_limiter_get_available (data->limiter);
  g_assert_true (pmt_task_get_limiter (task) == data->limiter);

  if (data->fail)
    pmt_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "failed under the limiter");
  else
    pmt_task_return_boolean (task, TRUE);
}

static void
test_limiter_acquire_release (void)
{
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (2);
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(PmtLimiter) property = NULL;
  LimiterData data = { .limiter = limiter };
  GThread *runner;

  task = pmt_task_new (limiter_func, &data, NULL);
  g_assert_null (pmt_task_get_limiter (task));
  pmt_task_set_limiter (task, limiter);
  g_assert_true (pmt_task_get_limiter (task) == limiter);
  g_object_get (task, "limiter", &property, NULL);
  g_assert_true (property == limiter);

  runner = run_in_thread (task);
  g_thread_join (runner);

  g_assert_cmpint (data.n_ran, ==, 1);
  g_assert_cmpuint (data.available_inside, ==, 1);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 2);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_SUCCEEDED);
}

static void
test_limiter_released_on_error (void)
{
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (1);
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(PmtTask) next = NULL;
  LimiterData data = { .limiter = limiter, .fail = TRUE };
  LimiterData next_data = { .limiter = limiter };

  task = pmt_task_new (limiter_func, &data, NULL);
  pmt_task_set_limiter (task, limiter);
  pmt_task_run (task);

  g_assert_cmpint (data.n_ran, ==, 1);
  g_assert_cmpuint (data.available_inside, ==, 0);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_FAILED);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 1);

  /* A limit of 1 that leaked would block this one forever. */
  next = pmt_task_new (limiter_func, &next_data, NULL);
  pmt_task_set_limiter (next, limiter);
  pmt_task_run (next);
  g_assert_cmpint (pmt_task_get_state (next), ==, PMT_TASK_STATE_SUCCEEDED);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 1);
}

static void
n_waiting_notify_cb (PmtLimiter *limiter,
                     GParamSpec *pspec,
                     gpointer    user_data)
{
  if (pmt_limiter_get_n_waiting (limiter) > 0)
    pmt_test_gate_open (user_data);
}

static void
test_limiter_blocks (void)
{
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (1);
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(GError) error = NULL;
  LimiterData data = { .limiter = limiter };
  PmtTestGate waiting;
  GThread *runner;
  gulong handler;

  pmt_test_gate_init (&waiting);
  handler = g_signal_connect (limiter, "notify::n-waiting", G_CALLBACK (n_waiting_notify_cb),
                              &waiting);
  g_assert_true (pmt_limiter_acquire (limiter, 0, NULL, &error));
  g_assert_no_error (error);

  task = pmt_task_new (limiter_func, &data, NULL);
  pmt_task_set_limiter (task, limiter);
  runner = run_in_thread (task);
  pmt_test_gate_wait_open (&waiting);

  /* The runner waits for the limiter: the function has not run. */
  g_assert_cmpuint (pmt_limiter_get_n_waiting (limiter), ==, 1);
  g_assert_cmpint (g_atomic_int_get (&data.n_ran), ==, 0);
  g_assert_false (pmt_task_wait (task, 0));

  pmt_limiter_release (limiter);
  g_assert_true (pmt_task_wait (task, SAFETY_TIMEOUT_USEC));
  g_thread_join (runner);
  g_signal_handler_disconnect (limiter, handler);

  g_assert_cmpint (data.n_ran, ==, 1);
  g_assert_cmpuint (data.available_inside, ==, 0);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_SUCCEEDED);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 1);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (limiter), ==, 0);

  pmt_test_gate_clear (&waiting);
}

static void
test_limiter_cancel_while_waiting (void)
{
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (1);
  g_autoptr(PmtTask) task = NULL;
  LimiterData data = { .limiter = limiter };
  PmtTestGate waiting;
  GThread *runner;
  gulong handler;
  gint n_completed = 0;

  pmt_test_gate_init (&waiting);
  handler = g_signal_connect (limiter, "notify::n-waiting", G_CALLBACK (n_waiting_notify_cb),
                              &waiting);
  g_assert_true (pmt_limiter_try_acquire (limiter));

  task = pmt_task_new (limiter_func, &data, NULL);
  pmt_task_set_limiter (task, limiter);
  g_signal_connect (task, "completed", G_CALLBACK (pmt_test_count_completed_cb), &n_completed);
  runner = run_in_thread (task);
  pmt_test_gate_wait_open (&waiting);

  pmt_task_cancel (task);
  g_assert_true (pmt_task_wait (task, SAFETY_TIMEOUT_USEC));
  g_thread_join (runner);
  g_signal_handler_disconnect (limiter, handler);

  g_assert_cmpint (data.n_ran, ==, 0);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_CANCELLED);
  g_assert_error (pmt_task_get_error (task), G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (n_completed, ==, 1);
  /* Still held by us only, and nobody waits any more. */
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 0);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (limiter), ==, 0);
  pmt_limiter_release (limiter);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 1);

  pmt_test_gate_clear (&waiting);
}

/* Properties {{{1 */

static void
test_property_task_data (void)
{
  PmtTask *task;
  gint n_first = 0, n_second = 0;
  gpointer data;

  task = pmt_task_new (empty_func, NULL, NULL);
  g_assert_null (pmt_task_get_task_data (task));

  pmt_task_set_task_data (task, &n_first, pmt_test_count_notify);
  g_assert_true (pmt_task_get_task_data (task) == &n_first);
  g_object_get (task, "task-data", &data, NULL);
  g_assert_true (data == &n_first);

  pmt_task_set_task_data (task, &n_second, pmt_test_count_notify);
  g_assert_cmpint (n_first, ==, 1);
  g_assert_cmpint (n_second, ==, 0);
  g_assert_true (pmt_task_get_task_data (task) == &n_second);

  /* Kept through the run. */
  pmt_task_run (task);
  g_assert_true (pmt_task_get_task_data (task) == &n_second);
  g_assert_cmpint (n_second, ==, 0);

  g_object_unref (task);
  g_assert_cmpint (n_first, ==, 1);
  g_assert_cmpint (n_second, ==, 1);
}

static void
test_property_id (void)
{
  PmtTask *tasks[16];
  guint64 id;

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    tasks[i] = pmt_task_new (empty_func, NULL, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      g_assert_cmpuint (pmt_task_get_id (tasks[i]), >, 0);
      g_object_get (tasks[i], "id", &id, NULL);
      g_assert_cmpuint (id, ==, pmt_task_get_id (tasks[i]));
      if (i > 0)
        g_assert_cmpuint (pmt_task_get_id (tasks[i]), >, pmt_task_get_id (tasks[i - 1]));
    }

  /* Running does not change it. */
  id = pmt_task_get_id (tasks[0]);
  pmt_task_run (tasks[0]);
  g_assert_cmpuint (pmt_task_get_id (tasks[0]), ==, id);

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    g_object_unref (tasks[i]);
}

static void
state_func (PmtTask  *task,
            gpointer  user_data)
{
  PmtTaskState *seen = user_data;

  g_object_get (task, "state", &seen[1], NULL);
  seen[0] = pmt_task_get_state (task);
}

static void
test_property_state (void)
{
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(PmtTask) failing = NULL;
  PmtTaskState seen[2] = { PMT_TASK_STATE_PENDING, PMT_TASK_STATE_PENDING };
  PmtTaskState state;

  task = pmt_task_new (state_func, seen, NULL);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_PENDING);
  g_object_get (task, "state", &state, NULL);
  g_assert_cmpint (state, ==, PMT_TASK_STATE_PENDING);

  pmt_task_run (task);
  g_assert_cmpint (seen[0], ==, PMT_TASK_STATE_RUNNING);
  g_assert_cmpint (seen[1], ==, PMT_TASK_STATE_RUNNING);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_SUCCEEDED);
  g_object_get (task, "state", &state, NULL);
  g_assert_cmpint (state, ==, PMT_TASK_STATE_SUCCEEDED);

  failing = pmt_task_new (return_not_found_func, NULL, NULL);
  pmt_task_run (failing);
  g_assert_cmpint (pmt_task_get_state (failing), ==, PMT_TASK_STATE_FAILED);
}

static void
notify_count_cb (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  g_atomic_int_inc ((gint *)user_data);
}

static void
test_property_priority (void)
{
  g_autoptr(PmtTask) task = NULL;
  gint priority = 0, n_notify = 0;

  task = pmt_task_new (empty_func, NULL, NULL);
  g_assert_cmpint (pmt_task_get_priority (task), ==, G_PRIORITY_DEFAULT);
  g_signal_connect (task, "notify::priority", G_CALLBACK (notify_count_cb), &n_notify);

  pmt_task_set_priority (task, G_PRIORITY_HIGH);
  g_assert_cmpint (pmt_task_get_priority (task), ==, G_PRIORITY_HIGH);
  g_assert_cmpint (n_notify, ==, 1);
  pmt_task_set_priority (task, G_PRIORITY_HIGH);
  g_assert_cmpint (n_notify, ==, 1);

  g_object_set (task, "priority", 42, NULL);
  g_object_get (task, "priority", &priority, NULL);
  g_assert_cmpint (priority, ==, 42);
  g_assert_cmpint (pmt_task_get_priority (task), ==, 42);
  g_assert_cmpint (n_notify, ==, 2);

  pmt_task_run (task);
  g_assert_cmpint (pmt_task_get_priority (task), ==, 42);
}

static void
test_property_main_context (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GMainContext) property = NULL;
  g_autoptr(PmtTask) task = NULL;

  task = pmt_task_new (empty_func, NULL, NULL);
  g_assert_null (pmt_task_get_main_context (task));

  pmt_task_set_main_context (task, context);
  g_assert_true (pmt_task_get_main_context (task) == context);
  g_object_get (task, "main-context", &property, NULL);
  g_assert_true (property == context);
  g_clear_pointer (&property, g_main_context_unref);

  g_object_set (task, "main-context", NULL, NULL);
  g_assert_null (pmt_task_get_main_context (task));

  pmt_task_set_main_context (task, context);
  pmt_task_run (task);
  g_assert_true (pmt_task_get_main_context (task) == context);
  /* Flush the completed source before the context goes. */
  while (g_main_context_iteration (context, FALSE));
}

typedef struct
{
  PmtTestGate started;
  PmtTestGate release;
  GThread    *thread;
  PmtWorker  *worker_inside;
  GThread    *completed_thread;
  gint        n_completed;
} WorkerData;

static void
worker_func (PmtTask  *task,
             gpointer  user_data)
{
  WorkerData *data = user_data;

  data->thread = g_thread_self ();
  data->worker_inside = pmt_task_get_worker (task);
  pmt_test_gate_open (&data->started);
  pmt_test_gate_wait_open (&data->release);
}

static void
worker_completed_cb (PmtTask  *task,
                     gpointer  user_data)
{
  WorkerData *data = user_data;

  data->completed_thread = g_thread_self ();
  g_atomic_int_inc (&data->n_completed);
}

static void
test_property_worker (void)
{
  g_autoptr(PmtWorker) worker = pmt_worker_new ("test-task-worker");
  g_autoptr(PmtWorker) property = NULL;
  g_autoptr(PmtTask) first = NULL;
  g_autoptr(PmtTask) second = NULL;
  g_autoptr(PmtTask) alone = NULL;
  g_autoptr(GError) error = NULL;
  WorkerData data = { 0 };
  gint n_ran = 0;

  pmt_test_gate_init (&data.started);
  pmt_test_gate_init (&data.release);

  alone = pmt_task_new (empty_func, NULL, NULL);
  pmt_task_run (alone);
  g_assert_null (pmt_task_get_worker (alone));

  first = pmt_task_new (worker_func, &data, NULL);
  g_signal_connect (first, "completed", G_CALLBACK (worker_completed_cb), &data);
  second = pmt_task_new (pmt_test_count_func, &n_ran, NULL);
  g_assert_null (pmt_task_get_worker (first));

  g_assert_true (pmt_worker_push (worker, first, &error));
  g_assert_no_error (error);
  g_assert_true (pmt_worker_push (worker, second, &error));
  g_assert_no_error (error);
  pmt_test_gate_wait_open (&data.started);

  /* The worker is busy with the first task: the second is queued. */
  g_assert_cmpint (pmt_task_get_state (first), ==, PMT_TASK_STATE_RUNNING);
  g_assert_cmpint (pmt_task_get_state (second), ==, PMT_TASK_STATE_QUEUED);
  g_assert_false (pmt_task_is_done (second));
  g_assert_true (pmt_task_get_worker (first) == worker);

  /* Queued counts as submitted. */
  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*pmt_task_set_priority*submitted*");
  pmt_task_set_priority (second, G_PRIORITY_HIGH);
  g_test_assert_expected_messages ();
  g_assert_cmpint (pmt_task_get_priority (second), ==, G_PRIORITY_DEFAULT);

  pmt_test_gate_open (&data.release);
  g_assert_true (pmt_task_wait (second, SAFETY_TIMEOUT_USEC));
  g_assert_true (pmt_task_wait (first, 0));

  g_assert_true (data.worker_inside == worker);
  g_assert_true (data.thread != g_thread_self ());
  g_assert_true (data.completed_thread == data.thread);
  g_assert_cmpint (data.n_completed, ==, 1);
  g_assert_cmpint (n_ran, ==, 1);
  g_assert_true (pmt_task_get_worker (second) == worker);
  g_object_get (first, "worker", &property, NULL);
  g_assert_true (property == worker);

  pmt_test_worker_stop_and_join (worker);

  pmt_test_gate_clear (&data.started);
  pmt_test_gate_clear (&data.release);
}

/* Programming errors {{{1 */

static void
test_misuse_run_twice (void)
{
  g_autoptr(PmtTask) task = NULL;
  gint n_ran = 0, n_completed = 0;

  task = pmt_task_new (pmt_test_count_func, &n_ran, NULL);
  g_signal_connect (task, "completed", G_CALLBACK (pmt_test_count_completed_cb), &n_completed);
  pmt_task_run (task);

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*already run*");
  pmt_task_run (task);
  g_test_assert_expected_messages ();

  g_assert_cmpint (n_ran, ==, 1);
  g_assert_cmpint (n_completed, ==, 1);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_SUCCEEDED);
}

static void
return_twice_func (PmtTask  *task,
                   gpointer  user_data)
{
  gint *n_freed = user_data;
  PointerResult *extra = g_new0 (PointerResult, 1);

  pmt_task_return_int (task, 1);

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*reported its outcome already*");
  pmt_task_return_boolean (task, FALSE);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*reported its outcome already*");
  pmt_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "too late");
  g_test_assert_expected_messages ();

  /* A refused pointer is freed, not leaked. */
  extra->n_freed = n_freed;
  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*reported its outcome already*");
  pmt_task_return_pointer (task, extra, pointer_result_free);
  g_test_assert_expected_messages ();
  g_assert_cmpint (*n_freed, ==, 1);
}

static void
test_misuse_return_twice (void)
{
  g_autoptr(PmtTask) task = NULL;
  gint n_freed = 0;

  task = pmt_task_new (return_twice_func, &n_freed, NULL);
  pmt_task_run (task);

  /* The first report stands. */
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_SUCCEEDED);
  g_assert_null (pmt_task_get_error (task));
  g_assert_true (G_VALUE_HOLDS_INT64 (pmt_task_get_result (task)));
  g_assert_cmpint (g_value_get_int64 (pmt_task_get_result (task)), ==, 1);
  g_assert_cmpint (n_freed, ==, 1);
}

static void
test_misuse_return_outside (void)
{
  g_autoptr(PmtTask) task = NULL;
  gint64 value = 6;
  gint n_freed = 0;
  PointerResult *extra;

  task = pmt_task_new (return_int_func, &value, NULL);

  /* Before it runs. */
  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*not running*");
  pmt_task_return_int (task, 99);
  g_test_assert_expected_messages ();
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_PENDING);

  pmt_task_run (task);
  g_assert_cmpint (g_value_get_int64 (pmt_task_get_result (task)), ==, 6);

  /* After it ran. */
  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*not running*");
  pmt_task_return_boolean (task, TRUE);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*not running*");
  pmt_task_return_error (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "late"));
  g_test_assert_expected_messages ();

  extra = g_new0 (PointerResult, 1);
  extra->n_freed = &n_freed;
  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*not running*");
  pmt_task_return_pointer (task, extra, pointer_result_free);
  g_test_assert_expected_messages ();
  g_assert_cmpint (n_freed, ==, 1);

  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_SUCCEEDED);
  g_assert_null (pmt_task_get_error (task));
  g_assert_cmpint (g_value_get_int64 (pmt_task_get_result (task)), ==, 6);
}

static void
set_while_running_func (PmtTask  *task,
                        gpointer  user_data)
{
  PmtLimiter *limiter = user_data;

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*pmt_task_set_priority*submitted*");
  pmt_task_set_priority (task, G_PRIORITY_LOW);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*pmt_task_set_limiter*submitted*");
  pmt_task_set_limiter (task, limiter);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*pmt_task_set_callback*submitted*");
  pmt_task_set_callback (task, count_callback, NULL, NULL);
  g_test_assert_expected_messages ();
}

static void
test_misuse_set_after_submission (void)
{
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (1);
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(PmtTask) task = NULL;
  gint n_callback = 0;

  task = pmt_task_new (set_while_running_func, limiter, NULL);
  pmt_task_run (task);
  g_assert_cmpint (pmt_task_get_priority (task), ==, G_PRIORITY_DEFAULT);
  g_assert_null (pmt_task_get_limiter (task));
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 1);

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*pmt_task_set_priority*submitted*");
  pmt_task_set_priority (task, G_PRIORITY_HIGH);
  g_test_assert_expected_messages ();
  g_assert_cmpint (pmt_task_get_priority (task), ==, G_PRIORITY_DEFAULT);

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*pmt_task_set_limiter*submitted*");
  pmt_task_set_limiter (task, limiter);
  g_test_assert_expected_messages ();
  g_assert_null (pmt_task_get_limiter (task));

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*pmt_task_set_callback*submitted*");
  pmt_task_set_callback (task, count_callback, &n_callback, NULL);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*submitted*");
  pmt_task_set_store_result (task, FALSE);
  g_test_assert_expected_messages ();
  g_assert_true (pmt_task_get_store_result (task));

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*submitted*");
  pmt_task_set_main_context (task, context);
  g_test_assert_expected_messages ();
  g_assert_null (pmt_task_get_main_context (task));

  g_assert_cmpint (n_callback, ==, 0);
}

static void
test_misuse_new_null (void)
{
  PmtTask *task;

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*func != NULL*");
  task = pmt_task_new (NULL, NULL, NULL);
  g_test_assert_expected_messages ();
  g_assert_null (task);
}

static void
test_misuse_null_self (void)
{
  PmtTask *tasks[1] = { NULL };

#define EXPECT_NULL_SELF(call) \
  G_STMT_START { \
    g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_TASK*"); \
    call; \
    g_test_assert_expected_messages (); \
  } G_STMT_END

  EXPECT_NULL_SELF (pmt_task_run (NULL));
  EXPECT_NULL_SELF (pmt_task_cancel (NULL));
  EXPECT_NULL_SELF (g_assert_false (pmt_task_wait (NULL, 0)));
  EXPECT_NULL_SELF (g_assert_false (pmt_task_is_done (NULL)));
  EXPECT_NULL_SELF (g_assert_null (pmt_task_get_cancellable (NULL)));
  EXPECT_NULL_SELF (g_assert_null (pmt_task_get_result (NULL)));
  EXPECT_NULL_SELF (g_assert_null (pmt_task_get_result_pointer (NULL)));
  EXPECT_NULL_SELF (g_assert_null (pmt_task_get_error (NULL)));
  EXPECT_NULL_SELF (g_assert_false (pmt_task_propagate_error (NULL, NULL)));
  EXPECT_NULL_SELF (g_assert_cmpuint (pmt_task_get_id (NULL), ==, 0));
  EXPECT_NULL_SELF (pmt_task_set_priority (NULL, 0));
  EXPECT_NULL_SELF (pmt_task_set_task_data (NULL, NULL, NULL));
  EXPECT_NULL_SELF (pmt_task_return_int (NULL, 1));
  EXPECT_NULL_SELF (pmt_task_wait_async (NULL, NULL, NULL, NULL));
  EXPECT_NULL_SELF (g_assert_false (pmt_task_wait_all (tasks, 1, 0)));
  EXPECT_NULL_SELF (g_assert_cmpint (pmt_task_wait_any (tasks, 1, 0), ==, -1));

#undef EXPECT_NULL_SELF
}

/* Many threads {{{1 */

#define N_PRODUCERS          8
#define N_TASKS_PER_PRODUCER 2000
#define N_WAITERS            3

typedef struct
{
  GAsyncQueue *queue;       /* of PmtTask, for the waiters */
  gint         n_completed;
  gint         n_checked;
  guint64      ids[N_PRODUCERS][N_TASKS_PER_PRODUCER];
} StressData;

typedef struct
{
  StressData *stress;
  guint       index;
} ProducerData;

static void
stress_func (PmtTask  *task,
             gpointer  user_data)
{
  pmt_task_return_int (task, GPOINTER_TO_UINT (user_data) * G_GINT64_CONSTANT (3));
}

static void
stress_check (PmtTask *task)
{
  gint64 expected = GPOINTER_TO_UINT (pmt_task_get_task_data (task)) * G_GINT64_CONSTANT (3);
  const GValue *result;

  g_assert_true (pmt_task_is_done (task));
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_SUCCEEDED);
  result = pmt_task_get_result (task);
  g_assert_nonnull (result);
  g_assert_cmpint (g_value_get_int64 (result), ==, expected);
}

static gpointer
producer_thread (gpointer user_data)
{
  ProducerData *producer = user_data;
  StressData *stress = producer->stress;

  for (guint i = 0; i < N_TASKS_PER_PRODUCER; i++)
    {
      guint key = producer->index * N_TASKS_PER_PRODUCER + i + 1;
      PmtTask *task = pmt_task_new (stress_func, GUINT_TO_POINTER (key), NULL);

      pmt_task_set_task_data (task, GUINT_TO_POINTER (key), NULL);
      g_signal_connect (task, "completed", G_CALLBACK (pmt_test_count_completed_cb),
                        &stress->n_completed);
      stress->ids[producer->index][i] = pmt_task_get_id (task);

      /* Waiters may start waiting before the task runs. */
      g_async_queue_push (stress->queue, g_object_ref (task));
      pmt_task_run (task);
      stress_check (task);
      g_object_unref (task);
    }

  return NULL;
}

static gpointer
waiter_thread (gpointer user_data)
{
  StressData *stress = user_data;
  PmtTask *task;

  while ((task = g_async_queue_pop (stress->queue)) != (gpointer)stress)
    {
      g_assert_true (pmt_task_wait (task, -1));
      stress_check (task);
      g_atomic_int_inc (&stress->n_checked);
      g_object_unref (task);
    }

  return NULL;
}

static gint
compare_ids (gconstpointer a,
             gconstpointer b)
{
  guint64 x = *(const guint64 *)a, y = *(const guint64 *)b;

  return x < y ? -1 : x > y;
}

static void
test_threads_many (void)
{
  StressData *stress = g_new0 (StressData, 1);
  ProducerData producers[N_PRODUCERS];
  GThread *producer_threads[N_PRODUCERS];
  GThread *waiter_threads[N_WAITERS];
  guint64 *ids = &stress->ids[0][0];
  const guint n_tasks = N_PRODUCERS * N_TASKS_PER_PRODUCER;

  stress->queue = g_async_queue_new ();

  for (guint i = 0; i < N_WAITERS; i++)
    waiter_threads[i] = g_thread_new ("test-task-waiter", waiter_thread, stress);
  for (guint i = 0; i < N_PRODUCERS; i++)
    {
      producers[i].stress = stress;
      producers[i].index = i;
      producer_threads[i] = g_thread_new ("test-task-producer", producer_thread, &producers[i]);
    }

  for (guint i = 0; i < N_PRODUCERS; i++)
    g_thread_join (producer_threads[i]);
  /* @stress itself is the end marker. */
  for (guint i = 0; i < N_WAITERS; i++)
    g_async_queue_push (stress->queue, stress);
  for (guint i = 0; i < N_WAITERS; i++)
    g_thread_join (waiter_threads[i]);

  g_assert_cmpint (stress->n_completed, ==, n_tasks);
  g_assert_cmpint (stress->n_checked, ==, n_tasks);

  /* Each producer saw increasing ids; all ids are distinct. */
  for (guint p = 0; p < N_PRODUCERS; p++)
    for (guint i = 1; i < N_TASKS_PER_PRODUCER; i++)
      g_assert_cmpuint (stress->ids[p][i], >, stress->ids[p][i - 1]);
  qsort (ids, n_tasks, sizeof (guint64), compare_ids);
  for (guint i = 1; i < n_tasks; i++)
    g_assert_cmpuint (ids[i], !=, ids[i - 1]);

  g_async_queue_unref (stress->queue);
  g_free (stress);
}

/* }}} */

/* Regressions: objects made the way bindings make them, references
 * dropped from handlers, waits on oneself, huge timeouts */

/* A watchdog bound for the tests that deadlock when broken. */
#define GUARD_USEC (60 * G_USEC_PER_SEC)

static void
test_bare_task_fails (void)
{
  g_autoptr(PmtTask) task = g_object_new (PMT_TYPE_TASK, NULL);

  pmt_task_run (task);

  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_FAILED);
  g_assert_error (pmt_task_get_error (task), PMT_ERROR, PMT_ERROR_INVALID);
  g_assert_null (pmt_task_get_result (task));
}

static void
test_bare_task_on_worker_fails (void)
{
  g_autoptr(PmtTask) task = g_object_new (PMT_TYPE_TASK, NULL);
  g_autoptr(PmtWorker) worker = pmt_worker_new ("test-bare");
  g_autoptr(GError) error = NULL;

  g_assert_true (pmt_worker_push (worker, task, &error));
  g_assert_no_error (error);
  g_assert_true (pmt_task_wait (task, SAFETY_TIMEOUT_USEC));

  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_FAILED);
  g_assert_error (pmt_task_get_error (task), PMT_ERROR, PMT_ERROR_INVALID);
  pmt_test_worker_stop_and_join (worker);
}

static void
unref_on_completed (PmtTask  *task,
                    gpointer  user_data)
{
  g_object_unref (task);
}

/* The handler drops the only reference: the task must not be touched
 * after the emission. */
static void
test_completed_drops_last_ref (gconstpointer data)
{
  gboolean cancel = GPOINTER_TO_INT (data);
  PmtTask *task = pmt_task_new (empty_func, NULL, NULL);
  PmtTestFinalizeWatch watch;

  pmt_test_finalize_watch_init (&watch, task);
  g_signal_connect (task, "completed", G_CALLBACK (unref_on_completed), NULL);

  if (cancel)
    pmt_task_cancel (task);
  else
    pmt_task_run (task);

  g_assert_true (pmt_test_finalize_watch_wait (&watch, 0));
  pmt_test_finalize_watch_clear (&watch);
}

typedef struct
{
  gboolean waited;
  gboolean wait_all;
  gint wait_any;
} SelfWait;

static void
wait_for_self_func (PmtTask  *task,
                    gpointer  user_data)
{
  SelfWait *self_wait = user_data;

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*cannot wait for itself*");
  self_wait->waited = pmt_task_wait (task, -1);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*cannot wait for itself*");
  self_wait->wait_all = pmt_task_wait_all (&task, 1, -1);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*cannot wait for itself*");
  self_wait->wait_any = pmt_task_wait_any (&task, 1, -1);
  g_test_assert_expected_messages ();
}

/* A task that waits for itself would wait forever: a critical. */
static void
test_wait_for_self (void)
{
  SelfWait self_wait = { TRUE, TRUE, 0 };
  g_autoptr(PmtTask) task = pmt_task_new (wait_for_self_func, &self_wait, NULL);

  pmt_task_run (task);

  g_assert_false (self_wait.waited);
  g_assert_false (self_wait.wait_all);
  g_assert_cmpint (self_wait.wait_any, ==, -1);
  pmt_test_assert_task_succeeded (task);
}

typedef enum
{
  HUGE_WAIT,
  HUGE_WAIT_ALL,
  HUGE_WAIT_ANY,
} HugeWait;

/* G_MAXINT64 is a timeout like any other: it must not overflow into
 * "already expired". */
static void
test_wait_huge_timeout (gconstpointer data)
{
  HugeWait kind = GPOINTER_TO_UINT (data);
  g_autoptr(PmtWorker) worker = pmt_worker_new ("test-huge");
  g_autoptr(GError) error = NULL;
  g_autoptr(PmtTask) task = NULL;
  PmtTestGate gate;
  GThread *opener;

  pmt_test_gate_init (&gate);
  task = pmt_task_new (pmt_test_gate_func, &gate, NULL);
  g_assert_true (pmt_worker_push (worker, task, &error));
  g_assert_no_error (error);
  pmt_test_gate_wait_started (&gate, 1);

  opener = pmt_test_call_later ((GDestroyNotify) pmt_test_gate_open, &gate);
  switch (kind)
    {
    case HUGE_WAIT:
      g_assert_true (pmt_task_wait (task, G_MAXINT64));
      break;
    case HUGE_WAIT_ALL:
      g_assert_true (pmt_task_wait_all (&task, 1, G_MAXINT64));
      break;
    case HUGE_WAIT_ANY:
    default:
      g_assert_cmpint (pmt_task_wait_any (&task, 1, G_MAXINT64), ==, 0);
      break;
    }
  g_thread_join (opener);

  pmt_test_assert_task_succeeded (task);
  pmt_test_worker_stop_and_join (worker);
  pmt_test_gate_clear (&gate);
}

static void
count_async_wait_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  guint *n_done = user_data;

  g_assert_true (pmt_task_wait_finish (PMT_TASK (object), result, NULL));
  (*n_done)++;
}

/* pmt_task_wait_async() in one thread while the task starts in another:
 * the task's lazily made fields are shared (ThreadSanitizer found a race
 * here). */
static void
test_wait_async_while_running (void)
{
  g_autoptr(PmtWorker) worker = pmt_worker_new ("test-async-race");
  guint n_done = 0;

  for (guint i = 0; i < 200; i++)
    {
      g_autoptr(PmtTask) task = pmt_task_new (empty_func, NULL, NULL);
      g_autoptr(GError) error = NULL;

      g_assert_true (pmt_worker_push (worker, task, &error));
      g_assert_no_error (error);
      pmt_task_wait_async (task, NULL, count_async_wait_cb, &n_done);
      pmt_test_iterate_until_uint (NULL, &n_done, i + 1);
    }

  g_assert_cmpuint (n_done, ==, 200);
  pmt_test_worker_stop_and_join (worker);
}

static void
return_task_value_func (PmtTask  *task,
                        gpointer  user_data)
{
  pmt_task_return_value (task, pmt_task_get_task_value (task));
}

/* The bindings' per-call data: copied in, read back by the function,
 * fixed once the task is submitted. */
static void
test_task_value (void)
{
  g_autoptr(PmtTask) task = pmt_task_new (return_task_value_func, NULL, NULL);
  g_autoptr(PmtWorker) worker = pmt_worker_new ("test-task-value");
  g_autoptr(GError) error = NULL;
  GValue value = G_VALUE_INIT;
  const GValue *result;

  g_assert_null (pmt_task_get_task_value (task));
  g_value_init (&value, G_TYPE_STRING);
  g_value_set_string (&value, "first");
  pmt_task_set_task_value (task, &value);
  g_value_set_string (&value, "per call");
  pmt_task_set_task_value (task, &value);
  g_value_unset (&value);
  g_assert_cmpstr (g_value_get_string (pmt_task_get_task_value (task)), ==, "per call");

  g_assert_true (pmt_worker_push (worker, task, &error));
  g_assert_no_error (error);
  g_assert_true (pmt_task_wait (task, SAFETY_TIMEOUT_USEC));
  result = pmt_task_get_result (task);
  g_assert_nonnull (result);
  g_assert_cmpstr (g_value_get_string (result), ==, "per call");

  g_value_init (&value, G_TYPE_INT);
  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*submitted already*");
  pmt_task_set_task_value (task, &value);
  g_test_assert_expected_messages ();
  g_assert_cmpstr (g_value_get_string (pmt_task_get_task_value (task)), ==, "per call");

  pmt_test_worker_stop_and_join (worker);
}

static void
fail_with_code_func (PmtTask  *task,
                     gpointer  user_data)
{
  pmt_task_return_new_error (task, PMT_ERROR, PMT_ERROR_FAILED, "no %s", "luck");
}

/* A finished task as a GVariant snapshot. */
static void
test_to_variant (void)
{
  g_autoptr(PmtTask) pending = pmt_task_new (empty_func, NULL, NULL);
  g_autoptr(PmtTask) done = pmt_task_new (pmt_test_return_index_func, GINT_TO_POINTER (7), NULL);
  g_autoptr(PmtTask) failed = pmt_task_new (fail_with_code_func, NULL, NULL);
  g_autoptr(GVariant) snapshot = NULL;
  g_autoptr(GVariant) result = NULL;
  const char *state, *domain, *message;
  gint priority, code;
  guint64 id;

  pmt_task_set_priority (pending, 3);
  snapshot = g_variant_ref_sink (pmt_task_to_variant (pending));
  g_assert_true (g_variant_lookup (snapshot, "id", "t", &id));
  g_assert_cmpuint (id, ==, pmt_task_get_id (pending));
  g_assert_true (g_variant_lookup (snapshot, "state", "&s", &state));
  g_assert_cmpstr (state, ==, "pending");
  g_assert_true (g_variant_lookup (snapshot, "priority", "i", &priority));
  g_assert_cmpint (priority, ==, 3);
  g_assert_false (g_variant_lookup (snapshot, "result", "v", NULL));
  g_clear_pointer (&snapshot, g_variant_unref);

  pmt_task_run (done);
  snapshot = g_variant_ref_sink (pmt_task_to_variant (done));
  g_assert_true (g_variant_lookup (snapshot, "state", "&s", &state));
  g_assert_cmpstr (state, ==, "succeeded");
  result = g_variant_lookup_value (snapshot, "result", NULL);
  g_assert_nonnull (result);
  g_assert_cmpint (g_variant_get_int64 (result), ==, 7);
  g_clear_pointer (&snapshot, g_variant_unref);

  pmt_task_run (failed);
  snapshot = g_variant_ref_sink (pmt_task_to_variant (failed));
  g_assert_true (g_variant_lookup (snapshot, "state", "&s", &state));
  g_assert_cmpstr (state, ==, "failed");
  g_assert_true (g_variant_lookup (snapshot, "error", "(&si&s)", &domain, &code, &message));
  g_assert_cmpstr (domain, ==, g_quark_to_string (PMT_ERROR));
  g_assert_cmpint (code, ==, PMT_ERROR_FAILED);
  g_assert_cmpstr (message, ==, "no luck");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/pmt/task/result/value", test_result_value);
  g_test_add_func ("/pmt/task/result/pointer", test_result_pointer);
  g_test_add_func ("/pmt/task/result/int", test_result_int);
  g_test_add_func ("/pmt/task/result/boolean", test_result_boolean);
  g_test_add_func ("/pmt/task/result/none", test_result_none);
  g_test_add_func ("/pmt/task/result/published-on-completion",
                   test_result_published_on_completion);
  g_test_add_func ("/pmt/task/error/return-error", test_error_return_error);
  g_test_add_func ("/pmt/task/error/return-new-error", test_error_return_new_error);
  g_test_add_func ("/pmt/task/error/cancelled", test_error_cancelled);
  g_test_add_func ("/pmt/task/store-result/disabled", test_store_result_disabled);
  g_test_add_func ("/pmt/task/callback/order", test_callback_order);
  g_test_add_func ("/pmt/task/callback/notify", test_callback_notify);
  g_test_add_func ("/pmt/task/completed/finishing-thread", test_completed_finishing_thread);
  g_test_add_func ("/pmt/task/completed/main-context", test_completed_main_context);
  g_test_add_func ("/pmt/task/completed/main-context-thread", test_completed_main_context_thread);
  g_test_add_func ("/pmt/task/completed/cancelled-pending", test_completed_cancelled_pending);
  g_test_add_func ("/pmt/task/completed/wait-in-handler", test_completed_wait_in_handler);
  g_test_add_func ("/pmt/task/wait/poll", test_wait_poll);
  g_test_add_func ("/pmt/task/wait/timeout", test_wait_timeout);
  g_test_add_func ("/pmt/task/wait/forever", test_wait_forever);
  g_test_add_func ("/pmt/task/wait/is-done", test_wait_is_done);
  g_test_add_func ("/pmt/task/wait-async/success", test_wait_async_success);
  g_test_add_func ("/pmt/task/wait-async/error", test_wait_async_error);
  g_test_add_func ("/pmt/task/wait-async/task-cancelled", test_wait_async_task_cancelled);
  g_test_add_func ("/pmt/task/wait-async/cancel-wait", test_wait_async_cancel_wait);
  g_test_add_func ("/pmt/task/wait-async/already-done", test_wait_async_already_done);
  g_test_add_func ("/pmt/task/wait-all/timeouts", test_wait_all);
  g_test_add_func ("/pmt/task/wait-any/timeouts", test_wait_any);
  g_test_add_func ("/pmt/task/cancel/pending", test_cancel_pending);
  g_test_add_func ("/pmt/task/cancel/finished", test_cancel_finished);
  g_test_add_func ("/pmt/task/cancel/running", test_cancel_running);
  g_test_add_func ("/pmt/task/cancel/running-pollfd", test_cancel_running_pollfd);
  g_test_add_func ("/pmt/task/cancel/running-ignored", test_cancel_running_ignored);
  g_test_add_func ("/pmt/task/limiter/acquire-release", test_limiter_acquire_release);
  g_test_add_func ("/pmt/task/limiter/released-on-error", test_limiter_released_on_error);
  g_test_add_func ("/pmt/task/limiter/blocks", test_limiter_blocks);
  g_test_add_func ("/pmt/task/limiter/cancel-while-waiting", test_limiter_cancel_while_waiting);
  g_test_add_func ("/pmt/task/property/task-data", test_property_task_data);
  g_test_add_func ("/pmt/task/property/id", test_property_id);
  g_test_add_func ("/pmt/task/property/state", test_property_state);
  g_test_add_func ("/pmt/task/property/priority", test_property_priority);
  g_test_add_func ("/pmt/task/property/main-context", test_property_main_context);
  g_test_add_func ("/pmt/task/property/worker", test_property_worker);
  g_test_add_func ("/pmt/task/misuse/run-twice", test_misuse_run_twice);
  g_test_add_func ("/pmt/task/misuse/return-twice", test_misuse_return_twice);
  g_test_add_func ("/pmt/task/misuse/return-outside", test_misuse_return_outside);
  g_test_add_func ("/pmt/task/misuse/set-after-submission", test_misuse_set_after_submission);
  g_test_add_func ("/pmt/task/misuse/new-null", test_misuse_new_null);
  g_test_add_func ("/pmt/task/misuse/null-self", test_misuse_null_self);
  g_test_add_func ("/pmt/task/threads/many", test_threads_many);

  g_test_add_func ("/pmt/task/bare/run-fails", test_bare_task_fails);
  g_test_add_func ("/pmt/task/bare/worker-fails", test_bare_task_on_worker_fails);
  g_test_add_data_func ("/pmt/task/completed/handler-drops-last-ref/run",
                        GINT_TO_POINTER (FALSE), test_completed_drops_last_ref);
  g_test_add_data_func ("/pmt/task/completed/handler-drops-last-ref/cancel",
                        GINT_TO_POINTER (TRUE), test_completed_drops_last_ref);
  pmt_test_add_guarded_func ("/pmt/task/wait/self-is-critical", test_wait_for_self, GUARD_USEC);
  pmt_test_add_guarded ("/pmt/task/wait/huge-timeout", GUINT_TO_POINTER (HUGE_WAIT),
                        test_wait_huge_timeout, GUARD_USEC);
  pmt_test_add_guarded ("/pmt/task/wait-all/huge-timeout", GUINT_TO_POINTER (HUGE_WAIT_ALL),
                        test_wait_huge_timeout, GUARD_USEC);
  pmt_test_add_guarded ("/pmt/task/wait-any/huge-timeout", GUINT_TO_POINTER (HUGE_WAIT_ANY),
                        test_wait_huge_timeout, GUARD_USEC);
  pmt_test_add_guarded_func ("/pmt/task/wait-async/while-running",
                             test_wait_async_while_running, GUARD_USEC);

  g_test_add_func ("/pmt/task/task-value", test_task_value);

  g_test_add_func ("/pmt/task/to-variant", test_to_variant);

  return g_test_run ();
}
