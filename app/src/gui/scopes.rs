//! Canvases that only draw what the engine measured: level meters, the goniometer, the
//! per-octave correlation, the surround field and the frequency balance.

use super::meters::{Meters, FLOOR_DB};
use super::state::Message;
use super::style::{AMBER, DIM, GREEN, PANEL, RED};
use iced::widget::canvas::{self, Frame, Geometry, Path, Stroke, Text};
use iced::{mouse, Color, Point, Rectangle, Renderer, Size, Theme};

/// Vertical bars from FLOOR_DB to 0 dBFS.
pub(super) struct LevelMeter(pub Vec<f32>);

impl Scope for LevelMeter {
    fn key(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.0.iter().for_each(|v| v.to_bits().hash(&mut h));
        h.finish()
    }

    fn paint(&self, frame: &mut Frame, bounds: Rectangle) {
        let n = self.0.len().max(1) as f32;
        let w = bounds.width / n;
        for (k, db) in self.0.iter().enumerate() {
            let v = ((db - FLOOR_DB) / -FLOOR_DB).clamp(0.0, 1.0);
            let h = v * bounds.height;
            let colour = if *db > -1.0 {
                RED
            } else if *db > -12.0 {
                AMBER
            } else {
                GREEN
            };
            frame.fill_rectangle(
                Point::new(k as f32 * w + 1.0, bounds.height - h),
                Size::new((w - 2.0).max(1.0), h),
                colour,
            );
        }
    }
}

/// Gain reduction (dB, ≤ 0) as a bar down from the top, full height at −24 dB.
pub(super) struct ReductionMeter(pub f32);

impl Scope for ReductionMeter {
    fn key(&self) -> u64 {
        key_of(self.0.to_bits())
    }

    fn paint(&self, frame: &mut Frame, bounds: Rectangle) {
        let v = (-self.0 / 24.0).clamp(0.0, 1.0);
        frame.fill_rectangle(
            Point::new(1.0, 0.0),
            Size::new((bounds.width - 2.0).max(1.0), v * bounds.height),
            AMBER,
        );
    }
}

/// Mid/side scatter of the monitor with the correlation bar under it.
pub(super) struct Goniometer<'a>(pub &'a Meters);

impl Scope for Goniometer<'_> {
    fn key(&self) -> u64 {
        meters_key(self.0)
    }

    fn paint(&self, frame: &mut Frame, bounds: Rectangle) {
        let side = bounds.width.min(bounds.height - 20.0);
        let c = Point::new(bounds.width / 2.0, side / 2.0);
        let r = side / 2.0 - 4.0;
        let axis = Stroke::default().with_color(DIM);
        frame.stroke(
            &Path::line(Point::new(c.x - r, c.y), Point::new(c.x + r, c.y)),
            axis,
        );
        frame.stroke(
            &Path::line(Point::new(c.x, c.y - r), Point::new(c.x, c.y + r)),
            axis,
        );
        if let Some(f) = &self.0.latest {
            // Scale so the loudest point reaches the edge (an auto-gain display).
            let peak = f
                .goniometer
                .iter()
                .fold(1e-6f32, |m, (s, m2)| m.max(s.abs()).max(m2.abs()));
            for (s, m) in &f.goniometer {
                frame.fill_rectangle(
                    Point::new(c.x + s / peak * r, c.y - m / peak * r),
                    Size::new(2.0, 2.0),
                    GREEN,
                );
            }
            if let Some(corr) = f.correlation {
                let y = side + 6.0;
                frame.fill_rectangle(
                    Point::new(4.0, y),
                    Size::new(bounds.width - 8.0, 10.0),
                    PANEL,
                );
                let x = 4.0 + (corr as f32 + 1.0) / 2.0 * (bounds.width - 8.0);
                let mid = bounds.width / 2.0;
                let colour = if corr < 0.0 { RED } else { GREEN };
                frame.fill_rectangle(
                    Point::new(mid.min(x), y),
                    Size::new((x - mid).abs().max(2.0), 10.0),
                    colour,
                );
            }
        }
    }
}

