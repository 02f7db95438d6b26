/* pmt-demo.c — checksum a directory tree with a pool
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Usage: pmt-demo [OPTION…] [DIRECTORY]
 *
 * Computes the SHA-256 of every regular file under DIRECTORY (default
 * /usr/share/doc, or /usr/share with --big) on a #PmtPool: small files in
 * the process with #GChecksum, large ones (see --command-threshold) in
 * `sha256sum` children as #PmtCommandTask.  Smaller files run first (the
 * priority comes from the size) and a #PmtLimiter bounds how many files
 * are read at once.  The pool has a #PmtPool:main-context, so its notify
 * emissions and every task's #PmtTask::completed arrive on the main loop:
 * they feed the progress line and the counts, with no timer.  Ctrl-C
 * shuts the pool down with CANCEL_QUEUED | CANCEL_RUNNING (which
 * terminates the children) and the summary is still printed.  A second
 * run with one worker measures the speed-up.
 *
 * The steps have a function each: scan (list the files), plan and run
 * (make the tasks, run them on a pool), progress, summary.
 */

#include <pmt.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <glib-unix.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <string.h>
#include <unistd.h>

/* Files of this size or more go to sha256sum, as a program hands work
 * to another tool: a command task, which the pool schedules like any
 * other and Ctrl-C terminates.  Starting a child costs about a
 * millisecond, little next to reading 1 MiB. */
#define DEFAULT_COMMAND_THRESHOLD (1024 * 1024)
#define READ_BUFFER_SIZE          (64 * 1024)
/* The progress line is redrawn at most this often. */
#define PROGRESS_INTERVAL_USEC    (G_USEC_PER_SEC / 10)
#define MAX_WORKERS               1024

enum {
  EXIT_ALL_CHECKSUMMED = 0,
  EXIT_SOME_FAILED     = 1,
  EXIT_BAD_USAGE       = 2,
  EXIT_INTERRUPTED     = 130,   /* what a shell reports after Ctrl-C */
};

/* Options */

static gint opt_workers;
static gint opt_limit;
static gint64 opt_command_threshold = DEFAULT_COMMAND_THRESHOLD;
static gboolean opt_big;
static gboolean opt_no_compare;
static gboolean opt_print;
static char **opt_directories;

static const GOptionEntry entries[] = {
  { "workers", 'w', 0, G_OPTION_ARG_INT, &opt_workers,
    N_("Checksum with N threads (default: one per processor)"), N_("N") },
  { "limit", 'l', 0, G_OPTION_ARG_INT, &opt_limit,
    N_("Read at most N files at once (default: as many as the workers)"), N_("N") },
  { "big", 0, 0, G_OPTION_ARG_NONE, &opt_big,
    N_("Checksum /usr/share instead of /usr/share/doc"), NULL },
  { "command-threshold", 0, 0, G_OPTION_ARG_INT64, &opt_command_threshold,
    N_("Hand files of BYTES or more to sha256sum child processes (default: 1048576, 1 MiB)"),
    N_("BYTES") },
  { "no-compare", 0, 0, G_OPTION_ARG_NONE, &opt_no_compare,
    N_("Skip the second run, which checksums the same files again with one worker"), NULL },
  { "print", 'p', 0, G_OPTION_ARG_NONE, &opt_print,
    N_("Print the checksum of each file, as sha256sum does"), NULL },
  { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_directories, NULL,
    N_("[DIRECTORY]") },
  G_OPTION_ENTRY_NULL
};

/* Scan: the regular files under a directory */

typedef struct
{
  char *path;
  goffset size;
  char *digest;             /* hex SHA-256 of the first run, or NULL */
} DemoFile;

typedef struct
{
  GPtrArray *files;         /* of DemoFile, in the order of a sorted walk */
  guint64 n_bytes;
  guint n_unreadable;       /* directories that could not be listed */
  gint64 elapsed_usec;
} DemoScan;

static void
demo_file_free (DemoFile *file)
{
  g_free (file->path);
  g_free (file->digest);
  g_free (file);
}

