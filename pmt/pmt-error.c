/* pmt-error.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "pmt-error.h"

/**
 * SECTION:pmt-error
 * @title: Errors
 * @short_description: The PMT_ERROR domain
 *
 * Run-time conditions that a correct program meets (a worker that stopped,
 * a timeout, a name in use) are reported as #GError in the %PMT_ERROR
 * domain; programming errors are criticals.
 */

G_DEFINE_QUARK (pmt-error-quark, pmt_error)
