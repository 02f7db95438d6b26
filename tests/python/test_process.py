# SPDX-License-Identifier: LGPL-2.1-or-later
"""Process pools: Pmt.ProcessPool, Pmt.ProcessWorker and @Pmt.Processed.

The functions run in the children are in processed/procfuncs.py: a child
imports them by reference, like multiprocessing does.  Children are
found through /proc: a pid they return, or the Unix socket that
procfuncs.hold() connects to (which also holds a child until the test
lets it go, and tells the test when the child dies: end of file).
"""

import asyncio
import concurrent.futures
import itertools
import os
import pickle
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import SAFETY, Pmt, wait_until
from processed import procfuncs

from gi.overrides import _pmt_process

PROCESSED = Path(__file__).resolve().parent / 'processed'


# Processes -------------------------------------------------------------------

def proc_state(pid):
    """The state letter of process ``pid`` (``Z`` for a zombie), or None
    when there is no such process."""
    try:
        with open('/proc/%d/stat' % pid) as stat:
            return stat.read().rpartition(')')[2].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return None


def alive(pid):
    """Whether ``pid`` runs (a zombie has ended)."""
    return proc_state(pid) not in (None, 'Z')


def children_of(parent):
    """The pids of the processes whose parent is ``parent``, but for
    multiprocessing's resource tracker (one per process, kept to its
    end)."""
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as stat:
                fields = stat.read().rpartition(')')[2].split()
            with open('/proc/%s/cmdline' % entry, 'rb') as cmdline:
                command = cmdline.read()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == parent and b'resource_tracker' not in command:
            found.append(int(entry))
    return found


def os_threads():
    return len(os.listdir('/proc/self/task'))


@pytest.fixture(autouse=True, scope='module')
def nothing_left():
    """Every thread and child process the module started has ended at
    its end, and every child was reaped (no zombie)."""
    threads = os_threads()
    yield
    assert wait_until(lambda: os_threads() <= threads), '%d threads left' % (os_threads() - threads)
    left = {pid: proc_state(pid) for pid in children_of(os.getpid())}
    assert left == {}, left


@pytest.fixture
def pools():
    """Makes process pools (``pools(n, **kwargs)``), joined after the test."""
    made = []

    def make(workers=2, **kwargs):
        pool = Pmt.ProcessPool(workers, **kwargs)
        made.append(pool)
        return pool

    yield make
    for pool in made:
        assert pool.join(SAFETY)


class Held:
    """A child held in procfuncs.hold(): its pid and its connection."""

    def __init__(self, conn, pid):
        self.conn = conn
        self.pid = pid

    def release(self):
        """Lets the child's hold() return."""
        self.conn.close()

    def wait_gone(self):
        """Reads until the child closes its end (it died, or returned);
        returns what it sent after its pid."""
        data = b''
        while True:
            chunk = self.conn.recv(64)
            if not chunk:
                break
            data += chunk
        self.conn.close()
        return data


class Holder:
    """The Unix socket (abstract: no file) procfuncs.hold() connects to."""

    _serials = itertools.count()

    def __init__(self):
        self.address = '\0pmt-test-process-%d-%d' % (os.getpid(), next(self._serials))
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.address)
        self.server.listen(16)
        self.held = []

    def accept(self, timeout=SAFETY):
        """The next child that calls hold(), or None if none does within
        ``timeout``."""
        self.server.settimeout(timeout)
        try:
            conn, _ = self.server.accept()
        except socket.timeout:
            return None
        conn.settimeout(SAFETY)
        line = b''
        while not line.endswith(b'\n'):
            chunk = conn.recv(1)
            assert chunk, 'a holding child went away before sending its pid'
            line += chunk
        held = Held(conn, int(line))
        self.held.append(held)
        return held

    def close(self):
        for held in self.held:
            held.conn.close()
        self.server.close()


@pytest.fixture
def holder():
    holder = Holder()
    yield holder
    holder.close()


def assert_reaped(pid):
    """The child ``pid`` is gone and was waited for: no /proc entry, not
    even a zombie's."""
    assert proc_state(pid) is None, 'child %d is in state %r' % (pid, proc_state(pid))


