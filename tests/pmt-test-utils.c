/* pmt-test-utils.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "pmt-test-utils.h"

/* Guarded state {{{1 */

/* The state these helpers handle is guarded by a mutex, and a condition
 * is broadcast on each change, so that a wait loses no wake-up.  Every
 * wait is bounded. */

/**
 * pmt_test_read_uint:
 * @mutex: the mutex that guards @value
 * @value: a counter
 *
 * Reads *@value under @mutex.
 *
 * Returns: *@value
 */
guint
pmt_test_read_uint (GMutex      *mutex,
                    const guint *value)
{
  guint ret;

  g_mutex_lock (mutex);
  ret = *value;
  g_mutex_unlock (mutex);

  return ret;
}

/**
 * pmt_test_increment_uint:
 * @mutex: the mutex that guards @value
 * @cond: the condition to broadcast
 * @value: a counter
 *
 * Increments *@value under @mutex and wakes its waiters.
 */
void
pmt_test_increment_uint (GMutex *mutex,
                         GCond  *cond,
                         guint  *value)
{
  g_mutex_lock (mutex);
  (*value)++;
  g_cond_broadcast (cond);
  g_mutex_unlock (mutex);
}

/**
 * pmt_test_wait_uint:
 * @mutex: the mutex that guards @value
 * @cond: broadcast whenever @value changes
 * @value: a counter
 * @at_least: the value to wait for
 * @timeout_usec: the bound on the wait
 *
 * Waits until *@value is at least @at_least, or @timeout_usec has passed.
 * It does not assert: the caller checks the value it returns, which was
 * read under @mutex when the wait ended.
 *
 * Returns: *@value when the wait ended
 */
guint
pmt_test_wait_uint (GMutex      *mutex,
                    GCond       *cond,
                    const guint *value,
                    guint        at_least,
                    gint64       timeout_usec)
{
  gint64 end_time = g_get_monotonic_time () + timeout_usec;
  guint ret;

  g_mutex_lock (mutex);
  while (*value < at_least)
    {
      if (!g_cond_wait_until (cond, mutex, end_time))
        break;
    }
  ret = *value;
  g_mutex_unlock (mutex);

  return ret;
}

/**
 * pmt_test_assert_uint_reaches:
 * @mutex: the mutex that guards @value
 * @cond: broadcast whenever @value changes
 * @value: a counter
 * @n: the value expected
 *
 * Waits at most %PMT_TEST_SAFETY_TIMEOUT_USEC until *@value is at least
 * @n, and asserts that it is then exactly @n: less (it never came) and
 * more (one too many) both fail the test.
 */
void
pmt_test_assert_uint_reaches (GMutex      *mutex,
                              GCond       *cond,
                              const guint *value,
                              guint        n)
{
  guint reached = pmt_test_wait_uint (mutex, cond, value, n, PMT_TEST_SAFETY_TIMEOUT_USEC);

  g_assert_cmpuint (reached, ==, n);
}

/**
 * pmt_test_set_flag:
 * @mutex: the mutex that guards @flag
 * @cond: the condition to broadcast
 * @flag: a flag
 *
 * Sets *@flag under @mutex and wakes its waiters.
 */
void
pmt_test_set_flag (GMutex   *mutex,
                   GCond    *cond,
                   gboolean *flag)
{
  g_mutex_lock (mutex);
  *flag = TRUE;
  g_cond_broadcast (cond);
  g_mutex_unlock (mutex);
}

/* Called with @mutex held; returns with it held. */
static gboolean
wait_flag_locked (GMutex         *mutex,
                  GCond          *cond,
                  const gboolean *flag,
                  gint64          end_time)
{
  while (!*flag)
    {
      if (!g_cond_wait_until (cond, mutex, end_time))
        break;
    }

  return *flag;
}

/**
 * pmt_test_wait_flag:
 * @mutex: the mutex that guards @flag
 * @cond: broadcast when @flag is set
 * @flag: a flag that is only ever set
 * @timeout_usec: the bound on the wait
 *
 * Waits until *@flag is set, or @timeout_usec has passed.
 *
 * Returns: *@flag when the wait ended, as read under @mutex
 */
