# SPDX-License-Identifier: LGPL-2.1-or-later
"""What test_process.py runs in child processes (procfuncs), and the
seed README's decorator examples rewritten with @Pmt.Processed."""