static void
demo_scan_clear (DemoScan *scan)
{
  g_clear_pointer (&scan->files, g_ptr_array_unref);
}

static gint
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* The names in @dir, sorted so that runs and tests see the same order. */
static GPtrArray *
list_names (const char  *dir,
            GError     **error)
{
  g_autoptr(GDir) handle = g_dir_open (dir, 0, error);
  GPtrArray *names;
  const char *name;

  if (handle == NULL)
    return NULL;

  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (handle)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);

  return names;
}

/* Symbolic links are not followed (lstat): no file is checksummed twice
 * and no loop is walked.  Devices, sockets and pipes are skipped. */
static void
scan_directory (DemoScan   *scan,
                const char *dir)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) names = list_names (dir, &error);

  if (names == NULL)
    {
      g_printerr ("%s\n", error->message);
      scan->n_unreadable++;
      return;
    }

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (dir, g_ptr_array_index (names, i), NULL);
      GStatBuf st;

      if (g_lstat (path, &st) != 0)
        continue;               /* gone since it was listed */
      if (S_ISDIR (st.st_mode))
        scan_directory (scan, path);
      else if (S_ISREG (st.st_mode))
        {
          DemoFile *file = g_new0 (DemoFile, 1);

          file->path = g_steal_pointer (&path);
          file->size = st.st_size;
          scan->n_bytes += st.st_size;
          g_ptr_array_add (scan->files, file);
        }
    }
}

static void
scan_tree (DemoScan   *scan,
           const char *root)
{
  gint64 start = g_get_monotonic_time ();

  scan->files = g_ptr_array_new_with_free_func ((GDestroyNotify) demo_file_free);
  scan_directory (scan, root);
  scan->elapsed_usec = g_get_monotonic_time () - start;
}

/* Run: the files as tasks on a pool */

typedef struct
{
  /* Set before the run */
  DemoScan *scan;
  const char *pool_name;
  guint n_workers;
  guint limit;
  gboolean verify;          /* compare with the digests of the first run */
  gboolean show_progress;

  /* Main thread only: counted from each task's completed signal */
  guint n_done;
  guint n_succeeded;
  guint n_failed;
  guint n_cancelled;
  guint n_commands;          /* sha256sum children that ran to their end */
  guint n_mismatches;
  guint64 n_bytes_done;
  gint64 start_usec;
  gint64 elapsed_usec;
  gint64 last_progress_usec;
  gboolean interrupted;

  /* From the workers' threads */
  gint max_reading;         /* atomic */

  PmtPool *pool;
  PmtLimiter *limiter;
  GMainLoop *loop;
} DemoRun;

/* The error of a failed system call: the file's name is added by
 * report_failure(), as coreutils print "FILE: Permission denied". */
static gboolean
set_error_from_errno (GError **error,
                      int      code)
{
  g_set_error_literal (error, G_FILE_ERROR, g_file_error_from_errno (code), g_strerror (code));
  return FALSE;
}

/* Reads in chunks, so that a cancelled task stops between two of them. */
static gboolean
read_into_checksum (const char    *path,
                    GChecksum     *checksum,
                    GCancellable  *cancellable,
                    GError       **error)
{
  g_autofree guchar *buffer = g_malloc (READ_BUFFER_SIZE);
  int fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  gboolean ok = TRUE;

  if (fd < 0)
    return set_error_from_errno (error, errno);

  while (ok)
    {
      gssize n_read;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        ok = FALSE;
      else if ((n_read = read (fd, buffer, READ_BUFFER_SIZE)) > 0)
        g_checksum_update (checksum, buffer, n_read);
      else if (n_read == 0)
        break;
      else if (errno != EINTR)
        ok = set_error_from_errno (error, errno);
    }
  g_close (fd, NULL);

  return ok;
}

/* The task function, in a worker's thread. */
static void
checksum_file (PmtTask  *task,
               gpointer  user_data)
{
  DemoFile *file = pmt_task_get_task_data (task);
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  GError *error = NULL;

  if (read_into_checksum (file->path, checksum, pmt_task_get_cancellable (task), &error))
    pmt_task_return_pointer (task, g_strdup (g_checksum_get_string (checksum)), g_free);
  else
    pmt_task_return_error (task, error);
}

