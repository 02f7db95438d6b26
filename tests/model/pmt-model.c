/* pmt-model.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Running a program: the world, its driver threads, the watchdog that
 * turns a hang into a reported failure, and what every run shares (the
 * emission hook that counts #PmtTask::completed, the log writer that
 * turns a warning or critical into a failure of the run). */

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "pmt-model-private.h"

/* Generous, for ThreadSanitizer: only a hang gets there. */
#define DEFAULT_RUN_TIMEOUT_S 120

static GMutex current_lock;
static ModelWorld *current_world;   /* the run in progress, for the hook and the log */
static guint run_serial;

/* Watchdog {{{1 */

static GMutex watchdog_lock;
static GCond watchdog_cond;
static gint64 watchdog_deadline;    /* 0: disarmed */
static char *watchdog_report;       /* what to print if it fires */

/* With PMT_MODEL_GDB set, a hang prints the stacks of every thread
 * (gdb must be installed and allowed to attach). */
static void
print_stacks (void)
{
  g_autofree char *pid = g_strdup_printf ("%d", (int) getpid ());
  const char *argv[] = { "gdb", "-p", pid, "-batch", "-nx", "-ex", "thread apply all bt", NULL };

  if (g_getenv ("PMT_MODEL_GDB") != NULL)
    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_CHILD_INHERITS_STDIN,
                  NULL, NULL, NULL, NULL, NULL, NULL);
}

static gpointer
watchdog_thread (gpointer data)
{
  g_mutex_lock (&watchdog_lock);
  for (;;)
    {
      if (watchdog_deadline == 0)
        g_cond_wait (&watchdog_cond, &watchdog_lock);
      else if (!g_cond_wait_until (&watchdog_cond, &watchdog_lock, watchdog_deadline) &&
               watchdog_deadline != 0 && g_get_monotonic_time () >= watchdog_deadline)
        {
          fprintf (stderr, "FAILED: the run did not end in time (a hang or a deadlock)\n%s",
                   watchdog_report);
          fflush (stderr);
          print_stacks ();
          abort ();
        }
    }
  return NULL;
}

static void
watchdog_arm (const char         *label,
              const ModelProgram *program)
{
  const char *env = g_getenv ("PMT_MODEL_RUN_TIMEOUT");
  gint64 seconds = env != NULL ? g_ascii_strtoll (env, NULL, 10) : DEFAULT_RUN_TIMEOUT_S;
  g_autofree char *ops = model_program_describe (program);

  g_mutex_lock (&watchdog_lock);
  g_free (watchdog_report);
  watchdog_report = g_strdup_printf ("%s\n%s", label, ops);
  watchdog_deadline = g_get_monotonic_time () + MAX (seconds, 1) * G_USEC_PER_SEC;
  g_cond_broadcast (&watchdog_cond);
  g_mutex_unlock (&watchdog_lock);
}

static void
watchdog_disarm (void)
{
  g_mutex_lock (&watchdog_lock);
  watchdog_deadline = 0;
  g_cond_broadcast (&watchdog_cond);
  g_mutex_unlock (&watchdog_lock);
}

/* Shared by every run {{{1 */

static gboolean
completed_hook (GSignalInvocationHint *ihint,
                guint                  n_param_values,
                const GValue          *param_values,
                gpointer               user_data)
{
  PmtTask *task = g_value_get_object (&param_values[0]);
  guint64 id = pmt_task_get_id (task);
  ModelCompleted *entry;
  ModelWorld *world;

  g_mutex_lock (&current_lock);
  world = current_world;
  g_mutex_unlock (&current_lock);
  if (world == NULL)
    return TRUE;

  g_mutex_lock (&world->completed_lock);
  entry = g_hash_table_lookup (world->completed, &id);
  if (entry == NULL)
    {
      guint64 *key = g_memdup2 (&id, sizeof id);

      entry = g_new0 (ModelCompleted, 1);
      g_hash_table_insert (world->completed, key, entry);
    }
  entry->count++;
  entry->state = pmt_task_get_state (task);
  g_cond_broadcast (&world->completed_cond);
  g_mutex_unlock (&world->completed_lock);

  return TRUE;
}

/* A warning or a critical is a failure of the run that raised it (the
 * program made no programming error on purpose), reported with its seed
 * rather than aborting the process without one. */
