//! Hostile input, run through the real binary: malformed and absurd audio headers, special
//! files, sessions with absurd values, argument extremes, closed pipes, interrupted renders
//! and a full disk. Every case must end in exit status 1 with one `error:` line naming the
//! file or argument (or a correct result), never a panic or a hang, and leave nothing
//! behind: no output, no temporary or work file.

mod common;

use common::{bin, noise, stderr, write_f32, Files};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs with a deadline: a hang fails the test instead of blocking the suite.
fn run_in(dir: &Path, args: &[&str]) -> Output {
    let mut child = bin()
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mixstation");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("hang: mixstation {args:?} ran over 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Exit 1, one `error:` line containing `name` and `problem`, no panic.
fn assert_refused(o: &Output, name: &str, problem: &str, case: &str) {
    let err = stderr(o);
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{case}: panic: {err}"
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{case}: exit status; stderr: {err}"
    );
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "{case}: one error line expected: {err}");
    assert!(
        lines[0].contains(name),
        "{case}: does not name {name}: {}",
        lines[0]
    );
    assert!(
        lines[0].contains(problem),
        "{case}: does not say '{problem}': {}",
        lines[0]
    );
}

/// Every file in `dir` (recursively), relative, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() && !p.is_symlink() {
                stack.push(p.clone());
            }
            out.push(p.strip_prefix(dir).unwrap().display().to_string());
        }
    }
    out.sort();
    out
}

fn assert_nothing_left(dir: &Path, before: &[String], case: &str) {
    let after = listing(dir);
    let new: Vec<&String> = after.iter().filter(|p| !before.contains(p)).collect();
    assert!(new.is_empty(), "{case}: left behind {new:?}");
}

/// A canonical 44-byte-header WAV with the given fields and `data` as its data chunk.
fn wav(tag: u16, channels: u16, rate: u32, bits: u16, align: u16, data: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&tag.to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&rate.wrapping_mul(u32::from(align)).to_le_bytes());
    b.extend_from_slice(&align.to_le_bytes());
    b.extend_from_slice(&bits.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&(data.len() as u32).to_le_bytes());
    b.extend_from_slice(data);
    b
}

fn pcm16(rate: u32, channels: u16, frames: usize) -> Vec<u8> {
    let data: Vec<u8> = (0..frames * channels as usize)
        .flat_map(|i| (((i * 37) % 2000) as i16 - 1000).to_le_bytes())
        .collect();
    wav(1, channels, rate, 16, 2 * channels, &data)
}

fn float32(samples: &[f32]) -> Vec<u8> {
    let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    wav(3, 1, 48_000, 32, 4, &data)
}

/// An AIFF file with `channels` and an 80-bit sample rate field of `rate_bytes`.
fn aiff(channels: i16, rate_bytes: [u8; 10], frames: u32) -> Vec<u8> {
    let data = vec![0u8; frames as usize * 2 * channels.max(1) as usize];
    let mut comm = Vec::new();
    comm.extend_from_slice(&channels.to_be_bytes());
    comm.extend_from_slice(&frames.to_be_bytes());
    comm.extend_from_slice(&16i16.to_be_bytes());
    comm.extend_from_slice(&rate_bytes);
    let mut b = Vec::new();
    b.extend_from_slice(b"FORM");
    b.extend_from_slice(&((4 + 8 + 18 + 8 + 8 + data.len()) as u32).to_be_bytes());
    b.extend_from_slice(b"AIFFCOMM");
    b.extend_from_slice(&18u32.to_be_bytes());
    b.extend_from_slice(&comm);
    b.extend_from_slice(b"SSND");
    b.extend_from_slice(&((8 + data.len()) as u32).to_be_bytes());
    b.extend_from_slice(&[0u8; 8]);
    b.extend_from_slice(&data);
    b
}

/// 48000 as an 80-bit extended float.
const AIFF_48K: [u8; 10] = [0x40, 0x0E, 0xBB, 0x80, 0, 0, 0, 0, 0, 0];

