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
use crate::script::{Script, TimeSpec};
use crate::target::Micros;

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

/// How far apart two DUTs' times may be: the timing tolerance, plus the
/// width of the script's own time window (`+.04~+.05`) on the lines that
/// give one. Each DUT was held to the whole window by the run, so two DUTs
/// that both kept it may be that far apart (packetdrill's time range: the
/// event may happen anywhere in it).
#[derive(Debug, Clone, Default)]
pub struct Timing {
    /// The tolerance of every interval.
    pub tol: Tolerance,
    /// (script line, window width) for the lines written `A~B`.
    windows: Vec<(usize, Micros)>,
}

impl From<Tolerance> for Timing {
    fn from(tol: Tolerance) -> Self {
        Timing {
            tol,
            windows: Vec::new(),
        }
    }
}

impl Timing {
    /// The tolerance with `script`'s own options applied
    /// ([`Tolerance::for_script`]) and the widths of its time windows. A
    /// window whose ends are not both absolute or both relative has no width
    /// the script alone gives (it depends on when the previous event
    /// happened) and adds nothing.
    pub fn for_script(tol: Tolerance, script: &Script) -> Timing {
        let windows = script
            .events
            .iter()
            .filter_map(|ev| {
                let t = ev.time.as_ref()?;
                let width = match (t.start, t.range_end?) {
                    (TimeSpec::Relative(a), TimeSpec::Relative(b))
                    | (TimeSpec::Absolute(a), TimeSpec::Absolute(b)) => b - a,
                    _ => return None,
                };
                (width > 0).then_some((ev.span.line, width))
            })
            .collect();
        Timing {
            tol: tol.for_script(script),
            windows,
        }
    }

    /// What two intervals ending at `line` may differ by; `shorter` is the
    /// shorter of the two.
    fn allowed(&self, line: Option<usize>, shorter: Micros) -> Micros {
        let window = line
            .and_then(|l| self.windows.iter().find(|(wl, _)| *wl == l))
            .map_or(0, |(_, w)| *w);
        self.tol.allowed(shorter) + window
    }
}

