//! The tracks' outputs on their way to the buses, one engine block ahead of them.

use super::lane::Lane;

/// The tracks' outputs on their way to the buses: a ring of two engine blocks per signal,
/// indexed by timeline sample, and the bus stage's working copy of the block it processes.
pub(super) struct Pipe {
    /// `[stem][bus][channel]` and `[stem][channel]`, `2·block` samples each.
    pub(super) ring_bus_in: Vec<Vec<Vec<Vec<f32>>>>,
    pub(super) ring_stem: Vec<Vec<Vec<f32>>>,
    /// The bus stage's block: its bus inputs and (after the buses) its stems.
    pub(super) bus_in: Vec<Vec<Vec<Vec<f32>>>>,
    pub(super) stem_out: Vec<Vec<Vec<f32>>>,
}

impl Pipe {
    pub(super) fn new(block: usize, channels: usize, buses: usize, stems: usize) -> Self {
        let planes = |len: usize| vec![vec![0.0f32; len]; channels];
        Self {
            ring_bus_in: vec![vec![planes(2 * block); buses]; stems],
            ring_stem: vec![planes(2 * block); stems],
            bus_in: vec![vec![planes(block); buses]; stems],
            stem_out: vec![planes(block); stems],
        }
    }

    /// Forgets the tracks' output on its way to the buses.
    pub(super) fn clear(&mut self) {
        let rings = self.ring_bus_in.iter_mut().flatten().flatten();
        rings
            .chain(self.ring_stem.iter_mut().flatten())
            .for_each(|r| r.fill(0.0));
    }

    /// Copies the `n` samples that start at timeline sample `from` out of the ring.
    pub(super) fn read(&mut self, from: u64, n: usize) {
        let rings = self.ring_bus_in.iter().flatten().flatten();
        let rings = rings.chain(self.ring_stem.iter().flatten());
        let work = self.bus_in.iter_mut().flatten().flatten();
        let work = work.chain(self.stem_out.iter_mut().flatten());
        for (ring, out) in rings.zip(work) {
            let (a, b) = ring_runs(ring.len(), from, n);
            let first = a.len();
            out[..first].copy_from_slice(&ring[a]);
            out[first..n].copy_from_slice(&ring[b]);
        }
    }

    /// Stores the tracks' `n` samples that start at timeline sample `at` in the ring.
    pub(super) fn write(&mut self, at: u64, n: usize, lane: &Lane) {
        let rings = self.ring_bus_in.iter_mut().flatten().flatten();
        let rings = rings.chain(self.ring_stem.iter_mut().flatten());
        let fresh = lane.bus_in.iter().flatten().flatten();
        let fresh = fresh.chain(lane.stem_out.iter().flatten());
        for (ring, src) in rings.zip(fresh) {
            let (a, b) = ring_runs(ring.len(), at, n);
            let first = a.len();
            ring[a].copy_from_slice(&src[..first]);
            ring[b].copy_from_slice(&src[first..n]);
        }
    }
}

/// The two runs of a ring of `len` samples that hold the `n` samples from timeline sample
/// `at` (the second is empty unless they wrap).
fn ring_runs(len: usize, at: u64, n: usize) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
    let at = (at % len as u64) as usize;
    let first = n.min(len - at);
    (at..at + first, 0..n - first)
}
