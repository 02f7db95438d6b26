/* test-vala.vala: the generated pmt-1.0.vapi, used as a Vala program uses it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every call here is written as a Vala user writes it, with no cast: what
 * needs one is a bug of the vapi.  The C that valac makes of this file is
 * compiled with -Werror=incompatible-pointer-types.
 */

/* A bound on every wait, so that a broken case fails instead of hanging. */
const int64 SAFETY_USEC = 30 * TimeSpan.SECOND;

static Pmt.Pool new_pool (uint max_workers) {
    try {
        return new Pmt.Pool (null, max_workers);
    } catch (GLib.Error e) {
        error ("new Pmt.Pool: %s", e.message);
    }
}

static void shutdown_pool (Pmt.Pool pool) {
    assert_true (pool.shutdown (Pmt.ShutdownFlags.NONE, SAFETY_USEC));
}

static void wait_or_fail (Pmt.Task task) {
    assert_true (task.wait (SAFETY_USEC));
}

static void assert_succeeded (Pmt.Task task) {
    wait_or_fail (task);
    assert_no_error (task.get_error ());
    assert_cmpint (task.state, CompareOperator.EQ, Pmt.TaskState.SUCCEEDED);
}

/* Runs @start on a new main loop until @done is set, or fails after the
 * safety bound. */
delegate void AsyncCase (MainLoop loop);

static void run_on_main_loop (AsyncCase start) {
    var loop = new MainLoop (null, false);
    bool timed_out = false;
    uint guard = Timeout.add_seconds ((uint) (SAFETY_USEC / TimeSpan.SECOND), () => {
        timed_out = true;
        loop.quit ();
        return Source.REMOVE;
    });

    start (loop);
    loop.run ();
    assert_false (timed_out);
    Source.remove (guard);
}

/* /vala/pool/submit-lambda: a lambda, with a captured local, is a task
 * function. */
static void test_submit_lambda () {
    var pool = new_pool (2);
    int captured = 41;

    try {
        var task = pool.submit ((task) => { task.return_int (42); });
        var closure = pool.submit ((task) => { task.return_int (captured + 1); });

        assert_succeeded (task);
        assert_cmpint ((int) task.get_result ().get_int64 (), CompareOperator.EQ, 42);
        assert_succeeded (closure);
        assert_cmpint ((int) closure.get_result ().get_int64 (), CompareOperator.EQ, 42);
    } catch (GLib.Error e) {
        error ("submit: %s", e.message);
    }
    shutdown_pool (pool);
}

/* /vala/pool/submit-full-priorities: on one worker held by a limiter,
 * queued tasks run lowest priority first, ties in submission order. */
static void test_submit_full_priorities () {
    var pool = new_pool (1);
    var started = new Pmt.Limiter (1);
    var gate = new Pmt.Limiter (1);
    int[] priorities = { 30, 10, 20, 10, -5, 0 };
    /* Index of each task in the order it must run. */
    int[] expected_rank = { 5, 2, 4, 3, 0, 1 };
    Pmt.Task[] tasks = {};
    int next_rank = 0;

    assert_true (started.try_acquire ());
    assert_true (gate.try_acquire ());
    try {
        var blocker = pool.submit ((task) => {
            started.release ();
            try {
                gate.acquire (-1);
                gate.release ();
            } catch (GLib.Error e) {
                task.return_error (e.copy ());
            }
        });

        /* The blocker runs: the only worker waits for the gate. */
        assert_true (started.acquire (SAFETY_USEC));
        foreach (int priority in priorities) {
            var task = pool.submit_full (priority, (task) => {
                task.return_int (AtomicInt.add (ref next_rank, 1));
            });
            assert_cmpint (task.priority, CompareOperator.EQ, priority);
            assert_cmpint (task.state, CompareOperator.EQ, Pmt.TaskState.QUEUED);
            tasks += task;
        }
        assert_cmpuint (pool.n_queued, CompareOperator.EQ, priorities.length);

        gate.release ();
        assert_true (Pmt.Task.wait_all (tasks, SAFETY_USEC));
        assert_succeeded (blocker);
        for (int i = 0; i < tasks.length; i++) {
            assert_succeeded (tasks[i]);
            assert_cmpint ((int) tasks[i].get_result ().get_int64 (), CompareOperator.EQ,
                           expected_rank[i]);
        }
    } catch (GLib.Error e) {
        error ("submit_full: %s", e.message);
    }
    started.release ();
    shutdown_pool (pool);
}

