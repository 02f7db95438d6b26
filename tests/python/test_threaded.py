# SPDX-License-Identifier: LGPL-2.1-or-later
"""@Pmt.Threaded: where the calls run, what their tasks hold, and the
decorator's keywords."""

import concurrent.futures
import os
import threading

import pytest

from conftest import SAFETY, Gate, Pmt, wait_until


def os_threads():
    return len(os.listdir('/proc/self/task'))


@pytest.fixture(autouse=True, scope='module')
def no_thread_left():
    """Every thread the module's calls started has exited at its end."""
    before = os_threads()
    yield
    assert wait_until(lambda: os_threads() <= before), \
        '%d threads left' % (os_threads() - before)


def thread_gone(native_id):
    """Whether the OS thread ``native_id`` of this process has exited."""
    return not os.path.exists('/proc/self/task/%d' % native_id)


def stop_worker(worker):
    if worker is not None:
        worker.stop()
        assert worker.join(SAFETY)


def join_pool(pool):
    if pool is not None:
        assert pool.join(SAFETY)


# Decoration ------------------------------------------------------------------

@pytest.mark.parametrize('parentheses', [False, True])
def test_call_returns_task_at_once(parentheses):
    gate = Gate()

    def work(x, y=0):
        gate()
        return x + y

    fn = Pmt.Threaded()(work) if parentheses else Pmt.Threaded(work)
    assert isinstance(fn, Pmt.ThreadedFunction)
    task = fn(2, y=3)
    # The call came back while the function is still held in its thread.
    assert isinstance(task, Pmt.Task)
    gate.wait_entered()
    assert not task.done()
    assert task.results is None
    gate.open()
    assert task.wait(SAFETY)
    assert task.results == 5
    assert task.result(SAFETY) == 5


def test_wraps_metadata():
    def documented(a, b):
        """Adds."""
        return a + b

    fn = Pmt.Threaded(documented)
    assert fn.__name__ == 'documented'
    assert fn.__doc__ == 'Adds.'
    assert fn.__wrapped__ is documented
    assert fn.__qualname__ == documented.__qualname__
    assert fn(1, 2).result(SAFETY) == 3


def test_unknown_keywords_raise_type_error():
    def work():
        return 1

    for key in ('_task_x', '_worker_x', '_pool_x', '_other_x', 'color'):
        with pytest.raises(TypeError):
            Pmt.Threaded(work, **{key: 1})
    fn = Pmt.Threaded(work)
    # Per call, only store_return and callback_func have a meaning.
    for key in ('_task_x', '_task_priority', '_task_semaphore'):
        with pytest.raises(TypeError):
            fn(**{key: 1})


# Where the calls run ---------------------------------------------------------

def test_default_mode_new_thread_per_call():
    gate = Gate()
    ids = []
    lock = threading.Lock()

    @Pmt.Threaded
    def work(i):
        with lock:
            ids.append(threading.get_native_id())
        gate()
        return i

    tasks = [work(i) for i in range(3)]
    # The three run at the same time: each has a thread of its own.
    gate.wait_entered(3)
    assert len(set(ids)) == 3
    assert threading.get_native_id() not in ids
    assert work.worker is None and work.pool is None
    gate.open()
    assert Pmt.Task.wait_all(tasks, SAFETY)
    assert [task.results for task in tasks] == [0, 1, 2]
    # Each thread ends after its task.
    for native_id in ids:
        assert wait_until(lambda: thread_gone(native_id)), 'thread %d still runs' % native_id


def test_daemon_one_thread_in_call_order():
    gate = Gate()
    order = []

    @Pmt.Threaded(daemon=True)
    def work(i):
        if i == 0:
            gate()
        order.append((i, threading.get_native_id()))
        return i

    try:
        tasks = [work(i) for i in range(6)]
        gate.wait_entered()
        # Queued behind the first one, on the same worker.
        assert not any(task.done() for task in tasks)
        gate.open()
        assert Pmt.Task.wait_all(tasks, SAFETY)
        assert [i for i, _ in order] == list(range(6))
        assert len({native_id for _, native_id in order}) == 1
        assert order[0][1] != threading.get_native_id()
        # The thread persists between calls.
        native_id = order[0][1]
        assert work(6).result(SAFETY) == 6
        assert order[-1][1] == native_id
        assert not thread_gone(native_id)
    finally:
        stop_worker(work.worker)
    assert wait_until(lambda: thread_gone(native_id))


