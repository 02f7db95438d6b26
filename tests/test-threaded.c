/* test-threaded.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <pmt.h>

#include <string.h>

#include "pmt-test-utils.h"

/* A bound on every wait that should end at once, so that a broken
 * Threaded fails the test instead of hanging it. */
#define SAFETY_TIMEOUT_USEC PMT_TEST_SAFETY_TIMEOUT_USEC

/* What the wrapped function sees and does.  Each call records, as it
 * enters: its task-data, its thread and the pool of its worker; it then
 * blocks until the gate is open or a token lets it through (or its task
 * is cancelled), and returns 1000 + its task-data, or fails when its
 * task-data is fail_index. */
typedef struct
{
  GMutex mutex;
  GCond cond;

  gboolean open;
  guint tokens;
  gint fail_index;

  guint n_started;
  guint n_inside;
  guint max_inside;
  GPtrArray *data;       /* the task-data of each call, as it entered */
  GPtrArray *threads;    /* the thread of each call */
  GPtrArray *pools;      /* the pool of each call's worker (a reference), or NULL */

  guint n_user_data_notifies;
  guint n_call_data_notifies;
  GPtrArray *freed_call_data;
} Probe;

static void
unref_if_nonnull (gpointer object)
{
  if (object != NULL)
    g_object_unref (object);
}

static void
probe_init (Probe    *probe,
            gboolean  open)
{
  g_mutex_init (&probe->mutex);
  g_cond_init (&probe->cond);
  probe->open = open;
  probe->tokens = 0;
  probe->fail_index = -1;
  probe->n_started = 0;
  probe->n_inside = 0;
  probe->max_inside = 0;
  probe->data = g_ptr_array_new ();
  probe->threads = g_ptr_array_new ();
  probe->pools = g_ptr_array_new_with_free_func (unref_if_nonnull);
  probe->n_user_data_notifies = 0;
  probe->n_call_data_notifies = 0;
  probe->freed_call_data = g_ptr_array_new ();
}

static void
probe_clear (Probe *probe)
{
  g_ptr_array_unref (probe->data);
  g_ptr_array_unref (probe->threads);
  g_ptr_array_unref (probe->pools);
  g_ptr_array_unref (probe->freed_call_data);
  g_mutex_clear (&probe->mutex);
  g_cond_clear (&probe->cond);
}

static void
probe_open (Probe *probe)
{
  pmt_test_set_flag (&probe->mutex, &probe->cond, &probe->open);
}

static void
probe_give_tokens (Probe *probe,
                   guint  n)
{
  g_mutex_lock (&probe->mutex);
  probe->tokens += n;
  g_cond_broadcast (&probe->cond);
  g_mutex_unlock (&probe->mutex);
}

/* Waits until @n calls entered the function. */
static void
probe_wait_started (Probe *probe,
                    guint  n)
{
  pmt_test_assert_uint_reaches (&probe->mutex, &probe->cond, &probe->n_started, n);
}

static guint
probe_get_n_started (Probe *probe)
{
  return pmt_test_read_uint (&probe->mutex, &probe->n_started);
}

static void
probe_cancelled_cb (GCancellable *cancellable,
                    gpointer      user_data)
{
  Probe *probe = user_data;

  g_mutex_lock (&probe->mutex);
  g_cond_broadcast (&probe->cond);
  g_mutex_unlock (&probe->mutex);
}

static void
probe_func (PmtTask  *task,
            gpointer  user_data)
{
  Probe *probe = user_data;
  gpointer task_data = pmt_task_get_task_data (task);
  GCancellable *cancellable = pmt_task_get_cancellable (task);
  PmtWorker *worker = pmt_task_get_worker (task);
  PmtPool *pool = worker != NULL ? pmt_worker_get_pool (worker) : NULL;
  GError *error = NULL;
  gulong handler_id;
  gboolean fail;

  /* Connected without our lock: it runs at once when already cancelled. */
  handler_id = g_cancellable_connect (cancellable, G_CALLBACK (probe_cancelled_cb), probe, NULL);

  g_mutex_lock (&probe->mutex);
  g_ptr_array_add (probe->data, task_data);
  g_ptr_array_add (probe->threads, g_thread_self ());
  g_ptr_array_add (probe->pools, pool != NULL ? g_object_ref (pool) : NULL);
  probe->n_started++;
  probe->n_inside++;
  probe->max_inside = MAX (probe->max_inside, probe->n_inside);
  g_cond_broadcast (&probe->cond);

  while (!probe->open && probe->tokens == 0 && !g_cancellable_is_cancelled (cancellable))
    g_cond_wait (&probe->cond, &probe->mutex);
  if (!probe->open && probe->tokens > 0)
    probe->tokens--;

  probe->n_inside--;
  fail = probe->fail_index >= 0 && GPOINTER_TO_INT (task_data) == probe->fail_index;
  g_cond_broadcast (&probe->cond);
  g_mutex_unlock (&probe->mutex);

  g_cancellable_disconnect (cancellable, handler_id);

  if (g_cancellable_set_error_if_cancelled (cancellable, &error))
    pmt_task_return_error (task, error);
  else if (fail)
    pmt_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "Failed on purpose");
  else
    pmt_task_return_int (task, 1000 + GPOINTER_TO_UINT (task_data));
}

static void
probe_user_data_notify (gpointer user_data)
{
  Probe *probe = user_data;

  pmt_test_increment_uint (&probe->mutex, &probe->cond, &probe->n_user_data_notifies);
}

static void
probe_call_data_notify_for (Probe    *probe,
                            gpointer  call_data)
{
  g_mutex_lock (&probe->mutex);
  probe->n_call_data_notifies++;
  g_ptr_array_add (probe->freed_call_data, call_data);
  g_cond_broadcast (&probe->cond);
  g_mutex_unlock (&probe->mutex);
}

/* The call data of the notify tests: each item knows its probe. */
typedef struct
{
  Probe *probe;
  guint index;
} Item;

static void
item_notify (gpointer data)
{
  Item *item = data;

  probe_call_data_notify_for (item->probe, item);
}

/* Waits until *@counter (guarded by the probe's mutex) reaches @n. */
static guint
probe_wait_counter (Probe *probe,
                    guint *counter,
                    guint  n)
{
  return pmt_test_wait_uint (&probe->mutex, &probe->cond, counter, n, SAFETY_TIMEOUT_USEC);
}

static guint
probe_read_counter (Probe *probe,
                    guint *counter)
{
  return pmt_test_read_uint (&probe->mutex, counter);
}

/* ------------------------------------------------------------------ */

/* Waits on `notify::NAME` until the guint or gboolean property @name of
 * @object equals @expected.  The watch is reference counted: a notify
 * emitted in another thread may still run its handler after the
 * disconnection. */
typedef struct
{
  GMutex mutex;
  GCond cond;
} Watch;

static void
watch_clear (gpointer data)
{
  Watch *watch = data;

  g_mutex_clear (&watch->mutex);
  g_cond_clear (&watch->cond);
}

static void
watch_release (gpointer  data,
               GClosure *closure)
{
  g_atomic_rc_box_release_full (data, watch_clear);
}

static void
watch_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  Watch *watch = user_data;

  g_mutex_lock (&watch->mutex);
  g_cond_broadcast (&watch->cond);
  g_mutex_unlock (&watch->mutex);
}

static guint
read_property (gpointer    object,
               const char *name)
{
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (object), name);
  g_auto(GValue) value = G_VALUE_INIT;

  g_assert_nonnull (pspec);
  g_value_init (&value, pspec->value_type);
  g_object_get_property (object, name, &value);

  if (G_VALUE_HOLDS_BOOLEAN (&value))
    return g_value_get_boolean (&value);
  g_assert_true (G_VALUE_HOLDS_UINT (&value));
  return g_value_get_uint (&value);
}

