//! Scenario discovery, one scenario on several DUTs, and the summary table.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::diff::{diff, Declared, DiffReport, Timing};
use crate::duts::{make_target, DutKind, DutSetup};
use crate::normalize::{normalize, NormEvent};
use crate::run::{run_script, RunOptions, RunResult, Verdict};
use crate::script::{self, EventKind, PacketSpec, Script};

/// Errors finding scenarios.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// A path given on the command line does not exist.
    #[error("{0}: no such file or directory")]
    Missing(PathBuf),
    /// A directory could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// No `.pkt` file under the given paths.
    #[error("no .pkt scenario found under {0}")]
    Empty(String),
}

/// Every `.pkt` file under `paths` (files are taken as they are), sorted.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, SuiteError> {
    let mut out = Vec::new();
    for p in paths {
        if !p.exists() {
            return Err(SuiteError::Missing(p.clone()));
        }
        if p.is_file() {
            out.push(p.clone());
        } else {
            walk(p, &mut out)?;
        }
    }
    out.sort();
    out.dedup();
    if out.is_empty() {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(SuiteError::Empty(names.join(", ")));
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), SuiteError> {
    let rd = std::fs::read_dir(dir).map_err(|source| SuiteError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    for entry in rd {
        let entry = entry.map_err(|source| SuiteError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let p = entry.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "pkt") {
            out.push(p);
        }
    }
    Ok(())
}

/// A scenario's id: its path below `scenarios/` without `.pkt`
/// (`tcp/handshake-passive`), or the file stem.
pub fn scenario_id(path: &Path) -> String {
    let s = path.with_extension("").display().to_string();
    match s.rfind("scenarios/") {
        Some(i) => s[i + "scenarios/".len()..].to_string(),
        None => path
            .file_stem()
            .map_or(s.clone(), |f| f.to_string_lossy().into_owned()),
    }
}

/// What happened to one scenario on one DUT.
#[derive(Debug, Clone)]
pub enum DutOutcome {
    /// It ran; the verdict says how.
    Ran {
        /// The raw run.
        result: RunResult,
        /// Its normalized trace.
        norm: Vec<NormEvent>,
    },
    /// It could not run here (no namespaces); the reason says why.
    Skipped(String),
    /// Setting the DUT up failed.
    SetupError(String),
}

impl DutOutcome {
    /// The cell in the summary table.
    pub fn cell(&self) -> &'static str {
        match self {
            DutOutcome::Ran { result, .. } => match result.verdict {
                Verdict::Passed => "pass",
                Verdict::Failed(_) => "FAIL",
                Verdict::Unsupported { .. } => "unsupported",
            },
            DutOutcome::Skipped(_) => "skipped",
            DutOutcome::SetupError(_) => "ERROR",
        }
    }

    /// Whether this outcome fails the run.
    pub fn is_failure(&self) -> bool {
        matches!(self.cell(), "FAIL" | "ERROR" | "unsupported")
    }
}

/// One scenario on every requested DUT, with the Linux-vs-stack diffs.
#[derive(Debug, Clone)]
pub struct ScenarioOutcome {
    /// Scenario id.
    pub id: String,
    /// The script file.
    pub path: PathBuf,
    /// Parse error, if the script did not parse (then nothing ran).
    pub parse_error: Option<String>,
    /// Outcome per DUT.
    pub duts: BTreeMap<DutKind, DutOutcome>,
    /// Linux vs each stack DUT that ran.
    pub diffs: Vec<DiffReport>,
    /// Wall-clock time each DUT took (setup, run and normalization).
    pub durations: BTreeMap<DutKind, std::time::Duration>,
    /// When the scenario was run twice ([`SuiteOptions::retry`]): what was
    /// wrong with the first run ([`details`]); the rest is the second run.
    pub retried: Option<String>,
}

impl ScenarioOutcome {
    /// Whether the scenario passes: parsed, passed on every DUT that ran,
    /// and no undeclared divergence.
    pub fn passed(&self) -> bool {
        self.parse_error.is_none()
            && !self.duts.values().any(DutOutcome::is_failure)
            && self.diffs.iter().all(DiffReport::is_clean)
    }
}

/// Whether a script is about ARP (then the DUT gets no static neighbour).
pub fn is_arp_scenario(s: &Script) -> bool {
    s.events
        .iter()
        .any(|e| matches!(&e.kind, EventKind::Packet(p) if matches!(p.packet, PacketSpec::Arp(_))))
}

