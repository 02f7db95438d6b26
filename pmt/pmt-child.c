/* pmt-child.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>

#include "pmt-child-private.h"
#include "pmt-i18n-private.h"

/* How long a cancelled child gets to exit after SIGTERM. */
#define TERMINATE_GRACE_MSEC 500

/* How much one read or write moves at most. */
#define CHUNK_SIZE 65536

/* A pipe the child writes: standard output, kept whole, or standard
 * error, of which only the tail is kept. */
typedef struct
{
  int fd;
  GByteArray *buffer;
  gboolean tail;
  GSource *source;
} Output;

/* One child being run: everything lives in the running thread, and every
 * source is attached to the private context only that thread iterates.
 * Only @cancelled is touched from elsewhere. */
typedef struct
{
  GMainContext *context;
  GPid pid;
  gboolean exited;
  int wait_status;
  gint cancelled;           /* atomic */
  gboolean grace_over;

  int in_fd;                /* our end of a socket pair, or -1 */
  GBytes *in;
  gsize in_offset;
  GSource *in_source;

  Output out;
  Output err;
} Child;

/* In the child, before exec: its own process group, so that terminating
 * it terminates whatever it started too.  Only async-signal-safe calls. */
static void
child_setup (gpointer data)
{
  setpgid (0, 0);
}

static void
close_fd (int      *fd,
          GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
  if (*fd >= 0)
    {
      close (*fd);
      *fd = -1;
    }
}

/* Keeps the last PMT_CHILD_ERR_TAIL_BYTES, trimming by halves so the cost
 * stays linear. */
static void
append_tail (GByteArray   *buffer,
             const guint8 *data,
             gsize         size)
{
  g_byte_array_append (buffer, data, size);
  if (buffer->len > 2 * PMT_CHILD_ERR_TAIL_BYTES)
    g_byte_array_remove_range (buffer, 0, buffer->len - PMT_CHILD_ERR_TAIL_BYTES);
}

/* Reads at most @max_bytes of what @fd has now into @buffer.  Returns
 * FALSE at end of file or on an error: the caller closes it then. */
static gboolean
read_some (int         fd,
           GByteArray *buffer,
           gboolean    tail,
           gsize       max_bytes)
{
  guint8 chunk[CHUNK_SIZE];

  while (max_bytes > 0)
    {
      gssize n = read (fd, chunk, MIN (max_bytes, sizeof chunk));

      if (n > 0)
        {
          if (tail)
            append_tail (buffer, chunk, n);
          else
            g_byte_array_append (buffer, chunk, n);
          max_bytes -= n;
          continue;
        }
      if (n == 0)
        return FALSE;
      if (errno == EINTR)
        continue;
      return errno == EAGAIN;
    }

  return TRUE;
}

static gboolean
on_output_ready (gint         fd,
                 GIOCondition condition,
                 gpointer     data)
{
  Output *output = data;

  /* One chunk per wake-up: the loop must also see the exit and a
   * cancellation of a child that writes without end. */
  if (read_some (fd, output->buffer, output->tail, CHUNK_SIZE))
    return G_SOURCE_CONTINUE;

  close_fd (&output->fd, &output->source);
  return G_SOURCE_REMOVE;
}

/* Writes what the socket takes now.  send() with MSG_NOSIGNAL: a child
 * that exited or closed its standard input gives EPIPE, never SIGPIPE,
 * and the rest of the input is dropped, as a shell pipeline would. */
static gboolean
on_in_ready (gint         fd,
             GIOCondition condition,
             gpointer     data)
{
  Child *child = data;
  gsize size;
  const guint8 *bytes = g_bytes_get_data (child->in, &size);

  while (child->in_offset < size)
    {
      gssize n = send (fd, bytes + child->in_offset, MIN (size - child->in_offset, CHUNK_SIZE),
                       MSG_NOSIGNAL | MSG_DONTWAIT);

      if (n >= 0)
        child->in_offset += n;
      else if (errno == EAGAIN)
        return G_SOURCE_CONTINUE;
      else if (errno != EINTR)
        break;
    }

  /* Closing gives the child end of file. */
  close_fd (&child->in_fd, &child->in_source);
  return G_SOURCE_REMOVE;
}

static void
on_exited (GPid     pid,
           gint     wait_status,
           gpointer data)
{
  Child *child = data;

  child->exited = TRUE;
  child->wait_status = wait_status;
}

