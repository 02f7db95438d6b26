#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every public function of the GIR has a bad-input case.

Usage: check-bad-input.py Pmt-1.0.gir test-bad-input.  Reads the
functions, methods and constructors of the GIR the build made (all of
them, introspectable or not: C callers reach every one) and the names of
the table of tests/test-bad-input.c, which `test-bad-input --list`
prints, and prints TAP: one line per GIR function, failing when it has no
case, then one per table entry that names no function of the GIR (a
stale or misspelt entry).  The type functions (*_get_type) take no input
and are left out.
"""

import subprocess
import sys
import xml.etree.ElementTree as ET

import tap  # noqa: E402  (beside this script)

CORE = '{http://www.gtk.org/introspection/core/1.0}'
C = '{http://www.gtk.org/introspection/c/1.0}'
CALLABLES = {CORE + 'function', CORE + 'method', CORE + 'constructor'}


def gir_functions(path):
    functions = set()
    for element in ET.parse(path).getroot().iter():
        identifier = element.get(C + 'identifier')
        if element.tag in CALLABLES and identifier and not identifier.endswith('_get_type'):
            functions.add(identifier)
    return functions


def table(program):
    listing = subprocess.run([program, '--list'], check=True, capture_output=True,
                             text=True).stdout
    return {line.strip() for line in listing.splitlines() if line.strip()}


def main():
    functions = gir_functions(sys.argv[1])
    cases = table(sys.argv[2])
    if not functions or not cases:
        print('Bail out! no GIR functions or no bad-input cases read')
        return 1

    results = []
    for name in sorted(functions):
        results.append(('%s has a bad-input case' % name,
                        None if name in cases else
                        'no entry in the table of tests/test-bad-input.c'))
    for name in sorted(cases - functions):
        results.append(('bad-input case %s is for a function of the GIR' % name,
                        'not in the GIR: remove or rename the entry'))

    return tap.report(results)


if __name__ == '__main__':
    sys.exit(main())
