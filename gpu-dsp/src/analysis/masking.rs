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

/// Frame size of the masking analysis (frames every half of it).
pub const MASKING_FFT: usize = 4096;
const FFT: usize = MASKING_FFT;
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

/// A masker's covered share of the target's active band-frames: the per-band covered
/// fractions weighted by how often the target is active in each band (0 when never active).
pub fn covered_share(bands: &[BandMasking]) -> f64 {
    let (mut covered, mut active) = (0.0, 0.0);
    for b in bands {
        if let Some(c) = b.covered_fraction {
            covered += c * b.active_fraction;
            active += b.active_fraction;
        }
    }
    if active > 0.0 {
        covered / active
    } else {
        0.0
    }
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

/// The masking of one target by many maskers (a dialogue stem by every other track): what a
/// [`MaskingMeter`] per masker gives, with the target analysed once instead of once per
/// masker. Target and maskers are pushed block by block, best in step.
pub struct MaskingMatrix {
    target: FrameStream,
    maskers: Vec<FrameStream>,
    folds: MaskingFolds,
    levels: Vec<Option<f64>>,
}

impl MaskingMatrix {
    /// A matrix for a target of `target_channels` and `maskers` maskers of
    /// `masker_channels` planar channels each, at `sample_rate`.
    pub fn new(
        target_channels: usize,
        maskers: usize,
        masker_channels: usize,
        sample_rate: u32,
    ) -> Self {
        let folds = MaskingFolds::new(maskers, sample_rate);
        Self {
            target: FrameStream::new(target_channels, FFT, FFT / 2),
            maskers: (0..maskers)
                .map(|_| FrameStream::new(masker_channels, FFT, FFT / 2))
                .collect(),
            levels: vec![None; folds.ranges.len()],
            folds,
        }
    }

    /// Feeds a planar block of the target.
    pub fn push_target(&mut self, block: &[&[f32]]) {
        let (folds, levels) = (&mut self.folds, &mut self.levels);
        self.target.push(block, |s| {
            band_levels(&folds.ranges, s, levels);
            folds.push_target(levels);
        });
    }

    /// Feeds a planar block of masker `k`.
    pub fn push_masker(&mut self, k: usize, block: &[&[f32]]) {
        let fold = &mut self.folds.folds[k];
        self.maskers[k].push(block, |s| fold.frame(Side::Masker, s));
    }

    /// Per masker, the masking per band of the frames both sides have completed so far
    /// (for live views: the frames one side holds ahead and the last partial frame are
    /// left for later). Allocates the result only.
    pub fn snapshot(&self) -> Vec<Vec<BandMasking>> {
        self.folds.snapshot()
    }

    /// Per masker, the masking per band of everything pushed.
    pub fn finish(self) -> Vec<Vec<BandMasking>> {
        let Self {
            target,
            maskers,
            mut folds,
            mut levels,
        } = self;
        target.finish(|s| {
            band_levels(&folds.ranges, s, &mut levels);
            folds.push_target(&levels);
        });
        for (k, stream) in maskers.into_iter().enumerate() {
            let fold = &mut folds.folds[k];
            stream.finish(|s| fold.frame(Side::Masker, s));
        }
        folds.finish()
    }
}

/// The frame-by-frame comparison of a target's band levels with many maskers': what a
/// [`MaskingMatrix`] folds its frames into, fed with band levels computed elsewhere (the GPU
/// engine, [`super::GpuMasking`]). Levels are per band of [`MaskingFolds::ranges`], in dB re
/// a full-scale sine (`None`: silence), frames of [`MASKING_FFT`] samples every half of it.
pub struct MaskingFolds {
    folds: Vec<MaskingFold>,
    ranges: Vec<Range<usize>>,
    /// Scratch for [`MaskingFolds::push_powers`].
    levels: Vec<Option<f64>>,
}

impl MaskingFolds {
    /// Folds for `maskers` maskers at `sample_rate`.
    pub fn new(maskers: usize, sample_rate: u32) -> Self {
        let bands = third_octaves(sample_rate);
        let ranges: Vec<Range<usize>> = bands
            .iter()
            .map(|b| bin_range(b, FFT, sample_rate))
            .collect();
        Self {
            folds: (0..maskers)
                .map(|_| MaskingFold {
                    bands: bands.clone(),
                    ranges: ranges.clone(),
                    levels: vec![None; bands.len()],
                    sums: vec![BandSums::default(); bands.len()],
                    ahead: VecDeque::new(),
                    target_frames: 0,
                    masker_frames: 0,
                })
                .collect(),
            levels: vec![None; ranges.len()],
            ranges,
        }
    }

    /// The bins `[first, end)` of each band in a [`MASKING_FFT`]-point frame.
    pub fn ranges(&self) -> &[Range<usize>] {
        &self.ranges
    }

    /// The target's band levels of its next frame.
    pub fn push_target(&mut self, levels: &[Option<f64>]) {
        for f in &mut self.folds {
            f.frame_levels(Side::Target, levels);
        }
    }

    /// Masker `k`'s band levels of its next frame.
    pub fn push_masker(&mut self, k: usize, levels: &[Option<f64>]) {
        self.folds[k].frame_levels(Side::Masker, levels);
    }

    /// One frame of band powers (mean-square, per band of [`MaskingFolds::ranges`]) of the
    /// target and then every masker, as [`super::GpuBandPowers`] gives them.
    pub fn push_powers(&mut self, frame: &[f32]) {
        let bands = self.ranges.len();
        let mut levels = std::mem::take(&mut self.levels);
        levels.resize(bands, None);
        for (s, powers) in frame.chunks_exact(bands).enumerate() {
            for (l, &p) in levels.iter_mut().zip(powers) {
                *l = level_db(f64::from(p));
            }
            match s {
                0 => self.push_target(&levels),
                k => self.push_masker(k - 1, &levels),
            }
        }
        self.levels = levels;
    }

    /// See [`MaskingMatrix::snapshot`].
    pub fn snapshot(&self) -> Vec<Vec<BandMasking>> {
        self.folds.iter().map(|f| f.figures(f.compared())).collect()
    }

    /// Per masker, the masking per band of every frame pushed.
    pub fn finish(self) -> Vec<Vec<BandMasking>> {
        self.folds.into_iter().map(MaskingFold::finish).collect()
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

/// Band levels of one frame's spectra (channels averaged in power; `None`: silence).
fn band_levels(ranges: &[Range<usize>], spectra: &[Vec<Complex32>], out: &mut [Option<f64>]) {
    for (level, r) in out.iter_mut().zip(ranges) {
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
}

impl MaskingFold {
    fn frame(&mut self, side: Side, spectra: &[Vec<Complex32>]) {
        let mut levels = std::mem::take(&mut self.levels);
        band_levels(&self.ranges, spectra, &mut levels);
        self.frame_levels(side, &levels);
        self.levels = levels;
    }

    /// Folds one frame of one side given its band levels.
    fn frame_levels(&mut self, side: Side, levels: &[Option<f64>]) {
        let (mine, theirs) = match side {
            Side::Target => (self.target_frames, self.masker_frames),
            Side::Masker => (self.masker_frames, self.target_frames),
        };
        if theirs > mine {
            // The other side is ahead: its oldest held frame is this frame's partner.
            for (b, &level) in levels.iter().enumerate() {
                let other = self.ahead.pop_front().flatten();
                let (t, m) = match side {
                    Side::Target => (level, other),
                    Side::Masker => (other, level),
                };
                self.compare(b, t, m);
            }
        } else {
            self.ahead.extend(levels.iter().copied());
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
        self.figures(self.target_frames.max(self.masker_frames))
    }

    /// Frames compared so far (both sides known).
    fn compared(&self) -> usize {
        self.target_frames.min(self.masker_frames)
    }

    /// The figures of the comparisons so far, over `frames` frames.
    fn figures(&self, frames: usize) -> Vec<BandMasking> {
        let frames = frames.max(1);
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
    fn a_matrix_gives_exactly_what_a_meter_per_masker_gives() {
        let signal = |seed: usize, len: usize| -> Vec<f32> {
            (0..len)
                .map(|i| (((i * 7919 + seed * 104_729) % 1013) as f32 / 1013.0 - 0.5) * 0.3)
                .collect()
        };
        let target = [signal(1, 9 * FFT), signal(2, 9 * FFT)];
        let maskers: Vec<Vec<f32>> = (0..3).map(|k| signal(10 + k, 7 * FFT + 333 * k)).collect();
        let mut matrix = MaskingMatrix::new(2, 3, 1, 48_000);
        let mut meters: Vec<MaskingMeter> =
            (0..3).map(|_| MaskingMeter::new(2, 1, 48_000)).collect();
        for start in (0..9 * FFT).step_by(1500) {
            let t: Vec<&[f32]> = target
                .iter()
                .map(|c| &c[start..(start + 1500).min(c.len())])
                .collect();
            matrix.push_target(&t);
            for (k, (m, x)) in meters.iter_mut().zip(&maskers).enumerate() {
                m.push_target(&t);
                if start < x.len() {
                    let b = &x[start..(start + 1500).min(x.len())];
                    m.push_masker(&[b]);
                    matrix.push_masker(k, &[b]);
                }
            }
        }
        let got = matrix.finish();
        for (g, m) in got.iter().zip(meters) {
            assert_eq!(*g, m.finish());
        }
    }

    #[test]
    fn a_snapshot_reports_the_frames_compared_so_far() {
        // Live use: a masker equal to the target covers every active band at 0 dB; a silent
        // masker covers nothing; the snapshot grows with what was pushed and the matrix
        // goes on after it.
        let x: Vec<f32> = (0..12 * FFT)
            .map(|i| ((i * 7919) % 211) as f32 / 211.0 - 0.5)
            .collect();
        let silence = vec![0.0f32; x.len()];
        let mut matrix = MaskingMatrix::new(1, 2, 1, 48_000);
        let mut seen = 0.0;
        for (k, block) in x.chunks(FFT).enumerate() {
            matrix.push_target(&[block]);
            matrix.push_masker(0, &[block]);
            matrix.push_masker(1, &[&silence[..block.len()]]);
            let snap = matrix.snapshot();
            let active = snap[0]
                .iter()
                .map(|b| b.active_fraction)
                .fold(0.0, f64::max);
            if k >= 2 {
                assert!(active > 0.9, "block {k}: {active}");
                assert_eq!(covered_share(&snap[0]), 1.0);
                assert_eq!(covered_share(&snap[1]), 0.0);
                for b in snap[0].iter().filter(|b| b.active_fraction > 0.0) {
                    assert_eq!(b.mean_margin_db, Some(0.0));
                }
                for b in snap[1].iter().filter(|b| b.active_fraction > 0.0) {
                    assert!(b.mean_margin_db.unwrap() < -100.0);
                }
            }
            seen = active.max(seen);
        }
        assert!(seen > 0.9);
        assert_eq!(covered_share(&matrix.finish()[0]), 1.0);
    }

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
