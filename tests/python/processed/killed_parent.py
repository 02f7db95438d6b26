# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test_process.py: a process pool with a busy child (held by the test, at
# the abstract Unix socket named by the argument) and an idle one; prints
# "ready <idle child> <every child of this process>" and waits to be
# killed.

import os
import sys

import gi
gi.require_version('Pmt', '1.0')
from gi.repository import Pmt  # noqa: E402

import procfuncs  # noqa: E402


def children():
    found = []
    for entry in os.listdir('/proc'):
        try:
            with open('/proc/%s/stat' % entry) as stat:
                if int(stat.read().rpartition(')')[2].split()[1]) == os.getpid():
                    found.append(entry)
        except (OSError, ValueError, IndexError):
            pass
    return found


if __name__ == '__main__':
    pool = Pmt.ProcessPool(2)
    busy = pool.submit(procfuncs.hold, '\0' + sys.argv[1])
    idle = pool.submit(procfuncs.pid).result(60)
    print('ready', idle, *children(), flush=True)
    sys.stdin.read()
