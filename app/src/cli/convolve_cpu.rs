//! The CPU engine of `mixstation convolve`: a decoding thread, one [`BlockConvolver`] per
//! output group on a thread of its own, and encoding on the calling thread, joined by
//! bounded channels. Channels run side by side with no barrier between them (each worker
//! takes the next block as soon as it is decoded), and every buffer is recycled, so memory
//! stays a few blocks whatever the input's length.

use crate::io::{AudioFile, WavStream};
use anyhow::{anyhow, Result};
use gpu_dsp::conv::{BlockConvolver, Routing};
use indicatif::ProgressBar;
use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender};
use std::sync::Arc;

/// Planar block buffers.
type Planes = Vec<Vec<f32>>;

/// A decoded block shared by every worker, and how many output frames it yields.
type Shared = (Arc<Planes>, usize);

/// Blocks queued between stages.
const DEPTH: usize = 8;

/// Gains of the convolved and the dry signal.
#[derive(Clone, Copy)]
pub(super) struct WetDry {
    pub wet: f32,
    pub dry: f32,
}

/// One convolver and the channels it reads and writes.
struct Group {
    conv: BlockConvolver,
    /// The file's input channel behind each of the convolver's inputs.
    inputs: Vec<usize>,
    /// The output channel of each of the convolver's outputs.
    outputs: Vec<usize>,
    /// The input channel mixed in dry into each output.
    dry_from: Vec<usize>,
}

/// The groups for `routing`: one mono convolver per output where each output has one route
/// (stereo through a stereo IR runs on two cores), else one convolver for the whole routing
/// (true stereo).
fn groups(ir: &[Vec<f32>], channels: usize, routing: &Routing) -> Result<Vec<Group>> {
    let ir_len = ir.iter().map(Vec::len).max().unwrap_or(0);
    let block = BlockConvolver::block_for(ir_len);
    let dry = |o: usize| o.min(channels - 1);
    let single: Option<Vec<_>> = (0..routing.outputs)
        .map(|o| {
            let mut it = routing.routes.iter().filter(|r| r.output == o);
            match (it.next(), it.next()) {
                (Some(r), None) => Some(*r),
                _ => None,
            }
        })
        .collect();
    if let Some(routes) = single.filter(|r| r.len() > 1) {
        return routes
            .into_iter()
            .map(|r| {
                Ok(Group {
                    conv: BlockConvolver::new(&[&ir[r.ir]], 1, block)?,
                    inputs: vec![r.input],
                    outputs: vec![r.output],
                    dry_from: vec![dry(r.output)],
                })
            })
            .collect();
    }
    let planes: Vec<&[f32]> = ir.iter().map(Vec::as_slice).collect();
    Ok(vec![Group {
        conv: BlockConvolver::new(&planes, channels, block)?,
        inputs: (0..channels).collect(),
        outputs: (0..routing.outputs).collect(),
        dry_from: (0..routing.outputs).map(dry).collect(),
    }])
}

