# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Seed README, "The Limiter": @Limiter(2, blocking=False) over @Threaded,
# calls that return at once and tasks that wait for the limiter.  Its
# import line is changed to Pmt's.
# --- README code below, only the import line changed ---

from gi.repository import Pmt
Limiter = Pmt.Limiter
Threaded = Pmt.Threaded
Pool = Pmt.ThreadPool

@Limiter(2, blocking=False)
@Threaded
def test(*args, **kwargs):
    print(f'{args} - {kwargs}')

tasks = [test() for _ in range(4)] # This loop would complete quickly as it doesn't wait for 'test' to actually finish

for task in Pool.as_completed(tasks):
    print(f"Task[{task}] completed with results: {task.results}")
