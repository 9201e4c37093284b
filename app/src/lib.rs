//! mixstation, the application: command line, audio file I/O, demo material, and (later)
//! sessions, playback and the workstation window. All signal processing lives in `gpu-dsp`.

pub mod cli;
pub mod demo;
pub mod gui;
pub mod io;
pub mod playback;
pub mod plot;
pub mod progress;
pub mod session;
