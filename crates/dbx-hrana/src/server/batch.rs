//! Batches, run one step at a time: for `batch` requests all at once, for cursors as the
//! client fetches, so that a cursor holds at most one step's rows it has not sent.

use std::collections::VecDeque;

use super::stream::{Failure, Stream, Version};
use crate::proto::{self, Batch, BatchCond, BatchResult, BatchStep, CursorEntry, StmtResult};

/// A batch under way: the steps still to run, what each step before did, and the bytes of
/// rows the rest may still return.
#[derive(Debug)]
pub(crate) struct BatchRun {
    steps: std::vec::IntoIter<BatchStep>,
    /// None: skipped; Some(true): ran and succeeded; Some(false): ran and failed.
    outcomes: Vec<Option<bool>>,
    budget: usize,
}

/// One step's fate: skipped, or run with this result.
pub(crate) type StepOutcome = Option<Result<StmtResult, proto::Error>>;

impl BatchRun {
    /// Checks a batch before any step runs: its size, and that every condition refers to an
    /// earlier step and is known to `version`.
    pub(crate) fn new(
        batch: Batch,
        version: Version,
        max_steps: usize,
        budget: usize,
    ) -> Result<Self, Failure> {
        if batch.steps.len() > max_steps {
            return Err(Failure::Request(proto::Error::new(
                "BATCH_TOO_LARGE",
                format!(
                    "the batch has {} steps; a batch may have at most {max_steps}: split it",
                    batch.steps.len()
                ),
            )));
        }
        for (i, step) in batch.steps.iter().enumerate() {
            if let Some(cond) = &step.condition {
                check_condition(cond, i, version)?;
            }
        }
        Ok(Self {
            outcomes: Vec::with_capacity(batch.steps.len()),
            steps: batch.steps.into_iter(),
            budget,
        })
    }

    /// Runs the next step on `stream`; `None` once every step has had its turn.
    pub(crate) async fn next(&mut self, stream: &mut Stream) -> Option<(usize, StepOutcome)> {
        let step = self.steps.next()?;
        let index = self.outcomes.len();
        let run = step
            .condition
            .as_ref()
            .is_none_or(|c| evaluate(c, &self.outcomes, stream.is_autocommit()));
        if !run {
            self.outcomes.push(None);
            return Some((index, None));
        }
        let outcome = stream
            .execute(step.stmt, self.budget)
            .await
            .map(|(result, bytes)| {
                self.budget = self.budget.saturating_sub(bytes);
                result
            });
        self.outcomes.push(Some(outcome.is_ok()));
        Some((index, Some(outcome)))
    }

    /// Whether every step has had its turn.
    pub(crate) fn is_done(&self) -> bool {
        self.steps.len() == 0
    }

    /// Runs what is left and collects it as a `batch` response.
    pub(crate) async fn finish(mut self, stream: &mut Stream) -> BatchResult {
        let mut result = BatchResult::default();
        while let Some((_, outcome)) = self.next(stream).await {
            let (ok, err) = match outcome {
                None => (None, None),
                Some(Ok(r)) => (Some(r), None),
                Some(Err(e)) => (None, Some(e)),
            };
            result.step_results.push(ok);
            result.step_errors.push(err);
        }
        result
    }
}

/// A cursor: a batch whose steps run as its entries are fetched.
#[derive(Debug)]
pub(crate) struct Cursor {
    /// `None` for a cursor that failed as a whole.
    run: Option<BatchRun>,
    /// Entries produced and not yet fetched: at most one step's.
    pending: VecDeque<CursorEntry>,
}

impl Cursor {
    pub(crate) fn new(run: BatchRun) -> Self {
        Self {
            run: Some(run),
            pending: VecDeque::new(),
        }
    }

    /// A cursor that has failed as a whole: it yields the error, then ends.
    pub(crate) fn failed(error: proto::Error) -> Self {
        Self {
            run: None,
            pending: VecDeque::from([CursorEntry::Error { error }]),
        }
    }

