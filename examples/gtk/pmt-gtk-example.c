/* pmt-gtk-example.c — a GTK 4 window counting primes on a PmtPool
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What a GTK application uses Pmt for: the work runs on a pool whose
 * #PmtPool:main-context is GTK's main context, so everything the pool has
 * to tell arrives on the GTK thread, and the application writes no idle
 * source of its own:
 *  - the progress bar and the count label are bound to the pool's
 *    monitoring properties, whose notify the pool coalesces on that
 *    context (one emission per property per main-loop iteration);
 *  - each task's #PmtTask::completed adds its result to the list;
 *  - Cancel shuts the pool down, cancelling the queued tasks and the
 *    running ones (which check their cancellable), and every task still
 *    reports through completed.
 *
 * With --self-test it presses Cancel by itself once half of the chunks
 * are counted, checks that every task ended once, that the window shows
 * the final counts and that nothing is left alive at the end, and exits
 * 0 (1 with a message otherwise).
 */

#include <gtk/gtk.h>
#include <pmt.h>

#define DEFAULT_N_CHUNKS  200
#define CHUNK_SIZE        100000  /* numbers per task */
#define CHECK_EVERY       1024    /* numbers between looks at the cancellable */
#define SELF_TEST_TIMEOUT 60      /* seconds */

typedef struct
{
  gboolean         self_test;
  gint             n_chunks;
  int              exit_status;

  PmtPool         *pool;
  GPtrArray       *tasks;     /* every PmtTask, by chunk */
  guint           *seen;      /* completed emissions, by chunk */
  guint            n_ended;   /* chunks whose completed arrived */
  GListStore      *results;   /* the succeeded PmtTasks, newest first */
  gint64           n_primes;  /* in the succeeded chunks */
  gboolean         cancelled;
  gboolean         close_when_ended;
  guint            timeout_id;
  guint            n_alive;   /* --self-test: the pool and tasks not finalized yet */

  /* NULL once the window is destroyed. */
  GtkWidget       *window;
  GtkWidget       *progress;
  GtkWidget       *counts;
  GtkWidget       *total;
  GtkWidget       *cancel;
  GtkWidget       *list;
} Example;

static void self_test_check (Example *ex);

/* The work, in the pool's threads */

static gboolean
is_prime (guint64 n)
{
  if (n < 4)
    return n >= 2;
  if (n % 2 == 0 || n % 3 == 0)
    return FALSE;
  for (guint64 d = 5; d * d <= n; d += 6)
    if (n % d == 0 || n % (d + 2) == 0)
      return FALSE;
  return TRUE;
}

/* Counts the primes of chunk @chunk, or returns %G_IO_ERROR_CANCELLED
 * when @cancellable is triggered meanwhile. */
