# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Seed README, "The Limiter": @Limiter(1) makes a function run one call at
# a time.  Its import line is changed to Pmt's.
# --- README code below, only the import line changed ---

from gi.repository import Pmt
Limiter = Pmt.Limiter
Pool = Pmt.ThreadPool

@Limiter(1)
def test(*args, **kwargs):
    print(f'{args} - {kwargs}')

testResults = [test() for _ in range(4)] # This would pause the loop at every 'test' method call
