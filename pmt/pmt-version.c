/* pmt-version.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "pmt-i18n-private.h"
#include "pmt-version.h"

/**
 * pmt_get_major_version:
 *
 * Gets the major version of the Pmt library the program runs with, which
 * may differ from %PMT_MAJOR_VERSION, the version it was compiled against.
 *
 * Returns: the major version of the library Pmt programs run with
 */
guint
pmt_get_major_version (void)
{
  return PMT_MAJOR_VERSION;
}

/**
 * pmt_get_minor_version:
 *
 * Gets the minor version of the Pmt library the program runs with, which
 * may differ from %PMT_MINOR_VERSION, the version it was compiled against.
 *
 * Returns: the minor version of the library Pmt programs run with
 */
guint
pmt_get_minor_version (void)
{
  return PMT_MINOR_VERSION;
}

/**
 * pmt_get_micro_version:
 *
 * Gets the micro version of the Pmt library the program runs with, which
 * may differ from %PMT_MICRO_VERSION, the version it was compiled against.
 *
 * Returns: the micro version of the library Pmt programs run with
 */
guint
pmt_get_micro_version (void)
{
  return PMT_MICRO_VERSION;
}

/**
 * pmt_check_version:
 * @required_major: the required major version
 * @required_minor: the required minor version
 * @required_micro: the required micro version
 *
 * Checks at run time that the library is compatible with the given
 * version: same major version and at least the minor and micro given.
 *
 * Returns: (nullable): %NULL when compatible, or a static string that
 *   says why not; it must not be freed
 */
const char *
pmt_check_version (guint required_major,
                   guint required_minor,
                   guint required_micro)
{
  if (required_major != PMT_MAJOR_VERSION)
    return _("Pmt version mismatch (major versions differ)");
  if (required_minor > PMT_MINOR_VERSION)
    return _("Pmt version too old (minor mismatch)");
  if (required_minor == PMT_MINOR_VERSION && required_micro > PMT_MICRO_VERSION)
    return _("Pmt version too old (micro mismatch)");
  return NULL;
}
