//! A lane of the mix engine: scratch buffers and accumulators for rendering a share of the
//! tracks. Lanes run on separate cores and are summed before the buses.

use super::bypass::Bypass;
use super::delay::DelayLine;
use super::dynamics_lanes::{compress_lanes, Item, LANES};
use super::eq_lanes::{equalize_lanes, Item as EqItem};
use super::graph::{bypassed, MixSpec, Overrides, Source, SourceReader, Target, TrackSpec};
use super::insert::{process_automated, Insert};
use super::pan::{balance_gains, pan_gains, surround_pan_gains, Layout};
use super::{db_to_gain, glide_to};

/// A track's built processors.
pub(crate) struct TrackState {
    pub inserts: Vec<Insert>,
    /// Per insert: its bypass crossfade.
    pub bypass: Vec<Bypass>,
    /// The deepest gain reduction of its dynamics inserts (dB, ≤ 0) since the meters last
    /// read it.
    pub reduction: f32,
    pub align: DelayLine,
    pub audible: bool,
    /// Silenced live (mute/solo from the window): still processed, so its delays and
    /// inserts stay current, but its output glides to zero.
    pub silenced: bool,
    /// The mute gain applied last (1 = open).
    pub mute_gain: f32,
    /// The constant fader gain applied last (NaN before the first block).
    pub fader: f32,
    /// Largest post-fader sample since the meters last read it.
    pub peak: f32,
    /// Sum of squares of the post-fader samples (all channels) and their count since then.
    pub energy: f64,
    pub samples: u64,
    /// Per send: the constant send gain applied last (NaN before the first block).
    pub send_gains: Vec<f32>,
    /// Per clip: its reader when the source is streamed.
    pub readers: Vec<Option<Box<dyn SourceReader>>>,
    /// The first read error (the mix goes on with silence; the caller reports it).
    pub error: Option<String>,
    /// Targets whose live control wins over their envelope (automation being written).
    pub overrides: Overrides,
    /// When taps are on ([`super::Mixer::enable_track_taps`]): this block's post-fader
    /// output in layout channels, and the delay that aligns it with the stems.
    pub tap: Option<(Vec<Vec<f32>>, DelayLine)>,
}

/// Tracks rendered together, so their inserts can share SIMD lanes.
const GROUP: usize = LANES;

/// Scratch and accumulators of one rendering lane.
pub(crate) struct Lane {
    track_buf: Vec<Vec<f32>>,
    /// Per member of the group being rendered: its block between the clips and the pan.
    held: Vec<Vec<Vec<f32>>>,
    panned: Vec<Vec<f32>>,
    env: Vec<f32>,
    clip_gain: Vec<f32>,
    stream_buf: Vec<Vec<f32>>,
    gains: Vec<f32>,
    /// `[stem][bus][channel]`.
    pub bus_in: Vec<Vec<Vec<Vec<f32>>>>,
    /// `[stem][channel]`.
    pub stem_out: Vec<Vec<Vec<f32>>>,
}

impl Lane {
    pub fn new(block: usize, channels: usize, buses: usize, stems: usize) -> Self {
        Self {
            track_buf: vec![vec![0.0; block]; 2],
            held: vec![vec![vec![0.0; block]; 2]; GROUP],
            panned: vec![vec![0.0; block]; channels],
            env: vec![0.0; block],
            clip_gain: vec![0.0; block],
            stream_buf: vec![vec![0.0; block]; 2],
            gains: vec![0.0; channels],
            bus_in: vec![vec![vec![vec![0.0; block]; channels]; buses]; stems],
            stem_out: vec![vec![vec![0.0; block]; channels]; stems],
        }
    }

    /// Zeroes the accumulators for an `n`-sample block.
    pub fn clear(&mut self, n: usize) {
        for v in self
            .bus_in
            .iter_mut()
            .flatten()
            .flatten()
            .chain(self.stem_out.iter_mut().flatten())
        {
            v[..n].fill(0.0);
        }
    }

    /// Adds another lane's accumulators into this one.
    pub fn absorb(&mut self, other: &Lane, n: usize) {
        let pairs = self
            .bus_in
            .iter_mut()
            .flatten()
            .flatten()
            .zip(other.bus_in.iter().flatten().flatten())
            .chain(
                self.stem_out
                    .iter_mut()
                    .flatten()
                    .zip(other.stem_out.iter().flatten()),
            );
        for (a, b) in pairs {
            a[..n].iter_mut().zip(&b[..n]).for_each(|(x, y)| *x += y);
        }
    }

