# SPDX-License-Identifier: LGPL-2.1-or-later
"""Pmt.Task from Python: a concurrent.futures.Future, an event, a
picklable outcome, a class to subclass, and raw task functions of the C
API."""

import concurrent.futures
import gc
import logging
import pickle
import sys
import threading
import time

import pytest

from conftest import SAFETY, Gate, wait_cancelled, wait_until

from gi.repository import GLib, Pmt

NEVER_RETRIEVED = 'exception was never retrieved'


class Boom(Exception):
    pass


def raise_boom(*args):
    raise Boom(*args)


@pytest.fixture
def gated(pool):
    """A task of ``pool`` held running by a gate: (task, gate).  A second
    one holds the other worker, so that further tasks stay queued until
    the gate opens."""
    gate = Gate()
    task = pool.submit(gate, 'gated')
    other = pool.submit(gate, 'other')
    gate.wait_entered(2)
    yield task, gate
    gate.open()
    assert task.wait(SAFETY) and other.wait(SAFETY)


@pytest.fixture
def hooks(monkeypatch):
    """Records what reaches sys.excepthook and sys.unraisablehook."""
    seen = []
    monkeypatch.setattr(sys, 'excepthook', lambda *args: seen.append(('excepthook', args)))
    monkeypatch.setattr(sys, 'unraisablehook', lambda *args: seen.append(('unraisablehook', args)))
    return seen


def callback_failures(caplog):
    return [r for r in caplog.records
            if r.name == 'gi.repository.Pmt' and 'callback' in r.getMessage()]


def never_retrieved(caplog):
    return [r for r in caplog.records
            if r.name == 'gi.repository.Pmt' and NEVER_RETRIEVED in r.getMessage()]


# result() and exception() ----------------------------------------------------

def test_result_returns_the_value(pool):
    value = object()
    assert pool.submit(lambda: value).result(SAFETY) is value


def test_result_raises_the_same_exception_object(pool):
    task = pool.submit(raise_boom, 'x')
    with pytest.raises(Boom) as first:
        task.result(SAFETY)
    with pytest.raises(Boom) as second:
        task.result(SAFETY)
    assert first.value is second.value
    assert first.value.args == ('x',)
    assert task.exception() is first.value


def test_result_keeps_the_traceback(pool):
    task = pool.submit(raise_boom)
    exc = task.exception(SAFETY)
    names = []
    tb = exc.__traceback__
    while tb is not None:
        names.append(tb.tb_frame.f_code.co_name)
        tb = tb.tb_next
    assert 'raise_boom' in names


def test_result_times_out(gated):
    task, _ = gated
    start = time.monotonic()
    with pytest.raises(concurrent.futures.TimeoutError):
        task.result(0.1)
    assert time.monotonic() - start >= 0.09
    with pytest.raises(concurrent.futures.TimeoutError):
        task.result(0)
    with pytest.raises(concurrent.futures.TimeoutError):
        task.exception(0.05)


def test_result_of_a_cancelled_task(pool, gated):
    task = pool.submit(lambda: 1)
    assert task.cancel()
    with pytest.raises(concurrent.futures.CancelledError):
        task.result(SAFETY)
    with pytest.raises(concurrent.futures.CancelledError):
        task.exception(SAFETY)


def test_exception_is_none_on_success(pool):
    assert pool.submit(lambda: 1).exception(SAFETY) is None


def test_result_waits(pool):
    event = threading.Event()

    def fn():
        assert event.wait(SAFETY)
        return 'late'

    task = pool.submit(fn)
    threading.Timer(0.05, event.set).start()
    assert task.result(SAFETY) == 'late'


# State -----------------------------------------------------------------------

def test_states_while_running_and_after(pool, gated):
    task, gate = gated
    assert task.running()
    assert not task.done()
    assert not task.is_set()
    assert not task.cancelled()
    assert task.results is None
    assert task.wait(0.05) is False
    gate.open()
    assert task.wait(SAFETY) is True
    assert not task.running()
    assert task.done() and task.is_set()
    assert not task.cancelled()
    assert task.results == ('gated',)


