/* bench-pool.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* A benchmark, not a test: it prints figures for PmtPool next to the same
 * work done by GLib (a raw GThreadPool, GTask, a bare condition variable)
 * in the same run, checks them against targets, and exits 0 whatever they
 * are.  Its rows:
 *
 *   1. throughput: 1 000 000 no-op items on 2 workers, ns per item, as jobs
 *      (pmt_pool_execute(), no task object) and as tasks (pmt_pool_submit()),
 *      against GThreadPool; and, for reference, what making, running and
 *      releasing a task costs without any pool, in one thread and in two;
 *   2. priority submits into a pool whose workers are all held busy, ns per
 *      push in a window at 10 000 queued, one at 100 000 and on average, as
 *      jobs, as tasks made by the call and as tasks made beforehand, against
 *      GThreadPool with a sort function;
 *   3. heap growth per queued job and per queued task, task object included;
 *   4. 200 000 no-op tasks (pmt_pool_submit()) on 2 workers, then a wait for
 *      all, against GThreadPool and GTask (g_task_run_in_thread());
 *   5. submit→start latency on an idle pool, p50 and p99 of 2 000 samples,
 *      of pmt_pool_submit(), pmt_pool_execute() and g_thread_pool_push(),
 *      against a GMutex + GCond ping-pong between two threads;
 *   6. with --callgrind only: instructions per item over all threads, for
 *      jobs, tasks, GThreadPool and GTask, counted by valgrind's callgrind.
 *
 * Rows 1, 4 and 5 run their contenders in turn, in an order that rotates
 * each round, and print the median and the range of 5 rounds.
 *
 * PMT_BENCH_SCALE (a float, default 1.0) scales every count of rows 1–5,
 * for quick runs.  Build it in release mode: `meson setup build --buildtype=release`.
 *
 * `--path=NAME --count=N` runs one workload of row 6 and exits, printing
 * nothing: it is what --callgrind runs under valgrind.
 */

#include <pmt.h>

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pmt-test-utils.h"

#if defined (__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
# include <malloc.h>
# define HAVE_MALLINFO2 1
#endif

#define N_REPS          5
#define N_WORKERS       2
#define PRIORITY_RANGE  10000
#define START_TIMEOUT   (30 * G_TIME_SPAN_SECOND)

#define N_NOOP_ITEMS       1000000
#define N_TASK_ITEMS       200000
#define N_LATENCY_SAMPLES  2000
#define MIN_LATENCY_SAMPLES 100
#define N_LATENCY_WARMUP   20
#define SETTLE_USEC        1000

/* Targets of the pool's design (issue 3): pushes and memory. */
#define TARGET_PUSH_NS           100.0
#define TARGET_FLATNESS          1.5
#define TARGET_BYTES_PER_TASK    256.0

/* Targets of the core's hot paths (issue 11), against what GLib offers
 * for the same work in the same run: jobs beat GThreadPool, tasks keep
 * close to it and well ahead of GTask, an idle pool starts work as fast
 * as GThreadPool, and instructions per item stay under fixed bounds. */
#define TARGET_JOB_VS_GTP        1.5
#define TARGET_TASK_VS_GTP       0.8
#define TARGET_TASK_VS_GTASK     4.0
#define TARGET_LATENCY_VS_GTP    1.0
#define TARGET_JOB_INSTRUCTIONS  900.0
#define TARGET_TASK_INSTRUCTIONS 4000.0

/* Items of a GThreadPool are pointers, never NULL: the gate is 1, the
 * others carry their priority shifted above it. */
#define GTP_GATE_ITEM         GUINT_TO_POINTER (1)
#define GTP_NOOP_ITEM         GUINT_TO_POINTER (2)
#define GTP_PRIORITY_ITEM(p)  GINT_TO_POINTER ((p) + PRIORITY_RANGE + 3)

static double scale = 1.0;

static guint
scaled (guint count)
{
  double n = count * scale;

  return n < 1.0 ? 1 : (guint) (n + 0.5);
}

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);

  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double da = *(const double *) a;
  double db = *(const double *) b;

  return (da > db) - (da < db);
}

/* Leaves @values in their order. */
static double
median (const double *values,
        guint         n_values)
{
  g_autofree double *sorted = g_memdup2 (values, n_values * sizeof (double));

  qsort (sorted, n_values, sizeof (double), compare_doubles);

  if (n_values % 2 == 1)
    return sorted[n_values / 2];

  return (sorted[n_values / 2 - 1] + sorted[n_values / 2]) / 2.0;
}

/* The @percent-th percentile of @sorted, by nearest rank: a value that
 * was measured, not one interpolated between two. */
static double
percentile (const double *sorted,
            guint         n_values,
            guint         percent)
{
  guint rank = (n_values * percent + 99) / 100;

  return sorted[MAX (rank, 1) - 1];
}

typedef struct
{
  double median;
  double min;
  double max;
} Spread;

/* How the rounds of one contender spread: the median hides it. */
static Spread
spread_of (const double *values,
           guint         n_values)
{
  Spread spread = { median (values, n_values), values[0], values[0] };

  for (guint i = 1; i < n_values; i++)
    {
      spread.min = MIN (spread.min, values[i]);
      spread.max = MAX (spread.max, values[i]);
    }

  return spread;
}

/* "1 000 000" */
static char *
format_count (guint count)
{
  g_autofree char *digits = g_strdup_printf ("%u", count);
  GString *out = g_string_new (NULL);
  gsize len = strlen (digits);

  for (gsize i = 0; i < len; i++)
    {
      if (i > 0 && (len - i) % 3 == 0)
        g_string_append_c (out, ' ');
      g_string_append_c (out, digits[i]);
    }

  return g_string_free (out, FALSE);
}

/* Heap in use as glibc's main arena counts it; every allocation measured
 * here is made by the main thread, which uses that arena. */
static gint64
heap_in_use (void)
{
#ifdef HAVE_MALLINFO2
  struct mallinfo2 info = mallinfo2 ();

  return (gint64) (info.uordblks + info.hblkhd);
#else
  return -1;
#endif
}

/* A gate (#PmtTestGate) holds workers busy: each task or item that enters
 * it says so and blocks until the gate opens.  Waits until @n_entered
 * workers are held in @gate. */
static void
gate_wait_entered (PmtTestGate *gate,
                   guint        n_entered,
                   const char  *what)
{
  guint n = pmt_test_wait_uint (&gate->mutex, &gate->cond, &gate->n_started, n_entered,
                                START_TIMEOUT);

  if (n < n_entered)
    g_error ("%s: only %u of %u workers busy after %d s",
             what, n, n_entered, (int) (START_TIMEOUT / G_TIME_SPAN_SECOND));
}

static void
noop_task (G_GNUC_UNUSED PmtTask  *task,
           G_GNUC_UNUSED gpointer  user_data)
{
}

static void
noop_job (G_GNUC_UNUSED gpointer user_data)
{
}

static void
execute_or_die (PmtPool *pool,
                gint     priority)
{
  g_autoptr(GError) error = NULL;

  if (!pmt_pool_execute_full (pool, priority, noop_job, NULL, NULL, &error))
    g_error ("pmt_pool_execute_full: %s", error->message);
}

static void
gtp_func (gpointer data,
          gpointer user_data)
{
  if (data == GTP_GATE_ITEM)
    pmt_test_gate_enter (user_data);
}

