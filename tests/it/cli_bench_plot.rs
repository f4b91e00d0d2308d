//! `usid-peaks bench` and `usid-peaks plot`: the files they promise (CSV/JSON columns, pictures of
//! the requested size and format), the identical-results check, and one-line failures.
use crate::util::{assert_one_line_error, ok, run, s};
use std::path::{Path, PathBuf};

/// A 16 x 16 map in a fresh folder.
fn small_map() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("map.h5");
    ok(&["generate", s(&file), "--rows", "16", "--cols", "16"]);
    (dir, file)
}

/// Width and height from a PNG's IHDR chunk, after checking the signature.
fn png_size(path: &Path) -> (u32, u32) {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[..8], b"\x89PNG\r\n\x1a\n", "{} is not a PNG", path.display());
    assert_eq!(&b[12..16], b"IHDR");
    let be = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    (be(16), be(20))
}

#[test]
fn bench_writes_csv_json_and_png_with_one_row_per_thread_count_all_identical() {
    let (dir, file) = small_map();
    let out = dir.path().join("b");
    let run = ok(&["bench", s(&file), "--threads", "1,2", "--repeat", "3", "--out", s(&out)]);
    let table = String::from_utf8_lossy(&run.stdout);
    assert!(table.contains("speed-up") && table.contains("efficiency"), "{table}");

    let csv = std::fs::read_to_string(out.join("bench.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("kind,workers,seconds,seconds_min,seconds_max,spectra_per_s,speedup,efficiency,identical")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 2);
    for (row, n) in rows.iter().zip(["1", "2"]) {
        assert_eq!((row[0], row[1], row[8]), ("threads", n, "true"), "{row:?}");
        assert!(row[2].parse::<f64>().unwrap() > 0.0);
    }
    assert_eq!(rows[0][6], "1.0000", "1 thread is its own baseline");

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("bench.json")).unwrap()).unwrap();
    assert_eq!(json["identical"], true);
    assert_eq!(json["pixels"], 256);
    let rows = json["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for row in rows {
        // Every timed run; the median is the middle one.
        let mut times: Vec<f64> =
            row["times"].as_array().unwrap().iter().map(|t| t.as_f64().unwrap()).collect();
        assert_eq!(times.len(), 3, "{row}");
        times.sort_by(f64::total_cmp);
        let field = |k: &str| row[k].as_f64().unwrap();
        assert_eq!([field("seconds_min"), field("seconds"), field("seconds_max")], times[..], "{row}");
    }
    assert_eq!(json["bind_threads"], "auto");
    assert_eq!(rows[0]["bound"], false, "one thread is never bound");
    let (w, h) = png_size(&out.join("scaling.png"));
    assert!(w >= 800 && h >= 600, "{w}x{h}");
}

#[test]
fn bench_adds_the_ranks_of_a_ranks_csv_to_its_tables() {
    let (dir, file) = small_map();
    let ranks = dir.path().join("ranks.csv");
    std::fs::write(&ranks, "ranks,seconds,spectra_per_s,identical\n1,2.0,128,true\n2,1.0,256,true\n")
        .unwrap();
    let out = dir.path().join("b");
    ok(&["bench", s(&file), "--threads", "1", "--repeat", "1", "--ranks-csv", s(&ranks), "--out", s(&out)]);
    let csv = std::fs::read_to_string(out.join("bench.csv")).unwrap();
    assert!(
        csv.lines().any(|l| l.starts_with("ranks,2,1.000000,") && l.contains(",2.0000,1.0000,true")),
        "{csv}"
    );
}

#[test]
fn bench_with_bind_threads_none_binds_no_pool_and_says_so() {
    let (dir, file) = small_map();
    let out = dir.path().join("b");
    ok(&["bench", s(&file), "--threads", "2", "--repeat", "1", "--bind-threads", "none", "--out", s(&out)]);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("bench.json")).unwrap()).unwrap();
    assert_eq!(json["bind_threads"], "none");
    assert_eq!(json["rows"][0]["bound"], false, "{json}");
}

#[test]
fn bench_refuses_a_bad_thread_list_or_ranks_csv_in_one_line() {
    let (dir, file) = small_map();
    assert_one_line_error(&run(&["bench", s(&file), "--threads", "1,zero"]), 2, "--threads");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "n,time\n1,2\n").unwrap();
    assert_one_line_error(&run(&["bench", s(&file), "--ranks-csv", s(&bad)]), 2, "ranks and seconds");
}

