/* test-pool-execute.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Jobs: calls queued by pmt_pool_execute(), with no task object. */

#include <pmt.h>

#include "pmt-test-utils.h"

#define SAFETY_TIMEOUT_USEC PMT_TEST_SAFETY_TIMEOUT_USEC
#define N_JOBS              1000
#define N_THREADS           8
#define N_JOBS_PER_THREAD   5000
#define NESTED_DEPTH        60

static void
execute (PmtPool        *pool,
         gint            priority,
         PmtJobFunc      func,
         gpointer        user_data,
         GDestroyNotify  notify)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (pmt_pool_execute_full (pool, priority, func, user_data, notify, &error));
  g_assert_no_error (error);
}

/* Holds the only worker of @pool in @gate, which it initializes; returns
 * the task that holds it. */
static PmtTask *
hold_only_worker (PmtPool     *pool,
                  PmtTestGate *gate)
{
  PmtTask *task;

  pmt_test_gate_init (gate);
  task = pmt_pool_submit (pool, pmt_test_gate_func, gate, NULL, NULL);
  pmt_test_gate_wait_started (gate, 1);

  return task;
}

/* One job's record: its function must run before its notify. */
typedef struct
{
  gint n_runs;
  gint n_notified;
  gint notified_before_run;
  GThread *run_thread;
  GThread *notify_thread;
} JobRecord;

static void
record_run (gpointer user_data)
{
  JobRecord *record = user_data;

  record->run_thread = g_thread_self ();
  g_atomic_int_inc (&record->n_runs);
}

static void
record_notify (gpointer user_data)
{
  JobRecord *record = user_data;

  if (g_atomic_int_get (&record->n_runs) == 0)
    g_atomic_int_inc (&record->notified_before_run);
  record->notify_thread = g_thread_self ();
  g_atomic_int_inc (&record->n_notified);
}

static void
test_runs_and_notifies (void)
{
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 2);
  JobRecord *records = g_new0 (JobRecord, N_JOBS);

  for (guint i = 0; i < N_JOBS; i++)
    execute (pool, G_PRIORITY_DEFAULT, record_run, &records[i], record_notify);

  g_assert_true (pmt_pool_wait_completion (pool, SAFETY_TIMEOUT_USEC, FALSE));
  for (guint i = 0; i < N_JOBS; i++)
    {
      g_assert_cmpint (records[i].n_runs, ==, 1);
      g_assert_cmpint (records[i].n_notified, ==, 1);
      g_assert_cmpint (records[i].notified_before_run, ==, 0);
      g_assert_true (records[i].run_thread != g_thread_self ());
    }
  g_assert_cmpuint (pmt_pool_get_n_submitted (pool), ==, N_JOBS);
  g_assert_cmpuint (pmt_pool_get_n_succeeded (pool), ==, N_JOBS);
  pmt_test_assert_pool_settled (pool);

  /* The default priority, and no notify at all. */
  g_assert_true (pmt_pool_execute (pool, record_run, &records[0], NULL, NULL));
  g_assert_true (pmt_pool_wait_completion (pool, SAFETY_TIMEOUT_USEC, FALSE));
  g_assert_cmpint (records[0].n_runs, ==, 2);
  g_assert_cmpint (records[0].n_notified, ==, 1);

  pmt_test_shutdown_pool (pool);
  g_free (records);
}

/* Jobs and tasks share one order: by priority, then submission. */

typedef struct
{
  GMutex mutex;
  guint order[64];
  guint n_run;
} OrderLog;

typedef struct
{
  OrderLog *log;
  guint index;
  gint priority;
} OrderItem;

static void
log_index (OrderItem *item)
{
  g_mutex_lock (&item->log->mutex);
  item->log->order[item->log->n_run++] = item->index;
  g_mutex_unlock (&item->log->mutex);
}

static void
order_job (gpointer user_data)
{
  log_index (user_data);
}

static void
order_task (G_GNUC_UNUSED PmtTask *task,
            gpointer               user_data)
{
  log_index (user_data);
}

static gint
order_item_compare (gconstpointer a,
                    gconstpointer b)
{
  const OrderItem *item_a = a;
  const OrderItem *item_b = b;

  if (item_a->priority != item_b->priority)
    return item_a->priority < item_b->priority ? -1 : 1;

  return item_a->index < item_b->index ? -1 : item_a->index > item_b->index;
}

