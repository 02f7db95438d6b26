#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks that the library's files look only down its layers.

The layers are read from the table in pmt/README.md, the one place they
are written.  A file fails when it:
  - belongs to no layer (a new file must be placed in the table);
  - includes a header of a higher layer, public or private, or <pmt.h>;
  - uses a private identifier (_pmt_...) that a higher layer's private
    header declares.

Usage: check-layers.py PMT_SOURCE_DIR.  Prints TAP: first a self-test that
plants an upward include and an upward call in a copy of a lower layer's
file and checks that both are caught, then one line per file."""

import os
import re
import shutil
import sys
import tempfile

ROW = re.compile(r'^\|\s*(\d+)\s+\w+\s*\|([^|]*)\|')
NAME = re.compile(r'`([a-z0-9-]+)`')
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)
PRIVATE_ID = re.compile(r'\b(_pmt_[a-z0-9_]+)\b')
COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)


def read_layers(source_dir):
    """Returns {module: layer} from the table of pmt/README.md."""
    layers = {}
    with open(os.path.join(source_dir, 'README.md'), encoding='utf-8') as readme:
        for line in readme:
            match = ROW.match(line)
            if match:
                for name in NAME.findall(match.group(2)):
                    layers[name] = int(match.group(1))
    if not layers:
        raise SystemExit('Bail out! no layer table in %s/README.md' % source_dir)
    return layers


def module_of(filename):
    """pmt-pool-private.h, pmt-pool.h and pmt-pool.c are module pmt-pool."""
    base = os.path.basename(filename)
    for suffix in ('-private.h', '.h.in', '.h', '.c'):
        if base.endswith(suffix):
            return base[:-len(suffix)]
    return base


def sources(source_dir):
    return sorted(name for name in os.listdir(source_dir)
                  if name.endswith(('.c', '.h', '.h.in')) and name != 'pmt.h')


def code_of(path):
    with open(path, encoding='utf-8') as source:
        return COMMENT.sub(' ', source.read())


def private_owners(source_dir, layers):
    """Returns {_pmt_identifier: layer of the private header declaring it}."""
    owners = {}
    for name in sources(source_dir):
        if not name.endswith('-private.h'):
            continue
        layer = layers.get(module_of(name))
        for identifier in PRIVATE_ID.findall(code_of(os.path.join(source_dir, name))):
            if layer is not None:
                owners[identifier] = min(layer, owners.get(identifier, layer))
    return owners


def check_file(source_dir, name, layers, owners):
    """Returns the problems of one file, as strings."""
    layer = layers.get(module_of(name))
    if layer is None:
        return ['%s is in no layer of pmt/README.md' % name]

    problems = []
    code = code_of(os.path.join(source_dir, name))
    for header in INCLUDE.findall(code):
        if header == 'pmt.h':
            problems.append('%s includes <pmt.h>, the users\' umbrella header' % name)
            continue
        other = layers.get(module_of(header))
        if other is not None and other > layer:
            problems.append('%s (layer %d) includes %s (layer %d)' % (name, layer, header, other))
    for identifier in sorted(set(PRIVATE_ID.findall(code))):
        other = owners.get(identifier)
        if other is not None and other > layer:
            problems.append('%s (layer %d) uses %s of layer %d' % (name, layer, identifier, other))
    return problems


def check_tree(source_dir):
    """Returns [(file, problems)] for every file of the tree."""
    layers = read_layers(source_dir)
    owners = private_owners(source_dir, layers)
    return [(name, check_file(source_dir, name, layers, owners)) for name in sources(source_dir)]


def self_test(source_dir):
    """The checker must catch an upward include and an upward call."""
    with tempfile.TemporaryDirectory() as copy:
        for name in os.listdir(source_dir):
            if name.endswith(('.c', '.h', '.h.in', '.md')):
                shutil.copy(os.path.join(source_dir, name), copy)
        with open(os.path.join(copy, 'pmt-task.c'), 'a', encoding='utf-8') as task:
            task.write('\n#include "pmt-pool-private.h"\n'
                       'static void planted (PmtPool *p) { _pmt_pool_notify (p, 0); }\n')
        problems = dict(check_tree(copy))['pmt-task.c']
    caught_include = any('includes pmt-pool-private.h' in p for p in problems)
    caught_call = any('uses _pmt_pool_notify' in p for p in problems)
    return caught_include and caught_call, problems


def main():
    source_dir = sys.argv[1]
    results = check_tree(source_dir)
    print('1..%d' % (len(results) + 1))

    caught, planted = self_test(source_dir)
    print('%s 1 - the checker catches a planted upward include and call' %
          ('ok' if caught else 'not ok'))
    for problem in planted:
        print('# planted: %s' % problem)

    failed = not caught
    for number, (name, problems) in enumerate(results, start=2):
        print('%s %d - %s looks only down' % ('not ok' if problems else 'ok', number, name))
        for problem in problems:
            print('# %s' % problem)
        failed |= bool(problems)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
