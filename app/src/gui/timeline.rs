//! The timeline: one lane per track with its clips (name, fades, gain), the ruler, markers
//! and the playhead. A click selects a clip or locates; dragging a clip moves it (to another
//! lane too), dragging its edges trims it, dragging its top corners sets its fades. Edges
//! snap to other clips, markers and the playhead within 8 pixels (Shift turns snapping
//! off). What a drag means is worked out here ([`Gesture`]); the root turns it into an edit
//! command.

use super::arrange::TimelineMessage;
use super::auto_lanes::{self, LaneAt};
use super::state::{ClipView, Message, SessionView};
use iced::widget::canvas::{self, Frame, Geometry, Path, Stroke, Text};
use iced::{keyboard, mouse, Color, Point, Rectangle, Renderer, Size, Theme};

/// Pixels left of the time axis (track names).
pub const LABEL: f32 = 90.0;
/// The ruler's height.
pub const RULER: f32 = 22.0;
/// One track's lane.
pub const LANE: f32 = 30.0;
/// Snapping distance.
const SNAP_PX: f32 = 8.0;
/// How close to an edge a press grabs it.
const EDGE_PX: f32 = 6.0;
/// The height of the fade handles at a clip's top corners.
const HANDLE_PX: f32 = 8.0;

const CLIP: Color = Color::from_rgb(0.25, 0.45, 0.75);
const CLIP_SELECTED: Color = Color::from_rgb(0.40, 0.62, 0.95);
const DIM: Color = Color::from_rgb(0.45, 0.47, 0.52);
const RED: Color = Color::from_rgb(0.95, 0.25, 0.25);
const MARKER: Color = Color::from_rgb(0.95, 0.75, 0.25);
const PANEL: Color = Color::from_rgb(0.11, 0.12, 0.14);
const OFFLINE: Color = Color::from_rgb(0.45, 0.22, 0.22);

/// What a drag on a clip does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grip {
    Move,
    TrimStart,
    TrimEnd,
    FadeIn,
    FadeOut,
    /// The clip-gain handle at the middle of its top edge: drag up or down.
    Gain,
}

/// A finished drag: clip `clip` (timeline order) of track `track`, and the new value —
/// a start (`Move`, possibly on `to_track`), an edge time (trims), a fade length, or the
/// clip gain in dB (`Gain`).
#[derive(Clone, Debug, PartialEq)]
pub struct Gesture {
    pub track: usize,
    pub clip: usize,
    pub grip: Grip,
    pub seconds: f64,
    pub to_track: usize,
}

/// Seconds ↔ pixels for a timeline of `width` pixels showing `length` seconds from
/// `start`.
#[derive(Clone, Copy, Debug)]
pub struct Scale {
    pub width: f32,
    pub start: f64,
    pub length: f64,
}

/// What part of the session the timeline shows: all of it (and 5 % more, room to move a
/// clip later), or `span` seconds from `start`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct View {
    pub start: f64,
    pub span: Option<f64>,
}

impl View {
    /// The seconds shown of a session `length` long.
    pub fn span_of(&self, length: f64) -> f64 {
        self.span.unwrap_or((length * 1.05).max(1.0))
    }

    /// Zoomed by `factor` (> 1 in) keeping time `at` where it is on the screen; from the
    /// whole session down to 64 samples across.
    pub fn zoomed(&self, factor: f64, at: f64, length: f64, rate: u32) -> Self {
        let span = self.span_of(length);
        let whole = (length * 1.05).max(1.0);
        let new = (span / factor).clamp(64.0 / f64::from(rate.max(1)), whole);
        if new >= whole {
            return View::default();
        }
        let start = at - (at - self.start) * new / span;
        View {
            start: start.clamp(0.0, (whole - new).max(0.0)),
            span: Some(new),
        }
    }

    /// Moved by `seconds` (within the session).
    pub fn scrolled(&self, seconds: f64, length: f64) -> Self {
        let Some(span) = self.span else {
            return *self;
        };
        let whole = (length * 1.05).max(1.0);
        View {
            start: (self.start + seconds).clamp(0.0, (whole - span).max(0.0)),
            span: Some(span),
        }
    }
}

impl Scale {
    /// The time axis of `view` over `bounds_width` pixels.
    pub fn of(bounds_width: f32, session_length: f64, view: View) -> Self {
        Self {
            width: (bounds_width - LABEL).max(1.0),
            start: view.start,
            length: view.span_of(session_length),
        }
    }

    pub fn x(&self, seconds: f64) -> f32 {
        LABEL + ((seconds - self.start) / self.length) as f32 * self.width
    }

    pub fn seconds(&self, x: f32) -> f64 {
        self.start + f64::from((x - LABEL) / self.width) * self.length
    }

    pub fn per_pixel(&self) -> f64 {
        self.length / f64::from(self.width)
    }
}

/// Lane heights: the smallest and largest a lane may be made.
pub const LANE_MIN: f32 = 18.0;
pub const LANE_MAX: f32 = 240.0;

/// The lanes' heights, top to bottom (a lane without an entry is [`LANE`] high), each
/// followed by its track's automation lanes (`subs[k]` of them, [`SUB`] high each),
/// scrolled up by `scroll` pixels under the ruler.
#[derive(Clone, Copy, Debug, Default)]
pub struct Lanes<'a> {
    pub heights: &'a [f32],
    pub subs: &'a [usize],
    pub scroll: f32,
}

/// The height of one automation lane under a track.
pub const SUB: f32 = 22.0;

impl<'a> Lanes<'a> {
    pub fn new(heights: &'a [f32], scroll: f32) -> Self {
        Self {
            heights,
            subs: &[],
            scroll,
        }
    }

    /// The same lanes with `subs[k]` automation lanes under track `k`.
    pub fn with_subs(mut self, subs: &'a [usize]) -> Self {
        self.subs = subs;
        self
    }

    /// The height of track `k`'s clip lane.
    pub fn height(&self, k: usize) -> f32 {
        self.heights.get(k).copied().unwrap_or(LANE)
    }

    /// Track `k`'s clip lane and its automation lanes.
    fn block(&self, k: usize) -> f32 {
        self.height(k) + self.subs.get(k).copied().unwrap_or(0) as f32 * SUB
    }

    /// The top of lane `k` on the canvas.
    pub fn top(&self, k: usize) -> f32 {
        RULER + (0..k).map(|i| self.block(i)).sum::<f32>() - self.scroll
    }

    /// The ruler and `count` lanes, unscrolled.
    pub fn total(&self, count: usize) -> f32 {
        RULER + (0..count).map(|i| self.block(i)).sum::<f32>()
    }

