//! `mixstation analyze`: loudness, peaks and phase report of a file, readable or JSON.

use super::EngineArgs;
use crate::io::{AudioFile, ReadAhead};
use anyhow::{bail, Result};
use clap::Args;
use gpu_dsp::analysis::{
    CorrelationMeter, EnergyVectorMeter, LongTermSpectrumMeter, LoudnessMeter, LoudnessSummary,
    MaskingMeter,
};
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// Audio file to measure.
    pub file: PathBuf,
    /// Print one JSON object instead of the readable report.
    #[arg(long)]
    pub json: bool,
    /// Delivery spec to check: ebu (−23 LUFS ±0.5, −1 dBTP), atsc (−24 ±2, −2 dBTP),
    /// streaming (−14 ±1, −1 dBTP) or a LUFS number (±0.5, −1 dBTP).
    #[arg(long)]
    pub target: Option<String>,
    /// Print the third-octave spectrum and per-band correlation in the readable report.
    #[arg(long)]
    pub bands: bool,
    /// A second file (music, effects) to measure masking of FILE (dialogue) by, per band.
    #[arg(long, value_name = "MASKER")]
    pub against: Option<PathBuf>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// A loudness delivery specification.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeliverySpec {
    pub name: String,
    pub target_lufs: f64,
    pub tolerance_lu: f64,
    pub max_true_peak_dbtp: f64,
}

impl DeliverySpec {
    /// Parses `ebu`, `atsc`, `streaming` or a number of LUFS.
    pub fn parse(s: &str) -> Result<Self> {
        let spec = |name: &str, target_lufs, tolerance_lu, max_true_peak_dbtp| Self {
            name: name.to_string(),
            target_lufs,
            tolerance_lu,
            max_true_peak_dbtp,
        };
        Ok(match s.to_ascii_lowercase().as_str() {
            "ebu" | "r128" => spec("EBU R128", -23.0, 0.5, -1.0),
            "atsc" | "a85" => spec("ATSC A/85", -24.0, 2.0, -2.0),
            "streaming" => spec("streaming", -14.0, 1.0, -1.0),
            other => match other.parse::<f64>() {
                Ok(v) if v.is_finite() && v < 0.0 => spec(&format!("{v} LUFS"), v, 0.5, -1.0),
                _ => bail!("--target {s}: expected ebu, atsc, streaming or a negative LUFS number"),
            },
        })
    }
}

/// Whether a measurement meets a spec, and by how much it misses.
#[derive(Clone, Debug, Serialize)]
pub struct Compliance {
    #[serde(flatten)]
    pub spec: DeliverySpec,
    pub meets: bool,
    /// Integrated minus target (LU); positive is too loud.
    pub loudness_offset_lu: Option<f64>,
    /// True peak above the ceiling (dB), 0 when under it.
    pub true_peak_excess_db: Option<f64>,
    /// Gain that would bring the programme to the target (dB).
    pub gain_to_target_db: Option<f64>,
}

impl Compliance {
    /// Judges `s` against `spec`. Silence (no integrated loudness) does not meet any spec.
    pub fn judge(spec: DeliverySpec, s: &LoudnessSummary) -> Self {
        let offset = s.integrated.map(|i| i - spec.target_lufs);
        let excess = s
            .true_peak
            .map(|tp| (tp - spec.max_true_peak_dbtp).max(0.0));
        let meets =
            offset.is_some_and(|o| o.abs() <= spec.tolerance_lu) && excess.is_none_or(|e| e <= 0.0);
        Self {
            meets,
            loudness_offset_lu: offset,
            true_peak_excess_db: excess,
            gain_to_target_db: offset.map(|o| -o),
            spec,
        }
    }
}

/// A value at a band centre frequency.
#[derive(Clone, Debug, Serialize)]
pub struct BandValue {
    pub hz: f64,
    pub value: Option<f64>,
}

/// Direction and focus of the surround image.
#[derive(Clone, Debug, Serialize)]
pub struct Surround {
    pub direction_deg: f64,
    pub magnitude: f64,
}

