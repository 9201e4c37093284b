//! Parametric EQ: biquads from the RBJ Audio EQ Cookbook (high/low pass, shelves, bells).

use std::f64::consts::PI;

/// The kind of an EQ band.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterKind {
    HighPass,
    LowPass,
    LowShelf,
    HighShelf,
    Bell,
}

/// One EQ band: kind, frequency (Hz), gain (dB, shelves and bells) and Q.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EqBand {
    pub kind: FilterKind,
    pub freq: f32,
    pub gain_db: f32,
    pub q: f32,
}

/// Normalised biquad coefficients with per-channel state (transposed direct form II).
#[derive(Clone, Debug, PartialEq)]
pub struct Biquad {
    pub b: [f64; 3],
    pub a: [f64; 2],
    pub(super) state: Vec<[f64; 2]>,
}

impl Biquad {
    /// Designs `band` at `rate` for `channels` channels.
    pub fn design(band: &EqBand, rate: f32, channels: usize) -> Self {
        let f = f64::from(band.freq.clamp(1.0, rate * 0.499));
        let w0 = 2.0 * PI * f / f64::from(rate);
        let (sin, cos) = w0.sin_cos();
        let q = f64::from(band.q.max(0.05));
        let alpha = sin / (2.0 * q);
        let a = 10f64.powf(f64::from(band.gain_db) / 40.0);
        let (b, a_) = match band.kind {
            FilterKind::LowPass => (
                [(1.0 - cos) / 2.0, 1.0 - cos, (1.0 - cos) / 2.0],
                [1.0 + alpha, -2.0 * cos, 1.0 - alpha],
            ),
            FilterKind::HighPass => (
                [(1.0 + cos) / 2.0, -(1.0 + cos), (1.0 + cos) / 2.0],
                [1.0 + alpha, -2.0 * cos, 1.0 - alpha],
            ),
            FilterKind::Bell => (
                [1.0 + alpha * a, -2.0 * cos, 1.0 - alpha * a],
                [1.0 + alpha / a, -2.0 * cos, 1.0 - alpha / a],
            ),
            FilterKind::LowShelf => {
                let s = 2.0 * a.sqrt() * alpha;
                (
                    [
                        a * ((a + 1.0) - (a - 1.0) * cos + s),
                        2.0 * a * ((a - 1.0) - (a + 1.0) * cos),
                        a * ((a + 1.0) - (a - 1.0) * cos - s),
                    ],
                    [
                        (a + 1.0) + (a - 1.0) * cos + s,
                        -2.0 * ((a - 1.0) + (a + 1.0) * cos),
                        (a + 1.0) + (a - 1.0) * cos - s,
                    ],
                )
            }
            FilterKind::HighShelf => {
                let s = 2.0 * a.sqrt() * alpha;
                (
                    [
                        a * ((a + 1.0) + (a - 1.0) * cos + s),
                        -2.0 * a * ((a - 1.0) + (a + 1.0) * cos),
                        a * ((a + 1.0) + (a - 1.0) * cos - s),
                    ],
                    [
                        (a + 1.0) - (a - 1.0) * cos + s,
                        2.0 * ((a - 1.0) - (a + 1.0) * cos),
                        (a + 1.0) - (a - 1.0) * cos - s,
                    ],
                )
            }
        };
        Self {
            b: [b[0] / a_[0], b[1] / a_[0], b[2] / a_[0]],
            a: [a_[1] / a_[0], a_[2] / a_[0]],
            state: vec![[0.0; 2]; channels],
        }
    }

    /// Magnitude response in dB at `freq` (evaluated from the coefficients).
    pub fn response_db(&self, freq: f64, rate: f64) -> f64 {
        let w = 2.0 * PI * freq / rate;
        let z1 = (w.cos(), -w.sin());
        let z2 = ((2.0 * w).cos(), -(2.0 * w).sin());
        let num = (
            self.b[0] + self.b[1] * z1.0 + self.b[2] * z2.0,
            self.b[1] * z1.1 + self.b[2] * z2.1,
        );
        let den = (
            1.0 + self.a[0] * z1.0 + self.a[1] * z2.0,
            self.a[0] * z1.1 + self.a[1] * z2.1,
        );
        10.0 * ((num.0 * num.0 + num.1 * num.1) / (den.0 * den.0 + den.1 * den.1)).log10()
    }

    /// Filters channel `c` in place.
    pub fn process(&mut self, c: usize, x: &mut [f32]) {
        let [b0, b1, b2] = self.b;
        let [a1, a2] = self.a;
        let [mut s1, mut s2] = self.state[c];
        for v in x.iter_mut() {
            let input = f64::from(*v);
            let y = b0 * input + s1;
            s1 = b1 * input - a1 * y + s2;
            s2 = b2 * input - a2 * y;
            *v = y as f32;
        }
        // Flush denormals so silence stays cheap.
        if s1.abs() < 1e-30 {
            s1 = 0.0;
        }
        if s2.abs() < 1e-30 {
            s2 = 0.0;
        }
        self.state[c] = [s1, s2];
    }

