//! Equality with scipy: every fixture vector through the fast `PeakFinder` and the reference
//! path, against what `scipy.signal.find_peaks_cwt` returned (scripts/cwt_fixtures.py).
//!
//! The committed set has 5 000 vectors. For a larger run:
//!
//! ```text
//! .venv/bin/python scripts/cwt_fixtures.py --count 100000 --out /tmp/cwt_100k.bin --jobs 2
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

/// The committed fixture `name`, or the file `CWT_FIXTURES` names when it is set.
fn fixture_path(name: &str) -> String {
    std::env::var("CWT_FIXTURES")
        .unwrap_or_else(|_| format!("{}/tests/fixtures/cwt/{name}", env!("CARGO_MANIFEST_DIR")))
}

fn load(path: &str) -> Fixtures {
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
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
    println!(
        "fixtures: {} vectors from scipy {} / numpy {}",
        fx.records.len(),
        fx.header["scipy"],
        fx.header["numpy"]
    );
    // Group by (length, parameter set) so the fast path runs real batches.
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

    let mut tallies: Vec<Tally> = fx.classes.iter().map(|_| Tally::default()).collect();
    for (i, r) in fx.records.iter().enumerate() {
        let params = &fx.params[r.param_set];
        let reference = find_peaks_cwt(&r.values, params).unwrap();
        let t = &mut tallies[r.class];
        t.compared += 1;
        if reference == r.peaks && fast[i].iter().all(|f| *f == r.peaks) {
            t.agreed += 1;
            continue;
        }
        // Explain each disagreement from the reference CWT: near ties that lead from the
        // reference's answer to scipy's, and to the fast path's.
        let cwt = cwt_matrix(&r.values, params).unwrap();
        let scales = term_scales(&r.values, &params.widths);
        let class = &fx.classes[r.class];
        let mut ok = class.tie_prone;
        let mut report = Vec::new();
        let others = TRANSFORMS.iter().zip(&fast[i]).map(|((name, _), peaks)| (*name, peaks));
        for (name, other) in [("scipy", &r.peaks)].into_iter().chain(others) {
            if *other == reference {
                continue;
            }
            let (near, closest) = near_ties(&cwt, &scales, Some(&differing(other, &reference)));
            // A flip far from the differing columns can still move a ridge line onto them.
            let explained = explained_by_ties(&cwt, &near, params, other)
                .or_else(|| explained_by_ties(&cwt, &near_ties(&cwt, &scales, None).0, params, other));
            match explained {
                Some(ties) => {
                    for n in ties {
                        report.push(format!(
                            "  reference → {name}: flipping cwt[{}][{}] vs cwt[{}][{}] ({:.2} ulps of Σ|w·x|, relative {:.3e})",
                            n.row, n.col, n.row, n.col + 1, n.ulps, n.relative
                        ));
                    }
                }
                None => {
                    // Several ties at once (a flat or mirrored region) are beyond the flip search;
                    // the nearest comparison by the differing columns still has to be a tie.
                    let tie = closest.filter(|n| n.ulps <= TIE_ULPS);
                    ok &= tie.is_some();
                    report.push(format!(
                        "  reference → {name}: not one or two flips; nearest comparison by the differing columns: {}",
                        closest.map_or("none".into(), |n| format!(
                            "cwt[{}][{}] vs cwt[{}][{}], {:.2} ulps of Σ|w·x|, relative {:.3e}",
                            n.row, n.col, n.row, n.col + 1, n.ulps, n.relative
                        ))
                    ));
                }
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
            fast[i],
        );
        for line in report {
            println!("{line}");
        }
        println!("  vector: {:?}", r.values);
        if ok {
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
    assert!(compared >= at_least || std::env::var("CWT_FIXTURES").is_ok(), "{compared} vectors in {path}");
    assert_eq!(failed, 0, "{failed} of {compared} vectors disagree with scipy beyond a tie");
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
