//! Runs that are stopped: SIGTERM (a batch system's time limit) ends a run after its batch with
//! exit 130 and the checkpoint kept, and the same command resumes to the same results; a rank that
//! dies ends the whole MPI job with a failure within seconds, leaving the file as it was.
//!
//! The SIGKILL trials at random moments are scripts/fault-inject.sh (too long for a unit test);
//! a few of them run in CI from scripts/test.sh.
use std::path::Path;
#[cfg(feature = "mpi")]
use std::process::Stdio;
#[cfg(feature = "mpi")]
use std::time::{Duration, Instant};

use crate::util::{generate, ok, peak_groups, s, side_files, slow_find, summary, CHANNEL, RAW};
#[cfg(feature = "mpi")]
use crate::util::{wait_for_checkpoint, BIN};

/// The newest results group's Peak_Indices (raw) and the number of results groups.
fn results(file: &Path) -> (Vec<i32>, usize) {
    let groups = peak_groups(file);
    let Some(last) = groups.last() else { return (Vec::new(), 0) };
    let f = hdf5::File::open(file).expect("the file opens");
    let g = f.group(&format!("{CHANNEL}/{last}")).unwrap();
    (g.dataset("Peak_Indices").unwrap().read_raw::<i32>().unwrap(), groups.len())
}

fn raw_bytes(file: &Path) -> Vec<u8> {
    let f = hdf5::File::open(file).expect("the file opens");
    let ds = f.dataset(RAW).unwrap();
    let v = ds.read_raw::<num_complex::Complex32>().unwrap();
    v.iter().flat_map(|z| [z.re.to_le_bytes(), z.im.to_le_bytes()].concat()).collect()
}

fn clean_peaks(dir: &Path, rows: usize) -> Vec<i32> {
    let file = generate(dir, "clean.h5", rows, 96, SEED);
    ok(&["find", "-q", s(&file)]);
    results(&file).0
}

/// The seed of every map here (the clean run regenerates the same map).
const SEED: u64 = 1;

#[test]
fn sigterm_stops_after_the_batch_with_exit_130_and_the_rerun_resumes_to_the_same_results() {
    let dir = tempfile::tempdir().unwrap();
    let file = generate(dir.path(), "map.h5", 96, 96, SEED);
    let raw = raw_bytes(&file);
    let child = slow_find(&file);
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

    let summary = summary(&ok(&["find", "-q", "--json", s(&file)]));
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
    let file = generate(dir.path(), "map.h5", 96, 96, SEED);
    let raw = raw_bytes(&file);
    let mut job = crate::util::mpirun_command(2)
        .args([BIN, "find", "-q", "--max-mem", "1"])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|_| crate::util::missing("mpirun (OpenMPI)"));
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
    ok(&["find", "-q", s(&file)]);
    let other = tempfile::tempdir().unwrap();
    assert_eq!(results(&file), (clean_peaks(other.path(), 96), 1));
}
