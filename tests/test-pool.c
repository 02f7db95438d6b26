/* test-pool.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <pmt.h>

#include <string.h>

#include "pmt-test-utils.h"

/* A bound on every wait that should end soon, so that a broken pool fails
 * the test instead of hanging it. */
#define SAFETY_TIMEOUT_USEC PMT_TEST_SAFETY_TIMEOUT_USEC
/* A bound on waits for thousands of tasks, which take a while under
 * ThreadSanitizer. */
#define LONG_TIMEOUT_USEC (20 * G_USEC_PER_SEC)
/* Every test runs under a watchdog that aborts the program after this
 * long, so a deadlock (a wait that blocks forever by design, such as
 * pmt_task_wait (t, -1) in a nested task) fails instead of hanging. */
#define WATCHDOG_TIMEOUT_USEC (30 * G_USEC_PER_SEC)

static GThread *main_thread;

/* Pools and checks */

static PmtTask *
submit (PmtPool     *pool,
        PmtTaskFunc  func,
        gpointer     user_data)
{
  g_autoptr(GError) error = NULL;
  PmtTask *task;

  task = pmt_pool_submit (pool, func, user_data, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (PMT_IS_TASK (task));

  return task;
}

static void
push (PmtPool *pool,
      PmtTask *task)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (pmt_pool_push (pool, task, &error));
  g_assert_no_error (error);
}

/* Watching a numeric property of a pool through its notify signal.  The
 * handler reads the value itself: GLib may fold concurrent notifications
 * of one property, so values are what counts, not emissions. */

typedef struct
{
  GMutex mutex;
  GCond cond;
  PmtPool *pool;
  const char *name;
  gulong handler_id;
  guint n_emissions;
  guint64 last;
  guint64 min;
  guint64 max;
  gboolean off_thread;  /* an emission happened outside main_thread */
  guint64 target;       /* what prop_watch_iterate_for() waits for */
} PropWatch;

static guint64
get_uint_property (gpointer    object,
                   const char *name)
{
  GValue value = G_VALUE_INIT;
  GValue as_uint64 = G_VALUE_INIT;
  GParamSpec *pspec;
  guint64 ret;

  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (object), name);
  g_assert_nonnull (pspec);

  g_value_init (&value, pspec->value_type);
  g_object_get_property (object, name, &value);
  g_value_init (&as_uint64, G_TYPE_UINT64);
  g_assert_true (g_value_transform (&value, &as_uint64));
  ret = g_value_get_uint64 (&as_uint64);
  g_value_unset (&value);
  g_value_unset (&as_uint64);

  return ret;
}

static void
prop_watch_notify_cb (GObject    *object,
                      GParamSpec *pspec,
                      gpointer    user_data)
{
  PropWatch *watch = user_data;
  guint64 value = get_uint_property (object, watch->name);

  g_mutex_lock (&watch->mutex);
  watch->n_emissions++;
  watch->last = value;
  watch->min = MIN (watch->min, value);
  watch->max = MAX (watch->max, value);
  if (g_thread_self () != main_thread)
    watch->off_thread = TRUE;
  g_cond_broadcast (&watch->cond);
  g_mutex_unlock (&watch->mutex);
}

static void
prop_watch_init (PropWatch  *watch,
                 PmtPool    *pool,
                 const char *name)
{
  g_autofree char *signal = g_strconcat ("notify::", name, NULL);

  g_mutex_init (&watch->mutex);
  g_cond_init (&watch->cond);
  watch->pool = pool;
  watch->name = name;
  watch->n_emissions = 0;
  watch->last = G_MAXUINT64;
  watch->min = G_MAXUINT64;
  watch->max = 0;
  watch->off_thread = FALSE;
  watch->handler_id = g_signal_connect (pool, signal, G_CALLBACK (prop_watch_notify_cb), watch);
}

static void
prop_watch_clear (PropWatch *watch)
{
  g_signal_handler_disconnect (watch->pool, watch->handler_id);
  g_mutex_clear (&watch->mutex);
  g_cond_clear (&watch->cond);
}

static gboolean
prop_watch_reported_target (gpointer data)
{
  const PropWatch *watch = data;

  return watch->last == watch->target;
}

/* Iterates @context, where the pool emits its notifies, until an emission
 * reported @target. */
static void
prop_watch_iterate_for (PropWatch    *watch,
                        GMainContext *context,
                        guint64       target)
{
  watch->target = target;
  pmt_test_iterate_until (context, prop_watch_reported_target, watch, SAFETY_TIMEOUT_USEC);

  g_assert_false (watch->off_thread);
  g_assert_cmpuint (watch->last, ==, target);
}

/* Runs @context for @usec, to see that something does not happen. */
static void
iterate_for (GMainContext *context,
             gint64        usec)
{
  gboolean done = FALSE;
  GSource *timeout = pmt_test_add_flag_timeout (context, usec, &done);

  while (!done)
    g_main_context_iteration (context, TRUE);

  g_source_destroy (timeout);
  g_source_unref (timeout);
}

/* A start line for threads that should race. */
typedef struct
{
  GMutex mutex;
  GCond cond;
  guint n_ready;
  guint n_expected;
} Barrier;

static void
barrier_init (Barrier *barrier,
              guint    n_expected)
{
  g_mutex_init (&barrier->mutex);
  g_cond_init (&barrier->cond);
  barrier->n_ready = 0;
  barrier->n_expected = n_expected;
}

static void
barrier_clear (Barrier *barrier)
{
  g_mutex_clear (&barrier->mutex);
  g_cond_clear (&barrier->cond);
}

static void
barrier_wait (Barrier *barrier)
{
  g_mutex_lock (&barrier->mutex);
  barrier->n_ready++;
  g_cond_broadcast (&barrier->cond);
  while (barrier->n_ready < barrier->n_expected)
    g_cond_wait (&barrier->cond, &barrier->mutex);
  g_mutex_unlock (&barrier->mutex);
}

/* /pmt/pool/priority/order-and-fifo-ties */

#define N_ORDER_TASKS 10000

typedef struct
{
  GMutex mutex;
  guint *order;
  guint n_run;
} OrderLog;

typedef struct
{
  OrderLog *log;
  guint index;
  gint priority;
  gboolean cancelled;
  gint n_runs;
} OrderItem;

static void
order_record_func (PmtTask  *task,
                   gpointer  user_data)
{
  OrderItem *item = user_data;
  OrderLog *log = item->log;

  g_atomic_int_inc (&item->n_runs);

  g_mutex_lock (&log->mutex);
  if (log->n_run < N_ORDER_TASKS)
    log->order[log->n_run] = item->index;
  log->n_run++;
  g_mutex_unlock (&log->mutex);
}

static gint
order_item_compare (gconstpointer a,
                    gconstpointer b)
{
  const OrderItem *item_a = *(const OrderItem * const *) a;
  const OrderItem *item_b = *(const OrderItem * const *) b;

  if (item_a->priority != item_b->priority)
    return item_a->priority < item_b->priority ? -1 : 1;

  return item_a->index < item_b->index ? -1 : item_a->index > item_b->index;
}

static void
test_priority_order (gconstpointer data)
{
  /* A few distinct values, so that ties are common; the extremes catch a
   * comparison that overflows. */
  static const gint priorities[] = { G_MININT, -1, 0, 1, G_MAXINT };
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 1);
  g_autoptr(PmtTask) gate_task = NULL;
  g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) expected = g_ptr_array_new ();
  OrderItem *items = g_new0 (OrderItem, N_ORDER_TASKS);
  OrderLog log = { 0 };
  guint n_cancelled = 0;
  PmtTestGate gate;

  pmt_test_gate_init (&gate);
  g_mutex_init (&log.mutex);
  log.order = g_new0 (guint, N_ORDER_TASKS);

  /* Hold the only worker, so that every task below waits in the queue. */
  gate_task = submit (pool, pmt_test_gate_func, &gate);
  pmt_test_gate_wait_started (&gate, 1);

  for (guint i = 0; i < N_ORDER_TASKS; i++)
    {
      g_autoptr(GError) error = NULL;
      OrderItem *item = &items[i];
      PmtTask *task;

      item->log = &log;
      item->index = i;
      item->priority = priorities[g_test_rand_int_range (0, G_N_ELEMENTS (priorities))];

      /* Both ways in: a new task with a priority, and an existing one
       * carrying its own. */
      if (i % 2 == 0)
        {
          task = pmt_pool_submit_full (pool, item->priority, order_record_func, item, NULL, &error);
          g_assert_no_error (error);
          g_assert_nonnull (task);
          g_assert_cmpint (pmt_task_get_priority (task), ==, item->priority);
        }
      else
        {
          task = pmt_task_new (order_record_func, item, NULL);
          pmt_task_set_priority (task, item->priority);
          push (pool, task);
        }
      g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_QUEUED);
      g_ptr_array_add (tasks, task);

      /* Cancel tasks inside the queue as it grows. */
      if (g_test_rand_int_range (0, 8) == 0)
        {
          guint victim = g_test_rand_int_range (0, i + 1);

          if (!items[victim].cancelled)
            {
              items[victim].cancelled = TRUE;
              n_cancelled++;
              pmt_task_cancel (tasks->pdata[victim]);
              g_assert_cmpint (pmt_task_get_state (tasks->pdata[victim]), ==,
                               PMT_TASK_STATE_CANCELLED);
            }
        }
    }

  g_assert_cmpuint (n_cancelled, >, 0);
  g_assert_cmpuint (pmt_pool_get_n_submitted (pool), ==, N_ORDER_TASKS + 1);
  g_assert_cmpuint (pmt_pool_get_n_queued (pool), ==, N_ORDER_TASKS - n_cancelled);
  g_assert_cmpuint (pmt_pool_get_n_unfinished (pool), ==, N_ORDER_TASKS + 1 - n_cancelled);
  g_assert_cmpuint (pmt_pool_get_n_cancelled (pool), ==, n_cancelled);
  g_assert_cmpuint (pmt_pool_get_n_workers (pool), ==, 1);

  for (guint i = 0; i < N_ORDER_TASKS; i++)
    if (!items[i].cancelled)
      g_ptr_array_add (expected, &items[i]);
  g_ptr_array_sort (expected, order_item_compare);

  pmt_test_gate_open (&gate);
  g_assert_true (pmt_pool_wait_completion (pool, LONG_TIMEOUT_USEC, FALSE));
  pmt_test_assert_task_succeeded (gate_task);

  g_mutex_lock (&log.mutex);
  g_assert_cmpuint (log.n_run, ==, expected->len);
  for (guint k = 0; k < expected->len; k++)
    {
      const OrderItem *item = expected->pdata[k];

      if (log.order[k] != item->index)
        g_error ("position %u: ran task %u (priority %d), expected task %u (priority %d)",
                 k, log.order[k], items[log.order[k]].priority, item->index, item->priority);
    }
  g_mutex_unlock (&log.mutex);

  for (guint i = 0; i < N_ORDER_TASKS; i++)
    {
      PmtTask *task = tasks->pdata[i];

      if (items[i].cancelled)
        {
          pmt_test_assert_task_cancelled (task);
          g_assert_cmpint (g_atomic_int_get (&items[i].n_runs), ==, 0);
          g_assert_null (pmt_task_get_worker (task));
        }
      else
        {
          g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_SUCCEEDED);
          g_assert_cmpint (g_atomic_int_get (&items[i].n_runs), ==, 1);
        }
    }

  pmt_test_assert_pool_settled (pool);
  g_assert_cmpuint (pmt_pool_get_n_submitted (pool), ==, N_ORDER_TASKS + 1);
  g_assert_cmpuint (pmt_pool_get_n_cancelled (pool), ==, n_cancelled);
  g_assert_cmpuint (pmt_pool_get_n_succeeded (pool), ==, N_ORDER_TASKS + 1 - n_cancelled);
  g_assert_cmpuint (pmt_pool_get_n_failed (pool), ==, 0);

  pmt_test_shutdown_pool (pool);

  g_mutex_clear (&log.mutex);
  g_free (log.order);
  g_free (items);
  pmt_test_gate_clear (&gate);
}

/* /pmt/pool/autoscale/up-to-max */

static void
test_autoscale_up_to_max (gconstpointer data)
{
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 4);
  g_autoptr(GHashTable) workers = g_hash_table_new (NULL, NULL);
  PmtTask *tasks[8];
  guint n_running = 0, n_queued = 0;
  PmtTestGate gate;

  pmt_test_gate_init (&gate);

  g_assert_cmpuint (pmt_pool_get_n_workers (pool), ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    tasks[i] = submit (pool, pmt_test_gate_func, &gate);

  /* Four run, each on its own worker; the other four wait for one. */
  pmt_test_gate_wait_started (&gate, 4);
  g_assert_cmpuint (pmt_pool_get_n_workers (pool), ==, 4);
  g_assert_cmpuint (pmt_pool_get_n_busy_workers (pool), ==, 4);
  g_assert_cmpuint (pmt_pool_get_n_queued (pool), ==, 4);
  g_assert_cmpuint (pmt_pool_get_n_unfinished (pool), ==, 8);

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      PmtTaskState state = pmt_task_get_state (tasks[i]);

      if (state == PMT_TASK_STATE_RUNNING)
        n_running++;
      else if (state == PMT_TASK_STATE_QUEUED)
        n_queued++;
    }
  g_assert_cmpuint (n_running, ==, 4);
  g_assert_cmpuint (n_queued, ==, 4);

  pmt_test_gate_open (&gate);
  g_assert_true (pmt_pool_wait_completion (pool, SAFETY_TIMEOUT_USEC, FALSE));
  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    pmt_test_assert_task_succeeded (tasks[i]);

  g_assert_cmpuint (pmt_test_gate_get_n_started (&gate), ==, 8);
  g_assert_cmpuint (pmt_pool_get_n_succeeded (pool), ==, 8);
  g_assert_cmpuint (pmt_pool_get_n_workers (pool), ==, 4);

  /* The four queued tasks ran on the same four workers: no fifth one. */
  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      PmtWorker *worker = pmt_task_get_worker (tasks[i]);

      g_assert_true (PMT_IS_WORKER (worker));
      g_assert_true (pmt_worker_get_pool (worker) == pool);
      g_hash_table_add (workers, worker);
    }
  g_assert_cmpuint (g_hash_table_size (workers), ==, 4);

  pmt_test_shutdown_pool (pool);
  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    g_object_unref (tasks[i]);
  pmt_test_gate_clear (&gate);
}