static gboolean
count_chunk (guint          chunk,
             GCancellable  *cancellable,
             gint64        *count,
             GError       **error)
{
  guint64 first = (guint64) chunk * CHUNK_SIZE;

  *count = 0;
  for (guint64 n = first; n < first + CHUNK_SIZE; n++)
    {
      /* Cancellation is cooperative: a running task ends early only if
       * it looks. */
      if ((n - first) % CHECK_EVERY == 0 &&
          g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      *count += is_prime (n);
    }

  return TRUE;
}

static void
count_chunk_task (PmtTask  *task,
                  gpointer  user_data)
{
  GError *error = NULL;
  gint64 count;

  if (count_chunk (GPOINTER_TO_UINT (user_data), pmt_task_get_cancellable (task), &count, &error))
    pmt_task_return_int (task, count);
  else
    pmt_task_return_error (task, error);  /* CANCELLED: the task ends cancelled */
}

/* Blocks until @cancellable is triggered: a wait, not a poll loop. */
static void
wait_cancelled (GCancellable *cancellable)
{
  GPollFD pollfd;

  if (!g_cancellable_make_pollfd (cancellable, &pollfd))
    return;
  while (!g_cancellable_is_cancelled (cancellable))
    g_poll (&pollfd, 1, -1);
  g_cancellable_release_fd (cancellable);
}

/* --self-test only: the second half of the chunks waits for Cancel, so
 * that cancelling half way finds tasks queued and running however fast
 * the machine is, and a running task that missed its cancellation would
 * hang the test. */
static void
held_chunk_task (PmtTask  *task,
                 gpointer  user_data)
{
  wait_cancelled (pmt_task_get_cancellable (task));
  count_chunk_task (task, user_data);
}

/* Bindings: pool properties → widgets, on the GTK thread */

static gboolean
progress_from_pool (GBinding     *binding,
                    const GValue *from,
                    GValue       *to,
                    gpointer      user_data)
{
  Example *ex = user_data;
  guint64 submitted = pmt_pool_get_n_submitted (ex->pool);
  guint unfinished = pmt_pool_get_n_unfinished (ex->pool);

  g_value_set_double (to, submitted > 0 ? (double) (submitted - unfinished) / submitted : 0.0);
  return TRUE;
}

static char *
format_counts (PmtPool *pool)
{
  guint64 succeeded = pmt_pool_get_n_succeeded (pool);
  guint64 cancelled = pmt_pool_get_n_cancelled (pool);
  guint64 failed = pmt_pool_get_n_failed (pool);

  return g_strdup_printf ("%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " chunks ended: "
                          "%" G_GUINT64_FORMAT " counted, %" G_GUINT64_FORMAT " cancelled, "
                          "%" G_GUINT64_FORMAT " failed",
                          succeeded + cancelled + failed, pmt_pool_get_n_submitted (pool),
                          succeeded, cancelled, failed);
}

static gboolean
counts_from_pool (GBinding     *binding,
                  const GValue *from,
                  GValue       *to,
                  gpointer      user_data)
{
  Example *ex = user_data;

  g_value_take_string (to, format_counts (ex->pool));
  return TRUE;
}

static void
bind_pool (Example *ex)
{
  /* The widgets show several counters, read in the transforms.  Each
   * property notifies after its own changes (coalesced: the handler
   * reads the latest values), so a widget bound to every counter it
   * shows is rewritten after the last change of any of them, whatever
   * order the pool changes them in. */
  static const char * const progress[] = { "n-unfinished", "n-submitted" };
  static const char * const counts[] = {
    "n-unfinished", "n-submitted", "n-succeeded", "n-cancelled", "n-failed"
  };

  for (guint i = 0; i < G_N_ELEMENTS (progress); i++)
    g_object_bind_property_full (ex->pool, progress[i], ex->progress, "fraction",
                                 G_BINDING_SYNC_CREATE, progress_from_pool, NULL, ex, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (counts); i++)
    g_object_bind_property_full (ex->pool, counts[i], ex->counts, "label",
                                 G_BINDING_SYNC_CREATE, counts_from_pool, NULL, ex, NULL);
}

/* Results: completed, on the GTK thread */

static gboolean
all_ended (Example *ex)
{
  return ex->n_ended == (guint) ex->n_chunks;
}

static void
show_total (Example *ex)
{
  g_autofree char *text = g_strdup_printf ("Primes found: %" G_GINT64_FORMAT, ex->n_primes);

  gtk_label_set_text (GTK_LABEL (ex->total), text);
}

static void
on_task_completed (PmtTask  *task,
                   gpointer  user_data)
{
  Example *ex = user_data;
  guint chunk = GPOINTER_TO_UINT (pmt_task_get_task_data (task));

  ex->seen[chunk]++;
  ex->n_ended++;
  if (pmt_task_get_state (task) == PMT_TASK_STATE_SUCCEEDED)
    {
      ex->n_primes += g_value_get_int64 (pmt_task_get_result (task));
      /* Newest first, where the user looks; the list box makes the row. */
      g_list_store_insert (ex->results, 0, task);
    }

  if (ex->window == NULL)
    return;

  show_total (ex);
  if (all_ended (ex))
    {
      gtk_widget_set_sensitive (ex->cancel, FALSE);
      if (ex->close_when_ended)
        gtk_window_destroy (GTK_WINDOW (ex->window));
      else if (ex->self_test)
        self_test_check (ex);
    }
}

static GtkWidget *
make_result_row (gpointer item,
                 gpointer user_data)
{
  PmtTask *task = item;
  guint chunk = GPOINTER_TO_UINT (pmt_task_get_task_data (task));
  guint64 first = (guint64) chunk * CHUNK_SIZE;
  g_autofree char *text = NULL;
  GtkWidget *label;

  text = g_strdup_printf ("Chunk %u: %" G_GUINT64_FORMAT "–%" G_GUINT64_FORMAT ": "
                          "%" G_GINT64_FORMAT " primes",
                          chunk, first, first + CHUNK_SIZE - 1,
                          g_value_get_int64 (pmt_task_get_result (task)));
  label = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  return label;
}

/* Starting, cancelling, closing */

static void
on_finalized (gpointer  user_data,
              GObject  *where_the_object_was)
{
  Example *ex = user_data;

  ex->n_alive--;
}

/* LeakSanitizer cannot tell: GLib keeps the address of an object that
 * had a signal handler in a global table until it is finalized, so a
 * leaked task or pool looks reachable.  The self-test counts instead. */
static void
watch_finalize (Example *ex,
                GObject *object)
{
  if (!ex->self_test)
    return;
  ex->n_alive++;
  g_object_weak_ref (object, on_finalized, ex);
}

static gboolean
start_work (Example  *ex,
            GError  **error)
{
  /* The GTK thread's context: completed, the notify of the monitoring
   * properties and the release of task data all happen there. */
  ex->pool = pmt_pool_new_for_context ("pmt-gtk-example", 0, g_main_context_default (), error);
  if (ex->pool == NULL)
    return FALSE;

  ex->seen = g_new0 (guint, ex->n_chunks);
  watch_finalize (ex, G_OBJECT (ex->pool));
  bind_pool (ex);
  for (gint i = 0; i < ex->n_chunks; i++)
    {
      gboolean held = ex->self_test && i >= ex->n_chunks / 2;
      g_autoptr(PmtTask) task = pmt_task_new (held ? held_chunk_task : count_chunk_task,
                                              GUINT_TO_POINTER (i), NULL);

      pmt_task_set_task_data (task, GUINT_TO_POINTER (i), NULL);
      watch_finalize (ex, G_OBJECT (task));
      g_signal_connect (task, "completed", G_CALLBACK (on_task_completed), ex);
      if (!pmt_pool_push (ex->pool, task, error))
        return FALSE;
      g_ptr_array_add (ex->tasks, g_steal_pointer (&task));
    }

  return TRUE;
}

static void
cancel_work (Example *ex)
{
  if (ex->cancelled)
    return;
  ex->cancelled = TRUE;
  gtk_widget_set_sensitive (ex->cancel, FALSE);

  /* 0: the GTK thread does not wait for the workers.  The queued tasks
   * are cancelled here, the running ones see their cancellable within
   * CHECK_EVERY numbers, and each reports through completed. */
  pmt_pool_shutdown (ex->pool, PMT_SHUTDOWN_CANCEL_QUEUED | PMT_SHUTDOWN_CANCEL_RUNNING, 0);
}

static void
on_cancel_clicked (GtkButton *button,
                   gpointer   user_data)
{
  cancel_work (user_data);
}

static gboolean
on_close_request (GtkWindow *window,
                  gpointer   user_data)
{
  Example *ex = user_data;

  if (ex->pool == NULL || all_ended (ex))
    return FALSE;

  /* Closing cancels; the window goes once the last completed arrived,
   * a moment later, so no result lands in a destroyed window and no
   * task is left behind. */
  ex->close_when_ended = TRUE;
  cancel_work (ex);
  return TRUE;
}

static void
on_window_destroy (GtkWidget *window,
                   gpointer   user_data)
{
  Example *ex = user_data;

  ex->window = ex->progress = ex->counts = ex->total = ex->cancel = ex->list = NULL;
}

/* The window */

static GtkWidget *
build_list (Example *ex)
{
  GtkWidget *scrolled = gtk_scrolled_window_new ();

  ex->list = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (ex->list), GTK_SELECTION_NONE);
  gtk_list_box_bind_model (GTK_LIST_BOX (ex->list), G_LIST_MODEL (ex->results),
                           make_result_row, NULL, NULL);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), ex->list);
  gtk_widget_set_vexpand (scrolled, TRUE);
  return scrolled;
}

