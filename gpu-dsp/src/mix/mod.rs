//! The mix bus building blocks: EQ, dynamics, true-peak limiter, panning, automation.
//!
//! Every processor follows the same shape: built with its parameters and the sample rate,
//! `process` works in place on planar channels, never allocates, and reports its latency.

mod automation;
mod automation_write;
mod bus;
mod bypass;
mod delay;
mod dynamics;
mod dynamics_lanes;
mod eq;
mod eq_lanes;
mod fade;
mod gpu_analysis;
mod graph;
mod insert;
mod lane;
#[cfg(test)]
pub(crate) mod lanes_test;
mod limiter;
mod master;
mod mixer;
mod pan;
mod param_access;
pub mod params;
mod pipe;
mod plan;
pub mod solo;

pub use automation::{Automation, AutomationError};
pub use automation_write::{envelope_at, thin, AutomationMode, PassRecorder};

pub use dynamics::{Compressor, CompressorParams, Gate, GateParams};
pub use eq::{Biquad, EqBand, FilterKind, ParametricEq};
pub use fade::FadeShape;
pub use graph::{
    BusSpec, ClipSpec, InsertSpec, MasterSpec, MixSpec, Overrides, SendSpec, Source, SourceReader,
    StreamSource, Target, TrackSpec,
};
pub use insert::{DspMode, Insert};
pub use limiter::TruePeakLimiter;
pub use master::{finish_master, MasterFinisher, MasterReport};
pub use mixer::Mixer;
pub use pan::{balance_gains, downmix_to_stereo, mono_mix, pan_gains, surround_pan_gains, Layout};
pub use params::ParamId;
pub use plan::{bus_order, MixPlan};

/// dB to linear gain.
#[inline]
pub fn db_to_gain(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

/// Fills `out` with a gain moving from `*last` to `target` over the block (linear, ending on
/// `target`; constant when they are equal or when `*last` is NaN, before the first block),
/// then remembers `target`. How every live change glides without zipper noise.
pub(crate) fn glide_to(last: &mut f32, target: f32, out: &mut [f32]) {
    let from = if last.is_nan() { target } else { *last };
    *last = target;
    if from == target {
        out.fill(target);
        return;
    }
    let n = out.len() as f32;
    for (k, v) in out.iter_mut().enumerate() {
        *v = from + (target - from) * (k + 1) as f32 / n;
    }
}

/// Linear gain to dB (−inf for 0).
#[inline]
pub fn gain_to_db(gain: f32) -> f32 {
    20.0 * gain.abs().log10()
}
