//! The window's layout: transport bar, timeline, mixer strips, master strip with the
//! loudness meter, live spectrogram, goniometer with correlation, per-band correlation and
//! the surround field. Views only read the state; the canvases only draw what the engine
//! measured.

use super::control::{label, taper_of, Control, Taper};
use super::live::SPECTRUM_FFT;
use super::meters::{Meters, FLOOR_DB, HISTORY};
use super::state::Field;
use super::state::{FileSpectrogram, Message, SessionView, SpectrumChoice, Strip, Workstation};
use super::timeline::{self, Timeline};
use crate::plot::magma;
use iced::widget::canvas::{self, Frame, Geometry, Path, Stroke, Text};
use iced::widget::{
    button, canvas as canvas_widget, column, container, image, pick_list, row, scrollable, slider,
    text, Space,
};
use iced::{mouse, Color, Element, Length, Point, Rectangle, Renderer, Size, Theme};

const GREEN: Color = Color::from_rgb(0.30, 0.80, 0.40);
const AMBER: Color = Color::from_rgb(0.95, 0.70, 0.20);
const RED: Color = Color::from_rgb(0.95, 0.25, 0.25);
const DIM: Color = Color::from_rgb(0.45, 0.47, 0.52);
const PANEL: Color = Color::from_rgb(0.11, 0.12, 0.14);

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
    let lanes = session.strips.len().max(1);
    let timeline = canvas_widget(Timeline {
        session,
        position: ws.position,
        selected: ws.selected,
        view: ws.view,
        ruler: ws.ruler,
    })
    .width(Length::Fill)
    .height(Length::Fixed(
        timeline::RULER + timeline::LANE * lanes as f32,
    ));
    // Up to eight lanes show at once; more scroll.
    page = page.push(scrollable(timeline).height(Length::Fixed(
        timeline::RULER + timeline::LANE * lanes.min(8) as f32,
    )));
    let strips = row(session.strips.iter().enumerate().map(|(i, s)| {
        let rms = ws
            .meters
            .latest
            .as_ref()
            .and_then(|f| f.track_rms_db.get(i).copied())
            .unwrap_or(FLOOR_DB);
        let peak = ws.meters.track_peak_db.get(i).copied().unwrap_or(FLOOR_DB);
        strip(i, s, &session.buses, peak, rms, ws.draft.as_ref())
    }))
    .extend(session.bus_strips.iter().enumerate().map(|(b, s)| {
        let peak = ws
            .meters
            .latest
            .as_ref()
            .and_then(|f| f.bus_peak_db.get(b).copied())
            .unwrap_or(FLOOR_DB);
        bus_strip(b, s, peak, ws.draft.as_ref())
    }))
    .spacing(6);
    let mixer =
        column![
        row![
            scrollable(strips).horizontal().width(Length::Fill),
            master(session, &ws.meters),
        ]
        .spacing(8),
        text("Frequency balance: long-term spectra of the stems; red where they cover the dialogue")
            .size(12)
            .color(DIM),
        canvas_widget(Drawn(FrequencyBalance(&ws.meters)))
            .width(Length::Fill)
            .height(Length::Fixed(190.0)),
    ]
        .spacing(6);

    let mixer = match ws.editing.and_then(|(i, k)| {
        let strip = session.strips.get(i)?;
        Some((i, k, strip))
    }) {
        Some((i, k, strip)) => mixer.push(insert_editor(
            format!("{} — insert {}", strip.name, k + 1),
            strip.inserts.get(k).map_or("", String::as_str),
            strip.insert_params.get(k).map_or(&[][..], Vec::as_slice),
            move |name, v| Message::InsertParam(i, k, name, v),
            move |name| Field::Param(i, k, name),
            ws.draft.as_ref(),
            Message::EditInsert(None),
        )),
        None => mixer,
    };
    let mixer = match ws.editing_bus.and_then(|(b, k)| {
        let strip = session.bus_strips.get(b)?;
        Some((b, k, strip))
    }) {
        Some((b, k, strip)) => mixer.push(insert_editor(
            format!("bus {} — insert {}", strip.name, k + 1),
            strip.inserts.get(k).map_or("", String::as_str),
            strip.insert_params.get(k).map_or(&[][..], Vec::as_slice),
            move |name, v| Message::BusInsertParam(b, k, name, v),
            move |name| Field::BusParam(b, k, name),
            ws.draft.as_ref(),
            Message::EditBusInsert(None),
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

/// Fader travel in pixels.
const FADER_HEIGHT: f32 = 220.0;

/// A console fader (−90…+12 dB, double-click: 0 dB).
fn fader<'a>(value: f32, on_change: impl Fn(f32) -> Message + 'a) -> Element<'a, Message> {
    canvas_widget(Control {
        value,
        min: -90.0,
        max: 12.0,
        default: 0.0,
        taper: Taper::Fader,
        vertical: true,
        on_change: Box::new(on_change),
    })
    .width(Length::Fixed(22.0))
    .height(Length::Fixed(FADER_HEIGHT))
    .into()
}

/// A horizontal slider over (min, max, default).
fn hslider<'a>(
    value: f32,
    (min, max, default): (f32, f32, f32),
    taper: Taper,
    on_change: impl Fn(f32) -> Message + 'a,
) -> Element<'a, Message> {
    canvas_widget(Control {
        value,
        min,
        max,
        default,
        taper,
        vertical: false,
        on_change: Box::new(on_change),
    })
    .width(Length::Fill)
    .height(Length::Fixed(14.0))
    .into()
}

