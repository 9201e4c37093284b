//! The EQ curve of the insert editor: the magnitude response of an EQ's bands as they are
//! set now, on a log-frequency axis.

use super::params::Param;
use super::scopes::Scope;
use super::style::DIM;
use gpu_dsp::mix::{Biquad, EqBand, FilterKind};
use iced::widget::canvas::{Frame, Path, Stroke, Text};
use iced::{Color, Point, Rectangle};

/// The bands of an EQ insert from its kinds and its editor's parameters
/// (`band{k}_freq`, `band{k}_gain_db`, `band{k}_q`).
pub fn eq_bands(kinds: &[FilterKind], params: &[Param]) -> Vec<EqBand> {
    let value = |k: usize, field: &str, default: f32| {
        params
            .iter()
            .find(|p| p.name == format!("band{k}_{field}"))
            .map_or(default, |p| p.value)
    };
    kinds
        .iter()
        .enumerate()
        .map(|(k, &kind)| EqBand {
            kind,
            freq: value(k, "freq", 1000.0),
            gain_db: value(k, "gain_db", 0.0),
            q: value(k, "q", 0.707),
        })
        .collect()
}

/// The EQ's gain at `freq` Hz: the sum of its bands' responses in dB.
pub fn curve_db(bands: &[EqBand], rate: u32, freq: f64) -> f64 {
    bands
        .iter()
        .map(|b| Biquad::design(b, rate as f32, 1).response_db(freq, f64::from(rate)))
        .sum()
}

/// The curve from 20 Hz to 20 kHz (or Nyquist), ±24 dB.
pub struct EqCurve {
    pub bands: Vec<EqBand>,
    pub rate: u32,
}

impl Scope for EqCurve {
    fn key(&self) -> u64 {
        let bands: Vec<_> = self
            .bands
            .iter()
            .map(|b| {
                (
                    b.kind as u8,
                    b.freq.to_bits(),
                    b.gain_db.to_bits(),
                    b.q.to_bits(),
                )
            })
            .collect();
        super::scopes::key_of((bands, self.rate))
    }

    fn paint(&self, frame: &mut Frame, bounds: Rectangle) {
        let (w, h) = (bounds.width, bounds.height);
        let (lo, hi) = (20f64.ln(), (f64::from(self.rate) * 0.45).min(20_000.0).ln());
        let y = |db: f64| h / 2.0 - (db.clamp(-24.0, 24.0) / 24.0) as f32 * (h / 2.0 - 4.0);
        for db in [-12.0, 0.0, 12.0] {
            frame.stroke(
                &Path::line(Point::new(0.0, y(db)), Point::new(w, y(db))),
                Stroke::default().with_color(Color::from_rgb(0.2, 0.21, 0.24)),
            );
        }
        for hz in [100.0f64, 1000.0, 10_000.0] {
            let x = ((hz.ln() - lo) / (hi - lo)) as f32 * w;
            frame.fill_text(Text {
                content: if hz >= 1000.0 {
                    format!("{}k", hz / 1000.0)
                } else {
                    format!("{hz}")
                },
                position: Point::new(x + 2.0, h - 12.0),
                color: DIM,
                size: 10.0.into(),
                ..Default::default()
            });
        }
        let curve = Path::new(|p| {
            for px in 0..=w as usize {
                let f = (lo + (hi - lo) * px as f64 / f64::from(w)).exp();
                let pt = Point::new(px as f32, y(curve_db(&self.bands, self.rate, f)));
                if px == 0 {
                    p.move_to(pt);
                } else {
                    p.line_to(pt);
                }
            }
        });
        frame.stroke(
            &curve,
            Stroke::default()
                .with_color(Color::from_rgb(0.45, 0.75, 1.0))
                .with_width(2.0),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(name: &str, value: f32) -> Param {
        Param {
            name: name.into(),
            id: gpu_dsp::mix::ParamId::resolve_band(name).unwrap_or_default(),
            value,
            min: -100.0,
            max: 30_000.0,
            default: 0.0,
            skew: Default::default(),
        }
    }

    #[test]
    fn the_curve_follows_the_bands_as_set() {
        let params = [
            param("band0_freq", 3000.0),
            param("band0_gain_db", 6.0),
            param("band0_q", 1.0),
            param("band1_freq", 8000.0),
            param("band1_gain_db", -4.0),
            param("band1_q", 0.707),
        ];
        let bands = eq_bands(&[FilterKind::Bell, FilterKind::HighShelf], &params);
        assert_eq!(bands[0].freq, 3000.0);
        assert_eq!(bands[1].gain_db, -4.0);
        // A bell peaks at its gain at its centre; a shelf reaches its gain far above it;
        // far below both the curve is flat (the RBJ definitions).
        let bell_only = &bands[..1];
        assert!((curve_db(bell_only, 48_000, 3000.0) - 6.0).abs() < 0.01);
        assert!(curve_db(&bands, 48_000, 50.0).abs() < 0.05);
        assert!((curve_db(&bands[1..], 48_000, 20_000.0) + 4.0).abs() < 0.3);
    }
}
