//! Equality with scipy: every fixture vector through the fast `PeakFinder` and the reference
//! path, against what `scipy.signal.find_peaks_cwt` returned (tests/reference/cwt_fixtures.py).
//!
//! The committed set has 5 000 vectors. For a larger run:
//!
//! ```text
//! .venv/bin/python tests/reference/cwt_fixtures.py --count 100000 --out /tmp/cwt_100k.bin --jobs 2
//! CWT_FIXTURES=/tmp/cwt_100k.bin cargo test --release --test cwt_scipy -- --nocapture
//! ```
//!
//! Every disagreement is printed with its vector and the margin of the comparison that decided
//! it. A disagreement passes only on a tie-prone class (constant, steps, quantised, palindromes,
//! ...) and only when the comparisons that decide it are within `TIE_ULPS` of a tie: one or two
//! relative-maximum comparisons near the differing columns whose flip reproduces the other
//! answer (printed), or, where a flat or mirrored region holds more ties than that search
//! tries, the nearest comparison by the differing columns (printed too). A tie that numpy's
//! different summation order broke the other way. The margin is counted in ulps of the terms' magnitude `Σ|w·x|`, the
//! scale of a dot product's rounding error.
use std::collections::BTreeMap;
use usid_peaks::cwt::{
    cwt_matrix, find_peaks_cwt, linspace, peaks_from_cwt, ricker, CwtParams, PeakFinder, Transform,
};

/// Every transform a plan can give realistic spectra, each held to scipy and the reference.
const TRANSFORMS: [(&str, Transform); 4] = [
    ("auto", Transform::Auto),
    ("matrices", Transform::Matrices),
    ("fft", Transform::Fft),
    ("direct", Transform::Direct),
];

/// How near a tie a comparison must be to excuse a disagreement, in ulps of `Σ|w·x|`.
const TIE_ULPS: f64 = 16.0;

struct Class {
    name: String,
    tie_prone: bool,
}

struct Record {
    class: usize,
    param_set: usize,
    values: Vec<f64>,
    peaks: Vec<usize>,
}

struct Fixtures {
    header: serde_json::Value,
    classes: Vec<Class>,
    params: Vec<CwtParams>,
    records: Vec<Record>,
}

/// The committed fixture `name` — for the main set, `scipy_cwt.bin`, the file `CWT_FIXTURES`
/// names when it is set (a larger differential run); the other fixtures are always the committed ones.
fn fixture_path(name: &str) -> String {
    match std::env::var("CWT_FIXTURES") {
        Ok(path) if name == "scipy_cwt.bin" => path,
        _ => format!("{}/tests/fixtures/cwt/{name}", env!("CARGO_MANIFEST_DIR")),
    }
}

fn load(path: &str) -> Fixtures {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(&bytes[..8], b"CWTFIX01", "{path}: not a CWT fixture file");
    let mut r = Reader { bytes: &bytes, at: 8 };
    let u32_of = |b: &[u8]| u32::from_le_bytes(b.try_into().unwrap()) as usize;
    let header_len = u32_of(r.take(4));
    let header: serde_json::Value = serde_json::from_slice(r.take(header_len)).unwrap();
    let classes = header["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Class {
            name: c["name"].as_str().unwrap().into(),
            tie_prone: c["tie_prone"].as_bool().unwrap(),
        })
        .collect();
    let params = header["param_sets"].as_array().unwrap().iter().map(params_of).collect();
    let mut records = Vec::new();
    while r.at < bytes.len() {
        let head = r.take(8);
        let (class, param_set, width) = (head[0] as usize, head[1] as usize, head[2]);
        let n = u32_of(&head[4..8]);
        let raw = r.take(n * width as usize);
        let values = match width {
            4 => raw.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap()) as f64).collect(),
            _ => raw.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap())).collect(),
        };
        let count = u32_of(r.take(4));
        let peaks = r.take(4 * count).chunks_exact(4).map(u32_of).collect();
        records.push(Record { class, param_set, values, peaks });
    }
    Fixtures { header, classes, params, records }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        self.at += n;
        &self.bytes[self.at - n..self.at]
    }
}