#[test]
fn plot_pixel_writes_a_png_of_the_requested_size_and_an_svg_when_asked() {
    let (dir, file) = small_map();
    let png = dir.path().join("p.png");
    ok(&["plot", s(&file), "--pixel", "3,5", "-o", s(&png)]);
    assert_eq!(png_size(&png), (1000, 750));
    ok(&["plot", s(&file), "--pixel", "3,5", "-o", s(&png), "--size", "800x600"]);
    assert_eq!(png_size(&png), (800, 600));

    let svg = dir.path().join("p.svg");
    ok(&["plot", s(&file), "--index", "7", "-o", s(&svg)]);
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        text.contains("<svg") && text.contains("width=\"1000\"") && text.contains("Frequency (kHz)"),
        "{text:.300}"
    );
}

#[test]
fn plot_map_draws_the_newest_results_as_png_and_svg() {
    let (dir, file) = small_map();
    ok(&["find", s(&file), "--quiet"]);
    for of in ["frequency", "index", "count"] {
        let png = dir.path().join(format!("{of}.png"));
        ok(&["plot", s(&file), "--map", "--of", of, "-o", s(&png)]);
        assert_eq!(png_size(&png), (1000, 750));
    }
    let svg = dir.path().join("map.SVG");
    ok(&["plot", s(&file), "--map", "-o", s(&svg)]);
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("<svg") && text.contains("X (µm)") && text.contains("Y (µm)"), "{text:.300}");
}

#[test]
fn plot_map_without_results_says_to_run_find_first() {
    let (dir, file) = small_map();
    let out = run(&["plot", s(&file), "--map", "-o", s(&dir.path().join("m.png"))]);
    assert_one_line_error(&out, 3, "run usid-peaks find");
    assert!(!dir.path().join("m.png").exists());
}

#[test]
fn plot_refuses_a_bad_pixel_or_size_in_one_line() {
    let (dir, file) = small_map();
    let png = dir.path().join("p.png");
    assert_one_line_error(&run(&["plot", s(&file), "--pixel", "3;5", "-o", s(&png)]), 2, "ROW,COL");
    assert_one_line_error(&run(&["plot", s(&file), "--pixel", "16,0", "-o", s(&png)]), 2, "outside");
    assert_one_line_error(
        &run(&["plot", s(&file), "--pixel", "0,0", "-o", s(&png), "--size", "10x10"]),
        2,
        "--size",
    );
    assert!(!png.exists());
}

#[test]
fn plot_map_draws_results_written_to_another_file_and_inspect_lists_them() {
    let (dir, map) = small_map();
    let out = dir.path().join("results.h5");
    ok(&["find", s(&map), "-q", "-o", s(&out)]);
    // The output file alone: it holds no source dataset, so its newest complete group is drawn.
    let a = dir.path().join("a.png");
    ok(&["plot", s(&out), "--map", "-o", s(&a)]);
    assert_eq!(png_size(&a), (1000, 750));
    // The source with --results: the same group, the same picture.
    let b = dir.path().join("b.png");
    ok(&["plot", s(&map), "--map", "--results", s(&out), "-o", s(&b)]);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    // The source alone has no results: the line says where they may be.
    assert_one_line_error(&run(&["plot", s(&map), "--map", "-o", s(&b)]), 3, "--results");
    // Results of another map are refused.
    let other = dir.path().join("other.h5");
    ok(&["generate", s(&other), "--rows", "4", "--cols", "4"]);
    assert_one_line_error(
        &run(&["plot", s(&other), "--map", "--results", s(&out), "-o", s(&b)]),
        3,
        "has 256 pixels but the source dataset has 16",
    );
    // inspect of the results file lists the group, complete, with its parameters.
    let text = String::from_utf8(ok(&["inspect", s(&out)]).stdout).unwrap();
    assert!(
        text.contains("Raw_Data-Peak_Finding_000  complete, of /Measurement_000/Channel_000/Raw_Data"),
        "{text}"
    );
    assert!(text.contains("widths=[20.0,"), "{text}");
    assert!(text.contains("along=Frequency"), "{text}");
}
