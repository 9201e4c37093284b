//! Compressor and gate: linked peak detection over all channels, gain computed in dB,
//! smoothed with separate attack and release times.

use crate::analysis::truepeak::abs_max;
use crate::approx::{fast_exp2, fast_log2};

/// Decibels per octave of amplitude (20·log10 2): levels are taken with `fast_log2`.
pub(super) const DB_PER_OCTAVE: f32 = 6.020_6;

/// One-pole coefficient for a time constant of `ms` at `rate`.
fn coeff(ms: f32, rate: f32) -> f32 {
    if ms <= 0.0 {
        0.0
    } else {
        (-1.0 / (ms * 0.001 * rate)).exp()
    }
}

/// Peak envelope of all channels at sample `i`: instant attack, exponential release.
#[inline]
fn linked_peak(channels: &[&mut [f32]], i: usize) -> f32 {
    channels.iter().fold(0.0f32, |m, c| m.max(c[i].abs()))
}

/// Compressor parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CompressorParams {
    pub threshold_db: f32,
    pub ratio: f32,
    pub attack_ms: f32,
    pub release_ms: f32,
    /// Soft-knee width (dB), 0 for a hard knee.
    pub knee_db: f32,
    pub makeup_db: f32,
}

impl Default for CompressorParams {
    fn default() -> Self {
        Self {
            threshold_db: -18.0,
            ratio: 3.0,
            attack_ms: 10.0,
            release_ms: 150.0,
            knee_db: 0.0,
            makeup_db: 0.0,
        }
    }
}

/// The compressor's static curve in a branch-free form (selects instead of branches and no
/// division, so a chunk's targets are computed in one vectorised pass): the values of
/// [`Compressor::curve_db`] to within a rounding.
#[derive(Clone, Copy, Default)]
pub(super) struct StaticCurve {
    pub threshold: f32,
    pub slope: f32,
    pub knee: f32,
    /// slope / (2·knee), 0 for a hard knee.
    pub soft_scale: f32,
}

impl StaticCurve {
    pub fn of(p: &CompressorParams) -> Self {
        let (slope, knee) = (1.0 / p.ratio.max(1.0) - 1.0, p.knee_db.max(0.0));
        Self {
            threshold: p.threshold_db,
            slope,
            knee,
            soft_scale: if knee > 0.0 {
                slope / (2.0 * knee)
            } else {
                0.0
            },
        }
    }

    #[inline(always)]
    pub fn reduction_db(&self, level_db: f32) -> f32 {
        let (k, slope) = (self.knee, self.slope);
        let over = level_db - self.threshold;
        let lifted = over + k / 2.0;
        let soft = self.soft_scale * (lifted * lifted);
        let hard = if over > 0.0 { slope * over } else { 0.0 };
        if k > 0.0 && over.abs() <= k / 2.0 {
            soft
        } else {
            hard
        }
    }
}

/// The attack/release smoothing of the gain reduction and where it rests.
#[derive(Clone, Copy)]
pub(super) struct Smoothing {
    pub attack: f32,
    pub release: f32,
    /// Detector level below which the curve is flat.
    pub quiet: f32,
}

impl Smoothing {
    /// One step of the reduction `r` toward `target` (dB) with the detector at `level`:
    /// attack when more reduction is needed, release when less; below the knee with nothing
    /// left to release the compressor rests (`r` 0, and NaN is returned to flag the gain as
    /// exactly the makeup), else the new `r`. r ← a·r + (1 − a)·t for both coefficients, one
    /// kept: the recursion through `r` is one multiply-add (fused with `FMA`) and a select.
    #[inline(always)]
    pub fn step<const FMA: bool>(&self, target: f32, level: f32, r: &mut f32) -> f32 {
        let (attack, release) = (self.attack, self.release);
        let (keep_attack, keep_release) = (1.0 - attack, 1.0 - release);
        let (by_attack, by_release) = if FMA {
            (
                attack.mul_add(*r, keep_attack * target),
                release.mul_add(*r, keep_release * target),
            )
        } else {
            (
                attack * *r + keep_attack * target,
                release * *r + keep_release * target,
            )
        };
        let smoothed = if target < *r { by_attack } else { by_release };
        let rest = level < self.quiet && *r > -1e-4;
        *r = if rest { 0.0 } else { smoothed };
        if rest {
            f32::NAN
        } else {
            *r
        }
    }
}

