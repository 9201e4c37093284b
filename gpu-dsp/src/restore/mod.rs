//! Restoration of damaged recordings in the time domain: de-click (AR detection and
//! least-squares AR interpolation).

mod declick;

pub use declick::{declick, DeclickReport, DeclickSettings};
