# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Python overrides for Pmt: the PyMultiTasking API on top of the C one.
#
# The C objects stay what they are; the overrides add what a Python
# programmer expects of them: Python callables with their arguments,
# return values and exceptions, timeouts in seconds, waits that Ctrl-C
# interrupts, futures, asyncio, and an interpreter exit that waits for the
# work like concurrent.futures does.  See docs/reference/python.xml.

"""Python overrides of Pmt: PyMultiTasking's Worker / Pool / Task / decorator
API (``ThreadPool``, ``@Threaded``, ``@Limiter``, ``task.results``…), with
tasks that are also futures and awaitables."""

from __future__ import annotations

import asyncio
import concurrent.futures
import ctypes
import functools
import inspect
import itertools
import logging
import os
import pickle
import signal
import threading
import time
import traceback
import types
from typing import Any, Callable, Iterable, Iterator, List, NamedTuple, Optional, Sequence, Tuple

import gi
from gi.repository import GLib, GObject, Gio

from ..module import get_introspection_module
from ..overrides import override
from . import _pmt_process

Pmt = get_introspection_module('Pmt')

__all__: List[str] = []

_log = logging.getLogger('gi.repository.Pmt')

#: The priority of tasks made from Python unless told otherwise
#: (PyMultiTasking's scale: lower runs first).
DEFAULT_PRIORITY = 10
__all__.append('DEFAULT_PRIORITY')

# How long a wait of the main thread blocks in C at a time: between two
# slices Python runs its signal handlers, so that Ctrl-C is seen.
_SLICE_SECONDS = 0.2

_TaskState = Pmt.TaskState
_DONE_STATES = frozenset((_TaskState.SUCCEEDED, _TaskState.FAILED, _TaskState.CANCELLED))


# Timeouts --------------------------------------------------------------------

def _usec(timeout: Optional[float]) -> int:
    """Seconds (None: forever) to the C library's microseconds (-1: forever)."""
    if timeout is None:
        return -1
    timeout = float(timeout)
    if timeout != timeout:
        raise ValueError('timeout is NaN')
    if timeout <= 0:
        return 0
    if timeout >= 2 ** 62 / 1e6:
        return -1
    return max(1, int(timeout * 1e6))


def _deadline(timeout: Optional[float]) -> Optional[float]:
    _usec(timeout)  # validates
    return None if timeout is None else time.monotonic() + max(float(timeout), 0.0)


def _remaining(deadline: Optional[float]) -> Optional[float]:
    return None if deadline is None else max(deadline - time.monotonic(), 0.0)


def _interruptible() -> bool:
    """Whether a wait here must come back to Python for Ctrl-C: in the main
    thread, when a Python handler is installed for SIGINT."""
    if threading.current_thread() is not threading.main_thread():
        return False
    handler = signal.getsignal(signal.SIGINT)
    return callable(handler)


def _wait_sliced(wait: Callable[[int], Any], timeout: Optional[float]) -> Any:
    """Runs ``wait(timeout_usec)`` until it returns a true value or the
    timeout is over, returning its last value.

    In the main thread the wait is cut into slices of 0.2 s, so that a
    KeyboardInterrupt is raised within that time; elsewhere it is one call.
    """
    usec = _usec(timeout)
    if usec == 0 or not _interruptible():
        return wait(usec)
    deadline = _deadline(timeout)
    while True:
        left = _remaining(deadline)
        step = _SLICE_SECONDS if left is None else min(_SLICE_SECONDS, left)
        value = wait(_usec(step) if step > 0 else 0)
        if value or (deadline is not None and time.monotonic() >= deadline):
            return value


# Python thread states of the workers -----------------------------------------
#
# PyGObject enters Python from a foreign thread with PyGILState_Ensure and
# leaves with PyGILState_Release: with no thread state kept, CPython makes
# and destroys one per callback (and threading.local starts afresh each
# time).  A worker thread keeps one from its start to its exit instead.

_PyGILState_Ensure = ctypes.pythonapi.PyGILState_Ensure
_PyGILState_Ensure.restype = ctypes.c_int
_PyGILState_Ensure.argtypes = []
_PyGILState_Release = ctypes.pythonapi.PyGILState_Release
_PyGILState_Release.restype = None
_PyGILState_Release.argtypes = [ctypes.c_int]

_kept_states = {}     # thread ident -> PyGILState_STATE taken at start
_live_workers = {}    # thread ident -> the PmtWorker running there
_pushed_workers = set()   # standalone workers pushed to, until their thread runs


def _keep_thread_state() -> None:
    ident = threading.get_ident()
    if ident not in _kept_states:
        _kept_states[ident] = _PyGILState_Ensure()


def _drop_thread_state() -> None:
    state = _kept_states.pop(threading.get_ident(), None)
    if state is not None:
        _PyGILState_Release(state)


def _on_thread_started(worker, *unused) -> bool:
    _keep_thread_state()
    _live_workers[threading.get_ident()] = worker
    _pushed_workers.discard(worker)
    return True


def _on_thread_stopped(worker, *unused) -> bool:
    _stop_process_child(hash(worker))
    _live_workers.pop(threading.get_ident(), None)
    _pushed_workers.discard(worker)
    _drop_thread_state()
    return True


def _current_worker():
    """The PmtWorker whose thread this is, or None."""
    return _live_workers.get(threading.get_ident())


GObject.type_class_ref(Pmt.Worker.__gtype__)
_emission_hooks = [
    ('thread-started', GObject.add_emission_hook(Pmt.Worker, 'thread-started', _on_thread_started)),
    ('thread-stopped', GObject.add_emission_hook(Pmt.Worker, 'thread-stopped', _on_thread_stopped)),
]


# Direct calls ----------------------------------------------------------------
#
# PyGObject releases the GIL around every C call.  Around a call that
# returns at once that is a handover to a worker waiting for the GIL and
# back, which costs more than the call: submitting a task would hand the
# GIL over once per task.  The few calls of the hot paths below go through
# ctypes instead, holding the GIL.  They only take Pmt's short internal
# locks, under which Pmt never calls out (handlers and destroy notifies
# run outside them, see pmt/README.md), so holding the GIL cannot
# deadlock.  Without ctypes or the library, the PyGObject calls serve;
# PMT_PYTHON_NO_DIRECT_CALLS=1 in the environment at import chooses them
# too (the tests run both ways).
#
# One call goes through ctypes for another reason: a limiter's timed
# acquire, with the GIL released as PyGObject does.  PyGObject turns its
# timeout into a GLib.Error by running Python code (GLib.Error.__init__),
# where a pending SIGINT handler runs: its KeyboardInterrupt is printed and
# replaced by "RuntimeError: Converting the GError failed".  And each slice
# of an interruptible wait (_wait_sliced) but the last ends in a timeout.

class _GError(ctypes.Structure):
    _fields_ = [('domain', ctypes.c_uint32), ('code', ctypes.c_int), ('message', ctypes.c_char_p)]


_JobFunc = ctypes.CFUNCTYPE(None, ctypes.c_void_p)   # PmtJobFunc, GDestroyNotify


def _load_direct_calls():
    if os.environ.get('PMT_PYTHON_NO_DIRECT_CALLS', '') not in ('', '0'):
        return None
    try:
        try:
            gi.require_version('GIRepository', '2.0')
            from gi.repository import GIRepository
            library = GIRepository.Repository.get_default().get_shared_library('Pmt')
        except (ValueError, ImportError):
            library = None
        library = (library or 'libpmt-1.0.so.0').split(',')[0]
        lib = ctypes.PyDLL(library)
        push = lib.pmt_pool_push
        push.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        push.restype = ctypes.c_int
        worker_push = lib.pmt_worker_push
        worker_push.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        worker_push.restype = ctypes.c_int
        get_state = lib.pmt_task_get_state
        get_state.argtypes = [ctypes.c_void_p]
        get_state.restype = ctypes.c_int
        get_id = lib.pmt_task_get_id
        get_id.argtypes = [ctypes.c_void_p]
        get_id.restype = ctypes.c_uint64
        execute = lib.pmt_pool_execute_full
        execute.argtypes = [ctypes.c_void_p, ctypes.c_int, _JobFunc, ctypes.c_void_p,
                            _JobFunc, ctypes.c_void_p]
        execute.restype = ctypes.c_int
        # The wrapper's hash is its object's address in PyGObject: checked
        # here, on a task, against the library itself.
        probe = Pmt.Task()
        if get_id(hash(probe)) != Pmt.Task.get_id(probe):
            return None
        blocking = ctypes.CDLL(library)
        acquire = blocking.pmt_limiter_acquire
        acquire.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p,
                            ctypes.POINTER(ctypes.POINTER(_GError))]
        acquire.restype = ctypes.c_int
        error_free = lib.g_error_free
        error_free.argtypes = [ctypes.POINTER(_GError)]
        error_free.restype = None
        return push, worker_push, get_state, execute, acquire, error_free
    except (OSError, AttributeError):
        return None


