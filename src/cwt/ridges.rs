//! From a CWT matrix to peaks: relative maxima per row, ridge lines linked from the widest row
//! down, and the length and signal-to-noise filters — scipy's `_identify_ridge_lines` and
//! `_filter_ridge_lines`, on preallocated arrays.
use super::params::{ResolvedParams, SnrFrom};
use std::cmp::Ordering;

/// numpy's float order for sorting: NaN after everything.
pub(crate) fn numpy_order(a: &f64, b: &f64) -> Ordering {
    a.partial_cmp(b).unwrap_or_else(|| a.is_nan().cmp(&b.is_nan()))
}

/// Where `scipy.stats.scoreatpercentile(per)` reads a sorted window of `n` values: rank `i`
/// alone, or ranks `i` and `i + 1` with their weights.
pub(crate) enum PercentileAt {
    Rank(usize),
    Between(usize, f64, f64),
}

pub(crate) fn percentile_at(n: usize, per: f64) -> PercentileAt {
    let idx = per / 100.0 * (n - 1) as f64;
    let i = idx as usize;
    if i as f64 == idx {
        PercentileAt::Rank(i)
    } else {
        PercentileAt::Between(i, (i + 1) as f64 - idx, idx - i as f64)
    }
}

/// scipy's interpolation between two neighbouring ranks: a weighted sum over the weights' sum.
pub(crate) fn interpolate(low: f64, high: f64, w_low: f64, w_high: f64) -> f64 {
    (low * w_low + high * w_high) / (w_low + w_high)
}

/// `scoreatpercentile(window, per)` without sorting the whole window: a selection of the one or
/// two ranks it reads. Reorders `window`; NaN for an empty window, like scipy.
pub(crate) fn score_at_percentile(window: &mut [f64], per: f64) -> f64 {
    if window.is_empty() {
        return f64::NAN;
    }
    match percentile_at(window.len(), per) {
        PercentileAt::Rank(i) => *window.select_nth_unstable_by(i, numpy_order).1,
        PercentileAt::Between(i, wl, wh) => {
            let (_, low, above) = window.select_nth_unstable_by(i, numpy_order);
            let high = above.iter().copied().min_by(numpy_order).unwrap_or(*low);
            interpolate(*low, high, wl, wh)
        }
    }
}

/// scipy's SNR test: `abs(signal / noise) < min_snr` rejects; a NaN ratio passes.
pub(crate) fn passes_snr(signal: f64, noise: f64, min_snr: f64) -> bool {
    (signal / noise).abs().partial_cmp(&min_snr) != Some(Ordering::Less)
}

/// The noise window of column `col` in a row of `len` samples: `window_size` samples starting
/// `window_size / 2` before it, clipped to the row.
pub(crate) fn noise_window(col: usize, len: usize, window_size: usize) -> std::ops::Range<usize> {
    let (half, odd) = (window_size / 2, window_size % 2);
    col.saturating_sub(half)..(col + half + odd).min(len)
}

/// `np.argsort(keys)` (default kind, numpy ≥ 1.17 on CPUs without AVX-512): its introsort,
/// because ties come out in the order this algorithm leaves them, and scipy reads the first.
/// Writes the permutation into `idx`.
pub(crate) fn numpy_argsort(keys: &[i64], idx: &mut Vec<usize>) {
    idx.clear();
    idx.extend(0..keys.len());
    if keys.len() < 2 {
        return;
    }
    let v = |i: usize| keys[i];
    const SMALL: isize = 15;
    // numpy's bound: the larger side is pushed, so the depth stays under 2·log2(n) ≤ 128.
    let mut stack = [(0isize, 0isize, 0i64); 128];
    let mut depth = 0;
    let (mut pl, mut pr) = (0isize, keys.len() as isize - 1);
    let mut depth_left = (usize::BITS - 1 - keys.len().leading_zeros()) as i64 * 2;
    loop {
        if depth_left < 0 {
            numpy_heap_argsort(keys, &mut idx[pl as usize..=pr as usize]);
        } else {
            while pr - pl > SMALL {
                let (l, r) = (pl as usize, pr as usize);
                let m = l + ((r - l) >> 1);
                if v(idx[m]) < v(idx[l]) {
                    idx.swap(m, l);
                }
                if v(idx[r]) < v(idx[m]) {
                    idx.swap(r, m);
                }
                if v(idx[m]) < v(idx[l]) {
                    idx.swap(m, l);
                }
                let pivot = v(idx[m]);
                let (mut i, mut j) = (l, r - 1);
                idx.swap(m, j);
                loop {
                    i += 1;
                    while v(idx[i]) < pivot {
                        i += 1;
                    }
                    j -= 1;
                    while pivot < v(idx[j]) {
                        j -= 1;
                    }
                    if i >= j {
                        break;
                    }
                    idx.swap(i, j);
                }
                idx.swap(i, r - 1);
                let i = i as isize;
                // The larger side waits on the stack; the smaller is sorted next.
                depth_left -= 1;
                if i - pl < pr - i {
                    stack[depth] = (i + 1, pr, depth_left);
                    depth += 1;
                    pr = i - 1;
                } else {
                    stack[depth] = (pl, i - 1, depth_left);
                    depth += 1;
                    pl = i + 1;
                }
            }
            // Insertion sort: stable for what is left.
            for a in (pl + 1) as usize..=(pr.max(pl)) as usize {
                let moving = idx[a];
                let mut b = a;
                while b > pl as usize && v(moving) < v(idx[b - 1]) {
                    idx[b] = idx[b - 1];
                    b -= 1;
                }
                idx[b] = moving;
            }
        }
        if depth == 0 {
            break;
        }
        depth -= 1;
        (pl, pr, depth_left) = stack[depth];
    }
}

