//! The folded wavelet bank packed once per plan for a small explicit kernel: the products
//! `E = U·P` and `O = V·Q` of a block of spectra, summed panel by panel over only the rows of
//! the bank that are not zero, with `e + o` and `e − o` stored straight into each spectrum's
//! CWT matrix.
//!
//! A general matrix product (matrixmultiply) repacks the constant bank into its panel layout on
//! every call and writes `E`, `O` out for a separate unfolding pass; here the bank is laid out in
//! the kernel's panels when the plan is built, the zero band of narrow wavelets is skipped, and
//! the unfold happens while the results are still in registers.

use super::isa::{Isa, Level};

/// Columns of one panel: two 8-lane AVX-512 vectors of `f64` per spectrum and product (four
/// 4-lane AVX2 vectors, taken in two halves).
pub(crate) const NR: usize = 16;
/// Spectra of one tile: with `NR`, 12 AVX-512 accumulators per product (12 AVX2 ones per half
/// panel), enough independent chains to hide the multiply-add latency, few enough for the
/// registers.
pub(crate) const MR: usize = 6;
/// Columns a group of stores shares: one row of the CWT, consecutive positions.
const LANES: usize = 4;

/// Where one panel of the bank lies in [`Packed::data`] and which rows of `U`, `V` it reads.
#[derive(Debug, Clone)]
struct Panel {
    /// Offset of the `P` block, `(p_rows.1 − p_rows.0) × NR`, row-major.
    p_at: usize,
    /// Rows `j` of `P` (samples of `u`) with a non-zero entry in this panel.
    p_rows: (usize, usize),
    /// Offset of the `Q` block.
    q_at: usize,
    /// Rows of `Q` (samples of `v`) with a non-zero entry.
    q_rows: (usize, usize),
}

/// Where the results of [`LANES`] neighbouring columns go in a spectrum's CWT matrix.
#[derive(Debug, Clone, Copy, Default)]
struct Group {
    /// Offset of position `p0` in the `rows × len` matrix: `row · len + p0`.
    at: usize,
    /// Columns of the group that are positions of the row (the rest pad the row to `LANES`).
    valid: usize,
    /// Lanes `l` whose mirror `mirror − p0 − l` lies inside the spectrum: all but lane 0 of
    /// the first group of an even-length wavelet (whose mirror of position 0 is `len`).
    mirrored: (usize, usize),
    /// Offset of the mirror of lane `mirrored.0`; the next lanes' mirrors descend from it.
    mirror_at: usize,
}

/// The folded bank in the kernel's layout, built once per plan.
#[derive(Debug, Clone)]
pub(crate) struct Packed {
    half: usize,
    lo: usize,
    panels: Vec<Panel>,
    groups: Vec<Group>,
    data: Vec<f64>,
}

/// One row of the folded bank: positions computed, mirror of position 0, its `P`/`Q` columns
/// as functions of (sample `j`, position `p`).
pub(crate) struct FoldedRow<'a> {
    pub n_pos: usize,
    pub mirror: usize,
    pub p: Box<dyn Fn(usize, usize) -> f64 + 'a>,
    pub q: Box<dyn Fn(usize, usize) -> f64 + 'a>,
}

