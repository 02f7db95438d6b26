#!/usr/bin/env -S gjs -m
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// checksum.js [DIRECTORY]: the SHA-256 of every regular file under
// DIRECTORY (default /usr/share/common-licenses), printed as
// "<sum>  <file>" in the order the checksums complete.  Progress goes to
// standard error.  Ctrl-C cancels what is left and prints a summary.
// Exits 0 when every file was checksummed, 1 when one failed (or a
// directory could not be listed), 130 when interrupted.
//
// JS functions cannot run on Pmt's worker threads (gjs refuses them), so
// the work is done by child processes: command tasks running sha256sum.
// The pool is made for this thread's main context, so completion,
// progress and cancellations all arrive here, on the main loop.

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Pmt from 'gi://Pmt?version=1.0';
import System from 'system';

Gio._promisify(Pmt.Task.prototype, 'wait_async', 'wait_finish');

const SIGINT = 2;  // GLib has no constant for it
const stderr = new Gio.UnixOutputStream({fd: 2, close_fd: false});
let progressShown = '';

function writeStderr(text) {
    stderr.write_all(new TextEncoder().encode(text), null);
}

// "\r12/40" on standard error, erased before a line goes to standard
// output so that the two do not mix on a terminal.
function showProgress(text) {
    writeStderr(`\r${text}`);
    progressShown = text;
}

function clearProgress() {
    if (progressShown)
        writeStderr(`\r${' '.repeat(progressShown.length)}\r`);
    progressShown = '';
}

// The regular files under dir, sorted, without following symbolic links;
// errors (an unreadable directory) are collected, not fatal.
function listFiles(dir, prefix, files, errors) {
    let children;
    try {
        children = dir.enumerate_children('standard::name,standard::type',
            Gio.FileQueryInfoFlags.NOFOLLOW_SYMLINKS, null);
    } catch (error) {
        errors.push(`${prefix}: ${error.message}`);
        return files;
    }
    const infos = [];
    for (let info; (info = children.next_file(null)) !== null;)
        infos.push(info);
    children.close(null);
    infos.sort((a, b) => a.get_name().localeCompare(b.get_name()));
    for (const info of infos) {
        const child = dir.get_child(info.get_name());
        const name = GLib.build_filenamev([prefix, info.get_name()]);
        if (info.get_file_type() === Gio.FileType.DIRECTORY)
            listFiles(child, name, files, errors);
        else if (info.get_file_type() === Gio.FileType.REGULAR)
            files.push({path: child.get_path(), name});
    }
    return files;
}

// Resolves to 'succeeded', 'failed' or 'cancelled' once the task ended.
async function report(task, name) {
    try {
        await task.wait_async(null);
    } catch (error) {
        if (error.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED))
            return 'cancelled';
        clearProgress();
        printerr(`${name}: ${error.message}`);
        return 'failed';
    }
    // sha256sum prints "<sum>  <path>", with a backslash before the sum
    // when it had to escape the path: keep the sum, print our own name.
    const output = new TextDecoder().decode(task.get_result().toArray());
    clearProgress();
    print(`${output.split(' ')[0].replace(/^\\/, '')}  ${name}`);
    return 'succeeded';
}

const directory = System.programArgs[0] ?? '/usr/share/common-licenses';
const errors = [];
const files = listFiles(Gio.File.new_for_commandline_arg(directory), directory, [], errors);
for (const error of errors)
    printerr(error);

// 0 workers: one per processor.
const pool = Pmt.Pool.new_for_context(null, 0, null);
const loop = new GLib.MainLoop(null, false);
let interrupted = false;

// Notifications are coalesced: a burst of completions gives one call.
pool.connect('notify::n-succeeded', () =>
    showProgress(`${pool.get_n_succeeded()}/${files.length}`));

// A signal handler that only asks: the lanes take no more files, the
// tasks already running have their children terminated, the queued ones
// never start, and every task still ends (CANCELLED), so the summary
// below counts them all.  The source is removed, so a second Ctrl-C kills
// the program the usual way.
GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, SIGINT, () => {
    interrupted = true;
    pool.shutdown(Pmt.ShutdownFlags.CANCEL_QUEUED | Pmt.ShutdownFlags.CANCEL_RUNNING, 0);
    return GLib.SOURCE_REMOVE;
});

// At most IN_FLIGHT tasks are in the pool at once: each lane submits a
// file, awaits its task, then takes the next file.  Enough to keep every
// worker busy, and it keeps what a huge directory costs bounded: the
// tasks and promises alive, and the burst of cancellations on Ctrl-C.
// (With GJS 1.74, 60 000 tasks cancelled at once were seen to make GJS
// refuse later callbacks "during garbage collection", which then never
// arrive.)
const IN_FLIGHT = 64;
const results = [];
let next = 0;

async function lane() {
    while (next < files.length && !interrupted) {
        const {path, name} = files[next++];
        const task = pool.submit_command(GLib.PRIORITY_DEFAULT, ['sha256sum', '--', path]);
        results.push(await report(task, name));
    }
}

let status = 0;
Promise.all(Array.from({length: IN_FLIGHT}, lane)).then(() => {
    const count = what => results.filter(result => result === what).length;
    clearProgress();
    printerr(`${count('succeeded')} checksummed, ${count('failed')} failed, ` +
        `${count('cancelled')} cancelled, ${files.length - results.length} not started` +
        (errors.length > 0 ? `, ${errors.length} not listed` : ''));
    if (count('failed') > 0 || errors.length > 0)
        status = 1;
    else if (interrupted)
        status = 130;
}).catch(error => {
    logError(error);
    status = 1;
}).finally(() => loop.quit());

loop.run();
pool.join(-1);
System.exit(status);
