//! Output paths: checked before any work, written through a temporary file and renamed.

use anyhow::{anyhow, bail, Context, Result};
use std::fs::File;
use std::path::Path;

/// Fails with a clear message when `out` cannot be written or would overwrite an input.
pub fn check_output_path(out: &Path, inputs: &[&Path]) -> Result<()> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.exists() {
        bail!(
            "{}: output folder {} does not exist",
            out.display(),
            parent.display()
        );
    }
    if !parent.is_dir() {
        bail!("{}: {} is not a folder", out.display(), parent.display());
    }
    if out.is_dir() {
        bail!("{}: is a folder; give a file name", out.display());
    }
    for input in inputs {
        let same = match (out.canonicalize(), input.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        if same {
            bail!(
                "{}: output would overwrite the input file; choose another name",
                out.display()
            );
        }
    }
    // Probe that the folder takes new files, without leaving anything behind.
    if let Err(e) = tempfile::Builder::new()
        .prefix(".mixstation-probe")
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

/// Writes `path` through a temporary file in the same folder, renamed into place only after
/// `write` succeeded and the data is on disk: a failed or interrupted run never leaves a half
/// file under the output name. Errors name the file.
pub fn write_atomically(path: &Path, write: impl FnOnce(&mut File) -> Result<()>) -> Result<()> {
    let mut tmp = temp_beside(path)?;
    write(tmp.as_file_mut()).with_context(|| format!("{}: write failed", path.display()))?;
    persist(tmp, path)
}

/// A temporary file in `path`'s folder (so the final rename stays on one file system).
pub(crate) fn temp_beside(path: &Path) -> Result<tempfile::NamedTempFile> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    tempfile::Builder::new()
        .prefix(".mixstation-")
        .suffix(".tmp")
        .tempfile_in(parent)
        .with_context(|| {
            format!(
                "{}: cannot create a file in {}",
                path.display(),
                parent.display()
            )
        })
}

/// Makes a finished temporary file an ordinary one, flushes it to disk and renames it to
/// `path`.
pub(crate) fn persist(tmp: tempfile::NamedTempFile, path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        // Temporary files are private (0600); a finished output is an ordinary file.
        use std::os::unix::fs::PermissionsExt;
        let _ = tmp
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644));
    }
    tmp.as_file()
        .sync_all()
        .with_context(|| path.display().to_string())?;
    tmp.persist(path).map_err(|e| {
        anyhow!(
            "{}: cannot move the finished file into place: {}",
            path.display(),
            e.error
        )
    })?;
    Ok(())
}