    /// The clip lane (of `count`) under `y`, if any (none under the ruler or on an
    /// automation lane).
    pub fn at(&self, y: f32, count: usize) -> Option<usize> {
        if y < RULER {
            return None;
        }
        let mut top = RULER - self.scroll;
        for k in 0..count {
            if y >= top && y < top + self.height(k) {
                return Some(k);
            }
            top += self.block(k);
        }
        None
    }

    /// The automation lane under `y`: (track, its `j`th automation lane).
    pub fn sub_at(&self, y: f32, count: usize) -> Option<(usize, usize)> {
        if y < RULER {
            return None;
        }
        let mut top = RULER - self.scroll;
        for k in 0..count {
            let clips = top + self.height(k);
            if y >= clips && y < top + self.block(k) {
                return Some((k, ((y - clips) / SUB) as usize));
            }
            top += self.block(k);
        }
        None
    }

    /// The top of track `k`'s `j`th automation lane.
    pub fn sub_top(&self, k: usize, j: usize) -> f32 {
        self.top(k) + self.height(k) + j as f32 * SUB
    }

    /// The lane whose bottom edge is within 4 pixels of `y` (a press there resizes it).
    pub fn edge_at(&self, y: f32, count: usize) -> Option<usize> {
        if y < RULER {
            return None;
        }
        (0..count).find(|&k| (self.top(k) + self.height(k) - y).abs() <= 4.0)
    }

    /// The lanes (of `count`) that show on a canvas `height` pixels high.
    pub fn visible(&self, count: usize, height: f32) -> std::ops::Range<usize> {
        let first = (0..count)
            .find(|&k| self.top(k) + self.block(k) > RULER)
            .unwrap_or(count);
        let end = (first..count)
            .find(|&k| self.top(k) >= height)
            .unwrap_or(count);
        first..end
    }
}

/// The clip under a point and which part of it was grabbed.
pub fn hit(
    session: &SessionView,
    lanes: Lanes,
    scale: Scale,
    p: Point,
) -> Option<(usize, usize, Grip)> {
    let track = lanes.at(p.y, session.strips.len())?;
    let top = lanes.top(track);
    // Later clips are drawn on top: look at them first.
    let clips = &session.strips[track].clips;
    for (i, c) in clips.iter().enumerate().rev() {
        let (x0, x1) = (scale.x(c.start), scale.x(c.start + c.length));
        if p.x < x0 - 1.0 || p.x > x1 + 1.0 {
            continue;
        }
        let grip = if p.y < top + 2.0 + HANDLE_PX && p.x < x0 + (x1 - x0) / 3.0 {
            Grip::FadeIn
        } else if p.y < top + 2.0 + HANDLE_PX && p.x > x1 - (x1 - x0) / 3.0 {
            Grip::FadeOut
        } else if p.y < top + 2.0 + HANDLE_PX && x1 - x0 > 3.0 * EDGE_PX {
            Grip::Gain
        } else if p.x - x0 <= EDGE_PX && x1 - x0 > 3.0 * EDGE_PX {
            Grip::TrimStart
        } else if x1 - p.x <= EDGE_PX && x1 - x0 > 3.0 * EDGE_PX {
            Grip::TrimEnd
        } else {
            Grip::Move
        };
        return Some((track, i, grip));
    }
    None
}

/// The clips a rubber band from `a` to `b` touches.
pub fn in_band(
    session: &SessionView,
    lanes: Lanes,
    scale: Scale,
    a: Point,
    b: Point,
) -> Vec<(usize, usize)> {
    let (x0, x1) = (a.x.min(b.x), a.x.max(b.x));
    let (y0, y1) = (a.y.min(b.y), a.y.max(b.y));
    let mut out = Vec::new();
    for (k, s) in session.strips.iter().enumerate() {
        let top = lanes.top(k);
        if top + lanes.height(k) < y0 || top > y1 {
            continue;
        }
        for (i, c) in s.clips.iter().enumerate() {
            if scale.x(c.start + c.length) >= x0 && scale.x(c.start) <= x1 {
                out.push((k, i));
            }
        }
    }
    out
}

/// Times an edge snaps to: every other clip's edges, the markers, the playhead and zero.
fn snap_points(session: &SessionView, except: (usize, usize), playhead: f64) -> Vec<f64> {
    let mut points = vec![0.0, playhead];
    points.extend(session.markers.iter().map(|(_, t)| *t));
    for (k, s) in session.strips.iter().enumerate() {
        for (i, c) in s.clips.iter().enumerate() {
            if (k, i) != except {
                points.extend([c.start, c.start + c.length]);
            }
        }
    }
    points
}

/// `t` moved to the nearest snap point within reach, with the distance moved.
fn snap(t: f64, points: &[f64], reach: f64) -> (f64, f64) {
    points
        .iter()
        .map(|&p| (p, (p - t).abs()))
        .filter(|&(_, d)| d <= reach)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map_or((t, f64::INFINITY), |(p, d)| (p, d))
}

/// Clip gain per pixel of a vertical drag on the gain handle (a tenth with Shift).
pub const GAIN_DB_PER_PX: f64 = 0.25;

/// The result of dragging `grip` of a clip by `(dx, dy)` pixels (and to lane `to_track`);
/// `snapping` off (Shift) also makes a gain drag ten times finer.
pub fn gesture(
    session: &SessionView,
    scale: Scale,
    (track, clip, grip): (usize, usize, Grip),
    (dx, dy): (f32, f32),
    to_track: usize,
    playhead: f64,
    snapping: bool,
) -> Option<Gesture> {
    let c: &ClipView = session.strips.get(track)?.clips.get(clip)?;
    let delta = f64::from(dx) * scale.per_pixel();
    let points = if snapping {
        snap_points(session, (track, clip), playhead)
    } else {
        Vec::new()
    };
    let reach = f64::from(SNAP_PX) * scale.per_pixel();
    let seconds = match grip {
        Grip::Move => {
            // Snap whichever edge of the moved clip is nearer a point.
            let start = c.start + delta;
            let (s, ds) = snap(start, &points, reach);
            let (e, de) = snap(start + c.length, &points, reach);
            let snapped = if de < ds { e - c.length } else { s };
            snapped.max(0.0)
        }
        Grip::TrimStart => snap(c.start + delta, &points, reach).0,
        Grip::TrimEnd => snap(c.start + c.length + delta, &points, reach).0,
        Grip::FadeIn => (c.fade_in + delta).clamp(0.0, c.length),
        Grip::FadeOut => (c.fade_out - delta).clamp(0.0, c.length),
        Grip::Gain => {
            let per_px = GAIN_DB_PER_PX * if snapping { 1.0 } else { 0.1 };
            (f64::from(c.gain_db) - f64::from(dy) * per_px).clamp(-60.0, 24.0)
        }
    };
    Some(Gesture {
        track,
        clip,
        grip,
        seconds,
        to_track: if grip == Grip::Move { to_track } else { track },
    })
}

