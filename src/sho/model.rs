//! The SHO response r(ω) = A·e^{iφ}·ω0² / (ω² − iωω0/Q − ω0²), its analytic derivatives, and the
//! sums the fit and the guesses need, over a frequency axis planned once.
//!
//! Inside the kernel the parameters are p = (Re c, Im c, ω0, q) with c = A·e^{iφ} and q = 1/Q:
//! the response is linear in c (so the best c for given ω0, q has a closed form, and A ≥ 0,
//! φ ∈ (−π, π] come out of c without a sign or a wrap to repair), and smooth in q through
//! Q = ±∞, where Q itself would pass through a pole at 0.
use super::Sho;
use num_complex::Complex64;

/// The kernel's parameters: `[Re c, Im c, ω0 (Hz), q = 1/Q]`, with c = A·e^{iφ} (units of the data).
pub(crate) type Internal = [f64; 4];

/// Bins the kernels take at a time: every pass over a spectrum runs on `LANES` bins at once, one
/// partial sum per lane, added up in one fixed order at the end — the same operations, so the same
/// bits, whether the compiler makes 2-, 4- or 8-wide vector instructions of them.
pub(crate) const LANES: usize = 8;

/// The frequency axis of a plan: ω and ω² per bin, padded to a multiple of [`LANES`] with bins of
/// weight 0 (`mask`), and the band the fit keeps ω0 in.
#[derive(Debug, Clone)]
pub(crate) struct Axis {
    /// Bins of the spectra.
    pub n: usize,
    /// Hz, one per bin (0 in the padding).
    pub w: Vec<f64>,
    /// Hz², one per bin (0 in the padding).
    pub w2: Vec<f64>,
    /// 1 for a bin of the spectra, 0 for the padding.
    pub mask: Vec<f64>,
    /// Smallest and largest frequency (Hz): BGlib's `SHOlowerBound`/`SHOupperBound` for ω0.
    pub lo: f64,
    pub hi: f64,
}

impl Axis {
    pub fn new(freqs: &[f64]) -> Axis {
        let lo = freqs.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = freqs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let n = freqs.len();
        let padded = |v: Vec<f64>| {
            let mut v = v;
            v.resize(Axis::padded_len(n), 0.0);
            v
        };
        Axis {
            n,
            w: padded(freqs.to_vec()),
            w2: padded(freqs.iter().map(|w| w * w).collect()),
            mask: padded(vec![1.0; n]),
            lo,
            hi,
        }
    }

    /// The length of a spectrum's buffers: `n` rounded up to a multiple of [`LANES`] (their tail
    /// must hold zeros).
    pub fn padded_len(n: usize) -> usize {
        n.div_ceil(LANES) * LANES
    }

    /// The first bin of each group of [`LANES`] bins.
    #[inline(always)]
    pub fn starts(&self) -> std::iter::StepBy<std::ops::Range<usize>> {
        (0..self.w.len()).step_by(LANES)
    }

    /// ω, ω² and the mask of the group of bins from `k`.
    #[inline(always)]
    pub fn group(&self, k: usize) -> ([f64; LANES], [f64; LANES], [f64; LANES]) {
        (at(&self.w, k), at(&self.w2, k), at(&self.mask, k))
    }
}

/// The lanes' partial sums added in one fixed order.
#[inline(always)]
pub(crate) fn lane_sum(v: &[f64; LANES]) -> f64 {
    ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]))
}

/// `LANES` consecutive values of `v` from `k`.
#[inline(always)]
pub(crate) fn at(v: &[f64], k: usize) -> [f64; LANES] {
    let mut a = [0.0; LANES];
    a.copy_from_slice(&v[k..k + LANES]);
    a
}

/// (A, ω0, Q, φ) as the kernel's parameters.
pub(crate) fn to_internal(p: &Sho) -> Internal {
    let (s, c) = p.phase.sin_cos();
    [p.amplitude * c, p.amplitude * s, p.frequency, 1.0 / p.quality]
}

/// The kernel's parameters as (A, ω0, Q, φ), with `r2` attached.
pub(crate) fn from_internal(p: &Internal, r2: f64) -> Sho {
    Sho { amplitude: p[0].hypot(p[1]), frequency: p[2], quality: 1.0 / p[3], phase: p[1].atan2(p[0]), r2 }
}