/// The bad audio files: name, bytes, and what the error must say.
fn bad_audio() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let good = pcm16(48_000, 1, 4800);
    let mut huge_fmt = good.clone();
    huge_fmt[16..20].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    let mut short_fmt = good.clone();
    short_fmt[16..20].copy_from_slice(&10u32.to_le_bytes());
    let mut no_data = good[..36].to_vec();
    no_data.extend_from_slice(b"LIST\x04\x00\x00\x00abcd");
    let mut data_first = b"RIFF\x00\x00\x00\x00WAVEdata\x04\x00\x00\x00\x00\x00\x00\x00".to_vec();
    data_first.extend_from_slice(&good[12..36]);
    let mut rf64_no_ds64 = good.clone();
    rf64_no_ds64[0..4].copy_from_slice(b"RF64");
    rf64_no_ds64[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
    let mut flac0 =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/source.flac"))
            .unwrap();
    // STREAMINFO: sample rate (20 bits) at bytes 18..=20 of the file.
    flac0[18] = 0;
    flac0[19] = 0;
    flac0[20] &= 0x0F;
    let mut ext_guid = Vec::new();
    ext_guid.extend_from_slice(b"RIFF\x00\x00\x00\x00WAVEfmt \x28\x00\x00\x00");
    ext_guid.extend_from_slice(&0xFFFEu16.to_le_bytes());
    ext_guid.extend_from_slice(&1u16.to_le_bytes());
    ext_guid.extend_from_slice(&48_000u32.to_le_bytes());
    ext_guid.extend_from_slice(&96_000u32.to_le_bytes());
    ext_guid.extend_from_slice(&2u16.to_le_bytes());
    ext_guid.extend_from_slice(&16u16.to_le_bytes());
    ext_guid.extend_from_slice(&22u16.to_le_bytes());
    ext_guid.extend_from_slice(&16u16.to_le_bytes());
    ext_guid.extend_from_slice(&4u32.to_le_bytes());
    ext_guid.extend_from_slice(&[0x42u8; 16]);
    ext_guid.extend_from_slice(b"data\x10\x00\x00\x00");
    ext_guid.extend_from_slice(&[0u8; 16]);
    let mut random = vec![0u8; 3000];
    let mut s = 7u32;
    for b in &mut random {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        *b = s as u8;
    }
    vec![
        ("rate0.wav", pcm16(0, 1, 4800), "sample rate of 0 Hz"),
        (
            "rate4g.wav",
            pcm16(u32::MAX, 1, 48_000),
            "outside the supported",
        ),
        ("rate1.wav", pcm16(1, 1, 72_000), "outside the supported"),
        (
            "rate7999.wav",
            pcm16(7_999, 1, 4800),
            "outside the supported",
        ),
        (
            "rate384001.wav",
            pcm16(384_001, 1, 4800),
            "outside the supported",
        ),
        (
            "channels0.wav",
            wav(1, 0, 48_000, 16, 0, &[0; 64]),
            "0 channels",
        ),
        (
            "channels65535.wav",
            wav(1, 65_535, 48_000, 16, 2, &[0; 64]),
            "at most 64",
        ),
        (
            "bits12.wav",
            wav(1, 1, 48_000, 12, 2, &[0; 64]),
            "sample size",
        ),
        (
            "bits0.wav",
            wav(1, 1, 48_000, 0, 2, &[0; 64]),
            "sample size",
        ),
        (
            "align.wav",
            wav(1, 2, 48_000, 16, 3, &[0; 64]),
            "block align",
        ),
        (
            "mp3inwav.wav",
            wav(0x55, 1, 48_000, 16, 2, &[0; 64]),
            "unsupported WAV encoding",
        ),
        (
            "tag1234.wav",
            wav(0x1234, 1, 48_000, 16, 2, &[0; 64]),
            "unsupported WAV encoding",
        ),
        ("fmt_huge.wav", huge_fmt, "malformed header"),
        ("fmt_short.wav", short_fmt, "malformed header"),
        ("no_data.wav", no_data, "no data chunk"),
        ("data_first.wav", data_first, "data before fmt"),
        (
            "truncated.wav",
            good[..good.len() / 2].to_vec(),
            "truncated",
        ),
        (
            "header_only.wav",
            b"RIFF\x04\x00\x00\x00WAVE".to_vec(),
            "no fmt chunk",
        ),
        ("empty.wav", Vec::new(), "empty"),
        (
            "text.wav",
            b"this is not audio at all, just some text in a file".to_vec(),
            "not a supported audio file",
        ),
        ("random.wav", random.clone(), "not a supported audio file"),
        ("random.flac", random, "not a supported audio file"),
        (
            "nan.wav",
            float32(&[0.1, f32::NAN, 0.2, 0.3]),
            "NaN or infinite",
        ),
        (
            "inf.wav",
            float32(&[0.1, 0.2, f32::INFINITY]),
            "NaN or infinite",
        ),
        ("rf64_no_ds64.wav", rf64_no_ds64, "no ds64"),
        ("ext_guid.wav", ext_guid, "sub-format"),
        (
            "aiff_rate0.aiff",
            aiff(1, [0; 10], 100),
            "sample rate of 0 Hz",
        ),
        ("aiff_channels0.aiff", aiff(0, AIFF_48K, 100), "0 channels"),
        ("flac_rate0.flac", flac0, "sample rate of 0 Hz"),
        (
            "zero_frames.wav",
            wav(1, 1, 48_000, 16, 2, &[]),
            "no audio frames",
        ),
    ]
}

/// Every bad file refused by analyze, convolve (as input and as IR), spectrogram, clean and a
/// session clip, with nothing written.
#[test]
fn malformed_audio_is_refused_by_every_command() {
    let d = Files::new();
    write_f32(&d.path("good.wav"), 48_000, &[noise(4800, 1)]);
    write_f32(&d.path("ir.wav"), 48_000, &[noise(100, 2)]);
    let files = bad_audio();
    for (name, bytes, _) in &files {
        std::fs::write(d.path(name), bytes).unwrap();
    }
    let before = listing(d.root());
    let mut cases = 0;
    for (name, _, problem) in &files {
        let file = d.s(name);
        let commands: Vec<Vec<String>> = vec![
            vec!["analyze".into(), file.clone()],
            vec![
                "convolve".into(),
                file.clone(),
                "--ir".into(),
                d.s("ir.wav"),
                "-o".into(),
                d.s("out.wav"),
                "--engine".into(),
                "cpu".into(),
            ],
            vec![
                "convolve".into(),
                d.s("good.wav"),
                "--ir".into(),
                file.clone(),
                "-o".into(),
                d.s("out.wav"),
                "--engine".into(),
                "cpu".into(),
            ],
            vec![
                "spectrogram".into(),
                file.clone(),
                "-o".into(),
                d.s("out.png"),
                "--engine".into(),
                "cpu".into(),
            ],
            vec![
                "clean".into(),
                file.clone(),
                "-o".into(),
                d.s("out.wav"),
                "--engine".into(),
                "cpu".into(),
            ],
        ];
        for args in commands {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let o = run_in(d.root(), &args);
            let case = format!("{name} in {}", args[0]);
            assert_refused(&o, name, problem, &case);
            assert_nothing_left(d.root(), &before, &case);
            cases += 1;
        }
        // As a session clip.
        let session =
            format!("[session]\nsample_rate = 48000\n[[track]]\nname = \"t\"\nfile = \"{name}\"\n");
        std::fs::write(d.path("s.toml"), session).unwrap();
        let o = run_in(d.root(), &["render", &d.s("s.toml"), "-o", &d.s("mix.wav")]);
        assert_refused(&o, name, problem, &format!("{name} as a clip"));
        std::fs::remove_file(d.path("s.toml")).unwrap();
        assert_nothing_left(d.root(), &before, name);
        cases += 1;
    }
    assert!(cases >= 180, "{cases} cases");
}

