/* installed-check.c — built by .ci/run against the installed pmt-1.0.pc
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <pmt.h>

static void
answer (PmtTask  *task,
        gpointer  user_data)
{
  pmt_task_return_int (task, 42);
}

int
main (void)
{
  g_autoptr(PmtWorker) worker = pmt_worker_new ("installed");
  g_autoptr(PmtTask) task = pmt_task_new (answer, NULL, NULL);
  g_autoptr(GError) error = NULL;

  if (pmt_check_version (PMT_MAJOR_VERSION, PMT_MINOR_VERSION, PMT_MICRO_VERSION) != NULL)
    return 1;
  if (!pmt_worker_push (worker, task, &error) || !pmt_task_wait (task, 10 * G_USEC_PER_SEC))
    return 2;
  if (g_value_get_int64 (pmt_task_get_result (task)) != 42)
    return 3;

  pmt_worker_stop (worker);
  if (!pmt_worker_join (worker, -1))
    return 4;

  g_print ("Pmt %s installed and working\n", PMT_VERSION_S);
  return 0;
}