static gboolean
wait_property (gpointer    object,
               const char *name,
               guint       expected)
{
  g_autofree char *signal = g_strconcat ("notify::", name, NULL);
  gint64 end_time = g_get_monotonic_time () + SAFETY_TIMEOUT_USEC;
  Watch *watch = g_atomic_rc_box_new0 (Watch);
  gulong handler_id;
  guint value;

  g_mutex_init (&watch->mutex);
  g_cond_init (&watch->cond);
  handler_id = g_signal_connect_data (object, signal, G_CALLBACK (watch_notify_cb),
                                      g_atomic_rc_box_acquire (watch), watch_release, 0);

  /* The value changes before its notify, whose handler takes our lock:
   * reading it under the lock loses no wake-up. */
  g_mutex_lock (&watch->mutex);
  while ((value = read_property (object, name)) != expected)
    {
      if (!g_cond_wait_until (&watch->cond, &watch->mutex, end_time))
        {
          value = read_property (object, name);
          break;
        }
    }
  g_mutex_unlock (&watch->mutex);

  g_signal_handler_disconnect (object, handler_id);
  g_atomic_rc_box_release_full (watch, watch_clear);

  return value == expected;
}

/* A worker of %PMT_THREADED_MODE_THREAD: its thread must end by itself. */
static void
assert_worker_thread_exits (PmtWorker *worker)
{
  g_assert_true (wait_property (worker, "running", FALSE));
  g_assert_false (pmt_worker_is_running (worker));
}

static PmtTask *
call_ok (PmtThreaded *threaded,
         guint        index)
{
  g_autoptr(GError) error = NULL;
  PmtTask *task;

  task = pmt_threaded_call (threaded, GUINT_TO_POINTER (index), NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (task);
  g_assert_true (pmt_task_get_task_data (task) == GUINT_TO_POINTER (index));

  return task;
}

static void
stop_and_join (PmtWorker *worker)
{
  pmt_test_worker_stop_and_join (worker);
  g_assert_cmpint (pmt_worker_get_state (worker), ==, PMT_WORKER_STATE_STOPPED);
}

/* A thread making calls, so that the test can watch it block. */
typedef struct
{
  PmtThreaded *threaded;
  guint n_calls;

  GMutex mutex;
  GCond cond;
  guint n_returned;
  GPtrArray *tasks;
} Caller;

static gpointer
caller_thread (gpointer data)
{
  Caller *caller = data;

  for (guint i = 0; i < caller->n_calls; i++)
    {
      PmtTask *task = call_ok (caller->threaded, i);

      g_mutex_lock (&caller->mutex);
      g_ptr_array_add (caller->tasks, task);
      caller->n_returned++;
      g_cond_broadcast (&caller->cond);
      g_mutex_unlock (&caller->mutex);
    }

  return NULL;
}

static GThread *
caller_start (Caller      *caller,
              PmtThreaded *threaded,
              guint        n_calls)
{
  g_mutex_init (&caller->mutex);
  g_cond_init (&caller->cond);
  caller->threaded = threaded;
  caller->n_calls = n_calls;
  caller->n_returned = 0;
  caller->tasks = g_ptr_array_new_with_free_func (g_object_unref);

  return g_thread_new ("pmt-t-caller", caller_thread, caller);
}

static guint
caller_wait_returned (Caller *caller,
                      guint   n)
{
  return pmt_test_wait_uint (&caller->mutex, &caller->cond, &caller->n_returned, n,
                             SAFETY_TIMEOUT_USEC);
}

static guint
caller_get_n_returned (Caller *caller)
{
  return pmt_test_read_uint (&caller->mutex, &caller->n_returned);
}

static void
caller_clear (Caller *caller)
{
  g_ptr_array_unref (caller->tasks);
  g_mutex_clear (&caller->mutex);
  g_cond_clear (&caller->cond);
}

/* Most tests start with a probe and a Threaded of probe_func() with it, in
 * the default mode.  The teardown drops the Threaded (a test that checks
 * what dropping it does drops it itself), then clears the probe. */
typedef struct
{
  Probe probe;
  PmtThreaded *threaded;
} Fixture;

static void
fixture_init (Fixture  *fixture,
              gboolean  open)
{
  probe_init (&fixture->probe, open);
  fixture->threaded = pmt_threaded_new (probe_func, &fixture->probe, NULL);
}

/* The probe's calls block until the test lets them through. */
static void
fixture_setup_shut (Fixture       *fixture,
                    gconstpointer  data)
{
  fixture_init (fixture, FALSE);
}

/* The probe's calls return at once. */
static void
fixture_setup_open (Fixture       *fixture,
                    gconstpointer  data)
{
  fixture_init (fixture, TRUE);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  g_clear_object (&fixture->threaded);
  probe_clear (&fixture->probe);
}

/* ------------------------------------------------------------------ */

static void
test_thread_new_worker_per_call (Fixture       *fixture,
                                 gconstpointer  data)
{
  g_autoptr(PmtTask) first = NULL;
  g_autoptr(PmtTask) second = NULL;
  PmtWorker *first_worker, *second_worker;
  Probe *probe = &fixture->probe;

  g_assert_cmpint (pmt_threaded_get_mode (fixture->threaded), ==, PMT_THREADED_MODE_THREAD);

  first = call_ok (fixture->threaded, 1);
  second = call_ok (fixture->threaded, 2);

  /* Both are in the function at once, so their threads are alive
   * together and their identities can be compared. */
  probe_wait_started (probe, 2);
  g_mutex_lock (&probe->mutex);
  g_assert_true (probe->threads->pdata[0] != probe->threads->pdata[1]);
  g_assert_true (probe->threads->pdata[0] != g_thread_self ());
  g_assert_true (probe->threads->pdata[1] != g_thread_self ());
  g_assert_null (probe->pools->pdata[0]);
  g_assert_null (probe->pools->pdata[1]);
  g_mutex_unlock (&probe->mutex);

  first_worker = pmt_task_get_worker (first);
  second_worker = pmt_task_get_worker (second);
  g_assert_nonnull (first_worker);
  g_assert_nonnull (second_worker);
  g_assert_true (first_worker != second_worker);
  g_assert_null (pmt_worker_get_pool (first_worker));
  g_assert_true (g_str_has_prefix (pmt_worker_get_name (first_worker), "pmt-threaded-"));
  g_assert_true (g_str_has_prefix (pmt_worker_get_name (second_worker), "pmt-threaded-"));
  g_assert_cmpstr (pmt_worker_get_name (first_worker), !=, pmt_worker_get_name (second_worker));

  probe_open (probe);
  pmt_test_assert_task_succeeded (first);
  pmt_test_assert_task_succeeded (second);
  g_assert_cmpint (pmt_test_task_get_int (first), ==, 1001);
  g_assert_cmpint (pmt_test_task_get_int (second), ==, 1002);

  /* Each thread ends after its task, without being stopped. */
  assert_worker_thread_exits (first_worker);
  assert_worker_thread_exits (second_worker);
  g_assert_cmpuint (pmt_worker_get_n_tasks_run (first_worker), ==, 1);
  g_assert_cmpuint (pmt_worker_get_n_tasks_run (second_worker), ==, 1);

  g_clear_object (&first);
  g_clear_object (&second);
}

static void
test_thread_data_notifies (void)
{
  g_autoptr(PmtThreaded) threaded = NULL;
  g_autoptr(PmtTask) early = NULL;
  g_autoptr(PmtTask) first = NULL;
  g_autoptr(PmtTask) second = NULL;
  g_autoptr(GError) error = NULL;
  gpointer task_data = NULL;
  Item items[3];
  Probe probe;

  probe_init (&probe, FALSE);
  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    {
      items[i].probe = &probe;
      items[i].index = i;
    }

  threaded = pmt_threaded_new (probe_func, &probe, probe_user_data_notify);

  /* A task that is done and whose thread exited does not free the
   * function's data while the Threaded lives. */
  early = pmt_threaded_call (threaded, &items[0], item_notify, &error);
  g_assert_no_error (error);
  g_assert_true (pmt_task_get_task_data (early) == &items[0]);
  g_object_get (early, "task-data", &task_data, NULL);
  g_assert_true (task_data == &items[0]);
  probe_wait_started (&probe, 1);
  probe_give_tokens (&probe, 1);
  pmt_test_assert_task_succeeded (early);
  assert_worker_thread_exits (pmt_task_get_worker (early));
  g_assert_cmpuint (probe_read_counter (&probe, &probe.n_user_data_notifies), ==, 0);
  g_assert_cmpuint (probe_read_counter (&probe, &probe.n_call_data_notifies), ==, 0);

  first = pmt_threaded_call (threaded, &items[1], item_notify, &error);
  g_assert_no_error (error);
  second = pmt_threaded_call (threaded, &items[2], item_notify, &error);
  g_assert_no_error (error);
  probe_wait_started (&probe, 3);

  /* The function read its call's data. */
  g_mutex_lock (&probe.mutex);
  g_assert_true (probe.data->pdata[0] == &items[0]);
  g_assert_true ((probe.data->pdata[1] == &items[1] && probe.data->pdata[2] == &items[2]) ||
                 (probe.data->pdata[1] == &items[2] && probe.data->pdata[2] == &items[1]));
  g_mutex_unlock (&probe.mutex);

  /* Running tasks still need the function's data. */
  g_clear_object (&threaded);
  g_assert_cmpuint (probe_read_counter (&probe, &probe.n_user_data_notifies), ==, 0);

  probe_open (&probe);
  pmt_test_assert_task_succeeded (first);
  pmt_test_assert_task_succeeded (second);
  assert_worker_thread_exits (pmt_task_get_worker (first));
  assert_worker_thread_exits (pmt_task_get_worker (second));

  /* Once no one needs the function, its data goes, once. */
  g_assert_cmpuint (probe_wait_counter (&probe, &probe.n_user_data_notifies, 1), ==, 1);

  /* The call data lives as long as its task. */
  g_assert_cmpuint (probe_read_counter (&probe, &probe.n_call_data_notifies), ==, 0);
  g_assert_true (pmt_task_get_task_data (first) == &items[1]);

  g_clear_object (&first);
  g_assert_cmpuint (probe_wait_counter (&probe, &probe.n_call_data_notifies, 1), ==, 1);
  g_clear_object (&early);
  g_assert_cmpuint (probe_wait_counter (&probe, &probe.n_call_data_notifies, 2), ==, 2);
  g_clear_object (&second);
  g_assert_cmpuint (probe_wait_counter (&probe, &probe.n_call_data_notifies, 3), ==, 3);

  g_mutex_lock (&probe.mutex);
  g_assert_true (probe.freed_call_data->pdata[0] == &items[1]);
  g_assert_true (probe.freed_call_data->pdata[1] == &items[0]);
  g_assert_true (probe.freed_call_data->pdata[2] == &items[2]);
  g_assert_cmpuint (probe.n_call_data_notifies, ==, 3);
  g_assert_cmpuint (probe.n_user_data_notifies, ==, 1);
  g_mutex_unlock (&probe.mutex);

  probe_clear (&probe);
}

#define N_DAEMON_CALLS 20

static void
test_daemon_same_thread_in_order (Fixture       *fixture,
                                  gconstpointer  data)
{
  g_autoptr(PmtWorker) worker = NULL;
  g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);
  Probe *probe = &fixture->probe;

  pmt_threaded_set_mode (fixture->threaded, PMT_THREADED_MODE_DAEMON);
  g_assert_cmpint (pmt_threaded_get_mode (fixture->threaded), ==, PMT_THREADED_MODE_DAEMON);

  /* The first call holds the worker: the others wait in its queue. */
  for (guint i = 0; i < N_DAEMON_CALLS; i++)
    g_ptr_array_add (tasks, call_ok (fixture->threaded, i));
  probe_wait_started (probe, 1);

  worker = pmt_threaded_dup_worker (fixture->threaded);
  g_assert_nonnull (worker);
  g_assert_null (pmt_worker_get_pool (worker));

  probe_open (probe);
  for (guint i = 0; i < tasks->len; i++)
    {
      pmt_test_assert_task_succeeded (tasks->pdata[i]);
      g_assert_true (pmt_task_get_worker (tasks->pdata[i]) == worker);
    }

  g_mutex_lock (&probe->mutex);
  g_assert_cmpuint (probe->data->len, ==, N_DAEMON_CALLS);
  for (guint i = 0; i < N_DAEMON_CALLS; i++)
    {
      g_assert_cmpuint (GPOINTER_TO_UINT (probe->data->pdata[i]), ==, i);
      g_assert_true (probe->threads->pdata[i] == probe->threads->pdata[0]);
    }
  g_assert_true (probe->threads->pdata[0] != g_thread_self ());
  g_assert_cmpuint (probe->max_inside, ==, 1);
  g_mutex_unlock (&probe->mutex);

  /* Still the same worker for the next call. */
  g_ptr_array_add (tasks, call_ok (fixture->threaded, N_DAEMON_CALLS));
  pmt_test_assert_task_succeeded (tasks->pdata[N_DAEMON_CALLS]);
  g_assert_true (pmt_task_get_worker (tasks->pdata[N_DAEMON_CALLS]) == worker);
  g_assert_cmpuint (pmt_worker_get_n_tasks_run (worker), ==, N_DAEMON_CALLS + 1);

  g_clear_object (&fixture->threaded);
  stop_and_join (worker);
}

