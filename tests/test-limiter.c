/* test-limiter.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include <pmt.h>

#include "pmt-test-utils.h"

/* A bound on every wait of the tests: reaching it is a failure, not a
 * synchronization. */
#define SAFETY_TIMEOUT_USEC PMT_TEST_SAFETY_TIMEOUT_USEC

#define MAX_CLIENTS 16

typedef struct _Shared Shared;

/* A thread that acquires the limiter, records its turn, optionally keeps
 * the limiter until its own gate opens, and releases it. */
typedef struct
{
  Shared *shared;
  guint index;
  gint64 timeout_usec;
  GCancellable *cancellable;
  gboolean hold;
  gboolean open;        /* under shared->mutex */
  gboolean acquired;
  GError *error;
  GThread *thread;
} Client;

/* An asynchronous waiter of the main thread. */
typedef struct
{
  Shared *shared;
  guint index;
  gboolean hold;        /* keep the limiter after the callback */
  gboolean done;
  gboolean acquired;
  GError *error;
  GThread *thread;
  GMainContext *context;
} AsyncClient;

struct _Shared
{
  PmtLimiter *limiter;
  gulong notify_handler;

  GMutex mutex;
  GCond cond;           /* broadcast on every change below and on notify */
  guint n_notify;
  guint n_waiting_seen;
  GThread *notify_thread;
  guint order[MAX_CLIENTS];
  guint n_order;
  gboolean gate_open;

  gint inside;          /* atomic */
  gint max_inside;      /* atomic */

  Client clients[MAX_CLIENTS];
};

static void
n_waiting_notify_cb (GObject    *object,
                     GParamSpec *pspec,
                     Shared     *shared)
{
  guint n_waiting = pmt_limiter_get_n_waiting (shared->limiter);

  g_mutex_lock (&shared->mutex);
  shared->n_notify++;
  shared->n_waiting_seen = n_waiting;
  shared->notify_thread = g_thread_self ();
  g_cond_broadcast (&shared->cond);
  g_mutex_unlock (&shared->mutex);
}

static void
shared_init (Shared *shared,
             guint   limit)
{
  memset (shared, 0, sizeof *shared);
  g_mutex_init (&shared->mutex);
  g_cond_init (&shared->cond);
  shared->limiter = pmt_limiter_new (limit);
  shared->notify_handler = g_signal_connect (shared->limiter, "notify::n-waiting",
                                             G_CALLBACK (n_waiting_notify_cb), shared);
}

/* Disconnects the notify::n-waiting handler.  Tests do so before
 * threads may notify at the same time: with a handler connected, GLib
 * 2.74 races on the notify class closure (g_closure_ref() against
 * _g_closure_is_void() in gsignal.c), which ThreadSanitizer reports, and
 * it may drop one of two concurrent emissions of notify::n-waiting. */
static void
shared_unwatch (Shared *shared)
{
  g_clear_signal_handler (&shared->notify_handler, shared->limiter);
}

static void
shared_clear (Shared *shared)
{
  for (guint i = 0; i < MAX_CLIENTS; i++)
    {
      g_assert_null (shared->clients[i].thread);
      g_clear_error (&shared->clients[i].error);
      g_clear_object (&shared->clients[i].cancellable);
    }

  shared_unwatch (shared);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (shared->limiter), ==, 0);
  g_clear_object (&shared->limiter);
  g_mutex_clear (&shared->mutex);
  g_cond_clear (&shared->cond);
}

/* Records a turn; the caller holds the limiter, so turns are serialized
 * by the limiter itself when its limit is 1. */
static void
shared_record (Shared *shared,
               guint   index)
{
  g_mutex_lock (&shared->mutex);
  g_assert_cmpuint (shared->n_order, <, MAX_CLIENTS);
  shared->order[shared->n_order++] = index;
  g_cond_broadcast (&shared->cond);
  g_mutex_unlock (&shared->mutex);
}

/* Waits until the handler saw n-waiting at @n_waiting: the change and
 * its notification have both happened.  Arrivals wait for it one after
 * the other, so no two threads notify at once. */
static void
shared_wait_n_waiting (Shared *shared,
                       guint   n_waiting)
{
  gint64 end_time = g_get_monotonic_time () + SAFETY_TIMEOUT_USEC;
  guint seen;

  g_assert_cmpuint (shared->notify_handler, !=, 0);

  g_mutex_lock (&shared->mutex);
  while (shared->n_waiting_seen != n_waiting)
    if (!g_cond_wait_until (&shared->cond, &shared->mutex, end_time))
      break;
  seen = shared->n_waiting_seen;
  g_mutex_unlock (&shared->mutex);

  g_assert_cmpuint (seen, ==, n_waiting);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (shared->limiter), ==, n_waiting);
}

static void
shared_wait_n_order (Shared *shared,
                     guint   n_order)
{
  pmt_test_assert_uint_reaches (&shared->mutex, &shared->cond, &shared->n_order, n_order);
}

static guint
shared_get_n_order (Shared *shared)
{
  return pmt_test_read_uint (&shared->mutex, &shared->n_order);
}

static void
shared_wait_n_notify (Shared *shared,
                      guint   n_notify)
{
  pmt_test_assert_uint_reaches (&shared->mutex, &shared->cond, &shared->n_notify, n_notify);
}

static guint
shared_get_n_notify (Shared *shared)
{
  return pmt_test_read_uint (&shared->mutex, &shared->n_notify);
}

static gpointer
client_thread (gpointer data)
{
  Client *client = data;
  Shared *shared = client->shared;
  gint64 end_time;

  client->acquired = pmt_limiter_acquire (shared->limiter, client->timeout_usec,
                                          client->cancellable, &client->error);
  if (!client->acquired)
    return NULL;

  shared_record (shared, client->index);

  end_time = g_get_monotonic_time () + SAFETY_TIMEOUT_USEC;
  g_mutex_lock (&shared->mutex);
  while (client->hold && !client->open)
    if (!g_cond_wait_until (&shared->cond, &shared->mutex, end_time))
      g_error ("client %u: its gate never opened", client->index);
  g_mutex_unlock (&shared->mutex);

  pmt_limiter_release (shared->limiter);

  return NULL;
}

static Client *
client_start (Shared       *shared,
              guint         index,
              gint64        timeout_usec,
              GCancellable *cancellable,
              gboolean      hold)
{
  Client *client;

  g_assert_cmpuint (index, <, MAX_CLIENTS);
  client = &shared->clients[index];
  client->shared = shared;
  client->index = index;
  client->timeout_usec = timeout_usec;
  client->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  client->hold = hold;
  client->thread = g_thread_new ("limiter-client", client_thread, client);

  return client;
}

