//! Built insert processors behind one enum, with named automatable parameters.

use super::automation::Automation;
use super::dynamics::{Compressor, Gate};
use super::eq::ParametricEq;
use super::graph::InsertSpec;
use super::graph::Target;
use super::limiter::TruePeakLimiter;
use crate::conv::{ConvolutionReverb, ConvolverConfig, ReverbParams};
use crate::spectral::{Cleaner, DeferredCleaner, DenoiseConfig, MultibandDynamics, SpectralDucker};
use crate::Result;

/// A ready-to-run insert.
pub enum Insert {
    Eq(ParametricEq),
    Compressor(Compressor),
    Gate(Gate),
    Limiter(Box<TruePeakLimiter>),
    /// The convolution reverb (wet/dry with the dry path delayed to match) writing into
    /// `scratch`, which is copied back in place; its tail on the CPU or in the mixer's
    /// [`crate::conv::GpuTail`].
    Reverb {
        reverb: Box<ConvolutionReverb>,
        scratch: Vec<Vec<f32>>,
    },
    /// One cleaner per channel, each writing into `scratch`.
    Clean {
        cleaners: Vec<Cleaner>,
        scratch: Vec<f32>,
    },
    /// One cleaner per channel with its gains from the mixer's
    /// [`crate::spectral::SessionGainBank`] ([`DspMode::Gpu`]).
    CleanDeferred(Vec<DeferredCleaner>),
    Duck(Box<SpectralDucker>),
    Multiband(Box<MultibandDynamics>),
}

/// The STFT every spectral insert uses at `rate`.
fn spectral_config(rate: f32) -> crate::spectral::StftConfig {
    DenoiseConfig::dialogue(rate).stft
}

