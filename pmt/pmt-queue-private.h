/* pmt-queue-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A priority queue with GAsyncQueue's locking semantics: every call has a
 * locked form and an _unlocked form for callers holding the queue's lock.
 * Items come out by (priority, push order): lower priorities first, equal
 * priorities first in, first out.  A binary heap: push and pop cost
 * O(log n), unlike g_async_queue_push_sorted(), which is linear.
 *
 * Poppers that block are woken only when one sleeps and has not been
 * signalled already, sparing a push the futex wake it mostly does not
 * need. */
typedef struct _PmtQueue PmtQueue;

PmtQueue *_pmt_queue_new                   (void);
void      _pmt_queue_free                  (PmtQueue *queue);

void      _pmt_queue_lock                  (PmtQueue *queue);
void      _pmt_queue_unlock                (PmtQueue *queue);
GMutex   *_pmt_queue_get_mutex             (PmtQueue *queue);

void      _pmt_queue_push                  (PmtQueue *queue,
                                            gpointer  item,
                                            gint      priority);
void      _pmt_queue_push_unlocked         (PmtQueue *queue,
                                            gpointer  item,
                                            gint      priority);
gpointer  _pmt_queue_pop                   (PmtQueue *queue);
gpointer  _pmt_queue_timeout_pop           (PmtQueue *queue,
                                            gint64    timeout_usec);
gpointer  _pmt_queue_try_pop               (PmtQueue *queue);
gpointer  _pmt_queue_try_pop_unlocked      (PmtQueue *queue);
gpointer  _pmt_queue_peek_unlocked         (PmtQueue *queue);
gpointer  _pmt_queue_timeout_pop_unlocked  (PmtQueue *queue,
                                            gint64    timeout_usec);
guint     _pmt_queue_length                (PmtQueue *queue);
guint     _pmt_queue_length_unlocked       (PmtQueue *queue);
gboolean  _pmt_queue_wait_unlocked         (PmtQueue *queue,
                                            gint64    deadline);
void      _pmt_queue_wake_all_unlocked     (PmtQueue *queue);

G_END_DECLS
