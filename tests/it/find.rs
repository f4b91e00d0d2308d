//! `usid-peaks find`: the specification of the product, run for real — the binary, mpirun with
//! several ranks, scipy and pyUSID as the references.

#[cfg(feature = "mpi")]
use crate::util::mpirun;
use crate::util::{self, generate, ok, run, s, summary, BIN, RAW};

use std::path::Path;
use usid_peaks::compute::{thread_pool, Binding};

/// Peak_Indices and Peak_Count of a results group.
fn results(file: &Path, group: &str) -> (ndarray::Array2<i32>, ndarray::Array2<u32>) {
    let f = hdf5::File::open(file).expect("open results file");
    let g = f.group(group).expect("results group");
    let idx = g.dataset("Peak_Indices").unwrap().read_2d::<i32>().unwrap();
    let cnt = g.dataset("Peak_Count").unwrap().read_2d::<u32>().unwrap();
    (idx, cnt)
}

#[test]
fn every_pixel_equals_scipy_and_pyusid_reads_the_results_as_main_datasets() {
    let dir = tempfile::tempdir().unwrap();
    let file = generate(dir.path(), "map.h5", 24, 20, 7);
    let s1 = summary(&ok(&["find", s(&file), "--json", "--quiet"]));
    let group = s1["group"].as_str().unwrap().to_string();
    assert_eq!(group, format!("{RAW}-Peak_Finding_000"));

    let cmp = util::scipy_compare(&file, &group);
    assert_eq!(cmp["pixels"], 480);
    assert_eq!(cmp["mismatches"], 0, "pixels differing from scipy: {}", cmp["first_mismatches"]);

    for name in ["Peak_Indices", "Peak_Frequencies", "Peak_Count"] {
        let v = util::check(&file, &format!("{group}/{name}"), &["--ndim"]);
        assert_eq!(v["is_main"], true, "{name} is not a USID main dataset for pyUSID: {v}");
        let nd = v["n_dim_shape"].as_array().expect("n-dim shape");
        assert_eq!(nd[0], 24, "{name}: {v}");
        assert_eq!(nd[1], 20, "{name}: {v}");
    }
    // The frequencies are the source's spectroscopic values at the peak indices, in its units.
    let v = util::check(&file, &format!("{group}/Peak_Frequencies"), &[]);
    assert_eq!(v["units"], "Hz");
    let f = hdf5::File::open(&file).unwrap();
    let axis =
        f.dataset("/Measurement_000/Channel_000/Spectroscopic_Values").unwrap().read_2d::<f64>().unwrap();
    let freqs = f.group(&group).unwrap().dataset("Peak_Frequencies").unwrap().read_2d::<f64>().unwrap();
    let (idx, cnt) = results(&file, &group);
    for ((i, j), &p) in idx.indexed_iter() {
        if p >= 0 {
            assert_eq!(freqs[[i, j]], axis[[0, p as usize]]);
        } else {
            assert!(freqs[[i, j]].is_nan());
            assert!(j as u32 >= cnt[[i, 0]]);
        }
    }
    let completed =
        f.group(&group).unwrap().dataset("completed_positions").unwrap().read_raw::<u8>().unwrap();
    assert_eq!(completed, vec![1u8; 480]);
}

#[test]
#[cfg(feature = "mpi")]
fn results_do_not_depend_on_ranks_threads_binding_or_batch_size() {
    let dir = tempfile::tempdir().unwrap();
    let file = generate(dir.path(), "map.h5", 20, 31, 3);
    let out = |name: &str| dir.path().join(name);
    let group = format!("{RAW}-Peak_Finding_000");
    ok(&["find", s(&file), "-q", "-o", s(&out("default.h5"))]);
    ok(&["find", s(&file), "-q", "--threads", "1", "-o", s(&out("t1.h5"))]);
    // 1 MiB of rows in flight: batches of a few hundred rows.
    ok(&["find", s(&file), "-q", "--threads", "2", "--max-mem", "1", "-o", s(&out("small.h5"))]);
    ok(&["find", s(&file), "-q", "--threads", "2", "--bind-threads", "none", "-o", s(&out("unbound.h5"))]);
    mpirun(2, &["find", s(&file), "-q", "-o", s(&out("np2.h5"))]);
    mpirun(3, &["find", s(&file), "-q", "--threads", "1", "--max-mem", "1", "-o", s(&out("np3.h5"))]);
    let reference = results(&out("default.h5"), &group);
    for name in ["t1.h5", "small.h5", "unbound.h5", "np2.h5", "np3.h5"] {
        assert_eq!(results(&out(name), &group), reference, "{name} differs from the single-rank run");
    }
}

