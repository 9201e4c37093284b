//! The fixed delay every path with less latency than the latest one goes through.

/// A fixed delay for latency compensation, in place, per channel.
pub struct DelayLine {
    lines: Vec<Vec<f32>>,
    pos: usize,
}

impl DelayLine {
    /// Forgets the delayed samples.
    pub fn reset(&mut self) {
        self.lines.iter_mut().for_each(|l| l.fill(0.0));
    }

    pub fn new(channels: usize, delay: usize) -> Self {
        Self {
            lines: vec![vec![0.0; delay]; channels],
            pos: 0,
        }
    }

    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        let d = self.lines.first().map_or(0, Vec::len);
        if d == 0 {
            return;
        }
        let n = channels.first().map_or(0, |c| c.len());
        for (c, line) in channels.iter_mut().zip(self.lines.iter_mut()) {
            // Swap runs of samples with the ring up to its wrap point.
            let (mut p, mut done) = (self.pos, 0);
            while done < c.len() {
                let m = (d - p).min(c.len() - done);
                c[done..done + m].swap_with_slice(&mut line[p..p + m]);
                done += m;
                p = if p + m == d { 0 } else { p + m };
            }
        }
        self.pos = (self.pos + n) % d;
    }
}
