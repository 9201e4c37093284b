//! Several compressors at once. A compressor's cost is its two serial recursions (the peak
//! detector and the attack/release smoothing), one step per sample whose latency no
//! vectorising can hide; here up to [`LANES`] compressors (one per track) run them side by
//! side in SIMD lanes, so a mix of many compressed tracks pays that latency once per eight.
//! The results are those of [`Compressor::process`], bit for bit.

use super::dynamics::{Compressor, Smoothing, StaticCurve, DB_PER_OCTAVE};
use crate::approx::{fast_exp2, fast_log2};

/// Compressors run side by side.
pub(crate) const LANES: usize = 8;

/// Samples per pass (two `[[f32; LANES]; CHUNK]` arrays live on the stack: 16 KB).
const CHUNK: usize = 256;

/// A compressor and the channels of its block (all blocks of a batch the same length).
pub(crate) type Item<'a, 'b> = Option<(&'a mut Compressor, &'a mut [&'b mut [f32]])>;

/// Compresses every item in place, as [`Compressor::process`] would each alone.
pub(crate) fn compress_lanes(items: &mut [Item<'_, '_>]) {
    for batch in items.chunks_mut(LANES) {
        // A block with nothing to do takes the compressor's shortcut; the rest share lanes.
        let mut active: [Item<'_, '_>; LANES] = Default::default();
        let mut count = 0;
        for (c, channels) in batch.iter_mut().flatten() {
            if !c.rest_if_quiet(channels) {
                active[count] = Some((&mut **c, &mut **channels));
                count += 1;
            }
        }
        let fma = active[0].as_ref().is_some_and(|(c, _)| c.fma);
        match count {
            0 => {}
            1 => {
                if let Some((c, channels)) = active[0].take() {
                    c.process(channels);
                }
            }
            #[cfg(target_arch = "x86_64")]
            // SAFETY: the CPU has AVX2 and FMA (checked when the compressors were built).
            _ if fma => unsafe { smooth_lanes_fma(&mut active) },
            _ => smooth_lanes::<false>(&mut active),
        }
    }
}

/// [`smooth_lanes`] compiled with AVX2 and fused multiply-adds.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn smooth_lanes_fma(active: &mut [Item<'_, '_>; LANES]) {
    smooth_lanes::<true>(active);
}

/// Per-lane constants of the compressors in a batch (empty lanes rest at zero).
#[derive(Default)]
struct Constants {
    attack: [f32; LANES],
    release: [f32; LANES],
    detector: [f32; LANES],
    quiet: [f32; LANES],
    makeup: [f32; LANES],
    makeup_gain: [f32; LANES],
    /// The static curves, field by field (see `StaticCurve`).
    threshold: [f32; LANES],
    slope: [f32; LANES],
    knee: [f32; LANES],
    soft_scale: [f32; LANES],
}

/// The compressor's detector, static curve and smoothing (see `Compressor::smooth`) for
/// every lane at once: the recursions step all lanes per sample; peaks, gains and their
/// application run one lane at a time over a chunk.
#[inline(always)]
fn smooth_lanes<const FMA: bool>(active: &mut [Item<'_, '_>; LANES]) {
    let mut k = Constants::default();
    let (mut e, mut r) = ([0.0f32; LANES], [0.0f32; LANES]);
    let mut n = 0;
    for (l, item) in active.iter().enumerate() {
        let Some((c, channels)) = item else {
            continue;
        };
        n = channels.first().map_or(0, |c| c.len());
        k.attack[l] = c.attack;
        k.release[l] = c.release;
        k.detector[l] = c.detector_release;
        k.quiet[l] = c.quiet;
        k.makeup[l] = c.p.makeup_db;
        k.makeup_gain[l] = c.makeup_gain;
        let curve = StaticCurve::of(&c.p);
        k.threshold[l] = curve.threshold;
        k.slope[l] = curve.slope;
        k.knee[l] = curve.knee;
        k.soft_scale[l] = curve.soft_scale;
        (e[l], r[l]) = (c.env, c.reduction_db);
    }
    // [sample][lane]: the detector's level, then the target, smoothed, then the gain.
    let mut level = [[0.0f32; LANES]; CHUNK];
    let mut gain = [[0.0f32; LANES]; CHUNK];
    let mut run = [0.0f32; CHUNK];
    let mut from = 0;
    while from < n {
        let m = CHUNK.min(n - from);
        let span = from..from + m;
        for (l, item) in active.iter().enumerate() {
            run[..m].fill(0.0);
            for c in item.iter().flat_map(|(_, ch)| ch.iter()) {
                for (p, x) in run[..m].iter_mut().zip(&c[span.clone()]) {
                    *p = p.max(x.abs());
                }
            }
            for (lv, p) in level[..m].iter_mut().zip(&run[..m]) {
                lv[l] = *p;
            }
        }
        #[cfg(target_arch = "x86_64")]
        if FMA {
            // SAFETY: FMA is only set where the CPU has AVX2 and FMA.
            unsafe { detect_avx(&mut level[..m], &mut e, &k.detector) };
        }
        if !FMA || cfg!(not(target_arch = "x86_64")) {
            for lv in &mut level[..m] {
                for l in 0..LANES {
                    e[l] = lv[l].max(e[l] * k.detector[l]);
                    lv[l] = e[l];
                }
            }
        }
        for (g, lv) in gain[..m].iter_mut().zip(&level[..m]) {
            for l in 0..LANES {
                // Built from the lanes' fields, so the pass vectorises across them.
                let curve = StaticCurve {
                    threshold: k.threshold[l],
                    slope: k.slope[l],
                    knee: k.knee[l],
                    soft_scale: k.soft_scale[l],
                };
                g[l] = curve.reduction_db(DB_PER_OCTAVE * fast_log2(lv[l].max(1e-9)));
            }
        }
        #[cfg(target_arch = "x86_64")]
        if FMA {
            // SAFETY: as above.
            unsafe { smooth_avx(&mut gain[..m], &level[..m], &mut r, &k) };
        }
        if !FMA || cfg!(not(target_arch = "x86_64")) {
            for (g, lv) in gain[..m].iter_mut().zip(&level[..m]) {
                for l in 0..LANES {
                    let smoothing = Smoothing {
                        attack: k.attack[l],
                        release: k.release[l],
                        quiet: k.quiet[l],
                    };
                    g[l] = smoothing.step::<FMA>(g[l], lv[l], &mut r[l]);
                }
            }
        }
        for g in &mut gain[..m] {
            for ((v, &up), &up_gain) in g.iter_mut().zip(&k.makeup).zip(&k.makeup_gain) {
                *v = if v.is_nan() {
                    up_gain
                } else {
                    fast_exp2((*v + up) * (1.0 / DB_PER_OCTAVE))
                };
            }
        }
        for (l, item) in active.iter_mut().enumerate() {
            let Some((_, channels)) = item else {
                continue;
            };
            for c in channels.iter_mut() {
                for (v, g) in c[span.clone()].iter_mut().zip(&gain[..m]) {
                    *v *= g[l];
                }
            }
        }
        from += m;
    }
    for (l, item) in active.iter_mut().enumerate() {
        if let Some((c, _)) = item {
            (c.env, c.reduction_db) = (e[l], r[l]);
        }
    }
}

/// The detector recursion of every lane in AVX registers: `e ← max(level, e·release)`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn detect_avx(level: &mut [[f32; LANES]], e: &mut [f32; LANES], release: &[f32; LANES]) {
    use std::arch::x86_64::*;
    let d = _mm256_loadu_ps(release.as_ptr());
    let mut ev = _mm256_loadu_ps(e.as_ptr());
    for lv in level {
        // Levels and envelopes are never NaN, so `maxps` is `f32::max` here.
        ev = _mm256_max_ps(_mm256_loadu_ps(lv.as_ptr()), _mm256_mul_ps(ev, d));
        _mm256_storeu_ps(lv.as_mut_ptr(), ev);
    }
    _mm256_storeu_ps(e.as_mut_ptr(), ev);
}

