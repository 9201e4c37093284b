//! Built insert processors behind one enum, with named automatable parameters.

use super::automation::Automation;
use super::dynamics::{Compressor, Gate};
use super::eq::ParametricEq;
use super::gpu_reverb::GpuReverb;
use super::graph::InsertSpec;
use super::graph::Target;
use super::limiter::TruePeakLimiter;
use crate::conv::{ConvolutionReverb, ConvolverConfig, ReverbParams};
use crate::gpu::GpuContext;
use crate::spectral::{Cleaner, DenoiseConfig, MultibandDynamics, SpectralDucker};
use crate::Result;
use std::sync::Arc;

/// A ready-to-run insert.
pub enum Insert {
    Eq(ParametricEq),
    Compressor(Compressor),
    Gate(Gate),
    Limiter(TruePeakLimiter),
    /// The convolution reverb (wet/dry with the dry path delayed to match) writing into
    /// `scratch`, which is copied back in place.
    Reverb {
        reverb: Box<ConvolutionReverb>,
        scratch: Vec<Vec<f32>>,
    },
    /// The same reverb with its tail partitions on the GPU.
    GpuReverb(Box<GpuReverb>),
    /// One cleaner per channel, each writing into `scratch`.
    Clean {
        cleaners: Vec<Cleaner>,
        scratch: Vec<f32>,
    },
    Duck(Box<SpectralDucker>),
    Multiband(Box<MultibandDynamics>),
}

/// The STFT every spectral insert uses at `rate`.
fn spectral_config(rate: f32) -> crate::spectral::StftConfig {
    DenoiseConfig::dialogue(rate).stft
}

impl Insert {
    /// Builds `spec` for `channels` channels at `rate`, processing at most `block` samples;
    /// with `gpu`, a reverb runs its tail there.
    pub fn build(
        spec: &InsertSpec,
        channels: usize,
        rate: f32,
        block: usize,
        gpu: Option<&Arc<GpuContext>>,
    ) -> Result<Self> {
        if let (InsertSpec::Reverb { ir, wet, dry }, Some(ctx)) = (spec, gpu) {
            return Ok(Insert::GpuReverb(Box::new(GpuReverb::new(
                Arc::clone(ctx),
                ir,
                channels,
                (*wet, *dry),
                reverb_config(block),
                block,
            )?)));
        }
        Ok(match spec {
            InsertSpec::Eq(bands) => Insert::Eq(ParametricEq::new(bands, rate, channels)),
            InsertSpec::Compressor(p) => Insert::Compressor(Compressor::new(*p, rate)),
            InsertSpec::Gate(p) => Insert::Gate(Gate::new(*p, rate)),
            InsertSpec::Limiter {
                ceiling_db,
                release_ms,
            } => Insert::Limiter(TruePeakLimiter::new(
                *ceiling_db,
                *release_ms,
                channels,
                rate,
            )),
            InsertSpec::Reverb { ir, wet, dry } => {
                let planes: Vec<&[f32]> = ir.iter().map(|c| c.as_slice()).collect();
                let params = ReverbParams {
                    wet: *wet,
                    dry: *dry,
                    ..Default::default()
                };
                let reverb =
                    ConvolutionReverb::new(&planes, channels, params, reverb_config(block), block)?;
                if reverb.outputs() != channels {
                    return Err(crate::DspError::InvalidInput(format!(
                        "a {}-channel IR gives {} channels where {channels} are needed",
                        ir.len(),
                        reverb.outputs()
                    )));
                }
                Insert::Reverb {
                    reverb: Box::new(reverb),
                    scratch: vec![vec![0.0; block]; channels],
                }
            }
            InsertSpec::Clean { reduction_db, hum } => {
                let config = DenoiseConfig {
                    reduction_db: *reduction_db,
                    ..DenoiseConfig::dialogue(rate)
                };
                Insert::Clean {
                    cleaners: (0..channels)
                        .map(|_| Cleaner::new(config.clone(), hum.as_ref(), rate))
                        .collect(),
                    scratch: vec![0.0; block],
                }
            }
            InsertSpec::Duck { params, .. } => Insert::Duck(Box::new(SpectralDucker::new(
                *params,
                spectral_config(rate),
                rate,
                channels,
            ))),
            InsertSpec::Multiband(p) => Insert::Multiband(Box::new(MultibandDynamics::new(
                *p,
                spectral_config(rate),
                rate,
                channels,
            ))),
        })
    }