static void
client_open (Client *client)
{
  Shared *shared = client->shared;

  pmt_test_set_flag (&shared->mutex, &shared->cond, &client->open);
}

static void
client_join (Client *client)
{
  g_thread_join (g_steal_pointer (&client->thread));
}

static void
async_client_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  AsyncClient *client = user_data;

  g_assert_false (client->done);
  client->thread = g_thread_self ();
  client->context = g_main_context_get_thread_default ();
  client->acquired = pmt_limiter_acquire_finish (PMT_LIMITER (object), result,
                                                 &client->error);
  if (client->acquired)
    {
      shared_record (client->shared, client->index);
      if (!client->hold)
        pmt_limiter_release (PMT_LIMITER (object));
    }
  client->done = TRUE;
}

/* Iterates @context until *@flag is set, which a callback run by it does. */
static void
run_until (GMainContext *context,
           gboolean     *flag)
{
  pmt_test_iterate_until (context, pmt_test_flag_is_set, flag, SAFETY_TIMEOUT_USEC);
}

/* Fixtures.  A test that has one gets its limiter's limit as its data. */

/* A test of blocking clients has a Shared; shared_clear() checks at the
 * end that every client was joined and nobody waits any more. */
static void
shared_setup (Shared        *shared,
              gconstpointer  data)
{
  shared_init (shared, GPOINTER_TO_UINT (data));
}

static void
shared_teardown (Shared        *shared,
                 gconstpointer  data)
{
  shared_clear (shared);
}

#define N_ASYNC_CLIENTS 3

/* A test of asynchronous waiters also has a main context, the thread
 * default for their callbacks, and waiters that know the Shared, numbered
 * from 0.  What the callbacks left on the context runs at the end. */
typedef struct
{
  GMainContext *context;
  Shared shared;
  AsyncClient async[N_ASYNC_CLIENTS];
} AsyncFixture;

static void
async_setup (AsyncFixture  *fixture,
             gconstpointer  data)
{
  fixture->context = g_main_context_new ();
  g_main_context_push_thread_default (fixture->context);
  shared_init (&fixture->shared, GPOINTER_TO_UINT (data));
  for (guint i = 0; i < N_ASYNC_CLIENTS; i++)
    {
      fixture->async[i].shared = &fixture->shared;
      fixture->async[i].index = i;
    }
}

static void
async_teardown (AsyncFixture  *fixture,
                gconstpointer  data)
{
  for (guint i = 0; i < N_ASYNC_CLIENTS; i++)
    g_clear_error (&fixture->async[i].error);
  shared_clear (&fixture->shared);
  pmt_test_flush_context (fixture->context);
  g_main_context_pop_thread_default (fixture->context);
  g_main_context_unref (fixture->context);
}

static void
test_limiter_basic (void)
{
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (2);
  g_autoptr(GError) error = NULL;
  guint limit, available, n_waiting;

  g_assert_true (PMT_IS_LIMITER (limiter));
  g_assert_cmpuint (pmt_limiter_get_limit (limiter), ==, 2);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 2);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (limiter), ==, 0);

  g_assert_true (pmt_limiter_acquire (limiter, -1, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 1);

  g_assert_true (pmt_limiter_acquire (limiter, 0, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 0);
  g_assert_cmpuint (pmt_limiter_get_limit (limiter), ==, 2);

  g_object_get (limiter,
                "limit", &limit,
                "available", &available,
                "n-waiting", &n_waiting,
                NULL);
  g_assert_cmpuint (limit, ==, 2);
  g_assert_cmpuint (available, ==, 0);
  g_assert_cmpuint (n_waiting, ==, 0);

  pmt_limiter_release (limiter);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 1);
  pmt_limiter_release (limiter);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 2);

  g_object_get (limiter, "available", &available, NULL);
  g_assert_cmpuint (available, ==, 2);
}

static void
test_limiter_limit_zero (void)
{
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (0);
  g_autoptr(GError) error = NULL;

  g_assert_cmpuint (pmt_limiter_get_limit (limiter), ==, 0);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 0);
  g_assert_false (pmt_limiter_try_acquire (limiter));
  g_assert_false (pmt_limiter_acquire (limiter, 0, NULL, &error));
  g_assert_error (error, PMT_ERROR, PMT_ERROR_TIMED_OUT);

  pmt_limiter_set_limit (limiter, 1);
  g_assert_true (pmt_limiter_try_acquire (limiter));
  pmt_limiter_release (limiter);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 1);
}

static void
test_limiter_try_acquire (void)
{
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (2);

  g_assert_true (pmt_limiter_try_acquire (limiter));
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 1);
  g_assert_true (pmt_limiter_try_acquire (limiter));
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 0);

  g_assert_false (pmt_limiter_try_acquire (limiter));
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 0);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (limiter), ==, 0);

  pmt_limiter_release (limiter);
  g_assert_true (pmt_limiter_try_acquire (limiter));
  pmt_limiter_release (limiter);
  pmt_limiter_release (limiter);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 2);
}

/* A release with a thread waiting hands the limiter to that thread: a
 * newcomer that tries right after the release must not overtake it, even
 * though the waiting thread may not have woken up yet. */
static void
test_limiter_try_acquire_no_overtaking (Shared        *shared,
                                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (pmt_limiter_try_acquire (shared->limiter));

  client_start (shared, 0, -1, NULL, TRUE);
  shared_wait_n_waiting (shared, 1);

  /* Full and waited for: both fail. */
  g_assert_false (pmt_limiter_try_acquire (shared->limiter));
  g_assert_false (pmt_limiter_acquire (shared->limiter, 0, NULL, &error));
  g_assert_error (error, PMT_ERROR, PMT_ERROR_TIMED_OUT);
  g_clear_error (&error);

  shared_unwatch (shared);
  pmt_limiter_release (shared->limiter);

  g_assert_false (pmt_limiter_try_acquire (shared->limiter));
  g_assert_false (pmt_limiter_acquire (shared->limiter, 0, NULL, &error));
  g_assert_error (error, PMT_ERROR, PMT_ERROR_TIMED_OUT);
  g_clear_error (&error);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 0);

  shared_wait_n_order (shared, 1);
  g_assert_cmpuint (shared->order[0], ==, 0);
  client_open (&shared->clients[0]);
  client_join (&shared->clients[0]);
  g_assert_true (shared->clients[0].acquired);

  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 1);
}

