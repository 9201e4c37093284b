//! Where a masker (music, effects) covers a target (dialogue), per third-octave band.
//!
//! Frames of 4096 samples (hop 2048). In each frame and band the target is *active* when its
//! level is above −60 dB (re full-scale sine); the *margin* is masker level minus target level,
//! and the band is *covered* when the margin is above −6 dB (the masker is within 6 dB of
//! the target or louder: dialogue there loses clarity). The duck processor and the GUI read
//! these per-band figures.

use std::collections::VecDeque;
use std::ops::Range;

use realfft::num_complex::Complex32;

use super::bands::{bin_range, third_octaves, Band};
use super::frames::FrameStream;
use super::spectrum::level_db;

const FFT: usize = 4096;
const ACTIVE_DB: f64 = -60.0;
const COVERED_MARGIN_DB: f64 = -6.0;

/// Masking figures of one band.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BandMasking {
    pub band: Band,
    /// Fraction of frames in which the target is active in this band.
    pub active_fraction: f64,
    /// Of the active frames, the fraction covered by the masker; `None` if never active.
    pub covered_fraction: Option<f64>,
    /// Mean masker-minus-target level over active frames (dB); `None` if never active.
    pub mean_margin_db: Option<f64>,
}

/// Per-band masking of `target` by `masker` (both planar, same rate; channels are averaged
/// in power; the shorter signal is padded with silence). A [`MaskingMeter`] fed both whole
/// signals.
pub fn masking(target: &[&[f32]], masker: &[&[f32]], sample_rate: u32) -> Vec<BandMasking> {
    let mut meter = MaskingMeter::new(target.len(), masker.len(), sample_rate);
    meter.push_target(target);
    meter.push_masker(masker);
    meter.finish()
}

/// Per-band masking of a target by a masker, both pushed block by block and in any
/// interleaving; [`MaskingMeter::finish`] gives what [`masking`] gives for the whole signals.
///
/// Frame `f` of the target is compared with frame `f` of the masker as soon as both are
/// known and then forgotten. Only the band levels of the frames one side has ahead of the
/// other are held (about 0.5 kB per frame of 2048 samples), so memory is bounded by how far
/// the caller lets one side run ahead: pushing both in step keeps it at a frame or two,
/// pushing all of one side first holds all of its frames.
pub struct MaskingMeter {
    target: FrameStream,
    masker: FrameStream,
    fold: MaskingFold,
}

impl MaskingMeter {
    /// A meter for a target of `target_channels` and a masker of `masker_channels` planar
    /// channels at `sample_rate`.
    pub fn new(target_channels: usize, masker_channels: usize, sample_rate: u32) -> Self {
        let bands = third_octaves(sample_rate);
        let ranges = bands
            .iter()
            .map(|b| bin_range(b, FFT, sample_rate))
            .collect();
        Self {
            target: FrameStream::new(target_channels, FFT, FFT / 2),
            masker: FrameStream::new(masker_channels, FFT, FFT / 2),
            fold: MaskingFold {
                levels: vec![None; bands.len()],
                sums: vec![BandSums::default(); bands.len()],
                bands,
                ranges,
                ahead: VecDeque::new(),
                target_frames: 0,
                masker_frames: 0,
            },
        }
    }

    /// Feeds a planar block of the target (see [`FrameStream::push`]).
    pub fn push_target(&mut self, block: &[&[f32]]) {
        let fold = &mut self.fold;
        self.target.push(block, |s| fold.frame(Side::Target, s));
    }

    /// Feeds a planar block of the masker (see [`FrameStream::push`]).
    pub fn push_masker(&mut self, block: &[&[f32]]) {
        let fold = &mut self.fold;
        self.masker.push(block, |s| fold.frame(Side::Masker, s));
    }

