//! The timeline panel's state and logic: what it shows (zoom, ruler, lane heights and
//! scroll), the clip selection and the loop range, its messages, and an update that turns
//! gestures and keys into edit commands. It owns its state; the root hands it the session and
//! the playhead and carries out the event it returns ([`TimelineEvent`]). The canvas that
//! draws it and works out what a drag means is `timeline.rs`.

use super::state::{ClipView, EditRequest, SessionView};
use super::timeline::{Gesture, Grip, Lanes, RulerMode, View, LANE, LANE_MAX, LANE_MIN, RULER};
use crate::edit::{ClipRef, Command};
use std::collections::HashMap;

/// The timeline panel.
#[derive(Clone, Debug, Default)]
pub struct TimelinePanel {
    /// The selected clips (track, index in timeline order).
    pub selected: Vec<(usize, usize)>,
    /// What part of the session shows.
    pub view: View,
    /// How the ruler and the clock count.
    pub ruler: RulerMode,
    /// The loop range's start and end (seconds), and whether playback loops over it.
    pub loop_in: Option<f64>,
    pub loop_out: Option<f64>,
    pub looping: bool,
    /// Lane heights set by the user, by track name (they follow a track that moves).
    pub heights_by_name: HashMap<String, f32>,
    /// Each lane's height, top to bottom (from `heights_by_name`).
    pub lane_heights: Vec<f32>,
    /// How far the lanes are scrolled up under the ruler (pixels).
    pub lane_scroll: f32,
    /// The marker picked on the ruler (its index) and its name as being typed.
    pub marker: Option<(usize, String)>,
    /// Under each track, the parameters with an automation lane of their own (indices
    /// into its strip's `lanes`), and how many.
    pub sub_lanes: Vec<Vec<usize>>,
    pub sub_counts: Vec<usize>,
    /// Selected automation points: track, lane (index into its strip's `lanes`), times.
    pub points: Option<(usize, usize, Vec<f64>)>,
}

/// What the user does on the timeline.
#[derive(Clone, Debug)]
pub enum TimelineMessage {
    /// Select one clip (`None`: clear the selection); a clip already selected keeps the
    /// selection (for its drag).
    SelectClip(Option<(usize, usize)>),
    /// Add a clip to the selection or take it out (Shift+click).
    ToggleClip((usize, usize)),
    /// Select exactly these clips (a rubber band).
    SelectClips(Vec<(usize, usize)>),
    /// A click on no clip: locate there and clear the selection.
    LocateAndDeselect(f64),
    /// A finished drag on a clip.
    ClipGesture(Gesture),
    SplitAtPlayhead,
    DeleteClip,
    DuplicateClip,
    /// Nudge the selected clips by seconds.
    Nudge(f64),
    /// Change the selected clips' gain by dB.
    ClipGainStep(f64),
    /// A marker at the playhead.
    AddMarker,
    /// A point added to an automation lane (track, lane, seconds, value), or removed
    /// (track, lane, its time).
    AutomationPoint(usize, usize, f64, f64),
    RemoveAutomationPoint(usize, usize, f64),
    /// A point dragged by (seconds, value): with the other selected points of its lane
    /// when it is one of them (track, lane, its time, dt, dv).
    MovePoints(usize, usize, f64, f64, f64),
    /// Select these points of a lane (a band drawn on it).
    SelectPoints(usize, usize, Vec<f64>),
    /// A lane switches between linear and step.
    ToggleShape(usize, usize),
    /// Show this part of the session.
    View(View),
    /// Zoom by a factor around the playhead.
    ZoomAround(f64),
    /// The whole session.
    ZoomFit,
    CycleRuler,
    LoopIn,
    LoopOut,
    ToggleLoop,
    /// Scroll the lanes by pixels (down is positive).
    LaneScroll(f32),
    /// Set lane k's height (pixels).
    LaneHeight(usize, f32),
    /// Scale the lanes of the selected clips' tracks (all when none is selected).
    LaneHeights(f32),
    /// The playhead to the previous (−1) or next (+1) marker.
    JumpMarker(i32),
    /// A marker's flag was clicked (the playhead goes there, its name can be edited), or
    /// the marker bar closed.
    PickMarker(Option<usize>),
    /// The picked marker's new name as it is typed; Enter renames it.
    MarkerName(String),
    RenameMarker,
    RemoveMarker,
}

