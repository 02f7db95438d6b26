/* pmt-model-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The interpreter's world: the objects a program made (in slots the
 * operations name), and the model — what was accepted, run, completed —
 * that the checks of pmt-model-check.c compare with the library. */

#pragma once

#include "pmt-model.h"

G_BEGIN_DECLS

#define MODEL_N_SLOTS 3

/* The bound of every wait that should end: a run whose work needs longer
 * than this is hung, which is a failure, not a synchronization.  20 s,
 * or PMT_MODEL_SAFETY_S seconds. */
#define MODEL_SAFETY_USEC (model_safety_usec ())

/* What the cat command tasks get on their standard input. */
#define MODEL_CAT_INPUT "pmt model\n"

/* Field kinds: how an operation reads each of its argument bytes. */
typedef enum
{
  F_NONE,
  F_POOL,        /* a pool slot */
  F_WORKER,      /* a standalone worker slot */
  F_LIMITER,     /* a limiter slot */
  F_THREADED,    /* a PmtThreaded slot */
  F_TASK,        /* a task made earlier: byte modulo their number */
  F_BEHAVIOUR,   /* what a task function does (ModelBehaviour) */
  F_PRIORITY,
  F_TIMEOUT,     /* a short, bounded wait */
  F_SHUTDOWN,    /* PmtShutdownFlags */
  F_LIMIT,       /* 1 to 3 */
  F_COUNT,       /* 1 to 4 */
  F_MAX_WORKERS, /* 1 to 3 */
  F_MIN_WORKERS, /* 0 to 2 */
  F_BOOL,
  F_MODE,        /* ModelThreadedMode */
  F_COMMAND,     /* ModelCommand */
  F_IDLE,        /* an idle timeout */
  F_WAIT,        /* ModelWait */
  F_OPTIONS,     /* ModelOption bits of a task made with pmt_task_new() */
} ModelField;

typedef enum
{
  B_SUCCEED,          /* returns its expected integer */
  B_FAIL,             /* returns a PMT_ERROR */
  B_CHECK_CANCEL,     /* works a little, honours its cancellable */
  B_LIMITED,          /* pmt_limiter_acquire() in the function */
  B_LIMITER_RUN,      /* pmt_limiter_run() in the function */
  B_NESTED,           /* submits to its own pool and waits (ModelWait) */
  B_NESTED_COMPLETION,/* submits, then pmt_pool_wait_completion() */
  B_DROP_POOL,        /* drops the model's reference to a pool slot */
  B_N
} ModelBehaviour;

typedef enum
{
  W_TASK_WAIT,
  W_WAIT_ALL,
  W_WAIT_ANY,
  W_QUEUE,            /* pmt_pool_as_completed() + next() */
  W_N
} ModelWait;

typedef enum
{
  M_THREAD,
  M_DAEMON,
  M_PRIVATE_POOL,
  M_NAMED_POOL,
  M_N
} ModelThreadedMode;

typedef enum
{
  C_TRUE,
  C_FALSE,
  C_CAT,              /* /bin/cat with a small standard input */
  C_N
} ModelCommand;

/* Options of a task made with pmt_task_new() before it is pushed. */
typedef enum
{
  O_LIMITER        = 1 << 0, /* the worker acquires limiter slot (opt >> 4) % 3 */
  O_CALLBACK_DROP  = 1 << 1, /* its callback drops the model's reference to it */
  O_COMPLETED_DROP = 1 << 2, /* a completed handler drops pool slot (opt >> 6) % 3 */
  O_CANCEL_FIRST   = 1 << 3, /* cancelled before it is pushed: must be refused */
} ModelOption;

typedef struct _ModelWorld ModelWorld;

/* How many at once hold a limiter, seen from inside the limited
 * sections, against the limit the program set (see model_limit_enter()). */
typedef struct
{
  gint inside;     /* atomic */
  gint limit;      /* atomic: never below the library's limit */
  gint max_limit;  /* atomic: the highest limit ever set */
  gint lowered;    /* atomic: how many times the limit was lowered */
  gint max_inside; /* atomic */
  gint n_entries;  /* atomic */
} ModelLimitTrack;

typedef struct
{
  PmtLimiter *limiter;
  ModelLimitTrack *track;
  GMutex set_mutex;  /* one change of limit at a time */
} ModelLimiterSlot;

/* What the model knows of a pool it made. */
typedef struct
{
  char *name;
  gint n_accepted;   /* atomic: tasks and jobs it accepted */
} ModelPoolInfo;

/* One task made by the program, by the driver or inside a task. */
typedef struct
{
  ModelWorld *world;
  guint index;
  ModelBehaviour behaviour;
  guint8 arg;              /* the behaviour's parameter */
  guint depth;             /* nesting: 0 for the driver's tasks */
  gboolean is_command;
  ModelCommand command;
  ModelPoolInfo *pool;     /* the model pool it went to, if any */
  PmtLimiter *limiter;     /* for B_LIMITED / B_LIMITER_RUN (owned) */
  ModelLimitTrack *limiter_track;
  ModelLimitTrack *task_limit; /* a limiter the worker holds around it */
  gboolean accepted;       /* set once the submission returned */
  gboolean made_by_model;  /* pmt_task_new(): the model holds its creation reference */
  gboolean expect_notify;  /* its function's data has a notify */
  gboolean cancel_first;   /* cancelled before its push */
  guint64 id;
  PmtTask *task;           /* the model's reference, or NULL once dropped */
  gint n_runs;             /* atomic */
  gint n_callbacks;        /* atomic */
  gint n_notified;         /* atomic: the function's data let go of */
} ModelTaskRecord;

