//! `--report DIR`: a static HTML report, no external assets. `index.html`
//! is the scenario × DUT table; `<scenario>.html` (the id with `/` as `_`)
//! has each DUT's verdict and files, the Linux-vs-stack differences, ladder
//! diagrams side by side and the script with line anchors; `files/` holds
//! the pcaps and normalized text traces the pages link to.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::duts::DutKind;
use crate::suite::{DutOutcome, ScenarioOutcome};

use super::junit::escape;
use super::ladder::{self, Mark};
use super::{comparison_name, problem, stem, verdict_name, Artifacts};

/// The subdirectory of the report that holds pcaps and traces.
pub const FILES: &str = "files";

const STYLE: &str = r#"
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.2em 2em; color: #1b1b1b; }
h1 { font-size: 1.4em; margin: 0 0 .3em; } h2 { font-size: 1.1em; margin: 1.4em 0 .4em; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 3px 9px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
code, pre, .mono { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
.pass, .agree { background: #d6f5dd; } .fail, .error, .differ { background: #f9d2d2; font-weight: bold; }
.skipped, .none { background: #ececec; color: #555; } .unsupported { background: #ffe0b0; }
.agreedecl { background: #fff0b3; }
.summary span { margin-right: 1.2em; } td.nw { white-space: nowrap; }
a { color: #0645ad; }
pre.msg { white-space: pre-wrap; margin: 0; }
.ladders { display: flex; gap: 14px; overflow-x: auto; align-items: flex-start; }
.ladders > div { flex: none; border: 1px solid #ddd; }
svg.ladder rect.declared { fill: #fff0b3; stroke: #d9a400; }
svg.ladder rect.undeclared { fill: #ffd3d3; stroke: #d33; }
svg.ladder text.declaredt { fill: #8a6d00; } svg.ladder text.undeclaredt { fill: #c00; }
svg.ladder line.in { stroke: #1f5fbf; } svg.ladder line.out { stroke: #1a7f37; }
svg.ladder text.int { fill: #1f5fbf; } svg.ladder text.outt { fill: #1a7f37; }
.legend span { display: inline-block; padding: 1px 8px; margin-right: .8em; border: 1px solid #bbb; }
.script { counter-reset: none; border: 1px solid #ddd; padding: 4px 0; }
.script div { white-space: pre; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; padding: 0 6px; }
.script div:target { background: #cfe3ff; }
.script div.bad { background: #ffd3d3; } .script div.decl { background: #fff0b3; }
.script .n { display: inline-block; width: 3.5em; color: #888; text-align: right; margin-right: 1em; user-select: none; }
"#;

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"generator\" content=\"{GENERATOR}\"><title>{}</title><style>{STYLE}</style></head>\n<body>\n{body}</body></html>\n",
        escape(title)
    )
}

/// The page name of a scenario.
pub fn page_name(id: &str) -> String {
    format!("{}.html", stem(id))
}

fn rel_links(dir: &Path, paths: &[PathBuf], what: &str) -> Vec<String> {
    paths
        .iter()
        .filter_map(|p| p.strip_prefix(dir).ok())
        .map(|r| {
            format!(
                "<a href=\"{}\">{what}</a>",
                escape(&r.display().to_string())
            )
        })
        .collect()
}

fn comparison_cell(o: &ScenarioOutcome) -> (String, &'static str) {
    let declared: usize = o.diffs.iter().map(|d| d.differences.len()).sum();
    match comparison_name(o) {
        "none" => ("-".into(), "none"),
        "agree" if declared > 0 => (format!("agree ({declared} declared)"), "agreedecl"),
        "agree" => ("agree".into(), "agree"),
        _ => {
            let who: Vec<&str> = o
                .diffs
                .iter()
                .filter(|d| !d.is_clean())
                .map(|d| d.right.as_str())
                .collect();
            (format!("DIFFER ({})", who.join(",")), "differ")
        }
    }
}

/// `index.html`: the summary table.
pub fn index(outcomes: &[ScenarioOutcome], duts: &[DutKind]) -> String {
    let failed = outcomes.iter().filter(|o| !o.passed()).count();
    let mut b = String::new();
    let _ = writeln!(b, "<h1>Conformance report</h1>");
    let _ = writeln!(
        b,
        "<p class=\"summary\"><span><b>{}</b> scenarios</span><span class=\"pass\">&nbsp;{} passed&nbsp;</span><span class=\"{}\">&nbsp;{} failed&nbsp;</span><span>DUTs: {}</span></p>",
        outcomes.len(),
        outcomes.len() - failed,
        if failed > 0 { "fail" } else { "none" },
        failed,
        duts.iter().map(|d| d.name()).collect::<Vec<_>>().join(", ")
    );
    b.push_str("<table>\n<tr><th>scenario</th>");
    for d in duts {
        let _ = write!(b, "<th>{}</th>", d.name());
    }
    b.push_str("<th>vs linux</th><th>time</th></tr>\n");
    for o in outcomes {
        let _ = write!(
            b,
            "<tr><td class=\"nw\"><a href=\"{}\">{}</a></td>",
            escape(&page_name(&o.id)),
            escape(&o.id)
        );
        if let Some(e) = &o.parse_error {
            let _ = writeln!(
                b,
                "<td class=\"error\" colspan=\"{}\">script error: {}</td></tr>",
                duts.len() + 2,
                escape(e)
            );
            continue;
        }
        for d in duts {
            match o.duts.get(d) {
                Some(x) => {
                    let v = verdict_name(x);
                    let secs = o.durations.get(d).map_or(0.0, |t| t.as_secs_f64());
                    let _ = write!(
                        b,
                        "<td class=\"{v}\" title=\"{secs:.2} s\">{}</td>",
                        x.cell()
                    );
                }
                None => b.push_str("<td class=\"none\">-</td>"),
            }
        }
        let (text, class) = comparison_cell(o);
        // The DUTs run side by side: the scenario took as long as the slowest.
        let secs = o
            .durations
            .values()
            .map(|t| t.as_secs_f64())
            .fold(0.0, f64::max);
        // A second run (SuiteOptions::retry) is marked; its page says why.
        let again = if o.retried.is_some() {
            " <span title=\"the first run failed on a real-time DUT; see the scenario page\">[second run]</span>"
        } else {
            ""
        };
        let _ = writeln!(
            b,
            "<td class=\"{class}\">{}{again}</td><td class=\"nw\">{secs:.1} s</td></tr>",
            escape(&text)
        );
    }
    b.push_str("</table>\n");
    let _ = writeln!(
        b,
        "<p class=\"legend\"><span class=\"pass\">pass / agree</span><span class=\"agreedecl\">agree up to declared divergences</span><span class=\"fail\">FAIL / DIFFER (undeclared)</span><span class=\"unsupported\">unsupported</span><span class=\"skipped\">skipped</span></p>"
    );
    page("Conformance report", &b)
}

/// One scenario's page. `dir` is the report directory (links to files under
/// it are relative); `script` is the script's text, if it could be read.
pub fn scenario_page(
    o: &ScenarioOutcome,
    dir: &Path,
    artifacts: &Artifacts,
    script: Option<&str>,
) -> String {
    let mut b = String::new();
    let _ = writeln!(
        b,
        "<p><a href=\"index.html\">← all scenarios</a></p><h1>{}</h1><p class=\"mono\">{}</p>",
        escape(&o.id),
        escape(&o.path.display().to_string())
    );
    if let Some(e) = &o.parse_error {
        let _ = writeln!(
            b,
            "<h2>Script error</h2><pre class=\"msg error\">{}</pre>",
            escape(e)
        );
    }
    // Lines to mark in the script.
    let mut bad_lines = Vec::new();
    let mut decl_lines = Vec::new();

    b.push_str("<h2>DUTs</h2>\n<table><tr><th>DUT</th><th>verdict</th><th>time</th><th>what went wrong</th><th>files</th></tr>\n");
    for (kind, d) in &o.duts {
        let v = verdict_name(d);
        let msg = match problem(d) {
            Some((line, m)) => {
                if let (Some(l), DutOutcome::Ran { .. }) = (line, d) {
                    bad_lines.push(l);
                }
                let link = line.map_or(String::new(), |l| {
                    format!("<a href=\"#L{l}\">line {l}</a>: ")
                });
                // The link says the line; the message need not repeat it.
                let m = line
                    .and_then(|l| m.strip_prefix(&format!("{l}: ")))
                    .unwrap_or(&m);
                format!("{link}<pre class=\"msg\">{}</pre>", escape(m))
            }
            None => String::new(),
        };
        let files = artifacts
            .get(&(o.id.clone(), *kind))
            .cloned()
            .unwrap_or_default();
        let mut links = rel_links(dir, &files.pcaps, "pcap");
        links.extend(rel_links(dir, &files.traces, "trace"));
        let secs = o.durations.get(kind).map_or(0.0, |t| t.as_secs_f64());
        let _ = writeln!(
            b,
            "<tr><td>{}</td><td class=\"{v}\">{}</td><td class=\"nw\">{secs:.2} s</td><td>{msg}</td><td class=\"nw\">{}</td></tr>",
            kind.name(),
            d.cell(),
            links.join(" ")
        );
    }
    b.push_str("</table>\n");
    if let Some(first) = &o.retried {
        let _ = writeln!(
            b,
            "<h2>Second run</h2><p>The first run failed on a real-time DUT only, so the scenario ran again; this page shows the second run. The first run:</p><pre class=\"msg\">{}</pre>",
            escape(first.trim_end())
        );
    }
    let notes = crate::suite::notes(o);
    if !notes.is_empty() {
        let _ = writeln!(
            b,
            "<h2>Notes</h2><p>Settings a DUT did not apply (backtick commands) and <code>print</code> output of <code>%{{ }}%</code> blocks:</p><pre class=\"msg\">{}</pre>",
            escape(notes.trim_end())
        );
    }

    // Marks per DUT column, by event index.
    let mut marks: BTreeMap<&str, BTreeMap<usize, Mark>> = BTreeMap::new();
    let mut dt = String::new();
    if !o.diffs.is_empty() {
        let (text, class) = comparison_cell(o);
        let _ = writeln!(
            dt,
            "<h2>Linux vs the stack: <span class=\"{class}\">&nbsp;{}&nbsp;</span></h2>",
            escape(&text)
        );
        dt.push_str("<table><tr><th>vs</th><th>event</th><th>line</th><th>field</th><th>linux</th><th>other DUT</th><th>declared?</th></tr>\n");
        for d in &o.diffs {
            if d.differences.is_empty() {
                let _ = writeln!(
                    dt,
                    "<tr><td>{}</td><td colspan=\"6\" class=\"agree\">no difference</td></tr>",
                    escape(&d.right)
                );
            }
            for x in &d.differences {
                let line = x.line.map_or("?".to_string(), |l| l.to_string());
                let note = format!(
                    "{} vs {}: event {} (line {line}) field `{}`",
                    d.left,
                    d.right,
                    x.index + 1,
                    x.field
                );
                let (mark, class, why) = match &x.declared {
                    Some(r) => {
                        if let Some(l) = x.line {
                            decl_lines.push(l);
                        }
                        (
                            Mark::Declared(x.field.clone(), format!("declared: {note}: {r}")),
                            "agreedecl",
                            format!("declared: {}", escape(r)),
                        )
                    }
                    None => {
                        if let Some(l) = x.line {
                            bad_lines.push(l);
                        }
                        (
                            Mark::Undeclared(x.field.clone(), format!("UNDECLARED: {note}")),
                            "differ",
                            "UNDECLARED".to_string(),
                        )
                    }
                };
                for side in [d.left.as_str(), d.right.as_str()] {
                    let m = marks.entry(side).or_default();
                    let merged = match m.remove(&x.index) {
                        Some(old) => old.merge(mark.clone()),
                        None => mark.clone(),
                    };
                    m.insert(x.index, merged);
                }
                let line_link = x
                    .line
                    .map_or("?".to_string(), |l| format!("<a href=\"#L{l}\">{l}</a>"));
                let _ = writeln!(
                    dt,
                    "<tr><td>{}</td><td>{}</td><td>{line_link}</td><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td><td class=\"{class}\">{why}</td></tr>",
                    escape(&d.right),
                    x.index + 1,
                    escape(&x.field),
                    escape(&x.left),
                    escape(&x.right)
                );
            }
        }
        dt.push_str("</table>\n");
    }

    // Ladders, one per DUT that ran, aligned by event index.
    let ran: Vec<(DutKind, &Vec<crate::normalize::NormEvent>)> = o
        .duts
        .iter()
        .filter_map(|(k, d)| match d {
            DutOutcome::Ran { norm, .. } => Some((*k, norm)),
            _ => None,
        })
        .collect();
    if !ran.is_empty() {
        b.push_str("<h2>Exchanges</h2>\n<p class=\"legend\"><span style=\"color:#1f5fbf\">→ testbench to DUT</span><span style=\"color:#1a7f37\">← DUT to testbench</span><span class=\"agreedecl\">declared divergence</span><span class=\"differ\">undeclared difference</span> times in seconds since the script's start; hover a row for the full normalized event; Lnn links to the script line.</p>\n<div class=\"ladders\">\n");
        let rows = ran.iter().map(|(_, n)| n.len()).max().unwrap_or(0);
        let empty = BTreeMap::new();
        for (k, norm) in &ran {
            let m = marks.get(k.name()).unwrap_or(&empty);
            let _ = writeln!(b, "<div>{}</div>", ladder::svg(k.name(), norm, rows, m));
        }
        b.push_str("</div>\n");
    }
    b.push_str(&dt);

    if let Some(text) = script {
        b.push_str("<h2>Script</h2>\n<div class=\"script\">\n");
        for (i, l) in text.lines().enumerate() {
            let n = i + 1;
            let class = if bad_lines.contains(&n) {
                " class=\"bad\""
            } else if decl_lines.contains(&n) {
                " class=\"decl\""
            } else {
                ""
            };
            let _ = writeln!(
                b,
                "<div id=\"L{n}\"{class}><span class=\"n\">{n}</span>{}</div>",
                escape(l)
            );
        }
        b.push_str("</div>\n");
    }
    page(&o.id, &b)
}

/// The `<meta name="generator">` of every page: how [`clear`] recognizes a
/// report directory.
pub const GENERATOR: &str = "oracle report";

/// The file [`clear`] leaves in a report directory, so that a run killed
/// before it wrote `index.html` still marks the directory as its own.
pub const MARKER: &str = ".oracle-report";

/// Empties `dir` for a new report if it holds an old one (a [`MARKER`] file,
/// or an `index.html` naming [`GENERATOR`]), so pages of scenarios that are
/// gone do not linger, and marks it; refuses a non-empty directory that is
/// not a report. A missing directory is created.
pub fn clear(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let empty = std::fs::read_dir(dir)?.next().is_none();
    let index = std::fs::read_to_string(dir.join("index.html")).unwrap_or_default();
    let ours = dir.join(MARKER).exists() || index.contains(&format!("content=\"{GENERATOR}\""));
    if !empty && !ours {
        return Err(std::io::Error::other(format!(
            "{} is not empty and holds no earlier report; not overwriting it",
            dir.display()
        )));
    }
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            std::fs::remove_dir_all(&p)?;
        } else {
            std::fs::remove_file(&p)?;
        }
    }
    std::fs::write(dir.join(MARKER), "written by `oracle run --report`\n")
}

/// Writes `index.html` and one page per scenario into `dir` (which exists;
/// the pcaps and traces are already under `dir/files`).
pub fn write(
    dir: &Path,
    outcomes: &[ScenarioOutcome],
    duts: &[DutKind],
    artifacts: &Artifacts,
) -> std::io::Result<()> {
    std::fs::write(dir.join("index.html"), index(outcomes, duts))?;
    for o in outcomes {
        let script = std::fs::read_to_string(&o.path).ok();
        std::fs::write(
            dir.join(page_name(&o.id)),
            scenario_page(o, dir, artifacts, script.as_deref()),
        )?;
    }
    Ok(())
}
