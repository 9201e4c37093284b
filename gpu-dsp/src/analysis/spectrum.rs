//! Long-term average spectrum (LTAS) for frequency balancing: fine (per FFT bin) and in
//! third-octave bands, in dB of mean-square power (a full-scale sine reads 0 dB in its band).

use realfft::num_complex::Complex32;

use super::bands::{bin_range, third_octaves, Band};
use super::frames::FrameStream;
use super::phase::{BandCorrelation, BandCorrelationMeter};

/// FFT size and hop of the long-term analyses (170 ms frames at 48 kHz, 50 % overlap).
pub const LTAS_FFT: usize = 8192;

/// A band and its level.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BandLevel {
    pub band: Band,
    /// dB relative to a full-scale sine; `None` when the band holds no energy.
    pub db: Option<f64>,
}

/// The long-term average spectrum of a signal (channels averaged in power).
#[derive(Clone, Debug, PartialEq)]
pub struct LongTermSpectrum {
    pub sample_rate: u32,
    pub fft: usize,
    /// Mean-square power per bin, averaged over frames and channels.
    pub power: Vec<f64>,
}

impl LongTermSpectrum {
    /// Analyses planar `channels` (a [`LongTermSpectrumMeter`] fed the whole signal).
    pub fn of(channels: &[&[f32]], sample_rate: u32) -> Self {
        let mut meter = LongTermSpectrumMeter::new(channels.len(), sample_rate);
        meter.push(channels);
        meter.finish()
    }

    /// Centre frequency of bin `k`.
    pub fn bin_hz(&self, k: usize) -> f64 {
        k as f64 * f64::from(self.sample_rate) / self.fft as f64
    }

    /// Fine spectrum: dB per bin (−inf → `None`).
    pub fn fine_db(&self) -> Vec<Option<f64>> {
        self.power.iter().map(|&p| level_db(p)).collect()
    }

    /// Third-octave band levels.
    pub fn third_octave(&self) -> Vec<BandLevel> {
        third_octaves(self.sample_rate)
            .into_iter()
            .map(|band| {
                let p: f64 = self.power[bin_range(&band, self.fft, self.sample_rate)]
                    .iter()
                    .sum();
                BandLevel {
                    band,
                    db: level_db(p),
                }
            })
            .collect()
    }
}

/// The long-term average spectrum of a signal pushed block by block, in memory independent
/// of its length; [`LongTermSpectrumMeter::finish`] gives what [`LongTermSpectrum::of`]
/// gives for the whole signal.
pub struct LongTermSpectrumMeter {
    sample_rate: u32,
    channels: usize,
    frames: FrameStream,
    /// Mean-square power per bin, summed over frames and channels.
    power: Vec<f64>,
    count: usize,
    /// Band correlation on the same frames (stereo, [`Self::with_band_correlation`]).
    correlation: Option<BandCorrelationMeter>,
}

impl LongTermSpectrumMeter {
    /// A meter that also measures the per-octave correlation of a stereo signal from the same
    /// frames (8192 points, hop 4096), so the two analyses share their FFTs.
    pub fn with_band_correlation(channels: usize, sample_rate: u32) -> Self {
        let mut m = Self::new(channels, sample_rate);
        if channels == 2 {
            m.correlation = Some(BandCorrelationMeter::on_frames(sample_rate, LTAS_FFT));
        }
        m
    }

    /// A meter for `channels` planar channels at `sample_rate`.
    pub fn new(channels: usize, sample_rate: u32) -> Self {
        let n = LTAS_FFT;
        Self {
            sample_rate,
            channels,
            frames: FrameStream::new(channels, n, n / 2),
            power: vec![0.0; n / 2 + 1],
            count: 0,
            correlation: None,
        }
    }

    /// Feeds a planar block (see [`FrameStream::push`]).
    pub fn push(&mut self, block: &[&[f32]]) {
        let (power, count, corr) = (&mut self.power, &mut self.count, &mut self.correlation);
        self.frames.push(block, |spectra| {
            accumulate(power, count, spectra);
            if let Some(c) = corr.as_mut() {
                c.add_frame(spectra);
            }
        });
    }

    /// The spectrum of everything pushed.
    pub fn finish(self) -> LongTermSpectrum {
        self.finish_with_correlation().0
    }

    /// The spectrum and, for a meter made [`Self::with_band_correlation`] on stereo, the
    /// correlation per octave band.
    pub fn finish_with_correlation(self) -> (LongTermSpectrum, Option<Vec<BandCorrelation>>) {
        let Self {
            sample_rate,
            channels,
            frames,
            mut power,
            mut count,
            mut correlation,
        } = self;
        frames.finish(|spectra| {
            accumulate(&mut power, &mut count, spectra);
            if let Some(c) = correlation.as_mut() {
                c.add_frame(spectra);
            }
        });
        let total = (count * channels.max(1)) as f64;
        power.iter_mut().for_each(|p| *p /= total);
        (
            LongTermSpectrum {
                sample_rate,
                fft: LTAS_FFT,
                power,
            },
            correlation.map(BandCorrelationMeter::finish),
        )
    }
}

fn accumulate(power: &mut [f64], count: &mut usize, spectra: &[Vec<Complex32>]) {
    for s in spectra {
        for (p, x) in power.iter_mut().zip(s.iter()) {
            *p += f64::from(x.norm_sqr());
        }
    }
    *count += 1;
}

/// Mean-square power to dB relative to a full-scale sine (mean square 0.5).
pub fn level_db(mean_square: f64) -> Option<f64> {
    (mean_square > 0.0).then(|| 10.0 * (2.0 * mean_square).log10())
}
