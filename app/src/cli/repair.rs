//! `mixstation repair`: spectral repair of a file — time–frequency regions attenuated to
//! their surroundings, replaced by interpolation across them, or filled with similar frames
//! (every channel alike; same length, rate and channels out).

use super::FormatArgs;
use crate::io::{
    check_output_path, decode_file, write_wav, AudioFile, ReadAhead, WavStream, WriteBehind,
};
use anyhow::{bail, Context, Result};
use clap::Args;
use gpu_dsp::spectral::{repair, repair_span, RepairMode, RepairRegion};
use rayon::prelude::*;
use std::path::PathBuf;
use std::time::Instant;

/// Frames read and written at a time.
const CHUNK: usize = 1 << 16;

#[derive(Args, Debug)]
pub struct RepairArgs {
    /// Input audio file.
    pub input: PathBuf,
    /// Output WAV file.
    #[arg(short, long)]
    pub output: PathBuf,
    /// A region to repair: T0:T1 in seconds, optionally :F0:F1 in Hz (the whole spectrum
    /// without). Repeat for several.
    #[arg(long = "region", value_name = "T0:T1[:F0:F1]")]
    pub regions: Vec<String>,
    /// Find clicks (AR prediction error) and rebuild them (least-squares AR interpolation),
    /// before the regions.
    #[arg(long)]
    pub declick: bool,
    /// Find runs held flat at the extremes (at any level) and rebuild them consistently
    /// (AR interpolation kept beyond the clip level), first.
    #[arg(long)]
    pub declip: bool,
    /// attenuate (to the surroundings' level), replace (interpolate across) or pattern
    /// (copy similar frames): once for every region, or once per region in order.
    #[arg(long = "mode", value_name = "MODE")]
    pub modes: Vec<String>,
    /// Gain on the repaired cells in dB (0: the surroundings' level): once, or per region.
    #[arg(long = "gain-db", value_name = "G", allow_negative_numbers = true)]
    pub gains: Vec<f64>,
    #[command(flatten)]
    pub format: FormatArgs,
}

/// A region as typed: start and end (seconds), and the band (Hz) when one is given.
type RegionText = (f64, f64, Option<(f64, f64)>);

/// `T0:T1` or `T0:T1:F0:F1`.
fn parse_region(text: &str) -> Result<RegionText> {
    let numbers: Option<Vec<f64>> = text.split(':').map(|p| p.trim().parse().ok()).collect();
    let bad = || format!("--region {text}: expected T0:T1 or T0:T1:F0:F1 (seconds, Hz)");
    let numbers = numbers.with_context(bad)?;
    if numbers.iter().any(|v| !v.is_finite()) {
        bail!("{}", bad());
    }
    match numbers.as_slice() {
        [a, b] => Ok((*a, *b, None)),
        [a, b, lo, hi] => Ok((*a, *b, Some((*lo, *hi)))),
        _ => bail!("{}", bad()),
    }
}

/// The `k`th of `values` given once for all or once per region (`count`), else `default`.
fn per_region<T: Clone>(values: &[T], k: usize, count: usize, default: T, flag: &str) -> Result<T> {
    match values.len() {
        0 => Ok(default),
        1 => Ok(values[0].clone()),
        n if n == count => Ok(values[k].clone()),
        n => bail!("{flag} given {n} times for {count} regions: give it once, or once per region"),
    }
}

/// The regions the arguments describe.
fn regions(args: &RepairArgs) -> Result<Vec<RepairRegion>> {
    let count = args.regions.len();
    args.regions
        .iter()
        .enumerate()
        .map(|(k, text)| {
            let (from, to, band) = parse_region(text)?;
            let mode_name = per_region(&args.modes, k, count, "attenuate".to_string(), "--mode")?;
            let mode = RepairMode::parse(&mode_name).with_context(|| {
                format!("--mode {mode_name}: expected attenuate, replace or pattern")
            })?;
            let gain_db = per_region(&args.gains, k, count, 0.0, "--gain-db")?;
            Ok(RepairRegion {
                from,
                to,
                band,
                mode,
                gain_db,
            })
        })
        .collect()
}

/// Regions whose spans overlap, repaired together (in the order given): their span.
struct Cluster {
    start: usize,
    end: usize,
    regions: Vec<RepairRegion>,
}

/// The regions grouped by overlapping spans, in time order.
fn clusters(regions: &[RepairRegion], rate: u32, len: usize) -> Result<Vec<Cluster>> {
    let mut out: Vec<Cluster> = Vec::new();
    for r in regions {
        let (start, end) =
            repair_span(r, rate, len).with_context(|| format!("--region {}:{}", r.from, r.to))?;
        // Every cluster this span overlaps joins it (the regions keep their order).
        let mut merged = Cluster {
            start,
            end,
            regions: Vec::new(),
        };
        let mut kept = Vec::new();
        for c in out.drain(..) {
            if c.start < merged.end && merged.start < c.end {
                merged.start = merged.start.min(c.start);
                merged.end = merged.end.max(c.end);
                merged.regions.extend(c.regions);
            } else {
                kept.push(c);
            }
        }
        merged.regions.push(*r);
        kept.push(merged);
        out = kept;
    }
    out.sort_by_key(|c| c.start);
    Ok(out)
}