static gint
gtp_compare_priority (gconstpointer a,
                      gconstpointer b,
                      G_GNUC_UNUSED gpointer user_data)
{
  gint pa = GPOINTER_TO_INT (a);
  gint pb = GPOINTER_TO_INT (b);

  return (pa > pb) - (pa < pb);
}

static PmtPool *
new_pmt_pool (guint max_workers)
{
  g_autoptr(GError) error = NULL;
  PmtPool *pool = pmt_pool_new (NULL, max_workers, &error);

  if (pool == NULL)
    g_error ("pmt_pool_new: %s", error->message);

  return pool;
}

static PmtTask *
submit_or_die (PmtPool     *pool,
               gint         priority,
               PmtTaskFunc  func,
               gpointer     user_data)
{
  g_autoptr(GError) error = NULL;
  PmtTask *task = pmt_pool_submit_full (pool, priority, func, user_data, NULL, &error);

  if (task == NULL)
    g_error ("pmt_pool_submit_full: %s", error->message);

  return task;
}

/* Holds every worker of @pool busy in @gate; returns the gate tasks. */
static GPtrArray *
pmt_pool_hold_busy (PmtPool     *pool,
                    PmtTestGate *gate)
{
  GPtrArray *gates = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < N_WORKERS; i++)
    g_ptr_array_add (gates, submit_or_die (pool, 0, pmt_test_gate_func, gate));
  gate_wait_entered (gate, N_WORKERS, "PmtPool");

  return gates;
}

static GThreadPool *
gtp_new_held_busy (PmtTestGate *gate)
{
  g_autoptr(GError) error = NULL;
  GThreadPool *gtp = g_thread_pool_new (gtp_func, gate, N_WORKERS, FALSE, &error);

  if (gtp == NULL)
    g_error ("g_thread_pool_new: %s", error->message);

  for (guint i = 0; i < N_WORKERS; i++)
    g_thread_pool_push (gtp, GTP_GATE_ITEM, NULL);
  gate_wait_entered (gate, N_WORKERS, "GThreadPool");

  return gtp;
}

static void
pmt_pool_destroy (PmtPool          *pool,
                  PmtShutdownFlags  flags)
{
  if (!pmt_pool_shutdown (pool, flags, -1))
    g_error ("pmt_pool_shutdown failed");
  g_object_unref (pool);
}

/* 1 and 4. Throughput: no-op items, then a wait for all --------------- */

static double
throughput_pmt (guint    n_tasks,
                gboolean jobs)
{
  PmtPool *pool = new_pmt_pool (N_WORKERS);
  gint64 start, end;

  start = now_ns ();
  for (guint i = 0; i < n_tasks; i++)
    {
      g_autoptr(GError) error = NULL;
      PmtTask *task;

      if (jobs)
        {
          execute_or_die (pool, G_PRIORITY_DEFAULT);
          continue;
        }

      task = pmt_pool_submit (pool, noop_task, NULL, NULL, &error);
      if (task == NULL)
        g_error ("pmt_pool_submit: %s", error->message);
      g_object_unref (task);
    }
  if (!pmt_pool_wait_completion (pool, -1, FALSE))
    g_error ("pmt_pool_wait_completion failed");
  end = now_ns ();

  if (pmt_pool_get_n_succeeded (pool) != n_tasks)
    g_error ("PmtPool ran %" G_GUINT64_FORMAT " of %u tasks",
             pmt_pool_get_n_succeeded (pool), n_tasks);
  pmt_pool_destroy (pool, PMT_SHUTDOWN_NONE);

  return (double) (end - start) / n_tasks;
}

static double
throughput_gtp (guint n_tasks)
{
  g_autoptr(GError) error = NULL;
  GThreadPool *gtp = g_thread_pool_new (gtp_func, NULL, N_WORKERS, FALSE, &error);
  gint64 start, end;

  if (gtp == NULL)
    g_error ("g_thread_pool_new: %s", error->message);

  start = now_ns ();
  for (guint i = 0; i < n_tasks; i++)
    g_thread_pool_push (gtp, GTP_NOOP_ITEM, NULL);
  g_thread_pool_free (gtp, FALSE, TRUE);
  end = now_ns ();

  return (double) (end - start) / n_tasks;
}

static void
gtask_noop_thread (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  /* Returning is part of a correct GTask (later GLib warns about one
   * finalized without), as succeeding is of a PmtTask that just returns. */
  g_task_return_boolean (task, TRUE);
}

static void
gtask_count_done (GObject      *source_object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  guint *n_done = user_data;

  (*n_done)++;
}

/* g_task_run_in_thread() hands each completion back as a callback on the
 * caller's thread-default main context, so this iterates a private one
 * until all came.  That is GTask used as it is meant for many items, and
 * measured as the pools are: its threads run the tasks while the caller
 * goes on submitting.  g_task_run_in_thread_sync() from 2 threads would
 * instead have each thread wait for one task at a time: a round trip per
 * item, a latency rather than a throughput.  GTask's threads are GLib's
 * own pool of up to 10; it offers no way to use 2. */
static double
throughput_gtask (guint n_tasks)
{
  GMainContext *context = g_main_context_new ();
  guint n_done = 0;
  gint64 start, end;

  g_main_context_push_thread_default (context);
  start = now_ns ();
  for (guint i = 0; i < n_tasks; i++)
    {
      GTask *task = g_task_new (NULL, NULL, gtask_count_done, &n_done);

      g_task_run_in_thread (task, gtask_noop_thread);
      g_object_unref (task);
    }
  while (n_done < n_tasks)
    g_main_context_iteration (context, TRUE);
  end = now_ns ();
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);

  return (double) (end - start) / n_tasks;
}

static double
throughput_jobs (guint n_jobs)
{
  return throughput_pmt (n_jobs, TRUE);
}

static double
throughput_tasks (guint n_tasks)
{
  return throughput_pmt (n_tasks, FALSE);
}

/* The workloads that rows 1, 4 and 6 compare: each makes @count no-op
 * items, runs them and waits for all, and returns ns per item. */
typedef struct
{
  const char *name;             /* for --path */
  const char *label;
  guint       callgrind_count;  /* N for --callgrind: large enough to dwarf the noise */
  double    (*run)              (guint count);
} Workload;

enum
{
  WORKLOAD_JOB,
  WORKLOAD_TASK,
  WORKLOAD_GTP,
  WORKLOAD_GTASK,
  N_WORKLOADS
};

static const Workload workloads[N_WORKLOADS] = {
  { "job", "jobs, pmt_pool_execute()", 20000, throughput_jobs },
  { "task", "tasks, pmt_pool_submit()", 5000, throughput_tasks },
  { "gthreadpool", "GThreadPool, g_thread_pool_push()", 20000, throughput_gtp },
  { "gtask", "GTask, g_task_run_in_thread()", 5000, throughput_gtask },
};

typedef void (*RoundFunc) (gpointer data,
                           guint    contender,
                           guint    round);

/* Runs @n_contenders in turn, N_REPS rounds, in an order that rotates
 * each round: all share the machine's noise, and none always runs first,
 * or always just after the same other. */
static void
run_rotated (guint     n_contenders,
             RoundFunc func,
             gpointer  data)
{
  for (guint r = 0; r < N_REPS; r++)
    for (guint k = 0; k < n_contenders; k++)
      func (data, (r + k) % n_contenders, r);
}

/* Rounds of some workloads, all with the same count. */
typedef struct
{
  guint        n_items;
  guint        n_contenders;
  const guint *contenders;      /* indices into workloads[] */
  double       ns[N_WORKLOADS][N_REPS];
} ThroughputRounds;

