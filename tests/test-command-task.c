/* test-command-task.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <pmt.h>

#include <glib/gstdio.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#ifdef __linux__
# include <poll.h>
# include <sys/syscall.h>
#endif

#include "pmt-test-utils.h"

/* A bound on every wait that should end soon, so that a broken task fails
 * the test instead of hanging it. */
#define SAFETY_TIMEOUT_USEC PMT_TEST_SAFETY_TIMEOUT_USEC
/* A bound on waits for hundreds of children, which take a while under
 * ThreadSanitizer. */
#define LONG_TIMEOUT_USEC (60 * G_USEC_PER_SEC)
/* Every test runs under a watchdog: some steps block on a FIFO by design
 * (a rendezvous with a child), and a child that never comes must fail the
 * test, not hang it. */
#define WATCHDOG_TIMEOUT_USEC (90 * G_USEC_PER_SEC)

/* Set in the test process before any thread exists, to tell inherited
 * environments from given ones. */
#define PARENT_VARIABLE "PMT_TEST_PARENT_ONLY"

static GThread *main_thread;

/* Helpers */

/* Runs @task on a standalone worker and waits for it. */
static void
run_on_worker (PmtTask *task)
{
  g_autoptr(PmtWorker) worker = pmt_worker_new ("test-command");
  g_autoptr(GError) error = NULL;

  g_assert_true (pmt_worker_push (worker, task, &error));
  g_assert_no_error (error);
  g_assert_true (pmt_task_wait (task, SAFETY_TIMEOUT_USEC));

  pmt_test_worker_stop_and_join (worker);
}

static void
assert_output (PmtTask    *task,
               const char *expected)
{
  GBytes *out;
  gsize size;
  const char *data;

  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_SUCCEEDED);
  g_assert_null (pmt_task_get_error (task));

  out = pmt_test_task_get_bytes (task);
  g_assert_nonnull (out);
  data = g_bytes_get_data (out, &size);
  g_assert_cmpmem (data, size, expected, strlen (expected));
}

static char *
make_tmp_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("pmt-command-XXXXXX", &error);

  g_assert_no_error (error);
  g_assert_nonnull (dir);

  return dir;
}

/* Removes @dir and the plain files and FIFOs in it. */
static void
remove_tmp_dir (const char *dir)
{
  g_autoptr(GDir) handle = g_dir_open (dir, 0, NULL);
  const char *name;

  g_assert_nonnull (handle);
  while ((name = g_dir_read_name (handle)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_assert_cmpint (g_unlink (path), ==, 0);
    }
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static char *
make_fifo (const char *dir,
           const char *name)
{
  char *path = g_build_filename (dir, name, NULL);

  g_assert_cmpint (mkfifo (path, 0600), ==, 0);

  return path;
}

/* Reads one line from the FIFO at @path, which a child writes: the
 * rendezvous that tells the test the child runs.  Blocks in poll(), never
 * spins; a child that never writes fails the test after a bound. */
static char *
read_line_from_fifo (const char *path)
{
  GString *line = g_string_new (NULL);
  gint64 end_time = g_get_monotonic_time () + SAFETY_TIMEOUT_USEC;
  int fd;

  /* Non-blocking open, so that the wait below has a bound.  Until a
   * writer opened the FIFO once, poll() reports nothing on it. */
  fd = open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);

  while (strchr (line->str, '\n') == NULL)
    {
      GPollFD pfd = { fd, G_IO_IN | G_IO_HUP | G_IO_ERR, 0 };
      gint64 remaining = end_time - g_get_monotonic_time ();
      char buffer[64];
      gssize n;

      g_assert_cmpint (remaining, >, 0);
      if (g_poll (&pfd, 1, (int) (remaining / 1000) + 1) <= 0)
        continue;

      n = read (fd, buffer, sizeof buffer);
      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        continue;
      g_assert_cmpint (n, >, 0);
      g_string_append_len (line, buffer, n);
    }
  close (fd);

  g_strchomp (line->str);
  return g_string_free (line, FALSE);
}

static pid_t
read_pid_from_fifo (const char *path)
{
  g_autofree char *line = read_line_from_fifo (path);
  guint64 pid = 0;

  g_assert_true (g_ascii_string_to_unsigned (line, 10, 2, G_MAXINT, &pid, NULL));

  return (pid_t) pid;
}

/* Opens the FIFO at @path for writing, which waits for the child that
 * reads it, and gives it a line: lets a child blocked on it go on. */
static void
release_fifo (const char *path)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, "go\n", 3), ==, 3);
  close (fd);
}

/* The process is gone and reaped: not even a zombie is left. */
static void
assert_reaped (pid_t pid)
{
  errno = 0;
  g_assert_cmpint (kill (pid, 0), ==, -1);
  g_assert_cmpint (errno, ==, ESRCH);
}

static void
assert_cancelled (PmtTask *task)
{
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_CANCELLED);
  g_assert_error (pmt_task_get_error (task), G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (pmt_task_get_result (task));
}

/* Success and options */

static void
test_success_output (void)
{
  const char *argv[] = { "printf", "abc", NULL };
  g_autoptr(PmtTask) task = pmt_task_new_command (argv);

  g_assert_true (PMT_IS_COMMAND_TASK (task));
  g_assert_cmpstrv (pmt_command_task_get_argv (PMT_COMMAND_TASK (task)), argv);

  run_on_worker (task);
  assert_output (task, "abc");
}

static void
test_success_binary_output (void)
{
  const char *argv[] = { "printf", "a\\000b\\n", NULL };
  g_autoptr(PmtTask) task = pmt_task_new_command (argv);

  run_on_worker (task);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_SUCCEEDED);
  g_assert_cmpmem (g_bytes_get_data (pmt_test_task_get_bytes (task), NULL),
                   g_bytes_get_size (pmt_test_task_get_bytes (task)), "a\0b\n", 4);
}

static void
test_success_empty_output (void)
{
  const char *argv[] = { "true", NULL };
  g_autoptr(PmtTask) task = pmt_task_new_command (argv);

  run_on_worker (task);
  assert_output (task, "");
}