static GtkWidget *
build_content (Example *ex)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  g_autofree char *intro = NULL;
  GtkWidget *label;

  intro = g_strdup_printf ("Counting the primes below %" G_GUINT64_FORMAT
                           " in %d chunks on a pool of %u threads.",
                           (guint64) ex->n_chunks * CHUNK_SIZE, ex->n_chunks,
                           MAX (g_get_num_processors (), 1));
  label = gtk_label_new (intro);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_box_append (GTK_BOX (box), label);

  ex->progress = gtk_progress_bar_new ();
  gtk_progress_bar_set_show_text (GTK_PROGRESS_BAR (ex->progress), TRUE);
  ex->counts = gtk_label_new (NULL);
  ex->total = gtk_label_new (NULL);
  ex->cancel = gtk_button_new_with_mnemonic ("_Cancel");
  gtk_widget_set_halign (ex->cancel, GTK_ALIGN_END);
  g_signal_connect (ex->cancel, "clicked", G_CALLBACK (on_cancel_clicked), ex);

  gtk_box_append (GTK_BOX (box), ex->progress);
  gtk_box_append (GTK_BOX (box), ex->counts);
  gtk_box_append (GTK_BOX (box), ex->total);
  gtk_box_append (GTK_BOX (box), build_list (ex));
  gtk_box_append (GTK_BOX (box), ex->cancel);
  g_object_set (box, "margin-top", 12, "margin-bottom", 12,
                "margin-start", 12, "margin-end", 12, NULL);
  return box;
}