static void
throughput_round (gpointer data,
                  guint    contender,
                  guint    round)
{
  ThroughputRounds *rounds = data;
  guint w = rounds->contenders[contender];

  rounds->ns[w][round] = workloads[w].run (rounds->n_items);
}

static void
bench_throughput (ThroughputRounds *rounds,
                  guint             n_items,
                  const guint      *contenders,
                  guint             n_contenders)
{
  rounds->n_items = n_items;
  rounds->contenders = contenders;
  rounds->n_contenders = n_contenders;
  run_rotated (n_contenders, throughput_round, rounds);
}

static double
throughput_median (const ThroughputRounds *rounds,
                   guint                   workload)
{
  return median (rounds->ns[workload], N_REPS);
}

/* What a task object costs by itself, without a pool: @n_threads threads
 * each make, run and release their share of @n_tasks tasks, in parallel.
 * With two threads this bounds what two workers can do with tasks. */
static gpointer
lifecycle_thread (gpointer data)
{
  guint n_tasks = GPOINTER_TO_UINT (data);

  for (guint i = 0; i < n_tasks; i++)
    {
      PmtTask *task = pmt_task_new (noop_task, NULL, NULL);

      pmt_task_run (task);
      g_object_unref (task);
    }

  return NULL;
}

static double
task_lifecycle (guint n_tasks,
                guint n_threads)
{
  GThread *threads[N_WORKERS];
  gint64 start, end;

  g_assert (n_threads <= N_WORKERS);

  start = now_ns ();
  for (guint i = 0; i < n_threads; i++)
    threads[i] = g_thread_new ("bench-lifecycle", lifecycle_thread,
                               GUINT_TO_POINTER (n_tasks / n_threads));
  for (guint i = 0; i < n_threads; i++)
    g_thread_join (threads[i]);
  end = now_ns ();

  return (double) (end - start) / n_tasks;
}

/* 2. Priority pushes into a busy pool ----------------------------------- */

typedef struct
{
  guint  n_pushes;
  guint  window;      /* pushes per window */
  guint  at_small;    /* queue length at the end of the first window */
  guint  at_large;    /* and of the second */
  gint  *priorities;
} PushPlan;

typedef struct
{
  double at_small;    /* ns per push in each window */
  double at_large;
  double average;
} PushTimes;

/* What the pushes of one run work on. */
typedef struct
{
  const PushPlan  *plan;
  PmtPool         *pool;
  GThreadPool     *gtp;
  PmtTask        **tasks;
} PushTarget;

typedef void (*PushFunc) (PushTarget *target,
                          guint       i);

/* Times pushes number 0 … plan->n_pushes - 1 made by @push, in the two
 * windows and overall.  A call through a pointer costs every contender the
 * same nanosecond or two. */
static void
time_pushes (PushTarget *target,
             PushFunc    push,
             PushTimes  *times)
{
  const PushPlan *plan = target->plan;
  guint small_start = plan->at_small - plan->window;
  guint large_start = plan->at_large - plan->window;
  gint64 start, small, large = 0, end;

  start = small = now_ns ();
  for (guint i = 0; i < plan->n_pushes; i++)
    {
      if (i == small_start)
        small = now_ns ();
      else if (i == plan->at_small)
        times->at_small = (double) (now_ns () - small) / plan->window;
      if (i == large_start)
        large = now_ns ();
      push (target, i);
    }
  end = now_ns ();

  times->at_large = (double) (end - large) / plan->window;
  if (plan->at_small == plan->n_pushes)
    times->at_small = (double) (end - small) / plan->window;
  times->average = (double) (end - start) / plan->n_pushes;
}

static void
push_pmt_submit_one (PushTarget *target,
                     guint       i)
{
  g_autoptr(GError) error = NULL;

  target->tasks[i] = pmt_pool_submit_full (target->pool, target->plan->priorities[i],
                                           noop_task, NULL, NULL, &error);
  if (target->tasks[i] == NULL)
    g_error ("pmt_pool_submit_full: %s", error->message);
}

static void
push_pmt_execute_one (PushTarget *target,
                      guint       i)
{
  execute_or_die (target->pool, target->plan->priorities[i]);
}

static void
push_pmt_existing_one (PushTarget *target,
                       guint       i)
{
  g_autoptr(GError) error = NULL;

  if (!pmt_pool_push (target->pool, target->tasks[i], &error))
    g_error ("pmt_pool_push: %s", error->message);
}

typedef enum
{
  NO_TASKS,             /* jobs */
  TASKS_MADE_BY_PUSH,   /* @push stores them in target->tasks */
  TASKS_MADE_BEFORE,    /* made here, untimed: the cost of the queue alone */
} TaskSource;

/* Times @push into a PmtPool whose workers are all held busy, then shuts
 * the pool down, cancelling what it queued. */
static void
push_into_busy_pmt_pool (const PushPlan *plan,
                         PushFunc        push,
                         TaskSource      source,
                         PushTimes      *times)
{
  PushTarget target = { plan, NULL, NULL, NULL };
  g_autoptr(GPtrArray) gates = NULL;
  PmtTestGate gate;

  target.pool = new_pmt_pool (N_WORKERS);
  if (source != NO_TASKS)
    target.tasks = g_new0 (PmtTask *, plan->n_pushes);
  for (guint i = 0; source == TASKS_MADE_BEFORE && i < plan->n_pushes; i++)
    {
      target.tasks[i] = pmt_task_new (noop_task, NULL, NULL);
      pmt_task_set_priority (target.tasks[i], plan->priorities[i]);
    }
  pmt_test_gate_init (&gate);
  gates = pmt_pool_hold_busy (target.pool, &gate);

  time_pushes (&target, push, times);

  if (pmt_pool_get_n_queued (target.pool) != plan->n_pushes)
    g_error ("PmtPool queued %u of %u pushes",
             pmt_pool_get_n_queued (target.pool), plan->n_pushes);

  pmt_test_gate_open (&gate);
  pmt_pool_destroy (target.pool, PMT_SHUTDOWN_CANCEL_QUEUED);
  for (guint i = 0; target.tasks != NULL && i < plan->n_pushes; i++)
    g_object_unref (target.tasks[i]);
  g_free (target.tasks);
  pmt_test_gate_clear (&gate);
}

static void
push_gtp_sorted_one (PushTarget *target,
                     guint       i)
{
  g_thread_pool_push (target->gtp, GTP_PRIORITY_ITEM (target->plan->priorities[i]), NULL);
}

static void
push_gtp_sorted (const PushPlan *plan,
                 PushTimes      *times)
{
  PushTarget target = { plan, NULL, NULL, NULL };
  PmtTestGate gate;

  pmt_test_gate_init (&gate);
  target.gtp = gtp_new_held_busy (&gate);
  g_thread_pool_set_sort_function (target.gtp, gtp_compare_priority, NULL);

  time_pushes (&target, push_gtp_sorted_one, times);

  /* GThreadPool cannot drop its queue: the rest runs, as no-ops. */
  pmt_test_gate_open (&gate);
  g_thread_pool_free (target.gtp, FALSE, TRUE);
  pmt_test_gate_clear (&gate);
}

