//! `usid-peaks find` on every kind of bad input, option and output: the contract is one line on
//! stderr naming what is wrong and where, the exit code of its class (2 usage, 3 input, 4 output,
//! 5 busy), no panic, and no results group that claims pixels it does not have. Odd but valid
//! data (short spectra, NaN/±inf, integers, descending widths, negative min_snr, window_size 0)
//! is computed, peak for peak, like scipy.
//!
//! The files come from `tests/reference/h5py_write.py bad-inputs`, which also records scipy's answers.
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::sync::OnceLock;

use crate::util::{
    assert_one_line_error as assert_fails, peak_groups, python, reference, run, s, side_files, slow_find,
    succeeded, BIN, CHANNEL, RAW,
};

/// The files of make_bad_inputs.py, made once per test run; tests copy what they change.
fn inputs() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temporary directory");
        reference("h5py_write.py", &["bad-inputs".as_ref(), dir.path().as_os_str()]);
        dir
    })
    .path()
}

fn input(name: &str) -> PathBuf {
    inputs().join(name)
}

/// A private copy of an input, in a fresh directory (side files land beside it).
fn copy_of(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let to = dir.path().join(name);
    std::fs::copy(input(name), &to).expect("copy the input");
    (dir, to)
}

/// `usid-peaks find ARGS`, whatever its exit.
fn find(args: &[&str]) -> Output {
    run(&[&["find"][..], args].concat())
}

fn assert_ok(out: &Output) {
    succeeded(out.clone(), "usid-peaks find");
}

/// Staging files a run leaves behind in `dir`.
fn leftovers(dir: &Path) -> Vec<String> {
    side_files(dir, "").into_iter().filter(|n| n.contains("usid-peaks-staging")).collect()
}

/// Every row's peaks in the newest Peak_Finding group of `file` (the -1 padding removed), after
/// checking the group is complete and its datasets hold one row per pixel.
fn peaks(file: &Path) -> Vec<Vec<i32>> {
    let newest = peak_groups(file).pop().expect("a results group");
    let f = hdf5::File::open(file).expect("open the results");
    let g = f.group(&format!("{CHANNEL}/{newest}")).unwrap();
    let completed = g.dataset("completed_positions").unwrap().read_raw::<u8>().unwrap();
    let n = completed.len();
    assert_eq!(completed, vec![1u8; n], "completed_positions");
    let counts = g.dataset("Peak_Count").unwrap().read_raw::<u32>().unwrap();
    let ind = g.dataset("Peak_Indices").unwrap().read_2d::<i32>().unwrap();
    assert_eq!(ind.nrows(), n);
    let rows: Vec<Vec<i32>> =
        ind.rows().into_iter().map(|r| r.iter().copied().filter(|&p| p >= 0).collect()).collect();
    let lens: Vec<u32> = rows.iter().map(|r| r.len() as u32).collect();
    assert_eq!(counts, lens, "Peak_Count");
    rows
}

fn results_groups(file: &Path) -> usize {
    peak_groups(file).len()
}

#[derive(serde::Deserialize)]
struct Expected {
    file: String,
    args: Vec<String>,
    peaks: Vec<Vec<i32>>,
}