/// Masking figures of one third-octave band.
#[derive(Clone, Debug, Serialize)]
pub struct Masking {
    pub hz: f64,
    pub active_fraction: f64,
    pub covered_fraction: Option<f64>,
    pub mean_margin_db: Option<f64>,
}

/// Everything `analyze --json` prints. Values that do not exist (silence) are `null`.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub file: String,
    pub sample_rate: u32,
    pub channels: usize,
    pub duration_s: f64,
    pub integrated_lufs: Option<f64>,
    pub loudness_range_lu: Option<f64>,
    pub true_peak_dbtp: Option<f64>,
    pub sample_peak_dbfs: Option<f64>,
    pub momentary_max_lufs: Option<f64>,
    pub short_term_max_lufs: Option<f64>,
    /// Broadband phase correlation, stereo only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation: Option<Option<f64>>,
    /// Side energy over total (0 mono, 1 anti-phase), stereo only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stereo_width: Option<Option<f64>>,
    /// Correlation per octave band, stereo only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub band_correlation: Option<Vec<BandValue>>,
    /// Long-term third-octave spectrum, dB re a full-scale sine.
    pub third_octave_db: Vec<BandValue>,
    /// Energy vector of the whole programme, 5.1 and 7.1 only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub surround: Option<Surround>,
    /// Per-band masking of this file by `--against`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub masking: Option<Vec<Masking>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<Compliance>,
}

/// Frames read per block.
const CHUNK: usize = 1 << 16;

/// The masker of `--against`: streamed in step with the file when the rates match, else
/// decoded whole and resampled.
enum Masker {
    Streamed(AudioFile, Vec<Vec<f32>>),
    Resampled(Vec<Vec<f32>>, usize),
}

impl Masker {
    fn open(path: &Path, rate: u32) -> Result<Self> {
        let file = AudioFile::open(path)?;
        if file.sample_rate() == rate {
            let c = file.channels();
            return Ok(Self::Streamed(file, vec![vec![0.0; CHUNK]; c]));
        }
        let from = file.sample_rate();
        let audio = crate::io::decode_all(file, crate::io::limits::MAX_DECODED_SAMPLES)?;
        Ok(Self::Resampled(
            crate::io::resample(&audio.channels, from, rate)?,
            0,
        ))
    }

    fn channels(&self) -> usize {
        match self {
            Self::Streamed(f, _) => f.channels(),
            Self::Resampled(p, _) => p.len(),
        }
    }

    /// Pushes the masker's next `n` frames (or what is left of it) into `meter`; returns how
    /// many it pushed.
    fn feed(&mut self, n: usize, meter: &mut MaskingMeter) -> Result<usize> {
        match self {
            Self::Streamed(file, buf) => {
                let mut views: Vec<&mut [f32]> = buf.iter_mut().map(|c| &mut c[..n]).collect();
                let got = file.read(&mut views)?;
                if got > 0 {
                    let planes: Vec<&[f32]> = buf.iter().map(|c| &c[..got]).collect();
                    meter.push_masker(&planes);
                }
                Ok(got)
            }
            Self::Resampled(planes, pos) => {
                let end = (*pos + n).min(planes[0].len());
                if end > *pos {
                    let block: Vec<&[f32]> = planes.iter().map(|c| &c[*pos..end]).collect();
                    meter.push_masker(&block);
                }
                let got = end - *pos;
                *pos = end;
                Ok(got)
            }
        }
    }

    /// Pushes the rest of the masker (it may be longer than the file).
    fn finish(mut self, meter: &mut MaskingMeter) -> Result<()> {
        while self.feed(CHUNK, meter)? > 0 {}
        Ok(())
    }
}

