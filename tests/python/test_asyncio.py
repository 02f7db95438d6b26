# SPDX-License-Identifier: LGPL-2.1-or-later
"""Pmt from asyncio: awaiting tasks, and pool.executor() as a
concurrent.futures.Executor (loop.run_in_executor, wait, as_completed)."""

import asyncio
import concurrent.futures
import threading
import time

import pytest

from conftest import SAFETY, Gate

from gi.repository import GLib, Pmt


class Boom(Exception):
    pass


def raise_boom(*args):
    raise Boom(*args)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, SAFETY))


# await task ------------------------------------------------------------------

def test_await_a_task_that_finishes_later(pool):
    release = threading.Event()
    value = object()

    def fn():
        assert release.wait(SAFETY)
        return value

    async def main():
        task = pool.submit(fn)
        asyncio.get_running_loop().call_later(0.05, release.set)
        assert not task.done()
        return await task

    assert run(main()) is value


def test_await_a_finished_task(pool):
    value = object()
    task = pool.submit(lambda: value)
    assert task.wait(SAFETY)

    async def main():
        return await task

    assert run(main()) is value
    # And once more: a task may be awaited several times.
    assert run(main()) is value


def test_await_reraises_the_exception(pool):
    release = threading.Event()

    def fn():
        assert release.wait(SAFETY)
        raise_boom('late')

    async def main(task):
        asyncio.get_running_loop().call_later(0.05, release.set)
        with pytest.raises(Boom) as excinfo:
            await task
        return excinfo.value

    late = pool.submit(fn)
    exc = run(main(late))
    assert exc.args == ('late',)
    assert exc is late.exception()

    early = pool.submit(raise_boom, 'early')
    assert early.wait(SAFETY)
    assert run(main(early)) is early.exception()


def test_await_a_cancelled_task():
    pool = Pmt.Pool(1)
    gate = Gate()
    try:
        blocker = pool.submit(gate)
        gate.wait_entered()

        async def main(task, cancel_later):
            if cancel_later:
                asyncio.get_running_loop().call_later(0.05, task.cancel)
            with pytest.raises(asyncio.CancelledError):
                await task
            return True

        before = pool.submit(lambda: 1)
        assert before.cancel()
        assert run(main(before, False))
        after = pool.submit(lambda: 1)
        assert run(main(after, True))
        assert after.cancelled()
    finally:
        gate.open()
        assert pool.join(SAFETY)
    assert blocker.done()


def test_await_in_the_loop_thread(pool):
    # The coroutine resumes in the loop's thread, not in the worker's.
    async def main():
        loop_thread = threading.get_ident()
        worker_thread = await pool.submit(lambda: threading.get_ident())
        return loop_thread, worker_thread, threading.get_ident()

    loop_thread, worker_thread, resumed_in = run(main())
    assert resumed_in == loop_thread
    assert worker_thread != loop_thread


def test_gather_many_tasks(pool):
    async def main():
        tasks = [pool.submit(lambda i=i: i * i) for i in range(100)]
        return await asyncio.gather(*tasks)

    assert run(main()) == [i * i for i in range(100)]


def test_gather_with_failures(pool):
    async def main():
        tasks = [pool.submit(raise_boom, i) if i % 10 == 3 else pool.submit(lambda i=i: i)
                 for i in range(50)]
        return await asyncio.gather(*tasks, return_exceptions=True)

    results = run(main())
    for i, result in enumerate(results):
        if i % 10 == 3:
            assert isinstance(result, Boom) and result.args == (i,)
        else:
            assert result == i


def test_wait_for_times_out_on_a_task(pool):
    release = threading.Event()

    def fn():
        assert release.wait(SAFETY)
        return 'done'

    task = pool.submit(fn)

    async def main():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(task, 0.05)
        return True

    try:
        assert run(main())
    finally:
        release.set()
    # The coroutine's timeout does not cancel the task itself.
    assert task.result(SAFETY) == 'done'


def test_task_in_asyncio_wait(pool):
    async def main():
        futures = [asyncio.ensure_future(pool.submit(lambda i=i: i)) for i in range(5)]
        done, pending = await asyncio.wait(futures)
        return sorted(f.result() for f in done), pending

    assert run(main()) == ([0, 1, 2, 3, 4], set())


# pool.executor() -------------------------------------------------------------

def test_executor_futures_are_real_futures(pool):
    executor = pool.executor()
    assert isinstance(executor, concurrent.futures.Executor)
    assert executor.pool is pool
    future = executor.submit(lambda a, b=0: a + b, 1, b=2)
    assert type(future) is concurrent.futures.Future
    assert future.result(SAFETY) == 3


def test_executor_future_exception(pool):
    future = pool.executor().submit(raise_boom, 'x')
    with pytest.raises(Boom):
        future.result(SAFETY)
    assert isinstance(future.exception(), Boom)


def test_run_in_executor(pool):
    executor = pool.executor()

    async def main():
        loop = asyncio.get_running_loop()
        value = await loop.run_in_executor(
            executor, lambda a, b: (a, b, threading.get_ident()), 1, 'b')
        with pytest.raises(Boom):
            await loop.run_in_executor(executor, raise_boom)
        return value

    a, b, thread = run(main())
    assert (a, b) == (1, 'b')
    assert thread != threading.get_ident()
    assert pool.get_n_submitted() == 2


