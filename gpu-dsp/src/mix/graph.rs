//! The description of a mix: sources, tracks with clips, inserts, sends, buses, stems and
//! the master. Built by the session loader (app), rendered by [`super::Mixer`].

use super::automation::Automation;
use super::dynamics::{CompressorParams, GateParams};
use super::eq::EqBand;
use super::pan::Layout;
use std::sync::Arc;

/// Audio that clips read.
#[derive(Clone, Debug)]
pub enum Source {
    /// Decoded planes, at the session rate.
    Memory(Vec<Vec<f32>>),
    /// Read on demand (the app decodes files block by block; memory stays bounded).
    Stream(Arc<dyn StreamSource>),
}

impl From<Vec<Vec<f32>>> for Source {
    fn from(planes: Vec<Vec<f32>>) -> Self {
        Source::Memory(planes)
    }
}

impl Source {
    /// Channels of the source.
    pub fn channels(&self) -> usize {
        match self {
            Source::Memory(p) => p.len(),
            Source::Stream(s) => s.channels(),
        }
    }

    /// Frames of the source.
    pub fn frames(&self) -> u64 {
        match self {
            Source::Memory(p) => p.first().map_or(0, |c| c.len() as u64),
            Source::Stream(s) => s.frames(),
        }
    }

    /// Up to `len` frames from `start` (fewer at the end), planar.
    pub fn read(&self, start: u64, len: usize) -> Result<Vec<Vec<f32>>, String> {
        let len = len.min(self.frames().saturating_sub(start) as usize);
        match self {
            Source::Memory(p) => Ok(p
                .iter()
                .map(|c| c[start as usize..start as usize + len].to_vec())
                .collect()),
            Source::Stream(s) => {
                let mut planes = vec![vec![0.0f32; len]; s.channels()];
                let mut views: Vec<&mut [f32]> = planes.iter_mut().map(|c| &mut c[..]).collect();
                s.open()?.read(start, &mut views)?;
                Ok(planes)
            }
        }
    }
}

/// A source read on demand; every clip opens its own reader.
pub trait StreamSource: Send + Sync + std::fmt::Debug {
    fn channels(&self) -> usize;
    fn frames(&self) -> u64;
    fn open(&self) -> Result<Box<dyn SourceReader>, String>;
    /// Whether this stands in for a file that is not there (it reads as silence).
    fn offline(&self) -> bool {
        false
    }
}

/// Sequential (seeking when needed) reads of a streamed source.
pub trait SourceReader: Send {
    /// Fills `out` (one slice per source channel) with frames `start..start + len`; frames
    /// past the end read as silence.
    fn read(&mut self, start: u64, out: &mut [&mut [f32]]) -> Result<(), String>;
}

/// A processor in a track's or bus's insert chain.
#[derive(Clone, Debug)]
pub enum InsertSpec {
    Eq(Vec<EqBand>),
    Compressor(CompressorParams),
    Gate(GateParams),
    Limiter {
        ceiling_db: f32,
        release_ms: f32,
    },
    /// Convolution reverb (one 512-sample block of latency, compensated by the mixer). `ir`
    /// has one plane per channel of the bus layout, one plane for all, or 4 (true stereo).
    Reverb {
        ir: Vec<Vec<f32>>,
        wet: f32,
        dry: f32,
    },
    /// Spectral dialogue cleanup per channel: hum removal (when `hum` is given) and tracked
    /// broadband noise suppression down to `reduction_db` (one STFT frame of latency).
    Clean {
        reduction_db: f32,
        hum: Option<crate::spectral::HumSpec>,
    },
    /// Spectral ducking under the tracks of stem `sidechain` (buses only).
    Duck {
        sidechain: usize,
        params: crate::spectral::DuckParams,
    },
    /// Multiband spectral compression or expansion.
    Multiband(crate::spectral::MultibandParams),
}

impl InsertSpec {
    /// Whether the insert is linear in its input (its output for the sum of two signals is
    /// the sum of its outputs): the EQ and the convolution reverb, automated or not.
    pub fn is_linear(&self) -> bool {
        matches!(self, InsertSpec::Eq(_) | InsertSpec::Reverb { .. })
    }

    /// The stem whose tracks key this insert, if any.
    pub fn sidechain(&self) -> Option<usize> {
        match self {
            InsertSpec::Duck { sidechain, .. } => Some(*sidechain),
            _ => None,
        }
    }
}

/// A region of a source placed on the timeline.
#[derive(Clone, Debug, Default)]
pub struct ClipSpec {
    /// Index into [`MixSpec::sources`].
    pub source: usize,
    /// Timeline position of the clip's first sample, in samples.
    pub start: u64,
    /// First source sample used.
    pub offset: u64,
    /// Samples used (clipped to the source's end).
    pub length: u64,
    pub gain_db: f32,
    /// Fades, in samples (a crossfade is a fade-out and a fade-in over the same span).
    pub fade_in: u64,
    pub fade_out: u64,
    pub fade_in_shape: crate::mix::FadeShape,
    pub fade_out_shape: crate::mix::FadeShape,
}

