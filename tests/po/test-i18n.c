/* test-i18n.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The library's messages come out in German under a German locale, from
 * the catalogue built in the build tree (po/de/LC_MESSAGES/pmt-1.0.mo),
 * which meson points the library at with PMT_LOCALEDIR.  Run by meson
 * with LANGUAGE=de LANG=de_DE.UTF-8 LC_ALL=de_DE.UTF-8; skipped when that
 * locale is not installed (.ci/deps generates it). */

#include <libintl.h>
#include <locale.h>
#include <stdio.h>

#include <pmt.h>

#include "pmt-test-utils.h"

#define N_RACING_TASKS 4

/* Each error path of the library, in a different class. */

static void
test_limiter_full (void)
{
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (1);
  g_autoptr(GError) error = NULL;

  g_assert_true (pmt_limiter_acquire (limiter, 0, NULL, &error));
  g_assert_false (pmt_limiter_acquire (limiter, 0, NULL, &error));
  g_assert_error (error, PMT_ERROR, PMT_ERROR_TIMED_OUT);
  g_assert_cmpstr (error->message, ==, "Der Begrenzer ist voll");
  pmt_limiter_release (limiter);
}

static void
test_pool_name_in_use (void)
{
  g_autoptr(PmtPool) pool = pmt_test_new_pool ("i18n-pool", 1);
  g_autoptr(GError) error = NULL;
  PmtPool *other;

  other = pmt_pool_new ("i18n-pool", 1, &error);
  g_assert_null (other);
  g_assert_error (error, PMT_ERROR, PMT_ERROR_NAME_IN_USE);
  g_assert_cmpstr (error->message, ==, "Ein Pool namens „i18n-pool“ existiert bereits");
  pmt_test_shutdown_pool (pool);
}

static void
test_command_failed (void)
{
  const char *argv[] = { "sh", "-c", "echo kaputt >&2; exit 3", NULL };
  g_autoptr(PmtTask) task = pmt_task_new_command (argv);
  const GError *error;

  pmt_task_run (task);

  error = pmt_task_get_error (task);
  g_assert_error (error, PMT_ERROR, PMT_ERROR_COMMAND_FAILED);
  g_test_message ("error: %s", error->message);
  g_assert_cmpstr (error->message, ==,
                   "Befehl „sh -c echo kaputt >&2; exit 3“ wurde mit Status 3 beendet: kaputt");
}

static void
test_critical (void)
{
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (1);

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL,
                         "pmt_limiter_release: Begrenzer * wurde öfter freigegeben als belegt");
  pmt_limiter_release (limiter);
  g_test_assert_expected_messages ();
}

static void
test_check_version (void)
{
  g_assert_cmpstr (pmt_check_version (PMT_MAJOR_VERSION + 1, 0, 0), ==,
                   "Pmt-Version passt nicht (die Hauptversionen unterscheiden sich)");
}

/* The first messages of a process, made by several workers at once: the
 * catalogue is bound before any of them is looked up (and, under
 * ThreadSanitizer, without a race). */

typedef struct
{
  PmtTestGate gate;
  PmtLimiter *limiter;
} Race;

static void
race_func (PmtTask  *task,
           gpointer  user_data)
{
  Race *race = user_data;
  GError *error = NULL;

  pmt_test_gate_pass (&race->gate);
  if (pmt_limiter_acquire (race->limiter, 0, NULL, &error))
    pmt_task_return_boolean (task, TRUE);
  else
    pmt_task_return_error (task, error);
}

static void
run_first_messages_from_workers (void)
{
  g_autoptr(PmtPool) pool = pmt_test_new_pool ("i18n-race", N_RACING_TASKS);
  PmtTask *tasks[N_RACING_TASKS];
  Race race;

  /* GLib 2.74 creates the lock of its error domains on first use, and
   * re-reads its pointer without an atomic load (g_rw_lock_get_impl()):
   * ThreadSanitizer reports the first GErrors of two threads at once.
   * One GError here first keeps the race on what this test is about, the
   * library's first translated messages. */
  g_error_free (g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "first"));

  pmt_test_gate_init (&race.gate);
  race.limiter = pmt_limiter_new (0);

  for (guint i = 0; i < N_RACING_TASKS; i++)
    {
      g_autoptr(GError) error = NULL;

      tasks[i] = pmt_pool_submit (pool, race_func, &race, NULL, &error);
      g_assert_no_error (error);
    }
  /* All of them running before any makes its message. */
  pmt_test_gate_wait_started (&race.gate, N_RACING_TASKS);
  pmt_test_gate_open (&race.gate);

  g_assert_true (pmt_task_wait_all (tasks, N_RACING_TASKS, PMT_TEST_SAFETY_TIMEOUT_USEC));
  for (guint i = 0; i < N_RACING_TASKS; i++)
    {
      const GError *error = pmt_task_get_error (tasks[i]);

      g_assert_error (error, PMT_ERROR, PMT_ERROR_TIMED_OUT);
      g_assert_cmpstr (error->message, ==, "Der Begrenzer ist voll");
      g_object_unref (tasks[i]);
    }

  pmt_test_shutdown_pool (pool);
  g_object_unref (race.limiter);
  pmt_test_gate_clear (&race.gate);
}

static void
test_first_messages_from_workers (void)
{
  /* A process of its own, where no message was made yet. */
  if (g_test_subprocess ())
    {
      run_first_messages_from_workers ();
      return;
    }
  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* A program that shares the domain and binds it itself, as the
 * uninstalled demo does, keeps its binding: the library's first message
 * does not move the domain back to the install directory. */
static void
test_application_binding (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *dir = g_strdup (g_getenv ("PMT_LOCALEDIR"));
      g_autoptr(PmtLimiter) limiter = pmt_limiter_new (0);
      g_autoptr(GError) error = NULL;

      g_assert_nonnull (dir);
      g_unsetenv ("PMT_LOCALEDIR");
      bindtextdomain ("pmt-1.0", dir);

      g_assert_false (pmt_limiter_acquire (limiter, 0, NULL, &error));
      g_assert_cmpstr (error->message, ==, "Der Begrenzer ist voll");
      g_assert_cmpstr (bindtextdomain ("pmt-1.0", NULL), ==, dir);
      return;
    }
  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

int
main (int   argc,
      char *argv[])
{
  const char *messages;

  setlocale (LC_ALL, "");
  messages = setlocale (LC_MESSAGES, NULL);
  if (messages == NULL || !g_str_has_prefix (messages, "de_DE"))
    {
      /* TAP's "skipped": an empty plan with a reason.  (Not exit status
       * 77: meson counts that as an error under protocol 'tap'.) */
      printf ("1..0 # SKIP the de_DE.UTF-8 locale is not installed (LC_MESSAGES is %s); "
              "generate it as .ci/deps does (locale-gen)\n", messages ? messages : "unset");
      return 0;
    }

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/i18n/first-messages-from-workers", test_first_messages_from_workers);
  g_test_add_func ("/i18n/application-binding", test_application_binding);
  g_test_add_func ("/i18n/limiter-full", test_limiter_full);
  g_test_add_func ("/i18n/pool-name-in-use", test_pool_name_in_use);
  g_test_add_func ("/i18n/command-failed", test_command_failed);
  g_test_add_func ("/i18n/critical", test_critical);
  g_test_add_func ("/i18n/check-version", test_check_version);

  return g_test_run ();
}
