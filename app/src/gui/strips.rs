//! The console: track and bus strips (inserts, sends, pan, fader, meters, mute and solo),
//! the master strip with its loudness readings, the insert editor, and the value controls
//! they use (faders, sliders, typed entries).

use super::console::ConsoleMessage;
use super::control::{label, Control, Taper};
use super::meters::Meters;
use super::scopes::{Drawn, LevelMeter};
use super::state::Field;
use super::state::{Message, SessionView, Strip, StripRef};
use super::style::{panel_style, AMBER, DIM, GREEN, RED};
use gpu_dsp::mix::{AutomationMode, Target};
use iced::widget::{
    button, canvas as canvas_widget, column, container, pick_list, row, text, text_input, Space,
};
use iced::{Color, Element, Length, Theme};

/// Fader travel in pixels.
pub(super) const FADER_HEIGHT: f32 = 220.0;

/// A console fader (−90…+12 dB, double-click: 0 dB).
pub(super) fn fader<'a>(
    value: f32,
    on_change: impl Fn(f32) -> Message + 'a,
) -> Element<'a, Message> {
    ridden_fader(value, on_change, None)
}

/// A track's control a hand may ride to write automation: the grab and the release of
/// track `i`'s `target` are reported to the console.
fn ride<'a>(mut c: Control<'a>, at: Option<(usize, Target)>) -> Control<'a> {
    if let Some((i, target)) = at {
        c.on_grab = Some(Box::new(move |v| {
            Message::Console(ConsoleMessage::Grab(i, target, v))
        }));
        c.on_release = Some(Message::Console(ConsoleMessage::Release(i, target)));
    }
    c
}

/// [`fader`], reporting grabs and releases of track `ride`'s fader.
fn ridden_fader<'a>(
    value: f32,
    on_change: impl Fn(f32) -> Message + 'a,
    at: Option<usize>,
) -> Element<'a, Message> {
    let control = Control {
        value,
        min: -90.0,
        max: 12.0,
        default: 0.0,
        taper: Taper::Fader,
        vertical: true,
        on_change: Box::new(on_change),
        on_grab: None,
        on_release: None,
    };
    canvas_widget(ride(control, at.map(|i| (i, Target::GainDb))))
        .width(Length::Fixed(22.0))
        .height(Length::Fixed(FADER_HEIGHT))
        .into()
}

/// A horizontal slider over (min, max, default).
pub(super) fn hslider<'a>(
    value: f32,
    range: (f32, f32, f32),
    taper: Taper,
    on_change: impl Fn(f32) -> Message + 'a,
) -> Element<'a, Message> {
    ridden_slider(value, range, taper, on_change, None)
}

/// [`hslider`], reporting grabs and releases of a track's control.
fn ridden_slider<'a>(
    value: f32,
    (min, max, default): (f32, f32, f32),
    taper: Taper,
    on_change: impl Fn(f32) -> Message + 'a,
    at: Option<(usize, Target)>,
) -> Element<'a, Message> {
    let control = Control {
        value,
        min,
        max,
        default,
        taper,
        vertical: false,
        on_change: Box::new(on_change),
        on_grab: None,
        on_release: None,
    };
    canvas_widget(ride(control, at))
        .width(Length::Fill)
        .height(Length::Fixed(14.0))
        .into()
}

/// A typed-entry field showing `shown` (or what is being typed into it).
pub(super) fn entry<'a>(
    draft: Option<&'a (Field, String)>,
    field: Field,
    shown: String,
) -> Element<'a, Message> {
    let value = match draft {
        Some((f, text)) if *f == field => text.clone(),
        _ => shown,
    };
    iced::widget::text_input("", &value)
        .on_input(move |t| Message::Console(ConsoleMessage::Draft(field.clone(), t)))
        .on_submit(Message::Console(ConsoleMessage::CommitDraft))
        .size(11)
        .padding(2)
        .width(Length::Fixed(64.0))
        .into()
}

