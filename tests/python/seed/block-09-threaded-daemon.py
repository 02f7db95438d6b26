# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Seed README, "Decorator Examples": @Threaded(daemon=True), one persistent
# Worker for the function.  Its import line is changed to Pmt's.  The block
# only defines the function: lines added after it call it.
# --- README code below, only the import line changed ---

from gi.repository import Pmt
Threaded = Pmt.Threaded

@Threaded(daemon=True)
def test(*args, **kwargs):
    print(f'{args} - {kwargs}')

# --- added: exercise the block ---
tasks = [test(n, call=n) for n in range(3)]
for task in tasks:
    if task.wait(10):
        print(task.results)
    else:
        print(f"{task} not finished")
test("at exit")  # not waited for: the worker runs it before Python exits
