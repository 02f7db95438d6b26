#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A benchmark, not a test: it prints one table of what the Python overrides
# cost per task next to concurrent.futures.ThreadPoolExecutor, measured in
# the same run, and exits 0 whatever the figures are (non-zero only when a
# task failed or went missing).
#
# Workloads: N no-op tasks, and N tasks that each sleep 1 ms.  Contenders,
# all on the same number of worker threads: Pmt's Pool.submit, Pool.map,
# a @Threaded(pool_name=...) function and pool.executor(), against
# ThreadPoolExecutor.  Each timing covers submitting the N tasks, waiting
# for every one in submission order and freeing them; the pools and the
# executors are made, and their threads started, before it.  The
# contenders run in turn, in an order that rotates each round; the table
# gives the median and the range of the rounds.
#
# Run it against a build tree (a release build for figures):
#   meson devenv -C _build-rel /usr/bin/python3 tests/bench/bench.py
# `--quick` is the smoke run of the test suite (meson test bench-python).
#
# A second table is about process pools: 16 calls of a CPU-bound pure
# Python function (about 0.2 s each) on 2 workers, Pmt's ProcessPool
# against its ThreadPool (which the GIL serialises) and
# concurrent.futures.ProcessPoolExecutor; the round trip of a no-op call
# to one child; and how soon cancelling a running process task frees its
# worker.  `--no-processes` skips it.

"""Pmt's Python overrides against concurrent.futures.ThreadPoolExecutor."""

import argparse
import concurrent.futures
import gc
import multiprocessing
import os
import platform
import statistics
import sys
import time

import gi
gi.require_version('GLib', '2.0')
gi.require_version('Pmt', '1.0')
from gi.repository import GLib, Pmt  # noqa: E402

THREADED_POOL_NAME = 'bench-threaded'
MEMORY_ROUNDS = 10


def noop():
    return None


def sleep_1ms():
    time.sleep(0.001)


# Process workloads: module-level functions, which a child imports by
# reference (this module is the child's __mp_main__).

def spin(count):
    """Pure-Python CPU work: holds the GIL all along."""
    total = 0
    for i in range(count):
        total += i * i
    return total


def sleep_long(seconds):
    time.sleep(seconds)


WORKLOADS = [
    ('no-op tasks', noop),
    ('tasks sleeping 1 ms', sleep_1ms),
]


# Contenders: each submits n calls of fn and waits for each, returning what
# it waited on (tasks or futures), so that their outcome is checked (and
# their memory freed) after the clock stopped.

class PmtSubmit:
    label = 'Pmt Pool.submit + Task.wait'

    def __init__(self, workers):
        self.pool = Pmt.ThreadPool(maxWorkers=workers, prepopulate=workers)

    def run(self, fn, n):
        submit = self.pool.submit
        tasks = [submit(fn) for _ in range(n)]
        for task in tasks:
            task.wait()
        return tasks

    def close(self):
        self.pool.join()


class PmtMap(PmtSubmit):
    label = 'Pmt Pool.map + Task.wait'

    def run(self, fn, n):
        tasks = self.pool.map(fn, [((), {})] * n)
        for task in tasks:
            task.wait()
        return tasks


class PmtThreaded:
    label = 'Pmt @Threaded(pool_name) + wait'

    def __init__(self, workers):
        options = dict(pool_name=THREADED_POOL_NAME, _pool_maxWorkers=workers,
                       _pool_prepopulate=workers)
        self.functions = {fn: Pmt.Threaded(**options)(fn) for _, fn in WORKLOADS}
        # The pool is made, and its workers started, by the first call.
        self.functions[noop]().wait()
        self.pool = Pmt.Pool.get_pool_by_name(THREADED_POOL_NAME)

    def run(self, fn, n):
        threaded = self.functions[fn]
        tasks = [threaded() for _ in range(n)]
        for task in tasks:
            task.wait()
        return tasks

    def close(self):
        self.pool.join()


class PmtExecutor:
    label = 'Pmt pool.executor() submit + result'

    def __init__(self, workers):
        self.executor = Pmt.ThreadPool(maxWorkers=workers, prepopulate=workers).executor()

    def run(self, fn, n):
        submit = self.executor.submit
        futures = [submit(fn) for _ in range(n)]
        for future in futures:
            future.result()
        return futures

    def close(self):
        self.executor.shutdown()


