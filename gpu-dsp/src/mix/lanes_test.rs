//! Test support for processors run side by side in lanes.

/// Planar blocks of several processors: `[processor][channel][frame]`.
pub type Blocks = Vec<Vec<Vec<f32>>>;

/// `blocks` run through each of `alone` by `one`, and a copy through all of `lanes` at
/// once by `together`: (one at a time, together).
pub fn alone_and_together<P>(
    alone: &mut [P],
    lanes: &mut [P],
    blocks: Blocks,
    one: impl Fn(&mut P, &mut [&mut [f32]]),
    together: impl for<'a, 'b> FnOnce(&mut [Option<(&'a mut P, &'a mut [&'b mut [f32]])>]),
) -> (Blocks, Blocks) {
    let (mut want, mut got) = (blocks.clone(), blocks);
    for (p, planes) in alone.iter_mut().zip(&mut want) {
        let mut views: Vec<&mut [f32]> = planes.iter_mut().map(|c| &mut c[..]).collect();
        one(p, &mut views);
    }
    let mut views: Vec<Vec<&mut [f32]>> = got
        .iter_mut()
        .map(|planes| planes.iter_mut().map(|c| &mut c[..]).collect())
        .collect();
    let mut items: Vec<_> = lanes
        .iter_mut()
        .zip(&mut views)
        .map(|(p, v)| Some((p, &mut v[..])))
        .collect();
    together(&mut items);
    drop(items);
    (want, got)
}