# Where the calls run, what comes back ----------------------------------------

def test_call_runs_in_a_child(pools):
    pool = pools(1)
    task = pool.submit(procfuncs.add, 2, y=3)
    assert isinstance(task, Pmt.Task)
    assert task.result(SAFETY) == 5
    assert task.results == 5
    child, parent = pool.submit(procfuncs.pid_and_ppid).result(SAFETY)
    assert parent == os.getpid()
    assert child != os.getpid() and alive(child)


def test_results_are_copies(pools):
    """Arguments and results cross by pickling: equal values, never the
    same objects, and what the child changes is its own copy."""
    pool = pools(1)
    items = ['parent']
    result = pool.submit(procfuncs.append_child, items).result(SAFETY)
    assert result == ['parent', 'child']
    assert result is not items
    assert items == ['parent']
    value = ('a', 1, None)
    assert pool.submit(procfuncs.identity, value).result(SAFETY) == value


def test_children_get_the_parents_sys_path(pools):
    """multiprocessing's spawn hands the parent's sys.path to the child:
    that is how it imports processed.procfuncs."""
    assert pools(1).submit(procfuncs.sys_path).result(SAFETY) == sys.path


def test_map_in_order(pools):
    pool = pools(2)
    tasks = pool.map(procfuncs.label_with_pid, [((n,), {}) for n in range(8)])
    assert len(tasks) == 8
    assert [task.result(SAFETY)[0] for task in tasks] == list(range(8))
    assert all(task.results[1] != os.getpid() for task in tasks)


def test_as_completed(pools):
    pool = pools(2)
    tasks = pool.map(procfuncs.add, [((n,), {'y': 100}) for n in range(6)])
    seen = list(Pmt.Pool.as_completed(tasks, SAFETY))
    assert sorted(seen, key=tasks.index) == tasks
    assert sorted(task.results for task in seen) == [100 + n for n in range(6)]


def test_wait_completion_covers_process_tasks(pools, holder):
    pool = pools(2)
    task = pool.submit(procfuncs.hold, holder.address, value='held')
    others = [pool.submit(procfuncs.timed_sleep, 0.05) for _ in range(3)]
    held = holder.accept()
    assert not pool.wait_completion(0.2, block=True)
    held.release()
    assert pool.wait_completion(SAFETY, block=True)
    assert task.done() and all(other.done() for other in others)
    assert task.results == ('held', held.pid)


# Exceptions and pickling ------------------------------------------------------

def test_exception_crosses_with_child_traceback(pools):
    task = pools(1).submit(procfuncs.raise_value_error, 'boom')
    assert task.wait(SAFETY)
    assert task.get_state() == Pmt.TaskState.FAILED
    exc = task.exception()
    assert type(exc) is ValueError and str(exc) == 'boom'
    with pytest.raises(ValueError, match='^boom$'):
        task.results
    cause = exc.__cause__
    assert type(cause).__name__ == 'RemoteTraceback'
    assert 'in raise_value_error' in cause.text
    assert cause.text.rstrip().endswith('ValueError: boom')


def test_unpicklable_exception_becomes_runtime_error(pools):
    task = pools(1).submit(procfuncs.raise_unpicklable, 'locked')
    exc = task.exception(SAFETY)
    assert type(exc) is RuntimeError
    assert 'UnpicklableError: locked' in str(exc)
    assert 'in raise_unpicklable' in exc.__cause__.text


def test_exception_that_cannot_be_rebuilt(pools):
    """An exception that pickles but cannot be unpickled (its constructor
    does not take its args) arrives as a RuntimeError with its type,
    message and traceback, not as the unpickling's own TypeError."""
    pool = pools(1)
    exc = pool.submit(procfuncs.raise_two_argument_error, 'disk', 'full').exception(SAFETY)
    assert type(exc) is RuntimeError
    assert 'TwoArgumentError: disk: full' in str(exc)
    assert 'in raise_two_argument_error' in exc.__cause__.text
    assert pool.submit(procfuncs.add, 1, 1).result(SAFETY) == 2