/* Emitted in the thread that changed the limiter: a worker. */
static void
on_limiter_available (PmtLimiter *limiter,
                      GParamSpec *pspec,
                      DemoRun    *run)
{
  gint reading = (gint) pmt_limiter_get_limit (limiter) - (gint) pmt_limiter_get_available (limiter);
  gint seen = g_atomic_int_get (&run->max_reading);

  while (reading > seen && !g_atomic_int_compare_and_exchange (&run->max_reading, seen, reading))
    seen = g_atomic_int_get (&run->max_reading);
}

/* sha256sum prints "<64 hex digits>  <path>\n", with a backslash first
 * when it had to escape the path. */
static char *
parse_sha256sum_output (GBytes *output)
{
  gsize size;
  const char *text = g_bytes_get_data (output, &size);

  if (size > 0 && text[0] == '\\')
    text++, size--;
  if (size < 64)
    return NULL;
  for (guint i = 0; i < 64; i++)
    if (!g_ascii_isxdigit (text[i]))
      return NULL;

  return g_ascii_strdown (text, 64);
}

static char *
get_digest (PmtTask  *task,
            GError  **error)
{
  char *digest;

  if (!PMT_IS_COMMAND_TASK (task))
    return g_strdup (pmt_task_get_result_pointer (task));

  digest = parse_sha256sum_output (g_value_get_boxed (pmt_task_get_result (task)));
  if (digest == NULL)
    g_set_error (error, PMT_ERROR, PMT_ERROR_FAILED,
                 _("sha256sum printed no checksum"));

  return digest;
}

static void progress_clear (DemoRun *run);
static void progress_update (DemoRun *run);

/* The first run keeps the digest; the second compares with it. */
static gboolean
record_digest (DemoRun   *run,
               DemoFile  *file,
               PmtTask   *task,
               GError   **error)
{
  g_autofree char *digest = get_digest (task, error);

  if (digest == NULL)
    return FALSE;

  if (!run->verify)
    {
      g_free (file->digest);
      file->digest = g_steal_pointer (&digest);
    }
  else if (file->digest != NULL && strcmp (file->digest, digest) != 0)
    run->n_mismatches++;

  return TRUE;
}

/* A failed command's message names the command, the file with it. */
static void
report_failure (DemoRun      *run,
                DemoFile     *file,
                PmtTask      *task,
                const GError *error)
{
  progress_clear (run);
  if (PMT_IS_COMMAND_TASK (task) && g_error_matches (error, PMT_ERROR, PMT_ERROR_COMMAND_FAILED))
    g_printerr ("%s\n", error->message);
  else
    /* Translators: a file that could not be checksummed, and why. */
    g_printerr (_("%s: %s\n"), file->path, error->message);
}

/* On the main loop (the pool's main context), once per task. */
static void
on_task_completed (PmtTask *task,
                   DemoRun *run)
{
  DemoFile *file = pmt_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  switch (pmt_task_get_state (task))
    {
    case PMT_TASK_STATE_SUCCEEDED:
      if (record_digest (run, file, task, &error))
        {
          run->n_succeeded++;
          run->n_bytes_done += file->size;
        }
      else
        {
          report_failure (run, file, task, error);
          run->n_failed++;
        }
      break;
    case PMT_TASK_STATE_CANCELLED:
      run->n_cancelled++;
      break;
    default:
      report_failure (run, file, task, pmt_task_get_error (task));
      run->n_failed++;
      break;
    }

  if (PMT_IS_COMMAND_TASK (task) && pmt_task_get_state (task) != PMT_TASK_STATE_CANCELLED)
    run->n_commands++;
  if (++run->n_done == run->scan->files->len)
    {
      run->elapsed_usec = g_get_monotonic_time () - run->start_usec;
      g_main_loop_quit (run->loop);
    }
}

/* Smaller files first; files of the same order of magnitude in the
 * order of the walk.  Lower priorities run first. */
static gint
priority_for_size (goffset size)
{
  return (gint) g_bit_storage ((gulong) size);
}

