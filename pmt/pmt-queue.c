/* pmt-queue.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "pmt-deadline-private.h"
#include "pmt-queue-private.h"

/* 16 bytes: the sequence number wraps, and is compared as a distance,
 * which stays right while fewer than 2^31 pushes separate two items in
 * the queue. */
typedef struct
{
  gpointer item;
  gint priority;
  guint32 seq;
} Entry;

/* A binary heap, plus a FIFO lane for the priority most pushes use: the
 * lane takes pushes of its priority in O(1), and a pop takes whichever of
 * the two heads comes first by (priority, push order), so the order is
 * exact.  The lane adopts the priority of the first push it gets while
 * empty. */
struct _PmtQueue
{
  GMutex mutex;
  GCond cond;
  Entry *heap;
  guint length;             /* of the heap */
  guint allocated;
  Entry *lane;              /* a ring */
  guint lane_head;
  guint lane_length;
  guint lane_allocated;
  gint lane_priority;
  guint n_sleeping;   /* poppers blocked on cond */
  guint n_signalled;  /* of those, already woken and not yet running */
  guint32 next_seq;
};

#define MIN_ALLOCATED 64

static inline gboolean
entry_before (const Entry *a,
              const Entry *b)
{
  return a->priority < b->priority ||
         (a->priority == b->priority && (gint32)(a->seq - b->seq) < 0);
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
  g_free (queue->lane);
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

/* Grows or shrinks the ring, unwrapping it. */
static void
resize_lane (PmtQueue *queue,
             guint     allocated)
{
  Entry *lane = g_new (Entry, allocated);

  for (guint i = 0; i < queue->lane_length; i++)
    lane[i] = queue->lane[(queue->lane_head + i) % queue->lane_allocated];
  g_free (queue->lane);
  queue->lane = lane;
  queue->lane_head = 0;
  queue->lane_allocated = allocated;
}

static Entry *
lane_append (PmtQueue *queue)
{
  if (queue->lane_length == queue->lane_allocated)
    resize_lane (queue, MAX (MIN_ALLOCATED, queue->lane_allocated * 2));

  return &queue->lane[(queue->lane_head + queue->lane_length++) % queue->lane_allocated];
}

static Entry *
heap_append (PmtQueue *queue)
{
  if (queue->length == queue->allocated)
    resize (queue, MAX (MIN_ALLOCATED, queue->allocated * 2));

  return &queue->heap[queue->length];
}

void
_pmt_queue_push_unlocked (PmtQueue *queue,
                          gpointer  item,
                          gint      priority)
{
  gboolean in_lane;
  Entry *entry;

  g_assert (item != NULL);

  if (queue->lane_length == 0)
    queue->lane_priority = priority;
  in_lane = priority == queue->lane_priority;

  entry = in_lane ? lane_append (queue) : heap_append (queue);
  entry->item = item;
  entry->priority = priority;
  entry->seq = queue->next_seq++;
  if (!in_lane)
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

static gpointer
heap_pop (PmtQueue *queue)
{
  gpointer item = queue->heap[0].item;

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

static gpointer
lane_pop (PmtQueue *queue)
{
  gpointer item = queue->lane[queue->lane_head].item;

  queue->lane_head = (queue->lane_head + 1) % queue->lane_allocated;
  queue->lane_length--;

  if (queue->lane_allocated > MIN_ALLOCATED && queue->lane_length < queue->lane_allocated / 4)
    resize_lane (queue, queue->lane_allocated / 2);

  return item;
}

/* The item a pop would take, left in the queue. */
gpointer
_pmt_queue_peek_unlocked (PmtQueue *queue)
{
  if (queue->lane_length == 0)
    return queue->length > 0 ? queue->heap[0].item : NULL;

  if (queue->length > 0 && entry_before (&queue->heap[0], &queue->lane[queue->lane_head]))
    return queue->heap[0].item;

  return queue->lane[queue->lane_head].item;
}

gpointer
_pmt_queue_try_pop_unlocked (PmtQueue *queue)
{
  if (queue->lane_length == 0)
    return queue->length > 0 ? heap_pop (queue) : NULL;

  if (queue->length > 0 && entry_before (&queue->heap[0], &queue->lane[queue->lane_head]))
    return heap_pop (queue);

  return lane_pop (queue);
}

/* Blocks until a push or _pmt_queue_wake_all_unlocked() signals us, or
 * until @deadline (see pmt-deadline-private.h).  Returns FALSE when the
 * time ran out.  Spurious wake-ups return TRUE: callers loop on their own
 * predicate. */
gboolean
_pmt_queue_wait_unlocked (PmtQueue *queue,
                          gint64    deadline)
{
  gboolean woke;

  queue->n_sleeping++;
  woke = _pmt_cond_wait_until (&queue->cond, &queue->mutex, deadline);
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
  gint64 deadline = _pmt_deadline_from_timeout (timeout_usec);

  while (_pmt_queue_length_unlocked (queue) == 0)
    {
      if (timeout_usec == 0)
        return NULL;
      if (!_pmt_queue_wait_unlocked (queue, deadline) && _pmt_queue_length_unlocked (queue) == 0)
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
  return queue->length + queue->lane_length;
}

guint
_pmt_queue_length (PmtQueue *queue)
{
  guint length;

  g_mutex_lock (&queue->mutex);
  length = _pmt_queue_length_unlocked (queue);
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
