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
use crate::util::{wait_for_checkpoint, wait_for_checkpoint_over, BIN};

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

/// SIGTERM while results are streamed into `--output`: exit 130 after the batch, the writer's
/// staged copy removed and no output, the checkpoint kept; the rerun resumes to a clean run's.
#[test]
fn sigterm_during_a_streamed_output_run_removes_the_staged_copy_and_the_rerun_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let file = generate(dir.path(), "map.h5", 96, 96, SEED);
    let out = dir.path().join("out.h5");
    let args = ["find", "-q", "--threads", "1", "--max-mem", "1", "--output", s(&out), s(&file)];
    let mut child = crate::util::command(crate::util::BIN).args(args).spawn().unwrap();
    let staging = dir.path().join(".out.h5.usid-peaks-staging");
    let t0 = std::time::Instant::now();
    while !staging.exists() && child.try_wait().unwrap().is_none() && t0.elapsed().as_secs() < 30 {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    // SAFETY: signalling the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert_eq!(child.wait().unwrap().code(), Some(130));
    assert!(!out.exists() && !staging.exists(), "no output, no staged copy");
    assert_eq!(side_files(dir.path(), ".ckpt").len(), 1, "the checkpoint is kept");
    let summary = summary(&ok(&[&args[..], &["--json"]].concat()));
    assert!(summary["resumed"].as_u64().unwrap() > 0, "resumed from the checkpoint: {summary}");
    let clean = dir.path().join("clean.h5");
    ok(&["find", "-q", "--output", s(&clean), s(&file)]);
    assert_eq!(results(&out), results(&clean), "the rerun's results are a clean run's");
}

/// SIGKILL while the results are streamed into the staged `--output` copy (it appears with the
/// first batch and grows batch by batch), at moments from the first batches to the end: the
/// output is absent (or whole, had the run finished), and the same command resumes to a clean
/// run's results, nothing left behind.
#[test]
fn sigkill_during_the_streamed_write_loses_nothing_and_the_rerun_completes_like_a_clean_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = generate(dir.path(), "map.h5", 96, 96, SEED);
    let clean = dir.path().join("clean.h5");
    let t_clean = std::time::Instant::now();
    ok(&["find", "-q", "--threads", "1", "--max-mem", "1", "--output", s(&clean), s(&file)]);
    let clean_ms = t_clean.elapsed().as_millis() as u64;
    let want = results(&clean);
    let mut killed_mid_write = 0;
    // From the staged copy's appearance (the first batch) to well before a clean run's end.
    for (i, delay_ms) in (0..8u64).map(|k| k * clean_ms / 10).enumerate() {
        let out = dir.path().join(format!("out{i}.h5"));
        let staging = dir.path().join(format!(".out{i}.h5.usid-peaks-staging"));
        let args = ["find", "-q", "--threads", "1", "--max-mem", "1", "--output", s(&out), s(&file)];
        let mut child = crate::util::command(crate::util::BIN).args(args).spawn().unwrap();
        let t0 = std::time::Instant::now();
        while !staging.exists() && child.try_wait().unwrap().is_none() && t0.elapsed().as_secs() < 30 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let status = child.wait().unwrap();
        if status.code().is_none() && staging.exists() {
            killed_mid_write += 1;
        }
        if out.exists() {
            assert_eq!(results(&out), want, "trial {i}: a finished run's output is whole");
        }
        ok(&["find", "-q", "--threads", "1", "--max-mem", "1", "--output", s(&out), s(&file)]);
        assert_eq!(results(&out), want, "trial {i} ({delay_ms} ms): the rerun's results are a clean run's");
        let left = [side_files(dir.path(), "staging"), side_files(dir.path(), ".ckpt")].concat();
        assert!(left.is_empty(), "trial {i}: left behind {left:?}");
    }
    assert!(killed_mid_write >= 3, "only {killed_mid_write} trials killed the run during its streamed write");
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

/// `mpirun -np 2 usid-peaks find --max-mem 1 ARGS FILE` in the background, stderr to `stderr`.
#[cfg(feature = "mpi")]
fn mpirun_find(file: &Path, args: &[&str], stderr: Stdio) -> std::process::Child {
    crate::util::mpirun_command(2)
        .args([BIN, "find", "--max-mem", "1"])
        .args(args)
        .arg(file)
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|_| crate::util::missing("mpirun (OpenMPI)"))
}