static PmtTask *
make_task (DemoRun  *run,
           DemoFile *file)
{
  PmtTask *task;

  if (file->size >= opt_command_threshold)
    {
      const char *argv[] = { "sha256sum", "--", file->path, NULL };

      /* Not pmt_pool_submit_command(): that pushes at once, and the
       * limiter must be set before. */
      task = pmt_task_new_command (argv);
    }
  else
    task = pmt_task_new (checksum_file, NULL, NULL);

  pmt_task_set_task_data (task, file, NULL);
  pmt_task_set_priority (task, priority_for_size (file->size));
  pmt_task_set_limiter (task, run->limiter);
  g_signal_connect (task, "completed", G_CALLBACK (on_task_completed), run);

  return task;
}

/* The pool holds the tasks until they complete: no reference kept here. */
static void
submit_all (DemoRun *run)
{
  for (guint i = 0; i < run->scan->files->len; i++)
    {
      g_autoptr(PmtTask) task = make_task (run, g_ptr_array_index (run->scan->files, i));
      g_autoptr(GError) error = NULL;

      if (!pmt_pool_push (run->pool, task, &error))
        {
          /* Only a pool shutting down refuses a task, and Ctrl-C is
           * handled once the loop runs; count it all the same, so the
           * loop still ends. */
          g_printerr ("%s\n", error->message);
          run->n_cancelled++;
          run->n_done++;
        }
    }
}

static void
on_pool_counts_changed (PmtPool    *pool,
                        GParamSpec *pspec,
                        DemoRun    *run)
{
  progress_update (run);
}

static gboolean
make_pool (DemoRun  *run,
           GError  **error)
{
  /* Its notify emissions and the tasks' completed signals come on the
   * main context of this thread: the one the loop runs. */
  run->pool = pmt_pool_new_for_context (run->pool_name, run->n_workers, NULL, error);
  if (run->pool == NULL)
    return FALSE;

  if (run->show_progress)
    {
      g_signal_connect (run->pool, "notify::n-succeeded", G_CALLBACK (on_pool_counts_changed), run);
      g_signal_connect (run->pool, "notify::n-failed", G_CALLBACK (on_pool_counts_changed), run);
      g_signal_connect (run->pool, "notify::n-cancelled", G_CALLBACK (on_pool_counts_changed), run);
    }

  run->limiter = pmt_limiter_new (run->limit);
  g_signal_connect (run->limiter, "notify::available", G_CALLBACK (on_limiter_available), run);

  return TRUE;
}

static gboolean
run_checksums (DemoRun  *run,
               GError  **error)
{
  if (!make_pool (run, error))
    return FALSE;

  run->loop = g_main_loop_new (NULL, FALSE);
  run->start_usec = g_get_monotonic_time ();

  submit_all (run);
  if (run->n_done < run->scan->files->len)
    g_main_loop_run (run->loop);
  else
    run->elapsed_usec = g_get_monotonic_time () - run->start_usec;

  progress_clear (run);
  /* Every task completed: the workers only have to exit. */
  pmt_pool_shutdown (run->pool, PMT_SHUTDOWN_NONE, -1);

  g_clear_object (&run->pool);
  g_clear_object (&run->limiter);
  g_clear_pointer (&run->loop, g_main_loop_unref);

  return TRUE;
}

/* Ctrl-C */

typedef struct
{
  DemoRun *current;         /* the run whose pool Ctrl-C shuts down */
  guint source;
} DemoInterrupt;

/* The running tasks are cancelled (their children terminated), the
 * queued ones too; their completed signals still come, and end the loop.
 * The source removes itself, so that a second Ctrl-C kills at once. */
static gboolean
on_interrupt (gpointer user_data)
{
  DemoInterrupt *interrupt = user_data;
  DemoRun *run = interrupt->current;

  interrupt->source = 0;
  if (run != NULL && run->pool != NULL)
    {
      run->interrupted = TRUE;
      progress_clear (run);
      g_printerr ("%s\n", _("Interrupted: cancelling the files not checksummed yet…"));
      pmt_pool_shutdown (run->pool, PMT_SHUTDOWN_CANCEL_QUEUED | PMT_SHUTDOWN_CANCEL_RUNNING, 0);
    }

  return G_SOURCE_REMOVE;
}

