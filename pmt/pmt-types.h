/* pmt-types.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (PMT_INSIDE) && !defined (PMT_COMPILATION)
# error "Only <pmt.h> can be included directly."
#endif

#include <glib.h>

G_BEGIN_DECLS

/* Forward declarations, so each class header can name the others. */
typedef struct _PmtCompletionQueue PmtCompletionQueue;
typedef struct _PmtLimiter PmtLimiter;
typedef struct _PmtPool    PmtPool;
typedef struct _PmtTask    PmtTask;
typedef struct _PmtThreaded PmtThreaded;
typedef struct _PmtWorker  PmtWorker;

G_END_DECLS
