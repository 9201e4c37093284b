//! Output paths: checked before any work, written through a temporary file in the same
//! folder and renamed into place; several outputs of one command are committed all or
//! nothing. Temporary and work files are named `.mixstation-<pid>-…` so an interrupted run
//! cleans up after itself (see [`super::cleanup`]) and a later run removes what a killed
//! one left behind.

use super::cleanup::{forget, register, sweep_stale};
use super::input::describe_kind;
use anyhow::{anyhow, bail, Context, Result};
use std::fs::File;
use std::path::{Component, Path, PathBuf};

/// The folder a path's file lives in (`.` for a bare name).
pub(crate) fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Follows `path` through symbolic links to the file that will really be written (which
/// may not exist yet). Errors name `path`.
pub fn resolve_output(path: &Path) -> Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = std::fs::read_link(&p)
                    .with_context(|| format!("{}: cannot read the link", path.display()))?;
                p = parent_of(&p).join(target);
            }
            _ => return Ok(p),
        }
    }
    bail!("{}: too many levels of symbolic links", path.display())
}

/// An output path made absolute and free of `.`/`..` and links in its folder, for
/// comparing two outputs, or an output with an input.
pub fn canonical_output(path: &Path) -> PathBuf {
    let target = resolve_output(path).unwrap_or_else(|_| path.to_path_buf());
    if let Ok(c) = target.canonicalize() {
        return c;
    }
    let name = target.file_name().map(PathBuf::from).unwrap_or_default();
    let folder = parent_of(&target);
    let folder = folder.canonicalize().unwrap_or_else(|_| {
        std::env::current_dir()
            .map(|d| d.join(folder))
            .unwrap_or_else(|_| folder.to_path_buf())
            .components()
            .filter(|c| !matches!(c, Component::CurDir))
            .collect()
    });
    folder.join(name)
}

/// Fails with a clear message when `out` cannot be written, is not a regular file, or would
/// overwrite one of `inputs`. A symbolic link is followed and its target checked. Also
/// removes work files that killed runs left in the output folder.
pub fn check_output_path(out: &Path, inputs: &[&Path]) -> Result<()> {
    let target = resolve_output(out)?;
    let parent = parent_of(&target);
    match std::fs::metadata(parent) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => bail!("{}: {} is not a folder", out.display(), parent.display()),
        Err(_) => bail!(
            "{}: output folder {} does not exist",
            out.display(),
            parent.display()
        ),
    }
    match std::fs::symlink_metadata(&target) {
        Ok(m) if m.is_file() => {}
        Ok(m) if m.is_dir() => bail!("{}: is a folder; give a file name", out.display()),
        Ok(m) => bail!(
            "{}: is {}; outputs must be regular files",
            out.display(),
            describe_kind(&m)
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => bail!("{}: cannot be written: {e}", out.display()),
    }
    if target.file_name().is_none() {
        bail!("{}: give a file name", out.display());
    }
    let canonical = canonical_output(out);
    for input in inputs {
        if input.canonicalize().is_ok_and(|i| i == canonical) {
            bail!(
                "{}: output would overwrite the input file; choose another name",
                out.display()
            );
        }
    }
    sweep_stale(parent);
    // Probe that the folder takes new files, without leaving anything behind.
    if let Err(e) = tempfile::Builder::new()
        .prefix(&format!(".mixstation-{}-probe", std::process::id()))
        .tempfile_in(parent)
    {
        bail!(
            "{}: output folder {} is not writable ({e})",
            out.display(),
            parent.display()
        );
    }
    Ok(())
}

/// Fails when two of `outputs` name the same file (after links and `..` are resolved).
pub fn check_distinct_outputs(outputs: &[&Path]) -> Result<()> {
    let canon: Vec<PathBuf> = outputs.iter().map(|p| canonical_output(p)).collect();
    for (i, c) in canon.iter().enumerate() {
        if let Some(j) = canon[..i].iter().position(|d| d == c) {
            bail!(
                "{}: two outputs would share this file ({} and {}); give each its own name",
                outputs[i].display(),
                outputs[j].display(),
                outputs[i].display()
            );
        }
    }
    Ok(())
}

/// A finished file waiting to be renamed onto its output path; removed if dropped
/// uncommitted.
pub struct Staged {
    src: PathBuf,
    target: PathBuf,
    shown: PathBuf,
    committed: bool,
}

impl Staged {
    /// Stages a complete temporary file for `path`. When `path` already exists, the file is
    /// first flushed to disk, so a crash after the rename cannot leave the old file replaced
    /// by an incomplete one; a new file is left to the kernel's writeback (as every other
    /// tool does), since a crash can lose nothing that existed before.
    pub fn from_temp(tmp: tempfile::NamedTempFile, path: &Path) -> Result<Self> {
        #[cfg(unix)]
        {
            // Temporary files are private (0600); a finished output is an ordinary file.
            use std::os::unix::fs::PermissionsExt;
            let _ = tmp
                .as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644));
        }
        if path.exists() {
            tmp.as_file()
                .sync_all()
                .with_context(|| format!("{}: write failed", path.display()))?;
        }
        let src = tmp
            .into_temp_path()
            .keep()
            .map_err(|e| anyhow!("{}: {e}", path.display()))?;
        Self::file(src, path)
    }

    /// Stages an already complete file `src` (in the output's file system) for `path`.
    pub fn file(src: PathBuf, path: &Path) -> Result<Self> {
        Ok(Self {
            src,
            target: resolve_output(path)?,
            shown: path.to_path_buf(),
            committed: false,
        })
    }

    /// Renames this file into place.
    pub fn commit(self) -> Result<()> {
        commit_all(vec![self])
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.src);
            forget(&self.src);
        }
    }
}