/* The same with an asynchronous waiter: it owns the limiter from the
 * release on, before its callback has run. */
static void
test_limiter_try_acquire_no_overtaking_async (AsyncFixture  *fixture,
                                              gconstpointer  data)
{
  GMainContext *context = fixture->context;
  Shared *shared = &fixture->shared;
  AsyncClient *async = &fixture->async[0];

  g_assert_true (pmt_limiter_try_acquire (shared->limiter));

  pmt_limiter_acquire_async (shared->limiter, NULL, async_client_cb, async);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (shared->limiter), ==, 1);

  pmt_limiter_release (shared->limiter);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (shared->limiter), ==, 0);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 0);
  g_assert_false (pmt_limiter_try_acquire (shared->limiter));
  g_assert_false (async->done);

  run_until (context, &async->done);
  g_assert_no_error (async->error);
  g_assert_true (async->acquired);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 1);
}

static void
test_limiter_acquire_timeout_zero (void)
{
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (1);
  g_autoptr(GError) error = NULL;

  g_assert_true (pmt_limiter_acquire (limiter, 0, NULL, &error));
  g_assert_no_error (error);

  g_assert_false (pmt_limiter_acquire (limiter, 0, NULL, &error));
  g_assert_error (error, PMT_ERROR, PMT_ERROR_TIMED_OUT);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (limiter), ==, 0);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 0);

  pmt_limiter_release (limiter);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 1);
}

static void
test_limiter_acquire_timeout_short (void)
{
  const gint64 timeout_usec = 50 * 1000;
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (1);
  g_autoptr(GError) error = NULL;
  gint64 start, elapsed;

  g_assert_true (pmt_limiter_try_acquire (limiter));

  start = g_get_monotonic_time ();
  g_assert_false (pmt_limiter_acquire (limiter, timeout_usec, NULL, &error));
  elapsed = g_get_monotonic_time () - start;

  g_assert_error (error, PMT_ERROR, PMT_ERROR_TIMED_OUT);
  g_assert_cmpint (elapsed, >=, timeout_usec);
  g_assert_cmpint (elapsed, <, SAFETY_TIMEOUT_USEC);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (limiter), ==, 0);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 0);

  /* The timed-out waiter left the line: a release makes room again. */
  pmt_limiter_release (limiter);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 1);
  g_assert_true (pmt_limiter_try_acquire (limiter));
  pmt_limiter_release (limiter);
}

static void
test_limiter_acquire_forever (Shared        *shared,
                              gconstpointer  data)
{
  g_assert_true (pmt_limiter_try_acquire (shared->limiter));

  client_start (shared, 0, -1, NULL, TRUE);
  shared_wait_n_waiting (shared, 1);
  g_assert_cmpuint (shared_get_n_order (shared), ==, 0);

  shared_unwatch (shared);
  pmt_limiter_release (shared->limiter);
  shared_wait_n_order (shared, 1);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 0);

  client_open (&shared->clients[0]);
  client_join (&shared->clients[0]);
  g_assert_true (shared->clients[0].acquired);
  g_assert_no_error (shared->clients[0].error);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 1);
}

/* A waiter with a timeout is served normally when the limiter frees up
 * before the timeout. */
static void
test_limiter_acquire_timeout_granted (Shared        *shared,
                                      gconstpointer  data)
{
  g_assert_true (pmt_limiter_try_acquire (shared->limiter));

  client_start (shared, 0, SAFETY_TIMEOUT_USEC, NULL, FALSE);
  shared_wait_n_waiting (shared, 1);
  shared_unwatch (shared);
  pmt_limiter_release (shared->limiter);
  client_join (&shared->clients[0]);

  g_assert_no_error (shared->clients[0].error);
  g_assert_true (shared->clients[0].acquired);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 1);
}

static gpointer
release_thread (gpointer data)
{
  pmt_limiter_release (data);
  return NULL;
}

static gpointer
cancel_thread (gpointer data)
{
  g_cancellable_cancel (data);
  return NULL;
}

static void
test_limiter_cancel_blocked (Shared        *shared,
                             gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  Client *client;

  g_assert_true (pmt_limiter_try_acquire (shared->limiter));

  client = client_start (shared, 0, -1, cancellable, FALSE);
  shared_wait_n_waiting (shared, 1);
  shared_unwatch (shared);

  g_thread_join (g_thread_new ("canceller", cancel_thread, cancellable));
  client_join (client);

  g_assert_false (client->acquired);
  g_assert_error (client->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (shared->limiter), ==, 0);
  g_assert_cmpuint (shared_get_n_order (shared), ==, 0);

  /* Still ours, and nothing was taken by the cancelled waiter. */
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 0);
  pmt_limiter_release (shared->limiter);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 1);
}

/* A cancelled waiter in the middle of the line leaves it: the ones behind
 * it move up and are served in order. */
static void
test_limiter_cancel_middle (Shared        *shared,
                            gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();

  g_assert_true (pmt_limiter_try_acquire (shared->limiter));

  client_start (shared, 0, -1, NULL, FALSE);
  shared_wait_n_waiting (shared, 1);
  client_start (shared, 1, -1, cancellable, FALSE);
  shared_wait_n_waiting (shared, 2);
  client_start (shared, 2, -1, NULL, FALSE);
  shared_wait_n_waiting (shared, 3);
  shared_unwatch (shared);

  g_cancellable_cancel (cancellable);
  client_join (&shared->clients[1]);
  g_assert_error (shared->clients[1].error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (shared->limiter), ==, 2);

  pmt_limiter_release (shared->limiter);
  client_join (&shared->clients[0]);
  client_join (&shared->clients[2]);

  g_assert_cmpuint (shared->n_order, ==, 2);
  g_assert_cmpuint (shared->order[0], ==, 0);
  g_assert_cmpuint (shared->order[1], ==, 2);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 1);
}

static void
test_limiter_cancel_already (void)
{
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (1);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  gint64 start;

  g_cancellable_cancel (cancellable);

  /* Free: still refused. */
  g_assert_false (pmt_limiter_acquire (limiter, -1, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 1);

  /* Full: refused at once rather than after the timeout. */
  g_assert_true (pmt_limiter_try_acquire (limiter));
  start = g_get_monotonic_time ();
  g_assert_false (pmt_limiter_acquire (limiter, SAFETY_TIMEOUT_USEC, cancellable, &error));
  g_assert_cmpint (g_get_monotonic_time () - start, <, SAFETY_TIMEOUT_USEC / 2);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  g_assert_cmpuint (pmt_limiter_get_n_waiting (limiter), ==, 0);
  pmt_limiter_release (limiter);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 1);
}

