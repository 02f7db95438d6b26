/* pmt-task-closure.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "pmt-task-private.h"

/* One function and its data, shared by the tasks of one pmt_pool_map()
 * call or one PmtThreaded: refcounted, released by the last task. */
struct _PmtTaskClosure
{
  PmtTaskFunc func;
  gpointer user_data;
  GDestroyNotify notify;
};

static void
closure_free (gpointer data)
{
  PmtTaskClosure *closure = data;

  if (closure->notify != NULL)
    closure->notify (closure->user_data);
}

static void
closure_run (PmtTask  *task,
             gpointer  data)
{
  PmtTaskClosure *closure = data;

  closure->func (task, closure->user_data);
}

PmtTaskClosure *
_pmt_task_closure_new (PmtTaskFunc    func,
                       gpointer       user_data,
                       GDestroyNotify notify)
{
  PmtTaskClosure *closure = g_atomic_rc_box_new0 (PmtTaskClosure);

  closure->func = func;
  closure->user_data = user_data;
  closure->notify = notify;

  return closure;
}

void
_pmt_task_closure_unref (gpointer closure)
{
  g_atomic_rc_box_release_full (closure, closure_free);
}

PmtTask *
_pmt_task_new_from_closure (PmtTaskClosure *closure)
{
  return pmt_task_new (closure_run, g_atomic_rc_box_acquire (closure), _pmt_task_closure_unref);
}

void
_pmt_task_set_closure_callback (PmtTask        *task,
                                PmtTaskClosure *closure)
{
  /* PmtTaskCallback and PmtTaskFunc have the same signature. */
  pmt_task_set_callback (task, (PmtTaskCallback)closure_run,
                         g_atomic_rc_box_acquire (closure), _pmt_task_closure_unref);
}
