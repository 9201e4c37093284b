//! The console panel's state and logic: which insert editor and strip settings are open,
//! a value being typed, the console's scroll, its messages, and an update that changes the
//! session's strips (faders, pan, mute, solo, sends, insert parameters, bypass: live values,
//! saved as `set` commands) or asks for edit commands (inserts, sends, routing, names,
//! order). It owns its state; the root hands it the session's strips and carries out the
//! events it returns ([`ConsoleEvent`]). Its drawing is `strips.rs`.

use super::live::Ride;
use super::state::{BusStrip, EditRequest, Effect, Field, SessionView, Strip, StripRef};
use crate::edit::{path_part, Command};
use crate::session::groups::Link;
use gpu_dsp::mix::{AutomationMode, Target};

/// The console panel.
#[derive(Clone, Debug, Default)]
pub struct ConsolePanel {
    /// The track insert whose parameters are being edited (track, insert).
    pub editing: Option<(usize, usize)>,
    /// The bus insert being edited (bus, insert).
    pub editing_bus: Option<(usize, usize)>,
    /// A value being typed, and its field.
    pub draft: Option<(Field, String)>,
    /// The strip whose settings (name, stem, output, remove) are open, and its name as
    /// being typed.
    pub strip_menu: Option<(StripRef, String)>,
    /// The console's horizontal scroll offset and visible width (pixels).
    pub view: (f32, f32),
    /// The control a hand is writing automation with: track, fader or pan, value.
    pub riding: Option<(usize, Target, f32)>,
    /// Whether the engine plays, and loops (set by the window before each update):
    /// controls write automation only while it plays, and not while it loops.
    pub playing: bool,
    pub looping: bool,
}

/// What the user does on the console.
#[derive(Clone, Debug)]
pub enum ConsoleMessage {
    Fader(usize, f32),
    Pan(usize, f32),
    /// A hand takes track i's fader or pan (at its value), and lets it go.
    Grab(usize, Target, f32),
    Release(usize, Target),
    /// Track i's automation mode steps to the next (off → read → touch → latch → write →
    /// trim → off).
    NextMode(usize),
    /// VCA v's fader and mute (they scale its member tracks).
    VcaFader(usize, f32),
    VcaMute(usize),
    Mute(usize),
    Solo(usize),
    /// Track, send, level dB.
    SendLevel(usize, usize, f32),
    /// Mute (or bring back) send k of track i.
    SendMute(usize, usize),
    /// Add a send from a track to a bus (at −10 dB), or remove it.
    AddSend(usize, String),
    RemoveSend(usize, String),
    /// Open (or close) the parameter editor of a track insert.
    EditInsert(Option<(usize, usize)>),
    /// Track, insert, parameter, value.
    InsertParam(usize, usize, String, f32),
    BusFader(usize, f32),
    BusMute(usize),
    BusSolo(usize),
    /// Open (or close) the parameter editor of a bus insert.
    EditBusInsert(Option<(usize, usize)>),
    /// Bus, insert, parameter, value.
    BusInsertParam(usize, usize, String, f32),
    /// Add an insert of a type to a strip, or remove insert k.
    AddInsert(StripRef, String),
    RemoveInsert(StripRef, usize),
    /// Bypass (or bring back) insert k of a strip.
    Bypass(StripRef, usize),
    /// Move insert k of a strip up one place.
    InsertUp(StripRef, usize),
    /// Move a strip left (−1) or right (+1) (and its lane on the timeline).
    MoveStrip(StripRef, i32),
    /// Open (or close) a strip's settings: name, stem, output, remove.
    StripMenu(StripRef),
    /// The strip's new name as it is typed; Enter renames.
    RenameDraft(String),
    CommitRename,
    /// Track i goes to this stem.
    SetStem(usize, String),
    /// Track i's output: a bus, or straight into its stem (`None`).
    SetOutput(usize, Option<String>),
    RemoveStrip(StripRef),
    AddTrack,
    AddBus,
    /// The console was scrolled: its offset and visible width (pixels).
    Scrolled(f32, f32),
    /// A value typed into a field; Enter takes it.
    Draft(Field, String),
    CommitDraft,
}