#define N_FIFO_CLIENTS 6

static void
test_limiter_fifo_threads (Shared        *shared,
                           gconstpointer  data)
{
  g_assert_true (pmt_limiter_try_acquire (shared->limiter));

  /* Each starts once the one before is in line, so arrival order is known. */
  for (guint i = 0; i < N_FIFO_CLIENTS; i++)
    {
      client_start (shared, i, -1, NULL, FALSE);
      shared_wait_n_waiting (shared, i + 1);
    }
  shared_unwatch (shared);

  pmt_limiter_release (shared->limiter);
  for (guint i = 0; i < N_FIFO_CLIENTS; i++)
    client_join (&shared->clients[i]);

  g_assert_cmpuint (shared->n_order, ==, N_FIFO_CLIENTS);
  for (guint i = 0; i < N_FIFO_CLIENTS; i++)
    {
      g_assert_true (shared->clients[i].acquired);
      g_assert_cmpuint (shared->order[i], ==, i);
    }
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 1);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (shared->limiter), ==, 0);
}

/* Threads and asynchronous calls wait in one line: thread 0, async 1,
 * thread 2, async 3, thread 4. */
static void
test_limiter_fifo_mixed (AsyncFixture  *fixture,
                         gconstpointer  data)
{
  GMainContext *context = fixture->context;
  Shared *shared = &fixture->shared;
  AsyncClient *async = fixture->async;

  g_assert_true (pmt_limiter_try_acquire (shared->limiter));

  for (guint i = 0; i < 5; i++)
    {
      if (i % 2 == 0)
        {
          client_start (shared, i, -1, NULL, FALSE);
        }
      else
        {
          AsyncClient *client = &async[i / 2];

          client->index = i;
          pmt_limiter_acquire_async (shared->limiter, NULL, async_client_cb, client);
        }
      shared_wait_n_waiting (shared, i + 1);
    }
  shared_unwatch (shared);

  pmt_limiter_release (shared->limiter);

  run_until (context, &async[0].done);
  run_until (context, &async[1].done);
  for (guint i = 0; i < 5; i += 2)
    client_join (&shared->clients[i]);

  /* Both asynchronous waiters: 1 and 3. */
  for (guint i = 0; i < 2; i++)
    {
      g_assert_no_error (async[i].error);
      g_assert_true (async[i].acquired);
      g_assert_true (async[i].thread == g_thread_self ());
      g_assert_true (async[i].context == context);
    }

  g_assert_cmpuint (shared->n_order, ==, 5);
  for (guint i = 0; i < 5; i++)
    g_assert_cmpuint (shared->order[i], ==, i);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 1);
}

static void
test_limiter_limit_raise (Shared        *shared,
                          gconstpointer  data)
{
  g_assert_true (pmt_limiter_try_acquire (shared->limiter));

  for (guint i = 0; i < 4; i++)
    {
      client_start (shared, i, -1, NULL, TRUE);
      shared_wait_n_waiting (shared, i + 1);
    }
  shared_unwatch (shared);

  /* Room for two more: the first two waiters, and only they, get in. */
  pmt_limiter_set_limit (shared->limiter, 3);
  g_assert_cmpuint (pmt_limiter_get_limit (shared->limiter), ==, 3);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (shared->limiter), ==, 2);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 0);
  shared_wait_n_order (shared, 2);
  g_assert_cmpuint (MIN (shared->order[0], shared->order[1]), ==, 0);
  g_assert_cmpuint (MAX (shared->order[0], shared->order[1]), ==, 1);

  /* One more. */
  pmt_limiter_set_limit (shared->limiter, 4);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (shared->limiter), ==, 1);
  shared_wait_n_order (shared, 3);
  g_assert_cmpuint (shared->order[2], ==, 2);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 0);

  /* Room for more than are waiting. */
  pmt_limiter_set_limit (shared->limiter, 10);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (shared->limiter), ==, 0);
  shared_wait_n_order (shared, 4);
  g_assert_cmpuint (shared->order[3], ==, 3);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 5);

  for (guint i = 0; i < 4; i++)
    {
      client_open (&shared->clients[i]);
      client_join (&shared->clients[i]);
    }
  pmt_limiter_release (shared->limiter);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 10);
}

/* Raising the limit serves asynchronous waiters as well, in order. */
static void
test_limiter_limit_raise_async (AsyncFixture  *fixture,
                                gconstpointer  data)
{
  GMainContext *context = fixture->context;
  Shared *shared = &fixture->shared;
  AsyncClient *async = fixture->async;

  for (guint i = 0; i < N_ASYNC_CLIENTS; i++)
    {
      async[i].hold = TRUE;
      pmt_limiter_acquire_async (shared->limiter, NULL, async_client_cb, &async[i]);
    }
  g_assert_cmpuint (pmt_limiter_get_n_waiting (shared->limiter), ==, 3);

  pmt_limiter_set_limit (shared->limiter, 2);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (shared->limiter), ==, 1);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 0);
  run_until (context, &async[0].done);
  run_until (context, &async[1].done);
  while (g_main_context_iteration (context, FALSE))
    ;
  g_assert_false (async[2].done);
  g_assert_true (async[0].acquired);
  g_assert_true (async[1].acquired);
  g_assert_cmpuint (shared->n_order, ==, 2);

  /* The last one gets in when one of the first two leaves. */
  pmt_limiter_release (shared->limiter);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (shared->limiter), ==, 0);
  run_until (context, &async[2].done);
  g_assert_true (async[2].acquired);
  g_assert_cmpuint (shared->n_order, ==, 3);
  g_assert_cmpuint (shared->order[2], ==, 2);

  pmt_limiter_release (shared->limiter);
  pmt_limiter_release (shared->limiter);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 2);
}

