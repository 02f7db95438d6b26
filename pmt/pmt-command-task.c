/* pmt-command-task.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <sys/wait.h>

#include "pmt-child-private.h"
#include "pmt-command-task.h"
#include "pmt-error.h"
#include "pmt-i18n-private.h"

/**
 * SECTION:pmt-command-task
 * @title: PmtCommandTask
 * @short_description: A task whose work is a child process
 *
 * |[<!-- language="C" -->
 * const char * const argv[] = { "sha256sum", "--", path, NULL };
 * g_autoptr(PmtCommandTask) task = pmt_pool_submit_command (pool, G_PRIORITY_DEFAULT, argv, &error);
 *
 * if (task != NULL && pmt_task_wait (PMT_TASK (task), -1) &&
 *     pmt_task_propagate_error (PMT_TASK (task), &error))
 *   {
 *     GBytes *output = g_value_get_boxed (pmt_task_get_result (PMT_TASK (task)));
 *
 *     g_print ("%.*s", (int) g_bytes_get_size (output), (const char *) g_bytes_get_data (output, NULL));
 *   }
 * else
 *   g_printerr ("%s\n", error->message);   // exit status or signal, and the end of stderr
 * ]|
 *
 * pmt_task_new_command() makes a task that runs a command as a child
 * process when a worker or a pool takes it: Pmt's C-level tool for
 * multi-process work, and how GJS code gets real parallel work.  Its
 * options (working directory, environment, standard input) are set
 * before it is submitted.
 *
 * The task succeeds with the child's standard output as a #GBytes (a
 * %G_TYPE_BYTES result) when the child exits with status 0.  Otherwise it
 * fails with %PMT_ERROR_COMMAND_FAILED, whose message names the command,
 * its exit status or signal, and the last lines of its standard error
 * (taken from its last 4 KiB: a child that writes megabytes of errors
 * gives a short message).  A command that cannot start fails with the
 * spawn error; a command task without a command, or with an empty one,
 * fails with %PMT_ERROR_INVALID.
 *
 * The task ends when the child exits, with the output it wrote until
 * then.  A background process the child started and left behind keeps
 * running, in the child's process group, even when it still holds the
 * child's standard output: what it writes later is not collected.  The
 * standard input given with pmt_command_task_set_stdin_bytes() is written
 * while the child reads it; what a child that exits or stops reading does
 * not take is dropped, and the host process never gets SIGPIPE for it.
 *
 * Cancelling the task while it runs (or killing its worker, or shutting
 * its pool down with %PMT_SHUTDOWN_CANCEL_RUNNING) terminates the child
 * and everything in its process group: SIGTERM, then SIGKILL if the
 * child is still there after half a second.  The child is always reaped:
 * no zombie is left behind, and no file descriptor either.  Priorities,
 * limiters, callbacks, waits and main contexts work as for any task.
 */

struct _PmtCommandTask
{
  PmtTask parent_instance;

  GStrv argv;
  char *cwd;
  GStrv env;
  GBytes *stdin_bytes;
};

G_DEFINE_FINAL_TYPE (PmtCommandTask, pmt_command_task, PMT_TYPE_TASK)

/* How many lines of the tail of standard error a failure quotes. */
#define STDERR_TAIL_LINES 5

enum {
  PROP_0,
  PROP_ARGV,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
pmt_command_task_finalize (GObject *object)
{
  PmtCommandTask *self = (PmtCommandTask *)object;

  g_clear_pointer (&self->argv, g_strfreev);
  g_clear_pointer (&self->cwd, g_free);
  g_clear_pointer (&self->env, g_strfreev);
  g_clear_pointer (&self->stdin_bytes, g_bytes_unref);

  G_OBJECT_CLASS (pmt_command_task_parent_class)->finalize (object);
}

static void
pmt_command_task_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  PmtCommandTask *self = PMT_COMMAND_TASK (object);

