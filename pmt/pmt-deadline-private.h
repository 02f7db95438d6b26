/* pmt-deadline-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Every wait of Pmt turns its timeout into a deadline here, once.
 *
 * A deadline is a time of g_get_monotonic_time(), or PMT_DEADLINE_NEVER.
 * A negative timeout waits forever; 0 makes a deadline that has passed
 * already (a poll); a timeout too large to add to the clock means forever
 * too, instead of overflowing into the past. */
#define PMT_DEADLINE_NEVER ((gint64) -1)

static inline gint64
_pmt_deadline_from_timeout (gint64 timeout_usec)
{
  gint64 now;

  if (timeout_usec < 0)
    return PMT_DEADLINE_NEVER;

  now = g_get_monotonic_time ();
  if (timeout_usec > G_MAXINT64 - now)
    return PMT_DEADLINE_NEVER;

  return now + timeout_usec;
}

/* The time left until @deadline, as a timeout: -1 for never, 0 once it
 * passed. */
static inline gint64
_pmt_deadline_remaining (gint64 deadline)
{
  if (deadline == PMT_DEADLINE_NEVER)
    return -1;

  return MAX (deadline - g_get_monotonic_time (), 0);
}

/* g_cond_wait() or g_cond_wait_until() by @deadline: FALSE once it
 * passed.  Wakes spuriously like both; callers test their condition. */
static inline gboolean
_pmt_cond_wait_until (GCond   *cond,
                      GMutex  *mutex,
                      gint64   deadline)
{
  if (deadline == PMT_DEADLINE_NEVER)
    {
      g_cond_wait (cond, mutex);
      return TRUE;
    }

  return g_cond_wait_until (cond, mutex, deadline);
}

G_END_DECLS