/// A group of [`LANES`] bins of the model at p, each quantity as its real and imaginary parts per
/// lane: g = ω0²/D (the response per unit c), m = c·g, and the derivatives of m by ω0 and by q,
/// with D = ω² − iωω0q − ω0². A lane of mask 0 (a padding bin) is 0 in all four.
struct Group {
    g: ([f64; LANES], [f64; LANES]),
    m: ([f64; LANES], [f64; LANES]),
    d_w0: ([f64; LANES], [f64; LANES]),
    d_q: ([f64; LANES], [f64; LANES]),
}

/// The model over one group of bins (ω, ω², mask per lane). Plain lane arrays, no complex type:
/// the compiler makes one vector operation of each line.
#[inline(always)]
fn group(w: &[f64; LANES], w2: &[f64; LANES], mask: &[f64; LANES], p: &Internal) -> Group {
    let [cr, ci, w0, q] = *p;
    let z = [0.0; LANES];
    let mut o = Group { g: (z, z), m: (z, z), d_w0: (z, z), d_q: (z, z) };
    let (w0_2, two_w0, two_over_w0) = (w0 * w0, 2.0 * w0, 2.0 / w0);
    for l in 0..LANES {
        let (dr, di) = (w2[l] - w0_2, -w[l] * w0 * q);
        let inv = 1.0 / (dr * dr + di * di);
        let (tr, ti) = (dr * inv, -di * inv); // 1/D
        let (gr, gi) = (tr * (w0_2 * mask[l]), ti * (w0_2 * mask[l]));
        let (mr, mi) = (cr * gr - ci * gi, cr * gi + ci * gr);
        // ∂m/∂ω0 = m·(2/ω0 + (2ω0 + iωq)/D); ∂m/∂q = m·iωω0/D.
        let wq = w[l] * q;
        let (ur, ui) = (tr * two_w0 - ti * wq + two_over_w0, tr * wq + ti * two_w0);
        let ww0 = w[l] * w0;
        let (vr, vi) = (-ti * ww0, tr * ww0);
        o.g.0[l] = gr;
        o.g.1[l] = gi;
        o.m.0[l] = mr;
        o.m.1[l] = mi;
        o.d_w0.0[l] = mr * ur - mi * ui;
        o.d_w0.1[l] = mr * ui + mi * ur;
        o.d_q.0[l] = mr * vr - mi * vi;
        o.d_q.1[l] = mr * vi + mi * vr;
    }
    o
}

/// g, m, ∂m/∂ω0 and ∂m/∂q at one frequency (lane 0 of a group of one bin).
fn at_frequency(freq: f64, p: &Internal) -> [Complex64; 4] {
    let (mut w, mut w2, mut mask) = ([0.0; LANES], [0.0; LANES], [0.0; LANES]);
    (w[0], w2[0], mask[0]) = (freq, freq * freq, 1.0);
    let o = group(&w, &w2, &mask, p);
    [o.g, o.m, o.d_w0, o.d_q].map(|(re, im)| Complex64::new(re[0], im[0]))
}

/// BGlib's `SHOfunc`: the response of `p` at `freq` (Hz).
pub fn response(p: &Sho, freq: f64) -> Complex64 {
    at_frequency(freq, &to_internal(p))[1]
}

/// The derivatives of [`response`] by (A, ω0, Q, φ) at `freq` (Hz): per unit of amplitude, per
/// Hz, per unit of Q, per radian.
pub fn jacobian(p: &Sho, freq: f64) -> [Complex64; 4] {
    let [g, m, d_w0, d_q] = at_frequency(freq, &to_internal(p));
    let i = Complex64::i();
    // c = A·e^{iφ}: ∂m/∂A = e^{iφ}·g, ∂m/∂φ = i·m; q = 1/Q: ∂/∂Q = −q²·∂/∂q.
    let q = 1.0 / p.quality;
    [Complex64::from_polar(1.0, p.phase) * g, d_w0, d_q * (-q * q), i * m]
}

/// The kernel's Jacobian at one bin: the derivatives of the response by (Re c, Im c, ω0, q).
#[cfg(test)]
pub(crate) fn internal_jacobian(w: f64, p: &Internal) -> [Complex64; 4] {
    let [g, _, d_w0, d_q] = at_frequency(w, p);
    [g, Complex64::i() * g, d_w0, d_q]
}

/// The Gauss–Newton system at p over one spectrum (`re`, `im` per bin, padded with zeros as
/// the axis is): the residual sum of
/// squares S = Σ|m − d|², H = JᵀJ (4 × 4, symmetric) and g = Jᵀr, r the real and imaginary
/// parts of m − d, J their derivatives by p.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Normal {
    pub ssr: f64,
    pub h: [[f64; 4]; 4],
    pub g: [f64; 4],
}

