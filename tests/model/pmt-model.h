/* pmt-model.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Model-based random testing of Pmt: an interpreter that drives the real
 * library from a program of operations decoded from bytes, then checks
 * what the library promises against a simple model of what the program
 * did.  The same interpreter serves the seeded driver (stress-model.c:
 * bytes from a PRNG) and the libFuzzer target (tests/fuzz/fuzz-model.c:
 * bytes from the fuzzer).
 *
 * A program is a header byte (how many driver threads) followed by
 * operations of MODEL_OP_SIZE bytes: the driver thread that runs it, the
 * operation code, and four argument bytes whose meaning the operation
 * table (pmt-model-ops.c) gives.  Any byte string decodes to a valid
 * program: trailing bytes that do not fill an operation, and codes the
 * table does not have, are ignored. */

#pragma once

#include <pmt.h>

G_BEGIN_DECLS

#define MODEL_MAX_THREADS 3
#define MODEL_MAX_OPS     64
#define MODEL_N_ARGS      4
#define MODEL_OP_SIZE     (2 + MODEL_N_ARGS)
#define MODEL_CODE_SPACE  32  /* operation codes: byte modulo this */

typedef struct
{
  guint8 thread;              /* which driver thread runs it */
  guint8 code;                /* index in the operation table */
  guint8 args[MODEL_N_ARGS];  /* raw; decoded by the table's field kinds */
} ModelOp;

typedef struct
{
  guint n_threads;
  guint n_ops;
  ModelOp ops[MODEL_MAX_OPS];
} ModelProgram;

/* What a run did, for the driver's summary. */
typedef struct
{
  guint64 n_ops;
  guint64 n_tasks;       /* task objects made (submitted or not) */
  guint64 n_jobs;        /* jobs accepted */
  guint64 n_commands;    /* command tasks made */
  guint64 n_nested;      /* nested waits done inside tasks */
} ModelStats;

/* Decoding and printing (pmt-model-program.c) */

void      model_program_decode        (ModelProgram       *program,
                                       const guint8       *data,
                                       gsize               size);
GBytes   *model_program_bytes_for_seed (guint32            seed);
char     *model_program_describe      (const ModelProgram *program);

/* Running (pmt-model.c) */

void      model_init                  (void);
gboolean  model_run                   (const ModelProgram *program,
                                       const char         *label,
                                       ModelStats         *stats,
                                       char              **failures);

G_END_DECLS
