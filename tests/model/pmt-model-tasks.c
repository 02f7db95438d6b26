/* pmt-model-tasks.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The task functions of the model, one per ModelBehaviour, and the
 * records that say what each task was meant to do. */

#include "pmt-model-private.h"

/* Nested tasks submit tasks that may nest once more, no deeper: a run
 * stays small and its waits bounded. */
#define MAX_DEPTH 2

/* Busy work long enough that cancelling a running task happens now and
 * then, with no sleep: what is measured is the library, not a clock. */
#define WORK_ROUNDS 40
#define WORK_ITERATIONS 500

/**
 * model_record_new:
 * @world: the world
 * @behaviour: what the task's function does
 * @arg: the behaviour's parameter
 * @depth: 0 for the driver's tasks, 1 for their sub-tasks…
 * @pool: (nullable): the model pool the task goes to
 *
 * Records a task about to be made.  The world owns the record.
 *
 * Returns: (transfer none): the record
 */
ModelTaskRecord *
model_record_new (ModelWorld     *world,
                  ModelBehaviour  behaviour,
                  guint8          arg,
                  guint           depth,
                  ModelPoolInfo  *pool)
{
  ModelTaskRecord *record = g_new0 (ModelTaskRecord, 1);

  record->world = world;
  record->behaviour = behaviour;
  record->arg = arg;
  record->depth = depth;
  record->pool = pool;

  g_mutex_lock (&world->lock);
  record->index = world->records->len;
  g_ptr_array_add (world->records, record);
  g_mutex_unlock (&world->lock);
  __atomic_add_fetch (&world->stats.n_tasks, 1, __ATOMIC_RELAXED);

  return record;
}

/**
 * model_record_accepted:
 * @record: a record
 * @task: (transfer none) (nullable): its task, which a pool, a worker
 *   or a PmtThreaded accepted; ignored for a task the model made
 *
 * Marks the record accepted and counts it for its pool.  The model takes
 * a reference to @task, unless it holds one already (a task it made
 * itself, whose reference it may have dropped by now).
 */
void
model_record_accepted (ModelTaskRecord *record,
                       PmtTask         *task)
{
  ModelWorld *world = record->world;
  guint64 id = 0;

  /* A task the model made may be gone by now (its callback dropped the
   * model's reference, and it finished): only its record is used. */
  if (!record->made_by_model)
    {
      model_watch_object (world, task);
      id = pmt_task_get_id (task);
      g_object_ref (task);
    }

  g_mutex_lock (&world->lock);
  record->accepted = TRUE;
  if (!record->made_by_model)
    {
      record->id = id;
      record->task = task;
    }
  g_mutex_unlock (&world->lock);

  if (record->pool != NULL)
    __atomic_add_fetch (&record->pool->n_accepted, 1, __ATOMIC_SEQ_CST);
}

gint64
model_expected_result (ModelTaskRecord *record)
{
  return (gint64) record->index * 2 + 1;
}

void
model_task_data_notify (gpointer user_data)
{
  ModelTaskRecord *record = user_data;

  __atomic_add_fetch (&record->n_notified, 1, __ATOMIC_SEQ_CST);
}

/**
 * model_dup_task:
 * @world: the world
 * @selector: a byte of the program
 *
 * Returns: (transfer full) (nullable): the task of record @selector
 *   modulo their number, if the model still holds it
 */
PmtTask *
model_dup_task (ModelWorld *world,
                guint       selector)
{
  PmtTask *task = NULL;

  g_mutex_lock (&world->lock);
  if (world->records->len > 0)
    {
      ModelTaskRecord *record = world->records->pdata[selector % world->records->len];

      if (record->task != NULL && record->accepted)
        task = g_object_ref (record->task);
    }
  g_mutex_unlock (&world->lock);

  return task;
}

/* Limiter tracking {{{1 */

/**
 * model_limit_enter:
 * @track: the limiter's track
 * @world: the world, to report to
 *
 * Called just inside a section the limiter guards.  Our count is never
 * above the library's (we count in after it let us in, and out before we
 * release), so it must never pass the limit.  The limit is checked as
 * the program set it: a raise is recorded before the library's, so our
 * value is never below the one the library let us in by.  A lowering
 * cannot be ordered so (a holder let in before it may count in after),
 * so once a limit was lowered the check is against the highest one set.
 */
