/* fail-fork.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* An LD_PRELOAD shim that makes fork() and posix_spawn() fail with
 * EAGAIN, as they do at RLIMIT_NPROC: the child of a command task then
 * never exists.  A test program finds pmt_fault_fork() with
 * dlsym (RTLD_DEFAULT, ...) and says how many calls from now fail. */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <spawn.h>
#include <unistd.h>

typedef pid_t (*ForkFunc) (void);
typedef int (*SpawnFunc) (pid_t *, const char *, const posix_spawn_file_actions_t *,
                          const posix_spawnattr_t *, char *const [], char *const []);

static long left;                   /* calls still to fail, atomic */

/* The next @count calls of fork() or posix_spawn() fail.  Returns how
 * many of the previous count were left. */
long pmt_fault_fork (long count);

long
pmt_fault_fork (long count)
{
  return __atomic_exchange_n (&left, count, __ATOMIC_SEQ_CST);
}

static int
should_fail (void)
{
  long n = __atomic_load_n (&left, __ATOMIC_SEQ_CST);

  while (n > 0)
    if (__atomic_compare_exchange_n (&left, &n, n - 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
      return 1;

  return 0;
}

static void *
next_symbol (void       **cache,
             const char  *name)
{
  void *symbol = __atomic_load_n (cache, __ATOMIC_ACQUIRE);

  if (symbol == NULL)
    {
      symbol = dlsym (RTLD_NEXT, name);
      __atomic_store_n (cache, symbol, __ATOMIC_RELEASE);
    }

  return symbol;
}

pid_t
fork (void)
{
  static void *real;

  if (should_fail ())
    {
      errno = EAGAIN;
      return -1;
    }

  return ((ForkFunc) next_symbol (&real, "fork")) ();
}

int
posix_spawn (pid_t                            *pid,
             const char                       *path,
             const posix_spawn_file_actions_t *actions,
             const posix_spawnattr_t          *attr,
             char *const                       argv[],
             char *const                       envp[])
{
  static void *real;

  if (should_fail ())
    return EAGAIN;

  return ((SpawnFunc) next_symbol (&real, "posix_spawn")) (pid, path, actions, attr, argv, envp);
}