static void
build_window (Example        *ex,
              GtkApplication *app)
{
  ex->window = gtk_application_window_new (app);
  gtk_window_set_title (GTK_WINDOW (ex->window), "Pmt — counting primes");
  gtk_window_set_default_size (GTK_WINDOW (ex->window), 480, 520);
  gtk_window_set_child (GTK_WINDOW (ex->window), build_content (ex));
  show_total (ex);
  g_signal_connect (ex->window, "close-request", G_CALLBACK (on_close_request), ex);
  g_signal_connect (ex->window, "destroy", G_CALLBACK (on_window_destroy), ex);
}

/* The self-test: cancel half way, then check the outcome */

static gboolean
fail (Example    *ex,
      const char *format,
      ...) G_GNUC_PRINTF (2, 3);

static gboolean
fail (Example    *ex,
      const char *format,
      ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("self-test: FAIL: %s\n", message);
  ex->exit_status = 1;
  return FALSE;
}

static void
on_n_succeeded (GObject    *pool,
                GParamSpec *pspec,
                gpointer    user_data)
{
  Example *ex = user_data;
  guint64 succeeded = pmt_pool_get_n_succeeded (ex->pool);

  if (ex->cancelled || succeeded < (guint64) ex->n_chunks / 2)
    return;

  g_print ("self-test: %" G_GUINT64_FORMAT " of %d chunks counted: pressing Cancel\n",
           succeeded, ex->n_chunks);
  g_signal_emit_by_name (ex->cancel, "clicked");
}

static void
on_pool_notify (GObject    *pool,
                GParamSpec *pspec,
                gpointer    user_data)
{
  Example *ex = user_data;

  if (ex->window != NULL && all_ended (ex))
    self_test_check (ex);
}

/* Every task ended exactly once, the counters add up, and they agree
 * with the tasks' own states. */
static gboolean
check_tasks (Example *ex)
{
  guint64 by_state[PMT_TASK_STATE_CANCELLED + 1] = { 0 };
  guint64 succeeded = pmt_pool_get_n_succeeded (ex->pool);
  guint64 cancelled = pmt_pool_get_n_cancelled (ex->pool);
  guint64 failed = pmt_pool_get_n_failed (ex->pool);
  guint64 submitted = pmt_pool_get_n_submitted (ex->pool);

  for (guint i = 0; i < ex->tasks->len; i++)
    {
      if (ex->seen[i] != 1)
        return fail (ex, "chunk %u: completed seen %u times", i, ex->seen[i]);
      by_state[pmt_task_get_state (g_ptr_array_index (ex->tasks, i))]++;
    }

  if (submitted != (guint64) ex->n_chunks || succeeded + cancelled + failed != submitted)
    return fail (ex, "%" G_GUINT64_FORMAT " submitted, %" G_GUINT64_FORMAT " ended",
                 submitted, succeeded + cancelled + failed);
  if (by_state[PMT_TASK_STATE_SUCCEEDED] != succeeded ||
      by_state[PMT_TASK_STATE_CANCELLED] != cancelled || by_state[PMT_TASK_STATE_FAILED] != failed)
    return fail (ex, "the pool's counters disagree with the tasks' states");
  /* The second half waited for Cancel, pressed once the first half
   * succeeded: the split is exact. */
  if (succeeded != submitted / 2 || cancelled != submitted - submitted / 2)
    return fail (ex, "cancelling half way should leave the first half counted, "
                 "the second cancelled");

  g_print ("self-test: %" G_GUINT64_FORMAT " tasks, each completed once: %" G_GUINT64_FORMAT
           " succeeded + %" G_GUINT64_FORMAT " cancelled + %" G_GUINT64_FORMAT " failed\n",
           submitted, succeeded, cancelled, failed);
  return TRUE;
}

