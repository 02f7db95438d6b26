/* pmt-completion-queue.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (PMT_INSIDE) && !defined (PMT_COMPILATION)
# error "Only <pmt.h> can be included directly."
#endif

#include <gio/gio.h>

#include "pmt-task.h"
#include "pmt-types.h"
#include "pmt-version-macros.h"

G_BEGIN_DECLS

/**
 * PMT_TYPE_COMPLETION_QUEUE:
 *
 * The #GType of #PmtCompletionQueue.
 */
#define PMT_TYPE_COMPLETION_QUEUE (pmt_completion_queue_get_type ())

/**
 * PmtCompletionQueue:
 *
 * Hands tasks back in the order they finish.  All its fields are private.
 */
PMT_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (PmtCompletionQueue, pmt_completion_queue, PMT, COMPLETION_QUEUE, GObject)

PMT_AVAILABLE_IN_ALL
PmtCompletionQueue *pmt_completion_queue_new           (void) G_GNUC_WARN_UNUSED_RESULT;
PMT_AVAILABLE_IN_ALL
void                pmt_completion_queue_add           (PmtCompletionQueue *self,
                                                        PmtTask            *task);
PMT_AVAILABLE_IN_ALL
PmtTask            *pmt_completion_queue_next          (PmtCompletionQueue *self,
                                                        gint64              timeout_usec) G_GNUC_WARN_UNUSED_RESULT;
PMT_AVAILABLE_IN_ALL
guint               pmt_completion_queue_get_n_pending (PmtCompletionQueue *self);

PMT_AVAILABLE_IN_ALL
PmtCompletionQueue *pmt_pool_as_completed              (PmtTask           **tasks,
                                                        guint               n_tasks) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