/// A typed-entry field showing `shown` (or what is being typed into it).
fn entry<'a>(
    draft: Option<&'a (Field, String)>,
    field: Field,
    shown: String,
) -> Element<'a, Message> {
    let value = match draft {
        Some((f, text)) if *f == field => text.clone(),
        _ => shown,
    };
    iced::widget::text_input("", &value)
        .on_input(move |t| Message::Draft(field.clone(), t))
        .on_submit(Message::CommitDraft)
        .size(11)
        .padding(2)
        .width(Length::Fixed(64.0))
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

fn panel_style() -> container::Style {
    container::Style {
        background: Some(PANEL.into()),
        border: iced::Border {
            radius: 4.0.into(),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn clock(t: f64) -> String {
    let t = t.max(0.0);
    format!("{:02}:{:05.2}", (t / 60.0) as u64, t % 60.0)
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
                ws.ruler.format(ws.position, s),
                ws.ruler.format(length, s)
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
        text(note.unwrap_or(
            "space play/stop · ctrl+s save · ctrl+z undo · ctrl+i import · F1 all shortcuts"
        ))
        .size(12)
        .color(DIM),
    ]
    .spacing(12)
    .align_y(iced::Alignment::Center)
    .into()
}

/// Insert types the strip's list adds (a reverb needs an impulse response file:
/// `:insert TRACK reverb ir=FILE`; `duck` goes on buses).
const TRACK_INSERTS: [&str; 6] = ["eq", "compressor", "gate", "limiter", "clean", "multiband"];

fn strip<'a>(
    i: usize,
    s: &'a Strip,
    buses: &'a [String],
    peak_db: f32,
    rms_db: f32,
    draft: Option<&'a (Field, String)>,
) -> Element<'a, Message> {
    let toggle = |label: &'static str, on: bool, colour: Color, msg: Message| {
        button(text(label).size(12))
            .on_press(msg)
            .style(move |theme: &Theme, status| {
                let mut style = button::secondary(theme, status);
                if on {
                    style.background = Some(colour.into());
                }
                style
            })
    };
    let remove = |msg: Message| {
        button(text("×").size(10))
            .padding([0, 3])
            .style(button::text)
            .on_press(msg)
    };
    // Inserts: a click opens the parameter editor; × removes; the list adds one.
    let inserts = column(s.inserts.iter().enumerate().map(|(k, n)| {
        row![
            button(text(n.as_str()).size(10))
                .padding([1, 4])
                .style(button::text)
                .on_press(Message::EditInsert(Some((i, k)))),
            Space::new().width(Length::Fill),
            remove(Message::RemoveInsert(i, k)),
        ]
        .into()
    }))
    .push(
        pick_list(
            TRACK_INSERTS.map(String::from),
            None::<String>,
            move |kind| Message::AddInsert(i, kind),
        )
        .placeholder("+ insert")
        .text_size(10)
        .padding([1, 4]),
    );
    // Sends: level sliders; × removes; the list adds one to a bus not yet fed.
    let sends = column(s.sends.iter().enumerate().map(|(k, (b, l))| {
        if k < s.file_sends {
            column![
                row![
                    text(format!("→{b} {l:+.1}")).size(10).color(DIM),
                    Space::new().width(Length::Fill),
                    remove(Message::RemoveSend(i, b.clone())),
                ],
                hslider(*l, (-60.0, 6.0, 0.0), Taper::Linear, move |v| {
                    Message::SendLevel(i, k, v)
                }),
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
            pick_list(free, None::<String>, move |bus| Message::AddSend(i, bus))
                .placeholder("+ send")
                .text_size(10)
                .padding([1, 4]),
        )
    };
    container(
        column![
            text(s.name.as_str()).size(13),
            text(format!("stem {}", s.stem)).size(10).color(DIM),
            inserts,
            sends,
            text(format!("pan {:+.2}", s.pan)).size(10),
            hslider(s.pan, (-1.0, 1.0, 0.0), Taper::Linear, move |v| {
                Message::Pan(i, v)
            }),
            row![
                fader(s.gain_db, move |v| Message::Fader(i, v)),
                // RMS and (held) peak.
                canvas_widget(Drawn(LevelMeter(vec![rms_db, peak_db])))
                    .width(Length::Fixed(14.0))
                    .height(Length::Fixed(FADER_HEIGHT)),
            ]
            .spacing(6),
            entry(draft, Field::Fader(i), format!("{:+.1}", s.gain_db)),
            if s.inserts.iter().any(|n| n == "clean") {
                Element::from(button(text("cleanup ▸").size(11)).on_press(Message::ShowCleanup(i)))
            } else {
                Space::new().height(Length::Fixed(0.0)).into()
            },
            row![
                toggle("M", s.mute, AMBER, Message::Mute(i)),
                toggle("S", s.solo, GREEN, Message::Solo(i)),
            ]
            .spacing(4),
        ]
        .spacing(4)
        .width(Length::Fixed(92.0)),
    )
    .padding(6)
    .style(|_| panel_style())
    .into()
}

fn master<'a>(session: &'a SessionView, meters: &'a Meters) -> Element<'a, Message> {
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

/// Rows of dB → an RGBA image: time left to right, log frequency bottom to top.
fn spectrogram(meters: &Meters, rate: u32, linear: bool) -> Element<'static, Message> {
    const H: usize = SPECTRUM_HEIGHT;
    let w = HISTORY;
    let mut rgba = vec![0u8; w * H * 4];
    let bins = SPECTRUM_FFT / 2 + 1;
    let bin_hz = rate as f32 / SPECTRUM_FFT as f32;
    let rows = row_bins(H, bins, bin_hz, rate as f32 / 2.0, linear);
    let offset = w - meters.spectrogram.len().min(w);
    for (x, frame) in meters.spectrogram.iter().enumerate() {
        for (y, &bin) in rows.iter().enumerate() {
            let db = frame.get(bin).copied().unwrap_or(-120.0);
            let [r, g, b] = magma(((db + 100.0) / 100.0).clamp(0.0, 1.0));
            let at = (y * w + x + offset) * 4;
            rgba[at..at + 4].copy_from_slice(&[r, g, b, 255]);
        }
    }
    for px in rgba.chunks_exact_mut(4) {
        px[3] = 255;
    }
    image(image::Handle::from_rgba(w as u32, H as u32, rgba))
        .width(Length::Fill)
        .height(Length::Fixed(H as f32))
        .content_fit(iced::ContentFit::Fill)
        .into()
}

/// Vertical bars from FLOOR_DB to 0 dBFS.
struct LevelMeter(Vec<f32>);

impl Scope for LevelMeter {
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

/// Mid/side scatter of the monitor with the correlation bar under it.
struct Goniometer<'a>(&'a Meters);

impl Scope for Goniometer<'_> {
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
struct BandCorrelation<'a>(&'a Meters);

impl Scope for BandCorrelation<'_> {
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
struct SurroundField<'a>(&'a Meters);

