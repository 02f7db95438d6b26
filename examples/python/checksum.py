#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# checksum.py: the SHA-256 of files, like sha256sum, read on a Pmt pool.
#
#   checksum.py [-j N] [PATH ...]     files, and the files under directories
#                                     (default: /usr/share/common-licenses)
#   checksum.py [-j N] --check SUMS   verifies a list written by sha256sum
#
# The scenarios of PyMultiTasking's README as one program: a ThreadPool
# reads and hashes the files (pool.map), Pool.as_completed reports the
# progress, a @Threaded(pool_name=...) stage formats each result, and its
# callback, under @Limiter(1), adds it to the report shared by that
# stage's workers.  A file that cannot be read fails its task: the error
# comes back as the exception of task.results.  Ctrl-C cancels what is
# still queued and exits with status 130.
#
# From the root of a checkout built in _build/:
#   meson devenv -C _build -w . /usr/bin/python3 examples/python/checksum.py [DIR]

import argparse
import hashlib
import os
import sys

import gi
gi.require_version('Pmt', '1.0')
from gi.repository import Pmt  # noqa: E402

DEFAULT_DIRECTORY = '/usr/share/common-licenses'
CHUNK = 1 << 20
REPORT_POOL = 'checksum-report'


def sha256_file(path):
    """Reads ``path``; returns its SHA-256 in hex and its size.  Runs in
    the reading pool: hashlib lets go of the GIL while it hashes."""
    digest = hashlib.sha256()
    size = 0
    with open(path, 'rb') as stream:
        while True:
            chunk = stream.read(CHUNK)
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


# The report: lines and totals, appended to by the workers of the report
# stage, one at a time.

class Report:
    def __init__(self):
        self.lines = {}      # path -> line of output
        self.n_bytes = 0
        self.mismatches = []


report = Report()


@Pmt.Limiter(1)
def record(entry):
    """The callback of each formatting task, in its worker."""
    path, line, size, matches = entry
    report.lines[path] = line
    report.n_bytes += size
    if not matches:
        report.mismatches.append(path)


@Pmt.Threaded(pool_name=REPORT_POOL, callback_func=record,
              _pool_maxWorkers=2, _task_store_return=False)
def format_line(path, digest, size, expected=None):
    """One line as sha256sum prints it (or as `sha256sum --check` does
    when an expected digest is given): names with a backslash, a newline
    or a carriage return are escaped, and the line starts with a
    backslash."""
    escaped = path.replace('\\', '\\\\').replace('\n', '\\n').replace('\r', '\\r')
    prefix = '\\' if escaped != path else ''
    if expected is not None:
        matches = digest == expected
        return path, '%s%s: %s' % (prefix, escaped, 'OK' if matches else 'FAILED'), size, matches
    return path, '%s%s  %s' % (prefix, digest, escaped), size, True


def unescape(name):
    out, i = [], 0
    while i < len(name):
        if name[i] == '\\' and i + 1 < len(name):
            out.append({'\\': '\\', 'n': '\n', 'r': '\r'}.get(name[i + 1], name[i + 1]))
            i += 2
        else:
            out.append(name[i])
            i += 1
    return ''.join(out)


def read_sums(sums_path):
    """(path, expected digest) pairs of a sha256sum output file."""
    expected = []
    with open(sums_path, encoding='utf-8', errors='surrogateescape') as sums:
        for number, line in enumerate(sums, 1):
            line = line.rstrip('\n')
            escaped = line.startswith('\\')
            if escaped:
                line = line[1:]
            digest, sep, name = line.partition('  ')
            if not sep:
                digest, sep, name = line.partition(' *')
            if not sep or len(digest) != 64:
                raise ValueError('%s:%d: not a sha256sum line' % (sums_path, number))
            expected.append((unescape(name) if escaped else name, digest.lower()))
    return expected


def list_files(paths, errors):
    """The files named, and those under the directories named, sorted
    within each directory; a path that does not exist is kept, so that
    its task reports the error."""
    files = []
    for path in paths:
        if not os.path.isdir(path):
            files.append(path)
            continue
        for top, dirs, names in os.walk(path, onerror=lambda e: errors.append(e)):
            dirs.sort()
            files += [os.path.join(top, name) for name in sorted(names)]
    return files


def run(args):
    errors = []
    if args.check:
        expected = dict(read_sums(args.check))
        files = list(expected)
    else:
        expected = {}
        files = list_files(args.paths or [DEFAULT_DIRECTORY], errors)

    readers = Pmt.ThreadPool(maxWorkers=args.jobs, name='checksum-read')
    try:
        tasks = readers.map(sha256_file, [((path,), {}) for path in files])
        path_of = dict(zip(tasks, files))
        formatting = []
        for done, task in enumerate(Pmt.Pool.as_completed(tasks), 1):
            path = path_of[task]
            try:
                digest, size = task.results
            except OSError as error:
                errors.append(error)
            else:
                formatting.append(format_line(path, digest, size, expected.get(path)))
            if args.progress:
                print('\r%d/%d files' % (done, len(tasks)), end='', file=sys.stderr, flush=True)
        if args.progress:
            print(file=sys.stderr)
        readers.join()
        if formatting:
            Pmt.Pool.get_pool_by_name(REPORT_POOL).join()
    except KeyboardInterrupt:
        # The running tasks end, the queued ones never start; the
        # interpreter's exit waits for the former.
        readers.shutdown(0, cancel_queued=True)
        stage = Pmt.Pool.get_pool_by_name(REPORT_POOL)
        if stage is not None:
            stage.shutdown(0, cancel_queued=True)
        raise

    for task in formatting:
        task.results                    # raises if formatting failed
    unreadable = {error.filename for error in errors}
    missing = [path for path in files if path not in report.lines and path not in unreadable]
    for path in files:
        if path in report.lines:
            print(report.lines[path])
    for error in errors:
        print('checksum.py: %s: %s' % (error.filename, error.strerror), file=sys.stderr)
    for path in missing:
        print('checksum.py: %s: no outcome' % path, file=sys.stderr)
    print('checksum.py: %d files, %d bytes, %d unreadable%s' % (
        len(report.lines), report.n_bytes, len(errors),
        ', %d FAILED' % len(report.mismatches) if args.check else ''), file=sys.stderr)
    return 1 if errors or missing or report.mismatches else 0


def main(argv):
    parser = argparse.ArgumentParser(
        description='SHA-256 of files, read on a Pmt pool (the output of sha256sum).')
    parser.add_argument('paths', nargs='*', metavar='PATH',
                        help='files or directories (default: %s)' % DEFAULT_DIRECTORY)
    parser.add_argument('-c', '--check', metavar='SUMS',
                        help='verify the files listed in SUMS (the output of sha256sum)')
    parser.add_argument('-j', '--jobs', type=int, default=0,
                        help='reading threads (default: one per processor)')
    parser.add_argument('--progress', action=argparse.BooleanOptionalAction,
                        default=sys.stderr.isatty(), help='show progress on standard error')
    args = parser.parse_args(argv)
    if args.check and args.paths:
        parser.error('--check takes no PATH')
    if args.jobs < 0:
        parser.error('--jobs must be at least 0')
    try:
        return run(args)
    except (OSError, ValueError) as error:
        print('checksum.py: %s' % error, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print('\nchecksum.py: interrupted', file=sys.stderr)
        return 130


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
