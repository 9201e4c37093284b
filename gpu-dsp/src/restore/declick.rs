//! De-click: impulsive events found by the residual of a linear-prediction (autoregressive)
//! model of the signal around them, and the damaged samples rebuilt by least-squares AR
//! interpolation (the samples that make the model's prediction error over the gap and the
//! `order` samples after it smallest, given every sample around it).
//!
//! Per segment of [`SEGMENT`] samples: an AR model of `order` is fitted (autocorrelation
//! method, Levinson–Durbin) on a Hann window twice the segment's length around it; the
//! forward and backward prediction errors are computed; a sample is damaged where both
//! exceed `threshold` times the errors' robust spread (1.4826 × median) — a click breaks
//! the prediction from both sides, a sound's own onset only from one. Damaged samples closer
//! than [`JOIN`] are joined into one run, widened by [`MARGIN`] on each side, and runs longer
//! than `max_len` are left alone (not a click).

/// Samples per analysis segment.
pub const SEGMENT: usize = 1024;
/// Damaged samples closer than this are one click.
const JOIN: usize = 8;
/// Samples each side of a click rebuilt with it.
const MARGIN: usize = 2;

/// How hard to look.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DeclickSettings {
    /// AR model order.
    pub order: usize,
    /// A prediction error this many robust spreads out is damage.
    pub threshold: f32,
    /// The longest click rebuilt (samples, before the margins).
    pub max_len: usize,
}

impl Default for DeclickSettings {
    fn default() -> Self {
        Self {
            order: 32,
            threshold: 8.0,
            max_len: 48,
        }
    }
}

/// What a de-click found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeclickReport {
    /// Clicks rebuilt, and the samples rebuilt in them.
    pub clicks: usize,
    pub samples: usize,
}

/// AR coefficients `a[1..=order]` (x[n] ≈ Σ a[k]·x[n−k]) of the Hann-windowed `x`, by
/// Levinson–Durbin on its autocorrelation (with a 1e-9 white-noise floor).
pub(super) fn ar_model(x: &[f32], order: usize) -> Vec<f64> {
    let n = x.len();
    let w: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let h = 0.5 - 0.5 * (std::f64::consts::TAU * (i as f64 + 0.5) / n as f64).cos();
            f64::from(*v) * h
        })
        .collect();
    let mut r = vec![0.0f64; order + 1];
    for (lag, r) in r.iter_mut().enumerate() {
        *r = w[lag..].iter().zip(&w).map(|(a, b)| a * b).sum();
    }
    r[0] *= 1.0 + 1e-9;
    if r[0] <= 0.0 {
        return vec![0.0; order + 1];
    }
    let mut a = vec![0.0f64; order + 1];
    let mut prev = a.clone();
    let mut err = r[0];
    for i in 1..=order {
        let mut acc = r[i];
        for j in 1..i {
            acc -= a[j] * r[i - j];
        }
        let k = acc / err;
        prev.copy_from_slice(&a);
        a[i] = k;
        for j in 1..i {
            a[j] = prev[j] - k * prev[i - j];
        }
        err *= 1.0 - k * k;
        if err <= 0.0 {
            break;
        }
    }
    a
}

/// The median of `v` (reordered).
fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mid = v.len() / 2;
    v.select_nth_unstable_by(mid, f64::total_cmp);
    v[mid]
}

