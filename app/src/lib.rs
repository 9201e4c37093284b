//! mixstation, the application: command line, audio file I/O, sessions, rendering,
//! playback, demo material and the workstation window. All signal processing lives in
//! `gpu-dsp`.

/// `println!` that never panics: a closed standard output (`mixstation analyze x | head`)
/// drops the text quietly and the command still finishes its files.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::console::line(format_args!($($arg)*))
    };
}

pub mod cli;
pub mod console;
pub mod demo;
pub mod edit;
pub mod gui;
pub mod io;
pub mod options;
pub mod playback;
pub mod plot;
pub mod progress;
pub mod render;
pub mod session;
