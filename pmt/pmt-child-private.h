/* pmt-child-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* What to run. */
typedef struct
{
  const char * const *argv;       /* looked up in PATH (the given environment's first) */
  const char *cwd;                /* NULL: the current directory */
  const char * const *envp;       /* NULL: the current environment */
  GBytes *stdin_bytes;            /* NULL: end of file at once */
} PmtChildSpec;

/* How it ended. */
typedef struct
{
  GBytes *out;                    /* standard output, read until the child exited */
  GBytes *err_tail;               /* the last PMT_CHILD_ERR_TAIL_BYTES of standard error */
  int wait_status;                /* as waitpid() gives it */
  gboolean cancelled;             /* terminated because @cancellable was cancelled */
} PmtChildResult;

#define PMT_CHILD_ERR_TAIL_BYTES 4096

/* Runs a child process in its own process group, in the calling thread,
 * until it exits: feeds it @spec's standard input, collects its output,
 * and terminates its group when @cancellable is cancelled (SIGTERM, then
 * SIGKILL after a grace).  The child is always reaped.
 *
 * It ends when the child exits, with the output read by then: a
 * background process the child left holding its standard output does not
 * keep it running, and is left alone.  Writing to a child that stopped
 * reading never raises SIGPIPE.  Blocks on a private main context, never
 * polls.
 *
 * Returns FALSE with @error when the child could not start; TRUE with
 * @result filled otherwise (free it with _pmt_child_result_clear()). */
gboolean  _pmt_child_run          (const PmtChildSpec  *spec,
                                   GCancellable        *cancellable,
                                   PmtChildResult      *result,
                                   GError             **error);
void      _pmt_child_result_clear (PmtChildResult      *result);

G_END_DECLS
