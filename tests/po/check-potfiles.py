#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks that po/POTFILES.in lists exactly the files that need it.

A source file that marks a string with _(), N_(), C_() or NC_() must be
in po/POTFILES.in, or xgettext never sees its strings and they are never
translated; every file that POTFILES.in names must exist, or the pot
target fails.  The sources looked at are the library's and the C
examples' (pmt/*.c, examples/**/*.c) and the Python overrides.

Usage: check-potfiles.py SOURCE_ROOT.  Prints TAP: a self-test on a
planted tree first, then one line per check."""

import glob
import os
import re
import sys
import tempfile

SOURCES = ('pmt/*.c', 'examples/**/*.c', 'python/gi/overrides/*.py')
# A marker is a call of one of the gettext macros, not the end of a longer
# name such as g_strdup_printf_( or my_().
MARKER = re.compile(r'(?<![A-Za-z0-9_])(?:_|N_|C_|NC_)\s*\(')
C_COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)
PY_COMMENT = re.compile(r'#[^\n]*')


def listed_files(root):
    """Returns the paths that POTFILES.in names, in order."""
    paths = []
    with open(os.path.join(root, 'po', 'POTFILES.in'), encoding='utf-8') as potfiles:
        for line in potfiles:
            line = line.strip()
            if line and not line.startswith('#'):
                paths.append(line)
    return paths


def marked_files(root):
    """Returns the source files that mark strings for translation."""
    found = set()
    for pattern in SOURCES:
        for path in glob.glob(os.path.join(root, pattern), recursive=True):
            with open(path, encoding='utf-8') as source:
                text = source.read()
            comment = PY_COMMENT if path.endswith('.py') else C_COMMENT
            if MARKER.search(comment.sub('', text)):
                found.add(os.path.relpath(path, root))
    return found


def problems(root):
    listed = listed_files(root)
    found = []
    for path in sorted(marked_files(root) - set(listed)):
        found.append('%s marks strings for translation but is not in po/POTFILES.in' % path)
    for path in listed:
        if not os.path.isfile(os.path.join(root, path)):
            found.append('po/POTFILES.in names %s, which does not exist' % path)
    return found


def self_test():
    """Plants both faults, and a file that only looks like one."""
    with tempfile.TemporaryDirectory() as root:
        for name, text in (('pmt/a.c', 'f (_("x"));\n'),
                           ('pmt/b.c', 'g_strdup_printf_("x"); /* _("y") */\n'),
                           ('examples/gtk/c.c', 'f (C_("ctx", "x"));\n'),
                           ('po/POTFILES.in', '# comment\npmt/a.c\npmt/gone.c\n')):
            os.makedirs(os.path.dirname(os.path.join(root, name)), exist_ok=True)
            with open(os.path.join(root, name), 'w', encoding='utf-8') as out:
                out.write(text)
        found = problems(root)
        return (len(found) == 2 and 'examples/gtk/c.c' in found[0]
                and 'pmt/gone.c' in found[1]), found


def main():
    root = sys.argv[1]
    print('1..3')
    ok, found = self_test()
    print('%s 1 - self-test: a planted unlisted file and a listed missing file are caught'
          % ('ok' if ok else 'not ok'))
    if not ok:
        print('# found: %r' % found)
    found = problems(root)
    unlisted = [p for p in found if 'not in po/POTFILES.in' in p]
    missing = [p for p in found if 'does not exist' in p]
    for number, (what, faults) in enumerate((('every marked file is listed', unlisted),
                                             ('every listed file exists', missing)), 2):
        print('%s %d - %s' % ('not ok' if faults else 'ok', number, what))
        for fault in faults:
            print('# ' + fault)
    return 0


if __name__ == '__main__':
    sys.exit(main())