/* /vala/pool/map-values: the bindings' map, one task per GValue item, in
 * the order of the items. */
static void test_map_values () {
    var pool = new_pool (2);
    GLib.Value[] items = {};

    for (int i = 0; i < 10; i++) {
        var item = GLib.Value (typeof (int));
        item.set_int (i);
        items += item;
    }
    try {
        var tasks = pool.map ((task) => {
            task.return_int (task.get_task_value ().get_int () * 10);
        }, items, 3);

        assert_nonnull (tasks);
        assert_cmpuint (tasks.length, CompareOperator.EQ, items.length);
        assert_true (Pmt.Task.wait_all (tasks.data, SAFETY_USEC));
        for (int i = 0; i < tasks.length; i++) {
            assert_succeeded (tasks[i]);
            assert_cmpint ((int) tasks[i].get_result ().get_int64 (), CompareOperator.EQ, i * 10);
        }
    } catch (GLib.Error e) {
        error ("map: %s", e.message);
    }
    shutdown_pool (pool);
}

/* /vala/pool/map-pointers: the C map, restored for Vala: each task's
 * task-data is its item, and a pointer result goes back with its notify. */
static void test_map_pointers () {
    var pool = new_pool (2);
    string[] words = { "one", "two", "three" };
    void*[] items = {};

    foreach (unowned string word in words)
        items += (void*) word;
    try {
        var tasks = pool.map_pointers ((task) => {
            unowned string word = (string) task.get_task_data ();
            task.return_pointer (word.up (), GLib.free);
        }, items, 0);

        assert_nonnull (tasks);
        assert_true (Pmt.Task.wait_all (tasks.data, SAFETY_USEC));
        for (int i = 0; i < words.length; i++) {
            assert_succeeded (tasks[i]);
            assert_true (tasks[i].task_data == items[i]);
            assert_cmpstr ((string) tasks[i].get_result_pointer (), CompareOperator.EQ,
                           words[i].up ());
        }
    } catch (GLib.Error e) {
        error ("map_pointers: %s", e.message);
    }
    shutdown_pool (pool);
}

/* /vala/task/task-data: per-call data handed over with its notify. */
static void test_task_data () {
    var task = new Pmt.Task ((task) => {
        unowned string data = (string) task.get_task_data ();
        task.return_int (data.length);
    });

    task.set_task_data ("four".dup (), GLib.free);
    task.run ();
    assert_succeeded (task);
    assert_cmpint ((int) task.get_result ().get_int64 (), CompareOperator.EQ, 4);
}

/* /vala/task/to-variant: the snapshot is owned by the caller (the
 * metadata turns its floating reference into an owned one). */
static void test_to_variant () {
    var task = new Pmt.Task ((task) => { task.return_int (4); });

    task.run ();
    Variant snapshot = task.to_variant ();
    assert_true (!snapshot.is_floating ());
    string state;
    assert_true (snapshot.lookup ("state", "s", out state));
    assert_cmpstr (state, CompareOperator.EQ, "succeeded");
    var result = snapshot.lookup_value ("result", VariantType.INT64);
    assert_cmpint ((int) result.get_int64 (), CompareOperator.EQ, 4);
    /* A temporary: freed only when the vapi says the caller owns it. */
    assert_true (task.to_variant ().print (false).contains ("succeeded"));
}

