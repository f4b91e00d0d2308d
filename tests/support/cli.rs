//! Running the `usid-peaks` binary (alone or under mpirun) and making maps with it, for the
//! integration tests.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_usid-peaks");
pub const RAW: &str = "/Measurement_000/Channel_000/Raw_Data";

pub fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("start usid-peaks")
}

pub fn ok(args: &[&str]) -> Output {
    let out = run(args);
    assert!(
        out.status.success(),
        "usid-peaks {args:?} failed ({:?}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[cfg(feature = "mpi")]
pub fn mpirun(np: usize, args: &[&str]) -> Output {
    let out = Command::new("mpirun")
        .args(["--allow-run-as-root", "--oversubscribe", "-np", &np.to_string(), BIN])
        .args(args)
        .output()
        .expect("mpirun not found: run scripts/bootstrap.sh");
    assert!(
        out.status.success(),
        "mpirun -np {np} usid-peaks {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn generate(dir: &Path, name: &str, rows: usize, cols: usize, seed: u64) -> PathBuf {
    let path = dir.join(name);
    ok(&[
        "generate",
        s(&path),
        "--rows",
        &rows.to_string(),
        "--cols",
        &cols.to_string(),
        "--seed",
        &seed.to_string(),
    ]);
    path
}

pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

pub fn summary(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).expect("--json prints one JSON object")
}
