/* pmt-i18n-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Binds the text domain on first use, so a message is never looked up
 * before bindtextdomain() ran, whichever class produces it first. */
const char *_pmt_gettext (const char *msgid) G_GNUC_FORMAT (1);

#define _(s) _pmt_gettext (s)
#define N_(s) (s)

G_END_DECLS