/* Progress: one line on the terminal, redrawn in place */

static double
seconds (gint64 usec)
{
  return usec / (double) G_USEC_PER_SEC;
}

static void
progress_clear (DemoRun *run)
{
  if (run->show_progress && run->last_progress_usec != 0)
    g_printerr ("\r\033[K");
}

/* Drawn from the pool's counters, when their notify announces a change
 * (on the main loop: the pool's main context). */
static void
progress_update (DemoRun *run)
{
  gint64 now = g_get_monotonic_time ();
  guint n_failed = (guint) pmt_pool_get_n_failed (run->pool);
  guint n_ended = (guint) (pmt_pool_get_n_succeeded (run->pool) +
                           pmt_pool_get_n_cancelled (run->pool)) + n_failed;
  guint total = run->scan->files->len;
  g_autofree char *line = NULL;

  if (now - run->last_progress_usec < PROGRESS_INTERVAL_USEC && n_ended < total)
    return;
  run->last_progress_usec = now;

  /* Translators: the progress line: the pool's name, the files done of
   * all files, files per second, and the files that failed. */
  line = g_strdup_printf (ngettext ("%s: %u/%u file, %.0f files/s, %u failed",
                                    "%s: %u/%u files, %.0f files/s, %u failed",
                                    total),
                          run->pool_name, n_ended, total,
                          n_ended / MAX (seconds (now - run->start_usec), 1e-3), n_failed);
  /* Back to the start of the line, and clear what is left of the last. */
  g_printerr ("\r%s\033[K", line);
}

/* Summary */

static void
print_checksums (DemoScan *scan)
{
  for (guint i = 0; i < scan->files->len; i++)
    {
      DemoFile *file = g_ptr_array_index (scan->files, i);

      if (file->digest != NULL)
        g_print ("%s  %s\n", file->digest, file->path);
    }
}

static void
print_throughput (DemoRun *run)
{
  double elapsed = MAX (seconds (run->elapsed_usec), 1e-6);
  g_autofree char *rate = g_format_size ((guint64) (run->n_bytes_done / elapsed));
  g_autofree char *size = g_format_size_full (run->n_bytes_done, G_FORMAT_SIZE_LONG_FORMAT);
  gint max_reading = g_atomic_int_get (&run->max_reading);

  /* Translators: the labels of the summary are aligned in a column. */
  g_print (ngettext ("  Checksummed:  %u file, %u failed, %u cancelled\n",
                     "  Checksummed:  %u files, %u failed, %u cancelled\n",
                     run->n_succeeded),
           run->n_succeeded, run->n_failed, run->n_cancelled);
  g_print (_("  Data:         %s\n"), size);
  g_print (_("  Wall time:    %.2f s (%.0f files/s, %s/s)\n"),
           elapsed, run->n_succeeded / elapsed, rate);
  g_print (ngettext ("  Pool:         %u worker\n",
                     "  Pool:         %u workers\n",
                     run->n_workers),
           run->n_workers);
  g_print (ngettext ("  Limiter:      at most %d file read at once (limit %u)\n",
                     "  Limiter:      at most %d files read at once (limit %u)\n",
                     max_reading),
           max_reading, run->limit);
  g_print (ngettext ("  Children:     %u sha256sum process\n",
                     "  Children:     %u sha256sum processes\n",
                     run->n_commands),
           run->n_commands);
}

static void
print_comparison (DemoRun *run,
                  DemoRun *single)
{
  if (single->interrupted)
    {
      g_print (_("  One worker:   interrupted\n"));
      return;
    }

  /* Translators: the time the second run took with one worker, and how
   * many times faster the first run was. */
  g_print (_("  One worker:   %.2f s for the same files: a speed-up of %.2f\n"),
           seconds (single->elapsed_usec),
           seconds (single->elapsed_usec) / MAX (seconds (run->elapsed_usec), 1e-6));
  if (single->n_mismatches > 0)
    g_print (ngettext ("  Mismatches:   %u file had another checksum the second time\n",
                       "  Mismatches:   %u files had another checksum the second time\n",
                       single->n_mismatches),
             single->n_mismatches);
}