pub fn run(args: &RepairArgs) -> Result<()> {
    let regions = regions(args)?;
    if regions.is_empty() && !args.declick && !args.declip {
        bail!("nothing to repair: give --region T0:T1[:F0:F1] (repeatable), --declick or --declip");
    }
    check_output_path(&args.output, &[&args.input])?;
    if args.declick || args.declip {
        return run_whole(args, &regions);
    }
    let file = AudioFile::open(&args.input)?;
    let name = args.input.display().to_string();
    let (rate, channels) = (file.sample_rate(), file.channels());
    // A stream of unknown length: spans are clipped to the end when it comes.
    let len = file.frames().map_or(usize::MAX / 4, |f| f as usize);
    let plan = clusters(&regions, rate, len).with_context(|| name.clone())?;
    let started = Instant::now();
    let out = WavStream::create(&args.output, rate, channels, args.format.format)?;
    let mut writer = WriteBehind::new(out, channels, 3);
    let mut reader = ReadAhead::new(file, CHUNK, 3);
    // What is held: samples from `base` on, until no region still needs them.
    let mut held: Vec<Vec<f32>> = vec![Vec::new(); channels];
    let (mut base, mut next, mut ended) = (0usize, 0usize, false);
    loop {
        while let Some(c) = plan.get(next) {
            let have = base + held[0].len();
            if have < c.end && !ended {
                break;
            }
            let end = c.end.min(have);
            if c.start >= end {
                bail!("{name}: --region starts after the end of the file");
            }
            let offset = c.start as f64 / f64::from(rate);
            let shifted: Vec<RepairRegion> = c
                .regions
                .iter()
                .map(|r| RepairRegion {
                    from: r.from - offset,
                    to: r.to - offset,
                    ..*r
                })
                .collect();
            let (a, b) = (c.start - base, end - base);
            let repaired: Vec<Vec<f32>> = held
                .par_iter()
                .map(|ch| repair(&ch[a..b], rate, &shifted))
                .collect::<gpu_dsp::Result<_>>()
                .with_context(|| format!("{name}: --region"))?;
            for (ch, r) in held.iter_mut().zip(repaired) {
                ch[a..b].copy_from_slice(&r);
            }
            next += 1;
        }
        // Everything before the next region's span is final.
        let keep = plan.get(next).map_or(usize::MAX, |c| c.start);
        let done = keep.min(base + held[0].len()) - base;
        if done > 0 {
            writer.write(&held, 0, done)?;
            held.iter_mut().for_each(|ch| {
                ch.drain(..done);
            });
            base += done;
        }
        if ended {
            break;
        }
        match reader.next_block()? {
            Some((x, n)) => {
                for (ch, c) in held.iter_mut().zip(x) {
                    ch.extend_from_slice(&c[..n]);
                }
            }
            None => ended = true,
        }
    }
    writer.finish_staged()?.commit()?;
    let elapsed = started.elapsed().as_secs_f64();
    let secs = base as f64 / f64::from(rate);
    say_done(args, (channels, secs), "", regions.len(), elapsed);
    Ok(())
}

/// The one-line report: what was done (`restored`: clipping and clicks), how fast.
fn say_done(
    args: &RepairArgs,
    (channels, secs): (usize, f64),
    restored: &str,
    regions: usize,
    elapsed: f64,
) {
    say!(
        "{} -> {}: {channels} ch, {secs:.2} s; {restored}{regions} region{} repaired; {elapsed:.3} s ({:.0}x real time)",
        args.input.display(),
        args.output.display(),
        if regions == 1 { "" } else { "s" },
        secs / elapsed.max(1e-9)
    );
}

/// De-clip, de-click and then the regions, on the whole file in memory.
fn run_whole(args: &RepairArgs, regions: &[RepairRegion]) -> Result<()> {
    use gpu_dsp::restore::{declick, declip, DeclickReport, DeclickSettings};
    let input = decode_file(&args.input)?;
    let name = args.input.display().to_string();
    let rate = input.sample_rate;
    let started = Instant::now();
    let done: Vec<(Vec<f32>, DeclickReport, usize)> = input
        .channels
        .par_iter()
        .map(|c| {
            let (c, clipped) = if args.declip {
                let (y, report) = declip(c);
                (y, report.samples)
            } else {
                (c.clone(), 0)
            };
            let (y, report) = if args.declick {
                declick(&c, &DeclickSettings::default())
            } else {
                (c, DeclickReport::default())
            };
            Ok((repair(&y, rate, regions)?, report, clipped))
        })
        .collect::<gpu_dsp::Result<_>>()
        .with_context(|| format!("{name}: --region"))?;
    let elapsed = started.elapsed().as_secs_f64();
    let planes: Vec<&[f32]> = done.iter().map(|(c, _, _)| c.as_slice()).collect();
    write_wav(&args.output, rate, &planes, args.format.format)?;
    let clicks: usize = done.iter().map(|(_, r, _)| r.clicks).sum();
    let samples: usize = done.iter().map(|(_, r, _)| r.samples).sum();
    let clipped: usize = done.iter().map(|(_, _, c)| c).sum();
    let secs = input.frames() as f64 / f64::from(rate);
    let restored =
        format!("{clipped} clipped samples rebuilt; {clicks} clicks rebuilt ({samples} samples); ");
    say_done(args, (done.len(), secs), &restored, regions.len(), elapsed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_parse_with_and_without_a_band() {
        assert_eq!(parse_region("1:2").unwrap(), (1.0, 2.0, None));
        assert_eq!(
            parse_region("0.5:0.75:2800:3200").unwrap(),
            (0.5, 0.75, Some((2800.0, 3200.0)))
        );
        for bad in ["1", "1:2:3", "a:b", "1:inf", "1:2:3:4:5", ""] {
            assert!(parse_region(bad).is_err(), "{bad}");
        }
        assert_eq!(per_region(&[1, 2], 1, 2, 0, "--x").unwrap(), 2);
        assert_eq!(per_region(&[7], 1, 2, 0, "--x").unwrap(), 7);
        assert_eq!(per_region::<i32>(&[], 1, 2, 0, "--x").unwrap(), 0);
        assert!(per_region(&[1, 2], 0, 3, 0, "--x").is_err());
    }
}
