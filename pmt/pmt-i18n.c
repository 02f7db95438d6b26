/* pmt-i18n.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE /* secure_getenv() */

#include "config.h"

#include <libintl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pmt-i18n-private.h"

/* $PMT_LOCALEDIR, when set, names the directory of the catalogues, so
 * that tests and programs run from the build tree find the ones built
 * there (po/<lang>/LC_MESSAGES/pmt-1.0.mo).  Ignored in setuid and setgid
 * programs: a catalogue holds the format strings of printf-style calls. */
static const char *
pmt_locale_dir_from_env (void)
{
  const char *dir;

#ifdef HAVE_SECURE_GETENV
  dir = secure_getenv ("PMT_LOCALEDIR");
#else
  dir = getuid () == geteuid () && getgid () == getegid () ? getenv ("PMT_LOCALEDIR") : NULL;
#endif

  return dir != NULL && dir[0] != '\0' ? dir : NULL;
}

/* Whether the program bound the domain itself before the library's first
 * message, as one that shares the domain (the uninstalled demo) does:
 * then the library keeps that binding.  bindtextdomain (domain, NULL)
 * gives the directory bound to the domain, or gettext's default when
 * nobody bound it, which a domain nobody uses shows. */
static gboolean
pmt_domain_is_bound (void)
{
  const char *ours = bindtextdomain (GETTEXT_PACKAGE, NULL);
  const char *unbound = bindtextdomain (GETTEXT_PACKAGE "-unbound", NULL);

  return ours != NULL && unbound != NULL && strcmp (ours, unbound) != 0;
}

const char *
_pmt_gettext (const char *msgid)
{
  static gsize initialized = 0;

  /* g_once_init_enter() orders the binding before every lookup, from
   * whichever thread makes the first message. */
  if (g_once_init_enter (&initialized))
    {
      const char *dir = pmt_locale_dir_from_env ();

      if (dir != NULL)
        bindtextdomain (GETTEXT_PACKAGE, dir);
      else if (!pmt_domain_is_bound ())
        bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
      bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
      g_once_init_leave (&initialized, 1);
    }

  return g_dgettext (GETTEXT_PACKAGE, msgid);
}