/// A float written by Python's `repr`: parsed with Rust's correctly rounding parser.
fn exact(v: &serde_json::Value) -> f64 {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not a float: {v}"))
}

fn params_of(v: &serde_json::Value) -> CwtParams {
    let floats = |v: &serde_json::Value| -> Vec<f64> { v.as_array().unwrap().iter().map(exact).collect() };
    let d = CwtParams::default();
    CwtParams {
        widths: floats(&v["widths"]),
        max_distances: v.get("max_distances").map(floats),
        gap_thresh: v.get("gap_thresh").map(exact),
        min_length: v.get("min_length").and_then(|x| x.as_u64()).map(|x| x as usize),
        min_snr: v.get("min_snr").map_or(d.min_snr, exact),
        noise_perc: v.get("noise_perc").map_or(d.noise_perc, exact),
        window_size: v.get("window_size").and_then(|x| x.as_u64()).map(|x| x as usize),
        snr_from: d.snr_from,
    }
}

/// One adjacent comparison of a CWT row, and how near a tie it is.
#[derive(Debug, Clone, Copy)]
struct Near {
    row: usize,
    col: usize,
    ulps: f64,
    relative: f64,
}

/// `Σ|w·x|` for every CWT entry: the magnitude against which a dot product's rounding is
/// measured.
fn term_scales(x: &[f64], widths: &[f64]) -> Vec<Vec<f64>> {
    let len = x.len();
    widths
        .iter()
        .map(|&w| {
            let taps = ricker((10.0 * w).min(len as f64), w);
            let shift = taps.len() / 2;
            (0..len)
                .map(|i| {
                    (0..taps.len())
                        .filter_map(|t| (i + t).checked_sub(shift).filter(|&j| j < len).map(|j| (t, j)))
                        .map(|(t, j)| (taps[t] * x[j]).abs())
                        .sum()
                })
                .collect()
        })
        .collect()
}

/// The comparisons near the columns where two answers differ (`focus`; all without one),
/// nearest to a tie first: those within `TIE_ULPS` (at most 12), and the nearest of all.
fn near_ties(cwt: &[Vec<f64>], scales: &[Vec<f64>], focus: Option<&[usize]>) -> (Vec<Near>, Option<Near>) {
    let mut all = Vec::new();
    for (row, (y, s)) in cwt.iter().zip(scales).enumerate() {
        for col in 0..y.len().saturating_sub(1) {
            let (a, b) = (y[col], y[col + 1]);
            let near_focus = focus.is_none_or(|f| f.iter().any(|&f| f.abs_diff(col) <= 3));
            if !a.is_finite() || !b.is_finite() || !near_focus {
                continue;
            }
            let scale = s[col].max(s[col + 1]).max(f64::MIN_POSITIVE);
            let magnitude = a.abs().max(b.abs());
            all.push(Near {
                row,
                col,
                ulps: (a - b).abs() / (f64::EPSILON * scale),
                relative: if magnitude > 0.0 { (a - b).abs() / magnitude } else { 0.0 },
            });
        }
    }
    all.sort_by(|p, q| p.ulps.total_cmp(&q.ulps));
    let nearest = all.first().copied();
    all.retain(|n| n.ulps <= TIE_ULPS);
    all.truncate(12);
    (all, nearest)
}

/// Columns in one answer and not the other; all of both when they differ only in how often a
/// column repeats.
fn differing(a: &[usize], b: &[usize]) -> Vec<usize> {
    let only =
        |x: &[usize], y: &[usize]| -> Vec<usize> { x.iter().filter(|c| !y.contains(c)).copied().collect() };
    let cols = [only(a, b), only(b, a)].concat();
    if cols.is_empty() {
        [a, b].concat()
    } else {
        cols
    }
}

