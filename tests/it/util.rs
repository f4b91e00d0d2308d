//! What every integration test shares: the `usid-peaks` binary (alone or under mpirun), generated
//! maps, the results groups a run leaves, the Python reference environment in `.venv` (scipy,
//! h5py, pyUSID, driven through the programs in `tests/reference/`), and the failure contract.
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_usid-peaks");
/// The main dataset of every generated map.
pub const RAW: &str = "/Measurement_000/Channel_000/Raw_Data";
/// The group the results groups of a generated map are written beside `Raw_Data` in.
pub const CHANNEL: &str = "/Measurement_000/Channel_000";

/// The repository root (the reference programs and environment are found from here).
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A temporary path as the `&str` a command line takes.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

/// A child process that inherits none of this process's open files. The tests share one process,
/// and HDF5 opens its files without close-on-exec: a child started by one test while another test
/// has a file open in process would keep that file's lock for its whole life, and a run on that
/// file would then be refused as busy ("open for writing in another program").
pub fn command(program: impl AsRef<OsStr>) -> Command {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(program);
    // SAFETY: between fork and exec the hook only makes fcntl calls, which are async-signal-safe,
    // and allocates nothing.
    unsafe {
        cmd.pre_exec(|| {
            for fd in 3..4096 {
                let flags = libc::fcntl(fd, libc::F_GETFD);
                if flags >= 0 {
                    libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
                }
            }
            Ok(())
        });
    }
    cmd
}

/// `usid-peaks ARGS`, whatever its exit.
pub fn run(args: &[&str]) -> Output {
    command(BIN).args(args).output().expect("start usid-peaks")
}

/// `usid-peaks ARGS`, which must succeed.
pub fn ok(args: &[&str]) -> Output {
    succeeded(run(args), &format!("usid-peaks {args:?}"))
}