_direct_calls = _load_direct_calls()

if _direct_calls is not None:
    (_direct_push, _direct_worker_push, _direct_get_state, _direct_execute, _blocking_acquire,
     _error_free) = _direct_calls

    def _push_task(pool, task) -> None:
        if not _direct_push(hash(pool), hash(task), None):
            Pmt.Pool.push(pool, task)       # raises the error

    def _try_push(target, task) -> bool:
        """Pushes ``task`` to a pool or a worker; False if refused."""
        if isinstance(target, Pmt.Pool):
            return bool(_direct_push(hash(target), hash(task), None))
        _pushed_workers.add(target)
        return bool(_direct_worker_push(hash(target), hash(task), None))

    def _task_state(task):
        return _TaskState(_direct_get_state(hash(task)))

    def _acquire_limiter(limiter, usec: int, cancellable) -> bool:
        """pmt_limiter_acquire(): False on timeout, GLib.Error otherwise."""
        error = ctypes.POINTER(_GError)()
        try:
            if _blocking_acquire(hash(limiter), usec, None if cancellable is None else hash(cancellable),
                                 ctypes.byref(error)):
                return True
            domain, code, message = error.contents.domain, error.contents.code, error.contents.message
        finally:
            if error:       # also when a KeyboardInterrupt came on return
                _error_free(error)
        if domain == Pmt.error_quark() and code == Pmt.Error.TIMED_OUT:
            return False
        raise GLib.Error.new_literal(domain, message.decode('utf-8', 'replace'), code)
else:
    def _push_task(pool, task) -> None:
        Pmt.Pool.push(pool, task)

    def _try_push(target, task) -> bool:
        try:
            target.push(task)
        except GLib.Error:
            return False
        return True

    def _task_state(task):
        return Pmt.Task.get_state(task)

    def _acquire_limiter(limiter, usec: int, cancellable) -> bool:
        try:
            return Pmt.Limiter.acquire(limiter, usec, cancellable)
        except GLib.Error as error:
            if error.matches(Pmt.error_quark(), Pmt.Error.TIMED_OUT):
                return False
            raise


# Calls: what a task made from Python runs, and what became of it -------------

def _wants_task(fn: Callable) -> bool:
    """Whether ``fn`` has a parameter literally named ``TaskObject``: only
    those get their task (a bare ``**kwargs`` does not)."""
    while isinstance(fn, functools.partial):
        if 'TaskObject' in fn.keywords:
            return False
        fn = fn.func
    if isinstance(fn, types.MethodType):
        fn = fn.__func__
    code = getattr(fn, '__code__', None)
    if code is not None and not hasattr(fn, '__wrapped__'):
        names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
        return 'TaskObject' in names
    try:
        return 'TaskObject' in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


class _Call:
    """One call of a Python function by a task, kept as the task's value
    (pmt_task_get_task_value()): its function and arguments until it runs,
    then its result."""

    __slots__ = ('fn', 'args', 'kwargs', 'inject', 'callback', 'store', 'result', 'process')

    def __init__(self, fn, args, kwargs, inject, callback=None, store=True, process=False):
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.inject = inject
        self.callback = callback
        self.store = store
        self.result = None
        self.process = process      # run in the worker's child process


class _Failure:
    """The exception of a failed task, kept on the task's Python wrapper.

    There the garbage collector sees the cycles its traceback makes
    through the task: frames that hold the task, like those of results
    or result() once they raised it again.  Held in C (in the task's value
    or a module's dict), the exception would keep such a task for ever.
    """

    __slots__ = ('exception', 'retrieved')

    def __init__(self, exception):
        self.exception = exception
        self.retrieved = False

    def __del__(self):
        if not self.retrieved:
            _report_unretrieved(self.exception)


_CANCELLED_ERRORS = (concurrent.futures.CancelledError, asyncio.CancelledError)


def _report_unretrieved(exc: BaseException) -> None:
    # Like asyncio's "exception was never retrieved": once, when the task
    # goes away.  At interpreter teardown logging may be gone already.
    try:
        _log.error('Pmt task exception was never retrieved',
                   exc_info=(type(exc), exc, exc.__traceback__))
    except Exception:
        pass


def _cancel_error() -> GLib.Error:
    return GLib.Error.new_literal(Gio.io_error_quark(), 'The task was cancelled',
                                  Gio.IOErrorEnum.CANCELLED)


def _is_cancellation(task, exc: BaseException) -> bool:
    if isinstance(exc, _CANCELLED_ERRORS):
        return True
    if isinstance(exc, GLib.Error) and exc.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED):
        return True
    cancellable = task.get_cancellable()
    return cancellable is not None and cancellable.is_cancelled()


def _return_exception(task, exc: BaseException) -> bool:
    """Ends ``task`` with ``exc``: cancelled when it is how the function
    honoured a cancellation, failed otherwise.  Returns whether it ends
    cancelled."""
    if _is_cancellation(task, exc):
        task.return_error(_cancel_error())
        return True
    message = '%s: %s' % (type(exc).__qualname__, exc)
    task.return_error(GLib.Error.new_literal(Pmt.error_quark(), message, Pmt.Error.FAILED))
    return False


def _invoke(task, call: _Call) -> None:
    """Runs ``call`` for ``task``, keeping its result in ``call``; raises
    what the function raises."""
    fn, args, kwargs = call.fn, call.args, call.kwargs
    # Nothing of the call outlives its run: no cycle through the task's
    # own value, and the arguments are freed as soon as possible.
    call.fn = call.args = call.kwargs = None
    callback, call.callback = call.callback, None
    if call.inject:
        kwargs = dict(kwargs, TaskObject=task)
    _pending_thread_tasks.discard(task)
    if call.process:
        result = _run_in_child(task, fn, args, kwargs)
    else:
        result = fn(*args, **kwargs)
    if callback is not None:
        callback(result)
    if call.store:
        call.result = result


def _fail(task, exc: BaseException) -> None:
    # A cancelled task gives CancelledError, never ``exc``: kept, ``exc``
    # would be reported as never retrieved.
    if not _return_exception(task, exc):
        task._pmt_failure = _Failure(_detach_frames(exc))


def _return_not_a_call(task) -> None:
    task.return_error(GLib.Error.new_literal(
        Pmt.error_quark(), 'the task has no Python call to run (its value was replaced)',
        Pmt.Error.INVALID))


# The entry points from C catch what the call raises: their frame is the
# first of the traceback, and has no caller's frame to keep alive.  They
# drop the task before they return, since the traceback keeps the frame.

def _run_valued_task(task, *unused) -> None:
    """The task function of maps and of @Threaded: the call is the task's
    value."""
    call = task.get_task_value()
    if type(call) is not _Call:
        _return_not_a_call(task)
        return
    try:
        _invoke(task, call)
    except BaseException as exc:
        _fail(task, exc)
        del task


def _detach_frames(exc: BaseException) -> BaseException:
    """Clears the locals of the finished frames of ``exc``'s tracebacks.

    A task holds its exception in C, out of sight of Python's garbage
    collector: a frame that refers to the task (its ``TaskObject`` or a
    local) would keep the task alive for ever.  The traceback still tells
    where the exception came from.
    """
    seen = set()
    pending = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        traceback.clear_frames(current.__traceback__)
        pending += [current.__cause__, current.__context__]
    return exc


# Raw task functions: Python functions handed to the C API directly
# (Task.new, Pool.submit_full…).  Their exceptions fail the task, their
# return value is its result.

class _Boxed:
    """A Python result held in a task's GValue, so that it stays the same
    object (a GValue would narrow an int or copy a string)."""

    __slots__ = ('value',)

    def __init__(self, value):
        self.value = value


def _guard_task_func(func: Callable) -> Callable:
    if getattr(func, '_pmt_guarded', False):
        return func

    @functools.wraps(func)
    def guarded(task, *user_data):
        try:
            result = func(task, *user_data)
        except BaseException as exc:
            _fail(task, exc)
            del task, user_data
            return
        if result is not None:
            task.return_value(_Boxed(result))

    guarded._pmt_guarded = True
    return guarded


