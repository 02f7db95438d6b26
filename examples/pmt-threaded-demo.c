/* pmt-threaded-demo.c — the Threaded decorator, and command tasks in a pool
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Usage: pmt-threaded-demo [DIRECTORY]
 *
 * First wraps two small functions in #PmtThreaded and calls them in each
 * mode: a thread per call, one daemon worker, a private pool, a pool name
 * shared by two decorators, and a given pool.  Then checksums the files of
 * DIRECTORY (default: the current one) with `sha256sum` command tasks in a
 * pool, under a limiter, printing each result as it completes.  Joins
 * every pool at the end, and exits 0 only if every task succeeded.
 */

#include <pmt.h>

#include <string.h>

#define N_CALLS            4
#define CHECKSUM_WORKERS   4
#define CHECKSUM_LIMIT     2
#define TIMEOUT_USEC       (30 * G_USEC_PER_SEC)

static guint n_failed;

/* Decorated functions: each call's argument is its task-data. */

static void
square (PmtTask  *task,
        gpointer  user_data)
{
  gint64 n = GPOINTER_TO_INT (pmt_task_get_task_data (task));

  pmt_task_return_int (task, n * n);
}

static void
cube (PmtTask  *task,
      gpointer  user_data)
{
  gint64 n = GPOINTER_TO_INT (pmt_task_get_task_data (task));

  pmt_task_return_int (task, n * n * n);
}

/* Calls @threaded N_CALLS times with 1, 2, …, waits for the tasks and
 * prints what ran where.  Returns the tasks (transfer full). */
static GPtrArray *
call_all (PmtThreaded *threaded,
          const char  *label)
{
  GPtrArray *tasks = g_ptr_array_new_with_free_func (g_object_unref);
  GString *line = g_string_new (NULL);

  for (gint i = 1; i <= N_CALLS; i++)
    {
      g_autoptr(GError) error = NULL;
      PmtTask *task = pmt_threaded_call (threaded, GINT_TO_POINTER (i), NULL, &error);

      if (task == NULL)
        {
          g_printerr ("  %s: call %d refused: %s\n", label, i, error->message);
          n_failed++;
          continue;
        }
      g_ptr_array_add (tasks, task);
    }

  if (!pmt_task_wait_all ((PmtTask **) tasks->pdata, tasks->len, TIMEOUT_USEC))
    g_error ("%s: the calls did not finish in time", label);

  for (guint i = 0; i < tasks->len; i++)
    {
      PmtTask *task = g_ptr_array_index (tasks, i);
      PmtWorker *worker = pmt_task_get_worker (task);
      PmtPool *pool = pmt_worker_get_pool (worker);

      if (pmt_task_get_state (task) != PMT_TASK_STATE_SUCCEEDED)
        {
          g_printerr ("  %s: task %" G_GUINT64_FORMAT " failed: %s\n", label,
                      pmt_task_get_id (task), pmt_task_get_error (task)->message);
          n_failed++;
          continue;
        }

      g_string_append_printf (line, "%s%d->%" G_GINT64_FORMAT " on %s%s%s",
                              i > 0 ? ", " : "",
                              GPOINTER_TO_INT (pmt_task_get_task_data (task)),
                              g_value_get_int64 (pmt_task_get_result (task)),
                              pmt_worker_get_name (worker),
                              pool != NULL ? " of " : "",
                              pool != NULL ? pmt_pool_get_name (pool) : "");
    }

  g_print ("  %-22s %s\n", label, line->str);
  g_string_free (line, TRUE);

  return tasks;
}

static void
demo_threaded (void)
{
  g_autoptr(PmtThreaded) per_thread = pmt_threaded_new (square, NULL, NULL);
  g_autoptr(PmtThreaded) daemon = pmt_threaded_new (square, NULL, NULL);
  g_autoptr(PmtThreaded) private_pool = pmt_threaded_new (square, NULL, NULL);
  g_autoptr(PmtThreaded) shared_squares = pmt_threaded_new (square, NULL, NULL);
  g_autoptr(PmtThreaded) shared_cubes = pmt_threaded_new (cube, NULL, NULL);
  g_autoptr(PmtThreaded) given = pmt_threaded_new (cube, NULL, NULL);
  g_autoptr(PmtPool) given_pool = NULL;
  g_autoptr(PmtPool) shared_pool = NULL;
  g_autoptr(PmtWorker) daemon_worker = NULL;
  g_autoptr(GPtrArray) tasks = NULL;
  g_autoptr(GError) error = NULL;

  g_print ("PmtThreaded in each mode (n->result on worker):\n");

  /* A new worker per call; each thread ends after its task. */
  g_clear_pointer (&tasks, g_ptr_array_unref);
  tasks = call_all (per_thread, "thread per call:");

  /* One persistent worker, calls in order. */
  pmt_threaded_set_mode (daemon, PMT_THREADED_MODE_DAEMON);
  g_clear_pointer (&tasks, g_ptr_array_unref);
  tasks = call_all (daemon, "daemon worker:");
  daemon_worker = pmt_threaded_dup_worker (daemon);

  /* A pool of its own, made on the first call. */
  pmt_threaded_set_mode (private_pool, PMT_THREADED_MODE_POOL);
  g_object_set (private_pool, "pool-max-workers", 2, NULL);
  g_clear_pointer (&tasks, g_ptr_array_unref);
  tasks = call_all (private_pool, "private pool:");

  /* Two decorators, one pool, found by name in the registry. */
  g_object_set (shared_squares, "pool-max-workers", 2, NULL);
  pmt_threaded_set_pool_name (shared_squares, "demo-shared");
  pmt_threaded_set_pool_name (shared_cubes, "demo-shared");
  g_clear_pointer (&tasks, g_ptr_array_unref);
  tasks = call_all (shared_squares, "pool-name (squares):");
  g_clear_pointer (&tasks, g_ptr_array_unref);
  tasks = call_all (shared_cubes, "pool-name (cubes):");
  shared_pool = pmt_pool_lookup ("demo-shared");
  g_print ("  %-22s \"demo-shared\" ran %" G_GUINT64_FORMAT " tasks for both\n", "",
           shared_pool != NULL ? pmt_pool_get_n_submitted (shared_pool) : 0);

  /* A pool made by the caller. */
  given_pool = pmt_pool_new ("demo-given", 3, &error);
  if (given_pool == NULL)
    g_error ("cannot make a pool: %s", error->message);
  pmt_threaded_set_pool (given, given_pool);
  g_clear_pointer (&tasks, g_ptr_array_unref);
  tasks = call_all (given, "given pool:");

  /* The daemon worker is ours to end; the pools end with
   * pmt_pool_join_all() in main(). */
  pmt_worker_stop (daemon_worker);
  pmt_worker_join (daemon_worker, TIMEOUT_USEC);
}

