/* pmt-model-check.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The end of a run: everything left is shut down, stopped and released,
 * then the library is compared with the model: every accepted task
 * completed exactly once in a state its behaviour allows, the pools'
 * counters add up and match what they accepted, every job ran at most
 * once and let go of its data once, no limiter let too many in, every
 * object was finalized, the registry is empty, and no thread or child
 * process is left. */

#include <string.h>
#include <unistd.h>

#include "pmt-model-private.h"

static const char *const state_names[] = {
  "pending", "queued", "running", "succeeded", "failed", "cancelled",
};

/* Ending everything {{{1 */

/* Every pool left, the program's and those PmtThreaded made, is found
 * through the registry and shut down with flags the program picks; it
 * must stop in time, and then its counters must add up. */
static void
shut_down_pools (ModelWorld *world)
{
  PmtShutdownFlags flags = world->program->n_ops % 4;
  GList *pools = pmt_pool_list_pools ();

  for (GList *l = pools; l != NULL; l = l->next)
    {
      PmtPool *pool = l->data;
      ModelPoolInfo *info = model_pool_info_of (pool);
      guint64 submitted, succeeded, failed, cancelled;

      if (!pmt_pool_shutdown (pool, flags, MODEL_SAFETY_USEC))
        {
          model_fail (world, "pool “%s” did not stop in %d s", pmt_pool_get_name (pool),
                      (int) (MODEL_SAFETY_USEC / G_USEC_PER_SEC));
          continue;
        }
      submitted = pmt_pool_get_n_submitted (pool);
      succeeded = pmt_pool_get_n_succeeded (pool);
      failed = pmt_pool_get_n_failed (pool);
      cancelled = pmt_pool_get_n_cancelled (pool);
      if (submitted != succeeded + failed + cancelled)
        model_fail (world, "pool “%s”: n-submitted %" G_GUINT64_FORMAT " != n-succeeded %"
                    G_GUINT64_FORMAT " + n-failed %" G_GUINT64_FORMAT " + n-cancelled %"
                    G_GUINT64_FORMAT, pmt_pool_get_name (pool), submitted, succeeded, failed,
                    cancelled);
      if (pmt_pool_get_n_unfinished (pool) != 0 || pmt_pool_get_n_queued (pool) != 0 ||
          pmt_pool_get_n_workers (pool) != 0 || pmt_pool_get_n_busy_workers (pool) != 0)
        model_fail (world, "pool “%s” stopped with n-unfinished %u, n-queued %u, n-workers %u, "
                    "n-busy-workers %u", pmt_pool_get_name (pool),
                    pmt_pool_get_n_unfinished (pool), pmt_pool_get_n_queued (pool),
                    pmt_pool_get_n_workers (pool), pmt_pool_get_n_busy_workers (pool));
      if (pmt_pool_get_state (pool) != PMT_POOL_STATE_STOPPED)
        model_fail (world, "pool “%s”: shut down, but in state %d", pmt_pool_get_name (pool),
                    pmt_pool_get_state (pool));
      if (info != NULL && submitted != (guint64) info->n_accepted)
        model_fail (world, "pool “%s”: n-submitted %" G_GUINT64_FORMAT ", but it accepted %d",
                    pmt_pool_get_name (pool), submitted, info->n_accepted);
    }
  g_list_free_full (pools, g_object_unref);
}

static void
join_worker (ModelWorld *world,
             PmtWorker  *worker,
             gboolean    kill)
{
  if (kill)
    pmt_worker_kill (worker);
  else
    pmt_worker_stop (worker);
  if (!pmt_worker_join (worker, MODEL_SAFETY_USEC))
    model_fail (world, "worker “%s” did not stop in %d s", pmt_worker_get_name (worker),
                (int) (MODEL_SAFETY_USEC / G_USEC_PER_SEC));
}

/* Waits until every accepted task completed, also those the model let go
 * of (a PmtThreaded task on a thread of its own has nobody to join). */
