/* pmt-main-context.c — what runs where, with a pool for the main context
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The pattern of a GTK application, without GTK: a pool made with
 * pmt_pool_new_for_context() on the thread that runs the main loop.  The
 * task functions and callbacks run on workers; #PmtTask::completed, the
 * pool's #GObject::notify, the data's destroy notifies and
 * pmt_task_wait_async() callbacks come back to the main thread.  The
 * program checks each of these and exits non-zero if one ran elsewhere.
 */

#include <pmt.h>

#define N_TASKS 8

static GThread *main_thread;
static GMainLoop *loop;
static guint n_wrong, n_completed;

/* Counts, with @what, a call that ran on the wrong side. */
static void
expect (gboolean    on_main_thread,
        const char *what)
{
  if ((g_thread_self () == main_thread) != on_main_thread)
    {
      g_printerr ("%s ran on the wrong thread\n", what);
      g_atomic_int_inc (&n_wrong);
    }
}

static void
work (PmtTask  *task,
      gpointer  user_data)
{
  expect (FALSE, "the task function");                /* a worker */
  pmt_task_return_int (task, GPOINTER_TO_INT (user_data) * 10);
}

static void
callback (PmtTask  *task,
          gpointer  user_data)
{
  expect (FALSE, "the callback");                     /* the same worker */
}

static void
data_notify (gpointer data)
{
  expect (TRUE, "the destroy notify");                /* the main-context */
}

static void
on_completed (PmtTask  *task,
              gpointer  user_data)
{
  expect (TRUE, "completed");                         /* the main-context */
  if (++n_completed == N_TASKS)
    g_main_loop_quit (loop);
}

static void
on_notify (GObject    *pool,
           GParamSpec *pspec,
           gpointer    user_data)
{
  expect (TRUE, "notify");                            /* the main-context */
  g_print ("%" G_GUINT64_FORMAT " succeeded\n", pmt_pool_get_n_succeeded (PMT_POOL (pool)));
}

static void
on_waited (GObject      *task,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  expect (TRUE, "the wait_async callback");           /* the caller's context */
  if (!pmt_task_wait_finish (PMT_TASK (task), result, &error))
    g_printerr ("%s\n", error->message);
}

int
main (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmtPool) pool = NULL;

  main_thread = g_thread_self ();
  loop = g_main_loop_new (NULL, FALSE);
  /* NULL: this thread's default main context, which loop runs. */
  pool = pmt_pool_new_for_context (NULL, 2, NULL, &error);
  if (pool == NULL)
    g_error ("%s", error->message);
  g_signal_connect (pool, "notify::n-succeeded", G_CALLBACK (on_notify), NULL);

  for (gint i = 0; i < N_TASKS; i++)
    {
      g_autoptr(PmtTask) task = pmt_task_new (work, GINT_TO_POINTER (i), data_notify);

      pmt_task_set_callback (task, callback, NULL, data_notify);
      /* Emitted from an idle source of the main loop: connecting after
       * the push, on this thread, would be as safe. */
      g_signal_connect (task, "completed", G_CALLBACK (on_completed), NULL);
      if (!pmt_pool_push (pool, task, &error))
        g_error ("%s", error->message);
      pmt_task_wait_async (task, NULL, on_waited, NULL);
    }

  g_main_loop_run (loop);   /* never a blocking wait while work is under way */

  pmt_pool_join (pool, -1);
  while (g_main_context_iteration (NULL, FALSE))
    ;                       /* the last notifies, queued on this context */
  g_main_loop_unref (loop);

  g_print ("%u calls on the wrong thread\n", n_wrong);
  return n_wrong == 0 && n_completed == N_TASKS ? 0 : 1;
}