def test_unpicklable_argument_fails_the_task(pools):
    pool = pools(1)
    task = pool.submit(procfuncs.identity, threading.Lock())
    assert task.wait(SAFETY), 'a call that cannot be sent must not hang'
    exc = task.exception()
    assert isinstance(exc, pickle.PicklingError)
    assert 'the arguments of' in str(exc) and 'lock' in str(exc)
    assert pool.submit(procfuncs.add, 1, 2).result(SAFETY) == 3


def nested_factory():
    def nested():
        return 1
    return nested


@pytest.mark.parametrize('fn', [lambda: 1, nested_factory()], ids=['lambda', 'nested'])
def test_lambda_or_nested_function_refused_clearly(pools, fn):
    task = pools(1).submit(fn)
    assert task.wait(SAFETY)
    exc = task.exception()
    assert isinstance(exc, pickle.PicklingError)
    assert 'must be importable' in str(exc)


def test_unpicklable_result_fails_the_task_child_kept(pools):
    pool = pools(1)
    child = pool.submit(procfuncs.pid).result(SAFETY)
    task = pool.submit(procfuncs.return_lock)
    assert task.wait(SAFETY)
    exc = task.exception()
    assert isinstance(exc, pickle.PicklingError)
    assert 'cannot send the result back' in str(exc)
    # The child answered: the same one takes the next call.
    assert pool.submit(procfuncs.pid).result(SAFETY) == child


def test_task_object_refused(pools):
    pool = pools(1)
    with pytest.raises(TypeError, match='TaskObject'):
        pool.submit(procfuncs.takes_task, 1)
    with pytest.raises(TypeError, match='TaskObject'):
        pool.map(procfuncs.takes_task, [((1,), {})])
    with pytest.raises(TypeError, match='TaskObject'):
        Pmt.Processed(procfuncs.takes_task)
    worker = Pmt.ProcessWorker()
    with pytest.raises(TypeError, match='TaskObject'):
        worker.submit(procfuncs.takes_task, 1)
    worker.stop()
    assert worker.join(SAFETY)


def test_daemonic_child_cannot_start_children(pools):
    exc = pools(1).submit(procfuncs.spawn_grandchild).exception(SAFETY)
    assert type(exc) is AssertionError
    assert 'daemonic processes are not allowed to have children' in str(exc)


# Parallelism -----------------------------------------------------------------

def test_cpu_bound_work_runs_in_parallel(pools):
    """Pure-Python CPU work on two workers: the children's CPU time is
    more than the wall time (two cores worked at once), and the parent
    spent little of it.  A thread pool, held by the GIL, never gets past
    1.0.  On a loaded machine another process may take a core: a few
    tries, one of which must show the speed-up."""
    pool = pools(2, prepopulate=2)
    # Both children started, by calls that occupy both workers at once.
    warm = pool.map(procfuncs.timed_sleep, [((0.3,), {})] * 2)
    assert len({task.result(SAFETY)[0] for task in warm}) == 2
    ratios = []
    for _ in range(5):
        wall, cpu = time.monotonic(), time.process_time()
        tasks = pool.map(procfuncs.cpu_work, [((0.25,), {})] * 4)
        outcomes = [task.result(SAFETY) for task in tasks]
        wall, cpu = time.monotonic() - wall, time.process_time() - cpu
        children = sum(outcome[1] for outcome in outcomes)
        assert len({outcome[0] for outcome in outcomes}) == 2
        assert cpu < children / 2, 'the parent used %.2f s of CPU' % cpu
        ratios.append(children / wall)
        if ratios[-1] > 1.3:
            break
    assert max(ratios) > 1.3, 'children CPU time / wall time: %r' % ratios


# Priorities, cancellation, crashes -------------------------------------------

