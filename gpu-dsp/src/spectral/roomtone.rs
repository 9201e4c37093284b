//! Room tone: the noise floor of a region (a pause in the dialogue) learnt as its
//! spectrum and how each band fluctuates from frame to frame, and any length of matching
//! tone synthesised from that — random phases, magnitudes wandering as the source's did —
//! so it never loops. The synthesis is calibrated once against its own analysis, so the
//! tone's spectrum matches the region's.

use super::repair::repair_stft;
use super::{FrameStft, StftConfig};
use crate::{DspError, Result};
use realfft::num_complex::Complex32;

/// Frames a region must give (about 0.4 s at 48 kHz).
pub const MIN_FRAMES: usize = 32;

/// A region's noise floor.
#[derive(Clone, Debug)]
pub struct RoomTone {
    config: StftConfig,
    rate: u32,
    /// Per bin: mean and standard deviation of the log magnitude over the region's frames.
    mean_log: Vec<f32>,
    std_log: Vec<f32>,
    /// Frame-to-frame correlation of each bin's log-magnitude deviations (0..0.99).
    correlation: f32,
    /// Per bin: the mean power of the region (the calibration's target).
    power: Vec<f32>,
}

/// A small deterministic generator (SplitMix64) with normal deviates by Box–Muller.
struct Noise(u64);

impl Noise {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f32 {
        let (u, v) = (self.uniform(), self.uniform());
        ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
    }
}

/// The frames of a signal of `len` samples that lie wholly inside it (its edges are not the
/// room: the frames there are part zeros).
fn whole_frames(stft: &FrameStft, len: usize) -> Vec<usize> {
    let StftConfig { fft, hop } = stft.config();
    (0..stft.frames(len))
        .filter(|&f| (f + 1) * hop >= fft && (f + 1) * hop <= len)
        .collect()
}

impl RoomTone {
    /// Learns the noise floor of `x[from..to]` (one channel at `rate` Hz). Fails when the
    /// region is outside the signal or shorter than [`MIN_FRAMES`] frames.
    pub fn learn(x: &[f32], rate: u32, from: usize, to: usize) -> Result<Self> {
        let config = repair_stft(rate);
        let bins = config.bins();
        if to > x.len() || from >= to {
            return Err(DspError::InvalidInput(format!(
                "room tone region {from}..{to} is not within the signal's {} samples",
                x.len()
            )));
        }
        let region = &x[from..to];
        let mut stft = FrameStft::new(config);
        // Whole frames inside the region only (the edges are not the room).
        let frames = whole_frames(&stft, region.len());
        if frames.len() < MIN_FRAMES {
            let seconds = (MIN_FRAMES * config.hop + config.fft) as f64 / f64::from(rate);
            return Err(DspError::InvalidInput(format!(
                "a room tone region needs at least {seconds:.2} s"
            )));
        }
        let mut spectrum = vec![Complex32::default(); bins];
        let mut logs = vec![Vec::with_capacity(frames.len()); bins];
        let mut power = vec![0.0f32; bins];
        for &f in &frames {
            stft.analyze(region, f, &mut spectrum);
            for (k, c) in spectrum.iter().enumerate() {
                let m = c.norm();
                logs[k].push(m.max(1e-12).ln());
                power[k] += m * m / frames.len() as f32;
            }
        }
        let mean_log: Vec<f32> = logs
            .iter()
            .map(|l| l.iter().sum::<f32>() / l.len() as f32)
            .collect();
        let std_log: Vec<f32> = logs
            .iter()
            .zip(&mean_log)
            .map(|(l, m)| (l.iter().map(|v| (v - m).powi(2)).sum::<f32>() / l.len() as f32).sqrt())
            .collect();
        // Lag-one correlation of the deviations, over every bin with any variation.
        let (mut num, mut den) = (0.0f64, 0.0f64);
        for (l, m) in logs.iter().zip(&mean_log) {
            for w in l.windows(2) {
                num += f64::from((w[0] - m) * (w[1] - m));
            }
            den += l.iter().map(|v| f64::from((v - m).powi(2))).sum::<f64>();
        }
        let correlation = if den > 0.0 {
            (num / den).clamp(0.0, 0.99) as f32
        } else {
            0.0
        };
        Ok(Self {
            config,
            rate,
            mean_log,
            std_log,
            correlation,
            power,
        })
    }

    /// The sample rate it was learnt at.
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// `samples` of tone (seeded: the same seed gives the same tone).
    pub fn synthesize(&self, samples: usize, seed: u64) -> Vec<f32> {
        // A calibration pass (eight seconds at most), then the tone with each bin's level
        // corrected by what the analysis of the first found (random phases overlap-added
        // lose a little level, band by band).
        let calibration = (8 * self.rate as usize)
            .min(samples)
            .max(4 * self.config.fft);
        let first = self.render(calibration, seed, None);
        let got = self.measure(&first);
        let correction: Vec<f32> = self
            .power
            .iter()
            .zip(&got)
            .map(|(want, got)| if *got > 0.0 { (want / got).sqrt() } else { 1.0 })
            .collect();
        self.render(samples, seed, Some(&correction))
    }

    fn render(&self, samples: usize, seed: u64, correction: Option<&[f32]>) -> Vec<f32> {
        let bins = self.config.bins();
        let mut stft = FrameStft::new(self.config);
        let mut noise = Noise(seed ^ 0x5DEE_CE66_D1CE_4E5B);
        let mut deviation = vec![0.0f32; bins];
        let rho = self.correlation;
        let fresh = (1.0 - rho * rho).sqrt();
        let mut y = vec![0.0f32; samples];
        let mut spectrum = vec![Complex32::default(); bins];
        for f in 0..stft.frames(samples) {
            for k in 0..bins {
                let d = &mut deviation[k];
                *d = if f == 0 {
                    noise.normal() * self.std_log[k]
                } else {
                    rho * *d + fresh * noise.normal() * self.std_log[k]
                };
                let scale = correction.map_or(1.0, |c| c[k]);
                let m = (self.mean_log[k] + *d).exp() * scale;
                let phase = noise.uniform() as f32 * std::f32::consts::TAU;
                spectrum[k] = Complex32::from_polar(m, phase);
            }
            stft.synthesize(&mut spectrum, f, &mut y);
        }
        y
    }

    /// Mean power per bin of `y`'s whole frames.
    fn measure(&self, y: &[f32]) -> Vec<f32> {
        let bins = self.config.bins();
        let mut stft = FrameStft::new(self.config);
        let mut spectrum = vec![Complex32::default(); bins];
        let mut power = vec![0.0f32; bins];
        let frames = whole_frames(&stft, y.len());
        for &f in &frames {
            stft.analyze(y, f, &mut spectrum);
            for (p, c) in power.iter_mut().zip(&spectrum) {
                *p += c.norm_sqr() / frames.len() as f32;
            }
        }
        power
    }
}
