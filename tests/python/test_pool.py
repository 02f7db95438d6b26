# SPDX-License-Identifier: LGPL-2.1-or-later
"""Pmt.Pool from Python: constructor forms, submit, map, waits, join and
shutdown, the registry, initializers and the workers' thread states."""

import concurrent.futures
import logging
import os
import threading
import time

import pytest

from conftest import SAFETY, Gate, wait_cancelled, wait_until

from gi.repository import GLib, Pmt


def assert_pmt_error(excinfo, code):
    error = excinfo.value
    assert error.matches(Pmt.error_quark(), code), error


# Constructor -----------------------------------------------------------------

def test_thread_pool_is_pool():
    assert Pmt.ThreadPool is Pmt.Pool


def test_default_max_workers_is_the_number_of_processors():
    pool = Pmt.Pool()
    try:
        assert pool.get_max_workers() == max(GLib.get_num_processors(), 1)
    finally:
        assert pool.join(SAFETY)


@pytest.mark.parametrize('args, kwargs, expected', [
    ((2,), {}, 2),
    ((), {'maxWorkers': 2}, 2),
    ((), {'max_workers': 3}, 3),
    ((5,), {}, 5),
])
def test_max_workers_forms(args, kwargs, expected):
    pool = Pmt.Pool(*args, **kwargs)
    try:
        assert pool.get_max_workers() == expected
    finally:
        assert pool.join(SAFETY)


def test_max_workers_given_twice_is_a_type_error():
    with pytest.raises(TypeError):
        Pmt.Pool(maxWorkers=2, max_workers=3)
    with pytest.raises(TypeError):
        Pmt.Pool(2, max_workers=3)


@pytest.mark.parametrize('kwargs, error', [
    ({'maxWorkers': -1}, ValueError),
    ({'maxWorkers': 'two'}, ValueError),
    ({'maxWorkers': 2.5}, ValueError),
    ({'maxWorkers': True}, ValueError),
    ({'max_workers': -3}, ValueError),
    ({'prepopulate': -1}, ValueError),
    ({'prepopulate': 'one'}, ValueError),
    ({'initializer': 42}, TypeError),
])
def test_bad_constructor_values(kwargs, error):
    with pytest.raises(error):
        Pmt.Pool(**kwargs)


def test_named_pool_is_registered():
    pool = Pmt.Pool(2, name='test-pool-named')
    try:
        assert pool.get_name() == 'test-pool-named'
        assert Pmt.Pool.get_pool_by_name('test-pool-named') is pool
    finally:
        assert pool.join(SAFETY)
    assert Pmt.Pool.get_pool_by_name('test-pool-named') is None


def test_name_in_use():
    pool = Pmt.Pool(2, name='test-pool-taken')
    try:
        with pytest.raises(GLib.Error) as excinfo:
            Pmt.Pool(2, name='test-pool-taken')
        assert_pmt_error(excinfo, Pmt.Error.NAME_IN_USE)
        assert Pmt.Pool.get_pool_by_name('test-pool-taken') is pool
    finally:
        assert pool.join(SAFETY)


def n_threads():
    return len(os.listdir('/proc/self/task'))


def test_name_in_use_starts_no_workers():
    calls = []
    pool = Pmt.Pool(1, name='test-pool-taken-prepopulated')
    try:
        before = n_threads()
        with pytest.raises(GLib.Error):
            Pmt.Pool(3, name='test-pool-taken-prepopulated', prepopulate=3,
                     initializer=calls.append, initargs=(1,))
        time.sleep(0.2)   # a chance for wrongly started workers to show
        assert n_threads() <= before
        assert calls == []
    finally:
        assert pool.join(SAFETY)


def test_unnamed_pools_get_distinct_names():
    first, second = Pmt.Pool(1), Pmt.Pool(1)
    try:
        assert first.get_name() and second.get_name()
        assert first.get_name() != second.get_name()
        assert Pmt.Pool.get_pool_by_name(first.get_name()) is first
    finally:
        assert first.join(SAFETY) and second.join(SAFETY)


