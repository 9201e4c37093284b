//! The session's per-track analysis on the GPU: the dialogue stem and every track outside it
//! (their taps, aligned with the stems) framed every block and transformed to third-octave
//! band powers by a [`GpuBandPowers`] recorded into the mixer's one submission per engine
//! block, beside the reverb tails.

use super::graph::MixSpec;
use super::lane::TrackState;
use crate::analysis::{GpuBandPowers, MaskingFolds};
use crate::gpu::GpuContext;
use crate::{DspError, Result};
use std::sync::Arc;

pub(super) struct MixAnalysis {
    engine: GpuBandPowers,
    dialogue: usize,
    maskers: Vec<usize>,
    /// Samples of the mix's latency still to pass before the timeline's first sample.
    skip: usize,
    /// Band powers read back and not yet taken, frame after frame.
    ready: Vec<f32>,
    frame_len: usize,
}

impl MixAnalysis {
    /// The dialogue stem `dialogue` against every track outside it, at the start of the
    /// timeline of a mix whose latency is `latency`.
    pub fn new(
        ctx: Arc<GpuContext>,
        spec: &MixSpec,
        dialogue: usize,
        block: usize,
        latency: usize,
    ) -> Result<Self> {
        if dialogue >= spec.stems.len().max(1) {
            return Err(DspError::InvalidInput(format!(
                "no stem {dialogue} to analyse"
            )));
        }
        let maskers: Vec<usize> = (0..spec.tracks.len())
            .filter(|&t| spec.tracks[t].stem != dialogue)
            .collect();
        let folds = MaskingFolds::new(maskers.len(), spec.sample_rate);
        let bands = folds.ranges().len();
        let engine = GpuBandPowers::new(
            ctx,
            1 + maskers.len(),
            spec.layout.channels(),
            folds.ranges(),
            block,
        )?;
        Ok(Self {
            engine,
            dialogue,
            frame_len: (1 + maskers.len()) * bands,
            maskers,
            skip: latency,
            ready: Vec::new(),
        })
    }

    /// Frames completed so far.
    pub fn frames(&self) -> u64 {
        self.engine.frames()
    }

    /// The tracks measured, in order.
    pub fn maskers(&self) -> &[usize] {
        &self.maskers
    }

    /// Frames this block's `n` samples: the dialogue stem and every masker's tap.
    pub fn frame(
        &mut self,
        stems: &[Vec<Vec<f32>>],
        tracks: &[TrackState],
        n: usize,
    ) -> Result<()> {
        let from = self.skip.min(n);
        self.skip -= from;
        if from == n {
            return Ok(());
        }
        let mut views: [&[f32]; 8] = [&[]; 8];
        let dialogue = &stems[self.dialogue];
        let k = dialogue.len().min(8);
        for (v, c) in views.iter_mut().zip(dialogue) {
            *v = &c[from..n];
        }
        self.engine.frame_signal(0, &views[..k]);
        for (s, &t) in self.maskers.iter().enumerate() {
            let Some((tap, _)) = &tracks[t].tap else {
                continue;
            };
            let k = tap.len().min(8);
            for (v, c) in views.iter_mut().zip(tap) {
                *v = &c[from..n];
            }
            self.engine.frame_signal(1 + s, &views[..k]);
        }
        self.engine.advance(n - from)
    }

    /// True when frames are staged for this block's submission.
    pub fn has_work(&self) -> bool {
        self.engine.staged() > 0
    }

    /// See [`GpuBandPowers::record`].
    pub fn record(&mut self, encoder: &mut wgpu::CommandEncoder) -> bool {
        self.engine.record(encoder)
    }

    /// See [`GpuBandPowers::submitted`].
    pub fn submitted(&mut self, index: wgpu::SubmissionIndex) {
        self.engine.submitted(index);
    }

    /// Reads back the last submission's frames.
    pub fn collect(&mut self) -> Result<()> {
        let ready = &mut self.ready;
        self.engine
            .collect(&mut |frame| ready.extend_from_slice(frame))
    }

    /// Hands out the frames read back so far.
    pub fn take(&mut self, mut each: impl FnMut(&[f32])) {
        for frame in self.ready.chunks_exact(self.frame_len) {
            each(frame);
        }
        self.ready.clear();
    }
}
