//! The bus stage: each stem's buses in routing order — inserts (automated, bypassable, a
//! `duck` keyed by its stem's sidechain), fader with glides, mute and solo, sends to other
//! buses (delayed to the target's input latency), alignment to the latest bus, into the stem.

use super::bypass::Bypass;
use super::delay::DelayLine;
use super::graph::{bypassed, MixSpec, Target};
use super::insert::{process_automated, Insert};
use super::plan::MixPlan;
use super::{db_to_gain, glide_to};

/// One bus's processors and state in one stem.
pub(super) struct BusState {
    pub(super) inserts: Vec<Insert>,
    /// Per insert: its bypass crossfade.
    pub(super) bypass: Vec<Bypass>,
    /// The deepest gain reduction of its dynamics inserts (dB, ≤ 0) since the meters last
    /// read it.
    pub(super) reduction: f32,
    /// Silenced by a solo elsewhere (glides like a mute).
    pub(super) silenced: bool,
    /// Delays the bus output to the latest bus path (stem alignment).
    pub(super) align: DelayLine,
    /// Delays the tracks' direct sends into this bus to the latency of its bus inputs.
    pub(super) input_align: DelayLine,
    /// Per bus-to-bus send: the delay from this bus's output to the target's input latency.
    pub(super) send_align: Vec<DelayLine>,
    /// Scratch for delayed sends.
    pub(super) scratch: Vec<Vec<f32>>,
    /// The bus gain applied last (NaN before the first block): a live change glides.
    pub(super) gain: f32,
    /// Targets whose live control wins over their envelope (automation being written).
    pub(super) overrides: super::graph::Overrides,
    /// The mute gain applied last (1 playing, 0 muted; NaN before the first block).
    pub(super) mute_gain: f32,
    pub(super) mute_env: Vec<f32>,
    /// Largest output sample since the meters last read it.
    pub(super) peak: f32,
    /// The latency before this bus's inserts and at its output (timeline offsets for its
    /// automation).
    pub(super) in_lat: usize,
    pub(super) out_lat: usize,
    /// Automation values for one block.
    pub(super) env: Vec<f32>,
    /// Per insert: delays a `duck`'s sidechain to the audio the duck hears (the bus input's
    /// latency plus the inserts before it); empty for the others.
    pub(super) key_align: Vec<DelayLine>,
    pub(super) key_buf: Vec<f32>,
}

impl BusState {
    /// Bus `b` of `spec` with its built `inserts`, its delays from `plan`; `silenced` by a
    /// solo elsewhere.
    pub(super) fn new(
        spec: &MixSpec,
        b: usize,
        plan: &MixPlan,
        inserts: Vec<Insert>,
        block: usize,
        silenced: bool,
    ) -> Self {
        let bus = &spec.buses[b];
        let channels = spec.layout.channels();
        let key_align: Vec<DelayLine> = plan
            .key_align(spec, b)
            .iter()
            .map(|d| DelayLine::new(usize::from(d.is_some()), d.unwrap_or(0)))
            .collect();
        let keyed = bus.inserts.iter().any(|i| i.sidechain().is_some());
        let bypass = inserts
            .iter()
            .enumerate()
            .map(|(k, i)| Bypass::new(channels, i.latency(), block, bypassed(&bus.bypass, k)))
            .collect();
        Self {
            inserts,
            bypass,
            reduction: 0.0,
            silenced,
            align: DelayLine::new(channels, plan.bus_align(b)),
            input_align: DelayLine::new(channels, plan.bus_in[b]),
            send_align: bus
                .sends
                .iter()
                .map(|send| DelayLine::new(channels, plan.send_align(b, send.bus)))
                .collect(),
            scratch: vec![vec![0.0; block]; channels],
            gain: f32::NAN,
            overrides: Default::default(),
            mute_gain: f32::NAN,
            mute_env: vec![0.0; block],
            peak: 0.0,
            in_lat: plan.bus_in[b],
            out_lat: plan.bus_out[b],
            env: vec![0.0; block],
            key_align,
            key_buf: if keyed { vec![0.0; block] } else { Vec::new() },
        }
    }
}