/* /vala/pool/as-completed: every task comes back from the queue, done. */
static void test_as_completed () {
    var pool = new_pool (2);
    Pmt.Task[] tasks = {};

    try {
        for (int i = 0; i < 5; i++)
            tasks += pool.submit ((task) => { task.return_int ((int64) task.id); });
    } catch (GLib.Error e) {
        error ("submit: %s", e.message);
    }

    var completed = Pmt.Pool.as_completed (tasks);
    var seen = new GenericSet<uint64?> (int64_hash, int64_equal);

    for (int i = 0; i < tasks.length; i++) {
        var task = completed.next (-1);

        assert_nonnull (task);
        assert_true (task.is_done ());
        assert_succeeded (task);
        assert_cmpint ((int) task.get_result ().get_int64 (), CompareOperator.EQ, (int) task.id);
        seen.add (task.id);
    }
    assert_cmpuint (seen.length, CompareOperator.EQ, tasks.length);
    assert_cmpuint (completed.get_n_pending (), CompareOperator.EQ, 0);
    assert_null (completed.next (0));
    shutdown_pool (pool);
}

/* /vala/limiter/sync: try_acquire, acquire with a timeout, release. */
static void test_limiter_sync () {
    var limiter = new Pmt.Limiter (2);

    assert_cmpuint (limiter.limit, CompareOperator.EQ, 2);
    assert_true (limiter.try_acquire ());
    try {
        assert_true (limiter.acquire (-1));
    } catch (GLib.Error e) {
        error ("acquire: %s", e.message);
    }
    assert_cmpuint (limiter.available, CompareOperator.EQ, 0);
    assert_false (limiter.try_acquire ());
    try {
        limiter.acquire (0);
        assert_not_reached ();
    } catch (Pmt.Error.TIMED_OUT e) {
        /* Full, and nobody releases it. */
    } catch (GLib.Error e) {
        error ("acquire (0): %s", e.message);
    }
    limiter.release ();
    limiter.release ();
    assert_cmpuint (limiter.available, CompareOperator.EQ, 2);
}

static async void acquire_when_released (Pmt.Limiter limiter) {
    try {
        assert_true (yield limiter.acquire_async ());
    } catch (GLib.Error e) {
        error ("acquire_async: %s", e.message);
    }
}

/* /vala/limiter/acquire-async: `yield limiter.acquire_async ()` waits for a
 * release on the main loop. */
static void test_limiter_async () {
    var limiter = new Pmt.Limiter (1);

    assert_true (limiter.try_acquire ());
    run_on_main_loop ((loop) => {
        acquire_when_released.begin (limiter, (obj, res) => {
            acquire_when_released.end (res);
            loop.quit ();
        });
        Idle.add (() => {
            assert_cmpuint (limiter.n_waiting, CompareOperator.EQ, 1);
            limiter.release ();
            return Source.REMOVE;
        });
    });
    /* Held by the asynchronous call now. */
    assert_cmpuint (limiter.available, CompareOperator.EQ, 0);
    limiter.release ();
}

/* /vala/threaded/call-value: per-call data as a GValue. */
static void test_threaded_call_value () {
    var threaded = new Pmt.Threaded ((task) => {
        task.return_int (task.get_task_value ().get_int () + 1);
    });
    var value = GLib.Value (typeof (int));

    value.set_int (20);
    try {
        var task = threaded.call_value (value);

        assert_nonnull (task);
        assert_succeeded (task);
        assert_cmpint ((int) task.get_result ().get_int64 (), CompareOperator.EQ, 21);
    } catch (GLib.Error e) {
        error ("call_value: %s", e.message);
    }
}

/* /vala/threaded/call-pointer: per-call data handed over with its notify,
 * the C form restored for Vala. */