/* One row per succeeded task, each with the right count, and the total. */
static gboolean
check_results (Example *ex)
{
  guint n_items = g_list_model_get_n_items (G_LIST_MODEL (ex->results));
  GtkListBox *list = GTK_LIST_BOX (ex->list);
  gint64 total = 0;

  if (n_items != pmt_pool_get_n_succeeded (ex->pool))
    return fail (ex, "%u results for %" G_GUINT64_FORMAT " succeeded tasks",
                 n_items, pmt_pool_get_n_succeeded (ex->pool));
  if ((n_items > 0 && gtk_list_box_get_row_at_index (list, n_items - 1) == NULL) ||
      gtk_list_box_get_row_at_index (list, n_items) != NULL)
    return fail (ex, "the list does not have one row per result");

  for (guint i = 0; i < n_items; i++)
    {
      g_autoptr(PmtTask) task = g_list_model_get_item (G_LIST_MODEL (ex->results), i);
      guint chunk = GPOINTER_TO_UINT (pmt_task_get_task_data (task));
      gint64 expected;

      /* Recounted here, in the GTK thread, without a cancellable. */
      count_chunk (chunk, NULL, &expected, NULL);
      if (g_value_get_int64 (pmt_task_get_result (task)) != expected)
        return fail (ex, "chunk %u: %" G_GINT64_FORMAT " primes, recounted %" G_GINT64_FORMAT,
                     chunk, g_value_get_int64 (pmt_task_get_result (task)), expected);
      total += expected;
    }
  if (total != ex->n_primes)
    return fail (ex, "total %" G_GINT64_FORMAT ", recounted %" G_GINT64_FORMAT,
                 ex->n_primes, total);

  g_print ("self-test: %u rows, one per succeeded task, counts recounted: %" G_GINT64_FORMAT
           " primes\n", n_items, total);
  return TRUE;
}

/* Whether the bound widgets show the settled counters yet: the pool's
 * last notify may still be on its way when the last completed arrives. */
static gboolean
ui_settled (Example *ex)
{
  g_autofree char *expected = format_counts (ex->pool);
  const char *shown = gtk_label_get_text (GTK_LABEL (ex->counts));
  double fraction = gtk_progress_bar_get_fraction (GTK_PROGRESS_BAR (ex->progress));

  return pmt_pool_get_n_unfinished (ex->pool) == 0 && g_str_equal (shown, expected) &&
         fraction == 1.0;
}

static void
self_test_check (Example *ex)
{
  if (ex->timeout_id == 0 || !ui_settled (ex))
    return;
  g_clear_handle_id (&ex->timeout_id, g_source_remove);

  if (check_tasks (ex) && check_results (ex))
    {
      g_print ("self-test: the window shows \"%s\", the progress bar %.0f %%, "
               "Cancel is %s\n",
               gtk_label_get_text (GTK_LABEL (ex->counts)),
               100 * gtk_progress_bar_get_fraction (GTK_PROGRESS_BAR (ex->progress)),
               gtk_widget_get_sensitive (ex->cancel) ? "still sensitive" : "insensitive");
      if (gtk_widget_get_sensitive (ex->cancel))
        fail (ex, "Cancel should be insensitive once the work ended");
    }

  /* Closed as a user would: the end of the test is in main(). */
  gtk_window_close (GTK_WINDOW (ex->window));
}

static gboolean
on_self_test_timeout (gpointer user_data)
{
  Example *ex = user_data;
  g_autofree char *counts = ex->pool != NULL ? format_counts (ex->pool) : g_strdup ("no pool");

  ex->timeout_id = 0;
  fail (ex, "not done after %d s: %u of %d completed seen; pool: %s; "
        "label: \"%s\"; progress bar: %.3f",
        SELF_TEST_TIMEOUT, ex->n_ended, ex->n_chunks, counts,
        ex->counts != NULL ? gtk_label_get_text (GTK_LABEL (ex->counts)) : "(no window)",
        ex->progress != NULL ? gtk_progress_bar_get_fraction (GTK_PROGRESS_BAR (ex->progress)) : -1.0);
  /* Destroyed, not closed: close-request would wait for the tasks.  The
   * application ends with its last window; example_release() cancels. */
  if (ex->window != NULL)
    gtk_window_destroy (GTK_WINDOW (ex->window));
  return G_SOURCE_REMOVE;
}