@pytest.mark.parametrize('how', ['stop', 'kill'])
def test_daemon_respawned_after_stop(how):
    @Pmt.Threaded(daemon=True)
    def work():
        return threading.get_native_id()

    first_id = work().result(SAFETY)
    first = work.worker
    assert isinstance(first, Pmt.Worker)
    getattr(first, how)()
    assert first.join(SAFETY)
    try:
        task = work()
        second_id = task.result(SAFETY)
        second = work.worker
        assert second is not None and second != first
        assert second_id != first_id
        assert task.get_state() == Pmt.TaskState.SUCCEEDED
    finally:
        stop_worker(work.worker)


def test_daemon_killed_while_running():
    gate = Gate()

    @Pmt.Threaded(daemon=True)
    def work(i, TaskObject=None):
        if i == 0:
            gate()
        return i, TaskObject.get_cancellable().is_cancelled()

    running = work(0)
    queued = work(1)
    gate.wait_entered()
    worker = work.worker
    worker.kill()
    # The queued call is cancelled, the running one sees its cancellable.
    assert queued.wait(SAFETY)
    assert queued.cancelled()
    gate.open()
    assert running.result(SAFETY) == (0, True)
    assert worker.join(SAFETY)
    try:
        assert work(2).result(SAFETY) == (2, False)
        assert work.worker != worker
    finally:
        stop_worker(work.worker)


def test_daemon_given_worker_shared():
    worker = Pmt.Worker.new('h7-shared')
    try:
        @Pmt.Threaded(daemon=worker)
        def one():
            return threading.get_native_id()

        @Pmt.Threaded(daemon=worker)
        def two(TaskObject):
            return threading.get_native_id(), TaskObject.get_worker()

        assert one.worker == worker and two.worker == worker
        first = one().result(SAFETY)
        second, task_worker = two().result(SAFETY)
        assert first == second
        assert task_worker == worker
    finally:
        stop_worker(worker)


def test_private_pool():
    @Pmt.Threaded(pool=True)
    def work(TaskObject):
        return TaskObject.get_worker().get_pool()

    @Pmt.Threaded(pool=True)
    def other(TaskObject):
        return TaskObject.get_worker().get_pool()

    try:
        assert work.pool is None     # made on the first call
        tasks = [work() for _ in range(3)]
        pool = work.pool
        assert isinstance(pool, Pmt.Pool)
        assert all(task.result(SAFETY) == pool for task in tasks)
        # Private: another function gets a pool of its own.
        assert other().result(SAFETY) == other.pool
        assert other.pool != pool
    finally:
        join_pool(work.pool)
        join_pool(other.pool)


def test_pool_name_shared_and_created_on_first_use():
    name = 'h7-threaded-named'
    assert Pmt.Pool.get_pool_by_name(name) is None

    @Pmt.Threaded(pool_name=name, _pool_maxWorkers=2)
    def one(TaskObject):
        return TaskObject.get_worker().get_pool()

    @Pmt.Threaded(pool_name=name, _pool_maxWorkers=2)
    def two(TaskObject):
        return TaskObject.get_worker().get_pool()

    # Decorating makes no pool: the first call does.
    assert Pmt.Pool.get_pool_by_name(name) is None
    pool = None
    try:
        tasks = [one() for _ in range(3)] + [two() for _ in range(3)]
        pool = Pmt.Pool.get_pool_by_name(name)
        assert pool is not None
        assert pool.get_max_workers() == 2
        assert one.pool == pool and two.pool == pool
        assert all(task.result(SAFETY) == pool for task in tasks)
        assert pool.get_n_submitted() == 6
    finally:
        join_pool(pool)


def test_given_pool(pool):
    @Pmt.Threaded(pool=pool)
    def work(TaskObject):
        return TaskObject.get_worker().get_pool()

    assert work.pool == pool
    assert work().result(SAFETY) == pool
    assert pool.get_n_submitted() == 1


# Results, callbacks, options -------------------------------------------------

def test_callback_gets_result_in_worker():
    seen = []

    def callback(result):
        seen.append((result, threading.get_native_id()))

    @Pmt.Threaded(callback_func=callback)
    def work(x):
        return x * 2, threading.get_native_id()

    task = work(21)
    value, native_id = task.result(SAFETY)
    assert value == 42
    assert seen == [((42, native_id), native_id)]
    assert native_id != threading.get_native_id()