static void
test_limiter_limit_lower (Shared        *shared,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  /* Three holders: the main thread and clients 0 and 1. */
  g_assert_true (pmt_limiter_try_acquire (shared->limiter));
  client_start (shared, 0, -1, NULL, TRUE);
  client_start (shared, 1, -1, NULL, TRUE);
  shared_wait_n_order (shared, 2);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 0);

  pmt_limiter_set_limit (shared->limiter, 1);
  g_assert_cmpuint (pmt_limiter_get_limit (shared->limiter), ==, 1);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 0);
  g_assert_false (pmt_limiter_try_acquire (shared->limiter));

  client_start (shared, 2, -1, NULL, TRUE);
  shared_wait_n_waiting (shared, 1);
  shared_unwatch (shared);

  /* Three holders, limit 1: two must leave before client 2 gets in. */
  pmt_limiter_release (shared->limiter);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (shared->limiter), ==, 1);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 0);
  g_assert_false (pmt_limiter_acquire (shared->limiter, 0, NULL, &error));
  g_assert_error (error, PMT_ERROR, PMT_ERROR_TIMED_OUT);

  client_open (&shared->clients[0]);
  client_join (&shared->clients[0]);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (shared->limiter), ==, 1);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 0);
  g_assert_cmpuint (shared_get_n_order (shared), ==, 2);

  client_open (&shared->clients[1]);
  client_join (&shared->clients[1]);
  shared_wait_n_order (shared, 3);
  g_assert_cmpuint (shared->order[2], ==, 2);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (shared->limiter), ==, 0);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 0);

  client_open (&shared->clients[2]);
  client_join (&shared->clients[2]);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 1);
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  g_atomic_int_inc ((gint *)user_data);
}

static void
test_limiter_limit_notify (void)
{
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (1);
  gint n_notify = 0;
  guint limit;

  g_signal_connect (limiter, "notify::limit", G_CALLBACK (count_notify_cb), &n_notify);

  pmt_limiter_set_limit (limiter, 4);
  g_assert_cmpint (g_atomic_int_get (&n_notify), ==, 1);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 4);

  pmt_limiter_set_limit (limiter, 4);
  g_assert_cmpint (g_atomic_int_get (&n_notify), ==, 1);

  g_object_set (limiter, "limit", 2, NULL);
  g_assert_cmpint (g_atomic_int_get (&n_notify), ==, 2);
  g_object_get (limiter, "limit", &limit, NULL);
  g_assert_cmpuint (limit, ==, 2);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 2);
}

static GThread *
shared_get_notify_thread (Shared *shared)
{
  GThread *thread;

  g_mutex_lock (&shared->mutex);
  thread = shared->notify_thread;
  g_mutex_unlock (&shared->mutex);

  return thread;
}

/* n-waiting notifies each change, from the thread that made it.  Changes
 * are made so that no two threads notify at once (see shared_unwatch()). */
static void
test_limiter_n_waiting_notify (AsyncFixture  *fixture,
                               gconstpointer  data)
{
  g_autoptr(GCancellable) cancelled = g_cancellable_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  GMainContext *context = fixture->context;
  Shared *shared = &fixture->shared;
  AsyncClient *async = &fixture->async[0];
  GThread *thread;
  Client *client;

  async->hold = TRUE;
  g_assert_true (pmt_limiter_try_acquire (shared->limiter));
  g_assert_cmpuint (shared_get_n_notify (shared), ==, 0);

  /* A waiter that times out in another thread comes and goes: 0 → 1 → 0. */
  client = client_start (shared, 0, 1000, NULL, FALSE);
  thread = client->thread;
  client_join (client);
  g_assert_error (client->error, PMT_ERROR, PMT_ERROR_TIMED_OUT);
  g_assert_cmpuint (shared_get_n_notify (shared), ==, 2);
  g_assert_true (shared_get_notify_thread (shared) == thread);

  /* Failing without waiting does not change it. */
  g_cancellable_cancel (cancelled);
  client = client_start (shared, 1, -1, cancelled, FALSE);
  client_join (client);
  g_assert_error (client->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (pmt_limiter_try_acquire (shared->limiter));
  g_assert_false (pmt_limiter_acquire (shared->limiter, 0, NULL, &error));
  g_assert_error (error, PMT_ERROR, PMT_ERROR_TIMED_OUT);
  g_assert_cmpuint (shared_get_n_notify (shared), ==, 2);

  /* An asynchronous waiter queues here (0 → 1) and a release in another
   * thread hands the limiter over (1 → 0). */
  pmt_limiter_acquire_async (shared->limiter, NULL, async_client_cb, async);
  g_assert_cmpuint (shared_get_n_notify (shared), ==, 3);
  g_assert_true (shared_get_notify_thread (shared) == g_thread_self ());
  thread = g_thread_new ("releaser", release_thread, shared->limiter);
  g_thread_join (thread);
  g_assert_cmpuint (shared_get_n_notify (shared), ==, 4);
  g_assert_true (shared_get_notify_thread (shared) == thread);
  run_until (context, &async->done);
  g_assert_true (async->acquired);

  /* A blocked waiter in another thread queues (0 → 1) and leaves when
   * cancelled (1 → 0), both notified by its own thread. */
  client = client_start (shared, 2, -1, cancellable, FALSE);
  shared_wait_n_notify (shared, 5);
  g_assert_true (shared_get_notify_thread (shared) == client->thread);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (shared->limiter), ==, 1);
  thread = client->thread;
  g_cancellable_cancel (cancellable);
  client_join (client);
  g_assert_error (client->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (shared_get_n_notify (shared), ==, 6);
  g_assert_true (shared_get_notify_thread (shared) == thread);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (shared->limiter), ==, 0);

  /* A release without waiters does not change it. */
  pmt_limiter_release (shared->limiter);
  g_assert_cmpuint (shared_get_n_notify (shared), ==, 6);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 1);
}

static void
test_limiter_async_immediate (AsyncFixture  *fixture,
                              gconstpointer  data)
{
  GMainContext *context = fixture->context;
  Shared *shared = &fixture->shared;
  AsyncClient *async = &fixture->async[0];

  pmt_limiter_acquire_async (shared->limiter, NULL, async_client_cb, async);
  /* Acquired at once, but the callback comes from the main context. */
  g_assert_false (async->done);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 1);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (shared->limiter), ==, 0);

  run_until (context, &async->done);
  g_assert_no_error (async->error);
  g_assert_true (async->acquired);
  g_assert_true (async->thread == g_thread_self ());
  g_assert_true (async->context == context);
  g_assert_cmpuint (shared->n_order, ==, 1);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 2);
}

