/* bench-pool.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* A benchmark, not a test: it prints figures for PmtPool next to the same
 * work done by a raw GThreadPool in the same run, checks them against the
 * targets of the pool's design, and exits 0 whatever they are.
 *
 *   1. throughput: no-op work on 2 workers, ns per item, as jobs
 *      (pmt_pool_execute(), no task object) and as tasks (pmt_pool_submit());
 *      and, for reference, what making, running and releasing a task
 *      costs without any pool, in one thread and in two at once;
 *   2. priority submits into a pool whose workers are all held busy, ns per
 *      push in a window at 10 000 queued, one at 100 000 and on average;
 *   3. heap growth per queued job and per queued task, task object included.
 *
 * PMT_BENCH_SCALE (a float, default 1.0) scales every count, for quick runs.
 * Build it in release mode: `meson setup build --buildtype=release`.
 */

#include <pmt.h>

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

/* Targets from the pool's design (issue 3). */
#define TARGET_THROUGHPUT_RATIO  1.0
#define TARGET_PUSH_NS           100.0
#define TARGET_FLATNESS          1.5
#define TARGET_BYTES_PER_TASK    256.0

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
new_pmt_pool (void)
{
  g_autoptr(GError) error = NULL;
  PmtPool *pool = pmt_pool_new (NULL, N_WORKERS, &error);

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

/* 1. Throughput ---------------------------------------------------------- */

static double
throughput_pmt (guint    n_tasks,
                gboolean jobs)
{
  PmtPool *pool = new_pmt_pool ();
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

  target.pool = new_pmt_pool ();
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
  PmtPool *pool = new_pmt_pool ();
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
print_runs (const char *label,
            double     *values)
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
                    double      ratio)
{
  g_autofree char *figure = g_strdup_printf ("%.2fx", ratio);

  print_target (label, figure, ratio >= TARGET_THROUGHPUT_RATIO);
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

int
main (int   argc,
      char *argv[])
{
  const char *scale_env = g_getenv ("PMT_BENCH_SCALE");
  guint n_throughput, n_pushes, n_memory;
  double job_ns[N_REPS], pmt_ns[N_REPS], gtp_ns[N_REPS];
  double job_tp, pmt_tp, gtp_tp, lifecycle_1, lifecycle_2;
  PushTimes execute_runs[N_REPS], submit_runs[N_REPS], existing_runs[N_REPS];
  PushTimes pmt_execute, pmt_submit, pmt_existing, gtp_sorted = { 0, };
  PushPlan plan;
  double job_bytes, pmt_bytes, gtp_bytes;
  g_autoptr(GRand) rand = NULL;
  g_autofree char *n_throughput_str = NULL;
  g_autofree char *n_pushes_str = NULL;
  g_autofree char *n_memory_str = NULL;
  g_autofree char *at_small_str = NULL;
  g_autofree char *at_large_str = NULL;
  g_autofree char *window_str = NULL;

  if (argc > 1)
    {
      gboolean help = argc == 2 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0);

      fprintf (help ? stdout : stderr,
               "Usage: %s\n"
               "Compares PmtPool with GThreadPool and prints the figures.\n"
               "PMT_BENCH_SCALE=FACTOR scales every count (default 1.0).\n",
               argv[0]);
      return help ? 0 : 1;
    }

  if (scale_env != NULL && *scale_env != '\0')
    {
      char *end = NULL;

      scale = g_ascii_strtod (scale_env, &end);
      if (end == scale_env || *end != '\0' || !(scale > 0.0))
        {
          fprintf (stderr, "%s: PMT_BENCH_SCALE must be a positive number, not \"%s\"\n",
                   argv[0], scale_env);
          return 1;
        }
    }

  n_throughput = scaled (1000000);
  n_pushes = scaled (100000);
  n_memory = scaled (100000);

  plan.n_pushes = n_pushes;
  plan.window = MIN (scaled (1000), n_pushes);
  plan.at_large = n_pushes;
  plan.at_small = CLAMP (scaled (10000), plan.window, n_pushes);
  plan.priorities = g_new (gint, n_pushes);
  rand = g_rand_new_with_seed (20240603);
  for (guint i = 0; i < n_pushes; i++)
    plan.priorities[i] = g_rand_int_range (rand, -PRIORITY_RANGE, PRIORITY_RANGE);

  n_throughput_str = format_count (n_throughput);
  n_pushes_str = format_count (n_pushes);
  n_memory_str = format_count (n_memory);
  at_small_str = format_count (plan.at_small);
  at_large_str = format_count (plan.at_large);
  window_str = format_count (plan.window);

  printf ("PmtPool vs GThreadPool — scale %.3g, %u CPUs, GLib %u.%u.%u%s\n\n",
          scale, g_get_num_processors (),
          glib_major_version, glib_minor_version, glib_micro_version,
#ifdef __OPTIMIZE__
          ""
#else
          ", NOT OPTIMIZED: use --buildtype=release"
#endif
          );
  fflush (stdout);

  /* Memory first: see memory_per_queued(). */
  memory_per_queued (n_memory, &job_bytes, &pmt_bytes, &gtp_bytes);

  /* Interleaved, in a rotating order, so that all share the machine's
   * noise. */
  for (guint r = 0; r < N_REPS; r++)
    for (guint k = 0; k < 3; k++)
      switch ((r + k) % 3)
        {
        case 0:
          job_ns[r] = throughput_pmt (n_throughput, TRUE);
          break;
        case 1:
          pmt_ns[r] = throughput_pmt (n_throughput, FALSE);
          break;
        default:
          gtp_ns[r] = throughput_gtp (n_throughput);
          break;
        }
  job_tp = median (job_ns, N_REPS);
  pmt_tp = median (pmt_ns, N_REPS);
  gtp_tp = median (gtp_ns, N_REPS);
  lifecycle_1 = task_lifecycle (n_throughput, 1);
  lifecycle_2 = task_lifecycle (n_throughput, N_WORKERS);

  /* The sorted GThreadPool is slow (linear per push): one run, in the
   * middle of PmtPool's. */
  for (guint r = 0; r < N_REPS; r++)
    {
      if (r == N_REPS / 2)
        push_gtp_sorted (&plan, &gtp_sorted);
      push_into_busy_pmt_pool (&plan, push_pmt_execute_one, NO_TASKS, &execute_runs[r]);
      push_into_busy_pmt_pool (&plan, push_pmt_submit_one, TASKS_MADE_BY_PUSH, &submit_runs[r]);
      push_into_busy_pmt_pool (&plan, push_pmt_existing_one, TASKS_MADE_BEFORE,
                               &existing_runs[r]);
    }
  push_times_median (execute_runs, N_REPS, &pmt_execute);
  push_times_median (submit_runs, N_REPS, &pmt_submit);
  push_times_median (existing_runs, N_REPS, &pmt_existing);

  printf ("1. No-op work: %s items on %u workers, median of %u runs\n",
          n_throughput_str, N_WORKERS, N_REPS);
  printf ("  %-28s %15s %15s %10s\n", "", "PmtPool", "GThreadPool", "GTP/Pmt");
  print_row ("per job (execute)", job_tp, gtp_tp, "ns");
  print_row ("per task (submit)", pmt_tp, gtp_tp, "ns");
  print_runs ("runs, jobs", job_ns);
  print_runs ("runs, tasks", pmt_ns);
  print_runs ("runs, GThreadPool", gtp_ns);
  printf ("  without a pool, pmt_task_new() + pmt_task_run() + g_object_unref():\n");
  printf ("  %-28s %12.1f ns\n", "one thread", lifecycle_1);
  printf ("  %-28s %12.1f ns\n", "two threads in parallel", lifecycle_2);
  printf ("\n");

  printf ("2. Priority submits into a busy pool: %s random priorities\n"
          "   (ns per push, %s-push windows ending at the queue length shown;\n"
          "   PmtPool: median of %u runs, GThreadPool with a sort function: 1 run)\n",
          n_pushes_str, window_str, N_REPS);
  printf ("  %-28s %15s %15s %10s\n", "", "PmtPool", "GThreadPool", "GTP/Pmt");
  {
    g_autofree char *small_label = g_strdup_printf ("push at %s queued", at_small_str);
    g_autofree char *large_label = g_strdup_printf ("push at %s queued", at_large_str);

    printf ("  pmt_pool_execute_full(), jobs:\n");
    print_row (small_label, pmt_execute.at_small, gtp_sorted.at_small, "ns");
    print_row (large_label, pmt_execute.at_large, gtp_sorted.at_large, "ns");
    print_row ("push, average", pmt_execute.average, gtp_sorted.average, "ns");
    printf ("  pmt_pool_submit_full(), tasks made by the call:\n");
    print_row (small_label, pmt_submit.at_small, gtp_sorted.at_small, "ns");
    print_row (large_label, pmt_submit.at_large, gtp_sorted.at_large, "ns");
    print_row ("push, average", pmt_submit.average, gtp_sorted.average, "ns");
    printf ("  pmt_pool_push() of tasks made beforehand:\n");
    printf ("  %-28s %12.1f ns\n", small_label, pmt_existing.at_small);
    printf ("  %-28s %12.1f ns\n", large_label, pmt_existing.at_large);
    printf ("  %-28s %12.1f ns\n", "push, average", pmt_existing.average);
  }
  printf ("\n");

  printf ("3. Heap growth per queued item: %s queued, workers busy\n"
          "   (glibc mallinfo2: uordblks + hblkhd)\n", n_memory_str);
  if (pmt_bytes < 0)
    {
      printf ("  not measured: mallinfo2() needs glibc 2.33 or later\n");
    }
  else
    {
      printf ("  %-28s %15s %15s\n", "", "PmtPool", "GThreadPool");
      printf ("  %-28s %12.1f  B %12.1f  B\n", "bytes per queued job", job_bytes, gtp_bytes);
      printf ("  %-28s %12.1f  B %12.1f  B\n", "bytes per queued task", pmt_bytes, gtp_bytes);
    }
  printf ("\n");

  printf ("Targets\n");
  print_ratio_target ("no-op throughput >= 1.0x GThreadPool, jobs", gtp_tp / job_tp);
  print_ratio_target ("no-op throughput >= 1.0x GThreadPool, tasks", gtp_tp / pmt_tp);
  print_push_targets ("jobs", &plan, &pmt_execute);
  print_push_targets ("tasks", &plan, &pmt_submit);
  if (pmt_bytes >= 0)
    {
      print_bytes_target ("<= 256 bytes per queued job", job_bytes);
      print_bytes_target ("<= 256 bytes per queued task, task included", pmt_bytes);
    }
  if (scale != 1.0)
    printf ("  (scale %.3g: the queue lengths above are scaled too)\n", scale);

  g_free (plan.priorities);

  return 0;
}
