//! The mix engine: clips → inserts → latency compensation → pan/fader/automation → sends →
//! buses → stems. Buses run once per stem that feeds them, so every stem carries its own
//! share of the reverbs and the stems add up to the master exactly.
//!
//! Two stages run at once: the tracks of this block, and the buses of what the tracks produced
//! one engine block earlier (held in a [`Pipe`]). The buses never wait for the tracks, so both
//! stages share the cores; the price is one block of latency, reported and compensated like
//! any processor's.

use super::bus::{run_buses, BusState};
use super::bypass::Bypass;
use super::delay::DelayLine;
use super::gpu_analysis::MixAnalysis;
use super::graph::{bypassed, InsertSpec, MixSpec, Target};
use super::insert::{reverb_config, DspMode, Insert};
use super::lane::{Lane, TrackState};
use super::pipe::Pipe;
use super::plan::MixPlan;
use crate::conv::{ConvolutionReverb, GpuTail, TailArena, TailStats};
use crate::gpu::GpuContext;
use crate::spectral::{DeferredCleaner, SessionGainBank};
use crate::{DspError, Result};
use rayon::prelude::*;
use smallvec::SmallVec;
use std::sync::Arc;

/// Renders a [`MixSpec`] block by block.
pub struct Mixer {
    spec: MixSpec,
    block: usize,
    channels: usize,
    tracks: Vec<TrackState>,
    /// `[stem][bus]`, `None` where that stem never reaches the bus.
    buses: Vec<Vec<Option<BusState>>>,
    direct_align: Vec<DelayLine>,
    /// Latencies, alignment delays and the bus order.
    plan: MixPlan,
    /// One lane per core in use for the tracks; lane 0 collects the others' sums.
    lanes: Vec<Lane>,
    /// The tracks' sums, one block ahead of the buses.
    pipe: Pipe,
    /// See [`Mixer::notes`].
    notes: Vec<String>,
    /// Lane `i` renders tracks `bounds[i]..bounds[i + 1]`.
    bounds: Vec<usize>,
    /// Per stem: the mono sum of its tracks for this block, where a `duck` listens to it.
    sidechains: Vec<Vec<f32>>,
    position: u64,
    /// Every reverb's tail on the GPU: one submission per engine block for the session.
    gpu: Option<GpuTail>,
    /// Every `clean` insert's gain tracking on the GPU, in the same submission.
    clean: Option<SessionGainBank>,
    /// The adapter, when the mixer was given one.
    gpu_ctx: Option<Arc<GpuContext>>,
    /// Per-track analysis on the GPU, in the same submission as the tails.
    analysis: Option<MixAnalysis>,
    /// Queue submissions made for the session (tails and analysis together).
    submissions: u64,
    /// The first GPU failure (the tails are silent from then on).
    gpu_error: Option<String>,
    /// Engine blocks processed.
    blocks: u64,
    /// Who is heard under the current mutes and solos (kept to reuse its buffers).
    heard: super::solo::Audible,
}

/// Jobs a block holds on the stack (stems with buses, plus lanes: up to twice the cores);
/// a mix with more spills them to the heap, one allocation a block.
const JOBS: usize = 64;

/// One job of a block: a stem's buses (with their inputs and the stem's output), or a lane
/// of tracks.
enum Job<'a> {
    Buses(
        &'a mut Vec<Option<BusState>>,
        &'a mut Vec<Vec<Vec<f32>>>,
        &'a mut Vec<Vec<f32>>,
    ),
    Lane(
        &'a mut Lane,
        &'a mut [TrackState],
        &'a [super::graph::TrackSpec],
    ),
}

/// Every insert of the tracks, then of the buses (every stem's instance), always in the
/// same order.
fn all_inserts<'a>(
    tracks: &'a mut [TrackState],
    buses: &'a mut [Vec<Option<BusState>>],
) -> impl Iterator<Item = &'a mut Insert> {
    let on_tracks = tracks.iter_mut().flat_map(|t| t.inserts.iter_mut());
    let on_buses = buses
        .iter_mut()
        .flatten()
        .flatten()
        .flat_map(|b| b.inserts.iter_mut());
    on_tracks.chain(on_buses)
}

/// Every convolution reverb of the tracks and buses, always in the same order.
fn reverbs<'a>(
    tracks: &'a mut [TrackState],
    buses: &'a mut [Vec<Option<BusState>>],
) -> impl Iterator<Item = &'a mut ConvolutionReverb> {
    all_inserts(tracks, buses).filter_map(Insert::reverb_mut)
}

/// Every channel of every `clean` insert whose gains come from the GPU, of the tracks and
/// buses, always in the same order (a channel's index is its place in the GPU bank).
fn deferred_cleaners<'a>(
    tracks: &'a mut [TrackState],
    buses: &'a mut [Vec<Option<BusState>>],
) -> impl Iterator<Item = &'a mut DeferredCleaner> {
    all_inserts(tracks, buses)
        .filter_map(Insert::deferred_cleaners_mut)
        .flatten()
}

