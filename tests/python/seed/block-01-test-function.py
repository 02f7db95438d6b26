# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Seed README, "PoolExamples": the simple function used by the examples
# that follow.  It defines test() and calls nothing.
# --- README code below, verbatim ---

# A simple function to be used in further examples:
def test(*args, **kwargs):
    print(f'{args} - {kwargs}') 

# --- added: exercise the block ---
test("arg", example="kwargs")
