/* pmt-threaded-demo.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <pmt.h>

int
main (void)
{
  return 0;
}
