# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Seed README, "Decorator Examples": @Threaded(pool=True), a Pool for the
# function, and Pool.join_pools().  Its import line is changed to Pmt's.
# The block only defines the function: lines added after it call it.
# --- README code below, only the import line changed ---

from gi.repository import Pmt
Threaded = Pmt.Threaded
Pool = Pmt.ThreadPool

@Threaded(pool=True)
def test(*args, **kwargs):
    print(f'{args} - {kwargs}')

Pool.join_pools(timeout=60) # This will find all Pools and run 'join' on them.

# --- added: exercise the block ---
tasks = [test(n, call=n) for n in range(4)]
print(Pool.join_pools(timeout=60))
print(all(task.is_set() for task in tasks), [task.results for task in tasks])
