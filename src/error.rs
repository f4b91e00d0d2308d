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
    /// A bug in usid-peaks.
    Internal,
}

impl Class {
    /// Every class, for tables and tests.
    pub const ALL: [Class; 7] = [
        Class::Usage,
        Class::Input,
        Class::Output,
        Class::Busy,
        Class::Launch,
        Class::Interrupted,
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

    #[test]
    fn hdf5_style_messages_become_one_line() {
        assert_eq!(
            one_line("H5Dread(): can't read\n    major: Dataset\n  minor: x"),
            "H5Dread(): can't read major: Dataset minor: x"
        );
    }
}
