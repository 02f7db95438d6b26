// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Pmt from GJS through its typelib: the rules of docs/reference/gjs.xml,
// checked.  Everything runs inside one GLib.MainLoop on the default main
// context, with pools made by Pmt.Pool.new_for_context (null, 2, null) so
// that completed signals, notify and the release of JS closures happen on
// this thread.  Prints TAP; exits non-zero when a case failed.
//
// Run it through run-gjs-test.py, which also fails the test when gjs
// prints a critical or a warning other than the refusals of JS task
// functions that cases 6 and 7 provoke on purpose: three refused calls
// (pool.submit; threaded.call_value and pool.map over one item), each of
// which gjs reports as a pair of Gjs-CRITICALs.  Keep the case numbers in
// meson.build in step with the order of `cases` below.

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Pmt from 'gi://Pmt?version=1.0';
import System from 'system';

Gio._promisify(Pmt.Task.prototype, 'wait_async', 'wait_finish');
Gio._promisify(Pmt.Limiter.prototype, 'acquire_async', 'acquire_finish');

const CASE_TIMEOUT_SECONDS = 60;
const mainContext = GLib.MainContext.default();

class AssertionError extends Error {}

function check(condition, what) {
    if (!condition)
        throw new AssertionError(what);
}

function checkEqual(actual, expected, what) {
    if (actual !== expected) {
        throw new AssertionError(
            `${what}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
    }
}

function decode(bytes) {
    check(bytes instanceof GLib.Bytes, `result is a GLib.Bytes (got ${bytes})`);
    return new TextDecoder().decode(bytes.toArray());
}

function newPool() {
    return Pmt.Pool.new_for_context(null, 2, null);
}

// Resolves once every source already pending on the main context at a
// higher priority (the pool's idle deliveries among them) has run.  Used
// to give a delivery that must NOT happen its chance to happen, never to
// wait for one that must.
function drainPending() {
    return new Promise(resolve => {
        GLib.idle_add(GLib.PRIORITY_LOW, () => {
            resolve();
            return GLib.SOURCE_REMOVE;
        });
    });
}

async function expectRejection(promise, what) {
    try {
        await promise;
    } catch (error) {
        return error;
    }
    throw new AssertionError(`${what}: resolved, expected a rejection`);
}

// -- The cases -------------------------------------------------------------

async function testCommandTasks(pool) {
    const printf = pool.submit_command(GLib.PRIORITY_DEFAULT, ['printf', 'hello %s', 'gjs']);
    const shell = pool.submit_command(GLib.PRIORITY_DEFAULT,
        ['sh', '-c', 'echo out; printf "%s" "$0"', 'arg0']);
    const pushed = Pmt.CommandTask.new(['printf', 'pushed']);
    check(pool.push(pushed), 'push accepts a CommandTask made by CommandTask.new');
    check(printf instanceof Pmt.CommandTask, 'submit_command returns a Pmt.CommandTask');

    checkEqual(await printf.wait_async(null), true, 'printf: wait_async');
    checkEqual(await shell.wait_async(null), true, 'sh -c: wait_async');
    checkEqual(await pushed.wait_async(null), true, 'pushed: wait_async');
    for (const task of [printf, shell, pushed])
        checkEqual(task.get_state(), Pmt.TaskState.SUCCEEDED, 'state');
    checkEqual(decode(printf.get_result()), 'hello gjs', 'printf stdout');
    checkEqual(decode(shell.get_result()), 'out\narg0', 'sh -c stdout');
    checkEqual(decode(pushed.get_result()), 'pushed', 'pushed stdout');

    // More tasks than workers, awaited together.
    const many = [];
    for (let i = 0; i < 16; i++)
        many.push(pool.submit_command(GLib.PRIORITY_DEFAULT, ['printf', `${i}`]));
    await Promise.all(many.map(task => task.wait_async(null)));
    checkEqual(many.map(task => decode(task.get_result())).join(','),
        [...Array(16).keys()].join(','), 'stdout of 16 tasks, in input order');
}

async function testFailingCommand(pool) {
    const task = pool.submit_command(GLib.PRIORITY_DEFAULT,
        ['sh', '-c', 'echo oops >&2; exit 3']);
    const error = await expectRejection(task.wait_async(null), 'failing command');

    check(error instanceof GLib.Error, `a GLib.Error (got ${error})`);
    check(error.matches(Pmt.Error, Pmt.Error.COMMAND_FAILED),
        `Pmt.Error.COMMAND_FAILED (got domain ${error.domain}, code ${error.code})`);
    checkEqual(error.domain, Pmt.error_quark(), 'error domain is the Pmt quark');
    // Only the number and the child's stderr: the words are translated.
    check(/\b3\b/.test(error.message), `message names status 3: "${error.message}"`);
    check(error.message.includes('oops'), `message ends with the stderr: "${error.message}"`);

    checkEqual(task.get_state(), Pmt.TaskState.FAILED, 'state');
    check(task.get_error().matches(Pmt.Error, Pmt.Error.COMMAND_FAILED), 'get_error');
    checkEqual(task.get_result(), null, 'no result');
}

async function testLimiterAcquireAsync() {
    const limiter = Pmt.Limiter.new(1);

    checkEqual(await limiter.acquire_async(null), true, 'first acquire');
    checkEqual(limiter.get_available(), 0, 'available after the first acquire');

    let secondDone = false;
    const second = limiter.acquire_async(null).then(result => {
        secondDone = true;
        return result;
    });
    await drainPending();
    check(!secondDone, 'the second acquire waits while the limiter is held');
    checkEqual(limiter.get_n_waiting(), 1, 'n-waiting');

    // A cancelled acquire rejects and leaves its place in the line.
    const cancellable = new Gio.Cancellable();
    const third = limiter.acquire_async(cancellable);
    cancellable.cancel();
    const error = await expectRejection(third, 'cancelled acquire');
    check(error.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED),
        `cancelled acquire: G_IO_ERROR_CANCELLED (got ${error})`);
    check(!secondDone, 'the second acquire still waits');

    limiter.release();
    checkEqual(await second, true, 'release wakes the second acquire');
    checkEqual(limiter.get_available(), 0, 'the second acquire holds it');
    limiter.release();
    checkEqual(limiter.get_available(), 1, 'available after both releases');
    checkEqual(limiter.get_n_waiting(), 0, 'nobody waits');
}

async function testSignalsOnMainThread() {
    const pool = newPool();
    const N = 12;
    const completedCount = new Map();
    const unfinished = [];
    const succeeded = [];
    let offThread = 0;
    let allCompleted, sawZero;
    const allCompletedPromise = new Promise(resolve => (allCompleted = resolve));
    const sawZeroPromise = new Promise(resolve => (sawZero = resolve));

    pool.connect('notify::n-unfinished', () => {
        if (!mainContext.is_owner())
            offThread++;
        unfinished.push(pool.get_n_unfinished());
        if (pool.get_n_unfinished() === 0)
            sawZero();
    });
    pool.connect('notify::n-succeeded', () => {
        if (!mainContext.is_owner())
            offThread++;
        succeeded.push(pool.get_n_succeeded());
    });

    const tasks = [];
    for (let i = 0; i < N; i++) {
        const task = pool.submit_command(GLib.PRIORITY_DEFAULT, ['printf', `${i}`]);
        // Connecting after submitting is safe here: with a main context,
        // completed is emitted from an idle source of this thread, which
        // cannot run before we return to the loop.
        task.connect('completed', t => {
            if (!mainContext.is_owner())
                offThread++;
            completedCount.set(t, (completedCount.get(t) ?? 0) + 1);
            if (completedCount.size === N)
                allCompleted();
        });
        tasks.push(task);
    }

    await allCompletedPromise;
    await sawZeroPromise;
    await drainPending();   // any late or duplicate emission would come now

    checkEqual(offThread, 0, 'handlers that ran outside the main thread');
    for (const task of tasks)
        checkEqual(completedCount.get(task), 1, `completed emissions of task ${task.get_id()}`);
    check(unfinished.length > 0, 'notify::n-unfinished was emitted');
    checkEqual(unfinished[unfinished.length - 1], 0, 'last n-unfinished notify');
    check(succeeded.length > 0, 'notify::n-succeeded was emitted');
    checkEqual(succeeded[succeeded.length - 1], N, 'last n-succeeded notify');
    // Coalesced: at most one emission per task.
    check(succeeded.length <= N, `${succeeded.length} n-succeeded notifies for ${N} tasks`);
    check(pool.join(-1), 'join');
}

async function testTaskValues(pool) {
    const task = Pmt.CommandTask.new(['printf', 'x']);
    checkEqual(task.get_task_value(), null, 'no task value yet');
    task.set_task_value('a string');
    checkEqual(task.get_task_value(), 'a string', 'string round-trip');
    task.set_task_value(42);
    checkEqual(task.get_task_value(), 42, 'integer round-trip');
    task.set_task_value(2.5);
    checkEqual(task.get_task_value(), 2.5, 'double round-trip');
    task.set_task_value(true);
    checkEqual(task.get_task_value(), true, 'boolean round-trip');
    const object = {any: ['js', 'value']};
    task.set_task_value(object);
    checkEqual(task.get_task_value(), object, 'a JS object comes back as itself');
    task.set_task_value(null);  // nullable: clears it
    checkEqual(task.get_task_value(), null, 'cleared');
    // Settable until submitted (a critical after that); kept after the run.
    task.set_task_value('kept');

    check(pool.push(task), 'push');
    await task.wait_async(null);
    checkEqual(task.get_task_value(), 'kept', 'task value after the task ran');
    checkEqual(decode(task.get_result()), 'x', 'stdout');
}

// gjs refuses to call a JS function on a thread other than its own: it
// prints a Gjs-CRITICAL pair ("Attempting to run a JS callback on a
// different thread…" and "The offending callback was TaskFunc().") and
// returns from the callback without running it.  For a task function
// that means "returned without reporting", so the task ends SUCCEEDED
// with no result.  The pools and the threaded have a main context, so
// the JS closure is released on this thread, not on the worker, where
// releasing it would crash gjs.
async function checkRefusedTask(task, ran, what) {
    checkEqual(await task.wait_async(null), true, `${what}: wait_async`);
    checkEqual(task.get_state(), Pmt.TaskState.SUCCEEDED, `${what}: state`);
    checkEqual(task.get_result(), null, `${what}: result`);
    checkEqual(task.get_error(), null, `${what}: error`);
    check(!ran(), `${what}: the JS function did not run`);
}

async function collectGarbage() {
    // Let the closures' releases (idle sources) run, then collect: a
    // closure released on the wrong thread would crash here.
    await drainPending();
    System.gc();
    await drainPending();
}

async function testJsTaskFunctionRefused(pool) {
    let ran = false;
    const task = pool.submit(t => {
        ran = true;
        t.return_int(1);
    });
    await checkRefusedTask(task, () => ran, 'pool.submit');
    await collectGarbage();
}

async function testThreadedAndMapRefuseJsFunctions(pool) {
    let ran = 0;
    const threaded = Pmt.Threaded.new(() => ran++);
    // The threaded's tasks release their share of the closure where they
    // finish unless it has a main context.
    threaded.set_main_context(mainContext);
    const call = threaded.call_value('call data');
    checkEqual(call.get_task_value(), 'call data', 'call_value: task value');
    await checkRefusedTask(call, () => ran > 0, 'threaded.call_value');

    const mapped = pool.map(() => ran++, ['item'], 0);
    checkEqual(mapped.length, 1, 'map: one task per item');
    checkEqual(mapped[0].get_task_value(), 'item', 'map: task value');
    await checkRefusedTask(mapped[0], () => ran > 0, 'pool.map');
    await collectGarbage();
}

function expectInvalid(task, what) {
    task.run();
    checkEqual(task.get_state(), Pmt.TaskState.FAILED, `${what}: state`);
    check(task.get_error().matches(Pmt.Error, Pmt.Error.INVALID),
        `${what}: get_error is Pmt.Error.INVALID (got ${task.get_error()})`);
    let thrown = null;
    try {
        task.propagate_error();
    } catch (error) {
        thrown = error;
    }
    check(thrown instanceof GLib.Error && thrown.matches(Pmt.Error, Pmt.Error.INVALID),
        `${what}: propagate_error throws Pmt.Error.INVALID (got ${thrown})`);
}

async function testBareConstructors() {
    expectInvalid(new Pmt.Task(), 'new Pmt.Task()');
    expectInvalid(new Pmt.CommandTask(), 'new Pmt.CommandTask()');

    const byArgv = new Pmt.CommandTask({argv: ['printf', 'x']});
    byArgv.run();
    checkEqual(byArgv.get_state(), Pmt.TaskState.SUCCEEDED, 'CommandTask({argv}): state');
    checkEqual(decode(byArgv.get_result()), 'x', 'CommandTask({argv}): stdout');
    checkEqual(byArgv.propagate_error(), true, 'CommandTask({argv}): propagate_error');

    const first = new Pmt.Pool({name: 'gjs-by-props'});
    check(Pmt.Pool.lookup('gjs-by-props') === first, 'a pool made by properties is registered');
    checkEqual(first.init(null), true, 'its GInitable init succeeds');

    // gjs 1.74 does not call GInitable init for `new`: the clashing pool
    // is constructed, its explicit init fails, and it refuses all work.
    const second = new Pmt.Pool({name: 'gjs-by-props'});
    check(second instanceof Pmt.Pool, 'new with a taken name constructs an object');
    check(Pmt.Pool.lookup('gjs-by-props') === first, 'the registry keeps the first pool');
    const refusals = [
        ['init', () => second.init(null)],
        ['submit_command', () => second.submit_command(0, ['true'])],
        ['push', () => second.push(Pmt.CommandTask.new(['true']))],
    ];
    for (const [name, call] of refusals) {
        let thrown = null;
        try {
            call();
        } catch (error) {
            thrown = error;
        }
        check(thrown instanceof GLib.Error && thrown.matches(Pmt.Error, Pmt.Error.NAME_IN_USE),
            `second pool: ${name} throws Pmt.Error.NAME_IN_USE (got ${thrown})`);
    }

    check(second.join(-1), 'join the refused pool');
    check(first.join(-1), 'join the first pool');
    // A stopped pool gives its name back.
    checkEqual(Pmt.Pool.lookup('gjs-by-props'), null, 'lookup after join');
}

// -- The runner ------------------------------------------------------------

const loop = new GLib.MainLoop(null, false);
const pool = newPool();
const cases = [
    ['command tasks awaited through wait_async', () => testCommandTasks(pool)],
    ['a failing command rejects with Pmt.Error.COMMAND_FAILED', () => testFailingCommand(pool)],
    ['Limiter acquire_async waits for release', testLimiterAcquireAsync],
    ['completed and notify run on the main thread, counted', testSignalsOnMainThread],
    ['GValue task data round-trips', () => testTaskValues(pool)],
    ['a JS task function is refused, the task still ends', () => testJsTaskFunctionRefused(pool)],
    ['threaded and map refuse JS functions without crashing',
        () => testThreadedAndMapRefuseJsFunctions(pool)],
    ['bare constructors fail cleanly, pools by properties register', testBareConstructors],
];
let failures = 0;

async function runCases() {
    for (const [i, [name, run]] of cases.entries()) {
        // Watchdog: a case that hangs fails the whole test.
        const watchdog = GLib.timeout_add_seconds(GLib.PRIORITY_DEFAULT, CASE_TIMEOUT_SECONDS,
            () => {
                print(`not ok ${i + 1} - ${name}`);
                print(`Bail out! "${name}" did not finish within ${CASE_TIMEOUT_SECONDS} s`);
                System.exit(1);
                return GLib.SOURCE_REMOVE;
            });
        try {
            await run();
            print(`ok ${i + 1} - ${name}`);
        } catch (error) {
            failures++;
            print(`not ok ${i + 1} - ${name}`);
            for (const line of `${error}\n${error.stack ?? ''}`.trimEnd().split('\n'))
                print(`# ${line}`);
        } finally {
            GLib.source_remove(watchdog);
        }
    }
    print(`1..${cases.length}`);
}

runCases().catch(error => {
    failures++;
    print(`# runner: ${error}`);
}).finally(() => loop.quit());
loop.run();

if (!pool.join(-1)) {
    print('# pool.join failed');
    failures++;
}
System.exit(failures > 0 ? 1 : 0);
