//! What the engine measures per block for the window, and what the window keeps of it.

use std::collections::VecDeque;

/// Spectrogram rows kept for the scrolling view.
pub const HISTORY: usize = 320;
/// dB floor of the meters.
pub const FLOOR_DB: f32 = -90.0;

/// One engine report (one block of about 21 ms).
#[derive(Clone, Debug, PartialEq)]
pub struct MeterFrame {
    /// Playhead at the end of the block (seconds).
    pub position: f64,
    /// Stereo monitor peak and RMS (dBFS).
    pub peak_db: [f32; 2],
    pub rms_db: [f32; 2],
    /// Per track: post-fader peak and RMS (dBFS).
    pub track_peak_db: Vec<f32>,
    pub track_rms_db: Vec<f32>,
    /// Per track: where its fader's automation is at the block (dB), for tracks whose fader
    /// plays an envelope — the strip's fader follows it.
    pub track_fader_db: Vec<Option<f32>>,
    /// Per bus: output peak (dBFS).
    pub bus_peak_db: Vec<f32>,
    /// Per track and per bus: the gain reduction of its dynamics inserts (dB, ≤ 0).
    pub track_reduction_db: Vec<f32>,
    pub bus_reduction_db: Vec<f32>,
    /// BS.1770 momentary, short-term, integrated (LUFS), LRA (LU), true peak (dBTP).
    pub momentary: Option<f64>,
    pub short_term: Option<f64>,
    pub integrated: Option<f64>,
    pub range: Option<f64>,
    pub true_peak: Option<f64>,
    /// Phase correlation of the monitor (−1..1).
    pub correlation: Option<f64>,
    /// Per-octave correlation: (centre Hz, correlation).
    pub band_correlation: Vec<(f32, Option<f32>)>,
    /// Goniometer points (side, mid), −1..1.
    pub goniometer: Vec<(f32, f32)>,
    /// New spectrogram rows (dB per bin, DC to Nyquist).
    pub spectrogram: Vec<Vec<f32>>,
    /// Surround: per-channel RMS dB and the energy vector (direction °, magnitude).
    pub surround: Option<(Vec<f32>, f64, f64)>,
    /// Frequency balance so far (sent every few blocks).
    pub balance: Option<Balance>,
}

/// Long-term third-octave spectra of the stems since play started, and where the other
/// stems cover the dialogue stem.
#[derive(Clone, Debug, PartialEq)]
pub struct Balance {
    pub centres_hz: Vec<f32>,
    /// (stem name, dB per band; `None` where silent).
    pub stems: Vec<(String, Vec<Option<f32>>)>,
    /// The dialogue stem's index in `stems`, if there is one.
    pub dialogue: Option<usize>,
    /// Per band: the fraction of dialogue-active analysis frames in which the other stems
    /// came within 6 dB of it (masking); `None` where dialogue was never active.
    pub covered: Vec<Option<f32>>,
    /// The tracks that cover the dialogue most since play started, worst first.
    pub maskers: Vec<Masker>,
}

/// One track's masking of the dialogue stem (as `mixstation masking` reports it).
#[derive(Clone, Debug, PartialEq)]
pub struct Masker {
    pub name: String,
    /// Share of the dialogue's active band-frames it covers (within 6 dB or louder).
    pub covered: f32,
    /// Per third-octave band: the covered fraction; `None` where dialogue was never active.
    pub bands: Vec<Option<f32>>,
}

impl MeterFrame {
    /// A frame of silence at `position` for `tracks` tracks.
    pub fn silent(position: f64, tracks: usize) -> Self {
        Self {
            position,
            peak_db: [FLOOR_DB; 2],
            rms_db: [FLOOR_DB; 2],
            track_peak_db: vec![FLOOR_DB; tracks],
            track_rms_db: vec![FLOOR_DB; tracks],
            track_fader_db: vec![None; tracks],
            bus_peak_db: Vec::new(),
            track_reduction_db: vec![0.0; tracks],
            bus_reduction_db: Vec::new(),
            momentary: None,
            short_term: None,
            integrated: None,
            range: None,
            true_peak: None,
            correlation: None,
            band_correlation: Vec::new(),
            goniometer: Vec::new(),
            spectrogram: Vec::new(),
            surround: None,
            balance: None,
        }
    }
}

