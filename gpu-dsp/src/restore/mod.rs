//! Restoration of damaged recordings in the time domain: de-click (AR detection and
//! least-squares AR interpolation) and de-clip (consistent, constrained AR interpolation).

mod declick;
mod declip;

pub use declick::{declick, DeclickReport, DeclickSettings};
pub use declip::{declip, DeclipReport};