/// Feed-forward compressor.
#[derive(Clone, Debug)]
pub struct Compressor {
    pub(super) p: CompressorParams,
    rate: f32,
    pub(super) env: f32,
    pub(super) reduction_db: f32,
    pub(super) detector_release: f32,
    pub(super) attack: f32,
    pub(super) release: f32,
    /// Detector level below which the curve is flat (threshold minus half the knee).
    pub(super) quiet: f32,
    pub(super) makeup_gain: f32,
    /// The CPU has AVX2 and fused multiply-add (the smoothing recursion uses them).
    pub(super) fma: bool,
}

impl Compressor {
    pub fn new(p: CompressorParams, rate: f32) -> Self {
        let mut c = Self {
            p,
            rate,
            env: 0.0,
            reduction_db: 0.0,
            detector_release: 0.0,
            attack: 0.0,
            release: 0.0,
            quiet: 0.0,
            makeup_gain: 1.0,
            #[cfg(target_arch = "x86_64")]
            fma: std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma"),
            #[cfg(not(target_arch = "x86_64"))]
            fma: false,
        };
        c.set_params(p);
        c
    }

    /// Changes the parameters (allocation-free).
    pub fn set_params(&mut self, p: CompressorParams) {
        self.p = p;
        self.attack = coeff(p.attack_ms, self.rate);
        self.release = coeff(p.release_ms, self.rate);
        // The level detector holds peaks for ~20 ms so a steady tone reads its amplitude.
        self.detector_release = coeff(20.0, self.rate);
        self.quiet = 10f32.powf((p.threshold_db - p.knee_db.max(0.0) / 2.0) / 20.0);
        self.makeup_gain = 10f32.powf(p.makeup_db / 20.0);
    }

    pub fn params(&self) -> CompressorParams {
        self.p
    }

    /// Static curve: gain reduction (dB, ≤ 0) for an input level in dB (the definition;
    /// [`StaticCurve`] computes the same without branches).
    pub fn curve_db(&self, level_db: f32) -> f32 {
        let (t, r, k) = (
            self.p.threshold_db,
            self.p.ratio.max(1.0),
            self.p.knee_db.max(0.0),
        );
        let over = level_db - t;
        let slope = 1.0 / r - 1.0;
        if k > 0.0 && over.abs() <= k / 2.0 {
            slope * (over + k / 2.0).powi(2) / (2.0 * k)
        } else if over > 0.0 {
            slope * over
        } else {
            0.0
        }
    }

    /// Current gain reduction in dB (≤ 0), for meters.
    pub fn reduction_db(&self) -> f32 {
        self.reduction_db
    }

    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        let n = channels.first().map_or(0, |c| c.len());
        if self.rest_if_quiet(channels) {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if self.fma {
            // SAFETY: the CPU has AVX2 and FMA (checked when the compressor was built).
            unsafe { self.smooth_fma(channels, n) };
            return;
        }
        self.smooth::<false>(channels, n);
    }

    /// The block's shortcut when it is quiet: applies the makeup gain and returns true when
    /// the whole block is below the knee with no reduction pending.
    pub(super) fn rest_if_quiet(&mut self, channels: &mut [&mut [f32]]) -> bool {
        let n = channels.first().map_or(0, |c| c.len());
        // Below the knee with no reduction left, the gain is just the makeup.
        let (quiet, makeup_gain) = (self.quiet, self.makeup_gain);
        // Whole block below the knee with no reduction pending: the per-sample gain would be
        // the makeup everywhere, so apply it at once. The detector keeps an upper bound of its
        // exact value (block peak vs decayed state); both stay below the knee, where the curve
        // is flat, so later output is the same as with the exact envelope.
        let block_peak = channels.iter().map(|c| abs_max(c)).fold(0.0f32, f32::max);
        if self.reduction_db > -1e-4 && self.env < quiet && block_peak < quiet {
            self.reduction_db = 0.0;
            self.env = block_peak.max(self.env * self.detector_release.powi(n as i32));
            if makeup_gain != 1.0 {
                for c in channels.iter_mut() {
                    c.iter_mut().for_each(|v| *v *= makeup_gain);
                }
            }
            return true;
        }
        false
    }

