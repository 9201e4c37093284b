//! How an impulse response is cut into partitions (Gardner-style non-uniform layout).

/// A run of `count` partitions of `size` taps starting at tap `offset` of the IR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub size: usize,
    pub offset: usize,
    pub count: usize,
}

impl Segment {
    /// One past the last IR tap this segment covers.
    pub fn end(&self) -> usize {
        self.offset + self.size * self.count
    }
}

/// The partition layout of one IR for one block size.
///
/// With latency `L` (0 or `block`), a segment of partition size `P` computes its output block
/// when its input block is complete, so it must start at tap `offset >= P - L`; the plan grows
/// partition sizes by `growth` only once that holds. Segments after the first may need extra
/// `tail_slack` samples (the GPU tail is collected one block after its dispatch:
/// `offset >= P - L + tail_slack`). With `L = 0` the first `block` taps are a direct-form FIR
/// (`direct_taps`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionPlan {
    pub block: usize,
    pub latency: usize,
    pub direct_taps: usize,
    pub tail_slack: usize,
    pub ir_len: usize,
    pub segments: Vec<Segment>,
}

impl PartitionPlan {
    /// Lays out an IR of `ir_len` taps. `head_partitions` block-sized partitions come first;
    /// `uniform` keeps every partition at the block size.
    pub fn new(
        ir_len: usize,
        block: usize,
        zero_latency: bool,
        head_partitions: usize,
        max_partition: usize,
        uniform: bool,
        tail_slack: usize,
    ) -> Self {
        assert!(block.is_power_of_two(), "block size must be a power of two");
        let latency = if zero_latency { 0 } else { block };
        let direct_taps = if zero_latency { block.min(ir_len) } else { 0 };
        let max_partition = max_partition.max(block);
        let growth = 4;
        let mut segments = Vec::new();
        let mut pos = direct_taps;
        let mut size = block;
        while pos < ir_len {
            let remaining = ir_len - pos;
            let next = (size * growth).min(max_partition);
            let all = remaining.div_ceil(size);
            let count = if uniform || next == size {
                all
            } else {
                // Enough partitions that the next, larger segment can start in time.
                let needed = (next + tail_slack - latency)
                    .saturating_sub(pos)
                    .div_ceil(size);
                let minimum = if segments.is_empty() {
                    head_partitions.max(1)
                } else {
                    1
                };
                needed.max(minimum).min(all)
            };
            segments.push(Segment {
                size,
                offset: pos,
                count,
            });
            pos += size * count;
            size = next;
        }
        let plan = Self {
            block,
            latency,
            direct_taps,
            tail_slack,
            ir_len,
            segments,
        };
        debug_assert!(plan.is_causal());
        plan
    }

    /// True when every segment can deliver its output in time for the plan's latency.
    pub fn is_causal(&self) -> bool {
        self.segments.iter().enumerate().all(|(i, s)| {
            s.offset + self.latency >= s.size + if i > 0 { self.tail_slack } else { 0 }
        })
    }

    /// The largest partition size.
    pub fn max_size(&self) -> usize {
        self.segments
            .iter()
            .map(|s| s.size)
            .max()
            .unwrap_or(self.block)
    }

    /// Total number of partitions (complex multiply-accumulates per output sample and route).
    pub fn partitions(&self) -> usize {
        self.segments.iter().map(|s| s.count).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_ir_contiguously_and_causally() {
        for zero in [false, true] {
            for slack in [0, 64] {
                for len in [1usize, 63, 64, 65, 1000, 144_000, 300_000] {
                    let p = PartitionPlan::new(len, 64, zero, 4, 4096, false, slack);
                    assert!(p.is_causal(), "{p:?}");
                    let mut pos = p.direct_taps;
                    for s in &p.segments {
                        assert_eq!(s.offset, pos);
                        pos = s.end();
                    }
                    assert!(pos >= len && pos < len + p.max_size(), "{p:?}");
                }
            }
        }
    }

    #[test]
    fn three_second_ir_at_256_is_small() {
        let p = PartitionPlan::new(144_000, 256, false, 4, 16384, false, 0);
        let sizes: Vec<_> = p.segments.iter().map(|s| (s.size, s.count)).collect();
        assert_eq!(sizes, vec![(256, 4), (1024, 3), (4096, 3), (16384, 8)]);
        assert_eq!(p.partitions(), 18);
    }
}