impl Scope for SurroundField<'_> {
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

const STEM_COLOURS: [Color; 6] = [
    Color::from_rgb(0.55, 0.80, 1.00),
    Color::from_rgb(0.80, 0.55, 1.00),
    Color::from_rgb(1.00, 0.65, 0.30),
    Color::from_rgb(0.40, 0.90, 0.60),
    Color::from_rgb(0.95, 0.90, 0.40),
    Color::from_rgb(0.90, 0.50, 0.60),
];

/// Overlaid long-term third-octave spectra of the stems, masked bands shaded.
struct FrequencyBalance<'a>(&'a Meters);

impl Scope for FrequencyBalance<'_> {
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

fn width_of(bounds: Rectangle) -> f32 {
    bounds.width - 34.0
}

/// Before/after spectrograms of a cleaned track and the reduction mask.
fn cleanup_panel(c: &super::state::CleanupView, auditioning: bool) -> Element<'_, Message> {
    let picture = |label: &'static str, handle: &image::Handle| {
        column![
            text(label).size(11).color(DIM),
            image(handle.clone())
                .width(Length::Fill)
                .height(Length::Fixed(110.0))
                .content_fit(iced::ContentFit::Fill),
        ]
        .spacing(2)
        .width(Length::Fill)
    };
    let hum = c
        .hum_hz
        .map_or("no hum".to_string(), |f| format!("hum {f:.2} Hz removed"));
    container(
        column![
            text(format!(
                "Cleanup of '{}' (first {:.1} s): removed {:.1} dB; {hum}",
                c.name, c.seconds, c.removed_db
            ))
            .size(11),
            row![
                if auditioning {
                    button(text("■ stop").size(11)).on_press(Message::StopAudition)
                } else {
                    button(text("▶ hear what was removed").size(11)).on_press(Message::HearRemoved)
                },
                button(text("close").size(11)).on_press(Message::CloseCleanup),
            ]
            .spacing(8),
            row![
                picture("before", &c.before),
                picture("after", &c.after),
                picture("reduction mask", &c.mask),
            ]
            .spacing(6),
        ]
        .spacing(4),
    )
    .padding(6)
    .style(|_| panel_style())
    .into()
}

