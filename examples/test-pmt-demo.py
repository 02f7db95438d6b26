#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs examples/pmt-demo on directory trees made here and checks what it
# promises: right checksums (against Python's hashlib, for the files
# checksummed in the process and those handed to sha256sum), the counts
# of its summary, the limiter's bound, its exit statuses (0, 1, 2, 130),
# its messages, the progress line only on a terminal, and Ctrl-C
# cancelling the queued and running work and terminating the children.
#
# Usage: test-pmt-demo.py PATH-TO-PMT-DEMO     (prints TAP)

import hashlib
import os
import pty
import re
import select
import signal
import subprocess
import sys
import tempfile
import traceback

DEMO = os.path.abspath(sys.argv[1])
TIMEOUT = 60
THRESHOLD = 8192

# English messages, whatever the caller's locale; UTF-8 for the quotes.
ENV = dict(os.environ, LC_ALL='C.UTF-8')
ENV.pop('LANGUAGE', None)

results = []


def check(name, ok, detail=''):
    results.append(ok)
    print(('ok' if ok else 'not ok') + ' %d - %s' % (len(results), name))
    if not ok and detail:
        for line in str(detail).splitlines():
            print('# ' + line)
    sys.stdout.flush()


def skip(name, why):
    results.append(True)
    print('ok %d - %s # SKIP %s' % (len(results), name, why))


def run(*args, env=ENV, **kwargs):
    return subprocess.run([DEMO] + list(args), env=env, capture_output=True,
                          text=True, timeout=TIMEOUT, **kwargs)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)


def make_tree(root):
    """Small files, an empty one, files at and above the threshold (one
    with a backslash in its name, which sha256sum escapes), a symbolic
    link (not followed) and a pipe (not a regular file)."""
    files = {
        'one.txt': b'one\n',
        'empty': b'',
        'a/two.bin': bytes(range(256)) * 12,
        'a/b/with space.txt': b'spaces are fine\n' * 100,
        'a/b/c/deep.txt': b'deep\n',
        'at-threshold.bin': b'x' * THRESHOLD,
        'big.bin': os.urandom(5 * THRESHOLD),
        'a/back\\slash.bin': b'\\' * (2 * THRESHOLD),
    }
    for name, data in files.items():
        write(os.path.join(root, name), data)
    os.symlink('one.txt', os.path.join(root, 'link-to-one'))
    os.mkfifo(os.path.join(root, 'a/pipe'))
    return {os.path.join(root, name): hashlib.sha256(data).hexdigest()
            for name, data in files.items()}


def printed_checksums(stdout):
    sums = {}
    for line in stdout.splitlines():
        m = re.fullmatch(r'([0-9a-f]{64})  (.*)', line)
        if m:
            sums[m.group(2)] = m.group(1)
    return sums


def summary_counts(stdout):
    m = re.search(r'Checksummed: +(\d+) files?, (\d+) failed, (\d+) cancelled', stdout)
    return tuple(int(g) for g in m.groups()) if m else None


def test_checksums(root):
    expected = make_tree(root)
    n_large = sum(1 for p in expected if os.path.getsize(p) >= THRESHOLD)
    n_bytes = sum(os.path.getsize(p) for p in expected)
    r = run('--print', '--workers', '3', '--limit', '2',
            '--command-threshold', str(THRESHOLD), root)
    out = r.stdout + r.stderr

    check('a readable tree exits 0', r.returncode == 0, out)
    check('every regular file is checksummed right, links and pipes skipped',
          printed_checksums(r.stdout) == expected, out)
    check('the summary counts every file as checksummed',
          summary_counts(r.stdout) == (len(expected), 0, 0), out)
    check('the summary counts the bytes',
          re.search(r'Data: .*\(%d bytes\)' % n_bytes, r.stdout) is not None, out)
    check('files at or above --command-threshold go to sha256sum',
          re.search(r'Children: +%d sha256sum processes' % n_large, r.stdout) is not None
          # GLib writes a no-break space between a size and its unit.
          and '%d files of 8.2\u00a0kB or more go to sha256sum' % n_large in r.stdout, out)
    m = re.search(r'Limiter: +at most (\d+) files? read at once \(limit 2\)', r.stdout)
    check('the limiter kept reads to its limit', m is not None and 1 <= int(m.group(1)) <= 2, out)
    check('the one-worker run is compared',
          re.search(r'One worker: +[0-9.]+ s for the same files: a speed-up of [0-9.]+',
                    r.stdout) is not None and 'Mismatches' not in r.stdout, out)
    check('no progress line when standard error is not a terminal',
          '\r' not in r.stderr and '\033' not in r.stderr, repr(r.stderr))

    r = run('--no-compare', '--workers', '1', root)
    check('--no-compare skips the second run',
          r.returncode == 0 and 'One worker' not in r.stdout
          and summary_counts(r.stdout) == (len(expected), 0, 0), r.stdout + r.stderr)


def test_usage(root):
    missing = os.path.join(root, 'missing')
    r = run(missing)
    check('a missing directory exits 2 with the reason',
          r.returncode == 2 and
          'Cannot checksum the files under “%s”: No such file or directory' % missing in r.stderr,
          r.stdout + r.stderr)

    plain = os.path.join(root, 'plain-file')
    write(plain, b'not a directory\n')
    r = run(plain)
    check('a file instead of a directory exits 2',
          r.returncode == 2 and 'Not a directory' in r.stderr, r.stdout + r.stderr)

    for args in (['--workers', '-1'], ['--limit', '5000'], ['--no-such-option'],
                 ['--workers', 'many'], [root, root]):
        r = run(*args)
        check('bad usage %s exits 2 and points to --help' % ' '.join(args),
              r.returncode == 2 and '--help' in r.stderr and r.stdout == '',
              r.stdout + r.stderr)

    r = run('--help')
    check('--help documents the options and the exit statuses',
          r.returncode == 0 and '--workers=N' in r.stdout and '--limit=N' in r.stdout
          and '--command-threshold=BYTES' in r.stdout and '--no-compare' in r.stdout
          and 'Exit status: 0' in r.stdout, r.stdout + r.stderr)


