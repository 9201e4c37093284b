//! Panning: constant-power stereo pan, stereo balance, pairwise constant-power surround
//! panning at the ITU-R BS.775 angles, and the ITU stereo downmix.

use std::f32::consts::{FRAC_1_SQRT_2, FRAC_PI_4};

/// Output channel layouts, in WAV channel order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// L R
    Stereo,
    /// L R C LFE Ls Rs
    FivePointOne,
    /// L R C LFE BL BR SL SR
    SevenPointOne,
}

impl Layout {
    /// Channels of the layout.
    pub fn channels(self) -> usize {
        match self {
            Layout::Stereo => 2,
            Layout::FivePointOne => 6,
            Layout::SevenPointOne => 8,
        }
    }

    /// Index of the LFE channel.
    pub fn lfe(self) -> Option<usize> {
        match self {
            Layout::Stereo => None,
            _ => Some(3),
        }
    }

    /// Azimuths in degrees (positive left) of the full-range speakers as (channel, angle),
    /// sorted by angle.
    pub fn speakers(self) -> Vec<(usize, f32)> {
        let mut s = match self {
            Layout::Stereo => vec![(0, 30.0), (1, -30.0)],
            Layout::FivePointOne => vec![(0, 30.0), (1, -30.0), (2, 0.0), (4, 110.0), (5, -110.0)],
            Layout::SevenPointOne => vec![
                (0, 30.0),
                (1, -30.0),
                (2, 0.0),
                (4, 150.0),
                (5, -150.0),
                (6, 90.0),
                (7, -90.0),
            ],
        };
        s.sort_by(|a: &(usize, f32), b| a.1.total_cmp(&b.1));
        s
    }
}

/// Mono source in stereo: gL = cos θ, gR = sin θ, θ = (pan + 1)·π/4, pan in −1..1.
pub fn pan_gains(pan: f32) -> (f32, f32) {
    let theta = (pan.clamp(-1.0, 1.0) + 1.0) * FRAC_PI_4;
    (theta.cos(), theta.sin())
}

/// Stereo source balance: the far side is attenuated linearly, the near side kept.
pub fn balance_gains(pan: f32) -> (f32, f32) {
    let p = pan.clamp(-1.0, 1.0);
    if p <= 0.0 {
        (1.0, 1.0 + p)
    } else {
        (1.0 - p, 1.0)
    }
}

/// Gains of a mono source at `azimuth` degrees (positive left) over `layout`: constant power
/// between the two adjacent full-range speakers (tangent-free sine law on the pair's arc);
/// the LFE gets nothing (it has its own send).
pub fn surround_pan_gains(azimuth: f32, layout: Layout, out: &mut [f32]) {
    out.iter_mut().for_each(|g| *g = 0.0);
    let speakers = layout.speakers();
    let az = wrap(azimuth);
    // Find the pair (a, b) with angle(a) <= az <= angle(b), wrapping behind the listener.
    let n = speakers.len();
    for i in 0..n {
        let (ca, aa) = speakers[i];
        let (cb, ab) = speakers[(i + 1) % n];
        let span = if i + 1 == n { ab + 360.0 - aa } else { ab - aa };
        let offset = if az >= aa { az - aa } else { az + 360.0 - aa };
        if offset <= span + 1e-4 {
            let t = (offset / span).clamp(0.0, 1.0) * std::f32::consts::FRAC_PI_2;
            out[ca] += t.cos();
            out[cb] += t.sin();
            return;
        }
    }
}

fn wrap(deg: f32) -> f32 {
    let mut d = deg % 360.0;
    if d > 180.0 {
        d -= 360.0;
    }
    if d <= -180.0 {
        d += 360.0;
    }
    d
}