static void
test_priority_order (void)
{
  static const gint priorities[] = {
    0, G_MAXINT, -1, 0, G_MININT, 1, 0, -1, G_MAXINT, 5,
    0, G_MININT, 1, 3, -1, 0, 2, 0, G_MININT, 7,
  };
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 1);
  g_autoptr(PmtTask) gate_task = NULL;
  g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);
  OrderItem items[G_N_ELEMENTS (priorities)];
  OrderItem sorted[G_N_ELEMENTS (priorities)];
  OrderLog log = { 0 };
  PmtTestGate gate;

  g_mutex_init (&log.mutex);
  gate_task = hold_only_worker (pool, &gate);

  /* Every third one a task, the others jobs. */
  for (guint i = 0; i < G_N_ELEMENTS (priorities); i++)
    {
      items[i] = (OrderItem) { &log, i, priorities[i] };
      if (i % 3 == 0)
        g_ptr_array_add (tasks, pmt_pool_submit_full (pool, priorities[i], order_task,
                                                      &items[i], NULL, NULL));
      else
        execute (pool, priorities[i], order_job, &items[i], NULL);
    }
  g_assert_cmpuint (pmt_pool_get_n_queued (pool), ==, G_N_ELEMENTS (priorities));

  pmt_test_gate_open (&gate);
  g_assert_true (pmt_pool_wait_completion (pool, SAFETY_TIMEOUT_USEC, FALSE));

  memcpy (sorted, items, sizeof items);
  qsort (sorted, G_N_ELEMENTS (sorted), sizeof sorted[0], order_item_compare);
  g_assert_cmpuint (log.n_run, ==, G_N_ELEMENTS (priorities));
  for (guint i = 0; i < G_N_ELEMENTS (priorities); i++)
    g_assert_cmpuint (log.order[i], ==, sorted[i].index);

  pmt_test_shutdown_pool (pool);
  pmt_test_gate_clear (&gate);
  g_mutex_clear (&log.mutex);
}

static void
test_refused (void)
{
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 1);
  g_autoptr(GError) error = NULL;
  JobRecord record = { 0 };

  pmt_test_shutdown_pool (pool);

  g_assert_false (pmt_pool_execute (pool, record_run, &record, record_notify, &error));
  g_assert_error (error, PMT_ERROR, PMT_ERROR_STOPPED);
  g_assert_cmpint (record.n_runs, ==, 0);
  g_assert_cmpint (record.n_notified, ==, 1);
  g_assert_true (record.notify_thread == g_thread_self ());
  g_assert_cmpuint (pmt_pool_get_n_submitted (pool), ==, 0);
}

static void
test_shutdown_cancels_queued (void)
{
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 1);
  g_autoptr(PmtTask) gate_task = NULL;
  JobRecord *records = g_new0 (JobRecord, N_JOBS);
  PmtTestGate gate;

  gate_task = hold_only_worker (pool, &gate);
  for (guint i = 0; i < N_JOBS; i++)
    execute (pool, G_PRIORITY_DEFAULT, record_run, &records[i], record_notify);

  /* Without waiting: the gate still holds the only worker. */
  g_assert_false (pmt_pool_shutdown (pool, PMT_SHUTDOWN_CANCEL_QUEUED, 0));
  for (guint i = 0; i < N_JOBS; i++)
    {
      g_assert_cmpint (records[i].n_runs, ==, 0);
      g_assert_cmpint (records[i].n_notified, ==, 1);
    }
  g_assert_cmpuint (pmt_pool_get_n_cancelled (pool), ==, N_JOBS);
  g_assert_cmpuint (pmt_pool_get_n_queued (pool), ==, 0);
  g_assert_cmpuint (pmt_pool_get_n_unfinished (pool), ==, 1);

  pmt_test_gate_open (&gate);
  g_assert_true (pmt_pool_shutdown (pool, PMT_SHUTDOWN_NONE, SAFETY_TIMEOUT_USEC));
  pmt_test_assert_task_succeeded (gate_task);
  g_assert_cmpuint (pmt_pool_get_n_succeeded (pool), ==, 1);
  pmt_test_assert_pool_settled (pool);

  pmt_test_gate_clear (&gate);
  g_free (records);
}

/* A task of a one-worker pool queues jobs and waits for them: its own
 * thread must run them. */

typedef struct
{
  PmtPool *pool;
  guint depth;
  gint n_runs;
  GThread *thread;
  gboolean other_thread;
} Nested;