/// `out` after checking it exited 0 (`what` names the command in the failure).
pub fn succeeded(out: Output, what: &str) -> Output {
    assert!(
        out.status.success(),
        "{what} failed ({:?}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `mpirun -np NP` for the OpenMPI here, as the scripts launch it (`bash scripts/lib.sh mpirun`:
/// as root where the tests run as root, more ranks than cores allowed, and what OpenMPI 5 needs
/// so that only our own lines reach stderr); the program and its arguments follow.
pub fn mpirun_command(np: usize) -> Command {
    static LINE: OnceLock<Vec<String>> = OnceLock::new();
    let line = LINE.get_or_init(|| {
        let out = Command::new("bash")
            .arg(repo().join("scripts/lib.sh"))
            .arg("mpirun")
            .output()
            .expect("start bash");
        let out = succeeded(out, "bash scripts/lib.sh mpirun");
        String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()
    });
    let mut cmd = command(&line[0]);
    cmd.args(&line[1..]).args(["-np", &np.to_string()]);
    cmd
}

/// `mpirun -np NP usid-peaks ARGS`, which must succeed with nothing on stderr but usid-peaks's own
/// lines (no line of OpenMPI's, on OpenMPI 4 or 5).
#[cfg(feature = "mpi")]
pub fn mpirun(np: usize, args: &[&str]) -> Output {
    let out = mpirun_command(np).arg(BIN).args(args).output().unwrap_or_else(|_| missing("mpirun (OpenMPI)"));
    let out = succeeded(out, &format!("mpirun -np {np} usid-peaks {args:?}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let foreign: Vec<&str> = stderr.lines().filter(|l| !l.starts_with("usid-peaks")).collect();
    assert!(foreign.is_empty(), "mpirun -np {np} usid-peaks {args:?}: lines not ours on stderr: {foreign:?}");
    out
}

/// `usid-peaks generate DIR/NAME --rows ROWS --cols COLS --seed SEED` (119 bins, BELine).
pub fn generate(dir: &Path, name: &str, rows: usize, cols: usize, seed: u64) -> PathBuf {
    let path = dir.join(name);
    let (rows, cols, seed) = (rows.to_string(), cols.to_string(), seed.to_string());
    ok(&["generate", s(&path), "--rows", &rows, "--cols", &cols, "--seed", &seed]);
    path
}

/// The JSON summary `--json` printed.
pub fn summary(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).expect("--json prints one JSON object")
}

/// The names of the peak-finding results groups of a generated map's `file`, oldest first (none
/// when the file or its channel group does not open).
pub fn peak_groups(file: &Path) -> Vec<String> {
    let Ok(f) = hdf5::File::open(file) else { return Vec::new() };
    let Ok(channel) = f.group(CHANNEL) else { return Vec::new() };
    let mut names: Vec<String> = channel
        .member_names()
        .unwrap_or_default()
        .into_iter()
        .filter(|n| n.contains("-Peak_Finding_"))
        .collect();
    names.sort();
    names
}

/// The names in `dir` that end in `suffix` (side files a run leaves: `.ckpt`, locks, staging).
pub fn side_files(dir: &Path, suffix: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|it| {
            it.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(suffix))
                .collect()
        })
        .unwrap_or_default()
}

/// Wait until the run `child` has a checkpoint in `dir` (it holds the lock and computes), failing
/// if it ends first or takes over 30 s.
pub fn wait_for_checkpoint(child: &mut Child, dir: &Path) {
    let t0 = Instant::now();
    while side_files(dir, ".ckpt").is_empty() {
        assert!(child.try_wait().expect("wait").is_none(), "the run ended before it was stopped");
        assert!(t0.elapsed() < Duration::from_secs(30), "no checkpoint after 30 s");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Wait until the run `child` has a checkpoint in `dir` of more than 64 KiB (several batches
/// done), failing if it ends first or takes over 60 s; the checkpoint's path.
pub fn wait_for_batches(child: &mut Child, dir: &Path) -> PathBuf {
    wait_for_checkpoint_over(child, dir, 64 * 1024)
}

/// Wait until the run `child` has a checkpoint in `dir` of more than `bytes` bytes, failing if it
/// ends first or takes over 60 s; the checkpoint's path.
pub fn wait_for_checkpoint_over(child: &mut Child, dir: &Path, bytes: u64) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let big = side_files(dir, ".ckpt")
            .into_iter()
            .map(|name| dir.join(name))
            .find(|p| p.metadata().map(|m| m.len()).unwrap_or(0) > bytes);
        if let Some(path) = big {
            return path;
        }
        assert!(Instant::now() < deadline, "no checkpoint of over {bytes} bytes after 60 s");
        assert!(child.try_wait().expect("wait").is_none(), "the run finished before it could be stopped");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// `usid-peaks find -q FILE` on one thread in batches of 1 MiB, so that it is still computing
/// when a test stops it, started in the background with stderr piped; returned once its
/// checkpoint exists beside `file` (it holds the lock and computes).
pub fn slow_find(file: &Path) -> Child {
    slow_run(&["find", "-q", "--threads", "1", "--max-mem", "1", s(file)], file)
}

/// `usid-peaks ARGS` started in the background with stderr piped; returned once its checkpoint
/// exists beside `file` (it holds the lock and computes).
pub fn slow_run(args: &[&str], file: &Path) -> Child {
    let mut child = command(BIN).args(args).stderr(Stdio::piped()).spawn().expect("start usid-peaks");
    wait_for_checkpoint(&mut child, file.parent().expect("a file in a directory"));
    child
}

/// Exit `code`, exactly one line on stderr that says what is wrong and mentions `mentions`
/// (where; empty where the caller checks the returned line itself), no panic, no backtrace,
/// nothing on stdout. Returns that line.
pub fn assert_one_line_error(out: &Output, code: i32, mentions: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line expected, got: {stderr}");
    assert!(stderr.starts_with("usid-peaks: error: "), "{stderr}");
    assert!(stderr.contains(mentions), "{stderr:?} should mention {mentions:?}");
    assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing on stdout: {}", String::from_utf8_lossy(&out.stdout));
    stderr.trim_end().to_string()
}

/// A file in this test run's scratch directory, unique to this process.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("usid-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the scratch directory");
    dir.join(name)
}

/// A prerequisite that `scripts/bootstrap.sh --tests` installs is missing: one line saying what
/// to run, and the whole test run ends (every test after it would fail the same way).
pub fn missing(what: &str) -> ! {
    eprintln!("usid-peaks tests: {what} is missing: run scripts/bootstrap.sh --tests");
    std::process::exit(2)
}

/// The reference Python (`.venv/bin/python`).
pub fn python() -> PathBuf {
    let py = repo().join(".venv/bin/python");
    if !py.exists() {
        missing("the Python reference environment (.venv)");
    }
    py
}

/// `tests/reference/NAME ARGS` run by the reference Python; it must succeed. It runs in a fork
/// of `tests/reference/preloaded.py`, one Python per test process that imported sidpy and the
/// rest once (each program spent ~3 s of CPU importing them; the module says what differs from
/// `python NAME ARGS`).
pub fn reference(name: &str, args: &[&OsStr]) -> Output {
    let program = repo().join("tests/reference").join(name);
    let server = preloaded().as_ref().unwrap_or_else(|why| panic!("{why}"));
    succeeded(server.run(&program, args), &format!("{name} {args:?}"))
}

/// The test process's one preloaded reference Python, started on first use (a failed start is
/// kept: every test that needs it fails with the same reason, none starts it again). It ends
/// when this process does: its stdin is a pipe from here.
fn preloaded() -> &'static Result<Preloaded, String> {
    static SERVER: OnceLock<Result<Preloaded, String>> = OnceLock::new();
    SERVER.get_or_init(Preloaded::start)
}

/// How long a reference program may take before its test fails instead of waiting on.
const REFERENCE_TIMEOUT: Duration = Duration::from_secs(300);

struct Preloaded {
    /// An abstract socket's name (no file, no path-length limit of the scratch directory).
    name: String,
    _server: Child,
}

impl Preloaded {
    fn start() -> Result<Preloaded, String> {
        use std::io::BufRead;
        let name = format!("usid-peaks-tests-{}", std::process::id());
        let mut server = command(python())
            .arg(repo().join("tests/reference/preloaded.py"))
            .arg(format!("@{name}"))
            // h5py must not take a file a test holds open in this process for locked. The
            // server forks, so it must run one thread: no OpenBLAS pool, no jemalloc thread of
            // pyarrow's (it checks).
            .env("HDF5_USE_FILE_LOCKING", "FALSE")
            .env("OPENBLAS_NUM_THREADS", "1")
            .env("JE_ARROW_MALLOC_CONF", "background_thread:false")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start tests/reference/preloaded.py: {e}"))?;
        let mut line = String::new();
        let _ = std::io::BufReader::new(server.stdout.take().expect("its stdout")).read_line(&mut line);
        if line.trim() != "ready" {
            let ended = server.wait().map_or_else(|e| e.to_string(), |s| s.to_string());
            return Err(format!("tests/reference/preloaded.py did not start ({ended}); its stderr is above"));
        }
        Ok(Preloaded { name, _server: server })
    }

    /// `program ARGS` in a fork of the server, as `python program ARGS` would run it.
    fn run(&self, program: &Path, args: &[&OsStr]) -> Output {
        use std::io::{BufRead, Read, Write};
        use std::os::linux::net::SocketAddrExt;
        use std::os::unix::net::{SocketAddr, UnixStream};
        use std::os::unix::process::ExitStatusExt;
        let what = format!("{} {args:?}", program.display());
        let args: Vec<&str> = args.iter().map(|a| a.to_str().expect("UTF-8 arguments")).collect();
        let request = serde_json::json!({ "program": program, "args": args });
        let addr = SocketAddr::from_abstract_name(&self.name).expect("an abstract socket name");
        let mut conn = UnixStream::connect_addr(&addr).expect("connect to preloaded.py");
        conn.set_read_timeout(Some(REFERENCE_TIMEOUT)).expect("a read timeout");
        writeln!(conn, "{request}").expect("send the request");
        let mut answer = std::io::BufReader::new(conn);
        let mut head = String::new();
        answer
            .read_line(&mut head)
            .unwrap_or_else(|e| panic!("{what}: no answer in {REFERENCE_TIMEOUT:?} ({e})"));
        let head: serde_json::Value = serde_json::from_str(&head).unwrap_or_else(|e| {
            panic!("{what} ended without an answer ({e}); preloaded.py's stderr is above")
        });
        let mut bytes = |key: &str| {
            let mut buf = vec![0; head[key].as_u64().expect("a length") as usize];
            answer.read_exact(&mut buf).expect("read the captured output");
            buf
        };
        let (stdout, stderr) = (bytes("stdout"), bytes("stderr"));
        let wait_status = head["wait_status"].as_i64().expect("a wait status") as i32;
        Output { status: std::process::ExitStatus::from_raw(wait_status), stdout, stderr }
    }
}

/// `tests/reference/NAME ARGS` run by the reference Python, and the JSON it prints.
pub fn script(name: &str, args: &[&OsStr]) -> serde_json::Value {
    let out = reference(name, args);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{name} prints JSON: {e}"))
}

/// pyUSID's view of `object` in `file` (`tests/reference/pyusid_read.py FILE OBJECT EXTRA...`).
pub fn check(file: &Path, object: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![file.as_os_str(), OsStr::new(object)];
    args.extend(extra.iter().map(OsStr::new));
    script("pyusid_read.py", &args)
}

/// `tests/reference/scipy_peaks.py FILE GROUP`: every spectrum of the group's source against scipy's
/// find_peaks_cwt (`mismatches`, `spectra`, pyUSID's `n_dim` forms).
pub fn scipy_compare(file: &Path, group: &str) -> serde_json::Value {
    script("scipy_peaks.py", &[file.as_os_str(), OsStr::new(group)])
}

/// Write `out` with pyUSID (`tests/reference/pyusid_write.py`): `args` are the program's options
/// (`--channel float32:1:1`, ...). Returns pyUSID's view of every main dataset (a JSON list).
pub fn write_with_pyusid(out: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec![out.as_os_str()];
    all.extend(args.iter().map(OsStr::new));
    script("pyusid_write.py", &all)
}
