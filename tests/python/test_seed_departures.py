# SPDX-License-Identifier: LGPL-2.1-or-later
"""Where PyMultiTasking's own implementation departs from its README, Pmt
follows the README (DESIGN.md § Bindings, "Decisions taken from the
seed's README").

The seed drops submit()'s positional arguments, loses a task's
exception, turns priority 0 into the default, polls while it waits,
stalls a pool's own sub-tasks during a blocking wait, and injects
``TaskObject`` into any function with ``**kwargs``.  Each group below
checks what the README says instead.
"""

import concurrent.futures
import functools
import inspect
import random
import threading
import time
import traceback

import gi
gi.require_version('Pmt', '1.0')
from gi.repository import GLib, Pmt  # noqa: E402

import pytest  # noqa: E402

from conftest import SAFETY, Gate, wait_until  # noqa: E402


@pytest.fixture
def pool1():
    """A pool of one worker, joined after the test: one task at a time, in
    queue order."""
    pool = Pmt.ThreadPool(1)
    yield pool
    assert pool.join(SAFETY)


def echo(*args, **kwargs):
    return args, kwargs


# (a) submit()'s positional arguments reach the function ----------------------

def test_submit_passes_positional_arguments(pool):
    task = pool.submit(echo, 1, 'two', [3], example='kwargs')
    assert task.result(SAFETY) == ((1, 'two', [3]), {'example': 'kwargs'})


def test_submit_positional_only_parameters(pool):
    def add(a, b, /, c=0):
        return a + b + c

    assert pool.submit(add, 1, 2).result(SAFETY) == 3
    assert pool.submit(add, 1, 2, c=4).result(SAFETY) == 7


def test_submit_arguments_with_priority(pool):
    """submit_task_priority is taken out; the positional arguments and the
    other keywords still reach the function."""
    task = pool.submit(echo, 'arg', example='kwargs', submit_task_priority=100)
    assert task.result(SAFETY) == (('arg',), {'example': 'kwargs'})
    assert task.get_priority() == 100


# (b) an exception fails the task and is re-raised where results are read -----

def _raise(exc):
    raise exc


def test_exception_fails_the_task(pool):
    error = ValueError('boom')
    task = pool.submit(_raise, error)
    assert task.wait(SAFETY)
    assert task.get_state() == Pmt.TaskState.FAILED
    assert task.is_set() and task.done() and not task.cancelled()
    assert task.exception() is error
    with pytest.raises(ValueError) as info:
        task.results
    assert info.value is error
    with pytest.raises(ValueError) as info:
        task.result(SAFETY)
    assert info.value is error


def test_exception_keeps_its_traceback(pool):
    def inner():
        raise KeyError('deep')

    def outer():
        inner()

    task = pool.submit(outer)
    error = task.exception(SAFETY)
    assert isinstance(error, KeyError)
    names = [frame.name for frame in traceback.extract_tb(error.__traceback__)]
    assert names[-2:] == ['outer', 'inner'], names
    # Raised again where the result is read: the same object, whose
    # traceback still starts at the function's frames.
    with pytest.raises(KeyError) as info:
        task.results
    assert info.value is error
    assert [entry.name for entry in info.traceback][-2:] == ['outer', 'inner']


def test_exception_of_threaded_and_map(pool):
    error = RuntimeError('threaded')

    @Pmt.Threaded
    def threaded():
        raise error

    task = threaded()
    assert task.wait(SAFETY)
    assert task.exception() is error
    with pytest.raises(RuntimeError) as info:
        task.results
    assert info.value is error

    errors = [OSError(n, 'map') for n in range(3)]
    tasks = pool.map(_raise, [((exc,), {}) for exc in errors])
    assert [task.exception(SAFETY) for task in tasks] == errors
    assert all(task.exception() is exc for task, exc in zip(tasks, errors))


def test_success_has_no_exception(pool):
    task = pool.submit(echo)
    assert task.exception(SAFETY) is None
    assert task.get_state() == Pmt.TaskState.SUCCEEDED


# (c) priorities: 0 stays 0, default 10, lower first, FIFO among equals -------

def run_order(pool1, priorities):
    """Submits one task per priority (None: the default) to ``pool1``
    while its worker is held by a gate, then lets them run; returns the
    indices in the order the tasks ran, and the tasks."""
    gate = Gate()
    held = pool1.submit(gate)
    gate.wait_entered()
    order = []

    def record(index):
        order.append(index)

    tasks = []
    for index, priority in enumerate(priorities):
        options = {} if priority is None else {'submit_task_priority': priority}
        tasks.append(pool1.submit(record, index, **options))
    assert pool1.get_n_queued() == len(priorities)
    gate.open()
    assert pool1.wait_completion(SAFETY)
    assert held.is_set() and all(task.is_set() for task in tasks)
    return order, tasks


