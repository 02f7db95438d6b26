# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test_process.py: a child prints without flushing; its output reaches
# stdout when the pool is joined (the idle child exits by itself, flushing).

import gi
gi.require_version('Pmt', '1.0')
from gi.repository import Pmt  # noqa: E402

import procfuncs  # noqa: E402

if __name__ == '__main__':
    pool = Pmt.ProcessPool(1)
    for n in range(3):
        assert pool.submit(procfuncs.say, 'child says %d' % n).wait(60)
    assert pool.join(60)
    print('parent done')
