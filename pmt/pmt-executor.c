/* pmt-executor.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "pmt-executor-private.h"

gboolean
_pmt_wait_until (PmtSyncWaiter   *waiter,
                 PmtWaitDoneFunc  done,
                 gpointer         data,
                 gint64           deadline)
{
  PmtExecutor *executor = _pmt_executor_get_current ();

  if (executor != NULL)
    return executor->vtable->help_until (executor, waiter, done, data, deadline);

  while (!done (data))
    if (!_pmt_sync_waiter_wait (waiter, deadline))
      return done (data);

  return TRUE;
}
