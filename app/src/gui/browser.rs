//! The import dialog: a folder's sub-folders and audio files (with their channels, rate and
//! length, read from the headers), a path field, and Import. A file becomes a track with a
//! clip at the playhead, through the same `import` command as a drop; a file of more than
//! two channels (a production recorder's) becomes one mono track per channel. The panel owns
//! its state and messages; the root carries out the event it returns.

use iced::widget::{button, column, row, scrollable, text, text_input, Space};
use iced::{Color, Element, Length};
use std::path::{Path, PathBuf};

/// Extensions listed as audio.
const AUDIO: [&str; 9] = [
    "wav", "wave", "bwf", "flac", "mp3", "ogg", "aif", "aiff", "caf",
];

/// The id of the dialog's path field (focused when the dialog opens).
pub const PATH_FIELD: &str = "browser-path";

/// At most this many entries are listed (a note says when more were left out).
const MAX_ENTRIES: usize = 500;

/// One listed entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub name: String,
    pub path: PathBuf,
    pub kind: EntryKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum EntryKind {
    Folder,
    /// An audio file: channels, rate and seconds (when its header states them), or why it
    /// cannot be read.
    Audio(Result<(usize, u32, Option<f64>), String>),
}

/// The dialog's state.
#[derive(Clone, Debug, PartialEq)]
pub struct Browser {
    pub dir: PathBuf,
    pub entries: Vec<Entry>,
    /// Entries left out past [`MAX_ENTRIES`].
    pub more: usize,
    /// The path field (a click on a file fills it).
    pub path: String,
    pub error: Option<String>,
    /// What the dialog is for ("Import", "Impulse response for 'hall'") and its button.
    pub title: String,
    pub action: String,
}

#[derive(Clone, Debug, PartialEq)]
pub enum BrowserMessage {
    /// Show this folder.
    Open(PathBuf),
    Up,
    /// A file was clicked.
    Choose(PathBuf),
    Path(String),
    Import,
    Close,
}

/// What the root does for the dialog.
#[derive(Clone, Debug, PartialEq)]
pub enum BrowserEvent {
    Import(PathBuf),
    Close,
}

impl Browser {
    /// The dialog showing `dir`.
    pub fn new(dir: &Path) -> Self {
        let mut b = Self {
            dir: dir.to_path_buf(),
            entries: Vec::new(),
            more: 0,
            path: String::new(),
            error: None,
            title: "Import".into(),
            action: "Import at the playhead".into(),
        };
        b.list(dir);
        b
    }

    /// The dialog choosing an impulse response for a reverb on strip `strip`.
    pub fn for_impulse_response(dir: &Path, strip: &str) -> Self {
        Self {
            title: format!("Impulse response for a reverb on '{strip}'"),
            action: "Use as the reverb's IR".into(),
            ..Self::new(dir)
        }
    }