/// Insert types the strip's list adds (a reverb needs an impulse response file:
/// `:insert TRACK reverb ir=FILE`; `duck` goes on buses).
pub(super) const TRACK_INSERTS: [&str; 7] = [
    "eq",
    "compressor",
    "gate",
    "limiter",
    "clean",
    "multiband",
    super::console::REVERB_ITEM,
];

/// Insert types a bus strip's list adds.
pub(super) const BUS_INSERTS: [&str; 6] = [
    "eq",
    "compressor",
    "gate",
    "limiter",
    "multiband",
    super::console::REVERB_ITEM,
];

/// Inserts that reduce gain and show it on a meter.
const DYNAMICS: [&str; 5] = ["compressor", "gate", "limiter", "duck", "multiband"];

/// A toggle button, coloured when on.
fn toggle<'a>(label: &'static str, on: bool, colour: Color, msg: Message) -> Element<'a, Message> {
    button(text(label).size(12))
        .on_press(msg)
        .style(move |theme: &Theme, status| {
            let mut style = button::secondary(theme, status);
            if on {
                style.background = Some(colour.into());
            }
            style
        })
        .into()
}

/// A strip's mute (amber when on) and solo (green) buttons.
fn mute_solo<'a>(
    (mute, on_mute): (bool, ConsoleMessage),
    (solo, on_solo): (bool, ConsoleMessage),
) -> Element<'a, Message> {
    row![
        toggle("M", mute, AMBER, Message::Console(on_mute)),
        toggle("S", solo, GREEN, Message::Console(on_solo)),
    ]
    .spacing(4)
    .into()
}

/// A small text button.
fn small_button<'a>(label: &'static str, msg: Message) -> button::Button<'a, Message> {
    button(text(label).size(10))
        .padding([0, 3])
        .style(button::text)
        .on_press(msg)
}

/// A strip's name (a click opens its settings) with buttons that move it left and right.
fn header<'a>(at: StripRef, name: &'a str) -> Element<'a, Message> {
    row![
        button(text(name).size(13))
            .padding(0)
            .style(button::text)
            .on_press(Message::Console(ConsoleMessage::StripMenu(at))),
        Space::new().width(Length::Fill),
        small_button("◂", Message::Console(ConsoleMessage::MoveStrip(at, -1))),
        small_button("▸", Message::Console(ConsoleMessage::MoveStrip(at, 1))),
    ]
    .align_y(iced::Alignment::Center)
    .into()
}

/// What a strip's settings offer: its name being typed, and for a track its routing.
pub(super) struct StripMenu<'a> {
    pub name: &'a str,
    pub track: Option<TrackRouting<'a>>,
}

/// A track's stem among the session's stems, and its output among the buses (`None`:
/// straight into its stem).
pub(super) struct TrackRouting<'a> {
    pub stem: &'a str,
    pub stems: &'a [String],
    pub output: Option<&'a str>,
    pub buses: &'a [String],
}

/// A strip's settings: rename (Enter), stem and output for a track, and remove.
fn strip_menu<'a>(at: StripRef, menu: StripMenu<'a>) -> Element<'a, Message> {
    let mut col = column![text_input("name", menu.name)
        .on_input(|t| Message::Console(ConsoleMessage::RenameDraft(t)))
        .on_submit(Message::Console(ConsoleMessage::CommitRename))
        .size(11)
        .padding(2)]
    .spacing(3);
    if let (
        StripRef::Track(i),
        Some(TrackRouting {
            stem,
            stems,
            output,
            buses,
        }),
    ) = (at, menu.track)
    {
        col = col.push(
            pick_list(stems.to_vec(), Some(stem.to_string()), move |s| {
                Message::Console(ConsoleMessage::SetStem(i, s))
            })
            .text_size(10)
            .padding([1, 4]),
        );
        let mut outputs = vec![DIRECT.to_string()];
        outputs.extend(buses.iter().cloned());
        col = col.push(
            pick_list(
                outputs,
                Some(output.unwrap_or(DIRECT).to_string()),
                move |o| Message::Console(ConsoleMessage::SetOutput(i, (o != DIRECT).then_some(o))),
            )
            .text_size(10)
            .padding([1, 4]),
        );
    }
    col.push(
        button(text("remove").size(10))
            .padding([1, 4])
            .style(button::danger)
            .on_press(Message::Console(ConsoleMessage::RemoveStrip(at))),
    )
    .into()
}

