# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Seed README, "PoolExamples": submit() returns a Task, which is an event;
# the 'submit_task_priority' keyword.  Its import line is changed to Pmt's;
# it uses test() without defining it, so the README's first block (the
# test() definition) is prepended verbatim.

# --- prepended: the README's first block ---
# A simple function to be used in further examples:
def test(*args, **kwargs):
    print(f'{args} - {kwargs}') 

# --- README code below, only the import line changed ---
from gi.repository import Pmt
Pool = Pmt.ThreadPool
p1 = Pool()
task = p1.submit(test, "arg", example="kwargs", submit_task_priority=100) # The default priority is 10
if task.wait(10):
    print(task.results)
else:
    print(f"{task} not finished")