    /// The audible tracks' blocks into their stems and the buses: the clips and inserts at
    /// timeline sample `position`; after the latency alignment the audio is at timeline
    /// sample `aligned` (`position` less the tracks' latency), where pan, fader and send
    /// automation are read. Tracks go in groups of [`GROUP`], whose inserts run side by side
    /// where they can; silent tracks only clear their taps.
    pub fn tracks(
        &mut self,
        mix: &MixSpec,
        specs: &[TrackSpec],
        states: &mut [TrackState],
        (position, aligned): (u64, i64),
        n: usize,
    ) {
        let mut group = [0usize; GROUP];
        let mut len = 0;
        for i in 0..states.len() {
            if states[i].audible {
                group[len] = i;
                len += 1;
            } else if let Some((tap, _)) = &mut states[i].tap {
                tap.iter_mut().for_each(|c| c[..n].fill(0.0));
            }
            if len == GROUP || (len > 0 && i + 1 == states.len()) {
                let members = &group[..len];
                for (g, &t) in members.iter().enumerate() {
                    self.clips(mix, &specs[t], &mut states[t], position, n);
                    std::mem::swap(&mut self.track_buf, &mut self.held[g]);
                }
                self.inserts(specs, states, members, position, n);
                for (g, &t) in members.iter().enumerate() {
                    std::mem::swap(&mut self.track_buf, &mut self.held[g]);
                    self.finish(mix, &specs[t], &mut states[t], aligned, n);
                }
                len = 0;
            }
        }
    }

    /// A track's clips at timeline sample `start` into `track_buf`.
    fn clips(
        &mut self,
        mix: &MixSpec,
        spec: &TrackSpec,
        state: &mut TrackState,
        start: u64,
        n: usize,
    ) {
        let tch = spec.channels;
        // 1. Clips.
        for c in &mut self.track_buf {
            c[..n].fill(0.0);
        }
        let end = start + n as u64;
        for (ci, clip) in spec.clips.iter().enumerate() {
            let len = mix.clip_len(clip);
            let (c0, c1) = (clip.start.max(start), (clip.start + len).min(end));
            if c0 >= c1 {
                continue;
            }
            let source = &mix.sources[clip.source];
            let schans = source.channels().clamp(1, 2);
            // Gain per sample: the clip gain with its fades at its edges.
            let g = db_to_gain(clip.gain_db);
            let (i0, i1) = ((c0 - start) as usize, (c1 - start) as usize);
            let gains = &mut self.clip_gain[i0..i1];
            gains.fill(g);
            let (k0, k1) = (c0 - clip.start, c1 - clip.start);
            if k0 < clip.fade_in || len - k1 < clip.fade_out {
                for (j, gv) in gains.iter_mut().enumerate() {
                    let k = k0 + j as u64;
                    if k < clip.fade_in {
                        *gv *= clip.fade_in_shape.gain(k as f64 / clip.fade_in as f64);
                    }
                    if len - k <= clip.fade_out {
                        *gv *= clip
                            .fade_out_shape
                            .gain((len - k) as f64 / clip.fade_out as f64);
                    }
                }
            }
            let s0 = (clip.offset + k0) as usize;
            let s1 = s0 + (i1 - i0);
            let src: [&[f32]; 2] = match source {
                Source::Memory(p) => [&p[0][s0..s1], &p[schans - 1][s0..s1]],
                Source::Stream(_) => {
                    let m = i1 - i0;
                    let (a, b) = self.stream_buf.split_at_mut(1);
                    let mut outs: [&mut [f32]; 2] = [&mut a[0][..m], &mut b[0][..m]];
                    let read = match state.readers.get_mut(ci).and_then(Option::as_mut) {
                        Some(reader) => reader.read(s0 as u64, &mut outs[..schans]),
                        None => Err("the clip's reader is not open".to_string()),
                    };
                    if let Err(e) = read {
                        state.error.get_or_insert(format!("{}: {e}", spec.name));
                        outs.iter_mut().for_each(|o| o.fill(0.0));
                    }
                    [&self.stream_buf[0][..m], &self.stream_buf[schans - 1][..m]]
                }
            };
            let add = |dst: &mut [f32], src: &[f32], scale: f32| {
                for ((d, x), gv) in dst.iter_mut().zip(src).zip(gains.iter()) {
                    *d += scale * gv * x;
                }
            };
            match (schans, tch) {
                (1, _) => {
                    for c in 0..tch {
                        add(&mut self.track_buf[c][i0..i1], src[0], 1.0);
                    }
                }
                (_, 1) => {
                    add(&mut self.track_buf[0][i0..i1], src[0], 0.5);
                    add(&mut self.track_buf[0][i0..i1], src[1], 0.5);
                }
                _ => {
                    for (dst, src) in self.track_buf.iter_mut().zip(src) {
                        add(&mut dst[i0..i1], src, 1.0);
                    }
                }
            }
        }
    }

