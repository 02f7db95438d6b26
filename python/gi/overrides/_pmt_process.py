# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Child processes of Pmt's process pools and workers (Pmt.ProcessPool,
# Pmt.ProcessWorker, @Pmt.Processed): the loop a child runs, and the
# parent's handle on one child.  Each worker thread of a process pool owns
# one long-lived child and hands it the calls of its tasks, one at a time.
#
# The child is a clean interpreter started by multiprocessing's "spawn"
# method (never a fork of the threaded parent); it imports the functions by
# reference, so they must be importable (module level, no lambdas), and
# the main module is imported again as __mp_main__ (hence the
# `if __name__ == '__main__':` guard scripts need).  This module imports
# nothing of Pmt, so that a child loads no typelib.

"""Child processes of Pmt's process pools (private to gi.overrides.Pmt)."""

import ctypes
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import traceback

_context = multiprocessing.get_context('spawn')

#: How long a child asked to stop (cancelled task, shutdown) may take
#: before it is killed.
TERMINATE_GRACE_SECONDS = 0.5

_PR_SET_PDEATHSIG = 1


class RemoteTraceback(Exception):
    """The traceback of an exception raised in a child process: the
    ``__cause__`` of the exception re-raised in the parent."""

    def __init__(self, text):
        super().__init__(text)
        self.text = text

    def __str__(self):
        return '\n"""\n%s"""' % self.text


class ChildProcessDied(ChildProcessError):
    """The child process running a task ended without answering."""


class _Cancelled(Exception):
    """The task was cancelled while its child ran it; the child is gone."""


def _exit_description(exitcode):
    if exitcode is None:
        return 'an unknown status'
    if exitcode < 0:
        try:
            return 'signal %s' % signal.Signals(-exitcode).name
        except ValueError:
            return 'signal %d' % -exitcode
    return 'exit status %d' % exitcode


# The child's side -------------------------------------------------------------

def _die_with_parent(parent_pid):
    """Ends the child when its parent dies, even while it computes: Linux
    sends it SIGKILL then (and its request pipe reaches end of file)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:
        os._exit(0)


def _answer(conn, outcome):
    try:
        data = pickle.dumps(outcome, pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        error = pickle.PicklingError('cannot send the result back from the child: %s: %s'
                                     % (type(exc).__name__, exc))
        data = pickle.dumps(('error', error, None, None, traceback.format_exc()))
    conn.send_bytes(data)


def _error_outcome(exc):
    text = ''.join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    # An exception can pickle and still fail to unpickle (a constructor
    # that does not take its args): try the round trip here, where the
    # type and message are still known.
    try:
        pickle.loads(pickle.dumps(exc, pickle.HIGHEST_PROTOCOL))
    except Exception:
        return ('error', None, type(exc).__qualname__, str(exc), text)
    return ('error', exc, None, None, text)


def child_main(conn, parent_pid):
    """The loop of a child: one pickled ``(fn, args, kwargs)`` after the
    other, each answered with ``('ok', result)`` or ``('error', …)``.
    Returns when the parent closes the pipe."""
    _die_with_parent(parent_pid)
    # Ctrl-C in a terminal reaches the whole process group: the parent
    # handles it, cancelling what it must.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            request = conn.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            fn, args, kwargs = pickle.loads(request)
            outcome = ('ok', fn(*args, **kwargs))
        except BaseException as exc:
            outcome = _error_outcome(exc)
        del request
        _answer(conn, outcome)
        del outcome


# The parent's side ------------------------------------------------------------

def _unpickle_outcome(data):
    try:
        return pickle.loads(data)
    except Exception as exc:
        error = pickle.UnpicklingError('cannot read the outcome sent by the child: %s: %s'
                                       % (type(exc).__name__, exc))
        return ('error', error, None, None, None)


class Child:
    """One child process and the pipe to it, used by one worker thread."""

    def __init__(self):
        self.conn, child_conn = _context.Pipe()
        self.process = _context.Process(target=child_main, args=(child_conn, os.getpid()),
                                        name='pmt-process-child', daemon=True)
        self.process.start()
        child_conn.close()
        self.kill_now = False
        self.busy = False
        self.exitcode = None

    def call(self, payload: bytes, cancel_fd: int):
        """Runs one pickled call in the child and returns its unpickled
        outcome; raises _Cancelled when ``cancel_fd`` became readable
        first (the child is terminated then), ChildProcessDied when the
        child ended without answering."""
        self.conn.send_bytes(payload)
        self.busy = True
        waitables = [self.conn, self.process.sentinel]
        if cancel_fd >= 0:
            waitables.append(cancel_fd)
        ready = multiprocessing.connection.wait(waitables)
        if self.conn in ready:
            try:
                data = self.conn.recv_bytes()
            except (EOFError, OSError):
                # A child killed while answering resets the connection.
                data = None
            if data is not None:
                self.busy = False
                return _unpickle_outcome(data)
        if cancel_fd in ready and self.process.sentinel not in ready:
            self.stop()
            raise _Cancelled()
        self.stop()
        raise ChildProcessDied('the child process running the task ended with %s'
                               % _exit_description(self.exitcode))

    def _ended_within(self, seconds) -> bool:
        return bool(multiprocessing.connection.wait([self.process.sentinel], seconds))

    def alive(self) -> bool:
        return self.process.is_alive()

    def stop(self):
        """Ends the child and reaps it: an idle child exits by itself at
        the end of file on its pipe (flushing its output); a busy one gets
        SIGTERM at once; either gets SIGKILL after a grace period, or at
        once with ``kill_now``."""
        self.conn.close()
        process = self.process
        if self.kill_now:
            process.kill()
        elif self.busy or not self._ended_within(TERMINATE_GRACE_SECONDS):
            process.terminate()
        if not self._ended_within(TERMINATE_GRACE_SECONDS):
            process.kill()
        process.join()
        self.exitcode = process.exitcode
        process.close()


def outcome_value(outcome):
    """The result of an outcome from Child.call(), or raises its
    exception with the child's traceback as its cause."""
    if outcome[0] == 'ok':
        return outcome[1]
    _, exc, type_name, message, text = outcome
    if exc is None:
        exc = RuntimeError('%s: %s (raised in the child process; the exception could not be '
                           'pickled)' % (type_name, message))
    if text:
        exc.__cause__ = RemoteTraceback(text)
    raise exc


def undecorated(module, qualname):
    """The function a ``@Processed`` decorator wraps, found by name: what a
    child unpickles for it."""
    import importlib
    target = importlib.import_module(module)
    for name in qualname.split('.'):
        target = getattr(target, name)
    return getattr(target, '__wrapped__', target)
