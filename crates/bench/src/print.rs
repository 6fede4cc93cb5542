//! The bench's output: lines to standard output, as a running bench must not stop for a closed
//! terminal or pipe.

use std::io::Write;

/// Prints a line to standard output, ignoring a closed one.
pub(crate) fn say(line: &str) {
    let _ = writeln!(std::io::stdout(), "{line}");
}
