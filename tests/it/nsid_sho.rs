//! `sho` over NSID datasets written by pyNSID (tests/reference/nsid_write.py): every record of
//! `Guess` and `Fit` is the kernel's (`ShoFitter`, the USID run's reference in `sho.rs`) on that
//! spectrum as numpy arranges it, on one process and on two ranks alike; the results are NSID
//! datasets of BGlib's compound records that pyNSID lists with a dimension scale per axis, beside
//! the source's group, which still reads with pyNSID; reuse, `--force`, `--output` and resume
//! follow the one results-group rule.
use std::ffi::OsStr;
use std::path::Path;

use hdf5::types::VarLenUnicode;
use num_complex::Complex32;
use serde_json::Value;
use usid_peaks::sho::Sho;

use crate::nsid::{check_resumed, copy_of, map, resume_map, RAW};
use crate::sho::{bits, kernel_of};
#[cfg(feature = "mpi")]
use crate::util::mpirun;
use crate::util::{ok, reference, s, scratch, slow_run, summary, wait_for_checkpoint_over};

/// Where `sho` puts the first results of a pyNSID map's source: beside its group.
const LOG: &str = "/Measurement_000/Channel_000/Log_SHO_Fit_000";

/// Each case, the `--along` it runs with (none: the default) and the dimensions its results keep.
const CASES: [(&str, Option<&str>, &[&str]); 2] =
    [("complex3d", None, &["y", "x"]), ("complex4d", Some("Frequency"), &["y", "x", "DC_Offset"])];

/// `sho --json -q` on `file` with `args`, on one process.
fn sho(file: &Path, args: &[&str]) -> Value {
    summary(&ok(&[&["sho", "--json", "-q", s(file)][..], args].concat()))
}

/// `Guess` and `Fit` of the NSID results group `group` of `file`, row-major, and their shape.
fn records(file: &Path, group: &str) -> (Vec<Sho>, Vec<Sho>, Vec<usize>) {
    let f = hdf5::File::open(file).expect("open the results file");
    let read = |name: &str| f.dataset(&format!("{group}/{name}/{name}")).expect(name);
    let (guess, fit) = (read("Guess"), read("Fit"));
    assert_eq!(guess.shape(), fit.shape());
    (guess.read_raw().unwrap(), fit.read_raw().unwrap(), fit.shape())
}

/// What the kernel gives for every spectrum of the source of `file` along Frequency, arranged by
/// numpy as pyNSID reads the axes (nsid_read.py --rows): the guesses and the fits.
fn kernel(file: &Path) -> (Vec<Sho>, Vec<Sho>) {
    let rows_file = scratch(&format!("{}.rows.h5", file.file_stem().unwrap().to_string_lossy()));
    let args = [rows_file.as_os_str(), file.as_os_str(), OsStr::new(RAW), OsStr::new("Frequency")];
    let mut all = vec![OsStr::new("--rows")];
    all.extend(args);
    reference("nsid_read.py", &all);
    let rows: Vec<Complex32> =
        hdf5::File::open(&rows_file).unwrap().dataset("0").unwrap().read_raw().unwrap();
    let f = hdf5::File::open(file).unwrap();
    let freqs: Vec<f64> =
        f.dataset("/Measurement_000/Channel_000/Raw_Data/Frequency").unwrap().read_raw().unwrap();
    kernel_of(&freqs, &rows)
}

