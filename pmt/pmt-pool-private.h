/* pmt-pool-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "pmt-executor-private.h"
#include "pmt-pool.h"
#include "pmt-queue-private.h"
#include "pmt-waiter-private.h"
#include "pmt-worker-private.h"

G_BEGIN_DECLS

/* The pool is one class in five files, one concern each:
 *   pmt-pool.c           the object, submission, workers (scaling), shutdown
 *   pmt-pool-jobs.c      jobs (calls without a task) and their batches
 *   pmt-pool-wait.c      counting finished work, helping in nested waits,
 *                        pmt_pool_wait_completion()
 *   pmt-pool-notify.c    the monitoring properties' notify, coalesced
 *   pmt-pool-registry.c  the process-wide registry of pools by name
 * This header holds what they share. */

/* Items of the queue: a task (a reference), or a tagged pointer to a run
 * of map() tasks (a chunk) or to a job, by the two lowest bits. */
typedef struct
{
  guint n_tasks;
  guint next;               /* the first task not taken yet */
  PmtTask *tasks[];
} PmtPoolChunk;

typedef struct
{
  PmtJobFunc func;
  gpointer user_data;
  GDestroyNotify notify;
} PmtPoolJob;

#define PMT_POOL_IS_CHUNK(item)  ((GPOINTER_TO_SIZE (item) & 3) == 1)
#define PMT_POOL_TO_CHUNK(item)  ((PmtPoolChunk *) (GPOINTER_TO_SIZE (item) & ~(gsize) 3))
#define PMT_POOL_FROM_CHUNK(c)   (GSIZE_TO_POINTER (GPOINTER_TO_SIZE (c) | 1))
#define PMT_POOL_IS_JOB(item)    ((GPOINTER_TO_SIZE (item) & 3) == 2)
#define PMT_POOL_TO_JOB(item)    ((PmtPoolJob *) (GPOINTER_TO_SIZE (item) & ~(gsize) 3))
#define PMT_POOL_FROM_JOB(j)     (GSIZE_TO_POINTER (GPOINTER_TO_SIZE (j) | 2))

/* The pool's per-thread data of a thread of its workers (the
 * PmtThreadState's executor data).
 *
 * Its local work is what it took off the queue and did not start: the
 * rest of a chunk (kept as the chunk itself), a batch of jobs.  It runs
 * before anything else, in that thread (nobody else can run it), also in
 * the thread's nested waits.  A ring that grows when full, so taking work
 * allocates nothing once it is large enough. */
typedef struct
{
  PmtWorker *worker;
  gpointer *local;
  guint local_allocated;
  guint local_head;
  guint local_length;
  guint n_succeeded;        /* jobs ended, not counted yet */
  guint n_cancelled;
  guint n_jobs;             /* jobs running in this thread, nested */
  guint n_parked;           /* own tasks parked by nested wait_completion() */
  gboolean busy;            /* counted in n-busy-workers */
} PmtPoolThread;

/* The properties, as bits of notify masks. */
enum {
  PMT_POOL_PROP_0,
  PMT_POOL_PROP_NAME,
  PMT_POOL_PROP_STATE,
  PMT_POOL_PROP_MAX_WORKERS,
  PMT_POOL_PROP_MIN_WORKERS,
  PMT_POOL_PROP_IDLE_TIMEOUT,
  PMT_POOL_PROP_MAIN_CONTEXT,
  PMT_POOL_PROP_N_WORKERS,
  PMT_POOL_PROP_N_BUSY_WORKERS,
  PMT_POOL_PROP_N_QUEUED,
  PMT_POOL_PROP_N_UNFINISHED,
  PMT_POOL_PROP_N_SUBMITTED,
  PMT_POOL_PROP_N_SUCCEEDED,
  PMT_POOL_PROP_N_FAILED,
  PMT_POOL_PROP_N_CANCELLED,
  PMT_POOL_N_PROPS
};

#define PMT_POOL_BIT(prop) (1u << (prop))

struct _PmtPool
{
  GObject parent_instance;
  PmtExecutor executor;     /* what the task layer sees of us */

  /* The queue's lock guards every field below but the name and the
   * atomic counters; no task lock is held when it is taken (tasks are
   * locked inside it). */
  PmtQueue *queue;
  GCond idle_cond;          /* shutdown() waits on it */
  GPtrArray *workers;
  GSList *helpers;          /* PmtSyncWaiter of own threads in nested waits */
  GSList *completion_waiters;  /* PmtSyncWaiter of others in wait_completion() */
  char *name;
  GError *init_error;       /* the name was in use: see pmt_pool_constructed() */
  gboolean constructed;     /* workers start only once it is, with a name */
  GMainContext *main_context;