/// The meters the window draws: the latest frame, peak-hold with decay, spectrogram history.
#[derive(Clone, Debug, Default)]
pub struct Meters {
    pub latest: Option<MeterFrame>,
    /// Per track: decaying peak (dBFS).
    pub track_peak_db: Vec<f32>,
    pub peak_db: [f32; 2],
    /// Oldest row first.
    pub spectrogram: VecDeque<Vec<f32>>,
    /// Frames absorbed since the last reset.
    pub frames: u64,
    /// The latest per-octave correlation (it arrives every few frames).
    pub band_correlation: Vec<(f32, Option<f32>)>,
    /// The latest frequency balance (it arrives every few frames).
    pub balance: Option<Balance>,
}

/// Peak meters fall at about 20 dB per second (one frame is about 21 ms).
const DECAY_DB: f32 = 0.45;

impl Meters {
    pub fn new(tracks: usize) -> Self {
        Self {
            track_peak_db: vec![FLOOR_DB; tracks],
            peak_db: [FLOOR_DB; 2],
            ..Default::default()
        }
    }

    /// Starts a new loudness measurement (a new play).
    pub fn reset_loudness(&mut self) {
        self.latest = None;
        self.balance = None;
        self.frames = 0;
    }

    /// Playback stopped: level meters fall to the floor and the momentary and short-term
    /// loudness clear at once; the integrated loudness, the spectrogram and the scopes keep
    /// the last picture until the next play.
    pub fn stopped(&mut self) {
        self.track_peak_db.fill(FLOOR_DB);
        self.peak_db = [FLOOR_DB; 2];
        if let Some(f) = &mut self.latest {
            f.peak_db = [FLOOR_DB; 2];
            f.rms_db = [FLOOR_DB; 2];
            f.track_peak_db.fill(FLOOR_DB);
            f.track_rms_db.fill(FLOOR_DB);
            f.bus_peak_db.fill(FLOOR_DB);
            f.track_reduction_db.fill(0.0);
            f.bus_reduction_db.fill(0.0);
            f.momentary = None;
            f.short_term = None;
        }
    }

    pub fn absorb(&mut self, frame: MeterFrame) {
        for (held, now) in self.track_peak_db.iter_mut().zip(&frame.track_peak_db) {
            *held = now.max(*held - DECAY_DB).max(FLOOR_DB);
        }
        for (held, now) in self.peak_db.iter_mut().zip(&frame.peak_db) {
            *held = now.max(*held - DECAY_DB).max(FLOOR_DB);
        }
        for row in &frame.spectrogram {
            if self.spectrogram.len() == HISTORY {
                self.spectrogram.pop_front();
            }
            self.spectrogram.push_back(row.clone());
        }
        if frame.balance.is_some() {
            self.balance = frame.balance.clone();
        }
        if !frame.band_correlation.is_empty() {
            self.band_correlation = frame.band_correlation.clone();
        }
        self.frames += 1;
        self.latest = Some(frame);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peaks_hold_then_fall_and_history_is_bounded() {
        let mut m = Meters::new(1);
        let mut f = MeterFrame::silent(0.1, 1);
        f.track_peak_db = vec![-6.0];
        f.peak_db = [-3.0, -4.0];
        f.spectrogram = vec![vec![0.0; 4]; HISTORY + 10];
        m.absorb(f);
        assert_eq!(m.track_peak_db, vec![-6.0]);
        assert_eq!(m.spectrogram.len(), HISTORY);
        m.absorb(MeterFrame::silent(0.2, 1));
        assert!((m.track_peak_db[0] - (-6.0 - DECAY_DB)).abs() < 1e-6);
        assert!((m.peak_db[0] - (-3.0 - DECAY_DB)).abs() < 1e-6);
        assert_eq!(m.frames, 2);
        for _ in 0..1000 {
            m.absorb(MeterFrame::silent(0.3, 1));
        }
        assert_eq!(m.track_peak_db[0], FLOOR_DB);
    }
}
