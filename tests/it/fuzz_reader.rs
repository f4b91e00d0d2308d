//! The reader against odd files: `tests/reference/h5py_write.py fuzz` writes seeded cases (wrong
//! attribute types, dangling and cyclic references, mismatched or huge declared shapes, bytes vs
//! str labels, references to groups, odd element types, link loops, ...) and every case goes through
//! `usid-peaks inspect`, `inspect --json DATASET` and `find` under a 4 GiB address-space limit.
//! No case may panic, die of a signal, run past the time limit, or fail without exactly one line
//! on stderr and an exit code of its class.
//!
//! USID_FUZZ_CASES (default 80) and USID_FUZZ_SEED (default 1) choose the cases; the long runs
//! recorded in docs/RELIABILITY.md use the same test with more cases.
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::util::{reference, BIN, RAW};
/// Address space per command (KiB for `ulimit -v`): a reader that believes a declared size runs
/// into it.
const MEMORY_LIMIT_KIB: u64 = 4 << 20;
const TIME_LIMIT: Duration = Duration::from_secs(60);

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Run `usid-peaks ARGS` under the memory limit; (exit code or None when killed, stderr, seconds).
fn run_limited(args: &[&str]) -> (Option<i32>, String, f64) {
    let t0 = Instant::now();
    let mut child = crate::util::command("sh")
        .arg("-c")
        .arg(format!("ulimit -v {MEMORY_LIMIT_KIB} && exec \"$@\""))
        .arg("sh")
        .arg(BIN)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sh");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if t0.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let text = reader.join().unwrap_or_default();
    (status.and_then(|s| s.code()), text, t0.elapsed().as_secs_f64())
}

#[test]
fn no_odd_file_makes_the_reader_panic_hang_or_allocate_without_bound() {
    let cases = env_or("USID_FUZZ_CASES", 80);
    let seed = env_or("USID_FUZZ_SEED", 1);
    let dir = tempfile::tempdir().unwrap();
    let (n, s) = (cases.to_string(), seed.to_string());
    reference(
        "h5py_write.py",
        &[
            "fuzz".as_ref(),
            dir.path().as_os_str(),
            "--cases".as_ref(),
            n.as_ref(),
            "--seed".as_ref(),
            s.as_ref(),
        ],
    );

    let mut failures = Vec::new();
    let mut codes = std::collections::BTreeMap::<String, u32>::new();
    let (mut runs, mut slowest) = (0u32, (0.0f64, String::new()));
    let t0 = Instant::now();
    for case in 0..cases {
        let file = dir.path().join(format!("case_{case:05}.h5"));
        let f = file.to_str().expect("UTF-8 temporary path");
        let out_dir = tempfile::tempdir().unwrap();
        let out = out_dir.path().join("out.h5");
        let out = out.to_str().expect("UTF-8 temporary path");
        for args in [&["inspect", f][..], &["inspect", "--json", f, RAW], &["find", "-q", f, "--output", out]]
        {
            let (code, stderr, secs) = run_limited(args);
            runs += 1;
            let what = format!("case {case} (seed {seed}): usid-peaks {}", args.join(" "));
            if secs > slowest.0 {
                slowest = (secs, what.clone());
            }
            *codes.entry(format!("{}:{:?}", args[0], code)).or_default() += 1;
            let one_line = stderr.lines().count() == 1 && stderr.starts_with("usid-peaks: error: ");
            let fine = match code {
                Some(0) => !stderr.contains("panicked"),
                Some(2..=5) => one_line,
                _ => false,
            };
            if !fine {
                failures.push(format!("{what}: exit {code:?}: {}", stderr.trim()));
            }
        }
    }
    eprintln!(
        "fuzz: {cases} cases, {runs} runs in {:.1} s, exit codes {codes:?}, slowest {:.2} s ({})",
        t0.elapsed().as_secs_f64(),
        slowest.0,
        slowest.1
    );
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}