static void
test_limiter_async_after_release (AsyncFixture  *fixture,
                                  gconstpointer  data)
{
  GMainContext *context = fixture->context;
  Shared *shared = &fixture->shared;
  AsyncClient *async = &fixture->async[0];

  g_assert_true (pmt_limiter_try_acquire (shared->limiter));

  pmt_limiter_acquire_async (shared->limiter, NULL, async_client_cb, async);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (shared->limiter), ==, 1);

  /* Nothing happens while the limiter is held. */
  while (g_main_context_iteration (context, FALSE))
    ;
  g_assert_false (async->done);

  g_thread_join (g_thread_new ("releaser", release_thread, shared->limiter));
  g_assert_cmpuint (pmt_limiter_get_n_waiting (shared->limiter), ==, 0);

  run_until (context, &async->done);
  g_assert_no_error (async->error);
  g_assert_true (async->acquired);
  g_assert_true (async->thread == g_thread_self ());
  g_assert_true (async->context == context);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 1);
}

static void
test_limiter_async_cancel (AsyncFixture  *fixture,
                           gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  GMainContext *context = fixture->context;
  Shared *shared = &fixture->shared;
  AsyncClient *async = &fixture->async[0];
  AsyncClient *behind = &fixture->async[1];

  g_assert_true (pmt_limiter_try_acquire (shared->limiter));

  pmt_limiter_acquire_async (shared->limiter, cancellable, async_client_cb, async);
  pmt_limiter_acquire_async (shared->limiter, NULL, async_client_cb, behind);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (shared->limiter), ==, 2);

  g_thread_join (g_thread_new ("canceller", cancel_thread, cancellable));
  run_until (context, &async->done);

  g_assert_false (async->acquired);
  g_assert_error (async->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (async->thread == g_thread_self ());
  g_assert_cmpuint (pmt_limiter_get_n_waiting (shared->limiter), ==, 1);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 0);

  /* The one behind the cancelled waiter is next. */
  pmt_limiter_release (shared->limiter);
  run_until (context, &behind->done);
  g_assert_true (behind->acquired);
  g_assert_cmpuint (shared->n_order, ==, 1);
  g_assert_cmpuint (shared->order[0], ==, 1);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 1);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (shared->limiter), ==, 0);
}

static void
test_limiter_async_cancel_already (AsyncFixture  *fixture,
                                   gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  GMainContext *context = fixture->context;
  Shared *shared = &fixture->shared;
  AsyncClient *async = &fixture->async[0];

  g_cancellable_cancel (cancellable);

  pmt_limiter_acquire_async (shared->limiter, cancellable, async_client_cb, async);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (shared->limiter), ==, 0);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 1);

  run_until (context, &async->done);
  g_assert_false (async->acquired);
  g_assert_error (async->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 1);
}

/* The limiter is handed to an asynchronous waiter and its cancellable is
 * triggered before the callback runs: whatever acquire_finish() says, the
 * limiter must not stay held by nobody. */
static void
test_limiter_async_cancel_after_grant (AsyncFixture  *fixture,
                                       gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  GMainContext *context = fixture->context;
  Shared *shared = &fixture->shared;
  AsyncClient *async = &fixture->async[0];

  g_assert_true (pmt_limiter_try_acquire (shared->limiter));

  pmt_limiter_acquire_async (shared->limiter, cancellable, async_client_cb, async);
  pmt_limiter_release (shared->limiter);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 0);
  g_cancellable_cancel (cancellable);

  run_until (context, &async->done);
  /* It was handed over before the cancellation: it stays acquired, and
   * the callback released it. */
  g_assert_no_error (async->error);
  g_assert_true (async->acquired);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 1);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (shared->limiter), ==, 0);
  g_assert_true (pmt_limiter_try_acquire (shared->limiter));
  pmt_limiter_release (shared->limiter);
}

/* The other order: cancelled first, then released before the main context
 * noticed the cancellation. */
static void
test_limiter_async_cancel_before_release (AsyncFixture  *fixture,
                                          gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  GMainContext *context = fixture->context;
  Shared *shared = &fixture->shared;
  AsyncClient *async = &fixture->async[0];

  g_assert_true (pmt_limiter_try_acquire (shared->limiter));

  pmt_limiter_acquire_async (shared->limiter, cancellable, async_client_cb, async);
  g_cancellable_cancel (cancellable);
  pmt_limiter_release (shared->limiter);

  run_until (context, &async->done);
  /* Either outcome is fine; the callback releases the limiter when it
   * reports success, and a failure must not hold it. */
  if (!async->acquired)
    g_assert_error (async->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 1);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (shared->limiter), ==, 0);
  g_assert_true (pmt_limiter_try_acquire (shared->limiter));
  pmt_limiter_release (shared->limiter);
}

typedef struct
{
  PmtLimiter *limiter;
  guint n_runs;
  guint available_inside;
  GThread *thread;
} RunData;

static void
run_func (gpointer user_data)
{
  RunData *data = user_data;

  data->n_runs++;
  data->available_inside = pmt_limiter_get_available (data->limiter);
  data->thread = g_thread_self ();
}

static void
test_limiter_run (void)
{
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (2);
  g_autoptr(GError) error = NULL;
  RunData data = { limiter, 0, G_MAXUINT, NULL };

  g_assert_true (pmt_limiter_run (limiter, -1, NULL, run_func, &data, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (data.n_runs, ==, 1);
  g_assert_cmpuint (data.available_inside, ==, 1);
  g_assert_true (data.thread == g_thread_self ());
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 2);

  /* With one held elsewhere, the function has the last place. */
  g_assert_true (pmt_limiter_try_acquire (limiter));
  g_assert_true (pmt_limiter_run (limiter, 0, NULL, run_func, &data, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (data.n_runs, ==, 2);
  g_assert_cmpuint (data.available_inside, ==, 0);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 1);
  pmt_limiter_release (limiter);
}

static void
test_limiter_run_full (void)
{
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (1);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  RunData data = { limiter, 0, G_MAXUINT, NULL };

  g_assert_true (pmt_limiter_try_acquire (limiter));
  g_assert_false (pmt_limiter_run (limiter, 0, NULL, run_func, &data, &error));
  g_assert_error (error, PMT_ERROR, PMT_ERROR_TIMED_OUT);
  g_assert_cmpuint (data.n_runs, ==, 0);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 0);
  pmt_limiter_release (limiter);
  g_clear_error (&error);

  g_cancellable_cancel (cancellable);
  g_assert_false (pmt_limiter_run (limiter, -1, cancellable, run_func, &data, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (data.n_runs, ==, 0);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 1);
}

#define CONCURRENCY_LIMIT 3
#define N_CONCURRENCY_THREADS 8

static void
concurrency_func (gpointer user_data)
{
  Shared *shared = user_data;
  gint inside = g_atomic_int_add (&shared->inside, 1) + 1;
  gint max_inside = g_atomic_int_get (&shared->max_inside);
  gint64 end_time;

  while (inside > max_inside &&
         !g_atomic_int_compare_and_exchange_full (&shared->max_inside, max_inside, inside,
                                                  &max_inside))
    ;
  g_assert_cmpint (inside, <=, CONCURRENCY_LIMIT);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), <, CONCURRENCY_LIMIT);

  end_time = g_get_monotonic_time () + SAFETY_TIMEOUT_USEC;
  g_mutex_lock (&shared->mutex);
  g_cond_broadcast (&shared->cond);
  while (!shared->gate_open)
    if (!g_cond_wait_until (&shared->cond, &shared->mutex, end_time))
      g_error ("the gate never opened");
  g_mutex_unlock (&shared->mutex);

  g_atomic_int_add (&shared->inside, -1);
}