def test_priorities_on_a_busy_pool(pools, holder):
    """Both workers busy, tasks queued at different priorities: when one
    worker frees up it takes them lowest priority first, equal ones in
    submission order (times from the children's CLOCK_MONOTONIC)."""
    pool = pools(2)
    first = pool.submit(procfuncs.hold, holder.address, value=1)
    second = pool.submit(procfuncs.hold, holder.address, value=2)
    held = [holder.accept(), holder.accept()]
    priorities = [30, 5, 20, 5, 0, 40]
    queued = [pool.submit(procfuncs.label_with_pid, index, submit_task_priority=priority)
              for index, priority in enumerate(priorities)]
    assert pool.get_n_queued() == len(priorities)
    held[0].release()
    assert pool.wait_completion(0.5) is False     # the other worker is still held
    ran = sorted((task.result(SAFETY) for task in queued), key=lambda outcome: outcome[2])
    assert [label for label, _, _ in ran] == [4, 1, 3, 2, 0, 5]
    # All ran on the worker that was let go, in its child.
    assert {pid for _, pid, _ in ran} == {held[0].pid}
    held[1].release()
    assert sorted(task.result(SAFETY)[0] for task in (first, second)) == [1, 2]


def test_cancel_queued_task(pools, holder):
    pool = pools(1)
    busy = pool.submit(procfuncs.hold, holder.address, value='busy')
    held = holder.accept()
    queued = pool.submit(procfuncs.pid)
    assert queued.cancel() is True
    assert queued.cancelled()
    held.release()
    assert busy.result(SAFETY) == ('busy', held.pid)
    with pytest.raises(concurrent.futures.CancelledError):
        queued.result(0)
    # Cancelling a queued task left the child alone.
    assert pool.submit(procfuncs.pid).result(SAFETY) == held.pid


def test_cancel_running_task_terminates_its_child(pools, holder):
    """SIGTERM first; the child is reaped before the task ends (no
    zombie); the next task gets a fresh child."""
    pool = pools(1)
    task = pool.submit(procfuncs.hold, holder.address, on_term='report')
    held = holder.accept()
    assert task.running()
    task.cancel()
    assert task.wait(SAFETY)
    assert task.get_state() == Pmt.TaskState.CANCELLED
    assert_reaped(held.pid)
    assert held.wait_gone() == b'TERM\n'
    with pytest.raises(concurrent.futures.CancelledError):
        task.result(0)
    child = pool.submit(procfuncs.pid).result(SAFETY)
    assert child != held.pid and alive(child)


def test_cancel_kills_a_child_that_ignores_sigterm(pools, holder):
    """A child that does not end on SIGTERM is killed after the grace
    period."""
    pool = pools(1)
    task = pool.submit(procfuncs.hold, holder.address, on_term='ignore')
    held = holder.accept()
    start = time.monotonic()
    task.cancel()
    assert task.wait(SAFETY)
    assert task.cancelled()
    assert time.monotonic() - start >= 0.9 * _pmt_process.TERMINATE_GRACE_SECONDS
    assert_reaped(held.pid)
    assert held.wait_gone() == b'TERM\n'
    assert pool.submit(procfuncs.add, 2, 2).result(SAFETY) == 4


def test_shutdown_cancel_running_terminates_children(holder):
    pool = Pmt.ProcessPool(2)
    tasks = [pool.submit(procfuncs.hold, holder.address) for _ in range(2)]
    held = [holder.accept(), holder.accept()]
    assert pool.shutdown(SAFETY, cancel_running=True)
    assert all(task.cancelled() for task in tasks)
    for one in held:
        assert_reaped(one.pid)


@pytest.mark.parametrize('how, status', [('exit', 'exit status 3'), ('segv', 'signal SIGSEGV'),
                                         ('kill', 'signal SIGKILL')])
def test_child_crash_fails_task_pool_carries_on(pools, how, status):
    pool = pools(1)
    child = pool.submit(procfuncs.pid).result(SAFETY)
    task = pool.submit(procfuncs.crash, how)
    assert task.wait(SAFETY)
    assert task.get_state() == Pmt.TaskState.FAILED
    exc = task.exception()
    assert isinstance(exc, ChildProcessError)
    assert str(exc).endswith('ended with %s' % status), str(exc)
    assert_reaped(child)
    after = [pool.submit(procfuncs.pid) for _ in range(2)]
    pids = {task.result(SAFETY) for task in after}
    assert len(pids) == 1 and child not in pids


