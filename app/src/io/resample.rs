//! Sample-rate conversion with rubato, delay-compensated to the exact output length.

use anyhow::{Context, Result};
use rubato::{FftFixedIn, Resampler};

/// Resamples planar channels from `from` Hz to `to` Hz. The output is aligned with the input
/// (the resampler's delay is removed) and has `round(len · to / from)` frames.
pub fn resample(channels: &[Vec<f32>], from: u32, to: u32) -> Result<Vec<Vec<f32>>> {
    if from == to || channels.is_empty() {
        return Ok(channels.to_vec());
    }
    let len = channels[0].len();
    let want = ((len as u128 * u128::from(to) + u128::from(from) / 2) / u128::from(from)) as usize;
    let chunk = 1024;
    let mut rs = FftFixedIn::<f32>::new(from as usize, to as usize, chunk, 2, channels.len())
        .context("cannot build resampler")?;
    let delay = rs.output_delay();
    let mut out: Vec<Vec<f32>> = vec![Vec::with_capacity(want + delay + chunk); channels.len()];
    let mut pos = 0;
    while out[0].len() < want + delay {
        let next = rs.input_frames_next();
        let produced = if pos + next <= len {
            let block: Vec<&[f32]> = channels.iter().map(|c| &c[pos..pos + next]).collect();
            pos += next;
            rs.process(&block, None)?
        } else if pos < len {
            let block: Vec<&[f32]> = channels.iter().map(|c| &c[pos..]).collect();
            pos = len;
            rs.process_partial(Some(&block), None)?
        } else {
            rs.process_partial::<&[f32]>(None, None)?
        };
        for (o, p) in out.iter_mut().zip(produced) {
            o.extend_from_slice(&p);
        }
    }
    for o in &mut out {
        o.drain(..delay);
        o.truncate(want);
    }
    Ok(out)
}
