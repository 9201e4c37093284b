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
    state: Vec<[f64; 2]>,
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
    filters: Vec<Biquad>,
    rate: f32,
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
    /// CPU's pipelines (the arithmetic per channel is that of [`Biquad::process`]).
    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        match self.filters.len() {
            0 => {}
            1 => self.run::<1>(channels),
            2 => self.run::<2>(channels),
            3 => self.run::<3>(channels),
            4 => self.run::<4>(channels),
            5 => self.run::<5>(channels),
            6 => self.run::<6>(channels),
            7 => self.run::<7>(channels),
            8 => self.run::<8>(channels),
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
    fn run<const B: usize>(&mut self, channels: &mut [&mut [f32]]) {
        let coef: [([f64; 3], [f64; 2]); B] =
            std::array::from_fn(|k| (self.filters[k].b, self.filters[k].a));
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
                            y[l] = bq[0] * x[l] + s1[k][l];
                            s1[k][l] = bq[1] * x[l] - aq[0] * y[l] + s2[k][l];
                            s2[k][l] = bq[2] * x[l] - aq[1] * y[l];
                        }
                    }
                    *va = y[0] as f32;
                    *vb = y[1] as f32;
                }
            } else {
                for v in channels[c].iter_mut() {
                    let mut y = f64::from(*v);
                    for (k, (bq, aq)) in coef.iter().enumerate() {
                        let x = y;
                        y = bq[0] * x + s1[k][0];
                        s1[k][0] = bq[1] * x - aq[0] * y + s2[k][0];
                        s2[k][0] = bq[2] * x - aq[1] * y;
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

/// Zeroes denormal-sized filter state so silence stays cheap.
fn flush(s: [f64; 2]) -> [f64; 2] {
    s.map(|v| if v.abs() < 1e-30 { 0.0 } else { v })
}