/// Convolves `input` with `ir` (routed by `routing`) into `out`: the whole convolution,
/// `len + ir_len − 1` frames. Returns the frames written.
pub(super) fn convolve(
    input: AudioFile,
    ir: Vec<Vec<f32>>,
    routing: &Routing,
    gains: WetDry,
    out: &mut WavStream,
    bar: &ProgressBar,
) -> Result<u64> {
    let channels = input.channels();
    let tail = ir.iter().map(Vec::len).max().unwrap_or(1) - 1;
    let groups = groups(&ir, channels, routing)?;
    drop(ir);
    let block = groups[0].conv.block();
    // Output channel → (group, its output index).
    let mut order = vec![(0, 0); routing.outputs];
    for (g, group) in groups.iter().enumerate() {
        for (k, &o) in group.outputs.iter().enumerate() {
            order[o] = (g, k);
        }
    }
    std::thread::scope(|s| {
        let mut to_workers = Vec::new();
        let mut results = Vec::new();
        let mut recycle = Vec::new();
        let mut workers = Vec::new();
        for group in groups {
            let (tx, rx) = sync_channel::<Shared>(DEPTH);
            let (result_tx, result_rx) = sync_channel::<(Planes, usize)>(DEPTH);
            let (free_tx, free_rx) = channel::<Planes>();
            workers.push(s.spawn(move || work(group, gains, rx, result_tx, free_rx)));
            to_workers.push(tx);
            results.push(result_rx);
            recycle.push(free_tx);
        }
        let reader = s.spawn(move || decode(input, block, tail, to_workers));
        let mut written = 0u64;
        'blocks: loop {
            let mut parts = Vec::with_capacity(results.len());
            for rx in &results {
                match rx.recv() {
                    Ok(part) => parts.push(part),
                    // Every worker stops together, when the decoder does.
                    Err(_) => break 'blocks,
                }
            }
            let emit = parts[0].1;
            let planes: Vec<&[f32]> = order.iter().map(|&(g, k)| &parts[g].0[k][..emit]).collect();
            out.write(&planes)?;
            written += emit as u64;
            bar.set_position(written);
            for (free, (buf, _)) in recycle.iter().zip(parts) {
                let _ = free.send(buf);
            }
        }
        drop(results);
        for worker in workers {
            worker
                .join()
                .map_err(|_| anyhow!("a convolution thread failed"))?;
        }
        reader
            .join()
            .map_err(|_| anyhow!("the decoding thread failed"))??;
        Ok(written)
    })
}

/// Decodes `input` in blocks of `block` frames (zero-padded) for every worker, then the zero
/// blocks that carry the `tail`; each block says how many output frames it yields.
fn decode(
    mut input: AudioFile,
    block: usize,
    tail: usize,
    workers: Vec<SyncSender<Shared>>,
) -> Result<()> {
    let channels = input.channels();
    let mut pool: Vec<Arc<Planes>> = Vec::new();
    // Output frames still owed once the input has ended.
    let mut owed: Option<usize> = None;
    loop {
        let mut buf = match pool.iter().position(|b| Arc::strong_count(b) == 1) {
            Some(i) => pool.swap_remove(i),
            None => Arc::new(vec![vec![0.0; block]; channels]),
        };
        let Some(planes) = Arc::get_mut(&mut buf) else {
            return Err(anyhow!("a decoded block is still shared"));
        };
        let n = match owed {
            Some(_) => 0,
            None => {
                let mut views: Vec<&mut [f32]> = planes.iter_mut().map(|c| &mut c[..]).collect();
                input.read(&mut views)?
            }
        };
        planes.iter_mut().for_each(|c| c[n..].fill(0.0));
        let emit = match owed {
            None if n == block => block,
            None => {
                let total = n + tail;
                owed = Some(total);
                total.min(block)
            }
            Some(left) => left.min(block),
        };
        if let Some(left) = &mut owed {
            *left -= emit;
        }
        if emit == 0 {
            return Ok(());
        }
        for tx in &workers {
            if tx.send((Arc::clone(&buf), emit)).is_err() {
                // The encoder stopped: its error says why.
                return Ok(());
            }
        }
        pool.push(buf);
    }
}

/// Convolves every block `group` receives and sends its output channels on.
fn work(
    mut group: Group,
    gains: WetDry,
    blocks: Receiver<Shared>,
    results: SyncSender<(Planes, usize)>,
    free: Receiver<Planes>,
) {
    let block = group.conv.block();
    for (x, emit) in blocks {
        let mut y = free
            .try_recv()
            .unwrap_or_else(|_| vec![vec![0.0; block]; group.outputs.len()]);
        let ins: Vec<&[f32]> = group.inputs.iter().map(|&c| x[c].as_slice()).collect();
        let mut outs: Vec<&mut [f32]> = y.iter_mut().map(Vec::as_mut_slice).collect();
        group.conv.process_block(&ins, &mut outs);
        for (o, &d) in y.iter_mut().zip(&group.dry_from) {
            if gains.wet != 1.0 {
                o.iter_mut().for_each(|v| *v *= gains.wet);
            }
            if gains.dry != 0.0 {
                for (v, &s) in o.iter_mut().zip(&x[d]) {
                    *v += gains.dry * s;
                }
            }
        }
        if results.send((y, emit)).is_err() {
            return;
        }
    }
}
