//! Editing a session with commands: the one edit language of `mixstation edit`, scripts and
//! the window. Each command changes the TOML document in place (`toml_edit`: the user's
//! comments, order and spelling stay; only what was edited changes), is checked as a load
//! would check it (media headers only), and is one step of an undo history.

mod automation;
mod clips;
mod command;
mod console;
pub mod document;
mod words;

pub use automation::LaneEdit;
pub use command::{parse_command, ClipRef, Command, USAGE};
pub use console::path_part;
pub use words::{quote, split_words};

use crate::session::timecode::Clock;
use crate::session::{check_session, MediaCache};
use anyhow::{anyhow, bail, Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use toml_edit::DocumentMut;

/// The text of a session made by `mixstation edit` on a file that does not exist yet.
pub const NEW_SESSION: &str = "[session]\nsample_rate = 48000\nlayout = \"stereo\"\n";

/// A session being edited: the document, its history and what is known of its media.
pub struct EditSession {
    path: PathBuf,
    doc: DocumentMut,
    undo: Vec<DocumentMut>,
    redo: Vec<DocumentMut>,
    media: MediaCache,
    /// Whether the document passed the session checks (a session that was already invalid
    /// may be edited towards a valid one).
    valid: bool,
    /// Media files the session names that are not there.
    offline: Vec<PathBuf>,
    /// The folder command-line paths are relative to.
    cwd: PathBuf,
}

impl EditSession {
    /// Opens the session at `path` (or starts a new one when no file is there).
    pub fn open(path: &Path) -> Result<Self> {
        let text = if path.exists() {
            let len = crate::io::check_input_file(path)
                .map_err(|e| anyhow!("{}: {e}", path.display()))?;
            if len > crate::io::limits::MAX_SESSION_BYTES {
                bail!(
                    "{}: session file is {len} bytes, over the limit",
                    path.display()
                );
            }
            std::fs::read_to_string(path)
                .map_err(|e| anyhow!("{}: cannot read the session: {e}", path.display()))?
        } else {
            NEW_SESSION.to_string()
        };
        Self::from_text(&text, path)
    }

    /// A session from its text; `path` places relative media paths.
    pub fn from_text(text: &str, path: &Path) -> Result<Self> {
        let doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
            anyhow!("{}: {}", path.display(), e.to_string().trim())
        })?;
        let mut session = Self {
            path: path.to_path_buf(),
            doc,
            undo: Vec::new(),
            redo: Vec::new(),
            media: MediaCache::new(),
            valid: false,
            offline: Vec::new(),
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        };
        session.valid = session.check().is_ok();
        Ok(session)
    }

    /// Paths in commands are relative to `dir` (default: the process's folder).
    pub fn set_cwd(&mut self, dir: &Path) {
        self.cwd = dir.to_path_buf();
    }

    /// The session text as it stands.
    pub fn text(&self) -> String {
        self.doc.to_string()
    }

    /// The session file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Media files the session names that are not there (as of the last check).
    pub fn offline(&self) -> &[PathBuf] {
        &self.offline
    }

    /// Whether the session passed the checks after its last change.
    pub fn is_valid(&self) -> bool {
        self.valid
    }

    /// Steps that `undo` and `redo` can take.
    pub fn history(&self) -> (usize, usize) {
        (self.undo.len(), self.redo.len())
    }

    /// Parses and applies one command line (nothing for a blank or comment line).
    pub fn apply_line(&mut self, line: &str) -> Result<()> {
        match parse_command(line)? {
            Some(command) => self.apply(&command),
            None => Ok(()),
        }
    }

    /// Applies one command as one undo step; on error the session is as it was.
    pub fn apply(&mut self, command: &Command) -> Result<()> {
        match command {
            Command::Undo => {
                let before = self
                    .undo
                    .pop()
                    .ok_or_else(|| anyhow!("undo: nothing to undo"))?;
                self.redo.push(std::mem::replace(&mut self.doc, before));
                return self.recheck();
            }
            Command::Redo => {
                let after = self
                    .redo
                    .pop()
                    .ok_or_else(|| anyhow!("redo: nothing to redo"))?;
                self.undo.push(std::mem::replace(&mut self.doc, after));
                return self.recheck();
            }
            _ => {}
        }
        self.step(|me| me.execute(command))
    }

    /// Applies several commands as one undo step (a window's batch of strip changes); all
    /// or none.
    pub fn apply_all(&mut self, commands: &[Command]) -> Result<()> {
        if commands
            .iter()
            .any(|c| matches!(c, Command::Undo | Command::Redo))
        {
            bail!("undo and redo are steps of their own");
        }
        if commands.is_empty() {
            return Ok(());
        }
        self.step(|me| commands.iter().try_for_each(|c| me.execute(c)))
    }

    /// Runs `change` as one undo step, checked; on error the session is as it was.
    fn step(&mut self, change: impl FnOnce(&mut Self) -> Result<()>) -> Result<()> {
        let before = self.doc.clone();
        let result = change(self).and_then(|()| {
            // One check per step: it decides both the error and whether the result is valid.
            let checked = self.check();
            let valid = checked.is_ok();
            match checked {
                Err(e) if self.valid => Err(e.context("the session would not be valid")),
                _ => Ok(valid),
            }
        });
        match result {
            Ok(valid) => {
                self.valid = valid;
                self.undo.push(before);
                self.redo.clear();
                Ok(())
            }
            Err(e) => {
                self.doc = before;
                Err(e)
            }
        }
    }

    fn recheck(&mut self) -> Result<()> {
        self.valid = self.check().is_ok();
        Ok(())
    }

    /// Checks the document as a load would (media headers only).
    pub fn check(&mut self) -> Result<()> {
        let text = self.doc.to_string();
        self.offline = check_session(&text, &self.path, &mut self.media)?;
        Ok(())
    }

    fn execute(&mut self, command: &Command) -> Result<()> {
        use Command as C;
        match command {
            C::Import {
                file,
                track,
                at,
                stem,
                channel,
            } => self.import(file, track, at.as_deref(), stem.as_deref(), *channel),
            C::AddTrack { name, stem } => self.add_track(name, stem.as_deref()),
            C::RemoveTrack(name) => self.remove_named("track", name),
            C::RenameTrack { old, new } => self.rename("track", old, new),
            C::RenameBus { old, new } => self.rename_bus(old, new),
            C::AddBus(name) => self.add_bus(name),
            C::RemoveBus(name) => self.remove_bus(name),
            C::Move {
                clip,
                to,
                by,
                track,
            } => self.move_clip(clip, to.as_deref(), by.as_deref(), track.as_deref()),
            C::Trim { clip, start, end } => self.trim(clip, start.as_deref(), end.as_deref()),
            C::Split { clip, at } => self.split(clip, at),
            C::Delete(clip) => self.delete(clip),
            C::Duplicate { clip, to } => self.duplicate(clip, to),
            C::Fade {
                clip,
                fade_in,
                fade_out,
                shape,
            } => self.fade(clip, fade_in.as_deref(), fade_out.as_deref(), *shape),
            C::Gain { clip, db } => self.clip_gain(clip, *db),
            C::Set { path, value } => self.set(path, value),
            C::Insert {
                target,
                kind,
                params,
            } => self.insert(target, kind, params),
            C::RemoveInsert { target, number } => self.remove_insert(target, *number),
            C::MoveInsert { target, from, to } => self.move_insert(target, *from, *to),
            C::Reorder { kind, name, to } => self.reorder(kind, name, *to),
            C::Send {
                from,
                bus,
                level_db,
            } => self.send(from, bus, *level_db),
            C::RemoveSend { from, bus } => self.remove_send(from, bus),
            C::Route { track, bus } => self.route(track, bus.as_deref()),
            C::Marker { name, at } => self.marker(name, at),
            C::RemoveMarker(name) => self.remove_marker(name),
            C::Relink { old, new } => self.relink(old, new),
            C::Automation { strip, param, edit } => self.automation(strip, param, edit),
            C::Undo | C::Redo => unreachable!("handled in apply"),
        }
    }

    /// The session's clock (frame rate and start timecode) as the document stands.
    fn clock(&self) -> Result<Clock> {
        Clock::new(
            document::session_str(&self.doc, "frame_rate"),
            document::session_str(&self.doc, "start_timecode"),
        )
        .map_err(|e| anyhow!("[session] {e}"))
    }

    /// The session's sample rate.
    fn rate(&self) -> Result<f64> {
        document::sample_rate(&self.doc)
    }

    /// A session position in samples.
    fn position(&self, text: &str) -> Result<i64> {
        let s = self.clock()?.position(text)?;
        Ok((s * self.rate()?).round() as i64)
    }

    /// A duration in samples (may be negative).
    fn duration(&self, text: &str) -> Result<i64> {
        let s = self.clock()?.duration(text)?;
        Ok((s * self.rate()?).round() as i64)
    }

    /// The folder relative media paths start from.
    fn session_dir(&self) -> PathBuf {
        self.path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf()
    }

    /// A file named on the command line, as the session should spell it: relative to the
    /// session's folder when it is inside it or near it, else absolute.
    fn session_path(&self, file: &Path) -> Result<String> {
        let full = self.cwd.join(file);
        let file = full
            .canonicalize()
            .map_err(|e| anyhow!("{}: {}", full.display(), not_found(&e)))?;
        let dir = self.cwd.join(self.session_dir());
        let dir = dir.canonicalize().unwrap_or(dir);
        Ok(relative_path(&file, &dir)
            .unwrap_or(file)
            .to_string_lossy()
            .replace('\\', "/"))
    }

    /// Writes the session to its file atomically.
    pub fn save(&self) -> Result<()> {
        let text = self.text();
        crate::io::write_atomically(&self.path, |f| {
            f.write_all(text.as_bytes())?;
            Ok(())
        })
        .with_context(|| format!("{}: cannot save the session", self.path.display()))
    }
}

fn not_found(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::NotFound {
        "file not found".into()
    } else {
        e.to_string()
    }
}

/// `path` relative to `dir` (both absolute), climbing at most three folders.
fn relative_path(path: &Path, dir: &Path) -> Option<PathBuf> {
    let (p, d): (Vec<_>, Vec<_>) = (path.components().collect(), dir.components().collect());
    let common = p.iter().zip(&d).take_while(|(a, b)| a == b).count();
    if common == 0 || d.len() - common > 3 {
        return None;
    }
    let mut out = PathBuf::new();
    for _ in common..d.len() {
        out.push("..");
    }
    for c in &p[common..] {
        out.push(c);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_written_relative_to_the_session() {
        let rel = |p: &str, d: &str| relative_path(Path::new(p), Path::new(d));
        assert_eq!(rel("/a/b/x.wav", "/a/b"), Some("x.wav".into()));
        assert_eq!(rel("/a/c/x.wav", "/a/b"), Some("../c/x.wav".into()));
        assert_eq!(rel("/x/y.wav", "/a/b/c/d/e"), None);
    }
}
