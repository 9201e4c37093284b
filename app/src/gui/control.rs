//! Precise value controls: faders and sliders that never jump to the click. A press grabs
//! the control where it is and a drag moves it relatively (Shift: ten times finer); a
//! double-click returns it to its default; the wheel steps it. Faders follow a console law
//! (a quarter of the travel for the top 12 dB), frequencies a logarithmic one.

use super::state::Message;
use iced::widget::canvas::{self, Frame, Geometry, Path, Stroke};
use iced::{keyboard, mouse, Color, Point, Rectangle, Renderer, Size, Theme};
use std::time::{Duration, Instant};

/// How a value maps onto the control's travel.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Taper {
    Linear,
    /// A console fader's dB law.
    Fader,
    /// Logarithmic (frequencies).
    Log,
}

/// The fader law: (dB, travel) points, travel 0..1.
const FADER_LAW: [(f32, f32); 7] = [
    (-90.0, 0.0),
    (-60.0, 0.08),
    (-40.0, 0.2),
    (-20.0, 0.4),
    (-10.0, 0.55),
    (0.0, 0.75),
    (12.0, 1.0),
];

impl Taper {
    /// Travel (0..1) of `value` in `min..=max`.
    pub fn travel(self, value: f32, min: f32, max: f32) -> f32 {
        let v = value.clamp(min, max);
        match self {
            Taper::Linear => (v - min) / (max - min).max(f32::EPSILON),
            Taper::Log => {
                let (lo, hi) = (min.max(1e-3).ln(), max.max(1e-3).ln());
                (v.max(1e-3).ln() - lo) / (hi - lo).max(f32::EPSILON)
            }
            Taper::Fader => {
                let law = |db: f32| {
                    let k = FADER_LAW
                        .windows(2)
                        .position(|w| db <= w[1].0)
                        .unwrap_or(FADER_LAW.len() - 2);
                    let ((d0, t0), (d1, t1)) = (FADER_LAW[k], FADER_LAW[k + 1]);
                    t0 + (db.clamp(d0, d1) - d0) / (d1 - d0) * (t1 - t0)
                };
                let (a, b) = (law(min), law(max));
                (law(v) - a) / (b - a).max(f32::EPSILON)
            }
        }
    }

    /// The value at travel `t` (0..1).
    pub fn value(self, t: f32, min: f32, max: f32) -> f32 {
        let t = t.clamp(0.0, 1.0);
        match self {
            Taper::Linear => min + t * (max - min),
            Taper::Log => {
                let (lo, hi) = (min.max(1e-3).ln(), max.max(1e-3).ln());
                (lo + t * (hi - lo)).exp()
            }
            Taper::Fader => {
                // Invert by bisection: the law is monotonic.
                let (mut lo, mut hi) = (min, max);
                for _ in 0..40 {
                    let mid = 0.5 * (lo + hi);
                    if self.travel(mid, min, max) < t {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                0.5 * (lo + hi)
            }
        }
    }
}

/// A fader (vertical) or slider (horizontal).
pub struct Control<'a> {
    pub value: f32,
    pub min: f32,
    pub max: f32,
    pub default: f32,
    pub taper: Taper,
    pub vertical: bool,
    pub on_change: Box<dyn Fn(f32) -> Message + 'a>,
    /// A hand takes the control (at its value) and lets it go: what automation writing
    /// in `touch` needs.
    pub on_grab: Option<Box<dyn Fn(f32) -> Message + 'a>>,
    pub on_release: Option<Message>,
}

/// A grab in progress, the last press (for double-clicks) and the fine modifier.
#[derive(Default)]
pub struct ControlState {
    grab: Option<(Point, f32)>,
    last_press: Option<Instant>,
    fine: bool,
    /// The drawing, kept until the value or the size changes.
    cache: canvas::Cache,
    drawn: std::cell::Cell<Option<u64>>,
}

/// Travel per pixel of drag: the whole travel over the control's length, a tenth when fine.
pub fn drag_travel(pixels: f32, length: f32, fine: bool) -> f32 {
    pixels / length.max(1.0) * if fine { 0.1 } else { 1.0 }
}

impl Control<'_> {
    fn emit(&self, travel: f32) -> Option<canvas::Action<Message>> {
        let v = self.taper.value(travel, self.min, self.max);
        Some(canvas::Action::publish((self.on_change)(v)).and_capture())
    }
}

