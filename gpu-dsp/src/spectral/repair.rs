//! Spectral repair (the CPU reference): time–frequency regions of a signal are attenuated
//! to the level of their surroundings, replaced by magnitudes interpolated across them, or
//! filled with the nearest similar frames. The signal is taken apart into STFT frames (2048
//! points, hop 512 at 48 kHz; scaled with the rate), each region's cells are rewritten, and
//! the frames are put back together by weighted overlap-add, which gives the input back
//! exactly wherever nothing was touched. A region's edges are feathered (raised cosine over
//! [`FEATHER_FRAMES`] frames and [`FEATHER_BINS`] bins) so there are no clicks.

use super::{FrameStft, StftConfig};
use crate::{DspError, Result};
use realfft::num_complex::Complex32;

/// Frames and bins over which a region's edge fades in.
pub const FEATHER_FRAMES: usize = 2;
pub const FEATHER_BINS: usize = 2;
/// Frames each side of a region that give its surroundings.
const CONTEXT: usize = 6;

/// What a repair does inside its region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RepairMode {
    /// Each bin lowered to the level of the same bin around the region (never raised).
    Attenuate,
    /// Magnitudes interpolated across the region from both sides (in dB), phases continued
    /// from the frames before it.
    Replace,
    /// The nearest unselected run of frames whose surroundings look most alike, copied in
    /// (magnitudes; phases continued).
    Pattern,
}

impl RepairMode {
    /// `attenuate`, `replace` or `pattern`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "attenuate" => Some(Self::Attenuate),
            "replace" => Some(Self::Replace),
            "pattern" => Some(Self::Pattern),
            _ => None,
        }
    }
}

/// One region to repair: a time span (seconds), a band (Hz; the whole spectrum when
/// `None`), what to do and a gain (dB) on the result (0: to the surroundings' level).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RepairRegion {
    pub from: f64,
    pub to: f64,
    pub band: Option<(f64, f64)>,
    pub mode: RepairMode,
    pub gain_db: f64,
}

/// The STFT a repair uses at `rate`: about 43 ms frames with a quarter-frame hop.
pub fn repair_stft(rate: u32) -> StftConfig {
    let fft = ((f64::from(rate) * 0.0427).round() as usize)
        .next_power_of_two()
        .clamp(256, 16_384);
    StftConfig { fft, hop: fft / 4 }
}

/// A region in frames and bins: the cells it covers fully (`core`) and the feathered
/// edges around them (`outer`, the cells it touches at all), with the weight of each.
#[derive(Clone, Copy, Debug)]
struct Cells {
    frames: (usize, usize),
    bins: (usize, usize),
}

impl Cells {
    /// The weight (0..1) of frame `f`, bin `k`: 1 inside, a raised cosine over the feather.
    fn weight(&self, f: usize, k: usize) -> f32 {
        let ramp = |i: usize, (a, b): (usize, usize), feather: usize| -> f32 {
            let d = if i < a {
                a - i
            } else if i > b {
                i - b
            } else {
                return 1.0;
            };
            if d > feather {
                return 0.0;
            }
            let x = d as f32 / (feather + 1) as f32;
            0.5 * (1.0 + (std::f32::consts::PI * x).cos())
        };
        ramp(f, self.frames, FEATHER_FRAMES) * ramp(k, self.bins, FEATHER_BINS)
    }

    /// The frames and bins with a weight above zero: (first, last) frame and bin.
    fn outer(&self, frames: usize, bins: usize) -> ((usize, usize), (usize, usize)) {
        (
            (
                self.frames.0.saturating_sub(FEATHER_FRAMES),
                (self.frames.1 + FEATHER_FRAMES).min(frames - 1),
            ),
            (
                self.bins.0.saturating_sub(FEATHER_BINS),
                (self.bins.1 + FEATHER_BINS).min(bins - 1),
            ),
        )
    }
}