/// The two ways `cwt[row][col]` vs `cwt[row][col + 1]` can come out the other side of a tie:
/// equal, or in the opposite order.
fn flips(cwt: &[Vec<f64>], n: &Near) -> [Vec<Vec<f64>>; 2] {
    let (a, b) = (cwt[n.row][n.col], cwt[n.row][n.col + 1]);
    let mut equal = cwt.to_vec();
    equal[n.row][n.col + 1] = a;
    let mut swapped = cwt.to_vec();
    swapped[n.row][n.col + 1] = if a > b { a + a.abs() * f64::EPSILON } else { a - a.abs() * f64::EPSILON };
    if a == b {
        swapped[n.row][n.col + 1] = a + a.abs().max(f64::MIN_POSITIVE) * f64::EPSILON;
        equal[n.row][n.col + 1] = a - a.abs().max(f64::MIN_POSITIVE) * f64::EPSILON;
    }
    [equal, swapped]
}

/// Whether flipping up to two near ties of `cwt` turns its peaks into `other`; the flipped
/// comparisons if so.
fn explained_by_ties(
    cwt: &[Vec<f64>],
    near: &[Near],
    params: &CwtParams,
    other: &[usize],
) -> Option<Vec<Near>> {
    let p = params.validate(cwt[0].len()).ok()?;
    fn search(
        cwt: &[Vec<f64>],
        near: &[Near],
        depth: usize,
        p: &usid_peaks::cwt::ResolvedParams,
        other: &[usize],
    ) -> Option<Vec<Near>> {
        for (i, a) in near.iter().enumerate() {
            for flipped in flips(cwt, a) {
                if peaks_from_cwt(&flipped, p) == other {
                    return Some(vec![*a]);
                }
                if depth > 1 {
                    if let Some(mut more) = search(&flipped, &near[i + 1..], depth - 1, p, other) {
                        more.insert(0, *a);
                        return Some(more);
                    }
                }
            }
        }
        None
    }
    search(cwt, near, 2, &p, other)
}

/// Whether the signal-to-noise test decides: scipy keeps a line unless `|signal / noise| <
/// min_snr`, and a ratio within a few ulps of `min_snr` (a ridge line ending in a flat stretch,
/// where the signal is the noise window's own percentile) goes either way with the rounding.
/// Moving `min_snr` by `k` ulps flips exactly the ratios within `k` ulps of it; returns the
/// smallest such signed `k` that turns the peaks into `other`.
fn explained_by_snr_tie(cwt: &[Vec<f64>], params: &CwtParams, other: &[usize]) -> Option<f64> {
    let p = params.validate(cwt[0].len()).ok()?;
    for k in [1.0, 2.0, 4.0, 8.0, TIE_ULPS] {
        for sign in [1.0, -1.0] {
            let mut nudged = p.clone();
            nudged.min_snr = p.min_snr + sign * k * f64::EPSILON * p.min_snr.abs();
            if peaks_from_cwt(cwt, &nudged) == other {
                return Some(sign * k);
            }
        }
    }
    None
}

/// `noise_window` of the kernel: `window_size` samples starting `window_size / 2` before `col`,
/// clipped to the row.
fn noise_window(col: usize, len: usize, window_size: usize) -> std::ops::Range<usize> {
    col.saturating_sub(window_size / 2)..(col + window_size / 2 + window_size % 2).min(len)
}

/// `scipy.stats.scoreatpercentile` of a sorted window: the rank, or a weighted mean of the two
/// nearest ranks.
fn score_at_percentile(sorted: &[f64], per: f64) -> f64 {
    let idx = per / 100.0 * (sorted.len() - 1) as f64;
    let i = idx as usize;
    if i as f64 == idx {
        sorted[i]
    } else {
        let (w_low, w_high) = ((i + 1) as f64 - idx, idx - i as f64);
        (sorted[i] * w_low + sorted[i + 1] * w_high) / (w_low + w_high)
    }
}

#[derive(Default)]
struct Tally {
    compared: usize,
    agreed: usize,
    accepted_ties: usize,
    failed: usize,
}

#[test]
fn fast_and_reference_paths_give_scipys_peaks() {
    check_against_scipy(&fixture_path("scipy_cwt.bin"), 5000);
}

/// 256 to 8 192 samples: where the FFT route serves realistic spectra.
#[test]
fn long_spectra_give_scipys_peaks_on_every_route() {
    check_against_scipy(&fixture_path("scipy_cwt_long.bin"), 90);
}

