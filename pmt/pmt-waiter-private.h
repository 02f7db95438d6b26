/* pmt-waiter-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Something told when what it waits for may have changed: a task that
 * finished, a completion queue that got a task, a pool with new work.
 * Whoever fires it holds its own lock, so @fire may take only leaf
 * locks; @source is what fired (a task, for task waiters). */
typedef struct _PmtWaiter PmtWaiter;
struct _PmtWaiter
{
  void (*fire) (PmtWaiter *waiter,
                gpointer   source);
};

/* A waiter a thread blocks on.  Firing is remembered until the next wait
 * consumes it, so a wake-up between the test of a condition and the wait
 * is never lost. */
typedef struct
{
  PmtWaiter base;
  GMutex mutex;
  GCond cond;
  gboolean fired;
} PmtSyncWaiter;

void      _pmt_sync_waiter_init  (PmtSyncWaiter *waiter);
void      _pmt_sync_waiter_clear (PmtSyncWaiter *waiter);
void      _pmt_sync_waiter_fire  (PmtSyncWaiter *waiter);
/* Blocks until fired or @deadline (see pmt-deadline-private.h), then
 * re-arms it.  Returns FALSE on timeout. */
gboolean  _pmt_sync_waiter_wait  (PmtSyncWaiter *waiter,
                                  gint64         deadline);

/* Fires every PmtSyncWaiter in @waiters, a GSList. */
void      _pmt_sync_waiters_fire (GSList        *waiters);

G_END_DECLS
