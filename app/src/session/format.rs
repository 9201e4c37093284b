//! The session file format (TOML, paths relative to the file). See the README for a full
//! example. Unknown keys are errors, so a typo never passes silently.

use gpu_dsp::mix::params::{
    default_of, ParamInfo, CLEAN, COMPRESSOR, DUCK, EQ_BAND, GATE, LIMITER, MULTIBAND,
};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionFile {
    pub session: SessionHeader,
    #[serde(default)]
    pub master: MasterSection,
    #[serde(default, rename = "bus")]
    pub buses: Vec<BusSection>,
    #[serde(default, rename = "track")]
    pub tracks: Vec<TrackSection>,
    #[serde(default, rename = "marker")]
    pub markers: Vec<MarkerSection>,
    #[serde(default, rename = "vca")]
    pub vcas: Vec<VcaSection>,
    #[serde(default, rename = "group")]
    pub groups: Vec<GroupSection>,
}

/// A track group: its members' faders (relatively), mutes and solos move together.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSection {
    pub name: String,
    /// Member track names.
    pub members: Vec<String>,
    /// What moves together: any of `fader`, `mute`, `solo` (all three when absent).
    pub link: Option<Vec<String>>,
}

/// A VCA master: its fader (and its automation) scales its member tracks' gain, in dB; a
/// muted VCA mutes them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VcaSection {
    pub name: String,
    #[serde(default)]
    pub gain_db: f32,
    #[serde(default)]
    pub mute: bool,
    /// Member track names.
    pub members: Vec<String>,
    /// `gain_db` only.
    #[serde(default)]
    pub automation: Vec<AutomationSection>,
}

/// A named position on the timeline.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkerSection {
    pub name: String,
    /// Timeline seconds.
    pub at: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionHeader {
    pub sample_rate: u32,
    #[serde(default = "stereo")]
    pub layout: String,
    /// Stem names in output order; stems named by tracks are added after these.
    #[serde(default)]
    pub stems: Vec<String>,
    /// Timecode frame rate: "23.976", "24" (the default), "25", "29.97", "29.97df", "30",
    /// "50", "59.94", "59.94df", "60".
    #[serde(default)]
    pub frame_rate: Option<String>,
    /// The timecode of session time zero, `HH:MM:SS:FF` (default 00:00:00:00).
    #[serde(default)]
    pub start_timecode: Option<String>,
}

