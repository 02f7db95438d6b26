/* stress-model.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The seeded driver of the model (suite "stress"): runs the programs of
 * many seeds, or replays one seed or program files (the fuzzing corpus,
 * regressions), and exits non-zero at the first failure, printing the
 * seed, what failed and the decoded program.
 *
 * A seed gives the same program everywhere, and --seed replays its
 * operations in the same order on each driver thread; how the threads
 * (the drivers', the workers') interleave is up to the scheduler, so a
 * failure may take several replays to show again. */

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "pmt-model.h"

static gint64 n_seeds = 100;
static gint64 first_seed = 1;
static gint64 one_seed = -1;
static gint64 max_seconds = 0;
static gint64 repeat = 1;
static char *write_to;
static gboolean print_only;
static char **files;

static const GOptionEntry entries[] = {
  { "seeds", 'n', 0, G_OPTION_ARG_INT64, &n_seeds, "How many seeds to run", "N" },
  { "first-seed", 'f', 0, G_OPTION_ARG_INT64, &first_seed, "The first seed", "S" },
  { "seed", 's', 0, G_OPTION_ARG_INT64, &one_seed, "Replay this seed only", "S" },
  { "max-seconds", 't', 0, G_OPTION_ARG_INT64, &max_seconds,
    "Stop starting seeds after this long (0: no limit)", "SECONDS" },
  { "repeat", 'r', 0, G_OPTION_ARG_INT64, &repeat,
    "Run each file or --seed this many times (the schedule differs each time)", "N" },
  { "print", 'p', 0, G_OPTION_ARG_NONE, &print_only, "Print the programs, run nothing", NULL },
  { "write", 'w', 0, G_OPTION_ARG_FILENAME, &write_to,
    "Write the bytes of each seed's program to DIR/seed-S (a fuzzing corpus)", "DIR" },
  { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files,
    "Program files (or directories of them) to replay instead of seeds", "FILE…" },
  { NULL }
};

typedef struct
{
  guint64 n_runs, n_ops, n_tasks, n_jobs, n_commands, n_nested;
} Totals;

/* Runs one program; on failure prints why and the program, and exits. */
static void
run_one (GBytes     *bytes,
         const char *label,
         Totals     *totals)
{
  ModelProgram program;
  ModelStats stats;
  g_autofree char *failures = NULL;
  gint64 start = g_get_monotonic_time ();
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);

  model_program_decode (&program, data, size);
  if (print_only)
    {
      g_autofree char *text = model_program_describe (&program);

      printf ("%s:\n%s", label, text);
      return;
    }

  if (!model_run (&program, label, &stats, &failures))
    {
      g_autofree char *text = model_program_describe (&program);

      printf ("%s: FAILED\n%s%s", label, failures, text);
      fflush (stdout);
      /* What the failed run left behind would only add noise (leak
       * reports of LeakSanitizer at exit). */
      _exit (EXIT_FAILURE);
    }

  printf ("%s: ok (%" G_GUINT64_FORMAT " ops, %" G_GUINT64_FORMAT " tasks, %" G_GUINT64_FORMAT
          " jobs, %" G_GUINT64_FORMAT " ms)\n", label, stats.n_ops, stats.n_tasks, stats.n_jobs,
          (guint64) (g_get_monotonic_time () - start) / 1000);
  totals->n_runs++;
  totals->n_ops += stats.n_ops;
  totals->n_tasks += stats.n_tasks;
  totals->n_jobs += stats.n_jobs;
  totals->n_commands += stats.n_commands;
  totals->n_nested += stats.n_nested;
}

static void
run_seed (guint32  seed,
          Totals  *totals)
{
  g_autoptr(GBytes) bytes = model_program_bytes_for_seed (seed);
  g_autofree char *label = g_strdup_printf ("seed %u", seed);

  if (write_to != NULL)
    {
      g_autofree char *name = g_strdup_printf ("seed-%u", seed);
      g_autofree char *path = g_build_filename (write_to, name, NULL);
      g_autoptr(GError) error = NULL;
      gsize size;
      gconstpointer data = g_bytes_get_data (bytes, &size);

      if (!g_file_set_contents (path, data, size, &error))
        g_error ("%s", error->message);
      return;
    }
  run_one (bytes, label, totals);
}

static void run_path (const char *path,
                      Totals     *totals);

static gint
compare_paths (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

/* Every file of a directory, by name. */
static void
run_dir (const char *path,
         Totals     *totals)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_build_filename (path, name, NULL));
  g_ptr_array_sort (names, compare_paths);
  for (guint i = 0; i < names->len; i++)
    run_path (names->pdata[i], totals);
}

static void
run_path (const char *path,
          Totals     *totals)
{
  g_autoptr(GError) error = NULL;
  char *contents;
  gsize size;
  g_autoptr(GBytes) bytes = NULL;

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      run_dir (path, totals);
      return;
    }
  if (!g_file_get_contents (path, &contents, &size, &error))
    {
      printf ("%s: FAILED: %s\n", path, error->message);
      exit (EXIT_FAILURE);
    }
  bytes = g_bytes_new_take (contents, size);
  run_one (bytes, path, totals);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("— model-based random testing of Pmt");
  g_autoptr(GError) error = NULL;
  Totals totals = { 0 };
  gint64 start = g_get_monotonic_time ();

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 2;
    }
  if (!print_only && write_to == NULL)
    model_init ();

  if (files != NULL)
    for (gint64 r = 0; r < repeat; r++)
      for (guint i = 0; files[i] != NULL; i++)
        run_path (files[i], &totals);
  else if (one_seed >= 0)
    for (gint64 r = 0; r < repeat; r++)
      run_seed (one_seed, &totals);
  else
    for (gint64 s = first_seed; s < first_seed + n_seeds; s++)
      {
        if (max_seconds > 0 && g_get_monotonic_time () - start > max_seconds * G_USEC_PER_SEC)
          {
            printf ("# time is up after %" G_GUINT64_FORMAT " seeds\n", totals.n_runs);
            break;
          }
        run_seed (s, &totals);
      }

  if (!print_only && write_to == NULL)
    printf ("# %" G_GUINT64_FORMAT " runs ok: %" G_GUINT64_FORMAT " operations, %" G_GUINT64_FORMAT
            " tasks (%" G_GUINT64_FORMAT " commands, %" G_GUINT64_FORMAT " nested waits), %"
            G_GUINT64_FORMAT " jobs, in %.1f s\n", totals.n_runs, totals.n_ops, totals.n_tasks,
            totals.n_commands, totals.n_nested, totals.n_jobs,
            (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC);
  g_strfreev (files);
  g_free (write_to);

  return EXIT_SUCCESS;
}