static void
print_summary (const char *root,
               DemoRun    *run,
               DemoRun    *single)
{
  g_print (_("Summary for %s:\n"), root);
  if (run->interrupted)
    g_print (_("  Interrupted:  the files not checksummed yet were cancelled\n"));
  if (run->scan->n_unreadable > 0)
    g_print (ngettext ("  Unreadable:   %u directory\n",
                       "  Unreadable:   %u directories\n",
                       run->scan->n_unreadable),
             run->scan->n_unreadable);
  print_throughput (run);
  if (single != NULL)
    print_comparison (run, single);
}

/* Main */

static void
setup_gettext (void)
{
  setlocale (LC_ALL, "");
  /* The demo is not installed: its catalogues are the build's. */
  bindtextdomain (GETTEXT_PACKAGE, PMT_DEMO_LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}

static gboolean
parse_options (int      *argc,
               char   ***argv,
               GError  **error)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);

  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_summary (context,
    N_("Computes the SHA-256 checksum of every regular file under DIRECTORY (default: "
       "/usr/share/doc) on a pool of threads: small files first, in the process; "
       "large files in sha256sum child processes.  Shows the progress on one line "
       "when standard error is a terminal, and prints a summary at the end."));
  g_option_context_set_description (context,
    N_("The summary compares the run with a second one that checksums the same "
       "files with one worker (every file is read once before both, so that "
       "both find it in the cache), so the speed-up of the pool shows; "
       "--no-compare skips both.  Ctrl-C cancels the "
       "files not checksummed yet and still prints the summary.\n"
       "\n"
       "Exit status: 0 when every file was checksummed, 1 when some could not "
       "be read, 2 on a usage error or a missing directory, 130 when interrupted."));

  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;

  if (opt_workers < 0 || opt_workers > MAX_WORKERS || opt_limit < 0 || opt_limit > MAX_WORKERS)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--workers and --limit take a number from 1 to %d"), MAX_WORKERS);
      return FALSE;
    }
  if (opt_directories != NULL && g_strv_length (opt_directories) > 1)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                           _("Give one directory at most"));
      return FALSE;
    }

  return TRUE;
}

static const char *
root_directory (void)
{
  if (opt_directories != NULL && opt_directories[0] != NULL)
    return opt_directories[0];

  return opt_big ? "/usr/share" : "/usr/share/doc";
}

static void
print_plan (const char *root,
            DemoScan   *scan,
            guint       n_workers,
            guint       limit)
{
  g_autofree char *size = g_format_size (scan->n_bytes);
  g_autofree char *threshold = g_format_size (opt_command_threshold);
  guint n_large = 0;

  for (guint i = 0; i < scan->files->len; i++)
    n_large += ((DemoFile *) g_ptr_array_index (scan->files, i))->size >= opt_command_threshold;

  g_print ("Pmt %s\n", PMT_VERSION_S);
  g_print (ngettext ("Found %u file (%s) under %s in %.2f s.\n",
                     "Found %u files (%s) under %s in %.2f s.\n",
                     scan->files->len),
           scan->files->len, size, root, seconds (scan->elapsed_usec));
  /* Translators: %s is a size, like "1.0 MB". */
  g_print (ngettext ("%u file of %s or more goes to sha256sum, the others are read in the process.\n",
                     "%u files of %s or more go to sha256sum, the others are read in the process.\n",
                     n_large),
           n_large, threshold);
  g_print (ngettext ("Checksumming with %u worker.",
                     "Checksumming with %u workers.",
                     n_workers),
           n_workers);
  g_print (" ");
  g_print (ngettext ("At most %u file is read at once.",
                     "At most %u files are read at once.",
                     limit),
           limit);
  g_print ("\n");
  /* Standard output may be a pipe: the plan comes before the messages
   * of the run on standard error. */
  fflush (stdout);
}

