//! The failure contract every command keeps, checked the same way by every test file.
use std::process::Output;

/// The exit code, exactly one line on stderr that says what is wrong and mentions `mentions`
/// (where), no panic, no backtrace, nothing on stdout.
pub fn assert_one_line_error(out: &Output, code: i32, mentions: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line expected, got: {stderr}");
    assert!(stderr.starts_with("usid-peaks: error: "), "{stderr}");
    assert!(stderr.contains(mentions), "{stderr:?} should mention {mentions:?}");
    assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing on stdout: {}", String::from_utf8_lossy(&out.stdout));
}