static void
test_stdin_bytes (void)
{
  const char *argv[] = { "cat", NULL };
  g_autoptr(PmtTask) task = pmt_task_new_command (argv);
  g_autoptr(GBytes) input = g_bytes_new_static ("line one\nline two\n", 18);

  pmt_command_task_set_stdin_bytes (PMT_COMMAND_TASK (task), input);

  run_on_worker (task);
  assert_output (task, "line one\nline two\n");
}

/* More than a pipe buffer each way: the input is written while the output
 * is read, or both ends would block. */
static void
test_stdin_large (void)
{
  const char *argv[] = { "cat", NULL };
  g_autoptr(PmtTask) task = pmt_task_new_command (argv);
  gsize size = 1024 * 1024;
  guint8 *data = g_malloc (size);
  g_autoptr(GBytes) input = NULL;

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) (i * 7 + i / 251);
  input = g_bytes_new_take (data, size);

  pmt_command_task_set_stdin_bytes (PMT_COMMAND_TASK (task), input);

  run_on_worker (task);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_SUCCEEDED);
  g_assert_true (g_bytes_equal (pmt_test_task_get_bytes (task), input));
}

/* Without stdin bytes the child reads end of file at once, never the
 * test's own standard input. */
static void
test_stdin_default_empty (void)
{
  const char *argv[] = { "cat", NULL };
  g_autoptr(PmtTask) task = pmt_task_new_command (argv);

  run_on_worker (task);
  assert_output (task, "");
}

static void
test_cwd (void)
{
  const char *argv[] = { "pwd", NULL };
  g_autoptr(PmtTask) task = pmt_task_new_command (argv);
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *real_dir = realpath (dir, NULL);
  g_autofree char *printed = NULL;
  g_autofree char *real_printed = NULL;
  GBytes *out;

  g_assert_null (pmt_command_task_get_cwd (PMT_COMMAND_TASK (task)));
  pmt_command_task_set_cwd (PMT_COMMAND_TASK (task), dir);
  g_assert_cmpstr (pmt_command_task_get_cwd (PMT_COMMAND_TASK (task)), ==, dir);

  run_on_worker (task);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_SUCCEEDED);

  out = pmt_test_task_get_bytes (task);
  printed = g_strndup (g_bytes_get_data (out, NULL), g_bytes_get_size (out));
  g_strchomp (printed);
  real_printed = realpath (printed, NULL);

  g_assert_nonnull (real_dir);
  g_assert_nonnull (real_printed);
  g_assert_cmpstr (real_printed, ==, real_dir);

  remove_tmp_dir (dir);
}

/* The given environment is the whole environment: what the test process
 * has is not inherited, and without one it is. */
static void
test_environ (void)
{
  const char *argv[] = { "sh", "-c", "printf '%s|%s' \"$PMT_X\" \"${" PARENT_VARIABLE "-unset}\"",
                         NULL };
  const char *env[] = { "PMT_X=hello world", NULL };
  g_autoptr(PmtTask) task = pmt_task_new_command (argv);
  g_autoptr(PmtTask) inheriting = pmt_task_new_command (argv);

  pmt_command_task_set_environ (PMT_COMMAND_TASK (task), env);

  run_on_worker (task);
  assert_output (task, "hello world|unset");

  run_on_worker (inheriting);
  assert_output (inheriting, "|parent");
}

/* Failures */

static void
test_exit_status (void)
{
  const char *argv[] = { "sh", "-c", "for i in 1 2 3 4 5 6 7 8; do echo E$i >&2; done; exit 3",
                         NULL };
  g_autoptr(PmtTask) task = pmt_task_new_command (argv);
  const GError *error;

  run_on_worker (task);

  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_FAILED);
  g_assert_null (pmt_task_get_result (task));
  error = pmt_task_get_error (task);
  g_assert_error (error, PMT_ERROR, PMT_ERROR_COMMAND_FAILED);
  g_test_message ("error: %s", error->message);

  g_assert_true (g_str_has_prefix (error->message, "Command “sh -c for i in"));
  g_assert_nonnull (strstr (error->message, "status 3"));
  /* Only the last 5 lines of standard error. */
  g_assert_true (g_str_has_suffix (error->message, ": E4\nE5\nE6\nE7\nE8"));
  g_assert_null (strstr (error->message, "E3"));
  g_assert_null (strstr (error->message, "E1\n"));
}

static void
test_exit_status_no_stderr (void)
{
  const char *argv[] = { "false", NULL };
  g_autoptr(PmtTask) task = pmt_task_new_command (argv);
  g_autoptr(GError) error = NULL;

  run_on_worker (task);

  g_assert_false (pmt_task_propagate_error (task, &error));
  g_assert_error (error, PMT_ERROR, PMT_ERROR_COMMAND_FAILED);
  g_assert_cmpstr (error->message, ==, "Command “false” exited with status 1");
}

static void
test_killed_by_signal (void)
{
  const char *argv[] = { "sh", "-c", "echo dying >&2; kill -9 $$", NULL };
  g_autoptr(PmtTask) task = pmt_task_new_command (argv);
  const GError *error;

  run_on_worker (task);

  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_FAILED);
  error = pmt_task_get_error (task);
  g_assert_error (error, PMT_ERROR, PMT_ERROR_COMMAND_FAILED);
  g_test_message ("error: %s", error->message);
  g_assert_true (g_str_has_prefix (error->message, "Command “sh -c echo dying"));
  g_assert_nonnull (strstr (error->message, "killed by signal 9"));
  g_assert_true (g_str_has_suffix (error->message, ": dying"));
}

static void
test_missing_executable (void)
{
  const char *argv[] = { "pmt-test-no-such-command", "arg", NULL };
  g_autoptr(PmtTask) task = pmt_task_new_command (argv);
  const GError *error;

  run_on_worker (task);

  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_FAILED);
  g_assert_null (pmt_task_get_result (task));
  error = pmt_task_get_error (task);
  g_assert_nonnull (error);
  g_test_message ("error: %s", error->message);
  g_assert_true (error->domain != PMT_ERROR);
  g_assert_nonnull (strstr (error->message, "pmt-test-no-such-command"));
}

