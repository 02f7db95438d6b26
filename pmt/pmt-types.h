/* pmt-types.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (PMT_INSIDE) && !defined (PMT_COMPILATION)
# error "Only <pmt.h> can be included directly."
#endif

#include <glib-object.h>

#include "pmt-version-macros.h"

G_BEGIN_DECLS

/* Forward declarations, so each class header can name the others. */
typedef struct _PmtCommandTask PmtCommandTask;
typedef struct _PmtCompletionQueue PmtCompletionQueue;
typedef struct _PmtLimiter PmtLimiter;
typedef struct _PmtPool    PmtPool;
typedef struct _PmtTask    PmtTask;
typedef struct _PmtThreaded PmtThreaded;
typedef struct _PmtWorker  PmtWorker;

/* The GTypes of the classes that lower layers name without using them
 * (as the type of a property), declared again by their own headers:
 * hidden from the introspection scanner, which wants one declaration. */
#ifndef __GI_SCANNER__
PMT_AVAILABLE_IN_ALL
GType pmt_pool_get_type   (void);
PMT_AVAILABLE_IN_ALL
GType pmt_worker_get_type (void);
#endif

G_END_DECLS
