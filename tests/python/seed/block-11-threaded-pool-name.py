# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Seed README, "Decorator Examples": @Threaded(pool_name=...), one named
# Pool shared by two functions, found with Pool.get_pool_by_name().  Its
# import line is changed to Pmt's.
# --- README code below, only the import line changed ---

from gi.repository import Pmt
Threaded = Pmt.Threaded
Pool = Pmt.ThreadPool
pool_name = 'mypool' # Global variable


@Threaded(pool_name=pool_name)
def test_dec_pool_by_name_one(*args, **kwargs):
    print(f"Running: test_dec_pool_by_name_one - args={args} - kwargs={kwargs}")


@Threaded(pool_name=pool_name)
def test_dec_pool_by_name_twp(*args, **kwargs):
    print(f"Running: test_dec_pool_by_name_twp - args={args} - kwargs={kwargs}")

    
tasksOne = [test_dec_pool_by_name_one(randomsleep=True) for _ in range(4)]
tasksTwo = [test_dec_pool_by_name_twp(randomsleep=True) for _ in range(4)]

pool = Pool.get_pool_by_name(pool_name) # Get the Pool associated with the two above functions
pool.wait_completion(block=True) # Block all new submissions until existing work has been completed 

for task in tasksOne + tasksTwo:
    print(f"Task[{task}] completed with results: {task.results}")