/// The timeline canvas.
pub struct Timeline<'a> {
    pub session: &'a SessionView,
    pub position: f64,
    pub selected: &'a [(usize, usize)],
    pub view: View,
    pub ruler: RulerMode,
    /// The loop range and whether it is on.
    pub loop_range: (Option<f64>, Option<f64>, bool),
    /// Each lane's height.
    pub heights: &'a [f32],
    /// How far the lanes are scrolled up under the ruler (pixels).
    pub lane_scroll: f32,
    /// Under each track, the parameters with an automation lane of their own, and how many.
    pub sub_lanes: &'a [Vec<usize>],
    pub sub_counts: &'a [usize],
    /// The selected automation points (track, lane, times).
    pub points: Option<&'a (usize, usize, Vec<f64>)>,
}

/// How the ruler counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RulerMode {
    /// Minutes and seconds.
    #[default]
    Clock,
    /// Timecode at the session's frame rate, from its start timecode.
    Timecode,
    /// Samples at the session rate.
    Samples,
}

impl RulerMode {
    pub fn next(self) -> Self {
        match self {
            RulerMode::Clock => RulerMode::Timecode,
            RulerMode::Timecode => RulerMode::Samples,
            RulerMode::Samples => RulerMode::Clock,
        }
    }

    /// Session time `t` as this ruler writes it.
    pub fn format(self, t: f64, session: &SessionView) -> String {
        let t = t.max(0.0);
        match self {
            RulerMode::Clock if t >= 60.0 => format!("{}:{:06.3}", (t / 60.0) as u64, t % 60.0),
            RulerMode::Clock => format!("{t:.3}"),
            RulerMode::Timecode => session.clock.timecode_at(t).to_string(),
            RulerMode::Samples => format!("{}", (t * f64::from(session.rate)).round() as u64),
        }
    }
}

/// A drag in progress.
#[derive(Clone, Copy, Debug)]
pub struct Drag {
    grab: (usize, usize, Grip),
    from: Point,
    to: Point,
}

/// The canvas's own state: the drag, whether snapping is held off, and the drawing of the
/// lanes and clips, kept until the session, the selection or the size changes (only the
/// playhead, markers and a drag are drawn every frame).
#[derive(Default)]
pub struct TimelineState {
    drag: Option<Drag>,
    /// A lane being resized: which, where the press was, and its height then.
    resize: Option<(usize, f32, f32)>,
    /// A rubber band being drawn from `.0` to `.1`.
    band: Option<(Point, Point)>,
    no_snap: bool,
    lanes: canvas::Cache,
    drawn: std::cell::Cell<Option<u64>>,
    /// Ctrl held: the wheel zooms.
    zoom_key: bool,
    /// Alt held: a click edits the fader automation of the lane under it.
    alt: bool,
    /// A press on an automation lane: on a point (its time) or not, from where to where.
    point_drag: Option<PointDrag>,
}

/// A press on an automation lane, until its release.
#[derive(Clone, Copy, Debug)]
pub struct PointDrag {
    at: LaneAt,
    grabbed: Option<f64>,
    from: Point,
    to: Point,
}

impl Timeline<'_> {
    /// The lanes on the canvas: clip lanes and the automation lanes under them.
    fn lanes(&self) -> Lanes<'_> {
        Lanes::new(self.heights, self.lane_scroll).with_subs(self.sub_counts)
    }

    /// The selected points' times on track `k`'s lane `lane`.
    fn selected_points(&self, k: usize, lane: usize) -> &[f64] {
        match self.points {
            Some((t, l, times)) if (*t, *l) == (k, lane) => times,
            _ => &[],
        }
    }

    /// What the cached layer depends on.
    fn key(&self, bounds: Rectangle) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.session.revision.hash(&mut h);
        self.selected.hash(&mut h);
        self.view.start.to_bits().hash(&mut h);
        self.view.span.map(f64::to_bits).hash(&mut h);
        self.ruler.hash(&mut h);
        bounds.width.to_bits().hash(&mut h);
        bounds.height.to_bits().hash(&mut h);
        for s in &self.session.strips {
            s.mute.hash(&mut h);
        }
        for height in self.heights {
            height.to_bits().hash(&mut h);
        }
        self.lane_scroll.to_bits().hash(&mut h);
        self.sub_counts.hash(&mut h);
        if let Some((t, l, times)) = self.points {
            (t, l).hash(&mut h);
            times.iter().for_each(|x| x.to_bits().hash(&mut h));
        }
        h.finish()
    }
}

