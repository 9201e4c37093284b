//! `mixstation`: command line and (later) the workstation window.

mod cli;
mod demo;
mod io;
mod progress;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::run()
}