/// Settings for a suite run.
#[derive(Debug, Clone)]
pub struct SuiteOptions {
    /// DUTs to run.
    pub duts: Vec<DutKind>,
    /// Why namespaces are unavailable, if they are: the real-time DUTs are
    /// then skipped with this reason.
    pub no_namespaces: Option<String>,
    /// Run options.
    pub run: RunOptions,
    /// Declared divergences.
    pub declared: Vec<Declared>,
    /// Seed for the stack.
    pub seed: u64,
    /// Run a scenario a second time when its first run failed only on
    /// real-time DUTs (linux, stack) or in their comparison: their
    /// millisecond tolerances meet scheduling delays on a loaded machine.
    /// The second run's outcome counts; the first one's failure is kept in
    /// [`ScenarioOutcome::retried`] and shown. A failure on `sim` (virtual
    /// time, deterministic) or a script error is never retried.
    pub retry: bool,
}

/// Runs one scenario file on every DUT in `opts`, a second time when the
/// first run failed on real-time DUTs only (see [`SuiteOptions::retry`]).
pub fn run_scenario(path: &Path, opts: &SuiteOptions) -> ScenarioOutcome {
    let first = run_once(path, opts);
    if !opts.retry || !worth_a_second_run(&first) {
        return first;
    }
    let mut second = run_once(path, opts);
    second.retried = Some(details(&first));
    second
}

/// Whether a failed run may have failed on timing alone: it parsed, and
/// nothing failed on a DUT in virtual time (`sim`, deterministic).
pub fn worth_a_second_run(o: &ScenarioOutcome) -> bool {
    !o.passed()
        && o.parse_error.is_none()
        && !o
            .duts
            .iter()
            .any(|(k, d)| !k.needs_namespaces() && d.is_failure())
}

fn run_once(path: &Path, opts: &SuiteOptions) -> ScenarioOutcome {
    let id = scenario_id(path);
    let mut out = ScenarioOutcome {
        id: id.clone(),
        path: path.to_path_buf(),
        parse_error: None,
        duts: BTreeMap::new(),
        diffs: Vec::new(),
        durations: BTreeMap::new(),
        retried: None,
    };
    let script = match script::parse_file(path) {
        Ok(s) => s,
        Err(e) => {
            out.parse_error = Some(e.to_string());
            return out;
        }
    };
    let setup = DutSetup {
        static_neighbor: !is_arp_scenario(&script),
        seed: opts.seed,
        link_down: script.options.iter().any(|o| o.name == "dut_link_up"),
        proxy_arp: script
            .options
            .iter()
            .find(|o| o.name == "proxy_arp")
            .and_then(|o| o.value.as_deref())
            .and_then(|v| {
                let (a, p) = v.split_once('/')?;
                Some((a.parse().ok()?, p.parse().ok().filter(|p| *p <= 32)?))
            }),
        tb_gso: script.events.iter().any(|e| match &e.kind {
            script::EventKind::Packet(p) => {
                p.direction == script::Direction::Inbound
                    && matches!(&p.packet, script::PacketSpec::Tcp(t) if t.len > crate::run::MAX_PLAIN_PAYLOAD)
            }
            _ => false,
        }),
    };
    // The DUTs are independent (each real-time one in namespaces of its
    // own), so they run side by side: a scenario takes as long as its slowest
    // DUT rather than the sum, which matters for the ones that wait out real
    // timers (TIME-WAIT's 60 s). They sleep most of the time, so running them
    // together does not disturb their timing.
    let run_one = |kind: DutKind| match (&opts.no_namespaces, kind.needs_namespaces()) {
        (Some(why), true) => DutOutcome::Skipped(why.clone()),
        _ => match make_target(kind, setup) {
            Err(e) => DutOutcome::SetupError(e.to_string()),
            Ok(mut t) => {
                let result = run_script(t.as_mut(), &script, opts.run);
                drop(t);
                let norm = normalize(&result.trace, &result.facts);
                DutOutcome::Ran { result, norm }
            }
        },
    };
    let outcomes: Vec<(DutKind, DutOutcome, std::time::Duration)> = std::thread::scope(|scope| {
        let handles: Vec<_> = opts
            .duts
            .iter()
            .map(|&kind| {
                let timed = move || {
                    let start = std::time::Instant::now();
                    let o = run_one(kind);
                    (o, start.elapsed())
                };
                (kind, scope.spawn(timed))
            })
            .collect();
        handles
            .into_iter()
            .map(|(kind, h)| {
                let (outcome, took) = h.join().unwrap_or_else(|_| {
                    (
                        DutOutcome::SetupError("the DUT's run panicked".to_string()),
                        std::time::Duration::ZERO,
                    )
                });
                (kind, outcome, took)
            })
            .collect()
    });
    for (kind, outcome, took) in outcomes {
        out.duts.insert(kind, outcome);
        out.durations.insert(kind, took);
    }
    // The script's own `--tolerance_usecs` and time windows apply to the
    // diff as to the run.
    let timing = Timing::for_script(opts.run.tolerance, &script);
    if let Some(DutOutcome::Ran { norm: ln, .. }) = out.duts.get(&DutKind::Linux) {
        for kind in [DutKind::Stack, DutKind::Sim] {
            if let Some(DutOutcome::Ran { norm, .. }) = out.duts.get(&kind) {
                out.diffs.push(diff(
                    &id,
                    "linux",
                    ln,
                    kind.name(),
                    norm,
                    &timing,
                    &opts.declared,
                ));
            }
        }
    }
    out
}

