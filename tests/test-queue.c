/* test-queue.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <glib.h>

#include "pmt-queue-private.h"
#include "pmt-test-utils.h"

/* A bound on every wait that should end at once, so that a lost wake-up
 * fails the test instead of hanging it. */
#define SAFETY_TIMEOUT_USEC PMT_TEST_SAFETY_TIMEOUT_USEC

/* Items are never NULL: NULL means "nothing" to the queue.  An item is the
 * index of its push plus one. */
#define ITEM(i)       GUINT_TO_POINTER ((guint) (i) + 1)
#define ITEM_INDEX(p) (GPOINTER_TO_UINT (p) - 1)

/* An item as the reference model sees it: its priority and the order of
 * its push, which breaks ties. */
typedef struct
{
  gint priority;
  guint index;
} RefEntry;

static gint
ref_entry_compare (gconstpointer a,
                   gconstpointer b,
                   gpointer      user_data)
{
  const RefEntry *ea = a;
  const RefEntry *eb = b;

  if (ea->priority != eb->priority)
    return ea->priority < eb->priority ? -1 : 1;
  if (ea->index != eb->index)
    return ea->index < eb->index ? -1 : 1;
  return 0;
}

/* A few distinct priorities, so that most items tie with many others. */
static gint
random_priority (void)
{
  return g_test_rand_int_range (-2, 3);
}

/* ------------------------------------------------------------------ */

static void
check_order (guint    size,
             gboolean few_priorities)
{
  PmtQueue *queue = _pmt_queue_new ();
  RefEntry *reference = g_new (RefEntry, size);
  gint *priorities = g_new (gint, size);

  for (guint i = 0; i < size; i++)
    {
      priorities[i] = few_priorities ? random_priority () : (gint) g_test_rand_int ();
      reference[i].priority = priorities[i];
      reference[i].index = i;
      _pmt_queue_push (queue, ITEM (i), priorities[i]);
      g_assert_cmpuint (_pmt_queue_length (queue), ==, i + 1);
    }

  /* The order is total (no two entries compare equal), so any sort gives
   * the one right answer. */
  g_qsort_with_data (reference, size, sizeof (RefEntry), ref_entry_compare, NULL);

  for (guint i = 0; i < size; i++)
    {
      gpointer item = _pmt_queue_try_pop (queue);

      g_assert_nonnull (item);
      g_assert_cmpuint (ITEM_INDEX (item), <, size);
      if (ITEM_INDEX (item) != reference[i].index)
        g_error ("pop %u of %u: got item %u (priority %d), expected item %u (priority %d)",
                 i, size, ITEM_INDEX (item), priorities[ITEM_INDEX (item)],
                 reference[i].index, reference[i].priority);
      g_assert_cmpuint (_pmt_queue_length (queue), ==, size - i - 1);
    }

  g_assert_null (_pmt_queue_try_pop (queue));
  g_assert_cmpuint (_pmt_queue_length (queue), ==, 0);

  g_free (priorities);
  g_free (reference);
  _pmt_queue_free (queue);
}

/* Few distinct priorities (many ties: first in, first out among them),
 * then priorities over the whole range of gint. */
static void
test_order_sizes (gconstpointer data)
{
  guint size = GPOINTER_TO_UINT (data);

  check_order (size, TRUE);
  check_order (size, FALSE);
}

static void
test_order_fifo_among_equals (void)
{
  PmtQueue *queue = _pmt_queue_new ();

  for (guint i = 0; i < 1000; i++)
    _pmt_queue_push (queue, ITEM (i), 7);
  for (guint i = 0; i < 1000; i++)
    g_assert_cmpuint (ITEM_INDEX (_pmt_queue_pop (queue)), ==, i);
  g_assert_null (_pmt_queue_try_pop (queue));

  _pmt_queue_free (queue);
}

static void
test_order_extreme_priorities (void)
{
  static const gint priorities[] = {
    G_MAXINT, 0, G_MININT, -1, 1, G_MAXINT, G_MININT, G_MININT + 1, G_MAXINT - 1, 0,
  };
  static const guint expected[] = { 2, 6, 7, 3, 1, 9, 4, 8, 0, 5 };
  PmtQueue *queue = _pmt_queue_new ();

  G_STATIC_ASSERT (G_N_ELEMENTS (priorities) == G_N_ELEMENTS (expected));

  for (guint i = 0; i < G_N_ELEMENTS (priorities); i++)
    _pmt_queue_push (queue, ITEM (i), priorities[i]);
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_cmpuint (ITEM_INDEX (_pmt_queue_pop (queue)), ==, expected[i]);
  g_assert_null (_pmt_queue_try_pop (queue));

  _pmt_queue_free (queue);
}

/* Random pushes and pops, checked against a GSequence sorted by (priority,
 * push order), in phases that grow the queue and drain it again, so that
 * the queue also grows and shrinks its storage on the way.  Few distinct
 * priorities make long runs of one priority (a queue may keep those apart,
 * in a FIFO ring) and frequent switches between them. */
typedef struct
{
  guint n_priorities;
  guint n_phases;
  guint ops_per_phase;
} InterleavedCase;