# Workers and the pool's life ---------------------------------------------------

def test_process_worker_runs_in_order(holder):
    """One child, FIFO: a priority does not reorder a worker's queue."""
    worker = Pmt.ProcessWorker()
    first = worker.submit(procfuncs.hold, holder.address)
    held = holder.accept()
    tasks = [worker.submit(procfuncs.label_with_pid, n, submit_task_priority=50 - n)
             for n in range(5)]
    held.release()
    outcomes = [task.result(SAFETY) for task in tasks]
    assert first.result(SAFETY)[1] == held.pid
    assert [label for label, _, _ in outcomes] == list(range(5))
    assert [when for _, _, when in outcomes] == sorted(when for _, _, when in outcomes)
    assert {pid for _, pid, _ in outcomes} == {held.pid}
    worker.stop()
    assert worker.join(SAFETY)
    assert_reaped(held.pid)


def test_process_worker_kill_is_a_kill(holder):
    """kill(): SIGKILL at once (the child's SIGTERM handler never runs),
    the running and queued tasks end cancelled."""
    worker = Pmt.ProcessWorker()
    task = worker.submit(procfuncs.hold, holder.address, on_term='report')
    held = holder.accept()
    queued = worker.submit(procfuncs.pid)
    worker.kill()
    assert task.wait(SAFETY) and queued.wait(SAFETY)
    assert task.cancelled() and queued.cancelled()
    assert held.wait_gone() == b''
    assert_reaped(held.pid)
    assert worker.join(SAFETY)
    assert repr(worker).startswith('<Pmt.ProcessWorker ')


def test_idle_worker_exits_and_its_child_is_reaped(pools):
    """A pool's idle timeout (µs, as the C property) ends the worker
    thread, and its child with it; the next task starts both again."""
    pool = pools(1, idle_timeout=100 * 1000)
    child = pool.submit(procfuncs.pid).result(SAFETY)
    assert wait_until(lambda: pool.get_n_workers() == 0)
    assert wait_until(lambda: proc_state(child) is None), proc_state(child)
    assert child not in children_of(os.getpid())
    again = pool.submit(procfuncs.pid).result(SAFETY)
    assert again != child and alive(again)


def test_with_block_leaves_no_child(holder):
    with Pmt.ProcessPool(2) as pool:
        assert isinstance(pool, Pmt.ProcessPool)
        held = [pool.submit(procfuncs.hold, holder.address) for _ in range(2)]
        pids = [holder.accept().pid for _ in range(2)]
        tasks = [pool.submit(procfuncs.pid) for _ in range(4)]
        for one in holder.held:
            one.release()
    assert pool.get_state() == Pmt.PoolState.STOPPED
    assert all(task.done() for task in held + tasks)
    assert {task.results for task in tasks} <= set(pids)
    for pid in pids:
        assert_reaped(pid)
    assert children_of(os.getpid()) == []


def test_registry_and_join_pools():
    """A process pool is registered like any pool: found by name as the
    same Python object, and joined by join_pools()."""
    pool = Pmt.ProcessPool(1, name='test-process-registry')
    child = pool.submit(procfuncs.pid).result(SAFETY)
    found = Pmt.Pool.get_pool_by_name('test-process-registry')
    assert found is pool
    assert pool in Pmt.Pool.get_pools('test-process-registry')
    assert repr(pool).startswith("<Pmt.ProcessPool name='test-process-registry'")
    assert Pmt.Pool.join_pools(SAFETY)
    assert pool.get_state() == Pmt.PoolState.STOPPED
    assert Pmt.Pool.get_pool_by_name('test-process-registry') is None
    assert_reaped(child)


# Futures and asyncio ---------------------------------------------------------