fn stereo() -> String {
    "stereo".into()
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MasterSection {
    #[serde(default)]
    pub gain_db: f32,
    pub loudness_target: Option<f64>,
    pub true_peak_ceiling: Option<f32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusSection {
    pub name: String,
    #[serde(default)]
    pub gain_db: f32,
    #[serde(default)]
    pub mute: bool,
    /// Solo the bus (and the tracks that feed it).
    #[serde(default)]
    pub solo: bool,
    #[serde(default, rename = "insert")]
    pub inserts: Vec<InsertSection>,
    #[serde(default, rename = "send")]
    pub sends: Vec<SendSection>,
    /// `gain_db`, `send.<bus>` or `insert.<index>.<parameter>`.
    #[serde(default)]
    pub automation: Vec<AutomationSection>,
    /// `off`, `read` (the default), `touch`, `latch`, `write` or `trim`.
    pub automation_mode: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackSection {
    pub name: String,
    /// Shorthand for one clip of the whole file at `start`.
    pub file: Option<String>,
    #[serde(default)]
    pub start: f64,
    #[serde(default)]
    pub gain_db: f32,
    #[serde(default)]
    pub pan: f32,
    /// Surround azimuth in degrees (positive left), 5.1/7.1 only; default −30·pan.
    pub azimuth: Option<f32>,
    /// LFE send level in dB (5.1/7.1).
    pub lfe_db: Option<f32>,
    #[serde(default = "default_stem")]
    pub stem: String,
    /// Route the track's output to this bus instead of straight into its stem.
    pub output: Option<String>,
    #[serde(default)]
    pub mute: bool,
    #[serde(default)]
    pub solo: bool,
    #[serde(default, rename = "clip")]
    pub clips: Vec<ClipSection>,
    #[serde(default, rename = "insert")]
    pub inserts: Vec<InsertSection>,
    #[serde(default, rename = "send")]
    pub sends: Vec<SendSection>,
    #[serde(default)]
    pub automation: Vec<AutomationSection>,
    /// `off`, `read` (the default), `touch`, `latch`, `write` or `trim`.
    pub automation_mode: Option<String>,
}

fn default_stem() -> String {
    "MX".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClipSection {
    pub file: String,
    /// Timeline position (seconds).
    #[serde(default)]
    pub start: f64,
    /// Seconds into the file.
    #[serde(default)]
    pub offset: f64,
    /// Seconds used (default: to the end of the file).
    pub length: Option<f64>,
    #[serde(default)]
    pub gain_db: f32,
    #[serde(default)]
    pub fade_in: f64,
    #[serde(default)]
    pub fade_out: f64,
    /// `linear` (the default), `equal-power` or `s-curve`.
    #[serde(default)]
    pub fade_in_shape: Option<String>,
    #[serde(default)]
    pub fade_out_shape: Option<String>,
    /// One channel (from 1) of a multichannel file, played as a mono clip.
    #[serde(default)]
    pub channel: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendSection {
    pub bus: String,
    #[serde(default)]
    pub level_db: f32,
    #[serde(default)]
    pub pre_fader: bool,
    /// Silences the send (its level is kept).
    #[serde(default)]
    pub mute: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutomationSection {
    /// `gain_db`, `pan`, `send.<bus>` or `insert.<index>.<parameter>`.
    pub param: String,
    /// `[[seconds, value], ...]`, times increasing.
    pub points: Vec<(f64, f64)>,
    /// `linear` (straight lines between points) or `step` (each value holds until the next
    /// point).
    #[serde(default)]
    pub shape: LaneShape,
}

/// How an automation lane goes from one point to the next.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LaneShape {
    #[default]
    Linear,
    Step,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum InsertSection {
    Eq {
        bands: Vec<EqBandSection>,
        /// Passes the insert's input (delayed by its latency) instead of its output.
        #[serde(default)]
        bypass: bool,
    },
    Compressor {
        #[serde(default = "comp_threshold")]
        threshold_db: f32,
        #[serde(default = "comp_ratio")]
        ratio: f32,
        #[serde(default = "comp_attack")]
        attack_ms: f32,
        #[serde(default = "comp_release")]
        release_ms: f32,
        #[serde(default)]
        knee_db: f32,
        #[serde(default)]
        makeup_db: f32,
        /// Passes the insert's input (delayed by its latency) instead of its output.
        #[serde(default)]
        bypass: bool,
    },
    Gate {
        #[serde(default = "gate_threshold")]
        threshold_db: f32,
        #[serde(default = "gate_range")]
        range_db: f32,
        #[serde(default = "gate_attack")]
        attack_ms: f32,
        #[serde(default = "gate_hold")]
        hold_ms: f32,
        #[serde(default = "gate_release")]
        release_ms: f32,
        /// Passes the insert's input (delayed by its latency) instead of its output.
        #[serde(default)]
        bypass: bool,
    },
    Limiter {
        #[serde(default = "limiter_ceiling")]
        ceiling_db: f32,
        #[serde(default = "limiter_release")]
        release_ms: f32,
        /// Passes the insert's input (delayed by its latency) instead of its output.
        #[serde(default)]
        bypass: bool,
    },
    Reverb {
        ir: String,
        #[serde(default = "one")]
        wet: f32,
        #[serde(default)]
        dry: f32,
        #[serde(default)]
        predelay_ms: f32,
        #[serde(default)]
        ir_gain_db: f32,
        /// Passes the insert's input (delayed by its latency) instead of its output.
        #[serde(default)]
        bypass: bool,
    },
    /// Spectral dialogue cleanup: hum removal and tracked broadband noise suppression.
    Clean {
        #[serde(default = "clean_reduction")]
        reduction_db: f32,
        /// `auto` (found in the track's first source), `50`, `60` or `off`.
        #[serde(default = "clean_hum")]
        hum: String,
        /// Passes the insert's input (delayed by its latency) instead of its output.
        #[serde(default)]
        bypass: bool,
    },
    /// Spectral ducking (buses only) under the tracks of a stem.
    Duck {
        /// The stem whose tracks key the ducking (for example "DX").
        sidechain: String,
        #[serde(default = "duck_clarity")]
        clarity_db: f32,
        #[serde(default = "duck_max")]
        max_db: f32,
        #[serde(default = "duck_attack")]
        attack_ms: f32,
        #[serde(default = "duck_release")]
        release_ms: f32,
        /// Passes the insert's input (delayed by its latency) instead of its output.
        #[serde(default)]
        bypass: bool,
    },
    /// Multiband spectral compression or expansion.
    Multiband {
        /// `compress` or `expand`.
        #[serde(default = "multiband_mode")]
        mode: String,
        #[serde(default = "multiband_threshold")]
        threshold_db: f32,
        #[serde(default = "multiband_ratio")]
        ratio: f32,
        #[serde(default = "multiband_attack")]
        attack_ms: f32,
        #[serde(default = "multiband_release")]
        release_ms: f32,
        #[serde(default = "multiband_range")]
        range_db: f32,
        /// Passes the insert's input (delayed by its latency) instead of its output.
        #[serde(default)]
        bypass: bool,
    },
}

impl InsertSection {
    /// The parameter table of the insert's processor and its numeric settings by name, in
    /// the table's order (an EQ's settings are in its bands: none here). The session loader
    /// checks them against the table; the window edits them.
    pub fn settings_mut(&mut self) -> (&'static [ParamInfo], Vec<(&'static str, &mut f32)>) {
        use gpu_dsp::mix::params;
        match self {
            InsertSection::Eq { .. } => (params::EQ_BAND, Vec::new()),
            InsertSection::Compressor {
                threshold_db,
                ratio,
                attack_ms,
                release_ms,
                knee_db,
                makeup_db,
                ..
            } => (
                params::COMPRESSOR,
                vec![
                    ("threshold_db", threshold_db),
                    ("ratio", ratio),
                    ("attack_ms", attack_ms),
                    ("release_ms", release_ms),
                    ("knee_db", knee_db),
                    ("makeup_db", makeup_db),
                ],
            ),
            InsertSection::Gate {
                threshold_db,
                range_db,
                attack_ms,
                hold_ms,
                release_ms,
                ..
            } => (
                params::GATE,
                vec![
                    ("threshold_db", threshold_db),
                    ("range_db", range_db),
                    ("attack_ms", attack_ms),
                    ("hold_ms", hold_ms),
                    ("release_ms", release_ms),
                ],
            ),
            InsertSection::Limiter {
                ceiling_db,
                release_ms,
                ..
            } => (
                params::LIMITER,
                vec![("ceiling_db", ceiling_db), ("release_ms", release_ms)],
            ),
            InsertSection::Reverb {
                wet,
                dry,
                predelay_ms,
                ir_gain_db,
                ..
            } => (
                params::REVERB,
                vec![
                    ("wet", wet),
                    ("dry", dry),
                    ("predelay_ms", predelay_ms),
                    ("ir_gain_db", ir_gain_db),
                ],
            ),
            InsertSection::Clean { reduction_db, .. } => {
                (params::CLEAN, vec![("reduction_db", reduction_db)])
            }
            InsertSection::Duck {
                clarity_db,
                max_db,
                attack_ms,
                release_ms,
                ..
            } => (
                params::DUCK,
                vec![
                    ("clarity_db", clarity_db),
                    ("max_db", max_db),
                    ("attack_ms", attack_ms),
                    ("release_ms", release_ms),
                ],
            ),
            InsertSection::Multiband {
                threshold_db,
                ratio,
                attack_ms,
                release_ms,
                range_db,
                ..
            } => (
                params::MULTIBAND,
                vec![
                    ("threshold_db", threshold_db),
                    ("ratio", ratio),
                    ("attack_ms", attack_ms),
                    ("release_ms", release_ms),
                    ("range_db", range_db),
                ],
            ),
        }
    }

    /// Whether the insert is bypassed.
    pub fn bypass(&self) -> bool {
        match self {
            InsertSection::Eq { bypass, .. }
            | InsertSection::Compressor { bypass, .. }
            | InsertSection::Gate { bypass, .. }
            | InsertSection::Limiter { bypass, .. }
            | InsertSection::Reverb { bypass, .. }
            | InsertSection::Clean { bypass, .. }
            | InsertSection::Duck { bypass, .. }
            | InsertSection::Multiband { bypass, .. } => *bypass,
        }
    }
}

fn clean_reduction() -> f32 {
    default_of(CLEAN, "reduction_db")
}
fn clean_hum() -> String {
    "auto".into()
}
fn duck_clarity() -> f32 {
    default_of(DUCK, "clarity_db")
}
fn duck_max() -> f32 {
    default_of(DUCK, "max_db")
}
fn duck_attack() -> f32 {
    default_of(DUCK, "attack_ms")
}
fn duck_release() -> f32 {
    default_of(DUCK, "release_ms")
}
fn multiband_mode() -> String {
    "compress".into()
}
fn multiband_threshold() -> f32 {
    default_of(MULTIBAND, "threshold_db")
}
fn multiband_ratio() -> f32 {
    default_of(MULTIBAND, "ratio")
}
fn multiband_attack() -> f32 {
    default_of(MULTIBAND, "attack_ms")
}
fn multiband_release() -> f32 {
    default_of(MULTIBAND, "release_ms")
}
fn multiband_range() -> f32 {
    default_of(MULTIBAND, "range_db")
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EqBandSection {
    /// `highpass`, `lowpass`, `lowshelf`, `highshelf` or `bell`.
    #[serde(rename = "type")]
    pub kind: String,
    pub freq: f32,
    #[serde(default)]
    pub gain_db: f32,
    #[serde(default = "default_q")]
    pub q: f32,
}

fn one() -> f32 {
    1.0
}
fn default_q() -> f32 {
    default_of(EQ_BAND, "q")
}
fn comp_threshold() -> f32 {
    default_of(COMPRESSOR, "threshold_db")
}
fn comp_ratio() -> f32 {
    default_of(COMPRESSOR, "ratio")
}
fn comp_attack() -> f32 {
    default_of(COMPRESSOR, "attack_ms")
}
fn comp_release() -> f32 {
    default_of(COMPRESSOR, "release_ms")
}
fn gate_threshold() -> f32 {
    default_of(GATE, "threshold_db")
}
fn gate_range() -> f32 {
    default_of(GATE, "range_db")
}
fn gate_attack() -> f32 {
    default_of(GATE, "attack_ms")
}
fn gate_hold() -> f32 {
    default_of(GATE, "hold_ms")
}
fn gate_release() -> f32 {
    default_of(GATE, "release_ms")
}
fn limiter_ceiling() -> f32 {
    default_of(LIMITER, "ceiling_db")
}
fn limiter_release() -> f32 {
    default_of(LIMITER, "release_ms")
}
