/* pmt-pool-notify.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "pmt-main-context-private.h"
#include "pmt-pool-private.h"

/* The monitoring properties (n-queued, n-succeeded, …) change with every
 * task, so their notify must cost nothing while nobody listens, and miss
 * nothing for those who do.
 *
 * A change sets its property's bit in pending_notify and flushes: the
 * pending bits are taken at once and emitted, in the calling thread or,
 * with a main context, from one idle source there.  Changes that come
 * while bits are pending join them: emissions are coalesced, and a
 * handler reading the property sees the latest value.
 *
 * Whether anybody listens is asked of GLib (a global lock and a lookup,
 * dearer than the changes themselves), and remembered once somebody does.
 * While nobody did at the last look, a flush leaves the bits pending.  A
 * change of a setting (the state, the worker bounds…: rare) always looks
 * again.  A change of a counter whose bit is pending already costs two
 * loads, and looks again only every LOOK_EVERY changes made by the same
 * thread (counted per thread: a shared count would bounce between the
 * CPUs on every change); the pool also looks when it settles (no
 * unfinished work, or it stopped).  So a handler connected before the
 * pool gets work sees every change, and one connected while it is busy
 * is noticed within LOOK_EVERY counter changes of a thread and gets the
 * settled values at the latest. */
#define LOOK_EVERY 256

#define COUNTER_BITS (PMT_POOL_BIT (PMT_POOL_PROP_N_WORKERS) |                \
                      PMT_POOL_BIT (PMT_POOL_PROP_N_BUSY_WORKERS) |           \
                      PMT_POOL_BIT (PMT_POOL_PROP_N_QUEUED) |                 \
                      PMT_POOL_BIT (PMT_POOL_PROP_N_UNFINISHED) |             \
                      PMT_POOL_BIT (PMT_POOL_PROP_N_SUBMITTED) |              \
                      PMT_POOL_BIT (PMT_POOL_PROP_N_SUCCEEDED) |              \
                      PMT_POOL_BIT (PMT_POOL_PROP_N_FAILED) |                 \
                      PMT_POOL_BIT (PMT_POOL_PROP_N_CANCELLED))

enum {
  NOBODY_SEEN,
  SOMEBODY_LISTENS,
};

static GParamSpec **pool_properties;
static guint notify_signal_id;
static PMT_THREAD_LOCAL guint changes_unseen;

/* Called once, from the class initialisation. */
void
_pmt_pool_class_init_notify (GParamSpec **properties)
{
  pool_properties = properties;
  notify_signal_id = g_signal_lookup ("notify", G_TYPE_OBJECT);
}

static gboolean
somebody_listens (PmtPool *self)
{
  if (g_atomic_int_get (&self->listening) == SOMEBODY_LISTENS)
    return TRUE;

  /* Any handler of notify, whatever its detail (which
   * g_signal_has_handler_pending() would match exactly). */
  if (g_signal_handler_find (self, G_SIGNAL_MATCH_ID, notify_signal_id, 0, NULL, NULL, NULL) == 0)
    return FALSE;

  g_atomic_int_set (&self->listening, SOMEBODY_LISTENS);
  return TRUE;
}

static void
emit_pending (PmtPool *self)
{
  guint mask = (guint) g_atomic_int_and (&self->pending_notify, 0);

  while (mask != 0)
    {
      guint prop = g_bit_nth_lsf (mask, -1);

      mask &= ~PMT_POOL_BIT (prop);
      g_object_notify_by_pspec ((GObject *) self, pool_properties[prop]);
    }
}

static gboolean
emit_pending_idle (gpointer data)
{
  PmtPool *self = data;

  /* Cleared first: a change from now on schedules another emission. */
  g_atomic_int_set (&self->notify_scheduled, FALSE);
  emit_pending (self);

  return G_SOURCE_REMOVE;
}

static void
flush (PmtPool *self)
{
  if (!somebody_listens (self))
    return;

  if (self->main_context == NULL)
    emit_pending (self);
  else if (g_atomic_int_compare_and_exchange (&self->notify_scheduled, FALSE, TRUE))
    _pmt_main_context_add_idle (self->main_context, "[pmt] pool notify",
                                emit_pending_idle, g_object_ref (self), g_object_unref);
}

void
_pmt_pool_notify (PmtPool *self,
                  guint    mask)
{
  if (mask == 0)
    return;

  /* Only counters, nothing new to tell, and nobody was there to tell at
   * the last look. */
  if ((mask & ~COUNTER_BITS) == 0 &&
      (g_atomic_int_get (&self->pending_notify) & mask) == mask &&
      g_atomic_int_get (&self->listening) == NOBODY_SEEN &&
      (++changes_unseen % LOOK_EVERY) != 0)
    return;

  g_atomic_int_or (&self->pending_notify, mask);
  flush (self);
}

void
_pmt_pool_notify_settled (PmtPool *self)
{
  if (g_atomic_int_get (&self->pending_notify) != 0)
    flush (self);
}
