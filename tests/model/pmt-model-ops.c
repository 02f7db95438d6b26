/* pmt-model-ops.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The operations: one apply function each, and the table that names them
 * and says how each reads its argument bytes (model_decode_field()).  An
 * operation on an empty slot does nothing: programs are random.
 *
 * An operation checks at once what it can (a name clash refused, a lookup
 * finding its pool, a shutdown with the safety timeout ending in time);
 * the rest is checked when the run is over (pmt-model-check.c). */

#include <string.h>

#include "pmt-model-private.h"

#define V_SLOT(v)  ((guint) (v))

/* Tasks made by the model {{{1 */

static void
callback_drop_self (PmtTask  *task,
                    gpointer  user_data)
{
  ModelTaskRecord *record = user_data;
  PmtTask *mine;

  __atomic_add_fetch (&record->n_callbacks, 1, __ATOMIC_SEQ_CST);

  /* The model's reference may be the last one but the runner's: the
   * library must not need it once the callback returns. */
  g_mutex_lock (&record->world->lock);
  mine = g_steal_pointer (&record->task);
  g_mutex_unlock (&record->world->lock);
  g_clear_object (&mine);
}

static void
completed_drop_pool (PmtTask  *task,
                     gpointer  user_data)
{
  ModelTaskRecord *record = user_data;

  model_drop_pool (record->world, (record->arg >> 6) % MODEL_N_SLOTS);
}

/* A task made with pmt_task_new() and the options of @options, for
 * pmt_pool_push() and pmt_worker_push(): the model holds a reference,
 * and so does the caller (the one returned). */
static PmtTask *
new_task (ModelWorld       *world,
          ModelTaskRecord  *record,
          gint              priority,
          guint8            options)
{
  PmtTask *task = pmt_task_new (model_task_func, record, model_task_data_notify);

  record->made_by_model = TRUE;
  record->expect_notify = TRUE;
  record->id = pmt_task_get_id (task);
  model_watch_object (world, task);
  /* Another thread may drop the model's reference at once: the caller
   * gets one of its own. */
  g_mutex_lock (&world->lock);
  record->task = g_object_ref (task);
  g_mutex_unlock (&world->lock);

  pmt_task_set_priority (task, priority);
  if (options & O_LIMITER)
    {
      ModelLimitTrack *track = NULL;
      g_autoptr(PmtLimiter) limiter = model_dup_limiter (world, (options >> 4) % MODEL_N_SLOTS,
                                                        &track);

      if (limiter != NULL)
        {
          pmt_task_set_limiter (task, limiter);
          record->task_limit = track;
        }
    }
  if (options & O_CALLBACK_DROP)
    pmt_task_set_callback (task, callback_drop_self, record, NULL);
  if (options & O_COMPLETED_DROP)
    g_signal_connect (task, "completed", G_CALLBACK (completed_drop_pool), record);
  if (options & O_CANCEL_FIRST)
    {
      record->cancel_first = TRUE;
      pmt_task_cancel (task);
    }

  return task;
}

/* A new record; the limiter of limited behaviours is limiter slot
 * (options % 3). */
static ModelTaskRecord *
new_record (ModelWorld     *world,
            ModelBehaviour  behaviour,
            guint8          options,
            ModelPoolInfo  *pool)
{
  ModelTaskRecord *record = model_record_new (world, behaviour, options, 0, pool);

  if (behaviour == B_LIMITED || behaviour == B_LIMITER_RUN)
    record->limiter = model_dup_limiter (world, options % MODEL_N_SLOTS, &record->limiter_track);

  return record;
}

/* Checks what a push of a task cancelled first must do: refuse it. */
static void
check_push (ModelWorld      *world,
            ModelTaskRecord *record,
            gboolean         accepted,
            GError          *error)
{
  if (record->cancel_first && accepted)
    model_fail (world, "task %u: a task cancelled before its push was accepted", record->index);
  /* Refused as cancelled, or for the reason any task would be. */
  if (record->cancel_first && !accepted &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
      !g_error_matches (error, PMT_ERROR, PMT_ERROR_STOPPED) &&
      !g_error_matches (error, PMT_ERROR, PMT_ERROR_BLOCKED))
    model_fail (world, "task %u: a cancelled task was refused with “%s”",
                record->index, error != NULL ? error->message : "no error");
  if (accepted)
    model_record_accepted (record, NULL);
}