def test_callback_exception_fails_task():
    error = RuntimeError('callback broke')

    def callback(result):
        raise error

    @Pmt.Threaded(callback_func=callback)
    def work():
        return 1

    task = work()
    assert task.wait(SAFETY)
    assert task.get_state() == Pmt.TaskState.FAILED
    with pytest.raises(RuntimeError) as info:
        task.result()
    assert info.value is error


def test_store_return_false_still_calls_back():
    seen = []

    @Pmt.Threaded(callback_func=seen.append, _task_store_return=False)
    def work(x):
        return x

    task = work('value')
    assert task.wait(SAFETY)
    assert task.get_state() == Pmt.TaskState.SUCCEEDED
    assert task.results is None
    assert task.result() is None
    assert seen == ['value']


def test_per_call_store_return_and_callback():
    seen = []

    @Pmt.Threaded
    def work(x):
        return x

    kept = work(1)
    dropped = work(2, _task_store_return=False)
    called = work(3, _task_callback_func=seen.append)
    assert Pmt.Task.wait_all([kept, dropped, called], SAFETY)
    assert kept.results == 1
    assert dropped.results is None
    assert called.results == 3
    assert seen == [3]


def test_decorator_callback_replaced_per_call():
    by_decorator, per_call = [], []

    @Pmt.Threaded(callback_func=by_decorator.append)
    def work(x):
        return x

    assert work(1).result(SAFETY) == 1
    assert work(2, _task_callback_func=per_call.append).result(SAFETY) == 2
    assert by_decorator == [1]
    assert per_call == [2]


def test_task_priority():
    pool = Pmt.Pool(1)
    gate = Gate()
    order = []
    try:
        @Pmt.Threaded(pool=pool)
        def block():
            gate()

        @Pmt.Threaded(pool=pool, _task_priority=50)
        def late(i):
            order.append(('late', i))

        @Pmt.Threaded(pool=pool, _task_priority=1)
        def early(i):
            order.append(('early', i))

        blocker = block()
        gate.wait_entered()
        tasks = [late(0), late(1), early(0), early(1)]
        assert [task.get_priority() for task in tasks] == [50, 50, 1, 1]
        assert blocker.get_priority() == Pmt.DEFAULT_PRIORITY
        gate.open()
        assert Pmt.Task.wait_all(tasks, SAFETY)
        # Lower first, equal ones in call order.
        assert order == [('early', 0), ('early', 1), ('late', 0), ('late', 1)]
    finally:
        gate.open()
        join_pool(pool)


def test_task_object_injected():
    @Pmt.Threaded
    def work(x, TaskObject):
        return x, TaskObject

    task = work(5)
    x, injected = task.result(SAFETY)
    assert x == 5
    assert injected == task

    @Pmt.Threaded
    def plain(*args, **kwargs):
        return args, kwargs

    # Only a parameter named TaskObject asks for it.
    assert plain(1, a=2).result(SAFETY) == ((1,), {'a': 2})


def test_method():
    class Counter:
        def __init__(self):
            self.count = 0

        @Pmt.Threaded
        def add(self, n):
            """Adds n."""
            self.count += n
            return self

    counter = Counter()
    assert isinstance(Counter.__dict__['add'], Pmt.ThreadedFunction)
    assert Counter.add is Counter.__dict__['add']
    task = counter.add(4)
    assert task.result(SAFETY) is counter
    assert counter.count == 4
    assert counter.add.__doc__ == 'Adds n.'
    # Through the class, self is an ordinary argument.
    assert Counter.add(counter, 1).result(SAFETY) is counter
    assert counter.count == 5


def test_exception_fails_task():
    error = ValueError('broken')

    @Pmt.Threaded
    def work():
        raise error

    task = work()
    assert task.wait(SAFETY)
    assert task.get_state() == Pmt.TaskState.FAILED
    assert task.exception() is error
    with pytest.raises(ValueError) as info:
        task.results
    assert info.value is error
    with pytest.raises(ValueError):
        task.result()


def test_cancel_before_run():
    gate = Gate()

    @Pmt.Threaded(daemon=True)
    def work(i):
        gate()
        return i

    try:
        first = work(0)
        gate.wait_entered()
        second = work(1)
        assert second.cancel()
        gate.open()
        assert first.result(SAFETY) == 0
        assert second.wait(SAFETY)
        with pytest.raises(concurrent.futures.CancelledError):
            second.result()
    finally:
        stop_worker(work.worker)