/// Repairs `x` (one channel at `rate` Hz) in every region, in order; returns the result
/// (same length). Fails on a region outside the signal or with an empty span or band.
///
/// Only the frames around each region are analysed: the change to each of them (the
/// rewritten cells minus the original, by their weight) is overlap-added onto the signal,
/// which is exactly the full resynthesis (it is linear, and the untouched frames give the
/// input back) at a cost and memory that grow with the region, not the file.
pub fn repair(x: &[f32], rate: u32, regions: &[RepairRegion]) -> Result<Vec<f32>> {
    let config = repair_stft(rate);
    let mut stft = FrameStft::new(config);
    let bins = config.bins();
    let count = stft.frames(x.len());
    let seconds = x.len() as f64 / f64::from(rate);
    let mut y = x.to_vec();
    for r in regions {
        let cells = cells_of(r, config, rate, seconds, count)?;
        let (first, last) = frames_read(cells, r.mode, count);
        let local: Vec<Vec<Complex32>> = (first..=last)
            .map(|f| {
                let mut s = vec![Complex32::default(); bins];
                stft.analyze(&y, f, &mut s);
                s
            })
            .collect();
        let shifted = Cells {
            frames: (cells.frames.0 - first, cells.frames.1 - first),
            bins: cells.bins,
        };
        let target = match r.mode {
            RepairMode::Attenuate => attenuated(&local, shifted, r.gain_db),
            RepairMode::Replace => replaced(&local, shifted, r.gain_db, config),
            RepairMode::Pattern => patterned(&local, shifted, r.gain_db, config),
        };
        // The change, by each cell's weight, overlap-added onto the signal.
        let ((f0, f1), (k0, k1)) = shifted.outer(local.len(), bins);
        let mut delta = vec![Complex32::default(); bins];
        for (f, row) in (f0..=f1).zip(target) {
            delta.fill(Complex32::default());
            for (k, new) in (k0..=k1).zip(row) {
                delta[k] = (new - local[f][k]) * shifted.weight(f, k);
            }
            stft.synthesize(&mut delta, f + first, &mut y);
        }
    }
    Ok(y)
}

/// The frames a repair of `cells` in `mode` reads: the region, its feather and its context
/// (a pattern looks further, up to 40 frames past a run as long as the region).
fn frames_read(cells: Cells, mode: RepairMode, count: usize) -> (usize, usize) {
    let len = cells.frames.1 - cells.frames.0 + 1 + 2 * FEATHER_FRAMES;
    let reach = match mode {
        RepairMode::Pattern => len + 42,
        _ => FEATHER_FRAMES + CONTEXT + 2,
    };
    (
        cells.frames.0.saturating_sub(reach),
        (cells.frames.1 + reach).min(count - 1),
    )
}

/// The samples `[start, end)` a repair of region `r` in a signal of `len` samples reads
/// and changes (`start` on the repair's hop grid): [`repair`] of just those samples, with
/// the region's times taken from `start`, gives exactly what a repair of the whole signal
/// gives there — so a long file streams through, holding only the regions' spans.
pub fn repair_span(r: &RepairRegion, rate: u32, len: usize) -> Result<(usize, usize)> {
    let config = repair_stft(rate);
    let count = (len + config.fft).div_ceil(config.hop);
    let cells = cells_of(r, config, rate, len as f64 / f64::from(rate), count)?;
    let (first, last) = frames_read(cells, r.mode, count);
    let start = ((first + 1) * config.hop).saturating_sub(config.fft);
    let end = ((last + 1) * config.hop).min(len);
    Ok((start, end))
}

/// The frames and bins of region `r`: the frames whose centre lies in its span, the bins
/// within its band.
fn cells_of(
    r: &RepairRegion,
    config: StftConfig,
    rate: u32,
    seconds: f64,
    count: usize,
) -> Result<Cells> {
    let bad = |what: String| Err(DspError::InvalidInput(what));
    if !(r.from.is_finite() && r.to.is_finite()) || r.from < 0.0 || r.to <= r.from {
        return bad(format!(
            "region {}:{}: expected a start before its end, from 0",
            r.from, r.to
        ));
    }
    if r.from >= seconds {
        return bad(format!(
            "region {}:{}: starts after the signal's end ({seconds:.3} s)",
            r.from, r.to
        ));
    }
    if !r.gain_db.is_finite() || r.gain_db.abs() > 120.0 {
        return bad(format!("gain {} dB: expected −120 to 120", r.gain_db));
    }
    let nyquist = f64::from(rate) / 2.0;
    let (lo, hi) = r.band.unwrap_or((0.0, nyquist));
    if !(lo.is_finite() && hi.is_finite()) || lo < 0.0 || hi <= lo || lo >= nyquist {
        return bad(format!(
            "band {lo}:{hi} Hz: expected a low edge below the high one, under {nyquist} Hz"
        ));
    }
    let hop = config.hop as f64;
    let half = config.fft as f64 / 2.0;
    // Frame f covers samples from (f+1)·hop − fft; its centre is half a frame on.
    let frame_of = |t: f64| ((t * f64::from(rate) + half) / hop - 1.0).max(0.0);
    let f0 = frame_of(r.from).ceil() as usize;
    let f1 = (frame_of(r.to).floor() as usize).max(f0).min(count - 1);
    let bin_hz = f64::from(rate) / config.fft as f64;
    let bins = config.bins();
    let k0 = ((lo / bin_hz).floor() as usize).min(bins - 1);
    let k1 = ((hi / bin_hz).ceil() as usize).clamp(k0, bins - 1);
    Ok(Cells {
        frames: (f0.min(count - 1), f1),
        bins: (k0, k1),
    })
}

