# SPDX-License-Identifier: LGPL-2.1-or-later
"""The seed README's examples run on Pmt (DESIGN.md § Bindings).

Each Python block of the PyMultiTasking README is a program in seed/,
with only its import line changed.  Each test runs one of them in a new
interpreter (with -X dev and this test's environment: the source tree's
overrides, fatal GLib warnings) and checks that it exits 0, says nothing
on stderr but the two known warnings of an unversioned ``gi`` import, and
prints what the README says it prints.

Threads print concurrently, and print() writes its text and its newline
as two writes: where several threads print, the output is read as an
interleaving of whole messages (see messages()), and checked as strictly
as the README allows — the multiset of the messages, their order where
the README's code orders them, their formats.
"""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SAFETY

SEED = Path(__file__).resolve().parent / 'seed'

# What an unversioned `from gi.repository import Pmt` says under -X dev,
# and nothing else, is allowed on stderr.
_IMPORT_WARNING = re.compile(
    r"<frozen importlib\._bootstrap>:\d+: ImportWarning: DynamicImporter\.exec_module\(\) "
    r"not found; falling back to load_module\(\)")
_PYGI_WARNING = re.compile(
    r".*/block-\d\d-[a-z-]+\.py:\d+: PyGIWarning: Pmt was imported without specifying a "
    r"version first\. Use gi\.require_version\('Pmt', '1\.0'\) before import to ensure that "
    r"the right version gets loaded\.")
_PYGI_WARNING_SOURCE = '  from gi.repository import Pmt'


def unexpected_stderr(stderr: str) -> list:
    """The lines of ``stderr`` other than the allowed warnings."""
    lines = stderr.splitlines()
    left = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if _IMPORT_WARNING.fullmatch(line):
            index += 1
        elif _PYGI_WARNING.fullmatch(line):
            # warnings.showwarning() prints the source line after it.
            index += 1
            if index < len(lines) and lines[index] == _PYGI_WARNING_SOURCE:
                index += 1
        else:
            left.append(line)
            index += 1
    return left


def run_block(name: str) -> str:
    """Runs seed/``name`` like ``python3 -X dev block.py``; returns its
    stdout once it exited 0 with a clean stderr."""
    path = SEED / name
    assert path.is_file(), path
    proc = subprocess.run([sys.executable, '-X', 'dev', str(path)],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=2 * SAFETY, env=dict(os.environ), cwd=str(SEED))
    assert proc.returncode == 0, 'exit status %d\nstdout:\n%s\nstderr:\n%s' % (
        proc.returncode, proc.stdout, proc.stderr)
    assert unexpected_stderr(proc.stderr) == [], proc.stderr
    return proc.stdout


def messages(stdout: str, *patterns: str) -> list:
    """The messages of ``stdout`` in the order they were written.

    print() writes its text, then its newline: two threads printing at
    once may give ``A B \\n \\n``.  ``stdout`` must be such an interleaving
    of whole messages, each matching one of ``patterns`` (regexes, tried
    in order), and one newline per message, written after it."""
    token = re.compile('|'.join('(?:%s)' % pattern for pattern in patterns) + '|\n')
    found = []
    newlines = 0
    pos = 0
    while pos < len(stdout):
        match = token.match(stdout, pos)
        assert match is not None and match.end() > pos, \
            'unexpected output at %d: %r\nin:\n%s' % (pos, stdout[pos:pos + 60], stdout)
        if match.group() == '\n':
            newlines += 1
            assert newlines <= len(found), 'a newline before its message:\n%s' % stdout
        else:
            found.append(match.group())
        pos = match.end()
    assert newlines == len(found), 'a message without its newline:\n%s' % stdout
    return found


def precedes(items: list, first: str, then: str) -> bool:
    """Whether every prefix of ``items`` has at least as many ``first`` as
    ``then`` (each ``then`` has its own ``first`` before it)."""
    balance = 0
    for item in items:
        balance += (item == first) - (item == then)
        if balance < 0:
            return False
    return True


def escaped(*lines: str) -> list:
    return [re.escape(line) for line in lines]


ARG = "('arg',) - {'example': 'kwargs'}"
ARG2 = "('arg2',) - {'example2': 'kwargs'}"
EMPTY = '() - {}'
# "Task[{task}] completed with results: {task.results}": the task's repr.
TASK_DONE = r'Task\[<Pmt\.Task id=(\d+) state=succeeded priority=10>\] completed with results: None'