static void
test_daemon_respawn_after_kill (Fixture       *fixture,
                                gconstpointer  data)
{
  g_autoptr(PmtWorker) old_worker = NULL;
  g_autoptr(PmtWorker) new_worker = NULL;
  g_autoptr(PmtTask) running = NULL;
  g_autoptr(PmtTask) queued = NULL;
  g_autoptr(PmtTask) after = NULL;
  Probe *probe = &fixture->probe;

  g_object_set (fixture->threaded, "mode", PMT_THREADED_MODE_DAEMON, NULL);

  running = call_ok (fixture->threaded, 0);
  queued = call_ok (fixture->threaded, 1);
  probe_wait_started (probe, 1);
  old_worker = pmt_threaded_dup_worker (fixture->threaded);
  g_assert_nonnull (old_worker);

  pmt_worker_kill (old_worker);
  g_assert_true (pmt_worker_join (old_worker, SAFETY_TIMEOUT_USEC));
  g_assert_cmpint (pmt_worker_get_state (old_worker), ==, PMT_WORKER_STATE_STOPPED);
  pmt_test_assert_task_cancelled (running);
  pmt_test_assert_task_cancelled (queued);

  probe_open (probe);
  after = call_ok (fixture->threaded, 2);
  pmt_test_assert_task_succeeded (after);
  g_assert_cmpint (pmt_test_task_get_int (after), ==, 1002);

  new_worker = pmt_threaded_dup_worker (fixture->threaded);
  g_assert_nonnull (new_worker);
  g_assert_true (new_worker != old_worker);
  g_assert_true (pmt_task_get_worker (after) == new_worker);
  g_assert_true (pmt_worker_is_running (new_worker));
  g_assert_cmpuint (probe_get_n_started (probe), ==, 2);

  g_clear_object (&fixture->threaded);
  stop_and_join (new_worker);
}

static void
test_daemon_respawn_after_stop (Fixture       *fixture,
                                gconstpointer  data)
{
  g_autoptr(PmtWorker) old_worker = NULL;
  g_autoptr(PmtWorker) new_worker = NULL;
  g_autoptr(PmtTask) running = NULL;
  g_autoptr(PmtTask) after = NULL;
  Probe *probe = &fixture->probe;

  pmt_threaded_set_mode (fixture->threaded, PMT_THREADED_MODE_DAEMON);

  running = call_ok (fixture->threaded, 0);
  probe_wait_started (probe, 1);
  old_worker = pmt_threaded_dup_worker (fixture->threaded);
  g_assert_nonnull (old_worker);

  /* Stopped, the worker finishes its task and exits. */
  pmt_worker_stop (old_worker);
  probe_open (probe);
  g_assert_true (pmt_worker_join (old_worker, SAFETY_TIMEOUT_USEC));
  g_assert_cmpint (pmt_worker_get_state (old_worker), ==, PMT_WORKER_STATE_STOPPED);
  pmt_test_assert_task_succeeded (running);
  g_assert_true (pmt_task_get_worker (running) == old_worker);

  after = call_ok (fixture->threaded, 1);
  pmt_test_assert_task_succeeded (after);
  g_assert_cmpint (pmt_test_task_get_int (after), ==, 1001);

  new_worker = pmt_threaded_dup_worker (fixture->threaded);
  g_assert_nonnull (new_worker);
  g_assert_true (new_worker != old_worker);
  g_assert_true (pmt_task_get_worker (after) == new_worker);

  g_clear_object (&fixture->threaded);
  stop_and_join (new_worker);
}

