//! USID files written by pyUSID itself (`scripts/pyusid_write_fixture.py`), with pyUSID's view of
//! them, and a runner for the `usid-peaks` binary. The test crate declares `mod pyusid` (the
//! reference Python) beside this module.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Write `out` with pyUSID: `args` are the script's options (`--channel float32:1:1`, ...).
/// Returns pyUSID's view of every main dataset, as the script prints it (a JSON list).
pub fn write_with_pyusid(out: &Path, args: &[&str]) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pyusid_write_fixture.py");
    let run = Command::new(crate::pyusid::python())
        .arg(&script)
        .arg(out)
        .args(args)
        // A child forked by another test thread may hold this process's HDF5 file descriptors and
        // their locks; h5py must not trip over them.
        .env("HDF5_USE_FILE_LOCKING", "FALSE")
        .output()
        .expect("run the reference Python");
    assert!(run.status.success(), "pyusid_write_fixture.py failed: {}", String::from_utf8_lossy(&run.stderr));
    serde_json::from_slice(&run.stdout).expect("pyusid_write_fixture.py prints JSON")
}

/// A file in this test binary's scratch directory, unique to this process.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("usid-read-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the scratch directory");
    dir.join(name)
}

/// Run `usid-peaks ARGS`.
pub fn run_cli<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_usid-peaks"))
        .args(args)
        .env("HDF5_USE_FILE_LOCKING", "FALSE")
        .output()
        .expect("run usid-peaks")
}
