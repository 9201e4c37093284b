//! Helpers shared by the tests that drive the real binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The binary, with a private runtime folder and no standard input.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mixstation"));
    c.env("XDG_RUNTIME_DIR", std::env::temp_dir());
    c.stdin(Stdio::null());
    c
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Writes planar 32-bit float WAV.
pub fn write_f32(path: &Path, rate: u32, channels: &[Vec<f32>]) {
    let planes: Vec<&[f32]> = channels.iter().map(|c| c.as_slice()).collect();
    mixstation::io::write_wav(path, rate, &planes, mixstation::io::ExportFormat::F32).unwrap();
}

pub fn read(path: &Path) -> Vec<Vec<f32>> {
    mixstation::io::decode_file(path).unwrap().channels
}

/// Deterministic uniform noise in [−0.5, 0.5) (xorshift).
pub fn noise(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed.max(1);
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s as f32 / u32::MAX as f32) - 0.5
        })
        .collect()
}

/// A temporary folder removed at the end of the test.
pub struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    pub fn s(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }
    pub fn root(&self) -> &Path {
        self.dir.path()
    }
}