#[test]
fn every_record_of_an_nsid_sho_fit_is_the_kernels_on_one_and_two_ranks() {
    for (case, along, _) in CASES {
        let file = copy_of(case, &format!("sho_{case}.h5"));
        let extra: Vec<&str> = along.map(|a| vec!["--along", a]).unwrap_or_default();
        let v = sho(&file, &[&["--threads", "1"][..], &extra].concat());
        assert_eq!((&v["group"], &v["dataset"]), (&Value::from(LOG), &Value::from(RAW)), "{case}");
        let (guess, fit, shape) = records(&file, LOG);
        let f = hdf5::File::open(&file).unwrap();
        let source = f.dataset(RAW).unwrap().shape();
        let want: Vec<usize> =
            if along.is_some() { vec![source[0], source[1], source[3]] } else { source[..2].to_vec() };
        assert_eq!(shape, want, "{case}: (positions…, other dims…)");
        let (kg, kf) = kernel(&file);
        assert!(
            kf.iter().filter(|r| r.r2 > 0.5).count() > kf.len() / 2,
            "{case}: the spectra are resonances"
        );
        assert_eq!(bits(&guess), bits(&kg), "{case}: Guess");
        assert_eq!(bits(&fit), bits(&kf), "{case}: Fit");
        for name in ["Guess", "Fit"] {
            let d = f.dataset(&format!("{LOG}/{name}/{name}")).unwrap();
            let text = |a: &str| d.attr(a).unwrap().read_scalar::<VarLenUnicode>().unwrap().to_string();
            assert_eq!((text("quantity"), text("units")), ("SHO".into(), "compound".into()), "{case}");
            assert_eq!(text("guess-algorithm"), "complex_gaussian", "{case}: BGlib's parameters");
        }
        let g = f.group(LOG).unwrap();
        for status in ["completed_guess_positions", "completed_fit_positions"] {
            let done: Vec<u8> = g.dataset(status).unwrap().read_raw().unwrap();
            assert!(done.len() == want[0] * want[1] && done.iter().all(|&d| d == 1), "{case}: {status}");
        }
        drop(f);
        #[cfg(feature = "mpi")]
        {
            let (out, source) = (scratch(&format!("sho_{case}_np2.h5")), map(case));
            let args =
                [&["sho", "--json", "-q", "--max-mem", "1", s(&source), "-o", s(&out)][..], &extra].concat();
            let v = summary(&mpirun(2, &args));
            assert_eq!((&v["group"], &v["ranks"]), (&Value::from(LOG), &Value::from(2)), "{case}");
            let (g2, f2, _) = records(&out, LOG);
            assert_eq!((bits(&g2), bits(&f2)), (bits(&guess), bits(&fit)), "{case}: 2 ranks = 1 process");
        }
    }
}

/// The path and the `k`-th entry of what nsid_read.py says of every dataset pyNSID lists in `file`.
fn pynsid_view(files: &[&Path]) -> Value {
    let args: Vec<&OsStr> = files.iter().map(|f| f.as_os_str()).collect();
    serde_json::from_slice(&reference("nsid_read.py", &args).stdout).expect("nsid_read.py prints JSON")
}

#[test]
fn pynsid_lists_guess_and_fit_with_a_scale_per_axis_and_still_reads_the_source() {
    let files: Vec<_> = CASES
        .iter()
        .map(|(case, along, _)| {
            let file = copy_of(case, &format!("sho_view_{case}.h5"));
            sho(&file, &along.map(|a| vec!["--along", a]).unwrap_or_default());
            file
        })
        .collect();
    let view = pynsid_view(&files.iter().map(|f| f.as_path()).collect::<Vec<_>>());
    let fields = "[('Amplitude [V]', '<f8'), ('Frequency [Hz]', '<f8'), ('Quality Factor', '<f8'), ('Phase [rad]', '<f8'), ('R2 Criterion', '<f8')]";
    for ((case, _, kept), file) in CASES.iter().zip(&files) {
        let main = view[s(file)].as_array().expect("pyNSID's list");
        let source = main.iter().find(|d| d["path"] == RAW).expect("the source is still listed");
        assert!(source.get("error").is_none(), "{case}: pyNSID no longer reads the source: {source}");
        for name in ["Guess", "Fit"] {
            let path = format!("{LOG}/{name}/{name}");
            let d =
                main.iter().find(|d| d["path"] == path.as_str()).unwrap_or_else(|| panic!("{case}: {path}"));
            assert_eq!(d["dtype"], fields, "{case} {name}: BGlib's records");
            let labels: Vec<&str> =
                d["scales"].as_array().unwrap().iter().map(|x| x["label"].as_str().unwrap()).collect();
            assert_eq!(labels, *kept, "{case} {name}");
            for scale in d["scales"].as_array().unwrap() {
                assert_eq!(
                    (&scale["is_scale"], &scale["is_attached"]),
                    (&Value::from(true), &Value::from(true))
                );
            }
            match d.get("error") {
                // pyNSID 0.0.7.2 reads every dataset into a float or complex64 array: compound
                // records are beyond it, whoever writes them; h5py's view above is the check.
                Some(e) => assert!(e.as_str().unwrap().contains("conversion path"), "{case} {name}: {e}"),
                None => {
                    let names: Vec<&str> =
                        d["dims"].as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap()).collect();
                    assert_eq!(names, *kept, "{case} {name}");
                }
            }
        }
    }
}