def test_executor_futures(holder):
    pool = Pmt.ProcessPool(1)
    executor = pool.executor()
    future = executor.submit(procfuncs.add, 20, y=22)
    assert isinstance(future, concurrent.futures.Future)
    assert future.result(SAFETY) == 42
    failing = executor.submit(procfuncs.raise_value_error, 'future')
    assert isinstance(failing.exception(SAFETY), ValueError)
    busy = executor.submit(procfuncs.hold, holder.address)
    held = holder.accept()
    queued = executor.submit(procfuncs.pid)
    assert queued.cancel() is True
    done, _ = concurrent.futures.wait([queued], timeout=SAFETY)
    assert done == {queued} and queued.cancelled()
    held.release()
    assert busy.result(SAFETY)[1] == held.pid
    as_completed = list(concurrent.futures.as_completed(
        [executor.submit(procfuncs.add, n) for n in range(3)], timeout=SAFETY))
    assert sorted(future.result() for future in as_completed) == [0, 1, 2]
    executor.shutdown()
    assert pool.get_state() == Pmt.PoolState.STOPPED
    with pytest.raises(RuntimeError, match='cannot schedule new futures'):
        executor.submit(procfuncs.pid)


def test_run_in_executor_and_await(pools):
    pool = pools(1)

    async def main():
        loop = asyncio.get_running_loop()
        in_executor = await loop.run_in_executor(pool.executor(), procfuncs.add, 1, 2)
        awaited = await pool.submit(procfuncs.add, 3, y=4)
        with pytest.raises(ValueError, match='awaited'):
            await pool.submit(procfuncs.raise_value_error, 'awaited')
        return in_executor, awaited

    assert asyncio.run(asyncio.wait_for(main(), SAFETY)) == (3, 7)


# @Processed ------------------------------------------------------------------

def test_processed_default_one_child_per_call():
    fn = Pmt.Processed(procfuncs.pid)
    assert isinstance(fn, Pmt.ProcessedFunction)
    assert fn.__wrapped__ is procfuncs.pid
    tasks = [fn(), fn()]
    pids = [task.result(SAFETY) for task in tasks]
    assert len(set(pids)) == 2 and os.getpid() not in pids
    # Each call's worker exits after its call, and its child with it.
    for pid in pids:
        assert wait_until(lambda: proc_state(pid) is None), proc_state(pid)


def test_processed_daemon_one_child_for_all_calls():
    fn = Pmt.Processed(daemon=True)(procfuncs.label_with_pid)
    tasks = [fn(n) for n in range(5)]
    outcomes = [task.result(SAFETY) for task in tasks]
    assert [label for label, _, _ in outcomes] == list(range(5))
    assert len({pid for _, pid, _ in outcomes}) == 1
    assert fn(5).result(SAFETY)[1] == outcomes[0][1]
    worker = fn.worker
    assert isinstance(worker, Pmt.ProcessWorker)
    worker.stop()
    assert worker.join(SAFETY)
    assert_reaped(outcomes[0][1])


def test_processed_pool_true_private_pool():
    one = Pmt.Processed(pool=True, _pool_maxWorkers=2)(procfuncs.pid)
    two = Pmt.Processed(pool=True)(procfuncs.pid)
    pids = [one().result(SAFETY), two().result(SAFETY)]
    assert os.getpid() not in pids
    assert isinstance(one.pool, Pmt.ProcessPool)
    assert one.pool is not two.pool
    assert one.pool.get_max_workers() == 2
    assert Pmt.Pool.join_pools(SAFETY)


def test_processed_pool_name_shared():
    one = Pmt.Processed(pool_name='test-process-shared', _pool_maxWorkers=2)(procfuncs.pid)
    two = Pmt.Processed(pool_name='test-process-shared')(procfuncs.label_with_pid)
    tasks = [one() for _ in range(4)] + [two(n) for n in range(4)]
    pool = Pmt.Pool.get_pool_by_name('test-process-shared')
    assert isinstance(pool, Pmt.ProcessPool)
    assert one.pool is pool and two.pool is pool
    assert pool.get_max_workers() == 2
    assert pool.wait_completion(SAFETY, block=True)
    pids = {task.results for task in tasks[:4]} | {task.results[1] for task in tasks[4:]}
    assert 1 <= len(pids) <= 2 and os.getpid() not in pids
    assert pool.join(SAFETY)