/// Diffs two normalized traces of `scenario`.
pub fn diff(
    scenario: &str,
    left_name: &str,
    left: &[NormEvent],
    right_name: &str,
    right: &[NormEvent],
    timing: &Timing,
    declared: &[Declared],
) -> DiffReport {
    let mut differences = Vec::new();
    let n = left.len().max(right.len());
    let mut prev_at = (0, 0);
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
        // Only the frames the DUT sent are timed: when the testbench injects
        // a frame or issues a call is the script's schedule as the runner
        // kept it, which says nothing of the DUT, and comparing it would
        // charge a DUT's lateness on the previous event (already judged
        // there, within the tolerance) a second time. When a blocking call
        // returns is checked on each DUT against the script (`A...B`).
        let (ia, ib) = (a.at - prev_at.0, b.at - prev_at.1);
        let allowed = timing.allowed(line, ia.min(ib));
        if a.dir == '>' && (ia - ib).abs() > allowed {
            push("time");
        }
        // A TS value is a millisecond clock: it must move with the event's
        // time, counted from the event that carried the connection's first
        // TS val (each trace's own zero). The event times carry the capture
        // jitter the timing tolerance allows (its absolute part), and each
        // of the two millisecond readings (zero and now) is off by < 1 ms.
        // A TS ecr from the testbench is the testbench's own mapping of the
        // script's value: only its presence is compared.
        let (za, zb) = (a.ts_zero.unwrap_or(0), b.ts_zero.unwrap_or(0));
        let dt_ms = ((a.at - za) - (b.at - zb)) as f64 / 1000.0;
        let ts_allowed = timing.tol.usecs as f64 / 1000.0 + 2.0;
        let is_val = a.dir == '>' && a.ts_zero.is_some() && b.ts_zero.is_some();
        match (a.ts_rel, b.ts_rel) {
            (Some(x), Some(y)) if is_val && ((x - y) as f64 - dt_ms).abs() > ts_allowed => {
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

    /// Linux (`a`) against the stack (`b`) with the default tolerance.
    fn diff_default(a: &[NormEvent], b: &[NormEvent], declared: &[Declared]) -> DiffReport {
        diff(
            "x",
            "linux",
            a,
            "stack",
            b,
            &Tolerance::default().into(),
            declared,
        )
    }

    fn ev(line: usize, at: i64, tcp: &str) -> NormEvent {
        NormEvent {
            at,
            line: Some(line),
            dir: '>',
            fields: vec![("_tcp", tcp.to_string())],
            ts_rel: None,
            ts_zero: None,
        }
    }

    #[test]
    fn equal_traces_agree_and_times_within_tolerance_pass() {
        let a = vec![ev(3, 0, "S. 0:0(0) ack 1 win 65160")];
        let b = vec![ev(3, 3_000, "S. 0:0(0) ack 1 win 65160")];
        let d = diff_default(&a, &b, &[]);
        assert!(d.is_clean(), "{d}");
    }

    #[test]
    fn a_field_difference_is_reported_with_both_sides() {
        let a = vec![ev(3, 0, "S. 0:0(0) ack 1 win 65160")];
        let b = vec![ev(3, 0, "S. 0:0(0) ack 0 win 65160")];
        let d = diff_default(&a, &b, &[]);
        let first = d.first_undeclared().expect("differs");
        assert_eq!(first.field, "tcp");
        let text = d.to_string();
        assert!(text.contains("ack 1") && text.contains("ack 0"), "{text}");
    }

    #[test]
    fn late_event_and_missing_event_are_differences() {
        let a = vec![ev(3, 0, "S"), ev(4, 100_000, ".")];
        let b = vec![ev(3, 50_000, "S")];
        let d = diff_default(&a, &b, &[]);
        let fields: Vec<&str> = d.differences.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["time", "events"]);
    }

    #[test]
    fn declared_divergence_is_not_a_failure() {
        let table = "| scenario | line | field | reason |\n|---|---|---|---|\n| x | 3 | tcp | Linux does something the RFC allows |\n";
        let declared = parse_declared("D.md", table).unwrap();
        let a = vec![ev(3, 0, "S. win 1")];
        let b = vec![ev(3, 0, "S. win 2")];
        let d = diff_default(&a, &b, &declared);
        assert!(d.is_clean());
        assert_eq!(d.differences.len(), 1);
        let d = diff(
            "y",
            "linux",
            &a,
            "stack",
            &b,
            &Tolerance::default().into(),
            &declared,
        );
        assert!(!d.is_clean());
    }

    #[test]
    fn ts_values_are_a_clock_counted_from_each_traces_first_ts() {
        let ts = |at, zero, rel| NormEvent {
            ts_rel: Some(rel),
            ts_zero: Some(zero),
            ..ev(3, at, "S.")
        };
        // The stack's SYN-ACK (its first TS val) leaves 3.7 ms later: both are +0.
        let a = vec![ts(250, 250, 0), ts(100_250, 250, 100)];
        let b = vec![ts(3_950, 3_950, 0), ts(100_950, 3_950, 97)];
        let d = diff_default(&a, &b, &[]);
        assert!(d.is_clean(), "{d}");
        // A clock that did not advance with the time is a difference.
        let b = vec![ts(3_950, 3_950, 0), ts(100_950, 3_950, 90)];
        let d = diff_default(&a, &b, &[]);
        let fields: Vec<&str> = d.differences.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["ts"]);
    }

    #[test]
    fn a_script_time_window_widens_what_two_duts_may_differ_by() {
        let script = crate::script::parse(
            "w.pkt",
            "0 < S 0:0(0) win 65535\n+0 > S. 0:0(0) ack 1\n+.04~+.05 > . 1:1(0) ack 1\n+.04 > . 1:1(0) ack 1\n",
        )
        .expect("parses");
        let timing = Timing::for_script(Tolerance::default(), &script);
        // Line 3 allows 10 ms of window on top of the tolerance (4 ms, or
        // 12.5 % of 40 ms = 5 ms): intervals of 40 and 54.9 ms agree there.
        let a = vec![ev(2, 0, "S."), ev(3, 40_000, ".")];
        let b = vec![ev(2, 0, "S."), ev(3, 54_900, ".")];
        let d = diff("x", "linux", &a, "stack", &b, &timing, &[]);
        assert!(d.is_clean(), "{d}");
        // 15.1 ms apart is beyond window and tolerance.
        let b = vec![ev(2, 0, "S."), ev(3, 55_100, ".")];
        let d = diff("x", "linux", &a, "stack", &b, &timing, &[]);
        assert_eq!(d.first_undeclared().map(|d| d.field.as_str()), Some("time"));
        // Line 4 has no window: 5.1 ms apart is a difference there.
        let a = vec![ev(2, 0, "S."), ev(4, 40_000, ".")];
        let b = vec![ev(2, 0, "S."), ev(4, 45_100, ".")];
        let d = diff("x", "linux", &a, "stack", &b, &timing, &[]);
        assert_eq!(d.first_undeclared().map(|d| d.field.as_str()), Some("time"));
    }

    #[test]
    fn only_the_frames_the_dut_sent_are_timed() {
        let at = |mut e: NormEvent, dir: char| {
            e.dir = dir;
            e
        };
        // The stack's SYN-ACK is 3.5 ms later (within the tolerance); the
        // testbench's ACK follows on the script's schedule in both runs, so
        // its interval since the SYN-ACK differs by 3.5 ms more: no difference.
        let a = vec![at(ev(3, 0, "S."), '>'), at(ev(4, 10_500, "."), '<')];
        let b = vec![at(ev(3, 3_500, "S."), '>'), at(ev(4, 10_100, "."), '<')];
        let d = diff_default(&a, &b, &[]);
        assert!(d.is_clean(), "{d}");
        // The same shift on the DUT's own segment is one.
        let b = vec![at(ev(3, 0, "S."), '>'), at(ev(4, 5_000, "."), '>')];
        let a = vec![at(ev(3, 0, "S."), '>'), at(ev(4, 10_000, "."), '>')];
        let d = diff_default(&a, &b, &[]);
        let fields: Vec<&str> = d.differences.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["time"]);
    }

    #[test]
    fn a_declaration_without_reason_is_rejected() {
        let err = parse_declared("D.md", "| x | 3 | tcp | |\n").unwrap_err();
        assert!(err.to_string().contains("D.md:1"), "{err}");
    }
}