/// Every vector of the fixture file at `path` through every transform and the reference path;
/// each disagreement with scipy printed and explained, or the test fails.
fn check_against_scipy(path: &str, at_least: usize) {
    let fx = load(path);
    let proven = tie_cases();
    println!(
        "fixtures: {} vectors from scipy {} / numpy {}",
        fx.records.len(),
        fx.header["scipy"],
        fx.header["numpy"]
    );
    let fast = fast_peaks(&fx);
    let mut tallies: Vec<Tally> = fx.classes.iter().map(|_| Tally::default()).collect();
    for (i, r) in fx.records.iter().enumerate() {
        let reference = find_peaks_cwt(&r.values, &fx.params[r.param_set]).unwrap();
        let t = &mut tallies[r.class];
        t.compared += 1;
        if reference == r.peaks && fast[i].iter().all(|f| *f == r.peaks) {
            t.agreed += 1;
        } else if judge_disagreement(&fx, i, &reference, &fast[i], &proven) {
            t.accepted_ties += 1;
        } else {
            t.failed += 1;
        }
    }
    println!("{:<12} {:>9} {:>9} {:>8} {:>7}", "class", "compared", "agreed", "ties", "failed");
    for (c, t) in fx.classes.iter().zip(&tallies) {
        println!("{:<12} {:>9} {:>9} {:>8} {:>7}", c.name, t.compared, t.agreed, t.accepted_ties, t.failed);
    }
    let compared: usize = tallies.iter().map(|t| t.compared).sum();
    let failed: usize = tallies.iter().map(|t| t.failed).sum();
    assert!(compared > 0, "no vectors compared in {path}");
    assert!(compared >= at_least || std::env::var("CWT_FIXTURES").is_ok(), "{compared} vectors in {path}");
    assert_eq!(failed, 0, "{failed} of {compared} vectors disagree with scipy beyond a tie");
}

/// Every record's peaks by every transform of [`TRANSFORMS`] (`[record][transform]`), the
/// records grouped by (length, parameter set) so the fast path runs real batches.
fn fast_peaks(fx: &Fixtures) -> Vec<Vec<Vec<usize>>> {
    let mut groups: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
    for (i, r) in fx.records.iter().enumerate() {
        groups.entry((r.values.len(), r.param_set)).or_default().push(i);
    }
    let mut fast: Vec<Vec<Vec<usize>>> = vec![vec![Vec::new(); TRANSFORMS.len()]; fx.records.len()];
    for ((len, ps), members) in &groups {
        let spectra: Vec<f64> = members.iter().flat_map(|&i| fx.records[i].values.iter().copied()).collect();
        for (t, (_, transform)) in TRANSFORMS.iter().enumerate() {
            let finder = PeakFinder::with_transform(*len, &fx.params[*ps], *transform).unwrap();
            let mut scratch = finder.new_scratch();
            finder.find_batch(&spectra, &mut scratch, |k, peaks| {
                fast[members[k]][t] = peaks.iter().map(|&c| c as usize).collect();
            });
        }
    }
    fast
}