impl canvas::Program<Message> for Timeline<'_> {
    type State = TimelineState;

    fn update(
        &self,
        state: &mut TimelineState,
        event: &canvas::Event,
        bounds: Rectangle,
        cursor: mouse::Cursor,
    ) -> Option<canvas::Action<Message>> {
        let scale = Scale::of(bounds.width, self.session.length_s, self.view);
        let lanes = self.lanes();
        let count = self.session.strips.len();
        let local = |c: mouse::Cursor| {
            c.position()
                .map(|p| Point::new(p.x - bounds.x, p.y - bounds.y))
        };
        match event {
            canvas::Event::Keyboard(keyboard::Event::ModifiersChanged(m)) => {
                state.no_snap = m.shift();
                state.zoom_key = m.command();
                state.alt = m.alt();
                None
            }
            // Ctrl+wheel zooms around the pointer; Shift+wheel (or a sideways wheel) scrolls
            // in time; the plain wheel scrolls the lanes.
            canvas::Event::Mouse(mouse::Event::WheelScrolled { delta }) => {
                let p = cursor.position_in(bounds)?;
                let (dx, dy) = match delta {
                    mouse::ScrollDelta::Lines { x, y } => (*x, *y),
                    mouse::ScrollDelta::Pixels { x, y } => (*x / 20.0, *y / 20.0),
                };
                if state.zoom_key {
                    let factor = 1.25f64.powf(f64::from(dy));
                    let at = scale.seconds(p.x.max(LABEL));
                    Some(
                        canvas::Action::publish(Message::Timeline(TimelineMessage::View(
                            self.view
                                .zoomed(factor, at, self.session.length_s, self.session.rate),
                        )))
                        .and_capture(),
                    )
                } else if state.no_snap || dx != 0.0 {
                    let lines = if dx != 0.0 { -dx } else { -dy };
                    let by = f64::from(lines) * 0.1 * scale.length;
                    Some(
                        canvas::Action::publish(Message::Timeline(TimelineMessage::View(
                            self.view.scrolled(by, self.session.length_s),
                        )))
                        .and_capture(),
                    )
                } else {
                    Some(
                        canvas::Action::publish(Message::Timeline(TimelineMessage::LaneScroll(
                            -dy * LANE,
                        )))
                        .and_capture(),
                    )
                }
            }
            canvas::Event::Mouse(mouse::Event::ButtonPressed(mouse::Button::Left)) => {
                let p = cursor.position_in(bounds)?;
                // A marker's flag on the ruler: pick it (to rename, remove or jump to).
                if p.y < RULER {
                    let near = self.session.markers.iter().position(|(_, t)| {
                        (scale.x(*t) - p.x).abs() <= 6.0 && scale.x(*t) >= LABEL
                    });
                    if let Some(k) = near {
                        return Some(
                            canvas::Action::publish(Message::Timeline(
                                TimelineMessage::PickMarker(Some(k)),
                            ))
                            .and_capture(),
                        );
                    }
                }
                // A lane's bottom edge, beside its name: resize the lane.
                if p.x < LABEL {
                    if let Some(k) = lanes.edge_at(p.y, count) {
                        state.resize = Some((k, p.y, lanes.height(k)));
                        return Some(canvas::Action::capture());
                    }
                }
                // The shape glyph of an automation lane, or of the fader envelope beside
                // the track's name.
                if p.x < LABEL {
                    let glyph = match lanes.sub_at(p.y, count) {
                        Some((k, j)) => {
                            Some((k, *self.sub_lanes.get(k)?.get(j)?, lanes.sub_top(k, j)))
                        }
                        None => lanes.at(p.y, count).map(|k| (k, 0, lanes.top(k))),
                    };
                    if let Some((k, lane, top)) = glyph {
                        let has = self.session.strips[k]
                            .lanes
                            .get(lane)
                            .is_some_and(|l| !l.points.is_empty());
                        if has && auto_lanes::on_shape_glyph(p, top) {
                            return Some(
                                canvas::Action::publish(Message::Timeline(
                                    TimelineMessage::ToggleShape(k, lane),
                                ))
                                .and_capture(),
                            );
                        }
                    }
                }
                // An automation lane (the fader's over the clips with Alt held): a point
                // grabbed, or a band or a click begun.
                if p.x >= LABEL {
                    if let Some(at) = auto_lanes::under(lanes, self.sub_lanes, count, p, state.alt)
                    {
                        let lane = self.session.strips.get(at.track)?.lanes.get(at.lane)?;
                        state.point_drag = Some(PointDrag {
                            at,
                            grabbed: auto_lanes::point_at(lane, scale, at, p),
                            from: p,
                            to: p,
                        });
                        return Some(canvas::Action::capture());
                    }
                }
                match hit(self.session, lanes, scale, p) {
                    Some((t, i, _)) if state.no_snap => Some(
                        canvas::Action::publish(Message::Timeline(TimelineMessage::ToggleClip((
                            t, i,
                        ))))
                        .and_capture(),
                    ),
                    Some(grab) => {
                        state.drag = Some(Drag {
                            grab,
                            from: p,
                            to: p,
                        });
                        // A press on a clip of the selection keeps the selection (to drag
                        // them all); a click without a drag selects the clip alone.
                        if self.selected.contains(&(grab.0, grab.1)) {
                            return Some(canvas::Action::request_redraw().and_capture());
                        }
                        Some(
                            canvas::Action::publish(Message::Timeline(
                                TimelineMessage::SelectClip(Some((grab.0, grab.1))),
                            ))
                            .and_capture(),
                        )
                    }
                    None => {
                        state.band = Some((p, p));
                        Some(canvas::Action::capture())
                    }
                }
            }
            canvas::Event::Mouse(mouse::Event::CursorMoved { .. })
                if state.point_drag.is_some() =>
            {
                if let (Some(d), Some(p)) = (state.point_drag.as_mut(), local(cursor)) {
                    d.to = p;
                }
                Some(canvas::Action::request_redraw().and_capture())
            }
            canvas::Event::Mouse(mouse::Event::ButtonReleased(mouse::Button::Left))
                if state.point_drag.is_some() =>
            {
                let d = state.point_drag.take()?;
                let to = local(cursor).unwrap_or(d.to);
                let lane = self.session.strips.get(d.at.track)?.lanes.get(d.at.lane)?;
                let still = (to.x - d.from.x).abs() < 3.0 && (to.y - d.from.y).abs() < 3.0;
                let (track, k) = (d.at.track, d.at.lane);
                let value = |y: f32| auto_lanes::value_of(y, lane.range, d.at);
                let message = match (d.grabbed, still) {
                    (Some(t), true) => TimelineMessage::RemoveAutomationPoint(track, k, t),
                    (Some(t), false) => TimelineMessage::MovePoints(
                        track,
                        k,
                        t,
                        scale.seconds(to.x) - scale.seconds(d.from.x),
                        value(to.y) - value(d.from.y),
                    ),
                    (None, true) => TimelineMessage::AutomationPoint(
                        track,
                        k,
                        scale.seconds(d.from.x).max(0.0),
                        value(d.from.y),
                    ),
                    (None, false) => TimelineMessage::SelectPoints(
                        track,
                        k,
                        auto_lanes::points_in(lane, scale, d.at, d.from, to),
                    ),
                };
                Some(canvas::Action::publish(Message::Timeline(message)).and_capture())
            }
            canvas::Event::Mouse(mouse::Event::CursorMoved { .. }) if state.resize.is_some() => {
                let (k, from, height) = state.resize?;
                let y = local(cursor)?.y;
                let h = (height + y - from).clamp(LANE_MIN, LANE_MAX);
                Some(
                    canvas::Action::publish(Message::Timeline(TimelineMessage::LaneHeight(k, h)))
                        .and_capture(),
                )
            }
            canvas::Event::Mouse(mouse::Event::ButtonReleased(mouse::Button::Left))
                if state.resize.is_some() =>
            {
                state.resize = None;
                Some(canvas::Action::capture())
            }
            canvas::Event::Mouse(mouse::Event::CursorMoved { .. }) if state.band.is_some() => {
                if let (Some(band), Some(p)) = (state.band.as_mut(), local(cursor)) {
                    band.1 = p;
                }
                Some(canvas::Action::request_redraw().and_capture())
            }
            canvas::Event::Mouse(mouse::Event::ButtonReleased(mouse::Button::Left))
                if state.band.is_some() =>
            {
                let (from, to) = state.band.take()?;
                if (to.x - from.x).abs() < 3.0 && (to.y - from.y).abs() < 3.0 {
                    // A click on no clip: locate there.
                    let t = scale.seconds(from.x).clamp(0.0, self.session.length_s);
                    return Some(
                        canvas::Action::publish(Message::Timeline(
                            TimelineMessage::LocateAndDeselect(t),
                        ))
                        .and_capture(),
                    );
                }
                let clips = in_band(self.session, lanes, scale, from, to);
                Some(
                    canvas::Action::publish(Message::Timeline(TimelineMessage::SelectClips(clips)))
                        .and_capture(),
                )
            }
            canvas::Event::Mouse(mouse::Event::CursorMoved { .. }) => {
                let drag = state.drag.as_mut()?;
                drag.to = local(cursor)?;
                Some(canvas::Action::request_redraw().and_capture())
            }
            canvas::Event::Mouse(mouse::Event::ButtonReleased(mouse::Button::Left)) => {
                let drag = state.drag.take()?;
                let to = local(cursor).unwrap_or(drag.to);
                let (dx, dy) = (to.x - drag.from.x, to.y - drag.from.y);
                let to_track = lanes.at(to.y, count).unwrap_or(drag.grab.0);
                let still = match drag.grab.2 {
                    Grip::Gain => dy.abs() < 2.0,
                    _ => dx.abs() < 3.0 && to_track == drag.grab.0,
                };
                if still {
                    // A click, not a drag: the clip alone is selected.
                    let (t, i, _) = drag.grab;
                    return Some(
                        canvas::Action::publish(Message::Timeline(TimelineMessage::SelectClip(
                            Some((t, i)),
                        )))
                        .and_capture(),
                    );
                }
                let g = gesture(
                    self.session,
                    scale,
                    drag.grab,
                    (dx, dy),
                    to_track,
                    self.position,
                    !state.no_snap,
                )?;
                Some(
                    canvas::Action::publish(Message::Timeline(TimelineMessage::ClipGesture(g)))
                        .and_capture(),
                )
            }
            _ => None,
        }
    }

    fn draw(
        &self,
        state: &TimelineState,
        renderer: &Renderer,
        _: &Theme,
        bounds: Rectangle,
        _: mouse::Cursor,
    ) -> Vec<Geometry> {
        let scale = Scale::of(bounds.width, self.session.length_s, self.view);
        let layout = self.lanes();
        let key = self.key(bounds);
        if state.drawn.get() != Some(key) {
            state.lanes.clear();
            state.drawn.set(Some(key));
        }
        let peaks = self.session.peaks.as_deref();
        let lanes = state.lanes.draw(renderer, bounds.size(), |frame| {
            frame.fill_rectangle(Point::ORIGIN, bounds.size(), PANEL);
            ruler(frame, scale, bounds.height, self.ruler, self.session);
            let shown = layout.visible(self.session.strips.len(), bounds.height);
            for (k, s) in self
                .session
                .strips
                .iter()
                .enumerate()
                .take(shown.end)
                .skip(shown.start)
            {
                let (top, height) = (layout.top(k), layout.height(k));
                frame.fill_text(Text {
                    content: s.name.clone(),
                    position: Point::new(4.0, top + 8.0),
                    color: if s.mute { DIM } else { Color::WHITE },
                    size: 12.0.into(),
                    ..Default::default()
                });
                frame.stroke(
                    &Path::line(Point::new(0.0, top), Point::new(bounds.width, top)),
                    Stroke::default().with_color(Color::from_rgb(0.18, 0.19, 0.22)),
                );
                for (i, c) in s.clips.iter().enumerate() {
                    let selected = self.selected.contains(&(k, i));
                    draw_clip(frame, scale, (top, height), c, selected, s.mute, 1.0);
                    if let Some(p) = peaks.and_then(|p| p.get(c.source)) {
                        waveform(frame, scale, (top, height), c, p, self.session.rate);
                    }
                }
                // Amber while it plays; grey when the track's automation is off.
                let colour = if s.automation_mode == gpu_dsp::mix::AutomationMode::Off {
                    auto_lanes::IDLE
                } else {
                    auto_lanes::PLAYS
                };
                if let Some(gain) = s.lanes.first().filter(|l| !l.points.is_empty()) {
                    let at = LaneAt {
                        track: k,
                        lane: 0,
                        top,
                        height,
                    };
                    let chosen = self.selected_points(k, 0);
                    auto_lanes::envelope(frame, scale, at, gain, (bounds.width, colour), chosen);
                    auto_lanes::shape_glyph(frame, top, gain.step);
                }
                for (j, &lane) in self.sub_lanes.get(k).into_iter().flatten().enumerate() {
                    let at = LaneAt {
                        track: k,
                        lane,
                        top: layout.sub_top(k, j),
                        height: SUB,
                    };
                    let chosen = self.selected_points(k, lane);
                    auto_lanes::draw_sub(
                        frame,
                        scale,
                        at,
                        &s.lanes[lane],
                        (bounds.width, colour),
                        chosen,
                    );
                }
            }
            // Lanes scrolled up pass under the ruler.
            if self.lane_scroll > 0.0 {
                frame.fill_rectangle(Point::ORIGIN, Size::new(bounds.width, RULER), PANEL);
                ruler(frame, scale, RULER, self.ruler, self.session);
            }
        });
        let mut frame = Frame::new(renderer, bounds.size());
        // A press on an automation lane: the band it draws, or where its points go.
        if let Some(d) = state.point_drag {
            self.draw_point_drag(&mut frame, scale, d);
        }
        // The rubber band.
        if let Some((a, b)) = state.band {
            let (x, y) = (a.x.min(b.x), a.y.min(b.y));
            let size = Size::new((a.x - b.x).abs(), (a.y - b.y).abs());
            frame.fill_rectangle(
                Point::new(x, y),
                size,
                Color::from_rgba(0.6, 0.7, 1.0, 0.15),
            );
            frame.stroke(
                &Path::rectangle(Point::new(x, y), size),
                Stroke::default().with_color(Color::from_rgba(0.7, 0.8, 1.0, 0.8)),
            );
        }
        // The drag's preview: the clip where it would land (every selected clip, when one of
        // a selection is moved).
        if let Some(drag) = &state.drag {
            let (track, clip, _) = drag.grab;
            let to_track = layout
                .at(drag.to.y, self.session.strips.len())
                .unwrap_or(track);
            if let Some(g) = gesture(
                self.session,
                scale,
                drag.grab,
                (drag.to.x - drag.from.x, drag.to.y - drag.from.y),
                to_track,
                self.position,
                !state.no_snap,
            ) {
                let grabbed = &self.session.strips[track].clips[clip];
                let together = g.grip == Grip::Move
                    && g.to_track == track
                    && self.selected.len() > 1
                    && self.selected.contains(&(track, clip));
                let moved: Vec<(usize, ClipView)> = if together {
                    let by = g.seconds - grabbed.start;
                    self.selected
                        .iter()
                        .filter_map(|&(t, i)| {
                            let mut c = self.session.strips.get(t)?.clips.get(i)?.clone();
                            c.start = (c.start + by).max(0.0);
                            Some((t, c))
                        })
                        .collect()
                } else {
                    let mut c = grabbed.clone();
                    match g.grip {
                        Grip::Move => c.start = g.seconds,
                        Grip::TrimStart => {
                            c.length += c.start - g.seconds;
                            c.start = g.seconds;
                        }
                        Grip::TrimEnd => c.length = g.seconds - c.start,
                        Grip::FadeIn => c.fade_in = g.seconds,
                        Grip::FadeOut => c.fade_out = g.seconds,
                        Grip::Gain => c.gain_db = g.seconds as f32,
                    }
                    vec![(g.to_track, c)]
                };
                for (t, c) in &moved {
                    let lane = (layout.top(*t), layout.height(*t));
                    draw_clip(&mut frame, scale, lane, c, true, false, 0.6);
                }
            }
        }
        // The loop range on the ruler: green when playback loops, grey when not.
        if let (Some(a), Some(b), on) = self.loop_range {
            let (x0, x1) = (scale.x(a.min(b)).max(LABEL), scale.x(a.max(b)));
            if x1 > x0 {
                let colour = if on {
                    Color::from_rgba(0.3, 0.8, 0.4, 0.45)
                } else {
                    Color::from_rgba(0.6, 0.6, 0.6, 0.3)
                };
                frame.fill_rectangle(Point::new(x0, 14.0), Size::new(x1 - x0, 7.0), colour);
            }
        }
        for (name, t) in &self.session.markers {
            let x = scale.x(*t);
            if x < LABEL {
                continue;
            }
            frame.stroke(
                &Path::line(Point::new(x, 0.0), Point::new(x, bounds.height)),
                Stroke::default().with_color(MARKER),
            );
            frame.fill_text(Text {
                content: name.clone(),
                position: Point::new(x + 3.0, 10.0),
                color: MARKER,
                size: 10.0.into(),
                ..Default::default()
            });
        }
        let x = scale.x(self.position).max(LABEL);
        frame.stroke(
            &Path::line(Point::new(x, 0.0), Point::new(x, bounds.height)),
            Stroke::default().with_color(RED).with_width(2.0),
        );
        vec![lanes, frame.into_geometry()]
    }

    fn mouse_interaction(
        &self,
        state: &TimelineState,
        bounds: Rectangle,
        cursor: mouse::Cursor,
    ) -> mouse::Interaction {
        if state.drag.is_some() {
            return mouse::Interaction::Grabbing;
        }
        let scale = Scale::of(bounds.width, self.session.length_s, self.view);
        let lanes = self.lanes();
        if state.resize.is_some()
            || cursor.position_in(bounds).is_some_and(|p| {
                p.x < LABEL && lanes.edge_at(p.y, self.session.strips.len()).is_some()
            })
        {
            return mouse::Interaction::ResizingVertically;
        }
        match cursor
            .position_in(bounds)
            .and_then(|p| hit(self.session, lanes, scale, p))
        {
            Some((_, _, Grip::TrimStart | Grip::TrimEnd)) => {
                mouse::Interaction::ResizingHorizontally
            }
            Some((_, _, Grip::Move)) => mouse::Interaction::Grab,
            Some((_, _, Grip::Gain)) => mouse::Interaction::ResizingVertically,
            Some(_) => mouse::Interaction::Crosshair,
            None => mouse::Interaction::default(),
        }
    }
}