#[test]
fn a_second_nsid_sho_reuses_its_group_force_takes_the_next_and_output_keeps_the_path() {
    let file = copy_of("complex3d", "sho_reuse.h5");
    let first = sho(&file, &[]);
    assert_eq!((&first["group"], &first["reused"]), (&Value::from(LOG), &Value::from(false)));
    let again = sho(&file, &[]);
    assert_eq!(
        (&again["group"], &again["reused"], &again["peaks"]),
        (&Value::from(LOG), &Value::from(true), &first["peaks"])
    );
    assert_eq!(first["peaks"], 2 * 5 * 7, "a guess and a fit per spectrum");
    let forced = sho(&file, &["--force"]);
    assert_eq!(forced["group"], "/Measurement_000/Channel_000/Log_SHO_Fit_001");
    let other = sho(&file, &["--max-iterations", "3"]);
    assert_eq!(
        (&other["group"], &other["reused"]),
        (&Value::from("/Measurement_000/Channel_000/Log_SHO_Fit_002"), &Value::from(false))
    );
    let out = scratch("sho_nsid_out.h5");
    let v = sho(&map("not_leading"), &["-o", s(&out)]);
    assert_eq!(v["group"], LOG);
    let (_, fit, shape) = records(&out, LOG);
    assert_eq!(shape, vec![5, 6], "(y, x) of the source's (Frequency, y, x)");
    let again = sho(&map("not_leading"), &["-o", s(&out)]);
    assert_eq!(again["reused"], true);
    let (_, fit_again, _) = records(&out, LOG);
    assert_eq!(bits(&fit), bits(&fit_again));
}

/// The wavelet guess (find_peaks_cwt over 20 widths per spectrum): a run long enough to be
/// stopped between its first and its last batch on a busy machine.
const SLOW: &[&str] = &["--guess", "wavelet-peaks"];

#[test]
fn an_nsid_sho_fit_killed_mid_run_resumes_to_a_clean_runs_records() {
    let (dir, file, source) = resume_map();
    let mut child =
        slow_run(&[&["sho", "-q", "--threads", "1", "--max-mem", "1", s(&file)][..], SLOW].concat(), &file);
    // SIGKILL once the checkpoint holds a few whole batches (of some 90 KiB each: records of
    // 80 bytes): a batch written only in part when the kill comes is rightly not resumed.
    wait_for_checkpoint_over(&mut child, dir.path(), 256 * 1024);
    child.kill().unwrap(); // SIGKILL
    assert!(child.wait().unwrap().code().is_none(), "killed by a signal, not ended");
    assert!(std::fs::read(&file).unwrap() == source, "the file is as it was");
    let clean = check_resumed(&sho(&file, SLOW), dir.path(), LOG);
    sho(&clean, SLOW);
    let ((g, f, _), (cg, cf, _)) = (records(&file, LOG), records(&clean, LOG));
    assert_eq!((bits(&g), bits(&f)), (bits(&cg), bits(&cf)), "the resumed run's records are a clean run's");
}
