/* pmt-1.0-custom.vala: declarations merged into pmt-1.0.vapi by vapigen.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * vapigen 0.56 drops a `ctype` given in metadata to an array parameter, and
 * valac passes a string[] as gchar**: a C compiler refuses that for a
 * `const char * const *` parameter (an error with GCC 14).  With
 * `type = "const gchar* const*"` valac casts the argument.  Pmt-1.0.metadata
 * skips the GIR's forms of these.
 */

namespace Pmt {
	/* PmtTask ** too: a GenericArray's data (the result of Pool.map) is a
	 * gpointer* in C, which valac passes as it is. */
	public class Task : GLib.Object {
		public static bool wait_all ([CCode (array_length_cname = "n_tasks", array_length_pos = 1.5, array_length_type = "guint", type = "PmtTask**")] Pmt.Task[] tasks, int64 timeout_usec);
		public static int wait_any ([CCode (array_length_cname = "n_tasks", array_length_pos = 1.5, array_length_type = "guint", type = "PmtTask**")] Pmt.Task[] tasks, int64 timeout_usec);
	}

	public sealed class CommandTask : Pmt.Task {
		[CCode (has_construct_function = false)]
		public CommandTask ([CCode (array_length = false, array_null_terminated = true, type = "const gchar* const*")] string[] argv);
		public void set_environ ([CCode (array_length = false, array_null_terminated = true, type = "const gchar* const*")] string[]? env);
	}

	/* Its interfaces come from the GIR. */
	public sealed class Pool : GLib.Object {
		public static Pmt.CompletionQueue as_completed ([CCode (array_length_cname = "n_tasks", array_length_pos = 1.1, array_length_type = "guint", type = "PmtTask**")] Pmt.Task[] tasks);
		public Pmt.CommandTask? submit_command (int priority, [CCode (array_length = false, array_null_terminated = true, type = "const gchar* const*")] string[] argv) throws GLib.Error;
	}
}