def expected_order(priorities):
    effective = [10 if priority is None else priority for priority in priorities]
    return sorted(range(len(priorities)), key=lambda index: (effective[index], index))


def test_priority_zero_stays_zero(pool1):
    priorities = [10, 0, 5, 0, 20]
    order, tasks = run_order(pool1, priorities)
    assert [priorities[index] for index in order] == [0, 0, 5, 10, 20]
    assert order == [1, 3, 2, 0, 4]
    assert [task.get_priority() for task in tasks] == priorities


def test_default_priority_is_10(pool1):
    priorities = [11, None, 10, 9, None, 0]
    order, tasks = run_order(pool1, priorities)
    assert [task.get_priority() for task in tasks] == [11, 10, 10, 9, 10, 0]
    # The defaults run among the explicit 10s, in submission order.
    assert order == [5, 3, 1, 2, 4, 0]
    assert Pmt.DEFAULT_PRIORITY == 10


def test_equal_priorities_run_in_submission_order(pool1):
    rng = random.Random(20240229)
    priorities = [rng.choice([0, 5, None, 10, 20]) for _ in range(200)]
    order, tasks = run_order(pool1, priorities)
    assert order == expected_order(priorities)
    assert len(set(priorities)) == 5


def test_threaded_priority_zero_and_default():
    @Pmt.Threaded(_task_priority=0)
    def first():
        return 'first'

    @Pmt.Threaded
    def default():
        return 'default'

    tasks = [first(), default()]
    assert [task.result(SAFETY) for task in tasks] == ['first', 'default']
    assert [task.get_priority() for task in tasks] == [0, 10]


# (d) no polling: a waiting thread sleeps in the kernel -----------------------

def _voluntary_switches() -> int:
    """How often this thread went to sleep so far."""
    with open('/proc/thread-self/status') as status:
        for line in status:
            if line.startswith('voluntary_ctxt_switches:'):
                return int(line.split()[1])
    raise AssertionError('no voluntary_ctxt_switches in /proc/thread-self/status')


_WAITS = {
    'task.wait': lambda pool, task: task.wait(SAFETY),
    'task.result': lambda pool, task: task.result(SAFETY) is None,
    'wait_completion': lambda pool, task: pool.wait_completion(SAFETY),
    'as_completed': lambda pool, task: list(Pmt.ThreadPool.as_completed([task], SAFETY)) == [task],
    'join': lambda pool, task: pool.join(SAFETY),
}

# Long enough that polling would add up: wake-ups that are not polls
# (a slice, the GIL, a worker's exit in join) do not grow with it.
_SLEEP = 2.0


def _measured_wait(kind):
    """Waits with ``kind`` for a task that sleeps for 2 s; returns the
    wait's outcome, its duration, the process's CPU time meanwhile and this
    thread's voluntary context switches."""
    pool = Pmt.ThreadPool(1)
    try:
        started = threading.Event()

        def sleeper():
            started.set()
            time.sleep(_SLEEP)

        task = pool.submit(sleeper)
        assert started.wait(SAFETY)
        switches = _voluntary_switches()
        cpu = time.process_time()
        begin = time.monotonic()
        outcome = _WAITS[kind](pool, task)
        elapsed = time.monotonic() - begin
        cpu = time.process_time() - cpu
        switches = _voluntary_switches() - switches
        assert task.is_set()
        return outcome, elapsed, cpu, switches
    finally:
        assert pool.join(SAFETY)


@pytest.mark.parametrize('kind', sorted(_WAITS))
def test_main_thread_waits_without_polling(kind):
    """In the main thread a wait wakes up every 0.2 s to let Ctrl-C
    through, no more: 2 s of waiting cost almost no CPU, and 10 wake-ups
    or so where a poll every 80 ms or less would be 25."""
    assert threading.current_thread() is threading.main_thread()
    outcome, elapsed, cpu, switches = _measured_wait(kind)
    assert outcome is True
    assert elapsed > _SLEEP * 0.5
    assert cpu < 0.1, 'CPU time %.3f s while waiting %.3f s' % (cpu, elapsed)
    assert switches < 25, '%d wake-ups while waiting %.3f s' % (switches, elapsed)