def test_prepopulate_starts_workers_that_stay():
    # An idle timeout of 20 ms: without the minimum, idle workers go.
    pool = Pmt.Pool(4, prepopulate=2, idle_timeout=20000)
    try:
        assert pool.get_min_workers() == 2
        assert wait_until(lambda: pool.get_n_workers() == 2)
        assert pool.get_n_submitted() == 0
        time.sleep(0.3)   # a chance to wrongly let them go
        assert pool.get_n_workers() == 2
    finally:
        assert pool.join(SAFETY)


def test_idle_workers_exit_without_prepopulate():
    # The counterpart of the test above: the same pool without a minimum.
    pool = Pmt.Pool(4, idle_timeout=20000)
    try:
        assert pool.submit(lambda: None).wait(SAFETY)
        assert wait_until(lambda: pool.get_n_workers() == 0)
    finally:
        assert pool.join(SAFETY)


def test_prepopulate_is_capped_by_max_workers():
    pool = Pmt.Pool(2, prepopulate=5)
    try:
        assert pool.get_min_workers() == 2
        assert wait_until(lambda: pool.get_n_workers() == 2)
    finally:
        assert pool.join(SAFETY)


def test_worker_auto_kill():
    kept, default = Pmt.Pool(1, workerAutoKill=False), Pmt.Pool(1)
    try:
        assert kept.get_idle_timeout() == -1
        assert default.get_idle_timeout() > 0
    finally:
        assert kept.join(SAFETY) and default.join(SAFETY)


# submit ----------------------------------------------------------------------

def test_submit_passes_every_argument(pool):
    def fn(*args, **kwargs):
        return args, kwargs

    task = pool.submit(fn, 1, 'two', (3,), key=4, other=None)
    assert task.result(SAFETY) == ((1, 'two', (3,)), {'key': 4, 'other': None})


def test_submit_keywords_named_like_submit_parameters_reach_fn(pool):
    def fn(fn=None, self=None, priority=None):
        return fn, self, priority

    assert pool.submit(fn, fn=1, self=2, priority=3).result(SAFETY) == (1, 2, 3)


@pytest.mark.parametrize('make', [
    lambda: object(),
    lambda: [1, 2, 3],
    lambda: 2 ** 64 + int(time.monotonic_ns()),
    lambda: -(2 ** 80) - 7,
    lambda: 'a string %d' % time.monotonic_ns(),
    lambda: b'bytes' * 100,
    lambda: 1.5,
])
def test_result_is_the_returned_object(pool, make):
    value = make()
    task = pool.submit(lambda: value)
    assert task.wait(SAFETY)
    assert task.results is value
    assert task.result() is value


def test_default_priority_is_10(pool):
    task = pool.submit(lambda: None)
    assert task.get_priority() == 10 == Pmt.DEFAULT_PRIORITY
    assert task.wait(SAFETY)


def test_submit_task_priority_is_consumed(pool):
    task = pool.submit(lambda **kwargs: kwargs, submit_task_priority=3, other=1)
    assert task.get_priority() == 3
    assert task.result(SAFETY) == {'other': 1}


def test_submit_priority_orders_the_queue():
    pool = Pmt.Pool(1)
    gate, order = Gate(), []
    try:
        blocker = pool.submit(gate)
        gate.wait_entered()
        tasks = [pool.submit(order.append, prio, submit_task_priority=prio)
                 for prio in (10, 30, 1, 20, -5)]
        gate.open()
        assert Pmt.Task.wait_all(tasks + [blocker], SAFETY)
        assert order == [-5, 1, 10, 20, 30]
    finally:
        gate.open()
        assert pool.join(SAFETY)


@pytest.mark.parametrize('keyword', ['submit_task_nowait', 'submit_task_timeout',
                                     'submit_task_autospawn'])
def test_seed_submit_keywords_are_accepted(pool, keyword):
    task = pool.submit(lambda **kwargs: kwargs, **{keyword: True})
    assert task.result(SAFETY) == {}


def test_unknown_submit_keyword_is_a_type_error(pool):
    with pytest.raises(TypeError):
        pool.submit(lambda **kwargs: kwargs, submit_task_x=1)
    assert pool.get_n_submitted() == 0


@pytest.mark.parametrize('priority', ['high', 1.5, True])
def test_bad_submit_priority(pool, priority):
    with pytest.raises(TypeError):
        pool.submit(lambda: None, submit_task_priority=priority)