/// One bar per octave, −1 (red, down) .. +1 (green, up).
pub(super) struct BandCorrelation<'a>(pub &'a Meters);

impl Scope for BandCorrelation<'_> {
    fn key(&self) -> u64 {
        meters_key(self.0)
    }

    fn paint(&self, frame: &mut Frame, bounds: Rectangle) {
        let mid = (bounds.height - 12.0) / 2.0;
        frame.stroke(
            &Path::line(Point::new(0.0, mid), Point::new(bounds.width, mid)),
            Stroke::default().with_color(DIM),
        );
        let bands = &self.0.band_correlation;
        let w = bounds.width / bands.len().max(1) as f32;
        for (k, (hz, c)) in bands.iter().enumerate() {
            let x = k as f32 * w;
            if let Some(c) = c {
                let h = c * mid;
                let colour = if *c < 0.0 { RED } else { GREEN };
                frame.fill_rectangle(
                    Point::new(x + 2.0, mid - h.max(0.0)),
                    Size::new(w - 4.0, h.abs().max(1.0)),
                    colour,
                );
            }
            frame.fill_text(Text {
                content: if *hz >= 1000.0 {
                    format!("{:.0}k", hz / 1000.0)
                } else {
                    format!("{hz:.0}")
                },
                position: Point::new(x + 2.0, bounds.height - 11.0),
                color: DIM,
                size: 9.0.into(),
                ..Default::default()
            });
        }
    }
}

/// Speakers around the listener with their levels, and the energy-vector image position.
pub(super) struct SurroundField<'a>(pub &'a Meters);

impl Scope for SurroundField<'_> {
    fn key(&self) -> u64 {
        meters_key(self.0)
    }

    fn paint(&self, frame: &mut Frame, bounds: Rectangle) {
        let c = Point::new(bounds.width / 2.0, bounds.height / 2.0);
        let r = bounds.height / 2.0 - 8.0;
        frame.stroke(&Path::circle(c, r), Stroke::default().with_color(DIM));
        let Some((levels, direction, magnitude)) =
            self.0.latest.as_ref().and_then(|f| f.surround.clone())
        else {
            frame.fill_text(Text {
                content: "stereo session".into(),
                position: Point::new(c.x - 36.0, c.y - 6.0),
                color: DIM,
                size: 11.0.into(),
                ..Default::default()
            });
            return;
        };
        let azimuths =
            gpu_dsp::analysis::surround::speaker_azimuths(levels.len()).unwrap_or_default();
        for (az, db) in azimuths.iter().zip(&levels) {
            let Some(az) = az else { continue };
            let a = (az.to_radians()) as f32;
            let p = Point::new(c.x - r * a.sin(), c.y - r * a.cos());
            let v = ((db - FLOOR_DB) / -FLOOR_DB).clamp(0.0, 1.0);
            frame.fill(
                &Path::circle(p, 3.0 + 6.0 * v),
                if *db > -12.0 { AMBER } else { GREEN },
            );
        }
        let a = direction.to_radians() as f32;
        let m = magnitude as f32 * r;
        frame.stroke(
            &Path::line(c, Point::new(c.x - m * a.sin(), c.y - m * a.cos())),
            Stroke::default().with_color(RED).with_width(3.0),
        );
    }
}

pub(super) const STEM_COLOURS: [Color; 6] = [
    Color::from_rgb(0.55, 0.80, 1.00),
    Color::from_rgb(0.80, 0.55, 1.00),
    Color::from_rgb(1.00, 0.65, 0.30),
    Color::from_rgb(0.40, 0.90, 0.60),
    Color::from_rgb(0.95, 0.90, 0.40),
    Color::from_rgb(0.90, 0.50, 0.60),
];

/// Overlaid long-term third-octave spectra of the stems, masked bands shaded.
pub(super) struct FrequencyBalance<'a>(pub &'a Meters);

