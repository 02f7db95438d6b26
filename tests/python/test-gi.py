#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Pmt through GObject-Introspection: the annotations let Python drive
tasks, pools, limiters, command tasks and Threaded.  Prints TAP and
exits non-zero on the first failure."""

import os
import subprocess
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

    threaded = Pmt.Threaded.new(lambda task, _: task.return_value(task.get_task_value()), None)
    payload = {"any": ["python", "object"]}
    task = threaded.call_value(payload)
    assert task.wait(10 * SECOND)
    assert task.get_result() is payload


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


def assert_invalid(task):
    assert task.get_state() == Pmt.TaskState.FAILED, task.get_state()
    try:
        task.propagate_error()
    except GLib.Error as error:
        assert error.matches(Pmt.error_quark(), Pmt.Error.INVALID), error
    else:
        raise AssertionError("no error")


def test_bare_task_fails():
    task = Pmt.Task()
    task.run()
    assert_invalid(task)

    pool = Pmt.Pool.new(None, 1)
    pushed = Pmt.Task()
    assert pool.push(pushed)
    assert pushed.wait(10 * SECOND)
    assert_invalid(pushed)
    assert pool.join(10 * SECOND)


def test_bare_command_task():
    bare = Pmt.CommandTask()
    bare.run()
    assert_invalid(bare)

    by_property = Pmt.CommandTask(argv=["printf", "prop"])
    assert by_property.props.argv == ["printf", "prop"]
    by_property.run()
    assert by_property.get_result().get_data() == b"prop"

    typed = Pmt.CommandTask.new(["printf", "typed"])
    assert isinstance(typed, Pmt.CommandTask)
    typed.run()
    assert typed.get_result().get_data() == b"typed"


def test_bare_threaded_is_refused():
    # A critical, not a crash: run it where criticals are not fatal.
    code = ("import gi; gi.require_version('Pmt', '1.0');"
            "from gi.repository import Pmt;"
            "print(Pmt.Threaded().call_value(None))")
    env = dict(os.environ, G_DEBUG="")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done
    assert done.stdout.strip() == "None", done.stdout
    assert "has no function" in done.stderr, done.stderr


def test_pool_by_properties_is_registered():
    pool = Pmt.Pool(name="test-gi-by-properties")
    assert Pmt.Pool.lookup("test-gi-by-properties") == pool
    assert pool.init(None)

    clash = Pmt.Pool(name="test-gi-by-properties")
    try:
        clash.init(None)
    except GLib.Error as error:
        assert error.matches(Pmt.error_quark(), Pmt.Error.NAME_IN_USE), error
    else:
        raise AssertionError("a second pool of that name was accepted")
    try:
        clash.submit(lambda task, _: None, None)
    except GLib.Error as error:
        assert error.matches(Pmt.error_quark(), Pmt.Error.NAME_IN_USE), error
    else:
        raise AssertionError("the clashing pool took work")
    assert Pmt.Pool.lookup("test-gi-by-properties") == pool
    assert pool.join(10 * SECOND)
    assert clash.join(10 * SECOND)


def test_task_values():
    task = Pmt.Task.new(lambda t, _: t.return_value(t.get_task_value() * 2), None)
    task.set_task_value(21)
    assert task.get_task_value() == 21
    task.run()
    assert task.get_result() == 42

    cleared = Pmt.Task.new(lambda t, _: None, None)
    cleared.set_task_value("gone")
    cleared.set_task_value(None)
    assert cleared.get_task_value() is None

    # Not None in the array: PyGObject 3.42 crashes cleaning up a GValue
    # array that holds one (its marshalling, not Pmt).
    pool = Pmt.Pool.new(None, 2)
    items = ["a", 2, ("tuple",), {"a": "dict"}, pool]
    tasks = pool.map(lambda t, _: t.return_value(t.get_task_value()), None, items, 0)
    assert Pmt.Task.wait_all(tasks, 10 * SECOND)
    assert [t.get_result() for t in tasks] == items
    assert pool.join(10 * SECOND)


def test_pool_for_context_completes_there():
    context = GLib.MainContext.new()
    pool = Pmt.Pool.new_for_context(None, 2, context)
    assert pool.get_main_context() == context
    seen = []
    task = pool.submit(lambda t, _: None, None)
    task.connect("completed", lambda t: seen.append(GLib.MainContext.get_thread_default()))
    assert task.wait(10 * SECOND)
    while not seen:
        context.iteration(True)
    assert pool.join(10 * SECOND)

    default_pool = Pmt.Pool.new_for_context(None, 1, None)
    assert default_pool.get_main_context() == GLib.MainContext.default()
    assert default_pool.join(10 * SECOND)


def main():
    tests = [value for name, value in sorted(globals().items()) if name.startswith("test_")]
    print("1..%d" % len(tests))
    for number, test in enumerate(tests, 1):
        test()
        print("ok %d - %s" % (number, test.__name__), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