static GLogWriterOutput
log_writer (GLogLevelFlags   level,
            const GLogField *fields,
            gsize            n_fields,
            gpointer         user_data)
{
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    {
      const char *message = NULL;

      for (gsize i = 0; i < n_fields; i++)
        if (g_str_equal (fields[i].key, "MESSAGE"))
          message = fields[i].value;

      g_mutex_lock (&current_lock);
      if (current_world != NULL)
        model_fail (current_world, "logged: %s", message != NULL ? message : "?");
      g_mutex_unlock (&current_lock);
    }

  return g_log_writer_standard_streams (level, fields, n_fields, user_data);
}

/**
 * model_init:
 *
 * Sets up what every run shares: once per process, before the first run.
 */
void
model_init (void)
{
  static const char *const warm_up[] = { "/bin/true", NULL };
  g_autoptr(PmtTask) task = NULL;
  g_autoptr(PmtWorker) worker = NULL;

  g_log_set_always_fatal (0);
  g_log_set_writer_func (log_writer, NULL, NULL);
  /* The class must exist for its signal to. */
  g_type_class_unref (g_type_class_ref (PMT_TYPE_TASK));
  g_signal_add_emission_hook (g_signal_lookup ("completed", PMT_TYPE_TASK), 0,
                              completed_hook, NULL, NULL);
  g_thread_unref (g_thread_new ("model-watchdog", watchdog_thread, NULL));

  /* GLib starts its own helper threads (its worker thread, which reaps
   * children) on the first command task: start them now. */
  worker = pmt_worker_new ("model-warm-up");
  task = pmt_task_new_command (warm_up);
  if (!pmt_worker_push (worker, task, NULL) || !pmt_task_wait (task, MODEL_SAFETY_USEC))
    g_error ("the warm-up command task did not run");
  pmt_worker_stop (worker);
  pmt_worker_join (worker, MODEL_SAFETY_USEC);
  g_clear_object (&worker);
  g_clear_object (&task);
}

/* The world {{{1 */

gint64
model_safety_usec (void)
{
  static gint64 usec;

  if (__atomic_load_n (&usec, __ATOMIC_RELAXED) == 0)
    {
      const char *env = g_getenv ("PMT_MODEL_SAFETY_S");
      gint64 seconds = env != NULL ? g_ascii_strtoll (env, NULL, 10) : 20;

      __atomic_store_n (&usec, MAX (seconds, 1) * G_USEC_PER_SEC, __ATOMIC_RELAXED);
    }

  return __atomic_load_n (&usec, __ATOMIC_RELAXED);
}

void
model_fail (ModelWorld *world,
            const char *format,
            ...)
{
  va_list args;

  g_mutex_lock (&world->lock);
  va_start (args, format);
  g_string_append (world->failures, "  ");
  g_string_append_vprintf (world->failures, format, args);
  g_string_append_c (world->failures, '\n');
  va_end (args);
  g_mutex_unlock (&world->lock);
}

typedef struct
{
  ModelWorld *world;
  const char *type;
  GObject *object;         /* valid while not finalized */
  gboolean finalized;      /* under finalize_lock */
} Watched;

/* Object data is let go of at the very end of g_object_finalize(),
 * after the class's finalize (a weak reference is notified in dispose,
 * before it: a task's data notify would still be to run). */
static void
object_finalized (gpointer data)
{
  Watched *watched = data;
  ModelWorld *world = watched->world;

  g_mutex_lock (&world->finalize_lock);
  watched->finalized = TRUE;
  world->n_finalized++;
  g_cond_broadcast (&world->finalize_cond);
  g_mutex_unlock (&world->finalize_lock);
}

/* Every object the model makes or is handed must be finalized by the end
 * of the run: nothing kept, in every configuration (not only under
 * LeakSanitizer, and per run, not per process). */
void
model_watch_object (ModelWorld *world,
                    gpointer    object)
{
  Watched *watched = g_new0 (Watched, 1);

  watched->world = world;
  watched->type = G_OBJECT_TYPE_NAME (object);
  watched->object = object;
  g_mutex_lock (&world->finalize_lock);
  world->n_objects++;
  g_ptr_array_add (world->watched, watched);
  g_mutex_unlock (&world->finalize_lock);
  g_object_set_data_full (object, "pmt-model-watched", watched, object_finalized);
}

