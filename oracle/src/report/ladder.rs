//! Ladder diagrams: one DUT's normalized trace as an inline SVG, the
//! testbench's lifeline on the left and the DUT's on the right, one row per
//! event, so that the columns of several DUTs line up event by event (the
//! diff compares them by index).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::normalize::NormEvent;

use super::junit::escape;

/// How a row is highlighted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    /// A difference `corpus/DIVERGENCES.md` declares: the fields that differ
    /// and the text of the tooltip.
    Declared(String, String),
    /// A difference nothing declares.
    Undeclared(String, String),
}

impl Mark {
    /// Merges two marks of one row: an undeclared difference wins, fields
    /// and texts add up.
    pub fn merge(self, other: Mark) -> Mark {
        let undeclared =
            matches!(self, Mark::Undeclared(..)) || matches!(other, Mark::Undeclared(..));
        let (Mark::Declared(fa, ta) | Mark::Undeclared(fa, ta)) = self;
        let (Mark::Declared(fb, tb) | Mark::Undeclared(fb, tb)) = other;
        let mut fields: Vec<&str> = fa.split(',').chain(fb.split(',')).collect();
        fields.dedup();
        fields.sort_unstable();
        fields.dedup();
        let (f, t) = (fields.join(","), format!("{ta}\n{tb}"));
        if undeclared {
            Mark::Undeclared(f, t)
        } else {
            Mark::Declared(f, t)
        }
    }
}

/// Width of one ladder.
pub const WIDTH: usize = 640;
const TOP: usize = 46;
const ROW: usize = 42;
const TB_X: usize = 86;
const DUT_X: usize = 606;

/// Cuts `s` to `n` characters with an ellipsis.
fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn field<'a>(e: &'a NormEvent, k: &str) -> Option<&'a str> {
    e.fields
        .iter()
        .find(|(kk, _)| *kk == k)
        .map(|(_, v)| v.as_str())
}

/// The two text lines of an event: the summary on the arrow (flags, seq:end(len),
/// ack, win; or the call and its result) and the detail under it (options,
/// frame length, and any non-default IP/Ethernet/port field).
pub fn labels(e: &NormEvent) -> (String, String) {
    let main = if let Some(t) = field(e, "_tcp") {
        t.to_string()
    } else if let Some(c) = field(e, "_call") {
        format!("{c} {}", field(e, "_result").unwrap_or(""))
    } else {
        format!(
            "{} {}",
            field(e, "_proto").unwrap_or(""),
            field(e, "_what").unwrap_or("")
        )
        .trim()
        .to_string()
    };
    let mut detail = Vec::new();
    if let Some(o) = field(e, "_opts") {
        detail.push(o.to_string());
    }
    for (k, v) in &e.fields {
        if !k.starts_with('_') && *k != "ip" && *k != "ports" && !v.is_empty() {
            detail.push(format!("{k} {v}"));
        }
    }
    if let Some(l) = field(e, "_framelen") {
        detail.push(l.to_string());
    }
    (main, detail.join("  "))
}