static void
test_interleaved (gconstpointer data)
{
  const InterleavedCase *test_case = data;
  PmtQueue *queue = _pmt_queue_new ();
  GSequence *reference = g_sequence_new (g_free);
  guint next_index = 0;
  guint n_ops = 0;

  for (guint phase = 0; phase < test_case->n_phases; phase++)
    {
      /* Pushes win in even phases, pops in odd ones. */
      gdouble push_chance = phase % 2 == 0 ? 0.7 : 0.3;

      for (guint op = 0; op < test_case->ops_per_phase; op++, n_ops++)
        {
          if (g_test_rand_double () < push_chance)
            {
              RefEntry *entry = g_new (RefEntry, 1);

              entry->priority = g_test_rand_int_range (0, test_case->n_priorities);
              entry->index = next_index++;
              g_sequence_insert_sorted (reference, entry, ref_entry_compare, NULL);
              _pmt_queue_push (queue, ITEM (entry->index), entry->priority);
            }
          else
            {
              GSequenceIter *first = g_sequence_get_begin_iter (reference);
              gpointer item = _pmt_queue_try_pop (queue);

              if (g_sequence_iter_is_end (first))
                {
                  g_assert_null (item);
                  continue;
                }

              g_assert_nonnull (item);
              if (ITEM_INDEX (item) != ((RefEntry *) g_sequence_get (first))->index)
                g_error ("operation %u: popped item %u, expected item %u",
                         n_ops, ITEM_INDEX (item), ((RefEntry *) g_sequence_get (first))->index);
              g_sequence_remove (first);
            }

          g_assert_cmpuint (_pmt_queue_length (queue), ==, g_sequence_get_length (reference));
        }
    }

  /* Drain what is left. */
  while (g_sequence_get_length (reference) > 0)
    {
      GSequenceIter *first = g_sequence_get_begin_iter (reference);

      g_assert_cmpuint (ITEM_INDEX (_pmt_queue_try_pop (queue)), ==,
                        ((RefEntry *) g_sequence_get (first))->index);
      g_sequence_remove (first);
    }
  g_assert_null (_pmt_queue_try_pop (queue));
  g_assert_cmpuint (_pmt_queue_length (queue), ==, 0);

  g_sequence_free (reference);
  _pmt_queue_free (queue);
}

/* One priority at a time, switching: each run of pushes is popped only in
 * part before the next run, of another priority, starts; items of the
 * old priority stay queued behind or ahead of the new ones. */
static void
test_order_priority_switches (void)
{
  static const gint runs[] = { 5, 3, 5, 3, 3, 7, 1, 5, 1, 1 };
  PmtQueue *queue = _pmt_queue_new ();
  GSequence *reference = g_sequence_new (g_free);
  guint next_index = 0;

  for (guint round = 0; round < 3; round++)
    {
      for (guint r = 0; r < G_N_ELEMENTS (runs); r++)
        {
          /* Runs longer than any small initial allocation. */
          guint n_push = 50 + 37 * r;

          for (guint i = 0; i < n_push; i++)
            {
              RefEntry *entry = g_new (RefEntry, 1);

              entry->priority = runs[r];
              entry->index = next_index++;
              g_sequence_insert_sorted (reference, entry, ref_entry_compare, NULL);
              _pmt_queue_push (queue, ITEM (entry->index), entry->priority);
            }

          for (guint i = 0; i < n_push / 2 + r; i++)
            {
              GSequenceIter *first = g_sequence_get_begin_iter (reference);

              g_assert_false (g_sequence_iter_is_end (first));
              g_assert_cmpuint (ITEM_INDEX (_pmt_queue_try_pop (queue)), ==,
                                ((RefEntry *) g_sequence_get (first))->index);
              g_sequence_remove (first);
            }
          g_assert_cmpuint (_pmt_queue_length (queue), ==, g_sequence_get_length (reference));
        }
    }

  while (g_sequence_get_length (reference) > 0)
    {
      GSequenceIter *first = g_sequence_get_begin_iter (reference);

      g_assert_cmpuint (ITEM_INDEX (_pmt_queue_try_pop (queue)), ==,
                        ((RefEntry *) g_sequence_get (first))->index);
      g_sequence_remove (first);
    }
  g_assert_null (_pmt_queue_try_pop (queue));

  g_sequence_free (reference);
  _pmt_queue_free (queue);
}

/* A single priority with pushes and pops interleaved, so that items go
 * round any ring buffer many times, across its growing and shrinking:
 * strictly first in, first out. */
static void
test_order_fifo_interleaved (void)
{
  PmtQueue *queue = _pmt_queue_new ();
  guint next_push = 0, next_pop = 0;

  for (guint round = 0; round < 20; round++)
    {
      /* Grow by 2 per 3 pushes up to a size that varies per round, then
       * shrink by 2 per 3 pops down to nearly nothing. */
      guint target = 10 + round * 97 % 700;

      while (_pmt_queue_length (queue) < target)
        {
          for (guint i = 0; i < 3; i++)
            _pmt_queue_push (queue, ITEM (next_push++), -4);
          g_assert_cmpuint (ITEM_INDEX (_pmt_queue_pop (queue)), ==, next_pop++);
        }
      while (_pmt_queue_length (queue) > 3)
        {
          _pmt_queue_push (queue, ITEM (next_push++), -4);
          for (guint i = 0; i < 3; i++)
            g_assert_cmpuint (ITEM_INDEX (_pmt_queue_try_pop (queue)), ==, next_pop++);
        }
    }
  while (next_pop < next_push)
    g_assert_cmpuint (ITEM_INDEX (_pmt_queue_try_pop (queue)), ==, next_pop++);
  g_assert_null (_pmt_queue_try_pop (queue));

  _pmt_queue_free (queue);
}

