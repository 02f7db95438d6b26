# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Seed README, "Decorator Examples": "Let's combine some of the above
# things together now" (@Limiter on the call back, @Threaded with
# callback_func, pool_name, _pool_maxWorkers and _task_store_return, then
# pool.join).  Its import line is changed to Pmt's.
# --- README code below, only the import line changed ---

from random import randint
from gi.repository import Pmt
Limiter = Pmt.Limiter
Threaded = Pmt.Threaded
Pool = Pmt.ThreadPool
store_values = [] # Global variable used because the task isn't going to store the results.

# Learn about the Limiter in the following section.
@Limiter(1) # Because of the limiter the store_values object will not be appended to more than one at a time.
def callback_test(*args, **kwargs):
    # This will receive the return value of each 'test' method call.
    global store_values
    print(f'callback_test - Completed: {args} - {kwargs}')
    store_values.append(args)
    

@Threaded(callback_func=callback_test, pool_name='mypool', _pool_maxWorkers=2, _task_store_return=False)
def test(*args, **kwargs):
    print(f'{args} - {kwargs}')
    return randint(0, 10) # Return a random number from 0 to 10.
    

tasks = [test() for _ in range(4)]

pool = Pool.get_pool_by_name('mypool') # Get the Pool associated with the two above functions.
pool.join(block=True) # Ends the Pool.

print(f"Stored Values: {store_values}")