static void
push_times_median (PushTimes *runs,
                   guint      n_runs,
                   PushTimes *result)
{
  g_autofree double *values = g_new (double, n_runs);

  for (guint i = 0; i < n_runs; i++)
    values[i] = runs[i].at_small;
  result->at_small = median (values, n_runs);
  for (guint i = 0; i < n_runs; i++)
    values[i] = runs[i].at_large;
  result->at_large = median (values, n_runs);
  for (guint i = 0; i < n_runs; i++)
    values[i] = runs[i].average;
  result->average = median (values, n_runs);
}

static void
push_plan_init (PushPlan *plan,
                guint     n_pushes)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20240603);

  plan->n_pushes = n_pushes;
  plan->window = MIN (scaled (1000), n_pushes);
  plan->at_large = n_pushes;
  plan->at_small = CLAMP (scaled (10000), plan->window, n_pushes);
  plan->priorities = g_new (gint, n_pushes);
  for (guint i = 0; i < n_pushes; i++)
    plan->priorities[i] = g_rand_int_range (rand, -PRIORITY_RANGE, PRIORITY_RANGE);
}

typedef struct
{
  PushTimes execute;
  PushTimes submit;
  PushTimes existing;
  PushTimes gtp_sorted;
} PushFigures;

/* The sorted GThreadPool is slow (linear per push): one run, in the
 * middle of PmtPool's. */
static void
bench_pushes (const PushPlan *plan,
              PushFigures    *figures)
{
  PushTimes execute_runs[N_REPS], submit_runs[N_REPS], existing_runs[N_REPS];

  for (guint r = 0; r < N_REPS; r++)
    {
      if (r == N_REPS / 2)
        push_gtp_sorted (plan, &figures->gtp_sorted);
      push_into_busy_pmt_pool (plan, push_pmt_execute_one, NO_TASKS, &execute_runs[r]);
      push_into_busy_pmt_pool (plan, push_pmt_submit_one, TASKS_MADE_BY_PUSH, &submit_runs[r]);
      push_into_busy_pmt_pool (plan, push_pmt_existing_one, TASKS_MADE_BEFORE,
                               &existing_runs[r]);
    }
  push_times_median (execute_runs, N_REPS, &figures->execute);
  push_times_median (submit_runs, N_REPS, &figures->submit);
  push_times_median (existing_runs, N_REPS, &figures->existing);
}

/* 3. Memory ------------------------------------------------------------- */

/* Both pools are held busy before the first reading and neither frees
 * anything before the last one, so no allocation measured reuses memory a
 * previous one freed (GLib 2.74's slice allocator keeps freed blocks in
 * its caches, which glibc still counts as in use).  This runs first, for
 * the same reason. */
static void
memory_per_queued (guint   n_tasks,
                   double *job_bytes,
                   double *pmt_bytes,
                   double *gtp_bytes)
{
  PmtPool *pool = new_pmt_pool (N_WORKERS);
  PmtTestGate pmt_gate, gtp_gate;
  g_autoptr(GPtrArray) gates = NULL;
  GThreadPool *gtp;
  gint64 start, before, middle, after;

  pmt_test_gate_init (&pmt_gate);
  pmt_test_gate_init (&gtp_gate);
  gates = pmt_pool_hold_busy (pool, &pmt_gate);
  gtp = gtp_new_held_busy (&gtp_gate);

  start = heap_in_use ();
  for (guint i = 0; i < n_tasks; i++)
    execute_or_die (pool, G_PRIORITY_DEFAULT);
  before = heap_in_use ();
  for (guint i = 0; i < n_tasks; i++)
    {
      g_autoptr(GError) error = NULL;
      PmtTask *task = pmt_pool_submit (pool, noop_task, NULL, NULL, &error);

      if (task == NULL)
        g_error ("pmt_pool_submit: %s", error->message);
      g_object_unref (task);
    }
  middle = heap_in_use ();
  for (guint i = 0; i < n_tasks; i++)
    g_thread_pool_push (gtp, GTP_NOOP_ITEM, NULL);
  after = heap_in_use ();

  if (before < 0)
    {
      *job_bytes = *pmt_bytes = *gtp_bytes = -1.0;
    }
  else
    {
      *job_bytes = (double) (before - start) / n_tasks;
      *pmt_bytes = (double) (middle - before) / n_tasks;
      *gtp_bytes = (double) (after - middle) / n_tasks;
    }

  pmt_test_gate_open (&pmt_gate);
  pmt_test_gate_open (&gtp_gate);
  pmt_pool_destroy (pool, PMT_SHUTDOWN_CANCEL_QUEUED);
  g_thread_pool_free (gtp, FALSE, TRUE);
  pmt_test_gate_clear (&pmt_gate);
  pmt_test_gate_clear (&gtp_gate);
}

/* 5. Submit→start latency ---------------------------------------------- */

/* One contender's state, and the sample in flight: its work stamps
 * started_ns when it begins. */
typedef struct
{
  GMutex       mutex;
  GCond        started_cond;    /* broadcast when started_ns is set */
  GCond        settle_cond;     /* never signalled: for timed sleeps */
  gint64       started_ns;      /* 0 until the sample's work began */
  PmtPool     *pool;
  GThreadPool *gtp;
  PmtTask     *task;            /* the sample submitted, until it is done */
  GThread     *pong;            /* the ping-pong's waiter */
  GCond        ping_cond;
  gboolean     ping;            /* the waiter's turn */
  gboolean     quit;
} LatencyRun;

typedef struct
{
  const char *label;
  void      (*open)   (LatencyRun *run);
  void      (*start)  (LatencyRun *run);    /* starts one sample's work */
  void      (*finish) (LatencyRun *run);    /* or NULL: waits for it to end */
  void      (*close)  (LatencyRun *run);
} LatencyPath;

static void
latency_mark_started (LatencyRun *run)
{
  gint64 started = now_ns ();

  g_mutex_lock (&run->mutex);
  run->started_ns = started;
  g_cond_broadcast (&run->started_cond);
  g_mutex_unlock (&run->mutex);
}

static gint64
latency_wait_started (LatencyRun *run)
{
  gint64 deadline = g_get_monotonic_time () + START_TIMEOUT;
  gint64 started;

  g_mutex_lock (&run->mutex);
  while (run->started_ns == 0)
    {
      if (!g_cond_wait_until (&run->started_cond, &run->mutex, deadline))
        g_error ("a latency sample did not start in %d s",
                 (int) (START_TIMEOUT / G_TIME_SPAN_SECOND));
    }
  started = run->started_ns;
  run->started_ns = 0;
  g_mutex_unlock (&run->mutex);

  return started;
}

/* Blocks SETTLE_USEC on a condition nobody signals: the worker has that
 * long to go back to sleep, and no CPU of the two is kept spinning. */
static void
latency_settle (LatencyRun *run)
{
  gint64 deadline = g_get_monotonic_time () + SETTLE_USEC;

  g_mutex_lock (&run->mutex);
  while (g_cond_wait_until (&run->settle_cond, &run->mutex, deadline))
    ;
  g_mutex_unlock (&run->mutex);
}

static void
latency_task_func (G_GNUC_UNUSED PmtTask *task,
                   gpointer               user_data)
{
  latency_mark_started (user_data);
}

static void
latency_job_func (gpointer user_data)
{
  latency_mark_started (user_data);
}

static void
latency_gtp_func (G_GNUC_UNUSED gpointer data,
                  gpointer               user_data)
{
  latency_mark_started (user_data);
}

/* One worker, like the ping-pong's one waiter: each sample wakes that
 * thread from its sleep, in every contender. */
static void
latency_open_pmt (LatencyRun *run)
{
  run->pool = new_pmt_pool (1);
}

