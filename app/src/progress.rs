//! Progress bars that stay quiet when standard output is not a terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A bar over `total` units with `label`; hidden when stdout is not a terminal.
pub fn bar(total: u64, label: &str) -> ProgressBar {
    let pb = ProgressBar::new(total);
    if std::io::stdout().is_terminal() {
        pb.set_draw_target(ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template("{msg:>12} [{bar:40}] {percent:>3}% eta {eta}")
        {
            pb.set_style(style.progress_chars("=> "));
        }
    } else {
        pb.set_draw_target(ProgressDrawTarget::hidden());
    }
    pb.set_message(label.to_string());
    pb
}