    /// Clears the state.
    pub fn reset(&mut self) {
        self.state.iter_mut().for_each(|s| *s = [0.0; 2]);
    }
}

/// A chain of EQ bands over all channels.
#[derive(Clone, Debug)]
pub struct ParametricEq {
    bands: Vec<EqBand>,
    pub(super) filters: Vec<Biquad>,
    rate: f32,
    /// AVX2 and FMA are available.
    pub(super) fma: bool,
}

impl ParametricEq {
    /// An EQ with `bands` at `rate` Hz for `channels` channels.
    pub fn new(bands: &[EqBand], rate: f32, channels: usize) -> Self {
        Self {
            filters: bands
                .iter()
                .map(|b| Biquad::design(b, rate, channels))
                .collect(),
            bands: bands.to_vec(),
            rate,
            #[cfg(target_arch = "x86_64")]
            fma: std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma"),
            #[cfg(not(target_arch = "x86_64"))]
            fma: false,
        }
    }

    /// Changes one band (redesigns its coefficients, keeps the state: no click).
    pub fn set_band(&mut self, i: usize, band: EqBand) {
        if let Some(f) = self.filters.get_mut(i) {
            // Zero channels: no allocation, only the coefficients are taken.
            let designed = Biquad::design(&band, self.rate, 0);
            f.b = designed.b;
            f.a = designed.a;
            self.bands[i] = band;
        }
    }

    /// The bands.
    pub fn bands(&self) -> &[EqBand] {
        &self.bands
    }

    /// Combined response in dB at `freq`.
    pub fn response_db(&self, freq: f64) -> f64 {
        self.filters
            .iter()
            .map(|f| f.response_db(freq, f64::from(self.rate)))
            .sum()
    }

    /// Filters planar channels in place. Channels go in pairs and every band runs inside one
    /// sample loop with its state in registers, so the independent recursions overlap in the
    /// CPU's pipelines; with FMA each recursion step is two fused operations.
    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        #[cfg(target_arch = "x86_64")]
        if self.fma {
            // SAFETY: AVX2 and FMA were detected at construction.
            unsafe { self.process_fma(channels) };
            return;
        }
        self.dispatch::<false>(channels);
    }

    /// [`ParametricEq::process`] compiled with fused multiply-adds.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn process_fma(&mut self, channels: &mut [&mut [f32]]) {
        self.dispatch::<true>(channels);
    }

    #[inline(always)]
    fn dispatch<const FMA: bool>(&mut self, channels: &mut [&mut [f32]]) {
        match self.filters.len() {
            0 => {}
            1 => self.run::<1, FMA>(channels),
            2 => self.run::<2, FMA>(channels),
            3 => self.run::<3, FMA>(channels),
            4 => self.run::<4, FMA>(channels),
            5 => self.run::<5, FMA>(channels),
            6 => self.run::<6, FMA>(channels),
            7 => self.run::<7, FMA>(channels),
            8 => self.run::<8, FMA>(channels),
            _ => {
                for f in &mut self.filters {
                    for (c, x) in channels.iter_mut().enumerate() {
                        f.process(c, x);
                    }
                }
            }
        }
    }

    /// [`ParametricEq::process`] for exactly `B` bands (the loops unroll, the state stays in
    /// registers).
    #[inline(always)]
    fn run<const B: usize, const FMA: bool>(&mut self, channels: &mut [&mut [f32]]) {
        // The recursion rewritten so each state depends on the previous state through one
        // multiply-add: s1' = c1·x − a1·s1 + s2 and s2' = c2·x − a2·s1 with c1 = b1 − a1·b0,
        // c2 = b2 − a2·b0 (the same transposed-direct-form-II filter; y = b0·x + s1).
        let coef: [([f64; 3], [f64; 2]); B] = std::array::from_fn(|k| {
            let ([b0, b1, b2], [a1, a2]) = (self.filters[k].b, self.filters[k].a);
            ([b0, b1 - a1 * b0, b2 - a2 * b0], [a1, a2])
        });
        let mut c = 0;
        while c < channels.len() {
            let lanes = if c + 1 < channels.len() { 2 } else { 1 };
            // s1[band][lane], s2[band][lane].
            let mut s1 = [[0.0f64; 2]; B];
            let mut s2 = [[0.0f64; 2]; B];
            for (k, f) in self.filters.iter().enumerate() {
                for l in 0..lanes {
                    [s1[k][l], s2[k][l]] = f.state[c + l];
                }
            }
            if lanes == 2 {
                let (left, right) = channels.split_at_mut(c + 1);
                let (xa, xb) = (&mut *left[c], &mut *right[0]);
                for (va, vb) in xa.iter_mut().zip(xb.iter_mut()) {
                    let mut y = [f64::from(*va), f64::from(*vb)];
                    for (k, (bq, aq)) in coef.iter().enumerate() {
                        let x = y;
                        for l in 0..2 {
                            (y[l], s1[k][l], s2[k][l]) =
                                tdf2::<FMA>(bq, aq, x[l], s1[k][l], s2[k][l]);
                        }
                    }
                    *va = y[0] as f32;
                    *vb = y[1] as f32;
                }
            } else {
                for v in channels[c].iter_mut() {
                    let mut y = f64::from(*v);
                    for (k, (bq, aq)) in coef.iter().enumerate() {
                        (y, s1[k][0], s2[k][0]) = tdf2::<FMA>(bq, aq, y, s1[k][0], s2[k][0]);
                    }
                    *v = y as f32;
                }
            }
            for (k, f) in self.filters.iter_mut().enumerate() {
                for l in 0..lanes {
                    f.state[c + l] = flush([s1[k][l], s2[k][l]]);
                }
            }
            c += lanes;
        }
    }

    /// Clears the state.
    pub fn reset(&mut self) {
        self.filters.iter_mut().for_each(Biquad::reset);
    }
}

