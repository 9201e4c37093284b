//! Dialogue cleanup of whole signals (`mixstation clean`) and as a streaming insert: hum
//! removal, then broadband noise suppression, per channel. The plan (hum frequency, noise
//! profiles) is decided from the signal first; the CPU and GPU engines then compute the same
//! function, aligned with the input and of the same length.

use super::denoise::{denoise_offline, DenoiseConfig, Denoiser};
use super::gpu::GpuGainBank;
use super::hum::{detect_hum, HumRemover, HumSpec};
use super::offline::FrameStft;
use super::profile::learn_profile;
use super::stft::StftConfig;
use super::tracker::NoiseModel;
use crate::gpu::GpuContext;
use crate::mix::mono_mix;
use crate::{DspError, Result};
use realfft::num_complex::Complex32;
use std::sync::Arc;

/// What to do about mains hum.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HumMode {
    /// Find 50 or 60 Hz hum and remove the harmonics that are there.
    Auto,
    /// Remove hum at this nominal mains frequency (refined from the signal), all harmonics.
    Mains(f64),
    /// Leave hum alone.
    Off,
}

/// The user's cleanup settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CleanSettings {
    /// Largest broadband reduction in dB.
    pub reduction_db: f32,
    pub hum: HumMode,
    /// A noise-only region (seconds) to learn the noise profile from; tracked when `None`.
    pub noise_from: Option<(f64, f64)>,
}

impl Default for CleanSettings {
    fn default() -> Self {
        Self {
            reduction_db: 18.0,
            hum: HumMode::Auto,
            noise_from: None,
        }
    }
}

/// The cleanup decided for one signal.
#[derive(Clone, Debug, PartialEq)]
pub struct CleanPlan {
    pub stft: StftConfig,
    pub reduction_db: f32,
    /// One noise model per channel.
    pub noise: Vec<NoiseModel>,
    /// The hum to remove, if any.
    pub hum: Option<HumSpec>,
    /// Whether hum was found in the signal (with `HumMode::Mains` the harmonics are removed
    /// whether or not it was).
    pub hum_found: bool,
}

impl CleanPlan {
    /// Examines `planes` (at `rate` Hz): finds the hum and learns the noise profiles.
    pub fn new(planes: &[Vec<f32>], rate: f32, settings: &CleanSettings) -> Result<Self> {
        if planes.is_empty() {
            return Err(DspError::InvalidInput("no channels".into()));
        }
        if planes.iter().any(|p| p.len() != planes[0].len()) {
            return Err(DspError::InvalidInput(
                "channels of different lengths".into(),
            ));
        }
        if let HumMode::Mains(f) = settings.hum {
            if !(f.is_finite() && f > 0.0) {
                return Err(DspError::InvalidInput(format!("mains frequency {f} Hz")));
            }
        }
        let stft = DenoiseConfig::dialogue(rate).stft;
        let (hum, hum_found) = match settings.hum {
            HumMode::Off => (None, false),
            HumMode::Auto => {
                let found = detect_hum(&mono_mix(planes), rate, None);
                let was = found.is_some();
                (found, was)
            }
            HumMode::Mains(f) => {
                let found = detect_hum(&mono_mix(planes), rate, Some(f));
                let f0 = found.as_ref().map_or(f, |h| h.fundamental);
                (Some(HumSpec::all_harmonics(f0, rate)), found.is_some())
            }
        };
        // The profile is learned from the signal as the denoiser will see it: hum removed.
        // A channel that is digital silence in the region falls back to tracking, unless
        // every channel is.
        let noise = match settings.noise_from {
            None => vec![NoiseModel::Tracked; planes.len()],
            Some((start, end)) => {
                // Only the stretch up to the region's end needs the hum taken out (the
                // canceller settles from the start); the rest is left to the cleanup itself.
                let upto = |x: &[f32]| ((end * f64::from(rate)).ceil() as usize).min(x.len());
                let learned: Vec<Result<Vec<f32>>> = planes
                    .iter()
                    .map(|x| {
                        let mut head = dehum_with(&x[..upto(x)], hum.as_ref(), rate);
                        // Keep the signal's length so a region past its end is reported.
                        head.resize(x.len(), 0.0);
                        learn_profile(&head, rate, stft, start, end)
                    })
                    .collect();
                let silent = |r: &Result<Vec<f32>>| matches!(r, Err(DspError::InvalidInput(m)) if m.contains("digital silence"));
                if learned.iter().all(silent) {
                    return Err(DspError::InvalidInput(format!(
                        "noise region {start}:{end} is digital silence: there is no noise to learn"
                    )));
                }
                learned
                    .into_iter()
                    .map(|r| match r {
                        Ok(p) => Ok(NoiseModel::Profile(p)),
                        Err(DspError::InvalidInput(m)) if m.contains("digital silence") => {
                            Ok(NoiseModel::Tracked)
                        }
                        Err(e) => Err(e),
                    })
                    .collect::<Result<_>>()?
            }
        };
        Ok(Self {
            stft,
            reduction_db: settings.reduction_db,
            noise,
            hum,
            hum_found,
        })
    }