#[inline(always)]
pub(crate) fn normal_equations(axis: &Axis, re: &[f64], im: &[f64], p: &Internal) -> Normal {
    // J's columns are g, i·g, ∂m/∂ω0, ∂m/∂q; Re(conj(g)·i·g) = 0 and |i·g| = |g|: 8 sums make H.
    // Sums: S, |g|², g·∂ω0, g·∂q, ig·∂ω0, ig·∂q, |∂ω0|², ∂ω0·∂q, |∂q|², then Jᵀr (4).
    let mut acc = [[0.0f64; LANES]; 13];
    for k in axis.starts() {
        let (w, w2, mask) = axis.group(k);
        let (dr, di) = (at(re, k), at(im, k));
        let Group { g: (gr, gi), m: (mr, mi), d_w0: (wr, wi), d_q: (qr, qi) } = group(&w, &w2, &mask, p);
        for l in 0..LANES {
            let (rr, ri) = (mr[l] - dr[l], mi[l] - di[l]);
            acc[0][l] += rr * rr + ri * ri;
            acc[1][l] += gr[l] * gr[l] + gi[l] * gi[l];
            acc[2][l] += gr[l] * wr[l] + gi[l] * wi[l];
            acc[3][l] += gr[l] * qr[l] + gi[l] * qi[l];
            acc[4][l] += gr[l] * wi[l] - gi[l] * wr[l];
            acc[5][l] += gr[l] * qi[l] - gi[l] * qr[l];
            acc[6][l] += wr[l] * wr[l] + wi[l] * wi[l];
            acc[7][l] += wr[l] * qr[l] + wi[l] * qi[l];
            acc[8][l] += qr[l] * qr[l] + qi[l] * qi[l];
            acc[9][l] += gr[l] * rr + gi[l] * ri;
            acc[10][l] += gr[l] * ri - gi[l] * rr;
            acc[11][l] += wr[l] * rr + wi[l] * ri;
            acc[12][l] += qr[l] * rr + qi[l] * ri;
        }
    }
    let [ssr, gg, g_w, g_q, ig_w, ig_q, ww, wq, qq, g0, g1, g2, g3] = acc.map(|a| lane_sum(&a));
    let h = [[gg, 0.0, g_w, g_q], [0.0, gg, ig_w, ig_q], [g_w, ig_w, ww, wq], [g_q, ig_q, wq, qq]];
    Normal { ssr, h, g: [g0, g1, g2, g3] }
}

/// Σ|m − d|² at p: the residual sum of squares, BGlib's `ss_res`.
#[inline(always)]
pub(crate) fn ssr(axis: &Axis, re: &[f64], im: &[f64], p: &Internal) -> f64 {
    let mut acc = [0.0f64; LANES];
    for k in axis.starts() {
        let (w, w2, mask) = axis.group(k);
        let (dr, di) = (at(re, k), at(im, k));
        let (mr, mi) = group(&w, &w2, &mask, p).m;
        for l in 0..LANES {
            let (rr, ri) = (mr[l] - dr[l], mi[l] - di[l]);
            acc[l] += rr * rr + ri * ri;
        }
    }
    lane_sum(&acc)
}

/// The c that minimises Σ|c·g − d|² for ω0 and q fixed: Σ conj(g)·d / Σ|g|²; `None` where g
/// vanishes or overflows.
#[inline(always)]
pub(crate) fn best_amplitude(axis: &Axis, re: &[f64], im: &[f64], w0: f64, q: f64) -> Option<(f64, f64)> {
    let p = [1.0, 0.0, w0, q];
    let mut acc = [[0.0f64; LANES]; 3];
    for k in axis.starts() {
        let (w, w2, mask) = axis.group(k);
        let (dr, di) = (at(re, k), at(im, k));
        let (gr, gi) = group(&w, &w2, &mask, &p).g;
        for l in 0..LANES {
            acc[0][l] += gr[l] * dr[l] + gi[l] * di[l];
            acc[1][l] += gr[l] * di[l] - gi[l] * dr[l];
            acc[2][l] += gr[l] * gr[l] + gi[l] * gi[l];
        }
    }
    let [gd_re, gd_im, gg] = acc.map(|a| lane_sum(&a));
    let c = (gd_re / gg, gd_im / gg);
    (gg > 0.0 && c.0.is_finite() && c.1.is_finite()).then_some(c)
}