    /// Reads `dir`: folders first, then audio files, each sorted by name; hidden entries
    /// and other files are left out.
    fn list(&mut self, dir: &Path) {
        let read = match std::fs::read_dir(dir) {
            Ok(r) => r,
            Err(e) => {
                self.error = Some(format!("{}: {e}", dir.display()));
                return;
            }
        };
        let mut folders = Vec::new();
        let mut files = Vec::new();
        for entry in read.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            if path.is_dir() {
                folders.push((name, path));
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| AUDIO.contains(&e.to_ascii_lowercase().as_str()))
            {
                files.push((name, path));
            }
        }
        folders.sort();
        files.sort();
        let dir = &std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        let total = folders.len() + files.len();
        let folders = folders.into_iter().map(|(name, path)| Entry {
            name,
            path,
            kind: EntryKind::Folder,
        });
        let files = files.into_iter().map(|(name, path)| {
            let kind = EntryKind::Audio(header(&path));
            Entry { name, path, kind }
        });
        self.entries = folders.chain(files).take(MAX_ENTRIES).collect();
        self.more = total - self.entries.len();
        self.dir = dir.to_path_buf();
        self.error = None;
    }

    pub fn update(&mut self, message: BrowserMessage) -> Option<BrowserEvent> {
        match message {
            BrowserMessage::Open(dir) => self.list(&dir),
            BrowserMessage::Up => {
                if let Some(parent) = self.dir.parent().map(Path::to_path_buf) {
                    self.list(&parent);
                }
            }
            BrowserMessage::Choose(path) => self.path = path.display().to_string(),
            BrowserMessage::Path(text) => self.path = text,
            BrowserMessage::Import => {
                let typed = self.path.trim();
                if typed.is_empty() {
                    return None;
                }
                // A relative path is taken inside the folder shown.
                let path = self.dir.join(typed);
                if path.is_dir() {
                    self.list(&path);
                    self.path.clear();
                    return None;
                }
                return Some(BrowserEvent::Import(path));
            }
            BrowserMessage::Close => return Some(BrowserEvent::Close),
        }
        None
    }

    pub fn view(&self) -> Element<'_, BrowserMessage> {
        let dim = Color::from_rgb(0.55, 0.57, 0.62);
        let list = column(self.entries.iter().map(|e| {
            let (label, detail, message) = match &e.kind {
                EntryKind::Folder => (
                    format!("▸ {}/", e.name),
                    String::new(),
                    BrowserMessage::Open(e.path.clone()),
                ),
                EntryKind::Audio(info) => (
                    e.name.clone(),
                    match info {
                        Ok((ch, rate, secs)) => format!(
                            "{ch} ch · {rate} Hz{}",
                            secs.map_or(String::new(), |s| format!(" · {s:.2} s"))
                        ),
                        Err(why) => format!("⚠ {why}"),
                    },
                    BrowserMessage::Choose(e.path.clone()),
                ),
            };
            button(
                row![
                    text(label).size(12),
                    Space::new().width(Length::Fill),
                    text(detail).size(11).color(dim),
                ]
                .spacing(8),
            )
            .style(button::text)
            .padding([1, 6])
            .width(Length::Fill)
            .on_press(message)
            .into()
        }))
        .spacing(1);
        let note = match (&self.error, self.more) {
            (Some(e), _) => format!("⚠ {e}"),
            (None, 0) if self.entries.is_empty() => "no folders or audio files here".into(),
            (None, 0) => String::new(),
            (None, n) => format!("{n} more not listed"),
        };
        column![
            row![
                text(self.title.as_str()).size(14),
                text(self.dir.display().to_string()).size(12).color(dim),
                Space::new().width(Length::Fill),
                button(text("↑ up").size(12)).on_press(BrowserMessage::Up),
                button(text("close").size(12)).on_press(BrowserMessage::Close),
            ]
            .spacing(10)
            .align_y(iced::Alignment::Center),
            scrollable(list).height(Length::Fixed(180.0)),
            text(note).size(11).color(dim),
            row![
                text_input("a file's path (relative to the folder above)", &self.path)
                    .id(PATH_FIELD)
                    .on_input(BrowserMessage::Path)
                    .on_submit(BrowserMessage::Import)
                    .size(12),
                button(text(self.action.as_str()).size(12)).on_press(BrowserMessage::Import),
            ]
            .spacing(8),
            text("A file of more than two channels becomes one mono track per channel.")
                .size(11)
                .color(dim),
        ]
        .spacing(6)
        .into()
    }
}

/// Channels, rate and length from a file's header.
fn header(path: &Path) -> Result<(usize, u32, Option<f64>), String> {
    let file = crate::io::AudioFile::open(path).map_err(|e| format!("{e:#}"))?;
    let rate = file.sample_rate();
    let seconds = file.frames().map(|f| f as f64 / f64::from(rate.max(1)));
    Ok((file.channels(), rate, seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_folders_then_audio_with_their_headers_and_imports_a_choice() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("takes")).unwrap();
        std::fs::create_dir(root.join(".hidden")).unwrap();
        std::fs::write(root.join("notes.txt"), "not audio").unwrap();
        std::fs::write(root.join("broken.wav"), "not a wav").unwrap();
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 48_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(root.join("boom.wav"), spec).unwrap();
        for _ in 0..2 * 24_000 {
            w.write_sample(0i16).unwrap();
        }
        w.finalize().unwrap();
        let mut b = Browser::new(root);
        let names: Vec<&str> = b.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["takes", "boom.wav", "broken.wav"]);
        assert_eq!(
            b.entries[1].kind,
            EntryKind::Audio(Ok((2, 48_000, Some(0.5))))
        );
        assert!(matches!(b.entries[2].kind, EntryKind::Audio(Err(_))));
        // Into a folder and back up.
        assert_eq!(b.update(BrowserMessage::Open(root.join("takes"))), None);
        assert!(b.entries.is_empty() && b.dir.ends_with("takes"));
        b.update(BrowserMessage::Up);
        assert_eq!(b.dir, root.canonicalize().unwrap());
        // A click fills the path; Import hands it to the root.
        b.update(BrowserMessage::Choose(root.join("boom.wav")));
        assert_eq!(
            b.update(BrowserMessage::Import),
            Some(BrowserEvent::Import(root.join("boom.wav")))
        );
        // A typed relative path is inside the folder shown; a folder's name opens it.
        b.update(BrowserMessage::Path("takes".into()));
        assert_eq!(b.update(BrowserMessage::Import), None);
        assert!(b.dir.ends_with("takes"));
        let missing = Browser::new(&root.join("nowhere"));
        assert!(missing.error.is_some());
    }
}
