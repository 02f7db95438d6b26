/* test-soak.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Soak: millions of tasks and jobs through one pool of 4 workers whose
 * tasks share a limiter of 2, in rounds of a bounded number in flight.
 * The resident set size is sampled after a warm-up and at the end: the
 * pool must not grow with the work it has done (no leak, no queue or
 * free list that keeps what it ran).  Prints the figures.
 *
 * PMT_SOAK_TASKS and PMT_SOAK_JOBS override the numbers (2 000 000 and
 * 8 000 000 by default). */

#include <stdio.h>
#include <unistd.h>

#include <pmt.h>

#include "pmt-test-utils.h"

#define N_WORKERS        4
#define LIMIT            2
#define ROUND_TASKS      5000       /* tasks in flight at most */
#define WARM_UP_ROUNDS   20
/* Growth allowed between the warm-up and the end: allocator noise, not
 * a leak (one byte per task or job would be 10 MB). */
#define RSS_BOUND_BYTES  (4 * 1024 * 1024)

static guint64
env_count (const char *name,
           guint64     fallback)
{
  const char *value = g_getenv (name);

  return value != NULL ? g_ascii_strtoull (value, NULL, 10) : fallback;
}

static gsize
rss_bytes (void)
{
  g_autofree char *statm = NULL;
  gulong size = 0, resident = 0;

  g_assert_true (g_file_get_contents ("/proc/self/statm", &statm, NULL, NULL));
  g_assert_cmpint (sscanf (statm, "%lu %lu", &size, &resident), ==, 2);

  return resident * sysconf (_SC_PAGESIZE);
}

static void
job_func (gpointer data)
{
  g_atomic_int_inc ((gint *) data);
}

/* One round: @n_tasks tasks under the limiter and @n_jobs jobs,
 * interleaved, then a wait for all of them. */
static void
run_round (PmtPool    *pool,
           PmtLimiter *limiter,
           guint       n_tasks,
           guint       n_jobs,
           gint       *n_runs)
{
  guint jobs_per_task = n_tasks > 0 ? n_jobs / n_tasks : n_jobs;
  guint jobs_left = n_jobs;

  for (guint i = 0; i < n_tasks; i++)
    {
      g_autoptr(PmtTask) task = pmt_task_new (pmt_test_count_func, n_runs, NULL);

      pmt_task_set_limiter (task, limiter);
      pmt_task_set_store_result (task, FALSE);
      g_assert_true (pmt_pool_push (pool, task, NULL));
      for (guint j = 0; j < jobs_per_task && jobs_left > 0; j++, jobs_left--)
        g_assert_true (pmt_pool_execute (pool, job_func, n_runs, NULL, NULL));
    }
  for (; jobs_left > 0; jobs_left--)
    g_assert_true (pmt_pool_execute (pool, job_func, n_runs, NULL, NULL));

  g_assert_true (pmt_pool_wait_completion (pool, 60 * G_USEC_PER_SEC, FALSE));
}

static void
test_soak (void)
{
  guint64 n_tasks = env_count ("PMT_SOAK_TASKS", 2000000);
  guint64 n_jobs = env_count ("PMT_SOAK_JOBS", 8000000);
  guint64 n_rounds = MAX (1, (n_tasks + ROUND_TASKS - 1) / ROUND_TASKS);
  guint round_jobs = (guint) (n_jobs / n_rounds);
  g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, N_WORKERS);
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (LIMIT);
  guint64 done_tasks = 0, done_jobs = 0;
  gsize rss_start = 0, rss_end;
  gint n_runs = 0;
  gint64 started, elapsed;

  started = g_get_monotonic_time ();
  for (guint64 round = 0; round < n_rounds; round++)
    {
      guint tasks = (guint) MIN (ROUND_TASKS, n_tasks - done_tasks);
      guint jobs = round + 1 == n_rounds ? (guint) (n_jobs - done_jobs) : round_jobs;

      run_round (pool, limiter, tasks, jobs, &n_runs);
      done_tasks += tasks;
      done_jobs += jobs;
      if (round + 1 == MIN (WARM_UP_ROUNDS, n_rounds))
        rss_start = rss_bytes ();
    }
  elapsed = g_get_monotonic_time () - started;
  rss_end = rss_bytes ();

  g_test_message ("soak: %" G_GUINT64_FORMAT " tasks and %" G_GUINT64_FORMAT " jobs "
                  "in %.1f s (%.0f per second); RSS after warm-up %" G_GSIZE_FORMAT
                  " KiB, at the end %" G_GSIZE_FORMAT " KiB (bound +%d KiB)",
                  done_tasks, done_jobs, elapsed / (double) G_USEC_PER_SEC,
                  (done_tasks + done_jobs) / (elapsed / (double) G_USEC_PER_SEC),
                  rss_start / 1024, rss_end / 1024, RSS_BOUND_BYTES / 1024);

  g_assert_cmpuint (done_tasks, ==, n_tasks);
  g_assert_cmpuint (done_jobs, ==, n_jobs);
  g_assert_cmpuint ((guint64) g_atomic_int_get (&n_runs), ==, n_tasks + n_jobs);
  g_assert_cmpuint (pmt_pool_get_n_succeeded (pool), ==, n_tasks + n_jobs);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, LIMIT);
  pmt_test_assert_pool_settled (pool);
  g_assert_cmpuint (rss_end, <=, rss_start + RSS_BOUND_BYTES);
  pmt_test_shutdown_pool (pool);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/pmt/soak/tasks-and-jobs", test_soak);

  return g_test_run ();
}