/// What the root does for the console.
#[derive(Clone, Debug, PartialEq)]
pub enum ConsoleEvent {
    /// A strip value changed: the session is unsaved (autosave it).
    Changed,
    /// For a playing engine.
    Live(Effect),
    Edit(EditRequest),
    /// Strips were reordered or removed: the timeline's selection no longer holds.
    ForgetSelection,
    /// Something typed could not be taken.
    Error(String),
    /// A reverb is wanted on a strip: choose its impulse response (the import dialog).
    ChooseImpulseResponse(StripRef),
    /// Playback restarts where it is (a new automation pass with the new modes).
    Replay,
}

/// The `+ insert` list's entry for a convolution reverb (it asks for an impulse response).
pub const REVERB_ITEM: &str = "reverb…";

fn edit(c: Command) -> Vec<ConsoleEvent> {
    vec![ConsoleEvent::Edit(EditRequest::Command(c))]
}

/// True when a strip's fader plays its automation (so a hand on it would be overridden).
fn follows_automation(strip: &Strip) -> bool {
    plays_envelope(strip, Target::GainDb)
}

/// True when track control `target` (fader, pan or send) plays an envelope.
fn plays_envelope(strip: &Strip, target: Target) -> bool {
    let automated = match target {
        Target::Pan => strip.pan_automated,
        Target::SendDb(k) => strip
            .sends
            .get(k)
            .and_then(|(bus, _)| strip.lane(&format!("send.{bus}")))
            .is_some_and(|l| !l.points.is_empty()),
        _ => strip.gain_automated,
    };
    automated && strip.automation_mode != AutomationMode::Off
}

/// The refusal of a hand on a control that plays its envelope and is not writing.
fn refusal(strip: &Strip, what: &str) -> ConsoleEvent {
    let how = if strip.automation_mode.writes() {
        "it writes while playing: start playback and ride it"
    } else {
        "click its mode (under the fader) for touch, latch, write or trim and ride it \
         while playing, or set it to off to move it by hand"
    };
    ConsoleEvent::Error(format!(
        "track '{}': its {what} plays its automation ({}); {how}",
        strip.name, strip.automation_mode
    ))
}

/// VCA `v` changed: its members hear their new VCA share at once.
fn vca_members(session: &mut SessionView, v: usize) -> Vec<ConsoleEvent> {
    session.refold_vcas();
    let members = session.vcas[v].members.clone();
    let mut events = vec![ConsoleEvent::Changed];
    for m in members {
        events.extend(
            track(session, m, |_| {})
                .into_iter()
                .filter(|e| !matches!(e, ConsoleEvent::Changed)),
        );
    }
    events
}

/// The mode after `mode` on the strip's button.
fn next_mode(mode: AutomationMode) -> AutomationMode {
    use AutomationMode as A;
    match mode {
        A::Off => A::Read,
        A::Read => A::Touch,
        A::Touch => A::Latch,
        A::Latch => A::Write,
        A::Write => A::Trim,
        A::Trim => A::Off,
    }
}

/// Changes track strip `i`; `Changed` and the engine's console values follow when it
/// exists.
fn track(
    session: &mut SessionView,
    i: usize,
    change: impl FnOnce(&mut Strip),
) -> Vec<ConsoleEvent> {
    let Some(strip) = session.strips.get_mut(i) else {
        return Vec::new();
    };
    change(strip);
    // The mix hears the fader with its VCAs' share (folded in when the session loaded).
    vec![
        ConsoleEvent::Changed,
        ConsoleEvent::Live(Effect::Console(
            i,
            strip.gain_db + strip.vca_db,
            strip.pan,
            strip.mute || strip.vca_mute,
            strip.solo,
        )),
    ]
}

/// Changes bus strip `b`; `Changed` and `live` follow when it exists.
fn bus(
    session: &mut SessionView,
    b: usize,
    change: impl FnOnce(&mut BusStrip),
    live: Effect,
) -> Vec<ConsoleEvent> {
    let Some(strip) = session.bus_strips.get_mut(b) else {
        return Vec::new();
    };
    change(strip);
    vec![ConsoleEvent::Changed, ConsoleEvent::Live(live)]
}