static void
start_self_test (Example *ex)
{
  /* Connected after the bindings: these run after them, on the same
   * emissions, and see the widgets already updated. */
  g_signal_connect (ex->pool, "notify::n-succeeded", G_CALLBACK (on_n_succeeded), ex);
  g_signal_connect (ex->pool, "notify", G_CALLBACK (on_pool_notify), ex);
  ex->timeout_id = g_timeout_add_seconds (SELF_TEST_TIMEOUT, on_self_test_timeout, ex);
}

/* The application */

static void
on_activate (GApplication *app,
             gpointer      user_data)
{
  Example *ex = user_data;
  g_autoptr(GError) error = NULL;

  if (ex->window != NULL || ex->pool != NULL)
    {
      if (ex->window != NULL)
        gtk_window_present (GTK_WINDOW (ex->window));
      return;
    }

  build_window (ex, GTK_APPLICATION (app));
  if (!start_work (ex, &error))
    {
      g_printerr ("%s\n", error->message);
      ex->exit_status = 1;
      gtk_window_destroy (GTK_WINDOW (ex->window));
      return;
    }
  if (ex->self_test)
    start_self_test (ex);
  gtk_window_present (GTK_WINDOW (ex->window));
}

static gint
on_handle_local_options (GApplication *app,
                         GVariantDict *options,
                         gpointer      user_data)
{
  Example *ex = user_data;

  if (ex->n_chunks <= 0)
    {
      g_printerr ("--chunks must be positive\n");
      return 1;
    }
  /* A test must not hand its work to a copy of the example that is
   * already running. */
  if (ex->self_test)
    g_application_set_flags (app, g_application_get_flags (app) | G_APPLICATION_NON_UNIQUE);
  return -1;
}

/* Drops the pool, the tasks and the results, once nothing uses them. */
static void
example_release (Example *ex)
{
  if (ex->pool != NULL)
    {
      /* Normally every task ended before the window closed; not after a
       * self-test timeout.  -1: joins the workers. */
      pmt_pool_shutdown (ex->pool, PMT_SHUTDOWN_CANCEL_QUEUED | PMT_SHUTDOWN_CANCEL_RUNNING, -1);
      /* The pool's last notify and any completed still to come are idle
       * sources holding references: dispatch them, so all is released. */
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_signal_handlers_disconnect_by_data (ex->pool, ex);
      g_clear_object (&ex->pool);
    }
  for (guint i = 0; i < ex->tasks->len; i++)
    g_signal_handlers_disconnect_by_data (g_ptr_array_index (ex->tasks, i), ex);
  g_clear_pointer (&ex->tasks, g_ptr_array_unref);
  g_clear_object (&ex->results);
  g_clear_handle_id (&ex->timeout_id, g_source_remove);
  g_clear_pointer (&ex->seen, g_free);

  if (ex->self_test && ex->n_alive > 0)
    fail (ex, "%u of the pool and its tasks not finalized at the end", ex->n_alive);
  else if (ex->self_test)
    g_print ("self-test: the pool and every task finalized at the end\n");
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GtkApplication) app = NULL;
  Example *ex = g_new0 (Example, 1);
  const GOptionEntry entries[] = {
    { "chunks", 0, 0, G_OPTION_ARG_INT, &ex->n_chunks, "How many chunks to count", "N" },
    { "self-test", 0, 0, G_OPTION_ARG_NONE, &ex->self_test,
      "Cancel half way, check the outcome, and exit", NULL },
    { NULL }
  };
  int status;

  ex->n_chunks = DEFAULT_N_CHUNKS;
  ex->tasks = g_ptr_array_new_with_free_func (g_object_unref);
  ex->results = g_list_store_new (PMT_TYPE_TASK);

  app = gtk_application_new ("org.gnome.Pmt.GtkExample", G_APPLICATION_DEFAULT_FLAGS);
  g_application_add_main_option_entries (G_APPLICATION (app), entries);
  g_signal_connect (app, "handle-local-options", G_CALLBACK (on_handle_local_options), ex);
  g_signal_connect (app, "activate", G_CALLBACK (on_activate), ex);

  status = g_application_run (G_APPLICATION (app), argc, argv);
  example_release (ex);
  if (status == 0)
    status = ex->exit_status;
  if (ex->self_test)
    g_print ("self-test: %s\n", status == 0 ? "OK" : "FAILED");
  g_free (ex);
  return status;
}