class Baseline(PmtExecutor):
    label = 'ThreadPoolExecutor submit + result'

    def __init__(self, workers):
        self.executor = concurrent.futures.ThreadPoolExecutor(max_workers=workers)


CONTENDERS = [PmtSubmit, PmtMap, PmtThreaded, PmtExecutor, Baseline]


def check(outcomes, n):
    """Raises unless every one of the n tasks or futures succeeded."""
    if len(outcomes) != n:
        raise AssertionError('%d outcomes for %d tasks' % (len(outcomes), n))
    for outcome in outcomes:
        if not outcome.done() or outcome.exception() is not None:
            raise AssertionError('%r did not succeed' % (outcome,))


def measure(contender, fn, n):
    """Seconds to submit, wait for and free n calls of fn."""
    gc.collect()
    start = time.perf_counter()
    outcomes = contender.run(fn, n)
    ran = time.perf_counter() - start
    check(outcomes, n)
    start = time.perf_counter()
    del outcomes
    return ran + time.perf_counter() - start


def rss_kib():
    with open('/proc/self/status') as status:
        for line in status:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


def machine_facts(workers):
    cpus = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else cpus
    overrides = sys.modules.get('gi.overrides.Pmt')
    direct = getattr(overrides, '_direct_calls', None) is not None
    return [
        'machine: %s CPUs (%d usable), %s %s; load average %.2f' % (
            cpus, usable, platform.system(), platform.machine(), os.getloadavg()[0]),
        'Python %s (%s), PyGObject %s, GLib %d.%d.%d, Pmt %d.%d.%d; '
        'direct calls (ctypes, holding the GIL): %s' % (
            platform.python_version(), sys.executable, gi.__version__,
            GLib.MAJOR_VERSION, GLib.MINOR_VERSION, GLib.MICRO_VERSION,
            Pmt.get_major_version(), Pmt.get_minor_version(), Pmt.get_micro_version(),
            'yes' if direct else 'no'),
        '%d worker threads for every contender' % workers,
    ]


# Process pools ----------------------------------------------------------------

def calibrate_spin(seconds):
    """The count for which spin() takes about ``seconds`` here."""
    count = 200000
    while True:
        start = time.perf_counter()
        spin(count)
        took = time.perf_counter() - start
        if took > 0.05:
            return max(1, int(count * seconds / took))
        count *= 4


class ProcessContender:
    """submit + result of ``calls`` spin() calls, the pool made (and, after
    the warm-up, its children started) outside the timed region."""

    def __init__(self, label, make, close):
        self.label = label
        self.executor = make()
        self.close = lambda: close(self.executor)

    def run(self, count, calls):
        futures = [self.executor.submit(spin, count) for _ in range(calls)]
        expected = spin(0)
        for future in futures:
            if future.result() is None or (count == 0 and future.result() != expected):
                raise AssertionError('spin() returned nothing')
        return futures


def pmt_pool_as_executor(pool):
    """A Pmt pool wrapped with the executor's submit signature, but calling
    Pool.submit and Task.result (the seed's API), not the executor."""
    class Submitting:
        def submit(self, fn, *args):
            return pool.submit(fn, *args)
    submitting = Submitting()
    submitting.pool = pool
    return submitting


def spawning_executor(workers):
    """A ProcessPoolExecutor starting its children as Pmt does: by spawn.
    (Its default on Linux, fork, copies a parent whose other threads may
    hold locks, and its children then hang: here, in the first table's
    worker threads.)"""
    return concurrent.futures.ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context('spawn'))


def process_contenders(workers):
    return [
        ProcessContender('Pmt ProcessPool.submit + result',
                         lambda: pmt_pool_as_executor(Pmt.ProcessPool(maxWorkers=workers)),
                         lambda e: e.pool.join()),
        ProcessContender('Pmt ThreadPool.submit + result',
                         lambda: pmt_pool_as_executor(Pmt.ThreadPool(maxWorkers=workers)),
                         lambda e: e.pool.join()),
        ProcessContender('ProcessPoolExecutor submit + result',
                         lambda: spawning_executor(workers),
                         lambda e: e.shutdown()),
    ]