static void
nested_job (gpointer user_data)
{
  Nested *nested = user_data;

  if (g_thread_self () != nested->thread)
    nested->other_thread = TRUE;
  nested->n_runs++;

  /* Each job queues the next one, and waits for it. */
  if (nested->n_runs < NESTED_DEPTH)
    {
      g_assert_true (pmt_pool_execute (nested->pool, nested_job, nested, NULL, NULL));
      g_assert_true (pmt_pool_wait_completion (nested->pool, SAFETY_TIMEOUT_USEC, FALSE));
    }
}

static void
nested_task (G_GNUC_UNUSED PmtTask *task,
             gpointer               user_data)
{
  Nested *nested = user_data;

  nested->thread = g_thread_self ();
  g_assert_true (pmt_pool_execute (nested->pool, nested_job, nested, NULL, NULL));
  g_assert_true (pmt_pool_wait_completion (nested->pool, SAFETY_TIMEOUT_USEC, FALSE));
  g_assert_cmpint (nested->n_runs, ==, NESTED_DEPTH);
}

static void
test_nested (void)
{
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 1);
  g_autoptr(PmtTask) task = NULL;
  Nested nested = { pool, 0, 0, NULL, FALSE };

  task = pmt_pool_submit (pool, nested_task, &nested, NULL, NULL);
  g_assert_true (pmt_task_wait (task, SAFETY_TIMEOUT_USEC));
  pmt_test_assert_task_succeeded (task);
  g_assert_cmpint (nested.n_runs, ==, NESTED_DEPTH);
  g_assert_false (nested.other_thread);

  pmt_test_shutdown_pool (pool);
}

/* Many jobs queued behind a held worker: once it runs, it takes several
 * at once.  The third waits for the pool's work to complete: the two
 * before it must count as finished by then, and the rest of its batch
 * must run in that wait, as must the queue. */

typedef struct
{
  PmtPool *pool;
  gint n_runs;
  gboolean waited;
} BatchWait;

static void
batch_wait_job (gpointer user_data)
{
  BatchWait *wait = user_data;

  if (g_atomic_int_add (&wait->n_runs, 1) == 2)
    wait->waited = pmt_pool_wait_completion (wait->pool, SAFETY_TIMEOUT_USEC, FALSE);
}

static void
test_nested_wait_in_batch (void)
{
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 1);
  g_autoptr(PmtTask) gate_task = NULL;
  BatchWait wait = { pool, 0, FALSE };
  PmtTestGate gate;

  gate_task = hold_only_worker (pool, &gate);
  for (guint i = 0; i < 100; i++)
    execute (pool, G_PRIORITY_DEFAULT, batch_wait_job, &wait, NULL);

  pmt_test_gate_open (&gate);
  g_assert_true (pmt_pool_wait_completion (pool, SAFETY_TIMEOUT_USEC, FALSE));
  g_assert_true (wait.waited);
  g_assert_cmpint (wait.n_runs, ==, 100);
  g_assert_cmpuint (pmt_pool_get_n_succeeded (pool), ==, 101);

  pmt_test_shutdown_pool (pool);
  pmt_test_gate_clear (&gate);
}

/* The first of the jobs a worker took at once holds it; a shutdown that
 * cancels queued work cancels the others it took too, not only those
 * left in the queue. */

typedef struct
{
  PmtTestGate *gate;
  gint n_runs;
} FirstHeld;

static void
first_held_job (gpointer user_data)
{
  FirstHeld *held = user_data;

  if (g_atomic_int_add (&held->n_runs, 1) == 0)
    pmt_test_gate_enter (held->gate);
}

static void
test_shutdown_cancels_taken (void)
{
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 1);
  g_autoptr(PmtTask) gate_task = NULL;
  PmtTestGate gate, job_gate;
  FirstHeld held = { &job_gate, 0 };

  pmt_test_gate_init (&job_gate);
  gate_task = hold_only_worker (pool, &gate);
  for (guint i = 0; i < 100; i++)
    execute (pool, G_PRIORITY_DEFAULT, first_held_job, &held, NULL);

  pmt_test_gate_open (&gate);
  pmt_test_gate_wait_started (&job_gate, 1);
  /* The worker took more than the job it runs: the queue lost more. */
  g_assert_cmpuint (pmt_pool_get_n_queued (pool), <, 99);

  g_assert_false (pmt_pool_shutdown (pool, PMT_SHUTDOWN_CANCEL_QUEUED, 0));
  pmt_test_gate_open (&job_gate);
  g_assert_true (pmt_pool_shutdown (pool, PMT_SHUTDOWN_NONE, SAFETY_TIMEOUT_USEC));

  g_assert_cmpint (held.n_runs, ==, 1);
  g_assert_cmpuint (pmt_pool_get_n_succeeded (pool), ==, 2);
  g_assert_cmpuint (pmt_pool_get_n_cancelled (pool), ==, 99);
  pmt_test_assert_pool_settled (pool);

  pmt_test_gate_clear (&gate);
  pmt_test_gate_clear (&job_gate);
}

