//! The mix's latency and routing plan, computed from its description alone: the bus order,
//! every latency (per track, at each bus's input and output, of the whole mix), which stems
//! reach each bus, and the delays that keep every path sample-aligned. Pure and unit-tested;
//! the mixer builds its delay lines and bus instances from it.

use super::graph::{InsertSpec, MixSpec};
use super::insert::{DspMode, Insert};
use crate::{DspError, Result};

/// Where every delay of a mix goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MixPlan {
    /// Buses in an order where each comes after the buses that send to it.
    pub bus_order: Vec<usize>,
    /// Per track: the latency of its inserts.
    pub track_latency: Vec<usize>,
    /// The tracks' common latency (every track is delayed to it before pan and fader).
    pub max_track: usize,
    /// Per bus: the latency of the signal at its input (its latest upstream bus path) and at
    /// its output (plus its own inserts), counted from the tracks' output.
    pub bus_in: Vec<usize>,
    pub bus_out: Vec<usize>,
    /// The latest bus output (every bus and the direct paths are delayed to it).
    pub max_bus: usize,
    /// `[bus][stem]`: the stem reaches the bus (from any track, muted or not, then bus to
    /// bus), so that stem's instance of the bus is built.
    pub feeds: Vec<Vec<bool>>,
    /// The whole mix: tracks, buses and the one block between the track and bus stages.
    pub latency: usize,
    /// Where the heavy inserts run and how the reverbs are partitioned (their latencies
    /// follow).
    pub mode: DspMode,
}

impl MixPlan {
    /// The plan of `spec` processed in `block`-sample engine blocks; an error names the buses
    /// of a routing cycle.
    pub fn new(spec: &MixSpec, block: usize) -> Result<Self> {
        Self::with_mode(spec, block, DspMode::Streaming)
    }

    /// [`MixPlan::new`] with the inserts placed as `mode` says.
    pub fn with_mode(spec: &MixSpec, block: usize, mode: DspMode) -> Result<Self> {
        let rate = spec.sample_rate as f32;
        let chain = |inserts: &[InsertSpec]| -> usize {
            inserts
                .iter()
                .map(|i| Insert::latency_of(i, rate, block, mode))
                .sum()
        };
        let track_latency: Vec<usize> = spec.tracks.iter().map(|t| chain(&t.inserts)).collect();
        let max_track = track_latency.iter().copied().max().unwrap_or(0);
        let bus_order = bus_order(spec)?;
        let buses = spec.buses.len();
        let (mut bus_in, mut bus_out) = (vec![0usize; buses], vec![0usize; buses]);
        for &b in &bus_order {
            bus_out[b] = bus_in[b] + chain(&spec.buses[b].inserts);
            for s in &spec.buses[b].sends {
                bus_in[s.bus] = bus_in[s.bus].max(bus_out[b]);
            }
        }
        let max_bus = bus_out.iter().copied().max().unwrap_or(0);
        let stems = spec.stems.len().max(1);
        let mut feeds = vec![vec![false; stems]; buses];
        for t in &spec.tracks {
            for send in &t.sends {
                feeds[send.bus][t.stem] = true;
            }
        }
        for &b in &bus_order {
            for send in &spec.buses[b].sends {
                let from = feeds[b].clone();
                for (to, reached) in feeds[send.bus].iter_mut().zip(from) {
                    *to |= reached;
                }
            }
        }
        Ok(Self {
            bus_order,
            track_latency,
            max_track,
            bus_in,
            bus_out,
            max_bus,
            feeds,
            latency: max_track + max_bus + block,
            mode,
        })
    }

    /// The delay that brings track `t` to the tracks' common latency.
    pub fn track_align(&self, t: usize) -> usize {
        self.max_track - self.track_latency[t]
    }

    /// The delay that brings bus `b`'s output to the latest bus output.
    pub fn bus_align(&self, b: usize) -> usize {
        self.max_bus - self.bus_out[b]
    }

    /// The delay of a send from bus `from` to bus `to`, so it arrives with `to`'s latest input.
    pub fn send_align(&self, from: usize, to: usize) -> usize {
        self.bus_in[to] - self.bus_out[from]
    }

    /// Per insert of bus `b`: the delay of a `duck`'s sidechain to the audio the duck hears
    /// (the bus input's latency plus the inserts before it); `None` for unkeyed inserts.
    pub fn key_align(&self, spec: &MixSpec, b: usize) -> Vec<Option<usize>> {
        let rate = spec.sample_rate as f32;
        let block = self.latency - self.max_track - self.max_bus;
        let mut before = self.bus_in[b];
        spec.buses[b]
            .inserts
            .iter()
            .map(|i| {
                let delay = i.sidechain().map(|_| before);
                before += Insert::latency_of(i, rate, block, self.mode);
                delay
            })
            .collect()
    }