/* Pools {{{1 */

static void
op_pool_new (ModelWorld   *world,
             const gint64 *v)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *name = model_pool_name (world);
  ModelPoolInfo *info;
  PmtPool *pool, *old;

  pool = pmt_pool_new (name, v[1], &error);
  if (pool == NULL)
    {
      model_fail (world, "pmt_pool_new (“%s”): %s", name, error->message);
      return;
    }
  model_watch_object (world, pool);
  pmt_pool_set_min_workers (pool, v[2]);
  pmt_pool_set_idle_timeout (pool, v[3]);

  info = g_new0 (ModelPoolInfo, 1);
  info->name = g_strdup (name);
  g_object_set_data (G_OBJECT (pool), "pmt-model-pool-info", info);

  /* The pool replaced stays in the registry: the end of the run finds it
   * there, as a program that lost its reference would. */
  g_mutex_lock (&world->lock);
  g_ptr_array_add (world->pool_infos_all, info);
  old = g_steal_pointer (&world->pools[V_SLOT (v[0])]);
  world->pools[V_SLOT (v[0])] = pool;
  world->pool_infos[V_SLOT (v[0])] = info;
  g_mutex_unlock (&world->lock);
  g_clear_object (&old);
}

/* The registry finds a live pool by its name and refuses the name to a
 * new pool. */
static void
op_pool_lookup (ModelWorld   *world,
                const gint64 *v)
{
  g_autoptr(PmtPool) pool = model_dup_pool (world, v[0], NULL);
  g_autoptr(PmtPool) found = NULL;
  g_autoptr(PmtPool) clash = NULL;
  g_autoptr(GError) error = NULL;

  if (pool == NULL)
    return;

  /* A pool leaves the registry when it stopped (its name is free again),
   * which another thread may make happen at any time: only a pool still
   * not stopped after the call must have been found. */
  found = pmt_pool_lookup (pmt_pool_get_name (pool));
  if (found != pool && pmt_pool_get_state (pool) != PMT_POOL_STATE_STOPPED)
    model_fail (world, "pmt_pool_lookup (“%s”) found %p, not the live pool %p (state %d)",
                pmt_pool_get_name (pool), (void *) found, (void *) pool,
                pmt_pool_get_state (pool));

  clash = pmt_pool_new (pmt_pool_get_name (pool), 1, &error);
  if (clash == NULL && !g_error_matches (error, PMT_ERROR, PMT_ERROR_NAME_IN_USE))
    model_fail (world, "a second pool named “%s” was refused with “%s”",
                pmt_pool_get_name (pool), error->message);
  if (clash != NULL && pmt_pool_get_state (pool) != PMT_POOL_STATE_STOPPED)
    model_fail (world, "a second pool named “%s” was made while the first is not stopped",
                pmt_pool_get_name (pool));
}

static void
op_pool_set_workers (ModelWorld   *world,
                     const gint64 *v)
{
  g_autoptr(PmtPool) pool = model_dup_pool (world, v[0], NULL);

  if (pool == NULL)
    return;
  pmt_pool_set_max_workers (pool, v[1]);
  pmt_pool_set_min_workers (pool, v[2]);
}

static void
op_pool_submit (ModelWorld   *world,
                const gint64 *v)
{
  ModelPoolInfo *info = NULL;
  g_autoptr(PmtPool) pool = model_dup_pool (world, v[0], &info);
  ModelTaskRecord *record;
  PmtTask *task;

  if (pool == NULL)
    return;
  record = new_record (world, v[1], v[3], info);
  record->expect_notify = TRUE;
  task = pmt_pool_submit_full (pool, v[2], model_task_func, record,
                               model_task_data_notify, NULL);
  if (task == NULL)
    return;
  model_record_accepted (record, task);
  g_object_unref (task);
}

