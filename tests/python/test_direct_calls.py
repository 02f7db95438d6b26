# SPDX-License-Identifier: LGPL-2.1-or-later
"""The "direct calls" of the overrides: pmt_pool_push() and
pmt_task_get_state() called through ctypes while holding the GIL.  A Pmt
thread that waited for the GIL under a Pmt lock would deadlock against
them; the stress below mixes everything that makes worker threads take
the GIL (task functions, done callbacks, notify handlers, toggle
references flipping when a worker drops the last other reference) with
submissions, cancellations and shutdowns, under a watchdog.  The
PyGObject fallback (PMT_PYTHON_NO_DIRECT_CALLS=1) is run as well."""

import os
import subprocess
import sys

import pytest

from conftest import SAFETY

#: The child dumps its threads' stacks and exits after this long.
WATCHDOG = 25

STRESS = r'''
import collections, faulthandler, sys, threading, time
faulthandler.dump_traceback_later(%(watchdog)d, exit=True)

import gi
gi.require_version('Pmt', '1.0')
from gi.repository import GLib, Pmt
import gi.overrides.Pmt as overrides

DIRECT = %(direct)r
assert (overrides._direct_calls is not None) == DIRECT, overrides._direct_calls
DURATION = %(duration)r
DONE_STATES = (Pmt.TaskState.SUCCEEDED, Pmt.TaskState.CANCELLED)

def work(i):
    if i %% 11 == 0:
        time.sleep(0.0002)
    return i

def run_round(seed):
    pools = [Pmt.Pool(2), Pmt.Pool(3, name='h7-stress-%%d' %% seed)]
    notified, fired, added = [], [], []     # list.append is atomic
    for pool in pools:
        pool.connect('notify::n-queued', lambda pool, pspec: notified.append(pool.get_n_queued()))
    kept = collections.deque(maxlen=2000)
    stop = threading.Event()
    errors = []

    def on_done(task):
        fired.append(task.get_state())

    def guarded(fn):
        def run(*args):
            try:
                fn(*args)
            except BaseException as exc:
                errors.append(exc)
                raise
        return run

    @guarded
    def submitter(k):
        n = 0
        while not stop.is_set():
            pool = pools[(n + k) %% 2]
            if pool.get_n_queued() > 200:
                # A bounded backlog: a shutdown lets the queued tasks run.
                time.sleep(0.001)
            try:
                task = pool.submit(work, n)
            except GLib.Error:
                # Shut down: the other one, else done.
                if all(p.get_state() != Pmt.PoolState.ACTIVE and p.get_state() != Pmt.PoolState.INACTIVE
                       for p in pools):
                    return
                n += 1
                continue
            if n %% 3 == 0:
                kept.append(task)
            if n %% 4 == 0:
                added.append(n)
                task.add_done_callback(on_done)
            # Every other reference is dropped here: the worker drops the
            # last C one, which flips the wrapper's toggle reference.
            del task
            n += 1

    @guarded
    def canceller():
        while not stop.is_set():
            try:
                task = kept.popleft()
            except IndexError:
                time.sleep(0.0005)
                continue
            task.cancel()
            task.done()
            task.running()

    @guarded
    def watcher():
        while not stop.is_set():
            snapshot = list(kept)[-50:]
            for task in snapshot:
                task.get_state()
            if snapshot:
                Pmt.Task.wait_any(snapshot, 0.01)

    threads = ([threading.Thread(target=submitter, args=(k,)) for k in range(3)] +
               [threading.Thread(target=canceller) for _ in range(2)] +
               [threading.Thread(target=watcher)])
    for thread in threads:
        thread.start()
    time.sleep(DURATION * 0.6)
    # The pools go down while the submitters still feed them.
    assert pools[0].shutdown(20, cancel_queued=True)
    time.sleep(DURATION * 0.3)
    assert pools[1].shutdown(20)
    time.sleep(DURATION * 0.1)
    stop.set()
    for thread in threads:
        thread.join(20)
        assert not thread.is_alive(), thread
    assert not errors, errors
    for pool in pools:
        assert pool.join(20)
        submitted = pool.get_n_submitted()
        ended = pool.get_n_succeeded() + pool.get_n_failed() + pool.get_n_cancelled()
        assert submitted == ended, (pool, submitted, ended)
        assert pool.get_n_failed() == 0
    assert all(task.done() for task in kept)
    # Every done callback ran once (the last ones may be on their way).
    deadline = time.monotonic() + 20
    while len(fired) < len(added) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(fired) == len(added), (len(fired), len(added))
    assert all(state in DONE_STATES for state in fired)
    return sum(pool.get_n_submitted() for pool in pools), len(notified), len(added)

total = 0
for seed in range(2):
    submitted, notified, added = run_round(seed)
    assert submitted > 100 and notified > 0 and added > 0, (submitted, notified, added)
    total += submitted
faulthandler.cancel_dump_traceback_later()
print('ok', total, flush=True)
sys.stderr.write('%%d tasks\n' %% total)
'''


def run_child(code, direct, timeout=WATCHDOG + 10):
    env = dict(os.environ)
    env.pop('PMT_PYTHON_NO_DIRECT_CALLS', None)
    if not direct:
        env['PMT_PYTHON_NO_DIRECT_CALLS'] = '1'
    proc = subprocess.run([sys.executable, '-X', 'dev', '-W', 'ignore::ImportWarning', '-c', code],
                          capture_output=True, text=True, timeout=timeout, env=env)
    assert proc.returncode == 0, proc.stderr
    assert 'Fatal Python error' not in proc.stderr, proc.stderr
    assert 'Traceback' not in proc.stderr, proc.stderr
    return proc.stdout


@pytest.mark.parametrize('direct', [True, False], ids=['direct', 'fallback'])
def test_stress_no_deadlock(direct):
    code = STRESS % {'watchdog': WATCHDOG, 'direct': direct, 'duration': 1.5 if direct else 0.75}
    stdout = run_child(code, direct)
    assert stdout.startswith('ok '), stdout


SMOKE = r'''
import threading
import gi
gi.require_version('Pmt', '1.0')
from gi.repository import GLib, Pmt
import gi.overrides.Pmt as overrides

assert overrides._direct_calls is %(expected)s

with Pmt.Pool(2) as pool:
    tasks = [pool.submit(pow, i, 2) for i in range(20)]
    assert [task.result(30) for task in tasks] == [i * i for i in range(20)]
    assert tasks[0].get_state() == Pmt.TaskState.SUCCEEDED and tasks[0].done()
    gate = threading.Event()
    try:
        blocker = pool.submit(gate.wait, 30)
        other = pool.submit(gate.wait, 30)
        queued = pool.submit(pow, 2, 3)
        assert queued.get_state() == Pmt.TaskState.QUEUED
        assert queued.cancel() and queued.cancelled()
    finally:
        gate.set()
    assert blocker.result(30) is True
    assert other.result(30) is True
assert pool.get_state() == Pmt.PoolState.STOPPED
try:
    pool.submit(pow, 1, 1)
except GLib.Error:
    pass
else:
    raise AssertionError('a stopped pool took a task')

limiter = Pmt.Limiter(1)
assert limiter.acquire(0)
assert limiter.acquire(0.05) is False
limiter.release()
print('ok', flush=True)
'''


@pytest.mark.parametrize('direct', [True, False], ids=['direct', 'fallback'])
def test_smoke(direct):
    code = SMOKE % {'expected': 'not None' if direct else 'None'}
    assert run_child(code, direct, timeout=SAFETY) == 'ok\n'