    /// Delay `spec` will add when built for `block`-sample processing (without building it).
    pub fn latency_of(spec: &InsertSpec, rate: f32, block: usize) -> usize {
        match spec {
            InsertSpec::Limiter {
                ceiling_db,
                release_ms,
            } => TruePeakLimiter::new(*ceiling_db, *release_ms, 0, rate).latency(),
            InsertSpec::Reverb { .. } => reverb_config(block).block,
            InsertSpec::Clean { .. } | InsertSpec::Duck { .. } | InsertSpec::Multiband(_) => {
                spectral_config(rate).fft
            }
            _ => 0,
        }
    }

    /// Samples of delay this insert adds.
    pub fn latency(&self) -> usize {
        match self {
            Insert::Limiter(l) => l.latency(),
            Insert::Reverb { reverb, .. } => reverb.latency(),
            Insert::GpuReverb(r) => r.latency(),
            Insert::Clean { cleaners, .. } => cleaners.first().map_or(0, Cleaner::latency),
            Insert::Duck(d) => d.latency(),
            Insert::Multiband(m) => m.latency(),
            _ => 0,
        }
    }

    /// Processes planar channels in place; `sidechain` keys a `duck` (silence when absent).
    /// Never allocates.
    pub fn process_keyed(&mut self, channels: &mut [&mut [f32]], sidechain: Option<&[f32]>) {
        if let Insert::Duck(d) = self {
            let n = channels.first().map_or(0, |c| c.len());
            let count = channels.len().min(8);
            const SILENCE: [f32; 4096] = [0.0; 4096];
            match sidechain {
                Some(key) => d.process(channels, &key[..n]),
                None => {
                    let mut done = 0;
                    while done < n {
                        let m = (n - done).min(SILENCE.len());
                        let mut views: [&mut [f32]; 8] = Default::default();
                        for (v, c) in views.iter_mut().zip(channels.iter_mut()) {
                            *v = &mut c[done..done + m];
                        }
                        d.process(&mut views[..count], &SILENCE[..m]);
                        done += m;
                    }
                }
            }
            return;
        }
        self.process(channels);
    }