  switch (prop_id)
    {
    case PROP_ARGV:
      g_value_set_boxed (value, self->argv);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pmt_command_task_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  PmtCommandTask *self = PMT_COMMAND_TASK (object);

  switch (prop_id)
    {
    case PROP_ARGV:
      g_strfreev (self->argv);
      self->argv = g_value_dup_boxed (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

/* The last lines of what the child wrote to standard error, from the
 * bounded tail of it that was kept. */
static char *
stderr_tail (GBytes *err)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  guint n_lines, first;
  gsize size = 0;
  const char *data = g_bytes_get_data (err, &size);

  text = g_utf8_make_valid (data != NULL ? data : "", size);
  g_strchomp (text);
  lines = g_strsplit (text, "\n", -1);
  n_lines = g_strv_length (lines);
  first = n_lines > STDERR_TAIL_LINES ? n_lines - STDERR_TAIL_LINES : 0;

  return g_strjoinv ("\n", lines + first);
}

static GError *
describe_failure (PmtCommandTask       *self,
                  const PmtChildResult *result)
{
  g_autofree char *command = g_strjoinv (" ", self->argv);
  g_autofree char *tail = stderr_tail (result->err_tail);
  g_autofree char *what = NULL;

  /* Whole sentences, so that a translation can order its words. */
  if (WIFSIGNALED (result->wait_status))
    {
      int signum = WTERMSIG (result->wait_status);

      /* Translators: the first %s is the command line, %d the signal's
       * number and the second %s its name */
      what = g_strdup_printf (_("Command “%s” was killed by signal %d (%s)"),
                              command, signum, g_strsignal (signum));
    }
  else
    /* Translators: %s is the command line, %d its exit status */
    what = g_strdup_printf (_("Command “%s” exited with status %d"),
                            command, WEXITSTATUS (result->wait_status));

  if (*tail == '\0')
    return g_error_new_literal (PMT_ERROR, PMT_ERROR_COMMAND_FAILED, what);

  /* Translators: one of the two failures above, then the last lines
   * that the command wrote to its standard error */
  return g_error_new (PMT_ERROR, PMT_ERROR_COMMAND_FAILED, _("%s: %s"), what, tail);
}

static void
pmt_command_task_run (PmtTask *task)
{
  PmtCommandTask *self = PMT_COMMAND_TASK (task);
  GCancellable *cancellable = pmt_task_get_cancellable (task);
  PmtChildSpec spec = {
    (const char * const *) self->argv,
    self->cwd,
    (const char * const *) self->env,
    self->stdin_bytes,
  };
  PmtChildResult result;
  GError *error = NULL;
  GValue value = G_VALUE_INIT;

  /* Bindings can make a command task from properties, without a command. */
  if (self->argv == NULL || self->argv[0] == NULL || self->argv[0][0] == '\0')
    {
      pmt_task_return_new_error (task, PMT_ERROR, PMT_ERROR_INVALID,
                                 _("The command task has no command to run"));
      return;
    }

  if (g_cancellable_set_error_if_cancelled (cancellable, &error) ||
      !_pmt_child_run (&spec, cancellable, &result, &error))
    {
      pmt_task_return_error (task, error);
      return;
    }

  if (result.cancelled)
    pmt_task_return_error (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                      _("The task was cancelled")));
  else if (!WIFEXITED (result.wait_status) || WEXITSTATUS (result.wait_status) != 0)
    pmt_task_return_error (task, describe_failure (self, &result));
  else
    {
      g_value_init (&value, G_TYPE_BYTES);
      g_value_take_boxed (&value, g_steal_pointer (&result.out));
      pmt_task_return_value (task, &value);
      g_value_unset (&value);
    }

  _pmt_child_result_clear (&result);
}

static void
pmt_command_task_class_init (PmtCommandTaskClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  PmtTaskClass *task_class = PMT_TASK_CLASS (klass);

  object_class->finalize = pmt_command_task_finalize;
  object_class->get_property = pmt_command_task_get_property;
  object_class->set_property = pmt_command_task_set_property;
  task_class->run = pmt_command_task_run;

  /* As in PmtTask: made now, not racing in several workers later. */
  (void)G_SPAWN_ERROR;

  /**
   * PmtCommandTask:argv:
   *
   * The command and its arguments; the command is looked up in `PATH`.
   * Set when the task is made, as pmt_task_new_command() does; a command
   * task made without it fails with %PMT_ERROR_INVALID when it runs.
   */
  properties[PROP_ARGV] =
    g_param_spec_boxed ("argv", NULL, NULL,
                        G_TYPE_STRV,
                        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
pmt_command_task_init (PmtCommandTask *self)
{
}

/**
 * pmt_command_task_new:
 * @argv: (array zero-terminated=1): the command and its arguments; the
 *   command is looked up in `PATH`
 *
 * Creates a task that runs @argv as a child process when it runs.
 *
 * Returns: (transfer full): a new #PmtCommandTask
 */
PmtCommandTask *
pmt_command_task_new (const char * const *argv)
{
  g_return_val_if_fail (argv != NULL && argv[0] != NULL, NULL);

  return g_object_new (PMT_TYPE_COMMAND_TASK, "argv", argv, NULL);
}

/**
 * pmt_task_new_command:
 * @argv: (array zero-terminated=1): the command and its arguments; the
 *   command is looked up in `PATH`
 *
 * pmt_command_task_new(), returning the task as a #PmtTask, as the other
 * task constructors do.
 *
 * Returns: (transfer full) (type PmtCommandTask): a new #PmtCommandTask
 */
PmtTask *
pmt_task_new_command (const char * const *argv)
{
  g_return_val_if_fail (argv != NULL && argv[0] != NULL, NULL);

  return PMT_TASK (pmt_command_task_new (argv));
}

/**
 * pmt_command_task_get_argv:
 * @self: a #PmtCommandTask
 *
 * Gets the command and its arguments.
 *
 * Returns: (array zero-terminated=1) (transfer none): the command line
 */
const char * const *
pmt_command_task_get_argv (PmtCommandTask *self)
{
  g_return_val_if_fail (PMT_IS_COMMAND_TASK (self), NULL);

  return (const char * const *)self->argv;
}

static gboolean
check_pending (PmtCommandTask *self,
               const char     *func)
{
  if (pmt_task_get_state (PMT_TASK (self)) == PMT_TASK_STATE_PENDING)
    return TRUE;

  /* Translators: %s is the name of the function called */
  g_critical (_("%s: the command task was submitted already; its options cannot change any more"),
              func);
  return FALSE;
}

/**
 * pmt_command_task_set_cwd:
 * @self: a #PmtCommandTask
 * @cwd: (nullable) (type filename): the working directory of the child, or
 *   %NULL for the current one
 *
 * Sets the working directory of the child.  Only before the task is
 * submitted.
 */
void
pmt_command_task_set_cwd (PmtCommandTask *self,
                          const char     *cwd)
{
  g_return_if_fail (PMT_IS_COMMAND_TASK (self));

  if (!check_pending (self, G_STRFUNC))
    return;

  g_free (self->cwd);
  self->cwd = g_strdup (cwd);
}

/**
 * pmt_command_task_get_cwd:
 * @self: a #PmtCommandTask
 *
 * Gets the working directory of the child.
 *
 * Returns: (nullable) (type filename): the directory, or %NULL for the
 *   current one
 */
const char *
pmt_command_task_get_cwd (PmtCommandTask *self)
{
  g_return_val_if_fail (PMT_IS_COMMAND_TASK (self), NULL);

  return self->cwd;
}

/**
 * pmt_command_task_set_environ:
 * @self: a #PmtCommandTask
 * @env: (array zero-terminated=1) (nullable): the whole environment of the
 *   child as `NAME=value` strings, or %NULL for the current one
 *
 * Sets the environment of the child.  Only before the task is submitted.
 */
void
pmt_command_task_set_environ (PmtCommandTask     *self,
                              const char * const *env)
{
  g_return_if_fail (PMT_IS_COMMAND_TASK (self));

  if (!check_pending (self, G_STRFUNC))
    return;

  g_strfreev (self->env);
  self->env = g_strdupv ((char **)env);
}

/**
 * pmt_command_task_set_stdin_bytes:
 * @self: a #PmtCommandTask
 * @stdin_bytes: (nullable): what the child reads on its standard input
 *
 * Sets the standard input of the child; without it the child reads end of
 * file at once.  Only before the task is submitted.
 */
void
pmt_command_task_set_stdin_bytes (PmtCommandTask *self,
                                  GBytes         *stdin_bytes)
{
  g_return_if_fail (PMT_IS_COMMAND_TASK (self));

  if (!check_pending (self, G_STRFUNC))
    return;

  g_clear_pointer (&self->stdin_bytes, g_bytes_unref);
  self->stdin_bytes = stdin_bytes ? g_bytes_ref (stdin_bytes) : NULL;
}