/* The types of the objects not finalized yet, for a report. */
char *
model_list_alive (ModelWorld *world)
{
  GString *out = g_string_new (NULL);

  g_mutex_lock (&world->finalize_lock);
  for (guint i = 0; i < world->watched->len; i++)
    {
      Watched *watched = world->watched->pdata[i];

      if (watched->finalized)
        continue;
      g_string_append_printf (out, " %s (%u references", watched->type,
                              __atomic_load_n (&watched->object->ref_count, __ATOMIC_SEQ_CST));
      if (PMT_IS_LIMITER (watched->object))
        g_string_append_printf (out, ", limit %u, %u available, %u waiting",
                                pmt_limiter_get_limit (PMT_LIMITER (watched->object)),
                                pmt_limiter_get_available (PMT_LIMITER (watched->object)),
                                pmt_limiter_get_n_waiting (PMT_LIMITER (watched->object)));
      g_string_append_c (out, ')');
    }
  g_mutex_unlock (&world->finalize_lock);

  return g_string_free (out, FALSE);
}

char *
model_pool_name (ModelWorld *world)
{
  guint n;

  g_mutex_lock (&world->lock);
  n = world->n_pools_made++;
  g_mutex_unlock (&world->lock);

  return g_strdup_printf ("model-%u-%u", world->serial, n);
}

PmtPool *
model_dup_pool (ModelWorld     *world,
                guint           slot,
                ModelPoolInfo **info)
{
  PmtPool *pool;

  slot %= MODEL_N_SLOTS;
  g_mutex_lock (&world->lock);
  pool = world->pools[slot] != NULL ? g_object_ref (world->pools[slot]) : NULL;
  if (info != NULL)
    *info = world->pool_infos[slot];
  g_mutex_unlock (&world->lock);

  return pool;
}

ModelPoolInfo *
model_pool_info_of (PmtPool *pool)
{
  return g_object_get_data (G_OBJECT (pool), "pmt-model-pool-info");
}

PmtLimiter *
model_dup_limiter (ModelWorld       *world,
                   guint             slot,
                   ModelLimitTrack **track)
{
  PmtLimiter *limiter;

  slot %= MODEL_N_SLOTS;
  g_mutex_lock (&world->lock);
  limiter = world->limiters[slot].limiter != NULL
    ? g_object_ref (world->limiters[slot].limiter) : NULL;
  *track = limiter != NULL ? world->limiters[slot].track : NULL;
  g_mutex_unlock (&world->lock);

  return limiter;
}

/* Drops the model's reference to a pool, from any thread (tasks and
 * completed handlers do too).  The pool lives on in the registry while it
 * is not shut down: the end of the run finds it there. */
void
model_drop_pool (ModelWorld *world,
                 guint       slot)
{
  PmtPool *pool;

  g_mutex_lock (&world->lock);
  pool = g_steal_pointer (&world->pools[slot]);
  world->pool_infos[slot] = NULL;
  g_mutex_unlock (&world->lock);
  g_clear_object (&pool);
}

static void
completed_free (gpointer data)
{
  g_free (data);
}

static ModelWorld *
world_new (const ModelProgram *program)
{
  ModelWorld *world = g_new0 (ModelWorld, 1);

  world->program = program;
  world->serial = ++run_serial;
  g_mutex_init (&world->lock);
  g_mutex_init (&world->completed_lock);
  g_cond_init (&world->completed_cond);
  g_mutex_init (&world->finalize_lock);
  g_cond_init (&world->finalize_cond);
  for (guint i = 0; i < MODEL_N_SLOTS; i++)
    g_mutex_init (&world->limiters[i].set_mutex);
  world->old_workers = g_ptr_array_new ();
  world->records = g_ptr_array_new ();
  world->jobs = g_ptr_array_new_with_free_func (g_free);
  world->tracks = g_ptr_array_new_with_free_func (g_free);
  world->pool_infos_all = g_ptr_array_new ();
  world->completed = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, completed_free);
  world->failures = g_string_new (NULL);
  world->watched = g_ptr_array_new_with_free_func (g_free);  /* Watched */

  return world;
}

static void
pool_info_free (gpointer data)
{
  ModelPoolInfo *info = data;

  g_free (info->name);
  g_free (info);
}

/* Only after model_finish(): nothing of the run is left that could use
 * the world. */