    fn denoise_config(&self, channel: usize) -> DenoiseConfig {
        DenoiseConfig {
            stft: self.stft,
            reduction_db: self.reduction_db,
            noise: self.noise[channel].clone(),
        }
    }
}

/// Runs `work` on every channel, spreading channels over the available cores.
fn per_channel<T: Send>(planes: &[Vec<f32>], work: impl Fn(usize, &[f32]) -> T + Sync) -> Vec<T> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(planes.len());
    let mut out: Vec<Option<T>> = (0..planes.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let chunk = planes.len().div_ceil(workers);
        for (i, slots) in out.chunks_mut(chunk).enumerate() {
            let work = &work;
            scope.spawn(move || {
                for (j, slot) in slots.iter_mut().enumerate() {
                    let c = i * chunk + j;
                    *slot = Some(work(c, &planes[c]));
                }
            });
        }
    });
    out.into_iter().flatten().collect()
}

/// Hum removal on a copy of one channel.
fn dehum(x: &[f32], plan: &CleanPlan, rate: f32) -> Vec<f32> {
    dehum_with(x, plan.hum.as_ref(), rate)
}

fn dehum_with(x: &[f32], hum: Option<&HumSpec>, rate: f32) -> Vec<f32> {
    let mut y = x.to_vec();
    match hum {
        Some(spec) => HumRemover::new(spec, rate).process(&mut y),
        None => y
            .iter_mut()
            .filter(|v| !v.is_finite())
            .for_each(|v| *v = 0.0),
    }
    y
}

/// Cleans every channel on the CPU (channels in parallel).
pub fn clean_cpu(planes: &[Vec<f32>], rate: f32, plan: &CleanPlan) -> Vec<Vec<f32>> {
    per_channel(planes, |c, x| {
        denoise_offline(&dehum(x, plan, rate), &plan.denoise_config(c), rate)
    })
}

