//! The window's meter thread. The engine thread only renders and copies each played block
//! into a pooled [`Tap`] (allocated once, handed back and forth over two lock-free rings);
//! everything that measures — loudness, scopes, spectrogram, balance and masking — runs
//! here and builds the [`MeterFrame`]s the window draws. A slow meter thread costs meter
//! frames, never audio, and never an allocation on the engine thread.

use super::live_masking::{dialogue_stem, LiveMasking};
use super::meters::{Balance, MeterFrame, FLOOR_DB};
use gpu_dsp::analysis::spectrogram::{
    GpuSpectrogramStream, LiveEngine as SpectrumEngine, LiveSpectrogram, SpectrogramConfig,
};
use gpu_dsp::analysis::surround::energy_vector;
use gpu_dsp::analysis::{band_correlation, goniometer_points, CorrelationMeter, LoudnessMeter};
use gpu_dsp::analysis::{masking, LongTermSpectrum};
use gpu_dsp::gpu::GpuContext;
use gpu_dsp::mix::{MixSpec, Mixer, Target};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Samples per engine block (about 21 ms at 48 kHz: one meter frame each).
pub const BLOCK: usize = 1024;
/// Spectrogram of the monitor: 2048-point frames every 1024 samples.
pub const SPECTRUM_FFT: usize = 2048;
/// Taps in the pool: about a third of a second of blocks the meter thread may lag behind.
pub const TAPS: usize = 16;
/// [`SpectrumChoice`]'s value for "the monitor".
const MONITOR: usize = usize::MAX;

/// One played block as the engine thread hands it over: allocated once, refilled in place
/// (sizes change only when an edit changes the mix's shape).
#[derive(Default)]
pub struct Tap {
    /// Which mix played it: 0 at start, one more per swapped-in edit.
    pub generation: u64,
    /// Timeline sample of the block's first sample, and its length.
    pub position: u64,
    pub n: usize,
    /// The master's channels, the stereo monitor, every stem's channels.
    pub master: Vec<Vec<f32>>,
    pub left: Vec<f32>,
    pub right: Vec<f32>,
    pub stems: Vec<Vec<Vec<f32>>>,
    /// Every track's output (only when the mix measures masking).
    pub tracks: Vec<Vec<Vec<f32>>>,
    /// Per track: post-fader peak and RMS (linear), automated fader (dB), gain reduction.
    pub peaks: Vec<f32>,
    pub rms: Vec<f32>,
    pub faders: Vec<Option<f32>>,
    pub reduction: Vec<f32>,
    /// Per bus: output peak (linear) and gain reduction (dB).
    pub bus_peaks: Vec<f32>,
    pub bus_reduction: Vec<f32>,
}

/// `v` as `count` planes of `len` samples (allocates only when it must grow).
fn fit(v: &mut Vec<Vec<f32>>, count: usize, len: usize) {
    v.resize_with(count, Vec::new);
    for p in v {
        p.resize(len, 0.0);
    }
}

/// Copies the first `n` samples of every plane of `src` into `dst`.
fn copy_planes(dst: &mut Vec<Vec<f32>>, src: &[Vec<f32>], n: usize) {
    fit(dst, src.len(), BLOCK.max(n));
    for (d, s) in dst.iter_mut().zip(src) {
        d[..n].copy_from_slice(&s[..n]);
    }
}

impl Tap {
    /// A tap with room for every buffer a block of `mixer` fills.
    pub fn for_mixer(mixer: &Mixer) -> Self {
        let mut tap = Self::default();
        let channels = mixer.spec().layout.channels();
        tap.fill(mixer, (0, 0), &vec![Vec::new(); channels]);
        tap.fill_monitor(&[], &[]);
        tap
    }