/// Mean magnitude of bin `k` over `frames` (None when there are none).
fn mean_magnitude(
    spectra: &[Vec<Complex32>],
    frames: impl Iterator<Item = usize>,
    k: usize,
) -> Option<f32> {
    let (mut sum, mut n) = (0.0f32, 0usize);
    for f in frames {
        sum += spectra[f][k].norm();
        n += 1;
    }
    (n > 0).then(|| sum / n as f32)
}

/// The context frames before and after the feathered region.
fn context(cells: Cells, count: usize) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
    let before_end = cells.frames.0.saturating_sub(FEATHER_FRAMES);
    let after_start = (cells.frames.1 + FEATHER_FRAMES + 1).min(count);
    (
        before_end.saturating_sub(CONTEXT)..before_end,
        after_start..(after_start + CONTEXT).min(count),
    )
}

/// The new cells over the region's outer span (rows of frames, each its bins).
type Target = Vec<Vec<Complex32>>;

fn attenuated(spectra: &[Vec<Complex32>], cells: Cells, gain_db: f64) -> Target {
    let count = spectra.len();
    let bins = spectra[0].len();
    let ((f0, f1), (k0, k1)) = cells.outer(count, bins);
    let (before, after) = context(cells, count);
    let gain = 10f32.powf(gain_db as f32 / 20.0);
    // Per bin: the surroundings' level (the quieter side, so a sound that runs on past the
    // region on one side is not taken for the background).
    let level: Vec<f32> = (k0..=k1)
        .map(|k| {
            let a = mean_magnitude(spectra, before.clone(), k);
            let b = mean_magnitude(spectra, after.clone(), k);
            match (a, b) {
                (Some(a), Some(b)) => a.min(b),
                (Some(v), None) | (None, Some(v)) => v,
                (None, None) => 0.0,
            }
        })
        .collect();
    (f0..=f1)
        .map(|f| {
            (k0..=k1)
                .zip(&level)
                .map(|(k, &l)| {
                    let c = spectra[f][k];
                    let m = c.norm();
                    let to = (l * gain).min(m);
                    if m > 0.0 {
                        c * (to / m)
                    } else {
                        c
                    }
                })
                .collect()
        })
        .collect()
}

/// Each bin's magnitude interpolated in dB from `left` (before the region) to `right` over
/// the outer span, phases continued from the last frame before it at each bin's measured
/// advance per hop.
fn interpolated(
    spectra: &[Vec<Complex32>],
    cells: Cells,
    gain_db: f64,
    config: StftConfig,
    (left, right): (&[f32], &[f32]),
) -> Target {
    let count = spectra.len();
    let bins = spectra[0].len();
    let ((f0, f1), (k0, k1)) = cells.outer(count, bins);
    let gain = 10f32.powf(gain_db as f32 / 20.0);
    let span = (f1 - f0 + 2) as f32;
    // The phase and its advance per frame at each bin, from the two frames before the span
    // (or the nominal advance of the bin's centre frequency when there are none).
    let nominal = |k: usize| nominal_advance(k, config);
    let phase_start: Vec<(f32, f32)> = (k0..=k1)
        .map(|k| match f0 {
            0 => (0.0, nominal(k)),
            1 => (spectra[0][k].arg(), nominal(k)),
            _ => {
                let (a, b) = (spectra[f0 - 2][k], spectra[f0 - 1][k]);
                (b.arg(), (b * a.conj()).arg())
            }
        })
        .collect();
    (f0..=f1)
        .map(|f| {
            let x = (f - f0 + 1) as f32 / span;
            (k0..=k1)
                .enumerate()
                .map(|(j, _)| {
                    let (l, r) = (left[j].max(1e-12).ln(), right[j].max(1e-12).ln());
                    let m = (l + (r - l) * x).exp() * gain;
                    let (p, step) = phase_start[j];
                    let phase = p + step * (f - f0 + 1) as f32;
                    Complex32::from_polar(m, phase)
                })
                .collect()
        })
        .collect()
}