/// Renames every staged file into place, all or nothing. Every output that exists already
/// is first kept as a backup (a hard link, or a copy where the file system has none); if one
/// cannot be, nothing is renamed. If a rename fails, the outputs already moved are taken back:
/// the old files restored from their backups, new ones removed.
pub fn commit_all(mut staged: Vec<Staged>) -> Result<()> {
    let mut backups: Vec<Option<PathBuf>> = Vec::with_capacity(staged.len());
    let discard = |backups: &[Option<PathBuf>]| {
        for b in backups.iter().flatten() {
            let _ = std::fs::remove_file(b);
            forget(b);
        }
    };
    for (k, s) in staged.iter().enumerate() {
        if !s.target.is_file() {
            backups.push(None);
            continue;
        }
        let b = parent_of(&s.target).join(format!(".mixstation-{}-backup-{k}", std::process::id()));
        let _ = std::fs::remove_file(&b);
        register(&b);
        let kept =
            std::fs::hard_link(&s.target, &b).or_else(|_| std::fs::copy(&s.target, &b).map(|_| ()));
        if let Err(e) = kept {
            let _ = std::fs::remove_file(&b);
            forget(&b);
            discard(&backups);
            bail!(
                "{}: cannot keep the existing file while replacing it: {e}",
                s.shown.display()
            );
        }
        backups.push(Some(b));
    }
    let mut moved = 0;
    let mut result = Ok(());
    for s in staged.iter_mut() {
        match std::fs::rename(&s.src, &s.target) {
            Ok(()) => {
                s.committed = true;
                forget(&s.src);
                moved += 1;
            }
            Err(e) => {
                result = Err(anyhow!(
                    "{}: cannot move the finished file into place: {e}",
                    s.shown.display()
                ));
                break;
            }
        }
    }
    if result.is_err() {
        for (s, backup) in staged.iter().zip(&backups).take(moved) {
            match backup {
                Some(b) => {
                    let _ = std::fs::rename(b, &s.target);
                    forget(b);
                }
                None => {
                    let _ = std::fs::remove_file(&s.target);
                }
            }
        }
        discard(&backups[moved.min(backups.len())..]);
    } else {
        discard(&backups);
    }
    result
}

/// A temporary file in `path`'s (resolved) folder, so the final rename stays on one file
/// system; removed if the process is interrupted.
pub fn temp_beside(path: &Path) -> Result<tempfile::NamedTempFile> {
    let target = resolve_output(path)?;
    let parent = parent_of(&target);
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".mixstation-{}-", std::process::id()))
        .suffix(".tmp")
        .tempfile_in(parent)
        .with_context(|| {
            format!(
                "{}: cannot create a file in {}",
                path.display(),
                parent.display()
            )
        })?;
    register(tmp.path());
    Ok(tmp)
}

/// Writes `path` through a temporary file, staged but not yet in place.
pub fn write_staged(path: &Path, write: impl FnOnce(&mut File) -> Result<()>) -> Result<Staged> {
    let mut tmp = temp_beside(path)?;
    write(tmp.as_file_mut()).with_context(|| format!("{}: write failed", path.display()))?;
    Staged::from_temp(tmp, path)
}

/// Writes `path` through a temporary file in the same folder, renamed into place only after
/// `write` succeeded and the data is on disk: a failed or interrupted run never leaves a half
/// file under the output name. Errors name the file.
pub fn write_atomically(path: &Path, write: impl FnOnce(&mut File) -> Result<()>) -> Result<()> {
    write_staged(path, write)?.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staged(dir: &Path, name: &str, text: &str, target: &Path) -> Staged {
        let src = dir.join(name);
        std::fs::write(&src, text).unwrap();
        Staged::file(src, target).unwrap()
    }

    #[test]
    fn a_failed_rename_restores_every_output() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a.wav");
        let b = d.path().join("b.wav");
        std::fs::write(&a, "old a").unwrap();
        let set = vec![
            staged(d.path(), "ta", "new a", &a),
            staged(d.path(), "tb", "new b", &b),
            // Its folder does not exist: the rename fails after the first two moved.
            staged(d.path(), "tc", "new c", &d.path().join("missing/c.wav")),
        ];
        assert!(commit_all(set).is_err());
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "old a");
        assert!(!b.exists());
        let left: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("a.wav")]);
        // And when every rename works, the new files are in place and no backup is left.
        let set = vec![
            staged(d.path(), "ta", "new a", &a),
            staged(d.path(), "tb", "new b", &b),
        ];
        commit_all(set).unwrap();
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "new a");
        assert_eq!(std::fs::read_to_string(&b).unwrap(), "new b");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 2);
    }
}