/* /pmt/pool/autoscale/idle-shrink-to-min */

static void
test_autoscale_idle_shrink (gconstpointer data)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 4);
  g_autoptr(GHashTable) workers = g_hash_table_new (NULL, NULL);
  g_autoptr(PmtTask) later = NULL;
  PmtWorker *survivor;
  GHashTableIter iter;
  gpointer worker;
  PmtTask *tasks[8];
  PropWatch watch;
  PmtTestGate gate;

  pmt_test_gate_init (&gate);
  pmt_pool_set_main_context (pool, context);
  pmt_pool_set_idle_timeout (pool, 20 * 1000);
  g_assert_cmpint (pmt_pool_get_idle_timeout (pool), ==, 20 * 1000);
  prop_watch_init (&watch, pool, "n-workers");

  pmt_pool_set_min_workers (pool, 1);
  g_assert_cmpuint (pmt_pool_get_min_workers (pool), ==, 1);
  prop_watch_iterate_for (&watch, context, 1);

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    tasks[i] = submit (pool, pmt_test_gate_func, &gate);
  pmt_test_gate_wait_started (&gate, 4);
  g_assert_cmpuint (pmt_pool_get_n_workers (pool), ==, 4);
  prop_watch_iterate_for (&watch, context, 4);

  pmt_test_gate_open (&gate);
  g_assert_true (pmt_pool_wait_completion (pool, SAFETY_TIMEOUT_USEC, FALSE));

  /* The three workers above min-workers exit once idle for 20 ms. */
  prop_watch_iterate_for (&watch, context, 1);
  g_assert_cmpuint (pmt_pool_get_n_workers (pool), ==, 1);

  /* ... and the last one stays, however long it idles. */
  iterate_for (context, 5 * pmt_pool_get_idle_timeout (pool));
  g_assert_cmpuint (pmt_pool_get_n_workers (pool), ==, 1);
  g_assert_cmpuint (watch.last, ==, 1);
  g_assert_cmpuint (watch.min, ==, 1);
  g_assert_cmpuint (watch.max, ==, 4);
  g_assert_false (watch.off_thread);

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      pmt_test_assert_task_succeeded (tasks[i]);
      g_hash_table_add (workers, pmt_task_get_worker (tasks[i]));
    }
  g_assert_cmpuint (g_hash_table_size (workers), ==, 4);

  /* It is one of the four, kept: not a replacement started after it
   * exited. */
  later = submit (pool, pmt_test_return_index_func, GUINT_TO_POINTER (9));
  pmt_test_assert_task_succeeded (later);
  survivor = pmt_task_get_worker (later);
  g_assert_true (g_hash_table_contains (workers, survivor));
  g_hash_table_remove (workers, survivor);
  g_hash_table_iter_init (&iter, workers);
  while (g_hash_table_iter_next (&iter, &worker, NULL))
    g_assert_true (pmt_worker_join (worker, SAFETY_TIMEOUT_USEC));
  g_assert_cmpint (pmt_worker_get_state (survivor), !=, PMT_WORKER_STATE_STOPPED);

  pmt_test_shutdown_pool (pool);
  pmt_test_flush_context (context);
  prop_watch_clear (&watch);
  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    g_object_unref (tasks[i]);
  pmt_test_gate_clear (&gate);
}

/* /pmt/pool/autoscale/min-workers-at-once */

/* Runs three tasks at once on a pool of three workers; returns the set
 * of workers that ran them. */
static GHashTable *
run_three_at_once (PmtPool *pool)
{
  GHashTable *workers = g_hash_table_new (NULL, NULL);
  PmtTask *tasks[3];
  PmtTestGate gate;

  pmt_test_gate_init (&gate);
  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    tasks[i] = submit (pool, pmt_test_gate_func, &gate);
  pmt_test_gate_wait_started (&gate, 3);
  g_assert_cmpuint (pmt_pool_get_n_workers (pool), ==, 3);
  pmt_test_gate_open (&gate);

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      pmt_test_assert_task_succeeded (tasks[i]);
      g_hash_table_add (workers, pmt_task_get_worker (tasks[i]));
      g_object_unref (tasks[i]);
    }
  g_assert_cmpuint (g_hash_table_size (workers), ==, 3);
  g_assert_true (pmt_pool_wait_completion (pool, SAFETY_TIMEOUT_USEC, FALSE));
  pmt_test_gate_clear (&gate);

  return workers;
}

static void
test_autoscale_min_workers (gconstpointer data)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  /* max-workers = min-workers: a worker is started when queued tasks
   * outnumber idle workers, and a task just taken by a worker may still
   * count as queued for a moment, so with more room a fourth worker could
   * join legitimately and blur which ones are kept. */
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 3);
  g_autoptr(GHashTable) first = NULL;
  g_autoptr(GHashTable) second = NULL;
  GHashTableIter iter;
  gpointer worker;
  PropWatch watch;

  pmt_pool_set_main_context (pool, context);
  pmt_pool_set_idle_timeout (pool, 20 * 1000);
  prop_watch_init (&watch, pool, "n-workers");

  /* Started when set, before any submission ... */
  pmt_pool_set_min_workers (pool, 3);
  prop_watch_iterate_for (&watch, context, 3);
  g_assert_cmpuint (pmt_pool_get_n_workers (pool), ==, 3);
  g_assert_cmpuint (pmt_pool_get_n_busy_workers (pool), ==, 0);
  g_assert_cmpint (pmt_pool_get_state (pool), ==, PMT_POOL_STATE_INACTIVE);

  /* ... used ... */
  first = run_three_at_once (pool);
  g_assert_cmpint (pmt_pool_get_state (pool), ==, PMT_POOL_STATE_ACTIVE);

  /* ... and kept although their idle timeout passes many times: the same
   * three, not replacements. */
  iterate_for (context, 5 * pmt_pool_get_idle_timeout (pool));
  g_assert_cmpuint (pmt_pool_get_n_workers (pool), ==, 3);
  second = run_three_at_once (pool);
  g_hash_table_iter_init (&iter, first);
  while (g_hash_table_iter_next (&iter, &worker, NULL))
    {
      g_assert_true (g_hash_table_contains (second, worker));
      g_assert_cmpint (pmt_worker_get_state (worker), !=, PMT_WORKER_STATE_STOPPED);
    }

  pmt_test_flush_context (context);
  g_assert_cmpuint (watch.min, ==, 3);
  g_assert_cmpuint (watch.max, ==, 3);
  g_assert_false (watch.off_thread);

  pmt_test_shutdown_pool (pool);
  pmt_test_flush_context (context);
  prop_watch_clear (&watch);
}

/* /pmt/pool/max-workers/lower-under-load and /raise */

static void
test_max_workers_changed (gconstpointer data)
{
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 4);
  g_autoptr(GPtrArray) follow_ups = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GHashTable) workers = g_hash_table_new (NULL, NULL);
  PmtTask *blocked[4];
  PmtTask *raised[3];
  PmtWorker *survivor;
  gint n_runs = 0;
  PmtTestGate gate, gate2;

  pmt_test_gate_init (&gate);
  pmt_test_gate_init (&gate2);

  for (guint i = 0; i < G_N_ELEMENTS (blocked); i++)
    blocked[i] = submit (pool, pmt_test_gate_func, &gate);
  pmt_test_gate_wait_started (&gate, 4);
  g_assert_cmpuint (pmt_pool_get_n_workers (pool), ==, 4);

  for (guint i = 0; i < 20; i++)
    g_ptr_array_add (follow_ups, submit (pool, pmt_test_count_func, &n_runs));
  g_assert_cmpuint (pmt_pool_get_n_queued (pool), ==, 20);

  /* Lowered while every worker is busy: three of them are surplus and
   * exit once their current task is done, instead of taking another. */
  pmt_pool_set_max_workers (pool, 1);
  g_assert_cmpuint (pmt_pool_get_max_workers (pool), ==, 1);
  g_assert_cmpuint (pmt_pool_get_n_workers (pool), ==, 4);

  pmt_test_gate_open (&gate);
  g_assert_true (pmt_pool_wait_completion (pool, SAFETY_TIMEOUT_USEC, FALSE));

  for (guint i = 0; i < G_N_ELEMENTS (blocked); i++)
    {
      pmt_test_assert_task_succeeded (blocked[i]);
      g_hash_table_add (workers, pmt_task_get_worker (blocked[i]));
    }
  g_assert_cmpuint (g_hash_table_size (workers), ==, 4);
  g_assert_cmpint (g_atomic_int_get (&n_runs), ==, 20);

  /* Every follow-up ran on the one worker left ... */
  survivor = pmt_task_get_worker (follow_ups->pdata[0]);
  g_assert_true (PMT_IS_WORKER (survivor));
  g_assert_true (pmt_worker_get_pool (survivor) == pool);
  g_assert_true (g_hash_table_contains (workers, survivor));
  for (guint i = 0; i < follow_ups->len; i++)
    {
      pmt_test_assert_task_succeeded (follow_ups->pdata[i]);
      g_assert_true (pmt_task_get_worker (follow_ups->pdata[i]) == survivor);
    }
  g_assert_cmpuint (pmt_pool_get_n_succeeded (pool), ==, 24);

  /* ... and the three others exit. */
  g_hash_table_remove (workers, survivor);
  {
    GHashTableIter iter;
    gpointer worker;

    g_hash_table_iter_init (&iter, workers);
    while (g_hash_table_iter_next (&iter, &worker, NULL))
      g_assert_true (pmt_worker_join (worker, SAFETY_TIMEOUT_USEC));
  }
  g_assert_cmpuint (pmt_pool_get_n_workers (pool), ==, 1);
  g_assert_cmpint (pmt_worker_get_state (survivor), !=, PMT_WORKER_STATE_STOPPED);

  /* Raised: more workers start on demand. */
  pmt_pool_set_max_workers (pool, 3);
  g_assert_cmpuint (pmt_pool_get_max_workers (pool), ==, 3);
  for (guint i = 0; i < G_N_ELEMENTS (raised); i++)
    raised[i] = submit (pool, pmt_test_gate_func, &gate2);
  pmt_test_gate_wait_started (&gate2, 3);
  g_assert_cmpuint (pmt_pool_get_n_workers (pool), ==, 3);
  g_assert_cmpuint (pmt_pool_get_n_busy_workers (pool), ==, 3);

  pmt_test_gate_open (&gate2);
  g_assert_true (pmt_pool_wait_completion (pool, SAFETY_TIMEOUT_USEC, FALSE));
  for (guint i = 0; i < G_N_ELEMENTS (raised); i++)
    pmt_test_assert_task_succeeded (raised[i]);

  pmt_test_shutdown_pool (pool);
  for (guint i = 0; i < G_N_ELEMENTS (blocked); i++)
    g_object_unref (blocked[i]);
  for (guint i = 0; i < G_N_ELEMENTS (raised); i++)
    g_object_unref (raised[i]);
  pmt_test_gate_clear (&gate);
  pmt_test_gate_clear (&gate2);
}

/* /pmt/pool/refusal/blocked */

typedef struct
{
  PmtPool *pool;
  PmtTestGate gate;      /* holds the parent task */
  PmtTestGate sub_gate;  /* holds its sub-task */
  GMutex mutex;
  GCond cond;
  gboolean waiting;
  gboolean returned;
  gboolean result;
  gboolean sub_done_at_return;
  PmtTask *sub;
  GError *sub_error;
} BlockTest;

/* Runs in the pool during the blocking wait and submits a sub-task. */
static void
block_parent_func (PmtTask  *task,
                   gpointer  user_data)
{
  BlockTest *test = user_data;
  GError *error = NULL;
  PmtTask *sub;

  pmt_test_gate_enter (&test->gate);

  sub = pmt_pool_submit (test->pool, pmt_test_gate_func, &test->sub_gate, NULL, &error);

  g_mutex_lock (&test->mutex);
  test->sub = sub;
  test->sub_error = error;
  g_mutex_unlock (&test->mutex);
}

static gpointer
block_waiter_thread (gpointer data)
{
  BlockTest *test = data;
  gboolean result, sub_done;

  pmt_test_set_flag (&test->mutex, &test->cond, &test->waiting);

  result = pmt_pool_wait_completion (test->pool, -1, TRUE);

  g_mutex_lock (&test->mutex);
  sub_done = test->sub != NULL && pmt_task_is_done (test->sub);
  test->result = result;
  test->sub_done_at_return = sub_done;
  test->returned = TRUE;
  g_cond_broadcast (&test->cond);
  g_mutex_unlock (&test->mutex);

  return NULL;
}