static void
world_free (ModelWorld *world)
{
  for (guint i = 0; i < world->records->len; i++)
    g_free (world->records->pdata[i]);
  g_ptr_array_unref (world->records);
  g_ptr_array_unref (world->jobs);
  g_ptr_array_unref (world->tracks);
  g_ptr_array_set_free_func (world->pool_infos_all, pool_info_free);
  g_ptr_array_unref (world->pool_infos_all);
  g_ptr_array_unref (world->old_workers);
  g_hash_table_unref (world->completed);
  g_string_free (world->failures, TRUE);
  g_ptr_array_unref (world->watched);
  for (guint i = 0; i < MODEL_N_SLOTS; i++)
    g_mutex_clear (&world->limiters[i].set_mutex);
  g_mutex_clear (&world->lock);
  g_mutex_clear (&world->completed_lock);
  g_cond_clear (&world->completed_cond);
  g_mutex_clear (&world->finalize_lock);
  g_cond_clear (&world->finalize_cond);
  g_free (world);
}

/* Driver threads {{{1 */

typedef struct
{
  ModelWorld *world;
  guint index;
  GMutex *start_lock;
  GCond *start_cond;
  gboolean *started;
} Driver;

/* Runs the operations of one driver thread, in program order.  The
 * threads start together, so that their operations interleave. */
static gpointer
driver_thread (gpointer data)
{
  Driver *driver = data;
  const ModelProgram *program = driver->world->program;

  g_mutex_lock (driver->start_lock);
  while (!*driver->started)
    g_cond_wait (driver->start_cond, driver->start_lock);
  g_mutex_unlock (driver->start_lock);

  for (guint i = 0; i < program->n_ops; i++)
    {
      const ModelOp *op = &program->ops[i];
      const ModelOpInfo *info = &model_ops[op->code];
      gint64 args[MODEL_N_ARGS];

      if (op->thread != driver->index)
        continue;
      for (guint a = 0; a < MODEL_N_ARGS; a++)
        args[a] = model_decode_field (info->fields[a], op->args[a]);
      info->apply (driver->world, args);
      __atomic_add_fetch (&driver->world->stats.n_ops, 1, __ATOMIC_RELAXED);
    }

  return NULL;
}

static void
run_drivers (ModelWorld *world)
{
  GThread *threads[MODEL_MAX_THREADS];
  Driver drivers[MODEL_MAX_THREADS];
  GMutex start_lock;
  GCond start_cond;
  gboolean started = FALSE;
  guint n = world->program->n_threads;

  g_mutex_init (&start_lock);
  g_cond_init (&start_cond);
  for (guint i = 0; i < n; i++)
    {
      drivers[i] = (Driver) { world, i, &start_lock, &start_cond, &started };
      threads[i] = g_thread_new ("model-driver", driver_thread, &drivers[i]);
    }
  g_mutex_lock (&start_lock);
  started = TRUE;
  g_cond_broadcast (&start_cond);
  g_mutex_unlock (&start_lock);
  for (guint i = 0; i < n; i++)
    g_thread_join (threads[i]);
  g_mutex_clear (&start_lock);
  g_cond_clear (&start_cond);
}

/**
 * model_run:
 * @program: the program
 * @label: what names the run in a report (its seed, its file)
 * @stats: (out) (optional): what the run did
 * @failures: (out) (optional) (transfer full): the failures, one a line
 *
 * Runs @program on the real library, from its driver threads, then ends
 * everything that is left and checks the model.  A hang aborts the
 * process after PMT_MODEL_RUN_TIMEOUT seconds (default 120), printing
 * @label and the program.
 *
 * Returns: %TRUE when every check passed
 */
gboolean
model_run (const ModelProgram *program,
           const char         *label,
           ModelStats         *stats,
           char              **failures)
{
  ModelWorld *world = world_new (program);
  /* Counted at each run: a fuzzer starts threads of its own after
   * model_init().  A run that leaves a thread fails, so the count does
   * not creep up. */
  guint thread_baseline = model_count_threads (NULL);
  gboolean ok;

  watchdog_arm (label, program);
  g_mutex_lock (&current_lock);
  current_world = world;
  g_mutex_unlock (&current_lock);

  run_drivers (world);
  model_finish (world);
  model_check (world, thread_baseline);

  g_mutex_lock (&current_lock);
  current_world = NULL;
  g_mutex_unlock (&current_lock);
  watchdog_disarm ();

  ok = world->failures->len == 0;
  if (stats != NULL)
    *stats = world->stats;
  if (failures != NULL)
    *failures = g_strdup (world->failures->str);
  /* A failed run may have left work behind that still uses the world:
   * keep it (the process reports and exits). */
  if (ok)
    world_free (world);

  return ok;
}
