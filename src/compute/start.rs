//! The start of a run: what identifies its results (the fingerprint: the reuse key), where they
//! go, and rank 0's decision — take the target's lock, then reuse a complete group or resume a
//! checkpoint — which every rank learns, so a failure rank 0 alone sees ends every rank alike.

use std::path::{Path, PathBuf};

use super::analysis::Analysis;
use super::checkpoint::{Checkpoint, Loaded};
use super::engine::Job;
use super::input::Input;
use super::messages::{share_decision, Start, StartDecision};
use super::output::{self, Lock, TargetPaths};
use super::plan::RowSet;
use super::world::World;
use super::ComputeError;

/// Where a run's results go, and what makes them interchangeable with another run's.
pub(crate) struct Target {
    /// The dataset, its shape and type, the dimension the spectra run along, the analysis and its
    /// parameters, as JSON: recorded on the results group, compared to reuse one.
    pub fingerprint: String,
    pub paths: TargetPaths,
    /// The checkpoint of this input and fingerprint.
    pub checkpoint: PathBuf,
    /// What a rank says when the job ends on a silent rank once computing has begun: where the
    /// progress is and what to do.
    pub resume: String,
}

impl Target {
    pub(crate) fn new<A: Analysis>(job: &Job, input: &Input, analysis: &A) -> Result<Target, ComputeError> {
        if matches!(input.source, super::input::Source::Nsid(..)) && !analysis.writes_nsid() {
            return Err(ComputeError::Usage(format!(
                "{}: {} writes no results for an NSID dataset (yet); its sources are USID main datasets",
                input.dataset(),
                analysis.name()
            )));
        }
        refuse_axes_results_cannot_keep(input, analysis)?;
        let fingerprint = fingerprint(input, analysis)?;
        let paths = TargetPaths::new(job.output.as_deref().unwrap_or(&job.input));
        let checkpoint =
            paths.checkpoint(crc32fast::hash(checkpoint_key(&job.input, &fingerprint).as_bytes()));
        let resume = format!(
            "progress is saved in {}; run the same command again once every host answers",
            checkpoint.display()
        );
        Ok(Target { fingerprint, paths, checkpoint, resume })
    }
}

/// An NSID run's results keep the source's axes but the one the spectra run along, each a scale
/// of its name beside every result: axes the results' writer would refuse (a name that is not
/// plain, two alike, one named like a result or an axis the analysis adds) are refused before
/// computing, by the writer's own rule, instead of at the first write.
fn refuse_axes_results_cannot_keep<A: Analysis>(input: &Input, analysis: &A) -> Result<(), ComputeError> {
    let super::input::Source::Nsid(ds, spectra) = &input.source else { return Ok(()) };
    let kept = spectra.result_dims(ds);
    crate::nsid::check_axes(&kept, analysis.nsid_names()).map_err(|why| {
        let names: Vec<&str> = kept.iter().map(|d| d.name.as_str()).collect();
        ComputeError::Input(crate::usid::UsidError(format!(
            "{}: {}'s results keep its axes {}, and {why}: rename the axis",
            input.dataset(),
            analysis.name(),
            names.join(", ")
        )))
    })
}

/// What makes two runs' results interchangeable: the dataset, its shape and type, the dimension
/// the spectra run along, the analysis and its parameters. Its bytes are the reuse key of the
/// groups and checkpoints earlier releases wrote: change nothing here without a new key.
fn fingerprint<A: Analysis>(input: &Input, analysis: &A) -> Result<String, ComputeError> {
    let value = serde_json::json!({
        "dataset": input.dataset(),
        "shape": input.shape(),
        "dtype": input.dtype(),
        "along": input.layout.along_dim.name,
        "analysis": analysis.name(),
        "parameters": analysis.reuse_key(),
    });
    serde_json::to_string(&value).map_err(|e| ComputeError::Internal(format!("fingerprint: {e}")))
}

/// The checkpoint belongs to one input file too: two inputs may send results to one output.
fn checkpoint_key(input: &Path, fingerprint: &str) -> String {
    let canon = std::fs::canonicalize(input).unwrap_or_else(|_| input.to_owned());
    format!("{}\n{fingerprint}", canon.display())
}

/// How a run goes on after its start, on every rank; rank 0 holds the target's lock.
pub(crate) enum Started {
    /// A complete group with the same fingerprint is there: nothing to compute.
    Reuse { group: String, lock: Option<Lock> },
    /// Compute the rows `todo` (all of them, or what a checkpoint leaves), with the batches rank 0
    /// loaded from it.
    Compute { todo: RowSet, lock: Option<Lock>, loaded: Option<Loaded> },
}

/// Rank 0 decides (lock, reuse, resume) and tells the others; a failure it alone sees is sent as
/// the decision too, so no rank is left waiting.
pub(crate) fn start<A: Analysis>(
    world: &World,
    job: &Job,
    target: &Target,
    input: &Input,
    analysis: &A,
) -> Result<Started, ComputeError> {
    let mut lock = None;
    let decision: Result<StartDecision, ComputeError> = if world.is_root() {
        decide(job, target, input, analysis).map(|(start, held, loaded)| {
            lock = Some(held);
            (start, loaded)
        })
    } else {
        Ok((Start::Compute(RowSet::default()), None))
    };
    let patience = job.solo_patience("run the same command again once every host answers");
    Ok(match share_decision(world, decision, &patience)? {
        (Start::Reuse(group), _) => Started::Reuse { group, lock },
        (Start::Compute(todo), loaded) => Started::Compute { todo, lock, loaded },
    })
}

type Decision = (Start, Lock, Option<Loaded>);

/// Rank 0's start-up decisions: take the lock, reuse a complete group, or resume a checkpoint.
fn decide<A: Analysis>(
    job: &Job,
    target: &Target,
    input: &Input,
    analysis: &A,
) -> Result<Decision, ComputeError> {
    let lock = output::lock(&target.paths)?;
    output::check_target(&target.paths)?;
    if !job.force {
        if let Some(group) =
            output::find_reusable(&target.paths.target, input.dataset(), analysis, &target.fingerprint)
        {
            // A run killed between moving its results into place and deleting its checkpoint
            // leaves the checkpoint behind; the complete group makes it useless.
            let _ = std::fs::remove_file(&target.checkpoint);
            return Ok((Start::Reuse(group), lock, None));
        }
    }
    let n_rows = input.n_positions();
    let loaded = Checkpoint::load::<A::Item>(&target.checkpoint, &target.fingerprint, n_rows).unwrap_or(None);
    let mut done = vec![false; n_rows as usize];
    for r in loaded.iter().flat_map(|l| &l.rows) {
        done[r.start as usize..r.end as usize].fill(true);
    }
    Ok((Start::Compute(RowSet::missing(&done)), lock, loaded))
}
