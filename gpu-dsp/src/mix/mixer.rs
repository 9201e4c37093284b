//! The mix engine: clips → inserts → latency compensation → pan/fader/automation → sends →
//! buses → stems. Buses run once per stem that feeds them, so every stem carries its own
//! share of the reverbs and the stems add up to the master exactly.

use super::db_to_gain;
use super::graph::{MixSpec, Target, TrackSpec};
use super::insert::{DelayLine, Insert};
use super::pan::{balance_gains, pan_gains, surround_pan_gains, Layout};
use crate::{DspError, Result};

struct TrackState {
    inserts: Vec<Insert>,
    align: DelayLine,
    audible: bool,
}

struct BusState {
    inserts: Vec<Insert>,
    align: DelayLine,
}

/// Renders a [`MixSpec`] block by block.
pub struct Mixer {
    spec: MixSpec,
    block: usize,
    channels: usize,
    tracks: Vec<TrackState>,
    /// `[bus][stem]`, `None` where that stem never reaches the bus.
    buses: Vec<Vec<Option<BusState>>>,
    bus_order: Vec<usize>,
    direct_align: Vec<DelayLine>,
    latency: usize,
    track_buf: Vec<Vec<f32>>,
    panned: Vec<Vec<f32>>,
    env: Vec<f32>,
    clip_gain: Vec<f32>,
    gains: Vec<f32>,
    /// `[bus][stem][channel]`.
    bus_in: Vec<Vec<Vec<Vec<f32>>>>,
    /// `[stem][channel]`.
    stem_out: Vec<Vec<Vec<f32>>>,
    position: u64,
}

