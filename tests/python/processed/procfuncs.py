# SPDX-License-Identifier: LGPL-2.1-or-later
"""Functions the tests of test_process.py run in child processes.

A child imports a function by reference (module and name), like
multiprocessing does: these live at module level, in a module the
children can import (``processed.procfuncs``, found through the
``sys.path`` the children get from their parent).  Nothing here imports
Pmt: a child needs no typelib to run them.

Children report with timestamps of ``time.monotonic()``, CLOCK_MONOTONIC,
the same clock in every process of the machine.
"""

import multiprocessing
import os
import signal
import socket
import sys
import threading
import time


def identity(value):
    return value


def add(x, y=0):
    return x + y


def pid():
    return os.getpid()


def pid_and_ppid():
    return os.getpid(), os.getppid()


def label_with_pid(label):
    """``(label, pid, monotonic)``: what ran, where and when."""
    return label, os.getpid(), time.monotonic()


def append_child(items):
    """Appends to its (copied) argument and returns it."""
    items.append('child')
    return items


def raise_value_error(message):
    raise ValueError(message)


class UnpicklableError(Exception):
    """An exception holding a lock: it cannot be pickled."""

    def __init__(self, message):
        super().__init__(message)
        self.lock = threading.Lock()


def raise_unpicklable(message):
    raise UnpicklableError(message)


class TwoArgumentError(Exception):
    """Pickles, but cannot be rebuilt from its pickle: its ``args`` are
    one message while its constructor wants two arguments."""

    def __init__(self, what, why):
        super().__init__('%s: %s' % (what, why))


def raise_two_argument_error(what, why):
    raise TwoArgumentError(what, why)


def return_lock():
    return threading.Lock()


def takes_task(x, TaskObject=None):
    return x


def sys_path():
    return list(sys.path)


def spawn_grandchild():
    """A child is daemonic: multiprocessing refuses it children."""
    process = multiprocessing.get_context('spawn').Process(target=pid)
    process.start()
    process.join()
    return process.exitcode


def cpu_work(seconds):
    """Burns ``seconds`` of this process's CPU time in pure Python;
    returns ``(pid, cpu seconds used, monotonic start, monotonic end)``."""
    start, cpu_start = time.monotonic(), time.process_time()
    total = 0
    while time.process_time() - cpu_start < seconds:
        for i in range(10000):
            total += i * i
    return os.getpid(), time.process_time() - cpu_start, start, time.monotonic()


def busy_loop(iterations):
    """A CPU-bound pure-Python function, its time proportional to
    ``iterations`` (the benchmark calibrates it)."""
    total = 0
    for i in range(iterations):
        total += i * i % 7
    return total


def timed_sleep(seconds):
    """``(pid, monotonic start, monotonic end)`` around a sleep."""
    start = time.monotonic()
    time.sleep(seconds)
    return os.getpid(), start, time.monotonic()


def crash(how):
    """Ends the child without an answer: ``exit`` (os._exit(3)), ``segv``
    (SIGSEGV), ``kill`` (SIGKILL, what the OOM killer sends)."""
    if how == 'exit':
        os._exit(3)
    if how == 'segv':
        # faulthandler (-X dev) would catch it and exit with status 1.
        signal.signal(signal.SIGSEGV, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGSEGV)
    else:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(60)


def hold(address, on_term='default', value=None):
    """Holds the child until the test lets it go.

    Connects to the Unix socket ``address``, sends its pid and a newline,
    then blocks until the test closes the connection; returns
    ``(value, pid)``.  ``on_term``: what SIGTERM does — ``default`` (the
    child dies), ``report`` (it sends ``TERM`` then exits 143),
    ``ignore`` (it sends ``TERM`` and goes on holding)."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(address)
    if on_term != 'default':
        def on_sigterm(signum, frame):
            conn.sendall(b'TERM\n')
            if on_term == 'report':
                os._exit(143)
        signal.signal(signal.SIGTERM, on_sigterm)
    conn.sendall(b'%d\n' % os.getpid())
    while conn.recv(64):
        pass
    conn.close()
    return value, os.getpid()


def say(text):
    """Prints ``text`` to the child's stdout, without flushing."""
    print(text)


def print_pid():
    # One write(): lines of several processes sharing the pipe stay whole
    # (print() may write the text and its newline apart when unbuffered).
    os.write(1, b'%d\n' % os.getpid())
    return os.getpid()