    /// The inserts of the group `members` (indices into `states`, ascending), whose blocks
    /// are in `held`, then their latency alignment. Insert by insert across the group:
    /// compressors and EQs that run plainly (not bypassed or fading, not automated) go
    /// through [`compress_lanes`] and [`equalize_lanes`] together; every other insert runs
    /// on its own track.
    fn inserts(
        &mut self,
        specs: &[TrackSpec],
        states: &mut [TrackState],
        members: &[usize],
        start: u64,
        n: usize,
    ) {
        let at = start as i64;
        let mut picked: [Option<(&mut TrackState, &TrackSpec)>; GROUP] = Default::default();
        let mut next = members.iter().enumerate().peekable();
        for (i, state) in states.iter_mut().enumerate() {
            if let Some((g, _)) = next.next_if(|(_, &t)| t == i) {
                picked[g] = Some((state, &specs[i]));
            }
        }
        let mut views: [[&mut [f32]; 2]; GROUP] = Default::default();
        for (v, planes) in views.iter_mut().zip(self.held.iter_mut()) {
            let (a, b) = planes.split_at_mut(1);
            *v = [&mut a[0][..n], &mut b[0][..n]];
        }
        let mut reduction = [0.0f32; GROUP];
        let depth = picked.iter().flatten().map(|(s, _)| s.inserts.len()).max();
        for i in 0..depth.unwrap_or(0) {
            let mut lanes: [Item<'_, '_>; GROUP] = Default::default();
            let mut eqs: [EqItem<'_, '_>; GROUP] = Default::default();
            let members = picked
                .iter_mut()
                .zip(&mut views)
                .zip(lanes.iter_mut().zip(&mut eqs));
            for ((member, view), (lane, eq_lane)) in members {
                let Some((state, spec)) = member else {
                    continue;
                };
                let mut chain = state.inserts.iter_mut().zip(&mut state.bypass);
                let Some((insert, bypass)) = chain.nth(i) else {
                    continue;
                };
                let (off, channels) = (bypassed(&spec.bypass, i), &mut view[..spec.channels]);
                let automated = spec
                    .automation
                    .iter()
                    .any(|(t, _)| matches!(t, Target::Insert(k, _) if *k == i));
                let plain = bypass.passes_through(off) && !automated;
                if plain && matches!(insert, Insert::Compressor(_) | Insert::Eq(_)) {
                    match insert {
                        Insert::Compressor(c) => *lane = Some((c, channels)),
                        Insert::Eq(eq) => *eq_lane = Some((eq, channels)),
                        _ => {}
                    }
                } else {
                    let overrides = &state.overrides;
                    bypass.run(off, channels, |ch| {
                        process_automated(insert, i, (&spec.automation, overrides), at, ch, None)
                    });
                }
            }
            compress_lanes(&mut lanes);
            equalize_lanes(&mut eqs);
            for (member, r) in picked.iter_mut().zip(&mut reduction) {
                let Some((state, spec)) = member else {
                    continue;
                };
                if let Some(insert) = state.inserts.get(i) {
                    if !bypassed(&spec.bypass, i) {
                        *r += insert.reduction_db().unwrap_or(0.0);
                    }
                }
            }
        }
        for ((member, view), r) in picked.iter_mut().zip(&mut views).zip(reduction) {
            if let Some((state, spec)) = member {
                state.reduction = state.reduction.min(r);
                state.align.process(&mut view[..spec.channels]);
            }
        }
    }

