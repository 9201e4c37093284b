//! The BS.1770 K-weighting filter (shelving pre-filter + RLB high-pass) at any sample rate.
//!
//! Coefficients come from the analog prototypes through the bilinear transform, so 44.1,
//! 48, 96 kHz or any other rate get the same response (at 48 kHz they reproduce the
//! coefficients published in BS.1770-4 to 1e-8; see the tests).

/// A direct-form-I biquad in f64: `y = (b0 x + b1 x1 + b2 x2 − a1 y1 − a2 y2)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Biquad {
    pub b: [f64; 3],
    pub a: [f64; 2],
    x1: f64,
    x2: f64,
    y1: f64,
    y2: f64,
}

impl Biquad {
    /// A biquad with numerator `b` and denominator `[1, a1, a2]`.
    pub fn new(b: [f64; 3], a: [f64; 2]) -> Self {
        Self {
            b,
            a,
            x1: 0.0,
            x2: 0.0,
            y1: 0.0,
            y2: 0.0,
        }
    }

    /// Filters one sample.
    #[inline]
    pub fn tick(&mut self, x: f64) -> f64 {
        let y = self.b[0] * x + self.b[1] * self.x1 + self.b[2] * self.x2
            - self.a[0] * self.y1
            - self.a[1] * self.y2;
        self.x2 = self.x1;
        self.x1 = x;
        self.y2 = self.y1;
        self.y1 = y;
        y
    }

    /// Clears the state.
    pub fn reset(&mut self) {
        self.x1 = 0.0;
        self.x2 = 0.0;
        self.y1 = 0.0;
        self.y2 = 0.0;
    }
}

/// The two K-weighting stages for one channel.
#[derive(Clone, Copy, Debug)]
pub struct KWeighting {
    pub shelf: Biquad,
    pub highpass: Biquad,
}

impl KWeighting {
    /// K-weighting at `sample_rate` Hz.
    pub fn new(sample_rate: f64) -> Self {
        // High-frequency shelf: +4 dB above ~1.7 kHz (head acoustics).
        let (f0, gain_db, q) = (
            1_681.974_450_955_533,
            3.999_843_853_973_347,
            0.707_175_236_955_419_6,
        );
        let k = (std::f64::consts::PI * f0 / sample_rate).tan();
        let vh = 10f64.powf(gain_db / 20.0);
        let vb = vh.powf(0.499_666_774_154_541_6);
        let a0 = 1.0 + k / q + k * k;
        let shelf = Biquad::new(
            [
                (vh + vb * k / q + k * k) / a0,
                2.0 * (k * k - vh) / a0,
                (vh - vb * k / q + k * k) / a0,
            ],
            [2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0],
        );
        // Revised low-frequency B-curve: second-order high-pass at ~38 Hz.
        let (f0, q) = (38.135_470_876_024_44, 0.500_327_037_323_877_3);
        let k = (std::f64::consts::PI * f0 / sample_rate).tan();
        let a0 = 1.0 + k / q + k * k;
        let highpass = Biquad::new(
            [1.0, -2.0, 1.0],
            [2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0],
        );
        Self { shelf, highpass }
    }

    /// Filters one sample.
    #[inline]
    pub fn tick(&mut self, x: f64) -> f64 {
        self.highpass.tick(self.shelf.tick(x))
    }

    /// Clears the state.
    pub fn reset(&mut self) {
        self.shelf.reset();
        self.highpass.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_published_48k_coefficients() {
        let k = KWeighting::new(48_000.0);
        // ITU-R BS.1770-4, Annex 1, Tables 1 and 2.
        let shelf_b = [
            1.535_124_859_586_97,
            -2.691_696_189_406_38,
            1.198_392_810_852_85,
        ];
        let shelf_a = [-1.690_659_293_182_41, 0.732_480_774_215_85];
        let hp_a = [-1.990_047_454_833_98, 0.990_072_250_366_21];
        for (x, y) in k.shelf.b.iter().zip(&shelf_b) {
            assert!((x - y).abs() < 1e-8, "{x} vs {y}");
        }
        for (x, y) in k
            .shelf
            .a
            .iter()
            .zip(&shelf_a)
            .chain(k.highpass.a.iter().zip(&hp_a))
        {
            assert!((x - y).abs() < 1e-8, "{x} vs {y}");
        }
        assert_eq!(k.highpass.b, [1.0, -2.0, 1.0]);
    }

    /// Gain at `freq` from the RMS of a long sine through the filter.
    fn gain_db(rate: f64, freq: f64) -> f64 {
        let mut k = KWeighting::new(rate);
        let n = (rate * 2.0) as usize;
        let (mut sum, mut count) = (0.0f64, 0usize);
        for i in 0..n {
            let y = k.tick((std::f64::consts::TAU * freq * i as f64 / rate).sin());
            if i >= n / 2 {
                sum += y * y;
                count += 1;
            }
        }
        // RMS of a unit sine is 1/√2.
        10.0 * (2.0 * sum / count as f64).log10()
    }

    #[test]
    fn response_is_rate_independent() {
        for &f in &[100.0, 1000.0, 4000.0, 10_000.0] {
            let g48 = gain_db(48_000.0, f);
            let g441 = gain_db(44_100.0, f);
            let g96 = gain_db(96_000.0, f);
            assert!(
                (g48 - g441).abs() < 0.05 && (g48 - g96).abs() < 0.05,
                "{f} Hz: {g48} {g441} {g96}"
            );
        }
        // 1 kHz is the reference: K-weighting gain there is about +0.69 dB (hence −0.691).
        assert!((gain_db(48_000.0, 1000.0) - 0.691).abs() < 0.02);
    }
}
