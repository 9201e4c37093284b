//! Automation lanes on the timeline. A track's fader envelope is drawn over its clips
//! (edited with Alt held, since the clips take plain clicks there); every other automated
//! parameter (pan, sends, insert parameters) has a lane of its own under the track. On a
//! lane: a click adds a point, a click on a point removes it, dragging a point moves it
//! (with the other selected points), dragging elsewhere selects the points in the band
//! (Delete removes them), and the glyph beside the lane's name (`/` or `_|`) switches it
//! between linear and step. Every change is an edit command (`automation STRIP PARAM ...`), so undoable.

use super::state::{LaneParam, SessionView};
use super::timeline::{Lanes, Scale, LABEL, SUB};
use iced::widget::canvas::{Frame, Path, Stroke, Text};
use iced::{Color, Point, Size};

/// The amber of an envelope that plays; grey when the track's automation is off.
pub const PLAYS: Color = Color::from_rgb(1.0, 0.72, 0.25);
pub const IDLE: Color = Color::from_rgb(0.55, 0.55, 0.55);
const SELECTED: Color = Color::WHITE;

/// One automation lane on the canvas: the track, which of its parameters (an index into
/// the strip's `lanes`), and the lane's top and height.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LaneAt {
    pub track: usize,
    pub lane: usize,
    pub top: f32,
    pub height: f32,
}

/// The parameters with a lane of their own under each track: every automated one but the
/// fader (index 0, drawn over the clips).
pub fn sub_lanes(session: &SessionView) -> Vec<Vec<usize>> {
    session
        .strips
        .iter()
        .map(|s| {
            (1..s.lanes.len())
                .filter(|&i| !s.lanes[i].points.is_empty())
                .collect()
        })
        .collect()
}

/// The automation lane under `p`: an automation lane under a track, or (with `alt`) the
/// fader envelope over a clip lane.
pub fn under(
    lanes: Lanes,
    subs: &[Vec<usize>],
    count: usize,
    p: Point,
    alt: bool,
) -> Option<LaneAt> {
    if let Some((track, j)) = lanes.sub_at(p.y, count) {
        return Some(LaneAt {
            track,
            lane: *subs.get(track)?.get(j)?,
            top: lanes.sub_top(track, j),
            height: SUB,
        });
    }
    let track = lanes.at(p.y, count).filter(|_| alt)?;
    Some(LaneAt {
        track,
        lane: 0,
        top: lanes.top(track),
        height: lanes.height(track),
    })
}

/// The y of value `v` in a lane spanning `range` (3 pixels in from its edges).
pub fn y_of(v: f64, (low, high): (f64, f64), at: LaneAt) -> f32 {
    let f = ((v - low) / (high - low).max(f64::EPSILON)).clamp(0.0, 1.0) as f32;
    at.top + at.height - 3.0 - f * (at.height - 6.0).max(1.0)
}

/// The value at `y` (the inverse of [`y_of`]).
pub fn value_of(y: f32, (low, high): (f64, f64), at: LaneAt) -> f64 {
    let f = f64::from((at.top + at.height - 3.0 - y) / (at.height - 6.0).max(1.0));
    low + f.clamp(0.0, 1.0) * (high - low)
}

/// The time of the point of `lane` within 5 pixels of `p`, if any.
pub fn point_at(lane: &LaneParam, scale: Scale, at: LaneAt, p: Point) -> Option<f64> {
    lane.points
        .iter()
        .find(|&&(t, v)| {
            (scale.x(t) - p.x).abs() <= 5.0 && (y_of(v, lane.range, at) - p.y).abs() <= 5.0
        })
        .map(|&(t, _)| t)
}

/// The times of the points of `lane` inside the band from `a` to `b`.
pub fn points_in(lane: &LaneParam, scale: Scale, at: LaneAt, a: Point, b: Point) -> Vec<f64> {
    let (x0, x1) = (a.x.min(b.x), a.x.max(b.x));
    let (y0, y1) = (a.y.min(b.y), a.y.max(b.y));
    lane.points
        .iter()
        .filter(|&&(t, v)| {
            let (x, y) = (scale.x(t), y_of(v, lane.range, at));
            (x0..=x1).contains(&x) && (y0 - 3.0..=y1 + 3.0).contains(&y)
        })
        .map(|&(t, _)| t)
        .collect()
}

/// The lane's points after the points at `moved` (times) are dragged by `dt` seconds and
/// `dv` in value: kept in range and after zero, rounded as a click would be; a moved point
/// that lands on an unmoved one's time replaces it.
pub fn dragged(lane: &LaneParam, moved: &[f64], dt: f64, dv: f64) -> Vec<(f64, f64)> {
    let is_moved = |t: f64| moved.iter().any(|m| (m - t).abs() < 1e-9);
    let mut shifted: Vec<(f64, f64)> = lane
        .points
        .iter()
        .filter(|p| is_moved(p.0))
        .map(|&(t, v)| {
            (
                crate::edit::document::tidy((t + dt).max(0.0)),
                lane.rounded(v + dv),
            )
        })
        .collect();
    let mut out: Vec<(f64, f64)> = lane
        .points
        .iter()
        .filter(|p| !is_moved(p.0))
        .filter(|p| !shifted.iter().any(|q| (q.0 - p.0).abs() < 1e-6))
        .copied()
        .collect();
    out.append(&mut shifted);
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out.dedup_by(|a, b| (a.0 - b.0).abs() < 1e-6);
    out
}

