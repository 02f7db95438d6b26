/* pmt-queue.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "pmt-queue-private.h"

typedef struct
{
  gpointer item;
  gint priority;
  guint64 seq;
} Entry;

struct _PmtQueue
{
  GMutex mutex;
  GCond cond;
  Entry *heap;
  guint length;
  guint allocated;
  guint n_sleeping;   /* poppers blocked on cond */
  guint n_signalled;  /* of those, already woken and not yet running */
  guint64 next_seq;
};

#define MIN_ALLOCATED 64

static inline gboolean
entry_before (const Entry *a,
              const Entry *b)
{
  return a->priority < b->priority || (a->priority == b->priority && a->seq < b->seq);
}

PmtQueue *
_pmt_queue_new (void)
{
  PmtQueue *queue = g_new0 (PmtQueue, 1);

  g_mutex_init (&queue->mutex);
  g_cond_init (&queue->cond);

  return queue;
}

void
_pmt_queue_free (PmtQueue *queue)
{
  g_assert (queue->n_sleeping == 0);

  g_free (queue->heap);
  g_mutex_clear (&queue->mutex);
  g_cond_clear (&queue->cond);
  g_free (queue);
}

void
_pmt_queue_lock (PmtQueue *queue)
{
  g_mutex_lock (&queue->mutex);
}

void
_pmt_queue_unlock (PmtQueue *queue)
{
  g_mutex_unlock (&queue->mutex);
}

GMutex *
_pmt_queue_get_mutex (PmtQueue *queue)
{
  return &queue->mutex;
}

static void
sift_up (Entry *heap,
         guint  i)
{
  Entry entry = heap[i];

  while (i > 0)
    {
      guint parent = (i - 1) / 2;

      if (!entry_before (&entry, &heap[parent]))
        break;
      heap[i] = heap[parent];
      i = parent;
    }
  heap[i] = entry;
}

static void
sift_down (Entry *heap,
           guint  length,
           guint  i)
{
  Entry entry = heap[i];

  for (;;)
    {
      guint child = 2 * i + 1;

      if (child >= length)
        break;
      if (child + 1 < length && entry_before (&heap[child + 1], &heap[child]))
        child++;
      if (!entry_before (&heap[child], &entry))
        break;
      heap[i] = heap[child];
      i = child;
    }
  heap[i] = entry;
}

static void
resize (PmtQueue *queue,
        guint     allocated)
{
  queue->heap = g_renew (Entry, queue->heap, allocated);
  queue->allocated = allocated;
}

void
_pmt_queue_push_unlocked (PmtQueue *queue,
                          gpointer  item,
                          gint      priority)
{
  Entry *entry;

  g_assert (item != NULL);

  if (queue->length == queue->allocated)
    resize (queue, MAX (MIN_ALLOCATED, queue->allocated * 2));

  entry = &queue->heap[queue->length];
  entry->item = item;
  entry->priority = priority;
  entry->seq = queue->next_seq++;
  sift_up (queue->heap, queue->length++);

  /* Wake a popper only if one sleeps that nobody woke yet. */
  if (queue->n_sleeping > queue->n_signalled)
    {
      queue->n_signalled++;
      g_cond_signal (&queue->cond);
    }
}

void
_pmt_queue_push (PmtQueue *queue,
                 gpointer  item,
                 gint      priority)
{
  g_mutex_lock (&queue->mutex);
  _pmt_queue_push_unlocked (queue, item, priority);
  g_mutex_unlock (&queue->mutex);
}

gpointer
_pmt_queue_try_pop_unlocked (PmtQueue *queue)
{
  gpointer item;

  if (queue->length == 0)
    return NULL;

  item = queue->heap[0].item;
  if (--queue->length > 0)
    {
      queue->heap[0] = queue->heap[queue->length];
      sift_down (queue->heap, queue->length, 0);
    }

  /* Give memory back after a burst. */
  if (queue->allocated > MIN_ALLOCATED && queue->length < queue->allocated / 4)
    resize (queue, queue->allocated / 2);

  return item;
}

/* Blocks until a push or _pmt_queue_wake_all_unlocked() signals us, or
 * until @end_time (monotonic; negative: no end).  Returns FALSE when the
 * time ran out.  Spurious wake-ups return TRUE: callers loop on their own
 * predicate. */
gboolean
_pmt_queue_wait_unlocked (PmtQueue *queue,
                          gint64    end_time)
{
  gboolean woke = TRUE;

  queue->n_sleeping++;
  if (end_time < 0)
    g_cond_wait (&queue->cond, &queue->mutex);
  else
    woke = g_cond_wait_until (&queue->cond, &queue->mutex, end_time);
  queue->n_sleeping--;

  /* Whoever leaves counts as one signal consumed: at worst the next push
   * signals once more than needed, never once too few. */
  if (queue->n_signalled > 0)
    queue->n_signalled--;
  if (queue->n_signalled > queue->n_sleeping)
    queue->n_signalled = queue->n_sleeping;

  return woke;
}

/* Waits for an item; negative @timeout_usec waits forever. */
gpointer
_pmt_queue_timeout_pop_unlocked (PmtQueue *queue,
                                 gint64    timeout_usec)
{
  gint64 end_time = timeout_usec > 0 ? g_get_monotonic_time () + timeout_usec : -1;

  while (queue->length == 0)
    {
      if (timeout_usec == 0)
        return NULL;
      if (!_pmt_queue_wait_unlocked (queue, end_time) && queue->length == 0)
        return NULL;
    }

  return _pmt_queue_try_pop_unlocked (queue);
}

gpointer
_pmt_queue_pop (PmtQueue *queue)
{
  return _pmt_queue_timeout_pop (queue, -1);
}

gpointer
_pmt_queue_timeout_pop (PmtQueue *queue,
                        gint64    timeout_usec)
{
  gpointer item;

  g_mutex_lock (&queue->mutex);
  item = _pmt_queue_timeout_pop_unlocked (queue, timeout_usec);
  g_mutex_unlock (&queue->mutex);

  return item;
}

gpointer
_pmt_queue_try_pop (PmtQueue *queue)
{
  return _pmt_queue_timeout_pop (queue, 0);
}

guint
_pmt_queue_length_unlocked (PmtQueue *queue)
{
  return queue->length;
}

guint
_pmt_queue_length (PmtQueue *queue)
{
  guint length;

  g_mutex_lock (&queue->mutex);
  length = queue->length;
  g_mutex_unlock (&queue->mutex);

  return length;
}

/* Wakes every blocked popper, for callers that changed a condition the
 * poppers check besides the queue (a shutdown, a lower worker limit). */
void
_pmt_queue_wake_all_unlocked (PmtQueue *queue)
{
  queue->n_signalled = queue->n_sleeping;
  g_cond_broadcast (&queue->cond);
}