/// An entry of the spectrogram source list.
#[derive(Clone, Debug, PartialEq)]
struct Source {
    label: String,
    choice: SpectrumChoice,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label)
    }
}

const SPECTRUM_HEIGHT: usize = 200;

/// The spectrogram panel: a source list (monitor, stems live; any track's whole file) and
/// the picture, with zoom and scroll for whole files.
fn spectrum_panel<'a>(ws: &'a Workstation, session: &'a SessionView) -> Element<'a, Message> {
    let mut sources = vec![Source {
        label: "monitor (live)".into(),
        choice: SpectrumChoice::Monitor,
    }];
    sources.extend(session.stems.iter().enumerate().map(|(i, s)| Source {
        label: format!("stem {s} (live)"),
        choice: SpectrumChoice::Stem(i),
    }));
    sources.extend(session.strips.iter().enumerate().map(|(i, s)| Source {
        label: format!("file of '{}' (whole)", s.name),
        choice: SpectrumChoice::File(i),
    }));
    let selected = sources.iter().find(|s| s.choice == ws.spectrum).cloned();
    let header = row![
        text("Spectrogram").size(12).color(DIM),
        pick_list(sources, selected, |s: Source| Message::Spectrum(s.choice)).text_size(12),
        button(
            text(if ws.linear_frequency {
                "linear Hz"
            } else {
                "log Hz"
            })
            .size(11)
        )
        .on_press(Message::ToggleFrequencyScale),
    ]
    .spacing(8)
    .align_y(iced::Alignment::Center);
    match (ws.spectrum, &ws.file_spectrogram) {
        (SpectrumChoice::File(i), Some(f)) if f.track == i => {
            let zoom = ws.zoom.max(1.0);
            let span = f.seconds / f64::from(zoom);
            let start = f64::from(ws.scroll) * (f.seconds - span);
            column![
                header,
                file_image(f, start, span, ws.linear_frequency),
                row![
                    text(format!(
                        "{:.2}–{:.2} s of {:.1} s",
                        start,
                        start + span,
                        f.seconds
                    ))
                    .size(11),
                    text("zoom").size(11).color(DIM),
                    slider(1.0..=64.0, zoom, Message::Zoom)
                        .step(0.5f32)
                        .width(Length::Fixed(120.0)),
                    text("position").size(11).color(DIM),
                    slider(0.0..=1.0, ws.scroll, Message::Scroll).step(0.001f32),
                ]
                .spacing(8)
                .align_y(iced::Alignment::Center),
            ]
            .spacing(4)
            .into()
        }
        (SpectrumChoice::File(_), _) => column![header, text("computing …").size(12)]
            .spacing(4)
            .into(),
        _ => column![
            header,
            spectrogram(&ws.meters, session.rate, ws.linear_frequency)
        ]
        .spacing(4)
        .into(),
    }
}

