//! The test command's own contract (scripts/test.sh, scripts/lib.sh): a stage whose script is
//! missing or not executable fails the run before anything runs, never a silent skip; a stage
//! fails when any of its commands fails, not only its last; a reference environment is made from
//! its lock file once, and again only when the lock changes; a lock missing a package something
//! needs fails it.
use std::path::Path;
use std::process::Output;

use crate::util::{command, repo};

/// A checkout holding only a copy of scripts/ (lib.sh finds the checkout from its own place).
fn scripts_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("scripts");
    std::fs::create_dir(&to).unwrap();
    for entry in std::fs::read_dir(repo().join("scripts")).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
    dir
}

fn bash(args: &[&str]) -> Output {
    command("bash").args(args).output().expect("start bash")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn test_sh_stages_lists_every_stage_and_runs_none() {
    let root = scripts_copy();
    let out = bash(&[root.path().join("scripts/test.sh").to_str().unwrap(), "--stages"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    let stages: Vec<&str> = stdout.lines().collect();
    assert_eq!(stages.len(), 11, "{stdout}");
    assert_eq!(stages[0], "format");
    assert!(stages.contains(&"SLURM"), "{stdout}");
    let skippable: Vec<&str> = stages.iter().copied().filter(|s| s.ends_with("(may be skipped)")).collect();
    assert_eq!(skippable.len(), 3, "the across-host stages and BGlib's (Python 3.11): {stdout}");
    assert!(skippable.iter().any(|s| s.starts_with("BGlib's loop fitter")), "{stdout}");
    assert!(stderr.is_empty(), "nothing ran: {stderr}");
}

#[test]
fn a_stage_script_missing_or_not_executable_fails_the_test_command_before_anything_runs() {
    use std::os::unix::fs::PermissionsExt;
    let root = scripts_copy();
    let scripts = root.path().join("scripts");
    std::fs::remove_file(scripts.join("fault-inject.sh")).unwrap();
    std::fs::set_permissions(scripts.join("test-cluster.sh"), std::fs::Permissions::from_mode(0o644))
        .unwrap();
    let out = bash(&[scripts.join("test.sh").to_str().unwrap()]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("scripts/fault-inject.sh is missing"), "{stderr}");
    assert!(stderr.contains("scripts/test-cluster.sh is not an executable file"), "{stderr}");
    assert!(stderr.contains("nothing was run"), "{stderr}");
    // Not even the set-up, nor a first stage.
    assert!(!stderr.contains("bootstrap:") && !stderr.contains("==="), "{stderr}");
}

/// A `cargo` that fails in the checkout's root and passes in python/ (and for `--version`, which
/// the set-up asks): the format stage's first command fails and its last one passes.
const CARGO_FAILING_IN_THE_ROOT: &str = r#"#!/bin/sh
case "$*" in *--version*) exit 0 ;; esac
[ "$(basename "$PWD")" = python ] && exit 0
echo "cargo (test stub): '$*' fails here" >&2
exit 1
"#;

/// The checkout's own test command with that `cargo` first on PATH. Its set-up
/// (bootstrap.sh --tests) finds everything installed where the test command has run it.
#[test]
fn a_stage_fails_when_any_of_its_commands_fails_not_only_its_last() {
    use std::os::unix::fs::PermissionsExt;
    let stub = tempfile::tempdir().unwrap();
    let cargo = stub.path().join("cargo");
    std::fs::write(&cargo, CARGO_FAILING_IN_THE_ROOT).unwrap();
    std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", stub.path().display(), std::env::var("PATH").unwrap_or_default());
    let out = command("bash").arg(repo().join("scripts/test.sh")).env("PATH", path).output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("'fmt --check' fails here"), "{stderr}");
    assert!(stderr.contains("=== format: FAILED (exit 1)"), "{stderr}");
    assert!(stderr.contains("test: 0 passed, 0 skipped, 1 failed"), "{stderr}");
}

/// `reference_env VENV LOCK python3 MODULES...` from scripts/lib.sh.
fn reference_env(venv: &Path, lock: &Path, modules: &[&str]) -> Output {
    let mut args = vec![
        "-c",
        r#". "$1/scripts/lib.sh" && reference_env "$2" "$3" python3 "${@:4}""#,
        "reference-env-test",
        repo().to_str().unwrap(),
        venv.to_str().unwrap(),
        lock.to_str().unwrap(),
    ];
    args.extend_from_slice(modules);
    bash(&args)
}

#[test]
fn a_reference_environment_is_made_from_its_lock_once_and_again_when_the_lock_changes() {
    let dir = tempfile::tempdir().unwrap();
    let (venv, lock) = (dir.path().join("venv"), dir.path().join("lock.txt"));
    // Nothing to install: no package registry is needed.
    std::fs::write(&lock, "# nothing\n").unwrap();
    let made = reference_env(&venv, &lock, &["json"]);
    assert!(made.status.success(), "{}", text(&made.stderr));
    assert!(venv.join("bin/python").exists());
    let marker = venv.join("marker");
    std::fs::write(&marker, "").unwrap();

    let again = reference_env(&venv, &lock, &["json"]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(again.stderr.is_empty(), "kept as it was: {}", text(&again.stderr));
    assert!(marker.exists(), "the same lock must not remake the environment");

    // A changed lock remakes it; a module that does not import afterwards fails it.
    std::fs::write(&lock, "# nothing, changed\n").unwrap();
    let remade = reference_env(&venv, &lock, &["no_such_module_here"]);
    let stderr = text(&remade.stderr);
    assert!(!marker.exists(), "a changed lock must remake the environment");
    assert_eq!(remade.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("does not import no_such_module_here"), "{stderr}");
}

/// Three hand-made pure-Python wheels in DIR (no registry needed): `lonely` needs `absent`,
/// which no lock here holds; `picky` pins `dep==2.0` and `dep` is 1.0.
fn write_wheels(dir: &Path) {
    const WRITER: &str = r#"
import sys, zipfile
def wheel(name, requires):
    info = f"{name}-1.0.dist-info"
    with zipfile.ZipFile(f"{sys.argv[1]}/{name}-1.0-py3-none-any.whl", "w") as z:
        z.writestr(f"{name}/__init__.py", "")
        z.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"
                   + "".join(f"Requires-Dist: {r}\n" for r in requires))
        z.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{info}/RECORD", "")
wheel("lonely", ["absent"]); wheel("picky", ["dep==2.0"]); wheel("dep", [])
"#;
    let out = command("python3").args(["-c", WRITER, dir.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn a_lock_missing_a_package_fails_the_reference_environment_and_a_pin_it_overrides_is_said() {
    let dir = tempfile::tempdir().unwrap();
    write_wheels(dir.path());
    let wheel = |name: &str| format!("{}/{name}-1.0-py3-none-any.whl\n", dir.path().display());
    let (venv, lock) = (dir.path().join("venv"), dir.path().join("lock.txt"));

    std::fs::write(&lock, wheel("picky") + &wheel("dep")).unwrap();
    let overridden = reference_env(&venv, &lock, &["picky"]);
    let stderr = text(&overridden.stderr);
    assert!(overridden.status.success(), "{stderr}");
    assert!(stderr.contains("kept as locked: picky 1.0 has requirement dep==2.0"), "{stderr}");

    std::fs::write(&lock, wheel("lonely")).unwrap();
    let incomplete = reference_env(&venv, &lock, &["lonely"]);
    let stderr = text(&incomplete.stderr);
    assert_eq!(incomplete.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("is not complete for Python"), "{stderr}");
    assert!(stderr.contains("lonely 1.0 requires absent, which is not installed"), "{stderr}");
    assert!(!venv.join(".lock.stamp").exists(), "an incomplete environment must not be kept as made");
}

#[test]
fn test_fresh_help_is_its_header_not_its_code() {
    // Its `set -euo pipefail` comes late (the script can be sourced): the help stops before code.
    let out = bash(&[repo().join("scripts/test-fresh.sh").to_str().unwrap(), "bookworm", "--help"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.starts_with("The README's two commands on a fresh Debian"), "{stdout}");
    assert!(
        stdout.trim_end().ends_with("Environment: TMPDIR (where the chroot is made, default /var/tmp)."),
        "{stdout}"
    );
    assert!(!stdout.contains("shellcheck") && !stdout.contains("()"), "{stdout}");
}