static void test_threaded_call_pointer () {
    var threaded = new Pmt.Threaded ((task) => {
        unowned string data = (string) task.get_task_data ();
        task.return_int (data.length);
    });
    string data = "seven!!";

    try {
        var task = threaded.call (data.dup (), GLib.free);

        assert_nonnull (task);
        assert_succeeded (task);
        assert_cmpint ((int) task.get_result ().get_int64 (), CompareOperator.EQ, 7);
    } catch (GLib.Error e) {
        error ("call: %s", e.message);
    }
}

/* /vala/command-task/output: a command task succeeds with its standard
 * output as GBytes; argv and environment go in as string[]. */
static void test_command_task_output () {
    var pool = new_pool (2);
    var printf = new Pmt.CommandTask ({ "printf", "hi" });
    var env = new Pmt.CommandTask ({ "sh", "-c", "printf %s \"$PMT_VALA\"" });

    assert_cmpstrv (printf.argv, { "printf", "hi" });
    env.set_environ ({ "PMT_VALA=from-environ" });
    try {
        assert_true (pool.push (printf));
        assert_true (pool.push (env));
    } catch (GLib.Error e) {
        error ("push: %s", e.message);
    }
    assert_succeeded (printf);
    assert_succeeded (env);

    var out_printf = (GLib.Bytes) printf.get_result ().get_boxed ();
    var out_env = (GLib.Bytes) env.get_result ().get_boxed ();

    assert_cmpint (out_printf.compare (new GLib.Bytes ("hi".data)), CompareOperator.EQ, 0);
    assert_cmpint (out_env.compare (new GLib.Bytes ("from-environ".data)), CompareOperator.EQ, 0);
    shutdown_pool (pool);
}

/* /vala/command-task/failure: pool.submit_command() gives a CommandTask;
 * its failure is a Pmt.Error, thrown by propagate_error(). */
