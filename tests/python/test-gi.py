#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Pmt through GObject-Introspection: the annotations let Python drive
tasks, pools, limiters, command tasks and Threaded.  Prints TAP and
exits non-zero on the first failure."""

import sys

import gi
gi.require_version('Pmt', '1.0')
from gi.repository import GLib, Pmt  # noqa: E402

SECOND = 1000000


def test_pool_submit_results():
    pool = Pmt.Pool.new(None, 2)

    def double(task, n):
        task.return_int(n * 2)

    tasks = [pool.submit(double, i) for i in range(200)]
    assert Pmt.Task.wait_all(tasks, 10 * SECOND)
    assert [t.get_result() for t in tasks] == [i * 2 for i in range(200)]
    assert pool.join(10 * SECOND)
    assert pool.get_n_succeeded() == 200


def test_errors_propagate():
    pool = Pmt.Pool.new(None, 1)

    def fail(task, _):
        task.return_error(GLib.Error.new_literal(Pmt.error_quark(), "boom",
                                                 Pmt.Error.FAILED))

    task = pool.submit(fail, None)
    assert task.wait(10 * SECOND)
    assert task.get_state() == Pmt.TaskState.FAILED
    try:
        task.propagate_error()
    except GLib.Error as error:
        assert error.message == "boom", error.message
        assert error.matches(Pmt.error_quark(), Pmt.Error.FAILED)
    else:
        raise AssertionError("propagate_error raised nothing")
    assert pool.join(10 * SECOND)


def test_priority_order():
    pool = Pmt.Pool.new(None, 1)
    order = []
    gate = Pmt.Limiter.new(0)

    def hold(task, _):
        gate.acquire(-1, None)

    def record(task, name):
        order.append(name)

    held = pool.submit(hold, None)
    tasks = [pool.submit_full(priority, record, name)
             for priority, name in ((5, "c"), (-5, "a"), (0, "b"), (5, "d"))]
    gate.set_limit(1)
    assert Pmt.Task.wait_all([held] + tasks, 10 * SECOND)
    assert order == ["a", "b", "c", "d"], order
    assert pool.join(10 * SECOND)


def test_pool_execute_jobs():
    pool = Pmt.Pool.new(None, 2)
    seen = []

    def job(n):
        seen.append(n)

    for i in range(100):
        assert pool.execute_full(i % 3, job, i)
    assert pool.wait_completion(10 * SECOND, False)
    assert sorted(seen) == list(range(100)), seen
    assert pool.get_n_succeeded() == 100
    assert pool.join(10 * SECOND)
    try:
        pool.execute(job, 0)
    except GLib.Error as error:
        assert error.matches(Pmt.error_quark(), Pmt.Error.STOPPED)
    else:
        raise AssertionError("a stopped pool took a job")


def test_command_task():
    task = Pmt.Task.new_command(["printf", "abc"])
    pool = Pmt.Pool.new(None, 1)
    assert pool.push(task)
    assert task.wait(10 * SECOND)
    assert task.get_result().get_data() == b"abc"
    assert pool.join(10 * SECOND)


def test_threaded_and_limiter():
    limiter = Pmt.Limiter.new(1)
    assert limiter.try_acquire()
    assert not limiter.try_acquire()
    limiter.release()

    threaded = Pmt.Threaded.new(lambda task, _: task.return_boolean(True), None)
    task = threaded.call(None)
    assert task.wait(10 * SECOND)
    assert task.get_result() is True


def test_wait_async_on_main_loop():
    pool = Pmt.Pool.new(None, 1)
    loop = GLib.MainLoop()
    outcome = []

    def done(task, result):
        outcome.append(task.wait_finish(result))
        loop.quit()

    task = pool.submit(lambda t, _: t.return_int(7), None)
    task.wait_async(None, done)
    GLib.timeout_add_seconds(10, loop.quit)
    loop.run()
    assert outcome == [True], outcome
    assert task.get_result() == 7
    assert pool.join(10 * SECOND)


def main():
    tests = [value for name, value in sorted(globals().items()) if name.startswith("test_")]
    print("1..%d" % len(tests))
    for number, test in enumerate(tests, 1):
        test()
        print("ok %d - %s" % (number, test.__name__), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
