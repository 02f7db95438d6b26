/* pmt-pool.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (PMT_INSIDE) && !defined (PMT_COMPILATION)
# error "Only <pmt.h> can be included directly."
#endif

#include <gio/gio.h>

#include "pmt-completion-queue.h"
#include "pmt-task.h"
#include "pmt-types.h"
#include "pmt-version-macros.h"

G_BEGIN_DECLS

/**
 * PmtPoolState:
 * @PMT_POOL_STATE_INACTIVE: no task submitted yet
 * @PMT_POOL_STATE_ACTIVE: taking and running tasks
 * @PMT_POOL_STATE_STOPPING: shutting down: takes no more tasks
 * @PMT_POOL_STATE_STOPPED: shut down: every worker has exited
 *
 * The life of a #PmtPool.
 */
typedef enum
{
  PMT_POOL_STATE_INACTIVE,
  PMT_POOL_STATE_ACTIVE,
  PMT_POOL_STATE_STOPPING,
  PMT_POOL_STATE_STOPPED,
} PmtPoolState;

/**
 * PmtShutdownFlags:
 * @PMT_SHUTDOWN_NONE: let the queued tasks run first
 * @PMT_SHUTDOWN_CANCEL_QUEUED: cancel the tasks still queued
 * @PMT_SHUTDOWN_CANCEL_RUNNING: trigger the cancellable of the running
 *   tasks
 *
 * How pmt_pool_shutdown() treats the work left.
 */
typedef enum /*< flags >*/
{
  PMT_SHUTDOWN_NONE           = 0,
  PMT_SHUTDOWN_CANCEL_QUEUED  = 1 << 0,
  PMT_SHUTDOWN_CANCEL_RUNNING = 1 << 1,
} PmtShutdownFlags;

/**
 * PmtJobFunc:
 * @user_data: the data given to pmt_pool_execute()
 *
 * The work of a job queued by pmt_pool_execute(): a call with no task.
 */
typedef void (*PmtJobFunc) (gpointer user_data);

/**
 * PMT_TYPE_POOL:
 *
 * The #GType of #PmtPool.
 */
#define PMT_TYPE_POOL (pmt_pool_get_type ())

/**
 * PmtPool:
 *
 * Many workers sharing one priority queue.  All its fields are private.
 */
PMT_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (PmtPool, pmt_pool, PMT, POOL, GObject)

PMT_AVAILABLE_IN_ALL
PmtPool            *pmt_pool_new                (const char        *name,
                                                 guint              max_workers,
                                                 GError           **error) G_GNUC_WARN_UNUSED_RESULT;
PMT_AVAILABLE_IN_ALL
PmtPool            *pmt_pool_new_for_context    (const char        *name,
                                                 guint              max_workers,
                                                 GMainContext      *context,
                                                 GError           **error) G_GNUC_WARN_UNUSED_RESULT;
PMT_AVAILABLE_IN_ALL
PmtPool            *pmt_pool_lookup             (const char        *name) G_GNUC_WARN_UNUSED_RESULT;
PMT_AVAILABLE_IN_ALL
GList              *pmt_pool_list_pools         (void) G_GNUC_WARN_UNUSED_RESULT;
PMT_AVAILABLE_IN_ALL
gboolean            pmt_pool_join_all           (gint64             timeout_usec);

PMT_AVAILABLE_IN_ALL
PmtTask            *pmt_pool_submit             (PmtPool           *self,
                                                 PmtTaskFunc        func,
                                                 gpointer           user_data,
                                                 GDestroyNotify     notify,
                                                 GError           **error) G_GNUC_WARN_UNUSED_RESULT;
PMT_AVAILABLE_IN_ALL
PmtTask            *pmt_pool_submit_full        (PmtPool           *self,
                                                 gint               priority,
                                                 PmtTaskFunc        func,
                                                 gpointer           user_data,
                                                 GDestroyNotify     notify,
                                                 GError           **error) G_GNUC_WARN_UNUSED_RESULT;
PMT_AVAILABLE_IN_ALL
gboolean            pmt_pool_execute            (PmtPool           *self,
                                                 PmtJobFunc         func,
                                                 gpointer           user_data,
                                                 GDestroyNotify     notify,
                                                 GError           **error);
PMT_AVAILABLE_IN_ALL
gboolean            pmt_pool_execute_full       (PmtPool           *self,
                                                 gint               priority,
                                                 PmtJobFunc         func,
                                                 gpointer           user_data,
                                                 GDestroyNotify     notify,
                                                 GError           **error);
PMT_AVAILABLE_IN_ALL
PmtCommandTask     *pmt_pool_submit_command     (PmtPool           *self,
                                                 gint               priority,
                                                 const char * const *argv,
                                                 GError           **error) G_GNUC_WARN_UNUSED_RESULT;
