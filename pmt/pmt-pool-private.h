/* pmt-pool-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "pmt-pool.h"
#include "pmt-task.h"
#include "pmt-worker.h"

G_BEGIN_DECLS

/* The loop of a pool worker's thread; returns when the worker exits. */
void      _pmt_pool_worker_main   (PmtPool    *self,
                                   PmtWorker  *worker);
/* Wakes the pool's idle workers, e.g. after one was asked to stop. */
void      _pmt_pool_wake_workers  (PmtPool    *self);
G_END_DECLS