gboolean
pmt_test_wait_flag (GMutex         *mutex,
                    GCond          *cond,
                    const gboolean *flag,
                    gint64          timeout_usec)
{
  gint64 end_time = g_get_monotonic_time () + timeout_usec;
  gboolean ret;

  g_mutex_lock (mutex);
  ret = wait_flag_locked (mutex, cond, flag, end_time);
  g_mutex_unlock (mutex);

  return ret;
}

/* Gates {{{1 */

/* A gate: a task function counts itself in @n_started, then blocks until
 * the test opens the gate (or, for pmt_test_gate_cancellable_func(), until
 * its cancellable is triggered).  A gate can also serve as a one-shot
 * event: one thread opens it, another waits for it to be open. */

/**
 * pmt_test_gate_init:
 * @gate: a gate
 *
 * Initializes @gate: shut, nobody started, not cancelled.
 */
void
pmt_test_gate_init (PmtTestGate *gate)
{
  g_mutex_init (&gate->mutex);
  g_cond_init (&gate->cond);
  gate->n_started = 0;
  gate->open = FALSE;
  gate->cancelled = FALSE;
}

/**
 * pmt_test_gate_clear:
 * @gate: a gate nobody waits on any more
 *
 * Frees the resources of @gate.
 */
void
pmt_test_gate_clear (PmtTestGate *gate)
{
  g_mutex_clear (&gate->mutex);
  g_cond_clear (&gate->cond);
}

/**
 * pmt_test_gate_open:
 * @gate: a gate
 *
 * Opens @gate for good and wakes everything blocked on it.
 */
void
pmt_test_gate_open (PmtTestGate *gate)
{
  pmt_test_set_flag (&gate->mutex, &gate->cond, &gate->open);
}

/**
 * pmt_test_gate_wait_open:
 * @gate: a gate
 *
 * Blocks until @gate is open, without counting the caller as started.  A
 * gate that stays shut for %PMT_TEST_SAFETY_TIMEOUT_USEC fails the test.
 */
void
pmt_test_gate_wait_open (PmtTestGate *gate)
{
  g_assert_true (pmt_test_wait_flag (&gate->mutex, &gate->cond, &gate->open,
                                     PMT_TEST_SAFETY_TIMEOUT_USEC));
}

/**
 * pmt_test_gate_wait_started:
 * @gate: a gate
 * @n: the number of callers expected
 *
 * Waits until @n callers entered @gate, and asserts that exactly @n did:
 * fewer within %PMT_TEST_SAFETY_TIMEOUT_USEC, or more, fail the test.
 */
void
pmt_test_gate_wait_started (PmtTestGate *gate,
                            guint        n)
{
  pmt_test_assert_uint_reaches (&gate->mutex, &gate->cond, &gate->n_started, n);
}

/**
 * pmt_test_gate_get_n_started:
 * @gate: a gate
 *
 * Returns: how many callers entered @gate so far
 */
guint
pmt_test_gate_get_n_started (PmtTestGate *gate)
{
  return pmt_test_read_uint (&gate->mutex, &gate->n_started);
}

/**
 * pmt_test_gate_enter:
 * @gate: a gate
 *
 * Counts the caller as started, then blocks until @gate opens.  The wait
 * has no bound of its own: the test opens every gate it shuts.
 */
void
pmt_test_gate_enter (PmtTestGate *gate)
{
  g_mutex_lock (&gate->mutex);
  gate->n_started++;
  g_cond_broadcast (&gate->cond);
  while (!gate->open)
    g_cond_wait (&gate->cond, &gate->mutex);
  g_mutex_unlock (&gate->mutex);
}

/**
 * pmt_test_gate_pass:
 * @gate: a gate
 *
 * Like pmt_test_gate_enter(), but bounded: a gate that stays shut for
 * %PMT_TEST_SAFETY_TIMEOUT_USEC fails the test.
 */
void
pmt_test_gate_pass (PmtTestGate *gate)
{
  gint64 end_time = g_get_monotonic_time () + PMT_TEST_SAFETY_TIMEOUT_USEC;
  gboolean open;

  g_mutex_lock (&gate->mutex);
  gate->n_started++;
  g_cond_broadcast (&gate->cond);
  open = wait_flag_locked (&gate->mutex, &gate->cond, &gate->open, end_time);
  g_mutex_unlock (&gate->mutex);

  g_assert_true (open);
}