static void
test_daemon_worker_idle_timeout (Fixture       *fixture,
                                 gconstpointer  data)
{
  g_autoptr(PmtWorker) worker = NULL;
  g_autoptr(PmtWorker) worker_after = NULL;
  g_autoptr(PmtTask) first = NULL;
  g_autoptr(PmtTask) second = NULL;
  gint64 idle_timeout = -1;

  g_object_set (fixture->threaded,
                "mode", PMT_THREADED_MODE_DAEMON,
                "worker-idle-timeout", (gint64) 0,
                NULL);
  g_object_get (fixture->threaded, "worker-idle-timeout", &idle_timeout, NULL);
  g_assert_cmpint (idle_timeout, ==, 0);

  first = call_ok (fixture->threaded, 0);
  pmt_test_assert_task_succeeded (first);
  worker = pmt_threaded_dup_worker (fixture->threaded);
  g_assert_nonnull (worker);
  g_assert_cmpint (pmt_worker_get_idle_timeout (worker), ==, 0);

  /* Its thread ends once idle, but the worker stays the daemon. */
  assert_worker_thread_exits (worker);
  second = call_ok (fixture->threaded, 1);
  pmt_test_assert_task_succeeded (second);
  worker_after = pmt_threaded_dup_worker (fixture->threaded);
  g_assert_true (worker_after == worker);
  g_assert_true (pmt_task_get_worker (second) == worker);
  g_assert_cmpuint (pmt_worker_get_n_tasks_run (worker), ==, 2);

  g_clear_object (&fixture->threaded);
  stop_and_join (worker);
}

#define N_SHARED_CALLS 10

static void
test_daemon_shared_worker (void)
{
  g_autoptr(PmtWorker) worker = pmt_worker_new ("pmt-t-shared");
  g_autoptr(PmtThreaded) first = NULL;
  g_autoptr(PmtThreaded) second = NULL;
  g_autoptr(PmtWorker) first_worker = NULL;
  g_autoptr(PmtWorker) second_worker = NULL;
  g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);
  Probe probe;

  probe_init (&probe, FALSE);
  first = pmt_threaded_new (probe_func, &probe, NULL);
  second = pmt_threaded_new (probe_func, &probe, NULL);

  /* Setting the worker, by method or property, sets the mode. */
  pmt_threaded_set_worker (first, worker);
  g_object_set (second, "worker", worker, NULL);
  g_assert_cmpint (pmt_threaded_get_mode (first), ==, PMT_THREADED_MODE_DAEMON);
  g_assert_cmpint (pmt_threaded_get_mode (second), ==, PMT_THREADED_MODE_DAEMON);
  first_worker = pmt_threaded_dup_worker (first);
  g_object_get (second, "worker", &second_worker, NULL);
  g_assert_true (first_worker == worker);
  g_assert_true (second_worker == worker);

  for (guint i = 0; i < N_SHARED_CALLS; i++)
    g_ptr_array_add (tasks, call_ok (i % 2 == 0 ? first : second, i));
  probe_wait_started (&probe, 1);
  probe_open (&probe);

  for (guint i = 0; i < tasks->len; i++)
    {
      pmt_test_assert_task_succeeded (tasks->pdata[i]);
      g_assert_true (pmt_task_get_worker (tasks->pdata[i]) == worker);
    }

  g_mutex_lock (&probe.mutex);
  for (guint i = 0; i < N_SHARED_CALLS; i++)
    {
      g_assert_cmpuint (GPOINTER_TO_UINT (probe.data->pdata[i]), ==, i);
      g_assert_true (probe.threads->pdata[i] == probe.threads->pdata[0]);
    }
  g_mutex_unlock (&probe.mutex);
  g_assert_cmpuint (pmt_worker_get_n_tasks_run (worker), ==, N_SHARED_CALLS);

  /* A given worker is left alone when the Threaded go. */
  g_clear_object (&first);
  g_clear_object (&second);
  g_assert_true (pmt_worker_is_running (worker));
  g_assert_cmpint (pmt_worker_get_idle_timeout (worker), ==, -1);
  g_assert_cmpint (pmt_worker_get_state (worker), <, PMT_WORKER_STATE_STOPPING);

  stop_and_join (worker);
  probe_clear (&probe);
}

#define N_POOL_CALLS 4

static void
test_pool_private (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(PmtPool) pool = NULL;
  g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);
  Probe *probe = &fixture->probe;

  pmt_threaded_set_mode (fixture->threaded, PMT_THREADED_MODE_POOL);
  g_object_set (fixture->threaded, "pool-max-workers", 2, NULL);
  g_assert_null (pmt_threaded_dup_pool (fixture->threaded));

  for (guint i = 0; i < N_POOL_CALLS; i++)
    g_ptr_array_add (tasks, call_ok (fixture->threaded, i));
  probe_wait_started (probe, 2);

  pool = pmt_threaded_dup_pool (fixture->threaded);
  g_assert_nonnull (pool);
  g_assert_cmpuint (pmt_pool_get_max_workers (pool), ==, 2);
  g_assert_true (wait_property (pool, "n-workers", 2));
  g_assert_true (wait_property (pool, "n-queued", 2));

  g_mutex_lock (&probe->mutex);
  g_assert_true (probe->pools->pdata[0] == pool);
  g_assert_true (probe->pools->pdata[1] == pool);
  g_assert_true (probe->threads->pdata[0] != g_thread_self ());
  g_mutex_unlock (&probe->mutex);

  probe_open (probe);
  for (guint i = 0; i < tasks->len; i++)
    pmt_test_assert_task_succeeded (tasks->pdata[i]);

  g_mutex_lock (&probe->mutex);
  g_assert_cmpuint (probe->n_started, ==, N_POOL_CALLS);
  for (guint i = 0; i < N_POOL_CALLS; i++)
    g_assert_true (probe->pools->pdata[i] == pool);
  g_assert_cmpuint (probe->max_inside, ==, 2);
  g_mutex_unlock (&probe->mutex);
  g_assert_cmpuint (pmt_pool_get_n_workers (pool), <=, 2);

  /* The private pool ends with its Threaded. */
  g_clear_object (&fixture->threaded);
  g_assert_cmpint (pmt_pool_get_state (pool), >=, PMT_POOL_STATE_STOPPING);
  g_assert_true (pmt_pool_shutdown (pool, PMT_SHUTDOWN_NONE, SAFETY_TIMEOUT_USEC));
  g_assert_cmpint (pmt_pool_get_state (pool), ==, PMT_POOL_STATE_STOPPED);
}

static void
test_pool_private_remade (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(PmtPool) first_pool = NULL;
  g_autoptr(PmtPool) second_pool = NULL;
  g_autoptr(PmtTask) first = NULL;
  g_autoptr(PmtTask) second = NULL;
  Probe *probe = &fixture->probe;

  g_object_set (fixture->threaded, "mode", PMT_THREADED_MODE_POOL, "pool-max-workers", 1, NULL);

  first = call_ok (fixture->threaded, 0);
  pmt_test_assert_task_succeeded (first);
  first_pool = pmt_threaded_dup_pool (fixture->threaded);
  g_assert_nonnull (first_pool);

  g_assert_true (pmt_pool_shutdown (first_pool, PMT_SHUTDOWN_NONE, SAFETY_TIMEOUT_USEC));
  g_assert_cmpint (pmt_pool_get_state (first_pool), ==, PMT_POOL_STATE_STOPPED);

  second = call_ok (fixture->threaded, 1);
  pmt_test_assert_task_succeeded (second);
  second_pool = pmt_threaded_dup_pool (fixture->threaded);
  g_assert_nonnull (second_pool);
  g_assert_true (second_pool != first_pool);
  g_assert_cmpint (pmt_pool_get_state (second_pool), ==, PMT_POOL_STATE_ACTIVE);
  g_assert_cmpuint (pmt_pool_get_max_workers (second_pool), ==, 1);

  g_mutex_lock (&probe->mutex);
  g_assert_true (probe->pools->pdata[0] == first_pool);
  g_assert_true (probe->pools->pdata[1] == second_pool);
  g_mutex_unlock (&probe->mutex);

  g_clear_object (&fixture->threaded);
  g_assert_true (pmt_pool_shutdown (second_pool, PMT_SHUTDOWN_NONE, SAFETY_TIMEOUT_USEC));
}