/// What the root does for the timeline.
#[derive(Clone, Debug, PartialEq)]
pub enum TimelineEvent {
    Edit(EditRequest),
    Locate(f64),
    /// The loop range changed (a playing engine restarts with it).
    LoopChanged,
}

/// Track `track`'s name and its automation lane `k`.
fn lane_of(
    session: &SessionView,
    track: usize,
    k: usize,
) -> Option<(&str, &super::state::LaneParam)> {
    let strip = session.strips.get(track)?;
    Some((strip.name.as_str(), strip.lanes.get(k)?))
}

/// The edit that replaces lane `param` of `strip` with `points` (or clears it).
fn lane_points(strip: &str, param: &str, points: &[(f64, f64)]) -> Option<TimelineEvent> {
    use crate::edit::LaneEdit;
    let edit = if points.is_empty() {
        LaneEdit::Clear(None)
    } else {
        LaneEdit::Points(
            points
                .iter()
                .map(|&(t, v)| (format!("{t:.9}"), v))
                .collect(),
        )
    };
    Some(TimelineEvent::Edit(EditRequest::Command(
        Command::Automation {
            strip: strip.to_string(),
            param: param.to_string(),
            edit,
        },
    )))
}

/// Seconds as an edit command writes them (nanosecond precision, no float noise).
pub fn seconds_text(s: f64) -> String {
    crate::edit::document::tidy(s.max(0.0)).to_string()
}

/// A signed duration as an edit command writes it.
fn seconds_text_signed(s: f64) -> String {
    crate::edit::document::tidy(s).to_string()
}

impl TimelinePanel {
    /// The range playback loops over, when looping is on and the range is set.
    pub fn loop_range(&self) -> Option<(f64, f64)> {
        match (self.looping, self.loop_in, self.loop_out) {
            (true, Some(a), Some(b)) if b > a => Some((a, b)),
            _ => None,
        }
    }

    /// Follows a new or edited session: lane heights by name, the scroll and the selection
    /// kept within it.
    pub fn follow(&mut self, session: &SessionView) {
        self.sub_lanes = super::auto_lanes::sub_lanes(session);
        self.sub_counts = self.sub_lanes.iter().map(Vec::len).collect();
        if let Some((t, k, times)) = &mut self.points {
            let points = session
                .strips
                .get(*t)
                .and_then(|s| s.lanes.get(*k))
                .map(|l| &l.points);
            times.retain(|x| points.is_some_and(|p| p.iter().any(|q| (q.0 - *x).abs() < 1e-9)));
            if times.is_empty() {
                self.points = None;
            }
        }
        self.lane_heights = session
            .strips
            .iter()
            .map(|s| self.heights_by_name.get(&s.name).copied().unwrap_or(LANE))
            .collect();
        self.lane_scroll = self.lane_scroll.min(self.most_scroll());
        self.selected
            .retain(|&(t, i)| session.strips.get(t).is_some_and(|s| i < s.clips.len()));
        if self
            .marker
            .as_ref()
            .is_some_and(|(k, _)| *k >= session.markers.len())
        {
            self.marker = None;
        }
    }

    /// The furthest the lanes scroll: the last lane up to the ruler.
    fn most_scroll(&self) -> f32 {
        let lanes = Lanes::new(&self.lane_heights, 0.0).with_subs(&self.sub_counts);
        let last = self.lane_heights.last().copied().unwrap_or(0.0);
        (lanes.total(self.lane_heights.len()) - RULER - last).max(0.0)
    }