    /// The masking per band of everything pushed; the side that ended first counts as
    /// silence for the other's remaining frames.
    pub fn finish(self) -> Vec<BandMasking> {
        let Self {
            target,
            masker,
            mut fold,
        } = self;
        target.finish(|s| fold.frame(Side::Target, s));
        masker.finish(|s| fold.frame(Side::Masker, s));
        fold.finish()
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Target,
    Masker,
}

#[derive(Clone, Copy, Default)]
struct BandSums {
    active: usize,
    covered: usize,
    margin: f64,
}

/// The per-band comparison of target and masker frames, fed frame by frame by either side.
struct MaskingFold {
    bands: Vec<Band>,
    ranges: Vec<Range<usize>>,
    /// Band levels of the frame being handled.
    levels: Vec<Option<f64>>,
    /// Band levels of the frames the side with more frames has ahead of the other, oldest
    /// first, `bands.len()` per frame.
    ahead: VecDeque<Option<f64>>,
    target_frames: usize,
    masker_frames: usize,
    sums: Vec<BandSums>,
}

impl MaskingFold {
    fn frame(&mut self, side: Side, spectra: &[Vec<Complex32>]) {
        for (level, r) in self.levels.iter_mut().zip(&self.ranges) {
            let p: f64 = spectra
                .iter()
                .map(|s| {
                    s[r.clone()]
                        .iter()
                        .map(|x| f64::from(x.norm_sqr()))
                        .sum::<f64>()
                })
                .sum();
            *level = level_db(p / spectra.len().max(1) as f64);
        }
        let (mine, theirs) = match side {
            Side::Target => (self.target_frames, self.masker_frames),
            Side::Masker => (self.masker_frames, self.target_frames),
        };
        if theirs > mine {
            // The other side is ahead: its oldest held frame is this frame's partner.
            for b in 0..self.bands.len() {
                let other = self.ahead.pop_front().flatten();
                let (t, m) = match side {
                    Side::Target => (self.levels[b], other),
                    Side::Masker => (other, self.levels[b]),
                };
                self.compare(b, t, m);
            }
        } else {
            self.ahead.extend(self.levels.iter().copied());
        }
        match side {
            Side::Target => self.target_frames += 1,
            Side::Masker => self.masker_frames += 1,
        }
    }

    /// Folds band `b` of one frame: target level `t`, masker level `m` (`None`: silence).
    fn compare(&mut self, b: usize, t: Option<f64>, m: Option<f64>) {
        let Some(tl) = t.filter(|&l| l > ACTIVE_DB) else {
            return;
        };
        let ml = m.unwrap_or(-200.0);
        let sums = &mut self.sums[b];
        sums.active += 1;
        sums.margin += ml - tl;
        if ml - tl > COVERED_MARGIN_DB {
            sums.covered += 1;
        }
    }

    fn finish(mut self) -> Vec<BandMasking> {
        // The side that ended first is silent for the frames the other holds ahead.
        let target_ahead = self.target_frames > self.masker_frames;
        while !self.ahead.is_empty() {
            for b in 0..self.bands.len() {
                let held = self.ahead.pop_front().flatten();
                if target_ahead {
                    self.compare(b, held, None);
                }
            }
        }
        let frames = self.target_frames.max(self.masker_frames).max(1);
        self.bands
            .iter()
            .zip(&self.sums)
            .map(|(&band, s)| BandMasking {
                band,
                active_fraction: s.active as f64 / frames as f64,
                covered_fraction: (s.active > 0).then(|| s.covered as f64 / s.active as f64),
                mean_margin_db: (s.active > 0).then(|| s.margin / s.active as f64),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushing_in_step_holds_at_most_one_frame_ahead() {
        // Target and masker fed alternately in blocks of a third of a hop: one side is never
        // more than a frame ahead, however long the signals.
        let x: Vec<f32> = (0..20 * FFT)
            .map(|i| ((i * 7919) % 101) as f32 / 101.0)
            .collect();
        let mut meter = MaskingMeter::new(1, 1, 48_000);
        let bands = meter.fold.bands.len();
        for block in x.chunks(FFT / 6) {
            meter.push_target(&[block]);
            assert!(meter.fold.ahead.len() <= bands);
            meter.push_masker(&[block]);
            assert!(meter.fold.ahead.is_empty());
        }
        // Target and masker are the same signal: wherever the target is active it is covered
        // with a margin of 0 dB.
        let m = meter.finish();
        assert!(m.iter().any(|b| b.active_fraction > 0.9));
        for b in m.iter().filter(|b| b.active_fraction > 0.0) {
            assert_eq!(b.covered_fraction, Some(1.0), "{b:?}");
            assert_eq!(b.mean_margin_db, Some(0.0), "{b:?}");
        }
    }
}