    /// The delay from a track's output (after its alignment) to where the stems are.
    pub fn tap_delay(&self) -> usize {
        self.latency - self.max_track
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mix::{BusSpec, ClipSpec, EqBand, FilterKind, SendSpec, TrackSpec};

    fn send(bus: usize) -> SendSpec {
        SendSpec::post_fader(bus, 0.0)
    }

    fn bus(name: &str, inserts: Vec<InsertSpec>, sends: Vec<SendSpec>) -> BusSpec {
        BusSpec {
            mute: false,
            solo: false,
            name: name.into(),
            gain_db: 0.0,
            inserts,
            bypass: vec![],
            sends,
            automation: vec![],
        }
    }

    const LIMITER: InsertSpec = InsertSpec::Limiter {
        ceiling_db: -1.0,
        release_ms: 50.0,
    };

    /// Three tracks in two stems; a reverb bus and an EQ bus both feeding a bus with an EQ,
    /// a duck keyed by stem 0 and a limiter.
    fn mix() -> MixSpec {
        let mut spec = MixSpec::one_track(48_000, vec![0.0; 100]);
        let clip = vec![ClipSpec {
            source: 0,
            length: 100,
            ..Default::default()
        }];
        let mut tracks: Vec<TrackSpec> = ["limited", "plain", "cleaned"]
            .iter()
            .map(|n| TrackSpec::new(*n, 1, clip.clone()))
            .collect();
        tracks[0].inserts = vec![LIMITER];
        tracks[0].sends = vec![send(0)];
        tracks[1].sends = vec![send(1)];
        tracks[2].inserts = vec![InsertSpec::Clean {
            reduction_db: 12.0,
            hum: None,
        }];
        tracks[2].stem = 1;
        tracks[2].sends = vec![send(1)];
        spec.tracks = tracks;
        spec.stems = vec!["DX".into(), "MX".into()];
        let reverb = InsertSpec::Reverb {
            ir: vec![vec![0.5; 300]],
            wet: 1.0,
            dry: 0.0,
        };
        let eq = InsertSpec::Eq(vec![EqBand {
            kind: FilterKind::Bell,
            freq: 1000.0,
            gain_db: 3.0,
            q: 1.0,
        }]);
        let duck = InsertSpec::Duck {
            sidechain: 0,
            params: Default::default(),
        };
        spec.buses = vec![
            bus("verb", vec![reverb], vec![send(2)]),
            bus("eq", vec![eq.clone()], vec![send(2)]),
            bus("print", vec![eq, duck, LIMITER], vec![]),
        ];
        spec
    }

    #[test]
    fn latencies_follow_the_longest_path_and_every_path_is_aligned() {
        let spec = mix();
        let block = 512;
        let plan = MixPlan::new(&spec, block).unwrap();
        let lat = |i: &InsertSpec| Insert::latency_of(i, 48_000.0, block, DspMode::Streaming);
        let limiter = lat(&LIMITER);
        let clean = lat(&spec.tracks[2].inserts[0]);
        let reverb = lat(&spec.buses[0].inserts[0]);
        let duck = lat(&spec.buses[2].inserts[1]);
        assert!(limiter > 0 && clean > 0 && reverb > 0 && duck > 0);
        assert_eq!(plan.track_latency, vec![limiter, 0, clean]);
        assert_eq!(plan.max_track, limiter.max(clean));
        assert_eq!(plan.track_align(1), plan.max_track);
        // The two feeding buses come before the bus they feed.
        let at = |b| plan.bus_order.iter().position(|&x| x == b).unwrap();
        assert!(at(0) < at(2) && at(1) < at(2));
        assert_eq!(plan.bus_out[0], reverb);
        assert_eq!(plan.bus_out[1], 0);
        assert_eq!(plan.bus_in[2], reverb);
        assert_eq!(plan.bus_out[2], reverb + duck + limiter);
        assert_eq!(plan.max_bus, reverb + duck + limiter);
        // The EQ bus's send waits for the reverb's; each bus output waits for the latest.
        assert_eq!(plan.send_align(1, 2), reverb);
        assert_eq!(plan.send_align(0, 2), 0);
        assert_eq!(plan.bus_align(2), 0);
        assert_eq!(plan.bus_align(0), duck + limiter);
        // The duck hears its bus input after the EQ before it (no latency).
        assert_eq!(plan.key_align(&spec, 2), vec![None, Some(reverb), None]);
        assert_eq!(plan.latency, plan.max_track + plan.max_bus + block);
        assert_eq!(plan.tap_delay(), plan.max_bus + block);
        // Stem 0 reaches every bus; stem 1 only the EQ bus and the bus it feeds.
        assert_eq!(
            plan.feeds,
            vec![vec![true, false], vec![true, true], vec![true, true]]
        );
    }

    #[test]
    fn a_routing_cycle_is_refused_naming_its_buses() {
        let mut spec = mix();
        spec.buses[2].sends = vec![send(0)];
        let err = MixPlan::new(&spec, 512).unwrap_err().to_string();
        assert!(err.contains("cycle"), "{err}");
        assert!(err.contains("verb") && err.contains("print"), "{err}");
        assert!(!err.contains("eq,"), "{err}");
    }

    #[test]
    fn a_mix_without_buses_has_the_tracks_latency_and_one_block() {
        let mut spec = mix();
        spec.buses.clear();
        for t in &mut spec.tracks {
            t.sends.clear();
        }
        let plan = MixPlan::new(&spec, 256).unwrap();
        assert_eq!(plan.max_bus, 0);
        assert_eq!(plan.latency, plan.max_track + 256);
        assert!(plan.bus_order.is_empty() && plan.feeds.is_empty());
    }
}
