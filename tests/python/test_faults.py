# SPDX-License-Identifier: LGPL-2.1-or-later
"""Faults from Python: exceptions raised in callbacks and in `completed`
handlers, Ctrl-C at random moments in a loop of submissions and waits,
and the interpreter exiting (normally, by sys.exit, by an uncaught
exception) while pools are busy.  Nothing crashes, nothing hangs, no
task is left unfinished, and no exception disappears silently."""

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import gi
gi.require_version('Pmt', '1.0')
from gi.repository import Pmt  # noqa: E402

import pytest  # noqa: E402

from conftest import SAFETY  # noqa: E402

CRASH_MARKERS = ('Fatal Python error', 'Segmentation fault', 'CRITICAL', 'WARNING')


@pytest.fixture
def hooks(monkeypatch):
    """Records what reaches sys.excepthook and sys.unraisablehook."""
    seen = []
    monkeypatch.setattr(sys, 'excepthook', lambda kind, value, tb: seen.append(value))
    monkeypatch.setattr(sys, 'unraisablehook', lambda unraisable: seen.append(unraisable.exc_value))
    return seen


# Exceptions in callbacks and handlers ----------------------------------------

def test_exception_in_callback_func_fails_the_task():
    def callback(result):
        raise ValueError('in the callback')

    @Pmt.Threaded(callback_func=callback)
    def double(x):
        return 2 * x

    task = double(21)
    assert task.wait(SAFETY)
    assert task.get_state() == Pmt.TaskState.FAILED
    with pytest.raises(ValueError, match='in the callback'):
        task.results


def test_exception_in_completed_handler_reaches_excepthook(pool, hooks):
    def handler(task):
        raise RuntimeError('in the handler')

    task = Pmt.Task.new(lambda task: 7)
    task.connect('completed', handler)
    assert pool.push(task)
    # The task keeps its outcome, its waiters wake, and the pool goes on.
    assert task.wait(SAFETY)
    assert task.get_state() == Pmt.TaskState.SUCCEEDED
    assert task.results == 7
    assert pool.submit(lambda: 8).result(SAFETY) == 8
    assert pool.wait_completion(SAFETY)
    assert [type(e) for e in hooks] == [RuntimeError]


def test_exception_in_task_callback_reaches_excepthook(pool, hooks):
    task = Pmt.Task.new(lambda task: 8)
    task.set_callback(lambda task: 1 / 0)
    assert pool.push(task)
    assert task.wait(SAFETY)
    assert task.get_state() == Pmt.TaskState.SUCCEEDED
    assert task.results == 8
    assert pool.wait_completion(SAFETY)
    assert [type(e) for e in hooks] == [ZeroDivisionError]


def test_exceptions_in_many_handlers_lose_no_task(pool, hooks):
    def handler(task):
        raise KeyError(task.get_id())

    tasks = []
    for i in range(200):
        task = Pmt.Task.new(lambda task: None)
        task.connect('completed', handler)
        assert pool.push(task)
        tasks.append(task)
    assert Pmt.Task.wait_all(tasks, SAFETY)
    assert pool.wait_completion(SAFETY)
    assert len(hooks) == 200 and all(isinstance(e, KeyError) for e in hooks)


# Ctrl-C at random moments ----------------------------------------------------

