/* pmt-error.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (PMT_INSIDE) && !defined (PMT_COMPILATION)
# error "Only <pmt.h> can be included directly."
#endif

#include <glib.h>

#include "pmt-version-macros.h"

G_BEGIN_DECLS

/**
 * PMT_ERROR:
 *
 * The error domain of the run-time conditions Pmt reports.  Cancellation
 * is reported as %G_IO_ERROR_CANCELLED instead.
 */
#define PMT_ERROR (pmt_error_quark ())

/**
 * PmtError:
 * @PMT_ERROR_FAILED: a generic failure
 * @PMT_ERROR_TIMED_OUT: a wait or an acquisition did not succeed in time
 * @PMT_ERROR_STOPPED: the worker or pool is stopping or stopped and takes
 *   no more tasks
 * @PMT_ERROR_BLOCKED: the pool refuses submissions while it waits for its
 *   work to complete
 * @PMT_ERROR_NAME_IN_USE: a pool of that name exists already
 * @PMT_ERROR_COMMAND_FAILED: a command task's child process failed
 * @PMT_ERROR_INVALID: the object lacks what its constructor would have
 *   given it (a task without a function, a command task without a
 *   command), as objects made by bindings from properties can
 *
 * Error codes in the %PMT_ERROR domain.
 */
typedef enum
{
  PMT_ERROR_FAILED,
  PMT_ERROR_TIMED_OUT,
  PMT_ERROR_STOPPED,
  PMT_ERROR_BLOCKED,
  PMT_ERROR_NAME_IN_USE,
  PMT_ERROR_COMMAND_FAILED,
  PMT_ERROR_INVALID,
} PmtError;

/**
 * pmt_error_quark:
 *
 * The quark of the %PMT_ERROR domain.
 *
 * Returns: the error domain quark
 */
PMT_AVAILABLE_IN_ALL
GQuark pmt_error_quark (void);

G_END_DECLS
