# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Seed README, "Decorator Examples": @Threaded(callback_func=...), a call
# back function given the result of each call.  Its import line is changed
# to Pmt's.  The block only defines the functions: lines added after it
# call the threaded one.
# --- README code below, only the import line changed ---

from gi.repository import Pmt
Threaded = Pmt.Threaded

def callback_test(*args, **kwargs):
    print(f'callback_test - Completed: {args} - {kwargs}')
    return args[0]

@Threaded(callback_func=callback_test)
def test(*args, **kwargs):
    print(f'{args} - {kwargs}')

# --- added: exercise the block ---
task = test("arg", example="kwargs")
if task.wait(10):
    print(task.results)
else:
    print(f"{task} not finished")
