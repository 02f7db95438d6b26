# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Seed README, "Decorator Examples": a function made threaded by @Threaded.
# Its import line is changed to Pmt's.
# --- README code below, only the import line changed ---

from gi.repository import Pmt
Threaded = Pmt.Threaded

@Threaded
def test(*args, **kwargs):
    print(f'{args} - {kwargs}')

task = test()
if task.wait(10):
    print(task.results)
else:
    print(f"{task} not finished")