fn expected() -> Vec<Expected> {
    let text = std::fs::read_to_string(input("expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("expected.json parses")
}

/// Run every expected case whose file is in `files` and compare with scipy.
fn compare_with_scipy(files: &[&str]) {
    let cases: Vec<Expected> = expected().into_iter().filter(|c| files.contains(&c.file.as_str())).collect();
    assert!(!cases.is_empty(), "no expected case for {files:?}");
    for case in cases {
        let dir = tempfile::tempdir().unwrap();
        let out_file = dir.path().join("out.h5");
        let mut args =
            vec![s(&input(&case.file)).to_string(), "-q".into(), "--output".into(), s(&out_file).into()];
        args.extend(case.args.iter().cloned());
        let args: Vec<&str> = args.iter().map(|a| a.as_str()).collect();
        let out = find(&args);
        assert_ok(&out);
        assert_eq!(peaks(&out_file), case.peaks, "{} {:?}", case.file, case.args);
    }
}

// ---- the input file ----

#[test]
fn missing_file_is_an_input_error() {
    assert_fails(&find(&["/nonexistent/map.h5"]), 3, "/nonexistent/map.h5: no such file");
}

#[test]
fn directory_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    assert_fails(&find(&[s(dir.path())]), 3, "is a directory");
}

#[test]
fn non_hdf5_and_empty_files_are_input_errors() {
    for name in ["not_hdf5.h5", "empty.h5"] {
        assert_fails(&find(&[s(&input(name))]), 3, &format!("{name}: not an HDF5 file"));
    }
}

#[test]
fn truncated_hdf5_files_are_input_errors_that_say_so() {
    for name in ["truncated.h5", "truncated_head.h5"] {
        let (dir, file) = copy_of(name);
        let before = std::fs::read(&file).unwrap();
        assert_fails(&find(&[s(&file)]), 3, "truncated");
        assert!(std::fs::read(&file).unwrap() == before, "{name} must not change");
        assert!(leftovers(dir.path()).is_empty());
    }
}

#[test]
fn file_without_a_main_dataset_is_an_input_error() {
    assert_fails(&find(&[s(&input("no_main.h5"))]), 3, "no_main.h5 has no USID main dataset");
    assert_fails(&find(&[s(&input("no_main.h5")), "/data"]), 3, "/data is not a USID main dataset");
    assert_fails(&find(&[s(&input("good.h5")), "/nope"]), 3, "/nope does not exist");
}

#[test]
fn mismatched_ancillary_shapes_are_input_errors_that_name_the_shapes() {
    // Without a dataset named, no dataset qualifies; named, the reason is given.
    assert_fails(&find(&[s(&input("anc_rows_mismatch.h5"))]), 3, "has no USID main dataset");
    let out = find(&[s(&input("anc_rows_mismatch.h5")), RAW]);
    assert_fails(&out, 3, "Position_Indices");
    assert!(String::from_utf8_lossy(&out.stderr).contains("(7, 1)"), "{:?}", out);
    let out = find(&[s(&input("anc_pair_mismatch.h5")), RAW]);
    assert_fails(&out, 3, "Position_Values");
}

#[test]
fn one_and_three_dimensional_datasets_are_input_errors() {
    assert_fails(&find(&[s(&input("one_d.h5")), RAW]), 3, "it is 1-D");
    assert_fails(&find(&[s(&input("three_d.h5")), RAW]), 3, "it is 3-D");
    assert_fails(&find(&[s(&input("three_d.h5"))]), 3, "has no USID main dataset");
}

#[test]
fn zero_rows_or_zero_bins_are_input_errors_and_write_nothing() {
    for (name, what) in
        [("zero_rows.h5", "(0, 119): no pixels"), ("zero_bins.h5", "(6, 0): no spectral bins")]
    {
        let (dir, file) = copy_of(name);
        let out_file = dir.path().join("out.h5");
        assert_fails(&find(&[s(&file), "--output", s(&out_file)]), 3, what);
        assert!(!out_file.exists(), "{name}: no output file");
        assert_eq!(results_groups(&file), 0);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().filter_map(|e| e.ok()).collect();
        assert_eq!(names.len(), 1, "{name}: nothing beside the input: {names:?}");
    }
}

// ---- odd but valid data: computed like scipy ----

#[test]
fn good_map_matches_scipy() {
    compare_with_scipy(&["good.h5"]);
}

#[test]
fn spectra_shorter_than_the_widths_are_computed_like_scipy() {
    // scipy clips each wavelet to min(10 w, len) points; 1 bin gives no peaks.
    compare_with_scipy(&["short_12.h5", "short_40.h5", "single_bin.h5"]);
}

#[test]
fn nan_and_inf_are_computed_like_scipy() {
    compare_with_scipy(&["nan_inf.h5"]);
}

#[test]
fn integer_and_float32_data_are_computed_like_scipy() {
    compare_with_scipy(&["int8.h5", "int16.h5", "int64.h5", "uint8.h5", "float32.h5"]);
}

#[test]
fn descending_widths_negative_min_snr_and_window_size_zero_are_accepted_like_scipy() {
    // good.h5 covers --widths 60:20:30; noisy.h5 --min-snr -1 and --window-size 0.
    compare_with_scipy(&["good.h5", "noisy.h5"]);
    let desc = expected().into_iter().any(|c| c.args.iter().any(|a| a.starts_with("60.0:20.0")));
    assert!(desc, "expected.json has the descending-widths case");
}

// ---- options ----

#[test]
fn invalid_widths_and_options_are_usage_errors() {
    let good = input("good.h5");
    for (args, mentions) in [
        (&["--widths", "0:10:5"][..], "every width must be > 0"),
        (&["--widths=-5:10:3"], "every width must be > 0"),
        (&["--widths", "20:60:0"], "the count must be"),
        (&["--widths", "a:60:30"], "\"a\" is not a number"),
        (&["--widths", "20:60:x"], "is not a whole number"),
        (&["--widths", "20:60"], "expected START:STOP:COUNT"),
        (&["--widths", "nan:60:3"], "\"nan\" is not a number"),
        (&["--width-list", "1,x"], "\"x\" is not a number"),
        (&["--width-list", "0"], "every width must be > 0"),
        (&["--width-list", ""], "is not a number"),
        (&["--max-distances", "1,y"], "--max-distances"),
        (&["--max-distances", "1,2"], "max_distances has 2 values but there are 30 widths"),
        (&["--noise-perc", "101"], "noise_perc must be in [0, 100]"),
        (&["--min-snr", "nan"], "--min-snr: \"nan\" is not a number"),
        (&["--threads", "0"], "--threads must be at least 1"),
        (&["--max-mem", "0"], "--max-mem must be at least 1 MB"),
    ] {
        let mut all = vec![s(&good), "-q"];
        all.extend_from_slice(args);
        let out = find(&all);
        assert_fails(&out, 2, mentions);
    }
    assert_eq!(results_groups(&good), 0, "no option error writes anything");
}

#[test]
fn malformed_command_lines_exit_2_without_a_backtrace() {
    for args in [
        &["--window-size", "-1"][..],
        &["--min-length", "x"],
        &["--bind-threads", "always"],
        &["--bogus"],
        &[],
    ] {
        let good = input("good.h5");
        let mut all = vec![];
        if !args.is_empty() {
            all.push(s(&good));
        }
        all.extend_from_slice(args);
        let out = find(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
        if args.first() == Some(&"--bind-threads") {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains("possible values: auto, none"), "{stderr}");
        }
    }
}

// ---- ranks ----

#[test]
#[cfg(feature = "mpi")]
fn more_ranks_than_pixels_computes_every_pixel_once() {
    let (dir, file) = copy_of("two_pixels.h5");
    let summary = crate::util::summary(&crate::util::mpirun(3, &["find", "-q", "--json", s(&file)]));
    assert_eq!(summary["ranks"], 3);
    assert_eq!(summary["pixels"], 2);
    let want = expected().into_iter().find(|c| c.file == "two_pixels.h5").unwrap().peaks;
    assert_eq!(peaks(&file), want);
    assert!(leftovers(dir.path()).is_empty());
}

// ---- the output ----

#[test]
fn output_in_a_missing_directory_is_an_output_error() {
    assert_fails(
        &find(&[s(&input("good.h5")), "--output", "/nonexistent/dir/out.h5"]),
        4,
        "/nonexistent/dir",
    );
}

#[test]
fn output_that_is_a_directory_or_not_hdf5_is_refused_before_computing() {
    let dir = tempfile::tempdir().unwrap();
    let out = find(&[s(&input("good.h5")), "--output", s(dir.path())]);
    assert_fails(&out, 4, "is a directory");
    let notes = dir.path().join("notes.h5");
    std::fs::write(&notes, "my notes\n").unwrap();
    assert_fails(&find(&[s(&input("good.h5")), "--output", s(&notes)]), 4, "not an HDF5 file");
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "my notes\n", "never overwritten");
    // Refused before the computation: no checkpoint was started.
    let side: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".ckpt"))
        .collect();
    assert!(side.is_empty(), "{side:?}");
}

