# SPDX-License-Identifier: LGPL-2.1-or-later
"""Interpreter exit: work left running when a script ends is waited for
(as concurrent.futures does), and no Python code of Pmt runs once the
interpreter tears down.  Each script runs in a child process."""

import subprocess
import sys
import textwrap

import pytest

from conftest import SAFETY

PRELUDE = r'''\
import atexit, sys, time
import gi
gi.require_version('Pmt', '1.0')
from gi.repository import Pmt

def late(what, delay=0.3):
    time.sleep(delay)
    sys.stdout.write(what + '\n')     # one write: threads do not interleave
    sys.stdout.flush()
    return what
'''

CRASH_MARKERS = ('Fatal Python error', 'Segmentation fault', 'Traceback', 'CRITICAL', 'WARNING')


def run_script(body, timeout=SAFETY):
    """Runs PRELUDE + ``body`` in ``python -X dev`` with the test's
    environment; returns the finished process."""
    code = PRELUDE + textwrap.dedent(body)
    return subprocess.run([sys.executable, '-X', 'dev', '-W', 'ignore::ImportWarning', '-c', code],
                          capture_output=True, text=True, timeout=timeout)


def start_script(body):
    code = PRELUDE + textwrap.dedent(body)
    return subprocess.Popen([sys.executable, '-X', 'dev', '-W', 'ignore::ImportWarning', '-c', code],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def assert_clean(proc, stdout_lines, stderr_has=()):
    """``proc`` exited with 0, printed exactly ``stdout_lines``, and its
    stderr shows no crash (only what ``stderr_has`` expects)."""
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == stdout_lines, proc.stderr
    for expected in stderr_has:
        assert expected in proc.stderr
    if not stderr_has:
        for marker in CRASH_MARKERS:
            assert marker not in proc.stderr, proc.stderr


# Fire-and-forget work is waited for ------------------------------------------

def test_pool_submit_runs_before_exit():
    proc = run_script('''
        pool = Pmt.Pool(2)
        pool.submit(late, 'late')
        print('end', flush=True)
    ''')
    assert_clean(proc, ['end', 'late'])


def test_unreferenced_pool_runs_before_exit():
    proc = run_script('''
        Pmt.Pool(2).submit(late, 'late')
        print('end', flush=True)
    ''')
    assert_clean(proc, ['end', 'late'])


def test_queued_task_runs_before_exit():
    proc = run_script('''
        pool = Pmt.Pool(1)
        pool.submit(late, 'first')
        pool.submit(late, 'queued', 0.05)
        assert pool.get_n_queued() >= 1
        print('end', flush=True)
    ''')
    assert_clean(proc, ['end', 'first', 'queued'])


def run_scripts(body, n):
    """Runs ``n`` children of the same script at once: the exit races
    the start of the workers' threads, and one run may win by chance."""
    procs = [start_script(body) for _ in range(n)]
    done = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=SAFETY)
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr))
    return done


@pytest.mark.parametrize('options', ['', '(daemon=True)', '(pool_name="h7-exit")', '(pool=True)'])
def test_threaded_call_runs_before_exit(options):
    body = '''
        @Pmt.Threaded%s
        def work(what):
            return late(what)

        work('one')
        work('two')
        print('end', flush=True)
    ''' % options
    for proc in run_scripts(body, 6):
        lines = proc.stdout.splitlines()
        if 'daemon' in options:
            # One worker, in call order.
            assert_clean(proc, ['end', 'one', 'two'])
        else:
            assert_clean(proc, ['end'] + lines[1:])
            assert sorted(lines[1:]) == ['one', 'two']


def test_worker_push_runs_before_exit():
    proc = run_script('''
        worker = Pmt.Worker.new('h7-exit-worker')
        worker.push(Pmt.Task.new(lambda task: late('worker')))
        print('end', flush=True)
    ''')
    assert_clean(proc, ['end', 'worker'])


def test_c_level_pool_exits_cleanly():
    proc = run_script('''
        pool = Pmt.Pool.new(None, 2)
        pool.submit(late, 'submit')
        pool.submit_full(10, lambda task: late('full', 0.2))
        print('end', flush=True)
    ''')
    assert_clean(proc, ['end'] + proc.stdout.splitlines()[1:])
    assert sorted(proc.stdout.splitlines()[1:]) == ['full', 'submit']


def test_unretrieved_exception_is_logged():
    proc = run_script('''
        def broken():
            time.sleep(0.2)
            raise ValueError('nobody looks at me')

        pool = Pmt.Pool(2)
        pool.submit(broken)
        print('end', flush=True)
    ''')
    assert_clean(proc, ['end'], stderr_has=['never retrieved', 'ValueError: nobody looks at me'])
    assert 'Fatal Python error' not in proc.stderr


# Nothing runs after teardown began -------------------------------------------

TEARDOWN_SCRIPT = '''
    atexit.register(print, 'atexit', flush=True)

    pool = Pmt.Pool(2)
    pool.submit(late, 'pool', 0.2)

    @Pmt.Threaded
    def thread(what):
        return late(what, 0.25)

    @Pmt.Threaded(daemon=True)
    def daemon(what):
        return late(what, 0.1)

    @Pmt.Threaded(pool_name='h7-teardown')
    def named(what):
        return late(what, 0.15)

    thread('thread')
    daemon('daemon')
    named('named')
    print('end', flush=True)
'''


def test_work_ends_before_atexit_handlers_repeatedly():
    runs = 20
    outcomes = []
    # Four children at a time: the machine has few cores.
    for first in range(0, runs, 4):
        procs = [start_script(TEARDOWN_SCRIPT) for _ in range(4)]
        for proc in procs:
            stdout, stderr = proc.communicate(timeout=SAFETY)
            outcomes.append((proc.returncode, stdout, stderr))
    for returncode, stdout, stderr in outcomes:
        assert returncode == 0, stderr
        for marker in CRASH_MARKERS:
            assert marker not in stderr, stderr
        lines = stdout.splitlines()
        assert lines[0] == 'end' and lines[-1] == 'atexit', stdout
        assert sorted(lines[1:-1]) == ['daemon', 'named', 'pool', 'thread'], stdout