static void
test_refusal_blocked (gconstpointer data)
{
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 2);
  g_autoptr(PmtTask) parent = NULL;
  g_autoptr(PmtTask) refused = NULL;
  g_autoptr(GError) error = NULL;
  PmtTask *task;
  BlockTest test = { 0 };
  GThread *waiter;
  gint64 end_time;
  gint n_runs = 0, n_notifies = 0;
  guint n_accepted = 0;

  test.pool = pool;
  pmt_test_gate_init (&test.gate);
  pmt_test_gate_init (&test.sub_gate);
  g_mutex_init (&test.mutex);
  g_cond_init (&test.cond);

  parent = submit (pool, block_parent_func, &test);
  pmt_test_gate_wait_started (&test.gate, 1);

  waiter = g_thread_new ("blocking-waiter", block_waiter_thread, &test);
  g_mutex_lock (&test.mutex);
  while (!test.waiting)
    g_cond_wait (&test.cond, &test.mutex);
  g_mutex_unlock (&test.mutex);

  /* The block begins inside pmt_pool_wait_completion(), which is not
   * observable from here: push until the pool refuses.  Tasks accepted
   * before that just run on the second worker. */
  end_time = g_get_monotonic_time () + SAFETY_TIMEOUT_USEC;
  for (;;)
    {
      refused = pmt_task_new (pmt_test_count_func, &n_runs, NULL);
      if (!pmt_pool_push (pool, refused, &error))
        break;
      n_accepted++;
      g_clear_object (&refused);
      g_assert_cmpint (g_get_monotonic_time (), <, end_time);
      g_thread_yield ();
    }

  /* A refused push leaves the task untouched. */
  g_assert_error (error, PMT_ERROR, PMT_ERROR_BLOCKED);
  g_clear_error (&error);
  g_assert_cmpint (pmt_task_get_state (refused), ==, PMT_TASK_STATE_PENDING);
  g_assert_null (pmt_task_get_worker (refused));

  /* A refused submit frees its new task: its notify runs. */
  task = pmt_pool_submit (pool, pmt_test_count_func, &n_notifies, pmt_test_count_notify, &error);
  g_assert_null (task);
  g_assert_error (error, PMT_ERROR, PMT_ERROR_BLOCKED);
  g_clear_error (&error);
  g_assert_cmpint (g_atomic_int_get (&n_notifies), ==, 1);
  task = pmt_pool_submit_full (pool, 5, pmt_test_count_func, &n_notifies, pmt_test_count_notify,
                               &error);
  g_assert_null (task);
  g_assert_error (error, PMT_ERROR, PMT_ERROR_BLOCKED);
  g_clear_error (&error);
  g_assert_cmpint (g_atomic_int_get (&n_notifies), ==, 2);

  /* The parent, running in the pool, may still submit: the wait covers
   * its sub-task too. */
  pmt_test_gate_open (&test.gate);
  pmt_test_assert_task_succeeded (parent);
  g_mutex_lock (&test.mutex);
  g_assert_no_error (test.sub_error);
  g_assert_true (PMT_IS_TASK (test.sub));
  g_mutex_unlock (&test.mutex);
  pmt_test_gate_wait_started (&test.sub_gate, 1);

  g_mutex_lock (&test.mutex);
  g_assert_false (test.returned);
  g_mutex_unlock (&test.mutex);

  pmt_test_gate_open (&test.sub_gate);
  end_time = g_get_monotonic_time () + SAFETY_TIMEOUT_USEC;
  g_mutex_lock (&test.mutex);
  while (!test.returned)
    {
      if (!g_cond_wait_until (&test.cond, &test.mutex, end_time))
        break;
    }
  g_assert_true (test.returned);
  g_assert_true (test.result);
  g_assert_true (test.sub_done_at_return);
  g_mutex_unlock (&test.mutex);
  g_thread_join (waiter);

  pmt_test_assert_task_succeeded (test.sub);
  pmt_test_assert_pool_settled (pool);
  g_assert_cmpuint (pmt_pool_get_n_submitted (pool), ==, n_accepted + 2);
  g_assert_cmpint (g_atomic_int_get (&n_runs), ==, n_accepted);

  /* The block is over: the refused task goes in now. */
  push (pool, refused);
  pmt_test_assert_task_succeeded (refused);
  g_assert_true (pmt_pool_wait_completion (pool, SAFETY_TIMEOUT_USEC, FALSE));
  g_assert_cmpint (g_atomic_int_get (&n_runs), ==, n_accepted + 1);

  pmt_test_shutdown_pool (pool);

  g_clear_object (&test.sub);
  pmt_test_gate_clear (&test.gate);
  pmt_test_gate_clear (&test.sub_gate);
  g_mutex_clear (&test.mutex);
  g_cond_clear (&test.cond);
}

/* /pmt/pool/refusal/stopped */

static void
test_refusal_stopped (gconstpointer data)
{
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 2);
  g_autoptr(PmtTask) done = NULL;
  g_autoptr(PmtTask) refused = NULL;
  g_autoptr(GPtrArray) mapped = NULL;
  g_autoptr(GError) error = NULL;
  gint values[3] = { 1, 2, 3 };
  gpointer items[3] = { &values[0], &values[1], &values[2] };
  gint n_runs = 0, n_notifies = 0;
  PmtTask *task;

  done = submit (pool, pmt_test_return_index_func, GUINT_TO_POINTER (1));
  pmt_test_assert_task_succeeded (done);
  pmt_test_shutdown_pool (pool);

  refused = pmt_task_new (pmt_test_count_func, &n_runs, NULL);
  g_assert_false (pmt_pool_push (pool, refused, &error));
  g_assert_error (error, PMT_ERROR, PMT_ERROR_STOPPED);
  g_clear_error (&error);
  g_assert_cmpint (pmt_task_get_state (refused), ==, PMT_TASK_STATE_PENDING);
  g_assert_null (pmt_task_get_worker (refused));

  task = pmt_pool_submit (pool, pmt_test_count_func, &n_notifies, pmt_test_count_notify, &error);
  g_assert_null (task);
  g_assert_error (error, PMT_ERROR, PMT_ERROR_STOPPED);
  g_clear_error (&error);
  g_assert_cmpint (g_atomic_int_get (&n_notifies), ==, 1);

  task = pmt_pool_submit_full (pool, -5, pmt_test_count_func, &n_notifies, pmt_test_count_notify,
                               &error);
  g_assert_null (task);
  g_assert_error (error, PMT_ERROR, PMT_ERROR_STOPPED);
  g_clear_error (&error);
  g_assert_cmpint (g_atomic_int_get (&n_notifies), ==, 2);

  /* A refused map submits nothing. */
  mapped = pmt_pool_map (pool, pmt_test_count_func, &n_notifies, pmt_test_count_notify,
                         items, G_N_ELEMENTS (items), 0, &error);
  g_assert_null (mapped);
  g_assert_error (error, PMT_ERROR, PMT_ERROR_STOPPED);
  g_clear_error (&error);
  g_assert_cmpint (g_atomic_int_get (&n_notifies), ==, 3);
  g_assert_cmpint (g_atomic_int_get (&n_runs), ==, 0);

  g_assert_cmpuint (pmt_pool_get_n_submitted (pool), ==, 1);
  g_assert_cmpint (pmt_pool_get_state (pool), ==, PMT_POOL_STATE_STOPPED);

  /* Untouched: it still runs elsewhere. */
  pmt_task_run (refused);
  pmt_test_assert_task_succeeded (refused);
  g_assert_cmpint (g_atomic_int_get (&n_runs), ==, 1);
}

/* /pmt/pool/shutdown/... */

#define N_SHUTDOWN_QUEUED 5

static void
test_shutdown_flags (gconstpointer data)
{
  PmtShutdownFlags flags = GPOINTER_TO_UINT (data);
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 1);
  PmtTask *tasks[1 + N_SHUTDOWN_QUEUED];
  gint n_completed[1 + N_SHUTDOWN_QUEUED] = { 0 };
  guint64 n_cancelled_expected = 0;
  PmtTestGate gate;

  pmt_test_gate_init (&gate);

  /* One running task that honours its cancellable, and queued ones. */
  tasks[0] = pmt_task_new (pmt_test_gate_cancellable_func, &gate, NULL);
  for (guint i = 1; i < G_N_ELEMENTS (tasks); i++)
    tasks[i] = pmt_task_new (pmt_test_return_index_func, GUINT_TO_POINTER (i), NULL);
  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    g_signal_connect (tasks[i], "completed", G_CALLBACK (pmt_test_count_completed_cb),
                      &n_completed[i]);

  g_assert_cmpint (pmt_pool_get_state (pool), ==, PMT_POOL_STATE_INACTIVE);
  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    push (pool, tasks[i]);
  pmt_test_gate_wait_started (&gate, 1);
  g_assert_cmpint (pmt_pool_get_state (pool), ==, PMT_POOL_STATE_ACTIVE);
  g_assert_cmpuint (pmt_pool_get_n_queued (pool), ==, N_SHUTDOWN_QUEUED);

  if (flags & PMT_SHUTDOWN_CANCEL_RUNNING)
    {
      g_assert_true (pmt_pool_shutdown (pool, flags, SAFETY_TIMEOUT_USEC));
    }
  else
    {
      /* Without CANCEL_RUNNING the running task goes on: no stop yet. */
      g_assert_false (pmt_pool_shutdown (pool, flags, 0));
      g_assert_cmpint (pmt_pool_get_state (pool), ==, PMT_POOL_STATE_STOPPING);
      g_assert_cmpint (pmt_task_get_state (tasks[0]), ==, PMT_TASK_STATE_RUNNING);

      /* Queued tasks are cancelled in the calling thread, or left to run. */
      for (guint i = 1; i < G_N_ELEMENTS (tasks); i++)
        {
          if (flags & PMT_SHUTDOWN_CANCEL_QUEUED)
            {
              g_assert_cmpint (pmt_task_get_state (tasks[i]), ==, PMT_TASK_STATE_CANCELLED);
              g_assert_cmpint (g_atomic_int_get (&n_completed[i]), ==, 1);
            }
          else
            {
              g_assert_cmpint (pmt_task_get_state (tasks[i]), ==, PMT_TASK_STATE_QUEUED);
              g_assert_cmpint (g_atomic_int_get (&n_completed[i]), ==, 0);
            }
        }

      pmt_test_gate_open (&gate);
      g_assert_true (pmt_pool_shutdown (pool, flags, SAFETY_TIMEOUT_USEC));
    }

  g_assert_cmpint (pmt_pool_get_state (pool), ==, PMT_POOL_STATE_STOPPED);
  g_assert_cmpuint (pmt_pool_get_n_workers (pool), ==, 0);
  g_assert_cmpuint (pmt_pool_get_n_busy_workers (pool), ==, 0);

  if (flags & PMT_SHUTDOWN_CANCEL_RUNNING)
    {
      pmt_test_assert_task_cancelled (tasks[0]);
      n_cancelled_expected++;
    }
  else
    pmt_test_assert_task_succeeded (tasks[0]);

  for (guint i = 1; i < G_N_ELEMENTS (tasks); i++)
    {
      g_assert_true (pmt_task_is_done (tasks[i]));
      if (flags & PMT_SHUTDOWN_CANCEL_QUEUED)
        {
          pmt_test_assert_task_cancelled (tasks[i]);
          g_assert_null (pmt_task_get_worker (tasks[i]));
          n_cancelled_expected++;
        }
      else
        {
          pmt_test_assert_task_succeeded (tasks[i]);
          g_assert_cmpint (pmt_test_task_get_int (tasks[i]), ==, i);
        }
    }

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    g_assert_cmpint (g_atomic_int_get (&n_completed[i]), ==, 1);

  pmt_test_assert_pool_settled (pool);
  g_assert_cmpuint (pmt_pool_get_n_submitted (pool), ==, G_N_ELEMENTS (tasks));
  g_assert_cmpuint (pmt_pool_get_n_cancelled (pool), ==, n_cancelled_expected);
  g_assert_cmpuint (pmt_pool_get_n_succeeded (pool), ==,
                    G_N_ELEMENTS (tasks) - n_cancelled_expected);
  g_assert_cmpuint (pmt_pool_get_n_failed (pool), ==, 0);

  /* A second shutdown of a stopped pool is harmless. */
  g_assert_true (pmt_pool_shutdown (pool,
                                  PMT_SHUTDOWN_CANCEL_QUEUED | PMT_SHUTDOWN_CANCEL_RUNNING,
                                  0));
  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      g_assert_cmpint (g_atomic_int_get (&n_completed[i]), ==, 1);
      g_object_unref (tasks[i]);
    }
  pmt_test_gate_clear (&gate);
}

/* /pmt/pool/shutdown/timeout */

static void
test_shutdown_timeout (gconstpointer data)
{
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 1);
  g_autoptr(PmtTask) stubborn = NULL;
  g_autoptr(PmtTask) queued = NULL;
  g_autoptr(PmtTask) refused = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;
  PmtTestGate gate;

  pmt_test_gate_init (&gate);

  /* It ignores its cancellable. */
  stubborn = submit (pool, pmt_test_gate_func, &gate);
  pmt_test_gate_wait_started (&gate, 1);
  queued = submit (pool, pmt_test_return_index_func, GUINT_TO_POINTER (3));

  start = g_get_monotonic_time ();
  g_assert_false (pmt_pool_shutdown (pool, PMT_SHUTDOWN_CANCEL_RUNNING, 20 * 1000));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 20 * 1000);
  g_assert_cmpint (pmt_pool_get_state (pool), ==, PMT_POOL_STATE_STOPPING);
  g_assert_true (g_cancellable_is_cancelled (pmt_task_get_cancellable (stubborn)));
  g_assert_cmpint (pmt_task_get_state (stubborn), ==, PMT_TASK_STATE_RUNNING);
  g_assert_cmpint (pmt_task_get_state (queued), ==, PMT_TASK_STATE_QUEUED);

  /* Stopping: refused already. */
  refused = pmt_task_new (pmt_test_return_index_func, NULL, NULL);
  g_assert_false (pmt_pool_push (pool, refused, &error));
  g_assert_error (error, PMT_ERROR, PMT_ERROR_STOPPED);
  g_assert_cmpint (pmt_task_get_state (refused), ==, PMT_TASK_STATE_PENDING);

  pmt_test_gate_open (&gate);
  g_assert_true (pmt_pool_shutdown (pool, PMT_SHUTDOWN_NONE, SAFETY_TIMEOUT_USEC));
  g_assert_cmpint (pmt_pool_get_state (pool), ==, PMT_POOL_STATE_STOPPED);
  pmt_test_assert_task_succeeded (stubborn);
  pmt_test_assert_task_succeeded (queued);
  g_assert_cmpint (pmt_test_task_get_int (queued), ==, 3);
  pmt_test_assert_pool_settled (pool);
  g_assert_cmpuint (pmt_pool_get_n_succeeded (pool), ==, 2);

  pmt_test_gate_clear (&gate);
}

