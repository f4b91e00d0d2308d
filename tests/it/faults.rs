//! Runs that are stopped: SIGTERM (a batch system's time limit) ends a run after its batch with
//! exit 130 and the checkpoint kept, and the same command resumes to the same results; a rank that
//! dies ends the whole MPI job with a failure within seconds, leaving the file as it was.
//!
//! The SIGKILL trials at random moments are scripts/fault-inject.sh (too long for a unit test);
//! a few of them run in CI from scripts/test.sh.
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_usid-peaks");

fn generate(dir: &Path, name: &str, rows: u32) -> PathBuf {
    let file = dir.join(name);
    let out = Command::new(BIN)
        .args(["generate", "--rows", &rows.to_string(), "--cols", "96"])
        .arg(&file)
        .output()
        .expect("run usid-peaks generate");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    file
}

fn side_files(dir: &Path, suffix: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(suffix))
        .collect()
}

/// Wait until the run has a checkpoint (it holds the lock and computes), failing if it ends first.
fn wait_for_checkpoint(child: &mut Child, dir: &Path) {
    let t0 = Instant::now();
    while side_files(dir, ".ckpt").is_empty() {
        assert!(child.try_wait().unwrap().is_none(), "the run ended before it was stopped");
        assert!(t0.elapsed() < Duration::from_secs(30), "no checkpoint after 30 s");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The newest results group's Peak_Indices (raw) and the number of results groups.
fn results(file: &Path) -> (Vec<i32>, usize) {
    let f = hdf5::File::open(file).expect("the file opens");
    let parent = f.group("/Measurement_000/Channel_000").unwrap();
    let mut groups: Vec<String> =
        parent.member_names().unwrap().into_iter().filter(|n| n.contains("-Peak_Finding_")).collect();
    groups.sort();
    let Some(last) = groups.last() else { return (Vec::new(), 0) };
    let peaks = parent.group(last).unwrap().dataset("Peak_Indices").unwrap().read_raw::<i32>().unwrap();
    (peaks, groups.len())
}

fn raw_bytes(file: &Path) -> Vec<u8> {
    let f = hdf5::File::open(file).expect("the file opens");
    let ds = f.dataset("/Measurement_000/Channel_000/Raw_Data").unwrap();
    let v = ds.read_raw::<num_complex::Complex32>().unwrap();
    v.iter().flat_map(|z| [z.re.to_le_bytes(), z.im.to_le_bytes()].concat()).collect()
}

fn clean_peaks(dir: &Path, rows: u32) -> Vec<i32> {
    let file = generate(dir, "clean.h5", rows);
    let out = Command::new(BIN).args(["find", "-q"]).arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    results(&file).0
}

#[test]
fn sigterm_stops_after_the_batch_with_exit_130_and_the_rerun_resumes_to_the_same_results() {
    let dir = tempfile::tempdir().unwrap();
    let file = generate(dir.path(), "map.h5", 96);
    let raw = raw_bytes(&file);
    // One thread and small batches: the run lasts long enough to be stopped mid-way.
    let mut child = Command::new(BIN)
        .args(["find", "-q", "--threads", "1", "--max-mem", "1"])
        .arg(&file)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_checkpoint(&mut child, dir.path());
    // SAFETY: signalling the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("interrupted; progress is saved in"), "{stderr}");
    assert_eq!(side_files(dir.path(), ".ckpt").len(), 1, "the checkpoint is kept");
    assert_eq!(results(&file).1, 0, "no results group for an interrupted run");
    assert!(raw_bytes(&file) == raw, "the source dataset is untouched");

    let out = Command::new(BIN).args(["find", "-q", "--json"]).arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let resumed = summary["resumed"].as_u64().unwrap();
    assert!(resumed > 0 && resumed < 96 * 96, "resumed {resumed} of {} pixels", 96 * 96);
    assert!(side_files(dir.path(), ".ckpt").is_empty(), "the checkpoint is removed once written");
    let other = tempfile::tempdir().unwrap();
    assert_eq!(results(&file), (clean_peaks(other.path(), 96), 1), "same results as an uninterrupted run");
}

/// The pid of rank `rank` among the children of `mpirun_pid`.
#[cfg(feature = "mpi")]
fn rank_pid(mpirun_pid: u32, rank: u32) -> Option<i32> {
    let children = std::fs::read_to_string(format!("/proc/{mpirun_pid}/task/{mpirun_pid}/children")).ok()?;
    children.split_whitespace().find_map(|p| {
        let env = std::fs::read(format!("/proc/{p}/environ")).ok()?;
        let want = format!("OMPI_COMM_WORLD_RANK={rank}");
        env.split(|&b| b == 0).any(|v| v == want.as_bytes()).then(|| p.parse().ok())?
    })
}

#[test]
#[cfg(feature = "mpi")]
fn a_rank_killed_mid_run_ends_the_whole_job_with_a_failure_within_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let file = generate(dir.path(), "map.h5", 96);
    let raw = raw_bytes(&file);
    let mut job = Command::new("mpirun")
        .args(["--allow-run-as-root", "--oversubscribe", "-np", "2", BIN, "find", "-q", "--max-mem", "1"])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run mpirun (install OpenMPI: scripts/bootstrap.sh)");
    wait_for_checkpoint(&mut job, dir.path());
    let victim = rank_pid(job.id(), 1).expect("rank 1 is a child of mpirun");
    let t0 = Instant::now();
    // SAFETY: signalling a process of the job this test started.
    unsafe { libc::kill(victim, libc::SIGKILL) };
    let status = loop {
        if let Some(s) = job.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed() > Duration::from_secs(20) {
            let _ = job.kill();
            panic!("the job still runs 20 s after rank 1 died");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let took = t0.elapsed();
    eprintln!("the job ended {:.2} s after rank 1 was killed, with {status}", took.as_secs_f64());
    assert!(!status.success(), "a job that lost a rank must fail");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_eq!(results(&file).1, 0);
    assert!(raw_bytes(&file) == raw, "the source dataset is untouched");
    // The next run completes (resuming what the checkpoint holds).
    let out = Command::new(BIN).args(["find", "-q"]).arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let other = tempfile::tempdir().unwrap();
    assert_eq!(results(&file), (clean_peaks(other.path(), 96), 1));
}