/// A short name for a lane's label: `pan`, `→hall`, `2 ratio`.
pub fn label(param: &str) -> String {
    if let Some(bus) = param.strip_prefix("send.") {
        return format!("→{bus}");
    }
    if let Some(rest) = param.strip_prefix("insert.") {
        return rest.replacen('.', " ", 1);
    }
    param.to_string()
}

/// True when `p` is on the shape glyph of the lane whose label row starts at `top`.
pub fn on_shape_glyph(p: Point, top: f32) -> bool {
    p.x >= LABEL - 18.0 && p.x < LABEL && p.y >= top && p.y < top + 16.0
}

/// Draws an automation lane under a track: its name and shape glyph, and the envelope.
pub fn draw_sub(
    frame: &mut Frame,
    scale: Scale,
    at: LaneAt,
    lane: &LaneParam,
    (width, colour): (f32, Color),
    selected: &[f64],
) {
    frame.fill_rectangle(
        Point::new(0.0, at.top),
        Size::new(width, at.height),
        Color::from_rgb(0.13, 0.14, 0.17),
    );
    frame.fill_text(Text {
        content: label(&lane.param),
        position: Point::new(10.0, at.top + 5.0),
        color: Color::from_rgb(0.7, 0.72, 0.76),
        size: 10.0.into(),
        ..Default::default()
    });
    shape_glyph(frame, at.top + 3.0, lane.step);
    envelope(frame, scale, at, lane, (width, colour), selected);
}

/// The glyph that switches a lane between linear (`/`) and step (`_|`).
pub fn shape_glyph(frame: &mut Frame, top: f32, step: bool) {
    frame.fill_text(Text {
        content: if step { "_|" } else { "/" }.into(),
        position: Point::new(LABEL - 14.0, top),
        color: Color::from_rgb(0.7, 0.72, 0.76),
        size: 11.0.into(),
        ..Default::default()
    });
}

/// A lane's envelope (held before its first point and after its last; stairs for a step
/// lane) and a handle at each point (white when selected).
pub fn envelope(
    frame: &mut Frame,
    scale: Scale,
    at: LaneAt,
    lane: &LaneParam,
    (width, colour): (f32, Color),
    selected: &[f64],
) {
    let points = &lane.points;
    let Some(&first) = points.first() else {
        return;
    };
    let y = |v: f64| y_of(v, lane.range, at);
    let path = Path::new(|b| {
        b.move_to(Point::new(LABEL, y(first.1)));
        let mut last_v = first.1;
        for &(t, v) in points {
            let x = scale.x(t).clamp(LABEL, width);
            if lane.step {
                b.line_to(Point::new(x, y(last_v)));
            }
            b.line_to(Point::new(x, y(v)));
            last_v = v;
        }
        b.line_to(Point::new(width, y(last_v)));
    });
    frame.stroke(&path, Stroke::default().with_color(colour).with_width(2.0));
    for &(t, v) in points {
        let (x, yy) = (scale.x(t), y(v));
        if x < LABEL || x > width {
            continue;
        }
        let chosen = selected.iter().any(|s| (s - t).abs() < 1e-9);
        let (size, c) = if chosen {
            (7.0, SELECTED)
        } else {
            (5.0, colour)
        };
        frame.fill_rectangle(
            Point::new(x - size / 2.0, yy - size / 2.0),
            Size::new(size, size),
            c,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lane() -> LaneParam {
        LaneParam {
            points: vec![(0.0, -10.0), (1.0, -20.0), (2.0, 0.0)],
            ..LaneParam::new("gain_db", (-60.0, 12.0)).limited((-200.0, 24.0))
        }
    }

    #[test]
    fn values_map_to_heights_and_back() {
        let at = LaneAt {
            track: 0,
            lane: 0,
            top: 100.0,
            height: 22.0,
        };
        for v in [-60.0, -12.0, 0.0, 12.0] {
            let back = value_of(y_of(v, (-60.0, 12.0), at), (-60.0, 12.0), at);
            assert!((back - v).abs() < 1e-4, "{v} → {back}");
        }
        assert_eq!(y_of(-100.0, (-60.0, 12.0), at), at.top + at.height - 3.0);
    }

    #[test]
    fn dragged_points_move_together_and_replace_what_they_land_on() {
        let l = lane();
        // The last two move 0.5 s earlier and 3 dB down.
        assert_eq!(
            dragged(&l, &[1.0, 2.0], -0.5, -3.0),
            vec![(0.0, -10.0), (0.5, -23.0), (1.5, -3.0)]
        );
        // One lands on another's time: it replaces it.
        assert_eq!(
            dragged(&l, &[2.0], -1.0, 0.0),
            vec![(0.0, -10.0), (1.0, 0.0)]
        );
        // Kept within the fader's limits (not the drawn range) and after zero.
        assert_eq!(
            dragged(&l, &[0.0], -3.0, 100.0),
            vec![(0.0, 24.0), (1.0, -20.0), (2.0, 0.0)]
        );
        assert_eq!(
            dragged(&l, &[1.0], 0.0, -100.0),
            vec![(0.0, -10.0), (1.0, -120.0), (2.0, 0.0)]
        );
        // A parameter whose step would round below its least value stays in its limits.
        let attack = LaneParam {
            points: vec![(0.0, 0.02)],
            ..LaneParam::new("insert.1.attack_ms", (0.01, 1000.0))
        };
        assert_eq!(dragged(&attack, &[0.0], 0.0, -0.01), vec![(0.0, 0.01)]);
    }

    #[test]
    fn labels_are_short() {
        assert_eq!(label("send.hall"), "→hall");
        assert_eq!(label("insert.2.ratio"), "2 ratio");
        assert_eq!(label("pan"), "pan");
    }
}
