//! Fast float approximations for per-sample and per-bin work (level detectors, dB maps).

/// log2 of `x` (exponent bits plus an atanh series for the mantissa; error below 3e-5, so
/// dB values are within 1e-4 dB); values below 1e-30, and NaN, read as 1e-30.
#[inline]
pub fn fast_log2(x: f32) -> f32 {
    let bits = x.max(1e-30).to_bits();
    let e = ((bits >> 23) & 0xff) as i32 - 127;
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    // ln(m) = 2·atanh(t), t = (m − 1)/(m + 1) ∈ [0, 1/3).
    let series =
        1.0 + t2 * (1.0 / 3.0 + t2 * (0.2 + t2 * (1.0 / 7.0 + t2 * (1.0 / 9.0 + t2 / 11.0))));
    e as f32 + 2.0 * std::f32::consts::LOG2_E * t * series
}

/// 2^x for |x| < 126 (integer part in the exponent, a polynomial for the fraction; relative
/// error below 1e-4, 0.001 dB).
#[inline]
pub fn fast_exp2(x: f32) -> f32 {
    // 1.5 · 2^23: adding it rounds to an integer, which then sits in the low mantissa bits.
    const MAGIC: f32 = 12_582_912.0;
    let x = x.clamp(-126.0, 126.0);
    // floor without a libm call or an integer conversion, so loops over it vectorise.
    let t = (x + MAGIC) - MAGIC;
    let i = if t > x { t - 1.0 } else { t };
    let f = x - i;
    // Minimax-style polynomial for 2^f on [0, 1).
    let p = 1.0
        + f * (std::f32::consts::LN_2
            + f * (0.240_226_5 + f * (0.055_504_11 + f * (0.009_618_129 + f * 0.001_333_355))));
    let exponent = (i + (127.0 + MAGIC))
        .to_bits()
        .wrapping_sub(MAGIC.to_bits());
    f32::from_bits(exponent << 23) * p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_log_and_exp_are_accurate() {
        let mut x = 1e-9f32;
        while x < 1e9 {
            assert!((fast_log2(x) - x.log2()).abs() < 1e-4, "log2 {x}");
            x *= 1.37;
        }
        let mut y = -40.0f32;
        while y < 40.0 {
            let want = y.exp2();
            assert!(
                (fast_exp2(y) - want).abs() <= 1e-4 * want,
                "exp2 {y}: {} vs {want}",
                fast_exp2(y)
            );
            y += 0.0137;
        }
    }
}
