//! `mixstation roomtone`: learns a file's noise floor from a region (a pause in the
//! dialogue) and writes any length of matching room tone, never looping.

use super::FormatArgs;
use crate::io::{check_output_path, write_wav, AudioFile, ReadAhead};
use anyhow::{bail, Context, Result};
use clap::Args;
use gpu_dsp::spectral::RoomTone;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct RoomToneArgs {
    /// Input audio file.
    pub input: PathBuf,
    /// The region to learn from, START:END in seconds (room tone only: no voice).
    #[arg(long, value_name = "START:END")]
    pub from: String,
    /// Seconds of tone to write.
    #[arg(long)]
    pub seconds: f64,
    /// Output WAV file.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Another seed gives another (equally matching) tone.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[command(flatten)]
    pub format: FormatArgs,
}

pub fn run(args: &RoomToneArgs) -> Result<()> {
    let region = args
        .from
        .split_once(':')
        .and_then(|(a, b)| Some((a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?)))
        .filter(|(a, b)| a.is_finite() && b.is_finite() && *a >= 0.0 && b > a);
    let Some((start, end)) = region else {
        bail!(
            "--from {}: expected START:END in seconds with 0 <= START < END",
            args.from
        );
    };
    if !(args.seconds.is_finite() && args.seconds > 0.0 && args.seconds <= 24.0 * 3600.0) {
        bail!(
            "--seconds {}: expected more than 0 and at most 24 hours",
            args.seconds
        );
    }
    check_output_path(&args.output, &[&args.input])?;
    let file = AudioFile::open(&args.input)?;
    let rate = file.sample_rate();
    let name = args.input.display();
    let at = |s: f64| (s * f64::from(rate)).round() as usize;
    let samples = at(args.seconds);
    // Only the file up to the region's end is read.
    let (from, want) = (at(start), at(end));
    let mut channels: Vec<Vec<f32>> = vec![Vec::new(); file.channels()];
    let mut reader = ReadAhead::new(file, 1 << 16, 2);
    while channels[0].len() < want {
        let Some((x, n)) = reader.next_block()? else {
            break;
        };
        let n = n.min(want - channels[0].len());
        for (ch, c) in channels.iter_mut().zip(x) {
            ch.extend_from_slice(&c[..n]);
        }
    }
    let to = want.min(channels[0].len());
    let out = channels
        .iter()
        .enumerate()
        .map(|(c, x)| {
            let tone = RoomTone::learn(x, rate, from, to)
                .with_context(|| format!("{name}: --from {}", args.from))?;
            Ok(tone.synthesize(samples, args.seed.wrapping_add(c as u64)))
        })
        .collect::<Result<Vec<_>>>()?;
    let planes: Vec<&[f32]> = out.iter().map(Vec::as_slice).collect();
    write_wav(&args.output, rate, &planes, args.format.format)?;
    drop(reader);
    say!(
        "{} -> {}: {} ch, {:.2} s of room tone learnt from {start}–{end} s",
        name,
        args.output.display(),
        out.len(),
        args.seconds
    );
    Ok(())
}