static void
op_pool_push (ModelWorld   *world,
              const gint64 *v)
{
  ModelPoolInfo *info = NULL;
  g_autoptr(PmtPool) pool = model_dup_pool (world, v[0], &info);
  g_autoptr(GError) error = NULL;
  ModelTaskRecord *record;
  PmtTask *task;
  gboolean accepted;

  if (pool == NULL)
    return;
  record = new_record (world, v[1], v[3], info);
  task = new_task (world, record, v[2], v[3]);
  accepted = pmt_pool_push (pool, task, &error);
  check_push (world, record, accepted, error);
  g_object_unref (task);
}

static void
job_func (gpointer user_data)
{
  ModelJobRecord *job = user_data;

  __atomic_add_fetch (&job->n_runs, 1, __ATOMIC_SEQ_CST);
}

static void
job_notify (gpointer user_data)
{
  ModelJobRecord *job = user_data;

  __atomic_add_fetch (&job->n_notified, 1, __ATOMIC_SEQ_CST);
}

static void
op_pool_execute (ModelWorld   *world,
                 const gint64 *v)
{
  ModelPoolInfo *info = NULL;
  g_autoptr(PmtPool) pool = model_dup_pool (world, v[0], &info);

  if (pool == NULL)
    return;
  for (guint i = 0; i < v[2]; i++)
    {
      ModelJobRecord *job = g_new0 (ModelJobRecord, 1);

      job->pool = info;
      g_mutex_lock (&world->lock);
      g_ptr_array_add (world->jobs, job);
      g_mutex_unlock (&world->lock);

      if (!pmt_pool_execute_full (pool, v[1], job_func, job, job_notify, NULL))
        continue;
      job->accepted = TRUE;
      __atomic_add_fetch (&info->n_accepted, 1, __ATOMIC_SEQ_CST);
      __atomic_add_fetch (&world->stats.n_jobs, 1, __ATOMIC_RELAXED);
    }
}

/* pmt_pool_map(): the items are the records, which the tasks get as
 * their task data. */
static void
op_pool_map (ModelWorld   *world,
             const gint64 *v)
{
  ModelPoolInfo *info = NULL;
  g_autoptr(PmtPool) pool = model_dup_pool (world, v[0], &info);
  g_autoptr(GPtrArray) tasks = NULL;
  gpointer items[4];
  guint n = v[2];

  if (pool == NULL)
    return;
  for (guint i = 0; i < n; i++)
    items[i] = new_record (world, v[1], v[1] + i, info);
  tasks = pmt_pool_map (pool, model_task_func, NULL, NULL, items, n, v[3] - 1, NULL);
  if (tasks == NULL)
    return;
  if (tasks->len != n)
    model_fail (world, "pmt_pool_map() returned %u tasks for %u items", tasks->len, n);
  for (guint i = 0; i < tasks->len && i < n; i++)
    {
      if (pmt_task_get_task_data (tasks->pdata[i]) != items[i])
        model_fail (world, "pmt_pool_map(): task %u does not have item %u", i, i);
      model_record_accepted (items[i], tasks->pdata[i]);
    }
}

static void
op_pool_command (ModelWorld   *world,
                 const gint64 *v)
{
  static const char *const argv_true[] = { "/bin/true", NULL };
  static const char *const argv_false[] = { "/bin/false", NULL };
  static const char *const argv_cat[] = { "/bin/cat", NULL };
  ModelPoolInfo *info = NULL;
  g_autoptr(PmtPool) pool = model_dup_pool (world, v[0], &info);
  g_autoptr(GBytes) input = NULL;
  ModelTaskRecord *record;
  PmtCommandTask *task;

  if (pool == NULL)
    return;
  record = model_record_new (world, B_SUCCEED, 0, 0, info);
  record->is_command = TRUE;
  record->command = v[1];
  __atomic_add_fetch (&world->stats.n_commands, 1, __ATOMIC_RELAXED);

  if (record->command != C_CAT)
    {
      task = pmt_pool_submit_command (pool, v[2],
                                      record->command == C_TRUE ? argv_true : argv_false, NULL);
      if (task != NULL)
        {
          model_record_accepted (record, PMT_TASK (task));
          g_object_unref (task);
        }
      return;
    }

  /* cat echoes its input: the result must be exactly it. */
  task = pmt_command_task_new (argv_cat);
  record->made_by_model = TRUE;
  record->id = pmt_task_get_id (PMT_TASK (task));
  model_watch_object (world, task);
  g_mutex_lock (&world->lock);
  record->task = g_object_ref (PMT_TASK (task));
  g_mutex_unlock (&world->lock);
  input = g_bytes_new_static (MODEL_CAT_INPUT, strlen (MODEL_CAT_INPUT));
  pmt_command_task_set_stdin_bytes (task, input);
  pmt_task_set_priority (PMT_TASK (task), v[2]);
  if (pmt_pool_push (pool, PMT_TASK (task), NULL))
    model_record_accepted (record, NULL);
  g_object_unref (task);
}

