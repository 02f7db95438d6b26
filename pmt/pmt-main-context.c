/* pmt-main-context.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "pmt-main-context-private.h"

/* Runs @func once on @context, from an idle source of default priority
 * named @static_name (a string that lives forever).
 *
 * An idle source, never g_main_context_invoke(): that would run @func
 * right here, on a worker, when nobody owns @context. */
void
_pmt_main_context_add_idle (GMainContext   *context,
                            const char     *static_name,
                            GSourceFunc     func,
                            gpointer        data,
                            GDestroyNotify  notify)
{
  GSource *source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_static_name (source, static_name);
  g_source_set_callback (source, func, data, notify);
  g_source_attach (source, context);
  g_source_unref (source);
}