#[test]
#[cfg(feature = "mpi")]
fn mpi_ranks_are_reported_and_only_rank_zero_writes() {
    let dir = tempfile::tempdir().unwrap();
    let file = generate(dir.path(), "map.h5", 6, 5, 1);
    let out = mpirun(3, &["find", s(&file), "--json", "--quiet"]);
    let lines: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    assert_eq!(lines.len(), 1, "one summary, from rank 0: {lines:?}");
    let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(v["ranks"], 3);
    assert_eq!(v["nodes"], 1, "3 ranks on this one host");
    let f = hdf5::File::open(&file).unwrap();
    let groups: Vec<String> = f
        .group("/Measurement_000/Channel_000")
        .unwrap()
        .member_names()
        .unwrap()
        .into_iter()
        .filter(|m| m.contains("Peak_Finding"))
        .collect();
    assert_eq!(groups, vec!["Raw_Data-Peak_Finding_000".to_string()]);
}

#[test]
fn json_summary_has_the_documented_fields() {
    let dir = tempfile::tempdir().unwrap();
    let file = generate(dir.path(), "map.h5", 8, 8, 2);
    let v = summary(&ok(&["find", s(&file), "--json", "--threads", "2"]));
    for key in [
        "file",
        "group",
        "pixels",
        "peaks",
        "ranks",
        "nodes",
        "threads",
        "threads_bound",
        "seconds_total",
        "seconds_compute",
        "spectra_per_s",
    ] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
    assert_eq!(v["pixels"], 64);
    assert_eq!(v["threads"], 2);
    assert_eq!(v["ranks"], 1);
    assert_eq!(v["nodes"], 1);
    assert!(v["seconds_compute"].as_f64().unwrap() <= v["seconds_total"].as_f64().unwrap());
    let (_, cnt) = results(&file, v["group"].as_str().unwrap());
    assert_eq!(v["peaks"].as_u64().unwrap(), cnt.iter().map(|&c| c as u64).sum::<u64>());
}

#[test]
fn threads_are_bound_as_the_library_decides_and_never_with_bind_threads_none() {
    let dir = tempfile::tempdir().unwrap();
    let file = generate(dir.path(), "map.h5", 8, 8, 2);
    // Bound where this process may run on exactly 2 CPUs (pool.rs's tests hold the rule itself).
    let expected = thread_pool(2, Binding::Auto, 1).unwrap().bound();
    let auto = summary(&ok(&["find", s(&file), "--json", "-q", "--threads", "2", "--force"]));
    assert_eq!(auto["threads_bound"], expected, "{auto}");
    let none = ["find", s(&file), "--json", "-q", "--threads", "2", "--force", "--bind-threads", "none"];
    assert_eq!(summary(&ok(&none))["threads_bound"], false);
    let one = summary(&ok(&["find", s(&file), "--json", "-q", "--threads", "1", "--force"]));
    assert_eq!(one["threads_bound"], false, "one thread is never bound");
    // Reusing a complete group computes nothing, so binds nothing.
    assert_eq!(summary(&ok(&["find", s(&file), "--json", "-q"]))["threads_bound"], false);
}

#[test]
fn a_complete_group_with_the_same_parameters_is_reused_and_force_makes_a_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let file = generate(dir.path(), "map.h5", 8, 6, 4);
    let first = summary(&ok(&["find", s(&file), "--json", "-q"]));
    let again = ok(&["find", s(&file), "--json"]);
    let v = summary(&again);
    assert_eq!(v["reused"], true);
    assert_eq!(v["group"], first["group"]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("reusing"));
    // Other parameters are other results.
    let other = summary(&ok(&["find", s(&file), "--json", "-q", "--min-snr", "2"]));
    assert_eq!(other["group"], format!("{RAW}-Peak_Finding_001"));
    let forced = summary(&ok(&["find", s(&file), "--json", "-q", "--force"]));
    assert_eq!(forced["reused"], false);
    assert_eq!(forced["group"], format!("{RAW}-Peak_Finding_002"));
    assert_eq!(
        results(&file, first["group"].as_str().unwrap()),
        results(&file, forced["group"].as_str().unwrap())
    );
}