@pytest.mark.parametrize('kind', sorted(_WAITS))
def test_other_thread_waits_without_polling(kind):
    """Elsewhere a wait is one sleep until the task is done (a few more
    wake-ups for the GIL, or for the worker's exit in join): even
    slicing the wait every 0.2 s would be 10 wake-ups."""
    results = []
    thread = threading.Thread(target=lambda: results.append(_measured_wait(kind)))
    thread.start()
    thread.join(SAFETY * 2)
    assert not thread.is_alive() and len(results) == 1
    outcome, elapsed, cpu, switches = results[0]
    assert outcome is True
    assert elapsed > _SLEEP * 0.5
    assert cpu < 0.1, 'CPU time %.3f s while waiting %.3f s' % (cpu, elapsed)
    assert switches < 8, '%d wake-ups while waiting %.3f s' % (switches, elapsed)


# (e) wait_completion(block=True): own sub-tasks allowed, others refused ------

def _is_blocked_error(error) -> bool:
    return isinstance(error, GLib.Error) and error.matches(Pmt.error_quark(), Pmt.Error.BLOCKED)


def _refused(pool) -> bool:
    """Whether a submission from this thread is refused as blocked."""
    try:
        pool.submit(echo)
    except GLib.Error as error:
        assert _is_blocked_error(error), error
        return True
    return False


def test_blocking_wait_covers_subtasks_and_refuses_others(pool):
    go = threading.Event()
    release = threading.Event()
    entered = threading.Semaphore(0)
    finished = []

    def subtask(n):
        entered.release()
        assert release.wait(SAFETY)
        finished.append(n)
        return n

    def parent():
        assert go.wait(SAFETY)
        # Two: once the parent returns, both workers run one each.
        return [pool.submit(subtask, n) for n in range(2)]

    parent_task = pool.submit(parent)
    returned = threading.Event()
    outcome = []

    def waiter():
        outcome.append(pool.wait_completion(SAFETY, block=True))
        returned.set()

    thread = threading.Thread(target=waiter)
    thread.start()
    try:
        # Once the wait blocks the pool, this thread's submissions fail.
        assert wait_until(lambda: _refused(pool))
        go.set()
        subtasks = parent_task.result(SAFETY)
        assert len(subtasks) == 2
        for _ in subtasks:
            assert entered.acquire(timeout=SAFETY)
        # The sub-tasks run; the wait goes on, still refusing others.
        assert not returned.wait(0.3)
        assert _refused(pool)
    finally:
        go.set()
        release.set()
        thread.join(SAFETY)
    assert outcome == [True]
    assert sorted(finished) == [0, 1]
    assert [task.results for task in subtasks] == [0, 1]
    # After the wait, submissions are taken again.
    assert pool.submit(echo, 'after').result(SAFETY) == (('after',), {})


def test_blocking_wait_refuses_map_and_threaded(pool):
    gate = Gate()
    held = pool.submit(gate)
    gate.wait_entered()
    thread = threading.Thread(target=pool.wait_completion, args=(SAFETY, True))
    thread.start()
    try:
        assert wait_until(lambda: _refused(pool))
        with pytest.raises(GLib.Error) as info:
            pool.map(echo, [((1,), {})])
        assert _is_blocked_error(info.value)
        with pytest.raises(GLib.Error) as info:
            Pmt.Threaded(pool=pool)(echo)()
        assert _is_blocked_error(info.value)
    finally:
        gate.open()
        thread.join(SAFETY)
    assert not thread.is_alive()
    assert held.result(SAFETY) == ()


# (f) Pool.as_completed -------------------------------------------------------

def test_as_completed_is_a_generator(pool):
    tasks = [pool.submit(echo, n) for n in range(3)]
    completed = Pmt.ThreadPool.as_completed(tasks)
    assert inspect.isgenerator(completed)
    assert sorted(task.get_id() for task in completed) == sorted(task.get_id() for task in tasks)


def test_as_completed_yields_in_completion_order(pool):
    gate = Gate()
    slow = pool.submit(gate, 'slow')
    gate.wait_entered()
    fast = [pool.submit(echo, n) for n in range(5)]
    completed = Pmt.ThreadPool.as_completed([slow] + fast)
    seen = []
    for task in completed:
        seen.append(task)
        if len(seen) == len(fast):
            # Every fast task came out while the slow one still runs.
            assert not slow.is_set()
            gate.open()
    assert seen[-1] is slow
    assert sorted(task.get_id() for task in seen[:-1]) == [task.get_id() for task in fast]
    assert all(task.is_set() for task in seen)


def test_as_completed_yields_each_task_once(pool):
    tasks = [pool.submit(echo, n) for n in range(20)]
    assert all(task.wait(SAFETY) for task in tasks)    # done already, too
    seen = list(Pmt.ThreadPool.as_completed(tasks + tasks[:5]))
    assert len(seen) == len(tasks)
    assert sorted(task.get_id() for task in seen) == sorted(task.get_id() for task in tasks)