static void
op_pool_wait_completion (ModelWorld   *world,
                         const gint64 *v)
{
  g_autoptr(PmtPool) pool = model_dup_pool (world, v[0], NULL);

  if (pool != NULL)
    pmt_pool_wait_completion (pool, v[1], v[2]);
}

/* With the safety timeout, the shutdown must end in time: every task of
 * the model ends by itself in a bounded time. */
static void
op_pool_shutdown (ModelWorld   *world,
                  const gint64 *v)
{
  g_autoptr(PmtPool) pool = model_dup_pool (world, v[0], NULL);
  gint64 timeout = v[3] ? MODEL_SAFETY_USEC : v[2];

  if (pool == NULL)
    return;
  if (!pmt_pool_shutdown (pool, v[1], timeout) && v[3])
    model_fail (world, "pmt_pool_shutdown (“%s”, %d) did not end in %d s",
                pmt_pool_get_name (pool), (int) v[1], (int) (MODEL_SAFETY_USEC / G_USEC_PER_SEC));
}

static void
op_pool_join (ModelWorld   *world,
              const gint64 *v)
{
  g_autoptr(PmtPool) pool = model_dup_pool (world, v[0], NULL);
  gint64 timeout = v[2] ? MODEL_SAFETY_USEC : v[1];

  if (pool == NULL)
    return;
  /* Another thread may keep submitting (its submissions are refused
   * while the join waits, not the sub-tasks of tasks), but the work of
   * the model ends in a bounded time, so the join must. */
  if (!pmt_pool_join (pool, timeout) && v[2])
    model_fail (world, "pmt_pool_join (“%s”) did not end in %d s",
                pmt_pool_get_name (pool), (int) (MODEL_SAFETY_USEC / G_USEC_PER_SEC));
}

static void
op_pool_drop (ModelWorld   *world,
              const gint64 *v)
{
  model_drop_pool (world, v[0]);
}

/* Standalone workers {{{1 */

static PmtWorker *
dup_worker (ModelWorld *world,
            guint       slot)
{
  PmtWorker *worker;

  g_mutex_lock (&world->lock);
  worker = world->workers[slot] != NULL ? g_object_ref (world->workers[slot]) : NULL;
  g_mutex_unlock (&world->lock);

  return worker;
}

/* A replaced worker is stopped (a worker with no idle timeout lives while
 * its thread does) and joined at the end of the run. */
static void
op_worker_new (ModelWorld   *world,
               const gint64 *v)
{
  g_autofree char *name = g_strdup_printf ("mw-%u-%u", world->serial, V_SLOT (v[0]));
  PmtWorker *worker = pmt_worker_new (name), *old;

  model_watch_object (world, worker);
  pmt_worker_set_idle_timeout (worker, v[1]);

  g_mutex_lock (&world->lock);
  old = g_steal_pointer (&world->workers[V_SLOT (v[0])]);
  world->workers[V_SLOT (v[0])] = worker;
  if (old != NULL)
    g_ptr_array_add (world->old_workers, old);
  g_mutex_unlock (&world->lock);

  if (old != NULL)
    pmt_worker_stop (old);
}

