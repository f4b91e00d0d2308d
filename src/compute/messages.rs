//! What rank 0 tells the other ranks: its start decision and its final verdict, each as a typed
//! value or the error that ended the run (its class travels with its message), so every rank of a
//! job ends alike.

use super::checkpoint::Loaded;
use super::plan::RowSet;
use super::world::{Patience, World};
use super::ComputeError;
use crate::error::Class;

/// How rank 0's decision at the start reaches the other ranks.
pub(crate) enum Start {
    Reuse(String),
    Compute(RowSet),
}

/// The start decision, with the checkpoint rank 0 resumes from.
pub(crate) type StartDecision = (Start, Option<Loaded>);

/// Broadcast rank 0's start decision (or its error) to every rank, each waiting under `patience`.
pub(crate) fn share_decision(
    world: &World,
    decision: Result<StartDecision, ComputeError>,
    patience: &Patience,
) -> Result<StartDecision, ComputeError> {
    // Payload: tag 0 and the row ranges to compute, or tag 1 and the group to reuse.
    let encode = |d: &StartDecision| match &d.0 {
        Start::Compute(todo) => {
            let mut m = vec![0u8];
            for r in todo.ranges() {
                m.extend_from_slice(&r.start.to_le_bytes());
                m.extend_from_slice(&r.end.to_le_bytes());
            }
            m
        }
        Start::Reuse(g) => [&[1u8][..], g.as_bytes()].concat(),
    };
    let decode = |m: &[u8]| match m.first() {
        Some(0) => {
            let ranges = m[1..]
                .chunks_exact(16)
                .map(|c| {
                    let a = u64::from_le_bytes(c[..8].try_into().unwrap_or_default());
                    let b = u64::from_le_bytes(c[8..].try_into().unwrap_or_default());
                    a..b
                })
                .collect();
            Some((Start::Compute(RowSet::from_ranges(ranges)), None))
        }
        Some(1) => Some((Start::Reuse(String::from_utf8_lossy(&m[1..]).into_owned()), None)),
        _ => None,
    };
    share_outcome(world, decision, encode, decode, patience)
}

/// Broadcast rank 0's final result (group and item count, or its error) to every rank, each
/// waiting under `patience`.
pub(crate) fn share_verdict(
    world: &World,
    verdict: Result<(String, u64), ComputeError>,
    patience: &Patience,
) -> Result<(String, u64), ComputeError> {
    let encode = |(g, n): &(String, u64)| [&n.to_le_bytes()[..], g.as_bytes()].concat();
    let decode = |m: &[u8]| {
        let n = u64::from_le_bytes(m.get(..8)?.try_into().ok()?);
        Some((String::from_utf8_lossy(&m[8..]).into_owned(), n))
    };
    share_outcome(world, verdict, encode, decode, patience)
}

/// Rank 0's outcome on every rank: rank 0 keeps its own; the others get it as bytes — tag 0 and
/// the encoded value, or an error's tag and message — so a failure only rank 0 saw ends every
/// rank alike instead of leaving them in the next collective.
fn share_outcome<T>(
    world: &World,
    outcome: Result<T, ComputeError>,
    encode: impl Fn(&T) -> Vec<u8>,
    decode: impl Fn(&[u8]) -> Option<T>,
    patience: &Patience,
) -> Result<T, ComputeError> {
    let msg = match (world.is_root(), &outcome) {
        (true, Ok(v)) => [&[0u8][..], &encode(v)].concat(),
        (true, Err(e)) => error_message(e),
        (false, _) => Vec::new(),
    };
    let msg = world.broadcast_bytes(msg, patience);
    if world.is_root() {
        return outcome;
    }
    match msg.first() {
        Some(0) => {
            decode(&msg[1..]).ok_or_else(|| ComputeError::Internal("rank 0 sent a malformed message".into()))
        }
        _ => Err(error_from_message(&msg)),
    }
}

/// An error as bytes: its class's exit code (never 0, the tag of a value) and its message.
fn error_message(e: &ComputeError) -> Vec<u8> {
    let tag = u8::try_from(e.class().exit_code()).unwrap_or(u8::MAX);
    [&[tag][..], e.to_string().as_bytes()].concat()
}

fn error_from_message(msg: &[u8]) -> ComputeError {
    let text = String::from_utf8_lossy(msg.get(1..).unwrap_or_default()).into_owned();
    let class = msg.first().map_or(Class::Internal, |&t| Class::from_exit_code(i32::from(t)));
    ComputeError::of_class(class, text)
}