/**
 * pmt_test_gate_func:
 * @task: the running task
 * @user_data: a #PmtTestGate
 *
 * A #PmtTaskFunc that enters the gate with pmt_test_gate_enter() and
 * returns nothing.
 */
void
pmt_test_gate_func (PmtTask  *task,
                    gpointer  user_data)
{
  pmt_test_gate_enter (user_data);
}

static void
gate_cancelled_cb (GCancellable *cancellable,
                   gpointer      user_data)
{
  PmtTestGate *gate = user_data;

  pmt_test_set_flag (&gate->mutex, &gate->cond, &gate->cancelled);
}

/**
 * pmt_test_gate_cancellable_func:
 * @task: the running task
 * @user_data: a #PmtTestGate
 *
 * A #PmtTaskFunc that blocks like pmt_test_gate_func() but also honours
 * the task's cancellable: once that is triggered it leaves the gate and
 * reports %G_IO_ERROR_CANCELLED.
 */
void
pmt_test_gate_cancellable_func (PmtTask  *task,
                                gpointer  user_data)
{
  PmtTestGate *gate = user_data;
  GCancellable *cancellable = pmt_task_get_cancellable (task);
  GError *error = NULL;
  gulong handler_id;

  handler_id = g_cancellable_connect (cancellable, G_CALLBACK (gate_cancelled_cb), gate, NULL);

  g_mutex_lock (&gate->mutex);
  gate->n_started++;
  g_cond_broadcast (&gate->cond);
  while (!gate->open && !gate->cancelled)
    g_cond_wait (&gate->cond, &gate->mutex);
  g_mutex_unlock (&gate->mutex);

  g_cancellable_disconnect (cancellable, handler_id);

  if (g_cancellable_set_error_if_cancelled (cancellable, &error))
    pmt_task_return_error (task, error);
}

/* Watchdog {{{1 */

struct _PmtTestWatchdog
{
  GMutex mutex;
  GCond cond;
  gboolean done;
  char *path;
  gint64 timeout_usec;
  char *diagnosis;
  GThread *thread;
};

static gpointer
watchdog_thread (gpointer data)
{
  PmtTestWatchdog *watchdog = data;
  gint64 end_time = g_get_monotonic_time () + watchdog->timeout_usec;
  gboolean done;

  g_mutex_lock (&watchdog->mutex);
  while (!watchdog->done)
    {
      if (!g_cond_wait_until (&watchdog->cond, &watchdog->mutex, end_time))
        break;
    }
  done = watchdog->done;
  g_mutex_unlock (&watchdog->mutex);

  if (!done)
    g_error ("%s: still running after %d s: %s",
             watchdog->path, (int) (watchdog->timeout_usec / G_USEC_PER_SEC),
             watchdog->diagnosis);

  return NULL;
}

/**
 * pmt_test_watchdog_start:
 * @path: the test path, for the message
 * @timeout_usec: how long the test may run
 * @diagnosis: the end of the message, a guess at what went wrong
 *
 * Starts a thread that aborts the program with "@path: still running
 * after N s: @diagnosis" unless pmt_test_watchdog_stop() comes within
 * @timeout_usec.  A test that blocks forever by design when it is broken
 * (a deadlock, a rendezvous that never comes) so fails instead of
 * hanging.
 *
 * Returns: (transfer full): the watchdog, for pmt_test_watchdog_stop()
 */
PmtTestWatchdog *
pmt_test_watchdog_start (const char *path,
                         gint64      timeout_usec,
                         const char *diagnosis)
{
  PmtTestWatchdog *watchdog = g_new0 (PmtTestWatchdog, 1);

  g_mutex_init (&watchdog->mutex);
  g_cond_init (&watchdog->cond);
  watchdog->path = g_strdup (path);
  watchdog->timeout_usec = timeout_usec;
  watchdog->diagnosis = g_strdup (diagnosis);
  watchdog->thread = g_thread_new ("watchdog", watchdog_thread, watchdog);

  return watchdog;
}

/**
 * pmt_test_watchdog_stop:
 * @watchdog: (transfer full): a watchdog
 *
 * Stops @watchdog, joins its thread and frees it.
 */
