/* pmt-i18n.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE /* secure_getenv() */

#include "config.h"

#include <libintl.h>
#include <stdlib.h>
#include <unistd.h>

#include "pmt-i18n-private.h"

/* Where the catalogues are: the install directory, or $PMT_LOCALEDIR
 * when it is set, so that tests and programs run from the build tree find
 * the catalogues built there (po/<lang>/LC_MESSAGES/pmt-1.0.mo).  Ignored
 * in setuid and setgid programs: a catalogue holds the format strings of
 * printf-style calls. */
static const char *
pmt_locale_dir (void)
{
  const char *dir;

#ifdef HAVE_SECURE_GETENV
  dir = secure_getenv ("PMT_LOCALEDIR");
#else
  dir = getuid () == geteuid () && getgid () == getegid () ? getenv ("PMT_LOCALEDIR") : NULL;
#endif

  return dir != NULL && dir[0] != '\0' ? dir : LOCALEDIR;
}

const char *
_pmt_gettext (const char *msgid)
{
  static gsize initialized = 0;

  /* g_once_init_enter() orders the binding before every lookup, from
   * whichever thread makes the first message. */
  if (g_once_init_enter (&initialized))
    {
      bindtextdomain (GETTEXT_PACKAGE, pmt_locale_dir ());
      bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
      g_once_init_leave (&initialized, 1);
    }

  return g_dgettext (GETTEXT_PACKAGE, msgid);
}