static void
test_main_context (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 1);
  JobRecord record = { 0 };

  g_object_set (pool, "main-context", context, NULL);
  execute (pool, G_PRIORITY_DEFAULT, record_run, &record, record_notify);
  g_assert_true (pmt_pool_wait_completion (pool, SAFETY_TIMEOUT_USEC, FALSE));
  g_assert_cmpint (record.n_runs, ==, 1);
  g_assert_true (record.run_thread != g_thread_self ());

  /* The data is let go of on the context, nowhere else. */
  g_assert_cmpint (record.n_notified, ==, 0);
  g_assert_cmpint (pmt_test_iterate_until_int (context, &record.n_notified, 1), ==, 1);
  g_assert_true (record.notify_thread == g_thread_self ());

  pmt_test_shutdown_pool (pool);
  pmt_test_flush_context (context);
}

typedef struct
{
  PmtPool *pool;
  gint *counts;
  guint first;
} Submitter;

static void
count_job (gpointer user_data)
{
  g_atomic_int_inc ((gint *) user_data);
}

static gpointer
submitter_thread (gpointer data)
{
  Submitter *submitter = data;

  for (guint i = 0; i < N_JOBS_PER_THREAD; i++)
    execute (submitter->pool, (gint) (i % 7) - 3, count_job,
             &submitter->counts[submitter->first + i], NULL);

  return NULL;
}

static void
test_concurrent (void)
{
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 4);
  gint *counts = g_new0 (gint, N_THREADS * N_JOBS_PER_THREAD);
  Submitter submitters[N_THREADS];
  GThread *threads[N_THREADS];

  for (guint t = 0; t < N_THREADS; t++)
    {
      submitters[t] = (Submitter) { pool, counts, t * N_JOBS_PER_THREAD };
      threads[t] = g_thread_new ("submitter", submitter_thread, &submitters[t]);
    }
  for (guint t = 0; t < N_THREADS; t++)
    g_thread_join (threads[t]);

  g_assert_true (pmt_pool_wait_completion (pool, SAFETY_TIMEOUT_USEC, FALSE));
  for (guint i = 0; i < N_THREADS * N_JOBS_PER_THREAD; i++)
    g_assert_cmpint (counts[i], ==, 1);
  g_assert_cmpuint (pmt_pool_get_n_succeeded (pool), ==, N_THREADS * N_JOBS_PER_THREAD);

  pmt_test_shutdown_pool (pool);
  g_free (counts);
}

static void
test_programming_errors (void)
{
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 1);
  gint count = 0;

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_POOL*");
  g_assert_false (pmt_pool_execute (NULL, count_job, &count, NULL, NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*func != NULL*");
  g_assert_false (pmt_pool_execute_full (pool, 0, NULL, &count, NULL, NULL));
  g_test_assert_expected_messages ();

  g_assert_cmpuint (pmt_pool_get_n_submitted (pool), ==, 0);
  pmt_test_shutdown_pool (pool);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/pmt/pool/execute/runs-and-notifies", test_runs_and_notifies);
  g_test_add_func ("/pmt/pool/execute/priority-order-with-tasks", test_priority_order);
  g_test_add_func ("/pmt/pool/execute/refused", test_refused);
  g_test_add_func ("/pmt/pool/execute/shutdown-cancels-queued", test_shutdown_cancels_queued);
  g_test_add_func ("/pmt/pool/execute/nested", test_nested);
  g_test_add_func ("/pmt/pool/execute/nested-wait-in-batch", test_nested_wait_in_batch);
  g_test_add_func ("/pmt/pool/execute/shutdown-cancels-taken", test_shutdown_cancels_taken);
  g_test_add_func ("/pmt/pool/execute/main-context", test_main_context);
  g_test_add_func ("/pmt/pool/execute/concurrent", test_concurrent);
  g_test_add_func ("/pmt/pool/execute/programming-errors", test_programming_errors);

  return g_test_run ();
}
