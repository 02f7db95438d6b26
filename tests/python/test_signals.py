# SPDX-License-Identifier: LGPL-2.1-or-later
"""Ctrl-C: every blocking wait of the overrides in the main thread is
interrupted by SIGINT within 0.5 s, and waiting costs (nearly) no CPU.
Each case runs in a child process that receives a real SIGINT."""

import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import SAFETY

# How long the child's work holds when nothing interrupts the wait: long
# enough that a wait that ignores Ctrl-C shows, short enough to fail fast.
HOLD = 10.0

#: The most time from the signal to the except clause.
LATENCY = 0.5

PRELUDE = r'''
import signal, sys, threading, time
import gi
gi.require_version('Pmt', '1.0')
from gi.repository import Pmt

HOLD = %r
arrived = []

def on_sigint(signum, frame):
    arrived.append(time.monotonic())
    raise KeyboardInterrupt

signal.signal(signal.SIGINT, on_sigint)
release = threading.Event()
started = threading.Event()

def hold(*args):
    started.set()
    release.wait(HOLD)
''' % HOLD

WAIT = r'''
print('waiting', flush=True)
try:
    %s
except KeyboardInterrupt:
    caught = time.monotonic()
    release.set()
    %s
    print('interrupted', arrived[0], caught, flush=True)
else:
    print('not interrupted', flush=True)
'''

# name: (setup, wait, cleanup after the interruption)
CASES = {
    'task.wait': (
        'pool = Pmt.Pool(1); task = pool.submit(hold)',
        'task.wait()',
        'assert pool.join(30)'),
    'task.result': (
        'pool = Pmt.Pool(1); task = pool.submit(hold)',
        'task.result()',
        'assert pool.join(30)'),
    'Task.wait_all': (
        'pool = Pmt.Pool(2); tasks = [pool.submit(hold), pool.submit(hold)]',
        'Pmt.Task.wait_all(tasks)',
        'assert pool.join(30)'),
    'Task.wait_any': (
        'pool = Pmt.Pool(2); tasks = [pool.submit(hold), pool.submit(hold)]',
        'Pmt.Task.wait_any(tasks)',
        'assert pool.join(30)'),
    'CompletionQueue.next': (
        'pool = Pmt.Pool(1); queue = Pmt.CompletionQueue.new(); queue.add(pool.submit(hold))',
        'queue.next()',
        'assert queue.next(30) is not None; assert pool.join(30)'),
    'Pool.as_completed': (
        'pool = Pmt.Pool(1); tasks = [pool.submit(hold)]',
        'for done in Pmt.Pool.as_completed(tasks): pass',
        'assert pool.join(30)'),
    'pool.wait_completion': (
        'pool = Pmt.Pool(1); pool.submit(hold)',
        'pool.wait_completion()',
        'assert pool.join(30)'),
    'pool.join': (
        'pool = Pmt.Pool(1); pool.submit(hold)',
        'pool.join()',
        'assert pool.join(30)'),
    'Pool.join_pools': (
        'pool = Pmt.Pool(1); pool.submit(hold)',
        'Pmt.Pool.join_pools()',
        'assert Pmt.Pool.join_pools(30)'),
    'worker.join': (
        'worker = Pmt.Worker.new("sig"); worker.push(Pmt.Task.new(hold))\n'
        'assert started.wait(30); worker.stop()',
        'worker.join()',
        'assert worker.join(30)'),
    'limiter.acquire': (
        'limiter = Pmt.Limiter(1); assert limiter.acquire(0)',
        'limiter.acquire()',
        'limiter.release(); assert limiter.get_available() == 1'),
    'with limiter': (
        'limiter = Pmt.Limiter(1)\n'
        'entered = threading.Event()\n'
        'def holder():\n'
        '    with limiter:\n'
        '        entered.set(); hold()\n'
        'thread = threading.Thread(target=holder); thread.start(); assert entered.wait(30)',
        'with limiter: pass',
        'thread.join(30); assert limiter.get_available() == 1'),
    'blocking @Limiter over @Threaded': (
        'limiter = Pmt.Limiter(1)\n'
        '@limiter\n'
        '@Pmt.Threaded\n'
        'def work():\n'
        '    hold()\n'
        'first = work(); assert limiter.get_available() == 0',
        'work()',
        'assert first.wait(30); assert limiter.get_n_waiting() == 0'),
}


def child_script(setup, wait, cleanup):
    return PRELUDE + setup + '\n' + WAIT % (wait, cleanup)


def start_child(code):
    return subprocess.Popen([sys.executable, '-X', 'dev', '-W', 'ignore::ImportWarning', '-c', code],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_cases_are_valid_python():
    for name, case in CASES.items():
        compile(child_script(*case), name, 'exec')


@pytest.mark.parametrize('name', list(CASES))
def test_ctrl_c_interrupts_wait(name):
    proc = start_child(child_script(*CASES[name]))
    try:
        assert proc.stdout.readline() == 'waiting\n', proc.stderr.read()
        # Gives the child time to block in the wait: a signal that came
        # before it would be seen at once, whatever the wait does.
        time.sleep(0.3)
        sent = time.monotonic()     # CLOCK_MONOTONIC: the child's clock too
        os.kill(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=SAFETY)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    words = stdout.split()
    assert words[:1] == ['interrupted'], (stdout, stderr)
    arrived, caught = float(words[1]), float(words[2])
    assert sent <= arrived <= caught
    assert caught - sent <= LATENCY, 'KeyboardInterrupt %.3f s after the signal' % (caught - sent)
    assert proc.returncode == 0, stderr
    assert 'Fatal Python error' not in stderr and 'Traceback' not in stderr, stderr


IDLE_WAIT = r'''
import os, threading, time
import gi
gi.require_version('Pmt', '1.0')
from gi.repository import Pmt

def switches():
    path = '/proc/self/task/%d/status' % threading.get_native_id()
    with open(path) as status:
        for line in status:
            if line.startswith('voluntary_ctxt_switches:'):
                return int(line.split()[1])

pool = Pmt.Pool(1)
task = pool.submit(time.sleep, 2.0)
assert pool.wait_completion(0) is False
cpu, wakes, start = time.process_time(), switches(), time.monotonic()
assert task.wait(30)
cpu, wakes, took = time.process_time() - cpu, switches() - wakes, time.monotonic() - start
assert pool.join(30)
print(cpu, wakes, took)
'''


def test_waiting_main_thread_is_idle():
    proc = subprocess.run([sys.executable, '-X', 'dev', '-W', 'ignore::ImportWarning', '-c', IDLE_WAIT],
                          capture_output=True, text=True, timeout=SAFETY)
    assert proc.returncode == 0, proc.stderr
    cpu, wakes, took = proc.stdout.split()
    cpu, wakes, took = float(cpu), int(wakes), float(took)
    assert took >= 1.5
    # The process (main thread and the sleeping worker) uses no CPU while
    # it waits, and the main thread wakes up a few times a second (the
    # slices that let Python see a signal), not in a busy loop.
    assert cpu < 0.05, 'waiting took %.3f s of CPU' % cpu
    assert wakes <= 10 * took, '%d wake-ups in %.1f s' % (wakes, took)
