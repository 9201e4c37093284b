//! Spectral processing (issue #4, in progress): the STFT/WOLA framework that the dialogue
//! cleanup, multiband dynamics and ducking processors build on.

mod denoise;
mod stft;

pub use denoise::{DenoiseConfig, Denoiser};
pub use stft::{Stft, StftConfig};