/* /pmt/pool/join */

static void
test_join (gconstpointer data)
{
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 2);
  g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(PmtTask) late = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 100; i++)
    g_ptr_array_add (tasks, submit (pool, pmt_test_return_index_func, GUINT_TO_POINTER (i)));

  g_assert_true (pmt_pool_join (pool, SAFETY_TIMEOUT_USEC));
  g_assert_cmpint (pmt_pool_get_state (pool), ==, PMT_POOL_STATE_STOPPED);
  for (guint i = 0; i < tasks->len; i++)
    {
      g_assert_cmpint (pmt_task_get_state (tasks->pdata[i]), ==, PMT_TASK_STATE_SUCCEEDED);
      g_assert_cmpint (pmt_test_task_get_int (tasks->pdata[i]), ==, i);
    }
  pmt_test_assert_pool_settled (pool);
  g_assert_cmpuint (pmt_pool_get_n_succeeded (pool), ==, 100);

  late = pmt_pool_submit (pool, pmt_test_return_index_func, NULL, NULL, &error);
  g_assert_null (late);
  g_assert_error (error, PMT_ERROR, PMT_ERROR_STOPPED);
}

/* /pmt/pool/registry/... */

static gboolean
list_has_name (GList      *pools,
               const char *name)
{
  for (GList *l = pools; l != NULL; l = l->next)
    if (g_strcmp0 (pmt_pool_get_name (l->data), name) == 0)
      return TRUE;

  return FALSE;
}

static void
test_registry_unique_name (gconstpointer data)
{
  const char *name = "test-pool-registry-unique";
  g_autoptr(GError) error = NULL;
  PmtPool *pool, *other, *found;
  PmtTestFinalizeWatch watch;
  PmtTask *task;
  GList *pools;

  found = pmt_pool_lookup (name);
  g_assert_null (found);

  pool = pmt_test_new_pool (name, 2);
  g_assert_cmpstr (pmt_pool_get_name (pool), ==, name);

  other = pmt_pool_new (name, 3, &error);
  g_assert_null (other);
  g_assert_error (error, PMT_ERROR, PMT_ERROR_NAME_IN_USE);
  g_clear_error (&error);

  found = pmt_pool_lookup (name);
  g_assert_true (found == pool);
  g_object_unref (found);

  pools = pmt_pool_list_pools ();
  g_assert_nonnull (g_list_find (pools, pool));
  g_list_free_full (pools, g_object_unref);

  /* Running: still taken. */
  task = submit (pool, pmt_test_return_index_func, GUINT_TO_POINTER (5));
  pmt_test_assert_task_succeeded (task);
  g_object_unref (task);
  other = pmt_pool_new (name, 3, &error);
  g_assert_null (other);
  g_assert_error (error, PMT_ERROR, PMT_ERROR_NAME_IN_USE);
  g_clear_error (&error);

  pmt_test_shutdown_pool (pool);

  /* Shut down and released: the pool is finalized (its workers, gone,
   * may drop their references a moment after shutdown returned) and
   * leaves the registry; the name is free again. */
  pmt_test_finalize_watch_init (&watch, pool);
  g_object_unref (pool);
  g_assert_true (pmt_test_finalize_watch_wait (&watch, SAFETY_TIMEOUT_USEC));
  pmt_test_finalize_watch_clear (&watch);

  found = pmt_pool_lookup (name);
  g_assert_null (found);
  pools = pmt_pool_list_pools ();
  g_assert_false (list_has_name (pools, name));
  g_list_free_full (pools, g_object_unref);

  pool = pmt_test_new_pool (name, 1);
  found = pmt_pool_lookup (name);
  g_assert_true (found == pool);
  g_object_unref (found);
  task = submit (pool, pmt_test_return_index_func, GUINT_TO_POINTER (6));
  pmt_test_assert_task_succeeded (task);
  g_assert_cmpint (pmt_test_task_get_int (task), ==, 6);
  g_object_unref (task);
  pmt_test_shutdown_pool (pool);
  g_object_unref (pool);
}

static void
test_registry_generated_names (gconstpointer data)
{
  PmtPool *pools[3];
  GList *listed;

  for (guint i = 0; i < G_N_ELEMENTS (pools); i++)
    {
      PmtPool *found;

      pools[i] = pmt_test_new_pool (NULL, 1);
      g_assert_nonnull (pmt_pool_get_name (pools[i]));
      g_assert_true (g_str_has_prefix (pmt_pool_get_name (pools[i]), "pmt-pool-"));
      for (guint j = 0; j < i; j++)
        g_assert_cmpstr (pmt_pool_get_name (pools[i]), !=, pmt_pool_get_name (pools[j]));

      found = pmt_pool_lookup (pmt_pool_get_name (pools[i]));
      g_assert_true (found == pools[i]);
      g_object_unref (found);
    }

  listed = pmt_pool_list_pools ();
  for (guint i = 0; i < G_N_ELEMENTS (pools); i++)
    g_assert_nonnull (g_list_find (listed, pools[i]));
  g_list_free_full (listed, g_object_unref);

  for (guint i = 0; i < G_N_ELEMENTS (pools); i++)
    {
      char *name = g_strdup (pmt_pool_get_name (pools[i]));
      PmtPool *found;

      pmt_test_shutdown_pool (pools[i]);
      g_object_unref (pools[i]);
      found = pmt_pool_lookup (name);
      g_assert_null (found);
      g_free (name);
    }
}

static void
test_registry_join_all (gconstpointer data)
{
  PmtPool *pools[3];
  g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(PmtTask) gated = NULL;
  GList *listed;
  PmtTestGate gate;

  pmt_test_gate_init (&gate);

  for (guint i = 0; i < G_N_ELEMENTS (pools); i++)
    {
      pools[i] = pmt_test_new_pool (NULL, 2);
      for (guint j = 0; j < 20; j++)
        g_ptr_array_add (tasks, submit (pools[i], pmt_test_return_index_func,
                                        GUINT_TO_POINTER (j)));
    }
  gated = submit (pools[1], pmt_test_gate_func, &gate);
  pmt_test_gate_wait_started (&gate, 1);

  listed = pmt_pool_list_pools ();
  for (guint i = 0; i < G_N_ELEMENTS (pools); i++)
    g_assert_nonnull (g_list_find (listed, pools[i]));
  g_list_free_full (listed, g_object_unref);

  /* One pool cannot finish in time. */
  g_assert_false (pmt_pool_join_all (20 * 1000));
  g_assert_cmpint (pmt_pool_get_state (pools[1]), !=, PMT_POOL_STATE_STOPPED);

  pmt_test_gate_open (&gate);
  g_assert_true (pmt_pool_join_all (SAFETY_TIMEOUT_USEC));
  for (guint i = 0; i < G_N_ELEMENTS (pools); i++)
    {
      g_assert_cmpint (pmt_pool_get_state (pools[i]), ==, PMT_POOL_STATE_STOPPED);
      pmt_test_assert_pool_settled (pools[i]);
    }
  for (guint i = 0; i < tasks->len; i++)
    g_assert_cmpint (pmt_task_get_state (tasks->pdata[i]), ==, PMT_TASK_STATE_SUCCEEDED);
  pmt_test_assert_task_succeeded (gated);

  for (guint i = 0; i < G_N_ELEMENTS (pools); i++)
    g_object_unref (pools[i]);
  pmt_test_gate_clear (&gate);
}

#define N_RACING_CREATORS 8

typedef struct
{
  Barrier *barrier;
  PmtPool *pool;
  GError *error;
} Creator;

static gpointer
creator_thread (gpointer data)
{
  Creator *creator = data;

  barrier_wait (creator->barrier);
  creator->pool = pmt_pool_new ("test-pool-registry-race", 1, &creator->error);

  return NULL;
}

static void
test_registry_concurrent_new (gconstpointer data)
{
  Creator creators[N_RACING_CREATORS] = { { 0 } };
  GThread *threads[N_RACING_CREATORS];
  PmtPool *winner = NULL, *found;
  Barrier barrier;
  guint n_created = 0;

  barrier_init (&barrier, N_RACING_CREATORS);
  for (guint i = 0; i < N_RACING_CREATORS; i++)
    {
      creators[i].barrier = &barrier;
      threads[i] = g_thread_new ("creator", creator_thread, &creators[i]);
    }
  for (guint i = 0; i < N_RACING_CREATORS; i++)
    g_thread_join (threads[i]);

  for (guint i = 0; i < N_RACING_CREATORS; i++)
    {
      if (creators[i].pool != NULL)
        {
          g_assert_no_error (creators[i].error);
          winner = creators[i].pool;
          n_created++;
        }
      else
        {
          g_assert_error (creators[i].error, PMT_ERROR, PMT_ERROR_NAME_IN_USE);
          g_clear_error (&creators[i].error);
        }
    }
  g_assert_cmpuint (n_created, ==, 1);

  found = pmt_pool_lookup ("test-pool-registry-race");
  g_assert_true (found == winner);
  g_object_unref (found);

  pmt_test_shutdown_pool (winner);
  g_object_unref (winner);
  found = pmt_pool_lookup ("test-pool-registry-race");
  g_assert_null (found);
  barrier_clear (&barrier);
}

/* /pmt/pool/map/... */

#define N_MAP_ITEMS 37

typedef struct
{
  GMutex mutex;
  GCond cond;
  gint n_func_calls;
  gint n_notifies;
  gint n_calls_at_notify;
} MapData;

static gboolean
map_item_fails (gint value)
{
  return value % 10 == 7;
}

static void
map_double_func (PmtTask  *task,
                 gpointer  user_data)
{
  MapData *map_data = user_data;
  const gint *item = pmt_task_get_task_data (task);

  if (map_item_fails (*item))
    pmt_task_return_new_error (task, PMT_ERROR, PMT_ERROR_FAILED, "item %d failed", *item);
  else
    pmt_task_return_int (task, *item * 2);

  g_atomic_int_inc (&map_data->n_func_calls);
}

static void
map_data_notify (gpointer user_data)
{
  MapData *map_data = user_data;

  g_mutex_lock (&map_data->mutex);
  map_data->n_notifies++;
  map_data->n_calls_at_notify = g_atomic_int_get (&map_data->n_func_calls);
  g_cond_broadcast (&map_data->cond);
  g_mutex_unlock (&map_data->mutex);
}

static void
test_map (gconstpointer data)
{
  const guint chunk_sizes[] = { 0, 1, 3, N_MAP_ITEMS, N_MAP_ITEMS + 5 };
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 4);
  MapData map_data[G_N_ELEMENTS (chunk_sizes)];
  gint64 results[G_N_ELEMENTS (chunk_sizes)][N_MAP_ITEMS];
  gint values[N_MAP_ITEMS];
  gpointer items[N_MAP_ITEMS];
  guint n_failing = 0;

  for (guint i = 0; i < N_MAP_ITEMS; i++)
    {
      values[i] = i;
      items[i] = &values[i];
      if (map_item_fails (i))
        n_failing++;
    }
  g_assert_cmpuint (n_failing, >, 0);

  for (guint c = 0; c < G_N_ELEMENTS (chunk_sizes); c++)
    {
      g_autoptr(GPtrArray) tasks = NULL;
      g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);
      g_autoptr(GError) error = NULL;
      MapData *md = &map_data[c];
      gint64 end_time;

      g_test_message ("chunk_size %u", chunk_sizes[c]);
      memset (md, 0, sizeof *md);
      g_mutex_init (&md->mutex);
      g_cond_init (&md->cond);

      tasks = pmt_pool_map (pool, map_double_func, md, map_data_notify,
                            items, N_MAP_ITEMS, chunk_sizes[c], &error);
      g_assert_no_error (error);
      g_assert_nonnull (tasks);
      g_assert_cmpuint (tasks->len, ==, N_MAP_ITEMS);
      g_assert_true (pmt_task_wait_all ((PmtTask **) tasks->pdata, tasks->len,
                                        SAFETY_TIMEOUT_USEC));

      for (guint i = 0; i < N_MAP_ITEMS; i++)
        {
          PmtTask *task = tasks->pdata[i];

          /* Input order, one task per item. */
          g_assert_true (PMT_IS_TASK (task));
          g_assert_true (pmt_task_get_task_data (task) == items[i]);
          g_assert_false (g_hash_table_contains (seen, task));
          g_hash_table_add (seen, task);

          if (map_item_fails (i))
            {
              g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_FAILED);
              g_assert_error (pmt_task_get_error (task), PMT_ERROR, PMT_ERROR_FAILED);
              g_assert_nonnull (strstr (pmt_task_get_error (task)->message, "failed"));
              g_assert_null (pmt_task_get_result (task));
              results[c][i] = -(gint64) i;
            }
          else
            {
              g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_SUCCEEDED);
              results[c][i] = pmt_test_task_get_int (task);
            }

          g_assert_cmpint (results[c][i], ==, results[0][i]);
        }

      /* With the whole input in one chunk, one worker takes it all. */
      if (chunk_sizes[c] >= N_MAP_ITEMS)
        for (guint i = 1; i < N_MAP_ITEMS; i++)
          g_assert_true (pmt_task_get_worker (tasks->pdata[i]) ==
                         pmt_task_get_worker (tasks->pdata[0]));

      /* The notify runs once, after every item's function. */
      end_time = g_get_monotonic_time () + SAFETY_TIMEOUT_USEC;
      g_mutex_lock (&md->mutex);
      while (md->n_notifies == 0)
        {
          if (!g_cond_wait_until (&md->cond, &md->mutex, end_time))
            break;
        }
      g_assert_cmpint (md->n_notifies, ==, 1);
      g_assert_cmpint (md->n_calls_at_notify, ==, N_MAP_ITEMS);
      g_mutex_unlock (&md->mutex);
      g_assert_cmpint (g_atomic_int_get (&md->n_func_calls), ==, N_MAP_ITEMS);
    }

  for (guint i = 0; i < N_MAP_ITEMS; i++)
    {
      if (map_item_fails (i))
        g_assert_cmpint (results[0][i], ==, -(gint64) i);
      else
        g_assert_cmpint (results[0][i], ==, 2 * i);
    }

  g_assert_true (pmt_pool_wait_completion (pool, SAFETY_TIMEOUT_USEC, FALSE));
  pmt_test_assert_pool_settled (pool);
  g_assert_cmpuint (pmt_pool_get_n_submitted (pool), ==, G_N_ELEMENTS (chunk_sizes) * N_MAP_ITEMS);
  g_assert_cmpuint (pmt_pool_get_n_failed (pool), ==, G_N_ELEMENTS (chunk_sizes) * n_failing);
  pmt_test_shutdown_pool (pool);

  for (guint c = 0; c < G_N_ELEMENTS (chunk_sizes); c++)
    {
      g_assert_cmpint (map_data[c].n_notifies, ==, 1);
      g_mutex_clear (&map_data[c].mutex);
      g_cond_clear (&map_data[c].cond);
    }
}

