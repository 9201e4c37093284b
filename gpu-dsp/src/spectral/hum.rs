//! Mains hum: detection of the fundamental (50 or 60 Hz, refined to a fraction of a hertz
//! from all its harmonics) and removal by adaptive sinusoid cancellation — one complex LMS
//! weight per harmonic locked to an oscillator at exactly that frequency. Each harmonic is
//! taken out by a notch under 2 Hz wide, so the voice between harmonics is untouched (no
//! audible comb).

use realfft::num_complex::Complex32;
use realfft::RealFftPlanner;

/// Highest harmonic frequency considered (Hz).
pub const HUM_MAX_HZ: f64 = 1500.0;
/// Seconds of signal examined for detection.
const DETECT_SECONDS: f64 = 30.0;
/// A harmonic counts as present when its peak stands this far (power ratio, 10 dB) above the
/// spectrum around it.
const PROMINENCE: f64 = 10.0;

/// The hum found in (or asserted for) a signal.
#[derive(Clone, Debug, PartialEq)]
pub struct HumSpec {
    /// Fundamental in Hz.
    pub fundamental: f64,
    /// Harmonic numbers to remove (1 = the fundamental).
    pub harmonics: Vec<u32>,
}

impl HumSpec {
    /// Every harmonic of `fundamental` up to [`HUM_MAX_HZ`] (below Nyquist).
    pub fn all_harmonics(fundamental: f64, rate: f32) -> Self {
        if !(fundamental.is_finite() && fundamental > 0.0) {
            return Self {
                fundamental,
                harmonics: Vec::new(),
            };
        }
        let top = HUM_MAX_HZ.min(0.45 * f64::from(rate));
        Self {
            fundamental,
            harmonics: (1..)
                .take_while(|k| f64::from(*k) * fundamental <= top)
                .collect(),
        }
    }
}

/// Looks for mains hum in `x` (the first 30 s): at `mains` Hz (50 or 60) when given, else at
/// whichever of the two fits better. Returns the refined fundamental and the harmonics to
/// remove, or `None` unless at least two harmonics stand 10 dB above their surroundings at
/// consistent frequencies.
pub fn detect_hum(x: &[f32], rate: f32, mains: Option<f64>) -> Option<HumSpec> {
    let spectrum = welch(x, rate)?;
    if mains.is_some_and(|f| !(f.is_finite() && f > 0.0)) {
        return None;
    }
    let candidates: &[f64] = match mains {
        Some(ref f) => std::slice::from_ref(f),
        None => &[50.0, 60.0],
    };
    candidates
        .iter()
        .filter_map(|&f0| score(&spectrum, f0, rate))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, spec)| spec)
}

/// Averaged power spectrum with its bin width.
struct Welch {
    power: Vec<f64>,
    bin_hz: f64,
}

fn welch(x: &[f32], rate: f32) -> Option<Welch> {
    let take = x.len().min((DETECT_SECONDS * f64::from(rate)) as usize);
    if take < rate as usize {
        return None;
    }
    // Segments of about 4 s (0.25 Hz bins), fewer if the signal is short.
    let seg = ((4.0 * rate) as usize)
        .next_power_of_two()
        .min(take.next_power_of_two() / 2);
    let fft = RealFftPlanner::<f32>::new().plan_fft_forward(seg);
    let window: Vec<f32> = (0..seg)
        .map(|i| {
            (std::f32::consts::PI * (i as f32 + 0.5) / seg as f32)
                .sin()
                .powi(2)
        })
        .collect();
    let mut frame = vec![0.0f32; seg];
    let mut out = vec![Complex32::default(); seg / 2 + 1];
    let mut power = vec![0.0f64; seg / 2 + 1];
    let mut start = 0;
    while start + seg <= take {
        for ((f, s), w) in frame.iter_mut().zip(&x[start..start + seg]).zip(&window) {
            *f = if s.is_finite() { s * w } else { 0.0 };
        }
        fft.process(&mut frame, &mut out).ok()?;
        for (p, v) in power.iter_mut().zip(&out) {
            *p += f64::from(v.norm_sqr());
        }
        start += seg / 2;
    }
    Some(Welch {
        power,
        bin_hz: f64::from(rate) / seg as f64,
    })
}

/// A harmonic peak: its number, refined frequency and prominence.
struct Peak {
    k: u32,
    hz: f64,
    prominence: f64,
}