/// Whether record `i`, where scipy, the reference and the fast paths (`fast`) do not all
/// agree, disagrees only by rounding ties (printed with the evidence either way).
fn judge_disagreement(
    fx: &Fixtures,
    i: usize,
    reference: &[usize],
    fast: &[Vec<usize>],
    proven: &[TieCase],
) -> bool {
    let r = &fx.records[i];
    let class = &fx.classes[r.class];
    // Proven by scipy's own CWT in the_open_tie_prone_vectors_differ_from_scipy_only_by_rounding_ties.
    if let Some(case) = proven.iter().find(|c| c.x == r.values && c.scipy_peaks == r.peaks) {
        let fast_is_reference = fast.iter().all(|f| f == reference);
        println!(
            "{} vector {i} (class {}, length {}): {} vector {} of the tie cases, proven a rounding tie against scipy's CWT",
            if fast_is_reference { "ACCEPTED TIE" } else { "DISAGREEMENT" },
            class.name,
            r.values.len(),
            case.source,
            case.index
        );
        return fast_is_reference;
    }
    let params = &fx.params[r.param_set];
    let cwt = cwt_matrix(&r.values, params).unwrap();
    let scales = term_scales(&r.values, &params.widths);
    let mut ok = class.tie_prone;
    let mut report = Vec::new();
    let others = TRANSFORMS.iter().zip(fast).map(|((name, _), peaks)| (*name, peaks));
    for (name, other) in [("scipy", &r.peaks)].into_iter().chain(others) {
        if *other != reference {
            let (tie, line) = explain(&cwt, &scales, params, name, other, reference);
            ok &= tie;
            report.extend((!line.is_empty()).then_some(line));
        }
    }
    println!(
        "{} vector {i} (class {}, parameters {}, length {}): scipy {:?}, reference {:?}, auto/matrices/fft/direct {:?}",
        if ok { "ACCEPTED TIE" } else { "DISAGREEMENT" },
        class.name,
        fx.header["param_sets"][r.param_set]["name"],
        r.values.len(),
        r.peaks,
        reference,
        fast,
    );
    for line in report {
        println!("{line}");
    }
    println!("  vector: {:?}", r.values);
    ok
}

/// Explain `name`'s answer `other` from the reference CWT: near ties that lead from the
/// reference's answer to it. Returns whether it is a tie, and the lines that say why.
fn explain(
    cwt: &[Vec<f64>],
    scales: &[Vec<f64>],
    params: &CwtParams,
    name: &str,
    other: &[usize],
    reference: &[usize],
) -> (bool, String) {
    let (near, closest) = near_ties(cwt, scales, Some(&differing(other, reference)));
    // A flip far from the differing columns can still move a ridge line onto them.
    let explained = explained_by_ties(cwt, &near, params, other)
        .or_else(|| explained_by_ties(cwt, &near_ties(cwt, scales, None).0, params, other));
    if let Some(ties) = explained {
        let lines: Vec<String> = ties
            .iter()
            .map(|n| {
                format!(
                    "  reference → {name}: flipping cwt[{}][{}] vs cwt[{}][{}] ({:.2} ulps of Σ|w·x|, relative {:.3e})",
                    n.row, n.col, n.row, n.col + 1, n.ulps, n.relative
                )
            })
            .collect();
        return (true, lines.join("\n"));
    }
    if let Some(k) = explained_by_snr_tie(cwt, params, other) {
        let line = format!(
            "  reference → {name}: a signal-to-noise ratio within {:.0} ulps of min_snr {} (moving min_snr by {k:+} ulps gives {name}'s peaks)",
            k.abs(),
            params.min_snr
        );
        return (true, line);
    }
    // Several ties at once (a flat or mirrored region) are beyond the flip search; the nearest
    // comparison by the differing columns still has to be a tie.
    let tie = closest.filter(|n| n.ulps <= TIE_ULPS);
    let line = format!(
        "  reference → {name}: not one or two flips; nearest comparison by the differing columns: {}",
        closest.map_or("none".into(), |n| format!(
            "cwt[{}][{}] vs cwt[{}][{}], {:.2} ulps of Σ|w·x|, relative {:.3e}",
            n.row,
            n.col,
            n.row,
            n.col + 1,
            n.ulps,
            n.relative
        ))
    );
    (tie.is_some(), line)
}

#[test]
fn linspace_matches_numpy_bits_on_fixture_cases() {
    let fx = load(&fixture_path("scipy_cwt.bin"));
    for case in fx.header["linspace"].as_array().unwrap() {
        let (a, b, n) = (exact(&case[0]), exact(&case[1]), case[2].as_u64().unwrap());
        let ours: Vec<u64> = linspace(a, b, n as usize).iter().map(|v| v.to_bits()).collect();
        let numpy: Vec<u64> = case[3].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
        assert_eq!(ours, numpy, "np.linspace({a:e}, {b:e}, {n})");
    }
}