/// The output list's entry for a track that feeds its stem directly.
const DIRECT: &str = "→ stem (direct)";

/// A strip's inserts: the name opens the editor (dimmed when bypassed), `b` bypasses, `↑`
/// moves it up, `×` removes it; the list adds one of `kinds`.
fn insert_list<'a>(
    at: StripRef,
    inserts: &'a [String],
    bypass: &'a [bool],
    kinds: &[&str],
) -> iced::widget::Column<'a, Message> {
    let open = move |k: usize| match at {
        StripRef::Track(i) => Message::Console(ConsoleMessage::EditInsert(Some((i, k)))),
        StripRef::Bus(b) => Message::Console(ConsoleMessage::EditBusInsert(Some((b, k)))),
    };
    column(inserts.iter().enumerate().map(|(k, n)| {
        let off = bypass.get(k).copied().unwrap_or(false);
        let mut r =
            row![button(
                text(n.as_str())
                    .size(10)
                    .color(if off { DIM } else { Color::WHITE })
            )
            .padding([1, 4])
            .style(button::text)
            .on_press(open(k)),]
            .align_y(iced::Alignment::Center);
        r = r.push(Space::new().width(Length::Fill));
        r = r.push(
            button(text("b").size(10))
                .padding([0, 3])
                .on_press(Message::Console(ConsoleMessage::Bypass(at, k)))
                .style(move |theme: &Theme, status| {
                    let mut style = button::text(theme, status);
                    if off {
                        style.background = Some(AMBER.into());
                    }
                    style
                }),
        );
        if k > 0 {
            r = r.push(small_button(
                "↑",
                Message::Console(ConsoleMessage::InsertUp(at, k)),
            ));
        }
        r.push(small_button(
            "×",
            Message::Console(ConsoleMessage::RemoveInsert(at, k)),
        ))
        .into()
    }))
    .push(
        pick_list(
            kinds.iter().map(|k| k.to_string()).collect::<Vec<_>>(),
            None::<String>,
            move |kind| Message::Console(ConsoleMessage::AddInsert(at, kind)),
        )
        .placeholder("+ insert")
        .text_size(10)
        .padding([1, 4]),
    )
}

/// A gain-reduction meter (down from the top, 0 to −24 dB) when the strip has a dynamics
/// insert; nothing otherwise.
fn reduction_meter<'a>(inserts: &[String], reduction_db: f32) -> Element<'a, Message> {
    if !inserts.iter().any(|n| DYNAMICS.contains(&n.as_str())) {
        return Space::new().width(Length::Fixed(0.0)).into();
    }
    canvas_widget(Drawn(super::scopes::ReductionMeter(reduction_db)))
        .width(Length::Fixed(6.0))
        .height(Length::Fixed(FADER_HEIGHT))
        .into()
}