PMT_AVAILABLE_IN_ALL
gboolean            pmt_pool_push               (PmtPool           *self,
                                                 PmtTask           *task,
                                                 GError           **error);
PMT_AVAILABLE_IN_ALL
GPtrArray          *pmt_pool_map                (PmtPool           *self,
                                                 PmtTaskFunc        func,
                                                 gpointer           user_data,
                                                 GDestroyNotify     notify,
                                                 gpointer          *items,
                                                 guint              n_items,
                                                 guint              chunk_size,
                                                 GError           **error) G_GNUC_WARN_UNUSED_RESULT;
PMT_AVAILABLE_IN_ALL
GPtrArray          *pmt_pool_map_full           (PmtPool           *self,
                                                 gint               priority,
                                                 PmtTaskFunc        func,
                                                 gpointer           user_data,
                                                 GDestroyNotify     notify,
                                                 gpointer          *items,
                                                 guint              n_items,
                                                 guint              chunk_size,
                                                 GError           **error) G_GNUC_WARN_UNUSED_RESULT;
PMT_AVAILABLE_IN_ALL
GPtrArray          *pmt_pool_map_values         (PmtPool           *self,
                                                 PmtTaskFunc        func,
                                                 gpointer           user_data,
                                                 GDestroyNotify     notify,
                                                 const GValue      *items,
                                                 guint              n_items,
                                                 guint              chunk_size,
                                                 GError           **error) G_GNUC_WARN_UNUSED_RESULT;
PMT_AVAILABLE_IN_ALL
GPtrArray          *pmt_pool_map_values_full    (PmtPool           *self,
                                                 gint               priority,
                                                 PmtTaskFunc        func,
                                                 gpointer           user_data,
                                                 GDestroyNotify     notify,
                                                 const GValue      *items,
                                                 guint              n_items,
                                                 guint              chunk_size,
                                                 GError           **error) G_GNUC_WARN_UNUSED_RESULT;

PMT_AVAILABLE_IN_ALL
gboolean            pmt_pool_wait_completion    (PmtPool           *self,
                                                 gint64             timeout_usec,
                                                 gboolean           block);
PMT_AVAILABLE_IN_ALL
gboolean            pmt_pool_shutdown           (PmtPool           *self,
                                                 PmtShutdownFlags   flags,
                                                 gint64             timeout_usec);
PMT_AVAILABLE_IN_ALL
gboolean            pmt_pool_join               (PmtPool           *self,
                                                 gint64             timeout_usec);

PMT_AVAILABLE_IN_ALL
const char         *pmt_pool_get_name           (PmtPool           *self);
PMT_AVAILABLE_IN_ALL
PmtPoolState        pmt_pool_get_state          (PmtPool           *self);
PMT_AVAILABLE_IN_ALL
guint               pmt_pool_get_max_workers    (PmtPool           *self);
PMT_AVAILABLE_IN_ALL
void                pmt_pool_set_max_workers    (PmtPool           *self,
                                                 guint              max_workers);
PMT_AVAILABLE_IN_ALL
guint               pmt_pool_get_min_workers    (PmtPool           *self);
PMT_AVAILABLE_IN_ALL
void                pmt_pool_set_min_workers    (PmtPool           *self,
                                                 guint              min_workers);
PMT_AVAILABLE_IN_ALL
gint64              pmt_pool_get_idle_timeout   (PmtPool           *self);
PMT_AVAILABLE_IN_ALL
void                pmt_pool_set_idle_timeout   (PmtPool           *self,
                                                 gint64             idle_timeout_usec);
PMT_AVAILABLE_IN_ALL
GMainContext       *pmt_pool_get_main_context   (PmtPool           *self);
PMT_AVAILABLE_IN_ALL
void                pmt_pool_set_main_context   (PmtPool           *self,
                                                 GMainContext      *context);

PMT_AVAILABLE_IN_ALL
guint               pmt_pool_get_n_workers      (PmtPool           *self);
PMT_AVAILABLE_IN_ALL
guint               pmt_pool_get_n_busy_workers (PmtPool           *self);
PMT_AVAILABLE_IN_ALL
guint               pmt_pool_get_n_queued       (PmtPool           *self);
PMT_AVAILABLE_IN_ALL
guint               pmt_pool_get_n_unfinished   (PmtPool           *self);
PMT_AVAILABLE_IN_ALL
guint64             pmt_pool_get_n_submitted    (PmtPool           *self);
PMT_AVAILABLE_IN_ALL
guint64             pmt_pool_get_n_succeeded    (PmtPool           *self);
PMT_AVAILABLE_IN_ALL
guint64             pmt_pool_get_n_failed       (PmtPool           *self);
PMT_AVAILABLE_IN_ALL
guint64             pmt_pool_get_n_cancelled    (PmtPool           *self);

G_END_DECLS
