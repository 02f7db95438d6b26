/* checksum.vala: the SHA-256 of every file under a directory, from a pool
 * of sha256sum command tasks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Usage: pmt-checksum [DIRECTORY]   (default: /usr/share/common-licenses)
 *
 * Prints `<sum>  <file>` as each command completes, its progress on
 * stderr, and a summary at the end.  The pool delivers everything to the
 * main loop (Pmt.Pool.for_context), so no handler here runs on a worker
 * thread.  Ctrl-C cancels the queued commands and terminates the running
 * ones; a second Ctrl-C kills the program.  The exit status is 0 only if
 * every file was checksummed.
 */

const string DEFAULT_DIRECTORY = "/usr/share/common-licenses";

class Checksum : Object {
    Pmt.Pool pool;
    MainLoop loop = new MainLoop (null, false);
    uint n_files = 0;
    uint n_done = 0;
    uint n_failed = 0;
    uint n_cancelled = 0;
    bool interrupted = false;

    public Checksum () throws GLib.Error {
        /* 0 workers: one per processor.  Null context: the thread-default
         * one, which the main loop below runs. */
        pool = new Pmt.Pool.for_context (null, 0, null);
        pool.notify["n-succeeded"].connect (print_progress);
    }

    /* The regular files under @dir, recursively, without following
     * symbolic links.  What cannot be read counts as a failure. */
    void collect (File dir, GenericArray<string> paths) {
        try {
            var children = dir.enumerate_children ("standard::name,standard::type",
                                                   FileQueryInfoFlags.NOFOLLOW_SYMLINKS);
            FileInfo? info;

            while ((info = children.next_file ()) != null) {
                var child = dir.get_child (info.get_name ());

                if (info.get_file_type () == FileType.DIRECTORY)
                    collect (child, paths);
                else if (info.get_file_type () == FileType.REGULAR)
                    paths.add (child.get_path ());
            }
        } catch (GLib.Error e) {
            printerr ("%s: %s\n", dir.get_path (), e.message);
            n_failed++;
        }
    }

    void print_progress () {
        printerr ("checksum: %" + uint64.FORMAT + " of %u done\n", pool.n_succeeded, n_files);
    }

    /* On the main loop, once per task. */
    void on_completed (Pmt.Task task) {
        string[] argv = ((Pmt.CommandTask) task).argv;
        unowned string path = argv[argv.length - 1];

        switch (task.state) {
        case Pmt.TaskState.SUCCEEDED:
            var output = (Bytes) task.get_result ().get_boxed ();
            var lines = new DataInputStream (new MemoryInputStream.from_bytes (output));

            try {
                /* sha256sum marks with a backslash a line whose name it
                 * escaped: the sum is the first field either way. */
                string line = lines.read_line () ?? "";
                string sum = line.split (" ", 2)[0].replace ("\\", "");

                print ("%s  %s\n", sum, path);
            } catch (GLib.Error e) {
                printerr ("%s: %s\n", path, e.message);
                n_failed++;
            }
            break;
        case Pmt.TaskState.CANCELLED:
            n_cancelled++;
            break;
        default:
            printerr ("%s: %s\n", path, task.get_error ().message);
            n_failed++;
            break;
        }

        if (++n_done == n_files)
            loop.quit ();
    }

    bool on_interrupt () {
        printerr ("checksum: interrupted, cancelling\n");
        interrupted = true;
        /* Does not wait: the cancelled tasks complete on the main loop. */
        pool.shutdown (Pmt.ShutdownFlags.CANCEL_QUEUED | Pmt.ShutdownFlags.CANCEL_RUNNING, 0);
        /* Removed: a second Ctrl-C kills the program. */
        return Source.REMOVE;
    }

    public int run (string directory) {
        var paths = new GenericArray<string> ();
        /* Before the walk, which can be long: a Ctrl-C meanwhile is handled
         * when the main loop runs, and cancels everything. */
        uint sigint = Unix.signal_add (ProcessSignal.INT, on_interrupt);

        collect (File.new_for_commandline_arg (directory), paths);
        n_files = paths.length;

        foreach (unowned string path in paths) {
            var task = new Pmt.CommandTask ({ "sha256sum", "--", path });

            /* Connected before the task is submitted: it cannot complete
             * unseen. */
            task.completed.connect (on_completed);
            try {
                pool.push (task);
            } catch (GLib.Error e) {
                printerr ("%s: %s\n", path, e.message);
                n_failed++;
                n_done++;
            }
        }

        if (n_done < n_files)
            loop.run ();
        if (!interrupted)
            Source.remove (sigint);

        pool.notify["n-succeeded"].disconnect (print_progress);
        pool.shutdown (Pmt.ShutdownFlags.NONE, -1);
        printerr ("checksum: %u files, %" + uint64.FORMAT + " checksummed, %u failed, %u cancelled\n",
                  n_files, pool.n_succeeded, n_failed, n_cancelled);

        if (interrupted)
            return 130;
        return n_failed == 0 && n_cancelled == 0 ? 0 : 1;
    }
}

int main (string[] args) {
    if (args.length > 2) {
        printerr ("Usage: %s [DIRECTORY]\n", args[0]);
        return 2;
    }

    try {
        return new Checksum ().run (args.length == 2 ? args[1] : DEFAULT_DIRECTORY);
    } catch (GLib.Error e) {
        printerr ("checksum: %s\n", e.message);
        return 1;
    }
}