def time_cpu_calls(contenders, count, calls, rounds):
    """Per contender: the seconds each round took for ``calls`` calls."""
    for contender in contenders:
        contender.run(0, 2 * calls)        # children started, code warm
    times = [[] for _ in contenders]
    for round_ in range(rounds):
        order = list(range(len(contenders)))
        order = order[round_ % len(order):] + order[:round_ % len(order)]
        for c in order:
            start = time.perf_counter()
            contenders[c].run(count, calls)
            times[c].append(time.perf_counter() - start)
    return times


def time_round_trips(submit_and_wait, calls, rounds):
    """µs per no-op call made one after the other (median, min, max)."""
    values = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            submit_and_wait()
        values.append((time.perf_counter() - start) / calls * 1e6)
    return values


def time_cancels(rounds):
    """Seconds from cancelling a running task of a one-worker ProcessPool
    to that task's end, and to the result of the next task (its worker
    starts a fresh child for it)."""
    ended, freed = [], []
    pool = Pmt.ProcessPool(maxWorkers=1)
    try:
        for _ in range(rounds):
            task = pool.submit(sleep_long, 60)
            while not task.running():
                if task.wait(0.001):
                    raise AssertionError('the sleeping task ended by itself')
            time.sleep(0.05)            # in the child's time.sleep()
            start = time.perf_counter()
            task.cancel()
            if not task.wait(30):
                raise AssertionError('a cancelled process task did not end')
            ended.append(time.perf_counter() - start)
            if not task.cancelled():
                raise AssertionError('the cancelled task ended %s' % task.get_state())
            pool.submit(noop).result(30)
            freed.append(time.perf_counter() - start)
    finally:
        pool.join()
    return ended, freed


def format_range(values, scale, digits):
    return '%.*f  (%.*f – %.*f)' % (digits, statistics.median(values) * scale,
                                    digits, min(values) * scale,
                                    digits, max(values) * scale)


def bench_processes(args):
    workers = 2
    calls = 4 if args.quick else 16
    seconds = 0.01 if args.quick else 0.2
    rounds = args.rounds
    count = calibrate_spin(seconds)
    print()
    print('Process pools: %d calls of a CPU-bound pure-Python function (%.2f s each here)'
          % (calls, seconds))
    print('on %d workers, median and min–max of %d rounds; children started beforehand.'
          % (workers, rounds))
    contenders = process_contenders(workers)
    try:
        times = time_cpu_calls(contenders, count, calls, rounds)
    finally:
        for contender in contenders:
            contender.close()
    medians = [statistics.median(t) for t in times]
    print('  %-37s %9s %17s %10s %10s' % ('', 's/batch', 'min – max', 'vs Thread', 'vs PPE'))
    for c, contender in enumerate(contenders):
        print('  %-37s %9.2f %8.2f – %-6.2f %10.2f %10.2f' % (
            contender.label, medians[c], min(times[c]), max(times[c]),
            medians[1] / medians[c], medians[2] / medians[c]))
    print('  vs Thread / vs PPE: throughput relative to Pmt ThreadPool / ProcessPoolExecutor.')

    trips = 20 if args.quick else 300
    pool = Pmt.ProcessPool(maxWorkers=1)
    executor = spawning_executor(1)
    try:
        pool.submit(noop).result()
        executor.submit(noop).result()
        pmt_trips = time_round_trips(lambda: pool.submit(noop).result(), trips, rounds)
        ppe_trips = time_round_trips(lambda: executor.submit(noop).result(), trips, rounds)
    finally:
        pool.join()
        executor.shutdown()
    print()
    print('Round trip of a no-op call to one child, %d calls one after the other (µs/call):'
          % trips)
    print('  Pmt ProcessPool.submit + result       %s' % format_range(pmt_trips, 1, 1))
    print('  ProcessPoolExecutor submit + result   %s' % format_range(ppe_trips, 1, 1))
    print('  Pmt / PPE: %.2f× the time per call' % (
        statistics.median(pmt_trips) / statistics.median(ppe_trips)))

    ended, freed = time_cancels(3 if args.quick else rounds)
    print()
    print('Cancelling a running process task (seconds, median and min–max of %d):' % len(ended))
    print('  cancel() to the task\'s end              %s' % format_range(ended, 1, 3))
    print('  cancel() to the next task\'s result      %s' % format_range(freed, 1, 3))
    print('  (the next task runs in a fresh child, started after the old one was reaped)')


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--tasks', type=int, default=None,
                        help='tasks per timing (default 10000; 40 with --quick)')
    parser.add_argument('--workers', type=int, default=2, help='worker threads (default 2)')
    parser.add_argument('--rounds', type=int, default=7,
                        help='rounds, at least 5 (default 7)')
    parser.add_argument('--quick', action='store_true',
                        help='a smoke run with tiny sizes')
    parser.add_argument('--no-processes', action='store_true',
                        help='skip the process pool tables')
    parser.add_argument('--processes-only', action='store_true',
                        help='only the process pool tables')
    args = parser.parse_args(argv)
    if args.tasks is None:
        args.tasks = 40 if args.quick else 10000
    if args.quick:
        args.rounds = min(args.rounds, 5)
    if args.tasks < 1 or args.workers < 1:
        parser.error('--tasks and --workers must be at least 1')
    if args.rounds < 5:
        parser.error('--rounds must be at least 5')
    return args