def test_unreadable(root):
    if os.geteuid() == 0:
        skip('unreadable files are failures, exit 1', 'root reads any file')
        return
    expected = make_tree(root)
    small = os.path.join(root, 'one.txt')
    large = os.path.join(root, 'big.bin')
    subdir = os.path.join(root, 'a', 'b')
    for path in (small, large, subdir):
        os.chmod(path, 0)
    try:
        r = run('--no-compare', '--command-threshold', str(THRESHOLD), root)
    finally:
        for path, mode in ((small, 0o644), (large, 0o644), (subdir, 0o755)):
            os.chmod(path, mode)
    n_hidden = sum(1 for p in expected if p.startswith(subdir + os.sep))
    out = r.stdout + r.stderr
    check('unreadable files and directories make the exit status 1', r.returncode == 1, out)
    check('an unreadable file read in the process is reported',
          re.search('^%s: Permission denied$' % re.escape(small), r.stderr, re.M) is not None,
          out)
    check('an unreadable file given to sha256sum is reported',
          re.search(r'Command “sha256sum -- %s” exited with status 1: .*Permission denied'
                    % re.escape(large), r.stderr) is not None, out)
    check('an unreadable directory is reported and counted',
          re.search(re.escape(subdir) + r'.*Permission denied', r.stderr) is not None
          and re.search(r'Unreadable: +1 directory', r.stdout) is not None, out)
    check('the summary counts the failures',
          summary_counts(r.stdout) == (len(expected) - n_hidden - 2, 2, 0), out)


def test_progress_on_terminal(root):
    make_tree(root)
    master, slave = pty.openpty()
    proc = subprocess.Popen([DEMO, '--no-compare', root], env=ENV, stdout=subprocess.PIPE,
                            stderr=slave, text=True)
    os.close(slave)
    stderr = b''
    while True:
        ready, _, _ = select.select([master], [], [], TIMEOUT)
        if not ready:
            break
        try:
            data = os.read(master, 4096)
        except OSError:         # EIO: the demo closed the terminal
            break
        if not data:
            break
        stderr += data
    os.close(master)
    stdout, _ = proc.communicate(timeout=TIMEOUT)
    text = stderr.decode(errors='replace')
    check('a terminal gets the progress line, redrawn in place',
          proc.returncode == 0 and re.search(r'\rpmt-demo: \d+/\d+ files, ', text) is not None
          and text.endswith('\r\033[K'), repr(text) + stdout)


FAKE_SHA256SUM = '''#!/bin/sh
# Stands for sha256sum: says it started, then runs until terminated.
echo $$ > "$PMT_DEMO_TEST_FIFO"
exec sleep 600
'''


def test_interrupt(root):
    """Every file goes to a sha256sum that never ends; Ctrl-C once the
    first of them runs must cancel everything and reap the children."""
    make_tree(os.path.join(root, 'tree'))
    bindir = os.path.join(root, 'bin')
    fifo = os.path.join(root, 'started')
    write(os.path.join(bindir, 'sha256sum'), FAKE_SHA256SUM.encode())
    os.chmod(os.path.join(bindir, 'sha256sum'), 0o755)
    os.mkfifo(fifo)
    env = dict(ENV, PATH=bindir + os.pathsep + ENV['PATH'], PMT_DEMO_TEST_FIFO=fifo)

    proc = subprocess.Popen([DEMO, '--workers', '2', '--command-threshold', '0',
                             os.path.join(root, 'tree')],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Blocks until a child opens the pipe: it runs, so the demo's
    # handler of SIGINT is in place.
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    select.select([fd], [], [], TIMEOUT)
    proc.send_signal(signal.SIGINT)
    try:
        stdout, stderr = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
        stderr += '\n(the demo did not end in %d s)' % TIMEOUT
    pids = [int(p) for p in os.read(fd, 4096).split()]
    os.close(fd)
    out = stdout + stderr

    check('Ctrl-C exits 130 and says it cancels',
          proc.returncode == 130 and 'Interrupted: cancelling' in stderr, out)
    check('Ctrl-C still prints the summary, with every file cancelled',
          summary_counts(stdout) == (0, 0, 8) and 'Interrupted:' in stdout
          and 'One worker' not in stdout, out)

    def alive(pid):
        try:
            os.kill(pid, 0)
            return True
        except ProcessLookupError:
            return False
    survivors = [p for p in pids if alive(p)]
    check('Ctrl-C terminated and reaped the children',
          len(pids) >= 1 and not survivors, '%s\n%s' % (pids, out))
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)


def main():
    tests = [test_checksums, test_usage, test_unreadable, test_progress_on_terminal,
             test_interrupt]
    for test in tests:
        with tempfile.TemporaryDirectory(prefix='pmt-demo-') as root:
            try:
                test(root)
            except Exception:
                check(test.__name__ + ' ran to its end', False, traceback.format_exc())
    print('1..%d' % len(results))
    return 0 if all(results) else 1


if __name__ == '__main__':
    sys.exit(main())