void
pmt_test_watchdog_stop (PmtTestWatchdog *watchdog)
{
  g_mutex_lock (&watchdog->mutex);
  watchdog->done = TRUE;
  g_cond_signal (&watchdog->cond);
  g_mutex_unlock (&watchdog->mutex);
  g_thread_join (watchdog->thread);

  g_mutex_clear (&watchdog->mutex);
  g_cond_clear (&watchdog->cond);
  g_free (watchdog->path);
  g_free (watchdog->diagnosis);
  g_free (watchdog);
}

/* Guarded tests {{{1 */

typedef struct
{
  char *path;
  GTestDataFunc func;
  gconstpointer data;
  gint64 timeout_usec;
} GuardedTest;

static void
guarded_test_free (gpointer data)
{
  GuardedTest *test = data;

  g_free (test->path);
  g_free (test);
}

/* Every registration, for the life of the program.  GLib frees a test's
 * data in its teardown, so only for the tests it runs: a subprocess of
 * g_test_trap_subprocess() runs one, and would leak the others. */
static GPtrArray *guarded_tests;

static void
run_guarded (gconstpointer data)
{
  const GuardedTest *test = data;
  PmtTestWatchdog *watchdog;

  watchdog = pmt_test_watchdog_start (test->path, test->timeout_usec,
                                      "a deadlock, or a wait that never ends");
  test->func (test->data);
  pmt_test_watchdog_stop (watchdog);
}

/**
 * pmt_test_add_guarded:
 * @path: the test path
 * @data: data for @func
 * @func: the test
 * @timeout_usec: how long the test may run before the watchdog aborts
 *   the program
 *
 * g_test_add_data_func() with a watchdog: a test that deadlocks when the
 * library is broken fails instead of hanging the suite.
 */
void
pmt_test_add_guarded (const char    *path,
                      gconstpointer  data,
                      GTestDataFunc  func,
                      gint64         timeout_usec)
{
  GuardedTest *test = g_new0 (GuardedTest, 1);

  test->path = g_strdup (path);
  test->func = func;
  test->data = data;
  test->timeout_usec = timeout_usec;

  if (guarded_tests == NULL)
    guarded_tests = g_ptr_array_new_with_free_func (guarded_test_free);
  g_ptr_array_add (guarded_tests, test);
  g_test_add_data_func (path, test, run_guarded);
}

static void
call_test_func (gconstpointer data)
{
  ((GTestFunc) data) ();
}

/**
 * pmt_test_add_guarded_func:
 * @path: the test path
 * @func: the test
 * @timeout_usec: how long the test may run
 *
 * pmt_test_add_guarded() for a test without data.
 */
void
pmt_test_add_guarded_func (const char *path,
                           GTestFunc   func,
                           gint64      timeout_usec)
{
  pmt_test_add_guarded (path, (gconstpointer) func, call_test_func, timeout_usec);
}

/**
 * pmt_test_count_open_fds:
 *
 * Counts the file descriptors open in this process, from `/proc/self/fd`
 * (the directory's own descriptor excluded).
 *
 * Returns: the number of open descriptors
 */
guint
pmt_test_count_open_fds (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;

  return n - 1;
}

/* Later {{{1 */

typedef struct
{
  GDestroyNotify func;
  gpointer data;
} Later;

static gpointer
later_thread (gpointer data)
{
  Later *later = data;

  /* Not a synchronization: tests that use this pass whenever the call
   * comes; coming a little later only makes a wait that gives up at once
   * (the bug such tests look for) show. */
  g_usleep (20 * G_TIME_SPAN_MILLISECOND);
  later->func (later->data);
  g_free (later);

  return NULL;
}

/**
 * pmt_test_call_later:
 * @func: what to call, such as pmt_test_gate_open()
 * @data: its argument
 *
 * Calls @func (@data) from a new thread, a little later: for tests of
 * waits with huge timeouts, which must block until it comes rather than
 * give up at once.
 *
 * Returns: (transfer full): the thread, to join
 */
GThread *
pmt_test_call_later (GDestroyNotify func,
                     gpointer       data)
{
  Later *later = g_new (Later, 1);

  later->func = func;
  later->data = data;

  return g_thread_new ("pmt-test-later", later_thread, later);
}

/* Finalization {{{1 */

static void
finalize_watch_cb (gpointer  data,
                   GObject  *where_the_object_was)
{
  PmtTestFinalizeWatch *watch = data;

  pmt_test_set_flag (&watch->mutex, &watch->cond, &watch->finalized);
}

