#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks that the demo speaks German under LANGUAGE=de.

The strings are read from po/de.po (the entries whose reference is
examples/pmt-demo.c), so the test follows the demo's strings as they
change.  `pmt-demo --help`, a run on a small directory and a run on a
missing directory must each print at least one of those translations
and none of the English originals.  The demo binds the domain to the
build tree's catalogues itself: PMT_LOCALEDIR is not set, as when a user
runs it.

Usage: check-demo-de.py PMT_DEMO DE_PO.  Prints TAP; skips without the
de_DE.UTF-8 locale, or while the demo marks no string for translation."""

import ast
import os
import re
import subprocess
import sys
import tempfile

ENTRY_KEYWORD = re.compile(r'^(msgid|msgid_plural|msgstr(?:\[\d+\])?) (".*")$')
# printf directives, and the column padding of the summary's labels
DIRECTIVE = re.compile(r'%[-#0 +\'I]*[0-9*]*(?:\.[0-9*]+)?(?:hh|h|ll|l|L|q|j|z|t)?[a-zA-Z%]')
MIN_FRAGMENT = 8


def demo_entries(po):
    """Returns [(english, [german…])] of the live entries of the demo."""
    entries = []
    with open(po, encoding='utf-8') as catalog:
        blocks = catalog.read().split('\n\n')
    for block in blocks:
        lines = block.strip('\n').split('\n')
        refs = ' '.join(line for line in lines if line.startswith('#:'))
        if 'examples/pmt-demo.c' not in refs:
            continue
        fields, current = {}, None
        for line in lines:
            match = ENTRY_KEYWORD.match(line)
            if match:
                current = match.group(1)
                fields[current] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and current:
                fields[current] += ast.literal_eval(line)
        if 'msgid' not in fields:
            continue   # obsolete (#~)
        english = [fields['msgid']] + ([fields['msgid_plural']] if 'msgid_plural' in fields else [])
        german = [v for k, v in sorted(fields.items()) if k.startswith('msgstr') and v]
        entries.append((english, german))
    return entries


def fragments(text):
    """The literal runs of a message between its directives, long enough
    to mean something when found in the output."""
    return [part.strip() for part in DIRECTIVE.split(text) if len(part.strip()) >= MIN_FRAGMENT]


def check_output(what, output, entries):
    german = {f for _, texts in entries for text in texts for f in fragments(text)}
    english = {f for texts, _ in entries for text in texts for f in fragments(text)} - german
    faults = []
    found = sorted(f for f in german if f in output)
    if not found:
        faults.append('%s: no German text of the demo in its output:\n%s' % (what, output))
    for fragment in sorted(f for f in english if f in output):
        faults.append('%s: untranslated: %r' % (what, fragment))
    return found, faults


def has_german_locale():
    run = subprocess.run(['locale', '-a'], capture_output=True, text=True)
    return any(name.lower().replace('-', '') == 'de_de.utf8' for name in run.stdout.split())


def main():
    demo, po = sys.argv[1:3]
    if not has_german_locale():
        print('1..0 # SKIP the de_DE.UTF-8 locale is not installed; generate it as .ci/deps does')
        return 0
    entries = [(en, de) for en, de in demo_entries(po) if de]
    if not entries:
        print('1..0 # SKIP examples/pmt-demo.c has no translated string in po/de.po')
        return 0

    env = dict(os.environ, LANGUAGE='de', LANG='de_DE.UTF-8', LC_ALL='de_DE.UTF-8')
    env.pop('PMT_LOCALEDIR', None)
    with tempfile.TemporaryDirectory() as tree:
        for i in range(3):
            with open(os.path.join(tree, 'file-%d' % i), 'w', encoding='utf-8') as out:
                out.write('Pmt %d\n' % i * (i + 1))
        runs = [('--help', [demo, '--help'], 0),
                ('a run on a small directory', [demo, tree], 0),
                ('a missing directory', [demo, os.path.join(tree, 'missing')], None)]
        print('1..%d' % len(runs))
        for number, (what, argv, status) in enumerate(runs, 1):
            run = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
            found, faults = check_output(what, run.stdout + run.stderr, entries)
            if status is not None and run.returncode != status:
                faults.append('%s: exit status %d, not %d' % (what, run.returncode, status))
            if status is None and run.returncode == 0:
                faults.append('%s: exit status 0' % what)
            print('%s %d - %s speaks German' % ('not ok' if faults else 'ok', number, what))
            for text in found[:3]:
                print('# found: %s' % text)
            for fault in faults:
                for line in fault.splitlines():
                    print('# ' + line)
    return 0


if __name__ == '__main__':
    sys.exit(main())
