/* pmt-model-program.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Programs: bytes to operations, a seed to bytes, operations to text. */

#include <string.h>

#include "pmt-model-private.h"

G_STATIC_ASSERT (MODEL_CODE_SPACE <= 256);

static const gint priorities[] = { G_PRIORITY_HIGH, G_PRIORITY_DEFAULT, G_PRIORITY_HIGH_IDLE,
                                   G_PRIORITY_DEFAULT_IDLE, G_PRIORITY_LOW };
/* Short: a run waits many times, and a wait that times out is as
 * interesting as one that does not. */
static const gint64 timeouts[] = { 0, 100, 1000, 10000, 50000 };
static const gint64 idle_timeouts[] = { -1, 0, 1000, 50000 };

static const char *const behaviour_names[] = {
  "succeed", "fail", "check-cancel", "limited", "limiter-run", "nested",
  "nested-completion", "drop-pool",
};
static const char *const wait_names[] = { "task-wait", "wait-all", "wait-any", "queue" };
static const char *const mode_names[] = { "thread", "daemon", "private-pool", "named-pool" };
static const char *const command_names[] = { "true", "false", "cat" };

G_STATIC_ASSERT (G_N_ELEMENTS (behaviour_names) == B_N);
G_STATIC_ASSERT (G_N_ELEMENTS (wait_names) == W_N);
G_STATIC_ASSERT (G_N_ELEMENTS (mode_names) == M_N);
G_STATIC_ASSERT (G_N_ELEMENTS (command_names) == C_N);

/* The value an argument byte stands for, by the kind of its field. */
gint64
model_decode_field (ModelField field,
                    guint8     byte)
{
  switch (field)
    {
    case F_POOL:
    case F_WORKER:
    case F_LIMITER:
    case F_THREADED:
      return byte % MODEL_N_SLOTS;
    case F_TASK:
    case F_OPTIONS:
    case F_NONE:
      return byte;
    case F_BEHAVIOUR:
      return byte % B_N;
    case F_PRIORITY:
      return priorities[byte % G_N_ELEMENTS (priorities)];
    case F_TIMEOUT:
      return timeouts[byte % G_N_ELEMENTS (timeouts)];
    case F_SHUTDOWN:
      return byte % 4;
    case F_LIMIT:
      return 1 + byte % 3;
    case F_COUNT:
      return 1 + byte % 4;
    case F_MAX_WORKERS:
      return 1 + byte % 3;
    case F_MIN_WORKERS:
      return byte % 3;
    case F_BOOL:
      return byte % 2;
    case F_MODE:
      return byte % M_N;
    case F_COMMAND:
      return byte % C_N;
    case F_IDLE:
      return idle_timeouts[byte % G_N_ELEMENTS (idle_timeouts)];
    case F_WAIT:
      return byte % W_N;
    }
  g_assert_not_reached ();
}

const char *
model_field_name (ModelField field)
{
  static const char *const names[] = {
    NULL, "pool", "worker", "limiter", "threaded", "task", "behaviour",
    "priority", "timeout", "flags", "limit", "n", "max", "min", "flag", "mode",
    "command", "idle", "wait", "options",
  };

  return names[field];
}

/**
 * model_program_decode:
 * @program: (out caller-allocates): the program
 * @data: the bytes
 * @size: their number
 *
 * Decodes any bytes into a program: the first byte says how many driver
 * threads, then each MODEL_OP_SIZE bytes make one operation, up to
 * MODEL_MAX_OPS.  Threads and codes are taken modulo their number, so
 * that every mutation of a fuzzer's input is a program too.
 */
void
model_program_decode (ModelProgram *program,
                      const guint8 *data,
                      gsize         size)
{
  memset (program, 0, sizeof *program);
  program->n_threads = size > 0 ? 1 + data[0] % MODEL_MAX_THREADS : 1;

  for (gsize at = 1; at + MODEL_OP_SIZE <= size && program->n_ops < MODEL_MAX_OPS;
       at += MODEL_OP_SIZE)
    {
      ModelOp *op = &program->ops[program->n_ops];

      /* Codes are taken modulo a fixed number, not the table's length,
       * and those past its end are skipped: an operation added to the
       * end of the table changes no program saved before (the corpus,
       * the regressions). */
      if (data[at + 1] % MODEL_CODE_SPACE >= model_n_ops)
        continue;
      op->thread = data[at] % program->n_threads;
      op->code = data[at + 1] % MODEL_CODE_SPACE;
      memcpy (op->args, data + at + 2, MODEL_N_ARGS);
      program->n_ops++;
    }
}