#[allow(clippy::too_many_arguments)]
pub(super) fn strip<'a>(
    i: usize,
    s: &'a Strip,
    buses: &'a [String],
    stems: &'a [String],
    (peak_db, rms_db, reduction_db, automated): (f32, f32, f32, Option<f32>),
    draft: Option<&'a (Field, String)>,
    menu: Option<&'a str>,
    (riding, position): (Option<(Target, f32)>, f64),
) -> Element<'a, Message> {
    // A fader that plays its automation follows the envelope (a grab is refused, shown,
    // unless the mode writes); a hand writing it shows where the hand is.
    let held = |target: Target| riding.filter(|r| r.0 == target).map(|r| r.1);
    let gain_db = held(Target::GainDb).or(automated).unwrap_or(s.gain_db);
    // An automated pan or send shows (and is grabbed at) its envelope's value there.
    let envelope = |param: &str| {
        s.lane(param)
            .filter(|_| s.automation_mode != AutomationMode::Off)
            .and_then(|l| l.value_at(position))
            .map(|v| v as f32)
    };
    let pan = held(Target::Pan).or(envelope("pan")).unwrap_or(s.pan);
    let remove = |msg: Message| small_button("×", msg);
    let inserts = insert_list(StripRef::Track(i), &s.inserts, &s.bypass, &TRACK_INSERTS);
    // Sends: level sliders; × removes; the list adds one to a bus not yet fed.
    let sends = column(s.sends.iter().enumerate().map(|(k, (b, l))| {
        if k < s.file_sends {
            column![
                row![
                    text(format!("→{b} {l:+.1}")).size(10).color(
                        if s.send_mute.get(k).copied().unwrap_or(false) {
                            AMBER
                        } else {
                            DIM
                        }
                    ),
                    Space::new().width(Length::Fill),
                    small_button("m", Message::Console(ConsoleMessage::SendMute(i, k))),
                    remove(Message::Console(ConsoleMessage::RemoveSend(i, b.clone()))),
                ],
                ridden_slider(
                    held(Target::SendDb(k))
                        .or(envelope(&format!("send.{b}")))
                        .unwrap_or(*l),
                    (-60.0, 6.0, 0.0),
                    Taper::Linear,
                    move |v| Message::Console(ConsoleMessage::SendLevel(i, k, v)),
                    Some((i, Target::SendDb(k))),
                ),
            ]
            .into()
        } else {
            text(format!("output → {b}")).size(10).color(DIM).into()
        }
    }));
    let free: Vec<String> = buses
        .iter()
        .filter(|b| !s.sends.iter().any(|(to, _)| to == *b))
        .cloned()
        .collect();
    let sends = if free.is_empty() {
        sends
    } else {
        sends.push(
            pick_list(free, None::<String>, move |bus| {
                Message::Console(ConsoleMessage::AddSend(i, bus))
            })
            .placeholder("+ send")
            .text_size(10)
            .padding([1, 4]),
        )
    };
    let output = s.sends.get(s.file_sends).map(|(b, _)| b.as_str());
    let settings: Element<'a, Message> = match menu {
        Some(name) => strip_menu(
            StripRef::Track(i),
            StripMenu {
                name,
                track: Some(TrackRouting {
                    stem: s.stem.as_str(),
                    stems,
                    output,
                    buses,
                }),
            },
        ),
        None => text(format!("stem {}", s.stem)).size(10).color(DIM).into(),
    };
    container(
        column![
            header(StripRef::Track(i), s.name.as_str()),
            settings,
            inserts,
            sends,
            text(format!("pan {pan:+.2}")).size(10),
            ridden_slider(
                pan,
                (-1.0, 1.0, 0.0),
                Taper::Linear,
                move |v| { Message::Console(ConsoleMessage::Pan(i, v)) },
                Some((i, Target::Pan))
            ),
            row![
                ridden_fader(
                    gain_db,
                    move |v| Message::Console(ConsoleMessage::Fader(i, v)),
                    Some(i)
                ),
                // RMS and (held) peak, and the gain reduction of its dynamics.
                canvas_widget(Drawn(LevelMeter(vec![rms_db, peak_db])))
                    .width(Length::Fixed(14.0))
                    .height(Length::Fixed(FADER_HEIGHT)),
                reduction_meter(&s.inserts, reduction_db),
            ]
            .spacing(6),
            entry(draft, Field::Fader(i), format!("{gain_db:+.1}")),
            // The automation mode: a click steps to the next (off, read, touch, latch,
            // write, trim); amber while it writes.
            button(
                text(s.automation_mode.name())
                    .size(10)
                    .color(mode_colour(s.automation_mode, riding.is_some()))
            )
            .padding([1, 6])
            .on_press(Message::Console(ConsoleMessage::NextMode(i))),
            if s.inserts.iter().any(|n| n == "clean") {
                Element::from(button(text("cleanup ▸").size(11)).on_press(Message::ShowCleanup(i)))
            } else {
                Space::new().height(Length::Fixed(0.0)).into()
            },
            mute_solo(
                (s.mute, ConsoleMessage::Mute(i)),
                (s.solo, ConsoleMessage::Solo(i))
            ),
        ]
        .spacing(4)
        .width(Length::Fixed(92.0)),
    )
    .padding(6)
    .style(|_| panel_style())
    .into()
}