/* /pmt/pool/as-completed/... */

static void
test_as_completed_order (gconstpointer data)
{
  const guint order[] = { 2, 0, 3, 1 };
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 4);
  g_autoptr(PmtCompletionQueue) queue = NULL;
  g_autoptr(PmtTask) none = NULL;
  PmtTask *tasks[4];
  PmtTestGate gates[4];
  gint64 start;

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      pmt_test_gate_init (&gates[i]);
      tasks[i] = submit (pool, pmt_test_gate_func, &gates[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    pmt_test_gate_wait_started (&gates[i], 1);

  queue = pmt_pool_as_completed (tasks, G_N_ELEMENTS (tasks));
  g_assert_true (PMT_IS_COMPLETION_QUEUE (queue));
  g_assert_cmpuint (pmt_completion_queue_get_n_pending (queue), ==, 4);

  /* Nothing finished: a timeout. */
  start = g_get_monotonic_time ();
  none = pmt_completion_queue_next (queue, 20 * 1000);
  g_assert_null (none);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 20 * 1000);
  g_assert_null (pmt_completion_queue_next (queue, 0));
  g_assert_cmpuint (pmt_completion_queue_get_n_pending (queue), ==, 4);

  /* The first one: next() wakes for it. */
  pmt_test_gate_open (&gates[order[0]]);
  {
    g_autoptr(PmtTask) next = pmt_completion_queue_next (queue, SAFETY_TIMEOUT_USEC);
    g_assert_true (next == tasks[order[0]]);
    g_assert_true (pmt_task_is_done (next));
  }
  g_assert_cmpuint (pmt_completion_queue_get_n_pending (queue), ==, 3);

  /* The others finish one after the other before anybody asks. */
  for (guint k = 1; k < G_N_ELEMENTS (order); k++)
    {
      pmt_test_gate_open (&gates[order[k]]);
      pmt_test_assert_task_succeeded (tasks[order[k]]);
    }
  g_assert_cmpuint (pmt_completion_queue_get_n_pending (queue), ==, 3);
  for (guint k = 1; k < G_N_ELEMENTS (order); k++)
    {
      g_autoptr(PmtTask) next = pmt_completion_queue_next (queue, 0);

      g_assert_true (next == tasks[order[k]]);
      g_assert_cmpuint (pmt_completion_queue_get_n_pending (queue), ==,
                        G_N_ELEMENTS (order) - 1 - k);
    }

  /* Nothing pending: NULL at once, even without a timeout. */
  g_assert_null (pmt_completion_queue_next (queue, -1));

  /* A finished task comes back at once. */
  pmt_completion_queue_add (queue, tasks[1]);
  g_assert_cmpuint (pmt_completion_queue_get_n_pending (queue), ==, 1);
  {
    g_autoptr(PmtTask) next = pmt_completion_queue_next (queue, 0);
    g_assert_true (next == tasks[1]);
  }
  g_assert_cmpuint (pmt_completion_queue_get_n_pending (queue), ==, 0);

  g_assert_true (pmt_pool_wait_completion (pool, SAFETY_TIMEOUT_USEC, FALSE));
  pmt_test_shutdown_pool (pool);
  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      g_object_unref (tasks[i]);
      pmt_test_gate_clear (&gates[i]);
    }
}

/* The queue takes any task: one that is already done when added, and a
 * pending one that a worker finishes later are handed back in that order. */
static void
test_as_completed_mixed (gconstpointer data)
{
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 1);
  g_autoptr(PmtTask) finished = pmt_task_new (pmt_test_return_index_func, GUINT_TO_POINTER (1),
                                              NULL);
  g_autoptr(PmtTask) later = NULL;
  g_autoptr(PmtTask) first = NULL;
  g_autoptr(PmtTask) second = NULL;
  g_autoptr(PmtCompletionQueue) queue = pmt_completion_queue_new ();
  PmtTestGate gate;

  pmt_test_gate_init (&gate);
  later = submit (pool, pmt_test_gate_func, &gate);
  pmt_test_gate_wait_started (&gate, 1);
  pmt_completion_queue_add (queue, later);

  pmt_task_run (finished);
  pmt_completion_queue_add (queue, finished);
  g_assert_cmpuint (pmt_completion_queue_get_n_pending (queue), ==, 2);

  first = pmt_completion_queue_next (queue, 0);
  g_assert_true (first == finished);

  pmt_test_gate_open (&gate);
  second = pmt_completion_queue_next (queue, SAFETY_TIMEOUT_USEC);
  g_assert_true (second == later);
  g_assert_true (pmt_task_is_done (later));
  g_assert_cmpuint (pmt_completion_queue_get_n_pending (queue), ==, 0);

  pmt_test_shutdown_pool (pool);
  pmt_test_gate_clear (&gate);
}

/* /pmt/pool/nested/... */

#define NESTED_DEPTH 60

typedef enum
{
  NESTED_TASK_WAIT,
  NESTED_WAIT_ALL,
  NESTED_WAIT_ANY,
  NESTED_WAIT_COMPLETION,
  NESTED_AS_COMPLETED,
} NestedMode;

typedef struct
{
  PmtPool *pool;
  NestedMode mode;
  gint n_levels_run;
  gint n_siblings_run;
  gpointer thread;        /* the thread running level 0 */
  gint n_other_threads;   /* levels run in another thread */
} Nested;

static void
nested_sibling_func (PmtTask  *task,
                     gpointer  user_data)
{
  Nested *nested = user_data;

  g_atomic_int_inc (&nested->n_siblings_run);
  pmt_task_return_int (task, -1);
}

/* Each level submits the next one to the same pool, waits for it from
 * inside the pool, and returns what it returned: the leaf's depth. */
static void
nested_func (PmtTask  *task,
             gpointer  user_data)
{
  Nested *nested = user_data;
  guint level = GPOINTER_TO_UINT (pmt_task_get_task_data (task));
  g_autoptr(PmtTask) sub = NULL;
  g_autoptr(PmtTask) sibling = NULL;
  g_autoptr(GError) error = NULL;
  gboolean waited = FALSE;

  g_atomic_int_inc (&nested->n_levels_run);
  if (level == 0)
    g_atomic_pointer_set (&nested->thread, g_thread_self ());
  else if (g_atomic_pointer_get (&nested->thread) != g_thread_self ())
    g_atomic_int_inc (&nested->n_other_threads);

  if (level == NESTED_DEPTH)
    {
      pmt_task_return_int (task, level);
      return;
    }

  sub = pmt_task_new (nested_func, nested, NULL);
  pmt_task_set_task_data (sub, GUINT_TO_POINTER (level + 1), NULL);
  if (!pmt_pool_push (nested->pool, sub, &error))
    {
      pmt_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  switch (nested->mode)
    {
    case NESTED_TASK_WAIT:
      waited = pmt_task_wait (sub, -1);
      break;

    case NESTED_WAIT_ALL:
      {
        PmtTask *both[2];

        sibling = pmt_pool_submit (nested->pool, nested_sibling_func, nested, NULL, &error);
        if (sibling == NULL)
          {
            pmt_task_return_error (task, g_steal_pointer (&error));
            return;
          }
        both[0] = sibling;
        both[1] = sub;
        waited = pmt_task_wait_all (both, 2, -1) && pmt_task_is_done (sibling);
      }
      break;

    case NESTED_WAIT_ANY:
      waited = pmt_task_wait_any (&sub, 1, -1) == 0;
      break;

    case NESTED_WAIT_COMPLETION:
      waited = pmt_pool_wait_completion (nested->pool, -1, FALSE);
      break;

    case NESTED_AS_COMPLETED:
      {
        g_autoptr(PmtCompletionQueue) queue = pmt_pool_as_completed (&sub, 1);
        g_autoptr(PmtTask) next = pmt_completion_queue_next (queue, -1);

        waited = next == sub;
      }
      break;

    default:
      g_assert_not_reached ();
    }

  if (!waited || !pmt_task_is_done (sub))
    {
      pmt_task_return_new_error (task, PMT_ERROR, PMT_ERROR_FAILED,
                                 "level %u: the wait returned before the sub-task was done", level);
      return;
    }
  if (!pmt_task_propagate_error (sub, &error))
    {
      pmt_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  pmt_task_return_int (task, pmt_test_task_get_int (sub));
}

static void
test_nested (gconstpointer data)
{
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 1);
  g_autoptr(PmtTask) top = NULL;
  Nested nested = { 0 };
  guint n_expected;

  nested.pool = pool;
  nested.mode = GPOINTER_TO_UINT (data);

  top = pmt_task_new (nested_func, &nested, NULL);
  pmt_task_set_task_data (top, GUINT_TO_POINTER (0), NULL);
  push (pool, top);

  g_assert_true (pmt_task_wait (top, LONG_TIMEOUT_USEC));
  g_assert_no_error (pmt_task_get_error (top));
  g_assert_cmpint (pmt_task_get_state (top), ==, PMT_TASK_STATE_SUCCEEDED);
  g_assert_cmpint (pmt_test_task_get_int (top), ==, NESTED_DEPTH);
  g_assert_cmpint (g_atomic_int_get (&nested.n_levels_run), ==, NESTED_DEPTH + 1);

  g_assert_true (pmt_pool_wait_completion (pool, LONG_TIMEOUT_USEC, FALSE));
  n_expected = NESTED_DEPTH + 1;
  if (nested.mode == NESTED_WAIT_ALL)
    {
      g_assert_cmpint (g_atomic_int_get (&nested.n_siblings_run), ==, NESTED_DEPTH);
      n_expected += NESTED_DEPTH;
    }
  pmt_test_assert_pool_settled (pool);
  g_assert_cmpuint (pmt_pool_get_n_succeeded (pool), ==, n_expected);

  /* Nested work ran in the waiting thread, the pool's only worker. */
  g_assert_cmpint (g_atomic_int_get (&nested.n_other_threads), ==, 0);
  g_assert_cmpuint (pmt_pool_get_n_workers (pool), ==, 1);

  pmt_test_shutdown_pool (pool);
}

/* /pmt/pool/submit/concurrent */

#define N_SUBMITTERS 8
#define N_SUBMITS_PER_THREAD 5000

typedef struct
{
  PmtPool *pool;
  Barrier *barrier;
  guint index;
  GPtrArray *tasks;
  guint n_errors;
} Submitter;

static void
triple_plus_one_func (PmtTask  *task,
                      gpointer  user_data)
{
  pmt_task_return_int (task, 3 * (gint64) GPOINTER_TO_UINT (user_data) + 1);
}

static gpointer
submitter_thread (gpointer data)
{
  Submitter *submitter = data;

  barrier_wait (submitter->barrier);

  for (guint i = 0; i < N_SUBMITS_PER_THREAD; i++)
    {
      guint value = submitter->index * N_SUBMITS_PER_THREAD + i;
      GError *error = NULL;
      PmtTask *task = NULL;

      switch (i % 3)
        {
        case 0:
          task = pmt_pool_submit (submitter->pool, triple_plus_one_func,
                                  GUINT_TO_POINTER (value), NULL, &error);
          break;

        case 1:
          task = pmt_pool_submit_full (submitter->pool, (gint) (i % 5) - 2, triple_plus_one_func,
                                       GUINT_TO_POINTER (value), NULL, &error);
          break;

        case 2:
          task = pmt_task_new (triple_plus_one_func, GUINT_TO_POINTER (value), NULL);
          if (!pmt_pool_push (submitter->pool, task, &error))
            g_clear_object (&task);
          break;

        default:
          g_assert_not_reached ();
        }

      if (task == NULL)
        {
          submitter->n_errors++;
          g_clear_error (&error);
          continue;
        }
      g_ptr_array_add (submitter->tasks, task);
    }

  return NULL;
}

static void
test_submit_concurrent (gconstpointer data)
{
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 4);
  Submitter submitters[N_SUBMITTERS];
  GThread *threads[N_SUBMITTERS];
  Barrier barrier;

  barrier_init (&barrier, N_SUBMITTERS);
  for (guint t = 0; t < N_SUBMITTERS; t++)
    {
      submitters[t].pool = pool;
      submitters[t].barrier = &barrier;
      submitters[t].index = t;
      submitters[t].tasks = g_ptr_array_new_with_free_func (g_object_unref);
      submitters[t].n_errors = 0;
      threads[t] = g_thread_new ("submitter", submitter_thread, &submitters[t]);
    }
  for (guint t = 0; t < N_SUBMITTERS; t++)
    g_thread_join (threads[t]);

  g_assert_true (pmt_pool_wait_completion (pool, LONG_TIMEOUT_USEC, FALSE));

  for (guint t = 0; t < N_SUBMITTERS; t++)
    {
      g_assert_cmpuint (submitters[t].n_errors, ==, 0);
      g_assert_cmpuint (submitters[t].tasks->len, ==, N_SUBMITS_PER_THREAD);
      for (guint i = 0; i < N_SUBMITS_PER_THREAD; i++)
        {
          PmtTask *task = submitters[t].tasks->pdata[i];
          gint64 value = t * N_SUBMITS_PER_THREAD + i;

          g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_SUCCEEDED);
          g_assert_cmpint (pmt_test_task_get_int (task), ==, 3 * value + 1);
        }
    }

  pmt_test_assert_pool_settled (pool);
  g_assert_cmpuint (pmt_pool_get_n_submitted (pool), ==, N_SUBMITTERS * N_SUBMITS_PER_THREAD);
  g_assert_cmpuint (pmt_pool_get_n_succeeded (pool), ==, N_SUBMITTERS * N_SUBMITS_PER_THREAD);
  g_assert_cmpuint (pmt_pool_get_n_workers (pool), <=, 4);

  pmt_test_shutdown_pool (pool);
  for (guint t = 0; t < N_SUBMITTERS; t++)
    g_ptr_array_unref (submitters[t].tasks);
  barrier_clear (&barrier);
}