static gboolean
check_directory (const char  *root,
                 GError     **error)
{
  GStatBuf st;
  int code = 0;

  if (g_stat (root, &st) != 0)
    code = errno;
  else if (!S_ISDIR (st.st_mode))
    code = ENOTDIR;

  if (code != 0)
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (code),
                 /* Translators: a directory given to the demo, and why it cannot be read. */
                 _("Cannot checksum the files under “%s”: %s"), root, g_strerror (code));

  return code == 0;
}

static int
exit_status (DemoRun *run,
             DemoRun *single)
{
  if (run->interrupted || (single != NULL && single->interrupted))
    return EXIT_INTERRUPTED;
  if (run->n_failed > 0 || run->scan->n_unreadable > 0 ||
      (single != NULL && single->n_mismatches > 0))
    return EXIT_SOME_FAILED;

  return EXIT_ALL_CHECKSUMMED;
}

/* With a comparison, both runs must find the files in the page cache:
 * otherwise the first run pays for the disk and the second does not,
 * and the speed-up shown is the cache's.  Unreadable files are left for
 * the runs to report.  (Ctrl-C still ends the program the usual way
 * here: nothing has started yet.) */
static void
warm_cache (DemoScan *scan)
{
  g_autofree guchar *buffer = g_malloc (READ_BUFFER_SIZE);

  g_print (_("Reading every file once first, so that both runs find them in the cache.\n"));
  fflush (stdout);
  for (guint i = 0; i < scan->files->len; i++)
    {
      DemoFile *file = g_ptr_array_index (scan->files, i);
      int fd = g_open (file->path, O_RDONLY | O_CLOEXEC, 0);

      if (fd < 0)
        continue;
      while (read (fd, buffer, READ_BUFFER_SIZE) > 0)
        ;
      g_close (fd, NULL);
    }
}

/* The two runs: the pool, then (unless interrupted or told not to) the
 * same files with one worker. */
static int
checksum_tree (const char *root,
               DemoScan   *scan)
{
  guint n_workers = opt_workers > 0 ? (guint) opt_workers : g_get_num_processors ();
  gboolean show_progress = isatty (STDERR_FILENO);
  DemoRun run = {
    .scan = scan, .pool_name = "pmt-demo", .n_workers = n_workers,
    .limit = opt_limit > 0 ? (guint) opt_limit : n_workers, .show_progress = show_progress,
  };
  DemoRun single = {
    .scan = scan, .pool_name = "pmt-demo-1-worker", .n_workers = 1, .limit = 1,
    .verify = TRUE, .show_progress = show_progress,
  };
  DemoInterrupt interrupt = { &run, 0 };
  g_autoptr(GError) error = NULL;
  gboolean compare;

  print_plan (root, scan, run.n_workers, run.limit);
  if (!opt_no_compare)
    warm_cache (scan);
  interrupt.source = g_unix_signal_add (SIGINT, on_interrupt, &interrupt);
  if (!run_checksums (&run, &error))
    g_error ("cannot make a pool: %s", error->message);

  compare = !opt_no_compare && !run.interrupted;
  interrupt.current = &single;
  if (compare && !run_checksums (&single, &error))
    g_error ("cannot make a pool: %s", error->message);

  if (interrupt.source != 0)
    g_source_remove (interrupt.source);

  if (opt_print)
    print_checksums (scan);
  print_summary (root, &run, compare ? &single : NULL);

  return exit_status (&run, compare ? &single : NULL);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  DemoScan scan = { NULL, };
  const char *root;
  int status;

  setup_gettext ();

  if (!parse_options (&argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      g_printerr (_("Try “%s --help” for more information.\n"), g_get_prgname ());
      return EXIT_BAD_USAGE;
    }

  root = root_directory ();
  if (!check_directory (root, &error))
    {
      g_printerr ("%s\n", error->message);
      g_strfreev (opt_directories);
      return EXIT_BAD_USAGE;
    }

  scan_tree (&scan, root);
  status = checksum_tree (root, &scan);

  demo_scan_clear (&scan);
  g_strfreev (opt_directories);

  return status;
}
