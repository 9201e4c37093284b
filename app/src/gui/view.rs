//! The window's layout: transport bar, the shortcut map, the export panel, the timeline,
//! the console (`strips.rs`), the spectrograms (`spectra.rs`) and the scopes (`scopes.rs`).
//! Views only read the state; the canvases only draw what the engine measured.

use super::arrange::TimelineMessage;
use super::console::ConsoleMessage;
use super::meters::FLOOR_DB;
use super::scopes::{
    BandCorrelation, Drawn, FrequencyBalance, Goniometer, MaskingView, SurroundField,
};
use super::spectra::{cleanup_panel, spectrum_panel};
use super::state::Field;
use super::state::{Message, StripRef, Workstation};
use super::strips::{bus_strip, insert_editor, master, strip, EditedInsert};
use super::style::{panel_style, AMBER, DIM, RED};
use super::timeline::{self, Timeline};
use iced::widget::{
    button, canvas as canvas_widget, column, container, row, scrollable, text, Space,
};
use iced::{Element, Length};

/// The whole window.
pub fn view<'a>(ws: &'a Workstation, note: Option<&'a str>) -> Element<'a, Message> {
    let mut page = column![transport(ws, note)].spacing(8).padding(10);
    if let Some(e) = &ws.error {
        page = page.push(
            container(
                row![
                    text(format!("⚠ {e}")).size(14).color(RED),
                    Space::new().width(Length::Fill),
                    button(text("Dismiss").size(12)).on_press(Message::DismissError),
                ]
                .spacing(10),
            )
            .padding(8)
            .style(|_| panel_style()),
        );
    }
    let Some(session) = &ws.session else {
        let what = match &ws.opening {
            Some(p) => format!("Opening {} …", p.display()),
            None => "No session open. Run `mixstation open SESSION.toml`.".into(),
        };
        return page.push(text(what).size(16)).into();
    };
    if ws.help {
        page = page.push(help_panel());
    }
    if let Some((browser, _)) = &ws.browser {
        page = page.push(
            container(browser.view().map(Message::Browser))
                .padding(8)
                .style(|_| panel_style()),
        );
    }
    if let Some(panel) = &ws.export {
        page = page.push(
            container(panel.view().map(Message::Export))
                .padding(8)
                .style(|_| panel_style()),
        );
    }
    if !session.offline.is_empty() {
        let names: Vec<String> = session
            .offline
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        page = page.push(
            text(format!(
                "⚠ offline (silent until relinked): {} — relink by typing `:relink OLD NEW` in the import field",
                names.join(", ")
            ))
            .size(13)
            .color(AMBER),
        );
    }
    // The lanes scroll inside the canvas (the wheel), so only those in view are drawn: up
    // to eight lanes show at once, or 320 pixels of them.
    let lanes = session.strips.len().max(1);
    let layout =
        timeline::Lanes::new(&ws.timeline.lane_heights, 0.0).with_subs(&ws.timeline.sub_counts);
    let shown = layout
        .total(lanes.min(8))
        .max(layout.total(lanes).min(timeline::RULER + 320.0));
    let timeline = canvas_widget(Timeline {
        session,
        position: ws.position,
        selected: &ws.timeline.selected,
        view: ws.timeline.view,
        ruler: ws.timeline.ruler,
        loop_range: (
            ws.timeline.loop_in,
            ws.timeline.loop_out,
            ws.timeline.looping,
        ),
        heights: &ws.timeline.lane_heights,
        lane_scroll: ws.timeline.lane_scroll,
        sub_lanes: &ws.timeline.sub_lanes,
        sub_counts: &ws.timeline.sub_counts,
        points: ws.timeline.points.as_ref(),
    })
    .width(Length::Fill)
    .height(Length::Fixed(shown));
    // A marker picked on the ruler: its name (Enter renames it) and remove.
    if let Some((k, name)) = &ws.timeline.marker {
        let at = session.markers.get(*k).map_or(0.0, |(_, t)| *t);
        let tm = |m: TimelineMessage| Message::Timeline(m);
        page = page.push(
            row![
                text(format!(
                    "marker at {}",
                    ws.timeline.ruler.format(at, session)
                ))
                .size(12),
                iced::widget::text_input("name", name)
                    .on_input(move |t| tm(TimelineMessage::MarkerName(t)))
                    .on_submit(tm(TimelineMessage::RenameMarker))
                    .size(12)
                    .width(Length::Fixed(200.0)),
                button(text("remove").size(12)).on_press(tm(TimelineMessage::RemoveMarker)),
                button(text("close").size(12)).on_press(tm(TimelineMessage::PickMarker(None))),
            ]
            .spacing(8)
            .align_y(iced::Alignment::Center),
        );
    }
    page = page.push(timeline);
    // Only the strips in view (and one either side) are built; spaces stand in for the rest,
    // so a console of hundreds of tracks costs what its visible part does.
    let count = session.strips.len() + session.bus_strips.len();
    let shown = strips_in_view(ws.console.view, count);
    let latest = ws.meters.latest.as_ref();
    let menu_of = |at: StripRef| {
        ws.console
            .strip_menu
            .as_ref()
            .filter(|(m, _)| *m == at)
            .map(|(_, name)| name.as_str())
    };
    let mut strips = row![].spacing(STRIP_SPACING);
    if shown.start > 0 {
        strips = strips.push(Space::new().width(Length::Fixed(
            shown.start as f32 * STRIP_PITCH - STRIP_SPACING,
        )));
    }
    for k in shown.clone() {
        let element = match session.strips.get(k) {
            Some(s) => {
                let rms = latest
                    .and_then(|f| f.track_rms_db.get(k).copied())
                    .unwrap_or(FLOOR_DB);
                let peak = ws.meters.track_peak_db.get(k).copied().unwrap_or(FLOOR_DB);
                let reduction = latest
                    .and_then(|f| f.track_reduction_db.get(k).copied())
                    .unwrap_or(0.0);
                // Playing its automation, the fader shows where the envelope is.
                let automated = latest
                    .and_then(|f| f.track_fader_db.get(k).copied().flatten())
                    .filter(|_| s.automation_mode != gpu_dsp::mix::AutomationMode::Off);
                strip(
                    k,
                    s,
                    &session.buses,
                    &session.stems,
                    (peak, rms, reduction, automated),
                    ws.console.draft.as_ref(),
                    menu_of(StripRef::Track(k)),
                    (
                        ws.console
                            .riding
                            .filter(|r| r.0 == k)
                            .map(|(_, target, v)| (target, v)),
                        ws.position,
                    ),
                )
            }
            None => {
                let b = k - session.strips.len();
                let peak = latest
                    .and_then(|f| f.bus_peak_db.get(b).copied())
                    .unwrap_or(FLOOR_DB);
                let reduction = latest
                    .and_then(|f| f.bus_reduction_db.get(b).copied())
                    .unwrap_or(0.0);
                bus_strip(
                    b,
                    &session.bus_strips[b],
                    (peak, reduction),
                    ws.console.draft.as_ref(),
                    menu_of(StripRef::Bus(b)),
                )
            }
        };
        strips = strips.push(element);
    }
    if shown.end < count {
        strips = strips.push(Space::new().width(Length::Fixed(
            (count - shown.end) as f32 * STRIP_PITCH - STRIP_SPACING,
        )));
    }
    // The VCA masters, after the buses.
    for (v, vca) in session.vcas.iter().enumerate() {
        strips = strips.push(super::strips::vca_strip(v, vca));
    }
    // New tracks and buses, after the last strip.
    strips = strips.push(
        column![
            button(text("+ track").size(11)).on_press(Message::Console(ConsoleMessage::AddTrack)),
            button(text("+ bus").size(11)).on_press(Message::Console(ConsoleMessage::AddBus)),
        ]
        .spacing(4),
    );
    let mixer = column![
        row![
            scrollable(strips)
                .horizontal()
                .on_scroll(|v| Message::Console(ConsoleMessage::Scrolled(
                    v.absolute_offset().x,
                    v.bounds().width
                )))
                .width(Length::Fill),
            master(session, &ws.meters),
        ]
        .spacing(8),
        text(
            "Frequency balance: long-term spectra of the stems, red where they cover the \
             dialogue; right, the tracks that cover it most"
        )
        .size(12)
        .color(DIM),
        row![
            canvas_widget(Drawn(FrequencyBalance(&ws.meters)))
                .width(Length::Fill)
                .height(Length::Fixed(190.0)),
            canvas_widget(Drawn(MaskingView(&ws.meters)))
                .width(Length::Fixed(520.0))
                .height(Length::Fixed(190.0)),
        ]
        .spacing(6),
    ]
    .spacing(6);

    let mixer = match ws.console.editing.and_then(|(i, k)| {
        let strip = session.strips.get(i)?;
        Some((i, k, strip))
    }) {
        Some((i, k, strip)) => mixer.push(insert_editor(
            EditedInsert {
                title: format!("{} — insert {}", strip.name, k + 1),
                kind: strip.inserts.get(k).map_or("", String::as_str),
                params: strip.insert_params.get(k).map_or(&[][..], Vec::as_slice),
                eq_kinds: strip.eq_kinds.get(k).map_or(&[][..], Vec::as_slice),
                rate: session.rate,
                draft: ws.console.draft.as_ref(),
                close: Message::Console(ConsoleMessage::EditInsert(None)),
            },
            move |name, v| Message::Console(ConsoleMessage::InsertParam(i, k, name, v)),
            move |name| Field::Param(i, k, name),
        )),
        None => mixer,
    };
    let mixer = match ws.console.editing_bus.and_then(|(b, k)| {
        let strip = session.bus_strips.get(b)?;
        Some((b, k, strip))
    }) {
        Some((b, k, strip)) => mixer.push(insert_editor(
            EditedInsert {
                title: format!("bus {} — insert {}", strip.name, k + 1),
                kind: strip.inserts.get(k).map_or("", String::as_str),
                params: strip.insert_params.get(k).map_or(&[][..], Vec::as_slice),
                eq_kinds: strip.eq_kinds.get(k).map_or(&[][..], Vec::as_slice),
                rate: session.rate,
                draft: ws.console.draft.as_ref(),
                close: Message::Console(ConsoleMessage::EditBusInsert(None)),
            },
            move |name, v| Message::Console(ConsoleMessage::BusInsertParam(b, k, name, v)),
            move |name| Field::BusParam(b, k, name),
        )),
        None => mixer,
    };
    let analysis = column![
        spectrum_panel(ws, session),
        row![
            column![
                text("Goniometer / correlation").size(12).color(DIM),
                canvas_widget(Drawn(Goniometer(&ws.meters)))
                    .width(Length::Fixed(190.0))
                    .height(Length::Fixed(210.0)),
            ]
            .spacing(4),
            column![
                text("Correlation per octave").size(12).color(DIM),
                canvas_widget(Drawn(BandCorrelation(&ws.meters)))
                    .width(Length::Fill)
                    .height(Length::Fixed(100.0)),
                text(if session.layout == "stereo" {
                    "Surround field (5.1/7.1 sessions)"
                } else {
                    "Surround field"
                })
                .size(12)
                .color(DIM),
                canvas_widget(Drawn(SurroundField(&ws.meters)))
                    .width(Length::Fill)
                    .height(Length::Fixed(100.0)),
            ]
            .spacing(4)
            .width(Length::Fill),
        ]
        .spacing(10),
    ]
    .spacing(6)
    .width(Length::FillPortion(2));

    let analysis = match &ws.cleanup {
        Some(c) => analysis.push(cleanup_panel(c, ws.auditioning)),
        None => analysis,
    };

    // Below about 1000 pixels of height the panels scroll instead of leaving the window.
    page.push(scrollable(
        row![container(mixer).width(Length::FillPortion(3)), analysis].spacing(10),
    ))
    .into()
}