/// The SVG of one DUT's trace. `rows` is the number of rows to draw (the
/// longest trace of the page, so columns align); `marks` highlights rows by
/// event index; a row past the end of this trace says so.
pub fn svg(dut: &str, norm: &[NormEvent], rows: usize, marks: &BTreeMap<usize, Mark>) -> String {
    let rows = rows.max(norm.len());
    let h = TOP + rows * ROW + 12;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg class="ladder" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{h}" viewBox="0 0 {WIDTH} {h}" font-family="ui-monospace, Menlo, Consolas, monospace" font-size="11">"#
    );
    let _ = writeln!(
        s,
        r##"<defs><marker id="ah-{dut}-in" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#1f5fbf"/></marker><marker id="ah-{dut}-out" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#1a7f37"/></marker></defs>"##
    );
    // Highlights first, under everything else.
    for (i, m) in marks {
        if *i >= rows {
            continue;
        }
        let y = TOP + i * ROW;
        let (class, fields, text) = match m {
            Mark::Declared(f, t) => ("declared", f, t),
            Mark::Undeclared(f, t) => ("undeclared", f, t),
        };
        let _ = writeln!(
            s,
            r#"<rect class="{class}" x="1" y="{y}" width="{}" height="{ROW}" rx="3"><title>{}</title></rect>"#,
            WIDTH - 2,
            escape(text)
        );
        // Which fields differ, under the line number.
        let _ = writeln!(
            s,
            r#"<text class="{class}t" x="4" y="{}" font-size="9" font-weight="bold">≠ {}</text>"#,
            y + ROW - 2,
            escape(&clip(fields, 12))
        );
    }
    // Lifelines.
    let _ = writeln!(
        s,
        r##"<text x="{TB_X}" y="16" text-anchor="middle" font-weight="bold" font-size="12">testbench</text><text x="{DUT_X}" y="16" text-anchor="middle" font-weight="bold" font-size="12">{}</text><text x="4" y="16" fill="#666">t (s)</text>"##,
        escape(dut)
    );
    for x in [TB_X, DUT_X] {
        let _ = writeln!(
            s,
            r##"<line x1="{x}" y1="24" x2="{x}" y2="{}" stroke="#888" stroke-width="2"/>"##,
            h - 6
        );
    }
    for i in 0..rows {
        let y = TOP + i * ROW;
        let mid = y + ROW / 2 + 3;
        let Some(e) = norm.get(i) else {
            let _ = writeln!(
                s,
                r##"<text x="{}" y="{mid}" text-anchor="middle" fill="#999" font-style="italic">(no event {})</text>"##,
                (TB_X + DUT_X) / 2,
                i + 1
            );
            continue;
        };
        let (main, detail) = labels(e);
        let line = e.line.map_or("L?".to_string(), |l| format!("L{l}"));
        let _ = writeln!(
            s,
            r##"<text x="4" y="{}" fill="#444">{:.3}</text>"##,
            mid - 8,
            e.at as f64 / 1e6
        );
        let link = |inner: String| match e.line {
            Some(l) => format!(r##"<a href="#L{l}">{inner}</a>"##),
            None => inner,
        };
        let _ = writeln!(s, r##"<g><title>{}</title>"##, escape(&e.render(true)));
        let _ = writeln!(
            s,
            "{}",
            link(format!(
                r##"<text x="4" y="{}" fill="#0645ad">{line}</text>"##,
                mid + 5
            ))
        );
        match e.dir {
            '<' | '>' => {
                let (x1, x2, class) = if e.dir == '<' {
                    (TB_X, DUT_X, "in")
                } else {
                    (DUT_X, TB_X, "out")
                };
                let _ = writeln!(
                    s,
                    r##"<line class="{class}" x1="{x1}" y1="{}" x2="{x2}" y2="{}" stroke-width="1.6" marker-end="url(#ah-{dut}-{class})"/>"##,
                    y + 15,
                    y + 23
                );
                let cx = (TB_X + DUT_X) / 2;
                let _ = writeln!(
                    s,
                    r##"<text class="{class}t" x="{cx}" y="{}" text-anchor="middle">{}</text>"##,
                    y + 12,
                    escape(&clip(&main, 78))
                );
                if !detail.is_empty() {
                    let _ = writeln!(
                        s,
                        r##"<text x="{cx}" y="{}" text-anchor="middle" fill="#555" font-size="9.5">{}</text>"##,
                        y + 35,
                        escape(&clip(&detail, 92))
                    );
                }
            }
            _ => {
                // A socket call: a box on the DUT's lifeline.
                let text = clip(&main, 70);
                let w = (text.chars().count() * 7 + 14).min(DUT_X - TB_X - 20);
                let _ = writeln!(
                    s,
                    r##"<rect x="{}" y="{}" width="{w}" height="22" rx="4" fill="#f1f1f8" stroke="#7a7aa8"/><text x="{}" y="{}" text-anchor="end" fill="#224">{}</text>"##,
                    DUT_X - w + 6,
                    y + 9,
                    DUT_X - 2,
                    y + 24,
                    escape(&text)
                );
            }
        }
        s.push_str("</g>\n");
    }
    s.push_str("</svg>\n");
    s
}