/* The _unlocked forms under the queue's own lock, and the lock being the
 * mutex _pmt_queue_get_mutex() returns. */
static gpointer
trylock_thread (gpointer data)
{
  GMutex *mutex = data;

  if (!g_mutex_trylock (mutex))
    return GINT_TO_POINTER (FALSE);
  g_mutex_unlock (mutex);

  return GINT_TO_POINTER (TRUE);
}

static void
test_unlocked (void)
{
  PmtQueue *queue = _pmt_queue_new ();
  GMutex *mutex = _pmt_queue_get_mutex (queue);
  GThread *thread;

  g_assert_nonnull (mutex);

  _pmt_queue_lock (queue);

  /* The lock is held: nobody else gets the mutex. */
  thread = g_thread_new ("pmt-t-trylock", trylock_thread, mutex);
  g_assert_false (GPOINTER_TO_INT (g_thread_join (thread)));

  g_assert_cmpuint (_pmt_queue_length_unlocked (queue), ==, 0);
  g_assert_null (_pmt_queue_try_pop_unlocked (queue));
  g_assert_null (_pmt_queue_timeout_pop_unlocked (queue, 0));

  _pmt_queue_push_unlocked (queue, ITEM (0), 5);
  _pmt_queue_push_unlocked (queue, ITEM (1), -5);
  _pmt_queue_push_unlocked (queue, ITEM (2), 5);
  _pmt_queue_push_unlocked (queue, ITEM (3), -5);
  g_assert_cmpuint (_pmt_queue_length_unlocked (queue), ==, 4);

  g_assert_cmpuint (ITEM_INDEX (_pmt_queue_try_pop_unlocked (queue)), ==, 1);
  g_assert_cmpuint (ITEM_INDEX (_pmt_queue_timeout_pop_unlocked (queue, 0)), ==, 3);
  g_assert_cmpuint (ITEM_INDEX (_pmt_queue_timeout_pop_unlocked (queue, -1)), ==, 0);
  g_assert_cmpuint (_pmt_queue_length_unlocked (queue), ==, 1);

  _pmt_queue_unlock (queue);

  thread = g_thread_new ("pmt-t-trylock", trylock_thread, mutex);
  g_assert_true (GPOINTER_TO_INT (g_thread_join (thread)));

  /* The same mutex, taken directly, guards the _unlocked forms too. */
  g_mutex_lock (mutex);
  g_assert_cmpuint (ITEM_INDEX (_pmt_queue_try_pop_unlocked (queue)), ==, 2);
  g_assert_cmpuint (_pmt_queue_length_unlocked (queue), ==, 0);
  g_mutex_unlock (mutex);

  _pmt_queue_free (queue);
}

