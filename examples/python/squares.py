#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Squares on a pool: results in the order they finish, one failure."""
import sys

import gi
gi.require_version('Pmt', '1.0')
from gi.repository import Pmt


def square(n):
    if n == 13:
        raise ValueError(f'{n} is unlucky')
    return n * n


total = failures = 0
with Pmt.ThreadPool(maxWorkers=4, name='squares') as pool:
    tasks = pool.map(square, [((n,), {}) for n in range(1, 21)])
    for task in Pmt.Pool.as_completed(tasks, timeout=30):
        try:
            total += task.results          # re-raises what square() raised
        except ValueError as error:
            failures += 1
            print(f'task {task.get_id()}: {error}', file=sys.stderr)
# Leaving the block joined the pool: its work is done, its workers gone.
print(f'sum of the squares: {total}, {failures} failed')
sys.exit(0 if (total, failures) == (2701, 1) else 1)