impl Scope for FrequencyBalance<'_> {
    fn key(&self) -> u64 {
        meters_key(self.0)
    }

    fn paint(&self, frame: &mut Frame, bounds: Rectangle) {
        let Some(b) = &self.0.balance else {
            frame.fill_text(Text {
                content: "plays to measure".into(),
                position: Point::new(8.0, 8.0),
                color: DIM,
                size: 11.0.into(),
                ..Default::default()
            });
            return;
        };
        let (left, bottom) = (34.0, bounds.height - 14.0);
        let width = bounds.width - left - 90.0;
        let (lo, hi) = (20f32.ln(), 20_000f32.ln());
        let x = |hz: f32| left + (hz.max(20.0).ln() - lo) / (hi - lo) * width;
        let y = |db: f32| ((db.clamp(-90.0, 0.0) / -90.0) * bottom).min(bottom);
        // Masked bands.
        for (k, (c, cov)) in b.centres_hz.iter().zip(&b.covered).enumerate() {
            let Some(cov) = cov else { continue };
            if *cov > 0.05 {
                let w = (x(c * 1.12) - x(c / 1.12)).max(1.0);
                let alpha = (0.15 + 0.6 * cov).min(0.75);
                frame.fill_rectangle(
                    Point::new(x(c / 1.12), 0.0),
                    Size::new(w, bottom),
                    Color { a: alpha, ..RED },
                );
            }
            let _ = k;
        }
        for db in [-80.0f32, -60.0, -40.0, -20.0] {
            frame.stroke(
                &Path::line(Point::new(left, y(db)), Point::new(left + width, y(db))),
                Stroke::default().with_color(Color { a: 0.3, ..DIM }),
            );
            frame.fill_text(Text {
                content: format!("{db:.0}"),
                position: Point::new(2.0, y(db) - 6.0),
                color: DIM,
                size: 9.0.into(),
                ..Default::default()
            });
        }
        for hz in [
            50.0f32, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10_000.0,
        ] {
            let label = if hz >= 1000.0 {
                format!("{:.0}k", hz / 1000.0)
            } else {
                format!("{hz:.0}")
            };
            frame.fill_text(Text {
                content: label,
                position: Point::new(x(hz) - 6.0, bottom + 2.0),
                color: DIM,
                size: 9.0.into(),
                ..Default::default()
            });
        }
        for (k, (name, levels)) in b.stems.iter().enumerate() {
            let colour = STEM_COLOURS[k % STEM_COLOURS.len()];
            let points: Vec<Point> = b
                .centres_hz
                .iter()
                .zip(levels)
                .filter_map(|(c, l)| l.map(|l| Point::new(x(*c), y(l))))
                .collect();
            let path = Path::new(|p| {
                for (i, pt) in points.iter().enumerate() {
                    if i == 0 {
                        p.move_to(*pt)
                    } else {
                        p.line_to(*pt)
                    }
                }
            });
            let width = if Some(k) == b.dialogue { 2.5 } else { 1.5 };
            frame.stroke(
                &path,
                Stroke::default().with_color(colour).with_width(width),
            );
            frame.fill_text(Text {
                content: name.clone(),
                position: Point::new(left + width_of(bounds) - 80.0, 8.0 + 14.0 * k as f32),
                color: colour,
                size: 11.0.into(),
                ..Default::default()
            });
        }
    }
}

/// The tracks that cover the dialogue most, one row each, coloured per third-octave band by
/// the share of the dialogue's active time they cover; named with their overall share.
pub(super) struct MaskingView<'a>(pub &'a Meters);

