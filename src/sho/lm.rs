//! Levenberg–Marquardt on the complex residual (its real and imaginary parts) in the kernel's
//! parameters (Re c, Im c, ω0, q), with the analytic Jacobian.
//!
//! Each trial point costs one pass over the bins that gives the residual sum of squares and the
//! next Gauss–Newton system together (an accepted trial needs no second pass). The damping is
//! Marquardt's, scaled by the largest diagonal of JᵀJ seen so far (MINPACK's `diag`), updated
//! by Nielsen's rule; a step is taken only where it lowers the sum of squares, so the fit is
//! never worse than its start. ω0 stays in the band (BGlib's `SHOlowerBound`/`SHOupperBound`)
//! where the parameters ask for it: a step is clipped to the band, and ω0 is held where it sits
//! on an edge the gradient pushes it past. A and φ need no bounds (they come out of c), and Q
//! none (q passes through 0 smoothly; BGlib's ±1e5 would only cut off undamped fits).
use super::model::{normal_equations, Axis, Internal, Normal};
use super::FitStatus;

/// The solver's settings (from [`super::ShoParams`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub max_iterations: u32,
    pub ftol: f64,
    pub xtol: f64,
    pub bound_frequency: bool,
}

/// Where the solver stopped: the parameters, their residual sum of squares, why, and how many
/// trial points it evaluated.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Solution {
    pub p: Internal,
    pub ssr: f64,
    pub status: FitStatus,
    pub evaluations: u32,
}

/// Damping beyond which no step can lower the sum of squares any more: the start is a minimum
/// to working precision.
const LAMBDA_MAX: f64 = 1e32;

/// Fits `re`, `im` (one value per bin of `axis`) from `start`; `start` must be finite with ω0 in
/// the band when it is bounded.
#[inline(always)]
pub(crate) fn solve(axis: &Axis, re: &[f64], im: &[f64], start: Internal, set: &Settings) -> Solution {
    let mut p = start;
    let mut at = normal_equations(axis, re, im, &p);
    let mut evaluations = 1;
    if !at.ssr.is_finite() {
        return Solution { p, ssr: at.ssr, status: FitStatus::Failed, evaluations };
    }
    let mut scale = [0.0f64; 4];
    let (mut lambda, mut nu) = (1e-3, 2.0);
    let status = loop {
        if at.ssr == 0.0 {
            break FitStatus::Converged;
        }
        if evaluations >= set.max_iterations.max(1) {
            break FitStatus::MaxIterations;
        }
        for (j, s) in scale.iter_mut().enumerate() {
            *s = s.max(at.h[j][j]);
        }
        let free = free_variables(axis, &p, &at, set.bound_frequency);
        let Some(step) = damped_step(&at, &scale, lambda, free) else {
            lambda *= nu;
            nu *= 2.0;
            if lambda > LAMBDA_MAX {
                break FitStatus::Converged;
            }
            continue;
        };
        let trial = clip(axis, add(&p, &step), set.bound_frequency);
        let taken = sub(&trial, &p);
        let next = normal_equations(axis, re, im, &trial);
        evaluations += 1;
        let predicted = predicted_reduction(&at, &taken);
        let actual = at.ssr - next.ssr;
        if next.ssr.is_finite() && actual > 0.0 && predicted > 0.0 {
            let rho = actual / predicted;
            lambda *= (1.0 - (2.0 * rho - 1.0).powi(3)).max(1.0 / 3.0);
            nu = 2.0;
            let small_step = is_small(&taken, &p, set.xtol);
            p = trial;
            at = next;
            if actual <= set.ftol * (at.ssr + actual) || small_step {
                break FitStatus::Converged;
            }
        } else {
            lambda *= nu;
            nu *= 2.0;
            if lambda > LAMBDA_MAX || is_small(&taken, &p, set.xtol * 1e-3) {
                break FitStatus::Converged;
            }
        }
    };
    Solution { p, ssr: at.ssr, status, evaluations }
}