/// numpy's heapsort fallback of its argsort introsort (1-based heap over `idx`).
fn numpy_heap_argsort(keys: &[i64], idx: &mut [usize]) {
    let mut n = idx.len();
    let at = |idx: &[usize], k: usize| keys[idx[k - 1]];
    let sift = |idx: &mut [usize], mut i: usize, n: usize, tmp: usize| {
        let mut j = i * 2;
        while j <= n {
            if j < n && at(idx, j) < at(idx, j + 1) {
                j += 1;
            }
            if keys[tmp] < at(idx, j) {
                idx[i - 1] = idx[j - 1];
                i = j;
                j += j;
            } else {
                break;
            }
        }
        idx[i - 1] = tmp;
    };
    for l in (1..=n / 2).rev() {
        let tmp = idx[l - 1];
        sift(idx, l, n, tmp);
    }
    while n > 1 {
        let tmp = idx[n - 1];
        idx[n - 1] = idx[0];
        n -= 1;
        sift(idx, 1, n, tmp);
    }
}

/// One ridge line while it is being linked.
#[derive(Debug, Clone, Copy)]
struct Line {
    /// Row and column of the maximum most recently joined (scipy's `line[1][-1]`).
    last_row: u32,
    last_col: u32,
    /// Rows since the last join.
    gap: u32,
    /// Points on the line, two joins in one row counting twice.
    count: u32,
    /// Most recent entry in `entries`, whose `prev` links go back to the first.
    last_entry: u32,
    /// Two maxima joined the line in one row: which point scipy reports as the line's first then
    /// depends on numpy's argsort, replayed from `entries`.
    shared_row: bool,
    /// Largest CWT value on the line (NaN skipped), for [`SnrFrom::RidgeMax`].
    max_value: f64,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    row: u32,
    col: u32,
    prev: u32,
}

const NO_ENTRY: u32 = u32::MAX;

/// Per-thread buffers of the ridge stage, sized once for `rows × len` so that no spectrum
/// allocates.
#[derive(Debug, Clone, Default)]
pub(crate) struct RidgeScratch {
    max_start: Vec<u32>,
    max_cols: Vec<u32>,
    lines: Vec<Line>,
    entries: Vec<Entry>,
    open: Vec<u32>,
    prev_cols: Vec<u32>,
    sort_keys: Vec<i64>,
    sort_cols: Vec<u32>,
    sort_idx: Vec<usize>,
    window: Vec<f64>,
}

impl RidgeScratch {
    pub fn new(rows: usize, len: usize) -> Self {
        let maxima = rows * len.div_ceil(2);
        RidgeScratch {
            max_start: Vec::with_capacity(rows + 1),
            max_cols: Vec::with_capacity(maxima),
            lines: Vec::with_capacity(maxima),
            entries: Vec::with_capacity(maxima),
            open: Vec::with_capacity(maxima),
            prev_cols: Vec::with_capacity(maxima),
            sort_keys: Vec::with_capacity(maxima),
            sort_cols: Vec::with_capacity(maxima),
            sort_idx: Vec::with_capacity(maxima),
            window: Vec::with_capacity(len),
        }
    }
}