/// A send from a track or bus to a bus.
#[derive(Clone, Debug)]
pub struct SendSpec {
    /// Index into [`MixSpec::buses`].
    pub bus: usize,
    pub level_db: f32,
    pub pre_fader: bool,
    /// Silences the send (a track's send glides out over one block when muted live).
    pub mute: bool,
}

impl SendSpec {
    /// A post-fader send at `level_db` to bus `bus`.
    pub fn post_fader(bus: usize, level_db: f32) -> Self {
        Self {
            bus,
            level_db,
            pre_fader: false,
            mute: false,
        }
    }
}

/// What an automation envelope drives.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target {
    GainDb,
    Pan,
    /// Level of send `i` (dB).
    SendDb(usize),
    /// A parameter of insert `i`, resolved from its name at load (updated every 16 samples).
    Insert(usize, crate::mix::params::ParamId),
}

/// The automation targets of a track or bus whose live control wins over their envelope
/// (a pass writing them): a bit each for the fader, the pan and up to 62 sends, and for
/// each of the first [`Overrides::INSERTS`] inserts a bit per parameter (EQ bands: four
/// bits a band, sixteen bands). Plain data, so the engine thread sets and reads it without
/// allocating.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    bits: u64,
    inserts: [u64; Overrides::INSERTS],
}

impl Overrides {
    /// Inserts whose parameters can be overridden (from the first).
    pub const INSERTS: usize = 16;

    fn bit(target: &Target) -> Option<(Option<usize>, u64)> {
        match *target {
            Target::GainDb => Some((None, 1)),
            Target::Pan => Some((None, 2)),
            Target::SendDb(k) if k < 62 => Some((None, 4 << k)),
            Target::Insert(k, id) if k < Self::INSERTS => {
                let b = 4 * usize::from(id.band) + usize::from(id.index);
                (b < 64).then(|| (Some(k), 1 << b))
            }
            _ => None,
        }
    }

    /// Overrides `target` (or stops); false for a target it cannot hold.
    pub fn set(&mut self, target: &Target, on: bool) -> bool {
        let Some((insert, bit)) = Self::bit(target) else {
            return false;
        };
        let word = match insert {
            Some(k) => &mut self.inserts[k],
            None => &mut self.bits,
        };
        if on {
            *word |= bit;
        } else {
            *word &= !bit;
        }
        true
    }

    /// True when `target`'s live control wins over its envelope.
    pub fn has(&self, target: &Target) -> bool {
        Self::bit(target).is_some_and(|(insert, bit)| {
            let word = insert.map_or(self.bits, |k| self.inserts[k]);
            word & bit != 0
        })
    }
}

/// One track.
#[derive(Clone, Debug)]
pub struct TrackSpec {
    pub name: String,
    /// 1 (mono) or 2 (stereo) channels; clips are up/down-mixed to it.
    pub channels: usize,
    pub clips: Vec<ClipSpec>,
    pub gain_db: f32,
    /// −1 (left) .. +1 (right); balance for stereo tracks.
    pub pan: f32,
    /// Surround azimuth in degrees (positive left); defaults to −30·pan.
    pub azimuth: Option<f32>,
    /// Send to the LFE channel (dB) in 5.1/7.1.
    pub lfe_db: Option<f32>,
    /// Index into [`MixSpec::stems`].
    pub stem: usize,
    pub mute: bool,
    pub solo: bool,
    /// Whether the track feeds its stem directly; `false` when its output is routed to a bus
    /// (then a post-fader 0 dB send carries it there).
    pub direct: bool,
    pub inserts: Vec<InsertSpec>,
    /// Per insert: whether it is bypassed (missing entries are not).
    pub bypass: Vec<bool>,
    pub sends: Vec<SendSpec>,
    pub automation: Vec<(Target, Automation)>,
}

/// Whether insert `i` of a chain with bypass flags `bypass` is bypassed.
pub(crate) fn bypassed(bypass: &[bool], i: usize) -> bool {
    bypass.get(i).copied().unwrap_or(false)
}

impl TrackSpec {
    /// A track of `channels` channels playing `clips` straight into stem 0 at 0 dB, centred,
    /// with no inserts, sends or automation.
    pub fn new(name: impl Into<String>, channels: usize, clips: Vec<ClipSpec>) -> Self {
        Self {
            name: name.into(),
            channels,
            clips,
            gain_db: 0.0,
            pan: 0.0,
            azimuth: None,
            lfe_db: None,
            stem: 0,
            mute: false,
            solo: false,
            direct: true,
            inserts: vec![],
            bypass: vec![],
            sends: vec![],
            automation: vec![],
        }
    }
}