    /// Fills the tap from the block the engine just played (`position`, `n` samples).
    pub fn fill(&mut self, mixer: &Mixer, block: (u64, usize), master: &[Vec<f32>]) {
        let (position, n) = block;
        self.position = position;
        self.n = n;
        copy_planes(&mut self.master, master, n);
        let stems = mixer.last_stems();
        self.stems.resize_with(stems.len(), Vec::new);
        for (d, s) in self.stems.iter_mut().zip(stems) {
            copy_planes(d, s, n);
        }
        let (tracks, buses) = (mixer.spec().tracks.len(), mixer.spec().buses.len());
        if mixer.track_tap(0).is_some() {
            self.tracks.resize_with(tracks, Vec::new);
            for (t, d) in self.tracks.iter_mut().enumerate() {
                if let Some(s) = mixer.track_tap(t) {
                    copy_planes(d, s, n);
                }
            }
        } else {
            self.tracks.clear();
        }
        for v in [&mut self.peaks, &mut self.rms, &mut self.reduction] {
            v.resize(tracks, 0.0);
        }
        self.faders.resize(tracks, None);
        self.bus_peaks.resize(buses, 0.0);
        self.bus_reduction.resize(buses, 0.0);
        automated_faders(mixer.spec(), position, &mut self.faders);
    }

    /// Takes the mixer's levels since the last tap (peaks, RMS, gain reductions).
    pub fn take_levels(&mut self, mixer: &mut Mixer) {
        mixer.take_track_levels(&mut self.peaks, &mut self.rms);
        mixer.take_bus_peaks(&mut self.bus_peaks);
        mixer.take_reductions(&mut self.reduction, &mut self.bus_reduction);
    }

    /// Fills the stereo monitor (the engine's downmix of the master).
    pub fn fill_monitor(&mut self, left: &[f32], right: &[f32]) {
        self.left.resize(BLOCK.max(left.len()), 0.0);
        self.right.resize(BLOCK.max(right.len()), 0.0);
        self.left[..left.len()].copy_from_slice(left);
        self.right[..right.len()].copy_from_slice(right);
    }
}

/// Each track's fader where its automation is at timeline sample `at` (`None` for a fader
/// without an envelope).
pub fn automated_faders(spec: &MixSpec, at: u64, out: &mut [Option<f32>]) {
    for (o, t) in out.iter_mut().zip(&spec.tracks) {
        *o = t
            .automation
            .iter()
            .find(|(k, _)| *k == Target::GainDb)
            .map(|(_, env)| env.value_at(at as f64));
    }
}

/// What the live spectrogram shows, shared with the window: the monitor or one stem.
#[derive(Clone, Debug)]
pub struct SpectrumChoice(Arc<AtomicUsize>);

impl SpectrumChoice {
    pub fn new(stem: Option<usize>) -> Self {
        Self(Arc::new(AtomicUsize::new(stem.unwrap_or(MONITOR))))
    }

    pub fn set(&self, stem: Option<usize>) {
        self.0.store(stem.unwrap_or(MONITOR), Ordering::Relaxed);
    }

    fn get(&self) -> Option<usize> {
        Some(self.0.load(Ordering::Relaxed)).filter(|&s| s != MONITOR)
    }
}

/// The rings between the engine thread, the meter thread and the window.
pub struct MeterRings {
    /// Played blocks in, and emptied taps back to the engine.
    pub played: rtrb::Consumer<Tap>,
    pub free: rtrb::Producer<Tap>,
    /// The mix of each swapped-in edit (its generation and spec), from the window.
    pub mixes: rtrb::Consumer<(u64, Box<MixSpec>)>,
    /// Finished frames out to the window.
    pub frames: rtrb::Producer<MeterFrame>,
}

/// The meter thread's state.
pub struct MeterWorker {
    rings: MeterRings,
    spec: Box<MixSpec>,
    generation: u64,
    spectrum_of: SpectrumChoice,
    loudness: LoudnessMeter,
    spectrum: Option<LiveSpectrogram>,
    balance: BalanceAccumulator,
    masking: Option<LiveMasking>,
    recent_left: Vec<f32>,
    recent_right: Vec<f32>,
    mid: Vec<f32>,
    blocks: u64,
}