pub fn run(args: &AnalyzeArgs) -> Result<()> {
    let spec = args
        .target
        .as_deref()
        .map(DeliverySpec::parse)
        .transpose()?;
    let file = AudioFile::open(&args.file)?;
    let (rate, channels) = (file.sample_rate(), file.channels());
    let mut masker = match &args.against {
        Some(path) => Some(Masker::open(path, rate)?),
        None => None,
    };
    let stereo = channels == 2;
    let mut loudness = LoudnessMeter::new(channels, rate);
    let mut correlation = stereo.then(CorrelationMeter::default);
    // One set of 8192-point frames serves the long-term spectrum and, in stereo, the
    // per-octave correlation.
    let mut spectrum = LongTermSpectrumMeter::with_band_correlation(channels, rate);
    let mut surround = EnergyVectorMeter::new(channels);
    let mut masking = masker
        .as_ref()
        .map(|m| MaskingMeter::new(channels, m.channels(), rate));
    let bar = crate::progress::bar(file.frames().unwrap_or(0), "measuring");
    let mut reader = ReadAhead::new(file, CHUNK, 3);
    let mut frames = 0u64;
    while let Some((buf, n)) = reader.next_block()? {
        let block: Vec<&[f32]> = buf.iter().map(|c| &c[..n]).collect();
        // The meters are independent: the loudness (the costliest, with its 4× true-peak
        // oversampling) runs beside the spectral ones.
        rayon::join(
            || loudness.process(&block),
            || {
                if let Some(c) = correlation.as_mut() {
                    c.process(block[0], block[1]);
                }
                spectrum.push(&block);
                surround.push(&block);
            },
        );
        if let (Some(m), Some(meter)) = (masker.as_mut(), masking.as_mut()) {
            meter.push_target(&block);
            m.feed(n, meter)?;
        }
        frames += n as u64;
        bar.set_position(frames);
    }
    bar.finish_and_clear();
    if let (Some(m), Some(meter)) = (masker, masking.as_mut()) {
        m.finish(meter)?;
    }
    let s = loudness.summary();
    let (ltas, band_corr) = spectrum.finish_with_correlation();
    let report = Report {
        file: args.file.display().to_string(),
        sample_rate: rate,
        channels,
        duration_s: frames as f64 / f64::from(rate),
        integrated_lufs: s.integrated,
        loudness_range_lu: s.range,
        true_peak_dbtp: s.true_peak,
        sample_peak_dbfs: s.sample_peak,
        momentary_max_lufs: s.momentary_max,
        short_term_max_lufs: s.short_term_max,
        correlation: correlation.map(|c| c.correlation()),
        stereo_width: correlation.map(|c| c.width()),
        band_correlation: band_corr.map(|b| {
            b.into_iter()
                .map(|b| BandValue {
                    hz: b.band.nominal_hz,
                    value: b.correlation,
                })
                .collect()
        }),
        third_octave_db: ltas
            .third_octave()
            .into_iter()
            .map(|b| BandValue {
                hz: b.band.nominal_hz,
                value: b.db,
            })
            .collect(),
        surround: surround.finish().map(|v| Surround {
            direction_deg: v.direction_deg,
            magnitude: v.magnitude,
        }),
        masking: masking.map(|m| {
            m.finish()
                .into_iter()
                .map(|m| Masking {
                    hz: m.band.nominal_hz,
                    active_fraction: m.active_fraction,
                    covered_fraction: m.covered_fraction,
                    mean_margin_db: m.mean_margin_db,
                })
                .collect()
        }),
        target: spec.map(|spec| Compliance::judge(spec, &s)),
    };
    if args.json {
        say!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_readable(&report, args.bands);
    }
    Ok(())
}

fn fmt(v: Option<f64>, unit: &str) -> String {
    v.map_or_else(
        || "n/a (silence or too short)".to_string(),
        |v| format!("{v:.1} {unit}"),
    )
}

/// Band label from a nominal frequency: 31.5, 100, 1k, 12.5k.
fn band_label(hz: f64) -> String {
    let (v, suffix) = if hz >= 1000.0 {
        (hz / 1000.0, "k")
    } else {
        (hz, "")
    };
    let s = format!("{v:.2}");
    format!("{}{suffix}", s.trim_end_matches('0').trim_end_matches('.'))
}