static void
test_timeout_pop_empty_zero (void)
{
  PmtQueue *queue = _pmt_queue_new ();
  gint64 start = g_get_monotonic_time ();

  g_assert_null (_pmt_queue_timeout_pop (queue, 0));
  g_assert_null (_pmt_queue_try_pop (queue));

  /* "At once": far below any timeout anyone would wait for. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);

  _pmt_queue_free (queue);
}

static void
test_timeout_pop_empty_timeout (void)
{
  PmtQueue *queue = _pmt_queue_new ();
  gint64 start = g_get_monotonic_time ();

  g_assert_null (_pmt_queue_timeout_pop (queue, 50 * 1000));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 50 * 1000);
  g_assert_cmpuint (_pmt_queue_length (queue), ==, 0);

  _pmt_queue_free (queue);
}

static void
test_timeout_pop_item_waiting (void)
{
  PmtQueue *queue = _pmt_queue_new ();

  _pmt_queue_push (queue, ITEM (42), 0);
  g_assert_cmpuint (ITEM_INDEX (_pmt_queue_timeout_pop (queue, 0)), ==, 42);
  _pmt_queue_push (queue, ITEM (43), 0);
  g_assert_cmpuint (ITEM_INDEX (_pmt_queue_timeout_pop (queue, 50 * 1000)), ==, 43);
  g_assert_null (_pmt_queue_timeout_pop (queue, 0));

  _pmt_queue_free (queue);
}

/* _pmt_queue_wait_unlocked() with nothing happening returns FALSE once its
 * end time passed, and not before (spurious wake-ups return TRUE). */
static void
test_wait_unlocked_timeout (void)
{
  PmtQueue *queue = _pmt_queue_new ();
  gint64 end_time = g_get_monotonic_time () + 20 * 1000;

  _pmt_queue_lock (queue);
  while (_pmt_queue_wait_unlocked (queue, end_time))
    g_assert_cmpint (g_get_monotonic_time (), <, end_time + SAFETY_TIMEOUT_USEC);
  g_assert_cmpint (g_get_monotonic_time (), >=, end_time);
  _pmt_queue_unlock (queue);

  _pmt_queue_free (queue);
}

/* ------------------------------------------------------------------ */

/* Consumers that tell the test they are asleep in the queue.  A consumer
 * takes the queue's lock, counts itself in @n_ready (guarded by that lock)
 * and blocks in the queue without dropping the lock in between: once the
 * test holds the lock and sees every consumer counted, every one of them
 * is inside its wait.  No sleeping needed. */
typedef struct
{
  PmtQueue *queue;
  GCond ready_cond;        /* with the queue's mutex */
  guint n_ready;           /* guarded by the queue's mutex */
  gboolean stop;           /* guarded by the queue's mutex */

  GMutex done_mutex;
  GCond done_cond;
  guint n_done;
  GPtrArray *popped;       /* guarded by done_mutex */
  guint n_lost;            /* guarded by done_mutex */
} Sleepers;

static void
sleepers_init (Sleepers *sleepers)
{
  sleepers->queue = _pmt_queue_new ();
  g_cond_init (&sleepers->ready_cond);
  sleepers->n_ready = 0;
  sleepers->stop = FALSE;
  g_mutex_init (&sleepers->done_mutex);
  g_cond_init (&sleepers->done_cond);
  sleepers->n_done = 0;
  sleepers->popped = g_ptr_array_new ();
  sleepers->n_lost = 0;
}

static void
sleepers_clear (Sleepers *sleepers)
{
  _pmt_queue_free (sleepers->queue);
  g_cond_clear (&sleepers->ready_cond);
  g_mutex_clear (&sleepers->done_mutex);
  g_cond_clear (&sleepers->done_cond);
  g_ptr_array_unref (sleepers->popped);
}

/* Called by a consumer with the queue's lock held, right before it
 * blocks. */
static void
sleepers_mark_ready_unlocked (Sleepers *sleepers)
{
  sleepers->n_ready++;
  g_cond_broadcast (&sleepers->ready_cond);
}

/* Returns with the queue's lock held and @n consumers asleep in it. */
static void
sleepers_lock_when_ready (Sleepers *sleepers,
                          guint     n)
{
  gint64 end_time = g_get_monotonic_time () + SAFETY_TIMEOUT_USEC;
  GMutex *mutex = _pmt_queue_get_mutex (sleepers->queue);

  _pmt_queue_lock (sleepers->queue);
  while (sleepers->n_ready < n)
    {
      if (!g_cond_wait_until (&sleepers->ready_cond, mutex, end_time))
        break;
    }
  g_assert_cmpuint (sleepers->n_ready, ==, n);
}

static void
sleepers_report (Sleepers *sleepers,
                 gpointer  item)
{
  g_mutex_lock (&sleepers->done_mutex);
  if (item != NULL)
    g_ptr_array_add (sleepers->popped, item);
  else
    sleepers->n_lost++;
  sleepers->n_done++;
  g_cond_broadcast (&sleepers->done_cond);
  g_mutex_unlock (&sleepers->done_mutex);
}

/* Waits, bounded, until @n consumers reported; FALSE if they did not. */
static gboolean
sleepers_wait_done (Sleepers *sleepers,
                    guint     n)
{
  return pmt_test_wait_uint (&sleepers->done_mutex, &sleepers->done_cond, &sleepers->n_done, n,
                             SAFETY_TIMEOUT_USEC) == n;
}

/* Blocks in _pmt_queue_pop(), without a timeout. */
static gpointer
pop_forever_thread (gpointer data)
{
  Sleepers *sleepers = data;
  gpointer item;

  _pmt_queue_lock (sleepers->queue);
  sleepers_mark_ready_unlocked (sleepers);
  item = _pmt_queue_timeout_pop_unlocked (sleepers->queue, -1);
  _pmt_queue_unlock (sleepers->queue);

  sleepers_report (sleepers, item);

  return NULL;
}

/* The same with a (long) timeout: NULL when the wake-up was lost. */
static gpointer
pop_timeout_thread (gpointer data)
{
  Sleepers *sleepers = data;
  gpointer item;

  _pmt_queue_lock (sleepers->queue);
  sleepers_mark_ready_unlocked (sleepers);
  item = _pmt_queue_timeout_pop_unlocked (sleepers->queue, SAFETY_TIMEOUT_USEC);
  _pmt_queue_unlock (sleepers->queue);

  sleepers_report (sleepers, item);

  return NULL;
}

static void
test_pop_woken_by_push (void)
{
  Sleepers sleepers;
  GThread *thread;

  sleepers_init (&sleepers);

  /* A popper without a timeout, surely asleep in the queue, wakes for a
   * push of the locked form. */
  thread = g_thread_new ("pmt-t-pop", pop_forever_thread, &sleepers);
  sleepers_lock_when_ready (&sleepers, 1);
  _pmt_queue_unlock (sleepers.queue);
  _pmt_queue_push (sleepers.queue, ITEM (7), 0);

  /* A lost wake-up fails here instead of hanging in the join. */
  g_assert_true (sleepers_wait_done (&sleepers, 1));
  g_thread_join (thread);

  g_assert_cmpuint (sleepers.n_lost, ==, 0);
  g_assert_cmpuint (sleepers.popped->len, ==, 1);
  g_assert_cmpuint (ITEM_INDEX (sleepers.popped->pdata[0]), ==, 7);
  g_assert_cmpuint (_pmt_queue_length (sleepers.queue), ==, 0);

  sleepers_clear (&sleepers);
}

static gpointer
pop_locked_thread (gpointer data)
{
  Sleepers *sleepers = data;

  sleepers_report (sleepers, _pmt_queue_pop (sleepers->queue));

  return NULL;
}

static gpointer
timeout_pop_locked_thread (gpointer data)
{
  Sleepers *sleepers = data;

  sleepers_report (sleepers, _pmt_queue_timeout_pop (sleepers->queue, SAFETY_TIMEOUT_USEC));

  return NULL;
}

/* The locked forms, whatever the interleaving: the pushes may come before
 * or after the poppers block. */
static void
test_pop_locked_forms (void)
{
  Sleepers sleepers;

  sleepers_init (&sleepers);

  for (guint i = 0; i < 100; i++)
    {
      GThread *popper = g_thread_new ("pmt-t-pop", pop_locked_thread, &sleepers);
      GThread *timed = g_thread_new ("pmt-t-pop", timeout_pop_locked_thread, &sleepers);
      guint a, b;

      _pmt_queue_push (sleepers.queue, ITEM (2 * i), i % 3);
      _pmt_queue_push (sleepers.queue, ITEM (2 * i + 1), i % 5);

      /* A lost wake-up fails here instead of hanging in the join. */
      g_assert_true (sleepers_wait_done (&sleepers, 2 * (i + 1)));
      g_thread_join (popper);
      g_thread_join (timed);

      g_assert_cmpuint (sleepers.n_lost, ==, 0);
      g_assert_cmpuint (sleepers.popped->len, ==, 2 * (i + 1));
      a = ITEM_INDEX (sleepers.popped->pdata[2 * i]);
      b = ITEM_INDEX (sleepers.popped->pdata[2 * i + 1]);
      g_assert_cmpuint (MIN (a, b), ==, 2 * i);
      g_assert_cmpuint (MAX (a, b), ==, 2 * i + 1);
    }
  g_assert_cmpuint (_pmt_queue_length (sleepers.queue), ==, 0);

  sleepers_clear (&sleepers);
}

#define N_SLEEPERS 4

typedef enum
{
  PUSH_SEPARATELY,   /* one lock hold per push: sleepers may run in between */
  PUSH_TOGETHER,     /* every push in one lock hold */
} PushMode;

/* N consumers asleep, then N pushes: every consumer wakes with an item.
 * A queue that signals only sleepers nobody signalled yet must count its
 * signals right for this. */
static void
check_wake_ups_not_lost (GThreadFunc func,
                         PushMode    mode)
{
  GThread *threads[N_SLEEPERS];
  gboolean seen[N_SLEEPERS] = { FALSE, };
  Sleepers sleepers;

  sleepers_init (&sleepers);

  for (guint i = 0; i < N_SLEEPERS; i++)
    threads[i] = g_thread_new ("pmt-t-sleeper", func, &sleepers);

  sleepers_lock_when_ready (&sleepers, N_SLEEPERS);
  if (mode == PUSH_TOGETHER)
    {
      for (guint i = 0; i < N_SLEEPERS; i++)
        _pmt_queue_push_unlocked (sleepers.queue, ITEM (i), 0);
      _pmt_queue_unlock (sleepers.queue);
    }
  else
    {
      _pmt_queue_unlock (sleepers.queue);
      for (guint i = 0; i < N_SLEEPERS; i++)
        _pmt_queue_push (sleepers.queue, ITEM (i), 0);
    }

  g_assert_true (sleepers_wait_done (&sleepers, N_SLEEPERS));
  for (guint i = 0; i < N_SLEEPERS; i++)
    g_thread_join (threads[i]);

  g_assert_cmpuint (sleepers.n_lost, ==, 0);
  g_assert_cmpuint (sleepers.popped->len, ==, N_SLEEPERS);
  for (guint i = 0; i < N_SLEEPERS; i++)
    {
      guint index = ITEM_INDEX (sleepers.popped->pdata[i]);

      g_assert_cmpuint (index, <, N_SLEEPERS);
      g_assert_false (seen[index]);
      seen[index] = TRUE;
    }
  g_assert_cmpuint (_pmt_queue_length (sleepers.queue), ==, 0);

  sleepers_clear (&sleepers);
}

static void
test_wake_ups_separate_pushes (void)
{
  /* Repeated: the interleavings of wakers and pushers vary per round. */
  for (guint round = 0; round < 50; round++)
    {
      check_wake_ups_not_lost (pop_timeout_thread, PUSH_SEPARATELY);
      check_wake_ups_not_lost (pop_forever_thread, PUSH_SEPARATELY);
    }
}

static void
test_wake_ups_one_lock_hold (void)
{
  for (guint round = 0; round < 50; round++)
    {
      check_wake_ups_not_lost (pop_timeout_thread, PUSH_TOGETHER);
      check_wake_ups_not_lost (pop_forever_thread, PUSH_TOGETHER);
    }
}

/* Waiters in _pmt_queue_wait_unlocked() on a condition of their own
 * (here @stop): _pmt_queue_wake_all_unlocked() wakes them all. */
static gpointer
wait_for_stop_thread (gpointer data)
{
  Sleepers *sleepers = data;
  gint64 end_time = g_get_monotonic_time () + SAFETY_TIMEOUT_USEC;
  gboolean stopped;

  _pmt_queue_lock (sleepers->queue);
  sleepers_mark_ready_unlocked (sleepers);
  while (!sleepers->stop)
    {
      if (!_pmt_queue_wait_unlocked (sleepers->queue, end_time))
        break;
    }
  stopped = sleepers->stop;
  _pmt_queue_unlock (sleepers->queue);

  sleepers_report (sleepers, stopped ? GUINT_TO_POINTER (1) : NULL);

  return NULL;
}

static void
test_wake_all (void)
{
  GThread *threads[N_SLEEPERS];
  Sleepers sleepers;

  sleepers_init (&sleepers);

  for (guint i = 0; i < N_SLEEPERS; i++)
    threads[i] = g_thread_new ("pmt-t-waiter", wait_for_stop_thread, &sleepers);

  sleepers_lock_when_ready (&sleepers, N_SLEEPERS);
  sleepers.stop = TRUE;
  _pmt_queue_wake_all_unlocked (sleepers.queue);
  _pmt_queue_unlock (sleepers.queue);

  g_assert_true (sleepers_wait_done (&sleepers, N_SLEEPERS));
  for (guint i = 0; i < N_SLEEPERS; i++)
    g_thread_join (threads[i]);
  g_assert_cmpuint (sleepers.n_lost, ==, 0);

  /* After a wake-all, pushes still wake new sleepers. */
  sleepers.n_ready = 0;
  sleepers.n_done = 0;
  g_ptr_array_set_size (sleepers.popped, 0);
  for (guint i = 0; i < N_SLEEPERS; i++)
    threads[i] = g_thread_new ("pmt-t-sleeper", pop_timeout_thread, &sleepers);
  sleepers_lock_when_ready (&sleepers, N_SLEEPERS);
  _pmt_queue_unlock (sleepers.queue);
  for (guint i = 0; i < N_SLEEPERS; i++)
    _pmt_queue_push (sleepers.queue, ITEM (i), 0);
  g_assert_true (sleepers_wait_done (&sleepers, N_SLEEPERS));
  for (guint i = 0; i < N_SLEEPERS; i++)
    g_thread_join (threads[i]);
  g_assert_cmpuint (sleepers.n_lost, ==, 0);
  g_assert_cmpuint (sleepers.popped->len, ==, N_SLEEPERS);

  sleepers_clear (&sleepers);
}

/* A waiter of _pmt_queue_wait_unlocked() checking its own predicate (the
 * queue's length, as a pool worker does) sees a push. */
static gpointer
wait_for_item_thread (gpointer data)
{
  Sleepers *sleepers = data;
  gint64 end_time = g_get_monotonic_time () + SAFETY_TIMEOUT_USEC;
  gpointer item;

  _pmt_queue_lock (sleepers->queue);
  sleepers_mark_ready_unlocked (sleepers);
  while (_pmt_queue_length_unlocked (sleepers->queue) == 0)
    {
      if (!_pmt_queue_wait_unlocked (sleepers->queue, end_time))
        break;
    }
  item = _pmt_queue_try_pop_unlocked (sleepers->queue);
  _pmt_queue_unlock (sleepers->queue);

  sleepers_report (sleepers, item);

  return NULL;
}

static void
test_wait_unlocked_woken_by_push (void)
{
  GThread *threads[N_SLEEPERS];
  Sleepers sleepers;

  sleepers_init (&sleepers);

  for (guint i = 0; i < N_SLEEPERS; i++)
    threads[i] = g_thread_new ("pmt-t-waiter", wait_for_item_thread, &sleepers);
  sleepers_lock_when_ready (&sleepers, N_SLEEPERS);
  _pmt_queue_unlock (sleepers.queue);
  for (guint i = 0; i < N_SLEEPERS; i++)
    _pmt_queue_push (sleepers.queue, ITEM (i), 0);

  g_assert_true (sleepers_wait_done (&sleepers, N_SLEEPERS));
  for (guint i = 0; i < N_SLEEPERS; i++)
    g_thread_join (threads[i]);
  g_assert_cmpuint (sleepers.n_lost, ==, 0);
  g_assert_cmpuint (sleepers.popped->len, ==, N_SLEEPERS);

  sleepers_clear (&sleepers);
}

/* ------------------------------------------------------------------ */

#define N_PRODUCERS    4
#define N_CONSUMERS    4
#define N_ITEMS        200000
#define N_PER_PRODUCER (N_ITEMS / N_PRODUCERS)
#define N_PRIORITIES   4

/* An item of the many-threads test: producer, priority and sequence number
 * within the producer, packed so that the pointer is never NULL. */
#define MPMC_ITEM(producer, priority, seq) \
  GUINT_TO_POINTER (((guint) (seq) << 8) | ((guint) (priority) << 4) | ((guint) (producer) + 1))
#define MPMC_PRODUCER(item) ((GPOINTER_TO_UINT (item) & 0xf) - 1)
#define MPMC_PRIORITY(item) ((GPOINTER_TO_UINT (item) >> 4) & 0xf)
#define MPMC_SEQ(item)      (GPOINTER_TO_UINT (item) >> 8)
#define MPMC_STOP           GUINT_TO_POINTER (0xf)

typedef struct
{
  PmtQueue *queue;
  gint n_popped;              /* atomic */
  gint n_order_violations;    /* atomic */
  gint *seen;                 /* atomic; [producer * N_PER_PRODUCER + seq]: pop count */
  gint n_duplicates;          /* atomic */
  gboolean timed_consumers;
} Mpmc;

typedef struct
{
  Mpmc *mpmc;
  guint index;
  GRand *rand;     /* g_test_rand_*() are for the main thread only */
} MpmcThread;

static gpointer
producer_thread (gpointer data)
{
  MpmcThread *self = data;

  for (guint seq = 0; seq < N_PER_PRODUCER; seq++)
    {
      guint priority = g_rand_int_range (self->rand, 0, N_PRIORITIES);

      _pmt_queue_push (self->mpmc->queue, MPMC_ITEM (self->index, priority, seq), priority);
      if (seq % 1000 == 0)
        g_thread_yield ();
    }

  return NULL;
}

static gpointer
consumer_thread (gpointer data)
{
  MpmcThread *self = data;
  Mpmc *mpmc = self->mpmc;
  /* The last sequence number seen per (producer, priority): items of one
   * producer with one priority come out in the order they went in. */
  gint last_seq[N_PRODUCERS][N_PRIORITIES];
  guint n = 0;

  for (guint p = 0; p < N_PRODUCERS; p++)
    for (guint q = 0; q < N_PRIORITIES; q++)
      last_seq[p][q] = -1;

  for (;;)
    {
      gpointer item;
      guint producer, priority, seq;

      /* Timed consumers come back often with nothing, leaving the wait on
       * their own: the queue's wake-up bookkeeping must survive that. */
      if (mpmc->timed_consumers && self->index % 2 == 1)
        {
          item = _pmt_queue_timeout_pop (mpmc->queue, g_rand_int_range (self->rand, 0, 500));
          if (item == NULL)
            continue;
        }
      else
        {
          item = _pmt_queue_timeout_pop (mpmc->queue, SAFETY_TIMEOUT_USEC);
          g_assert_nonnull (item);
        }

      if (item == MPMC_STOP)
        break;

      producer = MPMC_PRODUCER (item);
      priority = MPMC_PRIORITY (item);
      seq = MPMC_SEQ (item);
      g_assert_cmpuint (producer, <, N_PRODUCERS);
      g_assert_cmpuint (priority, <, N_PRIORITIES);
      g_assert_cmpuint (seq, <, N_PER_PRODUCER);

      if ((gint) seq <= last_seq[producer][priority])
        g_atomic_int_inc (&mpmc->n_order_violations);
      last_seq[producer][priority] = seq;

      /* Atomic: an item popped twice may be popped by two consumers at
       * once, and then the count must still see both. */
      if (g_atomic_int_add (&mpmc->seen[producer * N_PER_PRODUCER + seq], 1) != 0)
        g_atomic_int_inc (&mpmc->n_duplicates);

      n++;
    }

  g_atomic_int_add (&mpmc->n_popped, n);

  return NULL;
}

static void
check_many_threads (gboolean timed_consumers)
{
  GThread *producers[N_PRODUCERS];
  GThread *consumers[N_CONSUMERS];
  MpmcThread producer_data[N_PRODUCERS];
  MpmcThread consumer_data[N_CONSUMERS];
  Mpmc mpmc = { 0, };

  mpmc.queue = _pmt_queue_new ();
  mpmc.seen = g_new0 (gint, N_ITEMS);
  mpmc.timed_consumers = timed_consumers;

  for (guint i = 0; i < N_CONSUMERS; i++)
    {
      consumer_data[i].mpmc = &mpmc;
      consumer_data[i].index = i;
      consumer_data[i].rand = g_rand_new_with_seed (g_test_rand_int ());
      consumers[i] = g_thread_new ("pmt-t-consumer", consumer_thread, &consumer_data[i]);
    }
  for (guint i = 0; i < N_PRODUCERS; i++)
    {
      producer_data[i].mpmc = &mpmc;
      producer_data[i].index = i;
      producer_data[i].rand = g_rand_new_with_seed (g_test_rand_int ());
      producers[i] = g_thread_new ("pmt-t-producer", producer_thread, &producer_data[i]);
    }

  for (guint i = 0; i < N_PRODUCERS; i++)
    g_thread_join (producers[i]);

  /* Stop items rank after every real item, so consumers stop only once
   * the queue holds nothing else. */
  for (guint i = 0; i < N_CONSUMERS; i++)
    _pmt_queue_push (mpmc.queue, MPMC_STOP, G_MAXINT);
  for (guint i = 0; i < N_CONSUMERS; i++)
    g_thread_join (consumers[i]);

  g_assert_cmpint (mpmc.n_duplicates, ==, 0);
  g_assert_cmpint (mpmc.n_order_violations, ==, 0);
  g_assert_cmpint (mpmc.n_popped, ==, N_ITEMS);
  for (guint i = 0; i < N_ITEMS; i++)
    {
      if (mpmc.seen[i] != 1)
        g_error ("item %u of producer %u popped %d times",
                 i % N_PER_PRODUCER, i / N_PER_PRODUCER, mpmc.seen[i]);
    }
  g_assert_cmpuint (_pmt_queue_length (mpmc.queue), ==, 0);

  for (guint i = 0; i < N_PRODUCERS; i++)
    g_rand_free (producer_data[i].rand);
  for (guint i = 0; i < N_CONSUMERS; i++)
    g_rand_free (consumer_data[i].rand);
  g_free (mpmc.seen);
  _pmt_queue_free (mpmc.queue);
}

static void
test_many_threads (void)
{
  check_many_threads (FALSE);
}

static void
test_many_threads_timed (void)
{
  check_many_threads (TRUE);
}

/* Every operation of 2 producers and 2 consumers under the queue's lock,
 * mirrored in a reference model under the same lock: each pop, whichever
 * thread does it, returns exactly the least (priority, push order) item
 * present at that moment. */
#define N_MODEL_ITEMS 20000

typedef struct
{
  PmtQueue *queue;
  GSequence *reference;   /* guarded by the queue's lock */
  guint next_index;       /* guarded by the queue's lock */
  guint n_popped;         /* guarded by the queue's lock */
  guint n_mismatches;     /* guarded by the queue's lock */
  guint32 seed;           /* guarded by the queue's lock */
} Model;

static gpointer
model_producer_thread (gpointer data)
{
  Model *model = data;
  GRand *rand;

  _pmt_queue_lock (model->queue);
  rand = g_rand_new_with_seed (model->seed++);
  _pmt_queue_unlock (model->queue);

  for (guint i = 0; i < N_MODEL_ITEMS / 2; i++)
    {
      RefEntry *entry = g_new (RefEntry, 1);

      entry->priority = g_rand_int_range (rand, -2, 3);

      _pmt_queue_lock (model->queue);
      entry->index = model->next_index++;
      g_sequence_insert_sorted (model->reference, entry, ref_entry_compare, NULL);
      _pmt_queue_push_unlocked (model->queue, ITEM (entry->index), entry->priority);
      _pmt_queue_unlock (model->queue);
    }

  g_rand_free (rand);

  return NULL;
}

static gpointer
model_consumer_thread (gpointer data)
{
  Model *model = data;

  for (;;)
    {
      gpointer item;
      GSequenceIter *first;

      _pmt_queue_lock (model->queue);
      if (model->n_popped == N_MODEL_ITEMS)
        {
          _pmt_queue_unlock (model->queue);
          break;
        }
      item = _pmt_queue_timeout_pop_unlocked (model->queue, 1000);
      if (item == NULL)
        {
          _pmt_queue_unlock (model->queue);
          continue;
        }
      first = g_sequence_get_begin_iter (model->reference);
      g_assert_false (g_sequence_iter_is_end (first));
      if (ITEM_INDEX (item) != ((RefEntry *) g_sequence_get (first))->index)
        model->n_mismatches++;
      g_sequence_remove (first);
      model->n_popped++;
      _pmt_queue_unlock (model->queue);
    }

  return NULL;
}

static void
test_many_threads_model (void)
{
  Model model = { 0, };
  GThread *threads[4];

  model.queue = _pmt_queue_new ();
  model.reference = g_sequence_new (g_free);
  model.seed = g_test_rand_int ();

  threads[0] = g_thread_new ("pmt-t-consumer", model_consumer_thread, &model);
  threads[1] = g_thread_new ("pmt-t-consumer", model_consumer_thread, &model);
  threads[2] = g_thread_new ("pmt-t-producer", model_producer_thread, &model);
  threads[3] = g_thread_new ("pmt-t-producer", model_producer_thread, &model);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);

  g_assert_cmpuint (model.n_popped, ==, N_MODEL_ITEMS);
  g_assert_cmpuint (model.n_mismatches, ==, 0);
  g_assert_cmpint (g_sequence_get_length (model.reference), ==, 0);
  g_assert_cmpuint (_pmt_queue_length (model.queue), ==, 0);

  g_sequence_free (model.reference);
  _pmt_queue_free (model.queue);
}