static void
test_missing_cwd (void)
{
  const char *argv[] = { "true", NULL };
  g_autoptr(PmtTask) task = pmt_task_new_command (argv);
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *missing = g_build_filename (dir, "missing", NULL);

  pmt_command_task_set_cwd (PMT_COMMAND_TASK (task), missing);

  run_on_worker (task);

  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_FAILED);
  g_assert_nonnull (pmt_task_get_error (task));
  g_assert_true (pmt_task_get_error (task)->domain != PMT_ERROR);

  remove_tmp_dir (dir);
}

/* Cancellation */

/* The child writes its pid to the FIFO given as $1, then becomes @tail. */
static PmtTask *
new_pid_command (const char *fifo,
                 const char *tail)
{
  g_autofree char *script = g_strdup_printf ("printf '%%s\\n' $$ > \"$1\"; %s", tail);
  const char *argv[] = { "sh", "-c", script, "sh", fifo, NULL };

  return pmt_task_new_command (argv);
}

static void
test_cancel_running (void)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *fifo = make_fifo (dir, "pid");
  g_autoptr(PmtWorker) worker = pmt_worker_new ("test-command");
  g_autoptr(PmtTask) task = new_pid_command (fifo, "exec sleep 100");
  g_autoptr(GError) error = NULL;
  gint64 start;
  pid_t pid;

  g_assert_true (pmt_worker_push (worker, task, &error));
  g_assert_no_error (error);

  pid = read_pid_from_fifo (fifo);
  g_assert_cmpint (kill (pid, 0), ==, 0);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_RUNNING);

  start = g_get_monotonic_time ();
  pmt_task_cancel (task);
  g_assert_true (pmt_task_wait (task, SAFETY_TIMEOUT_USEC));
  g_test_message ("cancelled after %" G_GINT64_FORMAT " µs", g_get_monotonic_time () - start);

  assert_cancelled (task);
  assert_reaped (pid);

  pmt_test_worker_stop_and_join (worker);
  remove_tmp_dir (dir);
}

/* A child deaf to SIGTERM gets SIGKILL once the grace is over. */
static void
test_cancel_ignores_sigterm (void)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *fifo = make_fifo (dir, "pid");
  const char *argv[] = { "sh", "-c", "trap '' TERM; printf '%s\\n' $$ > \"$1\"; exec sleep 100",
                         "sh", fifo, NULL };
  g_autoptr(PmtWorker) worker = pmt_worker_new ("test-command");
  g_autoptr(PmtTask) task = pmt_task_new_command (argv);
  g_autoptr(GError) error = NULL;
  gint64 start, elapsed;
  pid_t pid;

  g_assert_true (pmt_worker_push (worker, task, &error));
  g_assert_no_error (error);

  pid = read_pid_from_fifo (fifo);

  start = g_get_monotonic_time ();
  pmt_task_cancel (task);
  g_assert_true (pmt_task_wait (task, SAFETY_TIMEOUT_USEC));
  elapsed = g_get_monotonic_time () - start;
  g_test_message ("cancelled after %" G_GINT64_FORMAT " µs", elapsed);

  assert_cancelled (task);
  assert_reaped (pid);
  /* SIGTERM came first, and the grace (500 ms) was waited out. */
  g_assert_cmpint (elapsed, >=, 450 * 1000);

  pmt_test_worker_stop_and_join (worker);
  remove_tmp_dir (dir);
}

#ifdef __linux__
/* Waits until @pid exited (it may remain a zombie of whoever adopted it),
 * blocking on a pidfd. */
static gboolean
wait_exited (pid_t  pid,
             gint64 timeout_usec)
{
  struct pollfd pfd;
  int fd, ret;

  fd = (int) syscall (SYS_pidfd_open, pid, 0);
  if (fd < 0)
    return errno == ESRCH;

  pfd.fd = fd;
  pfd.events = POLLIN;
  do
    ret = poll (&pfd, 1, (int) (timeout_usec / 1000));
  while (ret < 0 && errno == EINTR);
  close (fd);

  return ret > 0;
}
#endif

/* What the child started goes too: the whole process group is signalled. */
static void
test_cancel_process_group (void)
{
#ifdef __linux__
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *fifo = make_fifo (dir, "pid");
  const char *argv[] = { "sh", "-c", "sleep 100 & printf '%s %s\\n' $$ $! > \"$1\"; wait",
                         "sh", fifo, NULL };
  g_autoptr(PmtWorker) worker = pmt_worker_new ("test-command");
  g_autoptr(PmtTask) task = pmt_task_new_command (argv);
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  g_auto(GStrv) pids = NULL;
  guint64 pid = 0, grandchild = 0;
  int fd;

  fd = (int) syscall (SYS_pidfd_open, getpid (), 0);
  if (fd < 0 && errno == ENOSYS)
    {
      g_test_skip ("pidfd_open() is not available");
      remove_tmp_dir (dir);
      return;
    }
  if (fd >= 0)
    close (fd);

  g_assert_true (pmt_worker_push (worker, task, &error));
  g_assert_no_error (error);

  line = read_line_from_fifo (fifo);
  pids = g_strsplit (line, " ", -1);
  g_assert_cmpuint (g_strv_length (pids), ==, 2);
  g_assert_true (g_ascii_string_to_unsigned (pids[0], 10, 2, G_MAXINT, &pid, NULL));
  g_assert_true (g_ascii_string_to_unsigned (pids[1], 10, 2, G_MAXINT, &grandchild, NULL));

  pmt_task_cancel (task);
  g_assert_true (pmt_task_wait (task, SAFETY_TIMEOUT_USEC));

  assert_cancelled (task);
  assert_reaped ((pid_t) pid);
  /* Not ours to reap: it only has to have exited. */
  g_assert_true (wait_exited ((pid_t) grandchild, SAFETY_TIMEOUT_USEC));

  pmt_test_worker_stop_and_join (worker);
  remove_tmp_dir (dir);
#else
  g_test_skip ("needs pidfd_open()");
#endif
}