/// Rebuilds samples `s..e` of `y` by least-squares AR interpolation with model `a`.
fn interpolate(y: &mut [f32], s: usize, e: usize, a: &[f64]) {
    let p = a.len() - 1;
    let m = e - s;
    if m == 0 || s < p || e + p > y.len() {
        return;
    }
    // c = [1, −a1, …, −ap]: the prediction error is e[n] = Σ c_k x[n−k].
    let c: Vec<f64> = std::iter::once(1.0)
        .chain(a[1..].iter().map(|v| -v))
        .collect();
    let rc = |lag: usize| -> f64 { c[lag.min(p + 1)..].iter().zip(&c).map(|(x, y)| x * y).sum() };
    let unknown = |i: usize| (s..e).contains(&i);
    // Normal equations: R x = −Aᵀ d, R Toeplitz from the autocorrelation of c.
    let mut matrix = vec![0.0f64; m * m];
    for i in 0..m {
        for j in 0..m {
            let lag = i.abs_diff(j);
            matrix[i * m + j] = if lag <= p { rc(lag) } else { 0.0 };
        }
    }
    let mut rhs = vec![0.0f64; m];
    for (i, b) in rhs.iter_mut().enumerate() {
        // Error terms that hold unknown i: n from s+i to s+i+p.
        let mut acc = 0.0;
        for n in s + i..=s + i + p {
            let known: f64 = (0..=p)
                .filter(|&k| !unknown(n - k))
                .map(|k| c[k] * f64::from(y[n - k]))
                .sum();
            acc += c[n - s - i] * known;
        }
        *b = -acc;
    }
    if let Some(x) = cholesky_solve(&mut matrix, &mut rhs, m) {
        for (i, v) in x.iter().enumerate() {
            y[s + i] = *v as f32;
        }
    }
}

/// Solves the symmetric positive-definite `m × m` system in place; `None` if it is not.
pub(super) fn cholesky_solve(a: &mut [f64], b: &mut [f64], m: usize) -> Option<Vec<f64>> {
    for j in 0..m {
        let mut d = a[j * m + j];
        for k in 0..j {
            d -= a[j * m + k] * a[j * m + k];
        }
        if d <= 0.0 {
            return None;
        }
        let d = d.sqrt();
        a[j * m + j] = d;
        for i in j + 1..m {
            let mut v = a[i * m + j];
            for k in 0..j {
                v -= a[i * m + k] * a[j * m + k];
            }
            a[i * m + j] = v / d;
        }
    }
    for i in 0..m {
        let mut v = b[i];
        for k in 0..i {
            v -= a[i * m + k] * b[k];
        }
        b[i] = v / a[i * m + i];
    }
    for i in (0..m).rev() {
        let mut v = b[i];
        for k in i + 1..m {
            v -= a[k * m + i] * b[k];
        }
        b[i] = v / a[i * m + i];
    }
    Some(b.to_vec())
}

/// De-clicks `x` (one channel); returns the result (same length) and what was found.
pub fn declick(x: &[f32], settings: &DeclickSettings) -> (Vec<f32>, DeclickReport) {
    let p = settings.order.max(2);
    let mut y = x.to_vec();
    let mut report = DeclickReport::default();
    let mut segment = 0;
    while segment < x.len() {
        let end = (segment + SEGMENT).min(x.len());
        // The model from a window twice the segment around it.
        let (w0, w1) = (
            segment.saturating_sub(SEGMENT / 2),
            (end + SEGMENT / 2).min(x.len()),
        );
        if w1 - w0 <= 4 * p {
            break;
        }
        let a = ar_model(&x[w0..w1], p);
        let backward = |n: usize| -> f64 {
            f64::from(x[n]) - (1..=p).map(|k| a[k] * f64::from(x[n + k])).sum::<f64>()
        };
        // The forward prediction errors over the model's window, once: their spread, and
        // the segment's own among them.
        let (lo, hi) = (w0.max(p), w1.min(x.len() - p));
        let forward: Vec<f64> = (lo..hi)
            .map(|n| {
                (f64::from(x[n]) - (1..=p).map(|k| a[k] * f64::from(x[n - k])).sum::<f64>()).abs()
            })
            .collect();
        let mut spread = forward.clone();
        let sigma = 1.4826 * median(&mut spread);
        let limit = f64::from(settings.threshold) * sigma.max(1e-9);
        let damaged: Vec<usize> = (segment.max(lo)..end.min(hi))
            .filter(|&n| forward[n - lo] > limit && backward(n).abs() > limit)
            .collect();
        // Runs of damage, joined and widened.
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for n in damaged {
            match runs.last_mut() {
                Some(run) if n <= run.1 + JOIN => run.1 = n + 1,
                _ => runs.push((n, n + 1)),
            }
        }
        for (s, e) in runs {
            if e - s > settings.max_len {
                continue;
            }
            let (s, e) = (s.saturating_sub(MARGIN), (e + MARGIN).min(x.len()));
            interpolate(&mut y, s, e, &a);
            report.clicks += 1;
            report.samples += e - s;
        }
        segment = end;
    }
    (y, report)
}