/// Replaces the engine's console values in `events` with `live` (only that one value
/// moved).
fn only(mut events: Vec<ConsoleEvent>, live: Effect) -> Vec<ConsoleEvent> {
    events.retain(|e| !matches!(e, ConsoleEvent::Live(Effect::Console(..))));
    events.push(ConsoleEvent::Live(live));
    events
}

/// A typed value: "−3", "-3 dB", "2.5k" (kHz).
pub fn parse_typed(text: &str) -> Option<f32> {
    let cleaned = text.trim().trim_end_matches("dB").trim().replace('−', "-");
    let (number, scale) = match cleaned.strip_suffix(['k', 'K']) {
        Some(n) => (n.trim().to_string(), 1000.0),
        None => (cleaned, 1.0),
    };
    number
        .parse::<f32>()
        .ok()
        .map(|v| v * scale)
        .filter(|v| v.is_finite())
}

impl ConsolePanel {
    /// Follows a new or edited session: the editors and settings that referred to the old
    /// one close.
    pub fn follow(&mut self) {
        self.editing = None;
        self.editing_bus = None;
        self.strip_menu = None;
    }

    /// Handles one message on `session`'s strips.
    pub fn update(
        &mut self,
        message: ConsoleMessage,
        session: &mut SessionView,
    ) -> Vec<ConsoleEvent> {
        use ConsoleMessage as M;
        match message {
            M::VcaFader(v, db) => {
                let Some(vca) = session.vcas.get_mut(v) else {
                    return Vec::new();
                };
                if vca.automated {
                    return vec![ConsoleEvent::Error(format!(
                        "VCA '{}': its fader plays its automation (folded into its members' \
                         envelopes); edit its lane or remove it to move it by hand",
                        vca.name
                    ))];
                }
                vca.gain_db = db.clamp(-90.0, 12.0);
                vca_members(session, v)
            }
            M::VcaMute(v) => {
                let Some(vca) = session.vcas.get_mut(v) else {
                    return Vec::new();
                };
                vca.mute = !vca.mute;
                vca_members(session, v)
            }
            M::Grab(i, target, v) => {
                let writes = session
                    .strips
                    .get(i)
                    .is_some_and(|s| s.automation_mode.writes());
                if !(self.playing && writes) {
                    return Vec::new();
                }
                // Not armed in the window: a VCA member (its fader plays its VCA's share
                // folded in) and anything while looping. Said, not silently dead.
                let name = &session.strips[i].name;
                if let Some(vca) = session.vcas.iter().find(|v| v.members.contains(&i)) {
                    return vec![ConsoleEvent::Error(format!(
                        "track '{name}' is in VCA '{}': its fader plays the VCA's share folded \
                         in, so its automation is not written (set its mode to read)",
                        vca.name
                    ))];
                }
                if self.looping {
                    return vec![ConsoleEvent::Error(format!(
                        "track '{name}': automation is not written while looping; turn the loop off"
                    ))];
                }
                self.riding = Some((i, target, v));
                vec![ConsoleEvent::Live(Effect::Ride(i, target, Ride::Touch(v)))]
            }
            M::Release(i, target) => match self.riding {
                Some((k, t, _)) if k == i && t == target => {
                    self.riding = None;
                    vec![ConsoleEvent::Live(Effect::Ride(i, target, Ride::Release))]
                }
                _ => Vec::new(),
            },
            M::NextMode(i) => {
                let Some(s) = session.strips.get(i) else {
                    return Vec::new();
                };
                self.riding = None;
                let mut events = edit(Command::Set {
                    path: format!("track.{}.automation_mode", path_part(&s.name)),
                    value: next_mode(s.automation_mode).name().to_string(),
                });
                // A pass arms its tracks when it starts: playback goes on with a new one.
                if self.playing {
                    events.push(ConsoleEvent::Replay);
                }
                events
            }
            M::Fader(i, db)
                if self
                    .riding
                    .is_some_and(|r| r.0 == i && r.1 == Target::GainDb) =>
            {
                let db = db.clamp(-90.0, 12.0);
                self.riding = Some((i, Target::GainDb, db));
                vec![ConsoleEvent::Live(Effect::Ride(
                    i,
                    Target::GainDb,
                    Ride::Move(db),
                ))]
            }
            M::Pan(i, p) if self.riding.is_some_and(|r| r.0 == i && r.1 == Target::Pan) => {
                let p = p.clamp(-1.0, 1.0);
                self.riding = Some((i, Target::Pan, p));
                vec![ConsoleEvent::Live(Effect::Ride(
                    i,
                    Target::Pan,
                    Ride::Move(p),
                ))]
            }
            M::Fader(i, db) => {
                let Some(strip) = session.strips.get(i) else {
                    return Vec::new();
                };
                // A fader that plays its automation is not moved by hand (it would be
                // silently overridden): the refusal is shown.
                if follows_automation(strip) {
                    return vec![refusal(strip, "fader")];
                }
                let old = strip.gain_db;
                let db = db.clamp(-90.0, 12.0);
                // A group's other faders move by the same change in dB.
                let delta = db - old;
                let mut events = track(session, i, |s| s.gain_db = db);
                for m in session.groups.linked(i, Link::Fader) {
                    if session.strips.get(m).is_some_and(follows_automation) {
                        continue;
                    }
                    events.extend(track(session, m, |s| {
                        s.gain_db = (s.gain_db + delta).clamp(-90.0, 12.0)
                    }));
                }
                events
            }
            M::Pan(i, p) => {
                match session.strips.get(i) {
                    Some(s) if plays_envelope(s, Target::Pan) => return vec![refusal(s, "pan")],
                    _ => {}
                }
                track(session, i, |s| s.pan = p.clamp(-1.0, 1.0))
            }
            M::Mute(i) => {
                let Some(on) = session.strips.get(i).map(|s| !s.mute) else {
                    return Vec::new();
                };
                let mut events = track(session, i, |s| s.mute = on);
                for m in session.groups.linked(i, Link::Mute) {
                    events.extend(track(session, m, |s| s.mute = on));
                }
                events
            }
            M::Solo(i) => {
                let Some(on) = session.strips.get(i).map(|s| !s.solo) else {
                    return Vec::new();
                };
                let mut events = track(session, i, |s| s.solo = on);
                for m in session.groups.linked(i, Link::Solo) {
                    events.extend(track(session, m, |s| s.solo = on));
                }
                events
            }
            M::SendLevel(i, k, db)
                if self
                    .riding
                    .is_some_and(|r| r.0 == i && r.1 == Target::SendDb(k)) =>
            {
                let db = db.clamp(-90.0, 12.0);
                self.riding = Some((i, Target::SendDb(k), db));
                vec![ConsoleEvent::Live(Effect::Ride(
                    i,
                    Target::SendDb(k),
                    Ride::Move(db),
                ))]
            }
            M::SendLevel(i, k, db) => {
                let db = db.clamp(-90.0, 12.0);
                // The route to a bus (the send after the file's own) is fixed at 0 dB.
                let editable = session.strips.get(i).is_some_and(|s| k < s.file_sends);
                if !editable {
                    return Vec::new();
                }
                let strip = &session.strips[i];
                if plays_envelope(strip, Target::SendDb(k)) {
                    return vec![refusal(strip, "send")];
                }
                let events = track(session, i, |s| s.sends[k].1 = db);
                only(events, Effect::SendLevel(i, k, db))
            }
            M::SendMute(i, k) => {
                let Some(&muted) = session.strips.get(i).and_then(|s| s.send_mute.get(k)) else {
                    return Vec::new();
                };
                let events = track(session, i, |s| s.send_mute[k] = !muted);
                only(events, Effect::SendMute(i, k, !muted))
            }
            M::AddSend(t, to) => match session.strips.get(t) {
                Some(s) => edit(Command::Send {
                    from: s.name.clone(),
                    bus: to,
                    level_db: -10.0,
                }),
                None => Vec::new(),
            },
            M::RemoveSend(t, to) => match session.strips.get(t) {
                Some(s) => edit(Command::RemoveSend {
                    from: s.name.clone(),
                    bus: to,
                }),
                None => Vec::new(),
            },
            M::EditInsert(target) => {
                let valid = target.is_none_or(|(i, k)| {
                    session.strips.get(i).is_some_and(|s| k < s.inserts.len())
                });
                if valid {
                    self.editing = target;
                    if target.is_some() {
                        self.editing_bus = None;
                    }
                }
                Vec::new()
            }
            M::InsertParam(i, k, name, value) => {
                let mut done = None;
                let events = track(session, i, |s| {
                    let param = s
                        .insert_params
                        .get_mut(k)
                        .and_then(|ps| ps.iter_mut().find(|p| p.name == name));
                    if let Some(p) = param {
                        p.value = value.clamp(p.min, p.max);
                        done = Some((p.id, p.value));
                    }
                });
                match done {
                    Some((id, value)) => only(events, Effect::InsertParam(i, k, id, value)),
                    None => Vec::new(),
                }
            }
            M::BusFader(b, db) => {
                let db = db.clamp(-90.0, 12.0);
                bus(session, b, |s| s.gain_db = db, Effect::BusGain(b, db))
            }
            M::BusMute(b) => {
                let muted = session.bus_strips.get(b).is_some_and(|s| !s.mute);
                bus(session, b, |s| s.mute = muted, Effect::BusMute(b, muted))
            }
            M::BusSolo(b) => {
                let solo = session.bus_strips.get(b).is_some_and(|s| !s.solo);
                bus(session, b, |s| s.solo = solo, Effect::BusSolo(b, solo))
            }
            M::EditBusInsert(target) => {
                let valid = target.is_none_or(|(b, k)| {
                    session
                        .bus_strips
                        .get(b)
                        .is_some_and(|s| k < s.inserts.len())
                });
                if valid {
                    self.editing_bus = target;
                    if target.is_some() {
                        self.editing = None;
                    }
                }
                Vec::new()
            }
            M::BusInsertParam(b, k, name, value) => {
                let current = session.bus_strips.get(b).and_then(|s| {
                    let p = s.insert_params.get(k)?.iter().find(|p| p.name == name)?;
                    Some((p.id, value.clamp(p.min, p.max)))
                });
                let Some((id, value)) = current else {
                    return Vec::new();
                };
                let live = Effect::BusInsertParam(b, k, id, value);
                let change = |s: &mut BusStrip| {
                    if let Some(p) = s.insert_params[k].iter_mut().find(|p| p.name == name) {
                        p.value = value;
                    }
                };
                bus(session, b, change, live)
            }
            M::AddInsert(at, kind) if kind == REVERB_ITEM => {
                vec![ConsoleEvent::ChooseImpulseResponse(at)]
            }
            M::AddInsert(at, kind) => {
                let Some(target) = session.strip_name(at).map(str::to_string) else {
                    return Vec::new();
                };
                // An EQ starts with one flat bell to shape; the rest with their defaults.
                let params = if kind == "eq" {
                    vec![(
                        "bands".to_string(),
                        "[{type=\"bell\", freq=1000.0, gain_db=0.0, q=1.0}]".to_string(),
                    )]
                } else {
                    Vec::new()
                };
                edit(Command::Insert {
                    target,
                    kind,
                    params,
                })
            }
            M::RemoveInsert(at, k) => match session.strip_name(at).map(str::to_string) {
                Some(target) => {
                    self.follow();
                    edit(Command::RemoveInsert {
                        target,
                        number: k + 1,
                    })
                }
                None => Vec::new(),
            },
            M::InsertUp(at, k) => match session.strip_name(at).map(str::to_string) {
                Some(target) if k > 0 => {
                    self.follow();
                    edit(Command::MoveInsert {
                        target,
                        from: k + 1,
                        to: k,
                    })
                }
                _ => Vec::new(),
            },
            M::MoveStrip(at, by) => {
                let Some(name) = session.strip_name(at).map(str::to_string) else {
                    return Vec::new();
                };
                let (kind, index, count) = match at {
                    StripRef::Track(i) => ("track", i, session.strips.len()),
                    StripRef::Bus(b) => ("bus", b, session.bus_strips.len()),
                };
                let to = index as i64 + i64::from(by);
                if to < 0 || to >= count as i64 {
                    return Vec::new();
                }
                self.follow();
                let mut events = vec![ConsoleEvent::ForgetSelection];
                events.extend(edit(Command::Reorder {
                    kind,
                    name,
                    to: to as usize + 1,
                }));
                events
            }
            M::Bypass(at, k) => match at {
                StripRef::Track(i) => {
                    let mut now = None;
                    let events = track(session, i, |s| {
                        if let Some(b) = s.bypass.get_mut(k) {
                            *b = !*b;
                            now = Some(*b);
                        }
                    });
                    match now {
                        Some(on) => only(events, Effect::Bypass(at, k, on)),
                        None => Vec::new(),
                    }
                }
                StripRef::Bus(b) => {
                    let on = session.bus_strips.get(b).and_then(|s| s.bypass.get(k));
                    let Some(&on) = on else {
                        return Vec::new();
                    };
                    bus(
                        session,
                        b,
                        |s| s.bypass[k] = !on,
                        Effect::Bypass(at, k, !on),
                    )
                }
            },
            M::StripMenu(at) => {
                let open = self.strip_menu.as_ref().is_some_and(|(m, _)| *m == at);
                self.strip_menu = match session.strip_name(at).map(str::to_string) {
                    Some(name) if !open => Some((at, name)),
                    _ => None,
                };
                Vec::new()
            }
            M::RenameDraft(text) => {
                if let Some((_, draft)) = &mut self.strip_menu {
                    *draft = text;
                }
                Vec::new()
            }
            M::CommitRename => {
                let Some((at, new)) = self.strip_menu.take() else {
                    return Vec::new();
                };
                let new = new.trim().to_string();
                match session.strip_name(at).map(str::to_string) {
                    Some(old) if old != new && !new.is_empty() => edit(match at {
                        StripRef::Track(_) => Command::RenameTrack { old, new },
                        StripRef::Bus(_) => Command::RenameBus { old, new },
                    }),
                    _ => Vec::new(),
                }
            }
            M::SetStem(i, stem) => match session.strips.get(i) {
                Some(s) => edit(Command::Set {
                    path: format!("track.{}.stem", path_part(&s.name)),
                    value: stem,
                }),
                None => Vec::new(),
            },
            M::SetOutput(i, to) => match session.strips.get(i) {
                Some(s) => edit(Command::Route {
                    track: s.name.clone(),
                    bus: to,
                }),
                None => Vec::new(),
            },
            M::RemoveStrip(at) => {
                let Some(name) = session.strip_name(at).map(str::to_string) else {
                    return Vec::new();
                };
                self.follow();
                let command = match at {
                    StripRef::Track(_) => Command::RemoveTrack(name),
                    StripRef::Bus(_) => Command::RemoveBus(name),
                };
                let mut events = vec![ConsoleEvent::ForgetSelection];
                events.extend(edit(command));
                events
            }
            M::AddTrack | M::AddBus => {
                let is_bus = matches!(message, M::AddBus);
                let taken = |n: &str| {
                    session.strips.iter().any(|s| s.name == n)
                        || session.bus_strips.iter().any(|s| s.name == n)
                };
                let prefix = if is_bus { "bus " } else { "track " };
                let name = super::state::free_name(prefix, taken);
                edit(if is_bus {
                    Command::AddBus(name)
                } else {
                    Command::AddTrack { name, stem: None }
                })
            }
            M::Scrolled(offset, width) => {
                self.view = (offset, width);
                Vec::new()
            }
            M::Draft(field, text) => {
                self.draft = Some((field, text));
                Vec::new()
            }
            M::CommitDraft => {
                let Some((field, text)) = self.draft.take() else {
                    return Vec::new();
                };
                let Some(v) = parse_typed(&text) else {
                    return vec![ConsoleEvent::Error(format!("\"{text}\" is not a number"))];
                };
                let next = match field {
                    Field::Fader(i) => M::Fader(i, v),
                    Field::BusFader(b) => M::BusFader(b, v),
                    Field::Param(i, k, name) => M::InsertParam(i, k, name, v),
                    Field::BusParam(b, k, name) => M::BusInsertParam(b, k, name, v),
                };
                self.update(next, session)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_values_are_read_as_a_mixer_writes_them() {
        assert_eq!(parse_typed("−3"), Some(-3.0));
        assert_eq!(parse_typed(" -6.5 dB "), Some(-6.5));
        assert_eq!(parse_typed("2.5k"), Some(2500.0));
        assert_eq!(parse_typed("loud"), None);
        assert_eq!(parse_typed("inf"), None);
    }
}