/// WAVs whose sizes say "unknown" (written to a pipe by FFmpeg or SoX) are read to the end.
#[test]
fn wavs_streamed_to_a_pipe_are_read_to_their_end() {
    let d = Files::new();
    let mut ffmpeg = pcm16(48_000, 2, 4800);
    ffmpeg[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    ffmpeg[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
    let mut sox = pcm16(48_000, 2, 4800);
    sox[4..8].copy_from_slice(&0x7FFF_F024u32.to_le_bytes());
    sox[40..44].copy_from_slice(&0x7FFF_F000u32.to_le_bytes());
    let mut zero = pcm16(48_000, 2, 4800);
    zero[4..8].copy_from_slice(&0u32.to_le_bytes());
    zero[40..44].copy_from_slice(&0u32.to_le_bytes());
    for (name, bytes) in [("ff.wav", ffmpeg), ("sox.wav", sox), ("zero.wav", zero)] {
        std::fs::write(d.path(name), &bytes).unwrap();
        let a = mixstation::io::decode_file(&d.path(name)).unwrap();
        assert_eq!(a.frames(), 4800, "{name}");
        assert_eq!(a.channels.len(), 2, "{name}");
        assert_eq!(
            a.channels[1][1],
            (111.0 - 1000.0) / 32768.0, // sample 3: (3·37 mod 2000) − 1000
            "{name}"
        );
        let o = run_in(d.root(), &["analyze", &d.s(name), "--json"]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(
            (v["duration_s"].as_f64().unwrap() - 0.1).abs() < 1e-9,
            "{name}"
        );
        // Through the spectrogram too (its length is counted first).
        let o = run_in(
            d.root(),
            &[
                "spectrogram",
                &d.s(name),
                "-o",
                &d.s("s.png"),
                "--engine",
                "cpu",
            ],
        );
        assert!(o.status.success(), "{name}: {}", stderr(&o));
    }
    // An RF64 streamed to a pipe (ds64 sizes 0, data size 0xFFFFFFFF), as `ffmpeg -rf64
    // always` writes it.
    let mut rf64 = pcm16(48_000, 2, 4800);
    rf64[0..4].copy_from_slice(b"RF64");
    rf64[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    rf64[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
    let mut ds64 = b"ds64\x1c\x00\x00\x00".to_vec();
    ds64.extend_from_slice(&[0u8; 28]);
    rf64.splice(12..12, ds64);
    std::fs::write(d.path("rf64pipe.wav"), &rf64).unwrap();
    assert_eq!(
        mixstation::io::decode_file(&d.path("rf64pipe.wav"))
            .unwrap()
            .frames(),
        4800
    );
    // A 2 GiB data chunk whose size is exact, followed by a LIST chunk (as editors write
    // metadata after the audio): the size is trusted, the LIST is not audio. Sparse: cheap.
    let data: u32 = 1 << 31;
    let mut big = pcm16(48_000, 2, 0);
    big[40..44].copy_from_slice(&data.to_le_bytes());
    big[4..8].copy_from_slice(&(36 + data + 16).to_le_bytes());
    let path = d.path("big-list.wav");
    std::fs::write(&path, &big).unwrap();
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.seek(SeekFrom::Start(44 + u64::from(data))).unwrap();
        f.write_all(b"LIST\x08\x00\x00\x00INFOabcd").unwrap();
    }
    let f = mixstation::io::AudioFile::open(&path).unwrap();
    assert_eq!(f.frames(), Some(u64::from(data) / 4));
    // A real FFmpeg pipe, when FFmpeg is here (it is installed by `make deps`).
    if Command::new("ffmpeg").arg("-version").output().is_ok() {
        let o = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "ffmpeg -loglevel error -f lavfi -i sine=frequency=1000:duration=0.5 -ac 2 -f wav - | cat > {}",
                d.s("pipe.wav")
            ))
            .output()
            .unwrap();
        assert!(o.status.success());
        let a = mixstation::io::decode_file(&d.path("pipe.wav")).unwrap();
        assert_eq!(a.frames(), 22_050);
    }
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

/// FIFOs, folders and links as inputs and outputs: refused at once (no hang), never replaced;
/// a symlinked output is followed to its target.
#[test]
fn special_files_are_refused_and_links_followed() {
    let d = Files::new();
    write_f32(&d.path("in.wav"), 48_000, &[noise(4800, 1)]);
    write_f32(&d.path("ir.wav"), 48_000, &[noise(100, 2)]);
    mkfifo(&d.path("fifo.wav"));
    mkfifo(&d.path("fifo.toml"));
    std::fs::create_dir(d.path("folder.wav")).unwrap();
    std::fs::write(
        d.path("s.toml"),
        "[session]\nsample_rate = 48000\n[[track]]\nname = \"t\"\nfile = \"fifo.wav\"\n",
    )
    .unwrap();
    std::fs::write(
        d.path("r.toml"),
        "[session]\nsample_rate = 48000\n[[bus]]\nname = \"r\"\n[[bus.insert]]\ntype = \"reverb\"\nir = \"fifo.wav\"\n[[track]]\nname = \"t\"\nfile = \"in.wav\"\n",
    )
    .unwrap();
    let before = listing(d.root());
    let (input, ir, fifo, folder) = (
        d.s("in.wav"),
        d.s("ir.wav"),
        d.s("fifo.wav"),
        d.s("folder.wav"),
    );
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (vec!["analyze", &fifo], "fifo.wav", "FIFO"),
        (
            vec!["spectrogram", &fifo, "-o", "x.png"],
            "fifo.wav",
            "FIFO",
        ),
        (vec!["clean", &fifo, "-o", "x.wav"], "fifo.wav", "FIFO"),
        (
            vec!["convolve", &fifo, "--ir", &ir, "-o", "x.wav"],
            "fifo.wav",
            "FIFO",
        ),
        (
            vec!["convolve", &input, "--ir", &fifo, "-o", "x.wav"],
            "fifo.wav",
            "FIFO",
        ),
        (
            vec!["render", "fifo.toml", "-o", "x.wav"],
            "fifo.toml",
            "FIFO",
        ),
        (vec!["render", "s.toml", "-o", "x.wav"], "fifo.wav", "FIFO"),
        (vec!["render", "r.toml", "-o", "x.wav"], "fifo.wav", "FIFO"),
        (vec!["analyze", &folder], "folder.wav", "folder"),
        (
            vec!["convolve", &input, "--ir", &ir, "-o", &fifo],
            "fifo.wav",
            "FIFO",
        ),
        (vec!["clean", &input, "-o", &fifo], "fifo.wav", "FIFO"),
        (vec!["spectrogram", &input, "-o", &fifo], "fifo.wav", "FIFO"),
        (
            vec!["spectrogram", &input, "-o", "a.png", "--csv", &fifo],
            "fifo.wav",
            "FIFO",
        ),
        (
            vec!["convolve", &input, "--ir", &ir, "-o", &folder],
            "folder.wav",
            "folder",
        ),
    ];
    for (args, name, problem) in &cases {
        let o = run_in(d.root(), args);
        assert_refused(&o, name, problem, &format!("{args:?}"));
        assert_nothing_left(d.root(), &before, &format!("{args:?}"));
    }
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata(d.path("fifo.wav"))
        .unwrap()
        .file_type()
        .is_fifo());
    // A symlink output: the link stays, its target is written.
    std::fs::create_dir(d.path("real")).unwrap();
    std::os::unix::fs::symlink("real/target.wav", d.path("link.wav")).unwrap();
    let o = run_in(
        d.root(),
        &[
            "convolve", &input, "--ir", &ir, "-o", "link.wav", "--engine", "cpu",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::symlink_metadata(d.path("link.wav"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        mixstation::io::decode_file(&d.path("real/target.wav"))
            .unwrap()
            .frames(),
        4899
    );
    // A link to the input is the input.
    std::os::unix::fs::symlink("in.wav", d.path("same.wav")).unwrap();
    let o = run_in(d.root(), &["clean", &input, "-o", "same.wav"]);
    assert_refused(&o, "same.wav", "overwrite the input", "link to input");
}

/// Sessions with absurd but finite values, empty names and oversized files.
#[test]
fn absurd_sessions_are_refused_by_range() {
    let head = "[session]\nsample_rate = 48000\n";
    let track = "[[track]]\nname = \"a\"\nfile = \"a.wav\"\n";
    let bus = "[[bus]]\nname = \"r\"\n[[bus.insert]]\ntype = \"reverb\"\nir = \"ir.wav\"\n";
    let cases: Vec<(String, &str)> = vec![
        (format!("{head}{track}gain_db = 1e9\n"), "gain_db 1000000000: expected -200 to 24 dB"),
        (format!("{head}{track}gain_db = -1e9\n"), "gain_db -1000000000"),
        (format!("{head}{track}pan = 3\n"), "pan 3"),
        (format!("{head}{track}lfe_db = 1e9\n"), "lfe_db"),
        (format!("{head}{track}azimuth = 1e9\n"), "azimuth"),
        (format!("{head}[[track]]\nname = \"a\"\n[[track.clip]]\nfile = \"a.wav\"\ngain_db = 1e9\n"), "clip #1: gain_db"),
        (format!("{head}{bus}{track}[[track.send]]\nbus = \"r\"\nlevel_db = 1e9\n"), "send #1: level_db"),
        (format!("{head}[[bus]]\nname = \"r\"\ngain_db = 1e9\n{track}"), "'r': gain_db"),
        (format!("{head}{track}[[track.insert]]\ntype = \"eq\"\nbands = [{{ type = \"bell\", freq = 1000.0, gain_db = 1e9 }}]\n"), "band #1: gain_db"),
        (format!("{head}{track}[[track.insert]]\ntype = \"eq\"\nbands = [{{ type = \"bell\", freq = 1000.0, q = 1e-9 }}]\n"), "q "),
        (format!("{head}{track}[[track.insert]]\ntype = \"compressor\"\nratio = 1e9\n"), "ratio"),
        (format!("{head}{track}[[track.insert]]\ntype = \"compressor\"\nattack_ms = -5\n"), "attack_ms"),
        (format!("{head}{track}[[track.insert]]\ntype = \"gate\"\nrange_db = 40\n"), "range_db 40"),
        (format!("{head}{track}[[track.insert]]\ntype = \"limiter\"\nceiling_db = -1e9\n"), "ceiling_db"),
        (format!("{head}[[bus]]\nname = \"r\"\n[[bus.insert]]\ntype = \"reverb\"\nir = \"ir.wav\"\nir_gain_db = 1e9\n{track}"), "ir_gain_db"),
        (format!("{head}[[bus]]\nname = \"r\"\n[[bus.insert]]\ntype = \"reverb\"\nir = \"ir.wav\"\npredelay_ms = 1e9\n{track}"), "predelay_ms"),
        (format!("{head}[[bus]]\nname = \"r\"\n[[bus.insert]]\ntype = \"reverb\"\nir = \"ir.wav\"\nwet = 1e9\n{track}"), "wet"),
        (format!("{head}[[bus]]\nname = \"d\"\n[[bus.insert]]\ntype = \"duck\"\nsidechain = \"MX\"\nmax_db = 1e9\n{track}"), "max_db"),
        (format!("{head}{track}[[track.insert]]\ntype = \"multiband\"\nrange_db = 1e9\n"), "range_db"),
        (format!("{head}[master]\ngain_db = 1e9\n{track}"), "[master]: gain_db"),
        (format!("{head}[master]\nloudness_target = 1e9\n{track}"), "loudness_target"),
        (format!("{head}[master]\ntrue_peak_ceiling = -1e9\n{track}"), "true_peak_ceiling"),
        (format!("{head}{track}[[track.automation]]\nparam = \"gain_db\"\npoints = [[0.0, 1e9]]\n"), "point 1: gain_db"),
        (format!("{head}{track}[[track.insert]]\ntype = \"eq\"\nbands = [{{ type = \"bell\", freq = 1000.0 }}]\n[[track.automation]]\nparam = \"insert.1.band0_gain_db\"\npoints = [[0.0, 1e9]]\n"), "point 1: gain_db"),
        // Every processor's automation is range-checked from its one table (a clean, a
        // limiter, a gate and a multiband were not before).
        (format!("{head}{track}[[track.insert]]\ntype = \"clean\"\n[[track.automation]]\nparam = \"insert.1.reduction_db\"\npoints = [[0.0, 18.0], [1.0, 100.0]]\n"), "point 2: reduction_db 100: expected 0 to 60 dB"),
        (format!("{head}{track}[[track.insert]]\ntype = \"limiter\"\n[[track.automation]]\nparam = \"insert.1.ceiling_db\"\npoints = [[0.0, 3.0]]\n"), "point 1: ceiling_db 3"),
        (format!("{head}{track}[[track.insert]]\ntype = \"gate\"\n[[track.automation]]\nparam = \"insert.1.range_db\"\npoints = [[0.0, 40.0]]\n"), "point 1: range_db 40"),
        (format!("{head}{track}[[track.insert]]\ntype = \"multiband\"\n[[track.automation]]\nparam = \"insert.1.ratio\"\npoints = [[0.0, 0.5]]\n"), "point 1: ratio 0.5"),
        (format!("{head}{track}[[track.insert]]\ntype = \"clean\"\n[[track.automation]]\nparam = \"insert.1.ratio\"\npoints = [[0.0, 2.0]]\n"), "has no automatable parameter 'ratio' (it has: reduction_db)"),
        (format!("[session]\nsample_rate = 48000\nstems = [\"\"]\n{track}"), "a stem needs a name"),
        (format!("{head}{track}stem = \"D/X\"\n[[track]]\nname = \"b\"\nfile = \"a.wav\"\nstem = \"D:X\"\n"), "would write the same file"),
        (format!("[session]\nsample_rate = 4294967295\n{track}"), "sample_rate"),
        (format!("[session]\nsample_rate = 0\n{track}"), "sample_rate"),
    ];
    let d = Files::new();
    write_f32(&d.path("a.wav"), 48_000, &[noise(4800, 1)]);
    write_f32(&d.path("ir.wav"), 48_000, &[noise(100, 2)]);
    let before = listing(d.root());
    for (toml, problem) in &cases {
        std::fs::write(d.path("s.toml"), toml).unwrap();
        let o = run_in(d.root(), &["render", "s.toml", "-o", "mix.wav"]);
        assert_refused(&o, "s.toml", problem, toml);
        std::fs::remove_file(d.path("s.toml")).unwrap();
        assert_nothing_left(d.root(), &before, toml);
    }
    // A session file past 16 MiB, and a binary one.
    let mut big = format!("{head}{track}");
    big.push_str(&"# padding\n".repeat(1_700_000));
    std::fs::write(d.path("big.toml"), big).unwrap();
    let o = run_in(d.root(), &["render", "big.toml", "-o", "mix.wav"]);
    assert_refused(&o, "big.toml", "over the 16 MiB limit", "big session");
    std::fs::write(d.path("bin.toml"), [0xFFu8, 0xFE, 0x00, 0x80]).unwrap();
    let o = run_in(d.root(), &["render", "bin.toml", "-o", "mix.wav"]);
    assert_refused(&o, "bin.toml", "not UTF-8", "binary session");
}

/// Argument extremes: each one clear error before any work.
#[test]
fn argument_extremes_are_refused() {
    let d = Files::new();
    write_f32(&d.path("in.wav"), 48_000, &[noise(48_000, 1)]);
    write_f32(&d.path("ir.wav"), 48_000, &[noise(100, 2)]);
    std::fs::write(d.path("s.toml"), "[session]\nsample_rate = 48000\n[[track]]\nname = \"a\"\nfile = \"in.wav\"\nstem = \"DX\"\n").unwrap();
    std::fs::write(d.path("notafolder"), "x").unwrap();
    write_f32(&d.path("tiny384k.wav"), 384_000, &[vec![0.5]]);
    // A 64 MiB 8 kHz file, sparse (cheap): 33.5 million frames.
    let mut long = pcm16(8_000, 1, 0);
    let data = 64u32 << 20;
    long[40..44].copy_from_slice(&data.to_le_bytes());
    long[4..8].copy_from_slice(&(36 + data).to_le_bytes());
    std::fs::write(d.path("long.wav"), &long).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(d.path("long.wav"))
        .unwrap()
        .set_len(44 + u64::from(data))
        .unwrap();
    let before = listing(d.root());
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (
            vec![
                "convolve",
                "in.wav",
                "--ir",
                "ir.wav",
                "-o",
                "o.wav",
                "--max-ir-seconds",
                "-1",
            ],
            "--max-ir-seconds",
            "expected more than 0",
        ),
        (
            vec![
                "convolve",
                "in.wav",
                "--ir",
                "ir.wav",
                "-o",
                "o.wav",
                "--max-ir-seconds",
                "nan",
            ],
            "--max-ir-seconds",
            "expected more than 0",
        ),
        (
            vec![
                "convolve",
                "in.wav",
                "--ir",
                "ir.wav",
                "-o",
                "o.wav",
                "--max-ir-seconds",
                "1e9",
            ],
            "--max-ir-seconds",
            "at most 600",
        ),
        (
            vec![
                "convolve",
                "in.wav",
                "--ir",
                "ir.wav",
                "-o",
                "o.wav",
                "--max-ir-seconds",
                "0.001",
            ],
            "ir.wav",
            "over the 0.001 s limit",
        ),
        (
            vec![
                "convolve", "in.wav", "--ir", "ir.wav", "-o", "o.wav", "--wet", "nan",
            ],
            "--wet",
            "linear gain",
        ),
        (
            vec![
                "convolve", "in.wav", "--ir", "ir.wav", "-o", "o.wav", "--dry", "1e30",
            ],
            "--dry",
            "linear gain",
        ),
        (
            vec![
                "spectrogram",
                "long.wav",
                "-o",
                "a.png",
                "--fft",
                "65536",
                "--hop",
                "1",
            ],
            "long.wav",
            "raise --hop",
        ),
        (
            vec![
                "spectrogram",
                "long.wav",
                "-o",
                "a.png",
                "--fft",
                "4096",
                "--hop",
                "16",
                "--csv",
                "a.csv",
            ],
            "long.wav",
            "CSV would hold",
        ),
        (
            vec!["spectrogram", "in.wav", "-o", "a.png", "--fft", "3"],
            "FFT size 3",
            "power of two",
        ),
        (
            vec!["spectrogram", "in.wav", "-o", "a.png", "--hop", "0"],
            "hop 0",
            "between 1",
        ),
        (
            vec!["spectrogram", "in.wav", "-o", "a.png", "--range-db", "nan"],
            "--range-db",
            "expected",
        ),
        (
            vec![
                "spectrogram",
                "in.wav",
                "-o",
                "a.png",
                "--width",
                "20000",
                "--fft",
                "65536",
            ],
            "--width",
            "too large",
        ),
        (
            vec!["spectrogram", "in.wav", "-o", "a.png", "--csv", "a.png"],
            "a.png",
            "share this file",
        ),
        (
            vec![
                "spectrogram",
                "in.wav",
                "-o",
                "a.png",
                "--csv",
                "./sub/../a.png",
            ],
            "a.png",
            "share this file",
        ),
        (
            vec!["clean", "in.wav", "-o", "o.wav", "--reduction-db", "1e9"],
            "--reduction-db",
            "0 to 60",
        ),
        (
            vec!["clean", "in.wav", "-o", "o.wav", "--hum", "55"],
            "--hum 55",
            "expected auto",
        ),
        (
            vec!["clean", "in.wav", "-o", "o.wav", "--noise-from", "5:1"],
            "--noise-from",
            "START < END",
        ),
        (
            vec!["clean", "in.wav", "-o", "o.wav", "--noise-from", "9:10"],
            "in.wav",
            "--noise-from",
        ),
        (vec!["play", "s.toml", "--from", "-5"], "--from -5", "≥ 0"),
        (
            vec!["render", "s.toml", "-o", "DX.wav", "--stems", "."],
            "DX.wav",
            "share this file",
        ),
        (
            vec!["render", "s.toml", "-o", "m.wav", "--stems", "notafolder"],
            "notafolder",
            "names a file",
        ),
        (
            vec!["render", "s.toml", "-o", "m.wav", "--stems", "missing"],
            "missing",
            "does not exist",
        ),
        (
            vec!["render", "s.toml", "-o", "s.toml"],
            "s.toml",
            "overwrite the input",
        ),
        (
            vec!["analyze", "in.wav", "--target", "1e9"],
            "--target",
            "expected",
        ),
        (
            vec!["analyze", "/dev/zero"],
            "/dev/zero",
            "character device",
        ),
        (
            vec!["render", "/dev/zero", "-o", "m.wav"],
            "/dev/zero",
            "character device",
        ),
        (
            vec!["convolve", "in.wav", "--ir", "tiny384k.wav", "-o", "o.wav"],
            "tiny384k.wav",
            "empty once resampled to 48000 Hz",
        ),
        (
            vec!["demo", "--out", "notafolder"],
            "notafolder",
            "cannot create folder",
        ),
        (
            vec!["demo", "--out", "d", "--seconds", "1e9"],
            "--seconds",
            "expected 1 to 600",
        ),
    ];
    std::fs::create_dir(d.path("sub")).unwrap();
    let before = {
        let mut b = before;
        b.push("sub".into());
        b.sort();
        b
    };
    for (args, name, problem) in &cases {
        let o = run_in(d.root(), args);
        assert_refused(&o, name, problem, &format!("{args:?}"));
        assert_nothing_left(d.root(), &before, &format!("{args:?}"));
    }
}

/// An error after the writer has blocks queued (a NaN far into the input) still removes the
/// output's temporary file before the process exits.
#[test]
fn a_late_error_leaves_no_temporary_file() {
    let d = Files::new();
    let mut x = noise(200_000, 1);
    x[190_000] = f32::NAN;
    std::fs::write(d.path("late-nan.wav"), float32(&x)).unwrap();
    write_f32(&d.path("ir.wav"), 48_000, &[noise(100, 2)]);
    let before = listing(d.root());
    for _ in 0..3 {
        let o = run_in(
            d.root(),
            &[
                "convolve",
                "late-nan.wav",
                "--ir",
                "ir.wav",
                "-o",
                "o.wav",
                "--engine",
                "cpu",
            ],
        );
        assert_refused(&o, "late-nan.wav", "first at frame 190000", "late NaN");
        assert_nothing_left(d.root(), &before, "late NaN");
    }
    // A FLAC cut inside its last block: one clear answer from the spectrogram, no panic.
    let flac =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/source.flac"))
            .unwrap();
    std::fs::write(d.path("cut.flac"), &flac[..flac.len() - 300]).unwrap();
    let o = run_in(
        d.root(),
        &["spectrogram", "cut.flac", "-o", "s.png", "--hop", "4096"],
    );
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        o.status.code() == Some(0) || o.status.code() == Some(1),
        "{err}"
    );
}

/// A closed standard output is a quiet exit, and the command's files are still written.
#[test]
fn a_closed_stdout_is_not_a_crash() {
    let d = Files::new();
    write_f32(&d.path("in.wav"), 48_000, &[noise(4800, 1), noise(4800, 2)]);
    write_f32(&d.path("ir.wav"), 48_000, &[noise(100, 2)]);
    for args in [
        vec!["analyze", "in.wav", "--json"],
        vec!["analyze", "in.wav", "--bands"],
        vec![
            "convolve", "in.wav", "--ir", "ir.wav", "-o", "c.wav", "--engine", "cpu",
        ],
        vec!["clean", "in.wav", "-o", "k.wav", "--engine", "cpu"],
    ] {
        let mut child = bin()
            .args(&args)
            .current_dir(d.root())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader goes away at once
        let o = child.wait_with_output().unwrap();
        let err = stderr(&o);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
    }
    assert!(d.path("c.wav").is_file() && d.path("k.wav").is_file());
}

/// A long enough session to interrupt: a minute of noise through a reverb bus.
fn long_session(d: &Files) {
    write_f32(
        &d.path("long.wav"),
        48_000,
        &[noise(48_000 * 60, 3), noise(48_000 * 60, 4)],
    );
    write_f32(&d.path("ir.wav"), 48_000, &[noise(48_000, 5)]);
    std::fs::write(
        d.path("s.toml"),
        "[session]\nsample_rate = 48000\nstems = [\"DX\", \"MX\"]\n[[bus]]\nname = \"r\"\n[[bus.insert]]\ntype = \"reverb\"\nir = \"ir.wav\"\n[[track]]\nname = \"a\"\nfile = \"long.wav\"\nstem = \"DX\"\n[[track.send]]\nbus = \"r\"\n[[track]]\nname = \"b\"\nfile = \"long.wav\"\nstem = \"MX\"\n",
    )
    .unwrap();
    std::fs::create_dir(d.path("stems")).unwrap();
}

/// SIGINT and SIGTERM during a render remove every work file; after SIGKILL the next run
/// in the folder removes what was left.
#[test]
fn interrupted_renders_leave_nothing_behind() {
    let d = Files::new();
    long_session(&d);
    let before = listing(d.root());
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGKILL] {
        let child = bin()
            .args([
                "render", "s.toml", "-o", "mix.wav", "--stems", "stems", "--engine", "cpu",
            ])
            .current_dir(d.root())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until the render's work folder exists (the mix is under way).
        let start = Instant::now();
        while !listing(d.root())
            .iter()
            .any(|p| p.starts_with(".mixstation-render-"))
        {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "no work folder appeared"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(200));
        // SAFETY: signalling our own child.
        unsafe {
            libc::kill(child.id() as i32, sig);
        }
        let o = child.wait_with_output().unwrap();
        if sig == libc::SIGKILL {
            let left: Vec<String> = listing(d.root())
                .into_iter()
                .filter(|p| p.starts_with(".mixstation-") && !p.contains('/'))
                .collect();
            assert!(!left.is_empty());
            // Fresh files of a dead process are kept (it may be a run in another PID
            // namespace or on another host); idle for ten minutes, they go.
            let o = run_in(
                d.root(),
                &["clean", "ir.wav", "-o", "ir-clean.wav", "--engine", "cpu"],
            );
            assert!(o.status.success(), "{}", stderr(&o));
            std::fs::remove_file(d.path("ir-clean.wav")).unwrap();
            assert!(listing(d.root())
                .iter()
                .any(|p| p.starts_with(".mixstation-")));
            let old = std::time::SystemTime::now() - Duration::from_secs(3600);
            for p in &left {
                let path = d.path(p);
                let mut all = vec![path.clone()];
                if path.is_dir() {
                    all.extend(
                        std::fs::read_dir(&path)
                            .unwrap()
                            .flatten()
                            .map(|e| e.path()),
                    );
                }
                for f in all {
                    std::fs::File::open(&f).unwrap().set_modified(old).unwrap();
                }
            }
            // The next command writing here sweeps the dead run's files.
            let o = run_in(d.root(), &["analyze", "long.wav"]);
            assert!(o.status.success());
            let o = run_in(
                d.root(),
                &["clean", "ir.wav", "-o", "ir-clean.wav", "--engine", "cpu"],
            );
            assert!(o.status.success(), "{}", stderr(&o));
            std::fs::remove_file(d.path("ir-clean.wav")).unwrap();
        } else {
            assert_eq!(
                o.status.code(),
                Some(128 + sig),
                "signal {sig}: {}",
                stderr(&o)
            );
            assert!(stderr(&o).contains("interrupted"));
        }
        assert_nothing_left(d.root(), &before, &format!("signal {sig}"));
    }
}

/// Sets a file-size limit in the child, so its writes fail as on a full disk.
fn with_file_limit(c: &mut Command, bytes: u64) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setrlimit is async-signal-safe.
    unsafe {
        c.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: bytes,
                rlim_max: bytes,
            };
            libc::setrlimit(libc::RLIMIT_FSIZE, &lim);
            Ok(())
        });
    }
}