impl MixSpec {
    /// A stereo mix of one mono source played whole by one track into one stem (`MX`): the
    /// smallest session, for tests and examples.
    pub fn one_track(sample_rate: u32, samples: Vec<f32>) -> Self {
        let length = samples.len() as u64;
        Self {
            sample_rate,
            layout: crate::mix::Layout::Stereo,
            sources: vec![vec![samples].into()],
            tracks: vec![TrackSpec::new(
                "track",
                1,
                vec![ClipSpec {
                    source: 0,
                    length,
                    ..Default::default()
                }],
            )],
            buses: vec![],
            stems: vec!["MX".into()],
            master: MasterSpec::default(),
        }
    }
}

/// A bus (its input is the sum of the sends into it, in layout channels).
#[derive(Clone, Debug)]
pub struct BusSpec {
    pub name: String,
    pub gain_db: f32,
    /// Silences the bus's output (its fader goes to zero, gliding over one block).
    pub mute: bool,
    /// Solos the bus: the other buses and the tracks that feed no soloed bus go silent
    /// (see [`super::solo`]).
    pub solo: bool,
    pub inserts: Vec<InsertSpec>,
    /// Per insert: whether it is bypassed (missing entries are not).
    pub bypass: Vec<bool>,
    /// Post-fader sends to other buses (must not form a cycle).
    pub sends: Vec<SendSpec>,
    /// Envelopes of the bus gain, its sends' levels and its inserts' parameters
    /// ([`Target::Pan`] does not apply to a bus).
    pub automation: Vec<(Target, Automation)>,
}

/// Master processing.
#[derive(Clone, Debug, Default)]
pub struct MasterSpec {
    pub gain_db: f32,
    /// Integrated loudness to normalise to (LUFS).
    pub loudness_target: Option<f64>,
    /// True-peak limiter ceiling (dBTP).
    pub true_peak_ceiling: Option<f32>,
}

/// A whole mix.
#[derive(Clone, Debug)]
pub struct MixSpec {
    pub sample_rate: u32,
    pub layout: Layout,
    /// Sources at `sample_rate`.
    pub sources: Vec<Source>,
    pub tracks: Vec<TrackSpec>,
    pub buses: Vec<BusSpec>,
    /// Stem names (DX, MX, FX, …).
    pub stems: Vec<String>,
    pub master: MasterSpec,
}

impl MixSpec {
    /// The same mix with every track in one stem, when that leaves the master unchanged:
    /// every bus is linear (EQ, reverb, gain, sends), so a bus run once on the sum of the
    /// stems equals the sum of its per-stem instances. `None` when a bus holds a compressor,
    /// gate, limiter, cleanup, duck or multiband (each stem's share must pass it on its own).
    /// A render that writes no stems uses it, so each bus runs once instead of once per stem.
    pub fn with_one_stem(&self) -> Option<MixSpec> {
        if self.stems.len() <= 1
            || !self
                .buses
                .iter()
                .all(|b| b.inserts.iter().all(InsertSpec::is_linear))
        {
            return None;
        }
        let mut one = self.clone();
        one.stems = vec!["mix".into()];
        for t in &mut one.tracks {
            t.stem = 0;
        }
        Some(one)
    }

    /// Timeline length in samples: the end of the last clip.
    pub fn length(&self) -> u64 {
        self.tracks
            .iter()
            .flat_map(|t| &t.clips)
            .map(|c| c.start + self.clip_len(c))
            .max()
            .unwrap_or(0)
    }

    /// Samples a clip actually plays (its length, clipped to the source).
    pub fn clip_len(&self, c: &ClipSpec) -> u64 {
        let available = self.sources.get(c.source).map_or(0, Source::frames);
        c.length.min(available.saturating_sub(c.offset))
    }
}

#[cfg(test)]
mod override_tests {
    use super::*;
    use crate::mix::params::ParamId;

    /// Each target has a bit of its own: the fader, pan, sends, and insert parameters by
    /// insert, band and index; targets past the limits cannot be held.
    #[test]
    fn overrides_hold_each_target_apart() {
        let id = |band, index| ParamId { index, band };
        let targets = [
            Target::GainDb,
            Target::Pan,
            Target::SendDb(0),
            Target::SendDb(61),
            Target::Insert(0, id(0, 0)),
            Target::Insert(0, id(0, 1)),
            Target::Insert(0, id(1, 0)),
            Target::Insert(15, id(15, 3)),
        ];
        for (k, on) in targets.iter().enumerate() {
            let mut o = Overrides::default();
            assert!(o.set(on, true));
            for (j, t) in targets.iter().enumerate() {
                assert_eq!(o.has(t), j == k, "{on:?} set, {t:?}");
            }
            o.set(on, false);
            assert_eq!(o, Overrides::default());
        }
        let mut o = Overrides::default();
        assert!(!o.set(&Target::SendDb(62), true));
        assert!(!o.set(&Target::Insert(16, id(0, 0)), true));
        assert!(!o.set(&Target::Insert(0, id(16, 0)), true));
    }
}