    /// Handles one message for `session` with the playhead at `position`.
    pub fn update(
        &mut self,
        message: TimelineMessage,
        session: &SessionView,
        position: f64,
    ) -> Option<TimelineEvent> {
        use TimelineMessage as M;
        let edit = |c: Command| Some(TimelineEvent::Edit(EditRequest::Command(c)));
        match message {
            M::SelectClip(clip) if clip.is_some() => {
                self.points = None;
                let c = clip?;
                if !self.selected.contains(&c) {
                    self.selected = vec![c];
                }
            }
            M::SelectClip(clip) => match clip {
                Some(c) if self.selected.contains(&c) => {}
                Some(c) => self.selected = vec![c],
                None => self.selected.clear(),
            },
            M::ToggleClip(c) => match self.selected.iter().position(|&s| s == c) {
                Some(k) => {
                    self.selected.remove(k);
                }
                None => self.selected.push(c),
            },
            M::SelectClips(clips) => self.selected = clips,
            M::LocateAndDeselect(t) => {
                self.selected.clear();
                self.points = None;
                return Some(TimelineEvent::Locate(t));
            }
            M::ClipGesture(g) => return self.gesture(g, session, position),
            M::SplitAtPlayhead => {
                return self.clip_command(session, position, |clip, _| Command::Split {
                    clip,
                    at: String::new(),
                })
            }
            M::DeleteClip if self.points.is_some() => {
                // Selected automation points go first (the clips stay).
                let (track, k, times) = self.points.take()?;
                let (strip, lane) = lane_of(session, track, k)?;
                let kept: Vec<(f64, f64)> = lane
                    .points
                    .iter()
                    .filter(|p| !times.iter().any(|t| (t - p.0).abs() < 1e-9))
                    .copied()
                    .collect();
                return lane_points(strip, &lane.param, &kept);
            }
            M::DeleteClip => {
                let event = self.clip_command(session, position, |clip, _| Command::Delete(clip));
                self.selected.clear();
                return event;
            }
            M::DuplicateClip => {
                return self.clip_command(session, position, |clip, c| Command::Duplicate {
                    clip,
                    to: seconds_text(c.start + c.length),
                })
            }
            M::Nudge(by) => {
                return self.clip_command(session, position, |clip, _| Command::Move {
                    clip,
                    to: None,
                    by: Some(seconds_text_signed(by)),
                    track: None,
                })
            }
            M::ClipGainStep(db) => {
                return self.clip_command(session, position, |clip, c| Command::Gain {
                    clip,
                    db: (f64::from(c.gain_db) + db).clamp(-60.0, 24.0),
                })
            }
            M::AddMarker => {
                let name =
                    super::state::free_name("M", |n| session.markers.iter().any(|(m, _)| m == n));
                return edit(Command::Marker {
                    name,
                    at: seconds_text(position),
                });
            }
            M::AutomationPoint(track, k, at, value) => {
                let (strip, lane) = lane_of(session, track, k)?;
                return edit(Command::Automation {
                    strip: strip.to_string(),
                    param: lane.param.clone(),
                    edit: crate::edit::LaneEdit::Add {
                        at: seconds_text(at),
                        value: lane.rounded(value),
                    },
                });
            }
            M::RemoveAutomationPoint(track, k, at) => {
                let (strip, lane) = lane_of(session, track, k)?;
                let at = seconds_text(at);
                self.points = None;
                return edit(Command::Automation {
                    strip: strip.to_string(),
                    param: lane.param.clone(),
                    edit: crate::edit::LaneEdit::Clear(Some((at.clone(), at))),
                });
            }
            M::MovePoints(track, k, grabbed, dt, dv) => {
                let (strip, lane) = lane_of(session, track, k)?;
                let moved = match &self.points {
                    Some((t, l, times))
                        if (*t, *l) == (track, k)
                            && times.iter().any(|x| (x - grabbed).abs() < 1e-9) =>
                    {
                        times.clone()
                    }
                    _ => vec![grabbed],
                };
                let points = super::auto_lanes::dragged(lane, &moved, dt, dv);
                // The moved points stay selected where they landed.
                let landed = moved
                    .iter()
                    .map(|t| crate::edit::document::tidy((t + dt).max(0.0)))
                    .collect();
                self.points = Some((track, k, landed));
                return lane_points(strip, &lane.param, &points);
            }
            M::SelectPoints(track, k, times) => {
                self.selected.clear();
                self.points = (!times.is_empty()).then_some((track, k, times));
            }
            M::ToggleShape(track, k) => {
                let (strip, lane) = lane_of(session, track, k)?;
                if lane.points.is_empty() {
                    return None;
                }
                let shape = if lane.step { "linear" } else { "step" };
                return edit(Command::Automation {
                    strip: strip.to_string(),
                    param: lane.param.clone(),
                    edit: crate::edit::LaneEdit::Shape(shape.into()),
                });
            }
            M::View(v) => self.view = v,
            M::ZoomAround(factor) => {
                self.view = self
                    .view
                    .zoomed(factor, position, session.length_s, session.rate)
            }
            M::ZoomFit => self.view = View::default(),
            M::CycleRuler => self.ruler = self.ruler.next(),
            M::LoopIn | M::LoopOut | M::ToggleLoop => {
                let before = self.loop_range();
                match message {
                    M::LoopIn => self.loop_in = Some(position),
                    M::LoopOut => self.loop_out = Some(position),
                    _ => self.looping = !self.looping,
                }
                if self.loop_range() != before {
                    return Some(TimelineEvent::LoopChanged);
                }
            }
            M::LaneScroll(by) => {
                self.lane_scroll = (self.lane_scroll + by).clamp(0.0, self.most_scroll())
            }
            M::LaneHeight(k, h) => {
                if let Some(s) = session.strips.get(k) {
                    let h = h.clamp(LANE_MIN, LANE_MAX);
                    self.heights_by_name.insert(s.name.clone(), h);
                    self.follow(session);
                }
            }
            M::LaneHeights(factor) => {
                let tracks: Vec<usize> = if self.selected.is_empty() {
                    (0..session.strips.len()).collect()
                } else {
                    self.selected.iter().map(|&(t, _)| t).collect()
                };
                for s in tracks.iter().filter_map(|&t| session.strips.get(t)) {
                    let h = self.heights_by_name.get(&s.name).copied().unwrap_or(LANE);
                    let h = (h * factor).clamp(LANE_MIN, LANE_MAX);
                    self.heights_by_name.insert(s.name.clone(), h);
                }
                self.follow(session);
            }
            M::JumpMarker(direction) => {
                let times = session.markers.iter().map(|(_, t)| *t);
                let target = if direction < 0 {
                    times
                        .filter(|t| *t < position - 1e-6)
                        .max_by(f64::total_cmp)
                } else {
                    times
                        .filter(|t| *t > position + 1e-6)
                        .min_by(f64::total_cmp)
                };
                return target.map(TimelineEvent::Locate);
            }
            M::PickMarker(Some(k)) => {
                let (name, at) = session.markers.get(k)?;
                self.marker = Some((k, name.clone()));
                return Some(TimelineEvent::Locate(*at));
            }
            M::PickMarker(None) => self.marker = None,
            M::MarkerName(text) => {
                if let Some((_, draft)) = &mut self.marker {
                    *draft = text;
                }
            }
            M::RenameMarker => {
                let (k, new) = self.marker.take()?;
                let old = &session.markers.get(k)?.0;
                let new = new.trim();
                if new.is_empty() || new == old {
                    return None;
                }
                return edit(Command::Set {
                    path: format!("marker.{}.name", crate::edit::path_part(old)),
                    value: new.to_string(),
                });
            }
            M::RemoveMarker => {
                let (k, _) = self.marker.take()?;
                let name = session.markers.get(k)?.0.clone();
                return edit(Command::RemoveMarker(name));
            }
        }
        None
    }