def test_as_completed_timeout(pool):
    gate = Gate()
    # A safety net: should the timeout be ignored, the test fails instead
    # of hanging.
    timer = threading.Timer(SAFETY, gate.open)
    timer.start()
    try:
        slow = pool.submit(gate)
        gate.wait_entered()
        fast = pool.submit(echo, 'fast')
        completed = Pmt.ThreadPool.as_completed([slow, fast], timeout=0.3)
        assert next(completed) is fast
        begin = time.monotonic()
        with pytest.raises(concurrent.futures.TimeoutError):
            next(completed)
        assert time.monotonic() - begin < SAFETY / 2
        assert not slow.is_set()
    finally:
        gate.open()
        timer.cancel()


# (g) pool.map ----------------------------------------------------------------

def test_map_returns_tasks_in_input_order(pool):
    items = [((n, str(n)), {'n': n}) for n in range(50)]
    tasks = pool.map(echo, items)
    assert isinstance(tasks, list) and len(tasks) == 50
    assert [task.result(SAFETY) for task in tasks] == [(tuple(args), kwargs) for args, kwargs in items]
    ids = [task.get_id() for task in tasks]
    assert ids == sorted(set(ids))


@pytest.mark.parametrize('chunksize', [0, 1, 2, 7, 100])
def test_map_runs_every_item_once(pool, chunksize):
    lock = threading.Lock()
    calls = []

    def count(n):
        with lock:
            calls.append(n)
        return n

    tasks = pool.map(count, [((n,), {}) for n in range(61)], chunksize=chunksize)
    assert [task.result(SAFETY) for task in tasks] == list(range(61))
    assert pool.wait_completion(SAFETY)
    assert sorted(calls) == list(range(61))


@pytest.mark.parametrize('item', [5, None, ((1,),), ((1,), {}, 'extra'), (1, {}), ((1,), 2), 'ab'],
                         ids=['int', 'None', 'one', 'three', 'args-int', 'kwargs-int', 'str'])
def test_map_malformed_item_raises_type_error(pool, item):
    calls = []
    with pytest.raises(TypeError):
        pool.map(calls.append, [(('good',), {}), item])
    assert pool.wait_completion(SAFETY)
    assert calls == []          # nothing of the map was submitted


# (h) TaskObject: injected only into functions that name it ------------------

def wants_task(n, TaskObject=None):
    return n, TaskObject


def wants_task_keyword_only(*, TaskObject):
    return TaskObject


def only_kwargs(**kwargs):
    return kwargs


def args_and_kwargs(*args, **kwargs):
    return args, kwargs


def other_name(task_object=None, TaskObjects=None):
    return task_object, TaskObjects


def test_task_object_injected_when_named(pool):
    task = pool.submit(wants_task, 1)
    assert task.result(SAFETY) == (1, task)
    assert task.results[1] is task
    task = pool.submit(wants_task_keyword_only)
    assert task.result(SAFETY) is task


def test_task_object_not_injected_into_kwargs(pool):
    assert pool.submit(only_kwargs).result(SAFETY) == {}
    assert pool.submit(only_kwargs, a=1).result(SAFETY) == {'a': 1}
    assert pool.submit(args_and_kwargs, 'arg').result(SAFETY) == (('arg',), {})
    assert pool.submit(other_name).result(SAFETY) == (None, None)


def test_task_object_partials(pool):
    task = pool.submit(functools.partial(wants_task, 2))
    assert task.result(SAFETY) == (2, task)
    task = pool.submit(functools.partial(functools.partial(wants_task), 3))
    assert task.result(SAFETY) == (3, task)
    assert pool.submit(functools.partial(only_kwargs, a=1)).result(SAFETY) == {'a': 1}
    # A TaskObject bound by the partial is the caller's, not replaced.
    assert pool.submit(functools.partial(wants_task, 4, TaskObject='mine')).result(SAFETY) == (4, 'mine')


def test_task_object_methods_map_and_threaded(pool):
    class Holder:
        def method(self, TaskObject=None):
            return TaskObject

        def plain(self, **kwargs):
            return kwargs

    holder = Holder()
    task = pool.submit(holder.method)
    assert task.result(SAFETY) is task
    assert pool.submit(holder.plain).result(SAFETY) == {}

    tasks = pool.map(wants_task, [((n,), {}) for n in range(3)])
    assert [task.result(SAFETY) for task in tasks] == [(n, task) for n, task in enumerate(tasks)]
    tasks = pool.map(only_kwargs, [((), {'n': n}) for n in range(3)])
    assert [task.result(SAFETY) for task in tasks] == [{'n': n} for n in range(3)]

    threaded = Pmt.Threaded(wants_task)
    task = threaded(5)
    assert task.result(SAFETY) == (5, task)
    assert Pmt.Threaded(only_kwargs)(b=2).result(SAFETY) == {'b': 2}
