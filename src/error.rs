//! The classes of failure every room's errors carry as a value, and the one table that turns a
//! class into the process's exit code (documented in the README).

/// What kind of failure an error is: what the user must act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// A bad option or parameter.
    Usage,
    /// The input file or dataset is missing, unreadable or not valid USID.
    Input,
    /// The results cannot be written (permissions, full disk, …).
    Output,
    /// Another run holds the file.
    Busy,
    /// The job was started in a way that cannot work (a launcher without MPI, …), or MPI failed.
    Launch,
    /// SIGINT/SIGTERM: progress is kept for a resume.
    Interrupted,
    /// A rank of the job sent nothing for `--rank-timeout` (its host, or the link to it, is
    /// lost): the job ends, progress is kept for a resume.
    Silent,
    /// A bug in usid-peaks.
    Internal,
}

impl Class {
    /// Every class, for tables and tests.
    pub const ALL: [Class; 8] = [
        Class::Usage,
        Class::Input,
        Class::Output,
        Class::Busy,
        Class::Launch,
        Class::Interrupted,
        Class::Silent,
        Class::Internal,
    ];

    /// The exit code of a process that ends with this class of failure — the only place the codes
    /// are written down (clap's own usage errors are 2 as well).
    pub fn exit_code(self) -> i32 {
        match self {
            Class::Usage => 2,
            Class::Input => 3,
            Class::Output => 4,
            Class::Busy => 5,
            Class::Launch => 6,
            Class::Interrupted => 130,
            Class::Silent => 7,
            Class::Internal => 70,
        }
    }

    /// The class whose exit code is `code`; an unknown code is [`Class::Internal`].
    pub fn from_exit_code(code: i32) -> Class {
        Class::ALL.into_iter().find(|c| c.exit_code() == code).unwrap_or(Class::Internal)
    }
}

/// Another library's message (HDF5's carry line breaks and runs of spaces) flattened to one line,
/// for the tail of ours: every error reaches the user as one line.
pub fn one_line(e: impl std::fmt::Display) -> String {
    e.to_string().split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_has_its_own_exit_code_and_comes_back_from_it() {
        let mut codes: Vec<i32> = Class::ALL.iter().map(|c| c.exit_code()).collect();
        for c in Class::ALL {
            assert_eq!(Class::from_exit_code(c.exit_code()), c);
        }
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Class::ALL.len());
        // Codes travel between ranks as one byte.
        assert!(codes.iter().all(|&c| (1..=255).contains(&c)));
    }

    /// The exit codes are written in one place, [`Class::exit_code`]: no call that ends a process
    /// (`exit`, `_exit`, `abort`, `MPI_Abort`, a signal's shutdown) is given a number anywhere
    /// else in the library, the command line or the Python binding.
    #[test]
    fn no_exit_code_is_written_outside_the_table() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        let mut dirs = vec![root.join("src"), root.join("python/src")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().map(Result::unwrap) {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("src/error.rs") {
                    files.push(path);
                }
            }
        }
        assert!(files.len() > 20, "found {} source files", files.len());
        let mut literal = Vec::new();
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            for (n, line) in text.lines().enumerate() {
                if line.trim_start().starts_with("//") {
                    continue;
                }
                for call in ["exit(", "abort(", "MPI_Abort(", "shutdown("] {
                    for (at, _) in line.match_indices(call) {
                        let args = &line[at + call.len()..];
                        let args = &args[..args.find(')').unwrap_or(args.len())];
                        if args
                            .split(',')
                            .any(|a| !a.trim().is_empty() && a.trim().bytes().all(|b| b.is_ascii_digit()))
                        {
                            literal.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                        }
                    }
                }
            }
        }
        assert!(literal.is_empty(), "exit codes written outside the table:\n{}", literal.join("\n"));
    }

    #[test]
    fn hdf5_style_messages_become_one_line() {
        assert_eq!(
            one_line("H5Dread(): can't read\n    major: Dataset\n  minor: x"),
            "H5Dread(): can't read major: Dataset minor: x"
        );
    }
}