static void
test_pool_creation_properties (Fixture       *fixture,
                               gconstpointer  data)
{
  g_autoptr(PmtPool) pool = NULL;
  g_autoptr(PmtTask) task = NULL;
  guint min_workers = 0;

  g_object_set (fixture->threaded,
                "mode", PMT_THREADED_MODE_POOL,
                "pool-max-workers", 3,
                "pool-min-workers", 1,
                "pool-idle-timeout", (gint64) (7 * G_USEC_PER_SEC),
                NULL);
  g_object_get (fixture->threaded, "pool-min-workers", &min_workers, NULL);
  g_assert_cmpuint (min_workers, ==, 1);

  task = call_ok (fixture->threaded, 0);
  pmt_test_assert_task_succeeded (task);

  pool = pmt_threaded_dup_pool (fixture->threaded);
  g_assert_nonnull (pool);
  g_assert_cmpuint (pmt_pool_get_max_workers (pool), ==, 3);
  g_assert_cmpuint (pmt_pool_get_min_workers (pool), ==, 1);
  g_assert_cmpint (pmt_pool_get_idle_timeout (pool), ==, 7 * G_USEC_PER_SEC);

  g_clear_object (&fixture->threaded);
  g_assert_true (pmt_pool_shutdown (pool, PMT_SHUTDOWN_NONE, SAFETY_TIMEOUT_USEC));
}

#define SHARED_POOL_NAME "pmt-t-threaded-shared"

static void
test_pool_name_shared (void)
{
  g_autoptr(PmtThreaded) first = NULL;
  g_autoptr(PmtThreaded) second = NULL;
  g_autoptr(PmtPool) pool = NULL;
  g_autoptr(PmtPool) first_pool = NULL;
  g_autoptr(PmtPool) second_pool = NULL;
  g_autoptr(PmtPool) after_join = NULL;
  g_autoptr(PmtTask) first_task = NULL;
  g_autoptr(PmtTask) second_task = NULL;
  g_autofree char *name = NULL;
  Probe probe;

  g_assert_null (pmt_pool_lookup (SHARED_POOL_NAME));

  probe_init (&probe, FALSE);
  first = pmt_threaded_new (probe_func, &probe, NULL);
  second = pmt_threaded_new (probe_func, &probe, NULL);

  /* Setting the pool name, by method or property, sets the mode. */
  pmt_threaded_set_pool_name (first, SHARED_POOL_NAME);
  g_object_set (first, "pool-max-workers", 3, NULL);
  g_object_set (second, "pool-name", SHARED_POOL_NAME, "pool-max-workers", 1, NULL);
  g_assert_cmpint (pmt_threaded_get_mode (first), ==, PMT_THREADED_MODE_POOL);
  g_assert_cmpint (pmt_threaded_get_mode (second), ==, PMT_THREADED_MODE_POOL);
  g_assert_cmpstr (pmt_threaded_get_pool_name (first), ==, SHARED_POOL_NAME);
  g_object_get (second, "pool-name", &name, NULL);
  g_assert_cmpstr (name, ==, SHARED_POOL_NAME);

  /* The first call makes the pool, with its creator's settings. */
  first_task = call_ok (first, 0);
  pool = pmt_pool_lookup (SHARED_POOL_NAME);
  g_assert_nonnull (pool);
  g_assert_cmpstr (pmt_pool_get_name (pool), ==, SHARED_POOL_NAME);
  g_assert_cmpuint (pmt_pool_get_max_workers (pool), ==, 3);

  second_task = call_ok (second, 1);

  /* Both run at once: the pool is not the second one's max-workers 1. */
  probe_wait_started (&probe, 2);
  first_pool = pmt_threaded_dup_pool (first);
  second_pool = pmt_threaded_dup_pool (second);
  g_assert_true (first_pool == pool);
  g_assert_true (second_pool == pool);
  g_assert_cmpuint (pmt_pool_get_max_workers (pool), ==, 3);

  g_mutex_lock (&probe.mutex);
  g_assert_true (probe.pools->pdata[0] == pool);
  g_assert_true (probe.pools->pdata[1] == pool);
  g_mutex_unlock (&probe.mutex);

  probe_open (&probe);
  pmt_test_assert_task_succeeded (first_task);
  pmt_test_assert_task_succeeded (second_task);

  /* A named pool outlives its Threaded: it is the registry's. */
  g_clear_object (&first);
  g_clear_object (&second);
  g_assert_cmpint (pmt_pool_get_state (pool), ==, PMT_POOL_STATE_ACTIVE);

  g_assert_true (pmt_pool_join (pool, SAFETY_TIMEOUT_USEC));
  g_assert_cmpint (pmt_pool_get_state (pool), ==, PMT_POOL_STATE_STOPPED);
  after_join = pmt_pool_lookup (SHARED_POOL_NAME);
  g_assert_null (after_join);

  probe_clear (&probe);
}

static void
test_pool_given (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(PmtPool) pool = NULL;
  g_autoptr(PmtPool) threaded_pool = NULL;
  g_autoptr(PmtPool) pool_after = NULL;
  g_autoptr(PmtTask) accepted = NULL;
  g_autoptr(PmtTask) refused = NULL;
  g_autoptr(GError) error = NULL;
  Item items[2];
  Probe *probe = &fixture->probe;

  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    {
      items[i].probe = probe;
      items[i].index = i;
    }

  pool = pmt_pool_new (NULL, 2, &error);
  g_assert_no_error (error);

  g_object_set (fixture->threaded, "pool", pool, NULL);
  g_assert_cmpint (pmt_threaded_get_mode (fixture->threaded), ==, PMT_THREADED_MODE_POOL);
  threaded_pool = pmt_threaded_dup_pool (fixture->threaded);
  g_assert_true (threaded_pool == pool);

  accepted = pmt_threaded_call (fixture->threaded, &items[0], item_notify, &error);
  g_assert_no_error (error);
  g_assert_nonnull (accepted);
  pmt_test_assert_task_succeeded (accepted);
  g_mutex_lock (&probe->mutex);
  g_assert_true (probe->pools->pdata[0] == pool);
  g_mutex_unlock (&probe->mutex);

  /* A stopped given pool is not replaced: the call is refused, and
   * its data freed. */
  g_assert_true (pmt_pool_shutdown (pool, PMT_SHUTDOWN_NONE, SAFETY_TIMEOUT_USEC));
  refused = pmt_threaded_call (fixture->threaded, &items[1], item_notify, &error);
  g_assert_null (refused);
  g_assert_error (error, PMT_ERROR, PMT_ERROR_STOPPED);

  g_mutex_lock (&probe->mutex);
  g_assert_cmpuint (probe->n_call_data_notifies, ==, 1);
  g_assert_true (probe->freed_call_data->pdata[0] == &items[1]);
  g_assert_cmpuint (probe->n_started, ==, 1);
  g_mutex_unlock (&probe->mutex);

  pool_after = pmt_threaded_dup_pool (fixture->threaded);
  g_assert_true (pool_after == pool);

  g_clear_object (&fixture->threaded);
  g_clear_object (&accepted);
  g_assert_cmpuint (probe_wait_counter (probe, &probe->n_call_data_notifies, 2), ==, 2);
}