/// Cleans every channel with the per-bin work batched across all channels on the GPU.
pub fn clean_gpu(
    ctx: Arc<GpuContext>,
    planes: &[Vec<f32>],
    rate: f32,
    plan: &CleanPlan,
) -> Result<Vec<Vec<f32>>> {
    let dehummed = per_channel(planes, |_, x| dehum(x, plan, rate));
    let bins = plan.stft.bins();
    let mut bank = GpuGainBank::new(
        ctx,
        bins,
        plan.stft.hop,
        rate,
        plan.reduction_db,
        &plan.noise,
    )?;
    let len = planes[0].len();
    let channels = planes.len();
    let mut stfts: Vec<FrameStft> = (0..channels).map(|_| FrameStft::new(plan.stft)).collect();
    let frames = stfts[0].frames(len);
    let batch = bank.frames_per_batch();
    let mut spectra = vec![Complex32::default(); channels * batch * bins];
    let mut power = vec![0.0f32; channels * batch * bins];
    let mut gains = vec![0.0f32; channels * batch * bins];
    let mut out: Vec<Vec<f32>> = vec![vec![0.0; len]; channels];
    let mut first = 0;
    while first < frames {
        let count = batch.min(frames - first);
        let span = count * bins;
        // Analysis, channels in parallel.
        for_channels(
            &mut stfts,
            spectra.chunks_mut(span).zip(power.chunks_mut(span)),
            |stft, c, (spec, pow)| {
                for f in 0..count {
                    let s = &mut spec[f * bins..(f + 1) * bins];
                    stft.analyze(&dehummed[c], first + f, s);
                    for (p, v) in pow[f * bins..(f + 1) * bins].iter_mut().zip(s.iter()) {
                        *p = v.norm_sqr();
                    }
                }
            },
        );
        bank.process(
            &power[..channels * span],
            count,
            &mut gains[..channels * span],
        )?;
        // Gains applied and synthesis, channels in parallel.
        for_channels(
            &mut stfts,
            spectra
                .chunks_mut(span)
                .zip(gains.chunks(span))
                .zip(out.iter_mut()),
            |stft, _, ((spec, g), y)| {
                for f in 0..count {
                    let s = &mut spec[f * bins..(f + 1) * bins];
                    for (v, g) in s.iter_mut().zip(&g[f * bins..(f + 1) * bins]) {
                        *v *= *g;
                    }
                    stft.synthesize(s, first + f, y);
                }
            },
        );
        first += count;
    }
    Ok(out)
}

/// Runs `work(stft, channel, item)` for each channel's STFT and item, on up to the
/// available cores.
fn for_channels<I: Send>(
    stfts: &mut [FrameStft],
    items: impl Iterator<Item = I>,
    work: impl Fn(&mut FrameStft, usize, I) + Sync,
) {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut jobs: Vec<Vec<(usize, &mut FrameStft, I)>> = (0..workers).map(|_| Vec::new()).collect();
    for (c, (stft, item)) in stfts.iter_mut().zip(items).enumerate() {
        jobs[c % workers].push((c, stft, item));
    }
    std::thread::scope(|scope| {
        for job in jobs {
            let work = &work;
            scope.spawn(move || {
                for (c, stft, item) in job {
                    work(stft, c, item);
                }
            });
        }
    });
}

/// Streaming cleanup of one channel (the mix engine's `clean` insert): hum removal, then
/// noise suppression. Latency: the STFT size. All memory is allocated in `new`.
pub struct Cleaner {
    hum: Option<HumRemover>,
    denoiser: Denoiser,
    reduction_db: f32,
}

impl Cleaner {
    pub fn new(config: DenoiseConfig, hum: Option<&HumSpec>, rate: f32) -> Self {
        Self {
            hum: hum.map(|h| HumRemover::new(h, rate)),
            reduction_db: config.reduction_db,
            denoiser: Denoiser::new(config, rate),
        }
    }

    /// Delay in samples.
    pub fn latency(&self) -> usize {
        self.denoiser.latency()
    }

    /// The latest gain per bin.
    pub fn gains(&self) -> &[f32] {
        self.denoiser.gains()
    }

    /// Changes the largest broadband attenuation (from the next frame).
    pub fn set_reduction_db(&mut self, reduction_db: f32) {
        self.reduction_db = reduction_db;
        self.denoiser.set_reduction_db(reduction_db);
    }

    /// The largest broadband attenuation in dB.
    pub fn reduction_db(&self) -> f32 {
        self.reduction_db
    }

    pub fn reset(&mut self) {
        self.denoiser.reset();
        if let Some(h) = &mut self.hum {
            h.reset();
        }
    }

    /// Cleans `buffer` in place (delayed by `latency()`). Never allocates.
    pub fn process(&mut self, input: &mut [f32], output: &mut [f32]) {
        if let Some(h) = &mut self.hum {
            h.process(input);
        }
        self.denoiser.process(input, output);
    }
}