/// Which parameters may move: all, except ω0 on a band edge with the descent direction (−g)
/// pointing out of the band, and any parameter the residual does not depend on here (a zero
/// column of J, e.g. ω0 and q while c = 0).
#[inline(always)]
fn free_variables(axis: &Axis, p: &Internal, at: &Normal, bounded: bool) -> [bool; 4] {
    let mut free = [0, 1, 2, 3].map(|j| at.h[j][j] > 0.0);
    if bounded && ((p[2] <= axis.lo && at.g[2] > 0.0) || (p[2] >= axis.hi && at.g[2] < 0.0)) {
        free[2] = false;
    }
    free
}

/// Solves (H + λ·diag(scale))·δ = −g over the free parameters (Cholesky; the others stay);
/// `None` when the damped matrix is not positive definite in floating point.
#[inline(always)]
fn damped_step(at: &Normal, scale: &[f64; 4], lambda: f64, free: [bool; 4]) -> Option<[f64; 4]> {
    let mut a = [[0.0f64; 4]; 4];
    let mut b = [0.0f64; 4];
    for i in 0..4 {
        if !free[i] {
            a[i][i] = 1.0;
            continue;
        }
        for j in 0..4 {
            if free[j] {
                a[i][j] = at.h[i][j];
            }
        }
        a[i][i] += lambda * scale[i];
        b[i] = -at.g[i];
    }
    cholesky_solve(a, b)
}

/// x with A·x = b for A symmetric positive definite (4 × 4).
#[inline(always)]
#[allow(clippy::needless_range_loop)] // the factorisation reads clearest in its indices
fn cholesky_solve(mut a: [[f64; 4]; 4], mut b: [f64; 4]) -> Option<[f64; 4]> {
    for j in 0..4 {
        let mut d = a[j][j];
        for k in 0..j {
            d -= a[j][k] * a[j][k];
        }
        if d <= 0.0 || !d.is_finite() {
            return None;
        }
        let d = d.sqrt();
        a[j][j] = d;
        for i in j + 1..4 {
            let mut s = a[i][j];
            for k in 0..j {
                s -= a[i][k] * a[j][k];
            }
            a[i][j] = s / d;
        }
    }
    for i in 0..4 {
        for k in 0..i {
            b[i] -= a[i][k] * b[k];
        }
        b[i] /= a[i][i];
    }
    for i in (0..4).rev() {
        for k in i + 1..4 {
            b[i] -= a[k][i] * b[k];
        }
        b[i] /= a[i][i];
    }
    b.iter().all(|v| v.is_finite()).then_some(b)
}

/// The decrease of the sum of squares the linear model promises for the step δ: −2gᵀδ − δᵀHδ.
#[inline(always)]
fn predicted_reduction(at: &Normal, d: &[f64; 4]) -> f64 {
    let mut hd = 0.0;
    let mut gd = 0.0;
    for i in 0..4 {
        gd += at.g[i] * d[i];
        for j in 0..4 {
            hd += d[i] * at.h[i][j] * d[j];
        }
    }
    -2.0 * gd - hd
}

/// Whether the step δ from p is below `xtol` relative to each parameter: c as one complex
/// number, ω0 and q each on their own.
fn is_small(d: &[f64; 4], p: &Internal, xtol: f64) -> bool {
    d[0].hypot(d[1]) <= xtol * p[0].hypot(p[1])
        && d[2].abs() <= xtol * p[2].abs()
        && d[3].abs() <= xtol * p[3].abs()
}

/// p with ω0 put in the band where it is bounded (BGlib's `SHOlowerBound`/`SHOupperBound`).
pub(crate) fn clip(axis: &Axis, mut p: Internal, bounded: bool) -> Internal {
    if bounded {
        p[2] = p[2].clamp(axis.lo, axis.hi);
    }
    p
}

fn add(a: &Internal, b: &[f64; 4]) -> Internal {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]]
}

fn sub(a: &Internal, b: &Internal) -> [f64; 4] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3]]
}
