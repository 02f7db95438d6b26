# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the overrides let go of: tasks once dropped (whatever their end),
the functions and arguments of tasks that ran, done callbacks, pools,
@Threaded tasks; and no growth over many tasks."""

import gc
import os
import threading
import time
import tracemalloc
import weakref

import pytest

from conftest import SAFETY, Gate, assert_freed, wait_until

from gi.repository import Pmt


class Boom(Exception):
    pass


class Arg:
    """An argument (or a callable) that can be weakly referenced."""

    def __call__(self, *args, **kwargs):
        return 'called'


def refs(task):
    """Weak references to ``task``: its Python wrapper and its GObject
    (finalized only when C lets go of it too)."""
    return weakref.ref(task), task.weak_ref()


def assert_task_freed(task_refs):
    wrapper, gobject = task_refs
    assert_freed(gobject, 'the task (GObject)')
    assert_freed(wrapper, 'the task (wrapper)')


def n_threads():
    return len(os.listdir('/proc/self/task'))


def rss_bytes():
    with open('/proc/self/statm') as statm:
        return int(statm.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


# Tasks -----------------------------------------------------------------------

def test_succeeded_task_is_freed(pool):
    task = pool.submit(lambda: [1, 2, 3])
    assert task.result(SAFETY) == [1, 2, 3]
    task_refs = refs(task)
    del task
    assert_task_freed(task_refs)


def test_result_is_freed_with_its_task(pool):
    task = pool.submit(Arg)
    result = weakref.ref(task.result(SAFETY))
    assert result() is not None
    del task
    assert_freed(result, 'the result')


def test_failed_task_is_freed(pool, caplog):
    task = pool.submit(raise_boom)
    assert isinstance(task.exception(SAFETY), Boom)
    task_refs = refs(task)
    del task
    assert_task_freed(task_refs)


def test_unretrieved_failed_task_is_freed(pool, caplog):
    task = pool.submit(raise_boom)
    assert task.wait(SAFETY)
    task_refs = refs(task)
    del task
    assert_task_freed(task_refs)


def raise_boom(*args):
    raise Boom(*args)


def test_task_with_task_object_is_freed(pool):
    def fn(TaskObject):
        return TaskObject.get_id()

    task = pool.submit(fn)
    assert task.result(SAFETY) == task.get_id()
    task_refs = refs(task)
    del task
    assert_task_freed(task_refs)


def test_task_returning_itself_is_freed(pool):
    # A cycle through the result: the wrapper keeps it, where the
    # garbage collector sees it.
    task = pool.submit(lambda TaskObject: TaskObject)
    assert task.result(SAFETY) is task
    task_refs = refs(task)
    del task
    assert_task_freed(task_refs)


def test_cancelled_task_is_freed():
    pool = Pmt.Pool(1)
    gate = Gate()
    try:
        pool.submit(gate)
        gate.wait_entered()
        task = pool.submit(Arg(), Arg())
        assert task.cancel()
        task_refs = refs(task)
        del task
    finally:
        gate.open()
    assert pool.wait_completion(SAFETY)
    assert_task_freed(task_refs)
    assert pool.join(SAFETY)


def test_task_cancelled_by_shutdown_is_freed():
    pool = Pmt.Pool(1)
    gate = Gate()
    pool.submit(gate)
    gate.wait_entered()
    task = pool.submit(lambda: 1)
    task_refs = refs(task)
    del task
    pool.shutdown(0, cancel_queued=True)
    gate.open()
    assert pool.join(SAFETY)
    assert_task_freed(task_refs)


@pytest.mark.parametrize('look', ['none', 'results', 'result', 'exception'])
def test_task_whose_traceback_refers_to_it_is_freed(pool, caplog, look):
    # The frames of the exception hold the task: the C library holds the
    # exception, which must not make the task immortal.
    def fn(TaskObject):
        me = TaskObject        # a local too
        raise Boom(me.get_id())

    task = pool.submit(fn)
    assert task.wait(SAFETY)
    retrieve(task, look)
    task_refs = refs(task)
    del task
    assert_task_freed(task_refs)


def retrieve(task, look):
    """Gets ``task``'s exception: raised again by results / result(), so
    that the frames of this function join its traceback."""
    if look == 'results':
        with pytest.raises(Boom):
            task.results
    elif look == 'result':
        with pytest.raises(Boom):
            task.result()
    elif look == 'exception':
        assert isinstance(task.exception(), Boom)


@pytest.mark.parametrize('look', ['none', 'results', 'result', 'exception'])
@pytest.mark.parametrize('kind', ['map', 'raw', 'threaded', 'subclass'])
def test_failed_task_of_every_kind_is_freed(pool, caplog, kind, look):
    # Their calls or exceptions were held from C: raising the exception
    # again from results or result() put frames holding the task into its
    # traceback, and the task was never freed.
    def fn(TaskObject=None):
        raise Boom('failed')

    class Failing(Pmt.Task):
        def do_run(self):
            raise Boom('failed')

    if kind == 'map':
        task = pool.map(fn, [((), {})])[0]
    elif kind == 'raw':
        task = pool.submit_full(0, lambda t: fn(t))
    elif kind == 'threaded':
        task = Pmt.Threaded(fn, pool=pool)()
    else:
        task = Failing()
        pool.push(task)
    assert task.wait(SAFETY)
    assert task.get_state() == Pmt.TaskState.FAILED
    retrieve(task, look)
    task_refs = refs(task)
    del task
    assert_task_freed(task_refs)


def test_caller_frame_holding_tasks_does_not_keep_them(pool):
    # The frame of a function that caught a task's exception joins its
    # traceback, with its locals: the tasks of a map() among them.
    def collect():
        tasks = pool.map(raise_boom, [((i,), {}) for i in range(5)])
        assert Pmt.Task.wait_all(tasks, SAFETY)
        caught = []
        for task in tasks:
            try:
                task.results
            except Boom as exc:
                caught.append(exc.args[0])
        assert caught == list(range(5))
        return [refs(task) for task in tasks]

    for task_refs in collect():
        assert_task_freed(task_refs)


# What a task holds -----------------------------------------------------------

def test_function_and_arguments_are_released_after_the_run(pool):
    fn, arg, kwarg = Arg(), Arg(), Arg()
    fn_ref, arg_ref, kwarg_ref = weakref.ref(fn), weakref.ref(arg), weakref.ref(kwarg)
    task = pool.submit(fn, arg, key=kwarg)
    del fn, arg, kwarg
    assert task.result(SAFETY) == 'called'
    assert_freed(fn_ref, 'the function')
    assert_freed(arg_ref, 'the argument')
    assert_freed(kwarg_ref, 'the keyword argument')
    assert task.results == 'called'       # the task is still there


def test_failed_function_and_arguments_are_released(pool):
    arg = Arg()
    arg_ref = weakref.ref(arg)
    task = pool.submit(raise_boom, arg)
    del arg
    assert task.wait(SAFETY)
    # The exception holds its args (the argument itself): drop those.
    task.exception().args = ()
    assert_freed(arg_ref, 'the argument')
    assert task.get_state() == Pmt.TaskState.FAILED


def test_map_arguments_are_released_after_the_run(pool):
    args = [Arg() for _ in range(4)]
    arg_refs = [weakref.ref(a) for a in args]
    tasks = pool.map(lambda a: 'ok', [((a,), {}) for a in args])
    del args
    assert [t.result(SAFETY) for t in tasks] == ['ok'] * 4
    for ref in arg_refs:
        assert_freed(ref, 'a map() argument')


def test_arguments_of_a_cancelled_task_are_released():
    pool = Pmt.Pool(1)
    gate = Gate()
    try:
        pool.submit(gate)
        gate.wait_entered()
        arg = Arg()
        arg_ref = weakref.ref(arg)
        task = pool.submit(lambda a: a, arg)
        del arg
        assert task.cancel()
    finally:
        gate.open()
    assert pool.wait_completion(SAFETY)
    # Kept task or not, what it would have run is gone with the queue.
    del task
    assert_freed(arg_ref, 'the argument of a cancelled task')
    assert pool.join(SAFETY)


def test_done_callback_is_released_after_firing(pool):
    release = threading.Event()
    task = pool.submit(release.wait, SAFETY)
    fired = threading.Event()

    class Callback:
        def __call__(self, done):
            fired.set()

    pending_cb = Callback()
    pending_ref = weakref.ref(pending_cb)
    task.add_done_callback(pending_cb)
    del pending_cb
    assert pending_ref() is not None      # held until it fires
    release.set()
    assert fired.wait(SAFETY)
    assert_freed(pending_ref, 'the callback of a pending task')

    done_cb = Callback()
    done_ref = weakref.ref(done_cb)
    task.add_done_callback(done_cb)       # done: called at once
    del done_cb
    assert_freed(done_ref, 'the callback of a done task')
    assert task.result() is True


# Pools and @Threaded ---------------------------------------------------------

def test_pool_is_freed_after_join():
    pool = Pmt.Pool(2, prepopulate=1)
    tasks = [pool.submit(time.sleep, 0.001) for _ in range(20)]
    assert pool.join(SAFETY)
    pool_refs = weakref.ref(pool), pool.weak_ref()
    del pool
    # The finished tasks are kept: they must not keep their pool.
    assert_freed(pool_refs[1], 'the pool (GObject)')
    assert_freed(pool_refs[0], 'the pool (wrapper)')
    assert all(t.done() for t in tasks)


def test_pool_with_initializer_is_freed_after_join():
    pool = Pmt.Pool(2, initializer=lambda: None)
    pool.submit(lambda: None).wait(SAFETY)
    assert pool.join(SAFETY)
    pool_ref = pool.weak_ref()
    del pool
    assert_freed(pool_ref, 'the pool')


def test_executor_pool_is_freed_after_shutdown():
    pool = Pmt.Pool(2)
    executor = pool.executor()
    futures = [executor.submit(time.sleep, 0.001) for _ in range(10)]
    executor.shutdown(wait=True)
    pool_ref = pool.weak_ref()
    del pool, executor
    assert_freed(pool_ref, 'the pool of an executor')
    assert all(f.done() for f in futures)


@pytest.mark.parametrize('mode', ['thread', 'pool', 'daemon'])
def test_threaded_tasks_are_freed(mode):
    options = {'thread': {}, 'pool': {'pool': True}, 'daemon': {'daemon': True}}[mode]

    @Pmt.Threaded(**options)
    def work(arg, TaskObject=None):
        return arg, TaskObject.get_id()

    try:
        arg = Arg()
        arg_ref = weakref.ref(arg)
        tasks = [work(arg) for _ in range(3)]
        del arg
        for task in tasks:
            result_arg, task_id = task.result(SAFETY)
            assert task_id == task.get_id()
        del result_arg
        task_refs = [refs(t) for t in tasks]
        del tasks, task
        for ref in task_refs:
            assert_task_freed(ref)
        assert_freed(arg_ref, 'the argument')
    finally:
        if work.pool is not None:
            assert work.pool.join(SAFETY)
        if work.worker is not None:
            work.worker.stop()
            assert work.worker.join(SAFETY)


# Many tasks ------------------------------------------------------------------

def run_round(pool, n):
    payload = [Arg() for _ in range(4)]
    tasks = [pool.submit(lambda i, p: (i, p), i, payload) for i in range(n // 2)]
    tasks += pool.map(lambda i: i, [((i,), {}) for i in range(n - n // 2)])
    failing = [pool.submit(raise_boom, i) for i in range(20)]
    assert Pmt.Task.wait_all(tasks + failing, SAFETY)
    assert all(t.get_state() == Pmt.TaskState.SUCCEEDED for t in tasks)
    for task in failing:
        assert isinstance(task.exception(), Boom)
    callbacks = []
    tasks[0].add_done_callback(callbacks.append)
    assert callbacks == [tasks[0]]


def settle():
    for _ in range(3):
        gc.collect()
        time.sleep(0.01)


def test_many_tasks_do_not_grow_memory():
    baseline_threads = n_threads()
    # Workers that never exit by themselves: only the join ends them.
    pool = Pmt.Pool(2, workerAutoKill=False)
    rounds, n = 10, 2000
    tracemalloc.start()
    try:
        traced, rss = [], []
        for _ in range(rounds):
            run_round(pool, n)
            settle()
            traced.append(tracemalloc.get_traced_memory()[0])
            rss.append(rss_bytes())
    finally:
        tracemalloc.stop()
        assert pool.join(SAFETY)
    # After the first rounds (warm-up: caches, arenas), what is left
    # stays flat: a leak of one small object per task would be >1 MiB.
    growth = traced[-1] - traced[2]
    assert growth < 512 * 1024, 'Python memory grew by %d bytes: %r' % (growth, traced)
    rss_growth = rss[-1] - rss[2]
    assert rss_growth < 16 * 1024 * 1024, 'RSS grew by %d bytes: %r' % (rss_growth, rss)
    del pool
    assert wait_until(lambda: n_threads() <= baseline_threads), \
        '%d threads, %d before' % (n_threads(), baseline_threads)


def test_thread_mode_task_cancelled_unrun_is_freed():
    """A thread-mode call's task cancelled by the C API while it waits in
    its worker for a limiter never runs its function: it must still
    leave the tasks that interpreter exit waits for, and be freed."""
    limiter = Pmt.Limiter(1, blocking=False)
    assert limiter.acquire(0)

    @limiter
    @Pmt.Threaded
    def work():
        return 1

    try:
        task = work()
        ref = task.weak_ref()
        super(Pmt.Task, task).cancel()      # the C method, not the override
        assert task.wait(SAFETY)
        assert task.cancelled()
        del task
    finally:
        limiter.release()
    assert_freed(ref, 'a cancelled thread-mode task')
