//! Signal processing for mixstation.
//!
//! Every heavy processor has a CPU implementation (the reference, built on realfft) and a
//! wgpu compute implementation that computes the same function. This crate knows nothing of
//! files, devices or windows: it takes planar `f32` channels and parameters and returns
//! samples or analysis frames.

pub mod analysis;
pub mod approx;
pub mod conformance;
pub mod conv;
pub mod engine;
pub mod error;
pub mod gpu;
pub mod mix;
pub mod restore;
pub mod spectral;

pub use engine::{EngineChoice, ResolvedEngine};
pub use error::{DspError, Result};