static void
test_cancel_by_worker_kill (void)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *fifo = make_fifo (dir, "pid");
  g_autoptr(PmtWorker) worker = pmt_worker_new ("test-command");
  g_autoptr(PmtTask) task = new_pid_command (fifo, "exec sleep 100");
  g_autoptr(GError) error = NULL;
  pid_t pid;

  g_assert_true (pmt_worker_push (worker, task, &error));
  g_assert_no_error (error);

  pid = read_pid_from_fifo (fifo);

  pmt_worker_kill (worker);
  g_assert_true (pmt_worker_join (worker, SAFETY_TIMEOUT_USEC));
  g_assert_true (pmt_task_wait (task, SAFETY_TIMEOUT_USEC));

  assert_cancelled (task);
  assert_reaped (pid);
  remove_tmp_dir (dir);
}

static void
test_cancel_by_pool_shutdown (void)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *fifo = make_fifo (dir, "pid");
  g_autoptr(PmtPool) pool = NULL;
  g_autoptr(PmtTask) task = new_pid_command (fifo, "exec sleep 100");
  g_autoptr(PmtTask) queued = NULL;
  g_autoptr(GError) error = NULL;
  const char *argv[] = { "true", NULL };
  pid_t pid;

  pool = pmt_pool_new (NULL, 1, &error);
  g_assert_no_error (error);

  g_assert_true (pmt_pool_push (pool, task, &error));
  g_assert_no_error (error);
  queued = PMT_TASK (pmt_pool_submit_command (pool, 0, argv, &error));
  g_assert_no_error (error);

  pid = read_pid_from_fifo (fifo);

  g_assert_true (pmt_pool_shutdown (pool,
                                    PMT_SHUTDOWN_CANCEL_RUNNING | PMT_SHUTDOWN_CANCEL_QUEUED,
                                    SAFETY_TIMEOUT_USEC));
  g_assert_cmpint (pmt_pool_get_state (pool), ==, PMT_POOL_STATE_STOPPED);

  g_assert_true (pmt_task_is_done (task));
  assert_cancelled (task);
  assert_reaped (pid);
  assert_cancelled (queued);
  g_assert_cmpuint (pmt_pool_get_n_cancelled (pool), ==, 2);

  remove_tmp_dir (dir);
}

/* A task cancelled while queued never starts its child. */
static void
test_cancel_queued (void)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *fifo = make_fifo (dir, "pid");
  g_autofree char *marker = g_build_filename (dir, "marker", NULL);
  const char *touch_argv[] = { "touch", marker, NULL };
  g_autoptr(PmtPool) pool = NULL;
  g_autoptr(PmtTask) blocker = NULL;
  g_autoptr(PmtTask) queued = NULL;
  g_autoptr(GError) error = NULL;

  pool = pmt_pool_new (NULL, 1, &error);
  g_assert_no_error (error);

  /* Holds the only worker until the test releases it. */
  blocker = new_pid_command (fifo, "read x < \"$1\"; printf done");
  g_assert_true (pmt_pool_push (pool, blocker, &error));
  g_assert_no_error (error);
  queued = PMT_TASK (pmt_pool_submit_command (pool, 0, touch_argv, &error));
  g_assert_no_error (error);

  read_pid_from_fifo (fifo);
  g_assert_cmpint (pmt_task_get_state (queued), ==, PMT_TASK_STATE_QUEUED);

  pmt_task_cancel (queued);
  assert_cancelled (queued);

  release_fifo (fifo);
  g_assert_true (pmt_pool_join (pool, SAFETY_TIMEOUT_USEC));

  assert_output (blocker, "done");
  g_assert_false (g_file_test (marker, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (pmt_pool_get_n_succeeded (pool), ==, 1);
  g_assert_cmpuint (pmt_pool_get_n_cancelled (pool), ==, 1);

  remove_tmp_dir (dir);
}

/* Pools */

#define N_SHORT_COMMANDS 200

static void
test_pool_many (void)
{
  const char *argv[] = { "printf", "x", NULL };
  g_autoptr(PmtPool) pool = NULL;
  g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;

  pool = pmt_pool_new (NULL, 4, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < N_SHORT_COMMANDS; i++)
    {
      PmtTask *task = PMT_TASK (pmt_pool_submit_command (pool, 0, argv, &error));

      g_assert_no_error (error);
      g_assert_true (PMT_IS_COMMAND_TASK (task));
      g_ptr_array_add (tasks, task);
    }

  g_assert_true (pmt_pool_wait_completion (pool, LONG_TIMEOUT_USEC, FALSE));
  g_assert_cmpuint (pmt_pool_get_n_workers (pool), <=, 4);

  for (guint i = 0; i < tasks->len; i++)
    assert_output (g_ptr_array_index (tasks, i), "x");

  g_assert_cmpuint (pmt_pool_get_n_succeeded (pool), ==, N_SHORT_COMMANDS);
  g_assert_cmpuint (pmt_pool_get_n_failed (pool), ==, 0);
  g_assert_true (pmt_pool_shutdown (pool, PMT_SHUTDOWN_NONE, SAFETY_TIMEOUT_USEC));
}

typedef struct
{
  GMutex mutex;
  GString *order;
  GThread *thread;
  guint n_calls;
} CallbackData;

/* Runs in the worker, after the child exited, before waiters wake. */
static void
record_output_cb (PmtTask  *task,
                  gpointer  user_data)
{
  CallbackData *data = user_data;
  GBytes *out = pmt_test_task_get_bytes (task);

  g_mutex_lock (&data->mutex);
  g_string_append_len (data->order, g_bytes_get_data (out, NULL), g_bytes_get_size (out));
  data->thread = g_thread_self ();
  data->n_calls++;
  g_mutex_unlock (&data->mutex);
}

static void
test_pool_priority (void)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *fifo = make_fifo (dir, "pid");
  const int priorities[] = { 5, 1, 3, 1, 0 };
  const char *outputs[] = { "e", "b", "d", "c", "a" };
  g_autoptr(PmtPool) pool = NULL;
  g_autoptr(PmtTask) blocker = NULL;
  g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;
  CallbackData data = { 0 };

  g_mutex_init (&data.mutex);
  data.order = g_string_new (NULL);

  pool = pmt_pool_new (NULL, 1, &error);
  g_assert_no_error (error);

  blocker = new_pid_command (fifo, "read x < \"$1\"");
  g_assert_true (pmt_pool_push (pool, blocker, &error));
  g_assert_no_error (error);
  read_pid_from_fifo (fifo);

  for (guint i = 0; i < G_N_ELEMENTS (priorities); i++)
    {
      const char *argv[] = { "printf", outputs[i], NULL };
      PmtTask *task = pmt_task_new_command (argv);

      pmt_task_set_priority (task, priorities[i]);
      pmt_task_set_callback (task, record_output_cb, &data, NULL);
      g_assert_true (pmt_pool_push (pool, task, &error));
      g_assert_no_error (error);
      g_ptr_array_add (tasks, task);
    }

  release_fifo (fifo);
  g_assert_true (pmt_pool_join (pool, SAFETY_TIMEOUT_USEC));

  g_assert_cmpstr (data.order->str, ==, "abcde");
  g_assert_cmpuint (data.n_calls, ==, G_N_ELEMENTS (priorities));

  g_string_free (data.order, TRUE);
  g_mutex_clear (&data.mutex);
  remove_tmp_dir (dir);
}