impl Timeline<'_> {
    /// The band a press on an automation lane draws, or the points it drags, where they
    /// would land.
    fn draw_point_drag(&self, frame: &mut Frame, scale: Scale, d: PointDrag) {
        let Some(lane) = self
            .session
            .strips
            .get(d.at.track)
            .and_then(|s| s.lanes.get(d.at.lane))
        else {
            return;
        };
        match d.grabbed {
            None => {
                let (a, b) = (d.from, d.to);
                let size = Size::new((a.x - b.x).abs(), (a.y - b.y).abs());
                frame.stroke(
                    &Path::rectangle(Point::new(a.x.min(b.x), a.y.min(b.y)), size),
                    Stroke::default().with_color(Color::from_rgba(1.0, 0.85, 0.5, 0.8)),
                );
            }
            Some(t) => {
                let dt = scale.seconds(d.to.x) - scale.seconds(d.from.x);
                let value = |y: f32| auto_lanes::value_of(y, lane.range, d.at);
                let dv = value(d.to.y) - value(d.from.y);
                let selected = self.selected_points(d.at.track, d.at.lane);
                let moved: Vec<f64> = if selected.iter().any(|x| (x - t).abs() < 1e-9) {
                    selected.to_vec()
                } else {
                    vec![t]
                };
                for &(pt, pv) in lane
                    .points
                    .iter()
                    .filter(|p| moved.iter().any(|m| (m - p.0).abs() < 1e-9))
                {
                    let x = scale.x((pt + dt).max(0.0));
                    let y = auto_lanes::y_of(lane.rounded(pv + dv), lane.range, d.at);
                    frame.stroke(
                        &Path::rectangle(Point::new(x - 4.0, y - 4.0), Size::new(8.0, 8.0)),
                        Stroke::default().with_color(Color::WHITE),
                    );
                }
            }
        }
    }
}

