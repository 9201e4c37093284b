//! Spectral processing (issue #4): the STFT/WOLA framework and the processors built on it —
//! dialogue cleanup (noise suppression and hum removal), multiband dynamics and ducking.

mod backend;
mod bands;
mod clean;
mod deferred;
mod denoise;
mod duck;
mod dynamics;
mod gpu;
mod hum;
mod linked;
mod offline;
mod profile;
mod repair;
mod roomtone;
mod session;
mod stft;
mod tracker;

pub use backend::{CpuGainBank, GainTrackingBackend};
pub use bands::BandLayout;
pub use clean::{clean_cpu, clean_gpu, CleanPlan, CleanSettings, Cleaner, HumMode};
pub use deferred::DeferredCleaner;
pub use denoise::{denoise_offline, DenoiseConfig, Denoiser};
pub use duck::{duck_gain_db, DuckParams, SpectralDucker};
pub use dynamics::{band_gain_db, DynamicsMode, MultibandDynamics, MultibandParams};
pub use gpu::GpuGainBank;
pub use hum::{detect_hum, HumRemover, HumSpec, HUM_MAX_HZ};
pub use offline::FrameStft;
pub use profile::learn_profile;
pub use repair::{repair, repair_span, repair_stft, RepairMode, RepairRegion};
pub use roomtone::RoomTone;
pub use session::{frames_per_block, SessionGainBank};
pub use stft::{Stft, StftConfig};
pub use tracker::{GainTracker, NoiseModel};