#[test]
fn groups_past_999_stay_results_for_reuse_selection_inspect_and_plot() {
    let dir = tempfile::tempdir().unwrap();
    let file = generate(dir.path(), "map.h5", 6, 5, 3);
    ok(&["find", s(&file), "-q"]);
    {
        // As if 999 runs had been forced before this one.
        let f = hdf5::File::open_rw(&file).unwrap();
        let channel = f.group(crate::util::CHANNEL).unwrap();
        channel.relink("Raw_Data-Peak_Finding_000", "Raw_Data-Peak_Finding_999").unwrap();
    }
    let forced = summary(&ok(&["find", s(&file), "--json", "-q", "--force"]));
    assert_eq!(forced["group"], format!("{RAW}-Peak_Finding_1000"));
    // The file still has one source dataset (the results' main datasets are not data), and the
    // newest complete group with these parameters is _1000.
    let again = summary(&ok(&["find", s(&file), "--json", "-q"]));
    assert_eq!((again["reused"].clone(), again["group"].clone()), (true.into(), forced["group"].clone()));
    ok(&["pixel", s(&file), "--index", "3"]);
    let listed: serde_json::Value =
        serde_json::from_slice(&ok(&["inspect", s(&file), "--json"]).stdout).unwrap();
    let groups: Vec<(&str, bool)> = listed["results_groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["path"].as_str().unwrap(), g["complete"].as_bool().unwrap()))
        .collect();
    let (g999, g1000) = (format!("{RAW}-Peak_Finding_999"), format!("{RAW}-Peak_Finding_1000"));
    assert_eq!(groups, [(g999.as_str(), true), (g1000.as_str(), true)], "by index, not by text");
    // plot --map draws the newest: _1000 (named in the title).
    let svg = dir.path().join("map.svg");
    ok(&["plot", s(&file), "--map", "-o", s(&svg)]);
    assert!(std::fs::read_to_string(&svg).unwrap().contains("Raw_Data-Peak_Finding_1000"));
}

#[test]
fn output_file_gets_the_group_at_the_source_path_with_copied_position_datasets() {
    let dir = tempfile::tempdir().unwrap();
    let file = generate(dir.path(), "map.h5", 7, 9, 5);
    let before = std::fs::read(&file).unwrap();
    let out = dir.path().join("results.h5");
    let v = summary(&ok(&["find", s(&file), "--json", "-q", "-o", s(&out)]));
    assert_eq!(std::fs::read(&file).unwrap(), before, "the input must not change with --output");
    let group = v["group"].as_str().unwrap();
    let p = util::check(&out, &format!("{group}/Peak_Indices"), &["--ndim"]);
    assert_eq!(p["is_main"], true, "{p}");
    let names: Vec<&str> = p["pos_dims"].as_array().unwrap().iter().map(|d| d[0].as_str().unwrap()).collect();
    assert_eq!(names, ["Y", "X"], "the source's position dims, as pyUSID lists them: {p}");
    // A second dataset's results can go to the same output file.
    let v2 = summary(&ok(&["find", s(&file), "--json", "-q", "-o", s(&out), "--min-snr", "3"]));
    assert_eq!(v2["group"], format!("{RAW}-Peak_Finding_001"));
}

#[test]
fn a_killed_run_resumes_without_redoing_finished_batches() {
    let dir = tempfile::tempdir().unwrap();
    let file = generate(dir.path(), "map.h5", 160, 160, 9);
    let clean = dir.path().join("clean.h5");
    ok(&["find", s(&file), "-q", "-o", s(&clean)]);

    let target = dir.path().join("resumed.h5");
    // Tiny batches on one thread: the run checkpoints often and lasts long enough to be killed.
    let args = ["find", s(&file), "--json", "-q", "--threads", "1", "--max-mem", "1", "-o", s(&target)];
    let mut child = crate::util::command(BIN).args(args).spawn().unwrap();
    let checkpoint = util::wait_for_batches(&mut child, dir.path());
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!target.exists(), "a killed run must not leave a results file");
    assert!(checkpoint.exists());

    let v = summary(&ok(&args));
    let resumed = v["resumed"].as_u64().unwrap();
    let computed = v["computed"].as_u64().unwrap();
    assert!(resumed > 0, "nothing was resumed: {v}");
    assert_eq!(resumed + computed, 160 * 160, "{v}");
    assert!(!checkpoint.exists(), "the checkpoint is removed once the results are written");
    let group = v["group"].as_str().unwrap();
    assert_eq!(results(&target, group), results(&clean, group));
}

#[test]
#[cfg(not(feature = "mpi"))]
fn a_build_without_mpi_refuses_an_mpi_launch_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = generate(dir.path(), "map.h5", 4, 4, 1);
    let Ok(out) = util::mpirun_command(2).args([BIN, "find", s(&file)]).output() else {
        util::missing("mpirun (OpenMPI)");
    };
    assert_eq!(out.status.code(), Some(6));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("built without MPI"), "{err}");
}