def test_processed_pool_name_of_a_thread_pool_refused():
    pool = Pmt.ThreadPool(1, name='test-process-thread-pool')
    fn = Pmt.Processed(pool_name='test-process-thread-pool')(procfuncs.pid)
    with pytest.raises(TypeError, match='not a Pmt.ProcessPool'):
        fn()
    assert pool.join(SAFETY)


def test_processed_callback_runs_in_parent():
    seen = []

    def callback(value):
        seen.append((os.getpid(), threading.get_ident(), value))

    fn = Pmt.Processed(pool=True, callback_func=callback)(procfuncs.pid)
    task = fn()
    child = task.result(SAFETY)
    assert seen == [(os.getpid(), seen[0][1], child)]
    assert seen[0][1] != threading.get_ident()      # in the worker thread
    assert child != os.getpid()
    # Per call, and with store_return=False the callback still gets it.
    other = []
    task = fn(_task_callback_func=other.append, _task_store_return=False)
    assert task.wait(SAFETY) and task.results is None
    assert other == [child]
    assert fn.pool.join(SAFETY)


def test_nonblocking_limiter_limits_children():
    """Limiter(1, blocking=False) over @Processed on two workers: the
    calls return at once, and the children's runs (CLOCK_MONOTONIC
    intervals they report) never overlap."""
    fn = Pmt.Limiter(1, blocking=False)(
        Pmt.Processed(pool=True, _pool_maxWorkers=2, _pool_prepopulate=2)(procfuncs.timed_sleep))
    tasks = [fn(0.15) for _ in range(4)]
    intervals = sorted(task.result(SAFETY)[1:] for task in tasks)
    for (_, end), (start, _) in zip(intervals, intervals[1:]):
        assert end <= start, intervals
    assert fn.pool.join(SAFETY)


def test_nonblocking_limiter_holds_the_second_call(holder):
    fn = Pmt.Limiter(1, blocking=False)(
        Pmt.Processed(pool=True, _pool_maxWorkers=2)(procfuncs.hold))
    tasks = [fn(holder.address, value=n) for n in range(2)]
    first = holder.accept()
    # The second worker is free, but the limiter holds the call.
    assert holder.accept(timeout=0.5) is None
    first.release()
    second = holder.accept()
    second.release()
    assert sorted(task.result(SAFETY)[0] for task in tasks) == [0, 1]
    assert fn.pool.join(SAFETY)


def test_processed_refuses_threaded_only_keywords():
    with pytest.raises(TypeError):
        Pmt.Processed(_worker_unknown=1)(procfuncs.pid)
    with pytest.raises(TypeError):
        Pmt.Processed(_pool_unknown=1)(procfuncs.pid)


# Scripts: the main guard, exit, a killed parent ------------------------------

def run_script(name, *args, env=None):
    proc = subprocess.run([sys.executable, '-X', 'dev', '-W', 'ignore::ImportWarning',
                           str(PROCESSED / name), *args],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=2 * SAFETY, env=env, cwd=str(PROCESSED))
    assert proc.returncode == 0, 'exit status %d\nstdout:\n%s\nstderr:\n%s' % (
        proc.returncode, proc.stdout, proc.stderr)
    return proc


def test_exit_of_the_parent_leaves_no_child():
    """A script that ends with work left on its process pool: the work
    runs, and at exit every child was ended (each child printed its pid,
    the script its last line, in any order)."""
    proc = run_script('exit_parent.py')
    lines = proc.stdout.splitlines()
    assert 'end' in lines
    pids = [int(pid) for pid in lines if pid != 'end']
    assert len(pids) == 3
    for pid in pids:
        assert not alive(pid), 'child %d outlived its parent' % pid