static void
op_worker_push (ModelWorld   *world,
                const gint64 *v)
{
  g_autoptr(PmtWorker) worker = dup_worker (world, v[0]);
  g_autoptr(GError) error = NULL;
  ModelTaskRecord *record;
  PmtTask *task;
  gboolean accepted;

  if (worker == NULL)
    return;
  record = new_record (world, v[1], v[3], NULL);
  task = new_task (world, record, v[2], v[3]);
  accepted = pmt_worker_push (worker, task, &error);
  check_push (world, record, accepted, error);
  g_object_unref (task);
}

static void
op_worker_stop (ModelWorld   *world,
                const gint64 *v)
{
  g_autoptr(PmtWorker) worker = dup_worker (world, v[0]);

  if (worker == NULL)
    return;
  if (v[1])
    pmt_worker_kill (worker);
  else
    pmt_worker_stop (worker);
}

static void
op_worker_join (ModelWorld   *world,
                const gint64 *v)
{
  g_autoptr(PmtWorker) worker = dup_worker (world, v[0]);

  if (worker != NULL)
    pmt_worker_join (worker, v[1]);
}

/* Limiters {{{1 */

static void
op_limiter_new (ModelWorld   *world,
                const gint64 *v)
{
  ModelLimitTrack *track = g_new0 (ModelLimitTrack, 1);
  PmtLimiter *limiter = pmt_limiter_new (v[1]), *old;
  ModelLimiterSlot *slot = &world->limiters[V_SLOT (v[0])];

  model_watch_object (world, limiter);
  track->limit = track->max_limit = v[1];

  g_mutex_lock (&world->lock);
  g_ptr_array_add (world->tracks, track);
  old = g_steal_pointer (&slot->limiter);
  slot->limiter = limiter;
  slot->track = track;
  g_mutex_unlock (&world->lock);
  g_clear_object (&old);
}

/* The model's limit is raised before the library's and lowered after it
 * (see model_limit_enter()). */
static void
op_limiter_set (ModelWorld   *world,
                const gint64 *v)
{
  ModelLimiterSlot *slot = &world->limiters[V_SLOT (v[0])];
  ModelLimitTrack *track = NULL;
  g_autoptr(PmtLimiter) limiter = model_dup_limiter (world, v[0], &track);
  gint limit = v[1];

  if (limiter == NULL)
    return;

  g_mutex_lock (&slot->set_mutex);
  if (limit >= __atomic_load_n (&track->limit, __ATOMIC_SEQ_CST))
    {
      if (limit > __atomic_load_n (&track->max_limit, __ATOMIC_SEQ_CST))
        __atomic_store_n (&track->max_limit, limit, __ATOMIC_SEQ_CST);
      __atomic_store_n (&track->limit, limit, __ATOMIC_SEQ_CST);
      pmt_limiter_set_limit (limiter, limit);
    }
  else
    {
      __atomic_add_fetch (&track->lowered, 1, __ATOMIC_SEQ_CST);
      pmt_limiter_set_limit (limiter, limit);
      __atomic_store_n (&track->limit, limit, __ATOMIC_SEQ_CST);
    }
  g_mutex_unlock (&slot->set_mutex);
}

typedef struct
{
  ModelWorld *world;
  ModelLimitTrack *track;
} DriverSection;

static void
driver_section (gpointer user_data)
{
  DriverSection *section = user_data;

  model_limit_enter (section->track, section->world);
  model_limit_leave (section->track);
}

/* A driver thread in pmt_limiter_run(), competing with the tasks. */
static void
op_limiter_run (ModelWorld   *world,
                const gint64 *v)
{
  DriverSection section = { world, NULL };
  g_autoptr(PmtLimiter) limiter = model_dup_limiter (world, v[0], &section.track);

  if (limiter != NULL)
    pmt_limiter_run (limiter, v[1], NULL, driver_section, &section, NULL);
}

static void
op_limiter_drop (ModelWorld   *world,
                 const gint64 *v)
{
  PmtLimiter *limiter;

  g_mutex_lock (&world->lock);
  limiter = g_steal_pointer (&world->limiters[V_SLOT (v[0])].limiter);
  g_mutex_unlock (&world->lock);
  g_clear_object (&limiter);
}

/* Threaded {{{1 */

/* Lets go of a PmtThreaded; its daemon worker, if any, is kept to be
 * joined at the end of the run (the threaded lets it exit when idle, and
 * the run must see that its thread is gone). */