static gpointer
concurrency_thread (gpointer data)
{
  Shared *shared = data;
  GError *error = NULL;

  g_assert_true (pmt_limiter_run (shared->limiter, -1, NULL, concurrency_func, shared, &error));
  g_assert_no_error (error);

  return NULL;
}

/* The seed's @Limiter(n): however many threads call, exactly n run the
 * function at once.  Threads start one after the other, each once the one
 * before is inside or in line. */
static void
test_limiter_run_concurrency (Shared        *shared,
                              gconstpointer  data)
{
  GThread *threads[N_CONCURRENCY_THREADS];

  for (guint i = 0; i < N_CONCURRENCY_THREADS; i++)
    {
      threads[i] = g_thread_new ("limiter-run", concurrency_thread, shared);

      if (i < CONCURRENCY_LIMIT)
        {
          gint64 end_time = g_get_monotonic_time () + SAFETY_TIMEOUT_USEC;

          g_mutex_lock (&shared->mutex);
          while (g_atomic_int_get (&shared->inside) < (gint) i + 1)
            if (!g_cond_wait_until (&shared->cond, &shared->mutex, end_time))
              break;
          g_mutex_unlock (&shared->mutex);
          g_assert_cmpint (g_atomic_int_get (&shared->inside), ==, i + 1);
        }
      else
        {
          shared_wait_n_waiting (shared, i + 1 - CONCURRENCY_LIMIT);
        }
    }
  shared_unwatch (shared);

  /* A full limiter and everybody else in line. */
  g_assert_cmpint (g_atomic_int_get (&shared->inside), ==, CONCURRENCY_LIMIT);
  g_assert_cmpint (g_atomic_int_get (&shared->max_inside), ==, CONCURRENCY_LIMIT);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (shared->limiter), ==,
                    N_CONCURRENCY_THREADS - CONCURRENCY_LIMIT);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, 0);

  pmt_test_set_flag (&shared->mutex, &shared->cond, &shared->gate_open);

  for (guint i = 0; i < N_CONCURRENCY_THREADS; i++)
    g_thread_join (threads[i]);

  g_assert_cmpint (g_atomic_int_get (&shared->max_inside), ==, CONCURRENCY_LIMIT);
  g_assert_cmpint (g_atomic_int_get (&shared->inside), ==, 0);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, CONCURRENCY_LIMIT);
}

static void
test_limiter_release_unheld (void)
{
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (1);

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*released more often*");
  pmt_limiter_release (limiter);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 1);

  g_assert_true (pmt_limiter_try_acquire (limiter));
  pmt_limiter_release (limiter);
  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*released more often*");
  pmt_limiter_release (limiter);
  g_test_assert_expected_messages ();

  /* The bad releases gave no extra room. */
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 1);
  g_assert_true (pmt_limiter_try_acquire (limiter));
  g_assert_false (pmt_limiter_try_acquire (limiter));
  pmt_limiter_release (limiter);
}