def test_queued_task_is_not_running(pool, gated):
    _, gate = gated
    queued = pool.submit(lambda: 1)
    assert not queued.running()
    assert not queued.done()
    assert queued.get_state() == Pmt.TaskState.QUEUED
    gate.open()
    assert queued.result(SAFETY) == 1


def test_results_is_none_when_the_function_returns_none(pool):
    task = pool.submit(lambda: None)
    assert task.wait(SAFETY)
    assert task.results is None
    assert task.get_state() == Pmt.TaskState.SUCCEEDED


def test_results_raises_the_exception(pool):
    task = pool.submit(raise_boom)
    assert task.wait(SAFETY)
    assert task.get_state() == Pmt.TaskState.FAILED
    with pytest.raises(Boom):
        task.results


def test_results_of_a_cancelled_task(pool, gated):
    task = pool.submit(lambda: 1)
    task.cancel()
    with pytest.raises(concurrent.futures.CancelledError):
        task.results


# cancel() --------------------------------------------------------------------

def test_cancel_a_queued_task(pool, gated):
    _, gate = gated
    ran = []
    task = pool.submit(ran.append, 1)
    assert task.cancel() is True
    assert task.cancelled() and task.done()
    assert task.get_state() == Pmt.TaskState.CANCELLED
    gate.open()
    # Queued after it: had the cancelled task been left in the queue, it
    # would have run first.
    assert pool.submit(lambda: None).wait(SAFETY)
    assert ran == []


def test_cancel_a_finished_task(pool):
    task = pool.submit(lambda: 'done')
    assert task.wait(SAFETY)
    assert task.cancel() is False
    assert not task.cancelled()
    assert task.result() == 'done'


def test_cancel_a_running_task_triggers_its_cancellable(pool):
    entered = threading.Event()
    checked = threading.Event()

    def fn(TaskObject):
        entered.set()
        assert wait_cancelled(TaskObject)
        # Not before cancel() returned: else it may be cancelled by then.
        assert checked.wait(SAFETY)
        raise RuntimeError('noticed the cancellation')

    task = pool.submit(fn)
    assert entered.wait(SAFETY)
    assert task.cancel() is False        # it runs on until it notices
    checked.set()
    assert task.wait(SAFETY)
    assert task.cancelled()
    assert task.get_state() == Pmt.TaskState.CANCELLED
    with pytest.raises(concurrent.futures.CancelledError):
        task.result()


def test_a_running_task_that_ignores_cancel_succeeds(pool):
    entered = threading.Event()

    def fn(TaskObject):
        entered.set()
        assert wait_cancelled(TaskObject)
        return 'finished anyway'

    task = pool.submit(fn)
    assert entered.wait(SAFETY)
    task.cancel()
    assert task.result(SAFETY) == 'finished anyway'
    assert not task.cancelled()


def test_cancelled_error_inside_ends_cancelled(pool):
    task = pool.submit(raise_cancelled)
    assert task.wait(SAFETY)
    assert task.cancelled()


def raise_cancelled():
    raise concurrent.futures.CancelledError()


def test_cancelled_task_logs_no_unretrieved_exception(pool, caplog):
    # The function's own exception is not what the cancelled task gives:
    # it must not be reported as never retrieved when the task goes.
    entered = threading.Event()

    def fn(TaskObject):
        entered.set()
        assert wait_cancelled(TaskObject)
        raise RuntimeError('noticed the cancellation')

    with caplog.at_level(logging.ERROR, logger='gi.repository.Pmt'):
        task = pool.submit(fn)
        assert entered.wait(SAFETY)
        task.cancel()
        assert task.wait(SAFETY) and task.cancelled()
        del task
        assert pool.wait_completion(SAFETY)
        gc.collect()
        time.sleep(0.05)
        gc.collect()
    assert never_retrieved(caplog) == []


# add_done_callback() ---------------------------------------------------------

