/* pmt-threaded.h
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
 * PmtThreadedMode:
 * @PMT_THREADED_MODE_THREAD: each call runs on a new worker thread, which
 *   ends after the task (PyMultiTasking's plain `@Threaded`)
 * @PMT_THREADED_MODE_DAEMON: every call goes to one persistent worker, in
 *   order; a new one replaces it if it stopped (`daemon=True`)
 * @PMT_THREADED_MODE_POOL: calls go to a pool: #PmtThreaded:pool if set,
 *   else the shared pool named #PmtThreaded:pool-name, else a private pool
 *   made on the first call (`pool=True`, `pool_name=…`)
 *
 * Where the calls of a #PmtThreaded run.
 */
typedef enum
{
  PMT_THREADED_MODE_THREAD,
  PMT_THREADED_MODE_DAEMON,
  PMT_THREADED_MODE_POOL,
} PmtThreadedMode;

/**
 * PMT_TYPE_THREADED:
 *
 * The #GType of #PmtThreaded.
 */
#define PMT_TYPE_THREADED (pmt_threaded_get_type ())

/**
 * PmtThreaded:
 *
 * A function made threaded: each call returns a task.  All its fields are
 * private.
 */
PMT_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (PmtThreaded, pmt_threaded, PMT, THREADED, GObject)

PMT_AVAILABLE_IN_ALL
PmtThreaded     *pmt_threaded_new             (PmtTaskFunc       func,
                                               gpointer          user_data,
                                               GDestroyNotify    notify) G_GNUC_WARN_UNUSED_RESULT;
PMT_AVAILABLE_IN_ALL
PmtTask         *pmt_threaded_call            (PmtThreaded      *self,
                                               gpointer          call_data,
                                               GDestroyNotify    call_data_notify,
                                               GError          **error) G_GNUC_WARN_UNUSED_RESULT;
PMT_AVAILABLE_IN_ALL
PmtTask         *pmt_threaded_call_value      (PmtThreaded      *self,
                                               const GValue     *call_value,
                                               GError          **error) G_GNUC_WARN_UNUSED_RESULT;

PMT_AVAILABLE_IN_ALL
PmtThreadedMode  pmt_threaded_get_mode        (PmtThreaded      *self);
PMT_AVAILABLE_IN_ALL
void             pmt_threaded_set_mode        (PmtThreaded      *self,
                                               PmtThreadedMode   mode);
PMT_AVAILABLE_IN_ALL
PmtWorker       *pmt_threaded_dup_worker      (PmtThreaded      *self) G_GNUC_WARN_UNUSED_RESULT;
PMT_AVAILABLE_IN_ALL
void             pmt_threaded_set_worker      (PmtThreaded      *self,
                                               PmtWorker        *worker);
PMT_AVAILABLE_IN_ALL
PmtPool         *pmt_threaded_dup_pool        (PmtThreaded      *self) G_GNUC_WARN_UNUSED_RESULT;
PMT_AVAILABLE_IN_ALL
void             pmt_threaded_set_pool        (PmtThreaded      *self,
                                               PmtPool          *pool);
PMT_AVAILABLE_IN_ALL
const char      *pmt_threaded_get_pool_name   (PmtThreaded      *self);
PMT_AVAILABLE_IN_ALL
void             pmt_threaded_set_pool_name   (PmtThreaded      *self,
                                               const char       *pool_name);
PMT_AVAILABLE_IN_ALL
gint             pmt_threaded_get_priority    (PmtThreaded      *self);
PMT_AVAILABLE_IN_ALL
void             pmt_threaded_set_priority    (PmtThreaded      *self,
                                               gint              priority);
PMT_AVAILABLE_IN_ALL
gboolean         pmt_threaded_get_store_result (PmtThreaded     *self);
PMT_AVAILABLE_IN_ALL
void             pmt_threaded_set_store_result (PmtThreaded     *self,
                                               gboolean          store_result);
PMT_AVAILABLE_IN_ALL
PmtLimiter      *pmt_threaded_get_limiter     (PmtThreaded      *self);
PMT_AVAILABLE_IN_ALL
gboolean         pmt_threaded_get_limiter_blocking (PmtThreaded *self);
PMT_AVAILABLE_IN_ALL
void             pmt_threaded_set_limiter     (PmtThreaded      *self,
                                               PmtLimiter       *limiter,
                                               gboolean          blocking);
PMT_AVAILABLE_IN_ALL
void             pmt_threaded_set_callback    (PmtThreaded      *self,
                                               PmtTaskCallback   callback,
                                               gpointer          user_data,
                                               GDestroyNotify    notify);
PMT_AVAILABLE_IN_ALL
GMainContext    *pmt_threaded_get_main_context (PmtThreaded     *self);
PMT_AVAILABLE_IN_ALL
void             pmt_threaded_set_main_context (PmtThreaded     *self,
                                               GMainContext     *context);

G_END_DECLS
