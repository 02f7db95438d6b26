#include <pmt.h>

static void
count_primes (PmtTask *task, gpointer block)
{
  guint start = GPOINTER_TO_UINT (block) * 20000, count = 0;

  for (guint n = MAX (start, 2); n < start + 20000; n++)
    {
      gboolean prime = TRUE;
      for (guint d = 2; d * d <= n && prime; d++)
        prime = n % d != 0;
      count += prime;
    }
  pmt_task_return_int (task, count);      /* the task's result */
}

int
main (void)
{
  g_autoptr(PmtPool) pool = pmt_pool_new ("primes", 0, NULL);  /* a worker per CPU */
  g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);
  gint64 total = 0;

  for (guint block = 0; block < 8; block++)
    g_ptr_array_add (tasks, pmt_pool_submit (pool, count_primes, GUINT_TO_POINTER (block),
                                             NULL, NULL));
  for (guint i = 0; i < tasks->len; i++)
    {
      pmt_task_wait (tasks->pdata[i], -1);  /* blocks on a condition, no polling */
      total += g_value_get_int64 (pmt_task_get_result (tasks->pdata[i]));
    }
  g_print ("%" G_GINT64_FORMAT " primes below 160000\n", total);
  pmt_pool_join (pool, -1);
  return total == 14683 ? 0 : 1;
}
