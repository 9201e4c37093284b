//! `mixstation`: the command-line entry point.

use std::process::ExitCode;

fn main() -> ExitCode {
    mixstation::cli::run()
}
