/* pmt-test-utils.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Helpers shared by the test programs: bounded waits on guarded state,
 * gates that hold task functions, a watchdog, a finalization watch, main
 * context loops, counters, and small task functions and checks.  What each
 * one guarantees is in its doc comment in pmt-test-utils.c.
 *
 * A wait that should end at once is bounded, so that a broken library
 * fails the test instead of hanging it.  Only a task function blocked in a
 * gate waits without a bound of its own, as it always did: the test opens
 * every gate it shuts. */

#pragma once

#include <pmt.h>

G_BEGIN_DECLS

/* A bound on every wait that should end at once; reaching it is a
 * failure, not a synchronization. */
#define PMT_TEST_SAFETY_TIMEOUT_USEC (10 * G_USEC_PER_SEC)

/* State guarded by a mutex, with a condition broadcast on each change */

guint     pmt_test_read_uint              (GMutex         *mutex,
                                           const guint    *value);
void      pmt_test_increment_uint         (GMutex         *mutex,
                                           GCond          *cond,
                                           guint          *value);
guint     pmt_test_wait_uint              (GMutex         *mutex,
                                           GCond          *cond,
                                           const guint    *value,
                                           guint           at_least,
                                           gint64          timeout_usec);
void      pmt_test_assert_uint_reaches    (GMutex         *mutex,
                                           GCond          *cond,
                                           const guint    *value,
                                           guint           n);
void      pmt_test_set_flag               (GMutex         *mutex,
                                           GCond          *cond,
                                           gboolean       *flag);
gboolean  pmt_test_wait_flag              (GMutex         *mutex,
                                           GCond          *cond,
                                           const gboolean *flag,
                                           gint64          timeout_usec);

/* Gates */

typedef struct
{
  GMutex   mutex;
  GCond    cond;
  guint    n_started;   /* callers that entered the gate */
  gboolean open;
  gboolean cancelled;   /* set by pmt_test_gate_cancellable_func() */
} PmtTestGate;

void      pmt_test_gate_init              (PmtTestGate    *gate);
void      pmt_test_gate_clear             (PmtTestGate    *gate);
void      pmt_test_gate_open              (PmtTestGate    *gate);
void      pmt_test_gate_wait_open         (PmtTestGate    *gate);
void      pmt_test_gate_wait_started      (PmtTestGate    *gate,
                                           guint           n);
guint     pmt_test_gate_get_n_started     (PmtTestGate    *gate);
void      pmt_test_gate_enter             (PmtTestGate    *gate);
void      pmt_test_gate_pass              (PmtTestGate    *gate);
void      pmt_test_gate_func              (PmtTask        *task,
                                           gpointer        user_data);
void      pmt_test_gate_cancellable_func  (PmtTask        *task,
                                           gpointer        user_data);

/* Watchdog */

typedef struct _PmtTestWatchdog PmtTestWatchdog;

PmtTestWatchdog *pmt_test_watchdog_start  (const char     *path,
                                           gint64          timeout_usec,
                                           const char     *diagnosis);
void      pmt_test_watchdog_stop          (PmtTestWatchdog *watchdog);

/* Guarded tests: a watchdog aborts a test that runs too long */

void      pmt_test_add_guarded            (const char     *path,
                                           gconstpointer   data,
                                           GTestDataFunc   func,
                                           gint64          timeout_usec);
void      pmt_test_add_guarded_func       (const char     *path,
                                           GTestFunc       func,
                                           gint64          timeout_usec);
guint     pmt_test_count_open_fds         (void);
GThread  *pmt_test_call_later             (GDestroyNotify  func,
                                           gpointer        data);

/* Finalization */

typedef struct
{
  GMutex   mutex;
  GCond    cond;
  gboolean finalized;
} PmtTestFinalizeWatch;

void      pmt_test_finalize_watch_init    (PmtTestFinalizeWatch *watch,
                                           gpointer              object);
gboolean  pmt_test_finalize_watch_wait    (PmtTestFinalizeWatch *watch,
                                           gint64                timeout_usec);
void      pmt_test_finalize_watch_clear   (PmtTestFinalizeWatch *watch);

/* Main contexts */

typedef gboolean (*PmtTestPredicate) (gpointer data);

GSource  *pmt_test_add_flag_timeout       (GMainContext     *context,
                                           gint64            timeout_usec,
                                           gboolean         *flag);
void      pmt_test_iterate_until          (GMainContext     *context,
                                           PmtTestPredicate  predicate,
                                           gpointer          data,
                                           gint64            timeout_usec);
gboolean  pmt_test_flag_is_set            (gpointer          flag);
guint     pmt_test_iterate_until_uint     (GMainContext     *context,
                                           const guint      *value,
                                           guint             at_least);
gint      pmt_test_iterate_until_int      (GMainContext     *context,
                                           const gint       *value,
                                           gint              at_least);
void      pmt_test_flush_context          (GMainContext     *context);

/* Counters */

void      pmt_test_count_func             (PmtTask        *task,
                                           gpointer        user_data);
void      pmt_test_count_completed_cb     (PmtTask        *task,
                                           gpointer        user_data);
void      pmt_test_count_notify           (gpointer        user_data);

/* Tasks and workers */

void      pmt_test_return_index_func      (PmtTask        *task,
                                           gpointer        user_data);
gint64    pmt_test_task_get_int           (PmtTask        *task);
GBytes   *pmt_test_task_get_bytes         (PmtTask        *task);
void      pmt_test_assert_task_succeeded  (PmtTask        *task);
void      pmt_test_assert_task_cancelled  (PmtTask        *task);
void      pmt_test_worker_stop_and_join   (PmtWorker      *worker);

/* Pools */

PmtPool  *pmt_test_new_pool               (const char     *name,
                                           guint           max_workers);
void      pmt_test_assert_pool_settled    (PmtPool        *pool);
void      pmt_test_shutdown_pool          (PmtPool        *pool);

G_END_DECLS