/// A full disk (a file-size limit): the error names the output folder, the outputs that
/// existed before are untouched, and no new or work file remains. Likewise for the demo.
#[test]
fn a_full_disk_fails_cleanly_and_keeps_old_outputs() {
    let d = Files::new();
    long_session(&d);
    std::fs::write(d.path("mix.wav"), b"the old master").unwrap();
    let before = listing(d.root());
    let mut c = bin();
    c.args([
        "render", "s.toml", "-o", "mix.wav", "--stems", "stems", "--engine", "cpu",
    ])
    .current_dir(d.root())
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    with_file_limit(&mut c, 4 << 20);
    let o = c.output().unwrap();
    assert_refused(
        &o,
        d.root().to_str().unwrap_or("."),
        "File too large",
        "render, full disk",
    );
    assert_eq!(std::fs::read(d.path("mix.wav")).unwrap(), b"the old master");
    assert_nothing_left(d.root(), &before, "render, full disk");
    let mut c = bin();
    c.args(["demo", "--out", "demo", "--seconds", "2", "--engine", "cpu"])
        .current_dir(d.root())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    with_file_limit(&mut c, 256 << 10);
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"));
    // The folder it created is gone again (or empty, had it existed).
    assert!(
        !d.path("demo").exists(),
        "demo left {:?}",
        listing(&d.path("demo"))
    );
    assert_nothing_left(d.root(), &before, "demo, full disk");
}