fn print_readable(r: &Report, print_bands: bool) {
    say!("{}", r.file);
    say!(
        "  format          {} Hz, {} ch, {:.2} s",
        r.sample_rate,
        r.channels,
        r.duration_s
    );
    say!("  integrated      {}", fmt(r.integrated_lufs, "LUFS"));
    say!("  loudness range  {}", fmt(r.loudness_range_lu, "LU"));
    say!("  momentary max   {}", fmt(r.momentary_max_lufs, "LUFS"));
    say!("  short-term max  {}", fmt(r.short_term_max_lufs, "LUFS"));
    say!("  true peak       {}", fmt(r.true_peak_dbtp, "dBTP"));
    say!("  sample peak     {}", fmt(r.sample_peak_dbfs, "dBFS"));
    if let Some(c) = r.correlation {
        say!(
            "  correlation     {}",
            c.map_or("n/a (a channel is silent)".into(), |c| format!("{c:+.2}"))
        );
    }
    if let Some(Some(w)) = r.stereo_width {
        say!("  stereo width    {w:.2} (side energy / total)");
    }
    if let Some(s) = &r.surround {
        say!(
            "  surround image  {:+.0}° (energy vector length {:.2})",
            s.direction_deg,
            s.magnitude
        );
    }
    if print_bands {
        say!("  third-octave spectrum (dB re full-scale sine):");
        for b in &r.third_octave_db {
            match b.value {
                Some(v) => {
                    let bar = "#".repeat(((v + 100.0).max(0.0) / 2.0) as usize);
                    say!("    {:>7} Hz {v:>7.1} {bar}", band_label(b.hz));
                }
                None => say!(
                    "    {:>7} Hz     n/a (no energy or no bin in the band)",
                    band_label(b.hz)
                ),
            }
        }
        if let Some(bands) = &r.band_correlation {
            say!("  correlation per octave:");
            for b in bands {
                let v = b.value.map_or("n/a".to_string(), |c| format!("{c:+.2}"));
                say!("    {:>7} Hz {v:>6}", band_label(b.hz));
            }
        }
    }
    if let Some(m) = &r.masking {
        say!("  masking by the second file (bands where this file is active):");
        for b in m.iter().filter(|b| b.covered_fraction.is_some()) {
            say!(
                "    {:>7} Hz  covered {:>3.0}% of the time, masker {:+.1} dB vs this file",
                band_label(b.hz),
                100.0 * b.covered_fraction.unwrap_or(0.0),
                b.mean_margin_db.unwrap_or(0.0)
            );
        }
    }
    if let Some(t) = &r.target {
        let verdict = if t.meets { "MEETS" } else { "FAILS" };
        say!(
            "  {verdict} {} ({} LUFS ±{} LU, true peak ≤ {} dBTP)",
            t.spec.name,
            t.spec.target_lufs,
            t.spec.tolerance_lu,
            t.spec.max_true_peak_dbtp
        );
        if let Some(o) = t.loudness_offset_lu {
            say!("    loudness {o:+.1} LU from target (apply {:+.1} dB)", -o);
        } else {
            say!("    no integrated loudness: the file is silent");
        }
        if let Some(e) = t.true_peak_excess_db.filter(|&e| e > 0.0) {
            say!("    true peak {e:.1} dB over the ceiling");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(i: f64, tp: f64) -> LoudnessSummary {
        LoudnessSummary {
            integrated: Some(i),
            true_peak: Some(tp),
            ..Default::default()
        }
    }

    #[test]
    fn specs_and_compliance() {
        let ebu = DeliverySpec::parse("ebu").unwrap();
        assert!(Compliance::judge(ebu.clone(), &summary(-23.4, -1.5)).meets);
        let loud = Compliance::judge(ebu.clone(), &summary(-21.0, -0.5));
        assert!(!loud.meets);
        assert_eq!(loud.loudness_offset_lu, Some(2.0));
        assert!((loud.true_peak_excess_db.unwrap() - 0.5).abs() < 1e-12);
        assert!(
            Compliance::judge(DeliverySpec::parse("atsc").unwrap(), &summary(-25.9, -2.1)).meets
        );
        assert!(
            !Compliance::judge(
                DeliverySpec::parse("streaming").unwrap(),
                &summary(-16.0, -3.0)
            )
            .meets
        );
        assert_eq!(DeliverySpec::parse("-16").unwrap().target_lufs, -16.0);
        assert!(DeliverySpec::parse("loud").is_err());
        assert!(DeliverySpec::parse("5").is_err());
        let silent = Compliance::judge(ebu, &LoudnessSummary::default());
        assert!(!silent.meets);
    }
}
