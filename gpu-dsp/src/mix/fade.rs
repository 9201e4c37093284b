//! Clip fade curves. A fade-in's gain at progress `x` (0 at the clip edge, 1 at the fade's
//! end) is `shape.gain(x)`; a fade-out is the same curve read from the clip's end, so a
//! fade-out and a fade-in of one shape over the same span cross-fade: linear and S-curve
//! fades sum to 1 (for correlated material), equal-power fades sum to 1 in power.

/// The curve of a fade.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FadeShape {
    /// `x`.
    #[default]
    Linear,
    /// `sin(x·π/2)`: constant power across a crossfade of unrelated material.
    EqualPower,
    /// `(1 − cos(x·π))/2`: a raised cosine, smooth at both ends.
    SCurve,
}

impl FadeShape {
    /// Every shape with its session name.
    pub const NAMES: [(&'static str, FadeShape); 3] = [
        ("linear", FadeShape::Linear),
        ("equal-power", FadeShape::EqualPower),
        ("s-curve", FadeShape::SCurve),
    ];

    /// The shape called `name` (`linear`, `equal-power`, `s-curve`).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, s)| s)
    }

    /// The session name of the shape.
    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, s)| *s == self)
            .map_or("linear", |(n, _)| n)
    }

    /// Gain at progress `x` through the fade (clamped to 0..1).
    #[inline]
    pub fn gain(self, x: f64) -> f32 {
        let x = x.clamp(0.0, 1.0);
        (match self {
            FadeShape::Linear => x,
            FadeShape::EqualPower => (x * std::f64::consts::FRAC_PI_2).sin(),
            FadeShape::SCurve => 0.5 * (1.0 - (x * std::f64::consts::PI).cos()),
        }) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossfades_keep_their_sum() {
        for i in 0..=100 {
            let x = f64::from(i) / 100.0;
            let (a, b) = (FadeShape::Linear.gain(x), FadeShape::Linear.gain(1.0 - x));
            assert!((a + b - 1.0).abs() < 1e-6);
            let (a, b) = (FadeShape::SCurve.gain(x), FadeShape::SCurve.gain(1.0 - x));
            assert!((a + b - 1.0).abs() < 1e-6);
            let (a, b) = (
                FadeShape::EqualPower.gain(x),
                FadeShape::EqualPower.gain(1.0 - x),
            );
            assert!((a * a + b * b - 1.0).abs() < 1e-6);
        }
        for s in FadeShape::NAMES.map(|(_, s)| s) {
            assert_eq!(s.gain(0.0), 0.0);
            assert!((s.gain(1.0) - 1.0).abs() < 1e-7);
            assert_eq!(FadeShape::from_name(s.name()), Some(s));
        }
    }
}
