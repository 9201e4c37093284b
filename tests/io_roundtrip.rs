//! Decoding every supported format against known samples, and export round trips.

use mixstation::io::{decode_file, resample, write_wav, ExportFormat};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The exact 16-bit source samples, read independently with hound.
fn source() -> Vec<Vec<f32>> {
    let mut r = hound::WavReader::open(fixture("source-16.wav")).unwrap();
    let samples: Vec<i16> = r.samples::<i16>().map(Result::unwrap).collect();
    (0..2)
        .map(|c| {
            samples
                .iter()
                .skip(c)
                .step_by(2)
                .map(|&s| f32::from(s) / 32768.0)
                .collect()
        })
        .collect()
}

#[test]
fn lossless_formats_decode_to_the_exact_samples() {
    let want = source();
    for name in ["source-16.wav", "source.flac", "source.aiff"] {
        let got = decode_file(&fixture(name)).unwrap();
        assert_eq!(got.sample_rate, 44_100, "{name}");
        assert_eq!(got.channels, want, "{name}: samples differ");
    }
}

/// Signal-to-error ratio in dB of `got` against `want`, sample-aligned.
fn snr_db(got: &[f32], want: &[f32]) -> f64 {
    let n = got.len().min(want.len());
    let (mut s, mut e) = (0.0f64, 0.0f64);
    for i in 0..n {
        s += f64::from(want[i]).powi(2);
        e += f64::from(got[i] - want[i]).powi(2);
    }
    10.0 * (s / e.max(1e-30)).log10()
}

#[test]
fn lossy_formats_decode_aligned_and_close_to_the_source() {
    let want = source();
    for (name, min_snr) in [("source.mp3", 25.0), ("source.ogg", 25.0)] {
        let got = decode_file(&fixture(name)).unwrap();
        assert_eq!(got.sample_rate, 44_100, "{name}");
        assert_eq!(got.channels.len(), 2, "{name}");
        // Gapless decoding: encoder delay and padding are trimmed (within one MP3 frame).
        let diff = got.frames().abs_diff(want[0].len());
        assert!(
            diff <= 1152,
            "{name}: {} frames vs {}",
            got.frames(),
            want[0].len()
        );
        for (c, (g, w)) in got.channels.iter().zip(&want).enumerate() {
            let snr = snr_db(g, w);
            assert!(snr > min_snr, "{name} channel {c}: SNR {snr:.1} dB");
        }
    }
}

fn random_planes(channels: usize, frames: usize, seed: u32) -> Vec<Vec<f32>> {
    let mut state = seed.max(1);
    (0..channels)
        .map(|_| {
            (0..frames)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    (state as f32 / u32::MAX as f32) * 1.8 - 0.9
                })
                .collect()
        })
        .collect()
}

#[test]
fn export_then_import_is_exact_for_f32_and_within_one_lsb_for_pcm() {
    let dir = tempfile::tempdir().unwrap();
    for channels in [1usize, 2, 6, 8] {
        let data = random_planes(channels, 3000, 7 + channels as u32);
        let planes: Vec<&[f32]> = data.iter().map(|c| c.as_slice()).collect();
        for (format, lsb) in [
            (ExportFormat::F32, 0.0f32),
            (ExportFormat::Pcm24, 1.0 / 8_388_608.0),
            (ExportFormat::Pcm16, 1.0 / 32768.0),
        ] {
            let path = dir.path().join(format!("rt-{channels}-{format:?}.wav"));
            write_wav(&path, 48_000, &planes, format).unwrap();
            let back = decode_file(&path).unwrap();
            assert_eq!(back.sample_rate, 48_000);
            assert_eq!(back.channels.len(), channels);
            for (a, b) in back.channels.iter().zip(&data) {
                assert_eq!(a.len(), b.len());
                let worst = a
                    .iter()
                    .zip(b)
                    .map(|(x, y)| (x - y).abs())
                    .fold(0.0f32, f32::max);
                if lsb == 0.0 {
                    assert_eq!(a, b, "{format:?}: f32 must round-trip bit-exactly");
                } else {
                    assert!(
                        worst <= lsb,
                        "{format:?} {channels} ch: error {worst:e} > 1 LSB {lsb:e}"
                    );
                }
            }
        }
    }
}

#[test]
fn surround_files_carry_the_right_channel_mask() {
    let dir = tempfile::tempdir().unwrap();
    for (channels, mask) in [(6usize, 0x3Fu32), (8, 0x63F)] {
        let data = random_planes(channels, 100, 3);
        let planes: Vec<&[f32]> = data.iter().map(|c| c.as_slice()).collect();
        let path = dir.path().join(format!("mask-{channels}.wav"));
        write_wav(&path, 48_000, &planes, ExportFormat::Pcm24).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        // Walk the chunks to fmt (a JUNK chunk reserved for RF64's ds64 comes first).
        let mut at = 12;
        while &bytes[at..at + 4] != b"fmt " {
            let size =
                u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]]);
            at += 8 + size as usize;
        }
        assert_eq!(&bytes[12..16], b"JUNK", "room for the RF64 ds64 chunk");
        assert_eq!(
            u16::from_le_bytes([bytes[at + 8], bytes[at + 9]]),
            0xFFFE,
            "WAVE_FORMAT_EXTENSIBLE"
        );
        assert_eq!(
            u32::from_le_bytes([
                bytes[at + 28],
                bytes[at + 29],
                bytes[at + 30],
                bytes[at + 31]
            ]),
            mask
        );
        // hound still reads it back.
        assert_eq!(
            hound::WavReader::open(&path).unwrap().spec().channels as usize,
            channels
        );
    }
}

#[test]
fn export_leaves_no_temporary_files_and_replaces_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.wav");
    std::fs::write(&path, b"old contents").unwrap();
    let data = random_planes(2, 500, 9);
    let planes: Vec<&[f32]> = data.iter().map(|c| c.as_slice()).collect();
    write_wav(&path, 44_100, &planes, ExportFormat::Pcm16).unwrap();
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("out.wav")]);
    assert_eq!(decode_file(&path).unwrap().frames(), 500);
}

#[test]
fn resampling_keeps_length_alignment_and_the_signal() {
    let from = 44_100u32;
    let to = 48_000u32;
    let freq = 997.0f64;
    let x: Vec<f32> = (0..44_100)
        .map(|i| (std::f64::consts::TAU * freq * i as f64 / f64::from(from)).sin() as f32 * 0.5)
        .collect();
    let y = resample(&[x], from, to).unwrap();
    assert_eq!(y[0].len(), 48_000);
    // Away from the edges the output is the same sine sampled at 48 kHz (aligned: no delay).
    let worst = (2_000..46_000)
        .map(|i| {
            (f64::from(y[0][i])
                - 0.5 * (std::f64::consts::TAU * freq * i as f64 / f64::from(to)).sin())
            .abs()
        })
        .fold(0.0f64, f64::max);
    assert!(worst < 1e-3, "resampled sine deviates by {worst:e}");
}