    /// A track's aligned block (in `track_buf`) panned, faded and sent: into its stem and
    /// buses, its meters and its tap.
    fn finish(
        &mut self,
        mix: &MixSpec,
        spec: &TrackSpec,
        state: &mut TrackState,
        aligned: i64,
        n: usize,
    ) {
        let tch = spec.channels;
        // 4. Pan into the layout (pre-fader).
        let layout = mix.layout;
        let pan_env = spec
            .automation
            .iter()
            .find(|(k, _)| *k == Target::Pan && !state.overrides.has(k))
            .map(|(_, a)| a);
        for c in &mut self.panned {
            c[..n].fill(0.0);
        }
        if let (Some(env), Layout::Stereo) = (pan_env, layout) {
            env.fill(aligned, &mut self.env[..n]);
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
            let pan = pan_env.map_or(spec.pan, |e| e.value_at(aligned as f64));
            if tch == 2 {
                let (l, r) = balance_gains(pan);
                for ((out, x), g) in self.panned.iter_mut().zip(&self.track_buf).zip([l, r]) {
                    for (o, v) in out[..n].iter_mut().zip(&x[..n]) {
                        *o = g * v;
                    }
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
                for (out, &g) in self.panned.iter_mut().zip(&self.gains) {
                    if g != 0.0 {
                        for (o, v) in out[..n].iter_mut().zip(&self.track_buf[0][..n]) {
                            *o = g * v;
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
        // Live mute/solo: glide to (or from) silence over this block, before every send.
        let target = if state.silenced { 0.0 } else { 1.0 };
        if state.mute_gain != 1.0 || target != 1.0 {
            glide_to(&mut state.mute_gain, target, &mut self.env[..n]);
            for c in &mut self.panned {
                for (x, g) in c[..n].iter_mut().zip(&self.env[..n]) {
                    *x *= g;
                }
            }
        }
        // 5. Pre-fader sends.
        self.sends(spec, state, aligned, n, true);
        // 6. Fader (sample-accurate automation).
        let fader_env = spec
            .automation
            .iter()
            .find(|(k, _)| *k == Target::GainDb && !state.overrides.has(k));
        match fader_env {
            Some((_, env)) => {
                env.fill(aligned, &mut self.env[..n]);
                for v in &mut self.env[..n] {
                    *v = db_to_gain(*v);
                }
                // Where a live control taking over (a written pass) glides from.
                state.fader = self.env[n - 1];
            }
            None => {
                // A constant fader; a live change glides linearly over one block.
                glide_to(
                    &mut state.fader,
                    db_to_gain(spec.gain_db),
                    &mut self.env[..n],
                );
            }
        }
        for c in &mut self.panned {
            for (x, g) in c[..n].iter_mut().zip(&self.env[..n]) {
                *x *= g;
            }
        }
        for c in &self.panned {
            let (peak, energy) = peak_and_energy(&c[..n]);
            state.peak = state.peak.max(peak);
            state.energy += energy;
        }
        state.samples += (n * self.panned.len()) as u64;
        if let Some((tap, _)) = &mut state.tap {
            for (t, c) in tap.iter_mut().zip(&self.panned) {
                t[..n].copy_from_slice(&c[..n]);
            }
        }
        // 7. Post-fader sends and the stem.
        self.sends(spec, state, aligned, n, false);
        if !spec.direct {
            return;
        }
        for (dst, src) in self.stem_out[stem].iter_mut().zip(&self.panned) {
            for (d, x) in dst[..n].iter_mut().zip(&src[..n]) {
                *d += x;
            }
        }
    }

    /// Adds the panned track signal into its send buses (pre- or post-fader ones).
    fn sends(
        &mut self,
        spec: &TrackSpec,
        state: &mut TrackState,
        start: i64,
        n: usize,
        pre_fader: bool,
    ) {
        for (k, send) in spec.sends.iter().enumerate() {
            if send.pre_fader != pre_fader {
                continue;
            }
            let env = spec
                .automation
                .iter()
                .find(|(tg, _)| *tg == Target::SendDb(k) && !state.overrides.has(tg))
                .map(|(_, a)| a);
            match env {
                Some(env) if !send.mute => {
                    env.fill(start, &mut self.env[..n]);
                    for v in &mut self.env[..n] {
                        *v = db_to_gain(*v);
                    }
                    if let Some(last) = state.send_gains.get_mut(k) {
                        *last = self.env[n - 1];
                    }
                }
                _ => {
                    // A constant level (or a muted send); a live change glides over one block.
                    let mut unknown = f32::NAN;
                    let last = state.send_gains.get_mut(k).unwrap_or(&mut unknown);
                    let target = if send.mute {
                        0.0
                    } else {
                        db_to_gain(send.level_db)
                    };
                    glide_to(last, target, &mut self.env[..n]);
                }
            }
            for (dst, src) in self.bus_in[spec.stem][send.bus]
                .iter_mut()
                .zip(&self.panned)
            {
                for ((d, x), g) in dst[..n].iter_mut().zip(&src[..n]).zip(&self.env[..n]) {
                    *d += g * x;
                }
            }
        }
    }
}

/// Largest magnitude and sum of squares of `x`, in eight independent lanes so the loop
/// vectorises (the block's sum is then carried in f64).
fn peak_and_energy(x: &[f32]) -> (f32, f64) {
    let mut peak = [0.0f32; 8];
    let mut energy = [0.0f32; 8];
    let chunks = x.chunks_exact(8);
    let rest = chunks.remainder();
    for chunk in chunks {
        for l in 0..8 {
            let v = chunk[l];
            peak[l] = if v.abs() > peak[l] { v.abs() } else { peak[l] };
            energy[l] += v * v;
        }
    }
    for (l, v) in rest.iter().enumerate() {
        peak[l] = peak[l].max(v.abs());
        energy[l] += v * v;
    }
    (
        peak.iter().fold(0.0f32, |m, p| m.max(*p)),
        energy.iter().map(|e| f64::from(*e)).sum(),
    )
}