static void
test_limiter_null_self (void)
{
  g_autoptr(GError) error = NULL;

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_LIMITER*");
  g_assert_false (pmt_limiter_acquire (NULL, 0, NULL, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_LIMITER*");
  g_assert_false (pmt_limiter_try_acquire (NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_LIMITER*");
  pmt_limiter_release (NULL);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_LIMITER*");
  g_assert_cmpuint (pmt_limiter_get_available (NULL), ==, 0);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_LIMITER*");
  pmt_limiter_set_limit (NULL, 3);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_LIMITER*");
  pmt_limiter_acquire_async (NULL, NULL, NULL, NULL);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*PMT_IS_LIMITER*");
  g_assert_false (pmt_limiter_run (NULL, 0, NULL, run_func, NULL, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
}

static void
test_limiter_run_null_func (void)
{
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (1);
  g_autoptr(GError) error = NULL;

  g_test_expect_message ("Pmt", G_LOG_LEVEL_CRITICAL, "*func != NULL*");
  g_assert_false (pmt_limiter_run (limiter, 0, NULL, NULL, NULL, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 1);
}

#define STRESS_LIMIT 3
#define STRESS_THREADS 8
#define STRESS_ITERATIONS 5000

static gpointer
stress_thread (gpointer data)
{
  Shared *shared = data;

  for (guint i = 0; i < STRESS_ITERATIONS; i++)
    {
      gint inside, max_inside;

      if (i % 4 != 0 || !pmt_limiter_try_acquire (shared->limiter))
        g_assert_true (pmt_limiter_acquire (shared->limiter, -1, NULL, NULL));

      inside = g_atomic_int_add (&shared->inside, 1) + 1;
      max_inside = g_atomic_int_get (&shared->max_inside);
      while (inside > max_inside &&
             !g_atomic_int_compare_and_exchange_full (&shared->max_inside, max_inside, inside,
                                                      &max_inside))
        ;
      g_assert_cmpint (inside, <=, STRESS_LIMIT);
      g_atomic_int_add (&shared->inside, -1);

      pmt_limiter_release (shared->limiter);
    }

  return NULL;
}

static void
test_limiter_stress (Shared        *shared,
                     gconstpointer  data)
{
  GThread *threads[STRESS_THREADS];

  shared_unwatch (shared);

  for (guint i = 0; i < STRESS_THREADS; i++)
    threads[i] = g_thread_new ("limiter-stress", stress_thread, shared);
  for (guint i = 0; i < STRESS_THREADS; i++)
    g_thread_join (threads[i]);

  g_assert_cmpint (g_atomic_int_get (&shared->inside), ==, 0);
  g_assert_cmpint (g_atomic_int_get (&shared->max_inside), >=, 1);
  g_assert_cmpint (g_atomic_int_get (&shared->max_inside), <=, STRESS_LIMIT);
  g_assert_cmpuint (pmt_limiter_get_available (shared->limiter), ==, STRESS_LIMIT);
  g_assert_cmpuint (pmt_limiter_get_n_waiting (shared->limiter), ==, 0);
}

static void
test_limiter_acquire_huge_timeout (void)
{
  g_autoptr(PmtLimiter) limiter = pmt_limiter_new (1);
  g_autoptr(GError) error = NULL;
  GThread *thread;

  g_assert_true (pmt_limiter_try_acquire (limiter));
  thread = pmt_test_call_later ((GDestroyNotify) pmt_limiter_release, limiter);
  g_assert_true (pmt_limiter_acquire (limiter, G_MAXINT64, NULL, &error));
  g_assert_no_error (error);
  g_thread_join (thread);
  pmt_limiter_release (limiter);
  g_assert_cmpuint (pmt_limiter_get_available (limiter), ==, 1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/pmt/limiter/basic", test_limiter_basic);
  g_test_add_func ("/pmt/limiter/limit-zero", test_limiter_limit_zero);
  g_test_add_func ("/pmt/limiter/try-acquire/full", test_limiter_try_acquire);
  g_test_add ("/pmt/limiter/try-acquire/no-overtaking", Shared, GUINT_TO_POINTER (1),
              shared_setup, test_limiter_try_acquire_no_overtaking, shared_teardown);
  g_test_add ("/pmt/limiter/try-acquire/no-overtaking-async", AsyncFixture, GUINT_TO_POINTER (1),
              async_setup, test_limiter_try_acquire_no_overtaking_async, async_teardown);
  g_test_add_func ("/pmt/limiter/acquire/timeout-zero", test_limiter_acquire_timeout_zero);
  g_test_add_func ("/pmt/limiter/acquire/timeout-short", test_limiter_acquire_timeout_short);
  g_test_add ("/pmt/limiter/acquire/timeout-granted", Shared, GUINT_TO_POINTER (1),
              shared_setup, test_limiter_acquire_timeout_granted, shared_teardown);
  g_test_add ("/pmt/limiter/acquire/forever", Shared, GUINT_TO_POINTER (1),
              shared_setup, test_limiter_acquire_forever, shared_teardown);
  g_test_add ("/pmt/limiter/cancel/blocked", Shared, GUINT_TO_POINTER (1),
              shared_setup, test_limiter_cancel_blocked, shared_teardown);
  g_test_add ("/pmt/limiter/cancel/middle-of-line", Shared, GUINT_TO_POINTER (1),
              shared_setup, test_limiter_cancel_middle, shared_teardown);
  g_test_add_func ("/pmt/limiter/cancel/already", test_limiter_cancel_already);
  g_test_add ("/pmt/limiter/fifo/threads", Shared, GUINT_TO_POINTER (1),
              shared_setup, test_limiter_fifo_threads, shared_teardown);
  g_test_add ("/pmt/limiter/fifo/mixed-async", AsyncFixture, GUINT_TO_POINTER (1),
              async_setup, test_limiter_fifo_mixed, async_teardown);
  g_test_add ("/pmt/limiter/limit/raise-wakes-waiters", Shared, GUINT_TO_POINTER (1),
              shared_setup, test_limiter_limit_raise, shared_teardown);
  g_test_add ("/pmt/limiter/limit/raise-wakes-async", AsyncFixture, GUINT_TO_POINTER (0),
              async_setup, test_limiter_limit_raise_async, async_teardown);
  g_test_add ("/pmt/limiter/limit/lower-keeps-holders", Shared, GUINT_TO_POINTER (3),
              shared_setup, test_limiter_limit_lower, shared_teardown);
  g_test_add_func ("/pmt/limiter/limit/notify", test_limiter_limit_notify);
  g_test_add ("/pmt/limiter/n-waiting/notify", AsyncFixture, GUINT_TO_POINTER (1),
              async_setup, test_limiter_n_waiting_notify, async_teardown);
  g_test_add ("/pmt/limiter/async/immediate", AsyncFixture, GUINT_TO_POINTER (2),
              async_setup, test_limiter_async_immediate, async_teardown);
  g_test_add ("/pmt/limiter/async/after-release", AsyncFixture, GUINT_TO_POINTER (1),
              async_setup, test_limiter_async_after_release, async_teardown);
  g_test_add ("/pmt/limiter/async/cancel", AsyncFixture, GUINT_TO_POINTER (1),
              async_setup, test_limiter_async_cancel, async_teardown);
  g_test_add ("/pmt/limiter/async/cancel-already", AsyncFixture, GUINT_TO_POINTER (1),
              async_setup, test_limiter_async_cancel_already, async_teardown);
  g_test_add ("/pmt/limiter/async/cancel-after-grant", AsyncFixture, GUINT_TO_POINTER (1),
              async_setup, test_limiter_async_cancel_after_grant, async_teardown);
  g_test_add ("/pmt/limiter/async/cancel-before-release", AsyncFixture, GUINT_TO_POINTER (1),
              async_setup, test_limiter_async_cancel_before_release, async_teardown);
  g_test_add_func ("/pmt/limiter/run/holds", test_limiter_run);
  g_test_add_func ("/pmt/limiter/run/full", test_limiter_run_full);
  g_test_add ("/pmt/limiter/run/concurrency", Shared, GUINT_TO_POINTER (CONCURRENCY_LIMIT),
              shared_setup, test_limiter_run_concurrency, shared_teardown);
  g_test_add_func ("/pmt/limiter/error/release-unheld", test_limiter_release_unheld);
  g_test_add_func ("/pmt/limiter/error/null-self", test_limiter_null_self);
  g_test_add_func ("/pmt/limiter/error/run-null-func", test_limiter_run_null_func);
  g_test_add ("/pmt/limiter/stress", Shared, GUINT_TO_POINTER (STRESS_LIMIT),
              shared_setup, test_limiter_stress, shared_teardown);

  pmt_test_add_guarded_func ("/pmt/limiter/acquire/huge-timeout",
                             test_limiter_acquire_huge_timeout, 60 * G_USEC_PER_SEC);

  return g_test_run ();
}
