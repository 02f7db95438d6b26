/* pmt-nested.c — a task that waits for sub-tasks, on a pool of one worker
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Sums 0 … N-1 by splitting the range in halves, each half a task of
 * the same pool, until a range is small enough to add up.  Every task
 * that splits waits for its halves with pmt_task_wait_all(): on a pool
 * of one worker, the only thread is the one waiting, so it runs the
 * halves itself.  It exits non-zero unless the sum is right; it never
 * deadlocks (the test that runs it has a timeout).
 */

#include <pmt.h>

#define N    (1 << 20)
#define LEAF 4096

typedef struct
{
  PmtPool *pool;
  guint64  from, to;
} Range;

static Range *
range_new (PmtPool *pool,
           guint64  from,
           guint64  to)
{
  Range *range = g_new (Range, 1);

  range->pool = pool;
  range->from = from;
  range->to = to;

  return range;
}

static void
sum_range (PmtTask  *task,
           gpointer  user_data)
{
  Range *range = user_data;
  guint64 mid = range->from + (range->to - range->from) / 2;
  PmtTask *halves[2];
  GError *error = NULL;
  gint64 sum = 0;

  if (range->to - range->from <= LEAF)
    {
      for (guint64 i = range->from; i < range->to; i++)
        sum += i;
      pmt_task_return_int (task, sum);
      return;
    }

  halves[0] = pmt_pool_submit (range->pool, sum_range,
                               range_new (range->pool, range->from, mid), g_free, &error);
  halves[1] = halves[0] == NULL ? NULL
            : pmt_pool_submit (range->pool, sum_range,
                               range_new (range->pool, mid, range->to), g_free, &error);
  if (halves[1] == NULL)
    {
      g_clear_object (&halves[0]);
      pmt_task_return_error (task, error);   /* the pool is shutting down */
      return;
    }

  /* This thread runs queued tasks of the pool until both are done. */
  pmt_task_wait_all (halves, 2, -1);

  for (guint i = 0; i < 2; i++)
    {
      if (!pmt_task_propagate_error (halves[i], &error))
        {
          pmt_task_return_error (task, error);
          break;
        }
      sum += g_value_get_int64 (pmt_task_get_result (halves[i]));
    }
  if (error == NULL)
    pmt_task_return_int (task, sum);
  g_object_unref (halves[0]);
  g_object_unref (halves[1]);
}

int
main (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmtPool) pool = pmt_pool_new ("nested", 1, &error);   /* one worker */
  g_autoptr(PmtTask) root = NULL;
  gint64 sum;

  if (pool == NULL)
    g_error ("%s", error->message);

  root = pmt_pool_submit (pool, sum_range, range_new (pool, 0, N), g_free, &error);
  if (root == NULL)
    g_error ("%s", error->message);

  /* Timed waits return FALSE when time is up; the task goes on. */
  while (!pmt_task_wait (root, G_USEC_PER_SEC))
    g_print ("%u tasks queued...\n", pmt_pool_get_n_queued (pool));

  if (!pmt_task_propagate_error (root, &error))
    g_error ("%s", error->message);
  sum = g_value_get_int64 (pmt_task_get_result (root));

  pmt_pool_join (pool, -1);
  g_print ("sum of 0...%d: %" G_GINT64_FORMAT " in %" G_GUINT64_FORMAT " tasks on one worker\n",
           N - 1, sum, pmt_pool_get_n_succeeded (pool));

  return sum == (gint64) N * (N - 1) / 2 ? 0 : 1;
}