    /// A finished drag: a move (of the whole selection, when one of several selected clips
    /// moved in time), a trim or a fade.
    fn gesture(
        &mut self,
        g: Gesture,
        session: &SessionView,
        position: f64,
    ) -> Option<TimelineEvent> {
        let clip = clip_ref(session, (g.track, g.clip))?;
        let at = seconds_text(g.seconds);
        let together = g.grip == Grip::Move
            && g.to_track == g.track
            && self.selected.len() > 1
            && self.selected.contains(&(g.track, g.clip));
        if together {
            let start = session.strips[g.track].clips[g.clip].start;
            let by = g.seconds - start;
            return self.clip_command(session, position, |clip, _| Command::Move {
                clip,
                to: None,
                by: Some(seconds_text_signed(by)),
                track: None,
            });
        }
        let command = match g.grip {
            Grip::Move => {
                let track = (g.to_track != g.track)
                    .then(|| session.strips.get(g.to_track).map(|s| s.name.clone()))
                    .flatten();
                self.selected = if track.is_some() {
                    Vec::new()
                } else {
                    vec![(g.track, g.clip)]
                };
                Command::Move {
                    clip,
                    to: Some(at),
                    by: None,
                    track,
                }
            }
            Grip::TrimStart => Command::Trim {
                clip,
                start: Some(at),
                end: None,
            },
            Grip::TrimEnd => Command::Trim {
                clip,
                start: None,
                end: Some(at),
            },
            Grip::Gain => Command::Gain {
                clip,
                db: crate::edit::document::tidy(g.seconds),
            },
            Grip::FadeIn | Grip::FadeOut => Command::Fade {
                clip,
                fade_in: (g.grip == Grip::FadeIn).then(|| at.clone()),
                fade_out: (g.grip == Grip::FadeOut).then_some(at),
                shape: None,
            },
        };
        Some(TimelineEvent::Edit(EditRequest::Command(command)))
    }