/// The hum at nominal `f0` in the spectrum with a score, or `None` if no harmonic stands
/// out. The fundamental is first taken from the clearest harmonic; harmonics that do not sit
/// where it predicts are dropped (a voice or instrument partial nearby), and the rest refine
/// it. Every harmonic up to the highest one found is removed: those buried under the voice
/// are still there, and audible in the pauses.
fn score(w: &Welch, f0: f64, rate: f32) -> Option<(f64, HumSpec)> {
    let top = HUM_MAX_HZ.min(0.45 * f64::from(rate));
    let peaks: Vec<Peak> = (1u32..)
        .map_while(|k| {
            let centre = f64::from(k) * f0;
            (centre <= top)
                .then(|| harmonic_peak(w, k, centre))
                .flatten()
        })
        .filter(|p| p.prominence > PROMINENCE)
        .collect();
    let clearest = peaks
        .iter()
        .max_by(|a, b| a.prominence.total_cmp(&b.prominence))?;
    let estimate = clearest.hz / f64::from(clearest.k);
    let consistent: Vec<&Peak> = peaks
        .iter()
        .filter(|p| {
            (p.hz - f64::from(p.k) * estimate).abs() < 1.5 * w.bin_hz + 0.002 * f64::from(p.k)
        })
        .collect();
    // Higher harmonics pin the fundamental down more finely; clearer peaks more reliably.
    let (mut weighted, mut weights, mut score) = (0.0, 0.0, 0.0);
    for p in &consistent {
        let weight = f64::from(p.k) * p.prominence.ln();
        weighted += weight * p.hz / f64::from(p.k);
        weights += weight;
        score += p.prominence.ln();
    }
    let highest = consistent.iter().map(|p| p.k).max()?;
    let found = consistent.len();
    let spec = HumSpec {
        fundamental: weighted / weights,
        harmonics: (1..=highest).collect(),
    };
    (found >= 2).then_some((score, spec))
}

/// The largest peak within ±0.5 % of `centre` (mains tolerance), its frequency refined by
/// parabolic interpolation of the log power, and how far it stands above the median power
/// 4–12 Hz either side.
fn harmonic_peak(w: &Welch, k: u32, centre: f64) -> Option<Peak> {
    let bin = |hz: f64| (hz / w.bin_hz).round() as usize;
    let reach = (centre * 0.005).max(2.0 * w.bin_hz);
    let (lo, hi) = (bin(centre - reach).max(1), bin(centre + reach));
    if hi + 1 >= w.power.len() {
        return None;
    }
    let peak = (lo..=hi).max_by(|a, b| w.power[*a].total_cmp(&w.power[*b]))?;
    let mut around: Vec<f64> = (bin(centre - 12.0)..bin(centre - 4.0))
        .chain(bin(centre + 4.0)..bin(centre + 12.0))
        .filter(|&b| b > 0 && b < w.power.len())
        .map(|b| w.power[b])
        .collect();
    around.sort_by(|a, b| a.total_cmp(b));
    let background = around.get(around.len() / 2).copied().unwrap_or(0.0);
    if w.power[peak] <= 0.0 {
        return Some(Peak {
            k,
            hz: centre,
            prominence: 0.0,
        });
    }
    let (a, b, c) = (
        w.power[peak - 1].max(1e-30).ln(),
        w.power[peak].ln(),
        w.power[peak + 1].max(1e-30).ln(),
    );
    let denom = a - 2.0 * b + c;
    let offset = if denom.abs() > 1e-12 {
        (0.5 * (a - c) / denom).clamp(-0.5, 0.5)
    } else {
        0.0
    };
    Some(Peak {
        k,
        hz: (peak as f64 + offset) * w.bin_hz,
        prominence: w.power[peak] / background.max(1e-30),
    })
}

/// Harmonics are processed in groups of this many (one SIMD register of f32 on AVX).
const LANES: usize = 8;
type Group = [f32; LANES];

/// Removes the harmonics of a [`HumSpec`] from one channel, in place, with no latency.
/// All memory is allocated in `new`.
pub struct HumRemover {
    /// Oscillator phase of the fundamental in cycles, kept in f64 so it never drifts.
    phase: f64,
    /// Cycles per sample of the fundamental.
    step: f64,
    /// Harmonic numbers, padded with zeros (a zero harmonic has a zero step size and
    /// oscillator, so it contributes nothing).
    numbers: Vec<Group>,
    groups: Vec<Harmonics>,
    /// AVX2 is available: the per-sample loop runs 8 harmonics per instruction.
    wide: bool,
}

/// Eight harmonics' state side by side: oscillator (re, im), its per-sample rotation, the
/// LMS weight and step size.
#[derive(Clone, Copy, Default)]
struct Harmonics {
    osc_re: Group,
    osc_im: Group,
    rot_re: Group,
    rot_im: Group,
    w_re: Group,
    w_im: Group,
    mu: Group,
}