int
main (int   argc,
      char *argv[])
{
  static const guint sizes[] = { 1, 2, 3, 10, 1000, 100000 };
  static const InterleavedCase interleaved[] = {
    { 1, 6, 10000 },
    { 2, 6, 10000 },
    { 5, 6, 10000 },
    { 1000, 4, 10000 },
  };

  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autofree char *path = g_strdup_printf ("/pmt/queue/order/size-%u", sizes[i]);

      g_test_add_data_func (path, GUINT_TO_POINTER (sizes[i]), test_order_sizes);
    }
  g_test_add_func ("/pmt/queue/order/fifo-among-equals", test_order_fifo_among_equals);
  g_test_add_func ("/pmt/queue/order/extreme-priorities", test_order_extreme_priorities);
  g_test_add_func ("/pmt/queue/order/priority-switches", test_order_priority_switches);
  g_test_add_func ("/pmt/queue/order/fifo-interleaved", test_order_fifo_interleaved);
  for (guint i = 0; i < G_N_ELEMENTS (interleaved); i++)
    {
      g_autofree char *path = g_strdup_printf ("/pmt/queue/order/interleaved/%u-priorities",
                                               interleaved[i].n_priorities);

      g_test_add_data_func (path, &interleaved[i], test_interleaved);
    }
  g_test_add_func ("/pmt/queue/unlocked", test_unlocked);
  g_test_add_func ("/pmt/queue/timeout-pop/empty-zero", test_timeout_pop_empty_zero);
  g_test_add_func ("/pmt/queue/timeout-pop/empty-timeout", test_timeout_pop_empty_timeout);
  g_test_add_func ("/pmt/queue/timeout-pop/item-waiting", test_timeout_pop_item_waiting);
  g_test_add_func ("/pmt/queue/wait-unlocked/timeout", test_wait_unlocked_timeout);
  g_test_add_func ("/pmt/queue/wait-unlocked/woken-by-push", test_wait_unlocked_woken_by_push);
  g_test_add_func ("/pmt/queue/pop/woken-by-push", test_pop_woken_by_push);
  g_test_add_func ("/pmt/queue/pop/locked-forms", test_pop_locked_forms);
  g_test_add_func ("/pmt/queue/wake-ups/separate-pushes", test_wake_ups_separate_pushes);
  g_test_add_func ("/pmt/queue/wake-ups/one-lock-hold", test_wake_ups_one_lock_hold);
  g_test_add_func ("/pmt/queue/wake-ups/wake-all", test_wake_all);
  g_test_add_func ("/pmt/queue/threads/many", test_many_threads);
  g_test_add_func ("/pmt/queue/threads/many-timed-consumers", test_many_threads_timed);
  g_test_add_func ("/pmt/queue/threads/model", test_many_threads_model);

  return g_test_run ();
}
