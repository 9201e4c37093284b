//! The spectrogram panel (its state, messages, update and view: the live monitor or stem
//! spectrogram, or a track's whole file with zoom and scroll) and the cleanup panel's
//! before/after pictures.

use super::live_meters::SPECTRUM_FFT;
use super::meters::{Meters, HISTORY};
use super::state::{FileSpectrogram, Message, SessionView, SpectrumChoice, Workstation};
use super::style::{panel_style, DIM};
use crate::plot::magma;
use iced::widget::{button, column, container, image, pick_list, row, slider, text};
use iced::{Element, Length};

/// The spectrogram panel.
#[derive(Clone, Debug, Default)]
pub struct SpectrumPanel {
    pub choice: SpectrumChoice,
    /// The whole-file spectrogram shown or last computed.
    pub file: Option<FileSpectrogram>,
    /// Whole-file view zoom (≥ 1) and scroll (0..1).
    pub zoom: f32,
    pub scroll: f32,
    /// A linear frequency axis (log by default).
    pub linear: bool,
}

/// What the user (or a finished analysis) does to the panel.
#[derive(Clone, Debug)]
pub enum SpectrumMessage {
    Choose(SpectrumChoice),
    /// A whole-file spectrogram was computed (or could not be).
    FileReady(Result<FileSpectrogram, String>),
    Zoom(f32),
    Scroll(f32),
    ToggleFrequencyScale,
}

/// What the root does for the panel.
#[derive(Clone, Debug, PartialEq)]
pub enum SpectrumEvent {
    /// The engine's live spectrogram shows the monitor (`None`) or a stem.
    Engine(Option<usize>),
    /// Compute the whole-file spectrogram of track i.
    AnalyseFile(usize),
    Error(String),
}

impl SpectrumPanel {
    /// A new session: the monitor again, no file.
    pub fn follow(&mut self) {
        self.choice = SpectrumChoice::Monitor;
        self.file = None;
        self.zoom = 1.0;
        self.scroll = 0.0;
    }

    pub fn update(
        &mut self,
        message: SpectrumMessage,
        session: &SessionView,
    ) -> Option<SpectrumEvent> {
        match message {
            SpectrumMessage::Choose(choice) => {
                let valid = match choice {
                    SpectrumChoice::Monitor => true,
                    SpectrumChoice::Stem(i) => i < session.stems.len(),
                    SpectrumChoice::File(i) => i < session.strips.len(),
                };
                if !valid {
                    return None;
                }
                self.choice = choice;
                match choice {
                    SpectrumChoice::Monitor => Some(SpectrumEvent::Engine(None)),
                    SpectrumChoice::Stem(i) => Some(SpectrumEvent::Engine(Some(i))),
                    SpectrumChoice::File(i) if self.file.as_ref().is_some_and(|f| f.track == i) => {
                        None
                    }
                    SpectrumChoice::File(i) => {
                        self.zoom = 1.0;
                        self.scroll = 0.0;
                        Some(SpectrumEvent::AnalyseFile(i))
                    }
                }
            }
            SpectrumMessage::FileReady(Ok(f)) => {
                self.file = Some(f);
                None
            }
            SpectrumMessage::FileReady(Err(e)) => {
                self.choice = SpectrumChoice::Monitor;
                Some(SpectrumEvent::Error(e))
            }
            SpectrumMessage::Zoom(z) => {
                self.zoom = z.clamp(1.0, 64.0);
                None
            }
            SpectrumMessage::Scroll(s) => {
                self.scroll = s.clamp(0.0, 1.0);
                None
            }
            SpectrumMessage::ToggleFrequencyScale => {
                self.linear = !self.linear;
                None
            }
        }
    }
}

/// Rows of dB → an RGBA image: time left to right, log frequency bottom to top.
pub(super) fn spectrogram(meters: &Meters, rate: u32, linear: bool) -> Element<'static, Message> {
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

/// Before/after spectrograms of a cleaned track and the reduction mask.
pub(super) fn cleanup_panel(
    c: &super::state::CleanupView,
    auditioning: bool,
) -> Element<'_, Message> {
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
pub(super) struct Source {
    label: String,
    choice: SpectrumChoice,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label)
    }
}

pub(super) const SPECTRUM_HEIGHT: usize = 200;

/// The spectrogram panel: a source list (monitor, stems live; any track's whole file) and
/// the picture, with zoom and scroll for whole files.
pub(super) fn spectrum_panel<'a>(
    ws: &'a Workstation,
    session: &'a SessionView,
) -> Element<'a, Message> {
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
    let panel = &ws.spectrum;
    let selected = sources.iter().find(|s| s.choice == panel.choice).cloned();
    let header = row![
        text("Spectrogram").size(12).color(DIM),
        pick_list(sources, selected, |s: Source| {
            Message::Spectrum(SpectrumMessage::Choose(s.choice))
        })
        .text_size(12),
        button(text(if panel.linear { "linear Hz" } else { "log Hz" }).size(11))
            .on_press(Message::Spectrum(SpectrumMessage::ToggleFrequencyScale)),
    ]
    .spacing(8)
    .align_y(iced::Alignment::Center);
    match (panel.choice, &panel.file) {
        (SpectrumChoice::File(i), Some(f)) if f.track == i => {
            let zoom = panel.zoom.max(1.0);
            let span = f.seconds / f64::from(zoom);
            let start = f64::from(panel.scroll) * (f.seconds - span);
            column![
                header,
                file_image(f, start, span, panel.linear),
                row![
                    text(format!(
                        "{:.2}–{:.2} s of {:.1} s",
                        start,
                        start + span,
                        f.seconds
                    ))
                    .size(11),
                    text("zoom").size(11).color(DIM),
                    slider(1.0..=64.0, zoom, |z| Message::Spectrum(
                        SpectrumMessage::Zoom(z)
                    ))
                    .step(0.5f32)
                    .width(Length::Fixed(120.0)),
                    text("position").size(11).color(DIM),
                    slider(0.0..=1.0, panel.scroll, |v| {
                        Message::Spectrum(SpectrumMessage::Scroll(v))
                    })
                    .step(0.001f32),
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
        _ => column![header, spectrogram(&ws.meters, session.rate, panel.linear)]
            .spacing(4)
            .into(),
    }
}

/// `span` seconds of a whole-file spectrogram from `start`, log frequency.
pub(super) fn file_image(
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

/// The bin shown on each of `h` rows, top = Nyquist: log frequency from 30 Hz, or linear.
pub(super) fn row_bins(
    h: usize,
    bins: usize,
    bin_hz: f32,
    nyquist: f32,
    linear: bool,
) -> Vec<usize> {
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