    /// [`Compressor::process`]'s per-sample part compiled with AVX2 and fused multiply-adds.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn smooth_fma(&mut self, channels: &mut [&mut [f32]], n: usize) {
        self.smooth::<true>(channels, n);
    }

    /// Detector, gain computer, smoothing and gain, in chunks: only the two recursions (the
    /// peak detector and the attack/release smoothing) run sample by sample, branch-free;
    /// peaks, logarithms, the static curve, exponentials and gain multiplies are vectorised
    /// passes over the chunk.
    #[inline(always)]
    fn smooth<const FMA: bool>(&mut self, channels: &mut [&mut [f32]], n: usize) {
        let (quiet, makeup_gain, makeup) = (self.quiet, self.makeup_gain, self.p.makeup_db);
        let (attack, release, detector) = (self.attack, self.release, self.detector_release);
        let curve = StaticCurve::of(&self.p);
        const CHUNK: usize = 256;
        // The detector runs one chunk ahead of the smoothing, in the same loop: the two
        // recursions are independent chains, so the CPU overlaps them.
        let mut env = [[0.0f32; CHUNK]; 2];
        let mut gain = [0.0f32; CHUNK];
        let (mut e, mut r) = (self.env, self.reduction_db);
        let chunk = |k: usize| (k * CHUNK).min(n)..((k + 1) * CHUNK).min(n);
        let peaks = |out: &mut [f32], span: std::ops::Range<usize>, channels: &[&mut [f32]]| {
            out.fill(0.0);
            for c in channels.iter() {
                for (p, x) in out.iter_mut().zip(&c[span.clone()]) {
                    *p = p.max(x.abs());
                }
            }
        };
        // The first chunk's detector on its own.
        let first = chunk(0);
        peaks(&mut env[0][..first.len()], first.clone(), channels);
        for p in env[0][..first.len()].iter_mut() {
            e = p.max(e * detector);
            *p = e;
        }
        let mut k = 0;
        while k * CHUNK < n {
            let (here, next) = (chunk(k), chunk(k + 1));
            let (m, m_next) = (here.len(), next.len());
            let (now, ahead) = env.split_at_mut(1);
            let (now, ahead) = if k % 2 == 0 {
                (&mut now[0], &mut ahead[0])
            } else {
                (&mut ahead[0], &mut now[0])
            };
            // Level in dB, then the static curve's target reduction.
            for (g, &level) in gain[..m].iter_mut().zip(&now[..m]) {
                *g = curve.reduction_db(DB_PER_OCTAVE * fast_log2(level.max(1e-9)));
            }
            peaks(&mut ahead[..m_next], next, channels);
            // Smoothing toward the target: attack when more reduction is needed, release when
            // less; below the knee with nothing left to release the compressor rests (gain
            // exactly the makeup, flagged NaN). Beside it, the next chunk's detector.
            let smoothing = Smoothing {
                attack,
                release,
                quiet,
            };
            let step = |g: &mut f32, level: f32, r: &mut f32| {
                *g = smoothing.step::<FMA>(*g, level, r);
            };
            let both = m.min(m_next);
            for ((g, &level), p) in gain[..both]
                .iter_mut()
                .zip(&now[..both])
                .zip(ahead[..both].iter_mut())
            {
                step(g, level, &mut r);
                e = p.max(e * detector);
                *p = e;
            }
            for (g, &level) in gain[both..m].iter_mut().zip(&now[both..m]) {
                step(g, level, &mut r);
            }
            for p in ahead[both..m_next].iter_mut() {
                e = p.max(e * detector);
                *p = e;
            }
            for g in gain[..m].iter_mut() {
                let db = *g;
                *g = if db.is_nan() {
                    makeup_gain
                } else {
                    fast_exp2((db + makeup) * (1.0 / DB_PER_OCTAVE))
                };
            }
            for c in channels.iter_mut() {
                for (v, g) in c[here.clone()].iter_mut().zip(&gain[..m]) {
                    *v *= g;
                }
            }
            k += 1;
        }
        (self.env, self.reduction_db) = (e, r);
    }

    pub fn reset(&mut self) {
        self.env = 0.0;
        self.reduction_db = 0.0;
    }
}