static void
test_priority (void)
{
  g_autoptr(PmtPool) pool = NULL;
  g_autoptr(PmtThreaded) low = NULL;
  g_autoptr(PmtThreaded) high = NULL;
  g_autoptr(PmtTask) holder = NULL;
  g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;
  static const guint expected[] = { 2, 3, 0, 1, 4 };
  gint priority = 0;
  Probe gate;
  Probe probe;

  probe_init (&gate, FALSE);
  probe_init (&probe, TRUE);

  pool = pmt_pool_new (NULL, 1, &error);
  g_assert_no_error (error);

  /* Hold the only worker, so that every call below waits in the queue. */
  holder = pmt_pool_submit (pool, probe_func, &gate, NULL, &error);
  g_assert_no_error (error);
  probe_wait_started (&gate, 1);

  low = pmt_threaded_new (probe_func, &probe, NULL);
  high = pmt_threaded_new (probe_func, &probe, NULL);
  pmt_threaded_set_pool (low, pool);
  pmt_threaded_set_pool (high, pool);
  pmt_threaded_set_priority (low, 5);
  g_object_set (high, "priority", -5, NULL);
  g_assert_cmpint (pmt_threaded_get_priority (low), ==, 5);
  g_object_get (high, "priority", &priority, NULL);
  g_assert_cmpint (priority, ==, -5);

  g_ptr_array_add (tasks, call_ok (low, 0));
  g_ptr_array_add (tasks, call_ok (low, 1));
  g_ptr_array_add (tasks, call_ok (high, 2));
  g_ptr_array_add (tasks, call_ok (high, 3));
  g_ptr_array_add (tasks, call_ok (low, 4));
  for (guint i = 0; i < tasks->len; i++)
    g_assert_cmpint (pmt_task_get_priority (tasks->pdata[i]), ==, (i == 2 || i == 3) ? -5 : 5);

  probe_open (&gate);
  pmt_test_assert_task_succeeded (holder);
  for (guint i = 0; i < tasks->len; i++)
    pmt_test_assert_task_succeeded (tasks->pdata[i]);

  g_mutex_lock (&probe.mutex);
  g_assert_cmpuint (probe.data->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_cmpuint (GPOINTER_TO_UINT (probe.data->pdata[i]), ==, expected[i]);
  g_mutex_unlock (&probe.mutex);

  g_clear_object (&low);
  g_clear_object (&high);
  g_assert_true (pmt_pool_join (pool, SAFETY_TIMEOUT_USEC));
  probe_clear (&probe);
  probe_clear (&gate);
}

/* What a callback saw, and a gate to hold it. */
typedef struct
{
  GMutex mutex;
  GCond cond;
  gboolean open;
  guint n_calls;
  guint n_notifies;
  gboolean saw_result;
  gint64 result;
  gboolean saw_done;
  GThread *thread;
} CallbackProbe;

static void
callback_probe_init (CallbackProbe *cb,
                     gboolean       open)
{
  memset (cb, 0, sizeof *cb);
  g_mutex_init (&cb->mutex);
  g_cond_init (&cb->cond);
  cb->open = open;
}

static void
callback_probe_clear (CallbackProbe *cb)
{
  g_mutex_clear (&cb->mutex);
  g_cond_clear (&cb->cond);
}

static void
probe_callback (PmtTask  *task,
                gpointer  user_data)
{
  CallbackProbe *cb = user_data;
  const GValue *result = pmt_task_get_result (task);

  g_mutex_lock (&cb->mutex);
  cb->n_calls++;
  cb->saw_result = result != NULL && G_VALUE_HOLDS_INT64 (result);
  cb->result = cb->saw_result ? g_value_get_int64 (result) : -1;
  cb->saw_done = pmt_task_is_done (task);
  cb->thread = g_thread_self ();
  g_cond_broadcast (&cb->cond);
  while (!cb->open)
    g_cond_wait (&cb->cond, &cb->mutex);
  g_mutex_unlock (&cb->mutex);
}

static void
callback_probe_notify (gpointer user_data)
{
  CallbackProbe *cb = user_data;

  pmt_test_increment_uint (&cb->mutex, &cb->cond, &cb->n_notifies);
}

static void
callback_probe_wait (CallbackProbe *cb,
                     guint         *counter,
                     guint          n)
{
  pmt_test_assert_uint_reaches (&cb->mutex, &cb->cond, counter, n);
}

static void
test_store_result_false (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(PmtTask) discarded = NULL;
  g_autoptr(PmtTask) kept = NULL;
  gboolean store_result = TRUE;
  CallbackProbe cb;

  callback_probe_init (&cb, TRUE);
  pmt_threaded_set_callback (fixture->threaded, probe_callback, &cb, NULL);
  g_assert_true (pmt_threaded_get_store_result (fixture->threaded));

  pmt_threaded_set_store_result (fixture->threaded, FALSE);
  g_object_get (fixture->threaded, "store-result", &store_result, NULL);
  g_assert_false (store_result);

  discarded = call_ok (fixture->threaded, 7);
  g_assert_false (pmt_task_get_store_result (discarded));
  pmt_test_assert_task_succeeded (discarded);
  g_assert_null (pmt_task_get_result (discarded));

  /* The callback still saw it. */
  g_mutex_lock (&cb.mutex);
  g_assert_cmpuint (cb.n_calls, ==, 1);
  g_assert_true (cb.saw_result);
  g_assert_cmpint (cb.result, ==, 1007);
  g_mutex_unlock (&cb.mutex);

  /* Kept again once store-result is back on. */
  g_object_set (fixture->threaded, "store-result", TRUE, NULL);
  kept = call_ok (fixture->threaded, 8);
  g_assert_true (pmt_task_get_store_result (kept));
  pmt_test_assert_task_succeeded (kept);
  g_assert_cmpint (pmt_test_task_get_int (kept), ==, 1008);

  assert_worker_thread_exits (pmt_task_get_worker (discarded));
  assert_worker_thread_exits (pmt_task_get_worker (kept));

  g_clear_object (&fixture->threaded);
  g_clear_object (&discarded);
  g_clear_object (&kept);
  callback_probe_clear (&cb);
}

static void
test_callback_before_waiters (Fixture       *fixture,
                              gconstpointer  data)
{
  g_autoptr(PmtTask) task = NULL;
  CallbackProbe cb;
  Probe *probe = &fixture->probe;

  callback_probe_init (&cb, FALSE);
  pmt_threaded_set_callback (fixture->threaded, probe_callback, &cb, callback_probe_notify);

  task = call_ok (fixture->threaded, 3);
  callback_probe_wait (&cb, &cb.n_calls, 1);

  /* The callback runs, after the function, on the worker, while the task
   * is not done: nobody waiting has woken yet. */
  g_assert_false (pmt_task_wait (task, 0));
  g_assert_false (pmt_task_is_done (task));
  g_mutex_lock (&cb.mutex);
  g_assert_false (cb.saw_done);
  g_assert_true (cb.saw_result);
  g_assert_cmpint (cb.result, ==, 1003);
  g_assert_true (cb.thread != g_thread_self ());
  g_mutex_unlock (&cb.mutex);
  g_mutex_lock (&probe->mutex);
  g_assert_true (probe->threads->pdata[0] == cb.thread);
  g_mutex_unlock (&probe->mutex);

  pmt_test_set_flag (&cb.mutex, &cb.cond, &cb.open);

  pmt_test_assert_task_succeeded (task);
  g_assert_cmpint (pmt_test_task_get_int (task), ==, 1003);
  assert_worker_thread_exits (pmt_task_get_worker (task));

  /* The callback's data goes once neither the Threaded nor a task needs
   * it. */
  g_mutex_lock (&cb.mutex);
  g_assert_cmpuint (cb.n_notifies, ==, 0);
  g_assert_cmpuint (cb.n_calls, ==, 1);
  g_mutex_unlock (&cb.mutex);
  g_clear_object (&fixture->threaded);
  callback_probe_wait (&cb, &cb.n_notifies, 1);

  g_clear_object (&task);
  g_mutex_lock (&cb.mutex);
  g_assert_cmpuint (cb.n_notifies, ==, 1);
  g_mutex_unlock (&cb.mutex);

  callback_probe_clear (&cb);
}

typedef struct
{
  guint n_completed;
  GThread *thread;
  gboolean owner;
  GMainContext *context;
} CompletedRecord;

static void
completed_cb (PmtTask  *task,
              gpointer  user_data)
{
  CompletedRecord *record = user_data;

  record->n_completed++;
  record->thread = g_thread_self ();
  record->owner = g_main_context_is_owner (record->context);
}

static void
test_main_context (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(GMainContext) threaded_context = NULL;
  CompletedRecord record = { 0, NULL, FALSE, context };

  pmt_threaded_set_main_context (fixture->threaded, context);
  g_assert_true (pmt_threaded_get_main_context (fixture->threaded) == context);
  g_object_get (fixture->threaded, "main-context", &threaded_context, NULL);
  g_assert_true (threaded_context == context);

  task = call_ok (fixture->threaded, 4);
  g_assert_true (pmt_task_get_main_context (task) == context);

  /* Nobody iterates the context yet: the waiters wake, completed waits
   * for the context. */
  g_signal_connect (task, "completed", G_CALLBACK (completed_cb), &record);
  pmt_test_assert_task_succeeded (task);
  g_assert_cmpuint (record.n_completed, ==, 0);

  pmt_test_iterate_until_uint (context, &record.n_completed, 1);

  g_assert_cmpuint (record.n_completed, ==, 1);
  g_assert_true (record.thread == g_thread_self ());
  g_assert_true (record.owner);

  /* Emitted once only. */
  while (g_main_context_iteration (context, FALSE))
    ;
  g_assert_cmpuint (record.n_completed, ==, 1);

  assert_worker_thread_exits (pmt_task_get_worker (task));

  g_clear_object (&fixture->threaded);
  g_clear_object (&task);
}

#define N_LIMITED_CALLS 6
#define LIMIT 2

static void
test_limiter_non_blocking (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (LIMIT);
  g_autoptr(PmtPool) pool = NULL;
  gboolean blocking = TRUE;
  GThread *thread;
  Caller caller;
  Probe *probe = &fixture->probe;

  g_object_set (fixture->threaded, "mode", PMT_THREADED_MODE_POOL, "pool-max-workers", 4, NULL);
  pmt_threaded_set_limiter (fixture->threaded, limiter, FALSE);
  g_assert_true (pmt_threaded_get_limiter (fixture->threaded) == limiter);
  g_assert_false (pmt_threaded_get_limiter_blocking (fixture->threaded));
  g_object_get (fixture->threaded, "limiter-blocking", &blocking, NULL);
  g_assert_false (blocking);

  /* With the limiter full, no call blocks, and no task runs. */
  g_assert_true (pmt_limiter_try_acquire (limiter));
  g_assert_true (pmt_limiter_try_acquire (limiter));
  thread = caller_start (&caller, fixture->threaded, N_LIMITED_CALLS);
  g_assert_cmpuint (caller_wait_returned (&caller, N_LIMITED_CALLS), ==, N_LIMITED_CALLS);
  g_thread_join (thread);

  for (guint i = 0; i < N_LIMITED_CALLS; i++)
    g_assert_true (pmt_task_get_limiter (caller.tasks->pdata[i]) == limiter);

  /* The tasks wait for the limiter in the pool's four workers. */
  pool = pmt_threaded_dup_pool (fixture->threaded);
  g_assert_nonnull (pool);
  g_assert_true (wait_property (limiter, "n-waiting", 4));
  g_assert_true (wait_property (pool, "n-queued", N_LIMITED_CALLS - 4));
  g_assert_cmpuint (probe_get_n_started (probe), ==, 0);

  /* Let them in two by two: never more than the limit at once. */
  pmt_limiter_release (limiter);
  pmt_limiter_release (limiter);
  for (guint n = LIMIT; n <= N_LIMITED_CALLS; n += LIMIT)
    {
      probe_wait_started (probe, n);
      g_mutex_lock (&probe->mutex);
      g_assert_cmpuint (probe->n_inside, ==, LIMIT);
      g_mutex_unlock (&probe->mutex);
      probe_give_tokens (probe, LIMIT);
    }

  for (guint i = 0; i < N_LIMITED_CALLS; i++)
    pmt_test_assert_task_succeeded (caller.tasks->pdata[i]);

  g_mutex_lock (&probe->mutex);
  g_assert_cmpuint (probe->n_started, ==, N_LIMITED_CALLS);
  g_assert_cmpuint (probe->max_inside, ==, LIMIT);
  g_mutex_unlock (&probe->mutex);
  g_assert_true (wait_property (limiter, "available", LIMIT));
  g_assert_cmpuint (pmt_limiter_get_n_waiting (limiter), ==, 0);

  g_clear_object (&fixture->threaded);
  g_assert_true (pmt_pool_shutdown (pool, PMT_SHUTDOWN_NONE, SAFETY_TIMEOUT_USEC));
  caller_clear (&caller);
}

static void
test_limiter_blocking (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (LIMIT);
  g_autoptr(PmtPool) pool = NULL;
  GThread *thread;
  Caller caller;
  Probe *probe = &fixture->probe;

  g_object_set (fixture->threaded, "mode", PMT_THREADED_MODE_POOL, "pool-max-workers", 4, NULL);
  pmt_threaded_set_limiter (fixture->threaded, limiter, TRUE);
  g_assert_true (pmt_threaded_get_limiter_blocking (fixture->threaded));

  thread = caller_start (&caller, fixture->threaded, N_LIMITED_CALLS);

  /* Two calls went through; the third blocks in the caller's thread. */
  probe_wait_started (probe, 2);
  g_assert_true (wait_property (limiter, "n-waiting", 1));
  g_assert_cmpuint (caller_get_n_returned (&caller), ==, 2);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 0);

  /* The tasks do not take the limiter themselves. */
  g_mutex_lock (&caller.mutex);
  g_assert_null (pmt_task_get_limiter (caller.tasks->pdata[0]));
  g_mutex_unlock (&caller.mutex);

  /* Done tasks let the next calls through, two at a time. */
  probe_give_tokens (probe, LIMIT);
  probe_wait_started (probe, 4);
  g_assert_true (wait_property (limiter, "n-waiting", 1));
  g_assert_cmpuint (caller_get_n_returned (&caller), ==, 4);
  g_mutex_lock (&probe->mutex);
  g_assert_cmpuint (probe->n_inside, ==, LIMIT);
  g_mutex_unlock (&probe->mutex);

  probe_give_tokens (probe, LIMIT);
  g_assert_cmpuint (caller_wait_returned (&caller, N_LIMITED_CALLS), ==, N_LIMITED_CALLS);
  g_thread_join (thread);
  probe_wait_started (probe, N_LIMITED_CALLS);
  probe_give_tokens (probe, LIMIT);

  for (guint i = 0; i < N_LIMITED_CALLS; i++)
    pmt_test_assert_task_succeeded (caller.tasks->pdata[i]);

  g_mutex_lock (&probe->mutex);
  g_assert_cmpuint (probe->max_inside, ==, LIMIT);
  for (guint i = 0; i < N_LIMITED_CALLS; i++)
    g_assert_cmpuint (GPOINTER_TO_UINT (probe->data->pdata[i]), <, N_LIMITED_CALLS);
  g_mutex_unlock (&probe->mutex);

  /* Each task gave its hold back. */
  g_assert_true (wait_property (limiter, "available", LIMIT));
  g_assert_cmpuint (pmt_limiter_get_n_waiting (limiter), ==, 0);

  pool = pmt_threaded_dup_pool (fixture->threaded);
  g_clear_object (&fixture->threaded);
  g_assert_true (pmt_pool_shutdown (pool, PMT_SHUTDOWN_NONE, SAFETY_TIMEOUT_USEC));
  caller_clear (&caller);
}