impl canvas::Program<Message> for Control<'_> {
    type State = ControlState;

    fn update(
        &self,
        state: &mut ControlState,
        event: &canvas::Event,
        bounds: Rectangle,
        cursor: mouse::Cursor,
    ) -> Option<canvas::Action<Message>> {
        let length = if self.vertical {
            bounds.height
        } else {
            bounds.width
        };
        match event {
            canvas::Event::Keyboard(keyboard::Event::ModifiersChanged(m)) => {
                state.fine = m.shift();
                None
            }
            canvas::Event::Mouse(mouse::Event::ButtonPressed(mouse::Button::Left)) => {
                let p = cursor.position_in(bounds)?;
                let now = Instant::now();
                let double = state
                    .last_press
                    .is_some_and(|t| now.duration_since(t) < Duration::from_millis(350));
                state.last_press = Some(now);
                if double {
                    state.grab = None;
                    return self.emit(self.taper.travel(self.default, self.min, self.max));
                }
                state.grab = Some((p, self.taper.travel(self.value, self.min, self.max)));
                Some(match &self.on_grab {
                    Some(grab) => canvas::Action::publish(grab(self.value)).and_capture(),
                    None => canvas::Action::capture(),
                })
            }
            canvas::Event::Mouse(mouse::Event::CursorMoved { position }) => {
                let (from, start) = state.grab?;
                let here = Point::new(position.x - bounds.x, position.y - bounds.y);
                let pixels = if self.vertical {
                    from.y - here.y
                } else {
                    here.x - from.x
                };
                self.emit(start + drag_travel(pixels, length, state.fine))
            }
            canvas::Event::Mouse(mouse::Event::ButtonReleased(mouse::Button::Left)) => {
                state.grab.take()?;
                Some(match &self.on_release {
                    Some(m) => canvas::Action::publish(m.clone()).and_capture(),
                    None => canvas::Action::capture(),
                })
            }
            canvas::Event::Mouse(mouse::Event::WheelScrolled { delta }) => {
                cursor.position_in(bounds)?;
                let lines = match delta {
                    mouse::ScrollDelta::Lines { y, .. } => *y,
                    mouse::ScrollDelta::Pixels { y, .. } => *y / 20.0,
                };
                let t = self.taper.travel(self.value, self.min, self.max);
                self.emit(t + 0.01 * lines * if state.fine { 0.1 } else { 1.0 })
            }
            _ => None,
        }
    }

    fn mouse_interaction(
        &self,
        state: &ControlState,
        bounds: Rectangle,
        cursor: mouse::Cursor,
    ) -> mouse::Interaction {
        if state.grab.is_some() {
            mouse::Interaction::Grabbing
        } else if cursor.is_over(bounds) {
            mouse::Interaction::Grab
        } else {
            mouse::Interaction::default()
        }
    }

    fn draw(
        &self,
        state: &ControlState,
        renderer: &Renderer,
        _: &Theme,
        bounds: Rectangle,
        _: mouse::Cursor,
    ) -> Vec<Geometry> {
        let key = super::scopes::key_of((
            self.value.to_bits(),
            self.min.to_bits(),
            self.max.to_bits(),
            bounds.width.to_bits(),
            bounds.height.to_bits(),
        ));
        if state.drawn.get() != Some(key) {
            state.cache.clear();
            state.drawn.set(Some(key));
        }
        vec![state
            .cache
            .draw(renderer, bounds.size(), |frame| self.paint(frame, bounds))]
    }
}