/// The shortcut map (F1).
fn help_panel() -> Element<'static, Message> {
    let lines = column(super::shortcuts::MAP.iter().map(|(keys, what)| {
        row![
            text(*keys).size(13).width(Length::Fixed(190.0)),
            text(*what).size(13).color(DIM),
        ]
        .into()
    }))
    .spacing(2);
    container(
        column![
            row![
                text("Shortcuts").size(15),
                Space::new().width(Length::Fill),
                button(text("Close").size(12)).on_press(Message::ToggleHelp),
            ],
            lines,
        ]
        .spacing(6),
    )
    .padding(10)
    .style(|_| panel_style())
    .into()
}

fn clock(t: f64) -> String {
    let t = t.max(0.0);
    format!("{:02}:{:05.2}", (t / 60.0) as u64, t % 60.0)
}

/// A console strip's width with its padding, and the space between strips.
const STRIP_PITCH: f32 = 104.0 + STRIP_SPACING;
const STRIP_SPACING: f32 = 6.0;

/// The strips (of `count`, tracks then buses) to build for a console scrolled to
/// `(offset, width)` pixels: those in view and one either side.
fn strips_in_view((offset, width): (f32, f32), count: usize) -> std::ops::Range<usize> {
    // The width is known once the console has been scrolled; until then, and after the
    // window grows, as wide as a large screen.
    let width = width.max(2600.0);
    let first = ((offset / STRIP_PITCH).floor() as usize).saturating_sub(1);
    let end = (((offset + width) / STRIP_PITCH).ceil() as usize + 1).min(count);
    first.min(end)..end
}