/// The 9 tie-prone vectors (7 steps, 2 palindromes) of the 100 000-vector run that the flip
/// search above could not explain, one palindrome of 8 192 samples from a long-spectrum run, the
/// 2 step vectors of a 4 000-vector run at 129, 160 and 200 samples, and case 1585 of the Python
/// package's sweep (1 369 integers 0..3, widths 1..6, `window_size` 31:
/// scipy has a peak at 640, we do not), each with scipy's own CWT matrix
/// (tests/reference/cwt_tie_cases.py). In case 1585 row 0's values at 640 and 641 are equal in exact
/// arithmetic (samples 635..=645 are a palindrome and the width-1 wavelet is symmetric): scipy's
/// sums come out equal (no relative maximum), ours 2 ulps apart (one). They part in the
/// wavelet: numpy's vectorised `exp` (its AVX-512 loop) rounds some taps 1–2 ulps away from the
/// C library's, which ours use; where numpy takes the C library's `exp`, scipy answers ours.
/// For each: the fast path answers what the reference answers (tie-prone spectra take the
/// reference's sums); our ridge stage on scipy's matrix gives scipy's peaks, so the two differ only
/// in the CWT's rounding; every entry of the two matrices is within `TIE_ULPS` of `Σ|w·x|`; and
/// every relative maximum that differs is decided by a comparison of two values equal within
/// `TIE_ULPS` — printed with its margin on both sides. A step or a mirror makes neighbouring
/// outputs equal in exact arithmetic, one such comparison per row, so several rows flip at once,
/// more than the search tries. Where no relative maximum differs (the palindrome of 8 192 samples:
/// two mirrored maxima in each other's noise window), the signal-to-noise test decides, and its
/// margin is printed too.
#[test]
fn the_open_tie_prone_vectors_differ_from_scipy_only_by_rounding_ties() {
    let cases = tie_cases();
    assert_eq!(cases.len(), 13);
    for TieCase { source, index, class, params, x, scipy_peaks, theirs } in &cases {
        let (len, rows) = (x.len(), theirs.len());
        let ours = cwt_matrix(x, params).unwrap();
        let reference = find_peaks_cwt(x, params).unwrap();
        let finder = PeakFinder::new(len, params).unwrap();
        let fast: Vec<usize> =
            finder.find(x, &mut finder.new_scratch()).iter().map(|&c| c as usize).collect();
        println!(
            "{source} vector {index} ({class}, {len} samples): scipy {scipy_peaks:?}, reference {reference:?}, fast {fast:?}"
        );
        assert_eq!(fast, reference, "tie-prone spectra take the reference's sums");
        let p = params.validate(len).unwrap();
        assert_eq!(&peaks_from_cwt(theirs, &p), scipy_peaks, "our ridge stage on scipy's CWT");
        let scales = term_scales(x, &params.widths);
        let ulps = |a: f64, b: f64, s: f64| (a - b).abs() / (f64::EPSILON * s.max(f64::MIN_POSITIVE));
        let mut worst = 0.0f64;
        for ((o, t), s) in ours.iter().zip(theirs).zip(&scales) {
            for ((&a, &b), &s) in o.iter().zip(t).zip(s) {
                worst = worst.max(ulps(a, b, s));
            }
        }
        println!("  largest difference between the two CWT matrices: {worst:.2} ulps of Σ|w·x|");
        assert!(worst <= TIE_ULPS);
        let is_max = |m: &[f64], c: usize| m[c] > m[c - 1] && m[c] > m[c + 1];
        let mut maxima_differ = false;
        for row in 0..rows {
            for c in 1..len - 1 {
                let (o, t, s) = (&ours[row], &theirs[row], &scales[row]);
                if is_max(o, c) == is_max(t, c) {
                    continue;
                }
                maxima_differ = true;
                // The neighbour comparison that goes the other way: its margin on each side.
                let flipped: Vec<usize> =
                    [c - 1, c + 1].into_iter().filter(|&n| (o[c] > o[n]) != (t[c] > t[n])).collect();
                let margins: Vec<String> = flipped
                    .iter()
                    .map(|&n| {
                        let s = s[c].max(s[n]);
                        format!(
                            "cwt[{row}][{c}] vs cwt[{row}][{n}]: ours {:+.2}, scipy's {:+.2} ulps of Σ|w·x|",
                            (o[c] - o[n]) / (f64::EPSILON * s),
                            (t[c] - t[n]) / (f64::EPSILON * s)
                        )
                    })
                    .collect();
                println!(
                    "  relative maximum at row {row}, column {c}: {} in scipy's, {} in ours; {}",
                    is_max(t, c),
                    is_max(o, c),
                    margins.join("; ")
                );
                assert!(!flipped.is_empty());
                for &n in &flipped {
                    let s = s[c].max(s[n]);
                    assert!(ulps(o[c], o[n], s) <= TIE_ULPS && ulps(t[c], t[n], s) <= TIE_ULPS);
                }
            }
        }
        // Same relative maxima, same ridge lines: only the signal-to-noise test can decide. The
        // ratio at each differing column (lines ending in row 0), on both matrices.
        if !maxima_differ {
            let only = differing(&reference, scipy_peaks);
            for c in only {
                // scipy rejects when |signal| < min_snr · |noise|; its margin, counted in ulps of
                // the signal's Σ|w·x| (the scale of both sums' rounding), and the ratio itself.
                let test = |m: &[Vec<f64>]| {
                    let mut window = m[0][noise_window(c, len, p.window_size)].to_vec();
                    window.sort_by(f64::total_cmp);
                    let (signal, noise) = (m[0][c], score_at_percentile(&window, p.noise_perc));
                    let margin = (signal.abs() - p.min_snr * noise.abs()) / (f64::EPSILON * scales[0][c]);
                    ((signal / noise).abs(), margin)
                };
                let ((a, margin_a), (b, margin_b)) = (test(&ours), test(theirs));
                println!(
                    "  column {c}: |signal / noise| vs min_snr {}: ours {a:.17} ({margin_a:+.2} ulps of Σ|w·x|), scipy's {b:.17} ({margin_b:+.2} ulps)",
                    p.min_snr
                );
                assert!(margin_a.abs() <= TIE_ULPS && margin_b.abs() <= TIE_ULPS);
            }
        }
    }
}