/// A clip's waveform from its source's peak overview: one bar per pixel.
fn waveform(
    frame: &mut Frame,
    scale: Scale,
    (top, height): (f32, f32),
    c: &ClipView,
    peaks: &[f32],
    rate: u32,
) {
    let per_column = super::document::PEAK_FRAMES as f64;
    let (x0, x1) = (
        scale.x(c.start).max(LABEL),
        scale.x(c.start + c.length).min(LABEL + scale.width),
    );
    let mid = top + height / 2.0;
    let half = height / 2.0 - 4.0;
    let colour = Color::from_rgba(0.85, 0.92, 1.0, 0.55);
    let frames_per_px = scale.per_pixel() * f64::from(rate);
    // The envelope, one value per pixel column, filled as one shape (one path per clip is
    // far cheaper to draw than a bar per pixel).
    let mut envelope: Vec<(f32, f32)> = Vec::with_capacity((x1 - x0).max(0.0) as usize + 2);
    let mut x = x0.floor();
    while x < x1 {
        let t0 = scale.seconds(x) - c.start + c.offset;
        let a = ((t0 * f64::from(rate)) / per_column).max(0.0) as usize;
        let b = (((t0 * f64::from(rate) + frames_per_px) / per_column).ceil() as usize).max(a + 1);
        let v = peaks
            .get(a..b.min(peaks.len()))
            .map_or(0.0, |s| s.iter().fold(0.0f32, |m, p| m.max(*p)));
        envelope.push((x, v.sqrt() * half));
        x += 1.0;
    }
    if envelope.iter().all(|&(_, h)| h <= 0.3) {
        return;
    }
    let shape = Path::new(|p| {
        p.move_to(Point::new(envelope[0].0, mid - envelope[0].1));
        for &(x, h) in &envelope {
            p.line_to(Point::new(x, mid - h.max(0.5)));
            p.line_to(Point::new(x + 1.0, mid - h.max(0.5)));
        }
        for &(x, h) in envelope.iter().rev() {
            p.line_to(Point::new(x + 1.0, mid + h.max(0.5)));
            p.line_to(Point::new(x, mid + h.max(0.5)));
        }
        p.close();
    });
    frame.fill(&shape, colour);
}