/* Command tasks */

static gint max_in_use;

/* Emitted in the thread that changed the limiter: a worker. */
static void
on_available_changed (PmtLimiter *limiter,
                      GParamSpec *pspec,
                      gpointer    user_data)
{
  gint in_use = (gint) pmt_limiter_get_limit (limiter) - (gint) pmt_limiter_get_available (limiter);
  gint seen = g_atomic_int_get (&max_in_use);

  while (in_use > seen && !g_atomic_int_compare_and_exchange (&max_in_use, seen, in_use))
    seen = g_atomic_int_get (&max_in_use);
}

static gint
compare_paths (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

static GPtrArray *
list_files (const char *dir)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) handle = g_dir_open (dir, 0, &error);
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (handle == NULL)
    {
      g_printerr ("Cannot list %s: %s\n", dir, error->message);
      n_failed++;
      return paths;
    }

  while ((name = g_dir_read_name (handle)) != NULL)
    {
      char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        g_ptr_array_add (paths, path);
      else
        g_free (path);
    }
  g_ptr_array_sort (paths, compare_paths);

  return paths;
}

static void
demo_checksums (const char *dir)
{
  g_autoptr(GPtrArray) paths = list_files (dir);
  g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (CHECKSUM_LIMIT);
  g_autoptr(PmtCompletionQueue) queue = NULL;
  g_autoptr(PmtPool) pool = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();
  guint n_done = 0;

  g_print ("\nChecksumming %u files of %s: sha256sum in pool \"demo-checksum\" "
           "(%d workers, at most %d at once):\n",
           paths->len, dir, CHECKSUM_WORKERS, CHECKSUM_LIMIT);

  pool = pmt_pool_new ("demo-checksum", CHECKSUM_WORKERS, &error);
  if (pool == NULL)
    g_error ("cannot make a pool: %s", error->message);
  g_signal_connect (limiter, "notify::available", G_CALLBACK (on_available_changed), NULL);

  for (guint i = 0; i < paths->len; i++)
    {
      const char *argv[] = { "sha256sum", "--", g_ptr_array_index (paths, i), NULL };
      PmtTask *task = pmt_task_new_command (argv);

      pmt_task_set_limiter (task, limiter);
      if (!pmt_pool_push (pool, task, &error))
        g_error ("pool refused a task: %s", error->message);
      g_ptr_array_add (tasks, task);
    }

  /* In the order they finish, not the order they were submitted. */
  queue = pmt_pool_as_completed ((PmtTask **) tasks->pdata, tasks->len);
  while (pmt_completion_queue_get_n_pending (queue) > 0)
    {
      g_autoptr(PmtTask) task = pmt_completion_queue_next (queue, TIMEOUT_USEC);
      const char *path;
      GBytes *out;
      g_autofree char *line = NULL;

      if (task == NULL)
        g_error ("the checksums did not finish in time");

      n_done++;
      path = pmt_command_task_get_argv (PMT_COMMAND_TASK (task))[2];
      if (pmt_task_get_state (task) != PMT_TASK_STATE_SUCCEEDED)
        {
          g_print ("  [%2u/%u] %s: %s\n", n_done, tasks->len, path,
                   pmt_task_get_error (task)->message);
          n_failed++;
          continue;
        }

      /* "<64 hex digits>  <path>\n" */
      out = g_value_get_boxed (pmt_task_get_result (task));
      line = g_strndup (g_bytes_get_data (out, NULL), g_bytes_get_size (out));
      g_print ("  [%2u/%u] %.16s...  %s\n", n_done, tasks->len, line, path);
    }

  g_print ("  %u done in %.2f s, most running at once: %d (limit %d)\n", n_done,
           (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC,
           g_atomic_int_get (&max_in_use), CHECKSUM_LIMIT);
}

int
main (int   argc,
      char *argv[])
{
  const char *dir = argc > 1 ? argv[1] : ".";

  g_print ("Pmt %s\n\n", PMT_VERSION_S);

  demo_threaded ();
  demo_checksums (dir);

  g_print ("\nJoining every pool:");
  {
    GList *pools = pmt_pool_list_pools ();

    for (GList *l = pools; l != NULL; l = l->next)
      g_print (" %s", pmt_pool_get_name (l->data));
    g_print ("\n");
    g_list_free_full (pools, g_object_unref);
  }
  if (!pmt_pool_join_all (TIMEOUT_USEC))
    {
      g_printerr ("the pools did not stop in time\n");
      return 1;
    }

  if (n_failed > 0)
    {
      g_print ("%u failures\n", n_failed);
      return 1;
    }

  g_print ("Every task succeeded.\n");
  return 0;
}