/// The peaks of one CWT matrix (`rows × len`, row-major), sorted, duplicates kept, into `peaks`.
pub(crate) fn find_peaks(
    cwt: &[f64],
    len: usize,
    p: &ResolvedParams,
    s: &mut RidgeScratch,
    peaks: &mut Vec<u32>,
) {
    peaks.clear();
    let rows = p.widths.len();
    relative_maxima(cwt, len, s);
    let Some(start_row) = (0..rows).rev().find(|&r| s.max_start[r] < s.max_start[r + 1]) else {
        return;
    };
    s.lines.clear();
    s.entries.clear();
    s.open.clear();
    for k in s.max_start[start_row]..s.max_start[start_row + 1] {
        let col = s.max_cols[k as usize];
        start_line(s, cwt, len, start_row, col);
    }
    for row in (0..start_row).rev() {
        for &l in &s.open {
            s.lines[l as usize].gap += 1;
        }
        // Maxima of this row link to where the lines ended before this row, not to each other.
        s.prev_cols.clear();
        s.prev_cols.extend(s.open.iter().map(|&l| s.lines[l as usize].last_col));
        let max_distance = p.max_distances[row];
        for k in s.max_start[row]..s.max_start[row + 1] {
            let col = s.max_cols[k as usize];
            let closest = s
                .prev_cols
                .iter()
                .enumerate()
                .min_by_key(|&(_, &c)| c.abs_diff(col))
                .map(|(i, &c)| (i, c.abs_diff(col)));
            match closest {
                Some((i, d)) if d as f64 <= max_distance => {
                    let l = s.open[i];
                    extend_line(s, cwt, len, l, row, col);
                }
                _ => start_line(s, cwt, len, row, col),
            }
        }
        let lines = &s.lines;
        s.open.retain(|&l| {
            (lines[l as usize].gap as f64).partial_cmp(&p.gap_thresh) != Some(Ordering::Greater)
        });
    }
    for li in 0..s.lines.len() {
        let line = s.lines[li];
        if (line.count as usize) < p.min_length {
            continue;
        }
        let (row, col) =
            if line.shared_row { scipy_first_point(s, &line) } else { (line.last_row, line.last_col) };
        let signal = match p.snr_from {
            SnrFrom::RidgeEnd => cwt[row as usize * len + col as usize],
            SnrFrom::RidgeMax => line.max_value,
        };
        s.window.clear();
        s.window.extend_from_slice(&cwt[noise_window(col as usize, len, p.window_size)]);
        let noise = score_at_percentile(&mut s.window, p.noise_perc);
        if passes_snr(signal, noise, p.min_snr) {
            peaks.push(col);
        }
    }
    peaks.sort_unstable();
}

/// scipy's `argrelmax(row, order=1, mode='clip')` on every row: strictly greater than both
/// neighbours, so the first and last samples never qualify.
///
/// Maxima are few and fall where the data says, so a test-and-branch per sample mispredicts
/// often (that loop was most of the ridge stage). Instead each run of up to 64 candidates
/// becomes a bit mask, computed without branches, and only its set bits are visited.
fn relative_maxima(cwt: &[f64], len: usize, s: &mut RidgeScratch) {
    s.max_start.clear();
    s.max_cols.clear();
    s.max_start.push(0);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        unsafe { relative_maxima_avx2(cwt, len, s) };
        return;
    }
    relative_maxima_with(cwt, len, s, maxima_mask);
}

/// [`relative_maxima`] with the masks made four candidates per AVX2 compare.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn relative_maxima_avx2(cwt: &[f64], len: usize, s: &mut RidgeScratch) {
    relative_maxima_with(cwt, len, s, |left, mid, right| {
        // SAFETY: this closure is only compiled into (and called from) an AVX2 function.
        unsafe { maxima_mask_avx2(left, mid, right) }
    });
}

/// The body of [`relative_maxima`], with `mask` the mask maker of an instruction set.
#[inline(always)]
fn relative_maxima_with(
    cwt: &[f64],
    len: usize,
    s: &mut RidgeScratch,
    mask: impl Fn(&[f64], &[f64], &[f64]) -> u64,
) {
    for row in cwt.chunks_exact(len) {
        if len < 3 {
            s.max_start.push(s.max_cols.len() as u32);
            continue;
        }
        let inner = len - 2;
        let (left, mid, right) = (&row[..inner], &row[1..inner + 1], &row[2..inner + 2]);
        for base in (0..inner).step_by(64) {
            let run = base..inner.min(base + 64);
            let mut bits = mask(&left[run.clone()], &mid[run.clone()], &right[run]);
            while bits != 0 {
                s.max_cols.push((base + bits.trailing_zeros() as usize + 1) as u32);
                bits &= bits - 1;
            }
        }
        s.max_start.push(s.max_cols.len() as u32);
    }
}