impl Packed {
    /// Packs rows of a folded bank for spectra of `len` samples.
    pub(crate) fn new(len: usize, rows: &[FoldedRow]) -> Packed {
        let (half, lo) = (len.div_ceil(2), len / 2);
        // Every row padded to whole groups, so a group never straddles two rows.
        let mut groups = Vec::new();
        let mut columns: Vec<Option<(usize, usize)>> = Vec::new(); // (row, position)
        for (r, row) in rows.iter().enumerate() {
            for p0 in (0..row.n_pos).step_by(LANES) {
                let valid = LANES.min(row.n_pos - p0);
                let from = (0..valid).find(|l| row.mirror - (p0 + l) < len).unwrap_or(valid);
                let mirror_at = (r * len + row.mirror).saturating_sub(p0 + from);
                groups.push(Group { at: r * len + p0, valid, mirrored: (from, valid), mirror_at });
                columns.extend((0..LANES).map(|l| (l < valid).then_some((r, p0 + l))));
            }
        }
        while !columns.len().is_multiple_of(NR) {
            columns.push(None);
            if columns.len().is_multiple_of(LANES) {
                groups.push(Group::default());
            }
        }
        let mut panels = Vec::with_capacity(columns.len() / NR);
        let mut data = Vec::new();
        for cols in columns.chunks_exact(NR) {
            let entry = |j: usize, c: &Option<(usize, usize)>, q: bool| match *c {
                Some((r, p)) if q => (rows[r].q)(j, p),
                Some((r, p)) => (rows[r].p)(j, p),
                None => 0.0,
            };
            let mut block = |n: usize, q: bool| {
                let nonzero = |j: &usize| cols.iter().any(|c| entry(*j, c, q) != 0.0);
                let first = (0..n).find(nonzero).unwrap_or(n);
                let end = (first..n).rev().find(nonzero).map_or(first, |j| j + 1);
                let at = data.len();
                for j in first..end {
                    data.extend(cols.iter().map(|c| entry(j, c, q)));
                }
                (at, (first, end))
            };
            let (p_at, p_rows) = block(half, false);
            let (q_at, q_rows) = block(lo, true);
            panels.push(Panel { p_at, p_rows, q_at, q_rows });
        }
        Packed { half, lo, panels, groups, data }
    }

    /// Multiply-adds per spectrum, padding included.
    pub(crate) fn cost(&self) -> usize {
        self.panels.iter().map(|p| (p.p_rows.1 - p.p_rows.0 + p.q_rows.1 - p.q_rows.0) * NR).sum()
    }

