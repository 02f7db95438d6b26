/* pmt-task-fields-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "pmt-task-private.h"
#include "pmt-thread-state-private.h"

G_BEGIN_DECLS

/* The fields of a PmtTask, for the files that implement it (pmt-task.c,
 * pmt-task-options.c, pmt-task-outcome.c, pmt-task-wait.c) and nothing
 * else: everybody else goes through pmt-task-private.h. */

/* What most tasks never use, allocated on first use: a queued task stays
 * small (pools hold many). */
typedef struct
{
  PmtTaskCallback callback;
  gpointer callback_data;
  GDestroyNotify callback_notify;

  gpointer task_data;
  GDestroyNotify task_data_notify;
  GValue task_value;        /* the bindings' per-call data */

  PmtLimiter *limiter;
  GMainContext *main_context;
  GCancellable *cancellable;
  GSList *async_waiters;
  GSList *done_notifies;    /* of DoneNotify */
} PmtTaskExtra;

typedef struct
{
  GDestroyNotify func;
  gpointer data;
} DoneNotify;

typedef struct
{
  GMutex mutex;

  PmtTaskFunc func;
  gpointer func_data;
  GDestroyNotify func_notify;

  /* Written under the mutex; read without it (by the running thread, for
   * the options fixed before the task was queued) with an atomic load:
   * it appears at any time, when a wait or a cancellable needs it. */
  PmtTaskExtra *extra;

  GValue result;
  GDestroyNotify result_notify;
  GError *error;

  PmtWorker *worker;
  PmtExecutor *executor;    /* the pool that accepted it, until it is done;
                             * it keeps itself alive meanwhile */

  /* The thread running the task and then emitting #PmtTask::completed:
   * its function and callback can read the outcome before it is
   * published, and a handler may wait on the task without waiting for
   * itself. */
  gconstpointer active_thread;   /* a _pmt_thread_id() */

  GSList *waiters;

  guint64 id;
  gint priority;
  guint state : 3;
  guint store_result : 1;
  guint returned : 1;
  guint started : 1;
  guint done : 1;
  guint cancel_requested : 1;
  guint limiter_reserved : 1;  /* _pmt_task_reserve_limiter() took it */
} PmtTaskPrivate;

enum {
  PMT_TASK_PROP_0,
  PMT_TASK_PROP_ID,
  PMT_TASK_PROP_STATE,
  PMT_TASK_PROP_PRIORITY,
  PMT_TASK_PROP_STORE_RESULT,
  PMT_TASK_PROP_LIMITER,
  PMT_TASK_PROP_WORKER,
  PMT_TASK_PROP_MAIN_CONTEXT,
  PMT_TASK_PROP_TASK_DATA,
  PMT_TASK_PROP_CANCELLABLE,
  PMT_TASK_N_PROPS
};

extern GParamSpec *_pmt_task_properties[PMT_TASK_N_PROPS];

#define PMT_TASK_TERMINAL(state) ((state) >= PMT_TASK_STATE_SUCCEEDED)

/* Reads a field of the extras, or NULL when there are none; with the
 * lock held. */
#define PMT_TASK_EXTRA(priv, field) ((priv)->extra != NULL ? (priv)->extra->field : NULL)

PmtTaskPrivate *_pmt_task_get_priv          (PmtTask        *self);
/* The extras, made on first use; with the lock held. */
PmtTaskExtra   *_pmt_task_ensure_extra_locked (PmtTaskPrivate *priv);
/* Whether a waiter may return; with the lock held. */
gboolean        _pmt_task_done_for_caller_locked (PmtTaskPrivate *priv);
/* Frees what a finished task hands to pmt_task_wait_async() callers. */
void            _pmt_task_return_async_waiters   (PmtTask        *self,
                                                  GSList         *async_waiters);

G_END_DECLS