static void
wait_for_tasks (ModelWorld *world)
{
  gint64 deadline = g_get_monotonic_time () + MODEL_SAFETY_USEC;

  g_mutex_lock (&world->completed_lock);
  for (guint i = 0; i < world->records->len; i++)
    {
      ModelTaskRecord *record = world->records->pdata[i];

      if (!record->accepted)
        continue;
      while (!g_hash_table_contains (world->completed, &record->id))
        if (!g_cond_wait_until (&world->completed_cond, &world->completed_lock, deadline))
          break;
      if (!g_hash_table_contains (world->completed, &record->id))
        {
          model_fail (world, "task %u (%s) never completed", record->index,
                      model_behaviour_name (record->behaviour));
          break;
        }
    }
  g_mutex_unlock (&world->completed_lock);
}

/**
 * model_finish:
 * @world: a world whose driver threads are done
 *
 * Ends what the program left: drops its PmtThreaded (their private pools
 * end with them), shuts down every pool of the registry, stops and joins
 * every worker, and waits for every task the model still holds.
 */
void
model_finish (ModelWorld *world)
{
  gboolean kill = world->program->n_ops % 2;

  for (guint i = 0; i < MODEL_N_SLOTS; i++)
    model_drop_threaded (world, i);

  shut_down_pools (world);

  for (guint i = 0; i < MODEL_N_SLOTS; i++)
    if (world->workers[i] != NULL)
      join_worker (world, world->workers[i], kill);
  for (guint i = 0; i < world->old_workers->len; i++)
    join_worker (world, world->old_workers->pdata[i], kill);

  wait_for_tasks (world);
}

/* Checks {{{1 */

static gboolean
state_allowed (ModelTaskRecord *record,
               PmtTaskState     state)
{
  gboolean ran = __atomic_load_n (&record->n_runs, __ATOMIC_SEQ_CST) > 0;

  if (state < PMT_TASK_STATE_SUCCEEDED)
    return FALSE;
  if (state == PMT_TASK_STATE_CANCELLED)
    return !ran || record->behaviour == B_CHECK_CANCEL || record->behaviour == B_LIMITED ||
           record->behaviour == B_LIMITER_RUN;
  if (record->is_command)
    return (state == PMT_TASK_STATE_SUCCEEDED) == (record->command != C_FALSE);
  if (!ran)
    return FALSE;
  if (state == PMT_TASK_STATE_FAILED)
    return record->behaviour == B_FAIL || record->behaviour == B_LIMITED ||
           record->behaviour == B_LIMITER_RUN;
  return record->behaviour != B_FAIL;
}

/* The result of a task that succeeded, when the model still holds it. */
static void
check_result (ModelWorld      *world,
              ModelTaskRecord *record)
{
  const GValue *result = pmt_task_get_result (record->task);

  if (record->is_command && record->command == C_CAT)
    {
      GBytes *out = result != NULL && G_VALUE_HOLDS (result, G_TYPE_BYTES)
        ? g_value_get_boxed (result) : NULL;
      gsize size = 0;
      const char *data = out != NULL ? g_bytes_get_data (out, &size) : NULL;

      if (size != strlen (MODEL_CAT_INPUT) || memcmp (data, MODEL_CAT_INPUT, size) != 0)
        model_fail (world, "task %u: cat did not give back its input", record->index);
    }
  else if (!record->is_command &&
           (result == NULL || !G_VALUE_HOLDS_INT64 (result) ||
            g_value_get_int64 (result) != model_expected_result (record)))
    model_fail (world, "task %u (%s) succeeded without its result", record->index,
                model_behaviour_name (record->behaviour));
}