/// Bit j set where `mid[j]` is greater than both `left[j]` and `right[j]` (NaN compares false),
/// for up to 64 candidates.
#[inline(always)]
fn maxima_mask(left: &[f64], mid: &[f64], right: &[f64]) -> u64 {
    let mut mask = 0u64;
    for j in 0..mid.len() {
        mask |= (((mid[j] > left[j]) & (mid[j] > right[j])) as u64) << j;
    }
    mask
}

/// [`maxima_mask`], four candidates per compare (ordered, quiet: NaN gives false, as `>`).
///
/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn maxima_mask_avx2(left: &[f64], mid: &[f64], right: &[f64]) -> u64 {
    use std::arch::x86_64::{_mm256_and_pd, _mm256_cmp_pd, _mm256_loadu_pd, _mm256_movemask_pd, _CMP_GT_OQ};
    let n = mid.len();
    assert!(n <= 64 && left.len() == n && right.len() == n);
    let mut mask = 0u64;
    let mut j = 0;
    while j + 4 <= n {
        // SAFETY: j + 4 <= n, the length of all three slices.
        let bits = unsafe {
            let at = |s: &[f64]| _mm256_loadu_pd(s.as_ptr().add(j));
            let m = at(mid);
            _mm256_movemask_pd(_mm256_and_pd(
                _mm256_cmp_pd(m, at(left), _CMP_GT_OQ),
                _mm256_cmp_pd(m, at(right), _CMP_GT_OQ),
            ))
        };
        mask |= (bits as u64) << j;
        j += 4;
    }
    // The rest, fewer than four (none after a whole run of 64, where `<< 64` would overflow).
    if j < n {
        mask |= maxima_mask(&left[j..], &mid[j..], &right[j..]) << j;
    }
    mask
}

fn start_line(s: &mut RidgeScratch, cwt: &[f64], len: usize, row: usize, col: u32) {
    s.entries.push(Entry { row: row as u32, col, prev: NO_ENTRY });
    s.open.push(s.lines.len() as u32);
    s.lines.push(Line {
        last_row: row as u32,
        last_col: col,
        gap: 0,
        count: 1,
        last_entry: s.entries.len() as u32 - 1,
        shared_row: false,
        max_value: cwt[row * len + col as usize],
    });
}

fn extend_line(s: &mut RidgeScratch, cwt: &[f64], len: usize, l: u32, row: usize, col: u32) {
    let line = &mut s.lines[l as usize];
    s.entries.push(Entry { row: row as u32, col, prev: line.last_entry });
    line.last_entry = s.entries.len() as u32 - 1;
    line.shared_row |= line.last_row == row as u32;
    line.last_row = row as u32;
    line.last_col = col;
    line.gap = 0;
    line.count += 1;
    line.max_value = line.max_value.max(cwt[row * len + col as usize]);
}

