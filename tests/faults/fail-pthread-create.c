/* fail-pthread-create.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* An LD_PRELOAD shim that makes pthread_create() fail with EAGAIN, as it
 * does when a process reaches RLIMIT_NPROC or runs out of memory for
 * stacks.  GLib's g_thread_try_new() reports that as a GError; Pmt must
 * then go on with the threads it has, or fail what it cannot run.
 *
 * Outside control: PMT_FAULT_PTHREAD_CREATE_EVERY=N makes every Nth call
 * fail from the start (any program can be run under it).  A test program
 * finds pmt_fault_pthread_create() with dlsym (RTLD_DEFAULT, ...) and
 * decides when calls fail, so that GLib's own threads, which abort when
 * they cannot start, are started before it turns failures on. */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

typedef int (*CreateFunc) (pthread_t *, const pthread_attr_t *, void *(*) (void *), void *);

static int every = -1;              /* -1: not read from the environment yet */
static long left = -1;              /* failures still to inject; negative: no bound */
static unsigned long n_calls, n_failed;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* From now on, every @every-th call fails (1: each, 0: none), @count
 * times at most (negative: without end).  Returns how many calls failed
 * so far. */
unsigned long pmt_fault_pthread_create (int every_nth, long count);

unsigned long
pmt_fault_pthread_create (int  every_nth,
                          long count)
{
  unsigned long failed;

  pthread_mutex_lock (&lock);
  every = every_nth;
  left = count;
  n_calls = 0;
  failed = n_failed;
  pthread_mutex_unlock (&lock);

  return failed;
}

static int
should_fail (void)
{
  int fail;

  pthread_mutex_lock (&lock);
  if (every < 0)
    {
      const char *env = getenv ("PMT_FAULT_PTHREAD_CREATE_EVERY");

      every = env != NULL ? atoi (env) : 0;
    }
  n_calls++;
  fail = every > 0 && left != 0 && n_calls % every == 0;
  if (fail)
    {
      n_failed++;
      if (left > 0)
        left--;
    }
  pthread_mutex_unlock (&lock);

  return fail;
}

int
pthread_create (pthread_t            *thread,
                const pthread_attr_t *attr,
                void               *(*start_routine) (void *),
                void                 *arg)
{
  static CreateFunc real_create;
  CreateFunc real = __atomic_load_n (&real_create, __ATOMIC_ACQUIRE);

  if (real == NULL)
    {
      real = (CreateFunc) dlsym (RTLD_NEXT, "pthread_create");
      __atomic_store_n (&real_create, real, __ATOMIC_RELEASE);
    }

  if (should_fail ())
    return EAGAIN;

  return real (thread, attr, start_routine, arg);
}
