//! Reports of a suite run that people can read and tools can parse: JSON
//! (`--json`), JUnit XML (`--junit`) and a static HTML report with ladder
//! diagrams (`--report`).
//!
//! All three are built from the same [`ScenarioOutcome`]s the text table is,
//! plus [`Artifacts`]: where the pcaps and text traces of each scenario and
//! DUT were written.

pub mod html;
pub mod json;
pub mod junit;
pub mod ladder;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::diff::DiffReport;
use crate::duts::DutKind;
use crate::run::Verdict;
use crate::suite::{DutOutcome, ScenarioOutcome};

/// The files written for one scenario on one DUT.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DutFiles {
    /// pcaps (from `--pcap` and `--report`).
    pub pcaps: Vec<PathBuf>,
    /// Normalized text traces (from `--traces` and `--report`).
    pub traces: Vec<PathBuf>,
}

/// Where the pcaps and traces of every (scenario id, DUT) went.
pub type Artifacts = BTreeMap<(String, DutKind), DutFiles>;

/// A DUT's verdict as the reports name it: `pass`, `fail`, `unsupported`,
/// `skipped` or `error` (the DUT could not be set up).
pub fn verdict_name(d: &DutOutcome) -> &'static str {
    match d {
        DutOutcome::Ran { result, .. } => match result.verdict {
            Verdict::Passed => "pass",
            Verdict::Failed(_) => "fail",
            Verdict::Unsupported { .. } => "unsupported",
        },
        DutOutcome::Skipped(_) => "skipped",
        DutOutcome::SetupError(_) => "error",
    }
}

/// What went wrong on a DUT, if anything: (script line, message).
pub fn problem(d: &DutOutcome) -> Option<(Option<usize>, String)> {
    match d {
        DutOutcome::Ran { result, .. } => match &result.verdict {
            Verdict::Passed => None,
            Verdict::Failed(f) => Some((
                Some(f.line),
                format!("{}: {}\n  script: {}", f.line, f.message, f.script),
            )),
            Verdict::Unsupported { line, what } => {
                Some((Some(*line), format!("{line}: unsupported: {what}")))
            }
        },
        DutOutcome::Skipped(why) => Some((None, format!("skipped: {why}"))),
        DutOutcome::SetupError(e) => Some((None, format!("setup failed: {e}"))),
    }
}

/// The cross-DUT verdict of a scenario: `agree` (up to declared
/// divergences), `differ`, or `none` (Linux and a stack DUT did not both run).
pub fn comparison_name(o: &ScenarioOutcome) -> &'static str {
    if o.diffs.is_empty() {
        "none"
    } else if o.diffs.iter().all(DiffReport::is_clean) {
        "agree"
    } else {
        "differ"
    }
}

/// The file-name stem of a scenario (`tcp/rto` → `tcp_rto`), as `--pcap` and
/// `--traces` name their files.
pub fn stem(id: &str) -> String {
    id.replace('/', "_")
}
