/* hello.vala — the Vala chapter's program: lambdas on a pool, awaited
 * on the main loop
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Sums the squares of 1 … 10, one task each, then reads a file that does
 * not exist in a task, whose error comes back as an exception.  It exits
 * non-zero unless the sum is 385 and the error arrived.
 */

async int64 sum_squares (Pmt.Pool pool, int n) throws GLib.Error {
    var tasks = new GenericArray<Pmt.Task> ();

    for (int i = 1; i <= n; i++) {
        int k = i;  /* each lambda captures its own k */
        /* The lambda runs on a worker thread. */
        tasks.add (pool.submit ((task) => task.return_int (k * k)));
    }

    int64 sum = 0;
    foreach (var task in tasks) {
        yield task.wait_async ();    /* throws the task's error */
        sum += task.get_result ().get_int64 ();
    }
    return sum;
}

async bool read_missing (Pmt.Pool pool) throws GLib.Error {
    var task = pool.submit ((task) => {
        /* A task function cannot throw: it hands its error to the task. */
        try {
            string contents;
            FileUtils.get_contents ("/nonexistent/file", out contents);
            task.return_int (contents.length);
        } catch (FileError e) {
            task.return_error ((owned) e);
        }
    });
    return yield task.wait_async ();
}

int main () {
    var loop = new MainLoop ();
    int64 sum = 0;
    bool error_arrived = false;
    Pmt.Pool pool;

    try {
        /* completed, notify and the lambdas' release come back to this
         * thread, which runs the main loop. */
        pool = new Pmt.Pool.for_context ();
    } catch (GLib.Error e) {
        printerr ("%s\n", e.message);
        return 1;
    }

    sum_squares.begin (pool, 10, (obj, res) => {
        try {
            sum = sum_squares.end (res);
            read_missing.begin (pool, (obj, res) => {
                try {
                    read_missing.end (res);
                } catch (GLib.Error e) {
                    print ("the task failed: %s\n", e.message);
                    error_arrived = e is FileError.NOENT;
                }
                loop.quit ();
            });
        } catch (GLib.Error e) {
            printerr ("%s\n", e.message);
            loop.quit ();
        }
    });
    loop.run ();

    pool.join (-1);
    print ("sum of the squares of 1 to 10: %" + int64.FORMAT + "\n", sum);
    return sum == 385 && error_arrived ? 0 : 1;
}