/* The callback runs in the worker with the bytes in the task, before the
 * waiter wakes. */
static void
test_callback (void)
{
  const char *argv[] = { "printf", "from child", NULL };
  g_autoptr(PmtTask) task = pmt_task_new_command (argv);
  CallbackData data = { 0 };

  g_mutex_init (&data.mutex);
  data.order = g_string_new (NULL);

  pmt_task_set_callback (task, record_output_cb, &data, NULL);
  run_on_worker (task);

  g_mutex_lock (&data.mutex);
  g_assert_cmpuint (data.n_calls, ==, 1);
  g_assert_cmpstr (data.order->str, ==, "from child");
  g_assert_nonnull (data.thread);
  g_assert_true (data.thread != main_thread);
  g_mutex_unlock (&data.mutex);

  g_string_free (data.order, TRUE);
  g_mutex_clear (&data.mutex);
}

/* Each child appends "start" and "end" to a log around a short sleep: with
 * a limiter of 1, the log never shows two children inside at once, though
 * the pool has four workers. */
static void
test_limiter (void)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *log = g_build_filename (dir, "log", NULL);
  const char *argv[] = { "sh", "-c", "echo start >> \"$1\"; sleep 0.1; echo end >> \"$1\"",
                         "sh", log, NULL };
  g_autoptr(PmtPool) pool = NULL;
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (1);
  g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  guint inside = 0, max_inside = 0, n_started = 0;

  pool = pmt_pool_new (NULL, 4, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < 4; i++)
    {
      PmtTask *task = pmt_task_new_command (argv);

      pmt_task_set_limiter (task, limiter);
      g_assert_true (pmt_pool_push (pool, task, &error));
      g_assert_no_error (error);
      g_ptr_array_add (tasks, task);
    }

  g_assert_true (pmt_task_wait_all ((PmtTask **) tasks->pdata, tasks->len, SAFETY_TIMEOUT_USEC));
  for (guint i = 0; i < tasks->len; i++)
    assert_output (g_ptr_array_index (tasks, i), "");
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 1);

  g_assert_true (g_file_get_contents (log, &contents, NULL, &error));
  g_assert_no_error (error);
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL && *lines[i] != '\0'; i++)
    {
      if (g_str_equal (lines[i], "start"))
        {
          inside++;
          n_started++;
          max_inside = MAX (max_inside, inside);
        }
      else
        {
          g_assert_cmpstr (lines[i], ==, "end");
          g_assert_cmpuint (inside, >, 0);
          inside--;
        }
    }
  g_assert_cmpuint (n_started, ==, 4);
  g_assert_cmpuint (inside, ==, 0);
  g_assert_cmpuint (max_inside, ==, 1);

  g_assert_true (pmt_pool_join (pool, SAFETY_TIMEOUT_USEC));
  remove_tmp_dir (dir);
}

typedef struct
{
  GThread *thread;
  GBytes *out;
  guint n_emissions;
} CompletedData;

static void
completed_cb (PmtTask  *task,
              gpointer  user_data)
{
  CompletedData *data = user_data;

  data->thread = g_thread_self ();
  data->out = g_bytes_ref (pmt_test_task_get_bytes (task));
  data->n_emissions++;
}

/* With a main context, #PmtTask::completed is emitted there, with the
 * child's output in the task. */
static void
test_main_context (void)
{
  const char *argv[] = { "printf", "on the loop", NULL };
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(PmtPool) pool = NULL;
  g_autoptr(PmtTask) task = pmt_task_new_command (argv);
  g_autoptr(GError) error = NULL;
  CompletedData data = { 0 };

  pool = pmt_pool_new (NULL, 2, &error);
  g_assert_no_error (error);

  pmt_task_set_main_context (task, context);
  g_signal_connect (task, "completed", G_CALLBACK (completed_cb), &data);
  g_assert_true (pmt_pool_push (pool, task, &error));
  g_assert_no_error (error);

  pmt_test_iterate_until_uint (context, &data.n_emissions, 1);
  g_assert_cmpuint (data.n_emissions, ==, 1);
  g_assert_true (data.thread == main_thread);
  g_assert_nonnull (data.out);
  g_assert_cmpmem (g_bytes_get_data (data.out, NULL), g_bytes_get_size (data.out),
                   "on the loop", 11);
  assert_output (task, "on the loop");

  g_assert_true (pmt_pool_join (pool, SAFETY_TIMEOUT_USEC));
  g_bytes_unref (data.out);

  /* Nothing else pending on the context: the idle source is gone. */
  while (g_main_context_iteration (context, FALSE))
    ;
  g_assert_cmpuint (data.n_emissions, ==, 1);
}