def test_done_callback_runs_once_in_the_finishing_thread(pool):
    release = threading.Event()
    calls = []
    called = threading.Event()

    def fn():
        assert release.wait(SAFETY)
        return threading.get_ident()

    def callback(done):
        calls.append((done, threading.get_ident()))
        called.set()

    task = pool.submit(fn)
    task.add_done_callback(callback)
    time.sleep(0.05)    # a chance to be called too early
    assert calls == []
    release.set()
    assert called.wait(SAFETY)
    assert pool.wait_completion(SAFETY)
    assert calls == [(task, task.result())]
    assert task.result() != threading.get_ident()


def test_done_callback_of_a_done_task_runs_at_once_here(pool):
    task = pool.submit(lambda: 1)
    assert task.wait(SAFETY)
    calls = []
    task.add_done_callback(lambda done: calls.append((done, threading.get_ident())))
    assert calls == [(task, threading.get_ident())]


def test_done_callback_sees_the_outcome(pool, gated):
    task, gate = gated
    seen = []
    task.add_done_callback(lambda done: seen.append(done.result()))
    gate.open()
    assert wait_until(lambda: seen)
    assert seen == [('gated',)]


def test_done_callback_exception_is_logged_not_raised(pool, caplog):
    task = pool.submit(lambda: 1)
    assert task.wait(SAFETY)
    after = []

    def bad(done):
        raise ValueError('bad callback')

    with caplog.at_level(logging.ERROR, logger='gi.repository.Pmt'):
        task.add_done_callback(bad)          # raises nothing
        task.add_done_callback(after.append)
    assert after == [task]
    records = callback_failures(caplog)
    assert len(records) == 1
    assert records[0].exc_info[0] is ValueError


def test_done_callback_exception_in_the_worker_is_logged(pool, gated, caplog):
    task, gate = gated
    after = threading.Event()

    def bad(done):
        raise ValueError('bad callback')

    with caplog.at_level(logging.ERROR, logger='gi.repository.Pmt'):
        task.add_done_callback(bad)
        task.add_done_callback(lambda done: after.set())
        gate.open()
        assert after.wait(SAFETY)
    assert task.result() == ('gated',)
    records = callback_failures(caplog)
    assert [r.exc_info[0] for r in records] == [ValueError]


def test_several_done_callbacks(pool, gated):
    task, gate = gated
    calls = []
    for i in range(5):
        task.add_done_callback(lambda done, i=i: calls.append(i))
    gate.open()
    assert wait_until(lambda: len(calls) == 5)
    assert sorted(calls) == [0, 1, 2, 3, 4]


def test_done_callback_of_a_cancelled_task(pool, gated):
    task = pool.submit(lambda: 1)
    calls = []
    task.add_done_callback(calls.append)
    task.cancel()
    assert calls == [task]


# wait(), wait_all(), wait_any() ----------------------------------------------

def done_task():
    task = Pmt.Task.new(lambda t: 1)
    task.run()
    assert task.done()
    return task


def test_wait_returns_a_bool(pool, gated):
    task, gate = gated
    assert task.wait(0) is False
    assert task.wait(0.05) is False
    gate.open()
    assert task.wait(SAFETY) is True
    assert task.wait() is True


def test_wait_all(pool, gated):
    task, gate = gated
    quick = done_task()
    assert Pmt.Task.wait_all([quick, task], 0.05) is False
    gate.open()
    assert Pmt.Task.wait_all([quick, task], SAFETY) is True
    assert Pmt.Task.wait_all([], 0) is True


def test_wait_any(pool, gated):
    task, gate = gated
    assert Pmt.Task.wait_any([task], 0.05) == -1
    quick = done_task()
    assert Pmt.Task.wait_any([task, quick], SAFETY) == 1
    gate.open()
    assert task.wait(SAFETY)
    assert Pmt.Task.wait_any([task, quick], SAFETY) in (0, 1)
    assert Pmt.Task.wait_any((t for t in [task]), SAFETY) == 0