/// Lanes for `tracks` tracks: two per worker thread, so the cores stay busy while the bus
/// tasks run beside them, and at most one per 8 tracks.
fn lanes_for(tracks: usize) -> usize {
    (2 * rayon::current_num_threads())
        .min(tracks.div_ceil(8))
        .max(1)
}

/// A rough relative cost of rendering a track (for spreading tracks over lanes).
fn track_cost(t: &super::graph::TrackSpec) -> usize {
    let ch = t.channels.max(1);
    1 + t
        .inserts
        .iter()
        .map(|i| match i {
            InsertSpec::Clean { .. } => 6 * ch,
            InsertSpec::Duck { .. } | InsertSpec::Multiband(_) | InsertSpec::Reverb { .. } => {
                4 * ch
            }
            _ => 0,
        })
        .sum::<usize>()
}

/// Splits the tracks into `lanes` consecutive ranges of about equal cost: `lanes + 1`
/// boundaries.
fn lane_bounds(tracks: &[super::graph::TrackSpec], lanes: usize) -> Vec<usize> {
    let costs: Vec<usize> = tracks.iter().map(track_cost).collect();
    let total: usize = costs.iter().sum();
    let mut bounds = vec![0];
    let mut acc = 0;
    for (i, c) in costs.iter().enumerate() {
        acc += c;
        let cut = total * bounds.len() / lanes;
        if acc >= cut && bounds.len() < lanes && i + 1 < tracks.len() {
            bounds.push(i + 1);
        }
    }
    while bounds.len() <= lanes {
        bounds.push(tracks.len());
    }
    bounds
}

impl Mixer {
    /// Builds every processor on the CPU (all allocation happens here).
    pub fn new(spec: MixSpec, block: usize) -> Result<Self> {
        Self::with_gpu(spec, block, None)
    }

    /// [`Mixer::new`], with the session's GPU work on `gpu` when given: every convolution
    /// reverb's tail in one [`GpuTail`] and every `clean` insert's gain tracking in one
    /// [`SessionGainBank`], one submission per engine block, read back two blocks later; the
    /// same output as the CPU (the clean inserts two blocks later, compensated like any
    /// latency). When the GPU cannot take them (too large for its buffers) they all run on
    /// the CPU, with a note saying why.
    pub fn with_gpu(spec: MixSpec, block: usize, gpu: Option<Arc<GpuContext>>) -> Result<Self> {
        let Some(ctx) = gpu else {
            return Self::build(spec, block, DspMode::Streaming);
        };
        let mut mixer = Self::gpu_work_on(spec, block, ctx.clone())?;
        mixer.gpu_ctx = Some(ctx);
        Ok(mixer)
    }

    /// [`Mixer::build`] with the session's GPU work on `ctx`, or on the CPU with a note when
    /// the GPU cannot take it.
    fn gpu_work_on(spec: MixSpec, block: usize, ctx: Arc<GpuContext>) -> Result<Self> {
        let partition = reverb_config(block, DspMode::Gpu, 0).block;
        if partition < block {
            let mut mixer = Self::build(spec, block, DspMode::Streaming)?;
            mixer.notes.push(format!(
                "the reverbs and clean inserts run on the CPU: the GPU takes engine blocks up to \
                 {partition} samples"
            ));
            return Ok(mixer);
        }
        let mut mixer = Self::build(spec, block, DspMode::Gpu)?;
        match mixer.attach_gpu(&ctx) {
            Ok(()) => Ok(mixer),
            Err(DspError::Gpu(e)) => {
                let Mixer { spec, .. } = mixer;
                let mut mixer = Self::build(spec, block, DspMode::Streaming)?;
                mixer.notes.push(format!(
                    "the reverbs and clean inserts run on the CPU: the GPU could not take them \
                     ({e})"
                ));
                Ok(mixer)
            }
            Err(e) => Err(e),
        }
    }

    /// Places the reverbs' tails in a session [`GpuTail`] and the clean inserts' gain
    /// tracking in a [`SessionGainBank`] on `ctx`.
    fn attach_gpu(&mut self, ctx: &Arc<GpuContext>) -> Result<()> {
        let mut arena = TailArena::default();
        let regions: Vec<_> = reverbs(&mut self.tracks, &mut self.buses)
            .filter_map(|r| r.reserve_gpu(&mut arena))
            .collect();
        if !regions.is_empty() {
            let tail = GpuTail::new(ctx.clone(), &arena)?;
            for (reverb, region) in reverbs(&mut self.tracks, &mut self.buses).zip(regions) {
                reverb.attach_gpu(tail.buffers(), region)?;
            }
            self.gpu = Some(tail);
        }
        let mut cleaners = deferred_cleaners(&mut self.tracks, &mut self.buses);
        if let Some(first) = cleaners.next() {
            let (bins, hop) = (first.bins(), first.hop());
            let count = 1 + cleaners.count();
            let rate = self.spec.sample_rate as f32;
            let bank = SessionGainBank::new(ctx.clone(), count, bins, hop, rate, self.block)?;
            self.clean = Some(bank);
        }
        Ok(())
    }