    /// Processes planar channels in place. Never allocates.
    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        match self {
            Insert::Clean { cleaners, scratch } => {
                for (c, x) in cleaners.iter_mut().zip(channels.iter_mut()) {
                    let n = x.len();
                    c.process(x, &mut scratch[..n]);
                    x.copy_from_slice(&scratch[..n]);
                }
            }
            Insert::Duck(_) => self.process_keyed(channels, None),
            Insert::Multiband(m) => m.process(channels),
            Insert::Eq(eq) => eq.process(channels),
            Insert::Compressor(c) => c.process(channels),
            Insert::GpuReverb(r) => r.process(channels),
            Insert::Gate(g) => g.process(channels),
            Insert::Limiter(l) => l.process(channels),
            Insert::Reverb { reverb, scratch } => {
                let n = channels.first().map_or(0, |c| c.len());
                {
                    let ins: [&[f32]; 8] =
                        std::array::from_fn(|c| channels.get(c).map_or(&[][..], |x| &x[..]));
                    let mut outs: [&mut [f32]; 8] = Default::default();
                    for (o, s) in outs.iter_mut().zip(scratch.iter_mut()) {
                        *o = &mut s[..n];
                    }
                    let k = channels.len().min(8);
                    reverb.process(&ins[..k], &mut outs[..k]);
                }
                for (x, y) in channels.iter_mut().zip(scratch.iter()) {
                    x.copy_from_slice(&y[..n]);
                }
            }
        }
    }

    /// Sets a named parameter; false when the insert has no such parameter.
    pub fn set_param(&mut self, name: &str, v: f32) -> bool {
        match self {
            Insert::Compressor(c) => {
                let mut p = c.params();
                match name {
                    "threshold_db" => p.threshold_db = v,
                    "ratio" => p.ratio = v,
                    "makeup_db" => p.makeup_db = v,
                    "attack_ms" => p.attack_ms = v,
                    "release_ms" => p.release_ms = v,
                    _ => return false,
                }
                c.set_params(p);
            }
            Insert::Gate(g) => {
                let mut p = g.params();
                match name {
                    "threshold_db" => p.threshold_db = v,
                    "range_db" => p.range_db = v,
                    _ => return false,
                }
                g.set_params(p);
            }
            Insert::Eq(eq) => {
                // band<k>_gain_db / band<k>_freq / band<k>_q
                let Some((band, field)) = name.strip_prefix("band").and_then(|r| r.split_once('_'))
                else {
                    return false;
                };
                let Ok(k) = band.parse::<usize>() else {
                    return false;
                };
                let Some(mut b) = eq.bands().get(k).copied() else {
                    return false;
                };
                match field {
                    "gain_db" => b.gain_db = v,
                    "freq" => b.freq = v,
                    "q" => b.q = v,
                    _ => return false,
                }
                eq.set_band(k, b);
            }
            Insert::Reverb { reverb, .. } => {
                let p = reverb.params();
                match name {
                    "wet" => reverb.set_mix(v, p.dry),
                    "dry" => reverb.set_mix(p.wet, v),
                    _ => return false,
                }
            }
            Insert::GpuReverb(r) => {
                let (wet, dry) = r.mix();
                match name {
                    "wet" => r.set_mix(v, dry),
                    "dry" => r.set_mix(wet, v),
                    _ => return false,
                }
            }
            Insert::Limiter(_) | Insert::Clean { .. } | Insert::Duck(_) | Insert::Multiband(_) => {
                return false
            }
        }
        true
    }

    /// The first processing failure (a lost GPU), if any.
    pub fn error(&self) -> Option<&str> {
        match self {
            Insert::GpuReverb(r) => r.error(),
            _ => None,
        }
    }

    /// The parameter names `set_param` accepts (for session validation).
    pub fn param_names(spec: &InsertSpec) -> Vec<String> {
        match spec {
            InsertSpec::Compressor(_) => [
                "threshold_db",
                "ratio",
                "makeup_db",
                "attack_ms",
                "release_ms",
            ]
            .map(String::from)
            .to_vec(),
            InsertSpec::Gate(_) => ["threshold_db", "range_db"].map(String::from).to_vec(),
            InsertSpec::Eq(bands) => (0..bands.len())
                .flat_map(|k| ["gain_db", "freq", "q"].map(|f| format!("band{k}_{f}")))
                .collect(),
            InsertSpec::Reverb { .. } => ["wet", "dry"].map(String::from).to_vec(),
            InsertSpec::Limiter { .. }
            | InsertSpec::Clean { .. }
            | InsertSpec::Duck { .. }
            | InsertSpec::Multiband(_) => Vec::new(),
        }
    }
}

/// How often automated insert parameters are updated (0.33 ms at 48 kHz): an EQ gain ramp of
/// 12 dB per second moves 0.004 dB per update, far below audibility.
pub(crate) const CONTROL_SAMPLES: usize = 16;

/// Runs insert `index` of a chain over `channels` (at timeline sample `start`). When
/// `automation` has envelopes for its parameters it runs in steps of [`CONTROL_SAMPLES`],
/// each after setting them to the envelope's value there; otherwise in one call. `key` is a
/// `duck`'s sidechain for the same samples. Never allocates.
pub(crate) fn process_automated(
    insert: &mut Insert,
    index: usize,
    automation: &[(Target, Automation)],
    start: i64,
    channels: &mut [&mut [f32]],
    key: Option<&[f32]>,
) {
    let mine = |t: &Target| matches!(t, Target::Insert(i, _) if *i == index);
    if !automation.iter().any(|(t, _)| mine(t)) {
        insert.process_keyed(channels, key);
        return;
    }
    let n = channels.first().map_or(0, |c| c.len());
    let count = channels.len().min(8);
    let mut at = 0;
    while at < n {
        let m = CONTROL_SAMPLES.min(n - at);
        for (target, env) in automation {
            if let Target::Insert(i, name) = target {
                if *i == index {
                    insert.set_param(name, env.value_at((start + at as i64) as f64));
                }
            }
        }
        let mut part: [&mut [f32]; 8] = Default::default();
        for (p, c) in part.iter_mut().zip(channels.iter_mut()) {
            *p = &mut c[at..at + m];
        }
        insert.process_keyed(&mut part[..count], key.map(|k| &k[at..at + m]));
        at += m;
    }
}

/// Reverb partitioning in the mix: one engine block of latency (compensated by the mixer)
/// instead of a direct-form head, far cheaper when a session has many reverbs.
fn reverb_config(block: usize) -> ConvolverConfig {
    ConvolverConfig {
        block: block.next_power_of_two().clamp(256, 4096),
        ..Default::default()
    }
}