def task_ids(found: list) -> list:
    return [int(re.fullmatch(TASK_DONE, line).group(1)) for line in found
            if re.fullmatch(TASK_DONE, line)]


# PoolExamples ----------------------------------------------------------------

def test_block_01_test_function():
    """The helper all examples use prints its args and kwargs."""
    assert run_block('block-01-test-function.py') == ARG + '\n'


def test_block_02_pool_submit():
    """submit(test, "arg", example="kwargs"): the arguments reach the
    function (no TaskObject for a **kwargs function), and the task, never
    waited for, still runs before the interpreter exits."""
    assert run_block('block-02-pool-submit.py') == ARG + '\n'


def test_block_03_submit_priority():
    """submit_task_priority=100, task.wait(10) is true, and
    task.results is the function's return value, None."""
    assert run_block('block-03-submit-priority.py') == ARG + '\nNone\n'


def test_block_04_submit_partial():
    """A partial runs with its bound arguments, fire-and-forget: its line
    is printed at interpreter exit."""
    assert run_block('block-04-submit-partial.py') == ARG + '\n'


def test_block_05_map():
    """map() runs the function once per (args, kwargs) item, before the
    interpreter exits, in either order."""
    found = messages(run_block('block-05-map.py'), *escaped(ARG, ARG2))
    assert sorted(found) == sorted([ARG, ARG2])


def test_block_06_wait_completion():
    """wait_completion(10, block=True) returns true after both calls ran."""
    done = 'The pool is finished work its current work load'
    found = messages(run_block('block-06-wait-completion.py'), *escaped(ARG, ARG2, done))
    assert sorted(found[:2]) == sorted([ARG, ARG2])
    assert found[2:] == [done]


def test_block_07_as_completed():
    """as_completed() yields each of the two tasks once, after it ran;
    each line shows the task's repr and results None."""
    found = messages(run_block('block-07-as-completed.py'), *escaped(ARG, ARG2), TASK_DONE)
    assert len(found) == 4
    assert sorted(line for line in found if not re.fullmatch(TASK_DONE, line)) == sorted([ARG, ARG2])
    ids = task_ids(found)
    assert len(ids) == 2 and len(set(ids)) == 2
    # Ids count up in creation order, and map() made the task of ("arg",)
    # first: each task's line comes after its call's line.
    for task_id, call in zip(sorted(ids), (ARG, ARG2)):
        line = next(line for line in found if re.fullmatch(TASK_DONE, line)
                    and int(re.fullmatch(TASK_DONE, line).group(1)) == task_id)
        assert found.index(call) < found.index(line), found


# Decorator Examples ----------------------------------------------------------

def test_block_08_threaded():
    """@Threaded: the call returns a task, which runs test() with no
    arguments; task.results is None."""
    assert run_block('block-08-threaded.py') == EMPTY + '\nNone\n'


def test_block_09_threaded_daemon():
    """@Threaded(daemon=True): the one worker runs the calls in call
    order; each task's results is read after its call printed; the last,
    unwaited call runs before exit."""
    calls = ["(%d,) - {'call': %d}" % (n, n) for n in range(3)]
    at_exit = "('at exit',) - {}"
    found = messages(run_block('block-09-threaded-daemon.py'), *escaped(*calls, at_exit, 'None'))
    assert [line for line in found if line != 'None'] == calls + [at_exit]
    assert found.count('None') == 3
    nones = [index for index, line in enumerate(found) if line == 'None']
    for call, none in zip(calls, nones):
        assert found.index(call) < none, found
    assert found[-1] == at_exit


def test_block_10_threaded_pool():
    """@Threaded(pool=True) and Pool.join_pools(timeout=60): calls after
    the README's join_pools get the function's pool made again, and
    join_pools joins it after all four ran."""
    calls = ["(%d,) - {'call': %d}" % (n, n) for n in range(4)]
    summary = 'True [None, None, None, None]'
    found = messages(run_block('block-10-threaded-pool.py'), *escaped(summary, 'True', *calls))
    assert sorted(found[:4]) == sorted(calls)
    assert found[4:] == ['True', summary]


