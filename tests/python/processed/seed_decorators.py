# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test_process.py: the seed README's "Decorator Examples", rewritten with
# @Pmt.Processed: the same code with Threaded replaced by Processed and
# the decorated functions at module level, as process calls need (each
# child imports this script again, under multiprocessing's "spawn").  The
# argument names the block to run; the test checks what it prints.

import sys
from random import randint

import gi
gi.require_version('Pmt', '1.0')
from gi.repository import Pmt  # noqa: E402

Processed = Pmt.Processed
Limiter = Pmt.Limiter
Pool = Pmt.ProcessPool
pool_name = 'mypool'
store_values = []


# Block 08: a function made multi-process.
@Processed
def test_plain(*args, **kwargs):
    print(f'{args} - {kwargs}', flush=True)


# Block 09: one persistent child for every call.
@Processed(daemon=True)
def test_daemon(*args, **kwargs):
    print(f'{args} - {kwargs}', flush=True)


# Block 10: a private process pool.
@Processed(pool=True)
def test_pool(*args, **kwargs):
    print(f'{args} - {kwargs}', flush=True)


# Block 11: two functions sharing the process pool named 'mypool'.
@Processed(pool_name=pool_name)
def test_dec_pool_by_name_one(*args, **kwargs):
    print(f"Running: test_dec_pool_by_name_one - args={args} - kwargs={kwargs}", flush=True)


@Processed(pool_name=pool_name)
def test_dec_pool_by_name_twp(*args, **kwargs):
    print(f"Running: test_dec_pool_by_name_twp - args={args} - kwargs={kwargs}", flush=True)


# Block 12: a call back given each call's result, run in the parent.
def callback_test(*args, **kwargs):
    print(f'callback_test - Completed: {args} - {kwargs}', flush=True)
    return args[0]


@Processed(callback_func=callback_test)
def test_callback(*args, **kwargs):
    print(f'{args} - {kwargs}', flush=True)


# Block 13: the combined example.
@Limiter(1)
def limited_callback(*args, **kwargs):
    print(f'callback_test - Completed: {args} - {kwargs}', flush=True)
    store_values.append(args)


@Processed(callback_func=limited_callback, pool_name='combined', _pool_maxWorkers=2,
           _task_store_return=False)
def test_combined(*args, **kwargs):
    print(f'{args} - {kwargs}', flush=True)
    return randint(0, 10)


def block_08():
    task = test_plain()
    if task.wait(10):
        print(task.results)
    else:
        print(f"{task} not finished")


def block_09():
    tasks = [test_daemon(n, call=n) for n in range(3)]
    for task in tasks:
        if task.wait(10):
            print(task.results)
        else:
            print(f"{task} not finished")


def block_10():
    tasks = [test_pool(n, call=n) for n in range(4)]
    print(Pool.join_pools(timeout=60))
    print(all(task.is_set() for task in tasks), [task.results for task in tasks])


def block_11():
    tasksOne = [test_dec_pool_by_name_one(randomsleep=True) for _ in range(4)]
    tasksTwo = [test_dec_pool_by_name_twp(randomsleep=True) for _ in range(4)]
    pool = Pool.get_pool_by_name(pool_name)
    pool.wait_completion(block=True)
    for task in tasksOne + tasksTwo:
        print(f"Task[{task.get_id()}] completed with results: {task.results}")


def block_12():
    task = test_callback("arg", example="kwargs")
    if task.wait(10):
        print(task.results)
    else:
        print(f"{task} not finished")


def block_13():
    tasks = [test_combined() for _ in range(4)]
    pool = Pool.get_pool_by_name('combined')
    pool.join(block=True)
    print(f"Stored Values: {store_values}")
    print(f"Results: {[task.results for task in tasks]}")


if __name__ == '__main__':
    globals()['block_' + sys.argv[1]]()