RANDOM_CTRL_C = r'''
import signal, sys, time
import gi
gi.require_version('Pmt', '1.0')
from gi.repository import Pmt

# KeyboardInterrupt is raised only inside the work below, once per
# arming: the loop around it is the test's, not what it tests.
armed = False

def on_sigint(signum, frame):
    global armed
    if armed:
        armed = False
        raise KeyboardInterrupt

signal.signal(signal.SIGINT, on_sigint)
pool = Pmt.Pool(2)
tasks = []
loops = interrupted = 0
print('ready', flush=True)
deadline = time.monotonic() + %(run)r
while time.monotonic() < deadline:
    try:
        armed = True
        loops += 1
        batch = [pool.submit(time.sleep, 0.002) for _ in range(3)]
        tasks.extend(batch)
        kind = loops %% 6
        if kind == 0:
            batch[0].wait()
        elif kind == 1:
            Pmt.Task.wait_all(batch)
        elif kind == 2:
            for done in Pmt.Pool.as_completed(batch):
                pass
        elif kind == 3:
            pool.wait_completion()
        elif kind == 4:
            batch[-1].result()
        else:
            Pmt.Task.wait_any(batch)
        armed = False
    except KeyboardInterrupt:
        interrupted += 1
signal.signal(signal.SIGINT, signal.SIG_IGN)
assert pool.join(30)
assert all(task.is_done() for task in tasks)
assert pool.props.n_submitted == (pool.props.n_succeeded + pool.props.n_failed +
                                  pool.props.n_cancelled)
print('done', loops, interrupted, len(tasks), flush=True)
'''


def test_ctrl_c_at_random_moments():
    run = 4.0
    proc = subprocess.Popen([sys.executable, '-X', 'dev', '-W', 'ignore::ImportWarning', '-c',
                             RANDOM_CTRL_C % {'run': run}],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sent = 0
    try:
        assert proc.stdout.readline() == 'ready\n', proc.stderr.read()
        rng = random.Random(os.getpid())
        end = time.monotonic() + run - 0.5
        while time.monotonic() < end and proc.poll() is None:
            time.sleep(rng.uniform(0.005, 0.05))
            os.kill(proc.pid, signal.SIGINT)
            sent += 1
        stdout, stderr = proc.communicate(timeout=SAFETY)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    words = stdout.split()
    assert words[:1] == ['done'], (stdout, stderr)
    loops, interrupted, n_tasks = map(int, words[1:])
    assert interrupted > 0 and n_tasks > 0, (sent, stdout)
    print('%d SIGINTs sent, %d loops, %d interrupted, %d tasks' % (sent, loops, interrupted, n_tasks))
    for marker in CRASH_MARKERS + ('Traceback',):
        assert marker not in stderr, stderr


# Interpreter exit with pools busy --------------------------------------------

BUSY_EXIT = r'''
import sys, threading, time
import gi
gi.require_version('Pmt', '1.0')
from gi.repository import Pmt

ran = []
lock = threading.Lock()

def work(i):
    time.sleep(0.001)
    with lock:
        ran.append(i)

def report():
    # Runs once the overrides waited for the work (they register first).
    print('ran', len(ran), flush=True)

import atexit
pools = [Pmt.Pool(2), Pmt.Pool(1)]
for i in range(300):
    pools[i %% 2].submit(work, i)

@Pmt.Threaded
def threaded(i):
    work(i)

for i in range(300, 310):
    threaded(i)
atexit.register(report)
print('end', flush=True)
%(ending)s
'''


@pytest.mark.parametrize('ending, code', [
    ('', 0),
    ('sys.exit(3)', 3),
    ('raise SystemExit("bye")', 1),
    ('raise ValueError("uncaught")', 1),
])
def test_exit_with_busy_pools(ending, code):
    proc = subprocess.run([sys.executable, '-X', 'dev', '-W', 'ignore::ImportWarning', '-c',
                           BUSY_EXIT % {'ending': ending}],
                          capture_output=True, text=True, timeout=SAFETY)
    assert proc.returncode == code, proc.stderr
    assert proc.stdout.splitlines() == ['end', 'ran 310'], proc.stderr
    for marker in CRASH_MARKERS:
        assert marker not in proc.stderr, proc.stderr
    if 'ValueError' in ending:
        assert 'ValueError: uncaught' in proc.stderr


def test_cases_are_valid_python():
    compile(textwrap.dedent(RANDOM_CTRL_C % {'run': 1.0}), 'random-ctrl-c', 'exec')
    compile(BUSY_EXIT % {'ending': ''}, 'busy-exit', 'exec')