def test_block_11_threaded_pool_name():
    """@Threaded(pool_name='mypool') on two functions: one shared pool,
    found by name; wait_completion(block=True) returns after the eight
    calls; then the tasks' lines in order (ids in creation order)."""
    one = "Running: test_dec_pool_by_name_one - args=() - kwargs={'randomsleep': True}"
    two = "Running: test_dec_pool_by_name_twp - args=() - kwargs={'randomsleep': True}"
    found = messages(run_block('block-11-threaded-pool-name.py'), *escaped(one, two), TASK_DONE)
    assert sorted(found[:8]) == sorted([one] * 4 + [two] * 4)
    assert all(re.fullmatch(TASK_DONE, line) for line in found[8:])
    ids = task_ids(found[8:])
    assert len(ids) == 8 and ids == sorted(set(ids)), ids


def test_block_12_threaded_callback():
    """@Threaded(callback_func=callback_test): the callback gets the
    function's return value (None) in the worker, before the task is done;
    results stays the function's."""
    assert run_block('block-12-threaded-callback.py') == (
        ARG + '\ncallback_test - Completed: (None,) - {}\nNone\n')


def test_block_13_combined():
    """The combined example: four calls on 'mypool' (2 workers), each
    followed by its callback with a random int 0..10, which the
    Limiter(1) callback appends; pool.join(block=True) returns after all;
    "Stored Values" shows the four tuples in callback order."""
    callback = r'callback_test - Completed: \((\d+),\) - \{\}'
    stored = r'Stored Values: \[.*\]'
    found = messages(run_block('block-13-combined.py'), re.escape(EMPTY), callback, stored)
    assert len(found) == 9
    assert found.count(EMPTY) == 4
    callbacks = [line for line in found if re.fullmatch(callback, line)]
    assert len(callbacks) == 4
    values = [int(re.fullmatch(callback, line).group(1)) for line in callbacks]
    assert all(0 <= value <= 10 for value in values), values
    # Each callback runs after its own call printed.
    kinds = ['call' if line == EMPTY else 'callback' for line in found[:8]]
    assert precedes(kinds, 'call', 'callback'), found
    assert re.fullmatch(stored, found[8])
    assert ast.literal_eval(found[8][len('Stored Values: '):]) == [(value,) for value in values]


# The Limiter -----------------------------------------------------------------

def test_block_14_limiter():
    """@Limiter(1): four calls in the caller's thread, four lines."""
    assert run_block('block-14-limiter.py') == (EMPTY + '\n') * 4


def test_block_15_limiter_nonblocking():
    """@Limiter(2, blocking=False) over @Threaded: the four calls return
    tasks (test() gets no _task_semaphore), as_completed yields each
    once, after its call printed."""
    found = messages(run_block('block-15-limiter-nonblocking.py'), re.escape(EMPTY), TASK_DONE)
    assert len(found) == 8
    assert found.count(EMPTY) == 4
    ids = task_ids(found)
    assert len(ids) == 4 and len(set(ids)) == 4
    kinds = ['call' if line == EMPTY else 'done' for line in found]
    assert precedes(kinds, 'call', 'done'), found


# Interpreter exit ------------------------------------------------------------

def run_program(source: str) -> str:
    """Runs ``source`` like run_block() does a block."""
    proc = subprocess.run([sys.executable, '-X', 'dev', '-c', source],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=2 * SAFETY, env=dict(os.environ), cwd=str(SEED))
    assert proc.returncode == 0, 'exit status %d\nstdout:\n%s\nstderr:\n%s' % (
        proc.returncode, proc.stdout, proc.stderr)
    assert unexpected_stderr(proc.stderr) == [], proc.stderr
    return proc.stdout


@pytest.mark.parametrize('decorator', ['Threaded', 'Threaded(daemon=True)', 'Threaded(pool=True)',
                                       "Threaded(pool_name='exit-pool')"])
def test_first_call_at_exit_runs(decorator):
    """"The worker is cleaned when Python exits" after its work: a
    @Threaded function whose only call is the program's last line, never
    waited for, still runs (its worker thread may not have started when
    the interpreter begins to exit)."""
    source = ('import gi\n'
              'gi.require_version("Pmt", "1.0")\n'
              'from gi.repository import Pmt\n'
              '@Pmt.%s\n'
              'def last(*args, **kwargs):\n'
              '    print(f"{args} - {kwargs}")\n'
              'last("at exit", n=1)\n' % decorator)
    assert run_program(source) == "('at exit',) - {'n': 1}\n"