/// A mode's colour on its strip button: dim when off, amber when it writes (red while a
/// hand writes), the text colour when it reads.
fn mode_colour(mode: AutomationMode, riding: bool) -> Color {
    match mode {
        AutomationMode::Off => DIM,
        AutomationMode::Read => Color::from_rgb(0.55, 0.85, 0.55),
        _ if riding => Color::from_rgb(1.0, 0.35, 0.3),
        _ => AMBER,
    }
}

pub(super) fn master<'a>(session: &'a SessionView, meters: &'a Meters) -> Element<'a, Message> {
    let f = meters.latest.as_ref();
    let lufs = |v: Option<f64>| v.map_or("—".to_string(), |x| format!("{x:.1}"));
    let integrated = f.and_then(|f| f.integrated);
    let on_target = integrated.map(|i| (i - session.target_lufs).abs() <= 1.0);
    let tp = f.and_then(|f| f.true_peak);
    container(
        column![
            text("MASTER").size(13),
            row![
                canvas_widget(Drawn(LevelMeter(meters.peak_db.to_vec())))
                    .width(Length::Fixed(26.0))
                    .height(Length::Fixed(170.0)),
                column![
                    text(format!("M  {}", lufs(f.and_then(|f| f.momentary)))).size(12),
                    text(format!("S  {}", lufs(f.and_then(|f| f.short_term)))).size(12),
                    text(format!("I  {}", lufs(integrated)))
                        .size(14)
                        .color(match on_target {
                            Some(true) => GREEN,
                            Some(false) => AMBER,
                            None => DIM,
                        }),
                    text(format!("LRA {}", lufs(f.and_then(|f| f.range)))).size(12),
                    text(format!("TP {}", lufs(tp))).size(12).color(
                        if tp.is_some_and(|t| t > -1.0) {
                            RED
                        } else {
                            Color::WHITE
                        }
                    ),
                    text(format!("target {:.0} LUFS", session.target_lufs))
                        .size(10)
                        .color(DIM),
                ]
                .spacing(3),
            ]
            .spacing(6),
        ]
        .spacing(6)
        .width(Length::Fixed(130.0)),
    )
    .padding(6)
    .style(|_| panel_style())
    .into()
}

/// What the insert editor shows: one insert of a strip.
pub(super) struct EditedInsert<'a> {
    pub title: String,
    pub kind: &'a str,
    pub params: &'a [super::params::Param],
    /// The kinds of its EQ bands (empty: not an EQ).
    pub eq_kinds: &'a [gpu_dsp::mix::FilterKind],
    pub rate: u32,
    pub draft: Option<&'a (Field, String)>,
    pub close: Message,
}

/// Sliders for the live-editable parameters of one insert (and an EQ's curve).
pub(super) fn insert_editor<'a>(
    insert: EditedInsert<'a>,
    on_change: impl Fn(String, f32) -> Message + Clone + 'a,
    field: impl Fn(String) -> Field + 'a,
) -> Element<'a, Message> {
    let EditedInsert {
        title,
        kind,
        params,
        eq_kinds,
        rate,
        draft,
        close,
    } = insert;
    let body: Element<'a, Message> = if params.is_empty() {
        text(format!(
            "{kind}: its settings are edited in the session file"
        ))
        .size(11)
        .color(DIM)
        .into()
    } else {
        column(params.iter().map(|p| {
            let name = p.name.clone();
            let on_change = on_change.clone();
            row![
                text(label(&p.name)).size(11).width(Length::Fixed(150.0)),
                hslider(
                    p.value,
                    (p.min, p.max, p.default),
                    Taper::from(p.skew),
                    move |v| on_change(name.clone(), v)
                ),
                entry(draft, field(p.name.clone()), format!("{:.2}", p.value)),
            ]
            .spacing(6)
            .align_y(iced::Alignment::Center)
            .into()
        }))
        .spacing(2)
        .into()
    };
    // An EQ shows its curve as its bands are set.
    let curve: Element<'a, Message> = if eq_kinds.is_empty() {
        Space::new().height(Length::Fixed(0.0)).into()
    } else {
        canvas_widget(Drawn(super::eq_curve::EqCurve {
            bands: super::eq_curve::eq_bands(eq_kinds, params),
            rate,
        }))
        .width(Length::Fill)
        .height(Length::Fixed(120.0))
        .into()
    };
    container(
        column![
            row![
                text(format!(
                    "{title} ({kind}) · drag: Shift finer, double-click default, or type a value"
                ))
                .size(12),
                Space::new().width(Length::Fill),
                button(text("close").size(11)).on_press(close),
            ]
            .align_y(iced::Alignment::Center),
            curve,
            body,
        ]
        .spacing(4),
    )
    .padding(6)
    .style(|_| panel_style())
    .into()
}