/// `span` seconds of a whole-file spectrogram from `start`, log frequency.
fn file_image(
    f: &FileSpectrogram,
    start: f64,
    span: f64,
    linear: bool,
) -> Element<'static, Message> {
    const W: usize = 640;
    let h = SPECTRUM_HEIGHT;
    let hop_s = f.seconds / f.frames.max(1) as f64;
    let bin_hz = f.rate as f32 / f.fft as f32;
    let rows = row_bins(h, f.bins, bin_hz, f.rate as f32 / 2.0, linear);
    let mut rgba = vec![0u8; W * h * 4];
    for x in 0..W {
        let t = start + span * x as f64 / W as f64;
        let frame = ((t / hop_s.max(1e-9)) as usize).min(f.frames.saturating_sub(1));
        for (y, &bin) in rows.iter().enumerate() {
            let db = f.db.get(frame * f.bins + bin).copied().unwrap_or(-120.0);
            let [r, g, b] = magma(((db + 100.0) / 100.0).clamp(0.0, 1.0));
            let at = (y * W + x) * 4;
            rgba[at..at + 4].copy_from_slice(&[r, g, b, 255]);
        }
    }
    image(image::Handle::from_rgba(W as u32, h as u32, rgba))
        .width(Length::Fill)
        .height(Length::Fixed(h as f32))
        .content_fit(iced::ContentFit::Fill)
        .into()
}

/// Sliders for the live-editable parameters of one insert.
fn insert_editor<'a>(
    title: String,
    kind: &str,
    params: &'a [super::params::Param],
    on_change: impl Fn(String, f32) -> Message + Clone + 'a,
    field: impl Fn(String) -> Field + 'a,
    draft: Option<&'a (Field, String)>,
    close: Message,
) -> Element<'a, Message> {
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
                    taper_of(&p.name),
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
            body,
        ]
        .spacing(4),
    )
    .padding(6)
    .style(|_| panel_style())
    .into()
}

/// A bus strip: its inserts (click to edit), fader and output peak meter.
fn bus_strip<'a>(
    b: usize,
    s: &'a super::state::BusStrip,
    peak_db: f32,
    draft: Option<&'a (Field, String)>,
) -> Element<'a, Message> {
    let inserts = column(s.inserts.iter().enumerate().map(|(k, n)| {
        button(text(n.as_str()).size(10))
            .padding([1, 4])
            .style(button::text)
            .on_press(Message::EditBusInsert(Some((b, k))))
            .into()
    }));
    container(
        column![
            text(s.name.as_str()).size(13),
            text("bus").size(10).color(DIM),
            inserts,
            row![
                fader(s.gain_db, move |v| Message::BusFader(b, v)),
                canvas_widget(Drawn(LevelMeter(vec![peak_db])))
                    .width(Length::Fixed(10.0))
                    .height(Length::Fixed(FADER_HEIGHT)),
            ]
            .spacing(6),
            entry(draft, Field::BusFader(b), format!("{:+.1}", s.gain_db)),
        ]
        .spacing(4)
        .width(Length::Fixed(80.0)),
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

/// The bin shown on each of `h` rows, top = Nyquist: log frequency from 30 Hz, or linear.
fn row_bins(h: usize, bins: usize, bin_hz: f32, nyquist: f32, linear: bool) -> Vec<usize> {
    let (lo, hi) = (30.0f32.ln(), nyquist.ln());
    (0..h)
        .map(|y| {
            let t = (h - 1 - y) as f32 / (h - 1).max(1) as f32;
            let hz = if linear {
                t * nyquist
            } else {
                (lo + (hi - lo) * t).exp()
            };
            ((hz / bin_hz).round() as usize).min(bins.saturating_sub(1))
        })
        .collect()
}

/// A canvas frame the size of `bounds`, filled with `colour`.
/// A canvas that only draws what it reads, on a black backdrop.
trait Scope {
    fn paint(&self, frame: &mut Frame, bounds: Rectangle);
}

/// A [`Scope`] as a canvas program.
struct Drawn<T>(T);

impl<T: Scope> canvas::Program<Message> for Drawn<T> {
    type State = ();
    fn draw(
        &self,
        _: &(),
        renderer: &Renderer,
        _: &Theme,
        bounds: Rectangle,
        _: mouse::Cursor,
    ) -> Vec<Geometry> {
        let mut frame = backdrop(renderer, bounds, Color::BLACK);
        self.0.paint(&mut frame, bounds);
        vec![frame.into_geometry()]
    }
}

fn backdrop(renderer: &Renderer, bounds: Rectangle, colour: Color) -> Frame {
    let mut frame = Frame::new(renderer, bounds.size());
    frame.fill_rectangle(Point::ORIGIN, bounds.size(), colour);
    frame
}