typedef struct
{
  gboolean done;
  gboolean ok;
  GError *error;
} AsyncWait;

static void
wait_async_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  AsyncWait *wait = user_data;

  g_assert_true (g_thread_self () == main_thread);
  wait->ok = pmt_task_wait_finish (PMT_TASK (object), result, &wait->error);
  wait->done = TRUE;
}

/* wait_async reports on the caller's context: success, or the failure
 * with the command's error. */
static void
test_wait_async (void)
{
  const char *ok_argv[] = { "printf", "ok", NULL };
  const char *fail_argv[] = { "sh", "-c", "echo no >&2; exit 2", NULL };
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(PmtTask) ok = pmt_task_new_command (ok_argv);
  g_autoptr(PmtTask) fail = pmt_task_new_command (fail_argv);
  g_autoptr(PmtPool) pool = NULL;
  g_autoptr(GError) error = NULL;
  AsyncWait ok_wait = { 0 };
  AsyncWait fail_wait = { 0 };

  pool = pmt_pool_new (NULL, 2, &error);
  g_assert_no_error (error);

  g_main_context_push_thread_default (context);
  pmt_task_wait_async (ok, NULL, wait_async_cb, &ok_wait);
  pmt_task_wait_async (fail, NULL, wait_async_cb, &fail_wait);

  g_assert_true (pmt_pool_push (pool, ok, &error));
  g_assert_true (pmt_pool_push (pool, fail, &error));
  g_assert_no_error (error);

  pmt_test_iterate_until (context, pmt_test_flag_is_set, &ok_wait.done, SAFETY_TIMEOUT_USEC);
  pmt_test_iterate_until (context, pmt_test_flag_is_set, &fail_wait.done, SAFETY_TIMEOUT_USEC);
  g_main_context_pop_thread_default (context);

  g_assert_true (ok_wait.ok);
  g_assert_no_error (ok_wait.error);
  assert_output (ok, "ok");

  g_assert_false (fail_wait.ok);
  g_assert_error (fail_wait.error, PMT_ERROR, PMT_ERROR_COMMAND_FAILED);
  g_assert_nonnull (strstr (fail_wait.error->message, "status 2: no"));
  g_clear_error (&fail_wait.error);

  g_assert_true (pmt_pool_join (pool, SAFETY_TIMEOUT_USEC));
}

/* wait_any returns the command that finished while the other is blocked;
 * wait_all returns once both are done. */
static void
test_wait_any_all (void)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *fifo = make_fifo (dir, "gate");
  const char *slow_argv[] = { "sh", "-c", "read x < \"$1\"; printf slow", "sh", fifo, NULL };
  const char *fast_argv[] = { "printf", "fast", NULL };
  g_autoptr(PmtPool) pool = NULL;
  PmtTask *tasks[2];
  g_autoptr(GError) error = NULL;

  pool = pmt_pool_new (NULL, 2, &error);
  g_assert_no_error (error);

  tasks[0] = PMT_TASK (pmt_pool_submit_command (pool, 0, slow_argv, &error));
  g_assert_no_error (error);
  tasks[1] = PMT_TASK (pmt_pool_submit_command (pool, 0, fast_argv, &error));
  g_assert_no_error (error);

  g_assert_cmpint (pmt_task_wait_any (tasks, 2, SAFETY_TIMEOUT_USEC), ==, 1);
  assert_output (tasks[1], "fast");
  g_assert_false (pmt_task_is_done (tasks[0]));
  g_assert_false (pmt_task_wait_all (tasks, 2, 0));

  release_fifo (fifo);
  g_assert_true (pmt_task_wait_all (tasks, 2, SAFETY_TIMEOUT_USEC));
  assert_output (tasks[0], "slow");

  g_assert_true (pmt_pool_join (pool, SAFETY_TIMEOUT_USEC));
  g_object_unref (tasks[0]);
  g_object_unref (tasks[1]);
  remove_tmp_dir (dir);
}

static void
test_as_completed (void)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *fifo = make_fifo (dir, "gate");
  const char *slow_argv[] = { "sh", "-c", "read x < \"$1\"; printf slow", "sh", fifo, NULL };
  const char *fast_argv[] = { "printf", "fast", NULL };
  g_autoptr(PmtPool) pool = NULL;
  g_autoptr(PmtCompletionQueue) queue = NULL;
  g_autoptr(PmtTask) slow = NULL;
  g_autoptr(PmtTask) fast = NULL;
  g_autoptr(PmtTask) first = NULL;
  g_autoptr(PmtTask) second = NULL;
  g_autoptr(GError) error = NULL;
  PmtTask *tasks[2];

  pool = pmt_pool_new (NULL, 2, &error);
  g_assert_no_error (error);

  /* The slow one is submitted first, and blocks until released. */
  slow = PMT_TASK (pmt_pool_submit_command (pool, 0, slow_argv, &error));
  g_assert_no_error (error);
  fast = PMT_TASK (pmt_pool_submit_command (pool, 0, fast_argv, &error));
  g_assert_no_error (error);

  tasks[0] = slow;
  tasks[1] = fast;
  queue = pmt_pool_as_completed (tasks, 2);

  first = pmt_completion_queue_next (queue, SAFETY_TIMEOUT_USEC);
  g_assert_true (first == fast);
  assert_output (first, "fast");
  g_assert_cmpuint (pmt_completion_queue_get_n_pending (queue), ==, 1);

  release_fifo (fifo);
  second = pmt_completion_queue_next (queue, SAFETY_TIMEOUT_USEC);
  g_assert_true (second == slow);
  assert_output (second, "slow");
  g_assert_null (pmt_completion_queue_next (queue, SAFETY_TIMEOUT_USEC));

  g_assert_true (pmt_pool_join (pool, SAFETY_TIMEOUT_USEC));
  remove_tmp_dir (dir);
}