/// The point scipy reports as a line's first: scipy scatters the join order through numpy's
/// argsort of the rows (`rows[argsort] = rows`), so position 0 receives the join `k` with
/// `argsort[k] == 0` — the lowest row's last join only when no row was joined twice.
fn scipy_first_point(s: &mut RidgeScratch, line: &Line) -> (u32, u32) {
    s.sort_keys.clear();
    s.sort_cols.clear();
    let mut e = line.last_entry;
    while e != NO_ENTRY {
        let entry = s.entries[e as usize];
        s.sort_keys.push(entry.row as i64);
        s.sort_cols.push(entry.col);
        e = entry.prev;
    }
    s.sort_keys.reverse();
    s.sort_cols.reverse();
    numpy_argsort(&s.sort_keys, &mut s.sort_idx);
    let k = s.sort_idx.iter().position(|&d| d == 0).unwrap_or(0);
    (s.sort_keys[k] as u32, s.sort_cols[k])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every mask maker finds exactly the samples greater than both neighbours, on rows of every
    /// length around the 64-candidate runs and with ties, plateaus, NaN and infinities.
    #[test]
    fn relative_maxima_are_the_samples_above_both_neighbours() {
        let mut state = 0x2545f4914f6cdd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            match state % 16 {
                0 => f64::NAN,
                1 => f64::INFINITY,
                2 => 1.0,
                _ => (state >> 40) as f64 % 7.0,
            }
        };
        for len in [0, 1, 2, 3, 4, 5, 65, 66, 67, 119, 130, 131, 200] {
            let rows = 3;
            let cwt: Vec<f64> = (0..rows * len).map(|_| next()).collect();
            let mut expected = Vec::new();
            let mut starts = vec![0u32];
            for row in cwt.chunks_exact(len.max(1)).take(if len == 0 { 0 } else { rows }) {
                for i in 1..len.saturating_sub(1) {
                    if row[i] > row[i - 1] && row[i] > row[i + 1] {
                        expected.push(i as u32);
                    }
                }
                starts.push(expected.len() as u32);
            }
            if len == 0 {
                continue;
            }
            let mut s = RidgeScratch::new(rows, len);
            relative_maxima(&cwt, len, &mut s);
            assert_eq!((&s.max_cols, &s.max_start), (&expected, &starts), "dispatched, len {len}");
            let mut p = RidgeScratch::new(rows, len);
            p.max_start.push(0);
            relative_maxima_with(&cwt, len, &mut p, maxima_mask);
            assert_eq!((&p.max_cols, &p.max_start), (&expected, &starts), "portable, len {len}");
        }
    }

    #[test]
    fn argsort_is_stable_below_17_and_numpys_introsort_above() {
        let mut idx = Vec::new();
        numpy_argsort(&[3, 2, 2, 1, 1, 1], &mut idx);
        assert_eq!(idx, [3, 4, 5, 1, 2, 0]);
        // A ridge line of 20 rows extended twice in its lowest row, as np.argsort orders it.
        let rows: Vec<i64> = (0..19).rev().chain([0]).collect();
        numpy_argsort(&rows, &mut idx);
        assert_eq!(idx[..3], [19, 18, 17]);
        let rows: Vec<i64> = [[5; 3].as_slice(), &[4; 17], &[3; 2], &[2; 5]].concat();
        numpy_argsort(&rows, &mut idx);
        let numpy = [26, 24, 23, 22, 25, 21, 20, 19, 18, 17, 16, 15, 14, 13];
        assert_eq!(idx[..14], numpy);
        assert_eq!(idx[14..], [11, 10, 9, 8, 7, 6, 5, 4, 3, 12, 2, 1, 0]);
    }

    /// The argsort cases numpy sorted for tests/reference/cwt_fixtures.py (in the fixture header).
    #[test]
    fn argsort_matches_numpy_on_fixture_cases() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cwt/scipy_cwt.bin");
        let bytes = std::fs::read(path).unwrap();
        let n = u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
        let header: serde_json::Value = serde_json::from_slice(&bytes[12..12 + n]).unwrap();
        let ints = |v: &serde_json::Value| -> Vec<i64> {
            v.as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect()
        };
        let mut idx = Vec::new();
        for case in header["argsort"].as_array().unwrap() {
            let (keys, numpy) = (ints(&case[0]), ints(&case[1]));
            numpy_argsort(&keys, &mut idx);
            let ours: Vec<i64> = idx.iter().map(|&i| i as i64).collect();
            assert_eq!(ours, numpy, "np.argsort({keys:?})");
        }
    }

    #[test]
    fn percentile_interpolates_like_scoreatpercentile() {
        let mut w = [5.0, 1.0, 4.0, 2.0, 3.0];
        assert_eq!(score_at_percentile(&mut w, 10.0), 1.4);
        let mut w = [5.0, 1.0, 4.0, 2.0, 3.0];
        assert_eq!(score_at_percentile(&mut w, 50.0), 3.0);
        let mut w = [f64::NAN, 1.0, 2.0];
        assert_eq!(score_at_percentile(&mut w, 50.0), 2.0);
        assert!(score_at_percentile(&mut [], 10.0).is_nan());
    }

    #[test]
    fn nan_snr_passes_like_scipy() {
        assert!(passes_snr(1.0, f64::NAN, 1.0));
        assert!(passes_snr(0.0, 0.0, 1.0));
        assert!(!passes_snr(0.5, 1.0, 1.0));
        assert!(passes_snr(-2.0, 1.0, 1.0));
    }
}