/// Time along the top, in the ruler's unit, about one label per 100 pixels.
fn ruler(frame: &mut Frame, scale: Scale, height: f32, mode: RulerMode, session: &SessionView) {
    let steps = [
        1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0,
        30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
    ];
    let step = steps
        .iter()
        .copied()
        .find(|s| s / scale.per_pixel() >= 100.0)
        .unwrap_or(7200.0);
    let mut t = (scale.start / step).floor() * step;
    let end = scale.start + scale.length;
    while t <= end {
        let x = scale.x(t);
        if x >= LABEL {
            frame.stroke(
                &Path::line(Point::new(x, 0.0), Point::new(x, 6.0)),
                Stroke::default().with_color(DIM),
            );
            frame.stroke(
                &Path::line(Point::new(x, RULER), Point::new(x, height)),
                Stroke::default().with_color(Color::from_rgb(0.15, 0.16, 0.18)),
            );
            frame.fill_text(Text {
                content: mode.format(t, session),
                position: Point::new(x + 2.0, 5.0),
                color: DIM,
                size: 10.0.into(),
                ..Default::default()
            });
        }
        t += step;
    }
}

/// One clip: its box, name and gain, and its fades as lines.
fn draw_clip(
    frame: &mut Frame,
    scale: Scale,
    (top, height): (f32, f32),
    c: &ClipView,
    selected: bool,
    muted: bool,
    alpha: f32,
) {
    let right = LABEL + scale.width;
    let (x0, x1) = (
        scale.x(c.start).max(LABEL),
        scale.x(c.start + c.length).min(right + 1.0),
    );
    if x1 <= LABEL || x0 >= right {
        return;
    }
    let (y0, h) = (top + 2.0, height - 4.0);
    let mut fill = if selected { CLIP_SELECTED } else { CLIP };
    if muted {
        fill = DIM;
    }
    if c.offline {
        fill = OFFLINE;
    }
    fill.a = alpha;
    frame.fill_rectangle(Point::new(x0, y0), Size::new((x1 - x0).max(1.0), h), fill);
    if selected {
        frame.stroke(
            &Path::rectangle(Point::new(x0, y0), Size::new((x1 - x0).max(1.0), h)),
            Stroke::default().with_color(Color::WHITE).with_width(1.5),
        );
    }
    let line = Stroke::default()
        .with_color(Color::from_rgba(1.0, 1.0, 1.0, 0.8))
        .with_width(1.0);
    let (ux0, ux1) = (scale.x(c.start), scale.x(c.start + c.length));
    if c.fade_in > 0.0 && ux0 >= LABEL {
        let xf = scale.x(c.start + c.fade_in);
        frame.stroke(
            &Path::line(Point::new(ux0, y0 + h), Point::new(xf, y0)),
            line,
        );
    }
    if c.fade_out > 0.0 && ux1 <= right + 1.0 {
        let xf = scale.x(c.start + c.length - c.fade_out);
        frame.stroke(
            &Path::line(Point::new(xf, y0), Point::new(ux1, y0 + h)),
            line,
        );
    }
    // The clip-gain handle: a short bar at the middle of the top edge.
    if x1 - x0 > 6.0 * EDGE_PX {
        let mid = (x0 + x1) / 2.0;
        frame.fill_rectangle(
            Point::new(mid - 6.0, y0 + 1.0),
            Size::new(12.0, 3.0),
            Color::from_rgba(1.0, 1.0, 1.0, 0.7),
        );
    }
    if x1 - x0 > 30.0 {
        let gain = if c.gain_db != 0.0 {
            format!(" {:+.1} dB", c.gain_db)
        } else {
            String::new()
        };
        let offline = if c.offline { " (offline)" } else { "" };
        frame.fill_text(Text {
            content: format!("{}{offline}{gain}", c.name),
            position: Point::new(x0 + 4.0, y0 + 8.0),
            color: Color::WHITE,
            size: 10.0.into(),
            ..Default::default()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> SessionView {
        let clip = |start: f64, length: f64| ClipView {
            name: "x".into(),
            source: 0,
            offset: 0.0,
            start,
            length,
            fade_in: 0.0,
            fade_out: 0.0,
            gain_db: 0.0,
            offline: false,
        };
        use super::super::state::Strip;
        SessionView {
            length_s: 10.0,
            strips: vec![
                Strip {
                    clips: vec![clip(1.0, 2.0), clip(5.0, 1.0)],
                    ..Default::default()
                },
                Strip {
                    clips: vec![clip(4.0, 3.0)],
                    ..Default::default()
                },
            ],
            markers: vec![("m".into(), 8.0)],
            ..Default::default()
        }
    }

    #[test]
    fn presses_find_clips_and_their_grips() {
        let s = session();
        let scale = Scale::of(LABEL + 1050.0, s.length_s, View::default()); // 100 px per second
        let mid = RULER + LANE * 0.5 + 5.0;
        assert_eq!(
            hit(&s, Lanes::default(), scale, Point::new(scale.x(2.0), mid)),
            Some((0, 0, Grip::Move))
        );
        assert_eq!(
            hit(
                &s,
                Lanes::default(),
                scale,
                Point::new(scale.x(1.0) + 2.0, mid)
            ),
            Some((0, 0, Grip::TrimStart))
        );
        assert_eq!(
            hit(
                &s,
                Lanes::default(),
                scale,
                Point::new(scale.x(3.0) - 2.0, mid)
            ),
            Some((0, 0, Grip::TrimEnd))
        );
        assert_eq!(
            hit(
                &s,
                Lanes::default(),
                scale,
                Point::new(scale.x(1.2), RULER + 4.0)
            ),
            Some((0, 0, Grip::FadeIn))
        );
        assert_eq!(
            hit(&s, Lanes::default(), scale, Point::new(scale.x(4.0), mid)),
            None
        );
        assert_eq!(
            hit(
                &s,
                Lanes::default(),
                scale,
                Point::new(scale.x(5.0), RULER + LANE + 15.0)
            ),
            Some((1, 0, Grip::Move))
        );
    }

    #[test]
    fn zoom_keeps_the_time_under_the_pointer_and_reaches_single_samples() {
        let whole = View::default();
        let length = 100.0;
        let z = whole.zoomed(4.0, 30.0, length, 48_000);
        let (a, b) = (
            Scale::of(1090.0, length, whole),
            Scale::of(1090.0, length, z),
        );
        assert!((a.x(30.0) - b.x(30.0)).abs() < 1e-3, "30 s stays put");
        assert!((z.span.unwrap() - 105.0 / 4.0).abs() < 1e-9);
        // All the way in: 64 samples across; all the way out: the whole session again.
        let mut v = z;
        for _ in 0..40 {
            v = v.zoomed(2.0, 30.0, length, 48_000);
        }
        assert!((v.span.unwrap() - 64.0 / 48_000.0).abs() < 1e-12);
        for _ in 0..60 {
            v = v.zoomed(0.5, 30.0, length, 48_000);
        }
        assert_eq!(v, View::default());
        // Scrolling stays inside the session.
        let s = z.scrolled(-1000.0, length);
        assert_eq!(s.start, 0.0);
        let s = z.scrolled(1000.0, length);
        assert!((s.start + s.span.unwrap() - 105.0).abs() < 1e-9);
        assert_eq!(
            whole.scrolled(5.0, length),
            whole,
            "nothing to scroll when all shows"
        );
    }

    #[test]
    fn lanes_of_different_heights_are_found_by_position() {
        let heights = [30.0, 80.0];
        let lanes = Lanes::new(&heights, 0.0);
        assert_eq!(lanes.top(1), RULER + 30.0);
        assert_eq!(lanes.total(2), RULER + 110.0);
        assert_eq!(lanes.at(RULER + 29.0, 2), Some(0));
        assert_eq!(lanes.at(RULER + 100.0, 2), Some(1));
        assert_eq!(lanes.at(RULER + 111.0, 2), None);
        assert_eq!(lanes.at(5.0, 2), None, "the ruler");
        assert_eq!(lanes.edge_at(RULER + 32.0, 2), Some(0));
        assert_eq!(lanes.edge_at(RULER + 50.0, 2), None);
        // Scrolled 40 px: lane 0 is under the ruler, lane 1 shows from RULER − 10.
        let scrolled = Lanes::new(&heights, 40.0);
        assert_eq!(scrolled.at(RULER + 5.0, 2), Some(1));
        assert_eq!(scrolled.at(RULER - 5.0, 2), None, "under the ruler");
        assert_eq!(scrolled.visible(2, 200.0), 1..2);
        let many = [LANE; 200];
        assert_eq!(Lanes::new(&many, 0.0).visible(200, RULER + 240.0), 0..8);
        assert_eq!(
            Lanes::new(&many, 3000.0).visible(200, RULER + 240.0),
            100..108
        );
        // A tall second lane: a press low in it still finds its clip.
        let s = session();
        let scale = Scale::of(LABEL + 1050.0, s.length_s, View::default());
        assert_eq!(
            hit(&s, lanes, scale, Point::new(scale.x(5.0), RULER + 100.0)),
            Some((1, 0, Grip::Move))
        );
    }

    #[test]
    fn a_rubber_band_selects_the_clips_it_touches() {
        let s = session();
        let scale = Scale::of(LABEL + 1050.0, s.length_s, View::default());
        let (a, b) = (
            Point::new(scale.x(2.5), RULER + 5.0),
            Point::new(scale.x(4.5), RULER + LANE + 5.0),
        );
        assert_eq!(
            in_band(&s, Lanes::default(), scale, a, b),
            vec![(0, 0), (1, 0)]
        );
        assert_eq!(
            in_band(&s, Lanes::default(), scale, b, a),
            vec![(0, 0), (1, 0)],
            "either direction"
        );
    }

    #[test]
    fn drags_snap_to_edges_markers_and_the_playhead() {
        let s = session();
        let scale = Scale::of(LABEL + 1050.0, s.length_s, View::default());
        // Clip 1 (1–3 s) dragged 95 px right: its end (3.95 s) snaps to the other lane's
        // clip start at 4 s, so it starts at 2.0 s.
        let g = gesture(&s, scale, (0, 0, Grip::Move), (95.0, 0.0), 0, 0.0, true).unwrap();
        assert!((g.seconds - 2.0).abs() < 1e-9, "{g:?}");
        // Without snapping it lands where it was dropped.
        let g = gesture(&s, scale, (0, 0, Grip::Move), (95.0, 0.0), 1, 0.0, false).unwrap();
        assert!((g.seconds - 1.95).abs() < 1e-9 && g.to_track == 1);
        // A trimmed end snaps to the marker at 8 s.
        let g = gesture(&s, scale, (1, 0, Grip::TrimEnd), (104.0, 0.0), 1, 0.0, true).unwrap();
        assert!((g.seconds - 8.0).abs() < 1e-9);
        // To the playhead.
        let g = gesture(
            &s,
            scale,
            (0, 1, Grip::TrimStart),
            (-47.0, 0.0),
            0,
            4.5,
            true,
        )
        .unwrap();
        assert!((g.seconds - 4.5).abs() < 1e-9);
        // Fades stay inside the clip.
        let g = gesture(&s, scale, (0, 0, Grip::FadeIn), (500.0, 0.0), 0, 0.0, true).unwrap();
        assert_eq!(g.seconds, 2.0);
        let g = gesture(&s, scale, (0, 0, Grip::FadeOut), (-30.0, 0.0), 0, 0.0, true).unwrap();
        assert!((g.seconds - 0.3).abs() < 1e-9);
        // The gain handle: 12 px up is +3 dB, with Shift +0.3 dB; a press there finds it.
        let g = gesture(&s, scale, (0, 0, Grip::Gain), (40.0, -12.0), 1, 0.0, true).unwrap();
        assert_eq!((g.seconds, g.to_track), (3.0, 0));
        let g = gesture(&s, scale, (0, 0, Grip::Gain), (0.0, -12.0), 0, 0.0, false).unwrap();
        assert!((g.seconds - 0.3).abs() < 1e-9);
        assert_eq!(
            hit(
                &s,
                Lanes::default(),
                scale,
                Point::new(scale.x(2.0), RULER + 4.0)
            ),
            Some((0, 0, Grip::Gain))
        );
    }
}