/* A command task can also be run synchronously in the calling thread. */
static void
test_run_sync (void)
{
  const char *argv[] = { "printf", "here", NULL };
  g_autoptr(PmtTask) task = pmt_task_new_command (argv);

  pmt_task_run (task);
  assert_output (task, "here");
}

/* Programming errors */

static void
test_options_after_submission (void)
{
  const char *argv[] = { "true", NULL };
  const char *env[] = { "A=b", NULL };
  g_autoptr(PmtTask) task = pmt_task_new_command (argv);
  g_autoptr(GBytes) input = g_bytes_new_static ("x", 1);
  PmtCommandTask *command = PMT_COMMAND_TASK (task);

  run_on_worker (task);
  assert_output (task, "");

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*submitted already*");
  pmt_command_task_set_cwd (command, "/");
  g_test_assert_expected_messages ();
  g_assert_null (pmt_command_task_get_cwd (command));

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*submitted already*");
  pmt_command_task_set_environ (command, env);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*submitted already*");
  pmt_command_task_set_stdin_bytes (command, input);
  g_test_assert_expected_messages ();
}

/* Also while it is queued, not only once it is done. */
static void
test_options_while_queued (void)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *fifo = make_fifo (dir, "pid");
  const char *argv[] = { "pwd", NULL };
  g_autoptr(PmtPool) pool = NULL;
  g_autoptr(PmtTask) blocker = new_pid_command (fifo, "read x < \"$1\"");
  g_autoptr(PmtTask) task = pmt_task_new_command (argv);
  g_autoptr(GError) error = NULL;

  pool = pmt_pool_new (NULL, 1, &error);
  g_assert_no_error (error);
  g_assert_true (pmt_pool_push (pool, blocker, &error));
  g_assert_true (pmt_pool_push (pool, task, &error));
  g_assert_no_error (error);
  read_pid_from_fifo (fifo);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_QUEUED);

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*submitted already*");
  pmt_command_task_set_cwd (PMT_COMMAND_TASK (task), dir);
  g_test_assert_expected_messages ();

  release_fifo (fifo);
  g_assert_true (pmt_pool_join (pool, SAFETY_TIMEOUT_USEC));
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_SUCCEEDED);
  g_assert_null (pmt_command_task_get_cwd (PMT_COMMAND_TASK (task)));

  remove_tmp_dir (dir);
}

static void
test_new_null_argv (void)
{
  const char *empty[] = { NULL };
  PmtTask *task;

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*argv != NULL*");
  task = pmt_task_new_command (NULL);
  g_test_assert_expected_messages ();
  g_assert_null (task);

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*argv[0] != NULL*");
  task = pmt_task_new_command (empty);
  g_test_assert_expected_messages ();
  g_assert_null (task);
}

/* Regressions */

/* Cancelled commands, however they are cancelled, leave no descriptor
 * behind. */
static void
cancel_one (guint how)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *fifo = make_fifo (dir, "pid");
  g_autoptr(PmtTask) task = new_pid_command (fifo, "exec sleep 100");
  g_autoptr(GError) error = NULL;
  pid_t pid;

  if (how == 2)
    {
      g_autoptr(PmtPool) pool = pmt_test_new_pool (NULL, 1);

      g_assert_true (pmt_pool_push (pool, task, &error));
      g_assert_no_error (error);
      pid = read_pid_from_fifo (fifo);
      g_assert_true (pmt_pool_shutdown (pool, PMT_SHUTDOWN_CANCEL_RUNNING, SAFETY_TIMEOUT_USEC));
    }
  else
    {
      g_autoptr(PmtWorker) worker = pmt_worker_new ("test-fd-leak");

      g_assert_true (pmt_worker_push (worker, task, &error));
      g_assert_no_error (error);
      pid = read_pid_from_fifo (fifo);
      if (how == 1)
        pmt_worker_kill (worker);
      else
        {
          pmt_task_cancel (task);
          if (how == 3)
            pmt_task_cancel (task);
        }
      g_assert_true (pmt_task_wait (task, SAFETY_TIMEOUT_USEC));
      pmt_test_worker_stop_and_join (worker);
    }

  assert_cancelled (task);
  assert_reaped (pid);
  remove_tmp_dir (dir);
}

static void
test_cancel_no_fd_leak (void)
{
  guint n_before, n_after;

  /* GLib makes some descriptors once, on first use. */
  cancel_one (0);
  n_before = pmt_test_count_open_fds ();

  for (guint i = 0; i < 20; i++)
    cancel_one (i % 4);

  n_after = pmt_test_count_open_fds ();
  g_assert_cmpuint (n_after, ==, n_before);
}

/* Standard input the child never reads: the writes fail with EPIPE, and
 * the host process must not die of SIGPIPE. */
