//! The `usid-peaks` command line: parse, run, report any error once.
mod cli;

fn main() {
    std::process::exit(cli::main());
}
