//! A perceptually ordered colour map (magma-like: black, purple, orange, pale yellow).

/// Anchor colours at evenly spaced positions from 0 to 1.
const ANCHORS: [[f32; 3]; 9] = [
    [0.0, 0.0, 4.0],
    [28.0, 16.0, 68.0],
    [79.0, 18.0, 123.0],
    [129.0, 37.0, 129.0],
    [181.0, 54.0, 122.0],
    [229.0, 80.0, 100.0],
    [251.0, 135.0, 97.0],
    [254.0, 194.0, 135.0],
    [252.0, 253.0, 191.0],
];

/// RGB for `v` in 0..=1 (clamped), linearly interpolated between anchors.
pub fn magma(v: f32) -> [u8; 3] {
    let v = if v.is_finite() {
        v.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = v * (ANCHORS.len() - 1) as f32;
    let i = (x as usize).min(ANCHORS.len() - 2);
    let t = x - i as f32;
    let (a, b) = (ANCHORS[i], ANCHORS[i + 1]);
    std::array::from_fn(|c| (a[c] + (b[c] - a[c]) * t).round() as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luminance_increases_monotonically() {
        let lum = |c: [u8; 3]| {
            0.2126 * f32::from(c[0]) + 0.7152 * f32::from(c[1]) + 0.0722 * f32::from(c[2])
        };
        let mut last = -1.0;
        for i in 0..=100 {
            let l = lum(magma(i as f32 / 100.0));
            assert!(l > last, "step {i}");
            last = l;
        }
        assert_eq!(magma(-1.0), magma(0.0));
        assert_eq!(magma(f32::NAN), magma(0.0));
    }
}