fn replaced(spectra: &[Vec<Complex32>], cells: Cells, gain_db: f64, config: StftConfig) -> Target {
    let count = spectra.len();
    let bins = spectra[0].len();
    let (_, (k0, k1)) = cells.outer(count, bins);
    let (before, after) = context(cells, count);
    // Magnitudes just outside the feathered region (the nearest three frames each side);
    // a side off the signal's end takes the other's.
    let near = |r: std::ops::Range<usize>, last: bool| {
        let take: Vec<usize> = if last {
            r.rev().take(3).collect()
        } else {
            r.take(3).collect()
        };
        (k0..=k1)
            .map(|k| mean_magnitude(spectra, take.iter().copied(), k))
            .collect::<Vec<_>>()
    };
    let (left, right) = (near(before, true), near(after, false));
    let pick = |a: &[Option<f32>], b: &[Option<f32>]| -> Vec<f32> {
        a.iter()
            .zip(b)
            .map(|(a, b)| a.or(*b).unwrap_or(0.0))
            .collect()
    };
    let (l, r) = (pick(&left, &right), pick(&right, &left));
    interpolated(spectra, cells, gain_db, config, (&l, &r))
}

fn patterned(spectra: &[Vec<Complex32>], cells: Cells, gain_db: f64, config: StftConfig) -> Target {
    let count = spectra.len();
    let bins = spectra[0].len();
    let ((f0, f1), (k0, k1)) = cells.outer(count, bins);
    let len = f1 - f0 + 1;
    // The region's surroundings: the frame just before and just after the outer span.
    let edge = |f: Option<usize>| f.filter(|&f| f < count);
    let (pre, post) = (edge(f0.checked_sub(1)), edge(Some(f1 + 1)));
    let distance = |a: usize, b: usize| -> f32 {
        (k0..=k1)
            .map(|k| {
                let (x, y) = (spectra[a][k].norm() + 1e-9, spectra[b][k].norm() + 1e-9);
                (x.ln() - y.ln()).powi(2)
            })
            .sum()
    };
    // Candidate runs of `len` frames wholly outside the outer span, nearest first (up to
    // 40 each side): scored by how alike their own surroundings are to the region's.
    let mut best: Option<(f32, usize)> = None;
    for d in 1..=40usize {
        for start in [f0.checked_sub(len + d), Some(f1 + d)] {
            let Some(s) = start.filter(|&s| s + len <= count) else {
                continue;
            };
            if s + len > f0 && s <= f1 {
                continue;
            }
            let mut score = 0.0;
            if let (Some(p), Some(q)) = (pre, s.checked_sub(1)) {
                score += distance(p, q);
            }
            if let (Some(p), Some(q)) = (post, Some(s + len).filter(|&q| q < count)) {
                score += distance(p, q);
            }
            if best.is_none_or(|(b, _)| score < b) {
                best = Some((score, s));
            }
        }
    }
    let Some((_, source)) = best else {
        // Nothing to copy from: interpolate instead.
        return replaced(spectra, cells, gain_db, config);
    };
    let gain = 10f32.powf(gain_db as f32 / 20.0);
    // Phases continued from the frame before the region, each bin advancing as it does in
    // the copied frames.
    let mut phase: Vec<f32> = (k0..=k1)
        .map(|k| f0.checked_sub(1).map_or(0.0, |p| spectra[p][k].arg()))
        .collect();
    (0..len)
        .map(|i| {
            let s = source + i;
            (k0..=k1)
                .zip(phase.iter_mut())
                .map(|(k, phase)| {
                    *phase += match s {
                        0 => nominal_advance(k, config),
                        s => (spectra[s][k] * spectra[s - 1][k].conj()).arg(),
                    };
                    Complex32::from_polar(spectra[s][k].norm() * gain, *phase)
                })
                .collect()
        })
        .collect()
}

/// The phase a sinusoid at bin `k`'s centre advances by in one hop.
fn nominal_advance(k: usize, config: StftConfig) -> f32 {
    std::f32::consts::TAU * k as f32 * config.hop as f32 / config.fft as f32
}