/// Past 4 GiB of data the header becomes RF64 (EBU Tech 3306) and reads back whole; a sparse
/// file keeps the test cheap.
#[test]
fn wav_past_four_gib_is_rf64_and_reads_back() {
    use mixstation::io::wav::{WavSampleFormat, WavWriter};
    let d = Files::new();
    let path = d.path("big.wav");
    let channels = 64;
    let silence: u64 = (5u64 << 30) / (channels as u64 * 4);
    let marker: Vec<Vec<f32>> = (0..channels).map(|c| vec![c as f32 / 128.0; 10]).collect();
    {
        let file = std::fs::File::create(&path).unwrap();
        let mut w = WavWriter::new(file, 8_000, channels, WavSampleFormat::F32).unwrap();
        w.write(&marker.iter().map(Vec::as_slice).collect::<Vec<_>>())
            .unwrap();
        w.skip_silence(silence).unwrap();
        w.write(&marker.iter().map(Vec::as_slice).collect::<Vec<_>>())
            .unwrap();
        w.finish().unwrap();
    }
    let head = std::fs::read(&path)
        .map(|b| b[..4].to_vec())
        .unwrap_or_default();
    assert_eq!(&head, b"RF64");
    let mut f = mixstation::io::AudioFile::open(&path).unwrap();
    let frames = silence + 20;
    assert_eq!(f.frames(), Some(frames));
    assert_eq!(f.channels(), channels);
    f.seek(frames - 12).unwrap();
    let mut buf = vec![vec![9.0f32; 16]; channels];
    let mut views: Vec<&mut [f32]> = buf.iter_mut().map(|c| c.as_mut_slice()).collect();
    assert_eq!(f.read(&mut views).unwrap(), 12);
    for (c, b) in buf.iter().enumerate() {
        assert_eq!(&b[..2], &[0.0, 0.0]);
        assert!(
            b[2..12].iter().all(|&v| v == c as f32 / 128.0),
            "channel {c}"
        );
    }
    // A small file keeps the plain RIFF header.
    let small = d.path("small.wav");
    write_f32(&small, 48_000, &[noise(100, 1)]);
    assert_eq!(&std::fs::read(&small).unwrap()[..4], b"RIFF");
}