fn grouped(values: impl Iterator<Item = f32>, groups: usize) -> Vec<Group> {
    let mut out = vec![[0.0; LANES]; groups];
    for (i, v) in values.enumerate() {
        out[i / LANES][i % LANES] = v;
    }
    out
}

impl HumRemover {
    pub fn new(spec: &HumSpec, rate: f32) -> Self {
        let step = spec.fundamental / f64::from(rate);
        let count = spec.harmonics.len().div_ceil(LANES);
        let ks = || spec.harmonics.iter().map(|&k| f64::from(k));
        let angle = move |k: f64| std::f64::consts::TAU * step * k;
        let rot_re = grouped(ks().map(|k| angle(k).cos() as f32), count);
        let rot_im = grouped(ks().map(|k| angle(k).sin() as f32), count);
        // Notch half-width 0.4 Hz at the fundamental, widening with the harmonic number so a
        // small error in the fundamental is still caught high up.
        let mu = grouped(
            ks().map(|k| (std::f64::consts::TAU * (0.4 + 0.03 * k) / f64::from(rate)) as f32),
            count,
        );
        let groups = (0..count)
            .map(|g| Harmonics {
                rot_re: rot_re[g],
                rot_im: rot_im[g],
                mu: mu[g],
                ..Default::default()
            })
            .collect();
        #[cfg(target_arch = "x86_64")]
        let wide = std::is_x86_feature_detected!("avx2");
        #[cfg(not(target_arch = "x86_64"))]
        let wide = false;
        Self {
            phase: 0.0,
            step,
            numbers: grouped(ks().map(|k| k as f32), count),
            groups,
            wide,
        }
    }

    /// Forgets the learned hum.
    pub fn reset(&mut self) {
        self.phase = 0.0;
        for g in &mut self.groups {
            g.w_re = [0.0; LANES];
            g.w_im = [0.0; LANES];
        }
    }

    /// Removes the hum from `x` in place. Non-finite samples become zero. Never allocates.
    pub fn process(&mut self, x: &mut [f32]) {
        if self.numbers.is_empty() {
            x.iter_mut()
                .filter(|v| !v.is_finite())
                .for_each(|v| *v = 0.0);
            return;
        }
        for block in x.chunks_mut(1024) {
            // Re-derive every oscillator from the f64 phase so f32 rotation never drifts.
            for (ks, g) in self.numbers.iter().zip(self.groups.iter_mut()) {
                for (j, k) in ks.iter().enumerate() {
                    let angle = std::f64::consts::TAU * (self.phase * f64::from(*k)).fract();
                    let on = if *k > 0.0 { 1.0 } else { 0.0 };
                    g.osc_re[j] = angle.cos() as f32 * on;
                    g.osc_im[j] = angle.sin() as f32 * on;
                }
            }
            #[cfg(target_arch = "x86_64")]
            if self.wide {
                // SAFETY: AVX2 was detected at construction.
                unsafe { cancel_avx2(&mut self.groups, block) };
            } else {
                cancel(&mut self.groups, block);
            }
            #[cfg(not(target_arch = "x86_64"))]
            cancel(&mut self.groups, block);
            self.phase = (self.phase + self.step * block.len() as f64).fract();
        }
    }
}

/// [`cancel`] compiled for AVX2 (one group of eight harmonics per register).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn cancel_avx2(groups: &mut [Harmonics], block: &mut [f32]) {
    cancel(groups, block);
}

/// The per-sample canceller: hum = Σ 2·Re(w·osc), y = x − hum, then the LMS step
/// `w += μ·y·conj(osc)` and each oscillator's rotation. (Indexed lane loops over fixed-size
/// arrays: what the compiler turns into one vector instruction each.)
#[inline(always)]
#[allow(clippy::needless_range_loop)]
fn cancel(groups: &mut [Harmonics], block: &mut [f32]) {
    for v in block.iter_mut() {
        let input = if v.is_finite() { *v } else { 0.0 };
        let mut acc = [0.0f32; LANES];
        for g in groups.iter() {
            for j in 0..LANES {
                acc[j] += g.w_re[j] * g.osc_re[j] - g.w_im[j] * g.osc_im[j];
            }
        }
        let y = input - 2.0 * acc.iter().sum::<f32>();
        for g in groups.iter_mut() {
            for j in 0..LANES {
                let (re, im) = (g.osc_re[j], g.osc_im[j]);
                let step = g.mu[j] * y;
                g.w_re[j] += step * re;
                g.w_im[j] -= step * im;
                g.osc_re[j] = re * g.rot_re[j] - im * g.rot_im[j];
                g.osc_im[j] = re * g.rot_im[j] + im * g.rot_re[j];
            }
        }
        *v = y;
    }
}