/// A bus strip: its inserts (click to edit), fader, output peak and gain-reduction meters,
/// mute and solo.
pub(super) fn bus_strip<'a>(
    b: usize,
    s: &'a super::state::BusStrip,
    (peak_db, reduction_db): (f32, f32),
    draft: Option<&'a (Field, String)>,
    menu: Option<&'a str>,
) -> Element<'a, Message> {
    let at = StripRef::Bus(b);
    let settings: Element<'a, Message> = match menu {
        Some(name) => strip_menu(at, StripMenu { name, track: None }),
        None => text("bus").size(10).color(DIM).into(),
    };
    container(
        column![
            header(at, s.name.as_str()),
            settings,
            insert_list(at, &s.inserts, &s.bypass, &BUS_INSERTS),
            row![
                fader(s.gain_db, move |v| Message::Console(
                    ConsoleMessage::BusFader(b, v)
                )),
                canvas_widget(Drawn(LevelMeter(vec![peak_db])))
                    .width(Length::Fixed(10.0))
                    .height(Length::Fixed(FADER_HEIGHT)),
                reduction_meter(&s.inserts, reduction_db),
            ]
            .spacing(6),
            entry(draft, Field::BusFader(b), format!("{:+.1}", s.gain_db)),
            mute_solo(
                (s.mute, ConsoleMessage::BusMute(b)),
                (s.solo, ConsoleMessage::BusSolo(b))
            ),
        ]
        .spacing(4)
        .width(Length::Fixed(92.0)),
    )
    .padding(6)
    .style(|_| container::Style {
        background: Some(Color::from_rgb(0.13, 0.12, 0.17).into()),
        border: iced::Border {
            radius: 4.0.into(),
            ..Default::default()
        },
        ..Default::default()
    })
    .into()
}

/// A VCA master: its name, how many tracks it leads, its fader and mute (they scale the
/// members; an automated VCA's fader plays its envelope and refuses a hand, said).
pub(super) fn vca_strip<'a>(v: usize, s: &'a super::state::VcaStrip) -> Element<'a, Message> {
    let members = match s.members.len() {
        1 => "VCA · 1 track".to_string(),
        n => format!("VCA · {n} tracks"),
    };
    container(
        column![
            text(s.name.as_str()).size(13),
            text(members).size(10).color(DIM),
            fader(s.gain_db, move |db| Message::Console(
                ConsoleMessage::VcaFader(v, db)
            )),
            text(if s.automated {
                "auto".to_string()
            } else {
                format!("{:+.1}", s.gain_db)
            })
            .size(11),
            toggle(
                "M",
                s.mute,
                AMBER,
                Message::Console(ConsoleMessage::VcaMute(v))
            ),
        ]
        .spacing(4)
        .width(Length::Fixed(92.0)),
    )
    .padding(6)
    .style(|_| container::Style {
        background: Some(Color::from_rgb(0.16, 0.13, 0.11).into()),
        border: iced::Border {
            radius: 4.0.into(),
            ..Default::default()
        },
        ..Default::default()
    })
    .into()
}