static void
latency_submit (LatencyRun *run)
{
  g_autoptr(GError) error = NULL;

  run->task = pmt_pool_submit (run->pool, latency_task_func, run, NULL, &error);
  if (run->task == NULL)
    g_error ("pmt_pool_submit: %s", error->message);
}

static void
latency_execute (LatencyRun *run)
{
  g_autoptr(GError) error = NULL;

  if (!pmt_pool_execute (run->pool, latency_job_func, run, NULL, &error))
    g_error ("pmt_pool_execute: %s", error->message);
}

/* The worker is done with the sample once the pool counts it finished. */
static void
latency_finish_pmt (LatencyRun *run)
{
  if (!pmt_pool_wait_completion (run->pool, -1, FALSE))
    g_error ("pmt_pool_wait_completion failed");
  g_clear_object (&run->task);
}

static void
latency_close_pmt (LatencyRun *run)
{
  pmt_pool_destroy (run->pool, PMT_SHUTDOWN_NONE);
}

static void
latency_open_gtp (LatencyRun *run)
{
  g_autoptr(GError) error = NULL;

  run->gtp = g_thread_pool_new (latency_gtp_func, run, 1, FALSE, &error);
  if (run->gtp == NULL)
    g_error ("g_thread_pool_new: %s", error->message);
}

static void
latency_push_gtp (LatencyRun *run)
{
  g_thread_pool_push (run->gtp, GTP_NOOP_ITEM, NULL);
}

static void
latency_close_gtp (LatencyRun *run)
{
  g_thread_pool_free (run->gtp, FALSE, TRUE);
}

/* The ping-pong's waiter: the least a thread woken for work can cost. */
static gpointer
pong_thread (gpointer data)
{
  LatencyRun *run = data;

  g_mutex_lock (&run->mutex);
  for (;;)
    {
      while (!run->ping && !run->quit)
        g_cond_wait (&run->ping_cond, &run->mutex);
      if (run->quit)
        break;
      run->ping = FALSE;
      run->started_ns = now_ns ();
      g_cond_broadcast (&run->started_cond);
    }
  g_mutex_unlock (&run->mutex);

  return NULL;
}

static void
latency_open_ping (LatencyRun *run)
{
  run->pong = g_thread_new ("bench-pong", pong_thread, run);
}

static void
latency_ping (LatencyRun *run)
{
  g_mutex_lock (&run->mutex);
  run->ping = TRUE;
  g_cond_signal (&run->ping_cond);
  g_mutex_unlock (&run->mutex);
}

static void
latency_close_ping (LatencyRun *run)
{
  g_mutex_lock (&run->mutex);
  run->quit = TRUE;
  g_cond_signal (&run->ping_cond);
  g_mutex_unlock (&run->mutex);
  g_thread_join (run->pong);
}

enum
{
  LATENCY_SUBMIT,
  LATENCY_EXECUTE,
  LATENCY_GTP,
  LATENCY_PING_PONG,
  N_LATENCY_PATHS
};

static const LatencyPath latency_paths[N_LATENCY_PATHS] = {
  { "pmt_pool_submit(), task", latency_open_pmt, latency_submit, latency_finish_pmt,
    latency_close_pmt },
  { "pmt_pool_execute(), job", latency_open_pmt, latency_execute, latency_finish_pmt,
    latency_close_pmt },
  { "g_thread_pool_push()", latency_open_gtp, latency_push_gtp, NULL, latency_close_gtp },
  { "GMutex + GCond ping-pong", latency_open_ping, latency_ping, NULL, latency_close_ping },
};

/* µs from just before @path starts the work to the instant it began;
 * returns once the worker is asleep again. */
static double
latency_sample (const LatencyPath *path,
                LatencyRun        *run)
{
  gint64 start, started;

  start = now_ns ();
  path->start (run);
  started = latency_wait_started (run);
  if (path->finish != NULL)
    path->finish (run);
  latency_settle (run);

  return (double) (started - start) / 1000.0;
}

/* The first samples of a round are not counted: they start the thread. */
static void
latency_round (const LatencyPath *path,
               guint              n_samples,
               double            *p50,
               double            *p99)
{
  g_autofree double *samples = g_new (double, n_samples);
  LatencyRun run = { 0, };

  g_mutex_init (&run.mutex);
  g_cond_init (&run.started_cond);
  g_cond_init (&run.settle_cond);
  g_cond_init (&run.ping_cond);
  path->open (&run);
  for (guint i = 0; i < N_LATENCY_WARMUP; i++)
    latency_sample (path, &run);
  for (guint i = 0; i < n_samples; i++)
    samples[i] = latency_sample (path, &run);
  path->close (&run);
  g_mutex_clear (&run.mutex);
  g_cond_clear (&run.started_cond);
  g_cond_clear (&run.settle_cond);
  g_cond_clear (&run.ping_cond);

  qsort (samples, n_samples, sizeof (double), compare_doubles);
  *p50 = percentile (samples, n_samples, 50);
  *p99 = percentile (samples, n_samples, 99);
}

typedef struct
{
  guint  n_samples;
  double p50[N_LATENCY_PATHS][N_REPS];  /* µs */
  double p99[N_LATENCY_PATHS][N_REPS];
} LatencyRounds;

static void
latency_round_func (gpointer data,
                    guint    contender,
                    guint    round)
{
  LatencyRounds *rounds = data;

  latency_round (&latency_paths[contender], rounds->n_samples,
                 &rounds->p50[contender][round], &rounds->p99[contender][round]);
}

static void
bench_latency (LatencyRounds *rounds,
               guint          n_samples)
{
  rounds->n_samples = n_samples;
  run_rotated (N_LATENCY_PATHS, latency_round_func, rounds);
}

/* 6. Instructions per item ---------------------------------------------- */

/* The total of a callgrind output file over all its threads: its
 * "totals:" line, or the "summary:" line that says the same. */
static gint64
read_callgrind_total (const char  *file,
                      GError     **error)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (file, &contents, NULL, error))
    return -1;

  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_prefix (lines[i], "totals:"))
        return g_ascii_strtoll (lines[i] + strlen ("totals:"), NULL, 10);
      if (g_str_has_prefix (lines[i], "summary:"))
        return g_ascii_strtoll (lines[i] + strlen ("summary:"), NULL, 10);
    }

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               "%s: no totals: or summary: line", file);
  return -1;
}

static gboolean
spawn_callgrind (const char      *valgrind,
                 const char      *self,
                 const Workload  *workload,
                 guint            count,
                 const char      *out_file,
                 GError         **error)
{
  g_autofree char *out_arg = g_strdup_printf ("--callgrind-out-file=%s", out_file);
  g_autofree char *path_arg = g_strdup_printf ("--path=%s", workload->name);
  g_autofree char *count_arg = g_strdup_printf ("--count=%u", count);
  const char *argv[] = {
    valgrind, "--tool=callgrind", "--separate-threads=no", out_arg,
    self, path_arg, count_arg, NULL
  };
  g_autofree char *err = NULL;
  int status;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
                     NULL, NULL, NULL, &err, &status, error))
    return FALSE;
  if (g_spawn_check_wait_status (status, error))
    return TRUE;

  g_prefix_error (error, "%s: ", err);
  return FALSE;
}

/* Instructions executed by all threads of `bench-pool --path=… --count=@count`,
 * or -1 when that could not be counted. */
