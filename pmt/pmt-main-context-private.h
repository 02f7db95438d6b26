/* pmt-main-context-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

void _pmt_main_context_add_idle (GMainContext   *context,
                                 const char     *static_name,
                                 GSourceFunc     func,
                                 gpointer        data,
                                 GDestroyNotify  notify);

G_END_DECLS
