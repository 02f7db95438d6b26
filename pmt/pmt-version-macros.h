/* pmt-version-macros.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (PMT_INSIDE) && !defined (PMT_COMPILATION)
# error "Only <pmt.h> can be included directly."
#endif

#include <glib.h>

#ifndef _PMT_EXTERN
# define _PMT_EXTERN __attribute__((visibility ("default"))) extern
#endif

/**
 * PMT_AVAILABLE_IN_ALL:
 *
 * Marks a symbol as exported by libpmt in every version.
 */
#define PMT_AVAILABLE_IN_ALL _PMT_EXTERN
