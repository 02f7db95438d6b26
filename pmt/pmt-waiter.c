/* pmt-waiter.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "pmt-deadline-private.h"
#include "pmt-waiter-private.h"

static void
sync_waiter_fire (PmtWaiter *waiter,
                  gpointer   source)
{
  _pmt_sync_waiter_fire ((PmtSyncWaiter *) waiter);
}

void
_pmt_sync_waiter_init (PmtSyncWaiter *waiter)
{
  waiter->base.fire = sync_waiter_fire;
  g_mutex_init (&waiter->mutex);
  g_cond_init (&waiter->cond);
  waiter->fired = FALSE;
}

void
_pmt_sync_waiter_clear (PmtSyncWaiter *waiter)
{
  g_mutex_clear (&waiter->mutex);
  g_cond_clear (&waiter->cond);
}

void
_pmt_sync_waiter_fire (PmtSyncWaiter *waiter)
{
  g_mutex_lock (&waiter->mutex);
  waiter->fired = TRUE;
  g_cond_signal (&waiter->cond);
  g_mutex_unlock (&waiter->mutex);
}

gboolean
_pmt_sync_waiter_wait (PmtSyncWaiter *waiter,
                       gint64         deadline)
{
  gboolean fired;

  g_mutex_lock (&waiter->mutex);
  while (!waiter->fired)
    if (!_pmt_cond_wait_until (&waiter->cond, &waiter->mutex, deadline))
      break;
  fired = waiter->fired;
  waiter->fired = FALSE;
  g_mutex_unlock (&waiter->mutex);

  return fired;
}

void
_pmt_sync_waiters_fire (GSList *waiters)
{
  for (GSList *l = waiters; l != NULL; l = l->next)
    _pmt_sync_waiter_fire (l->data);
}