impl Scope for MaskingView<'_> {
    fn key(&self) -> u64 {
        meters_key(self.0)
    }

    fn paint(&self, frame: &mut Frame, bounds: Rectangle) {
        let text = |frame: &mut Frame, content: String, at: Point, color: Color| {
            frame.fill_text(Text {
                content,
                position: at,
                color,
                size: 10.0.into(),
                ..Default::default()
            });
        };
        let Some(b) = self.0.balance.as_ref().filter(|b| !b.maskers.is_empty()) else {
            let why = match &self.0.balance {
                Some(b) if b.dialogue.is_none() => "no dialogue stem (DX) to measure against",
                _ => "plays to find what covers the dialogue",
            };
            text(frame, why.into(), Point::new(8.0, 8.0), DIM);
            return;
        };
        let left = 130.0;
        let top = 16.0;
        let bands = b.centres_hz.len().max(1);
        let cell_w = ((bounds.width - left - 4.0) / bands as f32).max(1.0);
        let cell_h = ((bounds.height - top - 16.0) / b.maskers.len() as f32).min(24.0);
        text(
            frame,
            "covers the dialogue (share of its active time, per band)".into(),
            Point::new(4.0, 0.0),
            DIM,
        );
        for (row, m) in b.maskers.iter().enumerate() {
            let y = top + row as f32 * cell_h;
            let name: String = m.name.chars().take(14).collect();
            let colour = if m.covered > 0.25 { RED } else { Color::WHITE };
            text(
                frame,
                format!("{name} {:.0} %", 100.0 * m.covered),
                Point::new(4.0, y + cell_h / 2.0 - 6.0),
                colour,
            );
            for (col, cov) in m.bands.iter().enumerate() {
                let fill = match cov {
                    Some(f) => Color::from_rgb(0.15 + 0.85 * f, 0.12 + 0.55 * f * f, 0.18),
                    None => Color::from_rgb(0.12, 0.12, 0.14),
                };
                frame.fill_rectangle(
                    Point::new(left + col as f32 * cell_w, y),
                    Size::new((cell_w - 1.0).max(1.0), (cell_h - 1.0).max(1.0)),
                    fill,
                );
            }
        }
        let bottom = top + b.maskers.len() as f32 * cell_h + 2.0;
        for (col, hz) in b.centres_hz.iter().enumerate().step_by(6) {
            let label = if *hz >= 1000.0 {
                format!("{:.0}k", hz / 1000.0)
            } else {
                format!("{hz:.0}")
            };
            text(
                frame,
                label,
                Point::new(left + col as f32 * cell_w, bottom),
                DIM,
            );
        }
    }
}

pub(super) fn width_of(bounds: Rectangle) -> f32 {
    bounds.width - 34.0
}

/// A canvas that only draws what it reads, on a black backdrop.
pub(super) trait Scope {
    fn paint(&self, frame: &mut Frame, bounds: Rectangle);
    /// Changes whenever what `paint` draws changes: the drawing is kept until then, so a
    /// still scope costs nothing to redraw.
    fn key(&self) -> u64;
}

/// A hash of anything hashable, for [`Scope::key`].
pub(super) fn key_of(value: impl std::hash::Hash) -> u64 {
    use std::hash::Hasher;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

/// The key of a scope that draws the meters: they change with every frame absorbed, and
/// when playback stops.
fn meters_key(m: &Meters) -> u64 {
    key_of((
        m.frames,
        m.latest.is_some(),
        m.peak_db.map(f32::to_bits),
        m.balance.is_some(),
        m.band_correlation.len(),
    ))
}

/// A [`Scope`] as a canvas program, its drawing cached by the scope's key and the size.
pub(super) struct Drawn<T>(pub T);

/// A [`Drawn`] canvas's kept drawing and what it was drawn from.
#[derive(Default)]
pub(super) struct DrawnCache {
    cache: canvas::Cache,
    key: std::cell::Cell<Option<u64>>,
}

impl<T: Scope> canvas::Program<Message> for Drawn<T> {
    type State = DrawnCache;
    fn draw(
        &self,
        state: &DrawnCache,
        renderer: &Renderer,
        _: &Theme,
        bounds: Rectangle,
        _: mouse::Cursor,
    ) -> Vec<Geometry> {
        let key = key_of((
            self.0.key(),
            bounds.width.to_bits(),
            bounds.height.to_bits(),
        ));
        if state.key.get() != Some(key) {
            state.cache.clear();
            state.key.set(Some(key));
        }
        vec![state.cache.draw(renderer, bounds.size(), |frame| {
            frame.fill_rectangle(Point::ORIGIN, bounds.size(), Color::BLACK);
            self.0.paint(frame, bounds);
        })]
    }
}