#[allow(clippy::too_many_arguments)]
/// Runs one stem's buses in routing order: inserts, gain, bus sends, alignment, into the stem.
/// `timeline` is the timeline sample of the tracks' output in the block (automation reads
/// each bus's envelopes that much later, less its own latency).
pub(super) fn run_buses(
    mix: &MixSpec,
    order: &[usize],
    channels: usize,
    n: usize,
    buses: &mut [Option<BusState>],
    bus_in: &mut [Vec<Vec<f32>>],
    stem_out: &mut [Vec<f32>],
    sidechains: &[Vec<f32>],
    timeline: i64,
) {
    // Before any bus adds into another: align the tracks' direct sends with the bus inputs
    // that arrive later (through latency-adding buses upstream).
    for (state, input) in buses.iter_mut().zip(bus_in.iter_mut()) {
        if let Some(state) = state {
            let mut views: [&mut [f32]; 8] = Default::default();
            for (v, c) in views.iter_mut().zip(input.iter_mut()) {
                *v = &mut c[..n];
            }
            state.input_align.process(&mut views[..channels]);
        }
    }
    for &b in order {
        let Some(state) = buses[b].as_mut() else {
            continue;
        };
        let spec = &mix.buses[b];
        let (at_in, at_out) = (
            timeline - state.in_lat as i64,
            timeline - state.out_lat as i64,
        );
        let overrides = state.overrides;
        let envelope = |target: &Target| {
            let found = spec.automation.iter().find(|(t, _)| t == target);
            found.filter(|_| !overrides.has(target))
        };
        let mut input = std::mem::take(&mut bus_in[b]);
        {
            let mut views: [&mut [f32]; 8] = Default::default();
            for (v, c) in views.iter_mut().zip(input.iter_mut()) {
                *v = &mut c[..n];
            }
            let views = &mut views[..channels];
            // Inserts; automated parameters follow their envelopes within the block.
            let inserts = state.inserts.iter_mut().zip(&mut state.key_align);
            let inserts = inserts.zip(&mut state.bypass).zip(&spec.inserts);
            let mut reduction = 0.0;
            for (i, (((insert, align), bypass), ispec)) in inserts.enumerate() {
                let key = match ispec.sidechain() {
                    Some(stem) => {
                        let key = &mut state.key_buf[..n];
                        key.copy_from_slice(&sidechains[stem][..n]);
                        align.process(&mut [&mut *key]);
                        Some(&*key)
                    }
                    None => None,
                };
                let off = bypassed(&spec.bypass, i);
                bypass.run(off, views, |ch| {
                    process_automated(insert, i, (&spec.automation, &overrides), at_in, ch, key)
                });
                if !off {
                    reduction += insert.reduction_db().unwrap_or(0.0);
                }
            }
            state.reduction = state.reduction.min(reduction);
            // The bus fader: its envelope, or a constant that glides over one block when it
            // is changed live.
            match envelope(&Target::GainDb) {
                Some((_, env)) => {
                    env.fill(at_out, &mut state.env[..n]);
                    state.env[..n].iter_mut().for_each(|g| *g = db_to_gain(*g));
                    state.gain = state.env[n - 1];
                }
                None => glide_to(
                    &mut state.gain,
                    db_to_gain(spec.gain_db),
                    &mut state.env[..n],
                ),
            }
            // Mute (or a solo elsewhere): the fader glides to (or back from) silence over
            // one block.
            let target = if spec.mute || state.silenced {
                0.0
            } else {
                1.0
            };
            if state.mute_gain != 1.0 || target != 1.0 {
                glide_to(&mut state.mute_gain, target, &mut state.mute_env[..n]);
                for (g, m) in state.env[..n].iter_mut().zip(&state.mute_env[..n]) {
                    *g *= m;
                }
            }
            for v in views.iter_mut() {
                for (x, g) in v.iter_mut().zip(&state.env[..n]) {
                    *x *= g;
                }
            }
            for v in views.iter() {
                state.peak = v.iter().fold(state.peak, |m, x| m.max(x.abs()));
            }
            for (k, (send, delay)) in spec.sends.iter().zip(&mut state.send_align).enumerate() {
                // The send level, automated per sample at the bus output, before the delay
                // that aligns it with the target's other inputs.
                let env = envelope(&Target::SendDb(k)).map(|(_, e)| e);
                let level = match env {
                    _ if send.mute => 0.0,
                    Some(env) => {
                        env.fill(at_out, &mut state.env[..n]);
                        state.env[..n].iter_mut().for_each(|g| *g = db_to_gain(*g));
                        1.0
                    }
                    None => db_to_gain(send.level_db),
                };
                let mut delayed: [&mut [f32]; 8] = Default::default();
                for ((d, c), src) in delayed
                    .iter_mut()
                    .zip(state.scratch.iter_mut())
                    .zip(views.iter())
                {
                    match env {
                        Some(_) => {
                            for ((o, x), g) in c[..n].iter_mut().zip(src.iter()).zip(&state.env) {
                                *o = g * x;
                            }
                        }
                        None => c[..n].copy_from_slice(src),
                    }
                    *d = &mut c[..n];
                }
                delay.process(&mut delayed[..channels]);
                for (dst, src) in bus_in[send.bus].iter_mut().zip(delayed.iter()) {
                    dst[..n]
                        .iter_mut()
                        .zip(src.iter())
                        .for_each(|(d, x)| *d += level * x);
                }
            }
            state.align.process(views);
            for (dst, src) in stem_out.iter_mut().zip(views.iter()) {
                dst[..n]
                    .iter_mut()
                    .zip(src.iter())
                    .for_each(|(d, x)| *d += x);
            }
        }
        bus_in[b] = input;
    }
}