def test_submit_non_callable_is_a_type_error(pool):
    with pytest.raises(TypeError):
        pool.submit(42)
    with pytest.raises(TypeError):
        pool.submit(None, 1)
    assert pool.get_n_submitted() == 0


def test_task_object_is_passed_when_named(pool):
    def fn(x, TaskObject=None):
        return x, TaskObject

    task = pool.submit(fn, 7)
    x, task_object = task.result(SAFETY)
    assert x == 7 and task_object is task


# map -------------------------------------------------------------------------

def test_map_keeps_the_order_and_passes_args_and_kwargs(pool):
    def fn(a, b, c=0):
        time.sleep(0.001 * (a % 3))
        return a * 100 + b * 10 + c

    params = [((i, i % 5), {'c': i % 7}) for i in range(40)]
    tasks = pool.map(fn, params)
    assert len(tasks) == 40
    assert [t.result(SAFETY) for t in tasks] == [fn(*a, **k) for a, k in params]
    assert all(t.get_priority() == 10 for t in tasks)


def test_map_of_nothing(pool):
    assert pool.map(lambda: None, []) == []
    assert pool.get_n_submitted() == 0


def test_map_bad_items(pool):
    with pytest.raises(TypeError):
        pool.map(lambda *a: a, [1, 2])
    with pytest.raises(TypeError):
        pool.map(42, [((), {})])
    with pytest.raises(ValueError):
        pool.map(lambda: None, [((), {})], chunksize=-1)
    with pytest.raises(TypeError):
        pool.map(lambda: None, [((), {})], bogus=1)
    assert pool.get_n_submitted() == 0


def test_map_chunksize_keeps_a_chunk_on_one_thread():
    # Chunks of 2: (0, 1) (2, 3) (4, 5).  Item 0 holds its worker until
    # item 3 ran, so chunk (2, 3) runs on the other worker: with chunks of
    # 3 items 2 and 3 would be on different threads, with chunks of 1 so
    # would 0 and 1.
    pool = Pmt.Pool(2)
    item3_ran = threading.Event()

    def fn(i):
        if i == 0:
            assert item3_ran.wait(SAFETY)
        if i == 3:
            item3_ran.set()
        return threading.get_ident()

    try:
        tasks = pool.map(fn, [((i,), {}) for i in range(6)], chunksize=2)
        threads = [t.result(SAFETY) for t in tasks]
        assert threads[0] == threads[1]
        assert threads[2] == threads[3]
        assert threads[4] == threads[5]
        assert threads[0] != threads[2]
    finally:
        item3_ran.set()
        assert pool.join(SAFETY)


def test_map_priority():
    pool = Pmt.Pool(1)
    gate, order = Gate(), []
    try:
        blocker = pool.submit(gate)
        gate.wait_entered()
        late = pool.submit(order.append, 'submitted')
        mapped = pool.map(order.append, [(('mapped',), {})] * 3, submit_task_priority=5)
        assert [t.get_priority() for t in mapped] == [5, 5, 5]
        gate.open()
        assert Pmt.Task.wait_all(mapped + [late, blocker], SAFETY)
        assert order == ['mapped'] * 3 + ['submitted']
    finally:
        gate.open()
        assert pool.join(SAFETY)


def test_map_failure_is_per_item(pool):
    def fn(i):
        if i == 1:
            raise KeyError(i)
        return i

    tasks = pool.map(fn, [((i,), {}) for i in range(3)])
    assert tasks[0].result(SAFETY) == 0
    assert isinstance(tasks[1].exception(SAFETY), KeyError)
    assert tasks[2].result(SAFETY) == 2


# Waiting, joining, shutting down ---------------------------------------------

def test_wait_completion_times_out_then_succeeds(pool):
    gate = Gate()
    try:
        task = pool.submit(gate)
        gate.wait_entered()
        start = time.monotonic()
        assert pool.wait_completion(0.1) is False
        assert time.monotonic() - start >= 0.09
        assert not task.done()
    finally:
        gate.open()
    assert pool.wait_completion(SAFETY) is True
    assert task.done()


