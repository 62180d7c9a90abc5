//! Diff of two DUTs' normalized traces, and the declared divergences.
//!
//! Events are compared in order, field by field; times and TS values within
//! the timing tolerance. A difference is *declared* when the divergence file
//! (`corpus/DIVERGENCES.md`, the one reviewed place) lists the scenario and
//! field with a reason; every other difference is a failure.

use std::fmt;
use std::path::Path;

use crate::normalize::NormEvent;
use crate::run::Tolerance;

/// One declared divergence: a row of the divergence table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    /// Scenario id (`tcp/handshake-passive`), or `*` for every scenario.
    pub scenario: String,
    /// Script line, or `None` (`*`) for any line.
    pub line: Option<usize>,
    /// Field name as the diff reports it (`tcp`, `opts`, `ip`, `time`, `ts`, `events`…).
    pub field: String,
    /// The RFC clause or Linux fact that justifies it.
    pub reason: String,
}

/// Errors reading the divergence table.
#[derive(Debug, thiserror::Error)]
pub enum DeclaredError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// A row is malformed.
    #[error("{path}:{line}: {message}")]
    Syntax {
        /// File.
        path: String,
        /// Line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// Reads the markdown table of declared divergences:
/// `| scenario | line | field | reason |` (header and separator rows skipped).
pub fn load_declared(path: &Path) -> Result<Vec<Declared>, DeclaredError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(DeclaredError::Io {
                path: path.display().to_string(),
                source,
            })
        }
    };
    parse_declared(&path.display().to_string(), &text)
}

/// Parses the divergence table (see [`load_declared`]).
pub fn parse_declared(path: &str, text: &str) -> Result<Vec<Declared>, DeclaredError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let l = raw.trim();
        if !l.starts_with('|') {
            continue;
        }
        let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
        if cells.first() == Some(&"scenario")
            || cells.iter().all(|c| c.starts_with("---") || c.is_empty())
        {
            continue;
        }
        let err = |message: &str| DeclaredError::Syntax {
            path: path.to_string(),
            line: i + 1,
            message: message.to_string(),
        };
        if cells.len() != 4 {
            return Err(err(
                "expected 4 cells: | scenario | line | field | reason |",
            ));
        }
        let line = match cells[1] {
            "*" => None,
            n => Some(n.parse().map_err(|_| err("line must be a number or *"))?),
        };
        if cells[3].len() < 10 {
            return Err(err(
                "a declared divergence needs its reason (RFC clause or Linux fact)",
            ));
        }
        out.push(Declared {
            scenario: cells[0].to_string(),
            line,
            field: cells[2].to_string(),
            reason: cells[3].to_string(),
        });
    }
    Ok(out)
}

/// One difference between the two traces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// Index of the event in the traces.
    pub index: usize,
    /// Script line of the event (from either side).
    pub line: Option<usize>,
    /// The field that differs.
    pub field: String,
    /// The left DUT's event, rendered (or `(none)`).
    pub left: String,
    /// The right DUT's event, rendered (or `(none)`).
    pub right: String,
    /// The declaration that covers it, if any.
    pub declared: Option<String>,
}

/// The result of diffing two traces.
#[derive(Debug, Clone, Default)]
pub struct DiffReport {
    /// Left DUT name.
    pub left: String,
    /// Right DUT name.
    pub right: String,
    /// Every difference, declared or not.
    pub differences: Vec<Difference>,
}

impl DiffReport {
    /// The first difference no declaration covers.
    pub fn first_undeclared(&self) -> Option<&Difference> {
        self.differences.iter().find(|d| d.declared.is_none())
    }

    /// Whether the two sides agree up to declared divergences.
    pub fn is_clean(&self) -> bool {
        self.first_undeclared().is_none()
    }
}

impl fmt::Display for DiffReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(d) = self.first_undeclared() else {
            return write!(f, "{} and {} agree", self.left, self.right);
        };
        let w = self.left.len().max(self.right.len());
        writeln!(
            f,
            "{} and {} differ at event {} (script line {}), field `{}`:",
            self.left,
            self.right,
            d.index + 1,
            d.line.map_or("?".to_string(), |l| l.to_string()),
            d.field
        )?;
        writeln!(f, "  {:>w$}: {}", self.left, d.left)?;
        write!(f, "  {:>w$}: {}", self.right, d.right)
    }
}