#[test]
fn threads_results_do_not_depend_on_thread_count_or_batch_size() {
    let dir = tempfile::tempdir().unwrap();
    let file = generate(dir.path(), "map.h5", 12, 17, 8);
    let group = format!("{RAW}-Peak_Finding_000");
    let a = dir.path().join("a.h5");
    let b = dir.path().join("b.h5");
    ok(&["find", s(&file), "-q", "--threads", "1", "-o", s(&a)]);
    ok(&["find", s(&file), "-q", "--threads", "3", "--max-mem", "1", "-o", s(&b)]);
    assert_eq!(results(&a, &group), results(&b, &group));
}

#[test]
fn pixel_row_and_column_follow_the_fastest_position_dimension_on_a_non_square_map() {
    let dir = tempfile::tempdir().unwrap();
    let file = generate(dir.path(), "map.h5", 4, 8, 6);
    // index = col + row * n_cols, with X (8 columns) varying fastest.
    let last_in_row0: serde_json::Value =
        serde_json::from_slice(&ok(&["pixel", s(&file), "--pixel", "0,7", "--json"]).stdout).unwrap();
    assert_eq!(last_in_row0["index"], 7);
    let by_index: serde_json::Value =
        serde_json::from_slice(&ok(&["pixel", s(&file), "--index", "25", "--json"]).stdout).unwrap();
    assert_eq!((by_index["row"].clone(), by_index["col"].clone()), (3.into(), 1.into()));
    let outside = run(&["pixel", s(&file), "--pixel", "0,8"]);
    assert_eq!(outside.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&outside.stderr).contains("8 columns along X"));
}

/// `h5repack` the main dataset of `plain` into `name`: chunks of `chunk_rows` × all bins,
/// shuffled and gzip-compressed, as instrument files and pyUSID's `compression='gzip'` store it.
fn gzip_copy(plain: &Path, name: &str, chunk_rows: usize) -> std::path::PathBuf {
    let out = plain.with_file_name(name);
    let bins = hdf5::File::open(plain).unwrap().dataset(RAW).unwrap().shape()[1];
    let layout = format!("{RAW}:CHUNK={chunk_rows}x{bins}");
    let status = crate::util::command("h5repack")
        .args(["-l", &layout, "-f", &format!("{RAW}:SHUF"), "-f", &format!("{RAW}:GZIP=4")])
        .args([plain, &out])
        .status()
        .expect("h5repack not found: run scripts/bootstrap.sh --tests (hdf5-tools)");
    assert!(status.success());
    out
}

#[test]
fn a_gzip_chunked_map_gives_the_plain_maps_results_on_every_layout() {
    let dir = tempfile::tempdir().unwrap();
    let plain = generate(dir.path(), "map.h5", 20, 31, 5);
    // 37-row chunks: batches and rank slices both start and end inside chunks.
    let gz = gzip_copy(&plain, "gz.h5", 37);
    let out = |name: &str| dir.path().join(name);
    let group = format!("{RAW}-Peak_Finding_000");
    ok(&["find", s(&plain), "-q", "-o", s(&out("plain.h5"))]);
    ok(&["find", s(&gz), "-q", "-o", s(&out("gz.h5"))]);
    ok(&["find", s(&gz), "-q", "--threads", "3", "--max-mem", "1", "-o", s(&out("gz-small.h5"))]);
    #[cfg(feature = "mpi")]
    mpirun(3, &["find", s(&gz), "-q", "--threads", "1", "--max-mem", "1", "-o", s(&out("gz-np3.h5"))]);
    let reference = results(&out("plain.h5"), &group);
    let runs: &[&str] = if cfg!(feature = "mpi") {
        &["gz.h5", "gz-small.h5", "gz-np3.h5"]
    } else {
        &["gz.h5", "gz-small.h5"]
    };
    for name in runs {
        assert_eq!(results(&out(name), &group), reference, "{name} differs from the plain map's run");
    }
}

#[test]
fn a_corrupt_gzip_chunk_is_one_clear_line_and_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let plain = generate(dir.path(), "map.h5", 8, 10, 2);
    let gz = gzip_copy(&plain, "gz.h5", 16);
    // Replace the chunk at row 48 with bytes that start like zlib data and are not.
    let fix = crate::util::command(util::python())
        .args(["-c", "import h5py,sys; d=h5py.File(sys.argv[1],'r+')[sys.argv[2]]; d.id.write_direct_chunk((48,0), b'\\x78\\x9c\\xff\\xff\\x00\\x13\\x37')"])
        .args([s(&gz), RAW])
        .env("HDF5_USE_FILE_LOCKING", "FALSE")
        .output()
        .unwrap();
    assert!(fix.status.success(), "{}", String::from_utf8_lossy(&fix.stderr));
    let out = run(&["find", s(&gz), "-q", "-o", s(&dir.path().join("out.h5"))]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{RAW}: chunk at row 48, column 0 is corrupt")), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}