/* /pmt/pool/main-context/... */

typedef struct
{
  gint n_completed;
  gboolean off_thread;
  gboolean not_owner;
  GMainContext *context;
} CompletedWatch;

static void
completed_on_context_cb (PmtTask  *task,
                         gpointer  user_data)
{
  CompletedWatch *watch = user_data;

  if (g_thread_self () != main_thread)
    watch->off_thread = TRUE;
  if (!g_main_context_is_owner (watch->context))
    watch->not_owner = TRUE;
  g_atomic_int_inc (&watch->n_completed);
}

static void
test_main_context_completed (gconstpointer data)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GMainContext) own_context = g_main_context_new ();
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 2);
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(PmtTask) own = NULL;
  CompletedWatch watch = { 0 };

  g_assert_null (pmt_pool_get_main_context (pool));
  pmt_pool_set_main_context (pool, context);
  g_assert_true (pmt_pool_get_main_context (pool) == context);
  watch.context = context;

  /* A task without a context gets the pool's ... */
  task = pmt_task_new (pmt_test_return_index_func, GUINT_TO_POINTER (4), NULL);
  g_signal_connect (task, "completed", G_CALLBACK (completed_on_context_cb), &watch);
  push (pool, task);
  g_assert_true (pmt_task_get_main_context (task) == context);

  /* ... one with its own keeps it. */
  own = pmt_task_new (pmt_test_return_index_func, GUINT_TO_POINTER (5), NULL);
  pmt_task_set_main_context (own, own_context);
  push (pool, own);
  g_assert_true (pmt_task_get_main_context (own) == own_context);

  /* Waiters wake first; `completed` waits for the context to run. */
  pmt_test_assert_task_succeeded (task);
  pmt_test_assert_task_succeeded (own);
  g_assert_cmpint (pmt_test_task_get_int (task), ==, 4);
  g_assert_cmpint (g_atomic_int_get (&watch.n_completed), ==, 0);

  pmt_test_iterate_until_int (context, &watch.n_completed, 1);
  g_assert_cmpint (g_atomic_int_get (&watch.n_completed), ==, 1);
  g_assert_false (watch.off_thread);
  g_assert_false (watch.not_owner);

  g_assert_true (pmt_pool_wait_completion (pool, SAFETY_TIMEOUT_USEC, FALSE));
  pmt_test_shutdown_pool (pool);
  pmt_test_flush_context (context);
  pmt_test_flush_context (own_context);
  g_assert_cmpint (g_atomic_int_get (&watch.n_completed), ==, 1);
}

#define N_BURST_TASKS 1000

static void
test_main_context_coalesced_notify (gconstpointer data)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 4);
  g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);
  PropWatch succeeded, submitted, state;
  guint n_iterations = 0;

  pmt_pool_set_main_context (pool, context);
  prop_watch_init (&succeeded, pool, "n-succeeded");
  prop_watch_init (&submitted, pool, "n-submitted");
  prop_watch_init (&state, pool, "state");

  for (guint i = 0; i < N_BURST_TASKS; i++)
    g_ptr_array_add (tasks, submit (pool, pmt_test_return_index_func, GUINT_TO_POINTER (i)));
  g_assert_true (pmt_pool_wait_completion (pool, LONG_TIMEOUT_USEC, FALSE));
  g_assert_cmpuint (pmt_pool_get_n_succeeded (pool), ==, N_BURST_TASKS);

  /* Nothing was emitted while the context did not run ... */
  g_assert_cmpuint (succeeded.n_emissions, ==, 0);
  g_assert_cmpuint (submitted.n_emissions, ==, 0);

  /* ... and running it gives a handful of emissions, on this thread,
   * reading the final values. */
  while (g_main_context_iteration (context, FALSE))
    n_iterations++;

  g_assert_false (succeeded.off_thread);
  g_assert_false (submitted.off_thread);
  g_assert_cmpuint (succeeded.n_emissions, >=, 1);
  g_assert_cmpuint (succeeded.n_emissions, <=, n_iterations);
  g_assert_cmpuint (succeeded.n_emissions, <, N_BURST_TASKS / 10);
  g_assert_cmpuint (succeeded.last, ==, N_BURST_TASKS);
  g_assert_cmpuint (submitted.n_emissions, >=, 1);
  g_assert_cmpuint (submitted.n_emissions, <=, n_iterations);
  g_assert_cmpuint (submitted.last, ==, N_BURST_TASKS);
  g_assert_cmpuint (state.last, ==, PMT_POOL_STATE_ACTIVE);

  /* The end of the pool is announced there too. */
  pmt_test_shutdown_pool (pool);
  g_assert_cmpuint (state.last, ==, PMT_POOL_STATE_ACTIVE);
  pmt_test_flush_context (context);
  g_assert_cmpuint (state.last, ==, PMT_POOL_STATE_STOPPED);
  g_assert_false (state.off_thread);
  g_assert_cmpuint (succeeded.last, ==, N_BURST_TASKS);

  prop_watch_clear (&succeeded);
  prop_watch_clear (&submitted);
  prop_watch_clear (&state);
}

/* /pmt/pool/properties */

static void
test_properties (gconstpointer data)
{
  g_autoptr(PmtPool) pool = pmt_test_new_pool ("test-pool-properties", 0);
  g_autoptr(PmtPool) active = NULL;
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(PmtTask) task = NULL;
  g_autofree char *name = NULL;
  GMainContext *got_context = NULL;
  guint max_workers = 0, min_workers = 99;
  gint64 idle_timeout = 0;
  PmtPoolState state = PMT_POOL_STATE_STOPPED;
  PropWatch max_watch;

  g_assert_cmpstr (pmt_pool_get_name (pool), ==, "test-pool-properties");
  g_assert_cmpuint (pmt_pool_get_max_workers (pool), ==, g_get_num_processors ());
  g_assert_cmpuint (pmt_pool_get_min_workers (pool), ==, 0);
  g_assert_cmpint (pmt_pool_get_idle_timeout (pool), ==, 15 * G_USEC_PER_SEC);
  g_assert_null (pmt_pool_get_main_context (pool));
  g_assert_cmpint (pmt_pool_get_state (pool), ==, PMT_POOL_STATE_INACTIVE);
  g_assert_cmpuint (pmt_pool_get_n_workers (pool), ==, 0);
  g_assert_cmpuint (pmt_pool_get_n_busy_workers (pool), ==, 0);
  g_assert_cmpuint (pmt_pool_get_n_queued (pool), ==, 0);
  g_assert_cmpuint (pmt_pool_get_n_unfinished (pool), ==, 0);
  g_assert_cmpuint (pmt_pool_get_n_submitted (pool), ==, 0);
  g_assert_cmpuint (pmt_pool_get_n_succeeded (pool), ==, 0);
  g_assert_cmpuint (pmt_pool_get_n_failed (pool), ==, 0);
  g_assert_cmpuint (pmt_pool_get_n_cancelled (pool), ==, 0);

  g_object_get (pool,
                "name", &name,
                "max-workers", &max_workers,
                "min-workers", &min_workers,
                "idle-timeout", &idle_timeout,
                "main-context", &got_context,
                "state", &state,
                NULL);
  g_assert_cmpstr (name, ==, "test-pool-properties");
  g_assert_cmpuint (max_workers, ==, g_get_num_processors ());
  g_assert_cmpuint (min_workers, ==, 0);
  g_assert_cmpint (idle_timeout, ==, 15 * G_USEC_PER_SEC);
  g_assert_null (got_context);
  g_assert_cmpint (state, ==, PMT_POOL_STATE_INACTIVE);
  for (guint i = 0; i < 8; i++)
    {
      static const char * const counters[] = {
        "n-workers", "n-busy-workers", "n-queued", "n-unfinished",
        "n-submitted", "n-succeeded", "n-failed", "n-cancelled",
      };

      g_assert_cmpuint (get_uint_property (pool, counters[i]), ==, 0);
    }

  prop_watch_init (&max_watch, pool, "max-workers");
  g_object_set (pool,
                "max-workers", 3,
                "idle-timeout", (gint64) -1,
                "main-context", context,
                NULL);
  g_assert_cmpuint (pmt_pool_get_max_workers (pool), ==, 3);
  g_assert_cmpint (pmt_pool_get_idle_timeout (pool), ==, -1);
  g_assert_true (pmt_pool_get_main_context (pool) == context);
  g_assert_cmpuint (max_watch.n_emissions, >=, 1);
  g_assert_cmpuint (max_watch.last, ==, 3);
  prop_watch_clear (&max_watch);

  pmt_pool_set_main_context (pool, NULL);
  g_assert_null (pmt_pool_get_main_context (pool));
  pmt_pool_set_idle_timeout (pool, 1000);
  g_assert_cmpint (pmt_pool_get_idle_timeout (pool), ==, 1000);

  /* Never ran anything: it stops at once. */
  pmt_test_shutdown_pool (pool);

  /* A pool that ran: ACTIVE, and its workers know it.  (Another pool:
   * GLib 2.74's datalist bit locks are invisible to ThreadSanitizer, so a
   * pool that ever had a notify handler reports false races once worker
   * threads and this one both touch it.) */
  active = pmt_test_new_pool (NULL, 2);
  task = submit (active, pmt_test_return_index_func, GUINT_TO_POINTER (2));
  g_assert_cmpint (pmt_pool_get_state (active), ==, PMT_POOL_STATE_ACTIVE);
  pmt_test_assert_task_succeeded (task);
  g_assert_true (pmt_worker_get_pool (pmt_task_get_worker (task)) == active);
  pmt_test_shutdown_pool (active);
}

/* /pmt/pool/programming-errors */

static void
shutdown_from_task_func (PmtTask  *task,
                         gpointer  user_data)
{
  PmtPool *pool = user_data;

  pmt_task_return_boolean (task, pmt_pool_shutdown (pool, PMT_SHUTDOWN_NONE, SAFETY_TIMEOUT_USEC));
}