def test_killed_parent_leaves_no_child(holder):
    """SIGKILL to a parent with a busy child (held by the test) and an idle
    one: both end (the busy one by the death signal it asked for, the idle
    one by the end of file on its pipe)."""
    proc = subprocess.Popen([sys.executable, '-X', 'dev', '-W', 'ignore::ImportWarning',
                             str(PROCESSED / 'killed_parent.py'), holder.address.lstrip('\0')],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            cwd=str(PROCESSED))
    survivors = []
    try:
        busy = holder.accept()
        assert busy is not None
        line = proc.stdout.readline().split()
        assert line[0] == 'ready', line
        idle, children = int(line[1]), [int(pid) for pid in line[2:]]
        assert busy.pid in children and idle in children and alive(idle)
        proc.kill()
        proc.wait(SAFETY)
        wait_until(lambda: not any(alive(pid) for pid in children))
        survivors = [pid for pid in children if alive(pid)]
        assert survivors == [], 'children alive after their parent was killed'
    finally:
        proc.kill()
        proc.wait(SAFETY)
        proc.stdin.close()
        proc.stdout.close()
        for pid in survivors:
            os.kill(pid, signal.SIGKILL)


def test_child_output_reaches_stdout_at_exit():
    """An idle child asked to stop exits by itself (end of file on its
    pipe), flushing its buffered stdout, before SIGTERM would come."""
    env = dict(os.environ)
    env.pop('PYTHONUNBUFFERED', None)
    proc = run_script('print_child.py', env=env)
    assert sorted(proc.stdout.splitlines()) == sorted(
        ['child says %d' % n for n in range(3)] + ['parent done'])


# The seed's decorator examples, multi-process ---------------------------------

def run_seed_block(block):
    # Buffered output: print(..., flush=True) is then one write(), and the
    # lines of children sharing the pipe stay whole (unbuffered, the text
    # and its newline are written apart and may interleave).
    env = dict(os.environ)
    env.pop('PYTHONUNBUFFERED', None)
    return run_script('seed_decorators.py', block, env=env).stdout.splitlines()


def test_seed_block_08_processed():
    assert run_seed_block('08') == ['() - {}', 'None']


def test_seed_block_09_processed_daemon():
    """One child runs the calls in call order; each result after its call."""
    lines = run_seed_block('09')
    calls = ["(%d,) - {'call': %d}" % (n, n) for n in range(3)]
    assert [line for line in lines if line != 'None'] == calls
    assert lines.count('None') == 3
    for n, call in enumerate(calls):
        assert lines.index(call) < [i for i, line in enumerate(lines) if line == 'None'][n]


def test_seed_block_10_processed_pool():
    lines = run_seed_block('10')
    assert sorted(lines[:4]) == sorted("(%d,) - {'call': %d}" % (n, n) for n in range(4))
    assert lines[4:] == ['True', 'True [None, None, None, None]']


def test_seed_block_11_processed_pool_name():
    lines = run_seed_block('11')
    one = "Running: test_dec_pool_by_name_one - args=() - kwargs={'randomsleep': True}"
    two = "Running: test_dec_pool_by_name_twp - args=() - kwargs={'randomsleep': True}"
    assert sorted(lines[:8]) == sorted([one] * 4 + [two] * 4)
    assert all(re.fullmatch(r'Task\[\d+\] completed with results: None', line)
               for line in lines[8:]) and len(lines) == 16


def test_seed_block_12_processed_callback():
    """The call back runs in the parent, after the child printed."""
    assert run_seed_block('12') == ["('arg',) - {'example': 'kwargs'}",
                                    'callback_test - Completed: (None,) - {}', 'None']


def test_seed_block_13_processed_combined():
    """Four calls on a 2-worker process pool; each random result reaches
    the Limiter(1) call back in the parent, which stores it; the tasks
    keep no result (_task_store_return=False)."""
    lines = run_seed_block('13')
    callback = r'callback_test - Completed: \((\d+),\) - \{\}'
    assert lines.count('() - {}') == 4
    matches = [re.fullmatch(callback, line) for line in lines]
    values = [int(match.group(1)) for match in matches if match]
    assert len(values) == 4 and all(0 <= v <= 10 for v in values), lines
    assert lines[-2] == 'Stored Values: %r' % ([(v,) for v in values],)
    assert lines[-1] == 'Results: [None, None, None, None]'
