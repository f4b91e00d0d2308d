//! Results groups and checkpoints written by an earlier release (0.1.0, commit e1adf9c; the files
//! and how they were made: `tests/fixtures/compat/`) stay usable: a run with the same parameters
//! reuses the complete group, and the same run resumes the interrupted one's checkpoint. Both
//! need the reuse key — the group's `usid_peaks_fingerprint`, a checkpoint's header and its name —
//! byte for byte as that release wrote it.

use std::path::{Path, PathBuf};

use crate::util::{ok, s, summary, RAW};

/// Every parameter given, none at its default (the fixture's `$ALL`).
const ALL: &[&str] = &[
    "--width-list",
    "3,5.5,9,14",
    "--max-distances",
    "1,1.5,2,3",
    "--gap-thresh",
    "2.5",
    "--min-length",
    "2",
    "--min-snr",
    "0.5",
    "--noise-perc",
    "25",
    "--window-size",
    "7",
    "--snr-from",
    "ridge-max",
    "--component",
    "phase",
];

fn fixture(name: &str) -> PathBuf {
    crate::util::repo().join("tests/fixtures/compat").join(name)
}

/// A copy of fixture `name` in `dir`, so that runs may add to it.
fn copy(dir: &Path, name: &str) -> PathBuf {
    let to = dir.join(name);
    std::fs::copy(fixture(name), &to).expect("copy a fixture");
    to
}

/// `find FILE ARGS --json -q` after the run: (reused, group, resumed, computed).
fn find(file: &Path, args: &[&str], extra: &[&str]) -> (bool, String, u64, u64) {
    let mut all = vec!["find", s(file), "--json", "-q"];
    all.extend_from_slice(args);
    all.extend_from_slice(extra);
    let v = summary(&ok(&all));
    let n = |k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}"));
    (v["reused"] == true, v["group"].as_str().expect("group").to_string(), n("resumed"), n("computed"))
}

#[test]
fn groups_an_earlier_release_wrote_are_reused_by_runs_with_the_same_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let beline = copy(dir.path(), "beline.h5");
    let beps = copy(dir.path(), "beps.h5");
    let cases: [(&Path, &[&str], &str); 5] = [
        (&beline, &[], "000"),
        (&beline, ALL, "001"),
        (&beline, &["--widths", "4:16:7", "--component", "real"], "002"),
        (&beps, &["--widths", "5:20:6"], "000"),
        (&beps, &["--along", "DC_Offset", "--widths", "1:2:2", "--min-length", "1"], "001"),
    ];
    for (file, args, n) in cases {
        let (reused, group, _, computed) = find(file, args, &[]);
        assert!(reused && computed == 0, "{args:?} on {}: not reused ({group})", file.display());
        assert_eq!(group, format!("{RAW}-Peak_Finding_{n}"), "{args:?}");
    }
    // The test can fail: one parameter changed is another key, and a new group.
    let (reused, group, _, _) = find(&beline, &["--min-snr", "1.5"], &[]);
    assert!(!reused);
    assert_eq!(group, format!("{RAW}-Peak_Finding_003"));
}

#[test]
fn a_checkpoint_an_earlier_release_wrote_is_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let beline = copy(dir.path(), "beline.h5");
    let out = dir.path().join("out.h5");
    // The checkpoint's name: the CRC-32 of the canonical input path, a newline and the run's
    // fingerprint, which is the checkpoint's first record (after a 17-byte frame).
    let bytes = std::fs::read(fixture("beline-interrupted.ckpt")).unwrap();
    let len = u64::from_le_bytes(bytes[5..13].try_into().unwrap()) as usize;
    let fingerprint = std::str::from_utf8(&bytes[17..17 + len]).expect("the header is JSON text");
    let canonical = std::fs::canonicalize(&beline).unwrap();
    let key = crc32fast::hash(format!("{}\n{fingerprint}", canonical.display()).as_bytes());
    let ck = dir.path().join(format!(".out.h5.usid-peaks-{key:08x}.ckpt"));
    std::fs::write(&ck, &bytes).unwrap();

    let (reused, group, resumed, computed) = find(&beline, ALL, &["-o", s(&out)]);
    assert!(!reused);
    assert_eq!((resumed, computed), (7, 13), "rows 0-7 come from the checkpoint");
    assert!(!ck.exists(), "a resumed run removes the checkpoint once its results are written");
    // The resumed results are the complete group the release wrote with the same parameters.
    let read = |file: &Path, group: &str, name: &str| {
        let f = hdf5::File::open(file).unwrap();
        let d = f.group(group).unwrap().dataset(name).unwrap();
        (d.read_raw::<f64>().unwrap(), d.shape())
    };
    let reference = format!("{RAW}-Peak_Finding_001");
    for name in ["Peak_Indices", "Peak_Count", "Peak_Frequencies"] {
        let (ours, theirs) = (read(&out, &group, name), read(&beline, &reference, name));
        assert_eq!(ours.1, theirs.1, "{name}");
        let same = ours.0.iter().zip(&theirs.0).all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same, "{name} differs from the release's group");
    }
}
