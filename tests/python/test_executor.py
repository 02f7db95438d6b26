# SPDX-License-Identifier: LGPL-2.1-or-later
"""pool.executor(): a concurrent.futures.Executor whose futures are real
concurrent.futures.Future objects, cancelled, never left pending, when
their call is dropped from the queue."""

import asyncio
import concurrent.futures
import subprocess
import sys
import threading

import gi
gi.require_version('Pmt', '1.0')
from gi.repository import Pmt  # noqa: E402

import pytest  # noqa: E402

from conftest import SAFETY, Gate  # noqa: E402


@pytest.fixture
def one():
    """A one-worker pool, joined after the test."""
    pool = Pmt.Pool(1)
    yield pool
    assert pool.join(SAFETY)


def blocked(pool, gate):
    """The executor of ``pool`` with its only worker held by ``gate``."""
    executor = pool.executor()
    running = executor.submit(gate)
    gate.wait_entered()
    return executor, running


def test_futures_are_concurrent_futures(pool):
    executor = pool.executor()
    future = executor.submit(divmod, 7, 2)
    assert isinstance(future, concurrent.futures.Future)
    assert future.result(SAFETY) == (3, 1)
    failing = executor.submit(int, 'x')
    assert isinstance(failing.exception(SAFETY), ValueError)
    with pytest.raises(ValueError):
        failing.result(SAFETY)
    done, pending = concurrent.futures.wait([future, failing], timeout=SAFETY)
    assert not pending


def test_keywords_reach_the_function(pool):
    future = pool.executor().submit(lambda *args, **kwargs: (args, kwargs), 1, key='value')
    assert future.result(SAFETY) == ((1,), {'key': 'value'})


def test_run_in_executor(pool):
    async def main():
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(pool.executor(), sum, [1, 2, 3])

    assert asyncio.run(main()) == 6


def test_cancel_before_run_prevents_the_call(one):
    gate = Gate()
    executor, running = blocked(one, gate)
    calls = []
    queued = executor.submit(calls.append, 'queued')
    assert queued.cancel()
    after = executor.submit(calls.append, 'after')
    gate.open()
    assert after.result(SAFETY) is None
    assert running.result(SAFETY) == ()
    assert one.wait_completion(SAFETY)
    assert calls == ['after']
    assert queued.cancelled()


def test_shutdown_cancel_futures_cancels_the_queued_ones(one):
    gate = Gate()
    executor, running = blocked(one, gate)
    calls = []
    queued = [executor.submit(calls.append, i) for i in range(3)]
    executor.shutdown(wait=False, cancel_futures=True)
    gate.open()
    done, pending = concurrent.futures.wait(queued, timeout=SAFETY)
    assert not pending, 'futures of dropped calls left pending'
    assert all(future.cancelled() for future in queued)
    assert running.result(SAFETY) == ()
    assert calls == []


def test_pool_shutdown_cancelling_the_queue_cancels_futures(one):
    gate = Gate()
    executor, running = blocked(one, gate)
    queued = executor.submit(print, 'never')
    assert one.shutdown(0, cancel_queued=True) is False
    gate.open()
    done, pending = concurrent.futures.wait([queued], timeout=SAFETY)
    assert not pending
    assert queued.cancelled()
    with pytest.raises(concurrent.futures.CancelledError):
        queued.result(0)
    assert running.result(SAFETY) == ()


def test_shutdown_without_cancelling_runs_the_queue(one):
    gate = Gate()
    executor, running = blocked(one, gate)
    queued = [executor.submit(pow, 2, i) for i in range(3)]
    threading.Timer(0.05, gate.open).start()
    executor.shutdown(wait=True)
    assert [future.result(0) for future in queued] == [1, 2, 4]


def test_submit_after_shutdown_raises(pool):
    executor = pool.executor()
    executor.shutdown()
    with pytest.raises(RuntimeError, match='cannot schedule new futures'):
        executor.submit(print)


def test_priority_orders_the_queue(one):
    gate = Gate()
    executor, running = blocked(one, gate)
    order = []
    late = Pmt.PoolExecutor(one, priority=20).submit(order.append, 'priority 20')
    early = executor.submit(order.append, 'priority 10')
    gate.open()
    assert late.result(SAFETY) is None and early.result(SAFETY) is None
    assert order == ['priority 10', 'priority 20']


def test_wait_completion_covers_futures(one):
    gate = Gate()
    executor, running = blocked(one, gate)
    queued = executor.submit(pow, 3, 2)
    assert not one.wait_completion(0.05)
    gate.open()
    assert one.wait_completion(SAFETY)
    assert queued.done() and queued.result(0) == 9


FALLBACK = r'''
import concurrent.futures, ctypes, sys, threading

def refuse(*args, **kwargs):
    raise OSError('no direct calls in this test')

ctypes.PyDLL = refuse
import gi
gi.require_version('Pmt', '1.0')
from gi.repository import Pmt
assert sys.modules['gi.overrides.Pmt']._direct_calls is None

pool = Pmt.Pool(1)
executor = pool.executor()
assert executor.submit(pow, 2, 5).result(30) == 32
gate, entered = threading.Event(), threading.Event()
running = executor.submit(lambda: (entered.set(), gate.wait(30)))
assert entered.wait(30)
calls = []
cancelled = executor.submit(calls.append, 'cancelled')
assert cancelled.cancel()
dropped = executor.submit(calls.append, 'dropped')
executor.shutdown(wait=False, cancel_futures=True)
gate.set()
done, pending = concurrent.futures.wait([cancelled, dropped], timeout=30)
assert not pending and dropped.cancelled(), (done, pending)
assert running.result(30) == (None, True)
assert calls == []
try:
    executor.submit(print)
except RuntimeError as error:
    assert 'cannot schedule new futures' in str(error)
else:
    raise AssertionError('a stopped pool took a future')
print('fallback ok')
'''


def test_without_direct_calls():
    """Without ctypes' direct calls the futures run through PyGObject's
    Pool.execute_full(), with the same semantics."""
    result = subprocess.run([sys.executable, '-X', 'dev', '-c', FALLBACK],
                            capture_output=True, text=True, timeout=SAFETY * 2)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == 'fallback ok'