static void
release_threaded (ModelWorld  *world,
                  PmtThreaded *threaded)
{
  PmtWorker *worker;

  if (threaded == NULL)
    return;
  worker = pmt_threaded_dup_worker (threaded);
  if (worker != NULL)
    {
      g_mutex_lock (&world->lock);
      g_ptr_array_add (world->old_workers, worker);
      g_mutex_unlock (&world->lock);
    }
  g_object_unref (threaded);
}

void
model_drop_threaded (ModelWorld *world,
                     guint       slot)
{
  PmtThreaded *threaded;

  g_mutex_lock (&world->lock);
  threaded = g_steal_pointer (&world->threaded[slot].threaded);
  g_mutex_unlock (&world->lock);
  release_threaded (world, threaded);
}

static void
op_threaded_new (ModelWorld   *world,
                 const gint64 *v)
{
  PmtThreaded *threaded = pmt_threaded_new (model_task_func, NULL, NULL), *old;
  ModelThreadedSlot *slot = &world->threaded[V_SLOT (v[0])];
  ModelLimitTrack *track = NULL;
  ModelPoolInfo *info = NULL;
  guint8 options = v[3];

  model_watch_object (world, threaded);
  if (v[1] == M_DAEMON)
    pmt_threaded_set_mode (threaded, PMT_THREADED_MODE_DAEMON);
  else if (v[1] == M_PRIVATE_POOL && (options & 4))
    {
      g_autoptr(PmtPool) pool = model_dup_pool (world, options >> 4, &info);

      if (pool != NULL)
        pmt_threaded_set_pool (threaded, pool);
      else
        pmt_threaded_set_mode (threaded, PMT_THREADED_MODE_POOL);
    }
  else if (v[1] == M_PRIVATE_POOL)
    pmt_threaded_set_mode (threaded, PMT_THREADED_MODE_POOL);
  else if (v[1] == M_NAMED_POOL)
    {
      g_autofree char *name = g_strdup_printf ("model-%u-shared", world->serial);

      pmt_threaded_set_pool_name (threaded, name);
    }

  if (options & 1)
    {
      g_autoptr(PmtLimiter) limiter = model_dup_limiter (world, v[2], &track);

      if (limiter != NULL)
        pmt_threaded_set_limiter (threaded, limiter, (options & 2) != 0);
      else
        track = NULL;
    }

  /* Swapped in one locked section: another thread may make one for the
   * same slot. */
  g_mutex_lock (&world->lock);
  old = g_steal_pointer (&slot->threaded);
  slot->threaded = threaded;
  slot->track = track;
  slot->pool_info = info;
  g_mutex_unlock (&world->lock);
  release_threaded (world, old);
}

/* A blocking limiter makes the call wait, with no timeout, for a holder
 * to finish: only driver threads call, never tasks, so the holders always
 * can. */
static void
op_threaded_call (ModelWorld   *world,
                  const gint64 *v)
{
  ModelThreadedSlot *slot = &world->threaded[V_SLOT (v[0])];
  g_autoptr(PmtThreaded) threaded = NULL;
  ModelLimitTrack *track;
  ModelPoolInfo *info;
  ModelTaskRecord *record;
  PmtTask *task;

  g_mutex_lock (&world->lock);
  threaded = slot->threaded != NULL ? g_object_ref (slot->threaded) : NULL;
  track = slot->track;
  info = slot->pool_info;
  g_mutex_unlock (&world->lock);
  if (threaded == NULL)
    return;

  record = new_record (world, v[1], v[2], info);
  record->task_limit = track;
  record->expect_notify = TRUE;
  task = pmt_threaded_call (threaded, record, model_task_data_notify, NULL);
  if (task == NULL)
    return;
  model_record_accepted (record, task);
  g_object_unref (task);
}

static void
op_threaded_drop (ModelWorld   *world,
                  const gint64 *v)
{
  model_drop_threaded (world, v[0]);
}

/* Tasks {{{1 */