/// Send `signal` to `victim` (a rank of `job`) and wait for the job to end: its status and how
/// long it took. A job still running after `limit` is killed, `victim` too, and the test fails.
#[cfg(feature = "mpi")]
fn signal_and_wait(
    job: &mut std::process::Child,
    victim: i32,
    signal: i32,
    limit: Duration,
) -> (std::process::ExitStatus, Duration) {
    let t0 = Instant::now();
    // SAFETY: signalling a process of the job this test started.
    unsafe { libc::kill(victim, signal) };
    loop {
        if let Some(s) = job.try_wait().unwrap() {
            // A stopped rank that mpirun has not ended yet goes now (nothing happens if it has).
            // SAFETY: as above.
            unsafe { libc::kill(victim, libc::SIGKILL) };
            return (s, t0.elapsed());
        }
        if t0.elapsed() > limit {
            let _ = job.kill();
            // SAFETY: as above.
            unsafe { libc::kill(victim, libc::SIGKILL) };
            panic!("the job still runs {limit:?} after rank 1 got signal {signal}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
#[cfg(feature = "mpi")]
fn a_rank_killed_mid_run_ends_the_whole_job_with_a_failure_within_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let file = generate(dir.path(), "map.h5", 96, 96, SEED);
    let raw = raw_bytes(&file);
    let mut job = mpirun_find(&file, &["-q"], Stdio::null());
    wait_for_checkpoint(&mut job, dir.path());
    let victim = rank_pid(job.id(), 1).expect("rank 1 is a child of mpirun");
    let (status, took) = signal_and_wait(&mut job, victim, libc::SIGKILL, Duration::from_secs(20));
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

#[test]
#[cfg(feature = "mpi")]
fn a_stopped_rank_ends_the_job_with_exit_7_naming_it_and_its_host_and_the_rerun_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let file = generate(dir.path(), "map.h5", 256, 96, SEED);
    let raw = raw_bytes(&file);
    let timeout = 6.0;
    let mut job =
        mpirun_find(&file, &["--threads", "1", "--rank-timeout", &timeout.to_string()], Stdio::piped());
    // Stopped once a batch is checkpointed (the checkpoint grew past its header): the rerun has
    // work to resume, and the run has batches left.
    let header = std::fs::metadata(wait_for_checkpoint_over(&mut job, dir.path(), 0)).unwrap().len();
    wait_for_checkpoint_over(&mut job, dir.path(), header);
    let victim = rank_pid(job.id(), 1).expect("rank 1 is a child of mpirun");
    let limit = Duration::from_secs_f64(timeout + 20.0);
    let (status, took) = signal_and_wait(&mut job, victim, libc::SIGSTOP, limit);
    let took = took.as_secs_f64();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut job.stderr.take().unwrap(), &mut stderr).unwrap();
    eprintln!("the job ended {took:.2} s after rank 1 was stopped, with {status}");
    assert_eq!(status.code(), Some(7), "{stderr}");
    assert!(took >= timeout - 0.5 && took < timeout + 5.0, "took {took:.2} s with --rank-timeout {timeout}");
    let host = hostname();
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("usid-peaks: error")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains(&format!("rank 1 on {host} sent nothing")), "{stderr}");
    assert!(errors[0].contains("run the same command again"), "{stderr}");
    // Progress said whom it waited for instead of promising an ETA.
    assert!(stderr.contains(&format!("waiting for rank 1 on {host}")), "{stderr}");
    assert_eq!(results(&file).1, 0);
    assert!(raw_bytes(&file) == raw, "the source dataset is untouched");
    let summary = summary(&crate::util::mpirun(2, &["find", "-q", "--json", s(&file)]));
    assert!(summary["resumed"].as_u64().unwrap() > 0, "{summary}");
    let other = tempfile::tempdir().unwrap();
    assert_eq!(results(&file), (clean_peaks(other.path(), 256), 1));
}

#[cfg(feature = "mpi")]
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its whole length, which is what we pass.
    assert_eq!(unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) }, 0);
    String::from_utf8_lossy(&buf[..buf.iter().position(|&b| b == 0).unwrap_or(buf.len())]).into_owned()
}