static void
test_programming_errors (gconstpointer data)
{
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 1);
  g_autoptr(PmtTask) running = NULL;
  g_autoptr(PmtTask) finished = NULL;
  g_autoptr(PmtTask) foreign = NULL;
  g_autoptr(PmtTask) self_shutdown = NULL;
  g_autoptr(PmtWorker) worker = NULL;
  g_autoptr(GError) error = NULL;
  gint n_runs = 0;
  PmtTask *task;
  PmtTestGate gate;

  pmt_test_gate_init (&gate);

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_POOL*");
  task = pmt_pool_submit (NULL, pmt_test_return_index_func, NULL, NULL, NULL);
  g_test_assert_expected_messages ();
  g_assert_null (task);

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*func*");
  task = pmt_pool_submit (pool, NULL, NULL, NULL, NULL);
  g_test_assert_expected_messages ();
  g_assert_null (task);

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_TASK*");
  g_assert_false (pmt_pool_push (pool, NULL, NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_POOL*");
  g_assert_null (pmt_pool_get_name (NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_POOL*");
  g_assert_false (pmt_pool_wait_completion (NULL, 0, FALSE));
  g_test_assert_expected_messages ();

  g_assert_cmpuint (pmt_pool_get_n_submitted (pool), ==, 0);

  /* Pushing a task twice: while it runs, and once it finished. */
  running = pmt_task_new (pmt_test_gate_func, &gate, NULL);
  push (pool, running);
  pmt_test_gate_wait_started (&gate, 1);
  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*submitted already*");
  g_assert_false (pmt_pool_push (pool, running, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  pmt_test_gate_open (&gate);
  pmt_test_assert_task_succeeded (running);
  g_assert_cmpuint (pmt_test_gate_get_n_started (&gate), ==, 1);

  finished = submit (pool, pmt_test_count_func, &n_runs);
  pmt_test_assert_task_succeeded (finished);
  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*submitted already*");
  g_assert_false (pmt_pool_push (pool, finished, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_true (pmt_pool_wait_completion (pool, SAFETY_TIMEOUT_USEC, FALSE));
  g_assert_cmpint (g_atomic_int_get (&n_runs), ==, 1);
  g_assert_cmpuint (pmt_pool_get_n_submitted (pool), ==, 2);

  /* A pool's worker takes its tasks from the pool only. */
  worker = g_object_ref (pmt_task_get_worker (finished));
  g_assert_true (pmt_worker_get_pool (worker) == pool);
  foreign = pmt_task_new (pmt_test_count_func, &n_runs, NULL);
  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*pool*");
  g_assert_false (pmt_worker_push (worker, foreign, &error));
  g_test_assert_expected_messages ();
  g_assert_cmpint (pmt_task_get_state (foreign), ==, PMT_TASK_STATE_PENDING);

  /* A task of the pool cannot wait for the pool to shut down. */
  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*");
  self_shutdown = submit (pool, shutdown_from_task_func, pool);
  pmt_test_assert_task_succeeded (self_shutdown);
  g_test_assert_expected_messages ();

  g_assert_cmpint (g_atomic_int_get (&n_runs), ==, 1);
  pmt_test_shutdown_pool (pool);
  pmt_test_gate_clear (&gate);
}

/* Regressions of nested waits, construction by properties and huge
 * timeouts */

static void
return_id_func (PmtTask  *task,
                gpointer  user_data)
{
  pmt_task_return_int (task, GPOINTER_TO_INT (user_data));
}

typedef struct
{
  PmtPool *pool;
  gint64 timeout_usec;
} AsCompletedNested;

/* Submits three sub-tasks to its own pool and counts them back through a
 * completion queue. */
static void
as_completed_three_func (PmtTask  *task,
                         gpointer  user_data)
{
  AsCompletedNested *nested = user_data;
  g_autoptr(PmtCompletionQueue) queue = NULL;
  PmtTask *subs[3];
  gint n_back = 0;

  for (guint i = 0; i < G_N_ELEMENTS (subs); i++)
    subs[i] = submit (nested->pool, return_id_func, GINT_TO_POINTER (i));

  queue = pmt_pool_as_completed (subs, G_N_ELEMENTS (subs));
  for (PmtTask *done; (done = pmt_completion_queue_next (queue, nested->timeout_usec)) != NULL;
       g_object_unref (done))
    n_back++;

  for (guint i = 0; i < G_N_ELEMENTS (subs); i++)
    g_object_unref (subs[i]);
  pmt_task_return_int (task, n_back);
}

/* A completion queue waited on inside the pool runs the pool's queued
 * work, as every nested wait does: with one worker, nobody else can. */
static void
test_nested_as_completed_three (gconstpointer data)
{
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 1);
  AsCompletedNested nested = { pool, GPOINTER_TO_INT (data) ? -1 : 2 * G_USEC_PER_SEC };
  g_autoptr(PmtTask) top = submit (pool, as_completed_three_func, &nested);

  g_assert_true (pmt_task_wait (top, LONG_TIMEOUT_USEC));
  g_assert_cmpint (pmt_test_task_get_int (top), ==, 3);
  pmt_test_shutdown_pool (pool);
}

typedef struct
{
  GMutex mutex;
  GCond cond;
  GPtrArray *tasks;     /* published once pmt_pool_map() returned */
  guint *waits_for;     /* item → the item it waits for, or itself */
  gint n_waited;
} MapSiblings;

static PmtTask *
map_siblings_get (MapSiblings *siblings,
                  guint        index)
{
  PmtTask *task;

  g_mutex_lock (&siblings->mutex);
  while (siblings->tasks == NULL)
    g_cond_wait (&siblings->cond, &siblings->mutex);
  task = g_ptr_array_index (siblings->tasks, index);
  g_mutex_unlock (&siblings->mutex);

  return task;
}

static void
map_sibling_func (PmtTask  *task,
                  gpointer  user_data)
{
  MapSiblings *siblings = user_data;
  guint item = GPOINTER_TO_UINT (pmt_task_get_task_data (task)) - 1;
  guint other = siblings->waits_for[item];

  if (other != item)
    {
      if (!pmt_task_wait (map_siblings_get (siblings, other), SAFETY_TIMEOUT_USEC))
        {
          pmt_task_return_new_error (task, PMT_ERROR, PMT_ERROR_TIMED_OUT,
                                     "item %u timed out waiting for item %u", item, other);
          return;
        }
      g_atomic_int_inc (&siblings->n_waited);
    }
  pmt_task_return_int (task, item);
}

typedef struct
{
  guint max_workers;
  guint chunk_size;
  guint n_items;
  guint waits_for[4];
} MapSiblingCase;

/* Item 0 waits for item 1, which its own chunk holds (one worker, one
 * chunk of two). */
static const MapSiblingCase map_sibling_same_chunk = { 1, 2, 2, { 1, 1 } };
/* Two chunks of two on two workers, each waiting for an item of the
 * other's chunk that nobody started. */
static const MapSiblingCase map_sibling_cross_chunks = { 2, 0, 4, { 3, 1, 1, 3 } };

static void
test_nested_map_sibling (gconstpointer data)
{
  const MapSiblingCase *test = data;
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, test->max_workers);
  g_autoptr(GError) error = NULL;
  MapSiblings siblings = { 0 };
  gpointer items[4];
  GPtrArray *tasks;
  guint n_waiting = 0;

  g_mutex_init (&siblings.mutex);
  g_cond_init (&siblings.cond);
  siblings.waits_for = (guint *) test->waits_for;
  for (guint i = 0; i < test->n_items; i++)
    {
      items[i] = GUINT_TO_POINTER (i + 1);
      n_waiting += test->waits_for[i] != i;
    }

  tasks = pmt_pool_map (pool, map_sibling_func, &siblings, NULL, items, test->n_items,
                        test->chunk_size, &error);
  g_assert_no_error (error);
  g_mutex_lock (&siblings.mutex);
  siblings.tasks = tasks;
  g_cond_broadcast (&siblings.cond);
  g_mutex_unlock (&siblings.mutex);

  g_assert_true (pmt_task_wait_all ((PmtTask **) tasks->pdata, tasks->len, LONG_TIMEOUT_USEC));
  for (guint i = 0; i < tasks->len; i++)
    {
      g_assert_no_error (pmt_task_get_error (g_ptr_array_index (tasks, i)));
      g_assert_cmpint (pmt_test_task_get_int (g_ptr_array_index (tasks, i)), ==, i);
    }
  g_assert_cmpint (g_atomic_int_get (&siblings.n_waited), ==, n_waiting);

  pmt_test_shutdown_pool (pool);
  g_ptr_array_unref (tasks);
  g_mutex_clear (&siblings.mutex);
  g_cond_clear (&siblings.cond);
}

static void
wait_self_in_pool_func (PmtTask  *task,
                        gpointer  user_data)
{
  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*cannot wait for itself*");
  pmt_task_return_boolean (task, pmt_task_wait (task, -1));
  g_test_assert_expected_messages ();
}

static void
test_nested_wait_self (void)
{
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 1);
  g_autoptr(PmtTask) task = submit (pool, wait_self_in_pool_func, NULL);
  const GValue *result;

  g_assert_true (pmt_task_wait (task, SAFETY_TIMEOUT_USEC));
  result = pmt_task_get_result (task);
  g_assert_nonnull (result);
  g_assert_false (g_value_get_boolean (result));
  pmt_test_shutdown_pool (pool);
}

/* A task that holds a limiter, waits in the pool's only worker for a
 * sub-task queued behind a task that needs the same limiter. */
typedef struct
{
  PmtPool *pool;
  PmtTestGate gate;       /* holds the outer task until the other is queued */
  gboolean sub_done;      /* what the nested wait returned */
} HeldLimiter;

static void
held_limiter_outer_func (PmtTask  *task,
                         gpointer  user_data)
{
  HeldLimiter *held = user_data;
  g_autoptr(PmtTask) sub = NULL;

  pmt_test_gate_pass (&held->gate);
  sub = submit (held->pool, return_id_func, NULL);
  held->sub_done = pmt_task_wait (sub, SAFETY_TIMEOUT_USEC);
}

/* The wait must not run the task queued first: its limiter is held by
 * the very task that waits, so it would block the wait's thread for
 * ever.  It runs the sub-task, and the other one after (found by the
 * model tests: the pool hung). */
static void
test_nested_held_limiter (void)
{
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (1);
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 1);
  g_autoptr(PmtTask) limited = pmt_task_new (return_id_func, NULL, NULL);
  g_autoptr(PmtTask) outer = NULL;
  g_autoptr(GError) error = NULL;
  HeldLimiter held = { pool };

  pmt_test_gate_init (&held.gate);
  outer = pmt_task_new (held_limiter_outer_func, &held, NULL);
  pmt_task_set_limiter (outer, limiter);
  pmt_task_set_limiter (limited, limiter);

  g_assert_true (pmt_pool_push (pool, outer, &error));
  pmt_test_gate_wait_started (&held.gate, 1);
  g_assert_true (pmt_pool_push (pool, limited, &error));
  g_assert_no_error (error);
  pmt_test_gate_open (&held.gate);

  pmt_test_assert_task_succeeded (outer);
  g_assert_true (held.sub_done);
  pmt_test_assert_task_succeeded (limited);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 1);

  pmt_test_shutdown_pool (pool);
  pmt_test_gate_clear (&held.gate);
}

/* A pool made from properties, as bindings make it, is registered and
 * refuses a name in use like pmt_pool_new(). */
static void
test_registry_by_properties (void)
{
  const char *name = "test-registry-by-properties";
  g_autoptr(PmtPool) pool = g_object_new (PMT_TYPE_POOL, "name", name, NULL);
  g_autoptr(PmtPool) found = pmt_pool_lookup (name);
  g_autoptr(PmtPool) clash = NULL;
  g_autoptr(PmtPool) still = NULL;
  g_autoptr(PmtTask) task = pmt_task_new (return_id_func, NULL, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (found == pool);
  g_assert_true (g_initable_init (G_INITABLE (pool), NULL, &error));
  g_assert_no_error (error);

  clash = g_object_new (PMT_TYPE_POOL, "name", name, NULL);
  g_assert_false (g_initable_init (G_INITABLE (clash), NULL, &error));
  g_assert_error (error, PMT_ERROR, PMT_ERROR_NAME_IN_USE);
  g_clear_error (&error);

  /* The loser is not in the registry and takes no work. */
  still = pmt_pool_lookup (name);
  g_assert_true (still == pool);
  g_assert_false (pmt_pool_push (clash, task, &error));
  g_assert_error (error, PMT_ERROR, PMT_ERROR_NAME_IN_USE);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_PENDING);
  g_clear_error (&error);
  g_assert_null (pmt_pool_submit (clash, return_id_func, NULL, NULL, &error));
  g_assert_error (error, PMT_ERROR, PMT_ERROR_NAME_IN_USE);
  g_clear_error (&error);

  /* Made without a name, a pool gets one, like pmt_pool_new (NULL). */
  {
    g_autoptr(PmtPool) unnamed = g_object_new (PMT_TYPE_POOL, NULL);
    g_autoptr(PmtPool) unnamed_found = pmt_pool_lookup (pmt_pool_get_name (unnamed));

    g_assert_true (unnamed_found == unnamed);
  }

  g_assert_true (pmt_pool_push (pool, task, &error));
  g_assert_no_error (error);
  pmt_test_shutdown_pool (pool);
  pmt_test_shutdown_pool (clash);
}

/* min-workers among the construct properties: the workers start once the
 * name is taken, and never for a pool whose name was in use (nobody would
 * stop them). */
static void
test_registry_min_workers_by_properties (void)
{
  const char *name = "test-registry-min-workers";
  g_autoptr(PmtPool) pool = NULL;
  g_autoptr(PmtPool) clash = NULL;
  g_autoptr(GError) error = NULL;

  pool = g_object_new (PMT_TYPE_POOL, "name", name, "max-workers", 3, "min-workers", 2, NULL);
  g_assert_true (g_initable_init (G_INITABLE (pool), NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (pmt_pool_get_n_workers (pool), ==, 2);

  clash = g_object_new (PMT_TYPE_POOL, "name", name, "max-workers", 3, "min-workers", 3, NULL);
  g_assert_false (g_initable_init (G_INITABLE (clash), NULL, &error));
  g_assert_error (error, PMT_ERROR, PMT_ERROR_NAME_IN_USE);
  g_assert_cmpuint (pmt_pool_get_n_workers (clash), ==, 0);

  /* Nor later, when its bounds change. */
  pmt_pool_set_min_workers (clash, 1);
  g_assert_cmpuint (pmt_pool_get_n_workers (clash), ==, 0);

  pmt_test_shutdown_pool (pool);
  pmt_test_shutdown_pool (clash);
  g_assert_cmpuint (pmt_pool_get_n_workers (pool), ==, 0);
}

/* A task made without a function, as bindings can make one. */
static void
test_bare_task_in_pool (void)
{
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 1);
  g_autoptr(PmtTask) task = g_object_new (PMT_TYPE_TASK, NULL);

  push (pool, task);
  g_assert_true (pmt_pool_wait_completion (pool, SAFETY_TIMEOUT_USEC, FALSE));
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_FAILED);
  g_assert_error (pmt_task_get_error (task), PMT_ERROR, PMT_ERROR_INVALID);
  g_assert_cmpuint (pmt_pool_get_n_failed (pool), ==, 1);
  pmt_test_shutdown_pool (pool);
}

typedef enum
{
  HUGE_WAIT_COMPLETION,
  HUGE_JOIN,
  HUGE_SHUTDOWN,
  HUGE_JOIN_ALL,
} HugePoolWait;

static void
test_huge_timeout (gconstpointer data)
{
  HugePoolWait kind = GPOINTER_TO_UINT (data);
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 1);
  g_autoptr(PmtTask) task = NULL;
  PmtTestGate gate;
  GThread *opener;

  /* Idle workers wait for that long: it must not overflow either. */
  pmt_pool_set_idle_timeout (pool, G_MAXINT64);

  pmt_test_gate_init (&gate);
  task = submit (pool, pmt_test_gate_func, &gate);
  pmt_test_gate_wait_started (&gate, 1);

  opener = pmt_test_call_later ((GDestroyNotify) pmt_test_gate_open, &gate);
  switch (kind)
    {
    case HUGE_WAIT_COMPLETION:
      g_assert_true (pmt_pool_wait_completion (pool, G_MAXINT64, FALSE));
      break;
    case HUGE_JOIN:
      g_assert_true (pmt_pool_join (pool, G_MAXINT64));
      break;
    case HUGE_SHUTDOWN:
      g_assert_true (pmt_pool_shutdown (pool, PMT_SHUTDOWN_NONE, G_MAXINT64));
      break;
    case HUGE_JOIN_ALL:
    default:
      g_assert_true (pmt_pool_join_all (G_MAXINT64));
      break;
    }
  g_thread_join (opener);

  pmt_test_assert_task_succeeded (task);
  pmt_test_shutdown_pool (pool);
  pmt_test_gate_clear (&gate);
}


static void
return_value_func (PmtTask  *task,
                   gpointer  user_data)
{
  pmt_task_return_value (task, pmt_task_get_task_value (task));
}

/* map() for bindings: one task per GValue, in order. */
static void
test_map_values (void)
{
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 2);
  g_autoptr(GPtrArray) tasks = NULL;
  g_autoptr(GError) error = NULL;
  GValue items[5] = { G_VALUE_INIT, };

  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    {
      g_value_init (&items[i], G_TYPE_UINT);
      g_value_set_uint (&items[i], 10 * i);
    }

  tasks = pmt_pool_map_values (pool, return_value_func, NULL, NULL, items, G_N_ELEMENTS (items),
                               2, &error);
  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    g_value_unset (&items[i]);
  g_assert_no_error (error);
  g_assert_cmpuint (tasks->len, ==, G_N_ELEMENTS (items));
  g_assert_true (pmt_task_wait_all ((PmtTask **) tasks->pdata, tasks->len, SAFETY_TIMEOUT_USEC));
  for (guint i = 0; i < tasks->len; i++)
    g_assert_cmpuint (g_value_get_uint (pmt_task_get_result (g_ptr_array_index (tasks, i))), ==,
                      10 * i);

  pmt_test_shutdown_pool (pool);
}