static gint64
callgrind_ir (const char     *valgrind,
              const char     *self,
              const Workload *workload,
              guint           count)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out_file = NULL;
  gint64 ir = -1;
  int fd;

  fd = g_file_open_tmp ("bench-pool-XXXXXX.callgrind", &out_file, &error);
  if (fd < 0)
    {
      fprintf (stderr, "bench-pool: %s\n", error->message);
      return -1;
    }
  g_close (fd, NULL);

  if (spawn_callgrind (valgrind, self, workload, count, out_file, &error))
    ir = read_callgrind_total (out_file, &error);
  if (ir < 0)
    fprintf (stderr, "bench-pool: callgrind, %s: %s\n", workload->name, error->message);
  g_unlink (out_file);

  return ir;
}

typedef struct
{
  gint64 ir_n;      /* with N items */
  gint64 ir_2n;     /* with 2N */
  double per_item;  /* (Ir(2N) - Ir(N)) / N: start-up and shutdown cancel */
} Instructions;

static gboolean
count_instructions (const char     *valgrind,
                    const char     *self,
                    const Workload *workload,
                    Instructions   *counted)
{
  guint n = workload->callgrind_count;

  counted->ir_n = callgrind_ir (valgrind, self, workload, n);
  counted->ir_2n = callgrind_ir (valgrind, self, workload, 2 * n);
  if (counted->ir_n < 0 || counted->ir_2n < 0)
    return FALSE;

  counted->per_item = (double) (counted->ir_2n - counted->ir_n) / n;
  return TRUE;
}

/* Where this very program is, to run it again under valgrind. */
static char *
self_executable (const char *argv0)
{
  char *path = g_file_read_link ("/proc/self/exe", NULL);

  if (path != NULL)
    return path;
  if (strchr (argv0, G_DIR_SEPARATOR) != NULL)
    return g_strdup (argv0);

  return g_find_program_in_path (argv0);
}

/* Report ---------------------------------------------------------------- */

static void
print_row (const char *label,
           double      pmt,
           double      gtp,
           const char *unit)
{
  printf ("  %-28s %12.1f %s %12.1f %s %9.2fx\n",
          label, pmt, unit, gtp, unit, gtp / pmt);
}

/* Every run, in the order they ran: the median hides how they spread. */
static void
print_runs (const char   *label,
            const double *values)
{
  printf ("  %-28s", label);
  for (guint r = 0; r < N_REPS; r++)
    printf (" %7.1f", values[r]);
  printf ("\n");
}

static void
print_target (const char *label,
              const char *figure,
              gboolean    pass)
{
  printf ("  %-48s %-18s %s\n", label, figure, pass ? "PASS" : "FAIL");
}

static void
print_ratio_target (const char *label,
                    double      ratio,
                    double      at_least)
{
  g_autofree char *figure = g_strdup_printf ("%.2fx", ratio);

  print_target (label, figure, ratio >= at_least);
}

static void
print_bytes_target (const char *label,
                    double      bytes)
{
  g_autofree char *figure = g_strdup_printf ("%.1f B", bytes);

  print_target (label, figure, bytes <= TARGET_BYTES_PER_TASK);
}

static void
print_push_targets (const char      *what,
                    const PushPlan  *plan,
                    const PushTimes *times)
{
  g_autofree char *small_str = format_count (plan->at_small);
  g_autofree char *large_str = format_count (plan->at_large);
  g_autofree char *small_label = g_strdup_printf ("%s: push <= 100 ns at %s queued",
                                                  what, small_str);
  g_autofree char *large_label = g_strdup_printf ("%s: push <= 100 ns at %s queued",
                                                  what, large_str);
  g_autofree char *flat_label = g_strdup_printf ("%s: flat, (at %s) / (at %s) <= 1.5",
                                                 what, large_str, small_str);
  g_autofree char *small_fig = g_strdup_printf ("%.1f ns", times->at_small);
  g_autofree char *large_fig = g_strdup_printf ("%.1f ns", times->at_large);
  g_autofree char *flat_fig = g_strdup_printf ("%.2fx", times->at_large / times->at_small);

  print_target (small_label, small_fig, times->at_small <= TARGET_PUSH_NS);
  print_target (large_label, large_fig, times->at_large <= TARGET_PUSH_NS);
  print_target (flat_label, flat_fig, times->at_large / times->at_small <= TARGET_FLATNESS);
}

static void
print_range (const char   *label,
             const double *values)
{
  Spread spread = spread_of (values, N_REPS);

  printf ("  %-28s %7.1f – %.1f ns\n", label, spread.min, spread.max);
}

/* Median and range of the rounds, and @ratio unless it is 0. */
static void
print_spread_row (const char   *label,
                  const double *values,
                  int           precision,
                  const char   *unit,
                  double        ratio)
{
  Spread spread = spread_of (values, N_REPS);
  g_autofree char *range = g_strdup_printf ("%.*f – %.*f",
                                            precision, spread.min, precision, spread.max);

  printf ("  %-34s %9.*f %-2s %21s %-2s", label, precision, spread.median, unit, range, unit);
  if (ratio != 0.0)
    printf (" %9.2fx", ratio);
  printf ("\n");
}

static void
print_spread_header (const char *ratio_label)
{
  printf ("  %-34s %12s %24s %10s\n", "", "median", "min – max", ratio_label);
}

static const char *
build_note (void)
{
#ifdef __OPTIMIZE__
  return "";
#else
  return ", NOT OPTIMIZED: use --buildtype=release";
#endif
}

/* What the timed rows measured. */
typedef struct
{
  guint            n_memory;
  double           job_bytes;
  double           pmt_bytes;
  double           gtp_bytes;
  ThroughputRounds noop;
  double           lifecycle_1;
  double           lifecycle_2;
  PushPlan         plan;
  PushFigures      pushes;
  ThroughputRounds tasks;
  LatencyRounds    latency;
} Figures;

static void
print_noop (const Figures *f)
{
  g_autofree char *n_str = format_count (f->noop.n_items);
  double job_tp = throughput_median (&f->noop, WORKLOAD_JOB);
  double pmt_tp = throughput_median (&f->noop, WORKLOAD_TASK);
  double gtp_tp = throughput_median (&f->noop, WORKLOAD_GTP);

  printf ("1. No-op work: %s items on %u workers, median of %u runs\n",
          n_str, N_WORKERS, N_REPS);
  printf ("  %-28s %15s %15s %10s\n", "", "PmtPool", "GThreadPool", "GTP/Pmt");
  print_row ("per job (execute)", job_tp, gtp_tp, "ns");
  print_row ("per task (submit)", pmt_tp, gtp_tp, "ns");
  print_range ("min – max, jobs", f->noop.ns[WORKLOAD_JOB]);
  print_range ("min – max, tasks", f->noop.ns[WORKLOAD_TASK]);
  print_range ("min – max, GThreadPool", f->noop.ns[WORKLOAD_GTP]);
  print_runs ("runs, jobs", f->noop.ns[WORKLOAD_JOB]);
  print_runs ("runs, tasks", f->noop.ns[WORKLOAD_TASK]);
  print_runs ("runs, GThreadPool", f->noop.ns[WORKLOAD_GTP]);
  printf ("  without a pool, pmt_task_new() + pmt_task_run() + g_object_unref():\n");
  printf ("  %-28s %12.1f ns\n", "one thread", f->lifecycle_1);
  printf ("  %-28s %12.1f ns\n", "two threads in parallel", f->lifecycle_2);
  printf ("\n");
}

