#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Fails unless README.md shows each given file verbatim: the fenced code
# block that comes next after the file is named (as `examples/readme/NAME`)
# must be the file's text, so the README cannot drift from the programs
# that the test suite runs.

import os
import re
import sys


def blocks_after_names(readme):
    """{file name: text of the first fenced block after a line naming it}."""
    found = {}
    pattern = re.compile(r'`examples/readme/([\w.-]+)`(?:(?!```).)*?\n```\w*\n(.*?)^```',
                         re.S | re.M)
    for match in pattern.finditer(readme):
        found.setdefault(match.group(1), match.group(2))
    return found


def main(readme_path, paths):
    with open(readme_path, encoding='utf-8') as readme:
        shown = blocks_after_names(readme.read())
    failures = 0
    for path in paths:
        name = os.path.basename(path)
        with open(path, encoding='utf-8') as source:
            text = source.read()
        if name not in shown:
            print('README.md does not show examples/readme/%s' % name)
            failures += 1
        elif shown[name] != text:
            print('README.md shows an outdated examples/readme/%s' % name)
            failures += 1
        else:
            print('README.md shows examples/readme/%s as it is' % name)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2:]))
