//! De-clip: runs of samples held flat at the signal's extremes (at full scale or at any
//! lower level a converter or a limiter clipped at) are rebuilt by least-squares AR
//! interpolation kept consistent with the clipping: a rebuilt sample may not come back
//! inside the clip level (it was clipped, so it was at least that loud, with that sign).
//! The constraint is kept by an active set: samples the solution pulls inside are pinned at
//! the level and the rest solved again. The AR model (order 32, per group of runs from the
//! 2048 samples around it) is fitted twice: on the clipped signal, then on the first
//! reconstruction.

use super::declick::{ar_model, cholesky_solve};

/// AR model order.
const ORDER: usize = 32;
/// Samples around a group of runs the model is fitted on.
const CONTEXT: usize = 1024;
/// Flat runs at the extremes needed to call a signal clipped.
const MIN_RUNS: usize = 3;
/// The most samples rebuilt together (runs closer than the order join a group up to this).
const GROUP: usize = 256;

/// What a de-clip found.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DeclipReport {
    /// The clip level found (linear; 0 when nothing was clipped), the runs and the samples
    /// rebuilt.
    pub level: f32,
    pub runs: usize,
    pub samples: usize,
}

/// Runs `[start, end)` of at least two samples flat at `level` (within 1e-6 of it), of one
/// sign; none unless there are at least [`MIN_RUNS`] (a natural peak can touch its own
/// maximum twice; clipping flattens many).
fn clipped_runs(x: &[f32], level: f32) -> Vec<(usize, usize)> {
    let at = |v: f32| v.abs() >= level * (1.0 - 1e-6);
    let mut runs = Vec::new();
    let mut n = 0;
    while n < x.len() {
        if !at(x[n]) {
            n += 1;
            continue;
        }
        let sign = x[n] > 0.0;
        let start = n;
        while n < x.len() && at(x[n]) && (x[n] > 0.0) == sign {
            n += 1;
        }
        if n - start >= 2 {
            runs.push((start, n));
        }
    }
    if runs.len() < MIN_RUNS {
        runs.clear();
    }
    runs
}

/// Least-squares AR values for the samples `unknown` (sorted) of `y` under model `a`,
/// every other sample known: those minimising the prediction error over every error term
/// that holds one of them.
fn solve(y: &[f32], unknown: &[usize], a: &[f64]) -> Option<Vec<f64>> {
    let p = a.len() - 1;
    let m = unknown.len();
    let (first, last) = (*unknown.first()?, *unknown.last()?);
    if first < p || last + p >= y.len() {
        return None;
    }
    let c: Vec<f64> = std::iter::once(1.0)
        .chain(a[1..].iter().map(|v| -v))
        .collect();
    let column = |i: usize| unknown.binary_search(&i).ok();
    let mut matrix = vec![0.0f64; m * m];
    let mut rhs = vec![0.0f64; m];
    let mut row = Vec::with_capacity(p + 1);
    for n in first..=last + p {
        // Error term n: its coefficients on the unknowns, and its known part.
        row.clear();
        let mut known = 0.0;
        for (k, ck) in c.iter().enumerate() {
            let i = n - k;
            match column(i) {
                Some(j) => row.push((j, *ck)),
                None => known += ck * f64::from(y[i]),
            }
        }
        for &(i, ci) in &row {
            rhs[i] -= ci * known;
            for &(j, cj) in &row {
                matrix[i * m + j] += ci * cj;
            }
        }
    }
    cholesky_solve(&mut matrix, &mut rhs, m)
}

/// Rebuilds one group of runs in `y` (model `a`, clip `level`); the samples rebuilt.
fn rebuild(y: &mut [f32], runs: &[(usize, usize)], a: &[f64], level: f32) -> usize {
    let clipped: Vec<usize> = runs.iter().flat_map(|&(s, e)| s..e).collect();
    let sign: Vec<f32> = clipped.iter().map(|&i| y[i].signum()).collect();
    // Active set: pinned samples stay at the level; the others are solved.
    let mut pinned = vec![false; clipped.len()];
    for _ in 0..12 {
        let free: Vec<usize> = clipped
            .iter()
            .zip(&pinned)
            .filter(|(_, p)| !**p)
            .map(|(i, _)| *i)
            .collect();
        if free.is_empty() {
            break;
        }
        for (k, &i) in clipped.iter().enumerate() {
            if pinned[k] {
                y[i] = sign[k] * level;
            }
        }
        let Some(values) = solve(y, &free, a) else {
            return 0;
        };
        for (&i, v) in free.iter().zip(&values) {
            y[i] = *v as f32;
        }
        let mut moved = false;
        for (k, &i) in clipped.iter().enumerate() {
            if !pinned[k] && y[i] * sign[k] < level {
                pinned[k] = true;
                moved = true;
            }
        }
        if !moved {
            break;
        }
    }
    for (k, &i) in clipped.iter().enumerate() {
        if pinned[k] {
            y[i] = sign[k] * level;
        }
    }
    clipped.len()
}

/// De-clips `x` (one channel); returns the result (same length) and what was found.
pub fn declip(x: &[f32]) -> (Vec<f32>, DeclipReport) {
    let level = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let runs = clipped_runs(x, level);
    let mut report = DeclipReport::default();
    if runs.is_empty() || level == 0.0 {
        return (x.to_vec(), report);
    }
    report.level = level;
    report.runs = runs.len();
    // Runs closer than the model order are rebuilt together (up to GROUP samples; beyond,
    // a group sees the one before it already rebuilt).
    let mut groups: Vec<Vec<(usize, usize)>> = Vec::new();
    for r in runs {
        match groups.last_mut() {
            Some(g)
                if r.0 < g[g.len() - 1].1 + ORDER
                    && g.iter().map(|(s, e)| e - s).sum::<usize>() + r.1 - r.0 <= GROUP =>
            {
                g.push(r)
            }
            _ => groups.push(vec![r]),
        }
    }
    let mut y = x.to_vec();
    for pass in 0..2 {
        // The second pass fits its models on the first reconstruction.
        let model_source = y.clone();
        let mut out = x.to_vec();
        let mut samples = 0;
        for g in &groups {
            let (s, e) = (g[0].0, g[g.len() - 1].1);
            let (w0, w1) = (s.saturating_sub(CONTEXT), (e + CONTEXT).min(x.len()));
            let a = ar_model(&model_source[w0..w1], ORDER);
            samples += rebuild(&mut out, g, &a, level);
        }
        y = out;
        if pass == 1 {
            report.samples = samples;
        }
    }
    (y, report)
}
