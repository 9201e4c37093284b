//! The export panel (Ctrl+E): master, stems, sample format and loudness target, rendered in
//! the background with a progress bar and a cancel button, writing exactly what
//! `mixstation render` writes (the same function). The panel owns its state and messages;
//! the root carries out the events it returns.

use crate::io::ExportFormat;
use iced::widget::{button, column, pick_list, progress_bar, row, text, text_input};
use iced::{Element, Length};
use std::path::{Path, PathBuf};

/// The sample formats, for the pick list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FormatChoice(pub ExportFormat);

impl std::fmt::Display for FormatChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            ExportFormat::Pcm16 => "16-bit PCM",
            ExportFormat::Pcm24 => "24-bit PCM",
            ExportFormat::F32 => "32-bit float",
        })
    }
}

const FORMATS: [FormatChoice; 3] = [
    FormatChoice(ExportFormat::Pcm16),
    FormatChoice(ExportFormat::Pcm24),
    FormatChoice(ExportFormat::F32),
];

/// The loudness target: the session's, a delivery spec's, or none.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TargetChoice {
    Session,
    Lufs(f64, &'static str),
    None,
}

impl std::fmt::Display for TargetChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TargetChoice::Session => f.write_str("the session's target"),
            TargetChoice::Lufs(v, name) => write!(f, "{v} LUFS ({name})"),
            TargetChoice::None => f.write_str("no normalisation"),
        }
    }
}

const TARGETS: [TargetChoice; 5] = [
    TargetChoice::Session,
    TargetChoice::Lufs(-23.0, "EBU R128"),
    TargetChoice::Lufs(-24.0, "ATSC A/85"),
    TargetChoice::Lufs(-14.0, "streaming"),
    TargetChoice::None,
];

/// What to render.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportRequest {
    pub output: PathBuf,
    /// A folder for one file per stem.
    pub stems: Option<PathBuf>,
    pub format: ExportFormat,
    /// `None`: the session's target; `Some(t)`: this one (`Some(None)`: no normalisation).
    pub target: Option<Option<f64>>,
}

#[derive(Clone, Debug)]
pub enum ExportMessage {
    Output(String),
    Stems(String),
    Format(FormatChoice),
    Target(TargetChoice),
    Start,
    Cancel,
    /// Thousandths done.
    Progress(u32),
    /// The render's report, or why it stopped.
    Done(Result<String, String>),
}

/// What the root must do.
#[derive(Clone, Debug, PartialEq)]
pub enum ExportEvent {
    Start(ExportRequest),
    Cancel,
}

/// The panel's state.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportPanel {
    pub output: String,
    pub stems: String,
    pub format: FormatChoice,
    pub target: TargetChoice,
    /// Thousandths done while a render runs.
    pub running: Option<u32>,
    /// The last render's report or error.
    pub last: Option<Result<String, String>>,
}

/// The id of the output field (focused when the panel opens).
pub const OUTPUT_FIELD: &str = "export-output";

impl ExportPanel {
    /// A panel that writes `SESSION-mix.wav` beside the session, 24-bit.
    pub fn new(session: &Path) -> Self {
        let stem = session
            .file_stem()
            .map_or("mix".into(), |s| s.to_string_lossy().into_owned());
        Self {
            output: session
                .with_file_name(format!("{stem}-mix.wav"))
                .display()
                .to_string(),
            stems: String::new(),
            format: FormatChoice(ExportFormat::Pcm24),
            target: TargetChoice::Session,
            running: None,
            last: None,
        }
    }

    pub fn update(&mut self, message: ExportMessage) -> Option<ExportEvent> {
        match message {
            ExportMessage::Output(t) => self.output = t,
            ExportMessage::Stems(t) => self.stems = t,
            ExportMessage::Format(f) => self.format = f,
            ExportMessage::Target(t) => self.target = t,
            ExportMessage::Start if self.running.is_none() && !self.output.trim().is_empty() => {
                self.running = Some(0);
                self.last = None;
                return Some(ExportEvent::Start(ExportRequest {
                    output: PathBuf::from(self.output.trim()),
                    stems: Some(self.stems.trim())
                        .filter(|s| !s.is_empty())
                        .map(PathBuf::from),
                    format: self.format.0,
                    target: match self.target {
                        TargetChoice::Session => None,
                        TargetChoice::Lufs(v, _) => Some(Some(v)),
                        TargetChoice::None => Some(None),
                    },
                }));
            }
            ExportMessage::Start => {}
            ExportMessage::Cancel if self.running.is_some() => return Some(ExportEvent::Cancel),
            ExportMessage::Cancel => {}
            ExportMessage::Progress(p) => {
                if self.running.is_some() {
                    self.running = Some(p);
                }
            }
            ExportMessage::Done(result) => {
                self.running = None;
                self.last = Some(result);
            }
        }
        None
    }

    pub fn view(&self) -> Element<'_, ExportMessage> {
        let label = |s: &'static str| text(s).size(12).width(Length::Fixed(110.0));
        let status: Element<'_, ExportMessage> = match (&self.running, &self.last) {
            (Some(p), _) => row![
                progress_bar(0.0..=1000.0, *p as f32).length(Length::Fill),
                button(text("Cancel").size(12)).on_press(ExportMessage::Cancel),
            ]
            .spacing(8)
            .into(),
            (None, Some(Ok(report))) => text(report.as_str()).size(12).into(),
            (None, Some(Err(e))) => text(format!("⚠ {e}")).size(12).into(),
            (None, None) => text("").size(12).into(),
        };
        column![
            text("Export (Enter or Render; writes what `mixstation render` writes)").size(14),
            row![
                label("master file"),
                text_input("mix.wav", &self.output)
                    .id(OUTPUT_FIELD)
                    .on_input(ExportMessage::Output)
                    .on_submit(ExportMessage::Start)
                    .size(12),
            ]
            .spacing(6),
            row![
                label("stems folder"),
                text_input("(none)", &self.stems)
                    .on_input(ExportMessage::Stems)
                    .on_submit(ExportMessage::Start)
                    .size(12),
            ]
            .spacing(6),
            row![
                label("format"),
                pick_list(FORMATS, Some(self.format), ExportMessage::Format).text_size(12),
                label("loudness"),
                pick_list(TARGETS, Some(self.target), ExportMessage::Target).text_size(12),
                button(text("Render").size(12)).on_press(ExportMessage::Start),
            ]
            .spacing(6)
            .align_y(iced::Alignment::Center),
            status,
        ]
        .spacing(6)
        .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_panel_starts_one_render_at_a_time_and_shows_its_end() {
        let mut p = ExportPanel::new(Path::new("/films/reel1.toml"));
        assert_eq!(p.output, "/films/reel1-mix.wav");
        p.update(ExportMessage::Target(TARGETS[2]));
        p.update(ExportMessage::Stems("/films/stems".into()));
        let e = p.update(ExportMessage::Start);
        assert_eq!(
            e,
            Some(ExportEvent::Start(ExportRequest {
                output: "/films/reel1-mix.wav".into(),
                stems: Some("/films/stems".into()),
                format: ExportFormat::Pcm24,
                target: Some(Some(-24.0)),
            }))
        );
        assert_eq!(p.update(ExportMessage::Start), None, "one at a time");
        p.update(ExportMessage::Progress(420));
        assert_eq!(p.running, Some(420));
        assert_eq!(p.update(ExportMessage::Cancel), Some(ExportEvent::Cancel));
        p.update(ExportMessage::Done(Err("cancelled".into())));
        assert_eq!(p.running, None);
        assert_eq!(p.update(ExportMessage::Cancel), None);
    }
}
