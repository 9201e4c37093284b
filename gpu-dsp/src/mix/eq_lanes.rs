//! Several EQs at once. An EQ's cost is its chain of biquad recursions, each sample waiting
//! on the one before through every band; here the channels of several EQs with the same
//! number of bands (one per lane, four f64 lanes to an AVX register) run side by side, so
//! mono tracks no longer leave three lanes idle. The results are those of
//! [`ParametricEq::process`], bit for bit.

use super::eq::{flush, tdf2, ParametricEq};

/// Channels filtered side by side.
const LANES: usize = 4;

/// Samples moved into the lanes at a time.
const RUN: usize = 64;

/// Channels of a batch at most (eight stereo tracks); more run one EQ at a time.
const MAX_CHANNELS: usize = 16;

/// An EQ and the channels of its block (all blocks of a batch the same length).
pub(crate) type Item<'a, 'b> = Option<(&'a mut ParametricEq, &'a mut [&'b mut [f32]])>;

/// Filters every item in place, as [`ParametricEq::process`] would each alone.
pub(crate) fn equalize_lanes(items: &mut [Item<'_, '_>]) {
    // Every channel is a lane: (item, channel, bands), grouped by band count.
    let mut lanes = [(0usize, 0usize, 0usize); MAX_CHANNELS];
    let mut count = 0;
    for (i, item) in items.iter_mut().enumerate() {
        let Some((eq, channels)) = item else {
            continue;
        };
        if eq.filters.len() > 8 {
            // Long chains are rare: those EQs run on their own.
            eq.process(channels);
            continue;
        }
        for c in 0..channels.len() {
            if count < MAX_CHANNELS {
                lanes[count] = (i, c, eq.filters.len());
            }
            count += 1;
        }
    }
    if count > MAX_CHANNELS {
        for (eq, channels) in items.iter_mut().flatten() {
            if eq.filters.len() <= 8 {
                eq.process(channels);
            }
        }
        return;
    }
    let lanes = &mut lanes[..count];
    lanes.sort_unstable_by_key(|&(_, _, bands)| bands);
    for group in lanes.chunk_by(|a, b| a.2 == b.2) {
        for batch in group.chunks(LANES) {
            let picks: [(usize, usize); LANES] =
                std::array::from_fn(|l| batch.get(l).map_or((usize::MAX, 0), |&(i, c, _)| (i, c)));
            match batch[0].2 {
                1 => filter::<1>(items, &picks),
                2 => filter::<2>(items, &picks),
                3 => filter::<3>(items, &picks),
                4 => filter::<4>(items, &picks),
                5 => filter::<5>(items, &picks),
                6 => filter::<6>(items, &picks),
                7 => filter::<7>(items, &picks),
                8 => filter::<8>(items, &picks),
                _ => {}
            }
        }
    }
}

/// Per band and lane: the recursion's coefficients `[b0, b1 − a1·b0, b2 − a2·b0]`, `a` and
/// state, as `ParametricEq::run` uses them.
struct Chain<const B: usize> {
    c: [[[f64; LANES]; 3]; B],
    a: [[[f64; LANES]; 2]; B],
    s1: [[f64; LANES]; B],
    s2: [[f64; LANES]; B],
}

/// Filters the lanes `picks` (item, channel; item `usize::MAX` for an empty lane), all of
/// whose EQs have `B` bands.
fn filter<const B: usize>(items: &mut [Item<'_, '_>], picks: &[(usize, usize); LANES]) {
    let mut chain = Chain::<B> {
        c: [[[0.0; LANES]; 3]; B],
        a: [[[0.0; LANES]; 2]; B],
        s1: [[0.0; LANES]; B],
        s2: [[0.0; LANES]; B],
    };
    let (mut n, mut fma) = (0, false);
    for (l, &(i, c)) in picks.iter().enumerate() {
        let Some((eq, channels)) = items.get(i).and_then(Option::as_ref) else {
            continue;
        };
        (n, fma) = (channels[c].len(), eq.fma);
        for (k, f) in eq.filters.iter().enumerate() {
            let ([b0, b1, b2], [a1, a2]) = (f.b, f.a);
            let coef = [b0, b1 - a1 * b0, b2 - a2 * b0];
            for (slot, v) in chain.c[k].iter_mut().zip(coef) {
                slot[l] = v;
            }
            (chain.a[k][0][l], chain.a[k][1][l]) = (a1, a2);
            [chain.s1[k][l], chain.s2[k][l]] = f.state[c];
        }
    }
    let mut buf = [[0.0f64; LANES]; RUN];
    let mut from = 0;
    while from < n {
        let m = RUN.min(n - from);
        for (l, &(i, c)) in picks.iter().enumerate() {
            if let Some((_, channels)) = items.get(i).and_then(Option::as_ref) {
                for (b, v) in buf.iter_mut().zip(&channels[c][from..from + m]) {
                    b[l] = f64::from(*v);
                }
            }
        }
        #[cfg(target_arch = "x86_64")]
        if fma {
            // SAFETY: `fma` is set only where the CPU has AVX2 and FMA.
            unsafe { biquads_avx(&mut buf[..m], &mut chain) };
        } else {
            biquads::<B, false>(&mut buf[..m], &mut chain);
        }
        #[cfg(not(target_arch = "x86_64"))]
        biquads::<B, false>(&mut buf[..m], &mut chain);
        for (l, &(i, c)) in picks.iter().enumerate() {
            if let Some((_, channels)) = items.get_mut(i).and_then(Option::as_mut) {
                for (v, b) in channels[c][from..from + m].iter_mut().zip(&buf) {
                    *v = b[l] as f32;
                }
            }
        }
        from += m;
    }
    for (l, &(i, c)) in picks.iter().enumerate() {
        if let Some((eq, _)) = items.get_mut(i).and_then(Option::as_mut) {
            for (k, f) in eq.filters.iter_mut().enumerate() {
                f.state[c] = flush([chain.s1[k][l], chain.s2[k][l]]);
            }
        }
    }
}

/// The band chain over `buf` (`[sample][lane]`), one lane at a time in scalar code.
fn biquads<const B: usize, const FMA: bool>(buf: &mut [[f64; LANES]], ch: &mut Chain<B>) {
    for y in buf {
        for k in 0..B {
            for (l, v) in y.iter_mut().enumerate() {
                let c = [ch.c[k][0][l], ch.c[k][1][l], ch.c[k][2][l]];
                let a = [ch.a[k][0][l], ch.a[k][1][l]];
                (*v, ch.s1[k][l], ch.s2[k][l]) = tdf2::<FMA>(&c, &a, *v, ch.s1[k][l], ch.s2[k][l]);
            }
        }
    }
}

/// [`biquads`] with the four lanes in one AVX register and fused multiply-adds (the same
/// operations as `tdf2` with FMA, so the same results).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn biquads_avx<const B: usize>(buf: &mut [[f64; LANES]], ch: &mut Chain<B>) {
    use std::arch::x86_64::*;
    let load = |v: &[f64; LANES]| _mm256_loadu_pd(v.as_ptr());
    // Negation flips the sign bit (as `-a` does, signed zeros included).
    let sign = _mm256_set1_pd(-0.0);
    let c: [[__m256d; 3]; B] = std::array::from_fn(|k| ch.c[k].each_ref().map(load));
    let na: [[__m256d; 2]; B] =
        std::array::from_fn(|k| ch.a[k].each_ref().map(|a| _mm256_xor_pd(load(a), sign)));
    let mut s1: [__m256d; B] = std::array::from_fn(|k| load(&ch.s1[k]));
    let mut s2: [__m256d; B] = std::array::from_fn(|k| load(&ch.s2[k]));
    for v in buf {
        let mut y = load(v);
        for k in 0..B {
            let x = y;
            y = _mm256_fmadd_pd(c[k][0], x, s1[k]);
            let next1 = _mm256_fmadd_pd(na[k][0], s1[k], _mm256_fmadd_pd(c[k][1], x, s2[k]));
            s2[k] = _mm256_fmadd_pd(na[k][1], s1[k], _mm256_mul_pd(c[k][2], x));
            s1[k] = next1;
        }
        _mm256_storeu_pd(v.as_mut_ptr(), y);
    }
    for k in 0..B {
        _mm256_storeu_pd(ch.s1[k].as_mut_ptr(), s1[k]);
        _mm256_storeu_pd(ch.s2[k].as_mut_ptr(), s2[k]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::noise;
    use crate::mix::lanes_test::alone_and_together;
    use crate::mix::{EqBand, FilterKind};

    #[test]
    fn lanes_give_each_eq_its_own_result_bit_for_bit() {
        // Nine EQs, mono and stereo, of one to four bands (so lanes mix EQs and some groups
        // are partial), over blocks of ragged length: every sample and the state carried
        // into the next block equal each EQ run alone.
        let kinds = [
            FilterKind::Bell,
            FilterKind::HighPass,
            FilterKind::HighShelf,
            FilterKind::LowShelf,
        ];
        let eq = |i: usize| {
            let bands: Vec<EqBand> = (0..1 + i % 4)
                .map(|b| EqBand {
                    kind: kinds[(i + b) % 4],
                    freq: 100.0 * (1 + i + 3 * b) as f32,
                    gain_db: -6.0 + 2.0 * (i + b) as f32,
                    q: 0.7 + 0.1 * b as f32,
                })
                .collect();
            ParametricEq::new(&bands, 48_000.0, 1 + i % 2)
        };
        let count = 9;
        let mut alone: Vec<ParametricEq> = (0..count).map(eq).collect();
        let mut lanes = alone.clone();
        for (b, n) in [256, 100, 513].into_iter().enumerate() {
            let blocks = (0..count)
                .map(|i| {
                    (0..1 + i % 2)
                        .map(|c| noise((31 * i + 7 * c + b) as u32 + 1, n))
                        .collect()
                })
                .collect();
            let (want, got) = alone_and_together(
                &mut alone,
                &mut lanes,
                blocks,
                |e, ch| e.process(ch),
                equalize_lanes,
            );
            assert_eq!(got, want, "block {b}");
        }
    }
}
