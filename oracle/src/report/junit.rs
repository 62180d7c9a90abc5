//! `--junit FILE`: JUnit XML for CI systems. One `<testsuite>` per scenario;
//! in it one `<testcase>` per DUT (`name` = the DUT) and one named
//! `vs linux` for the cross-DUT comparison. A failed or unsupported DUT run is
//! a `<failure>`, a DUT that could not be set up an `<error>`, a skipped one
//! `<skipped/>`; the comparison is skipped when Linux and a stack DUT did not
//! both run. A script that does not parse is one `script` testcase with an
//! `<error>`.

use std::fmt::Write as _;

use crate::suite::{DutOutcome, ScenarioOutcome};

use super::{problem, verdict_name};

/// Text safe inside an XML (or HTML) element or a double-quoted attribute:
/// markup characters escaped, the characters XML 1.0 cannot carry at all
/// replaced by U+FFFD. Line breaks stay as they are (use [`escape_attr`] for
/// an XML attribute, where a parser would turn them into spaces).
pub fn escape(s: &str) -> String {
    escape_impl(s, false)
}

/// As [`escape`], and line breaks and tabs as character references, which
/// an XML attribute keeps.
pub fn escape_attr(s: &str) -> String {
    escape_impl(s, true)
}

fn escape_impl(s: &str, attr: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' if attr => out.push_str("&#10;"),
            '\r' if attr => out.push_str("&#13;"),
            '\t' if attr => out.push_str("&#9;"),
            '\n' | '\r' | '\t' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// The first line of a message (for the `message` attribute).
fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

enum Case {
    Pass,
    Failure { kind: &'static str, text: String },
    Error(String),
    Skipped(String),
}

struct TestCase {
    name: String,
    secs: f64,
    case: Case,
    out: Option<String>,
}

fn cases(o: &ScenarioOutcome) -> Vec<TestCase> {
    let mut v = Vec::new();
    if let Some(e) = &o.parse_error {
        v.push(TestCase {
            name: "script".into(),
            secs: 0.0,
            case: Case::Error(e.clone()),
            out: None,
        });
        return v;
    }
    for (kind, d) in &o.duts {
        let secs = o.durations.get(kind).map_or(0.0, |t| t.as_secs_f64());
        let case = match (d, problem(d)) {
            (_, None) => Case::Pass,
            (DutOutcome::Skipped(why), _) => Case::Skipped(why.clone()),
            (DutOutcome::SetupError(e), _) => Case::Error(e.clone()),
            (DutOutcome::Ran { .. }, Some((_, msg))) => Case::Failure {
                kind: verdict_name(d),
                text: format!("{}:{msg}", o.path.display()),
            },
        };
        v.push(TestCase {
            name: kind.name().to_string(),
            secs,
            case,
            out: None,
        });
    }
    let declared: Vec<String> = o
        .diffs
        .iter()
        .flat_map(|d| {
            d.differences.iter().filter_map(move |x| {
                x.declared.as_ref().map(|r| {
                    format!(
                        "declared: {} vs {} event {} line {} field {}: {r}",
                        d.left,
                        d.right,
                        x.index + 1,
                        x.line.map_or("?".into(), |l| l.to_string()),
                        x.field
                    )
                })
            })
        })
        .collect();
    let case = if o.diffs.is_empty() {
        Case::Skipped("Linux and a stack DUT did not both run".into())
    } else if o.diffs.iter().all(|d| d.is_clean()) {
        Case::Pass
    } else {
        let text: Vec<String> = o
            .diffs
            .iter()
            .filter(|d| !d.is_clean())
            .map(|d| d.to_string())
            .collect();
        Case::Failure {
            kind: "differ",
            text: text.join("\n"),
        }
    };
    v.push(TestCase {
        name: "vs linux".into(),
        secs: 0.0,
        case,
        out: (!declared.is_empty()).then(|| declared.join("\n")),
    });
    v
}

/// The JUnit XML document.
pub fn render(outcomes: &[ScenarioOutcome]) -> String {
    let suites: Vec<(&ScenarioOutcome, Vec<TestCase>)> =
        outcomes.iter().map(|o| (o, cases(o))).collect();
    let count = |cs: &[TestCase], f: fn(&Case) -> bool| cs.iter().filter(|c| f(&c.case)).count();
    let is_fail = |c: &Case| matches!(c, Case::Failure { .. });
    let is_err = |c: &Case| matches!(c, Case::Error(_));
    let is_skip = |c: &Case| matches!(c, Case::Skipped(_));
    let all: Vec<&TestCase> = suites.iter().flat_map(|(_, c)| c).collect();
    let total_time: f64 = outcomes
        .iter()
        .map(|o| {
            o.durations
                .values()
                .map(|t| t.as_secs_f64())
                .fold(0.0, f64::max)
        })
        .sum();
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuites name=\"oracle\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{total_time:.3}\">",
        all.len(),
        all.iter().filter(|c| is_fail(&c.case)).count(),
        all.iter().filter(|c| is_err(&c.case)).count(),
        all.iter().filter(|c| is_skip(&c.case)).count(),
    );
    for (o, cs) in &suites {
        let time = cs.iter().map(|c| c.secs).fold(0.0, f64::max);
        let _ = writeln!(
            s,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{time:.3}\" file=\"{}\">",
            escape_attr(&o.id),
            cs.len(),
            count(cs, is_fail),
            count(cs, is_err),
            count(cs, is_skip),
            escape_attr(&o.path.display().to_string()),
        );
        for c in cs {
            let _ = write!(
                s,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                escape_attr(&o.id),
                escape_attr(&c.name),
                c.secs
            );
            let body = match &c.case {
                Case::Pass => String::new(),
                Case::Failure { kind, text } => format!(
                    "      <failure type=\"{kind}\" message=\"{}\">{}</failure>\n",
                    escape_attr(first_line(text)),
                    escape(text)
                ),
                Case::Error(text) => format!(
                    "      <error message=\"{}\">{}</error>\n",
                    escape_attr(first_line(text)),
                    escape(text)
                ),
                Case::Skipped(why) => {
                    format!("      <skipped message=\"{}\"/>\n", escape_attr(why))
                }
            };
            let out = c
                .out
                .as_ref()
                .map(|t| format!("      <system-out>{}</system-out>\n", escape(t)))
                .unwrap_or_default();
            if body.is_empty() && out.is_empty() {
                s.push_str("/>\n");
            } else {
                let _ = write!(s, ">\n{body}{out}    </testcase>\n");
            }
        }
        s.push_str("  </testsuite>\n");
    }
    s.push_str("</testsuites>\n");
    s
}