/**
 * pmt_test_finalize_watch_init:
 * @watch: a finalize watch
 * @object: (not nullable): the object to watch
 *
 * Initializes @watch and has it note, from whatever thread drops the last
 * reference, when @object is finalized.  Clear @watch only once that
 * happened.
 */
void
pmt_test_finalize_watch_init (PmtTestFinalizeWatch *watch,
                              gpointer              object)
{
  g_mutex_init (&watch->mutex);
  g_cond_init (&watch->cond);
  watch->finalized = FALSE;
  g_object_weak_ref (G_OBJECT (object), finalize_watch_cb, watch);
}

/**
 * pmt_test_finalize_watch_wait:
 * @watch: a finalize watch
 * @timeout_usec: the bound on the wait
 *
 * Waits until the object of @watch is finalized, or @timeout_usec has
 * passed.
 *
 * Returns: whether the object was finalized
 */
gboolean
pmt_test_finalize_watch_wait (PmtTestFinalizeWatch *watch,
                              gint64                timeout_usec)
{
  return pmt_test_wait_flag (&watch->mutex, &watch->cond, &watch->finalized, timeout_usec);
}

/**
 * pmt_test_finalize_watch_clear:
 * @watch: a finalize watch whose object was finalized
 *
 * Frees the resources of @watch.
 */
void
pmt_test_finalize_watch_clear (PmtTestFinalizeWatch *watch)
{
  g_mutex_clear (&watch->mutex);
  g_cond_clear (&watch->cond);
}

/* Main contexts {{{1 */

static gboolean
set_flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/**
 * pmt_test_add_flag_timeout:
 * @context: a main context
 * @timeout_usec: the delay
 * @flag: the flag to set
 *
 * Attaches to @context a timeout source that sets *@flag once
 * @timeout_usec has passed (rounded down to milliseconds), when @context
 * is iterated: the bound of pmt_test_iterate_until(), or the end of a run
 * of @context that shows something does not happen.  The caller destroys
 * and unrefs the source.
 *
 * Returns: (transfer full): the source
 */
GSource *
pmt_test_add_flag_timeout (GMainContext *context,
                           gint64        timeout_usec,
                           gboolean     *flag)
{
  GSource *source = g_timeout_source_new ((guint) (timeout_usec / 1000));

  g_source_set_callback (source, set_flag_cb, flag, NULL);
  g_source_attach (source, context);

  return source;
}

/**
 * pmt_test_iterate_until:
 * @context: (nullable): a main context, %NULL for the global default one
 * @predicate: the condition to wait for, called in this thread
 * @data: data for @predicate
 * @timeout_usec: the bound on the wait
 *
 * Iterates @context, blocking, until @predicate holds, and returns only
 * then.  @predicate is checked before the first iteration and after each
 * one, so what makes it hold must be done by a source or handler that
 * @context dispatches, or at least wake @context up.  A timeout source on
 * @context bounds the wait and wakes the last iteration up: the loop never
 * spins, and should @timeout_usec pass first, the test fails, with its
 * path in the message.
 */
void
pmt_test_iterate_until (GMainContext     *context,
                        PmtTestPredicate  predicate,
                        gpointer          data,
                        gint64            timeout_usec)
{
  gboolean timed_out = FALSE;
  GSource *timeout = pmt_test_add_flag_timeout (context, timeout_usec, &timed_out);
  gboolean held;

  while (!(held = predicate (data)) && !timed_out)
    g_main_context_iteration (context, TRUE);

  g_source_destroy (timeout);
  g_source_unref (timeout);

  if (!held)
    g_error ("%s: the awaited condition still did not hold after iterating its main "
             "context for %" G_GINT64_FORMAT " ms", g_test_get_path (), timeout_usec / 1000);
}

/**
 * pmt_test_flag_is_set:
 * @flag: a #gboolean that a callback run by the iterated context sets
 *
 * A #PmtTestPredicate for pmt_test_iterate_until(): whether *@flag is
 * set.  It reads @flag without a lock, so @flag is for the iterating
 * thread only.
 *
 * Returns: *@flag
 */
gboolean
pmt_test_flag_is_set (gpointer flag)
{
  return *(const gboolean *) flag;
}

/* A counter and the value to wait for: *@uint_value, or *@int_value read
 * atomically. */