    /// Up to `max` entries, running further steps only while fewer than `max` are pending;
    /// and whether the cursor is done.
    pub(crate) async fn fetch(
        &mut self,
        stream: &mut Stream,
        max: usize,
    ) -> (Vec<CursorEntry>, bool) {
        if let Some(run) = &mut self.run {
            while self.pending.len() < max {
                let Some((index, outcome)) = run.next(stream).await else {
                    break;
                };
                push_entries(&mut self.pending, index, outcome);
            }
        }
        let n = max.min(self.pending.len());
        let entries: Vec<CursorEntry> = self.pending.drain(..n).collect();
        let done = self.pending.is_empty() && self.run.as_ref().is_none_or(BatchRun::is_done);
        (entries, done)
    }
}

/// The cursor entries of one step: none for a skipped one.
pub(crate) fn push_entries(out: &mut impl Extend<CursorEntry>, index: usize, outcome: StepOutcome) {
    let step = u32::try_from(index).unwrap_or(u32::MAX);
    match outcome {
        None => {}
        Some(Err(error)) => out.extend([CursorEntry::StepError { step, error }]),
        Some(Ok(result)) => {
            out.extend([CursorEntry::StepBegin {
                step,
                cols: result.cols,
            }]);
            out.extend(result.rows.into_iter().map(|row| CursorEntry::Row { row }));
            out.extend([CursorEntry::StepEnd {
                affected_row_count: result.affected_row_count,
                last_insert_rowid: result.last_insert_rowid,
            }]);
        }
    }
}

/// Conditions may only refer to earlier steps, and `is_autocommit` needs v3.
fn check_condition(cond: &BatchCond, index: usize, version: Version) -> Result<(), Failure> {
    match cond {
        BatchCond::Ok { step } | BatchCond::Error { step } => {
            if usize::try_from(*step).map_or(true, |s| s >= index) {
                return Err(Failure::Protocol(format!(
                    "Invalid reference to step in a batch condition: step {index} refers to step {step}"
                )));
            }
            Ok(())
        }
        BatchCond::Not { cond } => check_condition(cond, index, version),
        BatchCond::And { conds } | BatchCond::Or { conds } => conds
            .iter()
            .try_for_each(|c| check_condition(c, index, version)),
        BatchCond::IsAutocommit {} if version < Version::V3 => Err(Failure::Protocol(
            "The `is_autocommit` condition is only supported in protocol version hrana3 and higher"
                .into(),
        )),
        BatchCond::IsAutocommit {} => Ok(()),
    }
}

fn evaluate(cond: &BatchCond, outcomes: &[Option<bool>], autocommit: bool) -> bool {
    let outcome = |step: u32| {
        usize::try_from(step)
            .ok()
            .and_then(|s| outcomes.get(s).copied())
            .flatten()
    };
    match cond {
        BatchCond::Ok { step } => outcome(*step) == Some(true),
        // A skipped step is neither ok nor error, as the spec says.
        BatchCond::Error { step } => outcome(*step) == Some(false),
        BatchCond::Not { cond } => !evaluate(cond, outcomes, autocommit),
        BatchCond::And { conds } => conds.iter().all(|c| evaluate(c, outcomes, autocommit)),
        BatchCond::Or { conds } => conds.iter().any(|c| evaluate(c, outcomes, autocommit)),
        BatchCond::IsAutocommit {} => autocommit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_follow_the_spec() {
        let outcomes = [Some(true), Some(false), None];
        assert!(evaluate(&BatchCond::Ok { step: 0 }, &outcomes, true));
        assert!(evaluate(&BatchCond::Error { step: 1 }, &outcomes, true));
        // A skipped step is neither ok nor an error.
        assert!(!evaluate(&BatchCond::Error { step: 2 }, &outcomes, true));
        assert!(!evaluate(&BatchCond::Ok { step: 2 }, &outcomes, true));
        assert!(evaluate(&BatchCond::And { conds: vec![] }, &outcomes, true));
        assert!(!evaluate(&BatchCond::Or { conds: vec![] }, &outcomes, true));
        assert!(!evaluate(
            &BatchCond::Not {
                cond: Box::new(BatchCond::IsAutocommit {})
            },
            &outcomes,
            true
        ));
        assert!(check_condition(&BatchCond::Ok { step: 3 }, 3, Version::V3).is_err());
        assert!(check_condition(&BatchCond::IsAutocommit {}, 3, Version::V2).is_err());
    }
}
