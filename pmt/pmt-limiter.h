/* pmt-limiter.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (PMT_INSIDE) && !defined (PMT_COMPILATION)
# error "Only <pmt.h> can be included directly."
#endif

#include <gio/gio.h>

#include "pmt-types.h"
#include "pmt-version-macros.h"

G_BEGIN_DECLS

/**
 * PMT_TYPE_LIMITER:
 *
 * The #GType of #PmtLimiter.
 */
#define PMT_TYPE_LIMITER (pmt_limiter_get_type ())

/**
 * PmtLimiter:
 *
 * A counting semaphore with first-come, first-served waiters.  All its fields are private.
 */

PMT_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (PmtLimiter, pmt_limiter, PMT, LIMITER, GObject)

/**
 * PmtLimiterFunc:
 * @user_data: the data given to pmt_limiter_run()
 *
 * A function that pmt_limiter_run() calls while it holds the limiter.
 */
typedef void (*PmtLimiterFunc) (gpointer user_data);

PMT_AVAILABLE_IN_ALL
PmtLimiter *pmt_limiter_new            (guint                limit) G_GNUC_WARN_UNUSED_RESULT;
PMT_AVAILABLE_IN_ALL
gboolean    pmt_limiter_acquire        (PmtLimiter          *self,
                                        gint64               timeout_usec,
                                        GCancellable        *cancellable,
                                        GError             **error);
PMT_AVAILABLE_IN_ALL
gboolean    pmt_limiter_try_acquire    (PmtLimiter          *self);
PMT_AVAILABLE_IN_ALL
void        pmt_limiter_release        (PmtLimiter          *self);
PMT_AVAILABLE_IN_ALL
void        pmt_limiter_acquire_async  (PmtLimiter          *self,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
PMT_AVAILABLE_IN_ALL
gboolean    pmt_limiter_acquire_finish (PmtLimiter          *self,
                                        GAsyncResult        *result,
                                        GError             **error);
PMT_AVAILABLE_IN_ALL
gboolean    pmt_limiter_run            (PmtLimiter          *self,
                                        gint64               timeout_usec,
                                        GCancellable        *cancellable,
                                        PmtLimiterFunc       func,
                                        gpointer             user_data,
                                        GError             **error);

PMT_AVAILABLE_IN_ALL
guint       pmt_limiter_get_limit      (PmtLimiter          *self);
PMT_AVAILABLE_IN_ALL
void        pmt_limiter_set_limit      (PmtLimiter          *self,
                                        guint                limit);
PMT_AVAILABLE_IN_ALL
guint       pmt_limiter_get_available  (PmtLimiter          *self);
PMT_AVAILABLE_IN_ALL
guint       pmt_limiter_get_n_waiting  (PmtLimiter          *self);

G_END_DECLS
