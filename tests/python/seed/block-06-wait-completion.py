# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Seed README, "PoolExamples": a pool waits on all its tasks
# (wait_completion with 'block').  Its import line is changed to Pmt's; it
# uses test() without defining it, so the README's first block (the test()
# definition) is prepended verbatim.

# --- prepended: the README's first block ---
# A simple function to be used in further examples:
def test(*args, **kwargs):
    print(f'{args} - {kwargs}') 

# --- README code below, only the import line changed ---
from gi.repository import Pmt
Pool = Pmt.ThreadPool
arg1 = (("arg",), {"example": "kwargs"})
arg2 = (("arg2",), {"example2": "kwargs"})
p1 = Pool()
p1.map(test, [arg1, arg2])
if p1.wait_completion(10, block=True):
    print("The pool is finished work its current work load")