/// The id of the import field (Ctrl+I focuses it).
pub const IMPORT_FIELD: &str = "import";

fn transport<'a>(ws: &'a Workstation, note: Option<&'a str>) -> Element<'a, Message> {
    let play = if ws.playing { "■ Stop" } else { "▶ Play" };
    let (name, length) = match &ws.session {
        Some(s) => (
            s.path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            s.length_s,
        ),
        None => (String::new(), 0.0),
    };
    row![
        button(text(play).size(14)).on_press(Message::TogglePlay),
        button(text("|◀").size(14)).on_press(Message::Locate(0.0)),
        button(text("Save").size(14)).on_press(Message::Save),
        button(text("Undo").size(14)).on_press(Message::Undo),
        button(text("Redo").size(14)).on_press(Message::Redo),
        button(text("Import…").size(14)).on_press(Message::ToggleBrowser),
        button(text("Export…").size(14)).on_press(Message::ToggleExport),
        iced::widget::text_input(
            "import: a file's path (or :command), Enter",
            &ws.import_path
        )
        .id(IMPORT_FIELD)
        .on_input(Message::ImportPath)
        .on_submit(Message::Import)
        .size(13)
        .width(Length::Fixed(260.0)),
        text(match &ws.session {
            Some(s) => format!(
                "{} / {}",
                ws.timeline.ruler.format(ws.position, s),
                ws.timeline.ruler.format(length, s)
            ),
            None => format!("{} / {}", clock(ws.position), clock(length)),
        })
        .size(20),
        text(format!(
            "{name}{}",
            if ws.dirty {
                "  ● unsaved (autosaved to a side file)"
            } else {
                ""
            }
        ))
        .size(14),
        Space::new().width(Length::Fill),
        // One line that never wraps, so the page below never moves when the note changes.
        text(note.unwrap_or("space play/stop · ctrl+s save · ctrl+z undo · F1 all shortcuts"))
            .size(12)
            .color(DIM)
            .wrapping(iced::widget::text::Wrapping::None),
    ]
    .spacing(12)
    .height(Length::Fixed(32.0))
    .align_y(iced::Alignment::Center)
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_strips_in_view_are_built() {
        assert_eq!(strips_in_view((0.0, 0.0), 200), 0..25);
        assert_eq!(strips_in_view((0.0, 0.0), 5), 0..5);
        // Scrolled 50 strips in: one either side of what shows.
        let r = strips_in_view((50.0 * STRIP_PITCH, 2600.0), 200);
        assert_eq!(r.start, 49);
        assert!(r.end >= 50 + (2600.0 / STRIP_PITCH) as usize && r.end <= 200);
        assert_eq!(strips_in_view((1e6, 800.0), 10), 10..10);
    }
}