/// One vector of tests/reference/cwt_tie_cases.py: where it comes from (a differential run or the Python
/// sweep), its index there, its class and parameters, its values, scipy's peaks and scipy's CWT
/// matrix.
struct TieCase {
    source: String,
    index: u64,
    class: String,
    params: CwtParams,
    x: Vec<f64>,
    scipy_peaks: Vec<usize>,
    theirs: Vec<Vec<f64>>,
}

fn tie_cases() -> Vec<TieCase> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cwt/tie_cases.bin");
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(&bytes[..8], b"CWTTIE01", "{path}: not a tie-case file");
    let mut r = Reader { bytes: &bytes, at: 8 };
    let header_len = u32::from_le_bytes(r.take(4).try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(r.take(header_len)).unwrap();
    let mut f64s = |n: usize| -> Vec<f64> {
        r.take(8 * n).chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap())).collect()
    };
    let number = |v: &serde_json::Value| v.as_u64().unwrap() as usize;
    // A differential run's case names one of the fixtures' parameter sets; a sweep case carries
    // its own parameters.
    let param_sets = load(&format!("{}/tests/fixtures/cwt/scipy_cwt.bin", env!("CARGO_MANIFEST_DIR"))).params;
    header["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|case| {
            let (len, rows) = (number(&case["len"]), number(&case["rows"]));
            TieCase {
                source: case["source"].as_str().unwrap().into(),
                index: number(&case["index"]) as u64,
                class: case["class"].as_str().unwrap().into(),
                params: match case["param_set"].as_u64() {
                    Some(set) => param_sets[set as usize].clone(),
                    None => params_of(&case["params"]),
                },
                x: f64s(len),
                scipy_peaks: case["peaks"].as_array().unwrap().iter().map(number).collect(),
                theirs: f64s(rows * len).chunks_exact(len).map(<[f64]>::to_vec).collect(),
            }
        })
        .collect()
}