/// A read-only file system: a tmpfs mounted read-only when we may mount (root), else a directory
/// without write permission (which does not stop root).
#[test]
fn output_on_a_read_only_file_system_is_an_output_error() {
    let dir = tempfile::tempdir().unwrap();
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    let mounted = is_root()
        && crate::util::command("mount")
            .args(["-t", "tmpfs", "-o", "ro,size=1m", "tmpfs"])
            .arg(&ro)
            .status()
            .is_ok_and(|s| s.success());
    if !mounted {
        if is_root() {
            eprintln!("skipped: root cannot mount a tmpfs here, and permissions do not stop root");
            return;
        }
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    let out = find(&[s(&input("good.h5")), "--output", s(&ro.join("out.h5"))]);
    if mounted {
        let _ = crate::util::command("umount").arg(&ro).status();
    }
    assert_fails(&out, 4, "is the directory writable?");
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// `ulimit -f` stands in for a full disk (the write fails with EFBIG): exit 4, the target as it
/// was, no staging copy left, the checkpoint kept so that the rerun does not compute again.
#[test]
fn file_size_limit_during_the_final_write_is_an_output_error_and_the_rerun_completes() {
    let (dir, file) = copy_of("good.h5");
    let before = std::fs::read(&file).unwrap();
    // 1 block of 512 bytes more than the file: the staging copy fails part-way.
    let blocks = before.len() / 512 + 1;
    let out = crate::util::command("sh")
        .arg("-c")
        .arg(format!("ulimit -f {blocks} && exec \"$0\" find -q \"$1\""))
        .arg(BIN)
        .arg(&file)
        .output()
        .unwrap();
    assert_fails(&out, 4, "File too large");
    assert!(std::fs::read(&file).unwrap() == before, "the target is untouched");
    assert!(leftovers(dir.path()).is_empty(), "{:?}", leftovers(dir.path()));
    let out = find(&[s(&file), "-q", "--json"]);
    assert_ok(&out);
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["resumed"], 6, "the checkpoint spared the computation: {summary}");
    let want = expected().into_iter().find(|c| c.file == "good.h5").unwrap().peaks;
    assert_eq!(peaks(&file), want);
}

/// A full file system (a 2 MiB tmpfs, root only): exit 4, the target as it was, the space of the
/// staging copy given back.
#[test]
fn full_disk_during_the_final_write_is_an_output_error() {
    if !is_root() {
        eprintln!("skipped: mounting a small tmpfs needs root (the ulimit -f test covers the rest)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("small");
    std::fs::create_dir(&mnt).unwrap();
    let ok = crate::util::command("mount").args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"]).arg(&mnt).status();
    if !ok.is_ok_and(|s| s.success()) {
        eprintln!("skipped: cannot mount a tmpfs here");
        return;
    }
    let result = std::panic::catch_unwind(|| {
        let file = mnt.join("map.h5");
        // 1.2 MiB of data: the staging copy cannot fit beside it.
        let g = crate::util::command(BIN)
            .args(["generate", "--rows", "32", "--cols", "40", "--bins", "119"])
            .arg(&file)
            .output()
            .unwrap();
        assert_ok(&g);
        let before = std::fs::read(&file).unwrap();
        assert_fails(&find(&[s(&file), "-q"]), 4, "No space left on device");
        assert!(std::fs::read(&file).unwrap() == before, "the target is untouched");
        assert!(leftovers(&mnt).is_empty(), "the staging copy is removed: {:?}", leftovers(&mnt));
    });
    let _ = crate::util::command("umount").arg(&mnt).status();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

/// A file system that fills while the results are streamed into `--output` on it (a 1 MiB tmpfs,
/// root only; the input elsewhere): exit 4 in one line, no output and no staging copy, the
/// checkpoint kept; once space is freed (the tmpfs grown), the same command resumes and completes
/// to a clean run's results.
#[test]
fn full_disk_during_the_streamed_write_is_an_output_error_and_the_rerun_after_freeing_space_completes() {
    if !is_root() {
        eprintln!("skipped: mounting a small tmpfs needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("small");
    std::fs::create_dir(&mnt).unwrap();
    let ok = crate::util::command("mount").args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"]).arg(&mnt).status();
    if !ok.is_ok_and(|s| s.success()) {
        eprintln!("skipped: cannot mount a tmpfs here");
        return;
    }
    let result = std::panic::catch_unwind(|| {
        // 40 x 40 pixels x 16 spectra: about 2.5 MB of peaks, streamed in batches of a few pixels.
        let file = dir.path().join("map.h5");
        let g = crate::util::command(BIN)
            .args(["generate", "--rows", "40", "--cols", "40", "--beps"])
            .arg(&file)
            .output()
            .unwrap();
        assert_ok(&g);
        let out = mnt.join("out.h5");
        let args = |json| {
            let mut a = vec![s(&file), "-q", "--max-mem", "1", "--output", s(&out)];
            a.extend(json);
            a
        };
        assert_fails(&find(&args(None)), 4, "");
        assert!(!out.exists(), "no output from a failed run");
        assert!(leftovers(&mnt).is_empty(), "the staging copy is removed: {:?}", leftovers(&mnt));
        assert_eq!(side_files(&mnt, ".ckpt").len(), 1, "the checkpoint is kept");
        let grown = crate::util::command("mount").args(["-o", "remount,size=64m"]).arg(&mnt).status();
        assert!(grown.is_ok_and(|s| s.success()), "remount the tmpfs larger");
        let rerun = find(&args(Some("--json")));
        assert_ok(&rerun);
        let summary: serde_json::Value = serde_json::from_slice(&rerun.stdout).unwrap();
        assert!(summary["resumed"].as_u64().unwrap() > 0, "the checkpoint spared the computation: {summary}");
        let clean = dir.path().join("clean.h5");
        assert_ok(&find(&[s(&file), "-q", "--output", s(&clean)]));
        let newest = |f: &Path| {
            let h = hdf5::File::open(f).unwrap();
            let g = h.group(&format!("{}/{}", crate::util::CHANNEL, peak_groups(f).pop().unwrap())).unwrap();
            let (count, indices) = (g.dataset("Peak_Count").unwrap(), g.dataset("Peak_Indices").unwrap());
            (count.read_raw::<u32>().unwrap(), indices.read_raw::<i32>().unwrap(), indices.shape())
        };
        assert!(newest(&out) == newest(&clean), "the rerun's results are a clean run's");
    });
    let _ = crate::util::command("umount").arg(&mnt).status();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

// ---- busy files ----

/// A Python process holding `file` open with h5py in `mode` until its stdin closes.
fn h5py_holding(file: &Path, mode: &str) -> Child {
    let mut child = crate::util::command(python())
        .arg("-c")
        .arg("import h5py, sys\nf = h5py.File(sys.argv[1], sys.argv[2])\nprint('open', flush=True)\nsys.stdin.read()\n")
        .arg(file)
        .arg(mode)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start python");
    let mut line = String::new();
    let stdout = child.stdout.as_mut().expect("piped stdout");
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
    assert_eq!(line.trim(), "open");
    child
}

fn release(mut child: Child) {
    drop(child.stdin.take());
    let _ = child.wait();
}

#[test]
fn file_open_for_writing_in_h5py_is_busy_as_input_and_as_output() {
    let (dir, file) = copy_of("good.h5");
    let holder = h5py_holding(&file, "r+");
    assert_fails(&find(&[s(&file), "-q"]), 5, "is open for writing in another program");
    let other = dir.path().join("other.h5");
    std::fs::copy(input("good.h5"), &other).unwrap();
    assert_fails(&find(&[s(&other), "-q", "--output", s(&file)]), 5, "is open for writing");
    release(holder);
    assert_eq!(results_groups(&file), 0);
    // Open read-only elsewhere is fine: the reader keeps the file it opened.
    let reader = h5py_holding(&file, "r");
    assert_ok(&find(&[s(&file), "-q"]));
    release(reader);
    assert_eq!(results_groups(&file), 1);
}

#[test]
fn second_run_on_the_same_target_is_refused_while_the_first_holds_the_lock() {
    let (dir, file) = copy_of("good.h5");
    // Hold the run lock the way a first run does.
    let lock_path = dir.path().join(".good.h5.usid-peaks.lock");
    let lock = std::fs::File::create(&lock_path).unwrap();
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a descriptor this test owns.
    assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) }, 0);
    assert_fails(&find(&[s(&file), "-q"]), 5, "is being written by another usid-peaks run");
    drop(lock);
    assert_eq!(results_groups(&file), 0);
    assert_ok(&find(&[s(&file), "-q"]));
    assert_eq!(results_groups(&file), 1);
    // The run took the lock, then removed its file when it ended: nothing is left beside the map.
    assert!(!lock_path.exists(), "the lock file outlived the run");
}

/// Two real runs: the first is paused (SIGSTOP) once its checkpoint exists, i.e. while it holds
/// the lock and computes; the second must be refused, and the first then completes alone.
#[test]
fn two_runs_at_once_never_make_two_writers() {
    let dir = tempfile::tempdir().unwrap();
    let file = crate::util::generate(dir.path(), "map.h5", 96, 96, 1);
    let first = slow_find(&file);
    let pid = first.id() as i32;
    // SAFETY: signalling the child this test started.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    let second = find(&[s(&file), "-q"]);
    // SAFETY: as above.
    unsafe { libc::kill(pid, libc::SIGCONT) };
    let first_out = first.wait_with_output().unwrap();
    if first_out.status.success() && second.status.code() == Some(0) {
        panic!("both runs succeeded: the lock did not hold");
    }
    assert_fails(&second, 5, "is being written by another usid-peaks run");
    assert_ok(&first_out);
    assert_eq!(results_groups(&file), 1, "one writer, one group");
}

#[test]
fn one_dataset_as_both_position_indices_and_values_is_copied_once_to_an_output_file() {
    // compare_with_scipy writes to --output, where the shared dataset must be copied once.
    compare_with_scipy(&["shared_position.h5"]);
}

/// A reader that goes away (`usid-peaks … | head`) is not an error: every command that prints to
/// stdout exits 0, and none panics on the closed pipe.
#[test]
fn a_closed_stdout_is_neither_an_error_nor_a_panic() {
    use std::os::fd::{FromRawFd, OwnedFd};
    let dir = tempfile::tempdir().unwrap();
    let map = crate::util::generate(dir.path(), "map.h5", 4, 4, 1);
    let out = dir.path().join("out.h5");
    let bench = dir.path().join("bench");
    let commands: [&[&str]; 5] = [
        &["inspect", s(&map)],
        &["pixel", s(&map), "--index", "3"],
        &["pixel", s(&map), "--index", "3", "--json"],
        &["find", s(&map), "-q", "--json", "-o", s(&out)],
        &["bench", s(&map), "--threads", "1", "--repeat", "1", "--out", s(&bench)],
    ];
    for args in commands {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors pipe() writes.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: pipe() just opened both descriptors, and nothing else owns them.
        let (read_end, write_end) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        drop(read_end);
        let done = crate::util::command(BIN)
            .args(args)
            .stdout(std::process::Stdio::from(write_end))
            .output()
            .expect("start usid-peaks");
        let stderr = String::from_utf8_lossy(&done.stderr);
        assert!(done.status.success(), "{args:?}: {:?}, stderr: {stderr}", done.status);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