  gint64 idle_timeout;
  guint max_workers;
  guint min_workers;
  guint n_workers;          /* reserved, starting or running */
  guint n_leaving;          /* decided to exit, their threads not done */
  guint n_starting;
  guint n_idle;
  guint n_busy;
  guint n_queued;           /* atomic */
  guint n_parked;           /* atomic: tasks of threads in a nested wait_completion() */
  guint n_blocking;
  guint worker_serial;
  guint64 n_submitted;

  /* Atomic, so that finishing work needs no lock. */
  guint n_unfinished;
  guint64 n_succeeded;
  guint64 n_failed;
  guint64 n_cancelled;
  PmtPoolState state;
  gboolean cancel_queued;

  /* pmt-pool-notify.c, all atomic */
  guint pending_notify;     /* property bits not emitted yet */
  gint notify_scheduled;    /* an idle emits them on main_context */
  gint listening;           /* whether a notify handler was seen */
};

static inline void
_pmt_pool_lock (PmtPool *self)
{
  _pmt_queue_lock (self->queue);
}

static inline void
_pmt_pool_unlock (PmtPool *self)
{
  _pmt_queue_unlock (self->queue);
}

/* pmt-pool.c */
/* Whether the pool takes work; sets @error when not.  With the lock. */
gboolean       _pmt_pool_accepting_locked      (PmtPool     *self,
                                                GError     **error);
/* Queues @item (see above) counting for @n_tasks accepted tasks or jobs;
 * returns how many workers to start.  With the lock. */
guint          _pmt_pool_enqueue_locked        (PmtPool     *self,
                                                gpointer     item,
                                                gint         priority,
                                                guint        n_tasks,
                                                guint       *mask);
void           _pmt_pool_start_workers         (PmtPool     *self,
                                                guint        n_workers);
/* Pops the head of the queue: a job leaves n-queued now, tasks when they
 * are claimed.  With the lock. */
gpointer       _pmt_pool_pop_locked            (PmtPool     *self,
                                                guint       *mask);
/* Takes the head of the queue for @thread to run; a chunk's tasks after
 * the first become its local work.  With the lock. */
gpointer       _pmt_pool_take_locked           (PmtPool       *self,
                                                PmtPoolThread *thread,
                                                guint         *mask);
/* Runs a task (a reference, dropped) or a tagged job @thread took. */
void           _pmt_pool_run_item              (PmtPool       *self,
                                                PmtPoolThread *thread,
                                                gpointer       item);
void           _pmt_pool_local_push            (PmtPoolThread *thread,
                                                gpointer       item);
gpointer       _pmt_pool_local_pop             (PmtPoolThread *thread);
/* STOPPING → STOPPED once no worker and no unfinished work is left. */
void           _pmt_pool_check_stopped_locked  (PmtPool     *self,
                                                guint       *mask);
/* Wakes the threads helping in nested waits.  With the lock. */
void           _pmt_pool_fire_helpers_locked   (PmtPool     *self);
/* This thread's pool data, if it is a thread of one of our workers. */
PmtPoolThread *_pmt_pool_get_thread            (PmtPool     *self);

/* pmt-pool-jobs.c */
/* Ends a job taken off the queue: runs it unless the queue was cancelled,
 * releases its data, counts it in @thread (or at once when NULL). */
void           _pmt_pool_run_job               (PmtPool       *self,
                                                PmtPoolJob    *job,
                                                PmtPoolThread *thread);
/* Ends a job taken off the queue that will never run: releases its
 * data, counts it cancelled. */
void           _pmt_pool_drop_job              (PmtPool       *self,
                                                PmtPoolJob    *job);
void           _pmt_pool_count_thread_jobs     (PmtPool       *self,
                                                PmtPoolThread *thread);
/* After @thread took a job: takes the jobs that follow it, up to a fair
 * share, into its local work.  With the lock. */
void           _pmt_pool_batch_jobs_locked     (PmtPool       *self,
                                                PmtPoolThread *thread,
                                                guint         *mask);

/* pmt-pool-wait.c */
extern const PmtExecutorVTable _pmt_pool_executor_vtable;
/* Counts finished work, of which @n_queued was still counted as queued;
 * wakes whoever waits for the counters. */
void           _pmt_pool_count_finished        (PmtPool     *self,
                                                guint        n_succeeded,
                                                guint        n_failed,
                                                guint        n_cancelled,
                                                guint        n_queued);

/* pmt-pool-notify.c */
/* Emits notify for the properties in @mask: coalesced, and nearly free
 * while nobody listens. */
void           _pmt_pool_notify                (PmtPool     *self,
                                                guint        mask);
/* The pool settled (no unfinished work, or it stopped): pending notifies
 * are emitted if anybody listens now. */
void           _pmt_pool_notify_settled        (PmtPool     *self);
void           _pmt_pool_class_init_notify     (GParamSpec **properties);

/* pmt-pool-registry.c */
gboolean       _pmt_pool_register              (PmtPool     *self,
                                                GError     **error);
void           _pmt_pool_unregister            (PmtPool     *self);

G_END_DECLS
