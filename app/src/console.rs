//! Text for the user on standard output, written so that a closed pipe is not an error.

use std::io::Write;

/// Writes one line to standard output; a broken pipe (the reader went away) or any other
/// write error drops the text silently.
pub fn line(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_fmt(args).and_then(|()| out.write_all(b"\n"));
}