fn db(x: f32) -> f32 {
    (20.0 * x.max(1e-9).log10()).max(FLOOR_DB)
}

impl MeterWorker {
    /// Meters for `spec`; with `gpu` the live spectrogram runs there.
    pub fn new(
        spec: MixSpec,
        rings: MeterRings,
        spectrum_of: SpectrumChoice,
        gpu: Option<Arc<GpuContext>>,
    ) -> Self {
        let rate = spec.sample_rate;
        // The GPU computes the live spectrogram when there is one; the window only draws it.
        let spectrum = SpectrogramConfig::new(SPECTRUM_FFT, BLOCK).ok().map(|c| {
            let engine = gpu
                .as_ref()
                .and_then(|ctx| GpuSpectrogramStream::new(ctx.clone(), c, 1, 2).ok())
                .map_or(SpectrumEngine::Cpu, |g| SpectrumEngine::Gpu(Box::new(g)));
            LiveSpectrogram::new(c, rate, 1, engine)
        });
        Self {
            rings,
            loudness: LoudnessMeter::new(spec.layout.channels(), rate),
            spectrum,
            balance: BalanceAccumulator::new(&spec.stems, rate),
            masking: LiveMasking::for_mix(&spec),
            spec: Box::new(spec),
            generation: 0,
            spectrum_of,
            recent_left: Vec::new(),
            recent_right: Vec::new(),
            mid: vec![0.0; BLOCK],
            blocks: 0,
        }
    }