/* /pmt/pool/map-full/priority: the tasks of a map carry its priority and
 * pass tasks waiting at a lower one (a higher number). */

typedef struct
{
  GMutex mutex;
  guint order[16];
  guint n_run;
} MapOrder;

static void
map_order_record (MapOrder *log,
                  guint     index)
{
  g_mutex_lock (&log->mutex);
  g_assert_cmpuint (log->n_run, <, G_N_ELEMENTS (log->order));
  log->order[log->n_run++] = index;
  g_mutex_unlock (&log->mutex);
}

static void
map_order_pointer_func (PmtTask  *task,
                        gpointer  user_data)
{
  map_order_record (user_data, GPOINTER_TO_UINT (pmt_task_get_task_data (task)));
}

static void
map_order_value_func (PmtTask  *task,
                      gpointer  user_data)
{
  map_order_record (user_data, g_value_get_uint (pmt_task_get_task_value (task)));
}

static void
map_order_late_func (PmtTask  *task,
                     gpointer  user_data)
{
  map_order_record (user_data, 99);
}

static void
test_map_full_priority (void)
{
  static const guint expected[] = { 1, 2, 3, 10, 20, 30, 99 };
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 1);
  g_autoptr(PmtTask) gate_task = NULL;
  g_autoptr(PmtTask) late = NULL;
  g_autoptr(GPtrArray) pointer_tasks = NULL;
  g_autoptr(GPtrArray) value_tasks = NULL;
  g_autoptr(GError) error = NULL;
  gpointer pointers[3] = { GUINT_TO_POINTER (1), GUINT_TO_POINTER (2), GUINT_TO_POINTER (3) };
  GValue values[3] = { G_VALUE_INIT, G_VALUE_INIT, G_VALUE_INIT };
  MapOrder log = { 0 };
  PmtTestGate gate;

  pmt_test_gate_init (&gate);
  g_mutex_init (&log.mutex);

  /* Hold the only worker, so that every task below waits in the queue. */
  gate_task = submit (pool, pmt_test_gate_func, &gate);
  pmt_test_gate_wait_started (&gate, 1);

  late = pmt_pool_submit_full (pool, 5, map_order_late_func, &log, NULL, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      g_value_init (&values[i], G_TYPE_UINT);
      g_value_set_uint (&values[i], 10 * (i + 1));
    }
  value_tasks = pmt_pool_map_values_full (pool, 0, map_order_value_func, &log, NULL, values,
                                          G_N_ELEMENTS (values), 2, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    g_value_unset (&values[i]);

  pointer_tasks = pmt_pool_map_full (pool, -5, map_order_pointer_func, &log, NULL, pointers,
                                     G_N_ELEMENTS (pointers), 2, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < 3; i++)
    {
      g_assert_cmpint (pmt_task_get_priority (value_tasks->pdata[i]), ==, 0);
      g_assert_cmpint (pmt_task_get_priority (pointer_tasks->pdata[i]), ==, -5);
    }

  pmt_test_gate_open (&gate);
  g_assert_true (pmt_pool_wait_completion (pool, LONG_TIMEOUT_USEC, FALSE));
  pmt_test_assert_task_succeeded (late);

  g_mutex_lock (&log.mutex);
  g_assert_cmpmem (log.order, log.n_run * sizeof (guint), expected, sizeof expected);
  g_mutex_unlock (&log.mutex);

  pmt_test_shutdown_pool (pool);
  g_mutex_clear (&log.mutex);
  pmt_test_gate_clear (&gate);
}

static void
count_in_thread_cb (PmtTask  *task,
                    gpointer  user_data)
{
  GThread **thread = user_data;

  *thread = g_thread_self ();
}

/* A pool for the caller's main context: completions come there. */
static void
test_new_for_context (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(PmtPool) pool = NULL;
  g_autoptr(PmtPool) default_pool = NULL;
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(GError) error = NULL;
  GThread *thread = NULL;

  pool = pmt_pool_new_for_context (NULL, 2, context, &error);
  g_assert_no_error (error);
  g_assert_true (pmt_pool_get_main_context (pool) == context);
  task = submit (pool, return_id_func, NULL);
  g_signal_connect (task, "completed", G_CALLBACK (count_in_thread_cb), &thread);
  g_assert_true (pmt_task_wait (task, SAFETY_TIMEOUT_USEC));
  while (thread == NULL)
    g_main_context_iteration (context, TRUE);
  g_assert_true (thread == g_thread_self ());
  pmt_test_shutdown_pool (pool);

  g_main_context_push_thread_default (context);
  default_pool = pmt_pool_new_for_context (NULL, 1, NULL, &error);
  g_main_context_pop_thread_default (context);
  g_assert_no_error (error);
  g_assert_true (pmt_pool_get_main_context (default_pool) == context);
  pmt_test_shutdown_pool (default_pool);
}

typedef struct
{
  GMutex mutex;
  GHashTable *started;      /* threads that got worker-started */
  guint n_started;
  guint n_stopped;
  gint n_mismatched;        /* tasks run in a thread that got no start */
} WorkerSignals;

static void
on_worker_started (PmtPool   *pool,
                   PmtWorker *worker,
                   gpointer   user_data)
{
  WorkerSignals *signals = user_data;

  g_assert_true (pmt_worker_get_pool (worker) == pool);
  g_mutex_lock (&signals->mutex);
  g_hash_table_add (signals->started, g_thread_self ());
  signals->n_started++;
  g_mutex_unlock (&signals->mutex);
}

static void
on_worker_stopped (PmtPool   *pool,
                   PmtWorker *worker,
                   gpointer   user_data)
{
  WorkerSignals *signals = user_data;

  g_mutex_lock (&signals->mutex);
  if (!g_hash_table_remove (signals->started, g_thread_self ()))
    signals->n_mismatched++;
  signals->n_stopped++;
  g_mutex_unlock (&signals->mutex);
}

static void
check_started_here_func (PmtTask  *task,
                         gpointer  user_data)
{
  WorkerSignals *signals = user_data;

  g_mutex_lock (&signals->mutex);
  if (!g_hash_table_contains (signals->started, g_thread_self ()))
    signals->n_mismatched++;
  g_mutex_unlock (&signals->mutex);
}

/* worker-started runs in each worker's thread before its work, and
 * worker-stopped there after it, before the pool can stop. */
static void
test_worker_signals (void)
{
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 2);
  WorkerSignals signals = { 0 };
  PmtTask *tasks[50];

  g_mutex_init (&signals.mutex);
  signals.started = g_hash_table_new (NULL, NULL);
  g_signal_connect (pool, "worker-started", G_CALLBACK (on_worker_started), &signals);
  g_signal_connect (pool, "worker-stopped", G_CALLBACK (on_worker_stopped), &signals);

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    tasks[i] = submit (pool, check_started_here_func, &signals);
  g_assert_true (pmt_task_wait_all (tasks, G_N_ELEMENTS (tasks), SAFETY_TIMEOUT_USEC));
  pmt_test_shutdown_pool (pool);

  /* Shut down: every worker's handlers ran, in its own thread. */
  g_assert_cmpuint (signals.n_started, >=, 1);
  g_assert_cmpuint (signals.n_started, ==, signals.n_stopped);
  g_assert_cmpint (signals.n_mismatched, ==, 0);
  g_assert_cmpuint (g_hash_table_size (signals.started), ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    g_object_unref (tasks[i]);
  g_hash_table_unref (signals.started);
  g_mutex_clear (&signals.mutex);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  main_thread = g_thread_self ();

  pmt_test_add_guarded ("/pmt/pool/priority/order-and-fifo-ties", NULL, test_priority_order,
                        WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/autoscale/up-to-max", NULL, test_autoscale_up_to_max,
                        WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/autoscale/idle-shrink-to-min", NULL, test_autoscale_idle_shrink,
                        WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/autoscale/min-workers-at-once", NULL,
                        test_autoscale_min_workers, WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/max-workers/changed-under-load", NULL, test_max_workers_changed,
                        WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/refusal/blocked", NULL, test_refusal_blocked,
                        WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/refusal/stopped", NULL, test_refusal_stopped,
                        WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/shutdown/none", GUINT_TO_POINTER (PMT_SHUTDOWN_NONE),
                        test_shutdown_flags, WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/shutdown/cancel-queued",
                        GUINT_TO_POINTER (PMT_SHUTDOWN_CANCEL_QUEUED), test_shutdown_flags,
                        WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/shutdown/cancel-running",
                        GUINT_TO_POINTER (PMT_SHUTDOWN_CANCEL_RUNNING), test_shutdown_flags,
                        WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/shutdown/cancel-queued-and-running",
                        GUINT_TO_POINTER (PMT_SHUTDOWN_CANCEL_QUEUED | PMT_SHUTDOWN_CANCEL_RUNNING),
                        test_shutdown_flags, WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/shutdown/timeout", NULL, test_shutdown_timeout,
                        WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/join", NULL, test_join, WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/registry/unique-name", NULL, test_registry_unique_name,
                        WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/registry/generated-names", NULL, test_registry_generated_names,
                        WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/registry/join-all", NULL, test_registry_join_all,
                        WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/registry/concurrent-new", NULL, test_registry_concurrent_new,
                        WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/map/order-and-chunking", NULL, test_map, WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/as-completed/order", NULL, test_as_completed_order,
                        WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/as-completed/mixed", NULL, test_as_completed_mixed,
                        WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/nested/task-wait", GUINT_TO_POINTER (NESTED_TASK_WAIT),
                        test_nested, WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/nested/wait-all", GUINT_TO_POINTER (NESTED_WAIT_ALL),
                        test_nested, WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/nested/wait-any", GUINT_TO_POINTER (NESTED_WAIT_ANY),
                        test_nested, WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/nested/wait-completion",
                        GUINT_TO_POINTER (NESTED_WAIT_COMPLETION), test_nested,
                        WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/nested/as-completed", GUINT_TO_POINTER (NESTED_AS_COMPLETED),
                        test_nested, WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/nested/as-completed-three", GINT_TO_POINTER (FALSE),
                        test_nested_as_completed_three, WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/nested/as-completed-three-forever", GINT_TO_POINTER (TRUE),
                        test_nested_as_completed_three, WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/nested/map-sibling-same-chunk", &map_sibling_same_chunk,
                        test_nested_map_sibling, WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/nested/map-sibling-cross-chunks", &map_sibling_cross_chunks,
                        test_nested_map_sibling, WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/pool/nested/held-limiter", test_nested_held_limiter,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/pool/nested/wait-self-is-critical", test_nested_wait_self,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/pool/registry/min-workers-by-properties",
                             test_registry_min_workers_by_properties, WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/pool/registry/by-properties", test_registry_by_properties,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/pool/bare-task-fails", test_bare_task_in_pool,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/timeout/huge/wait-completion",
                        GUINT_TO_POINTER (HUGE_WAIT_COMPLETION), test_huge_timeout,
                        WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/timeout/huge/join", GUINT_TO_POINTER (HUGE_JOIN),
                        test_huge_timeout, WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/timeout/huge/shutdown", GUINT_TO_POINTER (HUGE_SHUTDOWN),
                        test_huge_timeout, WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/timeout/huge/join-all", GUINT_TO_POINTER (HUGE_JOIN_ALL),
                        test_huge_timeout, WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/submit/concurrent", NULL, test_submit_concurrent,
                        WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/main-context/completed", NULL, test_main_context_completed,
                        WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/main-context/coalesced-notify", NULL,
                        test_main_context_coalesced_notify, WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/properties", NULL, test_properties, WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded ("/pmt/pool/programming-errors", NULL, test_programming_errors,
                        WATCHDOG_TIMEOUT_USEC);

  pmt_test_add_guarded_func ("/pmt/pool/map-values", test_map_values, WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/pool/map-full/priority", test_map_full_priority,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/pool/new-for-context", test_new_for_context,
                             WATCHDOG_TIMEOUT_USEC);

  pmt_test_add_guarded_func ("/pmt/pool/worker-signals", test_worker_signals,
                             WATCHDOG_TIMEOUT_USEC);

  return g_test_run ();
}