def test_run_in_executor_many(pool):
    executor = pool.executor()

    async def main():
        loop = asyncio.get_running_loop()
        return await asyncio.gather(
            *[loop.run_in_executor(executor, pow, i, 2) for i in range(50)])

    assert run(main()) == [i ** 2 for i in range(50)]


def test_concurrent_futures_wait(pool):
    executor = pool.executor()
    release = threading.Event()

    def slow():
        assert release.wait(SAFETY)
        return 'slow'

    quick = executor.submit(lambda: 'quick')
    slow_future = executor.submit(slow)
    try:
        done, not_done = concurrent.futures.wait(
            [quick, slow_future], SAFETY, return_when=concurrent.futures.FIRST_COMPLETED)
        assert quick in done
        assert not_done == {slow_future}
    finally:
        release.set()
    done, not_done = concurrent.futures.wait([quick, slow_future], SAFETY)
    assert done == {quick, slow_future} and not not_done


def test_as_completed(pool):
    executor = pool.executor()
    release = threading.Event()

    def second():
        assert release.wait(SAFETY)
        return 2

    futures = [executor.submit(second), executor.submit(lambda: 1)]
    order = []
    for future in concurrent.futures.as_completed(futures, SAFETY):
        order.append(future.result())
        release.set()
    assert order == [1, 2]


def test_executor_map(pool):
    executor = pool.executor()
    results = executor.map(pow, range(20), [3] * 20, timeout=SAFETY)
    assert list(results) == [i ** 3 for i in range(20)]
    with pytest.raises(Boom):
        list(executor.map(raise_boom, [1], timeout=SAFETY))


def test_executor_priority():
    pool = Pmt.Pool(1)
    gate, order = Gate(), []
    try:
        blocker = pool.submit(gate)
        gate.wait_entered()
        default = pool.executor().submit(order.append, 'default')
        urgent = Pmt.PoolExecutor(pool, priority=3).submit(order.append, 'urgent')
        gate.open()
        concurrent.futures.wait([default, urgent], SAFETY)
        assert order == ['urgent', 'default']
        with pytest.raises(TypeError):
            Pmt.PoolExecutor(pool, priority='high')
    finally:
        gate.open()
        assert pool.join(SAFETY)
    assert blocker.done()


def test_executor_shutdown_shuts_the_pool_down():
    pool = Pmt.Pool(2)
    executor = pool.executor()
    futures = [executor.submit(time.sleep, 0.02) for _ in range(4)]
    executor.shutdown(wait=True)
    assert all(f.done() for f in futures)
    assert pool.get_state() == Pmt.PoolState.STOPPED
    with pytest.raises(RuntimeError):
        executor.submit(lambda: 1)
    with pytest.raises(GLib.Error):
        pool.submit(lambda: 1)


def test_executor_as_context_manager():
    pool = Pmt.Pool(2)
    with pool.executor() as executor:
        future = executor.submit(time.sleep, 0.02)
    assert future.done()
    assert pool.get_state() == Pmt.PoolState.STOPPED


def test_executor_shutdown_cancel_futures():
    pool = Pmt.Pool(1)
    executor = pool.executor()
    gate = Gate()
    running = executor.submit(gate)
    gate.wait_entered()
    ran = []
    queued = [executor.submit(ran.append, i) for i in range(3)]
    executor.shutdown(wait=False, cancel_futures=True)
    # Cancelled at once, as concurrent.futures' executors do, not left
    # pending for ever.
    assert all(f.cancelled() for f in queued)
    with pytest.raises(concurrent.futures.CancelledError):
        queued[0].result(SAFETY)
    assert not running.done()
    gate.open()
    assert running.result(SAFETY) == ()
    assert pool.join(SAFETY)
    assert ran == []


def test_executor_shutdown_wait_cancel_futures():
    pool = Pmt.Pool(1)
    executor = pool.executor()
    release = threading.Event()
    entered = threading.Event()

    def running():
        entered.set()
        assert release.wait(SAFETY)
        return 'ran'

    first = executor.submit(running)
    assert entered.wait(SAFETY)
    queued = executor.submit(lambda: 'queued')
    # The queued future is cancelled before the wait for the running one.
    queued.add_done_callback(lambda f: release.set())
    executor.shutdown(wait=True, cancel_futures=True)
    assert queued.cancelled()
    assert first.result(0) == 'ran'
    assert pool.get_state() == Pmt.PoolState.STOPPED


def test_cancel_a_pending_executor_future():
    pool = Pmt.Pool(1)
    executor = pool.executor()
    gate = Gate()
    try:
        running = executor.submit(gate)
        gate.wait_entered()
        ran = []
        pending = executor.submit(ran.append, 1)
        assert pending.cancel() is True
        assert pending.cancelled()
        assert running.cancel() is False
    finally:
        gate.open()
    # Queued after the cancelled call: had it run, it would run first.
    assert executor.submit(lambda: None).result(SAFETY) is None
    assert ran == []
    assert running.result(SAFETY) == ()
    assert pool.join(SAFETY)
