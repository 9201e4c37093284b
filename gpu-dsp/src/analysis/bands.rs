//! Fractional-octave bands (IEC 61260 base-10 centres) over FFT bins.

/// One band: nominal centre and edges in Hz.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Band {
    /// Exact centre, 1000·10^(k/10).
    pub centre_hz: f64,
    /// The nominal (labelled) centre of IEC 61260: 31.5, 125, 1.25k, …
    pub nominal_hz: f64,
    pub low_hz: f64,
    pub high_hz: f64,
}

/// Third-octave bands from 20 Hz to 20 kHz (centres 1000·10^(k/10)) that fit below Nyquist.
pub fn third_octaves(sample_rate: u32) -> Vec<Band> {
    fractional(sample_rate, 10.0, -17..=13)
}

/// Octave bands from 31.5 Hz to 16 kHz (centres 1000·10^(3k/10)) below Nyquist.
pub fn octaves(sample_rate: u32) -> Vec<Band> {
    fractional(sample_rate, 10.0 / 3.0, -5..=4)
}

fn fractional(
    sample_rate: u32,
    per_decade: f64,
    range: std::ops::RangeInclusive<i32>,
) -> Vec<Band> {
    let nyquist = f64::from(sample_rate) / 2.0;
    let half = 10f64.powf(0.5 / per_decade);
    range
        .map(|k| {
            let centre_hz = 1000.0 * 10f64.powf(f64::from(k) / per_decade);
            Band {
                centre_hz,
                nominal_hz: nominal(centre_hz),
                low_hz: centre_hz / half,
                high_hz: centre_hz * half,
            }
        })
        .filter(|b| b.high_hz <= nyquist)
        .collect()
}

/// Bin index range `[first, last)` whose centres fall inside `band` for an `n`-point FFT.
pub fn bin_range(band: &Band, n: usize, sample_rate: u32) -> std::ops::Range<usize> {
    let hz = f64::from(sample_rate) / n as f64;
    let first = (band.low_hz / hz).ceil() as usize;
    let last = ((band.high_hz / hz).ceil() as usize).min(n / 2 + 1);
    first.min(last)..last
}

/// The IEC 61260 nominal frequency for an exact base-10 centre.
pub fn nominal(centre_hz: f64) -> f64 {
    const MANTISSAS: [f64; 10] = [1.0, 1.25, 1.6, 2.0, 2.5, 3.15, 4.0, 5.0, 6.3, 8.0];
    let decade = centre_hz.log10().floor();
    let m = centre_hz / 10f64.powf(decade);
    let best = MANTISSAS
        .iter()
        .chain(std::iter::once(&10.0))
        .min_by(|a, b| (m / **a).ln().abs().total_cmp(&(m / **b).ln().abs()))
        .copied()
        .unwrap_or(1.0);
    best * 10f64.powf(decade)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nominal_third_octave_centres() {
        let labels: Vec<f64> = third_octaves(48_000).iter().map(|b| b.nominal_hz).collect();
        assert_eq!(labels.len(), 31);
        for (got, want) in labels.iter().zip([
            20.0, 25.0, 31.5, 40.0, 50.0, 63.0, 80.0, 100.0, 125.0, 160.0,
        ]) {
            assert!((got - want).abs() < 1e-9, "{got} vs {want}");
        }
        assert!((labels[30] - 20_000.0).abs() < 1e-6);
        let oct: Vec<f64> = octaves(48_000).iter().map(|b| b.nominal_hz).collect();
        assert_eq!(oct.len(), 10);
        assert!((oct[0] - 31.5).abs() < 1e-9 && (oct[9] - 16_000.0).abs() < 1e-6);
    }
}
