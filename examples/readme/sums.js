import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Pmt from 'gi://Pmt?version=1.0';
import System from 'system';

Gio._promisify(Pmt.Task.prototype, 'wait_async', 'wait_finish');

// completed, notify and wait_async callbacks come back to this thread.
const pool = Pmt.Pool.new_for_context(null, 0, null);
const loop = new GLib.MainLoop(null, false);
let failed = 0;

async function checksum(path) {
    // The work is a child process: no JavaScript runs on the workers.
    const task = pool.submit_command(GLib.PRIORITY_DEFAULT, ['sha256sum', '--', path]);
    try {
        await task.wait_async(null);
        print(new TextDecoder().decode(task.get_result().toArray()).trimEnd());
    } catch (error) {                   // a GLib.Error in the Pmt.Error domain
        printerr(error.message);
        failed++;
    }
}

Promise.all(System.programArgs.map(checksum)).finally(() => loop.quit());
loop.run();
pool.join(-1);
System.exit(failed > 0 ? 1 : 0);
