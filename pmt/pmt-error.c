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
 * |[<!-- language="C" -->
 * if (!pmt_pool_push (pool, task, &error))
 *   {
 *     if (g_error_matches (error, PMT_ERROR, PMT_ERROR_STOPPED))
 *       g_debug ("shutting down: %s", error->message);   // the task was left untouched
 *     else
 *       g_warning ("%s", error->message);
 *   }
 * ]|
 *
 * Run-time conditions that a correct program meets (a worker that stopped,
 * a timeout, a name in use) are reported as #GError in the %PMT_ERROR
 * domain; programming errors are criticals.
 *
 * Messages are translated in the `pmt-1.0` gettext domain, which the
 * library binds to its install locale directory before its first message.
 * An application calls `setlocale (LC_ALL, "")` as usual.  When the
 * environment variable `PMT_LOCALEDIR` is set, the library reads its
 * catalogues from that directory instead (for example the build tree's
 * `po/`, where tests and programs run uninstalled find
 * `de/LC_MESSAGES/pmt-1.0.mo`); setuid and setgid programs ignore it.
 * A program that binds the `pmt-1.0` domain itself before the library's
 * first message keeps its binding.
 */

/* Not G_DEFINE_QUARK: its lazy static is written without
 * synchronisation, and the first errors may come from several workers at
 * once. */
GQuark
pmt_error_quark (void)
{
  static gsize quark = 0;

  if (g_once_init_enter (&quark))
    g_once_init_leave (&quark, g_quark_from_static_string ("pmt-error-quark"));

  return (GQuark)quark;
}
