//! The options shared by `pixel`, `find`, `plot` and `bench`: an analysis's parameters (made from
//! its description: the command line only translates them), `--along`, and `--bind-threads`.

use std::marker::PhantomData;

use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches};
use usid_peaks::compute::Binding;
use usid_peaks::params::{DefaultTo, Kind, Parameters, Spec, Values};
use usid_peaks::peaks::PeakParams;
use usid_peaks::usid::{MainDataset, SpectraLayout};

use super::CliError;

/// The options of peak finding.
pub type CwtArgs = ParamArgs<PeakParams>;

/// The options of a parameter set `P`, one per parameter of its description (`--min-snr`, and
/// a second flag where the description gives one, `--width-list`), under its title; each value
/// as the user wrote it, read by the library's grammar when [`ParamArgs::params`] is called.
#[derive(Debug, Clone)]
pub struct ParamArgs<P> {
    /// (parameter, the flag it was given with, the text), for the parameters given.
    given: Vec<(&'static Spec, String, String)>,
    _params: PhantomData<P>,
}

impl<P: Parameters> ParamArgs<P> {
    /// The parameters: the given values, the described defaults for the rest.
    pub fn params(&self) -> Result<P, CliError> {
        let mut values = Values::new(P::DESCRIPTION);
        for (spec, flag, text) in &self.given {
            let value = spec.parse(text).map_err(|why| CliError::usage(format!("--{flag}: {why}")))?;
            values.set(spec.name, value).map_err(|e| CliError::usage(format!("--{flag}: {e}")))?;
        }
        P::from_values(&values).map_err(|e| CliError::usage(e.to_string()))
    }
}

/// The clap id and long flag of `spec`'s second flag.
fn alias_id(spec: &Spec) -> Option<(String, &'static str)> {
    spec.alias.map(|a| (a.long.replace('-', "_"), a.long))
}

/// The option of one parameter.
fn option(spec: &Spec) -> Arg {
    let value_name = spec.value_name.map_or_else(|| spec.name.to_uppercase(), str::to_string);
    let mut help = spec.help.to_string();
    if spec.kind == Kind::Widths {
        help.push_str(": START:STOP:NUM is exactly np.linspace(START, STOP, NUM)");
    }
    let mut arg = Arg::new(spec.name).long(spec.flag()).value_name(value_name).action(ArgAction::Set);
    arg = match spec.default {
        DefaultTo::Text(t) => arg.default_value(t),
        DefaultTo::Derived(how) => {
            help.push_str(&format!(" [default: {how}]"));
            arg
        }
    };
    if let Some((id, _)) = alias_id(spec) {
        arg = arg.conflicts_with(id);
    }
    match spec.kind {
        Kind::Float => arg.allow_negative_numbers(true).help(help),
        Kind::Choice(choices) => arg
            .value_parser(PossibleValuesParser::new(
                choices.iter().map(|c| PossibleValue::new(c.name).help(c.help)),
            ))
            .help(help),
        _ => arg.help(help),
    }
}

impl<P: Parameters> clap::Args for ParamArgs<P> {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        let heading = cmd.get_next_help_heading().map(str::to_string);
        let mut cmd = cmd.next_help_heading(P::DESCRIPTION.title);
        for spec in P::DESCRIPTION.specs() {
            cmd = cmd.arg(option(spec));
            if let (Some(a), Some((id, _))) = (spec.alias, alias_id(spec)) {
                cmd = cmd.arg(
                    Arg::new(id).long(a.long).value_name(a.value_name).help(a.help).action(ArgAction::Set),
                );
            }
        }
        match heading {
            Some(h) => cmd.next_help_heading(h),
            None => cmd.next_help_heading(None::<&str>),
        }
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl<P: Parameters> clap::FromArgMatches for ParamArgs<P> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut given = Vec::new();
        for spec in P::DESCRIPTION.specs() {
            let alias = alias_id(spec).map(|(id, long)| (id, long.to_string()));
            for (id, flag) in std::iter::once((spec.name.to_string(), spec.flag())).chain(alias) {
                // Defaults are the description's: only what the user wrote is taken.
                if matches.value_source(&id).is_some_and(|s| s != ValueSource::DefaultValue) {
                    if let Some(text) = matches.get_one::<String>(&id) {
                        given.push((spec, flag, text.clone()));
                    }
                }
            }
        }
        Ok(ParamArgs { given, _params: PhantomData })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

/// Which spectroscopic dimension a spectrum runs along (`find`, `pixel`, `plot`, `bench`).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct AlongArg {
    /// The spectroscopic dimension a spectrum runs along, e.g. Frequency or DC_Offset
    /// [default: the fastest-varying one].
    #[arg(long, value_name = "DIM")]
    pub along: Option<String>,
}

impl AlongArg {
    /// The spectra of `main` along the chosen dimension.
    pub fn layout(&self, main: &MainDataset) -> Result<SpectraLayout, CliError> {
        SpectraLayout::named(main, self.along.as_deref())?.map_err(CliError::usage)
    }
}

/// `--bind-threads`, for `find` and `bench`.
#[derive(clap::Args, Debug, Clone)]
pub struct BindArg {
    /// Bind each thread to a CPU: `auto` does when a rank has one thread per CPU it may run on
    /// and too few ranks on its node to share them (as OMP_PROC_BIND=close does for OpenMP
    /// threads; OMP_PROC_BIND=false turns it off).
    #[arg(long, value_enum, default_value = "auto", value_name = "WHEN")]
    pub bind_threads: Binding,
}