# Tasks -----------------------------------------------------------------------

class TaskSnapshot(NamedTuple):
    """What a pickled :class:`Pmt.Task` becomes: its state when it was
    pickled (the same fields as pmt_task_to_variant())."""
    id: int
    state: str
    priority: int
    result: Any
    error: Optional[BaseException]


__all__.append('TaskSnapshot')


def _state_nick(state) -> str:
    return state.value_nick


def _call_of(task) -> Optional[_Call]:
    call = getattr(task, '_pmt_call', None)
    if call is not None:
        return call
    value = Pmt.Task.get_task_value(task)
    return value if type(value) is _Call else None


class Task(Pmt.Task):
    """A unit of work that is also an event (PyMultiTasking's ``Task``) and
    a future (``concurrent.futures.Future``, awaitable in asyncio).

    Tasks made by :meth:`Pool.submit`, :meth:`Pool.map` and ``@Threaded``
    run a Python function: its return value is :attr:`results`, an
    exception it raises fails the task and is raised again where the
    result is read.  A subclass may implement ``do_run(self)`` instead;
    its exceptions fail the task too.
    """

    # The call of a task made by submit() (see _new_task()).
    _pmt_call = None
    # The exception of a failed task (see _fail()).
    _pmt_failure = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        run = cls.__dict__.get('do_run')
        if run is not None and not getattr(run, '_pmt_guarded', False):
            cls.do_run = _guard_do_run(run)

    @classmethod
    def new(cls, func: Callable, *user_data) -> 'Task':
        """A task that runs ``func(task, *user_data)``; its return value is
        the result, an exception it raises fails the task."""
        return Pmt.Task.new(_guard_task_func(func), *user_data)

    # PyMultiTasking

    @property
    def results(self) -> Any:
        """The result: None while the task is not done or when it stored
        no value; raises the task's exception when it failed, and
        ``concurrent.futures.CancelledError`` when it was cancelled."""
        state = self.get_state()
        if state == _TaskState.SUCCEEDED:
            return self._result_value()
        if state in _DONE_STATES:
            raise self._failure()
        return None

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Waits up to ``timeout`` seconds (None: forever) for the task to
        be done; returns whether it is."""
        if self.is_done():
            return True
        self._check_not_self()
        return bool(_wait_sliced(lambda usec: Pmt.Task.wait(self, usec), timeout))

    def get_state(self) -> 'Pmt.TaskState':
        """The state of the task."""
        return _task_state(self)

    def is_done(self) -> bool:
        """Whether the task succeeded, failed or was cancelled."""
        return _task_state(self) in _DONE_STATES

    def is_set(self) -> bool:
        """Whether the task is done (threading.Event's name)."""
        return self.is_done()

    def get_result(self) -> Any:
        """The result reported with return_value(), or None."""
        value = Pmt.Task.get_result(self)
        return value.value if type(value) is _Boxed else value

    # concurrent.futures.Future

    def done(self) -> bool:
        """Whether the task succeeded, failed or was cancelled."""
        return self.is_done()

    def running(self) -> bool:
        """Whether a worker runs the task now."""
        return self.get_state() == _TaskState.RUNNING

    def cancelled(self) -> bool:
        """Whether the task ended cancelled."""
        return self.get_state() == _TaskState.CANCELLED

    def cancel(self) -> bool:
        """Cancels the task: one that has not started never runs; a
        running one has its cancellable triggered.  Returns whether the
        task is cancelled now (False for one that runs on or is done)."""
        Pmt.Task.cancel(self)
        _pending_thread_tasks.discard(self)
        return self.cancelled()

    def result(self, timeout: Optional[float] = None) -> Any:
        """The result, waiting up to ``timeout`` seconds: raises
        ``concurrent.futures.TimeoutError``, ``CancelledError``, or the
        task's own exception."""
        if not self.wait(timeout):
            raise concurrent.futures.TimeoutError()
        if self.get_state() == _TaskState.SUCCEEDED:
            return self._result_value()
        raise self._failure()

    def exception(self, timeout: Optional[float] = None) -> Optional[BaseException]:
        """The exception the task failed with (None if it succeeded),
        waiting up to ``timeout`` seconds; raises ``CancelledError`` when
        it was cancelled."""
        if not self.wait(timeout):
            raise concurrent.futures.TimeoutError()
        state = self.get_state()
        if state == _TaskState.SUCCEEDED:
            return None
        if state == _TaskState.CANCELLED:
            raise concurrent.futures.CancelledError()
        return self._failure()

    def add_done_callback(self, fn: Callable[['Task'], Any]) -> None:
        """Calls ``fn(task)`` once the task is done: at once, in this
        thread, if it is done already, else in the thread that finishes it
        (or its main context's).  Exceptions of ``fn`` are logged."""
        _on_done(self, fn)

    def __await__(self):
        loop = asyncio.get_running_loop()
        future = loop.create_future()

        def settle(task):
            loop.call_soon_threadsafe(_settle_future, future, task)

        _on_done(self, settle)
        return (yield from future.__await__())

    # Python protocols

    def __repr__(self) -> str:
        return '<Pmt.Task id=%d state=%s priority=%d>' % (
            self.get_id(), _state_nick(self.get_state()), self.get_priority())

    def __reduce__(self):
        if not self.is_done():
            raise TypeError('only a finished Pmt.Task can be pickled (it becomes a Pmt.TaskSnapshot)')
        state = self.get_state()
        result = self._result_value() if state == _TaskState.SUCCEEDED else None
        error = None if state == _TaskState.SUCCEEDED else self._failure()
        return (TaskSnapshot, (self.get_id(), _state_nick(state), self.get_priority(), result, error))

    @staticmethod
    def wait_all(tasks: Sequence['Task'], timeout: Optional[float] = None) -> bool:
        """Waits up to ``timeout`` seconds for every task to be done."""
        tasks = list(tasks)
        return bool(_wait_sliced(lambda usec: Pmt.Task.wait_all(tasks, usec), timeout))

    @staticmethod
    def wait_any(tasks: Sequence['Task'], timeout: Optional[float] = None) -> int:
        """Waits up to ``timeout`` seconds for one task to be done; returns
        its index, or -1 on timeout."""
        tasks = list(tasks)
        return _wait_sliced(lambda usec: Pmt.Task.wait_any(tasks, usec) + 1, timeout) - 1

    # Outcome

    def _result_value(self) -> Any:
        call = _call_of(self)
        if call is not None:
            return call.result
        return self.get_result()

    def _failure(self) -> BaseException:
        """The exception to raise for a failed or cancelled task."""
        if self.get_state() == _TaskState.CANCELLED:
            return concurrent.futures.CancelledError()
        failure = getattr(self, '_pmt_failure', None)
        if failure is not None:
            failure.retrieved = True
            return failure.exception
        return self.get_error()

    def _check_not_self(self) -> None:
        worker = _current_worker()
        if worker is not None and worker.dup_current_task() == self:
            raise RuntimeError('a Pmt.Task cannot wait for itself')


Task = override(Task)
__all__.append('Task')


def _guard_do_run(run: Callable) -> Callable:
    @functools.wraps(run)
    def do_run(self):
        try:
            result = run(self)
        except BaseException as exc:
            _fail(self, exc)
            del self
            return
        if result is not None:
            self.return_value(_Boxed(result))

    do_run._pmt_guarded = True
    return do_run


class _PythonTask(Task):
    """The task of a Python call: runs the call held as its value."""

    # PyGObject registers no GType for classes of gi.overrides modules (it
    # would hook do_run into PmtTask itself): this one needs its own.
    __module__ = 'gi.repository.Pmt.python'
    __gtype_name__ = 'PmtPythonTask'

    def do_run(self):
        call = self._pmt_call
        if type(call) is not _Call:
            _return_not_a_call(self)
            return
        try:
            _invoke(self, call)
        except BaseException as exc:
            _fail(self, exc)
            del self

    do_run._pmt_guarded = True


def _new_task(call: _Call, priority: int) -> Task:
    # One C call less is one less handover of the GIL between the
    # submitting thread and the workers: the priority goes in as a
    # construct property, the call as an attribute of the wrapper (which
    # PyGObject then keeps alive with the task, by a toggle reference).
    task = _PythonTask(priority=priority)
    task._pmt_call = call
    return task


def _on_done(task, fn: Callable) -> None:
    """Calls ``fn(task)`` once, when ``task`` is done."""
    lock = threading.Lock()
    handler = []

    def fire(done_task, *unused):
        with lock:
            if not handler or handler[0] is None:
                return
            handler_id, handler[0] = handler[0], None
        done_task.disconnect(handler_id)
        try:
            fn(done_task)
        except Exception:
            _log.exception('exception calling callback for %r', done_task)

    with lock:
        handler.append(task.connect('completed', fire))
    if task.is_done():
        fire(task)


def _settle_future(future: asyncio.Future, task: Task) -> None:
    if future.cancelled():
        return
    state = task.get_state()
    if state == _TaskState.SUCCEEDED:
        future.set_result(task._result_value())
    elif state == _TaskState.CANCELLED:
        future.cancel()
    else:
        future.set_exception(task._failure())


# Pools -----------------------------------------------------------------------

_SUBMIT_PREFIX = 'submit_task_'
# PyMultiTasking's submit_task_* keywords without a Pmt meaning: a Pmt
# submission never blocks and a pool always starts the workers it needs.
_SUBMIT_IGNORED = frozenset(('submit_task_nowait', 'submit_task_timeout', 'submit_task_autospawn'))


def _pop_submit_options(kwargs: dict) -> int:
    """Takes PyMultiTasking's ``submit_task_*`` keywords out of ``kwargs``
    and returns the priority."""
    priority = DEFAULT_PRIORITY
    if not kwargs or not any(key.startswith(_SUBMIT_PREFIX) for key in kwargs):
        return priority
    for key in [key for key in kwargs if key.startswith(_SUBMIT_PREFIX)]:
        value = kwargs.pop(key)
        if key == 'submit_task_priority':
            if value is not None:
                priority = _check_priority(value)
        elif key not in _SUBMIT_IGNORED:
            raise TypeError('unknown submit option %r' % key)
    return priority


def _check_priority(priority) -> int:
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise TypeError('a priority is an int, not %s' % type(priority).__name__)
    if not -2 ** 31 <= priority < 2 ** 31:
        raise OverflowError('priority %d is out of range' % priority)
    return priority


def _check_callable(fn, what='fn') -> None:
    if not callable(fn):
        raise TypeError('%s must be callable, not %s' % (what, type(fn).__name__))


def _process_inject(fn, process: bool) -> bool:
    """Whether ``fn`` gets its task; refused for a process call, whose task
    stays in the parent."""
    inject = _wants_task(fn)
    if inject and process:
        raise TypeError('a function run in a child process cannot take TaskObject: '
                        'its task stays in this process')
    return inject


def _map_calls(fn, params, process: bool = False) -> List[_Call]:
    inject = _process_inject(fn, process)
    calls = []
    for index, item in enumerate(params):
        try:
            args, kwargs = item
            args, kwargs = tuple(args), dict(kwargs)
        except (TypeError, ValueError):
            raise TypeError('map() item %d is not an (args, kwargs) pair: %r' % (index, item)) from None
        calls.append(_Call(fn, args, kwargs, inject, process=process))
    return calls


def _check_not_own_pool(pool, what: str) -> None:
    worker = _current_worker()
    if worker is not None and worker.get_pool() == pool:
        raise RuntimeError('a pool cannot %s itself from one of its own tasks' % what)


class Pool(Pmt.Pool):
    """A priority pool of worker threads (PyMultiTasking's ``ThreadPool``).

    ``Pool(maxWorkers=None, name=None, prepopulate=0, workerAutoKill=True,
    *, max_workers=None, initializer=None, initargs=())``: at most
    ``maxWorkers`` threads (default: the number of processors), a name
    unique in the process (default: a new one), ``prepopulate`` threads
    started at once and kept, idle threads exiting unless
    ``workerAutoKill`` is False, and ``initializer(*initargs)`` run once in
    each worker thread before its first task.  Other keywords are GObject
    properties (in their C units).
    """

    # Whether its tasks run their function in a child process (ProcessPool).
    _process_calls = False

    def __init__(self, maxWorkers: Optional[int] = None, name: Optional[str] = None,
                 prepopulate: int = 0, workerAutoKill: bool = True, *,
                 max_workers: Optional[int] = None,
                 initializer: Optional[Callable[..., Any]] = None,
                 initargs: Tuple = (), **properties):
        if maxWorkers is not None and max_workers is not None:
            raise TypeError('give maxWorkers or max_workers, not both')
        workers = maxWorkers if maxWorkers is not None else max_workers
        if workers is None or workers == 0:
            workers = max(GLib.get_num_processors(), 1)
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
            raise ValueError('maxWorkers must be a positive int, not %r' % (workers,))
        if not isinstance(prepopulate, int) or prepopulate < 0:
            raise ValueError('prepopulate must be an int >= 0, not %r' % (prepopulate,))
        if initializer is not None:
            _check_callable(initializer, 'initializer')
        properties.setdefault('max_workers', workers)
        if name is not None:
            properties['name'] = name
        # Set once the initializer is connected and the name is taken:
        # as a construct property it would start workers before either.
        min_workers = properties.pop('min_workers', 0)
        if prepopulate:
            min_workers = min(prepopulate, properties['max_workers'])
        if not workerAutoKill:
            properties['idle_timeout'] = -1
        super().__init__(**properties)
        if initializer is not None:
            self.connect('worker-started', _run_initializer, initializer, tuple(initargs))
        # A name taken already: raises GLib.Error (Pmt.Error.NAME_IN_USE).
        self.init(None)
        if min_workers:
            self.set_min_workers(min_workers)

    # PyMultiTasking

    def submit(self, fn: Callable[..., Any], /, *args, **kwargs) -> Task:
        """Submits ``fn(*args, **kwargs)`` and returns its task.

        ``submit_task_priority=10`` sets the priority (lower runs first,
        equal ones in submission order); every other keyword reaches
        ``fn``.  A parameter named ``TaskObject`` receives the task.
        Raises GLib.Error when the pool refuses the task (stopping, or
        blocked by ``wait_completion(block=True)``).
        """
        _check_callable(fn)
        priority = _pop_submit_options(kwargs)
        process = self._process_calls
        task = _new_task(_Call(fn, args, kwargs, _process_inject(fn, process), process=process),
                         priority)
        _push_task(self, task)
        return task

    def map(self, fn: Callable[..., Any], params: Iterable[Tuple[Sequence, dict]],
            chunksize: int = 0, **options) -> List[Task]:
        """Submits one ``fn(*args, **kwargs)`` per ``(args, kwargs)`` of
        ``params``; returns the tasks in that order.  Workers take
        ``chunksize`` tasks at a time (0: spread evenly over the workers).
        Takes ``submit_task_priority`` like :meth:`submit`."""
        _check_callable(fn)
        priority = _pop_submit_options(options)
        if options:
            raise TypeError('unexpected keyword %r' % next(iter(options)))
        if not isinstance(chunksize, int) or chunksize < 0:
            raise ValueError('chunksize must be an int >= 0, not %r' % (chunksize,))
        calls = _map_calls(fn, params, self._process_calls)
        if not calls:
            return []
        return Pmt.Pool.map_values_full(self, priority, _run_valued_task, None, calls, chunksize)

    def wait_completion(self, timeout: Optional[float] = None, block: bool = False) -> bool:
        """Waits up to ``timeout`` seconds until every task the pool took
        is done.  With ``block``, other threads' submissions are refused
        meanwhile; tasks of the pool may still submit, and the wait covers
        them."""
        return bool(_wait_sliced(lambda usec: Pmt.Pool.wait_completion(self, usec, bool(block)),
                                 timeout))

    def join(self, timeout: Optional[float] = None, block: bool = True) -> bool:
        """Waits for the work (see :meth:`wait_completion`), then shuts the
        pool down, all within ``timeout`` seconds; returns whether it
        stopped in time."""
        _check_not_own_pool(self, 'join')
        deadline = _deadline(timeout)
        if not self.wait_completion(_remaining(deadline), block):
            return False
        return self.shutdown(_remaining(deadline))

    def shutdown(self, timeout: Optional[float] = None, unsafe: bool = False, *,
                 cancel_queued: bool = False, cancel_running: bool = False) -> bool:
        """Stops the pool: it takes no more tasks, lets the queued ones run
        (unless ``cancel_queued``), triggers the cancellables of the
        running ones with ``cancel_running``, and waits up to ``timeout``
        seconds for its workers.  ``unsafe=True`` (PyMultiTasking) cancels
        both.  Returns whether the pool stopped."""
        flags = Pmt.ShutdownFlags.NONE
        if cancel_queued or unsafe:
            flags |= Pmt.ShutdownFlags.CANCEL_QUEUED
        if cancel_running or unsafe:
            flags |= Pmt.ShutdownFlags.CANCEL_RUNNING
        if _usec(timeout) != 0:
            _check_not_own_pool(self, 'wait for')
        return bool(_wait_sliced(lambda usec: Pmt.Pool.shutdown(self, flags, usec), timeout))

    @staticmethod
    def as_completed(tasks: Iterable[Task], timeout: Optional[float] = None) -> Iterator[Task]:
        """Yields each of ``tasks`` once, as it is done, blocking in
        between (no polling).  Raises ``concurrent.futures.TimeoutError``
        if some are not done ``timeout`` seconds after the call."""
        tasks = list(dict.fromkeys(tasks))
        return _as_completed(tasks, _deadline(timeout))

    @classmethod
    def get_pool_by_name(cls, name: str) -> Optional['Pool']:
        """The pool of that name, or None."""
        return Pmt.Pool.lookup(name)

    @classmethod
    def get_pools(cls, name: Optional[str] = None) -> List['Pool']:
        """Every registered pool, or those named ``name``."""
        pools = Pmt.Pool.list_pools()
        return [pool for pool in pools if name is None or pool.get_name() == name]

    @classmethod
    def join_pools(cls, timeout: Optional[float] = None) -> bool:
        """Joins every registered pool, all within ``timeout`` seconds."""
        return bool(_wait_sliced(Pmt.Pool.join_all, timeout))

    def executor(self) -> 'PoolExecutor':
        """A ``concurrent.futures.Executor`` running on this pool."""
        return PoolExecutor(self)

    def __enter__(self) -> 'Pool':
        return self

    def __exit__(self, *exc_info) -> None:
        self.join()

    def __repr__(self) -> str:
        return '<Pmt.Pool name=%r state=%s workers=%d/%d queued=%d>' % (
            self.get_name(), self.get_state().value_nick, self.get_n_workers(),
            self.get_max_workers(), self.get_n_queued())

    # The C API with Python functions: exceptions fail the task, a return
    # value is its result.

    def submit_full(self, priority: int, func: Callable, *user_data) -> Task:
        """Submits ``func(task, *user_data)`` at ``priority``."""
        return Pmt.Pool.submit_full(self, priority, _guard_task_func(func), *user_data)

    def map_values_full(self, priority: int, func: Callable, user_data, items: Sequence,
                        chunk_size: int) -> List[Task]:
        """One ``func(task, user_data)`` per item, the item being the
        task's value."""
        return Pmt.Pool.map_values_full(self, priority, _guard_task_func(func), user_data,
                                        list(items), chunk_size)


Pool = override(Pool)
ThreadPool = Pool
__all__ += ['Pool', 'ThreadPool']


def _run_initializer(pool, worker, initializer, initargs) -> None:
    # Before the worker's thread-started hook: keep the thread state now,
    # or what the initializer sets up would be gone with it.
    _keep_thread_state()
    try:
        initializer(*initargs)
    except BaseException:
        _log.exception('initializer of %r failed: the pool shuts down', pool)
        Pmt.Pool.shutdown(pool, Pmt.ShutdownFlags.CANCEL_QUEUED, 0)


def _as_completed(tasks: List[Task], deadline: Optional[float]) -> Iterator[Task]:
    queue = Pmt.CompletionQueue.new()
    for task in tasks:
        queue.add(task)
    for done in range(len(tasks)):
        task = queue.next(_remaining(deadline))
        if task is None:
            raise concurrent.futures.TimeoutError(
                '%d (of %d) tasks unfinished' % (len(tasks) - done, len(tasks)))
        yield task


class PoolExecutor(concurrent.futures.Executor):
    """A ``concurrent.futures.Executor`` on a :class:`Pool`
    (``pool.executor()``): its futures are ``concurrent.futures.Future``
    objects, so ``loop.run_in_executor``, ``concurrent.futures.wait`` and
    ``as_completed`` take them.  Shutting it down shuts the pool down."""

    def __init__(self, pool: Pool, priority: int = DEFAULT_PRIORITY):
        self._pool = pool
        self._priority = _check_priority(priority)

    @property
    def pool(self) -> Pool:
        return self._pool

    def submit(self, fn, /, *args, **kwargs) -> concurrent.futures.Future:
        _check_callable(fn)
        future = concurrent.futures.Future()
        try:
            _execute_call(self._pool, self._priority, _FutureCall(future, fn, args, kwargs))
        except GLib.Error as error:
            raise RuntimeError('cannot schedule new futures: %s' % error.message) from error
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(None if wait else 0, cancel_queued=cancel_futures)


__all__.append('PoolExecutor')


def _run_future(future, fn, args, kwargs) -> None:
    if not future.set_running_or_notify_cancel():
        return
    try:
        result = fn(*args, **kwargs)
    except BaseException as exc:
        future.set_exception(exc)
    else:
        future.set_result(result)


class _FutureCall:
    """The call of a PoolExecutor future, run once; when it goes away
    without having run (its job was dropped from the queue: a shutdown
    with cancel_queued, cancel_futures or unsafe), its future is
    cancelled, as ThreadPoolExecutor does, instead of pending for ever."""

    __slots__ = ('call',)

    def __init__(self, *call):
        self.call = call

    def __call__(self, *unused) -> None:
        call, self.call = self.call, None
        if call is not None:
            _run_future(*call)

    def __del__(self):
        call, self.call = self.call, None
        if call is not None and call[0].cancel():
            # Wakes concurrent.futures.wait() and as_completed() too.
            call[0].set_running_or_notify_cancel()


# The futures of a PoolExecutor run as jobs (pmt_pool_execute_full()):
# a task object to make, wrap, hand over and let go would cost more than
# the rest of a future together.  Called directly, a job's data is the
# key of its call in _job_calls, taken out by the job, or by the job's
# notify when the job was dropped (the notify runs after the job or
# instead of it); a call let go without having run cancels its future.

_job_calls = {}                 # key -> _FutureCall
_job_keys = itertools.count(1)


def _run_job(key) -> None:
    call = _job_calls.pop(key, None)
    if call is not None:
        call()


def _drop_job(key) -> None:
    _job_calls.pop(key, None)


if _direct_calls is not None:
    _run_job_func = _JobFunc(_run_job)
    _drop_job_func = _JobFunc(_drop_job)

    def _execute_call(pool, priority: int, call: _FutureCall) -> None:
        key = next(_job_keys)
        _job_calls[key] = call
        if not _direct_execute(hash(pool), priority, _run_job_func, key, _drop_job_func, None):
            # Dropped already, but still held here: this raises the error.
            Pmt.Pool.execute_full(pool, priority, call)
else:
    def _execute_call(pool, priority: int, call: _FutureCall) -> None:
        Pmt.Pool.execute_full(pool, priority, call)


# Workers, completion queues, limiters ----------------------------------------

class Worker(Pmt.Worker):
    """One thread with its own queue (PyMultiTasking's ``ThreadWorker``)."""

    def push(self, task) -> bool:
        """Queues ``task`` on the worker, starting its thread if needed;
        raises GLib.Error when the worker is stopped."""
        # The thread may not have started when the interpreter exits:
        # until it does, exit knows the worker from here.
        _pushed_workers.add(self)
        try:
            return Pmt.Worker.push(self, task)
        except BaseException:
            _pushed_workers.discard(self)
            raise

    def join(self, timeout: Optional[float] = None) -> bool:
        """Waits up to ``timeout`` seconds for the worker to stop (after
        stop() or kill()) and for its thread to exit."""
        if _current_worker() == self:
            raise RuntimeError('a worker cannot join itself')
        return bool(_wait_sliced(lambda usec: Pmt.Worker.join(self, usec), timeout))

    def __repr__(self) -> str:
        return '<Pmt.Worker name=%r state=%s>' % (self.get_name(), self.get_state().value_nick)


Worker = override(Worker)
ThreadWorker = Worker
__all__ += ['Worker', 'ThreadWorker']


class CompletionQueue(Pmt.CompletionQueue):
    """Hands back the tasks added to it as they are done; iterating it
    yields each pending one, blocking in between."""

    def next(self, timeout: Optional[float] = None) -> Optional[Task]:
        """The next done task, waiting up to ``timeout`` seconds; None on
        timeout."""
        return _wait_sliced(lambda usec: Pmt.CompletionQueue.next(self, usec), timeout)

    def __iter__(self) -> Iterator[Task]:
        while self.get_n_pending() > 0:
            task = self.next()
            if task is not None:
                yield task


CompletionQueue = override(CompletionQueue)
__all__.append('CompletionQueue')


class Limiter(Pmt.Limiter):
    """How many at once (PyMultiTasking's ``@Limiter``): a counting
    semaphore, a context manager and a decorator.

    ``@Limiter(n)`` runs each call of the function under the limiter in
    the calling thread; over ``@Threaded`` the call waits for the limiter
    and its task releases it.  ``@Limiter(n, blocking=False)`` over
    ``@Threaded`` lets each task wait for the limiter in its worker, so the
    calls return at once; over another function it passes the limiter as
    ``_task_semaphore=``.
    """

    def __init__(self, num: int = 1, blocking: bool = True, **properties):
        if isinstance(num, bool) or not isinstance(num, int) or num < 1:
            raise ValueError('a limiter allows at least 1, not %r' % (num,))
        super().__init__(limit=num, **properties)
        self.blocking = bool(blocking)

    def acquire(self, timeout: Optional[float] = None,
                cancellable: Optional[Gio.Cancellable] = None) -> bool:
        """Takes one slot, waiting up to ``timeout`` seconds; returns False
        on timeout.  Raises GLib.Error when ``cancellable`` is cancelled."""
        return bool(_wait_sliced(lambda usec: _acquire_limiter(self, usec, cancellable), timeout))

    def run(self, func: Callable[..., Any], *args, timeout: Optional[float] = None,
            cancellable: Optional[Gio.Cancellable] = None, **kwargs) -> Any:
        """Returns ``func(*args, **kwargs)`` run under the limiter; raises
        ``concurrent.futures.TimeoutError`` if no slot came in time."""
        if not self.acquire(timeout, cancellable):
            raise concurrent.futures.TimeoutError()
        try:
            return func(*args, **kwargs)
        finally:
            self.release()

    def __enter__(self) -> 'Limiter':
        self.acquire()
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()

    def __call__(self, func: Callable) -> Callable:
        if isinstance(func, _DecoratedFunction):
            func._set_limiter(self, self.blocking)
            return func
        _check_callable(func, 'the decorated object')
        limiter = self
        if self.blocking:
            @functools.wraps(func)
            def limited(*args, **kwargs):
                with limiter:
                    return func(*args, **kwargs)
        else:
            @functools.wraps(func)
            def limited(*args, **kwargs):
                return func(*args, _task_semaphore=limiter, **kwargs)
        return limited

    def __repr__(self) -> str:
        return '<Pmt.Limiter %d/%d available>' % (self.get_available(), self.get_limit())


Limiter = override(Limiter)
__all__.append('Limiter')


# The decorators --------------------------------------------------------------

# Tasks of @Threaded and @Processed calls, until they run: their worker's
# thread may not have started yet, so interpreter exit waits for them by
# name.
_pending_thread_tasks = set()

_CALL_TASK_OPTIONS = frozenset(('store_return', 'callback_func'))


def _seconds_to_usec_property(value) -> int:
    return -1 if value is None or value < 0 else _usec(value)


def _split_options(kind: str, options: dict) -> Tuple[dict, dict, dict]:
    """PyMultiTasking's ``_task_<kw>``, ``_worker_<kw>`` and ``_pool_<kw>``
    keywords, by prefix."""
    split = {'task': {}, 'worker': {}, 'pool': {}}
    for key, value in options.items():
        prefix, _, name = key[1:].partition('_')
        if not key.startswith('_') or prefix not in split or not name:
            raise TypeError('unknown %s keyword %r' % (kind, key))
        split[prefix][name] = value
    return split['task'], split['worker'], split['pool']


def _idle_timeout_usec(kind: str, prefix: str, options: dict) -> Optional[int]:
    """The idle timeout the ``workerAutoKill``/``timeout``/``idle_timeout``
    keywords ask for (seconds in, microseconds out), or None."""
    usec = None
    for key in ('workerAutoKill', 'timeout', 'idle_timeout'):
        if key not in options:
            continue
        value = options.pop(key)
        if key == 'workerAutoKill':
            usec = -1 if not value else 15 * 1000 * 1000
        else:
            usec = _seconds_to_usec_property(value)
    return usec


def _pool_options(kind: str, options: dict) -> dict:
    """``_pool_<kw>`` keywords as pool settings: max_workers, min_workers,
    idle_timeout (microseconds)."""
    settings = {}
    for names, setting in ((('maxWorkers', 'max_workers'), 'max_workers'),
                           (('prepopulate', 'min_workers'), 'min_workers')):
        for name in names:
            if name in options:
                settings[setting] = int(options.pop(name))
    usec = _idle_timeout_usec(kind, 'pool', options)
    if usec is not None:
        settings['idle_timeout'] = usec
    if options:
        raise TypeError('unknown %s keyword _pool_%s' % (kind, next(iter(options))))
    return settings


class _DecoratedFunction:
    """What ``@Threaded`` and ``@Processed`` make of a function: each call
    returns a :class:`Pmt.Task` at once, and the function runs elsewhere.
    Subclasses say where (``_start()``)."""

    _kind = '@Threaded'
    _process = False

    def _setup(self, func: Callable, callback_func: Optional[Callable], task_options: dict):
        _check_callable(func, 'the decorated object')
        if callback_func is not None:
            _check_callable(callback_func, 'callback_func')
        functools.update_wrapper(self, func)
        self._func = func
        self._callback = callback_func
        self._store = bool(task_options.pop('store_return', True))
        self._priority = _check_priority(task_options.pop('priority', DEFAULT_PRIORITY))
        self._inject = bool(task_options.pop('inject_task', True)) and _wants_task(func)
        if task_options:
            raise TypeError('unknown %s keyword _task_%s' % (self._kind, next(iter(task_options))))
        if self._inject and self._process:
            raise TypeError('a function run in a child process cannot take TaskObject: '
                            'its task stays in this process')
        self._limiter = None

    def _set_limiter(self, limiter: Limiter, blocking: bool) -> None:
        # Blocking: acquired here, in Python, so that Ctrl-C interrupts the
        # wait; the task releases it when done, whatever its end.
        if blocking:
            self._limiter = limiter
        else:
            self._set_task_limiter(limiter)

    def _take_call_options(self, kwargs: dict) -> Tuple[bool, Optional[Callable]]:
        store, callback = self._store, self._callback
        if not kwargs:
            return store, callback
        for key in [key for key in kwargs if key.startswith('_task_')]:
            name = key[len('_task_'):]
            if name not in _CALL_TASK_OPTIONS:
                raise TypeError('%s cannot be given per call of a %s function '
                                '(use @Limiter(n, blocking=False) over %s for '
                                '_task_semaphore)' % (key, self._kind, self._kind))
            value = kwargs.pop(key)
            if name == 'store_return':
                store = bool(value)
            else:
                callback = value
        return store, callback

    def __call__(self, *args, **kwargs) -> Task:
        store, callback = self._take_call_options(kwargs)
        call = _Call(self._call_target(), args, kwargs, self._inject, callback, store,
                     process=self._process)
        limiter = self._limiter
        if limiter is not None and not limiter.acquire():
            raise concurrent.futures.TimeoutError()
        try:
            task = self._start(call)
        except BaseException:
            if limiter is not None:
                limiter.release()
            raise
        if limiter is not None:
            _on_done(task, lambda done: limiter.release())
        # A pool is joined at exit, but a worker's thread may not have
        # started yet: exit waits for the task by name.  The task leaves
        # the set when it ends, however it ends: its worker may have run
        # it already, or may cancel it without running it.
        if not self._to_pool:
            _pending_thread_tasks.add(task)
            _on_done(task, _pending_thread_tasks.discard)
        return task

    def _call_target(self) -> Callable:
        return self._func

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        return types.MethodType(self, instance)


class ThreadedFunction(_DecoratedFunction):
    """A function made threaded by ``@Pmt.Threaded``: each call returns a
    :class:`Pmt.Task` at once and runs the function on another thread."""

    def __init__(self, func: Callable, daemon=False, pool=False, pool_name: Optional[str] = None,
                 callback_func: Optional[Callable] = None, **options):
        pool_name = options.pop('_pool_name', pool_name)
        task_options, worker_options, pool_options = _split_options(self._kind, options)
        self._setup(func, callback_func, task_options)
        self._threaded = threaded = Pmt.Threaded.new(_run_valued_task)
        threaded.set_priority(self._priority)
        self._apply_worker_pool_options(worker_options, pool_options)
        self._set_target(daemon, pool, pool_name)
        self._mode = threaded.get_mode()
        self._to_pool = self._mode == Pmt.ThreadedMode.POOL
        self._task_limiter = None
        # The pool or daemon worker the last call went to.
        self._last_target = None

    def _apply_worker_pool_options(self, worker_options: dict, pool_options: dict) -> None:
        usec = _idle_timeout_usec(self._kind, 'worker', worker_options)
        if worker_options:
            raise TypeError('unknown %s keyword _worker_%s' % (self._kind, next(iter(worker_options))))
        if usec is not None:
            self._threaded.set_property('worker-idle-timeout', usec)
        for setting, value in _pool_options(self._kind, pool_options).items():
            self._threaded.set_property('pool-' + setting.replace('_', '-'), value)

    def _set_target(self, daemon, pool, pool_name) -> None:
        threaded = self._threaded
        if isinstance(daemon, Pmt.Worker):
            threaded.set_worker(daemon)
        elif daemon:
            threaded.set_mode(Pmt.ThreadedMode.DAEMON)
        elif isinstance(pool, Pmt.Pool):
            threaded.set_pool(pool)
        elif pool_name is not None:
            threaded.set_pool_name(str(pool_name))
        elif pool:
            threaded.set_mode(Pmt.ThreadedMode.POOL)
        else:
            threaded.set_mode(Pmt.ThreadedMode.THREAD)

    def _set_task_limiter(self, limiter: Limiter) -> None:
        self._threaded.set_limiter(limiter, False)
        self._task_limiter = limiter

    def _start(self, call: _Call) -> Task:
        # pmt_threaded_call_value() finds the pool or the daemon worker,
        # made again if it stopped; while the last one goes on taking
        # tasks, calls go straight to it: the C call, which releases the
        # GIL, and the GValue would cost a handover of the GIL per call.
        target = self._last_target
        if target is not None:
            task = _new_task(call, self._priority)
            if self._task_limiter is not None:
                task.set_limiter(self._task_limiter)
            if _try_push(target, task):
                return task
            self._last_target = None
        task = self._threaded.call_value(call)
        if self._mode == Pmt.ThreadedMode.POOL:
            self._last_target = self._threaded.dup_pool()
        elif self._mode == Pmt.ThreadedMode.DAEMON:
            self._last_target = self._threaded.dup_worker()
        return task

    @property
    def threaded(self) -> 'Threaded':
        """The C :class:`Pmt.Threaded` behind the function, to look at:
        the decorator's keywords set it up, and calls bypass it while
        their pool or worker takes them."""
        return self._threaded

    @property
    def pool(self) -> Optional[Pool]:
        """The pool the calls go to, when there is one yet."""
        return self._threaded.dup_pool()

    @property
    def worker(self) -> Optional[Worker]:
        """The daemon worker, when there is one yet."""
        return self._threaded.dup_worker()

    def __repr__(self) -> str:
        return '<Pmt.Threaded function %s mode=%s>' % (
            getattr(self, '__qualname__', self._func), self._threaded.get_mode().value_nick)


__all__.append('ThreadedFunction')


class Threaded(Pmt.Threaded):
    """PyMultiTasking's ``@Threaded`` decorator: ``@Pmt.Threaded`` or
    ``@Pmt.Threaded(daemon=True | pool=True | pool_name='…',
    callback_func=…, _task_<kw>=…, _worker_<kw>=…, _pool_<kw>=…)``.

    Each call of the decorated function returns a :class:`Pmt.Task`: on a
    new thread per call (the default), on one persistent worker
    (``daemon=True``, or a given :class:`Pmt.Worker`), or on a pool
    (``pool=True`` for a private one, ``pool_name`` for the registered pool
    of that name, made on first use, or a given :class:`Pmt.Pool`).
    ``callback_func`` receives the result in the worker.  ``_task_``
    keywords: ``store_return``, ``priority``, ``inject_task``; ``_pool_``:
    ``maxWorkers``, ``prepopulate``, ``workerAutoKill``, ``idle_timeout``;
    ``_worker_``: ``workerAutoKill``, ``timeout`` (idle seconds).

    ``Pmt.Threaded.new(func)`` still makes the C object.
    """

    def __new__(cls, func: Optional[Callable] = None, /, **options):
        if func is None:
            return functools.partial(ThreadedFunction, **options)
        return ThreadedFunction(func, **options)

    @classmethod
    def new(cls, func: Callable, *user_data) -> 'Threaded':
        """The C object, calling ``func(task, *user_data)``."""
        return Pmt.Threaded.new(_guard_task_func(func), *user_data)


Threaded = override(Threaded)
__all__.append('Threaded')


# Process pools ---------------------------------------------------------------
#
# A process pool is a pool of worker threads each of which owns one
# long-lived child process (gi/overrides/_pmt_process.py): a task's
# function, pickled with its arguments, runs in the child of the worker
# thread that took the task, and its result or exception comes back the
# same way.  The task itself stays here, with everything a task has:
# priority, limiter, callbacks (run here), waits, futures, await.
# Cancelling a running process task terminates its child; the worker
# starts a fresh one for its next task.

_process_children = {}      # hash of the worker (or thread) -> its _pmt_process.Child


def _keep_class(wrapper) -> None:
    # PmtPool and PmtWorker are final: ProcessPool and ProcessWorker are
    # Python classes of the same GTypes.  An attribute makes PyGObject keep
    # the wrapper, of that class, as long as its object lives (a toggle
    # reference): what C hands back later, from the registry or a task,
    # is this same object.
    wrapper._pmt_keeps_class = True


def _child_key() -> int:
    worker = _current_worker()
    return hash(worker) if worker is not None else -threading.get_ident()


def _stop_process_child(key: int) -> None:
    child = _process_children.pop(key, None)
    if child is not None:
        child.stop()


def _pickle_call(fn, args, kwargs) -> bytes:
    try:
        return pickle.dumps((fn, args, kwargs), pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        try:
            pickle.dumps(fn, pickle.HIGHEST_PROTOCOL)
        except Exception:
            what = ('the function %r (a function run in a child process must be importable: '
                    'defined at module level, not a lambda or a nested function)' % (fn,))
        else:
            what = 'the arguments of %r' % (fn,)
        raise pickle.PicklingError('cannot send %s to the child process: %s: %s'
                                   % (what, type(exc).__name__, exc)) from exc


def _run_in_child(task, fn, args, kwargs) -> Any:
    """Runs ``fn(*args, **kwargs)`` in the child process of this worker
    thread, started if needed; raises CancelledError when the task was
    cancelled meanwhile (the child is gone then)."""
    payload = _pickle_call(fn, args, kwargs)
    key = _child_key()
    child = _process_children.get(key)
    if child is None or not child.alive():
        if child is not None:
            _stop_process_child(key)
        child = _process_children[key] = _pmt_process.Child()
    cancellable = task.get_cancellable()
    fd = cancellable.get_fd()
    try:
        outcome = child.call(payload, fd)
    except _pmt_process._Cancelled:
        _process_children.pop(key, None)
        raise concurrent.futures.CancelledError() from None
    except _pmt_process.ChildProcessDied:
        _process_children.pop(key, None)
        raise
    finally:
        cancellable.release_fd()
    return _pmt_process.outcome_value(outcome)


class ProcessPool(Pool):
    """A pool whose tasks run their function in child processes, one
    long-lived child per worker (PyMultiTasking's ``ProcessPool``).

    The same API and keywords as :class:`ThreadPool`, and the same
    :class:`Pmt.Task`.  Functions and their arguments and results cross by
    pickling: a function must be importable (module level), and a script
    needs an ``if __name__ == '__main__':`` guard, since each child imports
    the main module again (multiprocessing's "spawn").  Cancelling a running
    task terminates its child (SIGTERM, SIGKILL after 0.5 s).  A function
    cannot take ``TaskObject``.
    """

    _process_calls = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _keep_class(self)

    def executor(self) -> 'PoolExecutor':
        """A ``concurrent.futures.Executor`` whose calls run in this pool's
        child processes."""
        return _ProcessPoolExecutor(self)

    def __repr__(self) -> str:
        return Pool.__repr__(self).replace('<Pmt.Pool ', '<Pmt.ProcessPool ', 1)


__all__.append('ProcessPool')


class _TaskFuture(concurrent.futures.Future):
    """The future of a process pool's executor: settled by its task."""

    def __init__(self, task):
        super().__init__()
        self._task = task

    def cancel(self) -> bool:
        task = self._task
        if task is not None and not self.running() and not self.done():
            task.cancel()
        return super().cancel()


def _settle_task_future(future, task) -> None:
    future._task = None
    state = task.get_state()
    if state == _TaskState.CANCELLED:
        if future.cancel():
            future.set_running_or_notify_cancel()
    elif future.set_running_or_notify_cancel():
        if state == _TaskState.SUCCEEDED:
            future.set_result(task._result_value())
        else:
            future.set_exception(task._failure())


class _ProcessPoolExecutor(PoolExecutor):
    def submit(self, fn, /, *args, **kwargs) -> concurrent.futures.Future:
        try:
            task = self._pool.submit(fn, *args, submit_task_priority=self._priority, **kwargs)
        except GLib.Error as error:
            raise RuntimeError('cannot schedule new futures: %s' % error.message) from error
        future = _TaskFuture(task)
        task.add_done_callback(functools.partial(_settle_task_future, future))
        return future


class ProcessWorker(Worker):
    """One thread with one child process, running calls in order
    (PyMultiTasking's ``ProcessWorker``).  :meth:`kill` kills the child at
    once."""

    def __init__(self, **properties):
        super().__init__(**properties)
        _keep_class(self)

    def submit(self, fn: Callable[..., Any], /, *args, **kwargs) -> Task:
        """Runs ``fn(*args, **kwargs)`` in the worker's child process; takes
        ``submit_task_priority`` like :meth:`Pool.submit`."""
        _check_callable(fn)
        priority = _pop_submit_options(kwargs)
        task = _new_task(_Call(fn, args, kwargs, _process_inject(fn, True), process=True),
                         priority)
        self.push(task)
        return task

    def kill(self) -> None:
        """Stops the worker and kills the child running its task with
        SIGKILL; the task ends cancelled."""
        child = _process_children.get(hash(self))
        if child is not None:
            child.kill_now = True
        Pmt.Worker.kill(self)

    def __repr__(self) -> str:
        return Worker.__repr__(self).replace('<Pmt.Worker ', '<Pmt.ProcessWorker ', 1)


__all__.append('ProcessWorker')


class ProcessedFunction(_DecoratedFunction):
    """A function made multi-process by ``@Pmt.Processed``: each call
    returns a :class:`Pmt.Task` at once and runs the function in a child
    process."""

    _kind = '@Processed'
    _process = True

    def __init__(self, func: Callable, daemon=False, pool=False, pool_name: Optional[str] = None,
                 callback_func: Optional[Callable] = None, **options):
        pool_name = options.pop('_pool_name', pool_name)
        task_options, worker_options, pool_options = _split_options(self._kind, options)
        self._setup(func, callback_func, task_options)
        self._worker_idle_usec = _idle_timeout_usec(self._kind, 'worker', worker_options)
        if worker_options:
            raise TypeError('unknown %s keyword _worker_%s' % (self._kind, next(iter(worker_options))))
        self._pool_settings = _pool_options(self._kind, pool_options)
        self._task_limiter = None
        self._lock = threading.Lock()
        self._worker = daemon if isinstance(daemon, Pmt.Worker) else None
        self._pool = pool if isinstance(pool, Pmt.Pool) else None
        self._pool_name = None if pool_name is None else str(pool_name)
        if self._worker is not None or daemon:
            self._mode = 'daemon'
        elif self._pool is not None or self._pool_name is not None or pool:
            self._mode = 'pool'
        else:
            self._mode = 'thread'
        self._to_pool = self._mode == 'pool'

    def __reduce__(self):
        # What a child receives: the function behind the decorator, found
        # by name there (pickle would refuse the function itself, which is
        # not what its module's attribute holds).
        return (_pmt_process.undecorated, (self.__module__, self.__qualname__))

    def _call_target(self) -> Callable:
        return self

    def _set_task_limiter(self, limiter: Limiter) -> None:
        self._task_limiter = limiter

    def _new_worker(self) -> ProcessWorker:
        worker = ProcessWorker()
        if self._worker_idle_usec is not None:
            worker.set_idle_timeout(self._worker_idle_usec)
        return worker

    def _new_pool(self) -> ProcessPool:
        settings = dict(self._pool_settings)
        idle = settings.pop('idle_timeout', None)
        pool = ProcessPool(settings.pop('max_workers', None), name=self._pool_name,
                           prepopulate=settings.pop('min_workers', 0))
        if idle is not None:
            pool.set_idle_timeout(idle)
        return pool

    def _named_pool(self) -> ProcessPool:
        for _ in range(2):
            pool = Pmt.Pool.lookup(self._pool_name)
            if pool is not None:
                break
            try:
                return self._new_pool()
            except GLib.Error as error:
                if not error.matches(Pmt.error_quark(), Pmt.Error.NAME_IN_USE):
                    raise
        if not isinstance(pool, ProcessPool):
            raise TypeError('the pool named %r is not a Pmt.ProcessPool' % self._pool_name)
        return pool

    def _target(self):
        """Where the next call goes: a worker or a pool, made or made again
        when needed."""
        with self._lock:
            if self._mode == 'thread':
                worker = self._new_worker()
                worker.set_idle_timeout(0)
                return worker
            if self._mode == 'daemon':
                if self._worker is None or self._worker.get_state() >= Pmt.WorkerState.STOPPING:
                    self._worker = self._new_worker()
                return self._worker
            if self._pool_name is not None:
                return self._named_pool()
            if self._pool is None or self._pool.get_state() >= Pmt.PoolState.STOPPING:
                self._pool = self._new_pool()
            return self._pool

    def _start(self, call: _Call) -> Task:
        task = _new_task(call, self._priority)
        if self._task_limiter is not None:
            task.set_limiter(self._task_limiter)
        target = self._target()
        if isinstance(target, Pmt.Pool):
            _push_task(target, task)
        else:
            target.push(task)
        return task

    @property
    def pool(self) -> Optional[ProcessPool]:
        """The pool the calls go to, when there is one yet."""
        return Pmt.Pool.lookup(self._pool_name) if self._pool_name is not None else self._pool

    @property
    def worker(self) -> Optional[ProcessWorker]:
        """The daemon worker, when there is one yet."""
        return self._worker

    def __repr__(self) -> str:
        return '<Pmt.Processed function %s mode=%s>' % (
            getattr(self, '__qualname__', self._func), self._mode)


__all__.append('ProcessedFunction')


def Processed(func: Optional[Callable] = None, /, **options):
    """The ``@Processed`` decorator: ``@Threaded`` with the function run in
    a child process — a new worker and child per call (the default), one
    persistent child (``daemon=True``), a private :class:`ProcessPool`
    (``pool=True``), the registered process pool named ``pool_name`` (made
    on first use), or a given pool.  Takes ``callback_func`` (run here),
    and the ``_task_``/``_worker_``/``_pool_`` keywords of ``@Threaded``;
    the function must be importable and cannot take ``TaskObject``."""
    if func is None:
        return functools.partial(ProcessedFunction, **options)
    return ProcessedFunction(func, **options)


__all__.append('Processed')


# Interpreter exit ------------------------------------------------------------
#
# As concurrent.futures does, the work is waited for before the
# interpreter tears down (threading's atexit runs before that): pools are
# joined, standalone and daemon workers drained and stopped.  Afterwards
# no Pmt thread runs Python.

def _drain_worker(worker) -> None:
    marker = Pmt.Task.new(_guard_task_func(lambda task: None))
    try:
        Pmt.Worker.push(worker, marker)
    except GLib.Error:
        pass
    else:
        marker.wait()
    Pmt.Worker.stop(worker)
    worker.join()


def _join_at_exit() -> None:
    # At least once: a pool's first thread may not have started yet.
    while True:
        for task in list(_pending_thread_tasks):
            task.wait()
            _pending_thread_tasks.discard(task)
        _wait_sliced(Pmt.Pool.join_all, None)
        if not (_pending_thread_tasks or _live_workers or _pushed_workers):
            break
        for worker in list(_live_workers.values()) + list(_pushed_workers):
            pool = worker.get_pool()
            if pool is None:
                _drain_worker(worker)
                _pushed_workers.discard(worker)
            else:
                _wait_sliced(lambda usec: Pmt.Pool.join(pool, usec), None)
    for name, hook_id in _emission_hooks:
        GObject.signal_remove_emission_hook(GObject.signal_lookup(name, Pmt.Worker), hook_id)
    _emission_hooks.clear()


threading._register_atexit(_join_at_exit)