static guint
op_code (const char *name)
{
  for (guint i = 0; i < model_n_ops; i++)
    if (g_str_equal (model_ops[i].name, name))
      return i;
  g_assert_not_reached ();
}

static void
append_op (GByteArray *bytes,
           GRand      *rand,
           gint        code)
{
  guint8 op[MODEL_OP_SIZE];

  for (guint i = 0; i < MODEL_OP_SIZE; i++)
    op[i] = g_rand_int_range (rand, 0, 256);
  op[1] = code >= 0 ? code : g_rand_int_range (rand, 0, model_n_ops);
  g_byte_array_append (bytes, op, sizeof op);
}

/**
 * model_program_bytes_for_seed:
 * @seed: the seed
 *
 * The bytes of the program of @seed: the same seed gives the same bytes
 * everywhere (GRand is a Mersenne Twister, not the C library's rand()).
 * Each thread starts by making a pool and a limiter, so that the random
 * operations after them find something to work on more often than not.
 *
 * Returns: (transfer full): the bytes, for model_program_decode()
 */
GBytes *
model_program_bytes_for_seed (guint32 seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  GByteArray *bytes = g_byte_array_new ();
  guint8 header = g_rand_int_range (rand, 0, 256);
  guint n_threads = 1 + header % MODEL_MAX_THREADS;
  guint n_ops = g_rand_int_range (rand, 16, MODEL_MAX_OPS - 2 * MODEL_MAX_THREADS + 1);

  g_byte_array_append (bytes, &header, 1);
  for (guint t = 0; t < n_threads; t++)
    {
      append_op (bytes, rand, op_code ("pool-new"));
      bytes->data[bytes->len - MODEL_OP_SIZE] = t;
      append_op (bytes, rand, op_code ("limiter-new"));
      bytes->data[bytes->len - MODEL_OP_SIZE] = t;
    }
  for (guint i = 0; i < n_ops; i++)
    append_op (bytes, rand, -1);

  return g_byte_array_free_to_bytes (bytes);
}

static void
describe_arg (GString    *out,
              ModelField  field,
              guint8      byte)
{
  gint64 value = model_decode_field (field, byte);

  g_string_append_printf (out, " %s=", model_field_name (field));
  switch (field)
    {
    case F_BEHAVIOUR:
      g_string_append (out, behaviour_names[value]);
      break;
    case F_WAIT:
      g_string_append (out, wait_names[value]);
      break;
    case F_MODE:
      g_string_append (out, mode_names[value]);
      break;
    case F_COMMAND:
      g_string_append (out, command_names[value]);
      break;
    case F_OPTIONS:
      g_string_append_printf (out, "0x%02x", (guint) value);
      break;
    default:
      g_string_append_printf (out, "%" G_GINT64_FORMAT, value);
      break;
    }
}

/**
 * model_program_describe:
 * @program: a program
 *
 * Returns: (transfer full): the program as text, one operation a line:
 *   its number, its thread, its name and its decoded arguments
 */
char *
model_program_describe (const ModelProgram *program)
{
  GString *out = g_string_new (NULL);

  g_string_append_printf (out, "%u driver thread(s), %u operation(s)\n",
                          program->n_threads, program->n_ops);
  for (guint i = 0; i < program->n_ops; i++)
    {
      const ModelOp *op = &program->ops[i];
      const ModelOpInfo *info = &model_ops[op->code];

      g_string_append_printf (out, "  %2u t%u %s", i, op->thread, info->name);
      for (guint a = 0; a < MODEL_N_ARGS; a++)
        if (info->fields[a] != F_NONE)
          describe_arg (out, info->fields[a], op->args[a]);
      g_string_append_c (out, '\n');
    }

  return g_string_free (out, FALSE);
}

const char *
model_behaviour_name (ModelBehaviour behaviour)
{
  return behaviour_names[behaviour];
}