    /// Measures played blocks until `engine_done` is set and every block is measured, or
    /// `stop` is set.
    pub fn run(mut self, stop: &AtomicBool, engine_done: &AtomicBool) {
        while !stop.load(Ordering::Relaxed) {
            let Ok(tap) = self.rings.played.pop() else {
                if engine_done.load(Ordering::Acquire) && self.rings.played.is_empty() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(3));
                continue;
            };
            self.follow(tap.generation);
            let frame = self.measure(&tap);
            // The pool holds exactly the taps there are, so there is always room.
            let _ = self.rings.free.push(tap);
            // A slow window drops meter frames, never audio.
            let _ = self.rings.frames.push(frame);
        }
    }

    /// Takes up the mix of generation `g` (an edit the engine swapped in).
    fn follow(&mut self, g: u64) {
        while self.generation < g {
            let Ok((generation, spec)) = self.rings.mixes.pop() else {
                break;
            };
            self.generation = generation;
            if self.balance.names != spec.stems {
                self.balance = BalanceAccumulator::new(&spec.stems, spec.sample_rate);
            }
            if !self.masking.as_ref().is_some_and(|m| m.measures(&spec)) {
                self.masking = LiveMasking::for_mix(&spec);
            }
            self.spec = spec;
        }
    }

    /// One meter frame from one played block.
    fn measure(&mut self, tap: &Tap) -> MeterFrame {
        let n = tap.n;
        let rate = self.spec.sample_rate;
        let (left, right) = (&tap.left[..n], &tap.right[..n]);
        self.balance.push(&tap.stems, n);
        match self.spectrum_of.get().and_then(|s| tap.stems.get(s)) {
            Some(s) => {
                let scale = 1.0 / s.len().max(1) as f32;
                for (i, v) in self.mid[..n].iter_mut().enumerate() {
                    *v = s.iter().map(|c| c[i]).sum::<f32>() * scale;
                }
            }
            None => {
                for ((m, a), r) in self.mid[..n].iter_mut().zip(left).zip(right) {
                    *m = 0.5 * (a + r);
                }
            }
        }
        if let Some(m) = &mut self.masking {
            if let Some(dialogue) = tap.stems.get(m.dialogue()) {
                m.push(dialogue, |t| tap.tracks.get(t).map(|p| p.as_slice()), n);
            }
        }
        let planes: Vec<&[f32]> = tap.master.iter().map(|c| &c[..n]).collect();
        self.loudness.process(&planes);
        let position = (tap.position + n as u64) as f64 / f64::from(rate);
        let mut frame = MeterFrame::silent(position, tap.peaks.len());
        frame.track_fader_db.clone_from(&tap.faders);
        for (k, ch) in [left, right].iter().enumerate() {
            let peak = ch.iter().fold(0.0f32, |m, x| m.max(x.abs()));
            let ms = ch.iter().map(|x| x * x).sum::<f32>() / n.max(1) as f32;
            frame.peak_db[k] = db(peak);
            frame.rms_db[k] = db(ms.sqrt());
        }
        frame.momentary = self.loudness.momentary();
        frame.short_term = self.loudness.short_term();
        frame.integrated = self.loudness.integrated();
        frame.range = self.loudness.range();
        frame.true_peak = self.loudness.true_peak();
        let mut corr = CorrelationMeter::default();
        corr.process(left, right);
        frame.correlation = corr.correlation();
        frame.goniometer = goniometer_points(left, right, 256);
        if let Some(s) = &mut self.spectrum {
            // On the GPU the rows come back two blocks later, never waited for.
            let rows = &mut frame.spectrogram;
            let _ = s.push(&[&self.mid[..n]], |row| rows.push(row.to_vec()));
        }
        // Per-octave correlation over the last ~170 ms, refreshed every 4 blocks.
        for (recent, now) in [
            (&mut self.recent_left, left),
            (&mut self.recent_right, right),
        ] {
            recent.extend_from_slice(now);
            let excess = recent.len().saturating_sub(8 * BLOCK);
            recent.drain(..excess);
        }
        self.blocks += 1;
        if self.blocks.is_multiple_of(4) {
            frame.band_correlation = band_correlation(&self.recent_left, &self.recent_right, rate)
                .iter()
                .map(|b| (b.band.nominal_hz as f32, b.correlation.map(|c| c as f32)))
                .collect();
        }
        if planes.len() > 2 {
            if let Some(v) = energy_vector(&planes) {
                let levels = planes
                    .iter()
                    .map(|c| db((c.iter().map(|x| x * x).sum::<f32>() / n.max(1) as f32).sqrt()))
                    .collect();
                frame.surround = Some((levels, v.direction_deg, v.magnitude));
            }
        }
        if self.blocks.is_multiple_of(8) {
            let masking = &self.masking;
            frame.balance = self.balance.analyse().map(|mut b| {
                b.maskers = masking.as_ref().map_or_else(Vec::new, |m| m.worst(6));
                b
            });
        }
        frame.track_peak_db = tap.peaks.iter().map(|p| db(*p)).collect();
        frame.track_rms_db = tap.rms.iter().map(|r| db(*r)).collect();
        frame.bus_peak_db = tap.bus_peaks.iter().map(|p| db(*p)).collect();
        frame.track_reduction_db.clone_from(&tap.reduction);
        frame.bus_reduction_db.clone_from(&tap.bus_reduction);
        frame
    }
}

/// Samples per frequency-balance analysis window.
const BALANCE_WINDOW: usize = 8 * BLOCK;

/// Collects each stem (mono) for the frequency-balance view and accumulates long-term
/// third-octave power and masking counts.
struct BalanceAccumulator {
    names: Vec<String>,
    dialogue: Option<usize>,
    rate: u32,
    recent: Vec<Vec<f32>>,
    centres_hz: Vec<f32>,
    power: Vec<Vec<f64>>,
    windows: u64,
    active: Vec<f64>,
    covered: Vec<f64>,
}

impl BalanceAccumulator {
    fn new(stems: &[String], rate: u32) -> Self {
        let dialogue = dialogue_stem(stems);
        Self {
            names: stems.to_vec(),
            dialogue,
            rate,
            recent: vec![Vec::with_capacity(BALANCE_WINDOW); stems.len()],
            centres_hz: Vec::new(),
            power: vec![Vec::new(); stems.len()],
            windows: 0,
            active: Vec::new(),
            covered: Vec::new(),
        }
    }