    /// The same edit of every selected clip, as one undo step (nothing when none is
    /// selected). Clips are taken from the last on each track backwards (so the numbers of
    /// those still to come do not change), except for moves to the left, which go forwards.
    /// A split's time is the playhead; it splits the selected clips under it.
    fn clip_command(
        &self,
        session: &SessionView,
        position: f64,
        make: impl Fn(ClipRef, &ClipView) -> Command,
    ) -> Option<TimelineEvent> {
        let mut order = self.selected.clone();
        order.sort_unstable();
        order.dedup();
        order.reverse();
        let mut commands: Vec<Command> = Vec::new();
        for (t, i) in order {
            let (Some(clip), Some(view)) = (
                clip_ref(session, (t, i)),
                session.strips.get(t).and_then(|s| s.clips.get(i)),
            ) else {
                continue;
            };
            let mut command = make(clip, view);
            if let Command::Split { at, .. } = &mut command {
                if position <= view.start || position >= view.start + view.length {
                    continue;
                }
                *at = seconds_text(position);
            }
            commands.push(command);
        }
        if commands
            .iter()
            .any(|c| matches!(c, Command::Move { by: Some(b), .. } if b.starts_with('-')))
        {
            commands.reverse();
        }
        match commands.len() {
            0 => None,
            1 => Some(TimelineEvent::Edit(EditRequest::Command(
                commands.remove(0),
            ))),
            _ => Some(TimelineEvent::Edit(EditRequest::Commands(commands))),
        }
    }
}

/// The `TRACK:N` of clip `index` of track `track`.
fn clip_ref(session: &SessionView, (track, index): (usize, usize)) -> Option<ClipRef> {
    let strip = session.strips.get(track)?;
    (index < strip.clips.len()).then(|| ClipRef {
        track: strip.name.clone(),
        number: index + 1,
    })
}