impl Insert {
    /// Builds `spec` for `channels` channels at `rate`, processing at most `block` samples;
    /// a reverb is partitioned and placed as `mode` says (with [`DspMode::Gpu`] it
    /// contributes nothing until attached to a [`crate::conv::GpuTail`], and a `clean`
    /// insert's gains come from the mixer's GPU bank).
    pub fn build(
        spec: &InsertSpec,
        channels: usize,
        rate: f32,
        block: usize,
        mode: DspMode,
    ) -> Result<Self> {
        Ok(match spec {
            InsertSpec::Eq(bands) => Insert::Eq(ParametricEq::new(bands, rate, channels)),
            InsertSpec::Compressor(p) => Insert::Compressor(Compressor::new(*p, rate)),
            InsertSpec::Gate(p) => Insert::Gate(Gate::new(*p, rate)),
            InsertSpec::Limiter {
                ceiling_db,
                release_ms,
            } => Insert::Limiter(Box::new(TruePeakLimiter::new(
                *ceiling_db,
                *release_ms,
                channels,
                rate,
            ))),
            InsertSpec::Reverb { ir, wet, dry } => {
                let planes: Vec<&[f32]> = ir.iter().map(|c| c.as_slice()).collect();
                let params = ReverbParams {
                    wet: *wet,
                    dry: *dry,
                    ..Default::default()
                };
                let config = reverb_config(block, mode, ir_len(ir));
                let reverb = if mode == DspMode::Gpu {
                    ConvolutionReverb::with_gpu_tail(&planes, channels, params, config, block)?
                } else {
                    ConvolutionReverb::new(&planes, channels, params, config, block)?
                };
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
                if mode == DspMode::Gpu {
                    let delay = gpu_clean_delay(block);
                    return Ok(Insert::CleanDeferred(
                        (0..channels)
                            .map(|_| {
                                DeferredCleaner::new(&config, hum.as_ref(), rate, block, delay)
                            })
                            .collect(),
                    ));
                }
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

    /// Delay `spec` will add when built for `block`-sample processing with `mode` (without
    /// building it).
    pub fn latency_of(spec: &InsertSpec, rate: f32, block: usize, mode: DspMode) -> usize {
        match spec {
            InsertSpec::Limiter {
                ceiling_db,
                release_ms,
            } => TruePeakLimiter::new(*ceiling_db, *release_ms, 0, rate).latency(),
            InsertSpec::Reverb { ir, .. } => reverb_config(block, mode, ir_len(ir)).block,
            InsertSpec::Clean { .. } if mode == DspMode::Gpu => {
                spectral_config(rate).fft + gpu_clean_delay(block)
            }
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
            Insert::Clean { cleaners, .. } => cleaners.first().map_or(0, Cleaner::latency),
            Insert::CleanDeferred(cleaners) => cleaners.first().map_or(0, DeferredCleaner::latency),
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
            Insert::CleanDeferred(cleaners) => {
                for (c, x) in cleaners.iter_mut().zip(channels.iter_mut()) {
                    c.process(x);
                }
            }
            Insert::Duck(_) => self.process_keyed(channels, None),
            Insert::Multiband(m) => m.process(channels),
            Insert::Eq(eq) => eq.process(channels),
            Insert::Compressor(c) => c.process(channels),
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

    /// Sets a named parameter; false when the insert has no such parameter. Tests only: the
    /// library sets parameters by id ([`Insert::set`]), resolved once, so no name is ever
    /// matched on the engine thread.
    #[cfg(test)]
    pub(crate) fn set_param(&mut self, name: &str, v: f32) -> bool {
        self.resolve_own(name).is_some_and(|id| self.set(id, v))
    }

    /// [`Insert::resolve`] against this built insert (its kind, and an EQ's bands).
    #[cfg(test)]
    fn resolve_own(&self, name: &str) -> Option<super::ParamId> {
        use super::params::{self, ParamId};
        let table = match self {
            Insert::Eq(eq) => {
                let id = ParamId::resolve_band(name)?;
                return (usize::from(id.band) < eq.bands().len()).then_some(id);
            }
            Insert::Reverb { .. } if !matches!(name, "wet" | "dry") => return None,
            Insert::Compressor(_) => params::COMPRESSOR,
            Insert::Gate(_) => params::GATE,
            Insert::Limiter(_) => params::LIMITER,
            Insert::Reverb { .. } => params::REVERB,
            Insert::Clean { .. } | Insert::CleanDeferred(_) => params::CLEAN,
            Insert::Duck(_) => params::DUCK,
            Insert::Multiband(_) => params::MULTIBAND,
        };
        ParamId::resolve(table, name)
    }

    /// The gain reduction this insert applies now (dB, ≤ 0) when it is a dynamics processor
    /// (compressor, gate, limiter, duck, multiband), for meters.
    pub fn reduction_db(&self) -> Option<f32> {
        match self {
            Insert::Compressor(c) => Some(c.reduction_db()),
            Insert::Gate(g) => Some(g.reduction_db()),
            Insert::Limiter(l) => Some(l.reduction_db()),
            Insert::Duck(d) => Some(d.reduction_db()),
            Insert::Multiband(m) => Some(m.reduction_db()),
            _ => None,
        }
    }

    /// Another instance of a built reverb with no past input, sharing its IR's partition
    /// spectra (a bus's instance per stem); `None` for every other kind.
    pub fn shared_instance(&self) -> Option<Insert> {
        match self {
            Insert::Reverb { reverb, scratch } => Some(Insert::Reverb {
                reverb: Box::new(reverb.fresh_instance()),
                scratch: scratch.iter().map(|c| vec![0.0; c.len()]).collect(),
            }),
            _ => None,
        }
    }

    /// The reverb, when this insert is one (for the mixer's GPU tail).
    pub fn reverb_mut(&mut self) -> Option<&mut ConvolutionReverb> {
        match self {
            Insert::Reverb { reverb, .. } => Some(reverb),
            _ => None,
        }
    }

    /// The cleaners, when this insert is a `clean` with its gains from the mixer's GPU bank.
    pub fn deferred_cleaners_mut(&mut self) -> Option<&mut [DeferredCleaner]> {
        match self {
            Insert::CleanDeferred(cleaners) => Some(cleaners),
            _ => None,
        }
    }

    /// The parameter names `set_param` accepts (for session validation and automation):
    /// every declared parameter of the processor ([`super::params`]), less a reverb's
    /// pre-delay and IR gain.
    pub fn param_names(spec: &InsertSpec) -> Vec<String> {
        use super::params::{self, ParamInfo};
        let names = |table: &[ParamInfo]| table.iter().map(|p| p.name.to_string()).collect();
        match spec {
            InsertSpec::Compressor(_) => names(params::COMPRESSOR),
            InsertSpec::Gate(_) => names(params::GATE),
            InsertSpec::Limiter { .. } => names(params::LIMITER),
            InsertSpec::Clean { .. } => names(params::CLEAN),
            InsertSpec::Duck { .. } => names(params::DUCK),
            InsertSpec::Multiband(_) => names(params::MULTIBAND),
            InsertSpec::Eq(bands) => (0..bands.len())
                .flat_map(|k| {
                    params::EQ_BAND
                        .iter()
                        .map(move |p| format!("band{k}_{}", p.name))
                })
                .collect(),
            InsertSpec::Reverb { .. } => ["wet", "dry"].map(String::from).to_vec(),
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
    (automation, overrides): (&[(Target, Automation)], &super::graph::Overrides),
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
            if let Target::Insert(i, id) = target {
                // A parameter a pass is writing follows its control instead.
                if *i == index && !overrides.has(target) {
                    insert.set(*id, env.value_at((start + at as i64) as f64));
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

/// Where a mix's heavy processing runs and how its convolution reverbs are partitioned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DspMode {
    /// One engine block of latency (compensated by the mixer) instead of a direct-form head,
    /// then partitions growing ×4: little work in any one block, for playback.
    #[default]
    Streaming,
    /// [`DspMode::Streaming`] with the session's GPU work in one submission per engine
    /// block: the reverbs' tail multiply-accumulates in a [`crate::conv::GpuTail`], the
    /// `clean` inserts' per-bin gain tracking in a [`crate::spectral::SessionGainBank`]
    /// (their gains come back two blocks later, which [`gpu_clean_delay`] adds to their
    /// latency).
    Gpu,
    /// Uniform partitions of about a quarter of the IR ([`ConvolverConfig::offline`], as the
    /// `convolve` command's): the least work per sample, uneven across blocks, for
    /// offline renders (whose latency is removed anyway). A 3 s IR is 5 partitions of 32768
    /// samples.
    Offline,
}

/// What a `clean` insert waits for its gains from the GPU with engine blocks of `block`
/// samples: the readback ring's two blocks.
pub(crate) fn gpu_clean_delay(block: usize) -> usize {
    2 * block
}

/// The longest channel of an IR.
fn ir_len(ir: &[Vec<f32>]) -> usize {
    ir.iter().map(Vec::len).max().unwrap_or(0)
}

/// Reverb partitioning in the mix for engine blocks of `block` samples and IRs of `ir_len`.
pub(crate) fn reverb_config(block: usize, mode: DspMode, ir_len: usize) -> ConvolverConfig {
    match mode {
        DspMode::Offline => ConvolverConfig::offline(ir_len),
        DspMode::Streaming | DspMode::Gpu => ConvolverConfig {
            block: block.next_power_of_two().clamp(256, 4096),
            ..Default::default()
        },
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::mix::params;

    /// The plan's latencies come from the description alone: they must be what the built
    /// processors report, for every kind, channel count, rate and block.
    #[test]
    fn planned_latency_is_the_built_latency() {
        for spec in every_kind() {
            for (channels, rate, block) in
                [(1, 48_000.0, 256), (2, 48_000.0, 2048), (2, 96_000.0, 512)]
            {
                for mode in [DspMode::Streaming, DspMode::Offline, DspMode::Gpu] {
                    let built = Insert::build(&spec, channels, rate, block, mode).unwrap();
                    assert_eq!(
                        built.latency(),
                        Insert::latency_of(&spec, rate, block, mode),
                        "{spec:?} at {channels} channels, {rate} Hz, block {block}, {mode:?}"
                    );
                }
            }
        }
    }

    /// Every kind of insert with its defaults (an EQ of two bands).
    pub(crate) fn every_kind() -> Vec<InsertSpec> {
        vec![
            InsertSpec::Eq(vec![
                crate::mix::EqBand {
                    kind: crate::mix::FilterKind::Bell,
                    freq: 1000.0,
                    gain_db: 3.0,
                    q: 1.0,
                };
                2
            ]),
            InsertSpec::Compressor(Default::default()),
            InsertSpec::Gate(Default::default()),
            InsertSpec::Limiter {
                ceiling_db: -1.0,
                release_ms: 100.0,
            },
            InsertSpec::Reverb {
                ir: vec![vec![1.0, 0.5, 0.25]],
                wet: 1.0,
                dry: 0.0,
            },
            InsertSpec::Clean {
                reduction_db: 18.0,
                hum: None,
            },
            InsertSpec::Duck {
                sidechain: 0,
                params: Default::default(),
            },
            InsertSpec::Multiband(Default::default()),
        ]
    }

    #[test]
    fn every_declared_parameter_is_live() {
        for spec in every_kind() {
            let mut insert = Insert::build(&spec, 2, 48_000.0, 512, DspMode::Streaming).unwrap();
            let names = Insert::param_names(&spec);
            assert!(!names.is_empty(), "{spec:?}");
            for name in names {
                assert!(insert.set_param(&name, 1.0), "{spec:?}: {name}");
            }
            assert!(!insert.set_param("no_such_parameter", 1.0));
        }
        // The limiter's settings read back as set.
        let spec = &every_kind()[3];
        let mut limiter = Insert::build(spec, 2, 48_000.0, 512, DspMode::Streaming).unwrap();
        limiter.set_param("ceiling_db", -3.0);
        limiter.set_param("release_ms", 250.0);
        let Insert::Limiter(l) = &limiter else {
            unreachable!()
        };
        let (ceiling, release) = l.params();
        assert!((ceiling + 3.0).abs() < 1e-4 && (release - 250.0).abs() < 0.01);
        assert_eq!(params::LIMITER.len(), 2);
    }

    #[test]
    fn dynamics_report_their_reduction_and_the_others_none() {
        let kinds = every_kind();
        let metered: Vec<bool> = kinds
            .iter()
            .map(|s| {
                Insert::build(s, 1, 48_000.0, 512, DspMode::Streaming)
                    .unwrap()
                    .reduction_db()
                    .is_some()
            })
            .collect();
        assert_eq!(metered, [false, true, true, true, false, false, true, true]);
        // A closed gate reports its range.
        let mut gate = Insert::build(&kinds[2], 1, 48_000.0, 512, DspMode::Streaming).unwrap();
        gate.process(&mut [&mut vec![0.0f32; 4800][..]]);
        assert!((gate.reduction_db().unwrap() + 80.0).abs() < 0.5);
    }
}
