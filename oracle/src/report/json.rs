//! `--json FILE`: the results as one JSON document (schema in the README,
//! "Reports"). Version field `schema` changes when a field changes meaning.

use serde_json::{json, Map, Value};

use crate::diff::{DiffReport, Difference};
use crate::duts::DutKind;
use crate::suite::ScenarioOutcome;

use super::{comparison_name, problem, verdict_name, Artifacts};

/// The schema name written in every document.
pub const SCHEMA: &str = "oracle-results/1";

fn difference(d: &Difference) -> Value {
    json!({
        "index": d.index,
        "line": d.line,
        "field": d.field,
        "left": d.left,
        "right": d.right,
    })
}

fn comparison(d: &DiffReport) -> Value {
    let declared: Vec<Value> = d
        .differences
        .iter()
        .filter_map(|x| {
            x.declared.as_ref().map(|reason| {
                let mut v = difference(x);
                v["reason"] = json!(reason);
                v
            })
        })
        .collect();
    json!({
        "left": d.left,
        "right": d.right,
        "verdict": if d.is_clean() { "agree" } else { "differ" },
        "first_difference": d.first_undeclared().map(difference),
        "undeclared": d.differences.iter().filter(|x| x.declared.is_none()).count(),
        "declared": declared,
    })
}

fn paths(v: &[std::path::PathBuf]) -> Value {
    json!(v
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>())
}

/// One scenario as a JSON object.
pub fn scenario(o: &ScenarioOutcome, artifacts: &Artifacts) -> Value {
    let mut duts = Map::new();
    for (kind, d) in &o.duts {
        let (line, message) = match problem(d) {
            Some((l, m)) => (l, Some(m)),
            None => (None, None),
        };
        let files = artifacts.get(&(o.id.clone(), *kind));
        let (events, notes, late) = match d {
            crate::suite::DutOutcome::Ran { norm, result } => {
                (Some(norm.len()), result.notes.clone(), result.late.clone())
            }
            _ => (None, Vec::new(), Vec::new()),
        };
        duts.insert(
            kind.name().to_string(),
            json!({
                "verdict": verdict_name(d),
                "line": line,
                "message": message,
                "duration_ms": o.durations.get(kind).map(|t| (t.as_secs_f64() * 1e6).round() / 1e3),
                "events": events,
                "pcaps": paths(files.map_or(&[][..], |f| &f.pcaps)),
                "traces": paths(files.map_or(&[][..], |f| &f.traces)),
                "notes": notes,
                "late": late,
            }),
        );
    }
    json!({
        "id": o.id,
        "path": o.path.display().to_string(),
        "passed": o.passed(),
        "script_error": o.parse_error,
        "duts": duts,
        "comparison": comparison_name(o),
        "first_run": o.retried,
        "comparisons": o.diffs.iter().map(comparison).collect::<Vec<_>>(),
    })
}

/// The whole document.
pub fn document(
    outcomes: &[ScenarioOutcome],
    duts: &[DutKind],
    artifacts: &Artifacts,
    tolerance_usecs: i64,
    seed: u64,
) -> Value {
    let failed = outcomes.iter().filter(|o| !o.passed()).count();
    json!({
        "schema": SCHEMA,
        "duts": duts.iter().map(|d| d.name()).collect::<Vec<_>>(),
        "tolerance_usecs": tolerance_usecs,
        "seed": seed,
        "summary": {
            "scenarios": outcomes.len(),
            "passed": outcomes.len() - failed,
            "failed": failed,
        },
        "scenarios": outcomes.iter().map(|o| scenario(o, artifacts)).collect::<Vec<_>>(),
    })
}

/// The document as pretty-printed text.
pub fn render(
    outcomes: &[ScenarioOutcome],
    duts: &[DutKind],
    artifacts: &Artifacts,
    tolerance_usecs: i64,
    seed: u64,
) -> String {
    let mut s =
        serde_json::to_string_pretty(&document(outcomes, duts, artifacts, tolerance_usecs, seed))
            .expect("a serde_json Value always serializes");
    s.push('\n');
    s
}
