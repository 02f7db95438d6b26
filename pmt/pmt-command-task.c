/* pmt-command-task.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <glib-unix.h>

#include "pmt-command-task.h"
#include "pmt-error.h"
#include "pmt-i18n-private.h"

/**
 * SECTION:pmt-command-task
 * @title: PmtCommandTask
 * @short_description: A task whose work is a child process
 *
 * pmt_task_new_command() makes a task that runs a command with
 * #GSubprocess when a worker or a pool takes it: the seed's future
 * "Processed" side, and how GJS code gets real parallel work.  Its
 * options (working directory, environment, standard input) are set before
 * it is submitted.
 *
 * The task succeeds with the child's standard output as a #GBytes (a
 * %G_TYPE_BYTES result) when the child exits with status 0.  Otherwise it
 * fails with %PMT_ERROR_COMMAND_FAILED, whose message names the command,
 * its exit status or signal, and the last lines of its standard error.  A
 * command that cannot start fails with the spawn error.
 *
 * Cancelling the task (or killing its worker, or shutting its pool down
 * with %PMT_SHUTDOWN_CANCEL_RUNNING) terminates the child and everything
 * it started in its process group: SIGTERM, then SIGKILL if it is still
 * there after a short grace.  The child is always reaped: no zombie is
 * left behind.  Priorities, limiters, callbacks, waits and main contexts
 * work as for any task.
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

/* How long a cancelled child gets to exit after SIGTERM. */
#define TERMINATE_GRACE_MSEC 500

/* How much of the child's standard error a failure quotes. */
#define STDERR_TAIL_LINES 5

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

/* In the child, before exec: its own process group, so that cancelling
 * terminates whatever it started too, and its pid (the group's id) sent
 * down the pipe in @data.  The parent cannot read it from the
 * #GSubprocess: g_subprocess_get_identifier() races with GLib's worker
 * thread, which clears it when it reaps the child.  Only async-signal-safe
 * calls here. */
static void
child_setup (gpointer data)
{
  int fd = GPOINTER_TO_INT (data);
  pid_t pid = getpid ();

  setpgid (0, 0);
  if (write (fd, &pid, sizeof pid) < 0)
    return;
}

typedef struct
{
  gboolean exited;
  gboolean timed_out;
} WaitState;

static void
on_waited (GObject      *object,
           GAsyncResult *result,
           gpointer      data)
{
  WaitState *state = data;

  g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL);
  state->exited = TRUE;
}

static gboolean
on_grace_over (gpointer data)
{
  WaitState *state = data;

  state->timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* Signals the child's process group, also what is left of it once the
 * child itself exited.  Its id is only taken again by a new group leader
 * once the pids wrapped around, far beyond the grace below. */
static void
signal_group (pid_t pgid,
              int   signum)
{
  if (pgid > 0)
    kill (-pgid, signum);
}

/* Terminates the child and waits until it is reaped, blocking on a private
 * main context rather than polling. */
static void
terminate (GSubprocess *process,
           pid_t        pgid)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  WaitState state = { FALSE, FALSE };
  GSource *grace;

  g_main_context_push_thread_default (context);

  g_subprocess_wait_async (process, NULL, on_waited, &state);
  signal_group (pgid, SIGTERM);

  grace = g_timeout_source_new (TERMINATE_GRACE_MSEC);
  g_source_set_callback (grace, on_grace_over, &state, NULL);
  g_source_attach (grace, context);

  while (!state.exited && !state.timed_out)
    g_main_context_iteration (context, TRUE);

  if (!state.exited)
    {
      signal_group (pgid, SIGKILL);
      g_subprocess_force_exit (process);
      while (!state.exited)
        g_main_context_iteration (context, TRUE);
    }

  g_source_destroy (grace);
  g_source_unref (grace);
  g_main_context_pop_thread_default (context);
}

static void
on_communicated (GObject      *object,
                 GAsyncResult *result,
                 gpointer      data)
{
  GAsyncResult **result_out = data;

  *result_out = g_object_ref (result);
}

/* g_subprocess_communicate(), except that the private main context
 * outlives the operation.  GLib 2.74's own drops its reference first: the
 * last one can then go with a #GTask that GLib's worker thread finalizes,
 * freeing the context while this thread still destroys the operation's
 * cancellable source on it (a use-after-free ThreadSanitizer shows). */
static gboolean
communicate (GSubprocess   *process,
             GBytes        *stdin_bytes,
             GCancellable  *cancellable,
             GBytes       **out,
             GBytes       **err,
             GError       **error)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  GAsyncResult *result = NULL;
  gboolean ok;

  g_main_context_push_thread_default (context);

  g_subprocess_communicate_async (process, stdin_bytes, cancellable, on_communicated, &result);
  while (result == NULL)
    g_main_context_iteration (context, TRUE);

  ok = g_subprocess_communicate_finish (process, result, out, err, error);
  g_object_unref (result);

  g_main_context_pop_thread_default (context);

  return ok;
}

