//! Run pyUSID (the reference environment in `.venv`) on files the tests write, through
//! `scripts/pyusid_check.py`, and read its JSON answer.
use std::path::{Path, PathBuf};
use std::process::Command;

/// The reference Python; a missing environment fails the test with the way to make it.
pub fn python() -> PathBuf {
    let py = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(
        py.exists(),
        "the Python reference environment is missing ({}): run scripts/bootstrap.sh",
        py.display()
    );
    py
}

/// `scripts/pyusid_check.py FILE OBJECT EXTRA...`, parsed.
pub fn check(file: &Path, object: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![file.as_os_str(), std::ffi::OsStr::new(object)];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    script("pyusid_check.py", &args)
}

/// `scripts/scipy_map_peaks.py FILE GROUP`: every spectrum of the group's source against scipy's
/// find_peaks_cwt (`mismatches`, `spectra`, pyUSID's `n_dim` forms), parsed.
pub fn scipy_compare(file: &Path, group: &str) -> serde_json::Value {
    script("scipy_map_peaks.py", &[file.as_os_str(), std::ffi::OsStr::new(group)])
}

/// Run `scripts/NAME ARGS` with the reference Python and parse the JSON it prints.
pub fn script(name: &str, args: &[&std::ffi::OsStr]) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts").join(name);
    let out = Command::new(python())
        .arg(&script)
        .args(args)
        // Tests run in parallel threads; a child process forked by another test inherits this
        // process's open HDF5 file descriptors (HDF5 does not set close-on-exec) and with them
        // their locks, so a file this test has closed can still look locked to h5py.
        .env("HDF5_USE_FILE_LOCKING", "FALSE")
        .output()
        .expect("run the reference Python");
    assert!(out.status.success(), "{name} {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{name} prints JSON: {e}"))
}
