async int64 sum_squares (Pmt.Pool pool, int n) throws GLib.Error {
    var tasks = new GenericArray<Pmt.Task> ();

    for (int i = 1; i <= n; i++) {
        int k = i;                              /* each lambda has its own k */
        tasks.add (pool.submit ((task) => task.return_int (k * k)));  /* on a worker */
    }
    int64 sum = 0;
    foreach (var task in tasks) {
        yield task.wait_async ();               /* the main loop runs meanwhile */
        sum += task.get_result ().get_int64 ();
    }
    return sum;
}

int main () {
    var loop = new MainLoop ();
    int64 sum = 0;

    try {
        var pool = new Pmt.Pool.for_context (); /* callbacks come back here */
        sum_squares.begin (pool, 10, (obj, res) => {
            try {
                sum = sum_squares.end (res);
            } catch (GLib.Error e) {
                printerr ("%s\n", e.message);
            }
            loop.quit ();
        });
        loop.run ();
        pool.join (-1);
    } catch (GLib.Error e) {
        printerr ("%s\n", e.message);
    }
    print ("%lld\n", sum);
    return sum == 385 ? 0 : 1;
}