def test_submit_after_join_is_refused():
    pool = Pmt.Pool(2)
    task = pool.submit(time.sleep, 0.05)
    assert pool.join(SAFETY) is True
    assert task.done()
    assert pool.get_state() == Pmt.PoolState.STOPPED
    with pytest.raises(GLib.Error) as excinfo:
        pool.submit(lambda: None)
    assert_pmt_error(excinfo, Pmt.Error.STOPPED)
    with pytest.raises(GLib.Error) as excinfo:
        pool.map(lambda: None, [((), {})])
    assert_pmt_error(excinfo, Pmt.Error.STOPPED)


def test_join_times_out_while_work_runs():
    pool = Pmt.Pool(1)
    gate = Gate()
    try:
        pool.submit(gate)
        gate.wait_entered()
        assert pool.join(0.05) is False
        assert pool.get_state() != Pmt.PoolState.STOPPED
    finally:
        gate.open()
    assert pool.join(SAFETY) is True


def test_shutdown_lets_queued_tasks_run():
    pool = Pmt.Pool(1)
    gate = Gate()
    try:
        running = pool.submit(gate)
        gate.wait_entered()
        queued = [pool.submit(lambda i=i: i) for i in range(3)]
        assert pool.shutdown(0) is False
    finally:
        gate.open()
    assert pool.shutdown(SAFETY) is True
    assert running.result() == ()
    assert [t.result() for t in queued] == [0, 1, 2]


def test_shutdown_cancel_queued():
    pool = Pmt.Pool(1)
    gate, ran = Gate(), []
    try:
        running = pool.submit(gate)
        gate.wait_entered()
        queued = [pool.submit(ran.append, i) for i in range(3)]
        pool.shutdown(0, cancel_queued=True)
        for task in queued:
            assert task.cancelled()
            with pytest.raises(concurrent.futures.CancelledError):
                task.results
    finally:
        gate.open()
    assert pool.shutdown(SAFETY)
    assert running.result() == ()
    assert ran == []


def test_shutdown_unsafe_cancels_running_and_queued():
    pool = Pmt.Pool(1)
    entered, ran = threading.Event(), []

    def honours_cancel(TaskObject):
        entered.set()
        assert wait_cancelled(TaskObject)
        raise RuntimeError('stopped early')

    running = pool.submit(honours_cancel)
    assert entered.wait(SAFETY)
    queued = pool.submit(ran.append, 1)
    assert pool.shutdown(SAFETY, unsafe=True)
    assert running.cancelled()
    assert queued.cancelled()
    assert ran == []


def test_shutdown_without_cancel_running_leaves_the_cancellable_alone():
    pool = Pmt.Pool(1)
    entered, release = threading.Event(), threading.Event()

    def fn(TaskObject):
        entered.set()
        assert release.wait(SAFETY)
        return TaskObject.get_cancellable().is_cancelled()

    task = pool.submit(fn)
    assert entered.wait(SAFETY)
    pool.shutdown(0, cancel_queued=True)
    release.set()
    assert pool.shutdown(SAFETY)
    assert task.result() is False


def test_with_joins_on_exit():
    with Pmt.Pool(2) as pool:
        tasks = [pool.submit(time.sleep, 0.02) for _ in range(4)]
    assert all(t.done() for t in tasks)
    assert pool.get_state() == Pmt.PoolState.STOPPED


def test_with_joins_on_exception():
    with pytest.raises(ZeroDivisionError):
        with Pmt.Pool(2) as pool:
            task = pool.submit(time.sleep, 0.02)
            1 / 0
    assert task.done()
    assert pool.get_state() == Pmt.PoolState.STOPPED


def test_own_task_cannot_join_its_pool(pool):
    def join_own():
        pool.join()

    def shutdown_own():
        pool.shutdown()

    with pytest.raises(RuntimeError):
        pool.submit(join_own).result(SAFETY)
    with pytest.raises(RuntimeError):
        pool.submit(shutdown_own).result(SAFETY)
    assert pool.get_state() != Pmt.PoolState.STOPPED


def test_task_of_another_pool_may_join_a_pool(pool):
    other = Pmt.Pool(1)
    other.submit(time.sleep, 0.01)
    assert pool.submit(other.join, SAFETY).result(SAFETY) is True
    assert other.get_state() == Pmt.PoolState.STOPPED


# The registry ----------------------------------------------------------------