/// The attack/release smoothing of every lane in AVX registers, operation for operation
/// the scalar step: targets in `gain` become the smoothed reduction (NaN where resting).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn smooth_avx(
    gain: &mut [[f32; LANES]],
    level: &[[f32; LANES]],
    r: &mut [f32; LANES],
    k: &Constants,
) {
    use std::arch::x86_64::*;
    let load = |a: &[f32; LANES]| _mm256_loadu_ps(a.as_ptr());
    let (attack, release, quiet) = (load(&k.attack), load(&k.release), load(&k.quiet));
    let one = _mm256_set1_ps(1.0);
    let (keep_attack, keep_release) = (_mm256_sub_ps(one, attack), _mm256_sub_ps(one, release));
    let (settled, nan) = (_mm256_set1_ps(-1e-4), _mm256_set1_ps(f32::NAN));
    let mut rv = load(r);
    for (g, lv) in gain.iter_mut().zip(level) {
        let target = _mm256_loadu_ps(g.as_ptr());
        let by_attack = _mm256_fmadd_ps(attack, rv, _mm256_mul_ps(keep_attack, target));
        let by_release = _mm256_fmadd_ps(release, rv, _mm256_mul_ps(keep_release, target));
        let more = _mm256_cmp_ps::<_CMP_LT_OQ>(target, rv);
        let smoothed = _mm256_blendv_ps(by_release, by_attack, more);
        let rest = _mm256_and_ps(
            _mm256_cmp_ps::<_CMP_LT_OQ>(load(lv), quiet),
            _mm256_cmp_ps::<_CMP_GT_OQ>(rv, settled),
        );
        rv = _mm256_andnot_ps(rest, smoothed);
        _mm256_storeu_ps(g.as_mut_ptr(), _mm256_blendv_ps(rv, nan, rest));
    }
    _mm256_storeu_ps(r.as_mut_ptr(), rv);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::noise;
    use crate::mix::lanes_test::alone_and_together;
    use crate::mix::CompressorParams;

    #[test]
    fn lanes_give_each_compressor_its_own_result_bit_for_bit() {
        // Eleven compressors (a full batch and a partial one), mono and stereo, different
        // settings, loud, swelling and silent material, over several blocks of ragged
        // length: every sample and state equals the compressor run alone.
        let params = |i: usize| CompressorParams {
            threshold_db: -30.0 + 2.0 * i as f32,
            ratio: 1.5 + i as f32,
            attack_ms: 1.0 + 3.0 * i as f32,
            release_ms: 40.0 + 25.0 * i as f32,
            knee_db: [0.0, 6.0, 2.0][i % 3],
            makeup_db: [0.0, 3.0, -2.0][i % 3],
        };
        let count = 11;
        let mut alone: Vec<Compressor> = (0..count)
            .map(|i| Compressor::new(params(i), 48_000.0))
            .collect();
        let mut lanes = alone.clone();
        let channels = |i: usize| 1 + i % 2;
        for (b, n) in [512, 300, 1024, 7].into_iter().enumerate() {
            let signal = |i: usize, c: usize| -> Vec<f32> {
                let level = [0.9, 0.05, 0.0, 0.4][(i + b) % 4];
                noise((100 * i + 10 * b + c) as u32 + 1, n)
                    .into_iter()
                    .enumerate()
                    .map(|(j, v)| v * level * (1.0 + (j as f32 * 0.01).sin()) * 0.5)
                    .collect()
            };
            let blocks = (0..count)
                .map(|i| (0..channels(i)).map(|c| signal(i, c)).collect())
                .collect();
            let (want, got) = alone_and_together(
                &mut alone,
                &mut lanes,
                blocks,
                |c, ch| c.process(ch),
                compress_lanes,
            );
            assert_eq!(got, want, "block {b}");
            for (a, l) in alone.iter().zip(&lanes) {
                assert_eq!(a.reduction_db().to_bits(), l.reduction_db().to_bits());
                assert_eq!(a.env.to_bits(), l.env.to_bits());
            }
        }
        assert!(
            alone.iter().any(|c| c.reduction_db() < -1.0),
            "the material must make some compressors work"
        );
    }
}
