# SPDX-License-Identifier: LGPL-2.1-or-later
"""Pmt.Limiter: a counting semaphore, a context manager, and the @Limiter
decorator over plain and @Threaded functions."""

import concurrent.futures
import os
import threading
import time

import pytest

from conftest import SAFETY, Gate, Pmt, wait_until


@pytest.fixture(autouse=True, scope='module')
def no_thread_left():
    """Every thread the module started has exited at its end."""
    def count():
        return len(os.listdir('/proc/self/task'))
    before = count()
    yield
    assert wait_until(lambda: count() <= before), '%d threads left' % (count() - before)


class Concurrency:
    """Counts how many callers are inside at once."""

    def __init__(self):
        self.lock = threading.Lock()
        self.inside = 0
        self.max = 0

    def __enter__(self):
        with self.lock:
            self.inside += 1
            self.max = max(self.max, self.inside)

    def __exit__(self, *exc_info):
        with self.lock:
            self.inside -= 1


def run_in_threads(fn, n):
    """Calls ``fn(i)`` in ``n`` Python threads started together; returns
    their results in order."""
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        barrier.wait(SAFETY)
        results[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(SAFETY)
        assert not thread.is_alive()
    return results


def call_within(fn, *args, timeout=SAFETY):
    """``fn(*args)``, made in another thread so that a call that blocks
    for ever fails the test instead of hanging it."""
    results = []
    thread = threading.Thread(target=lambda: results.append(fn(*args)), daemon=True)
    thread.start()
    thread.join(timeout)
    assert results, '%r blocked' % (fn,)
    return results[0]


def released_all(limiter):
    return wait_until(lambda: limiter.get_available() == limiter.get_limit())


# The semaphore ---------------------------------------------------------------

@pytest.mark.parametrize('num', [0, -1, 1.5, '2', None, True])
def test_invalid_limit(num):
    with pytest.raises(ValueError):
        Pmt.Limiter(num)


def test_limit():
    assert Pmt.Limiter().get_limit() == 1
    limiter = Pmt.Limiter(3)
    assert limiter.get_limit() == 3
    assert limiter.get_available() == 3


def test_acquire_timeout():
    limiter = Pmt.Limiter(1)
    assert limiter.acquire() is True
    assert limiter.acquire(0) is False
    start = time.monotonic()
    assert limiter.acquire(0.1) is False
    assert time.monotonic() - start >= 0.09
    limiter.release()
    assert limiter.acquire(SAFETY) is True
    limiter.release()
    assert limiter.get_available() == 1


def test_acquire_waits_for_release():
    limiter = Pmt.Limiter(1)
    assert limiter.acquire()
    timer = threading.Timer(0.1, limiter.release)
    timer.start()
    try:
        assert limiter.acquire(SAFETY) is True
    finally:
        timer.join()
    assert limiter.get_available() == 0
    limiter.release()


def test_context_manager():
    limiter = Pmt.Limiter(2)
    with limiter as held:
        assert held is limiter
        assert limiter.get_available() == 1
        with limiter:
            assert limiter.get_available() == 0
    assert limiter.get_available() == 2
    with pytest.raises(KeyError):
        with limiter:
            raise KeyError('inside')
    assert limiter.get_available() == 2


def test_run():
    limiter = Pmt.Limiter(1)

    def inside(a, b=0):
        return a + b, limiter.get_available()

    assert limiter.run(inside, 1, b=2) == (3, 0)
    assert limiter.run(inside, 1, timeout=SAFETY) == (1, 0)
    assert limiter.get_available() == 1
    with pytest.raises(ZeroDivisionError):
        limiter.run(lambda: 1 / 0)
    assert limiter.get_available() == 1
    assert limiter.acquire()
    called = []
    with pytest.raises(concurrent.futures.TimeoutError):
        limiter.run(called.append, 1, timeout=0.05)
    assert called == []
    limiter.release()


# @Limiter over a plain function ----------------------------------------------

def test_decorator_one_at_a_time():
    concurrency = Concurrency()

    @Pmt.Limiter(1)
    def work(i):
        """Works."""
        with concurrency:
            time.sleep(0.005)   # gives another caller a chance to overlap
        return i * 10

    assert work.__name__ == 'work' and work.__doc__ == 'Works.'
    results = run_in_threads(lambda i: [work(i) for _ in range(5)], 6)
    assert results == [[i * 10] * 5 for i in range(6)]
    assert concurrency.max == 1


def test_decorator_two_at_a_time():
    limiter = Pmt.Limiter(2)
    gate = Gate()
    concurrency = Concurrency()

    @limiter
    def work(i):
        with concurrency:
            gate()
        return i

    results = []
    threads = [threading.Thread(target=lambda i=i: results.append(work(i))) for i in range(4)]
    for thread in threads:
        thread.start()
    try:
        gate.wait_entered(2)
        assert wait_until(lambda: limiter.get_n_waiting() == 2)
        # The other two wait for a slot.
        assert not gate.entered.acquire(timeout=0.2)
        assert concurrency.inside == 2
    finally:
        gate.open()
        for thread in threads:
            thread.join(SAFETY)
    assert sorted(results) == [0, 1, 2, 3]
    assert concurrency.max == 2
    assert limiter.get_available() == 2


def test_decorator_releases_on_exception():
    limiter = Pmt.Limiter(1)

    @limiter
    def work():
        raise ValueError('in work')

    for _ in range(3):
        with pytest.raises(ValueError):
            work()
        assert limiter.get_available() == 1


def test_non_blocking_over_plain_function_passes_semaphore():
    limiter = Pmt.Limiter(2, blocking=False)

    @limiter
    def work(x, _task_semaphore=None):
        return x, _task_semaphore

    x, semaphore = work(7)
    assert x == 7
    assert semaphore is limiter
    # Nothing acquired: the function decides.
    assert limiter.get_available() == 2


# @Limiter over @Threaded -----------------------------------------------------

def test_non_blocking_over_threaded():
    gate = Gate()
    concurrency = Concurrency()
    limiter = Pmt.Limiter(2, blocking=False)

    @limiter
    @Pmt.Threaded
    def work(i):
        with concurrency:
            gate()
        return i

    assert isinstance(work, Pmt.ThreadedFunction)
    # While no task can finish, all four calls return their task.
    tasks = [work(i) for i in range(4)]
    try:
        gate.wait_entered(2)
        assert not gate.entered.acquire(timeout=0.2)
        assert concurrency.inside == 2
        assert limiter.get_available() == 0
        assert sum(task.done() for task in tasks) == 0
    finally:
        gate.open()
    assert Pmt.Task.wait_all(tasks, SAFETY)
    assert [task.results for task in tasks] == [0, 1, 2, 3]
    assert concurrency.max == 2
    assert released_all(limiter)


def test_blocking_over_threaded_third_call_waits():
    limiter = Pmt.Limiter(2)
    events = [threading.Event() for _ in range(3)]
    concurrency = Concurrency()

    @limiter
    @Pmt.Threaded
    def work(i):
        with concurrency:
            assert events[i].wait(SAFETY)
        return i

    first, second = work(0), work(1)
    assert limiter.get_available() == 0
    third = []
    caller = threading.Thread(target=lambda: third.append(work(2)), daemon=True)
    caller.start()
    try:
        assert wait_until(lambda: limiter.get_n_waiting() == 1)
        caller.join(0.2)
        assert caller.is_alive() and third == []
        events[1].set()
        assert second.result(SAFETY) == 1
        # The slot of the finished task lets the third call through.
        caller.join(SAFETY)
        assert not caller.is_alive()
        events[2].set()
        assert third[0].result(SAFETY) == 2
    finally:
        for event in events:
            event.set()
        caller.join(SAFETY)
    assert first.result(SAFETY) == 0
    assert concurrency.max == 2
    assert released_all(limiter)


def test_blocking_over_threaded_released_on_failure():
    limiter = Pmt.Limiter(2)

    @limiter
    @Pmt.Threaded
    def work():
        raise ValueError('failed')

    # The third call would block for ever if a failed task kept its slot.
    tasks = [call_within(work) for _ in range(5)]
    assert Pmt.Task.wait_all(tasks, SAFETY)
    assert all(task.get_state() == Pmt.TaskState.FAILED for task in tasks)
    for task in tasks:
        with pytest.raises(ValueError):
            task.result()
    assert released_all(limiter)


def test_blocking_over_threaded_released_on_cancel_before_run():
    pool = Pmt.Pool(1)
    gate = Gate()
    limiter = Pmt.Limiter(2)
    ran = []

    @limiter
    @Pmt.Threaded(pool=pool)
    def work(i):
        ran.append(i)
        if i == 0:
            gate()
        return i

    try:
        running = work(0)
        gate.wait_entered()
        queued = work(1)
        assert limiter.get_available() == 0
        assert queued.cancel()
        # The cancelled task gave its slot back without running.
        assert wait_until(lambda: limiter.get_available() == 1)
        third = call_within(work, 2)
        gate.open()
        assert running.result(SAFETY) == 0
        assert third.result(SAFETY) == 2
        assert ran == [0, 2]
        assert released_all(limiter)
    finally:
        gate.open()
        assert pool.join(SAFETY)