/// Gate parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GateParams {
    pub threshold_db: f32,
    /// Attenuation when closed (dB, negative).
    pub range_db: f32,
    pub attack_ms: f32,
    pub hold_ms: f32,
    pub release_ms: f32,
}

impl Default for GateParams {
    fn default() -> Self {
        Self {
            threshold_db: -50.0,
            range_db: -80.0,
            attack_ms: 1.0,
            hold_ms: 50.0,
            release_ms: 100.0,
        }
    }
}

/// Noise gate with hold.
#[derive(Clone, Debug)]
pub struct Gate {
    p: GateParams,
    rate: f32,
    env: f32,
    gain: f32,
    hold_left: usize,
    detector_release: f32,
    attack: f32,
    release: f32,
}

impl Gate {
    pub fn new(p: GateParams, rate: f32) -> Self {
        let mut g = Self {
            p,
            rate,
            env: 0.0,
            gain: 0.0,
            hold_left: 0,
            detector_release: 0.0,
            attack: 0.0,
            release: 0.0,
        };
        g.set_params(p);
        g.gain = 10f32.powf(p.range_db.min(0.0) / 20.0);
        g
    }

    pub fn set_params(&mut self, p: GateParams) {
        self.p = p;
        self.attack = coeff(p.attack_ms, self.rate);
        self.release = coeff(p.release_ms, self.rate);
        self.detector_release = coeff(20.0, self.rate);
    }

    pub fn params(&self) -> GateParams {
        self.p
    }

    /// Current attenuation in dB (≤ 0; the range when closed), for meters.
    pub fn reduction_db(&self) -> f32 {
        20.0 * self.gain.max(1e-10).log10()
    }

    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        let n = channels.first().map_or(0, |c| c.len());
        let threshold = 10f32.powf(self.p.threshold_db / 20.0);
        let closed = 10f32.powf(self.p.range_db.min(0.0) / 20.0);
        let hold = (self.p.hold_ms.max(0.0) * 0.001 * self.rate) as usize;
        for i in 0..n {
            let peak = linked_peak(channels, i);
            self.env = peak.max(self.env * self.detector_release);
            let open = if self.env >= threshold {
                self.hold_left = hold;
                true
            } else if self.hold_left > 0 {
                self.hold_left -= 1;
                true
            } else {
                false
            };
            let (target, a) = if open {
                (1.0, self.attack)
            } else {
                (closed, self.release)
            };
            self.gain = target + a * (self.gain - target);
            for c in channels.iter_mut() {
                c[i] *= self.gain;
            }
        }
    }

    pub fn reset(&mut self) {
        self.env = 0.0;
        self.hold_left = 0;
        self.gain = 10f32.powf(self.p.range_db.min(0.0) / 20.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_branch_free_curve_is_the_curve() {
        // Every level from −120 to +40 dB in 0.04 dB steps, hard and soft knees.
        for (ratio, knee) in [(3.0, 0.0), (4.0, 6.0), (1.0, 12.0), (20.0, 0.5), (0.5, 3.0)] {
            let p = CompressorParams {
                threshold_db: -20.0,
                ratio,
                knee_db: knee,
                ..Default::default()
            };
            let (c, fast) = (Compressor::new(p, 48_000.0), StaticCurve::of(&p));
            for k in 0..=4000 {
                let level = -120.0 + k as f32 * 0.04;
                let (want, got) = (c.curve_db(level), fast.reduction_db(level));
                assert!(
                    (want - got).abs() <= 1e-6 * want.abs().max(1.0),
                    "ratio {ratio}, knee {knee}, {level} dB: {got} vs {want}"
                );
            }
        }
    }
}