typedef struct
{
  const guint *uint_value;
  const gint *int_value;
  gint64 at_least;
} CounterBound;

static gboolean
counter_reached (gpointer data)
{
  const CounterBound *bound = data;
  gint64 value;

  if (bound->int_value != NULL)
    value = g_atomic_int_get (bound->int_value);
  else
    value = *bound->uint_value;

  return value >= bound->at_least;
}

/**
 * pmt_test_iterate_until_uint:
 * @context: (nullable): a main context, %NULL for the global default one
 * @value: a counter that a source or handler dispatched by @context
 *   increments
 * @at_least: the value to wait for
 *
 * pmt_test_iterate_until() for a counter: iterates @context until *@value
 * is at least @at_least, and fails the test if it is not within
 * %PMT_TEST_SAFETY_TIMEOUT_USEC.
 *
 * Returns: *@value when the iterations ended, for the caller to check
 *   that it is not more
 */
guint
pmt_test_iterate_until_uint (GMainContext *context,
                             const guint  *value,
                             guint         at_least)
{
  CounterBound bound = { value, NULL, at_least };

  pmt_test_iterate_until (context, counter_reached, &bound, PMT_TEST_SAFETY_TIMEOUT_USEC);

  return *value;
}

/**
 * pmt_test_iterate_until_int:
 * @context: (nullable): a main context, %NULL for the global default one
 * @value: a #gint counter that a source or handler dispatched by @context
 *   increments atomically, as pmt_test_count_func() does
 * @at_least: the value to wait for
 *
 * pmt_test_iterate_until_uint() for an atomic #gint counter.
 *
 * Returns: *@value when the iterations ended
 */
gint
pmt_test_iterate_until_int (GMainContext *context,
                            const gint   *value,
                            gint          at_least)
{
  CounterBound bound = { NULL, value, at_least };

  pmt_test_iterate_until (context, counter_reached, &bound, PMT_TEST_SAFETY_TIMEOUT_USEC);

  return g_atomic_int_get (value);
}

/**
 * pmt_test_flush_context:
 * @context: a main context
 *
 * Dispatches what is ready in @context, without blocking, until nothing
 * is.
 */
void
pmt_test_flush_context (GMainContext *context)
{
  while (g_main_context_iteration (context, FALSE))
    ;
}

/* Counters {{{1 */

/**
 * pmt_test_count_func:
 * @task: the running task
 * @user_data: (nullable): a #gint counter
 *
 * A #PmtTaskFunc that atomically increments the counter, if any, and
 * returns nothing.
 */
void
pmt_test_count_func (PmtTask  *task,
                     gpointer  user_data)
{
  gint *n_runs = user_data;

  if (n_runs != NULL)
    g_atomic_int_inc (n_runs);
}

/**
 * pmt_test_count_completed_cb:
 * @task: the task
 * @user_data: a #gint counter
 *
 * A #PmtTask::completed handler that atomically increments the counter.
 */
void
pmt_test_count_completed_cb (PmtTask  *task,
                             gpointer  user_data)
{
  g_atomic_int_inc ((gint *) user_data);
}

/**
 * pmt_test_count_notify:
 * @user_data: a #gint counter
 *
 * A #GDestroyNotify that atomically increments the counter.
 */
void
pmt_test_count_notify (gpointer user_data)
{
  g_atomic_int_inc ((gint *) user_data);
}

/* Tasks and workers {{{1 */

/**
 * pmt_test_return_index_func:
 * @task: the running task
 * @user_data: an index, as GUINT_TO_POINTER()
 *
 * A #PmtTaskFunc that returns the index given as user data.
 */
void
pmt_test_return_index_func (PmtTask  *task,
                            gpointer  user_data)
{
  pmt_task_return_int (task, GPOINTER_TO_UINT (user_data));
}

/**
 * pmt_test_task_get_int:
 * @task: a task
 *
 * Asserts that the result of @task is a #G_TYPE_INT64 value.
 *
 * Returns: that value
 */
gint64
pmt_test_task_get_int (PmtTask *task)
{
  const GValue *value = pmt_task_get_result (task);

  g_assert_nonnull (value);
  g_assert_true (G_VALUE_HOLDS_INT64 (value));

  return g_value_get_int64 (value);
}