static void
print_push_rows (const char      *label,
                 const PushPlan  *plan,
                 const PushTimes *pmt,
                 const PushTimes *gtp)
{
  g_autofree char *small_str = format_count (plan->at_small);
  g_autofree char *large_str = format_count (plan->at_large);
  g_autofree char *small_label = g_strdup_printf ("push at %s queued", small_str);
  g_autofree char *large_label = g_strdup_printf ("push at %s queued", large_str);

  printf ("  %s:\n", label);
  if (gtp == NULL)
    {
      printf ("  %-28s %12.1f ns\n", small_label, pmt->at_small);
      printf ("  %-28s %12.1f ns\n", large_label, pmt->at_large);
      printf ("  %-28s %12.1f ns\n", "push, average", pmt->average);
      return;
    }
  print_row (small_label, pmt->at_small, gtp->at_small, "ns");
  print_row (large_label, pmt->at_large, gtp->at_large, "ns");
  print_row ("push, average", pmt->average, gtp->average, "ns");
}

static void
print_pushes (const Figures *f)
{
  const PushFigures *p = &f->pushes;
  g_autofree char *n_str = format_count (f->plan.n_pushes);
  g_autofree char *window_str = format_count (f->plan.window);

  printf ("2. Priority submits into a busy pool: %s random priorities\n"
          "   (ns per push, %s-push windows ending at the queue length shown;\n"
          "   PmtPool: median of %u runs, GThreadPool with a sort function: 1 run)\n",
          n_str, window_str, N_REPS);
  printf ("  %-28s %15s %15s %10s\n", "", "PmtPool", "GThreadPool", "GTP/Pmt");
  print_push_rows ("pmt_pool_execute_full(), jobs", &f->plan, &p->execute, &p->gtp_sorted);
  print_push_rows ("pmt_pool_submit_full(), tasks made by the call", &f->plan, &p->submit,
                   &p->gtp_sorted);
  print_push_rows ("pmt_pool_push() of tasks made beforehand", &f->plan, &p->existing, NULL);
  printf ("\n");
}

static void
print_memory (const Figures *f)
{
  g_autofree char *n_str = format_count (f->n_memory);

  printf ("3. Heap growth per queued item: %s queued, workers busy\n"
          "   (glibc mallinfo2: uordblks + hblkhd)\n", n_str);
  if (f->pmt_bytes < 0)
    {
      printf ("  not measured: mallinfo2() needs glibc 2.33 or later\n");
    }
  else
    {
      printf ("  %-28s %15s %15s\n", "", "PmtPool", "GThreadPool");
      printf ("  %-28s %12.1f  B %12.1f  B\n", "bytes per queued job", f->job_bytes, f->gtp_bytes);
      printf ("  %-28s %12.1f  B %12.1f  B\n", "bytes per queued task", f->pmt_bytes, f->gtp_bytes);
    }
  printf ("\n");
}

static void
print_tasks (const Figures *f)
{
  const ThroughputRounds *t = &f->tasks;
  g_autofree char *n_str = format_count (t->n_items);
  double pmt = throughput_median (t, WORKLOAD_TASK);

  printf ("4. No-op tasks, then a wait for all: %s items, %u rounds, ns per item\n"
          "   (PmtPool and GThreadPool on %u workers; GTask on GLib's own pool of up to 10\n"
          "   threads, its callbacks dispatched on a main context the caller iterates)\n",
          n_str, N_REPS, N_WORKERS);
  print_spread_header ("base/Pmt");
  print_spread_row (workloads[WORKLOAD_TASK].label, t->ns[WORKLOAD_TASK], 1, "ns", 0.0);
  print_spread_row (workloads[WORKLOAD_GTP].label, t->ns[WORKLOAD_GTP], 1, "ns",
                    throughput_median (t, WORKLOAD_GTP) / pmt);
  print_spread_row (workloads[WORKLOAD_GTASK].label, t->ns[WORKLOAD_GTASK], 1, "ns",
                    throughput_median (t, WORKLOAD_GTASK) / pmt);
  printf ("\n");
}

static void
print_latency_rows (const char   *label,
                    const double  values[N_LATENCY_PATHS][N_REPS])
{
  double ping_pong = median (values[LATENCY_PING_PONG], N_REPS);

  printf ("  %s:\n", label);
  for (guint p = 0; p < N_LATENCY_PATHS; p++)
    print_spread_row (latency_paths[p].label, values[p], 2, "µs",
                      median (values[p], N_REPS) / ping_pong);
}

static void
print_latency (const Figures *f)
{
  const LatencyRounds *l = &f->latency;
  g_autofree char *n_str = format_count (l->n_samples);

  printf ("5. Submit→start latency, idle pool of 1 worker: %s samples a round, %u rounds\n"
          "   (µs from the call to the work's start; before each sample the previous one\n"
          "   finished and the worker had %d µs to sleep again; %u samples unrecorded first)\n",
          n_str, N_REPS, SETTLE_USEC, N_LATENCY_WARMUP);
  print_spread_header ("÷ping-pong");
  print_latency_rows ("p50", l->p50);
  print_latency_rows ("p99", l->p99);
  printf ("\n");
}

static void
print_latency_target (const LatencyRounds *l,
                      guint                path,
                      const char          *what)
{
  g_autofree char *label = g_strdup_printf ("%s: submit to start p50 <= GThreadPool's", what);
  double ratio = median (l->p50[path], N_REPS) / median (l->p50[LATENCY_GTP], N_REPS);
  g_autofree char *figure = g_strdup_printf ("%.2fx", ratio);

  print_target (label, figure, ratio <= TARGET_LATENCY_VS_GTP);
}

static void
print_targets (const Figures *f)
{
  double gtp_noop = throughput_median (&f->noop, WORKLOAD_GTP);
  double task = throughput_median (&f->tasks, WORKLOAD_TASK);

  printf ("Targets\n");
  print_ratio_target ("jobs: throughput >= 1.5x GThreadPool",
                      gtp_noop / throughput_median (&f->noop, WORKLOAD_JOB), TARGET_JOB_VS_GTP);
  print_push_targets ("jobs", &f->plan, &f->pushes.execute);
  print_push_targets ("tasks", &f->plan, &f->pushes.submit);
  if (f->pmt_bytes >= 0)
    {
      print_bytes_target ("<= 256 bytes per queued job", f->job_bytes);
      print_bytes_target ("<= 256 bytes per queued task, task included", f->pmt_bytes);
    }
  print_ratio_target ("tasks, then a wait: >= 0.8x GThreadPool",
                      throughput_median (&f->tasks, WORKLOAD_GTP) / task, TARGET_TASK_VS_GTP);
  print_ratio_target ("tasks, then a wait: >= 4x GTask",
                      throughput_median (&f->tasks, WORKLOAD_GTASK) / task, TARGET_TASK_VS_GTASK);
  print_latency_target (&f->latency, LATENCY_SUBMIT, "tasks");
  print_latency_target (&f->latency, LATENCY_EXECUTE, "jobs");
  if (scale != 1.0)
    printf ("  (scale %.3g: the queue lengths above are scaled too)\n", scale);
}

static const guint noop_contenders[] = { WORKLOAD_JOB, WORKLOAD_TASK, WORKLOAD_GTP };
static const guint task_contenders[] = { WORKLOAD_TASK, WORKLOAD_GTP, WORKLOAD_GTASK };

