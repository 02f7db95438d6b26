/* pmt-thread-state-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A thread-local variable of the initial-exec model: one instruction to
 * reach, where the default model calls __tls_get_addr().  The few bytes
 * Pmt keeps this way fit in the static TLS room glibc keeps for libraries
 * loaded with dlopen(), as bindings load Pmt. */
#define PMT_THREAD_LOCAL __thread __attribute__ ((tls_model ("initial-exec")))

typedef struct _PmtExecutor PmtExecutor;

/* All that Pmt keeps per thread, in one place: set by the thread a worker
 * runs, for its lifetime (it lives on that thread's stack); other threads
 * have none.  Each layer owns its fields and reads only those. */
typedef struct
{
  /* The worker whose thread this is (a PmtWorker, not a reference). */
  gpointer worker;
  /* The executor this thread runs work for, and its per-thread data:
   * set by the executor (a pool) for the threads of its workers. */
  PmtExecutor *executor;
  gpointer executor_data;
} PmtThreadState;

/* The calling thread's state, or NULL. */
PmtThreadState *_pmt_thread_state_get (void);
/* Makes @state (may be NULL) the calling thread's. */
void            _pmt_thread_state_set (PmtThreadState *state);
/* A value that tells the calling thread from every other running thread,
 * much cheaper than g_thread_self(); another thread may have it once
 * this one exited. */
gconstpointer   _pmt_thread_id        (void);

G_END_DECLS
