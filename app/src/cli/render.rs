//! `mixstation render`: a session to a delivery master (and stems), with a loudness report.

use super::{EngineArgs, FormatArgs};
use crate::io::{check_distinct_outputs, check_output_path};
use crate::render::{print_report, render};
use crate::session::load_session;
use crate::session::stem_file_name;
use anyhow::{bail, Context, Result};
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct RenderArgs {
    /// Session file (TOML).
    pub session: PathBuf,
    /// Master output WAV.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Folder for one WAV per stem (DX.wav, MX.wav, …), each with its share of the buses.
    #[arg(long)]
    pub stems: Option<PathBuf>,
    #[command(flatten)]
    pub format: FormatArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn run(args: &RenderArgs) -> Result<()> {
    let loaded = load_session(&args.session)?;
    let mut inputs: Vec<&Path> = loaded.inputs.iter().map(PathBuf::as_path).collect();
    inputs.push(&args.session);
    check_output_path(&args.output, &inputs)?;
    let stem_paths: Vec<PathBuf> = match &args.stems {
        Some(dir) => {
            match std::fs::metadata(dir) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => bail!(
                    "{}: --stems names a file; give a folder for the stem files",
                    dir.display()
                ),
                Err(_) => bail!("{}: stems folder does not exist", dir.display()),
            }
            loaded
                .spec
                .stems
                .iter()
                .map(|s| dir.join(stem_file_name(s)))
                .collect()
        }
        None => Vec::new(),
    };
    for p in &stem_paths {
        check_output_path(p, &inputs)?;
    }
    let mut outputs: Vec<&Path> = vec![&args.output];
    outputs.extend(stem_paths.iter().map(PathBuf::as_path));
    check_distinct_outputs(&outputs)?;
    let gpu = super::resolve_engine(args.engine.engine)?.gpu();
    let summary = render(
        &loaded.spec,
        &args.output,
        &stem_paths,
        args.format.format,
        gpu,
    )
    .with_context(|| args.session.display().to_string())?;
    print_report(&args.session, &args.output, &stem_paths, &summary);
    Ok(())
}
