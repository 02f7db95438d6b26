# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test_process.py: a script that ends with work left on a process pool, a
# process worker and a @Processed daemon; each child prints its pid.  At
# exit the work runs and every child is ended.

import os

import gi
gi.require_version('Pmt', '1.0')
from gi.repository import Pmt  # noqa: E402

import procfuncs  # noqa: E402

if __name__ == '__main__':
    pool = Pmt.ProcessPool(2)
    pool.submit(procfuncs.print_pid)
    worker = Pmt.ProcessWorker()
    worker.submit(procfuncs.print_pid)
    Pmt.Processed(daemon=True)(procfuncs.print_pid)()
    os.write(1, b'end\n')