/// One transposed-direct-form-II step, `(y, s1', s2')` for input `x`, with `c` =
/// `[b0, b1 − a1·b0, b2 − a2·b0]`: the state recursion is one multiply-add long (with `FMA`
/// fused), and the output is off it.
#[inline(always)]
pub(super) fn tdf2<const FMA: bool>(
    c: &[f64; 3],
    a: &[f64; 2],
    x: f64,
    s1: f64,
    s2: f64,
) -> (f64, f64, f64) {
    if FMA {
        (
            c[0].mul_add(x, s1),
            (-a[0]).mul_add(s1, c[1].mul_add(x, s2)),
            (-a[1]).mul_add(s1, c[2] * x),
        )
    } else {
        (
            c[0] * x + s1,
            c[1] * x - a[0] * s1 + s2,
            c[2] * x - a[1] * s1,
        )
    }
}

/// Zeroes denormal-sized filter state so silence stays cheap.
pub(super) fn flush(s: [f64; 2]) -> [f64; 2] {
    s.map(|v| if v.abs() < 1e-30 { 0.0 } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct form I in f64, one channel, one band after another: the reference.
    fn reference(bands: &[EqBand], rate: f32, x: &[f32]) -> Vec<f64> {
        let mut y: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        for band in bands {
            let q = Biquad::design(band, rate, 0);
            let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
            for v in &mut y {
                let out = q.b[0] * *v + q.b[1] * x1 + q.b[2] * x2 - q.a[0] * y1 - q.a[1] * y2;
                (x2, x1, y2, y1) = (x1, *v, y1, out);
                *v = out;
            }
        }
        y
    }

    #[test]
    fn every_path_matches_direct_form_one_in_f64() {
        let kinds = [
            FilterKind::HighPass,
            FilterKind::Bell,
            FilterKind::HighShelf,
            FilterKind::LowShelf,
            FilterKind::LowPass,
        ];
        let bands: Vec<EqBand> = (0..9)
            .map(|k| EqBand {
                kind: kinds[k % kinds.len()],
                freq: 60.0 * 1.9f32.powi(k as i32),
                gain_db: if k % 2 == 0 { 4.0 } else { -6.0 },
                q: 0.5 + 0.3 * k as f32,
            })
            .collect();
        let mut seed = 12345u32;
        let mut noise = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1u32 << 23) as f32 - 1.0
        };
        let input: Vec<Vec<f32>> = (0..3)
            .map(|_| (0..6000).map(|_| noise()).collect())
            .collect();
        // 3 bands (unrolled, a pair and a single channel) and 9 (the general loop); fused and
        // plain arithmetic; blocks of uneven sizes so the state carries over.
        for count in [3, 9] {
            for fma in [false, true] {
                let mut eq = ParametricEq::new(&bands[..count], 48_000.0, 3);
                eq.fma &= fma;
                let mut out = input.clone();
                let mut at = 0;
                for len in [1usize, 255, 1024, 77, 4643] {
                    let mut views: Vec<&mut [f32]> =
                        out.iter_mut().map(|c| &mut c[at..at + len]).collect();
                    eq.process(&mut views);
                    at += len;
                }
                for (c, (x, y)) in input.iter().zip(&out).enumerate() {
                    let want = reference(&bands[..count], 48_000.0, x);
                    let peak = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                    let err = want
                        .iter()
                        .zip(y)
                        .fold(0.0f64, |m, (w, g)| m.max((w - f64::from(*g)).abs()));
                    assert!(
                        err < 1e-6 * peak,
                        "{count} bands, fma {fma}, channel {c}: error {err:e} of {peak}"
                    );
                }
            }
        }
    }
}