void
model_limit_enter (ModelLimitTrack *track,
                   ModelWorld      *world)
{
  gint inside = __atomic_add_fetch (&track->inside, 1, __ATOMIC_SEQ_CST);
  gint limit = __atomic_load_n (&track->lowered, __ATOMIC_SEQ_CST) > 0
    ? __atomic_load_n (&track->max_limit, __ATOMIC_SEQ_CST)
    : __atomic_load_n (&track->limit, __ATOMIC_SEQ_CST);
  gint max = __atomic_load_n (&track->max_inside, __ATOMIC_SEQ_CST);

  __atomic_add_fetch (&track->n_entries, 1, __ATOMIC_RELAXED);
  while (inside > max &&
         !__atomic_compare_exchange_n (&track->max_inside, &max, inside, FALSE,
                                       __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
    ;
  if (inside > limit)
    model_fail (world, "limiter: %d holders inside, its limit is %d", inside, limit);
}

void
model_limit_leave (ModelLimitTrack *track)
{
  __atomic_sub_fetch (&track->inside, 1, __ATOMIC_SEQ_CST);
}

/* Behaviours {{{1 */

static void
busy_work (guint seed)
{
  volatile guint work = seed;

  for (guint i = 0; i < WORK_ITERATIONS; i++)
    work = work * 1103515245 + 12345;
}

static void
succeed (PmtTask         *task,
         ModelTaskRecord *record)
{
  pmt_task_return_int (task, model_expected_result (record));
}

static void
check_cancel (PmtTask         *task,
              ModelTaskRecord *record)
{
  GCancellable *cancellable = pmt_task_get_cancellable (task);
  GError *error = NULL;

  for (guint round = 0; round < WORK_ROUNDS; round++)
    {
      busy_work (record->index + round);
      if (g_cancellable_set_error_if_cancelled (cancellable, &error))
        {
          pmt_task_return_error (task, error);
          return;
        }
    }
  succeed (task, record);
}

static void
limited_section (gpointer user_data)
{
  ModelTaskRecord *record = user_data;

  model_limit_enter (record->limiter_track, record->world);
  busy_work (record->index);
  model_limit_leave (record->limiter_track);
}

/* B_LIMITED and B_LIMITER_RUN: a timeout fails the task with the
 * limiter's error, a cancellation cancels it. */
static void
limited (PmtTask         *task,
         ModelTaskRecord *record,
         gboolean         run)
{
  gint64 timeout = model_decode_field (F_TIMEOUT, record->arg);
  GCancellable *cancellable = pmt_task_get_cancellable (task);
  GError *error = NULL;
  gboolean ok;

  if (record->limiter == NULL)
    {
      succeed (task, record);
      return;
    }

  if (run)
    ok = pmt_limiter_run (record->limiter, timeout, cancellable,
                          limited_section, record, &error);
  else if ((ok = pmt_limiter_acquire (record->limiter, timeout, cancellable, &error)))
    {
      limited_section (record);
      pmt_limiter_release (record->limiter);
    }

  if (ok)
    succeed (task, record);
  else
    pmt_task_return_error (task, error);
}

/* Sub-tasks of a nested task: plain ones, or nested once more. */
static ModelBehaviour
sub_behaviour (ModelTaskRecord *record,
               guint            i)
{
  static const ModelBehaviour subs[] = { B_SUCCEED, B_FAIL, B_CHECK_CANCEL, B_NESTED };
  ModelBehaviour behaviour = subs[(record->arg + i) % G_N_ELEMENTS (subs)];

  return behaviour == B_NESTED && record->depth + 1 >= MAX_DEPTH ? B_SUCCEED : behaviour;
}

/* Submits 1 to 3 sub-tasks to @pool; returns those accepted. */
static GPtrArray *
submit_subs (ModelTaskRecord *record,
             PmtPool         *pool,
             gint             priority)
{
  GPtrArray *tasks = g_ptr_array_new_with_free_func (g_object_unref);
  guint n = 1 + record->arg % 3;
  ModelPoolInfo *info = model_pool_info_of (pool);

  for (guint i = 0; i < n; i++)
    {
      ModelTaskRecord *sub = model_record_new (record->world, sub_behaviour (record, i),
                                               record->arg >> 1, record->depth + 1, info);
      g_autoptr(GError) error = NULL;
      PmtTask *task;

      sub->expect_notify = TRUE;
      task = pmt_pool_submit_full (pool, priority, model_task_func, sub,
                                   model_task_data_notify, &error);
      if (task == NULL)
        continue;
      g_ptr_array_add (tasks, task);
      model_record_accepted (sub, task);
    }

  return tasks;
}

void
model_wait_for (GPtrArray *tasks,
          ModelWait  kind,
          gint64     timeout)
{
  PmtTask **array = (PmtTask **) tasks->pdata;
  g_autoptr(PmtCompletionQueue) queue = NULL;

  switch (kind)
    {
    case W_TASK_WAIT:
      for (guint i = 0; i < tasks->len; i++)
        pmt_task_wait (array[i], timeout);
      break;
    case W_WAIT_ALL:
      pmt_task_wait_all (array, tasks->len, timeout);
      break;
    case W_WAIT_ANY:
      pmt_task_wait_any (array, tasks->len, timeout);
      break;
    case W_QUEUE:
      queue = pmt_pool_as_completed (array, tasks->len);
      for (guint i = 0; i < tasks->len; i++)
        {
          PmtTask *done = pmt_completion_queue_next (queue, timeout);

          if (done == NULL)
            break;
          g_object_unref (done);
        }
      break;
    default:
      g_assert_not_reached ();
    }
}

/* B_NESTED and B_NESTED_COMPLETION: submit to the pool the task runs in
 * and wait, every wait kind, bounded.  Pmt's promise is that this never
 * deadlocks, even on one worker: the waiting thread runs queued work. */
static void
nested (PmtTask         *task,
        ModelTaskRecord *record,
        gboolean         completion)
{
  PmtWorker *worker = pmt_task_get_worker (task);
  PmtPool *pool = worker != NULL ? pmt_worker_get_pool (worker) : NULL;
  g_autoptr(GPtrArray) tasks = NULL;
  gint64 timeout = model_decode_field (F_TIMEOUT, record->arg >> 3);

  if (pool == NULL || record->depth >= MAX_DEPTH)
    {
      succeed (task, record);
      return;
    }

  tasks = submit_subs (record, pool, model_decode_field (F_PRIORITY, record->arg));
  if (completion)
    pmt_pool_wait_completion (pool, timeout, record->arg & 1);
  else if (tasks->len > 0)
    model_wait_for (tasks, (record->arg >> 2) % W_N, timeout);
  __atomic_add_fetch (&record->world->stats.n_nested, 1, __ATOMIC_RELAXED);
  succeed (task, record);
}

/**
 * model_task_func:
 * @task: the task
 * @user_data: (nullable): its record, or %NULL when the record is the
 *   task's data (pmt_pool_map() items, PmtThreaded calls)
 *
 * The function of every task the model makes: counts the run, checks the
 * limiter the worker holds around it, and does what its behaviour says.
 */
void
model_task_func (PmtTask  *task,
                 gpointer  user_data)
{
  ModelTaskRecord *record = user_data != NULL ? user_data : pmt_task_get_task_data (task);

  __atomic_add_fetch (&record->n_runs, 1, __ATOMIC_SEQ_CST);
  if (record->task_limit != NULL)
    model_limit_enter (record->task_limit, record->world);

  switch (record->behaviour)
    {
    case B_SUCCEED:
      succeed (task, record);
      break;
    case B_FAIL:
      pmt_task_return_new_error (task, PMT_ERROR, PMT_ERROR_FAILED,
                                 "task %u fails on purpose", record->index);
      break;
    case B_CHECK_CANCEL:
      check_cancel (task, record);
      break;
    case B_LIMITED:
    case B_LIMITER_RUN:
      limited (task, record, record->behaviour == B_LIMITER_RUN);
      break;
    case B_NESTED:
    case B_NESTED_COMPLETION:
      nested (task, record, record->behaviour == B_NESTED_COMPLETION);
      break;
    case B_DROP_POOL:
      model_drop_pool (record->world, record->arg % MODEL_N_SLOTS);
      succeed (task, record);
      break;
    default:
      g_assert_not_reached ();
    }

  if (record->task_limit != NULL)
    model_limit_leave (record->task_limit);
}