def main(argv):
    args = parse_args(argv)
    if args.processes_only:
        bench_processes(args)
        return 0
    n, workers, rounds = args.tasks, args.workers, args.rounds

    print('Pmt Python benchmark: %d tasks per timing, median and min–max of %d rounds%s'
          % (n, rounds, ' (--quick: a smoke run, the figures mean nothing)' if args.quick else ''))
    for line in machine_facts(workers):
        print(line)
    print('Pools and executors are made, and their threads started, before the timed region;')
    print('each timing covers submitting the tasks, waiting for each one in order, and')
    print('freeing them.  Contenders alternate, in an order that rotates each round.')

    contenders = [cls(workers) for cls in CONTENDERS]
    try:
        # One untimed pass: every thread started, every code path warm.
        for contender in contenders:
            for _, fn in WORKLOADS:
                measure(contender, fn, min(n, 2 * workers))

        times = {(w, c): [] for w in range(len(WORKLOADS)) for c in range(len(contenders))}
        for round_ in range(rounds):
            order = list(range(len(contenders)))
            order = order[round_ % len(order):] + order[:round_ % len(order)]
            for w, (_, fn) in enumerate(WORKLOADS):
                for c in order:
                    times[w, c].append(measure(contenders[c], fn, n) / n * 1e6)

        baseline = len(contenders) - 1
        for w, (workload, _) in enumerate(WORKLOADS):
            print()
            print('%d %s on %d workers' % (n, workload, workers))
            print('  %-37s %9s %17s %10s' % ('', 'µs/task', 'min – max', 'vs TPE'))
            reference = statistics.median(times[w, baseline])
            for c, contender in enumerate(contenders):
                values = times[w, c]
                median = statistics.median(values)
                ratio = '%.2f' % (reference / median) if c != baseline else '1.00'
                print('  %-37s %9.1f %8.1f – %-6.1f %10s' % (
                    contender.label, median, min(values), max(values), ratio))
        print()
        print('vs TPE: throughput relative to ThreadPoolExecutor in this run (its median')
        print('µs/task over the contender\'s); ≥ 1.0 means Pmt is faster.')

        # Memory: the no-op submit workload again and again.
        submit = contenders[0]
        rss = []
        for _ in range(MEMORY_ROUNDS):
            measure(submit, noop, n)
            gc.collect()
            rss.append(rss_kib())
        print()
        print('RSS after each of %d rounds of %d no-op Pool.submit tasks (after gc.collect()):'
              % (MEMORY_ROUNDS, n))
        print('  first %.1f MiB, last %.1f MiB, max %.1f MiB  [%s]' % (
            rss[0] / 1024, rss[-1] / 1024, max(rss) / 1024,
            ' '.join('%.1f' % (value / 1024) for value in rss)))
    finally:
        for contender in contenders:
            contender.close()
    if not args.no_processes:
        bench_processes(args)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
