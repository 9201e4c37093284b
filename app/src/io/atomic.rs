//! Output paths: checked before any work, written through a temporary file and renamed.

use anyhow::{bail, Result};
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