    /// For offline renders: [`Mixer::with_gpu`], but without a GPU the reverbs take the
    /// offline partitioning ([`DspMode::Offline`]: a third less work for a 3 s IR than
    /// the streaming layout, and a latency the render removes).
    pub fn for_render(spec: MixSpec, block: usize, gpu: Option<Arc<GpuContext>>) -> Result<Self> {
        match gpu {
            Some(_) => Self::with_gpu(spec, block, gpu),
            None => Self::build(spec, block, DspMode::Offline),
        }
    }

    /// Builds every processor, the reverbs as `reverbs` says.
    fn build(mut spec: MixSpec, block: usize, reverbs: DspMode) -> Result<Self> {
        let notes = Vec::new();
        let rate = spec.sample_rate as f32;
        let channels = spec.layout.channels();
        let stems = spec.stems.len().max(1);
        // One bypass flag per insert, so live changes never grow a vector.
        for t in &mut spec.tracks {
            t.bypass.resize(t.inserts.len(), false);
        }
        for b in &mut spec.buses {
            b.bypass.resize(b.inserts.len(), false);
        }
        let plan = MixPlan::with_mode(&spec, block, reverbs)?;
        let heard = super::solo::audible(&spec);
        let mut tracks = Vec::new();
        let mut track_lat = Vec::new();
        for (t, &hear) in spec.tracks.iter().zip(&heard.tracks) {
            let inserts = t
                .inserts
                .iter()
                .enumerate()
                .map(|(k, i)| {
                    Insert::build(i, t.channels, rate, block, reverbs).map_err(|e| {
                        DspError::InvalidInput(format!(
                            "track '{}', insert #{}: {e}",
                            t.name,
                            k + 1
                        ))
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            track_lat.push(inserts.iter().map(Insert::latency).sum::<usize>());
            let readers = t
                .clips
                .iter()
                .map(|c| match spec.sources.get(c.source) {
                    Some(super::graph::Source::Stream(s)) => s
                        .open()
                        .map(Some)
                        .map_err(|e| DspError::InvalidInput(format!("track {}: {e}", t.name))),
                    _ => Ok(None),
                })
                .collect::<Result<Vec<_>>>()?;
            let bypass = inserts
                .iter()
                .enumerate()
                .map(|(k, i)| Bypass::new(t.channels, i.latency(), block, bypassed(&t.bypass, k)))
                .collect();
            tracks.push(TrackState {
                inserts,
                bypass,
                reduction: 0.0,
                align: DelayLine::new(0, 0),
                audible: hear,
                silenced: false,
                mute_gain: 1.0,
                fader: f32::NAN,
                peak: 0.0,
                energy: 0.0,
                samples: 0,
                send_gains: vec![f32::NAN; t.sends.len()],
                readers,
                error: None,
                tap: None,
                overrides: Default::default(),
            });
        }
        for (i, (state, lat)) in tracks.iter_mut().zip(&track_lat).enumerate() {
            debug_assert_eq!(
                *lat, plan.track_latency[i],
                "built latency = planned latency"
            );
            state.align = DelayLine::new(spec.tracks[i].channels, plan.track_align(i));
        }
        // A bus instance per stem that reaches it (others would only process silence); its
        // reverbs' IR spectra are computed once and shared by the instances.
        let mut buses: Vec<Vec<Option<BusState>>> = (0..stems).map(|_| Vec::new()).collect();
        for (b, bus) in spec.buses.iter().enumerate() {
            let build = |i| Insert::build(i, channels, rate, block, reverbs);
            let bus_error = |e| DspError::InvalidInput(format!("bus '{}': {e}", bus.name));
            let mut template: Option<Vec<Insert>> = None;
            for (per_stem, &reached) in buses.iter_mut().zip(&plan.feeds[b]) {
                if !reached {
                    per_stem.push(None);
                    continue;
                }
                let first = match &template {
                    Some(t) => t,
                    None => {
                        let built = bus.inserts.iter().map(build).collect::<Result<Vec<_>>>();
                        template.insert(built.map_err(bus_error)?)
                    }
                };
                let inserts = first
                    .iter()
                    .zip(&bus.inserts)
                    .map(|(t, i)| t.shared_instance().map_or_else(|| build(i), Ok))
                    .collect::<Result<Vec<_>>>()
                    .map_err(bus_error)?;
                let state = BusState::new(&spec, b, &plan, inserts, block, !heard.buses[b]);
                per_stem.push(Some(state));
            }
        }
        let lanes = lanes_for(spec.tracks.len());
        Ok(Self {
            heard: heard.clone(),
            block,
            channels,
            tracks,
            buses,
            direct_align: (0..stems)
                .map(|_| DelayLine::new(channels, plan.max_bus))
                .collect(),
            lanes: (0..lanes)
                .map(|_| Lane::new(block, channels, spec.buses.len(), stems))
                .collect(),
            pipe: Pipe::new(block, channels, spec.buses.len(), stems),
            bounds: lane_bounds(&spec.tracks, lanes),
            sidechains: (0..stems)
                .map(|s| {
                    let keyed = spec
                        .buses
                        .iter()
                        .flat_map(|b| &b.inserts)
                        .any(|i| i.sidechain() == Some(s));
                    if keyed {
                        vec![0.0; block]
                    } else {
                        Vec::new()
                    }
                })
                .collect(),
            position: 0,
            spec,
            notes,
            gpu: None,
            clean: None,
            gpu_ctx: None,
            analysis: None,
            submissions: 0,
            gpu_error: None,
            blocks: 0,
            plan,
        })
    }

    /// The latency and routing plan the mixer was built from.
    pub fn plan(&self) -> &MixPlan {
        &self.plan
    }

    /// What could not be built as asked (a reverb that fell back from the GPU to the CPU).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Live console change of track `i` (the GUI's strip): fader, pan, mute and solo apply
    /// from the next block; the fader glides over that block (no zipper noise).
    pub fn set_track_console(&mut self, i: usize, gain_db: f32, pan: f32, mute: bool, solo: bool) {
        let Some(t) = self.spec.tracks.get_mut(i) else {
            return;
        };
        t.gain_db = gain_db;
        t.pan = pan.clamp(-1.0, 1.0);
        t.mute = mute;
        t.solo = solo;
        self.apply_solo();
    }

    /// While `on`, track `i`'s `target` (fader, pan or a send) follows its live control
    /// instead of its envelope: automation being written. Taking over glides from where the
    /// envelope was; false for a target that cannot be held this way. Never allocates.
    pub fn set_track_override(&mut self, i: usize, target: Target, on: bool) -> bool {
        self.tracks
            .get_mut(i)
            .is_some_and(|t| t.overrides.set(&target, on))
    }

    /// Replaces track `i`'s envelope for `target` (`None` removes it): a written pass taken
    /// into the playing mix. Allocates; call between passes, not per block.
    pub fn set_track_automation(
        &mut self,
        i: usize,
        target: Target,
        envelope: Option<super::Automation>,
    ) {
        let Some(t) = self.spec.tracks.get_mut(i) else {
            return;
        };
        t.automation.retain(|(k, _)| *k != target);
        if let Some(env) = envelope {
            t.automation.push((target, env));
        }
    }

    /// [`Mixer::set_track_automation`] for bus `bus`.
    pub fn set_bus_automation(
        &mut self,
        bus: usize,
        target: Target,
        envelope: Option<super::Automation>,
    ) {
        let Some(b) = self.spec.buses.get_mut(bus) else {
            return;
        };
        b.automation.retain(|(k, _)| *k != target);
        if let Some(env) = envelope {
            b.automation.push((target, env));
        }
    }

    /// [`Mixer::set_track_override`] for bus `bus` (every stem's instance).
    pub fn set_bus_override(&mut self, bus: usize, target: Target, on: bool) -> bool {
        let mut any = false;
        for stem in &mut self.buses {
            if let Some(Some(state)) = stem.get_mut(bus) {
                any |= state.overrides.set(&target, on);
            }
        }
        any
    }

    /// Live solo of bus `bus` (from the next block; whatever it silences glides out).
    pub fn set_bus_solo(&mut self, bus: usize, solo: bool) {
        if let Some(b) = self.spec.buses.get_mut(bus) {
            b.solo = solo;
            self.apply_solo();
        }
    }

    /// Who is heard after a mute or solo change. A track that was playing keeps running and
    /// glides to silence (no click, no stale delay line later); one that was silent from
    /// the start begins from a clean delay.
    fn apply_solo(&mut self) {
        let heard = &mut self.heard;
        super::solo::audible_into(&self.spec, heard);
        let heard = &self.heard;
        for (state, &hear) in self.tracks.iter_mut().zip(&heard.tracks) {
            if hear && !state.audible {
                state.align.reset();
                state.mute_gain = 1.0;
                state.audible = true;
            }
            state.silenced = !hear;
        }
        for stem in &mut self.buses {
            for (state, &hear) in stem.iter_mut().zip(&heard.buses) {
                if let Some(state) = state {
                    state.silenced = !hear;
                }
            }
        }
    }

    /// Live bypass of track `track`'s insert `insert` (crossfaded over one block).
    pub fn set_track_insert_bypass(&mut self, track: usize, insert: usize, bypass: bool) {
        if let Some(b) = self
            .spec
            .tracks
            .get_mut(track)
            .and_then(|t| t.bypass.get_mut(insert))
        {
            *b = bypass;
        }
    }

    /// Live bypass of bus `bus`'s insert `insert` (crossfaded over one block).
    pub fn set_bus_insert_bypass(&mut self, bus: usize, insert: usize, bypass: bool) {
        if let Some(b) = self
            .spec
            .buses
            .get_mut(bus)
            .and_then(|b| b.bypass.get_mut(insert))
        {
            *b = bypass;
        }
    }

    /// Each track's and bus's deepest gain reduction (dB, ≤ 0: the sum over its active
    /// compressors, gates, limiters, ducks and multiband inserts) since the last call.
    pub fn take_reductions(&mut self, tracks: &mut [f32], buses: &mut [f32]) {
        for (out, t) in tracks.iter_mut().zip(&mut self.tracks) {
            *out = t.reduction;
            t.reduction = 0.0;
        }
        buses.iter_mut().for_each(|o| *o = 0.0);
        for stem in &mut self.buses {
            for (out, state) in buses.iter_mut().zip(stem.iter_mut()) {
                if let Some(state) = state {
                    *out = out.min(state.reduction);
                    state.reduction = 0.0;
                }
            }
        }
    }

    /// Live change of track `track`'s send `send` level (glides over one block).
    pub fn set_track_send_level(&mut self, track: usize, send: usize, level_db: f32) {
        if let Some(s) = self
            .spec
            .tracks
            .get_mut(track)
            .and_then(|t| t.sends.get_mut(send))
        {
            s.level_db = level_db;
        }
    }

    /// Live mute of track `track`'s send `send` (glides over one block).
    pub fn set_track_send_mute(&mut self, track: usize, send: usize, mute: bool) {
        if let Some(s) = self
            .spec
            .tracks
            .get_mut(track)
            .and_then(|t| t.sends.get_mut(send))
        {
            s.mute = mute;
        }
    }

    /// Live change of parameter `id` ([`Insert::resolve`]) of track `track`'s insert
    /// `insert`; false when it has no such parameter. Never allocates.
    pub fn set_track_insert_param(
        &mut self,
        track: usize,
        insert: usize,
        id: super::ParamId,
        value: f32,
    ) -> bool {
        self.tracks
            .get_mut(track)
            .and_then(|t| t.inserts.get_mut(insert))
            .is_some_and(|i| i.set(id, value))
    }

    /// The live value of parameter `id` of track `track`'s insert `insert`.
    pub fn track_insert_param(
        &self,
        track: usize,
        insert: usize,
        id: super::ParamId,
    ) -> Option<f32> {
        self.tracks.get(track)?.inserts.get(insert)?.get(id)
    }

    /// The live value of parameter `id` of bus `bus`'s insert `insert` (its first stem's
    /// instance).
    pub fn bus_insert_param(&self, bus: usize, insert: usize, id: super::ParamId) -> Option<f32> {
        self.buses
            .iter()
            .find_map(|stem| stem.get(bus)?.as_ref())?
            .inserts
            .get(insert)?
            .get(id)
    }

    /// Live change of bus `bus`'s gain (glides over one block).
    pub fn set_bus_gain(&mut self, bus: usize, gain_db: f32) {
        if let Some(b) = self.spec.buses.get_mut(bus) {
            b.gain_db = gain_db;
        }
    }

    /// Live mute of bus `bus` (from the next block, gliding over it).
    pub fn set_bus_mute(&mut self, bus: usize, mute: bool) {
        if let Some(b) = self.spec.buses.get_mut(bus) {
            b.mute = mute;
        }
    }

    /// Live change of parameter `id` of bus `bus`'s insert `insert`, in every stem's
    /// instance; false when it has no such parameter. Never allocates.
    pub fn set_bus_insert_param(
        &mut self,
        bus: usize,
        insert: usize,
        id: super::ParamId,
        value: f32,
    ) -> bool {
        let mut any = false;
        for stem in &mut self.buses {
            if let Some(Some(state)) = stem.get_mut(bus) {
                if let Some(i) = state.inserts.get_mut(insert) {
                    any |= i.set(id, value);
                }
            }
        }
        any
    }

    /// Keeps each track's post-fader output of every block (in layout channels, aligned
    /// with the stems [`Mixer::process_block`] returns), for per-track analysis such as
    /// masking; read it with [`Mixer::track_tap`]. Allocates; call before rendering.
    pub fn enable_track_taps(&mut self) {
        let delay = self.plan.tap_delay();
        for state in &mut self.tracks {
            state.tap = Some((
                vec![vec![0.0; self.block]; self.channels],
                DelayLine::new(self.channels, delay),
            ));
        }
    }

    /// Track `i`'s output in the last block (its first `n` samples, as asked of
    /// [`Mixer::process_block`]), when taps are on.
    pub fn track_tap(&self, i: usize) -> Option<&[Vec<f32>]> {
        self.tracks
            .get(i)
            .and_then(|t| t.tap.as_ref())
            .map(|(tap, _)| tap.as_slice())
    }

    /// Each bus's largest output sample (over its stem instances) since the last call.
    pub fn take_bus_peaks(&mut self, out: &mut [f32]) {
        out.iter_mut().for_each(|o| *o = 0.0);
        for stem in &mut self.buses {
            for (o, state) in out.iter_mut().zip(stem.iter_mut()) {
                if let Some(state) = state {
                    *o = o.max(state.peak);
                    state.peak = 0.0;
                }
            }
        }
    }

    /// Each track's largest post-fader sample and RMS since the last call (for meters),
    /// then resets.
    pub fn take_track_levels(&mut self, peaks: &mut [f32], rms: &mut [f32]) {
        for ((p, r), t) in peaks.iter_mut().zip(rms.iter_mut()).zip(&mut self.tracks) {
            *p = t.peak;
            *r = (t.energy / t.samples.max(1) as f64).sqrt() as f32;
            t.peak = 0.0;
            t.energy = 0.0;
            t.samples = 0;
        }
    }

    /// The first error a streamed source hit while reading (its samples were silence), or
    /// the GPU's failure (the reverbs' tails were silent from then on).
    pub fn error(&self) -> Option<&str> {
        let tracks = self.tracks.iter().filter_map(|t| t.error.as_deref());
        tracks.chain(self.gpu_error.as_deref()).next()
    }

    /// Channels of `clean` inserts whose gain tracking runs on the GPU (0 without).
    pub fn gpu_clean_channels(&self) -> usize {
        self.clean.as_ref().map_or(0, SessionGainBank::channels)
    }

    /// The session's GPU tail counters (`None` when no reverb runs there).
    pub fn gpu_stats(&self) -> Option<TailStats> {
        self.gpu.as_ref().map(GpuTail::stats)
    }

    /// Measures the GPU time of every dispatch from now on (timestamp queries); false when
    /// no reverb runs on the GPU or the adapter has no timestamps.
    pub fn time_gpu(&mut self) -> bool {
        self.gpu.as_mut().is_some_and(GpuTail::time_dispatches)
    }

    /// Timeline sample of the next block.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// The stems of the last block ([`Mixer::process_block`]'s result), `[stem][channel]`.
    pub fn last_stems(&self) -> &[Vec<Vec<f32>>] {
        &self.pipe.stem_out
    }

    /// Engine blocks processed since the mixer was built.
    pub fn blocks(&self) -> u64 {
        self.blocks
    }

    /// Largest block [`Mixer::process_block`] takes.
    pub fn block(&self) -> usize {
        self.block
    }

    /// Moves the playhead to timeline sample `position` (processor state is kept, the block
    /// on its way to the buses is dropped; a fresh mixer starts silent there).
    pub fn seek(&mut self, position: u64) {
        self.position = position;
        self.pipe.clear();
    }

    /// Total delay of the mix in samples (removed by [`Mixer::render`]).
    pub fn latency(&self) -> usize {
        self.plan.latency
    }

    /// The mix description.
    pub fn spec(&self) -> &MixSpec {
        &self.spec
    }

    /// Samples a render needs after the last clip: the longest reverb tail plus latency.
    pub fn tail(&self) -> u64 {
        let ir = self
            .spec
            .buses
            .iter()
            .flat_map(|b| &b.inserts)
            .chain(self.spec.tracks.iter().flat_map(|t| &t.inserts))
            .filter_map(|i| match i {
                super::graph::InsertSpec::Reverb { ir, .. } => ir.iter().map(Vec::len).max(),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        ir as u64 + self.plan.latency as u64
    }

    /// Renders the next `n` (≤ block) samples; `stems[s][c]` receive them. The tracks of this
    /// block (split across the lanes) and the buses of the tracks' output one block earlier
    /// run at the same time, as tasks on rayon's pool.
    pub fn process_block(&mut self, n: usize) -> &[Vec<Vec<f32>>] {
        assert!(n <= self.block);
        self.gpu_collect();
        let position = self.position;
        let block = self.block as u64;
        // The bus stage's input: what the tracks produced one block ago (silence at first);
        // in a ring of two blocks, `position − block` is where `position + block` is.
        self.pipe.read(position + block, n);
        // Sidechains: the stems' tracks before alignment, as the buses' inputs are.
        for (key, stem) in self.sidechains.iter_mut().zip(&self.pipe.stem_out) {
            if key.is_empty() {
                continue;
            }
            key[..n].fill(0.0);
            for c in stem {
                key[..n].iter_mut().zip(&c[..n]).for_each(|(k, x)| *k += x);
            }
        }
        for (stem, align) in self.pipe.stem_out.iter_mut().zip(&mut self.direct_align) {
            let mut views: [&mut [f32]; 8] = Default::default();
            for (v, c) in views.iter_mut().zip(stem.iter_mut()) {
                *v = &mut c[..n];
            }
            align.process(&mut views[..self.channels]);
        }
        let mix = &self.spec;
        let at = (position, position as i64 - self.plan.max_track as i64);
        let run =
            |lane: &mut Lane, states: &mut [TrackState], specs: &[super::graph::TrackSpec]| {
                lane.clear(n);
                lane.tracks(mix, specs, states, at, n);
            };
        let bounds = &self.bounds;
        let mut rest_states: &mut [TrackState] = &mut self.tracks;
        let mut rest_specs: &[super::graph::TrackSpec] = &mix.tracks;
        let (order, channels) = (&self.plan.bus_order, self.channels);
        let sidechains = &self.sidechains;
        // The bus stage's block left the tracks one block ago, aligned to their latency.
        let timeline = position as i64 - self.block as i64 - self.plan.max_track as i64;
        let bus_jobs = self
            .buses
            .iter_mut()
            .zip(
                self.pipe
                    .bus_in
                    .iter_mut()
                    .zip(self.pipe.stem_out.iter_mut()),
            )
            .filter(|(buses, _)| buses.iter().any(Option::is_some));
        // One job per stem's buses (independent of the other stems') and per lane, on the
        // worker pool: the cores take whichever is next, so neither stage waits. The jobs
        // live on the stack and rayon's fork-join boxes nothing, so a block allocates
        // nothing when the caller is a pool thread (see `app/src/playback/pool.rs`).
        let mut jobs: SmallVec<[Job<'_>; JOBS]> = SmallVec::new();
        for (buses, (bus_in, stem_out)) in bus_jobs {
            jobs.push(Job::Buses(buses, bus_in, stem_out));
        }
        for (i, lane) in self.lanes.iter_mut().enumerate() {
            let len = bounds[i + 1] - bounds[i];
            let (states, more) = std::mem::take(&mut rest_states).split_at_mut(len);
            rest_states = more;
            let (specs, more) = rest_specs.split_at(len);
            rest_specs = more;
            jobs.push(Job::Lane(lane, states, specs));
        }
        jobs.par_iter_mut()
            .with_max_len(1)
            .for_each(|job| match job {
                Job::Buses(buses, bus_in, stem_out) => run_buses(
                    mix, order, channels, n, buses, bus_in, stem_out, sidechains, timeline,
                ),
                Job::Lane(lane, states, specs) => run(lane, states, specs),
            });
        drop(jobs);
        // Taps: each track's block, delayed to where the stems are.
        for state in &mut self.tracks {
            if let Some((tap, align)) = &mut state.tap {
                let mut views: [&mut [f32]; 8] = Default::default();
                for (v, c) in views.iter_mut().zip(tap.iter_mut()) {
                    *v = &mut c[..n];
                }
                align.process(&mut views[..self.channels]);
            }
        }
        if let Some(analysis) = self.analysis.as_mut() {
            if let Err(e) = analysis.frame(&self.pipe.stem_out, &self.tracks, n) {
                self.gpu_error = Some(format!("GPU analysis: {e}"));
            }
        }
        let (main, others) = self.lanes.split_at_mut(1);
        let main = &mut main[0];
        for other in others.iter() {
            main.absorb(other, n);
        }
        self.pipe.write(position, n, main);
        self.position += n as u64;
        self.blocks += 1;
        self.gpu_submit();
        &self.pipe.stem_out
    }

    /// Start of a block: the tails dispatched at the end of the last one reach their
    /// reverbs, and the analysis its results.
    fn gpu_collect(&mut self) {
        if self.gpu_error.is_some() {
            return;
        }
        if let Some(tail) = self.gpu.as_mut() {
            match tail.collect() {
                Ok(()) => {
                    for reverb in reverbs(&mut self.tracks, &mut self.buses) {
                        reverb.for_each_convolver(|c| tail.deliver(c));
                    }
                }
                Err(e) => self.gpu_error = Some(format!("GPU reverb tails: {e}")),
            }
        }
        if let Some(bank) = self.clean.as_mut() {
            match bank.collect() {
                Ok(()) => {
                    let cleaners = deferred_cleaners(&mut self.tracks, &mut self.buses);
                    for (i, cleaner) in cleaners.enumerate() {
                        cleaner.deliver(bank.gains(i));
                    }
                }
                Err(e) => self.gpu_error = Some(format!("GPU clean inserts: {e}")),
            }
        }
        if let Some(analysis) = self.analysis.as_mut() {
            if let Err(e) = analysis.collect() {
                self.gpu_error = Some(format!("GPU analysis: {e}"));
            }
        }
    }

    /// End of a block: every reverb that crossed a block boundary hands its new spectra, and
    /// the analysis its new frames, to the one submission of this block.
    fn gpu_submit(&mut self) {
        let Some(ctx) = self.gpu_ctx.as_ref().filter(|_| self.gpu_error.is_none()) else {
            return;
        };
        if let Some(tail) = self.gpu.as_mut() {
            let mut result = Ok(());
            for reverb in reverbs(&mut self.tracks, &mut self.buses) {
                reverb.for_each_convolver(|c| {
                    if result.is_ok() {
                        result = tail.stage(c);
                    }
                });
            }
            if let Err(e) = result {
                self.gpu_error = Some(format!("GPU reverb tails: {e}"));
                return;
            }
        }
        if let Some(bank) = self.clean.as_mut() {
            let cleaners = deferred_cleaners(&mut self.tracks, &mut self.buses);
            for (i, cleaner) in cleaners.enumerate() {
                let (power, reductions) = cleaner.staged();
                bank.stage(i, power, reductions);
            }
        }
        let tail_work = self.gpu.as_ref().is_some_and(GpuTail::has_work);
        let clean_work = self.clean.as_ref().is_some_and(SessionGainBank::has_work);
        let analysis_work = self.analysis.as_ref().is_some_and(MixAnalysis::has_work);
        if !(tail_work || clean_work || analysis_work) {
            return;
        }
        let mut encoder = ctx.device().create_command_encoder(&Default::default());
        let tail_used = tail_work && self.gpu.as_mut().is_some_and(|t| t.record(&mut encoder));
        let clean_used = clean_work && self.clean.as_mut().is_some_and(|b| b.record(&mut encoder));
        let analysis_used = analysis_work
            && self
                .analysis
                .as_mut()
                .is_some_and(|a| a.record(&mut encoder));
        let index = ctx.queue().submit(Some(encoder.finish()));
        self.submissions += 1;
        if let (true, Some(tail)) = (tail_used, self.gpu.as_mut()) {
            tail.submitted(index.clone());
        }
        if let (true, Some(bank)) = (clean_used, self.clean.as_mut()) {
            bank.submitted(index.clone());
        }
        if let (true, Some(analysis)) = (analysis_used, self.analysis.as_mut()) {
            analysis.submitted(index);
        }
    }

    /// Per-block masking analysis on the GPU: every frame of the dialogue stem `dialogue`
    /// and of every track outside it (their taps) transformed and reduced to third-octave
    /// band powers in the same submission as the reverb tails, from the first sample of the
    /// timeline (call before rendering). Returns the tracks measured, in order. Errors
    /// without a GPU.
    pub fn enable_gpu_masking(&mut self, dialogue: usize) -> Result<Vec<usize>> {
        let ctx = self
            .gpu_ctx
            .clone()
            .ok_or_else(|| DspError::Gpu("the mixer has no GPU".into()))?;
        self.enable_track_taps();
        let analysis = MixAnalysis::new(ctx, &self.spec, dialogue, self.block, self.plan.latency)?;
        let maskers = analysis.maskers().to_vec();
        self.analysis = Some(analysis);
        Ok(maskers)
    }

    /// The band powers read back since the last call, one frame at a time: `1 + maskers`
    /// signals (the dialogue first) × the bands of [`crate::analysis::MaskingFolds`].
    pub fn take_band_powers(&mut self, each: impl FnMut(&[f32])) {
        if let Some(a) = self.analysis.as_mut() {
            a.take(each);
        }
    }

    /// Waits for everything the GPU still has in flight (after the last block), so its
    /// results can be taken.
    pub fn flush_gpu(&mut self) {
        // Both slots of the analysis's readback ring (the tails' results are not needed
        // after the last block).
        for _ in 0..2 {
            if let Some(analysis) = self.analysis.as_mut() {
                if let Err(e) = analysis.collect() {
                    self.gpu_error = Some(format!("GPU analysis: {e}"));
                }
            }
        }
    }

    /// Frames the GPU analysis has completed so far (0 without one).
    pub fn gpu_analysis_frames(&self) -> u64 {
        self.analysis.as_ref().map_or(0, MixAnalysis::frames)
    }

    /// Queue submissions made for the session's GPU work (reverb tails, clean inserts and
    /// analysis together): at most one per engine block.
    pub fn gpu_submissions(&self) -> u64 {
        self.submissions
    }

    /// Offline render of the whole timeline plus tails, latency removed: `[stem][channel]`.
    pub fn render(&mut self, mut progress: impl FnMut(f64)) -> Vec<Vec<Vec<f32>>> {
        let total = self.spec.length() + self.tail();
        let stems = self.direct_align.len();
        let mut out = vec![vec![vec![0.0f32; total as usize]; self.channels]; stems];
        let mut pos = 0usize;
        while (pos as u64) < total {
            let n = self.block.min(total as usize - pos);
            let block = self.process_block(n);
            for (dst, src) in out.iter_mut().flatten().zip(block.iter().flatten()) {
                dst[pos..pos + n].copy_from_slice(&src[..n]);
            }
            pos += n;
            progress(pos as f64 / total as f64);
        }
        let lat = self.plan.latency.min(total as usize);
        for c in out.iter_mut().flatten() {
            c.drain(..lat);
        }
        out
    }
}