static void
op_task_cancel (ModelWorld   *world,
                const gint64 *v)
{
  g_autoptr(PmtTask) task = model_dup_task (world, v[0]);

  if (task != NULL)
    pmt_task_cancel (task);
}

/* Waits on @n tasks from @selector on, with every wait kind. */
static void
op_task_wait (ModelWorld   *world,
              const gint64 *v)
{
  g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < v[3]; i++)
    {
      PmtTask *task = model_dup_task (world, v[0] + i);

      if (task != NULL)
        g_ptr_array_add (tasks, task);
    }
  if (tasks->len > 0)
    model_wait_for (tasks, v[1], v[2]);
}

static void
op_task_drop (ModelWorld   *world,
              const gint64 *v)
{
  PmtTask *task = NULL;

  g_mutex_lock (&world->lock);
  if (world->records->len > 0)
    {
      ModelTaskRecord *record = world->records->pdata[v[0] % world->records->len];

      task = g_steal_pointer (&record->task);
    }
  g_mutex_unlock (&world->lock);
  g_clear_object (&task);
}

/* The table {{{1 */

const ModelOpInfo model_ops[] = {
  { "pool-new",             op_pool_new,             { F_POOL, F_MAX_WORKERS, F_MIN_WORKERS, F_IDLE } },
  { "pool-lookup",          op_pool_lookup,          { F_POOL } },
  { "pool-set-workers",     op_pool_set_workers,     { F_POOL, F_MAX_WORKERS, F_MIN_WORKERS } },
  { "pool-submit",          op_pool_submit,          { F_POOL, F_BEHAVIOUR, F_PRIORITY, F_OPTIONS } },
  { "pool-push",            op_pool_push,            { F_POOL, F_BEHAVIOUR, F_PRIORITY, F_OPTIONS } },
  { "pool-execute",         op_pool_execute,         { F_POOL, F_PRIORITY, F_COUNT } },
  { "pool-map",             op_pool_map,             { F_POOL, F_BEHAVIOUR, F_COUNT, F_COUNT } },
  { "pool-command",         op_pool_command,         { F_POOL, F_COMMAND, F_PRIORITY } },
  { "pool-wait-completion", op_pool_wait_completion, { F_POOL, F_TIMEOUT, F_BOOL } },
  { "pool-shutdown",        op_pool_shutdown,        { F_POOL, F_SHUTDOWN, F_TIMEOUT, F_BOOL } },
  { "pool-join",            op_pool_join,            { F_POOL, F_TIMEOUT, F_BOOL } },
  { "pool-drop",            op_pool_drop,            { F_POOL } },
  { "worker-new",           op_worker_new,           { F_WORKER, F_IDLE } },
  { "worker-push",          op_worker_push,          { F_WORKER, F_BEHAVIOUR, F_PRIORITY, F_OPTIONS } },
  { "worker-stop",          op_worker_stop,          { F_WORKER, F_BOOL } },
  { "worker-join",          op_worker_join,          { F_WORKER, F_TIMEOUT } },
  { "limiter-new",          op_limiter_new,          { F_LIMITER, F_LIMIT } },
  { "limiter-set",          op_limiter_set,          { F_LIMITER, F_LIMIT } },
  { "limiter-run",          op_limiter_run,          { F_LIMITER, F_TIMEOUT } },
  { "limiter-drop",         op_limiter_drop,         { F_LIMITER } },
  { "threaded-new",         op_threaded_new,         { F_THREADED, F_MODE, F_LIMITER, F_OPTIONS } },
  { "threaded-call",        op_threaded_call,        { F_THREADED, F_BEHAVIOUR, F_OPTIONS } },
  { "threaded-drop",        op_threaded_drop,        { F_THREADED } },
  { "task-cancel",          op_task_cancel,          { F_TASK } },
  { "task-wait",            op_task_wait,            { F_TASK, F_WAIT, F_TIMEOUT, F_COUNT } },
  { "task-drop",            op_task_drop,            { F_TASK } },
};

const guint model_n_ops = G_N_ELEMENTS (model_ops);

/* New operations go at the end: a code names the same operation in
 * every saved program. */
G_STATIC_ASSERT (G_N_ELEMENTS (model_ops) <= MODEL_CODE_SPACE);
