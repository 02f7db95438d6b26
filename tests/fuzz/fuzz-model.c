/* fuzz-model.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The libFuzzer target of the model (tests/model): each input is a
 * program, decoded and run on the real library by the same interpreter
 * as the seeded driver; a failed check aborts, which libFuzzer records
 * as a crash with its input.  Built with -Dfuzzing=true by clang, run by
 * .ci/fuzz.  A crash found here becomes a file of tests/fuzz/regressions,
 * which the suite "stress" replays (tests/model/meson.build). */

#include <stdio.h>
#include <stdlib.h>

#include "pmt-model.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  model_init ();

  return 0;
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autofree char *failures = NULL;
  ModelProgram program;

  model_program_decode (&program, data, size);
  if (!model_run (&program, "fuzzer input", NULL, &failures))
    {
      g_autofree char *text = model_program_describe (&program);

      fprintf (stderr, "FAILED\n%s%s", failures, text);
      abort ();
    }

  return 0;
}
