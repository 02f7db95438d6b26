/* pmt-command-task.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (PMT_INSIDE) && !defined (PMT_COMPILATION)
# error "Only <pmt.h> can be included directly."
#endif

#include <gio/gio.h>

#include "pmt-task.h"
#include "pmt-version-macros.h"

G_BEGIN_DECLS

/**
 * PMT_TYPE_COMMAND_TASK:
 *
 * The #GType of #PmtCommandTask.
 */
#define PMT_TYPE_COMMAND_TASK (pmt_command_task_get_type ())

/**
 * PmtCommandTask:
 *
 * A task whose work is a child process.  All its fields are private.
 */
PMT_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (PmtCommandTask, pmt_command_task, PMT, COMMAND_TASK, PmtTask)

PMT_AVAILABLE_IN_ALL
PmtCommandTask     *pmt_command_task_new              (const char * const *argv) G_GNUC_WARN_UNUSED_RESULT;
PMT_AVAILABLE_IN_ALL
PmtTask            *pmt_task_new_command              (const char * const *argv) G_GNUC_WARN_UNUSED_RESULT;
PMT_AVAILABLE_IN_ALL
const char * const *pmt_command_task_get_argv         (PmtCommandTask     *self);
PMT_AVAILABLE_IN_ALL
void                pmt_command_task_set_cwd          (PmtCommandTask     *self,
                                                       const char         *cwd);
PMT_AVAILABLE_IN_ALL
const char         *pmt_command_task_get_cwd          (PmtCommandTask     *self);
PMT_AVAILABLE_IN_ALL
void                pmt_command_task_set_environ      (PmtCommandTask     *self,
                                                       const char * const *env);
PMT_AVAILABLE_IN_ALL
void                pmt_command_task_set_stdin_bytes  (PmtCommandTask     *self,
                                                       GBytes             *stdin_bytes);

G_END_DECLS