def test_task_cannot_wait_for_itself(pool):
    def wait_self(how, TaskObject):
        if how == 'wait':
            TaskObject.wait(SAFETY)
        elif how == 'result':
            TaskObject.result(SAFETY)
        else:
            TaskObject.exception(SAFETY)

    for how in ('wait', 'result', 'exception'):
        task = pool.submit(wait_self, how)
        assert isinstance(task.exception(SAFETY), RuntimeError), how


def test_task_may_wait_for_another(pool):
    other = pool.submit(lambda: 5)
    assert pool.submit(lambda: other.result(SAFETY) * 2).result(SAFETY) == 10


# Python protocols ------------------------------------------------------------

def test_repr(pool):
    task = pool.submit(lambda: 1, submit_task_priority=7)
    assert task.wait(SAFETY)
    text = repr(task)
    assert 'id=%d' % task.get_id() in text
    assert 'succeeded' in text
    assert 'priority=7' in text


def test_repr_while_running(gated):
    task, _ = gated
    assert 'running' in repr(task)


def test_pickle_a_succeeded_task(pool):
    task = pool.submit(lambda: {'answer': 42}, submit_task_priority=4)
    assert task.wait(SAFETY)
    snapshot = pickle.loads(pickle.dumps(task))
    assert isinstance(snapshot, Pmt.TaskSnapshot)
    assert snapshot == (task.get_id(), 'succeeded', 4, {'answer': 42}, None)
    assert snapshot.id == task.get_id()
    assert snapshot.state == 'succeeded'
    assert snapshot.priority == 4
    assert snapshot.result == {'answer': 42}
    assert snapshot.error is None


def test_pickle_a_failed_task(pool):
    task = pool.submit(raise_boom, 'why')
    assert task.wait(SAFETY)
    snapshot = pickle.loads(pickle.dumps(task))
    assert snapshot.state == 'failed'
    assert snapshot.result is None
    assert isinstance(snapshot.error, Boom)
    assert snapshot.error.args == ('why',)


def test_pickle_a_cancelled_task(pool, gated):
    task = pool.submit(lambda: 1)
    task.cancel()
    snapshot = pickle.loads(pickle.dumps(task))
    assert snapshot.state == 'cancelled'
    assert isinstance(snapshot.error, concurrent.futures.CancelledError)


def test_pickle_an_unfinished_task(gated):
    task, _ = gated
    with pytest.raises(TypeError):
        pickle.dumps(task)


# Subclasses ------------------------------------------------------------------

class ValueTask(Pmt.Task):
    def do_run(self):
        return ['from', 'do_run']


class FailingTask(Pmt.Task):
    def do_run(self):
        raise Boom('in do_run')


def test_subclass_do_run_returns_the_result(pool, hooks):
    task = ValueTask()
    pool.push(task)
    assert task.result(SAFETY) == ['from', 'do_run']
    assert task.get_state() == Pmt.TaskState.SUCCEEDED
    assert hooks == []


def test_subclass_do_run_raising_fails(pool, hooks):
    task = FailingTask()
    pool.push(task)
    assert task.wait(SAFETY)
    assert task.get_state() == Pmt.TaskState.FAILED
    exc = task.exception()
    assert isinstance(exc, Boom) and exc.args == ('in do_run',)
    with pytest.raises(Boom):
        task.results
    assert hooks == []


def test_subclass_run_in_this_thread(hooks):
    task = ValueTask()
    task.run()
    assert task.result(0) == ['from', 'do_run']
    failing = FailingTask()
    failing.run()
    assert isinstance(failing.exception(0), Boom)
    assert hooks == []


# Raw task functions of the C API ---------------------------------------------

def test_task_new_return_value_is_the_result(pool, hooks):
    value = object()
    task = Pmt.Task.new(lambda t, data: (t, data, value), 'data')
    pool.push(task)
    assert task.wait(SAFETY)
    assert task.get_state() == Pmt.TaskState.SUCCEEDED
    got_task, data, got_value = task.get_result()
    assert got_task is task and data == 'data' and got_value is value
    assert task.result() is task.get_result()
    assert hooks == []