def test_get_pools():
    first = Pmt.Pool(1, name='test-get-pools-1')
    second = Pmt.Pool(1, name='test-get-pools-2')
    try:
        pools = Pmt.Pool.get_pools()
        assert any(p is first for p in pools)
        assert any(p is second for p in pools)
        assert Pmt.Pool.get_pools('test-get-pools-2') == [second]
        assert Pmt.Pool.get_pools('test-get-pools-none') == []
    finally:
        assert first.join(SAFETY) and second.join(SAFETY)
    assert not any(p is first for p in Pmt.Pool.get_pools())


def test_join_pools():
    pools = [Pmt.Pool(1) for _ in range(3)]
    tasks = [p.submit(time.sleep, 0.02) for p in pools]
    assert Pmt.Pool.join_pools(SAFETY) is True
    assert all(t.done() for t in tasks)
    assert all(p.get_state() == Pmt.PoolState.STOPPED for p in pools)
    assert Pmt.Pool.get_pools() == []


def test_join_pools_times_out():
    pool = Pmt.Pool(1)
    gate = Gate()
    try:
        pool.submit(gate)
        gate.wait_entered()
        assert Pmt.Pool.join_pools(0.05) is False
    finally:
        gate.open()
    assert Pmt.Pool.join_pools(SAFETY) is True
    assert pool.get_state() == Pmt.PoolState.STOPPED


def test_repr():
    pool = Pmt.Pool(3, name='test-repr')
    try:
        text = repr(pool)
        assert 'test-repr' in text
        assert '/3' in text
        assert pool.get_state().value_nick in text
    finally:
        assert pool.join(SAFETY)
    assert 'stopped' in repr(pool)


# Worker threads --------------------------------------------------------------

def test_initializer_runs_once_per_worker_before_its_tasks():
    local = threading.local()
    calls = []

    def init(tag, number):
        calls.append((threading.get_ident(), tag, number))
        local.tag = (tag, number)

    def task():
        time.sleep(0.001)
        return threading.get_ident(), getattr(local, 'tag', None)

    pool = Pmt.Pool(2, workerAutoKill=False, initializer=init, initargs=('init', 5))
    try:
        results = [t.result(SAFETY) for t in [pool.submit(task) for _ in range(50)]]
    finally:
        assert pool.join(SAFETY)
    idents = [ident for ident, _, _ in calls]
    assert 1 <= len(calls) <= 2
    assert len(set(idents)) == len(idents)
    assert all(tag == 'init' and number == 5 for _, tag, number in calls)
    assert all(tag == ('init', 5) for _, tag in results)
    assert {ident for ident, _ in results} <= set(idents)


def test_initializer_of_prepopulated_workers():
    calls = []
    pool = Pmt.Pool(3, prepopulate=3, initializer=lambda: calls.append(threading.get_ident()))
    try:
        assert wait_until(lambda: len(calls) == 3)
        assert len(set(calls)) == 3
    finally:
        assert pool.join(SAFETY)


def test_thread_local_persists_between_tasks():
    # A worker keeps one Python thread state for its life: before, each
    # task got a new one, and threading.local started afresh every time.
    local = threading.local()

    def count():
        local.n = getattr(local, 'n', 0) + 1
        return local.n

    pool = Pmt.Pool(1)
    try:
        tasks = [pool.submit(count) for _ in range(200)]
        assert [t.result(SAFETY) for t in tasks] == list(range(1, 201))
    finally:
        assert pool.join(SAFETY)


def test_failing_initializer_shuts_the_pool_down(caplog):
    def init():
        raise ValueError('no setup')

    ran = []
    pool = Pmt.Pool(1, initializer=init)
    with caplog.at_level(logging.ERROR, logger='gi.repository.Pmt'):
        tasks = [pool.submit(ran.append, i) for i in range(3)]
        assert Pmt.Task.wait_all(tasks, SAFETY)
        assert pool.shutdown(SAFETY)
    assert all(t.cancelled() for t in tasks)
    assert ran == []
    assert pool.get_state() == Pmt.PoolState.STOPPED
    records = [r for r in caplog.records
               if r.name == 'gi.repository.Pmt' and 'initializer' in r.getMessage()]
    assert len(records) == 1
    assert records[0].exc_info[0] is ValueError