    fn push(&mut self, stems: &[Vec<Vec<f32>>], n: usize) {
        for (r, s) in self.recent.iter_mut().zip(stems) {
            let scale = 1.0 / s.len().max(1) as f32;
            r.extend((0..n).map(|i| s.iter().map(|c| c[i]).sum::<f32>() * scale));
            if r.len() > BALANCE_WINDOW {
                r.drain(..r.len() - BALANCE_WINDOW);
            }
        }
    }

    /// Adds the recent window to the long-term figures and reports them.
    fn analyse(&mut self) -> Option<Balance> {
        if self.recent.first().is_none_or(|r| r.len() < BALANCE_WINDOW) {
            return None;
        }
        for (k, r) in self.recent.iter().enumerate() {
            let bands = LongTermSpectrum::of(&[r], self.rate).third_octave();
            if self.centres_hz.is_empty() {
                self.centres_hz = bands.iter().map(|b| b.band.nominal_hz as f32).collect();
            }
            let p = &mut self.power[k];
            p.resize(bands.len(), 0.0);
            for (acc, b) in p.iter_mut().zip(&bands) {
                *acc += b.db.map_or(0.0, |db| 10f64.powf(db / 10.0));
            }
        }
        if let Some(d) = self.dialogue {
            let others: Vec<f32> = (0..BALANCE_WINDOW)
                .map(|i| {
                    self.recent
                        .iter()
                        .enumerate()
                        .filter(|(k, _)| *k != d)
                        .map(|(_, r)| r[i])
                        .sum()
                })
                .collect();
            let m = masking(&[&self.recent[d]], &[&others], self.rate);
            self.active.resize(m.len(), 0.0);
            self.covered.resize(m.len(), 0.0);
            for ((a, c), b) in self.active.iter_mut().zip(self.covered.iter_mut()).zip(&m) {
                *a += b.active_fraction;
                *c += b.active_fraction * b.covered_fraction.unwrap_or(0.0);
            }
        }
        self.windows += 1;
        let w = self.windows as f64;
        Some(Balance {
            centres_hz: self.centres_hz.clone(),
            stems: self
                .names
                .iter()
                .zip(&self.power)
                .map(|(name, p)| {
                    let db = p
                        .iter()
                        .map(|x| (*x > 0.0).then(|| (10.0 * (x / w).log10()) as f32))
                        .collect();
                    (name.clone(), db)
                })
                .collect(),
            dialogue: self.dialogue,
            covered: self
                .active
                .iter()
                .zip(&self.covered)
                .map(|(a, c)| (*a > 0.0).then(|| (c / a) as f32))
                .collect(),
            maskers: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meter_frames_carry_where_each_automated_fader_is() {
        use gpu_dsp::mix::Automation;
        let mut spec = MixSpec::one_track(48_000, vec![0.0; 48_000]);
        spec.tracks.push(spec.tracks[0].clone());
        spec.tracks[1].automation = vec![(
            Target::GainDb,
            Automation::new(&[(0.0, -20.0), (1.0, 0.0)], 48_000.0).unwrap(),
        )];
        let mut faders = vec![Some(1.0); 2];
        automated_faders(&spec, 12_000, &mut faders);
        assert_eq!(faders, vec![None, Some(-15.0)]);
    }

    #[test]
    fn refilling_a_tap_of_the_same_shape_keeps_its_buffers() {
        let mut tap = Tap::default();
        let src = vec![vec![1.0f32; BLOCK]; 2];
        copy_planes(&mut tap.master, &src, 700);
        let at = tap.master[1].as_ptr();
        copy_planes(&mut tap.master, &src, BLOCK);
        assert_eq!(tap.master[1].as_ptr(), at);
        assert_eq!(tap.master[1][BLOCK - 1], 1.0);
    }
}