typedef struct
{
  ModelPoolInfo *pool;
  gint n_runs;             /* atomic */
  gint n_notified;         /* atomic */
  gboolean accepted;
} ModelJobRecord;

typedef struct
{
  PmtThreaded *threaded;
  ModelLimitTrack *track;  /* of its limiter, if any */
  ModelPoolInfo *pool_info; /* of the model pool it calls to, if any */
} ModelThreadedSlot;

struct _ModelWorld
{
  const ModelProgram *program;
  guint serial;            /* of this run, for unique pool names */

  /* Guards the slots, the records arrays and the failures.  Never held
   * while calling Pmt: callbacks take it from other threads. */
  GMutex lock;
  PmtPool *pools[MODEL_N_SLOTS];
  ModelPoolInfo *pool_infos[MODEL_N_SLOTS];
  PmtWorker *workers[MODEL_N_SLOTS];
  ModelLimiterSlot limiters[MODEL_N_SLOTS];
  ModelThreadedSlot threaded[MODEL_N_SLOTS];
  GPtrArray *old_workers;  /* replaced workers, stopped, joined at the end */
  GPtrArray *records;      /* ModelTaskRecord, owned */
  GPtrArray *jobs;         /* ModelJobRecord, owned */
  GPtrArray *tracks;       /* ModelLimitTrack, owned */
  GPtrArray *pool_infos_all; /* ModelPoolInfo, owned */
  GString *failures;
  guint n_pools_made;

  /* completed emissions, by task id: ModelCompleted */
  GMutex completed_lock;
  GCond completed_cond;    /* broadcast on each emission */
  GHashTable *completed;

  /* Objects made and finalized, to see that nothing is kept. */
  GMutex finalize_lock;
  GCond finalize_cond;
  guint n_objects;
  guint n_finalized;
  GPtrArray *watched;

  ModelStats stats;        /* atomics */
};

typedef struct
{
  guint count;
  PmtTaskState state;      /* when it was emitted */
} ModelCompleted;

/* One row of the operation table. */
typedef struct
{
  const char *name;
  void (*apply) (ModelWorld *world, const gint64 *args);
  ModelField fields[MODEL_N_ARGS];
} ModelOpInfo;

extern const ModelOpInfo model_ops[];
extern const guint model_n_ops;

gint64        model_decode_field      (ModelField   field,
                                       guint8       byte);
const char   *model_behaviour_name    (ModelBehaviour behaviour);
const char   *model_field_name        (ModelField   field);

/* World (pmt-model.c) */
gint64        model_safety_usec       (void);
void          model_fail              (ModelWorld  *world,
                                       const char  *format,
                                       ...) G_GNUC_PRINTF (2, 3);
void          model_watch_object      (ModelWorld  *world,
                                       gpointer     object);
char         *model_list_alive        (ModelWorld  *world);
char         *model_pool_name         (ModelWorld  *world);
PmtPool      *model_dup_pool          (ModelWorld  *world,
                                       guint        slot,
                                       ModelPoolInfo **info);
PmtLimiter   *model_dup_limiter       (ModelWorld  *world,
                                       guint        slot,
                                       ModelLimitTrack **track);
ModelPoolInfo *model_pool_info_of     (PmtPool     *pool);
void          model_drop_pool         (ModelWorld  *world,
                                       guint        slot);
void          model_drop_threaded     (ModelWorld  *world,
                                       guint        slot);

/* Tasks (pmt-model-tasks.c) */
ModelTaskRecord *model_record_new     (ModelWorld  *world,
                                       ModelBehaviour behaviour,
                                       guint8       arg,
                                       guint        depth,
                                       ModelPoolInfo *pool);
void          model_record_accepted   (ModelTaskRecord *record,
                                       PmtTask     *task);
void          model_task_func         (PmtTask     *task,
                                       gpointer     user_data);
void          model_task_data_notify  (gpointer     user_data);
void          model_wait_for          (GPtrArray   *tasks,
                                       ModelWait    kind,
                                       gint64       timeout);
PmtTask      *model_dup_task          (ModelWorld  *world,
                                       guint        selector);
void          model_limit_enter       (ModelLimitTrack *track,
                                       ModelWorld  *world);
void          model_limit_leave       (ModelLimitTrack *track);
gint64        model_expected_result   (ModelTaskRecord *record);

/* Checks (pmt-model-check.c) */
void          model_finish            (ModelWorld  *world);
void          model_check             (ModelWorld  *world,
                                       guint        thread_baseline);
guint         model_count_threads     (GString     *names);

G_END_DECLS