/// ITU-R BS.775 stereo downmix of a 5.1/7.1 block: Lo = L + 0.707·C + 0.707·(left
/// surrounds), Ro likewise; the LFE is dropped. Stereo passes through.
pub fn downmix_to_stereo(layout: Layout, input: &[&[f32]], left: &mut [f32], right: &mut [f32]) {
    let k = FRAC_1_SQRT_2;
    let (ls, rs): (&[usize], &[usize]) = match layout {
        Layout::Stereo => (&[], &[]),
        Layout::FivePointOne => (&[4], &[5]),
        Layout::SevenPointOne => (&[4, 6], &[5, 7]),
    };
    for i in 0..left.len() {
        let c = if layout == Layout::Stereo {
            0.0
        } else {
            k * input[2][i]
        };
        left[i] = input[0][i] + c + ls.iter().map(|&s| k * input[s][i]).sum::<f32>();
        right[i] = input[1][i] + c + rs.iter().map(|&s| k * input[s][i]).sum::<f32>();
    }
}

/// The average of planar channels (non-finite samples count as silence): the mono signal
/// analyses such as hum detection and whole-file spectrograms look at.
pub fn mono_mix<P: AsRef<[f32]>>(planes: &[P]) -> Vec<f32> {
    let scale = 1.0 / planes.len().max(1) as f32;
    let len = planes.first().map_or(0, |p| p.as_ref().len());
    (0..len)
        .map(|i| {
            planes
                .iter()
                .map(|p| p.as_ref()[i])
                .filter(|v| v.is_finite())
                .sum::<f32>()
                * scale
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stereo_pan_law_is_constant_power() {
        assert_eq!(pan_gains(-1.0), (1.0, 0.0));
        let (l, r) = pan_gains(1.0);
        assert!(l.abs() < 1e-7 && (r - 1.0).abs() < 1e-7);
        for p in [-0.7f32, -0.2, 0.0, 0.4, 0.9] {
            let (l, r) = pan_gains(p);
            assert!((l * l + r * r - 1.0).abs() < 1e-6);
        }
        let (l, r) = pan_gains(0.0);
        assert!((l - FRAC_1_SQRT_2).abs() < 1e-7 && (r - FRAC_1_SQRT_2).abs() < 1e-7);
        assert_eq!(balance_gains(0.0), (1.0, 1.0));
        assert_eq!(balance_gains(-0.5), (1.0, 0.5));
    }

    #[test]
    fn surround_pan_hits_speakers_and_keeps_power() {
        let mut g = [0.0f32; 6];
        for (az, ch) in [(30.0, 0), (-30.0, 1), (0.0, 2), (110.0, 4), (-110.0, 5)] {
            surround_pan_gains(az, Layout::FivePointOne, &mut g);
            assert!((g[ch] - 1.0).abs() < 1e-5, "{az}: {g:?}");
            assert!((g.iter().map(|v| v * v).sum::<f32>() - 1.0).abs() < 1e-5);
        }
        for az in [15.0f32, 70.0, 180.0, -150.0, -60.0] {
            surround_pan_gains(az, Layout::FivePointOne, &mut g);
            assert!(
                (g.iter().map(|v| v * v).sum::<f32>() - 1.0).abs() < 1e-5,
                "{az}: {g:?}"
            );
            assert_eq!(g[3], 0.0, "no LFE from the panner");
        }
        let mut g8 = [0.0f32; 8];
        surround_pan_gains(90.0, Layout::SevenPointOne, &mut g8);
        assert!((g8[6] - 1.0).abs() < 1e-5);
    }

    #[test]
    fn itu_downmix() {
        let ones = [1.0f32; 4];
        let chans: Vec<&[f32]> = vec![&ones; 6];
        let (mut l, mut r) = ([0.0f32; 4], [0.0f32; 4]);
        downmix_to_stereo(Layout::FivePointOne, &chans, &mut l, &mut r);
        assert!((l[0] - (1.0 + 2.0 * FRAC_1_SQRT_2)).abs() < 1e-6);
        assert_eq!(l, r);
    }
}