static void
test_limiter_blocking_released (Fixture       *fixture,
                                gconstpointer  data)
{
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (LIMIT);
  g_autoptr(PmtPool) pool = NULL;
  g_autoptr(PmtTask) running = NULL;
  g_autoptr(PmtTask) cancelled = NULL;
  g_autoptr(PmtTask) failing = NULL;
  Probe *probe = &fixture->probe;

  probe->fail_index = 2;
  g_object_set (fixture->threaded,
                "mode", PMT_THREADED_MODE_POOL,
                "pool-max-workers", 1,
                "limiter", limiter,
                "limiter-blocking", TRUE,
                NULL);
  g_assert_true (pmt_threaded_get_limiter (fixture->threaded) == limiter);
  g_assert_true (pmt_threaded_get_limiter_blocking (fixture->threaded));

  /* One holds the only worker, the next waits in the pool's queue: both
   * hold the limiter. */
  running = call_ok (fixture->threaded, 0);
  probe_wait_started (probe, 1);
  cancelled = call_ok (fixture->threaded, 1);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 0);

  /* Cancelled before it runs, a task gives its hold back. */
  pmt_task_cancel (cancelled);
  pmt_test_assert_task_cancelled (cancelled);
  g_assert_true (wait_property (limiter, "available", 1));

  /* A failing task gives its hold back too. */
  failing = call_ok (fixture->threaded, 2);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 0);
  probe_open (probe);
  pmt_test_assert_task_succeeded (running);
  g_assert_true (pmt_task_wait (failing, SAFETY_TIMEOUT_USEC));
  g_assert_cmpint (pmt_task_get_state (failing), ==, PMT_TASK_STATE_FAILED);
  g_assert_error (pmt_task_get_error (failing), G_IO_ERROR, G_IO_ERROR_FAILED);

  g_assert_true (wait_property (limiter, "available", LIMIT));
  g_assert_cmpuint (pmt_limiter_get_n_waiting (limiter), ==, 0);

  g_mutex_lock (&probe->mutex);
  g_assert_cmpuint (probe->n_started, ==, 2);
  g_assert_true (probe->data->pdata[0] == GUINT_TO_POINTER (0));
  g_assert_true (probe->data->pdata[1] == GUINT_TO_POINTER (2));
  g_mutex_unlock (&probe->mutex);

  pool = pmt_threaded_dup_pool (fixture->threaded);
  g_clear_object (&fixture->threaded);
  g_assert_true (pmt_pool_shutdown (pool, PMT_SHUTDOWN_NONE, SAFETY_TIMEOUT_USEC));
}