static void test_command_task_failure () {
    var pool = new_pool (1);

    try {
        Pmt.CommandTask task = pool.submit_command (0, { "sh", "-c", "exit 3" });

        wait_or_fail (task);
        assert_cmpint (task.state, CompareOperator.EQ, Pmt.TaskState.FAILED);
        try {
            task.propagate_error ();
            assert_not_reached ();
        } catch (Pmt.Error.COMMAND_FAILED e) {
            assert_true (e.domain == Pmt.Error.quark ());
            assert_true ("3" in e.message);
        }
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    shutdown_pool (pool);
}

static async bool wait_for (Pmt.Task task) throws GLib.Error {
    return yield task.wait_async ();
}

/* /vala/task/wait-async: `yield task.wait_async ()` on a main loop, for a
 * task that succeeds and for one that fails (it throws). */
static void test_wait_async () {
    var pool = new_pool (2);
    Pmt.Task ok = null;
    Pmt.Task failing = null;
    bool ok_result = false;
    GLib.Error? failing_error = null;

    try {
        ok = pool.submit ((task) => { task.return_boolean (true); });
        failing = pool.submit ((task) => {
            task.return_error (new Pmt.Error.FAILED ("on purpose"));
        });
    } catch (GLib.Error e) {
        error ("submit: %s", e.message);
    }

    run_on_main_loop ((loop) => {
        int n_left = 2;

        wait_for.begin (ok, (obj, res) => {
            try {
                ok_result = wait_for.end (res);
            } catch (GLib.Error e) {
                error ("wait_async: %s", e.message);
            }
            if (--n_left == 0)
                loop.quit ();
        });
        wait_for.begin (failing, (obj, res) => {
            try {
                wait_for.end (res);
            } catch (GLib.Error e) {
                failing_error = e.copy ();
            }
            if (--n_left == 0)
                loop.quit ();
        });
    });
    assert_true (ok_result);
    assert_true (ok.get_result ().get_boolean ());
    assert_error (failing_error, Pmt.Error.quark (), Pmt.Error.FAILED);
    assert_cmpint (failing.state, CompareOperator.EQ, Pmt.TaskState.FAILED);
    shutdown_pool (pool);
}

/* A Vala subclass overrides the virtual run(). */
class SquareTask : Pmt.Task {
    public int operand { get; construct; }

    public SquareTask (int operand) {
        Object (operand: operand);
    }

    public override void run () {
        return_int (operand * operand);
    }
}

/* /vala/task/subclass: a Vala subclass of Pmt.Task runs its own run(). */
static void test_subclass () {
    var pool = new_pool (1);
    var task = new SquareTask (9);

    try {
        assert_true (pool.push (task));
    } catch (GLib.Error e) {
        error ("push: %s", e.message);
    }
    assert_succeeded (task);
    assert_cmpint ((int) task.get_result ().get_int64 (), CompareOperator.EQ, 81);
    shutdown_pool (pool);
}

static void assert_bare_fails (Pmt.Task task) {
    task.run ();
    assert_cmpint (task.state, CompareOperator.EQ, Pmt.TaskState.FAILED);
    assert_error (task.get_error (), Pmt.Error.quark (), Pmt.Error.INVALID);
    assert_true (task.get_result () == null);
    try {
        task.propagate_error ();
        assert_not_reached ();
    } catch (Pmt.Error.INVALID e) {
        /* A task without work. */
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
}

/* /vala/task/bare: `new Pmt.Task ()` needs a function in Vala; made from
 * properties, as bindings make it, a task without one fails with
 * Pmt.Error.INVALID, and so does a command task without a command. */
static void test_bare_tasks () {
    assert_bare_fails ((Pmt.Task) Object.new (typeof (Pmt.Task)));
    assert_bare_fails ((Pmt.Task) Object.new (typeof (Pmt.CommandTask)));
}

/* /vala/pool/by-properties: a pool made from properties is registered
 * under its name; a second one of that name fails init(). */
static void test_pool_by_properties () {
    const string NAME = "vala-by-props";
    var pool = (Pmt.Pool) Object.new (typeof (Pmt.Pool), "name", NAME);
    var clash = (Pmt.Pool) Object.new (typeof (Pmt.Pool), "name", NAME);

    assert_true (Pmt.Pool.lookup (NAME) == pool);
    try {
        assert_true (pool.init (null));
    } catch (GLib.Error e) {
        error ("init: %s", e.message);
    }
    try {
        clash.init (null);
        assert_not_reached ();
    } catch (Pmt.Error.NAME_IN_USE e) {
        /* The name stays the first pool's. */
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
    assert_true (Pmt.Pool.lookup (NAME) == pool);
    shutdown_pool (pool);
    shutdown_pool (clash);
}

int main (string[] args) {
    Test.init (ref args);

    Test.add_func ("/vala/pool/submit-lambda", test_submit_lambda);
    Test.add_func ("/vala/pool/submit-full-priorities", test_submit_full_priorities);
    Test.add_func ("/vala/pool/map-values", test_map_values);
    Test.add_func ("/vala/pool/map-pointers", test_map_pointers);
    Test.add_func ("/vala/pool/as-completed", test_as_completed);
    Test.add_func ("/vala/pool/by-properties", test_pool_by_properties);
    Test.add_func ("/vala/task/task-data", test_task_data);
    Test.add_func ("/vala/task/wait-async", test_wait_async);
    Test.add_func ("/vala/task/to-variant", test_to_variant);
    Test.add_func ("/vala/task/subclass", test_subclass);
    Test.add_func ("/vala/task/bare", test_bare_tasks);
    Test.add_func ("/vala/limiter/sync", test_limiter_sync);
    Test.add_func ("/vala/limiter/acquire-async", test_limiter_async);
    Test.add_func ("/vala/threaded/call-value", test_threaded_call_value);
    Test.add_func ("/vala/threaded/call-pointer", test_threaded_call_pointer);
    Test.add_func ("/vala/command-task/output", test_command_task_output);
    Test.add_func ("/vala/command-task/failure", test_command_task_failure);

    return Test.run ();
}