    /// The CWT matrices (`rows × len` each, `stride` apart in `out`) of the `n` spectra whose
    /// folds are in `u` (`half` samples each) and `v` (`lo` each), laid out by [`tiled_at`]
    /// for at least `n` rounded up to [`MR`] spectra; the extra ones are computed and dropped.
    /// `isa`: the plan's instruction set, one this CPU runs.
    pub(crate) fn transform(&self, isa: Isa, n: usize, u: &[f64], v: &[f64], out: &mut [f64], stride: usize) {
        let tiles = n.div_ceil(MR);
        assert!(u.len() >= tiles * MR * self.half && v.len() >= tiles * MR * self.lo);
        assert!(out.len() >= n * stride);
        match isa.level() {
            // SAFETY: the CPU has AVX-512F, AVX2 and FMA (an `Isa` is only made by detection).
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => unsafe { self.transform_avx512(n, u, v, out, stride) },
            // SAFETY: the CPU has AVX2 and FMA (an `Isa` is only made by detection).
            #[cfg(target_arch = "x86_64")]
            Level::Avx2Fma => unsafe { self.transform_avx2_fma(n, u, v, out, stride) },
            Level::Portable => self.transform_body(n, u, v, out, stride, products::<false>),
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn transform_avx2_fma(&self, n: usize, u: &[f64], v: &[f64], out: &mut [f64], stride: usize) {
        self.transform_body(n, u, v, out, stride, products::<true>)
    }

    /// The products in AVX-512 (see [`products_avx512`]), the unfold in AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx2,fma")]
    unsafe fn transform_avx512(&self, n: usize, u: &[f64], v: &[f64], out: &mut [f64], stride: usize) {
        // SAFETY: the caller checked AVX-512F; `products_avx512` checks the slices.
        self.transform_body(n, u, v, out, stride, |a, b, s, out, os| unsafe {
            products_avx512(a, b, s, out, os)
        })
    }

    /// The body of [`Packed::transform`], compiled once per instruction set it is inlined into,
    /// with `products` the tile kernel of that instruction set.
    #[inline(always)]
    fn transform_body(
        &self,
        n: usize,
        u: &[f64],
        v: &[f64],
        out: &mut [f64],
        stride: usize,
        products: impl Fn(&[f64], &[f64], usize, &mut [f64], usize),
    ) {
        let (half, lo) = (self.half, self.lo);
        // Chunks of tiles whose `u` (or `v`) stays in the first-level cache next to one panel's
        // `P` (or `Q`) block: all `E` of the chunk first, then `O` and the stores.
        let tiles = n.div_ceil(MR);
        // Written in place by `products` (a tile is 768 bytes: no zeroing, no copy per tile).
        let mut e: [Tile; CHUNK] = [[[0.0; NR]; MR]; CHUNK];
        let mut o: Tile = [[0.0; NR]; MR];
        for chunk in (0..tiles).step_by(CHUNK) {
            let chunk = chunk..tiles.min(chunk + CHUNK);
            for (panel, groups) in self.panels.iter().zip(self.groups.chunks_exact(NR / LANES)) {
                let (p0, p1) = panel.p_rows;
                let (q0, q1) = panel.q_rows;
                let p_block = &self.data[panel.p_at..panel.p_at + (p1 - p0) * NR];
                let q_block = &self.data[panel.q_at..panel.q_at + (q1 - q0) * NR];
                for (t, e) in chunk.clone().zip(e.iter_mut()) {
                    let at = tiled_at(t * MR, half);
                    products(&u[at + p0 * MR..at + p1 * MR], p_block, NR, e.as_flattened_mut(), NR);
                }
                for (t, e) in chunk.clone().zip(&e) {
                    let at = tiled_at(t * MR, lo);
                    products(&v[at + q0 * MR..at + q1 * MR], q_block, NR, o.as_flattened_mut(), NR);
                    for s in 0..MR.min(n - t * MR) {
                        let cwt = &mut out[(t * MR + s) * stride..(t * MR + s + 1) * stride];
                        for (g, group) in groups.iter().enumerate() {
                            let lanes = g * LANES..(g + 1) * LANES;
                            unfold(group, &e[s][lanes.clone()], &o[s][lanes], cwt);
                        }
                    }
                }
            }
        }
    }
}

/// CWT rows as combinations of a few basis rows (a low-rank bank, see `super::lowrank`):
/// `cwt[r] = Σ_k c[r][k] · z[k]`, [`MR`] rows by [`NR`] positions at a time through the same
/// tile kernels as the products.
#[derive(Debug, Clone)]
pub(crate) struct Mixer {
    rows: usize,
    rank: usize,
    /// The coefficients by tiles of [`MR`] rows (the last padded with zero rows), each tile
    /// `rank × MR`, row `k` holding the tile's coefficients of basis row `k`.
    tiles: Vec<f64>,
}

impl Mixer {
    /// `coefficients`: `rows × rank`, row-major.
    pub(crate) fn new(rows: usize, rank: usize, coefficients: &[f64]) -> Mixer {
        assert!(rank > 0 && coefficients.len() == rows * rank);
        let mut tiles = vec![0.0; rows.div_ceil(MR) * MR * rank];
        for (r, c) in coefficients.chunks_exact(rank).enumerate() {
            for (k, &c) in c.iter().enumerate() {
                tiles[(r / MR) * MR * rank + k * MR + r % MR] = c;
            }
        }
        Mixer { rows, rank, tiles }
    }

    /// Multiply-adds per spectrum of `len` samples, padding included.
    pub(crate) fn cost(&self, len: usize) -> usize {
        self.tiles.len() * len.div_ceil(NR) * NR
    }

    /// Values [`Mixer::mix`] reads per spectrum: `rank × len`, and a panel's reach past the end.
    pub(crate) fn input_len(&self, len: usize) -> usize {
        self.rank * len + NR
    }

    /// Mixes one spectrum's basis rows `z` (`rank × len`, [`Mixer::input_len`] values) into its
    /// CWT matrix (`rows × len`) with the tile kernel of `isa`, one this CPU runs.
    pub(crate) fn mix(&self, isa: Isa, z: &[f64], len: usize, cwt: &mut [f64]) {
        assert!(z.len() >= self.input_len(len) && cwt.len() >= self.rows * len);
        match isa.level() {
            // SAFETY: the CPU has AVX-512F, AVX2 and FMA (an `Isa` is only made by detection).
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => unsafe { self.mix_avx512(z, len, cwt) },
            // SAFETY: the CPU has AVX2 and FMA (an `Isa` is only made by detection).
            #[cfg(target_arch = "x86_64")]
            Level::Avx2Fma => unsafe { self.mix_avx2_fma(z, len, cwt) },
            Level::Portable => self.mix_body(z, len, cwt, products::<false>),
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn mix_avx2_fma(&self, z: &[f64], len: usize, cwt: &mut [f64]) {
        self.mix_body(z, len, cwt, products::<true>)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx2,fma")]
    unsafe fn mix_avx512(&self, z: &[f64], len: usize, cwt: &mut [f64]) {
        // SAFETY: the caller checked AVX-512F; `products_avx512` checks the slices.
        self.mix_body(z, len, cwt, |a, b, s, out, os| unsafe { products_avx512(a, b, s, out, os) })
    }

    /// The body of [`Mixer::mix`], compiled once per instruction set, like
    /// [`Packed::transform_body`]. A panel of the last positions reads past the row into the
    /// next (or the slack after the last): those columns are computed and dropped.
    #[inline(always)]
    fn mix_body(
        &self,
        z: &[f64],
        len: usize,
        cwt: &mut [f64],
        products: impl Fn(&[f64], &[f64], usize, &mut [f64], usize),
    ) {
        let mut tile: Tile = [[0.0; NR]; MR];
        for (t, coefficients) in self.tiles.chunks_exact(self.rank * MR).enumerate() {
            let rows = t * MR..self.rows.min((t + 1) * MR);
            for p0 in (0..len).step_by(NR) {
                let z = &z[p0..p0 + (self.rank - 1) * len + NR];
                let columns = NR.min(len - p0);
                if rows.len() == MR && columns == NR {
                    // A whole tile of the CWT matrix: stored in place.
                    products(coefficients, z, len, &mut cwt[rows.start * len + p0..], len);
                    continue;
                }
                products(coefficients, z, len, tile.as_flattened_mut(), NR);
                for (r, tile) in rows.clone().zip(&tile) {
                    cwt[r * len + p0..r * len + p0 + columns].copy_from_slice(&tile[..columns]);
                }
            }
        }
    }
}

/// Tiles per chunk of [`Packed::transform`]: 66 spectra, whose folds of up to 128 samples
/// (64 KiB for a 256-sample spectrum, half that at 119) and one panel share the cache.
const CHUNK: usize = 11;

/// Where sample `j` of spectrum `slot`'s fold (`k` samples) lies in the tiled layout the kernel
/// reads: the [`MR`] spectra of a tile interleaved, sample by sample, so one tile row is the
/// `MR` values a panel row multiplies. Add `j · MR`.
pub(crate) fn tiled_at(slot: usize, k: usize) -> usize {
    (slot / MR) * MR * k + slot % MR
}

/// The results of one tile: `MR` spectra × `NR` columns.
type Tile = [[f64; NR]; MR];

/// `out[s · out_stride + c] = Σ_j a[j][s] · block[j · stride + c]` for one tile of folds (`a`,
/// rows of [`MR`]) against one panel (`block`, rows of [`NR`] values `stride` apart), half a
/// panel at a time (12 accumulators of AVX2); `FMA`: multiply-adds fused (one rounding), else
/// a multiply then an add. A [`Tile`] is `out` with `out_stride` [`NR`].
#[inline(always)]
fn products<const FMA: bool>(a: &[f64], block: &[f64], stride: usize, out: &mut [f64], out_stride: usize) {
    const H: usize = NR / 2;
    let rows = a.len() / MR;
    assert!(rows == 0 || block.len() >= (rows - 1) * stride + NR);
    for h in 0..2 {
        let mut acc = [[0.0f64; H]; MR];
        for (j, x) in a.chunks_exact(MR).enumerate() {
            let b = &block[j * stride + h * H..j * stride + (h + 1) * H];
            for (acc, &x) in acc.iter_mut().zip(x) {
                for (acc, &b) in acc.iter_mut().zip(b) {
                    *acc = if FMA { x.mul_add(b, *acc) } else { *acc + x * b };
                }
            }
        }
        for (s, acc) in acc.iter().enumerate() {
            out[s * out_stride + h * H..s * out_stride + (h + 1) * H].copy_from_slice(acc);
        }
    }
}

/// [`products`] with AVX-512: 12 accumulators of 8 lanes; each tile value is broadcast once
/// for its two multiply-adds (8 loads per 12 multiply-adds).
///
/// # Safety
/// The CPU must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn products_avx512(a: &[f64], block: &[f64], stride: usize, out: &mut [f64], out_stride: usize) {
    use std::arch::x86_64::{
        __m512d, _mm512_fmadd_pd, _mm512_loadu_pd, _mm512_set1_pd, _mm512_setzero_pd, _mm512_storeu_pd,
    };
    let rows = a.len() / MR;
    assert!(rows == 0 || block.len() >= (rows - 1) * stride + NR);
    assert!(out_stride >= NR && out.len() >= (MR - 1) * out_stride + NR);
    let mut acc: [[__m512d; 2]; MR] = [[_mm512_setzero_pd(); 2]; MR];
    for (j, x) in a.chunks_exact(MR).enumerate() {
        // SAFETY: row j of `block` holds NR values from j · stride, checked above.
        let (b0, b1) = unsafe {
            let b = block.as_ptr().add(j * stride);
            (_mm512_loadu_pd(b), _mm512_loadu_pd(b.add(8)))
        };
        for (acc, &x) in acc.iter_mut().zip(x) {
            let x = _mm512_set1_pd(x);
            acc[0] = _mm512_fmadd_pd(x, b0, acc[0]);
            acc[1] = _mm512_fmadd_pd(x, b1, acc[1]);
        }
    }
    for (s, acc) in acc.iter().enumerate() {
        // SAFETY: row s of the tile, NR values from s · out_stride, lies in `out` (checked above).
        unsafe {
            let o = out.as_mut_ptr().add(s * out_stride);
            _mm512_storeu_pd(o, acc[0]);
            _mm512_storeu_pd(o.add(8), acc[1]);
        }
    }
}

/// Stores `e + o` at the group's positions and `e − o` at their mirrors.
#[inline(always)]
fn unfold(group: &Group, e: &[f64], o: &[f64], cwt: &mut [f64]) {
    let plus: [f64; LANES] = std::array::from_fn(|l| e[l] + o[l]);
    let minus: [f64; LANES] = std::array::from_fn(|l| e[LANES - 1 - l] - o[LANES - 1 - l]);
    if group.valid == LANES {
        cwt[group.at..group.at + LANES].copy_from_slice(&plus);
    } else {
        cwt[group.at..group.at + group.valid].copy_from_slice(&plus[..group.valid]);
    }
    let m = group.mirror_at;
    if group.mirrored == (0, LANES) {
        // Mirrors descend from `m`: `minus` holds them reversed, lowest position first.
        cwt[m + 1 - LANES..m + 1].copy_from_slice(&minus);
    } else {
        let (from, to) = group.mirrored;
        for l in from..to {
            cwt[m - (l - from)] = minus[LANES - 1 - l];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Uniform values in [-0.5, 0.5) from a linear congruential generator.
    fn uniform(mut state: u64) -> impl FnMut() -> f64 {
        move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        }
    }

    /// Every tile kernel this CPU can run gives the plain sum of products within rounding
    /// (the orders differ: fused or not, one chain per output), on tiles with 0 to 70 rows.
    #[test]
    fn every_tile_kernel_is_the_plain_sum_of_products() {
        let mut next = uniform(0x9e3779b97f4a7c15u64);
        // Panels packed (rows NR apart) and read in place from a wider matrix (the mixer's
        // basis rows); tiles stored packed and into a wider matrix (the CWT).
        for (rows, stride, out_stride) in [
            (0, NR, NR),
            (1, NR, NR),
            (2, NR, NR),
            (7, NR, NR),
            (60, NR, NR),
            (70, NR, NR),
            (13, 119, 119),
            (3, 17, 21),
        ] {
            let a: Vec<f64> = (0..rows * MR).map(|_| next()).collect();
            let b: Vec<f64> = (0..rows * stride + NR).map(|_| next()).collect();
            let run = |kernel: &dyn Fn(&mut [f64])| {
                // Start from garbage: a kernel must write every entry, not add to it; and
                // leave every value between the tile's rows alone.
                let mut out = vec![f64::NAN; MR * out_stride];
                kernel(&mut out);
                out
            };
            let mut kernels: Vec<(&str, Vec<f64>)> = vec![
                ("portable", run(&|t| products::<false>(&a, &b, stride, t, out_stride))),
                ("fused", run(&|t| products::<true>(&a, &b, stride, t, out_stride))),
            ];
            #[cfg(target_arch = "x86_64")]
            if Isa::detect().level() == Level::Avx512 {
                // SAFETY: the CPU has AVX-512F, AVX2 and FMA (detected).
                kernels.push(("avx512", run(&|t| unsafe { products_avx512(&a, &b, stride, t, out_stride) })));
            }
            for (name, out) in kernels {
                for s in 0..MR {
                    for c in 0..out_stride {
                        let got = out[s * out_stride + c];
                        if c >= NR {
                            assert!(got.is_nan(), "{name} wrote between rows");
                            continue;
                        }
                        let terms = (0..rows).map(|j| a[j * MR + s] * b[j * stride + c]);
                        let (sum, scale) = terms.fold((0.0, 0.0), |(t, m), x| (t + x, m + x.abs()));
                        assert!(
                            (got - sum).abs() <= 1e-15 * scale.max(1e-300),
                            "{name} rows {rows}, stride {stride}: {got} vs {sum}"
                        );
                    }
                }
            }
        }
    }

    /// The mixing, with every tile kernel this CPU can run, is the plain sum `Σ_k c[r][k]·z[k]`:
    /// rows that fill no whole tile, a last panel of fewer than 16 positions, a rank of one.
    #[test]
    fn every_mixer_body_is_the_plain_sum() {
        let mut next = uniform(0x2545f4914f6cdd1du64);
        for (rows, rank, len) in [(30, 13, 119), (7, 3, 33), (3, 1, 16), (1, 1, 1), (13, 5, 40)] {
            let c: Vec<f64> = (0..rows * rank).map(|_| next()).collect();
            let mixer = Mixer::new(rows, rank, &c);
            let z: Vec<f64> = (0..mixer.input_len(len)).map(|_| next()).collect();
            let run = |body: &dyn Fn(&mut [f64])| {
                let mut cwt = vec![f64::NAN; rows * len];
                body(&mut cwt);
                cwt
            };
            let mut bodies: Vec<(String, Vec<f64>)> = vec![
                ("portable".into(), run(&|cwt| mixer.mix_body(&z, len, cwt, products::<false>))),
                ("fused".into(), run(&|cwt| mixer.mix_body(&z, len, cwt, products::<true>))),
            ];
            // Each instruction set's compiled body, as a plan of that set runs it.
            for isa in Isa::supported() {
                bodies.push((format!("{:?}", isa.level()), run(&|cwt| mixer.mix(isa, &z, len, cwt))));
            }
            #[cfg(target_arch = "x86_64")]
            if Isa::detect().level() == Level::Avx512 {
                // SAFETY: the CPU has AVX-512F (detected).
                let avx512 =
                    |a: &[f64], b: &[f64], s, o: &mut [f64], os| unsafe { products_avx512(a, b, s, o, os) };
                bodies.push(("avx512".into(), run(&|cwt| mixer.mix_body(&z, len, cwt, avx512))));
            }
            for (name, cwt) in bodies {
                for r in 0..rows {
                    for p in 0..len {
                        let terms = (0..rank).map(|k| c[r * rank + k] * z[k * len + p]);
                        let (sum, scale) = terms.fold((0.0, 0.0), |(t, m), x| (t + x, m + x.abs()));
                        let got = cwt[r * len + p];
                        assert!(
                            (got - sum).abs() <= 1e-15 * scale.max(1e-300),
                            "{name} ({rows}, {rank}, {len}) row {r} position {p}: {got} vs {sum}"
                        );
                    }
                }
            }
        }
    }
}