/// Diffs two normalized traces of `scenario`.
pub fn diff(
    scenario: &str,
    left_name: &str,
    left: &[NormEvent],
    right_name: &str,
    right: &[NormEvent],
    tol: Tolerance,
    declared: &[Declared],
) -> DiffReport {
    let mut differences = Vec::new();
    let n = left.len().max(right.len());
    let mut prev_at = (0, 0);
    let mut ts_base: Option<(i64, i64)> = None;
    for i in 0..n {
        let (l, r) = (left.get(i), right.get(i));
        let line = l.and_then(|e| e.line).or(r.and_then(|e| e.line));
        let render = |e: Option<&NormEvent>| e.map_or("(none)".to_string(), |e| e.render(true));
        let mut push = |field: &str| {
            let declared = declared
                .iter()
                .find(|d| {
                    (d.scenario == scenario || d.scenario == "*")
                        && (d.line.is_none() || d.line == line)
                        && d.field == field
                })
                .map(|d| d.reason.clone());
            differences.push(Difference {
                index: i,
                line,
                field: field.to_string(),
                left: render(l),
                right: render(r),
                declared,
            });
        };
        let (Some(a), Some(b)) = (l, r) else {
            push("events");
            continue;
        };
        if a.dir != b.dir || a.line != b.line {
            push("events");
            continue;
        }
        let keys: Vec<&str> = a.fields.iter().chain(&b.fields).map(|(k, _)| *k).collect();
        let mut seen = Vec::new();
        for k in keys {
            if seen.contains(&k) {
                continue;
            }
            seen.push(k);
            let va = a.fields.iter().find(|(kk, _)| *kk == k).map(|(_, v)| v);
            let vb = b.fields.iter().find(|(kk, _)| *kk == k).map(|(_, v)| v);
            if va != vb {
                push(k.trim_start_matches('_'));
            }
        }
        // Times are compared as intervals since the previous event of the
        // same trace, so one declared late event does not shift the rest.
        let (ia, ib) = (a.at - prev_at.0, b.at - prev_at.1);
        let allowed = tol.allowed(ia.min(ib));
        if (ia - ib).abs() > allowed {
            push("time");
        }
        // A TS value is a millisecond clock: it must move with the event's
        // time since the connection's first TS (the DUT segment whose
        // `ts_rel` is 0 in both traces), not with the absolute time, which
        // includes each DUT's own latency to that first segment; within the
        // timing tolerance (at least 2 ms: two clocks read at the same
        // instant differ by < 1 ms each way), as a frame's capture time may
        // lag the instant its TS was read by as much as any event's time.
        if a.dir == '>' && a.ts_rel == Some(0) && b.ts_rel == Some(0) {
            ts_base = Some((a.at, b.at));
        }
        let (ba, bb) = ts_base.unwrap_or((0, 0));
        let dt_ms = ((a.at - ba) - (b.at - bb)) as f64 / 1000.0;
        let ts_allowed = (tol.usecs as f64 / 1000.0).max(2.0);
        // (An inbound segment's TSecr echoes a TS the DUT sent earlier,
        // already compared there: only whether it has one is compared.)
        match (a.ts_rel, b.ts_rel) {
            (Some(x), Some(y)) if a.dir == '>' && ((x - y) as f64 - dt_ms).abs() > ts_allowed => {
                push("ts")
            }
            (Some(_), None) | (None, Some(_)) => push("ts"),
            _ => {}
        }
        prev_at = (a.at, b.at);
    }
    DiffReport {
        left: left_name.to_string(),
        right: right_name.to_string(),
        differences,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(line: usize, at: i64, tcp: &str) -> NormEvent {
        NormEvent {
            at,
            line: Some(line),
            dir: '>',
            fields: vec![("_tcp", tcp.to_string())],
            ts_rel: None,
        }
    }

    #[test]
    fn equal_traces_agree_and_times_within_tolerance_pass() {
        let a = vec![ev(3, 0, "S. 0:0(0) ack 1 win 65160")];
        let b = vec![ev(3, 3_000, "S. 0:0(0) ack 1 win 65160")];
        let d = diff("x", "linux", &a, "stack", &b, Tolerance::default(), &[]);
        assert!(d.is_clean(), "{d}");
    }

    #[test]
    fn a_field_difference_is_reported_with_both_sides() {
        let a = vec![ev(3, 0, "S. 0:0(0) ack 1 win 65160")];
        let b = vec![ev(3, 0, "S. 0:0(0) ack 0 win 65160")];
        let d = diff("x", "linux", &a, "stack", &b, Tolerance::default(), &[]);
        let first = d.first_undeclared().expect("differs");
        assert_eq!(first.field, "tcp");
        let text = d.to_string();
        assert!(text.contains("ack 1") && text.contains("ack 0"), "{text}");
    }

    #[test]
    fn late_event_and_missing_event_are_differences() {
        let a = vec![ev(3, 0, "S"), ev(4, 100_000, ".")];
        let b = vec![ev(3, 50_000, "S")];
        let d = diff("x", "linux", &a, "stack", &b, Tolerance::default(), &[]);
        let fields: Vec<&str> = d.differences.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["time", "events"]);
    }

    #[test]
    fn ts_values_are_compared_from_the_time_each_trace_first_showed_one() {
        // Both DUTs' first TS val is the base (TS rel 0), whenever it was
        // read: a first segment 3.5 ms later on one side is no TS difference;
        // a clock that then runs 10 ms apart is.
        let ts = |line, at, rel| NormEvent {
            ts_rel: Some(rel),
            ..ev(line, at, ".")
        };
        let a = vec![ts(3, 3_500, 0), ts(4, 23_500, 20)];
        let b = vec![ts(3, 0, 0), ts(4, 20_000, 20)];
        let d = diff("x", "linux", &a, "stack", &b, Tolerance::default(), &[]);
        assert!(d.is_clean(), "{d}");
        let b = vec![ts(3, 0, 0), ts(4, 20_000, 30)];
        let d = diff("x", "linux", &a, "stack", &b, Tolerance::default(), &[]);
        let fields: Vec<&str> = d.differences.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["ts"]);
    }

    #[test]
    fn declared_divergence_is_not_a_failure() {
        let table = "| scenario | line | field | reason |\n|---|---|---|---|\n| x | 3 | tcp | Linux does something the RFC allows |\n";
        let declared = parse_declared("D.md", table).unwrap();
        let a = vec![ev(3, 0, "S. win 1")];
        let b = vec![ev(3, 0, "S. win 2")];
        let d = diff(
            "x",
            "linux",
            &a,
            "stack",
            &b,
            Tolerance::default(),
            &declared,
        );
        assert!(d.is_clean());
        assert_eq!(d.differences.len(), 1);
        let d = diff(
            "y",
            "linux",
            &a,
            "stack",
            &b,
            Tolerance::default(),
            &declared,
        );
        assert!(!d.is_clean());
    }

    #[test]
    fn ts_values_move_with_the_time_since_the_first_dut_ts() {
        let ts = |mut e: NormEvent, rel: i64, dir: char| {
            e.ts_rel = Some(rel);
            e.dir = dir;
            e
        };
        // The stack answers the SYN 3 ms later than Linux; both clocks then
        // run alike, and an inbound TSecr echoes what each DUT sent.
        let a = vec![
            ts(ev(3, 0, "S."), 0, '>'),
            ts(ev(4, 10_000, "."), 0, '<'),
            ts(ev(5, 20_000, "P."), 20, '>'),
        ];
        let b = vec![
            ts(ev(3, 3_000, "S."), 0, '>'),
            ts(ev(4, 10_000, "."), 0, '<'),
            ts(ev(5, 20_000, "P."), 17, '>'),
        ];
        let d = diff("x", "linux", &a, "stack", &b, Tolerance::default(), &[]);
        assert!(d.is_clean(), "{d}");
        // A clock that runs 10 ms fast is a difference.
        let mut c = b.clone();
        c[2].ts_rel = Some(27);
        let d = diff("x", "linux", &a, "stack", &c, Tolerance::default(), &[]);
        let fields: Vec<&str> = d.differences.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["ts"]);
    }

    #[test]
    fn a_declaration_without_reason_is_rejected() {
        let err = parse_declared("D.md", "| x | 3 | tcp | |\n").unwrap_err();
        assert!(err.to_string().contains("D.md:1"), "{err}");
    }
}