static gboolean
on_grace_over (gpointer data)
{
  Child *child = data;

  child->grace_over = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs in the cancelling thread. */
static void
on_cancelled (GCancellable *cancellable,
              gpointer      data)
{
  Child *child = data;

  g_atomic_int_set (&child->cancelled, TRUE);
  g_main_context_wakeup (child->context);
}

static GSource *
watch_fd (GMainContext      *context,
          int                fd,
          GIOCondition       condition,
          GUnixFDSourceFunc  func,
          gpointer           data)
{
  GSource *source = g_unix_fd_source_new (fd, condition);

  g_unix_set_fd_nonblocking (fd, TRUE, NULL);
  g_source_set_callback (source, G_SOURCE_FUNC (func), data, NULL);
  g_source_set_static_name (source, "[pmt] child pipe");
  g_source_attach (source, context);

  return source;
}

static void
watch_output (Child    *child,
              Output   *output,
              gboolean  tail)
{
  output->buffer = g_byte_array_new ();
  output->tail = tail;
  output->source = watch_fd (child->context, output->fd, G_IO_IN | G_IO_HUP | G_IO_ERR,
                             on_output_ready, output);
}

/* Signals the child's process group, or the child alone if it has none
 * yet.  Only while the child was not seen to exit: its pid is not reused
 * before it is reaped. */
static void
signal_child (Child *child,
              int    signum)
{
  if (kill (-child->pid, signum) < 0)
    kill (child->pid, signum);
}

static void
iterate_until_exited (Child *child)
{
  while (!child->exited)
    g_main_context_iteration (child->context, TRUE);
}

/* SIGTERM to the group, a grace, then SIGKILL; returns once reaped. */
static void
terminate (Child *child)
{
  GSource *grace = g_timeout_source_new (TERMINATE_GRACE_MSEC);

  g_source_set_callback (grace, on_grace_over, child, NULL);
  g_source_set_static_name (grace, "[pmt] child grace");
  g_source_attach (grace, child->context);

  signal_child (child, SIGTERM);
  while (!child->exited && !child->grace_over)
    g_main_context_iteration (child->context, TRUE);

  if (!child->exited)
    {
      signal_child (child, SIGKILL);
      iterate_until_exited (child);
    }

  g_source_destroy (grace);
  g_source_unref (grace);
}

/* After the exit: takes what the pipe holds now, written by the child
 * before it exited, and no more (a process it left behind may write on
 * forever). */
static void
drain (Output *output)
{
  int available = 0;

  if (output->fd >= 0 && ioctl (output->fd, FIONREAD, &available) == 0 && available > 0)
    read_some (output->fd, output->buffer, output->tail, available);
  close_fd (&output->fd, &output->source);
}

static gboolean
spawn (Child              *child,
       const PmtChildSpec *spec,
       GError            **error)
{
  GSpawnFlags flags = G_SPAWN_SEARCH_PATH | G_SPAWN_SEARCH_PATH_FROM_ENVP |
                      G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_CLOEXEC_PIPES;
  int sockets[2];
  gboolean spawned;

  /* Standard input is always ours, never the parent's: a socket, so that
   * writes can refuse SIGPIPE. */
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   /* Translators: %s is the system's reason (strerror) */
                   _("Could not make a socket for the command’s standard input: %s"),
                   g_strerror (saved_errno));
      return FALSE;
    }

  spawned = g_spawn_async_with_pipes_and_fds (spec->cwd, spec->argv, spec->envp, flags,
                                              child_setup, NULL,
                                              sockets[1], -1, -1, NULL, NULL, 0,
                                              &child->pid, NULL, &child->out.fd, &child->err.fd,
                                              error);
  close (sockets[1]);
  child->in_fd = sockets[0];

  if (!spawned)
    {
      close_fd (&child->in_fd, &child->in_source);
      return FALSE;
    }

  return TRUE;
}

gboolean
_pmt_child_run (const PmtChildSpec  *spec,
                GCancellable        *cancellable,
                PmtChildResult      *result,
                GError             **error)
{
  Child child = { 0 };
  GSource *exit_source;
  gulong handler = 0;

  memset (result, 0, sizeof *result);
  child.in_fd = child.out.fd = child.err.fd = -1;
  if (!spawn (&child, spec, error))
    return FALSE;

  child.context = g_main_context_new ();
  watch_output (&child, &child.out, FALSE);
  watch_output (&child, &child.err, TRUE);
  if (spec->stdin_bytes != NULL && g_bytes_get_size (spec->stdin_bytes) > 0)
    {
      child.in = g_bytes_ref (spec->stdin_bytes);
      child.in_source = watch_fd (child.context, child.in_fd, G_IO_OUT | G_IO_HUP | G_IO_ERR,
                                  on_in_ready, &child);
    }
  else
    close_fd (&child.in_fd, &child.in_source);

  exit_source = g_child_watch_source_new (child.pid);
  g_source_set_callback (exit_source, G_SOURCE_FUNC (on_exited), &child, NULL);
  g_source_set_static_name (exit_source, "[pmt] child exit");
  g_source_attach (exit_source, child.context);

  /* Runs the handler at once when cancelled already. */
  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (on_cancelled), &child, NULL);

  while (!child.exited && !g_atomic_int_get (&child.cancelled))
    g_main_context_iteration (child.context, TRUE);

  if (!child.exited)
    {
      result->cancelled = TRUE;
      terminate (&child);
    }

  /* Waits for a handler running in another thread: @child lives on. */
  g_cancellable_disconnect (cancellable, handler);

  close_fd (&child.in_fd, &child.in_source);
  drain (&child.out);
  drain (&child.err);
  g_source_destroy (exit_source);
  g_source_unref (exit_source);
  g_clear_pointer (&child.in, g_bytes_unref);
  g_main_context_unref (child.context);

  if (child.err.buffer->len > PMT_CHILD_ERR_TAIL_BYTES)
    g_byte_array_remove_range (child.err.buffer, 0,
                               child.err.buffer->len - PMT_CHILD_ERR_TAIL_BYTES);
  result->out = g_byte_array_free_to_bytes (child.out.buffer);
  result->err_tail = g_byte_array_free_to_bytes (child.err.buffer);
  result->wait_status = child.wait_status;

  return TRUE;
}

void
_pmt_child_result_clear (PmtChildResult *result)
{
  g_clear_pointer (&result->out, g_bytes_unref);
  g_clear_pointer (&result->err_tail, g_bytes_unref);
}