/**
 * pmt_test_assert_task_succeeded:
 * @task: a task
 *
 * Waits at most %PMT_TEST_SAFETY_TIMEOUT_USEC for @task and asserts that
 * it succeeded, without an error.
 */
void
pmt_test_assert_task_succeeded (PmtTask *task)
{
  g_assert_true (pmt_task_wait (task, PMT_TEST_SAFETY_TIMEOUT_USEC));
  g_assert_no_error (pmt_task_get_error (task));
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_SUCCEEDED);
}

/**
 * pmt_test_assert_task_cancelled:
 * @task: a task
 *
 * Waits at most %PMT_TEST_SAFETY_TIMEOUT_USEC for @task and asserts that
 * it ended cancelled, with %G_IO_ERROR_CANCELLED.
 */
void
pmt_test_assert_task_cancelled (PmtTask *task)
{
  g_assert_true (pmt_task_wait (task, PMT_TEST_SAFETY_TIMEOUT_USEC));
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_CANCELLED);
  g_assert_error (pmt_task_get_error (task), G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/**
 * pmt_test_task_get_bytes:
 * @task: a task that succeeded with a #GBytes, as a command task does
 *
 * Asserts that @task's result holds a #GBytes and returns it.
 *
 * Returns: (transfer none): the bytes, owned by @task
 */
GBytes *
pmt_test_task_get_bytes (PmtTask *task)
{
  const GValue *result = pmt_task_get_result (task);

  g_assert_nonnull (result);
  g_assert_true (G_VALUE_HOLDS (result, G_TYPE_BYTES));

  return g_value_get_boxed (result);
}

/**
 * pmt_test_worker_stop_and_join:
 * @worker: a worker
 *
 * Stops @worker and asserts that pmt_worker_join() returns %TRUE within
 * %PMT_TEST_SAFETY_TIMEOUT_USEC.
 */
void
pmt_test_worker_stop_and_join (PmtWorker *worker)
{
  pmt_worker_stop (worker);
  g_assert_true (pmt_worker_join (worker, PMT_TEST_SAFETY_TIMEOUT_USEC));
}

/**
 * pmt_test_new_pool:
 * @name: (nullable): the pool's name
 * @max_workers: its #PmtPool:max-workers, 0 for one per processor
 *
 * Makes a pool, asserting that pmt_pool_new() succeeded.
 *
 * Returns: (transfer full): the pool
 */
PmtPool *
pmt_test_new_pool (const char *name,
                   guint       max_workers)
{
  g_autoptr(GError) error = NULL;
  PmtPool *pool = pmt_pool_new (name, max_workers, &error);

  g_assert_no_error (error);
  g_assert_true (PMT_IS_POOL (pool));

  return pool;
}

/**
 * pmt_test_assert_pool_settled:
 * @pool: a pool whose pmt_pool_wait_completion() or pmt_pool_shutdown()
 *   returned %TRUE
 *
 * Asserts what is exact by then: nothing queued or unfinished, and every
 * submission counted once as succeeded, failed or cancelled.
 */
void
pmt_test_assert_pool_settled (PmtPool *pool)
{
  g_assert_cmpuint (pmt_pool_get_n_unfinished (pool), ==, 0);
  g_assert_cmpuint (pmt_pool_get_n_queued (pool), ==, 0);
  g_assert_cmpuint (pmt_pool_get_n_submitted (pool), ==,
                    pmt_pool_get_n_succeeded (pool) +
                    pmt_pool_get_n_failed (pool) +
                    pmt_pool_get_n_cancelled (pool));
}

/**
 * pmt_test_shutdown_pool:
 * @pool: a pool
 *
 * Shuts @pool down with %PMT_SHUTDOWN_NONE, and asserts that it stopped
 * within %PMT_TEST_SAFETY_TIMEOUT_USEC, without workers, settled.
 */
void
pmt_test_shutdown_pool (PmtPool *pool)
{
  g_assert_true (pmt_pool_shutdown (pool, PMT_SHUTDOWN_NONE, PMT_TEST_SAFETY_TIMEOUT_USEC));
  g_assert_cmpint (pmt_pool_get_state (pool), ==, PMT_POOL_STATE_STOPPED);
  g_assert_cmpuint (pmt_pool_get_n_workers (pool), ==, 0);
  pmt_test_assert_pool_settled (pool);
}