static char *
stderr_tail (GBytes *err)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  guint n_lines, first;
  gsize size = 0;
  const char *data;

  if (err == NULL)
    return g_strdup ("");

  data = g_bytes_get_data (err, &size);
  text = g_utf8_make_valid (data != NULL ? data : "", size);
  g_strchomp (text);
  lines = g_strsplit (text, "\n", -1);
  n_lines = g_strv_length (lines);
  first = n_lines > STDERR_TAIL_LINES ? n_lines - STDERR_TAIL_LINES : 0;

  return g_strjoinv ("\n", lines + first);
}

static GError *
describe_failure (PmtCommandTask *self,
                  GSubprocess    *process,
                  GBytes         *err)
{
  g_autofree char *command = g_strjoinv (" ", self->argv);
  g_autofree char *tail = stderr_tail (err);
  g_autofree char *how = NULL;

  if (g_subprocess_get_if_signaled (process))
    {
      int signum = g_subprocess_get_term_sig (process);

      how = g_strdup_printf (_("was killed by signal %d (%s)"), signum, g_strsignal (signum));
    }
  else
    how = g_strdup_printf (_("exited with status %d"), g_subprocess_get_exit_status (process));

  return g_error_new (PMT_ERROR, PMT_ERROR_COMMAND_FAILED,
                      *tail ? _("Command “%s” %s: %s") : _("Command “%s” %s%s"),
                      command, how, tail);
}

static GSubprocess *
spawn (PmtCommandTask  *self,
       pid_t           *pgid,
       GError         **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  GSubprocess *process;
  int fds[2];
  gssize n;

  *pgid = 0;
  if (!g_unix_open_pipe (fds, FD_CLOEXEC, error))
    return NULL;

  /* Standard input is always a pipe: a child must never read ours. */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  if (self->cwd != NULL)
    g_subprocess_launcher_set_cwd (launcher, self->cwd);
  if (self->env != NULL)
    g_subprocess_launcher_set_environ (launcher, self->env);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, GINT_TO_POINTER (fds[1]), NULL);

  process = g_subprocess_launcher_spawnv (launcher, (const char * const *)self->argv, error);
  close (fds[1]);

  /* The child wrote it before exec, and spawning returns after the exec:
   * it is in the pipe already. */
  if (process != NULL)
    {
      do
        n = read (fds[0], pgid, sizeof *pgid);
      while (n < 0 && errno == EINTR);
      if (n != sizeof *pgid)
        *pgid = 0;
    }
  close (fds[0]);

  return process;
}

static void
pmt_command_task_run (PmtTask *task)
{
  PmtCommandTask *self = PMT_COMMAND_TASK (task);
  GCancellable *cancellable = pmt_task_get_cancellable (task);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GBytes) out = NULL;
  g_autoptr(GBytes) err = NULL;
  g_autoptr(GBytes) empty = g_bytes_new_static ("", 0);
  GError *error = NULL;
  GValue value = G_VALUE_INIT;
  pid_t pgid = 0;

  if (g_cancellable_set_error_if_cancelled (cancellable, &error) ||
      (process = spawn (self, &pgid, &error)) == NULL)
    {
      pmt_task_return_error (task, error);
      return;
    }

  /* With a pipe for standard input, GSubprocess wants bytes to send: none
   * gives the child end of file at once. */
  if (!communicate (process, self->stdin_bytes ? self->stdin_bytes : empty,
                    cancellable, &out, &err, &error))
    {
      terminate (process, pgid);
      pmt_task_return_error (task, error);
      return;
    }

  if (!g_subprocess_get_successful (process))
    {
      pmt_task_return_error (task, describe_failure (self, process, err));
      return;
    }

  g_value_init (&value, G_TYPE_BYTES);
  g_value_take_boxed (&value, g_steal_pointer (&out));
  pmt_task_return_value (task, &value);
  g_value_unset (&value);
}

static void
pmt_command_task_class_init (PmtCommandTaskClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  PmtTaskClass *task_class = PMT_TASK_CLASS (klass);

  object_class->finalize = pmt_command_task_finalize;
  task_class->run = pmt_command_task_run;

  /* As in PmtTask: made now, not racing in several workers later. */
  (void)G_SPAWN_ERROR;
}

static void
pmt_command_task_init (PmtCommandTask *self)
{
}

/**
 * pmt_task_new_command:
 * @argv: (array zero-terminated=1): the command and its arguments; the
 *   command is looked up in `PATH`
 *
 * Creates a task that runs @argv as a child process when it runs.
 *
 * Returns: (transfer full) (type PmtCommandTask): a new #PmtCommandTask
 */
PmtTask *
pmt_task_new_command (const char * const *argv)
{
  PmtCommandTask *self;

  g_return_val_if_fail (argv != NULL && argv[0] != NULL, NULL);

  self = g_object_new (PMT_TYPE_COMMAND_TASK, NULL);
  self->argv = g_strdupv ((char **)argv);

  return PMT_TASK (self);
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

  g_critical ("%s: the command task was submitted already; its options cannot change any more",
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
