//! The one error type of this crate.

use thiserror::Error;

/// Everything that can go wrong inside gpu-dsp.
#[derive(Debug, Error)]
pub enum DspError {
    /// No wgpu adapter matched the request.
    #[error("no GPU adapter: {0}")]
    NoAdapter(String),
    /// The adapter refused to open a device.
    #[error("GPU device request failed: {0}")]
    Device(String),
    /// A GPU operation (mapping, polling, validation) failed.
    #[error("GPU operation failed: {0}")]
    Gpu(String),
    /// A parameter or input is outside what the processor accepts.
    #[error("{0}")]
    InvalidInput(String),
}

/// Result with [`DspError`].
pub type Result<T> = std::result::Result<T, DspError>;
