# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The TAP report of the introspection checks: one line per check.

def report(results):
    """Prints ``results``, (name, problem or None) pairs, as TAP; returns
    the exit status: 1 if any check has a problem."""
    print('1..%d' % len(results))
    failed = 0
    for number, (name, problem) in enumerate(results, start=1):
        print('%s %d - %s' % ('not ok' if problem else 'ok', number, name))
        if problem:
            print('# %s' % problem)
            failed += 1
    return 1 if failed else 0