static void
test_stdin_unread_no_sigpipe (void)
{
  if (g_test_subprocess ())
    {
      gsize sizes[] = { 6, 4 << 20 };

      /* The test program ignores SIGPIPE; a host program may not. */
      signal (SIGPIPE, SIG_DFL);

      for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
        {
          const char *argv[] = { "true", NULL };
          g_autoptr(PmtTask) task = pmt_task_new_command (argv);
          g_autofree char *data = g_malloc0 (sizes[i]);
          g_autoptr(GBytes) input = g_bytes_new_take (g_steal_pointer (&data), sizes[i]);

          pmt_command_task_set_stdin_bytes (PMT_COMMAND_TASK (task), input);
          pmt_task_run (task);
          assert_output (task, "");
        }
      return;
    }

  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* A failing child's huge standard error on one line is quoted by its
 * tail, in bytes. */
static void
test_stderr_tail_bounded (void)
{
  const char *argv[] = { "sh", "-c", "head -c 8000000 /dev/zero | tr '\\0' x >&2; exit 3", NULL };
  g_autoptr(PmtTask) task = pmt_task_new_command (argv);
  const GError *error;

  run_on_worker (task);

  error = pmt_task_get_error (task);
  g_assert_error (error, PMT_ERROR, PMT_ERROR_COMMAND_FAILED);
  g_assert_cmpuint (strlen (error->message), <=, 4096 + 200);
  g_assert_true (g_str_has_suffix (error->message, "xxxxxxxx"));
  g_assert_nonnull (strstr (error->message, "status 3"));
}

/* The task ends when its child exits, with the output read so far, even
 * though a background grandchild still holds the child's standard
 * output. */
static void
test_ends_when_child_exits (void)
{
  const char *argv[] = { "sh", "-c", "sleep 30 & echo $!", NULL };
  g_autoptr(PmtTask) task = pmt_task_new_command (argv);
  g_autoptr(PmtWorker) worker = pmt_worker_new ("test-grandchild");
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  GBytes *out;
  guint64 grandchild = 0;

  g_assert_true (pmt_worker_push (worker, task, &error));
  g_assert_no_error (error);
  g_assert_true (pmt_task_wait (task, SAFETY_TIMEOUT_USEC));

  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_SUCCEEDED);
  out = pmt_test_task_get_bytes (task);
  text = g_strndup (g_bytes_get_data (out, NULL), g_bytes_get_size (out));
  g_strchomp (text);
  g_assert_true (g_ascii_string_to_unsigned (text, 10, 2, G_MAXINT, &grandchild, NULL));

  /* Left running, as documented: it is the caller's to end. */
  g_assert_cmpint (kill ((pid_t) grandchild, 0), ==, 0);
  g_assert_cmpint (kill ((pid_t) grandchild, SIGKILL), ==, 0);
  pmt_test_worker_stop_and_join (worker);
}

static void
test_empty_command_fails (void)
{
  const char *argv[] = { "", NULL };
  g_autoptr(PmtTask) task = pmt_task_new_command (argv);

  pmt_task_run (task);
  g_assert_cmpint (pmt_task_get_state (task), ==, PMT_TASK_STATE_FAILED);
  g_assert_error (pmt_task_get_error (task), PMT_ERROR, PMT_ERROR_INVALID);
}

/* Made the way bindings make objects: without a command it fails, with
 * the argv property it runs. */
static void
test_bare_command_task (void)
{
  const char *argv[] = { "printf", "by-property", NULL };
  g_autoptr(PmtTask) bare = g_object_new (PMT_TYPE_COMMAND_TASK, NULL);
  g_autoptr(PmtTask) task = g_object_new (PMT_TYPE_COMMAND_TASK, "argv", argv, NULL);
  g_autoptr(PmtCommandTask) typed = NULL;
  g_auto(GStrv) read_back = NULL;

  pmt_task_run (bare);
  g_assert_cmpint (pmt_task_get_state (bare), ==, PMT_TASK_STATE_FAILED);
  g_assert_error (pmt_task_get_error (bare), PMT_ERROR, PMT_ERROR_INVALID);

  g_object_get (task, "argv", &read_back, NULL);
  g_assert_cmpstrv (read_back, argv);
  pmt_task_run (task);
  assert_output (task, "by-property");

  typed = pmt_command_task_new (argv);
  g_assert_true (PMT_IS_COMMAND_TASK (typed));
  g_assert_cmpstrv ((char **) pmt_command_task_get_argv (typed), argv);
}

int
main (int   argc,
      char *argv[])
{
  /* Before any thread exists: setenv() is not thread-safe. */
  g_setenv (PARENT_VARIABLE, "parent", TRUE);

  /* release_fifo() writes to a child that may have died: that must fail
   * an assertion, not kill the test with SIGPIPE. */
  signal (SIGPIPE, SIG_IGN);

  g_test_init (&argc, &argv, NULL);
  main_thread = g_thread_self ();

  pmt_test_add_guarded_func ("/pmt/command-task/success/output", test_success_output,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/success/binary-output", test_success_binary_output,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/success/empty-output", test_success_empty_output,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/success/run-sync", test_run_sync,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/stdin/bytes", test_stdin_bytes,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/stdin/larger-than-pipe", test_stdin_large,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/stdin/default-empty", test_stdin_default_empty,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/cwd", test_cwd, WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/environ/replaces-whole", test_environ,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/failure/exit-status", test_exit_status,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/failure/exit-status-no-stderr",
                             test_exit_status_no_stderr, WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/failure/signal", test_killed_by_signal,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/failure/missing-executable",
                             test_missing_executable, WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/failure/missing-cwd", test_missing_cwd,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/cancel/running", test_cancel_running,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/cancel/sigterm-ignored",
                             test_cancel_ignores_sigterm, WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/cancel/process-group", test_cancel_process_group,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/cancel/worker-kill", test_cancel_by_worker_kill,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/cancel/pool-shutdown",
                             test_cancel_by_pool_shutdown, WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/cancel/queued-never-spawns", test_cancel_queued,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/pool/many-short", test_pool_many,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/pool/priority", test_pool_priority,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/callback", test_callback, WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/limiter/one-at-a-time", test_limiter,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/main-context/completed", test_main_context,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/wait/async", test_wait_async,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/wait/any-all", test_wait_any_all,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/as-completed", test_as_completed,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/options/after-submission",
                             test_options_after_submission, WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/options/while-queued", test_options_while_queued,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/new/null-argv", test_new_null_argv,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/cancel/no-fd-leak", test_cancel_no_fd_leak,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/stdin/unread-no-sigpipe",
                             test_stdin_unread_no_sigpipe, WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/failure/stderr-tail-bounded",
                             test_stderr_tail_bounded, WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/ends-when-child-exits", test_ends_when_child_exits,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/failure/empty-command", test_empty_command_fails,
                             WATCHDOG_TIMEOUT_USEC);
  pmt_test_add_guarded_func ("/pmt/command-task/new/by-properties", test_bare_command_task,
                             WATCHDOG_TIMEOUT_USEC);

  return g_test_run ();
}
