#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs a gjs test that prints TAP and fails it on unexpected criticals.

gjs reports a JS callback called from another thread with a pair of
Gjs-CRITICALs instead of running it:

  Attempting to run a JS callback on a different thread. ...
  The offending callback was TaskFunc().

Some cases provoke that on purpose, so G_DEBUG=fatal-criticals cannot be
used.  This wrapper runs gjs with its standard error merged into its
standard output, so that each log message comes before the test point of
the case that printed it, and checks that every case printed exactly the
refusals it was expected to (--refusals CASE=COUNT) and no other critical
or warning, from any log domain.  It forwards the TAP and adds one test
point of its own for that check, and one more if gjs ended badly.
"""

import argparse
import re
import subprocess
import sys

LOG_LINE = re.compile(
    r'^\((?:gjs|[\w.-]+):\d+\): (?P<domain>[\w-]+)-(?P<level>CRITICAL|WARNING|ERROR) \*\*: '
    r'(?:\d\d:\d\d:\d\d\.\d+: )?(?P<message>.*)$')
TEST_POINT = re.compile(r'^(?P<not>not )?ok (?P<number>\d+)\b')
PLAN = re.compile(r'^1\.\.(?P<count>\d+)\s*$')
REFUSED = 'Attempting to run a JS callback on a different thread'
OFFENDER = 'The offending callback was TaskFunc()'


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--gjs', default='gjs', help='the gjs interpreter')
    parser.add_argument('--refusals', action='append', default=[], metavar='CASE=COUNT',
                        help='case CASE (a test point number) refuses COUNT JS callbacks')
    parser.add_argument('--timeout', type=float, default=110.0,
                        help='seconds before gjs is killed')
    parser.add_argument('script', help='the test, an ES module')
    args = parser.parse_args()
    expected = {}
    for item in args.refusals:
        case, _, count = item.partition('=')
        expected[int(case)] = int(count)
    return args, expected


def main():
    args, expected = parse_args()
    try:
        done = subprocess.run([args.gjs, '-m', args.script], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=args.timeout)
        output, status = done.stdout, done.returncode
    except subprocess.TimeoutExpired as timeout:
        output, status = timeout.output or b'', None

    problems = []
    refusals = {}           # case number -> refusals seen while it ran
    offenders = {}
    last_point = 0
    plan = None
    for line in output.decode('utf-8', 'replace').splitlines():
        point = TEST_POINT.match(line)
        log = LOG_LINE.match(line)
        if point:
            last_point = int(point.group('number'))
            print(line)
        elif PLAN.match(line):
            plan = int(PLAN.match(line).group('count'))
        elif line.startswith('#') or line.startswith('Bail out!'):
            print(line)
        else:
            # Everything else came from standard error: keep it in the log.
            print(line, file=sys.stderr)
            if not log:
                continue
            case = last_point + 1
            message = log.group('message')
            if log.group('domain') == 'Gjs' and log.group('level') == 'CRITICAL' \
                    and message.startswith(REFUSED):
                refusals[case] = refusals.get(case, 0) + 1
            elif log.group('domain') == 'Gjs' and log.group('level') == 'CRITICAL' \
                    and message.startswith(OFFENDER):
                offenders[case] = offenders.get(case, 0) + 1
            else:
                problems.append(f'unexpected {log.group("domain")}-{log.group("level")} '
                                f'during case {case}: {message}')
    sys.stdout.flush()

    for case in sorted(set(expected) | set(refusals) | set(offenders)):
        want = expected.get(case, 0)
        if refusals.get(case, 0) != want or offenders.get(case, 0) != want:
            problems.append(f'case {case}: {refusals.get(case, 0)} refused callbacks and '
                            f'{offenders.get(case, 0)} naming TaskFunc, expected {want}')

    count = plan if plan is not None else last_point
    if plan is None:
        problems.append('gjs printed no plan: it ended before its last case')
    if status is None:
        problems.append(f'gjs did not end within {args.timeout} s and was killed')
    elif status < 0:
        problems.append(f'gjs was killed by signal {-status}')

    count += 1
    if problems:
        print(f'not ok {count} - gjs printed only the expected criticals and lived')
        for problem in problems:
            print(f'# {problem}')
    else:
        print(f'ok {count} - gjs printed only the expected criticals and lived')
    print(f'1..{count}')

    if problems or status != 0:
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