/// Buses in an order where every bus comes after the buses that send to it; an error names
/// the buses of a routing cycle.
pub fn bus_order(spec: &MixSpec) -> Result<Vec<usize>> {
    let n = spec.buses.len();
    let mut indegree = vec![0usize; n];
    for b in &spec.buses {
        for s in &b.sends {
            indegree[s.bus] += 1;
        }
    }
    let mut ready: Vec<usize> = (0..n).filter(|&b| indegree[b] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(b) = ready.pop() {
        order.push(b);
        for s in &spec.buses[b].sends {
            indegree[s.bus] -= 1;
            if indegree[s.bus] == 0 {
                ready.push(s.bus);
            }
        }
    }
    if order.len() != n {
        let stuck: Vec<&str> = (0..n)
            .filter(|&b| indegree[b] > 0)
            .map(|b| spec.buses[b].name.as_str())
            .collect();
        return Err(DspError::InvalidInput(format!(
            "bus routing has a cycle through {}",
            stuck.join(", ")
        )));
    }
    Ok(order)
}

impl Mixer {
    /// Builds every processor (all allocation happens here).
    pub fn new(spec: MixSpec, block: usize) -> Result<Self> {
        let rate = spec.sample_rate as f32;
        let channels = spec.layout.channels();
        let stems = spec.stems.len().max(1);
        let any_solo = spec.tracks.iter().any(|t| t.solo);
        let mut tracks = Vec::new();
        let mut track_lat = Vec::new();
        for t in &spec.tracks {
            let inserts = t
                .inserts
                .iter()
                .map(|i| Insert::build(i, t.channels, rate, block))
                .collect::<Result<Vec<_>>>()?;
            track_lat.push(inserts.iter().map(Insert::latency).sum::<usize>());
            tracks.push(TrackState {
                inserts,
                align: DelayLine::new(0, 0),
                audible: !t.mute && (!any_solo || t.solo),
            });
        }
        let max_track = track_lat.iter().copied().max().unwrap_or(0);
        for (t, (state, lat)) in spec.tracks.iter().zip(tracks.iter_mut().zip(&track_lat)) {
            state.align = DelayLine::new(t.channels, max_track - lat);
        }
        let order = bus_order(&spec)?;
        // Latency at each bus output: its own inserts after the latest bus feeding it.
        let mut out_lat = vec![0usize; spec.buses.len()];
        let mut in_lat = vec![0usize; spec.buses.len()];
        let mut bus_lat = vec![0usize; spec.buses.len()];
        for (b, bus) in spec.buses.iter().enumerate() {
            bus_lat[b] = bus
                .inserts
                .iter()
                .map(|i| Insert::latency_of(i, rate, block))
                .sum();
        }
        for &b in &order {
            out_lat[b] = in_lat[b] + bus_lat[b];
            for s in &spec.buses[b].sends {
                in_lat[s.bus] = in_lat[s.bus].max(out_lat[b]);
            }
        }
        let max_bus = out_lat.iter().copied().max().unwrap_or(0);
        // Which stems reach each bus (from audible tracks, then bus to bus in order): bus
        // instances for other stems would only process silence, so they are not built.
        let mut feeds = vec![vec![false; stems]; spec.buses.len()];
        for (t, state) in spec.tracks.iter().zip(&tracks) {
            if state.audible {
                for send in &t.sends {
                    feeds[send.bus][t.stem] = true;
                }
            }
        }
        for &b in &order {
            for send in &spec.buses[b].sends {
                for s in 0..stems {
                    if feeds[b][s] {
                        feeds[send.bus][s] = true;
                    }
                }
            }
        }
        let mut buses = Vec::new();
        for (b, bus) in spec.buses.iter().enumerate() {
            let mut per_stem = Vec::new();
            for s in 0..stems {
                if !feeds[b][s] {
                    per_stem.push(None);
                    continue;
                }
                let inserts = bus
                    .inserts
                    .iter()
                    .map(|i| Insert::build(i, channels, rate, block))
                    .collect::<Result<Vec<_>>>()
                    .map_err(|e| DspError::InvalidInput(format!("bus {}: {e}", bus.name)))?;
                per_stem.push(Some(BusState {
                    inserts,
                    align: DelayLine::new(channels, max_bus - out_lat[b]),
                }));
            }
            buses.push(per_stem);
        }
        Ok(Self {
            block,
            channels,
            tracks,
            buses,
            bus_order: order,
            direct_align: (0..stems)
                .map(|_| DelayLine::new(channels, max_bus))
                .collect(),
            latency: max_track + max_bus,
            track_buf: vec![vec![0.0; block]; 2],
            panned: vec![vec![0.0; block]; channels],
            env: vec![0.0; block],
            clip_gain: vec![0.0; block],
            gains: vec![0.0; channels],
            bus_in: vec![vec![vec![vec![0.0; block]; channels]; stems]; spec.buses.len()],
            stem_out: vec![vec![vec![0.0; block]; channels]; stems],
            position: 0,
            spec,
        })
    }

    /// Total delay of the mix in samples (removed by [`Mixer::render`]).
    pub fn latency(&self) -> usize {
        self.latency
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
        ir as u64 + self.latency as u64
    }

    /// Renders the next `n` (≤ block) samples; `stems[s][c]` receive them. Never allocates.
    pub fn process_block(&mut self, n: usize, stems: &mut [Vec<&mut [f32]>]) {
        assert!(n <= self.block);
        for v in self
            .bus_in
            .iter_mut()
            .flatten()
            .flatten()
            .chain(self.stem_out.iter_mut().flatten())
        {
            v[..n].fill(0.0);
        }
        for t in 0..self.tracks.len() {
            if self.tracks[t].audible {
                self.track(t, n);
            }
        }
        for s in 0..self.stem_out.len() {
            let mut views: Vec<&mut [f32]> = Vec::new();
            views.extend(self.stem_out[s].iter_mut().map(|c| &mut c[..n]));
            self.direct_align[s].process(&mut views);
        }
        for oi in 0..self.bus_order.len() {
            let b = self.bus_order[oi];
            let gain = db_to_gain(self.spec.buses[b].gain_db);
            for s in 0..self.stem_out.len() {
                if self.buses[b][s].is_none() {
                    continue;
                }
                let mut input = std::mem::take(&mut self.bus_in[b][s]);
                {
                    let mut views: Vec<&mut [f32]> =
                        input.iter_mut().map(|c| &mut c[..n]).collect();
                    let Some(state) = self.buses[b][s].as_mut() else {
                        continue;
                    };
                    for insert in &mut state.inserts {
                        insert.process(&mut views);
                    }
                    for v in views.iter_mut() {
                        v.iter_mut().for_each(|x| *x *= gain);
                    }
                    for send in &self.spec.buses[b].sends {
                        let level = db_to_gain(send.level_db);
                        for (dst, src) in self.bus_in[send.bus][s].iter_mut().zip(views.iter()) {
                            dst[..n]
                                .iter_mut()
                                .zip(src.iter())
                                .for_each(|(d, x)| *d += level * x);
                        }
                    }
                    state.align.process(&mut views);
                    for (dst, src) in self.stem_out[s].iter_mut().zip(views.iter()) {
                        dst[..n]
                            .iter_mut()
                            .zip(src.iter())
                            .for_each(|(d, x)| *d += x);
                    }
                }
                self.bus_in[b][s] = input;
            }
        }
        for (out, src) in stems.iter_mut().zip(&self.stem_out) {
            for (o, c) in out.iter_mut().zip(src) {
                o[..n].copy_from_slice(&c[..n]);
            }
        }
        self.position += n as u64;
    }

    /// One track's block into its stem and the buses.
    fn track(&mut self, t: usize, n: usize) {
        let spec: &TrackSpec = &self.spec.tracks[t];
        let tch = spec.channels;
        // 1. Clips.
        for c in &mut self.track_buf {
            c[..n].fill(0.0);
        }
        let (start, end) = (self.position, self.position + n as u64);
        for clip in &spec.clips {
            let len = self.spec.clip_len(clip);
            let (c0, c1) = (clip.start.max(start), (clip.start + len).min(end));
            if c0 >= c1 {
                continue;
            }
            let source = &self.spec.sources[clip.source];
            // Gain per sample: the clip gain with linear fades at its edges.
            let g = db_to_gain(clip.gain_db);
            let (i0, i1) = ((c0 - start) as usize, (c1 - start) as usize);
            let gains = &mut self.clip_gain[i0..i1];
            gains.fill(g);
            let (k0, k1) = (c0 - clip.start, c1 - clip.start);
            if k0 < clip.fade_in || len - k1 < clip.fade_out {
                for (j, gv) in gains.iter_mut().enumerate() {
                    let k = k0 + j as u64;
                    if k < clip.fade_in {
                        *gv *= k as f32 / clip.fade_in as f32;
                    }
                    if len - k <= clip.fade_out {
                        *gv *= ((len - k) as f32 / clip.fade_out as f32).min(1.0);
                    }
                }
            }
            let s0 = (clip.offset + k0) as usize;
            let s1 = s0 + (i1 - i0);
            let add = |dst: &mut [f32], src: &[f32], scale: f32| {
                for ((d, x), gv) in dst.iter_mut().zip(src).zip(gains.iter()) {
                    *d += scale * gv * x;
                }
            };
            match (source.len(), tch) {
                (1, _) => {
                    for c in 0..tch {
                        add(&mut self.track_buf[c][i0..i1], &source[0][s0..s1], 1.0);
                    }
                }
                (_, 1) => {
                    add(&mut self.track_buf[0][i0..i1], &source[0][s0..s1], 0.5);
                    add(&mut self.track_buf[0][i0..i1], &source[1][s0..s1], 0.5);
                }
                _ => {
                    for c in 0..2 {
                        add(&mut self.track_buf[c][i0..i1], &source[c][s0..s1], 1.0);
                    }
                }
            }
        }
        // 2. Inserts and latency alignment.
        {
            let state = &mut self.tracks[t];
            let (a, b) = self.track_buf.split_at_mut(1);
            let mut views: Vec<&mut [f32]> = vec![&mut a[0][..n]];
            if tch == 2 {
                views.push(&mut b[0][..n]);
            }
            for insert in &mut state.inserts {
                insert.process(&mut views);
            }
            state.align.process(&mut views);
        }
        // 3. Insert automation (block rate).
        for (target, env) in &spec.automation {
            if let Target::Insert(i, name) = target {
                let v = env.value_at(start as f64);
                self.tracks[t].inserts[*i].set_param(name, v);
            }
        }
        // 4. Pan into the layout (pre-fader).
        let layout = self.spec.layout;
        let pan_env = spec
            .automation
            .iter()
            .find(|(k, _)| *k == Target::Pan)
            .map(|(_, a)| a);
        for c in &mut self.panned {
            c[..n].fill(0.0);
        }
        if let (Some(env), Layout::Stereo) = (pan_env, layout) {
            env.fill(start, &mut self.env[..n]);
            for i in 0..n {
                let (l, r) = if tch == 1 {
                    pan_gains(self.env[i])
                } else {
                    balance_gains(self.env[i])
                };
                let (x0, x1) = (self.track_buf[0][i], self.track_buf[tch - 1][i]);
                self.panned[0][i] = l * x0;
                self.panned[1][i] = r * x1;
            }
        } else {
            let pan = pan_env.map_or(spec.pan, |e| e.value_at(start as f64));
            if tch == 2 {
                let (l, r) = balance_gains(pan);
                for i in 0..n {
                    self.panned[0][i] = l * self.track_buf[0][i];
                    self.panned[1][i] = r * self.track_buf[1][i];
                }
            } else {
                match layout {
                    Layout::Stereo => {
                        let (l, r) = pan_gains(pan);
                        self.gains[0] = l;
                        self.gains[1] = r;
                    }
                    _ => surround_pan_gains(
                        spec.azimuth.unwrap_or(-30.0 * pan),
                        layout,
                        &mut self.gains,
                    ),
                }
                for (c, g) in self.gains.iter().enumerate() {
                    if *g != 0.0 {
                        for i in 0..n {
                            self.panned[c][i] = g * self.track_buf[0][i];
                        }
                    }
                }
            }
            if let (Some(lfe), Some(db)) = (layout.lfe(), spec.lfe_db) {
                let g = db_to_gain(db) / tch as f32;
                for i in 0..n {
                    self.panned[lfe][i] += g * (0..tch).map(|c| self.track_buf[c][i]).sum::<f32>();
                }
            }
        }
        let stem = spec.stem;
        // 5. Pre-fader sends.
        self.sends(t, n, true);
        // 6. Fader (sample-accurate automation).
        let spec: &TrackSpec = &self.spec.tracks[t];
        match spec.automation.iter().find(|(k, _)| *k == Target::GainDb) {
            Some((_, env)) => {
                env.fill(start, &mut self.env[..n]);
                for v in &mut self.env[..n] {
                    *v = db_to_gain(*v);
                }
            }
            None => self.env[..n].fill(db_to_gain(spec.gain_db)),
        }
        for c in &mut self.panned {
            for (x, g) in c[..n].iter_mut().zip(&self.env[..n]) {
                *x *= g;
            }
        }
        // 7. Post-fader sends and the stem.
        self.sends(t, n, false);
        for (dst, src) in self.stem_out[stem].iter_mut().zip(&self.panned) {
            for (d, x) in dst[..n].iter_mut().zip(&src[..n]) {
                *d += x;
            }
        }
    }

    /// Adds the panned track signal into its send buses (pre- or post-fader ones).
    fn sends(&mut self, t: usize, n: usize, pre_fader: bool) {
        let spec = &self.spec.tracks[t];
        let start = self.position;
        for (k, send) in spec.sends.iter().enumerate() {
            if send.pre_fader != pre_fader {
                continue;
            }
            let env = spec
                .automation
                .iter()
                .find(|(tg, _)| *tg == Target::SendDb(k))
                .map(|(_, a)| a);
            match env {
                Some(env) => {
                    env.fill(start, &mut self.env[..n]);
                    for v in &mut self.env[..n] {
                        *v = db_to_gain(*v);
                    }
                }
                None => self.env[..n].fill(db_to_gain(send.level_db)),
            }
            for (dst, src) in self.bus_in[send.bus][spec.stem]
                .iter_mut()
                .zip(&self.panned)
            {
                for ((d, x), g) in dst[..n].iter_mut().zip(&src[..n]).zip(&self.env[..n]) {
                    *d += g * x;
                }
            }
        }
    }

    /// Offline render of the whole timeline plus tails, latency removed: `[stem][channel]`.
    pub fn render(&mut self, mut progress: impl FnMut(f64)) -> Vec<Vec<Vec<f32>>> {
        let total = self.spec.length() + self.tail();
        let stems = self.stem_out.len();
        let mut out = vec![vec![vec![0.0f32; total as usize]; self.channels]; stems];
        let mut pos = 0usize;
        while (pos as u64) < total {
            let n = self.block.min(total as usize - pos);
            let mut views: Vec<Vec<&mut [f32]>> = out
                .iter_mut()
                .map(|s| s.iter_mut().map(|c| &mut c[pos..pos + n]).collect())
                .collect();
            self.process_block(n, &mut views);
            pos += n;
            progress(pos as f64 / total as f64);
        }
        let lat = self.latency.min(total as usize);
        for c in out.iter_mut().flatten() {
            c.drain(..lat);
        }
        out
    }
}