impl Control<'_> {
    /// The groove, the 0 dB line of a fader, and the thumb.
    fn paint(&self, frame: &mut Frame, bounds: Rectangle) {
        let t = self.taper.travel(self.value, self.min, self.max);
        let groove = Color::from_rgb(0.25, 0.26, 0.30);
        let thumb = Color::from_rgb(0.40, 0.45, 0.95);
        let (w, h) = (bounds.width, bounds.height);
        if self.vertical {
            frame.fill_rectangle(Point::new(w / 2.0 - 2.0, 0.0), Size::new(4.0, h), groove);
            if self.taper == Taper::Fader {
                let y0 = (1.0 - self.taper.travel(0.0, self.min, self.max)) * (h - 10.0) + 5.0;
                frame.stroke(
                    &Path::line(Point::new(0.0, y0), Point::new(w, y0)),
                    Stroke::default().with_color(Color::from_rgb(0.5, 0.5, 0.55)),
                );
            }
            let y = (1.0 - t) * (h - 10.0);
            frame.fill_rectangle(Point::new(1.0, y), Size::new(w - 2.0, 10.0), thumb);
        } else {
            frame.fill_rectangle(Point::new(0.0, h / 2.0 - 2.0), Size::new(w, 4.0), groove);
            let x = t * (w - 10.0);
            frame.fill_rectangle(Point::new(x, 1.0), Size::new(10.0, h - 2.0), thumb);
        }
    }
}

/// A parameter's name as a person reads it: `band0_gain_db` → `band 1 gain (dB)`.
pub fn label(name: &str) -> String {
    let (prefix, rest) = match name.strip_prefix("band").and_then(|r| r.split_once('_')) {
        Some((k, rest)) => (
            k.parse::<usize>()
                .map_or(String::new(), |k| format!("band {} ", k + 1)),
            rest,
        ),
        None => (String::new(), name),
    };
    let (base, unit) = if let Some(b) = rest.strip_suffix("_db") {
        (b, " (dB)")
    } else if let Some(b) = rest.strip_suffix("_ms") {
        (b, " (ms)")
    } else if rest == "freq" {
        ("frequency", " (Hz)")
    } else {
        (rest, "")
    };
    format!("{prefix}{}{unit}", base.replace('_', " "))
}

impl From<gpu_dsp::mix::params::Skew> for Taper {
    /// A parameter's slider: the skew its processor's table declares.
    fn from(skew: gpu_dsp::mix::params::Skew) -> Self {
        match skew {
            gpu_dsp::mix::params::Skew::Linear => Taper::Linear,
            gpu_dsp::mix::params::Skew::Log => Taper::Log,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tapers_round_trip_and_a_fader_is_fine_near_unity() {
        for taper in [Taper::Linear, Taper::Fader] {
            for v in [-90.0, -45.0, -10.0, -0.5, 0.0, 6.0, 12.0] {
                let t = taper.travel(v, -90.0, 12.0);
                assert!(
                    (taper.value(t, -90.0, 12.0) - v).abs() < 1e-3,
                    "{taper:?} {v}"
                );
            }
        }
        let f = |v| Taper::Log.travel(v, 20.0, 20_000.0);
        assert!(
            (f(632.456) - 0.5).abs() < 1e-4,
            "the middle of 20 Hz–20 kHz is 632 Hz"
        );
        assert!((Taper::Log.value(0.5, 20.0, 20_000.0) - 632.456).abs() < 0.01);
        // A 220-pixel fader: near 0 dB one pixel is about 0.25 dB, and 0.025 dB fine
        // (a linear −90…+12 dB fader of 170 pixels moved 0.6 dB per pixel).
        let per_pixel = |fine| {
            let t0 = Taper::Fader.travel(0.0, -90.0, 12.0);
            Taper::Fader.value(t0 + drag_travel(1.0, 220.0, fine), -90.0, 12.0)
        };
        assert!(per_pixel(false) < 0.3, "{}", per_pixel(false));
        assert!(per_pixel(true) < 0.03, "{}", per_pixel(true));
        assert_eq!(label("band0_gain_db"), "band 1 gain (dB)");
        assert_eq!(label("attack_ms"), "attack (ms)");
        assert_eq!(label("band2_freq"), "band 3 frequency (Hz)");
    }
}