static void
check_record (ModelWorld      *world,
              ModelTaskRecord *record,
              GHashTable      *ids)
{
  ModelCompleted *completed = record->id != 0
    ? g_hash_table_lookup (world->completed, &record->id) : NULL;
  guint count = completed != NULL ? completed->count : 0;
  gint runs = record->n_runs;
  const char *name = model_behaviour_name (record->behaviour);

  if (record->id != 0)
    g_hash_table_add (ids, &record->id);

  /* Accepted, or cancelled before a refused push: completed once.
   * Refused otherwise: never. */
  if (record->accepted || record->cancel_first)
    {
      if (count != 1)
        model_fail (world, "task %u (%s): completed %u times", record->index, name, count);
      else if (!state_allowed (record, completed->state))
        model_fail (world, "task %u (%s): ended %s after %d run(s)", record->index, name,
                    state_names[completed->state], runs);
      if (record->cancel_first && count == 1 && completed->state != PMT_TASK_STATE_CANCELLED)
        model_fail (world, "task %u: cancelled before its push, but ended %s", record->index,
                    state_names[completed->state]);
    }
  else if (count != 0)
    model_fail (world, "task %u (%s) was refused, yet completed %u times", record->index, name,
                count);

  if (record->task != NULL && count == 1)
    {
      if (pmt_task_get_state (record->task) != completed->state)
        model_fail (world, "task %u: state %s, but completed as %s", record->index,
                    state_names[pmt_task_get_state (record->task)], state_names[completed->state]);
      if (completed->state == PMT_TASK_STATE_SUCCEEDED)
        check_result (world, record);
    }

  if (runs > 1)
    model_fail (world, "task %u (%s) ran %d times", record->index, name, runs);
  if (record->cancel_first && runs != 0)
    model_fail (world, "task %u ran, though cancelled before its push", record->index);
  if (record->n_callbacks > 1 || (record->n_callbacks == 0 && runs == 1 &&
                                  record->made_by_model && !record->is_command &&
                                  (record->arg & O_CALLBACK_DROP)))
    model_fail (world, "task %u: its callback ran %d times after %d run(s)", record->index,
                record->n_callbacks, runs);
}

/* After release_all(): a task's data may live as long as the task. */
static void
check_notified (ModelWorld *world)
{
  for (guint i = 0; i < world->records->len; i++)
    {
      ModelTaskRecord *record = world->records->pdata[i];

      if (record->expect_notify && record->n_notified != 1)
        model_fail (world, "task %u: its data was let go of %d times", record->index,
                    record->n_notified);
    }
}

static void
check_tasks (ModelWorld *world)
{
  g_autoptr(GHashTable) ids = g_hash_table_new (g_int64_hash, g_int64_equal);
  GHashTableIter iter;
  gpointer key;

  for (guint i = 0; i < world->records->len; i++)
    check_record (world, world->records->pdata[i], ids);

  /* Every completed emission is of a task the model knows. */
  g_hash_table_iter_init (&iter, world->completed);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (ids, key))
      model_fail (world, "task id %" G_GUINT64_FORMAT " completed, unknown to the model",
                  *(guint64 *) key);
}

static void
check_jobs (ModelWorld *world)
{
  for (guint i = 0; i < world->jobs->len; i++)
    {
      ModelJobRecord *job = world->jobs->pdata[i];

      if (job->n_notified != 1)
        model_fail (world, "job %u: its data was let go of %d times", i, job->n_notified);
      if (job->n_runs > 1 || (!job->accepted && job->n_runs != 0))
        model_fail (world, "job %u (%s) ran %d times", i,
                    job->accepted ? "accepted" : "refused", job->n_runs);
    }
}

/* The model lets go of everything, then every object it watched must be
 * finalized.  The last references may be dropped by threads that are
 * ending (a worker drops its pool as it exits): wait for them, bounded. */
static void
release_all (ModelWorld *world)
{
  gint64 deadline = g_get_monotonic_time () + MODEL_SAFETY_USEC;
  guint n_alive;

  for (guint i = 0; i < MODEL_N_SLOTS; i++)
    {
      model_drop_pool (world, i);
      g_clear_object (&world->workers[i]);
      g_clear_object (&world->limiters[i].limiter);
    }
  g_ptr_array_set_free_func (world->old_workers, g_object_unref);
  g_ptr_array_set_size (world->old_workers, 0);
  for (guint i = 0; i < world->records->len; i++)
    {
      ModelTaskRecord *record = world->records->pdata[i];

      g_clear_object (&record->task);
      g_clear_object (&record->limiter);
    }

  g_mutex_lock (&world->finalize_lock);
  while (world->n_finalized < world->n_objects)
    if (!g_cond_wait_until (&world->finalize_cond, &world->finalize_lock, deadline))
      break;
  n_alive = world->n_objects - world->n_finalized;
  g_mutex_unlock (&world->finalize_lock);
  if (n_alive > 0)
    {
      g_autofree char *alive = model_list_alive (world);

      model_fail (world, "%u object(s) never finalized:%s", n_alive, alive);
    }
}