def test_task_new_exception_fails_the_task(pool, hooks):
    task = Pmt.Task.new(lambda t: raise_boom('raw'))
    pool.push(task)
    assert task.wait(SAFETY)
    assert task.get_state() == Pmt.TaskState.FAILED
    exc = task.exception()
    assert isinstance(exc, Boom) and exc.args == ('raw',)
    with pytest.raises(GLib.Error) as excinfo:
        task.propagate_error()
    assert excinfo.value.matches(Pmt.error_quark(), Pmt.Error.FAILED)
    assert 'Boom' in excinfo.value.message
    assert hooks == []


def test_task_new_returning_none(hooks):
    task = Pmt.Task.new(lambda t: None)
    task.run()
    assert task.get_state() == Pmt.TaskState.SUCCEEDED
    assert task.get_result() is None
    assert hooks == []


def test_submit_full_return_value_and_exception(pool, hooks):
    good = pool.submit_full(3, lambda t, n: n * 2, 21)
    bad = pool.submit_full(4, lambda t, n: [][n], 21)
    assert good.result(SAFETY) == 42
    assert good.get_result() == 42
    assert good.get_priority() == 3
    assert bad.wait(SAFETY)
    assert bad.get_state() == Pmt.TaskState.FAILED
    assert isinstance(bad.exception(), IndexError)
    assert hooks == []


def test_raw_function_big_int_stays_the_same_object(pool):
    value = 2 ** 100 + time.monotonic_ns()
    task = pool.submit_full(0, lambda t: value)
    assert task.wait(SAFETY)
    assert task.get_result() is value


# "exception was never retrieved" ---------------------------------------------

def failed_task(pool, make=None):
    task = make() if make else pool.submit(raise_boom, 'unseen')
    if make:
        pool.push(task)
    assert task.wait(SAFETY)
    assert task.get_state() == Pmt.TaskState.FAILED
    return task


@pytest.mark.parametrize('kind', ['submit', 'raw', 'subclass'])
def test_unretrieved_exception_is_logged_once(pool, caplog, kind):
    make = {'submit': None,
            'raw': lambda: Pmt.Task.new(lambda t: raise_boom('unseen')),
            'subclass': FailingTask}[kind]
    with caplog.at_level(logging.ERROR, logger='gi.repository.Pmt'):
        task = failed_task(pool, make)
        assert never_retrieved(caplog) == []     # not while the task lives
        ref = task.weak_ref()
        del task
        assert wait_until(lambda: never_retrieved(caplog) or ref() is None)
        time.sleep(0.05)
        gc.collect()
    records = never_retrieved(caplog)
    assert len(records) == 1
    assert records[0].levelno == logging.ERROR
    assert records[0].exc_info[0] is Boom


@pytest.mark.parametrize('kind', ['submit', 'raw', 'subclass'])
@pytest.mark.parametrize('look', ['results', 'result', 'exception'])
def test_retrieved_exception_is_not_logged(pool, caplog, kind, look):
    make = {'submit': None,
            'raw': lambda: Pmt.Task.new(lambda t: raise_boom('seen')),
            'subclass': FailingTask}[kind]
    with caplog.at_level(logging.ERROR, logger='gi.repository.Pmt'):
        task = failed_task(pool, make)
        if look == 'exception':
            assert isinstance(task.exception(), Boom)
        else:
            with pytest.raises(Boom):
                task.results if look == 'results' else task.result()
        ref = task.weak_ref()
        del task
        # (A record would keep the task: its traceback's frames hold it.)
        assert wait_until(lambda: ref() is None or never_retrieved(caplog))
        gc.collect()
    assert never_retrieved(caplog) == []


def test_successful_task_logs_nothing(pool, caplog):
    with caplog.at_level(logging.DEBUG, logger='gi.repository.Pmt'):
        task = pool.submit(lambda: 1)
        assert task.wait(SAFETY)
        ref = task.weak_ref()
        del task
        assert wait_until(lambda: ref() is None)
    assert [r for r in caplog.records if r.name == 'gi.repository.Pmt'] == []
