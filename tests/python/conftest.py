# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared fixtures of the override tests."""

import gc
import threading
import time
import weakref

import gi
gi.require_version('Pmt', '1.0')
from gi.repository import GObject, Pmt  # noqa: E402

import pytest  # noqa: E402

#: Generous bound for things that must happen "soon" (a loaded CI machine).
SAFETY = 30.0


@pytest.fixture
def pool():
    """A two-worker pool, joined after the test."""
    pool = Pmt.Pool(2)
    yield pool
    assert pool.join(SAFETY)


def wait_until(predicate, timeout=SAFETY):
    """Waits for ``predicate()`` to be true; for states that show up
    asynchronously (a finalized object, a thread gone)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        gc.collect()
        time.sleep(0.01)
    return True


def wait_cancelled(task, timeout=SAFETY):
    """Waits, in a task function, for ``task``'s cancellable to fire."""
    cancellable = task.get_cancellable()
    fired = threading.Event()
    # GObject's connect: Gio.Cancellable has a connect() of its own.
    handler = GObject.Object.connect(cancellable, 'cancelled', lambda *unused: fired.set())
    try:
        return cancellable.is_cancelled() or fired.wait(timeout)
    finally:
        GObject.Object.disconnect(cancellable, handler)


def assert_freed(ref: weakref.ref, what='object'):
    """Asserts that the object behind ``ref`` goes away (its last C
    reference may be dropped by a worker a moment after a wait returns)."""
    assert wait_until(lambda: ref() is None), '%s was not freed' % what


class Gate:
    """Holds task functions until opened."""

    def __init__(self):
        self.opened = threading.Event()
        self.entered = threading.Semaphore(0)

    def __call__(self, *args, **kwargs):
        self.entered.release()
        assert self.opened.wait(SAFETY)
        return args

    def wait_entered(self, n=1):
        for _ in range(n):
            assert self.entered.acquire(timeout=SAFETY)

    def open(self):
        self.opened.set()