/// The summary table (scenario × DUT, and the diff column).
pub fn table(outcomes: &[ScenarioOutcome], duts: &[DutKind]) -> String {
    let w = outcomes
        .iter()
        .map(|o| o.id.len())
        .max()
        .unwrap_or(8)
        .max(8);
    let mut s = String::new();
    let _ = write!(s, "{:<w$}", "scenario");
    for d in duts {
        let _ = write!(s, "  {:<11}", d.name());
    }
    let _ = writeln!(s, "  vs linux");
    for o in outcomes {
        let _ = write!(s, "{:<w$}", o.id);
        if let Some(e) = &o.parse_error {
            let _ = writeln!(s, "  SCRIPT ERROR: {e}");
            continue;
        }
        for d in duts {
            let c = o.duts.get(d).map_or("-", DutOutcome::cell);
            let _ = write!(s, "  {c:<11}");
        }
        let verdict = if o.diffs.is_empty() {
            "-".to_string()
        } else if o.diffs.iter().all(DiffReport::is_clean) {
            let declared: usize = o.diffs.iter().map(|d| d.differences.len()).sum();
            if declared == 0 {
                "agree".to_string()
            } else {
                format!("agree ({declared} declared)")
            }
        } else {
            let who: Vec<&str> = o
                .diffs
                .iter()
                .filter(|d| !d.is_clean())
                .map(|d| d.right.as_str())
                .collect();
            format!("DIFFER ({})", who.join(","))
        };
        let again = if o.retried.is_some() {
            "  [second run]"
        } else {
            ""
        };
        let _ = writeln!(s, "  {verdict}{again}");
    }
    s
}

/// Everything wrong with one scenario, readable: script errors, failed
/// expectations per DUT with both the expected line and what happened, and
/// the first undeclared Linux-vs-stack difference.
pub fn details(o: &ScenarioOutcome) -> String {
    let mut s = String::new();
    if let Some(e) = &o.parse_error {
        let _ = writeln!(s, "{e}");
    }
    for (kind, d) in &o.duts {
        match d {
            DutOutcome::Ran { result, .. } => match &result.verdict {
                Verdict::Passed => {}
                Verdict::Failed(f) => {
                    let _ = writeln!(s, "[{}] {}:{f}", kind.name(), o.path.display());
                }
                Verdict::Unsupported { line, what } => {
                    let _ = writeln!(
                        s,
                        "[{}] {}:{line}: unsupported: {what}",
                        kind.name(),
                        o.path.display()
                    );
                }
            },
            DutOutcome::Skipped(why) => {
                let _ = writeln!(s, "[{}] skipped: {why}", kind.name());
            }
            DutOutcome::SetupError(e) => {
                let _ = writeln!(s, "[{}] setup failed: {e}", kind.name());
            }
        }
    }
    for d in &o.diffs {
        if !d.is_clean() {
            let _ = writeln!(s, "{d}");
        }
    }
    // Next to a failure, where the testbench itself was late.
    if !s.is_empty() {
        for (kind, d) in &o.duts {
            if let DutOutcome::Ran { result, .. } = d {
                if !result.late.is_empty() {
                    let _ = writeln!(
                        s,
                        "[{}] the testbench was late (a loaded machine?): {}",
                        kind.name(),
                        result.late.join(", ")
                    );
                }
            }
        }
    }
    s
}

/// Each DUT's notes (what its runs did not apply of backtick commands, and
/// `print` output of `%{ }%` blocks), as `[dut] path:line: note` lines.
pub fn notes(o: &ScenarioOutcome) -> String {
    let mut s = String::new();
    for (kind, d) in &o.duts {
        if let DutOutcome::Ran { result, .. } = d {
            for n in &result.notes {
                let n = n.strip_prefix("line ").unwrap_or(n);
                let _ = writeln!(s, "[{}] {}:{n}", kind.name(), o.path.display());
            }
        }
    }
    s
}

/// The normalized trace of one DUT as text (the form snapshots keep); `exact`
/// adds times and TS values (use it for the deterministic `sim` DUT only).
pub fn render_trace(norm: &[NormEvent], exact: bool) -> String {
    let mut s = String::new();
    for e in norm {
        let _ = writeln!(s, "{}", e.render(exact));
    }
    s
}