/* Runs inside pmt_threaded_call(), in the calling thread: the pool
 * notifies n-submitted there, right after the push.  Waiting for the
 * pool's work makes the task done before the call returns. */
static void
wait_for_pool_work (PmtPool    *pool,
                    GParamSpec *pspec,
                    gpointer    user_data)
{
  g_assert_true (pmt_pool_wait_completion (pool, SAFETY_TIMEOUT_USEC, FALSE));
}

/* A blocking limiter is released once, and the call lets go of its
 * reference to it, also when the task is done before the call could
 * hand it the limiter (found by the model tests: the limiter leaked). */
static void
test_limiter_blocking_done_at_once (void)
{
  PmtLimiter *limiter = pmt_limiter_new (1);
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 1);
  g_autoptr(PmtThreaded) threaded = pmt_threaded_new (pmt_test_return_index_func,
                                                      GUINT_TO_POINTER (7), NULL);
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(GError) error = NULL;
  gulong handler;

  /* The pool notifies before it starts workers for the task: one must
   * be there already. */
  pmt_pool_set_min_workers (pool, 1);
  pmt_threaded_set_pool (threaded, pool);
  pmt_threaded_set_limiter (threaded, limiter, TRUE);
  handler = g_signal_connect (pool, "notify::n-submitted", G_CALLBACK (wait_for_pool_work), NULL);

  task = pmt_threaded_call (threaded, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (pmt_task_is_done (task));
  g_assert_cmpint (pmt_test_task_get_int (task), ==, 7);
  g_signal_handler_disconnect (pool, handler);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 1);

  g_clear_object (&task);
  g_clear_object (&threaded);
  g_assert_true (pmt_pool_shutdown (pool, PMT_SHUTDOWN_NONE, SAFETY_TIMEOUT_USEC));
  g_object_add_weak_pointer (G_OBJECT (limiter), (gpointer *) &limiter);
  g_object_unref (limiter);
  g_assert_null (limiter);
}

static void
test_programming_errors (void)
{
  g_autoptr(PmtThreaded) threaded = NULL;
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(PmtWorker) worker = NULL;
  g_autoptr(PmtPool) pool = NULL;
  g_autoptr(GError) error = NULL;

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*func != NULL*");
  threaded = pmt_threaded_new (NULL, NULL, NULL);
  g_test_assert_expected_messages ();
  g_assert_null (threaded);

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_THREADED*");
  task = pmt_threaded_call (NULL, NULL, NULL, &error);
  g_test_assert_expected_messages ();
  g_assert_null (task);
  g_assert_no_error (error);

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_THREADED*");
  pmt_threaded_set_mode (NULL, PMT_THREADED_MODE_DAEMON);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_THREADED*");
  worker = pmt_threaded_dup_worker (NULL);
  g_test_assert_expected_messages ();
  g_assert_null (worker);

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_THREADED*");
  pool = pmt_threaded_dup_pool (NULL);
  g_test_assert_expected_messages ();
  g_assert_null (pool);

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_THREADED*");
  pmt_threaded_set_limiter (NULL, NULL, FALSE);
  g_test_assert_expected_messages ();
}

/* A PmtThreaded made without a function, as bindings can make one, is
 * refused where it is used. */
static void
test_bare_threaded (void)
{
  g_autoptr(PmtThreaded) threaded = g_object_new (PMT_TYPE_THREADED, NULL);
  g_autoptr(GError) error = NULL;
  PmtTask *task;

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*has no function*");
  task = pmt_threaded_call (threaded, NULL, NULL, &error);
  g_test_assert_expected_messages ();
  g_assert_null (task);
  g_assert_no_error (error);
}

static void
return_call_value_func (PmtTask  *task,
                        gpointer  user_data)
{
  pmt_task_return_value (task, pmt_task_get_task_value (task));
}

/* call() for bindings: the call's data is a GValue. */
static void
test_call_value (void)
{
  g_autoptr(PmtThreaded) threaded = pmt_threaded_new (return_call_value_func, NULL, NULL);
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(GError) error = NULL;
  GValue value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_INT64);
  g_value_set_int64 (&value, -7);
  task = pmt_threaded_call_value (threaded, &value, &error);
  g_value_unset (&value);
  g_assert_no_error (error);
  g_assert_true (pmt_task_wait (task, 10 * G_USEC_PER_SEC));
  g_assert_cmpint (g_value_get_int64 (pmt_task_get_result (task)), ==, -7);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/pmt/threaded/thread/new-worker-per-call", Fixture, NULL,
              fixture_setup_shut, test_thread_new_worker_per_call, fixture_teardown);
  g_test_add_func ("/pmt/threaded/thread/data-notifies", test_thread_data_notifies);
  g_test_add ("/pmt/threaded/daemon/same-thread-in-order", Fixture, NULL,
              fixture_setup_shut, test_daemon_same_thread_in_order, fixture_teardown);
  g_test_add ("/pmt/threaded/daemon/respawn-after-kill", Fixture, NULL,
              fixture_setup_shut, test_daemon_respawn_after_kill, fixture_teardown);
  g_test_add ("/pmt/threaded/daemon/respawn-after-stop", Fixture, NULL,
              fixture_setup_shut, test_daemon_respawn_after_stop, fixture_teardown);
  g_test_add_func ("/pmt/threaded/daemon/shared-worker", test_daemon_shared_worker);
  g_test_add ("/pmt/threaded/daemon/worker-idle-timeout", Fixture, NULL,
              fixture_setup_open, test_daemon_worker_idle_timeout, fixture_teardown);
  g_test_add ("/pmt/threaded/pool/private", Fixture, NULL,
              fixture_setup_shut, test_pool_private, fixture_teardown);
  g_test_add ("/pmt/threaded/pool/private-remade", Fixture, NULL,
              fixture_setup_open, test_pool_private_remade, fixture_teardown);
  g_test_add ("/pmt/threaded/pool/creation-properties", Fixture, NULL,
              fixture_setup_open, test_pool_creation_properties, fixture_teardown);
  g_test_add_func ("/pmt/threaded/pool/name-shared", test_pool_name_shared);
  g_test_add ("/pmt/threaded/pool/given", Fixture, NULL,
              fixture_setup_open, test_pool_given, fixture_teardown);
  g_test_add_func ("/pmt/threaded/priority", test_priority);
  g_test_add ("/pmt/threaded/store-result/false", Fixture, NULL,
              fixture_setup_open, test_store_result_false, fixture_teardown);
  g_test_add ("/pmt/threaded/callback/before-waiters", Fixture, NULL,
              fixture_setup_open, test_callback_before_waiters, fixture_teardown);
  g_test_add ("/pmt/threaded/main-context", Fixture, NULL,
              fixture_setup_open, test_main_context, fixture_teardown);
  g_test_add ("/pmt/threaded/limiter/non-blocking", Fixture, NULL,
              fixture_setup_shut, test_limiter_non_blocking, fixture_teardown);
  g_test_add ("/pmt/threaded/limiter/blocking", Fixture, NULL,
              fixture_setup_shut, test_limiter_blocking, fixture_teardown);
  g_test_add ("/pmt/threaded/limiter/blocking-released", Fixture, NULL,
              fixture_setup_shut, test_limiter_blocking_released, fixture_teardown);
  g_test_add_func ("/pmt/threaded/limiter/blocking-done-at-once",
                   test_limiter_blocking_done_at_once);
  g_test_add_func ("/pmt/threaded/programming-errors", test_programming_errors);

  g_test_add_func ("/pmt/threaded/bare/call-is-critical", test_bare_threaded);

  g_test_add_func ("/pmt/threaded/call-value", test_call_value);

  return g_test_run ();
}