/**
 * model_count_threads:
 * @names: (nullable): where to list the threads counted
 *
 * Counts the threads of the process, but GLib's own helpers (its worker
 * thread, thread pool threads, which it keeps for a while): Pmt makes
 * none of those, and they come and go with GLib's own timers.
 *
 * Returns: their number
 */
guint
model_count_threads (GString *names)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  const char *tid;
  guint n = 0;

  while (dir != NULL && (tid = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_strdup_printf ("/proc/self/task/%s/comm", tid);
      g_autofree char *comm = NULL;

      if (!g_file_get_contents (path, &comm, NULL, NULL))
        continue;             /* it just exited */
      g_strchomp (comm);
      if (g_str_equal (comm, "gmain") || g_str_equal (comm, "gdbus") ||
          g_str_equal (comm, "pool-spawner") || g_str_has_prefix (comm, "pool-"))
        continue;
      n++;
      if (names != NULL)
        g_string_append_printf (names, " %s", comm);
    }

  return n;
}

/* The children of every thread of the process, with their state. */
static GString *
list_children (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  GString *children = g_string_new (NULL);
  const char *tid;

  while (dir != NULL && (tid = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_strdup_printf ("/proc/self/task/%s/children", tid);
      g_autofree char *pids = NULL;
      g_auto(GStrv) list = NULL;

      if (!g_file_get_contents (path, &pids, NULL, NULL))
        continue;
      list = g_strsplit (g_strstrip (pids), " ", -1);
      for (guint i = 0; list[i] != NULL && list[i][0] != '\0'; i++)
        {
          g_autofree char *stat_path = g_strdup_printf ("/proc/%s/stat", list[i]);
          g_autofree char *stat = NULL;

          /* The sanitizers' symbolizer is a child that stays. */
          g_file_get_contents (stat_path, &stat, NULL, NULL);
          if (stat != NULL && (strstr (stat, "(llvm-symbolizer)") != NULL ||
                               strstr (stat, "(addr2line)") != NULL))
            continue;
          g_string_append_printf (children, " [%s]", stat != NULL ? g_strstrip (stat) : list[i]);
        }
    }

  return children;
}

/* A worker's thread runs on for a moment after pmt_worker_join() and
 * pmt_pool_shutdown() returned (they wait for Pmt's work in it, not for
 * the kernel to reap it), and the kernel tells nobody when it has: this
 * is the one place the model polls, bounded. */
static void
check_threads (ModelWorld *world,
               guint       baseline)
{
  g_autoptr(GString) names = NULL;
  guint n = 0;

  for (guint i = 0; i < 5000; i++)
    {
      if ((n = model_count_threads (NULL)) <= baseline)
        return;
      g_usleep (1000);
    }
  names = g_string_new (NULL);
  model_count_threads (names);
  model_fail (world, "%u thread(s) left, %u before the run:%s", n, baseline, names->str);
}

/**
 * model_check:
 * @world: a world after model_finish()
 * @thread_baseline: the number of threads before the run
 *
 * Compares the library with the model, then releases everything and
 * checks that nothing is left.  Failures go to @world.
 */
void
model_check (ModelWorld *world,
             guint       thread_baseline)
{
  g_autoptr(GString) children = NULL;
  GList *pools;

  check_tasks (world);
  check_jobs (world);
  for (guint i = 0; i < world->tracks->len; i++)
    {
      ModelLimitTrack *track = world->tracks->pdata[i];

      if (track->inside != 0)
        model_fail (world, "limiter %u: %d holders left inside", i, track->inside);
    }

  release_all (world);
  check_notified (world);

  pools = pmt_pool_list_pools ();
  if (pools != NULL)
    model_fail (world, "%u pool(s) left in the registry, “%s” first", g_list_length (pools),
                pmt_pool_get_name (pools->data));
  g_list_free_full (pools, g_object_unref);

  check_threads (world, thread_baseline);
  children = list_children ();
  if (children->len > 0)
    model_fail (world, "child processes left:%s", children->str);
}