static void
run_timed (void)
{
  Figures f = { 0, };

  printf ("PmtPool vs GThreadPool and GTask — scale %.3g, %u CPUs, GLib %u.%u.%u%s\n\n",
          scale, g_get_num_processors (),
          glib_major_version, glib_minor_version, glib_micro_version, build_note ());
  fflush (stdout);

  /* Memory first: see memory_per_queued(). */
  f.n_memory = scaled (100000);
  memory_per_queued (f.n_memory, &f.job_bytes, &f.pmt_bytes, &f.gtp_bytes);

  bench_throughput (&f.noop, scaled (N_NOOP_ITEMS),
                    noop_contenders, G_N_ELEMENTS (noop_contenders));
  f.lifecycle_1 = task_lifecycle (f.noop.n_items, 1);
  f.lifecycle_2 = task_lifecycle (f.noop.n_items, N_WORKERS);
  push_plan_init (&f.plan, scaled (100000));
  bench_pushes (&f.plan, &f.pushes);
  print_noop (&f);
  print_pushes (&f);
  print_memory (&f);
  fflush (stdout);

  bench_throughput (&f.tasks, scaled (N_TASK_ITEMS),
                    task_contenders, G_N_ELEMENTS (task_contenders));
  print_tasks (&f);
  fflush (stdout);

  bench_latency (&f.latency, MAX (scaled (N_LATENCY_SAMPLES), MIN_LATENCY_SAMPLES));
  print_latency (&f);
  print_targets (&f);

  g_free (f.plan.priorities);
}

/* Each job and task is shown beside what GLib has for the same, and held
 * to a bound of its own. */
typedef struct
{
  guint       workload;
  guint       baseline;
  const char *target;
  double      at_most;
} Comparison;

static const Comparison instruction_comparisons[] = {
  { WORKLOAD_JOB, WORKLOAD_GTP, "jobs: instructions per item <= 900", TARGET_JOB_INSTRUCTIONS },
  { WORKLOAD_TASK, WORKLOAD_GTASK, "tasks: instructions per item <= 4000",
    TARGET_TASK_INSTRUCTIONS },
};

static const Comparison *
instruction_comparison (guint workload)
{
  for (guint i = 0; i < G_N_ELEMENTS (instruction_comparisons); i++)
    if (instruction_comparisons[i].workload == workload)
      return &instruction_comparisons[i];

  return NULL;
}

static void
print_instructions (const Instructions *counted,
                    const gboolean     *ok)
{
  printf ("6. Instructions per item, all threads: (Ir(2N) - Ir(N)) / N, so that start-up\n"
          "   and shutdown cancel (valgrind --tool=callgrind --separate-threads=no)\n");
  printf ("  %-34s %7s %14s %14s %9s %10s\n", "", "N", "Ir(N)", "Ir(2N)", "per item", "base/this");
  for (guint w = 0; w < N_WORKLOADS; w++)
    {
      g_autofree char *n_str = format_count (workloads[w].callgrind_count);
      const Comparison *comparison = instruction_comparison (w);

      if (!ok[w])
        {
          printf ("  %-34s %7s   not counted (see above)\n", workloads[w].label, n_str);
          continue;
        }
      printf ("  %-34s %7s %14" G_GINT64_FORMAT " %14" G_GINT64_FORMAT " %9.1f",
              workloads[w].label, n_str, counted[w].ir_n, counted[w].ir_2n,
              counted[w].per_item);
      if (comparison != NULL && ok[comparison->baseline])
        printf (" %9.2fx", counted[comparison->baseline].per_item / counted[w].per_item);
      printf ("\n");
    }
  printf ("  (base: GThreadPool for jobs, GTask for tasks)\n\n");
}

static void
print_instruction_targets (const Instructions *counted,
                           const gboolean     *ok)
{
  printf ("Targets\n");
  for (guint i = 0; i < G_N_ELEMENTS (instruction_comparisons); i++)
    {
      const Comparison *comparison = &instruction_comparisons[i];
      guint w = comparison->workload;
      g_autofree char *figure = NULL;

      if (!ok[w])
        continue;
      figure = g_strdup_printf ("%.0f", counted[w].per_item);
      print_target (comparison->target, figure, counted[w].per_item <= comparison->at_most);
    }
}

static void
run_callgrind (const char *argv0)
{
  g_autofree char *valgrind = g_find_program_in_path ("valgrind");
  g_autofree char *self = self_executable (argv0);
  Instructions counted[N_WORKLOADS];
  gboolean ok[N_WORKLOADS];

  printf ("PmtPool vs GThreadPool and GTask, instructions — GLib %u.%u.%u%s\n\n",
          glib_major_version, glib_minor_version, glib_micro_version, build_note ());
  if (valgrind == NULL || self == NULL)
    {
      printf ("  %s: instruction counts skipped\n",
              valgrind == NULL ? "valgrind not found in PATH" : "cannot find this program");
      return;
    }
  fflush (stdout);

  for (guint w = 0; w < N_WORKLOADS; w++)
    ok[w] = count_instructions (valgrind, self, &workloads[w], &counted[w]);
  print_instructions (counted, ok);
  print_instruction_targets (counted, ok);
}

/* --path: one workload, no output, for run_callgrind() to count. */
static int
run_path (const char *name,
          gint        count)
{
  for (guint w = 0; w < N_WORKLOADS; w++)
    {
      if (strcmp (workloads[w].name, name) != 0)
        continue;
      workloads[w].run (count > 0 ? (guint) count : workloads[w].callgrind_count);
      return 0;
    }

  fprintf (stderr, "bench-pool: no path \"%s\": job, task, gthreadpool or gtask\n", name);
  return 1;
}

static gboolean
read_scale (const char *argv0)
{
  const char *scale_env = g_getenv ("PMT_BENCH_SCALE");
  char *end = NULL;

  if (scale_env == NULL || *scale_env == '\0')
    return TRUE;

  scale = g_ascii_strtod (scale_env, &end);
  if (end == scale_env || *end != '\0' || !(scale > 0.0))
    {
      fprintf (stderr, "%s: PMT_BENCH_SCALE must be a positive number, not \"%s\"\n",
               argv0, scale_env);
      return FALSE;
    }

  return TRUE;
}

#define USAGE_SUMMARY \
  "Compares PmtPool with GThreadPool and GTask and prints the figures.\n" \
  "PMT_BENCH_SCALE=FACTOR scales every count of the timed rows (default 1.0)."

static gboolean opt_callgrind;
static char *opt_path;
static gint opt_count;

static const GOptionEntry options[] = {
  { "callgrind", 0, 0, G_OPTION_ARG_NONE, &opt_callgrind,
    "Count instructions per item under valgrind instead of timing", NULL },
  { "path", 0, 0, G_OPTION_ARG_STRING, &opt_path,
    "Run one workload and exit, printing nothing: job, task, gthreadpool or gtask", "NAME" },
  { "count", 0, 0, G_OPTION_ARG_INT, &opt_count,
    "How many items --path runs", "N" },
  G_OPTION_ENTRY_NULL
};

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  int status = 0;

  g_option_context_set_summary (context, USAGE_SUMMARY);
  g_option_context_add_main_entries (context, options, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 1;
    }
  if (argc > 1 || opt_count < 0)
    {
      fprintf (stderr, "%s: unexpected arguments, see --help\n", argv[0]);
      return 1;
    }

  if (opt_path != NULL)
    status = run_path (opt_path, opt_count);
  else if (opt_callgrind)
    run_callgrind (argv[0]);
  else if (read_scale (argv[0]))
    run_timed ();
  else
    status = 1;

  g_free (opt_path);

  return status;
}
