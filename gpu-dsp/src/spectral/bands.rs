//! Fractional-octave bands over STFT bins: band powers from a spectrum, and band gains
//! spread back over the bins by interpolation in log frequency (no steps at band edges).

use super::stft::StftConfig;

/// A band layout for one FFT size and rate.
pub struct BandLayout {
    /// First bin of each band, and one past the last band's last bin.
    starts: Vec<usize>,
    centres_hz: Vec<f32>,
    /// Per bin: the band below, the band above, and the weight of the band above.
    interp: Vec<(u16, u16, f32)>,
}

impl BandLayout {
    /// Bands `1/per_octave` octave wide with edges at 1 kHz·2^(k/per_octave), from `low_hz`
    /// to Nyquist; bands narrower than a bin merge into their neighbour above, and the bins
    /// below `low_hz` join the first band.
    pub fn new(config: StftConfig, rate: f32, per_octave: f32, low_hz: f32) -> Self {
        let bins = config.bins();
        let bin_hz = rate / config.fft as f32;
        let nyquist = rate / 2.0;
        let mut starts = vec![0usize];
        let mut k = (per_octave * (low_hz / 1000.0).log2()).ceil() as i32;
        loop {
            let edge = 1000.0 * 2f32.powf(k as f32 / per_octave);
            if edge >= nyquist {
                break;
            }
            let bin = (edge / bin_hz).ceil() as usize;
            if bin > *starts.last().unwrap_or(&0) && bin < bins {
                starts.push(bin);
            }
            k += 1;
        }
        starts.push(bins);
        let centres_hz: Vec<f32> = starts
            .windows(2)
            .map(|w| {
                let lo = (w[0] as f32 * bin_hz).max(bin_hz / 2.0).max(low_hz / 2.0);
                let hi = (w[1] - 1) as f32 * bin_hz;
                (lo * hi.max(lo)).sqrt()
            })
            .collect();
        let last = centres_hz.len() - 1;
        let interp = (0..bins)
            .map(|b| {
                let f = (b as f32 * bin_hz).max(1e-3);
                let above = centres_hz.partition_point(|c| *c < f);
                if above == 0 {
                    (0, 0, 0.0)
                } else if above > last {
                    (last as u16, last as u16, 0.0)
                } else {
                    let (lo, hi) = (centres_hz[above - 1].ln(), centres_hz[above].ln());
                    let w = ((f.ln() - lo) / (hi - lo)).clamp(0.0, 1.0);
                    ((above - 1) as u16, above as u16, w)
                }
            })
            .collect();
        Self {
            starts,
            centres_hz,
            interp,
        }
    }

    /// Number of bands.
    pub fn bands(&self) -> usize {
        self.centres_hz.len()
    }

    /// Centre frequency of each band (Hz).
    pub fn centres_hz(&self) -> &[f32] {
        &self.centres_hz
    }

    /// Adds each band's bins of `power` into `out[band]`.
    pub fn accumulate(&self, power: impl Iterator<Item = f32>, out: &mut [f32]) {
        let mut band = 0;
        for (bin, p) in power.enumerate() {
            while bin >= self.starts[band + 1] {
                band += 1;
            }
            out[band] += p;
        }
    }

    /// Spreads per-band gains in dB over the bins as linear gains.
    pub fn spread(&self, band_db: &[f32], bins: &mut [f32]) {
        for (g, &(a, b, w)) in bins.iter_mut().zip(&self.interp) {
            let db = band_db[a as usize] * (1.0 - w) + band_db[b as usize] * w;
            *g = 10f32.powf(db / 20.0);
        }
    }
}
